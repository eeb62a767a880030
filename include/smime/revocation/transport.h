/* transport - how the revocation checker fetches: a function the caller supplies
 * (http.h has the libcurl one), its request and its result codes.  Deadlines are on
 * smime_rev_clock_ms()'s clock (answer.h). */
#ifndef SMIME_REVOCATION_TRANSPORT_H
#define SMIME_REVOCATION_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include "smime/revocation/answer.h"
#include "smime/util/buf.h"

typedef enum smime_fetch_rc {
    SMIME_FETCH_OK = 0,
    SMIME_FETCH_TIMEOUT,       /* deadline reached (connect or transfer) */
    SMIME_FETCH_UNREACHABLE,   /* refused, no route, name not resolved */
    SMIME_FETCH_HTTP_ERROR,    /* a status other than 200 */
    SMIME_FETCH_TOO_LARGE,     /* the body passed max_bytes */
    SMIME_FETCH_FAILED,        /* anything else (bad URL, out of memory, ...) */
} smime_fetch_rc;

typedef struct smime_fetch_request {
    const char *url;
    const void *post_body;     /* NULL: GET; else POST with this body */
    size_t      post_len;
    const char *content_type;  /* of the POST body */
    size_t      max_bytes;     /* cap on the response body */
    int64_t     deadline_ms;   /* absolute, on smime_rev_clock_ms()'s clock */
} smime_fetch_request;

/* Fetches one URL into body (whose cap the transport must also respect).  Returns
 * an smime_fetch_rc, with a message in err for anything but OK.  Must be callable
 * from many threads at once. */
typedef smime_fetch_rc (*smime_fetch_fn)(void *ctx, const smime_fetch_request *req,
                                         smime_buf *body, char *err, size_t errlen);

#endif
