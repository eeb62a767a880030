/* ext - subscriber certificate extensions (§5 of REQUIREMENTS, SBR 7.1.2.3). */
#include <stdio.h>
#include <string.h>
#include <gnutls/crypto.h>
#include "smime/lint/rule.h"
#include "smime/util/text.h"

#define EXT(c, lit) SMIME_X509_EXT((c)->cert, lit)

/* Parses an extension value that must be one SEQUENCE; reports malformed values
 * under the current entry.  0 ok (content in *seq), -1 malformed or absent. */
static int ext_seq(smime_lint_ctx *c, const smime_x509_ext *e, const char *name, smime_span *seq)
{
    smime_der_tlv t;
    if (e == NULL)
        return -1;
    if (smime_der_parse_one(e->value, &t) != 0 || t.tag != SMIME_DER_SEQUENCE) {
        lint_report_sev(c, SMIME_SEV_ERROR, name, "%s extension value is not a valid DER SEQUENCE", name);
        return -1;
    }
    *seq = t.val;
    return 0;
}

static int scheme_is(smime_span uri, const char *scheme)
{
    size_t n = strlen(scheme);
    return uri.len > n + 3 && smime_ascii_casecmp_n((const char *)uri.p, n, scheme, n) == 0
        && memcmp(uri.p + n, "://", 3) == 0;
}

/* 1 when the URI is an absolute http(s) URI with a host. */
static int http_uri_ok(smime_span uri, int allow_https)
{
    size_t skip;
    if (scheme_is(uri, "http"))
        skip = 7;
    else if (allow_https && scheme_is(uri, "https"))
        skip = 8;
    else
        return 0;
    if (uri.len <= skip || uri.p[skip] == '/' || !smime_der_ia5_ok(uri))
        return 0;
    for (size_t i = 0; i < uri.len; i++)
        if (uri.p[i] <= 0x20)
            return 0;
    return 1;
}

/* ---- certificatePolicies ---- */

void lint_cp_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_CP) == NULL)
        lint_report(c, "extensions", "certificatePolicies extension is missing");
}

void lint_cp_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_CP, "certificatePolicies", 0);
}

/* Calls fn for each qualifier (qualifier OID, qualifier TLV). */
typedef void (*qual_fn)(smime_lint_ctx *c, smime_span qoid, const smime_der_tlv *q);

static void each_qualifier(smime_lint_ctx *c, qual_fn fn)
{
    smime_span seq;
    if (ext_seq(c, EXT(c, OID_CP), "certificatePolicies", &seq) != 0)
        return;
    smime_der_reader r, pr, qr, qir;
    smime_der_tlv pi, oid, quals, qi, qoid, q;
    smime_der_reader_init(&r, seq);
    while (smime_der_next(&r, &pi) == 1) {
        smime_der_reader_init(&pr, pi.val);
        if (smime_der_expect(&pr, SMIME_DER_OID, &oid) != 0)
            continue;
        if (smime_der_optional(&pr, SMIME_DER_SEQUENCE, &quals) != 1)
            continue;
        smime_der_reader_init(&qr, quals.val);
        while (smime_der_next(&qr, &qi) == 1) {
            smime_der_reader_init(&qir, qi.val);
            if (smime_der_expect(&qir, SMIME_DER_OID, &qoid) != 0 || smime_der_next(&qir, &q) != 1)
                continue;
            fn(c, qoid.val, &q);
        }
    }
}

void lint_cp_04(smime_lint_ctx *c)
{
    smime_span seq;
    if (EXT(c, OID_CP) == NULL || ext_seq(c, EXT(c, OID_CP), "certificatePolicies", &seq) != 0)
        return;
    smime_span seen[32];
    size_t n = 0;
    smime_der_reader r, pr;
    smime_der_tlv pi, oid;
    char t[64];
    smime_der_reader_init(&r, seq);
    while (smime_der_next(&r, &pi) == 1 && n < 32) {
        smime_der_reader_init(&pr, pi.val);
        if (pi.tag != SMIME_DER_SEQUENCE || smime_der_expect(&pr, SMIME_DER_OID, &oid) != 0) {
            lint_report(c, "extensions.certificatePolicies", "PolicyInformation is malformed");
            return;
        }
        for (size_t i = 0; i < n; i++)
            if (seen[i].len == oid.val.len && memcmp(seen[i].p, oid.val.p, oid.val.len) == 0)
                lint_report(c, "extensions.certificatePolicies", "policy %s appears more than once",
                            lint_oid(oid.val, t, sizeof t));
        seen[n++] = oid.val;
    }
}

static void cps_check(smime_lint_ctx *c, smime_span qoid, const smime_der_tlv *q)
{
    if (!SMIME_OID_EQ(qoid, OID_QT_CPS))
        return;
    char t[128];
    if (q->tag != SMIME_DER_IA5_STRING)
        lint_report(c, "extensions.certificatePolicies.cPSuri", "CPS qualifier must be an IA5String URI");
    else if (!http_uri_ok(q->val, 1))
        lint_report(c, "extensions.certificatePolicies.cPSuri", "CPS URI \"%s\" is not an absolute http or https URI",
                    lint_text(q->val, t, sizeof t));
}

void lint_cp_05(smime_lint_ctx *c)
{
    if (EXT(c, OID_CP))
        each_qualifier(c, cps_check);
}

