/* der - strict DER reader over caller-owned bytes (see include/smime/crypto/der.h). */
#include "smime/crypto/der.h"

#include <stdio.h>
#include <string.h>
#include "smime/util/text.h"

void smime_der_reader_init(smime_der_reader *r, smime_span s)
{
    r->p = s.p;
    r->end = s.p ? s.p + s.len : s.p;
}

int smime_der_at_end(const smime_der_reader *r)
{
    return r->p == r->end;
}

/* Decodes the header at p (avail bytes).  Shortest-form definite lengths only. */
static int der_header(const uint8_t *p, size_t avail, smime_der_tlv *out)
{
    if (avail < 2)
        return -1;
    unsigned tag = p[0];
    if ((tag & 0x1f) == 0x1f)
        return -1;                      /* high tag numbers: not used by X.509 */
    size_t hdr = 2, len = p[1];
    if (len & 0x80) {
        size_t n = len & 0x7f;
        if (n == 0 || n > sizeof(size_t) || n > 4)
            return -1;                  /* indefinite (BER) or absurdly long */
        if (avail < 2 + n || p[2] == 0)
            return -1;                  /* leading zero octet: not minimal */
        len = 0;
        for (size_t i = 0; i < n; i++)
            len = (len << 8) | p[2 + i];
        if (len < 0x80)
            return -1;                  /* long form for a short length */
        hdr += n;
    }
    if (len > avail - hdr)
        return -1;
    out->tag = tag;
    out->tlv.p = p;
    out->tlv.len = hdr + len;
    out->val.p = p + hdr;
    out->val.len = len;
    return 0;
}

int smime_der_next(smime_der_reader *r, smime_der_tlv *out)
{
    if (r->p == NULL || r->p >= r->end)
        return 0;
    if (der_header(r->p, (size_t)(r->end - r->p), out) != 0)
        return -1;
    r->p += out->tlv.len;
    return 1;
}

int smime_der_expect(smime_der_reader *r, unsigned tag, smime_der_tlv *out)
{
    int rc = smime_der_next(r, out);
    return (rc == 1 && out->tag == tag) ? 0 : -1;
}

int smime_der_optional(smime_der_reader *r, unsigned tag, smime_der_tlv *out)
{
    if (r->p == NULL || r->p >= r->end)
        return 0;
    if (r->p[0] != tag)
        return 0;
    return smime_der_next(r, out) == 1 ? 1 : -1;
}

int smime_der_parse_one(smime_span s, smime_der_tlv *out)
{
    if (s.p == NULL || der_header(s.p, s.len, out) != 0)
        return -1;
    return out->tlv.len == s.len ? 0 : -1;
}

static int der_validate_depth(smime_span s, int depth)
{
    if (depth > SMIME_DER_MAX_DEPTH)
        return -1;
    smime_der_reader r;
    smime_der_tlv t;
    int rc;
    smime_der_reader_init(&r, s);
    while ((rc = smime_der_next(&r, &t)) == 1) {
        if ((t.tag & 0x20) && der_validate_depth(t.val, depth + 1) != 0)
            return -1;
    }
    return rc;
}

int smime_der_validate(smime_span s)
{
    return der_validate_depth(s, 0);
}

int smime_der_oid_eq(smime_span oid, const char *der, size_t der_len)
{
    return oid.len == der_len && memcmp(oid.p, der, der_len) == 0;
}

int smime_der_oid_valid(smime_span oid)
{
    if (oid.len == 0 || oid.p[oid.len - 1] & 0x80)
        return 0;
    int start = 1;
    for (size_t i = 0; i < oid.len; i++) {
        if (start && oid.p[i] == 0x80)
            return 0;                   /* non-minimal sub-identifier */
        start = !(oid.p[i] & 0x80);
    }
    return 1;
}

int smime_der_oid_to_text(smime_span oid, char *out, size_t outsz)
{
    if (outsz == 0)
        return -1;
    out[0] = '\0';
    if (!smime_der_oid_valid(oid))
        return -1;
    size_t used = 0;
    uint64_t v = 0;
    int first = 1;
    for (size_t i = 0; i < oid.len; i++) {
        if (v > (UINT64_MAX >> 7))
            return -1;                  /* sub-identifier wider than 64 bits */
        v = (v << 7) | (oid.p[i] & 0x7f);
        if (oid.p[i] & 0x80)
            continue;
        int n;
        if (first) {
            unsigned top = v < 40 ? 0 : v < 80 ? 1 : 2;
            n = snprintf(out + used, outsz - used, "%u.%llu", top,
                         (unsigned long long)(v - 40u * top));
            first = 0;
        } else {
            n = snprintf(out + used, outsz - used, ".%llu", (unsigned long long)v);
        }
        if (n < 0 || (size_t)n >= outsz - used) {
            out[0] = '\0';
            return -1;
        }
        used += (size_t)n;
        v = 0;
    }
    return 0;
}

int smime_der_int_minimal(smime_span v)
{
    if (v.len == 0)
        return 0;
    if (v.len == 1)
        return 1;
    if (v.p[0] == 0x00 && !(v.p[1] & 0x80))
        return 0;
    if (v.p[0] == 0xff && (v.p[1] & 0x80))
        return 0;
    return 1;
}

int smime_der_int_sign(smime_span v)
{
    if (v.len == 0)
        return 0;
    if (v.p[0] & 0x80)
        return -1;
    for (size_t i = 0; i < v.len; i++)
        if (v.p[i])
            return 1;
    return 0;
}

size_t smime_der_int_bits(smime_span v)
{
    size_t i = 0;
    while (i < v.len && v.p[i] == 0)
        i++;
    if (i == v.len)
        return 0;
    size_t bits = (v.len - i - 1) * 8;
    for (unsigned b = v.p[i]; b; b >>= 1)
        bits++;
    return bits;
}

