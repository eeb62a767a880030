/* smime-telemetry - record S/MIME telemetry from mail files, and report on it.
 *
 *   smime-telemetry report --db URI [--since DATE] [--until DATE] [--min-count K]
 *                          [--format text|csv|json|html] [--compute server|client]
 *   smime-telemetry record --db URI --trust-anchors PEM|DIR [--at TIME] [--no-lint]
 *                          [--sender-domain off|hmac|plain] [--hmac-key-file FILE] [--secret FILE] FILE.eml...
 *
 * The report groups the stored records (the sinks hand them back grouped) into
 * buckets per section; every bucket smaller than K is left out of every format,
 * and a share is shown only when neither of its two sides is a small non-zero
 * count, so a report can be shared without pointing at a handful of signers.
 *
 * `record` runs the same pipeline as smime-verify over files and stores one record
 * per signature through the same queue the milter uses; it lints each signer
 * certificate it finds in the message itself.
 *
 * Exit: 0 done; 2 usage; 3 a database, input or output error. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "smime/util/buf.h"
#include "smime/crypto/cms.h"
#include "smime/util/json.h"
#include "smime/lint/lint.h"
#include "smime/mail/mime.h"
#include "smime/telemetry/telemetry.h"
#include "smime/util/text.h"
#include "smime/util/timeutil.h"
#include "smime/verdict/verify.h"

#define EXIT_USAGE 2
#define EXIT_IO    3

#define OUTPUT_CAP       (64u << 20)   /* a report larger than this is an error */
#define TALLY_MAX        (1u << 22)    /* buckets of one section */
#define PAIRS_MAX        (1u << 26)    /* distinct (bucket, id) pairs of one section */
#define IDS_MAX          (1u << 24)    /* distinct certificate and domain ids of a report */
#define ID_NONE          UINT32_MAX    /* a record without an id (no signer, no domain) */
#define CELL_TEXT_MAX    72            /* text report: longer cells are cut */
#define FINDINGS_PER_CA  5
#define MSG_CERTS_MAX    64            /* record: certificates gathered from one message */

/* ---- the report model --------------------------------------------------------
 *
 * A report is a list of sections; a section is a list of buckets; a bucket is a
 * combination of up to three dimension values (CA, type, month...) with the
 * signatures and the distinct certificates that fall into it, and, for sections
 * that ask a yes/no question (any SBR error? Legacy?), how many of those
 * certificates and signatures answer yes (the "part").  The same model comes from
 * a database (aggregate, then suppress), from an export (read back), or from
 * several exports (summed, then suppressed again), and every format renders it. */

#define DIMS_MAX 3

typedef struct bucket {
    char    *dim[DIMS_MAX];   /* owned; "" past the section's dimensions */
    uint64_t sigs, certs;     /* signatures; distinct certificates (0 = unknown) */
    uint64_t part_sigs, part_certs;
    uint64_t hash;            /* of the dimensions; while counting only */
    int      part_known;      /* the part may be shown (see share_shown) */
} bucket;

/* While records are counted (tally_count), a section finds a record's bucket by
 * a hash of its dimensions, and counts a certificate once per bucket by keeping
 * each (bucket, id) pair it has seen: the cost is one lookup per record and
 * section, whatever the number of records.  Both indexes are dropped when
 * counting ends (tally_end_counting). */
typedef struct tally {
    bucket   *items;      /* owned */
    size_t    n, alloc;
    uint32_t *slots;      /* owned; open addressing: item index + 1, 0 empty */
    size_t    nslots;     /* a power of two, at least twice n */
    uint64_t *pairs;      /* owned; open addressing: PAIR_EMPTY or a pair_key, PAIR_PART */
    size_t    npairs, pairs_cap;
    int       failed;     /* out of memory or past a cap: the report fails */
    size_t    suppressed; /* buckets left out for being below K */
} tally;

/* what the section counts first: signatures, distinct certificates, or distinct
 * sender domains (kept as "certificates" in the model and the export's rows;
 * the section's unit says which) */
enum unit { PER_SIG, PER_CERT, PER_DOMAIN };

enum sec_id {
    SEC_OVERVIEW, SEC_RESULTS, SEC_REASONS, SEC_CA, SEC_ROOT, SEC_TYPE_GEN, SEC_COMPLIANCE,
    SEC_FINDINGS, SEC_FINDINGS_CA, SEC_NAMING_CN, SEC_PSEUDONYM, SEC_CN_FORMS,
    SEC_GEN_ISSUED, SEC_GEN_SEEN, SEC_LEGACY_SUNSET, SEC_KEY, SEC_KEY_ISSUED, SEC_DIGEST,
    SEC_SIGALG, SEC_VALIDITY, SEC_POLICY, SEC_CLIENTS, SEC_SCOPE, SEC_CAA_DOMAINS, SEC_CAA_CA,
    SEC_COUNT
};

enum sec_order { BY_COUNT, BY_KEY, BY_KEY_THEN_COUNT };

static const struct section_def {
    const char *name, *title, *explain;
    int ndims;
    const char *dim[DIMS_MAX];
    const char *part_label;   /* NULL: no yes/no question */
    enum unit unit;
    enum sec_order order;
    int series;               /* dim 0 is a month, dim 1 a category with "(all)" rows */
    int finding_dim;          /* index+1 of a dimension holding a lint ID, 0 none */
} sections[SEC_COUNT] = {
    [SEC_OVERVIEW] = { "overview", "Overview",
        "All signatures of the period and the distinct signer certificates that made them.",
        1, { "scope" }, NULL, PER_CERT, BY_KEY, 0, 0 },
    [SEC_RESULTS] = { "results", "Result rates",
        "RFC 7281 result of every signature.", 1, { "result" }, NULL, PER_SIG, BY_COUNT, 0, 0 },
    [SEC_REASONS] = { "reasons", "Results by reason",
        "Why signatures did not pass, by stable reason class.", 2, { "result", "reason" }, NULL,
        PER_SIG, BY_COUNT, 0, 0 },
    [SEC_CA] = { "by_ca", "Certificates by issuing CA",
        "Issuing CAs of chains that reached a configured trust anchor; others are only "
        "counted as (untrusted) or (self-issued). Part: signatures that passed.",
        2, { "issuer", "issuer key id" }, "passed", PER_CERT, BY_COUNT, 0, 0 },
    [SEC_ROOT] = { "by_root", "Certificates by trust anchor",
        "The configured anchor each chain reached.", 1, { "root" }, "passed", PER_CERT,
        BY_COUNT, 0, 0 },
    [SEC_TYPE_GEN] = { "type_generation", "Certificate type x generation",
        "SBR certificate type and profile generation, from the reserved policy OID.",
        2, { "type", "generation" }, NULL, PER_CERT, BY_COUNT, 0, 0 },
    [SEC_COMPLIANCE] = { "compliance", "Post-issuance compliance by CA, type and generation",
        "Share of distinct certificates with at least one SBR error (lint severity error) "
        "found when they were used, per issuing CA, certificate type and generation.",
        3, { "issuer", "type", "generation" }, "with SBR error", PER_CERT, BY_COUNT, 0, 0 },
    [SEC_FINDINGS] = { "findings", "Requirements most broken",
        "Each requirement of the catalogue broken, with its SBR section, severity and text; "
        "a certificate counts once however often it signed.",
        1, { "finding" }, NULL, PER_CERT, BY_COUNT, 0, 1 },
    [SEC_FINDINGS_CA] = { "findings_by_ca", "Requirements broken per CA, type and generation",
        "The same, per issuing CA and certificate type x generation (the top five per CA).",
        3, { "issuer", "type/generation", "finding" }, NULL, PER_CERT, BY_KEY_THEN_COUNT, 0, 3 },
    [SEC_NAMING_CN] = { "naming_mailbox_cn",
        "Sponsor- and Organization-validated certificates named only by a mailbox",
        "Part: the subject commonName is only a mailbox address and there is no givenName, "
        "surname or pseudonym.", 2, { "type", "generation" }, "CN only a mailbox", PER_CERT,
        BY_KEY, 0, 0 },
    [SEC_PSEUDONYM] = { "pseudonyms", "Pseudonyms by type and generation",
        "Part: the subject has a pseudonym attribute (of interest for Legacy Sponsor-validated).",
        2, { "type", "generation" }, "pseudonym", PER_CERT, BY_KEY, 0, 0 },
    [SEC_CN_FORMS] = { "cn_forms", "Subject commonName forms by type",
        "mailbox: the CN is only an address; name: other text; absent: no CN. Name "
        "attributes present: givenName, surname, pseudonym.",
        3, { "type", "CN form", "name attributes" }, NULL, PER_CERT, BY_KEY_THEN_COUNT, 0, 0 },
    [SEC_GEN_ISSUED] = { "generations_by_issuance", "Profile generations by issuance month",
        "Share of distinct certificates of each generation, by the month of their notBefore.",
        2, { "notBefore month", "generation" }, NULL, PER_CERT, BY_KEY, 1, 0 },
    [SEC_GEN_SEEN] = { "generations_by_month_seen", "Profile generations by month seen",
        "Share of distinct certificates of each generation among those seen in the month.",
        2, { "month seen", "generation" }, NULL, PER_CERT, BY_KEY, 1, 0 },
    [SEC_LEGACY_SUNSET] = { "legacy_after_sunset", "Legacy certificates issued after the sunset",
        "Legacy-generation certificates with notBefore on or after 2025-07-15 "
        "(finding CLS-LEGACY-SUNSET), by issuing CA.", 1, { "issuer" }, NULL, PER_CERT,
        BY_COUNT, 0, 0 },
    [SEC_KEY] = { "key_algorithms", "Signer key algorithms and sizes",
        "RSA by modulus size, ECDSA by curve, EdDSA, ML-DSA.", 1, { "key" }, NULL, PER_CERT,
        BY_COUNT, 0, 0 },
    [SEC_KEY_ISSUED] = { "key_algorithms_by_issuance", "Key algorithms by issuance month",
        "Share of distinct certificates with each key algorithm, by notBefore month.",
        2, { "notBefore month", "key" }, NULL, PER_CERT, BY_KEY, 1, 0 },
    [SEC_DIGEST] = { "digest_algorithms", "CMS digest algorithms",
        "Digest algorithm of each signature.", 1, { "digest" }, NULL, PER_SIG, BY_COUNT, 0, 0 },
    [SEC_SIGALG] = { "signature_algorithms", "CMS signature algorithms",
        "Signature algorithm of each signature (RSA, RSA-PSS, ECDSA, EdDSA, ML-DSA).",
        1, { "signature" }, NULL, PER_SIG, BY_COUNT, 0, 0 },
    [SEC_VALIDITY] = { "validity", "Certificate validity periods by generation",
        "notAfter - notBefore. SBR 6.3.2: at most 825 days for Multipurpose and Strict, "
        "1185 for Legacy.", 2, { "generation", "validity" }, NULL, PER_CERT, BY_KEY, 0, 0 },
    [SEC_POLICY] = { "policy_oids", "SBR policy OIDs", "Reserved policy OIDs asserted.",
        1, { "policy OID" }, NULL, PER_CERT, BY_COUNT, 0, 0 },
    [SEC_CLIENTS] = { "clients", "Signing clients", "Mail client family (no versions kept).",
        1, { "client" }, NULL, PER_SIG, BY_COUNT, 0, 0 },
    [SEC_SCOPE] = { "sbr_scope", "SBR scope of signer certificates",
        "sbr: an S/MIME certificate issued since 2023-09-01; pre-sbr: before; not-smime: "
        "no emailProtection EKU or no mailbox.", 1, { "scope" }, NULL, PER_CERT, BY_COUNT, 0, 0 },
    [SEC_CAA_DOMAINS] = { "caa_domains", "CAA for S/MIME: sender domains publishing issuemail",
        "Distinct sender domains (kept only as keyed hashes) by what their Relevant CAA RRset "
        "(RFC 8659 section 3: the domain, else its nearest parent with CAA) says for mail "
        "(RFC 9495). Lookup failed: SERVFAIL or timeout, not the same as no CAA. Share: of "
        "the (all) row.", 1, { "issuemail" }, NULL, PER_DOMAIN, BY_KEY, 0, 0 },
    [SEC_CAA_CA] = { "caa_authorization", "CAA for S/MIME: is the signer's CA authorized?",
        "Per distinct sender domain and signature: whether the domain's issuemail properties "
        "name the signer's CA (issuer-domain-names from the admin's issuer map). Not mapped: "
        "the domain restricts issuance, but the map has no name for the CA.",
        1, { "signer's CA" }, NULL, PER_DOMAIN, BY_KEY, 0, 0 },
};

static const char *caa_issuemail_label(const char *v)
{
    return strcmp(v, SMIME_CAA_ISSUEMAIL) == 0      ? "issuemail published"
         : strcmp(v, SMIME_CAA_NO_ISSUEMAIL) == 0   ? "CAA without issuemail"
         : strcmp(v, SMIME_CAA_NO_CAA) == 0         ? "no CAA"
         : strcmp(v, SMIME_CAA_FAILED) == 0         ? "lookup failed"
                                                    : v;
}

static const char *caa_ca_label(const char *v)
{
    return strcmp(v, SMIME_CAA_AUTHORIZED) == 0     ? "authorized"
         : strcmp(v, SMIME_CAA_NOT_AUTHORIZED) == 0 ? "not authorized"
         : strcmp(v, SMIME_CAA_NOT_MAPPED) == 0     ? "CA not in the issuer map"
         : strcmp(v, SMIME_CAA_UNRESTRICTED) == 0   ? "no issuemail (any CA)"
         : strcmp(v, SMIME_CAA_FAILED) == 0         ? "lookup failed"
                                                    : v;
}

typedef struct report {
    uint64_t min_count;
    char     since[11], until[11];   /* "" = open */
    char     reporter[128];          /* "" = not given */
    char     software[64];
    char     catalogue[64];
    char     generated_at[32];
    size_t   ninputs;                /* merged exports; 0 = from a database */
    tally    tallies[SEC_COUNT];
    /* while counting records: each distinct certificate or domain id, numbered
     * (owned keys; values are the numbers), so that a pair is two integers */
    GHashTable *ids;
    uint32_t    nids;
    int         ids_failed;          /* past IDS_MAX: the report fails */
} report;

static const char *or_label(const char *s, const char *label)
{
    return s && *s ? s : label;
}

static void bucket_free(bucket *b)
{
    for (int d = 0; d < DIMS_MAX; d++)
        free(b->dim[d]);
    memset(b, 0, sizeof(*b));
}

/* Appends a bucket with copies of the dimensions (NULL = "") and no counts.
 * Returns it (valid until the next append), or NULL with t->failed set. */
static bucket *tally_add(tally *t, const char *d0, const char *d1, const char *d2)
{
    if (t->failed)
        return NULL;
    if (t->n == t->alloc) {
        size_t na = t->alloc ? t->alloc * 2 : 64;
        bucket *ni = na <= TALLY_MAX ? realloc(t->items, na * sizeof(*ni)) : NULL;
        if (!ni) {
            t->failed = 1;
            return NULL;
        }
        t->items = ni;
        t->alloc = na;
    }
    bucket *b = &t->items[t->n];
    memset(b, 0, sizeof(*b));
    const char *dims[DIMS_MAX] = { d0, d1, d2 };
    int bad = 0;
    for (int d = 0; d < DIMS_MAX; d++)
        bad |= !(b->dim[d] = strdup(dims[d] ? dims[d] : ""));
    if (bad) {
        bucket_free(b);
        t->failed = 1;
        return NULL;
    }
    b->part_known = 1;
    t->n++;
    return b;
}

