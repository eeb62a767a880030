/* Unit tests of the UTF-8 and ASCII case helpers (src/util/text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smime/util/text.h"

#define U(lit) ((const unsigned char *)(lit)), (sizeof(lit) - 1)

/* Decodes the whole literal as one sequence: expects length len and code point cp. */
static void check_decode(const char *s, size_t n, size_t len, uint32_t cp)
{
    uint32_t got = 0xDEADBEEF;
    assert_int_equal(smime_utf8_decode((const unsigned char *)s, n, &got), len);
    assert_int_equal(got, cp);
}

static void check_reject(const char *s, size_t n)
{
    uint32_t got = 0;
    assert_int_equal(smime_utf8_decode((const unsigned char *)s, n, &got), 0);
    assert_false(smime_utf8_valid((const unsigned char *)s, n));
}

#define DECODE(lit, len, cp) check_decode((lit), sizeof(lit) - 1, (len), (cp))
#define REJECT(lit) check_reject((lit), sizeof(lit) - 1)

static void test_decode_one_byte(void **state)
{
    (void)state;
    DECODE("A", 1, 0x41);
    DECODE("\x7f", 1, 0x7f);
    DECODE("\x01", 1, 0x01);
    check_decode("\0", 1, 1, 0);               /* NUL is a valid code point */
    /* Only the first character is decoded. */
    check_decode("ab", 2, 1, 'a');
}

static void test_decode_two_bytes(void **state)
{
    (void)state;
    DECODE("\xc2\x80", 2, 0x80);               /* smallest two-byte */
    DECODE("\xc3\xa9", 2, 0xe9);
    DECODE("\xdf\xbf", 2, 0x7ff);              /* largest two-byte */
    check_decode("\xc3\xa9z", 3, 2, 0xe9);     /* trailing bytes ignored */
}

static void test_decode_three_bytes(void **state)
{
    (void)state;
    DECODE("\xe0\xa0\x80", 3, 0x800);          /* smallest three-byte */
    DECODE("\xe2\x82\xac", 3, 0x20ac);
    DECODE("\xed\x9f\xbf", 3, 0xd7ff);         /* just below the surrogates */
    DECODE("\xee\x80\x80", 3, 0xe000);         /* just above the surrogates */
    DECODE("\xef\xbf\xbd", 3, 0xfffd);
    DECODE("\xef\xbf\xbf", 3, 0xffff);
}

static void test_decode_four_bytes(void **state)
{
    (void)state;
    DECODE("\xf0\x90\x80\x80", 4, 0x10000);    /* smallest four-byte */
    DECODE("\xf0\x9f\x98\x80", 4, 0x1f600);
    DECODE("\xf4\x8f\xbf\xbf", 4, 0x10ffff);   /* largest code point */
}

static void test_reject_overlong(void **state)
{
    (void)state;
    REJECT("\xc0\x80");                        /* NUL */
    REJECT("\xc0\xaf");                        /* '/' */
    REJECT("\xc1\xbf");                        /* U+007F */
    REJECT("\xe0\x80\x80");
    REJECT("\xe0\x9f\xbf");                    /* U+07FF in three bytes */
    REJECT("\xf0\x80\x80\x80");
    REJECT("\xf0\x8f\xbf\xbf");                /* U+FFFF in four bytes */
}

static void test_reject_surrogates(void **state)
{
    (void)state;
    REJECT("\xed\xa0\x80");                    /* U+D800 */
    REJECT("\xed\xad\xbf");                    /* U+DB7F */
    REJECT("\xed\xb0\x80");                    /* U+DC00 */
    REJECT("\xed\xbf\xbf");                    /* U+DFFF */
    REJECT("\xed\xa0\xbd\xed\xb8\x80");        /* CESU-8 surrogate pair */
}

static void test_reject_above_max(void **state)
{
    (void)state;
    REJECT("\xf4\x90\x80\x80");                /* U+110000 */
    REJECT("\xf5\x80\x80\x80");
    REJECT("\xf7\xbf\xbf\xbf");                /* U+1FFFFF */
    REJECT("\xf8\x88\x80\x80\x80");            /* five-byte form */
    REJECT("\xfc\x84\x80\x80\x80\x80");        /* six-byte form */
    REJECT("\xfe");
    REJECT("\xff");
}

