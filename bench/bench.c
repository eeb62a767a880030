/* bench - throughput and memory figures for `make bench` (bench/run.sh prints the
 * table and writes bench/results.json).
 *
 *   bench pipeline SECONDS FILE...   in-process smime_verify_message over the mix,
 *                                    for SECONDS of CPU time; per wall and per CPU
 *                                    second
 *   bench pipeline-cold SECONDS FILE...   the same without the validated-path cache
 *   bench crypto SECONDS FILE...     the public-key work of an uncached path: the
 *                                    content hash, the signer's signature and both
 *                                    CA signatures every message (not a limit: a
 *                                    verifier caches the CA signatures; the limit
 *                                    is bench/crypto-limit)
 *   bench rss FILE                   peak resident memory of verifying one message
 *   bench large SECONDS FILE         verifying one large message against SHA-256
 *                                    over its bytes, interleaved, in CPU time
 *   bench lint SECONDS DIR           the SBR linter alone over every certificate
 *                                    (*.crttest, PEM first) below DIR
 *   bench signers SECONDS PLAIN EXTRA  a message of 8 signers (PLAIN) and the same
 *                                    with 20 unused carried certificates (EXTRA),
 *                                    interleaved, after one warm-up each: the
 *                                    validated-path memo's hits and misses per
 *                                    signer in steady state, and the CPU cost of
 *                                    one unused certificate as a ratio to the cost
 *                                    of the message without them
 *   bench steadiness SECONDS         how steady this machine's CPU is: the same
 *                                    fixed work timed in slices of 50-100 ms
 *
 * Each prints "name value" lines.  One thread: the figures are per core. */
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <dirent.h>

#include "smime/crypto/cms.h"
#include "smime/lint/lint.h"
#include "smime/crypto/pem.h"
#include "smime/mail/mime.h"
#include "smime/verdict/verify.h"

