/* config - parse and validate the smime-milter configuration file.
 *
 * One table lists every key with its kind and where its value goes, so adding a key
 * is adding a row (and a paragraph in smime-milter.conf(5)). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smime/report/authres.h"
#include "smime/util/buf.h"
#include "smime/telemetry/telemetry.h"
#include "smime/util/text.h"

typedef enum key_kind {
    K_PATH,        /* absolute path */
    K_SOCKET,
    K_SERVID,
    K_USERID,
    K_UMASK,
    K_BOOL,
    K_SIZE,
    K_FACILITY,
    K_LINTMODE,
    K_DEPTH,
    K_REVMODE,
    K_SECONDS,     /* 0..600 */
    K_COUNT,       /* unsigned 0..arg */
    K_TELEMETRY,   /* sink URI */
    K_METRICS,     /* inet:PORT@IPV4 or inet6:PORT@[IPV6] */
    K_ACTION,      /* arg: result index, or -1 for On-InternalError */
    K_REPLY,       /* arg: '4' or '5' */
    K_TAG,         /* a subject tag, optionally in double quotes */
    K_DOMAINMODE,  /* off, hmac, plain */
    K_RESOLVER,    /* ADDR[@PORT] or system */
} key_kind;

typedef struct key_def {
    const char *name;
    key_kind    kind;
    size_t      offset;    /* of the field in smime_config */
    size_t      size;      /* of a string field */
    int         arg;
} key_def;

#define STR(field) offsetof(smime_config, field), sizeof(((smime_config *)0)->field)
#define FLD(field) offsetof(smime_config, field), 0
#define ACT(i)     offsetof(smime_config, policy.on_result) + (i) * sizeof(smime_action), 0

