/* pki - trust anchors, certificate facts, chain building and validation, and the
 * binding of a certificate to mail addresses.
 *
 * A trust store is loaded once and then only read, so one store can be shared by
 * every thread; the milter swaps a whole new store in on reload.  The one thing
 * that changes inside a store is its cache of validated paths, behind a lock, so
 * a reload also starts a fresh cache.  Validation time is
 * a parameter: GnuTLS's own clock checks are switched off and the validity of each
 * certificate in the path is checked here against the time given. */
#ifndef SMIME_PKI_H
#define SMIME_PKI_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/cert.h"
#include "smime/mail/mime.h"

typedef struct smime_trust smime_trust;

/* Loads PEM trust anchors from a file or from every *.pem / *.crt file of a
 * directory.  Returns 0, or -1 with a message in err (no anchors found counts as an
 * error: a store that trusts nothing is a configuration mistake). */
int  smime_trust_load(const char *path, smime_trust **out, char *err, size_t errlen);
void smime_trust_free(smime_trust *t);
unsigned smime_trust_count(const smime_trust *t);
/* Paths validated with this store are remembered (by their certificates) for as
 * long as the store lives, in the store's memo; these count the memo's lookups
 * that found or missed a result. */
void smime_trust_cache_stats(smime_trust *t, unsigned long *hits, unsigned long *misses);

/* The store's memo (see smime/memo.h), the one part of a store that changes: it
 * also keeps what callers derive from certificates alone (the linter's findings
 * for a path), so that a reload, which makes a new store, forgets it all. */
struct smime_memo;
struct smime_memo *smime_trust_memo(const smime_trust *t);
/* The store's cache of parsed certificates and their keys (certcache.h), shared
 * by every thread that uses the store and emptied with it on reload. */
struct smime_cert_cache;
struct smime_cert_cache *smime_trust_cert_cache(const smime_trust *t);

typedef enum smime_chain_status {
    SMIME_CHAIN_OK = 0,
    SMIME_CHAIN_UNTRUSTED,       /* no path to an anchor */
    SMIME_CHAIN_EXPIRED,
    SMIME_CHAIN_NOT_YET_VALID,
    SMIME_CHAIN_BAD_SIGNATURE,
    SMIME_CHAIN_NOT_CA,
    SMIME_CHAIN_PURPOSE,         /* not valid for email protection */
    SMIME_CHAIN_INSECURE_ALG,
    SMIME_CHAIN_CONSTRAINTS,
    SMIME_CHAIN_REVOKED,
    SMIME_CHAIN_INVALID,         /* any other reason GnuTLS gave */
    SMIME_CHAIN_TOO_LONG,
} smime_chain_status;

/* A short stable name of a status ("untrusted", "expired", ...), for logs and
 * telemetry, where the reason text is for people. */
const char *smime_chain_status_code(smime_chain_status st);

/* The certificates a message carries, that paths are built from: each one's DER,
 * and its parsed form on demand through crt (NULL when it cannot be read).
 * Parsing is most of what a warm verification costs, and a remembered path needs
 * none of the issuers parsed. */
typedef struct smime_cert_pool {
    size_t n;
    const gnutls_datum_t *der;                        /* [n], borrowed */
    gnutls_x509_crt_t (*crt)(void *owner, size_t i);  /* parsed once, owned by owner */
    void *owner;
    const unsigned char *digest;  /* [32] smime_cert_pool_digest of der[], borrowed; NULL:
                                   * the path key hashes der[] itself */
    size_t signer_at;             /* 1 + the index in der[] of the certificate whose path
                                   * is sought, when it is one of them (then, with digest,
                                   * the keys name it by that: its bytes are not hashed
                                   * again); 0: it is not, or not known */
} smime_cert_pool;

/* SHA-256 over der[0..n) in order, each with its length: what a path key reads
 * of a pool, made once for all the signers of a message.  0, or -1. */
int smime_cert_pool_digest(const gnutls_datum_t *der, size_t n, unsigned char out[32]);
/* The DER of the certificate whose path is sought, when the memo keys may name it
 * by its place (pool->digest set, pool->signer_at inside der[]); else NULL. */
const gnutls_datum_t *smime_cert_pool_signer_der(const smime_cert_pool *pool);

