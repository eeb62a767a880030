/* cms - SignedData decoding, signer selection, signature verification
 * (see include/smime/crypto/cms.h). */
#include "smime/crypto/cms.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs7.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "smime/crypto/ber.h"
#include "smime/crypto/certcache.h"
#include "smime/crypto/der.h"
#include "smime/crypto/pki.h"
#include "smime/util/text.h"

#define OID_CONTENT_TYPE   "1.2.840.113549.1.9.3"
#define OID_MESSAGE_DIGEST "1.2.840.113549.1.9.4"
/* Certificates looked at in one SignedData, repeats included. */
#define CERT_SCAN_MAX 256
/* A carried certificate is parsed only when something asks for it: parsing is
 * most of what a warm verification costs, and with a remembered path only the
 * signer's is needed. */
enum { CERT_UNPARSED = 0, CERT_PARSED, CERT_UNREADABLE };

/* What the signer lookup compares, read from a carried certificate's DER
 * without parsing it (spans into that DER): an unused certificate costs this
 * walk and a few compares, not a parse. */
enum { IDS_UNREAD = 0, IDS_READ, IDS_UNREADABLE };
typedef struct cert_ids {
    unsigned char state;       /* IDS_* */
    smime_span    issuer;      /* the issuer Name, whole TLV */
    smime_span    serial;      /* serialNumber content octets */
    smime_span    ski;         /* subjectKeyIdentifier's KeyIdentifier content; p NULL: none */
} cert_ids;

/* What gnutls_pkcs7_get_signature_info reports of a SignerInfo that the
 * verification uses, read by our walk or taken from GnuTLS's (spans into
 * der_cms, or into the GnuTLS answer kept alive beside it). */
typedef struct signer_info {
    gnutls_sign_algorithm_t algo;
    smime_span issuer_dn;      /* sid issuer Name, whole TLV; len 0: by keyid */
    smime_span serial;         /* sid serialNumber content octets */
    smime_span keyid;          /* sid subjectKeyIdentifier content octets */
    int        has_signing_time;
    int64_t    signing_time;
    int        attrs_complete; /* no signed attributes, or contentType and messageDigest among them */
} signer_info;

/* The SignedData's parts as read_outline() finds them: spans into der_cms. */
typedef struct sd_outline {
    int        plain;          /* exactly what GnuTLS's import demands (see read_outline) */
    smime_span content_type;   /* eContentType OID content */
    smime_span econtent;       /* eContent octets; p NULL when detached */
    smime_span certificates;   /* [0] certificates content; len 0 when absent */
    smime_span signer_infos;   /* signerInfos SET content */
    size_t     n_signers;      /* elements of signerInfos */
    size_t     n_carried;      /* elements of certificates */
} sd_outline;

struct smime_cms {
    gnutls_pkcs7_t     pkcs7;      /* NULL until the reference path, the embedded content
                                    * or a SignedData our walk cannot read asks for it */
    int                walked;     /* our DER walk read the SignedData: signers and
                                    * certificates come from it, not from GnuTLS */
    sd_outline         outline;    /* that walk's answer, when have_outline */
    int                have_outline;
    gnutls_datum_t    *der;        /* [n_certs] the distinct certificates kept: slices of
                                    * der_cms, or owned copies when der_owned */
    int                der_owned;
    cert_ids          *ids;        /* [n_certs] read on the first signer lookup */
    unsigned char      pool_digest[32];  /* of der[] in order, made by smime_cms_pool */
    int                have_pool_digest;
    gnutls_x509_crt_t *certs;      /* [n_certs] parsed forms, owned; NULL until parsed */
    unsigned char     *parse;      /* [n_certs] CERT_* */
    size_t             n_certs;
    gnutls_x509_crt_t *readable;   /* smime_cms_certs' answer, made on its first call */
    size_t             n_readable;
    unsigned           n_signers;
    size_t             n_certs_carried;  /* in the SignedData, read or not */
    size_t             n_certs_unread;   /* distinct ones past the cap, or never looked at */
    uint8_t           *der_cms;    /* the SignedData re-encoded as DER, owned; GnuTLS reads this */
    size_t             der_cms_len;
    smime_key_limits   key_limits;
    int                gnutls_verify;  /* gnutls_pkcs7_verify_direct, not ours (a diagnostic) */
    smime_cert_cache  *cache;      /* where certificates are parsed; NULL: here, each time */
    smime_cached_cert **held;      /* [n_certs] the cache's entries behind certs[], held */
};

const char *smime_sig_status_code(smime_sig_status st)
{
    static const char *const codes[] = {
        [SMIME_SIG_OK] = "ok",
        [SMIME_SIG_NO_CERT] = "signer-cert-missing",
        [SMIME_SIG_BAD] = "bad-signature",
        [SMIME_SIG_UNSUPPORTED] = "unsupported-algorithm",
        [SMIME_SIG_MALFORMED] = "malformed-cms",
        [SMIME_SIG_WEAK] = "weak-algorithm",
        [SMIME_SIG_KEY_USAGE] = "key-usage",
        [SMIME_SIG_LIMIT] = "limit",
    };
    return (unsigned)st < sizeof(codes) / sizeof(codes[0]) && codes[st] ? codes[st] : "malformed-cms";
}

#define DER_OID_SIGNED_DATA "\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"

/* Reads the SignedData's outline from its DER (RFC 5652 5.1): ContentInfo {
 * contentType, [0] SignedData { version, digestAlgorithms, encapContentInfo {
 * eContentType, [0] eContent? }, [0] certificates?, [1] crls?, signerInfos } }.
 * 0 when that much can be read, else -1.  out->plain says whether it is also
 * exactly what GnuTLS's import demands: id-signedData, nothing after the [0]
 * SignedData, the encapContentInfo or the signerInfos, every SignerInfo a
 * SEQUENCE, every carried certificate a readable element.  Only a plain outline
 * stands in for GnuTLS's reading; the signer's fields are read from any. */
