/* Unit tests of pki: trust store loading, chain validation at a given time, status
 * mapping, mailbox extraction and address comparison. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smime/crypto/pki.h"
#include "smime/util/timeutil.h"
#include "smime/verdict/verify.h"
#include "testutil.h"

static gnutls_x509_crt_t load_crt(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "sample-mail/pki/%s.pem", name);
    return test_read_crt(path);
}

static smime_trust *load_anchors(void)
{
    smime_trust *t = NULL;
    char err[256];
    assert_int_equal(smime_trust_load(SAMPLE_ANCHORS, &t, err, sizeof(err)), 0);
    return t;
}

/* smime_chain_validate over certificates the test has parsed, counting how many
 * times the pool is asked to parse one. */
static unsigned pool_parses;

static gnutls_x509_crt_t counting_crt(void *owner, size_t i)
{
    pool_parses++;
    return ((gnutls_x509_crt_t *)owner)[i];
}

static smime_chain_status validate(const smime_trust *t, gnutls_x509_crt_t signer,
                                   gnutls_x509_crt_t *crts, size_t n, int64_t now,
                                   unsigned max_chain, int use_cache, smime_chain_result *out)
{
    gnutls_datum_t der[8];
    smime_cert_pool pool = { 0, der, counting_crt, crts, NULL, 0 };
    assert_true(n <= 8);
    if (n)
        assert_int_equal(smime_cert_pool_of(crts, n, der, &pool), 0);
    pool.crt = counting_crt;
    smime_chain_status st = smime_chain_validate(t, signer, &pool, now, max_chain, use_cache, out);
    smime_cert_pool_free_der(der, n);
    return st;
}

