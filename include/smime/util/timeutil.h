/* timeutil - UTC time parsing and formatting without the process's time zone. */
#ifndef SMIME_TIMEUTIL_H
#define SMIME_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" (also with a space for T), or
 * "@SECONDS".  Returns 0 and the epoch seconds, or -1. */
int smime_time_parse(const char *s, int64_t *out);
/* "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void smime_time_format(int64_t t, char *out, size_t n);
/* Seconds since the epoch of a UTC calendar date (proleptic Gregorian). */
int64_t smime_time_from_utc(int year, int mon, int day, int hour, int min, int sec);

#endif
