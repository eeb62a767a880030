/* report_json - the report as JSON, for smime-verify --json and for logs. */
#include "smime/report/report.h"

#include "smime/util/json.h"
#include "smime/lint/lint.h"
#include "smime/report/authres.h"
#include "smime/util/timeutil.h"

static void json_time(smime_json *j, const char *key, int64_t t)
{
    char buf[40];
    smime_time_format(t, buf, sizeof(buf));
    smime_json_string(j, key, buf);
}

static void json_cert(smime_json *j, const char *key, const smime_cert_summary *c)
{
    smime_json_begin_object(j, key);
    smime_json_string(j, "subject", c->subject);
    smime_json_string(j, "issuer", c->issuer);
    smime_json_string(j, "serial", c->serial);
    json_time(j, "not_before", c->not_before);
    json_time(j, "not_after", c->not_after);
    smime_json_string(j, "key", c->key);
    smime_json_string(j, "issuer_key_id", c->issuer_key_id[0] ? c->issuer_key_id : NULL);
    smime_json_end_object(j);
}

void smime_report_json(const smime_report *r, smime_json *j)
{
    smime_json_begin_array(j, "signatures");
    for (size_t i = 0; i < r->n_sigs; i++) {
        const smime_sig_report *s = &r->sigs[i];
        smime_json_begin_object(j, NULL);
        smime_json_string(j, "part", s->part);
        smime_json_string(j, "form", s->form);
        smime_json_int(j, "signer_index", s->signer_index);
        smime_json_string(j, "result", smime_result_name(s->result));
        smime_json_string(j, "code", s->code);
        smime_json_string(j, "reason", s->reason);
        smime_json_string(j, "identifier", s->identifier[0] ? s->identifier : NULL);
        smime_json_string(j, "client", s->client[0] ? s->client : NULL);
        if (s->has_signer) {
            json_cert(j, "signer", &s->signer);
        } else {
            smime_json_null(j, "signer");
        }
        smime_json_begin_array(j, "mailboxes");
        for (size_t k = 0; k < s->n_mailboxes; k++)
            smime_json_string(j, NULL, s->mailboxes[k]);
        smime_json_end_array(j);
        if (s->has_signing_time)
            json_time(j, "signing_time", s->signing_time);
        else
            smime_json_null(j, "signing_time");
        smime_json_string(j, "digest_algorithm", s->digest_alg[0] ? s->digest_alg : NULL);
        smime_json_string(j, "signature_algorithm", s->sig_alg[0] ? s->sig_alg : NULL);
        smime_json_begin_array(j, "chain");
        for (size_t k = 0; k < s->chain_len; k++)
            json_cert(j, NULL, &s->chain[k]);
        smime_json_end_array(j);
        smime_json_bool(j, "chain_anchored", s->chain_anchored);
        if (s->n_revocation) {
            smime_json_begin_array(j, "revocation");
            for (size_t k = 0; k < s->n_revocation; k++) {
                const struct smime_revocation_status *rv = &s->revocation[k];
                smime_json_begin_object(j, NULL);
                smime_json_int(j, "cert", (long long)k);
                smime_json_string(j, "status", rv->status);
                smime_json_string(j, "code", rv->code);
                smime_json_string(j, "source", rv->source);
                smime_json_bool(j, "from_cache", rv->from_cache);
                if (rv->revoked_at)
                    json_time(j, "revoked_at", rv->revoked_at);
                smime_json_end_object(j);
            }
            smime_json_end_array(j);
        } else {
            smime_json_null(j, "revocation");
        }
        if (s->lint) {
            smime_json_begin_object(j, "lint");
            smime_lint_result_json(s->lint, j);
            smime_json_end_object(j);
        } else {
            smime_json_null(j, "lint");
        }
        smime_json_end_object(j);
    }
    smime_json_end_array(j);
    smime_json_begin_array(j, "notes");
    for (size_t i = 0; i < r->n_notes; i++) {
        smime_json_begin_object(j, NULL);
        smime_json_string(j, "part", r->notes[i].part);
        smime_json_string(j, "code", r->notes[i].code);
        smime_json_string(j, "note", r->notes[i].text);
        smime_json_end_object(j);
    }
    smime_json_end_array(j);
    /* only with a SigningPolicy rule, so reports without one stay as they were */
    if (r->signing.applied) {
        smime_json_begin_object(j, "signing_policy");
        smime_json_string(j, "rule", r->signing.rule);
        smime_json_int(j, "line", r->signing.line);
        smime_json_string(j, "result", r->signing.satisfied ? "pass" : "fail");
        if (r->signing.sig_index < r->n_sigs)
            smime_json_int(j, "signature", (long long)r->signing.sig_index);
        else
            smime_json_null(j, "signature");
        smime_json_string(j, "reason", r->signing.reason);
        smime_json_end_object(j);
    }
}
