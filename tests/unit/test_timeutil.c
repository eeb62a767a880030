/* Unit tests of UTC time parsing and formatting (src/util/timeutil.c).  Expected epoch
 * values were taken from `date -u -d ... +%s`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smime/util/timeutil.h"

static void expect_parse(const char *s, int64_t want)
{
    int64_t t = -42;
    if (smime_time_parse(s, &t) != 0)
        fail_msg("smime_time_parse(\"%s\") failed", s);
    if (t != want)
        fail_msg("smime_time_parse(\"%s\") = %lld, want %lld", s, (long long)t,
                 (long long)want);
}

static void expect_reject(const char *s)
{
    int64_t t = -42;
    if (smime_time_parse(s, &t) != -1)
        fail_msg("smime_time_parse(\"%s\") accepted (%lld)", s, (long long)t);
    if (t != -42)
        fail_msg("smime_time_parse(\"%s\") wrote *out on failure", s);
}

static void test_date_only(void **state)
{
    (void)state;
    expect_parse("2026-06-01", 1780272000);
    expect_parse("1970-01-01", 0);
    expect_parse("2024-03-01", 1709251200);
    expect_parse("2023-03-01", 1677628800);
    expect_parse("1950-01-01", -631152000);        /* lowest accepted year */
}

static void test_date_time_t_and_space(void **state)
{
    (void)state;
    expect_parse("2026-06-01T00:00:00Z", 1780272000);
    expect_parse("2026-06-01 00:00:00Z", 1780272000);
    expect_parse("2000-03-01T12:34:56Z", 951914096);
    expect_parse("2000-03-01 12:34:56Z", 951914096);
    expect_parse("1969-12-31T23:59:59Z", -1);
    expect_parse("1999-12-31T23:59:59Z", 946684799);
    expect_parse("2038-01-19T03:14:08Z", 2147483648LL);   /* past 32-bit time_t */
    expect_parse("2026-12-31T23:59:59Z", 1798761599);
    expect_parse("9999-12-31T23:59:59Z", 253402300799LL); /* highest accepted */
}

static void test_at_seconds(void **state)
{
    (void)state;
    expect_parse("@0", 0);
    expect_parse("@1780272000", 1780272000);
    expect_parse("@-1", -1);
    expect_parse("@253402300800", 253402300800LL);
    expect_reject("@");
    expect_reject("@x");
    expect_reject("@12x");
    expect_reject("@12 ");
    expect_reject("@1.5");
    expect_reject("1780272000");                   /* needs the @ */
}

static void test_leap_years(void **state)
{
    (void)state;
    expect_parse("2024-02-29", 1709164800);
    expect_parse("2024-02-29T12:00:00Z", 1709208000);
    expect_parse("2000-02-29", 951782400);          /* divisible by 400 */
    expect_reject("2023-02-29");
    expect_reject("2023-02-29T00:00:00Z");
    expect_reject("2100-02-29");                    /* divisible by 100, not 400 */
    expect_parse("2100-02-28", 4107456000LL);
    expect_parse("2100-03-01", 4107542400LL);
    expect_reject("2024-02-30");
}

static void test_month_lengths(void **state)
{
    (void)state;
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    char s[48];
    for (int m = 1; m <= 12; m++) {
        int64_t a, b;
        snprintf(s, sizeof(s), "2023-%02d-%02d", m, days[m - 1]);
        expect_parse(s, smime_time_from_utc(2023, m, days[m - 1], 0, 0, 0));
        assert_int_equal(smime_time_parse(s, &a), 0);
        snprintf(s, sizeof(s), "2023-%02d-01", m);
        assert_int_equal(smime_time_parse(s, &b), 0);
        assert_int_equal(a - b, (int64_t)(days[m - 1] - 1) * 86400);
        snprintf(s, sizeof(s), "2023-%02d-%02d", m, days[m - 1] + 1);
        expect_reject(s);
    }
}

