/* der - a small, strict, allocation-free DER reader.
 *
 * Everything here works on spans of the caller's bytes: nothing is copied and
 * nothing is allocated, so a parsed certificate is a set of pointers into its DER.
 * The reader accepts DER only: definite lengths in their shortest form, low tag
 * numbers (0..30, the only ones X.509 uses), and every element must fit inside its
 * parent.  Anything else is an error, because the linter compares encodings byte
 * for byte and a lenient reader would let a BER variant pass as its DER twin. */
#ifndef SMIME_DER_H
#define SMIME_DER_H

#include <stddef.h>
#include <stdint.h>

/* Universal tags (identifier octet, class universal). */
enum {
    SMIME_DER_BOOLEAN = 0x01, SMIME_DER_INTEGER = 0x02, SMIME_DER_BIT_STRING = 0x03,
    SMIME_DER_OCTET_STRING = 0x04, SMIME_DER_NULL = 0x05, SMIME_DER_OID = 0x06,
    SMIME_DER_UTF8_STRING = 0x0c, SMIME_DER_PRINTABLE_STRING = 0x13,
    SMIME_DER_TELETEX_STRING = 0x14, SMIME_DER_IA5_STRING = 0x16,
    SMIME_DER_UTC_TIME = 0x17, SMIME_DER_GENERALIZED_TIME = 0x18,
    SMIME_DER_VISIBLE_STRING = 0x1a, SMIME_DER_UNIVERSAL_STRING = 0x1c,
    SMIME_DER_BMP_STRING = 0x1e, SMIME_DER_SEQUENCE = 0x30, SMIME_DER_SET = 0x31
};
/* Context-specific tags: [n] primitive and [n] constructed. */
#define SMIME_DER_CTX(n)  (0x80u | (unsigned)(n))
#define SMIME_DER_CTXC(n) (0xa0u | (unsigned)(n))

/* Nesting deeper than this is refused by smime_der_validate(); X.509 needs ~12. */
#define SMIME_DER_MAX_DEPTH 32

/* A byte range inside someone else's buffer (never owned). */
typedef struct smime_span {
    const uint8_t *p;
    size_t         len;
} smime_span;

/* One decoded element.  `tlv` covers identifier, length and value; `val` the value. */
typedef struct smime_der_tlv {
    unsigned   tag;     /* the identifier octet */
    smime_span tlv;
    smime_span val;
} smime_der_tlv;

/* Iterates over consecutive elements of a span (the content of a constructed element). */
typedef struct smime_der_reader {
    const uint8_t *p;
    const uint8_t *end;
} smime_der_reader;

void smime_der_reader_init(smime_der_reader *r, smime_span s);
/* 1 = read one element into *out, 0 = no more elements, -1 = malformed. */
int  smime_der_next(smime_der_reader *r, smime_der_tlv *out);
/* Reads the next element and requires tag `tag`; -1 when absent or different. */
int  smime_der_expect(smime_der_reader *r, unsigned tag, smime_der_tlv *out);
/* Reads the next element only when it carries tag `tag` (for OPTIONAL / DEFAULT
 * fields): 1 read, 0 absent (nothing consumed), -1 malformed. */
int  smime_der_optional(smime_der_reader *r, unsigned tag, smime_der_tlv *out);
int  smime_der_at_end(const smime_der_reader *r);

/* Parses exactly one element spanning all of s (no trailing bytes). 0 or -1. */
int  smime_der_parse_one(smime_span s, smime_der_tlv *out);
/* Walks the whole element tree of s (recursing into constructed elements up to
 * SMIME_DER_MAX_DEPTH) and checks every length.  0 = well-formed DER framing. */
int  smime_der_validate(smime_span s);

/* OIDs.  `der` is the content octets (no tag/length), e.g. "\x55\x1d\x0f". */
int  smime_der_oid_eq(smime_span oid_content, const char *der, size_t der_len);
#define SMIME_OID_EQ(span, lit) smime_der_oid_eq((span), (lit), sizeof(lit) - 1)
/* Writes the dotted form into out (NUL-terminated); -1 if malformed or too long. */
int  smime_der_oid_to_text(smime_span oid_content, char *out, size_t outsz);
/* 1 when the content octets are a well-formed OID encoding (minimal sub-ids). */
int  smime_der_oid_valid(smime_span oid_content);

/* INTEGER content: 1 when minimally encoded and non-empty. */
int  smime_der_int_minimal(smime_span v);
/* -1 negative, 0 zero, 1 positive (content must be non-empty). */
int  smime_der_int_sign(smime_span v);
/* Number of significant bits of a non-negative INTEGER (0 for zero). */
size_t smime_der_int_bits(smime_span v);
/* Small non-negative INTEGER into *out; -1 if negative, malformed or > INT64_MAX. */
int  smime_der_int_i64(smime_span v, int64_t *out);

/* BIT STRING content: first octet = unused bits.  Fills *bits (the octets after it)
 * and *nbits.  -1 when unused > 7, or unused > 0 with no octets, or the unused bits
 * are not zero (DER). */
int  smime_der_bit_string(smime_span v, smime_span *bits, size_t *nbits);
/* Bit i (0 = most significant bit of the first octet) of a bit string's octets. */
int  smime_der_bit(smime_span bits, size_t nbits, size_t i);
/* DER named-bit lists carry no trailing zero bits: 1 when that holds. */
int  smime_der_named_bits_minimal(smime_span bits, size_t nbits);

/* BOOLEAN content: 0 / 1, or -1 when not exactly one octet of 0x00 or 0xFF. */
int  smime_der_bool(smime_span v);

/* Times.  Parses UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) into
 * seconds since the epoch.  Returns 0 for the RFC 5280 form, 1 when the value is
 * a valid date but not in the RFC 5280 form (fractions, missing seconds, offsets:
 * *out still set where possible), -1 when it cannot be read. */
int  smime_der_time(unsigned tag, smime_span v, int64_t *out);
/* Days-from-civil helper shared with the linter: epoch seconds of a UTC date. */
int64_t smime_der_epoch(int year, int month, int day, int hour, int min, int sec);

/* String character sets. */
int  smime_der_printable_ok(smime_span v);
int  smime_der_ia5_ok(smime_span v);
/* Character count of a string value by tag (UTF-8 code points, BMP pairs, bytes);
 * -1 when the bytes are not valid for the tag. */
long smime_der_string_chars(unsigned tag, smime_span v);
/* 1 for the DirectoryString / ASN.1 character string tags. */
int  smime_der_is_string_tag(unsigned tag);

#endif
