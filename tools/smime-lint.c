/* smime-lint - lint S/MIME certificates against the CA/Browser Forum S/MIME
 * Baseline Requirements, for CAs before and after issuance.
 *
 *   smime-lint [OPTIONS] FILE|DIRECTORY|- ...
 *
 * Every certificate found (PEM, several per file, or DER) is linted on its own;
 * --chain makes each file one chain (subscriber first, then its issuers) and
 * --issuer FILE gives the issuers of every certificate.  Output is text or JSON
 * Lines (one record per certificate, then a totals record).  Exit status: 0 no
 * error findings, 1 error findings, 2 usage, 3 an input that could not be read or
 * is not a certificate.  See doc/smime-lint.1. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "smime/util/buf.h"
#include "smime/util/json.h"
#include "smime/util/text.h"
#include "smime/util/timeutil.h"
#include "smime/crypto/cert.h"
#include "smime/crypto/der.h"
#include "smime/crypto/pem.h"
#include "smime/crypto/pki.h"
#include "smime/lint/lint.h"

#define MAX_INPUT_BYTES  (64u << 20)   /* one file or standard input */
#define MAX_CERTS_INPUT  200000        /* certificates in one input */
#define MAX_DIR_DEPTH    32
#define MAX_DIR_FILES    1000000       /* files collected from one directory */
#define MAX_RECORD_BYTES (1u << 20)

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_USAGE = 2, EXIT_UNREADABLE = 3 };
enum { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };

typedef struct run {
    smime_lint_options opt;
    int         format;
    int         chain;                 /* each file is one chain */
    smime_span  issuers[SMIME_LINT_MAX_ISSUERS];
    size_t      nissuers;              /* from --issuer */
    int         status;
    /* totals */
    size_t      certs, with_errors, unreadable;
    size_t     *by_id;                 /* certificates per lint table entry */
    const smime_lint_def *table;
    size_t      ntable;
} run;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: smime-lint [--format text|json] [--json] [--profile TYPE-GENERATION]\n"
        "                  [--all-dates] [--at DATE] [--no-signature-check]\n"
        "                  [--chain | --issuer FILE] FILE|DIRECTORY|- ...\n"
        "       smime-lint --list-lints [--format text|json|markdown]\n"
        "  Lints every certificate found (PEM, several per file, or DER; directories\n"
        "  recursively; - is standard input), each on its own, unless:\n"
        "  --chain        each file is one chain: the subscriber, then its issuers\n"
        "  --issuer FILE  the issuer (then its issuers) of every certificate linted;\n"
        "                 the record says whether the signature was verified\n"
        "  --format json  JSON Lines: one record per certificate, then {\"totals\":...}\n"
        "  --profile      force the type and generation; --all-dates ignores rule dates\n"
        "  TYPE: mailbox organization sponsor individual; GENERATION: legacy multipurpose strict\n"
        "  DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @EPOCH (evaluation time, default now)\n"
        "  Exit: 0 no error findings, 1 error findings, 2 usage, 3 unreadable input.\n");
}

static void set_status(run *r, int s)
{
    /* Unreadable input outranks findings: the run is incomplete. */
    if (s == EXIT_UNREADABLE || (s == EXIT_FINDINGS && r->status == EXIT_CLEAN))
        r->status = s;
}

/* ---- certificate identity ---- */

typedef struct ident {
    smime_cert_summary sum;
    int   have_sum;
    char  sha256[65];
    char  sig_alg[160];
} ident;

