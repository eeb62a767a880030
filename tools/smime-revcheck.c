/* smime-revcheck - asks whether a certificate (and the CAs above it) is revoked,
 * with the same checker the milter uses: OCSP and CRLs over http, CRLDirectory,
 * RevocationCache, a time budget.  Also measures cache latency (--repeat) and the
 * one-fetch-per-key behaviour under concurrency (--threads).
 *
 *   smime-revcheck --issuer CHAIN.pem [options] CERT.pem
 *
 * CHAIN.pem holds the issuer first, then optionally its issuers up to the anchor;
 * every certificate but the last is checked against the one after it. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smime/revocation/http.h"
#include "smime/revocation/revocation.h"
#include "smime/util/timeutil.h"

#define MAX_PEM_BYTES (1u << 20)
#define MAX_THREADS   256

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smime-revcheck --issuer CHAIN.pem [--at TIME] [--budget MS] [--offline]\n"
            "                      [--crl-dir DIR] [--cache-dir DIR] [--no-ocsp] [--no-crl]\n"
            "                      [--max-bytes N] [--ocsp-post] [--repeat N] [--threads N]\n"
            "                      [--stats] [--allow-private] [--max-redirects N] CERT.pem\n"
            "exit: 0 good or nothing to check, 1 revoked, 2 unknown, 3 input error, 64 usage\n");
}

/* Reads up to max PEM certificates from a file.  Returns how many, or -1. */
static int load_certs(const char *path, gnutls_x509_crt_t *out, unsigned max)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "smime-revcheck: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static unsigned char buf[MAX_PEM_BYTES];
    size_t n = fread(buf, 1, sizeof(buf), f);
    int too_big = !feof(f);
    fclose(f);
    if (too_big) {
        fprintf(stderr, "smime-revcheck: %s: larger than %u bytes\n", path, MAX_PEM_BYTES);
        return -1;
    }
    gnutls_datum_t d = { buf, (unsigned)n };
    unsigned count = max;
    int rc = gnutls_x509_crt_list_import(out, &count, &d, GNUTLS_X509_FMT_PEM, 0);
    if (rc <= 0) {
        fprintf(stderr, "smime-revcheck: %s: no PEM certificate (%s)\n", path,
                rc < 0 ? gnutls_strerror(rc) : "empty");
        return -1;
    }
    return rc;
}

typedef struct job {
    smime_revocation *rv;
    gnutls_x509_crt_t *path;
    size_t n;
    int64_t now, budget_ms;
    smime_rev_result result;
    int64_t elapsed_us;
} job;

static int64_t clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *job_run(void *p)
{
    job *j = p;
    int64_t start = clock_us();
    smime_revocation_check_path(j->rv, j->path, j->n, NULL, j->now,
                                smime_rev_clock_ms() + j->budget_ms, &j->result);
    j->elapsed_us = clock_us() - start;
    return NULL;
}

