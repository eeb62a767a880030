/* Unit tests of the per-sender signing policy (src/verdict/signing.c): the parser
 * and its errors, which rule matches, and what the decision becomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/lint/lint.h"
#include "smime/report/authres.h"
#include "smime/verdict/signing.h"
#include "smime/verdict/verify.h"

#define FP_A "67FAA83B18C747008D71862C4CAD769C4E2D744AF955653E0DD2A67D87C9273C"
#define FP_B "0000000000000000000000000000000000000000000000000000000000000001"

static int parse(const char *text, smime_signing_policy *p, char *err, size_t errlen)
{
    return smime_signing_parse(text, strlen(text), "pol", p, err, errlen);
}

/* Expects text to be refused with an error containing `want`. */
static void refused(const char *text, const char *want)
{
    smime_signing_policy p;
    char err[512] = "";
    assert_int_equal(parse(text, &p, err, sizeof(err)), -1);
    if (!strstr(err, want)) {
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err, want);
        fail();
    }
    smime_signing_free(&p);
}

static void test_parse_rule(void **state)
{
    (void)state;
    smime_signing_policy p;
    char err[512];
    const char *text =
        "# comment\n"
        "\n"
        "Partner.Example  results=pass,neutral ca=sha256:67:fa:a8:3b:18:c7:47:00:8d:71:86:2c:4c:ad"
        ":76:9c:4e:2d:74:4a:f9:55:65:3e:0d:d2:a6:7d:87:c9:27:3c,sha256:" FP_B
        " sbr=organization-strict,sponsored-strict,mailbox-any action=reject "
        "reply=\"550 5.7.1 partner \\\"must\\\" sign: %r\"  # trailing comment\n"
        "*.partner.example action=tag\n";
    assert_int_equal(parse(text, &p, err, sizeof(err)), 0);
    assert_int_equal(p.n, 2);
    const smime_signing_rule *r = smime_signing_match(&p, "ceo@partner.example");
    assert_non_null(r);
    assert_string_equal(r->pattern, "Partner.Example");
    assert_string_equal(r->key, "partner.example");
    assert_int_equal(r->kind, SMIME_SIGNING_DOMAIN);
    assert_int_equal(r->line, 3);
    assert_int_equal(r->results, (1u << SMIME_RESULT_PASS) | (1u << SMIME_RESULT_NEUTRAL));
    assert_int_equal(r->n_cas, 2);
    assert_string_equal(r->cas[0], FP_A);
    assert_string_equal(r->cas[1], FP_B);
    assert_int_equal(r->n_profiles, 3);
    assert_int_equal(r->profiles[0].type, SMIME_TYPE_ORGANIZATION);
    assert_int_equal(r->profiles[0].gen, SMIME_GEN_STRICT);
    assert_int_equal(r->profiles[1].type, SMIME_TYPE_SPONSOR);
    assert_int_equal(r->profiles[2].type, SMIME_TYPE_MAILBOX);
    assert_int_equal(r->profiles[2].gen, SMIME_GEN_NONE);
    assert_int_equal(r->action, SMIME_ACTION_REJECT);
    assert_string_equal(r->reply, "550 5.7.1 partner \"must\" sign: %r");
    const smime_signing_rule *w = smime_signing_match(&p, "x@a.partner.example");
    assert_non_null(w);
    assert_int_equal(w->kind, SMIME_SIGNING_SUBDOMAINS);
    assert_int_equal(w->action, SMIME_ACTION_ACCEPT);
    assert_int_equal(w->results, 1u << SMIME_RESULT_PASS);   /* the default */
    assert_string_equal(w->reply, "");
    smime_signing_free(&p);

    /* an empty file is a valid policy with no rules */
    assert_int_equal(parse("# nothing\n\n", &p, err, sizeof(err)), 0);
    assert_int_equal(p.n, 0);
    assert_null(smime_signing_match(&p, "a@b.example"));
    smime_signing_free(&p);
}

