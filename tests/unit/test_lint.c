/* Unit tests of the linter engine: classification, scope and date handling, the
 * JSON writer, decoding failures and the consistency of the lint table.  The
 * per-lint pass/fail pairs are in test_lint_pairs.c.  Run from the project root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "smime/util/buf.h"
#include "smime/util/json.h"
#include "smime/lint/lint.h"
#include "smime/lint/rule.h"
#include "smime/crypto/pem.h"
#include "smime/crypto/x509.h"

#define NOW 1795824000LL   /* 2026-11-28 */

typedef struct chain {
    char       text[1 << 16];
    smime_span c[1 + SMIME_LINT_MAX_ISSUERS];
    int        n;
} chain;

static void load(chain *ch, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/lint/certs/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t len = fread(ch->text, 1, sizeof ch->text - 1, f);
    fclose(f);
    ch->n = smime_pem_certs(ch->text, len, ch->c, 1 + SMIME_LINT_MAX_ISSUERS);
    assert_true(ch->n >= 1);
}

static smime_lint_result *lint(const chain *ch, int with_chain, const char *force, int all_dates)
{
    smime_lint_options o = { .all_dates = all_dates, .now = NOW };
    if (force)
        assert_int_equal(smime_lint_parse_profile(force, &o.force_type, &o.force_gen), 0);
    smime_lint_result *r = NULL;
    assert_int_equal(smime_lint_cert(ch->c[0].p, ch->c[0].len, ch->c + 1,
                                     with_chain ? (size_t)(ch->n - 1) : 0, &o, &r), 0);
    assert_non_null(r);
    return r;
}

static const smime_lint_finding *find(const smime_lint_result *r, const char *id)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].id, id) == 0)
            return &r->findings[i];
    return NULL;
}

static void test_profile_names(void **state)
{
    (void)state;
    smime_lint_type t;
    smime_lint_gen g;
    assert_int_equal(smime_lint_parse_profile("organization-multipurpose", &t, &g), 0);
    assert_int_equal(t, SMIME_TYPE_ORGANIZATION);
    assert_int_equal(g, SMIME_GEN_MULTIPURPOSE);
    assert_int_equal(smime_lint_parse_profile("sponsored-strict", &t, &g), 0);
    assert_int_equal(t, SMIME_TYPE_SPONSOR);
    assert_int_equal(smime_lint_parse_profile("mailbox", &t, &g), -1);
    assert_int_equal(smime_lint_parse_profile("mailbox-modern", &t, &g), -1);
    assert_string_equal(smime_lint_type_name(SMIME_TYPE_INDIVIDUAL), "individual");
    assert_null(smime_lint_gen_name(SMIME_GEN_NONE));
    assert_string_equal(smime_lint_severity_name(SMIME_SEV_NOTICE), "notice");
}

static void test_good_certificate_is_classified_and_clean(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "good-organization-strict.pem");
    assert_int_equal(ch.n, 3);
    smime_lint_result *r = lint(&ch, 1, NULL, 0);
    assert_int_equal(r->type, SMIME_TYPE_ORGANIZATION);
    assert_int_equal(r->generation, SMIME_GEN_STRICT);
    assert_string_equal(r->policy_oid, "2.23.140.1.5.2.3");
    assert_true(r->scope & SMIME_SCOPE_IN_SBR);
    assert_false(r->scope & (SMIME_SCOPE_FORCED | SMIME_SCOPE_GUESSED | SMIME_SCOPE_PRE_SBR));
    for (size_t i = 0; i < r->nfindings; i++)
        printf("unexpected: %s %s\n", r->findings[i].id, r->findings[i].message);
    assert_int_equal(smime_lint_count(r, SMIME_SEV_ERROR), 0);
    assert_int_equal(smime_lint_count(r, SMIME_SEV_WARNING), 0);
    smime_lint_result_free(r);
}

static void test_forced_profile_mismatch(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "good-mailbox-multipurpose.pem");
    smime_lint_result *r = lint(&ch, 0, "mailbox-strict", 0);
    assert_int_equal(r->generation, SMIME_GEN_STRICT);
    assert_true(r->scope & SMIME_SCOPE_FORCED);
    const smime_lint_finding *f = find(r, "CLS-EXACTLY-ONE");
    assert_non_null(f);
    assert_int_equal(f->severity, SMIME_SEV_ERROR);
    assert_non_null(strstr(f->message, "2.23.140.1.5.1.3"));
    smime_lint_result_free(r);
}

