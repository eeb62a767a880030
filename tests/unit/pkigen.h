/* Test PKI made in memory with GnuTLS, for certificates no CLI tool writes:
 * names with CR, LF, NUL and bytes that are not UTF-8, thousands of SAN entries,
 * long chains, CAs that cross-sign each other.  Keys are EC P-256 (fast to
 * generate).  Used by tests only; every failure aborts the test. */
#ifndef SMIME_PKIGEN_H
#define SMIME_PKIGEN_H

#include <glib.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct test_id {
    gnutls_x509_crt_t      crt;
    gnutls_x509_privkey_t  key;
} test_id;

#define PKIGEN_CHECK(expr)                                                              \
    do {                                                                                \
        int pkigen_rc_ = (expr);                                                        \
        if (pkigen_rc_ < 0) {                                                           \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,              \
                    gnutls_strerror(pkigen_rc_));                                       \
            abort();                                                                    \
        }                                                                               \
    } while (0)

static inline gnutls_datum_t pkigen_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    gnutls_datum_t d = { gnutls_malloc((size_t)n), (unsigned)n };
    if (fread(d.data, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    return d;
}

/* sample-mail/pki/NAME.pem and NAME.key */
static inline test_id pkigen_load(const char *name)
{
    test_id id;
    char path[128];
    PKIGEN_CHECK(gnutls_x509_crt_init(&id.crt));
    PKIGEN_CHECK(gnutls_x509_privkey_init(&id.key));
    snprintf(path, sizeof(path), "sample-mail/pki/%s.pem", name);
    gnutls_datum_t d = pkigen_file(path);
    PKIGEN_CHECK(gnutls_x509_crt_import(id.crt, &d, GNUTLS_X509_FMT_PEM));
    gnutls_free(d.data);
    snprintf(path, sizeof(path), "sample-mail/pki/%s.key", name);
    d = pkigen_file(path);
    PKIGEN_CHECK(gnutls_x509_privkey_import2(id.key, &d, GNUTLS_X509_FMT_PEM, NULL, 0));
    gnutls_free(d.data);
    return id;
}

/* A certificate for a new P-256 key, subject CN = cn (raw bytes, cn_len), issued
 * by issuer (NULL: self-signed).  ca makes it a CA; sans are rfc822Names. */
static inline test_id pkigen_issue(const test_id *issuer, const char *cn, size_t cn_len, int ca,
                                   const char *const *sans, size_t n_sans, unsigned serial)
{
    test_id id;
    PKIGEN_CHECK(gnutls_x509_crt_init(&id.crt));
    PKIGEN_CHECK(gnutls_x509_privkey_init(&id.key));
    PKIGEN_CHECK(gnutls_x509_privkey_generate(id.key, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
    PKIGEN_CHECK(gnutls_x509_crt_set_version(id.crt, 3));
    unsigned char sn[4] = { 0x10, (unsigned char)(serial >> 16), (unsigned char)(serial >> 8),
                            (unsigned char)serial };
    PKIGEN_CHECK(gnutls_x509_crt_set_serial(id.crt, sn, sizeof(sn)));
    PKIGEN_CHECK(gnutls_x509_crt_set_activation_time(id.crt, 1735689600));   /* 2025-01-01 */
    PKIGEN_CHECK(gnutls_x509_crt_set_expiration_time(id.crt, 2682374400));   /* 2055-01-01 */
    PKIGEN_CHECK(gnutls_x509_crt_set_key(id.crt, id.key));
    /* The CN goes in raw, as a UTF8String TLV built here, so that any bytes at all
     * (CR, LF, NUL, not UTF-8) reach the certificate. */
    unsigned char tlv[4 + 1024];
    size_t hl = cn_len < 128 ? 2 : 4;
    if (cn_len > 1024)
        abort();
    tlv[0] = 0x0C;
    if (hl == 2) {
        tlv[1] = (unsigned char)cn_len;
    } else {
        tlv[1] = 0x82;
        tlv[2] = (unsigned char)(cn_len >> 8);
        tlv[3] = (unsigned char)cn_len;
    }
    memcpy(tlv + hl, cn, cn_len);
    PKIGEN_CHECK(gnutls_x509_crt_set_dn_by_oid(id.crt, GNUTLS_OID_X520_COMMON_NAME, 1, tlv,
                                               (unsigned)(hl + cn_len)));
    PKIGEN_CHECK(gnutls_x509_crt_set_basic_constraints(id.crt, ca, -1));
    PKIGEN_CHECK(gnutls_x509_crt_set_key_usage(
        id.crt, ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN : GNUTLS_KEY_DIGITAL_SIGNATURE));
    if (!ca)
        PKIGEN_CHECK(gnutls_x509_crt_set_key_purpose_oid(id.crt, GNUTLS_KP_EMAIL_PROTECTION, 0));
    for (size_t i = 0; i < n_sans; i++)
        PKIGEN_CHECK(gnutls_x509_crt_set_subject_alt_name(id.crt, GNUTLS_SAN_RFC822NAME, sans[i],
                                                          (unsigned)strlen(sans[i]),
                                                          GNUTLS_FSAN_APPEND));
    unsigned char kid[64];
    size_t kl = sizeof(kid);
    PKIGEN_CHECK(gnutls_x509_crt_get_key_id(id.crt, 0, kid, &kl));
    PKIGEN_CHECK(gnutls_x509_crt_set_subject_key_id(id.crt, kid, kl));
    if (issuer)
        PKIGEN_CHECK(gnutls_x509_crt_sign2(id.crt, issuer->crt, issuer->key, GNUTLS_DIG_SHA256, 0));
    else
        PKIGEN_CHECK(gnutls_x509_crt_sign2(id.crt, id.crt, id.key, GNUTLS_DIG_SHA256, 0));
    return id;
}

static inline void pkigen_free(test_id *id)
{
    gnutls_x509_crt_deinit(id->crt);
    gnutls_x509_privkey_deinit(id->key);
}

/* A multipart/signed message From from, signed by signer, carrying the extra
 * certificates given.  Returns a g_malloc'ed message. */
static inline char *pkigen_message_with(const test_id *signer, const gnutls_x509_crt_t *extra,
                                        size_t n_extra, const char *from, const char *content,
                                        size_t *len)
{
    gnutls_datum_t data = { (unsigned char *)content, (unsigned)strlen(content) };
    gnutls_privkey_t key;
    PKIGEN_CHECK(gnutls_privkey_init(&key));
    PKIGEN_CHECK(gnutls_privkey_import_x509(key, signer->key, 0));
    gnutls_pkcs7_t p7;
    PKIGEN_CHECK(gnutls_pkcs7_init(&p7));
    PKIGEN_CHECK(gnutls_pkcs7_sign(p7, signer->crt, key, &data, NULL, NULL, GNUTLS_DIG_SHA256,
                                   GNUTLS_PKCS7_INCLUDE_CERT));
    for (size_t i = 0; i < n_extra; i++)
        PKIGEN_CHECK(gnutls_pkcs7_set_crt(p7, extra[i]));
    gnutls_datum_t der;
    PKIGEN_CHECK(gnutls_pkcs7_export2(p7, GNUTLS_X509_FMT_DER, &der));
    gchar *b64 = g_base64_encode(der.data, der.size);
    char *msg = g_strdup_printf(
        "From: %s\r\nTo: carol@example.test\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
        "micalg=sha-256; boundary=\"b\"\r\n\r\n--b\r\n%s\r\n--b\r\n"
        "Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "%s\r\n--b--\r\n",
        from, content, b64);
    g_free(b64);
    gnutls_free(der.data);
    gnutls_pkcs7_deinit(p7);
    gnutls_privkey_deinit(key);
    *len = strlen(msg);
    return msg;
}

static inline char *pkigen_message(const test_id *signer, const gnutls_x509_crt_t *extra,
                                   size_t n_extra, const char *from, size_t *len)
{
    return pkigen_message_with(signer, extra, n_extra, from,
                               "Content-Type: text/plain\r\n\r\nsigned in a test\r\n", len);
}

#endif
