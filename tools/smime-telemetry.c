/* smime-telemetry - record S/MIME telemetry from mail files, and report on it.
 *
 *   smime-telemetry report --db URI [--since DATE] [--until DATE] [--min-count K]
 *                          [--format text|csv|json|html]
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <gnutls/x509.h>

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
#define TALLY_MAX        (1u << 22)    /* bucket entries held while aggregating */
#define CELL_TEXT_MAX    72            /* text report: longer cells are cut */
#define CHART_BARS_MAX   15            /* HTML: bars per chart */
#define FINDINGS_PER_CA  5
#define MSG_CERTS_MAX    64            /* record: certificates gathered from one message */

/* ---- aggregation ------------------------------------------------------------ */

typedef struct bucket {
    char    *key;      /* owned */
    char    *subkey;   /* owned; "" when the section has one dimension */
    uint64_t count;
    uint64_t part;     /* the subset a share is computed on (pass, legacy) */
} bucket;

typedef struct tally {
    bucket *items;     /* owned */
    size_t  n, alloc;
    int     failed;    /* out of memory or past TALLY_MAX: the report fails */
} tally;

static void tally_add(tally *t, const char *key, const char *subkey, uint64_t count,
                      uint64_t part)
{
    if (t->failed)
        return;
    if (t->n == t->alloc) {
        size_t na = t->alloc ? t->alloc * 2 : 64;
        bucket *ni = na <= TALLY_MAX ? realloc(t->items, na * sizeof(*ni)) : NULL;
        if (!ni) {
            t->failed = 1;
            return;
        }
        t->items = ni;
        t->alloc = na;
    }
    bucket *b = &t->items[t->n];
    b->key = strdup(key);
    b->subkey = strdup(subkey ? subkey : "");
    if (!b->key || !b->subkey) {
        free(b->key);
        free(b->subkey);
        t->failed = 1;
        return;
    }
    b->count = count;
    b->part = part;
    t->n++;
}

static int cmp_keys(const void *a, const void *b)
{
    const bucket *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->subkey, y->subkey);
}

/* Sorts by key and merges equal keys. */
static void tally_merge(tally *t)
{
    if (t->n == 0)
        return;
    qsort(t->items, t->n, sizeof(bucket), cmp_keys);
    size_t o = 0;
    for (size_t i = 1; i < t->n; i++) {
        if (cmp_keys(&t->items[o], &t->items[i]) == 0) {
            t->items[o].count += t->items[i].count;
            t->items[o].part += t->items[i].part;
            free(t->items[i].key);
            free(t->items[i].subkey);
        } else {
            t->items[++o] = t->items[i];
        }
    }
    t->n = o + 1;
}

static void tally_free(tally *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].key);
        free(t->items[i].subkey);
    }
    free(t->items);
    memset(t, 0, sizeof(*t));
}

enum sec_id {
    SEC_RESULTS, SEC_REASONS, SEC_CA, SEC_ROOT, SEC_TYPE_GEN, SEC_POLICY, SEC_FINDINGS,
    SEC_FINDINGS_CA, SEC_KEY, SEC_DIGEST, SEC_SIGALG, SEC_VALIDITY, SEC_LEGACY,
    SEC_LEGACY_ISSUED, SEC_CLIENTS, SEC_SCOPE, SEC_COUNT
};

enum sec_order { BY_COUNT, BY_KEY, BY_KEY_THEN_COUNT };