static void test_no_reserved_oid_guesses_type(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "CLS-NONE.fail.pem");
    smime_lint_result *r = lint(&ch, 0, NULL, 0);
    assert_true(r->scope & SMIME_SCOPE_GUESSED);
    assert_int_equal(r->type, SMIME_TYPE_MAILBOX);
    assert_int_equal(r->generation, SMIME_GEN_LEGACY);
    assert_string_equal(r->policy_oid, "");
    assert_non_null(find(r, "CLS-NONE"));
    smime_lint_result_free(r);
}

static void test_several_reserved_oids_use_the_first(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "CLS-MULTI.fail.pem");
    smime_lint_result *r = lint(&ch, 0, NULL, 0);
    assert_string_equal(r->policy_oid, "2.23.140.1.5.1.3");
    assert_int_equal(r->type, SMIME_TYPE_MAILBOX);
    assert_non_null(find(r, "CLS-MULTI"));
    smime_lint_result_free(r);
}

static void test_pre_sbr_certificate_is_skipped_unless_all_dates(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "CLS-DATE.fail.pem");
    smime_lint_result *r = lint(&ch, 0, NULL, 0);
    assert_true(r->scope & SMIME_SCOPE_PRE_SBR);
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].id, "CLS-DATE");
    assert_int_equal(r->findings[0].severity, SMIME_SEV_INFO);
    smime_lint_result_free(r);
    /* The same certificate with --all-dates: linted (it is valid 365 days, fine),
     * the CLS-DATE note stays. */
    r = lint(&ch, 0, NULL, 1);
    assert_non_null(find(r, "CLS-DATE"));
    smime_lint_result_free(r);
}

static void test_fixed_dates_survive_all_dates(void **state)
{
    (void)state;
    static chain ch;
    /* A Legacy certificate from 2025-01-01: the Legacy sunset (2025-07-15) is a
     * date in the rule itself, so --all-dates does not make it fire. */
    load(&ch, "good-mailbox-legacy.pem");
    smime_lint_result *r = lint(&ch, 1, NULL, 1);
    assert_null(find(r, "CLS-LEGACY-SUNSET"));
    smime_lint_result_free(r);
    load(&ch, "CLS-LEGACY-SUNSET.fail.pem");
    r = lint(&ch, 1, NULL, 0);
    assert_non_null(find(r, "CLS-LEGACY-SUNSET"));
    smime_lint_result_free(r);
}

/* The OID 2.23.140.1.5.T.G in a DER certificate, moved out of the SBR arc
 * (2.23.140.1.6.T.G) in place: same length, so the certificate still decodes. */
static void unassert_policy(uint8_t *der, size_t len)
{
    static const uint8_t arc[] = { 0x06, 0x07, 0x67, 0x81, 0x0c, 0x01, 0x05 };
    int moved = 0;
    for (size_t i = 0; i + sizeof arc <= len; i++)
        if (memcmp(der + i, arc, sizeof arc) == 0) {
            der[i + sizeof arc - 1] = 0x06;
            moved++;
        }
    assert_int_equal(moved, 1);
}

static void test_out_of_scope_runs_no_sbr_lints(void **state)
{
    (void)state;
    static chain ch;
    static uint8_t der[1 << 14];
    load(&ch, "CLS-SCOPE.fail.pem");
    assert_true(ch.c[0].len <= sizeof der);
    memcpy(der, ch.c[0].p, ch.c[0].len);
    unassert_policy(der, ch.c[0].len);
    smime_lint_options o = { .now = NOW };
    smime_lint_result *r = NULL;
    assert_int_equal(smime_lint_cert(der, ch.c[0].len, NULL, 0, &o, &r), 0);
    assert_false(r->scope & SMIME_SCOPE_IN_SBR);
    assert_false(r->scope & SMIME_SCOPE_ASSERTED);
    assert_true(r->scope & SMIME_SCOPE_SAN_MAILBOX);
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].id, "CLS-SCOPE");
    assert_int_equal(r->findings[0].severity, SMIME_SEV_INFO);
    smime_lint_result_free(r);
}

/* CLS-ASSERTED: the same certificate asserting 2.23.140.1.5.1.3 without
 * emailProtection is linted in full, and the missing key purpose is an error. */