typedef struct smime_chain_result {
    smime_chain_status status;
    char   reason[SMIME_TEXT_MAX];
    smime_cert_summary signer;               /* the signer's facts (remembered with a
                                              * cached path: they cost a DN formatting) */
    size_t len;                              /* issuers above the signer */
    smime_cert_summary issuers[SMIME_CHAIN_MAX];
    int    anchored;                         /* last issuer is a trust anchor */
    size_t n_path;                           /* signer and the issuers found for it */
    size_t path_pool[SMIME_CHAIN_MAX + 1];   /* certificate i >= 1 of the path is
                                              * pool certificate path_pool[i]; 0 is
                                              * the signer; anchor not included */
    gnutls_x509_crt_t anchor;                /* the trust anchor the path's last was
                                              * validated to, owned by the trust store
                                              * (valid while it lives); NULL when the
                                              * path ends self-issued */
} smime_chain_result;

/* Builds the path signer -> issuers found in pool -> trust anchor, validates it
 * for emailProtection at time `now`, and fills out.  With use_cache, a path this
 * store validated before for the same signer and pool is neither built nor
 * verified again (its validity times are checked), and no issuer is parsed.
 * Returns the status (also in out->status). */
smime_chain_status smime_chain_validate(const smime_trust *trust, gnutls_x509_crt_t signer,
                                        const smime_cert_pool *pool, int64_t now,
                                        unsigned max_chain, int use_cache,
                                        smime_chain_result *out);

/* Certificate i (< out->n_path) of a path smime_chain_validate built from this
 * signer and pool, parsed now if it was not; NULL if it cannot be. */
gnutls_x509_crt_t smime_chain_crt(const smime_chain_result *r, gnutls_x509_crt_t signer,
                                  const smime_cert_pool *pool, size_t i);

/* A pool over certificates already parsed (their DER is exported into der, which
 * the caller frees with smime_cert_pool_free_der).  Returns 0, or -1. */
int  smime_cert_pool_of(gnutls_x509_crt_t *crts, size_t n, gnutls_datum_t *der,
                        smime_cert_pool *out);
void smime_cert_pool_free_der(gnutls_datum_t *der, size_t n);

/* Subject, issuer, serial, validity and key of a certificate. */
void smime_cert_summarize(gnutls_x509_crt_t crt, smime_cert_summary *out);

/* SAN entries looked at, at most: a certificate may carry thousands. */
#define SMIME_SAN_SCAN_MAX 1024

/* Calls fn for each mailbox address a certificate vouches for: SAN rfc822Name,
 * SAN otherName id-on-SmtpUTF8Mailbox, then subject emailAddress, in that order.
 * fn returns non-zero to stop; the function then returns 1, else 0. */
typedef int (*smime_mailbox_fn)(const char *addr, void *ctx);
int smime_cert_each_mailbox(gnutls_x509_crt_t crt, smime_mailbox_fn fn, void *ctx);

/* The first max distinct addresses, for reports.  Returns how many were stored. */
size_t smime_cert_mailboxes(gnutls_x509_crt_t crt, char out[][SMIME_ADDR_MAX], size_t max);

/* 1 and the certificate's spelling in found when addr is one of its addresses. */
int smime_cert_has_mailbox(gnutls_x509_crt_t crt, const char *addr, char found[SMIME_ADDR_MAX]);

/* 1 when two mailbox addresses are the same: local parts equal byte for byte,
 * domains equal after IDNA (A-label) mapping and ASCII case folding. */
int smime_addr_equal(const char *a, const char *b);

/* Key usage allows signing: no keyUsage extension, or digitalSignature or
 * nonRepudiation set (RFC 8550 section 4.4.2). */
int smime_cert_can_sign(gnutls_x509_crt_t crt);

/* What a public key may cost to use, checked before any operation with it: an
 * attacker's self-signed certificate must not buy seconds of CPU.  SBR 6.1.6: an
 * RSA exponent is odd, at least 3, and no larger than needed (we take 2^256 - 1). */
typedef struct smime_key_limits {
    unsigned max_rsa_bits;           /* modulus; default 8192 (MaximumRSAKeyBits) */
    unsigned max_rsa_exponent_bits;  /* default 256 */
} smime_key_limits;
#define SMIME_KEY_LIMITS_DEFAULT { 8192, 256 }

/* 0 when crt's key is within lim (non-RSA keys always are: their cost is fixed by
 * the curve); -1 with a reason for people in why otherwise. */
int smime_cert_key_within_limits(gnutls_x509_crt_t crt, const smime_key_limits *lim, char *why,
                                 size_t whylen);
/* The same for a key already imported (the certificate cache's): no second
 * reading of the certificate's SubjectPublicKeyInfo. */
int smime_pubkey_within_limits(gnutls_pubkey_t pub, const smime_key_limits *lim, char *why,
                               size_t whylen);

#endif
