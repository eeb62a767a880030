/* crypto-limit - the crypto limit of verifying the bench mix (limit.h says what
 * it is), in process, one thread.
 *
 *   crypto-limit gnutls SECONDS FILE...    with GnuTLS (our library's primitives)
 *   crypto-limit openssl SECONDS FILE...   with OpenSSL's, for reference
 *
 * Runs passes over the mix until SECONDS of this process's CPU time are spent and
 * prints "name value" lines: crypto_limit[_openssl]_msgs_per_s (per CPU second,
 * so a busy neighbour does not move it) and ..._us_per_msg. */
#include "limit.h"

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "gnutls") != 0 && strcmp(argv[1], "openssl") != 0)) {
        fprintf(stderr, "usage: crypto-limit gnutls|openssl SECONDS FILE...\n");
        return 2;
    }
    int use_openssl = strcmp(argv[1], "openssl") == 0;
    double seconds = atof(argv[2]);
    int n = argc - 3 > MIX_MAX ? MIX_MAX : argc - 3;
    if (gnutls_global_init() < 0)
        return 2;
    static mix_msg msgs[MIX_MAX];
    static limit_case cases[MIX_MAX];
    for (int i = 0; i < n; i++) {
        mix_load(argv[3 + i], &msgs[i]);
        limit_setup(&msgs[i], &cases[i]);
    }
    long count = 0;
    double start = cpu_now_s(), spent = 0;
    do {
        for (int i = 0; i < n; i++) {
            if ((use_openssl ? limit_openssl : limit_gnutls)(&cases[i]) < 0) {
                fprintf(stderr, "%s: verification failed\n", msgs[i].path);
                return 1;
            }
            count++;
        }
        spent = cpu_now_s() - start;
    } while (spent < seconds);
    print_rate(use_openssl ? "crypto_limit_openssl" : "crypto_limit", count, spent);
    for (int i = 0; i < n; i++) {
        limit_case_free(&cases[i]);
        mix_free(&msgs[i]);
    }
    gnutls_global_deinit();
    return 0;
}
