/* subject - subject distinguished name rules (§6 of REQUIREMENTS, SBR
 * 7.1.4.2).  Every check here runs on the subject and on each SAN directoryName
 * (SBR 7.1.4.2.1, REQUIREMENTS SAN-06). */
#include <stdio.h>
#include <string.h>
#include "smime/lint/rule.h"
#include "smime/util/text.h"

/* ---- the attribute permission table (§6.1) ---- */

enum { P_X = 'X', P_M = 'M', P_R = 'R' };

typedef struct attr_rule {
    const char *oid;
    size_t      oid_len;
    const char *name;
    /* 12 permission letters: MV L M S, OV L M S, SV L M S, IV L M S */
    const char *perm;
    int         upper;       /* upper bound in characters, 0 none */
} attr_rule;

#define R(lit, name, perm, ub) { lit, sizeof(lit) - 1, name, perm, ub }
static const attr_rule attr_rules[] = {
    R(OID_AT_CN,      "commonName",             "MMMMMMMMMMMM", 64),
    R(OID_AT_O,       "organizationName",       "XXXRRRRRRXXX", 64),
    R(OID_AT_OU,      "organizationalUnitName", "XXXMMMMMMXXX", 64),
    R(OID_AT_ORGID,   "organizationIdentifier", "XXXRRRRRRXXX", 0),
    R(OID_AT_GIVEN,   "givenName",              "XXXXXXMMMMMM", 32768),
    R(OID_AT_SURNAME, "surname",                "XXXXXXMMMMMM", 32768),
    R(OID_AT_PSEUDO,  "pseudonym",              "XXXXXXMMMMMM", 128),
    R(OID_AT_SERIAL,  "serialNumber",           "MMMMMMMMMMMM", 64),
    R(OID_AT_EMAIL,   "emailAddress",           "MMMMMMMMMMMM", 255),
    R(OID_AT_TITLE,   "title",                  "XXXXXXMMMMMM", 64),
    R(OID_AT_STREET,  "streetAddress",          "XXXMMXMMXMMX", 128),
    R(OID_AT_L,       "localityName",           "XXXMMMMMMMMM", 128),
    R(OID_AT_ST,      "stateOrProvinceName",    "XXXMMMMMMMMM", 128),
    R(OID_AT_POSTAL,  "postalCode",             "XXXMMXMMXMMX", 40),
    R(OID_AT_C,       "countryName",            "XXXMMMMMMMMM", 2),
};
#undef R
static const char other_perm[] = "XXXMXXMXXMXX";

static const attr_rule *rule_of(smime_span oid)
{
    for (size_t i = 0; i < sizeof(attr_rules) / sizeof(attr_rules[0]); i++)
        if (smime_der_oid_eq(oid, attr_rules[i].oid, attr_rules[i].oid_len))
            return &attr_rules[i];
    return NULL;
}

static char perm_of(const smime_lint_ctx *c, const char *perm)
{
    return perm[(c->type - 1) * 3 + (c->gen - 1)];
}

static const smime_name_attr *find(const smime_name *n, const char *oid, size_t len)
{
    for (size_t i = 0; i < n->n; i++)
        if (smime_der_oid_eq(n->a[i].oid, oid, len))
            return &n->a[i];
    return NULL;
}
#define FIND(n, lit) find((n), (lit), sizeof(lit) - 1)

static void field_of(char *out, size_t n, const char *where, const char *attr)
{
    snprintf(out, n, "%s.%s", where, attr);
}

static void subj_01(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    /* A SAN directoryName need not repeat the required attributes of the subject. */
    if (strcmp(where, "subject") != 0)
        return;
    for (size_t i = 0; i < sizeof(attr_rules) / sizeof(attr_rules[0]); i++) {
        const attr_rule *r = &attr_rules[i];
        if (perm_of(c, r->perm) == P_R && !find(n, r->oid, r->oid_len))
            lint_report(c, where, "required attribute %s is missing", r->name);
    }
}
void lint_subj_01(smime_lint_ctx *c) { lint_each_name(c, subj_01); }