static int cmp_dims(const bucket *x, const bucket *y)
{
    for (int d = 0; d < DIMS_MAX; d++) {
        int c = strcmp(x->dim[d], y->dim[d]);
        if (c)
            return c;
    }
    return 0;
}

static uint64_t dims_hash(const char *const dims[DIMS_MAX])
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a 64, a unit separator after each */
    for (int d = 0; d < DIMS_MAX; d++) {
        for (const unsigned char *p = (const unsigned char *)dims[d]; *p; p++) {
            h ^= *p;
            h *= 1099511628211ull;
        }
        h ^= 0x1f;
        h *= 1099511628211ull;
    }
    return h;
}

static int index_grow(tally *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 128;
    uint32_t *slots = calloc(ns, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = t->items[i].hash & (ns - 1);
        while (slots[j])
            j = (j + 1) & (ns - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    return 0;
}

/* The bucket of these dimensions (NULL = ""), made if new.  NULL with t->failed
 * set past TALLY_MAX or out of memory. */
static bucket *tally_bucket(tally *t, const char *d0, const char *d1, const char *d2)
{
    if (t->failed)
        return NULL;
    const char *dims[DIMS_MAX] = { d0 ? d0 : "", d1 ? d1 : "", d2 ? d2 : "" };
    uint64_t h = dims_hash(dims);
    if ((t->n + 1) * 2 > t->nslots && index_grow(t) < 0) {
        t->failed = 1;
        return NULL;
    }
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t slot = t->slots[i];
        if (slot == 0) {
            bucket *b = tally_add(t, dims[0], dims[1], dims[2]);
            if (!b)
                return NULL;
            b->hash = h;
            t->slots[i] = (uint32_t)t->n;
            return b;
        }
        bucket *b = &t->items[slot - 1];
        if (b->hash == h && strcmp(b->dim[0], dims[0]) == 0 && strcmp(b->dim[1], dims[1]) == 0 &&
            strcmp(b->dim[2], dims[2]) == 0)
            return b;
    }
}

#define PAIR_EMPTY UINT64_MAX
#define PAIR_PART  (1ull << 62)   /* the id answered the section's question yes */

static uint64_t pair_hash(uint64_t key)
{
    key ^= key >> 33;   /* the finaliser of MurmurHash3: spreads both halves */
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ull;
    key ^= key >> 33;
    return key;
}

static int pairs_grow(tally *t)
{
    size_t nc = t->pairs_cap ? t->pairs_cap * 2 : 256;
    uint64_t *pairs = malloc(nc * sizeof(*pairs));
    if (!pairs)
        return -1;
    memset(pairs, 0xff, nc * sizeof(*pairs));   /* PAIR_EMPTY */
    for (size_t i = 0; i < t->pairs_cap; i++) {
        uint64_t e = t->pairs[i];
        if (e == PAIR_EMPTY)
            continue;
        size_t j = pair_hash(e & ~PAIR_PART) & (nc - 1);
        while (pairs[j] != PAIR_EMPTY)
            j = (j + 1) & (nc - 1);
        pairs[j] = e;
    }
    free(t->pairs);
    t->pairs = pairs;
    t->pairs_cap = nc;
    return 0;
}

/* Counts id in b once: a certificate the first time the bucket sees it, and in
 * the part the first time one of its signatures answers yes. */
static void pair_mark(tally *t, bucket *b, uint32_t id, int part)
{
    if ((t->npairs + 1) * 2 > t->pairs_cap &&
        (t->npairs >= PAIRS_MAX || pairs_grow(t) < 0)) {
        t->failed = 1;
        return;
    }
    uint64_t key = (uint64_t)(b - t->items) << 32 | id;
    size_t mask = t->pairs_cap - 1;
    for (size_t i = pair_hash(key) & mask;; i = (i + 1) & mask) {
        uint64_t e = t->pairs[i];
        if (e == PAIR_EMPTY) {
            t->pairs[i] = key | (part ? PAIR_PART : 0);
            t->npairs++;
            b->certs++;
            b->part_certs += part ? 1 : 0;
            return;
        }
        if ((e & ~PAIR_PART) == key) {
            if (part && !(e & PAIR_PART)) {
                t->pairs[i] = e | PAIR_PART;
                b->part_certs++;
            }
            return;
        }
    }
}

/* Counts count signatures, part of them answering yes, and the id (ID_NONE: no
 * certificate or domain to count) into the bucket of the dimensions. */
static void tally_count(tally *t, const char *d0, const char *d1, const char *d2, uint32_t id,
                        uint64_t count, uint64_t part)
{
    bucket *b = tally_bucket(t, d0, d1, d2);
    if (!b)
        return;
    b->sigs += count;
    b->part_sigs += part;
    if (id != ID_NONE)
        pair_mark(t, b, id, part != 0);
}

static void tally_end_counting(tally *t)
{
    free(t->slots);
    free(t->pairs);
    t->slots = NULL;
    t->pairs = NULL;
    t->nslots = t->npairs = t->pairs_cap = 0;
}

/* The number of a certificate or domain id ("" = ID_NONE), numbered on first
 * sight; ID_NONE with rep->ids_failed set past IDS_MAX. */
static uint32_t report_id(report *rep, const char *id)
{
    if (!id || !*id)
        return ID_NONE;
    if (!rep->ids)
        rep->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    gpointer number;
    if (g_hash_table_lookup_extended(rep->ids, id, NULL, &number))
        return GPOINTER_TO_UINT(number);
    if (rep->nids >= IDS_MAX) {
        rep->ids_failed = 1;
        return ID_NONE;
    }
    uint32_t n = rep->nids++;
    g_hash_table_insert(rep->ids, g_strdup(id), GUINT_TO_POINTER(n));
    return n;
}

static void tally_free(tally *t)
{
    tally_end_counting(t);
    for (size_t i = 0; i < t->n; i++)
        bucket_free(&t->items[i]);
    free(t->items);
    memset(t, 0, sizeof(*t));
}

static const char *validity_bucket(int64_t days)
{
    /* SBR 6.3.2: 825 days at most for Multipurpose and Strict, 1185 for Legacy;
     * 398 is the TLS-like short form some CAs use. */
    if (days < 0)
        return "unknown";
    if (days <= 398)
        return "0001-0398 days";
    if (days <= 825)
        return "0399-0825 days";
    if (days <= 1185)
        return "0826-1185 days";
    return "1186+ days";
}

static const smime_lint_def *lint_def_of(const char *id)
{
    size_t n = 0;
    const smime_lint_def *t = smime_lint_table(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].id, id) == 0)
            return &t[i];
    return NULL;
}

/* The catalogue version an export names: the number of lints and a short hash of
 * their IDs, sections and severities, so two reports say whether they were made
 * with the same rules. */
static void catalogue_version(char *out, size_t n)
{
    size_t count = 0;
    const smime_lint_def *t = smime_lint_table(&count);
    uint64_t h = 1469598103934665603ull;   /* FNV-1a 64 */
    for (size_t i = 0; i < count; i++) {
        char line[160];
        snprintf(line, sizeof(line), "%s|%s|%d\n", t[i].id, t[i].section, (int)t[i].severity);
        for (const char *p = line; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ull;
        }
    }
    snprintf(out, n, "%zu-lints-%016llx", count, (unsigned long long)h);
}

/* Calls fn for each ID of a space-separated findings list. */
static void each_finding(const char *list, void (*fn)(const char *id, void *ctx), void *ctx)
{
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char id[64];
        if (n >= sizeof(id))
            n = sizeof(id) - 1;
        memcpy(id, p, n);
        id[n] = '\0';
        if (n)
            fn(id, ctx);
        p = e ? e + 1 : p + strlen(p);
    }
}

typedef struct finding_ctx {
    report *rep;
    const smime_telemetry_record *r;
    const char *ca;
    uint32_t cert;
    char typegen[40];
    uint64_t count;
    int any_error, sunset;
} finding_ctx;

static void finding_scan(const char *id, void *vctx)
{
    finding_ctx *f = vctx;
    const smime_lint_def *d = lint_def_of(id);
    if (d && d->severity == SMIME_SEV_ERROR)
        f->any_error = 1;
    if (strcmp(id, "CLS-LEGACY-SUNSET") == 0)
        f->sunset = 1;
}

static void finding_add(const char *id, void *vctx)
{
    finding_ctx *f = vctx;
    tally_count(&f->rep->tallies[SEC_FINDINGS], id, NULL, NULL, f->cert, f->count, 0);
    tally_count(&f->rep->tallies[SEC_FINDINGS_CA], f->ca, f->typegen, id, f->cert, f->count, 0);
}

static int add_record(const smime_telemetry_record *r, uint64_t count, void *ctx)
{
    report *rep = ctx;
    tally *T = rep->tallies;
    uint32_t cert = report_id(rep, r->cert_id);
    int pass = strcmp(r->result, "pass") == 0;
    const char *type = or_label(r->cert_type, "unclassified");
    const char *gen = or_label(r->generation, "-");
    const char *ca = or_label(r->issuer_dn, "(no signer certificate)");
    char month_seen[8];
    memcpy(month_seen, r->day, 7);
    month_seen[7] = '\0';

    tally_count(&T[SEC_OVERVIEW], "all", NULL, NULL, cert, count, 0);
    tally_count(&T[SEC_RESULTS], r->result, NULL, NULL, cert, count, 0);
    tally_count(&T[SEC_REASONS], r->result, or_label(r->reason, "-"), NULL, cert, count, 0);
    tally_count(&T[SEC_CA], ca, r->issuer_key_id, NULL, cert, count, pass ? count : 0);
    tally_count(&T[SEC_ROOT], or_label(r->root_subject, "(no trust anchor reached)"), NULL, NULL,
              cert, count, pass ? count : 0);
    tally_count(&T[SEC_POLICY], or_label(r->policy_oid, "(none)"), NULL, NULL, cert, count, 0);
    tally_count(&T[SEC_TYPE_GEN], type, gen, NULL, cert, count, 0);

    finding_ctx f = { rep, r, ca, cert, "", count, 0, 0 };
    snprintf(f.typegen, sizeof(f.typegen), "%s %s", type, gen);
    each_finding(r->findings, finding_scan, &f);
    each_finding(r->findings, finding_add, &f);
    if (r->generation[0])
        tally_count(&T[SEC_COMPLIANCE], ca, type, gen, cert, count, f.any_error ? count : 0);
    if (f.sunset)
        tally_count(&T[SEC_LEGACY_SUNSET], ca, NULL, NULL, cert, count, 0);

    if (r->cn_form[0]) {
        int sv_ov = strcmp(r->cert_type, "sponsor") == 0 || strcmp(r->cert_type, "organization") == 0;
        int mailbox_only = strcmp(r->cn_form, "mailbox") == 0 && r->name_attrs[0] == '\0';
        if (sv_ov)
            tally_count(&T[SEC_NAMING_CN], type, gen, NULL, cert, count, mailbox_only ? count : 0);
        if (r->generation[0])
            tally_count(&T[SEC_PSEUDONYM], type, gen, NULL, cert, count,
                      strstr(r->name_attrs, "pseudonym") ? count : 0);
        tally_count(&T[SEC_CN_FORMS], type, r->cn_form, or_label(r->name_attrs, "(none)"), cert,
                  count, 0);
    }
    if (r->generation[0]) {
        if (r->not_before_month[0]) {
            tally_count(&T[SEC_GEN_ISSUED], r->not_before_month, gen, NULL, cert, count, 0);
            tally_count(&T[SEC_GEN_ISSUED], r->not_before_month, "(all)", NULL, cert, count, 0);
        }
        tally_count(&T[SEC_GEN_SEEN], month_seen, gen, NULL, cert, count, 0);
        tally_count(&T[SEC_GEN_SEEN], month_seen, "(all)", NULL, cert, count, 0);
    }
    const char *key = or_label(r->key_alg, "unknown");
    tally_count(&T[SEC_KEY], key, NULL, NULL, cert, count, 0);
    if (r->not_before_month[0] && r->key_alg[0]) {
        tally_count(&T[SEC_KEY_ISSUED], r->not_before_month, key, NULL, cert, count, 0);
        tally_count(&T[SEC_KEY_ISSUED], r->not_before_month, "(all)", NULL, cert, count, 0);
    }
    tally_count(&T[SEC_DIGEST], or_label(r->digest_alg, "unknown"), NULL, NULL, cert, count, 0);
    tally_count(&T[SEC_SIGALG], or_label(r->sig_alg, "unknown"), NULL, NULL, cert, count, 0);
    if (r->key_alg[0])
        tally_count(&T[SEC_VALIDITY], gen, validity_bucket(r->validity_days), NULL, cert, count, 0);
    tally_count(&T[SEC_CLIENTS], or_label(r->client_family, "unknown"), NULL, NULL, cert, count, 0);
    tally_count(&T[SEC_SCOPE], or_label(r->sbr_scope, "not linted"), NULL, NULL, cert, count, 0);
    if (r->caa_issuemail[0]) {   /* distinct by the (keyed) sender domain */
        uint32_t dom = report_id(rep, r->sender_domain);
        tally_count(&T[SEC_CAA_DOMAINS], caa_issuemail_label(r->caa_issuemail), NULL, NULL, dom,
                  count, 0);
        tally_count(&T[SEC_CAA_DOMAINS], "(all)", NULL, NULL, dom, count, 0);
        tally_count(&T[SEC_CAA_CA], caa_ca_label(r->caa_ca), NULL, NULL, dom, count, 0);
        tally_count(&T[SEC_CAA_CA], "(all)", NULL, NULL, dom, count, 0);
    }
    int failed = rep->ids_failed;
    for (int s = 0; s < SEC_COUNT; s++)
        failed |= T[s].failed;
    return failed ? -1 : 0;   /* stops the reading; main says why */
}

/* ---- the same aggregation in SQL, on the database server ---------------------
 *
 * For a fleet's database the report must not pull every record to the client:
 * the server groups the period's records once into a temporary table g (the
 * record's columns as the sections use them: the month seen instead of the day,
 * the validity bucket instead of the days, and a count n), splits the findings
 * lists once (f) and flags each distinct list (e: any SBR error, the Legacy
 * sunset), then answers one GROUP BY per section part with the bucket's
 * signatures, distinct ids, and the part's signatures and distinct ids.  Only
 * buckets come back.  Each part below is add_record() above, written in SQL:
 * the two must stay the same (tests/check-telemetry.sh compares the reports in
 * every format). */

