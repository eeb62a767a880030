/* http - the libcurl transport for the revocation checker (an smime_fetch_fn).
 *
 * Plain http:// only (OCSP responses and CRLs are signed; https would need its own
 * revocation checks), no redirects unless allowed (a CA's responder needs none)
 * and then only to http://, never a connection to a loopback, private, link-local
 * or other non-public address unless allowed (a URL in a certificate must not make
 * us probe the local network), the body capped at the request's max_bytes, and
 * every phase (name lookup, connect, transfer) bound by the request's deadline.
 * Thread-safe: each call uses its own easy handle.
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
                             * its configuration.  The address check does not apply
                             * to the proxy, which the admin chose. */
    unsigned max_redirects; /* RevocationMaxRedirects; 0 (the default) follows none */
    int allow_private;      /* RevocationAllowPrivate: connect to loopback, RFC 1918,
                             * link-local, ULA and other non-public addresses too */
} smime_http_config;

/* 1 when a connection to this address is refused by default: loopback, private
 * (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast and reserved ranges,
 * IPv4-mapped IPv6 judged as IPv4. */
struct sockaddr;
int smime_http_address_private(const struct sockaddr *sa);

/* The smime_fetch_fn to put in smime_revocation_config.fetch; ctx is a
 * const smime_http_config * or NULL. */
smime_fetch_rc smime_http_fetch(void *ctx, const smime_fetch_request *req, smime_buf *body,
                                char *err, size_t errlen);

#endif
