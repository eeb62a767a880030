/* fields - classification lints, certificate fields (§3 of REQUIREMENTS) and
 * the subject public key (§4). */
#include <stdio.h>
#include <string.h>
#include "smime/lint/rule.h"

#define SPANLIT(lit) ((smime_span){ (const uint8_t *)(lit), sizeof(lit) - 1 })

static int span_eq(smime_span a, smime_span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ---- classification (§2) ---- */

void lint_gen_der(smime_lint_ctx *c)
{
    (void)c;   /* reported by the engine when decoding fails */
}

void lint_cls_scope(smime_lint_ctx *c)
{
    unsigned s = c->res->scope;
    if (s & SMIME_SCOPE_IN_SBR)
        return;
    lint_report(c, "extensions", "not an S/MIME Certificate of SBR 1.1: %s%s%s%s",
                (s & SMIME_SCOPE_EKU_EMAIL) ? "" : "no id-kp-emailProtection in extKeyUsage",
                (s & SMIME_SCOPE_EKU_EMAIL) || (s & SMIME_SCOPE_SAN_MAILBOX) ? "" : " and ",
                (s & SMIME_SCOPE_SAN_MAILBOX) ? "" : "no rfc822Name or SmtpUTF8Mailbox in subjectAltName",
                (s & SMIME_SCOPE_ASSERTED)
                    ? "; it asserts an SBR policy OID, so it is linted in full (CLS-ASSERTED)"
                    : (s & SMIME_SCOPE_FORCED) ? "; linted as the forced profile"
                                               : "; out of SBR scope, SBR lints skipped");
}

void lint_cls_date(smime_lint_ctx *c)
{
    if (c->cert->not_before >= T_2023_09_01)
        return;
    const char *how = c->opt->all_dates ? "linted anyway (--all-dates)"
                      : (c->res->scope & SMIME_SCOPE_ASSERTED)
                          ? "it asserts an SBR policy OID, so it is linted and its findings are marked pre-SBR"
                          : "SBR lints skipped";
    lint_report(c, "tbsCertificate.validity.notBefore",
                "pre-SBR certificate (notBefore before 2023-09-01); %s", how);
}

static void expected_oid_text(const smime_lint_ctx *c, char *out, size_t n)
{
    snprintf(out, n, "2.23.140.1.5.%d.%d", (int)c->type, (int)c->gen);
}

void lint_cls_none(smime_lint_ctx *c)
{
    if (c->n_reserved != 0)
        return;
    char want[32];
    expected_oid_text(c, want, sizeof want);
    if (c->guessed)
        lint_report(c, "extensions.certificatePolicies",
                    "no SBR reserved policy OID; type guessed as %s (legacy assumed): add exactly one reserved OID",
                    smime_lint_type_name(c->type));
    else
        lint_report(c, "extensions.certificatePolicies",
                    "required policy OID %s is missing: the certificate carries no SBR reserved policy OID", want);
}

void lint_cls_exactly_one(smime_lint_ctx *c)
{
    /* Only meaningful when the profile is forced and the certificate asserts a
     * different single reserved OID. */
    if (c->n_reserved != 1 || !(c->res->scope & SMIME_SCOPE_FORCED))
        return;
    if (c->reserved[0].p[5] == (uint8_t)c->type && c->reserved[0].p[6] == (uint8_t)c->gen)
        return;
    char want[32], have[64];
    expected_oid_text(c, want, sizeof want);
    lint_report(c, "extensions.certificatePolicies",
                "required policy OID %s is missing (the certificate asserts %s)", want,
                lint_oid(c->reserved[0], have, sizeof have));
}

void lint_cls_multi(smime_lint_ctx *c)
{
    if (c->n_reserved < 2)
        return;
    char a[64], b[64];
    lint_report(c, "extensions.certificatePolicies",
                "%zu SBR reserved policy OIDs (%s, %s%s): exactly one is allowed; linted as the first",
                c->n_reserved, lint_oid(c->reserved[0], a, sizeof a),
                lint_oid(c->reserved[1], b, sizeof b), c->n_reserved > 2 ? ", ..." : "");
}

void lint_cls_unknown_arc(smime_lint_ctx *c)
{
    char t[64];
    for (size_t i = 0; i < c->n_unknown_arc; i++)
        lint_report(c, "extensions.certificatePolicies",
                    "policy OID %s is under the SBR arc 2.23.140.1.5 but is not one of the 12 reserved OIDs",
                    lint_oid(c->unknown_arc[i], t, sizeof t));
}

void lint_cls_legacy_sunset(smime_lint_ctx *c)
{
    if (c->gen == SMIME_GEN_LEGACY)
        lint_report(c, "tbsCertificate.validity.notBefore",
                    "Legacy generation certificate issued on or after 2025-07-15 (Legacy sunset): use Multipurpose or Strict");
}

void lint_cls_anypolicy(smime_lint_ctx *c)
{
    if (c->any_policy)
        lint_report(c, "extensions.certificatePolicies",
                    "anyPolicy (2.5.29.32.0) in a subscriber certificate: assert the SBR reserved OID instead");
}

/* ---- §3 fields ---- */

void lint_ver_01(smime_lint_ctx *c)
{
    if (c->cert->version != 3)
        lint_report(c, "tbsCertificate.version", "version is v%d: must be v3 (INTEGER 2)", c->cert->version);
    else if (c->cert->version_default_encoded)
        lint_report(c, "tbsCertificate.version", "version v1 DEFAULT encoded explicitly (not DER)");
}

void lint_ser_01(smime_lint_ctx *c)
{
    int s = smime_der_int_sign(c->cert->serial);
    if (s <= 0)
        lint_report(c, "tbsCertificate.serialNumber", "serialNumber is %s: must be positive",
                    s == 0 ? "zero" : "negative");
    else if (!smime_der_int_minimal(c->cert->serial))
        lint_report(c, "tbsCertificate.serialNumber", "serialNumber INTEGER is not minimally encoded");
}

void lint_ser_02(smime_lint_ctx *c)
{
    if (c->cert->serial.len > 20)
        lint_report(c, "tbsCertificate.serialNumber",
                    "serialNumber is %zu octets: at most 20 octets (< 2^159) allowed", c->cert->serial.len);
}

void lint_ser_03(smime_lint_ctx *c)
{
    size_t bits = smime_der_int_bits(c->cert->serial);
    if (bits < 64)
        lint_report(c, "tbsCertificate.serialNumber",
                    "serialNumber has only %zu significant bits: SBR requires >= 64 bits of CSPRNG output%s",
                    bits, bits <= 32 ? " (looks sequential)" : "");
}

void lint_sig_01(smime_lint_ctx *c)
{
    if (!span_eq(c->cert->sig_alg, c->cert->tbs_sig_alg))
        lint_report(c, "signatureAlgorithm",
                    "Certificate.signatureAlgorithm differs from tbsCertificate.signature");
}

static const smime_span *allowed_sig_algs(size_t *n);

static int sig_alg_allowed(const smime_lint_ctx *c, smime_span alg)
{
    size_t n;
    const smime_span *a = allowed_sig_algs(&n);
    for (size_t i = 0; i < n; i++)
        if (span_eq(a[i], alg))
            return i < 11 || lint_after(c, T_2025_08_22) ? 1 : 2;
    return 0;
}

/* ---- readable algorithm names ---- */

typedef struct alg_name { const char *oid; size_t len; const char *name; } alg_name;
#define ALG(lit, name) { (lit), sizeof(lit) - 1, (name) }

static const alg_name alg_names[] = {
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01", "rsaEncryption"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04", "md5WithRSAEncryption"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05", "sha1WithRSAEncryption"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a", "RSASSA-PSS"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", "sha256WithRSAEncryption"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c", "sha384WithRSAEncryption"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d", "sha512WithRSAEncryption"),
    ALG("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0e", "sha224WithRSAEncryption"),
    ALG("\x2a\x86\x48\xce\x3d\x02\x01", "id-ecPublicKey"),
    ALG("\x2a\x86\x48\xce\x3d\x04\x01", "ecdsa-with-SHA1"),
    ALG("\x2a\x86\x48\xce\x3d\x04\x03\x01", "ecdsa-with-SHA224"),
    ALG("\x2a\x86\x48\xce\x3d\x04\x03\x02", "ecdsa-with-SHA256"),
    ALG("\x2a\x86\x48\xce\x3d\x04\x03\x03", "ecdsa-with-SHA384"),
    ALG("\x2a\x86\x48\xce\x3d\x04\x03\x04", "ecdsa-with-SHA512"),
    ALG("\x2a\x86\x48\xce\x38\x04\x01", "id-dsa"),
    ALG("\x2a\x86\x48\xce\x3e\x02\x01", "dhpublicnumber"),
    ALG("\x2b\x65\x6e", "X25519"),
    ALG("\x2b\x65\x6f", "X448"),
    ALG("\x2b\x65\x70", "Ed25519"),
    ALG("\x2b\x65\x71", "Ed448"),
    ALG(OID_MLDSA44, "ML-DSA-44"),
    ALG(OID_MLDSA65, "ML-DSA-65"),
    ALG(OID_MLDSA87, "ML-DSA-87"),
    ALG(OID_MLKEM512, "ML-KEM-512"),
    ALG(OID_MLKEM768, "ML-KEM-768"),
    ALG(OID_MLKEM1024, "ML-KEM-1024"),
    ALG("\x2a\x85\x03\x07\x01\x01\x01\x01", "GOST R 34.10-2012 (256-bit key)"),
    ALG("\x2a\x85\x03\x07\x01\x01\x01\x02", "GOST R 34.10-2012 (512-bit key)"),
    ALG("\x2a\x85\x03\x02\x02\x13", "GOST R 34.10-2001"),
    /* named curves and hashes (parameters) */
    ALG("\x2a\x86\x48\xce\x3d\x03\x01\x07", "P-256"),
    ALG("\x2b\x81\x04\x00\x22", "P-384"),
    ALG("\x2b\x81\x04\x00\x23", "P-521"),
    ALG("\x2b\x81\x04\x00\x21", "P-224"),
    ALG("\x2b\x81\x04\x00\x0a", "secp256k1"),
    ALG("\x2a\x86\x48\xce\x3d\x03\x01\x01", "P-192"),
    ALG("\x2b\x24\x03\x03\x02\x08\x01\x01\x07", "brainpoolP256r1"),
    ALG("\x2b\x24\x03\x03\x02\x08\x01\x01\x0b", "brainpoolP384r1"),
    ALG("\x2b\x24\x03\x03\x02\x08\x01\x01\x0d", "brainpoolP512r1"),
    ALG("\x60\x86\x48\x01\x65\x03\x04\x02\x01", "SHA-256"),
    ALG("\x60\x86\x48\x01\x65\x03\x04\x02\x02", "SHA-384"),
    ALG("\x60\x86\x48\x01\x65\x03\x04\x02\x03", "SHA-512"),
    ALG("\x2b\x0e\x03\x02\x1a", "SHA-1"),
};

/* The name of an OID, or its dotted text. */
static const char *oid_name(smime_span oid, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof(alg_names) / sizeof(alg_names[0]); i++)
        if (smime_der_oid_eq(oid, alg_names[i].oid, alg_names[i].len))
            return alg_names[i].name;
    return lint_oid(oid, buf, n);
}

