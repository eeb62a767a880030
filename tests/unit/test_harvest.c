/* Unit tests of the certificate harvest (src/telemetry/harvest.c): file names,
 * which certificate wins, expiry and revocation, the caps, file modes, and the
 * writer fed from real verification reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "smime/crypto/pki.h"
#include "smime/telemetry/harvest.h"
#include "smime/util/buf.h"
#include "smime/verdict/verify.h"

#define T2025 1735689600    /* 2025-01-01 */
#define T2026 1767225600    /* 2026-01-01 */
#define T2027 1798761600    /* 2027-01-01 */
#define T2030 1893456000    /* 2030-01-01 */

/* A self-signed P-256 certificate valid [nb, na], as PEM (caller frees). */
static char *make_pem(int64_t nb, int64_t na, unsigned serial, size_t *len)
{
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                                  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
    gnutls_x509_crt_set_version(crt, 3);
    unsigned char sn[3] = { 0x10, (unsigned char)(serial >> 8), (unsigned char)serial };
    gnutls_x509_crt_set_serial(crt, sn, sizeof(sn));
    gnutls_x509_crt_set_activation_time(crt, (time_t)nb);
    gnutls_x509_crt_set_expiration_time(crt, (time_t)na);
    gnutls_x509_crt_set_key(crt, key);
    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "h", 1);
    assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
    gnutls_datum_t d;
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
    char *pem = malloc(d.size + 1);
    assert_non_null(pem);
    memcpy(pem, d.data, d.size);
    pem[d.size] = '\0';
    *len = d.size;
    gnutls_free(d.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return pem;
}

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test-harvest.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[512];
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static int put(const smime_harvest_options *o, const char *addr, const char *pem, size_t len,
               int64_t now)
{
    char err[512] = "";
    int rc = smime_harvest_put(dir, o, addr, pem, len, now, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "put: %s\n", err);
    return rc;
}

/* The PEM served for addr at now, or NULL. */
static char *served(const char *addr, int64_t now)
{
    smime_buf b;
    smime_buf_init(&b, 1u << 20);
    char err[256];
    int rc = smime_harvest_lookup(dir, addr, now, &b, err, sizeof(err));
    assert_int_not_equal(rc, -1);
    size_t len;
    char *s = rc == 1 ? smime_buf_steal(&b, &len) : NULL;
    smime_buf_free(&b);
    return s;
}

static void test_file_names(void **state)
{
    (void)state;
    char n[64];
    assert_int_equal(smime_harvest_file_name("Alice@Partner.Example", n, sizeof(n)), 0);
    assert_string_equal(n, "alice@partner.example.pem");
    assert_int_equal(smime_harvest_file_name("../../etc/x@y", n, sizeof(n)), 0);
    assert_string_equal(n, "%2E.%2F..%2Fetc%2Fx@y.pem");
    assert_int_equal(smime_harvest_file_name("a b%c@d", n, sizeof(n)), 0);
    assert_string_equal(n, "a%20b%25c@d.pem");
    assert_int_equal(smime_harvest_file_name("", n, sizeof(n)), -1);
    assert_int_equal(smime_harvest_file_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x",
                                             n, sizeof(n)), -1);
}

static void test_newer_replaces_only_when_valid(void **state)
{
    (void)state;
    smime_harvest_options o;
    smime_harvest_options_default(&o);
    size_t l1, l2, l3;
    char *c2025 = make_pem(T2025, T2030, 1, &l1);
    char *c2026 = make_pem(T2026, T2030, 2, &l2);
    char *c2027 = make_pem(T2027, T2030, 3, &l3);
    int64_t now = T2026 + 100;
    assert_int_equal(put(&o, "a@p.example", c2025, l1, now), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "A@P.example", c2025, l1, now), SMIME_HARVEST_SAME);
    assert_int_equal(put(&o, "a@p.example", c2026, l2, now), SMIME_HARVEST_STORED);
    /* an older one does not push the newer out */
    assert_int_equal(put(&o, "a@p.example", c2025, l1, now), SMIME_HARVEST_KEPT);
    /* one not yet valid is not taken */
    assert_int_equal(put(&o, "a@p.example", c2027, l3, now), SMIME_HARVEST_INVALID);
    char *s = served("a@p.example", now);
    assert_non_null(s);
    assert_string_equal(s, c2026);
    free(s);
    /* mode 0600, directory untouched otherwise: one entry */
    struct stat st;
    char path[256];
    snprintf(path, sizeof(path), "%s/a@p.example.pem", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(put(&o, "a@p.example", "garbage", 7, now), SMIME_HARVEST_INVALID);
    free(c2025);
    free(c2026);
    free(c2027);
}

