/* ber - re-encodes one BER element as DER, with caps that hold before the work.
 *
 * Real clients (NSS in Thunderbird, Outlook) send CMS in BER: indefinite lengths,
 * constructed OCTET STRINGs nested several levels deep, long-form lengths with
 * leading zeros.  The verifier must give such a message exactly the verdict of
 * the same content in DER, so the CMS is re-encoded here before GnuTLS reads it
 * (cms.c says why that changes nothing that is signed).
 *
 * What changes: indefinite lengths become definite, every length takes its
 * shortest form, and a constructed universal string (OCTET STRING, BIT STRING,
 * the character and time strings) of any depth becomes one primitive string with
 * the concatenated content.  Nothing else: tags, element order (SET OF is not
 * sorted) and primitive contents are copied as they are, so DER input comes back
 * byte for byte.
 *
 * Refused (-1, with the reason and the input offset in err): truncation, a
 * missing or misplaced end-of-contents, an indefinite length on a primitive
 * element, high tag numbers (never used by CMS or X.509), a constructed string
 * holding anything but segments of its own type, bytes after the element, and
 * input beyond the caps below. */
#ifndef SMIME_BER_H
#define SMIME_BER_H

#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/der.h"

/* Constructed elements nested inside each other (the outermost is level 1).  A
 * CMS SignedData needs about 12 and NSS nests its content strings 2-3 deep. */
#define SMIME_BER_MAX_DEPTH 32
/* Elements (every TLV, string segments included) in one input. */
#define SMIME_BER_MAX_ELEMENTS (1u << 20)
/* Largest input, just under 4 GiB (mail we accept is far smaller): chosen so
 * that SMIME_BER_MAX_OUTPUT of it still fits in 32 bits. */
#define SMIME_BER_MAX_INPUT ((size_t)UINT32_MAX / 1025 * 1024)
/* Bound on the output.  Flattening and shortening only shrink; the one growth is
 * an indefinite-length element (2 header + 2 end-of-contents octets) whose DER
 * content is 64 KiB or more: its definite header takes 5 or 6 octets, i.e. at
 * most 2 more.  Each such element spans 64 KiB of input and those at one level
 * are disjoint, so over SMIME_BER_MAX_DEPTH levels there are at most
 * 32 * n / 65536 of them: growth <= n / 1024.  Below 64 KiB of input the output
 * is never longer than the input.  Exceeding the bound is refused (it cannot
 * happen for input within the other caps; the check guards the arithmetic). */
#define SMIME_BER_MAX_OUTPUT(n) ((n) + (n) / 1024)

/* Re-encodes the single BER element in `in` (no bytes may follow it) as DER into
 * a buffer allocated here: on 0, *out (free() it) holds *out_len bytes.  On -1,
 * *out is NULL and err says why, for people. */
int smime_ber_to_der(smime_span in, uint8_t **out, size_t *out_len, char *err, size_t errlen);

#endif