const char *smime_lint_alg_name(smime_span alg, char *out, size_t outsz)
{
    smime_der_tlv seq, oid, params;
    smime_der_reader r;
    char b1[64], b2[64];
    if (outsz == 0)
        return out;
    if (smime_der_parse_one(alg, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE) {
        snprintf(out, outsz, "(malformed AlgorithmIdentifier)");
        return out;
    }
    smime_der_reader_init(&r, seq.val);
    if (smime_der_expect(&r, SMIME_DER_OID, &oid) != 0) {
        snprintf(out, outsz, "(malformed AlgorithmIdentifier)");
        return out;
    }
    const char *name = oid_name(oid.val, b1, sizeof b1);
    int has_params = smime_der_next(&r, &params) == 1;
    const char *extra = smime_der_at_end(&r) ? "" : ", trailing data";
    if (!has_params)
        snprintf(out, outsz, "%s (no parameters%s)", name, extra);
    else if (params.tag == SMIME_DER_NULL)
        snprintf(out, outsz, "%s (NULL parameters%s)", name, extra);
    else if (params.tag == SMIME_DER_OID)
        snprintf(out, outsz, "%s (%s%s)", name, oid_name(params.val, b2, sizeof b2), extra);
    else
        snprintf(out, outsz, "%s (%s parameters%s)", name,
                 params.tag == SMIME_DER_SEQUENCE ? "structured" : "other", extra);
    return out;
}

void lint_sig_02(smime_lint_ctx *c)
{
    int ok = sig_alg_allowed(c, c->cert->sig_alg);
    char h[160];
    smime_lint_alg_name(c->cert->sig_alg, h, sizeof h);
    if (ok == 0)
        lint_report(c, "signatureAlgorithm",
                    "signature algorithm %s is not one of the encodings allowed by SBR 7.1.3.2", h);
    else if (ok == 2)
        lint_report(c, "signatureAlgorithm", "ML-DSA signature before 2025-08-22 (SBR v1.0.11)");
}

static const smime_span *allowed_sig_algs(size_t *n)
{
    static const smime_span algs[] = {
        SPANLIT("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00"),
        SPANLIT("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c\x05\x00"),
        SPANLIT("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d\x05\x00"),
        SPANLIT("\x30\x41\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a\x30\x34\xa0\x0f\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\xa1\x1c\x30\x1a\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\xa2\x03\x02\x01\x20"),
        SPANLIT("\x30\x41\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a\x30\x34\xa0\x0f\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02\x05\x00\xa1\x1c\x30\x1a\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x02\x05\x00\xa2\x03\x02\x01\x30"),
        SPANLIT("\x30\x41\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a\x30\x34\xa0\x0f\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03\x05\x00\xa1\x1c\x30\x1a\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x03\x05\x00\xa2\x03\x02\x01\x40"),
        SPANLIT("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"),
        SPANLIT("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03"),
        SPANLIT("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x04"),
        SPANLIT("\x30\x05\x06\x03\x2b\x65\x70"),
        SPANLIT("\x30\x05\x06\x03\x2b\x65\x71"),
        /* from index 11: ML-DSA (>= 2025-08-22) */
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x11"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x12"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x13"),
    };
    *n = sizeof(algs) / sizeof(algs[0]);
    return algs;
}

/* The key family of a SubjectPublicKeyInfo, by algorithm OID. */
enum key_kind { KEY_OTHER, KEY_RSA, KEY_EC, KEY_ED25519, KEY_ED448, KEY_MLDSA, KEY_MLKEM };

static enum key_kind key_kind(const smime_x509 *x)
{
    smime_span o = x->spki_alg_oid;
    if (SMIME_OID_EQ(o, OID_RSA)) return KEY_RSA;
    if (SMIME_OID_EQ(o, OID_EC)) return KEY_EC;
    if (SMIME_OID_EQ(o, OID_ED25519)) return KEY_ED25519;
    if (SMIME_OID_EQ(o, OID_ED448)) return KEY_ED448;
    if (SMIME_OID_EQ(o, OID_MLDSA44) || SMIME_OID_EQ(o, OID_MLDSA65) || SMIME_OID_EQ(o, OID_MLDSA87))
        return KEY_MLDSA;
    if (SMIME_OID_EQ(o, OID_MLKEM512) || SMIME_OID_EQ(o, OID_MLKEM768) || SMIME_OID_EQ(o, OID_MLKEM1024))
        return KEY_MLKEM;
    return KEY_OTHER;
}

/* 256, 384, 521 for the named curves, 0 otherwise. */
static int ec_curve(const smime_x509 *x)
{
    if (x->spki_params.len == 0)
        return 0;
    smime_der_tlv p;
    if (smime_der_parse_one(x->spki_params, &p) != 0 || p.tag != SMIME_DER_OID)
        return 0;
    if (SMIME_OID_EQ(p.val, "\x2a\x86\x48\xce\x3d\x03\x01\x07")) return 256;
    if (SMIME_OID_EQ(p.val, "\x2b\x81\x04\x00\x22")) return 384;
    if (SMIME_OID_EQ(p.val, "\x2b\x81\x04\x00\x23")) return 521;
    return 0;
}

void lint_sig_03(smime_lint_ctx *c)
{
    const smime_x509 *is = c->issuer;
    smime_span a = c->cert->sig_alg;
    char h[160];
    smime_lint_alg_name(a, h, sizeof h);
    const char *want = NULL;
    switch (key_kind(is)) {
    case KEY_EC: {
        int curve = ec_curve(is);
        static const char *const ec_sig[] = { "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02",
            "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03", "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x04" };
        int k = curve == 256 ? 0 : curve == 384 ? 1 : curve == 521 ? 2 : -1;
        if (k >= 0 && !(a.len == 12 && memcmp(a.p, ec_sig[k], 12) == 0))
            want = k == 0 ? "ecdsa-with-SHA256 (P-256 issuer)" : k == 1 ? "ecdsa-with-SHA384 (P-384 issuer)"
                                                                 : "ecdsa-with-SHA512 (P-521 issuer)";
        break;
    }
    case KEY_ED25519:
        if (!span_eq(a, SPANLIT("\x30\x05\x06\x03\x2b\x65\x70"))) want = "id-Ed25519";
        break;
    case KEY_ED448:
        if (!span_eq(a, SPANLIT("\x30\x05\x06\x03\x2b\x65\x71"))) want = "id-Ed448";
        break;
    case KEY_RSA: {
        size_t n;
        const smime_span *al = allowed_sig_algs(&n);
        int ok = 0;
        for (int i = 0; i < 6; i++)
            ok |= span_eq(al[i], a);
        if (!ok) want = "an RSA PKCS#1 v1.5 or RSASSA-PSS encoding (RSA issuer)";
        break;
    }
    case KEY_MLDSA: {
        smime_der_tlv t;
        smime_der_reader r;
        smime_der_reader_init(&r, (smime_span){ a.p + 2, a.len >= 2 ? a.len - 2 : 0 });
        if (a.len < 2 || smime_der_expect(&r, SMIME_DER_OID, &t) != 0 || !span_eq(t.val, is->spki_alg_oid))
            want = "the ML-DSA parameter set of the issuer key";
        break;
    }
    default:
        break;
    }
    if (want)
        lint_report(c, "signatureAlgorithm", "signature algorithm %s does not match the issuer key: expected %s", h, want);
}

void lint_val_01(smime_lint_ctx *c)
{
    if (c->cert->not_after < c->cert->not_before)
        lint_report(c, "tbsCertificate.validity", "notAfter is before notBefore");
}

static int64_t max_validity(const smime_lint_ctx *c)
{
    /* (days * 86400) - 1: the period is inclusive of both ends (§6.3.2). */
    return c->gen == SMIME_GEN_LEGACY ? 102383999LL : 71279999LL;
}

void lint_val_02(smime_lint_ctx *c)
{
    int64_t d = c->cert->not_after - c->cert->not_before;
    if (d > max_validity(c)) {
        int64_t p = d + 1;
        lint_report(c, "tbsCertificate.validity",
                    "validity period %lld days %lld s exceeds the %s maximum of %d days",
                    (long long)(p / 86400), (long long)(p % 86400),
                    smime_lint_gen_name(c->gen), c->gen == SMIME_GEN_LEGACY ? 1185 : 825);
    }
}

void lint_val_03(smime_lint_ctx *c)
{
    int64_t d = c->cert->not_after - c->cert->not_before;
    if (d == max_validity(c))
        lint_report(c, "tbsCertificate.validity",
                    "validity period is exactly the %d-day maximum: SBR advises a shorter period",
                    c->gen == SMIME_GEN_LEGACY ? 1185 : 825);
}

static void check_time_form(smime_lint_ctx *c, const char *field, unsigned tag, smime_span raw,
                            int64_t t, int form)
{
    int gen_needed = t >= 2524608000LL;   /* 2050-01-01 */
    if (form != 0)
        lint_report(c, field, "time is not in the RFC 5280 form (YYMMDDHHMMSSZ / YYYYMMDDHHMMSSZ)");
    else if (tag == SMIME_DER_UTC_TIME && raw.len != 13)
        lint_report(c, field, "UTCTime must be YYMMDDHHMMSSZ");
    else if (tag == SMIME_DER_GENERALIZED_TIME && raw.len != 15)
        lint_report(c, field, "GeneralizedTime must be YYYYMMDDHHMMSSZ");
    if (gen_needed && tag == SMIME_DER_UTC_TIME)
        lint_report(c, field, "date in 2050 or later must be GeneralizedTime");
    if (!gen_needed && tag == SMIME_DER_GENERALIZED_TIME)
        lint_report(c, field, "date before 2050 must be UTCTime");
}

void lint_val_04(smime_lint_ctx *c)
{
    const smime_x509 *x = c->cert;
    check_time_form(c, "tbsCertificate.validity.notBefore", x->not_before_tag, x->not_before_raw,
                    x->not_before, x->not_before_form);
    check_time_form(c, "tbsCertificate.validity.notAfter", x->not_after_tag, x->not_after_raw,
                    x->not_after, x->not_after_form);
}

void lint_nam_01(smime_lint_ctx *c)
{
    if (!span_eq(c->cert->issuer, c->issuer->subject))
        lint_report(c, "tbsCertificate.issuer",
                    "issuer Name is not byte-identical to the issuing CA certificate's subject");
}

void lint_uid_01(smime_lint_ctx *c)
{
    if (c->cert->has_issuer_uid)
        lint_report(c, "tbsCertificate.issuerUniqueID", "issuerUniqueID must be absent");
    if (c->cert->has_subject_uid)
        lint_report(c, "tbsCertificate.subjectUniqueID", "subjectUniqueID must be absent");
}

void lint_ext_uniq(smime_lint_ctx *c)
{
    const smime_x509 *x = c->cert;
    char t[64];
    for (size_t i = 0; i < x->next; i++)
        for (size_t k = 0; k < i; k++)
            if (span_eq(x->ext[i].oid, x->ext[k].oid)) {
                lint_report(c, "extensions", "extension %s appears more than once",
                            lint_oid(x->ext[i].oid, t, sizeof t));
                break;
            }
}

static int known_leaf_ext(smime_span o)
{
#define K(lit) { lit, sizeof(lit) - 1 }
    static const struct { const char *der; size_t len; } known[] = {
        K(OID_CP), K(OID_CRLDP), K(OID_AIA), K(OID_BC), K(OID_KU), K(OID_EKU), K(OID_AKI),
        K(OID_SKI), K(OID_SAN), K(OID_SMIMECAPS), K(OID_SDA), K(OID_QC), K(OID_LEI),
        K(OID_LEI_ROLE), K(OID_ADOBE_TS), K(OID_ADOBE_ARI),
    };
#undef K
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (smime_der_oid_eq(o, known[i].der, known[i].len))
            return 1;
    return 0;
}

void lint_ext_other(smime_lint_ctx *c)
{
    const smime_x509 *x = c->cert;
    char t[64];
    for (size_t i = 0; i < x->next; i++) {
        if (known_leaf_ext(x->ext[i].oid))
            continue;
        lint_oid(x->ext[i].oid, t, sizeof t);
        if (x->ext[i].critical)
            lint_report_sev(c, SMIME_SEV_ERROR, "extensions",
                            "unrecognized extension %s is critical: relying parties must reject the certificate", t);
        else
            lint_report(c, "extensions", "extension %s is not specified by SBR 7.1.2.3: the CA needs a documented reason", t);
    }
}

/* ---- §4 subject public key ---- */

static const smime_span *allowed_spki(size_t *n)
{
    static const smime_span a[] = {
        SPANLIT("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00"),
        SPANLIT("\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07"),
        SPANLIT("\x30\x10\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x05\x2b\x81\x04\x00\x22"),
        SPANLIT("\x30\x10\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x05\x2b\x81\x04\x00\x23"),
        SPANLIT("\x30\x05\x06\x03\x2b\x65\x70"),
        SPANLIT("\x30\x05\x06\x03\x2b\x65\x71"),
        /* from index 6: ML-DSA and ML-KEM (>= 2025-08-22) */
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x11"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x12"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x03\x13"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x04\x01"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x04\x02"),
        SPANLIT("\x30\x0b\x06\x09\x60\x86\x48\x01\x65\x03\x04\x04\x03"),
    };
    *n = sizeof(a) / sizeof(a[0]);
    return a;
}

void lint_spki_01(smime_lint_ctx *c)
{
    size_t n;
    const smime_span *a = allowed_spki(&n);
    char h[160];
    smime_lint_alg_name(c->cert->spki_alg, h, sizeof h);
    for (size_t i = 0; i < n; i++)
        if (span_eq(a[i], c->cert->spki_alg)) {
            if (i >= 6 && !lint_after(c, T_2025_08_22))
                lint_report(c, "subjectPublicKeyInfo.algorithm",
                            "ML-DSA/ML-KEM key before 2025-08-22 (SBR v1.0.11): algorithm not permitted");
            return;
        }
    lint_report(c, "subjectPublicKeyInfo.algorithm",
                "public key algorithm %s is not one of the encodings allowed by SBR 7.1.3.1", h);
}

/* RSAPublicKey { modulus, publicExponent } inside the BIT STRING. */
static int rsa_parts(const smime_x509 *x, smime_span *mod, smime_span *exp)
{
    smime_der_tlv seq, m, e;
    smime_der_reader r;
    if (key_kind(x) != KEY_RSA || !x->spki_key_ok
        || smime_der_parse_one(x->spki_key, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, seq.val);
    if (smime_der_expect(&r, SMIME_DER_INTEGER, &m) != 0 || smime_der_expect(&r, SMIME_DER_INTEGER, &e) != 0
        || !smime_der_at_end(&r) || m.val.len == 0 || e.val.len == 0)
        return -1;
    *mod = m.val;
    *exp = e.val;
    return 0;
}

static int rsa_or_report(smime_lint_ctx *c, smime_span *mod, smime_span *exp)
{
    if (key_kind(c->cert) != KEY_RSA)
        return -1;
    if (rsa_parts(c->cert, mod, exp) != 0) {
        lint_report_sev(c, SMIME_SEV_ERROR, "subjectPublicKeyInfo.subjectPublicKey",
                        "RSA public key is not a valid RSAPublicKey");
        return -1;
    }
    return 0;
}

size_t lint_rsa_bits(const smime_x509 *x)
{
    smime_span m, e;
    return rsa_parts(x, &m, &e) == 0 ? smime_der_int_bits(m) : 0;
}

void lint_spki_rsa_1(smime_lint_ctx *c)
{
    smime_span m, e;
    if (rsa_or_report(c, &m, &e) == 0 && smime_der_int_bits(m) < 2048)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "RSA modulus is %zu bits: at least 2048 required",
                    smime_der_int_bits(m));
}

void lint_spki_rsa_2(smime_lint_ctx *c)
{
    smime_span m, e;
    if (rsa_parts(c->cert, &m, &e) == 0 && smime_der_int_bits(m) % 8)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "RSA modulus size %zu bits is not divisible by 8",
                    smime_der_int_bits(m));
}

