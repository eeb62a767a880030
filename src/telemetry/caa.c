/* caa - CAA for S/MIME: RDATA and issuemail parsing, the RFC 8659 climb, the
 * decision, the issuer map, and the checker that caches outcomes per domain and
 * asks the resolver for the names of one batch together (see caa.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smime/telemetry/caa.h"
#include "smime/util/text.h"

#define MAP_LINE_MAX    1024
#define MAP_FILE_MAX    (4u << 20)
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_CACHE_MAX  4096
#define DEFAULT_PENDING    64

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ---- RDATA ------------------------------------------------------------------ */

int smime_caa_rr_parse(const unsigned char *rdata, size_t len, smime_caa_rr *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 2)
        return -1;
    out->flags = rdata[0];
    size_t taglen = rdata[1];
    if (taglen == 0 || taglen > len - 2)
        return -1;
    for (size_t i = 0; i < taglen; i++)
        if (!is_alnum(rdata[2 + i]))
            return -1;   /* RFC 8659 4.1: tags are ASCII letters and digits */
    if (taglen >= sizeof(out->tag)) {
        out->tag_too_long = 1;   /* no known tag is this long: an unknown one */
    } else {
        for (size_t i = 0; i < taglen; i++)
            out->tag[i] = lower((char)rdata[2 + i]);
        out->tag[taglen] = '\0';
    }
    out->value = rdata + 2 + taglen;
    out->value_len = len - 2 - taglen;
    return 0;
}

/* issuer-value (RFC 8659 4.2):
 *   [*WSP issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
 *   issuer-domain-name = label *("." label)
 *   label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
 *   parameters = (parameter *WSP ";" *WSP parameters) / parameter
 *   parameter = tag *WSP "=" *WSP value
 *   tag = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
 *   value = *(%x21-3A / %x3C-7E) */
static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static size_t skip_wsp(const unsigned char *v, size_t len, size_t i)
{
    while (i < len && is_wsp(v[i]))
        i++;
    return i;
}

/* A label-like run (letters, digits, inner hyphens) from i; returns its end, or i
 * when there is none.  A trailing hyphen is not part of it. */
static size_t scan_label(const unsigned char *v, size_t len, size_t i)
{
    if (i >= len || !is_alnum(v[i]))
        return i;
    size_t end = i + 1, j = i + 1;
    while (j < len && (is_alnum(v[j]) || v[j] == '-')) {
        if (is_alnum(v[j]))
            end = j + 1;
        j++;
    }
    return end;
}

int smime_caa_issuer_parse(const unsigned char *v, size_t len, char *out)
{
    out[0] = '\0';
    size_t i = skip_wsp(v, len, 0);
    size_t name_start = i, name_end = i;
    /* issuer-domain-name, optional */
    if (i < len && is_alnum(v[i])) {
        for (;;) {
            size_t e = scan_label(v, len, i);
            if (e == i)
                return 0;
            i = e;
            if (i < len && v[i] == '.') {
                i++;
                continue;
            }
            break;
        }
        name_end = i;
        i = skip_wsp(v, len, i);
    }
    if (i < len) {
        if (v[i] != ';')
            return 0;
        i = skip_wsp(v, len, i + 1);
        /* parameters: tag *WSP "=" *WSP value, separated by ";" */
        while (i < len) {
            size_t e = scan_label(v, len, i);
            if (e == i)
                return 0;
            i = skip_wsp(v, len, e);
            if (i >= len || v[i] != '=')
                return 0;
            i = skip_wsp(v, len, i + 1);
            while (i < len && v[i] >= 0x21 && v[i] <= 0x7e && v[i] != ';')
                i++;
            i = skip_wsp(v, len, i);
            if (i < len) {
                if (v[i] != ';')
                    return 0;
                i = skip_wsp(v, len, i + 1);
                if (i >= len)
                    return 0;   /* a ';' must be followed by another parameter */
            }
        }
    }
    size_t n = name_end - name_start;
    if (n >= SMIME_CAA_NAME_MAX)
        return 0;
    for (size_t k = 0; k < n; k++)
        out[k] = lower((char)v[name_start + k]);
    out[n] = '\0';
    return 1;
}

/* Property tags this code knows (RFC 8659, RFC 9495, and the CA/B Forum's
 * contactemail/contactphone); a critical property with any other tag forbids
 * issuance. */
