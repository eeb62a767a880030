/* policy - results to actions, and the SMTP replies that go with them. */
#include "smime/verdict/policy.h"

#include <stdio.h>
#include <string.h>

#include "smime/report/authres.h"
#include "smime/util/text.h"

static const char *const action_names[] = {
    [SMIME_ACTION_ACCEPT] = "accept",
    [SMIME_ACTION_REJECT] = "reject",
    [SMIME_ACTION_TEMPFAIL] = "tempfail",
    [SMIME_ACTION_QUARANTINE] = "quarantine",
    [SMIME_ACTION_DISCARD] = "discard",
};
#define N_ACTIONS (sizeof(action_names) / sizeof(action_names[0]))

const char *smime_action_name(smime_action a)
{
    return (unsigned)a < N_ACTIONS ? action_names[a] : "?";
}

int smime_action_parse(const char *word)
{
    for (size_t i = 0; i < N_ACTIONS; i++)
        if (smime_ascii_casecmp_n(word, strlen(word), action_names[i],
                                  strlen(action_names[i])) == 0)
            return (int)i;
    return -1;
}

void smime_policy_default(smime_policy *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < SMIME_RESULT_COUNT; i++)
        p->on_result[i] = SMIME_ACTION_ACCEPT;
    p->on_internal_error = SMIME_ACTION_TEMPFAIL;
    snprintf(p->reject_reply, sizeof(p->reject_reply), "550 5.7.1 S/MIME check failed: %%r");
    snprintf(p->tempfail_reply, sizeof(p->tempfail_reply), "451 4.7.1 S/MIME check deferred: %%r");
}

void smime_policy_decide(const smime_policy *p, const smime_report *r, smime_decision *out)
{
    out->result = SMIME_RESULT_NONE;
    out->sig_index = (size_t)-1;
    out->reason = smime_report_none_reason(r);
    out->reply = NULL;
    for (size_t i = 0; i < r->n_sigs; i++) {
        const smime_sig_report *s = &r->sigs[i];
        if (out->sig_index != (size_t)-1 &&
            smime_result_severity(s->result) <= smime_result_severity(out->result))
            continue;
        out->result = s->result;
        out->sig_index = i;
        out->reason = s->reason;
    }
    out->action = (unsigned)out->result < SMIME_RESULT_COUNT ? p->on_result[out->result]
                                                             : p->on_internal_error;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Splits "DDD D.D.D text" into its parts; the text pointer may point at "". */
static int reply_split(const char *tmpl, char klass, smime_reply *out, const char **text,
                       char *err, size_t errlen)
{
    const char *p = tmpl;
    if (!(is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && (p[3] == ' ' || p[3] == '\0'))) {
        snprintf(err, errlen, "reply must start with a three-digit SMTP code");
        return -1;
    }
    if (p[0] != klass) {
        snprintf(err, errlen, "reply code must be %cxx", klass);
        return -1;
    }
    memcpy(out->rcode, p, 3);
    out->rcode[3] = '\0';
    p += 3;
    while (*p == ' ')
        p++;
    /* enhanced status code: class.subject.detail, 1-3 digits each */
    const char *x = p;
    int fields = 0;
    for (;;) {
        int digits = 0;
        while (is_digit(*p) && digits < 4) {
            p++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            break;
        fields++;
        if (fields == 3 || *p != '.')
            break;
        p++;
    }
    if (fields != 3 || (*p != ' ' && *p != '\0') || x[0] != klass || x[1] != '.') {
        snprintf(err, errlen, "reply must have an enhanced status code %c.X.Y after the code",
                 klass);
        return -1;
    }
    if ((size_t)(p - x) >= sizeof(out->xcode)) {
        snprintf(err, errlen, "enhanced status code too long");
        return -1;
    }
    memcpy(out->xcode, x, (size_t)(p - x));
    out->xcode[p - x] = '\0';
    while (*p == ' ')
        p++;
    *text = p;
    return 0;
}

int smime_reply_check(const char *tmpl, char klass, char *err, size_t errlen)
{
    smime_reply r;
    const char *text;
    if (strlen(tmpl) >= SMIME_REPLY_TEMPLATE_MAX) {
        snprintf(err, errlen, "reply longer than %d bytes", SMIME_REPLY_TEMPLATE_MAX - 1);
        return -1;
    }
    if (reply_split(tmpl, klass, &r, &text, err, errlen) < 0)
        return -1;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e) {
            snprintf(err, errlen, "reply text must be printable ASCII");
            return -1;
        }
        if (c == '%') {
            if (p[1] != 'r' && p[1] != '%') {
                snprintf(err, errlen, "'%%' in a reply must be \"%%r\" (the reason) or \"%%%%\"");
                return -1;
            }
            p++;
        }
    }
    return 0;
}

/* Appends one byte of untrusted text: printable ASCII kept, '%' doubled for
 * libmilter, anything else '?'.  Returns -1 when it does not fit in `room`. */
static int reply_put(char *dst, size_t *len, size_t room, unsigned char c)
{
    size_t need = c == '%' ? 2 : 1;
    if (*len + need > room)
        return -1;
    if (c == '%') {
        dst[(*len)++] = '%';
        dst[(*len)++] = '%';
    } else {
        dst[(*len)++] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
    }
    return 0;
}

int smime_reply_build(const char *tmpl, const char *reason, smime_reply *out)
{
    char err[128];
    const char *text;
    memset(out, 0, sizeof(*out));
    if (smime_reply_check(tmpl, tmpl[0], err, sizeof(err)) < 0 ||
        (tmpl[0] != '4' && tmpl[0] != '5') ||
        reply_split(tmpl, tmpl[0], out, &text, err, sizeof(err)) < 0)
        return -1;
    const size_t room = sizeof(out->text) - 4;   /* leaves space for "..." and NUL */
    size_t len = 0;
    int cut = 0;
    for (const char *p = text; *p && !cut; p++) {
        if (p[0] == '%' && p[1] == 'r') {
            for (const char *q = reason ? reason : ""; *q && !cut; q++)
                cut = reply_put(out->text, &len, room, (unsigned char)*q) < 0;
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            cut = reply_put(out->text, &len, room, '%') < 0;
            p++;
        } else {
            cut = reply_put(out->text, &len, room, (unsigned char)*p) < 0;
        }
    }
    if (cut) {
        memcpy(out->text + len, "...", 3);
        len += 3;
    }
    out->text[len] = '\0';
    return 0;
}
