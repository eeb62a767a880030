/* Unit tests of cms: SignedData decoding, signer selection by issuer+serial and by
 * subjectKeyIdentifier, verification over the signed bytes, algorithm coverage. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <gmime/gmime.h>
#include <unistd.h>

#include "smime/crypto/certcache.h"
#include "smime/crypto/cms.h"
#include "smime/crypto/der.h"
#include "smime/mail/mime.h"
#include "smime/verdict/verify.h"
#include "pkigen.h"
#include "testutil.h"

typedef struct first_object {
    unsigned char *der;
    size_t der_len;
    char *signed_bytes;
    size_t signed_len;
} first_object;

static int take_first(smime_mime_walk *w, const smime_mime_item *item, void *ctx)
{
    (void)w;
    first_object *f = ctx;
    if (f->der || !item->der)
        return 0;
    f->der = malloc(item->der_len);
    memcpy(f->der, item->der, item->der_len);
    f->der_len = item->der_len;
    if (item->signed_bytes) {
        f->signed_bytes = malloc(item->signed_len + 1);
        memcpy(f->signed_bytes, item->signed_bytes, item->signed_len);
        f->signed_len = item->signed_len;
    }
    return 0;
}

static first_object sample_object(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), SAMPLE_DIR "%s", name);
    size_t len, n;
    char *raw = test_read_file(path, &len);
    char *crlf = smime_mime_to_crlf(raw, len, len * 2 + 2, &n);
    first_object f = { 0 };
    smime_mime_limits lim = { 32, 2000, 32, 0 };
    assert_int_equal(smime_mime_walk_message(crlf, n, &lim, take_first, &f), 0);
    assert_non_null(f.der);
    g_free(crlf);
    free(raw);
    return f;
}

static void object_free(first_object *f)
{
    free(f->der);
    free(f->signed_bytes);
}

static smime_cms *open_ok(const first_object *f, unsigned max_certs)
{
    smime_cms *cms = NULL;
    char err[256] = "";
    assert_int_equal(smime_cms_open(f->der, f->der_len, max_certs, &cms, err, sizeof(err)), 0);
    return cms;
}

static void test_open_rejects_garbage(void **state)
{
    (void)state;
    smime_cms *cms = NULL;
    char err[256] = "";
    const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
    assert_int_equal(smime_cms_open(junk, sizeof(junk), 8, &cms, err, sizeof(err)), -1);
    assert_null(cms);
    assert_true(strlen(err) > 0);
    assert_int_equal(smime_cms_open(junk, 0, 8, &cms, err, sizeof(err)), -1);
    assert_int_equal(smime_cms_open(NULL, 0, 8, &cms, err, sizeof(err)), -1);
}

static void test_detached_rsa(void **state)
{
    (void)state;
    first_object f = sample_object("01-multipart-signed-rsa2048.eml");
    smime_cms *cms = open_ok(&f, 32);
    assert_int_equal(smime_cms_signer_count(cms), 1);
    size_t n;
    smime_cms_certs(cms, &n);
    assert_int_equal(n, 2);                 /* signer and intermediate */
    smime_cms_signer s;
    assert_int_equal(smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &s), SMIME_SIG_OK);
    assert_non_null(s.cert);
    assert_string_equal(s.sig_alg, "RSA-SHA256");
    assert_string_equal(s.digest_alg, "SHA256");
    assert_true(s.has_signing_time);
    /* One changed byte of the content: the message digest no longer matches. */
    f.signed_bytes[f.signed_len / 2] ^= 0x01;
    assert_int_equal(smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &s), SMIME_SIG_BAD);
    assert_non_null(strstr(s.reason, "altered"));
    /* A signer index that does not exist is reported, not crashed on. */
    assert_int_equal(smime_cms_verify_signer(cms, 5, f.signed_bytes, f.signed_len, &s),
                     SMIME_SIG_MALFORMED);
    smime_cms_free(cms);
    object_free(&f);
}

static void test_certificate_cap(void **state)
{
    (void)state;
    first_object f = sample_object("01-multipart-signed-rsa2048.eml");
    smime_cms *cms = open_ok(&f, 1);
    size_t n;
    smime_cms_certs(cms, &n);
    assert_int_equal(n, 1);
    smime_cms_free(cms);
    object_free(&f);
}

