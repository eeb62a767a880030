/* revocation - is a certificate revoked?  OCSP and CRLs, cached, bounded in time,
 * honest when the answer is unknown.
 *
 * Two layers:
 *
 *  - Pure checks (ocsp.h, crl.h): (response or CRL bytes, certificate, issuer,
 *    time rules) -> an answer.  No I/O, no clock.
 *  - A checker object (this file), created by the caller and passed in: it finds
 *    the OCSP responder and CRL distribution points in each certificate, fetches
 *    through a transport the caller supplies (http.h has the libcurl one), keeps a
 *    cache in memory and optionally on disk, lets only one fetch per URL run while
 *    other threads wait for it, and never runs past the caller's deadline.  One
 *    checker is shared by every thread; all its state is behind its own lock.
 *
 * Run it only on a path that smime_chain_validate() accepted: the URLs it
 * fetches come from certificates, and only a trusted CA's certificates should make
 * us open connections. */
#ifndef SMIME_REVOCATION_H
#define SMIME_REVOCATION_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>
#include <stdint.h>
#include "smime/util/buf.h"
#include "smime/report/report.h"

typedef enum smime_rev_status {
    SMIME_REV_NOT_CHECKED = 0,  /* nothing to ask: no OCSP or CRL pointer, or off */
    SMIME_REV_GOOD,
    SMIME_REV_REVOKED,
    SMIME_REV_UNKNOWN,          /* could not tell: `code` and `reason` say why */
} smime_rev_status;

/* How the verdict should treat an unknown status (the lead's policy, not the
 * checker's): off = do not check, soft = keep the result and say so, hard =
 * temperror so the MTA retries. */
typedef enum smime_rev_mode {
    SMIME_REV_MODE_OFF = 0,
    SMIME_REV_MODE_SOFT,
    SMIME_REV_MODE_HARD,
} smime_rev_mode;

/* "off" | "soft" | "hard" -> mode; -1 when the word is none of these. */
int smime_rev_mode_parse(const char *word);
const char *smime_rev_mode_name(smime_rev_mode m);
const char *smime_rev_status_name(smime_rev_status s);   /* "good", "revoked", ... */
/* RFC 5280 CRLReason name ("keyCompromise", ...); "unspecified" for unknown values. */
const char *smime_rev_reason_name(int crl_reason);

/* What a response or CRL showed about the CA's revocation service, measured
 * against the S/MIME BRs (sbr/REQUIREMENTS.md section 9): bits of
 * smime_rev_answer.findings, for the linter, logs and telemetry.  They never
 * change the status. */
enum {
    SMIME_REV_FINDING_OCSP_SHA1      = 1u << 0,  /* REV-OCSP-02: response signed with SHA-1 */
    SMIME_REV_FINDING_OCSP_INTERVAL  = 1u << 1,  /* REV-OCSP-03: subscriber response valid
                                                  * < 8 h or > 10 days, or no nextUpdate */
    SMIME_REV_FINDING_OCSP_CA_REASON = 1u << 2,  /* REV-OCSP-05: revoked CA certificate
                                                  * with reason unspecified or hold */
    SMIME_REV_FINDING_CRL_SHA1       = 1u << 3,  /* REV-CRL-01: CRL signed with SHA-1 */
    SMIME_REV_FINDING_CRL_INTERVAL   = 1u << 4,  /* REV-CRL-02: > 10 days (subscriber) or
                                                  * > 12 months (CA), or no nextUpdate */
    SMIME_REV_FINDING_CRL_REASON     = 1u << 5,  /* REV-CRL-03: entry reasonCode critical
                                                  * or unspecified */
    SMIME_REV_FINDING_CRL_CA_REASON  = 1u << 6,  /* REV-CRL-04: CA entry without reasonCode
                                                  * or with certificateHold */
    SMIME_REV_FINDING_CRL_NO_REASON  = 1u << 7,  /* REV-CRL-06 (warning): subscriber entry
                                                  * without reasonCode */
};
#define SMIME_REV_FINDING_COUNT 8
/* The requirement id of one finding bit ("REV-OCSP-03"); NULL for other values. */
const char *smime_rev_finding_id(unsigned bit);