static void test_bad_fields_rejected(void **state)
{
    (void)state;
    expect_reject("2024-00-10");
    expect_reject("2024-13-10");
    expect_reject("2024-01-00");
    expect_reject("2024-01-32");
    expect_reject("2024-04-31");
    expect_reject("1949-12-31");                    /* before 1950 */
    expect_reject("1949-12-31T23:59:59Z");
    expect_reject("2024-01-01T24:00:00Z");
    expect_reject("2024-01-01T23:60:00Z");
    expect_reject("2024-01-01T23:59:61Z");
    expect_reject("2024-01-01T-1:00:00Z");
}

static void test_bad_forms_rejected(void **state)
{
    (void)state;
    expect_reject("");
    expect_reject("2024");
    expect_reject("2024-01");
    expect_reject("2024-1-1");
    expect_reject("2024/01/01");
    expect_reject("01-01-2024");
    expect_reject("2024-01-01 ");
    expect_reject(" 2024-01-01");
    expect_reject("2024-01-01T");
    expect_reject("2024-01-01T12:00:00");           /* no Z */
    expect_reject("2024-01-01T12:00:00z");
    expect_reject("2024-01-01t12:00:00Z");
    expect_reject("2024-01-01X12:00:00Z");
    expect_reject("2024-01-01T12:00:00+00:00");
    expect_reject("2024-01-01T12:00:00.5Z");
    expect_reject("2024-01-01T12:00Z");
    expect_reject("2024-01-01T12-00-00Z");
    expect_reject("2024-01-01T12:00:00ZZ");
    expect_reject("abcd-ef-gh");
    expect_reject("abcd-ef-ghTij:kl:mnZ");
    expect_reject("+024-01-01");
}

/* Forms that sscanf's %d lets through: signs and blanks inside fields, and in the
 * long form digits in the wrong place (the trailing ones are silently dropped).
 * The header promises exactly "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM:SSZ". */
static void test_noncanonical_fields_rejected(void **state)
{
    (void)state;
    expect_reject("2024-+2-01");                    /* accepted as 2024-02-01 */
    expect_reject("2024- 2-01");                    /* accepted as 2024-02-01 */
    expect_reject("2024-02- 1");                    /* accepted as 2024-02-01 */
    expect_reject("2024-2-029T12:00:00Z");          /* accepted as 2024-02-02T12:00:00Z */
    expect_reject("2024-02-29T1:2:3456Z");          /* accepted as 2024-02-29T01:02:34Z */
    expect_reject("2024-02-29T+1:00:00Z");          /* accepted as 01:00:00 */
    expect_reject("2024-02-29T12:00:0 Z");          /* accepted as 12:00:00 */
    expect_reject("@ 5");                           /* strtoll skips blanks */
    expect_reject("@99999999999999999999");         /* out of range, clamped */
}

static void test_from_utc(void **state)
{
    (void)state;
    assert_int_equal(smime_time_from_utc(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(smime_time_from_utc(2026, 6, 1, 0, 0, 0), 1780272000);
    assert_int_equal(smime_time_from_utc(2000, 3, 1, 12, 34, 56), 951914096);
    assert_int_equal(smime_time_from_utc(1969, 12, 31, 23, 59, 59), -1);
    assert_int_equal(smime_time_from_utc(1600, 2, 29, 0, 0, 0), -11670998400LL);
    assert_int_equal(smime_time_from_utc(1600, 3, 1, 0, 0, 0), -11670912000LL);
    assert_int_equal(smime_time_from_utc(1, 1, 1, 0, 0, 0), -62135596800LL);
    assert_int_equal(smime_time_from_utc(9999, 12, 31, 23, 59, 59), 253402300799LL);
}

static void test_from_utc_matches_timegm_daily(void **state)
{
    (void)state;
    /* Every day of 1950..2100 at 13:07:09 against the C library (UTC). */
    int64_t prev = smime_time_from_utc(1949, 12, 31, 13, 7, 9);
    for (int y = 1950; y <= 2100; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 31; d++) {
                struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
                                 .tm_hour = 13, .tm_min = 7, .tm_sec = 9 };
                time_t ref = timegm(&tm);
                if (tm.tm_mday != d)
                    break;                          /* normalised: past month end */
                int64_t t = smime_time_from_utc(y, m, d, 13, 7, 9);
                assert_int_equal(t, (int64_t)ref);
                assert_int_equal(t - prev, 86400);
                prev = t;
            }
        }
    }
}

