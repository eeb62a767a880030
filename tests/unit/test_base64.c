/* Unit tests of the strict base64 decoder (src/util/base64.c): every text it
 * accepts decodes to what GMime's decoder (the one mail falls back to) makes of
 * it, and what it refuses is what an encoder does not write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/util/base64.h"

/* GMime's decoding of in, fed as its filter feeds it (4 KiB reads). */
static size_t gmime_decode(const char *in, size_t n, unsigned char *out)
{
    int state = 0;
    guint32 save = 0;
    size_t made = 0;
    for (size_t at = 0; at < n; at += 4096) {
        size_t step = n - at < 4096 ? n - at : 4096;
        made += g_mime_encoding_base64_decode_step((const unsigned char *)in + at, step, out + made,
                                                   &state, &save);
    }
    return made;
}

/* Decodes text both ways: 0 when ours accepts it (and then the bytes are
 * GMime's), -1 when ours refuses it. */
static int decode_both(const char *text, size_t n, unsigned flags, unsigned char **out,
                       size_t *out_len)
{
    unsigned char *ours = malloc(n / 4 * 3 + 3), *theirs = malloc(n / 4 * 3 + 3);
    assert_non_null(ours);
    assert_non_null(theirs);
    size_t len = 0;
    int rc = smime_base64_decode(text, n, flags, ours, &len);
    if (rc == 0 && !(flags & SMIME_BASE64_PEM)) {
        size_t glen = gmime_decode(text, n, theirs);
        assert_int_equal(len, glen);
        assert_memory_equal(ours, theirs, len);
    }
    free(theirs);
    if (out) {
        *out = ours;
        *out_len = len;
    } else {
        free(ours);
    }
    return rc;
}

static int decodes_to(const char *text, unsigned flags, const char *want)
{
    unsigned char *got;
    size_t len;
    if (decode_both(text, strlen(text), flags, &got, &len) < 0) {
        free(got);
        return 0;
    }
    int same = len == strlen(want) && memcmp(got, want, len) == 0;
    free(got);
    return same;
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const vec[][2] = {
        { "", "" },         { "Zg==", "f" },        { "Zm8=", "fo" },      { "Zm9v", "foo" },
        { "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        assert_true(decodes_to(vec[i][0], 0, vec[i][1]));
        assert_true(decodes_to(vec[i][0], SMIME_BASE64_PEM, vec[i][1]));
    }
}

/* Line ends anywhere, a group split across lines, padding split across lines. */
static void test_line_ends(void **state)
{
    (void)state;
    assert_true(decodes_to("Zm9v\r\nYmFy\r\n", 0, "foobar"));
    assert_true(decodes_to("Zm9vY\nmFy\n", 0, "foobar"));
    assert_true(decodes_to("Zm9vYg=\r\n=\r\n\r\n", 0, "foob"));
    assert_true(decodes_to("\r\n\r\nZg==", 0, "f"));
}

static void test_refusals(void **state)
{
    (void)state;
#define BAD(lit) { (lit), sizeof(lit) - 1 }
    static const struct { const char *text; size_t len; } bad[] = {
        BAD("Zm9 v"),        /* a space: GMime skips it, an encoder never writes it */
        BAD("Zm9v\tYmFy"),   /* a tab */
        BAD("Zm9v!YmFy"),    /* not the alphabet */
        BAD("Zg==Zm9v"),     /* data after the padding */
        BAD("Zg==\r\n="),    /* padding after the padding */
        BAD("Z==="),         /* padding where no byte can end */
        BAD("===="),
        BAD("Zm9vY"),        /* a short last group */
        BAD("Zm9vYm"),
        BAD("Zm9vYmF"),
        BAD("Zg="),          /* part of the padding */
        BAD("Zm9\0v"),       /* a NUL */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_both(bad[i].text, bad[i].len, 0, NULL, NULL), -1);
}

/* PEM's lenience: blanks between characters, a last group without its padding;
 * still no junk, no data after padding, no group of one character. */
static void test_pem_lenience(void **state)
{
    (void)state;
    assert_true(decodes_to("Zm9v YmFy", SMIME_BASE64_PEM, "foobar"));
    assert_true(decodes_to("\tZm9v\r\n  YmFy \r\n", SMIME_BASE64_PEM, "foobar"));
    assert_true(decodes_to("Zm9vYg", SMIME_BASE64_PEM, "foob"));
    assert_true(decodes_to("Zm9vYmE", SMIME_BASE64_PEM, "fooba"));
    assert_int_equal(decode_both("Zm9vY", 5, SMIME_BASE64_PEM, NULL, NULL), -1);
    assert_int_equal(decode_both("Zg==Zg==", 8, SMIME_BASE64_PEM, NULL, NULL), -1);
    assert_int_equal(decode_both("Zm9v!", 5, SMIME_BASE64_PEM, NULL, NULL), -1);
}

/* Output may overwrite its own input (PEM decodes in place). */
static void test_in_place(void **state)
{
    (void)state;
    char text[] = "Zm9v\r\nYmFy\r\nYg==";
    size_t len;
    assert_int_equal(smime_base64_decode(text, strlen(text), 0, (unsigned char *)text, &len), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(text, "foobarb", 7);
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Random contents encoded as mail clients wrap them (76, 64 or 72 characters,
 * an odd width, CRLF or LF), and then damaged one byte at a time: whatever the
 * decoder accepts, it decodes as GMime does; the undamaged texts it accepts. */
static void test_against_gmime(void **state)
{
    (void)state;
    uint32_t seed = 0x5eed1234u;
    static const unsigned widths[] = { 76, 64, 72, 57, 4 };
    static const char damage[] = { ' ', '\t', '=', '-', '\0', '*', 'A', '\r', '\n', '/' };
    unsigned accepted_damaged = 0, refused_damaged = 0;
    for (int round = 0; round < 400; round++) {
        size_t n = next_rand(&seed) % 3000;
        unsigned char *data = malloc(n + 1);
        assert_non_null(data);
        for (size_t i = 0; i < n; i++)
            data[i] = (unsigned char)next_rand(&seed);
        gchar *flat = g_base64_encode(data, n);
        size_t flat_len = strlen(flat);
        unsigned width = widths[round % 5];
        const char *eol = round % 2 ? "\r\n" : "\n";
        GString *text = g_string_new(NULL);
        for (size_t i = 0; i < flat_len; i += width) {
            g_string_append_len(text, flat + i, (gssize)(flat_len - i < width ? flat_len - i : width));
            g_string_append(text, eol);
        }
        unsigned char *got;
        size_t got_len;
        assert_int_equal(decode_both(text->str, text->len, 0, &got, &got_len), 0);
        assert_int_equal(got_len, n);
        assert_memory_equal(got, data, n);
        free(got);
        if (text->len > 0) {
            size_t at = next_rand(&seed) % text->len;
            text->str[at] = damage[next_rand(&seed) % sizeof(damage)];
            if (decode_both(text->str, text->len, 0, NULL, NULL) == 0)
                accepted_damaged++;
            else
                refused_damaged++;
        }
        g_string_free(text, TRUE);
        g_free(flat);
        free(data);
    }
    /* the damage made both kinds: the comparison above saw accepted ones */
    assert_true(accepted_damaged > 20);
    assert_true(refused_damaged > 20);
}

int main(void)
{
    g_mime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors), cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_pem_lenience),
        cmocka_unit_test(test_in_place),        cmocka_unit_test(test_against_gmime),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_mime_shutdown();
    return rc;
}
