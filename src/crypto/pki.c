/* pki - trust anchors, chain validation, certificate facts, mailbox binding
 * (see include/smime/crypto/pki.h). */
#include "smime/crypto/pki.h"

#include <gnutls/crypto.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "smime/crypto/certcache.h"
#include "smime/util/memo.h"
#include "smime/util/text.h"
#include "smime/util/timeutil.h"

/* Validated paths are remembered in the store's memo under a digest of what
 * building them reads (chain_key), so a sender's second message costs one
 * signature check instead of three: the CA signatures along the path are what a
 * cold verification spends most of its time on.  Only paths GnuTLS accepted are
 * kept, with the validity period of each certificate, so the time check still runs
 * on every message.  The memo's size is fixed at load; a reload starts an empty
 * one. */
#define MEMO_SLOTS     256
#define MEMO_VALUE_MAX (64u << 10)
/* Signers and their CAs of recent messages, parsed (certcache.h); a slot is a
 * few kilobytes. */
#define CERT_CACHE_SLOTS 1024
static const char PATH_DOMAIN[] = "smime-milter validated path";

typedef struct chain_entry {
    size_t   n_certs;                           /* path incl. signer and anchor */
    int64_t  not_before[SMIME_CHAIN_MAX + 1];
    int64_t  not_after[SMIME_CHAIN_MAX + 1];
    smime_chain_result result;                  /* status OK; issuers, anchored */
} chain_entry;

struct smime_trust {
    gnutls_x509_trust_list_t list;   /* read-only after load */
    unsigned count;
    smime_memo *memo;                /* the mutable parts; each locks itself */
    smime_cert_cache *certs;         /* parsed certificates of recent messages */
};

int smime_trust_load(const char *path, smime_trust **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "trust anchors %s: cannot read (%s)", path, strerror(errno));
        return -1;
    }
    smime_trust *t = calloc(1, sizeof(*t));
    smime_memo *memo = smime_memo_new(MEMO_SLOTS, MEMO_VALUE_MAX);
    smime_cert_cache *certs = smime_cert_cache_new(CERT_CACHE_SLOTS);
    if (!t || !memo || !certs || gnutls_x509_trust_list_init(&t->list, 0) < 0) {
        free(t);
        smime_memo_free(memo);
        smime_cert_cache_free(certs);
        snprintf(err, errlen, "trust anchors %s: out of memory", path);
        return -1;
    }
    t->memo = memo;
    t->certs = certs;
    int n = S_ISDIR(st.st_mode)
                ? gnutls_x509_trust_list_add_trust_dir(t->list, path, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
                : gnutls_x509_trust_list_add_trust_file(t->list, path, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
    if (n <= 0) {
        snprintf(err, errlen, "trust anchors %s: %s", path,
                 n < 0 ? gnutls_strerror(n) : "no PEM certificate found");
        smime_trust_free(t);
        return -1;
    }
    t->count = (unsigned)n;
    *out = t;
    return 0;
}

void smime_trust_free(smime_trust *t)
{
    if (!t)
        return;
    if (t->list)
        gnutls_x509_trust_list_deinit(t->list, 1);
    smime_memo_free(t->memo);
    smime_cert_cache_free(t->certs);
    free(t);
}

unsigned smime_trust_count(const smime_trust *t)
{
    return t ? t->count : 0;
}

void smime_trust_cache_stats(smime_trust *t, unsigned long *hits, unsigned long *misses)
{
    smime_memo_stats(t->memo, hits, misses);
}

smime_memo *smime_trust_memo(const smime_trust *t)
{
    return t->memo;
}

smime_cert_cache *smime_trust_cert_cache(const smime_trust *t)
{
    return t->certs;
}

/* A digest of everything path building reads: the signer, the pool in its order
 * and the length cap.  The same inputs build the same path, so a remembered path
 * needs no building (which parses the issuers and reads their key identifiers).
 * gnutls_x509_crt_export2 hands back the bytes the signer was imported from;
 * get_fingerprint would re-encode it first (that cost ~10 % of a warm run). */
static int chain_key(gnutls_x509_crt_t signer, const smime_cert_pool *pool, unsigned max_chain,
                     unsigned char key[SMIME_MEMO_KEY])
{
    smime_memo_keyer k;
    if (smime_cert_pool_signer_der(pool)) {
        /* the signer is der[signer_at - 1], which the digest covers */
        if (smime_memo_key_begin(&k, PATH_DOMAIN) < 0)
            return -1;
        uint64_t at = pool->signer_at;
        smime_memo_key_part(&k, &max_chain, sizeof(max_chain));
        smime_memo_key_part(&k, "pool digest, signer at", 22);
        smime_memo_key_part(&k, pool->digest, 32);
        smime_memo_key_part(&k, &at, sizeof(at));
        smime_memo_key_end(&k, key);
        return 0;
    }
    gnutls_datum_t der;
    if (gnutls_x509_crt_export2(signer, GNUTLS_X509_FMT_DER, &der) < 0)
        return -1;
    if (smime_memo_key_begin(&k, PATH_DOMAIN) < 0) {
        gnutls_free(der.data);
        return -1;
    }
    smime_memo_key_part(&k, &max_chain, sizeof(max_chain));
    smime_memo_key_part(&k, der.data, der.size);
    gnutls_free(der.data);
    if (pool->digest) {
        smime_memo_key_part(&k, "pool digest", 11);    /* not the same key as der[] hashed here */
        smime_memo_key_part(&k, pool->digest, 32);
    } else {
        for (size_t i = 0; i < pool->n; i++)
            smime_memo_key_part(&k, pool->der[i].data, pool->der[i].size);
    }
    smime_memo_key_end(&k, key);
    return 0;
}

const gnutls_datum_t *smime_cert_pool_signer_der(const smime_cert_pool *pool)
{
    return pool->digest && pool->signer_at && pool->signer_at <= pool->n ? &pool->der[pool->signer_at - 1]
                                                                         : NULL;
}

int smime_cert_pool_digest(const gnutls_datum_t *der, size_t n, unsigned char out[32])
{
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char len[8];
        for (int b = 0; b < 8; b++)
            len[b] = (unsigned char)((uint64_t)der[i].size >> (56 - 8 * b));
        gnutls_hash(h, len, sizeof(len));
        gnutls_hash(h, der[i].data, der[i].size);
    }
    gnutls_hash_deinit(h, out);
    return 0;
}

