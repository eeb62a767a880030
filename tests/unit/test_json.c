/* Unit tests of the streaming JSON writer (src/util/json.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>

#include "smime/util/json.h"

/* Quotes n bytes of s into a fresh buffer and compares with the expected text. */
static void check_quote(const char *s, size_t n, const char *expect)
{
    smime_buf b;
    smime_buf_init(&b, 4096);
    assert_int_equal(smime_json_quote(&b, s, n), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, expect);
    assert_int_equal(b.len, strlen(expect));
    smime_buf_free(&b);
}
#define QUOTE(lit, expect) check_quote((lit), sizeof(lit) - 1, (expect))

static void test_flat_object(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "s", "v");
    smime_json_int(&j, "i", 42);
    smime_json_bool(&j, "t", 1);
    smime_json_bool(&j, "f", 0);
    smime_json_null(&j, "n");
    smime_json_string(&j, "sn", NULL);
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data,
        "{\"s\":\"v\",\"i\":42,\"t\":true,\"f\":false,\"n\":null,\"sn\":null}");
    smime_buf_free(&b);
}

static void test_bool_any_nonzero_is_true(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_begin_array(&j, NULL);
    smime_json_bool(&j, NULL, 7);
    smime_json_bool(&j, NULL, -1);
    smime_json_bool(&j, NULL, 0);
    smime_json_end_array(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "[true,true,false]");
    smime_buf_free(&b);
}

static void test_nesting_and_commas(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_begin_array(&j, "a");
    smime_json_int(&j, NULL, 1);
    smime_json_begin_object(&j, NULL);
    smime_json_end_object(&j);
    smime_json_begin_array(&j, NULL);
    smime_json_end_array(&j);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "x", "y");
    smime_json_begin_array(&j, "z");
    smime_json_null(&j, NULL);
    smime_json_null(&j, NULL);
    smime_json_end_array(&j);
    smime_json_end_object(&j);
    smime_json_end_array(&j);
    smime_json_begin_object(&j, "o");
    smime_json_end_object(&j);
    smime_json_int(&j, "last", -3);
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data,
        "{\"a\":[1,{},[],{\"x\":\"y\",\"z\":[null,null]}],\"o\":{},\"last\":-3}");
    smime_buf_free(&b);
}

static void test_empty_containers(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 64);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "{}");
    smime_buf_reset(&b);
    smime_json_init(&j, &b);
    smime_json_begin_array(&j, NULL);
    smime_json_end_array(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "[]");
    smime_buf_free(&b);
}

static void test_top_level_scalar(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 64);
    smime_json_init(&j, &b);
    smime_json_string(&j, NULL, "x\"");
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "\"x\\\"\"");
    smime_buf_free(&b);
}

static void test_int_limits(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_begin_array(&j, NULL);
    smime_json_int(&j, NULL, 0);
    smime_json_int(&j, NULL, -1);
    smime_json_int(&j, NULL, LLONG_MAX);
    smime_json_int(&j, NULL, LLONG_MIN);
    smime_json_end_array(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "[0,-1,9223372036854775807,-9223372036854775808]");
    smime_buf_free(&b);
}

static void test_keys_are_escaped(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_int(&j, "k\"e\\y\n", 1);
    smime_json_begin_array(&j, "\x01\xff");
    smime_json_end_array(&j);
    smime_json_string(&j, "", "");
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data,
        "{\"k\\\"e\\\\y\\n\":1,\"\\u0001\\ufffd\":[],\"\":\"\"}");
    smime_buf_free(&b);
}

static void test_escape_quote_backslash_and_named_controls(void **state)
{
    (void)state;
    QUOTE("", "\"\"");
    QUOTE("plain text /:<>{}[]", "\"plain text /:<>{}[]\"");
    QUOTE("a\"b", "\"a\\\"b\"");
    QUOTE("a\\b", "\"a\\\\b\"");
    QUOTE("\\\"", "\"\\\\\\\"\"");
    QUOTE("l1\nl2\r\n\tx", "\"l1\\nl2\\r\\n\\tx\"");
}