static void expect_ok(const char *name, const char *sig_alg)
{
    first_object f = sample_object(name);
    smime_cms *cms = open_ok(&f, 32);
    smime_cms_signer s;
    smime_sig_status st = smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &s);
    if (st != SMIME_SIG_OK)
        fprintf(stderr, "%s: %s\n", name, s.reason);
    assert_int_equal(st, SMIME_SIG_OK);
    assert_string_equal(s.sig_alg, sig_alg);
    smime_cms_free(cms);
    object_free(&f);
}

static void test_algorithms(void **state)
{
    (void)state;
    expect_ok("08-rsa3072-sha384.eml", "RSA-SHA384");
    expect_ok("09-rsa4096-sha512.eml", "RSA-SHA512");
    expect_ok("10-rsa-pss.eml", "RSA-PSS-SHA256");
    expect_ok("11-ecdsa-p256.eml", "ECDSA-SHA256");
    expect_ok("12-ecdsa-p384.eml", "ECDSA-SHA384");
    expect_ok("13-ecdsa-p521.eml", "ECDSA-SHA512");
    expect_ok("14-ed25519.eml", "EdDSA-Ed25519");
}

static void test_signer_selection(void **state)
{
    (void)state;
    /* By subjectKeyIdentifier. */
    expect_ok("16-signer-by-ski.eml", "RSA-SHA256");
    /* Without signed attributes: no signing time. */
    first_object f = sample_object("15-no-signed-attributes.eml");
    smime_cms *cms = open_ok(&f, 32);
    smime_cms_signer s;
    assert_int_equal(smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &s), SMIME_SIG_OK);
    assert_false(s.has_signing_time);
    smime_cms_free(cms);
    object_free(&f);
    /* Two SignerInfos, each with its own certificate. */
    f = sample_object("17-two-signers.eml");
    cms = open_ok(&f, 32);
    assert_int_equal(smime_cms_signer_count(cms), 2);
    smime_cms_signer a, b;
    assert_int_equal(smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &a), SMIME_SIG_OK);
    assert_int_equal(smime_cms_verify_signer(cms, 1, f.signed_bytes, f.signed_len, &b), SMIME_SIG_OK);
    assert_ptr_not_equal(a.cert, b.cert);
    smime_cms_free(cms);
    object_free(&f);
}

static void test_missing_certificate(void **state)
{
    (void)state;
    first_object f = sample_object("36-cert-not-included.eml");
    smime_cms *cms = open_ok(&f, 32);
    smime_cms_signer s;
    assert_int_equal(smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &s),
                     SMIME_SIG_NO_CERT);
    assert_null(s.cert);
    assert_true(strlen(s.sid_serial) > 0);
    smime_cms_free(cms);
    object_free(&f);
}

static void test_nonrepudiation_only_may_sign(void **state)
{
    (void)state;
    /* GnuTLS demands digitalSignature; RFC 8550 allows nonRepudiation alone. */
    expect_ok("20-nonrepudiation-only.eml", "RSA-SHA256");
}

static void test_opaque_content(void **state)
{
    (void)state;
    first_object f = sample_object("03-opaque-signed-data.eml");
    assert_null(f.signed_bytes);
    smime_cms *cms = open_ok(&f, 32);
    smime_cms_signer s;
    assert_int_equal(smime_cms_verify_signer(cms, 0, NULL, 0, &s), SMIME_SIG_OK);
    gnutls_datum_t content = { NULL, 0 };
    assert_int_equal(smime_cms_content(cms, &content), 0);
    assert_non_null(memmem(content.data, content.size, "Content-Type:", 13));
    gnutls_free(content.data);
    smime_cms_free(cms);
    object_free(&f);
}

/* A BER twin of the DER elements in s, written at o (room for 8 * s.len): each
 * constructed element gets an indefinite length, each OCTET STRING longer than 8
 * octets becomes 7-octet segments with every other one wrapped in a nested
 * constructed string (as NSS writes eContent), and each other primitive length
 * takes a 4-octet long form. */