static int read_outline(smime_span der, sd_outline *out)
{
    memset(out, 0, sizeof(*out));
    smime_der_tlv ci, t, sd, ec, x, el;
    smime_der_reader r, er, sr;
    int plain = 1, rc;
    if (smime_der_parse_one(der, &ci) < 0 || ci.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, ci.val);
    if (smime_der_expect(&r, SMIME_DER_OID, &t) < 0)
        return -1;
    plain &= SMIME_OID_EQ(t.val, DER_OID_SIGNED_DATA);
    if (smime_der_expect(&r, SMIME_DER_CTXC(0), &t) < 0)
        return -1;
    plain &= smime_der_at_end(&r);
    if (smime_der_parse_one(t.val, &sd) < 0 || sd.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, sd.val);
    if (smime_der_expect(&r, SMIME_DER_INTEGER, &t) < 0 || smime_der_expect(&r, SMIME_DER_SET, &t) < 0 ||
        smime_der_expect(&r, SMIME_DER_SEQUENCE, &ec) < 0)
        return -1;
    smime_der_reader_init(&er, ec.val);
    if (smime_der_expect(&er, SMIME_DER_OID, &t) < 0)
        return -1;
    out->content_type = t.val;
    if ((rc = smime_der_optional(&er, SMIME_DER_CTXC(0), &x)) < 0)
        return -1;
    if (rc == 1) {
        if (smime_der_parse_one(x.val, &t) < 0 || t.tag != SMIME_DER_OCTET_STRING)
            return -1;
        out->econtent = t.val;
        if (!out->econtent.p)
            out->econtent.p = x.val.p;      /* empty content is still content */
    }
    plain &= smime_der_at_end(&er);
    if ((rc = smime_der_optional(&r, SMIME_DER_CTXC(0), &x)) < 0)
        return -1;
    if (rc == 1) {
        out->certificates = x.val;
        smime_der_reader_init(&sr, x.val);
        while ((rc = smime_der_next(&sr, &el)) == 1)
            out->n_carried++;
        plain &= rc == 0;
    }
    if (smime_der_optional(&r, SMIME_DER_CTXC(1), &x) < 0 || smime_der_expect(&r, SMIME_DER_SET, &x) < 0)
        return -1;
    out->signer_infos = x.val;
    plain &= smime_der_at_end(&r);
    smime_der_reader_init(&sr, x.val);
    while ((rc = smime_der_next(&sr, &el)) == 1) {
        plain &= el.tag == SMIME_DER_SEQUENCE;
        out->n_signers++;
    }
    out->plain = plain && rc == 0;
    return 0;
}

/* GnuTLS's reading of the SignedData, made once, when first needed. */
static int import_pkcs7(smime_cms *cms)
{
    if (cms->pkcs7)
        return 0;
    int rc = gnutls_pkcs7_init(&cms->pkcs7);
    if (rc < 0) {
        cms->pkcs7 = NULL;
        return rc;
    }
    gnutls_datum_t d = { cms->der_cms, (unsigned)cms->der_cms_len };
    rc = gnutls_pkcs7_import(cms->pkcs7, &d, GNUTLS_X509_FMT_DER);
    if (rc < 0) {
        gnutls_pkcs7_deinit(cms->pkcs7);
        cms->pkcs7 = NULL;
    }
    return rc;
}

int smime_cms_open(const unsigned char *der, size_t len, unsigned max_certs, smime_cms **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    if (!der || len == 0) {
        snprintf(err, errlen, "empty signature");
        return -1;
    }
    if (len > UINT32_MAX) {
        snprintf(err, errlen, "signature too large");
        return -1;
    }
    smime_cms *cms = calloc(1, sizeof(*cms));
    if (cms)
        cms->key_limits = (smime_key_limits)SMIME_KEY_LIMITS_DEFAULT;
    if (!cms) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Senders write BER (NSS: indefinite lengths, nested OCTET STRING segments)
     * and GnuTLS follows it only part of the way, then reports a plain signature
     * failure.  So GnuTLS only ever sees DER, whatever the sender wrote.  This
     * changes nothing that is signed: the signature covers the DER of the signed
     * attributes (RFC 5652 5.4, a SET OF re-encoded by the verifier anyway) or,
     * without them, the content octets, and those octets are the same however
     * they are segmented; messageDigest is a hash of the content octets too.
     * Re-encoding can also not turn a failing message into anything but a
     * failure: a tampered message fails on its DER form exactly as on its BER
     * form, and BER that cannot be read is refused here, as any garbage is. */
    char why[SMIME_TEXT_MAX];
    if (smime_ber_to_der((smime_span){ der, len }, &cms->der_cms, &cms->der_cms_len, why,
                         sizeof(why)) < 0) {
        snprintf(err, errlen, "signature is not a readable CMS SignedData (%s)", why);
        smime_cms_free(cms);
        return -1;
    }
    /* Our walk reads what the fast path needs; GnuTLS's import (libtasn1 over the
     * whole structure, certificates included) is left for the reference path
     * and for what our walk cannot read, whose errors it words as before. */
    cms->have_outline = read_outline((smime_span){ cms->der_cms, cms->der_cms_len }, &cms->outline) == 0;
    cms->walked = cms->have_outline && cms->outline.plain;
    int n, nc;
    if (cms->walked) {
        n = cms->outline.n_signers > INT32_MAX ? INT32_MAX : (int)cms->outline.n_signers;
        nc = cms->outline.n_carried > INT32_MAX ? INT32_MAX : (int)cms->outline.n_carried;
    } else {
        int rc = import_pkcs7(cms);
        if (rc < 0) {
            snprintf(err, errlen, "signature is not a readable CMS SignedData (%s)",
                     gnutls_strerror(rc));
            smime_cms_free(cms);
            return -1;
        }
        n = gnutls_pkcs7_get_signature_count(cms->pkcs7);
        nc = gnutls_pkcs7_get_crt_count(cms->pkcs7);
    }
    if (n <= 0) {
        snprintf(err, errlen, "CMS SignedData has no SignerInfo");
        smime_cms_free(cms);
        return -1;
    }
    cms->n_signers = (unsigned)n;
    /* Up to max_certs distinct certificates are kept; repeats cost a look, not a
     * place, and the look itself stops at CERT_SCAN_MAX. */
    size_t carried = nc > 0 ? (size_t)nc : 0;
    size_t scan = carried < CERT_SCAN_MAX ? carried : CERT_SCAN_MAX;
    cms->n_certs_carried = carried;
    cms->n_certs_unread = carried - scan;
    if (max_certs) {
        cms->der = calloc(max_certs, sizeof(*cms->der));
        cms->certs = calloc(max_certs, sizeof(*cms->certs));
        cms->parse = calloc(max_certs, sizeof(*cms->parse));
        cms->held = calloc(max_certs, sizeof(*cms->held));
        cms->ids = calloc(max_certs, sizeof(*cms->ids));
        if (!cms->der || !cms->certs || !cms->parse || !cms->held || !cms->ids) {
            snprintf(err, errlen, "out of memory");
            smime_cms_free(cms);
            return -1;
        }
    }
    smime_der_reader cr;
    int sliced = cms->walked;
    if (sliced)
        smime_der_reader_init(&cr, cms->outline.certificates);
    cms->der_owned = !sliced;
    for (size_t i = 0; i < scan && max_certs; i++) {
        gnutls_datum_t raw = { NULL, 0 };
        if (sliced) {
            /* what gnutls_pkcs7_get_crt_raw2 hands back, without its copy: the
             * element's bytes, when it is the certificate choice (a SEQUENCE) */
            smime_der_tlv el;
            if (smime_der_next(&cr, &el) != 1)
                break;
            if (el.tag != SMIME_DER_SEQUENCE)
                continue;
            raw = (gnutls_datum_t){ (unsigned char *)el.tlv.p, (unsigned)el.tlv.len };
        } else if (gnutls_pkcs7_get_crt_raw2(cms->pkcs7, (unsigned)i, &raw) < 0) {
            continue;
        }
        /* A certificate carried twice is kept once: path building then tells
         * certificates apart by identity alone. */
        int seen = 0;
        for (size_t k = 0; k < cms->n_certs && !seen; k++)
            seen = cms->der[k].size == raw.size && memcmp(cms->der[k].data, raw.data, raw.size) == 0;
        if (seen) {
            if (!sliced)
                gnutls_free(raw.data);
        } else if (cms->n_certs == max_certs) {
            cms->n_certs_unread++;
            if (!sliced)
                gnutls_free(raw.data);
        } else {
            cms->der[cms->n_certs++] = raw;      /* owned from here unless sliced */
        }
    }
    *out = cms;
    return 0;
}

