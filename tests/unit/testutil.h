/* Helpers shared by the unit tests: reading test data from the project tree.
 * Tests run from the project root (tests/run.sh), so paths are relative to it. */
#ifndef SMIME_TESTUTIL_H
#define SMIME_TESTUTIL_H

#include <gnutls/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_DIR     "sample-mail/"
#define SAMPLE_ANCHORS "sample-mail/pki/trust-anchors.pem"
/* 2026-06-01T00:00:00Z: inside the sample PKI's validity. */
#define SAMPLE_NOW     1780272000LL

static inline char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        abort();
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The certificate in the PEM file at path, parsed; aborts when it cannot be. */
static inline gnutls_x509_crt_t test_read_crt(const char *path)
{
    size_t len;
    char *pem = test_read_file(path, &len);
    gnutls_x509_crt_t c;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
    if (gnutls_x509_crt_init(&c) < 0 || gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0) {
        fprintf(stderr, "%s: not a PEM certificate\n", path);
        abort();
    }
    free(pem);
    return c;
}

/* The decimal integer the file at path starts with (a fixture's clock). */
static inline int64_t test_read_int64(const char *path)
{
    size_t len;
    char *s = test_read_file(path, &len);
    int64_t v = strtoll(s, NULL, 10);
    free(s);
    return v;
}

#endif
