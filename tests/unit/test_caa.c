/* Unit tests of caa: CAA RDATA and issuemail values (RFC 8659 / RFC 9495 forms,
 * malformed ones), the names of the climb, the Relevant RRset, the decision, the
 * issuer map, and the checker over a fake resolver (one round per batch, the TTL
 * cache, its bound, the cap on queries, a resolver that fails). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/telemetry/caa.h"

/* RDATA of one CAA record: flags, tag length, tag, value */
static size_t rdata(unsigned char *out, unsigned flags, const char *tag, const char *value)
{
    size_t tl = strlen(tag), vl = strlen(value);
    out[0] = (unsigned char)flags;
    out[1] = (unsigned char)tl;
    memcpy(out + 2, tag, tl);
    memcpy(out + 2 + tl, value, vl);
    return 2 + tl + vl;
}

static void test_rr_parse(void **state)
{
    (void)state;
    unsigned char b[300];
    smime_caa_rr rr;
    size_t n = rdata(b, 0, "IssueMail", "ca.example");
    assert_int_equal(smime_caa_rr_parse(b, n, &rr), 0);
    assert_string_equal(rr.tag, "issuemail");
    assert_int_equal(rr.value_len, 10);
    assert_memory_equal(rr.value, "ca.example", 10);
    n = rdata(b, 128, "tbs", "");
    assert_int_equal(smime_caa_rr_parse(b, n, &rr), 0);
    assert_int_equal(rr.flags, 128);
    assert_int_equal(rr.value_len, 0);
    /* a tag length past the end, an empty tag, a tag with a hyphen, a stub */
    b[1] = 200;
    assert_int_equal(smime_caa_rr_parse(b, n, &rr), -1);
    n = rdata(b, 0, "", "x");
    assert_int_equal(smime_caa_rr_parse(b, n, &rr), -1);
    n = rdata(b, 0, "issue-mail", "x");
    assert_int_equal(smime_caa_rr_parse(b, n, &rr), -1);
    assert_int_equal(smime_caa_rr_parse(b, 1, &rr), -1);
    n = rdata(b, 0, "averyveryverylongtagname", "x");
    assert_int_equal(smime_caa_rr_parse(b, n, &rr), 0);
    assert_true(rr.tag_too_long);
}

static int issuer(const char *v, char *out)
{
    return smime_caa_issuer_parse((const unsigned char *)v, strlen(v), out);
}

static void test_issuer_forms(void **state)
{
    (void)state;
    char out[SMIME_CAA_NAME_MAX];
    assert_int_equal(issuer("ca.example", out), 1);
    assert_string_equal(out, "ca.example");
    assert_int_equal(issuer("  CA.Example.NET  ", out), 1);
    assert_string_equal(out, "ca.example.net");
    assert_int_equal(issuer("ca.example; account=12345", out), 1);
    assert_string_equal(out, "ca.example");
    assert_int_equal(issuer("ca.example;account=1;policy=ev", out), 1);
    assert_string_equal(out, "ca.example");
    assert_int_equal(issuer("ca.example ; a = b ; c-d=e:f", out), 1);
    assert_string_equal(out, "ca.example");
    assert_int_equal(issuer(";", out), 1);           /* no CA at all */
    assert_string_equal(out, "");
    assert_int_equal(issuer("", out), 1);
    assert_string_equal(out, "");
    assert_int_equal(issuer(" ; ", out), 1);
    assert_string_equal(out, "");
    assert_int_equal(issuer("ca.example;", out), 1);   /* parameters are optional */
    assert_string_equal(out, "ca.example");
    assert_int_equal(issuer("my-ca.example", out), 1);
    assert_string_equal(out, "my-ca.example");
    /* malformed: treated as the empty issuer (RFC 9495 section 4) */
    const char *bad[] = { "ca.example account=1", "ca..example", "-ca.example", "ca-.example",
                          "ca.example; =1", "ca.example; a", "ca.example; a=b;",
                          "ca.example; a=b c", "ca_x.example", "ca.example.", "\"ca.example\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(out, "junk");
        assert_int_equal(issuer(bad[i], out), 0);
        assert_string_equal(out, "");
    }
}

