/* Unit tests of the strict DER reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "smime/crypto/der.h"

#define SPAN(lit) ((smime_span){ (const uint8_t *)(lit), sizeof(lit) - 1 })

static void test_iterate_sequence(void **state)
{
    (void)state;
    smime_der_tlv t, a, b;
    assert_int_equal(smime_der_parse_one(SPAN("\x30\x06\x02\x01\x05\x01\x01\xff"), &t), 0);
    assert_int_equal(t.tag, SMIME_DER_SEQUENCE);
    smime_der_reader r;
    smime_der_reader_init(&r, t.val);
    assert_int_equal(smime_der_expect(&r, SMIME_DER_INTEGER, &a), 0);
    assert_int_equal(a.val.len, 1);
    assert_int_equal(smime_der_optional(&r, SMIME_DER_CTXC(0), &b), 0);
    assert_int_equal(smime_der_expect(&r, SMIME_DER_BOOLEAN, &b), 0);
    assert_int_equal(smime_der_bool(b.val), 1);
    assert_int_equal(smime_der_next(&r, &b), 0);
    assert_true(smime_der_at_end(&r));
}

static void test_reject_non_der_lengths(void **state)
{
    (void)state;
    smime_der_tlv t;
    /* long form for a short length */
    assert_int_equal(smime_der_parse_one(SPAN("\x04\x81\x01\x00"), &t), -1);
    /* indefinite length */
    assert_int_equal(smime_der_parse_one(SPAN("\x30\x80\x00\x00"), &t), -1);
    /* length beyond the buffer */
    assert_int_equal(smime_der_parse_one(SPAN("\x04\x05\x00"), &t), -1);
    /* trailing bytes */
    assert_int_equal(smime_der_parse_one(SPAN("\x05\x00\x00"), &t), -1);
    /* high tag number form */
    assert_int_equal(smime_der_parse_one(SPAN("\x1f\x81\x00\x00"), &t), -1);
    /* leading zero in long-form length */
    assert_int_equal(smime_der_parse_one(SPAN("\x04\x82\x00\x81"), &t), -1);
    /* inner element overruns its parent */
    assert_int_equal(smime_der_validate(SPAN("\x30\x03\x04\x05\x00")), -1);
    assert_int_equal(smime_der_validate(SPAN("\x30\x03\x04\x01\x00")), 0);
}

static void test_depth_cap(void **state)
{
    (void)state;
    uint8_t buf[2 * (SMIME_DER_MAX_DEPTH + 4)];
    size_t levels = SMIME_DER_MAX_DEPTH + 3;
    for (size_t i = 0; i < levels; i++) {
        buf[2 * i] = 0x30;
        buf[2 * i + 1] = (uint8_t)(2 * (levels - i - 1));
    }
    smime_span s = { buf, 2 * levels };
    assert_int_equal(smime_der_validate(s), -1);
    s.p = buf + 2 * 10;
    s.len = 2 * (levels - 10);
    assert_int_equal(smime_der_validate(s), 0);
}

static void test_oid(void **state)
{
    (void)state;
    char txt[64];
    assert_int_equal(smime_der_oid_to_text(SPAN("\x67\x81\x0c\x01\x05\x02\x03"), txt, sizeof txt), 0);
    assert_string_equal(txt, "2.23.140.1.5.2.3");
    assert_int_equal(smime_der_oid_to_text(SPAN("\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"), txt, sizeof txt), 0);
    assert_string_equal(txt, "1.2.840.113549.1.9.1");
    assert_int_equal(smime_der_oid_to_text(SPAN("\x55\x1d\x0f"), txt, sizeof txt), 0);
    assert_string_equal(txt, "2.5.29.15");
    /* non-minimal sub-identifier, truncated, tiny output buffer */
    assert_int_equal(smime_der_oid_to_text(SPAN("\x55\x80\x1d"), txt, sizeof txt), -1);
    assert_int_equal(smime_der_oid_to_text(SPAN("\x55\x9d"), txt, sizeof txt), -1);
    assert_int_equal(smime_der_oid_to_text(SPAN("\x55\x1d\x0f"), txt, 5), -1);
    assert_true(SMIME_OID_EQ(SPAN("\x55\x1d\x0f"), "\x55\x1d\x0f"));
    assert_false(SMIME_OID_EQ(SPAN("\x55\x1d\x0f"), "\x55\x1d\x0e"));
}