static void test_escape_other_controls_as_u00xx(void **state)
{
    (void)state;
    QUOTE("\x01", "\"\\u0001\"");
    QUOTE("\x08\x0c", "\"\\u0008\\u000c\"");   /* \b and \f in \u form */
    QUOTE("\x0b", "\"\\u000b\"");
    QUOTE("\x1b[31m", "\"\\u001b[31m\"");
    QUOTE("\x1f", "\"\\u001f\"");
    QUOTE("\x7f", "\"\\u007f\"");
    QUOTE(" ~", "\" ~\"");                     /* 0x20 and 0x7e are plain */
    /* Every control byte gets some escape: the output has no raw control byte. */
    for (int c = 1; c < 0x20; c++) {
        char in[2] = { (char)c, 0 };
        smime_buf b;
        smime_buf_init(&b, 64);
        assert_int_equal(smime_json_quote(&b, in, 1), 0);
        for (size_t i = 0; i < b.len; i++)
            assert_true((unsigned char)b.data[i] >= 0x20);
        assert_int_equal(b.data[1], '\\');
        smime_buf_free(&b);
    }
}

static void test_embedded_nul_and_length(void **state)
{
    (void)state;
    QUOTE("a\0b", "\"a\\u0000b\"");
    check_quote("abcdef", 3, "\"abc\"");       /* only n bytes are used */
    check_quote("abc", 0, "\"\"");

    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 64);
    smime_json_init(&j, &b);
    smime_json_stringn(&j, NULL, "x\0y!", 3);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "\"x\\u0000y\"");
    smime_buf_reset(&b);
    smime_json_init(&j, &b);
    smime_json_stringn(&j, NULL, NULL, 5);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "null");
    smime_buf_free(&b);
}

static void test_valid_multibyte_utf8_kept(void **state)
{
    (void)state;
    QUOTE("\xc3\xa9", "\"\xc3\xa9\"");                       /* U+00E9 */
    QUOTE("\xc2\x80", "\"\xc2\x80\"");                       /* U+0080 */
    QUOTE("\xdf\xbf", "\"\xdf\xbf\"");                       /* U+07FF */
    QUOTE("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");               /* U+0800 */
    QUOTE("\xe2\x82\xac", "\"\xe2\x82\xac\"");               /* U+20AC */
    QUOTE("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");               /* U+FFFD */
    QUOTE("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");       /* U+1F600 */
    QUOTE("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");       /* U+10FFFF */
    QUOTE("M\xc3\xbcller \xe2\x82\xac 5", "\"M\xc3\xbcller \xe2\x82\xac 5\"");
}

static void test_invalid_utf8_becomes_fffd(void **state)
{
    (void)state;
    QUOTE("\xff", "\"\\ufffd\"");
    QUOTE("\xfe", "\"\\ufffd\"");
    QUOTE("a\x80z", "\"a\\ufffdz\"");                        /* lone continuation */
    QUOTE("\xc3", "\"\\ufffd\"");                            /* truncated at end */
    QUOTE("\xc3(", "\"\\ufffd(\"");                          /* bad continuation */
    QUOTE("\xe2\x82", "\"\\ufffd\\ufffd\"");                 /* truncated 3-byte */
    QUOTE("\xc0\xaf", "\"\\ufffd\\ufffd\"");                 /* overlong '/' */
    QUOTE("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");      /* overlong 3-byte */
    QUOTE("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");      /* surrogate U+D800 */
    QUOTE("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    QUOTE("\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* A bad byte does not swallow the valid character after it. */
    QUOTE("\xe2\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
    /* Cut in the middle of a character by the length argument. */
    check_quote("\xc3\xa9", 1, "\"\\ufffd\"");
}

static void test_string_values_escaped_in_writer(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "subject", "CN=\"Eve\"\r\n\x01\xff\xc3\xa9");
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data,
        "{\"subject\":\"CN=\\\"Eve\\\"\\r\\n\\u0001\\ufffd\xc3\xa9\"}");
    smime_buf_free(&b);
}