gnutls_x509_crt_t smime_chain_crt(const smime_chain_result *r, gnutls_x509_crt_t signer,
                                  const smime_cert_pool *pool, size_t i)
{
    if (i == 0)
        return signer;
    if (i >= r->n_path || r->path_pool[i] >= pool->n)
        return NULL;
    return pool->crt(pool->owner, r->path_pool[i]);
}

static gnutls_x509_crt_t array_crt(void *owner, size_t i)
{
    return ((gnutls_x509_crt_t *)owner)[i];
}

int smime_cert_pool_of(gnutls_x509_crt_t *crts, size_t n, gnutls_datum_t *der,
                       smime_cert_pool *out)
{
    for (size_t i = 0; i < n; i++)
        if (gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER, &der[i]) < 0) {
            smime_cert_pool_free_der(der, i);
            return -1;
        }
    *out = (smime_cert_pool){ n, der, array_crt, crts, NULL, 0 };
    return 0;
}

void smime_cert_pool_free_der(gnutls_datum_t *der, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gnutls_free(der[i].data);
}

const char *smime_chain_status_code(smime_chain_status st)
{
    static const char *const codes[] = {
        [SMIME_CHAIN_OK] = "ok",
        [SMIME_CHAIN_UNTRUSTED] = "untrusted",
        [SMIME_CHAIN_EXPIRED] = "expired",
        [SMIME_CHAIN_NOT_YET_VALID] = "not-yet-valid",
        [SMIME_CHAIN_BAD_SIGNATURE] = "bad-ca-signature",
        [SMIME_CHAIN_NOT_CA] = "not-ca",
        [SMIME_CHAIN_PURPOSE] = "wrong-purpose",
        [SMIME_CHAIN_INSECURE_ALG] = "insecure-chain-algorithm",
        [SMIME_CHAIN_CONSTRAINTS] = "ca-constraints",
        [SMIME_CHAIN_REVOKED] = "revoked",
        [SMIME_CHAIN_INVALID] = "invalid-chain",
        [SMIME_CHAIN_TOO_LONG] = "chain-too-long",
    };
    return (unsigned)st < sizeof(codes) / sizeof(codes[0]) && codes[st] ? codes[st] : "invalid-chain";
}