/* UserNotice ::= SEQUENCE { noticeRef NoticeReference OPTIONAL, explicitText DisplayText OPTIONAL } */
static int user_notice(const smime_der_tlv *q, int *has_ref, smime_der_tlv *text, int *has_text)
{
    smime_der_reader r;
    smime_der_tlv t;
    *has_ref = *has_text = 0;
    if (q->tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, q->val);
    int rc = smime_der_next(&r, &t);
    if (rc == 1 && t.tag == SMIME_DER_SEQUENCE) {
        *has_ref = 1;
        rc = smime_der_next(&r, &t);
    }
    if (rc == 1) {
        *text = t;
        *has_text = 1;
    }
    return rc < 0 || !smime_der_at_end(&r) ? -1 : 0;
}

static void unotice_check(smime_lint_ctx *c, smime_span qoid, const smime_der_tlv *q)
{
    if (!SMIME_OID_EQ(qoid, OID_QT_UNOTICE))
        return;
    int ref, has_text;
    smime_der_tlv text;
    if (user_notice(q, &ref, &text, &has_text) != 0)
        lint_report(c, "extensions.certificatePolicies.userNotice", "UserNotice is malformed");
    else if (ref)
        lint_report(c, "extensions.certificatePolicies.userNotice", "UserNotice must not contain noticeRef");
    else if (!has_text)
        lint_report(c, "extensions.certificatePolicies.userNotice", "UserNotice must contain explicitText");
}

void lint_cp_06(smime_lint_ctx *c)
{
    if (EXT(c, OID_CP))
        each_qualifier(c, unotice_check);
}

static void explicit_text_check(smime_lint_ctx *c, smime_span qoid, const smime_der_tlv *q)
{
    int ref, has_text;
    smime_der_tlv t;
    if (!SMIME_OID_EQ(qoid, OID_QT_UNOTICE) || user_notice(q, &ref, &t, &has_text) != 0 || !has_text)
        return;
    const char *f = "extensions.certificatePolicies.userNotice.explicitText";
    if (t.tag == SMIME_DER_IA5_STRING) {
        lint_report(c, f, "explicitText is an IA5String: RFC 6818 forbids it, use UTF8String");
        return;
    }
    if (t.tag == SMIME_DER_VISIBLE_STRING || t.tag == SMIME_DER_BMP_STRING)
        lint_report_sev(c, SMIME_SEV_WARNING, f, "explicitText is a %s: RFC 5280 says UTF8String should be used",
                        t.tag == SMIME_DER_BMP_STRING ? "BMPString" : "VisibleString");
    else if (t.tag != SMIME_DER_UTF8_STRING)
        lint_report(c, f, "explicitText has a string type DisplayText does not allow");
    long n = smime_der_string_chars(t.tag, t.val);
    if (n < 1 || n > 200)
        lint_report(c, f, "explicitText must be 1..200 valid characters");
}

void lint_cp_07(smime_lint_ctx *c)
{
    if (EXT(c, OID_CP))
        each_qualifier(c, explicit_text_check);
}

static void other_qual_check(smime_lint_ctx *c, smime_span qoid, const smime_der_tlv *q)
{
    (void)q;
    char t[64];
    if (!SMIME_OID_EQ(qoid, OID_QT_CPS) && !SMIME_OID_EQ(qoid, OID_QT_UNOTICE))
        lint_report(c, "extensions.certificatePolicies", "policy qualifier %s is neither CPS nor userNotice",
                    lint_oid(qoid, t, sizeof t));
}

void lint_cp_08(smime_lint_ctx *c)
{
    if (EXT(c, OID_CP))
        each_qualifier(c, other_qual_check);
}

/* SUBCA-CP-3: the subscriber CPS and userNotice rules, run on a CA certificate. */
void lint_subca_cp_3(smime_lint_ctx *c)
{
    if (EXT(c, OID_CP) == NULL)
        return;
    each_qualifier(c, cps_check);
    each_qualifier(c, unotice_check);
    each_qualifier(c, explicit_text_check);
}

/* ---- cRLDistributionPoints ---- */

typedef struct crl_info {
    int uris, http_uris, non_http_uris, non_uri_names, rel_names, reasons, crl_issuer;
    smime_span bad_uri;
} crl_info;

static int crl_parse(smime_lint_ctx *c, crl_info *ci)
{
    memset(ci, 0, sizeof(*ci));
    smime_span seq;
    if (ext_seq(c, EXT(c, OID_CRLDP), "cRLDistributionPoints", &seq) != 0)
        return -1;
    smime_der_reader r, dr;
    smime_der_tlv dp, f, name;
    smime_der_reader_init(&r, seq);
    while (smime_der_next(&r, &dp) == 1) {
        smime_der_reader_init(&dr, dp.val);
        while (smime_der_next(&dr, &f) == 1) {
            if (f.tag == SMIME_DER_CTXC(1) || f.tag == SMIME_DER_CTX(1)) { ci->reasons++; continue; }
            if (f.tag == SMIME_DER_CTXC(2)) { ci->crl_issuer++; continue; }
            if (f.tag != SMIME_DER_CTXC(0))
                continue;
            if (smime_der_parse_one(f.val, &name) != 0)
                continue;
            if (name.tag == SMIME_DER_CTXC(1)) { ci->rel_names++; continue; }
            if (name.tag != SMIME_DER_CTXC(0))
                continue;
            lint_gn gn[16];
            int n = lint_general_names(name.val, gn, 16);
            for (int i = 0; i < n; i++) {
                if (gn[i].tag != SMIME_DER_CTX(6)) { ci->non_uri_names++; continue; }
                ci->uris++;
                if (http_uri_ok(gn[i].val, 0))
                    ci->http_uris++;
                else {
                    ci->non_http_uris++;
                    ci->bad_uri = gn[i].val;
                }
            }
        }
    }
    return 0;
}

void lint_crl_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_CRLDP) == NULL)
        lint_report(c, "extensions", "cRLDistributionPoints extension is missing (SHALL be present)");
}

void lint_crl_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_CRLDP, "cRLDistributionPoints", 0);
}