void lint_spki_rsa_3(smime_lint_ctx *c)
{
    smime_span m, e;
    if (rsa_parts(c->cert, &m, &e) != 0)
        return;
    if (smime_der_int_sign(e) <= 0 || !(e.p[e.len - 1] & 1) || smime_der_int_bits(e) < 2)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "RSA public exponent must be odd and >= 3");
}

void lint_spki_rsa_4(smime_lint_ctx *c)
{
    smime_span m, e;
    if (rsa_parts(c->cert, &m, &e) != 0 || smime_der_int_sign(e) <= 0)
        return;
    size_t bits = smime_der_int_bits(e);
    int64_t v = 0;
    if (bits > 256 || (smime_der_int_i64(e, &v) == 0 && v < 65537))
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey",
                    "RSA public exponent should be in [2^16+1, 2^256-1]");
}

void lint_spki_rsa_5(smime_lint_ctx *c)
{
    smime_span m, e;
    if (rsa_parts(c->cert, &m, &e) != 0 || smime_der_int_sign(m) <= 0)
        return;
    if (!(m.p[m.len - 1] & 1)) {
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "RSA modulus is even");
        return;
    }
    /* Trial division by the odd primes up to 751, batched: the modulus is reduced
     * modulo a product of primes below 2^32, four octets at a time, and the small
     * remainder is then tested against each prime of the batch. */
    static const uint16_t primes[] = { 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307, 311, 313, 317, 331, 337, 347, 349, 353, 359, 367, 373, 379, 383, 389, 397, 401, 409, 419, 421, 431, 433, 439, 443, 449, 457, 461, 463, 467, 479, 487, 491, 499, 503, 509, 521, 523, 541, 547, 557, 563, 569, 571, 577, 587, 593, 599, 601, 607, 613, 617, 619, 631, 641, 643, 647, 653, 659, 661, 673, 677, 683, 691, 701, 709, 719, 727, 733, 739, 743, 751 };
    size_t np = sizeof(primes) / sizeof(primes[0]);
    for (size_t i = 0; i < np;) {
        uint64_t prod = 1;
        size_t j = i;
        while (j < np && prod * primes[j] < (1ull << 32))
            prod *= primes[j++];
        uint64_t rem = 0;
        size_t k = 0, lead = m.len % 4;
        for (; k < lead; k++)
            rem = ((rem << 8) | m.p[k]) % prod;
        for (; k < m.len; k += 4)
            rem = ((rem << 32) | ((uint64_t)m.p[k] << 24 | (uint64_t)m.p[k + 1] << 16
                                  | (uint64_t)m.p[k + 2] << 8 | m.p[k + 3])) % prod;
        for (; i < j; i++)
            if (rem % primes[i] == 0) {
                lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "RSA modulus has the small prime factor %u",
                            (unsigned)primes[i]);
                return;
            }
    }
}