static void test_parse_errors(void **state)
{
    (void)state;
    refused("partner.example\nbad..example\n", "pol:2:");
    refused("partner.example results=maybe\n", "pol:1: results");
    refused("partner.example ca=sha1:00\n", "sha256:HEX");
    refused("partner.example ca=sha256:0011\n", "64 hex digits");
    refused("partner.example ca=sha256:" FP_A "00\n", "64 hex digits");
    refused("partner.example sbr=organization\n", "sbr:");
    refused("partner.example sbr=gold-strict\n", "sbr:");
    refused("partner.example action=bounce\n", "action:");
    refused("partner.example colour=blue\n", "unknown setting");
    refused("partner.example action=reject action=tempfail\n", "given twice");
    refused("partner.example results=\n", "needs a value");
    refused("partner.example results=pass,,fail\n", "empty item");
    refused("partner.example reply=\"550 5.7.1 x\n", "unterminated");
    refused("partner.example action=quarantine reply=\"550 5.7.1 x\"\n", "only for action=reject");
    refused("partner.example action=tempfail reply=\"550 5.7.1 x\"\n", "4xx");
    refused("partner.example reply=\"550 5.7.1 100%\"\n", "%r");
    refused("partner.example justaword\n", "key=value");
    refused("@partner.example\n", "no local part");
    refused("b\xc3\xbc" "cher.example\n", "A-labels");
    refused("a b@partner.example\n", "key=value");
    refused("partner.example\n# x\nPARTNER.example action=tag\n", "pol:3: \"PARTNER.example\" repeats the rule of line 1");
    {
        static const char nul[] = "partner.example\0x\n";
        smime_signing_policy p;
        char err[256] = "";
        assert_int_equal(smime_signing_parse(nul, sizeof(nul) - 1, "pol", &p, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "pol:1: NUL"));
        smime_signing_free(&p);
    }
    /* caps: a line longer than the limit, more rules than the limit */
    char *longline = malloc(SMIME_SIGNING_LINE_MAX + 32);
    assert_non_null(longline);
    memset(longline, 'a', SMIME_SIGNING_LINE_MAX + 8);
    memcpy(longline + SMIME_SIGNING_LINE_MAX + 8, ".example\n", 10);
    refused(longline, "line longer than");
    free(longline);
    size_t cap = (size_t)(SMIME_SIGNING_RULES_MAX + 1) * 24 + 1;
    char *many = malloc(cap);
    assert_non_null(many);
    size_t o = 0;
    for (unsigned i = 0; i <= SMIME_SIGNING_RULES_MAX; i++)
        o += (size_t)snprintf(many + o, cap - o, "d%u.example\n", i);
    refused(many, "more than 10000 rules");
    /* exactly the cap is fine */
    many[o - strlen("d10000.example\n")] = '\0';
    smime_signing_policy p;
    char err[256];
    assert_int_equal(parse(many, &p, err, sizeof(err)), 0);
    assert_int_equal(p.n, SMIME_SIGNING_RULES_MAX);
    assert_non_null(smime_signing_match(&p, "x@d9999.example"));
    assert_null(smime_signing_match(&p, "x@d10000.example"));
    smime_signing_free(&p);
    free(many);
}

/* Most specific wins: address, domain, the nearest wildcard; a bare domain rule
 * does not cover its subdomains, nor a wildcard the domain itself. */
