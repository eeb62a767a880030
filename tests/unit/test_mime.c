/* Unit tests of mime: structure walk, part ids, exact signed-byte slicing, caps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "smime/crypto/content.h"
#include "smime/mail/mime.h"
#include "smime/verdict/verify.h"
#include "testutil.h"

#define MAX_SEEN 64

typedef struct seen_item {
    smime_mime_kind kind;
    char part[SMIME_PART_ID_MAX];
    char *signed_bytes;     /* copy */
    size_t signed_len;
    int signed_lf_as_crlf;
    size_t der_len;
    unsigned char der0;
    char from0[SMIME_ADDR_MAX];
    char sender[SMIME_ADDR_MAX];
    char client[SMIME_CLIENT_MAX];
    size_t n_from;
    unsigned from_headers, sender_headers, sender_mailboxes;
    const char *control_header;
    unsigned char control_byte;
    char note[160];
} seen_item;

typedef struct seen {
    size_t n;
    seen_item items[MAX_SEEN];
} seen;

static int collect(smime_mime_walk *w, const smime_mime_item *item, void *ctx)
{
    (void)w;
    seen *s = ctx;
    if (s->n >= MAX_SEEN)
        return 1;
    seen_item *it = &s->items[s->n++];
    memset(it, 0, sizeof(*it));
    it->kind = item->kind;
    snprintf(it->part, sizeof(it->part), "%s", item->part);
    if (item->signed_bytes) {
        it->signed_bytes = malloc(item->signed_len + 1);
        memcpy(it->signed_bytes, item->signed_bytes, item->signed_len);
        it->signed_bytes[item->signed_len] = '\0';
        it->signed_len = item->signed_len;
        it->signed_lf_as_crlf = item->signed_lf_as_crlf;
    }
    it->der_len = item->der_len;
    it->der0 = item->der_len ? item->der[0] : 0;
    if (item->addrs->n_from)
        snprintf(it->from0, sizeof(it->from0), "%s", item->addrs->from[0]);
    snprintf(it->sender, sizeof(it->sender), "%s", item->addrs->sender);
    snprintf(it->client, sizeof(it->client), "%s", item->addrs->client);
    it->n_from = item->addrs->n_from;
    it->from_headers = item->addrs->from_headers;
    it->sender_headers = item->addrs->sender_headers;
    it->sender_mailboxes = item->addrs->sender_mailboxes;
    it->control_header = item->addrs->control_header;
    it->control_byte = item->addrs->control_byte;
    if (item->note)
        snprintf(it->note, sizeof(it->note), "%s", item->note);
    return 0;
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].signed_bytes);
}

static const smime_mime_limits default_limits = { 32, 2000, 32, 0 };

/* The walk of text as it is (bare LFs and all, as verify walks a message) must
 * see what the walk of its CRLF form sees: the same objects, parts, notes and
 * authors, and slices whose CRLF form (a bare LF read as CRLF when the item says
 * so) is the CRLF walk's slice byte for byte. */
static void same_walk(const seen *raw, const seen *crlf, int has_bare_lf)
{
    assert_int_equal(raw->n, crlf->n);
    for (size_t i = 0; i < raw->n; i++) {
        const seen_item *a = &raw->items[i], *b = &crlf->items[i];
        assert_int_equal(a->kind, b->kind);
        assert_string_equal(a->part, b->part);
        assert_string_equal(a->note, b->note);
        assert_string_equal(a->from0, b->from0);
        assert_string_equal(a->sender, b->sender);
        assert_true(a->control_header == b->control_header ||
                    (a->control_header && b->control_header &&
                     !strcmp(a->control_header, b->control_header)));
        assert_int_equal(a->control_byte, b->control_byte);
        assert_int_equal(a->der_len, b->der_len);
        assert_int_equal(a->der0, b->der0);
        assert_int_equal(b->signed_lf_as_crlf, 0);
        assert_int_equal(!a->signed_bytes, !b->signed_bytes);
        if (!a->signed_bytes)
            continue;
        if (!has_bare_lf)
            assert_int_equal(a->signed_lf_as_crlf, 0);
        smime_content_view v = { a->signed_bytes, a->signed_len, a->signed_lf_as_crlf };
        size_t n;
        unsigned char *canon = smime_content_canonical_copy(&v, &n);
        assert_non_null(canon);
        assert_int_equal(n, b->signed_len);
        assert_memory_equal(canon, b->signed_bytes, n);
        free(canon);
    }
}

static void seen_free(seen *s);

static void walk_bytes(const char *text, size_t len, const smime_mime_limits *lim, seen *out)
{
    size_t n = 0;
    char *crlf = smime_mime_to_crlf(text, len, len * 2 + 2, &n);
    assert_non_null(crlf);
    memset(out, 0, sizeof(*out));
    assert_int_equal(smime_mime_walk_message(crlf, n, lim, collect, out), 0);
    g_free(crlf);
    seen *raw = calloc(1, sizeof(*raw));
    assert_non_null(raw);
    assert_int_equal(smime_mime_walk_message(text, len, lim, collect, raw), 0);
    same_walk(raw, out, n != len);
    seen_free(raw);
    free(raw);
}

static void walk_text(const char *text, const smime_mime_limits *lim, seen *out)
{
    walk_bytes(text, strlen(text), lim, out);
}

/* A small valid-looking DER blob (SEQUENCE { OID signedData }) as base64. */
#define FAKE_SIGNED_DATA_B64 "MAsGCSqGSIb3DQEHAg=="
#define FAKE_ENVELOPED_B64   "MAsGCSqGSIb3DQEHAw=="

static const char SIGNED_ROOT[] =
    "From: Alice <alice@example.test>\n"
    "Sender: list@example.test\n"
    "To: bob@example.test\n"
    "Subject: t\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\n"
    " boundary=\"BB\"\n"
    "\n"
    "preamble\n"
    "--BB\n"
    "Content-Type: text/plain\n"
    "\n"
    "hello\n"
    "\n"
    "--BB \t\n"
    "Content-Type: application/x-pkcs7-signature\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    FAKE_SIGNED_DATA_B64 "\n"
    "--BB--\n"
    "epilogue\n";

