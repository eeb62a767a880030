/* verify - the core pipeline: (message bytes, options, trust store, time) -> report.
 *
 * The milter, smime-verify and the tests all call smime_verify_message(), so any
 * verdict the milter reaches can be reproduced offline.  Nothing here reads the
 * clock, the environment or a file: time and trust come in as parameters. */
#ifndef SMIME_VERIFY_H
#define SMIME_VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include "smime/mail/mime.h"
#include "smime/crypto/pki.h"
#include "smime/report/report.h"
#include "smime/revocation/revocation.h"

/* What the SBR linter's findings do to a result (issue #3): nothing is linted
 * (off), the findings are reported in the reason and the JSON (report, the
 * default), or error findings turn a pass into policy (enforce). */
typedef enum smime_lint_mode {
    SMIME_LINT_OFF = 0,
    SMIME_LINT_REPORT,
    SMIME_LINT_ENFORCE,
} smime_lint_mode;

/* "off", "report", "enforce" -> mode; -1 when the word is none of them. */
int smime_lint_mode_parse(const char *word);
const char *smime_lint_mode_name(smime_lint_mode mode);

typedef struct smime_verify_options {
    int64_t  now;                /* validation time, seconds since the epoch (UTC) */
    size_t   max_message_size;   /* larger messages are not checked: one neutral result */
    smime_mime_limits mime;
    unsigned max_certs;          /* certificates taken from one SignedData */
    unsigned max_chain;          /* certificates in a path, signer included */
    int64_t  signing_time_skew;  /* tolerated clock skew of signingTime, seconds */
    int      chain_cache;        /* reuse what the trust store's memo remembers:
                                  * validated paths and their lint findings */
    int      reference_path;     /* diagnostic (default 0): GnuTLS verifies each
                                  * signature and nothing parsed is reused, the
                                  * slow path the fast one must agree with */
    smime_lint_mode lint_mode;   /* default SMIME_LINT_REPORT */
    smime_revocation *revocation;     /* the shared checker; NULL: not checked */
    smime_rev_mode revocation_mode;   /* what an unknown status does (default off) */
    int64_t  revocation_deadline_ms;  /* absolute, smime_rev_clock_ms() clock: set it
                                       * per message, e.g. now + RevocationTimeout */
    /* The cost model: what one message may make us do, each cap checked before
     * the work it bounds.  A cap that trips gives a neutral result saying so (code
     * "limit"); it never fails the call. */
    unsigned max_signatures;     /* SignerInfos verified per message, all levels
                                  * (MaximumSignaturesToVerify; default 32) */
    unsigned hash_factor;        /* bytes hashed for all signatures <= hash_factor x
                                  * message size + 1 MiB (default 4; 0: no cap) */
    unsigned decode_factor;      /* mime.max_decoded = decode_factor x message size +
                                  * 1 MiB, unless mime.max_decoded is set (default 2) */
    smime_key_limits key_limits; /* signer keys (default SMIME_KEY_LIMITS_DEFAULT) */
    int64_t  cpu_budget_ms;      /* VerifyTimeout: CPU time of the calling thread for
                                  * one message; past it every signature not yet
                                  * verified is neutral (default 3000; 0: none).  CPU,
                                  * not wall time, so a loaded machine does not turn
                                  * good mail neutral */
    int      keep_certs;         /* a passing signature's report carries its signer
                                  * certificate and path as PEM (certs_pem), for a
                                  * certificate harvest; default 0 */
} smime_verify_options;

/* Process-wide library set-up (GMime); call once before any other function, from
 * one thread.  Idempotent.  Returns 0 or -1. */
int smime_init(void);

/* Fills the documented defaults. */
void smime_verify_options_default(smime_verify_options *opt, int64_t now);

/* Verifies one message.  On success returns 0 and a report the caller frees with
 * smime_report_free().  Returns -1 (message in err) only for failures of the
 * machine itself, e.g. out of memory: any input, however bad, gets a report. */
int smime_verify_message(const char *msg, size_t len, const smime_trust *trust,
                         const smime_verify_options *opt, smime_report **out,
                         char *err, size_t errlen);

#endif