static int known_tag(const char *tag)
{
    static const char *const known[] = { "issue", "issuewild", "iodef", "issuemail",
                                         "contactemail", "contactphone" };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(tag, known[i]) == 0)
            return 1;
    return 0;
}

static void add_issuer(char *list, int *truncated, const char *name)
{
    size_t have = strlen(list), n = strlen(name);
    if (have + n + 2 > SMIME_CAA_ISSUERS_MAX) {
        *truncated = 1;
        return;
    }
    memcpy(list + have, name, n);
    list[have + n] = ' ';
    list[have + n + 1] = '\0';
}

void smime_caa_answer_add(smime_caa_answer *ans, const unsigned char *rdata, size_t len)
{
    ans->status = SMIME_CAA_ANS_DATA;
    ans->nrr++;
    smime_caa_rr rr;
    if (smime_caa_rr_parse(rdata, len, &rr) < 0) {
        if (len >= 1 && (rdata[0] & 0x80))
            ans->critical_unknown = 1;
        return;
    }
    if (!rr.tag_too_long && strcmp(rr.tag, "issuemail") == 0) {
        char issuer[SMIME_CAA_NAME_MAX];
        smime_caa_issuer_parse(rr.value, rr.value_len, issuer);   /* malformed: "" */
        ans->nissuemail++;
        add_issuer(ans->issuers, &ans->issuers_truncated, issuer);
        return;
    }
    if ((rr.flags & 0x80) && (rr.tag_too_long || !known_tag(rr.tag)))
        ans->critical_unknown = 1;
}

/* ---- climb and decision ------------------------------------------------------ */

int smime_caa_climb_names(const char *domain, char names[][SMIME_CAA_NAME_MAX])
{
    char d[SMIME_CAA_NAME_MAX];
    size_t len = strlen(domain);
    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return -1;
    size_t labels = 1, label_len = 0;
    for (size_t i = 0; i < len; i++) {
        char c = lower(domain[i]);
        if (c == '.') {
            if (label_len == 0)
                return -1;
            labels++;
            label_len = 0;
        } else if (is_alnum((unsigned char)c) || c == '-' || c == '_') {
            if (++label_len > 63)
                return -1;
        } else {
            return -1;
        }
        d[i] = c;
    }
    d[len] = '\0';
    if (label_len == 0 || labels < 2 || labels > SMIME_CAA_CLIMB_MAX)
        return -1;
    /* the domain, then every parent down to and including the TLD */
    int n = 0;
    const char *p = d;
    for (;;) {
        memcpy(names[n], p, strlen(p) + 1);
        n++;
        const char *dot = strchr(p, '.');
        if (!dot)
            break;
        p = dot + 1;
    }
    return n;
}

void smime_caa_relevant(const smime_caa_answer *answers, size_t n, smime_caa_domain_state *out)
{
    memset(out, 0, sizeof(*out));
    out->ttl = SMIME_CAA_TTL_MAX;
    out->found_at = -1;
    for (size_t i = 0; i < n; i++) {
        const smime_caa_answer *a = &answers[i];
        if (a->ttl < out->ttl)
            out->ttl = a->ttl;
        if (a->status == SMIME_CAA_ANS_FAILED || a->status == SMIME_CAA_ANS_TIMEOUT) {
            out->issuemail = SMIME_CAA_FAILED;
            out->found_at = (int)i;
            out->detail = a->status == SMIME_CAA_ANS_TIMEOUT ? "timeout"
                                                             : smime_caa_rcode_name(a->rcode);
            out->ttl = SMIME_CAA_FAIL_TTL;
            return;
        }
        if (a->status == SMIME_CAA_ANS_DATA) {
            out->issuemail = a->nissuemail ? SMIME_CAA_ISSUEMAIL : SMIME_CAA_NO_ISSUEMAIL;
            out->found_at = (int)i;
            out->nissuemail = a->nissuemail;
            memcpy(out->issuers, a->issuers, sizeof(out->issuers));
            out->issuers_truncated = a->issuers_truncated;
            out->critical_unknown = a->critical_unknown;
            break;
        }
    }
    if (!out->issuemail)
        out->issuemail = SMIME_CAA_NO_CAA;
    if (out->ttl < SMIME_CAA_TTL_MIN)
        out->ttl = SMIME_CAA_TTL_MIN;
}