void smime_cms_free(smime_cms *cms)
{
    if (!cms)
        return;
    for (size_t i = 0; i < cms->n_certs; i++) {
        if (cms->held[i])
            smime_cert_cache_release(cms->cache, cms->held[i]);
        else if (cms->certs[i])
            gnutls_x509_crt_deinit(cms->certs[i]);
        if (cms->der_owned)
            gnutls_free(cms->der[i].data);
    }
    free(cms->held);
    free(cms->ids);
    free(cms->der);
    free(cms->certs);
    free(cms->parse);
    free(cms->readable);
    if (cms->pkcs7)
        gnutls_pkcs7_deinit(cms->pkcs7);
    free(cms->der_cms);
    free(cms);
}

void smime_cms_set_key_limits(smime_cms *cms, const smime_key_limits *lim)
{
    cms->key_limits = *lim;
}

void smime_cms_set_gnutls_verify(smime_cms *cms, int on)
{
    cms->gnutls_verify = on;
}

void smime_cms_set_cert_cache(smime_cms *cms, smime_cert_cache *cache)
{
    for (size_t i = 0; i < cms->n_certs; i++)
        if (cms->parse[i] != CERT_UNPARSED)
            return;                     /* too late: some are parsed here already */
    cms->cache = cache;
}

unsigned smime_cms_signer_count(const smime_cms *cms)
{
    return cms->n_signers;
}

gnutls_x509_crt_t smime_cms_cert(smime_cms *cms, size_t i)
{
    if (i >= cms->n_certs || cms->parse[i] == CERT_UNREADABLE)
        return NULL;
    if (cms->parse[i] == CERT_UNPARSED && cms->cache) {
        cms->held[i] = smime_cert_cache_get(cms->cache, &cms->der[i]);
        cms->certs[i] = cms->held[i] ? smime_cached_cert_crt(cms->held[i]) : NULL;
        cms->parse[i] = cms->held[i] ? CERT_PARSED : CERT_UNREADABLE;
    } else if (cms->parse[i] == CERT_UNPARSED) {
        gnutls_x509_crt_t c = NULL;
        if (gnutls_x509_crt_init(&c) == 0 &&
            gnutls_x509_crt_import(c, &cms->der[i], GNUTLS_X509_FMT_DER) == 0) {
            cms->certs[i] = c;
            cms->parse[i] = CERT_PARSED;
        } else {
            if (c)
                gnutls_x509_crt_deinit(c);
            cms->parse[i] = CERT_UNREADABLE;
        }
    }
    return cms->certs[i];
}

static gnutls_x509_crt_t pool_crt(void *owner, size_t i)
{
    return smime_cms_cert(owner, i);
}

void smime_cms_pool(smime_cms *cms, smime_cert_pool *out)
{
    /* Hashed once per message, not once per signer's path key: the pool is the
     * same for every signer, and with many carried certificates hashing their
     * bytes for each signer was most of what an unused certificate cost. */
    if (!cms->have_pool_digest)
        cms->have_pool_digest = smime_cert_pool_digest(cms->der, cms->n_certs, cms->pool_digest) == 0;
    *out = (smime_cert_pool){ cms->n_certs, cms->der, pool_crt, cms,
                              cms->have_pool_digest ? cms->pool_digest : NULL, 0 };
}

gnutls_x509_crt_t *smime_cms_certs(smime_cms *cms, size_t *n)
{
    if (!cms->readable && cms->n_certs) {
        cms->readable = calloc(cms->n_certs, sizeof(*cms->readable));
        for (size_t i = 0; cms->readable && i < cms->n_certs; i++) {
            gnutls_x509_crt_t c = smime_cms_cert(cms, i);
            if (c)
                cms->readable[cms->n_readable++] = c;
        }
    }
    *n = cms->readable ? cms->n_readable : 0;
    return cms->readable;
}

int smime_cms_content(smime_cms *cms, gnutls_datum_t *out)
{
    if (import_pkcs7(cms) < 0)
        return -1;
    return gnutls_pkcs7_get_embedded_data(cms->pkcs7, 0, out) < 0 ? -1 : 0;
}

static int integer_bytes_equal(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    while (an > 1 && a[0] == 0) {
        a++;
        an--;
    }
    while (bn > 1 && b[0] == 0) {
        b++;
        bn--;
    }
    return an == bn && memcmp(a, b, an) == 0;
}

#define DER_OID_SUBJECT_KEY_ID "\x55\x1d\x0e"

/* Certificate { TBSCertificate { [0] version?, serialNumber, signature, issuer,
 * validity, subject, subjectPublicKeyInfo, [1]?, [2]?, [3] extensions? }, ... }
 * (RFC 5280 4.1): the issuer, the serial and the subjectKeyIdentifier, as spans
 * into der.  0, or -1 when they cannot be read (the caller then asks GnuTLS). */
static int read_cert_ids(const gnutls_datum_t *der, cert_ids *out)
{
    smime_der_tlv cert, tbs, t, exts, ext, oid, val, ski;
    smime_der_reader r, er, xr;
    memset(out, 0, sizeof(*out));
    if (smime_der_parse_one((smime_span){ der->data, der->size }, &cert) < 0 ||
        cert.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, cert.val);
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &tbs) < 0)
        return -1;
    smime_der_reader_init(&r, tbs.val);
    if (smime_der_optional(&r, SMIME_DER_CTXC(0), &t) < 0 || smime_der_expect(&r, SMIME_DER_INTEGER, &t) < 0)
        return -1;
    out->serial = t.val;
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0 || smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0)
        return -1;
    out->issuer = t.tlv;
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0 || smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0 ||
        smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0 || smime_der_optional(&r, SMIME_DER_CTX(1), &t) < 0 ||
        smime_der_optional(&r, SMIME_DER_CTX(2), &t) < 0)
        return -1;
    int rc = smime_der_optional(&r, SMIME_DER_CTXC(3), &t);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return 0;
    if (smime_der_parse_one(t.val, &exts) < 0 || exts.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&er, exts.val);
    while ((rc = smime_der_next(&er, &ext)) == 1) {
        if (ext.tag != SMIME_DER_SEQUENCE)
            return -1;
        smime_der_reader_init(&xr, ext.val);
        if (smime_der_expect(&xr, SMIME_DER_OID, &oid) < 0 || smime_der_optional(&xr, SMIME_DER_BOOLEAN, &t) < 0 ||
            smime_der_expect(&xr, SMIME_DER_OCTET_STRING, &val) < 0)
            return -1;
        if (!SMIME_OID_EQ(oid.val, DER_OID_SUBJECT_KEY_ID))
            continue;
        if (out->ski.p || smime_der_parse_one(val.val, &ski) < 0 || ski.tag != SMIME_DER_OCTET_STRING)
            return -1;                  /* twice, or not a KeyIdentifier: GnuTLS decides */
        out->ski = ski.val;
        if (!out->ski.p)
            out->ski.p = val.val.p;     /* empty, but present */
    }
    return rc < 0 ? -1 : 0;
}