void lint_spki_ec_1(smime_lint_ctx *c)
{
    if (key_kind(c->cert) == KEY_EC && ec_curve(c->cert) == 0)
        lint_report(c, "subjectPublicKeyInfo.algorithm.parameters",
                    "EC key must use namedCurve P-256, P-384 or P-521");
}

void lint_spki_ec_2(smime_lint_ctx *c)
{
    const smime_x509 *x = c->cert;
    int curve = key_kind(x) == KEY_EC ? ec_curve(x) : 0;
    if (curve == 0)
        return;
    size_t flen = (size_t)(curve + 7) / 8;
    if (!x->spki_key_ok || x->spki_key.len != 1 + 2 * flen || x->spki_key.p[0] != 0x04)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey",
                    "EC public key is not an uncompressed P-%d point (04 || X || Y, %zu octets)", curve, 1 + 2 * flen);
}

void lint_spki_ed_1(smime_lint_ctx *c)
{
    enum key_kind k = key_kind(c->cert);
    if (k != KEY_ED25519 && k != KEY_ED448)
        return;
    size_t want = k == KEY_ED25519 ? 32 : 57;
    if (!c->cert->spki_key_ok || c->cert->spki_key.len != want)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "%s public key must be %zu octets",
                    k == KEY_ED25519 ? "Ed25519" : "Ed448", want);
}

