/* Unit tests of the BER to DER re-encoder: each BER form CMS senders use, each
 * cap, truncation and garbage, and DER passing through unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "smime/crypto/ber.h"

#define SPAN(lit) ((smime_span){ (const uint8_t *)(lit), sizeof(lit) - 1 })

static char err[256];

/* Re-encodes `ber` and requires exactly `der`; then requires that DER input comes
 * back byte for byte. */
static void expect_der(smime_span ber, smime_span der)
{
    uint8_t *out = NULL;
    size_t n = 0;
    int rc = smime_ber_to_der(ber, &out, &n, err, sizeof(err));
    if (rc != 0)
        fail_msg("refused: %s", err);
    assert_int_equal(n, der.len);
    assert_memory_equal(out, der.p, der.len);
    assert_true(n <= SMIME_BER_MAX_OUTPUT(ber.len));
    free(out);
    assert_int_equal(smime_ber_to_der(der, &out, &n, err, sizeof(err)), 0);
    assert_int_equal(n, der.len);
    assert_memory_equal(out, der.p, der.len);
    free(out);
}

/* Requires a refusal whose reason contains `why`. */
static void expect_refused(smime_span in, const char *why)
{
    uint8_t *out = (uint8_t *)1;
    size_t n = 7;
    err[0] = '\0';
    assert_int_equal(smime_ber_to_der(in, &out, &n, err, sizeof(err)), -1);
    assert_null(out);
    assert_int_equal(n, 0);
    if (!strstr(err, why))
        fail_msg("reason [%s] lacks [%s]", err, why);
}

static void test_der_unchanged(void **state)
{
    (void)state;
    expect_der(SPAN("\x30\x06\x02\x01\x05\x01\x01\xff"), SPAN("\x30\x06\x02\x01\x05\x01\x01\xff"));
    expect_der(SPAN("\x05\x00"), SPAN("\x05\x00"));
    /* SET OF elements out of DER order stay where they are: the re-encoder
     * changes lengths and string segmentation, never element order. */
    expect_der(SPAN("\x31\x06\x02\x01\x09\x02\x01\x01"), SPAN("\x31\x06\x02\x01\x09\x02\x01\x01"));
    /* long-form lengths in their shortest form: 200 and 300 octets */
    uint8_t big[3 + 200 + 4 + 300 + 4];
    size_t o = 0;
    big[o++] = 0x30; big[o++] = 0x82; big[o++] = 0x01; big[o++] = (uint8_t)(203 + 304 - 256);
    big[o++] = 0x04; big[o++] = 0x81; big[o++] = 200;
    memset(big + o, 0xa5, 200); o += 200;
    big[o++] = 0x04; big[o++] = 0x82; big[o++] = 0x01; big[o++] = 300 - 256;
    memset(big + o, 0x5a, 300); o += 300;
    assert_int_equal(o, 4 + 203 + 304);
    expect_der((smime_span){ big, o }, (smime_span){ big, o });
}

static void test_indefinite_at_several_levels(void **state)
{
    (void)state;
    expect_der(SPAN("\x30\x80\x02\x01\x05\x00\x00"), SPAN("\x30\x03\x02\x01\x05"));
    expect_der(SPAN("\x30\x80\x31\x80\x02\x01\x05\x00\x00\x00\x00"),
               SPAN("\x30\x05\x31\x03\x02\x01\x05"));
    /* a ContentInfo-like shape: SEQUENCE { OID, [0] { SEQUENCE { ... } } } */
    expect_der(SPAN("\x30\x80\x06\x01\x2a\xa0\x80\x30\x80\x02\x01\x01\x30\x00\x00\x00\x00\x00"
                    "\x00\x00"),
               SPAN("\x30\x0c\x06\x01\x2a\xa0\x07\x30\x05\x02\x01\x01\x30\x00"));
    /* an indefinite element among definite siblings, and an empty one */
    expect_der(SPAN("\x30\x08\x30\x80\x05\x00\x00\x00\x05\x00"), SPAN("\x30\x06\x30\x02\x05\x00\x05\x00"));
    expect_der(SPAN("\x30\x80\x00\x00"), SPAN("\x30\x00"));
}