static void test_crlf_conversion(void **state)
{
    (void)state;
    size_t n = 0;
    char *out = smime_mime_to_crlf("a\nb\r\nc\rd\n", 9, 100, &n);
    assert_non_null(out);
    assert_int_equal(n, 11);
    assert_memory_equal(out, "a\r\nb\r\nc\rd\r\n", 11);   /* lone CR kept */
    assert_int_equal(smime_mime_crlf_length("a\nb\r\nc\rd\n", 9), 11);
    assert_int_equal(smime_mime_crlf_length("\n\n", 2), 4);
    assert_int_equal(smime_mime_crlf_length("a\r\n", 3), 3);
    g_free(out);
    /* The cap counts the converted length. */
    assert_null(smime_mime_to_crlf("a\nb\n", 4, 5, &n));
    out = smime_mime_to_crlf("a\nb\n", 4, 6, &n);
    assert_non_null(out);
    g_free(out);
    /* With the length known: the same bytes; a length that is not the CRLF
     * form's is refused, never overrun or short. */
    out = smime_mime_to_crlf_sized("a\nb\r\nc\rd\n", 9, 11);
    assert_non_null(out);
    assert_memory_equal(out, "a\r\nb\r\nc\rd\r\n", 12);
    g_free(out);
    assert_null(smime_mime_to_crlf_sized("a\nb\n", 4, 5));
    assert_null(smime_mime_to_crlf_sized("a\nb\n", 4, 7));
    assert_null(smime_mime_to_crlf_sized("ab", 2, 1));
    out = smime_mime_to_crlf_sized(NULL, 0, 0);
    assert_non_null(out);
    assert_int_equal(out[0], 0);
    g_free(out);
}

static void test_signed_root_slice(void **state)
{
    (void)state;
    seen s;
    walk_text(SIGNED_ROOT, &default_limits, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_DETACHED);
    assert_string_equal(s.items[0].part, "1");
    /* From after the first delimiter line to before the CRLF of the next one,
     * delimiter with trailing white space included. */
    assert_string_equal(s.items[0].signed_bytes, "Content-Type: text/plain\r\n\r\nhello\r\n");
    assert_int_equal(s.items[0].der0, 0x30);
    assert_string_equal(s.items[0].from0, "alice@example.test");
    assert_string_equal(s.items[0].sender, "list@example.test");
    seen_free(&s);
}

static void test_nested_mixed_and_forwarded(void **state)
{
    (void)state;
    const char *msg =
        "From: carol@example.test\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=outer\n"
        "\n"
        "--outer\n"
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=in1\n"
        "\n"
        "--in1\n"
        "Content-Type: text/plain\n"
        "\n"
        "first\n"
        "--in1\n"
        "Content-Type: application/pkcs7-signature\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        FAKE_SIGNED_DATA_B64 "\n"
        "--in1--\n"
        "\n"
        "--outer\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: dave@example.test\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=in2\n"
        "\n"
        "--in2\n"
        "Content-Type: text/plain\n"
        "\n"
        "second\n"
        "--in2\n"
        "Content-Type: application/pkcs7-signature\n"
        "\n"
        FAKE_SIGNED_DATA_B64 "\n"
        "--in2--\n"
        "\n"
        "--outer\n"
        "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        FAKE_ENVELOPED_B64 "\n"
        "--outer--\n";
    seen s;
    walk_text(msg, &default_limits, &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.items[0].kind, SMIME_MIME_DETACHED);
    assert_string_equal(s.items[0].part, "1.1");
    assert_string_equal(s.items[0].signed_bytes, "Content-Type: text/plain\r\n\r\nfirst");
    assert_string_equal(s.items[0].from0, "carol@example.test");
    assert_int_equal(s.items[1].kind, SMIME_MIME_DETACHED);
    assert_string_equal(s.items[1].part, "2.1");
    assert_string_equal(s.items[1].signed_bytes, "Content-Type: text/plain\r\n\r\nsecond");
    /* A forwarded message binds to its own From. */
    assert_string_equal(s.items[1].from0, "dave@example.test");
    assert_int_equal(s.items[2].kind, SMIME_MIME_ENVELOPED);
    assert_string_equal(s.items[2].part, "3");
    seen_free(&s);
}

static void test_opaque_without_smime_type_is_sniffed(void **state)
{
    (void)state;
    const char *msg =
        "From: a@example.test\n"
        "Content-Type: application/x-pkcs7-mime; name=smime.p7m\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        FAKE_ENVELOPED_B64 "\n";
    seen s;
    walk_text(msg, &default_limits, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_ENVELOPED);
    assert_string_equal(s.items[0].part, "1");
    seen_free(&s);
}

static void test_not_smime_ignored(void **state)
{
    (void)state;
    const char *msg =
        "From: a@example.test\n"
        "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\n"
        "\n"
        "--b\n"
        "Content-Type: text/plain\n"
        "\n"
        "x\n"
        "--b\n"
        "Content-Type: application/pgp-signature\n"
        "\n"
        "-----BEGIN PGP SIGNATURE-----\n"
        "--b--\n";
    seen s;
    walk_text(msg, &default_limits, &s);
    assert_int_equal(s.n, 0);
    seen_free(&s);
}

static void test_signed_with_three_parts_is_malformed(void **state)
{
    (void)state;
    const char *msg =
        "From: a@example.test\n"
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\n"
        "\n"
        "--b\n\nx\n--b\n\ny\n--b\nContent-Type: application/pkcs7-signature\n\nAAAA\n--b--\n";
    seen s;
    walk_text(msg, &default_limits, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_MALFORMED);
    seen_free(&s);
}

/* Builds a message with `depth` nested multipart/mixed levels around a
 * multipart/signed. */
static char *deep_message(unsigned depth)
{
    size_t cap = 256 + (size_t)depth * 128 + sizeof(SIGNED_ROOT);
    char *m = malloc(cap);
    size_t o = (size_t)snprintf(m, cap, "From: a@example.test\nMIME-Version: 1.0\n");
    for (unsigned i = 0; i < depth; i++)
        o += (size_t)snprintf(m + o, cap - o,
                              "Content-Type: multipart/mixed; boundary=\"L%u\"\n\n--L%u\n", i, i);
    o += (size_t)snprintf(m + o, cap - o,
                          "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";"
                          " boundary=S\n\n--S\n\nbody\n--S\nContent-Type: application/pkcs7-signature"
                          "\n\n" FAKE_SIGNED_DATA_B64 "\n--S--\n");
    for (unsigned i = depth; i-- > 0;)
        o += (size_t)snprintf(m + o, cap - o, "--L%u--\n", i);
    return m;
}

static void test_depth_cap(void **state)
{
    (void)state;
    smime_mime_limits lim = { 8, 2000, 32, 0 };
    char *shallow = deep_message(5);
    seen s;
    walk_text(shallow, &lim, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_DETACHED);
    assert_string_equal(s.items[0].part, "1.1.1.1.1.1");
    seen_free(&s);
    free(shallow);

    char *deep = deep_message(40);
    walk_text(deep, &lim, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_LIMIT);
    assert_non_null(strstr(s.items[0].note, "nesting"));
    seen_free(&s);
    free(deep);
}

