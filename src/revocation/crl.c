/* crl - certificate revocation lists (see include/smime/revocation/crl.h).
 *
 * CRLs are read with our own DER reader, and their signature checked with
 * gnutls_pubkey_verify_data2() over the tbsCertList bytes: GnuTLS's own import
 * (libtasn1) takes time quadratic in the number of entries (a CRL of 100,000
 * entries, 3.6 MB, took 42 s to import), so it is used only for small CRLs our
 * strict reader refuses or whose signature needs it (RSA-PSS).  A CRL is searched
 * once per certificate per message, so its serials are sorted once at load and
 * found by binary search. */
#include "smime/revocation/crl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/ocsp.h>
#include "smime/crypto/der.h"
#include "smime/util/timeutil.h"

#define SERIAL_MAX 32              /* RFC 5280 allows 20 octets; some CAs exceed it */
#define IDP_URIS_MAX 4             /* names of a partitioned CRL kept for matching */
#define URI_MAX 1024
#define GNUTLS_MAX_BYTES (256u << 10)   /* larger CRLs are never handed to GnuTLS's import */

typedef struct crl_entry {
    unsigned char serial[SERIAL_MAX];
    unsigned char len;
    signed char   reason;          /* CRLReason, -1 when the entry gives none */
    unsigned char bad_reason;      /* reasonCode critical or unspecified (REV-CRL-03) */
    int64_t       when;
} crl_entry;

struct smime_crl {
    unsigned char   verified_with[32];  /* issuer_id() of the issuer used */
    gnutls_datum_t  issuer_dn;          /* raw, owned (gnutls_free) */
    int64_t         this_update, next_update;
    int             only_user, only_ca; /* issuingDistributionPoint scope */
    size_t          n_idp_uris;         /* a partition: the URIs it is published at */
    char           *idp_uris[IDP_URIS_MAX];   /* owned */
    int             sha1;               /* signed with SHA-1 (REV-CRL-01) */
    int             reasons_unread;     /* read by GnuTLS, which gives no reasonCode */
    size_t          n;
    crl_entry      *entries;            /* sorted by (len, serial) */
};

