/* x509 - one-pass certificate decoding into spans, for the linter.
 *
 * smime_x509_parse() walks a certificate's DER once and records where each field
 * is; it copies nothing, so the struct is only valid while the DER it was parsed
 * from is.  It checks the framing of the TBSCertificate strictly (DER, field order,
 * types) but leaves the judgement of values to the lints: a certificate with a
 * zero serial or a v1 version parses fine and is then reported. */
#ifndef SMIME_X509_H
#define SMIME_X509_H

#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/der.h"

#define SMIME_X509_MAX_EXT   48    /* more extensions than this: parse error */
#define SMIME_NAME_MAX_ATTRS 64    /* more attributes in one Name: parse error */

typedef struct smime_x509_ext {
    smime_span oid;        /* OID content octets */
    int        critical;
    smime_span value;      /* extnValue OCTET STRING content (the extension's DER) */
} smime_x509_ext;

typedef struct smime_x509 {
    smime_span der;              /* whole certificate */
    smime_span tbs;              /* TBSCertificate TLV */
    smime_span sig_alg;          /* Certificate.signatureAlgorithm TLV */
    smime_span tbs_sig_alg;      /* TBSCertificate.signature TLV */
    smime_span sig_value;        /* signature BIT STRING content */
    int        version;          /* 1, 2 or 3 (the INTEGER + 1); 0 if out of range */
    int        version_default_encoded; /* [0] present but holding v1 (not DER) */
    smime_span serial;           /* INTEGER content */
    smime_span issuer, subject;  /* Name TLVs */
    unsigned   not_before_tag, not_after_tag;
    smime_span not_before_raw, not_after_raw;
    int64_t    not_before, not_after;
    int        not_before_form, not_after_form; /* 0 RFC 5280 form, 1 other form */
    smime_span spki;             /* SubjectPublicKeyInfo TLV */
    smime_span spki_alg;         /* its AlgorithmIdentifier TLV */
    smime_span spki_alg_oid;     /* algorithm OID content */
    smime_span spki_params;      /* parameters TLV; len 0 when absent */
    smime_span spki_key;         /* subjectPublicKey bits (after the unused-bits octet) */
    int        spki_key_ok;      /* the BIT STRING was well-formed with 0 unused bits */
    int        has_issuer_uid, has_subject_uid;
    int        has_extensions;
    int        critical_false_encoded; /* an extension encodes critical DEFAULT FALSE
                                        * explicitly: not DER, reported, tolerated */
    size_t     next;
    smime_x509_ext ext[SMIME_X509_MAX_EXT];
} smime_x509;

/* Parses der (borrowed; must outlive *out).  0 on success; -1 with a short reason
 * in err (NUL-terminated, errsz bytes) when the DER is not a certificate. */
int smime_x509_parse(const uint8_t *der, size_t len, smime_x509 *out, char *err, size_t errsz);

/* The first extension with the given OID content, or NULL. */
const smime_x509_ext *smime_x509_ext_find(const smime_x509 *c, const char *oid, size_t oid_len);
#define SMIME_X509_EXT(c, lit) smime_x509_ext_find((c), (lit), sizeof(lit) - 1)

/* One attribute of a Name, in certificate order. */
typedef struct smime_name_attr {
    smime_span oid;
    unsigned   tag;        /* the value's tag */
    smime_span value;      /* the value's content */
    int        rdn;        /* index of its RDN */
    int        multi;      /* its RDN holds more than one attribute */
} smime_name_attr;

typedef struct smime_name {
    size_t          n;
    int             rdns;
    smime_name_attr a[SMIME_NAME_MAX_ATTRS];
} smime_name;

/* Splits a Name TLV into attributes.  0, or -1 when malformed or too many. */
int smime_name_parse(smime_span name_tlv, smime_name *out);

#endif
