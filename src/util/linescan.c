/* linescan - bare LFs and "--" line starts found sixteen bytes at a time
 * (see include/smime/util/linescan.h). */
#include "smime/util/linescan.h"

#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int bare_at(const char *base, const char *q)
{
    return *q == '\n' && (q == base || q[-1] != '\r');
}

const char *smime_scan_bare_lf(const char *base, const char *p, const char *end)
{
    if (p < end && p == base) {
        if (*p == '\n')
            return p;
        p++;
    }
#ifdef __SSE2__
    /* Each block is compared with itself and with itself one byte back (p > base
     * here, so p - 1 is inside the text). */
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; end - p >= 16; p += 16) {
        __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p - 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(cur, lf)) &
                     ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(prev, cr));
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    for (; p < end; p++)
        if (bare_at(base, p))
            return p;
    return NULL;
}

static int dash_at(const char *base, const char *q, const char *end)
{
    return (q == base || q[-1] == '\n') && end - q >= 2 && q[0] == '-' && q[1] == '-';
}

const char *smime_scan_dash_line(const char *base, const char *p, const char *end)
{
    if (p < end && p == base) {
        if (dash_at(base, p, end))
            return p;
        p++;
    }
#ifdef __SSE2__
    /* p - 1 .. p + 16 must be inside the text: 17 bytes from p. */
    const __m128i lf = _mm_set1_epi8('\n'), dash = _mm_set1_epi8('-');
    for (; end - p >= 17; p += 16) {
        __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p - 1));
        __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i hit = _mm_and_si128(_mm_cmpeq_epi8(prev, lf),
                                    _mm_and_si128(_mm_cmpeq_epi8(cur, dash), _mm_cmpeq_epi8(next, dash)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    for (; p < end; p++)
        if (dash_at(base, p, end))
            return p;
    return NULL;
}
