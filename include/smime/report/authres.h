/* authres - format the RFC 8601 Authentication-Results header (method smime of
 * RFC 7281) for a report.
 *
 * Every value that comes from a certificate or a message is emitted as an RFC 2045
 * token when it is one, else as a quoted-string in which CR, LF, NUL and every
 * other control character become spaces, quotes and backslashes are escaped, and
 * bytes that are not well-formed UTF-8 become "?": nothing a sender controls can
 * end the header or start another. */
#ifndef SMIME_AUTHRES_H
#define SMIME_AUTHRES_H

#include "smime/util/buf.h"
#include "smime/report/report.h"

#define SMIME_AUTHRES_NAME "Authentication-Results"

/* The header value's size: results past it are summed up in a comment ("(and 3
 * more signatures, not listed; the most severe: fail)") rather than listed. */
#define SMIME_AUTHRES_VALUE_MAX 8192

/* Appends the header value (what follows "Authentication-Results: "), one line,
 * no line break.  Returns 0, or -1 when the buffer cap was hit. */
int smime_authres_format(const smime_report *r, const char *authserv_id, smime_buf *out);

/* Appends s as a token if it is one, else as a cleaned quoted-string. */
int smime_authres_value(smime_buf *out, const char *s);

/* 1 when s is usable as an authserv-id (a non-empty RFC 2045 token of at most 255
 * bytes; dots allowed, as in host names). */
int smime_authres_valid_servid(const char *s);

/* The reason for a message with no signature: the first note, or a fixed text. */
const char *smime_report_none_reason(const smime_report *r);

#endif
