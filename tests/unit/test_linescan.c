/* Unit tests of linescan: the scans agree with a byte-at-a-time reading over
 * random texts of CR, LF, '-' and letters, from every start offset, with the
 * vector blocks straddling every position (lengths 0 to 80), and over longer
 * texts where they are rare. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "smime/util/linescan.h"

/* The same scans built without their AVX2 loops (the library picks those at run
 * time where the CPU has them), so both ways are held to the naive reading on any
 * machine. */
#define LINESCAN_NO_AVX2
#define smime_scan_bare_lf sse2_scan_bare_lf
#define smime_scan_dash_line sse2_scan_dash_line
#define smime_scan_dash_line_or sse2_scan_dash_line_or
#define smime_scan_dash_line_or_counting sse2_scan_dash_line_or_counting
#include "../../src/util/linescan.c"
#undef smime_scan_bare_lf
#undef smime_scan_dash_line
#undef smime_scan_dash_line_or
#undef smime_scan_dash_line_or_counting

typedef struct scans {
    const char *(*bare_lf)(const char *, const char *, const char *);
    const char *(*dash_line)(const char *, const char *, const char *);
    const char *(*dash_line_or)(const char *, const char *, const char *, char);
    const char *(*counting)(const char *, const char *, const char *, char, size_t *);
} scans;

static const scans ways[] = {
    { smime_scan_bare_lf, smime_scan_dash_line, smime_scan_dash_line_or, smime_scan_dash_line_or_counting },
    { sse2_scan_bare_lf, sse2_scan_dash_line, sse2_scan_dash_line_or, sse2_scan_dash_line_or_counting },
};

static const char *naive_bare(const char *base, const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p == '\n' && (p == base || p[-1] != '\r'))
            return p;
    return NULL;
}

static const char *naive_dash(const char *base, const char *p, const char *end)
{
    for (; p < end; p++)
        if ((p == base || p[-1] == '\n') && end - p >= 2 && p[0] == '-' && p[1] == '-')
            return p;
    return NULL;
}

/* the fused scan: a "--" line start or the byte '=' */
static const char *naive_dash_or_eq(const char *base, const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p == '=' || ((p == base || p[-1] == '\n') && end - p >= 2 && p[0] == '-' && p[1] == '-'))
            return p;
    return NULL;
}

static size_t naive_bare_count(const char *base, const char *p, const char *end)
{
    size_t n = 0;
    for (; p < end; p++)
        n += *p == '\n' && (p == base || p[-1] != '\r');
    return n;
}

/* The counting scan as a caller runs it (on from after each place found, one
 * byte on for '=', two for a "--" line): the places are the plain scan's, and
 * the bare LFs counted on the way are all those of the text from p. */
static void check_counting(const scans *w, const char *base, const char *p, const char *end)
{
    size_t bare = 0;
    for (const char *q = p; q < end;) {
        const char *hit = w->counting(base, q, end, '=', &bare);
        assert_ptr_equal(hit, naive_dash_or_eq(base, q, end));
        if (!hit)
            break;
        q = hit + (*hit == '=' ? 1 : 2);
    }
    assert_int_equal(bare, naive_bare_count(base, p, end));
}

/* Every scan, both builds, from p against the naive reading. */
static void check_all_ways(const char *base, const char *p, const char *end)
{
    for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
        assert_ptr_equal(ways[w].bare_lf(base, p, end), naive_bare(base, p, end));
        assert_ptr_equal(ways[w].dash_line(base, p, end), naive_dash(base, p, end));
        assert_ptr_equal(ways[w].dash_line_or(base, p, end, '='), naive_dash_or_eq(base, p, end));
        check_counting(&ways[w], base, p, end);
    }
}

