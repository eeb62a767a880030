/* lint - the engine: decode, classify, run the table, report (see include/smime/lint/lint.h). */
#include "smime/lint/lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "smime/lint/rule.h"
#include "smime/crypto/x509.h"
#include "smime/util/timeutil.h"

static const char *const type_names[] = { NULL, "mailbox", "organization", "sponsor", "individual" };
static const char *const gen_names[] = { NULL, "legacy", "multipurpose", "strict" };
static const char *const sev_names[] = { "info", "notice", "warning", "error" };

const char *smime_lint_type_name(smime_lint_type t)
{
    return (unsigned)t <= SMIME_TYPE_INDIVIDUAL ? type_names[t] : NULL;
}

const char *smime_lint_gen_name(smime_lint_gen g)
{
    return (unsigned)g <= SMIME_GEN_STRICT ? gen_names[g] : NULL;
}

const char *smime_lint_severity_name(smime_lint_severity s)
{
    return (unsigned)s <= SMIME_SEV_ERROR ? sev_names[s] : "?";
}

const char *smime_lint_issuer_sig_name(smime_lint_issuer_sig s)
{
    static const char *const names[] = { "not checked", "verified", "failed", "not checkable" };
    return (unsigned)s <= SMIME_ISSUER_SIG_UNCHECKABLE ? names[s] : "?";
}

int smime_lint_parse_profile(const char *s, smime_lint_type *t, smime_lint_gen *g)
{
    const char *dash = strchr(s, '-');
    if (dash == NULL)
        return -1;
    size_t tl = (size_t)(dash - s);
    *t = SMIME_TYPE_NONE;
    *g = SMIME_GEN_NONE;
    for (int i = 1; i <= SMIME_TYPE_INDIVIDUAL; i++)
        if (strlen(type_names[i]) == tl && strncmp(s, type_names[i], tl) == 0)
            *t = (smime_lint_type)i;
    /* pkilint's corpus calls the sponsor type "sponsored". */
    if (tl == 9 && strncmp(s, "sponsored", 9) == 0)
        *t = SMIME_TYPE_SPONSOR;
    for (int i = 1; i <= SMIME_GEN_STRICT; i++)
        if (strcmp(dash + 1, gen_names[i]) == 0)
            *g = (smime_lint_gen)i;
    return (*t == SMIME_TYPE_NONE || *g == SMIME_GEN_NONE) ? -1 : 0;
}

/* ---- classification ---- */