static const key_def keys[] = {
    { "Socket",              K_SOCKET,   STR(socket), 0 },
    { "AuthservID",          K_SERVID,   STR(authserv_id), 0 },
    { "TrustAnchors",        K_PATH,     STR(trust_anchors), 0 },
    { "UserID",              K_USERID,   STR(user_id), 0 },
    { "PidFile",             K_PATH,     STR(pid_file), 0 },
    { "UMask",               K_UMASK,    FLD(umask), 0 },
    { "Syslog",              K_BOOL,     FLD(syslog), 0 },
    { "SyslogFacility",      K_FACILITY, STR(syslog_facility), 0 },
    { "LogWhy",              K_BOOL,     FLD(log_why), 0 },
    { "PeerList",            K_PATH,     STR(peer_list), 0 },
    { "SkipAuthenticated",   K_BOOL,     FLD(skip_authenticated), 0 },
    { "MaximumMessageSize",  K_SIZE,     FLD(max_message_size), 0 },
    { "MessageMemoryLimit",  K_SIZE,     FLD(memory_limit), 0 },
    { "TemporaryDirectory",  K_PATH,     STR(temp_dir), 0 },
    { "RemoveForgedResults", K_BOOL,     FLD(remove_forged), 0 },
    { "DetailHeaders",       K_BOOL,     FLD(detail_headers), 0 },
    { "LintMode",            K_LINTMODE, FLD(lint_mode), 0 },
    { "MaximumDepth",        K_DEPTH,    FLD(max_depth), 0 },
    { "Revocation",          K_REVMODE,  FLD(revocation), 0 },
    { "RevocationTimeout",   K_SECONDS,  FLD(revocation_timeout), 0 },
    { "RevocationCache",     K_PATH,     STR(revocation_cache), 0 },
    { "CRLDirectory",        K_PATH,     STR(crl_dir), 0 },
    { "RevocationMaxRedirects", K_COUNT, FLD(revocation_max_redirects), 5 },
    { "RevocationAllowPrivate", K_BOOL,  FLD(revocation_allow_private), 0 },
    { "MaximumSignaturesToVerify", K_COUNT, FLD(max_signatures), 4096 },
    { "MaximumRSAKeyBits",   K_COUNT,    FLD(max_rsa_bits), 16384 },
    { "HashBudgetFactor",    K_COUNT,    FLD(hash_factor), 1024 },
    { "DecodeBudgetFactor",  K_COUNT,    FLD(decode_factor), 1024 },
    { "VerifyTimeout",       K_SECONDS,  FLD(verify_timeout), 0 },
    { "Telemetry",           K_TELEMETRY, STR(telemetry), 0 },
    { "MetricsSocket",       K_METRICS,  STR(metrics_socket), 0 },
    { "TelemetrySenderDomain", K_DOMAINMODE, FLD(telemetry_sender_domain), 0 },
    { "TelemetryHMACKeyFile", K_PATH,    STR(telemetry_hmac_key), 0 },
    { "CAALookup",           K_BOOL,     FLD(caa_lookup), 0 },
    { "CAAResolver",         K_RESOLVER, STR(caa_resolver), 0 },
    { "CAAIssuerMap",        K_PATH,     STR(caa_issuer_map), 0 },
    { "CAATimeout",          K_COUNT,    FLD(caa_timeout_ms), 60000 },
    { "CAACacheSize",        K_COUNT,    FLD(caa_cache), 1048576 },
    { "On-None",             K_ACTION,   ACT(SMIME_RESULT_NONE), 0 },
    { "On-Pass",             K_ACTION,   ACT(SMIME_RESULT_PASS), 0 },
    { "On-Fail",             K_ACTION,   ACT(SMIME_RESULT_FAIL), 0 },
    { "On-Neutral",          K_ACTION,   ACT(SMIME_RESULT_NEUTRAL), 0 },
    { "On-Policy",           K_ACTION,   ACT(SMIME_RESULT_POLICY), 0 },
    { "On-TempError",        K_ACTION,   ACT(SMIME_RESULT_TEMPERROR), 0 },
    { "On-PermError",        K_ACTION,   ACT(SMIME_RESULT_PERMERROR), 0 },
    { "On-InternalError",    K_ACTION,   FLD(policy.on_internal_error), 0 },
    { "RejectReply",         K_REPLY,    STR(policy.reject_reply), '5' },
    { "TempfailReply",       K_REPLY,    STR(policy.tempfail_reply), '4' },
    /* gateway policy (issue #18) */
    { "SigningPolicy",       K_PATH,     STR(signing_policy), 0 },
    { "SubjectTag-None",     K_TAG,      STR(subject_tag[SMIME_RESULT_NONE]), 0 },
    { "SubjectTag-Pass",     K_TAG,      STR(subject_tag[SMIME_RESULT_PASS]), 0 },
    { "SubjectTag-Fail",     K_TAG,      STR(subject_tag[SMIME_RESULT_FAIL]), 0 },
    { "SubjectTag-Neutral",  K_TAG,      STR(subject_tag[SMIME_RESULT_NEUTRAL]), 0 },
    { "SubjectTag-Policy",   K_TAG,      STR(subject_tag[SMIME_RESULT_POLICY]), 0 },
    { "SubjectTag-TempError", K_TAG,     STR(subject_tag[SMIME_RESULT_TEMPERROR]), 0 },
    { "SubjectTag-PermError", K_TAG,     STR(subject_tag[SMIME_RESULT_PERMERROR]), 0 },
    { "SubjectTag-SigningFail", K_TAG,   STR(subject_tag[SMIME_TAG_SIGNING_FAIL]), 0 },
    { "HarvestDirectory",    K_PATH,     STR(harvest_dir), 0 },
    { "HarvestMaxEntries",   K_COUNT,    FLD(harvest_max_entries), 1000000 },
    { "HarvestMaxBytes",     K_SIZE,     FLD(harvest_max_bytes), 0 },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const facilities[] = {
    "mail", "daemon", "user", "local0", "local1", "local2", "local3",
    "local4", "local5", "local6", "local7",
};

void smime_config_default(smime_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->socket, sizeof(c->socket), "inet:8894@127.0.0.1");
    c->syslog = 1;
    snprintf(c->syslog_facility, sizeof(c->syslog_facility), "mail");
    c->max_message_size = 64u << 20;
    c->memory_limit = 1u << 20;
    snprintf(c->temp_dir, sizeof(c->temp_dir), "/var/tmp");
    c->remove_forged = 1;
    c->lint_mode = SMIME_LINT_REPORT;
    c->max_depth = 32;
    c->revocation = SMIME_REV_MODE_OFF;
    c->revocation_timeout = 5;
    c->max_signatures = 32;
    c->max_rsa_bits = 8192;
    c->hash_factor = 4;
    c->decode_factor = 2;
    c->verify_timeout = 3;
    c->caa_timeout_ms = 2000;
    c->caa_cache = 4096;
    smime_policy_default(&c->policy);
    c->harvest_max_entries = 10000;
    c->harvest_max_bytes = 64u << 20;
}