static void datum_to_text(gnutls_datum_t *d, char *dst, size_t size)
{
    smime_text_set(dst, size, d->data ? (const char *)d->data : "", d->data ? d->size : 0);
    gnutls_free(d->data);
    d->data = NULL;
}

void smime_cert_summarize(gnutls_x509_crt_t crt, smime_cert_summary *out)
{
    memset(out, 0, sizeof(*out));
    gnutls_datum_t d = { NULL, 0 };
    if (gnutls_x509_crt_get_dn3(crt, &d, 0) >= 0)
        datum_to_text(&d, out->subject, sizeof(out->subject));
    if (gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) >= 0)
        datum_to_text(&d, out->issuer, sizeof(out->issuer));
    unsigned char serial[64];
    size_t sn = sizeof(serial);
    if (gnutls_x509_crt_get_serial(crt, serial, &sn) >= 0)
        smime_integer_hex(serial, sn, out->serial, sizeof(out->serial));
    unsigned char aki[32];
    size_t an = sizeof(aki);
    if (gnutls_x509_crt_get_authority_key_id(crt, aki, &an, NULL) >= 0)
        smime_hex(aki, an, out->issuer_key_id, sizeof(out->issuer_key_id));
    unsigned char fp[32];
    size_t fn = sizeof(fp);
    if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fn) >= 0 && fn == sizeof(fp))
        smime_hex(fp, fn, out->sha256, sizeof(out->sha256));
    out->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
    out->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
    unsigned bits = 0;
    int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    switch (pk) {
    case GNUTLS_PK_RSA:
        snprintf(out->key, sizeof(out->key), "RSA-%u", bits);
        break;
    case GNUTLS_PK_RSA_PSS:
        snprintf(out->key, sizeof(out->key), "RSA-PSS-%u", bits);
        break;
    case GNUTLS_PK_ECDSA:
        /* Named by curve: GnuTLS counts P-521 as 528 bits (whole bytes). */
        gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, NULL, NULL);
        snprintf(out->key, sizeof(out->key), "%s",
                 curve == GNUTLS_ECC_CURVE_SECP256R1   ? "EC-P256"
                 : curve == GNUTLS_ECC_CURVE_SECP384R1 ? "EC-P384"
                 : curve == GNUTLS_ECC_CURVE_SECP521R1 ? "EC-P521"
                                                       : "EC-other");
        break;
    case GNUTLS_PK_EDDSA_ED25519:
        snprintf(out->key, sizeof(out->key), "Ed25519");
        break;
    case GNUTLS_PK_EDDSA_ED448:
        snprintf(out->key, sizeof(out->key), "Ed448");
        break;
    default:
        snprintf(out->key, sizeof(out->key), "%s",
                 pk >= 0 ? gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)pk) : "unknown");
    }
}

static int same_raw_dn(gnutls_x509_crt_t subject_of, gnutls_x509_crt_t issuer_of)
{
    gnutls_datum_t s, i;
    if (gnutls_x509_crt_get_raw_dn(subject_of, &s) < 0)
        return 0;
    if (gnutls_x509_crt_get_raw_issuer_dn(issuer_of, &i) < 0) {
        gnutls_free(s.data);
        return 0;
    }
    int eq = s.size == i.size && memcmp(s.data, i.data, s.size) == 0;
    gnutls_free(s.data);
    gnutls_free(i.data);
    return eq;
}

/* When both are present, the child's authorityKeyIdentifier must name the
 * candidate's subjectKeyIdentifier: this tells apart CAs that share a name
 * (re-keyed or cross-signed). */
static int key_ids_compatible(gnutls_x509_crt_t child, gnutls_x509_crt_t candidate)
{
    unsigned char aki[128], ski[128];
    size_t an = sizeof(aki), sn = sizeof(ski);
    if (gnutls_x509_crt_get_authority_key_id(child, aki, &an, NULL) < 0)
        return 1;
    if (gnutls_x509_crt_get_subject_key_id(candidate, ski, &sn, NULL) < 0)
        return 1;
    return an == sn && memcmp(aki, ski, an) == 0;
}

/* By identity: the pool holds each certificate once (smime_cms_open drops
 * repeats), and gnutls_x509_crt_equals re-encodes both sides. */