#define SQL_CA   "COALESCE(NULLIF(issuer_dn, ''), '(no signer certificate)')"
#define SQL_TYPE "COALESCE(NULLIF(cert_type, ''), 'unclassified')"
#define SQL_GEN  "COALESCE(NULLIF(generation, ''), '-')"
#define SQL_PASS "CASE WHEN result = 'pass' THEN 1 ELSE 0 END"
#define SQL_ALL  "1 = 1"
#define SQL_CAA_ISSUEMAIL                                                                 \
    "CASE caa_issuemail WHEN 'issuemail' THEN 'issuemail published' "                     \
    "WHEN 'no-issuemail' THEN 'CAA without issuemail' WHEN 'no-caa' THEN 'no CAA' "       \
    "WHEN 'lookup-failed' THEN 'lookup failed' ELSE caa_issuemail END"
#define SQL_CAA_CA                                                                        \
    "CASE caa_ca WHEN 'authorized' THEN 'authorized' WHEN 'not-authorized' THEN "         \
    "'not authorized' WHEN 'ca-not-mapped' THEN 'CA not in the issuer map' "              \
    "WHEN 'unrestricted' THEN 'no issuemail (any CA)' WHEN 'lookup-failed' THEN "         \
    "'lookup failed' ELSE caa_ca END"

static const struct sql_part {
    int sec;
    const char *d0, *d1, *d2;   /* bucket dimensions, SQL over g (and f, e) */
    const char *id;             /* what is counted distinct: cert_id or sender_domain */
    const char *part;           /* 1 when the row answers the section's question yes */
    const char *from, *where;   /* gc for facts of certificates, g for signatures */
} sql_parts[] = {
    { SEC_OVERVIEW, "'all'", "''", "''", "cert_id", "0", "gc", SQL_ALL },
    { SEC_RESULTS, "result", "''", "''", "cert_id", "0", "g", SQL_ALL },
    { SEC_REASONS, "result", "COALESCE(NULLIF(reason, ''), '-')", "''", "cert_id", "0", "g",
      SQL_ALL },
    { SEC_CA, SQL_CA, "issuer_key_id", "''", "cert_id", SQL_PASS, "gc", SQL_ALL },
    { SEC_ROOT, "COALESCE(NULLIF(root_subject, ''), '(no trust anchor reached)')", "''", "''",
      "cert_id", SQL_PASS, "gc", SQL_ALL },
    { SEC_POLICY, "COALESCE(NULLIF(policy_oid, ''), '(none)')", "''", "''", "cert_id", "0", "gc",
      SQL_ALL },
    { SEC_TYPE_GEN, SQL_TYPE, SQL_GEN, "''", "cert_id", "0", "gc", SQL_ALL },
    { SEC_FINDINGS, "id", "''", "''", "cert_id", "0", "gc JOIN f USING (findings)", SQL_ALL },
    { SEC_FINDINGS_CA, SQL_CA, SQL_TYPE " || ' ' || " SQL_GEN, "id", "cert_id", "0",
      "gc JOIN f USING (findings)", SQL_ALL },
    { SEC_COMPLIANCE, SQL_CA, SQL_TYPE, SQL_GEN, "cert_id",
      "CASE WHEN e.any_error = 1 THEN 1 ELSE 0 END", "gc LEFT JOIN e USING (findings)",
      "generation <> ''" },
    { SEC_LEGACY_SUNSET, SQL_CA, "''", "''", "cert_id", "0", "gc JOIN e USING (findings)",
      "e.sunset = 1" },
    { SEC_NAMING_CN, SQL_TYPE, SQL_GEN, "''", "cert_id",
      "CASE WHEN cn_form = 'mailbox' AND name_attrs = '' THEN 1 ELSE 0 END", "gc",
      "cn_form <> '' AND cert_type IN ('sponsor', 'organization')" },
    { SEC_PSEUDONYM, SQL_TYPE, SQL_GEN, "''", "cert_id",
      "CASE WHEN replace(name_attrs, 'pseudonym', '') <> name_attrs THEN 1 ELSE 0 END", "gc",
      "cn_form <> '' AND generation <> ''" },
    { SEC_CN_FORMS, SQL_TYPE, "cn_form", "COALESCE(NULLIF(name_attrs, ''), '(none)')",
      "cert_id", "0", "gc", "cn_form <> ''" },
    { SEC_GEN_ISSUED, "not_before_month", SQL_GEN, "''", "cert_id", "0", "gc",
      "generation <> '' AND not_before_month <> ''" },
    { SEC_GEN_ISSUED, "not_before_month", "'(all)'", "''", "cert_id", "0", "gc",
      "generation <> '' AND not_before_month <> ''" },
    { SEC_GEN_SEEN, "month_seen", SQL_GEN, "''", "cert_id", "0", "g", "generation <> ''" },
    { SEC_GEN_SEEN, "month_seen", "'(all)'", "''", "cert_id", "0", "g", "generation <> ''" },
    { SEC_KEY, "COALESCE(NULLIF(key_alg, ''), 'unknown')", "''", "''", "cert_id", "0", "gc",
      SQL_ALL },
    { SEC_KEY_ISSUED, "not_before_month", "key_alg", "''", "cert_id", "0", "gc",
      "not_before_month <> '' AND key_alg <> ''" },
    { SEC_KEY_ISSUED, "not_before_month", "'(all)'", "''", "cert_id", "0", "gc",
      "not_before_month <> '' AND key_alg <> ''" },
    { SEC_DIGEST, "COALESCE(NULLIF(digest_alg, ''), 'unknown')", "''", "''", "cert_id", "0",
      "g", SQL_ALL },
    { SEC_SIGALG, "COALESCE(NULLIF(sig_alg, ''), 'unknown')", "''", "''", "cert_id", "0", "g",
      SQL_ALL },
    { SEC_VALIDITY, SQL_GEN, "validity", "''", "cert_id", "0", "gc", "key_alg <> ''" },
    { SEC_CLIENTS, "COALESCE(NULLIF(client_family, ''), 'unknown')", "''", "''", "cert_id", "0",
      "g", SQL_ALL },
    { SEC_SCOPE, "COALESCE(NULLIF(sbr_scope, ''), 'not linted')", "''", "''", "cert_id", "0",
      "gc", SQL_ALL },
    { SEC_CAA_DOMAINS, SQL_CAA_ISSUEMAIL, "''", "''", "sender_domain", "0", "g",
      "caa_issuemail <> ''" },
    { SEC_CAA_DOMAINS, "'(all)'", "''", "''", "sender_domain", "0", "g", "caa_issuemail <> ''" },
    { SEC_CAA_CA, SQL_CAA_CA, "''", "''", "sender_domain", "0", "g", "caa_issuemail <> ''" },
    { SEC_CAA_CA, "'(all)'", "''", "''", "sender_domain", "0", "g", "caa_issuemail <> ''" },
};

/* The period's roll-up by month (schema 6): the whole months of the period from
 * signature_monthly as they are, and the days of a partial first or last month
 * from signature_daily, summed by month; the two never hold the same month.  The
 * arguments are the period's first day, its first and last whole months
 * (YYYY-MM; the first after the last when there is none), its last day.  A day
 * is never above "YYYY-MM-99".  Each part of the daily table's OR is a range of
 * days, so that an open period scans none of them. */
#define SQL_PERIOD_ROLLUP                                                                   \
    "SELECT month AS month_seen, fact_id, domain_id, result, reason, digest_alg, sig_alg, "  \
    "client_family, caa_issuemail, caa_ca, n FROM signature_monthly "                      \
    "WHERE month >= '%2$s' AND month <= '%3$s' UNION ALL "                                 \
    "SELECT substr(day, 1, 7), fact_id, domain_id, result, reason, digest_alg, sig_alg, "   \
    "client_family, caa_issuemail, caa_ca, sum(n) FROM signature_daily "                   \
    "WHERE (day >= '%1$s' AND day <= '%4$s' AND day < '%2$s-01') "                          \
    "OR (day >= '%1$s' AND day <= '%4$s' AND day > '%3$s-99') "                             \
    "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"

