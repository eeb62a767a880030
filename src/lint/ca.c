/* ca - the issuing CA and chain checks (§8 of REQUIREMENTS, SBR 7.1.2.1,
 * 7.1.2.2, Appendix B), and the subscriber/issuer pair checks (SIG-04). */
#include <stdio.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include "smime/lint/rule.h"

#define EXT(c, lit) SMIME_X509_EXT((c)->cert, lit)

static int is_root(const smime_x509 *x)
{
    return x->issuer.len == x->subject.len && memcmp(x->issuer.p, x->subject.p, x->issuer.len) == 0;
}

void lint_subca_bc(smime_lint_ctx *c)
{
    const smime_x509_ext *e = EXT(c, OID_BC);
    int ca, pl;
    if (e == NULL)
        lint_report(c, "extensions", "CA certificate without basicConstraints");
    else if (!e->critical)
        lint_report(c, "extensions.basicConstraints", "basicConstraints must be critical in a CA certificate");
    if (e && (lint_bc(c->cert, &ca, &pl) != 0 || !ca))
        lint_report(c, "extensions.basicConstraints", "basicConstraints cA must be TRUE");
}

void lint_subca_ku(smime_lint_ctx *c)
{
    const smime_x509_ext *e = EXT(c, OID_KU);
    int m = lint_ku_bits(c->cert);
    if (e == NULL) {
        lint_report(c, "extensions", "CA certificate without keyUsage");
        return;
    }
    if (!e->critical)
        lint_report(c, "extensions.keyUsage", "keyUsage must be critical in a CA certificate");
    if (m < 0 || !(m & (1 << 5)) || !(m & (1 << 6)))
        lint_report(c, "extensions.keyUsage", "keyCertSign and cRLSign must be set in a CA certificate");
}

void lint_subca_eku_1(smime_lint_ctx *c)
{
    if (is_root(c->cert))
        return;
    const smime_x509_ext *e = EXT(c, OID_EKU);
    if (e == NULL)
        lint_report(c, "extensions", "subordinate CA without extKeyUsage (an Extant CA, not SBR-compliant)");
    else if (e->critical)
        lint_report_sev(c, SMIME_SEV_WARNING, "extensions.extKeyUsage", "extKeyUsage should not be critical");
}

void lint_subca_eku_2(smime_lint_ctx *c)
{
    smime_span k[32];
    char t[64];
    if (is_root(c->cert))
        return;
    int n = lint_eku(c->cert, k, 32), email = 0;
    if (n < 0)
        return;
    for (int i = 0; i < n; i++) {
        if (SMIME_OID_EQ(k[i], OID_KP_EMAIL))
            email = 1;
        if (SMIME_OID_EQ(k[i], OID_KP_SERVER) || SMIME_OID_EQ(k[i], OID_KP_CODE)
            || SMIME_OID_EQ(k[i], OID_KP_TS) || SMIME_OID_EQ(k[i], OID_ANY_EKU))
            lint_report(c, "extensions.extKeyUsage", "prohibited key purpose %s in an S/MIME subordinate CA",
                        lint_oid(k[i], t, sizeof t));
    }
    if (!email)
        lint_report(c, "extensions.extKeyUsage", "subordinate CA extKeyUsage lacks id-kp-emailProtection");
}

static int reserved_or_any(const smime_x509 *x, int *any)
{
    const smime_x509_ext *e = SMIME_X509_EXT(x, OID_CP);
    smime_der_tlv seq, pi, oid;
    smime_der_reader r, pr;
    int reserved = 0;
    *any = 0;
    if (e == NULL || smime_der_parse_one(e->value, &seq) != 0)
        return 0;
    smime_der_reader_init(&r, seq.val);
    while (smime_der_next(&r, &pi) == 1) {
        smime_der_reader_init(&pr, pi.val);
        if (smime_der_expect(&pr, SMIME_DER_OID, &oid) != 0)
            continue;
        if (SMIME_OID_EQ(oid.val, OID_ANY_POLICY))
            *any = 1;
        else if (oid.val.len == 7 && memcmp(oid.val.p, OID_SMIME_ARC, 5) == 0
                 && oid.val.p[5] >= 1 && oid.val.p[5] <= 4 && oid.val.p[6] >= 1 && oid.val.p[6] <= 3)
            reserved = 1;
    }
    return reserved;
}

void lint_subca_cp_1(smime_lint_ctx *c)
{
    if (is_root(c->cert))
        return;
    const smime_x509_ext *e = EXT(c, OID_CP);
    if (e == NULL)
        lint_report(c, "extensions", "subordinate CA without certificatePolicies");
    else if (e->critical)
        lint_report_sev(c, SMIME_SEV_WARNING, "extensions.certificatePolicies", "certificatePolicies should not be critical");
}