static void test_trust_load_errors(void **state)
{
    (void)state;
    smime_trust *t = NULL;
    char err[256];
    assert_int_equal(smime_trust_load("/nonexistent/anchors.pem", &t, err, sizeof(err)), -1);
    assert_null(t);
    assert_non_null(strstr(err, "/nonexistent/anchors.pem"));
    /* A file with no certificate is refused: trusting nothing is a mistake. */
    assert_int_equal(smime_trust_load("sample-mail/MANIFEST", &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sample-mail/MANIFEST"));
}

static void test_trust_load_file_and_dir(void **state)
{
    (void)state;
    smime_trust *t = load_anchors();
    assert_int_equal(smime_trust_count(t), 1);
    smime_trust_free(t);

    char dir[] = "/tmp/smime-anchors-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    size_t len;
    char *pem = test_read_file(SAMPLE_ANCHORS, &len);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(pem, 1, len, f);
    fclose(f);
    free(pem);
    char err[256];
    assert_int_equal(smime_trust_load(dir, &t, err, sizeof(err)), 0);
    assert_int_equal(smime_trust_count(t), 1);
    smime_trust_free(t);
    unlink(path);
    rmdir(dir);
}

static void test_chain_ok_and_times(void **state)
{
    (void)state;
    smime_trust *t = load_anchors();
    gnutls_x509_crt_t alice = load_crt("alice"), ca = load_crt("smime-ca");
    gnutls_x509_crt_t pool[] = { ca };
    smime_chain_result r;
    assert_int_equal(validate(t, alice, pool, 1, SAMPLE_NOW, 10, 1, &r), SMIME_CHAIN_OK);
    assert_int_equal(r.len, 2);           /* the intermediate, then the anchor */
    assert_true(r.anchored);
    assert_non_null(strstr(r.issuers[0].subject, "Test S/MIME CA"));
    assert_non_null(strstr(r.issuers[1].subject, "Test Root CA"));

    int64_t later = smime_time_from_utc(2060, 1, 1, 0, 0, 0);
    assert_int_equal(validate(t, alice, pool, 1, later, 10, 1, &r), SMIME_CHAIN_EXPIRED);
    assert_non_null(strstr(r.reason, "expired"));
    int64_t earlier = smime_time_from_utc(2024, 6, 1, 0, 0, 0);
    assert_int_equal(validate(t, alice, pool, 1, earlier, 10, 1, &r),
                     SMIME_CHAIN_NOT_YET_VALID);
    /* Without the intermediate there is no path. */
    assert_int_equal(validate(t, alice, NULL, 0, SAMPLE_NOW, 10, 1, &r),
                     SMIME_CHAIN_UNTRUSTED);
    /* A path longer than the cap is refused before GnuTLS sees it. */
    assert_int_equal(validate(t, alice, pool, 1, SAMPLE_NOW, 1, 1, &r),
                     SMIME_CHAIN_TOO_LONG);
    gnutls_x509_crt_deinit(alice);
    gnutls_x509_crt_deinit(ca);
    smime_trust_free(t);
}

static void test_chain_failures(void **state)
{
    (void)state;
    smime_trust *t = load_anchors();
    gnutls_x509_crt_t ca = load_crt("smime-ca"), uroot = load_crt("untrusted-root");
    gnutls_x509_crt_t wrong = load_crt("wrongeku"), untrusted = load_crt("untrusted");
    gnutls_x509_crt_t expired = load_crt("expired");
    gnutls_x509_crt_t pool[] = { ca, uroot };
    smime_chain_result r;
    assert_int_equal(validate(t, wrong, pool, 2, SAMPLE_NOW, 10, 1, &r), SMIME_CHAIN_PURPOSE);
    assert_non_null(strstr(r.reason, "email protection"));
    assert_int_equal(validate(t, untrusted, pool, 2, SAMPLE_NOW, 10, 1, &r),
                     SMIME_CHAIN_UNTRUSTED);
    assert_int_equal(validate(t, expired, pool, 2, SAMPLE_NOW, 10, 1, &r),
                     SMIME_CHAIN_EXPIRED);
    assert_non_null(strstr(r.reason, "signer certificate expired on 2021-01-01"));
    /* Inside the signer's validity the issuing CA (from 2025) is not yet valid:
     * every certificate of the path is checked at the time given. */
    assert_int_equal(validate(t, expired, pool, 2,
                                          smime_time_from_utc(2020, 6, 1, 0, 0, 0), 10, 1, &r),
                     SMIME_CHAIN_NOT_YET_VALID);
    assert_non_null(strstr(r.reason, "issuing CA certificate is not valid before 2025-01-01"));
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(uroot);
    gnutls_x509_crt_deinit(wrong);
    gnutls_x509_crt_deinit(untrusted);
    gnutls_x509_crt_deinit(expired);
    smime_trust_free(t);
}

static void test_chain_cache(void **state)
{
    (void)state;
    smime_trust *t = load_anchors();
    gnutls_x509_crt_t alice = load_crt("alice"), ca = load_crt("smime-ca");
    gnutls_x509_crt_t untrusted = load_crt("untrusted"), uroot = load_crt("untrusted-root");
    gnutls_x509_crt_t pool[] = { ca, uroot };
    smime_chain_result cold, warm;
    unsigned long hits, misses;
    assert_int_equal(validate(t, alice, pool, 2, SAMPLE_NOW, 10, 1, &cold), SMIME_CHAIN_OK);
    smime_trust_cache_stats(t, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, 1);
    pool_parses = 0;
    assert_int_equal(validate(t, alice, pool, 2, SAMPLE_NOW, 10, 1, &warm), SMIME_CHAIN_OK);
    smime_trust_cache_stats(t, &hits, &misses);
    assert_int_equal(hits, 1);
    /* a remembered path is neither built nor verified: no issuer is parsed */
    assert_int_equal(pool_parses, 0);
    assert_int_equal(warm.n_path, cold.n_path);
    assert_int_equal(warm.path_pool[1], 0);                     /* the CA, pool[0] */
    assert_ptr_equal(smime_chain_crt(&warm, alice, &(smime_cert_pool){ 2, NULL, counting_crt, pool, NULL, 0 }, 1), ca);
    /* A hit reports the same path as the verification that filled it. */
    assert_int_equal(warm.len, cold.len);
    assert_true(warm.anchored);
    assert_string_equal(warm.issuers[1].subject, cold.issuers[1].subject);
    assert_string_equal(warm.signer.subject, "CN=alice@example.test");
    assert_string_equal(warm.signer.serial, cold.signer.serial);
    assert_int_equal(warm.signer.not_after, cold.signer.not_after);
    /* Times are checked on every hit. */
    assert_int_equal(validate(t, alice, pool, 2, smime_time_from_utc(2060, 1, 1, 0, 0, 0),
                                          10, 1, &warm), SMIME_CHAIN_EXPIRED);
    /* A rejected path is never remembered. */
    assert_int_equal(validate(t, untrusted, pool, 2, SAMPLE_NOW, 10, 1, &warm),
                     SMIME_CHAIN_UNTRUSTED);
    assert_int_equal(validate(t, untrusted, pool, 2, SAMPLE_NOW, 10, 1, &warm),
                     SMIME_CHAIN_UNTRUSTED);
    smime_trust_cache_stats(t, &hits, &misses);
    assert_int_equal(hits, 2);
    assert_int_equal(misses, 3);
    /* Without the cache nothing is looked up. */
    assert_int_equal(validate(t, alice, pool, 2, SAMPLE_NOW, 10, 0, &warm), SMIME_CHAIN_OK);
    smime_trust_cache_stats(t, &hits, &misses);
    assert_int_equal(hits + misses, 5);
    gnutls_x509_crt_deinit(alice);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(untrusted);
    gnutls_x509_crt_deinit(uroot);
    smime_trust_free(t);
}

/* Signers named by their place in a pool with a digest (as a message's signers
 * are): each place has its own remembered path, never another signer's, and a
 * hit gives what a cold validation of the same signer gives. */
static void test_chain_cache_by_place(void **state)
{
    (void)state;
    smime_trust *t = load_anchors();
    gnutls_x509_crt_t alice = load_crt("alice"), bob = load_crt("bob"), ca = load_crt("smime-ca");
    gnutls_x509_crt_t untrusted = load_crt("untrusted"), uroot = load_crt("untrusted-root");
    gnutls_x509_crt_t crts[] = { alice, ca, untrusted, bob, uroot };
    gnutls_datum_t der[5];
    smime_cert_pool pool;
    assert_int_equal(smime_cert_pool_of(crts, 5, der, &pool), 0);
    unsigned char digest[32];
    assert_int_equal(smime_cert_pool_digest(der, 5, digest), 0);
    pool.digest = digest;
    static const smime_chain_status want[] = { SMIME_CHAIN_OK, 0, SMIME_CHAIN_UNTRUSTED, SMIME_CHAIN_OK };
    smime_chain_result cold, warm;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < 4; i++) {
            if (i == 1)
                continue;                        /* the CA itself */
            pool.signer_at = i + 1;
            assert_int_equal(smime_chain_validate(t, crts[i], &pool, SAMPLE_NOW, 10, 0, &cold), want[i]);
            assert_int_equal(smime_chain_validate(t, crts[i], &pool, SAMPLE_NOW, 10, 1, &warm), want[i]);
            assert_int_equal(warm.n_path, cold.n_path);
            assert_string_equal(warm.signer.serial, cold.signer.serial);
            assert_string_equal(warm.signer.subject, cold.signer.subject);
            for (size_t k = 1; k < warm.n_path; k++)
                assert_int_equal(warm.path_pool[k], cold.path_pool[k]);
        }
    }
    unsigned long hits, misses;
    smime_trust_cache_stats(t, &hits, &misses);
    /* alice and bob: a miss each, then hits; the untrusted one is never kept */
    assert_int_equal(misses, 2 + 2);
    assert_int_equal(hits, 2);
    smime_cert_pool_free_der(der, 5);
    for (size_t i = 0; i < 5; i++)
        gnutls_x509_crt_deinit(crts[i]);
    smime_trust_free(t);
}