static size_t berify(smime_span s, uint8_t *o)
{
    smime_der_reader r;
    smime_der_tlv t;
    size_t n = 0;
    int rc;
    smime_der_reader_init(&r, s);
    while ((rc = smime_der_next(&r, &t)) == 1) {
        if (t.tag & 0x20) {
            o[n++] = (uint8_t)t.tag;
            o[n++] = 0x80;
            n += berify(t.val, o + n);
            o[n++] = 0;
            o[n++] = 0;
        } else if (t.tag == SMIME_DER_OCTET_STRING && t.val.len > 8) {
            o[n++] = 0x24;
            o[n++] = 0x80;
            for (size_t i = 0, k = 0; i < t.val.len; i += 7, k++) {
                size_t m = t.val.len - i < 7 ? t.val.len - i : 7;
                if (k % 2) {
                    o[n++] = 0x24;
                    o[n++] = 0x80;
                }
                o[n++] = 0x04;
                o[n++] = (uint8_t)m;
                memcpy(o + n, t.val.p + i, m);
                n += m;
                if (k % 2) {
                    o[n++] = 0;
                    o[n++] = 0;
                }
            }
            o[n++] = 0;
            o[n++] = 0;
        } else {
            o[n++] = (uint8_t)t.tag;
            o[n++] = 0x84;
            for (int b = 3; b >= 0; b--)
                o[n++] = (uint8_t)(t.val.len >> (8 * b));
            memcpy(o + n, t.val.p, t.val.len);
            n += t.val.len;
        }
    }
    assert_int_equal(rc, 0);            /* the samples are DER */
    return n;
}

enum { FORM_DER, FORM_OUTER_INDEFINITE, FORM_BER_EVERYWHERE, N_FORMS };

/* The CMS of f in one of the forms: DER as made; the attack of issue 13 (the
 * outer ContentInfo's `30 82 LL LL` rewritten as `30 80 ... 00 00`, no key
 * needed); BER everywhere.  Caller frees. */
static uint8_t *cms_form(const first_object *f, int form, size_t *len)
{
    uint8_t *o = malloc(8 * f->der_len + 64);
    assert_non_null(o);
    if (form == FORM_DER) {
        memcpy(o, f->der, f->der_len);
        *len = f->der_len;
    } else if (form == FORM_OUTER_INDEFINITE) {
        assert_int_equal(f->der[0], 0x30);
        assert_int_equal(f->der[1], 0x82);
        assert_int_equal(((size_t)f->der[2] << 8 | f->der[3]) + 4, f->der_len);
        o[0] = 0x30;
        o[1] = 0x80;
        memcpy(o + 2, f->der + 4, f->der_len - 4);
        o[f->der_len - 2] = 0;
        o[f->der_len - 1] = 0;
        *len = f->der_len;
    } else {
        *len = berify((smime_span){ f->der, f->der_len }, o);
        assert_true(*len > f->der_len);
    }
    return o;
}

/* Every form of the sample's CMS gives every signer the status and reason of
 * the DER form, and that status is `want`. */
static void expect_twins(const first_object *f, smime_sig_status want)
{
    smime_cms_signer der_result[4];
    unsigned signers = 0;
    for (int form = 0; form < N_FORMS; form++) {
        size_t len;
        uint8_t *cms_bytes = cms_form(f, form, &len);
        smime_cms *cms = NULL;
        char err[256] = "";
        if (smime_cms_open(cms_bytes, len, 32, &cms, err, sizeof(err)) != 0)
            fail_msg("form %d does not open: %s", form, err);
        if (form == FORM_DER)
            signers = smime_cms_signer_count(cms);
        assert_int_equal(smime_cms_signer_count(cms), signers);
        assert_true(signers >= 1 && signers <= 4);
        for (unsigned i = 0; i < signers; i++) {
            smime_cms_signer s;
            smime_sig_status st = smime_cms_verify_signer(cms, i, f->signed_bytes, f->signed_len, &s);
            if (form == FORM_DER) {
                der_result[i] = s;
                if (st != want)
                    fail_msg("DER signer %u: %s", i, s.reason);
            } else {
                assert_int_equal(st, der_result[i].status);
                assert_string_equal(s.reason, der_result[i].reason);
                assert_string_equal(s.sig_alg, der_result[i].sig_alg);
                assert_string_equal(s.sid_serial, der_result[i].sid_serial);
            }
        }
        smime_cms_free(cms);
        free(cms_bytes);
    }
}

