/* pem - find and decode the "CERTIFICATE" blocks of a PEM text.
 *
 * Decoding happens in place: each block's base64 is overwritten with its DER, so
 * the spans returned point into the caller's (writable) buffer and live as long as
 * it does.  No allocation. */
#ifndef SMIME_PEM_H
#define SMIME_PEM_H

#include <stddef.h>
#include "smime/crypto/der.h"

/* Scans text[0..len) for certificate blocks, decoding each in place into out
 * (at most max).  Returns the number found (0 when there is none), or -1 when a
 * block is malformed (bad base64, no END line) or there are more than max. */
int smime_pem_certs(char *text, size_t len, smime_span *out, int max);

#endif