static void subj_02(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96];
    for (size_t i = 0; i < n->n; i++) {
        const attr_rule *r = rule_of(n->a[i].oid);
        /* organizationIdentifier is reported by ORGID-12 */
        if (r && !SMIME_OID_EQ(n->a[i].oid, OID_AT_ORGID) && perm_of(c, r->perm) == P_X) {
            field_of(f, sizeof f, where, r->name);
            lint_report(c, f, "attribute %s is prohibited in %s %s certificates", r->name,
                        smime_lint_type_name(c->type), smime_lint_gen_name(c->gen));
        }
    }
}
void lint_subj_02(smime_lint_ctx *c) { lint_each_name(c, subj_02); }

static void subj_03(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[64], f[96];
    if (perm_of(c, other_perm) != P_X)
        return;
    for (size_t i = 0; i < n->n; i++)
        if (rule_of(n->a[i].oid) == NULL) {
            lint_oid(n->a[i].oid, t, sizeof t);
            field_of(f, sizeof f, where, t);
            lint_report(c, f, "attribute %s is not in the SBR attribute table: prohibited in %s %s", t,
                        smime_lint_type_name(c->type), smime_lint_gen_name(c->gen));
        }
}
void lint_subj_03(smime_lint_ctx *c) { lint_each_name(c, subj_03); }

static void name_req(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    if (!FIND(n, OID_AT_GIVEN) && !FIND(n, OID_AT_SURNAME) && !FIND(n, OID_AT_PSEUDO))
        lint_report(c, where, "none of givenName, surname or pseudonym: one is required in %s %s",
                    smime_lint_type_name(c->type), smime_lint_gen_name(c->gen));
}
void lint_subj_name_req(smime_lint_ctx *c) { lint_each_name(c, name_req); }

static void name_pseudo_excl(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    if (FIND(n, OID_AT_PSEUDO) && (FIND(n, OID_AT_GIVEN) || FIND(n, OID_AT_SURNAME)))
        lint_report(c, where, "pseudonym together with givenName/surname: use one or the other");
}
void lint_subj_name_pseudo_excl(smime_lint_ctx *c) { lint_each_name(c, name_pseudo_excl); }