static void test_item_cap(void **state)
{
    (void)state;
    smime_mime_limits lim = { 32, 2000, 3, 0 };
    char msg[8192];
    size_t o = (size_t)snprintf(msg, sizeof(msg),
                                "From: a@example.test\nContent-Type: multipart/mixed; boundary=m\n\n");
    for (int i = 0; i < 6; i++)
        o += (size_t)snprintf(msg + o, sizeof(msg) - o,
                              "--m\nContent-Type: application/pkcs7-mime\n"
                              "Content-Transfer-Encoding: base64\n\n" FAKE_ENVELOPED_B64 "\n");
    snprintf(msg + o, sizeof(msg) - o, "--m--\n");
    seen s;
    walk_text(msg, &lim, &s);
    assert_int_equal(s.n, 4);           /* three objects and one limit note */
    assert_int_equal(s.items[3].kind, SMIME_MIME_LIMIT);
    seen_free(&s);
}

static void test_base64_forwarded_message(void **state)
{
    (void)state;
    /* message/rfc822 must not be transfer-encoded, but mail in the wild is; the
     * decoded message is walked. */
    const char *inner =
        "From: e@example.test\r\n"
        "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" FAKE_ENVELOPED_B64 "\r\n";
    gchar *b64 = g_base64_encode((const guchar *)inner, strlen(inner));
    char msg[4096];
    snprintf(msg, sizeof(msg),
             "From: a@example.test\nContent-Type: multipart/mixed; boundary=m\n\n"
             "--m\n\ntext\n--m\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
             "%s\n--m--\n", b64);
    g_free(b64);
    seen s;
    walk_text(msg, &default_limits, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_ENVELOPED);
    assert_string_equal(s.items[0].part, "2.1");
    seen_free(&s);
}

