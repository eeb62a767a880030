/* caa - CAA for S/MIME (RFC 9495 over RFC 8659): does a sender domain restrict which
 * CAs may issue certificates for its mailboxes, and is the signer's CA one of them?
 *
 * The pure part (this header down to "checker") parses CAA RDATA and issuemail
 * values, lists the names of the RFC 8659 section 3 climb, picks the Relevant
 * RRset and decides.  DNS itself is behind smime_caa_resolver, so unit tests fake
 * it and the daemon uses libunbound (caa_unbound.c); there is no DNS code here.
 *
 * The checker runs on the telemetry writer thread, never on the mail path: it
 * looks up the sender domains of one batch of records together, under one overall
 * timeout, at most SMIME_CAA_PENDING_MAX names at a time, with a TTL cache of at
 * most cache_max domains, and writes the outcome into the records' caa_issuemail
 * and caa_ca fields.  The domain itself is held only in memory (the records'
 * lookup_domain, which the writer clears before anything is stored, and the
 * cache). */
#ifndef SMIME_TELEMETRY_CAA_H
#define SMIME_TELEMETRY_CAA_H

#include <stddef.h>
#include <stdint.h>
#include "smime/telemetry/record.h"

#define SMIME_CAA_NAME_MAX       254   /* a domain name in text, with the NUL */
#define SMIME_CAA_CLIMB_MAX      16    /* names queried for one domain (labels) */
#define SMIME_CAA_ISSUERS_MAX    512   /* bytes of an RRset's issuemail issuer list */
#define SMIME_CAA_PENDING_MAX    256   /* DNS queries in flight for one batch */
#define SMIME_CAA_MAP_MAX        4096  /* lines of an issuer map */
#define SMIME_CAA_TTL_MIN        60    /* cache bounds on a DNS TTL, seconds */
#define SMIME_CAA_TTL_MAX        86400
#define SMIME_CAA_FAIL_TTL       60    /* a failed lookup is retried after this */

/* caa_issuemail of a record: what the sender domain publishes. */
#define SMIME_CAA_ISSUEMAIL      "issuemail"      /* the Relevant RRset has issuemail */
#define SMIME_CAA_NO_ISSUEMAIL   "no-issuemail"   /* CAA, but no issuemail property */
#define SMIME_CAA_NO_CAA         "no-caa"         /* no CAA up to the TLD */
#define SMIME_CAA_FAILED         "lookup-failed"  /* SERVFAIL, timeout, too deep... */
/* caa_ca of a record: may the signer's CA issue for the domain? */
#define SMIME_CAA_AUTHORIZED     "authorized"
#define SMIME_CAA_NOT_AUTHORIZED "not-authorized"
#define SMIME_CAA_NOT_MAPPED     "ca-not-mapped"  /* issuemail, but the issuer map has
                                                   * no name for the signer's CA */
#define SMIME_CAA_UNRESTRICTED   "unrestricted"   /* no issuemail: any CA may */
/* (SMIME_CAA_FAILED as well) */

/* ---- CAA records ----------------------------------------------------------- */

typedef struct smime_caa_rr {
    unsigned char flags;          /* bit 0x80: issuer critical */
    char tag[16];                 /* lower-cased; longer tags are kept as "" + too_long */
    int  tag_too_long;
    const unsigned char *value;   /* borrowed from the RDATA */
    size_t value_len;
} smime_caa_rr;

/* Splits one CAA RDATA (RFC 8659 section 4.1: flags, tag length, tag, value).
 * Returns 0, or -1 when the RDATA is shorter than it says or the tag is empty
 * or not alphanumeric. */
int smime_caa_rr_parse(const unsigned char *rdata, size_t len, smime_caa_rr *out);

/* The issuer-domain-name of an issuemail (or issue) value, RFC 8659 section 4.2:
 *   [*WSP issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
 * lower-cased into out (SMIME_CAA_NAME_MAX).  "" for an empty issuer (";": no CA),
 * and "" too for a value that does not follow the syntax, as RFC 9495 section 4
 * says to treat it.  Returns 1 when the value was well-formed, 0 when not. */
int smime_caa_issuer_parse(const unsigned char *value, size_t len, char *out);