static int in_path(gnutls_x509_crt_t *path, size_t n, gnutls_x509_crt_t c)
{
    for (size_t i = 0; i < n; i++)
        if (path[i] == c)
            return 1;
    return 0;
}

static const char *cert_role(size_t index)
{
    return index == 0 ? "signer certificate" : "issuing CA certificate";
}

static smime_chain_status chain_fail(smime_chain_result *out, smime_chain_status st,
                                     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static smime_chain_status chain_fail(smime_chain_result *out, smime_chain_status st,
                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
    out->status = st;
    return st;
}

static smime_chain_status map_status(unsigned status, smime_chain_result *out)
{
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
        return chain_fail(out, SMIME_CHAIN_UNTRUSTED,
                          "certificate chain does not lead to a configured trust anchor");
    if (status & GNUTLS_CERT_REVOKED)
        return chain_fail(out, SMIME_CHAIN_REVOKED, "a certificate in the chain is revoked");
    if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
        return chain_fail(out, SMIME_CHAIN_BAD_SIGNATURE,
                          "a CA signature in the certificate chain does not verify");
    if (status & GNUTLS_CERT_SIGNER_NOT_CA)
        return chain_fail(out, SMIME_CHAIN_NOT_CA,
                          "a certificate in the chain was issued by a certificate that is not a CA");
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        return chain_fail(out, SMIME_CHAIN_INSECURE_ALG,
                          "a certificate in the chain is signed with an insecure algorithm (e.g. SHA-1)");
    if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
        return chain_fail(out, SMIME_CHAIN_PURPOSE,
                          "certificate is not valid for email protection (extended key usage)");
    if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
        return chain_fail(out, SMIME_CHAIN_CONSTRAINTS,
                          "an issuing certificate may not issue this one (not a CA, key usage, path length or name constraints)");
    if (status & GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS)
        return chain_fail(out, SMIME_CHAIN_INVALID,
                          "a certificate in the chain has an unknown critical extension");
    return chain_fail(out, SMIME_CHAIN_INVALID, "certificate chain is invalid (GnuTLS status 0x%x)",
                      status);
}

/* Every certificate of the path (signer first, anchor last) must be valid at now. */
static smime_chain_status check_validity(const int64_t *not_before, const int64_t *not_after,
                                         size_t n, int64_t now, smime_chain_result *out)
{
    char when[40];
    for (size_t i = 0; i < n; i++) {
        if (now > not_after[i]) {
            smime_time_format(not_after[i], when, sizeof(when));
            return chain_fail(out, SMIME_CHAIN_EXPIRED, "%s expired on %s", cert_role(i), when);
        }
        if (now < not_before[i]) {
            smime_time_format(not_before[i], when, sizeof(when));
            return chain_fail(out, SMIME_CHAIN_NOT_YET_VALID, "%s is not valid before %s",
                              cert_role(i), when);
        }
    }
    out->status = SMIME_CHAIN_OK;
    return SMIME_CHAIN_OK;
}

/* The anchor above the path, borrowed from the trust list (no copy: the list is
 * read-only while the store lives), for revocation checks of the last issuer. */
static void set_anchor(const smime_trust *trust, gnutls_x509_crt_t last, smime_chain_result *out)
{
    out->anchor = NULL;
    if (!same_raw_dn(last, last) &&
        gnutls_x509_trust_list_get_issuer(trust->list, last, &out->anchor, 0) < 0)
        out->anchor = NULL;
}

smime_chain_status smime_chain_validate(const smime_trust *trust, gnutls_x509_crt_t signer,
                                        const smime_cert_pool *pool, int64_t now,
                                        unsigned max_chain, int use_cache,
                                        smime_chain_result *out)
{
    if (max_chain < 1 || max_chain > SMIME_CHAIN_MAX)
        max_chain = SMIME_CHAIN_MAX;

    /* A result is some 18 KB (the certificates' summaries): on a remembered path
     * it is copied out of the memo and into out, and zeroed only when built. */
    chain_entry entry;
    unsigned char key[SMIME_MEMO_KEY];
    int keyed = use_cache && chain_key(signer, pool, max_chain, key) == 0;
    if (keyed && smime_memo_get(trust->memo, key, &entry, sizeof(entry)) == sizeof(entry)) {
        size_t k = 1;
        while (k < entry.result.n_path && entry.result.path_pool[k] < pool->n)
            k++;
        if (entry.result.n_path >= 1 && entry.result.n_path <= max_chain && k == entry.result.n_path) {
            *out = entry.result;     /* path by pool index; anchor owned by the store */
            return check_validity(entry.not_before, entry.not_after, entry.n_certs, now, out);
        }
        /* not for the same key: build anew */
    }
    memset(out, 0, sizeof(*out));
    memset(&entry, 0, sizeof(entry));

    gnutls_x509_crt_t path[SMIME_CHAIN_MAX + 1];
    size_t n = 0;
    path[n++] = signer;
    for (;;) {
        gnutls_x509_crt_t cur = path[n - 1];
        if (same_raw_dn(cur, cur))
            break;                       /* self-issued: the top of what we can build */
        gnutls_x509_crt_t next = NULL;
        for (size_t i = 0; i < pool->n && !next; i++) {
            gnutls_x509_crt_t c = pool->crt(pool->owner, i);
            if (c && !in_path(path, n, c) && same_raw_dn(c, cur) && key_ids_compatible(cur, c)) {
                next = c;
                out->path_pool[n] = i;
            }
        }
        if (!next)
            break;
        if (n >= max_chain) {
            smime_cert_summarize(signer, &out->signer);
            return chain_fail(out, SMIME_CHAIN_TOO_LONG,
                              "certificate chain longer than %u certificates", max_chain);
        }
        path[n++] = next;
    }

    out->n_path = n;
    smime_cert_summarize(signer, &out->signer);

    gnutls_typed_vdata_st purpose = {
        .type = GNUTLS_DT_KEY_PURPOSE_OID,
        .data = (unsigned char *)GNUTLS_KP_EMAIL_PROTECTION,
        .size = 0,
    };
    unsigned status = 0;
    unsigned flags = GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
                     GNUTLS_VERIFY_DO_NOT_ALLOW_UNSORTED_CHAIN;
    int rc = gnutls_x509_trust_list_verify_crt2(trust->list, path, (unsigned)n, &purpose, 1, flags,
                                                &status, NULL);
    for (size_t i = 1; i < n; i++)
        smime_cert_summarize(path[i], &out->issuers[out->len++]);
    if (rc < 0)
        return chain_fail(out, SMIME_CHAIN_INVALID, "certificate chain could not be checked: %s",
                          gnutls_strerror(rc));
    if (status != 0)
        return map_status(status, out);

    for (size_t i = 0; i < n; i++) {
        entry.not_before[i] = (int64_t)gnutls_x509_crt_get_activation_time(path[i]);
        entry.not_after[i] = (int64_t)gnutls_x509_crt_get_expiration_time(path[i]);
    }
    entry.n_certs = n;
    gnutls_x509_crt_t anchor = NULL;
    if (same_raw_dn(path[n - 1], path[n - 1])) {
        out->anchored = 1;              /* the message carried the anchor itself */
    } else if (gnutls_x509_trust_list_get_issuer(trust->list, path[n - 1], &anchor,
                                                 GNUTLS_TL_GET_COPY) >= 0) {
        out->anchored = 1;
        if (out->len < SMIME_CHAIN_MAX)
            smime_cert_summarize(anchor, &out->issuers[out->len++]);
        entry.not_before[n] = (int64_t)gnutls_x509_crt_get_activation_time(anchor);
        entry.not_after[n] = (int64_t)gnutls_x509_crt_get_expiration_time(anchor);
        entry.n_certs = n + 1;
        gnutls_x509_crt_deinit(anchor);
    }
    set_anchor(trust, path[n - 1], out);
    if (keyed) {
        entry.result = *out;
        smime_memo_put(trust->memo, key, &entry, sizeof(entry));  /* not kept: no harm */
    }
    return check_validity(entry.not_before, entry.not_after, entry.n_certs, now, out);
}

#define OID_SMTPUTF8_MAILBOX "1.3.6.1.5.5.7.8.9"

/* The value of an otherName is [0] EXPLICIT ANY; for SmtpUTF8Mailbox the ANY is a
 * UTF8String.  GnuTLS hands back the value with or without the explicit tag
 * depending on version, so accept both. */
static int utf8_mailbox_value(const unsigned char *p, size_t n, const unsigned char **s, size_t *sl)
{
    for (int pass = 0; pass < 2; pass++) {
        if (n < 2)
            return -1;
        size_t len = p[1], hdr = 2;
        if (len & 0x80) {
            size_t k = len & 0x7f;
            if (k == 0 || k > 2 || n < 2 + k)
                return -1;
            len = 0;
            for (size_t i = 0; i < k; i++)
                len = (len << 8) | p[2 + i];
            hdr = 2 + k;
        }
        if (len > n - hdr)
            return -1;
        if (p[0] == 0x0C) {
            *s = p + hdr;
            *sl = len;
            return 0;
        }
        if (p[0] != 0xA0)
            return -1;
        p += hdr;
        n = len;
    }
    return -1;
}

int smime_cert_each_mailbox(gnutls_x509_crt_t crt, smime_mailbox_fn fn, void *ctx)
{
    for (unsigned i = 0; i < SMIME_SAN_SCAN_MAX; i++) {
        unsigned char buf[1024];
        size_t size = sizeof(buf);
        unsigned type = 0, critical = 0;
        int rc = gnutls_x509_crt_get_subject_alt_name2(crt, i, buf, &size, &type, &critical);
        if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (rc < 0)
            continue;
        const unsigned char *s = NULL;
        size_t sl = 0;
        if (type == GNUTLS_SAN_RFC822NAME) {
            s = buf;
            sl = size;
        } else if (type == GNUTLS_SAN_OTHERNAME) {
            char oid[128];
            size_t olen = sizeof(oid);
            if (gnutls_x509_crt_get_subject_alt_othername_oid(crt, i, oid, &olen) < 0 ||
                strcmp(oid, OID_SMTPUTF8_MAILBOX) != 0 || utf8_mailbox_value(buf, size, &s, &sl) < 0 ||
                !smime_utf8_valid(s, sl))
                s = NULL;
        }
        if (s && sl > 0 && sl < SMIME_ADDR_MAX && !memchr(s, '\0', sl)) {
            char addr[SMIME_ADDR_MAX];
            memcpy(addr, s, sl);
            addr[sl] = '\0';
            if (fn(addr, ctx))
                return 1;
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        char addr[SMIME_ADDR_MAX];
        size_t size = sizeof(addr);
        if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_PKCS9_EMAIL, i, 0, addr, &size) < 0)
            break;
        if (size > 0 && size < SMIME_ADDR_MAX && !memchr(addr, '\0', size) && fn(addr, ctx))
            return 1;
    }
    return 0;
}

