/* report - the result model: what the pipeline found in one message.
 *
 * One smime_sig_report per signature (per SignerInfo), in document order, plus
 * notes about S/MIME objects that carry no verifiable signature (encrypted or
 * compressed parts).  Results are the RFC 7281 words; DESIGN.md section 4 says what
 * each means.  Strings are fixed-size and always NUL-terminated: text from
 * certificates is cut at the size given (a cut is marked with "...") and is kept
 * verbatim otherwise; formatters clean it for their output. */
#ifndef SMIME_REPORT_H
#define SMIME_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/cert.h"
#include "smime/mail/mime.h"

typedef enum smime_result {
    SMIME_RESULT_NONE = 0,
    SMIME_RESULT_PASS,
    SMIME_RESULT_FAIL,
    SMIME_RESULT_NEUTRAL,
    SMIME_RESULT_POLICY,
    SMIME_RESULT_TEMPERROR,
    SMIME_RESULT_PERMERROR,
} smime_result;

#define SMIME_RESULT_COUNT 7
#define SMIME_MAILBOXES_MAX 8
#define SMIME_NOTES_MAX    16
#define SMIME_CERTS_PEM_MAX (64u << 10) /* certs_pem of one signature, at most */

const char *smime_result_name(smime_result r);
/* Parses an RFC 7281 result word; -1 when unknown. */
int smime_result_parse(const char *word);
/* Rank of a result by severity, the order a message is acted on by: none 0, pass 1,
 * neutral 2, permerror 3, policy 4, fail 5, temperror 6. */
int smime_result_severity(smime_result r);

typedef struct smime_sig_report {
    smime_result result;
    const char *code;                   /* static short reason class: "ok",
                                         * "bad-signature", "untrusted",
                                         * "from-mismatch", ... (logs, telemetry) */
    char     reason[SMIME_TEXT_MAX];
    char     part[SMIME_PART_ID_MAX];
    const char *form;                   /* "multipart/signed" or "pkcs7-mime"; static */
    unsigned signer_index;              /* SignerInfo index within its SignedData */
    char     identifier[SMIME_ADDR_MAX];/* the certificate mailbox that matched From */
    char     client[SMIME_CLIENT_MAX];  /* User-Agent / X-Mailer of the enclosing
                                         * message, verbatim (cut); "" if none */
    int      covers_message;            /* signs the message itself: the top-level
                                         * entity, or the top entity inside an opaque
                                         * signature that does (not a forwarded
                                         * message, not one part of a multipart) */
    int      has_signer;                /* signer certificate found */
    smime_cert_summary signer;
    size_t   n_mailboxes;
    char     mailboxes[SMIME_MAILBOXES_MAX][SMIME_ADDR_MAX];
    int      has_signing_time;
    int64_t  signing_time;
    char     digest_alg[32];
    char     sig_alg[48];
    size_t   chain_len;                 /* issuers above the signer, anchor last */
    smime_cert_summary chain[SMIME_CHAIN_MAX];
    int      chain_anchored;            /* the last chain entry is a trust anchor */
    char    *certs_pem;                 /* owned; with keep_certs and a pass: the signer
                                         * certificate and its path, PEM, signer first
                                         * (NULL otherwise) */
    size_t   certs_pem_len;
    struct smime_lint_result *lint;     /* owned; SBR lint of the signer certificate
                                         * (NULL: lint off, or no certificate) */
    size_t   n_revocation;              /* certificates whose status was asked, signer
                                         * first; 0 when revocation was not checked */
    struct smime_revocation_status {
        const char *status;             /* static: "good", "revoked", "unknown", ... */
        const char *code;               /* static: why ("timeout", "stale", ...) */
        const char *source;             /* static: "ocsp", "crl", "none" */
        int      from_cache;
        int64_t  revoked_at;            /* 0 unless revoked */
    } revocation[SMIME_CHAIN_MAX];
} smime_sig_report;

typedef struct smime_report_note {
    char part[SMIME_PART_ID_MAX];
    const char *code;                   /* static: "encrypted", "compressed" */
    char text[160];
} smime_report_note;

/* What a per-sender signing policy (verdict/signing.h) said about the message:
 * filled by smime_signing_evaluate(), all zero when no rule applied. */
typedef struct smime_signing_outcome {
    int      applied;                   /* a rule matched one of the authors */
    int      satisfied;                 /* a signature met every requirement */
    char     rule[SMIME_ADDR_MAX];      /* the rule's pattern, as written */
    unsigned line;                      /* its line in the policy file */
    size_t   sig_index;                 /* the signature that met it; (size_t)-1 */
    char     reason[SMIME_TEXT_MAX];    /* why it was (not) met, for people */
} smime_signing_outcome;

typedef struct smime_report {
    smime_mime_authors authors;         /* From mailboxes of the message itself */
    smime_signing_outcome signing;
    size_t            n_sigs;
    size_t            sigs_alloc;
    smime_sig_report *sigs;             /* owned */
    size_t            n_notes;
    smime_report_note notes[SMIME_NOTES_MAX];
} smime_report;

smime_report *smime_report_new(void);
void smime_report_free(smime_report *r);
/* Appends a zeroed signature report; NULL when out of memory. */
smime_sig_report *smime_report_add_sig(smime_report *r);
void smime_report_add_note(smime_report *r, const char *part, const char *code,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#include "smime/util/json.h"
/* Writes "signatures" and "notes" members into the JSON object open in j. */
void smime_report_json(const smime_report *r, smime_json *j);

#endif