static void test_lf_and_crlf_slices_agree(void **state)
{
    (void)state;
    size_t n1, n2;
    char *crlf_file = test_read_file(SAMPLE_DIR "01-multipart-signed-rsa2048.eml", &n1);
    char *lf_file = test_read_file(SAMPLE_DIR "18-lf-line-endings.eml", &n2);
    seen a, b;
    size_t c1, c2;
    char *x = smime_mime_to_crlf(crlf_file, n1, n1 * 2, &c1);
    char *y = smime_mime_to_crlf(lf_file, n2, n2 * 2, &c2);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    assert_int_equal(smime_mime_walk_message(x, c1, &default_limits, collect, &a), 0);
    assert_int_equal(smime_mime_walk_message(y, c2, &default_limits, collect, &b), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_true(a.items[0].signed_len > 0);
    /* Every line end of the slice is CRLF. */
    for (size_t i = 0; i < b.items[0].signed_len; i++)
        if (b.items[0].signed_bytes[i] == '\n')
            assert_true(i > 0 && b.items[0].signed_bytes[i - 1] == '\r');
    seen_free(&a);
    seen_free(&b);
    g_free(x);
    g_free(y);
    free(crlf_file);
    free(lf_file);
}

/* Line ends mixed as OpenSSL writes them (its headers LF, a -binary body CRLF),
 * and a header section ended by LF CR LF: the raw walk (checked against the CRLF
 * walk by walk_bytes) slices the same entity, and says when its bytes hold bare
 * LFs. */
static void test_mixed_line_ends_walked_raw(void **state)
{
    (void)state;
    static const char msg[] =
        "From: alice@example.test\r\n"
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\n"
        "\n--b\n"
        "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n"
        "\n--b\nContent-Type: application/pkcs7-signature\n"
        "Content-Transfer-Encoding: base64\n\r\n" FAKE_SIGNED_DATA_B64 "\n--b--\n";
    seen s, raw;
    walk_bytes(msg, sizeof(msg) - 1, &default_limits, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.items[0].signed_bytes,
                        "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n");
    memset(&raw, 0, sizeof(raw));
    assert_int_equal(smime_mime_walk_message(msg, sizeof(msg) - 1, &default_limits, collect, &raw), 0);
    assert_int_equal(raw.n, 1);
    assert_int_equal(raw.items[0].kind, SMIME_MIME_DETACHED);
    assert_int_equal(raw.items[0].der_len, 13);
    /* the raw slice ends before the bare LF that precedes the delimiter */
    assert_string_equal(raw.items[0].signed_bytes,
                        "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n");
    assert_int_equal(raw.items[0].signed_lf_as_crlf, 1);
    seen_free(&raw);
    seen_free(&s);
    /* all bare LF: the slice is the raw bytes, read as CRLF */
    static const char lf[] =
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\n"
        "\n--b\n\nx\n\n--b\nContent-Type: application/pkcs7-signature\n"
        "Content-Transfer-Encoding: base64\n\n" FAKE_SIGNED_DATA_B64 "\n--b--\n";
    memset(&raw, 0, sizeof(raw));
    assert_int_equal(smime_mime_walk_message(lf, sizeof(lf) - 1, &default_limits, collect, &raw), 0);
    assert_int_equal(raw.n, 1);
    assert_string_equal(raw.items[0].signed_bytes, "\nx\n");
    assert_int_equal(raw.items[0].signed_lf_as_crlf, 1);
    seen_free(&raw);
    walk_bytes(lf, sizeof(lf) - 1, &default_limits, &s);
    assert_string_equal(s.items[0].signed_bytes, "\r\nx\r\n");
    seen_free(&s);
}

/* The count made before GMime parses: an upper bound on the entities, from the
 * boundaries a message declares, in every spelling of the parameter. */
static void test_count_parts_before_parsing(void **state)
{
    (void)state;
    const char *plain =
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
        "--b1\r\nContent-Type: text/plain\r\n\r\nx\r\n--b1\r\n\r\ny\r\n--b1--\r\n";
    assert_int_equal(smime_mime_count_parts(plain, strlen(plain), 100), 3);
    /* stop_at: counting ends there */
    assert_int_equal(smime_mime_count_parts(plain, strlen(plain), 2), 2);
    /* no boundary declared: GMime builds no children, whatever the lines say */
    const char *none = "Content-Type: text/plain\r\n\r\n--b1\r\n--b1\r\n-- \r\n";
    assert_int_equal(smime_mime_count_parts(none, strlen(none), 100), 0);
    /* a token value, upper case, spaces around '=' */
    const char *token = "Content-Type: multipart/mixed; BOUNDARY = zz\r\n\r\n--zz\r\n\r\n--zz--\r\n";
    assert_int_equal(smime_mime_count_parts(token, strlen(token), 100), 2);
    /* RFC 2231 pieces: the first piece is a prefix of the boundary */
    const char *pieces = "Content-Type: multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"\r\n\r\n"
                         "--abcd\r\n\r\n--abcd\r\n\r\n--abcd--\r\n";
    assert_int_equal(smime_mime_count_parts(pieces, strlen(pieces), 100), 3);
    /* RFC 2231 extended value with charset'' and %XX */
    const char *ext = "Content-Type: multipart/mixed; boundary*=us-ascii''%41B\r\n\r\n"
                      "--AB\r\n\r\n--AB--\r\n";
    assert_int_equal(smime_mime_count_parts(ext, strlen(ext), 100), 2);
    /* a boundary on a folded continuation line */
    const char *folded = "Content-Type: multipart/mixed;\r\n\tboundary=\"f\"\r\n\r\n--f\r\n\r\n--f--\r\n";
    assert_int_equal(smime_mime_count_parts(folded, strlen(folded), 100), 2);
    /* nested: lines of both boundaries count */
    const char *nested =
        "Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\n"
        "Content-Type: multipart/alternative; boundary=\"i\"\r\n\r\n--i\r\n\r\na\r\n--i\r\n\r\nb\r\n--i--\r\n"
        "--o--\r\n";
    assert_int_equal(smime_mime_count_parts(nested, strlen(nested), 100), 5);
    assert_int_equal(smime_mime_count_parts("", 0, 100), 0);
    /* a "--" line and a declaration on one line: both are read */
    const char *same_line = "--q; boundary=q\r\n--q\r\n";
    assert_int_equal(smime_mime_count_parts(same_line, strlen(same_line), 100), 2);
}

/* The count is one pass over the text: lines that start a boundary declared only
 * further on count too, whether few (kept and looked at again) or more than are
 * kept (a second pass), and the same with more lines that start none. */
static void test_count_parts_lines_before_declaration(void **state)
{
    (void)state;
    for (int early = 0; early <= 200; early += 10) {
        for (int others = 0; others <= 100; others += 50) {
            GString *m = g_string_new("");
            for (int i = 0; i < others; i++)
                g_string_append(m, "-- not a delimiter\r\n");
            for (int i = 0; i < early; i++)
                g_string_append(m, "--late\r\nfoo=bar\r\n");
            g_string_append(m, "Content-Type: multipart/mixed; boundary=late\r\n\r\n--late\r\n\r\n--late--\r\n");
            assert_int_equal(smime_mime_count_parts(m->str, m->len, 1000), (unsigned)early + 2);
            assert_int_equal(smime_mime_count_parts(m->str, m->len, 15), early + 2 < 15 ? (unsigned)early + 2 : 15);
            g_string_free(m, TRUE);
        }
    }
}

/* The declared boundaries are kept in a set that starts small and grows: every
 * boundary declared before and after each growth still counts its lines, with
 * boundaries that share their first bytes (one hash key) among them; past the
 * largest set (511 boundaries, the outer one among them) the count is over any limit. */
static void test_count_parts_many_boundaries(void **state)
{
    (void)state;
    const int sizes[] = { 1, 30, 31, 32, 63, 64, 200, 509, 510, 511, 600 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        int n = sizes[k];
        GString *m = g_string_new("Content-Type: multipart/mixed; boundary=outer\r\n\r\n");
        for (int i = 0; i < n; i++)
            g_string_append_printf(m, "--outer\r\nContent-Type: multipart/mixed; "
                                      "boundary=\"%s%d\"\r\n\r\n", i % 2 ? "same" : "b", i);
        for (int i = 0; i < n; i++)
            g_string_append_printf(m, "--%s%d\r\n\r\n--%s%d--\r\n", i % 2 ? "same" : "b", i,
                                   i % 2 ? "same" : "b", i);
        g_string_append(m, "--outer--\r\n");
        unsigned want = n + 1 <= 511 ? (unsigned)(3 * n + 1) : 100000;
        assert_int_equal(smime_mime_count_parts(m->str, m->len, 100000), want);
        g_string_free(m, TRUE);
    }
}

/* A message whose declared parts exceed the cap is reported before GMime parses
 * it, with the same words as a cap reached while walking. */
static void test_part_cap_holds_before_parsing(void **state)
{
    (void)state;
    char *msg = malloc(1 << 20);
    assert_non_null(msg);
    int n = snprintf(msg, 1 << 20, "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n");
    for (int i = 0; i < 3000; i++)
        n += snprintf(msg + n, (size_t)(1 << 20) - (size_t)n, "--x\r\n\r\n");
    n += snprintf(msg + n, (size_t)(1 << 20) - (size_t)n, "--x--\r\n");
    smime_mime_limits lim = { 32, 2000, 32, 0 };
    seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(smime_mime_walk_message(msg, (size_t)n, &lim, collect, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_LIMIT);
    assert_non_null(strstr(s.items[0].note, "more MIME parts than the limit"));
    free(msg);
}

/* Transfer decoding is charged before it is done: a forwarded message encoded in
 * base64 larger than the budget is not decoded. */
static void test_decode_budget(void **state)
{
    (void)state;
    static const char fwd[] =
        "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        "--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "RnJvbTogYkBleGFtcGxlLmNvbQ0KDQpoZWxsbw0K\r\n--b--\r\n";
    smime_mime_limits tight = { 32, 2000, 32, 16 };
    seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(smime_mime_walk_message(fwd, sizeof(fwd) - 1, &tight, collect, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.items[0].kind, SMIME_MIME_LIMIT);
    assert_non_null(strstr(s.items[0].note, "decoded content beyond the limit"));
    smime_mime_limits room = { 32, 2000, 32, 4096 };
    memset(&s, 0, sizeof(s));
    assert_int_equal(smime_mime_walk_message(fwd, sizeof(fwd) - 1, &room, collect, &s), 0);
    assert_int_equal(s.n, 0);                      /* decoded and walked: nothing signed */
}

/* A message whose author header is `header` (sizeof - 1 bytes: may hold a NUL),
 * signed-looking; returns what the walk saw of the author. */
static void walk_author(const char *header, size_t hlen, seen *s)
{
    static const char rest[] =
        "To: bob@example.test\n"
        "Subject: x\001y\n"                 /* a control byte outside From/Sender: no matter */
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\n"
        "\n--b\n\nhello\n--b\nContent-Type: application/pkcs7-signature\n"
        "Content-Transfer-Encoding: base64\n\n" FAKE_SIGNED_DATA_B64 "\n--b--\n";
    char msg[1024];
    assert_true(hlen + sizeof(rest) <= sizeof(msg));
    memcpy(msg, header, hlen);
    memcpy(msg + hlen, rest, sizeof(rest));
    walk_bytes(msg, hlen + sizeof(rest) - 1, &default_limits, s);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->items[0].kind, SMIME_MIME_DETACHED);
}

#define AUTHOR(lit) walk_author(lit, sizeof(lit) - 1, &s)

static void test_author_control_bytes(void **state)
{
    (void)state;
    seen s;
    /* GMime reads up to the NUL: the address it gives is alice's, and only the
     * raw scan sees what follows. */
    AUTHOR("From: Alice <alice@example.test>\0 Mallory <mallory@example.test>\n");
    assert_string_equal(s.items[0].from0, "alice@example.test");
    assert_non_null(s.items[0].control_header);
    assert_string_equal(s.items[0].control_header, "From");
    assert_int_equal(s.items[0].control_byte, 0x00);
    seen_free(&s);
    AUTHOR("From: Alice Example\001 <alice@example.test>\n");
    assert_string_equal(s.items[0].control_header, "From");
    assert_int_equal(s.items[0].control_byte, 0x01);
    seen_free(&s);
    AUTHOR("From: \033[8mMallory\033[0m <alice@example.test>\n");
    assert_int_equal(s.items[0].control_byte, 0x1b);
    seen_free(&s);
    AUTHOR("From: Alice <alice@example.test>\177\n");
    assert_int_equal(s.items[0].control_byte, 0x7f);
    seen_free(&s);
    /* a CR that does not end a line */
    AUTHOR("From: Mallory <mallory@example.test>\rAlice <alice@example.test>\n");
    assert_int_equal(s.items[0].control_byte, '\r');
    seen_free(&s);
    /* in a fold, after the first line */
    AUTHOR("From: Alice\n <alice@example.test>\0 Mallory\n");
    assert_string_equal(s.items[0].control_header, "From");
    seen_free(&s);
    /* the name in any case, and the obsolete white space before the colon */
    AUTHOR("fROM : Alice <alice@example.test>\002\n");
    assert_string_equal(s.items[0].control_header, "From");
    seen_free(&s);
    AUTHOR("From: Mallory <mallory@example.test>\nSender: Alice <alice@example.test>\0 x\n");
    assert_non_null(s.items[0].control_header);
    assert_string_equal(s.items[0].control_header, "Sender");
    assert_int_equal(s.items[0].control_byte, 0x00);
    seen_free(&s);
    /* folding white space is not a control: HTAB, CRLF before SP or HTAB */
    AUTHOR("From: Alice\tExample\n\t<alice@example.test>\nSender:\n list@example.test\n");
    assert_null(s.items[0].control_header);
    assert_string_equal(s.items[0].from0, "alice@example.test");
    seen_free(&s);
    /* other headers may hold what they like */
    AUTHOR("From: alice@example.test\nX-From: a\0b\nFromage: \001\n");
    assert_null(s.items[0].control_header);
    seen_free(&s);
}

/* A forwarded message is judged on its own headers, and the enclosing one on its own. */
static void test_author_control_bytes_per_message(void **state)
{
    (void)state;
    static const char msg[] =
        "From: carol@example.test\n"
        "Content-Type: multipart/mixed; boundary=m\n\n"
        "--m\nContent-Type: message/rfc822\n\n"
        "From: dave@example.test\0 x\n"
        "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
        "Content-Transfer-Encoding: base64\n\n" FAKE_ENVELOPED_B64 "\n"
        "--m\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\n"
        "Content-Transfer-Encoding: base64\n\n" FAKE_ENVELOPED_B64 "\n--m--\n";
    seen s;
    walk_bytes(msg, sizeof(msg) - 1, &default_limits, &s);
    assert_int_equal(s.n, 2);
    assert_non_null(s.items[0].control_header);
    assert_string_equal(s.items[0].from0, "dave@example.test");
    assert_null(s.items[1].control_header);
    assert_string_equal(s.items[1].from0, "carol@example.test");
    seen_free(&s);
}

/* The content type of an opaque object is read from BER too: indefinite outer
 * length, non-minimal OID length (as NSS and Outlook write them). */
static void test_ber_content_type_sniffed(void **state)
{
    (void)state;
    static const struct { const char *b64; smime_mime_kind kind; } cases[] = {
        /* 30 80 06 09 <signedData> 00 00 */
        { "MIAGCSqGSIb3DQEHAgAA", SMIME_MIME_OPAQUE },
        /* 30 80 06 82 00 09 <signedData> 00 00 */
        { "MIAGggAJKoZIhvcNAQcCAAA=", SMIME_MIME_OPAQUE },
        /* 30 83 00 00 0c 06 81 09 <envelopedData> */
        { "MIMAAAwGgQkqhkiG9w0BBwM=", SMIME_MIME_ENVELOPED },
        /* 30 80 06 80 ...: a primitive element cannot be indefinite */
        { "MIAGgCqGSIb3DQEHAgAA", SMIME_MIME_MALFORMED },
        /* 30 80 06 84 ff ff ff ff: an OID longer than the object */
        { "MIAGhP////8qhkiG9w0BBwI=", SMIME_MIME_MALFORMED },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "From: a@example.test\nContent-Type: application/pkcs7-mime; name=smime.p7m\n"
                 "Content-Transfer-Encoding: base64\n\n%s\n", cases[i].b64);
        seen s;
        walk_text(msg, &default_limits, &s);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.items[0].kind, cases[i].kind);
        seen_free(&s);
    }
}

