/* verify - the core pipeline (see include/smime/verdict/verify.h): walk the MIME tree, and
 * for each signature answer integrity (cms), trust (pki) and binding, then combine
 * the answers into an RFC 7281 result with a reason. */
#include "smime/verdict/verify.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "smime/crypto/cms.h"
#include "smime/lint/lint.h"
#include "smime/util/linescan.h"
#include "smime/util/memo.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libraries(void)
{
    g_mime_init();
}

int smime_init(void)
{
    return pthread_once(&init_once, init_libraries) == 0 ? 0 : -1;
}

static const char *const lint_mode_names[] = { "off", "report", "enforce" };

int smime_lint_mode_parse(const char *word)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(word, lint_mode_names[i]) == 0)
            return i;
    return -1;
}

const char *smime_lint_mode_name(smime_lint_mode mode)
{
    return (unsigned)mode < 3 ? lint_mode_names[mode] : "report";
}

void smime_verify_options_default(smime_verify_options *opt, int64_t now)
{
    memset(opt, 0, sizeof(*opt));
    opt->now = now;
    opt->max_message_size = 64u << 20;
    opt->mime.max_depth = 32;
    opt->mime.max_parts = 2000;
    opt->mime.max_items = 32;
    opt->max_certs = 32;
    opt->max_chain = 10;
    opt->signing_time_skew = 3600;
    opt->chain_cache = 1;
    opt->lint_mode = SMIME_LINT_REPORT;
    opt->max_signatures = 32;
    opt->hash_factor = 4;
    opt->decode_factor = 2;
    opt->key_limits = (smime_key_limits)SMIME_KEY_LIMITS_DEFAULT;
    opt->cpu_budget_ms = 3000;
}

#define BUDGET_SLACK (1u << 20)     /* added to every size-proportional budget */

static int64_t thread_cpu_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct verify_ctx {
    const smime_trust          *trust;
    const smime_verify_options *opt;
    smime_report               *report;
    int                         oom;
    const char                 *msg;            /* the message walked, as it arrived */
    size_t                      msg_len;
    size_t                      msg_bare_lfs;   /* its bare LFs (CRLF length - len) */
    unsigned                    signatures;     /* SignerInfos verified so far */
    size_t                      hash_left;      /* bytes that may still be hashed */
    int64_t                     cpu_deadline_ms;/* thread CPU clock; 0: none */
    unsigned                    skipped;        /* SignerInfos not verified (a cap) */
    size_t                      skipped_at;     /* 1 + the index of the one neutral entry
                                                 * that counts them; 0: none yet (an index,
                                                 * not a pointer: every signature added
                                                 * after it may move the array) */
    unsigned                    covering_depth; /* depth of the entity an opaque signature
                                                 * over the whole message holds; 0: none */
} verify_ctx;

/* Why the next signature may not be verified, or NULL when it may: the caps of
 * the cost model, checked before the work. */
static const char *over_budget(verify_ctx *vc, size_t hash_len)
{
    if (vc->signatures >= vc->opt->max_signatures)
        return "more signatures than the limit for one message";
    if (hash_len > vc->hash_left)
        return "more signed content to hash than the limit for this message's size";
    if (vc->cpu_deadline_ms && thread_cpu_ms() > vc->cpu_deadline_ms)
        return "verification took too long";
    return NULL;
}

static smime_sig_report *new_sig(verify_ctx *vc, const smime_mime_item *item)
{
    smime_sig_report *s = smime_report_add_sig(vc->report);
    if (!s) {
        vc->oom = 1;
        return NULL;
    }
    snprintf(s->part, sizeof(s->part), "%s", item->part);
    snprintf(s->client, sizeof(s->client), "%s", item->addrs->client);
    /* The walker gives the top entity of a message depth 0 and that of an opaque
     * signature's content one more than the signature; their children are deeper. */
    s->covers_message = item->depth == 0 ||
                        (vc->covering_depth && item->depth == vc->covering_depth);
    s->form = item->kind == SMIME_MIME_DETACHED ? "multipart/signed" : "pkcs7-mime";
    return s;
}

static void sig_set(smime_sig_report *s, smime_result r, const char *code, const char *reason)
{
    s->result = r;
    s->code = code;
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
}

static int author_ambiguous(const smime_mime_addrs *addrs)
{
    return addrs->from_headers > 1 || addrs->sender_headers > 1 || addrs->sender_mailboxes > 1 ||
           addrs->control_header;
}

