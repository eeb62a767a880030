/* record - one signature as telemetry stores it, and how a signature report becomes
 * one (see telemetry.h for what a record may and may not hold). */
#ifndef SMIME_TELEMETRY_RECORD_H
#define SMIME_TELEMETRY_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "smime/lint/lint.h"
#include "smime/report/report.h"

/* Schema of both sinks; migrations up to this version run on open. */
#define SMIME_TELEMETRY_SCHEMA_VERSION 6

#define SMIME_TELEMETRY_FINDINGS_MAX   512   /* bytes of the space-separated ID list */
#define SMIME_TELEMETRY_KEY_MAX        64    /* HMAC key bytes */
#define SMIME_TELEMETRY_SECRET_LEN     32    /* bytes of a generated deployment secret */
#define SMIME_TELEMETRY_QUEUE_MAX      65536 /* cap on the queue capacity option */
#define SMIME_TELEMETRY_BATCH_MAX      256   /* records per sink write (one transaction) */
#define SMIME_TELEMETRY_CLOSE_GRACE_MS 2000  /* close waits this long past flush_ms */

/* One signature, as stored.  Every field is a NUL-terminated string ("" = unknown
 * or not applicable) except validity_days (-1 = unknown) and scope_flags.
 *
 * Issuer identity (issuer_dn, issuer_key_id, root_subject) is kept only for chains
 * that reached a configured trust anchor: a CA the admin chose to trust is public
 * knowledge, an untrusted issuer may be a person's own CA.  Otherwise issuer_dn is
 * the class "(untrusted)" (or "(self-issued)") and the key id is empty.
 *
 * cert_id tells certificates apart without naming them: HMAC-SHA256 under the
 * deployment secret of the signer's issuer DN and serial number (the certificate's
 * identity in CMS, RFC 5652 IssuerAndSerialNumber), hex; never the fingerprint,
 * which anyone holding the certificate could match. */
typedef struct smime_telemetry_record {
    char    day[11];                 /* "YYYY-MM-DD", UTC day of the observation */
    char    result[12];              /* RFC 7281 word: "pass", "fail", ... */
    char    reason[40];              /* stable reason class: "ok", "untrusted", ... */
    char    issuer_dn[SMIME_TEXT_MAX];   /* signer certificate's issuer (RFC 4514) */
    char    issuer_key_id[72];       /* authorityKeyIdentifier of the signer, hex */
    char    root_subject[SMIME_TEXT_MAX];/* trust anchor the chain reached; "" if none */
    char    policy_oid[64];          /* SBR policy OID 2.23.140.1.5.T.G (from lint) */
    char    cert_type[16];           /* "mailbox", "organization", "sponsor", "individual" */
    char    generation[16];          /* "legacy", "multipurpose", "strict" */
    char    findings[SMIME_TELEMETRY_FINDINGS_MAX]; /* lint IDs, sorted, unique, ' '-separated */
    char    key_alg[32];             /* "RSA-2048", "EC-P256", "Ed25519" */
    char    digest_alg[32];          /* CMS digest algorithm, e.g. "SHA256" */
    char    sig_alg[48];             /* CMS signature algorithm */
    int64_t validity_days;           /* notAfter - notBefore, whole days; -1 unknown */
    char    not_before_month[8];     /* "YYYY-MM" */
    char    sbr_scope[16];           /* "sbr", "pre-sbr", "not-smime", "unparsable", "" */
    unsigned scope_flags;            /* SMIME_SCOPE_* bits of the lint result */
    char    client_family[24];       /* smime_telemetry_client_family() */
    char    sender_domain[72];       /* "" unless enabled: HMAC hex or the domain */
    /* schema 3 */
    char    cert_id[65];             /* keyed hash of the signer certificate, hex; ""
                                      * without a signer or a secret */
    char    cn_form[16];             /* subject commonName: "mailbox" (only an address),
                                      * "name" (other text), "absent" */
    char    name_attrs[40];          /* subject name attributes present, of "givenName",
                                      * "surname", "pseudonym", space-separated in that
                                      * order; "" for none */
    /* schema 4: CAA for S/MIME (caa.h); "" = not looked up */
    char    caa_issuemail[16];       /* what the sender domain publishes */
    char    caa_ca[16];              /* whether it authorizes the signer's CA */
    /* Never stored: the sender domain in plain text, for the CAA lookup on the
     * writer thread, which clears it before the record reaches a sink.  Set only
     * when privacy.caa_lookup asks for it. */
    char    lookup_domain[256];
} smime_telemetry_record;

typedef enum smime_telemetry_domain_mode {
    SMIME_TELEMETRY_DOMAIN_OFF = 0,  /* default: no sender domain at all */
    SMIME_TELEMETRY_DOMAIN_HMAC,     /* HMAC-SHA256(key, lower-case domain), hex */
    SMIME_TELEMETRY_DOMAIN_PLAIN,    /* the lower-case domain itself (opt-in) */
} smime_telemetry_domain_mode;

typedef struct smime_telemetry_privacy {
    smime_telemetry_domain_mode domain_mode;
    unsigned char key[SMIME_TELEMETRY_KEY_MAX];   /* HMAC key; required for HMAC mode */
    size_t        key_len;
    /* The deployment secret that keys cert_id (smime_telemetry_secret_load); with
     * cert_key_len 0 no certificate id is stored. */
    unsigned char cert_key[SMIME_TELEMETRY_KEY_MAX];
    size_t        cert_key_len;
    /* Put the plain sender domain into lookup_domain for the CAA checker (which
     * runs on the writer thread and clears it); the stored sender_domain still
     * follows domain_mode. */
    int           caa_lookup;
} smime_telemetry_privacy;

/* Reads the deployment secret at path into key (at most SMIME_TELEMETRY_KEY_MAX
 * bytes), creating it first when it does not exist: SMIME_TELEMETRY_SECRET_LEN
 * random bytes, mode 0600, written to a temporary file and linked into place, so
 * two processes starting together end up with the same secret.  An existing file
 * readable or writable by group or others, not a regular file, or empty is refused:
 * whoever reads the secret can test whether a known certificate is in the data.
 * Returns 0, or -1 with err. */
int smime_telemetry_secret_load(const char *path, unsigned char *key, size_t *key_len,
                                char *err, size_t errlen);

/* Reduces a User-Agent / X-Mailer value to a product name: "Thunderbird",
 * "Outlook", "Apple Mail", "Evolution", "KMail", "Roundcube", "Gmail", "Mutt",
 * "Claws Mail", "eM Client", "other" for anything else, "unknown" for "".
 * Returns a static string: version numbers and platforms never leave here. */
const char *smime_telemetry_client_family(const char *header_value);

/* Builds the record of one signature observed at `now` (epoch seconds, UTC).
 * lint may be NULL (lint off, or no signer certificate).  The sender domain is
 * taken from the report's identifier only when priv enables it.  Borrowed
 * arguments, filled *out.  Returns 0, or -1 with err set when priv asks for HMAC
 * without a key or the HMAC fails (then no domain is stored and nothing leaks). */
int smime_telemetry_record_from(const smime_sig_report *s, const smime_lint_result *lint,
                                int64_t now, const smime_telemetry_privacy *priv,
                                smime_telemetry_record *out, char *err, size_t errlen);

#endif