static void test_integer(void **state)
{
    (void)state;
    int64_t v;
    assert_true(smime_der_int_minimal(SPAN("\x00\x80")));
    assert_false(smime_der_int_minimal(SPAN("\x00\x7f")));
    assert_false(smime_der_int_minimal(SPAN("\xff\x80")));
    assert_false(smime_der_int_minimal(SPAN("")));
    assert_int_equal(smime_der_int_sign(SPAN("\x80")), -1);
    assert_int_equal(smime_der_int_sign(SPAN("\x00")), 0);
    assert_int_equal(smime_der_int_sign(SPAN("\x01")), 1);
    assert_int_equal(smime_der_int_bits(SPAN("\x00\x80\x00")), 16);
    assert_int_equal(smime_der_int_bits(SPAN("\x01\x00\x01")), 17);
    assert_int_equal(smime_der_int_i64(SPAN("\x01\x00\x01"), &v), 0);
    assert_int_equal(v, 65537);
    assert_int_equal(smime_der_int_i64(SPAN("\xff"), &v), -1);
}

static void test_bit_string(void **state)
{
    (void)state;
    smime_span bits;
    size_t n;
    /* keyUsage digitalSignature + keyEncipherment: 05 a0 */
    assert_int_equal(smime_der_bit_string(SPAN("\x05\xa0"), &bits, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(smime_der_bit(bits, n, 0), 1);
    assert_int_equal(smime_der_bit(bits, n, 1), 0);
    assert_int_equal(smime_der_bit(bits, n, 2), 1);
    assert_int_equal(smime_der_bit(bits, n, 9), 0);
    assert_true(smime_der_named_bits_minimal(bits, n));
    assert_int_equal(smime_der_bit_string(SPAN("\x04\xa0"), &bits, &n), 0);
    assert_false(smime_der_named_bits_minimal(bits, n));
    /* unused bits not zero, unused > 7, unused with no octets */
    assert_int_equal(smime_der_bit_string(SPAN("\x05\xa1"), &bits, &n), -1);
    assert_int_equal(smime_der_bit_string(SPAN("\x08\x00"), &bits, &n), -1);
    assert_int_equal(smime_der_bit_string(SPAN("\x01"), &bits, &n), -1);
    assert_int_equal(smime_der_bool(SPAN("\x01")), -1);
    assert_int_equal(smime_der_bool(SPAN("\x00")), 0);
}

static void test_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("230901000000Z"), &t), 0);
    assert_int_equal(t, 1693526400);
    assert_int_equal(smime_der_time(SMIME_DER_GENERALIZED_TIME, SPAN("20500101000000Z"), &t), 0);
    assert_int_equal(t, 2524608000);
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("491231235959Z"), &t), 0);
    assert_int_equal(t, 2524607999);
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("500101000000Z"), &t), 0);
    assert_int_equal(t, -631152000);
    /* not the RFC 5280 form, but readable */
    assert_int_equal(smime_der_time(SMIME_DER_GENERALIZED_TIME, SPAN("20240101000000.5Z"), &t), 1);
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("2401010000Z"), &t), 1);
    /* unreadable */
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("240230000000Z"), &t), -1);
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("230229000000Z"), &t), -1);
    assert_int_equal(smime_der_time(SMIME_DER_UTC_TIME, SPAN("2401010000"), &t), -1);
    assert_int_equal(smime_der_time(SMIME_DER_OCTET_STRING, SPAN("240101000000Z"), &t), -1);
}

static void test_strings(void **state)
{
    (void)state;
    assert_true(smime_der_printable_ok(SPAN("Acme Ltd. (UK)")));
    assert_false(smime_der_printable_ok(SPAN("a@b")));
    assert_false(smime_der_printable_ok(SPAN("a*b")));
    assert_true(smime_der_ia5_ok(SPAN("a@b")));
    assert_false(smime_der_ia5_ok(SPAN("\xe5\xb1\xb1")));
    assert_int_equal(smime_der_string_chars(SMIME_DER_UTF8_STRING, SPAN("\xe5\xb1\xb1\xe7\x94\xb0")), 2);
    assert_int_equal(smime_der_string_chars(SMIME_DER_UTF8_STRING, SPAN("\xe5\xb1")), -1);
    assert_int_equal(smime_der_string_chars(SMIME_DER_BMP_STRING, SPAN("\x00\x41\x00")), -1);
    assert_true(smime_der_is_string_tag(SMIME_DER_BMP_STRING));
    assert_false(smime_der_is_string_tag(SMIME_DER_OCTET_STRING));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iterate_sequence),
        cmocka_unit_test(test_reject_non_der_lengths),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_oid),
        cmocka_unit_test(test_integer),
        cmocka_unit_test(test_bit_string),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