static void test_expired_never_served(void **state)
{
    (void)state;
    smime_harvest_options o;
    smime_harvest_options_default(&o);
    size_t l1, l2;
    char *shortlived = make_pem(T2025, T2026, 1, &l1);
    char *later = make_pem(T2025 + 10, T2030, 2, &l2);
    assert_int_equal(put(&o, "b@p.example", shortlived, l1, T2025 + 100), SMIME_HARVEST_STORED);
    /* expired now: not served, and gone */
    char *s = served("b@p.example", T2026 + 1);
    assert_null(s);
    s = served("b@p.example", T2025 + 100);
    assert_null(s);
    /* an expired stored one is replaced by any valid one */
    assert_int_equal(put(&o, "b@p.example", shortlived, l1, T2025 + 100), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "c@p.example", shortlived, l1, T2025 + 100), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "b@p.example", later, l2, T2026 + 5), SMIME_HARVEST_STORED);
    char err[128];
    assert_int_equal(smime_harvest_sweep(dir, T2026 + 5, err, sizeof(err)), 1);   /* c */
    s = served("b@p.example", T2026 + 5);
    assert_non_null(s);
    free(s);
    assert_null(served("c@p.example", T2025 + 100));
    free(shortlived);
    free(later);
}

static void test_forget_revoked(void **state)
{
    (void)state;
    smime_harvest_options o;
    smime_harvest_options_default(&o);
    size_t l;
    char *pem = make_pem(T2025, T2030, 7, &l);
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)l };
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    smime_cert_summary sum;
    smime_cert_summarize(crt, &sum);
    gnutls_x509_crt_deinit(crt);
    assert_int_equal(put(&o, "r@p.example", pem, l, T2026), SMIME_HARVEST_STORED);
    char err[128];
    assert_int_equal(smime_harvest_forget(dir, "r@p.example",
                                          "0000000000000000000000000000000000000000000000000000000000000000",
                                          err, sizeof(err)), 0);
    char *kept = served("r@p.example", T2026);
    assert_non_null(kept);
    free(kept);
    assert_int_equal(smime_harvest_forget(dir, "r@p.example", sum.sha256, err, sizeof(err)), 1);
    assert_null(served("r@p.example", T2026));
    free(pem);
}

static void test_caps(void **state)
{
    (void)state;
    smime_harvest_options o = { .max_entries = 2, .max_bytes = 1u << 20 };
    size_t l1, l2;
    char *c = make_pem(T2025 + 1, T2030, 1, &l1);
    char *shortlived = make_pem(T2025, T2026, 2, &l2);
    assert_int_equal(put(&o, "1@p.example", c, l1, T2025 + 1), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "2@p.example", shortlived, l2, T2025 + 1), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "3@p.example", c, l1, T2025 + 1), SMIME_HARVEST_FULL);
    /* a replacement of a stored address is not a new entry */
    assert_int_equal(put(&o, "1@p.example", shortlived, l2, T2025 + 2), SMIME_HARVEST_KEPT);
    assert_int_equal(put(&o, "2@p.example", c, l1, T2025 + 2), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "2@p.example", shortlived, l2, T2025 + 3), SMIME_HARVEST_KEPT);
    /* once something has expired, the sweep makes room */
    assert_int_equal(put(&o, "2@p.example", shortlived, l2, T2025 + 3), SMIME_HARVEST_KEPT);
    char err[128];
    assert_int_equal(smime_harvest_sweep(dir, T2025 + 3, err, sizeof(err)), 0);
    size_t l3;
    char *c3 = make_pem(T2025, T2030, 3, &l3);
    assert_int_equal(put(&o, "2@p.example", c3, l3, T2025 + 3), SMIME_HARVEST_KEPT);
    free(c3);
    assert_int_equal(put(&o, "5@p.example", shortlived, l2, T2025 + 3), SMIME_HARVEST_FULL);
    /* replace 1 by the short-lived one through an expiry, then let it expire */
    char p1[256];
    snprintf(p1, sizeof(p1), "%s/1@p.example.pem", dir);
    unlink(p1);
    assert_int_equal(put(&o, "1@p.example", shortlived, l2, T2025 + 3), SMIME_HARVEST_STORED);
    assert_int_equal(put(&o, "3@p.example", c, l1, T2026 + 1), SMIME_HARVEST_STORED);
    assert_null(served("1@p.example", T2026 + 1));
    smime_harvest_options small = { .max_entries = 100, .max_bytes = l1 + 10 };
    assert_int_equal(put(&small, "4@p.example", c, l1, T2025 + 1), SMIME_HARVEST_FULL);
    free(c);
    free(shortlived);
}