/* RFC 8550 section 3: the From (every From mailbox) or the Sender must be one of
 * the certificate's addresses.  Returns 1 with the certificate's spelling of the
 * matched address in match, and which header matched; else 0 with *unmatched the
 * first From mailbox the certificate does not name. */
static int binding_match(gnutls_x509_crt_t cert, const smime_mime_addrs *addrs,
                         char match[SMIME_ADDR_MAX], const char **which, size_t *unmatched)
{
    *unmatched = 0;
    /* With two From (or Sender) headers, or a Sender of two mailboxes, readers may
     * show either; with a control byte in one, what follows it (GMime stops at a
     * NUL, a reader may not): no binding. */
    if (author_ambiguous(addrs))
        return 0;
    char first[SMIME_ADDR_MAX], found[SMIME_ADDR_MAX];
    size_t matched = 0;
    for (size_t i = 0; i < addrs->n_from; i++) {
        if (!smime_cert_has_mailbox(cert, addrs->from[i], found)) {
            *unmatched = i;
            break;
        }
        if (matched++ == 0)
            memcpy(first, found, sizeof(first));
    }
    if (addrs->n_from > 0 && matched == addrs->n_from) {
        memcpy(match, first, SMIME_ADDR_MAX);
        *which = "From";
        return 1;
    }
    if (addrs->sender[0] && smime_cert_has_mailbox(cert, addrs->sender, match)) {
        *which = "Sender";
        return 1;
    }
    return 0;
}

static void describe_binding_failure(smime_sig_report *s, const smime_mime_addrs *addrs,
                                     size_t unmatched)
{
    const char *from = addrs->n_from ? addrs->from[unmatched] : NULL;
    if (addrs->from_headers > 1 || addrs->sender_headers > 1) {
        snprintf(s->reason, sizeof(s->reason), "message has several %s headers; the author is ambiguous",
                 addrs->from_headers > 1 ? "From" : "Sender");
        s->result = SMIME_RESULT_POLICY;
        s->code = "ambiguous-from";
        return;
    }
    if (addrs->sender_mailboxes > 1 && !addrs->control_header) {
        snprintf(s->reason, sizeof(s->reason),
                 "Sender header names %u mailboxes (RFC 5322 allows one); the author is ambiguous",
                 addrs->sender_mailboxes);
        s->result = SMIME_RESULT_POLICY;
        s->code = "ambiguous-from";
        return;
    }
    if (addrs->control_header) {
        snprintf(s->reason, sizeof(s->reason),
                 "%s header holds the control character 0x%02x; the author is ambiguous",
                 addrs->control_header, addrs->control_byte);
        s->result = SMIME_RESULT_POLICY;
        s->code = "ambiguous-from";
        return;
    }
    if (!from)
        snprintf(s->reason, sizeof(s->reason), "message has no From address to match the signer");
    else if (s->n_mailboxes == 0)
        snprintf(s->reason, sizeof(s->reason),
                 "signer certificate names no mailbox address; From %.200s cannot be matched", from);
    else
        snprintf(s->reason, sizeof(s->reason),
                 "From address %.200s is not in the signer certificate (it names %.200s%s)", from,
                 s->mailboxes[0], s->n_mailboxes > 1 ? " and others" : "");
    s->result = SMIME_RESULT_POLICY;
    s->code = from ? "from-mismatch" : "no-from";
}

/* The linter's findings depend on the certificates, the options and (through
 * smime_lint_time_epoch) the time, so they are remembered in the trust store's
 * memo under a digest of all three: a sender's next message is not linted again.
 * Domain-separated from the validated paths kept in the same memo. */
static const char LINT_DOMAIN[] = "smime-milter lint findings";
/* On the stack: about 20 findings; a certificate with more is linted every time. */
#define LINT_MEMO_MAX (8u << 10)

/* With the pool's digest and where in it the signer is, the certificates are
 * named by their places in the pool (path[0..n): 1 + index, the signer first)
 * instead of hashed again; otherwise by der[0..n) itself. */