static void test_summary(void **state)
{
    (void)state;
    gnutls_x509_crt_t p384 = load_crt("p384"), alice = load_crt("alice"), ed = load_crt("ed25519");
    gnutls_x509_crt_t p521 = load_crt("p521");
    smime_cert_summary s;
    smime_cert_summarize(p384, &s);
    assert_string_equal(s.key, "EC-P384");
    assert_non_null(strstr(s.issuer, "CN=smime-milter Test S/MIME CA"));
    assert_true(strlen(s.serial) >= 2 && strspn(s.serial, "0123456789ABCDEF") == strlen(s.serial));
    smime_cert_summarize(alice, &s);
    assert_string_equal(s.key, "RSA-2048");
    assert_true(s.not_after > s.not_before);
    smime_cert_summarize(ed, &s);
    assert_string_equal(s.key, "Ed25519");
    gnutls_x509_crt_deinit(p384);
    gnutls_x509_crt_deinit(alice);
    smime_cert_summarize(p521, &s);
    assert_string_equal(s.key, "EC-P521");
    gnutls_x509_crt_deinit(ed);
    gnutls_x509_crt_deinit(p521);
}

static void test_mailboxes(void **state)
{
    (void)state;
    gnutls_x509_crt_t u = load_crt("smtputf8"), alice = load_crt("alice");
    char boxes[SMIME_MAILBOXES_MAX][SMIME_ADDR_MAX];
    size_t n = smime_cert_mailboxes(u, boxes, SMIME_MAILBOXES_MAX);
    int has_utf8 = 0, has_ascii = 0;
    for (size_t i = 0; i < n; i++) {
        has_utf8 |= strcmp(boxes[i], "j\xc3\xb6rg@example.test") == 0;
        has_ascii |= strcmp(boxes[i], "joerg@example.test") == 0;
    }
    assert_true(has_utf8);
    assert_true(has_ascii);
    n = smime_cert_mailboxes(alice, boxes, SMIME_MAILBOXES_MAX);
    assert_int_equal(n, 1);             /* SAN and CN/emailAddress de-duplicated */
    assert_string_equal(boxes[0], "alice@example.test");
    /* The cap holds. */
    assert_int_equal(smime_cert_mailboxes(u, boxes, 1), 1);
    gnutls_x509_crt_deinit(u);
    gnutls_x509_crt_deinit(alice);
}