static void identify(smime_span der, ident *id)
{
    memset(id, 0, sizeof(*id));
    unsigned char md[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.p, der.len, md) == 0)
        smime_hex(md, sizeof md, id->sha256, sizeof id->sha256);
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = { (unsigned char *)der.p, (unsigned)der.len };
    if (gnutls_x509_crt_init(&crt) == 0) {
        if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0) {
            smime_cert_summarize(crt, &id->sum);
            id->have_sum = 1;
        }
        gnutls_x509_crt_deinit(crt);
    }
    /* The signature AlgorithmIdentifier is the second element of the Certificate. */
    smime_der_tlv cert, tbs, alg;
    smime_der_reader rd;
    if (smime_der_parse_one(der, &cert) == 0 && cert.tag == SMIME_DER_SEQUENCE) {
        smime_der_reader_init(&rd, cert.val);
        if (smime_der_next(&rd, &tbs) == 1 && smime_der_next(&rd, &alg) == 1)
            smime_lint_alg_name(alg.tlv, id->sig_alg, sizeof id->sig_alg);
    }
}

static void time_text(int64_t t, char *out, size_t n)
{
    smime_time_format(t, out, n);
}

/* ---- output ---- */

static void count_totals(run *r, const smime_lint_result *res)
{
    r->certs++;
    if (smime_lint_count(res, SMIME_SEV_ERROR))
        r->with_errors++;
    for (size_t i = 0; i < r->ntable; i++) {
        int seen = 0;
        for (size_t k = 0; k < res->nfindings && !seen; k++)
            seen = res->findings[k].id == r->table[i].id;
        r->by_id[i] += (size_t)seen;
    }
}

static void print_json(run *r, const char *file, size_t index, const ident *id,
                       const smime_lint_result *res, size_t nissuers)
{
    smime_buf out;
    smime_json j;
    smime_buf_init(&out, MAX_RECORD_BYTES);
    smime_json_init(&j, &out);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "file", file);
    smime_json_int(&j, "index", (long long)index);
    if (id->have_sum) {
        char nb[32], na[32];
        time_text(id->sum.not_before, nb, sizeof nb);
        time_text(id->sum.not_after, na, sizeof na);
        smime_json_string(&j, "subject", id->sum.subject);
        smime_json_string(&j, "issuer", id->sum.issuer);
        smime_json_string(&j, "serial", id->sum.serial);
        smime_json_string(&j, "not_before", nb);
        smime_json_string(&j, "not_after", na);
        smime_json_string(&j, "key", id->sum.key[0] ? id->sum.key : NULL);
    } else {
        smime_json_null(&j, "subject");
        smime_json_null(&j, "issuer");
        smime_json_null(&j, "serial");
        smime_json_null(&j, "not_before");
        smime_json_null(&j, "not_after");
        smime_json_null(&j, "key");
    }
    smime_json_string(&j, "sha256", id->sha256);
    smime_json_string(&j, "signature_algorithm", id->sig_alg[0] ? id->sig_alg : NULL);
    smime_json_int(&j, "issuers_given", (long long)nissuers);
    smime_lint_result_json(res, &j);
    smime_json_end_object(&j);
    if (!smime_json_ok(&j)) {
        fprintf(stderr, "smime-lint: %s: JSON record too large\n", file);
        set_status(r, EXIT_UNREADABLE);
    } else {
        fputs(out.data, stdout);
        fputc('\n', stdout);
    }
    smime_buf_free(&out);
}

/* Messages and fields may quote certificate text: no control characters. */
static void clean(const char *in, char *out, size_t n)
{
    size_t k;
    for (k = 0; in[k] && k + 1 < n; k++)
        out[k] = (unsigned char)in[k] < 0x20 || in[k] == 0x7f ? '?' : in[k];
    out[k] = '\0';
}