static int value_eq(smime_span a, smime_span b)
{
    return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static int any_value_eq(const smime_name *n, const char *oid, size_t len, smime_span v)
{
    for (size_t i = 0; i < n->n; i++)
        if (smime_der_oid_eq(n->a[i].oid, oid, len) && value_eq(n->a[i].value, v))
            return 1;
    return 0;
}

static void cn_mbx(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[128], f[96];
    field_of(f, sizeof f, where, "commonName");
    for (size_t i = 0; i < n->n; i++)
        if (SMIME_OID_EQ(n->a[i].oid, OID_AT_CN) && !lint_san_has_mailbox(c->cert, n->a[i].value))
            lint_report(c, f, "commonName \"%s\" must be a mailbox address present in subjectAltName",
                        lint_text(n->a[i].value, t, sizeof t));
}
void lint_subj_cn_mbx(smime_lint_ctx *c) { lint_each_name(c, cn_mbx); }

static void cn_ov(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[128], f[96];
    field_of(f, sizeof f, where, "commonName");
    for (size_t i = 0; i < n->n; i++) {
        smime_span v = n->a[i].value;
        if (SMIME_OID_EQ(n->a[i].oid, OID_AT_CN) && !lint_san_has_mailbox(c->cert, v)
            && !any_value_eq(n, OID_AT_O, sizeof(OID_AT_O) - 1, v))
            lint_report(c, f, "commonName \"%s\" is neither an organizationName value (exactly) nor a SAN mailbox",
                        lint_text(v, t, sizeof t));
    }
}
void lint_subj_cn_ov(smime_lint_ctx *c) { lint_each_name(c, cn_ov); }

static void cn_sviv(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[128], f[96];
    field_of(f, sizeof f, where, "commonName");
    int has_pseudo = FIND(n, OID_AT_PSEUDO) != NULL;
    int has_person = FIND(n, OID_AT_GIVEN) || FIND(n, OID_AT_SURNAME);
    for (size_t i = 0; i < n->n; i++) {
        smime_span v = n->a[i].value;
        if (!SMIME_OID_EQ(n->a[i].oid, OID_AT_CN) || lint_san_has_mailbox(c->cert, v))
            continue;
        if (has_pseudo) {
            if (!any_value_eq(n, OID_AT_PSEUDO, sizeof(OID_AT_PSEUDO) - 1, v))
                lint_report(c, f, "commonName \"%s\" is not the pseudonym (exact match required) nor a SAN mailbox",
                            lint_text(v, t, sizeof t));
        } else if (!has_person && c->gen != SMIME_GEN_LEGACY) {
            lint_report(c, f, "commonName \"%s\" is not backed by givenName/surname or pseudonym, nor a SAN mailbox",
                        lint_text(v, t, sizeof t));
        }
    }
}
void lint_subj_cn_sviv(smime_lint_ctx *c) { lint_each_name(c, cn_sviv); }

static void cn_pseudo_excl(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96];
    field_of(f, sizeof f, where, "commonName");
    if (!FIND(n, OID_AT_PSEUDO))
        return;
    /* Before 2024-05-11 (SBR v1.0.4) the exclusion was not explicit: warning only. */
    smime_lint_severity sev = lint_after(c, T_2024_05_11) ? SMIME_SEV_ERROR : SMIME_SEV_WARNING;
    for (size_t i = 0; i < n->n; i++) {
        smime_span v = n->a[i].value;
        if (SMIME_OID_EQ(n->a[i].oid, OID_AT_CN) && !lint_san_has_mailbox(c->cert, v)
            && !any_value_eq(n, OID_AT_PSEUDO, sizeof(OID_AT_PSEUDO) - 1, v))
            lint_report_sev(c, sev, f, "pseudonym present but the commonName holds something else (a personal name?)");
    }
}
void lint_subj_cn_pseudo_excl(smime_lint_ctx *c) { lint_each_name(c, cn_pseudo_excl); }

static long chars_of(const smime_name_attr *a)
{
    return smime_der_string_chars(a->tag, a->value);
}

static void cn_len(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96];
    field_of(f, sizeof f, where, "commonName");
    for (size_t i = 0; i < n->n; i++)
        if (SMIME_OID_EQ(n->a[i].oid, OID_AT_CN) && chars_of(&n->a[i]) > 64)
            lint_report(c, f, "commonName is %ld characters: at most 64", chars_of(&n->a[i]));
}
void lint_subj_cn_len(smime_lint_ctx *c) { lint_each_name(c, cn_len); }

static void ub(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96];
    for (size_t i = 0; i < n->n; i++) {
        const attr_rule *r = rule_of(n->a[i].oid);
        if (r == NULL || r->upper == 0 || SMIME_OID_EQ(n->a[i].oid, OID_AT_CN) || SMIME_OID_EQ(n->a[i].oid, OID_AT_C))
            continue;
        long k = chars_of(&n->a[i]);
        if (k > r->upper) {
            field_of(f, sizeof f, where, r->name);
            lint_report(c, f, "%s is %ld characters: the upper bound is %d", r->name, k, r->upper);
        }
    }
}
void lint_subj_ub(smime_lint_ctx *c) { lint_each_name(c, ub); }

