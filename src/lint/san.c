/* san - subjectAltName and mailbox syntax (§7 of REQUIREMENTS, SBR 7.1.2.3(h),
 * 7.1.4.2.1), plus the GeneralName helpers the other lint modules share. */
#include <stdio.h>
#include <string.h>
#include "smime/lint/rule.h"
#include "smime/util/text.h"

#define MAX_GN 64

int lint_general_names(smime_span seq_content, lint_gn *out, int max)
{
    smime_der_reader r;
    smime_der_tlv t;
    int n = 0, rc;
    smime_der_reader_init(&r, seq_content);
    while ((rc = smime_der_next(&r, &t)) == 1) {
        if ((t.tag & 0xc0) != 0x80 || n == max)
            return -1;
        lint_gn *g = &out[n++];
        memset(g, 0, sizeof(*g));
        g->tag = t.tag;
        g->val = t.val;
        if (t.tag == SMIME_DER_CTXC(0)) {
            /* otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } */
            smime_der_reader or_;
            smime_der_tlv oid, wrap;
            smime_der_reader_init(&or_, t.val);
            if (smime_der_expect(&or_, SMIME_DER_OID, &oid) == 0
                && smime_der_expect(&or_, SMIME_DER_CTXC(0), &wrap) == 0 && smime_der_at_end(&or_)
                && smime_der_parse_one(wrap.val, &g->other_value) == 0) {
                g->other_oid = oid.val;
                g->other_ok = 1;
            }
        }
    }
    return rc < 0 ? -1 : n;
}

int lint_san(const smime_x509 *c, lint_gn *out, int max, int *n)
{
    const smime_x509_ext *e = SMIME_X509_EXT(c, OID_SAN);
    *n = 0;
    if (e == NULL)
        return 1;
    smime_der_tlv seq;
    if (smime_der_parse_one(e->value, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    int k = lint_general_names(seq.val, out, max);
    if (k < 0)
        return -1;
    *n = k;
    return 0;
}

static int is_smtputf8(const lint_gn *g)
{
    return g->tag == SMIME_DER_CTXC(0) && g->other_ok && SMIME_OID_EQ(g->other_oid, OID_ON_SMTPUTF8);
}

/* Mailbox comparison: local part exact, domain ASCII case-insensitive. */
static int mailbox_eq(smime_span a, smime_span b)
{
    const uint8_t *at_a = a.len ? memchr(a.p, '@', a.len) : NULL;
    const uint8_t *at_b = b.len ? memchr(b.p, '@', b.len) : NULL;
    if (!at_a || !at_b)
        return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
    size_t la = (size_t)(at_a - a.p), lb = (size_t)(at_b - b.p);
    return la == lb && memcmp(a.p, b.p, la) == 0
        && smime_ascii_casecmp_n((const char *)at_a, a.len - la, (const char *)at_b, b.len - lb) == 0;
}

int lint_san_has_mailbox(const smime_x509 *cert, smime_span v)
{
    lint_gn gn[MAX_GN];
    int n;
    if (lint_san(cert, gn, MAX_GN, &n) != 0)
        return 0;
    for (int i = 0; i < n; i++) {
        if (gn[i].tag == SMIME_DER_CTX(1) && mailbox_eq(gn[i].val, v))
            return 1;
        if (is_smtputf8(&gn[i]) && mailbox_eq(gn[i].other_value.val, v))
            return 1;
    }
    return 0;
}

void lint_each_name(smime_lint_ctx *c, lint_name_fn fn)
{
    if (c->cert == c->leaf && c->subject_ok) {
        fn(c, &c->subject, "subject");
    } else {
        smime_name n;
        if (smime_name_parse(c->cert->subject, &n) == 0)
            fn(c, &n, "subject");
    }
    lint_gn gn[MAX_GN];
    int k;
    if (lint_san(c->cert, gn, MAX_GN, &k) != 0)
        return;
    for (int i = 0; i < k; i++) {
        if (gn[i].tag != SMIME_DER_CTXC(4))
            continue;
        smime_name n;
        char where[64];
        snprintf(where, sizeof where, "subjectAltName.directoryName[%d]", i);
        if (smime_name_parse(gn[i].val, &n) == 0)
            fn(c, &n, where);
    }
}

/* ---- mailbox syntax ---- */

static int atext(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
        || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* RFC 5321 Local-part; utf8 allows UTF-8 (RFC 6531) in atoms. */
static int local_part_ok(const uint8_t *p, size_t n, int utf8)
{
    if (n == 0 || n > 64 * (utf8 ? 4 : 1))
        return 0;
    if (p[0] == '"') {
        if (n < 2 || p[n - 1] != '"')
            return 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (p[i] == '\\') { i++; if (i + 1 >= n) return 0; continue; }
            if (p[i] == '"' || p[i] < 0x20 || p[i] == 0x7f || (!utf8 && p[i] >= 0x80))
                return 0;
        }
        return 1;
    }
    int prev_dot = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (prev_dot) return 0;
            prev_dot = 1;
            continue;
        }
        prev_dot = 0;
        if (p[i] >= 0x80) {
            if (!utf8) return 0;
            continue;   /* well-formedness of UTF-8 checked by the caller */
        }
        if (!atext(p[i]))
            return 0;
    }
    return !prev_dot;
}