static void print_text(const char *file, size_t index, size_t ncerts, const ident *id,
                       const smime_lint_result *r, size_t nissuers)
{
    char subj[SMIME_TEXT_MAX];
    clean(id->have_sum ? id->sum.subject : "(unreadable)", subj, sizeof subj);
    if (ncerts > 1)
        printf("%s #%zu: %s\n", file, index + 1, subj);
    else
        printf("%s: %s\n", file, subj);
    if (id->have_sum) {
        char nb[32];
        time_text(id->sum.not_before, nb, sizeof nb);
        printf("  serial %s, notBefore %s, key %s, signature %s, sha256 %s\n", id->sum.serial, nb,
               id->sum.key[0] ? id->sum.key : "?", id->sig_alg[0] ? id->sig_alg : "?", id->sha256);
    }
    if (r->scope & SMIME_SCOPE_CA) {
        printf("  linted as a CA certificate");
    } else {
        const char *t = smime_lint_type_name(r->type), *g = smime_lint_gen_name(r->generation);
        printf("  profile %s-%s", t ? t : "unknown", g ? g : "unknown");
        if (r->policy_oid[0])
            printf(" (policy %s)", r->policy_oid);
        if (r->scope & SMIME_SCOPE_FORCED)
            printf(" [forced]");
        if (r->scope & SMIME_SCOPE_GUESSED)
            printf(" [type guessed: no SBR policy OID]");
        if (!(r->scope & SMIME_SCOPE_IN_SBR))
            printf((r->scope & SMIME_SCOPE_ASSERTED) ? " [asserts the SBR without EKU/mailbox: linted in full]"
                                                     : " [out of SBR scope]");
    }
    if (r->scope & SMIME_SCOPE_PRE_SBR)
        printf(" [pre-SBR]");
    printf("\n");
    if (nissuers)
        printf("  issuer signature: %s\n", smime_lint_issuer_sig_name(r->issuer_signature));
    static const char *const heads[] = { "info", "notices", "warnings", "errors" };
    for (int sev = SMIME_SEV_ERROR; sev >= SMIME_SEV_INFO; sev--) {
        size_t n = smime_lint_count(r, (smime_lint_severity)sev);
        if (n == 0)
            continue;
        printf("  %s (%zu):\n", heads[sev], n);
        for (size_t i = 0; i < r->nfindings; i++) {
            const smime_lint_finding *f = &r->findings[i];
            if ((int)f->severity != sev)
                continue;
            char msg[SMIME_LINT_MSG_MAX], field[SMIME_LINT_FIELD_MAX], eff[16];
            clean(f->message, msg, sizeof msg);
            clean(f->field, field, sizeof field);
            smime_lint_effective_text(f, eff, sizeof eff);
            printf("    %-22s %-14s %-10s %s%s%s%s%s\n", f->id, f->section, eff,
                   f->pre_sbr ? "(pre-SBR) " : "", f->cert ? "[issuer] " : "", field,
                   field[0] ? ": " : "", msg);
        }
    }
    if (r->nfindings == 0)
        printf("  no findings\n");
    if (r->dropped)
        printf("  (%zu more findings dropped)\n", r->dropped);
}

static void print_totals(const run *r)
{
    if (r->format == FMT_JSON) {
        smime_buf out;
        smime_json j;
        smime_buf_init(&out, MAX_RECORD_BYTES);
        smime_json_init(&j, &out);
        smime_json_begin_object(&j, NULL);
        smime_json_begin_object(&j, "totals");
        smime_json_int(&j, "certificates", (long long)r->certs);
        smime_json_int(&j, "with_errors", (long long)r->with_errors);
        smime_json_int(&j, "unreadable_inputs", (long long)r->unreadable);
        smime_json_begin_object(&j, "by_id");
        for (size_t i = 0; i < r->ntable; i++)
            if (r->by_id[i])
                smime_json_int(&j, r->table[i].id, (long long)r->by_id[i]);
        smime_json_end_object(&j);
        smime_json_end_object(&j);
        smime_json_end_object(&j);
        if (smime_json_ok(&j))
            printf("%s\n", out.data);
        smime_buf_free(&out);
        return;
    }
    printf("%zu certificate%s, %zu with errors", r->certs, r->certs == 1 ? "" : "s", r->with_errors);
    if (r->unreadable)
        printf(", %zu unreadable input%s", r->unreadable, r->unreadable == 1 ? "" : "s");
    const char *sep = "; certificates by finding: ";
    for (size_t i = 0; i < r->ntable; i++)
        if (r->by_id[i]) {
            printf("%s%s %zu", sep, r->table[i].id, r->by_id[i]);
            sep = ", ";
        }
    printf("\n");
}