int smime_der_int_i64(smime_span v, int64_t *out)
{
    if (v.len == 0 || smime_der_int_sign(v) < 0 || smime_der_int_bits(v) > 63)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < v.len; i++)
        x = (x << 8) | v.p[i];
    *out = (int64_t)x;
    return 0;
}

int smime_der_bit_string(smime_span v, smime_span *bits, size_t *nbits)
{
    if (v.len == 0 || v.p[0] > 7)
        return -1;
    unsigned unused = v.p[0];
    if (v.len == 1 && unused != 0)
        return -1;
    if (unused && (v.p[v.len - 1] & ((1u << unused) - 1)))
        return -1;
    bits->p = v.p + 1;
    bits->len = v.len - 1;
    *nbits = bits->len * 8 - unused;
    return 0;
}

int smime_der_bit(smime_span bits, size_t nbits, size_t i)
{
    if (i >= nbits)
        return 0;
    return (bits.p[i / 8] >> (7 - i % 8)) & 1;
}

int smime_der_named_bits_minimal(smime_span bits, size_t nbits)
{
    return nbits == 0 || smime_der_bit(bits, nbits, nbits - 1);
}

int smime_der_bool(smime_span v)
{
    if (v.len != 1)
        return -1;
    return v.p[0] == 0xff ? 1 : v.p[0] == 0x00 ? 0 : -1;
}

int64_t smime_der_epoch(int y, int m, int d, int hh, int mm, int ss)
{
    /* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
    int64_t yy = y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

static int digits(const uint8_t *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int smime_der_time(unsigned tag, smime_span v, int64_t *out)
{
    size_t ylen;
    if (tag == SMIME_DER_UTC_TIME)
        ylen = 2;
    else if (tag == SMIME_DER_GENERALIZED_TIME)
        ylen = 4;
    else
        return -1;
    /* Read YY[YY]MMDDHHMM, then optional seconds, fraction and zone. */
    if (v.len < ylen + 8)
        return -1;
    int y, mo, d, h, mi, s = 0;
    const uint8_t *p = v.p;
    if (digits(p, ylen, &y) || digits(p + ylen, 2, &mo) || digits(p + ylen + 2, 2, &d)
        || digits(p + ylen + 4, 2, &h) || digits(p + ylen + 6, 2, &mi))
        return -1;
    if (ylen == 2)
        y += y < 50 ? 2000 : 1900;      /* RFC 5280 4.1.2.5.1 */
    size_t i = ylen + 8;
    int strict = 1;
    if (i + 2 <= v.len && p[i] >= '0' && p[i] <= '9') {
        if (digits(p + i, 2, &s))
            return -1;
        i += 2;
    } else {
        strict = 0;                     /* seconds missing */
    }
    if (i < v.len && (p[i] == '.' || p[i] == ',')) {
        strict = 0;                     /* fractional seconds */
        i++;
        while (i < v.len && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    int64_t offset = 0;
    if (i + 1 == v.len && p[i] == 'Z') {
        i++;
    } else if (i + 5 == v.len && (p[i] == '+' || p[i] == '-')) {
        int oh, om;
        if (digits(p + i + 1, 2, &oh) || digits(p + i + 3, 2, &om))
            return -1;
        offset = (p[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        strict = 0;
        i += 5;
    } else {
        return -1;
    }
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    *out = smime_der_epoch(y, mo, d, h, mi, s) - offset;
    return strict ? 0 : 1;
}

int smime_der_printable_ok(smime_span v)
{
    static const char extra[] = " '()+,-./:=?";
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = v.p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        if (c == 0 || !memchr(extra, c, sizeof(extra) - 1))
            return 0;
    }
    return 1;
}

int smime_der_ia5_ok(smime_span v)
{
    for (size_t i = 0; i < v.len; i++)
        if (v.p[i] & 0x80)
            return 0;
    return 1;
}

int smime_der_is_string_tag(unsigned tag)
{
    switch (tag) {
    case SMIME_DER_UTF8_STRING: case SMIME_DER_PRINTABLE_STRING:
    case SMIME_DER_TELETEX_STRING: case SMIME_DER_IA5_STRING:
    case SMIME_DER_VISIBLE_STRING: case SMIME_DER_UNIVERSAL_STRING:
    case SMIME_DER_BMP_STRING:
        return 1;
    default:
        return 0;
    }
}

long smime_der_string_chars(unsigned tag, smime_span v)
{
    switch (tag) {
    case SMIME_DER_UTF8_STRING: {
        long n = 0;
        size_t i = 0;
        while (i < v.len) {
            uint32_t cp;
            size_t k = smime_utf8_decode(v.p + i, v.len - i, &cp);
            if (k == 0)
                return -1;
            i += k;
            n++;
        }
        return n;
    }
    case SMIME_DER_PRINTABLE_STRING:
        return smime_der_printable_ok(v) ? (long)v.len : -1;
    case SMIME_DER_IA5_STRING:
        return smime_der_ia5_ok(v) ? (long)v.len : -1;
    case SMIME_DER_VISIBLE_STRING:
        for (size_t i = 0; i < v.len; i++)
            if (v.p[i] < 0x20 || v.p[i] > 0x7e)
                return -1;
        return (long)v.len;
    case SMIME_DER_BMP_STRING:
        return v.len % 2 ? -1 : (long)(v.len / 2);
    case SMIME_DER_UNIVERSAL_STRING:
        return v.len % 4 ? -1 : (long)(v.len / 4);
    case SMIME_DER_TELETEX_STRING:
        return (long)v.len;
    default:
        return -1;
    }
}
