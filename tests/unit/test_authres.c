/* Unit tests of the Authentication-Results formatter (src/report/authres.c): golden header
 * values for reports built by hand, and header-injection resistance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/report/authres.h"
#include "smime/report/report.h"
#include "smime/util/text.h"

#define SERVID "mx.example.org"

static void set(char *dst, size_t size, const char *src)
{
    assert_true(strlen(src) < size);
    memcpy(dst, src, strlen(src) + 1);
}
#define SET(field, src) set((field), sizeof(field), (src))

/* A pass signature with every header field filled. */
static smime_sig_report *add_pass(smime_report *r)
{
    smime_sig_report *s = smime_report_add_sig(r);
    assert_non_null(s);
    s->result = SMIME_RESULT_PASS;
    SET(s->identifier, "alice@example.org");
    SET(s->part, "1");
    s->has_signer = 1;
    SET(s->signer.serial, "0A1B2C3D");
    SET(s->signer.issuer, "CN=Example CA,O=Example Org,C=DE");
    return s;
}

/* Formats r and returns the header value (static storage). */
static const char *format(const smime_report *r, const char *servid)
{
    static char text[8192];
    smime_buf b;
    smime_buf_init(&b, 65536);
    assert_int_equal(smime_authres_format(r, servid, &b), 0);
    assert_non_null(b.data);
    assert_int_equal(strlen(b.data), b.len);
    assert_true(b.len < sizeof(text));
    memcpy(text, b.data, b.len + 1);
    smime_buf_free(&b);
    return text;
}

/* The value is one header line: no CR, LF, NUL or other control byte, quotes
 * balanced (every '"' either escaped or delimiting), every backslash escapes the
 * next character inside a quoted-string. */
static void assert_single_safe_line(const char *s)
{
    int in_quote = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            fail_msg("control byte 0x%02x at offset %d in: %s", *p,
                     (int)(p - (const unsigned char *)s), s);
        if (*p == '\\') {
            if (!in_quote)
                fail_msg("backslash outside a quoted-string in: %s", s);
            p++;
            if (*p != '"' && *p != '\\')
                fail_msg("backslash escapes 0x%02x in: %s", *p, s);
            continue;
        }
        if (*p == '"')
            in_quote = !in_quote;
    }
    if (in_quote)
        fail_msg("unterminated quoted-string in: %s", s);
}

static void check_value(const char *in, const char *want)
{
    smime_buf b;
    smime_buf_init(&b, 4096);
    assert_int_equal(smime_authres_value(&b, in), 0);
    assert_string_equal(b.data, want);
    smime_buf_free(&b);
}

static void test_pass_golden(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    assert_non_null(r);
    add_pass(r);
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org; smime=pass body.smime-identifier=alice@example.org"
        " body.smime-part=1 body.smime-serial=0A1B2C3D"
        " body.smime-issuer=\"CN=Example CA,O=Example Org,C=DE\"");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_fail_with_reason_golden(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_sig_report *s = add_pass(r);
    s->result = SMIME_RESULT_FAIL;
    SET(s->reason, "signature does not match");
    SET(s->part, "1.2");
    assert_string_equal(format(r, SERVID),
        "mx.example.org; smime=fail reason=\"signature does not match\""
        " body.smime-identifier=alice@example.org body.smime-part=1.2"
        " body.smime-serial=0A1B2C3D"
        " body.smime-issuer=\"CN=Example CA,O=Example Org,C=DE\"");
    smime_report_free(r);
}

static void test_minimal_signature(void **state)
{
    (void)state;
    /* Only a result: no reason, identifier, part, signer. */
    smime_report *r = smime_report_new();
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_TEMPERROR;
    assert_string_equal(format(r, SERVID), "mx.example.org; smime=temperror");
    smime_report_free(r);
}

