/* lint - S/MIME Baseline Requirements classification and profile lints.
 *
 * smime_lint_cert() classifies a subscriber certificate (type x generation from
 * the reserved policy OIDs 2.23.140.1.5.T.G, or forced by the caller) and runs
 * every applicable entry of one table of lints over it, plus the CA lints over the
 * issuer certificates given with it.  Each table entry carries the catalogue ID of
 * ../shared/sbr/REQUIREMENTS.md, the SBR section, severity, effective date and the
 * types and generations it applies to; adding a rule is adding an entry.
 *
 * Pure: no I/O, no globals, no clock (the evaluation time is an option), so it is
 * thread-safe and deterministic.  The result is owned by the caller and released
 * with smime_lint_result_free(). */
#ifndef SMIME_LINT_H
#define SMIME_LINT_H

#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/der.h"
#include "smime/util/json.h"

typedef enum smime_lint_severity {
    SMIME_SEV_INFO = 0, SMIME_SEV_NOTICE, SMIME_SEV_WARNING, SMIME_SEV_ERROR
} smime_lint_severity;

typedef enum smime_lint_type {
    SMIME_TYPE_NONE = 0, SMIME_TYPE_MAILBOX, SMIME_TYPE_ORGANIZATION,
    SMIME_TYPE_SPONSOR, SMIME_TYPE_INDIVIDUAL
} smime_lint_type;

typedef enum smime_lint_gen {
    SMIME_GEN_NONE = 0, SMIME_GEN_LEGACY, SMIME_GEN_MULTIPURPOSE, SMIME_GEN_STRICT
} smime_lint_gen;

/* Bit masks used by the table: which types / generations an entry applies to. */
#define SMIME_T_MV  (1u << SMIME_TYPE_MAILBOX)
#define SMIME_T_OV  (1u << SMIME_TYPE_ORGANIZATION)
#define SMIME_T_SV  (1u << SMIME_TYPE_SPONSOR)
#define SMIME_T_IV  (1u << SMIME_TYPE_INDIVIDUAL)
#define SMIME_T_ALL (SMIME_T_MV | SMIME_T_OV | SMIME_T_SV | SMIME_T_IV)
#define SMIME_G_L   (1u << SMIME_GEN_LEGACY)
#define SMIME_G_M   (1u << SMIME_GEN_MULTIPURPOSE)
#define SMIME_G_S   (1u << SMIME_GEN_STRICT)
#define SMIME_G_ALL (SMIME_G_L | SMIME_G_M | SMIME_G_S)

/* Scope flags of a result. */
#define SMIME_SCOPE_EKU_EMAIL   0x01u  /* EKU contains id-kp-emailProtection */
#define SMIME_SCOPE_SAN_MAILBOX 0x02u  /* SAN has an rfc822Name or SmtpUTF8Mailbox */
#define SMIME_SCOPE_IN_SBR      0x04u  /* both of the above: an "S/MIME Certificate" */
#define SMIME_SCOPE_PRE_SBR     0x08u  /* notBefore < 2023-09-01 */
#define SMIME_SCOPE_FORCED      0x10u  /* type/generation forced by the caller */
#define SMIME_SCOPE_GUESSED     0x20u  /* no usable policy OID: type guessed */
#define SMIME_SCOPE_UNPARSABLE  0x40u  /* the certificate could not be decoded */
#define SMIME_SCOPE_ASSERTED    0x80u  /* asserts an OID 2.23.140.1.5.x.y: claims SBR
                                        * compliance, so it is linted in full whatever
                                        * it lacks (CLS-ASSERTED) */
#define SMIME_SCOPE_CA          0x100u /* linted as a CA certificate (see lint_ca) */

/* The date the SBR took effect (DATE-01): a finding on a certificate issued before
 * it is marked pre_sbr. */
#define SMIME_SBR_START 1693526400LL   /* 2023-09-01T00:00:00Z */

typedef struct smime_lint_options {
    smime_lint_type force_type;   /* SMIME_TYPE_NONE = from the certificate */
    smime_lint_gen  force_gen;    /* SMIME_GEN_NONE = from the certificate */
    int             all_dates;    /* ignore the SBR start date and rule start dates */
    int64_t         now;          /* evaluation time, epoch seconds */
    int             no_signature_check; /* skip SIG-04 (a GnuTLS signature verification
                                         * per issuer, by far the slowest lint) */
    int             lint_ca;      /* a subject certificate that is a CA (basicConstraints
                                   * cA TRUE and keyUsage keyCertSign) is linted by the
                                   * CA rules, not as a subscriber (for a CA certificate
                                   * given alone; ignored when the profile is forced) */
} smime_lint_options;

#define SMIME_LINT_MSG_MAX    256
#define SMIME_LINT_FIELD_MAX  96
#define SMIME_LINT_MAX_FINDINGS 512   /* more are dropped and counted */
#define SMIME_LINT_MAX_ISSUERS  8

typedef struct smime_lint_finding {
    const char         *id;          /* static: catalogue ID, e.g. "KU-04" */
    const char         *section;     /* static: SBR section, e.g. "7.1.2.3(e)" */
    smime_lint_severity severity;
    int                 cert;        /* 0 = subscriber, 1.. = issuer certificates */
    char                field[SMIME_LINT_FIELD_MAX];
    char                message[SMIME_LINT_MSG_MAX];
    int64_t             effective;   /* when the requirement took effect: the entry's
                                      * start date, else the SBR's (SMIME_SBR_START) */
    int                 pre_sbr;     /* the subscriber certificate predates the SBR:
                                      * reported at its severity, not enforced */
} smime_lint_finding;