const char *smime_caa_rcode_name(int rcode)
{
    static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP", "REFUSED" };
    if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
        return names[rcode];
    return rcode < 0 ? "resolver error" : "other rcode";
}

/* Is name one of the space-terminated entries of list? ("" matches nothing.) */
static int list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    for (const char *p = list; *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return 1;
        p += len + (sp ? 1 : 0);
    }
    return 0;
}

const char *smime_caa_decide(const smime_caa_domain_state *st, const char *const *ca_names,
                             size_t nca)
{
    if (!st->issuemail || strcmp(st->issuemail, SMIME_CAA_FAILED) == 0)
        return SMIME_CAA_FAILED;
    if (st->critical_unknown)
        return SMIME_CAA_NOT_AUTHORIZED;
    if (strcmp(st->issuemail, SMIME_CAA_ISSUEMAIL) != 0)
        return SMIME_CAA_UNRESTRICTED;
    if (nca == 0)
        return SMIME_CAA_NOT_MAPPED;
    for (size_t i = 0; i < nca; i++)
        if (list_has(st->issuers, ca_names[i]))
            return SMIME_CAA_AUTHORIZED;
    return st->issuers_truncated ? SMIME_CAA_FAILED : SMIME_CAA_NOT_AUTHORIZED;
}

/* ---- issuer map ---------------------------------------------------------------- */

typedef struct map_entry {
    char *issuer_name;   /* owned, lower-case issuer-domain-name */
    char *key_id;        /* owned, lower-case hex; NULL for a dn: line */
    char *dn;            /* owned; NULL for a keyid: line */
} map_entry;

struct smime_caa_map {
    map_entry *e;
    size_t n;
};

void smime_caa_map_free(smime_caa_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n; i++) {
        free(map->e[i].issuer_name);
        free(map->e[i].key_id);
        free(map->e[i].dn);
    }
    free(map->e);
    free(map);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* One line: "NAME keyid:HEX" or "NAME dn:DN".  Returns 0, 1 for nothing (comment,
 * blank), -1 with why. */
static int map_line(char *line, map_entry *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    char *s = trim(line);
    if (!*s || *s == '#')
        return 1;
    char *sp = s + strcspn(s, " \t");
    if (!*sp) {
        *why = "expected an issuer-domain-name and keyid:HEX or dn:DN";
        return -1;
    }
    *sp = '\0';
    char name[SMIME_CAA_NAME_MAX];
    if (smime_caa_issuer_parse((const unsigned char *)s, strlen(s), name) != 1 || !name[0] ||
        strchr(s, ';')) {
        *why = "not an issuer-domain-name";
        return -1;
    }
    char *m = trim(sp + 1);
    if (strncmp(m, "keyid:", 6) == 0) {
        char *hex = m + 6;
        size_t n = strlen(hex);
        if (n == 0 || n > 128 || strspn(hex, "0123456789abcdefABCDEF") != n) {
            *why = "keyid: wants hexadecimal digits";
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            hex[i] = lower(hex[i]);
        out->key_id = strdup(hex);
    } else if (strncmp(m, "dn:", 3) == 0 && m[3]) {
        out->dn = strdup(m + 3);
    } else {
        *why = "the CA must be keyid:HEX or dn:DN";
        return -1;
    }
    out->issuer_name = strdup(name);
    if (!out->issuer_name || (!out->key_id && !out->dn)) {
        free(out->issuer_name);
        free(out->key_id);
        free(out->dn);
        *why = "out of memory";
        return -1;
    }
    return 0;
}

int smime_caa_map_parse(const char *text, smime_caa_map **out, char *err, size_t errlen)
{
    *out = NULL;
    smime_caa_map *map = calloc(1, sizeof(*map));
    if (!map) {
        smime_errf(err, errlen, "out of memory");
        return -1;
    }
    size_t lineno = 0, alloc = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (lineno > SMIME_CAA_MAP_MAX || len >= MAP_LINE_MAX) {
            smime_errf(err, errlen, "line %zu: %s", lineno,
                       lineno > SMIME_CAA_MAP_MAX ? "more lines than the map may have"
                                                   : "line too long");
            smime_caa_map_free(map);
            return -1;
        }
        char line[MAP_LINE_MAX];
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (nl ? 1 : 0);
        map_entry e;
        const char *why = "";
        int rc = map_line(line, &e, &why);
        if (rc == 1)
            continue;
        if (rc < 0) {
            smime_errf(err, errlen, "line %zu: %s", lineno, why);
            smime_caa_map_free(map);
            return -1;
        }
        if (map->n == alloc) {
            size_t na = alloc ? alloc * 2 : 16;
            map_entry *ne = realloc(map->e, na * sizeof(*ne));
            if (!ne) {
                free(e.issuer_name);
                free(e.key_id);
                free(e.dn);
                smime_errf(err, errlen, "out of memory");
                smime_caa_map_free(map);
                return -1;
            }
            map->e = ne;
            alloc = na;
        }
        map->e[map->n++] = e;
    }
    *out = map;
    return 0;
}