static void test_ber_twins_of_valid_messages(void **state)
{
    (void)state;
    static const char *const samples[] = {
        "01-multipart-signed-rsa2048.eml", "03-opaque-signed-data.eml", "08-rsa3072-sha384.eml",
        "10-rsa-pss.eml", "11-ecdsa-p256.eml", "14-ed25519.eml", "15-no-signed-attributes.eml",
        "16-signer-by-ski.eml", "17-two-signers.eml",
    };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        first_object f = sample_object(samples[i]);
        expect_twins(&f, SMIME_SIG_OK);
        object_free(&f);
    }
}

/* The downgrade of issue 13: a tampered message stays `fail` (SMIME_SIG_BAD)
 * however its CMS is encoded. */
static void test_ber_twins_of_tampered_messages(void **state)
{
    (void)state;
    first_object f = sample_object("01-multipart-signed-rsa2048.eml");
    f.signed_bytes[f.signed_len / 2] ^= 0x01;
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
    f = sample_object("31-tampered-signature.eml");
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
    f = sample_object("15-no-signed-attributes.eml");
    f.signed_bytes[0] ^= 0x20;
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
    /* opaque: one byte of the encapsulated content changed inside the CMS */
    f = sample_object("03-opaque-signed-data.eml");
    unsigned char *ct = memmem(f.der, f.der_len, "Content-Type:", 13);
    assert_non_null(ct);
    ct[0] ^= 0x20;
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
}

/* A CMS that OpenSSL makes now with the sample PKI's PSS signer (an
 * rsaEncryption key): `-md md` and the extra options, over a small MIME entity;
 * opaque puts the content inside.  signed_bytes holds the content when detached. */
static first_object openssl_pss_by(const char *cert, const char *key, const char *md,
                                   const char *options, int opaque)
{
    static const char content[] = "Content-Type: text/plain\r\n\r\nsigned with RSASSA-PSS\r\n";
    char dir[] = "/tmp/test_cms.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[64], der[64], errf[64], cmd[1024];
    snprintf(in, sizeof(in), "%s/content", dir);
    snprintf(der, sizeof(der), "%s/sig.der", dir);
    snprintf(errf, sizeof(errf), "%s/err", dir);
    FILE *fp = fopen(in, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, sizeof(content) - 1, fp), sizeof(content) - 1);
    fclose(fp);
    snprintf(cmd, sizeof(cmd),
             "openssl cms -sign -binary %s -in %s -signer %s -inkey %s -md %s "
             "-keyopt rsa_padding_mode:pss %s -outform DER -out %s 2>%s",
             opaque ? "-nodetach" : "", in, cert, key, md, options, der, errf);
    if (system(cmd) != 0)
        fail_msg("openssl failed: %s", cmd);
    first_object f = { 0 };
    char *bytes = test_read_file(der, &f.der_len);
    f.der = (unsigned char *)bytes;
    if (!opaque) {
        f.signed_len = sizeof(content) - 1;
        f.signed_bytes = malloc(f.signed_len + 1);
        memcpy(f.signed_bytes, content, f.signed_len);
    }
    unlink(in);
    unlink(der);
    unlink(errf);
    rmdir(dir);
    return f;
}

static first_object openssl_pss(const char *md, const char *options, int opaque)
{
    return openssl_pss_by("sample-mail/pki/pss.pem", "sample-mail/pki/pss.key", md, options, opaque);
}

static smime_sig_status verify_first(const first_object *f, smime_cms_signer *s)
{
    smime_cms *cms = open_ok(f, 32);
    smime_sig_status st = smime_cms_verify_signer(cms, 0, f->signed_bytes, f->signed_len, s);
    s->cert = NULL;                     /* borrowed from cms, gone below */
    smime_cms_free(cms);
    return st;
}

/* RSASSA-PSS with each hash the SBR permits verifies with that hash (GnuTLS
 * 3.7.9 alone reports SHA-256 for all of them and fails), in every encoding,
 * and stays `fail` when altered. */
