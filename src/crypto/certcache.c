/* certcache - parsed certificates shared between messages and threads
 * (see include/smime/crypto/certcache.h). */
#include "smime/crypto/certcache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct smime_cached_cert {
    gnutls_datum_t    der;        /* owned copy: the key of the entry */
    gnutls_x509_crt_t crt;        /* owned */
    gnutls_pubkey_t   pub;        /* owned; NULL when the key could not be imported */
    int               pub_rc;     /* why not */
    unsigned          refs;       /* holders, the slot that holds it counted as one */
};

struct smime_cert_cache {
    pthread_mutex_t     lock;     /* guards slots, refs and the counters */
    smime_cached_cert **slots;    /* [mask + 1] */
    unsigned            mask;
    unsigned long       hits, misses;
};

smime_cert_cache *smime_cert_cache_new(unsigned slots)
{
    unsigned n = 1;
    while (n < slots && n < 65536)
        n <<= 1;
    smime_cert_cache *c = calloc(1, sizeof(*c));
    if (!c || !(c->slots = calloc(n, sizeof(*c->slots)))) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void entry_free(smime_cached_cert *e)
{
    if (e->pub)
        gnutls_pubkey_deinit(e->pub);
    gnutls_x509_crt_deinit(e->crt);
    free(e->der.data);
    free(e);
}

void smime_cert_cache_free(smime_cert_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i <= c->mask; i++)
        if (c->slots[i])
            entry_free(c->slots[i]);
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The slot: a certificate ends in its issuer's signature, bytes no two
 * certificates share, so its last 32 bytes and its length spread slots well
 * without reading the whole certificate.  Equality is decided by all bytes. */
static unsigned slot_of(const smime_cert_cache *c, const gnutls_datum_t *der)
{
    uint64_t h = 1469598103934665603ull ^ der->size;
    size_t from = der->size > 32 ? der->size - 32 : 0;
    for (size_t i = from; i < der->size; i++)
        h = (h ^ der->data[i]) * 1099511628211ull;
    return (unsigned)(h ^ (h >> 32)) & c->mask;
}

static int same_der(const smime_cached_cert *e, const gnutls_datum_t *der)
{
    return e && e->der.size == der->size && memcmp(e->der.data, der->data, der->size) == 0;
}

/* Parses outside the lock: it is the slow part, and two threads parsing the same
 * certificate at once only waste one parse. */
static smime_cached_cert *entry_new(const gnutls_datum_t *der)
{
    smime_cached_cert *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->der.data = malloc(der->size ? der->size : 1);
    if (!e->der.data || gnutls_x509_crt_init(&e->crt) < 0) {
        free(e->der.data);
        free(e);
        return NULL;
    }
    memcpy(e->der.data, der->data, der->size);
    e->der.size = der->size;
    if (gnutls_x509_crt_import(e->crt, &e->der, GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(e->crt);
        free(e->der.data);
        free(e);
        return NULL;
    }
    e->pub_rc = gnutls_pubkey_init(&e->pub);
    if (e->pub_rc == 0)
        e->pub_rc = gnutls_pubkey_import_x509(e->pub, e->crt, 0);
    if (e->pub_rc < 0 && e->pub) {
        gnutls_pubkey_deinit(e->pub);
        e->pub = NULL;
    }
    return e;
}

smime_cached_cert *smime_cert_cache_get(smime_cert_cache *c, const gnutls_datum_t *der)
{
    if (!der->data || der->size == 0)
        return NULL;
    unsigned slot = slot_of(c, der);
    pthread_mutex_lock(&c->lock);
    smime_cached_cert *e = c->slots[slot];
    if (same_der(e, der)) {
        e->refs++;
        c->hits++;
        pthread_mutex_unlock(&c->lock);
        return e;
    }
    c->misses++;
    pthread_mutex_unlock(&c->lock);

    smime_cached_cert *fresh = entry_new(der);
    if (!fresh)
        return NULL;
    smime_cached_cert *evicted = NULL;
    pthread_mutex_lock(&c->lock);
    e = c->slots[slot];
    if (same_der(e, der)) {              /* another thread put it there meanwhile */
        e->refs++;
    } else {
        if (e && --e->refs == 0)
            evicted = e;
        fresh->refs = 2;                 /* the slot and the caller */
        c->slots[slot] = fresh;
        e = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (fresh)
        entry_free(fresh);
    if (evicted)
        entry_free(evicted);
    return e;
}

void smime_cert_cache_release(smime_cert_cache *c, smime_cached_cert *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&c->lock);
    int last = --e->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        entry_free(e);
}

gnutls_x509_crt_t smime_cached_cert_crt(const smime_cached_cert *e)
{
    return e->crt;
}

gnutls_pubkey_t smime_cached_cert_pubkey(const smime_cached_cert *e, int *rc)
{
    *rc = e->pub_rc;
    return e->pub;
}

void smime_cert_cache_stats(smime_cert_cache *c, unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&c->lock);
    *hits = c->hits;
    *misses = c->misses;
    pthread_mutex_unlock(&c->lock);
}
