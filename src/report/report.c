/* report - the result model (see include/smime/report/report.h). */
#include "smime/report/report.h"

#include "smime/lint/lint.h"
#include "smime/util/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const result_names[SMIME_RESULT_COUNT] = {
    "none", "pass", "fail", "neutral", "policy", "temperror", "permerror",
};

const char *smime_result_name(smime_result r)
{
    return (unsigned)r < SMIME_RESULT_COUNT ? result_names[r] : "permerror";
}

int smime_result_parse(const char *word)
{
    for (int i = 0; i < SMIME_RESULT_COUNT; i++)
        if (strcmp(word, result_names[i]) == 0)
            return i;
    return -1;
}

smime_report *smime_report_new(void)
{
    return calloc(1, sizeof(smime_report));
}

void smime_report_free(smime_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_sigs; i++) {
        smime_lint_result_free(r->sigs[i].lint);
        free(r->sigs[i].certs_pem);
    }
    free(r->sigs);
    free(r);
}

smime_sig_report *smime_report_add_sig(smime_report *r)
{
    /* From one, as most messages carry one signature: a signature's report is
     * some 21 KiB, and four at once made every message take and give back a block
     * large enough for glibc to trim a thread's heap after it (see mime.c's
     * boundary_set). */
    if (r->n_sigs == r->sigs_alloc) {
        size_t n = r->sigs_alloc ? r->sigs_alloc * 2 : 1;
        smime_sig_report *p = realloc(r->sigs, n * sizeof(*p));
        if (!p)
            return NULL;
        r->sigs = p;
        r->sigs_alloc = n;
    }
    smime_sig_report *s = &r->sigs[r->n_sigs++];
    memset(s, 0, sizeof(*s));
    return s;
}

void smime_report_add_note(smime_report *r, const char *part, const char *code,
                           const char *fmt, ...)
{
    if (r->n_notes >= SMIME_NOTES_MAX)
        return;
    smime_report_note *n = &r->notes[r->n_notes++];
    n->code = code;
    smime_text_set(n->part, sizeof(n->part), part, strlen(part));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->text, sizeof(n->text), fmt, ap);
    va_end(ap);
}

int smime_result_severity(smime_result r)
{
    switch (r) {
    case SMIME_RESULT_NONE:      return 0;
    case SMIME_RESULT_PASS:      return 1;
    case SMIME_RESULT_NEUTRAL:   return 2;
    case SMIME_RESULT_PERMERROR: return 3;
    case SMIME_RESULT_POLICY:    return 4;
    case SMIME_RESULT_FAIL:      return 5;
    case SMIME_RESULT_TEMPERROR: return 6;
    }
    return 0;
}
