/* cms - decode a CMS SignedData, pick each signer's certificate ourselves, and
 * verify each SignerInfo over the signed bytes (GnuTLS).
 *
 * gnutls_pkcs7_verify() is not used: it may pick a signer by serial number alone,
 * never hands the signer back, and loops on cross-signed CAs.  The signer is found
 * here by issuerAndSerialNumber or subjectKeyIdentifier, then verified with
 * gnutls_pkcs7_verify_direct(); key usage is decided here (RFC 8550 allows
 * nonRepudiation alone), trust is for pki.
 *
 * The input may be BER: it is re-encoded as DER (ber.h) before GnuTLS reads it,
 * so a message gets the verdict of its DER twin.  RSASSA-PSS is verified here
 * with the hash its parameters name (SHA-256/384/512, MGF1 with the same hash,
 * salt = hash length; anything else is SMIME_SIG_UNSUPPORTED), because GnuTLS
 * 3.7.9 reports SHA-256 for all of them. */
#ifndef SMIME_CMS_H
#define SMIME_CMS_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/pki.h"
#include "smime/crypto/cert.h"
#include "smime/crypto/content.h"

typedef struct smime_cms smime_cms;

/* Parses a ContentInfo holding SignedData.  Keeps at most max_certs distinct
 * certificates from it as DER (repeats are dropped; at most 256 are looked at);
 * each is parsed when first asked for, and one that cannot be parsed still holds
 * its place.  Returns 0, or -1 with a reason for people in err. */
int  smime_cms_open(const unsigned char *der, size_t len, unsigned max_certs, smime_cms **out,
                    char *err, size_t errlen);
void smime_cms_free(smime_cms *cms);
/* The limits a signer's key must meet before its signature is checked (the
 * default is SMIME_KEY_LIMITS_DEFAULT); copied.  A key outside them gives
 * SMIME_SIG_LIMIT with the reason. */
void smime_cms_set_key_limits(smime_cms *cms, const smime_key_limits *lim);
/* on: signatures are checked by gnutls_pkcs7_verify_direct instead of our own
 * walk of the SignerInfo (RSASSA-PSS excepted, which GnuTLS misreads): the
 * reference the fast path is compared against (smime-verify --reference-path). */
void smime_cms_set_gnutls_verify(smime_cms *cms, int on);
/* Certificates are parsed by (and shared with) cache from here on, and the
 * signer's public key is the one the cache imported; cache must outlive cms.
 * Ignored once a certificate was parsed without it.  NULL: each is parsed here. */
struct smime_cert_cache;
void smime_cms_set_cert_cache(smime_cms *cms, struct smime_cert_cache *cache);
unsigned smime_cms_signer_count(const smime_cms *cms);
/* The distinct certificates carried by the SignedData, as a pool to build paths
 * from: DER always, each parsed on first use (owned by cms, valid while it lives). */
void smime_cms_pool(smime_cms *cms, smime_cert_pool *out);
/* Kept certificate i, parsed now if it was not yet; NULL when it cannot be read. */
gnutls_x509_crt_t smime_cms_cert(smime_cms *cms, size_t i);
/* Every readable certificate carried, all parsed; owned by cms. */
gnutls_x509_crt_t *smime_cms_certs(smime_cms *cms, size_t *n);
/* The encapsulated content (opaque signed-data); the caller frees out->data with
 * gnutls_free().  Returns 0, or -1 when there is none. */
int smime_cms_content(smime_cms *cms, gnutls_datum_t *out);

typedef enum smime_sig_status {
    SMIME_SIG_OK = 0,
    SMIME_SIG_NO_CERT,        /* signer certificate not in the message */
    SMIME_SIG_BAD,            /* signature or message digest does not match */
    SMIME_SIG_UNSUPPORTED,    /* algorithm we cannot verify */
    SMIME_SIG_MALFORMED,      /* structure we cannot evaluate */
    SMIME_SIG_WEAK,      /* verifies, but with SHA-1 or weaker, or an RSA key < 2048 bits */
    SMIME_SIG_KEY_USAGE,      /* verifies, but the key may not sign */
    SMIME_SIG_LIMIT,          /* a cap: signer not among the certificates read, or
                               * its key beyond smime_key_limits */
} smime_sig_status;

/* A short stable name of a status ("bad-signature", ...), for logs and telemetry. */
const char *smime_sig_status_code(smime_sig_status st);

typedef struct smime_cms_signer {
    smime_sig_status  status;
    char              reason[SMIME_TEXT_MAX];
    gnutls_x509_crt_t cert;            /* borrowed from the cms; NULL if not found */
    size_t            cert_at;         /* 1 + its index among the message's certificates
                                        * (smime_cms_pool's der[]); 0 when not found */
    char              digest_alg[32];
    char              sig_alg[48];
    int               has_signing_time;
    int64_t           signing_time;
    char              sid_serial[96];  /* signer id from the SignerInfo, hex */
} smime_cms_signer;

/* Verifies SignerInfo idx.  data/len are the detached signed bytes, or NULL for the
 * encapsulated content.  Always fills out; returns out->status. */
smime_sig_status smime_cms_verify_signer(smime_cms *cms, unsigned idx, const void *data,
                                         size_t len, smime_cms_signer *out);
/* The same over a view of the detached content (NULL: the encapsulated one),
 * hashed in its canonical form where it lies (content.h). */
smime_sig_status smime_cms_verify_signer_view(smime_cms *cms, unsigned idx,
                                              const smime_content_view *data,
                                              smime_cms_signer *out);

#endif