static void test_reject_truncated_and_bad_continuation(void **state)
{
    (void)state;
    REJECT("\xc3");
    REJECT("\xe2\x82");
    REJECT("\xe2");
    REJECT("\xf0\x9f\x98");
    REJECT("\xf0\x9f");
    REJECT("\xf0");
    REJECT("\x80");                            /* lone continuation bytes */
    REJECT("\xbf");
    REJECT("\xc3\x28");                        /* continuation replaced by ASCII */
    REJECT("\xc3\xc3");
    REJECT("\xe2\x28\xac");
    REJECT("\xe2\x82\x28");
    REJECT("\xf0\x9f\x98\x28");
    /* n shorter than the sequence, even when the bytes follow in memory. */
    uint32_t cp;
    assert_int_equal(smime_utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
    assert_int_equal(smime_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 3, &cp), 0);
    assert_int_equal(smime_utf8_decode((const unsigned char *)"A", 0, &cp), 0);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(smime_utf8_valid(U("")));
    assert_true(smime_utf8_valid(U("plain ascii\r\n")));
    assert_true(smime_utf8_valid(U("M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x98\x80!")));
    assert_true(smime_utf8_valid(U("a\0b")));
    assert_false(smime_utf8_valid(U("M\xc3\xbcller \xe2\x82 x")));
    assert_false(smime_utf8_valid(U("good\xff")));
    assert_false(smime_utf8_valid(U("\xc3\xa9\xc3")));        /* truncated at the end */
    /* Only n bytes are examined. */
    assert_true(smime_utf8_valid((const unsigned char *)"ab\xff", 2));
    assert_false(smime_utf8_valid((const unsigned char *)"\xc3\xa9", 1));
}

static void test_tolower(void **state)
{
    (void)state;
    assert_int_equal(smime_ascii_tolower('A'), 'a');
    assert_int_equal(smime_ascii_tolower('Z'), 'z');
    assert_int_equal(smime_ascii_tolower('M'), 'm');
    assert_int_equal(smime_ascii_tolower('a'), 'a');
    assert_int_equal(smime_ascii_tolower('z'), 'z');
    assert_int_equal(smime_ascii_tolower('@'), '@');   /* just below 'A' */
    assert_int_equal(smime_ascii_tolower('['), '[');   /* just above 'Z' */
    assert_int_equal(smime_ascii_tolower('0'), '0');
    /* No locale: Latin-1 capitals are not changed. */
    assert_int_equal(smime_ascii_tolower(0xc9), 0xc9);
    assert_int_equal(smime_ascii_tolower(0xde), 0xde);
    assert_int_equal(smime_ascii_tolower(-1), -1);
    for (int c = 0; c < 256; c++) {
        int want = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        assert_int_equal(smime_ascii_tolower(c), want);
    }
}

static void test_casecmp(void **state)
{
    (void)state;
    assert_int_equal(smime_ascii_casecmp_n("Hello", 5, "hELLO", 5), 0);
    assert_int_equal(smime_ascii_casecmp_n("", 0, "", 0), 0);
    assert_int_equal(smime_ascii_casecmp_n("X-Smime", 7, "x-SMIME", 7), 0);
    assert_true(smime_ascii_casecmp_n("abc", 3, "abd", 3) < 0);
    assert_true(smime_ascii_casecmp_n("ABD", 3, "abc", 3) > 0);
    assert_true(smime_ascii_casecmp_n("abc", 3, "ABD", 3) < 0);
    /* Prefix: the shorter one sorts first. */
    assert_true(smime_ascii_casecmp_n("ab", 2, "ABC", 3) < 0);
    assert_true(smime_ascii_casecmp_n("ABC", 3, "ab", 2) > 0);
    assert_true(smime_ascii_casecmp_n("", 0, "a", 1) < 0);
    /* Only the given lengths count. */
    assert_int_equal(smime_ascii_casecmp_n("abcX", 3, "ABCy", 3), 0);
    assert_true(smime_ascii_casecmp_n("abcX", 4, "ABCy", 4) < 0);
    /* Embedded NUL bytes are compared like other bytes. */
    assert_int_equal(smime_ascii_casecmp_n("a\0B", 3, "A\0b", 3), 0);
    assert_true(smime_ascii_casecmp_n("a\0a", 3, "a\0b", 3) < 0);
    /* Non-letters around the letter range are not folded: '[' (0x5b) vs '{' (0x7b). */
    assert_true(smime_ascii_casecmp_n("[", 1, "{", 1) != 0);
    assert_true(smime_ascii_casecmp_n("@", 1, "`", 1) != 0);
    /* No locale folding of non-ASCII bytes: É (C3 89) vs é (C3 A9). */
    assert_true(smime_ascii_casecmp_n("\xc3\x89", 2, "\xc3\xa9", 2) != 0);
    /* Bytes >= 0x80 compare as unsigned, above ASCII. */
    assert_true(smime_ascii_casecmp_n("\xff", 1, "a", 1) > 0);
    assert_true(smime_ascii_casecmp_n("a", 1, "\x80", 1) < 0);
}

