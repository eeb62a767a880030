/* callbacks - the libmilter callbacks: collect one message, run the core once at
 * end of message, then edit headers and apply the action the policy chose.
 *
 * libmilter runs one thread per SMTP connection, so a connection's state is only
 * touched by its own thread; what threads share (the current generation of
 * settings) is reached through gen_acquire().  Headers arrive without the blank
 * after the colon (SMFIP_HDR_LEADSPC is not negotiated) and with bare LF inside
 * folded values; the message is rebuilt as "Name: value" with CRLF line ends, which
 * is byte-exact for everything a signature covers (signed parts live in the body). */
#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfapi.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "metrics.h"
#include "milter.h"
#include "smime/report/authres.h"
#include "smime/util/buf.h"
#include "smime/report/headers.h"
#include "smime/verdict/policy.h"
#include "smime/verdict/signing.h"
#include "smime/telemetry/harvest.h"
#include "smime/telemetry/telemetry.h"
#include "smime/util/text.h"
#include "smime/verdict/verify.h"

#define REMOVALS_MAX   1000     /* forged headers removed from one message */
#define HEADER_VALUE_MAX (64u << 10)
#define LOG_LINE_MAX   1900
#define INTERNAL_REASON "local error; try again later"
#define SUBJECTS_MAX   8        /* Subject headers retagged; more are removed */
#define FROMS_MAX      8        /* From values kept for SigningPolicy */

/* A header to delete: its name and which occurrence of that name it is (1-based),
 * as smfi_chgheader() counts. */
typedef struct removal {
    char    *name;                 /* owned */
    unsigned index;
} removal;

typedef struct message {
    milter_gen  *gen;              /* reference held for the whole message */
    milter_spool spool;
    unsigned     ar_seen;          /* Authentication-Results headers so far */
    size_t       n_removals;
    size_t       removals_alloc;
    removal     *removals;         /* owned, up to REMOVALS_MAX */
    int          removals_incomplete; /* a forged header could not be recorded */
    char         error[200];       /* an internal failure while collecting */
    char         client[128];      /* User-Agent or X-Mailer, for the telemetry's
                                    * client family (never stored as such) */
    /* SubjectTag-*: the Subject values as received, to retag at end of message */
    unsigned     n_subjects;
    char        *subjects[SUBJECTS_MAX];   /* owned */
    /* SigningPolicy: the From values, for a message too large to be parsed */
    unsigned     n_froms;
    char        *froms[FROMS_MAX];         /* owned */
} message;

/* Where the current transaction stands.  It begins at DATA (or, for an MTA that
 * sends no DATA step, at the first thing of the message that arrives), not at
 * MAIL: MAIL is negotiated without a reply, so nothing may be decided there. */
typedef enum tx_state {
    TX_IDLE = 0,                   /* between messages */
    TX_COLLECTING,                 /* msg holds the message */
    TX_SKIPPED,                    /* authenticated client, SkipAuthenticated */
    TX_NO_MEMORY,                  /* msg could not be made */
} tx_state;

typedef struct connection {
    char     peer[64];             /* client address for the log */
    tx_state state;
    int      no_memory_accept;     /* TX_NO_MEMORY: On-InternalError is accept */
    message *msg;                  /* owned; NULL unless TX_COLLECTING */
} connection;

/* A large message leaves freed pages in glibc's arenas (each connection thread has
 * its own); past this size they are handed back to the kernel at once, so one big
 * or hostile message does not keep the daemon at its high-water mark. */
#define TRIM_AFTER_BYTES (8u << 20)

static void message_free(message *m)
{
    if (!m)
        return;
    int large = m->spool.len >= TRIM_AFTER_BYTES;
    spool_free(&m->spool);
    for (size_t i = 0; i < m->n_removals; i++)
        free(m->removals[i].name);
    free(m->removals);
    for (unsigned i = 0; i < m->n_subjects && i < SUBJECTS_MAX; i++)
        free(m->subjects[i]);
    for (unsigned i = 0; i < m->n_froms && i < FROMS_MAX; i++)
        free(m->froms[i]);
    gen_release(m->gen);
    free(m);
    if (large)
        malloc_trim(0);
}

static connection *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static const char *queue_id(SMFICTX *ctx)
{
    const char *id = smfi_getsymval(ctx, "i");
    return id && *id ? id : "NOQUEUE";
}