static void print_result(const smime_rev_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const smime_rev_answer *a = &r->certs[i];
        char text[600];
        smime_rev_describe(a, i == 0 ? "certificate" : "issuing CA certificate", text, sizeof(text));
        printf("cert %zu: %s %s %s %s: %s\n", i, smime_rev_status_name(a->status),
               a->code ? a->code : "-", a->source ? a->source : "-",
               a->from_cache ? "cached" : "uncached", text);
    }
    printf("status: %s\n", smime_rev_status_name(r->status));
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "issuer", required_argument, NULL, 'i' },    { "at", required_argument, NULL, 'a' },
        { "budget", required_argument, NULL, 'b' },    { "offline", no_argument, NULL, 'o' },
        { "crl-dir", required_argument, NULL, 'd' },   { "cache-dir", required_argument, NULL, 'c' },
        { "no-ocsp", no_argument, NULL, 'O' },         { "no-crl", no_argument, NULL, 'C' },
        { "repeat", required_argument, NULL, 'r' },    { "threads", required_argument, NULL, 't' },
        { "stats", no_argument, NULL, 's' },           { "help", no_argument, NULL, 'h' },
        { "max-bytes", required_argument, NULL, 'm' }, { "ocsp-post", no_argument, NULL, 'P' },
        { "allow-private", no_argument, NULL, 'A' },   { "max-redirects", required_argument, NULL, 'R' },
        { NULL, 0, NULL, 0 },
    };
    smime_revocation_config cfg;
    smime_revocation_config_default(&cfg);
    cfg.fetch = smime_http_fetch;
    smime_http_config http = { 0 };
    cfg.fetch_ctx = &http;
    const char *issuer_path = NULL;
    int64_t now = (int64_t)time(NULL), budget = 5000;
    long repeat = 1, threads = 1;
    int stats = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'i': issuer_path = optarg; break;
        case 'a':
            if (smime_time_parse(optarg, &now) < 0) {
                fprintf(stderr, "smime-revcheck: bad --at time: %s\n", optarg);
                return 64;
            }
            break;
        case 'b':
            budget = strtoll(optarg, &end, 10);
            if (!*optarg || *end || budget < 0) {
                fprintf(stderr, "smime-revcheck: bad --budget: %s\n", optarg);
                return 64;
            }
            break;
        case 'o': cfg.fetch = NULL; break;
        case 'A': http.allow_private = 1; break;
        case 'R': {
            long r = strtol(optarg, &end, 10);
            if (!*optarg || *end || r < 0 || r > 5) {
                fprintf(stderr, "smime-revcheck: bad --max-redirects (0 to 5): %s\n", optarg);
                return 64;
            }
            http.max_redirects = (unsigned)r;
            break;
        }
        case 'd': cfg.crl_dir = optarg; break;
        case 'c': cfg.cache_dir = optarg; break;
        case 'O': cfg.use_ocsp = 0; break;
        case 'C': cfg.use_crl = 0; break;
        case 'r':
            repeat = strtol(optarg, &end, 10);
            if (!*optarg || *end || repeat < 1 || repeat > 1000000) {
                fprintf(stderr, "smime-revcheck: bad --repeat: %s\n", optarg);
                return 64;
            }
            break;
        case 't':
            threads = strtol(optarg, &end, 10);
            if (!*optarg || *end || threads < 1 || threads > MAX_THREADS) {
                fprintf(stderr, "smime-revcheck: bad --threads (1..%d): %s\n", MAX_THREADS, optarg);
                return 64;
            }
            break;
        case 's': stats = 1; break;
        case 'P': cfg.ocsp_post = 1; break;
        case 'm': {
            long long cap = strtoll(optarg, &end, 10);
            if (!*optarg || *end || cap < 1 || cap > (1LL << 30)) {
                fprintf(stderr, "smime-revcheck: bad --max-bytes: %s\n", optarg);
                return 64;
            }
            cfg.max_ocsp_bytes = cfg.max_crl_bytes = (size_t)cap;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 64;
        }
    }
    if (!issuer_path || optind != argc - 1) {
        usage(stderr);
        return 64;
    }
    if (gnutls_global_init() < 0 || smime_http_init() < 0) {
        fprintf(stderr, "smime-revcheck: library initialisation failed\n");
        return 3;
    }
    gnutls_x509_crt_t path[SMIME_CHAIN_MAX + 1];
    int n_leaf = load_certs(argv[optind], path, 1);
    int n_chain = n_leaf == 1 ? load_certs(issuer_path, path + 1, SMIME_CHAIN_MAX) : -1;
    int rc = 3;
    smime_revocation *rv = NULL;
    char err[512];
    if (n_chain < 0)
        goto out;
    if (smime_revocation_new(&cfg, &rv, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-revcheck: %s\n", err);
        goto out;
    }
    size_t n = (size_t)n_chain + 1;
    job first = { rv, path, n, now, budget, { 0 }, 0 };
    if (threads > 1) {
        job *jobs = calloc((size_t)threads, sizeof(job));
        pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
        if (!jobs || !tids) {
            free(jobs);
            free(tids);
            fprintf(stderr, "smime-revcheck: out of memory\n");
            goto out;
        }
        long started = 0;
        for (; started < threads; started++) {
            jobs[started] = first;
            if (pthread_create(&tids[started], NULL, job_run, &jobs[started]) != 0)
                break;
        }
        for (long i = 0; i < started; i++)
            pthread_join(tids[i], NULL);
        int same = 1;
        for (long i = 1; i < started; i++)
            same &= jobs[i].result.status == jobs[0].result.status;
        printf("threads: %ld, all %s\n", started, same ? "agree" : "DISAGREE");
        first = jobs[0];
        free(jobs);
        free(tids);
        if (!same || started != threads) {
            rc = 3;
            goto out;
        }
    } else {
        job_run(&first);
    }
    print_result(&first.result);
    if (repeat > 1) {
        /* The first call above paid for the fetch; these are answered from memory. */
        int64_t total = 0;
        job again = first;
        for (long i = 1; i < repeat; i++) {
            job_run(&again);
            total += again.elapsed_us;
        }
        printf("latency: first %.3f ms, then %.3f ms on average over %ld cached lookups\n",
               (double)first.elapsed_us / 1000.0, (double)total / 1000.0 / (double)(repeat - 1),
               repeat - 1);
    }
    if (stats) {
        smime_rev_stats st;
        smime_revocation_stats(rv, &st);
        printf("stats: lookups=%lu memory_hits=%lu disk_hits=%lu fetches=%lu waits=%lu "
               "evictions=%lu entries=%zu\n",
               st.lookups, st.memory_hits, st.disk_hits, st.fetches, st.waits, st.evictions,
               st.entries);
    }
    rc = first.result.status == SMIME_REV_REVOKED ? 1 : first.result.status == SMIME_REV_UNKNOWN ? 2 : 0;
out:
    smime_revocation_free(rv);
    for (int i = 0; i < (n_leaf > 0 ? n_leaf : 0) + (n_chain > 0 ? n_chain : 0); i++)
        gnutls_x509_crt_deinit(path[i]);
    gnutls_global_deinit();
    return rc;
}
