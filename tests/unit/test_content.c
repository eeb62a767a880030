/* Unit tests of content: the canonical CRLF form of signed content, hashed and
 * compared where it lies.  Every expectation is the canonical text written out,
 * hashed by GnuTLS in one call: a view that reads a CR LF, a lone CR or an LF
 * at a chunk edge differently from "a bare LF is CRLF, nothing else changes"
 * fails here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "smime/crypto/content.h"

/* The view of raw (lf_as_crlf set) hashes, measures, copies and compares as the
 * len bytes of canon. */
static void expect_canonical(const char *raw, size_t raw_len, const char *canon, size_t len)
{
    smime_content_view v = { raw, raw_len, 1 };
    assert_int_equal(smime_content_canonical_len(&v), len);
    unsigned char want[32], got[32];
    assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, canon, len, want), 0);
    assert_int_equal(smime_content_hash(GNUTLS_DIG_SHA256, &v, got), 0);
    assert_memory_equal(got, want, sizeof(want));
    size_t n = 99;
    unsigned char *copy = smime_content_canonical_copy(&v, &n);
    assert_non_null(copy);
    assert_int_equal(n, len);
    if (len)
        assert_memory_equal(copy, canon, len);
    free(copy);
    assert_int_equal(smime_content_equal(&v, canon, len), 1);
    /* one byte less, one more, or one changed is not the same content */
    if (len > 0) {
        assert_int_equal(smime_content_equal(&v, canon, len - 1), 0);
        char *changed = malloc(len);
        memcpy(changed, canon, len);
        changed[len - 1] ^= 0x01;
        assert_int_equal(smime_content_equal(&v, changed, len), 0);
        free(changed);
    }
    char *longer = malloc(len + 1);
    if (len)
        memcpy(longer, canon, len);
    longer[len] = 'x';
    assert_int_equal(smime_content_equal(&v, longer, len + 1), 0);
    free(longer);
}

#define EXPECT(raw, canon) expect_canonical(raw, sizeof(raw) - 1, canon, sizeof(canon) - 1)

static void test_bare_lf(void **state)
{
    (void)state;
    EXPECT("a\nb\n", "a\r\nb\r\n");
    EXPECT("\n", "\r\n");
    EXPECT("\n\nx", "\r\n\r\nx");
}

static void test_crlf_unchanged(void **state)
{
    (void)state;
    EXPECT("a\r\nb\r\n", "a\r\nb\r\n");
    EXPECT("\r\n\r\n", "\r\n\r\n");
}

static void test_mixed_and_lone_cr(void **state)
{
    (void)state;
    /* a lone CR is content; CR CR LF keeps both CRs */
    EXPECT("a\nb\r\nc\rd\n", "a\r\nb\r\nc\rd\r\n");
    EXPECT("\r\r\n\n\r", "\r\r\n\r\n\r");
    EXPECT("x\r", "x\r");
}

static void test_empty(void **state)
{
    (void)state;
    expect_canonical(NULL, 0, "", 0);
    expect_canonical("", 0, "", 0);
    smime_content_view v = { NULL, 0, 0 };
    unsigned char got[32], want[32];
    assert_int_equal(smime_content_hash(GNUTLS_DIG_SHA256, &v, got), 0);
    assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, "", 0, want), 0);
    assert_memory_equal(got, want, 32);
}

/* Texts of short lines whose CR, LF or CR LF falls on every position around the
 * edges of the stack buffer, and runs longer than it (hashed where they lie). */