static void message_error(message *m, const char *fmt, const char *detail)
{
    if (!m->error[0])
        snprintf(m->error, sizeof(m->error), fmt, detail);
}

static sfsistat cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)host;
    connection *c = calloc(1, sizeof(*c));
    if (!c || smfi_setpriv(ctx, c) != MI_SUCCESS) {
        free(c);
        log_msg(LOG_ERR, "connection: out of memory");
        return SMFIS_TEMPFAIL;
    }
    snprintf(c->peer, sizeof(c->peer), "unknown");
    if (!sa)
        return SMFIS_CONTINUE;
    unsigned char addr[16];
    int family = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memcpy(addr, &in->sin_addr, 4);
        family = 4;
        inet_ntop(AF_INET, &in->sin_addr, c->peer, sizeof(c->peer));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(addr, &in6->sin6_addr, 16);
        family = 6;
        inet_ntop(AF_INET6, &in6->sin6_addr, c->peer, sizeof(c->peer));
    }
    if (family) {
        milter_gen *g = gen_acquire();
        int skip = g && smime_peerlist_match(&g->peers, family, addr);
        gen_release(g);
        if (skip) {
            log_msg(LOG_INFO, "%s: in PeerList, not checked", c->peer);
            metrics_unchecked_message(METRICS_UNCHECKED_PEERLIST);
            return SMFIS_ACCEPT;
        }
    }
    return SMFIS_CONTINUE;
}

/* A new envelope: whatever the last one left is dropped.  Negotiated without a
 * reply (NO_REPLY_STEPS), so it decides nothing; tx_begin does, at DATA. */
static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
    (void)argv;
    connection *c = conn_of(ctx);
    if (c) {
        message_free(c->msg);
        c->msg = NULL;
        c->state = TX_IDLE;
    }
    return SMFIS_NOREPLY;
}

/* Begins the transaction once: skipped for an authenticated client when so
 * configured (the MAIL macros are still readable), else a message to collect. */
static void tx_begin(SMFICTX *ctx, connection *c)
{
    if (c->state != TX_IDLE)
        return;
    milter_gen *g = gen_acquire();
    if (g->cfg.skip_authenticated) {
        const char *auth = smfi_getsymval(ctx, "{auth_authen}");
        if (auth && *auth) {
            log_msg(LOG_INFO, "%s: authenticated client, not checked", queue_id(ctx));
            metrics_unchecked_message(METRICS_UNCHECKED_AUTHENTICATED);
            gen_release(g);
            c->state = TX_SKIPPED;
            return;
        }
    }
    message *m = calloc(1, sizeof(*m));
    if (!m) {
        c->no_memory_accept = g->cfg.policy.on_internal_error == SMIME_ACTION_ACCEPT;
        gen_release(g);
        log_msg(LOG_ERR, "%s: out of memory", queue_id(ctx));
        c->state = TX_NO_MEMORY;
        return;
    }
    m->gen = g;
    spool_init(&m->spool, g->cfg.memory_limit, g->cfg.max_message_size, g->cfg.temp_dir);
    c->msg = m;
    c->state = TX_COLLECTING;
}

/* The message being collected, beginning the transaction if the MTA sent no DATA
 * step; NULL when there is none to collect. */
static message *collecting(SMFICTX *ctx)
{
    connection *c = conn_of(ctx);
    if (!c)
        return NULL;
    tx_begin(ctx, c);
    return c->msg;
}

static int add_removal(message *m, const char *name, unsigned index)
{
    if (m->n_removals == REMOVALS_MAX) {
        message_error(m, "more than %s forged headers to remove", "1000");
        m->removals_incomplete = 1;
        return -1;
    }
    if (m->n_removals == m->removals_alloc) {
        size_t want = m->removals_alloc ? m->removals_alloc * 2 : 8;
        removal *more = realloc(m->removals, want * sizeof(*more));
        if (!more) {
            message_error(m, "%s", "out of memory");
            m->removals_incomplete = 1;
            return -1;
        }
        m->removals = more;
        m->removals_alloc = want;
    }
    char *copy = strdup(name);
    if (!copy) {
        message_error(m, "%s", "out of memory");
        m->removals_incomplete = 1;
        return -1;
    }
    m->removals[m->n_removals].name = copy;
    m->removals[m->n_removals].index = index;
    m->n_removals++;
    return 0;
}

/* Which occurrence of this X-SMIME-* name this is: all of ours are removed, so it
 * is one more than the removals of the same name recorded so far. */