/* Domain syntax.  flags of problems found: */
#define DOM_BAD_SYNTAX  1
#define DOM_TOO_LONG    2
#define DOM_ULABEL      4    /* a label with non-ASCII (U-label) */
#define DOM_UPPER       8    /* ASCII upper case */
#define DOM_INTERNAL   16    /* empty, single label or a reserved internal TLD */

static unsigned domain_check(const uint8_t *p, size_t n)
{
    unsigned f = 0;
    if (n == 0)
        return DOM_BAD_SYNTAX | DOM_INTERNAL;
    if (n > 253)
        f |= DOM_TOO_LONG;
    if (p[0] == '[')
        return f | DOM_BAD_SYNTAX;           /* address literal */
    size_t start = 0, labels = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.')
            continue;
        size_t len = i - start;
        const uint8_t *l = p + start;
        labels++;
        if (len == 0 || len > 63)
            f |= DOM_BAD_SYNTAX;
        int non_ascii = 0;
        for (size_t k = 0; k < len; k++) {
            if (l[k] >= 0x80) { non_ascii = 1; continue; }
            if (l[k] >= 'A' && l[k] <= 'Z') f |= DOM_UPPER;
            else if (!((l[k] >= 'a' && l[k] <= 'z') || (l[k] >= '0' && l[k] <= '9') || l[k] == '-'))
                f |= DOM_BAD_SYNTAX;
        }
        if (non_ascii)
            f |= DOM_ULABEL;
        else if (len && (l[0] == '-' || l[len - 1] == '-'))
            f |= DOM_BAD_SYNTAX;
        start = i + 1;
    }
    /* The last label (TLD). */
    size_t tl = 0;
    while (tl < n && p[n - 1 - tl] != '.')
        tl++;
    static const char *const internal[] = { "local", "localhost", "internal", "invalid", "test",
        "lan", "home", "corp", "intranet", "localdomain" };
    for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
        if (smime_ascii_casecmp_n((const char *)p + n - tl, tl, internal[i], strlen(internal[i])) == 0)
            f |= DOM_INTERNAL;
    if (labels < 2)
        f |= DOM_INTERNAL;
    return f;
}

int lint_domain_internal(const uint8_t *p, size_t n)
{
    return (domain_check(p, n) & DOM_INTERNAL) != 0;
}

/* Splits at the last '@' (a quoted local part may hold '@'). */
static int split_mailbox(smime_span v, smime_span *local, smime_span *domain)
{
    size_t i = v.len;
    while (i > 0 && v.p[i - 1] != '@')
        i--;
    if (i == 0)
        return -1;
    local->p = v.p;
    local->len = i - 1;
    domain->p = v.p + i;
    domain->len = v.len - i;
    return 0;
}

/* 1 when v is a valid ASCII RFC 5321 Mailbox with a syntactically valid domain. */
int lint_mailbox_ok(smime_span v)
{
    smime_span l, d;
    if (!smime_der_ia5_ok(v) || split_mailbox(v, &l, &d) != 0)
        return 0;
    return local_part_ok(l.p, l.len, 0) && !(domain_check(d.p, d.len) & (DOM_BAD_SYNTAX | DOM_TOO_LONG));
}

/* ---- lints ---- */