static void test_constructed_strings_flattened(void **state)
{
    (void)state;
    /* OCTET STRING segments nested three deep, indefinite and definite, as NSS
     * writes eContent */
    expect_der(SPAN("\x24\x80\x04\x02" "ab" "\x24\x80\x04\x01" "c" "\x24\x03\x04\x01" "d"
                    "\x00\x00\x04\x00\x00\x00"),
               SPAN("\x04\x04" "abcd"));
    /* inside [0] EXPLICIT, as in EncapsulatedContentInfo */
    expect_der(SPAN("\xa0\x80\x24\x80\x04\x01" "x" "\x04\x01" "y" "\x00\x00\x00\x00"),
               SPAN("\xa0\x04\x04\x02" "xy"));
    expect_der(SPAN("\x24\x80\x00\x00"), SPAN("\x04\x00"));
    /* BIT STRING: only the last segment may leave bits unused */
    expect_der(SPAN("\x23\x80\x03\x02\x00\xaa\x23\x04\x03\x02\x04\xb0\x00\x00"),
               SPAN("\x03\x03\x04\xaa\xb0"));
    /* character strings split too (UTF8String) */
    expect_der(SPAN("\x2c\x80\x0c\x02" "he" "\x0c\x03" "llo" "\x00\x00"), SPAN("\x0c\x05" "hello"));
    /* a segmented string over 127 octets gets a long-form length */
    uint8_t in[2 + 3 * (2 + 60) + 2], want[3 + 180];
    size_t o = 0;
    in[o++] = 0x24; in[o++] = 0x80;
    for (int s = 0; s < 3; s++) {
        in[o++] = 0x04; in[o++] = 60;
        memset(in + o, 'a' + s, 60);
        o += 60;
    }
    in[o++] = 0; in[o++] = 0;
    want[0] = 0x04; want[1] = 0x81; want[2] = 180;
    for (int s = 0; s < 3; s++)
        memset(want + 3 + 60 * s, 'a' + s, 60);
    expect_der((smime_span){ in, o }, (smime_span){ want, sizeof(want) });
}