int smime_caa_map_load(const char *path, smime_caa_map **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        smime_errf(err, errlen, "CAA issuer map %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(MAP_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, MAP_FILE_MAX + 1, f) : 0;
    int read_err = ferror(f);
    fclose(f);
    if (!text || read_err || n > MAP_FILE_MAX) {
        smime_errf(err, errlen, "CAA issuer map %s: %s", path,
                   !text ? "out of memory" : read_err ? "read error" : "larger than 4 MiB");
        free(text);
        return -1;
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        smime_errf(err, errlen, "CAA issuer map %s: a NUL byte", path);
        free(text);
        return -1;
    }
    char why[256];
    int rc = smime_caa_map_parse(text, out, why, sizeof(why));
    free(text);
    if (rc < 0)
        smime_errf(err, errlen, "CAA issuer map %s: %s", path, why);
    return rc;
}

size_t smime_caa_map_names(const smime_caa_map *map, const char *issuer_key_id,
                           const char *issuer_dn, const char **names, size_t max)
{
    size_t k = 0;
    if (!map)
        return 0;
    for (size_t i = 0; i < map->n && k < max; i++) {
        const map_entry *e = &map->e[i];
        int match = (e->key_id && issuer_key_id && *issuer_key_id &&
                     strcasecmp(e->key_id, issuer_key_id) == 0) ||
                    (e->dn && issuer_dn && *issuer_dn && strcmp(e->dn, issuer_dn) == 0);
        if (match)
            names[k++] = e->issuer_name;
    }
    return k;
}

/* ---- the checker ----------------------------------------------------------------- */

typedef struct cache_entry {
    char     domain[SMIME_CAA_NAME_MAX];   /* "" = free slot */
    int64_t  expires;                      /* epoch seconds */
    smime_caa_domain_state st;
} cache_entry;

/* One domain of the batch being looked up: which queries are its climb. */
typedef struct pending_domain {
    char   domain[SMIME_CAA_NAME_MAX];
    size_t first, n;          /* its names in the batch's query list */
    int    bad;               /* not a usable DNS name: failed without a query */
    int    skipped;           /* did not fit in pending_max */
    smime_caa_domain_state st;
} pending_domain;

struct smime_caa_checker {
    smime_caa_options opt;
    smime_caa_resolver res;
    smime_caa_map *map;            /* owned; may be NULL */
    cache_entry *cache;            /* owned, opt.cache_max slots */
    smime_caa_stats st;
    /* per batch scratch, allocated once (the writer's batch is at most
     * SMIME_TELEMETRY_BATCH_MAX records) */
    pending_domain *pend;          /* SMIME_TELEMETRY_BATCH_MAX */
    char (*names)[SMIME_CAA_NAME_MAX];  /* pending_max */
    smime_caa_answer *answers;     /* pending_max */
};

void smime_caa_checker_free(smime_caa_checker *c)
{
    if (!c)
        return;
    if (c->res.close)
        c->res.close(c->res.impl);
    smime_caa_map_free(c->map);
    free(c->cache);
    free(c->pend);
    free(c->names);
    free(c->answers);
    free(c);
}

int smime_caa_checker_new(const smime_caa_options *opt, smime_caa_resolver resolver,
                          smime_caa_map *map, smime_caa_checker **out, char *err,
                          size_t errlen)
{
    *out = NULL;
    smime_caa_checker *c = calloc(1, sizeof(*c));
    if (!c) {
        if (resolver.close)
            resolver.close(resolver.impl);
        smime_caa_map_free(map);
        smime_errf(err, errlen, "out of memory");
        return -1;
    }
    c->res = resolver;
    c->map = map;
    if (opt)
        c->opt = *opt;
    if (!c->opt.timeout_ms)
        c->opt.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!c->opt.cache_max)
        c->opt.cache_max = DEFAULT_CACHE_MAX;
    if (!c->opt.pending_max)
        c->opt.pending_max = DEFAULT_PENDING;
    if (c->opt.pending_max > SMIME_CAA_PENDING_MAX || c->opt.cache_max > (1u << 20) ||
        c->opt.timeout_ms > 60000) {
        smime_errf(err, errlen, "CAA: at most %d lookups at a time, 1048576 cache entries, "
                   "a 60 s timeout", SMIME_CAA_PENDING_MAX);
        smime_caa_checker_free(c);
        return -1;
    }
    c->cache = calloc(c->opt.cache_max, sizeof(*c->cache));
    c->pend = calloc(SMIME_TELEMETRY_BATCH_MAX, sizeof(*c->pend));
    c->names = calloc(c->opt.pending_max, sizeof(*c->names));
    c->answers = calloc(c->opt.pending_max, sizeof(*c->answers));
    if (!c->cache || !c->pend || !c->names || !c->answers) {
        smime_errf(err, errlen, "out of memory for the CAA cache");
        smime_caa_checker_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void smime_caa_checker_stats(const smime_caa_checker *c, smime_caa_stats *st)
{
    *st = c->st;
}

/* The cache is a flat array searched linearly: cache_max is thousands at most and
 * the writer looks up one batch at a time, so a hash table would save microseconds
 * per batch against a DNS round trip. */
static cache_entry *cache_find(smime_caa_checker *c, const char *domain, int64_t now)
{
    for (size_t i = 0; i < c->opt.cache_max; i++) {
        cache_entry *e = &c->cache[i];
        if (e->domain[0] && strcmp(e->domain, domain) == 0) {
            if (e->expires <= now) {
                e->domain[0] = '\0';
                return NULL;
            }
            return e;
        }
    }
    return NULL;
}

static void cache_put(smime_caa_checker *c, const char *domain,
                      const smime_caa_domain_state *st, int64_t now)
{
    cache_entry *slot = NULL;
    for (size_t i = 0; i < c->opt.cache_max && !slot; i++)
        if (!c->cache[i].domain[0] || c->cache[i].expires <= now)
            slot = &c->cache[i];
    if (!slot) {   /* full: the entry that expires first makes room */
        slot = &c->cache[0];
        for (size_t i = 1; i < c->opt.cache_max; i++)
            if (c->cache[i].expires < slot->expires)
                slot = &c->cache[i];
        c->st.evicted++;
    }
    memcpy(slot->domain, domain, strlen(domain) + 1);
    slot->st = *st;
    slot->expires = now + st->ttl;
}

static void set_outcome(smime_telemetry_record *r, const smime_caa_domain_state *st,
                        const smime_caa_map *map)
{
    const char *names[16];
    size_t nca = smime_caa_map_names(map, r->issuer_key_id, r->issuer_dn, names, 16);
    snprintf(r->caa_issuemail, sizeof(r->caa_issuemail), "%s", st->issuemail);
    snprintf(r->caa_ca, sizeof(r->caa_ca), "%s", smime_caa_decide(st, names, nca));
}

/* The cache key of a record's domain, lower-cased; -1 when it is too long to be
 * a DNS name (cutting it could make it another, valid name). */
static int domain_key(const char *lookup, char out[SMIME_CAA_NAME_MAX])
{
    size_t n = strnlen(lookup, SMIME_CAA_NAME_MAX);
    if (n >= SMIME_CAA_NAME_MAX)
        return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = lower(lookup[i]);
    return 0;
}

static pending_domain *pending_of(smime_caa_checker *c, size_t npend, const char *domain)
{
    for (size_t i = 0; i < npend; i++)
        if (strcmp(c->pend[i].domain, domain) == 0)
            return &c->pend[i];
    return NULL;
}

int smime_caa_checker_fill(smime_caa_checker *c, smime_telemetry_record *recs, size_t n,
                           int64_t now, char *err, size_t errlen)
{
    if (n > SMIME_TELEMETRY_BATCH_MAX)
        n = SMIME_TELEMETRY_BATCH_MAX;   /* the writer's batches never are larger */
    /* 1. the distinct domains not in the cache, and their climbs */
    size_t npend = 0, nnames = 0;
    for (size_t i = 0; i < n; i++) {
        smime_telemetry_record *r = &recs[i];
        if (!r->lookup_domain[0])
            continue;
        char domain[SMIME_CAA_NAME_MAX];
        if (domain_key(r->lookup_domain, domain) < 0)
            continue;   /* longer than any DNS name: failed in step 4 */
        if (cache_find(c, domain, now) || pending_of(c, npend, domain))
            continue;
        pending_domain *pd = &c->pend[npend++];
        memset(pd, 0, sizeof(*pd));
        memcpy(pd->domain, domain, strlen(domain) + 1);
        char climb[SMIME_CAA_CLIMB_MAX][SMIME_CAA_NAME_MAX];
        int k = smime_caa_climb_names(domain, climb);
        if (k < 0) {
            pd->bad = 1;
            continue;
        }
        if (nnames + (size_t)k > c->opt.pending_max) {
            pd->skipped = 1;
            continue;
        }
        pd->first = nnames;
        pd->n = (size_t)k;
        for (int j = 0; j < k; j++)
            memcpy(c->names[nnames++], climb[j], strlen(climb[j]) + 1);
    }
    /* 2. every name of the batch in one round, under one timeout */
    int rc = 0;
    if (nnames > 0) {
        const char *q[SMIME_CAA_PENDING_MAX];
        for (size_t i = 0; i < nnames; i++) {
            q[i] = c->names[i];
            memset(&c->answers[i], 0, sizeof(c->answers[i]));
        }
        if (c->res.resolve(c->res.impl, q, nnames, c->opt.timeout_ms, c->answers, err,
                           errlen) < 0) {
            for (size_t i = 0; i < nnames; i++) {
                c->answers[i].status = SMIME_CAA_ANS_FAILED;
                c->answers[i].rcode = -1;
            }
            rc = -1;
        }
    }
    /* 3. outcomes per domain, into the cache */
    for (size_t i = 0; i < npend; i++) {
        pending_domain *pd = &c->pend[i];
        if (pd->skipped)
            continue;
        if (pd->bad) {
            memset(&pd->st, 0, sizeof(pd->st));
            pd->st.issuemail = SMIME_CAA_FAILED;
            pd->st.detail = "not a DNS name";
            pd->st.found_at = -1;
            pd->st.ttl = SMIME_CAA_FAIL_TTL;
        } else {
            smime_caa_relevant(&c->answers[pd->first], pd->n, &pd->st);
        }
        c->st.lookups++;
        if (strcmp(pd->st.issuemail, SMIME_CAA_FAILED) == 0)
            c->st.failed++;
        cache_put(c, pd->domain, &pd->st, now);
    }
    /* 4. each record's outcome; the plain domain is forgotten */
    for (size_t i = 0; i < n; i++) {
        smime_telemetry_record *r = &recs[i];
        if (!r->lookup_domain[0])
            continue;
        char domain[SMIME_CAA_NAME_MAX];
        int too_long = domain_key(r->lookup_domain, domain) < 0;
        memset(r->lookup_domain, 0, sizeof(r->lookup_domain));
        if (too_long) {
            smime_caa_domain_state bad;
            memset(&bad, 0, sizeof(bad));
            bad.issuemail = SMIME_CAA_FAILED;
            bad.detail = "not a DNS name";
            bad.found_at = -1;
            set_outcome(r, &bad, c->map);
            continue;
        }
        pending_domain *pd = pending_of(c, npend, domain);
        if (pd && pd->skipped) {
            c->st.skipped++;
            continue;
        }
        if (pd) {
            set_outcome(r, &pd->st, c->map);
            continue;
        }
        cache_entry *e = cache_find(c, domain, now);
        if (e) {
            c->st.cache_hits++;
            set_outcome(r, &e->st, c->map);
        } else {
            c->st.skipped++;   /* evicted within this batch: more domains than cache_max */
        }
    }
    return rc;
}

int smime_caa_checker_cached(smime_caa_checker *c, const char *domain, int64_t now,
                             smime_caa_domain_state *out)
{
    char d[SMIME_CAA_NAME_MAX];
    size_t n = strlen(domain);
    if (n >= sizeof(d))
        return 0;
    for (size_t i = 0; i <= n; i++)
        d[i] = lower(domain[i]);
    cache_entry *e = cache_find(c, d, now);
    if (!e)
        return 0;
    *out = e->st;
    return 1;
}
