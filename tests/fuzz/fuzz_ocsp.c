/* libFuzzer target: OCSP response bytes (fetched over plain http, so anyone's) ->
 * the response check against a certificate and its issuer. */
#include <stdint.h>
#include "smime/revocation/ocsp.h"
#include "fuzz_revocation_input.h"

static gnutls_x509_crt_t issuer, cert;
static smime_rev_time when;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_revocation_setup("leaf-good", &issuer, &cert, &when);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_rev_answer a;
    smime_ocsp_check(data, size, cert, issuer, &when, &a);
    return 0;
}