static void test_answer_add(void **state)
{
    (void)state;
    smime_caa_answer a;
    memset(&a, 0, sizeof(a));
    unsigned char b[300];
    smime_caa_answer_add(&a, b, rdata(b, 0, "issue", "letsencrypt.org"));
    assert_int_equal(a.status, SMIME_CAA_ANS_DATA);
    assert_int_equal(a.nissuemail, 0);
    smime_caa_answer_add(&a, b, rdata(b, 0, "issuemail", "ca.example; account=1"));
    smime_caa_answer_add(&a, b, rdata(b, 0, "issuemail", ";"));
    smime_caa_answer_add(&a, b, rdata(b, 0, "issuemail", "bad value!"));
    assert_int_equal(a.nissuemail, 3);
    assert_string_equal(a.issuers, "ca.example   ");
    assert_false(a.critical_unknown);
    smime_caa_answer_add(&a, b, rdata(b, 0, "futuretag", "x"));   /* not critical */
    assert_false(a.critical_unknown);
    smime_caa_answer_add(&a, b, rdata(b, 128, "iodef", "mailto:x@example"));   /* known */
    assert_false(a.critical_unknown);
    smime_caa_answer_add(&a, b, rdata(b, 128, "futuretag", "x"));
    assert_true(a.critical_unknown);
    assert_int_equal(a.nrr, 7);
    /* too many issuers for the list */
    memset(&a, 0, sizeof(a));
    char name[80];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "ca%02d.issuer-with-a-long-name.example", i);
        smime_caa_answer_add(&a, b, rdata(b, 0, "issuemail", name));
    }
    assert_true(a.issuers_truncated);
    assert_true(strlen(a.issuers) < SMIME_CAA_ISSUERS_MAX);
}

static void test_climb_names(void **state)
{
    (void)state;
    char names[SMIME_CAA_CLIMB_MAX][SMIME_CAA_NAME_MAX];
    assert_int_equal(smime_caa_climb_names("Mail.Sub.Example.COM.", names), 4);
    assert_string_equal(names[0], "mail.sub.example.com");
    assert_string_equal(names[1], "sub.example.com");
    assert_string_equal(names[2], "example.com");
    assert_string_equal(names[3], "com");   /* the TLD is queried, the root never */
    assert_int_equal(smime_caa_climb_names("example.test", names), 2);
    assert_int_equal(smime_caa_climb_names("", names), -1);
    assert_int_equal(smime_caa_climb_names("localhost", names), -1);
    assert_int_equal(smime_caa_climb_names("a..example", names), -1);
    assert_int_equal(smime_caa_climb_names("a b.example", names), -1);
    assert_int_equal(smime_caa_climb_names("[192.0.2.1]", names), -1);
    char deep[400] = "";
    for (int i = 0; i < SMIME_CAA_CLIMB_MAX; i++)
        strcat(deep, "a.");
    strcat(deep, "example");
    assert_int_equal(smime_caa_climb_names(deep, names), -1);
    char longlabel[80];
    memset(longlabel, 'x', 64);
    strcpy(longlabel + 64, ".example");
    assert_int_equal(smime_caa_climb_names(longlabel, names), -1);
}

static smime_caa_answer *answers_new(size_t n)
{
    smime_caa_answer *a = calloc(n, sizeof(*a));
    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i].ttl = 3600;
    return a;
}

