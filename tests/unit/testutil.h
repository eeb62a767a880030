/* Helpers shared by the unit tests: reading test data from the project tree.
 * Tests run from the project root (tests/run.sh), so paths are relative to it. */
#ifndef SMIME_TESTUTIL_H
#define SMIME_TESTUTIL_H

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

#endif