static void classify_policies(smime_lint_ctx *c)
{
    const smime_x509_ext *cp = SMIME_X509_EXT(c->leaf, OID_CP);
    if (cp == NULL)
        return;
    smime_der_tlv seq, pi, oid;
    smime_der_reader r, pr;
    if (smime_der_parse_one(cp->value, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return;
    smime_der_reader_init(&r, seq.val);
    while (smime_der_next(&r, &pi) == 1) {
        smime_der_reader_init(&pr, pi.val);
        if (pi.tag != SMIME_DER_SEQUENCE || smime_der_expect(&pr, SMIME_DER_OID, &oid) != 0)
            continue;
        smime_span o = oid.val;
        if (SMIME_OID_EQ(o, OID_ANY_POLICY)) {
            c->any_policy = 1;
            continue;
        }
        if (o.len < 5 || memcmp(o.p, OID_SMIME_ARC, 5) != 0)
            continue;
        if (o.len == 7 && o.p[5] >= 1 && o.p[5] <= 4 && o.p[6] >= 1 && o.p[6] <= 3) {
            if (c->n_reserved < sizeof(c->reserved) / sizeof(c->reserved[0]))
                c->reserved[c->n_reserved++] = o;
        } else if (c->n_unknown_arc < sizeof(c->unknown_arc) / sizeof(c->unknown_arc[0])) {
            c->unknown_arc[c->n_unknown_arc++] = o;
        }
    }
}

static int has_attr(const smime_name *n, const char *oid, size_t len)
{
    for (size_t i = 0; i < n->n; i++)
        if (smime_der_oid_eq(n->a[i].oid, oid, len))
            return 1;
    return 0;
}
#define HAS_ATTR(n, lit) has_attr((n), (lit), sizeof(lit) - 1)

/* pkilint's guess when no reserved OID is present (REQUIREMENTS §2 CLS-NONE). */
static smime_lint_type guess_type(const smime_lint_ctx *c)
{
    const smime_name *n = &c->subject;
    if (!c->subject_ok)
        return SMIME_TYPE_MAILBOX;
    int has_o = HAS_ATTR(n, OID_AT_O);
    int has_person = HAS_ATTR(n, OID_AT_GIVEN) || HAS_ATTR(n, OID_AT_SURNAME);
    if (has_o) {
        if (has_person)
            return SMIME_TYPE_SPONSOR;
        for (size_t i = 0; i < n->n; i++) {
            if (!SMIME_OID_EQ(n->a[i].oid, OID_AT_CN))
                continue;
            smime_span cn = n->a[i].value;
            if (memchr(cn.p, '@', cn.len))
                continue;
            int same_as_o = 0;
            for (size_t k = 0; k < n->n; k++)
                if (SMIME_OID_EQ(n->a[k].oid, OID_AT_O) && n->a[k].value.len == cn.len
                    && memcmp(n->a[k].value.p, cn.p, cn.len) == 0)
                    same_as_o = 1;
            if (!same_as_o)
                return SMIME_TYPE_SPONSOR;
        }
        return SMIME_TYPE_ORGANIZATION;
    }
    return has_person ? SMIME_TYPE_INDIVIDUAL : SMIME_TYPE_MAILBOX;
}

static unsigned compute_scope(const smime_x509 *leaf)
{
    unsigned s = 0;
    const smime_x509_ext *eku = SMIME_X509_EXT(leaf, OID_EKU);
    smime_der_tlv seq, o;
    smime_der_reader r;
    if (eku && smime_der_parse_one(eku->value, &seq) == 0) {
        smime_der_reader_init(&r, seq.val);
        while (smime_der_next(&r, &o) == 1)
            if (o.tag == SMIME_DER_OID && SMIME_OID_EQ(o.val, OID_KP_EMAIL))
                s |= SMIME_SCOPE_EKU_EMAIL;
    }
    lint_gn gn[64];
    int n = 0;
    if (lint_san(leaf, gn, 64, &n) == 0)
        for (int i = 0; i < n; i++)
            if (gn[i].tag == SMIME_DER_CTX(1)
                || (gn[i].tag == SMIME_DER_CTXC(0) && gn[i].other_ok
                    && SMIME_OID_EQ(gn[i].other_oid, OID_ON_SMTPUTF8)))
                s |= SMIME_SCOPE_SAN_MAILBOX;
    if ((s & SMIME_SCOPE_EKU_EMAIL) && (s & SMIME_SCOPE_SAN_MAILBOX))
        s |= SMIME_SCOPE_IN_SBR;
    return s;
}

/* ---- running the table ---- */

static int entry_applies(const smime_lint_ctx *c, const smime_lint_def *d, const smime_x509 *cert)
{
    if (d->target == SMIME_LINT_ON_LEAF || d->target == SMIME_LINT_ON_PAIR) {
        if (!(d->types & (1u << c->type)) || !(d->gens & (1u << c->gen)))
            return 0;
    }
    int ignore_dates = c->rule_dates_off && !d->date_fixed;
    if (!ignore_dates) {
        if (d->from && cert->not_before < d->from)
            return 0;
        if (d->until && cert->not_before >= d->until)
            return 0;
    }
    return 1;
}

static void run_entry(smime_lint_ctx *c, const smime_lint_def *d, const smime_x509 *cert, int idx)
{
    c->def = d;
    c->cert = cert;
    c->cert_index = idx;
    if (entry_applies(c, d, cert))
        d->check(c);
}

static smime_lint_result *result_new(void)
{
    smime_lint_result *r = calloc(1, sizeof(*r));
    return r;
}

void smime_lint_result_free(smime_lint_result *r)
{
    if (r == NULL)
        return;
    free(r->findings);
    free(r);
}

/* Every moment at which a check compares opt->now (rather than the certificate's
 * own dates) with a fixed date; a new such check adds its date here, or results
 * remembered across that date would go stale (test_lint checks lint_ca_sha1's). */
static const int64_t time_switches[] = { T_2026_05_05 };

unsigned smime_lint_time_epoch(int64_t now)
{
    unsigned n = 0;
    for (size_t i = 0; i < sizeof(time_switches) / sizeof(time_switches[0]); i++)
        n += now >= time_switches[i];
    return n;
}

size_t smime_lint_result_pack(const smime_lint_result *r, void *out, size_t cap)
{
    size_t need = sizeof(*r) + r->nfindings * sizeof(*r->findings);
    if (need > cap)
        return 0;
    smime_lint_result head = *r;
    head.findings = NULL;
    head.alloc = 0;
    memcpy(out, &head, sizeof(head));
    if (r->nfindings)
        memcpy((char *)out + sizeof(head), r->findings, r->nfindings * sizeof(*r->findings));
    return need;
}

int smime_lint_result_unpack(const void *block, size_t len, smime_lint_result **out)
{
    *out = NULL;
    smime_lint_result head;
    if (len < sizeof(head))
        return -1;
    memcpy(&head, block, sizeof(head));
    if (head.nfindings > SMIME_LINT_MAX_FINDINGS ||
        len != sizeof(head) + head.nfindings * sizeof(*head.findings))
        return -1;
    smime_lint_result *r = result_new();
    if (!r)
        return -1;
    *r = head;
    r->findings = NULL;
    r->alloc = 0;
    if (head.nfindings) {
        r->findings = malloc(head.nfindings * sizeof(*r->findings));
        if (!r->findings) {
            free(r);
            return -1;
        }
        memcpy(r->findings, (const char *)block + sizeof(head),
               head.nfindings * sizeof(*r->findings));
        r->alloc = head.nfindings;
    }
    *out = r;
    return 0;
}

/* A CA certificate: basicConstraints cA TRUE and keyUsage keyCertSign.  Both, so
 * that a subscriber certificate mis-issued with cA TRUE still meets BC-01. */
static int is_ca_cert(const smime_x509 *x)
{
    int ca = 0, has_pathlen = 0;
    int ku = lint_ku_bits(x);
    return lint_bc(x, &ca, &has_pathlen) == 0 && ca && ku >= 0 && (ku & (1 << 5));
}

/* A CA certificate given as the subject: the CA entries run on it and on the
 * issuers given with it; there is no subscriber type, generation or scope. */
static void run_as_ca(smime_lint_ctx *c)
{
    c->res->scope |= SMIME_SCOPE_CA;
    c->res->type = SMIME_TYPE_NONE;
    c->res->generation = SMIME_GEN_NONE;
    size_t n;
    const smime_lint_def *tab = smime_lint_table(&n);
    for (size_t i = 0; i < n && !c->oom; i++) {
        const smime_lint_def *d = &tab[i];
        if (d->check == NULL)
            continue;
        if (d->target == SMIME_LINT_ON_CA) {
            run_entry(c, d, c->leaf, 0);
            for (size_t k = 0; k < c->ncas; k++)
                run_entry(c, d, &c->cas[k], (int)(k + 1));
        } else if (c->issuer && (d->check == lint_sig_04 || d->check == lint_nam_01)) {
            /* Of the pair lints, those about any certificate and its issuer; the
             * others judge a subscriber.  No type mask: a CA has no SBR type. */
            c->def = d;
            c->cert = c->leaf;
            c->cert_index = 0;
            d->check(c);
        }
    }
}

/* The table entry used to report decoding failures (GEN-DER). */
static const smime_lint_def *find_def(const char *id)
{
    size_t n;
    const smime_lint_def *t = smime_lint_table(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].id, id) == 0)
            return &t[i];
    return NULL;
}