typedef struct mailbox_list {
    char (*out)[SMIME_ADDR_MAX];
    size_t n, max;
} mailbox_list;

static int mailbox_collect(const char *addr, void *ctx)
{
    mailbox_list *l = ctx;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->out[i], addr) == 0)
            return 0;
    snprintf(l->out[l->n++], SMIME_ADDR_MAX, "%s", addr);
    return l->n >= l->max;
}

size_t smime_cert_mailboxes(gnutls_x509_crt_t crt, char out[][SMIME_ADDR_MAX], size_t max)
{
    mailbox_list l = { out, 0, max };
    if (max > 0)
        smime_cert_each_mailbox(crt, mailbox_collect, &l);
    return l.n;
}

typedef struct mailbox_search {
    const char *want;
    char *found;
} mailbox_search;

static int mailbox_equal(const char *addr, void *ctx)
{
    mailbox_search *m = ctx;
    if (!smime_addr_equal(m->want, addr))
        return 0;
    snprintf(m->found, SMIME_ADDR_MAX, "%s", addr);
    return 1;
}

int smime_cert_has_mailbox(gnutls_x509_crt_t crt, const char *addr, char found[SMIME_ADDR_MAX])
{
    mailbox_search m = { addr, found };
    return smime_cert_each_mailbox(crt, mailbox_equal, &m);
}