/* The month after (step 1) or before (step -1) a YYYY-MM-DD day's month. */
static void month_step(const char *day, int step, char out[8])
{
    int y = atoi(day), m = atoi(day + 5) + step;
    if (m > 12) {
        y++;
        m = 1;
    } else if (m < 1) {
        y--;
        m = 12;
    }
    snprintf(out, 8, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
}

/* SQL_PERIOD_ROLLUP for rep's period (days checked by parse_day, so safe as
 * literals).  Returns 0, or -1 when out is too small. */
static int period_rollup_sql(const report *rep, char *out, size_t outlen)
{
    const char *since = rep->since[0] ? rep->since : "0000-00-00";
    const char *until = rep->until[0] ? rep->until : "9999-99-99";
    char first[8] = "0000-00", last[8] = "9999-99";
    if (rep->since[0]) {
        if (strcmp(since + 8, "01") == 0)
            memcpy(first, since, 7);
        else
            month_step(since, 1, first);
    }
    if (rep->until[0]) {
        int64_t t;
        char next[32];
        if (smime_time_parse(until, &t) < 0)
            return -1;
        smime_time_format(t + 86400, next, sizeof(next));
        if (strncmp(next + 8, "01", 2) == 0)   /* the month's last day */
            memcpy(last, until, 7);
        else
            month_step(until, -1, last);
    }
    int n = snprintf(out, outlen, SQL_PERIOD_ROLLUP, since, first, last, until);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* g: the period's signatures grouped by what the sections read (validity_bucket()
 * as a CASE), from the period's roll-up by month (%s: period_rollup_sql), joined
 * once with the two small tables of the texts. */
#define SQL_G                                                                               \
    "CREATE TEMP TABLE g AS SELECT x.month_seen, x.result, x.reason, "                     \
    "f.issuer_dn, f.issuer_key_id, f.root_subject, f.policy_oid, f.cert_type, f.generation, " \
    "f.findings, f.key_alg, x.digest_alg, x.sig_alg, CASE WHEN f.validity_days < 0 THEN "   \
    "'unknown' WHEN f.validity_days <= 398 THEN '0001-0398 days' WHEN f.validity_days <= 825 " \
    "THEN '0399-0825 days' WHEN f.validity_days <= 1185 THEN '0826-1185 days' ELSE "        \
    "'1186+ days' END AS validity, f.not_before_month, f.sbr_scope, x.client_family, "      \
    "d.sender_domain, f.cert_id, f.cn_form, f.name_attrs, x.caa_issuemail, x.caa_ca, x.n "  \
    "FROM (%s) x JOIN cert_facts f ON f.id = x.fact_id "                                    \
    "JOIN sender_domains d ON d.id = x.domain_id"
/* gc: g without what varies per signature, for the sections about certificates
 * (a fifth of g's rows or less): the result only as pass or not, the part that
 * SQL_PASS asks for.  %s is the count as summed (see count_sum below). */
#define SQL_GC                                                                              \
    "CREATE TEMP TABLE gc AS SELECT CASE WHEN result = 'pass' THEN 'pass' ELSE '' END "    \
    "AS result, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, " \
    "findings, key_alg, validity, not_before_month, sbr_scope, cert_id, cn_form, "          \
    "name_attrs, sum(%s) AS n FROM g GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "  \
    "14, 15"
/* f: each distinct findings list split into its IDs (duplicates kept, as
 * each_finding() does) */
#define SQL_F                                                                            \
    "CREATE TEMP TABLE f AS SELECT findings, id FROM (SELECT DISTINCT findings FROM g "     \
    "WHERE findings <> '') x, unnest(string_to_array(findings, ' ')) AS u(id) WHERE id <> ''"
#define SQL_E                                                                               \
    "CREATE TEMP TABLE e AS SELECT findings, max(CASE WHEN id IN (SELECT id FROM "          \
    "lint_error) THEN 1 ELSE 0 END) AS any_error, max(CASE WHEN id = 'CLS-LEGACY-SUNSET' "  \
    "THEN 1 ELSE 0 END) AS sunset FROM f GROUP BY findings"

typedef struct sql_ctx {
    report *rep;
    int sec;
    int bad;
} sql_ctx;

static int parse_u64(const char *v, uint64_t *out)
{
    if (!v) {            /* sum() over no rows */
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-')
        return -1;
    *out = n;
    return 0;
}

static int add_sql_bucket(const char *const *vals, int ncols, void *vctx)
{
    sql_ctx *c = vctx;
    tally *t = &c->rep->tallies[c->sec];
    uint64_t sigs, ids, psigs, pids;
    if (ncols != 7 || parse_u64(vals[3], &sigs) < 0 || parse_u64(vals[4], &ids) < 0 ||
        parse_u64(vals[5], &psigs) < 0 || parse_u64(vals[6], &pids) < 0) {
        c->bad = 1;
        return 1;
    }
    bucket *b = tally_add(t, vals[0], vals[1], vals[2]);
    if (!b)
        return 1;   /* t->failed is set */
    b->sigs = sigs;
    b->part_sigs = psigs;
    b->certs = ids;
    b->part_certs = pids;
    return 0;
}

/* The period's signatures (SELECT sum(n) FROM g), for count_sum. */
static int read_total(const char *const *vals, int ncols, void *vctx)
{
    uint64_t *total = vctx;
    if (ncols != 1 || parse_u64(vals[0], total) < 0)
        *total = UINT64_MAX;   /* unknown: the wide sums */
    return 0;
}

/* Fills rep's tallies with the server's buckets (PostgreSQL).  Returns 0, or -1. */
static int aggregate_on_server(smime_telemetry_sink *sink, report *rep, char *err, size_t errlen)
{
    char sql[8192];
    /* Session settings for one big read: no JIT compilation of the thirty-odd
     * small queries, and room for their hash tables. */
    static const char *const setup[] = { "SET jit = off", "SET work_mem = '256MB'" };
    for (size_t i = 0; i < sizeof(setup) / sizeof(setup[0]); i++)
        if (smime_telemetry_sink_sql(sink, setup[i], NULL, NULL, err, errlen) < 0)
            return -1;
    char period[1024];
    if (period_rollup_sql(rep, period, sizeof(period)) < 0) {
        smime_errf(err, errlen, "internal: the period's query is too long");
        return -1;
    }
    snprintf(sql, sizeof(sql), SQL_G, period);
    if (smime_telemetry_sink_sql(sink, sql, NULL, NULL, err, errlen) < 0)
        return -1;
    /* count_sum: PostgreSQL sums a BIGINT into a NUMERIC, which made the sections'
     * hash aggregations about twice as slow as summing an INTEGER into a BIGINT.
     * When the period holds fewer than 2^31 signatures, every count and every sum
     * of counts fits an INTEGER, so the sums run over INTEGER casts and stay
     * exact; a larger period keeps the wide sums. */
    const char *count_sum = "n", *sigs_sum = "s", *part_sum = "ps";
    uint64_t total = UINT64_MAX;
    if (smime_telemetry_sink_sql(sink, "SELECT sum(n) FROM g", read_total, &total, err,
                                 errlen) < 0)
        return -1;
    if (total <= INT32_MAX) {
        count_sum = "CAST(n AS INTEGER)";
        sigs_sum = "CAST(s AS INTEGER)";
        part_sum = "CAST(ps AS INTEGER)";
    }
    snprintf(sql, sizeof(sql), SQL_GC, count_sum);
    if (smime_telemetry_sink_sql(sink, sql, NULL, NULL, err, errlen) < 0 ||
        smime_telemetry_sink_sql(sink, SQL_F, NULL, NULL, err, errlen) < 0 ||
        smime_telemetry_sink_sql(sink, "CREATE TEMP TABLE lint_error (id TEXT PRIMARY KEY)", NULL,
                                 NULL, err, errlen) < 0)
        return -1;
    /* the catalogue's error-severity IDs, which only this program knows */
    size_t nlints = 0;
    const smime_lint_def *lints = smime_lint_table(&nlints);
    smime_buf ins;
    smime_buf_init(&ins, 1u << 20);
    smime_buf_puts(&ins, "INSERT INTO lint_error (id) VALUES ");
    int any = 0;
    for (size_t i = 0; i < nlints; i++) {
        if (lints[i].severity != SMIME_SEV_ERROR)
            continue;
        smime_buf_puts(&ins, any ? ",('" : "('");
        for (const char *p = lints[i].id; *p; p++)
            smime_buf_printf(&ins, *p == '\'' ? "''" : "%c", *p);
        smime_buf_puts(&ins, "')");
        any = 1;
    }
    smime_buf_putc(&ins, '\0');
    int rc = 0;
    if (ins.overflow) {
        smime_errf(err, errlen, "the lint catalogue is too large for one statement");
        rc = -1;
    } else if (any) {
        rc = smime_telemetry_sink_sql(sink, ins.data, NULL, NULL, err, errlen);
    }
    smime_buf_free(&ins);
    if (rc < 0 || smime_telemetry_sink_sql(sink, SQL_E, NULL, NULL, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(sql_parts) / sizeof(sql_parts[0]); i++) {
        const struct sql_part *q = &sql_parts[i];
        /* per bucket and id first (hash aggregation, no DISTINCT sort), then per
         * bucket: the ids are the rows with a non-empty id, the part's ids those
         * of them with a yes on any row */
        int n = snprintf(sql, sizeof(sql),
                         "SELECT d0, d1, d2, sum(%s), sum(CASE WHEN c <> '' THEN 1 ELSE 0 END), "
                         "sum(%s), sum(CASE WHEN c <> '' AND pc = 1 THEN 1 ELSE 0 END) FROM ("
                         "SELECT d0, d1, d2, c, sum(%s) AS s, sum(p * %s) AS ps, max(p) AS pc "
                         "FROM (SELECT (%s) AS d0, (%s) AS d1, (%s) AS d2, %s AS c, (%s) AS p, n "
                         "FROM %s WHERE %s) y GROUP BY d0, d1, d2, c) x GROUP BY d0, d1, d2",
                         sigs_sum, part_sum, count_sum, count_sum, q->d0, q->d1, q->d2, q->id,
                         q->part, q->from, q->where);
        if (n < 0 || (size_t)n >= sizeof(sql)) {
            smime_errf(err, errlen, "internal: section query too long");
            return -1;
        }
        sql_ctx c = { rep, q->sec, 0 };
        if (smime_telemetry_sink_sql(sink, sql, add_sql_bucket, &c, err, errlen) < 0)
            return -1;
        if (c.bad) {
            smime_errf(err, errlen, "%s: the server returned a malformed count",
                       sections[q->sec].name);
            return -1;
        }
    }
    return 0;
}

/* ---- SQLite: the roll-up, counted here --------------------------------------
 *
 * SQLite answers each of the section queries above with a sort of its own (some
 * 0.5 s apiece over a million records), so a SQLite report asks once for the
 * period's roll-up grouped by month, joined with the text tables, and counts
 * those rows here with add_record(), the code --compute client uses: the records
 * as the roll-up keeps them, each with its count.  Columns are in the order of
 * smime_telemetry_columns (the day is its month: add_record reads only that;
 * scope_flags is not in the roll-up and not read), then the count. */
#define SQL_ROLLUP_RECORDS                                                                  \
    "SELECT x.month_seen, x.result, x.reason, f.issuer_dn, f.issuer_key_id, "              \
    "f.root_subject, f.policy_oid, f.cert_type, f.generation, f.findings, f.key_alg, "     \
    "x.digest_alg, x.sig_alg, f.validity_days, f.not_before_month, f.sbr_scope, 0, "       \
    "x.client_family, d.sender_domain, f.cert_id, f.cn_form, f.name_attrs, x.caa_issuemail, " \
    "x.caa_ca, x.n FROM (%s) x JOIN cert_facts f ON f.id = x.fact_id "                      \
    "JOIN sender_domains d ON d.id = x.domain_id"

typedef struct rollup_ctx {
    report *rep;
    int bad;   /* a malformed row */
} rollup_ctx;

static int add_rollup_row(const char *const *vals, int ncols, void *vctx)
{
    rollup_ctx *c = vctx;
    smime_telemetry_record rec;
    uint64_t n;
    if (ncols != SMIME_TELEMETRY_NCOLS + 1 || smime_telemetry_record_parse(vals, &rec) < 0 ||
        parse_u64(vals[SMIME_TELEMETRY_NCOLS], &n) < 0) {
        c->bad = 1;
        return 1;
    }
    return add_record(&rec, n, c->rep);
}

/* Fills rep's tallies from a SQLite database's roll-up.  Returns 0, or -1. */
static int count_rollup(smime_telemetry_sink *sink, report *rep, char *err, size_t errlen)
{
    /* the grouping's sorter in memory, not in a temporary file */
    if (smime_telemetry_sink_sql(sink, "PRAGMA temp_store = MEMORY", NULL, NULL, err, errlen) < 0)
        return -1;
    char sql[4096];
    char period[1024];
    if (period_rollup_sql(rep, period, sizeof(period)) < 0) {
        smime_errf(err, errlen, "internal: the period's query is too long");
        return -1;
    }
    snprintf(sql, sizeof(sql), SQL_ROLLUP_RECORDS, period);
    rollup_ctx c = { rep, 0 };
    if (smime_telemetry_sink_sql(sink, sql, add_rollup_row, &c, err, errlen) < 0)
        return -1;
    if (c.bad) {
        smime_errf(err, errlen, "the roll-up returned a malformed row");
        return -1;
    }
    return 0;
}

static uint64_t main_count(int s, const bucket *b)
{
    return sections[s].unit != PER_SIG && b->certs ? b->certs : b->sigs;
}

static int cmp_count_desc_s(const bucket *x, const bucket *y, int s)
{
    uint64_t a = main_count(s, x), b = main_count(s, y);
    if (a != b)
        return a > b ? -1 : 1;
    if (x->sigs != y->sigs)
        return x->sigs > y->sigs ? -1 : 1;
    return cmp_dims(x, y);
}

static int sort_section;   /* qsort has no context argument; the sort is single-threaded */
static int cmp_count_desc(const void *a, const void *b)
{
    return cmp_count_desc_s(a, b, sort_section);
}
static int cmp_key_then_count(const void *a, const void *b)
{
    const bucket *x = a, *y = b;
    int c = strcmp(x->dim[0], y->dim[0]);
    return c ? c : cmp_count_desc_s(x, y, sort_section);
}
static int cmp_key(const void *a, const void *b)
{
    return cmp_dims(a, b);
}

/* A count shown next to a total must not reveal a small bucket: shown only when
 * the part and the rest are each 0 or at least K. */
static int share_shown(uint64_t part, uint64_t whole, uint64_t k)
{
    uint64_t rest = whole - part;
    return (part == 0 || part >= k) && (rest == 0 || rest >= k);
}

/* Drops buckets below K: fewer than K signatures, or fewer than K distinct
 * certificates where certificates are known (one busy signer must not make a
 * bucket of its own).  Hides a part that would reveal a small number, and orders
 * the section.  Also used after a merge. */
static void finish_report(report *rep)
{
    uint64_t k = rep->min_count;
    for (int s = 0; s < SEC_COUNT; s++) {
        tally *t = &rep->tallies[s];
        tally_end_counting(t);
        size_t o = 0;
        for (size_t i = 0; i < t->n; i++) {
            bucket *b = &t->items[i];
            if (b->sigs < k || (b->certs > 0 && b->certs < k)) {
                t->suppressed++;
                bucket_free(b);
                continue;
            }
            if (b->part_known)
                b->part_known = b->certs ? share_shown(b->part_certs, b->certs, k) &&
                                               share_shown(b->part_sigs, b->sigs, k)
                                         : share_shown(b->part_sigs, b->sigs, k);
            if (!b->part_known)
                b->part_sigs = b->part_certs = 0;
            t->items[o++] = *b;
        }
        t->n = o;
        sort_section = s;
        if (t->n > 1)   /* items is NULL for a section that never had a bucket */
            qsort(t->items, t->n, sizeof(bucket),
                  sections[s].order == BY_COUNT ? cmp_count_desc
                  : sections[s].order == BY_KEY_THEN_COUNT ? cmp_key_then_count : cmp_key);
        if (s == SEC_FINDINGS_CA) {   /* the top few per CA */
            size_t keep = 0, run = 0;
            for (size_t i = 0; i < t->n; i++) {
                run = (keep > 0 && strcmp(t->items[i].dim[0], t->items[keep - 1].dim[0]) == 0)
                          ? run + 1 : 0;
                if (run < FINDINGS_PER_CA)
                    t->items[keep++] = t->items[i];
                else
                    bucket_free(&t->items[i]);
            }
            t->n = keep;
        }
    }
}

/* The overview bucket ("all"), or NULL when it was suppressed. */
static const bucket *overview(const report *rep)
{
    const tally *t = &rep->tallies[SEC_OVERVIEW];
    return t->n ? &t->items[0] : NULL;
}

/* The share a bucket's main count is of: its part when the section asks a
 * question, else of the month's "(all)" row for series, else of the totals.
 * Returns -1 when it cannot be shown. */
static double share_of(const report *rep, int s, const bucket *b)
{
    const struct section_def *d = &sections[s];
    int certs = d->unit != PER_SIG && b->certs > 0;
    if (d->part_label) {
        if (!b->part_known)
            return -1;
        return certs ? (double)b->part_certs / (double)b->certs
                     : (double)b->part_sigs / (double)b->sigs;
    }
    uint64_t whole = 0;
    if (d->unit == PER_DOMAIN) {   /* of the section's own (all) row */
        const tally *t = &rep->tallies[s];
        for (size_t i = 0; i < t->n; i++)
            if (strcmp(t->items[i].dim[0], "(all)") == 0)
                whole = certs ? t->items[i].certs : t->items[i].sigs;
    } else if (d->series) {
        const tally *t = &rep->tallies[s];
        for (size_t i = 0; i < t->n; i++)
            if (strcmp(t->items[i].dim[0], b->dim[0]) == 0 &&
                strcmp(t->items[i].dim[1], "(all)") == 0)
                whole = certs ? t->items[i].certs : t->items[i].sigs;
    } else {
        const bucket *all = overview(rep);
        if (all)
            whole = certs ? all->certs : all->sigs;
    }
    uint64_t part = certs ? b->certs : b->sigs;
    if (whole == 0 || part > whole || !share_shown(part, whole, rep->min_count))
        return -1;
    return (double)part / (double)whole;
}

static void share_text(double v, char *out, size_t n)
{
    if (v < 0)
        snprintf(out, n, "suppressed");
    else
        snprintf(out, n, "%.1f%%", 100.0 * v);
}

/* ---- cells ------------------------------------------------------------------ */

/* Copies s for a terminal or a spreadsheet: C0 and C1 control characters (a C1
 * CSI in UTF-8 is still an escape for some terminals) and bytes that are not
 * UTF-8 become '?'; cut at max bytes with "...". */
static void clean_cell(const char *s, char *out, size_t outlen, size_t max)
{
    size_t o = 0, len = strlen(s);
    for (size_t i = 0; i < len && o + 1 < outlen;) {
        uint32_t cp;
        size_t n = smime_utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            out[o++] = '?';
            i += n ? n : 1;
            continue;
        }
        if (o + n >= outlen)
            break;
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    if (o > max && max >= 3 && max < outlen) {
        size_t cut = max - 3;
        while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
            cut--;   /* never split a UTF-8 sequence */
        memcpy(out + cut, "...", 4);
    }
}

/* The columns of a section as rendered: dimensions, the catalogue's facts about a
 * finding, counts, part, share. */
#define COLS_MAX 12
typedef struct row_cells {
    int  n;
    const char *label[COLS_MAX];
    char value[COLS_MAX][SMIME_TEXT_MAX];
    int  numeric[COLS_MAX];
} row_cells;

static void cells_of(const report *rep, int s, const bucket *b, row_cells *c)
{
    const struct section_def *d = &sections[s];
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < d->ndims; i++) {
        c->label[c->n] = d->dim[i];
        if (b)
            snprintf(c->value[c->n], sizeof(c->value[0]), "%s", b->dim[i]);
        c->n++;
        if (d->finding_dim == i + 1) {
            const smime_lint_def *def = b ? lint_def_of(b->dim[i]) : NULL;
            c->label[c->n] = "SBR section";
            snprintf(c->value[c->n++], sizeof(c->value[0]), "%s", def ? def->section : "");
            c->label[c->n] = "severity";
            snprintf(c->value[c->n++], sizeof(c->value[0]), "%s",
                     def ? smime_lint_severity_name(def->severity) : "");
            c->label[c->n] = "requirement";
            snprintf(c->value[c->n++], sizeof(c->value[0]), "%s", def ? def->description : "");
        }
    }
    c->label[c->n] = "signatures";
    c->numeric[c->n] = 1;
    if (b)
        snprintf(c->value[c->n], sizeof(c->value[0]), "%llu", (unsigned long long)b->sigs);
    c->n++;
    c->label[c->n] = d->unit == PER_DOMAIN ? "sender domains" : "certificates";
    c->numeric[c->n] = 1;
    if (b)
        snprintf(c->value[c->n], sizeof(c->value[0]), "%llu", (unsigned long long)b->certs);
    c->n++;
    if (d->part_label) {
        c->label[c->n] = d->part_label;
        c->numeric[c->n] = 1;
        if (b && b->part_known)
            snprintf(c->value[c->n], sizeof(c->value[0]), "%llu",
                     (unsigned long long)(d->unit != PER_SIG && b->certs ? b->part_certs
                                                                          : b->part_sigs));
        else if (b)
            snprintf(c->value[c->n], sizeof(c->value[0]), "suppressed");
        c->n++;
    }
    c->label[c->n] = "share";
    c->numeric[c->n] = 1;
    if (b)
        share_text(share_of(rep, s, b), c->value[c->n], sizeof(c->value[0]));
    c->n++;
}

static void period_text(const report *rep, char *out, size_t n)
{
    if (rep->since[0] && rep->until[0])
        snprintf(out, n, "%s to %s", rep->since, rep->until);
    else if (rep->since[0])
        snprintf(out, n, "from %s", rep->since);
    else if (rep->until[0])
        snprintf(out, n, "until %s", rep->until);
    else
        snprintf(out, n, "all stored days");
}

static void totals_text(const report *rep, char *out, size_t n)
{
    const bucket *all = overview(rep);
    if (all)
        snprintf(out, n, "%llu signatures from %llu distinct certificates",
                 (unsigned long long)all->sigs, (unsigned long long)all->certs);
    else
        snprintf(out, n, "fewer than %llu signatures or certificates",
                 (unsigned long long)rep->min_count);
}

/* ---- output: text ----------------------------------------------------------- */

static void render_text(const report *rep, smime_buf *out)
{
    char buf[256];
    smime_buf_printf(out, "S/MIME relying-party telemetry\n");
    period_text(rep, buf, sizeof(buf));
    smime_buf_printf(out, "period: %s\n", buf);
    const bucket *all = overview(rep);
    if (all) {
        smime_buf_printf(out, "signatures: %llu\n", (unsigned long long)all->sigs);
        smime_buf_printf(out, "certificates: %llu\n", (unsigned long long)all->certs);
    } else {
        smime_buf_printf(out, "signatures: fewer than %llu\n", (unsigned long long)rep->min_count);
    }
    smime_buf_printf(out, "reporter: %s; software: %s; lint catalogue: %s; generated: %s%s\n",
                     or_label(rep->reporter, "(not given)"), rep->software, rep->catalogue,
                     rep->generated_at, rep->ninputs ? "" : "");
    if (rep->ninputs)
        smime_buf_printf(out, "merged from %zu exports\n", rep->ninputs);
    smime_buf_printf(out, "buckets with fewer than %llu signatures or distinct certificates are "
                          "suppressed\n", (unsigned long long)rep->min_count);
    for (int s = 1; s < SEC_COUNT; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        smime_buf_printf(out, "\n%s\n", d->title);
        for (size_t i = 0; d->title[i]; i++)
            smime_buf_putc(out, '-');
        smime_buf_printf(out, "\n%s\n", d->explain);
        row_cells head, c;
        cells_of(rep, s, NULL, &head);
        size_t w[COLS_MAX];
        for (int i = 0; i < head.n; i++)
            w[i] = strlen(head.label[i]);
        char cell[CELL_TEXT_MAX * 4 + 8];
        for (size_t r = 0; r < t->n; r++) {
            cells_of(rep, s, &t->items[r], &c);
            for (int i = 0; i < c.n; i++) {
                clean_cell(c.value[i], cell, sizeof(cell), CELL_TEXT_MAX);
                if (strlen(cell) > w[i])
                    w[i] = strlen(cell);
            }
        }
        for (int i = 0; i < head.n; i++)
            smime_buf_printf(out, head.numeric[i] ? "  %*s" : "  %-*s", (int)w[i], head.label[i]);
        smime_buf_putc(out, '\n');
        for (size_t r = 0; r < t->n; r++) {
            cells_of(rep, s, &t->items[r], &c);
            for (int i = 0; i < c.n; i++) {
                clean_cell(c.value[i], cell, sizeof(cell), CELL_TEXT_MAX);
                smime_buf_printf(out, c.numeric[i] ? "  %*s" : "  %-*s", (int)w[i], cell);
            }
            smime_buf_putc(out, '\n');
        }
        if (t->n == 0)
            smime_buf_printf(out, "  (no bucket of %llu or more)\n",
                             (unsigned long long)rep->min_count);
        if (t->suppressed)
            smime_buf_printf(out, "  %zu bucket(s) below %llu suppressed\n", t->suppressed,
                             (unsigned long long)rep->min_count);
    }
}

/* ---- output: CSV ------------------------------------------------------------ */

/* RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading
 * apostrophe, because certificate names are chosen by whoever made them. */
static void csv_cell(smime_buf *out, const char *s)
{
    char clean[SMIME_TEXT_MAX * 2];
    clean_cell(s, clean, sizeof(clean), sizeof(clean) - 1);
    smime_buf_putc(out, '"');
    if (*clean == '=' || *clean == '+' || *clean == '-' || *clean == '@')
        smime_buf_putc(out, '\'');
    for (const char *p = clean; *p; p++) {
        if (*p == '"')
            smime_buf_puts(out, "\"\"");
        else
            smime_buf_putc(out, *p);
    }
    smime_buf_putc(out, '"');
}

/* One row per bucket: section, dim1..3, signatures, certificates, part, share. */
static void render_csv(const report *rep, smime_buf *out)
{
    smime_buf_puts(out, "section,dim1,dim2,dim3,signatures,certificates,part,share\r\n");
    char buf[256];
    period_text(rep, buf, sizeof(buf));
    smime_buf_puts(out, "\"provenance\",\"period\",");
    csv_cell(out, buf);
    smime_buf_puts(out, ",\"\",,,,\r\n\"provenance\",\"reporter\",");
    csv_cell(out, rep->reporter);
    smime_buf_printf(out, ",\"\",,,,\r\n\"provenance\",\"software\",\"%s\",\"\",,,,\r\n",
                     rep->software);
    smime_buf_printf(out, "\"provenance\",\"lint_catalogue\",\"%s\",\"\",,,,\r\n", rep->catalogue);
    smime_buf_printf(out, "\"provenance\",\"generated_at\",\"%s\",\"\",,,,\r\n", rep->generated_at);
    smime_buf_printf(out, "\"provenance\",\"min_count\",\"%llu\",\"\",,,,\r\n",
                     (unsigned long long)rep->min_count);
    for (int s = 0; s < SEC_COUNT; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        for (size_t i = 0; i < t->n; i++) {
            const bucket *b = &t->items[i];
            csv_cell(out, d->name);
            for (int k = 0; k < DIMS_MAX; k++) {
                smime_buf_putc(out, ',');
                csv_cell(out, b->dim[k]);
            }
            smime_buf_printf(out, ",%llu,%llu,", (unsigned long long)b->sigs,
                             (unsigned long long)b->certs);
            if (d->part_label && b->part_known)
                smime_buf_printf(out, "%llu", (unsigned long long)(d->unit != PER_SIG && b->certs
                                                                      ? b->part_certs : b->part_sigs));
            double v = share_of(rep, s, b);
            if (v >= 0)
                smime_buf_printf(out, ",%.4f\r\n", v);
            else
                smime_buf_puts(out, ",\r\n");
        }
        if (t->suppressed) {
            csv_cell(out, d->name);
            smime_buf_printf(out, ",\"(suppressed buckets)\",\"%zu\",\"below %llu\",,,,\r\n",
                             t->suppressed, (unsigned long long)rep->min_count);
        }
    }
}

/* ---- output: JSON (report and export) ---------------------------------------- */

#define EXPORT_FORMAT  "smime-telemetry-export"
#define EXPORT_VERSION 1
#define SOFTWARE_NAME  "smime-milter 0.1.0"   /* as smime-milter -V */

/* Certificate text as a JSON string: always valid UTF-8 without controls. */
static json_t *json_clean_string(const char *s)
{
    char clean[SMIME_TEXT_MAX * 2];
    clean_cell(s, clean, sizeof(clean), sizeof(clean) - 1);
    return json_string(clean);
}

static int json_put(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(obj, key, v) < 0)
        *bad = 1;
    return 0;
}

/* The document both `report --format json` and `export` write (doc/
 * smime-telemetry-export.schema.json): provenance, then per section its buckets
 * with numbers as numbers; a suppressed part is null.  Only buckets that passed
 * suppression are in it. */
static json_t *report_to_json(const report *rep)
{
    int bad = 0;
    json_t *root = json_object(), *prov = json_object(), *period = json_object();
    json_t *secs = json_array();
    if (!root || !prov || !period || !secs) {
        json_decref(root); json_decref(prov); json_decref(period); json_decref(secs);
        return NULL;
    }
    json_put(root, "format", json_string(EXPORT_FORMAT), &bad);
    json_put(root, "version", json_integer(EXPORT_VERSION), &bad);
    json_put(prov, "reporter", rep->reporter[0] ? json_string(rep->reporter) : json_null(), &bad);
    json_put(prov, "software", json_string(rep->software), &bad);
    json_put(prov, "lint_catalogue", json_string(rep->catalogue), &bad);
    json_put(period, "since", rep->since[0] ? json_string(rep->since) : json_null(), &bad);
    json_put(period, "until", rep->until[0] ? json_string(rep->until) : json_null(), &bad);
    json_put(prov, "period", period, &bad);
    json_put(prov, "min_count", json_integer((json_int_t)rep->min_count), &bad);
    json_put(prov, "generated_at", json_string(rep->generated_at), &bad);
    json_put(prov, "merged_inputs", json_integer((json_int_t)rep->ninputs), &bad);
    json_put(root, "provenance", prov, &bad);
    const bucket *all = overview(rep);
    json_put(root, "signatures", all ? json_integer((json_int_t)all->sigs) : json_null(), &bad);
    json_put(root, "certificates", all ? json_integer((json_int_t)all->certs) : json_null(), &bad);
    for (int s = 0; s < SEC_COUNT && !bad; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        json_t *sec = json_object(), *dims = json_array(), *rows = json_array();
        if (!sec || !dims || !rows) {
            json_decref(sec); json_decref(dims); json_decref(rows);
            bad = 1;
            break;
        }
        json_put(sec, "name", json_string(d->name), &bad);
        json_put(sec, "title", json_string(d->title), &bad);
        json_put(sec, "unit", json_string(d->unit == PER_CERT     ? "certificates"
                                          : d->unit == PER_DOMAIN ? "sender domains"
                                                                  : "signatures"),
                 &bad);
        for (int k = 0; k < d->ndims; k++)
            if (json_array_append_new(dims, json_string(d->dim[k])) < 0)
                bad = 1;
        json_put(sec, "dimensions", dims, &bad);
        json_put(sec, "part", d->part_label ? json_string(d->part_label) : json_null(), &bad);
        for (size_t i = 0; i < t->n && !bad; i++) {
            const bucket *b = &t->items[i];
            json_t *row = json_object(), *key = json_array();
            if (!row || !key) {
                json_decref(row); json_decref(key);
                bad = 1;
                break;
            }
            for (int k = 0; k < d->ndims; k++)
                if (json_array_append_new(key, json_clean_string(b->dim[k])) < 0)
                    bad = 1;
            json_put(row, "key", key, &bad);
            json_put(row, "signatures", json_integer((json_int_t)b->sigs), &bad);
            json_put(row, "certificates", json_integer((json_int_t)b->certs), &bad);
            if (d->part_label) {
                json_put(row, "part_signatures",
                         b->part_known ? json_integer((json_int_t)b->part_sigs) : json_null(), &bad);
                json_put(row, "part_certificates",
                         b->part_known ? json_integer((json_int_t)b->part_certs) : json_null(), &bad);
            }
            double v = share_of(rep, s, b);
            json_put(row, "share", v >= 0 ? json_real(v) : json_null(), &bad);
            if (d->finding_dim) {
                const smime_lint_def *def = lint_def_of(b->dim[d->finding_dim - 1]);
                json_put(row, "sbr_section", def ? json_string(def->section) : json_null(), &bad);
                json_put(row, "severity",
                         def ? json_string(smime_lint_severity_name(def->severity)) : json_null(),
                         &bad);
                json_put(row, "requirement", def ? json_string(def->description) : json_null(),
                         &bad);
            }
            if (json_array_append_new(rows, row) < 0)
                bad = 1;
        }
        json_put(sec, "rows", rows, &bad);
        json_put(sec, "suppressed_buckets", json_integer((json_int_t)t->suppressed), &bad);
        if (json_array_append_new(secs, sec) < 0)
            bad = 1;
    }
    json_put(root, "sections", secs, &bad);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int render_json(const report *rep, smime_buf *out)
{
    json_t *doc = report_to_json(rep);
    if (!doc)
        return -1;
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(6) | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!text)
        return -1;
    smime_buf_puts(out, text);
    smime_buf_putc(out, '\n');
    free(text);
    return 0;
}

/* ---- reading exports, and merging them ---------------------------------------- */

#define EXPORT_FILE_MAX (64u << 20)
#define MERGE_INPUTS_MAX 256

static int section_by_name(const char *name)
{
    for (int s = 0; s < SEC_COUNT; s++)
        if (strcmp(sections[s].name, name) == 0)
            return s;
    return -1;
}

static int get_count(json_t *row, const char *key, uint64_t *out, int *is_null)
{
    json_t *v = json_object_get(row, key);
    *is_null = 0;
    if (v && json_is_null(v) && is_null) {
        *is_null = 1;
        *out = 0;
        return 0;
    }
    if (!v || !json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static void copy_str(char *dst, size_t n, json_t *v)
{
    snprintf(dst, n, "%s", v && json_is_string(v) ? json_string_value(v) : "");
}

/* Reads one export into rep's tallies (appending: a merge calls it per input).
 * Fills rep's provenance only when `first`.  Returns 0, or -1 with err. */
static int import_export(const char *path, report *rep, uint64_t *min_count, char *err,
                         size_t errlen)
{
    smime_buf b;
    smime_buf_init(&b, EXPORT_FILE_MAX);
    if (smime_buf_read_file(&b, path, 0) < 0) {
        snprintf(err, errlen, "%s: %s", path, errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
        smime_buf_free(&b);
        return -1;
    }
    json_error_t je;
    json_t *doc = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &je);
    smime_buf_free(&b);
    if (!doc) {
        snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return -1;
    }
    int rc = -1;
    json_t *prov = json_object_get(doc, "provenance");
    json_t *secs = json_object_get(doc, "sections");
    json_t *fmt = json_object_get(doc, "format"), *ver = json_object_get(doc, "version");
    if (!fmt || !json_is_string(fmt) || strcmp(json_string_value(fmt), EXPORT_FORMAT) != 0 ||
        !ver || !json_is_integer(ver)) {
        snprintf(err, errlen, "%s: not an %s document", path, EXPORT_FORMAT);
        goto out;
    }
    if (json_integer_value(ver) != EXPORT_VERSION) {
        snprintf(err, errlen, "%s: export version %lld; this program reads version %d", path,
                 (long long)json_integer_value(ver), EXPORT_VERSION);
        goto out;
    }
    if (!json_is_object(prov) || !json_is_array(secs)) {
        snprintf(err, errlen, "%s: no provenance or no sections", path);
        goto out;
    }
    json_t *k = json_object_get(prov, "min_count");
    if (!k || !json_is_integer(k) || json_integer_value(k) < 1) {
        snprintf(err, errlen, "%s: provenance.min_count is not a positive number", path);
        goto out;
    }
    *min_count = (uint64_t)json_integer_value(k);
    if (rep->ninputs == 0) {
        copy_str(rep->reporter, sizeof(rep->reporter), json_object_get(prov, "reporter"));
        copy_str(rep->software, sizeof(rep->software), json_object_get(prov, "software"));
        copy_str(rep->catalogue, sizeof(rep->catalogue), json_object_get(prov, "lint_catalogue"));
        copy_str(rep->generated_at, sizeof(rep->generated_at), json_object_get(prov, "generated_at"));
    }
    json_t *period = json_object_get(prov, "period");
    char since[16] = "", until[16] = "";
    copy_str(since, sizeof(since), json_object_get(period, "since"));
    copy_str(until, sizeof(until), json_object_get(period, "until"));
    if (rep->ninputs == 0) {
        snprintf(rep->since, sizeof(rep->since), "%.10s", since);
        snprintf(rep->until, sizeof(rep->until), "%.10s", until);
    } else {
        /* the merged period covers every input; an open end stays open */
        if (!since[0] || (rep->since[0] && strcmp(since, rep->since) < 0))
            snprintf(rep->since, sizeof(rep->since), "%.10s", since);
        if (!until[0] || (rep->until[0] && strcmp(until, rep->until) > 0))
            snprintf(rep->until, sizeof(rep->until), "%.10s", until);
    }
    size_t si;
    json_t *sec;
    json_array_foreach(secs, si, sec) {
        json_t *name = json_object_get(sec, "name"), *rows = json_object_get(sec, "rows");
        int s = name && json_is_string(name) ? section_by_name(json_string_value(name)) : -1;
        if (s < 0)
            continue;   /* a section of a newer program: not ours to render */
        if (!json_is_array(rows)) {
            snprintf(err, errlen, "%s: section %s has no rows", path, sections[s].name);
            goto out;
        }
        json_t *sup = json_object_get(sec, "suppressed_buckets");
        if (sup && json_is_integer(sup) && json_integer_value(sup) > 0)
            rep->tallies[s].suppressed += (size_t)json_integer_value(sup);
        size_t ri;
        json_t *row;
        json_array_foreach(rows, ri, row) {
            json_t *key = json_object_get(row, "key");
            if (!json_is_array(key) || json_array_size(key) != (size_t)sections[s].ndims) {
                snprintf(err, errlen, "%s: section %s: a row's key has not %d values", path,
                         sections[s].name, sections[s].ndims);
                goto out;
            }
            const char *d[DIMS_MAX] = { "", "", "" };
            for (int i = 0; i < sections[s].ndims; i++) {
                json_t *v = json_array_get(key, (size_t)i);
                if (!json_is_string(v)) {
                    snprintf(err, errlen, "%s: section %s: a key value is not a string", path,
                             sections[s].name);
                    goto out;
                }
                d[i] = json_string_value(v);
            }
            uint64_t sigs, certs, psigs = 0, pcerts = 0;
            int null1 = 0, null2 = 0, dummy;
            if (get_count(row, "signatures", &sigs, &dummy) < 0 ||
                get_count(row, "certificates", &certs, &dummy) < 0 ||
                (sections[s].part_label &&
                 (get_count(row, "part_signatures", &psigs, &null1) < 0 ||
                  get_count(row, "part_certificates", &pcerts, &null2) < 0)) ||
                psigs > sigs || pcerts > certs) {
                snprintf(err, errlen, "%s: section %s: a row's counts are not valid", path,
                         sections[s].name);
                goto out;
            }
            bucket *nb = tally_add(&rep->tallies[s], d[0], d[1], d[2]);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory or more than %u buckets", path, TALLY_MAX);
                goto out;
            }
            nb->sigs = sigs;
            nb->part_sigs = psigs;
            nb->certs = certs;
            nb->part_certs = pcerts;
            nb->part_known = sections[s].part_label ? !(null1 || null2) : 1;
        }
    }
    rep->ninputs++;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

/* Sums buckets of equal dimensions from several inputs.  Distinct certificates
 * add up: each relying party keys its ids with its own secret, so one
 * certificate seen by two of them counts twice (an upper bound, documented).  A
 * part one input did not show stays unknown in the sum. */
static void tally_sum(tally *t)
{
    if (t->n == 0)
        return;
    qsort(t->items, t->n, sizeof(bucket), cmp_key);
    size_t o = 0;
    for (size_t i = 0; i < t->n; i++) {
        bucket *e = &t->items[i];
        if (o > 0 && cmp_dims(&t->items[o - 1], e) == 0) {
            bucket *b = &t->items[o - 1];
            b->sigs += e->sigs;
            b->certs += e->certs;
            b->part_sigs += e->part_sigs;
            b->part_certs += e->part_certs;
            b->part_known &= e->part_known;
            bucket_free(e);
        } else {
            t->items[o++] = *e;
        }
    }
    t->n = o;
}

/* ---- output: HTML ----------------------------------------------------------- */

static void html_text(smime_buf *out, const char *s)
{
    char clean[SMIME_TEXT_MAX * 2];
    clean_cell(s, clean, sizeof(clean), sizeof(clean) - 1);
    for (const char *p = clean; *p; p++) {
        switch (*p) {
        case '<': smime_buf_puts(out, "&lt;"); break;
        case '>': smime_buf_puts(out, "&gt;"); break;
        case '&': smime_buf_puts(out, "&amp;"); break;
        case '"': smime_buf_puts(out, "&quot;"); break;
        case '\'': smime_buf_puts(out, "&#39;"); break;
        default: smime_buf_putc(out, *p);
        }
    }
}

static const char *const line_colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                            "#ff7f0e", "#17becf" };
#define LINES_MAX 6
#define MONTHS_MAX 240

/* A line chart of a monthly series section: one line per category (the most
 * common LINES_MAX), the share of the month's distinct certificates; a month
 * whose share is suppressed breaks the line.  Inline SVG, scaled to the width. */
static void html_line_chart(const report *rep, int s, smime_buf *out)
{
    const tally *t = &rep->tallies[s];
    const char *months[MONTHS_MAX];
    size_t nm = 0;
    for (size_t i = 0; i < t->n && nm < MONTHS_MAX; i++)
        if (nm == 0 || strcmp(months[nm - 1], t->items[i].dim[0]) != 0)
            months[nm++] = t->items[i].dim[0];   /* sorted by key: months in order */
    const char *cats[LINES_MAX];
    uint64_t cat_total[LINES_MAX];
    size_t nc = 0;
    /* the categories with the most certificates over all months */
    for (size_t pass = 0; pass < LINES_MAX; pass++) {
        const char *best = NULL;
        uint64_t best_n = 0;
        for (size_t i = 0; i < t->n; i++) {
            const char *c = t->items[i].dim[1];
            if (strcmp(c, "(all)") == 0)
                continue;
            int taken = 0;
            for (size_t j = 0; j < nc; j++)
                taken |= strcmp(cats[j], c) == 0;
            if (taken)
                continue;
            uint64_t sum = 0;
            for (size_t j = 0; j < t->n; j++)
                if (strcmp(t->items[j].dim[1], c) == 0)
                    sum += main_count(s, &t->items[j]);
            if (sum > best_n || (sum == best_n && best && strcmp(c, best) < 0)) {
                best = c;
                best_n = sum;
            }
        }
        if (!best)
            break;
        cats[nc] = best;
        cat_total[nc++] = best_n;
    }
    (void)cat_total;
    if (nm == 0 || nc == 0)
        return;
    const int W = 1000, H = 300, L = 50, R = 20, T = 15, B = 45;
    smime_buf_printf(out, "<figure class=\"line\"><svg class=\"chart line-chart\" "
                          "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                          "preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-label=\"", W, H);
    html_text(out, sections[s].title);
    smime_buf_puts(out, "\">\n");
    for (int y = 0; y <= 100; y += 25) {
        int py = T + (H - T - B) * (100 - y) / 100;
        smime_buf_printf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>"
                              "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%d%%"
                              "</text>\n", L, py, W - R, py, L - 6, py + 4, y);
    }
    size_t step = nm > 12 ? (nm + 11) / 12 : 1;   /* at most ~12 month labels */
    for (size_t m = 0; m < nm; m++) {
        int px = nm == 1 ? (L + W - R) / 2 : L + (int)((W - L - R) * m / (nm - 1));
        if (m % step == 0 || m == nm - 1)
            smime_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">"
                                  "%s</text>\n", px, H - B + 18, months[m]);
    }
    for (size_t c = 0; c < nc; c++) {
        smime_buf_printf(out, "<g class=\"series\" data-series=\"");
        html_text(out, cats[c]);
        smime_buf_puts(out, "\">");
        int open = 0;
        for (size_t m = 0; m < nm; m++) {
            const bucket *b = NULL;
            for (size_t i = 0; i < t->n && !b; i++)
                if (strcmp(t->items[i].dim[0], months[m]) == 0 &&
                    strcmp(t->items[i].dim[1], cats[c]) == 0)
                    b = &t->items[i];
            double v = b ? share_of(rep, s, b) : -1;
            if (v < 0) {
                if (open)
                    smime_buf_puts(out, "\"/>");
                open = 0;
                continue;
            }
            int px = nm == 1 ? (L + W - R) / 2 : L + (int)((W - L - R) * m / (nm - 1));
            int py = T + (int)((H - T - B) * (1.0 - v));
            if (!open)
                smime_buf_printf(out, "<polyline fill=\"none\" stroke-width=\"2.5\" stroke=\"%s\" "
                                      "points=\"", line_colors[c]);
            smime_buf_printf(out, "%d,%d ", px, py);
            open = 1;
        }
        if (open)
            smime_buf_puts(out, "\"/>");
        for (size_t m = 0; m < nm; m++) {
            const bucket *b = NULL;
            for (size_t i = 0; i < t->n && !b; i++)
                if (strcmp(t->items[i].dim[0], months[m]) == 0 &&
                    strcmp(t->items[i].dim[1], cats[c]) == 0)
                    b = &t->items[i];
            double v = b ? share_of(rep, s, b) : -1;
            if (v < 0)
                continue;
            int px = nm == 1 ? (L + W - R) / 2 : L + (int)((W - L - R) * m / (nm - 1));
            int py = T + (int)((H - T - B) * (1.0 - v));
            smime_buf_printf(out, "<circle cx=\"%d\" cy=\"%d\" r=\"3.5\" fill=\"%s\" "
                                  "data-month=\"%s\" data-share=\"%.4f\"><title>", px, py,
                             line_colors[c], months[m], v);
            html_text(out, cats[c]);
            smime_buf_printf(out, " %s: %.1f%%</title></circle>", months[m], 100.0 * v);
        }
        smime_buf_puts(out, "</g>\n");
    }
    smime_buf_puts(out, "</svg><figcaption class=\"legend\">");
    for (size_t c = 0; c < nc; c++) {
        smime_buf_printf(out, "<span><i style=\"background:%s\"></i>", line_colors[c]);
        html_text(out, cats[c]);
        smime_buf_puts(out, "</span> ");
    }
    smime_buf_puts(out, "</figcaption></figure>\n");
}

