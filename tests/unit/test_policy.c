/* Unit tests of results -> actions and SMTP replies (src/verdict/policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/verdict/policy.h"

static smime_report *report_of(const smime_result *results, size_t n)
{
    smime_report *r = smime_report_new();
    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        smime_sig_report *s = smime_report_add_sig(r);
        assert_non_null(s);
        s->result = results[i];
        snprintf(s->reason, sizeof(s->reason), "reason %zu", i);
    }
    return r;
}

static void test_action_names(void **state)
{
    (void)state;
    assert_int_equal(smime_action_parse("accept"), SMIME_ACTION_ACCEPT);
    assert_int_equal(smime_action_parse("REJECT"), SMIME_ACTION_REJECT);
    assert_int_equal(smime_action_parse("TempFail"), SMIME_ACTION_TEMPFAIL);
    assert_int_equal(smime_action_parse("quarantine"), SMIME_ACTION_QUARANTINE);
    assert_int_equal(smime_action_parse("discard"), SMIME_ACTION_DISCARD);
    assert_int_equal(smime_action_parse("bounce"), -1);
    assert_int_equal(smime_action_parse(""), -1);
    assert_string_equal(smime_action_name(SMIME_ACTION_QUARANTINE), "quarantine");
    assert_string_equal(smime_action_name((smime_action)99), "?");
}

/* The documented order: temperror > fail > policy > permerror > neutral > pass > none. */
static void test_severity_order(void **state)
{
    (void)state;
    static const smime_result order[] = {
        SMIME_RESULT_NONE, SMIME_RESULT_PASS, SMIME_RESULT_NEUTRAL, SMIME_RESULT_PERMERROR,
        SMIME_RESULT_POLICY, SMIME_RESULT_FAIL, SMIME_RESULT_TEMPERROR,
    };
    for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++)
        assert_true(smime_result_severity(order[i]) > smime_result_severity(order[i - 1]));
}

static void test_decide_most_severe(void **state)
{
    (void)state;
    smime_policy p;
    smime_policy_default(&p);
    p.on_result[SMIME_RESULT_FAIL] = SMIME_ACTION_REJECT;
    p.on_result[SMIME_RESULT_POLICY] = SMIME_ACTION_QUARANTINE;
    static const struct {
        smime_result in[4];
        size_t n;
        smime_result want;
        size_t index;
        smime_action action;
    } cases[] = {
        { { SMIME_RESULT_PASS }, 1, SMIME_RESULT_PASS, 0, SMIME_ACTION_ACCEPT },
        { { SMIME_RESULT_PASS, SMIME_RESULT_POLICY }, 2, SMIME_RESULT_POLICY, 1,
          SMIME_ACTION_QUARANTINE },
        { { SMIME_RESULT_POLICY, SMIME_RESULT_FAIL, SMIME_RESULT_PASS }, 3, SMIME_RESULT_FAIL, 1,
          SMIME_ACTION_REJECT },
        { { SMIME_RESULT_FAIL, SMIME_RESULT_TEMPERROR }, 2, SMIME_RESULT_TEMPERROR, 1,
          SMIME_ACTION_ACCEPT },
        { { SMIME_RESULT_NEUTRAL, SMIME_RESULT_PERMERROR }, 2, SMIME_RESULT_PERMERROR, 1,
          SMIME_ACTION_ACCEPT },
        { { SMIME_RESULT_PASS, SMIME_RESULT_NEUTRAL }, 2, SMIME_RESULT_NEUTRAL, 1,
          SMIME_ACTION_ACCEPT },
        /* among equals the first one decides */
        { { SMIME_RESULT_FAIL, SMIME_RESULT_FAIL }, 2, SMIME_RESULT_FAIL, 0, SMIME_ACTION_REJECT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smime_report *r = report_of(cases[i].in, cases[i].n);
        smime_decision d;
        smime_policy_decide(&p, r, &d);
        if (d.result != cases[i].want || d.sig_index != cases[i].index ||
            d.action != cases[i].action)
            fail_msg("case %zu: got %s #%zu %s", i, smime_result_name(d.result), d.sig_index,
                     smime_action_name(d.action));
        assert_ptr_equal(d.reason, r->sigs[d.sig_index].reason);
        smime_report_free(r);
    }
}

static void test_decide_none(void **state)
{
    (void)state;
    smime_policy p;
    smime_policy_default(&p);
    p.on_result[SMIME_RESULT_NONE] = SMIME_ACTION_REJECT;
    smime_report *r = smime_report_new();
    assert_non_null(r);
    smime_decision d;
    smime_policy_decide(&p, r, &d);
    assert_int_equal(d.result, SMIME_RESULT_NONE);
    assert_int_equal(d.sig_index, (size_t)-1);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_string_equal(d.reason, "no S/MIME signature");
    smime_report_free(r);
}

static void test_reply_build(void **state)
{
    (void)state;
    smime_reply r;
    assert_int_equal(smime_reply_build("550 5.7.1 S/MIME check failed: %r", "bad signature", &r), 0);
    assert_string_equal(r.rcode, "550");
    assert_string_equal(r.xcode, "5.7.1");
    assert_string_equal(r.text, "S/MIME check failed: bad signature");
    /* untrusted reason: control and 8-bit bytes become '?', '%' doubled for libmilter */
    assert_int_equal(smime_reply_build("451 4.7.1 %r (100%%)", "a\r\nb%s\xc3\xa9", &r), 0);
    assert_string_equal(r.text, "a??b%%s?? (100%%)");
    assert_int_equal(smime_reply_build("550 5.7.1", "x", &r), 0);
    assert_string_equal(r.text, "");
    assert_int_equal(smime_reply_build("250 2.0.0 ok", "x", &r), -1);
    assert_int_equal(smime_reply_build("550 5.7.1 %s", "x", &r), -1);
}

static void test_reply_cut(void **state)
{
    (void)state;
    char reason[2000];
    memset(reason, '%', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    smime_reply r;
    assert_int_equal(smime_reply_build("550 5.7.1 %r", reason, &r), 0);
    size_t n = strlen(r.text);
    assert_true(n < sizeof(r.text));
    assert_string_equal(r.text + n - 3, "...");
    /* never a lone '%' left by the cut */
    assert_int_equal((n - 3) % 2, 0);
}

static void test_reply_check(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(smime_reply_check("550 5.7.1 ok %r %%", '5', err, sizeof(err)), 0);
    assert_int_equal(smime_reply_check("451 4.7.1", '4', err, sizeof(err)), 0);
    assert_int_equal(smime_reply_check("55 5.7.1", '5', err, sizeof(err)), -1);
    assert_int_equal(smime_reply_check("550 5.7", '5', err, sizeof(err)), -1);
    assert_int_equal(smime_reply_check("550 5.7.1x", '5', err, sizeof(err)), -1);
    assert_int_equal(smime_reply_check("550 5.7.1 caf\xc3\xa9", '5', err, sizeof(err)), -1);
    assert_int_equal(smime_reply_check("550 5.7.1 %", '5', err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_names),
        cmocka_unit_test(test_severity_order),
        cmocka_unit_test(test_decide_most_severe),
        cmocka_unit_test(test_decide_none),
        cmocka_unit_test(test_reply_build),
        cmocka_unit_test(test_reply_cut),
        cmocka_unit_test(test_reply_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
