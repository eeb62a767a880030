/* smime-lint - lint S/MIME certificates against the CA/Browser Forum S/MIME
 * Baseline Requirements.
 *
 *   smime-lint [--json] [--profile TYPE-GENERATION] [--all-dates] [--at DATE]
 *              [--no-signature-check] FILE...
 *
 * Each FILE is PEM or DER; a PEM file with several certificates is a chain, the
 * subscriber first, then its issuers.  Exit status: 0 no error findings, 1 error
 * findings, 2 usage or input error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smime/util/buf.h"
#include "smime/crypto/der.h"
#include "smime/util/json.h"
#include "smime/lint/lint.h"
#include "smime/crypto/pem.h"

#define MAX_FILE_BYTES (8u << 20)
#define MAX_CHAIN      (1 + SMIME_LINT_MAX_ISSUERS)

static void usage(FILE *f)
{
    fprintf(f, "usage: smime-lint [--json] [--profile TYPE-GENERATION] [--all-dates] [--at DATE]\n"
               "                  [--no-signature-check] FILE...\n"
               "  TYPE: mailbox organization sponsor individual; GENERATION: legacy multipurpose strict\n"
               "  DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @EPOCH (evaluation time, default now)\n");
}

/* Reads a whole file into buf (capped).  0 or -1 with errno-style message printed. */
static int read_file(const char *path, smime_buf *buf)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "smime-lint: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (smime_buf_append(buf, chunk, n) != 0)
            break;
    int bad = ferror(f);
    fclose(f);
    if (buf->overflow) {
        fprintf(stderr, "smime-lint: %s: larger than %u bytes\n", path, MAX_FILE_BYTES);
        return -1;
    }
    if (bad) {
        fprintf(stderr, "smime-lint: %s: read error\n", path);
        return -1;
    }
    return 0;
}

static int parse_at(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    char z = 0;
    if (s[0] == '@') {
        char *endp;
        errno = 0;
        long long v = strtoll(s + 1, &endp, 10);
        if (errno || *endp || endp == s + 1)
            return -1;
        *out = v;
        return 0;
    }
    int k = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z);
    if (!(k == 3 && strlen(s) == 10) && !(k == 7 && z == 'Z'))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    *out = smime_der_epoch(y, mo, d, h, mi, sec);
    return 0;
}

static void print_text(const char *file, const smime_lint_result *r)
{
    const char *t = smime_lint_type_name(r->type), *g = smime_lint_gen_name(r->generation);
    printf("%s: profile %s-%s", file, t ? t : "unknown", g ? g : "unknown");
    if (r->policy_oid[0])
        printf(" (policy %s)", r->policy_oid);
    if (r->scope & SMIME_SCOPE_FORCED)
        printf(" [forced]");
    if (r->scope & SMIME_SCOPE_GUESSED)
        printf(" [type guessed: no SBR policy OID]");
    if (!(r->scope & SMIME_SCOPE_IN_SBR))
        printf(" [out of SBR scope]");
    printf("\n");
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
            /* Messages may quote certificate text: drop control characters. */
            char msg[SMIME_LINT_MSG_MAX];
            size_t k;
            for (k = 0; f->message[k]; k++)
                msg[k] = (unsigned char)f->message[k] < 0x20 ? '?' : f->message[k];
            msg[k] = '\0';
            printf("    %-22s %-14s %s%s%s%s\n", f->id, f->section, f->cert ? "[issuer] " : "",
                   f->field, f->field[0] ? ": " : "", msg);
        }
    }
    if (r->nfindings == 0)
        printf("  no findings\n");
    if (r->dropped)
        printf("  (%zu more findings dropped)\n", r->dropped);
}

int main(int argc, char **argv)
{
    int json = 0, first_file = 0;
    smime_lint_options opt = { .now = (int64_t)time(NULL) };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--all-dates") == 0) {
            opt.all_dates = 1;
        } else if (strcmp(a, "--no-signature-check") == 0) {
            opt.no_signature_check = 1;
        } else if (strcmp(a, "--profile") == 0 && i + 1 < argc) {
            if (smime_lint_parse_profile(argv[++i], &opt.force_type, &opt.force_gen) != 0) {
                fprintf(stderr, "smime-lint: unknown profile \"%s\"\n", argv[i]);
                usage(stderr);
                return 2;
            }
        } else if (strcmp(a, "--at") == 0 && i + 1 < argc) {
            if (parse_at(argv[++i], &opt.now) != 0) {
                fprintf(stderr, "smime-lint: cannot read date \"%s\"\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            first_file = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "smime-lint: unknown option \"%s\"\n", a);
            usage(stderr);
            return 2;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file == 0 || first_file >= argc) {
        usage(stderr);
        return 2;
    }
    int status = 0;
    for (int i = first_file; i < argc; i++) {
        const char *path = argv[i];
        smime_buf buf;
        smime_buf_init(&buf, MAX_FILE_BYTES);
        if (read_file(path, &buf) != 0) {
            smime_buf_free(&buf);
            status = 2;
            continue;
        }
        smime_span chain[MAX_CHAIN];
        int n = buf.len ? smime_pem_certs(buf.data, buf.len, chain, MAX_CHAIN) : 0;
        if (n < 0) {
            fprintf(stderr, "smime-lint: %s: malformed PEM certificate block (or more than %d certificates)\n",
                    path, MAX_CHAIN);
            smime_buf_free(&buf);
            status = 2;
            continue;
        }
        if (n == 0) {
            smime_der_tlv t;
            smime_span all = { (const uint8_t *)buf.data, buf.len };
            if (buf.len == 0 || smime_der_parse_one(all, &t) != 0 || t.tag != SMIME_DER_SEQUENCE) {
                fprintf(stderr, "smime-lint: %s: not a certificate (neither PEM \"BEGIN CERTIFICATE\" nor DER)\n", path);
                smime_buf_free(&buf);
                status = 2;
                continue;
            }
            chain[0] = all;
            n = 1;
        }
        smime_lint_result *r = NULL;
        if (smime_lint_cert(chain[0].p, chain[0].len, chain + 1, (size_t)(n - 1), &opt, &r) != 0) {
            fprintf(stderr, "smime-lint: %s: out of memory\n", path);
            smime_buf_free(&buf);
            return 2;
        }
        if ((r->scope & SMIME_SCOPE_UNPARSABLE) && !json) {
            fprintf(stderr, "smime-lint: %s: not a valid certificate: %s\n", path,
                    r->nfindings ? r->findings[0].message : "");
            if (status < 2)
                status = 2;
        } else if (json) {
            smime_buf out;
            smime_json j;
            smime_buf_init(&out, 1u << 20);
            smime_json_init(&j, &out);
            smime_json_begin_object(&j, NULL);
            smime_json_string(&j, "file", path);
            smime_lint_result_json(r, &j);
            smime_json_end_object(&j);
            if (!smime_json_ok(&j)) {
                fprintf(stderr, "smime-lint: %s: JSON output too large\n", path);
                status = 2;
            } else {
                printf("%s\n", out.data);
            }
            smime_buf_free(&out);
            if (r->scope & SMIME_SCOPE_UNPARSABLE)
                status = 2;
        } else {
            print_text(path, r);
        }
        if (smime_lint_count(r, SMIME_SEV_ERROR) && status == 0)
            status = 1;
        smime_lint_result_free(r);
        smime_buf_free(&buf);
    }
    fflush(stdout);
    return status;
}
