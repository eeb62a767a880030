/* Unit tests of report: result names, the signature list, notes, and cutting text
 * into fixed fields. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "smime/report/report.h"
#include "smime/util/text.h"

static void test_result_names(void **state)
{
    (void)state;
    const char *words[] = { "none", "pass", "fail", "neutral", "policy", "temperror", "permerror" };
    for (int i = 0; i < SMIME_RESULT_COUNT; i++) {
        assert_string_equal(smime_result_name((smime_result)i), words[i]);
        assert_int_equal(smime_result_parse(words[i]), i);
    }
    assert_int_equal(smime_result_parse("PASS"), -1);
    assert_int_equal(smime_result_parse(""), -1);
}

static void test_sig_list_grows(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    for (int i = 0; i < 100; i++) {
        smime_sig_report *s = smime_report_add_sig(r);
        assert_non_null(s);
        assert_int_equal(s->result, SMIME_RESULT_NONE);
        s->signer_index = (unsigned)i;
    }
    assert_int_equal(r->n_sigs, 100);
    assert_int_equal(r->sigs[99].signer_index, 99);
    smime_report_free(r);
}

static void test_notes_capped(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    for (int i = 0; i < SMIME_NOTES_MAX + 5; i++)
        smime_report_add_note(r, "1.2", "encrypted", "note %d", i);
    assert_int_equal(r->n_notes, SMIME_NOTES_MAX);
    assert_string_equal(r->notes[0].text, "note 0");
    assert_string_equal(r->notes[0].part, "1.2");
    smime_report_free(r);
}

static void test_text_set_cuts(void **state)
{
    (void)state;
    char f[12];
    smime_text_set(f, sizeof(f), "short", 5);
    assert_string_equal(f, "short");
    smime_text_set(f, sizeof(f), "exactly 11c", 11);
    assert_string_equal(f, "exactly 11c");
    smime_text_set(f, sizeof(f), "one more byte", 13);
    assert_string_equal(f, "one more...");
    /* A cut never splits a UTF-8 sequence: U+00FC is two bytes. */
    smime_text_set(f, sizeof(f), "abcdef\xc3\xbcxyz", 11);
    assert_string_equal(f, "abcdef\xc3\xbcxyz");
    smime_text_set(f, sizeof(f), "abcdefg\xc3\xbcxyz", 12);
    assert_string_equal(f, "abcdefg...");
    /* Tiny fields are cut without a mark but always terminated. */
    char t[3];
    smime_text_set(t, sizeof(t), "abcdef", 6);
    assert_string_equal(t, "ab");
    char one[1];
    smime_text_set(one, sizeof(one), "abc", 3);
    assert_string_equal(one, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_sig_list_grows),
        cmocka_unit_test(test_notes_capped),
        cmocka_unit_test(test_text_set_cuts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