static void test_max_depth_allowed(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    for (int i = 0; i < SMIME_JSON_MAX_DEPTH; i++)
        smime_json_begin_array(&j, NULL);
    smime_json_int(&j, NULL, 1);
    for (int i = 0; i < SMIME_JSON_MAX_DEPTH; i++)
        smime_json_end_array(&j);
    assert_true(smime_json_ok(&j));
    char expect[2 * SMIME_JSON_MAX_DEPTH + 2];
    memset(expect, '[', SMIME_JSON_MAX_DEPTH);
    expect[SMIME_JSON_MAX_DEPTH] = '1';
    memset(expect + SMIME_JSON_MAX_DEPTH + 1, ']', SMIME_JSON_MAX_DEPTH);
    expect[2 * SMIME_JSON_MAX_DEPTH + 1] = '\0';
    assert_string_equal(b.data, expect);
    smime_buf_free(&b);
}

static void test_depth_over_max_fails(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    for (int i = 0; i < SMIME_JSON_MAX_DEPTH; i++)
        smime_json_begin_object(&j, i ? "k" : NULL);
    size_t len = b.len;
    smime_json_begin_object(&j, "deep");          /* one level too many */
    assert_false(smime_json_ok(&j));
    assert_true(b.len >= len);
    /* No opening brace was written for the refused level. */
    assert_int_not_equal(b.data[b.len - 1], '{');
    /* Closing everything does not clear the error (sticky). */
    for (int i = 0; i < SMIME_JSON_MAX_DEPTH + 1; i++)
        smime_json_end_object(&j);
    assert_false(smime_json_ok(&j));
    smime_buf_free(&b);
}

static void test_unbalanced_end_fails(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 64);
    smime_json_init(&j, &b);
    smime_json_end_object(&j);                    /* nothing open */
    assert_false(smime_json_ok(&j));
    smime_buf_free(&b);

    smime_buf_init(&b, 64);
    smime_json_init(&j, &b);
    smime_json_begin_array(&j, NULL);
    smime_json_end_array(&j);
    assert_true(smime_json_ok(&j));
    smime_json_end_array(&j);                     /* one end too many */
    assert_false(smime_json_ok(&j));
    /* Sticky: balanced work afterwards does not make it ok again. */
    smime_json_begin_array(&j, NULL);
    smime_json_end_array(&j);
    assert_false(smime_json_ok(&j));
    smime_buf_free(&b);
}

static void test_unclosed_is_not_ok(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 64);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_begin_array(&j, "a");
    smime_json_end_array(&j);
    assert_false(smime_json_ok(&j));
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "{\"a\":[]}");
    smime_buf_free(&b);
}

static void test_buffer_cap_makes_not_ok(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    /* {"key":"0123456789"} is 20 bytes. */
    smime_buf_init(&b, 19);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "key", "0123456789");
    smime_json_end_object(&j);
    assert_false(smime_json_ok(&j));
    assert_int_equal(b.overflow, 1);
    assert_true(b.len <= 19);
    smime_buf_free(&b);

    /* The same document with a cap of exactly 20 fits. */
    smime_buf_init(&b, 20);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "key", "0123456789");
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "{\"key\":\"0123456789\"}");
    smime_buf_free(&b);
}

static void test_cap_hit_on_each_value_kind(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    for (int kind = 0; kind < 5; kind++) {
        smime_buf_init(&b, 3);                    /* "[" + two bytes */
        smime_json_init(&j, &b);
        smime_json_begin_array(&j, NULL);
        switch (kind) {
        case 0: smime_json_int(&j, NULL, 12345); break;
        case 1: smime_json_bool(&j, NULL, 0); break;
        case 2: smime_json_null(&j, NULL); break;
        case 3: smime_json_string(&j, NULL, "abc"); break;
        case 4: smime_json_begin_object(&j, "long key"); break;
        }
        smime_json_end_array(&j);
        assert_false(smime_json_ok(&j));
        smime_buf_free(&b);
    }
}

/* A cap hit by a direct write into the same buffer (a caller appending raw text
 * between writer calls) also makes the document not ok, even when the writer's
 * own later writes fit. */
static void test_overflow_from_direct_write_is_not_ok(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 6);
    smime_json_init(&j, &b);
    smime_json_begin_array(&j, NULL);
    assert_int_equal(smime_buf_puts(&b, "abcdef"), -1);    /* refused whole */
    smime_json_end_array(&j);
    assert_string_equal(b.data, "[]");
    assert_int_equal(b.overflow, 1);
    assert_false(smime_json_ok(&j));
    smime_buf_free(&b);
}