void lint_subca_cp_2(smime_lint_ctx *c)
{
    int any;
    if (is_root(c->cert) || EXT(c, OID_CP) == NULL)
        return;
    if (reserved_or_any(c->cert, &any))
        return;
    if (any)
        lint_report_sev(c, SMIME_SEV_NOTICE, "extensions.certificatePolicies",
                        "anyPolicy without an SBR reserved OID: acceptable only for an affiliated subordinate CA");
    else
        lint_report(c, "extensions.certificatePolicies", "subordinate CA asserts no SBR reserved policy OID");
}

void lint_subca_aia(smime_lint_ctx *c)
{
    const smime_x509_ext *e = EXT(c, OID_AIA);
    if (is_root(c->cert))
        return;
    if (e == NULL)
        lint_report_sev(c, SMIME_SEV_WARNING, "extensions", "subordinate CA should carry authorityInformationAccess");
    else if (e->critical)
        lint_report(c, "extensions.authorityInformationAccess", "authorityInformationAccess must not be critical");
}

void lint_subca_aki(smime_lint_ctx *c)
{
    smime_span k;
    int has_kid, has_is;
    if (is_root(c->cert))
        return;
    const smime_x509_ext *e = EXT(c, OID_AKI);
    int rc = lint_aki(c->cert, &k, &has_kid, &has_is);
    if (rc == 1)
        lint_report(c, "extensions", "subordinate CA without authorityKeyIdentifier");
    else if (rc < 0 || !has_kid || has_is || (e && e->critical))
        lint_report(c, "extensions.authorityKeyIdentifier",
                    "authorityKeyIdentifier must be non-critical with keyIdentifier only");
}

void lint_subca_ski(smime_lint_ctx *c)
{
    smime_span k;
    const smime_x509_ext *e = EXT(c, OID_SKI);
    int rc = lint_ski(c->cert, &k);
    if (rc == 1)
        lint_report(c, "extensions", "CA certificate without subjectKeyIdentifier");
    else if (rc < 0 || (e && e->critical))
        lint_report(c, "extensions.subjectKeyIdentifier", "subjectKeyIdentifier malformed or critical");
}

void lint_subca_nc(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_NC, "nameConstraints", 1);
}

void lint_subca_subj(smime_lint_ctx *c)
{
    smime_name n;
    if (smime_name_parse(c->cert->subject, &n) != 0) {
        lint_report(c, "subject", "CA subject is malformed");
        return;
    }
    int cn = 0, o = 0, cc = 0;
    for (size_t i = 0; i < n.n; i++) {
        cn |= SMIME_OID_EQ(n.a[i].oid, OID_AT_CN);
        o |= SMIME_OID_EQ(n.a[i].oid, OID_AT_O);
        if (SMIME_OID_EQ(n.a[i].oid, OID_AT_C)) {
            cc = 1;
            if (n.a[i].value.len != 2 || !lint_iso3166(n.a[i].value.p))
                lint_report(c, "subject.countryName", "CA countryName is not an ISO 3166-1 code");
        }
    }
    if (!cn || !o || !cc)
        lint_report(c, "subject", "CA subject must contain commonName, organizationName and countryName");
}

void lint_subca_sig(smime_lint_ctx *c)
{
    if (lint_sig_alg_is_sha1(c->cert->sig_alg))
        lint_report(c, "signatureAlgorithm", "CA certificate signed with SHA-1");
    else if (!lint_sig_alg_allowed(c, c->cert->sig_alg))
        lint_report(c, "signatureAlgorithm", "CA certificate signature algorithm is not one of SBR Appendix A.2");
}

void lint_subca_key(smime_lint_ctx *c)
{
    if (!lint_spki_alg_allowed(c->cert->spki_alg))
        lint_report(c, "subjectPublicKeyInfo", "CA public key algorithm encoding is not allowed by SBR 7.1.3.1");
    size_t bits = lint_rsa_bits(c->cert);
    if (lint_key_kind(c->cert) == LINT_KEY_RSA && (bits < 2048 || bits % 8))
        lint_report(c, "subjectPublicKeyInfo", "CA RSA modulus is %zu bits: at least 2048, divisible by 8", bits);
}

void lint_root_eku(smime_lint_ctx *c)
{
    if (!is_root(c->cert))
        return;
    if (EXT(c, OID_EKU))
        lint_report(c, "extensions.extKeyUsage", "root CA certificate must not contain extKeyUsage");
    if (EXT(c, OID_CP))
        lint_report_sev(c, SMIME_SEV_WARNING, "extensions.certificatePolicies",
                        "root CA certificate should not contain certificatePolicies");
}