/* Whether the subject certificate's signature was verified with the key of the
 * issuer given with it (SIG-04). */
typedef enum smime_lint_issuer_sig {
    SMIME_ISSUER_SIG_NOT_CHECKED = 0, /* no issuer given, or no_signature_check */
    SMIME_ISSUER_SIG_VERIFIED,
    SMIME_ISSUER_SIG_FAILED,
    SMIME_ISSUER_SIG_UNCHECKABLE      /* GnuTLS cannot read a key or the algorithm */
} smime_lint_issuer_sig;

typedef struct smime_lint_result {
    smime_lint_type     type;
    smime_lint_gen      generation;
    char                policy_oid[64];   /* "" when none */
    unsigned            scope;
    smime_lint_issuer_sig issuer_signature;
    size_t              nfindings;
    size_t              dropped;          /* findings beyond the cap */
    smime_lint_finding *findings;         /* owned */
    size_t              alloc;
} smime_lint_result;

/* Lints leaf (DER, borrowed) with its issuers (DER spans, nearest first, at most
 * SMIME_LINT_MAX_ISSUERS used).  On success stores a new result in *out (free with
 * smime_lint_result_free) and returns 0.  A certificate that cannot be decoded is
 * not a failure of the call: the result then holds one error finding (GEN-DER).
 * Returns -1 only when memory runs out. */
int  smime_lint_cert(const uint8_t *leaf, size_t leaf_len,
                     const smime_span *issuers, size_t nissuers,
                     const smime_lint_options *opt, smime_lint_result **out);
void smime_lint_result_free(smime_lint_result *r);

/* For callers that remember results (see smime/memo.h): the findings for the same
 * certificates and options change with the evaluation time only where a rule
 * looks at the time itself (not at notBefore).  This counts the moments at which
 * such a rule switches on that lie at or before now: two times with the same count
 * give the same findings. */
unsigned smime_lint_time_epoch(int64_t now);

/* A result as one block of bytes and back (findings' id and section point to
 * static tables, so a block is good for the life of the process).  pack returns
 * the block's length, or 0 when it needs more than cap bytes; unpack returns 0,
 * or -1 for a block pack did not make or when memory runs out. */
size_t smime_lint_result_pack(const smime_lint_result *r, void *out, size_t cap);
int    smime_lint_result_unpack(const void *block, size_t len, smime_lint_result **out);

/* Writes the members "type", "generation", "policy_oid", "scope", "findings" into
 * the JSON object the caller has opened (the caller adds "file" etc. and closes it). */
void smime_lint_result_json(const smime_lint_result *r, smime_json *j);

size_t smime_lint_count(const smime_lint_result *r, smime_lint_severity sev);
/* A readable name of an AlgorithmIdentifier TLV, with its parameters:
 * "ecdsa-with-SHA256 (no parameters)", "id-ecPublicKey (P-224)",
 * "sha256WithRSAEncryption (NULL parameters)"; unknown OIDs in dotted form. */
const char *smime_lint_alg_name(smime_span alg, char *out, size_t outsz);
/* Findings of severity sev that are not pre-SBR: what a policy may enforce. */
size_t smime_lint_count_enforceable(const smime_lint_result *r, smime_lint_severity sev);
/* The effective date of a finding as YYYY-MM-DD into out (at least 11 octets);
 * "" when it has none. */
const char *smime_lint_effective_text(const smime_lint_finding *f, char *out, size_t outsz);

const char *smime_lint_type_name(smime_lint_type t);        /* "mailbox", ...; NULL for none */
const char *smime_lint_gen_name(smime_lint_gen g);          /* "legacy", ...; NULL for none */
const char *smime_lint_severity_name(smime_lint_severity s); /* "error", ... */
/* "not checked", "verified", "failed", "not checkable" */
const char *smime_lint_issuer_sig_name(smime_lint_issuer_sig s);
/* Parses "organization-multipurpose" etc.  0 or -1. */
int smime_lint_parse_profile(const char *s, smime_lint_type *t, smime_lint_gen *g);

/* The lint table, for documentation and tests. */
struct smime_lint_ctx;
typedef void (*smime_lint_check_fn)(struct smime_lint_ctx *ctx);

#define SMIME_LINT_ON_LEAF 0   /* runs on the subscriber certificate */
#define SMIME_LINT_ON_CA   1   /* runs on each issuer certificate given */
#define SMIME_LINT_ON_PAIR 2   /* runs on the subscriber with its direct issuer */

typedef struct smime_lint_def {
    const char         *id;
    const char         *section;
    smime_lint_severity severity;
    int64_t             from;        /* applies when notBefore >= from (0 = always) */
    int64_t             until;       /* applies when notBefore < until (0 = no end) */
    int                 date_fixed;  /* the date is the rule itself: kept with all_dates */
    unsigned            types, gens;
    int                 target;      /* SMIME_LINT_ON_* */
    const char         *description;
    smime_lint_check_fn check;
} smime_lint_def;

const smime_lint_def *smime_lint_table(size_t *n);

#endif