static void test_known(void **state)
{
    (void)state;
    const char *t = "a\r\nb\nc";
    assert_ptr_equal(smime_scan_bare_lf(t, t, t + 6), t + 4);
    assert_ptr_equal(smime_scan_bare_lf(t, t + 5, t + 6), NULL);
    const char *lf0 = "\nx";
    assert_ptr_equal(smime_scan_bare_lf(lf0, lf0, lf0 + 2), lf0);
    /* the CR before p still counts */
    assert_ptr_equal(smime_scan_bare_lf(t, t + 2, t + 6), t + 4);
    const char *m = "--a\r\nx--\r\n--b\r\n-";
    assert_ptr_equal(smime_scan_dash_line(m, m, m + strlen(m)), m);
    assert_ptr_equal(smime_scan_dash_line(m, m + 1, m + strlen(m)), m + 10);
    /* a lone '-' at the end is no delimiter */
    assert_ptr_equal(smime_scan_dash_line(m, m + 11, m + strlen(m)), NULL);
    assert_ptr_equal(smime_scan_bare_lf(m, m, m), NULL);
    assert_ptr_equal(smime_scan_dash_line(m, m, m), NULL);
}

static void test_random_against_naive(void **state)
{
    (void)state;
    static const char alphabet[] = "\r\n-a=";
    char buf[96];
    srand(19);
    for (int round = 0; round < 4000; round++) {
        size_t len = (size_t)(rand() % 81);
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rand() % 5];
        const char *end = buf + len;
        for (size_t off = 0; off <= len; off++) {
            const char *p = buf + off;
            check_all_ways(buf, p, end);
        }
    }
}

/* The same over longer texts where CR, LF and '-' are rare, as in mail bodies:
 * the 64-byte blocks without a '-' are passed over, those with one looked at. */
static void test_sparse_against_naive(void **state)
{
    (void)state;
    char buf[400];
    srand(23);
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(rand() % 400);
        for (size_t i = 0; i < len; i++) {
            int r = rand() % 40;
            buf[i] = r == 0 ? '\n' : r == 1 ? '\r' : r == 2 ? '-' : r == 3 ? '-' : r == 4 ? '=' : 'a';
        }
        const char *end = buf + len;
        for (size_t off = 0; off <= len; off += 1 + (size_t)(rand() % 7)) {
            const char *p = buf + off;
            check_all_ways(buf, p, end);
        }
    }
}

/* Longer texts with a few of the bytes looked for, or a "\n--" line start, at
 * random places: the blocks without any are skipped 64 bytes at a time, and
 * whatever follows is found where it is. */
static void test_rare_against_naive(void **state)
{
    (void)state;
    static const char *const marks[] = { "\n", "\r", "-", "=", "\r\n", "\n--", "\r\n--" };
    char buf[1600];
    srand(29);
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(rand() % (int)sizeof(buf));
        memset(buf, 'a', len);
        for (int k = rand() % 4; k > 0 && len > 3; k--) {
            const char *mk = marks[rand() % 7];
            size_t at = (size_t)rand() % (len - 3);
            memcpy(buf + at, mk, strlen(mk));
        }
        const char *end = buf + len;
        for (size_t off = 0; off <= len; off += 1 + (size_t)(rand() % 97)) {
            const char *p = buf + off;
            check_all_ways(buf, p, end);
        }
    }
}

/* Texts longer than the length from which the AVX2 loops are used (4 MiB), with
 * a few marks near the start, the middle or the end, read from a few offsets. */
static void test_long_against_naive(void **state)
{
    (void)state;
    static const char *const marks[] = { "\n", "\r", "-", "=", "\r\n", "\n--", "\r\n--" };
    size_t len = (4u << 20) + 4099;
    char *buf = malloc(len);
    assert_non_null(buf);
    srand(31);
    for (int round = 0; round < 12; round++) {
        memset(buf, 'a', len);
        for (int k = round % 4; k > 0; k--) {
            const char *mk = marks[rand() % 7];
            size_t zone = (size_t)rand() % 3, at = (size_t)rand() % 5000;
            size_t pos = zone == 0 ? at : zone == 1 ? len / 2 + at : len - 8 - at % 4000;
            memcpy(buf + pos, mk, strlen(mk));
        }
        /* bare LFs anywhere, some in blocks with nothing else: counted on the way */
        for (int k = 0; k < 16; k++)
            buf[(size_t)rand() % len] = '\n';
        const char *end = buf + len;
        const size_t offs[] = { 0, 1, 63, (size_t)rand() % 4096 };
        for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
            const char *p = buf + offs[o];
            check_all_ways(buf, p, end);
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_random_against_naive),
        cmocka_unit_test(test_sparse_against_naive),
        cmocka_unit_test(test_rare_against_naive),
        cmocka_unit_test(test_long_against_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