void lint_crl_03(smime_lint_ctx *c)
{
    crl_info ci;
    if (EXT(c, OID_CRLDP) && crl_parse(c, &ci) == 0 && ci.uris == 0)
        lint_report(c, "extensions.cRLDistributionPoints", "no distributionPoint fullName URI to fetch the CRL from");
}

void lint_crl_04(smime_lint_ctx *c)
{
    crl_info ci;
    char t[128];
    if (EXT(c, OID_CRLDP) && crl_parse(c, &ci) == 0 && ci.non_http_uris)
        lint_report(c, "extensions.cRLDistributionPoints", "CRL URI \"%s\" is not an http:// URI (the only scheme allowed in %s)",
                    lint_text(ci.bad_uri, t, sizeof t), smime_lint_gen_name(c->gen));
}

void lint_crl_05(smime_lint_ctx *c)
{
    crl_info ci;
    if (EXT(c, OID_CRLDP) && crl_parse(c, &ci) == 0 && ci.uris && ci.http_uris == 0)
        lint_report(c, "extensions.cRLDistributionPoints", "no http:// CRL URI (at least one is required)");
}

void lint_crl_06(smime_lint_ctx *c)
{
    crl_info ci;
    if (!EXT(c, OID_CRLDP) || crl_parse(c, &ci) != 0)
        return;
    smime_lint_severity sev = c->gen == SMIME_GEN_LEGACY ? SMIME_SEV_NOTICE : SMIME_SEV_ERROR;
    if (ci.non_uri_names)
        lint_report_sev(c, sev, "extensions.cRLDistributionPoints", "fullName holds a GeneralName that is not a URI");
    if (ci.rel_names || ci.reasons || ci.crl_issuer)
        lint_report_sev(c, sev, "extensions.cRLDistributionPoints",
                        "nameRelativeToCRLIssuer, reasons or cRLIssuer are not contemplated by the SBR");
}

/* SUBCA-CRL (on a CA certificate): present, not critical, an http:// URI. */
void lint_subca_crl(smime_lint_ctx *c)
{
    const smime_x509_ext *e = EXT(c, OID_CRLDP);
    crl_info ci;
    if (c->cert->issuer.len == c->cert->subject.len
        && memcmp(c->cert->issuer.p, c->cert->subject.p, c->cert->issuer.len) == 0)
        return;   /* a root: no CRL pointer needed */
    if (e == NULL) {
        lint_report(c, "extensions", "subordinate CA without cRLDistributionPoints");
        return;
    }
    if (e->critical)
        lint_report(c, "extensions.cRLDistributionPoints", "cRLDistributionPoints must not be critical");
    if (crl_parse(c, &ci) == 0 && ci.http_uris == 0)
        lint_report(c, "extensions.cRLDistributionPoints", "no http:// CRL URI");
}

/* ---- authorityInformationAccess ---- */

typedef struct aia_info {
    int ca_issuers, ca_http, ocsp, ocsp_http, non_http, non_uri, other, internal;
} aia_info;

/* 1 when the host of a URI (scheme://[userinfo@]host[:port][/...]) is an internal
 * name: relying parties outside the CA's network cannot reach it.  IP literals
 * are not names and are left alone. */
static int uri_host_internal(smime_span uri)
{
    const uint8_t *p = uri.p, *end = uri.p + uri.len;
    const uint8_t *sep = NULL;
    for (const uint8_t *q = p; q + 2 < end; q++)
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q + 3;
            break;
        }
    if (sep == NULL)
        return 0;
    const uint8_t *h = sep, *he = sep;
    while (he < end && *he != '/' && *he != '?' && *he != '#')
        he++;
    for (const uint8_t *q = h; q < he; q++)
        if (*q == '@')
            h = q + 1;
    if (h < he && *h == '[')
        return 0;                            /* IPv6 literal */
    const uint8_t *colon = he;
    for (const uint8_t *q = h; q < he; q++)
        if (*q == ':')
            colon = q;
    he = colon;
    int ipv4 = h < he;
    for (const uint8_t *q = h; q < he; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '.'))
            ipv4 = 0;
    return !ipv4 && lint_domain_internal(h, (size_t)(he - h));
}

static int aia_parse(smime_lint_ctx *c, aia_info *ai)
{
    memset(ai, 0, sizeof(*ai));
    smime_span seq;
    if (ext_seq(c, EXT(c, OID_AIA), "authorityInformationAccess", &seq) != 0)
        return -1;
    smime_der_reader r, ar;
    smime_der_tlv ad, m, loc;
    smime_der_reader_init(&r, seq);
    while (smime_der_next(&r, &ad) == 1) {
        smime_der_reader_init(&ar, ad.val);
        if (smime_der_expect(&ar, SMIME_DER_OID, &m) != 0 || smime_der_next(&ar, &loc) != 1)
            return -1;
        int is_ca = SMIME_OID_EQ(m.val, OID_AD_CAISSUERS), is_ocsp = SMIME_OID_EQ(m.val, OID_AD_OCSP);
        if (!is_ca && !is_ocsp) { ai->other++; continue; }
        ai->ca_issuers += is_ca;
        ai->ocsp += is_ocsp;
        if (loc.tag != SMIME_DER_CTX(6)) { ai->non_uri++; continue; }
        ai->internal += uri_host_internal(loc.val);
        if (http_uri_ok(loc.val, 0)) {
            ai->ca_http += is_ca;
            ai->ocsp_http += is_ocsp;
        } else {
            ai->non_http++;
        }
    }
    return 0;
}

void lint_aia_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_AIA) == NULL)
        lint_report(c, "extensions", "authorityInformationAccess extension should be present");
}

