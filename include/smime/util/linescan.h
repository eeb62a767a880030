/* linescan - the two line-end questions every byte of a message is asked, answered
 * sixteen bytes at a time: where the next bare LF is (one not after a CR: the
 * message is not in canonical CRLF form there), and where the next line that
 * starts with "--" is (a MIME delimiter candidate).  A memchr per line cost as
 * much as hashing the message (issue 19: mail lines are short).
 *
 * base is where the text starts: an LF at base is bare and base is a line start;
 * p is where the search starts, base <= p <= end; bytes before p (down to base)
 * are read only to decide about p itself. */
#ifndef SMIME_LINESCAN_H
#define SMIME_LINESCAN_H

#include <stddef.h>

/* The first LF at or after p not preceded by CR, or NULL. */
const char *smime_scan_bare_lf(const char *base, const char *p, const char *end);
/* The first line start q at or after p (q == base or q[-1] == '\n') with
 * q[0] == q[1] == '-' inside [q, end), or NULL. */
const char *smime_scan_dash_line(const char *base, const char *p, const char *end);
/* The first place at or after p that is such a line start or holds the byte c
 * (c != '-'): two questions in one pass over the text. */
const char *smime_scan_dash_line_or(const char *base, const char *p, const char *end, char c);
/* The same, also adding to *bare_lfs the bare LFs of [p, the place returned), or
 * of [p, end) when NULL: with every next search from after the place returned
 * (which holds '-' or c, never an LF), the sum is the text's. */
const char *smime_scan_dash_line_or_counting(const char *base, const char *p, const char *end, char c,
                                             size_t *bare_lfs);

#endif