static void test_match_precedence(void **state)
{
    (void)state;
    smime_signing_policy p;
    char err[256];
    const char *text = "partner.example action=reject\n"
                       ".partner.example action=quarantine\n"
                       "*.eu.partner.example action=tempfail\n"
                       "CEO@partner.example action=discard\n";
    assert_int_equal(parse(text, &p, err, sizeof(err)), 0);
    assert_int_equal(smime_signing_match(&p, "ceo@partner.example")->action, SMIME_ACTION_DISCARD);
    assert_int_equal(smime_signing_match(&p, "Ceo@PARTNER.example")->action, SMIME_ACTION_DISCARD);
    assert_int_equal(smime_signing_match(&p, "bob@partner.example")->action, SMIME_ACTION_REJECT);
    assert_int_equal(smime_signing_match(&p, "bob@partner.example.")->action, SMIME_ACTION_REJECT);
    assert_int_equal(smime_signing_match(&p, "bob@mx.partner.example")->action,
                     SMIME_ACTION_QUARANTINE);
    assert_int_equal(smime_signing_match(&p, "bob@eu.partner.example")->action,
                     SMIME_ACTION_QUARANTINE);
    assert_int_equal(smime_signing_match(&p, "bob@fr.eu.partner.example")->action,
                     SMIME_ACTION_TEMPFAIL);
    assert_int_equal(smime_signing_match(&p, "ceo@mx.partner.example")->action,
                     SMIME_ACTION_QUARANTINE);
    assert_null(smime_signing_match(&p, "bob@otherpartner.example"));
    assert_null(smime_signing_match(&p, "bob@partner.example.org"));
    assert_null(smime_signing_match(&p, "partner.example"));
    assert_null(smime_signing_match(&p, "bob@"));
    smime_signing_free(&p);

    /* an internationalized From domain meets the A-label rule */
    assert_int_equal(parse("xn--bcher-kva.example\n", &p, err, sizeof(err)), 0);
    assert_non_null(smime_signing_match(&p, "a@b\xc3\xbc" "cher.example"));
    smime_signing_free(&p);
}

static smime_sig_report *add_sig(smime_report *r, smime_result res, int covers, const char *fp,
                                 smime_lint_type t, smime_lint_gen g)
{
    smime_sig_report *s = smime_report_add_sig(r);
    assert_non_null(s);
    s->result = res;
    s->covers_message = covers;
    s->has_signer = 1;
    snprintf(s->reason, sizeof(s->reason), "sig reason");
    snprintf(s->identifier, sizeof(s->identifier), "ceo@partner.example");
    snprintf(s->signer.issuer, sizeof(s->signer.issuer), "CN=Some CA");
    s->chain_len = 2;
    snprintf(s->chain[0].sha256, sizeof(s->chain[0].sha256), "%s", FP_B);
    snprintf(s->chain[1].sha256, sizeof(s->chain[1].sha256), "%s", fp);
    if (t != SMIME_TYPE_NONE || g != SMIME_GEN_NONE) {
        s->lint = calloc(1, sizeof(*s->lint));
        assert_non_null(s->lint);
        s->lint->type = t;
        s->lint->generation = g;
    }
    return s;
}

static smime_report *report_from(const char *author)
{
    smime_report *r = smime_report_new();
    assert_non_null(r);
    if (author) {
        snprintf(r->authors.addr[0], SMIME_ADDR_MAX, "%s", author);
        r->authors.n = r->authors.total = 1;
        r->authors.from_headers = 1;
    }
    return r;
}

static void decide(const smime_signing_policy *p, smime_report *r, smime_decision *d)
{
    smime_policy pol;
    smime_policy_default(&pol);
    smime_policy_decide(&pol, r, d);
    smime_signing_decide(smime_signing_evaluate(p, r), r, d);
}