#define ANCHORS "sample-mail/pki/trust-anchors.pem"
#define ROOT    "sample-mail/pki/root-ca.pem"
#define MAX_MIX 32

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static smime_trust *load_trust(void)
{
    smime_trust *t;
    char err[256];
    if (smime_trust_load(ANCHORS, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(2);
    }
    return t;
}

static int bench_pipeline(double seconds, int nfiles, char **files, int chain_cache)
{
    smime_trust *trust = load_trust();
    char *msg[MAX_MIX];
    size_t len[MAX_MIX];
    for (int i = 0; i < nfiles; i++)
        msg[i] = slurp(files[i], &len[i]);
    smime_verify_options opt;
    smime_verify_options_default(&opt, (int64_t)time(NULL));
    opt.chain_cache = chain_cache;
    long count = 0;
    double start = now_s(), cpu_start = cpu_now_s(), cpu = 0;
    do {
        for (int i = 0; i < nfiles; i++) {
            smime_report *r;
            char err[256];
            if (smime_verify_message(msg[i], len[i], trust, &opt, &r, err, sizeof(err)) < 0 ||
                r->n_sigs == 0 || r->sigs[0].result != SMIME_RESULT_PASS) {
                fprintf(stderr, "%s: did not pass\n", files[i]);
                return 1;
            }
            smime_report_free(r);
            count++;
        }
        cpu = cpu_now_s() - cpu_start;
    } while (cpu < seconds);
    double elapsed = now_s() - start;
    const char *name = chain_cache ? "pipeline" : "pipeline_cold";
    printf("%s_msgs_per_s %.1f\n", name, (double)count / elapsed);
    printf("%s_cpu_msgs_per_s %.1f\n", name, (double)count / cpu);
    printf("%s_cpu_us_per_msg %.2f\n", name, cpu * 1e6 / (double)count);
    for (int i = 0; i < nfiles; i++)
        free(msg[i]);
    smime_trust_free(trust);
    return 0;
}

/* The irreducible work for one message, with every key already parsed. */
typedef struct crypto_case {
    gnutls_digest_algorithm_t content_digest;
    char *content;
    size_t content_len;
    gnutls_sign_algorithm_t sig_algo;
    gnutls_pubkey_t signer_pub;
    gnutls_datum_t attrs, attrs_sig;       /* stands for the signed attributes */
    size_t n_links;
    struct {
        gnutls_pubkey_t issuer_pub;
        gnutls_sign_algorithm_t algo;
        gnutls_datum_t tbs, sig;
    } links[4];
} crypto_case;

typedef struct first_object {
    unsigned char *der;
    size_t der_len;
    char *signed_bytes;
    size_t signed_len;
} first_object;

static int take_first(smime_mime_walk *w, const smime_mime_item *item, void *ctx)
{
    (void)w;
    first_object *f = ctx;
    if (f->der || !item->der)
        return 0;
    f->der = malloc(item->der_len);
    memcpy(f->der, item->der, item->der_len);
    f->der_len = item->der_len;
    f->signed_bytes = malloc(item->signed_len + 1);
    memcpy(f->signed_bytes, item->signed_bytes ? item->signed_bytes : "", item->signed_len);
    f->signed_len = item->signed_len;
    return 0;
}

/* TBSCertificate: the first element inside the Certificate SEQUENCE. */
static gnutls_datum_t tbs_of(gnutls_x509_crt_t crt)
{
    gnutls_datum_t der, out = { NULL, 0 };
    if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
        exit(2);
    const unsigned char *p = der.data;
    size_t i = 1;
    size_t l = p[i++];
    if (l & 0x80)
        i += l & 0x7f;
    size_t start = i;
    i++;
    l = p[i++];
    if (l & 0x80) {
        size_t k = l & 0x7f;
        l = 0;
        while (k--)
            l = (l << 8) | p[i++];
    }
    out.size = (unsigned)(i + l - start);
    out.data = gnutls_malloc(out.size);
    memcpy(out.data, p + start, out.size);
    gnutls_free(der.data);
    return out;
}

static gnutls_pubkey_t pub_of(gnutls_x509_crt_t crt)
{
    gnutls_pubkey_t pub;
    gnutls_pubkey_init(&pub);
    if (gnutls_pubkey_import_x509(pub, crt, 0) < 0)
        exit(2);
    return pub;
}

static gnutls_x509_crt_t crt_from_file(const char *path)
{
    size_t n;
    char *pem = slurp(path, &n);
    gnutls_x509_crt_t c;
    gnutls_x509_crt_init(&c);
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)n };
    if (gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM) < 0)
        exit(2);
    free(pem);
    return c;
}

static void add_link(crypto_case *cc, gnutls_x509_crt_t child, gnutls_x509_crt_t issuer)
{
    unsigned char sig[1024];
    size_t sn = sizeof(sig);
    if (gnutls_x509_crt_get_signature(child, (char *)sig, &sn) < 0)
        exit(2);
    cc->links[cc->n_links].issuer_pub = pub_of(issuer);
    cc->links[cc->n_links].algo = (gnutls_sign_algorithm_t)gnutls_x509_crt_get_signature_algorithm(child);
    cc->links[cc->n_links].tbs = tbs_of(child);
    cc->links[cc->n_links].sig.data = gnutls_malloc(sn);
    memcpy(cc->links[cc->n_links].sig.data, sig, sn);
    cc->links[cc->n_links].sig.size = (unsigned)sn;
    cc->n_links++;
}

/* The signer's key file: sample-mail/pki/NAME.key next to the certificate whose
 * SAN is NAME@example.test. */
