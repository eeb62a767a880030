/* ocsp - OCSP requests and responses (see include/smime/revocation/ocsp.h).
 *
 * GnuTLS parses the response, but its own verification (gnutls_ocsp_resp_verify_
 * direct) checks a delegated responder certificate against the system clock and
 * never looks for id-pkix-ocsp-nocheck, so who signed the response is decided here
 * and GnuTLS is asked only to check the signature with the certificate we chose. */
#include "smime/revocation/ocsp.h"

#include <gnutls/ocsp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "smime/util/timeutil.h"

#define OID_OCSP_SIGNING "1.3.6.1.5.5.7.3.9"
#define OID_OCSP_NOCHECK "1.3.6.1.5.5.7.48.1.5"
#define MAX_SINGLES      64       /* SingleResponses looked at in one response */
#define MAX_RESP_CERTS   8        /* responder certificates looked at */

static void answer(smime_rev_answer *out, smime_rev_status st, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void answer(smime_rev_answer *out, smime_rev_status st, const char *code,
                   const char *fmt, ...)
{
    out->status = st;
    out->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

int smime_ocsp_request(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, gnutls_datum_t *out)
{
    out->data = NULL;
    out->size = 0;
    gnutls_ocsp_req_t req;
    if (gnutls_ocsp_req_init(&req) < 0)
        return -1;
    int rc = gnutls_ocsp_req_add_cert(req, GNUTLS_DIG_SHA1, issuer, cert);
    if (rc >= 0)
        rc = gnutls_ocsp_req_export(req, out);
    gnutls_ocsp_req_deinit(req);
    return rc < 0 ? -1 : 0;
}

int smime_ocsp_get_url(const char *base, const unsigned char *der, size_t len, char *out,
                       size_t outlen)
{
    gnutls_datum_t in = { (unsigned char *)der, (unsigned)len }, b64 = { NULL, 0 };
    if (gnutls_base64_encode2(&in, &b64) < 0)
        return -1;
    size_t blen = strlen(base), o = 0;
    int ok = blen + 1 < outlen;
    if (ok) {
        memcpy(out, base, blen);
        o = blen;
        if (blen == 0 || base[blen - 1] != '/')
            out[o++] = '/';
    }
    /* base64's '+', '/' and '=' must be percent-encoded in a path segment. */
    for (unsigned i = 0; ok && i < b64.size; i++) {
        unsigned char c = b64.data[i];
        if (c == '\n' || c == '\r')
            continue;
        if (c == '+' || c == '/' || c == '=') {
            ok = o + 3 < outlen;
            if (ok)
                o += (size_t)snprintf(out + o, outlen - o, "%%%02X", c);
        } else {
            ok = o + 1 < outlen;
            if (ok)
                out[o++] = (char)c;
        }
    }
    gnutls_free(b64.data);
    if (!ok)
        return -1;
    out[o] = '\0';
    return 0;
}

static int datum_eq(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

/* The CertID (name hash, key hash, serial) a response must carry for cert, with the
 * digest the response chose: GnuTLS computes it for a request, so build one. */
typedef struct cert_id {
    gnutls_datum_t name_hash, key_hash, serial;
    gnutls_ocsp_req_t req;        /* owns the three datums' storage */
} cert_id;

static int cert_id_make(gnutls_digest_algorithm_t dig, gnutls_x509_crt_t cert,
                        gnutls_x509_crt_t issuer, cert_id *id)
{
    memset(id, 0, sizeof(*id));
    if (gnutls_ocsp_req_init(&id->req) < 0)
        return -1;
    if (gnutls_ocsp_req_add_cert(id->req, dig, issuer, cert) < 0 ||
        gnutls_ocsp_req_get_cert_id(id->req, 0, NULL, &id->name_hash, &id->key_hash,
                                    &id->serial) < 0) {
        gnutls_ocsp_req_deinit(id->req);
        id->req = NULL;
        return -1;
    }
    return 0;
}

static void cert_id_free(cert_id *id)
{
    gnutls_free(id->name_hash.data);
    gnutls_free(id->key_hash.data);
    gnutls_free(id->serial.data);
    if (id->req)
        gnutls_ocsp_req_deinit(id->req);
    memset(id, 0, sizeof(*id));
}

int smime_ocsp_cert_key(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer, char *out, size_t outlen)
{
    cert_id id;
    if (cert_id_make(GNUTLS_DIG_SHA1, cert, issuer, &id) < 0)
        return -1;
    size_t need = 2 * (id.name_hash.size + id.key_hash.size + id.serial.size) + 3;
    int rc = -1;
    if (need <= outlen) {
        size_t o = 0;
        const gnutls_datum_t *parts[3] = { &id.name_hash, &id.key_hash, &id.serial };
        for (int k = 0; k < 3; k++) {
            for (unsigned i = 0; i < parts[k]->size; i++)
                o += (size_t)snprintf(out + o, outlen - o, "%02X", parts[k]->data[i]);
            if (k < 2)
                out[o++] = ':';
        }
        out[o] = '\0';
        rc = 0;
    }
    cert_id_free(&id);
    return rc;
}

/* 1 when c is the certificate the response's ResponderID names: by name (raw DN)
 * or by key (SHA-1 of its subjectPublicKey, the same hash a CertID's issuer key
 * hash is, so GnuTLS computes it through a CertID with c as the issuer). */
static int responder_is(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t c)
{
    gnutls_datum_t raw = { NULL, 0 };
    int match = 0;
    if (gnutls_ocsp_resp_get_responder_raw_id(resp, GNUTLS_OCSP_RESP_ID_DN, &raw) >= 0) {
        gnutls_datum_t dn = { NULL, 0 };
        if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0)
            match = datum_eq(&raw, &dn);
        gnutls_free(dn.data);
    } else if (gnutls_ocsp_resp_get_responder_raw_id(resp, GNUTLS_OCSP_RESP_ID_KEY, &raw) >= 0) {
        cert_id id;
        if (cert_id_make(GNUTLS_DIG_SHA1, c, c, &id) == 0) {
            match = datum_eq(&raw, &id.key_hash);
            cert_id_free(&id);
        }
    }
    gnutls_free(raw.data);
    return match;
}

static int has_key_purpose(gnutls_x509_crt_t c, const char *oid)
{
    for (unsigned i = 0; i < 64; i++) {
        char buf[128];
        size_t size = sizeof(buf);
        int rc = gnutls_x509_crt_get_key_purpose_oid(c, i, buf, &size, NULL);
        if (rc < 0)
            return 0;
        if (strcmp(buf, oid) == 0)
            return 1;
    }
    return 0;
}

static int has_extension(gnutls_x509_crt_t c, const char *oid)
{
    for (unsigned i = 0; i < 64; i++) {
        char buf[128];
        size_t size = sizeof(buf);
        int rc = gnutls_x509_crt_get_extension_oid(c, i, buf, &size);
        if (rc < 0)
            return 0;
        if (strcmp(buf, oid) == 0)
            return 1;
    }
    return 0;
}

/* A delegated responder must be issued by the CA itself (name and signature), be
 * authorised for OCSP signing, carry nocheck (we cannot ask about the responder's
 * own status without a loop), and be valid at now.  Returns NULL or a reason. */
static const char *delegate_problem(gnutls_x509_crt_t signer, gnutls_x509_crt_t issuer,
                                    int64_t now)
{
    unsigned status = 0;
    unsigned flags = GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS;
    if (!gnutls_x509_crt_check_issuer(signer, issuer) ||
        gnutls_x509_crt_verify(signer, &issuer, 1, flags, &status) < 0 || status != 0)
        return "the responder certificate was not issued by the certificate's CA";
    if (!has_key_purpose(signer, OID_OCSP_SIGNING))
        return "the responder certificate is not authorised for OCSP signing (no id-kp-OCSPSigning)";
    if (!has_extension(signer, OID_OCSP_NOCHECK))
        return "the responder certificate lacks id-pkix-ocsp-nocheck";
    if (now < (int64_t)gnutls_x509_crt_get_activation_time(signer) ||
        now > (int64_t)gnutls_x509_crt_get_expiration_time(signer))
        return "the responder certificate is not valid at the evaluation time";
    return NULL;
}

static const char *resp_status_name(int st)
{
    switch (st) {
    case GNUTLS_OCSP_RESP_MALFORMEDREQUEST: return "malformedRequest";
    case GNUTLS_OCSP_RESP_INTERNALERROR:    return "internalError";
    case GNUTLS_OCSP_RESP_TRYLATER:         return "tryLater";
    case GNUTLS_OCSP_RESP_SIGREQUIRED:      return "sigRequired";
    case GNUTLS_OCSP_RESP_UNAUTHORIZED:     return "unauthorized";
    default:                                return "an unknown status";
    }
}

/* Finds the SingleResponse for cert.  Returns its index or -1. */
static int find_single(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer)
{
    cert_id want = { 0 };
    gnutls_digest_algorithm_t want_dig = GNUTLS_DIG_UNKNOWN;
    int found = -1;
    for (unsigned i = 0; i < MAX_SINGLES && found < 0; i++) {
        gnutls_digest_algorithm_t dig;
        gnutls_datum_t nh = { NULL, 0 }, kh = { NULL, 0 }, sn = { NULL, 0 };
        unsigned st, reason;
        time_t tu, nu, rt;
        if (gnutls_ocsp_resp_get_single(resp, i, &dig, &nh, &kh, &sn, &st, &tu, &nu, &rt,
                                        &reason) < 0)
            break;
        if (dig != want_dig) {
            cert_id_free(&want);
            want_dig = dig;
            if (cert_id_make(dig, cert, issuer, &want) < 0)
                want_dig = GNUTLS_DIG_UNKNOWN;
        }
        if (want_dig != GNUTLS_DIG_UNKNOWN && datum_eq(&nh, &want.name_hash) &&
            datum_eq(&kh, &want.key_hash) && datum_eq(&sn, &want.serial))
            found = (int)i;
        gnutls_free(nh.data);
        gnutls_free(kh.data);
        gnutls_free(sn.data);
    }
    cert_id_free(&want);
    return found;
}

/* Decides who signed the response and checks the signature.  Returns 0, or -1 with
 * out filled. */
static int check_signer(gnutls_ocsp_resp_t resp, gnutls_x509_crt_t issuer, int64_t now,
                        smime_rev_answer *out)
{
    gnutls_x509_crt_t *certs = NULL;
    size_t ncerts = 0;
    gnutls_x509_crt_t signer = NULL;
    const char *problem = NULL;
    if (responder_is(resp, issuer)) {
        signer = issuer;
    } else {
        if (gnutls_ocsp_resp_get_certs(resp, &certs, &ncerts) < 0) {
            certs = NULL;
            ncerts = 0;
        }
        for (size_t i = 0; i < ncerts && i < MAX_RESP_CERTS && !signer; i++)
            if (responder_is(resp, certs[i]))
                signer = certs[i];
        if (!signer)
            problem = "signed by a responder that is neither the CA nor a certificate in the response";
        else
            problem = delegate_problem(signer, issuer, now);
    }
    int rc = -1;
    if (problem) {
        answer(out, SMIME_REV_UNKNOWN, "unauthorized-responder", "OCSP response not trusted: %s",
               problem);
    } else {
        unsigned verify = 0;
        int vr = gnutls_ocsp_resp_verify_direct(resp, signer, &verify, 0);
        if (vr < 0)
            answer(out, SMIME_REV_UNKNOWN, "malformed", "OCSP response signature cannot be checked: %s",
                   gnutls_strerror(vr));
        else if (verify & GNUTLS_OCSP_VERIFY_INSECURE_ALGORITHM)
            answer(out, SMIME_REV_UNKNOWN, "bad-signature",
                   "OCSP response signed with an insecure algorithm");
        else if (verify != 0)
            answer(out, SMIME_REV_UNKNOWN, "bad-signature",
                   "OCSP response signature does not verify with the %s's key",
                   signer == issuer ? "issuing CA" : "responder certificate");
        else
            rc = 0;
    }
    for (size_t i = 0; i < ncerts; i++)
        gnutls_x509_crt_deinit(certs[i]);
    gnutls_free(certs);
    return rc;
}

static int is_ca(gnutls_x509_crt_t c)
{
    unsigned ca = 0;
    return gnutls_x509_crt_get_basic_constraints(c, NULL, &ca, NULL) >= 0 && ca;
}

/* SBR section 9 observations about a verified response (REV-OCSP-03/05), added to
 * those already in a. */
static unsigned ocsp_findings(gnutls_x509_crt_t cert, unsigned cst, unsigned reason,
                              const smime_rev_answer *a)
{
    unsigned f = a->findings;
    int ca = is_ca(cert);
    if (!ca) {
        int64_t interval = a->next_update ? a->next_update - a->this_update + 1 : 0;
        if (!a->next_update || interval < 8 * 3600 || interval > 10 * 86400)
            f |= SMIME_REV_FINDING_OCSP_INTERVAL;
    }
    if (ca && cst == GNUTLS_OCSP_CERT_REVOKED &&
        (reason == GNUTLS_X509_CRLREASON_UNSPECIFIED ||
         reason == GNUTLS_X509_CRLREASON_CERTIFICATEHOLD))
        f |= SMIME_REV_FINDING_OCSP_CA_REASON;
    return f;
}

void smime_ocsp_check(const unsigned char *der, size_t len, gnutls_x509_crt_t cert,
                      gnutls_x509_crt_t issuer, const smime_rev_time *t, smime_rev_answer *out)
{
    memset(out, 0, sizeof(*out));
    out->source = "ocsp";
    out->crl_reason = -1;
    gnutls_ocsp_resp_t resp;
    if (gnutls_ocsp_resp_init(&resp) < 0) {
        answer(out, SMIME_REV_UNKNOWN, "error", "out of memory reading an OCSP response");
        return;
    }
    gnutls_datum_t d = { (unsigned char *)der, (unsigned)len };
    int rc = len > 0 && len <= 0x7fffffff ? gnutls_ocsp_resp_import(resp, &d) : -1;
    if (rc < 0) {
        answer(out, SMIME_REV_UNKNOWN, "malformed", "OCSP response is not a well-formed OCSPResponse");
        goto done;
    }
    int st = gnutls_ocsp_resp_get_status(resp);
    if (st != GNUTLS_OCSP_RESP_SUCCESSFUL) {
        answer(out, SMIME_REV_UNKNOWN, st < 0 ? "malformed" : "responder-error",
               "OCSP responder answered %s",
               st < 0 ? "with an unreadable status" : resp_status_name(st));
        goto done;
    }
    int idx = find_single(resp, cert, issuer);
    if (idx < 0) {
        answer(out, SMIME_REV_UNKNOWN, "no-match",
               "OCSP response says nothing about this certificate (no matching CertID)");
        goto done;
    }
    /* Recorded before the signature is judged: a SHA-1 response is news even
     * when (as GnuTLS does by default) its signature is refused. */
    int sig = gnutls_ocsp_resp_get_signature_algorithm(resp);
    if (sig > 0 && gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig) == GNUTLS_DIG_SHA1)
        out->findings |= SMIME_REV_FINDING_OCSP_SHA1;
    if (check_signer(resp, issuer, t->now, out) < 0)
        goto done;
    unsigned cst = 0, reason = 0;
    time_t tu = 0, nu = 0, rt = 0;
    if (gnutls_ocsp_resp_get_single(resp, (unsigned)idx, NULL, NULL, NULL, NULL, &cst, &tu, &nu, &rt,
                                    &reason) < 0) {
        answer(out, SMIME_REV_UNKNOWN, "malformed", "OCSP SingleResponse unreadable");
        goto done;
    }
    out->this_update = (int64_t)tu;
    out->next_update = nu == (time_t)-1 ? 0 : (int64_t)nu;
    char when[32];
    if (tu == (time_t)-1 || (int64_t)tu > t->now + t->skew) {
        smime_time_format((int64_t)tu, when, sizeof(when));
        answer(out, SMIME_REV_UNKNOWN, "not-yet-valid", "OCSP response is dated %s, in the future",
               when);
        goto done;
    }
    int64_t fresh_until = out->next_update ? out->next_update : (int64_t)tu + t->max_age;
    if (t->now > fresh_until + t->skew) {
        smime_time_format(fresh_until, when, sizeof(when));
        answer(out, SMIME_REV_UNKNOWN, "stale", "OCSP response expired on %s", when);
        goto done;
    }
    out->findings = ocsp_findings(cert, cst, reason, out);
    switch (cst) {
    case GNUTLS_OCSP_CERT_GOOD:
        /* A SHA-1 signature can be forged by collision, and a forged "good" is
         * what an attacker wants; a "revoked" is believed whatever signs it. */
        if (out->findings & SMIME_REV_FINDING_OCSP_SHA1)
            answer(out, SMIME_REV_UNKNOWN, "insecure-algorithm",
                   "OCSP response signed with SHA-1 cannot show the certificate is good");
        else
            answer(out, SMIME_REV_GOOD, "good", "OCSP: good");
        break;
    case GNUTLS_OCSP_CERT_REVOKED:
        out->revocation_time = rt == (time_t)-1 ? 0 : (int64_t)rt;
        /* GnuTLS reports an absent revocationReason as unspecified (0). */
        out->crl_reason = (int)reason;
        smime_time_format(out->revocation_time, when, sizeof(when));
        answer(out, SMIME_REV_REVOKED, "revoked", "OCSP: revoked on %s (%s)", when,
               smime_rev_reason_name(out->crl_reason));
        break;
    default:
        answer(out, SMIME_REV_UNKNOWN, "responder-unknown",
               "OCSP responder does not know this certificate");
        break;
    }
done:
    gnutls_ocsp_resp_deinit(resp);
}