int smime_lint_cert(const uint8_t *leaf_der, size_t leaf_len,
                    const smime_span *issuers, size_t nissuers,
                    const smime_lint_options *opt, smime_lint_result **out)
{
    *out = NULL;
    smime_lint_result *res = result_new();
    /* The parsed certificates are large (extension table): keep them off the stack. */
    if (nissuers > SMIME_LINT_MAX_ISSUERS)
        nissuers = SMIME_LINT_MAX_ISSUERS;
    smime_x509 *certs = calloc(1 + nissuers, sizeof(*certs));
    smime_lint_ctx *c = calloc(1, sizeof(*c));
    if (res == NULL || certs == NULL || c == NULL) {
        free(res);
        free(certs);
        free(c);
        return -1;
    }
    c->opt = opt;
    c->res = res;
    char err[128];
    const smime_lint_def *gen_der = find_def("GEN-DER");
    if (smime_x509_parse(leaf_der, leaf_len, &certs[0], err, sizeof(err)) != 0) {
        res->scope |= SMIME_SCOPE_UNPARSABLE;
        c->def = gen_der;
        c->cert_index = 0;
        lint_report(c, "certificate", "the certificate cannot be decoded: %s", err);
        goto done;
    }
    c->leaf = c->cert = &certs[0];
    size_t ncas = 0;
    for (size_t i = 0; i < nissuers; i++) {
        if (smime_x509_parse(issuers[i].p, issuers[i].len, &certs[1 + ncas], err, sizeof(err)) != 0) {
            c->def = gen_der;
            c->cert_index = (int)(i + 1);
            lint_report(c, "certificate", "issuer certificate %zu cannot be decoded: %s", i + 1, err);
            continue;
        }
        ncas++;
    }
    if (certs[0].critical_false_encoded) {
        c->def = gen_der;
        c->cert_index = 0;
        lint_report(c, "extensions", "an extension encodes critical FALSE explicitly (DER omits the DEFAULT)");
    }
    c->cas = &certs[1];
    c->ncas = ncas;
    c->issuer = ncas ? &certs[1] : NULL;
    c->subject_ok = smime_name_parse(c->leaf->subject, &c->subject) == 0;

    classify_policies(c);
    if (c->n_reserved > 0) {
        smime_der_oid_to_text(c->reserved[0], res->policy_oid, sizeof(res->policy_oid));
        c->type = (smime_lint_type)c->reserved[0].p[5];
        c->gen = (smime_lint_gen)c->reserved[0].p[6];
    }
    if (opt->force_type != SMIME_TYPE_NONE && opt->force_gen != SMIME_GEN_NONE) {
        c->type = opt->force_type;
        c->gen = opt->force_gen;
        res->scope |= SMIME_SCOPE_FORCED;
    } else if (c->n_reserved == 0) {
        c->type = guess_type(c);
        c->gen = SMIME_GEN_LEGACY;
        c->guessed = 1;
        res->scope |= SMIME_SCOPE_GUESSED;
    }
    res->type = c->type;
    res->generation = c->gen;
    res->scope |= compute_scope(c->leaf);
    int asserted = c->n_reserved > 0 || c->n_unknown_arc > 0;
    if (asserted)
        res->scope |= SMIME_SCOPE_ASSERTED;
    c->pre_sbr = c->leaf->not_before < T_2023_09_01;
    if (c->pre_sbr)
        res->scope |= SMIME_SCOPE_PRE_SBR;
    /* A pre-SBR certificate that claims compliance is held to the rules as they
     * stand: every later start date postdates it, so applying them would only
     * hide what a CA linting a back-dated test certificate needs to see.  Dates
     * that are the rule itself (the Legacy sunset) still count. */
    c->rule_dates_off = opt->all_dates || (c->pre_sbr && asserted);
    if (opt->lint_ca && !(res->scope & SMIME_SCOPE_FORCED) && is_ca_cert(c->leaf)) {
        run_as_ca(c);
        goto done;
    }
    /* A certificate that claims SBR compliance is held to it whatever it lacks
     * (CLS-ASSERTED), also when it predates the SBR: its findings are then marked
     * pre-SBR instead of being skipped.  One that claims nothing is linted only
     * when it is an S/MIME Certificate of §1.1 issued under the SBR. */
    int in_scope = (res->scope & (SMIME_SCOPE_IN_SBR | SMIME_SCOPE_FORCED)) || asserted;
    int run_sbr = in_scope && (!c->pre_sbr || opt->all_dates || asserted);

    size_t n;
    const smime_lint_def *tab = smime_lint_table(&n);
    for (size_t i = 0; i < n && !c->oom; i++) {
        const smime_lint_def *d = &tab[i];
        if (d->check == NULL)
            continue;
        /* The two scope entries always run: they explain why nothing else did. */
        int meta = d->check == lint_cls_scope || d->check == lint_cls_date;
        if (!meta && !run_sbr)
            continue;
        if (d->target == SMIME_LINT_ON_CA) {
            for (size_t k = 0; k < c->ncas; k++)
                run_entry(c, d, &c->cas[k], (int)(k + 1));
        } else if (d->target == SMIME_LINT_ON_PAIR) {
            if (c->issuer)
                run_entry(c, d, c->leaf, 0);
        } else {
            run_entry(c, d, c->leaf, 0);
        }
    }
done:
    free(certs);
    int oom = c->oom;
    free(c);
    if (oom) {
        smime_lint_result_free(res);
        return -1;
    }
    *out = res;
    return 0;
}