static const struct section_def {
    const char *name, *title;
    const char *key_label, *subkey_label;   /* subkey_label NULL: one dimension */
    const char *value_label;                /* NULL: no value column */
    enum sec_order order;
} sections[SEC_COUNT] = {
    [SEC_RESULTS] = { "results", "Result rates", "result", NULL, "share", BY_COUNT },
    [SEC_REASONS] = { "reasons", "Results by reason", "result", "reason", "share", BY_COUNT },
    [SEC_CA] = { "by_ca", "Signatures by CA", "issuer", "issuer key id", "pass", BY_COUNT },
    [SEC_ROOT] = { "by_root", "Signatures by trust anchor", "root", NULL, "pass", BY_COUNT },
    [SEC_POLICY] = { "policy_oids", "SBR policy OIDs", "policy OID", NULL, "share", BY_COUNT },
    [SEC_TYPE_GEN] = { "type_generation", "Certificate type x generation", "type",
                       "generation", "share", BY_COUNT },
    [SEC_FINDINGS] = { "findings", "Requirements most broken", "finding", NULL,
                       "of signatures", BY_COUNT },
    [SEC_FINDINGS_CA] = { "findings_by_ca", "Requirements most broken per CA", "issuer",
                          "finding", NULL, BY_KEY_THEN_COUNT },
    [SEC_KEY] = { "key_algorithms", "Signer key algorithms and sizes", "key", NULL, "share",
                  BY_COUNT },
    [SEC_DIGEST] = { "digest_algorithms", "CMS digest algorithms", "digest", NULL, "share",
                     BY_COUNT },
    [SEC_SIGALG] = { "signature_algorithms", "CMS signature algorithms", "signature", NULL,
                     "share", BY_COUNT },
    [SEC_VALIDITY] = { "validity", "Certificate validity period", "validity", NULL, "share",
                       BY_KEY },
    [SEC_LEGACY_ISSUED] = { "legacy_share_by_issuance",
                            "Legacy-generation share by certificate issuance (notBefore)",
                            "notBefore month", NULL, "legacy", BY_KEY },
    [SEC_LEGACY] = { "legacy_share", "Legacy-generation share over time", "month", NULL,
                     "legacy", BY_KEY },
    [SEC_CLIENTS] = { "clients", "Signing clients", "client", NULL, "share", BY_COUNT },
    [SEC_SCOPE] = { "sbr_scope", "SBR scope of signer certificates", "scope", NULL, "share",
                    BY_COUNT },
};

typedef struct report {
    uint64_t min_count;
    char     since[11], until[11];   /* "" = open */
    uint64_t total;
    tally    tallies[SEC_COUNT];
    size_t   suppressed[SEC_COUNT];  /* buckets left out for being < K */
} report;

static const char *or_label(const char *s, const char *label)
{
    return s && *s ? s : label;
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

static int add_record(const smime_telemetry_record *r, uint64_t count, void *ctx)
{
    report *rep = ctx;
    rep->total += count;
    int pass = strcmp(r->result, "pass") == 0;
    tally_add(&rep->tallies[SEC_RESULTS], r->result, NULL, count, 0);
    tally_add(&rep->tallies[SEC_REASONS], r->result, or_label(r->reason, "-"), count, 0);
    const char *ca = or_label(r->issuer_dn, "(no signer certificate)");
    tally_add(&rep->tallies[SEC_CA], ca, r->issuer_key_id, count, pass ? count : 0);
    tally_add(&rep->tallies[SEC_ROOT], or_label(r->root_subject, "(no trust anchor reached)"),
              NULL, count, pass ? count : 0);
    tally_add(&rep->tallies[SEC_POLICY], or_label(r->policy_oid, "(none)"), NULL, count, 0);
    tally_add(&rep->tallies[SEC_TYPE_GEN], or_label(r->cert_type, "unclassified"),
              or_label(r->generation, "-"), count, 0);
    /* One count per finding ID per signature; the list is space-separated. */
    const char *p = r->findings;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char id[64];
        if (n >= sizeof(id))
            n = sizeof(id) - 1;
        memcpy(id, p, n);
        id[n] = '\0';
        if (n) {
            tally_add(&rep->tallies[SEC_FINDINGS], id, NULL, count, 0);
            tally_add(&rep->tallies[SEC_FINDINGS_CA], ca, id, count, 0);
        }
        p = e ? e + 1 : p + strlen(p);
    }
    tally_add(&rep->tallies[SEC_KEY], or_label(r->key_alg, "unknown"), NULL, count, 0);
    tally_add(&rep->tallies[SEC_DIGEST], or_label(r->digest_alg, "unknown"), NULL, count, 0);
    tally_add(&rep->tallies[SEC_SIGALG], or_label(r->sig_alg, "unknown"), NULL, count, 0);
    tally_add(&rep->tallies[SEC_VALIDITY], validity_bucket(r->validity_days), NULL, count, 0);
    if (r->generation[0]) {
        char month[8];
        memcpy(month, r->day, 7);
        month[7] = '\0';
        int legacy = strcmp(r->generation, "legacy") == 0;
        tally_add(&rep->tallies[SEC_LEGACY], month, NULL, count, legacy ? count : 0);
        if (r->not_before_month[0])
            tally_add(&rep->tallies[SEC_LEGACY_ISSUED], r->not_before_month, NULL, count,
                      legacy ? count : 0);
    }
    tally_add(&rep->tallies[SEC_CLIENTS], or_label(r->client_family, "unknown"), NULL, count, 0);
    tally_add(&rep->tallies[SEC_SCOPE], or_label(r->sbr_scope, "not linted"), NULL, count, 0);
    return 0;
}