/* ---- the quick tree against GMime's whole tree ---- */

typedef struct stat_seen {
    seen     s;                 /* first: collect() takes it as its ctx */
    size_t   parsed_at_first;   /* smime_mime_walk_parsed_bytes at the first item */
    unsigned whole_at_first;
    size_t   der_sum[MAX_SEEN]; /* of every DER byte, to compare whole objects */
} stat_seen;

static int collect_stats(smime_mime_walk *w, const smime_mime_item *item, void *ctx)
{
    stat_seen *st = ctx;
    if (st->s.n == 0) {
        st->parsed_at_first = smime_mime_walk_parsed_bytes(w);
        st->whole_at_first = smime_mime_walk_whole_trees(w);
    }
    if (st->s.n < MAX_SEEN) {
        size_t h = 1469598103u;
        for (size_t i = 0; i < item->der_len; i++)
            h = (h ^ item->der[i]) * 1099511628211u;
        st->der_sum[st->s.n] = h;
    }
    return collect(w, item, &st->s);
}

/* The two walks saw the same, byte for byte. */
static void assert_same_seen(const stat_seen *x, const stat_seen *y)
{
    assert_int_equal(x->s.n, y->s.n);
    for (size_t i = 0; i < x->s.n; i++) {
        const seen_item *a = &x->s.items[i], *b = &y->s.items[i];
        assert_int_equal(a->kind, b->kind);
        assert_string_equal(a->part, b->part);
        assert_string_equal(a->note, b->note);
        assert_string_equal(a->from0, b->from0);
        assert_string_equal(a->sender, b->sender);
        assert_string_equal(a->client, b->client);
        assert_int_equal(a->n_from, b->n_from);
        assert_int_equal(a->from_headers, b->from_headers);
        assert_int_equal(a->sender_headers, b->sender_headers);
        assert_int_equal(a->sender_mailboxes, b->sender_mailboxes);
        assert_true(a->control_header == b->control_header);
        assert_int_equal(a->control_byte, b->control_byte);
        assert_int_equal(a->der_len, b->der_len);
        assert_true(x->der_sum[i] == y->der_sum[i]);
        assert_int_equal(a->signed_lf_as_crlf, b->signed_lf_as_crlf);
        assert_int_equal(a->signed_len, b->signed_len);
        assert_int_equal(!a->signed_bytes, !b->signed_bytes);
        if (a->signed_bytes)
            assert_memory_equal(a->signed_bytes, b->signed_bytes, a->signed_len);
    }
}