/* ---- linting ---- */

static int lint_one(run *r, const char *file, size_t index, size_t ncerts, smime_span subject,
                    const smime_span *issuers, size_t nissuers)
{
    smime_lint_result *res = NULL;
    if (nissuers > SMIME_LINT_MAX_ISSUERS)
        nissuers = SMIME_LINT_MAX_ISSUERS;
    if (smime_lint_cert(subject.p, subject.len, issuers, nissuers, &r->opt, &res) != 0) {
        fprintf(stderr, "smime-lint: %s: out of memory\n", file);
        return -1;
    }
    ident id;
    identify(subject, &id);
    if (res->scope & SMIME_SCOPE_UNPARSABLE) {
        fprintf(stderr, "smime-lint: %s: certificate %zu is not a valid certificate: %s\n", file,
                index + 1, res->nfindings ? res->findings[0].message : "");
        set_status(r, EXIT_UNREADABLE);
    }
    if (r->format == FMT_JSON)
        print_json(r, file, index, &id, res, nissuers);
    else
        print_text(file, index, ncerts, &id, res, nissuers);
    count_totals(r, res);
    if (smime_lint_count(res, SMIME_SEV_ERROR))
        set_status(r, EXIT_FINDINGS);
    smime_lint_result_free(res);
    return 0;
}

/* The certificates of an input: PEM blocks (decoded in place in buf), else DER
 * certificates back to back.  Returns the count (0: no certificate), or -1 with a
 * reason; *out is allocated (free it). */
static int find_certs(smime_buf *buf, smime_span **out, const char **why)
{
    *out = NULL;
    size_t blocks = 0;
    static const char marker[] = "-----BEGIN CERTIFICATE-----";
    const size_t ml = sizeof marker - 1;
    for (size_t i = 0; i + ml <= buf->len; i++)
        if (buf->data[i] == '-' && memcmp(buf->data + i, marker, ml) == 0) {
            blocks++;
            i += ml - 1;
        }
    if (blocks > MAX_CERTS_INPUT) {
        *why = "more certificates than smime-lint takes from one input (200000)";
        return -1;
    }
    if (blocks) {
        *out = malloc(blocks * sizeof(**out));
        if (*out == NULL) {
            *why = "out of memory";
            return -1;
        }
        int n = smime_pem_certs(buf->data, buf->len, *out, (int)blocks);
        if (n < 0) {
            *why = "malformed PEM certificate block";
            return -1;
        }
        return n;
    }
    /* DER: SEQUENCEs back to back; counted before any is kept. */
    smime_span all = { (const uint8_t *)buf->data, buf->len };
    smime_der_reader rd;
    smime_der_tlv t;
    size_t n = 0;
    int more;
    smime_der_reader_init(&rd, all);
    while ((more = smime_der_next(&rd, &t)) == 1 && t.tag == SMIME_DER_SEQUENCE)
        if (++n > MAX_CERTS_INPUT) {
            *why = "more certificates than smime-lint takes from one input (200000)";
            return -1;
        }
    if (n == 0 || more != 0 || !smime_der_at_end(&rd))
        return 0;
    *out = malloc(n * sizeof(**out));
    if (*out == NULL) {
        *why = "out of memory";
        return -1;
    }
    smime_der_reader_init(&rd, all);
    for (size_t i = 0; i < n && smime_der_next(&rd, &t) == 1; i++)
        (*out)[i] = t.tlv;
    return (int)n;
}

/* Reads an input; in_dir: found by walking a directory, where a file that holds
 * no certificate is skipped (named on stderr) rather than an error. */
