/* rule - what the linter's files (src/lint/) share: the evaluation
 * context, the reporting helpers and the OID constants.  Not for callers outside
 * the linter; they use smime/lint/lint.h. */
#ifndef SMIME_LINT_RULE_H
#define SMIME_LINT_RULE_H

#include <stddef.h>
#include <stdint.h>
#include "smime/crypto/der.h"
#include "smime/lint/lint.h"
#include "smime/crypto/x509.h"

typedef struct smime_lint_ctx {
    const smime_lint_options *opt;
    smime_lint_result        *res;
    const smime_lint_def     *def;      /* the entry being run */
    const smime_x509         *cert;     /* the certificate the entry looks at */
    int                       cert_index;
    const smime_x509         *leaf;
    const smime_x509         *issuer;   /* direct issuer of the leaf, or NULL */
    const smime_x509         *cas;      /* issuers given, nearest first */
    size_t                    ncas;
    smime_lint_type           type;
    smime_lint_gen            gen;
    int                       guessed;
    int                       pre_sbr;  /* the subject certificate predates the SBR */
    int                       rule_dates_off; /* rules' own start dates not applied
                                               * (all_dates, or pre-SBR and asserted) */
    /* Policy classification of the leaf (filled before the table runs). */
    size_t                    n_reserved;
    smime_span                reserved[8];   /* more are not counted */
    size_t                    n_unknown_arc;
    smime_span                unknown_arc[4];
    int                       any_policy;
    smime_name                subject;  /* parsed leaf subject */
    int                       subject_ok;
    int                       oom;
} smime_lint_ctx;

/* The criticality lints: reports, with the entry's severity, when the extension
 * is present and its critical flag is not `critical`.  The wording follows the
 * severity ("must" for errors, "should" otherwise), as the SBR's SHALL/SHOULD. */
void lint_criticality(smime_lint_ctx *c, const char *oid, size_t oid_len, const char *name,
                      int critical);
#define LINT_CRITICALITY(c, lit, name, critical) \
    lint_criticality((c), (lit), sizeof(lit) - 1, (name), (critical))

