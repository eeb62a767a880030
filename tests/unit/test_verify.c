/* Unit tests of verify: the whole pipeline on sample mail and on variations of it
 * (binding through Sender, several From addresses, size cap, hostile input). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <gnutls/abstract.h>
#include <gnutls/pkcs7.h>
#include <time.h>

#include "smime/report/authres.h"
#include "smime/util/buf.h"
#include "smime/util/json.h"
#include "smime/lint/lint.h"
#include "smime/verdict/verify.h"
#include "testutil.h"

static smime_trust *trust;

static int setup(void **state)
{
    (void)state;
    char err[256];
    return smime_trust_load(SAMPLE_ANCHORS, &trust, err, sizeof(err));
}

static int teardown(void **state)
{
    (void)state;
    smime_trust_free(trust);
    return 0;
}

static smime_lint_mode lint_mode = SMIME_LINT_REPORT;

static smime_report *verify_bytes(const char *msg, size_t len)
{
    smime_verify_options opt;
    smime_verify_options_default(&opt, SAMPLE_NOW);
    opt.lint_mode = lint_mode;
    smime_report *r = NULL;
    char err[256];
    assert_int_equal(smime_verify_message(msg, len, trust, &opt, &r, err, sizeof(err)), 0);
    assert_non_null(r);
    return r;
}

static smime_report *verify_sample(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), SAMPLE_DIR "%s", name);
    size_t len;
    char *raw = test_read_file(path, &len);
    smime_report *r = verify_bytes(raw, len);
    free(raw);
    return r;
}

/* The sample message with its first header line replaced by the hl bytes of
 * from_header (which may hold a NUL). */
static smime_report *verify_with_header_bytes(const char *name, const char *from_header, size_t hl)
{
    char path[256];
    snprintf(path, sizeof(path), SAMPLE_DIR "%s", name);
    size_t len;
    char *raw = test_read_file(path, &len);
    char *from = strstr(raw, "From: ");
    assert_non_null(from);
    char *eol = strchr(from, '\n');
    size_t head = (size_t)(from - raw), tail = len - (size_t)(eol + 1 - raw);
    char *msg = malloc(head + hl + tail + 1);
    memcpy(msg, raw, head);
    memcpy(msg + head, from_header, hl);
    memcpy(msg + head + hl, eol + 1, tail);
    smime_report *r = verify_bytes(msg, head + hl + tail);
    free(msg);
    free(raw);
    return r;
}

static smime_report *verify_with_header(const char *name, const char *from_header)
{
    return verify_with_header_bytes(name, from_header, strlen(from_header));
}

#define WITH_HEADER(name, lit) verify_with_header_bytes(name, lit, sizeof(lit) - 1)

/* A control byte in From or Sender makes the author ambiguous: policy, whatever
 * GMime made of the address; but only once the signature holds. */