/* Maps a domain to its ASCII (A-label) form, lower-cased, into out. */
static int domain_canonical(const char *d, size_t len, char *out, size_t outlen)
{
    int ascii = 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)d[i] >= 0x80)
            ascii = 0;
    const char *src = d;
    size_t srclen = len;
    gnutls_datum_t mapped = { NULL, 0 };
    if (!ascii) {
        if (gnutls_idna_map(d, (unsigned)len, &mapped, 0) < 0)
            return -1;
        src = (const char *)mapped.data;
        srclen = mapped.size;
    }
    int rc = -1;
    if (srclen < outlen) {
        for (size_t i = 0; i < srclen; i++)
            out[i] = (char)smime_ascii_tolower((unsigned char)src[i]);
        out[srclen] = '\0';
        rc = 0;
    }
    gnutls_free(mapped.data);
    return rc;
}

int smime_addr_equal(const char *a, const char *b)
{
    const char *at_a = strrchr(a, '@');
    const char *at_b = strrchr(b, '@');
    if (!at_a || !at_b)
        return 0;
    size_t la = (size_t)(at_a - a), lb = (size_t)(at_b - b);
    if (la != lb || memcmp(a, b, la) != 0)
        return 0;
    char da[SMIME_ADDR_MAX * 2], db[SMIME_ADDR_MAX * 2];
    if (domain_canonical(at_a + 1, strlen(at_a + 1), da, sizeof(da)) < 0 ||
        domain_canonical(at_b + 1, strlen(at_b + 1), db, sizeof(db)) < 0)
        return 0;
    return strcmp(da, db) == 0;
}