static void test_asserted_is_linted_in_full(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "CLS-SCOPE.fail.pem");
    smime_lint_result *r = lint(&ch, 1, NULL, 0);
    assert_false(r->scope & SMIME_SCOPE_IN_SBR);
    assert_true(r->scope & SMIME_SCOPE_ASSERTED);
    assert_non_null(find(r, "CLS-SCOPE"));
    const smime_lint_finding *f = find(r, "EKU-02");
    assert_non_null(f);
    assert_int_equal(f->severity, SMIME_SEV_ERROR);
    assert_false(f->pre_sbr);
    char eff[16];
    assert_string_equal(smime_lint_effective_text(f, eff, sizeof eff), "2023-09-01");
    assert_true(smime_lint_count_enforceable(r, SMIME_SEV_ERROR) >= 1);
    smime_lint_result_free(r);
}

/* A certificate from before 2023-09-01 that asserts a reserved OID gets its
 * findings at their own severity, marked pre-SBR, and none is enforceable; one
 * that asserts nothing gets only the date note. */
static void test_pre_sbr_findings_are_marked(void **state)
{
    (void)state;
    static chain ch;
    static uint8_t der[1 << 14];
    load(&ch, "CLS-DATE.fail.pem");
    smime_lint_result *r = lint(&ch, 1, NULL, 0);
    assert_true(r->scope & SMIME_SCOPE_PRE_SBR);
    assert_true(r->scope & SMIME_SCOPE_ASSERTED);
    size_t before_sbr = r->nfindings;
    for (size_t i = 0; i < r->nfindings; i++)
        assert_true(r->findings[i].pre_sbr);
    smime_lint_result_free(r);
    /* An error on it (linted as another generation than it asserts, so
     * CLS-EXACTLY-ONE fires) keeps its severity but is not enforceable. */
    r = lint(&ch, 1, "mailbox-legacy", 0);
    const smime_lint_finding *f = find(r, "CLS-EXACTLY-ONE");
    assert_non_null(f);
    assert_int_equal(f->severity, SMIME_SEV_ERROR);
    assert_true(f->pre_sbr);
    assert_true(smime_lint_count(r, SMIME_SEV_ERROR) >= 1);
    assert_int_equal(smime_lint_count_enforceable(r, SMIME_SEV_ERROR), 0);
    smime_lint_result_free(r);
    /* Asserting nothing: the SBR lints are skipped, only CLS-DATE (and CLS-NONE
     * is not reported, since no SBR lint ran). */
    assert_true(ch.c[0].len <= sizeof der);
    memcpy(der, ch.c[0].p, ch.c[0].len);
    unassert_policy(der, ch.c[0].len);
    smime_lint_options o = { .now = NOW };
    assert_int_equal(smime_lint_cert(der, ch.c[0].len, NULL, 0, &o, &r), 0);
    assert_false(r->scope & SMIME_SCOPE_ASSERTED);
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].id, "CLS-DATE");
    assert_true(before_sbr >= 1);
    smime_lint_result_free(r);
}

/* A pre-SBR certificate that asserts the SBR is held to the rules as they stand:
 * a rule that starts later (SAN-UTF8-ALABEL, 2024-08-29) applies to it too. */
static void test_pre_sbr_is_held_to_later_rules(void **state)
{
    (void)state;
    static chain ch;
    static uint8_t der[1 << 14];
    load(&ch, "SAN-UTF8-ALABEL.fail.pem");
    assert_true(ch.c[0].len <= sizeof der);
    memcpy(der, ch.c[0].p, ch.c[0].len);
    /* notBefore 260101000000Z -> 230101000000Z, in place (first UTCTime). */
    static const uint8_t nb[] = { 0x17, 0x0d, '2', '6', '0', '1', '0', '1' };
    uint8_t *at = NULL;
    for (size_t i = 0; i + sizeof nb <= ch.c[0].len && !at; i++)
        if (memcmp(der + i, nb, sizeof nb) == 0)
            at = der + i;
    assert_non_null(at);
    at[3] = '3';
    smime_lint_options o = { .now = NOW };
    smime_lint_result *r = NULL;
    assert_int_equal(smime_lint_cert(der, ch.c[0].len, NULL, 0, &o, &r), 0);
    assert_true(r->scope & SMIME_SCOPE_PRE_SBR);
    const smime_lint_finding *f = find(r, "SAN-UTF8-ALABEL");
    assert_non_null(f);
    assert_true(f->pre_sbr);
    char eff[16];
    assert_string_equal(smime_lint_effective_text(f, eff, sizeof eff), "2024-08-29");
    smime_lint_result_free(r);
}