static void html_table(const report *rep, int s, smime_buf *out)
{
    const tally *t = &rep->tallies[s];
    const struct section_def *d = &sections[s];
    row_cells head, c;
    cells_of(rep, s, NULL, &head);
    uint64_t max = 0;
    for (size_t i = 0; i < t->n; i++)
        if (main_count(s, &t->items[i]) > max)
            max = main_count(s, &t->items[i]);
    int bars = !d->series && s != SEC_OVERVIEW;
    smime_buf_puts(out, "<table><thead><tr>");
    for (int i = 0; i < head.n; i++) {
        smime_buf_printf(out, "<th%s>", head.numeric[i] ? " class=\"n\"" : "");
        html_text(out, head.label[i]);
        smime_buf_puts(out, "</th>");
    }
    if (bars)
        smime_buf_printf(out, "<th class=\"bar\">%s</th>",
                         d->unit == PER_CERT     ? "certificates"
                         : d->unit == PER_DOMAIN ? "sender domains"
                                                 : "signatures");
    smime_buf_puts(out, "</tr></thead><tbody>\n");
    for (size_t r = 0; r < t->n; r++) {
        cells_of(rep, s, &t->items[r], &c);
        smime_buf_puts(out, "<tr>");
        for (int i = 0; i < c.n; i++) {
            smime_buf_printf(out, "<td data-col=\"%s\"%s>", head.label[i],
                             c.numeric[i] ? " class=\"n\"" : "");
            html_text(out, c.value[i]);
            smime_buf_puts(out, "</td>");
        }
        if (bars) {
            double w = max ? 100.0 * (double)main_count(s, &t->items[r]) / (double)max : 0;
            smime_buf_printf(out, "<td class=\"bar\"><div style=\"width:%.1f%%\"></div></td>", w);
        }
        smime_buf_puts(out, "</tr>\n");
    }
    smime_buf_puts(out, "</tbody></table>\n");
}