static int word_is(const char *s, const char *word)
{
    return smime_ascii_casecmp_n(s, strlen(s), word, strlen(word)) == 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses a decimal port 1..65535 ending at `end` (exclusive). */
static int port_valid(const char *p, const char *end)
{
    if (p == end || end - p > 5)
        return 0;
    unsigned long v = 0;
    for (; p < end; p++) {
        if (!is_digit(*p))
            return 0;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return v >= 1 && v <= 65535;
}

static int host_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '-' || c == '_';
}

int smime_config_socket_valid(const char *spec)
{
    if (strncmp(spec, "local:", 6) == 0 || strncmp(spec, "unix:", 5) == 0) {
        const char *path = strchr(spec, ':') + 1;
        /* sun_path holds 108 bytes on Linux */
        return path[0] == '/' && strlen(path) < 108;
    }
    int v6 = strncmp(spec, "inet6:", 6) == 0;
    if (!v6 && strncmp(spec, "inet:", 5) != 0)
        return 0;
    const char *port = spec + (v6 ? 6 : 5);
    const char *at = strchr(port, '@');
    if (!port_valid(port, at ? at : port + strlen(port)))
        return 0;
    if (!at)
        return 1;
    const char *host = at + 1;
    size_t n = strlen(host);
    if (v6) {
        if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
            host++;
            n -= 2;
        }
        if (n == 0 || n > 45)
            return 0;
        for (size_t i = 0; i < n; i++) {
            char c = host[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.'))
                return 0;
        }
        return 1;
    }
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!host_char(host[i]))
            return 0;
    return 1;
}

