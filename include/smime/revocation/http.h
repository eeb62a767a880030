/* http - the libcurl transport for the revocation checker (an smime_fetch_fn).
 *
 * Plain http:// only (OCSP responses and CRLs are signed; https would need its own
 * revocation checks), at most 3 redirects and only to http://, the body capped at
 * the request's max_bytes, and every phase (name lookup, connect, transfer) bound
 * by the request's deadline.  Thread-safe: each call uses its own easy handle.
 * Needs libcurl at link time: `pkg-config --libs libcurl`. */
#ifndef SMIME_HTTP_H
#define SMIME_HTTP_H

#include "smime/revocation/transport.h"

/* Process-wide libcurl set-up; call once before threads start (smime_init() time).
 * Returns 0 or -1. */
int smime_http_init(void);

/* What a site may need to say about its outbound HTTP; put a pointer to one in
 * smime_revocation_config.fetch_ctx (it must outlive the checker), or NULL. */
typedef struct smime_http_config {
    const char *proxy;      /* "http://host:port"; NULL or "": direct.  The environment's
                             * http_proxy is never used: a daemon's environment is not
                             * its configuration. */
} smime_http_config;

/* The smime_fetch_fn to put in smime_revocation_config.fetch; ctx is a
 * const smime_http_config * or NULL. */
smime_fetch_rc smime_http_fetch(void *ctx, const smime_fetch_request *req, smime_buf *body,
                                char *err, size_t errlen);

#endif