static void test_result_words(void **state)
{
    (void)state;
    static const struct { smime_result res; const char *word; } cases[] = {
        { SMIME_RESULT_NONE, "none" },       { SMIME_RESULT_PASS, "pass" },
        { SMIME_RESULT_FAIL, "fail" },       { SMIME_RESULT_NEUTRAL, "neutral" },
        { SMIME_RESULT_POLICY, "policy" },   { SMIME_RESULT_TEMPERROR, "temperror" },
        { SMIME_RESULT_PERMERROR, "permerror" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smime_report *r = smime_report_new();
        smime_sig_report *s = smime_report_add_sig(r);
        s->result = cases[i].res;
        char want[64];
        snprintf(want, sizeof(want), "mx.example.org; smime=%s", cases[i].word);
        assert_string_equal(format(r, SERVID), want);
        smime_report_free(r);
    }
}

static void test_no_signature_default_reason(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    assert_string_equal(format(r, SERVID),
                        "mx.example.org; smime=none reason=\"no S/MIME signature\"");
    assert_string_equal(smime_report_none_reason(r), "no S/MIME signature");
    smime_report_free(r);
}

static void test_no_signature_first_note_is_reason(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_report_add_note(r, "2", "encrypted", "encrypted part %s not verified", "2");
    smime_report_add_note(r, "3", "encrypted", "second note");
    assert_string_equal(smime_report_none_reason(r), "encrypted part 2 not verified");
    assert_string_equal(format(r, SERVID),
        "mx.example.org; smime=none reason=\"encrypted part 2 not verified\"");
    smime_report_free(r);
}

static void test_notes_ignored_when_signatures_present(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_report_add_note(r, "2", "encrypted", "compressed part");
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_NEUTRAL;
    assert_string_equal(format(r, SERVID), "mx.example.org; smime=neutral");
    smime_report_free(r);
}

static void test_note_reason_is_cleaned(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_report_add_note(r, "1", "encrypted", "part \"%s\"\r\nX-Injected: \\yes\x01", "1\xff");
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org; smime=none reason=\"part \\\"1?\\\"  X-Injected: \\\\yes \"");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_several_signatures(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    add_pass(r);
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_FAIL;
    SET(s->reason, "bad");
    SET(s->part, "2");
    s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_POLICY;
    SET(s->identifier, "bob@example.net");
    s = smime_report_add_sig(r);          /* a fourth and fifth force a realloc */
    s->result = SMIME_RESULT_PERMERROR;
    s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_NONE;
    assert_int_equal(r->n_sigs, 5);
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org"
        "; smime=pass body.smime-identifier=alice@example.org body.smime-part=1"
        " body.smime-serial=0A1B2C3D body.smime-issuer=\"CN=Example CA,O=Example Org,C=DE\""
        "; smime=fail reason=\"bad\" body.smime-part=2"
        "; smime=policy body.smime-identifier=bob@example.net"
        "; smime=permerror"
        "; smime=none");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_serial_and_issuer_both_or_neither(void **state)
{
    (void)state;
    const char *want_none = "mx.example.org; smime=pass"
                            " body.smime-identifier=alice@example.org body.smime-part=1";
    smime_report *r = smime_report_new();
    smime_sig_report *s = add_pass(r);

    s->has_signer = 0;                     /* fields filled but no signer */
    assert_string_equal(format(r, SERVID), want_none);

    s->has_signer = 1;
    s->signer.issuer[0] = '\0';            /* serial without issuer */
    assert_string_equal(format(r, SERVID), want_none);

    SET(s->signer.issuer, "CN=X");
    s->signer.serial[0] = '\0';            /* issuer without serial */
    assert_string_equal(format(r, SERVID), want_none);

    SET(s->signer.serial, "01");
    assert_string_equal(format(r, SERVID),
        "mx.example.org; smime=pass body.smime-identifier=alice@example.org"
        " body.smime-part=1 body.smime-serial=01 body.smime-issuer=\"CN=X\"");
    smime_report_free(r);
}

static void test_identifier_bare_or_quoted(void **state)
{
    (void)state;
    static const struct { const char *id, *want; } cases[] = {
        { "alice@example.org", "alice@example.org" },
        { "first.last+tag@mail-1.example.co.uk", "first.last+tag@mail-1.example.co.uk" },
        { "o'hara@example.org", "o'hara@example.org" },
        { "Alice Smith@example.org", "\"Alice Smith@example.org\"" },
        { "\"a b\"@example.org", "\"\\\"a b\\\"@example.org\"" },
        { "Alice <alice@example.org>", "\"Alice <alice@example.org>\"" },
        { "alice@exa mple.org", "\"alice@exa mple.org\"" },
        { "alice@exa_mple.org", "\"alice@exa_mple.org\"" },
        { "alice;x@example.org", "\"alice;x@example.org\"" },
        { "a\\b@example.org", "\"a\\\\b@example.org\"" },
        { "@example.org", "\"@example.org\"" },
        { "<alice@example.org", "\"<alice@example.org\"" },
        { " alice@example.org", "\" alice@example.org\"" },
        { "(c)alice@example.org", "\"(c)alice@example.org\"" },
        { "alice@", "\"alice@\"" },
        { "alice", "\"alice\"" },
        { "j\xc3\xb6rg@example.org", "\"j\xc3\xb6rg@example.org\"" },
        { "x@b\xc3\xbc" "cher.example", "\"x@b\xc3\xbc" "cher.example\"" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smime_report *r = smime_report_new();
        smime_sig_report *s = smime_report_add_sig(r);
        s->result = SMIME_RESULT_PASS;
        SET(s->identifier, cases[i].id);
        char want[512];
        snprintf(want, sizeof(want), "mx.example.org; smime=pass body.smime-identifier=%s",
                 cases[i].want);
        const char *h = format(r, SERVID);
        assert_string_equal(h, want);
        assert_single_safe_line(h);
        smime_report_free(r);
    }
}

static void test_injection_crlf_in_reason_issuer_identifier(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_FAIL;
    SET(s->reason, "bad\r\nX-Spam: no");
    SET(s->identifier, "alice@example.org\r\nBcc: eve@evil.example");
    SET(s->part, "1\n2");
    s->has_signer = 1;
    SET(s->signer.serial, "AB\r\nCD");
    SET(s->signer.issuer, "CN=CA\nAuthentication-Results: evil; smime=pass");
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org; smime=fail reason=\"bad  X-Spam: no\""
        " body.smime-identifier=\"alice@example.org  Bcc: eve@evil.example\""
        " body.smime-part=\"1 2\""
        " body.smime-serial=\"AB  CD\""
        " body.smime-issuer=\"CN=CA Authentication-Results: evil; smime=pass\"");
    assert_single_safe_line(h);
    assert_null(strchr(h, '\r'));
    assert_null(strchr(h, '\n'));
    smime_report_free(r);
}

static void test_injection_quotes_backslashes(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_FAIL;
    SET(s->reason, "\" smime=pass \\");       /* try to close the quoted-string */
    SET(s->identifier, "\"\\\"@x.org");
    s->has_signer = 1;
    SET(s->signer.serial, "1");
    SET(s->signer.issuer, "\\\"");
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org; smime=fail reason=\"\\\" smime=pass \\\\\""
        " body.smime-identifier=\"\\\"\\\\\\\"@x.org\""
        " body.smime-serial=1 body.smime-issuer=\"\\\\\\\"\"");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_injection_every_control_byte(void **state)
{
    (void)state;
    /* Each control byte 0x01..0x1f and 0x7f, alone and between text, in each of the
     * sender-controlled fields, becomes a space. */
    for (int c = 1; c <= 0x7f; c++) {
        if (c >= 0x20 && c < 0x7f)
            continue;
        char v[8];
        snprintf(v, sizeof(v), "a%cb", c);
        smime_report *r = smime_report_new();
        smime_sig_report *s = smime_report_add_sig(r);
        s->result = SMIME_RESULT_FAIL;
        SET(s->reason, v);
        SET(s->identifier, v);
        SET(s->part, v);
        s->has_signer = 1;
        SET(s->signer.serial, v);
        SET(s->signer.issuer, v);
        const char *h = format(r, SERVID);
        assert_string_equal(h,
            "mx.example.org; smime=fail reason=\"a b\" body.smime-identifier=\"a b\""
            " body.smime-part=\"a b\" body.smime-serial=\"a b\""
            " body.smime-issuer=\"a b\"");
        smime_report_free(r);

        /* And as the reason taken from a note. */
        r = smime_report_new();
        smime_report_add_note(r, "1", "encrypted", "%s", v);
        assert_string_equal(format(r, SERVID),
                            "mx.example.org; smime=none reason=\"a b\"");
        smime_report_free(r);
    }
}

static void test_injection_invalid_utf8(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_FAIL;
    /* lone 0xff, lone continuation, overlong '/', surrogate, truncated at the end */
    SET(s->reason, "x\xff" "y\x80" "z\xc0\xaf" "w\xed\xa0\x80" "v\xe2\x82");
    SET(s->identifier, "al\xffice@example.org");
    s->has_signer = 1;
    SET(s->signer.serial, "0\xc3");
    SET(s->signer.issuer, "CN=M\xc3\xbcller\xc3(");
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org; smime=fail reason=\"x?y?z??w???v??\""
        " body.smime-identifier=\"al?ice@example.org\""
        " body.smime-serial=\"0?\" body.smime-issuer=\"CN=M\xc3\xbcller?(\"");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_unicode_controls_and_separators(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_FAIL;
    /* U+0085 NEL, U+009F, U+2028, U+2029 are dropped to '?'; U+00A0, U+00E9, U+20AC,
     * U+1F600 are kept. */
    SET(s->reason, "a\xc2\x85" "b\xc2\x9f" "c\xe2\x80\xa8" "d\xe2\x80\xa9"
                   "e\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    const char *h = format(r, SERVID);
    assert_string_equal(h,
        "mx.example.org; smime=fail reason=\"a?b?c?d?e\xc2\xa0\xc3\xa9\xe2\x82\xac"
        "\xf0\x9f\x98\x80\"");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_servid_in_header(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    assert_string_equal(format(r, "mx1"), "mx1; smime=none reason=\"no S/MIME signature\"");
    /* A servid that is not a token is quoted and cleaned, never emitted raw. */
    const char *h = format(r, "mx\r\nX: y");
    assert_string_equal(h, "\"mx  X: y\"; smime=none reason=\"no S/MIME signature\"");
    assert_single_safe_line(h);
    smime_report_free(r);
}

static void test_format_appends(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_buf b;
    smime_buf_init(&b, 1024);
    assert_int_equal(smime_buf_puts(&b, SMIME_AUTHRES_NAME ": "), 0);
    assert_int_equal(smime_authres_format(r, "mx", &b), 0);
    assert_string_equal(b.data,
        "Authentication-Results: mx; smime=none reason=\"no S/MIME signature\"");
    smime_buf_free(&b);
    smime_report_free(r);
}

static void test_value_token_or_quoted(void **state)
{
    (void)state;
    check_value("abc", "abc");
    check_value("1.2.3", "1.2.3");
    check_value("a-b_c!#$%&'*+.^`{|}~", "a-b_c!#$%&'*+.^`{|}~");
    check_value("", "\"\"");
    check_value("a b", "\"a b\"");
    /* every RFC 2045 tspecial forces quoting */
    static const char tspecials[] = "()<>@,;:\\\"/[]?=";
    for (const char *p = tspecials; *p; p++) {
        char in[4] = { 'a', *p, 'b', 0 };
        char want[8];
        if (*p == '"' || *p == '\\')
            snprintf(want, sizeof(want), "\"a\\%cb\"", *p);
        else
            snprintf(want, sizeof(want), "\"a%cb\"", *p);
        check_value(in, want);
    }
    check_value("a\tb", "\"a b\"");
    check_value("\xc3\xa9", "\"\xc3\xa9\"");
    check_value("\xff", "\"?\"");
    check_value("\x7f", "\" \"");
}

static void test_value_cap(void **state)
{
    (void)state;
    smime_buf b;
    /* "a b" quoted is 5 bytes: every smaller cap fails, 5 fits. */
    for (size_t cap = 0; cap < 5; cap++) {
        smime_buf_init(&b, cap);
        assert_int_equal(smime_authres_value(&b, "a b"), -1);
        assert_int_equal(b.overflow, 1);
        smime_buf_free(&b);
    }
    smime_buf_init(&b, 5);
    assert_int_equal(smime_authres_value(&b, "a b"), 0);
    assert_string_equal(b.data, "\"a b\"");
    smime_buf_free(&b);
    /* a token: 3 bytes */
    smime_buf_init(&b, 2);
    assert_int_equal(smime_authres_value(&b, "abc"), -1);
    smime_buf_free(&b);
    /* escaped characters need two bytes each */
    smime_buf_init(&b, 4);
    assert_int_equal(smime_authres_value(&b, "\\\""), -1);   /* "\\\"" is 6 */
    smime_buf_free(&b);
}

static void test_valid_servid(void **state)
{
    (void)state;
    assert_true(smime_authres_valid_servid("mx.example.org"));
    assert_true(smime_authres_valid_servid("mx-1.example.org"));
    assert_true(smime_authres_valid_servid("a"));
    assert_false(smime_authres_valid_servid(""));
    assert_false(smime_authres_valid_servid("mx example.org"));
    assert_false(smime_authres_valid_servid(" mx.example.org"));
    assert_false(smime_authres_valid_servid("mx.example.org "));
    assert_false(smime_authres_valid_servid("mx;example.org"));
    assert_false(smime_authres_valid_servid("mx.example.org;"));
    assert_false(smime_authres_valid_servid("mx\r\n.example.org"));
    assert_false(smime_authres_valid_servid("mx\t"));
    assert_false(smime_authres_valid_servid("\"mx\""));
    assert_false(smime_authres_valid_servid("mx=1"));
    assert_false(smime_authres_valid_servid("m\xc3\xa9.example"));
    assert_false(smime_authres_valid_servid("mx\x7f"));

    char s[300];
    memset(s, 'a', sizeof(s));
    s[255] = '\0';
    assert_true(smime_authres_valid_servid(s));       /* 255 bytes */
    s[255] = 'a';
    s[256] = '\0';
    assert_false(smime_authres_valid_servid(s));      /* 256 bytes */
    s[299] = '\0';
    memset(s, 'a', 299);
    assert_false(smime_authres_valid_servid(s));
}

static void test_tiny_cap_fails(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    smime_buf b;
    smime_buf_init(&b, 8);
    assert_int_equal(smime_authres_format(r, SERVID, &b), -1);
    assert_int_equal(b.overflow, 1);
    smime_buf_free(&b);

    smime_buf_init(&b, 0);
    assert_int_equal(smime_authres_format(r, SERVID, &b), -1);
    smime_buf_free(&b);
    smime_report_free(r);
}

/* For every cap below the full length formatting fails; at the full length it
 * succeeds with the golden text. */
static void check_every_cap(const smime_report *r)
{
    smime_buf b;
    smime_buf_init(&b, 65536);
    assert_int_equal(smime_authres_format(r, SERVID, &b), 0);
    size_t full = b.len;
    char *want = smime_buf_steal(&b, NULL);
    smime_buf_free(&b);
    for (size_t cap = 0; cap < full; cap++) {
        smime_buf_init(&b, cap);
        if (smime_authres_format(r, SERVID, &b) != -1)
            fail_msg("cap %zu of %zu: format did not fail", cap, full);
        assert_true(b.len <= cap);
        smime_buf_free(&b);
    }
    smime_buf_init(&b, full);
    assert_int_equal(smime_authres_format(r, SERVID, &b), 0);
    assert_string_equal(b.data, want);
    smime_buf_free(&b);
    free(want);
}

static void test_every_cap_below_length_fails(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    check_every_cap(r);                              /* none, default reason */
    smime_report_add_note(r, "1", "encrypted", "a \"quoted\" note");
    check_every_cap(r);                              /* none, note reason */
    smime_sig_report *s = add_pass(r);
    SET(s->reason, "r\\e\"a\rson\xff");
    smime_sig_report *t = smime_report_add_sig(r);
    t->result = SMIME_RESULT_FAIL;
    SET(t->identifier, "Bob <bob@example.org>");
    SET(t->part, "2 x");
    check_every_cap(r);
    smime_report_free(r);
}

static void test_long_fields(void **state)
{
    (void)state;
    /* Fields filled to their size through smime_text_set are still one clean line. */
    char big[2048];
    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = "a\r\n\"\\\xff\xc3\xa9"[i % 8];
    big[sizeof(big) - 1] = '\0';
    smime_report *r = smime_report_new();
    smime_sig_report *s = smime_report_add_sig(r);
    s->result = SMIME_RESULT_FAIL;
    smime_text_set(s->reason, sizeof(s->reason), big, strlen(big));
    smime_text_set(s->identifier, sizeof(s->identifier), big, strlen(big));
    smime_text_set(s->part, sizeof(s->part), big, strlen(big));
    s->has_signer = 1;
    smime_text_set(s->signer.serial, sizeof(s->signer.serial), big, strlen(big));
    smime_text_set(s->signer.issuer, sizeof(s->signer.issuer), big, strlen(big));
    const char *h = format(r, SERVID);
    assert_single_safe_line(h);
    assert_non_null(strstr(h, "; smime=fail reason=\"a  \\\"\\\\?\xc3\xa9" "a  "));
    assert_non_null(strstr(h, " body.smime-issuer=\"a  \\\"\\\\?\xc3\xa9"));
    smime_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_golden),
        cmocka_unit_test(test_fail_with_reason_golden),
        cmocka_unit_test(test_minimal_signature),
        cmocka_unit_test(test_result_words),
        cmocka_unit_test(test_no_signature_default_reason),
        cmocka_unit_test(test_no_signature_first_note_is_reason),
        cmocka_unit_test(test_notes_ignored_when_signatures_present),
        cmocka_unit_test(test_note_reason_is_cleaned),
        cmocka_unit_test(test_several_signatures),
        cmocka_unit_test(test_serial_and_issuer_both_or_neither),
        cmocka_unit_test(test_identifier_bare_or_quoted),
        cmocka_unit_test(test_injection_crlf_in_reason_issuer_identifier),
        cmocka_unit_test(test_injection_quotes_backslashes),
        cmocka_unit_test(test_injection_every_control_byte),
        cmocka_unit_test(test_injection_invalid_utf8),
        cmocka_unit_test(test_unicode_controls_and_separators),
        cmocka_unit_test(test_servid_in_header),
        cmocka_unit_test(test_format_appends),
        cmocka_unit_test(test_value_token_or_quoted),
        cmocka_unit_test(test_value_cap),
        cmocka_unit_test(test_valid_servid),
        cmocka_unit_test(test_tiny_cap_fails),
        cmocka_unit_test(test_every_cap_below_length_fails),
        cmocka_unit_test(test_long_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