size_t smime_lint_count(const smime_lint_result *r, smime_lint_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += r->findings[i].severity == sev;
    return n;
}

size_t smime_lint_count_enforceable(const smime_lint_result *r, smime_lint_severity sev)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += r->findings[i].severity == sev && !r->findings[i].pre_sbr;
    return n;
}

const char *smime_lint_effective_text(const smime_lint_finding *f, char *out, size_t outsz)
{
    if (outsz == 0)
        return out;
    out[0] = '\0';
    if (f->effective <= 0)
        return out;
    char full[32];
    smime_time_format(f->effective, full, sizeof full);
    snprintf(out, outsz, "%.10s", full);
    return out;
}

void smime_lint_result_json(const smime_lint_result *r, smime_json *j)
{
    smime_json_string(j, "type", smime_lint_type_name(r->type));
    smime_json_string(j, "generation", smime_lint_gen_name(r->generation));
    smime_json_string(j, "policy_oid", r->policy_oid[0] ? r->policy_oid : NULL);
    smime_json_string(j, "issuer_signature", smime_lint_issuer_sig_name(r->issuer_signature));
    smime_json_begin_object(j, "scope");
    smime_json_bool(j, "email_protection_eku", !!(r->scope & SMIME_SCOPE_EKU_EMAIL));
    smime_json_bool(j, "mailbox_in_san", !!(r->scope & SMIME_SCOPE_SAN_MAILBOX));
    smime_json_bool(j, "in_sbr_scope", !!(r->scope & SMIME_SCOPE_IN_SBR));
    smime_json_bool(j, "pre_sbr", !!(r->scope & SMIME_SCOPE_PRE_SBR));
    smime_json_bool(j, "profile_forced", !!(r->scope & SMIME_SCOPE_FORCED));
    smime_json_bool(j, "type_guessed", !!(r->scope & SMIME_SCOPE_GUESSED));
    smime_json_bool(j, "asserts_sbr", !!(r->scope & SMIME_SCOPE_ASSERTED));
    smime_json_bool(j, "ca_certificate", !!(r->scope & SMIME_SCOPE_CA));
    smime_json_end_object(j);
    smime_json_begin_array(j, "findings");
    for (size_t i = 0; i < r->nfindings; i++) {
        const smime_lint_finding *f = &r->findings[i];
        smime_json_begin_object(j, NULL);
        smime_json_string(j, "id", f->id);
        smime_json_string(j, "severity", smime_lint_severity_name(f->severity));
        smime_json_string(j, "section", f->section);
        smime_json_string(j, "message", f->message);
        smime_json_string(j, "field", f->field);
        smime_json_int(j, "cert", f->cert);
        char eff[16];
        smime_json_string(j, "effective", smime_lint_effective_text(f, eff, sizeof eff));
        smime_json_bool(j, "pre_sbr", f->pre_sbr != 0);
        smime_json_end_object(j);
    }
    smime_json_end_array(j);
    if (r->dropped)
        smime_json_int(j, "findings_dropped", (long long)r->dropped);
}