void lint_aia_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_AIA, "authorityInformationAccess", 0);
}

void lint_aia_03(smime_lint_ctx *c)
{
    aia_info ai;
    if (EXT(c, OID_AIA) && aia_parse(c, &ai) == 0 && ai.ca_issuers == 0)
        lint_report(c, "extensions.authorityInformationAccess", "no id-ad-caIssuers access description");
}

void lint_aia_05(smime_lint_ctx *c)
{
    aia_info ai;
    if (EXT(c, OID_AIA) && aia_parse(c, &ai) == 0 && ai.non_http)
        lint_report(c, "extensions.authorityInformationAccess",
                    "caIssuers/OCSP location is not an http:// URI (the only scheme allowed in %s)",
                    smime_lint_gen_name(c->gen));
}

void lint_aia_06(smime_lint_ctx *c)
{
    aia_info ai;
    if (!EXT(c, OID_AIA) || aia_parse(c, &ai) != 0)
        return;
    if (ai.ca_issuers && !ai.ca_http)
        lint_report(c, "extensions.authorityInformationAccess", "caIssuers present but none is an http:// URI");
    if (ai.ocsp && !ai.ocsp_http)
        lint_report(c, "extensions.authorityInformationAccess", "OCSP present but none is an http:// URI");
}

void lint_aia_07(smime_lint_ctx *c)
{
    aia_info ai;
    if (EXT(c, OID_AIA) && aia_parse(c, &ai) == 0 && ai.non_uri)
        lint_report(c, "extensions.authorityInformationAccess",
                    "caIssuers/OCSP accessLocation must be a uniformResourceIdentifier");
}

void lint_aia_08(smime_lint_ctx *c)
{
    aia_info ai;
    if (EXT(c, OID_AIA) && aia_parse(c, &ai) == 0 && ai.other)
        lint_report(c, "extensions.authorityInformationAccess", "access method other than caIssuers/OCSP present");
}

void lint_aia_09(smime_lint_ctx *c)
{
    aia_info ai;
    if (EXT(c, OID_AIA) && aia_parse(c, &ai) == 0 && ai.internal)
        lint_report(c, "extensions.authorityInformationAccess",
                    "caIssuers/OCSP location names an internal host (single label or reserved TLD)");
}

/* ---- basicConstraints ---- */

static int bc_parse(const smime_x509 *x, int *ca, int *has_pathlen)
{
    const smime_x509_ext *e = SMIME_X509_EXT(x, OID_BC);
    *ca = *has_pathlen = 0;
    if (e == NULL)
        return 1;
    smime_der_tlv seq, t;
    smime_der_reader r;
    if (smime_der_parse_one(e->value, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, seq.val);
    int o = smime_der_optional(&r, SMIME_DER_BOOLEAN, &t);
    if (o < 0 || (o == 1 && smime_der_bool(t.val) != 1))
        return -1;                   /* explicit FALSE is not DER */
    *ca = o;
    o = smime_der_optional(&r, SMIME_DER_INTEGER, &t);
    if (o < 0)
        return -1;
    *has_pathlen = o;
    return smime_der_at_end(&r) ? 0 : -1;
}

int lint_bc(const smime_x509 *x, int *ca, int *has_pathlen)
{
    return bc_parse(x, ca, has_pathlen);
}

void lint_bc_01(smime_lint_ctx *c)
{
    int ca, pl;
    int rc = bc_parse(c->cert, &ca, &pl);
    if (rc < 0)
        lint_report(c, "extensions.basicConstraints", "basicConstraints is malformed (or encodes cA FALSE explicitly)");
    else if (rc == 0 && ca)
        lint_report(c, "extensions.basicConstraints", "cA is TRUE in a subscriber certificate");
}

void lint_bc_02(smime_lint_ctx *c)
{
    int ca, pl;
    if (bc_parse(c->cert, &ca, &pl) == 0 && pl)
        lint_report(c, "extensions.basicConstraints", "pathLenConstraint must be absent");
}

/* ---- keyUsage ---- */

enum { KU_DS, KU_NR, KU_KE, KU_DE, KU_KA, KU_KCS, KU_CRL, KU_EO, KU_DO };
static const char *const ku_names[] = { "digitalSignature", "nonRepudiation", "keyEncipherment",
    "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly" };

/* Returns a bit mask (1 << KU_x), or -1 when absent / -2 malformed. */
int lint_ku_bits(const smime_x509 *x)
{
    const smime_x509_ext *e = SMIME_X509_EXT(x, OID_KU);
    if (e == NULL)
        return -1;
    smime_der_tlv t;
    smime_span bits;
    size_t nbits;
    if (smime_der_parse_one(e->value, &t) != 0 || t.tag != SMIME_DER_BIT_STRING
        || smime_der_bit_string(t.val, &bits, &nbits) != 0 || nbits > 16)
        return -2;
    int m = 0;
    for (size_t i = 0; i < 9; i++)
        if (smime_der_bit(bits, nbits, i))
            m |= 1 << i;
    return m;
}

static void ku_names_of(int mask, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < 9; i++)
        if (mask & (1 << i)) {
            int k = snprintf(out + used, n - used, "%s%s", used ? ", " : "", ku_names[i]);
            if (k < 0 || (size_t)k >= n - used)
                break;
            used += (size_t)k;
        }
}

void lint_ku_01(smime_lint_ctx *c)
{
    int m = lint_ku_bits(c->cert);
    if (m == -1)
        lint_report(c, "extensions", "keyUsage extension is missing");
    else if (m == -2)
        lint_report(c, "extensions.keyUsage", "keyUsage is not a valid DER BIT STRING");
}

void lint_ku_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_KU, "keyUsage", 1);
}

