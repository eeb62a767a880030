/* libFuzzer target: CMS bytes -> SignedData decoding, signer selection and
 * verification of every SignerInfo over a fixed content. */
#include <stdint.h>
#include <stdlib.h>

#include "smime/crypto/cms.h"
#include "smime/verdict/verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    smime_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_cms *cms = NULL;
    char err[256];
    if (smime_cms_open(data, size, 32, &cms, err, sizeof(err)) < 0)
        return 0;
    unsigned n = smime_cms_signer_count(cms);
    for (unsigned i = 0; i < n && i < 8; i++) {
        smime_cms_signer s;
        smime_cms_verify_signer(cms, i, "content\r\n", 9, &s);
        smime_cms_verify_signer(cms, i, NULL, 0, &s);
    }
    gnutls_datum_t content = { NULL, 0 };
    if (smime_cms_content(cms, &content) == 0)
        gnutls_free(content.data);
    smime_cms_free(cms);
    return 0;
}