static int lint_key(const smime_lint_options *lo, const gnutls_datum_t *der, size_t n,
                    const smime_cert_pool *pool, const uint64_t *path,
                    unsigned char key[SMIME_MEMO_KEY])
{
    smime_memo_keyer k;
    if (smime_memo_key_begin(&k, LINT_DOMAIN) < 0)
        return -1;
    unsigned epoch = smime_lint_time_epoch(lo->now);
    int flags[4] = { lo->no_signature_check, lo->all_dates, (int)lo->force_type, (int)lo->force_gen };
    smime_memo_key_part(&k, &epoch, sizeof(epoch));
    smime_memo_key_part(&k, flags, sizeof(flags));
    if (path) {
        smime_memo_key_part(&k, "pool digest, places", 19);
        smime_memo_key_part(&k, pool->digest, 32);
        smime_memo_key_part(&k, path, n * sizeof(path[0]));
    } else {
        for (size_t i = 0; i < n; i++)
            smime_memo_key_part(&k, der[i].data, der[i].size);
    }
    smime_memo_key_end(&k, key);
    return 0;
}

/* Lints the signer certificate with the issuers of its path (as far as the path
 * was built; the anchor is not linted), or takes the findings remembered for the
 * same path.  The issuers are read as DER from the pool: none is parsed here.
 * Returns 0, or -1 when memory ran out. */
static int lint_signer(verify_ctx *vc, gnutls_x509_crt_t signer, const smime_chain_result *chain,
                       const smime_cert_pool *pool, smime_sig_report *s)
{
    gnutls_datum_t der[SMIME_CHAIN_MAX + 1];
    uint64_t places[SMIME_CHAIN_MAX + 1];
    smime_span issuers[SMIME_CHAIN_MAX];
    gnutls_datum_t signer_der = { NULL, 0 };
    const gnutls_datum_t *in_pool = smime_cert_pool_signer_der(pool);
    int by_place = in_pool != NULL;
    if (by_place)
        der[0] = *in_pool;                           /* the signer's bytes, borrowed */
    else if (gnutls_x509_crt_export2(signer, GNUTLS_X509_FMT_DER, &signer_der) < 0)
        return 0;                       /* nothing to lint (the report says why elsewhere) */
    else
        der[0] = signer_der;
    places[0] = pool->signer_at;
    size_t n = 1;
    for (; n < chain->n_path && chain->path_pool[n] < pool->n; n++) {
        der[n] = pool->der[chain->path_pool[n]];
        places[n] = (uint64_t)chain->path_pool[n] + 1;
        issuers[n - 1] = (smime_span){ der[n].data, der[n].size };
    }
    /* The chain validation has already checked (or failed on) the CA signatures;
     * the linter need not verify them again (SIG-04). */
    smime_lint_options lo = { .now = vc->opt->now, .no_signature_check = 1 };
    smime_memo *memo = vc->opt->chain_cache ? smime_trust_memo(vc->trust) : NULL;
    unsigned char key[SMIME_MEMO_KEY];
    int keyed = memo && lint_key(&lo, der, n, pool, by_place ? places : NULL, key) == 0;
    _Alignas(max_align_t) unsigned char block[LINT_MEMO_MAX];
    size_t len = keyed ? smime_memo_get(memo, key, block, sizeof(block)) : 0;
    int rc = 0;
    if (len == 0 || smime_lint_result_unpack(block, len, &s->lint) < 0) {
        rc = smime_lint_cert(der[0].data, der[0].size, issuers, n - 1, &lo, &s->lint);
        if (rc == 0 && keyed && (len = smime_lint_result_pack(s->lint, block, sizeof(block))))
            smime_memo_put(memo, key, block, len);   /* not kept: no harm */
    }
    gnutls_free(signer_der.data);
    return rc;
}

/* "SBR mailbox-strict: 2 errors (SAN-MBX-02, VAL-02)": the gist of the findings,
 * for the reason of the result. */