int smime_config_metrics_addr(const char *spec, struct sockaddr_storage *out, socklen_t *len)
{
    int v6 = strncmp(spec, "inet6:", 6) == 0;
    if (!v6 && strncmp(spec, "inet:", 5) != 0)
        return -1;
    const char *port = spec + (v6 ? 6 : 5);
    const char *at = strchr(port, '@');
    /* an address is required: where the metrics are served is a decision */
    if (!at || !port_valid(port, at))
        return -1;
    unsigned short portnum = (unsigned short)atoi(port);
    const char *host = at + 1;
    size_t n = strlen(host);
    char addr[INET6_ADDRSTRLEN];
    memset(out, 0, sizeof(*out));
    if (v6) {
        if (n < 3 || n - 2 >= sizeof(addr) || host[0] != '[' || host[n - 1] != ']')
            return -1;
        memcpy(addr, host + 1, n - 2);
        addr[n - 2] = '\0';
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
        if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
            return -1;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(portnum);
        *len = sizeof(*in6);
        return 0;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    /* numeric only: no name lookup at start-up, and a name could mean several */
    if (n >= sizeof(addr) || inet_pton(AF_INET, host, &in->sin_addr) != 1)
        return -1;
    in->sin_family = AF_INET;
    in->sin_port = htons(portnum);
    *len = sizeof(*in);
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (word_is(v, yes[i])) {
            *out = 1;
            return 0;
        }
        if (word_is(v, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Decimal bytes with an optional k, M or G suffix (powers of 1024). */
static int parse_size(const char *v, size_t *out)
{
    if (!is_digit(v[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return -1;
        }
        if (end[1])
            return -1;
    }
    if (n == 0 || n > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)(n << shift);
    return 0;
}

static int userid_valid(const char *v)
{
    size_t colons = 0, n = strlen(v);
    if (n == 0 || v[0] == ':' || v[n - 1] == ':')
        return 0;
    for (const char *p = v; *p; p++) {
        if (*p == ':')
            colons++;
        else if (!(host_char(*p)))
            return 0;
    }
    return colons <= 1;
}

/* Stores a string value, refusing one that does not fit rather than cutting it. */
static int set_string(smime_config *c, const key_def *k, const char *v, char *why, size_t whylen)
{
    char *dst = (char *)c + k->offset;
    size_t n = strlen(v);
    if (n >= k->size) {
        snprintf(why, whylen, "value longer than %zu bytes", k->size - 1);
        return -1;
    }
    memcpy(dst, v, n + 1);
    return 0;
}

static int apply_key(smime_config *c, const key_def *k, const char *v, char *why, size_t whylen)
{
    void *field = (char *)c + k->offset;
    switch (k->kind) {
    case K_PATH:
        if (v[0] != '/') {
            snprintf(why, whylen, "expected an absolute path");
            return -1;
        }
        return set_string(c, k, v, why, whylen);
    case K_SOCKET:
        if (!smime_config_socket_valid(v)) {
            snprintf(why, whylen,
                     "expected inet:PORT@HOST, inet6:PORT@[ADDR] or local:/PATH");
            return -1;
        }
        return set_string(c, k, v, why, whylen);
    case K_SERVID:
        if (!smime_authres_valid_servid(v)) {
            snprintf(why, whylen, "expected a host-name-like token (no blanks or specials)");
            return -1;
        }
        return set_string(c, k, v, why, whylen);
    case K_USERID:
        if (!userid_valid(v)) {
            snprintf(why, whylen, "expected USER or USER:GROUP");
            return -1;
        }
        return set_string(c, k, v, why, whylen);
    case K_UMASK: {
        char *end;
        errno = 0;
        unsigned long m = strtoul(v, &end, 8);
        if (!is_digit(v[0]) || *end || errno || m > 0777) {
            snprintf(why, whylen, "expected an octal mask 000..777");
            return -1;
        }
        c->umask = (unsigned)m;
        c->has_umask = 1;
        return 0;
    }
    case K_BOOL:
        if (parse_bool(v, (int *)field) < 0) {
            snprintf(why, whylen, "expected yes or no");
            return -1;
        }
        return 0;
    case K_SIZE:
        if (parse_size(v, (size_t *)field) < 0) {
            snprintf(why, whylen, "expected a positive number of bytes (suffix k, M or G allowed)");
            return -1;
        }
        return 0;
    case K_FACILITY:
        for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
            if (word_is(v, facilities[i])) {
                snprintf(c->syslog_facility, sizeof(c->syslog_facility), "%s", facilities[i]);
                return 0;
            }
        snprintf(why, whylen, "expected mail, daemon, user or local0..local7");
        return -1;
    case K_LINTMODE:
        for (int m = SMIME_LINT_OFF; m <= SMIME_LINT_ENFORCE; m++)
            if (word_is(v, smime_lint_mode_name((smime_lint_mode)m))) {
                c->lint_mode = (smime_lint_mode)m;
                return 0;
            }
        snprintf(why, whylen, "expected off, report or enforce");
        return -1;
    case K_DEPTH: {
        char *end;
        errno = 0;
        unsigned long d = strtoul(v, &end, 10);
        if (!is_digit(v[0]) || *end || errno || d < 1 || d > 128) {
            snprintf(why, whylen, "expected a number 1..128");
            return -1;
        }
        c->max_depth = (unsigned)d;
        return 0;
    }
    case K_TELEMETRY:
        if (smime_telemetry_uri_check(v, why, whylen) < 0)
            return -1;
        return set_string(c, k, v, why, whylen);
    case K_METRICS: {
        struct sockaddr_storage ss;
        socklen_t sl;
        if (smime_config_metrics_addr(v, &ss, &sl) < 0) {
            snprintf(why, whylen, "expected inet:PORT@IPV4-ADDRESS or inet6:PORT@[IPV6-ADDRESS]");
            return -1;
        }
        return set_string(c, k, v, why, whylen);
    }
    case K_REVMODE:
        for (int m = SMIME_REV_MODE_OFF; m <= SMIME_REV_MODE_HARD; m++)
            if (word_is(v, smime_rev_mode_name((smime_rev_mode)m))) {
                c->revocation = (smime_rev_mode)m;
                return 0;
            }
        snprintf(why, whylen, "expected off, soft or hard");
        return -1;
    case K_SECONDS: {
        char *end;
        errno = 0;
        unsigned long sec = strtoul(v, &end, 10);
        if (!is_digit(v[0]) || *end || errno || sec > 600) {
            snprintf(why, whylen, "expected seconds, 0..600");
            return -1;
        }
        *(unsigned *)field = (unsigned)sec;
        return 0;
    }
    case K_COUNT: {
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (!is_digit(v[0]) || *end || errno || n > (unsigned long)k->arg) {
            snprintf(why, whylen, "expected a number 0..%d", k->arg);
            return -1;
        }
        *(unsigned *)field = (unsigned)n;
        return 0;
    }
    case K_ACTION: {
        int a = smime_action_parse(v);
        if (a < 0) {
            snprintf(why, whylen, "expected accept, reject, tempfail, quarantine or discard");
            return -1;
        }
        *(smime_action *)field = (smime_action)a;
        return 0;
    }
    case K_REPLY:
        if (smime_reply_check(v, (char)k->arg, why, whylen) < 0)
            return -1;
        return set_string(c, k, v, why, whylen);
    case K_TAG: {
        char tag[SMIME_SUBJECT_TAG_MAX + 1];
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
            v++;
            n -= 2;
        }
        if (n >= sizeof(tag) || (memcpy(tag, v, n), tag[n] = '\0', !smime_subject_tag_valid(tag))) {
            snprintf(why, whylen, "expected 1..%d printable ASCII characters, e.g. \"[signed]\"",
                     SMIME_SUBJECT_TAG_MAX);
            return -1;
        }
        return set_string(c, k, tag, why, whylen);
    }
    case K_DOMAINMODE:
        if (word_is(v, "off"))
            c->telemetry_sender_domain = SMIME_TELEMETRY_DOMAIN_OFF;
        else if (word_is(v, "hmac"))
            c->telemetry_sender_domain = SMIME_TELEMETRY_DOMAIN_HMAC;
        else if (word_is(v, "plain"))
            c->telemetry_sender_domain = SMIME_TELEMETRY_DOMAIN_PLAIN;
        else {
            snprintf(why, whylen, "expected off, hmac or plain");
            return -1;
        }
        return 0;
    case K_RESOLVER: {
        if (word_is(v, "system")) {
            c->caa_resolver[0] = '\0';
            return 0;
        }
        /* an IPv4 or IPv6 address, optionally @PORT (libunbound's form) */
        const char *at = strchr(v, '@');
        size_t alen = at ? (size_t)(at - v) : strlen(v);
        int ok = alen > 0 && strspn(v, "0123456789abcdefABCDEF:.") == alen &&
                 (!at || port_valid(at + 1, at + strlen(at)));
        if (!ok) {
            snprintf(why, whylen, "expected system, or an IP address with an optional @PORT");
            return -1;
        }
        return set_string(c, k, v, why, whylen);
    }
    }
    snprintf(why, whylen, "internal: unknown key kind");
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int smime_config_parse(const char *text, size_t len, const char *source, smime_config *out,
                       char *err, size_t errlen)
{
    unsigned char seen[N_KEYS] = { 0 };
    char line[SMIME_CONFIG_LINE_MAX];
    char why[256];
    size_t pos = 0;
    unsigned lineno = 0;

    smime_config_default(out);
    int more;
    while ((more = smime_text_next_line(text, len, &pos, &lineno, line, sizeof(line), source,
                                        err, errlen)) != 0) {
        if (more < 0)
            return -1;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *key = line;
        while (is_blank(*key))
            key++;
        size_t end = strlen(key);
        while (end > 0 && is_blank(key[end - 1]))
            key[--end] = '\0';
        if (*key == '\0')
            continue;
        char *val = key;
        while (*val && !is_blank(*val))
            val++;
        if (*val) {
            *val++ = '\0';
            while (is_blank(*val))
                val++;
        }
        size_t k;
        for (k = 0; k < N_KEYS; k++)
            if (word_is(key, keys[k].name))
                break;
        if (k == N_KEYS) {
            snprintf(err, errlen, "%s:%u: unknown key \"%.64s\"", source, lineno, key);
            return -1;
        }
        if (seen[k]) {
            snprintf(err, errlen, "%s:%u: %s given twice", source, lineno, keys[k].name);
            return -1;
        }
        seen[k] = 1;
        if (*val == '\0') {
            snprintf(err, errlen, "%s:%u: %s needs a value", source, lineno, keys[k].name);
            return -1;
        }
        for (const char *p = val; *p; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t') {
                snprintf(err, errlen, "%s:%u: control character in value", source, lineno);
                return -1;
            }
        if (apply_key(out, &keys[k], val, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%u: %s: %s", source, lineno, keys[k].name, why);
            return -1;
        }
    }
    if (out->trust_anchors[0] == '\0') {
        snprintf(err, errlen, "%s: TrustAnchors is required", source);
        return -1;
    }
    if (out->memory_limit > out->max_message_size)
        out->memory_limit = out->max_message_size;
    if (out->telemetry_sender_domain == SMIME_TELEMETRY_DOMAIN_HMAC && !out->telemetry_hmac_key[0]) {
        snprintf(err, errlen, "%s: TelemetrySenderDomain hmac needs TelemetryHMACKeyFile", source);
        return -1;
    }
    if (out->caa_lookup && (!out->telemetry[0] ||
                            out->telemetry_sender_domain == SMIME_TELEMETRY_DOMAIN_OFF)) {
        /* the outcome is stored in telemetry, and counted per sender domain */
        snprintf(err, errlen, "%s: CAALookup needs Telemetry and TelemetrySenderDomain hmac or plain",
                 source);
        return -1;
    }
    if (out->caa_lookup && out->caa_timeout_ms == 0) {
        snprintf(err, errlen, "%s: CAATimeout must be at least 1 (milliseconds)", source);
        return -1;
    }
    return 0;
}

static int parse_config(const char *text, size_t len, const char *source, void *out, char *err,
                        size_t errlen)
{
    return smime_config_parse(text, len, source, out, err, errlen);
}

int smime_config_load(const char *path, smime_config *out, char *err, size_t errlen)
{
    return smime_text_load_file(path, SMIME_CONFIG_FILE_MAX, parse_config, out, err, errlen);
}