static unsigned detail_occurrence(const message *m, const char *name)
{
    unsigned n = 1;
    for (size_t i = 0; i < m->n_removals; i++)
        if (smime_ascii_casecmp_n(m->removals[i].name, strlen(m->removals[i].name), name,
                                  strlen(name)) == 0)
            n++;
    return n;
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
    message *m = collecting(ctx);
    if (!m)
        return SMFIS_NOREPLY;
    /* forged headers are tracked even after a failure: On-InternalError accept
     * must still remove them */
    if (smime_ascii_casecmp_n(name, strlen(name), SMIME_AUTHRES_NAME,
                              strlen(SMIME_AUTHRES_NAME)) == 0) {
        m->ar_seen++;
        if (m->gen->cfg.remove_forged && smime_header_claims_servid(value, m->gen->servid))
            add_removal(m, SMIME_AUTHRES_NAME, m->ar_seen);
    } else if (smime_header_is_detail(name)) {
        add_removal(m, name, detail_occurrence(m, name));
    }
    if (m->gen->tagging && smime_ascii_casecmp_n(name, strlen(name), "Subject", 7) == 0) {
        /* a forged tag in a Subject beyond those kept would survive: such a
         * Subject is removed instead */
        if (m->n_subjects < SUBJECTS_MAX) {
            char *copy = strdup(value);
            if (!copy) {
                message_error(m, "%s", "out of memory");
                m->removals_incomplete = 1;   /* a forged tag could not be checked */
            }
            else
                m->subjects[m->n_subjects] = copy;
        } else {
            add_removal(m, "Subject", m->n_subjects + 1);
        }
        m->n_subjects++;
    }
    if (m->gen->signing.n && smime_ascii_casecmp_n(name, strlen(name), "From", 4) == 0) {
        if (m->n_froms < FROMS_MAX && !(m->froms[m->n_froms] = strdup(value)))
            message_error(m, "%s", "out of memory");
        m->n_froms++;
    }
    if (!m->client[0] && (smime_ascii_casecmp_n(name, strlen(name), "User-Agent", 10) == 0 ||
                          smime_ascii_casecmp_n(name, strlen(name), "X-Mailer", 8) == 0))
        snprintf(m->client, sizeof(m->client), "%s", value);
    if (m->error[0])
        return SMFIS_NOREPLY;
    /* rebuild "Name: value\r\n", folds as CRLF */
    int rc = spool_append(&m->spool, name, strlen(name));
    rc |= spool_append(&m->spool, ": ", 2);
    const char *p = value;
    for (const char *q; (q = strchr(p, '\n')) != NULL; p = q + 1) {
        size_t n = (size_t)(q - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        rc |= spool_append(&m->spool, p, n);
        rc |= spool_append(&m->spool, "\r\n", 2);
    }
    rc |= spool_append(&m->spool, p, strlen(p));
    rc |= spool_append(&m->spool, "\r\n", 2);
    if (rc)
        message_error(m, "%s", m->spool.error);
    return SMFIS_NOREPLY;
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
    message *m = collecting(ctx);
    if (m && !m->error[0] && spool_append(&m->spool, "\r\n", 2) < 0)
        message_error(m, "%s", m->spool.error);
    return SMFIS_NOREPLY;
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    message *m = collecting(ctx);
    if (m && !m->error[0] && spool_append(&m->spool, chunk, len) < 0)
        message_error(m, "%s", m->spool.error);
    return SMFIS_NOREPLY;
}

/* The report for a message too large to check: one neutral result, as the core
 * gives for a buffer over its limit, and (for SigningPolicy) the authors of the
 * From values kept, when there is a message to take them from. */
static smime_report *too_big_report(size_t limit, const message *m)
{
    smime_report *r = smime_report_new();
    smime_sig_report *s = r ? smime_report_add_sig(r) : NULL;
    if (!s) {
        smime_report_free(r);
        return NULL;
    }
    s->result = SMIME_RESULT_NEUTRAL;
    snprintf(s->part, sizeof(s->part), "1");
    snprintf(s->reason, sizeof(s->reason), "message larger than %zu bytes; not checked", limit);
    for (unsigned i = 0; m && i < m->n_froms && i < FROMS_MAX; i++)
        if (m->froms[i])
            smime_mime_authors_add(&r->authors, m->froms[i]);
    if (m && m->n_froms > FROMS_MAX)
        r->authors.total += m->n_froms - FROMS_MAX;   /* unkept: the policy refuses */
    return r;
}

/* Runs the core.  Returns the report, or NULL with the reason in err. */
static smime_report *verify(const milter_gen *g, const char *msg, size_t len, char *err,
                            size_t errlen)
{
    smime_verify_options opt;
    smime_verify_options_default(&opt, (int64_t)time(NULL));
    opt.max_message_size = g->cfg.max_message_size;
    opt.mime.max_depth = g->cfg.max_depth;
    opt.lint_mode = g->cfg.lint_mode;
    opt.max_signatures = g->cfg.max_signatures;
    opt.key_limits.max_rsa_bits = g->cfg.max_rsa_bits;
    opt.hash_factor = g->cfg.hash_factor;
    opt.decode_factor = g->cfg.decode_factor;
    opt.cpu_budget_ms = (int64_t)g->cfg.verify_timeout * 1000;
    opt.keep_certs = g->cfg.harvest_dir[0] != '\0';
    if (g->revocation) {
        opt.revocation = g->revocation;
        opt.revocation_mode = g->cfg.revocation;
        /* one budget for every certificate of the message */
        opt.revocation_deadline_ms =
            smime_rev_clock_ms() + (int64_t)g->cfg.revocation_timeout * 1000;
    }
    smime_report *r = NULL;
    if (smime_verify_message(msg, len, g->trust, &opt, &r, err, errlen) < 0)
        return NULL;
    return r;
}

/* Formats the Authentication-Results value, folded.  Returns 0 or -1. */
static int authres_value(const milter_gen *g, const smime_report *r, smime_buf *out)
{
    smime_buf line;
    smime_buf_init(&line, HEADER_VALUE_MAX);
    int rc = smime_authres_format(r, g->servid, &line);
    if (rc == 0)
        rc = smime_authres_fold(line.data, out);
    smime_buf_free(&line);
    return rc;
}

/* One privacy-safe record per signature to the telemetry writer; never waits (a
 * full queue drops the record, counted by the writer). */
static void record_telemetry(const message *m, const smime_report *r, const char *qid)
{
    struct smime_telemetry *tel = telemetry_acquire();
    if (!tel)
        return;
    /* the writer's settings: certificate ids under the deployment secret, the
     * sender domain as configured, the domain for the CAA lookup */
    const smime_telemetry_privacy *privacy = smime_telemetry_privacy_of(tel);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < r->n_sigs; i++) {
        smime_telemetry_record rec;
        char err[160];
        if (smime_telemetry_record_from(&r->sigs[i], r->sigs[i].lint, now, privacy, &rec, err,
                                        sizeof(err)) < 0) {
            log_msg(LOG_WARNING, "%s: telemetry record: %s", qid, err);
            continue;
        }
        snprintf(rec.client_family, sizeof(rec.client_family), "%s",
                 smime_telemetry_client_family(m->client));
        smime_telemetry_submit(tel, &rec);
    }
    telemetry_release();
}