static int lint_input(run *r, const char *path, int in_dir)
{
    smime_buf buf;
    smime_buf_init(&buf, MAX_INPUT_BYTES);
    if (smime_buf_read_file(&buf, path, 0) != 0) {
        fprintf(stderr, "smime-lint: %s: %s\n", path,
                errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
        smime_buf_free(&buf);
        r->unreadable++;
        set_status(r, EXIT_UNREADABLE);
        return 0;
    }
    smime_span *certs = NULL;
    const char *why = NULL;
    int n = find_certs(&buf, &certs, &why);
    int rc = 0;
    if (n <= 0) {
        if (n == 0 && in_dir) {
            fprintf(stderr, "smime-lint: %s: no certificate, skipped\n", path);
        } else {
            fprintf(stderr, "smime-lint: %s: %s\n", path,
                    n < 0 ? why : "not a certificate (neither PEM \"BEGIN CERTIFICATE\" nor DER)");
            r->unreadable++;
            set_status(r, EXIT_UNREADABLE);
        }
    } else if (r->chain) {
        if (n - 1 > SMIME_LINT_MAX_ISSUERS)
            fprintf(stderr, "smime-lint: %s: a chain of %d issuers: only the first %d are used\n", path,
                    n - 1, SMIME_LINT_MAX_ISSUERS);
        rc = lint_one(r, path, 0, 1, certs[0], certs + 1, (size_t)n - 1);
    } else {
        for (int i = 0; i < n && rc == 0; i++)
            rc = lint_one(r, path, (size_t)i, (size_t)n, certs[i], r->issuers, r->nissuers);
    }
    free(certs);
    smime_buf_free(&buf);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the regular files under dir (sorted, so runs are repeatable); symbolic
 * links to directories are not followed (no cycles).  0, or -1 out of memory. */
static int walk(run *r, const char *dir, int depth, char ***files, size_t *n, size_t *cap)
{
    if (depth > MAX_DIR_DEPTH) {
        fprintf(stderr, "smime-lint: %s: deeper than %d directories, not read\n", dir, MAX_DIR_DEPTH);
        r->unreadable++;
        set_status(r, EXIT_UNREADABLE);
        return 0;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "smime-lint: %s: %s\n", dir, strerror(errno));
        r->unreadable++;
        set_status(r, EXIT_UNREADABLE);
        return 0;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (p == NULL) {
            rc = -1;
            break;
        }
        snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            fprintf(stderr, "smime-lint: %s: %s\n", p, strerror(errno));
            free(p);
            continue;
        }
        if (S_ISLNK(st.st_mode) && (stat(p, &st) != 0 || S_ISDIR(st.st_mode))) {
            free(p);                  /* dangling, or a link to a directory */
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk(r, p, depth + 1, files, n, cap);
            free(p);
        } else if (S_ISREG(st.st_mode)) {
            if (*n == MAX_DIR_FILES) {
                fprintf(stderr, "smime-lint: %s: more than %d files, the rest not read\n", dir, MAX_DIR_FILES);
                r->unreadable++;
                set_status(r, EXIT_UNREADABLE);
                free(p);
                break;
            }
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 256;
                char **nf = realloc(*files, nc * sizeof(*nf));
                if (nf == NULL) {
                    free(p);
                    rc = -1;
                    break;
                }
                *files = nf;
                *cap = nc;
            }
            (*files)[(*n)++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

static int lint_path(run *r, const char *path)
{
    struct stat st;
    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char **files = NULL;
        size_t n = 0, cap = 0;
        int rc = walk(r, path, 0, &files, &n, &cap);
        if (rc == 0 && n)
            qsort(files, n, sizeof(*files), cmp_str);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0)
                rc = lint_input(r, files[i], 1);
            free(files[i]);
        }
        free(files);
        if (rc != 0)
            fprintf(stderr, "smime-lint: %s: out of memory\n", path);
        return rc;
    }
    return lint_input(r, path, 0);
}

/* ---- --list-lints ---- */

static void mask_text(unsigned m, unsigned all, const char *const *names, int first, int last,
                      char *out, size_t n)
{
    if ((m & all) == all) {
        snprintf(out, n, "all");
        return;
    }
    size_t o = 0;
    out[0] = '\0';
    for (int i = first; i <= last; i++)
        if (m & (1u << i))
            o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", o ? " " : "", names[i]);
}