/* Walks len bytes both ways and asserts the walks saw the same, byte for byte:
 * the quick walk's stats into *quick.  The walk after a prescan (verify's) sees
 * the same again, and the prescan's bare LFs are the message's. */
static void quick_as_whole(const char *msg, size_t len, const smime_mime_limits *lim,
                           stat_seen *quick)
{
    stat_seen *whole = calloc(1, sizeof(*whole)), *prescanned = calloc(1, sizeof(*prescanned));
    assert_non_null(whole);
    assert_non_null(prescanned);
    memset(quick, 0, sizeof(*quick));
    size_t crlf_len = smime_mime_crlf_length(msg, len);
    int bare_lf = crlf_len != len;
    int rq = smime_mime_walk_message_lf(msg, len, bare_lf, lim, collect_stats, quick, NULL);
    int rw = smime_mime_walk_message_whole_tree(msg, len, bare_lf, lim, collect_stats, whole);
    assert_int_equal(rq, rw);
    assert_same_seen(quick, whole);
    smime_mime_prescan *pre = smime_mime_prescan_new(msg, len, lim);
    assert_non_null(pre);
    assert_int_equal(smime_mime_prescan_bare_lfs(pre), crlf_len - len);
    int rp = smime_mime_walk_message_prescanned(msg, len, pre, lim, collect_stats, prescanned, NULL);
    smime_mime_prescan_free(pre);
    assert_int_equal(rp, rq);
    assert_same_seen(prescanned, quick);
    assert_int_equal(prescanned->parsed_at_first, quick->parsed_at_first);
    assert_int_equal(prescanned->whole_at_first, quick->whole_at_first);
    /* The whole tree is GMime's parse of every byte. */
    if (whole->s.n)
        assert_true(whole->whole_at_first >= 1 && whole->parsed_at_first >= len);
    seen_free(&whole->s);
    seen_free(&prescanned->s);
    free(whole);
    free(prescanned);
}

/* A header block as real mail has it (trace fields, signatures of relays, folded
 * fields, the client, two From fields, a Sender): GMime is given only the fields
 * the walk reads, and what it reads of them is what the whole parse reads. */
static void test_quick_header_fields(void **state)
{
    (void)state;
    static const char msg[] =
        "Received: from mx.example.test (mx.example.test [192.0.2.1])\r\n"
        "\tby relay.example.test with ESMTPS id abc; Sat, 28 Nov 2026 19:56:39 +0000\r\n"
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=sel;\r\n"
        " h=From:To:Subject; bh=AAAA; b=BBBB\r\n"
        "From: Alice <alice@example.test>\r\n"
        "To: bob@example.test,\r\n"
        " carol@example.test\r\n"
        "User-Agent: Mozilla Thunderbird\r\n"
        " 128.0\r\n"
        "X-Mailer: not this one\r\n"
        "from: Mallory <mallory@example.test>\r\n"
        "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
        "SENDER: list@example.test\r\n"
        "MIME-Version: 1.0\r\n"
        "content-type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n"
        " boundary=\"BB\"\r\n"
        "X-Spam: no\r\n"
        "\r\n"
        "--BB\r\n"
        "Content-Type: text/plain\r\n"
        "X-Part-Note: dropped\r\n"
        "\r\n"
        "hello\r\n"
        "--BB\r\n"
        "Content-Type: application/pkcs7-signature\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
        "Content-Description: S/MIME Cryptographic Signature\r\n"
        "\r\n"
        FAKE_SIGNED_DATA_B64 "\r\n"
        "--BB--\r\n";
    stat_seen *q = calloc(1, sizeof(*q));
    assert_non_null(q);
    quick_as_whole(msg, sizeof(msg) - 1, &default_limits, q);
    assert_int_equal(q->s.n, 1);
    assert_int_equal(q->whole_at_first, 0);            /* the quick tree found it */
    /* GMime was given the message's header block less the fields it need not
     * read, and nothing of its parts: the walk passes text over, and the
     * signature's type and base64 are read from its fields by us */
    static const char *const dropped[] = {
        "Received: from mx.example.test (mx.example.test [192.0.2.1])\r\n"
        "\tby relay.example.test with ESMTPS id abc; Sat, 28 Nov 2026 19:56:39 +0000\r\n",
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=sel;\r\n"
        " h=From:To:Subject; bh=AAAA; b=BBBB\r\n",
        "To: bob@example.test,\r\n carol@example.test\r\n",
        "Subject: =?utf-8?q?caf=C3=A9?=\r\n", "X-Spam: no\r\n", "MIME-Version: 1.0\r\n",
    };
    size_t given = (size_t)(strstr(msg, "\r\n\r\n") + 4 - msg);
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
        given -= strlen(dropped[i]);
    assert_int_equal(q->parsed_at_first, given);
    const seen_item *it = &q->s.items[0];
    assert_string_equal(it->signed_bytes, "Content-Type: text/plain\r\nX-Part-Note: dropped\r\n\r\nhello");
    assert_string_equal(it->from0, "alice@example.test");
    assert_int_equal(it->from_headers, 2);
    assert_int_equal(it->sender_headers, 1);
    assert_string_equal(it->sender, "list@example.test");
    assert_string_equal(it->client, "Mozilla Thunderbird 128.0");
    seen_free(&q->s);
    free(q);
}

/* Leaves the walk passes over are not given to GMime, by their one Content-Type
 * field; a leaf typed otherwise, or in a way only GMime reads (two Content-Type
 * fields, a type on a folded line), still is, and the walk finds what the whole
 * parse finds. */