static void test_author_control_bytes(void **state)
{
    (void)state;
    smime_report *r = WITH_HEADER("01-multipart-signed-rsa2048.eml",
                                  "From: Alice <alice@example.test>\0 Mallory <mallory@example.test>\r\n");
    assert_int_equal(r->n_sigs, 1);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_string_equal(r->sigs[0].code, "ambiguous-from");
    assert_non_null(strstr(r->sigs[0].reason, "From header holds the control character 0x00"));
    smime_report_free(r);
    r = WITH_HEADER("01-multipart-signed-rsa2048.eml",
                    "From: \033[8mMallory\033[0m Alice <alice@example.test>\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_non_null(strstr(r->sigs[0].reason, "0x1b"));
    smime_report_free(r);
    /* Sender would bind (see test_binding_variants) but holds a NUL */
    r = WITH_HEADER("32-from-not-in-cert.eml",
                    "From: mallory@example.test\r\nSender: alice@example.test\0x\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_string_equal(r->sigs[0].code, "ambiguous-from");
    assert_non_null(strstr(r->sigs[0].reason, "Sender header"));
    smime_report_free(r);
    /* folding white space is fine */
    r = WITH_HEADER("01-multipart-signed-rsa2048.eml", "From: Alice\tExample\r\n\t<alice@example.test>\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    smime_report_free(r);
    /* a bad signature stays fail: the ambiguity is a question only of a sound one */
    r = WITH_HEADER("30-tampered-body.eml", "From: Alice <alice@example.test>\0\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_FAIL);
    smime_report_free(r);
}

static void test_pass_report_fields(void **state)
{
    (void)state;
    smime_report *r = verify_sample("01-multipart-signed-rsa2048.eml");
    assert_int_equal(r->n_sigs, 1);
    smime_sig_report *s = &r->sigs[0];
    assert_int_equal(s->result, SMIME_RESULT_PASS);
    assert_string_equal(s->identifier, "alice@example.test");
    assert_string_equal(s->part, "1");
    assert_true(s->has_signer);
    assert_int_equal(s->chain_len, 2);
    assert_true(s->chain_anchored);
    assert_string_equal(s->digest_alg, "SHA256");
    smime_report_free(r);
}

static void test_signed_inside_signed(void **state)
{
    (void)state;
    smime_report *r = verify_sample("07-signed-inside-signed.eml");
    assert_int_equal(r->n_sigs, 2);
    assert_string_equal(r->sigs[0].part, "1");
    assert_string_equal(r->sigs[0].identifier, "alice@example.test");
    assert_int_equal(r->sigs[1].result, SMIME_RESULT_PASS);
    assert_string_equal(r->sigs[1].identifier, "bob@example.test");
    assert_true(strlen(r->sigs[1].part) > 1);  /* inside part 1 */
    assert_true(strncmp(r->sigs[1].part, "1.", 2) == 0);
    smime_report_free(r);
}

static void test_binding_variants(void **state)
{
    (void)state;
    /* Display name and domain case do not matter. */
    smime_report *r = verify_with_header("01-multipart-signed-rsa2048.eml",
                                         "From: \"Alice A.\" <alice@EXAMPLE.Test>\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    smime_report_free(r);
    /* Local part case does. */
    r = verify_with_header("01-multipart-signed-rsa2048.eml", "From: Alice@example.test\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    smime_report_free(r);
    /* Every From mailbox must be the signer's. */
    r = verify_with_header("01-multipart-signed-rsa2048.eml",
                           "From: alice@example.test, mallory@example.test\r\nSender: x@example.test\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_non_null(strstr(r->sigs[0].reason, "not in the signer certificate"));
    smime_report_free(r);
    /* ... or the Sender (RFC 8550 section 3). */
    r = verify_with_header("32-from-not-in-cert.eml",
                           "From: mallory@example.test\r\nSender: alice@example.test\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    assert_non_null(strstr(r->sigs[0].reason, "Sender"));
    smime_report_free(r);
    /* A Sender of two mailboxes (no comma: what Sendmail delivers of a value split
     * by a NUL) is malformed (RFC 5322 allows one) and readers may show either. */
    r = verify_with_header("32-from-not-in-cert.eml",
                           "From: Mallory <mallory@example.test>\r\n"
                           "Sender: Alice <alice@example.test> Mallory <mallory@example.test>\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_string_equal(r->sigs[0].code, "ambiguous-from");
    assert_non_null(strstr(r->sigs[0].reason, "Sender header names 2 mailboxes"));
    smime_report_free(r);
    /* A From of two mailboxes, one not in the certificate: the reason names it. */
    r = verify_with_header("01-multipart-signed-rsa2048.eml",
                           "From: Alice <alice@example.test> Mallory <mallory@example.test>\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_non_null(strstr(r->sigs[0].reason, "From address mallory@example.test is not in"));
    smime_report_free(r);
    /* Two From headers: whichever the reader shows, the binding is ambiguous. */
    r = verify_with_header("01-multipart-signed-rsa2048.eml",
                           "From: alice@example.test\r\nFrom: mallory@example.test\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_string_equal(r->sigs[0].code, "ambiguous-from");
    smime_report_free(r);
    r = verify_with_header("01-multipart-signed-rsa2048.eml",
                           "From: mallory@example.test\r\nFrom: alice@example.test\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    smime_report_free(r);
    /* A From with no address (group syntax, or only a display name). */
    r = verify_with_header("01-multipart-signed-rsa2048.eml", "From: undisclosed-senders:;\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_string_equal(r->sigs[0].code, "no-from");
    smime_report_free(r);
    r = verify_with_header("01-multipart-signed-rsa2048.eml", "From: Alice Example\r\n");
    assert_int_not_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    smime_report_free(r);
    /* No From at all. */
    r = verify_with_header("01-multipart-signed-rsa2048.eml", "X-No-From: 1\r\n");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_non_null(strstr(r->sigs[0].reason, "no From"));
    smime_report_free(r);
}

static void test_lf_equals_crlf(void **state)
{
    (void)state;
    smime_report *a = verify_sample("01-multipart-signed-rsa2048.eml");
    smime_report *b = verify_sample("18-lf-line-endings.eml");
    assert_int_equal(a->n_sigs, b->n_sigs);
    assert_int_equal(a->sigs[0].result, b->sigs[0].result);
    assert_string_equal(a->sigs[0].reason, b->sigs[0].reason);
    smime_report_free(a);
    smime_report_free(b);
}

/* Signatures past MaxSignatures are counted in one neutral entry, found again
 * for each later skipped one after other entries were added (the report's array
 * grows and moves meanwhile: under ASan a kept pointer fails here). */
static void test_skipped_signatures_counted_in_one_entry(void **state)
{
    (void)state;
    size_t len;
    char *raw = test_read_file(SAMPLE_DIR "01-multipart-signed-rsa2048.eml", &len);
    const char *entity = strstr(raw, "Content-Type: multipart/signed");
    assert_non_null(entity);
    GString *m = g_string_new("From: Alice Example <alice@example.test>\r\n"
                              "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n");
    for (int i = 0; i < 2; i++)
        g_string_append_printf(m, "--outer\r\n%s\r\n", entity);
    g_string_append(m, "--outer\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n");
    g_string_append_printf(m, "--outer\r\n%s\r\n--outer--\r\n", entity);
    smime_verify_options opt;
    smime_verify_options_default(&opt, SAMPLE_NOW);
    opt.max_signatures = 1;
    smime_report *r = NULL;
    char err[256];
    assert_int_equal(smime_verify_message(m->str, m->len, trust, &opt, &r, err, sizeof(err)), 0);
    assert_int_equal(r->n_sigs, 3);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    assert_int_equal(r->sigs[1].result, SMIME_RESULT_NEUTRAL);
    assert_string_equal(r->sigs[1].code, "limit");
    assert_string_equal(r->sigs[1].reason,
                        "more signatures than the limit for one message; 2 signatures not verified");
    assert_string_equal(r->sigs[2].code, "malformed-mime");
    smime_report_free(r);
    g_string_free(m, TRUE);
    free(raw);
}

static void test_size_cap(void **state)
{
    (void)state;
    size_t len;
    char *raw = test_read_file(SAMPLE_DIR "01-multipart-signed-rsa2048.eml", &len);
    smime_verify_options opt;
    smime_verify_options_default(&opt, SAMPLE_NOW);
    opt.max_message_size = len - 1;
    smime_report *r = NULL;
    char err[256];
    assert_int_equal(smime_verify_message(raw, len, trust, &opt, &r, err, sizeof(err)), 0);
    assert_int_equal(r->n_sigs, 1);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_NEUTRAL);
    assert_non_null(strstr(r->sigs[0].reason, "larger than"));
    smime_report_free(r);
    opt.max_message_size = len;
    assert_int_equal(smime_verify_message(raw, len, trust, &opt, &r, err, sizeof(err)), 0);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    smime_report_free(r);
    free(raw);
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    /* Empty input, NUL bytes, random bytes and a lone header: a verdict, no crash. */
    smime_report *r = verify_bytes("", 0);
    assert_int_equal(r->n_sigs, 0);
    smime_report_free(r);
    char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(junk); i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    r = verify_bytes(junk, sizeof(junk));
    smime_report_free(r);
    const char *trunc = "From: a@example.test\r\nContent-Type: multipart/signed; "
                        "protocol=\"application/pkcs7-signature\"; boundary=x\r\n\r\n--x\r\n";
    r = verify_bytes(trunc, strlen(trunc));
    for (size_t i = 0; i < r->n_sigs; i++)
        assert_int_not_equal(r->sigs[i].result, SMIME_RESULT_PASS);
    smime_report_free(r);
}

static void test_truncated_signature_is_not_pass(void **state)
{
    (void)state;
    size_t len;
    char *raw = test_read_file(SAMPLE_DIR "01-multipart-signed-rsa2048.eml", &len);
    /* Cut the message in the middle of the base64 signature. */
    char *sig = strstr(raw, "S/MIME Cryptographic Signature\r\n\r\n");
    assert_non_null(sig);
    size_t cut = (size_t)(sig - raw) + 200;
    smime_report *r = verify_bytes(raw, cut);
    assert_int_equal(r->n_sigs, 1);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_NEUTRAL);
    smime_report_free(r);
    free(raw);
}

static void test_encrypted_note(void **state)
{
    (void)state;
    smime_report *r = verify_sample("39-encrypted-only.eml");
    assert_int_equal(r->n_sigs, 0);
    assert_int_equal(r->n_notes, 1);
    assert_non_null(strstr(smime_report_none_reason(r), "enveloped-data"));
    smime_report_free(r);
}

/* Each outcome carries a stable short code for logs and telemetry. */
static void test_reason_codes(void **state)
{
    (void)state;
    static const struct { const char *file; const char *code; } cases[] = {
        { "01-multipart-signed-rsa2048.eml", "ok" },
        { "30-tampered-body.eml", "bad-signature" },
        { "32-from-not-in-cert.eml", "from-mismatch" },
        { "33-expired.eml", "expired" },
        { "34-untrusted-root.eml", "untrusted" },
        { "35-wrong-eku.eml", "wrong-purpose" },
        { "36-cert-not-included.eml", "signer-cert-missing" },
        { "37-garbage-cms.eml", "malformed-cms" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smime_report *r = verify_sample(cases[i].file);
        assert_int_equal(r->n_sigs, 1);
        assert_non_null(r->sigs[0].code);
        assert_string_equal(r->sigs[0].code, cases[i].code);
        smime_report_free(r);
    }
    smime_report *r = verify_sample("39-encrypted-only.eml");
    assert_string_equal(r->notes[0].code, "encrypted");
    smime_report_free(r);
}

static void test_client_and_issuer_key_id(void **state)
{
    (void)state;
    smime_report *r = verify_with_header("01-multipart-signed-rsa2048.eml",
                                         "From: alice@example.test\r\nUser-Agent: Mozilla/5.0 Thunderbird/115.3\r\n");
    assert_string_equal(r->sigs[0].client, "Mozilla/5.0 Thunderbird/115.3");
    /* The signer's authorityKeyIdentifier is the issuing CA's key id. */
    assert_true(strlen(r->sigs[0].signer.issuer_key_id) == 40);
    smime_report_free(r);
    r = verify_with_header("01-multipart-signed-rsa2048.eml",
                           "From: alice@example.test\r\nX-Mailer: Microsoft Outlook 16.0\r\n");
    assert_string_equal(r->sigs[0].client, "Microsoft Outlook 16.0");
    smime_report_free(r);
}

/* Messages signed here with GnuTLS (a second implementation next to the
 * OpenSSL-made sample mail), at a signing time chosen through GnuTLS's clock. */
static time_t fake_now;
static time_t fake_time(time_t *t)
{
    if (t)
        *t = fake_now;
    return fake_now;
}

static gnutls_datum_t pem_file(const char *path)
{
    size_t n;
    char *pem = test_read_file(path, &n);
    gnutls_datum_t d = { gnutls_malloc(n), (unsigned)n };
    memcpy(d.data, pem, n);
    free(pem);
    return d;
}

static char *gnutls_signed_message(const char *name, time_t signing_time, size_t *len)
{
    char path[128];
    gnutls_x509_crt_t crt, ca;
    gnutls_privkey_t key;
    gnutls_x509_crt_init(&crt);
    gnutls_x509_crt_init(&ca);
    gnutls_privkey_init(&key);
    snprintf(path, sizeof(path), "sample-mail/pki/%s.pem", name);
    gnutls_datum_t d = pem_file(path);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    gnutls_free(d.data);
    d = pem_file("sample-mail/pki/smime-ca.pem");
    assert_int_equal(gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM), 0);
    gnutls_free(d.data);
    snprintf(path, sizeof(path), "sample-mail/pki/%s.key", name);
    d = pem_file(path);
    assert_int_equal(gnutls_privkey_import_x509_raw(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0), 0);
    gnutls_free(d.data);

    static const char content[] = "Content-Type: text/plain\r\n\r\nsigned by GnuTLS\r\n";
    gnutls_datum_t data = { (unsigned char *)content, sizeof(content) - 1 };
    gnutls_pkcs7_t p7;
    gnutls_pkcs7_init(&p7);
    fake_now = signing_time;
    gnutls_global_set_time_function(fake_time);
    int rc = gnutls_pkcs7_sign(p7, crt, key, &data, NULL, NULL, GNUTLS_DIG_SHA256,
                               GNUTLS_PKCS7_INCLUDE_TIME | GNUTLS_PKCS7_INCLUDE_CERT);
    gnutls_global_set_time_function(time);
    assert_int_equal(rc, 0);
    assert_int_equal(gnutls_pkcs7_set_crt(p7, ca), 0);
    gnutls_datum_t der;
    assert_int_equal(gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &der), 0);
    gchar *b64 = g_base64_encode(der.data, der.size);
    char *msg = g_strdup_printf(
        "From: %s@example.test\r\nTo: carol@example.test\r\nSubject: gnutls\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
        "micalg=sha-256; boundary=\"b\"\r\n\r\n--b\r\n%s\r\n--b\r\n"
        "Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "%s\r\n--b--\r\n",
        name, content, b64);
    g_free(b64);
    gnutls_free(der.data);
    gnutls_pkcs7_deinit(p7);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_crt_deinit(ca);
    gnutls_privkey_deinit(key);
    *len = strlen(msg);
    return msg;
}

static void test_signing_time_honoured(void **state)
{
    (void)state;
    size_t len;
    /* Inside the certificate's validity (2025..2055): pass. */
    char *msg = gnutls_signed_message("alice", (time_t)SAMPLE_NOW - 86400, &len);
    smime_report *r = verify_bytes(msg, len);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    assert_true(r->sigs[0].has_signing_time);
    assert_int_equal(r->sigs[0].signing_time, SAMPLE_NOW - 86400);
    smime_report_free(r);
    g_free(msg);
    /* Claims to be signed before the certificate existed: fail. */
    msg = gnutls_signed_message("alice", (time_t)1546300800 /* 2019-01-01 */, &len);
    r = verify_bytes(msg, len);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_FAIL);
    assert_string_equal(r->sigs[0].code, "signing-time");
    smime_report_free(r);
    g_free(msg);
    /* One hour of clock skew is tolerated at the edges. */
    msg = gnutls_signed_message("alice", (time_t)1735689600 - 600 /* 2025-01-01 - 10 min */, &len);
    r = verify_bytes(msg, len);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    smime_report_free(r);
    g_free(msg);
}

/* The SBR lint of the signer rides along with every result (issue #3). */
static void test_lint_modes(void **state)
{
    (void)state;
    assert_int_equal(smime_lint_mode_parse("enforce"), SMIME_LINT_ENFORCE);
    assert_int_equal(smime_lint_mode_parse("Report"), -1);
    /* report: the result stands, the reason gains the summary, the lint is kept */
    smime_report *r = verify_sample("01-multipart-signed-rsa2048.eml");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
    assert_non_null(r->sigs[0].lint);
    assert_int_equal(r->sigs[0].lint->type, SMIME_TYPE_MAILBOX);
    assert_int_equal(r->sigs[0].lint->generation, SMIME_GEN_STRICT);
    /* the sample certificates are valid for 30 years: VAL-02 */
    assert_non_null(strstr(r->sigs[0].reason, "SBR mailbox-strict: "));
    assert_non_null(strstr(r->sigs[0].reason, "VAL-02"));
    smime_report_free(r);
    /* enforce: error findings turn the pass into policy */
    lint_mode = SMIME_LINT_ENFORCE;
    r = verify_sample("01-multipart-signed-rsa2048.eml");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_POLICY);
    assert_string_equal(r->sigs[0].code, "sbr-violation");
    smime_report_free(r);
    /* ... and leave a fail a fail */
    r = verify_sample("30-tampered-body.eml");
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_FAIL);
    smime_report_free(r);
    /* off: nothing linted */
    lint_mode = SMIME_LINT_OFF;
    r = verify_sample("01-multipart-signed-rsa2048.eml");
    assert_null(r->sigs[0].lint);
    assert_null(strstr(r->sigs[0].reason, "SBR"));
    smime_report_free(r);
    /* no certificate, no lint */
    lint_mode = SMIME_LINT_REPORT;
    r = verify_sample("36-cert-not-included.eml");
    assert_null(r->sigs[0].lint);
    smime_report_free(r);
    /* a certificate issued before the SBR is named as such */
    r = verify_sample("33-expired.eml");
    assert_non_null(strstr(r->sigs[0].reason, "issued before 2023-09-01"));
    smime_report_free(r);
}

static char *report_json_text(const smime_report *r)
{
    smime_buf b;
    smime_buf_init(&b, 1u << 20);
    smime_json j;
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_report_json(r, &j);
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    return b.data;               /* owned by the caller */
}

/* What the trust store's memo remembers (validated paths, lint findings) must
 * give the very report a cold verification gives, on every kind of sample. */
static void test_memo_same_report(void **state)
{
    (void)state;
    static const char *const names[] = {
        "01-multipart-signed-rsa2048.eml", "08-rsa3072-sha384.eml", "11-ecdsa-p256.eml",
        "14-ed25519.eml", "17-two-signers.eml", "22-org-multipurpose.eml",
        "23-indiv-multipurpose.eml", "30-tampered-body.eml", "32-from-not-in-cert.eml",
        "33-expired.eml", "34-untrusted-root.eml", "35-wrong-eku.eml",
    };
    smime_trust *fresh = NULL;
    char err[256];
    assert_int_equal(smime_trust_load(SAMPLE_ANCHORS, &fresh, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), SAMPLE_DIR "%s", names[i]);
        size_t len;
        char *raw = test_read_file(path, &len);
        char *text[3];
        for (int pass = 0; pass < 3; pass++) {
            smime_verify_options opt;
            smime_verify_options_default(&opt, SAMPLE_NOW);
            opt.chain_cache = pass > 0;          /* cold, then filling, then from the memo */
            smime_report *r = NULL;
            assert_int_equal(smime_verify_message(raw, len, fresh, &opt, &r, err, sizeof(err)), 0);
            text[pass] = report_json_text(r);
            smime_report_free(r);
        }
        if (strcmp(text[0], text[2]) != 0 || strcmp(text[1], text[2]) != 0)
            fail_msg("%s: report from the memo differs:\n%s\n%s", names[i], text[0], text[2]);
        for (int pass = 0; pass < 3; pass++)
            free(text[pass]);
        free(raw);
    }
    unsigned long hits, misses;
    smime_trust_cache_stats(fresh, &hits, &misses);
    assert_true(hits >= 8);          /* at least a path and its lint per good sample */
    smime_trust_free(fresh);
}

int main(void)
{
    smime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_report_fields),
        cmocka_unit_test(test_signed_inside_signed),
        cmocka_unit_test(test_binding_variants),
        cmocka_unit_test(test_author_control_bytes),
        cmocka_unit_test(test_lf_equals_crlf),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_skipped_signatures_counted_in_one_entry),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_truncated_signature_is_not_pass),
        cmocka_unit_test(test_encrypted_note),
        cmocka_unit_test(test_reason_codes),
        cmocka_unit_test(test_client_and_issuer_key_id),
        cmocka_unit_test(test_signing_time_honoured),
        cmocka_unit_test(test_lint_modes),
        cmocka_unit_test(test_memo_same_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
