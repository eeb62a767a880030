/* libFuzzer target: bytes -> the BER to DER re-encoder.  Beyond not crashing,
 * whatever it accepts must come out within the bound ber.h states and already
 * be DER: re-encoding the output changes nothing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/crypto/ber.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *der = NULL, *again = NULL;
    size_t n = 0, n2 = 0;
    char err[256];
    if (smime_ber_to_der((smime_span){ data, size }, &der, &n, err, sizeof(err)) < 0)
        return 0;
    if (n > SMIME_BER_MAX_OUTPUT(size)) {
        fprintf(stderr, "output %zu bytes for %zu of input\n", n, size);
        abort();
    }
    if (smime_ber_to_der((smime_span){ der, n }, &again, &n2, err, sizeof(err)) < 0 || n2 != n ||
        memcmp(again, der, n) != 0) {
        fprintf(stderr, "re-encoding the output is not the identity (%s)\n", err);
        abort();
    }
    free(again);
    free(der);
    return 0;
}
