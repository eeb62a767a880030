/* pem - in-place decoding of PEM certificate blocks (see include/smime/crypto/pem.h). */
#include "smime/crypto/pem.h"

#include <string.h>

#include "smime/util/base64.h"

/* memmem without relying on _GNU_SOURCE. */
static char *find(char *hay, size_t hlen, const char *needle)
{
    size_t nlen = strlen(needle);
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    return NULL;
}

int smime_pem_certs(char *text, size_t len, smime_span *out, int max)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end[] = "-----END CERTIFICATE-----";
    char *p = text, *limit = text + len;
    int n = 0;
    for (;;) {
        char *b = find(p, (size_t)(limit - p), begin);
        if (b == NULL)
            break;
        char *s = b + sizeof(begin) - 1;
        char *e = find(s, (size_t)(limit - s), end);
        if (e == NULL || n == max)
            return -1;
        size_t dlen;
        if (smime_base64_decode(s, (size_t)(e - s), SMIME_BASE64_PEM, (unsigned char *)s, &dlen) < 0 ||
            dlen == 0)
            return -1;
        out[n].p = (const uint8_t *)s;
        out[n].len = dlen;
        n++;
        p = e + sizeof(end) - 1;
    }
    return n;
}
