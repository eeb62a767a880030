/* answer - what the pure OCSP and CRL checks and the revocation checker share:
 * the status of one certificate, the answer a source gave, the time rules, the BR
 * findings about a response or CRL, and the monotonic deadline clock.  Below both
 * ocsp.h/crl.h and revocation.h, so the checks never include the checker. */
#ifndef SMIME_REVOCATION_ANSWER_H
#define SMIME_REVOCATION_ANSWER_H

#include <stddef.h>
#include <stdint.h>

typedef enum smime_rev_status {
    SMIME_REV_NOT_CHECKED = 0,  /* nothing to ask: no OCSP or CRL pointer, or off */
    SMIME_REV_GOOD,
    SMIME_REV_REVOKED,
    SMIME_REV_UNKNOWN,          /* could not tell: `code` and `reason` say why */
} smime_rev_status;

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

/* One sentence for a reason= text: "certificate revoked on 2026-01-01T00:00:00Z
 * (keyCompromise)", "revocation status unknown: OCSP responder timed out", ...
 * `who` names the certificate ("signer certificate", "issuing CA certificate"). */
void smime_rev_describe(const smime_rev_answer *a, const char *who, char *out, size_t outlen);

/* Milliseconds on a monotonic clock: deadlines are expressed on it. */
int64_t smime_rev_clock_ms(void);

#endif
