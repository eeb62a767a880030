/* certcache - parsed certificates and their imported public keys, kept between
 * messages so that a sender's next message does not parse its certificates again
 * (parsing the signer's certificate and importing its key was ~13 % of a warm
 * verification).  One cache lives in each trust store and is shared by every
 * thread: entries are looked up by the certificate's exact DER (a slot chosen by a
 * digest of its bytes, equality by comparing all of them, so no two certificates
 * are ever confused), and handed out with a reference that keeps the entry alive
 * while a message uses it, even if a newer certificate takes its slot meanwhile.
 *
 * A held entry's certificate and key are only read (by any number of threads at
 * once, as the store's anchors are); nobody may change them.  Direct-mapped and
 * bounded: a slot holds one certificate and a new one replaces it. */
#ifndef SMIME_CERTCACHE_H
#define SMIME_CERTCACHE_H

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

typedef struct smime_cert_cache smime_cert_cache;
typedef struct smime_cached_cert smime_cached_cert;

/* A cache of `slots` certificates (rounded up to a power of two, 1 to 65536).
 * NULL when memory runs out. */
smime_cert_cache *smime_cert_cache_new(unsigned slots);
/* Every entry still held must have been released first. */
void smime_cert_cache_free(smime_cert_cache *c);

/* The entry for this DER, parsed now when the cache does not hold it, with a
 * reference the caller gives back with smime_cert_cache_release.  NULL when the
 * DER is not a readable certificate or memory ran out (nothing is kept then). */
smime_cached_cert *smime_cert_cache_get(smime_cert_cache *c, const gnutls_datum_t *der);
void smime_cert_cache_release(smime_cert_cache *c, smime_cached_cert *e);

/* The parsed certificate, valid while the entry is held. */
gnutls_x509_crt_t smime_cached_cert_crt(const smime_cached_cert *e);
/* The certificate's public key imported once (gnutls_pubkey_import_x509), or NULL
 * with *rc the GnuTLS error that importing it gave. */
gnutls_pubkey_t smime_cached_cert_pubkey(const smime_cached_cert *e, int *rc);

/* Lookups answered from the cache and lookups that parsed, since it was made. */
void smime_cert_cache_stats(smime_cert_cache *c, unsigned long *hits, unsigned long *misses);

#endif