static void test_quick_passed_over_leaves(void **state)
{
    (void)state;
    static const char msg[] =
        "From: alice@example.test\r\n"
        "Content-Type: multipart/mixed; boundary=MM\r\n"
        "\r\n"
        "--MM\r\n"
        "Content-Type: TEXT/plain\r\n"
        "\r\n"
        "one\r\n"
        "--MM\r\n"
        "\r\n"
        "no type: text/plain\r\n"
        "--MM\r\n"
        "Content-Type:  image/png\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "iVBORw0KGgo=\r\n"
        "--MM\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        FAKE_SIGNED_DATA_B64 "\r\n"
        "--MM\r\n"
        "Content-Type:\r\n"
        " application/pkcs7-mime; smime-type=signed-data\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        FAKE_SIGNED_DATA_B64 "\r\n"
        "--MM\r\n"
        "Content-Type: video/mp4\r\n"
        "\r\n"
        "...\r\n"
        "--MM\r\n"
        "Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        FAKE_SIGNED_DATA_B64 "\r\n"
        "--MM--\r\n";
    stat_seen *q = calloc(1, sizeof(*q));
    assert_non_null(q);
    quick_as_whole(msg, sizeof(msg) - 1, &default_limits, q);
    assert_int_equal(q->whole_at_first, 0);            /* the quick tree found them */
    assert_true(q->s.n >= 2);
    assert_string_equal(q->s.items[q->s.n - 2].part, "5");
    assert_string_equal(q->s.items[q->s.n - 1].part, "7");
    seen_free(&q->s);
    free(q);
}

/* A signature part whose type and base64 are read from its fields by us, and
 * ones whose fields only GMime can read (folded, doubled, commented, another
 * type or encoding): each way the walk finds what the whole parse finds. */
static void test_quick_signature_fields(void **state)
{
    (void)state;
    static const struct {
        const char *fields;
        int ours;               /* read by us: the signature is found, decoded */
    } variants[] = {
        { "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
          "Content-Transfer-Encoding: base64\r\n", 1 },
        { "Content-Type: Application/X-PKCS7-Signature\r\n"
          "Content-Transfer-Encoding: BASE64 \r\n", 1 },
        { "Content-Type: application/pkcs7-signature\r\n"
          "Content-Transfer-Encoding:\r\n base64\r\n", 0 },
        { "Content-Type: application/pkcs7-signature\r\n"
          "Content-Transfer-Encoding: base64\r\n (folded)\r\n", 0 },
        { "Content-Type: application/pkcs7-signature\r\n"
          "Content-Transfer-Encoding: base64\r\n"
          "Content-Transfer-Encoding: 7bit\r\n", 0 },
        { "Content-Type: application/pkcs7-signature\r\n"
          "Content-Transfer-Encoding: base64 (as sent)\r\n", 0 },
        { "Content-Type: (sig) application/pkcs7-signature\r\n"
          "Content-Transfer-Encoding: base64\r\n", 0 },
        { "Content-Type: application/pkcs7-signatures\r\n"
          "Content-Transfer-Encoding: base64\r\n", 0 },
        { "Content-Type: application/octet-stream\r\n"
          "Content-Transfer-Encoding: base64\r\n", 0 },
        { "Content-Transfer-Encoding: base64\r\n", 0 },
        { "Content-Type: application/pkcs7-signature\r\n", 0 },
    };
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        char msg[2048];
        snprintf(msg, sizeof(msg),
                 "From: alice@example.test\r\n"
                 "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"
                 " micalg=sha-256; boundary=SS\r\n"
                 "\r\n"
                 "--SS\r\n"
                 "Content-Type: text/plain\r\n"
                 "\r\n"
                 "hello\r\n"
                 "--SS\r\n"
                 "%s"
                 "\r\n"
                 FAKE_SIGNED_DATA_B64 "\r\n"
                 "--SS--\r\n",
                 variants[i].fields);
        stat_seen *q = calloc(1, sizeof(*q));
        assert_non_null(q);
        quick_as_whole(msg, strlen(msg), &default_limits, q);
        if (variants[i].ours) {
            assert_int_equal(q->s.n, 1);
            assert_int_equal(q->whole_at_first, 0);
            /* GMime was given the message's header block alone */
            assert_int_equal(q->parsed_at_first, strstr(msg, "\r\n\r\n") + 4 - msg);
            assert_int_equal(q->s.items[0].der_len, 13);
        }
        seen_free(&q->s);
        free(q);
    }
}

/* A prescan made with other limits than the walk's is not taken for its count:
 * the walk counts again, and the limit it reports is its own. */
static void test_prescan_other_limits(void **state)
{
    (void)state;
    size_t len = strlen(SIGNED_ROOT);
    smime_mime_limits one_part = default_limits;
    one_part.max_parts = 1;
    smime_mime_prescan *pre = smime_mime_prescan_new(SIGNED_ROOT, len, &one_part);
    assert_non_null(pre);
    assert_int_equal(smime_mime_prescan_bare_lfs(pre), smime_mime_crlf_length(SIGNED_ROOT, len) - len);
    stat_seen *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(smime_mime_walk_message_prescanned(SIGNED_ROOT, len, pre, &default_limits,
                                                        collect_stats, a, NULL), 0);
    assert_int_equal(smime_mime_walk_message_lf(SIGNED_ROOT, len, 1, &default_limits, collect_stats, b,
                                                NULL), 0);
    assert_same_seen(a, b);
    assert_int_equal(a->s.n, 1);
    assert_int_equal(a->s.items[0].kind, SMIME_MIME_DETACHED);
    seen_free(&a->s);
    /* and with its own limits, the one-part bound holds before parsing */
    memset(a, 0, sizeof(*a));
    assert_int_equal(smime_mime_walk_message_prescanned(SIGNED_ROOT, len, pre, &one_part,
                                                        collect_stats, a, NULL), 0);
    assert_int_equal(a->s.n, 1);
    assert_int_equal(a->s.items[0].kind, SMIME_MIME_LIMIT);
    smime_mime_prescan_free(pre);
    seen_free(&a->s);
    seen_free(&b->s);
    free(a);
    free(b);
}

static unsigned quick_files_walked;
static unsigned quick_files_whole;

static void quick_as_whole_dir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    for (const char *name; (name = g_dir_read_name(d)) != NULL;) {
        char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            quick_as_whole_dir(path);
        } else if (g_str_has_suffix(name, ".eml")) {
            gchar *msg;
            gsize len;
            assert_true(g_file_get_contents(path, &msg, &len, NULL));
            stat_seen *q = calloc(1, sizeof(*q));
            assert_non_null(q);
            quick_as_whole(msg, len, &default_limits, q);
            quick_files_walked++;
            if (q->s.n && q->whole_at_first)
                quick_files_whole++;
            seen_free(&q->s);
            free(q);
            g_free(msg);
        }
        g_free(path);
    }
    g_dir_close(d);
}

/* Every sample message and every message of the shared corpus: the quick tree
 * finds what GMime's whole tree finds, and it is the quick tree that found it
 * for most of them (not a silent fall back everywhere). */
