/* revocation - is a certificate revoked?  OCSP and CRLs, cached, bounded in time,
 * honest when the answer is unknown.
 *
 * Two layers:
 *
 *  - Pure checks (ocsp.h, crl.h, over the answer types of answer.h): (response or CRL bytes, certificate, issuer,
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
#include "smime/report/report.h"
#include "smime/revocation/answer.h"
#include "smime/revocation/transport.h"
#include "smime/util/buf.h"

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
