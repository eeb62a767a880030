/* telemetry-scale - synthetic fleet telemetry for `make bench` (bench/telemetry-scale.sh).
 *
 *   telemetry-scale copy N SEED         N records as PostgreSQL COPY text (stdout),
 *                                        columns in smime_telemetry_column_list order
 *   telemetry-scale columns             that list
 *   telemetry-scale sqlite PATH N SEED  N records into a telemetry SQLite file (made
 *                                        and migrated if new): one transaction, one
 *                                        prepared insert
 *   telemetry-scale submit N            the mail path's cost: N smime_telemetry_submit
 *                                        calls (and N smime_telemetry_submit_sig, which
 *                                        builds the record with its keyed hashes) into
 *                                        a writer whose sink drops the records; prints
 *                                        the mean and the 99th percentile in ns
 *
 * The records model a fleet: 100,000 certificates of eight CAs, each with its own
 * type, generation, key, validity, name form, findings, mail client and sender
 * domain (20,000 domains, each with one CAA outcome); signatures per certificate
 * skewed (a few send thousands), on the days of one month, 90% passing.  The
 * certificate-level facts are fixed per certificate, as they are in real data, so
 * the report's first grouping (see smime-telemetry's aggregate_on_server) is
 * about certificates x results, not records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "smime/telemetry/telemetry.h"

#define NCERTS   100000u
#define NDOMAINS 20000u

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a seed, fast enough for 10^7 records */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static const char *const CAS[][2] = {
    { "CN=Alpha S/MIME CA,O=Alpha,C=DE", "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1" },
    { "CN=Beta Mail CA 2024,O=Beta,C=US", "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2" },
    { "CN=Gamma Sponsor CA,O=Gamma,C=FR", "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3" },
    { "CN=Delta Legacy CA,O=Delta,C=NL", "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4" },
    { "CN=Epsilon Strict CA,O=Epsilon,C=CH", "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5" },
    { "CN=Zeta Secure Mail CA,O=Zeta,C=IT", "f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6" },
    { "CN=Eta Personal CA G2,O=Eta,C=ES", "0707070707070707070707070707070707070707" },
    { "(untrusted)", "" },
};
static const char *const TYPES[] = { "mailbox", "mailbox", "mailbox", "organization",
                                     "organization", "sponsor", "sponsor", "individual" };
static const char *const GENS[] = { "legacy", "multipurpose", "multipurpose", "strict" };
static const char *const KEYS[] = { "RSA-2048", "RSA-2048", "RSA-3072", "RSA-4096", "EC-P256",
                                    "EC-P256", "EC-P384", "Ed25519" };
static const char *const DIGESTS[] = { "SHA256", "SHA256", "SHA256", "SHA384", "SHA512" };
static const char *const CLIENTS[] = { "Thunderbird", "Outlook", "Outlook", "Apple Mail",
                                       "Evolution", "other" };
static const char *const ERRORS[] = { "KU-04", "VAL-02", "SAN-01", "SUBJ-CN-01", "EKU-02",
                                      "CRL-01" };