static void serial(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[64], f[96];
    field_of(f, sizeof f, where, "serialNumber");
    static const char *const schemes[] = { "PAS", "IDC", "PNO", "TAX", "TIN", "EID" };
    for (size_t i = 0; i < n->n; i++) {
        smime_span v = n->a[i].value;
        if (!SMIME_OID_EQ(n->a[i].oid, OID_AT_SERIAL) || v.len < 6 || v.p[5] != '-')
            continue;
        int shaped = 1, known = 0;
        for (int k = 0; k < 5; k++)
            shaped &= v.p[k] >= 'A' && v.p[k] <= 'Z';
        for (size_t k = 0; k < 6; k++)
            known |= memcmp(v.p, schemes[k], 3) == 0;
        if (shaped && !known)
            lint_report(c, f, "serialNumber \"%s\" looks like an ETSI natural-person identifier with an unknown type",
                        lint_text(v, t, sizeof t));
    }
}
void lint_subj_serial(smime_lint_ctx *c) { lint_each_name(c, serial); }

static void email_01(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[128], f[96];
    field_of(f, sizeof f, where, "emailAddress");
    for (size_t i = 0; i < n->n; i++) {
        if (!SMIME_OID_EQ(n->a[i].oid, OID_AT_EMAIL))
            continue;
        if (n->a[i].tag != SMIME_DER_IA5_STRING || !lint_mailbox_ok(n->a[i].value))
            lint_report(c, f, "emailAddress \"%s\" is not one IA5String mailbox address",
                        lint_text(n->a[i].value, t, sizeof t));
    }
}
void lint_subj_email_01(smime_lint_ctx *c) { lint_each_name(c, email_01); }

static const char iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCL"
    "CMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGU"
    "GWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMC"
    "MDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPT"
    "PWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUA"
    "UGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

static int code_in(const char *list, const uint8_t *cc)
{
    for (size_t i = 0; list[i] && list[i + 1]; i += 2)
        if (list[i] == (char)cc[0] && list[i + 1] == (char)cc[1])
            return 1;
    return 0;
}

int lint_iso3166(const uint8_t *cc)
{
    return code_in(iso3166, cc);
}

static void c_01(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char t[32], f[96];
    field_of(f, sizeof f, where, "countryName");
    for (size_t i = 0; i < n->n; i++) {
        const smime_name_attr *a = &n->a[i];
        if (!SMIME_OID_EQ(a->oid, OID_AT_C))
            continue;
        if (a->tag != SMIME_DER_PRINTABLE_STRING || a->value.len != 2
            || !(code_in(iso3166, a->value.p) || (a->value.p[0] == 'X' && a->value.p[1] == 'X')))
            lint_report(c, f, "countryName \"%s\" is not a PrintableString ISO 3166-1 alpha-2 code (or XX)",
                        lint_text(a->value, t, sizeof t));
    }
}
void lint_subj_c_01(smime_lint_ctx *c) { lint_each_name(c, c_01); }

static void addr_dep(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    smime_lint_severity sev = lint_after(c, T_2024_05_11) ? SMIME_SEV_ERROR : SMIME_SEV_WARNING;
    if (FIND(n, OID_AT_STREET) && !FIND(n, OID_AT_L) && !FIND(n, OID_AT_ST))
        lint_report_sev(c, sev, where, "streetAddress present without localityName or stateOrProvinceName");
    if (!FIND(n, OID_AT_C)) {
        if (FIND(n, OID_AT_L))
            lint_report_sev(c, sev, where, "localityName present without countryName");
        if (FIND(n, OID_AT_ST))
            lint_report_sev(c, sev, where, "stateOrProvinceName present without countryName");
        if (FIND(n, OID_AT_POSTAL))
            lint_report_sev(c, sev, where, "postalCode present without countryName");
    }
}
void lint_subj_addr_dep(smime_lint_ctx *c) { lint_each_name(c, addr_dep); }

/* 1 when the code point is a letter, number or symbol (approximation of the
 * Unicode L/N/S categories: ASCII exactly, other scripts treated as letters,
 * spaces and general punctuation as insignificant). */
static int significant(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')
            || (cp && strchr("$+<=>^`|~", (int)cp) != NULL);
    if (cp == 0xa0 || (cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 && cp <= 0x3003) || cp == 0xfeff
        || (cp >= 0xfe10 && cp <= 0xfe1f) || (cp >= 0xff01 && cp <= 0xff0f && cp != 0xff04 && cp != 0xff0b))
        return 0;
    return 1;
}