/* Algorithms are named for people, with their parameters. */
static void test_algorithm_names(void **state)
{
    (void)state;
    char out[160];
    static const uint8_t p224[] = { 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                    0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21 };
    static const uint8_t rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                          0x01, 0x01, 0x0b, 0x05, 0x00 };
    static const uint8_t unknown[] = { 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03 };
    static const uint8_t junk[] = { 0x04, 0x00 };
    assert_string_equal(smime_lint_alg_name((smime_span){ p224, sizeof p224 }, out, sizeof out),
                        "id-ecPublicKey (P-224)");
    assert_string_equal(smime_lint_alg_name((smime_span){ rsa_sha256, sizeof rsa_sha256 }, out, sizeof out),
                        "sha256WithRSAEncryption (NULL parameters)");
    assert_string_equal(smime_lint_alg_name((smime_span){ unknown, sizeof unknown }, out, sizeof out),
                        "1.2.3 (no parameters)");
    assert_string_equal(smime_lint_alg_name((smime_span){ junk, sizeof junk }, out, sizeof out),
                        "(malformed AlgorithmIdentifier)");
    /* A short buffer is cut, still terminated. */
    assert_string_equal(smime_lint_alg_name((smime_span){ p224, sizeof p224 }, out, 8), "id-ecPu");
}

/* A CA certificate given alone (lint_ca) is linted by the CA rules. */
static void test_ca_alone_is_linted_as_a_ca(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "SUBCA-EKU-1.fail.pem");
    assert_true(ch.n >= 2);
    smime_lint_options o = { .now = NOW, .lint_ca = 1 };
    smime_lint_result *r = NULL;
    assert_int_equal(smime_lint_cert(ch.c[1].p, ch.c[1].len, ch.c + 2, (size_t)(ch.n - 2), &o, &r), 0);
    assert_true(r->scope & SMIME_SCOPE_CA);
    assert_int_equal(r->type, SMIME_TYPE_NONE);
    const smime_lint_finding *f = find(r, "SUBCA-EKU-1");
    assert_non_null(f);
    assert_int_equal(f->cert, 0);
    assert_int_equal(r->issuer_signature, SMIME_ISSUER_SIG_VERIFIED);   /* by the root given */
    assert_null(find(r, "EKU-02"));     /* no subscriber rule ran */
    assert_null(find(r, "CLS-SCOPE"));
    smime_lint_result_free(r);
    /* Without lint_ca the same certificate is a (bad) subscriber. */
    o.lint_ca = 0;
    assert_int_equal(smime_lint_cert(ch.c[1].p, ch.c[1].len, NULL, 0, &o, &r), 0);
    assert_false(r->scope & SMIME_SCOPE_CA);
    assert_non_null(find(r, "BC-01"));
    smime_lint_result_free(r);
    /* A subscriber certificate with cA TRUE but no keyCertSign stays a subscriber. */
    load(&ch, "BC-01.fail.pem");
    o.lint_ca = 1;
    assert_int_equal(smime_lint_cert(ch.c[0].p, ch.c[0].len, NULL, 0, &o, &r), 0);
    assert_false(r->scope & SMIME_SCOPE_CA);
    assert_non_null(find(r, "BC-01"));
    smime_lint_result_free(r);
}

static void test_undecodable_input_is_a_finding(void **state)
{
    (void)state;
    static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
    smime_lint_options o = { .now = NOW };
    smime_lint_result *r = NULL;
    assert_int_equal(smime_lint_cert(junk, sizeof junk, NULL, 0, &o, &r), 0);
    assert_true(r->scope & SMIME_SCOPE_UNPARSABLE);
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].id, "GEN-DER");
    assert_int_equal(r->findings[0].severity, SMIME_SEV_ERROR);
    smime_lint_result_free(r);
    /* Truncated certificate. */
    static chain ch;
    load(&ch, "good-mailbox-strict.pem");
    assert_int_equal(smime_lint_cert(ch.c[0].p, ch.c[0].len - 1, NULL, 0, &o, &r), 0);
    assert_true(r->scope & SMIME_SCOPE_UNPARSABLE);
    smime_lint_result_free(r);
}

static void test_chain_findings_name_the_issuer(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "SUBCA-EKU-1.fail.pem");
    smime_lint_result *r = lint(&ch, 1, NULL, 0);
    const smime_lint_finding *f = find(r, "SUBCA-EKU-1");
    assert_non_null(f);
    assert_int_equal(f->cert, 1);
    assert_non_null(find(r, "CA-EXTANT-END"));
    smime_lint_result_free(r);
    /* Without the chain, no chain lint runs. */
    r = lint(&ch, 0, NULL, 0);
    assert_null(find(r, "SUBCA-EKU-1"));
    assert_null(find(r, "CA-EXTANT-END"));
    smime_lint_result_free(r);
}