static void render_html(const report *rep, smime_buf *out)
{
    smime_buf_puts(out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>S/MIME relying-party telemetry</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;margin:0 2vw 2em;color:#222;line-height:1.35}\n"
        "h1{margin:.6em 0 .2em}h2{margin:1.6em 0 .2em;border-bottom:2px solid #3b6ea8}\n"
        ".prov{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;background:#f3f6fa;"
        "padding:10px 14px;border-radius:6px;font-size:14px}\n.prov dt{font-weight:600}"
        ".prov dd{margin:0}\n"
        "p.explain{color:#444;margin:.2em 0 .6em;max-width:90em}\n"
        "table{border-collapse:collapse;width:100%;table-layout:auto}\n"
        "td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px;"
        "vertical-align:top;overflow-wrap:anywhere}\n"
        "th{background:#eef2f7}td.n,th.n{text-align:right;white-space:nowrap}\n"
        "td.bar,th.bar{width:22%}td.bar div{background:#3b6ea8;height:12px;min-width:1px}\n"
        "figure.line{margin:.5em 0}figure.line svg{width:100%;height:auto;max-height:360px}\n"
        ".legend span{margin-right:1.2em;font-size:13px}.legend i{display:inline-block;width:12px;"
        "height:12px;margin-right:4px;vertical-align:-1px}\n"
        ".note{color:#666;font-size:13px}nav{font-size:13px;columns:3 18em}\n"
        "</style></head><body>\n<h1>S/MIME relying-party telemetry</h1>\n<dl class=\"prov\">");
    char buf[256];
    period_text(rep, buf, sizeof(buf));
    smime_buf_puts(out, "<dt>Period</dt><dd id=\"period\">");
    html_text(out, buf);
    totals_text(rep, buf, sizeof(buf));
    smime_buf_puts(out, "</dd><dt>Observed</dt><dd id=\"totals\">");
    html_text(out, buf);
    smime_buf_puts(out, "</dd><dt>Reporter</dt><dd id=\"reporter\">");
    html_text(out, or_label(rep->reporter, "(not given)"));
    if (rep->ninputs) {
        snprintf(buf, sizeof(buf), " (merged from %zu exports; certificates seen by several "
                                   "reporters count once per reporter)", rep->ninputs);
        html_text(out, buf);
    }
    smime_buf_puts(out, "</dd><dt>Software</dt><dd>");
    html_text(out, rep->software);
    smime_buf_puts(out, "; lint catalogue ");
    html_text(out, rep->catalogue);
    smime_buf_puts(out, "</dd><dt>Generated</dt><dd>");
    html_text(out, rep->generated_at);
    smime_buf_printf(out, "</dd><dt>Suppression</dt><dd id=\"k\">buckets with fewer than %llu "
                          "signatures or %llu distinct certificates are left out; shares that would "
                          "reveal fewer than %llu are not shown</dd></dl>\n<nav><ol>",
                     (unsigned long long)rep->min_count, (unsigned long long)rep->min_count,
                     (unsigned long long)rep->min_count);
    for (int s = 1; s < SEC_COUNT; s++) {
        smime_buf_printf(out, "<li><a href=\"#%s\">", sections[s].name);
        html_text(out, sections[s].title);
        smime_buf_puts(out, "</a></li>");
    }
    smime_buf_puts(out, "</ol></nav>\n");
    for (int s = 1; s < SEC_COUNT; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        smime_buf_printf(out, "<section id=\"%s\"><h2>", d->name);
        html_text(out, d->title);
        smime_buf_puts(out, "</h2>\n<p class=\"explain\">");
        html_text(out, d->explain);
        smime_buf_puts(out, "</p>\n");
        if (d->series)
            html_line_chart(rep, s, out);
        html_table(rep, s, out);
        if (t->n == 0)
            smime_buf_printf(out, "<p class=\"note\">No bucket of %llu or more.</p>\n",
                             (unsigned long long)rep->min_count);
        if (t->suppressed)
            smime_buf_printf(out, "<p class=\"note\">%zu bucket(s) below %llu suppressed.</p>\n",
                             t->suppressed, (unsigned long long)rep->min_count);
        smime_buf_puts(out, "</section>\n");
    }
    smime_buf_puts(out, "</body></html>\n");
}