static const cert_ids *ids_of(smime_cms *cms, size_t i)
{
    cert_ids *ids = &cms->ids[i];
    if (ids->state == IDS_UNREAD)
        ids->state = read_cert_ids(&cms->der[i], ids) == 0 ? IDS_READ : IDS_UNREADABLE;
    return ids->state == IDS_READ ? ids : NULL;
}

/* Whether the certificate whose ids are read may be the signer `info` names: a
 * no is final; a yes is confirmed on the parsed certificate by GnuTLS, as a
 * certificate whose ids cannot be read here is judged. */
static int ids_may_match(const cert_ids *ids, const signer_info *info)
{
    if (info->issuer_dn.len > 0)
        return ids->issuer.len == info->issuer_dn.len &&
               memcmp(ids->issuer.p, info->issuer_dn.p, ids->issuer.len) == 0 &&
               integer_bytes_equal(ids->serial.p, ids->serial.len, info->serial.p, info->serial.len);
    if (info->keyid.len > 0)
        return ids->ski.p && ids->ski.len == info->keyid.len &&
               memcmp(ids->ski.p, info->keyid.p, ids->ski.len) == 0;
    return 0;
}

/* The first carried certificate, in order, that is the signer: only that one is
 * parsed (senders put it first), the others are compared as DER slices. */
static gnutls_x509_crt_t find_signer(smime_cms *cms, const signer_info *info, size_t *index)
{
    for (size_t i = 0; i < cms->n_certs; i++) {
        const cert_ids *ids = ids_of(cms, i);
        if (ids && !ids_may_match(ids, info))
            continue;
        gnutls_x509_crt_t c = smime_cms_cert(cms, i);
        if (!c)
            continue;
        if (info->issuer_dn.len > 0) {
            gnutls_datum_t issuer;
            if (gnutls_x509_crt_get_raw_issuer_dn(c, &issuer) < 0)
                continue;
            int same = issuer.size == info->issuer_dn.len &&
                       memcmp(issuer.data, info->issuer_dn.p, issuer.size) == 0;
            gnutls_free(issuer.data);
            unsigned char serial[64];
            size_t sn = sizeof(serial);
            if (same && gnutls_x509_crt_get_serial(c, serial, &sn) == 0 &&
                integer_bytes_equal(serial, sn, info->serial.p, info->serial.len)) {
                *index = i;
                return c;
            }
        } else if (info->keyid.len > 0) {
            unsigned char ski[128];
            size_t sn = sizeof(ski);
            unsigned crit;
            if (gnutls_x509_crt_get_subject_key_id(c, ski, &sn, &crit) == 0 &&
                sn == info->keyid.len && memcmp(ski, info->keyid.p, sn) == 0) {
                *index = i;
                return c;
            }
        }
    }
    return NULL;
}

static smime_sig_status signer_status(smime_cms_signer *out, smime_sig_status st, const char *fmt,
                                      ...) __attribute__((format(printf, 3, 4)));
static smime_sig_status signer_status(smime_cms_signer *out, smime_sig_status st, const char *fmt,
                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
    out->status = st;
    return st;
}

/* CMS (RFC 5652 5.3): when signed attributes are present they must include
 * contentType and messageDigest.  GnuTLS checks their values but not presence. */
static int signed_attrs_complete(gnutls_pkcs7_attrs_t attrs)
{
    if (!attrs)
        return 1;
    int has_ct = 0, has_md = 0;
    for (unsigned i = 0; i < 64; i++) {
        char *oid = NULL;
        gnutls_datum_t val = { NULL, 0 };
        if (gnutls_pkcs7_get_attr(attrs, i, &oid, &val, 0) < 0)
            break;
        if (oid && strcmp(oid, OID_CONTENT_TYPE) == 0)
            has_ct = 1;
        if (oid && strcmp(oid, OID_MESSAGE_DIGEST) == 0)
            has_md = 1;
        gnutls_free(val.data);
    }
    return has_ct && has_md;
}

/* OIDs as DER content octets. */
#define DER_OID_SIGNING_TIME "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x05"
#define DER_OID_RSASSA_PSS "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a"
#define DER_OID_MGF1       "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08"
#define DER_OID_SHA256     "\x60\x86\x48\x01\x65\x03\x04\x02\x01"
#define DER_OID_SHA384     "\x60\x86\x48\x01\x65\x03\x04\x02\x02"
#define DER_OID_SHA512     "\x60\x86\x48\x01\x65\x03\x04\x02\x03"
#define DER_OID_SHA1       "\x2b\x0e\x03\x02\x1a"
#define DER_OID_CONTENT_TYPE   "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x03"
#define DER_OID_MESSAGE_DIGEST "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x04"

/* What the verifier needs of one SignerInfo and its SignedData, read from our
 * DER re-encoding (spans into cms->der_cms). */
typedef struct signer_der {
    smime_der_tlv sid;         /* SignerIdentifier */
    smime_span content_type;   /* eContentType OID content */
    smime_span econtent;       /* eContent octets; p NULL when detached */
    smime_span digest_alg;     /* digestAlgorithm AlgorithmIdentifier content */
    smime_span signed_attrs;   /* the whole [0] element; len 0 when absent */
    smime_span sig_alg;        /* signatureAlgorithm AlgorithmIdentifier content */
    smime_span signature;      /* signature OCTET STRING content */
} signer_der;

/* The idx-th SignerInfo of the SignedData's outline, and what it refers to. */
static int read_signer_der(const smime_cms *cms, unsigned idx, signer_der *out)
{
    memset(out, 0, sizeof(*out));
    if (!cms->have_outline)
        return -1;
    smime_der_tlv t, si;
    smime_der_reader r, sr;
    int rc;
    out->content_type = cms->outline.content_type;
    out->econtent = cms->outline.econtent;
    smime_der_reader_init(&sr, cms->outline.signer_infos);
    for (unsigned i = 0; i <= idx; i++)
        if (smime_der_expect(&sr, SMIME_DER_SEQUENCE, &si) < 0)
            return -1;
    smime_der_reader_init(&r, si.val);
    if (smime_der_expect(&r, SMIME_DER_INTEGER, &t) < 0 || smime_der_next(&r, &out->sid) != 1 ||
        smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0)
        return -1;
    out->digest_alg = t.val;
    rc = smime_der_optional(&r, SMIME_DER_CTXC(0), &t);
    if (rc < 0)
        return -1;
    if (rc == 1)
        out->signed_attrs = t.tlv;
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &t) < 0)
        return -1;
    out->sig_alg = t.val;
    if (smime_der_expect(&r, SMIME_DER_OCTET_STRING, &t) < 0)
        return -1;
    out->signature = t.val;
    return 0;
}

/* The hash an AlgorithmIdentifier (content octets) names, parameters NULL or
 * absent; GNUTLS_DIG_SHA1 for SHA-1 so that it can be named, UNKNOWN else. */