/* One log line per message: queue id, results, action, and (LogWhy) reasons. */
static void log_result(const char *qid, const milter_gen *g, const smime_report *r,
                       const smime_decision *d, const char *extra)
{
    smime_buf b;
    smime_buf_init(&b, LOG_LINE_MAX);
    if (r->n_sigs == 0) {
        smime_buf_puts(&b, " smime=none");
        if (g->cfg.log_why) {
            smime_buf_puts(&b, " reason=");
            smime_authres_value(&b, smime_report_none_reason(r));
        }
    }
    for (size_t i = 0; i < r->n_sigs; i++) {
        smime_buf_printf(&b, " smime=%s part=%s", smime_result_name(r->sigs[i].result),
                         r->sigs[i].part);
        if (g->cfg.log_why) {
            smime_buf_puts(&b, " reason=");
            smime_authres_value(&b, r->sigs[i].reason);
        }
    }
    if (r->signing.applied) {
        smime_buf_printf(&b, " signing=%s rule=", r->signing.satisfied ? "pass" : "fail");
        smime_authres_value(&b, r->signing.rule);
    }
    log_msg(LOG_INFO, "%s:%s%s action=%s%s", qid, b.data ? b.data : "",
            b.overflow ? "..." : "", smime_action_name(d->action), extra);
    smime_buf_free(&b);
}