/* ---- report, export and merge commands ----------------------------------------- */

static int parse_day(const char *opt, const char *s, char out[11])
{
    int64_t t;
    if (smime_time_parse(s, &t) < 0) {
        fprintf(stderr, "smime-telemetry: %s: not a date (YYYY-MM-DD): %s\n", opt, s);
        return -1;
    }
    char buf[32];
    smime_time_format(t, buf, sizeof(buf));
    memcpy(out, buf, 10);
    out[10] = '\0';
    return 0;
}

static void report_usage(FILE *f)
{
    fprintf(f,
            "usage: smime-telemetry report --db URI | --from EXPORT.json [--since DATE]\n"
            "                              [--until DATE] [--min-count K] [--reporter LABEL]\n"
            "                              [--format text|csv|json|html] [--compute server|client]\n"
            "       smime-telemetry export --db URI [--since DATE] [--until DATE] [--min-count K]\n"
            "                              [--reporter LABEL]\n"
            "       smime-telemetry merge [--min-count K] [--reporter LABEL]\n"
            "                             [--format text|csv|json|html] EXPORT.json...\n"
            "  --db         sqlite:PATH or postgresql://...\n"
            "  --from       render an export instead of a database\n"
            "  --since      first day included (YYYY-MM-DD, UTC)\n"
            "  --until      last day included\n"
            "  --min-count  buckets with fewer than K signatures or K distinct certificates\n"
            "               are suppressed (default 10; a merge or --from uses at least the\n"
            "               largest K of its inputs)\n"
            "  --reporter   a label for the provenance (who made the report)\n"
            "  --format     text (default), csv, json or html (one self-contained file)\n"
            "  --compute    server (default): the database's roll-up does most of it\n"
            "               (PostgreSQL: all, only buckets come back; SQLite: the roll-up\n"
            "               grouped by month is counted here); client: every distinct\n"
            "               record is read and counted here\n"
            "  export writes the versioned JSON document of doc/smime-telemetry-export.schema.json\n");
}

enum report_mode { MODE_REPORT, MODE_EXPORT, MODE_MERGE };

static int cmd_report(int argc, char **argv, enum report_mode mode)
{
    const char *db = NULL, *format = mode == MODE_EXPORT ? "json" : "text", *from = NULL;
    const char *reporter = NULL;
    int on_server = 1;
    report rep;
    memset(&rep, 0, sizeof(rep));
    rep.min_count = 10;
    int k_given = 0;
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "from", required_argument, NULL, 'F' },
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },
        { "min-count", required_argument, NULL, 'k' },
        { "format", required_argument, NULL, 'f' },
        { "reporter", required_argument, NULL, 'r' },
        { "compute", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "d:F:s:u:k:f:r:C:h", opts, NULL)) != -1) {
        switch (c) {
        case 'C':
            if (strcmp(optarg, "server") == 0)
                on_server = 1;
            else if (strcmp(optarg, "client") == 0)
                on_server = 0;
            else {
                fprintf(stderr, "smime-telemetry: --compute: server or client, not %s\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'd': db = optarg; break;
        case 'F': from = optarg; break;
        case 's': if (parse_day("--since", optarg, rep.since) < 0) return EXIT_USAGE; break;
        case 'u': if (parse_day("--until", optarg, rep.until) < 0) return EXIT_USAGE; break;
        case 'f': format = optarg; break;
        case 'r': reporter = optarg; break;
        case 'k': {
            char *end;
            errno = 0;
            unsigned long long k = strtoull(optarg, &end, 10);
            if (errno || *end || k == 0 || optarg[0] == '-') {
                fprintf(stderr, "smime-telemetry: --min-count: not a positive number: %s\n",
                        optarg);
                return EXIT_USAGE;
            }
            rep.min_count = k;
            k_given = 1;
            break;
        }
        case 'h': report_usage(stdout); return 0;
        default: report_usage(stderr); return EXIT_USAGE;
        }
    }
    const char *why = NULL;
    if (mode == MODE_MERGE) {
        if (db || from || rep.since[0] || rep.until[0])
            why = "merge takes export files, not --db, --from, --since or --until";
        else if (optind >= argc)
            why = "no export file given";
        else if (argc - optind > MERGE_INPUTS_MAX)
            why = "too many export files";
    } else {
        if (optind != argc)
            why = "unexpected argument";
        else if (mode == MODE_EXPORT && !db)
            why = "--db is required";
        else if (!db == !from)
            why = "give --db or --from";
        else if (from && (rep.since[0] || rep.until[0]))
            why = "--since and --until select days of a database; an export has its period";
    }
    if (!why && mode == MODE_EXPORT && strcmp(format, "json") != 0)
        why = "export writes JSON only";
    if (!why && strcmp(format, "text") && strcmp(format, "csv") && strcmp(format, "json") &&
        strcmp(format, "html")) {
        fprintf(stderr, "smime-telemetry: --format: text, csv, json or html, not %s\n", format);
        return EXIT_USAGE;
    }
    if (why) {
        fprintf(stderr, "smime-telemetry: %s\n", why);
        report_usage(stderr);
        return EXIT_USAGE;
    }
    if (rep.since[0] && rep.until[0] && strcmp(rep.since, rep.until) > 0) {
        fprintf(stderr, "smime-telemetry: --since %s is after --until %s\n", rep.since, rep.until);
        return EXIT_USAGE;
    }
    if (reporter && strlen(reporter) >= sizeof(rep.reporter)) {
        fprintf(stderr, "smime-telemetry: --reporter: at most %zu bytes\n", sizeof(rep.reporter) - 1);
        return EXIT_USAGE;
    }
    char err[512];
    int status = 0;
    if (db) {
        smime_telemetry_sink *sink = NULL;
        if (smime_telemetry_sink_open_existing(db, &sink, err, sizeof(err)) < 0) {
            fprintf(stderr, "smime-telemetry: %s\n", err);
            return EXIT_IO;
        }
        if (on_server) {
            int pg = strcmp(smime_telemetry_sink_name(sink), "postgresql") == 0;
            if ((pg ? aggregate_on_server : count_rollup)(sink, &rep, err, sizeof(err)) < 0) {
                fprintf(stderr, "smime-telemetry: %s\n", err);
                status = EXIT_IO;
            }
        } else {
            if (smime_telemetry_sink_query(sink, rep.since[0] ? rep.since : NULL,
                                           rep.until[0] ? rep.until : NULL, add_record, &rep,
                                           err, sizeof(err)) < 0) {
                fprintf(stderr, "smime-telemetry: %s\n", err);
                status = EXIT_IO;
            }
        }
        smime_telemetry_sink_close(sink);
        snprintf(rep.software, sizeof(rep.software), "%s", SOFTWARE_NAME);
        catalogue_version(rep.catalogue, sizeof(rep.catalogue));
        char now[32];
        smime_time_format((int64_t)time(NULL), now, sizeof(now));
        snprintf(rep.generated_at, sizeof(rep.generated_at), "%s", now);
    } else {
        /* one export (--from) or several (merge): the largest K of the inputs holds */
        int first = mode == MODE_MERGE ? optind : 0;
        int last = mode == MODE_MERGE ? argc : 1;
        uint64_t k_max = 0;
        for (int i = first; i < last && status == 0; i++) {
            uint64_t k = 0;
            if (import_export(mode == MODE_MERGE ? argv[i] : from, &rep, &k, err,
                              sizeof(err)) < 0) {
                fprintf(stderr, "smime-telemetry: %s\n", err);
                status = EXIT_IO;
            }
            if (k > k_max)
                k_max = k;
        }
        if (!k_given || rep.min_count < k_max)
            rep.min_count = k_max;
        for (int s = 0; s < SEC_COUNT; s++)
            tally_sum(&rep.tallies[s]);
        if (mode == MODE_MERGE) {
            snprintf(rep.software, sizeof(rep.software), "%s", SOFTWARE_NAME);
            char now[32];
            smime_time_format((int64_t)time(NULL), now, sizeof(now));
            snprintf(rep.generated_at, sizeof(rep.generated_at), "%s", now);
            rep.reporter[0] = '\0';
        } else {
            rep.ninputs = 0;   /* one export rendered as it is */
        }
    }
    if (reporter)
        snprintf(rep.reporter, sizeof(rep.reporter), "%s", reporter);
    if (status == 0 && rep.ids_failed) {
        fprintf(stderr, "smime-telemetry: more than %u distinct certificates and sender domains\n",
                IDS_MAX);
        status = EXIT_IO;
    }
    for (int s = 0; s < SEC_COUNT && status == 0; s++)
        if (rep.tallies[s].failed) {
            fprintf(stderr,
                    "smime-telemetry: section %s: out of memory, or more than %u buckets or "
                    "%u (bucket, certificate) pairs\n", sections[s].name, TALLY_MAX, PAIRS_MAX);
            status = EXIT_IO;
        }
    if (status == 0) {
        finish_report(&rep);
        smime_buf out;
        smime_buf_init(&out, OUTPUT_CAP);
        int rc = 0;
        if (strcmp(format, "text") == 0)
            render_text(&rep, &out);
        else if (strcmp(format, "csv") == 0)
            render_csv(&rep, &out);
        else if (strcmp(format, "json") == 0)
            rc = render_json(&rep, &out);
        else
            render_html(&rep, &out);
        if (rc < 0 || out.overflow) {
            fprintf(stderr, "smime-telemetry: the report is larger than %u bytes or out of memory\n",
                    OUTPUT_CAP);
            status = EXIT_IO;
        } else if (fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len ||
                   fflush(stdout) != 0) {
            fprintf(stderr, "smime-telemetry: writing the report: %s\n", strerror(errno));
            status = EXIT_IO;
        }
        smime_buf_free(&out);
    }
    for (int s = 0; s < SEC_COUNT; s++)
        tally_free(&rep.tallies[s]);
    if (rep.ids)
        g_hash_table_destroy(rep.ids);
    return status;
}

/* ---- record command --------------------------------------------------------- */

/* Certificates of every SignedData in a message, DER, owned. */
typedef struct msg_certs {
    size_t n;
    gnutls_datum_t der[MSG_CERTS_MAX];
} msg_certs;

static int collect_certs(smime_mime_walk *walk, const smime_mime_item *item, void *ctx)
{
    (void)walk;
    msg_certs *mc = ctx;
    if ((item->kind != SMIME_MIME_DETACHED && item->kind != SMIME_MIME_OPAQUE) || !item->der)
        return 0;
    smime_cms *cms = NULL;
    char err[256];
    if (smime_cms_open(item->der, item->der_len, MSG_CERTS_MAX, &cms, err, sizeof(err)) < 0)
        return 0;   /* the report says what is wrong with it */
    size_t n = 0;
    gnutls_x509_crt_t *certs = smime_cms_certs(cms, &n);
    for (size_t i = 0; i < n && mc->n < MSG_CERTS_MAX; i++)
        if (gnutls_x509_crt_export2(certs[i], GNUTLS_X509_FMT_DER, &mc->der[mc->n]) == 0)
            mc->n++;
    smime_cms_free(cms);
    return 0;
}

static void msg_certs_free(msg_certs *mc)
{
    for (size_t i = 0; i < mc->n; i++)
        gnutls_free(mc->der[i].data);
    mc->n = 0;
}

/* 2 when der is the certificate of the summary (serial and issuer DN), 1 when
 * only the serial matches (the summary's DN may be cut), 0 otherwise. */
static int cert_matches(const gnutls_datum_t *der, const smime_cert_summary *sum)
{
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return 0;
    int match = 0;
    unsigned char serial[64];
    size_t len = sizeof(serial);
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) == 0 &&
        gnutls_x509_crt_get_serial(crt, serial, &len) == 0) {
        char hex[2 * sizeof(serial) + 1];
        smime_integer_hex(serial, len, hex, sizeof(hex));
        if (strcmp(hex, sum->serial) == 0) {
            match = 1;
            gnutls_datum_t dn = { NULL, 0 };
            if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) >= 0 && dn.data &&
                strcmp((const char *)dn.data, sum->issuer) == 0)
                match = 2;
            gnutls_free(dn.data);
        }
    }
    gnutls_x509_crt_deinit(crt);
    return match;
}

/* Lints the signer of s, if its certificate is in the message: the leaf and the
 * certificates of the message that issued it, nearest first.  NULL when there is
 * no signer certificate or linting failed (then the record has no profile). */
static smime_lint_result *lint_signer(const smime_sig_report *s, const msg_certs *mc,
                                      int64_t now)
{
    if (!s->has_signer)
        return NULL;
    const gnutls_datum_t *leaf = NULL;
    int best = 0;
    for (size_t i = 0; i < mc->n && best < 2; i++) {
        int m = cert_matches(&mc->der[i], &s->signer);
        if (m > best) {
            best = m;
            leaf = &mc->der[i];
        }
    }
    if (!leaf)
        return NULL;
    smime_span issuers[SMIME_LINT_MAX_ISSUERS];
    size_t nissuers = 0;
    gnutls_x509_crt_t cur = NULL;
    if (gnutls_x509_crt_init(&cur) < 0 || gnutls_x509_crt_import(cur, leaf, GNUTLS_X509_FMT_DER) < 0) {
        if (cur)
            gnutls_x509_crt_deinit(cur);
        cur = NULL;
    }
    while (cur && nissuers < SMIME_LINT_MAX_ISSUERS) {
        gnutls_x509_crt_t next = NULL;
        for (size_t i = 0; i < mc->n && !next; i++) {
            if (&mc->der[i] == leaf)
                continue;
            gnutls_x509_crt_t cand;
            if (gnutls_x509_crt_init(&cand) < 0)
                break;
            if (gnutls_x509_crt_import(cand, &mc->der[i], GNUTLS_X509_FMT_DER) == 0 &&
                gnutls_x509_crt_check_issuer(cur, cand) && !gnutls_x509_crt_equals(cur, cand)) {
                issuers[nissuers].p = mc->der[i].data;
                issuers[nissuers].len = mc->der[i].size;
                nissuers++;
                next = cand;
            } else {
                gnutls_x509_crt_deinit(cand);
            }
        }
        gnutls_x509_crt_deinit(cur);
        cur = next;
    }
    if (cur)
        gnutls_x509_crt_deinit(cur);
    smime_lint_options lo;
    memset(&lo, 0, sizeof(lo));
    lo.now = now;
    smime_lint_result *lr = NULL;
    if (smime_lint_cert(leaf->data, leaf->size, issuers, nissuers, &lo, &lr) < 0)
        return NULL;
    return lr;
}

