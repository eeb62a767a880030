/* Unit tests of the revocation checker (revocation.c) with a fake transport that
 * serves the fixtures of tests/revocation/fixtures by URL and counts its calls:
 * source order and fallback, cache hits, failures remembered, deadlines, one fetch
 * for many threads, the on-disk cache, CRLDirectory, offline mode. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "smime/revocation/revocation.h"
#include "testutil.h"

#define FIX "tests/revocation/fixtures/"
#define OCSP_URL "http://127.0.0.1:18001"
#define HTTP_URL "http://127.0.0.1:18002"

typedef struct fake_net {
    pthread_mutex_t lock;
    unsigned calls, ocsp_calls, crl_calls;
    unsigned delay_ms;
    const char *ocsp_file;            /* served for any request to OCSP_URL */
    const char *fail_prefix;          /* URLs starting with it fail with fail_rc */
    smime_fetch_rc fail_rc;
    int saw_get;                      /* an OCSP request came as GET */
    char asked[8][160];               /* the first URLs asked for (cut) */
} fake_net;

static smime_fetch_rc fake_fetch(void *ctx, const smime_fetch_request *req, smime_buf *body,
                                 char *err, size_t errlen)
{
    fake_net *net = ctx;
    int is_ocsp = strncmp(req->url, OCSP_URL, strlen(OCSP_URL)) == 0;
    pthread_mutex_lock(&net->lock);
    if (net->calls < 8)
        snprintf(net->asked[net->calls], sizeof(net->asked[0]), "%s", req->url);
    net->calls++;
    if (is_ocsp) {
        net->ocsp_calls++;
        net->saw_get |= req->post_body == NULL && strlen(req->url) > strlen(OCSP_URL) + 10;
    } else {
        net->crl_calls++;
    }
    pthread_mutex_unlock(&net->lock);
    if (net->delay_ms) {
        struct timespec ts = { net->delay_ms / 1000, (long)(net->delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (net->fail_prefix && strncmp(req->url, net->fail_prefix, strlen(net->fail_prefix)) == 0) {
        snprintf(err, errlen, "fake failure");
        return net->fail_rc;
    }
    char path[256];
    if (is_ocsp)
        snprintf(path, sizeof(path), FIX "ocsp-%s.der", net->ocsp_file ? net->ocsp_file : "good");
    else if (strncmp(req->url, HTTP_URL "/", strlen(HTTP_URL) + 1) == 0)
        snprintf(path, sizeof(path), FIX "%s", req->url + strlen(HTTP_URL) + 1);
    else
        return SMIME_FETCH_UNREACHABLE;
    size_t len;
    char *data = test_read_file(path, &len);
    int rc = smime_buf_append(body, data, len);
    free(data);
    if (rc < 0) {
        snprintf(err, errlen, "too large");
        return SMIME_FETCH_TOO_LARGE;
    }
    return SMIME_FETCH_OK;
}

static int64_t fixture_now(void)
{
    return test_read_int64(FIX "NOW");
}

static gnutls_x509_crt_t crt(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), FIX "%s.pem", name);
    return test_read_crt(path);
}

typedef struct fixture {
    fake_net net;
    smime_revocation_config cfg;
    smime_revocation *rv;
    gnutls_x509_crt_t sub, root;
    int64_t now;
} fixture;

static void fixture_open(fixture *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->net.lock, NULL);
    smime_revocation_config_default(&f->cfg);
    f->cfg.fetch = fake_fetch;
    f->cfg.fetch_ctx = &f->net;
    f->sub = crt("sub");
    f->root = crt("root");
    f->now = fixture_now();
}

static void fixture_start(fixture *f)
{
    char err[256];
    assert_int_equal(smime_revocation_new(&f->cfg, &f->rv, err, sizeof(err)), 0);
}

static void fixture_close(fixture *f)
{
    smime_revocation_free(f->rv);
    gnutls_x509_crt_deinit(f->sub);
    gnutls_x509_crt_deinit(f->root);
    pthread_mutex_destroy(&f->net.lock);
}

