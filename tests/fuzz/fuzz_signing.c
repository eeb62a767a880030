/* libFuzzer target: arbitrary bytes -> the SigningPolicy parser
 * (smime_signing_parse, src/verdict/signing.c), then every accepted rule is looked
 * up by an address built from its own key, and evaluated against a small report.
 * Besides the sanitizers' checks it aborts when a promise of signing.h is broken:
 * the error names the source and is terminated, an accepted rule's fields are
 * terminated and within their caps, a rule is found by its own address or domain,
 * a rule's reply passes smime_reply_check, and parsing is deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/report/authres.h"
#include "smime/verdict/signing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smime_signing_policy p, q;
    char err[512], err2[512];
    memset(err, 'x', sizeof(err));
    int rc = smime_signing_parse((const char *)data, size, "fuzz.policy", &p, err, sizeof(err));
    if (rc != 0 && rc != -1)
        abort();
    if (rc < 0 && (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz.policy", 11) != 0))
        abort();
    int rc2 = smime_signing_parse((const char *)data, size, "fuzz.policy", &q, err2, sizeof(err2));
    if (rc2 != rc || (rc < 0 && strcmp(err, err2) != 0) || (rc == 0 && q.n != p.n))
        abort();
    smime_signing_free(&q);
    if (rc < 0) {
        smime_signing_free(&p);
        return 0;
    }
    if (p.n > SMIME_SIGNING_RULES_MAX)
        abort();
    smime_report *r = smime_report_new();
    if (!r)
        abort();
    for (size_t i = 0; i < p.n; i++) {
        const smime_signing_rule *rule = &p.rules[i];
        if (!memchr(rule->key, '\0', sizeof(rule->key)) ||
            !memchr(rule->pattern, '\0', sizeof(rule->pattern)) ||
            !memchr(rule->reply, '\0', sizeof(rule->reply)) || rule->n_cas > SMIME_SIGNING_CAS_MAX ||
            rule->n_profiles > SMIME_SIGNING_PROFILES_MAX || rule->results == 0)
            abort();
        char why[160];
        if (rule->reply[0] && smime_reply_check(rule->reply, rule->reply[0], why, sizeof(why)) < 0)
            abort();
        char addr[SMIME_ADDR_MAX + 8];
        if (rule->kind == SMIME_SIGNING_ADDRESS)
            snprintf(addr, sizeof(addr), "%s", rule->key);
        else if (rule->kind == SMIME_SIGNING_DOMAIN)
            snprintf(addr, sizeof(addr), "u@%s", rule->key);
        else
            snprintf(addr, sizeof(addr), "u@x.%s", rule->key);
        if (strlen(addr) < SMIME_ADDR_MAX - 1) {
            const smime_signing_rule *m = smime_signing_match(&p, addr);
            if (!m)
                abort();
            if (r->authors.n < SMIME_MAX_ADDRS) {
                snprintf(r->authors.addr[r->authors.n++], SMIME_ADDR_MAX, "%s", addr);
                r->authors.total = r->authors.n;
            }
        }
    }
    smime_decision d = { 0 };
    smime_signing_decide(smime_signing_evaluate(&p, r), r, &d);
    if (p.n && r->authors.n && !r->signing.applied)
        abort();
    smime_buf b;
    smime_buf_init(&b, SMIME_AUTHRES_VALUE_MAX);
    smime_authres_format(r, "fuzz", &b);
    smime_buf_free(&b);
    smime_report_free(r);
    smime_signing_free(&p);
    return 0;
}