static int has_significant(const smime_name_attr *a)
{
    smime_span v = a->value;
    if (a->tag == SMIME_DER_BMP_STRING) {
        for (size_t i = 0; i + 1 < v.len; i += 2)
            if (significant((uint32_t)(v.p[i] << 8 | v.p[i + 1])))
                return 1;
        return 0;
    }
    size_t i = 0;
    while (i < v.len) {
        uint32_t cp;
        size_t k = smime_utf8_decode(v.p + i, v.len - i, &cp);
        if (k == 0) { cp = v.p[i]; k = 1; }
        if (significant(cp))
            return 1;
        i += k;
    }
    return 0;
}

static void meta(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    static const char *const placeholders[] = { "n/a", "na", "none", "null", "not applicable", "unknown", "-" };
    char t[64], f[96], o[64];
    for (size_t i = 0; i < n->n; i++) {
        const smime_name_attr *a = &n->a[i];
        if (!smime_der_is_string_tag(a->tag))
            continue;
        lint_oid(a->oid, o, sizeof o);
        field_of(f, sizeof f, where, o);
        if (!has_significant(a)) {
            lint_report(c, f, "attribute value \"%s\" holds no letter, digit or symbol (placeholder)",
                        lint_text(a->value, t, sizeof t));
            continue;
        }
        for (size_t k = 0; k < sizeof(placeholders) / sizeof(placeholders[0]); k++)
            if (smime_ascii_casecmp_n((const char *)a->value.p, a->value.len, placeholders[k], strlen(placeholders[k])) == 0)
                lint_report_sev(c, SMIME_SEV_NOTICE, f, "attribute value \"%s\" looks like a placeholder",
                                lint_text(a->value, t, sizeof t));
    }
}
void lint_subj_meta(smime_lint_ctx *c) { lint_each_name(c, meta); }

static void enc(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96], o[64];
    for (size_t i = 0; i < n->n; i++) {
        const smime_name_attr *a = &n->a[i];
        const attr_rule *r = rule_of(a->oid);
        if (r == NULL && !SMIME_OID_EQ(a->oid, OID_AT_ORGID))
            continue;
        lint_oid(a->oid, o, sizeof o);
        field_of(f, sizeof f, where, r ? r->name : o);
        int printable_only = SMIME_OID_EQ(a->oid, OID_AT_C) || SMIME_OID_EQ(a->oid, OID_AT_SERIAL);
        int is_email = SMIME_OID_EQ(a->oid, OID_AT_EMAIL);
        if (is_email) {
            if (a->tag != SMIME_DER_IA5_STRING)
                lint_report(c, f, "emailAddress must be an IA5String");
        } else if (printable_only) {
            if (a->tag != SMIME_DER_PRINTABLE_STRING)
                lint_report(c, f, "%s must be a PrintableString", r->name);
        } else if (a->tag != SMIME_DER_PRINTABLE_STRING && a->tag != SMIME_DER_UTF8_STRING) {
            lint_report(c, f, "%s must be a PrintableString or UTF8String", r ? r->name : o);
            continue;
        }
        if (smime_der_string_chars(a->tag, a->value) < 0)
            lint_report(c, f, "value is not valid for its string type");
        else if (a->tag == SMIME_DER_UTF8_STRING || a->tag == SMIME_DER_IA5_STRING)
            for (size_t k = 0; k < a->value.len; k++)
                if (a->value.p[k] < 0x20 || a->value.p[k] == 0x7f) {
                    lint_report(c, f, "value contains a control character");
                    break;
                }
    }
}
void lint_subj_enc(smime_lint_ctx *c) { lint_each_name(c, enc); }