static void answer(smime_rev_answer *out, smime_rev_status st, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void answer(smime_rev_answer *out, smime_rev_status st, const char *code,
                   const char *fmt, ...)
{
    out->status = st;
    out->code = code;
    out->source = "crl";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

/* Serial numbers compare as integers: leading zero octets (sign padding) dropped. */
static void serial_norm(const unsigned char *p, size_t n, const unsigned char **sp, size_t *sn)
{
    while (n > 1 && p[0] == 0) {
        p++;
        n--;
    }
    *sp = p;
    *sn = n;
}

static int entry_cmp_raw(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    if (an != bn)
        return an < bn ? -1 : 1;
    return memcmp(a, b, an);
}

static int entry_cmp(const void *x, const void *y)
{
    const crl_entry *a = x, *b = y;
    return entry_cmp_raw(a->serial, a->len, b->serial, b->len);
}

static crl_entry *entry_find(const smime_crl *crl, const unsigned char *s, size_t n)
{
    size_t lo = 0, hi = crl->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entry_cmp_raw(crl->entries[mid].serial, crl->entries[mid].len, s, n);
        if (c == 0)
            return &crl->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int is_time_tag(unsigned tag)
{
    return tag == SMIME_DER_UTC_TIME || tag == SMIME_DER_GENERALIZED_TIME;
}

/* The fullName URIs of an IDP distributionPoint: a partitioned CRL covers only the
 * certificates whose distribution point names one of them (RFC 5280 6.3.3 b.2.i).
 * A name we cannot keep (not a URI, too many) makes the CRL unusable: -1. */
static int read_idp_names(smime_span dpn, smime_crl *crl)
{
    smime_der_reader r, gr;
    smime_der_tlv name, gn;
    smime_der_reader_init(&r, dpn);
    if (smime_der_next(&r, &name) != 1 || name.tag != SMIME_DER_CTXC(0))
        return -1;                                     /* nameRelativeToCRLIssuer */
    smime_der_reader_init(&gr, name.val);
    int rc;
    while ((rc = smime_der_next(&gr, &gn)) == 1) {
        if (gn.tag != SMIME_DER_CTX(6))                /* not a URI: cannot match */
            continue;
        if (crl->n_idp_uris >= IDP_URIS_MAX || gn.val.len >= URI_MAX)
            return -1;
        char *u = malloc(gn.val.len + 1);
        if (!u)
            return -1;
        memcpy(u, gn.val.p, gn.val.len);
        u[gn.val.len] = '\0';
        crl->idp_uris[crl->n_idp_uris++] = u;
    }
    return rc < 0 || crl->n_idp_uris == 0 ? -1 : 0;
}

/* issuingDistributionPoint: returns 0 and the user/CA-only flags, or -1 when the
 * CRL covers only some reasons or is indirect (then it cannot say "good"). */
static int read_idp(smime_span v, smime_crl *crl)
{
    smime_der_tlv seq, el;
    if (smime_der_parse_one(v, &seq) < 0 ||
        seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader r;
    smime_der_reader_init(&r, seq.val);
    int rc;
    while ((rc = smime_der_next(&r, &el)) == 1) {
        int on = el.val.len == 1 && el.val.p[0] != 0;
        switch (el.tag) {
        case SMIME_DER_CTXC(0):                        /* distributionPoint */
            if (read_idp_names(el.val, crl) < 0)
                return -1;
            break;
        case SMIME_DER_CTX(1): crl->only_user = on; break;
        case SMIME_DER_CTX(2): crl->only_ca = on; break;
        case SMIME_DER_CTX(3): return -1;              /* onlySomeReasons */
        case SMIME_DER_CTX(4): if (on) return -1; break; /* indirectCRL */
        case SMIME_DER_CTX(5): if (on) return -1; break; /* attribute certs only */
        default: return -1;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* Which certificate a CRL was verified with: a hash of its signature value, which
 * no other certificate has (cheaper than a fingerprint, which re-encodes it). */
static int issuer_id(gnutls_x509_crt_t issuer, unsigned char out[32])
{
    unsigned char sig[1024];
    size_t sl = sizeof(sig);
    if (gnutls_x509_crt_get_signature(issuer, (char *)sig, &sl) < 0)
        return -1;
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, sig, sl, out) < 0 ? -1 : 0;
}

/* ---- our reader ------------------------------------------------------------ */

static int digits(const uint8_t *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 4.1.2.5). */
static int der_time(const smime_der_tlv *t, int64_t *out)
{
    const uint8_t *p = t->val.p;
    size_t n = t->val.len, y;
    int year;
    if (t->tag == SMIME_DER_UTC_TIME && n == 13) {
        year = digits(p, 2);
        year += year < 50 ? 2000 : 1900;
        y = 2;
    } else if (t->tag == SMIME_DER_GENERALIZED_TIME && n == 15) {
        year = digits(p, 4);
        y = 4;
    } else {
        return -1;
    }
    int mon = digits(p + y, 2), day = digits(p + y + 2, 2), hour = digits(p + y + 4, 2),
        min = digits(p + y + 6, 2), sec = digits(p + y + 8, 2);
    if (year < 0 || p[n - 1] != 'Z' || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 ||
        hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60)
        return -1;
    *out = smime_time_from_utc(year, mon, day, hour, min, sec);
    return 0;
}

/* One Extension: OID, critical flag, value. */
static int der_extension(const smime_der_tlv *ext, smime_span *oid, int *critical, smime_span *value)
{
    smime_der_reader r;
    smime_der_tlv o, c = { 0 }, v;
    if (ext->tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, ext->val);
    int has_c;
    if (smime_der_expect(&r, SMIME_DER_OID, &o) < 0 ||
        (has_c = smime_der_optional(&r, SMIME_DER_BOOLEAN, &c)) < 0 ||
        smime_der_expect(&r, SMIME_DER_OCTET_STRING, &v) < 0 || !smime_der_at_end(&r))
        return -1;
    *oid = o.val;
    *critical = has_c && c.val.len == 1 && c.val.p[0] != 0;
    *value = v.val;
    return 0;
}

/* The parts of a CertificateList the checks need (spans into the DER). */
typedef struct crl_der {
    smime_span tbs;          /* tbsCertList, tag to end: the signed bytes */
    smime_span alg, tbs_alg; /* signatureAlgorithm and tbsCertList.signature TLVs */
    smime_span alg_oid;      /* content of signatureAlgorithm's OID */
    smime_span sig;          /* signatureValue without its unused-bits octet */
    smime_span issuer;       /* issuer Name TLV */
} crl_der;

/* One revokedCertificates entry into e.  0, -1 malformed, -2 unusable (err set). */
static int der_entry(const smime_der_tlv *entry, crl_entry *e, smime_rev_answer *err)
{
    smime_der_reader r;
    smime_der_tlv serial, when, exts;
    if (entry->tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, entry->val);
    int has_exts;
    if (smime_der_expect(&r, SMIME_DER_INTEGER, &serial) < 0 || serial.val.len == 0 ||
        smime_der_next(&r, &when) != 1 || der_time(&when, &e->when) < 0 ||
        (has_exts = smime_der_optional(&r, SMIME_DER_SEQUENCE, &exts)) < 0 || !smime_der_at_end(&r))
        return -1;
    const unsigned char *sp;
    size_t sn;
    serial_norm(serial.val.p, serial.val.len, &sp, &sn);
    if (sn > SERIAL_MAX)
        return -1;
    memcpy(e->serial, sp, sn);
    e->len = (unsigned char)sn;
    e->reason = -1;
    if (!has_exts)
        return 0;
    smime_der_reader xr;
    smime_der_tlv ext;
    smime_der_reader_init(&xr, exts.val);
    int rc;
    while ((rc = smime_der_next(&xr, &ext)) == 1) {
        smime_span oid, value;
        int critical;
        if (der_extension(&ext, &oid, &critical, &value) < 0)
            return -1;
        if (SMIME_OID_EQ(oid, "\x55\x1d\x15")) {               /* reasonCode */
            smime_der_tlv en;
            if (smime_der_parse_one(value, &en) < 0 || en.tag != 0x0a || en.val.len != 1 ||
                en.val.p[0] > 10)
                return -1;
            e->reason = (signed char)en.val.p[0];
            e->bad_reason = critical || e->reason == 0;
        } else if (SMIME_OID_EQ(oid, "\x55\x1d\x1d")) {        /* certificateIssuer */
            answer(err, SMIME_REV_UNKNOWN, "crl-scope", "CRL is indirect (certificateIssuer entries)");
            return -2;
        } else if (critical && !SMIME_OID_EQ(oid, "\x55\x1d\x18")) {  /* invalidityDate */
            answer(err, SMIME_REV_UNKNOWN, "crl-scope", "CRL entry has an unknown critical extension");
            return -2;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* crlExtensions: a delta CRL, an indirect or reason-limited one, or an unknown
 * critical extension makes the CRL unusable (-2); IDP scope is kept. */
static int der_crl_extensions(smime_span list, smime_crl *crl, smime_rev_answer *err)
{
    smime_der_tlv seq, ext;
    if (smime_der_parse_one(list, &seq) < 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader r;
    smime_der_reader_init(&r, seq.val);
    int rc;
    while ((rc = smime_der_next(&r, &ext)) == 1) {
        smime_span oid, value;
        int critical;
        if (der_extension(&ext, &oid, &critical, &value) < 0)
            return -1;
        if (SMIME_OID_EQ(oid, "\x55\x1d\x1b")) {               /* deltaCRLIndicator */
            answer(err, SMIME_REV_UNKNOWN, "crl-scope", "CRL is a delta CRL, not a complete list");
            return -2;
        }
        if (SMIME_OID_EQ(oid, "\x55\x1d\x1c")) {               /* issuingDistributionPoint */
            if (read_idp(value, crl) < 0) {
                answer(err, SMIME_REV_UNKNOWN, "crl-scope",
                       "CRL covers only some reasons or is indirect; it cannot show a certificate is good");
                return -2;
            }
            continue;
        }
        if (critical && !SMIME_OID_EQ(oid, "\x55\x1d\x14") &&   /* cRLNumber */
            !SMIME_OID_EQ(oid, "\x55\x1d\x23")) {               /* authorityKeyIdentifier */
            char text[64];
            if (smime_der_oid_to_text(oid, text, sizeof(text)) < 0)
                snprintf(text, sizeof(text), "?");
            answer(err, SMIME_REV_UNKNOWN, "crl-scope", "CRL has an unknown critical extension %s",
                   text);
            return -2;
        }
    }
    return rc < 0 ? -1 : 0;
}

/* Reads a DER CertificateList into crl and d.  0, -1 when not (strict) DER, -2
 * when well-formed but unusable (err set). */
static int der_crl(const unsigned char *der, size_t len, smime_crl *crl, crl_der *d,
                   smime_rev_answer *err)
{
    smime_der_tlv top, tbs, alg, sig, el, oid;
    smime_der_reader r;
    if (smime_der_parse_one((smime_span){ der, len }, &top) < 0 || top.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, top.val);
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &tbs) < 0 ||
        smime_der_expect(&r, SMIME_DER_SEQUENCE, &alg) < 0 ||
        smime_der_expect(&r, SMIME_DER_BIT_STRING, &sig) < 0 || !smime_der_at_end(&r) ||
        sig.val.len < 2 || sig.val.p[0] != 0)
        return -1;
    d->tbs = tbs.tlv;
    d->alg = alg.tlv;
    d->sig = (smime_span){ sig.val.p + 1, sig.val.len - 1 };
    smime_der_reader_init(&r, alg.val);
    if (smime_der_expect(&r, SMIME_DER_OID, &oid) < 0)
        return -1;
    d->alg_oid = oid.val;

    smime_der_reader_init(&r, tbs.val);
    if (smime_der_optional(&r, SMIME_DER_INTEGER, &el) < 0 ||                /* version */
        smime_der_expect(&r, SMIME_DER_SEQUENCE, &el) < 0)                   /* signature */
        return -1;
    d->tbs_alg = el.tlv;
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &el) < 0)                   /* issuer */
        return -1;
    d->issuer = el.tlv;
    if (smime_der_next(&r, &el) != 1 || der_time(&el, &crl->this_update) < 0)
        return -1;
    int more = smime_der_next(&r, &el);
    if (more == 1 && is_time_tag(el.tag)) {                                  /* nextUpdate */
        if (der_time(&el, &crl->next_update) < 0)
            return -1;
        more = smime_der_next(&r, &el);
    }
    smime_der_tlv list = { 0 };
    if (more == 1 && el.tag == SMIME_DER_SEQUENCE) {                         /* revoked */
        list = el;
        more = smime_der_next(&r, &el);
    }
    if (more == 1 && el.tag == SMIME_DER_CTXC(0)) {                          /* extensions */
        int rc = der_crl_extensions(el.val, crl, err);
        if (rc < 0)
            return rc;
        more = smime_der_next(&r, &el);
    }
    if (more != 0)
        return -1;
    if (!list.tlv.p)
        return 0;
    /* Two passes: count, then fill; the count is bounded by the bytes we hold. */
    size_t count = 0;
    smime_der_reader er;
    smime_der_reader_init(&er, list.val);
    while ((more = smime_der_next(&er, &el)) == 1)
        count++;
    if (more < 0)
        return -1;
    crl->entries = count ? calloc(count, sizeof(crl_entry)) : NULL;
    if (count && !crl->entries) {
        answer(err, SMIME_REV_UNKNOWN, "error", "out of memory reading a CRL");
        return -2;
    }
    smime_der_reader_init(&er, list.val);
    while (smime_der_next(&er, &el) == 1) {
        int rc = der_entry(&el, &crl->entries[crl->n], err);
        if (rc < 0)
            return rc;
        crl->n++;
    }
    return 0;
}

/* Checks with our reader's spans: the issuer's name, its right to sign CRLs, and
 * the signature.  Returns 0, -1 with err set, or 1 when the signature algorithm
 * needs GnuTLS's own CRL verification (RSA-PSS, unknown OIDs). */
static int der_verify(const crl_der *d, gnutls_x509_crt_t issuer, smime_crl *crl,
                      smime_rev_answer *err)
{
    gnutls_datum_t dn = { NULL, 0 };
    int same = gnutls_x509_crt_get_raw_dn(issuer, &dn) >= 0 && dn.size == d->issuer.len &&
               memcmp(dn.data, d->issuer.p, dn.size) == 0;
    gnutls_free(dn.data);
    if (!same) {
        answer(err, SMIME_REV_UNKNOWN, "bad-signature", "CRL was not issued by the certificate's CA");
        return -1;
    }
    unsigned usage = 0;
    if (gnutls_x509_crt_get_key_usage(issuer, &usage, NULL) >= 0 &&
        !(usage & GNUTLS_KEY_CRL_SIGN)) {
        answer(err, SMIME_REV_UNKNOWN, "bad-signature",
               "the CA's key usage does not allow signing CRLs");
        return -1;
    }
    if (d->alg.len != d->tbs_alg.len || memcmp(d->alg.p, d->tbs_alg.p, d->alg.len) != 0) {
        answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL names two different signature algorithms");
        return -1;
    }
    char oid[64];
    if (smime_der_oid_to_text(d->alg_oid, oid, sizeof(oid)) < 0)
        return 1;
    gnutls_sign_algorithm_t sign = gnutls_oid_to_sign(oid);
    if (sign == GNUTLS_SIGN_UNKNOWN || strcmp(oid, "1.2.840.113549.1.1.10") == 0)
        return 1;                                   /* RSA-PSS carries parameters */
    crl->sha1 = gnutls_sign_get_hash_algorithm(sign) == GNUTLS_DIG_SHA1;
    gnutls_pubkey_t key;
    if (gnutls_pubkey_init(&key) < 0) {
        answer(err, SMIME_REV_UNKNOWN, "error", "out of memory checking a CRL");
        return -1;
    }
    gnutls_datum_t tbs = { (unsigned char *)d->tbs.p, (unsigned)d->tbs.len };
    gnutls_datum_t sig = { (unsigned char *)d->sig.p, (unsigned)d->sig.len };
    /* SHA-1 is allowed here: ocsp.c's rule (believed for revoked, never for good)
     * is applied at lookup. */
    int rc = gnutls_pubkey_import_x509(key, issuer, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_verify_data2(key, sign, GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1, &tbs, &sig);
    gnutls_pubkey_deinit(key);
    if (rc < 0) {
        answer(err, SMIME_REV_UNKNOWN, "bad-signature", "%s",
               rc == GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM
                   ? "CRL is signed with an insecure or unsupported algorithm"
                   : "CRL signature does not verify with the issuing CA's key");
        if (crl->sha1)
            err->findings |= SMIME_REV_FINDING_CRL_SHA1;
        return -1;
    }
    return 0;
}

/* Copies a span into GnuTLS-allocated storage (freed with gnutls_free). */
static int span_copy(gnutls_datum_t *out, smime_span s)
{
    out->data = gnutls_malloc(s.len ? s.len : 1);
    if (!out->data)
        return -1;
    memcpy(out->data, s.p, s.len);
    out->size = (unsigned)s.len;
    return 0;
}

/* ---- GnuTLS, for small CRLs only ------------------------------------------------ */

/* Extensions, read by GnuTLS: a delta CRL or an unknown critical one makes the
 * CRL unusable. */
static int check_extensions(gnutls_x509_crl_t c, smime_crl *crl, smime_rev_answer *err)
{
    for (unsigned i = 0; i < 64; i++) {
        char oid[128];
        size_t osz = sizeof(oid);
        unsigned critical = 0;
        int rc = gnutls_x509_crl_get_extension_info(c, i, oid, &osz, &critical);
        if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            return 0;
        if (rc < 0) {
            answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL extensions unreadable");
            return -1;
        }
        if (strcmp(oid, "2.5.29.27") == 0) {
            answer(err, SMIME_REV_UNKNOWN, "crl-scope", "CRL is a delta CRL, not a complete list");
            return -1;
        }
        if (strcmp(oid, "2.5.29.28") == 0) {
            gnutls_datum_t v = { NULL, 0 };
            int bad = gnutls_x509_crl_get_extension_data2(c, i, &v) < 0 ||
                      read_idp((smime_span){ v.data, v.size }, crl) < 0;
            gnutls_free(v.data);
            if (bad) {
                answer(err, SMIME_REV_UNKNOWN, "crl-scope",
                       "CRL covers only some reasons or is indirect; it cannot show a certificate is good");
                return -1;
            }
            continue;
        }
        if (critical && strcmp(oid, "2.5.29.20") != 0 && strcmp(oid, "2.5.29.35") != 0) {
            answer(err, SMIME_REV_UNKNOWN, "crl-scope", "CRL has an unknown critical extension %.60s",
                   oid);
            return -1;
        }
    }
    return 0;
}

/* Serials and dates, read by GnuTLS (which has no call for reasonCode). */
static int read_entries(gnutls_x509_crl_t c, smime_crl *crl)
{
    int count = gnutls_x509_crl_get_crt_count(c);
    if (count < 0)
        return -1;
    crl->entries = count ? calloc((size_t)count, sizeof(crl_entry)) : NULL;
    if (count && !crl->entries)
        return -1;
    gnutls_x509_crl_iter_t iter = NULL;
    size_t n = 0;
    for (;;) {
        unsigned char serial[64];
        size_t sz = sizeof(serial);
        time_t t = 0;
        int rc = gnutls_x509_crl_iter_crt_serial(c, &iter, serial, &sz, &t);
        if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (rc < 0 || n >= (size_t)count) {
            gnutls_x509_crl_iter_deinit(iter);
            return -1;
        }
        const unsigned char *sp;
        size_t sn;
        serial_norm(serial, sz, &sp, &sn);
        if (sn > SERIAL_MAX) {
            gnutls_x509_crl_iter_deinit(iter);
            return -1;
        }
        crl_entry *e = &crl->entries[n++];
        memcpy(e->serial, sp, sn);
        e->len = (unsigned char)sn;
        e->reason = -1;
        e->when = (int64_t)t;
    }
    gnutls_x509_crl_iter_deinit(iter);
    crl->n = n;
    if (n > 1)
        qsort(crl->entries, n, sizeof(crl_entry), entry_cmp);
    return 0;
}

/* Verifies (and, when `entries`, reads) a CRL with GnuTLS.  0 or -1 (err set). */
static int crl_by_gnutls(const unsigned char *der, size_t len, gnutls_x509_crt_t issuer,
                         int entries, smime_crl *crl, smime_rev_answer *err)
{
    gnutls_x509_crl_t c;
    if (gnutls_x509_crl_init(&c) < 0) {
        answer(err, SMIME_REV_UNKNOWN, "error", "out of memory reading a CRL");
        return -1;
    }
    gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
    int rc = -1;
    if (gnutls_x509_crl_import(c, &d, GNUTLS_X509_FMT_DER) < 0) {
        answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL is not a well-formed CertificateList");
        goto done;
    }
    unsigned status = 0;
    /* Time is judged at lookup against the evaluation time, not the system clock. */
    unsigned time_bits = GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
                         GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE;
    int vr = gnutls_x509_crl_verify(c, &issuer, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status);
    /* GnuTLS still judges the CRL's dates by the system clock and then also sets
     * GNUTLS_CERT_INVALID: neither counts when a date bit is the only reason. */
    if (status & time_bits) {
        status &= ~time_bits;
        if (status == GNUTLS_CERT_INVALID)
            status = 0;
    }
    int sig = gnutls_x509_crl_get_signature_algorithm(c);
    crl->sha1 = sig > 0 &&
                gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig) == GNUTLS_DIG_SHA1;
    if (vr < 0 || status != 0) {
        if (crl->sha1)
            err->findings |= SMIME_REV_FINDING_CRL_SHA1;
        answer(err, SMIME_REV_UNKNOWN, "bad-signature", "%s",
               status & GNUTLS_CERT_SIGNER_NOT_FOUND ? "CRL was not issued by the certificate's CA"
               : status & GNUTLS_CERT_INSECURE_ALGORITHM ? "CRL is signed with an insecure algorithm"
               : "CRL signature does not verify with the issuing CA's key");
        goto done;
    }
    if (entries) {
        if (check_extensions(c, crl, err) < 0)
            goto done;
        time_t tu = gnutls_x509_crl_get_this_update(c), nu = gnutls_x509_crl_get_next_update(c);
        crl->this_update = (int64_t)tu;
        crl->next_update = nu == (time_t)-1 ? 0 : (int64_t)nu;
        if (gnutls_x509_crl_get_raw_issuer_dn(c, &crl->issuer_dn) < 0 || read_entries(c, crl) < 0) {
            answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL entries unreadable");
            goto done;
        }
    }
    rc = 0;
done:
    gnutls_x509_crl_deinit(c);
    return rc;
}

int smime_crl_claimed_issuer(const unsigned char *data, size_t len, gnutls_datum_t *out)
{
    out->data = NULL;
    out->size = 0;
    gnutls_datum_t pem_der = { NULL, 0 };
    if (len > 11 && memcmp(data, "-----BEGIN ", 11) == 0 && len <= 0x7fffffff) {
        gnutls_datum_t in = { (unsigned char *)data, (unsigned)len };
        if (gnutls_pem_base64_decode2("X509 CRL", &in, &pem_der) < 0)
            return -1;
        data = pem_der.data;
        len = pem_der.size;
    }
    /* Only the headers on the way to the Name are read: quick on any size. */
    smime_der_tlv top, tbs, el;
    smime_der_reader r;
    int rc = -1;
    if (smime_der_parse_one((smime_span){ data, len }, &top) == 0 && top.tag == SMIME_DER_SEQUENCE) {
        smime_der_reader_init(&r, top.val);
        if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &tbs) == 0) {
            smime_der_reader_init(&r, tbs.val);
            if (smime_der_optional(&r, SMIME_DER_INTEGER, &el) >= 0 &&
                smime_der_expect(&r, SMIME_DER_SEQUENCE, &el) == 0 &&
                smime_der_expect(&r, SMIME_DER_SEQUENCE, &el) == 0)
                rc = span_copy(out, el.tlv);
        }
    } else if (len <= GNUTLS_MAX_BYTES) {           /* not DER: ask GnuTLS, small only */
        gnutls_x509_crl_t c;
        if (gnutls_x509_crl_init(&c) >= 0) {
            gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };
            if (gnutls_x509_crl_import(c, &d, GNUTLS_X509_FMT_DER) >= 0 &&
                gnutls_x509_crl_get_raw_issuer_dn(c, out) >= 0)
                rc = 0;
            gnutls_x509_crl_deinit(c);
        }
    }
    gnutls_free(pem_der.data);
    return rc;
}

/* Frees what a CRL holds and zeroes it, ready to be filled again. */
static void crl_clear(smime_crl *crl)
{
    gnutls_free(crl->issuer_dn.data);
    for (size_t i = 0; i < crl->n_idp_uris; i++)
        free(crl->idp_uris[i]);
    free(crl->entries);
    memset(crl, 0, sizeof(*crl));
}

int smime_crl_load(const unsigned char *data, size_t len, gnutls_x509_crt_t issuer,
                   smime_crl **out, smime_rev_answer *err)
{
    *out = NULL;
    memset(err, 0, sizeof(*err));
    err->crl_reason = -1;
    err->source = "crl";
    if (len == 0 || len > 0x7fffffff) {
        answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL is empty or too large");
        return -1;
    }
    smime_crl *crl = calloc(1, sizeof(*crl));
    if (!crl) {
        answer(err, SMIME_REV_UNKNOWN, "error", "out of memory reading a CRL");
        return -1;
    }
    gnutls_datum_t pem_der = { NULL, 0 };
    if (len > 11 && memcmp(data, "-----BEGIN ", 11) == 0) {
        gnutls_datum_t in = { (unsigned char *)data, (unsigned)len };
        if (gnutls_pem_base64_decode2("X509 CRL", &in, &pem_der) < 0) {
            answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL is not a PEM \"X509 CRL\"");
            free(crl);
            return -1;
        }
        data = pem_der.data;
        len = pem_der.size;
    }
    crl_der d;
    memset(&d, 0, sizeof(d));
    int rc = der_crl(data, len, crl, &d, err);
    if (rc == 0) {
        rc = der_verify(&d, issuer, crl, err);
        if (rc == 1 && len <= GNUTLS_MAX_BYTES) {   /* an algorithm only GnuTLS's CRL code knows */
            rc = crl_by_gnutls(data, len, issuer, 0, crl, err);
        } else if (rc == 1) {
            answer(err, SMIME_REV_UNKNOWN, "bad-signature",
                   "CRL signature algorithm not supported for a CRL this large");
            rc = -1;
        }
        if (rc == 0 && span_copy(&crl->issuer_dn, d.issuer) < 0)
            rc = -1;
    } else if (rc == -1) {
        /* Not strict DER: GnuTLS is more lenient, and quick enough on small lists.
         * Whatever our parse kept before it gave up is dropped first (the
         * partition URIs leaked here: found by fuzz_crl). */
        crl_clear(crl);
        if (len > GNUTLS_MAX_BYTES) {
            answer(err, SMIME_REV_UNKNOWN, "malformed", "CRL is not DER");
        } else {
            rc = crl_by_gnutls(data, len, issuer, 1, crl, err);
            crl->reasons_unread = 1;
        }
    }
    if (rc == 0 && issuer_id(issuer, crl->verified_with) < 0) {
        answer(err, SMIME_REV_UNKNOWN, "error", "CA certificate signature unreadable");
        rc = -1;
    }
    gnutls_free(pem_der.data);
    if (rc != 0) {
        if (!err->code)
            answer(err, SMIME_REV_UNKNOWN, "error", "out of memory reading a CRL");
        smime_crl_free(crl);
        return -1;
    }
    if (crl->n > 1)
        qsort(crl->entries, crl->n, sizeof(crl_entry), entry_cmp);
    *out = crl;
    return 0;
}

void smime_crl_free(smime_crl *crl)
{
    if (!crl)
        return;
    crl_clear(crl);
    free(crl);
}

int smime_crl_names_issuer(const smime_crl *crl, gnutls_x509_crt_t issuer)
{
    gnutls_datum_t dn = { NULL, 0 };
    if (gnutls_x509_crt_get_raw_dn(issuer, &dn) < 0)
        return 0;
    int eq = dn.size == crl->issuer_dn.size && memcmp(dn.data, crl->issuer_dn.data, dn.size) == 0;
    gnutls_free(dn.data);
    return eq;
}

int smime_crl_verified_with(const smime_crl *crl, gnutls_x509_crt_t issuer)
{
    unsigned char id[32];
    return issuer_id(issuer, id) == 0 && memcmp(id, crl->verified_with, sizeof(id)) == 0;
}

int64_t smime_crl_next_update(const smime_crl *crl) { return crl->next_update; }
int64_t smime_crl_this_update(const smime_crl *crl) { return crl->this_update; }
size_t  smime_crl_count(const smime_crl *crl) { return crl->n; }
size_t  smime_crl_bytes(const smime_crl *crl)
{
    return sizeof(*crl) + crl->issuer_dn.size + crl->n * sizeof(crl_entry);
}

/* 1 when one of cert's CRL distribution point URIs is one of the partition's.
 * GnuTLS's per-entry getter is slow, but partitioned CRLs are rare. */
static int partition_covers(const smime_crl *crl, gnutls_x509_crt_t cert)
{
    for (unsigned i = 0; i < 32; i++) {
        char buf[URI_MAX];
        size_t size = sizeof(buf);
        int rc = gnutls_x509_crt_get_crl_dist_points(cert, i, buf, &size, NULL, NULL);
        if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue;
        if (rc < 0)
            return 0;
        if ((unsigned)rc != GNUTLS_SAN_URI || size >= sizeof(buf))
            continue;
        buf[size] = '\0';
        for (size_t k = 0; k < crl->n_idp_uris; k++)
            if (strlen(buf) == size && strcmp(buf, crl->idp_uris[k]) == 0)
                return 1;
    }
    return 0;
}

void smime_crl_lookup(const smime_crl *crl, gnutls_x509_crt_t cert, const smime_rev_time *t,
                      smime_rev_answer *out)
{
    memset(out, 0, sizeof(*out));
    out->crl_reason = -1;
    out->this_update = crl->this_update;
    out->next_update = crl->next_update;
    char when[32];
    if (crl->this_update > t->now + t->skew) {
        smime_time_format(crl->this_update, when, sizeof(when));
        answer(out, SMIME_REV_UNKNOWN, "not-yet-valid", "CRL is dated %s, in the future", when);
        return;
    }
    int64_t fresh_until = crl->next_update ? crl->next_update : crl->this_update + t->max_age;
    if (t->now > fresh_until + t->skew) {
        smime_time_format(fresh_until, when, sizeof(when));
        answer(out, SMIME_REV_UNKNOWN, "crl-expired", "CRL expired on %s (nextUpdate)", when);
        return;
    }
    unsigned ca = 0;
    int is_ca = gnutls_x509_crt_get_basic_constraints(cert, NULL, &ca, NULL) >= 0 && ca;
    /* SBR section 9 observations: they never change the answer. */
    if (crl->sha1)
        out->findings |= SMIME_REV_FINDING_CRL_SHA1;
    if (!crl->next_update ||
        crl->next_update - crl->this_update > (is_ca ? 366 : 10) * (int64_t)86400)
        out->findings |= SMIME_REV_FINDING_CRL_INTERVAL;
    if ((crl->only_user && is_ca) || (crl->only_ca && !is_ca)) {
        answer(out, SMIME_REV_UNKNOWN, "crl-scope", "CRL covers only %s certificates",
               crl->only_ca ? "CA" : "end-entity");
        return;
    }
    if (crl->n_idp_uris && !partition_covers(crl, cert)) {
        answer(out, SMIME_REV_UNKNOWN, "crl-scope",
               "CRL is a partition (published at %.200s) that does not cover this certificate",
               crl->idp_uris[0]);
        return;
    }
    unsigned char serial[64];
    size_t sz = sizeof(serial);
    if (gnutls_x509_crt_get_serial(cert, serial, &sz) < 0) {
        answer(out, SMIME_REV_UNKNOWN, "malformed", "certificate serial number unreadable");
        return;
    }
    const unsigned char *sp;
    size_t sn;
    serial_norm(serial, sz, &sp, &sn);
    const crl_entry *e = entry_find(crl, sp, sn);
    if (!e) {
        if (crl->sha1)       /* see ocsp.c: SHA-1 cannot vouch for "good" */
            answer(out, SMIME_REV_UNKNOWN, "insecure-algorithm",
                   "CRL signed with SHA-1 cannot show the certificate is not revoked");
        else
            answer(out, SMIME_REV_GOOD, "good", "CRL: not listed");
        return;
    }
    out->revocation_time = e->when;
    out->crl_reason = e->reason;
    if (e->bad_reason)
        out->findings |= SMIME_REV_FINDING_CRL_REASON;
    if (!crl->reasons_unread && is_ca &&
        (e->reason < 0 || e->reason == GNUTLS_X509_CRLREASON_CERTIFICATEHOLD))
        out->findings |= SMIME_REV_FINDING_CRL_CA_REASON;
    if (!crl->reasons_unread && !is_ca && e->reason < 0)
        out->findings |= SMIME_REV_FINDING_CRL_NO_REASON;
    smime_time_format(e->when, when, sizeof(when));
    answer(out, SMIME_REV_REVOKED, "revoked", "CRL: revoked on %s (%s)", when,
           smime_rev_reason_name(e->reason));
}