void lint_ku_03(smime_lint_ctx *c)
{
    if (lint_ku_bits(c->cert) == 0)
        lint_report(c, "extensions.keyUsage", "keyUsage has no bit set");
}

void lint_ku_04(smime_lint_ctx *c)
{
    int m = lint_ku_bits(c->cert);
    if (m > 0 && (m & ((1 << KU_KCS) | (1 << KU_CRL))))
        lint_report(c, "extensions.keyUsage", "keyCertSign/cRLSign set in a subscriber certificate");
}

/* Allowed bits for the key type and generation given the class bits present
 * (REQUIREMENTS §5.6 table).  *classes gets 1 signing, 2 key management. */
static int ku_allowed(const smime_lint_ctx *c, int m, int *classes)
{
    int kind = lint_key_kind(c->cert), allowed = 0;
    *classes = 0;
    int sign = m & (1 << KU_DS);
    switch (kind) {
    case LINT_KEY_RSA:
        if (sign) { *classes |= 1; allowed |= (1 << KU_DS) | (1 << KU_NR); }
        if (m & (1 << KU_KE)) {
            *classes |= 2;
            allowed |= 1 << KU_KE;
            if (c->gen != SMIME_GEN_STRICT)
                allowed |= 1 << KU_DE;
        }
        break;
    case LINT_KEY_EC:
        if (sign) { *classes |= 1; allowed |= (1 << KU_DS) | (1 << KU_NR); }
        if (m & (1 << KU_KA)) {
            *classes |= 2;
            allowed |= 1 << KU_KA;
            if (!((m & (1 << KU_EO)) && (m & (1 << KU_DO))))
                allowed |= (1 << KU_EO) | (1 << KU_DO);
        }
        break;
    case LINT_KEY_ED25519: case LINT_KEY_ED448: case LINT_KEY_MLDSA:
        if (sign) { *classes |= 1; allowed |= (1 << KU_DS) | (1 << KU_NR); }
        break;
    case LINT_KEY_MLKEM:
        if (m == (1 << KU_KE)) { *classes |= 2; allowed = 1 << KU_KE; }
        break;
    default:
        allowed = m;   /* unknown key type: reported by SPKI-01 */
        *classes = 3;
        break;
    }
    return allowed;
}

void lint_ku_05(smime_lint_ctx *c)
{
    int m = lint_ku_bits(c->cert);
    if (m <= 0)
        return;
    int classes;
    int allowed = ku_allowed(c, m, &classes);
    int bad = m & ~allowed & ~((1 << KU_KCS) | (1 << KU_CRL));
    if (bad == 0)
        return;
    char names[160];
    ku_names_of(bad, names, sizeof names);
    static const char *const kinds[] = { "this", "an RSA", "an EC", "an Ed25519", "an Ed448", "an ML-DSA", "an ML-KEM" };
    lint_report(c, "extensions.keyUsage", "key usage not allowed for %s key in the %s generation: %s",
                kinds[lint_key_kind(c->cert)], smime_lint_gen_name(c->gen), names);
}

void lint_ku_06(smime_lint_ctx *c)
{
    int m = lint_ku_bits(c->cert);
    if (m <= 0)
        return;
    int classes;
    ku_allowed(c, m, &classes);
    if (classes == 0)
        lint_report(c, "extensions.keyUsage",
                    "no valid usage combination: neither signing (digitalSignature) nor the key-management bit for this key type");
}

/* ---- extKeyUsage ---- */

