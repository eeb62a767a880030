/* signing - a per-sender signing policy (SigningPolicy): which senders must sign,
 * with what, and what happens to their mail otherwise.
 *
 * The file is a dataset in the OpenDKIM style: one rule per line, the pattern
 * first, then settings, '#' comments, blank lines ignored:
 *
 *     partner.example    results=pass ca=sha256:3F...9A sbr=organization-strict
 *                        action=reject reply="550 5.7.1 partner.example must sign: %r"
 *     .partner.example   results=pass action=quarantine
 *     ceo@bank.example   results=pass action=tempfail
 *
 * (each rule on one line).  A pattern is a mailbox (exact address), a domain
 * (that domain only), or ".domain" / "*.domain" (every subdomain of it, not the
 * domain itself).  A message is matched on the addresses of its From headers; for
 * each the most specific rule wins (address, then the longest domain; a domain
 * beats a wildcard of the same name), and across several From addresses the most
 * specific of those.  Settings:
 *
 *   results=R[,R]   results that may satisfy the rule (default pass)
 *   ca=sha256:HEX   a certificate the signer's validated path must contain (an
 *                   intermediate or the trust anchor), by the SHA-256 of its DER;
 *                   up to 8, any one suffices; colons in HEX are allowed
 *   sbr=T-G[,T-G]   accepted S/MIME BR profiles of the signer certificate
 *                   (mailbox|organization|sponsor|individual - legacy|
 *                   multipurpose|strict, or T-any); needs LintMode report or enforce
 *   action=A        reject, tempfail, quarantine, discard, or tag (= accept: deliver
 *                   with the failure in the headers); default reject
 *   reply="TEXT"    the SMTP reply for reject/tempfail ("550 5.7.1 ...", %r = the
 *                   reason); default RejectReply / TempfailReply
 *
 * A rule is met when one signature that covers the message itself (not a forwarded
 * message or a single part) has an accepted result, a path through one of the
 * named CAs and an accepted profile.  Parsing is pure; the file is attacker-
 * adjacent configuration, so every size is capped and every error names the line. */
#ifndef SMIME_SIGNING_H
#define SMIME_SIGNING_H

#include <stddef.h>
#include "smime/report/report.h"
#include "smime/verdict/policy.h"

#define SMIME_SIGNING_FILE_MAX     (4u << 20)  /* bytes of one policy file */
#define SMIME_SIGNING_LINE_MAX     2048        /* bytes of one line */
#define SMIME_SIGNING_RULES_MAX    10000
#define SMIME_SIGNING_CAS_MAX      8
#define SMIME_SIGNING_PROFILES_MAX 16

typedef enum smime_signing_kind {
    SMIME_SIGNING_ADDRESS = 0,     /* user@domain */
    SMIME_SIGNING_DOMAIN,          /* domain */
    SMIME_SIGNING_SUBDOMAINS,      /* .domain or *.domain */
} smime_signing_kind;

typedef struct smime_signing_rule {
    char     pattern[SMIME_ADDR_MAX];       /* as written, for reports */
    char     key[SMIME_ADDR_MAX];           /* lower-case address or domain matched */
    smime_signing_kind kind;
    unsigned line;
    unsigned results;                       /* bit (1 << smime_result) per accepted one */
    size_t   n_cas;
    char     cas[SMIME_SIGNING_CAS_MAX][65];/* upper-case hex SHA-256 */
    size_t   n_profiles;
    struct { int type, gen; } profiles[SMIME_SIGNING_PROFILES_MAX];  /* gen 0: any */
    smime_action action;
    char     reply[SMIME_REPLY_TEMPLATE_MAX];  /* "" = the action's default reply */
} smime_signing_rule;

typedef struct smime_signing_policy {
    size_t n;
    smime_signing_rule *rules;              /* owned */
} smime_signing_policy;

/* Parses policy text into out (the caller frees it with smime_signing_free, also
 * on error).  Returns 0, or -1 with "SOURCE:LINE: problem" in err. */
int  smime_signing_parse(const char *text, size_t len, const char *source,
                         smime_signing_policy *out, char *err, size_t errlen);
/* Reads the file (at most SMIME_SIGNING_FILE_MAX bytes) and parses it. */
int  smime_signing_load(const char *path, smime_signing_policy *out, char *err, size_t errlen);
void smime_signing_free(smime_signing_policy *p);

/* The rule that applies to one address, or NULL. */
const smime_signing_rule *smime_signing_match(const smime_signing_policy *p, const char *addr);

/* Fills r->signing: which rule applied, whether a signature met it, and why.
 * Each author's rule must be met; the outcome names the first that is not (or,
 * all met, the first author's).  A message with more From addresses than are
 * kept (SMIME_MAX_ADDRS), or whose From holds a control character, fails a
 * policy that has any rule, since an unkept or unseen address could be a listed
 * one.  No rule (or p NULL): r->signing.applied is 0
 * and NULL is returned; else the rule of the outcome (for the unkept-address
 * case a static rule whose action is reject). */
const smime_signing_rule *smime_signing_evaluate(const smime_signing_policy *p, smime_report *r);

/* Adjusts a decision made by smime_policy_decide() for the rule evaluated into
 * r->signing: an unmet rule sets the rule's action, its reply template and the
 * policy reason.  A met rule, or none, leaves the decision as it was. */
void smime_signing_decide(const smime_signing_rule *rule, const smime_report *r,
                          smime_decision *d);

#endif