void lint_ca_extant_end(smime_lint_ctx *c)
{
    const smime_x509 *is = c->issuer;
    if (is_root(is))
        return;
    smime_span k[32];
    int n = lint_eku(is, k, 32), email = 0, any_eku = 0, any;
    for (int i = 0; i < n; i++) {
        email |= SMIME_OID_EQ(k[i], OID_KP_EMAIL);
        any_eku |= SMIME_OID_EQ(k[i], OID_ANY_EKU);
    }
    int reserved = reserved_or_any(is, &any);
    if (n < 0 || !email || any_eku || !(reserved || any))
        lint_report(c, "tbsCertificate.issuer",
                    "issued on/after 2024-09-15 by a subordinate CA that is not SBR-compliant (needs EKU with emailProtection, no anyEKU, SBR policy OIDs): an Extant S/MIME CA may no longer issue");
}

void lint_ca_rsa_4096(smime_lint_ctx *c)
{
    size_t bits = lint_rsa_bits(c->cert);
    if (lint_key_kind(c->cert) == LINT_KEY_RSA && bits < 4096)
        lint_report(c, "subjectPublicKeyInfo", "CA certificate from 2026-09-15 with a %zu-bit RSA key: at least 4096 required", bits);
}

void lint_ca_rsa_3072_issue(smime_lint_ctx *c)
{
    size_t bits = lint_rsa_bits(c->issuer);
    if (lint_key_kind(c->issuer) == LINT_KEY_RSA && bits < 3072 && (c->res->scope & SMIME_SCOPE_IN_SBR))
        lint_report(c, "tbsCertificate.issuer",
                    "issued from 2027-09-15 by a subordinate CA with a %zu-bit RSA key: at least 3072 required", bits);
}

void lint_ca_sha1(smime_lint_ctx *c)
{
    if (lint_sig_alg_is_sha1(c->cert->sig_alg) && c->opt->now >= T_2026_05_05)
        lint_report(c, "signatureAlgorithm",
                    "SHA-1-signed CA certificate in the chain: from 2026-05-05 it must have been revoked");
}

void lint_sig_04(smime_lint_ctx *c)
{
    /* Verify the signature over the TBSCertificate bytes directly with the issuer's
     * key: GnuTLS's chain verification would first match AKI and SKI and report a
     * mismatch there as "signer not found", hiding a bad signature. */
    if (c->opt->no_signature_check)
        return;
    gnutls_x509_crt_t leaf = NULL, issuer = NULL;
    gnutls_pubkey_t key = NULL;
    gnutls_datum_t d1 = { (unsigned char *)c->cert->der.p, (unsigned)c->cert->der.len };
    gnutls_datum_t d2 = { (unsigned char *)c->issuer->der.p, (unsigned)c->issuer->der.len };
    smime_span sig = c->cert->sig_value;
    int algo;
    if (sig.len < 2 || sig.p[0] != 0
        || gnutls_x509_crt_init(&leaf) < 0 || gnutls_x509_crt_init(&issuer) < 0 || gnutls_pubkey_init(&key) < 0
        || gnutls_x509_crt_import(leaf, &d1, GNUTLS_X509_FMT_DER) < 0
        || gnutls_x509_crt_import(issuer, &d2, GNUTLS_X509_FMT_DER) < 0
        || gnutls_pubkey_import_x509(key, issuer, 0) < 0
        || (algo = gnutls_x509_crt_get_signature_algorithm(leaf)) < 0 || algo == GNUTLS_SIGN_UNKNOWN) {
        lint_report_sev(c, SMIME_SEV_NOTICE, "signature", "signature not checked: GnuTLS cannot read the certificates or the algorithm");
        c->res->issuer_signature = SMIME_ISSUER_SIG_UNCHECKABLE;
        goto out;
    }
    gnutls_datum_t tbs = { (unsigned char *)c->cert->tbs.p, (unsigned)c->cert->tbs.len };
    gnutls_datum_t sd = { (unsigned char *)sig.p + 1, (unsigned)(sig.len - 1) };
    if (gnutls_pubkey_verify_data2(key, (gnutls_sign_algorithm_t)algo, GNUTLS_VERIFY_ALLOW_BROKEN, &tbs, &sd) < 0) {
        lint_report(c, "signature", "the signature does not verify with the issuer certificate's key");
        c->res->issuer_signature = SMIME_ISSUER_SIG_FAILED;
    } else {
        c->res->issuer_signature = SMIME_ISSUER_SIG_VERIFIED;
    }
out:
    if (key)
        gnutls_pubkey_deinit(key);
    if (leaf)
        gnutls_x509_crt_deinit(leaf);
    if (issuer)
        gnutls_x509_crt_deinit(issuer);
}