static void test_addr_equal(void **state)
{
    (void)state;
    assert_true(smime_addr_equal("alice@example.test", "alice@example.test"));
    assert_true(smime_addr_equal("alice@Example.TEST", "alice@example.test"));
    assert_false(smime_addr_equal("Alice@example.test", "alice@example.test"));
    assert_false(smime_addr_equal("alice@example.test", "alice@example.tes"));
    assert_false(smime_addr_equal("alice", "alice"));
    assert_false(smime_addr_equal("alice@a.test", "alicf@a.test"));
    /* IDNA: a U-label domain equals its A-label form. */
    assert_true(smime_addr_equal("x@b\xc3\xbc" "cher.example", "x@xn--bcher-kva.example"));
    assert_true(smime_addr_equal("j\xc3\xb6rg@example.test", "j\xc3\xb6rg@EXAMPLE.test"));
    assert_false(smime_addr_equal("j\xc3\xb6rg@example.test", "joerg@example.test"));
}

static void test_can_sign(void **state)
{
    (void)state;
    gnutls_x509_crt_t nonrep = load_crt("nonrep"), alice = load_crt("alice"), ca = load_crt("smime-ca");
    assert_true(smime_cert_can_sign(nonrep));
    assert_true(smime_cert_can_sign(alice));
    assert_false(smime_cert_can_sign(ca));   /* keyCertSign + cRLSign only */
    gnutls_x509_crt_deinit(nonrep);
    gnutls_x509_crt_deinit(alice);
    gnutls_x509_crt_deinit(ca);
}

