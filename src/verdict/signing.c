/* signing - the per-sender signing policy (see include/smime/verdict/signing.h).
 *
 * Rules are kept sorted by (kind, key) so a lookup is a few binary searches: the
 * address, the domain, then each parent domain for the wildcards, longest first.
 * That bounds the work per message by the labels of its authors' domains, not by
 * the size of the file. */
#include "smime/verdict/signing.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/lint/lint.h"
#include "smime/util/buf.h"
#include "smime/util/text.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A lower-case A-label domain: LDH labels of 1..63 bytes, at most 253 in all. */
static int domain_valid(const char *d)
{
    size_t n = strlen(d), label = 0;
    if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
        return 0;
    for (const char *p = d; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (!ldh(*p) || ++label > 63) {
            return 0;
        }
    }
    return 1;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)smime_ascii_tolower((unsigned char)*s);
}

static int parse_pattern(const char *word, smime_signing_rule *r, char *why, size_t whylen)
{
    if (strlen(word) >= sizeof(r->key)) {
        snprintf(why, whylen, "pattern longer than %zu bytes", sizeof(r->key) - 1);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)word; *p; p++)
        if (*p >= 0x80) {
            snprintf(why, whylen, "write internationalized domains as A-labels (xn--...)");
            return -1;
        }
    size_t wl = strlen(word);          /* < sizeof(r->key), checked above */
    memcpy(r->pattern, word, wl + 1);
    const char *at = strrchr(word, '@');
    const char *domain = word;
    if (at) {
        if (at == word) {
            snprintf(why, whylen, "address \"%.64s\" has no local part", word);
            return -1;
        }
        for (const char *p = word; p < at; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"') {
                snprintf(why, whylen, "address \"%.64s\": local part must be a plain dot-atom",
                         word);
                return -1;
            }
        r->kind = SMIME_SIGNING_ADDRESS;
        domain = at + 1;
    } else if (word[0] == '*' && word[1] == '.') {
        r->kind = SMIME_SIGNING_SUBDOMAINS;
        domain = word + 2;
    } else if (word[0] == '.') {
        r->kind = SMIME_SIGNING_SUBDOMAINS;
        domain = word + 1;
    } else {
        r->kind = SMIME_SIGNING_DOMAIN;
    }
    char d[SMIME_ADDR_MAX];
    memcpy(d, domain, strlen(domain) + 1);   /* a tail of word: fits */
    lower(d);
    if (!domain_valid(d)) {
        snprintf(why, whylen,
                 "\"%.64s\" is not an address, a domain, or .domain / *.domain for its subdomains",
                 word);
        return -1;
    }
    const char *key = r->kind == SMIME_SIGNING_ADDRESS ? word : d;
    memcpy(r->key, key, strlen(key) + 1);
    lower(r->key);
    return 0;
}

/* Splits a comma-separated list in place; calls fn per item.  -1 on an empty item
 * or when fn fails. */
typedef int (*item_fn)(smime_signing_rule *r, const char *item, char *why, size_t whylen);