static int san_or_nothing(smime_lint_ctx *c, lint_gn *gn, int *n)
{
    int rc = lint_san(c->cert, gn, MAX_GN, n);
    return rc == 0 ? 0 : -1;
}

void lint_san_01(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n, rc = lint_san(c->cert, gn, MAX_GN, &n);
    if (rc == 1)
        lint_report(c, "extensions", "subjectAltName extension is missing");
    else if (rc < 0)
        lint_report(c, "extensions.subjectAltName", "subjectAltName is malformed");
}

void lint_san_02(smime_lint_ctx *c)
{
    const smime_x509_ext *e = SMIME_X509_EXT(c->cert, OID_SAN);
    if (e == NULL)
        return;
    int empty = c->cert->subject.len == 2;   /* 30 00 */
    if (empty && !e->critical)
        lint_report(c, "extensions.subjectAltName", "subject is empty, so subjectAltName must be critical");
    else if (!empty && e->critical)
        lint_report_sev(c, SMIME_SEV_WARNING, "extensions.subjectAltName",
                        "subjectAltName should not be critical when the subject is not empty");
}

void lint_san_03(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++)
        if (gn[i].tag == SMIME_DER_CTX(1) || is_smtputf8(&gn[i]))
            return;
    lint_report(c, "extensions.subjectAltName", "no rfc822Name or SmtpUTF8Mailbox in subjectAltName");
}

void lint_san_04(smime_lint_ctx *c)
{
    static const char *const names[] = { "otherName", "rfc822Name", "dNSName", "x400Address",
        "directoryName", "ediPartyName", "uniformResourceIdentifier", "iPAddress", "registeredID" };
    lint_gn gn[MAX_GN];
    int n;
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        unsigned num = gn[i].tag & 0x1f;
        if (num == 0 || num == 1 || num == 4)
            continue;
        lint_report(c, "extensions.subjectAltName", "%s is not allowed in an S/MIME certificate SAN",
                    num < 9 ? names[num] : "unknown GeneralName");
    }
}

void lint_san_05(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[64];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (gn[i].tag != SMIME_DER_CTXC(0))
            continue;
        if (!gn[i].other_ok)
            lint_report(c, "extensions.subjectAltName", "otherName is malformed");
        else if (!SMIME_OID_EQ(gn[i].other_oid, OID_ON_SMTPUTF8))
            lint_report(c, "extensions.subjectAltName", "otherName %s is not allowed in Strict (only SmtpUTF8Mailbox)",
                        lint_oid(gn[i].other_oid, t, sizeof t));
    }
}

typedef struct repeat_state {
    int reported;
} repeat_state;

static void repeat_name(smime_lint_ctx *c, const smime_name *nm, const char *where)
{
    char t[128], oid[64], field[96];
    for (size_t i = 0; i < nm->n; i++) {
        const smime_name_attr *a = &nm->a[i];
        int is_email_attr = SMIME_OID_EQ(a->oid, OID_AT_EMAIL);
        if (!is_email_attr && !(smime_der_is_string_tag(a->tag) && lint_mailbox_ok(a->value)))
            continue;
        if (lint_san_has_mailbox(c->cert, a->value))
            continue;
        snprintf(field, sizeof field, "%s.%s", where, lint_oid(a->oid, oid, sizeof oid));
        lint_report(c, field, "mailbox \"%s\" in attribute %s is not in subjectAltName as rfc822Name or SmtpUTF8Mailbox",
                    lint_text(a->value, t, sizeof t), oid);
    }
}

void lint_san_repeat(smime_lint_ctx *c)
{
    lint_each_name(c, repeat_name);
}

void lint_san_mbx_01(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[128];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (gn[i].tag != SMIME_DER_CTX(1))
            continue;
        smime_span l, d;
        if (!lint_mailbox_ok(gn[i].val)) {
            lint_report(c, "extensions.subjectAltName.rfc822Name",
                        "rfc822Name \"%s\" is not a valid RFC 5321 mailbox (local-part@domain)", lint_text(gn[i].val, t, sizeof t));
        } else if (split_mailbox(gn[i].val, &l, &d) == 0 && (domain_check(d.p, d.len) & DOM_TOO_LONG)) {
            lint_report(c, "extensions.subjectAltName.rfc822Name", "domain part longer than 253 characters");
        }
    }
}