static int eku_list(const smime_x509 *x, smime_span *out, int max)
{
    const smime_x509_ext *e = SMIME_X509_EXT(x, OID_EKU);
    if (e == NULL)
        return -1;
    smime_der_tlv seq, o;
    smime_der_reader r;
    if (smime_der_parse_one(e->value, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -2;
    int n = 0, rc;
    smime_der_reader_init(&r, seq.val);
    while ((rc = smime_der_next(&r, &o)) == 1) {
        if (o.tag != SMIME_DER_OID || n == max)
            return -2;
        out[n++] = o.val;
    }
    return rc < 0 ? -2 : n;
}

int lint_eku(const smime_x509 *x, smime_span *out, int max)
{
    return eku_list(x, out, max);
}

void lint_eku_01(smime_lint_ctx *c)
{
    smime_span k[32];
    int n = eku_list(c->cert, k, 32);
    if (n == -1)
        lint_report(c, "extensions", "extKeyUsage extension is missing");
    else if (n == -2)
        lint_report(c, "extensions.extKeyUsage", "extKeyUsage is malformed");
}

void lint_eku_02(smime_lint_ctx *c)
{
    smime_span k[32];
    int n = eku_list(c->cert, k, 32);
    for (int i = 0; i < n; i++)
        if (SMIME_OID_EQ(k[i], OID_KP_EMAIL))
            return;
    if (n >= 0)
        lint_report(c, "extensions.extKeyUsage", "id-kp-emailProtection is missing");
}

void lint_eku_03(smime_lint_ctx *c)
{
    smime_span k[32];
    char t[64];
    int n = eku_list(c->cert, k, 32);
    for (int i = 0; i < n; i++)
        if (SMIME_OID_EQ(k[i], OID_KP_SERVER) || SMIME_OID_EQ(k[i], OID_KP_CODE)
            || SMIME_OID_EQ(k[i], OID_KP_TS) || SMIME_OID_EQ(k[i], OID_ANY_EKU))
            lint_report(c, "extensions.extKeyUsage", "prohibited key purpose %s", lint_oid(k[i], t, sizeof t));
}

void lint_eku_04(smime_lint_ctx *c)
{
    smime_span k[32];
    char t[64];
    int n = eku_list(c->cert, k, 32);
    for (int i = 0; i < n; i++)
        if (!SMIME_OID_EQ(k[i], OID_KP_EMAIL) && !SMIME_OID_EQ(k[i], OID_KP_SERVER)
            && !SMIME_OID_EQ(k[i], OID_KP_CODE) && !SMIME_OID_EQ(k[i], OID_KP_TS)
            && !SMIME_OID_EQ(k[i], OID_ANY_EKU))
            lint_report(c, "extensions.extKeyUsage", "key purpose %s is not allowed in Strict (only emailProtection)",
                        lint_oid(k[i], t, sizeof t));
}

void lint_eku_05(smime_lint_ctx *c)
{
    smime_span k[32];
    int n = eku_list(c->cert, k, 32);
    for (int i = 0; i < n; i++)
        if (SMIME_OID_EQ(k[i], OID_KP_OCSP))
            lint_report(c, "extensions.extKeyUsage",
                        "id-kp-OCSPSigning in a subscriber certificate: it could sign status for its issuer");
}

void lint_eku_06(smime_lint_ctx *c)
{
    smime_span k[32];
    int n = eku_list(c->cert, k, 32);
    if (n == 0)
        lint_report_sev(c, SMIME_SEV_ERROR, "extensions.extKeyUsage", "extKeyUsage is an empty SEQUENCE");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (k[i].len == k[j].len && memcmp(k[i].p, k[j].p, k[i].len) == 0)
                lint_report(c, "extensions.extKeyUsage", "duplicate key purpose");
}

void lint_eku_2027(smime_lint_ctx *c)
{
    smime_span k[32];
    char t[64];
    int n = eku_list(c->cert, k, 32);
    for (int i = 0; i < n; i++)
        if (!SMIME_OID_EQ(k[i], OID_KP_EMAIL) && !SMIME_OID_EQ(k[i], OID_KP_CLIENT))
            lint_report(c, "extensions.extKeyUsage",
                        "from 2027-07-01 only emailProtection and clientAuth are allowed: %s", lint_oid(k[i], t, sizeof t));
    /* The same restriction applies to the issuing subordinate CA (DATE-16). */
    if (c->issuer == NULL || c->issuer->issuer.len == 0)
        return;
    n = eku_list(c->issuer, k, 32);
    for (int i = 0; i < n; i++)
        if (!SMIME_OID_EQ(k[i], OID_KP_EMAIL) && !SMIME_OID_EQ(k[i], OID_KP_CLIENT))
            lint_report(c, "issuer.extensions.extKeyUsage",
                        "issued from 2027-07-01 by a subordinate CA whose EKU has %s (only emailProtection and clientAuth allowed)",
                        lint_oid(k[i], t, sizeof t));
}

/* ---- authorityKeyIdentifier / subjectKeyIdentifier ---- */

/* keyIdentifier of the AKI: 0 ok, 1 absent ext, -1 malformed; flags for the rest. */
static int aki_parse(const smime_x509 *x, smime_span *kid, int *has_kid, int *has_issuer_serial)
{
    const smime_x509_ext *e = SMIME_X509_EXT(x, OID_AKI);
    *has_kid = *has_issuer_serial = 0;
    if (e == NULL)
        return 1;
    smime_der_tlv seq, t;
    smime_der_reader r;
    if (smime_der_parse_one(e->value, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, seq.val);
    int rc;
    while ((rc = smime_der_next(&r, &t)) == 1) {
        if (t.tag == SMIME_DER_CTX(0)) { *has_kid = 1; *kid = t.val; }
        else if (t.tag == SMIME_DER_CTXC(1) || t.tag == SMIME_DER_CTX(2)) *has_issuer_serial = 1;
        else return -1;
    }
    return rc < 0 ? -1 : 0;
}

int lint_aki(const smime_x509 *x, smime_span *kid, int *has_kid, int *has_issuer_serial)
{
    return aki_parse(x, kid, has_kid, has_issuer_serial);
}

int lint_ski(const smime_x509 *x, smime_span *kid)
{
    const smime_x509_ext *e = SMIME_X509_EXT(x, OID_SKI);
    smime_der_tlv t;
    if (e == NULL)
        return 1;
    if (smime_der_parse_one(e->value, &t) != 0 || t.tag != SMIME_DER_OCTET_STRING || t.val.len == 0)
        return -1;
    *kid = t.val;
    return 0;
}

void lint_aki_01(smime_lint_ctx *c)
{
    smime_span k;
    int a, b, rc = aki_parse(c->cert, &k, &a, &b);
    if (rc == 1)
        lint_report(c, "extensions", "authorityKeyIdentifier extension is missing");
    else if (rc < 0)
        lint_report(c, "extensions.authorityKeyIdentifier", "authorityKeyIdentifier is malformed");
}

void lint_aki_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_AKI, "authorityKeyIdentifier", 0);
}

void lint_aki_03(smime_lint_ctx *c)
{
    smime_span k;
    int a, b;
    if (aki_parse(c->cert, &k, &a, &b) == 0 && !a)
        lint_report(c, "extensions.authorityKeyIdentifier", "keyIdentifier is missing");
}

void lint_aki_04(smime_lint_ctx *c)
{
    smime_span k;
    int a, b;
    if (aki_parse(c->cert, &k, &a, &b) == 0 && b)
        lint_report(c, "extensions.authorityKeyIdentifier", "authorityCertIssuer/authorityCertSerialNumber must be absent");
}

void lint_aki_05(smime_lint_ctx *c)
{
    smime_span k, s;
    int a, b;
    if (aki_parse(c->cert, &k, &a, &b) != 0 || !a || lint_ski(c->issuer, &s) != 0)
        return;
    if (k.len != s.len || memcmp(k.p, s.p, k.len) != 0)
        lint_report(c, "extensions.authorityKeyIdentifier",
                    "keyIdentifier does not equal the issuer certificate's subjectKeyIdentifier");
}

void lint_ski_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_SKI) == NULL)
        lint_report(c, "extensions", "subjectKeyIdentifier should be present");
}