static int each_item(smime_signing_rule *r, char *list, item_fn fn, char *why, size_t whylen)
{
    for (char *p = list;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p == '\0') {
            snprintf(why, whylen, "empty item in a list");
            return -1;
        }
        if (fn(r, p, why, whylen) < 0)
            return -1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int add_result(smime_signing_rule *r, const char *item, char *why, size_t whylen)
{
    int res = smime_result_parse(item);
    if (res < 0) {
        snprintf(why, whylen, "results: \"%.32s\" is not none, pass, fail, neutral, policy, "
                              "temperror or permerror", item);
        return -1;
    }
    r->results |= 1u << res;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int add_ca(smime_signing_rule *r, const char *item, char *why, size_t whylen)
{
    if (r->n_cas == SMIME_SIGNING_CAS_MAX) {
        snprintf(why, whylen, "ca: at most %d fingerprints", SMIME_SIGNING_CAS_MAX);
        return -1;
    }
    if (smime_ascii_casecmp_n(item, strlen(item) < 7 ? strlen(item) : 7, "sha256:", 7) != 0) {
        snprintf(why, whylen, "ca: expected sha256:HEX (the SHA-256 fingerprint of the CA "
                              "certificate, e.g. from openssl x509 -fingerprint -sha256)");
        return -1;
    }
    char *hex = r->cas[r->n_cas];
    size_t n = 0;
    for (const char *p = item + 7; *p; p++) {
        if (*p == ':')
            continue;
        if (hexval(*p) < 0 || n == 64) {
            snprintf(why, whylen, "ca: a SHA-256 fingerprint is 64 hex digits");
            return -1;
        }
        hex[n++] = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
    }
    if (n != 64) {
        snprintf(why, whylen, "ca: a SHA-256 fingerprint is 64 hex digits");
        return -1;
    }
    hex[64] = '\0';
    r->n_cas++;
    return 0;
}

static int add_profile(smime_signing_rule *r, const char *item, char *why, size_t whylen)
{
    if (r->n_profiles == SMIME_SIGNING_PROFILES_MAX) {
        snprintf(why, whylen, "sbr: at most %d profiles", SMIME_SIGNING_PROFILES_MAX);
        return -1;
    }
    smime_lint_type t = SMIME_TYPE_NONE;
    smime_lint_gen g = SMIME_GEN_NONE;
    const char *dash = strchr(item, '-');
    int ok;
    if (dash && strcmp(dash, "-any") == 0) {
        /* "organization-any": the type with any generation */
        char with_gen[64];
        snprintf(with_gen, sizeof(with_gen), "%.*s-strict", (int)(dash - item), item);
        ok = smime_lint_parse_profile(with_gen, &t, &g) == 0;
        g = SMIME_GEN_NONE;
    } else {
        ok = smime_lint_parse_profile(item, &t, &g) == 0;
    }
    if (!ok) {
        snprintf(why, whylen, "sbr: \"%.40s\" is not TYPE-GENERATION (mailbox, organization, "
                              "sponsor, individual; legacy, multipurpose, strict or any)", item);
        return -1;
    }
    r->profiles[r->n_profiles].type = (int)t;
    r->profiles[r->n_profiles].gen = (int)g;
    r->n_profiles++;
    return 0;
}

/* Reads the next "key=value" of a rule line; a value may be a quoted string with
 * \" and \\ escapes.  *p advances.  Returns 1 with key and value (NUL-terminated in
 * place), 0 at the end of the line, -1 on a syntax error. */
static int next_setting(char **p, char **key, char **value, char *why, size_t whylen)
{
    char *s = *p;
    while (is_blank(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    *key = s;
    while (*s && *s != '=' && !is_blank(*s))
        s++;
    if (*s != '=') {
        snprintf(why, whylen, "expected key=value, found \"%.40s\"", *key);
        return -1;
    }
    *s++ = '\0';
    if (*s == '"') {
        char *out = ++s;
        *value = out;
        for (;;) {
            if (*s == '\0') {
                snprintf(why, whylen, "unterminated quoted value of %s", *key);
                return -1;
            }
            if (*s == '"')
                break;
            if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                s++;
            *out++ = *s++;
        }
        s++;
        *out = '\0';
        if (*s && !is_blank(*s)) {
            snprintf(why, whylen, "blank expected after the quoted value of %s", *key);
            return -1;
        }
    } else {
        *value = s;
        while (*s && !is_blank(*s) && *s != '#')
            s++;
    }
    /* a '#' right after an unquoted value starts the comment: the line ends here */
    if (*s == '#')
        *s = '\0';
    else if (*s)
        *s++ = '\0';
    *p = s;
    if (**value == '\0') {
        snprintf(why, whylen, "%s needs a value", *key);
        return -1;
    }
    return 1;
}

static int parse_rule(char *line, smime_signing_rule *r, char *why, size_t whylen)
{
    char *p = line;
    while (is_blank(*p))
        p++;
    char *word = p;
    while (*p && !is_blank(*p))
        p++;
    if (*p)
        *p++ = '\0';
    if (parse_pattern(word, r, why, whylen) < 0)
        return -1;
    r->action = SMIME_ACTION_REJECT;
    unsigned seen = 0;
    char *key, *value;
    int rc;
    while ((rc = next_setting(&p, &key, &value, why, whylen)) == 1) {
        static const char *const names[] = { "results", "ca", "sbr", "action", "reply" };
        unsigned k;
        for (k = 0; k < 5; k++)
            if (strcmp(key, names[k]) == 0)
                break;
        if (k == 5) {
            snprintf(why, whylen, "unknown setting \"%.32s\" (results, ca, sbr, action, reply)", key);
            return -1;
        }
        if (seen & (1u << k)) {
            snprintf(why, whylen, "%s given twice", names[k]);
            return -1;
        }
        seen |= 1u << k;
        for (const char *q = value; *q; q++)
            if ((unsigned char)*q < 0x20) {
                snprintf(why, whylen, "control character in the value of %s", names[k]);
                return -1;
            }
        switch (k) {
        case 0:
            if (each_item(r, value, add_result, why, whylen) < 0)
                return -1;
            break;
        case 1:
            if (each_item(r, value, add_ca, why, whylen) < 0)
                return -1;
            break;
        case 2:
            if (each_item(r, value, add_profile, why, whylen) < 0)
                return -1;
            break;
        case 3: {
            int a = strcmp(value, "tag") == 0 ? (int)SMIME_ACTION_ACCEPT : smime_action_parse(value);
            if (a < 0) {
                snprintf(why, whylen, "action: expected reject, tempfail, quarantine, discard or tag");
                return -1;
            }
            r->action = (smime_action)a;
            break;
        }
        case 4:
            if (strlen(value) >= sizeof(r->reply)) {
                snprintf(why, whylen, "reply longer than %zu bytes", sizeof(r->reply) - 1);
                return -1;
            }
            snprintf(r->reply, sizeof(r->reply), "%s", value);
            break;
        }
    }
    if (rc < 0)
        return -1;
    if (!(seen & 1u))
        r->results = 1u << SMIME_RESULT_PASS;
    if (r->reply[0]) {
        if (r->action != SMIME_ACTION_REJECT && r->action != SMIME_ACTION_TEMPFAIL) {
            snprintf(why, whylen, "reply is only for action=reject or action=tempfail");
            return -1;
        }
        char klass = r->action == SMIME_ACTION_REJECT ? '5' : '4';
        char rwhy[160];
        if (smime_reply_check(r->reply, klass, rwhy, sizeof(rwhy)) < 0) {
            snprintf(why, whylen, "reply: %s", rwhy);
            return -1;
        }
    }
    return 0;
}

static int rule_cmp(const void *a, const void *b)
{
    const smime_signing_rule *x = a, *y = b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return strcmp(x->key, y->key);
}

int smime_signing_parse(const char *text, size_t len, const char *source,
                        smime_signing_policy *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char line[SMIME_SIGNING_LINE_MAX];
    char why[256];
    size_t pos = 0, alloc = 0;
    unsigned lineno = 0;
    int more;
    while ((more = smime_text_next_line(text, len, &pos, &lineno, line, sizeof(line), source,
                                        err, errlen)) != 0) {
        if (more < 0)
            return -1;
        char *p = line;
        while (is_blank(*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (out->n == SMIME_SIGNING_RULES_MAX) {
            snprintf(err, errlen, "%s:%u: more than %d rules", source, lineno,
                     SMIME_SIGNING_RULES_MAX);
            return -1;
        }
        if (out->n == alloc) {
            size_t want = alloc ? alloc * 2 : 16;
            if (want > SMIME_SIGNING_RULES_MAX)
                want = SMIME_SIGNING_RULES_MAX;
            smime_signing_rule *more = realloc(out->rules, want * sizeof(*more));
            if (!more) {
                snprintf(err, errlen, "%s:%u: out of memory", source, lineno);
                return -1;
            }
            out->rules = more;
            alloc = want;
        }
        smime_signing_rule *r = &out->rules[out->n];
        memset(r, 0, sizeof(*r));
        r->line = lineno;
        if (parse_rule(p, r, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%u: %s", source, lineno, why);
            return -1;
        }
        out->n++;
    }
    if (out->n > 1)
        qsort(out->rules, out->n, sizeof(out->rules[0]), rule_cmp);
    for (size_t i = 1; i < out->n; i++)
        if (rule_cmp(&out->rules[i - 1], &out->rules[i]) == 0) {
            const smime_signing_rule *a = &out->rules[i - 1], *b = &out->rules[i];
            snprintf(err, errlen, "%s:%u: \"%.100s\" repeats the rule of line %u", source,
                     a->line > b->line ? a->line : b->line, b->pattern,
                     a->line > b->line ? b->line : a->line);
            return -1;
        }
    return 0;
}

static int parse_policy(const char *text, size_t len, const char *source, void *out, char *err,
                        size_t errlen)
{
    return smime_signing_parse(text, len, source, out, err, errlen);
}

int smime_signing_load(const char *path, smime_signing_policy *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    return smime_text_load_file(path, SMIME_SIGNING_FILE_MAX, parse_policy, out, err, errlen);
}

void smime_signing_free(smime_signing_policy *p)
{
    free(p->rules);
    p->rules = NULL;
    p->n = 0;
}

static const smime_signing_rule *find(const smime_signing_policy *p, smime_signing_kind kind,
                                      const char *key)
{
    smime_signing_rule probe;
    probe.kind = kind;
    snprintf(probe.key, sizeof(probe.key), "%s", key);
    return p->n ? bsearch(&probe, p->rules, p->n, sizeof(p->rules[0]), rule_cmp) : NULL;
}

/* The address as rules are keyed: ASCII lower case, the domain as A-labels
 * (so "bücher.example" meets a rule for "xn--bcher-kva.example"), no final dot.
 * Returns 0, or -1 when it cannot be put in that form (then it matches nothing). */
static int normalize(const char *addr, char out[SMIME_ADDR_MAX], const char **domain)
{
    const char *at = strrchr(addr, '@');
    if (!at || at == addr || !at[1])
        return -1;
    size_t local = (size_t)(at - addr) + 1;
    const char *d = at + 1;
    size_t dl = strlen(d);
    if (dl && d[dl - 1] == '.')
        dl--;
    int ascii = 1;
    for (size_t i = 0; i < dl; i++)
        if ((unsigned char)d[i] >= 0x80)
            ascii = 0;
    char dom[SMIME_ADDR_MAX];
    if (ascii) {
        if (dl >= sizeof(dom))
            return -1;
        memcpy(dom, d, dl);
        dom[dl] = '\0';
    } else {
        gnutls_datum_t mapped = { NULL, 0 };
        if (gnutls_idna_map(d, (unsigned)dl, &mapped, 0) < 0)
            return -1;
        int fits = mapped.size < sizeof(dom);
        if (fits) {
            memcpy(dom, mapped.data, mapped.size);
            dom[mapped.size] = '\0';
        }
        gnutls_free(mapped.data);
        if (!fits)
            return -1;
    }
    if (local + strlen(dom) >= SMIME_ADDR_MAX)
        return -1;
    memcpy(out, addr, local);
    strcpy(out + local, dom);
    lower(out);
    *domain = out + local;
    return 0;
}

const smime_signing_rule *smime_signing_match(const smime_signing_policy *p, const char *addr)
{
    char norm[SMIME_ADDR_MAX];
    const char *domain;
    if (!p || p->n == 0 || normalize(addr, norm, &domain) < 0)
        return NULL;
    const smime_signing_rule *r = find(p, SMIME_SIGNING_ADDRESS, norm);
    if (!r)
        r = find(p, SMIME_SIGNING_DOMAIN, domain);
    /* parents, nearest first: a.b.partner.example -> b.partner.example -> ... */
    for (const char *d = strchr(domain, '.'); !r && d; d = strchr(d + 1, '.'))
        r = find(p, SMIME_SIGNING_SUBDOMAINS, d + 1);
    return r;
}

/* How far a signature got toward meeting a rule, to report the most telling
 * failure when there are several. */
enum { STEP_NONE = 0, STEP_RESULT, STEP_CA, STEP_PROFILE, STEP_MET };

static int profile_accepted(const smime_signing_rule *rule, const smime_sig_report *s,
                            char *why, size_t whylen)
{
    if (!s->lint) {
        snprintf(why, whylen, "the S/MIME BR profile of the signer certificate is not known "
                              "(LintMode off)");
        return 0;
    }
    for (size_t k = 0; k < rule->n_profiles; k++)
        if ((int)s->lint->type == rule->profiles[k].type &&
            (rule->profiles[k].gen == 0 || (int)s->lint->generation == rule->profiles[k].gen))
            return 1;
    const char *t = smime_lint_type_name(s->lint->type), *g = smime_lint_gen_name(s->lint->generation);
    if (!t)
        snprintf(why, whylen, "signer certificate is not an S/MIME BR certificate of an accepted "
                              "profile");
    else
        snprintf(why, whylen, "signer certificate is S/MIME BR %s%s%s, not an accepted profile", t,
                 g ? "-" : "", g ? g : "");
    return 0;
}

static int ca_in_path(const smime_signing_rule *rule, const smime_sig_report *s)
{
    for (size_t c = 0; c < s->chain_len && c < SMIME_CHAIN_MAX; c++)
        for (size_t k = 0; k < rule->n_cas; k++)
            if (strcmp(s->chain[c].sha256, rule->cas[k]) == 0)
                return 1;
    return 0;
}

/* Evaluates one rule against the report into out (applied set). */
static void evaluate_rule(const smime_signing_rule *rule, const smime_report *r,
                          const char *author, smime_signing_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->applied = 1;
    out->sig_index = (size_t)-1;
    snprintf(out->rule, sizeof(out->rule), "%s", rule->pattern);
    out->line = rule->line;
    int best = STEP_NONE;
    char why[SMIME_TEXT_MAX] = "";
    for (size_t i = 0; i < r->n_sigs; i++) {
        const smime_sig_report *s = &r->sigs[i];
        if (!s->covers_message)
            continue;
        char w[SMIME_TEXT_MAX];
        int step;
        if (!(rule->results & (1u << s->result))) {
            step = STEP_RESULT;
            snprintf(w, sizeof(w), "signature result is %s (%.300s)", smime_result_name(s->result),
                     s->reason);
        } else if (rule->n_cas && !ca_in_path(rule, s)) {
            step = STEP_CA;
            snprintf(w, sizeof(w), "signer certificate (issuer %.300s) is not issued under a CA "
                                   "the rule requires", s->has_signer ? s->signer.issuer : "unknown");
        } else if (rule->n_profiles && !profile_accepted(rule, s, w, sizeof(w))) {
            step = STEP_PROFILE;
        } else {
            out->satisfied = 1;
            out->sig_index = i;
            snprintf(out->reason, sizeof(out->reason), "signature by %.300s meets the rule",
                     s->identifier[0] ? s->identifier : author);
            return;
        }
        if (step > best) {
            best = step;
            snprintf(why, sizeof(why), "%s", w);
        }
    }
    if (best == STEP_NONE)
        snprintf(why, sizeof(why), "%s",
                 r->n_sigs ? "no S/MIME signature covers the message itself"
                           : "message is not S/MIME signed");
    snprintf(out->reason, sizeof(out->reason), "%.290s must sign: %.200s", author, why);
}

static const smime_signing_rule too_many_authors = {
    .pattern = "(ambiguous author)",
    .kind = SMIME_SIGNING_ADDRESS,
    .action = SMIME_ACTION_REJECT,
};

const smime_signing_rule *smime_signing_evaluate(const smime_signing_policy *p, smime_report *r)
{
    memset(&r->signing, 0, sizeof(r->signing));
    r->signing.sig_index = (size_t)-1;
    if (!p || p->n == 0)
        return NULL;
    if (r->authors.total > r->authors.n || r->authors.control) {
        r->signing.applied = 1;
        snprintf(r->signing.rule, sizeof(r->signing.rule), "%s", too_many_authors.pattern);
        if (r->authors.control)
            snprintf(r->signing.reason, sizeof(r->signing.reason),
                     "a From header holds a control character; the author is ambiguous");
        else
            snprintf(r->signing.reason, sizeof(r->signing.reason),
                     "message has %zu From addresses, more than the %d the signing policy checks",
                     r->authors.total, SMIME_MAX_ADDRS);
        return &too_many_authors;
    }
    const smime_signing_rule *first = NULL;
    smime_signing_outcome o;
    for (size_t i = 0; i < r->authors.n; i++) {
        const smime_signing_rule *rule = smime_signing_match(p, r->authors.addr[i]);
        if (!rule)
            continue;
        evaluate_rule(rule, r, r->authors.addr[i], &o);
        if (!first) {
            first = rule;
            r->signing = o;
        }
        if (!o.satisfied) {
            r->signing = o;
            return rule;
        }
    }
    return first;
}

void smime_signing_decide(const smime_signing_rule *rule, const smime_report *r,
                          smime_decision *d)
{
    if (!rule || !r->signing.applied || r->signing.satisfied)
        return;
    d->action = rule->action;
    d->reply = rule->reply[0] ? rule->reply : NULL;
    d->reason = r->signing.reason;
}
