/* pem - in-place decoding of PEM certificate blocks (see include/smime/crypto/pem.h). */
#include "smime/crypto/pem.h"

#include <string.h>

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes [p, end) into out; out may alias p because output never overtakes input.
 * Returns the decoded length or -1. */
static long b64decode(const char *p, const char *end, unsigned char *out)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    long n = 0;
    for (; p < end; p++) {
        int c = (unsigned char)*p;
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64val(c);
        if (v < 0 || pad)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return pad > 2 ? -1 : n;
}

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
        long dlen = b64decode(s, e, (unsigned char *)s);
        if (dlen <= 0)
            return -1;
        out[n].p = (const uint8_t *)s;
        out[n].len = (size_t)dlen;
        n++;
        p = e + sizeof(end) - 1;
    }
    return n;
}