static void check_format(int64_t t, const char *want)
{
    char out[21];
    memset(out, '#', sizeof(out));
    smime_time_format(t, out, sizeof(out));
    assert_memory_equal(out, want, strlen(want) + 1);
}

static void test_format(void **state)
{
    (void)state;
    check_format(0, "1970-01-01T00:00:00Z");
    check_format(-1, "1969-12-31T23:59:59Z");
    check_format(1780272000, "2026-06-01T00:00:00Z");
    check_format(951914096, "2000-03-01T12:34:56Z");
    check_format(1709208000, "2024-02-29T12:00:00Z");
    check_format(2147483648LL, "2038-01-19T03:14:08Z");
    check_format(-631152000, "1950-01-01T00:00:00Z");
    check_format(253402300799LL, "9999-12-31T23:59:59Z");
}

static void test_format_does_not_depend_on_tz(void **state)
{
    (void)state;
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", "America/New_York", 1);
    tzset();
    check_format(1780272000, "2026-06-01T00:00:00Z");
    expect_parse("2026-06-01", 1780272000);
    setenv("TZ", "Asia/Kolkata", 1);
    tzset();
    check_format(951914096, "2000-03-01T12:34:56Z");
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void test_format_parse_round_trip(void **state)
{
    (void)state;
    /* Various instants 1950..9999, including leap days and the end of a day. */
    static const int64_t samples[] = {
        -631152000, -1, 0, 1, 59, 60, 86399, 86400, 951782400, 951868799,
        1709164800, 1709251199, 1780272000, 1798761599, 2147483647LL,
        2147483648LL, 4107542399LL, 253402300799LL,
    };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char out[21];
        smime_time_format(samples[i], out, sizeof(out));
        assert_int_equal(strlen(out), 20);
        expect_parse(out, samples[i]);
        /* The space form parses to the same value. */
        out[10] = ' ';
        expect_parse(out, samples[i]);
    }
    /* A stride through 1950..2100 (prime step, so all times of day occur). */
    for (int64_t t = -631152000; t < 4102444800LL; t += 9876541) {
        char out[21];
        smime_time_format(t, out, sizeof(out));
        expect_parse(out, t);
    }
}

static void test_parse_format_round_trip(void **state)
{
    (void)state;
    static const char *const s[] = {
        "2024-02-29T23:59:59Z", "1950-01-01T00:00:00Z", "2000-12-31T12:00:01Z",
        "2026-06-01T00:00:00Z", "9999-12-31T23:59:59Z",
    };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        int64_t t;
        char out[21];
        assert_int_equal(smime_time_parse(s[i], &t), 0);
        smime_time_format(t, out, sizeof(out));
        assert_string_equal(out, s[i]);
    }
}

/* Years past 9999 need 22 bytes; with the documented 21-byte buffer strftime()
 * returns 0 and the output is left without a terminating NUL. */
static void test_format_year_10000_terminated(void **state)
{
    (void)state;
    char out[21];
    memset(out, '#', sizeof(out));
    smime_time_format(253402300800LL, out, sizeof(out));   /* 10000-01-01T00:00:00Z */
    assert_non_null(memchr(out, '\0', sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_only),
        cmocka_unit_test(test_date_time_t_and_space),
        cmocka_unit_test(test_at_seconds),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_month_lengths),
        cmocka_unit_test(test_bad_fields_rejected),
        cmocka_unit_test(test_bad_forms_rejected),
        cmocka_unit_test(test_noncanonical_fields_rejected),
        cmocka_unit_test(test_from_utc),
        cmocka_unit_test(test_from_utc_matches_timegm_daily),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_does_not_depend_on_tz),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_format_year_10000_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