static void test_relevant_and_decide(void **state)
{
    (void)state;
    unsigned char b[300];
    smime_caa_domain_state st;
    const char *ca[] = { "other.example", "ca.example" };
    smime_caa_answer *a = answers_new(3);
    /* nothing anywhere */
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(st.issuemail, SMIME_CAA_NO_CAA);
    assert_int_equal(st.found_at, -1);
    assert_string_equal(smime_caa_decide(&st, ca, 2), SMIME_CAA_UNRESTRICTED);
    /* at the parent (climbing), with the CA */
    smime_caa_answer_add(&a[1], b, rdata(b, 0, "issuemail", "ca.example"));
    a[1].ttl = 300;
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(st.issuemail, SMIME_CAA_ISSUEMAIL);
    assert_int_equal(st.found_at, 1);
    assert_int_equal(st.ttl, 300);
    assert_string_equal(smime_caa_decide(&st, ca, 2), SMIME_CAA_AUTHORIZED);
    assert_string_equal(smime_caa_decide(&st, ca, 1), SMIME_CAA_NOT_AUTHORIZED);
    assert_string_equal(smime_caa_decide(&st, NULL, 0), SMIME_CAA_NOT_MAPPED);
    /* the domain's own RRset wins, even with only issue (no restriction on mail) */
    smime_caa_answer_add(&a[0], b, rdata(b, 0, "issue", "ca.example"));
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(st.issuemail, SMIME_CAA_NO_ISSUEMAIL);
    assert_int_equal(st.found_at, 0);
    assert_string_equal(smime_caa_decide(&st, ca, 1), SMIME_CAA_UNRESTRICTED);
    /* a critical unknown property forbids every CA */
    smime_caa_answer_add(&a[0], b, rdata(b, 128, "newrule", "x"));
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(smime_caa_decide(&st, ca, 2), SMIME_CAA_NOT_AUTHORIZED);
    free(a);

    /* a failure before the RRset: the whole lookup failed, not "no CAA" */
    a = answers_new(3);
    a[0].status = SMIME_CAA_ANS_FAILED;
    a[0].rcode = 2;
    smime_caa_answer_add(&a[2], b, rdata(b, 0, "issuemail", "ca.example"));
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(st.issuemail, SMIME_CAA_FAILED);
    assert_string_equal(st.detail, "SERVFAIL");
    assert_int_equal(st.ttl, SMIME_CAA_FAIL_TTL);
    assert_string_equal(smime_caa_decide(&st, ca, 2), SMIME_CAA_FAILED);
    a[0].status = SMIME_CAA_ANS_TIMEOUT;
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(st.detail, "timeout");
    /* ... but a failure above the RRset does not matter */
    a[0].status = SMIME_CAA_ANS_EMPTY;
    a[1].status = SMIME_CAA_ANS_DATA;
    smime_caa_answer_add(&a[1], b, rdata(b, 0, "issuemail", ";"));
    a[2].status = SMIME_CAA_ANS_FAILED;
    smime_caa_relevant(a, 3, &st);
    assert_string_equal(st.issuemail, SMIME_CAA_ISSUEMAIL);
    assert_string_equal(smime_caa_decide(&st, ca, 2), SMIME_CAA_NOT_AUTHORIZED);   /* ";" */
    /* a short TTL is raised to the floor */
    a[0].ttl = 1;
    smime_caa_relevant(a, 3, &st);
    assert_int_equal(st.ttl, SMIME_CAA_TTL_MIN);
    free(a);
}

static void test_map(void **state)
{
    (void)state;
    smime_caa_map *m = NULL;
    char err[256];
    const char *text = "# CCADB CAA identifiers\n"
                       "\n"
                       "ca.example   keyid:ABCDEF0123\n"
                       "ca-alias.example keyid:abcdef0123\n"
                       "other.example dn:CN=Other CA,O=Other,C=DE\r\n";
    assert_int_equal(smime_caa_map_parse(text, &m, err, sizeof(err)), 0);
    const char *names[4];
    size_t n = smime_caa_map_names(m, "abcdef0123", "CN=X", names, 4);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "ca.example");
    assert_string_equal(names[1], "ca-alias.example");
    n = smime_caa_map_names(m, "", "CN=Other CA,O=Other,C=DE", names, 4);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "other.example");
    assert_int_equal(smime_caa_map_names(m, "", "", names, 4), 0);
    assert_int_equal(smime_caa_map_names(m, "abcdef0123", "", names, 1), 1);   /* capped */
    smime_caa_map_free(m);
    const char *bad[] = { "ca.example\n", "ca.example keyid:xyz\n", "ca.example serial:1\n",
                          "ca.example; x=1 keyid:00\n", "ok.example keyid:00\nbad\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = (smime_caa_map *)1;
        assert_int_equal(smime_caa_map_parse(bad[i], &m, err, sizeof(err)), -1);
        assert_null(m);
        assert_non_null(strstr(err, "line"));
    }
    assert_int_equal(smime_caa_map_parse("ok.example keyid:00\nbad\n", &m, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "line 2"));
    assert_int_equal(smime_caa_map_load("/nonexistent/map", &m, err, sizeof(err)), -1);
}

/* ---- the checker over a fake resolver ---- */

typedef struct fake_zone {
    const char *name;
    int status;            /* smime_caa_status */
    const char *tag, *value;
} fake_zone;

typedef struct fake {
    const fake_zone *zones;
    size_t nzones;
    unsigned calls;        /* resolve calls (rounds) */
    unsigned queries;      /* names asked for */
    size_t max_batch;
    int fail;              /* the resolver as a whole fails */
    int closed;
} fake;