static void test_decision(void **state)
{
    (void)state;
    smime_signing_policy p;
    char err[256];
    const char *text = "partner.example ca=sha256:" FP_A " sbr=organization-strict,sponsor-strict "
                       "reply=\"550 5.7.1 partner.example must sign: %r\"\n";
    assert_int_equal(parse(text, &p, err, sizeof(err)), 0);
    smime_decision d;

    /* unlisted sender, unsigned: today's per-result action (accept) */
    smime_report *r = report_from("someone@world.example");
    decide(&p, r, &d);
    assert_int_equal(r->signing.applied, 0);
    assert_int_equal(d.action, SMIME_ACTION_ACCEPT);
    assert_null(d.reply);
    smime_report_free(r);

    /* listed, unsigned: rejected with the rule's reply */
    r = report_from("ceo@partner.example");
    decide(&p, r, &d);
    assert_int_equal(r->signing.applied, 1);
    assert_int_equal(r->signing.satisfied, 0);
    assert_string_equal(r->signing.rule, "partner.example");
    assert_int_equal(r->signing.line, 1);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_string_equal(d.reply, "550 5.7.1 partner.example must sign: %r");
    assert_non_null(strstr(d.reason, "message is not S/MIME signed"));
    smime_report_free(r);

    /* listed, OV strict from the right CA: met, the decision unchanged */
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_PASS, 1, FP_A, SMIME_TYPE_ORGANIZATION, SMIME_GEN_STRICT);
    decide(&p, r, &d);
    assert_int_equal(r->signing.satisfied, 1);
    assert_int_equal(r->signing.sig_index, 0);
    assert_int_equal(d.action, SMIME_ACTION_ACCEPT);
    assert_null(d.reply);
    smime_report_free(r);

    /* another CA */
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_PASS, 1, FP_B, SMIME_TYPE_ORGANIZATION, SMIME_GEN_STRICT);
    decide(&p, r, &d);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "not issued under a CA"));
    smime_report_free(r);

    /* the right CA, a mailbox-validated certificate */
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_PASS, 1, FP_A, SMIME_TYPE_MAILBOX, SMIME_GEN_STRICT);
    decide(&p, r, &d);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "mailbox-strict, not an accepted profile"));
    smime_report_free(r);

    /* lint off: the profile is not known, so not accepted */
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_PASS, 1, FP_A, SMIME_TYPE_NONE, SMIME_GEN_NONE);
    decide(&p, r, &d);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "LintMode off"));
    smime_report_free(r);

    /* a failed signature; the most telling reason of several is kept */
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_FAIL, 1, FP_A, SMIME_TYPE_ORGANIZATION, SMIME_GEN_STRICT);
    add_sig(r, SMIME_RESULT_PASS, 1, FP_B, SMIME_TYPE_ORGANIZATION, SMIME_GEN_STRICT);
    decide(&p, r, &d);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "not issued under a CA"));
    smime_report_free(r);

    /* a good signature that covers only a part (e.g. a forwarded message) does not count */
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_PASS, 0, FP_A, SMIME_TYPE_ORGANIZATION, SMIME_GEN_STRICT);
    decide(&p, r, &d);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "covers the message itself"));
    smime_report_free(r);

    /* a second, listed From address is checked too */
    r = report_from("friend@world.example");
    snprintf(r->authors.addr[1], SMIME_ADDR_MAX, "ceo@partner.example");
    r->authors.n = r->authors.total = 2;
    decide(&p, r, &d);
    assert_int_equal(r->signing.applied, 1);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    smime_report_free(r);

    /* more From addresses than are kept: refused, an unkept one could be listed */
    r = report_from("friend@world.example");
    r->authors.total = SMIME_MAX_ADDRS + 1;
    decide(&p, r, &d);
    assert_int_equal(r->signing.applied, 1);
    assert_string_equal(r->signing.rule, "(ambiguous author)");
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_null(d.reply);
    smime_report_free(r);

    /* a control byte in From: what a reader shows may differ, refused the same */
    r = report_from("friend@world.example");
    r->authors.control = 1;
    decide(&p, r, &d);
    assert_int_equal(r->signing.applied, 1);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "control character"));
    smime_report_free(r);
    smime_signing_free(&p);

    /* action=tag delivers, with the outcome recorded for the headers */
    assert_int_equal(parse("partner.example action=tag\n", &p, err, sizeof(err)), 0);
    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_FAIL, 1, FP_A, SMIME_TYPE_NONE, SMIME_GEN_NONE);
    decide(&p, r, &d);
    assert_int_equal(d.action, SMIME_ACTION_ACCEPT);
    assert_int_equal(r->signing.satisfied, 0);
    assert_non_null(strstr(r->signing.reason, "signature result is fail"));
    smime_report_free(r);
    smime_signing_free(&p);

    /* no policy at all */
    r = report_from("ceo@partner.example");
    decide(NULL, r, &d);
    assert_int_equal(r->signing.applied, 0);
    assert_int_equal(d.action, SMIME_ACTION_ACCEPT);
    smime_report_free(r);
}

/* The outcome in Authentication-Results: ptype policy properties on the clause
 * of the signature that met the rule, or on the first (none) clause. */