static const char *const CAA[][2] = {
    { "no-caa", "unrestricted" }, { "no-caa", "unrestricted" }, { "no-caa", "unrestricted" },
    { "no-issuemail", "unrestricted" }, { "issuemail", "authorized" },
    { "issuemail", "not-authorized" }, { "issuemail", "ca-not-mapped" },
    { "lookup-failed", "lookup-failed" },
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct cert_facts {
    unsigned ca, type, gen, key, digest, client, domain, cn, findings, validity, nb_month;
    unsigned weight;   /* signatures relative to others */
} cert_facts;

static cert_facts *certs;
static uint64_t total_weight;

static void make_certs(void)
{
    certs = calloc(NCERTS, sizeof(*certs));
    if (!certs) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (unsigned i = 0; i < NCERTS; i++) {
        cert_facts *c = &certs[i];
        c->ca = below(N(CAS));
        c->type = below(N(TYPES));
        c->gen = below(N(GENS));
        c->key = below(N(KEYS));
        c->digest = below(N(DIGESTS));
        c->client = below(N(CLIENTS));
        c->domain = below(NDOMAINS);
        c->cn = below(4);
        c->findings = below(100);
        c->validity = below(4);
        c->nb_month = below(33);
        unsigned r = below(1000);
        c->weight = r < 3 ? 2000 : r < 100 ? 200 : 1 + below(60);
        total_weight += c->weight;
    }
}

/* Picks a certificate with probability proportional to its weight: a cumulative
 * table and a binary search. */
static uint64_t *cumulative;

static unsigned pick_cert(void)
{
    uint64_t x = rnd() % total_weight;
    unsigned lo = 0, hi = NCERTS - 1;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (cumulative[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void fill(smime_telemetry_record *r)
{
    memset(r, 0, sizeof(*r));
    unsigned i = pick_cert();
    const cert_facts *c = &certs[i];
    snprintf(r->day, sizeof(r->day), "2026-06-%02u", 1 + below(30));
    unsigned res = below(100);
    snprintf(r->result, sizeof(r->result), "%s", res < 90 ? "pass" : res < 95 ? "policy" : "fail");
    snprintf(r->reason, sizeof(r->reason), "%s",
             res < 90 ? "ok" : res < 95 ? "from-mismatch" : "expired");
    snprintf(r->issuer_dn, sizeof(r->issuer_dn), "%s", CAS[c->ca][0]);
    snprintf(r->issuer_key_id, sizeof(r->issuer_key_id), "%s", CAS[c->ca][1]);
    if (CAS[c->ca][1][0])
        snprintf(r->root_subject, sizeof(r->root_subject), "CN=Synthetic Root,O=Synth");
    snprintf(r->cert_type, sizeof(r->cert_type), "%s", TYPES[c->type]);
    snprintf(r->generation, sizeof(r->generation), "%s", GENS[c->gen]);
    static const char tnum[] = { '1', '1', '1', '2', '2', '3', '3', '4' };
    snprintf(r->policy_oid, sizeof(r->policy_oid), "2.23.140.1.5.%c.%u", tnum[c->type],
             c->gen == 0 ? 1 : c->gen == 3 ? 3 : 2);
    unsigned year = 2023 + (8 + c->nb_month % 40) / 12, month = 1 + (8 + c->nb_month) % 12;
    snprintf(r->not_before_month, sizeof(r->not_before_month), "%04u-%02u", year % 10000,
             month % 100);
    if (c->findings < 18)
        snprintf(r->findings, sizeof(r->findings), "%s", ERRORS[c->findings % N(ERRORS)]);
    if (c->gen == 0 && strcmp(r->not_before_month, "2025-07") >= 0)
        snprintf(r->findings + strlen(r->findings), sizeof(r->findings) - strlen(r->findings),
                 "%sCLS-LEGACY-SUNSET", r->findings[0] ? " " : "");
    snprintf(r->key_alg, sizeof(r->key_alg), "%s", KEYS[c->key]);
    snprintf(r->digest_alg, sizeof(r->digest_alg), "%s", DIGESTS[c->digest]);
    snprintf(r->sig_alg, sizeof(r->sig_alg), "%s",
             c->key < 4 ? "RSA-SHA256" : c->key < 7 ? "ECDSA-SHA256" : "Ed25519");
    static const int64_t validity[] = { 365, 397, 730, 825 };
    r->validity_days = validity[c->validity];
    snprintf(r->sbr_scope, sizeof(r->sbr_scope), "sbr");
    r->scope_flags = 7;
    snprintf(r->client_family, sizeof(r->client_family), "%s", CLIENTS[c->client]);
    snprintf(r->sender_domain, sizeof(r->sender_domain), "%032x%032x", c->domain * 2654435761u,
             c->domain);
    snprintf(r->cert_id, sizeof(r->cert_id), "%032x%032x", i * 2246822519u, i);
    static const char *const cn[][2] = { { "mailbox", "" }, { "mailbox", "" },
                                         { "name", "givenName surname" }, { "name", "pseudonym" } };
    snprintf(r->cn_form, sizeof(r->cn_form), "%s", cn[c->cn][0]);
    snprintf(r->name_attrs, sizeof(r->name_attrs), "%s", cn[c->cn][1]);
    const char *const *caa = CAA[c->domain % N(CAA)];
    snprintf(r->caa_issuemail, sizeof(r->caa_issuemail), "%s", caa[0]);
    snprintf(r->caa_ca, sizeof(r->caa_ca), "%s", caa[1]);
}

static void setup(uint64_t seed)
{
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    make_certs();
    cumulative = malloc(NCERTS * sizeof(*cumulative));
    if (!cumulative) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < NCERTS; i++) {
        sum += certs[i].weight;
        cumulative[i] = sum;
    }
}

static int cmd_copy(uint64_t n, uint64_t seed)
{
    setup(seed);
    static char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof(out));
    for (uint64_t k = 0; k < n; k++) {
        smime_telemetry_record r;
        fill(&r);
        const char *vals[SMIME_TELEMETRY_NCOLS];
        char numbuf[SMIME_TELEMETRY_NCOLS * 24];
        smime_telemetry_record_values(&r, vals, numbuf);
        for (int i = 0; i < SMIME_TELEMETRY_NCOLS; i++) {
            if (i)
                putchar('\t');
            /* COPY text format: the values here hold no tab, newline or backslash */
            fputs(vals[i], stdout);
        }
        putchar('\n');
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_sqlite(const char *path, uint64_t n, uint64_t seed)
{
    char err[512];
    smime_telemetry_sink *sink = NULL;
    if (smime_telemetry_sqlite_open(path, 0, &sink, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    smime_telemetry_sink_close(sink);   /* made and migrated */
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    char sql[2048];
    int o = snprintf(sql, sizeof(sql), "INSERT INTO signature (%s) VALUES (",
                     smime_telemetry_column_list);
    for (int i = 1; i <= SMIME_TELEMETRY_NCOLS; i++)
        o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s?%d", i > 1 ? "," : "", i);
    snprintf(sql + o, sizeof(sql) - (size_t)o, ")");
    sqlite3_stmt *st = NULL;
    if (sqlite3_exec(db, "PRAGMA synchronous = OFF; BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    setup(seed);
    for (uint64_t k = 0; k < n; k++) {
        smime_telemetry_record r;
        fill(&r);
        const char *vals[SMIME_TELEMETRY_NCOLS];
        char numbuf[SMIME_TELEMETRY_NCOLS * 24];
        smime_telemetry_record_values(&r, vals, numbuf);
        sqlite3_reset(st);
        for (int i = 0; i < SMIME_TELEMETRY_NCOLS; i++)
            sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "sqlite: insert: %s\n", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            sqlite3_close(db);
            return 1;
        }
    }
    sqlite3_finalize(st);
    int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite: commit: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : 1;
}

/* ---- submit: the mail path ---- */

static int drop_write(void *impl, const smime_telemetry_record *recs, size_t n, char *err,
                      size_t errlen)
{
    (void)impl, (void)recs, (void)n, (void)err, (void)errlen;
    return 0;
}

static void drop_close(void *impl)
{
    (void)impl;
}

static const smime_telemetry_sink_ops drop_ops = { .name = "drop", .write = drop_write,
                                                   .close = drop_close };

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times fn n times (in runs of 100 calls, so that the clock's own cost is small):
 * mean and p99 of the per-call time. */
static void time_calls(const char *name, uint64_t n, int (*fn)(void *), void *ctx)
{
    size_t runs = (size_t)(n / 100);
    double *per = malloc(runs * sizeof(*per));
    if (!per || runs == 0) {
        free(per);
        return;
    }
    double total = 0;
    for (size_t r = 0; r < runs; r++) {
        double a = now_ns();
        for (int k = 0; k < 100; k++)
            fn(ctx);
        per[r] = (now_ns() - a) / 100.0;
        total += per[r];
    }
    qsort(per, runs, sizeof(*per), cmp_double);
    printf("%s_mean_ns %.0f\n%s_p99_ns %.0f\n", name, total / (double)runs, name,
           per[(size_t)((double)runs * 0.99)]);
    free(per);
}

typedef struct submit_ctx {
    smime_telemetry *t;
    smime_telemetry_record rec;
    smime_sig_report sig;
} submit_ctx;

static int one_submit(void *v)
{
    submit_ctx *c = v;
    return smime_telemetry_submit(c->t, &c->rec);
}

static int one_submit_sig(void *v)
{
    submit_ctx *c = v;
    return smime_telemetry_submit_sig(c->t, &c->sig, NULL, 1780000000);
}

static int cmd_submit(uint64_t n)
{
    smime_telemetry_sink *sink = smime_telemetry_sink_new(&drop_ops, NULL);
    smime_telemetry_options o;
    smime_telemetry_options_default(&o);
    o.queue_capacity = SMIME_TELEMETRY_QUEUE_MAX;
    o.privacy.domain_mode = SMIME_TELEMETRY_DOMAIN_HMAC;
    memcpy(o.privacy.key, "bench key", 9);
    o.privacy.key_len = 9;
    memcpy(o.privacy.cert_key, "bench secret 0123456789abcdef012", 32);
    o.privacy.cert_key_len = 32;
    smime_telemetry *t = NULL;
    char err[256];
    if (!sink || smime_telemetry_start(sink, &o, &t, err, sizeof(err)) < 0) {
        fprintf(stderr, "start: %s\n", err);
        return 1;
    }
    submit_ctx c;
    memset(&c, 0, sizeof(c));
    c.t = t;
    setup(1);
    fill(&c.rec);
    c.sig.result = SMIME_RESULT_PASS;
    c.sig.code = "ok";
    snprintf(c.sig.identifier, sizeof(c.sig.identifier), "alice@example.org");
    snprintf(c.sig.digest_alg, sizeof(c.sig.digest_alg), "SHA256");
    snprintf(c.sig.sig_alg, sizeof(c.sig.sig_alg), "RSA-SHA256");
    c.sig.has_signer = 1;
    c.sig.chain_anchored = 1;
    snprintf(c.sig.signer.issuer, sizeof(c.sig.signer.issuer), "CN=Alpha S/MIME CA,O=Alpha,C=DE");
    snprintf(c.sig.signer.subject, sizeof(c.sig.signer.subject), "CN=alice@example.org");
    snprintf(c.sig.signer.serial, sizeof(c.sig.signer.serial), "0123456789abcdef");
    snprintf(c.sig.signer.key, sizeof(c.sig.signer.key), "RSA-2048");
    c.sig.signer.not_before = 1750000000;
    c.sig.signer.not_after = 1780000000;
    time_calls("submit", n, one_submit, &c);
    time_calls("submit_sig", n, one_submit_sig, &c);
    smime_telemetry_stats st;
    smime_telemetry_close(t, 10000, &st);
    printf("submit_queued %llu\nsubmit_dropped_full %llu\n", (unsigned long long)st.queued,
           (unsigned long long)st.dropped_full);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "copy") == 0)
        return cmd_copy(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "sqlite") == 0)
        return cmd_sqlite(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    if (argc == 2 && strcmp(argv[1], "columns") == 0)
        return puts(smime_telemetry_column_list) < 0;
    if (argc == 3 && strcmp(argv[1], "submit") == 0)
        return cmd_submit(strtoull(argv[2], NULL, 10));
    fprintf(stderr, "usage: telemetry-scale copy N SEED | columns | sqlite PATH N SEED | submit N\n");
    return 2;
}