static int set_reply(SMFICTX *ctx, const char *tmpl, const char *reason)
{
    smime_reply reply;
    if (smime_reply_build(tmpl, reason, &reply) < 0)
        return -1;
    return smfi_setreply(ctx, reply.rcode, reply.xcode, reply.text) == MI_SUCCESS ? 0 : -1;
}

/* Deletes the forged headers, last occurrence first so indices stay valid. */
static int remove_forged(SMFICTX *ctx, const message *m)
{
    for (size_t i = m->n_removals; i-- > 0;)
        if (smfi_chgheader(ctx, m->removals[i].name, (int)m->removals[i].index, NULL) !=
            MI_SUCCESS)
            return -1;
    return 0;
}

/* The subject tag for the outcome: SubjectTag-SigningFail for an unmet
 * SigningPolicy rule, else the tag of the result acted on.  A pass counts only
 * when a passing signature covers the message itself: a signed attachment or
 * forwarded message must not make the whole mail look signed. */
static const char *subject_tag_for(const milter_gen *g, const smime_report *r,
                                   const smime_decision *d)
{
    if (r->signing.applied && !r->signing.satisfied && g->cfg.subject_tag[SMIME_TAG_SIGNING_FAIL][0])
        return g->cfg.subject_tag[SMIME_TAG_SIGNING_FAIL];
    if ((unsigned)d->result >= SMIME_RESULT_COUNT || !g->cfg.subject_tag[d->result][0])
        return NULL;
    if (d->result == SMIME_RESULT_PASS) {
        int covers = 0;
        for (size_t i = 0; i < r->n_sigs; i++)
            covers |= r->sigs[i].result == SMIME_RESULT_PASS && r->sigs[i].covers_message;
        if (!covers)
            return NULL;
    }
    return g->cfg.subject_tag[d->result];
}

/* Removes every configured tag from the Subject headers kept (those beyond are
 * deleted with the forged headers) and puts `tag` on the first.  Only the outer
 * header is touched: a detached signature does not cover it, so the signature
 * stays valid.  Returns 0, or -1 when the MTA refused an edit. */
static int retag_subjects(SMFICTX *ctx, const message *m, const char *tag)
{
    const smime_config *cfg = &m->gen->cfg;
    const char *tags[SMIME_TAG_SIGNING_FAIL + 1];
    size_t n = 0;
    for (size_t i = 0; i <= SMIME_TAG_SIGNING_FAIL; i++)
        if (cfg->subject_tag[i][0])
            tags[n++] = cfg->subject_tag[i];
    if (m->n_subjects == 0)
        return !tag || smfi_addheader(ctx, "Subject", (char *)tag) == MI_SUCCESS ? 0 : -1;
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < m->n_subjects && i < SUBJECTS_MAX; i++) {
        if (!m->subjects[i])
            continue;
        smime_buf b;
        smime_buf_init(&b, HEADER_VALUE_MAX + SMIME_SUBJECT_TAG_MAX + 2);
        int changed = 0;
        if (smime_subject_retag(m->subjects[i], tags, n, i == 0 ? tag : NULL, &b, &changed) < 0)
            rc = -1;
        else if (changed &&
                 smfi_chgheader(ctx, "Subject", (int)i + 1, b.data ? b.data : (char *)"") != MI_SUCCESS)
            rc = -1;
        smime_buf_free(&b);
    }
    return rc;
}

/* What the action means for libmilter, replies set where they apply. */
static sfsistat apply_action(SMFICTX *ctx, const smime_policy *p, smime_action a,
                             const char *reason, const char *reply, const char *qid)
{
    switch (a) {
    case SMIME_ACTION_REJECT:
        if (set_reply(ctx, reply ? reply : p->reject_reply, reason) < 0)
            log_msg(LOG_WARNING, "%s: could not set the reject reply", qid);
        return SMFIS_REJECT;
    case SMIME_ACTION_TEMPFAIL:
        if (set_reply(ctx, reply ? reply : p->tempfail_reply, reason) < 0)
            log_msg(LOG_WARNING, "%s: could not set the tempfail reply", qid);
        return SMFIS_TEMPFAIL;
    case SMIME_ACTION_DISCARD:
        return SMFIS_DISCARD;
    case SMIME_ACTION_QUARANTINE: {
        char why[SMIME_REPLY_TEXT_MAX];
        snprintf(why, sizeof(why), "smime-milter: %s", reason);
        for (char *q = why; *q; q++)
            if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
                *q = '?';
        if (smfi_quarantine(ctx, why) != MI_SUCCESS)
            log_msg(LOG_WARNING, "%s: could not quarantine", qid);
        return SMFIS_CONTINUE;
    }
    case SMIME_ACTION_ACCEPT:
        return SMFIS_CONTINUE;
    }
    return SMFIS_CONTINUE;
}