static gnutls_privkey_t signer_key(const char *mailbox)
{
    char path[256];
    snprintf(path, sizeof(path), "sample-mail/pki/%.*s.key", (int)strcspn(mailbox, "@"), mailbox);
    size_t n;
    char *pem = slurp(path, &n);
    gnutls_x509_privkey_t xk;
    gnutls_x509_privkey_init(&xk);
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)n };
    if (gnutls_x509_privkey_import2(xk, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
        exit(2);
    gnutls_privkey_t k;
    gnutls_privkey_init(&k);
    gnutls_privkey_import_x509(k, xk, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
    free(pem);
    return k;
}

static void crypto_setup(const char *file, crypto_case *cc, gnutls_x509_crt_t root)
{
    memset(cc, 0, sizeof(*cc));
    size_t len, n;
    char *raw = slurp(file, &len);
    char *crlf = smime_mime_to_crlf(raw, len, len * 2 + 2, &n);
    first_object f = { 0 };
    smime_mime_limits lim = { 32, 2000, 32, 0 };
    smime_mime_walk_message(crlf, n, &lim, take_first, &f);
    smime_cms *cms;
    char err[256];
    if (!f.der || smime_cms_open(f.der, f.der_len, 32, &cms, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: no signature\n", file);
        exit(2);
    }
    smime_cms_signer s;
    if (smime_cms_verify_signer(cms, 0, f.signed_bytes, f.signed_len, &s) != SMIME_SIG_OK) {
        fprintf(stderr, "%s: %s\n", file, s.reason);
        exit(2);
    }
    cc->sig_algo = gnutls_sign_get_id(s.sig_alg);
    cc->content_digest = gnutls_digest_get_id(s.digest_alg);
    cc->content = f.signed_bytes;
    cc->content_len = f.signed_len;
    cc->signer_pub = pub_of(s.cert);
    /* Signed attributes are about 100-200 bytes; sign a buffer of that size with
     * the signer's own key so the verification is real. */
    cc->attrs.size = 160;
    cc->attrs.data = gnutls_malloc(cc->attrs.size);
    memset(cc->attrs.data, 0x31, cc->attrs.size);
    char mbox[SMIME_ADDR_MAX];
    char boxes[1][SMIME_ADDR_MAX];
    if (smime_cert_mailboxes(s.cert, boxes, 1) != 1)
        exit(2);
    snprintf(mbox, sizeof(mbox), "%s", boxes[0]);
    gnutls_privkey_t key = signer_key(mbox);
    if (gnutls_privkey_sign_data2(key, cc->sig_algo, 0, &cc->attrs, &cc->attrs_sig) < 0) {
        fprintf(stderr, "%s: cannot sign with %s\n", file, s.sig_alg);
        exit(2);
    }
    gnutls_privkey_deinit(key);
    size_t npool;
    gnutls_x509_crt_t *pool = smime_cms_certs(cms, &npool);
    gnutls_x509_crt_t inter = NULL;
    for (size_t i = 0; i < npool; i++)
        if (pool[i] != s.cert)
            inter = pool[i];
    if (!inter)
        exit(2);
    add_link(cc, s.cert, inter);
    add_link(cc, inter, root);
    smime_cms_free(cms);
    free(f.der);
    g_free(crlf);
    free(raw);
}

static int crypto_once(const crypto_case *cc)
{
    unsigned char digest[64];
    if (gnutls_hash_fast(cc->content_digest, cc->content, cc->content_len, digest) < 0)
        return -1;
    if (gnutls_pubkey_verify_data2(cc->signer_pub, cc->sig_algo, 0, &cc->attrs, &cc->attrs_sig) < 0)
        return -1;
    for (size_t i = 0; i < cc->n_links; i++)
        if (gnutls_pubkey_verify_data2(cc->links[i].issuer_pub, cc->links[i].algo, 0,
                                       &cc->links[i].tbs, &cc->links[i].sig) < 0)
            return -1;
    return 0;
}

static void crypto_case_free(crypto_case *cc)
{
    free(cc->content);
    gnutls_pubkey_deinit(cc->signer_pub);
    gnutls_free(cc->attrs.data);
    gnutls_free(cc->attrs_sig.data);
    for (size_t i = 0; i < cc->n_links; i++) {
        gnutls_pubkey_deinit(cc->links[i].issuer_pub);
        gnutls_free(cc->links[i].tbs.data);
        gnutls_free(cc->links[i].sig.data);
    }
}

static int bench_crypto(double seconds, int nfiles, char **files)
{
    gnutls_x509_crt_t root = crt_from_file(ROOT);
    crypto_case *cases = calloc((size_t)nfiles, sizeof(*cases));
    for (int i = 0; i < nfiles; i++)
        crypto_setup(files[i], &cases[i], root);
    long count = 0;
    double start = cpu_now_s(), elapsed = 0;
    do {
        for (int i = 0; i < nfiles; i++) {
            if (crypto_once(&cases[i]) < 0) {
                fprintf(stderr, "%s: chain crypto verification failed\n", files[i]);
                return 1;
            }
            count++;
        }
        elapsed = cpu_now_s() - start;
    } while (elapsed < seconds);
    /* the key keeps its old name so that earlier results.json compare */
    printf("crypto_bound_msgs_per_s %.1f\n", (double)count / elapsed);
    for (int i = 0; i < nfiles; i++)
        crypto_case_free(&cases[i]);
    free(cases);
    gnutls_x509_crt_deinit(root);
    return 0;
}

static int bench_rss(const char *file)
{
    struct rusage before;
    getrusage(RUSAGE_SELF, &before);
    smime_trust *trust = load_trust();
    size_t len;
    char *msg = slurp(file, &len);
    smime_verify_options opt;
    smime_verify_options_default(&opt, (int64_t)time(NULL));
    opt.max_message_size = len + 1;
    smime_report *r;
    char err[256];
    double t0 = now_s();
    if (smime_verify_message(msg, len, trust, &opt, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t1 = now_s();
    struct rusage after;
    getrusage(RUSAGE_SELF, &after);
    printf("rss_message_mb %.1f\n", (double)len / (1024.0 * 1024.0));
    printf("rss_result %s\n", r->n_sigs ? smime_result_name(r->sigs[0].result) : "none");
    printf("pipeline_peak_rss_mb %.1f\n", (double)after.ru_maxrss / 1024.0);
    printf("rss_baseline_mb %.1f\n", (double)before.ru_maxrss / 1024.0);
    printf("rss_verify_seconds %.3f\n", t1 - t0);
    smime_report_free(r);
    free(msg);
    smime_trust_free(trust);
    return 0;
}

/* A large message against the speed of SHA-256 over the same bytes, both in CPU
 * time and interleaved (verify, hash, verify, hash ...) so that a change in the
 * machine's speed moves both alike.  The target is a verifier that reads the
 * body about once: the ratio then approaches 1. */
static int bench_large(double seconds, const char *file)
{
    smime_trust *trust = load_trust();
    size_t len;
    char *msg = slurp(file, &len);
    smime_verify_options opt;
    smime_verify_options_default(&opt, (int64_t)time(NULL));
    opt.max_message_size = len + 1;
    double verify_cpu = 0, hash_cpu = 0;
    long rounds = 0;
    unsigned char digest[32];
    do {
        smime_report *r;
        char err[256];
        double t0 = cpu_now_s();
        if (smime_verify_message(msg, len, trust, &opt, &r, err, sizeof(err)) < 0 || r->n_sigs == 0 ||
            r->sigs[0].result != SMIME_RESULT_PASS) {
            fprintf(stderr, "%s: did not pass\n", file);
            return 1;
        }
        double t1 = cpu_now_s();
        smime_report_free(r);
        double t2 = cpu_now_s();
        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, msg, len, digest) < 0)
            return 1;
        double t3 = cpu_now_s();
        verify_cpu += t1 - t0;
        hash_cpu += t3 - t2;
        rounds++;
    } while (verify_cpu + hash_cpu < seconds);
    double mb = (double)len * (double)rounds / (1024.0 * 1024.0);
    printf("large_body_message_mb %.1f\n", (double)len / (1024.0 * 1024.0));
    printf("large_body_rounds %ld\n", rounds);
    printf("large_body_mb_per_s %.1f\n", mb / verify_cpu);
    printf("sha256_mb_per_s %.1f\n", mb / hash_cpu);
    printf("large_body_vs_sha256 %.3f\n", hash_cpu / verify_cpu);
    free(msg);
    smime_trust_free(trust);
    return 0;
}

#define MAX_CERTS 4096

typedef struct cert_set {
    smime_span certs[MAX_CERTS];
    char *texts[MAX_CERTS];      /* the file texts the spans point into */
    int n, n_texts;
} cert_set;

static void collect_certs(const char *dir, cert_set *set, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 6)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && set->n < MAX_CERTS) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name);
        if (len > 8 && strcmp(e->d_name + len - 8, ".crttest") == 0) {
            size_t n;
            char *text = slurp(path, &n);
            int got = smime_pem_certs(text, n, &set->certs[set->n], 1);
            if (got > 0) {
                set->n += got;
                set->texts[set->n_texts++] = text;
            } else {
                free(text);
            }
        } else {
            collect_certs(path, set, depth + 1);
        }
    }
    closedir(d);
}

