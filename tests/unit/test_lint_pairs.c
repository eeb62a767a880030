/* Runs every entry of the lint table against its certificate pair: the passing
 * certificate must not produce a finding with the entry's ID, the failing one must.
 * The pairs are made by tests/lint/make-test-certs.sh and listed in
 * tests/lint/cases.tsv; an entry with no pair must be listed, with a reason, in
 * tests/lint/pending.tsv, otherwise this test fails (so a lint cannot be added
 * without a test).  Run from the project root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/lint/lint.h"
#include "smime/crypto/pem.h"

#define CASES   "tests/lint/cases.tsv"
#define PENDING "tests/lint/pending.tsv"
#define CERTDIR "tests/lint/certs/"
#define MAX_LINES 512
#define NOW_2026_11_28 1795824000LL

typedef struct line { char f[4][160]; int nf; } line;

/* Reads a tab-separated file, skipping comments; returns the number of lines. */
static int read_tsv(const char *path, line *out, int max)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char buf[1024];
    int n = 0;
    while (fgets(buf, sizeof buf, f) && n < max) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0] == '#' || buf[0] == '\0')
            continue;
        line *l = &out[n++];
        l->nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, "\t", &save); t && l->nf < 4; t = strtok_r(NULL, "\t", &save))
            snprintf(l->f[l->nf++], sizeof l->f[0], "%s", t);
    }
    fclose(f);
    return n;
}

/* Lints a chain file; returns 1 when a finding `id` exists, 0 when not, -1 on error. */
static int has_finding(const char *file, const char *force, const char *id)
{
    char path[256];
    snprintf(path, sizeof path, CERTDIR "%s", file);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    static char text[1 << 16];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    smime_span chain[1 + SMIME_LINT_MAX_ISSUERS];
    int n = smime_pem_certs(text, len, chain, 1 + SMIME_LINT_MAX_ISSUERS);
    if (n <= 0)
        return -1;
    smime_lint_options opt = { .now = NOW_2026_11_28 };
    if (strcmp(force, "-") != 0 && smime_lint_parse_profile(force, &opt.force_type, &opt.force_gen) != 0)
        return -1;
    smime_lint_result *r = NULL;
    if (smime_lint_cert(chain[0].p, chain[0].len, chain + 1, (size_t)(n - 1), &opt, &r) != 0)
        return -1;
    int found = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].id, id) == 0)
            found = 1;
    smime_lint_result_free(r);
    return found;
}

static void test_every_lint_has_a_passing_and_failing_certificate(void **state)
{
    (void)state;
    static line cases[MAX_LINES], pending[MAX_LINES];
    int nc = read_tsv(CASES, cases, MAX_LINES), np = read_tsv(PENDING, pending, MAX_LINES);
    assert_true(nc > 0);
    assert_true(np >= 0);
    size_t nt;
    const smime_lint_def *tab = smime_lint_table(&nt);
    int failures = 0, pairs = 0, waiting = 0;
    for (size_t i = 0; i < nt; i++) {
        const char *id = tab[i].id;
        int have = 0;
        for (int k = 0; k < nc; k++) {
            if (strcmp(cases[k].f[0], id) != 0 || cases[k].nf < 4)
                continue;
            have = 1;
            int p = has_finding(cases[k].f[2], cases[k].f[1], id);
            int q = has_finding(cases[k].f[3], cases[k].f[1], id);
            if (p != 0) {
                printf("FAIL %s: passing certificate %s %s\n", id, cases[k].f[2],
                       p < 0 ? "cannot be read" : "produces the finding");
                failures++;
            }
            if (q != 1) {
                printf("FAIL %s: failing certificate %s %s\n", id, cases[k].f[3],
                       q < 0 ? "cannot be read" : "does not produce the finding");
                failures++;
            }
            if (p == 0 && q == 1)
                pairs++;
        }
        if (!have) {
            int listed = 0;
            for (int k = 0; k < np; k++)
                if (strcmp(pending[k].f[0], id) == 0 && pending[k].nf >= 2 && pending[k].f[1][0])
                    listed = 1;
            if (listed) {
                waiting++;
            } else {
                printf("FAIL %s: no certificate pair in %s and no reason in %s\n", id, CASES, PENDING);
                failures++;
            }
        }
    }
    /* Every case and pending line must name a table entry. */
    for (int k = 0; k < nc + np; k++) {
        const char *id = k < nc ? cases[k].f[0] : pending[k - nc].f[0];
        int known = 0;
        for (size_t i = 0; i < nt; i++)
            known |= strcmp(tab[i].id, id) == 0;
        if (!known) {
            printf("FAIL %s: listed in the test files but not in the lint table\n", id);
            failures++;
        }
    }
    printf("%zu lints: %d with a passing pair, %d pending (see %s), %d failures\n", nt, pairs, waiting,
           PENDING, failures);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_lint_has_a_passing_and_failing_certificate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