void lint_ski_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_SKI, "subjectKeyIdentifier", 0);
}

void lint_ski_03(smime_lint_ctx *c)
{
    smime_span kid;
    if (lint_ski(c->cert, &kid) != 0)
        return;
    const smime_x509 *x = c->cert;
    uint8_t h[64];
    /* RFC 5280 4.2.1.2 method 1 and 2 (SHA-1), RFC 7093 methods 1-3 (SHA-2 truncated). */
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, x->spki_key.p, x->spki_key.len, h) == 0) {
        if (kid.len == 20 && memcmp(kid.p, h, 20) == 0)
            return;
        if (kid.len == 8 && (kid.p[0] >> 4) == 4 && (kid.p[0] & 0x0f) == (h[12] & 0x0f)
            && memcmp(kid.p + 1, h + 13, 7) == 0)
            return;
    }
    static const gnutls_digest_algorithm_t algs[] = { GNUTLS_DIG_SHA256, GNUTLS_DIG_SHA384, GNUTLS_DIG_SHA512 };
    static const size_t lens[] = { 32, 48, 64 };
    for (int i = 0; i < 3; i++) {
        if (gnutls_hash_fast(algs[i], x->spki_key.p, x->spki_key.len, h) != 0)
            continue;
        if ((kid.len == 20 || kid.len == lens[i]) && memcmp(kid.p, h, kid.len) == 0)
            return;
        if (gnutls_hash_fast(algs[i], x->spki.p, x->spki.len, h) == 0 && kid.len == 20
            && memcmp(kid.p, h, 20) == 0)
            return;
    }
    lint_report(c, "extensions.subjectKeyIdentifier",
                "subjectKeyIdentifier is not derived from the public key by a method of RFC 5280 or RFC 7093");
}

/* ---- the other extensions ---- */

void lint_smc_01(smime_lint_ctx *c)
{
    const smime_x509_ext *e = EXT(c, OID_SMIMECAPS);
    if (e == NULL)
        return;
    if (e->critical)
        lint_report(c, "extensions.smimeCapabilities", "smimeCapabilities must not be critical");
    smime_span seq;
    if (ext_seq(c, e, "smimeCapabilities", &seq) != 0)
        return;
    smime_der_reader r, cr;
    smime_der_tlv cap, o;
    smime_der_reader_init(&r, seq);
    int rc;
    while ((rc = smime_der_next(&r, &cap)) == 1) {
        smime_der_reader_init(&cr, cap.val);
        if (cap.tag != SMIME_DER_SEQUENCE || smime_der_expect(&cr, SMIME_DER_OID, &o) != 0) {
            lint_report(c, "extensions.smimeCapabilities", "SMIMECapability is not SEQUENCE { OID, parameters }");
            return;
        }
    }
}

void lint_sda_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_SDA))
        lint_report(c, "extensions.subjectDirectoryAttributes",
                    "subjectDirectoryAttributes is prohibited in Multipurpose and Strict");
}

void lint_sda_02(smime_lint_ctx *c)
{
    LINT_CRITICALITY(c, OID_SDA, "subjectDirectoryAttributes", 0);
}

void lint_sda_03(smime_lint_ctx *c)
{
    if (EXT(c, OID_SDA))
        lint_report(c, "extensions.subjectDirectoryAttributes",
                    "subjectDirectoryAttributes in a Mailbox-validated certificate: MV validates no identity data");
}

/* ETSI EN 319 412-5 statement contents that we check. */
static int qc_statement_ok(smime_span id, const smime_der_tlv *info, int has_info)
{
    smime_der_reader r, pr;
    smime_der_tlv t, u, l;
    if (SMIME_OID_EQ(id, "\x04\x00\x8e\x46\x01\x05")) {           /* QcEuPDS */
        if (!has_info || info->tag != SMIME_DER_SEQUENCE)
            return 0;
        smime_der_reader_init(&r, info->val);
        int rc, n = 0;
        while ((rc = smime_der_next(&r, &t)) == 1) {
            smime_der_reader_init(&pr, t.val);
            if (t.tag != SMIME_DER_SEQUENCE || smime_der_expect(&pr, SMIME_DER_IA5_STRING, &u) != 0
                || smime_der_expect(&pr, SMIME_DER_PRINTABLE_STRING, &l) != 0 || l.val.len != 2
                || !smime_der_at_end(&pr) || !smime_der_ia5_ok(u.val) || !smime_der_printable_ok(l.val))
                return 0;
            n++;
        }
        return rc == 0 && n > 0;
    }
    if (SMIME_OID_EQ(id, "\x04\x00\x8e\x46\x01\x06")) {           /* QcType */
        if (!has_info || info->tag != SMIME_DER_SEQUENCE)
            return 0;
        smime_der_reader_init(&r, info->val);
        int rc;
        while ((rc = smime_der_next(&r, &t)) == 1)
            if (t.tag != SMIME_DER_OID)
                return 0;
        return rc == 0;
    }
    if (SMIME_OID_EQ(id, "\x04\x00\x8e\x46\x01\x01") || SMIME_OID_EQ(id, "\x04\x00\x8e\x46\x01\x04"))
        return !has_info;                                          /* QcCompliance, QcSSCD */
    if (SMIME_OID_EQ(id, "\x04\x00\x8e\x46\x01\x03"))             /* QcEuRetentionPeriod */
        return has_info && info->tag == SMIME_DER_INTEGER;
    return 1;
}