/* One name's CAA answer as the resolver hands it over. */
typedef enum smime_caa_status {
    SMIME_CAA_ANS_EMPTY = 0,   /* NOERROR without CAA, or NXDOMAIN: climb on */
    SMIME_CAA_ANS_DATA,        /* a CAA RRset */
    SMIME_CAA_ANS_FAILED,      /* SERVFAIL, REFUSED, a bogus answer... */
    SMIME_CAA_ANS_TIMEOUT,     /* no answer within the timeout */
} smime_caa_status;

typedef struct smime_caa_answer {
    smime_caa_status status;
    int      rcode;            /* the DNS RCODE of a FAILED answer, -1 not known */
    uint32_t ttl;              /* seconds the answer may be kept */
    /* For DATA: what the decision needs of the RRset, from smime_caa_answer_add. */
    size_t   nrr;
    size_t   nissuemail;       /* issuemail properties */
    /* Their issuer-domain-names, each followed by a space ("" for one that
     * authorizes none, so ";" adds a lone space); what does not fit is left out
     * and issuers_truncated set. */
    char     issuers[SMIME_CAA_ISSUERS_MAX];
    int      issuers_truncated;
    int      critical_unknown; /* a critical property with a tag we do not know */
} smime_caa_answer;

/* Adds one CAA RDATA to a DATA answer (sets status DATA).  A record that does not
 * parse counts as a critical unknown property when its flag says critical, and
 * is otherwise ignored (RFC 8659 section 4.1). */
void smime_caa_answer_add(smime_caa_answer *ans, const unsigned char *rdata, size_t len);

/* ---- the climb and the decision ------------------------------------------------ */

/* The names RFC 8659 section 3 queries for domain, nearest first: the domain,
 * then each parent down to the TLD (the root is never queried).  domain is
 * lower-cased, a trailing dot dropped.  Returns the number of names (into
 * names[SMIME_CAA_CLIMB_MAX][SMIME_CAA_NAME_MAX]), or -1 when the domain is not a
 * usable DNS name (empty, an empty label, a label over 63 or the whole over 253
 * octets, a byte outside letters, digits, '-' and '_', a single label) or has
 * more than SMIME_CAA_CLIMB_MAX labels. */
int smime_caa_climb_names(const char *domain, char names[][SMIME_CAA_NAME_MAX]);

/* What the climb found for a domain (cached per domain). */
typedef struct smime_caa_domain_state {
    const char *issuemail;     /* SMIME_CAA_ISSUEMAIL ... SMIME_CAA_FAILED */
    const char *detail;        /* why it failed: "timeout", "SERVFAIL", "REFUSED",
                                * "rcode N", "resolver error", "not a DNS name",
                                * "too many issuemail"; NULL otherwise.  Static. */
    int      found_at;         /* index in the climb of the answer that decided (the
                                * Relevant RRset, or the failure); -1 for no CAA */
    size_t   nissuemail;
    char     issuers[SMIME_CAA_ISSUERS_MAX];   /* as in smime_caa_answer */
    int      issuers_truncated;
    int      critical_unknown;
    uint32_t ttl;
} smime_caa_domain_state;

/* The Relevant RRset among the answers of the climb (answers[i] for names[i]):
 * the first DATA answer; a FAILED or TIMEOUT answer met before it makes the whole
 * lookup failed (what the parent says cannot stand in for an answer not had);
 * EMPTY all the way is no CAA.  The TTL is the least of the answers used. */
void smime_caa_relevant(const smime_caa_answer *answers, size_t n,
                        smime_caa_domain_state *out);
/* The name of a DNS RCODE ("SERVFAIL", "REFUSED", ... "rcode N" as a static
 * string for the few others, "resolver error" for -1). */
const char *smime_caa_rcode_name(int rcode);

/* May a CA known by the issuer-domain-names ca_names[0..nca-1] issue for the
 * domain?  One of the SMIME_CAA_* caa_ca words.  A critical unknown property
 * forbids every CA (RFC 8659 section 4.1); without issuemail the domain restricts
 * nothing (RFC 9495 section 4: issue and issuewild do not count); with issuemail
 * a CA is authorized when one of them names it (case-insensitively).  nca 0 with
 * issuemail: SMIME_CAA_NOT_MAPPED, we cannot tell; a list cut short that does not
 * name the CA: SMIME_CAA_FAILED. */
const char *smime_caa_decide(const smime_caa_domain_state *st, const char *const *ca_names,
                             size_t nca);

