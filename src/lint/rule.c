/* rule - what every rule file of the linter shares with the engine: recording a
 * finding against the entry being run, the criticality check, the date gate, and
 * printable forms of certificate text and OIDs (see include/smime/lint/rule.h).
 * The engine (lint.c) runs the table (table.c), whose checks live in the rule
 * files; those call only this, so the engine and the rules do not call each other. */
#include "smime/lint/rule.h"
#include "smime/crypto/der.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void add_finding(smime_lint_ctx *c, smime_lint_severity sev, const char *field,
                        const char *fmt, va_list ap)
{
    smime_lint_result *r = c->res;
    if (r->nfindings == SMIME_LINT_MAX_FINDINGS) {
        r->dropped++;
        return;
    }
    if (r->nfindings == r->alloc) {
        size_t na = r->alloc ? r->alloc * 2 : 16;
        if (na > SMIME_LINT_MAX_FINDINGS)
            na = SMIME_LINT_MAX_FINDINGS;
        smime_lint_finding *nf = realloc(r->findings, na * sizeof(*nf));
        if (nf == NULL) {
            c->oom = 1;
            return;
        }
        r->findings = nf;
        r->alloc = na;
    }
    smime_lint_finding *f = &r->findings[r->nfindings++];
    f->id = c->def->id;
    f->section = c->def->section;
    f->severity = sev;
    f->cert = c->cert_index;
    f->effective = c->def->from ? c->def->from : SMIME_SBR_START;
    f->pre_sbr = c->pre_sbr;
    snprintf(f->field, sizeof(f->field), "%s", field ? field : "");
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
}

void lint_report(smime_lint_ctx *c, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_finding(c, c->def->severity, field, fmt, ap);
    va_end(ap);
}

void lint_report_sev(smime_lint_ctx *c, smime_lint_severity sev, const char *field,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_finding(c, sev, field, fmt, ap);
    va_end(ap);
}

void lint_criticality(smime_lint_ctx *c, const char *oid, size_t oid_len, const char *name,
                      int critical)
{
    const smime_x509_ext *e = smime_x509_ext_find(c->cert, oid, oid_len);
    if (!e || !e->critical == !critical)
        return;
    char field[SMIME_LINT_FIELD_MAX];
    snprintf(field, sizeof(field), "extensions.%s", name);
    lint_report(c, field, "%s %s %sbe critical", name,
                c->def->severity == SMIME_SEV_ERROR ? "must" : "should", critical ? "" : "not ");
}

int lint_after(const smime_lint_ctx *c, int64_t t)
{
    return c->rule_dates_off || c->cert->not_before >= t;
}

const char *lint_text(smime_span v, char *out, size_t outsz)
{
    size_t n = v.len < outsz - 1 ? v.len : outsz - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = v.p[i];
        out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[n] = '\0';
    return out;
}

const char *lint_oid(smime_span oid, char *out, size_t outsz)
{
    if (smime_der_oid_to_text(oid, out, outsz) != 0)
        snprintf(out, outsz, "(bad OID)");
    return out;
}

