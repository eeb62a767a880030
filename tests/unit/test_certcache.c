/* Unit tests of certcache: the same DER gives the same parsed entry, different
 * certificates never share one, a held entry outlives its eviction, unreadable
 * DER is refused, and threads sharing one slot never free an entry in use. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "smime/crypto/certcache.h"
#include "testutil.h"

static gnutls_datum_t der_of(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "sample-mail/pki/%s.pem", name);
    gnutls_x509_crt_t c = test_read_crt(path);
    assert_non_null(c);
    gnutls_datum_t d;
    assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_DER, &d), 0);
    gnutls_x509_crt_deinit(c);
    return d;
}

static void serial_is(gnutls_x509_crt_t crt, const gnutls_datum_t *der)
{
    gnutls_datum_t again;
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &again), 0);
    assert_int_equal(again.size, der->size);
    assert_memory_equal(again.data, der->data, der->size);
    gnutls_free(again.data);
}

static void test_hit_and_key(void **state)
{
    (void)state;
    smime_cert_cache *c = smime_cert_cache_new(64);
    assert_non_null(c);
    gnutls_datum_t alice = der_of("alice"), p256 = der_of("p256");
    smime_cached_cert *a1 = smime_cert_cache_get(c, &alice);
    smime_cached_cert *a2 = smime_cert_cache_get(c, &alice);
    smime_cached_cert *p = smime_cert_cache_get(c, &p256);
    assert_non_null(a1);
    assert_ptr_equal(a1, a2);
    assert_ptr_not_equal(a1, p);
    serial_is(smime_cached_cert_crt(a1), &alice);
    serial_is(smime_cached_cert_crt(p), &p256);
    int rc = -1;
    gnutls_pubkey_t pub = smime_cached_cert_pubkey(p, &rc);
    assert_non_null(pub);
    assert_int_equal(rc, 0);
    assert_int_equal(gnutls_pubkey_get_pk_algorithm(pub, NULL), GNUTLS_PK_ECDSA);
    unsigned long hits, misses;
    smime_cert_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 2);
    smime_cert_cache_release(c, a1);
    smime_cert_cache_release(c, a2);
    smime_cert_cache_release(c, p);
    /* released, still cached */
    a1 = smime_cert_cache_get(c, &alice);
    smime_cert_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 2);
    smime_cert_cache_release(c, a1);
    smime_cert_cache_free(c);
    gnutls_free(alice.data);
    gnutls_free(p256.data);
}

/* One slot: every new certificate evicts the last; a holder keeps its entry
 * (ASan would see a use after free) and equality is by the whole DER: a
 * certificate differing in one byte of the middle is another entry. */
static void test_evict_while_held(void **state)
{
    (void)state;
    smime_cert_cache *c = smime_cert_cache_new(1);
    gnutls_datum_t alice = der_of("alice"), bob = der_of("bob");
    smime_cached_cert *a = smime_cert_cache_get(c, &alice);
    smime_cached_cert *b = smime_cert_cache_get(c, &bob);
    assert_non_null(a);
    assert_non_null(b);
    serial_is(smime_cached_cert_crt(a), &alice);       /* evicted, still held */
    smime_cert_cache_release(c, a);
    smime_cached_cert *a2 = smime_cert_cache_get(c, &alice);
    assert_non_null(a2);
    serial_is(smime_cached_cert_crt(a2), &alice);
    serial_is(smime_cached_cert_crt(b), &bob);
    smime_cert_cache_release(c, b);
    smime_cert_cache_release(c, a2);
    smime_cert_cache_free(c);
    gnutls_free(alice.data);
    gnutls_free(bob.data);
}

static void test_unreadable(void **state)
{
    (void)state;
    smime_cert_cache *c = smime_cert_cache_new(8);
    gnutls_datum_t alice = der_of("alice");
    gnutls_datum_t cut = { alice.data, alice.size / 2 };
    assert_null(smime_cert_cache_get(c, &cut));
    gnutls_datum_t empty = { alice.data, 0 };
    assert_null(smime_cert_cache_get(c, &empty));
    /* the same length and last bytes as alice, other bytes: not alice's entry */
    smime_cached_cert *a = smime_cert_cache_get(c, &alice);
    unsigned char *twin = malloc(alice.size);
    memcpy(twin, alice.data, alice.size);
    twin[alice.size / 2] ^= 1;
    gnutls_datum_t t = { twin, alice.size };
    smime_cached_cert *x = smime_cert_cache_get(c, &t);
    assert_ptr_not_equal(x, a);
    if (x)
        smime_cert_cache_release(c, x);
    serial_is(smime_cached_cert_crt(a), &alice);
    smime_cert_cache_release(c, a);
    free(twin);
    smime_cert_cache_free(c);
    gnutls_free(alice.data);
}

typedef struct race {
    smime_cert_cache *c;
    gnutls_datum_t   *der[2];
    int               bad;
} race;

static void *racer(void *arg)
{
    race *r = arg;
    for (int i = 0; i < 300; i++) {
        gnutls_datum_t *d = r->der[i & 1];
        smime_cached_cert *e = smime_cert_cache_get(r->c, d);
        gnutls_datum_t got;
        if (!e || gnutls_x509_crt_export2(smime_cached_cert_crt(e), GNUTLS_X509_FMT_DER, &got) < 0) {
            r->bad = 1;
            break;
        }
        if (got.size != d->size || memcmp(got.data, d->data, d->size) != 0)
            r->bad = 1;
        gnutls_free(got.data);
        smime_cert_cache_release(r->c, e);
    }
    return NULL;
}

static void test_threads_share_one_slot(void **state)
{
    (void)state;
    smime_cert_cache *c = smime_cert_cache_new(1);
    gnutls_datum_t alice = der_of("alice"), p256 = der_of("p256");
    race r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race){ c, { i & 1 ? &alice : &p256, i & 1 ? &p256 : &alice }, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, racer, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    smime_cert_cache_free(c);
    gnutls_free(alice.data);
    gnutls_free(p256.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_key),
        cmocka_unit_test(test_evict_while_held),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_threads_share_one_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