static void html(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96], o[64], t[96];
    for (size_t i = 0; i < n->n; i++) {
        smime_span v = n->a[i].value;
        for (size_t k = 0; k + 2 < v.len; k++) {
            if (v.p[k] != '&')
                continue;
            size_t e = k + 1;
            if (e < v.len && v.p[e] == '#')
                e++;
            size_t s = e;
            while (e < v.len && ((v.p[e] >= 'a' && v.p[e] <= 'z') || (v.p[e] >= 'A' && v.p[e] <= 'Z')
                                 || (v.p[e] >= '0' && v.p[e] <= '9')))
                e++;
            if (e > s && e < v.len && v.p[e] == ';') {
                field_of(f, sizeof f, where, lint_oid(n->a[i].oid, o, sizeof o));
                lint_report(c, f, "value \"%s\" contains an HTML entity (mis-escaped)", lint_text(v, t, sizeof t));
                break;
            }
        }
    }
}
void lint_subj_html(smime_lint_ctx *c) { lint_each_name(c, html); }

static void multivalue(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    for (size_t i = 0; i < n->n; i++)
        if (n->a[i].multi) {
            lint_report(c, where, "multi-valued RDN (several attributes in one RDN)");
            return;
        }
}
void lint_subj_multivalue(smime_lint_ctx *c) { lint_each_name(c, multivalue); }

/* ---- organizationIdentifier (§6.3) ---- */

typedef struct orgid {
    smime_span scheme, country, subdiv, ref;
    int has_subdiv, has_ref;
    int grammar_ok;
} orgid;

static void orgid_parse(smime_span v, orgid *o)
{
    memset(o, 0, sizeof(*o));
    if (v.len < 5) {
        o->scheme = v;
        return;
    }
    o->scheme = (smime_span){ v.p, 3 };
    o->country = (smime_span){ v.p + 3, 2 };
    size_t i = 5;
    int ok = 1;
    for (int k = 0; k < 5; k++)
        ok &= v.p[k] >= 'A' && v.p[k] <= 'Z';
    if (i < v.len && v.p[i] == '+') {
        size_t s = ++i;
        while (i < v.len && v.p[i] != '-')
            i++;
        o->subdiv = (smime_span){ v.p + s, i - s };
        o->has_subdiv = 1;
        ok &= o->subdiv.len >= 1 && o->subdiv.len <= 3;
        for (size_t k = 0; k < o->subdiv.len; k++)
            ok &= (o->subdiv.p[k] >= 'A' && o->subdiv.p[k] <= 'Z') || (o->subdiv.p[k] >= '0' && o->subdiv.p[k] <= '9');
    }
    if (i < v.len) {
        if (v.p[i] != '-') {
            ok = 0;
        } else {
            o->has_ref = 1;
            o->ref = (smime_span){ v.p + i + 1, v.len - i - 1 };
            ok &= o->ref.len > 0;
        }
    }
    o->grammar_ok = ok;
}

static int scheme_is(const orgid *o, const char *s)
{
    return o->scheme.len == 3 && memcmp(o->scheme.p, s, 3) == 0;
}

static int known_scheme(const orgid *o)
{
    return scheme_is(o, "NTR") || scheme_is(o, "VAT") || scheme_is(o, "PSD") || scheme_is(o, "LEI")
        || scheme_is(o, "GOV") || scheme_is(o, "INT");
}

typedef void (*orgid_fn)(smime_lint_ctx *c, const smime_name *n, const smime_name_attr *a,
                         const orgid *o, const char *field);

static void each_orgid(smime_lint_ctx *c, const smime_name *n, const char *where, orgid_fn fn)
{
    char f[96];
    field_of(f, sizeof f, where, "organizationIdentifier");
    for (size_t i = 0; i < n->n; i++) {
        if (!SMIME_OID_EQ(n->a[i].oid, OID_AT_ORGID))
            continue;
        orgid o;
        orgid_parse(n->a[i].value, &o);
        fn(c, n, &n->a[i], &o, f);
    }
}