static void test_non_minimal_lengths(void **state)
{
    (void)state;
    expect_der(SPAN("\x04\x82\x00\x02\xaa\xbb"), SPAN("\x04\x02\xaa\xbb"));
    expect_der(SPAN("\x30\x84\x00\x00\x00\x03\x02\x01\x01"), SPAN("\x30\x03\x02\x01\x01"));
    expect_der(SPAN("\x04\x81\x01\x07"), SPAN("\x04\x01\x07"));
    /* the one element not in DER lies below DER ones: the input is not copied */
    expect_der(SPAN("\x30\x06\x30\x04\x04\x81\x01\x07"), SPAN("\x30\x05\x30\x03\x04\x01\x07"));
    expect_der(SPAN("\x30\x07\x05\x00\x24\x03\x04\x01" "x"), SPAN("\x30\x05\x05\x00\x04\x01" "x"));
    /* a length wider than size_t but with leading zeros is still just 1 */
    expect_der(SPAN("\x04\x8a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x07"), SPAN("\x04\x01\x07"));
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused(SPAN("\x00\x00"), "end-of-contents where an element");
    expect_refused(SPAN("\x30\x02\x00\x00"), "end-of-contents where an element");
    expect_refused(SPAN("\x1f\x81\x00\x00"), "high tag number");
    expect_refused(SPAN("\x04\xff\x00"), "reserved length");
    expect_refused(SPAN("\x04\x80\x01\x00\x00"), "indefinite length on a primitive");
    expect_refused(SPAN("\x10\x00"), "primitive SEQUENCE");
    expect_refused(SPAN("\x22\x03\x02\x01\x01"), "constructed encoding of a primitive-only type");
    expect_refused(SPAN("\x24\x80\x03\x01\x00\x00\x00"), "segment of a constructed string has another");
    expect_refused(SPAN("\x23\x80\x03\x02\x04\xb0\x03\x02\x00\xaa\x00\x00"),
                   "BIT STRING segment after one with unused bits");
    expect_refused(SPAN("\x03\x00"), "malformed BIT STRING");
    /* no segment, so no unused-bits octet (and DER would be longer than it) */
    expect_refused(SPAN("\x23\x00"), "BIT STRING without segments");
    expect_refused(SPAN("\x23\x80\x23\x00\x00\x00"), "BIT STRING without segments");
    expect_refused(SPAN("\x03\x01\x03"), "malformed BIT STRING");
    expect_refused(SPAN("\x30\x80\x05\x00"), "missing end-of-contents");
    expect_refused(SPAN("\x30\x80\x05\x00\x00\x01"), "end-of-contents where an element");
    expect_refused(SPAN("\x05\x00\x00"), "1 bytes after the element");
    expect_refused(SPAN("\x30\x03\x04\x05\x00"), "length beyond the end of its container");
    expect_refused(SPAN("\x04\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "length too large");
    expect_refused(SPAN("\x04\x84\x00\x00"), "truncated length");
    expect_refused(SPAN("\x04"), "truncated element header");
    expect_refused((smime_span){ NULL, 0 }, "empty input");
    /* the input cap is checked before a byte is read */
    static const uint8_t one[1] = { 0x30 };
    expect_refused((smime_span){ one, SMIME_BER_MAX_INPUT + 1 }, "larger than the cap");
    assert_true(SMIME_BER_MAX_OUTPUT(SMIME_BER_MAX_INPUT) <= UINT32_MAX);
}

/* Every proper prefix of a valid BER encoding is refused, never read past. */
static void test_truncated_input(void **state)
{
    (void)state;
    static const uint8_t ber[] = "\x30\x80\x06\x01\x2a\xa0\x80\x24\x80\x04\x02" "ab" "\x24\x80\x04\x01"
                                 "c\x00\x00\x00\x00\x04\x82\x00\x01" "d" "\x00\x00\x00\x00";
    size_t len = sizeof(ber) - 1;
    uint8_t *out;
    size_t n;
    assert_int_equal(smime_ber_to_der((smime_span){ ber, len }, &out, &n, err, sizeof(err)), 0);
    free(out);
    for (size_t cut = 1; cut < len; cut++) {
        /* a copy of exactly `cut` bytes, so ASan sees any read past it */
        uint8_t *copy = malloc(cut);
        memcpy(copy, ber, cut);
        assert_int_equal(smime_ber_to_der((smime_span){ copy, cut }, &out, &n, err, sizeof(err)), -1);
        assert_null(out);
        free(copy);
    }
}

static void test_depth_cap(void **state)
{
    (void)state;
    enum { LEVELS = SMIME_BER_MAX_DEPTH + 1 };
    uint8_t in[4 * LEVELS + 2];
    uint8_t *out;
    size_t n;
    for (int levels = SMIME_BER_MAX_DEPTH; levels <= LEVELS; levels++) {
        size_t o = 0;
        for (int i = 0; i < levels; i++) {
            in[o++] = 0x30;
            in[o++] = 0x80;
        }
        for (int i = 0; i < levels; i++) {
            in[o++] = 0;
            in[o++] = 0;
        }
        int rc = smime_ber_to_der((smime_span){ in, o }, &out, &n, err, sizeof(err));
        if (levels == SMIME_BER_MAX_DEPTH) {
            assert_int_equal(rc, 0);
            assert_int_equal(n, 2u * levels);
            free(out);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "nested deeper than 32"));
        }
    }
    /* nested string segments count as levels too */
    uint8_t s[2 * LEVELS + 2 * LEVELS];
    size_t o = 0;
    for (int i = 0; i < LEVELS; i++) {
        s[o++] = 0x24;
        s[o++] = 0x80;
    }
    for (int i = 0; i < LEVELS; i++) {
        s[o++] = 0;
        s[o++] = 0;
    }
    expect_refused((smime_span){ s, o }, "nested deeper than 32");
}