void lint_san_mbx_02(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[128];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        smime_span v;
        if (gn[i].tag == SMIME_DER_CTX(1))
            v = gn[i].val;
        else if (is_smtputf8(&gn[i]))
            v = gn[i].other_value.val;
        else
            continue;
        smime_span l, d;
        if (split_mailbox(v, &l, &d) != 0)
            d.len = 0, d.p = v.p;
        if (domain_check(d.p, d.len) & DOM_INTERNAL)
            lint_report(c, "extensions.subjectAltName", "mailbox \"%s\" has an internal or empty domain name",
                        lint_text(v, t, sizeof t));
    }
}

void lint_san_utf8_01(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[128];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (!is_smtputf8(&gn[i]))
            continue;
        const smime_der_tlv *v = &gn[i].other_value;
        smime_span l, d;
        if (v->tag != SMIME_DER_UTF8_STRING || !smime_utf8_valid(v->val.p, v->val.len))
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox", "SmtpUTF8Mailbox must be a valid UTF8String");
        else if (v->val.len >= 3 && memcmp(v->val.p, "\xef\xbb\xbf", 3) == 0)
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox", "SmtpUTF8Mailbox starts with a byte order mark");
        else if (split_mailbox(v->val, &l, &d) != 0 || !local_part_ok(l.p, l.len, 1)
                 || (domain_check(d.p, d.len) & DOM_BAD_SYNTAX))
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox", "SmtpUTF8Mailbox \"%s\" is not local-part@domain",
                        lint_text(v->val, t, sizeof t));
    }
}

void lint_san_utf8_02(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[128];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (!is_smtputf8(&gn[i]))
            continue;
        smime_span v = gn[i].other_value.val, l, d;
        if (split_mailbox(v, &l, &d) != 0 || l.len == 0)
            continue;   /* syntax: SAN-UTF8-01 */
        if (smime_der_ia5_ok(l))
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox",
                        "SmtpUTF8Mailbox \"%s\" has an all-ASCII local part: encode it as rfc822Name", lint_text(v, t, sizeof t));
    }
}

void lint_san_utf8_alabel(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[128];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (!is_smtputf8(&gn[i]))
            continue;
        smime_span v = gn[i].other_value.val, l, d;
        if (split_mailbox(v, &l, &d) == 0 && (domain_check(d.p, d.len) & DOM_ULABEL))
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox",
                        "SmtpUTF8Mailbox \"%s\": non-ASCII domain labels must be A-labels (RFC 9598)", lint_text(v, t, sizeof t));
    }
}

void lint_san_utf8_03(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (!is_smtputf8(&gn[i]))
            continue;
        smime_span v = gn[i].other_value.val, l, d;
        if (split_mailbox(v, &l, &d) != 0)
            continue;
        unsigned f = domain_check(d.p, d.len);
        if (f & DOM_TOO_LONG)
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox", "domain part longer than 253 characters");
        if (f & DOM_UPPER)
            lint_report(c, "extensions.subjectAltName.smtpUTF8Mailbox", "ASCII domain labels must be lower case");
    }
}

void lint_san_dup(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < i; k++)
            if (gn[i].tag == gn[k].tag && gn[i].val.len == gn[k].val.len
                && memcmp(gn[i].val.p, gn[k].val.p, gn[i].val.len) == 0) {
                lint_report(c, "extensions.subjectAltName", "duplicate subjectAltName entry");
                break;
            }
}

void lint_san_upn_01(smime_lint_ctx *c)
{
    lint_gn gn[MAX_GN];
    int n;
    char t[128];
    if (san_or_nothing(c, gn, &n) != 0)
        return;
    for (int i = 0; i < n; i++) {
        if (gn[i].tag != SMIME_DER_CTXC(0) || !gn[i].other_ok || !SMIME_OID_EQ(gn[i].other_oid, OID_MS_UPN))
            continue;
        smime_span v = gn[i].other_value.val, l, d;
        if (gn[i].other_value.tag != SMIME_DER_UTF8_STRING || split_mailbox(v, &l, &d) != 0 || l.len == 0
            || (domain_check(d.p, d.len) & DOM_BAD_SYNTAX))
            lint_report(c, "extensions.subjectAltName.userPrincipalName", "UPN \"%s\" is not a UTF8String user@domain",
                        lint_text(v, t, sizeof t));
    }
}
