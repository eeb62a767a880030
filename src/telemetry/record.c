/* record - privacy-safe records from signature reports (see
 * include/smime/telemetry/record.h): no addresses, no names of people, the sender
 * domain only as the admin allows. */
#include "smime/telemetry/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "smime/util/text.h"
#include "smime/util/timeutil.h"

/* Copies src into a fixed field, cutting it (fields here hold identifiers whose
 * exact tail does not matter; the report's own fields are already cut). */
static void copy_field(char *dst, size_t size, const char *src)
{
    if (!src)
        src = "";
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- client family ---------------------------------------------------------- */

/* Ordered: the first match wins, so more specific names come first (an Outlook
 * for Mac says "Microsoft-MacOutlook", Thunderbird's User-Agent also says
 * "Mozilla").  Matching is ASCII case-insensitive on substrings. */
static const struct { const char *needle; const char *family; } client_table[] = {
    { "thunderbird", "Thunderbird" },
    { "icedove", "Thunderbird" },
    { "betterbird", "Thunderbird" },
    { "outlook", "Outlook" },
    { "microsoft office", "Outlook" },
    { "apple mail", "Apple Mail" },
    { "iphone mail", "Apple Mail" },
    { "ipad mail", "Apple Mail" },
    { "evolution", "Evolution" },
    { "kmail", "KMail" },
    { "roundcube", "Roundcube" },
    { "gmail", "Gmail" },
    { "mutt", "Mutt" },
    { "claws mail", "Claws Mail" },
    { "sylpheed", "Claws Mail" },
    { "em client", "eM Client" },
};

static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle), hl = strlen(hay);
    for (size_t i = 0; i + nl <= hl; i++)
        if (smime_ascii_casecmp_n(hay + i, nl, needle, nl) == 0)
            return 1;
    return 0;
}

const char *smime_telemetry_client_family(const char *header_value)
{
    if (!header_value)
        return "unknown";
    const char *p = header_value;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return "unknown";
    for (size_t i = 0; i < sizeof(client_table) / sizeof(client_table[0]); i++)
        if (contains_nocase(p, client_table[i].needle))
            return client_table[i].family;
    return "other";
}

/* ---- record building -------------------------------------------------------- */