static int cmp_count_desc(const void *a, const void *b)
{
    const bucket *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return cmp_keys(a, b);
}

static int cmp_key_then_count(const void *a, const void *b)
{
    const bucket *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return cmp_count_desc(a, b);
}

/* Merges, drops buckets below K (counting them), and orders every section. */
static void finish_report(report *rep)
{
    for (int s = 0; s < SEC_COUNT; s++) {
        tally *t = &rep->tallies[s];
        tally_merge(t);
        size_t o = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (t->items[i].count < rep->min_count) {
                rep->suppressed[s]++;
                free(t->items[i].key);
                free(t->items[i].subkey);
            } else {
                t->items[o++] = t->items[i];
            }
        }
        t->n = o;
        if (sections[s].order == BY_COUNT)
            qsort(t->items, t->n, sizeof(bucket), cmp_count_desc);
        else if (sections[s].order == BY_KEY_THEN_COUNT)
            qsort(t->items, t->n, sizeof(bucket), cmp_key_then_count);
        if (s == SEC_FINDINGS_CA) {   /* the top few per CA */
            size_t keep = 0, run = 0;
            for (size_t i = 0; i < t->n; i++) {
                /* compare with the last bucket kept: the first of each CA always is,
                 * and the ones after the top few are freed as we go */
                run = (keep > 0 && strcmp(t->items[i].key, t->items[keep - 1].key) == 0) ? run + 1
                                                                                        : 0;
                if (run < FINDINGS_PER_CA) {
                    t->items[keep++] = t->items[i];
                } else {
                    free(t->items[i].key);
                    free(t->items[i].subkey);
                }
            }
            t->n = keep;
        }
    }
}

/* A count shown next to a total must not reveal a small bucket: shown only when
 * the part and the rest are each 0 or at least K. */
static int share_shown(uint64_t part, uint64_t whole, uint64_t k)
{
    uint64_t rest = whole - part;
    return (part == 0 || part >= k) && (rest == 0 || rest >= k);
}

/* The value cell of a bucket: a percentage, or "suppressed"; "" for none. */
static void value_of(const report *rep, int s, const bucket *b, char *out, size_t n)
{
    out[0] = '\0';
    if (!sections[s].value_label)
        return;
    uint64_t part, whole;
    switch (s) {
    case SEC_CA:
    case SEC_ROOT:
    case SEC_LEGACY:
    case SEC_LEGACY_ISSUED:
        part = b->part;
        whole = b->count;
        break;
    default:
        part = b->count;
        whole = rep->total;
        break;
    }
    if (whole == 0 || !share_shown(part, whole, rep->min_count)) {
        snprintf(out, n, "suppressed");
        return;
    }
    snprintf(out, n, "%.1f%%", 100.0 * (double)part / (double)whole);
}

static int total_shown(const report *rep)
{
    return rep->total == 0 || rep->total >= rep->min_count;
}

/* ---- output: text ----------------------------------------------------------- */

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

