/* linescan - bare LFs and "--" line starts found sixteen bytes at a time, and
 * blocks of 64 without any passed over 32 bytes a test in long texts where the
 * CPU has AVX2 (see include/smime/util/linescan.h). */
#include "smime/util/linescan.h"

#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The build targets baseline x86-64 (SSE2); AVX2 is chosen at run time, per call,
 * from the CPU's feature bits (a constant of the process).  A body larger than
 * the caches' share of one core is read at the speed of these loops, one of
 * which passes over every byte of a message besides its hash (issue 19). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(LINESCAN_NO_AVX2)
#include <immintrin.h>
#define LINESCAN_AVX2 1

#ifndef LINESCAN_AVX2_MIN
#define LINESCAN_AVX2_MIN (4u << 20)
#endif

/* AVX2 for long texts only.  On the bench machine any 256-bit work made the rest
 * of the message slower (the vector units power up, the core may clock down):
 * with AVX2 from 64 KiB or 256 KiB on, the pipeline over the bench mix (one
 * 500 KB body in six messages) lost 10 %; from 1 MiB on, nothing; a 49 MB body
 * gains 4 % (0.74 -> 0.77 of SHA-256's speed). */
static int use_avx2(const char *p, const char *end)
{
    return (size_t)(end - p) >= LINESCAN_AVX2_MIN && __builtin_cpu_supports("avx2");
}

/* The bare LFs (an LF whose previous byte, p[-1] included, is no CR) of the 64
 * bytes at p as two byte masks; 1 when there is one (p > base). */
__attribute__((target("avx2"), always_inline)) static inline int bare_masks64_avx2(const char *p, __m256i m[2])
{
    const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');
    for (int k = 0; k < 2; k++) {
        __m256i cur = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
        __m256i prev = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k - 1));
        m[k] = _mm256_andnot_si256(_mm256_cmpeq_epi8(prev, cr), _mm256_cmpeq_epi8(cur, lf));
    }
    __m256i any = _mm256_or_si256(m[0], m[1]);
    return !_mm256_testz_si256(any, any);
}

/* From p in steps of 64 bytes, the first block that holds a bare LF, or where
 * fewer than 64 bytes remain; p > base. */
__attribute__((target("avx2"))) static const char *skip_no_bare_avx2(const char *p, const char *end)
{
    __m256i m[2];
    for (; end - p >= 64; p += 64)
        if (bare_masks64_avx2(p, m))
            break;
    return p;
}

/* From p in steps of 64 bytes, the first block that holds a '-' (or, with_byte,
 * the byte c), or where fewer than 65 bytes remain; with bare, the bare LFs of
 * the blocks passed over are added to it (p > base). */
__attribute__((target("avx2"))) static const char *skip_no_dash_avx2(const char *p, const char *end,
                                                                     int with_byte, char c,
                                                                     size_t *bare)
{
    const __m256i dash = _mm256_set1_epi8('-'), byte = _mm256_set1_epi8(with_byte ? c : '-');
    for (; end - p >= 65; p += 64) {
        __m256i c0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i c1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
        __m256i any = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(c0, dash), _mm256_cmpeq_epi8(c1, dash)),
                                      _mm256_or_si256(_mm256_cmpeq_epi8(c0, byte), _mm256_cmpeq_epi8(c1, byte)));
        if (!_mm256_testz_si256(any, any))
            break;
        __m256i m[2];
        if (bare && bare_masks64_avx2(p, m))
            *bare += (size_t)__builtin_popcountll((unsigned long long)(unsigned)_mm256_movemask_epi8(m[0]) |
                                                  (unsigned long long)(unsigned)_mm256_movemask_epi8(m[1]) << 32);
    }
    return p;
}
#endif

static int bare_at(const char *base, const char *q)
{
    return *q == '\n' && (q == base || q[-1] != '\r');
}

#ifdef __SSE2__
/* The bare LFs of the 64 bytes at p as four byte masks; 1 when there is one
 * (p > base, so p - 1 is inside the text). */
static inline int bare_masks64(const char *p, __m128i m[4])
{
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (int k = 0; k < 4; k++) {
        __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k - 1));
        m[k] = _mm_andnot_si128(_mm_cmpeq_epi8(prev, cr), _mm_cmpeq_epi8(cur, lf));
    }
    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(m[0], m[1]), _mm_or_si128(m[2], m[3]))) != 0;
}

/* The bare LFs of the 64 bytes at p, with one population count of the block (the
 * baseline x86-64 has no POPCNT instruction: each count is a dozen), and none for
 * a block without (CRLF text). */