/* Attribute types that carry a person's address inside a distinguished name. */
static int is_email_attr(const char *type, size_t n)
{
    static const char *names[] = { "EMAIL", "emailAddress", "E", "1.2.840.113549.1.9.1",
                                   "OID.1.2.840.113549.1.9.1" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (smime_ascii_casecmp_n(type, n, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

/* Copies an RFC 4514 DN without its email-address attributes: a CA's DN is what
 * the telemetry is about, but some carry a person's address (private CAs run by
 * one person), and no address may be stored.  Splits at unescaped ',' and '+'. */
/* The end of the attribute that starts at p in an RFC 4514 string: the next ','
 * or '+' that no backslash escapes, or the terminating NUL. */
static const char *rdn_end(const char *p)
{
    while (*p && *p != ',' && *p != '+') {
        if (*p == '\\' && p[1])
            p++;
        p++;
    }
    return p;
}

static void dn_without_email(const char *dn, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p = dn;
    out[0] = '\0';
    while (*p) {
        const char *start = p;
        p = rdn_end(p);
        const char *end = p;
        char sep = *p;
        if (*p)
            p++;
        const char *eq = memchr(start, '=', (size_t)(end - start));
        size_t tlen = eq ? (size_t)(eq - start) : 0;
        while (tlen && start[0] == ' ') {   /* "a, b" style spacing */
            start++;
            tlen--;
        }
        if (eq && is_email_attr(start, tlen))
            continue;
        size_t len = (size_t)(end - start);
        if (o > 0 && o + 1 < outlen)
            out[o++] = ',';
        if (o + len >= outlen)
            len = outlen - 1 - o;
        memcpy(out + o, start, len);
        o += len;
        out[o] = '\0';
        (void)sep;
        if (o + 1 >= outlen)
            break;
    }
}

/* Looks at a subject DN's attribute types and commonName values without copying
 * any value out: the CN form ("mailbox" when every CN is only an address, "name"
 * when one is other text, "absent") and which of givenName, surname, pseudonym
 * are present.  Splits at unescaped ',' and '+' as dn_without_email does. */
static int value_is_mailbox(const char *v, size_t n)
{
    /* RFC 4514 escapes ("\," "\2C") would only be present in text that is not a
     * plain address; a value in hex form ("#...") is not one either. */
    size_t at = n, ats = 0;
    if (n == 0 || v[0] == '#')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '@') {
            at = i;
            ats++;
        } else if (c <= 0x20 || c == '\\' || c == '<' || c == '>' || c == '"' || c == 0x7f) {
            return 0;
        }
    }
    return ats == 1 && at > 0 && at + 1 < n && memchr(v + at + 1, '.', n - at - 1) != NULL;
}

static int type_is(const char *type, size_t n, const char *const *names, size_t nnames)
{
    for (size_t i = 0; i < nnames; i++)
        if (smime_ascii_casecmp_n(type, n, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

static void subject_forms(const char *dn, char *cn_form, size_t cn_len, char *attrs,
                          size_t attrs_len)
{
    static const char *const cn_names[] = { "CN", "commonName", "2.5.4.3", "OID.2.5.4.3" };
    static const char *const gn_names[] = { "givenName", "GN", "2.5.4.42", "OID.2.5.4.42" };
    static const char *const sn_names[] = { "surName", "SN", "2.5.4.4", "OID.2.5.4.4" };
    static const char *const ps_names[] = { "pseudonym", "2.5.4.65", "OID.2.5.4.65" };
    int cns = 0, cn_mailbox = 1, gn = 0, sn = 0, ps = 0;
    const char *p = dn;
    while (*p) {
        const char *start = p;
        p = rdn_end(p);
        const char *end = p;
        if (*p)
            p++;
        while (start < end && *start == ' ')
            start++;
        const char *eq = memchr(start, '=', (size_t)(end - start));
        if (!eq)
            continue;
        size_t tlen = (size_t)(eq - start);
        if (type_is(start, tlen, cn_names, 4)) {
            cns++;
            if (!value_is_mailbox(eq + 1, (size_t)(end - eq - 1)))
                cn_mailbox = 0;
        } else if (type_is(start, tlen, gn_names, 4)) {
            gn = 1;
        } else if (type_is(start, tlen, sn_names, 4)) {
            sn = 1;
        } else if (type_is(start, tlen, ps_names, 3)) {
            ps = 1;
        }
    }
    copy_field(cn_form, cn_len, cns == 0 ? "absent" : cn_mailbox ? "mailbox" : "name");
    snprintf(attrs, attrs_len, "%s%s%s%s%s", gn ? "givenName" : "", gn && (sn || ps) ? " " : "",
             sn ? "surname" : "", sn && ps ? " " : "", ps ? "pseudonym" : "");
}

/* HMAC-SHA256 of data under key, as lower-case hex into out (65 bytes). */
static int hmac_hex(const unsigned char *key, size_t key_len, const void *data, size_t len,
                    char out[65], const char *what, char *err, size_t errlen)
{
    unsigned char mac[32];
    int rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, data, len, mac);
    if (rc < 0) {
        smime_errf(err, errlen, "HMAC-SHA256 of the %s: %s", what, gnutls_strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < sizeof(mac); i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, unique lint IDs, space-separated; when the field is full the list ends
 * with "+MORE" so a cut list is never mistaken for a complete one. */
static void findings_list(const smime_lint_result *lint, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!lint || lint->nfindings == 0)
        return;
    const char **ids = calloc(lint->nfindings, sizeof(*ids));
    if (!ids) {
        copy_field(out, outlen, "+MORE");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < lint->nfindings; i++)
        if (lint->findings[i].id)
            ids[n++] = lint->findings[i].id;
    qsort(ids, n, sizeof(*ids), cmp_str_ptr);
    size_t o = 0;
    int cut = lint->dropped > 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
            continue;
        size_t len = strlen(ids[i]);
        /* keep room for " +MORE" */
        if (o + (o ? 1 : 0) + len + 6 >= outlen) {
            cut = 1;
            break;
        }
        if (o)
            out[o++] = ' ';
        memcpy(out + o, ids[i], len);
        o += len;
        out[o] = '\0';
    }
    if (cut && o + 6 < outlen) {
        if (o)
            out[o++] = ' ';
        memcpy(out + o, "+MORE", 6);
    }
    free(ids);
}

static void day_of(int64_t t, char *out, size_t n)
{
    char buf[32];
    smime_time_format(t, buf, sizeof(buf));
    buf[10] = '\0';
    copy_field(out, n, buf);
}

static void month_of(int64_t t, char *out, size_t n)
{
    char buf[32];
    smime_time_format(t, buf, sizeof(buf));
    buf[7] = '\0';
    copy_field(out, n, buf);
}

/* The domain of the report's identifier, lower-cased; "" when there is none. */
static void identifier_domain(const smime_sig_report *s, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *at = strrchr(s->identifier, '@');
    if (!at || !at[1])
        return;
    size_t o = 0;
    for (const char *p = at + 1; *p && o + 1 < outlen; p++)
        out[o++] = (char)smime_ascii_tolower((unsigned char)*p);
    out[o] = '\0';
}

int smime_telemetry_record_from(const smime_sig_report *s, const smime_lint_result *lint,
                                int64_t now, const smime_telemetry_privacy *priv,
                                smime_telemetry_record *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->validity_days = -1;
    day_of(now, out->day, sizeof(out->day));
    copy_field(out->result, sizeof(out->result), smime_result_name(s->result));
    copy_field(out->reason, sizeof(out->reason), s->code);
    copy_field(out->digest_alg, sizeof(out->digest_alg), s->digest_alg);
    copy_field(out->sig_alg, sizeof(out->sig_alg), s->sig_alg);
    copy_field(out->client_family, sizeof(out->client_family),
               smime_telemetry_client_family(s->client));

    if (s->has_signer) {
        /* Issuer identity only for a chain that reached a configured anchor (see
         * record.h); a self-issued certificate's issuer is the signer itself. */
        if (strcmp(s->signer.issuer, s->signer.subject) == 0) {
            copy_field(out->issuer_dn, sizeof(out->issuer_dn), "(self-issued)");
        } else if (!s->chain_anchored) {
            copy_field(out->issuer_dn, sizeof(out->issuer_dn), "(untrusted)");
        } else {
            dn_without_email(s->signer.issuer, out->issuer_dn, sizeof(out->issuer_dn));
            copy_field(out->issuer_key_id, sizeof(out->issuer_key_id), s->signer.issuer_key_id);
        }
        copy_field(out->key_alg, sizeof(out->key_alg), s->signer.key);
        if (s->signer.not_after >= s->signer.not_before && s->signer.not_before != 0)
            out->validity_days = (s->signer.not_after - s->signer.not_before + 86399) / 86400;
        if (s->signer.not_before != 0)
            month_of(s->signer.not_before, out->not_before_month, sizeof(out->not_before_month));
        subject_forms(s->signer.subject, out->cn_form, sizeof(out->cn_form), out->name_attrs,
                      sizeof(out->name_attrs));
        if (priv && priv->cert_key_len > 0) {
            if (priv->cert_key_len > SMIME_TELEMETRY_KEY_MAX) {
                smime_errf(err, errlen, "the certificate id key is longer than %d bytes",
                           SMIME_TELEMETRY_KEY_MAX);
                return -1;
            }
            /* issuer DN, a NUL, the serial: no two (issuer, serial) pairs collide */
            char ident[sizeof(s->signer.issuer) + sizeof(s->signer.serial) + 1];
            size_t il = strlen(s->signer.issuer), sl = strlen(s->signer.serial);
            memcpy(ident, s->signer.issuer, il);
            ident[il] = '\0';
            memcpy(ident + il + 1, s->signer.serial, sl);
            if (hmac_hex(priv->cert_key, priv->cert_key_len, ident, il + 1 + sl, out->cert_id,
                         "signer certificate", err, errlen) < 0)
                return -1;
        }
    }
    if (s->chain_anchored && s->chain_len > 0 && s->chain_len <= SMIME_CHAIN_MAX)
        dn_without_email(s->chain[s->chain_len - 1].subject, out->root_subject,
                         sizeof(out->root_subject));

    if (lint) {
        copy_field(out->policy_oid, sizeof(out->policy_oid), lint->policy_oid);
        copy_field(out->cert_type, sizeof(out->cert_type), smime_lint_type_name(lint->type));
        copy_field(out->generation, sizeof(out->generation), smime_lint_gen_name(lint->generation));
        findings_list(lint, out->findings, sizeof(out->findings));
        out->scope_flags = lint->scope;
        const char *scope = (lint->scope & SMIME_SCOPE_UNPARSABLE) ? "unparsable"
                          : !(lint->scope & SMIME_SCOPE_IN_SBR)   ? "not-smime"
                          : (lint->scope & SMIME_SCOPE_PRE_SBR)   ? "pre-sbr"
                                                                  : "sbr";
        copy_field(out->sbr_scope, sizeof(out->sbr_scope), scope);
    }

    if (priv && priv->caa_lookup) {
        char domain[SMIME_ADDR_MAX];
        identifier_domain(s, domain, sizeof(domain));
        copy_field(out->lookup_domain, sizeof(out->lookup_domain), domain);
    }
    if (priv && priv->domain_mode != SMIME_TELEMETRY_DOMAIN_OFF) {
        char domain[SMIME_ADDR_MAX];
        identifier_domain(s, domain, sizeof(domain));
        if (domain[0] && priv->domain_mode == SMIME_TELEMETRY_DOMAIN_PLAIN) {
            copy_field(out->sender_domain, sizeof(out->sender_domain), domain);
        } else if (domain[0]) {
            if (priv->key_len == 0 || priv->key_len > SMIME_TELEMETRY_KEY_MAX) {
                smime_errf(err, errlen, "sender domain hashing needs a key of 1..%d bytes",
                        SMIME_TELEMETRY_KEY_MAX);
                return -1;
            }
            char hex[65];
            if (hmac_hex(priv->key, priv->key_len, domain, strlen(domain), hex,
                         "sender domain", err, errlen) < 0)
                return -1;
            copy_field(out->sender_domain, sizeof(out->sender_domain), hex);
        }
    }
    return 0;
}