static void lint_summary(const smime_lint_result *lint, char *out, size_t n)
{
    const char *type = smime_lint_type_name(lint->type), *gen = smime_lint_gen_name(lint->generation);
    int pre_sbr = (lint->scope & SMIME_SCOPE_PRE_SBR) != 0;
    /* Pre-SBR findings are reported but never enforced, so they are counted apart. */
    size_t errors = pre_sbr ? smime_lint_count(lint, SMIME_SEV_ERROR)
                            : smime_lint_count_enforceable(lint, SMIME_SEV_ERROR);
    int o = snprintf(out, n, "SBR %s%s%s: ", type ? type : "unclassified", gen ? "-" : "", gen ? gen : "");
    if (!(lint->scope & (SMIME_SCOPE_IN_SBR | SMIME_SCOPE_ASSERTED))) {
        snprintf(out, n, "SBR: certificate out of scope");
        return;
    }
    if (pre_sbr && !(lint->scope & SMIME_SCOPE_ASSERTED)) {
        snprintf(out, n, "SBR: issued before 2023-09-01, not linted");
        return;
    }
    if (pre_sbr)
        o += snprintf(out + o, n - (size_t)o, "issued before 2023-09-01, ");
    if (errors == 0) {
        snprintf(out + o, n - (size_t)o, "no errors");
        return;
    }
    o += snprintf(out + o, n - (size_t)o, "%zu %serror%s (", errors, pre_sbr ? "pre-SBR " : "",
                  errors == 1 ? "" : "s");
    size_t shown = 0;
    for (size_t i = 0; i < lint->nfindings && (size_t)o + 16 < n; i++) {
        const smime_lint_finding *f = &lint->findings[i];
        if (f->severity != SMIME_SEV_ERROR || (f->pre_sbr && !pre_sbr))
            continue;
        if (shown == 3) {
            o += snprintf(out + o, n - (size_t)o, ", ...");
            break;
        }
        o += snprintf(out + o, n - (size_t)o, "%s%s", shown ? ", " : "", f->id);
        shown++;
    }
    snprintf(out + o, n - (size_t)o, ")%s", pre_sbr ? ", not enforced" : "");
}

/* Report mode adds the summary to the reason; enforce mode turns a pass with
 * error findings into policy. */
static void apply_lint(const smime_verify_options *opt, smime_sig_report *s)
{
    if (!s->lint)
        return;
    char summary[160];
    lint_summary(s->lint, summary, sizeof(summary));
    if (opt->lint_mode == SMIME_LINT_ENFORCE && s->result == SMIME_RESULT_PASS &&
        smime_lint_count_enforceable(s->lint, SMIME_SEV_ERROR) > 0) {
        s->result = SMIME_RESULT_POLICY;
        s->code = "sbr-violation";
        snprintf(s->reason, sizeof(s->reason), "signer certificate breaks the S/MIME BR (%s)", summary);
        return;
    }
    size_t len = strlen(s->reason);
    snprintf(s->reason + len, sizeof(s->reason) - len, "; %s", summary);
}

static void judge_signer_core(verify_ctx *vc, const smime_cert_pool *pool, const smime_cms_signer *cs,
                              const smime_mime_item *item, smime_sig_report *s,
                              smime_chain_result *chain)
{
    const smime_verify_options *opt = vc->opt;
    snprintf(s->digest_alg, sizeof(s->digest_alg), "%s", cs->digest_alg);
    snprintf(s->sig_alg, sizeof(s->sig_alg), "%s", cs->sig_alg);
    s->has_signing_time = cs->has_signing_time;
    s->signing_time = cs->signing_time;
    if (cs->cert) {
        s->has_signer = 1;
        /* The summary comes with the path validation below (cached with it), or
         * is made here for the results that end before it. */
        if (cs->status != SMIME_SIG_OK && cs->status != SMIME_SIG_WEAK)
            smime_cert_summarize(cs->cert, &s->signer);
        s->n_mailboxes = smime_cert_mailboxes(cs->cert, s->mailboxes, SMIME_MAILBOXES_MAX);
        if (s->n_mailboxes)
            snprintf(s->identifier, sizeof(s->identifier), "%s", s->mailboxes[0]);
    } else if (item->addrs->n_from) {
        snprintf(s->identifier, sizeof(s->identifier), "%s", item->addrs->from[0]);
    }
    switch (cs->status) {
    case SMIME_SIG_MALFORMED:
    case SMIME_SIG_UNSUPPORTED:
    case SMIME_SIG_LIMIT:
        sig_set(s, SMIME_RESULT_NEUTRAL, smime_sig_status_code(cs->status), cs->reason);
        return;
    case SMIME_SIG_NO_CERT:
        sig_set(s, SMIME_RESULT_PERMERROR, smime_sig_status_code(cs->status), cs->reason);
        return;
    case SMIME_SIG_BAD:
    case SMIME_SIG_KEY_USAGE:
        sig_set(s, SMIME_RESULT_FAIL, smime_sig_status_code(cs->status), cs->reason);
        return;
    case SMIME_SIG_OK:
    case SMIME_SIG_WEAK:
        break;
    }
    smime_chain_validate(vc->trust, cs->cert, pool, opt->now, opt->max_chain, opt->chain_cache,
                         chain);
    s->signer = chain->signer;
    s->chain_len = chain->len;
    memcpy(s->chain, chain->issuers, chain->len * sizeof(chain->issuers[0]));
    s->chain_anchored = chain->anchored;
    if (chain->status != SMIME_CHAIN_OK) {
        sig_set(s, SMIME_RESULT_FAIL, smime_chain_status_code(chain->status), chain->reason);
        return;
    }
    if (cs->has_signing_time && (cs->signing_time + opt->signing_time_skew < s->signer.not_before ||
                                 cs->signing_time - opt->signing_time_skew > s->signer.not_after)) {
        sig_set(s, SMIME_RESULT_FAIL, "signing-time",
                "signing time lies outside the validity period of the signer certificate");
        return;
    }
    if (cs->status == SMIME_SIG_WEAK) {
        sig_set(s, SMIME_RESULT_POLICY, smime_sig_status_code(cs->status), cs->reason);
        return;
    }
    const char *which = NULL;
    char match[SMIME_ADDR_MAX];
    size_t unmatched;
    if (!binding_match(cs->cert, item->addrs, match, &which, &unmatched)) {
        describe_binding_failure(s, item->addrs, unmatched);
        return;
    }
    snprintf(s->identifier, sizeof(s->identifier), "%s", match);
    s->result = SMIME_RESULT_PASS;
    s->code = "ok";
    snprintf(s->reason, sizeof(s->reason),
             "signature verified, certificate chain trusted, %s address in certificate", which);
}