/* The answer about one certificate, from one source or combined. */
typedef struct smime_rev_answer {
    smime_rev_status status;
    const char *code;          /* static short class for logs and telemetry: "good",
                                * "revoked", "responder-unknown", "malformed",
                                * "bad-signature", "unauthorized-responder",
                                * "not-yet-valid", "stale", "no-match",
                                * "responder-error", "timeout", "unreachable",
                                * "http-error", "too-large", "offline", "no-source",
                                * "crl-expired", "crl-scope", "insecure-algorithm",
                                * "error" */
    const char *source;        /* static: "ocsp", "crl", "none" */
    char    reason[256];       /* for people: what was asked, what came back */
    int     crl_reason;        /* CRLReason of a revocation; -1 when not given */
    int64_t revocation_time;   /* when revoked; 0 otherwise */
    int64_t this_update;       /* of the response or CRL used; 0 if none */
    int64_t next_update;       /* 0 when the source gave none */
    int     from_cache;        /* answered from memory or disk, no fetch */
    unsigned findings;         /* SMIME_REV_FINDING_* seen in the response or CRL used */
} smime_rev_answer;

/* Time rules shared by the OCSP and CRL checks. */
typedef struct smime_rev_time {
    int64_t now;               /* evaluation time, seconds since the epoch */
    int64_t skew;              /* tolerated clock difference with the responder */
    int64_t max_age;           /* how long an OCSP response without nextUpdate counts
                                * as fresh after its thisUpdate */
} smime_rev_time;

/* ---- the transport ------------------------------------------------------- */

typedef enum smime_fetch_rc {
    SMIME_FETCH_OK = 0,
    SMIME_FETCH_TIMEOUT,       /* deadline reached (connect or transfer) */
    SMIME_FETCH_UNREACHABLE,   /* refused, no route, name not resolved */
    SMIME_FETCH_HTTP_ERROR,    /* a status other than 200 */
    SMIME_FETCH_TOO_LARGE,     /* the body passed max_bytes */
    SMIME_FETCH_FAILED,        /* anything else (bad URL, out of memory, ...) */
} smime_fetch_rc;

typedef struct smime_fetch_request {
    const char *url;
    const void *post_body;     /* NULL: GET; else POST with this body */
    size_t      post_len;
    const char *content_type;  /* of the POST body */
    size_t      max_bytes;     /* cap on the response body */
    int64_t     deadline_ms;   /* absolute, on smime_rev_clock_ms()'s clock */
} smime_fetch_request;

/* Fetches one URL into body (whose cap the transport must also respect).  Returns
 * an smime_fetch_rc, with a message in err for anything but OK.  Must be callable
 * from many threads at once. */
typedef smime_fetch_rc (*smime_fetch_fn)(void *ctx, const smime_fetch_request *req,
                                         smime_buf *body, char *err, size_t errlen);

/* Milliseconds on a monotonic clock: deadlines are expressed on it. */
int64_t smime_rev_clock_ms(void);

/* ---- the checker ---------------------------------------------------------- */

typedef struct smime_revocation smime_revocation;

typedef struct smime_revocation_config {
    smime_fetch_fn fetch;       /* NULL: offline, nothing is fetched */
    void          *fetch_ctx;
    int            use_ocsp;    /* ask OCSP responders (AIA) */
    int            use_crl;     /* fetch CRLs (CDP) and read crl_dir */
    int            ocsp_post;   /* always POST (default: GET when the request is
                                 * short, as RFC 5019 asks, else POST) */
    const char    *crl_dir;     /* CRLDirectory: *.crl / *.pem / *.der files, DER or PEM;
                                 * read at creation; NULL or "" for none */
    const char    *cache_dir;   /* RevocationCache: responses and CRLs on disk; NULL
                                 * or "" for memory only.  Must exist, writable. */
    size_t         max_entries;       /* in-memory cache entries (OCSP + CRL) */
    size_t         max_cache_bytes;   /* memory of those entries, parsed CRLs included */
    size_t         max_ocsp_bytes;    /* cap on one OCSP response */
    size_t         max_crl_bytes;     /* cap on one CRL */
    int64_t        skew;              /* seconds, see smime_rev_time */
    int64_t        max_age;           /* seconds, see smime_rev_time */
    int64_t        failure_ttl;       /* seconds a failed fetch is not retried */
} smime_revocation_config;

