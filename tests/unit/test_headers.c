/* Unit tests of forged-header detection, folding and detail headers (src/report/headers.c)
 * and of the PeerList parser (milter/peerlist.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/report/headers.h"
#include "smime/lint/lint.h"
#include "../../milter/peerlist.c"

static void test_claims_servid(void **state)
{
    (void)state;
    const char *id = "mx.example.org";
    assert_true(smime_header_claims_servid("mx.example.org; smime=pass", id));
    assert_true(smime_header_claims_servid("MX.Example.ORG; none", id));
    assert_true(smime_header_claims_servid(" mx.example.org 1; smime=pass", id));
    assert_true(smime_header_claims_servid("(forged (nested)) mx.example.org;", id));
    assert_true(smime_header_claims_servid("\n\tmx.example.org;\n\tsmime=pass", id));
    assert_true(smime_header_claims_servid("\"mx.example.org\"; smime=pass", id));
    assert_true(smime_header_claims_servid("mx.example.org(c); smime=pass", id));
    assert_false(smime_header_claims_servid("mx.example.org.evil; smime=pass", id));
    assert_false(smime_header_claims_servid("other.example.org; mx.example.org", id));
    assert_false(smime_header_claims_servid("", id));
    assert_false(smime_header_claims_servid("(unterminated mx.example.org;", id));
}

static void test_is_detail(void **state)
{
    (void)state;
    assert_true(smime_header_is_detail("X-SMIME-Signature"));
    assert_true(smime_header_is_detail("x-smime-anything"));
    assert_false(smime_header_is_detail("X-SMIM"));
    assert_false(smime_header_is_detail("Authentication-Results"));
}

static void test_fold(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 4096);
    assert_int_equal(smime_authres_fold("mx; smime=pass reason=\"a; b \\\"; c\"; smime=fail", &b), 0);
    assert_string_equal(b.data, "mx;\n\tsmime=pass reason=\"a; b \\\"; c\";\n\tsmime=fail");
    smime_buf_free(&b);
}

static void test_detail(void **state)
{
    (void)state;
    smime_sig_report s;
    memset(&s, 0, sizeof(s));
    s.result = SMIME_RESULT_PASS;
    snprintf(s.part, sizeof(s.part), "1.2");
    s.has_signer = 1;
    /* a subject with a line break and far too long: cut, cleaned, one line each */
    memset(s.signer.subject, 'A', sizeof(s.signer.subject) - 1);
    memcpy(s.signer.subject, "CN=x\r\nBcc: y", 12);
    snprintf(s.signer.issuer, sizeof(s.signer.issuer), "CN=Sample CA");
    snprintf(s.signer.serial, sizeof(s.signer.serial), "0A1B");
    snprintf(s.signer.key, sizeof(s.signer.key), "RSA-2048");
    snprintf(s.digest_alg, sizeof(s.digest_alg), "SHA256");
    smime_buf b;
    smime_buf_init(&b, 8192);
    assert_int_equal(smime_detail_format(&s, &b), 0);
    assert_non_null(strstr(b.data, "part=1.2; result=pass;\n\tsigner=\"CN=x  Bcc: y"));
    assert_non_null(strstr(b.data, "...\"; serial=0A1B;\n\tissuer=\"CN=Sample CA\"; key=RSA-2048"));
    /* the only control characters are the folds, and no line is long */
    size_t line = 0;
    for (const char *p = b.data; *p; p++) {
        if (*p == '\n') {
            assert_int_equal(p[1], '\t');
            line = 0;
            continue;
        }
        assert_true((unsigned char)*p >= 0x20 || *p == '\t');
        assert_true(++line < 300);
    }
    smime_buf_free(&b);
}

static void test_detail_lint(void **state)
{
    (void)state;
    smime_lint_finding f[3];
    memset(f, 0, sizeof(f));
    f[0].id = "KU-04";
    f[0].severity = SMIME_SEV_ERROR;
    f[1].id = "SUBJ-01";
    f[1].severity = SMIME_SEV_WARNING;
    f[2].id = "VAL-02";
    f[2].severity = SMIME_SEV_ERROR;
    smime_lint_result l;
    memset(&l, 0, sizeof(l));
    l.type = SMIME_TYPE_ORGANIZATION;
    l.generation = SMIME_GEN_STRICT;
    l.nfindings = 3;
    l.findings = f;
    smime_sig_report s;
    memset(&s, 0, sizeof(s));
    s.result = SMIME_RESULT_PASS;
    snprintf(s.part, sizeof(s.part), "1");
    s.lint = &l;
    smime_buf b;
    smime_buf_init(&b, 8192);
    assert_int_equal(smime_detail_format(&s, &b), 0);
    assert_string_equal(b.data, "part=1; result=pass;\n\tprofile=organization-strict; "
                                "findings=\"2 errors: KU-04 VAL-02; 1 warning\"");
    smime_buf_free(&b);
}

static void test_peerlist(void **state)
{
    (void)state;
    static const char text[] = "# trusted relays\n"
                               "127.0.0.1\n"
                               "  10.1.0.0/16   # office\n"
                               "2001:db8::/32\r\n"
                               "\n";
    smime_peerlist l;
    char err[256];
    assert_int_equal(smime_peerlist_parse(text, sizeof(text) - 1, "peers", &l, err, sizeof(err)), 0);
    assert_int_equal(l.n, 3);
    unsigned char a4[4] = { 10, 1, 200, 3 }, b4[4] = { 10, 2, 0, 1 }, lo[4] = { 127, 0, 0, 1 };
    assert_true(smime_peerlist_match(&l, 4, a4));
    assert_false(smime_peerlist_match(&l, 4, b4));
    assert_true(smime_peerlist_match(&l, 4, lo));
    unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 9 };
    assert_true(smime_peerlist_match(&l, 6, mapped));
    unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3 };
    assert_true(smime_peerlist_match(&l, 6, v6));
    v6[3] = 0xb9;
    assert_false(smime_peerlist_match(&l, 6, v6));
    smime_peerlist_free(&l);

    static const char *const bad[] = { "mx.example.org\n", "10.0.0.0/33\n", "1.2.3.4/\n",
                                       "::1/129\n", "1.2.3.4 5.6.7.8\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(smime_peerlist_parse(bad[i], strlen(bad[i]), "peers", &l, err,
                                              sizeof(err)), -1);
        assert_non_null(strstr(err, "peers:1:"));
        smime_peerlist_free(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims_servid),
        cmocka_unit_test(test_is_detail),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_detail_lint),
        cmocka_unit_test(test_peerlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