static gnutls_digest_algorithm_t hash_alg(smime_span alg)
{
    smime_der_reader r;
    smime_der_tlv oid, null;
    smime_der_reader_init(&r, alg);
    if (smime_der_expect(&r, SMIME_DER_OID, &oid) < 0)
        return GNUTLS_DIG_UNKNOWN;
    int has_null = smime_der_optional(&r, SMIME_DER_NULL, &null);
    if (has_null < 0 || (has_null == 1 && null.val.len) || !smime_der_at_end(&r))
        return GNUTLS_DIG_UNKNOWN;
    if (SMIME_OID_EQ(oid.val, DER_OID_SHA256))
        return GNUTLS_DIG_SHA256;
    if (SMIME_OID_EQ(oid.val, DER_OID_SHA384))
        return GNUTLS_DIG_SHA384;
    if (SMIME_OID_EQ(oid.val, DER_OID_SHA512))
        return GNUTLS_DIG_SHA512;
    if (SMIME_OID_EQ(oid.val, DER_OID_SHA1))
        return GNUTLS_DIG_SHA1;
    return GNUTLS_DIG_UNKNOWN;
}

static const char *hash_name(gnutls_digest_algorithm_t d)
{
    return d == GNUTLS_DIG_UNKNOWN ? "unknown" : gnutls_digest_get_name(d);
}

/* RSASSA-PSS-params (RFC 4055 3.1): the one set RFC 8551 profiles and the SBR
 * permits is hash SHA-256/384/512, MGF1 with the same hash, salt = hash length,
 * trailer 1.  Returns that hash, or GNUTLS_DIG_UNKNOWN with what was found in
 * why.  The defaults (SHA-1, MGF1-SHA-1, salt 20) are outside the set. */
static gnutls_digest_algorithm_t pss_params(smime_span sig_alg, char *why, size_t whylen)
{
    smime_der_reader r, pr, mr;
    smime_der_tlv oid, params, x, y, mgf_oid;
    gnutls_digest_algorithm_t hash = GNUTLS_DIG_SHA1, mgf = GNUTLS_DIG_SHA1;
    int64_t salt = 20, trailer = 1;
    smime_der_reader_init(&r, sig_alg);
    if (smime_der_expect(&r, SMIME_DER_OID, &oid) < 0 || smime_der_next(&r, &params) != 1 ||
        params.tag != SMIME_DER_SEQUENCE || !smime_der_at_end(&r)) {
        snprintf(why, whylen, "parameters missing or not a SEQUENCE");
        return GNUTLS_DIG_UNKNOWN;
    }
    smime_der_reader_init(&pr, params.val);
    int rc = smime_der_optional(&pr, SMIME_DER_CTXC(0), &x);
    if (rc == 1)
        hash = smime_der_parse_one(x.val, &y) == 0 && y.tag == SMIME_DER_SEQUENCE ? hash_alg(y.val)
                                                                             : GNUTLS_DIG_UNKNOWN;
    if (rc >= 0 && (rc = smime_der_optional(&pr, SMIME_DER_CTXC(1), &x)) == 1) {
        mgf = GNUTLS_DIG_UNKNOWN;
        if (smime_der_parse_one(x.val, &y) == 0 && y.tag == SMIME_DER_SEQUENCE) {
            smime_der_reader_init(&mr, y.val);
            if (smime_der_expect(&mr, SMIME_DER_OID, &mgf_oid) == 0 &&
                SMIME_OID_EQ(mgf_oid.val, DER_OID_MGF1) &&
                smime_der_expect(&mr, SMIME_DER_SEQUENCE, &y) == 0 && smime_der_at_end(&mr))
                mgf = hash_alg(y.val);
        }
    }
    if (rc >= 0 && (rc = smime_der_optional(&pr, SMIME_DER_CTXC(2), &x)) == 1 &&
        (smime_der_parse_one(x.val, &y) < 0 || y.tag != SMIME_DER_INTEGER ||
         smime_der_int_i64(y.val, &salt) < 0))
        salt = -1;
    if (rc >= 0 && (rc = smime_der_optional(&pr, SMIME_DER_CTXC(3), &x)) == 1 &&
        (smime_der_parse_one(x.val, &y) < 0 || y.tag != SMIME_DER_INTEGER ||
         smime_der_int_i64(y.val, &trailer) < 0))
        trailer = -1;
    if (rc < 0 || !smime_der_at_end(&pr)) {
        snprintf(why, whylen, "RSASSA-PSS-params cannot be read");
        return GNUTLS_DIG_UNKNOWN;
    }
    int sha2 = hash == GNUTLS_DIG_SHA256 || hash == GNUTLS_DIG_SHA384 || hash == GNUTLS_DIG_SHA512;
    if (!sha2 || mgf != hash || salt != (int64_t)gnutls_hash_get_len(hash) || trailer != 1) {
        snprintf(why, whylen, "hash %s, MGF1 with %s, salt %lld, trailer %lld", hash_name(hash),
                 mgf == GNUTLS_DIG_UNKNOWN ? "unknown or not MGF1" : hash_name(mgf),
                 (long long)salt, (long long)trailer);
        return GNUTLS_DIG_UNKNOWN;
    }
    return hash;
}

/* The single value of the signed attribute `oid` (content octets) in the [0]
 * element attrs, as a whole TLV: 1 found, 0 absent, -1 repeated, several
 * values, or unreadable (RFC 5652 5.3, 11: contentType and messageDigest are
 * single-valued and appear once). */
static int signed_attr_value(smime_span attrs, const char *oid, size_t oid_len, smime_der_tlv *value)
{
    smime_der_tlv set, a, t, vals;
    smime_der_reader r, ar, vr;
    if (smime_der_parse_one(attrs, &set) < 0)
        return -1;
    smime_der_reader_init(&r, set.val);
    int found = 0, rc;
    while ((rc = smime_der_next(&r, &a)) == 1) {
        if (a.tag != SMIME_DER_SEQUENCE)
            return -1;
        smime_der_reader_init(&ar, a.val);
        if (smime_der_expect(&ar, SMIME_DER_OID, &t) < 0 || smime_der_expect(&ar, SMIME_DER_SET, &vals) < 0 ||
            !smime_der_at_end(&ar))
            return -1;
        if (!smime_der_oid_eq(t.val, oid, oid_len))
            continue;
        smime_der_reader_init(&vr, vals.val);
        if (found++ || smime_der_next(&vr, value) != 1 || !smime_der_at_end(&vr))
            return -1;
    }
    return rc < 0 ? -1 : found;
}