static void test_authres_properties(void **state)
{
    (void)state;
    smime_signing_policy p;
    char err[256];
    assert_int_equal(parse("partner.example\n", &p, err, sizeof(err)), 0);
    smime_report *r = report_from("ceo@partner.example");
    smime_signing_evaluate(&p, r);
    smime_buf b;
    smime_buf_init(&b, 8192);
    assert_int_equal(smime_authres_format(r, "mx.test", &b), 0);
    assert_string_equal(b.data, "mx.test; smime=none reason=\"no S/MIME signature\" "
                                "policy.smime-signing=fail policy.smime-rule=partner.example "
                                "policy.smime-reason=\"ceo@partner.example must sign: message is "
                                "not S/MIME signed\"");
    smime_report_free(r);

    r = report_from("ceo@partner.example");
    add_sig(r, SMIME_RESULT_FAIL, 1, FP_A, SMIME_TYPE_NONE, SMIME_GEN_NONE);
    add_sig(r, SMIME_RESULT_PASS, 1, FP_A, SMIME_TYPE_NONE, SMIME_GEN_NONE);
    smime_signing_evaluate(&p, r);
    smime_buf_reset(&b);
    assert_int_equal(smime_authres_format(r, "mx.test", &b), 0);
    const char *second = strstr(b.data, "; smime=pass");
    assert_non_null(second);
    assert_non_null(strstr(second, "policy.smime-signing=pass policy.smime-rule=partner.example"));
    assert_null(strstr(b.data, "policy.smime-reason"));
    assert_int_equal(strstr(b.data, "policy.smime") > second, 1);
    smime_report_free(r);
    smime_buf_free(&b);
    smime_signing_free(&p);
}

/* A message too large to be walked is still matched on its From headers (read
 * from the header section alone), so size does not evade a rule. */
static void test_too_large_still_matched(void **state)
{
    (void)state;
    static const char msg[] = "Received: x\r\n"
                              "FROM: Someone <a@world.example>,\r\n"
                              "\t\"CEO\" <ceo@Partner.Example>\r\n"
                              "Subject: big\r\n"
                              "\r\n"
                              "From: body@not-a-header.example\r\n"
                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n";
    smime_verify_options opt;
    smime_verify_options_default(&opt, 1767225600);
    opt.max_message_size = 64;
    smime_report *r = NULL;
    char err[256];
    assert_int_equal(smime_verify_message(msg, sizeof(msg) - 1, NULL, &opt, &r, err, sizeof(err)), 0);
    assert_int_equal(r->n_sigs, 1);
    assert_int_equal(r->sigs[0].result, SMIME_RESULT_NEUTRAL);
    assert_int_equal(r->authors.n, 2);
    assert_int_equal(r->authors.from_headers, 1);
    assert_string_equal(r->authors.addr[0], "a@world.example");
    assert_string_equal(r->authors.addr[1], "ceo@Partner.Example");
    smime_signing_policy p;
    assert_int_equal(parse("partner.example\n", &p, err, sizeof(err)), 0);
    smime_decision d;
    decide(&p, r, &d);
    assert_int_equal(r->signing.applied, 1);
    assert_int_equal(d.action, SMIME_ACTION_REJECT);
    assert_non_null(strstr(r->signing.reason, "no S/MIME signature covers the message itself"));
    smime_signing_free(&p);
    smime_report_free(r);

    /* the scanner alone: 17 addresses over two headers, counted past the cap */
    char big[2048];
    size_t o = (size_t)snprintf(big, sizeof(big), "From: ");
    for (int i = 0; i < 10; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%sa%d@x.example", i ? ", " : "", i);
    o += (size_t)snprintf(big + o, sizeof(big) - o, "\nFrom: ");
    for (int i = 0; i < 7; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%sb%d@y.example", i ? ", " : "", i);
    o += (size_t)snprintf(big + o, sizeof(big) - o, "\n\nbody\n");
    smime_mime_authors a;
    smime_mime_scan_authors(big, o, &a);
    assert_int_equal(a.from_headers, 2);
    assert_int_equal(a.n, SMIME_MAX_ADDRS);
    assert_int_equal(a.total, 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_rule),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_match_precedence),
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_authres_properties),
        cmocka_unit_test(test_too_large_still_matched),
    };
    if (smime_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
