/* cert - the facts about one certificate that every later stage reports: a fixed-size
 * summary filled by the trust store (smime_cert_summarize in pki.h) and carried by
 * the result model.  Kept apart from pki.h so that readers of a report need no
 * GnuTLS types. */
#ifndef SMIME_CRYPTO_CERT_H
#define SMIME_CRYPTO_CERT_H

#include <stdint.h>

#define SMIME_TEXT_MAX     512          /* any text field taken from a certificate */
#define SMIME_CHAIN_MAX    12           /* certificates of a path above the signer */

typedef struct smime_cert_summary {
    char    subject[SMIME_TEXT_MAX];    /* RFC 4514 string */
    char    issuer[SMIME_TEXT_MAX];
    char    serial[96];                 /* upper-case hex, no separators */
    int64_t not_before, not_after;
    char    key[32];                    /* e.g. "RSA-2048", "EC-P256", "Ed25519" */
    char    issuer_key_id[72];          /* authorityKeyIdentifier, hex; "" if absent */
    char    sha256[65];                 /* SHA-256 of the DER, upper-case hex: what
                                         * SigningPolicy ca= names a CA by */
} smime_cert_summary;

#endif