static void render_text(const report *rep, smime_buf *out)
{
    smime_buf_printf(out, "S/MIME relying-party telemetry\n");
    smime_buf_printf(out, "period: %s .. %s\n", or_label(rep->since, "start"),
                     or_label(rep->until, "end"));
    if (total_shown(rep))
        smime_buf_printf(out, "signatures: %llu\n", (unsigned long long)rep->total);
    else
        smime_buf_printf(out, "signatures: fewer than %llu\n", (unsigned long long)rep->min_count);
    smime_buf_printf(out, "buckets smaller than %llu are suppressed\n",
                     (unsigned long long)rep->min_count);
    for (int s = 0; s < SEC_COUNT; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        smime_buf_printf(out, "\n%s\n", d->title);
        for (size_t i = 0; d->title[i]; i++)
            smime_buf_putc(out, '-');
        smime_buf_putc(out, '\n');
        /* column widths */
        size_t wk = strlen(d->key_label), ws = d->subkey_label ? strlen(d->subkey_label) : 0;
        char cell[CELL_TEXT_MAX * 4 + 8];
        for (size_t i = 0; i < t->n; i++) {
            clean_cell(t->items[i].key, cell, sizeof(cell), CELL_TEXT_MAX);
            if (strlen(cell) > wk)
                wk = strlen(cell);
            clean_cell(t->items[i].subkey, cell, sizeof(cell), CELL_TEXT_MAX);
            if (d->subkey_label && strlen(cell) > ws)
                ws = strlen(cell);
        }
        smime_buf_printf(out, "  %-*s", (int)wk, d->key_label);
        if (d->subkey_label)
            smime_buf_printf(out, "  %-*s", (int)ws, d->subkey_label);
        smime_buf_printf(out, "  %10s", "count");
        if (d->value_label)
            smime_buf_printf(out, "  %s", d->value_label);
        smime_buf_putc(out, '\n');
        for (size_t i = 0; i < t->n; i++) {
            const bucket *b = &t->items[i];
            clean_cell(b->key, cell, sizeof(cell), CELL_TEXT_MAX);
            smime_buf_printf(out, "  %-*s", (int)wk, cell);
            if (d->subkey_label) {
                clean_cell(b->subkey, cell, sizeof(cell), CELL_TEXT_MAX);
                smime_buf_printf(out, "  %-*s", (int)ws, cell);
            }
            smime_buf_printf(out, "  %10llu", (unsigned long long)b->count);
            char v[32];
            value_of(rep, s, b, v, sizeof(v));
            if (d->value_label)
                smime_buf_printf(out, "  %s", v);
            smime_buf_putc(out, '\n');
        }
        if (t->n == 0)
            smime_buf_printf(out, "  (no bucket of %llu or more)\n",
                             (unsigned long long)rep->min_count);
        if (rep->suppressed[s])
            smime_buf_printf(out, "  %zu bucket(s) below %llu suppressed\n", rep->suppressed[s],
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

static void render_csv(const report *rep, smime_buf *out)
{
    smime_buf_puts(out, "section,key,subkey,count,value\r\n");
    char num[32];
    smime_buf_puts(out, "\"overview\",\"signatures\",\"\",");
    if (total_shown(rep))
        smime_buf_printf(out, "%llu,\"\"\r\n", (unsigned long long)rep->total);
    else
        smime_buf_printf(out, ",\"fewer than %llu\"\r\n", (unsigned long long)rep->min_count);
    smime_buf_puts(out, "\"overview\",\"period\",\"\",,");
    char period[64];
    snprintf(period, sizeof(period), "%s..%s", or_label(rep->since, "start"),
             or_label(rep->until, "end"));
    csv_cell(out, period);
    smime_buf_puts(out, "\r\n");
    snprintf(num, sizeof(num), "%llu", (unsigned long long)rep->min_count);
    smime_buf_printf(out, "\"overview\",\"min_count\",\"\",%s,\"\"\r\n", num);
    for (int s = 0; s < SEC_COUNT; s++) {
        const tally *t = &rep->tallies[s];
        for (size_t i = 0; i < t->n; i++) {
            csv_cell(out, sections[s].name);
            smime_buf_putc(out, ',');
            csv_cell(out, t->items[i].key);
            smime_buf_putc(out, ',');
            csv_cell(out, t->items[i].subkey);
            smime_buf_printf(out, ",%llu,", (unsigned long long)t->items[i].count);
            char v[32];
            value_of(rep, s, &t->items[i], v, sizeof(v));
            csv_cell(out, v);
            smime_buf_puts(out, "\r\n");
        }
        if (rep->suppressed[s]) {
            csv_cell(out, sections[s].name);
            smime_buf_printf(out, ",\"(suppressed buckets)\",\"\",%zu,\"below %llu\"\r\n",
                             rep->suppressed[s], (unsigned long long)rep->min_count);
        }
    }
}

/* ---- output: JSON ----------------------------------------------------------- */

static int render_json(const report *rep, smime_buf *out)
{
    smime_json j;
    smime_json_init(&j, out);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "since", rep->since[0] ? rep->since : NULL);
    smime_json_string(&j, "until", rep->until[0] ? rep->until : NULL);
    smime_json_int(&j, "min_count", (long long)rep->min_count);
    if (total_shown(rep))
        smime_json_int(&j, "signatures", (long long)rep->total);
    else
        smime_json_null(&j, "signatures");
    smime_json_begin_array(&j, "sections");
    for (int s = 0; s < SEC_COUNT; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        smime_json_begin_object(&j, NULL);
        smime_json_string(&j, "name", d->name);
        smime_json_string(&j, "title", d->title);
        smime_json_begin_array(&j, "columns");
        smime_json_string(&j, NULL, d->key_label);
        if (d->subkey_label)
            smime_json_string(&j, NULL, d->subkey_label);
        smime_json_string(&j, NULL, "count");
        if (d->value_label)
            smime_json_string(&j, NULL, d->value_label);
        smime_json_end_array(&j);
        smime_json_begin_array(&j, "rows");
        for (size_t i = 0; i < t->n; i++) {
            smime_json_begin_object(&j, NULL);
            smime_json_string(&j, "key", t->items[i].key);
            if (d->subkey_label)
                smime_json_string(&j, "subkey", t->items[i].subkey);
            smime_json_int(&j, "count", (long long)t->items[i].count);
            if (d->value_label) {
                char v[32];
                value_of(rep, s, &t->items[i], v, sizeof(v));
                smime_json_string(&j, "value", v);
            }
            smime_json_end_object(&j);
        }
        smime_json_end_array(&j);
        smime_json_int(&j, "suppressed_buckets", (long long)rep->suppressed[s]);
        smime_json_end_object(&j);
    }
    smime_json_end_array(&j);
    smime_json_end_object(&j);
    smime_buf_putc(out, '\n');
    return smime_json_ok(&j) ? 0 : -1;
}

/* ---- output: HTML ----------------------------------------------------------- */

static void html_text(smime_buf *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '<': smime_buf_puts(out, "&lt;"); break;
        case '>': smime_buf_puts(out, "&gt;"); break;
        case '&': smime_buf_puts(out, "&amp;"); break;
        case '"': smime_buf_puts(out, "&quot;"); break;
        case '\'': smime_buf_puts(out, "&#39;"); break;
        default:
            smime_buf_putc(out, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
        }
    }
}

/* A horizontal bar chart of the first CHART_BARS_MAX buckets of a section, as
 * inline SVG: the file needs nothing from the network to draw it. */
static void html_chart(const report *rep, int s, smime_buf *out)
{
    const tally *t = &rep->tallies[s];
    size_t n = t->n < CHART_BARS_MAX ? t->n : CHART_BARS_MAX;
    if (n == 0)
        return;
    int legacy = s == SEC_LEGACY || s == SEC_LEGACY_ISSUED;
    /* Counts are sorted largest first: chart the largest.  Time series are sorted
     * by month: chart the most recent. */
    const bucket *items = legacy ? t->items + (t->n - n) : t->items;
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        double v = (double)items[i].count;
        if (v > max)
            max = v;
    }
    if (legacy)
        max = 1.0;
    const int label_w = 300, bar_w = 420, row_h = 22;
    int h = (int)n * row_h + 10;
    smime_buf_printf(out,
                     "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                     "height=\"%d\" role=\"img\" aria-label=\"",
                     label_w + bar_w + 90, h);
    html_text(out, sections[s].title);
    smime_buf_puts(out, "\">\n");
    for (size_t i = 0; i < n; i++) {
        const bucket *b = &items[i];
        char label[CELL_TEXT_MAX * 4 + 8], both[2 * sizeof(label) + 4];
        snprintf(both, sizeof(both), "%s%s%s", b->key, b->subkey[0] ? " / " : "", b->subkey);
        clean_cell(both, label, sizeof(label), 40);
        int y = 5 + (int)i * row_h;
        int shown = 1;
        double v = (double)b->count;
        if (legacy) {
            shown = share_shown(b->part, b->count, rep->min_count);
            v = shown && b->count ? (double)b->part / (double)b->count : 0;
        }
        int w = max > 0 ? (int)(v / max * bar_w) : 0;
        smime_buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"12\">",
                         label_w - 6, y + 15);
        html_text(out, label);
        smime_buf_printf(out, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                              "fill=\"#3b6ea8\"/>",
                         label_w, y + 3, w < 1 ? 1 : w, row_h - 6);
        char v_text[32];
        if (legacy)
            value_of(rep, s, b, v_text, sizeof(v_text));
        else
            snprintf(v_text, sizeof(v_text), "%llu", (unsigned long long)b->count);
        smime_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n",
                         label_w + (w < 1 ? 1 : w) + 6, y + 15, v_text);
    }
    smime_buf_puts(out, "</svg>\n");
}

