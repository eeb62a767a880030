/* policy - map the results of one message to the action the milter takes, and
 * build the SMTP reply that goes with a reject or tempfail.
 *
 * A message may carry several signatures.  The action is chosen from its most
 * severe result, in this order (most severe first):
 *
 *     temperror > fail > policy > permerror > neutral > pass > none
 *
 * A transient failure comes first because retrying later may change every other
 * answer; a bad signature outranks a policy refusal because it means tampering
 * or an untrusted signer; a message without any signature is "none".  A failure
 * of the machine itself (the verifier could not run) is not a result: it has its
 * own action, On-InternalError, chosen by the caller. */
#ifndef SMIME_POLICY_H
#define SMIME_POLICY_H

#include <stddef.h>
#include "smime/report/report.h"

typedef enum smime_action {
    SMIME_ACTION_ACCEPT = 0,     /* tag and deliver */
    SMIME_ACTION_REJECT,         /* 5xx to the SMTP client */
    SMIME_ACTION_TEMPFAIL,       /* 4xx to the SMTP client */
    SMIME_ACTION_QUARANTINE,     /* tag, deliver into the MTA's hold queue */
    SMIME_ACTION_DISCARD,        /* accept and drop silently */
} smime_action;

#define SMIME_REPLY_TEMPLATE_MAX 400   /* a configured reply: "CODE X.Y.Z text" */
#define SMIME_REPLY_TEXT_MAX     400   /* the text of a built reply, escapes included */

typedef struct smime_policy {
    smime_action on_result[SMIME_RESULT_COUNT];   /* indexed by smime_result */
    smime_action on_internal_error;
    char reject_reply[SMIME_REPLY_TEMPLATE_MAX];  /* "550 5.7.1 text, %r = reason" */
    char tempfail_reply[SMIME_REPLY_TEMPLATE_MAX];
} smime_policy;

/* "accept", "reject", ...; "?" for a value out of range. */
const char *smime_action_name(smime_action a);
/* Parses an action word (ASCII case-insensitive); -1 when unknown. */
int smime_action_parse(const char *word);

/* Defaults: accept (tag) every result; tempfail on internal errors;
 * "550 5.7.1 S/MIME check failed: %r" and "451 4.7.1 S/MIME check deferred: %r". */
void smime_policy_default(smime_policy *p);


typedef struct smime_decision {
    smime_result result;       /* the most severe result of the message */
    size_t       sig_index;    /* the signature that gave it; (size_t)-1 for none */
    smime_action action;
    const char  *reason;       /* borrowed from the report, or static text */
    const char  *reply;        /* reply template of a SigningPolicy rule (borrowed
                                * from the policy), or NULL: the action's default */
} smime_decision;

/* Chooses the action for a report (the first signature wins among equals). */
void smime_policy_decide(const smime_policy *p, const smime_report *r, smime_decision *out);

/* The reply for a reject or tempfail, split as smfi_setreply() takes it. */
typedef struct smime_reply {
    char rcode[4];                     /* "550" */
    char xcode[16];                    /* "5.7.1" */
    char text[SMIME_REPLY_TEXT_MAX];   /* "%r" expanded; printable ASCII; '%' doubled */
} smime_reply;

/* Checks a reply template: "DDD D.D.D[ text]" where the first digit of both codes is
 * `klass` ('4' or '5') and every '%' in the text is "%r" or "%%".  Returns 0, or -1
 * with the problem in err. */
int smime_reply_check(const char *tmpl, char klass, char *err, size_t errlen);

/* Builds the reply from a checked template: "%r" becomes the reason, "%%" a '%'.
 * Bytes other than printable ASCII become '?', and every '%' of the result is
 * doubled, because libmilter treats the text as a format; the text is cut (marked
 * "...") to fit.  Returns 0, or -1 when the template is not valid. */
int smime_reply_build(const char *tmpl, const char *reason, smime_reply *out);

#endif
