/* crl - certificate revocation lists, pure: bytes and issuer in; a verified,
 * searchable list out.  No I/O, no clock. */
#ifndef SMIME_CRL_H
#define SMIME_CRL_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>
#include <stdint.h>
#include "smime/revocation/answer.h"

/* A CRL whose signature was verified with one issuer: its times, scope and revoked
 * serials (sorted, for binary search).  Immutable once made, so it can be shared
 * between threads. */
typedef struct smime_crl smime_crl;

/* Parses a CRL (DER, or PEM when it starts with "-----BEGIN") and checks that it
 * was issued and signed by issuer (name, signature, cRLSign if keyUsage is present)
 * and is a complete CRL we can apply (not a delta; no onlySomeReasons, indirect
 * scope or unknown critical extension).  Time is not judged here.  Linear in the
 * size (our DER reader; GnuTLS's import is used only for small non-DER CRLs and
 * RSA-PSS signatures).  Returns 0 and *out (freed with smime_crl_free()), or -1
 * with err filled (status UNKNOWN, source "crl"; SHA-1 findings kept). */
int  smime_crl_load(const unsigned char *data, size_t len, gnutls_x509_crt_t issuer,
                    smime_crl **out, smime_rev_answer *err);
void smime_crl_free(smime_crl *crl);

/* The issuer Name (raw DER) a CRL claims, unverified: to pick, among the CRLs of a
 * directory, those worth verifying for an issuer.  Returns 0 and *out (freed with
 * gnutls_free), or -1 when it cannot be read. */
int  smime_crl_claimed_issuer(const unsigned char *data, size_t len, gnutls_datum_t *out);

/* 1 when the raw subject DN of issuer is the CRL's issuer name (a CRL directory is
 * indexed by it); 1 when crl was verified with exactly this certificate. */
int  smime_crl_names_issuer(const smime_crl *crl, gnutls_x509_crt_t issuer);
int  smime_crl_verified_with(const smime_crl *crl, gnutls_x509_crt_t issuer);
int64_t smime_crl_next_update(const smime_crl *crl);   /* 0: none */
int64_t smime_crl_this_update(const smime_crl *crl);
size_t  smime_crl_count(const smime_crl *crl);
size_t  smime_crl_bytes(const smime_crl *crl);         /* memory it holds */

/* The status of cert per this CRL at t->now: revoked (date, reason) when its
 * serial is listed; good when it is not and the CRL is current (thisUpdate <= now
 * + skew, and now <= nextUpdate + skew, or within max_age of thisUpdate when it has
 * no nextUpdate); unknown when the CRL is not current ("crl-expired",
 * "not-yet-valid") or its scope excludes cert ("crl-scope": user-only / CA-only
 * CRLs, or a partition (issuingDistributionPoint name) that none of cert's CRL
 * distribution points names).  Source "crl". */
void smime_crl_lookup(const smime_crl *crl, gnutls_x509_crt_t cert, const smime_rev_time *t,
                      smime_rev_answer *out);

#endif