static void render_html(const report *rep, smime_buf *out)
{
    smime_buf_puts(out,
                   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'\">\n"
                   "<title>S/MIME relying-party telemetry</title>\n<style>\n"
                   "body{font-family:sans-serif;margin:2em;color:#222}\n"
                   "table{border-collapse:collapse;margin:.5em 0 1em}\n"
                   "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}\n"
                   "td.n{text-align:right}\n.note{color:#666;font-size:13px}\n"
                   "</style></head><body>\n<h1>S/MIME relying-party telemetry</h1>\n<p>Period: ");
    html_text(out, or_label(rep->since, "start"));
    smime_buf_puts(out, " .. ");
    html_text(out, or_label(rep->until, "end"));
    if (total_shown(rep))
        smime_buf_printf(out, ". Signatures: %llu", (unsigned long long)rep->total);
    else
        smime_buf_printf(out, ". Signatures: fewer than %llu", (unsigned long long)rep->min_count);
    smime_buf_printf(out, ". Buckets smaller than %llu are suppressed.</p>\n",
                     (unsigned long long)rep->min_count);
    for (int s = 0; s < SEC_COUNT; s++) {
        const struct section_def *d = &sections[s];
        const tally *t = &rep->tallies[s];
        smime_buf_printf(out, "<section id=\"%s\"><h2>", d->name);
        html_text(out, d->title);
        smime_buf_puts(out, "</h2>\n");
        if (s != SEC_FINDINGS_CA)
            html_chart(rep, s, out);
        smime_buf_puts(out, "<table><tr><th>");
        html_text(out, d->key_label);
        if (d->subkey_label) {
            smime_buf_puts(out, "</th><th>");
            html_text(out, d->subkey_label);
        }
        smime_buf_puts(out, "</th><th>count</th>");
        if (d->value_label) {
            smime_buf_puts(out, "<th>");
            html_text(out, d->value_label);
            smime_buf_puts(out, "</th>");
        }
        smime_buf_puts(out, "</tr>\n");
        for (size_t i = 0; i < t->n; i++) {
            smime_buf_puts(out, "<tr><td>");
            html_text(out, t->items[i].key);
            if (d->subkey_label) {
                smime_buf_puts(out, "</td><td>");
                html_text(out, t->items[i].subkey);
            }
            smime_buf_printf(out, "</td><td class=\"n\">%llu</td>",
                             (unsigned long long)t->items[i].count);
            if (d->value_label) {
                char v[32];
                value_of(rep, s, &t->items[i], v, sizeof(v));
                smime_buf_printf(out, "<td class=\"n\">%s</td>", v);
            }
            smime_buf_puts(out, "</tr>\n");
        }
        smime_buf_puts(out, "</table>\n");
        if (t->n == 0)
            smime_buf_printf(out, "<p class=\"note\">No bucket of %llu or more.</p>\n",
                             (unsigned long long)rep->min_count);
        if (rep->suppressed[s])
            smime_buf_printf(out, "<p class=\"note\">%zu bucket(s) below %llu suppressed.</p>\n",
                             rep->suppressed[s], (unsigned long long)rep->min_count);
        smime_buf_puts(out, "</section>\n");
    }
    smime_buf_puts(out, "</body></html>\n");
}