/* Verifies a SignerInfo ourselves from our DER walk, with the signer's key
 * already imported: RSASSA-PSS with the hash its parameters name, which GnuTLS
 * 3.7.9 misreads for SHA-384/512 (DESIGN.md), and every other algorithm with the
 * hash GnuTLS's own gnutls_pkcs7_verify_direct would use for it (the one of the
 * signature algorithm it reported), so that the two paths agree; doing it here
 * spares GnuTLS's second reading of the SignerInfo, its DER re-encoding of the
 * signed attributes and its second import of the signer's key.  RFC 5652 5.4:
 * with signed attributes the signature covers their DER as a SET OF (the [0] tag
 * replaced), and messageDigest must be the hash of the content; without, it
 * covers the content.  Returns what gnutls_pkcs7_verify_direct would: 0
 * verified, GNUTLS_E_PK_SIG_VERIFY_FAILED for altered content, attributes or
 * signature, GNUTLS_E_NO_EMBEDDED_DATA without content, GNUTLS_E_INSUFFICIENT_SECURITY
 * for an algorithm GnuTLS deems insecure under vflags, another GnuTLS error else. */
static int direct_verify(const signer_der *si, gnutls_digest_algorithm_t hash,
                         gnutls_sign_algorithm_t algo, gnutls_pubkey_t pub,
                         const smime_content_view *data, unsigned vflags)
{
    smime_content_view content;
    if (data) {
        /* A detached signature that also carries content signs that content;
         * the part it came with must be the same bytes (in canonical form). */
        if (si->econtent.p && !smime_content_equal(data, si->econtent.p, si->econtent.len))
            return GNUTLS_E_PK_SIG_VERIFY_FAILED;
        content = *data;
    } else if (si->econtent.p) {
        content = (smime_content_view){ (const char *)si->econtent.p, si->econtent.len, 0 };
    } else {
        return GNUTLS_E_NO_EMBEDDED_DATA;
    }
    unsigned char *signed_copy = NULL;
    gnutls_datum_t sigdata = { (unsigned char *)content.data, (unsigned)content.len };
    if (si->signed_attrs.len) {
        smime_der_tlv md, ct;
        if (signed_attr_value(si->signed_attrs, DER_OID_MESSAGE_DIGEST,
                              sizeof(DER_OID_MESSAGE_DIGEST) - 1, &md) != 1 ||
            signed_attr_value(si->signed_attrs, DER_OID_CONTENT_TYPE,
                              sizeof(DER_OID_CONTENT_TYPE) - 1, &ct) != 1 ||
            md.tag != SMIME_DER_OCTET_STRING || ct.tag != SMIME_DER_OID)
            return GNUTLS_E_PARSING_ERROR;
        unsigned char digest[64];
        if (smime_content_hash(hash, &content, digest) < 0)
            return GNUTLS_E_HASH_FAILED;
        if (md.val.len != gnutls_hash_get_len(hash) || memcmp(md.val.p, digest, md.val.len) != 0 ||
            ct.val.len != si->content_type.len ||
            memcmp(ct.val.p, si->content_type.p, ct.val.len) != 0)
            return GNUTLS_E_PK_SIG_VERIFY_FAILED;
        signed_copy = malloc(si->signed_attrs.len);
        if (!signed_copy)
            return GNUTLS_E_MEMORY_ERROR;
        memcpy(signed_copy, si->signed_attrs.p, si->signed_attrs.len);
        signed_copy[0] = SMIME_DER_SET;
        sigdata = (gnutls_datum_t){ signed_copy, (unsigned)si->signed_attrs.len };
    } else if (content.lf_as_crlf) {
        /* No signed attributes: the signature covers the content itself, which
         * GnuTLS takes as one buffer.  Rare (RFC 8551 requires the attributes). */
        size_t n;
        signed_copy = smime_content_canonical_copy(&content, &n);
        if (!signed_copy)
            return GNUTLS_E_MEMORY_ERROR;
        sigdata = (gnutls_datum_t){ signed_copy, (unsigned)n };
    }
    gnutls_datum_t sig = { (unsigned char *)si->signature.p, (unsigned)si->signature.len };
    int rc = gnutls_pubkey_verify_data2(pub, algo, vflags, &sigdata, &sig);
    free(signed_copy);
    return rc;
}

/* The PSS signature algorithm GnuTLS names for hash over pub: "RSAE" over an
 * rsaEncryption key, plain over an id-RSASSA-PSS key; the padding and salt are
 * the same. */
static gnutls_sign_algorithm_t pss_algo(gnutls_pubkey_t pub, gnutls_digest_algorithm_t hash)
{
    int rsae = gnutls_pubkey_get_pk_algorithm(pub, NULL) == GNUTLS_PK_RSA;
    return hash == GNUTLS_DIG_SHA256 ? (rsae ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 : GNUTLS_SIGN_RSA_PSS_SHA256)
           : hash == GNUTLS_DIG_SHA384 ? (rsae ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 : GNUTLS_SIGN_RSA_PSS_SHA384)
                                       : (rsae ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA512 : GNUTLS_SIGN_RSA_PSS_SHA512);
}

/* The signature algorithm GnuTLS's gnutls_pkcs7_get_signature_info names for a
 * SignerInfo, by the same tables: the signatureAlgorithm OID, or, when that
 * names only a public-key algorithm (rsaEncryption), that with the
 * digestAlgorithm's hash.  So the names reported stay GnuTLS's. */
static gnutls_sign_algorithm_t signer_algo(const signer_der *sd)
{
    smime_der_reader r;
    smime_der_tlv oid;
    char text[128];
    smime_der_reader_init(&r, sd->sig_alg);
    if (smime_der_expect(&r, SMIME_DER_OID, &oid) < 0 || smime_der_oid_to_text(oid.val, text, sizeof(text)) < 0)
        return GNUTLS_SIGN_UNKNOWN;
    gnutls_sign_algorithm_t sig = gnutls_oid_to_sign(text);
    if (sig != GNUTLS_SIGN_UNKNOWN)
        return sig;
    gnutls_pk_algorithm_t pk = gnutls_oid_to_pk(text);
    smime_der_reader_init(&r, sd->digest_alg);
    if (pk == GNUTLS_PK_UNKNOWN || smime_der_expect(&r, SMIME_DER_OID, &oid) < 0 ||
        smime_der_oid_to_text(oid.val, text, sizeof(text)) < 0)
        return GNUTLS_SIGN_UNKNOWN;
    gnutls_digest_algorithm_t dig = gnutls_oid_to_digest(text);
    return dig == GNUTLS_DIG_UNKNOWN ? GNUTLS_SIGN_UNKNOWN : gnutls_pk_to_sign(pk, dig);
}

/* The signer_info of a SignerInfo from our walk: 0, or -1 when anything is not
 * as plain as the fast path wants (an unknown algorithm, an odd sid or time, an
 * unreadable attribute): then GnuTLS reads it and words its errors as before. */