void lint_spki_mldsa_1(smime_lint_ctx *c)
{
    smime_span o = c->cert->spki_alg_oid;
    if (key_kind(c->cert) != KEY_MLDSA)
        return;
    size_t want = SMIME_OID_EQ(o, OID_MLDSA44) ? 1312 : SMIME_OID_EQ(o, OID_MLDSA65) ? 1952 : 2592;
    if (!c->cert->spki_key_ok || c->cert->spki_key.len != want)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "ML-DSA public key is %zu octets: expected %zu",
                    c->cert->spki_key.len, want);
}

void lint_spki_mlkem_1(smime_lint_ctx *c)
{
    smime_span o = c->cert->spki_alg_oid;
    if (key_kind(c->cert) != KEY_MLKEM)
        return;
    size_t want = SMIME_OID_EQ(o, OID_MLKEM512) ? 800 : SMIME_OID_EQ(o, OID_MLKEM768) ? 1184 : 1568;
    if (!c->cert->spki_key_ok || c->cert->spki_key.len != want)
        lint_report(c, "subjectPublicKeyInfo.subjectPublicKey", "ML-KEM public key is %zu octets: expected %zu",
                    c->cert->spki_key.len, want);
}

void lint_spki_overlay(smime_lint_ctx *c)
{
    if (key_kind(c->cert) == KEY_EC && ec_curve(c->cert) == 521)
        lint_report(c, "subjectPublicKeyInfo", "P-521 key: allowed by the SBR but not by Mozilla's root policy");
    size_t bits = lint_rsa_bits(c->cert);
    if (bits && bits != 2048 && bits != 3072 && bits != 4096)
        lint_report(c, "subjectPublicKeyInfo", "RSA %zu-bit key: some clients (Gmail) accept only 2048/3072/4096", bits);
}

/* Shared with the KU and CA lints. */
int lint_key_kind(const smime_x509 *x)
{
    return (int)key_kind(x);
}
int lint_ec_curve(const smime_x509 *x)
{
    return ec_curve(x);
}
int lint_sig_alg_is_sha1(smime_span alg)
{
    /* sha1WithRSAEncryption and ecdsa-with-SHA1 */
    return span_eq(alg, SPANLIT("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05\x05\x00"))
        || span_eq(alg, SPANLIT("\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"))
        || span_eq(alg, SPANLIT("\x30\x09\x06\x07\x2a\x86\x48\xce\x3d\x04\x01"));
}
int lint_sig_alg_allowed(const smime_lint_ctx *c, smime_span alg)
{
    return sig_alg_allowed(c, alg) == 1;
}
int lint_spki_alg_allowed(smime_span alg)
{
    size_t n;
    const smime_span *a = allowed_spki(&n);
    for (size_t i = 0; i < n; i++)
        if (span_eq(a[i], alg))
            return 1;
    return 0;
}