#define ORGID_LINT(fname, ...)                                                              \
    static void fname##_one(smime_lint_ctx *c, const smime_name *n, const smime_name_attr *a, \
                            const orgid *o, const char *f)                                   \
    {                                                                                        \
        (void)n; (void)a; (void)o;                                                           \
        char t[96];                                                                          \
        lint_text(a->value, t, sizeof t);                                                    \
        __VA_ARGS__                                                                          \
    }                                                                                        \
    static void fname##_name(smime_lint_ctx *c, const smime_name *n, const char *where)      \
    {                                                                                        \
        each_orgid(c, n, where, fname##_one);                                                \
    }                                                                                        \
    void lint_##fname(smime_lint_ctx *c) { lint_each_name(c, fname##_name); }

ORGID_LINT(orgid_01, {
    if (a->tag != SMIME_DER_PRINTABLE_STRING && a->tag != SMIME_DER_UTF8_STRING)
        lint_report(c, f, "organizationIdentifier must be a PrintableString or UTF8String");
})

ORGID_LINT(orgid_02, {
    if (!o->grammar_ok)
        lint_report(c, f, "organizationIdentifier \"%s\" does not match scheme CC [+subdivision] [-reference]", t);
    else if (!known_scheme(o))
        lint_report(c, f, "organizationIdentifier \"%s\": unknown registration scheme (NTR, VAT, PSD, LEI, GOV, INT)", t);
})

ORGID_LINT(orgid_03, {
    if (!o->grammar_ok || !known_scheme(o))
        return;
    int needs = scheme_is(o, "NTR") || scheme_is(o, "VAT") || scheme_is(o, "PSD") || scheme_is(o, "LEI");
    if (needs && !o->has_ref)
        lint_report(c, f, "organizationIdentifier \"%s\": registration reference missing for this scheme", t);
    if (!needs && o->has_ref)
        lint_report(c, f, "organizationIdentifier \"%s\": GOV and INT carry no registration reference", t);
})

ORGID_LINT(orgid_04, {
    if (!o->grammar_ok || !scheme_is(o, "LEI"))
        return;
    if (o->country.p[0] != 'X' || o->country.p[1] != 'G')
        lint_report(c, f, "organizationIdentifier \"%s\": LEI scheme must use country XG", t);
    if (o->has_ref && !lint_lei_valid(o->ref))
        lint_report(c, f, "organizationIdentifier \"%s\": reference is not a valid LEI (ISO 17442 checksum)", t);
})

ORGID_LINT(orgid_05, {
    if (o->grammar_ok && scheme_is(o, "INT") && (o->country.p[0] != 'X' || o->country.p[1] != 'G'))
        lint_report(c, f, "organizationIdentifier \"%s\": INT scheme must use country XG", t);
})

ORGID_LINT(orgid_06, {
    if (!o->grammar_ok)
        return;
    int iso = lint_iso3166(o->country.p);
    int art215 = (o->country.p[0] == 'E' && o->country.p[1] == 'L') || (o->country.p[0] == 'X' && o->country.p[1] == 'I');
    if ((scheme_is(o, "NTR") || scheme_is(o, "PSD") || scheme_is(o, "GOV")) && !iso)
        lint_report(c, f, "organizationIdentifier \"%s\": country is not an ISO 3166-1 code", t);
    if (scheme_is(o, "VAT") && !iso && !art215)
        lint_report(c, f, "organizationIdentifier \"%s\": VAT country is neither ISO 3166-1 nor an Art. 215 prefix", t);
})

ORGID_LINT(orgid_07, {
    if (o->grammar_ok && o->has_subdiv && known_scheme(o) && !scheme_is(o, "NTR") && !scheme_is(o, "GOV"))
        lint_report(c, f, "organizationIdentifier \"%s\": a state/province (+subdivision) is allowed only for NTR and GOV", t);
})

ORGID_LINT(orgid_08, {
    if (!o->grammar_ok || scheme_is(o, "LEI") || scheme_is(o, "INT"))
        return;
    uint8_t want[2] = { o->country.p[0], o->country.p[1] };
    if (scheme_is(o, "VAT") && want[0] == 'E' && want[1] == 'L') { want[0] = 'G'; want[1] = 'R'; }
    if (scheme_is(o, "VAT") && want[0] == 'X' && want[1] == 'I') { want[0] = 'G'; want[1] = 'B'; }
    for (size_t i = 0; i < n->n; i++)
        if (SMIME_OID_EQ(n->a[i].oid, OID_AT_C)
            && !(n->a[i].value.len == 2 && n->a[i].value.p[0] == want[0] && n->a[i].value.p[1] == want[1])) {
            char cc[8];
            lint_report(c, f, "organizationIdentifier \"%s\" country does not match countryName \"%s\"", t,
                        lint_text(n->a[i].value, cc, sizeof cc));
        }
})

ORGID_LINT(orgid_09, {
    if (!o->grammar_ok || !scheme_is(o, "PSD") || !o->has_ref)
        return;
    size_t k = 0;
    while (k < o->ref.len && o->ref.p[k] >= 'A' && o->ref.p[k] <= 'Z')
        k++;
    if (k < 2 || k > 8 || k + 1 >= o->ref.len || o->ref.p[k] != '-')
        lint_report(c, f, "organizationIdentifier \"%s\": PSD reference must be NCA-id \"-\" authorization number (ETSI TS 119 495)", t);
})

static const char eu_eea[] = "ATBEBGHRCYCZDKEEFIFRDEGRIEITLVLTLUMTNLPLPTROSKSIESSEISLINO";
static const char european[] = "ATBEBGHRCYCZDKEEFIFRDEGRIEITLVLTLUMTNLPLPTROSKSIESSEISLINOCHGBADMCSMVAALBAMEMKRSUAMDBYRUTRGIFOGGJEIMAX";

/* EUID: CC + register id + "." + local number. */
static int euid_shaped(smime_span r)
{
    if (r.len < 5 || !(r.p[0] >= 'A' && r.p[0] <= 'Z') || !(r.p[1] >= 'A' && r.p[1] <= 'Z'))
        return 0;
    const uint8_t *dot = memchr(r.p + 2, '.', r.len - 2);
    return dot && dot > r.p + 2 && dot < r.p + r.len - 1;
}

ORGID_LINT(orgid_10, {
    if (!o->grammar_ok || !scheme_is(o, "NTR"))
        return;
    int german = o->country.p[0] == 'D' && o->country.p[1] == 'E';
    if (o->has_ref && euid_shaped(o->ref) && code_in(eu_eea, o->country.p)
        && (o->ref.p[0] != o->country.p[0] || o->ref.p[1] != o->country.p[1]))
        /* For Germany a reference with another EUID country is "not a German EUID":
         * the SHOULD of SBR 7.1.4.2.2(d), a warning (as pkilint); elsewhere an error. */
        lint_report_sev(c, german ? SMIME_SEV_WARNING : SMIME_SEV_ERROR, f,
                        "organizationIdentifier \"%s\": the EUID country code differs from the orgId country", t);
    else if (german && (o->has_subdiv || !o->has_ref || !euid_shaped(o->ref)))
        lint_report_sev(c, SMIME_SEV_WARNING, f, "organizationIdentifier \"%s\": German NTR registrations should use the EUID (NTRDE-DE<register>.<number>)", t);
})

ORGID_LINT(orgid_11, {
    if (o->grammar_ok && scheme_is(o, "NTR") && o->has_subdiv && code_in(european, o->country.p))
        lint_report(c, f, "organizationIdentifier \"%s\": between 2024-11-22 and 2025-05-13 an NTR orgId of a European country must be country-level", t);
})

void lint_orgid_12(smime_lint_ctx *c);
static void orgid_12_name(smime_lint_ctx *c, const smime_name *n, const char *where)
{
    char f[96];
    field_of(f, sizeof f, where, "organizationIdentifier");
    if (FIND(n, OID_AT_ORGID))
        lint_report(c, f, "organizationIdentifier is allowed only in organization and sponsor certificates");
}
void lint_orgid_12(smime_lint_ctx *c) { lint_each_name(c, orgid_12_name); }