static void test_chunk_edges(void **state)
{
    (void)state;
    const size_t C = SMIME_CONTENT_CHUNK;
    const char *ends[] = { "\n", "\r\n", "\r", "\n\n", "\r\r\n" };
    for (size_t e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
        for (size_t at = C - 4; at <= C + 3; at++) {
            for (size_t tail = 0; tail < 3; tail++) {
                /* raw: 'a' * at, the line end, 'b' * (tail + 2 * C * (tail == 2)) */
                size_t extra = tail == 2 ? 2 * C + 5 : tail;
                size_t el = strlen(ends[e]);
                size_t raw_len = at + el + extra;
                char *raw = malloc(raw_len);
                memset(raw, 'a', at);
                memcpy(raw + at, ends[e], el);
                memset(raw + at + el, 'b', extra);
                /* canonical: every bare LF doubled to CR LF, written by hand */
                char *canon = malloc(raw_len * 2);
                size_t n = 0;
                for (size_t i = 0; i < raw_len; i++) {
                    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
                        canon[n++] = '\r';
                    canon[n++] = raw[i];
                }
                expect_canonical(raw, raw_len, canon, n);
                free(raw);
                free(canon);
            }
        }
    }
}

/* Many short lines: the buffer fills and flushes many times. */
static void test_many_lines(void **state)
{
    (void)state;
    const char line[] = "The quick brown fox jumps over the lazy dog.\n";
    size_t L = sizeof(line) - 1, count = 1000;
    char *raw = malloc(L * count), *canon = malloc((L + 1) * count);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(raw + i * L, line, L);
        memcpy(canon + n, line, L - 1);
        n += L - 1;
        canon[n++] = '\r';
        canon[n++] = '\n';
    }
    expect_canonical(raw, L * count, canon, n);
    free(raw);
    free(canon);
}

/* lf_as_crlf clear: the bytes are the content as they are. */
static void test_view_as_is(void **state)
{
    (void)state;
    smime_content_view v = { "a\nb", 3, 0 };
    assert_int_equal(smime_content_canonical_len(&v), 3);
    assert_int_equal(smime_content_equal(&v, "a\nb", 3), 1);
    assert_int_equal(smime_content_equal(&v, "a\r\nb", 4), 0);
    unsigned char got[32], want[32];
    assert_int_equal(smime_content_hash(GNUTLS_DIG_SHA256, &v, got), 0);
    assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, "a\nb", 3, want), 0);
    assert_memory_equal(got, want, 32);
}

/* The length of a view inside a message, counted from the bare LFs around it,
 * equals the view's own count for every slice of messages that put CR, LF, CR LF
 * and lone CRs at every place, the slice's edges included (an LF just after a
 * CR of the message, a CR at the slice's end before the message's LF). */
static void test_len_inside_message(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "a\nb\r\nc\rd\n\n\r\r\nef\n",
        "\n\n\n\r\n\r\n\n",
        "\r\n\r\r\n\n\rx\n\r",
        "header\n\nbody line one\nbody line two\r\nthree\n",
        "no line ends at all",
    };
    for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
        const char *m = msgs[k];
        size_t n = strlen(m);
        smime_content_view whole = { m, n, 1 };
        size_t bare = smime_content_canonical_len(&whole) - n;
        for (size_t start = 0; start <= n; start++)
            for (size_t end = start; end <= n; end++) {
                smime_content_view v = { m + start, end - start, 1 };
                assert_int_equal(smime_content_canonical_len_in(&v, m, n, bare),
                                 smime_content_canonical_len(&v));
                smime_content_view as_is = { m + start, end - start, 0 };
                assert_int_equal(smime_content_canonical_len_in(&as_is, m, n, bare), end - start);
            }
    }
    /* a view outside the message, or only partly inside it, is counted itself */
    const char other[] = "x\ny\nz\n";
    smime_content_view v = { other, sizeof(other) - 1, 1 };
    assert_int_equal(smime_content_canonical_len_in(&v, msgs[0], strlen(msgs[0]), 4), 9);
    assert_int_equal(smime_content_canonical_len_in(&v, other, 3, 1), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_lf),
        cmocka_unit_test(test_crlf_unchanged),
        cmocka_unit_test(test_mixed_and_lone_cr),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_chunk_edges),
        cmocka_unit_test(test_many_lines),
        cmocka_unit_test(test_view_as_is),
        cmocka_unit_test(test_len_inside_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