static void test_rsa_pss_hashes(void **state)
{
    (void)state;
    static const struct { const char *md, *name; } hashes[] = {
        { "sha256", "RSA-PSS-SHA256" }, { "sha384", "RSA-PSS-SHA384" }, { "sha512", "RSA-PSS-SHA512" },
    };
    for (size_t i = 0; i < 3; i++) {
        for (int attrs = 0; attrs < 2; attrs++) {
            first_object f = openssl_pss(hashes[i].md,
                                         attrs ? "-keyopt rsa_pss_saltlen:-1"
                                               : "-keyopt rsa_pss_saltlen:-1 -noattr", 0);
            smime_cms_signer s;
            smime_sig_status st = verify_first(&f, &s);
            if (st != SMIME_SIG_OK)
                fail_msg("%s attrs=%d: %s", hashes[i].md, attrs, s.reason);
            assert_string_equal(s.sig_alg, hashes[i].name);
            assert_string_equal(s.digest_alg, hashes[i].md[3] == '2' ? "SHA256"
                                              : hashes[i].md[3] == '3' ? "SHA384" : "SHA512");
            expect_twins(&f, SMIME_SIG_OK);
            f.signed_bytes[f.signed_len - 3] ^= 0x01;
            expect_twins(&f, SMIME_SIG_BAD);
            object_free(&f);
        }
    }
    /* opaque: the content inside the CMS, altered there */
    first_object f = openssl_pss("sha512", "-keyopt rsa_pss_saltlen:-1", 1);
    expect_twins(&f, SMIME_SIG_OK);
    unsigned char *at = memmem(f.der, f.der_len, "RSASSA-PSS", 10);
    assert_non_null(at);
    at[0] ^= 0x20;
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
    /* the signature itself damaged */
    f = openssl_pss("sha384", "-keyopt rsa_pss_saltlen:-1", 0);
    f.der[f.der_len - 10] ^= 0x01;
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
}

/* A signer whose key is itself id-RSASSA-PSS (restricted to SHA-384, salt 48),
 * issued now by the sample CA: GnuTLS checks the signature against the key's
 * own restrictions too. */