static int own_signer_info(const signer_der *sd, signer_info *out)
{
    memset(out, 0, sizeof(*out));
    if ((out->algo = signer_algo(sd)) == GNUTLS_SIGN_UNKNOWN)
        return -1;
    smime_der_reader r;
    smime_der_tlv name, serial, a, oid, vals, v;
    if (sd->sid.tag == SMIME_DER_SEQUENCE) {
        smime_der_reader_init(&r, sd->sid.val);
        if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &name) < 0 ||
            smime_der_expect(&r, SMIME_DER_INTEGER, &serial) < 0 || !smime_der_at_end(&r) || !serial.val.len)
            return -1;
        out->issuer_dn = name.tlv;
        out->serial = serial.val;
    } else if (sd->sid.tag == SMIME_DER_CTX(0) && sd->sid.val.len) {
        out->keyid = sd->sid.val;
    } else {
        return -1;
    }
    out->attrs_complete = 1;
    if (!sd->signed_attrs.len)
        return 0;
    smime_der_tlv set;
    if (smime_der_parse_one(sd->signed_attrs, &set) < 0)
        return -1;
    smime_der_reader_init(&r, set.val);
    /* GnuTLS's check looks at the first 64 attributes */
    int has_ct = 0, has_md = 0, any = 0, rc;
    for (unsigned i = 0; (rc = smime_der_next(&r, &a)) == 1; i++) {
        smime_der_reader ar, vr;
        if (a.tag != SMIME_DER_SEQUENCE)
            return -1;
        smime_der_reader_init(&ar, a.val);
        if (smime_der_expect(&ar, SMIME_DER_OID, &oid) < 0 || smime_der_expect(&ar, SMIME_DER_SET, &vals) < 0 ||
            !smime_der_at_end(&ar))
            return -1;
        any = 1;
        if (i < 64 && SMIME_OID_EQ(oid.val, DER_OID_CONTENT_TYPE))
            has_ct = 1;
        if (i < 64 && SMIME_OID_EQ(oid.val, DER_OID_MESSAGE_DIGEST))
            has_md = 1;
        if (SMIME_OID_EQ(oid.val, DER_OID_SIGNING_TIME)) {
            smime_der_reader_init(&vr, vals.val);
            int64_t t;
            if (out->has_signing_time || smime_der_next(&vr, &v) != 1 ||
                (v.tag != SMIME_DER_UTC_TIME && v.tag != SMIME_DER_GENERALIZED_TIME) ||
                smime_der_time(v.tag, v.val, &t) != 0)
                return -1;              /* twice, or not a plain time: GnuTLS's reading */
            out->has_signing_time = 1;
            out->signing_time = t;
        }
    }
    if (rc < 0)
        return -1;
    out->attrs_complete = !any || (has_ct && has_md);
    return 0;
}

static void gnutls_signer_info(const gnutls_pkcs7_signature_info_st *info, signer_info *out)
{
    memset(out, 0, sizeof(*out));
    out->algo = info->algo;
    out->issuer_dn = (smime_span){ info->issuer_dn.data, info->issuer_dn.size };
    out->serial = (smime_span){ info->signer_serial.data, info->signer_serial.size };
    out->keyid = (smime_span){ info->issuer_keyid.data, info->issuer_keyid.size };
    if (info->signing_time != (time_t)-1) {
        out->has_signing_time = 1;
        out->signing_time = (int64_t)info->signing_time;
    }
    out->attrs_complete = signed_attrs_complete(info->signed_attrs);
}

/* RSA below 2048 bits; read from the imported key on the fast path, from the
 * certificate on the reference path (they must agree: check-reference-path). */
static int weak_key(gnutls_x509_crt_t crt, gnutls_pubkey_t pub)
{
    unsigned bits = 0;
    int pk = pub ? gnutls_pubkey_get_pk_algorithm(pub, &bits) : gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    return (pk == GNUTLS_PK_RSA || pk == GNUTLS_PK_RSA_PSS) && bits < 2048;
}

smime_sig_status smime_cms_verify_signer(smime_cms *cms, unsigned idx, const void *data,
                                         size_t len, smime_cms_signer *out)
{
    smime_content_view v = { data, len, 0 };
    return smime_cms_verify_signer_view(cms, idx, data ? &v : NULL, out);
}