static size_t bare_in_block64(const char *p)
{
    __m128i m[4];
    if (!bare_masks64(p, m))
        return 0;
    unsigned long long bits = 0;
    for (int k = 0; k < 4; k++)
        bits |= (unsigned long long)(unsigned)_mm_movemask_epi8(m[k]) << (16 * k);
    return (size_t)__builtin_popcountll(bits);
}
#endif

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
#ifdef LINESCAN_AVX2
    if (use_avx2(p, end))
        p = skip_no_bare_avx2(p, end);
#endif
    /* 64 bytes a test: in CRLF text most blocks hold an LF, none a bare one */
    for (__m128i m[4]; end - p >= 64; p += 64)
        if (bare_masks64(p, m))
            break;       /* the loop below finds it within these 64 bytes */
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
/* The first "--" line start, or (with_byte) byte c, in n blocks of 16 bytes from
 * p, or NULL; p - 1 .. p + 16 * n must be inside the text. */
static inline __attribute__((always_inline)) const char *
dash_block16(const char *p, size_t n, int with_byte, char c)
{
    const __m128i lf = _mm_set1_epi8('\n'), dash = _mm_set1_epi8('-'), byte = _mm_set1_epi8(c);
    for (size_t i = 0; i < n; i++, p += 16) {
        __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(p - 1));
        __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i hit = _mm_and_si128(_mm_cmpeq_epi8(prev, lf),
                                    _mm_and_si128(_mm_cmpeq_epi8(cur, dash), _mm_cmpeq_epi8(next, dash)));
        if (with_byte)
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(cur, byte));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return p + __builtin_ctz(m);
    }
    return NULL;
}
#endif

/* The bare LFs of [p, q), one byte at a time (at most a block's worth). */
static size_t bare_between(const char *base, const char *p, const char *q)
{
    size_t n = 0;
    for (; p < q; p++)
        n += (size_t)bare_at(base, p);
    return n;
}

/* The scans in one: with_byte and whether bare is NULL are constants at each
 * call, so a scan pays nothing for what it is not asked.  With bare, the bare
 * LFs of [p, the place returned) (or of [p, end)) are added to *bare. */
static inline __attribute__((always_inline)) const char *
scan_dash_or_byte(const char *base, const char *p, const char *end, int with_byte, char c,
                  size_t *bare)
{
    if (p < end && p == base) {
        if (dash_at(base, p, end) || (with_byte && *p == c))
            return p;
        if (bare && *p == '\n')
            ++*bare;
        p++;
    }
#ifdef __SSE2__
    const __m128i dash = _mm_set1_epi8('-'), byte = _mm_set1_epi8(c);
    /* Most of a message (base64 above all) holds no '-' at all: 64 bytes
     * without one are passed over with one compare per 16, and only a block
     * with one is looked at closely (the loop below, from the same p). */
#ifdef LINESCAN_AVX2
    int avx2 = use_avx2(p, end);
#endif
    for (; end - p >= 65; p += 64) {
#ifdef LINESCAN_AVX2
        if (avx2) {
            p = skip_no_dash_avx2(p, end, with_byte, c, bare);
            if (end - p < 65)
                break;
        }
#endif
        __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
        __m128i b2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
        __m128i b3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
        __m128i any = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b0, dash), _mm_cmpeq_epi8(b1, dash)),
                                   _mm_or_si128(_mm_cmpeq_epi8(b2, dash), _mm_cmpeq_epi8(b3, dash)));
        if (with_byte)
            any = _mm_or_si128(any, _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b0, byte), _mm_cmpeq_epi8(b1, byte)),
                                                 _mm_or_si128(_mm_cmpeq_epi8(b2, byte), _mm_cmpeq_epi8(b3, byte))));
        const char *q = _mm_movemask_epi8(any) ? dash_block16(p, 4, with_byte, c) : NULL;
        if (q) {
            if (bare)
                *bare += bare_between(base, p, q);
            return q;
        }
        if (bare)
            *bare += bare_in_block64(p);
    }
    if (end - p >= 17) {
        size_t blocks = (size_t)(end - p - 1) / 16;
        const char *q = dash_block16(p, blocks, with_byte, c);
        if (bare)
            *bare += bare_between(base, p, q ? q : p + blocks * 16);
        if (q)
            return q;
        p += blocks * 16;
    }
#endif
    for (; p < end; p++) {
        if (dash_at(base, p, end) || (with_byte && *p == c))
            return p;
        if (bare)
            *bare += (size_t)bare_at(base, p);
    }
    return NULL;
}

const char *smime_scan_dash_line(const char *base, const char *p, const char *end)
{
    return scan_dash_or_byte(base, p, end, 0, 0, NULL);
}

const char *smime_scan_dash_line_or(const char *base, const char *p, const char *end, char c)
{
    return scan_dash_or_byte(base, p, end, 1, c, NULL);
}

const char *smime_scan_dash_line_or_counting(const char *base, const char *p, const char *end, char c,
                                             size_t *bare_lfs)
{
    return scan_dash_or_byte(base, p, end, 1, c, bare_lfs);
}