static int bench_lint(double seconds, const char *dir)
{
    static cert_set set;
    collect_certs(dir, &set, 0);
    if (set.n == 0) {
        fprintf(stderr, "%s: no certificates\n", dir);
        return 1;
    }
    smime_lint_options opt = { .now = (int64_t)time(NULL), .all_dates = 1 };
    long count = 0;
    double start = now_s(), elapsed = 0;
    do {
        for (int i = 0; i < set.n; i++) {
            smime_lint_result *r;
            if (smime_lint_cert(set.certs[i].p, set.certs[i].len, NULL, 0, &opt, &r) < 0)
                return 1;
            smime_lint_result_free(r);
            count++;
        }
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    printf("lint_certs_per_s %.1f\n", (double)count / elapsed);
    printf("lint_corpus_certs %d\n", set.n);
    for (int i = 0; i < set.n_texts; i++)
        free(set.texts[i]);
    return 0;
}

/* On a shared VM a core's speed changes from one moment to the next (seen here: a
 * fixed loop taking 1.9 times its best time for seconds at a stretch, with no
 * steal time reported), and latency figures move with it.  The same work is
 * timed again and again; each slice's speed is given as a percentage of the
 * fastest. */
#define STEADY_SLICES_MAX 1000

/* One verification of msg; -1 unless every signature verified (pass, or policy
 * for the signers whose certificate does not name From). */
static int verify_signers(const char *msg, size_t len, smime_trust *trust,
                          const smime_verify_options *opt, size_t *n_sigs)
{
    smime_report *r;
    char err[256];
    if (smime_verify_message(msg, len, trust, opt, &r, err, sizeof(err)) < 0)
        return -1;
    int ok = r->n_sigs > 0;
    for (size_t i = 0; i < r->n_sigs; i++)
        ok &= r->sigs[i].result == SMIME_RESULT_PASS || r->sigs[i].result == SMIME_RESULT_POLICY;
    *n_sigs = r->n_sigs;
    smime_report_free(r);
    return ok ? 0 : -1;
}

#define EXTRA_CERTS 20

static int bench_signers(double seconds, const char *plain_file, const char *extra_file)
{
    smime_trust *trust = load_trust();
    size_t len[2];
    char *msg[2] = { slurp(plain_file, &len[0]), slurp(extra_file, &len[1]) };
    smime_verify_options opt;
    smime_verify_options_default(&opt, (int64_t)time(NULL));
    size_t n_sigs = 0;
    for (int f = 0; f < 2; f++)
        if (verify_signers(msg[f], len[f], trust, &opt, &n_sigs) < 0 || n_sigs != 8) {
            fprintf(stderr, "%s: not 8 verified signatures\n", f ? extra_file : plain_file);
            return 1;
        }
    unsigned long hits0, misses0, hits1, misses1;
    smime_trust_cache_stats(trust, &hits0, &misses0);
    double cpu[2] = { 0, 0 };
    long count[2] = { 0, 0 };
    do {
        for (int f = 0; f < 2; f++) {
            double c0 = cpu_now_s();
            if (verify_signers(msg[f], len[f], trust, &opt, &n_sigs) < 0) {
                fprintf(stderr, "%s: did not verify\n", f ? extra_file : plain_file);
                return 1;
            }
            cpu[f] += cpu_now_s() - c0;
            count[f]++;
        }
    } while (cpu[0] + cpu[1] < seconds);
    smime_trust_cache_stats(trust, &hits1, &misses1);
    double signers = 8.0 * (double)(count[0] + count[1]);
    double us_plain = cpu[0] * 1e6 / (double)count[0], us_extra = cpu[1] * 1e6 / (double)count[1];
    /* each signer asks the memo twice: its validated path and its lint findings */
    printf("signers8_memo_hits_per_signer %.3f\n", (double)(hits1 - hits0) / signers);
    printf("signers8_memo_misses_per_signer %.3f\n", (double)(misses1 - misses0) / signers);
    printf("signers8_cpu_us_per_msg %.1f\n", us_plain);
    printf("signers8_extra20_cpu_us_per_msg %.1f\n", us_extra);
    /* what one unused carried certificate adds, as a share of the message */
    printf("unused_cert_cost_ratio %.4f\n", (us_extra - us_plain) / EXTRA_CERTS / us_plain);
    free(msg[0]);
    free(msg[1]);
    smime_trust_free(trust);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench_steadiness(double seconds)
{
    static double slice[STEADY_SLICES_MAX];
    volatile unsigned long sink = 0;
    /* size the work to 50-100 ms on this machine */
    unsigned long work = 1000000;
    for (;;) {
        double t = now_s();
        for (unsigned long i = 0; i < work; i++)
            sink += i * i;
        if (now_s() - t > 0.05)
            break;
        work *= 2;
    }
    int n = 0;
    double start = now_s();
    while (n < STEADY_SLICES_MAX && now_s() - start < seconds) {
        double t = now_s();
        for (unsigned long i = 0; i < work; i++)
            sink += i * i;
        slice[n++] = now_s() - t;
    }
    qsort(slice, (size_t)n, sizeof(double), cmp_double);
    /* fastest slice = 100 %; a slice twice as long ran at 50 % */
    printf("cpu_speed_median_pct %.0f\n", 100.0 * slice[0] / slice[n / 2]);
    printf("cpu_speed_slowest_pct %.0f\n", 100.0 * slice[0] / slice[n - 1]);
    printf("cpu_speed_slices %d\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    smime_init();
    if (argc >= 4 && strcmp(argv[1], "pipeline") == 0)
        return bench_pipeline(atof(argv[2]), argc - 3 > MAX_MIX ? MAX_MIX : argc - 3, argv + 3, 1);
    if (argc >= 4 && strcmp(argv[1], "pipeline-cold") == 0)
        return bench_pipeline(atof(argv[2]), argc - 3 > MAX_MIX ? MAX_MIX : argc - 3, argv + 3, 0);
    if (argc >= 4 && strcmp(argv[1], "crypto") == 0)
        return bench_crypto(atof(argv[2]), argc - 3 > MAX_MIX ? MAX_MIX : argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "rss") == 0)
        return bench_rss(argv[2]);
    if (argc == 4 && strcmp(argv[1], "large") == 0)
        return bench_large(atof(argv[2]), argv[3]);
    if (argc == 4 && strcmp(argv[1], "lint") == 0)
        return bench_lint(atof(argv[2]), argv[3]);
    if (argc == 5 && strcmp(argv[1], "signers") == 0)
        return bench_signers(atof(argv[2]), argv[3], argv[4]);
    if (argc == 3 && strcmp(argv[1], "steadiness") == 0)
        return bench_steadiness(atof(argv[2]));
    fprintf(stderr, "usage: bench pipeline|pipeline-cold|crypto SECONDS FILE... | bench rss FILE | "
                    "bench large SECONDS FILE | bench lint SECONDS DIR | bench steadiness SECONDS\n");
    return 2;
}
