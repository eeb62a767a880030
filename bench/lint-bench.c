/* lint-bench - how many certificates a second the SBR linter takes on one core,
 * the way a CA runs it over a batch: the first certificate of every file under
 * the directories given (pkilint's and zlint's corpora: 275), linted in default
 * mode, one after the other, until TOTAL certificates have been linted.
 *
 *   lint-bench TOTAL DIR...
 *
 * Prints "lint_certs_per_s N" (by the process's CPU time, which on a shared
 * machine is the figure that holds), "lint_certs_per_s_wall N", and the counts. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "smime/crypto/der.h"
#include "smime/crypto/pem.h"
#include "smime/lint/lint.h"
#include "smime/util/buf.h"

#define MAX_FILES 4096
#define MAX_DEPTH 8

typedef struct corpus {
    smime_span cert[MAX_FILES];
    char      *text[MAX_FILES];     /* owned: the decoded PEM the spans point into */
    int        n;
} corpus;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the first certificate of every file under dir, in sorted order. */
static void collect(corpus *c, const char *dir, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    char *names[MAX_FILES];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && nn < MAX_FILES)
        if (e->d_name[0] != '.' && (names[nn] = strdup(e->d_name)) != NULL)
            nn++;
    closedir(d);
    qsort(names, (size_t)nn, sizeof(*names), cmp_str);
    for (int i = 0; i < nn; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            collect(c, path, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode) || c->n == MAX_FILES)
            continue;
        smime_buf b;
        smime_buf_init(&b, 1u << 20);
        size_t len;
        if (smime_buf_read_file(&b, path, 0) != 0) {
            smime_buf_free(&b);
            continue;
        }
        char *text = smime_buf_steal(&b, &len);
        smime_span one;
        if (text && smime_pem_certs(text, len, &one, 1) == 1) {
            c->cert[c->n] = one;
            c->text[c->n++] = text;
        } else {
            free(text);
        }
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lint-bench TOTAL DIR...\n");
        return 2;
    }
    long total = atol(argv[1]);
    static corpus c;
    for (int i = 2; i < argc; i++)
        collect(&c, argv[i], 0);
    if (c.n == 0 || total <= 0) {
        fprintf(stderr, "lint-bench: no certificates\n");
        return 1;
    }
    /* A fixed evaluation time: the figure does not move with the calendar. */
    smime_lint_options opt = { .now = 1795824000 /* 2026-11-28 */ };
    long errors = 0;
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), wall0 = clock_s(CLOCK_MONOTONIC);
    for (long k = 0; k < total; k++) {
        const smime_span *s = &c.cert[k % c.n];
        smime_lint_result *r;
        if (smime_lint_cert(s->p, s->len, NULL, 0, &opt, &r) != 0) {
            fprintf(stderr, "lint-bench: out of memory\n");
            return 1;
        }
        errors += smime_lint_count(r, SMIME_SEV_ERROR) > 0;
        smime_lint_result_free(r);
    }
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = clock_s(CLOCK_MONOTONIC) - wall0;
    printf("lint_certs_per_s %.0f\n", (double)total / (cpu > 0 ? cpu : 1e-9));
    printf("lint_certs_per_s_wall %.0f\n", (double)total / (wall > 0 ? wall : 1e-9));
    printf("lint_corpus_certs %d\n", c.n);
    printf("lint_total_certs %ld\n", total);
    printf("lint_certs_with_errors %ld\n", errors);
    for (int i = 0; i < c.n; i++)
        free(c.text[i]);
    return 0;
}
