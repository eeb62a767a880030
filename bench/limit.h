/* limit.h - the crypto limit's work on one message of the bench mix: what no
 * verifier of a signed message can skip once its certificates are known good
 * (their paths cached): hash the content, hash the signed attributes, compare the
 * messageDigest, and ONE public-key verification of the signer's signature.
 * Shared by crypto-limit.c (the limit in process) and null-milter.c (the same
 * work inside a milter: the crypto milter floor).  limit_setup runs before any
 * clock starts and imports every key; the signatures, attributes and content are
 * the messages' own, so each verification is the real one.
 *
 * OpenSSL's primitives are the reference the floor is checked against, not a
 * dependency of the milter: only the bench programs link it. */
#ifndef BENCH_LIMIT_H
#define BENCH_LIMIT_H

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "mix.h"

typedef struct limit_case {
    const mix_msg *msg;
    gnutls_digest_algorithm_t digest;
    gnutls_sign_algorithm_t sign;
    gnutls_pubkey_t pub;
    EVP_PKEY *ossl_pub;             /* owned by ossl_cert */
    X509 *ossl_cert;
    const EVP_MD *ossl_digest;
    const EVP_MD *ossl_sig_digest;  /* NULL for EdDSA, which hashes inside */
    gnutls_datum_t attrs;           /* malloc'd: the tag differs from the message's */
    gnutls_datum_t signature;       /* points into msg->der */
    const unsigned char *message_digest;   /* points into msg->der */
    size_t message_digest_len;
} limit_case;

static inline const char *oid_text(const der *oid, char *buf, size_t cap)
{
    const unsigned char *p = oid->p;
    ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)oid->len);
    if (!o || OBJ_obj2txt(buf, (int)cap, o, 1) <= 0)
        buf[0] = '\0';
    ASN1_OBJECT_free(o);
    return buf;
}

/* Finds the signer among the carried certificates (the one whose key verifies
 * the signature), and everything the timed loop needs. */
static inline void limit_setup(const mix_msg *m, limit_case *lc)
{
    memset(lc, 0, sizeof(*lc));
    lc->msg = m;
    signer_fields sf;
    der_signer(m->path, m->der, m->der_len, &sf);
    char oid[128];
    lc->digest = gnutls_oid_to_digest(oid_text(&sf.digest_oid, oid, sizeof(oid)));
    if (lc->digest == GNUTLS_DIG_UNKNOWN)
        mix_die(m->path, "digest algorithm unknown to GnuTLS");
    int pss = strcmp(oid_text(&sf.sig_alg_oid, oid, sizeof(oid)), "1.2.840.113549.1.1.10") == 0;
    lc->attrs.data = attrs_as_signed(&sf);
    lc->attrs.size = (unsigned)sf.signed_attrs.len;
    lc->signature.data = (unsigned char *)sf.signature.body;
    lc->signature.size = (unsigned)sf.signature.body_len;
    lc->message_digest = message_digest_of(&sf, &lc->message_digest_len);
    if (!lc->message_digest)
        mix_die(m->path, "no messageDigest attribute");
    const unsigned char *p = sf.certs.body, *end = sf.certs.body + sf.certs.body_len;
    der cert;
    while (!lc->pub && p < end && der_next(&p, end, &cert) == 0) {
        gnutls_x509_crt_t crt;
        gnutls_pubkey_t pub;
        gnutls_datum_t d = { (unsigned char *)cert.p, (unsigned)cert.len };
        if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0 ||
            gnutls_pubkey_init(&pub) < 0 || gnutls_pubkey_import_x509(pub, crt, 0) < 0)
            mix_die(m->path, "unreadable certificate");
        gnutls_pk_algorithm_t pk = (gnutls_pk_algorithm_t)gnutls_pubkey_get_pk_algorithm(pub, NULL);
        gnutls_sign_algorithm_t sign = gnutls_pk_to_sign(pss ? GNUTLS_PK_RSA_PSS : pk, lc->digest);
        if (sign != GNUTLS_SIGN_UNKNOWN &&
            gnutls_pubkey_verify_data2(pub, sign, 0, &lc->attrs, &lc->signature) >= 0) {
            lc->pub = pub;
            lc->sign = sign;
            const unsigned char *q = cert.p;
            lc->ossl_cert = d2i_X509(NULL, &q, (long)cert.len);
            lc->ossl_pub = lc->ossl_cert ? X509_get0_pubkey(lc->ossl_cert) : NULL;
            if (!lc->ossl_pub)
                mix_die(m->path, "OpenSSL cannot read the signer's certificate");
        } else {
            gnutls_pubkey_deinit(pub);
        }
        gnutls_x509_crt_deinit(crt);
    }
    if (!lc->pub)
        mix_die(m->path, "no carried certificate verifies the signature");
    lc->ossl_digest = EVP_get_digestbyname(gnutls_digest_get_name(lc->digest));
    if (!lc->ossl_digest)
        mix_die(m->path, "digest unknown to OpenSSL");
    int id = EVP_PKEY_get_base_id(lc->ossl_pub);
    lc->ossl_sig_digest = id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : lc->ossl_digest;
    if (pss)
        mix_die(m->path, "RSA-PSS: the OpenSSL reference does not set PSS parameters");
}

/* The work on content, the signed bytes wherever they are now (lc->msg->content
 * in process, the received body in the crypto milter). */
static inline int limit_gnutls_over(const limit_case *lc, const char *content)
{
    unsigned char md[64];
    if (gnutls_hash_fast(lc->digest, content, lc->msg->content_len, md) < 0 ||
        gnutls_hash_get_len(lc->digest) != lc->message_digest_len ||
        memcmp(md, lc->message_digest, lc->message_digest_len) != 0)
        return -1;
    /* hashes the signed attributes, then the one public-key operation */
    return gnutls_pubkey_verify_data2(lc->pub, lc->sign, 0, &lc->attrs, &lc->signature) < 0 ? -1 : 0;
}

static inline int limit_gnutls(const limit_case *lc)
{
    return limit_gnutls_over(lc, lc->msg->content);
}

static inline void limit_case_free(limit_case *lc)
{
    gnutls_pubkey_deinit(lc->pub);
    X509_free(lc->ossl_cert);
    free(lc->attrs.data);
}

static inline int limit_openssl(const limit_case *lc)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(lc->msg->content, lc->msg->content_len, md, &md_len, lc->ossl_digest, NULL) ||
        md_len != lc->message_digest_len || memcmp(md, lc->message_digest, md_len) != 0)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, lc->ossl_sig_digest, NULL, lc->ossl_pub) == 1 &&
             EVP_DigestVerify(ctx, lc->signature.data, lc->signature.size, lc->attrs.data,
                              lc->attrs.size) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

#endif
