/* headers - forged Authentication-Results detection, folding, detail headers. */
#include "smime/report/headers.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#include "smime/report/authres.h"
#include "smime/lint/lint.h"
#include "smime/util/text.h"
#include "smime/util/timeutil.h"

/* Skips blanks, line breaks and RFC 5322 comments (nested, with quoted-pairs). */
static const char *skip_cfws(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p != '(')
            return p;
        int depth = 0;
        do {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')')
                depth--;
            p++;
        } while (*p && depth > 0);
    }
}

int smime_header_claims_servid(const char *value, const char *servid)
{
    char id[256];
    size_t n = 0;
    const char *p = skip_cfws(value);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (*p == '\r' || *p == '\n')
                continue;
            if (n + 1 >= sizeof(id))
                return 0;
            id[n++] = *p;
        }
    } else {
        /* a token ends at blanks, ';', '(' or the end */
        for (; *p && !strchr(" \t\r\n;(", *p); p++) {
            if (n + 1 >= sizeof(id))
                return 0;
            id[n++] = *p;
        }
    }
    return n > 0 && smime_ascii_casecmp_n(id, n, servid, strlen(servid)) == 0;
}

int smime_header_is_detail(const char *name)
{
    size_t plen = strlen(SMIME_DETAIL_PREFIX);
    return strlen(name) >= plen &&
           smime_ascii_casecmp_n(name, plen, SMIME_DETAIL_PREFIX, plen) == 0;
}

int smime_authres_fold(const char *line, smime_buf *out)
{
    int quoted = 0, rc = 0;
    for (const char *p = line; *p; p++) {
        if (quoted && *p == '\\' && p[1]) {
            rc |= smime_buf_putc(out, *p++);
        } else if (*p == '"') {
            quoted = !quoted;
        } else if (!quoted && *p == ';' && p[1] == ' ') {
            rc |= smime_buf_puts(out, ";\n\t");
            p++;                      /* the fold replaces the blank */
            continue;
        }
        rc |= smime_buf_putc(out, *p);
    }
    return rc || out->overflow ? -1 : 0;
}

/* Appends "; name=" and the value, cut and cleaned. */
static int item(smime_buf *out, const char *sep, const char *name, const char *value)
{
    char cut[SMIME_DETAIL_ITEM_MAX + 1];
    smime_text_set(cut, sizeof(cut), value, strlen(value));
    int rc = smime_buf_printf(out, "%s%s=", sep, name);
    rc |= smime_authres_value(out, cut);
    return rc;
}

/* "; profile=mailbox-strict; findings="2 errors: VAL-02 SAN-MBX-02; 1 warning"":
 * the SBR profile and the error IDs, cut like every other item. */
static int lint_items(smime_buf *out, const smime_lint_result *l)
{
    const char *type = smime_lint_type_name(l->type);
    const char *gen = smime_lint_gen_name(l->generation);
    char profile[64];
    snprintf(profile, sizeof(profile), "%s%s%s", type ? type : "unknown", gen ? "-" : "",
             gen ? gen : "");
    int rc = item(out, ";\n\t", "profile", profile);
    size_t errors = smime_lint_count(l, SMIME_SEV_ERROR);
    size_t warnings = smime_lint_count(l, SMIME_SEV_WARNING);
    char findings[SMIME_DETAIL_ITEM_MAX + 1];
    size_t n = (size_t)snprintf(findings, sizeof(findings), "%zu error%s", errors,
                                errors == 1 ? "" : "s");
    for (size_t i = 0, shown = 0; i < l->nfindings && n < sizeof(findings); i++) {
        if (l->findings[i].severity != SMIME_SEV_ERROR)
            continue;
        n += (size_t)snprintf(findings + n, sizeof(findings) - n, "%s%s",
                              shown++ ? " " : ": ", l->findings[i].id);
    }
    if (n < sizeof(findings))
        snprintf(findings + n, sizeof(findings) - n, "; %zu warning%s", warnings,
                 warnings == 1 ? "" : "s");
    rc |= item(out, "; ", "findings", findings);
    return rc;
}

