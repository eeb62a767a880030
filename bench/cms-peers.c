/* cms-peers - the two in-process peers our pipeline is compared with, over the
 * bench mix, each verifying the signature and the signer's path to the sample
 * trust anchors:
 *
 *   cms-peers gnutls-pkcs7 SECONDS FILE...  gnutls_pkcs7_import + gnutls_pkcs7_verify
 *                                            of the signature part against a trust
 *                                            list of the anchors; the MIME split is
 *                                            done beforehand and not counted
 *   cms-peers openssl-cms SECONDS FILE...   SMIME_read_CMS + CMS_verify of the whole
 *                                            message (MIME included) against an
 *                                            X509_STORE of the anchors, purpose
 *                                            smimesign
 *
 * Runs passes over the mix until SECONDS of this process's CPU time are spent and
 * prints gnutls_pkcs7_msgs_per_s / openssl_cms_msgs_per_s (per CPU second) and
 * ..._us_per_msg.  A message a peer fails to verify stops the program (exit 1):
 * OpenSSL 3.0's CMS cannot verify Ed25519, so bench/run.sh leaves it out of the
 * OpenSSL mix, as it does for the CLI figure.  One thread. */
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "mix.h"

#define ANCHORS "sample-mail/pki/trust-anchors.pem"

static int verify_gnutls(gnutls_x509_trust_list_t tl, const mix_msg *m)
{
    gnutls_pkcs7_t p7;
    if (gnutls_pkcs7_init(&p7) < 0)
        return -1;
    gnutls_datum_t der = { m->der, (unsigned)m->der_len };
    gnutls_datum_t content = { (unsigned char *)m->content, (unsigned)m->content_len };
    int rc = gnutls_pkcs7_import(p7, &der, GNUTLS_X509_FMT_DER);
    if (rc >= 0)
        rc = gnutls_pkcs7_verify(p7, tl, NULL, 0, 0, &content, 0);
    gnutls_pkcs7_deinit(p7);
    if (rc < 0)
        fprintf(stderr, "%s: gnutls_pkcs7_verify: %s\n", m->path, gnutls_strerror(rc));
    return rc < 0 ? -1 : 0;
}

static int verify_openssl(X509_STORE *store, const mix_msg *m)
{
    BIO *in = BIO_new_mem_buf(m->raw, (int)m->raw_len), *content = NULL;
    CMS_ContentInfo *cms = in ? SMIME_read_CMS(in, &content) : NULL;
    /* out NULL: the content is verified and not kept */
    int ok = cms && CMS_verify(cms, NULL, store, content, NULL, 0) == 1;
    if (!ok) {
        fprintf(stderr, "%s: CMS_verify failed\n", m->path);
        ERR_print_errors_fp(stderr);
    }
    CMS_ContentInfo_free(cms);
    BIO_free(content);
    BIO_free(in);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "gnutls-pkcs7") != 0 && strcmp(argv[1], "openssl-cms") != 0)) {
        fprintf(stderr, "usage: cms-peers gnutls-pkcs7|openssl-cms SECONDS FILE...\n");
        return 2;
    }
    int use_openssl = strcmp(argv[1], "openssl-cms") == 0;
    double seconds = atof(argv[2]);
    int n = argc - 3 > MIX_MAX ? MIX_MAX : argc - 3;
    static mix_msg msgs[MIX_MAX];
    for (int i = 0; i < n; i++)
        mix_load(argv[3 + i], &msgs[i]);
    gnutls_x509_trust_list_t tl = NULL;
    X509_STORE *store = NULL;
    if (use_openssl) {
        store = X509_STORE_new();
        if (!store || X509_STORE_load_file(store, ANCHORS) != 1 ||
            X509_STORE_set_purpose(store, X509_PURPOSE_SMIME_SIGN) != 1) {
            fprintf(stderr, "%s: cannot load into an X509_STORE\n", ANCHORS);
            return 2;
        }
    } else {
        if (gnutls_global_init() < 0 || gnutls_x509_trust_list_init(&tl, 0) < 0 ||
            gnutls_x509_trust_list_add_trust_file(tl, ANCHORS, NULL, GNUTLS_X509_FMT_PEM, 0, 0) <= 0) {
            fprintf(stderr, "%s: cannot load into a trust list\n", ANCHORS);
            return 2;
        }
    }
    long count = 0;
    double start = cpu_now_s(), spent = 0;
    do {
        for (int i = 0; i < n; i++) {
            if ((use_openssl ? verify_openssl(store, &msgs[i]) : verify_gnutls(tl, &msgs[i])) < 0)
                return 1;
            count++;
        }
        spent = cpu_now_s() - start;
    } while (spent < seconds);
    print_rate(use_openssl ? "openssl_cms" : "gnutls_pkcs7", count, spent);
    if (use_openssl) {
        X509_STORE_free(store);
    } else {
        gnutls_x509_trust_list_deinit(tl, 1);
        gnutls_global_deinit();
    }
    for (int i = 0; i < n; i++)
        mix_free(&msgs[i]);
    return 0;
}