smime_sig_status smime_cms_verify_signer_view(smime_cms *cms, unsigned idx,
                                              const smime_content_view *data,
                                              smime_cms_signer *out)
{
    /* the signer's key: the cache's, or own_pub imported here and freed at done */
    gnutls_pubkey_t pub = NULL, own_pub = NULL;
    memset(out, 0, sizeof(*out));
    /* GnuTLS's reading of the SignerInfo: on the reference path, and where ours
     * (signer_info) is not enough; its spans point into it until done. */
    gnutls_pkcs7_signature_info_st info;
    memset(&info, 0, sizeof(info));
    signer_der sd;
    int have_der = idx < cms->n_signers && read_signer_der(cms, idx, &sd) == 0;
    signer_info si;
    int rc;
    if (cms->gnutls_verify || !have_der || own_signer_info(&sd, &si) < 0) {
        if ((rc = import_pkcs7(cms)) < 0 || (rc = gnutls_pkcs7_get_signature_info(cms->pkcs7, idx, &info)) < 0)
            return signer_status(out, SMIME_SIG_MALFORMED, "SignerInfo %u cannot be read (%s)", idx,
                                 gnutls_strerror(rc));
        gnutls_signer_info(&info, &si);
    }
    smime_integer_hex(si.serial.p, si.serial.len, out->sid_serial, sizeof(out->sid_serial));
    out->has_signing_time = si.has_signing_time;
    out->signing_time = si.signing_time;
    smime_sig_status st;
    /* RSASSA-PSS is read and verified here, whatever GnuTLS reports for it. */
    int pss = 0;
    gnutls_sign_algorithm_t algo = si.algo;
    gnutls_digest_algorithm_t pss_hash = GNUTLS_DIG_UNKNOWN;
    if (have_der) {
        smime_der_reader ar;
        smime_der_tlv oid;
        smime_der_reader_init(&ar, sd.sig_alg);
        pss = smime_der_expect(&ar, SMIME_DER_OID, &oid) == 0 && SMIME_OID_EQ(oid.val, DER_OID_RSASSA_PSS);
    } else if (si.algo == GNUTLS_SIGN_UNKNOWN ||
               gnutls_sign_get_pk_algorithm(si.algo) == GNUTLS_PK_RSA_PSS) {
        st = signer_status(out, SMIME_SIG_MALFORMED, "SignerInfo %u cannot be read", idx);
        goto done;
    }
    if (pss) {
        char why[96];
        pss_hash = pss_params(sd.sig_alg, why, sizeof(why));
        if (pss_hash == GNUTLS_DIG_UNKNOWN) {
            st = signer_status(out, SMIME_SIG_UNSUPPORTED, "unsupported RSA-PSS parameters (%s)", why);
            goto done;
        }
        gnutls_digest_algorithm_t named = hash_alg(sd.digest_alg);
        if (named != pss_hash) {
            st = signer_status(out, SMIME_SIG_UNSUPPORTED,
                               "unsupported RSA-PSS parameters (digestAlgorithm %s, signature hash %s)",
                               hash_name(named), hash_name(pss_hash));
            goto done;
        }
        algo = pss_hash == GNUTLS_DIG_SHA256   ? GNUTLS_SIGN_RSA_PSS_SHA256
               : pss_hash == GNUTLS_DIG_SHA384 ? GNUTLS_SIGN_RSA_PSS_SHA384
                                               : GNUTLS_SIGN_RSA_PSS_SHA512;
    }
    if (algo == GNUTLS_SIGN_UNKNOWN) {
        st = signer_status(out, SMIME_SIG_UNSUPPORTED, "signature algorithm not supported");
        goto done;
    }
    snprintf(out->sig_alg, sizeof(out->sig_alg), "%s", gnutls_sign_get_name(algo));
    gnutls_digest_algorithm_t dig = gnutls_sign_get_hash_algorithm(algo);
    snprintf(out->digest_alg, sizeof(out->digest_alg), "%s",
             dig != GNUTLS_DIG_UNKNOWN ? gnutls_digest_get_name(dig) : "none");
    size_t signer_index = 0;
    out->cert = find_signer(cms, &si, &signer_index);
    out->cert_at = out->cert ? signer_index + 1 : 0;
    if (!out->cert && cms->n_certs_unread > 0) {
        st = signer_status(out, SMIME_SIG_LIMIT,
                           "the signature carries %zu certificates; %zu distinct ones were read "
                           "and the signer's is not among them",
                           cms->n_certs_carried, cms->n_certs);
        goto done;
    }
    if (!out->cert) {
        st = signer_status(out, SMIME_SIG_NO_CERT,
                           "signer certificate (serial %s) is not included in the message",
                           out->sid_serial[0] ? out->sid_serial : "by key identifier");
        goto done;
    }
    if (!si.attrs_complete) {
        st = signer_status(out, SMIME_SIG_MALFORMED,
                           "signed attributes lack contentType or messageDigest (RFC 5652 5.3)");
        goto done;
    }
    /* GnuTLS 3.7 leaks its key object when the signer's public key cannot be
     * imported inside gnutls_pkcs7_verify_direct (found by fuzz_verify): read the
     * key here first, and never hand it a certificate whose key it cannot read.
     * The key read here is the one our own verification uses. */
    if (cms->held[signer_index]) {
        pub = smime_cached_cert_pubkey(cms->held[signer_index], &rc);
    } else if (gnutls_pubkey_init(&own_pub) < 0) {
        st = signer_status(out, SMIME_SIG_MALFORMED, "out of memory");
        goto done;
    } else if ((rc = gnutls_pubkey_import_x509(own_pub, out->cert, 0)) == 0) {
        pub = own_pub;
    }
    if (!pub) {
        st = signer_status(out, SMIME_SIG_UNSUPPORTED, "signer public key cannot be read (%s)",
                           gnutls_strerror(rc));
        goto done;
    }
    char why[SMIME_TEXT_MAX];
    int limits = cms->gnutls_verify
                     ? smime_cert_key_within_limits(out->cert, &cms->key_limits, why, sizeof(why))
                     : smime_pubkey_within_limits(pub, &cms->key_limits, why, sizeof(why));
    if (limits < 0) {
        st = signer_status(out, SMIME_SIG_LIMIT, "%s", why);
        goto done;
    }
    const unsigned base = GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;
    const unsigned allow_weak = GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN;
    int weak = 0;
    /* Ours unless the caller asked for GnuTLS's (a diagnostic that compares the
     * two) or the hash of the algorithm GnuTLS reported is not known; PSS always. */
    int ours = pss || (have_der && !cms->gnutls_verify && dig != GNUTLS_DIG_UNKNOWN);
    if (ours) {
        gnutls_digest_algorithm_t h = pss ? pss_hash : dig;
        gnutls_sign_algorithm_t a = pss ? pss_algo(pub, pss_hash) : algo;
        rc = direct_verify(&sd, h, a, pub, data, 0);
        if (rc == GNUTLS_E_INSUFFICIENT_SECURITY) {
            rc = direct_verify(&sd, h, a, pub, data, allow_weak);
            weak = 1;
        }
    } else if ((rc = import_pkcs7(cms)) == 0) {
        /* GnuTLS takes one buffer: the canonical form is copied here when the
         * view has bare LFs (a diagnostic path, not the fast one). */
        unsigned char *canon = NULL;
        gnutls_datum_t content = { NULL, 0 };
        if (data && data->lf_as_crlf) {
            size_t n;
            canon = smime_content_canonical_copy(data, &n);
            if (!canon) {
                st = signer_status(out, SMIME_SIG_MALFORMED, "out of memory");
                goto done;
            }
            content = (gnutls_datum_t){ canon, (unsigned)n };
        } else if (data) {
            content = (gnutls_datum_t){ (unsigned char *)data->data, (unsigned)data->len };
        }
        rc = gnutls_pkcs7_verify_direct(cms->pkcs7, out->cert, idx, data ? &content : NULL, base);
        if (rc == GNUTLS_E_INSUFFICIENT_SECURITY) {
            rc = gnutls_pkcs7_verify_direct(cms->pkcs7, out->cert, idx, data ? &content : NULL,
                                            base | allow_weak);
            weak = 1;
        }
        free(canon);
    }
    /* A positive value means the signature verified and GnuTLS then refused the
     * key usage (it demands digitalSignature); that decision is ours. */
    int crypto_ok = rc == 0 || rc == GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
    /* GnuTLS 3.7 still accepts SHA-1 here; a signature it makes is forgeable. */
    if (dig == GNUTLS_DIG_SHA1 || dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_MD2 ||
        !gnutls_sign_is_secure2(algo, 0))
        weak = 1;
    if (crypto_ok) {
        if (!smime_cert_can_sign(out->cert))
            st = signer_status(out, SMIME_SIG_KEY_USAGE,
                               "signer certificate key usage allows neither digitalSignature nor "
                               "nonRepudiation");
        else if (weak)
            st = signer_status(out, SMIME_SIG_WEAK,
                               "signature made with an insecure algorithm (%s)", out->sig_alg);
        else if (weak_key(out->cert, cms->gnutls_verify ? NULL : pub))
            st = signer_status(out, SMIME_SIG_WEAK,
                               "signer key is too weak (RSA below 2048 bits)");
        else
            st = signer_status(out, SMIME_SIG_OK, "signature verified");
    } else if (rc == GNUTLS_E_PK_SIG_VERIFY_FAILED) {
        st = signer_status(out, SMIME_SIG_BAD,
                           "signature does not verify: the message was altered after signing or the "
                           "signature is damaged");
    } else if (rc == GNUTLS_E_NO_EMBEDDED_DATA || rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        st = signer_status(out, SMIME_SIG_MALFORMED, "signed content is missing");
    } else if (rc == GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM || rc == GNUTLS_E_UNKNOWN_ALGORITHM ||
               rc == GNUTLS_E_UNKNOWN_PK_ALGORITHM || rc == GNUTLS_E_UNKNOWN_HASH_ALGORITHM ||
               rc == GNUTLS_E_CONSTRAINT_ERROR || rc == GNUTLS_E_ECC_UNSUPPORTED_CURVE) {
        st = signer_status(out, SMIME_SIG_UNSUPPORTED, "cannot verify %s signatures (%s)",
                           out->sig_alg, gnutls_strerror(rc));
    } else {
        st = signer_status(out, SMIME_SIG_MALFORMED, "signature cannot be evaluated (%s)",
                           gnutls_strerror(rc));
    }
done:
    if (own_pub)
        gnutls_pubkey_deinit(own_pub);
    gnutls_pkcs7_signature_info_deinit(&info);
    return st;
}