void lint_qc_01(smime_lint_ctx *c)
{
    const smime_x509_ext *e = EXT(c, OID_QC);
    if (e == NULL)
        return;
    if (e->critical)
        lint_report(c, "extensions.qcStatements", "qcStatements must not be critical");
    smime_span seq;
    if (ext_seq(c, e, "qcStatements", &seq) != 0)
        return;
    smime_der_reader r, sr;
    smime_der_tlv st, id, info;
    char t[64];
    int rc, i = 0;
    smime_der_reader_init(&r, seq);
    while ((rc = smime_der_next(&r, &st)) == 1) {
        smime_der_reader_init(&sr, st.val);
        if (st.tag != SMIME_DER_SEQUENCE || smime_der_expect(&sr, SMIME_DER_OID, &id) != 0) {
            lint_report(c, "extensions.qcStatements", "QCStatement %d is malformed", i);
            return;
        }
        int has_info = smime_der_next(&sr, &info) == 1;
        if (!smime_der_at_end(&sr) || !qc_statement_ok(id.val, &info, has_info))
            lint_report(c, "extensions.qcStatements", "QCStatement %d (%s) has a statementInfo that does not match its ETSI EN 319 412-5 syntax",
                        i, lint_oid(id.val, t, sizeof t));
        i++;
    }
}

static int lei_checksum_ok(smime_span v)
{
    unsigned rem = 0;
    for (size_t i = 0; i < v.len; i++) {
        unsigned ch = v.p[i];
        unsigned d = ch >= '0' && ch <= '9' ? ch - '0' : ch - 'A' + 10;
        rem = d >= 10 ? (rem * 100 + d) % 97 : (rem * 10 + d) % 97;
    }
    return rem == 1;
}

int lint_lei_valid(smime_span v)
{
    if (v.len != 20)
        return 0;
    for (size_t i = 0; i < 20; i++) {
        uint8_t ch = v.p[i];
        int digit = ch >= '0' && ch <= '9', upper = ch >= 'A' && ch <= 'Z';
        if (!(digit || (upper && i < 18)))
            return 0;
    }
    return lei_checksum_ok(v);
}

void lint_lei_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_LEI))
        lint_report(c, "extensions.lei", "LEI extension is prohibited in %s certificates", smime_lint_type_name(c->type));
}

void lint_lei_02(smime_lint_ctx *c)
{
    if (EXT(c, OID_LEI_ROLE))
        lint_report(c, "extensions.leiRole", "LEI role extension is allowed only in sponsor-validated certificates");
}

void lint_lei_03(smime_lint_ctx *c)
{
    const smime_x509_ext *a = EXT(c, OID_LEI), *b = EXT(c, OID_LEI_ROLE);
    if ((a && a->critical) || (b && b->critical))
        lint_report(c, "extensions.lei", "LEI extensions must not be critical");
}

void lint_lei_04(smime_lint_ctx *c)
{
    const smime_x509_ext *a = EXT(c, OID_LEI), *b = EXT(c, OID_LEI_ROLE);
    smime_der_tlv t;
    char s[64];
    if (a) {
        if (smime_der_parse_one(a->value, &t) != 0 || t.tag != SMIME_DER_PRINTABLE_STRING)
            lint_report(c, "extensions.lei", "LEI value must be a PrintableString");
        else if (!lint_lei_valid(t.val))
            lint_report(c, "extensions.lei", "LEI \"%s\" is not 20 characters with valid ISO 17442 check digits",
                        lint_text(t.val, s, sizeof s));
    }
    if (b) {
        if (smime_der_parse_one(b->value, &t) != 0 || t.tag != SMIME_DER_PRINTABLE_STRING
            || t.val.len < 1 || t.val.len > 100 || !smime_der_printable_ok(t.val))
            lint_report(c, "extensions.leiRole", "LEI role must be a PrintableString of 1..100 characters");
    }
}

void lint_adb_01(smime_lint_ctx *c)
{
    if (EXT(c, OID_ADOBE_TS))
        lint_report(c, "extensions.adobeTimestamp", "Adobe time-stamp extension is prohibited in Strict");
    if (EXT(c, OID_ADOBE_ARI))
        lint_report(c, "extensions.adobeArchiveRevInfo", "Adobe archiveRevInfo extension is prohibited in Strict");
}

void lint_adb_02(smime_lint_ctx *c)
{
    const smime_x509_ext *a = EXT(c, OID_ADOBE_TS), *b = EXT(c, OID_ADOBE_ARI);
    if (a && a->critical)
        lint_report(c, "extensions.adobeTimestamp", "Adobe time-stamp extension must not be critical");
    if (b && b->critical)
        lint_report(c, "extensions.adobeArchiveRevInfo", "Adobe archiveRevInfo extension must not be critical");
}

void lint_adb_03(smime_lint_ctx *c)
{
    const smime_x509_ext *a = EXT(c, OID_ADOBE_TS);
    smime_span seq;
    if (a == NULL || ext_seq(c, a, "adobeTimestamp", &seq) != 0)
        return;
    /* TimeStamp ::= SEQUENCE { version INTEGER, location GeneralName, requiresAuth BOOLEAN DEFAULT FALSE } */
    smime_der_reader r;
    smime_der_tlv v, loc;
    smime_der_reader_init(&r, seq);
    if (smime_der_expect(&r, SMIME_DER_INTEGER, &v) != 0 || smime_der_next(&r, &loc) != 1)
        lint_report(c, "extensions.adobeTimestamp", "Adobe time-stamp extension is malformed");
    else if (loc.tag != SMIME_DER_CTX(6))
        lint_report(c, "extensions.adobeTimestamp", "Adobe time-stamp location must be a uniformResourceIdentifier");
}