/* Remembered results (smime/memo.h) stay right only if every rule that reads the
 * evaluation time moves smime_lint_time_epoch: DATE-14 switches on 2026-05-05. */
static void test_time_epoch_and_pack(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "DATE-14.fail.pem");
    smime_lint_options before = { .now = T_2026_05_05 - 1 };
    smime_lint_options after = before;
    after.now = T_2026_05_05;
    assert_int_not_equal(smime_lint_time_epoch(before.now), smime_lint_time_epoch(after.now));
    assert_int_equal(smime_lint_time_epoch(after.now), smime_lint_time_epoch(NOW));
    smime_lint_result *r0 = NULL, *r1 = NULL;
    assert_int_equal(smime_lint_cert(ch.c[0].p, ch.c[0].len, ch.c + 1, (size_t)(ch.n - 1), &before, &r0), 0);
    assert_int_equal(smime_lint_cert(ch.c[0].p, ch.c[0].len, ch.c + 1, (size_t)(ch.n - 1), &after, &r1), 0);
    assert_null(find(r0, "DATE-14"));
    assert_non_null(find(r1, "DATE-14"));

    /* pack and unpack give back the same findings; a short buffer or a damaged
     * block is refused */
    static unsigned char block[1 << 16];
    size_t len = smime_lint_result_pack(r1, block, sizeof block);
    assert_true(len > sizeof(*r1));
    assert_int_equal(smime_lint_result_pack(r1, block, len - 1), 0);
    smime_lint_result *back = NULL;
    assert_int_equal(smime_lint_result_unpack(block, len, &back), 0);
    assert_int_equal(back->nfindings, r1->nfindings);
    assert_int_equal(back->type, r1->type);
    assert_int_equal(back->scope, r1->scope);
    for (size_t i = 0; i < r1->nfindings; i++) {
        assert_string_equal(back->findings[i].id, r1->findings[i].id);
        assert_string_equal(back->findings[i].message, r1->findings[i].message);
    }
    smime_lint_result_free(back);
    assert_int_equal(smime_lint_result_unpack(block, len - 1, &back), -1);
    assert_null(back);
    smime_lint_result_free(r0);
    smime_lint_result_free(r1);
}

static void test_json_output(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "KU-04.fail.pem");
    smime_lint_result *r = lint(&ch, 1, NULL, 0);
    smime_buf out;
    smime_json j;
    smime_buf_init(&out, 1 << 20);
    smime_json_init(&j, &out);
    smime_json_begin_object(&j, NULL);
    smime_json_string(&j, "file", "x.pem");
    smime_lint_result_json(r, &j);
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_non_null(strstr(out.data, "{\"file\":\"x.pem\",\"type\":\"mailbox\",\"generation\":\"strict\","
                                     "\"policy_oid\":\"2.23.140.1.5.1.3\""));
    assert_non_null(strstr(out.data, "\"id\":\"KU-04\",\"severity\":\"error\",\"section\":\"7.1.2.3(e)\",\"message\":"));
    assert_non_null(strstr(out.data, "\"field\":\"extensions.keyUsage\""));
    smime_buf_free(&out);
    smime_lint_result_free(r);

    /* No reserved OID: type and generation are the guess, policy_oid null. */
    load(&ch, "CLS-NONE.fail.pem");
    r = lint(&ch, 0, NULL, 0);
    smime_buf_init(&out, 1 << 20);
    smime_json_init(&j, &out);
    smime_json_begin_object(&j, NULL);
    smime_lint_result_json(r, &j);
    smime_json_end_object(&j);
    assert_true(smime_json_ok(&j));
    assert_non_null(strstr(out.data, "\"policy_oid\":null"));
    assert_non_null(strstr(out.data, "\"type_guessed\":true"));
    smime_buf_free(&out);
    smime_lint_result_free(r);
}

static int section_ok(const char *s)
{
    if (strcmp(s, "Appendix B") == 0)
        return 1;
    size_t i = 0;
    while ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')
        i++;
    if (i == 0)
        return 0;
    if (s[i] == '\0')
        return 1;
    return s[i] == '(' && s[i + 1] >= 'a' && s[i + 1] <= 'z' && s[i + 2] == ')' && s[i + 3] == '\0';
}