static void log_stderr(void *ctx, smime_telemetry_log_level level, const char *msg)
{
    (void)ctx;
    if (level == SMIME_TELEMETRY_LOG_INFO)
        return;   /* the closing totals: this tool prints its own line */
    fprintf(stderr, "smime-telemetry: %s%s\n",
            level == SMIME_TELEMETRY_LOG_ERR ? "error: " :
            level == SMIME_TELEMETRY_LOG_WARNING ? "warning: " : "", msg);
}

/* Reads at most cap bytes of a file (a longer file is cut there: the core then
 * reports a message as too large to check).  Returns a malloc'ed buffer, or NULL
 * with errno set. */
static char *read_all(const char *path, size_t cap, size_t *len)
{
    smime_buf b;
    smime_buf_init(&b, cap);
    if (smime_buf_read_file(&b, path, 1) < 0) {
        int e = errno;
        smime_buf_free(&b);
        errno = e;
        return NULL;
    }
    return smime_buf_steal(&b, len);
}

/* ---- CAA: the checker the milter's writer runs, for record and caa ---------- */

/* resolver: "system" or ADDR[@PORT]; map may be NULL.  Returns 0, or -1 with err. */
static int caa_checker_make(const char *resolver, const char *map_path, unsigned timeout_ms,
                            smime_caa_checker **out, char *err, size_t errlen)
{
    *out = NULL;
    smime_caa_map *map = NULL;
    if (map_path && smime_caa_map_load(map_path, &map, err, errlen) < 0)
        return -1;
    smime_caa_resolver r;
    if (smime_caa_unbound_new(strcmp(resolver, "system") == 0 ? NULL : resolver, &r, err,
                              errlen) < 0) {
        smime_caa_map_free(map);
        return -1;
    }
    smime_caa_options o = { .timeout_ms = timeout_ms };
    return smime_caa_checker_new(&o, r, map, out, err, errlen);
}

static int parse_timeout_ms(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > 60000)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static void caa_usage(FILE *f)
{
    fprintf(f,
            "usage: smime-telemetry caa [--resolver ADDR[@PORT]|system] [--issuer-map FILE]\n"
            "                           [--ca keyid:HEX|dn:DN] [--timeout MS] DOMAIN...\n"
            "  Looks up CAA for S/MIME (RFC 9495) of each domain as the milter's telemetry\n"
            "  writer does (one round, one timeout, the same cache) and prints, per domain:\n"
            "  DOMAIN issuemail=... ca=... at=NAME [why=...]\n"
            "  --ca       the signer's CA to decide for (default: none, so a domain with\n"
            "             issuemail says ca=ca-not-mapped)\n"
            "  --timeout  for the whole round, milliseconds (default 2000, at most 60000)\n");
}

static int cmd_caa(int argc, char **argv)
{
    const char *resolver = "system", *map = NULL, *ca = NULL;
    unsigned timeout_ms = 2000;
    static const struct option opts[] = {
        { "resolver", required_argument, NULL, 'r' },
        { "issuer-map", required_argument, NULL, 'm' },
        { "ca", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "r:m:c:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': resolver = optarg; break;
        case 'm': map = optarg; break;
        case 'c': ca = optarg; break;
        case 'w':
            if (parse_timeout_ms(optarg, &timeout_ms) < 0) {
                fprintf(stderr, "smime-telemetry: --timeout: 1..60000 milliseconds\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': caa_usage(stdout); return 0;
        default: caa_usage(stderr); return EXIT_USAGE;
        }
    }
    size_t n = optind < argc ? (size_t)(argc - optind) : 0;
    if (n == 0 || n > SMIME_TELEMETRY_BATCH_MAX) {
        fprintf(stderr, "smime-telemetry: caa: 1..%d domains\n", SMIME_TELEMETRY_BATCH_MAX);
        caa_usage(stderr);
        return EXIT_USAGE;
    }
    if (ca && strncmp(ca, "keyid:", 6) != 0 && strncmp(ca, "dn:", 3) != 0) {
        fprintf(stderr, "smime-telemetry: --ca: keyid:HEX or dn:DN\n");
        return EXIT_USAGE;
    }
    char err[512];
    smime_caa_checker *chk = NULL;
    if (caa_checker_make(resolver, map, timeout_ms, &chk, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-telemetry: %s\n", err);
        return EXIT_IO;
    }
    smime_telemetry_record *recs = calloc(n, sizeof(*recs));
    if (!recs) {
        smime_caa_checker_free(chk);
        fprintf(stderr, "smime-telemetry: out of memory\n");
        return EXIT_IO;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(recs[i].lookup_domain, sizeof(recs[i].lookup_domain), "%s", argv[optind + i]);
        if (ca && strncmp(ca, "keyid:", 6) == 0)
            snprintf(recs[i].issuer_key_id, sizeof(recs[i].issuer_key_id), "%s", ca + 6);
        else if (ca)
            snprintf(recs[i].issuer_dn, sizeof(recs[i].issuer_dn), "%s", ca + 3);
    }
    int64_t now = (int64_t)time(NULL);
    int status = 0;
    if (smime_caa_checker_fill(chk, recs, n, now, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-telemetry: %s\n", err);
        status = EXIT_IO;
    }
    for (size_t i = 0; i < n; i++) {
        const char *domain = argv[optind + i];
        smime_caa_domain_state st;
        char names[SMIME_CAA_CLIMB_MAX][SMIME_CAA_NAME_MAX];
        int nn = smime_caa_climb_names(domain, names);
        const char *at = "-";
        int cached = smime_caa_checker_cached(chk, domain, now, &st);
        if (cached && st.found_at >= 0 && st.found_at < nn)
            at = names[st.found_at];
        printf("%s issuemail=%s ca=%s at=%s", domain, or_label(recs[i].caa_issuemail, "-"),
               or_label(recs[i].caa_ca, "-"), at);
        if (cached && st.detail)
            printf(" why=%s", st.detail);
        printf("\n");
    }
    free(recs);
    smime_caa_checker_free(chk);
    return status;
}

static void record_usage(FILE *f)
{
    fprintf(f,
            "usage: smime-telemetry record --db URI --trust-anchors PEM|DIR [--at TIME]\n"
            "                              [--no-lint] [--sender-domain off|hmac|plain]\n"
            "                              [--hmac-key-file FILE] [--secret FILE]\n"
            "                              [--caa ADDR|system [--caa-issuer-map FILE]\n"
            "                              [--caa-timeout MS]] FILE.eml...\n"
            "  --at             validation and observation time (default: now)\n"
            "  --secret         the deployment secret that keys certificate ids; made\n"
            "                   (mode 0600) on first use.  Default: PATH.secret next to a\n"
            "                   sqlite:PATH database, " SMIME_TELEMETRY_SECRET_DEFAULT "\n"
            "                   for PostgreSQL\n"
            "  --sender-domain  store the signer's domain: off (default), hmac (keyed hash,\n"
            "                   needs --hmac-key-file), plain\n"
            "  --caa ADDR[@PORT]|system   look up CAA for S/MIME of each sender domain\n"
            "                   (RFC 9495) through this DNS server, or resolv.conf's\n"
            "  --caa-issuer-map FILE      which CA has which CAA issuer-domain-names\n"
            "  --caa-timeout MS           per batch of lookups (default 2000)\n");
}

static int cmd_record(int argc, char **argv)
{
    const char *db = NULL, *anchors = NULL, *at = NULL, *domain = "off", *keyfile = NULL;
    const char *secret = NULL, *caa = NULL, *caa_map = NULL;
    unsigned caa_timeout = 2000;
    int lint = 1;
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "caa", required_argument, NULL, 'C' },
        { "caa-issuer-map", required_argument, NULL, 'M' },
        { "caa-timeout", required_argument, NULL, 'W' },
        { "trust-anchors", required_argument, NULL, 't' },
        { "at", required_argument, NULL, 'T' },
        { "no-lint", no_argument, NULL, 'n' },
        { "sender-domain", required_argument, NULL, 'D' },
        { "hmac-key-file", required_argument, NULL, 'K' },
        { "secret", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "d:t:T:nD:K:S:C:M:W:h", opts, NULL)) != -1) {
        switch (c) {
        case 'C': caa = optarg; break;
        case 'M': caa_map = optarg; break;
        case 'W':
            if (parse_timeout_ms(optarg, &caa_timeout) < 0) {
                fprintf(stderr, "smime-telemetry: --caa-timeout: 1..60000 milliseconds\n");
                return EXIT_USAGE;
            }
            break;
        case 'd': db = optarg; break;
        case 't': anchors = optarg; break;
        case 'T': at = optarg; break;
        case 'n': lint = 0; break;
        case 'D': domain = optarg; break;
        case 'K': keyfile = optarg; break;
        case 'S': secret = optarg; break;
        case 'h': record_usage(stdout); return 0;
        default: record_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!db || !anchors || optind >= argc) {
        fprintf(stderr, "smime-telemetry: %s\n", !db ? "--db is required" :
                !anchors ? "--trust-anchors is required" : "no message file given");
        record_usage(stderr);
        return EXIT_USAGE;
    }
    smime_telemetry_options topt;
    smime_telemetry_options_default(&topt);
    topt.log = log_stderr;
    topt.wait_when_full = 1;   /* offline: record every signature of the files */
    topt.secret_path = secret;
    if (strcmp(domain, "off") == 0) {
        topt.privacy.domain_mode = SMIME_TELEMETRY_DOMAIN_OFF;
    } else if (strcmp(domain, "plain") == 0) {
        topt.privacy.domain_mode = SMIME_TELEMETRY_DOMAIN_PLAIN;
    } else if (strcmp(domain, "hmac") == 0) {
        topt.privacy.domain_mode = SMIME_TELEMETRY_DOMAIN_HMAC;
        size_t klen = 0;
        char *key = keyfile ? read_all(keyfile, SMIME_TELEMETRY_KEY_MAX, &klen) : NULL;
        if (!key || klen == 0) {
            fprintf(stderr, "smime-telemetry: --sender-domain hmac needs a readable, non-empty "
                            "--hmac-key-file (at most %d bytes are used)\n",
                    SMIME_TELEMETRY_KEY_MAX);
            free(key);
            return EXIT_USAGE;
        }
        memcpy(topt.privacy.key, key, klen);
        topt.privacy.key_len = klen;
        free(key);
    } else {
        fprintf(stderr, "smime-telemetry: --sender-domain: off, hmac or plain, not %s\n", domain);
        return EXIT_USAGE;
    }
    if ((caa_map || caa_timeout != 2000) && !caa) {
        fprintf(stderr, "smime-telemetry: --caa-issuer-map and --caa-timeout need --caa\n");
        return EXIT_USAGE;
    }
    if (caa && topt.privacy.domain_mode == SMIME_TELEMETRY_DOMAIN_OFF) {
        /* the CAA sections count distinct sender domains */
        fprintf(stderr, "smime-telemetry: --caa needs --sender-domain hmac or plain\n");
        return EXIT_USAGE;
    }
    int64_t now = (int64_t)time(NULL);
    if (at && smime_time_parse(at, &now) < 0) {
        fprintf(stderr, "smime-telemetry: --at: not a time: %s\n", at);
        return EXIT_USAGE;
    }
    if (smime_init() < 0) {
        fprintf(stderr, "smime-telemetry: library initialisation failed\n");
        return EXIT_IO;
    }
    char err[512];
    smime_trust *trust = NULL;
    if (smime_trust_load(anchors, &trust, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-telemetry: %s\n", err);
        return EXIT_IO;
    }
    if (caa) {
        if (caa_checker_make(caa, caa_map, caa_timeout, &topt.caa, err, sizeof(err)) < 0) {
            fprintf(stderr, "smime-telemetry: %s\n", err);
            smime_trust_free(trust);
            return EXIT_IO;
        }
        topt.privacy.caa_lookup = 1;
    }
    smime_telemetry *tel = NULL;
    if (smime_telemetry_open(db, &topt, &tel, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-telemetry: %s\n", err);
        smime_trust_free(trust);
        return EXIT_IO;
    }
    smime_verify_options vopt;
    smime_verify_options_default(&vopt, now);
    int status = 0;
    for (int i = optind; i < argc; i++) {
        size_t len = 0;
        char *msg = read_all(argv[i], vopt.max_message_size + 1, &len);
        if (!msg) {
            fprintf(stderr, "smime-telemetry: %s: %s\n", argv[i], strerror(errno));
            status = EXIT_IO;
            continue;
        }
        smime_report *rep = NULL;
        if (smime_verify_message(msg, len, trust, &vopt, &rep, err, sizeof(err)) < 0) {
            fprintf(stderr, "smime-telemetry: %s: %s\n", argv[i], err);
            free(msg);
            status = EXIT_IO;
            continue;
        }
        msg_certs mc;
        mc.n = 0;
        if (lint) {
            char *crlf = NULL;
            size_t crlf_len = smime_mime_crlf_length(msg, len);
            const char *walk_msg = msg;
            if (crlf_len != len) {
                crlf = smime_mime_to_crlf(msg, len, crlf_len, &crlf_len);
                walk_msg = crlf ? crlf : msg;
                if (!crlf)
                    crlf_len = len;
            }
            smime_mime_walk_message(walk_msg, crlf_len, &vopt.mime, collect_certs, &mc);
            g_free(crlf);
        }
        for (size_t s = 0; s < rep->n_sigs; s++) {
            smime_lint_result *lr = lint ? lint_signer(&rep->sigs[s], &mc, now) : NULL;
            if (smime_telemetry_submit_sig(tel, &rep->sigs[s], lr, now) != 0)
                status = EXIT_IO;   /* dropped: the writer logs why */
            smime_lint_result_free(lr);
        }
        msg_certs_free(&mc);
        smime_report_free(rep);
        free(msg);
    }
    smime_telemetry_stats st;
    if (smime_telemetry_close(tel, 60000, &st) < 0)
        status = EXIT_IO;
    fprintf(stderr, "smime-telemetry: %llu signatures recorded\n", (unsigned long long)st.written);
    smime_trust_free(trust);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: smime-telemetry report|export|merge|record|caa ... (--help for each)\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1, MODE_REPORT);
    if (strcmp(argv[1], "export") == 0)
        return cmd_report(argc - 1, argv + 1, MODE_EXPORT);
    if (strcmp(argv[1], "merge") == 0)
        return cmd_report(argc - 1, argv + 1, MODE_MERGE);
    if (strcmp(argv[1], "record") == 0)
        return cmd_record(argc - 1, argv + 1);
    if (strcmp(argv[1], "caa") == 0)
        return cmd_caa(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        report_usage(stdout);
        record_usage(stdout);
        caa_usage(stdout);
        return 0;
    }
    fprintf(stderr, "smime-telemetry: unknown command %s (report, export, merge, record, caa)\n", argv[1]);
    return EXIT_USAGE;
}