static int fake_resolve(void *impl, const char *const *names, size_t n, unsigned timeout_ms,
                        smime_caa_answer *ans, char *err, size_t errlen)
{
    fake *f = impl;
    (void)timeout_ms;
    f->calls++;
    f->queries += (unsigned)n;
    if (n > f->max_batch)
        f->max_batch = n;
    if (f->fail) {
        snprintf(err, errlen, "fake resolver down");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        memset(&ans[i], 0, sizeof(ans[i]));
        ans[i].ttl = 600;
        for (size_t z = 0; z < f->nzones; z++) {
            if (strcmp(f->zones[z].name, names[i]) != 0)
                continue;
            if (f->zones[z].status == SMIME_CAA_ANS_DATA) {
                unsigned char b[300];
                smime_caa_answer_add(&ans[i], b, rdata(b, 0, f->zones[z].tag, f->zones[z].value));
            } else {
                ans[i].status = f->zones[z].status;
                ans[i].rcode = 2;
            }
        }
    }
    return 0;
}

static void fake_close(void *impl)
{
    ((fake *)impl)->closed = 1;
}

static const fake_zone zones[] = {
    { "signed.example", SMIME_CAA_ANS_DATA, "issuemail", "ca.example" },
    { "parent.example", SMIME_CAA_ANS_DATA, "issuemail", "other.example; account=7" },
    { "issueonly.example", SMIME_CAA_ANS_DATA, "issue", "ca.example" },
    { "broken.example", SMIME_CAA_ANS_FAILED, NULL, NULL },
    { "slow.example", SMIME_CAA_ANS_TIMEOUT, NULL, NULL },
};

static smime_caa_checker *checker(fake *f, size_t cache_max, size_t pending)
{
    memset(f, 0, sizeof(*f));
    f->zones = zones;
    f->nzones = sizeof(zones) / sizeof(zones[0]);
    smime_caa_resolver r = { fake_resolve, fake_close, f };
    smime_caa_map *m = NULL;
    char err[256];
    assert_int_equal(smime_caa_map_parse("ca.example keyid:aa\n", &m, err, sizeof(err)), 0);
    smime_caa_options o = { .timeout_ms = 100, .cache_max = cache_max, .pending_max = pending };
    smime_caa_checker *c = NULL;
    assert_int_equal(smime_caa_checker_new(&o, r, m, &c, err, sizeof(err)), 0);
    return c;
}

static void rec(smime_telemetry_record *r, const char *domain, const char *key_id)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->lookup_domain, sizeof(r->lookup_domain), "%s", domain);
    snprintf(r->issuer_key_id, sizeof(r->issuer_key_id), "%s", key_id);
}

static void test_checker(void **state)
{
    (void)state;
    fake f;
    smime_caa_checker *c = checker(&f, 64, 64);
    smime_telemetry_record r[8];
    char err[256];
    rec(&r[0], "Signed.Example", "AA");          /* authorized by the map's keyid */
    rec(&r[1], "mail.parent.example", "aa");     /* climbs to parent.example: not ours */
    rec(&r[2], "issueonly.example", "aa");
    rec(&r[3], "x.broken.example", "aa");        /* SERVFAIL at the domain */
    rec(&r[4], "slow.example", "aa");
    rec(&r[5], "nothing.example", "aa");
    rec(&r[6], "signed.example", "bb");          /* same domain, an unmapped CA */
    rec(&r[7], "", "aa");                        /* no domain: left alone */
    assert_int_equal(smime_caa_checker_fill(c, r, 8, 1000, err, sizeof(err)), 0);
    assert_int_equal(f.calls, 1);                /* one round for the batch */
    assert_string_equal(r[0].caa_issuemail, "issuemail");
    assert_string_equal(r[0].caa_ca, "authorized");
    assert_string_equal(r[1].caa_issuemail, "issuemail");
    assert_string_equal(r[1].caa_ca, "not-authorized");
    assert_string_equal(r[2].caa_issuemail, "no-issuemail");
    assert_string_equal(r[2].caa_ca, "unrestricted");
    assert_string_equal(r[3].caa_issuemail, "lookup-failed");
    assert_string_equal(r[4].caa_issuemail, "lookup-failed");
    assert_string_equal(r[4].caa_ca, "lookup-failed");
    assert_string_equal(r[5].caa_issuemail, "no-caa");
    assert_string_equal(r[5].caa_ca, "unrestricted");
    assert_string_equal(r[6].caa_ca, "ca-not-mapped");
    assert_string_equal(r[7].caa_issuemail, "");
    for (int i = 0; i < 8; i++)
        assert_string_equal(r[i].lookup_domain, "");   /* the plain domain is gone */
    unsigned q = f.queries;
    assert_int_equal(q, 2 + 3 + 2 + 3 + 2 + 2);  /* each climb once; signed.example once */

    /* the same domains again: all from the cache, no DNS */
    rec(&r[0], "signed.example", "aa");
    rec(&r[1], "mail.parent.example", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 2, 1100, err, sizeof(err)), 0);
    assert_int_equal(f.calls, 1);
    assert_string_equal(r[0].caa_ca, "authorized");
    smime_caa_stats st;
    smime_caa_checker_stats(c, &st);
    assert_int_equal(st.cache_hits, 2);
    assert_int_equal(st.failed, 2);
    /* the TTL (600 s) runs out: asked again; a failure (60 s) sooner */
    rec(&r[0], "signed.example", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 1, 1000 + 601, err, sizeof(err)), 0);
    assert_int_equal(f.calls, 2);
    rec(&r[0], "slow.example", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 1, 1000 + 61, err, sizeof(err)), 0);
    assert_int_equal(f.calls, 3);
    smime_caa_checker_free(c);
    assert_true(f.closed);
}