static void test_lint_table_is_consistent(void **state)
{
    (void)state;
    size_t n;
    const smime_lint_def *t = smime_lint_table(&n);
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].id);
        assert_non_null(t[i].check);
        assert_true(t[i].description && strlen(t[i].description) > 10);
        if (!section_ok(t[i].section))
            fail_msg("%s: section \"%s\" is not written like 7.1.2.3(b)", t[i].id, t[i].section);
        assert_true(t[i].types != 0 && t[i].gens != 0);
        assert_true(t[i].severity <= SMIME_SEV_ERROR);
        assert_true(t[i].until == 0 || t[i].until > t[i].from);
        for (size_t k = 0; k < i; k++)
            if (strcmp(t[i].id, t[k].id) == 0)
                fail_msg("duplicate lint ID %s", t[i].id);
    }
}

static void test_date_constants(void **state)
{
    (void)state;
    /* The rule dates of REQUIREMENTS §1.2, as used by the table. */
    assert_int_equal(T_2023_09_01, smime_der_epoch(2023, 9, 1, 0, 0, 0));
    assert_int_equal(T_2024_05_11, smime_der_epoch(2024, 5, 11, 0, 0, 0));
    assert_int_equal(T_2024_08_29, smime_der_epoch(2024, 8, 29, 0, 0, 0));
    assert_int_equal(T_2024_09_15, smime_der_epoch(2024, 9, 15, 0, 0, 0));
    assert_int_equal(T_2024_11_22, smime_der_epoch(2024, 11, 22, 0, 0, 0));
    assert_int_equal(T_2025_05_14, smime_der_epoch(2025, 5, 14, 0, 0, 0));
    assert_int_equal(T_2025_07_15, smime_der_epoch(2025, 7, 15, 0, 0, 0));
    assert_int_equal(T_2025_08_22, smime_der_epoch(2025, 8, 22, 0, 0, 0));
    assert_int_equal(T_2026_05_05, smime_der_epoch(2026, 5, 5, 0, 0, 0));
    assert_int_equal(T_2026_09_15, smime_der_epoch(2026, 9, 15, 0, 0, 0));
    assert_int_equal(T_2027_07_01, smime_der_epoch(2027, 7, 1, 0, 0, 0));
    assert_int_equal(T_2027_09_15, smime_der_epoch(2027, 9, 15, 0, 0, 0));
    assert_int_equal(NOW, smime_der_epoch(2026, 11, 28, 0, 0, 0));
}

static void test_x509_parse(void **state)
{
    (void)state;
    static chain ch;
    load(&ch, "good-sponsor-strict.pem");
    smime_x509 x;
    char err[128];
    assert_int_equal(smime_x509_parse(ch.c[0].p, ch.c[0].len, &x, err, sizeof err), 0);
    assert_int_equal(x.version, 3);
    assert_true(x.next >= 8);
    assert_non_null(SMIME_X509_EXT(&x, "\x55\x1d\x11"));
    smime_name nm;
    assert_int_equal(smime_name_parse(x.subject, &nm), 0);
    assert_int_equal(nm.n, 6);
    /* trailing byte after the certificate */
    static uint8_t buf[8192];
    memcpy(buf, ch.c[0].p, ch.c[0].len);
    buf[ch.c[0].len] = 0;
    assert_int_equal(smime_x509_parse(buf, ch.c[0].len + 1, &x, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_names),
        cmocka_unit_test(test_good_certificate_is_classified_and_clean),
        cmocka_unit_test(test_forced_profile_mismatch),
        cmocka_unit_test(test_no_reserved_oid_guesses_type),
        cmocka_unit_test(test_several_reserved_oids_use_the_first),
        cmocka_unit_test(test_pre_sbr_certificate_is_skipped_unless_all_dates),
        cmocka_unit_test(test_fixed_dates_survive_all_dates),
        cmocka_unit_test(test_out_of_scope_runs_no_sbr_lints),
        cmocka_unit_test(test_asserted_is_linted_in_full),
        cmocka_unit_test(test_pre_sbr_findings_are_marked),
        cmocka_unit_test(test_pre_sbr_is_held_to_later_rules),
        cmocka_unit_test(test_algorithm_names),
        cmocka_unit_test(test_ca_alone_is_linted_as_a_ca),
        cmocka_unit_test(test_undecodable_input_is_a_finding),
        cmocka_unit_test(test_chain_findings_name_the_issuer),
        cmocka_unit_test(test_time_epoch_and_pack),
        cmocka_unit_test(test_json_output),
        cmocka_unit_test(test_lint_table_is_consistent),
        cmocka_unit_test(test_date_constants),
        cmocka_unit_test(test_x509_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