/* Appends one certificate as PEM; -1 when it does not fit or cannot be exported. */
static int pem_append(gnutls_x509_crt_t crt, char *buf, size_t *len)
{
    gnutls_datum_t pem = { NULL, 0 };
    if (!crt || gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
        return -1;
    int rc = -1;
    if (pem.size <= SMIME_CERTS_PEM_MAX - *len) {
        memcpy(buf + *len, pem.data, pem.size);
        *len += pem.size;
        rc = 0;
    }
    gnutls_free(pem.data);
    return rc;
}

/* The signer and its validated path (the anchor too, when the store has it), for
 * keep_certs.  A path that does not fit in SMIME_CERTS_PEM_MAX is not kept at all:
 * a partial chain would be served as if whole.  Returns -1 only when memory ran out. */
static int keep_certs(const smime_chain_result *chain, gnutls_x509_crt_t signer,
                      const smime_cert_pool *pool, smime_sig_report *s)
{
    char *buf = malloc(SMIME_CERTS_PEM_MAX);
    if (!buf)
        return -1;
    size_t len = 0;
    int ok = pem_append(signer, buf, &len) == 0;
    for (size_t i = 1; ok && i < chain->n_path; i++)
        ok = pem_append(smime_chain_crt(chain, signer, pool, i), buf, &len) == 0;
    if (ok && chain->anchor)
        ok = pem_append(chain->anchor, buf, &len) == 0;
    if (!ok) {
        free(buf);
        return 0;
    }
    s->certs_pem = buf;
    s->certs_pem_len = len;
    return 0;
}

static void judge_signer(verify_ctx *vc, smime_cms *cms, const smime_cms_signer *cs,
                         const smime_mime_item *item, smime_sig_report *s)
{
    /* The chain result is large (a summary per certificate): one per signer is
     * kept off the stack of the MIME walk, which recurses. */
    smime_chain_result *chain = calloc(1, sizeof(*chain));
    if (!chain) {
        vc->oom = 1;
        return;
    }
    smime_cert_pool pool;              /* the message's certificates, parsed on demand */
    smime_cms_pool(cms, &pool);
    pool.signer_at = cs->cert_at;
    judge_signer_core(vc, &pool, cs, item, s, chain);
    const smime_verify_options *opt = vc->opt;
    if (opt->revocation && opt->revocation_mode != SMIME_REV_MODE_OFF &&
        chain->n_path > 0 && chain->status == SMIME_CHAIN_OK) {
        smime_rev_result *rev = malloc(sizeof(*rev));  /* large, like chain */
        if (!rev) {
            vc->oom = 1;
            free(chain);
            return;
        }
        /* the revocation checker works on parsed certificates: parse the path now */
        gnutls_x509_crt_t path[SMIME_CHAIN_MAX + 1];
        size_t n = 0;
        while (n < chain->n_path && (path[n] = smime_chain_crt(chain, cs->cert, &pool, n)))
            n++;
        smime_revocation_check_path(opt->revocation, path, n, n == chain->n_path ? chain->anchor : NULL,
                                    opt->now, opt->revocation_deadline_ms, rev);
        smime_rev_apply(rev, opt->revocation_mode, &s->result, &s->code, s->reason,
                        sizeof(s->reason));
        for (size_t i = 0; i < rev->n && i < SMIME_CHAIN_MAX; i++) {
            const smime_rev_answer *a = &rev->certs[i];
            s->revocation[i] = (struct smime_revocation_status){
                .status = smime_rev_status_name(a->status),
                .code = a->code,
                .source = a->source,
                .from_cache = a->from_cache,
                .revoked_at = a->revocation_time,
            };
            s->n_revocation = i + 1;
        }
        free(rev);
    }
    if (vc->opt->lint_mode != SMIME_LINT_OFF && cs->cert) {
        int rc = lint_signer(vc, cs->cert, chain, &pool, s);
        if (rc < 0)
            vc->oom = 1;
        else
            apply_lint(vc->opt, s);
    }
    if (vc->opt->keep_certs && s->result == SMIME_RESULT_PASS && cs->cert &&
        chain->status == SMIME_CHAIN_OK && keep_certs(chain, cs->cert, &pool, s) < 0)
        vc->oom = 1;
    free(chain);
}

/* Signatures a cap kept us from verifying are one neutral entry for the whole
 * message, not one each: the first names the cap, later ones only add to the
 * count, so the report (and the header made from it) stays small. */
static void note_skipped(verify_ctx *vc, const smime_mime_item *item, unsigned count,
                         const char *why)
{
    if (!vc->skipped_at) {
        smime_sig_report *s = new_sig(vc, item);
        if (!s)
            return;
        vc->skipped_at = vc->report->n_sigs;
        s->result = SMIME_RESULT_NEUTRAL;
        s->code = "limit";
        if (item->addrs->n_from)
            snprintf(s->identifier, sizeof(s->identifier), "%s", item->addrs->from[0]);
        snprintf(s->reason, sizeof(s->reason), "%s", why);
    }
    smime_sig_report *counted = &vc->report->sigs[vc->skipped_at - 1];
    vc->skipped += count;
    size_t len = strcspn(counted->reason, ";");
    snprintf(counted->reason + len, sizeof(counted->reason) - len,
             "; %u signature%s not verified", vc->skipped, vc->skipped == 1 ? "" : "s");
}

static void verify_signed(verify_ctx *vc, smime_mime_walk *walk, const smime_mime_item *item)
{
    char err[SMIME_TEXT_MAX];
    smime_cms *cms = NULL;
    if (smime_cms_open(item->der, item->der_len, vc->opt->max_certs, &cms, err, sizeof(err)) < 0) {
        smime_sig_report *s = new_sig(vc, item);
        if (s) {
            sig_set(s, SMIME_RESULT_NEUTRAL, "malformed-cms", err);
            if (item->addrs->n_from)
                snprintf(s->identifier, sizeof(s->identifier), "%s", item->addrs->from[0]);
        }
        return;
    }
    smime_cms_set_key_limits(cms, &vc->opt->key_limits);
    smime_cms_set_gnutls_verify(cms, vc->opt->reference_path);
    if (!vc->opt->reference_path)
        smime_cms_set_cert_cache(cms, smime_trust_cert_cache(vc->trust));
    unsigned n = smime_cms_signer_count(cms);
    /* The detached bytes are hashed where they lie, in their CRLF form (a bare
     * LF read as CRLF), never copied; the budget is charged that form's length. */
    smime_content_view detached = { item->signed_bytes, item->signed_len,
                                    item->signed_lf_as_crlf };
    const smime_content_view *data = item->kind == SMIME_MIME_DETACHED ? &detached : NULL;
    size_t canonical_len = item->signed_len;
    if (data && detached.lf_as_crlf) {
        canonical_len = smime_content_canonical_len_in(&detached, vc->msg, vc->msg_len, vc->msg_bare_lfs);
        /* a part in CRLF form already (only other parts had bare LFs): hashed
         * in one call, with no second look for bare LFs */
        detached.lf_as_crlf = canonical_len != item->signed_len;
    }
    /* Each SignerInfo hashes the content again: the detached bytes, or the
     * encapsulated content, which is no larger than the object that carries it. */
    size_t hash_len = data ? canonical_len : item->der_len;
    for (unsigned i = 0; i < n; i++) {
        const char *why = over_budget(vc, hash_len);
        if (why) {
            note_skipped(vc, item, n - i, why);
            break;
        }
        smime_sig_report *s = new_sig(vc, item);
        if (!s)
            break;
        vc->signatures++;
        vc->hash_left -= hash_len;
        s->signer_index = i;
        smime_cms_signer cs;
        smime_cms_verify_signer_view(cms, i, data, &cs);
        judge_signer(vc, cms, &cs, item, s);
    }
    if (item->kind == SMIME_MIME_OPAQUE) {
        gnutls_datum_t content = { NULL, 0 };
        if (smime_cms_content(cms, &content) == 0 && content.size > 0) {
            unsigned saved = vc->covering_depth;
            int covers = item->depth == 0 || (saved && item->depth == saved);
            vc->covering_depth = covers ? item->depth + 1 : 0;
            smime_mime_walk_entity(walk, (const char *)content.data, content.size, item->part,
                                   item->depth, item->addrs);
            vc->covering_depth = saved;
        }
        gnutls_free(content.data);
    }
    smime_cms_free(cms);
}

static int on_item(smime_mime_walk *walk, const smime_mime_item *item, void *ctx)
{
    verify_ctx *vc = ctx;
    switch (item->kind) {
    case SMIME_MIME_ENVELOPED:
        smime_report_add_note(vc->report, item->part, "encrypted",
                              "encrypted S/MIME part (enveloped-data); not decrypted");
        break;
    case SMIME_MIME_COMPRESSED:
        smime_report_add_note(vc->report, item->part, "compressed",
                              "compressed S/MIME part (compressed-data); not decompressed");
        break;
    case SMIME_MIME_MALFORMED:
    case SMIME_MIME_LIMIT: {
        smime_sig_report *s = new_sig(vc, item);
        if (s) {
            s->form = "mime";
            sig_set(s, SMIME_RESULT_NEUTRAL,
                    item->kind == SMIME_MIME_LIMIT ? "limit" : "malformed-mime", item->note);
        }
        break;
    }
    case SMIME_MIME_DETACHED:
    case SMIME_MIME_OPAQUE:
        verify_signed(vc, walk, item);
        break;
    }
    return vc->oom ? -1 : 0;
}

int smime_verify_message(const char *msg, size_t len, const smime_trust *trust,
                         const smime_verify_options *opt, smime_report **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    smime_report *report = smime_report_new();
    if (!report) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (len > opt->max_message_size) {
        smime_sig_report *s = smime_report_add_sig(report);
        if (!s) {
            smime_report_free(report);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        snprintf(s->part, sizeof(s->part), "1");
        s->form = "mime";
        s->result = SMIME_RESULT_NEUTRAL;
        s->code = "too-large";
        snprintf(s->reason, sizeof(s->reason), "message larger than %zu bytes; not checked",
                 opt->max_message_size);
        /* a per-sender policy still applies to its authors */
        smime_mime_scan_authors(msg, len, &report->authors);
        *out = report;
        return 0;
    }
    /* The message is walked and hashed as it arrived, whatever its line ends:
     * no second copy of it is made.  The caps are sized by its CRLF form. */
    smime_mime_prescan *pre = smime_mime_prescan_new(msg, len, &opt->mime);
    if (!pre) {
        smime_report_free(report);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t crlf_len = len + smime_mime_prescan_bare_lfs(pre);
    verify_ctx vc = { .trust = trust, .opt = opt, .report = report, .hash_left = SIZE_MAX,
                      .msg = msg, .msg_len = len, .msg_bare_lfs = crlf_len - len };
    if (opt->hash_factor)
        vc.hash_left = (size_t)opt->hash_factor * crlf_len + BUDGET_SLACK;
    if (opt->cpu_budget_ms > 0)
        vc.cpu_deadline_ms = thread_cpu_ms() + opt->cpu_budget_ms;
    smime_mime_limits lim = opt->mime;
    if (!lim.max_decoded && opt->decode_factor)
        lim.max_decoded = (size_t)opt->decode_factor * crlf_len + BUDGET_SLACK;
    int rc = smime_mime_walk_message_prescanned(msg, len, pre, &lim, on_item, &vc, &report->authors);
    smime_mime_prescan_free(pre);
    if (rc < 0 || vc.oom) {
        smime_report_free(report);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = report;
    return 0;
}
