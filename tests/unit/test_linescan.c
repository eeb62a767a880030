/* Unit tests of linescan: both scans agree with a byte-at-a-time reading over
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
    static const char alphabet[] = "\r\n-a";
    char buf[96];
    srand(19);
    for (int round = 0; round < 4000; round++) {
        size_t len = (size_t)(rand() % 81);
        for (size_t i = 0; i < len; i++)
            buf[i] = alphabet[rand() % 4];
        const char *end = buf + len;
        for (size_t off = 0; off <= len; off++) {
            const char *p = buf + off;
            assert_ptr_equal(smime_scan_bare_lf(buf, p, end), naive_bare(buf, p, end));
            assert_ptr_equal(smime_scan_dash_line(buf, p, end), naive_dash(buf, p, end));
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
            buf[i] = r == 0 ? '\n' : r == 1 ? '\r' : r == 2 ? '-' : r == 3 ? '-' : 'a';
        }
        const char *end = buf + len;
        for (size_t off = 0; off <= len; off += 1 + (size_t)(rand() % 7)) {
            const char *p = buf + off;
            assert_ptr_equal(smime_scan_bare_lf(buf, p, end), naive_bare(buf, p, end));
            assert_ptr_equal(smime_scan_dash_line(buf, p, end), naive_dash(buf, p, end));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_random_against_naive),
        cmocka_unit_test(test_sparse_against_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
