/* authres - Authentication-Results formatting (see include/smime/report/authres.h). */
#include "smime/report/authres.h"

#include <string.h>
#include "smime/util/text.h"

static int is_tspecial(unsigned char c)
{
    return strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || is_tspecial(*p))
            return 0;
    return 1;
}

/* local-part "@" domain as RFC 8601 allows bare: dot-atom local part, LDH domain. */
static int is_plain_address(const char *s)
{
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1])
        return 0;
    for (const char *p = s; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"[]", c)))
            return 0;
    }
    for (const char *p = at + 1; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

static int quoted(smime_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int rc = smime_buf_putc(out, '"');
    size_t i = 0;
    while (i < n && rc == 0) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t k = smime_utf8_decode(p + i, n - i, &cp);
            if (k == 0 || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029) {
                rc = smime_buf_putc(out, '?');
                i += k ? k : 1;
            } else {
                rc = smime_buf_append(out, p + i, k);
                i += k;
            }
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            rc = smime_buf_putc(out, ' ');
        else if (c == '"' || c == '\\')
            rc = smime_buf_putc(out, '\\') || smime_buf_putc(out, (char)c);
        else
            rc = smime_buf_putc(out, (char)c);
        i++;
    }
    if (rc == 0)
        rc = smime_buf_putc(out, '"');
    return rc ? -1 : 0;
}

int smime_authres_value(smime_buf *out, const char *s)
{
    return is_token(s) ? smime_buf_puts(out, s) : quoted(out, s);
}

int smime_authres_valid_servid(const char *s)
{
    return is_token(s) && strlen(s) <= 255;
}

const char *smime_report_none_reason(const smime_report *r)
{
    return r->n_notes ? r->notes[0].text : "no S/MIME signature";
}

/* Room kept for the closing comment: its text with two counts and a result word. */
#define AUTHRES_SUMMARY_MAX 96

/* The per-sender signing policy (verdict/signing.h) in ptype "policy" properties
 * of one clause: policy.smime-signing=pass|fail, the rule, and on fail why. */
static int format_signing(smime_buf *out, const smime_signing_outcome *o)
{
    if (!o->applied)
        return 0;
    int rc = smime_buf_printf(out, " policy.smime-signing=%s policy.smime-rule=",
                              o->satisfied ? "pass" : "fail");
    rc |= smime_authres_value(out, o->rule);
    if (!o->satisfied) {
        rc |= smime_buf_puts(out, " policy.smime-reason=");
        rc |= quoted(out, o->reason);
    }
    return rc ? -1 : 0;
}

/* The clause the signing outcome goes with: the signature that met the rule,
 * else the first. */
static size_t signing_clause(const smime_report *r)
{
    return r->signing.satisfied && r->signing.sig_index < r->n_sigs ? r->signing.sig_index : 0;
}

static int format_sig(smime_buf *out, const smime_sig_report *s)
{
    int rc = smime_buf_printf(out, "; smime=%s", smime_result_name(s->result));
    if (s->reason[0]) {
        rc |= smime_buf_puts(out, " reason=");
        rc |= quoted(out, s->reason);
    }
    if (s->identifier[0]) {
        rc |= smime_buf_puts(out, " body.smime-identifier=");
        rc |= is_plain_address(s->identifier) ? smime_buf_puts(out, s->identifier)
                                              : quoted(out, s->identifier);
    }
    if (s->part[0]) {
        rc |= smime_buf_puts(out, " body.smime-part=");
        rc |= smime_authres_value(out, s->part);
    }
    /* RFC 7281: serial and issuer come together or not at all. */
    if (s->has_signer && s->signer.serial[0] && s->signer.issuer[0]) {
        rc |= smime_buf_puts(out, " body.smime-serial=");
        rc |= smime_authres_value(out, s->signer.serial);
        rc |= smime_buf_puts(out, " body.smime-issuer=");
        rc |= quoted(out, s->signer.issuer);
    }
    return rc ? -1 : 0;
}

int smime_authres_format(const smime_report *r, const char *authserv_id, smime_buf *out)
{
    int rc = smime_authres_value(out, authserv_id);
    if (r->n_sigs == 0) {
        rc |= smime_buf_puts(out, "; smime=none reason=");
        rc |= quoted(out, smime_report_none_reason(r));
        rc |= format_signing(out, &r->signing);
    }
    /* Results are listed in document order while the value stays within
     * SMIME_AUTHRES_VALUE_MAX; the rest are summed up in a trailing comment, so a
     * message with many signatures gets a header MTAs accept, not a tempfail. */
    size_t i = 0;
    smime_buf one;
    smime_buf_init(&one, SMIME_AUTHRES_VALUE_MAX);
    for (; i < r->n_sigs && rc == 0; i++) {
        smime_buf_reset(&one);
        if (format_sig(&one, &r->sigs[i]) < 0 ||
            (i == signing_clause(r) && format_signing(&one, &r->signing) < 0) || one.overflow ||
            out->len + one.len + AUTHRES_SUMMARY_MAX > SMIME_AUTHRES_VALUE_MAX)
            break;
        rc |= smime_buf_append(out, one.data, one.len);
    }
    smime_buf_free(&one);
    if (i < r->n_sigs && rc == 0) {
        smime_result worst = r->sigs[i].result;
        for (size_t k = i; k < r->n_sigs; k++)
            if (smime_result_severity(r->sigs[k].result) > smime_result_severity(worst))
                worst = r->sigs[k].result;
        rc |= smime_buf_printf(out, " (and %zu more signature%s, not listed; the most severe: %s)",
                               r->n_sigs - i, r->n_sigs - i == 1 ? "" : "s",
                               smime_result_name(worst));
    }
    return rc || out->overflow ? -1 : 0;
}