/* Real reports: a passing signature's chain is stored through the writer, a
 * failing one leaves nothing. */
static void test_writer_from_reports(void **state)
{
    (void)state;
    smime_trust *trust = NULL;
    char err[512];
    assert_int_equal(smime_trust_load("sample-mail/pki/trust-anchors.pem", &trust, err, sizeof(err)), 0);
    smime_verify_options opt;
    smime_verify_options_default(&opt, T2026);
    opt.keep_certs = 1;
    smime_harvest_options o;
    smime_harvest_options_default(&o);
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/store", dir);
    smime_harvester *h = NULL;
    assert_int_equal(smime_harvester_start(sub, &o, NULL, NULL, &h, err, sizeof(err)), 0);
    const char *files[] = { "sample-mail/01-multipart-signed-rsa2048.eml",
                            "sample-mail/30-tampered-body.eml",
                            "sample-mail/01-multipart-signed-rsa2048.eml" };
    for (size_t i = 0; i < 3; i++) {
        smime_buf in;
        smime_buf_init(&in, 8u << 20);
        assert_int_equal(smime_buf_read_file(&in, files[i], 0), 0);
        smime_report *r = NULL;
        assert_int_equal(smime_verify_message(in.data, in.len, trust, &opt, &r, err, sizeof(err)), 0);
        if (i == 1) {
            assert_int_not_equal(r->sigs[0].result, SMIME_RESULT_PASS);
            assert_null(r->sigs[0].certs_pem);
        } else {
            assert_int_equal(r->sigs[0].result, SMIME_RESULT_PASS);
            assert_non_null(r->sigs[0].certs_pem);
        }
        assert_int_equal(smime_harvester_submit(h, r, T2026), 0);
        smime_report_free(r);
        smime_buf_free(&in);
    }
    assert_int_equal(smime_harvester_close(h), 0);
    struct stat st;
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    smime_buf b;
    smime_buf_init(&b, 1u << 20);
    assert_int_equal(smime_harvest_lookup(sub, "alice@example.test", T2026, &b, err, sizeof(err)), 1);
    /* signer, the S/MIME CA and the root: three certificates */
    size_t certs = 0;
    for (const char *p = b.data; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
        certs++;
    assert_int_equal(certs, 3);
    smime_buf_free(&b);
    /* only alice: one file (no duplicates, nothing for the tampered message's signer) */
    DIR *d = opendir(sub);
    assert_non_null(d);
    size_t files_seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            files_seen++;
    closedir(d);
    assert_int_equal(files_seen, 1);
    char p[256];
    snprintf(p, sizeof(p), "%s/alice@example.test.pem", sub);
    unlink(p);
    rmdir(sub);
    smime_trust_free(trust);
}

int main(void)
{
    if (smime_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_names),
        cmocka_unit_test_setup_teardown(test_newer_replaces_only_when_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_never_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_from_reports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