/* A SEQUENCE of k NULLs is k + 1 elements. */
static uint8_t *nulls(size_t k, size_t *len)
{
    size_t content = 2 * k;
    uint8_t *p = malloc(5 + content);
    p[0] = 0x30;
    p[1] = 0x83;            /* content < 16 MiB: the shortest form */
    p[2] = (uint8_t)(content >> 16);
    p[3] = (uint8_t)(content >> 8);
    p[4] = (uint8_t)content;
    for (size_t i = 0; i < k; i++) {
        p[5 + 2 * i] = 0x05;
        p[6 + 2 * i] = 0x00;
    }
    *len = 5 + content;
    return p;
}

static void test_element_cap(void **state)
{
    (void)state;
    size_t len;
    uint8_t *out;
    size_t n;
    uint8_t *in = nulls(SMIME_BER_MAX_ELEMENTS - 1, &len);
    assert_int_equal(smime_ber_to_der((smime_span){ in, len }, &out, &n, err, sizeof(err)), 0);
    assert_int_equal(n, len);
    assert_memory_equal(out, in, len);
    free(out);
    free(in);
    in = nulls(SMIME_BER_MAX_ELEMENTS, &len);
    expect_refused((smime_span){ in, len }, "more elements than the cap");
    free(in);
}

/* The one case where DER is longer than BER, within the bound the header states:
 * an indefinite element with 64 KiB or more of content. */
static void test_output_bound(void **state)
{
    (void)state;
    size_t content = 65536;
    size_t len = 2 + 5 + content + 2;
    uint8_t *in = calloc(1, len);
    in[0] = 0x30; in[1] = 0x80;
    in[2] = 0x04; in[3] = 0x83; in[4] = 0x01; in[5] = 0x00; in[6] = 0x00;
    uint8_t *out;
    size_t n;
    assert_int_equal(smime_ber_to_der((smime_span){ in, len }, &out, &n, err, sizeof(err)), 0);
    /* 30 83 01 00 05 | 04 83 01 00 00 | content */
    assert_int_equal(n, len + 1);
    assert_true(n <= SMIME_BER_MAX_OUTPUT(len));
    assert_memory_equal(out, "\x30\x83\x01\x00\x05\x04\x83\x01\x00\x00", 10);
    free(out);
    free(in);
}

/* Pseudo-random bytes and mutations of a valid encoding: refused or re-encoded,
 * and whatever is re-encoded is DER (a second pass changes nothing). */
static void test_garbage(void **state)
{
    (void)state;
    static const uint8_t seed[] = "\x30\x80\x06\x01\x2a\xa0\x80\x24\x80\x04\x02" "ab" "\x00\x00"
                                  "\x31\x80\x02\x01\x05\x00\x00\x00\x00\x00\x00";
    uint32_t x = 12345;
    uint8_t buf[sizeof(seed) - 1];
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, seed, sizeof(buf));
        int flips = 1 + round % 4;
        for (int f = 0; f < flips; f++) {
            x = x * 1103515245u + 12345u;
            buf[(x >> 8) % sizeof(buf)] = (uint8_t)(x >> 20);
        }
        size_t len = round % 7 == 0 ? (x >> 4) % sizeof(buf) + 1 : sizeof(buf);
        uint8_t *out, *again;
        size_t n, n2;
        if (smime_ber_to_der((smime_span){ buf, len }, &out, &n, err, sizeof(err)) != 0)
            continue;
        accepted++;
        assert_true(n <= len);
        assert_int_equal(smime_ber_to_der((smime_span){ out, n }, &again, &n2, err, sizeof(err)), 0);
        assert_int_equal(n2, n);
        assert_memory_equal(again, out, n);
        free(again);
        free(out);
    }
    /* the mutations keep some inputs valid: the property above was exercised */
    assert_true(accepted > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_der_unchanged),
        cmocka_unit_test(test_indefinite_at_several_levels),
        cmocka_unit_test(test_constructed_strings_flattened),
        cmocka_unit_test(test_non_minimal_lengths),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_truncated_input),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_element_cap),
        cmocka_unit_test(test_output_bound),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