/* The key limits read from the certificate and from its imported key agree, for
 * every sample key kind and for limits each key is under and over. */
static void test_key_limits_both_forms(void **state)
{
    (void)state;
    static const char *const names[] = { "alice", "rsa3072", "rsa4096", "pss", "p256", "p384",
                                         "p521", "ed25519" };
    static const smime_key_limits lims[] = { { 8192, 256 }, { 3072, 256 }, { 2048, 256 },
                                             { 8192, 16 }, { 8192, 17 }, { 0, 0 } };
    int refused = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        gnutls_x509_crt_t crt = load_crt(names[i]);
        gnutls_pubkey_t pub;
        assert_int_equal(gnutls_pubkey_init(&pub), 0);
        assert_int_equal(gnutls_pubkey_import_x509(pub, crt, 0), 0);
        for (size_t k = 0; k < sizeof(lims) / sizeof(lims[0]); k++) {
            char a[256] = "", b[256] = "";
            int ra = smime_cert_key_within_limits(crt, &lims[k], a, sizeof(a));
            int rb = smime_pubkey_within_limits(pub, &lims[k], b, sizeof(b));
            assert_int_equal(ra, rb);
            assert_string_equal(a, b);
            refused += ra < 0;
        }
        gnutls_pubkey_deinit(pub);
        gnutls_x509_crt_deinit(crt);
    }
    /* 3072 refuses rsa4096; 2048 refuses rsa3072 and rsa4096; an exponent cap of
     * 16 bits refuses all four RSA keys (e = 65537 has 17 bits) */
    assert_int_equal(refused, 7);
}

/* The pool digest a message's path keys share stands for every certificate of
 * the pool, in order, and for where one ends and the next begins. */
static void test_pool_digest_covers_the_pool(void **state)
{
    (void)state;
    unsigned char a[] = "first certificate", b[] = "second certificate";
    gnutls_datum_t pool[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
    gnutls_datum_t swapped[2] = { pool[1], pool[0] };
    gnutls_datum_t split[2] = { { a, 5 }, { a + 5, sizeof(a) - 5 } };
    gnutls_datum_t whole[1] = { { a, sizeof(a) } };
    unsigned char d[5][32];
    assert_int_equal(smime_cert_pool_digest(pool, 2, d[0]), 0);
    assert_int_equal(smime_cert_pool_digest(swapped, 2, d[1]), 0);
    assert_int_equal(smime_cert_pool_digest(pool, 1, d[2]), 0);
    assert_int_equal(smime_cert_pool_digest(split, 2, d[3]), 0);
    assert_int_equal(smime_cert_pool_digest(whole, 1, d[4]), 0);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (!(i == 2 && j == 4))        /* the same one certificate */
                assert_memory_not_equal(d[i], d[j], 32);
    assert_memory_equal(d[2], d[4], 32);
    b[0] ^= 1;                              /* one byte of the last certificate */
    assert_int_equal(smime_cert_pool_digest(pool, 2, d[1]), 0);
    assert_memory_not_equal(d[0], d[1], 32);
}

int main(void)
{
    smime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trust_load_errors),
        cmocka_unit_test(test_trust_load_file_and_dir),
        cmocka_unit_test(test_chain_ok_and_times),
        cmocka_unit_test(test_chain_failures),
        cmocka_unit_test(test_chain_cache),
        cmocka_unit_test(test_chain_cache_by_place),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_mailboxes),
        cmocka_unit_test(test_addr_equal),
        cmocka_unit_test(test_can_sign),
        cmocka_unit_test(test_key_limits_both_forms),
        cmocka_unit_test(test_pool_digest_covers_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