static void test_hex(void **state)
{
    (void)state;
    const unsigned char b[] = { 0x00, 0x00, 0xAB, 0x01 };
    char out[16];
    smime_hex(b, sizeof(b), out, sizeof(out));
    assert_string_equal(out, "0000AB01");
    smime_integer_hex(b, sizeof(b), out, sizeof(out));
    assert_string_equal(out, "AB01");
    smime_integer_hex(b, 1, out, sizeof(out));
    assert_string_equal(out, "00");          /* zero keeps one byte */
    smime_hex(b, sizeof(b), out, 5);
    assert_string_equal(out, "0000");        /* cut to fit, whole bytes only */
}

/* Lines of a settings file: LF-separated, the last without LF, a too-long line and
 * a NUL refused with the source and line number. */
static void test_next_line(void **state)
{
    (void)state;
    static const char text[] = "a b\n\nlast";
    char line[8], err[128];
    size_t pos = 0;
    unsigned no = 0;
    assert_int_equal(smime_text_next_line(text, sizeof(text) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), 1);
    assert_string_equal(line, "a b");
    assert_int_equal(smime_text_next_line(text, sizeof(text) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), 1);
    assert_string_equal(line, "");
    assert_int_equal(smime_text_next_line(text, sizeof(text) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), 1);
    assert_string_equal(line, "last");
    assert_int_equal(no, 3);
    assert_int_equal(smime_text_next_line(text, sizeof(text) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), 0);

    static const char longer[] = "ok\n12345678\n";
    pos = 0;
    no = 0;
    assert_int_equal(smime_text_next_line(longer, sizeof(longer) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), 1);
    assert_int_equal(smime_text_next_line(longer, sizeof(longer) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), -1);
    assert_string_equal(err, "f:2: line longer than 7 bytes");

    static const char nul[] = "x\0y\n";
    pos = 0;
    no = 0;
    assert_int_equal(smime_text_next_line(nul, sizeof(nul) - 1, &pos, &no, line, sizeof(line), "f", err, sizeof(err)), -1);
    assert_string_equal(err, "f:1: NUL byte in line");
}

static int count_bytes(const char *text, size_t len, const char *source, void *out, char *err,
                       size_t errlen)
{
    (void)text;
    (void)source;
    (void)err;
    (void)errlen;
    *(size_t *)out = len;
    return 0;
}

/* A settings file is read whole up to its cap, and a longer or missing one is an
 * error naming the file. */
static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_text.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    char err[256];
    size_t got = 0;
    assert_int_equal(smime_text_load_file(path, 10, count_bytes, &got, err, sizeof(err)), 0);
    assert_int_equal(got, 10);
    assert_int_equal(smime_text_load_file(path, 9, count_bytes, &got, err, sizeof(err)), -1);
    char want[300];
    snprintf(want, sizeof(want), "%s: larger than 9 bytes", path);
    assert_string_equal(err, want);
    unlink(path);
    assert_int_equal(smime_text_load_file(path, 10, count_bytes, &got, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_next_line),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_decode_one_byte),
        cmocka_unit_test(test_decode_two_bytes),
        cmocka_unit_test(test_decode_three_bytes),
        cmocka_unit_test(test_decode_four_bytes),
        cmocka_unit_test(test_reject_overlong),
        cmocka_unit_test(test_reject_surrogates),
        cmocka_unit_test(test_reject_above_max),
        cmocka_unit_test(test_reject_truncated_and_bad_continuation),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_tolower),
        cmocka_unit_test(test_casecmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