int smime_cert_can_sign(gnutls_x509_crt_t crt)
{
    unsigned usage = 0, critical = 0;
    int rc = gnutls_x509_crt_get_key_usage(crt, &usage, &critical);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return 1;
    if (rc < 0)
        return 0;
    return (usage & (GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_NON_REPUDIATION)) != 0;
}

static unsigned datum_bits(const gnutls_datum_t *d)
{
    size_t i = 0;
    while (i < d->size && d->data[i] == 0)
        i++;
    if (i == d->size)
        return 0;
    unsigned bits = (unsigned)(d->size - i) * 8;
    for (unsigned char top = d->data[i]; !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

/* The check of both forms: pk and bits as GnuTLS reports them, the exponent read
 * by export_e (0 or a GnuTLS error; the caller frees what it gives). */
typedef int (*export_e_fn)(const void *key, gnutls_datum_t *e);

static int key_within_limits(int pk, unsigned bits, export_e_fn export_e, const void *key,
                             const smime_key_limits *lim, char *why, size_t whylen)
{
    if (pk != GNUTLS_PK_RSA && pk != GNUTLS_PK_RSA_PSS)
        return 0;
    if (lim->max_rsa_bits && bits > lim->max_rsa_bits) {
        snprintf(why, whylen, "signer RSA key of %u bits is above the limit of %u bits; not verified",
                 bits, lim->max_rsa_bits);
        return -1;
    }
    gnutls_datum_t e = { NULL, 0 };
    if (export_e(key, &e) < 0) {
        snprintf(why, whylen, "signer RSA key cannot be read");
        return -1;
    }
    unsigned ebits = datum_bits(&e);
    int odd = e.size > 0 && (e.data[e.size - 1] & 1);
    int ok = odd && ebits >= 2 && (!lim->max_rsa_exponent_bits || ebits <= lim->max_rsa_exponent_bits);
    gnutls_free(e.data);
    if (!ok) {
        snprintf(why, whylen,
                 "signer RSA public exponent (%u bits%s) is outside SBR 6.1.6 (odd, 3 to 2^%u-1); "
                 "not verified",
                 ebits, odd ? "" : ", even", lim->max_rsa_exponent_bits ? lim->max_rsa_exponent_bits : 256);
        return -1;
    }
    return 0;
}

static int crt_e(const void *key, gnutls_datum_t *e)
{
    gnutls_datum_t m = { NULL, 0 };
    int rc = gnutls_x509_crt_get_pk_rsa_raw((gnutls_x509_crt_t)key, &m, e);
    gnutls_free(m.data);
    return rc;
}

static int pubkey_e(const void *key, gnutls_datum_t *e)
{
    return gnutls_pubkey_export_rsa_raw2((gnutls_pubkey_t)key, NULL, e, 0);
}

int smime_cert_key_within_limits(gnutls_x509_crt_t crt, const smime_key_limits *lim, char *why,
                                 size_t whylen)
{
    unsigned bits = 0;
    int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    return key_within_limits(pk, bits, crt_e, crt, lim, why, whylen);
}

int smime_pubkey_within_limits(gnutls_pubkey_t pub, const smime_key_limits *lim, char *why,
                               size_t whylen)
{
    unsigned bits = 0;
    int pk = gnutls_pubkey_get_pk_algorithm(pub, &bits);
    return key_within_limits(pk, bits, pubkey_e, pub, lim, why, whylen);
}
