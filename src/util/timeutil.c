/* timeutil - UTC time parsing and formatting (see include/smime/util/timeutil.h). */
#include "smime/util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t smime_time_from_utc(int year, int mon, int day, int hour, int min, int sec)
{
    /* Days from civil (H. Hinnant's algorithm): no timegm(), no TZ. */
    int64_t y = year - (mon <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (mon + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Reads exactly n decimal digits: no sign, no blank, nothing else. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int smime_time_parse(const char *s, int64_t *out)
{
    if (s[0] == '@') {
        const char *p = s + 1 + (s[1] == '-');
        if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 15)
            return -1;    /* at most 15 digits: far from int64 overflow */
        *out = strtoll(s + 1, NULL, 10);
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, se = 0;
    size_t len = strlen(s);
    if (len != 10 && !(len == 20 && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' &&
                       s[16] == ':' && s[19] == 'Z'))
        return -1;
    if (s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d))
        return -1;
    if (len == 20 && (digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se)))
        return -1;
    if (y < 1950 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || se > 60)
        return -1;
    *out = smime_time_from_utc(y, mo, d, h, mi, se);
    return 0;
}

void smime_time_format(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    /* Years outside 0000..9999 do not fit the fixed form: fall back to @SECONDS,
     * which smime_time_parse reads back.  strftime leaves out undefined when the
     * text does not fit, so its result decides. */
    if (!gmtime_r(&tt, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900 ||
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, n, "@%lld", (long long)t);
}