static void dates_text(const smime_lint_def *d, char *out, size_t n)
{
    char a[32], b[32];
    if (!d->from && !d->until) {
        snprintf(out, n, "—");
        return;
    }
    smime_time_format(d->from, a, sizeof a);
    smime_time_format(d->until, b, sizeof b);
    if (d->from && d->until)
        snprintf(out, n, "≥ %.10s < %.10s", a, b);
    else if (d->from)
        snprintf(out, n, "≥ %.10s", a);
    else
        snprintf(out, n, "< %.10s", b);
    if (d->date_fixed)
        snprintf(out + strlen(out), n - strlen(out), " (kept with --all-dates)");
}

static int list_lints(int format)
{
    static const char *const tnames[] = { NULL, "MV", "OV", "SV", "IV" };
    static const char *const gnames[] = { NULL, "L", "M", "S" };
    static const char *const targets[] = { "leaf", "CA", "leaf+issuer" };
    static const char *const sev[] = { "I", "N", "W", "E" };
    size_t n;
    const smime_lint_def *t = smime_lint_table(&n);
    if (format == FMT_MARKDOWN) {
        printf("| ID | SBR § | Sev | Types | Gens | Target | Dates (notBefore) | What |\n");
        printf("|---|---|---|---|---|---|---|---|\n");
    }
    for (size_t i = 0; i < n; i++) {
        const smime_lint_def *d = &t[i];
        char types[32], gens[16], dates[96];
        mask_text(d->types, SMIME_T_ALL, tnames, 1, 4, types, sizeof types);
        mask_text(d->gens, SMIME_G_ALL, gnames, 1, 3, gens, sizeof gens);
        dates_text(d, dates, sizeof dates);
        const char *target = (unsigned)d->target <= 2 ? targets[d->target] : "?";
        if (format == FMT_MARKDOWN) {
            printf("| %s | %s | %s | %s | %s | %s | %s | ", d->id, d->section, sev[d->severity], types,
                   gens, target, dates);
            for (const char *p = d->description; *p; p++)
                fputs(*p == '|' ? "\\|" : (char[2]){ *p, 0 }, stdout);
            printf(" |\n");
        } else if (format == FMT_JSON) {
            smime_buf out;
            smime_json j;
            char eff[16] = "";
            smime_buf_init(&out, 1u << 16);
            smime_json_init(&j, &out);
            smime_json_begin_object(&j, NULL);
            smime_json_string(&j, "id", d->id);
            smime_json_string(&j, "section", d->section);
            smime_json_string(&j, "severity", smime_lint_severity_name(d->severity));
            smime_json_string(&j, "types", types);
            smime_json_string(&j, "generations", gens);
            smime_json_string(&j, "target", target);
            smime_lint_finding probe = { .effective = d->from ? d->from : SMIME_SBR_START };
            smime_json_string(&j, "effective", smime_lint_effective_text(&probe, eff, sizeof eff));
            smime_json_string(&j, "dates", dates);
            smime_json_string(&j, "description", d->description);
            smime_json_end_object(&j);
            if (smime_json_ok(&j))
                printf("%s\n", out.data);
            smime_buf_free(&out);
        } else {
            printf("%-22s %-14s %s  %-10s %-5s %-11s %s\n  %s\n", d->id, d->section, sev[d->severity],
                   types, gens, target, dates, d->description);
        }
    }
    return fflush(stdout) == 0 ? EXIT_CLEAN : EXIT_UNREADABLE;
}

/* ---- main ---- */

