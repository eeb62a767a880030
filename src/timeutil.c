/* timeutil - UTC time parsing and formatting (see include/smime/timeutil.h). */
#include "smime/timeutil.h"

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

int smime_time_parse(const char *s, int64_t *out)
{
    if (s[0] == '@') {
        char *end;
        long long v = strtoll(s + 1, &end, 10);
        if (end == s + 1 || *end)
            return -1;
        *out = v;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    size_t len = strlen(s);
    if (len == 10) {
        if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
            return -1;
    } else if (len == 20 && (s[10] == 'T' || s[10] == ' ') && s[19] == 'Z') {
        if (sscanf(s, "%4d-%2d-%2d", &y, &mo, &d) != 3 ||
            sscanf(s + 11, "%2d:%2d:%2d", &h, &mi, &se) != 3)
            return -1;
    } else {
        return -1;
    }
    if (y < 1950 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || se > 60 || h < 0 || mi < 0 || se < 0)
        return -1;
    *out = smime_time_from_utc(y, mo, d, h, mi, se);
    return 0;
}

void smime_time_format(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, n, "@%lld", (long long)t);
}
