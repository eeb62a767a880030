/* libFuzzer target: CRL bytes (fetched over plain http, so anyone's) -> our DER
 * parse, the issuer's signature check and a lookup of a certificate. */
#include <stdint.h>
#include "smime/revocation/crl.h"
#include "fuzz_revocation_input.h"

static gnutls_x509_crt_t issuer, cert;
static smime_rev_time when;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_revocation_setup("leaf-crl-revoked", &issuer, &cert, &when);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_crl *crl = NULL;
    smime_rev_answer err;
    if (smime_crl_load(data, size, issuer, &crl, &err) == 0) {
        smime_rev_answer a;
        smime_crl_lookup(crl, cert, &when, &a);
        (void)smime_crl_count(crl);
        smime_crl_free(crl);
    }
    gnutls_datum_t claimed = { NULL, 0 };
    if (smime_crl_claimed_issuer(data, size, &claimed) == 0)
        gnutls_free(claimed.data);
    return 0;
}
