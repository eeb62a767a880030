/* Unit tests of the pure revocation checks: OCSP responses (ocsp.c) and CRLs
 * (crl.c) judged against the fixtures of tests/revocation/fixtures (made by
 * tests/revocation/make-fixtures.sh) at the time they were made (fixtures/NOW). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "smime/revocation/crl.h"
#include "smime/revocation/ocsp.h"
#include "smime/revocation/revocation.h"
#include "smime/util/timeutil.h"
#include "testutil.h"

#define FIX "tests/revocation/fixtures/"

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

static smime_rev_time at(int64_t delta)
{
    smime_rev_time t = { fixture_now() + delta, 300, 3600 };
    return t;
}

/* Judges fixture response `resp` for certificate `leaf` (issued by sub). */
static void ocsp_case(const char *resp, const char *leaf, int64_t delta, smime_rev_answer *a)
{
    char path[256];
    snprintf(path, sizeof(path), FIX "ocsp-%s.der", resp);
    size_t len;
    char *der = test_read_file(path, &len);
    gnutls_x509_crt_t cert = crt(leaf), sub = crt("sub");
    smime_rev_time t = at(delta);
    smime_ocsp_check((unsigned char *)der, len, cert, sub, &t, a);
    assert_string_equal(a->source, "ocsp");
    gnutls_x509_crt_deinit(cert);
    gnutls_x509_crt_deinit(sub);
    free(der);
}

static void test_ocsp_good(void **state)
{
    (void)state;
    static const char *const signed_by[] = { "good-ca", "good", "good-bykey" };
    for (size_t i = 0; i < 3; i++) {
        smime_rev_answer a;
        ocsp_case(signed_by[i], "leaf-good", 0, &a);
        assert_int_equal(a.status, SMIME_REV_GOOD);
        assert_string_equal(a.code, "good");
        assert_true(a.next_update > a.this_update);
    }
}

static void test_ocsp_revoked(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("revoked", "leaf-revoked", 0, &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_int_equal(a.crl_reason, 1);
    assert_int_equal(a.revocation_time, smime_time_from_utc(2026, 1, 1, 0, 0, 0));
    assert_non_null(strstr(a.reason, "keyCompromise"));
    char text[SMIME_TEXT_MAX];
    smime_rev_describe(&a, "signer certificate", text, sizeof(text));
    assert_string_equal(text, "signer certificate revoked on 2026-01-01T00:00:00Z "
                              "(keyCompromise, by ocsp)");
}

static void test_ocsp_unknown(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("unknown", "leaf-unknown", 0, &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "responder-unknown");
}

static void test_ocsp_unauthorised_signers(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("noeku", "leaf-good", 0, &a);           /* issued by sub, no OCSPSigning */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "unauthorized-responder");
    assert_non_null(strstr(a.reason, "OCSPSigning"));
    ocsp_case("evil", "leaf-good", 0, &a);            /* same name, another CA */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "unauthorized-responder");
    assert_non_null(strstr(a.reason, "not issued by"));
}

static void test_ocsp_bad_signature(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("badsig", "leaf-good", 0, &a);          /* names sub, signed by evil's key */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "bad-signature");

    /* A flipped bit in the signed data of a good response. */
    size_t len;
    char *der = test_read_file(FIX "ocsp-good.der", &len);
    char *pos = NULL;                                 /* producedAt GeneralizedTime */
    for (size_t i = 0; i + 6 < len && !pos; i++)
        if (der[i] == 0x18 && der[i + 1] == 0x0f)
            pos = der + i;
    assert_non_null(pos);
    pos[5] ^= 0x01;                                   /* a digit of the year */
    gnutls_x509_crt_t cert = crt("leaf-good"), sub = crt("sub");
    smime_rev_time t = at(0);
    smime_ocsp_check((unsigned char *)der, len, cert, sub, &t, &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "bad-signature");
    gnutls_x509_crt_deinit(cert);
    gnutls_x509_crt_deinit(sub);
    free(der);
}

static void test_ocsp_wrong_certificate(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("good", "leaf-revoked", 0, &a);         /* answers for another serial */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "no-match");
}