/* Adds a finding of the current entry (its severity) about field. */
void lint_report(smime_lint_ctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lint_report_sev(smime_lint_ctx *c, smime_lint_severity sev, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 1 when a date-switched behaviour applies: rule dates off (all_dates, or a
 * pre-SBR certificate that asserts the SBR) or the checked cert's notBefore >= t. */
int  lint_after(const smime_lint_ctx *c, int64_t t);
/* Copies a value into out as printable text for messages (controls become '?'). */
const char *lint_text(smime_span v, char *out, size_t outsz);
/* Dotted OID text into out ("(bad OID)" when malformed). */
const char *lint_oid(smime_span oid, char *out, size_t outsz);

/* GeneralNames iteration helpers. */
typedef struct lint_gn {
    unsigned   tag;      /* context tag octet: 0xa0 otherName, 0x81 rfc822Name, ... */
    smime_span val;      /* content of the choice */
    smime_span other_oid;   /* for otherName */
    smime_der_tlv other_value; /* for otherName: the value inside [0] EXPLICIT */
    int        other_ok;
} lint_gn;
/* Decodes a GeneralNames SEQUENCE content into out (max entries); returns the count,
 * -1 when malformed or more than max. */
int lint_general_names(smime_span seq_content, lint_gn *out, int max);
/* The SAN extension value parsed: 0 ok, 1 absent, -1 malformed. */
int lint_san(const smime_x509 *c, lint_gn *out, int max, int *n);

/* Runs fn on the subject and on every SAN directoryName of the checked cert;
 * `where` names the Name for findings ("subject", "subjectAltName.directoryName[2]"). */
typedef void (*lint_name_fn)(smime_lint_ctx *c, const smime_name *n, const char *where);
void lint_each_name(smime_lint_ctx *c, lint_name_fn fn);
/* 1 when v is one of the cert's SAN mailboxes (rfc822Name or SmtpUTF8Mailbox):
 * local part compared exactly, domain ASCII case-insensitively. */
int  lint_san_has_mailbox(const smime_x509 *cert, smime_span v);

/* Shared key helpers (fields.c). */
enum { LINT_KEY_OTHER, LINT_KEY_RSA, LINT_KEY_EC, LINT_KEY_ED25519, LINT_KEY_ED448,
       LINT_KEY_MLDSA, LINT_KEY_MLKEM };
int    lint_key_kind(const smime_x509 *x);
int    lint_ec_curve(const smime_x509 *x);
size_t lint_rsa_bits(const smime_x509 *x);
int    lint_sig_alg_is_sha1(smime_span alg);
int    lint_sig_alg_allowed(const smime_lint_ctx *c, smime_span alg);
int    lint_spki_alg_allowed(smime_span alg);

/* Shared extension helpers (ext.c). */
int lint_ku_bits(const smime_x509 *x);      /* mask of 1 << bit, -1 absent, -2 malformed */
int lint_bc(const smime_x509 *x, int *ca, int *has_pathlen); /* 0 ok, 1 absent, -1 bad */
int lint_eku(const smime_x509 *x, smime_span *out, int max); /* count, -1 absent, -2 bad */
int lint_aki(const smime_x509 *x, smime_span *kid, int *has_kid, int *has_issuer_serial);
int lint_ski(const smime_x509 *x, smime_span *kid);          /* 0 ok, 1 absent, -1 bad */
int lint_lei_valid(smime_span v);

/* 1 when the domain name is empty, a single label or under a reserved internal
 * TLD such as .local or .internal (san.c). */
int lint_domain_internal(const uint8_t *p, size_t n);

/* 1 when v is a valid ASCII RFC 5321 Mailbox (san.c). */
int lint_mailbox_ok(smime_span v);

/* 1 when cc (2 octets) is an assigned ISO 3166-1 alpha-2 code (subject.c). */
int lint_iso3166(const uint8_t *cc);

/* Epoch constants (UTC midnight). */
#define T_2023_09_01 SMIME_SBR_START
#define T_2024_05_11 1715385600LL
#define T_2024_08_29 1724889600LL
#define T_2024_09_15 1726358400LL
#define T_2024_11_22 1732233600LL
#define T_2025_05_14 1747180800LL
#define T_2025_07_15 1752537600LL
#define T_2025_08_22 1755820800LL
#define T_2026_05_05 1777939200LL
#define T_2026_09_15 1789430400LL
#define T_2027_07_01 1814400000LL
#define T_2027_09_15 1820966400LL

/* OID content octets. */
#define OID_CP          "\x55\x1d\x20"
#define OID_ANY_POLICY  "\x55\x1d\x20\x00"
#define OID_CRLDP       "\x55\x1d\x1f"
#define OID_AIA         "\x2b\x06\x01\x05\x05\x07\x01\x01"
#define OID_BC          "\x55\x1d\x13"
#define OID_KU          "\x55\x1d\x0f"
#define OID_EKU         "\x55\x1d\x25"
#define OID_AKI         "\x55\x1d\x23"
#define OID_SKI         "\x55\x1d\x0e"
#define OID_SAN         "\x55\x1d\x11"
#define OID_NC          "\x55\x1d\x1e"
#define OID_SMIMECAPS   "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x0f"
#define OID_SDA         "\x55\x1d\x09"
#define OID_QC          "\x2b\x06\x01\x05\x05\x07\x01\x03"
#define OID_LEI         "\x2b\x06\x01\x04\x01\x83\x98\x2a\x01"
#define OID_LEI_ROLE    "\x2b\x06\x01\x04\x01\x83\x98\x2a\x02"
#define OID_ADOBE_TS    "\x2a\x86\x48\x86\xf7\x2f\x01\x01\x09\x01"
#define OID_ADOBE_ARI   "\x2a\x86\x48\x86\xf7\x2f\x01\x01\x09\x02"
#define OID_KP_SERVER   "\x2b\x06\x01\x05\x05\x07\x03\x01"
#define OID_KP_CLIENT   "\x2b\x06\x01\x05\x05\x07\x03\x02"
#define OID_KP_CODE     "\x2b\x06\x01\x05\x05\x07\x03\x03"
#define OID_KP_EMAIL    "\x2b\x06\x01\x05\x05\x07\x03\x04"
#define OID_KP_TS       "\x2b\x06\x01\x05\x05\x07\x03\x08"
#define OID_KP_OCSP     "\x2b\x06\x01\x05\x05\x07\x03\x09"
#define OID_ANY_EKU     "\x55\x1d\x25\x00"
#define OID_QT_CPS      "\x2b\x06\x01\x05\x05\x07\x02\x01"
#define OID_QT_UNOTICE  "\x2b\x06\x01\x05\x05\x07\x02\x02"
#define OID_AD_OCSP     "\x2b\x06\x01\x05\x05\x07\x30\x01"
#define OID_AD_CAISSUERS "\x2b\x06\x01\x05\x05\x07\x30\x02"
#define OID_ON_SMTPUTF8 "\x2b\x06\x01\x05\x05\x07\x08\x09"
#define OID_MS_UPN      "\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03"
#define OID_RSA         "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
#define OID_EC          "\x2a\x86\x48\xce\x3d\x02\x01"
#define OID_ED25519     "\x2b\x65\x70"
#define OID_ED448       "\x2b\x65\x71"
#define OID_MLDSA44     "\x60\x86\x48\x01\x65\x03\x04\x03\x11"
#define OID_MLDSA65     "\x60\x86\x48\x01\x65\x03\x04\x03\x12"
#define OID_MLDSA87     "\x60\x86\x48\x01\x65\x03\x04\x03\x13"
#define OID_MLKEM512    "\x60\x86\x48\x01\x65\x03\x04\x04\x01"
#define OID_MLKEM768    "\x60\x86\x48\x01\x65\x03\x04\x04\x02"
#define OID_MLKEM1024   "\x60\x86\x48\x01\x65\x03\x04\x04\x03"
#define OID_SMIME_ARC   "\x67\x81\x0c\x01\x05"  /* 2.23.140.1.5 */

/* Attribute types. */
#define OID_AT_CN       "\x55\x04\x03"
#define OID_AT_SURNAME  "\x55\x04\x04"
#define OID_AT_SERIAL   "\x55\x04\x05"
#define OID_AT_C        "\x55\x04\x06"
#define OID_AT_L        "\x55\x04\x07"
#define OID_AT_ST       "\x55\x04\x08"
#define OID_AT_STREET   "\x55\x04\x09"
#define OID_AT_O        "\x55\x04\x0a"
#define OID_AT_OU       "\x55\x04\x0b"
#define OID_AT_TITLE    "\x55\x04\x0c"
#define OID_AT_POSTAL   "\x55\x04\x11"
#define OID_AT_GIVEN    "\x55\x04\x2a"
#define OID_AT_PSEUDO   "\x55\x04\x41"
#define OID_AT_ORGID    "\x55\x04\x61"
#define OID_AT_EMAIL    "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"

/* Check functions, one per table entry (defined in the rule files of src/lint/). */
#define LINT_FN(name) void name(smime_lint_ctx *c)
/* classification / fields */
LINT_FN(lint_cls_scope); LINT_FN(lint_cls_date); LINT_FN(lint_cls_exactly_one);
LINT_FN(lint_cls_none); LINT_FN(lint_cls_multi); LINT_FN(lint_cls_unknown_arc);
LINT_FN(lint_cls_legacy_sunset); LINT_FN(lint_cls_anypolicy); LINT_FN(lint_gen_der);
LINT_FN(lint_ver_01); LINT_FN(lint_ser_01); LINT_FN(lint_ser_02); LINT_FN(lint_ser_03);
LINT_FN(lint_sig_01); LINT_FN(lint_sig_02); LINT_FN(lint_sig_03);
LINT_FN(lint_val_01); LINT_FN(lint_val_02); LINT_FN(lint_val_03); LINT_FN(lint_val_04);
LINT_FN(lint_nam_01); LINT_FN(lint_uid_01); LINT_FN(lint_ext_uniq); LINT_FN(lint_ext_other);
/* key */
LINT_FN(lint_spki_01); LINT_FN(lint_spki_rsa_1); LINT_FN(lint_spki_rsa_2);
LINT_FN(lint_spki_rsa_3); LINT_FN(lint_spki_rsa_4); LINT_FN(lint_spki_rsa_5);
LINT_FN(lint_spki_ec_1); LINT_FN(lint_spki_ec_2); LINT_FN(lint_spki_ed_1);
LINT_FN(lint_spki_mldsa_1); LINT_FN(lint_spki_mlkem_1); LINT_FN(lint_spki_overlay);
/* extensions */
LINT_FN(lint_cp_01); LINT_FN(lint_cp_02); LINT_FN(lint_cp_04); LINT_FN(lint_cp_05);
LINT_FN(lint_cp_06); LINT_FN(lint_cp_07); LINT_FN(lint_cp_08);
LINT_FN(lint_crl_01); LINT_FN(lint_crl_02); LINT_FN(lint_crl_03); LINT_FN(lint_crl_04);
LINT_FN(lint_crl_05); LINT_FN(lint_crl_06);
LINT_FN(lint_aia_01); LINT_FN(lint_aia_02); LINT_FN(lint_aia_03); LINT_FN(lint_aia_05);
LINT_FN(lint_aia_06); LINT_FN(lint_aia_07); LINT_FN(lint_aia_08); LINT_FN(lint_aia_09);
LINT_FN(lint_bc_01); LINT_FN(lint_bc_02);
LINT_FN(lint_ku_01); LINT_FN(lint_ku_02); LINT_FN(lint_ku_03); LINT_FN(lint_ku_04);
LINT_FN(lint_ku_05); LINT_FN(lint_ku_06);
LINT_FN(lint_eku_01); LINT_FN(lint_eku_02); LINT_FN(lint_eku_03); LINT_FN(lint_eku_04);
LINT_FN(lint_eku_05); LINT_FN(lint_eku_06); LINT_FN(lint_eku_2027);
LINT_FN(lint_aki_01); LINT_FN(lint_aki_02); LINT_FN(lint_aki_03); LINT_FN(lint_aki_04);
LINT_FN(lint_aki_05);
LINT_FN(lint_ski_01); LINT_FN(lint_ski_02); LINT_FN(lint_ski_03);
LINT_FN(lint_smc_01); LINT_FN(lint_sda_01); LINT_FN(lint_sda_02); LINT_FN(lint_sda_03);
LINT_FN(lint_qc_01); LINT_FN(lint_lei_01); LINT_FN(lint_lei_02); LINT_FN(lint_lei_03);
LINT_FN(lint_lei_04); LINT_FN(lint_adb_01); LINT_FN(lint_adb_02); LINT_FN(lint_adb_03);
/* subject (each runs on the subject and on every SAN directoryName) */
LINT_FN(lint_subj_01); LINT_FN(lint_subj_02); LINT_FN(lint_subj_03);
LINT_FN(lint_subj_name_req); LINT_FN(lint_subj_name_pseudo_excl); LINT_FN(lint_subj_cn_mbx);
LINT_FN(lint_subj_cn_ov); LINT_FN(lint_subj_cn_sviv); LINT_FN(lint_subj_cn_pseudo_excl);
LINT_FN(lint_subj_cn_len); LINT_FN(lint_subj_ub); LINT_FN(lint_subj_serial);
LINT_FN(lint_subj_email_01); LINT_FN(lint_subj_c_01); LINT_FN(lint_subj_addr_dep);
LINT_FN(lint_subj_meta); LINT_FN(lint_subj_enc); LINT_FN(lint_subj_html);
LINT_FN(lint_subj_multivalue);
LINT_FN(lint_orgid_01); LINT_FN(lint_orgid_02); LINT_FN(lint_orgid_03); LINT_FN(lint_orgid_04);
LINT_FN(lint_orgid_05); LINT_FN(lint_orgid_06); LINT_FN(lint_orgid_07); LINT_FN(lint_orgid_08);
LINT_FN(lint_orgid_09); LINT_FN(lint_orgid_10); LINT_FN(lint_orgid_11); LINT_FN(lint_orgid_12);
/* SAN */
LINT_FN(lint_san_01); LINT_FN(lint_san_02); LINT_FN(lint_san_03); LINT_FN(lint_san_04);
LINT_FN(lint_san_05); LINT_FN(lint_san_repeat); LINT_FN(lint_san_mbx_01);
LINT_FN(lint_san_mbx_02); LINT_FN(lint_san_utf8_01); LINT_FN(lint_san_utf8_02);
LINT_FN(lint_san_utf8_alabel); LINT_FN(lint_san_utf8_03); LINT_FN(lint_san_dup);
LINT_FN(lint_san_upn_01);
/* CA */
LINT_FN(lint_subca_bc); LINT_FN(lint_subca_ku); LINT_FN(lint_subca_eku_1);
LINT_FN(lint_subca_eku_2); LINT_FN(lint_subca_cp_1); LINT_FN(lint_subca_cp_2);
LINT_FN(lint_subca_crl); LINT_FN(lint_subca_aia); LINT_FN(lint_subca_aki);
LINT_FN(lint_subca_ski); LINT_FN(lint_subca_nc); LINT_FN(lint_subca_subj);
LINT_FN(lint_subca_sig); LINT_FN(lint_root_eku); LINT_FN(lint_ca_extant_end);
LINT_FN(lint_ca_rsa_4096); LINT_FN(lint_ca_rsa_3072_issue); LINT_FN(lint_ca_sha1);
LINT_FN(lint_subca_key); LINT_FN(lint_sig_04); LINT_FN(lint_subca_cp_3);

#endif