int smime_detail_format(const smime_sig_report *s, smime_buf *out)
{
    int rc = item(out, "", "part", s->part);
    rc |= item(out, "; ", "result", smime_result_name(s->result));
    if (s->has_signer) {
        rc |= item(out, ";\n\t", "signer", s->signer.subject);
        rc |= item(out, "; ", "serial", s->signer.serial);
        rc |= item(out, ";\n\t", "issuer", s->signer.issuer);
        if (s->signer.key[0])
            rc |= item(out, "; ", "key", s->signer.key);
        if (s->signer.not_before || s->signer.not_after) {
            char from[32], to[32];
            smime_time_format(s->signer.not_before, from, sizeof(from));
            smime_time_format(s->signer.not_after, to, sizeof(to));
            rc |= item(out, ";\n\t", "valid-from", from);
            rc |= item(out, "; ", "valid-to", to);
        }
    }
    for (size_t k = 0; k < s->chain_len && k < SMIME_CHAIN_MAX; k++) {
        char name[32];
        snprintf(name, sizeof(name), "chain%zu", k + 1);
        rc |= item(out, ";\n\t", name, s->chain[k].subject);
        if (s->chain[k].sha256[0]) {
            snprintf(name, sizeof(name), "chain%zu-sha256", k + 1);
            rc |= item(out, "; ", name, s->chain[k].sha256);
        }
    }
    if (s->digest_alg[0])
        rc |= item(out, ";\n\t", "digest", s->digest_alg);
    if (s->sig_alg[0])
        rc |= item(out, "; ", "signature", s->sig_alg);
    if (s->lint)
        rc |= lint_items(out, s->lint);
    return rc || out->overflow ? -1 : 0;
}

int smime_subject_tag_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SMIME_SUBJECT_TAG_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return 0;
    return 1;
}

/* Removes every occurrence of the tags from text, in place, with one blank after
 * each, and also what a removal makes ("[sig[signed]ned]" leaves nothing): the
 * output is checked for a tag at its end after each byte, so the work is linear
 * in the text (times the tags' bytes), however the text is built.  Returns how
 * many were removed. */
static size_t strip_tags(char *text, const char *const *tags, size_t n)
{
    size_t o = 0, removed = 0;
    for (size_t i = 0; text[i];) {
        text[o++] = text[i++];
        for (size_t t = 0; t < n; t++) {
            size_t tl = tags[t] ? strlen(tags[t]) : 0;
            if (tl && o >= tl && memcmp(text + o - tl, tags[t], tl) == 0) {
                o -= tl;
                removed++;
                if (text[i] == ' ')
                    i++;
                break;
            }
        }
    }
    text[o] = '\0';
    return removed;
}

int smime_subject_retag(const char *value, const char *const *tags, size_t n, const char *add,
                        smime_buf *out, int *changed)
{
    *changed = 0;
    /* a copy without CRs; folds stay bare LF + blank, as libmilter wants them */
    size_t len = strlen(value);
    char *text = g_malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        if (value[i] != '\r')
            text[o++] = value[i];
    text[o] = '\0';
    int rc = 0;
    char *decoded = NULL;
    size_t removed = strip_tags(text, tags, n);
    if (strstr(text, "=?")) {
        /* A tag may hide in encoded words; look at the decoded text too, and when
         * it holds one, write the subject anew from the cleaned decoded text. */
        decoded = g_mime_utils_header_decode_text(NULL, text);
        if (decoded && strip_tags(decoded, tags, n) > 0) {
            char *encoded = g_mime_utils_header_encode_text(NULL, decoded, "utf-8");
            g_free(text);
            text = encoded ? encoded : g_strdup("");
            removed++;
        }
    }
    /* the blanks a removed tag at the start leaves are dropped */
    char *start = text;
    if (removed)
        while (*start == ' ' || *start == '\t')
            start++;
    if (add && *add) {
        rc |= smime_buf_puts(out, add);
        if (*start)
            rc |= smime_buf_putc(out, ' ');
        *changed = 1;
    }
    rc |= smime_buf_puts(out, start);
    if (removed)
        *changed = 1;
    g_free(decoded);
    g_free(text);
    return rc || out->overflow ? -1 : 0;
}