static void test_checker_bounds(void **state)
{
    (void)state;
    fake f;
    /* at most 5 names per round: the third two-label domain does not fit */
    smime_caa_checker *c = checker(&f, 2, 5);
    smime_telemetry_record r[4];
    char err[256];
    rec(&r[0], "a.example", "aa");
    rec(&r[1], "b.example", "aa");
    rec(&r[2], "c.example", "aa");
    rec(&r[3], "signed.example", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 4, 1000, err, sizeof(err)), 0);
    assert_true(f.max_batch <= 5);
    assert_string_equal(r[0].caa_issuemail, "no-caa");
    assert_string_equal(r[1].caa_issuemail, "no-caa");
    assert_string_equal(r[2].caa_issuemail, "");     /* skipped, counted */
    assert_string_equal(r[3].caa_issuemail, "");
    assert_string_equal(r[2].lookup_domain, "");
    smime_caa_stats st;
    smime_caa_checker_stats(c, &st);
    assert_int_equal(st.skipped, 2);
    /* a cache of two: a third domain evicts one */
    rec(&r[0], "signed.example", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 1, 1001, err, sizeof(err)), 0);
    smime_caa_checker_stats(c, &st);
    assert_int_equal(st.evicted, 1);
    assert_string_equal(r[0].caa_ca, "authorized");
    /* a resolver that fails outright: every record says lookup-failed, and -1 */
    f.fail = 1;
    rec(&r[0], "new.example", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 1, 1002, err, sizeof(err)), -1);
    assert_string_equal(r[0].caa_issuemail, "lookup-failed");
    assert_non_null(strstr(err, "fake resolver down"));
    /* a domain longer than any DNS name is not cut into a shorter, valid one */
    rec(&r[0], "", "aa");
    /* four labels of 61 and .example: 255 characters; cut to 253 it would be a
     * valid name under "exampl" */
    char *ld = r[0].lookup_domain;
    for (int l = 0; l < 4; l++) {
        memset(ld + l * 62, 'a' + l, 61);
        ld[l * 62 + 61] = '.';
    }
    memcpy(ld + 4 * 62 - 1, ".example", 9);
    assert_int_equal(strlen(ld), 255);
    unsigned q = f.queries;
    assert_int_equal(smime_caa_checker_fill(c, r, 1, 1003, err, sizeof(err)), 0);
    assert_int_equal(f.queries, q);
    assert_string_equal(r[0].caa_issuemail, "lookup-failed");
    assert_string_equal(r[0].lookup_domain, "");
    /* an unusable name fails without a query */
    f.fail = 0;
    q = f.queries;
    rec(&r[0], "no_dots", "aa");
    assert_int_equal(smime_caa_checker_fill(c, r, 1, 1003, err, sizeof(err)), 0);
    assert_int_equal(f.queries, q);
    assert_string_equal(r[0].caa_issuemail, "lookup-failed");
    smime_caa_checker_free(c);

    /* options out of range are refused, and the resolver is still closed */
    fake g;
    memset(&g, 0, sizeof(g));
    smime_caa_resolver res = { fake_resolve, fake_close, &g };
    smime_caa_options o = { .pending_max = SMIME_CAA_PENDING_MAX + 1 };
    smime_caa_checker *bad = NULL;
    assert_int_equal(smime_caa_checker_new(&o, res, NULL, &bad, err, sizeof(err)), -1);
    assert_null(bad);
    assert_true(g.closed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rr_parse),
        cmocka_unit_test(test_issuer_forms),
        cmocka_unit_test(test_answer_add),
        cmocka_unit_test(test_climb_names),
        cmocka_unit_test(test_relevant_and_decide),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_checker),
        cmocka_unit_test(test_checker_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