static int64_t in_ms(int64_t ms)
{
    return smime_rev_clock_ms() + ms;
}

static void check(fixture *f, const char *leaf, smime_rev_answer *a)
{
    gnutls_x509_crt_t c = crt(leaf);
    smime_revocation_check_cert(f->rv, c, f->sub, f->now, in_ms(5000), a);
    gnutls_x509_crt_deinit(c);
}

static void test_ocsp_then_cache(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    fixture_start(&f);
    smime_rev_answer a;
    check(&f, "leaf-good", &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_string_equal(a.source, "ocsp");
    assert_false(a.from_cache);
    assert_true(f.net.saw_get);                       /* short request: GET (RFC 5019) */
    check(&f, "leaf-good", &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_true(a.from_cache);
    assert_int_equal(f.net.calls, 1);
    /* Past nextUpdate the cached answer is not used: a new fetch, whose (same)
     * response is stale too, so the CRL (valid for 7 days) decides. */
    f.now += 2 * 86400;
    check(&f, "leaf-good", &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_string_equal(a.source, "crl");
    assert_int_equal(f.net.ocsp_calls, 2);
    assert_int_equal(f.net.crl_calls, 1);
    smime_rev_stats st;
    smime_revocation_stats(f.rv, &st);
    assert_int_equal(st.lookups, 3);
    assert_int_equal(st.memory_hits, 1);
    assert_int_equal(st.fetches, 3);
    fixture_close(&f);
}

static void test_path(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    fixture_start(&f);
    gnutls_x509_crt_t good = crt("leaf-good"), revoked = crt("leaf-revoked");
    gnutls_x509_crt_t path[3] = { good, f.sub, f.root };
    smime_rev_result r;
    assert_int_equal(smime_revocation_check_path(f.rv, path, 3, NULL, f.now, in_ms(5000), &r),
                     SMIME_REV_GOOD);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.certs[0].source, "ocsp");
    assert_string_equal(r.certs[1].source, "crl");   /* sub: root.crl */
    /* The same path as pki hands it over: the message's certificates, then the
     * anchor from the trust store. */
    assert_int_equal(smime_revocation_check_path(f.rv, path, 2, f.root, f.now, in_ms(5000), &r),
                     SMIME_REV_GOOD);
    assert_int_equal(r.n, 2);
    assert_int_equal(smime_revocation_check_path(f.rv, path, 2, NULL, f.now, in_ms(5000), &r),
                     SMIME_REV_GOOD);
    assert_int_equal(r.n, 1);                         /* sub's issuer unknown: not checked */
    f.net.ocsp_file = "revoked";
    path[0] = revoked;
    assert_int_equal(smime_revocation_check_path(f.rv, path, 2, f.root, f.now, in_ms(5000), &r),
                     SMIME_REV_REVOKED);
    assert_int_equal(r.worst, 0);
    assert_int_equal(r.n, 1);                         /* nothing more to learn */
    assert_int_equal(r.certs[0].crl_reason, 1);
    assert_int_equal(smime_revocation_check_path(f.rv, path + 2, 1, NULL, f.now, in_ms(5000), &r),
                     SMIME_REV_NOT_CHECKED);          /* an anchor alone */
    assert_int_equal(r.n, 0);
    gnutls_x509_crt_deinit(good);
    gnutls_x509_crt_deinit(revoked);
    fixture_close(&f);
}

static void test_sources(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    fixture_start(&f);
    smime_rev_answer a;
    f.net.ocsp_file = "unknown";
    check(&f, "leaf-unknown", &a);                    /* OCSP only, responder unknown */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "responder-unknown");
    check(&f, "leaf-crl-revoked", &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_string_equal(a.source, "crl");
    check(&f, "leaf-crl-good", &a);                   /* same CRL, from memory */
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_true(a.from_cache);
    check(&f, "leaf-crl-expired", &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "crl-expired");
    check(&f, "leaf-crl-badsig", &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "bad-signature");
    check(&f, "leaf-nourl", &a);
    assert_int_equal(a.status, SMIME_REV_NOT_CHECKED);
    assert_string_equal(a.code, "no-source");
    fixture_close(&f);
}

static void test_fallback_and_failures(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    f.net.fail_prefix = OCSP_URL;
    f.net.fail_rc = SMIME_FETCH_UNREACHABLE;
    fixture_start(&f);
    smime_rev_answer a;
    check(&f, "leaf-good", &a);                       /* responder down: the CRL answers */
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_string_equal(a.source, "crl");
    f.net.fail_prefix = "http://127.0.0.1:1800";      /* everything down */
    check(&f, "leaf-unknown", &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "unreachable");
    assert_non_null(strstr(a.reason, "fake failure"));
    unsigned calls = f.net.calls;
    check(&f, "leaf-unknown", &a);                    /* failure remembered: no new fetch */
    assert_string_equal(a.code, "unreachable");
    assert_true(a.from_cache);
    assert_int_equal(f.net.calls, calls);
    f.net.fail_rc = SMIME_FETCH_TOO_LARGE;
    check(&f, "leaf-crl-expired", &a);
    assert_string_equal(a.code, "too-large");
    fixture_close(&f);
}

static void test_deadline(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    fixture_start(&f);
    gnutls_x509_crt_t good = crt("leaf-good");
    smime_rev_answer a;
    smime_revocation_check_cert(f.rv, good, f.sub, f.now, in_ms(-1), &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "timeout");
    assert_int_equal(f.net.calls, 0);                 /* no time: nothing fetched */
    gnutls_x509_crt_deinit(good);
    fixture_close(&f);
}

typedef struct lookup_thread {
    fixture *f;
    gnutls_x509_crt_t cert;
    int64_t deadline_ms;
    smime_rev_answer a;
} lookup_thread;

static void *lookup_main(void *p)
{
    lookup_thread *t = p;
    smime_revocation_check_cert(t->f->rv, t->cert, t->f->sub, t->f->now, t->deadline_ms, &t->a);
    return NULL;
}

#define THREADS 16

static void test_one_fetch_for_many(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    f.net.delay_ms = 200;                             /* a slow responder */
    fixture_start(&f);
    gnutls_x509_crt_t good = crt("leaf-good");
    lookup_thread t[THREADS];
    pthread_t tid[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = (lookup_thread){ &f, good, in_ms(5000), { 0 } };
        assert_int_equal(pthread_create(&tid[i], NULL, lookup_main, &t[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(t[i].a.status, SMIME_REV_GOOD);
    }
    assert_int_equal(f.net.calls, 1);
    smime_rev_stats st;
    smime_revocation_stats(f.rv, &st);
    assert_int_equal(st.fetches, 1);
    assert_int_equal(st.memory_hits, THREADS - 1);   /* each waiter then reads the cache */
    assert_true(st.waits >= 1);

    /* A waiter whose own deadline comes first stops waiting at it. */
    gnutls_x509_crt_t crl_good = crt("leaf-crl-good");
    f.net.delay_ms = 600;
    lookup_thread slow = { &f, crl_good, in_ms(5000), { 0 } }, hasty;
    pthread_t slow_tid;
    assert_int_equal(pthread_create(&slow_tid, NULL, lookup_main, &slow), 0);
    while (1) {                                       /* until the slow fetch is running */
        pthread_mutex_lock(&f.net.lock);
        unsigned c = f.net.crl_calls;
        pthread_mutex_unlock(&f.net.lock);
        if (c)
            break;
        usleep(1000);
    }
    int64_t start = smime_rev_clock_ms();
    hasty = (lookup_thread){ &f, crl_good, in_ms(100), { 0 } };
    lookup_main(&hasty);
    int64_t waited = smime_rev_clock_ms() - start;
    assert_int_equal(hasty.a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(hasty.a.code, "timeout");
    assert_true(waited >= 90 && waited < 500);
    pthread_join(slow_tid, NULL);
    assert_int_equal(slow.a.status, SMIME_REV_GOOD);
    gnutls_x509_crt_deinit(crl_good);
    gnutls_x509_crt_deinit(good);
    fixture_close(&f);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = test_read_file(from, &len);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, len, out), len);
    fclose(out);
    free(data);
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_disk_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/smime-revcache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    fixture f;
    fixture_open(&f);
    f.cfg.cache_dir = dir;
    fixture_start(&f);
    smime_rev_answer a;
    check(&f, "leaf-good", &a);
    check(&f, "leaf-crl-revoked", &a);
    assert_int_equal(f.net.calls, 2);
    smime_revocation_free(f.rv);

    fixture_start(&f);                                /* a restarted milter */
    check(&f, "leaf-good", &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_true(a.from_cache);
    check(&f, "leaf-crl-revoked", &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_true(a.from_cache);
    assert_int_equal(f.net.calls, 2);                 /* both from disk */
    smime_rev_stats st;
    smime_revocation_stats(f.rv, &st);
    assert_int_equal(st.disk_hits, 2);
    fixture_close(&f);

    /* A cache directory that does not exist is a configuration error. */
    fixture_open(&f);
    f.cfg.cache_dir = "/nonexistent/revcache";
    char err[256];
    assert_int_equal(smime_revocation_new(&f.cfg, &f.rv, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "RevocationCache"));
    f.rv = NULL;
    fixture_close(&f);
    remove_dir(dir);
}

static void test_offline_and_crl_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/smime-crldir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/sub.crl", dir);
    copy_file(FIX "sub.crl", path);
    snprintf(path, sizeof(path), "%s/evil.pem", dir);  /* not a CRL: ignored */
    copy_file(FIX "evil.pem", path);
    fixture f;
    fixture_open(&f);
    f.cfg.fetch = NULL;                                /* offline */
    fixture_start(&f);
    smime_rev_answer a;
    check(&f, "leaf-good", &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "offline");
    smime_revocation_free(f.rv);

    f.cfg.crl_dir = dir;
    fixture_start(&f);
    check(&f, "leaf-revoked", &a);                     /* OCSP offline; CRLDirectory knows */
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_non_null(strstr(a.reason, "CRLDirectory"));
    check(&f, "leaf-good", &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_int_equal(f.net.calls, 0);
    fixture_close(&f);
    remove_dir(dir);
}

static void test_bounds(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    f.cfg.max_entries = 2;
    fixture_start(&f);
    smime_rev_answer a;
    check(&f, "leaf-unknown", &a);                    /* key 1: OCSP of leaf-unknown */
    check(&f, "leaf-crl-good", &a);                   /* key 2: sub.crl */
    check(&f, "leaf-crl-good", &a);                   /* hit; sub.crl most recent */
    assert_int_equal(f.net.calls, 2);
    check(&f, "leaf-crl-expired", &a);                /* key 3 pushes out key 1 */
    smime_rev_stats st;
    smime_revocation_stats(f.rv, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.evictions, 1);
    check(&f, "leaf-crl-good", &a);                   /* kept: used more recently */
    assert_true(a.from_cache);
    check(&f, "leaf-unknown", &a);                    /* evicted: fetched again */
    assert_false(a.from_cache);
    assert_int_equal(f.net.calls, 4);
    smime_revocation_free(f.rv);

    /* A byte bound smaller than one parsed CRL: the CRL answers, is not kept. */
    f.cfg.max_entries = 100;
    f.cfg.max_cache_bytes = 100;
    fixture_start(&f);
    check(&f, "leaf-crl-revoked", &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    check(&f, "leaf-crl-revoked", &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_false(a.from_cache);
    smime_revocation_stats(f.rv, &st);
    assert_true(st.bytes <= 100);
    fixture_close(&f);
}

/* Which URLs of a certificate are used: http:// OCSP entries of the AIA (after a
 * caIssuers one), and the http:// fullName URIs of distribution points that cover
 * every reason and have no cRLIssuer. */
static void test_urls_used(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f);
    f.net.fail_prefix = "http://";
    f.net.fail_rc = SMIME_FETCH_UNREACHABLE;
    fixture_start(&f);
    smime_rev_answer a;
    check(&f, "leaf-urls", &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_int_equal(f.net.calls, 2);
    assert_true(strncmp(f.net.asked[0], OCSP_URL "/ocsp/", strlen(OCSP_URL) + 6) == 0);
    assert_string_equal(f.net.asked[1], HTTP_URL "/sub.crl");
    fixture_close(&f);
}

static void test_apply(void **state)
{
    (void)state;
    smime_rev_result r;
    memset(&r, 0, sizeof(r));
    r.n = 2;
    r.status = SMIME_REV_UNKNOWN;
    r.worst = 1;
    r.certs[0].status = SMIME_REV_GOOD;
    r.certs[1] = (smime_rev_answer){ .status = SMIME_REV_UNKNOWN, .code = "timeout",
                                     .source = "crl", .crl_reason = -1 };
    snprintf(r.certs[1].reason, sizeof(r.certs[1].reason), "CRL at http://x/c.crl: timed out");

    smime_result res = SMIME_RESULT_PASS;
    const char *code = "ok";
    char reason[SMIME_TEXT_MAX] = "signature verified";
    assert_int_equal(smime_rev_apply(&r, SMIME_REV_MODE_SOFT, &res, &code, reason, sizeof(reason)), 0);
    assert_int_equal(res, SMIME_RESULT_PASS);
    assert_string_equal(code, "ok");
    assert_string_equal(reason, "signature verified; revocation status of the issuing CA "
                                "certificate unknown: CRL at http://x/c.crl: timed out");

    snprintf(reason, sizeof(reason), "signature verified");
    assert_int_equal(smime_rev_apply(&r, SMIME_REV_MODE_HARD, &res, &code, reason, sizeof(reason)), 1);
    assert_int_equal(res, SMIME_RESULT_TEMPERROR);
    assert_string_equal(code, "revocation-unknown");

    res = SMIME_RESULT_POLICY;                        /* hard mode keeps a policy word */
    code = "from-mismatch";
    assert_int_equal(smime_rev_apply(&r, SMIME_REV_MODE_HARD, &res, &code, reason, sizeof(reason)), 0);
    assert_int_equal(res, SMIME_RESULT_POLICY);

    res = SMIME_RESULT_PASS;
    code = "ok";
    assert_int_equal(smime_rev_apply(&r, SMIME_REV_MODE_OFF, &res, &code, reason, sizeof(reason)), 0);
    assert_int_equal(res, SMIME_RESULT_PASS);

    r.status = SMIME_REV_REVOKED;
    r.worst = 0;
    r.certs[0] = (smime_rev_answer){ .status = SMIME_REV_REVOKED, .code = "revoked",
                                     .source = "ocsp", .crl_reason = 1,
                                     .revocation_time = 1767225600 };
    assert_int_equal(smime_rev_apply(&r, SMIME_REV_MODE_SOFT, &res, &code, reason, sizeof(reason)), 1);
    assert_int_equal(res, SMIME_RESULT_FAIL);
    assert_string_equal(code, "revoked");
    assert_string_equal(reason, "signer certificate revoked on 2026-01-01T00:00:00Z "
                                "(keyCompromise, by ocsp)");

    r.status = SMIME_REV_GOOD;
    res = SMIME_RESULT_PASS;
    snprintf(reason, sizeof(reason), "fine");
    assert_int_equal(smime_rev_apply(&r, SMIME_REV_MODE_HARD, &res, &code, reason, sizeof(reason)), 0);
    assert_string_equal(reason, "fine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ocsp_then_cache),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_fallback_and_failures),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_one_fetch_for_many),
        cmocka_unit_test(test_disk_cache),
        cmocka_unit_test(test_offline_and_crl_dir),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_urls_used),
        cmocka_unit_test(test_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
