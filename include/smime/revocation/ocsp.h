/* ocsp - OCSP requests and responses (RFC 6960, RFC 5019 profile), pure: bytes,
 * certificate, issuer and time in; an answer out.  No I/O, no clock. */
#ifndef SMIME_OCSP_H
#define SMIME_OCSP_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>
#include "smime/revocation/answer.h"

/* A nonce-less OCSPRequest (SHA-1 CertID, as RFC 5019 responders expect) for cert
 * issued by issuer.  On success returns 0 and DER in *out, which the caller frees
 * with gnutls_free(out->data). */
int smime_ocsp_request(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_datum_t *out);

/* A stable text key for "this certificate of this issuer": hex of the SHA-1
 * issuer name hash, issuer key hash and serial (the CertID).  Returns 0 or -1. */
int smime_ocsp_cert_key(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, char *out, size_t outlen);

/* The GET form of a request: base + "/" + URL-encoded base64 of der (RFC 6960
 * appendix A.1).  Returns 0, or -1 when it does not fit in out (outlen). */
int smime_ocsp_get_url(const char *base, const unsigned char *der, size_t len, char *out,
                       size_t outlen);

/* Judges an OCSPResponse for cert (issued by issuer) at t->now: a successful basic
 * response, a SingleResponse whose CertID names this certificate (issuer name hash,
 * issuer key hash, serial), signed by the issuer itself or by a responder
 * certificate issued by it with id-kp-OCSPSigning and id-pkix-ocsp-nocheck, valid at
 * t->now, and fresh (thisUpdate <= now + skew; now <= nextUpdate + skew, or
 * <= thisUpdate + max_age without nextUpdate).  Fills out (source "ocsp"); anything
 * wrong gives SMIME_REV_UNKNOWN with a code and a reason.  A response signed with
 * SHA-1 is believed when it says revoked, never when it says good
 * ("insecure-algorithm").  SBR findings (REV-OCSP-02/03/05) go to out->findings. */
void smime_ocsp_check(const unsigned char *der, size_t len, gnutls_x509_crt_t cert,
                      gnutls_x509_crt_t issuer, const smime_rev_time *t, smime_rev_answer *out);

#endif