static void test_failure_is_sticky_and_stops_output(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 4096);
    smime_json_init(&j, &b);
    smime_json_end_array(&j);                     /* fails */
    size_t len = b.len;
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "a", "b");
    smime_json_int(&j, "i", 1);
    smime_json_end_object(&j);
    assert_int_equal(b.len, len);                 /* nothing more written */
    assert_false(smime_json_ok(&j));
    smime_buf_free(&b);
}

static void test_quote_cap(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 5);
    assert_int_equal(smime_json_quote(&b, "abc", 3), 0);   /* "abc" = 5 bytes */
    assert_string_equal(b.data, "\"abc\"");
    smime_buf_free(&b);
    smime_buf_init(&b, 4);
    assert_int_equal(smime_json_quote(&b, "a\n", 2), -1);  /* "a\n" = 5 bytes */
    assert_int_equal(b.overflow, 1);
    smime_buf_free(&b);
    smime_buf_init(&b, 7);
    assert_int_equal(smime_json_quote(&b, "\xff", 1), -1); /* "\ufffd" = 8 bytes */
    smime_buf_free(&b);
}

static void test_quote_appends(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 64);
    assert_int_equal(smime_buf_puts(&b, "x="), 0);
    assert_int_equal(smime_json_quote(&b, "y", 1), 0);
    assert_string_equal(b.data, "x=\"y\"");
    smime_buf_free(&b);
}

/* A close must match its open, and a JSON text holds exactly one value. */
static void test_structure_mismatches_fail(void **state)
{
    (void)state;
    smime_buf b;
    smime_json j;
    smime_buf_init(&b, 1024);
    smime_json_init(&j, &b);
    smime_json_begin_object(&j, NULL);
    smime_json_end_array(&j);
    assert_false(smime_json_ok(&j));
    smime_buf_reset(&b);
    smime_json_init(&j, &b);
    smime_json_int(&j, NULL, 1);
    smime_json_int(&j, NULL, 2);
    assert_false(smime_json_ok(&j));
    smime_buf_reset(&b);
    smime_json_init(&j, &b);
    smime_json_int(&j, "key-at-top", 1);
    assert_false(smime_json_ok(&j));
    smime_buf_reset(&b);
    smime_json_init(&j, &b);
    smime_json_begin_array(&j, NULL);
    smime_json_begin_object(&j, NULL);
    smime_json_end_object(&j);
    smime_json_end_array(&j);
    assert_true(smime_json_ok(&j));
    assert_string_equal(b.data, "[{}]");
    smime_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_object),
        cmocka_unit_test(test_bool_any_nonzero_is_true),
        cmocka_unit_test(test_nesting_and_commas),
        cmocka_unit_test(test_empty_containers),
        cmocka_unit_test(test_top_level_scalar),
        cmocka_unit_test(test_int_limits),
        cmocka_unit_test(test_keys_are_escaped),
        cmocka_unit_test(test_escape_quote_backslash_and_named_controls),
        cmocka_unit_test(test_escape_other_controls_as_u00xx),
        cmocka_unit_test(test_embedded_nul_and_length),
        cmocka_unit_test(test_valid_multibyte_utf8_kept),
        cmocka_unit_test(test_invalid_utf8_becomes_fffd),
        cmocka_unit_test(test_string_values_escaped_in_writer),
        cmocka_unit_test(test_max_depth_allowed),
        cmocka_unit_test(test_depth_over_max_fails),
        cmocka_unit_test(test_unbalanced_end_fails),
        cmocka_unit_test(test_unclosed_is_not_ok),
        cmocka_unit_test(test_buffer_cap_makes_not_ok),
        cmocka_unit_test(test_cap_hit_on_each_value_kind),
        cmocka_unit_test(test_overflow_from_direct_write_is_not_ok),
        cmocka_unit_test(test_failure_is_sticky_and_stops_output),
        cmocka_unit_test(test_quote_cap),
        cmocka_unit_test(test_quote_appends),
        cmocka_unit_test(test_structure_mismatches_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