/* ---- report command --------------------------------------------------------- */

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
            "usage: smime-telemetry report --db URI [--since DATE] [--until DATE]\n"
            "                              [--min-count K] [--format text|csv|json|html]\n"
            "  --db         sqlite:PATH or postgresql://...\n"
            "  --since      first day included (YYYY-MM-DD, UTC)\n"
            "  --until      last day included\n"
            "  --min-count  buckets smaller than K are suppressed (default 10)\n"
            "  --format     text (default), csv, json or html (one self-contained file)\n");
}

static int cmd_report(int argc, char **argv)
{
    const char *db = NULL, *format = "text";
    report rep;
    memset(&rep, 0, sizeof(rep));
    rep.min_count = 10;
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },
        { "min-count", required_argument, NULL, 'k' },
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "d:s:u:k:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 's': if (parse_day("--since", optarg, rep.since) < 0) return EXIT_USAGE; break;
        case 'u': if (parse_day("--until", optarg, rep.until) < 0) return EXIT_USAGE; break;
        case 'f': format = optarg; break;
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
            break;
        }
        case 'h': report_usage(stdout); return 0;
        default: report_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!db || optind != argc) {
        fprintf(stderr, "smime-telemetry: %s\n", !db ? "--db is required" : "unexpected argument");
        report_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(format, "text") && strcmp(format, "csv") && strcmp(format, "json") &&
        strcmp(format, "html")) {
        fprintf(stderr, "smime-telemetry: --format: text, csv, json or html, not %s\n", format);
        return EXIT_USAGE;
    }
    if (rep.since[0] && rep.until[0] && strcmp(rep.since, rep.until) > 0) {
        fprintf(stderr, "smime-telemetry: --since %s is after --until %s\n", rep.since, rep.until);
        return EXIT_USAGE;
    }
    char err[512];
    smime_telemetry_sink *sink = NULL;
    if (smime_telemetry_sink_open_existing(db, &sink, err, sizeof(err)) < 0) {
        fprintf(stderr, "smime-telemetry: %s\n", err);
        return EXIT_IO;
    }
    int status = 0;
    if (smime_telemetry_sink_query(sink, rep.since[0] ? rep.since : NULL,
                                   rep.until[0] ? rep.until : NULL, add_record, &rep, err,
                                   sizeof(err)) < 0) {
        fprintf(stderr, "smime-telemetry: %s\n", err);
        status = EXIT_IO;
    }
    smime_telemetry_sink_close(sink);
    for (int s = 0; s < SEC_COUNT && status == 0; s++)
        if (rep.tallies[s].failed) {
            fprintf(stderr, "smime-telemetry: out of memory or more than %u buckets\n", TALLY_MAX);
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
            fprintf(stderr, "smime-telemetry: the report is larger than %u bytes\n", OUTPUT_CAP);
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

static void record_usage(FILE *f)
{
    fprintf(f,
            "usage: smime-telemetry record --db URI --trust-anchors PEM|DIR [--at TIME]\n"
            "                              [--no-lint] [--sender-domain off|hmac|plain]\n"
            "                              [--hmac-key-file FILE] [--secret FILE] FILE.eml...\n"
            "  --at             validation and observation time (default: now)\n"
            "  --secret         the deployment secret that keys certificate ids; made\n"
            "                   (mode 0600) on first use.  Default: PATH.secret next to a\n"
            "                   sqlite:PATH database, " SMIME_TELEMETRY_SECRET_DEFAULT "\n"
            "                   for PostgreSQL\n"
            "  --sender-domain  store the signer's domain: off (default), hmac (keyed hash,\n"
            "                   needs --hmac-key-file), plain\n");
}

static int cmd_record(int argc, char **argv)
{
    const char *db = NULL, *anchors = NULL, *at = NULL, *domain = "off", *keyfile = NULL;
    const char *secret = NULL;
    int lint = 1;
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' },
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
    while ((c = getopt_long(argc, argv, "d:t:T:nD:K:S:h", opts, NULL)) != -1) {
        switch (c) {
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
        fprintf(stderr, "usage: smime-telemetry report|record ... (--help for each)\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(argv[1], "record") == 0)
        return cmd_record(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        report_usage(stdout);
        record_usage(stdout);
        return 0;
    }
    fprintf(stderr, "smime-telemetry: unknown command %s (report, record)\n", argv[1]);
    return EXIT_USAGE;
}