/* A failure of the machine, not of the message: On-InternalError decides.  Forged
 * results are removed even when the message is let through unchecked. */
static sfsistat internal_error(SMFICTX *ctx, const message *m, const char *qid, const char *why)
{
    const smime_policy *p = &m->gen->cfg.policy;
    log_msg(LOG_ERR, "%s: internal error: %s; action=%s", qid, why,
            smime_action_name(p->on_internal_error));
    metrics_internal_error(p->on_internal_error);
    if (p->on_internal_error == SMIME_ACTION_ACCEPT ||
        p->on_internal_error == SMIME_ACTION_QUARANTINE) {
        /* never deliver a forged result claiming to be ours */
        if (m->removals_incomplete || remove_forged(ctx, m) < 0 ||
            (m->gen->tagging && retag_subjects(ctx, m, NULL) < 0)) {
            log_msg(LOG_ERR, "%s: could not remove every forged header; tempfail", qid);
            return SMFIS_TEMPFAIL;
        }
    }
    return apply_action(ctx, p, p->on_internal_error, INTERNAL_REASON, NULL, qid);
}

static sfsistat eom_check(SMFICTX *ctx)
{
    connection *c = conn_of(ctx);
    const char *qid = queue_id(ctx);
    if (!c) {
        log_msg(LOG_ERR, "%s: no connection state (out of memory at connect)", qid);
        return SMFIS_TEMPFAIL;
    }
    tx_begin(ctx, c);                /* an empty message from an MTA without DATA */
    tx_state state = c->state;
    message *m = c->msg;
    c->msg = NULL;                   /* owned here from now on */
    c->state = TX_IDLE;
    if (state == TX_SKIPPED)
        return SMFIS_CONTINUE;
    if (state == TX_NO_MEMORY || !m)
        return c->no_memory_accept ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
    const milter_gen *g = m->gen;
    sfsistat ret;
    char err[256] = "";
    smime_report *r = NULL;
    const char *data;
    size_t len;
    double verify_seconds = -1;

    if (m->error[0]) {
        ret = internal_error(ctx, m, qid, m->error);
        goto done;
    }
    if (m->spool.too_big) {
        r = too_big_report(g->cfg.max_message_size, m);
        if (!r)
            snprintf(err, sizeof(err), "out of memory");
    } else if (spool_view(&m->spool, &data, &len) < 0) {
        snprintf(err, sizeof(err), "%s", m->spool.error);
    } else {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = verify(g, data, len, err, sizeof(err));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        verify_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
    if (!r) {
        ret = internal_error(ctx, m, qid, err[0] ? err : "verifier failed");
        goto done;
    }

    smime_decision d;
    smime_policy_decide(&g->cfg.policy, r, &d);
    smime_signing_decide(smime_signing_evaluate(&g->signing, r), r, &d);
    char extra[96] = "";
    if (d.action == SMIME_ACTION_ACCEPT || d.action == SMIME_ACTION_QUARANTINE) {
        smime_buf ar;
        smime_buf_init(&ar, HEADER_VALUE_MAX);
        int rc = authres_value(g, r, &ar);
        if (rc < 0) {
            smime_buf_free(&ar);
            ret = internal_error(ctx, m, qid, "Authentication-Results header too long");
            goto done;
        }
        if (remove_forged(ctx, m) < 0)
            rc = -1;
        if (m->n_removals)
            snprintf(extra, sizeof(extra), " removed=%zu", m->n_removals);
        if (rc == 0 && g->tagging && retag_subjects(ctx, m, subject_tag_for(g, r, &d)) < 0)
            rc = -1;
        /* inserted at the top, details first so the A-R header ends up above them */
        for (size_t i = r->n_sigs; rc == 0 && g->cfg.detail_headers && i-- > 0;) {
            smime_buf det;
            smime_buf_init(&det, HEADER_VALUE_MAX);
            if (smime_detail_format(&r->sigs[i], &det) < 0 ||
                smfi_insheader(ctx, 0, SMIME_DETAIL_HEADER, det.data) != MI_SUCCESS)
                rc = -1;
            smime_buf_free(&det);
        }
        if (rc == 0 && smfi_insheader(ctx, 0, SMIME_AUTHRES_NAME, ar.data) != MI_SUCCESS)
            rc = -1;
        smime_buf_free(&ar);
        if (rc < 0) {
            /* the MTA refused an edit: the connection is most likely gone */
            log_msg(LOG_ERR, "%s: header edit refused by the MTA; tempfail", qid);
            metrics_internal_error(SMIME_ACTION_TEMPFAIL);
            ret = SMFIS_TEMPFAIL;
            goto done;
        }
    }
    log_result(qid, g, r, &d, extra);
    metrics_message(r, d.result, d.action, verify_seconds);
    record_telemetry(m, r, qid);
    /* only from mail that is let in: a certificate the SigningPolicy refused, or
     * that came with a rejected message, is not one to encrypt to */
    int harvestable = (d.action == SMIME_ACTION_ACCEPT || d.action == SMIME_ACTION_QUARANTINE) &&
                      !(r->signing.applied && !r->signing.satisfied);
    struct smime_harvester *hv = harvestable ? harvest_acquire() : NULL;
    if (hv) {
        unsigned dropped = smime_harvester_submit(hv, r, (int64_t)time(NULL));
        harvest_release();
        if (dropped)
            log_msg(LOG_WARNING, "%s: harvest: %u certificate(s) dropped (queue full)", qid, dropped);
    }
    ret = apply_action(ctx, &g->cfg.policy, d.action, d.reason, d.reply, qid);
done:
    smime_report_free(r);
    message_free(m);
    return ret;
}

/* Messages inside eom_check(): a stopping daemon waits for them, so a message
 * whose check has begun gets its reply instead of a dropped connection. */
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t busy_idle = PTHREAD_COND_INITIALIZER;
static unsigned busy_messages;           /* guarded by busy_lock */

static sfsistat cb_eom(SMFICTX *ctx)
{
    pthread_mutex_lock(&busy_lock);
    busy_messages++;
    pthread_mutex_unlock(&busy_lock);
    sfsistat ret = eom_check(ctx);
    pthread_mutex_lock(&busy_lock);
    if (--busy_messages == 0)
        pthread_cond_broadcast(&busy_idle);
    pthread_mutex_unlock(&busy_lock);
    return ret;
}

unsigned callbacks_drain(unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&busy_lock);
    int rc = 0;
    while (busy_messages > 0 && rc == 0)
        rc = pthread_cond_timedwait(&busy_idle, &busy_lock, &until);
    unsigned left = busy_messages;
    pthread_mutex_unlock(&busy_lock);
    return left;
}

