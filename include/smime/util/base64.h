/* base64 - decoding of base64 text (RFC 4648 section 4) as mail and PEM carry it:
 * lines of the alphabet with their line ends, the last group padded with '='.
 *
 * The decoder is strict: anything but the alphabet, line ends and the final
 * padding is refused, not skipped.  A caller with a lenient decoder of its own
 * (GMime's, for mail) falls back to it for what this refuses, so that the bytes
 * are the same either way: for text this accepts, every decoder gives the same
 * bytes. */
#ifndef SMIME_BASE64_H
#define SMIME_BASE64_H

#include <stddef.h>

/* PEM text (RFC 7468 section 3): spaces and tabs may stand between the
 * characters, and the last group may lack its padding. */
#define SMIME_BASE64_PEM 1u

/* Decodes in[0..n) into out, which has room for n / 4 * 3 + 2 bytes and may
 * alias in (output never overtakes input).  Returns 0 with the decoded length in
 * *out_len, or -1 when the text is not base64 as above (out then holds
 * nothing meaningful). */
int smime_base64_decode(const char *in, size_t n, unsigned flags, unsigned char *out,
                        size_t *out_len);

#endif
