/* answer - names of statuses, reasons and findings, the deadline clock and the
 * reason= sentence of an answer (see include/smime/revocation/answer.h). */
#include "smime/revocation/answer.h"

#include <stdio.h>
#include <time.h>
#include "smime/util/timeutil.h"

const char *smime_rev_status_name(smime_rev_status s)
{
    switch (s) {
    case SMIME_REV_GOOD:    return "good";
    case SMIME_REV_REVOKED: return "revoked";
    case SMIME_REV_UNKNOWN: return "unknown";
    default:                return "not-checked";
    }
}

const char *smime_rev_reason_name(int r)
{
    static const char *const names[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", "unspecified", "removeFromCRL",
        "privilegeWithdrawn", "aACompromise",
    };
    return r >= 0 && r <= 10 ? names[r] : "no reason given";
}

const char *smime_rev_finding_id(unsigned bit)
{
    switch (bit) {
    case SMIME_REV_FINDING_OCSP_SHA1:      return "REV-OCSP-02";
    case SMIME_REV_FINDING_OCSP_INTERVAL:  return "REV-OCSP-03";
    case SMIME_REV_FINDING_OCSP_CA_REASON: return "REV-OCSP-05";
    case SMIME_REV_FINDING_CRL_SHA1:       return "REV-CRL-01";
    case SMIME_REV_FINDING_CRL_INTERVAL:   return "REV-CRL-02";
    case SMIME_REV_FINDING_CRL_REASON:     return "REV-CRL-03";
    case SMIME_REV_FINDING_CRL_CA_REASON:  return "REV-CRL-04";
    case SMIME_REV_FINDING_CRL_NO_REASON:  return "REV-CRL-06";
    default:                               return NULL;
    }
}

int64_t smime_rev_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void smime_rev_describe(const smime_rev_answer *a, const char *who, char *out, size_t outlen)
{
    char when[32];
    switch (a->status) {
    case SMIME_REV_REVOKED:
        smime_time_format(a->revocation_time, when, sizeof(when));
        snprintf(out, outlen, "%s revoked on %s (%s, by %s)", who, when,
                 smime_rev_reason_name(a->crl_reason), a->source ? a->source : "?");
        break;
    case SMIME_REV_UNKNOWN:
        snprintf(out, outlen, "revocation status of the %s unknown: %s", who, a->reason);
        break;
    case SMIME_REV_GOOD:
        snprintf(out, outlen, "%s not revoked (%s)", who, a->source ? a->source : "?");
        break;
    default:
        snprintf(out, outlen, "revocation status of the %s not checked: %s", who, a->reason);
        break;
    }
}