/* The transaction begins here: an authenticated client is accepted before its
 * message is sent, and a message that cannot be collected is refused now.
 * Answering DATA also matters for latency over TCP: unanswered, the MTA's DATA
 * macros would be the last thing it sends before the message content, our
 * delayed ACK would hold them for ~40 ms, and the MTA's Nagle algorithm would hold
 * its first header until that ACK came. */
static sfsistat cb_data(SMFICTX *ctx)
{
    connection *c = conn_of(ctx);
    if (!c)
        return SMFIS_TEMPFAIL;
    tx_begin(ctx, c);
    if (c->state == TX_SKIPPED) {
        c->state = TX_IDLE;
        return SMFIS_ACCEPT;
    }
    if (c->state == TX_NO_MEMORY) {
        c->state = TX_IDLE;
        return c->no_memory_accept ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

/* The steps whose callbacks never decide anything (MAIL only resets; headers and
 * body only collect, and a failure is acted on at end of message) are negotiated
 * as "no reply": each reply is a round trip, per header and per body chunk, and
 * at load the round trips cost more than the verification.  libmilter answers on
 * our behalf when an MTA lacks the feature.  DATA stays answered: see cb_data. */
#define NO_REPLY_STEPS (SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long actions_offered,
                             unsigned long steps_offered, unsigned long f2, unsigned long f3,
                             unsigned long *actions, unsigned long *steps, unsigned long *pf2,
                             unsigned long *pf3)
{
    (void)ctx;
    (void)f2;
    (void)f3;
    unsigned long wanted = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
    if ((actions_offered & wanted) != wanted) {
        log_msg(LOG_ERR, "MTA offers actions 0x%lx, we need 0x%lx", actions_offered, wanted);
        return SMFIS_REJECT;
    }
    /* libmilter offers the no-reply steps even to an MTA without them (it then
     * answers for us), so they are always there; without them the collecting
     * callbacks' SMFIS_NOREPLY would leave the MTA waiting, so refuse instead. */
    if ((steps_offered & NO_REPLY_STEPS) != NO_REPLY_STEPS) {
        log_msg(LOG_ERR, "protocol steps 0x%lx lack no-reply MAIL, headers and body", steps_offered);
        return SMFIS_REJECT;
    }
    *actions = wanted;
    /* *steps holds libmilter's default (the steps we have no callback for) */
    *steps |= NO_REPLY_STEPS;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat cb_abort(SMFICTX *ctx)
{
    connection *c = conn_of(ctx);
    if (c) {
        message_free(c->msg);
        c->msg = NULL;
        c->state = TX_IDLE;
    }
    return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
    connection *c = conn_of(ctx);
    if (c) {
        message_free(c->msg);
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = SMIME_MILTER_NAME,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = cb_connect,
    .xxfi_envfrom = cb_envfrom,
    .xxfi_header = cb_header,
    .xxfi_eoh = cb_eoh,
    .xxfi_body = cb_body,
    .xxfi_eom = cb_eom,
    .xxfi_data = cb_data,
    .xxfi_abort = cb_abort,
    .xxfi_close = cb_close,
    .xxfi_negotiate = cb_negotiate,
};

struct smfiDesc *callbacks_desc(void)
{
    return &desc;
}

int callbacks_test_file(const milter_gen *g, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    milter_spool s;
    spool_init(&s, g->cfg.memory_limit, g->cfg.max_message_size, g->cfg.temp_dir);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = spool_append(&s, chunk, n);
    int read_err = ferror(f);
    fclose(f);
    if (rc < 0 || read_err) {
        fprintf(stderr, "%s: %s\n", path, rc < 0 ? s.error : "read error");
        spool_free(&s);
        return -1;
    }
    char err[256] = "";
    smime_report *r = NULL;
    const char *data;
    size_t len;
    if (s.too_big)
        r = too_big_report(g->cfg.max_message_size, NULL);
    else if (spool_view(&s, &data, &len) == 0)
        r = verify(g, data, len, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "%s: internal error: %s (On-InternalError %s)\n", path,
                err[0] ? err : s.error, smime_action_name(g->cfg.policy.on_internal_error));
        spool_free(&s);
        return -1;
    }
    smime_decision d;
    smime_policy_decide(&g->cfg.policy, r, &d);
    smime_signing_decide(smime_signing_evaluate(&g->signing, r), r, &d);
    smime_buf ar;
    smime_buf_init(&ar, HEADER_VALUE_MAX);
    rc = authres_value(g, r, &ar);
    if (rc == 0) {
        printf("%s:\n", path);
        printf("%s: %s\n", SMIME_AUTHRES_NAME, ar.data);
        for (size_t i = 0; g->cfg.detail_headers && i < r->n_sigs; i++) {
            smime_buf det;
            smime_buf_init(&det, HEADER_VALUE_MAX);
            if (smime_detail_format(&r->sigs[i], &det) == 0)
                printf("%s: %s\n", SMIME_DETAIL_HEADER, det.data);
            smime_buf_free(&det);
        }
        printf("action: %s (result %s)", smime_action_name(d.action),
               smime_result_name(d.result));
        const char *tmpl = d.action == SMIME_ACTION_REJECT     ? g->cfg.policy.reject_reply
                           : d.action == SMIME_ACTION_TEMPFAIL ? g->cfg.policy.tempfail_reply
                                                               : NULL;
        if (tmpl && d.reply)
            tmpl = d.reply;
        smime_reply reply;
        if (tmpl && smime_reply_build(tmpl, d.reason, &reply) == 0) {
            printf(": %s %s ", reply.rcode, reply.xcode);
            /* the text is escaped for libmilter ("%%"); show it as the client sees it */
            for (const char *q = reply.text; *q; q++) {
                putchar(*q);
                if (q[0] == '%' && q[1] == '%')
                    q++;
            }
        }
        printf("\n");
    } else {
        fprintf(stderr, "%s: Authentication-Results header too long\n", path);
    }
    smime_buf_free(&ar);
    smime_report_free(r);
    spool_free(&s);
    return rc;
}
