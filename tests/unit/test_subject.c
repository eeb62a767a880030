/* Unit tests of the subject tags and the chain/validity items of the detail
 * header (src/report/headers.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/report/headers.h"
#include "smime/verdict/verify.h"     /* smime_init: GMime decodes encoded words */

static const char *const tags[] = { "[signed]", "[signature INVALID]", "[unsigned]" };

/* Retags value and checks the result and whether it changed. */
static void retag(const char *value, const char *add, const char *want, int want_changed)
{
    smime_buf b;
    smime_buf_init(&b, 4096);
    int changed = -1;
    assert_int_equal(smime_subject_retag(value, tags, 3, add, &b, &changed), 0);
    assert_string_equal(b.data ? b.data : "", want);
    assert_int_equal(changed, want_changed);
    smime_buf_free(&b);
}

static void test_tag_added(void **state)
{
    (void)state;
    retag("Quarterly report", "[signed]", "[signed] Quarterly report", 1);
    retag("", "[signed]", "[signed]", 1);
    retag("Quarterly report", NULL, "Quarterly report", 0);
    retag("Quarterly report", "", "Quarterly report", 0);
    /* folds are kept as bare LF + blank, CRs dropped */
    retag("Quarterly\r\n report", "[unsigned]", "[unsigned] Quarterly\n report", 1);
}

/* A sender cannot bring our tag along: every occurrence goes, before ours is set. */
static void test_forged_tag_removed(void **state)
{
    (void)state;
    retag("[signed] Pay this invoice", NULL, "Pay this invoice", 1);
    retag("[signed] Pay this invoice", "[unsigned]", "[unsigned] Pay this invoice", 1);
    retag("Re: [signed] Pay [signed]", "[signature INVALID]",
          "[signature INVALID] Re: Pay ", 1);
    retag("[signed][signed]x", NULL, "x", 1);
    /* a removal that would make a new tag out of the pieces */
    retag("[sig[signed]ned] Pay", NULL, "Pay", 1);
    retag("[signature [signed]INVALID] x", "[signed]", "[signed] x", 1);
    /* tags are matched byte for byte: other text stays */
    retag("[Signed] [signedx Pay", NULL, "[Signed] [signedx Pay", 0);
    /* inside an RFC 2047 encoded word */
    smime_buf b;
    smime_buf_init(&b, 4096);
    int changed = 0;
    assert_int_equal(smime_subject_retag("=?UTF-8?Q?=5Bsigned=5D_Zahlung?=", tags, 3, "[unsigned]",
                                         &b, &changed), 0);
    assert_int_equal(changed, 1);
    assert_null(strstr(b.data, "signed]_"));
    assert_int_equal(strncmp(b.data, "[unsigned] ", 11), 0);
    assert_non_null(strstr(b.data, "Zahlung"));
    assert_null(strstr(b.data + 11, "[signed]"));
    smime_buf_free(&b);
    /* encoded words without a tag are left as they are */
    retag("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "[signed]", "[signed] =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", 1);
}

/* Linear work on a hostile subject: 60k bytes of nested and repeated tags. */
static void test_hostile_subject(void **state)
{
    (void)state;
    size_t n = 60000;
    char *v = malloc(n + 1);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = "[sig"[i % 4];
    v[n] = '\0';
    smime_buf b;
    smime_buf_init(&b, n + 128);
    int changed = 0;
    assert_int_equal(smime_subject_retag(v, tags, 3, "[signed]", &b, &changed), 0);
    assert_int_equal(strncmp(b.data, "[signed] ", 9), 0);
    assert_null(strstr(b.data + 9, "[signed]"));
    smime_buf_free(&b);
    /* the cap of the output is honoured */
    smime_buf_init(&b, 16);
    assert_int_equal(smime_subject_retag(v, tags, 3, "[signed]", &b, &changed), -1);
    smime_buf_free(&b);
    free(v);
}

static void test_tag_valid(void **state)
{
    (void)state;
    assert_true(smime_subject_tag_valid("[signed]"));
    assert_true(smime_subject_tag_valid("[signature INVALID]"));
    assert_false(smime_subject_tag_valid(""));
    assert_false(smime_subject_tag_valid(" [x]"));
    assert_false(smime_subject_tag_valid("[x] "));
    assert_false(smime_subject_tag_valid("[x]\n"));
    assert_false(smime_subject_tag_valid("[gepr\xc3\xbc" "ft]"));
    char big[SMIME_SUBJECT_TAG_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(smime_subject_tag_valid(big));
    big[SMIME_SUBJECT_TAG_MAX] = '\0';
    assert_true(smime_subject_tag_valid(big));
}

static void test_detail_chain(void **state)
{
    (void)state;
    smime_sig_report s;
    memset(&s, 0, sizeof(s));
    s.result = SMIME_RESULT_PASS;
    snprintf(s.part, sizeof(s.part), "1");
    s.has_signer = 1;
    snprintf(s.signer.subject, sizeof(s.signer.subject), "CN=ceo@partner.example");
    snprintf(s.signer.issuer, sizeof(s.signer.issuer), "CN=Example CA");
    snprintf(s.signer.serial, sizeof(s.signer.serial), "01");
    s.signer.not_before = 1735689600;   /* 2025-01-01 */
    s.signer.not_after = 1767225599;    /* 2025-12-31T23:59:59Z */
    s.chain_len = 2;
    snprintf(s.chain[0].subject, sizeof(s.chain[0].subject), "CN=Example CA");
    snprintf(s.chain[0].sha256, sizeof(s.chain[0].sha256), "%064d", 1);
    snprintf(s.chain[1].subject, sizeof(s.chain[1].subject), "CN=Example Root");
    smime_buf b;
    smime_buf_init(&b, 8192);
    assert_int_equal(smime_detail_format(&s, &b), 0);
    assert_non_null(strstr(b.data, ";\n\tvalid-from=\"2025-01-01T00:00:00Z\"; "
                                   "valid-to=\"2025-12-31T23:59:59Z\""));
    assert_non_null(strstr(b.data, ";\n\tchain1=\"CN=Example CA\"; chain1-sha256="
                                   "0000000000000000000000000000000000000000000000000000000000000001"));
    assert_non_null(strstr(b.data, ";\n\tchain2=\"CN=Example Root\""));
    assert_null(strstr(b.data, "chain2-sha256"));
    smime_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_added),
        cmocka_unit_test(test_forged_tag_removed),
        cmocka_unit_test(test_hostile_subject),
        cmocka_unit_test(test_tag_valid),
        cmocka_unit_test(test_detail_chain),
    };
    if (smime_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