static int load_issuers(run *r, const char *path, smime_buf *buf)
{
    smime_buf_init(buf, MAX_INPUT_BYTES);
    smime_span *certs = NULL;
    const char *why = "not a certificate (neither PEM \"BEGIN CERTIFICATE\" nor DER)";
    if (smime_buf_read_file(buf, path, 0) != 0) {
        fprintf(stderr, "smime-lint: --issuer %s: %s\n", path, strerror(errno));
        return -1;
    }
    int n = find_certs(buf, &certs, &why);
    if (n <= 0) {
        fprintf(stderr, "smime-lint: --issuer %s: %s\n", path, why);
        free(certs);
        return -1;
    }
    if (n > SMIME_LINT_MAX_ISSUERS) {
        fprintf(stderr, "smime-lint: --issuer %s: more than %d certificates\n", path, SMIME_LINT_MAX_ISSUERS);
        free(certs);
        return -1;
    }
    memcpy(r->issuers, certs, (size_t)n * sizeof(*certs));
    r->nissuers = (size_t)n;
    free(certs);
    return 0;
}

int main(int argc, char **argv)
{
    run r = { .opt = { .now = (int64_t)time(NULL), .lint_ca = 1 }, .format = FMT_TEXT };
    int first_file = 0, list = 0;
    const char *issuer_file = NULL, *format = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            format = "json";
        } else if (strcmp(a, "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else if (strcmp(a, "--all-dates") == 0) {
            r.opt.all_dates = 1;
        } else if (strcmp(a, "--no-signature-check") == 0) {
            r.opt.no_signature_check = 1;
        } else if (strcmp(a, "--chain") == 0) {
            r.chain = 1;
        } else if (strcmp(a, "--issuer") == 0 && i + 1 < argc) {
            issuer_file = argv[++i];
        } else if (strcmp(a, "--list-lints") == 0) {
            list = 1;
        } else if (strcmp(a, "--profile") == 0 && i + 1 < argc) {
            if (smime_lint_parse_profile(argv[++i], &r.opt.force_type, &r.opt.force_gen) != 0) {
                fprintf(stderr, "smime-lint: unknown profile \"%s\"\n", argv[i]);
                usage(stderr);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--at") == 0 && i + 1 < argc) {
            if (smime_time_parse(argv[++i], &r.opt.now) != 0) {
                fprintf(stderr, "smime-lint: cannot read date \"%s\"\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return EXIT_CLEAN;
        } else if (strcmp(a, "--") == 0) {
            first_file = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "smime-lint: unknown option \"%s\"\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else {
            first_file = i;
            break;
        }
    }
    if (format == NULL || strcmp(format, "text") == 0)
        r.format = FMT_TEXT;
    else if (strcmp(format, "json") == 0)
        r.format = FMT_JSON;
    else if (strcmp(format, "markdown") == 0 && list)
        r.format = FMT_MARKDOWN;
    else {
        fprintf(stderr, "smime-lint: unknown format \"%s\"\n", format);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (list) {
        if (first_file) {
            usage(stderr);
            return EXIT_USAGE;
        }
        return list_lints(r.format);
    }
    if (first_file == 0 || first_file >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (r.chain && issuer_file) {
        fprintf(stderr, "smime-lint: --chain and --issuer exclude each other\n");
        return EXIT_USAGE;
    }
    if (r.opt.force_type != SMIME_TYPE_NONE)
        r.opt.lint_ca = 0;            /* a forced profile lints every certificate as a subscriber */
    smime_buf issuer_buf = { 0 };
    if (issuer_file && load_issuers(&r, issuer_file, &issuer_buf) != 0) {
        smime_buf_free(&issuer_buf);
        return EXIT_UNREADABLE;
    }
    r.table = smime_lint_table(&r.ntable);
    r.by_id = calloc(r.ntable, sizeof(*r.by_id));
    if (r.by_id == NULL) {
        fprintf(stderr, "smime-lint: out of memory\n");
        smime_buf_free(&issuer_buf);
        return EXIT_UNREADABLE;
    }
    int rc = 0;
    for (int i = first_file; i < argc && rc == 0; i++)
        rc = lint_path(&r, argv[i]);
    if (rc == 0)
        print_totals(&r);
    free(r.by_id);
    smime_buf_free(&issuer_buf);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "smime-lint: cannot write the output\n");
        return EXIT_UNREADABLE;
    }
    return rc != 0 ? EXIT_UNREADABLE : r.status;
}