/* ---- issuer map: which CA has which issuer-domain-names --------------------------
 *
 * A text file, one mapping a line, '#' comments and blank lines ignored:
 *   ISSUER-DOMAIN-NAME  keyid:HEX        the CA whose key identifier is HEX
 *   ISSUER-DOMAIN-NAME  dn:RFC4514-DN    the CA with this issuer DN (rest of line)
 * A CA with several CAA identifiers has several lines.  Matched against the
 * record's issuer_key_id (case-insensitive) or issuer_dn (exact). */
typedef struct smime_caa_map smime_caa_map;

/* Reads the map (at most SMIME_CAA_MAP_MAX lines of at most 1024 bytes).  Returns
 * 0 and a map the caller owns, or -1 with the file name and line in err. */
int smime_caa_map_load(const char *path, smime_caa_map **out, char *err, size_t errlen);
/* The same from text in memory (tests). */
int smime_caa_map_parse(const char *text, smime_caa_map **out, char *err, size_t errlen);
void smime_caa_map_free(smime_caa_map *map);
/* The issuer-domain-names of the CA with this key id or DN, into names (up to max,
 * borrowed from the map).  Returns how many. */
size_t smime_caa_map_names(const smime_caa_map *map, const char *issuer_key_id,
                           const char *issuer_dn, const char **names, size_t max);

/* ---- the resolver interface ---------------------------------------------------- */

typedef struct smime_caa_resolver {
    /* Queries CAA for names[0..n-1] together and waits at most timeout_ms for all
     * of them; ans[i] answers names[i] (TIMEOUT for those not answered in time,
     * which are then cancelled).  n <= SMIME_CAA_PENDING_MAX.  Returns 0, or -1
     * with err when the resolver cannot be used at all. */
    int  (*resolve)(void *impl, const char *const *names, size_t n, unsigned timeout_ms,
                    smime_caa_answer *ans, char *err, size_t errlen);
    void (*close)(void *impl);
    void *impl;
} smime_caa_resolver;

/* libunbound: server "ADDR" or "ADDR@PORT" to forward to (no DNSSEC, no
 * recursion of its own), or NULL / "" for the system's resolv.conf.  Fills *out;
 * returns 0, or -1 with err (also when built without libunbound). */
int smime_caa_unbound_new(const char *server, smime_caa_resolver *out, char *err,
                          size_t errlen);

/* ---- the checker: cache + resolver + map ---------------------------------------- */

typedef struct smime_caa_options {
    unsigned timeout_ms;       /* one batch's lookups, overall; default 2000 */
    size_t   cache_max;        /* domains kept; default 4096 */
    size_t   pending_max;      /* names queried per batch, <= SMIME_CAA_PENDING_MAX;
                                * default 64.  Records whose domain does not fit are
                                * stored without a CAA outcome (counted) */
} smime_caa_options;

typedef struct smime_caa_stats {
    uint64_t lookups;          /* domains looked up in DNS */
    uint64_t cache_hits;
    uint64_t failed;           /* lookups that ended SMIME_CAA_FAILED */
    uint64_t skipped;          /* records left without an outcome (pending_max) */
    uint64_t evicted;          /* cache entries dropped for room */
} smime_caa_stats;

typedef struct smime_caa_checker smime_caa_checker;

/* Takes ownership of the resolver (closed by smime_caa_checker_free, also on
 * failure) and of map (may be NULL: every CA is then "not mapped" where it
 * matters).  Returns 0 and the checker, or -1 with err. */
int smime_caa_checker_new(const smime_caa_options *opt, smime_caa_resolver resolver,
                          smime_caa_map *map, smime_caa_checker **out, char *err,
                          size_t errlen);
void smime_caa_checker_free(smime_caa_checker *c);

/* Fills caa_issuemail and caa_ca of every record with a lookup_domain, at `now`
 * (epoch seconds, for the cache), then clears every lookup_domain.  Only one
 * thread may use a checker at a time.  Returns 0, or -1 with err when the
 * resolver failed as a whole (the records then say SMIME_CAA_FAILED). */
int smime_caa_checker_fill(smime_caa_checker *c, smime_telemetry_record *recs, size_t n,
                           int64_t now, char *err, size_t errlen);

void smime_caa_checker_stats(const smime_caa_checker *c, smime_caa_stats *st);

/* What the cache holds for a domain at `now` (for tools that explain an outcome:
 * where the RRset was found, why a lookup failed).  Returns 1 and fills *out, or
 * 0 when the domain is not cached. */
int smime_caa_checker_cached(smime_caa_checker *c, const char *domain, int64_t now,
                             smime_caa_domain_state *out);

#endif