static void test_rsa_pss_key(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_cms_psskey.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[2048], cert[64], key[64];
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 "
             "-pkeyopt rsa_pss_keygen_md:sha384 -pkeyopt rsa_pss_keygen_mgf1_md:sha384 "
             "-pkeyopt rsa_pss_keygen_saltlen:48 -out %s 2>%s/err && "
             "openssl req -new -key %s -subj /CN=pss-key -out %s/csr.pem 2>>%s/err && "
             "printf 'keyUsage=critical,digitalSignature\\n' >%s/ext && "
             "openssl x509 -req -in %s/csr.pem -CA sample-mail/pki/smime-ca.pem "
             "-CAkey sample-mail/pki/smime-ca.key -days 30 -extfile %s/ext -out %s 2>>%s/err",
             key, dir, key, dir, dir, dir, dir, dir, cert, dir);
    if (system(cmd) != 0)
        fail_msg("openssl failed: %s", cmd);
    first_object f = openssl_pss_by(cert, key, "sha384", "-keyopt rsa_pss_saltlen:-1", 0);
    smime_cms_signer s;
    if (verify_first(&f, &s) != SMIME_SIG_OK)
        fail_msg("%s", s.reason);
    assert_string_equal(s.sig_alg, "RSA-PSS-SHA384");
    expect_twins(&f, SMIME_SIG_OK);
    f.signed_bytes[0] ^= 0x01;
    expect_twins(&f, SMIME_SIG_BAD);
    object_free(&f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Parameters outside the permitted set are named and never verified with a
 * hash they do not name. */
static void test_rsa_pss_other_parameters(void **state)
{
    (void)state;
    static const struct { const char *md, *options, *why; } cases[] = {
        { "sha512", "-keyopt rsa_pss_saltlen:20", "salt 20" },
        { "sha512", "-keyopt rsa_pss_saltlen:-1 -keyopt rsa_mgf1_md:sha256", "MGF1 with SHA256" },
        { "sha256", "-keyopt rsa_pss_saltlen:-1 -keyopt rsa_mgf1_md:sha512", "MGF1 with SHA512" },
        { "sha1", "-keyopt rsa_pss_saltlen:-1", "hash SHA1" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        first_object f = openssl_pss(cases[i].md, cases[i].options, 0);
        smime_cms_signer s;
        assert_int_equal(verify_first(&f, &s), SMIME_SIG_UNSUPPORTED);
        if (!strstr(s.reason, "unsupported RSA-PSS parameters") || !strstr(s.reason, cases[i].why))
            fail_msg("case %zu: %s", i, s.reason);
        object_free(&f);
    }
    /* SignerInfo digestAlgorithm (the second SHA-512 identifier, after the one
     * in digestAlgorithms) naming SHA-384 while the PSS parameters say SHA-512 */
    first_object f = openssl_pss("sha512", "-keyopt rsa_pss_saltlen:-1", 0);
    static const unsigned char sha512_oid[] = "\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03";
    unsigned char *first = memmem(f.der, f.der_len, sha512_oid, 11);
    assert_non_null(first);
    unsigned char *second = memmem(first + 11, f.der_len - (size_t)(first + 11 - f.der), sha512_oid, 11);
    assert_non_null(second);
    second[10] = 0x02;
    smime_cms_signer s;
    assert_int_equal(verify_first(&f, &s), SMIME_SIG_UNSUPPORTED);
    assert_non_null(strstr(s.reason, "digestAlgorithm SHA384, signature hash SHA512"));
    object_free(&f);
}

/* A detached CMS that OpenSSL makes now: alice signs, `options` added, and bob's,
 * p256's and the intermediate's certificates carried too.  OpenSSL sorts the
 * certificates (a DER SET OF): alice's comes last, after three that are not the
 * signer's and share her issuer (two of them). */
static first_object alice_among_others(const char *options)
{
    static const char content[] = "Content-Type: text/plain\r\n\r\nsigner among others\r\n";
    char dir[] = "/tmp/test_cms.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[64], der[64], certs[64], cmd[1024];
    snprintf(in, sizeof(in), "%s/content", dir);
    snprintf(der, sizeof(der), "%s/sig.der", dir);
    snprintf(certs, sizeof(certs), "%s/certs.pem", dir);
    FILE *fp = fopen(in, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, sizeof(content) - 1, fp), sizeof(content) - 1);
    fclose(fp);
    snprintf(cmd, sizeof(cmd),
             "cat sample-mail/pki/bob.pem sample-mail/pki/p256.pem sample-mail/pki/smime-ca.pem >%s && "
             "openssl cms -sign -binary -in %s -signer sample-mail/pki/alice.pem "
             "-inkey sample-mail/pki/alice.key -md sha256 -certfile %s %s -outform DER -out %s",
             certs, in, certs, options, der);
    if (system(cmd) != 0)
        fail_msg("openssl failed: %s", cmd);
    first_object f = { 0 };
    f.der = (unsigned char *)test_read_file(der, &f.der_len);
    f.signed_len = sizeof(content) - 1;
    f.signed_bytes = malloc(f.signed_len + 1);
    memcpy(f.signed_bytes, content, f.signed_len);
    unlink(in);
    unlink(der);
    unlink(certs);
    rmdir(dir);
    return f;
}

/* Verifies signer 0 of f with a fresh certificate cache; *parsed: the
 * certificates the lookup and verification parsed (cache lookups). */
static smime_sig_status verify_counting(const first_object *f, unsigned long *parsed,
                                        char *subject, size_t subject_len)
{
    smime_cert_cache *cache = smime_cert_cache_new(16);
    assert_non_null(cache);
    smime_cms *cms = open_ok(f, 32);
    smime_cms_set_cert_cache(cms, cache);
    smime_cms_signer s;
    smime_sig_status st = smime_cms_verify_signer(cms, 0, f->signed_bytes, f->signed_len, &s);
    subject[0] = '\0';
    if (s.cert)
        assert_int_equal(gnutls_x509_crt_get_dn(s.cert, subject, &subject_len), 0);
    unsigned long hits, misses;
    smime_cert_cache_stats(cache, &hits, &misses);
    *parsed = hits + misses;
    smime_cms_free(cms);
    smime_cert_cache_free(cache);
    return st;
}

/* The last occurrence of needle in f's DER (the SignerInfos come after the
 * certificates, so that is the sid's copy), with its last byte changed. */
static void change_last(first_object *f, const unsigned char *needle, size_t n)
{
    unsigned char *last = NULL;
    for (unsigned char *p = f->der; (p = memmem(p, f->der_len - (size_t)(p - f->der), needle, n)); p++)
        last = p;
    assert_non_null(last);
    last[n - 1] ^= 0x01;
}

/* The signer's certificate is found among carried certificates by comparing the
 * sid with their DER, issuer and serial or subjectKeyIdentifier: only the
 * signer's is parsed, wherever it is, and a sid that differs from every one in
 * a byte of the serial or key identifier finds none (not alice's by issuer). */
static void test_signer_lookup_parses_only_the_signer(void **state)
{
    (void)state;
    test_id alice = pkigen_load("alice");
    unsigned char serial[64], ski[64];
    size_t serial_len = sizeof(serial), ski_len = sizeof(ski);
    unsigned crit;
    assert_int_equal(gnutls_x509_crt_get_serial(alice.crt, serial, &serial_len), 0);
    assert_int_equal(gnutls_x509_crt_get_subject_key_id(alice.crt, ski, &ski_len, &crit), 0);
    const char *variants[] = { "", "-keyid" };
    for (size_t v = 0; v < 2; v++) {
        first_object f = alice_among_others(variants[v]);
        unsigned long parsed;
        char subject[256];
        assert_int_equal(verify_counting(&f, &parsed, subject, sizeof(subject)), SMIME_SIG_OK);
        assert_non_null(strstr(subject, "alice@example.test"));
        assert_int_equal(parsed, 1);
        if (v == 0)
            change_last(&f, serial, serial_len);
        else
            change_last(&f, ski, ski_len);
        assert_int_equal(verify_counting(&f, &parsed, subject, sizeof(subject)), SMIME_SIG_NO_CERT);
        assert_int_equal(parsed, 0);
        object_free(&f);
    }
    pkigen_free(&alice);
}

/* Signer idx of f read and verified by our walk and by GnuTLS's reading (the
 * reference path): the same verdict and the same facts, or the walk differs. */
static smime_sig_status expect_paths_agree(const first_object *f, unsigned idx, smime_cms_signer *fast)
{
    smime_cms *a = open_ok(f, 32), *b = open_ok(f, 32);
    smime_cms_set_gnutls_verify(b, 1);
    smime_cms_signer ref;
    smime_sig_status st = smime_cms_verify_signer(a, idx, f->signed_bytes, f->signed_len, fast);
    assert_int_equal(smime_cms_verify_signer(b, idx, f->signed_bytes, f->signed_len, &ref), st);
    assert_string_equal(fast->reason, ref.reason);
    assert_string_equal(fast->sig_alg, ref.sig_alg);
    assert_string_equal(fast->digest_alg, ref.digest_alg);
    assert_string_equal(fast->sid_serial, ref.sid_serial);
    assert_int_equal(fast->has_signing_time, ref.has_signing_time);
    assert_int_equal(fast->signing_time, ref.signing_time);
    assert_int_equal(fast->cert != NULL, ref.cert != NULL);
    fast->cert = NULL;                  /* borrowed from a, gone below */
    smime_cms_free(a);
    smime_cms_free(b);
    return st;
}

/* changes the last byte of the first occurrence of needle in f's DER */
static void change_first(first_object *f, const char *needle, size_t n, unsigned char to)
{
    unsigned char *p = memmem(f->der, f->der_len, needle, n);
    assert_non_null(p);
    p[n - 1] = to;
}

#define OID_TLV_MESSAGE_DIGEST "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x04"
#define OID_TLV_CONTENT_TYPE_ATTR "\x30\x18\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x03"
#define OID_TLV_SIGNING_TIME "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x05\x31\x0f\x17"

/* Our walk of SignerInfos against GnuTLS's over the sample corpus's forms
 * (issuer and serial, key identifier, no signed attributes, two signers,
 * RSA, ECDSA, Ed25519, PSS, NSS's BER) and over altered SignerInfos: a missing
 * messageDigest or contentType, a digestAlgorithm that names another hash for
 * rsaEncryption, a signingTime of the wrong type, a truncated SignedData. */
static void test_signer_walk_agrees_with_gnutls(void **state)
{
    (void)state;
    const char *names[] = { "01-multipart-signed-rsa2048.eml", "03-opaque-signed-data.eml",
                            "08-rsa3072-sha384.eml", "10-rsa-pss.eml", "11-ecdsa-p256.eml",
                            "14-ed25519.eml", "15-no-signed-attributes.eml", "16-signer-by-ski.eml",
                            "17-two-signers.eml", "36-cert-not-included.eml",
                            "60-nss-detached-alice-sha256.eml", "61-nss-opaque-alice-sha256.eml",
                            "84-ber-of-rsa-pss.eml" };
    smime_cms_signer s;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        first_object f = sample_object(names[i]);
        for (unsigned idx = 0; idx < 3; idx++)
            expect_paths_agree(&f, idx, &s);
        object_free(&f);
    }
    first_object f = sample_object("01-multipart-signed-rsa2048.eml");
    assert_int_equal(expect_paths_agree(&f, 0, &s), SMIME_SIG_OK);
    assert_true(s.has_signing_time);
    assert_true(s.signing_time > 1700000000);
    object_free(&f);

    /* messageDigest renamed (1.2.840.113549.1.9.7): incomplete, not a bad signature */
    f = sample_object("01-multipart-signed-rsa2048.eml");
    change_first(&f, OID_TLV_MESSAGE_DIGEST, sizeof(OID_TLV_MESSAGE_DIGEST) - 1, 0x07);
    assert_int_equal(expect_paths_agree(&f, 0, &s), SMIME_SIG_MALFORMED);
    assert_non_null(strstr(s.reason, "lack contentType or messageDigest"));
    object_free(&f);
    /* contentType renamed */
    f = sample_object("01-multipart-signed-rsa2048.eml");
    change_first(&f, OID_TLV_CONTENT_TYPE_ATTR, sizeof(OID_TLV_CONTENT_TYPE_ATTR) - 1, 0x07);
    assert_int_equal(expect_paths_agree(&f, 0, &s), SMIME_SIG_MALFORMED);
    assert_non_null(strstr(s.reason, "lack contentType or messageDigest"));
    object_free(&f);
    /* the SignerInfo's digestAlgorithm SHA-384 under rsaEncryption: RSA-SHA384,
     * whose digest the messageDigest (SHA-256) is not */
    f = sample_object("01-multipart-signed-rsa2048.eml");
    static const unsigned char sha256[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
    change_last(&f, sha256, sizeof(sha256));
    f.der[(size_t)((unsigned char *)memmem(f.der, f.der_len, "\x60\x86\x48\x01\x65\x03\x04\x02\x00", 9) -
                   f.der) + 8] = 0x02;
    assert_int_equal(expect_paths_agree(&f, 0, &s), SMIME_SIG_BAD);
    assert_string_equal(s.sig_alg, "RSA-SHA384");
    object_free(&f);
    /* signingTime as a GeneralizedTime of UTCTime's digits: not a time GnuTLS
     * or we read */
    f = sample_object("01-multipart-signed-rsa2048.eml");
    change_first(&f, OID_TLV_SIGNING_TIME, sizeof(OID_TLV_SIGNING_TIME) - 1, 0x18);
    expect_paths_agree(&f, 0, &s);
    assert_false(s.has_signing_time);
    object_free(&f);
    /* truncated anywhere: not opened */
    f = sample_object("01-multipart-signed-rsa2048.eml");
    for (size_t n = 1; n < f.der_len; n += 7) {
        smime_cms *cms = NULL;
        char err[256];
        assert_int_equal(smime_cms_open(f.der, n, 32, &cms, err, sizeof(err)), -1);
        assert_null(cms);
    }
    object_free(&f);
}

int main(void)
{
    smime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rejects_garbage),
        cmocka_unit_test(test_detached_rsa),
        cmocka_unit_test(test_certificate_cap),
        cmocka_unit_test(test_algorithms),
        cmocka_unit_test(test_signer_selection),
        cmocka_unit_test(test_signer_lookup_parses_only_the_signer),
        cmocka_unit_test(test_signer_walk_agrees_with_gnutls),
        cmocka_unit_test(test_missing_certificate),
        cmocka_unit_test(test_nonrepudiation_only_may_sign),
        cmocka_unit_test(test_opaque_content),
        cmocka_unit_test(test_ber_twins_of_valid_messages),
        cmocka_unit_test(test_ber_twins_of_tampered_messages),
        cmocka_unit_test(test_rsa_pss_hashes),
        cmocka_unit_test(test_rsa_pss_key),
        cmocka_unit_test(test_rsa_pss_other_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
