/* What fuzz_crl and fuzz_ocsp share: the fixture certificates the bytes under test
 * are checked against (tests/revocation/fixtures, read once at start-up from the
 * project root, where tests/fuzz/run.sh runs the targets), and the fixtures' time. */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include "smime/revocation/answer.h"

#define FUZZ_FIX "tests/revocation/fixtures/"

static gnutls_x509_crt_t fuzz_crt(const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), FUZZ_FIX "%s.pem", name);
    gnutls_datum_t d;
    gnutls_x509_crt_t c;
    if (gnutls_load_file(path, &d) < 0 || gnutls_x509_crt_init(&c) < 0 ||
        gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0) {
        fprintf(stderr, "fuzz: cannot read %s (run from the project root)\n", path);
        abort();
    }
    gnutls_free(d.data);
    return c;
}

static long long fuzz_now(void)
{
    FILE *f = fopen(FUZZ_FIX "NOW", "r");
    long long t = 0;
    if (!f || fscanf(f, "%lld", &t) != 1)
        abort();
    fclose(f);
    return t;
}

/* The checked certificate `cert_name`, its issuer (the fixtures' sub CA) and the
 * time rules, for LLVMFuzzerInitialize. */
static void fuzz_revocation_setup(const char *cert_name, gnutls_x509_crt_t *issuer,
                                  gnutls_x509_crt_t *cert, smime_rev_time *when)
{
    gnutls_global_init();
    *issuer = fuzz_crt("sub");
    *cert = fuzz_crt(cert_name);
    *when = (smime_rev_time){ .now = fuzz_now(), .skew = 300, .max_age = 3600 };
}