/* Defaults: OCSP and CRL on, offline (fetch NULL), no directories, 4096 entries,
 * 256 MiB of cache, 64 KiB per OCSP response, 16 MiB per CRL, skew 300 s, max_age
 * 3600 s, failure_ttl 30 s. */
void smime_revocation_config_default(smime_revocation_config *cfg);

/* Creates a checker (caller frees with smime_revocation_free(), after every thread
 * using it is done).  Strings in cfg are copied.  Reads crl_dir, and prunes
 * cache_dir of files too old to be of use (OCSP responses after 14 days, CRLs
 * after 400 days, abandoned temporary files after an hour).  Returns 0, or -1 with
 * a message in err (unreadable crl_dir or cache_dir, out of memory). */
int  smime_revocation_new(const smime_revocation_config *cfg, smime_revocation **out,
                          char *err, size_t errlen);
void smime_revocation_free(smime_revocation *rv);

/* The status of every certificate of a validated path. */
typedef struct smime_rev_result {
    smime_rev_status status;    /* worst: revoked > unknown > good > not checked */
    size_t           worst;     /* index in certs[] of the certificate that decided */
    size_t           n;         /* certificates checked: path length minus the anchor */
    smime_rev_answer certs[SMIME_CHAIN_MAX];
} smime_rev_result;

/* Checks each certificate of a validated path against its issuer: path[i] against
 * path[i+1], and the last one against `anchor` when anchor is not NULL (the trust
 * anchor found in the trust store; NULL when the path already ends with the
 * anchor, or a self-issued certificate).  All borrowed.  So smime_chain_result's
 * path (signer and the issuers from the message) plus the anchor it was validated
 * to is exactly what this takes.  `now` is the evaluation time (freshness of
 * responses and CRLs); `deadline_ms` (smime_rev_clock_ms() clock) bounds all
 * waiting: one deadline for everything a message needs, so a message with several
 * signatures shares one budget.  Certificates are checked signer first; when the
 * deadline has passed, the rest are unknown ("timeout") without any network work,
 * but cached answers are still used.  Returns the overall status (also in
 * out->status). */
smime_rev_status smime_revocation_check_path(smime_revocation *rv, gnutls_x509_crt_t const *path,
                                             size_t n, gnutls_x509_crt_t anchor, int64_t now,
                                             int64_t deadline_ms, smime_rev_result *out);

/* One certificate against its issuer (what check_path does for each). */
void smime_revocation_check_cert(smime_revocation *rv, gnutls_x509_crt_t cert,
                                 gnutls_x509_crt_t issuer, int64_t now, int64_t deadline_ms,
                                 smime_rev_answer *out);

/* One sentence for a reason= text: "certificate revoked on 2026-01-01T00:00:00Z
 * (keyCompromise)", "revocation status unknown: OCSP responder timed out", ...
 * `who` names the certificate ("signer certificate", "issuing CA certificate"). */
void smime_rev_describe(const smime_rev_answer *a, const char *who, char *out, size_t outlen);

/* The verdict mapping in one place, for verify.c: applies a path's revocation
 * result to the result reached so far for a signature whose chain validated.
 *  - revoked: FAIL, code "revoked", reason names the certificate, date and reason;
 *  - unknown, hard mode: PASS becomes TEMPERROR (code "revocation-unknown", the
 *    reason says why); other results keep their word and get the note appended;
 *  - unknown, soft mode: the result is kept, "; revocation status of the ...
 *    unknown: ..." is appended to the reason;
 *  - good, not checked, or mode off: nothing changes.
 * Returns 1 when *result changed.  *code must point to static text (it does). */
int smime_rev_apply(const smime_rev_result *r, smime_rev_mode mode, smime_result *result,
                    const char **code, char *reason, size_t reason_len);

typedef struct smime_rev_stats {
    unsigned long lookups;      /* certificate checks */
    unsigned long memory_hits;  /* answered from the in-memory cache */
    unsigned long disk_hits;    /* answered from RevocationCache */
    unsigned long fetches;      /* transport calls */
    unsigned long waits;        /* lookups that waited for another thread's fetch */
    unsigned long evictions;
    size_t        entries;
    size_t        bytes;        /* memory held by the entries */
} smime_rev_stats;
void smime_revocation_stats(smime_revocation *rv, smime_rev_stats *out);

#endif