static void test_quick_tree_as_whole_tree(void **state)
{
    (void)state;
    quick_files_walked = quick_files_whole = 0;
    quick_as_whole_dir("sample-mail");
    assert_true(quick_files_walked >= 50);
    assert_true(quick_files_whole * 4 < quick_files_walked);
    quick_as_whole_dir("../shared/corpus");
    /* A forwarded signed message and a signed one inside a signed one: nested
     * spans through message/rfc822 and multipart/signed, built quick. */
    const char *nested[] = { "sample-mail/06-forwarded-rfc822.eml",
                             "sample-mail/07-signed-inside-signed.eml",
                             "sample-mail/01-multipart-signed-rsa2048.eml" };
    for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
        gchar *msg;
        gsize len;
        assert_true(g_file_get_contents(nested[i], &msg, &len, NULL));
        stat_seen *q = calloc(1, sizeof(*q));
        assert_non_null(q);
        quick_as_whole(msg, len, &default_limits, q);
        assert_true(q->s.n >= 1);
        assert_int_equal(q->whole_at_first, 0);
        seen_free(&q->s);
        free(q);
        g_free(msg);
    }
}

/* Odd MIME: the quick tree gives up and GMime parses the whole message, with
 * the same result as before. */
static void test_quick_tree_falls_back(void **state)
{
    (void)state;
    static const char *const odd[] = {
        /* no closing delimiter */
        "From: a@example.test\r\nContent-Type: multipart/signed; "
        "protocol=\"application/pkcs7-signature\"; boundary=BB\r\n\r\n"
        "--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        "--BB\r\nContent-Type: application/pkcs7-signature\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n",
        /* a CR in the white space after a delimiter: a delimiter to GMime only */
        "From: a@example.test\r\nContent-Type: multipart/signed; "
        "protocol=\"application/pkcs7-signature\"; boundary=BB\r\n\r\n"
        "--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        "--BB \r\r\nContent-Type: application/pkcs7-signature\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n--BB--\r\n",
        /* a child's header line GMime reads as no field ("X Y: z") */
        "From: a@example.test\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
        "--BB\r\nX Y: z\r\nContent-Type: application/pkcs7-mime\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n--BB--\r\n",
        /* nested boundaries one of which starts the other */
        "From: a@example.test\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
        "--BB\r\nContent-Type: multipart/mixed; boundary=BBx\r\n\r\n"
        "--BBx\r\nContent-Type: application/pkcs7-mime\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n--BBx--\r\n"
        "--BB--\r\n",
        /* a digest, whose children default to message/rfc822 */
        "From: a@example.test\r\nContent-Type: multipart/digest; boundary=BB\r\n\r\n"
        "--BB\r\n\r\nFrom: b@example.test\r\nContent-Type: application/pkcs7-mime\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n--BB--\r\n",
        /* a bare LF before a CRLF delimiter: GMime takes two bytes off the child */
        "From: a@example.test\r\nContent-Type: multipart/signed; "
        "protocol=\"application/pkcs7-signature\"; boundary=BB\r\n\r\n"
        "--BB\r\nContent-Type: text/plain\r\n\r\nhello\n"
        "--BB\r\nContent-Type: application/pkcs7-signature\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n--BB--\r\n",
    };
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        stat_seen *q = calloc(1, sizeof(*q));
        assert_non_null(q);
        quick_as_whole(odd[i], strlen(odd[i]), &default_limits, q);
        assert_true(q->s.n >= 1);
        assert_int_equal(q->whole_at_first, 1);
        seen_free(&q->s);
        free(q);
    }
    /* and the same message made plain is built quick */
    static const char plain[] =
        "From: a@example.test\r\nContent-Type: multipart/signed; "
        "protocol=\"application/pkcs7-signature\"; boundary=BB\r\n\r\n"
        "--BB\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        "--BB\r\nContent-Type: application/pkcs7-signature\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n--BB--\r\n";
    stat_seen *q = calloc(1, sizeof(*q));
    assert_non_null(q);
    quick_as_whole(plain, sizeof(plain) - 1, &default_limits, q);
    assert_int_equal(q->s.n, 1);
    assert_int_equal(q->s.items[0].kind, SMIME_MIME_DETACHED);
    assert_int_equal(q->whole_at_first, 0);
    seen_free(&q->s);
    free(q);
}

/* A large leaf that is no S/MIME object is never given to GMime: only the header
 * blocks and the pkcs7-mime part are, a few hundred bytes of 2 MB. */
static void test_quick_tree_skips_large_leaf(void **state)
{
    (void)state;
    GString *m = g_string_new("From: a@example.test\r\nSubject: big\r\n"
                              "Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
                              "--BB\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Transfer-Encoding: base64\r\n\r\n");
    for (int i = 0; i < 2 * 1024 * 1024 / 78; i++)
        g_string_append(m, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n");
    g_string_append(m, "--BB\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n" FAKE_SIGNED_DATA_B64 "\r\n"
                       "--BB--\r\n");
    stat_seen *q = calloc(1, sizeof(*q));
    assert_non_null(q);
    quick_as_whole(m->str, m->len, &default_limits, q);
    assert_int_equal(q->s.n, 1);
    assert_int_equal(q->s.items[0].kind, SMIME_MIME_OPAQUE);
    assert_string_equal(q->s.items[0].part, "2");
    assert_int_equal(q->whole_at_first, 0);
    assert_true(q->parsed_at_first < 1024);
    assert_true(m->len > 2 * 1000 * 1000);
    seen_free(&q->s);
    free(q);
    g_string_free(m, TRUE);
}

int main(void)
{
    smime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crlf_conversion),
        cmocka_unit_test(test_signed_root_slice),
        cmocka_unit_test(test_quick_header_fields),
        cmocka_unit_test(test_quick_passed_over_leaves),
        cmocka_unit_test(test_quick_signature_fields),
        cmocka_unit_test(test_prescan_other_limits),
        cmocka_unit_test(test_nested_mixed_and_forwarded),
        cmocka_unit_test(test_opaque_without_smime_type_is_sniffed),
        cmocka_unit_test(test_not_smime_ignored),
        cmocka_unit_test(test_signed_with_three_parts_is_malformed),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_item_cap),
        cmocka_unit_test(test_base64_forwarded_message),
        cmocka_unit_test(test_lf_and_crlf_slices_agree),
        cmocka_unit_test(test_count_parts_before_parsing),
        cmocka_unit_test(test_count_parts_lines_before_declaration),
        cmocka_unit_test(test_count_parts_many_boundaries),
        cmocka_unit_test(test_part_cap_holds_before_parsing),
        cmocka_unit_test(test_decode_budget),
        cmocka_unit_test(test_author_control_bytes),
        cmocka_unit_test(test_author_control_bytes_per_message),
        cmocka_unit_test(test_ber_content_type_sniffed),
        cmocka_unit_test(test_mixed_line_ends_walked_raw),
        cmocka_unit_test(test_quick_tree_as_whole_tree),
        cmocka_unit_test(test_quick_tree_falls_back),
        cmocka_unit_test(test_quick_tree_skips_large_leaf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
