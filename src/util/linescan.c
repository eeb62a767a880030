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
    /* 64 bytes a test: in CRLF text most blocks hold an LF, none a bare one */
    for (; end - p >= 64; p += 64) {
        __m128i any = _mm_setzero_si128();
        for (int k = 0; k < 64; k += 16) {
            __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)(p + k));
            __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p + k - 1));
            any = _mm_or_si128(any, _mm_andnot_si128(_mm_cmpeq_epi8(prev, cr), _mm_cmpeq_epi8(cur, lf)));
        }
        if (_mm_movemask_epi8(any))
            break;       /* the loop below finds it within these 64 bytes */
    }
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

#ifdef __SSE2__
/* The first "--" line start in n blocks of 16 bytes from p, or NULL; p - 1 ..
 * p + 16 * n must be inside the text. */
static const char *dash_block16(const char *p, size_t n)
{
    const __m128i lf = _mm_set1_epi8('\n'), dash = _mm_set1_epi8('-');
    for (size_t i = 0; i < n; i++, p += 16) {
        __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p - 1));
        __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i hit = _mm_and_si128(_mm_cmpeq_epi8(prev, lf),
                                    _mm_and_si128(_mm_cmpeq_epi8(cur, dash), _mm_cmpeq_epi8(next, dash)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return p + __builtin_ctz(m);
    }
    return NULL;
}
#endif

const char *smime_scan_dash_line(const char *base, const char *p, const char *end)
{
    if (p < end && p == base) {
        if (dash_at(base, p, end))
            return p;
        p++;
    }
#ifdef __SSE2__
    const __m128i dash = _mm_set1_epi8('-');
    /* Most of a message (base64 above all) holds no '-' at all: 64 bytes
     * without one are passed over with one compare per 16, and only a block
     * with one is looked at closely (the loop below, from the same p). */
    for (; end - p >= 65; p += 64) {
        __m128i any = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), dash),
                         _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), dash)),
            _mm_or_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), dash),
                         _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), dash)));
        if (!_mm_movemask_epi8(any))
            continue;
        const char *q = dash_block16(p, 4);
        if (q)
            return q;
    }
    if (end - p >= 17) {
        const char *q = dash_block16(p, (size_t)(end - p - 1) / 16);
        if (q)
            return q;
        p += (size_t)(end - p - 1) / 16 * 16;
    }
#endif
    for (; p < end; p++)
        if (dash_at(base, p, end))
            return p;
    return NULL;
}