static void test_ocsp_freshness(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("good", "leaf-good", 2 * 86400, &a);    /* nextUpdate was one day on */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "stale");
    ocsp_case("good", "leaf-good", 86400 + 200, &a);  /* within the skew */
    assert_int_equal(a.status, SMIME_REV_GOOD);
    ocsp_case("good-ca", "leaf-good", -3600, &a);     /* made after the evaluation time */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "not-yet-valid");
    ocsp_case("good", "leaf-good", -3600, &a);        /* delegate not yet valid either */
    assert_string_equal(a.code, "unauthorized-responder");
    assert_non_null(strstr(a.reason, "not valid at the evaluation time"));
}

static void test_ocsp_malformed(void **state)
{
    (void)state;
    gnutls_x509_crt_t cert = crt("leaf-good"), sub = crt("sub");
    smime_rev_time t = at(0);
    smime_rev_answer a;
    smime_ocsp_check((const unsigned char *)"", 0, cert, sub, &t, &a);
    assert_string_equal(a.code, "malformed");
    smime_ocsp_check((const unsigned char *)"<html>oops</html>", 17, cert, sub, &t, &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "malformed");
    size_t len;
    char *der = test_read_file(FIX "ocsp-good.der", &len);
    for (size_t cut = 1; cut < len; cut += 37) {      /* every truncation is refused */
        smime_ocsp_check((unsigned char *)der, cut, cert, sub, &t, &a);
        assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    }
    free(der);
    /* OCSPResponse { responseStatus tryLater } */
    smime_ocsp_check((const unsigned char *)"\x30\x03\x0a\x01\x03", 5, cert, sub, &t, &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "responder-error");
    assert_non_null(strstr(a.reason, "tryLater"));
    gnutls_x509_crt_deinit(cert);
    gnutls_x509_crt_deinit(sub);
}

static void test_ocsp_request(void **state)
{
    (void)state;
    gnutls_x509_crt_t cert = crt("leaf-good"), sub = crt("sub");
    gnutls_datum_t req;
    assert_int_equal(smime_ocsp_request(cert, sub, &req), 0);
    assert_true(req.size > 40 && req.size < 200);
    char url[1024];
    assert_int_equal(smime_ocsp_get_url("http://ocsp.example", req.data, req.size, url, sizeof(url)), 0);
    assert_true(strncmp(url, "http://ocsp.example/ME", 22) == 0);
    assert_null(strpbrk(url + 20, "+/="));            /* percent-encoded in the path */
    assert_int_equal(smime_ocsp_get_url("http://x/", req.data, req.size, url, 20), -1);
    char key[256], key2[256];
    assert_int_equal(smime_ocsp_cert_key(cert, sub, key, sizeof(key)), 0);
    assert_non_null(strstr(key, ":3001"));
    gnutls_x509_crt_t other = crt("leaf-revoked");
    assert_int_equal(smime_ocsp_cert_key(other, sub, key2, sizeof(key2)), 0);
    assert_string_not_equal(key, key2);
    assert_int_equal(smime_ocsp_cert_key(cert, sub, key, 10), -1);
    gnutls_free(req.data);
    gnutls_x509_crt_deinit(cert);
    gnutls_x509_crt_deinit(other);
    gnutls_x509_crt_deinit(sub);
}

/* ---- CRLs ---- */

static smime_crl *crl_load(const char *file, const char *issuer, smime_rev_answer *err)
{
    char path[256];
    snprintf(path, sizeof(path), FIX "%s", file);
    size_t len;
    char *der = test_read_file(path, &len);
    gnutls_x509_crt_t is = crt(issuer);
    smime_crl *crl = NULL;
    int rc = smime_crl_load((unsigned char *)der, len, is, &crl, err);
    assert_true(rc == 0 ? crl != NULL : crl == NULL);
    if (crl)
        assert_true(smime_crl_verified_with(crl, is) && smime_crl_names_issuer(crl, is));
    gnutls_x509_crt_deinit(is);
    free(der);
    return crl;
}

static void crl_case(const smime_crl *crl, const char *leaf, int64_t delta, smime_rev_answer *a)
{
    gnutls_x509_crt_t c = crt(leaf);
    smime_rev_time t = at(delta);
    smime_crl_lookup(crl, c, &t, a);
    assert_string_equal(a->source, "crl");
    gnutls_x509_crt_deinit(c);
}

static void test_crl_good_and_revoked(void **state)
{
    (void)state;
    smime_rev_answer a;
    smime_crl *crl = crl_load("sub.crl", "sub", &a);
    assert_non_null(crl);
    assert_int_equal(smime_crl_count(crl), 3);
    assert_true(smime_crl_next_update(crl) - smime_crl_this_update(crl) == 7 * 86400);
    crl_case(crl, "leaf-crl-good", 0, &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    crl_case(crl, "leaf-crl-revoked", 0, &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_int_equal(a.crl_reason, 1);
    assert_int_equal(a.revocation_time, smime_time_from_utc(2026, 1, 1, 0, 0, 0));
    crl_case(crl, "leaf-revoked", 0, &a);             /* also listed */
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    crl_case(crl, "leaf-crl-good", 8 * 86400, &a);    /* past nextUpdate */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "crl-expired");
    crl_case(crl, "leaf-crl-good", -86400, &a);
    assert_string_equal(a.code, "not-yet-valid");
    smime_crl_free(crl);

    crl = crl_load("root.crl", "root", &a);           /* a CA's CRL listing nothing */
    assert_non_null(crl);
    crl_case(crl, "sub", 0, &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    smime_crl_free(crl);
}

static void test_crl_expired(void **state)
{
    (void)state;
    smime_rev_answer a;
    smime_crl *crl = crl_load("expired.crl", "sub", &a);
    assert_non_null(crl);
    crl_case(crl, "leaf-crl-expired", 0, &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "crl-expired");
    assert_non_null(strstr(a.reason, "2020-01-08"));
    smime_crl_free(crl);
}

static void test_crl_wrongly_signed(void **state)
{
    (void)state;
    smime_rev_answer a;
    assert_null(crl_load("badsig.crl", "sub", &a));   /* sub's name, evil's key */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "bad-signature");
    assert_null(crl_load("sub.crl", "root", &a));     /* not root's CRL */
    assert_string_equal(a.code, "bad-signature");
    assert_non_null(strstr(a.reason, "not issued by"));
    assert_null(crl_load("NOW", "sub", &a));          /* not a CRL at all */
    assert_string_equal(a.code, "malformed");
}

static void test_crl_scope(void **state)
{
    (void)state;
    smime_rev_answer a;
    smime_crl *crl = crl_load("idp-part.crl", "sub", &a);  /* published where leaves look */
    assert_non_null(crl);
    crl_case(crl, "leaf-crl-revoked", 0, &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    crl_case(crl, "leaf-crl-good", 0, &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    crl_case(crl, "leaf-unknown", 0, &a);             /* names no distribution point */
    assert_string_equal(a.code, "crl-scope");
    smime_crl_free(crl);

    crl = crl_load("idp-other.crl", "sub", &a);       /* another partition */
    assert_non_null(crl);
    crl_case(crl, "leaf-crl-good", 0, &a);
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "crl-scope");
    assert_non_null(strstr(a.reason, "other.crl"));
    smime_crl_free(crl);

    crl = crl_load("idp-onlyca.crl", "sub", &a);      /* CA certificates only */
    assert_non_null(crl);
    crl_case(crl, "leaf-crl-good", 0, &a);
    assert_string_equal(a.code, "crl-scope");
    smime_crl_free(crl);

    assert_null(crl_load("idp-reasons.crl", "sub", &a));   /* some reasons only */
    assert_string_equal(a.code, "crl-scope");
}

/* A CRL that is BER, not DER (a long-form length where a short one fits): our
 * strict reader refuses it, GnuTLS reads it (small CRLs only), reasons unknown. */
static void test_crl_lenient(void **state)
{
    (void)state;
    size_t len;
    char *der = test_read_file(FIX "sub.crl", &len);
    assert_true((unsigned char)der[1] == 0x82);       /* 30 82 LL LL ... */
    unsigned char *ber = malloc(len + 1);
    assert_non_null(ber);
    memcpy(ber, "\x30\x83\x00", 3);
    memcpy(ber + 3, der + 2, len - 2);
    gnutls_x509_crt_t sub = crt("sub");
    smime_crl *crl = NULL;
    smime_rev_answer a;
    assert_int_equal(smime_crl_load(ber, len + 1, sub, &crl, &a), 0);
    assert_int_equal(smime_crl_count(crl), 3);
    crl_case(crl, "leaf-crl-revoked", 0, &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_int_equal(a.findings, 0);                  /* no reason read, none claimed missing */
    crl_case(crl, "leaf-crl-good", 0, &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    smime_crl_free(crl);
    assert_int_equal(smime_crl_load(ber, len, sub, &crl, &a), -1);   /* one byte short */
    gnutls_x509_crt_deinit(sub);
    free(ber);
    free(der);
}

static void test_crl_pem(void **state)
{
    (void)state;
    size_t len;
    char *der = test_read_file(FIX "sub.crl", &len);
    gnutls_datum_t in = { (unsigned char *)der, (unsigned)len }, pem;
    assert_int_equal(gnutls_pem_base64_encode2("X509 CRL", &in, &pem), 0);
    gnutls_x509_crt_t sub = crt("sub");
    smime_crl *crl = NULL;
    smime_rev_answer a;
    assert_int_equal(smime_crl_load(pem.data, pem.size, sub, &crl, &a), 0);
    crl_case(crl, "leaf-crl-revoked", 0, &a);
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_int_equal(a.crl_reason, 1);
    smime_crl_free(crl);
    gnutls_x509_crt_deinit(sub);
    gnutls_free(pem.data);
    free(der);
}

/* Every single-bit change (two bits per byte) and every truncation of a signed
 * "revoked" answer: nothing crashes, and nothing turns the certificate good. */
static void test_mutations_never_good(void **state)
{
    (void)state;
    gnutls_x509_crt_t revoked = crt("leaf-crl-revoked"), ocsp_revoked = crt("leaf-revoked");
    gnutls_x509_crt_t sub = crt("sub");
    smime_rev_time t = at(0);
    static const char *const files[] = { FIX "sub.crl", FIX "ocsp-revoked.der" };
    for (int f = 0; f < 2; f++) {
        size_t len;
        char *orig = test_read_file(files[f], &len);
        unsigned char *buf = malloc(len);
        assert_non_null(buf);
        for (size_t i = 0; i < 2 * len + len; i++) {
            memcpy(buf, orig, len);
            size_t n = len;
            if (i < 2 * len)
                buf[i / 2] ^= (i & 1) ? 0x80 : 0x01;
            else
                n = i - 2 * len;                          /* truncated to n bytes */
            smime_rev_answer a;
            if (f == 0) {
                smime_crl *crl = NULL;
                if (smime_crl_load(buf, n, sub, &crl, &a) == 0) {
                    smime_crl_lookup(crl, revoked, &t, &a);
                    smime_crl_free(crl);
                }
            } else {
                smime_ocsp_check(buf, n, ocsp_revoked, sub, &t, &a);
            }
            if (a.status == SMIME_REV_GOOD)
                fail_msg("%s: change %zu made a revoked certificate good", files[f], i);
        }
        free(buf);
        free(orig);
    }
    gnutls_x509_crt_deinit(revoked);
    gnutls_x509_crt_deinit(ocsp_revoked);
    gnutls_x509_crt_deinit(sub);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(smime_rev_mode_parse("off"), SMIME_REV_MODE_OFF);
    assert_int_equal(smime_rev_mode_parse("soft"), SMIME_REV_MODE_SOFT);
    assert_int_equal(smime_rev_mode_parse("hard"), SMIME_REV_MODE_HARD);
    assert_int_equal(smime_rev_mode_parse("Hard"), -1);
    assert_string_equal(smime_rev_reason_name(6), "certificateHold");
    assert_string_equal(smime_rev_reason_name(-1), "no reason given");
    assert_string_equal(smime_rev_reason_name(99), "no reason given");
    smime_rev_answer a = { .status = SMIME_REV_UNKNOWN, .code = "timeout", .source = "ocsp" };
    snprintf(a.reason, sizeof(a.reason), "OCSP responder http://x: timed out");
    char text[SMIME_TEXT_MAX];
    smime_rev_describe(&a, "signer certificate", text, sizeof(text));
    assert_string_equal(text, "revocation status of the signer certificate unknown: "
                              "OCSP responder http://x: timed out");
}

static void test_sbr_findings(void **state)
{
    (void)state;
    smime_rev_answer a;
    ocsp_case("good", "leaf-good", 0, &a);            /* compliant: nothing to say */
    assert_int_equal(a.findings, 0);
    ocsp_case("long", "leaf-good", 0, &a);            /* valid 30 days */
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_int_equal(a.findings, SMIME_REV_FINDING_OCSP_INTERVAL);
    assert_string_equal(smime_rev_finding_id(a.findings), "REV-OCSP-03");
    ocsp_case("sha1", "leaf-good", 0, &a);            /* SHA-1 cannot vouch for good */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "insecure-algorithm");
    assert_true(a.findings & SMIME_REV_FINDING_OCSP_SHA1);
    assert_string_equal(smime_rev_finding_id(SMIME_REV_FINDING_OCSP_SHA1), "REV-OCSP-02");

    smime_crl *crl = crl_load("sub.crl", "sub", &a);
    crl_case(crl, "leaf-crl-revoked", 0, &a);
    assert_int_equal(a.findings, 0);
    crl_case(crl, "leaf-crl-noreason", 0, &a);        /* revoked, no reasonCode */
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_int_equal(a.crl_reason, -1);
    assert_int_equal(a.findings, SMIME_REV_FINDING_CRL_NO_REASON);
    assert_non_null(strstr(a.reason, "no reason given"));
    smime_crl_free(crl);
    crl = crl_load("long.crl", "sub", &a);            /* 30 days for subscriber certs */
    assert_non_null(crl);
    crl_case(crl, "leaf-crl-good", 0, &a);
    assert_int_equal(a.status, SMIME_REV_GOOD);
    assert_int_equal(a.findings, SMIME_REV_FINDING_CRL_INTERVAL);
    smime_crl_free(crl);
    crl = crl_load("root.crl", "root", &a);           /* 30 days is fine for CA certs */
    crl_case(crl, "sub", 0, &a);
    assert_int_equal(a.findings, 0);
    smime_crl_free(crl);
    crl = crl_load("sha1.crl", "sub", &a);            /* GnuTLS verifies ECDSA-SHA1 */
    assert_non_null(crl);
    crl_case(crl, "leaf-crl-good", 0, &a);            /* ... but it cannot vouch for good */
    assert_int_equal(a.status, SMIME_REV_UNKNOWN);
    assert_string_equal(a.code, "insecure-algorithm");
    assert_true(a.findings & SMIME_REV_FINDING_CRL_SHA1);
    crl_case(crl, "leaf-crl-revoked", 0, &a);         /* a revocation is believed */
    assert_int_equal(a.status, SMIME_REV_REVOKED);
    assert_true(a.findings & SMIME_REV_FINDING_CRL_SHA1);
    smime_crl_free(crl);
    assert_null(smime_rev_finding_id(1u << 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ocsp_good),
        cmocka_unit_test(test_ocsp_revoked),
        cmocka_unit_test(test_ocsp_unknown),
        cmocka_unit_test(test_ocsp_unauthorised_signers),
        cmocka_unit_test(test_ocsp_bad_signature),
        cmocka_unit_test(test_ocsp_wrong_certificate),
        cmocka_unit_test(test_ocsp_freshness),
        cmocka_unit_test(test_ocsp_malformed),
        cmocka_unit_test(test_ocsp_request),
        cmocka_unit_test(test_crl_good_and_revoked),
        cmocka_unit_test(test_crl_expired),
        cmocka_unit_test(test_crl_wrongly_signed),
        cmocka_unit_test(test_crl_scope),
        cmocka_unit_test(test_crl_lenient),
        cmocka_unit_test(test_crl_pem),
        cmocka_unit_test(test_mutations_never_good),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sbr_findings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
