/* Unit tests of telemetry: client-family reduction, record building and its
 * privacy rules (checked on every column), the bounded queue (a full queue drops
 * and counts; a stalled sink never makes submit wait), and the SQLite sink's
 * schema, migration and round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "smime/telemetry/telemetry.h"
#include "smime/telemetry/sink.h"

/* 2026-06-01T12:00:00Z */
#define NOW 1780315200LL

/* ---- client family ---------------------------------------------------------- */

static void test_client_family(void **state)
{
    (void)state;
    static const struct { const char *header, *family; } cases[] = {
        { "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.3.1",
          "Thunderbird" },
        { "Mozilla/5.0 (Windows NT 10.0; rv:102.0) Gecko/20100101 Icedove/102.0", "Thunderbird" },
        { "Microsoft Outlook 16.0", "Outlook" },
        { "Microsoft Office Outlook 12.0", "Outlook" },
        { "Microsoft-MacOutlook/16.78.23092418", "Outlook" },
        { "Apple Mail (2.3654.120.0.1.13)", "Apple Mail" },
        { "iPhone Mail (20E252)", "Apple Mail" },
        { "Evolution 3.46.4-2", "Evolution" },
        { "KMail/5.22.3 (Linux/6.1.0-13-amd64; KDE/5.103.0)", "KMail" },
        { "Roundcube Webmail/1.6.5", "Roundcube" },
        { "Gmail", "Gmail" },
        { "NeoMutt/20220429", "Mutt" },
        { "Claws Mail 4.1.1 (GTK 3.24.38; x86_64-pc-linux-gnu)", "Claws Mail" },
        { "eM Client/9.2.2157.0", "eM Client" },
        { "MyHomeMadeMailer 0.1 <dev@example.org>", "other" },
        { "", "unknown" },
        { "   ", "unknown" },
        { "THUNDERBIRD", "Thunderbird" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(smime_telemetry_client_family(cases[i].header), cases[i].family);
    assert_string_equal(smime_telemetry_client_family(NULL), "unknown");
}

/* ---- record building -------------------------------------------------------- */

/* A report with an address, a name or a message id in every text field that may
 * hold one: none of them may reach any column. */
static void fill_leaky_report(smime_sig_report *s)
{
    memset(s, 0, sizeof(*s));
    s->result = SMIME_RESULT_POLICY;
    s->code = "from-mismatch";
    snprintf(s->reason, sizeof(s->reason),
             "From secret.sender@Example.ORG is not in the certificate <msgid-4711@mx.example.org>");
    snprintf(s->part, sizeof(s->part), "1.2");
    s->form = "multipart/signed";
    snprintf(s->identifier, sizeof(s->identifier), "secret.sender@Example.ORG");
    snprintf(s->client, sizeof(s->client),
             "Mozilla/5.0 Thunderbird/115.3.1 (secret.sender@example.org) <msgid-4711@mx>");
    s->has_signer = 1;
    snprintf(s->signer.subject, sizeof(s->signer.subject),
             "CN=Secret Sender,EMAIL=secret.sender@example.org,O=Example");
    snprintf(s->signer.issuer, sizeof(s->signer.issuer),
             "CN=Example Issuing CA,EMAIL=secret.admin@example.org,O=Example\\, Inc.,C=DE");
    snprintf(s->signer.serial, sizeof(s->signer.serial), "0A1B2C");
    s->signer.not_before = 1767225600LL;   /* 2026-01-01 */
    s->signer.not_after = 1767225600LL + 825LL * 86400;
    snprintf(s->signer.key, sizeof(s->signer.key), "EC-P256");
    snprintf(s->signer.issuer_key_id, sizeof(s->signer.issuer_key_id), "AABBCCDD");
    s->n_mailboxes = 2;
    snprintf(s->mailboxes[0], sizeof(s->mailboxes[0]), "secret.sender@example.org");
    snprintf(s->mailboxes[1], sizeof(s->mailboxes[1]), "secret.other@example.org");
    s->has_signing_time = 1;
    s->signing_time = NOW - 60;
    snprintf(s->digest_alg, sizeof(s->digest_alg), "SHA256");
    snprintf(s->sig_alg, sizeof(s->sig_alg), "ECDSA-SHA256");
    s->chain_len = 2;
    snprintf(s->chain[0].subject, sizeof(s->chain[0].subject), "CN=Example Issuing CA,O=Example");
    snprintf(s->chain[1].subject, sizeof(s->chain[1].subject),
             "CN=Example Root,E=secret.root@example.org,O=Example");
    s->chain_anchored = 1;
}

static smime_lint_finding leaky_findings[] = {
    { "VAL-02", "6.3.2", SMIME_SEV_ERROR, 0, "validity", "secret.sender@example.org", 0, 0 },
    { "KU-04", "7.1.2.3(e)", SMIME_SEV_ERROR, 0, "keyUsage", "", 0, 0 },
    { "VAL-02", "6.3.2", SMIME_SEV_ERROR, 0, "validity", "", 0, 0 },
    { "CA-01", "7.1.2.2", SMIME_SEV_WARNING, 1, "basicConstraints", "", 0, 0 },
};

static void fill_lint(smime_lint_result *l)
{
    memset(l, 0, sizeof(*l));
    l->type = SMIME_TYPE_MAILBOX;
    l->generation = SMIME_GEN_LEGACY;
    snprintf(l->policy_oid, sizeof(l->policy_oid), "2.23.140.1.5.1.1");
    l->scope = SMIME_SCOPE_EKU_EMAIL | SMIME_SCOPE_SAN_MAILBOX | SMIME_SCOPE_IN_SBR;
    l->nfindings = sizeof(leaky_findings) / sizeof(leaky_findings[0]);
    l->findings = leaky_findings;
    l->alloc = l->nfindings;
}

/* Every column of the record, as stored, holds none of the needles. */
static void assert_no_personal_data(const smime_telemetry_record *r)
{
    static const char *const needles[] = { "@", "secret", "msgid", "Secret", "4711", "<" };
    const char *vals[SMIME_TELEMETRY_NCOLS];
    char numbuf[SMIME_TELEMETRY_NCOLS * 24];
    smime_telemetry_record_values(r, vals, numbuf);
    for (size_t c = 0; c < SMIME_TELEMETRY_NCOLS; c++)
        for (size_t n = 0; n < sizeof(needles) / sizeof(needles[0]); n++)
            if (strstr(vals[c], needles[n])) {
                fail_msg("column %s holds \"%s\": %s", smime_telemetry_columns[c], needles[n],
                         vals[c]);
            }
}

static void test_record_fields(void **state)
{
    (void)state;
    smime_sig_report s;
    smime_lint_result lint;
    fill_leaky_report(&s);
    fill_lint(&lint);
    smime_telemetry_record r;
    char err[256];
    assert_int_equal(smime_telemetry_record_from(&s, &lint, NOW, NULL, &r, err, sizeof(err)), 0);
    assert_string_equal(r.day, "2026-06-01");
    assert_string_equal(r.result, "policy");
    assert_string_equal(r.reason, "from-mismatch");
    assert_string_equal(r.issuer_dn, "CN=Example Issuing CA,O=Example\\, Inc.,C=DE");
    assert_string_equal(r.issuer_key_id, "AABBCCDD");
    assert_string_equal(r.root_subject, "CN=Example Root,O=Example");
    assert_string_equal(r.policy_oid, "2.23.140.1.5.1.1");
    assert_string_equal(r.cert_type, "mailbox");
    assert_string_equal(r.generation, "legacy");
    assert_string_equal(r.findings, "CA-01 KU-04 VAL-02");
    assert_string_equal(r.key_alg, "EC-P256");
    assert_string_equal(r.digest_alg, "SHA256");
    assert_string_equal(r.sig_alg, "ECDSA-SHA256");
    assert_int_equal(r.validity_days, 825);
    assert_string_equal(r.not_before_month, "2026-01");
    assert_string_equal(r.sbr_scope, "sbr");
    assert_int_equal(r.scope_flags, lint.scope);
    assert_string_equal(r.client_family, "Thunderbird");
    assert_string_equal(r.sender_domain, "");
    assert_string_equal(r.cert_id, "");   /* no secret given */
    assert_string_equal(r.cn_form, "name");
    assert_string_equal(r.name_attrs, "");
    assert_no_personal_data(&r);
}

/* Issue 14: issuer identity only for a chain that reached a configured anchor. */
static void test_record_untrusted_issuer(void **state)
{
    (void)state;
    smime_sig_report s;
    fill_leaky_report(&s);
    snprintf(s.signer.issuer, sizeof(s.signer.issuer), "CN=Jane Doe Personal CA,O=Jane Doe");
    s.chain_anchored = 0;
    s.result = SMIME_RESULT_FAIL;
    s.code = "untrusted";
    smime_telemetry_record r;
    char err[256];
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, NULL, &r, err, sizeof(err)), 0);
    assert_string_equal(r.issuer_dn, "(untrusted)");
    assert_string_equal(r.issuer_key_id, "");
    assert_string_equal(r.root_subject, "");
    const char *vals[SMIME_TELEMETRY_NCOLS];
    char numbuf[SMIME_TELEMETRY_NCOLS * 24];
    smime_telemetry_record_values(&r, vals, numbuf);
    for (size_t c = 0; c < SMIME_TELEMETRY_NCOLS; c++)
        if (strstr(vals[c], "Jane") || strstr(vals[c], "AABBCCDD"))
            fail_msg("column %s holds the untrusted issuer: %s", smime_telemetry_columns[c],
                     vals[c]);
    /* anchored: the CA is named */
    s.chain_anchored = 1;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, NULL, &r, err, sizeof(err)), 0);
    assert_string_equal(r.issuer_dn, "CN=Jane Doe Personal CA,O=Jane Doe");
    assert_string_equal(r.issuer_key_id, "AABBCCDD");
}

/* cert_id = HMAC-SHA256(secret, issuer DN || NUL || serial): the same certificate
 * has one id, another serial another, another secret another; never the
 * fingerprint or a name. */
static void test_record_cert_id(void **state)
{
    (void)state;
    smime_sig_report s;
    fill_leaky_report(&s);
    smime_telemetry_privacy priv;
    memset(&priv, 0, sizeof(priv));
    memcpy(priv.cert_key, "0123456789abcdef0123456789abcdef", 32);
    priv.cert_key_len = 32;
    smime_telemetry_record r1, r2, r3;
    char err[256];
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r1, err, sizeof(err)), 0);
    char ident[600];
    size_t il = strlen(s.signer.issuer);
    memcpy(ident, s.signer.issuer, il);
    ident[il] = '\0';
    memcpy(ident + il + 1, "0A1B2C", 6);
    unsigned char mac[32];
    assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, priv.cert_key, 32, ident, il + 7, mac), 0);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(r1.cert_id, hex);
    s.signing_time += 3600;      /* another signature, same certificate */
    s.result = SMIME_RESULT_PASS;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW + 86400, &priv, &r2, err,
                                                 sizeof(err)), 0);
    assert_string_equal(r2.cert_id, r1.cert_id);
    snprintf(s.signer.serial, sizeof(s.signer.serial), "0A1B2D");
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r3, err, sizeof(err)), 0);
    assert_string_not_equal(r3.cert_id, r1.cert_id);
    priv.cert_key[0] ^= 1;
    snprintf(s.signer.serial, sizeof(s.signer.serial), "0A1B2C");
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r3, err, sizeof(err)), 0);
    assert_string_not_equal(r3.cert_id, r1.cert_id);
    s.has_signer = 0;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r3, err, sizeof(err)), 0);
    assert_string_equal(r3.cert_id, "");
    assert_no_personal_data(&r1);
}

/* The naming questions: CN only a mailbox, given name / surname / pseudonym. */
static void test_record_subject_forms(void **state)
{
    (void)state;
    static const struct { const char *dn, *cn_form, *attrs; } cases[] = {
        { "EMAIL=jane@example.com,CN=jane@example.com", "mailbox", "" },
        { "CN=jane@example.com,O=Example", "mailbox", "" },
        { "CN=Jane Doe,givenName=Jane,surName=Doe,O=X", "name", "givenName surname" },
        { "pseudonym=JD,CN=jane@example.com", "mailbox", "pseudonym" },
        { "EMAIL=jane@example.com,pseudonym=JD,surName=Doe,givenName=Jane,CN=jane@example.com",
          "mailbox", "givenName surname pseudonym" },
        { "2.5.4.65=#0c024a44,CN=Jane", "name", "pseudonym" },
        { "O=Example,C=DE", "absent", "" },
        { "CN=jane@example.com+CN=Jane Doe", "name", "" },
        { "CN=not an address@example.com", "name", "" },
        { "CN=jane@localhost", "name", "" },
        { "CN=a\\,b@example.com", "name", "" },
        { "", "absent", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        smime_sig_report s;
        fill_leaky_report(&s);
        snprintf(s.signer.subject, sizeof(s.signer.subject), "%s", cases[i].dn);
        smime_telemetry_record r;
        assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, NULL, &r, NULL, 0), 0);
        if (strcmp(r.cn_form, cases[i].cn_form) || strcmp(r.name_attrs, cases[i].attrs))
            fail_msg("%s: cn_form %s attrs [%s], want %s [%s]", cases[i].dn, r.cn_form,
                     r.name_attrs, cases[i].cn_form, cases[i].attrs);
    }
}

static void test_record_without_lint_or_signer(void **state)
{
    (void)state;
    smime_sig_report s;
    fill_leaky_report(&s);
    s.has_signer = 0;
    s.chain_anchored = 0;
    s.client[0] = '\0';
    smime_telemetry_record r;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, NULL, &r, NULL, 0), 0);
    assert_string_equal(r.issuer_dn, "");
    assert_string_equal(r.root_subject, "");
    assert_string_equal(r.cert_type, "");
    assert_string_equal(r.findings, "");
    assert_string_equal(r.sbr_scope, "");
    assert_string_equal(r.client_family, "unknown");
    assert_int_equal(r.validity_days, -1);
    assert_no_personal_data(&r);
}

/* A self-issued signer's issuer is the signer: only the fact may be kept. */
static void test_record_self_issued(void **state)
{
    (void)state;
    smime_sig_report s;
    fill_leaky_report(&s);
    memcpy(s.signer.issuer, s.signer.subject, sizeof(s.signer.issuer));
    smime_telemetry_record r;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, NULL, &r, NULL, 0), 0);
    assert_string_equal(r.issuer_dn, "(self-issued)");
    assert_string_equal(r.issuer_key_id, "");
    assert_no_personal_data(&r);
}

static void test_record_sender_domain(void **state)
{
    (void)state;
    smime_sig_report s;
    fill_leaky_report(&s);
    smime_telemetry_record r;
    smime_telemetry_privacy priv;
    char err[256];
    memset(&priv, 0, sizeof(priv));

    priv.domain_mode = SMIME_TELEMETRY_DOMAIN_PLAIN;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r, err, sizeof(err)), 0);
    assert_string_equal(r.sender_domain, "example.org");
    assert_null(strchr(r.sender_domain, '@'));

    /* HMAC-SHA256("test-key-0123456789", "example.org"), from Python's hmac. */
    priv.domain_mode = SMIME_TELEMETRY_DOMAIN_HMAC;
    memcpy(priv.key, "test-key-0123456789", 19);
    priv.key_len = 19;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r, err, sizeof(err)), 0);
    assert_string_equal(r.sender_domain,
                        "c0dd9357f2b87a41e8bc465ee216ef989d9e48944f79926259053d5e47f43255");
    assert_no_personal_data(&r);

    priv.key_len = 0;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "key"));
    assert_string_equal(r.sender_domain, "");
}

static void test_record_findings_cut(void **state)
{
    (void)state;
    enum { N = 200 };
    static smime_lint_finding many[N];
    static char ids[N][24];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "LONGID-%03d", i);
        many[i].id = ids[i];
    }
    smime_lint_result l;
    memset(&l, 0, sizeof(l));
    l.findings = many;
    l.nfindings = N;
    smime_sig_report s;
    fill_leaky_report(&s);
    smime_telemetry_record r;
    assert_int_equal(smime_telemetry_record_from(&s, &l, NOW, NULL, &r, NULL, 0), 0);
    size_t len = strlen(r.findings);
    assert_true(len < sizeof(r.findings));
    assert_string_equal(r.findings + len - 6, " +MORE");
    assert_true(strncmp(r.findings, "LONGID-000 LONGID-001 ", 22) == 0);
}

/* ---- queue and writer ------------------------------------------------------- */

/* A sink the test controls: it can stall (block in write until released) or
 * fail, and it records the reason field of what it stored, in order. */
typedef struct fake_sink {
    pthread_mutex_t lock;
    pthread_cond_t  cond;
    int stall;             /* write blocks while set */
    int fail;              /* write returns -1 */
    int in_write;          /* the writer is inside write */
    size_t written;
    char order[4096][8];
} fake_sink;

static int fake_write(void *impl, const smime_telemetry_record *recs, size_t n, char *err,
                      size_t errlen)
{
    fake_sink *f = impl;
    pthread_mutex_lock(&f->lock);
    f->in_write++;
    pthread_cond_broadcast(&f->cond);
    while (f->stall)
        pthread_cond_wait(&f->cond, &f->lock);
    f->in_write--;
    int rc = 0;
    if (f->fail) {
        snprintf(err, errlen, "fake sink refuses");
        rc = -1;
    } else {
        for (size_t i = 0; i < n && f->written < 4096; i++)
            snprintf(f->order[f->written++], sizeof(f->order[0]), "%s", recs[i].reason);
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static void fake_close(void *impl)
{
    (void)impl;   /* the test owns the fake */
}

static const smime_telemetry_sink_ops fake_ops = {
    .name = "fake", .write = fake_write, .close = fake_close,
};

static void fake_init(fake_sink *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
}

static void fake_set(fake_sink *f, int *field, int value)
{
    pthread_mutex_lock(&f->lock);
    *field = value;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

typedef struct log_capture {
    pthread_mutex_t lock;
    int warnings, errors;
    char last[512];
} log_capture;

static void capture_log(void *ctx, smime_telemetry_log_level level, const char *msg)
{
    log_capture *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (level == SMIME_TELEMETRY_LOG_ERR)
        c->errors++;
    else if (level == SMIME_TELEMETRY_LOG_WARNING)
        c->warnings++;
    snprintf(c->last, sizeof(c->last), "%s", msg);
    pthread_mutex_unlock(&c->lock);
}

static smime_telemetry_record numbered(int i)
{
    smime_telemetry_record r;
    memset(&r, 0, sizeof(r));
    snprintf(r.day, sizeof(r.day), "2026-06-01");
    snprintf(r.reason, sizeof(r.reason), "%d", i);
    return r;
}

/* Every record arrives, in order, through many wrap-arounds of a small ring. */
static void test_queue_order(void **state)
{
    (void)state;
    fake_sink f;
    fake_init(&f);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.queue_capacity = 1000;
    opt.batch_size = 7;
    smime_telemetry *t;
    char err[256];
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, err,
                                           sizeof(err)), 0);
    for (int i = 0; i < 900; i++) {
        smime_telemetry_record r = numbered(i);
        assert_int_equal(smime_telemetry_submit(t, &r), 0);
    }
    smime_telemetry_stats st;
    assert_int_equal(smime_telemetry_close(t, 10000, &st), 0);
    assert_int_equal(st.submitted, 900);
    assert_int_equal(st.written, 900);
    assert_int_equal(f.written, 900);
    for (int i = 0; i < 900; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(f.order[i], want);
    }
}

/* Offline mode: a queue far smaller than the input loses nothing. */
static void test_queue_wait_when_full(void **state)
{
    (void)state;
    fake_sink f;
    fake_init(&f);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.queue_capacity = 2;
    opt.batch_size = 1;
    opt.wait_when_full = 1;
    smime_telemetry *t;
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, NULL,
                                           0), 0);
    for (int i = 0; i < 2000; i++) {
        smime_telemetry_record r = numbered(i);
        assert_int_equal(smime_telemetry_submit(t, &r), 0);
    }
    smime_telemetry_stats st;
    assert_int_equal(smime_telemetry_close(t, 10000, &st), 0);
    assert_int_equal(st.written, 2000);
    assert_int_equal(st.dropped_full, 0);
    assert_string_equal(f.order[1999], "1999");
}

/* The sink stalls indefinitely.  Submit must still return every time: the test
 * submits far more than the queue holds while the writer is stuck, and only then
 * releases the sink, so a submit that waited for the sink would never return (the
 * alarm turns that hang into a failure).  What is bounded is the memory and the
 * work per submit: the queue holds `capacity`, the rest is dropped and counted. */
static void test_queue_stalled_sink_never_blocks(void **state)
{
    (void)state;
    enum { CAP = 16, EXTRA = 5000 };
    fake_sink f;
    fake_init(&f);
    f.stall = 1;
    log_capture logs;
    memset(&logs, 0, sizeof(logs));
    pthread_mutex_init(&logs.lock, NULL);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.queue_capacity = CAP;
    opt.batch_size = 4;
    opt.log = capture_log;
    opt.log_ctx = &logs;
    smime_telemetry *t;
    char err[256];
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, err,
                                           sizeof(err)), 0);
    alarm(60);
    /* One batch goes to the sink and sticks there. */
    smime_telemetry_record r = numbered(0);
    assert_int_equal(smime_telemetry_submit(t, &r), 0);
    pthread_mutex_lock(&f.lock);
    while (f.in_write == 0)
        pthread_cond_wait(&f.cond, &f.lock);
    pthread_mutex_unlock(&f.lock);

    int accepted = 0, dropped = 0;
    for (int i = 1; i <= CAP + EXTRA; i++) {
        r = numbered(i);
        int rc = smime_telemetry_submit(t, &r);
        assert_true(rc == 0 || rc == 1);
        if (rc == 0)
            accepted++;
        else
            dropped++;
    }
    smime_telemetry_stats st;
    smime_telemetry_get_stats(t, &st);
    /* the record in the sink's hands still holds its slot */
    assert_int_equal(accepted, CAP - 1);
    assert_int_equal(dropped, EXTRA + 1);
    assert_int_equal(st.pending, CAP);
    assert_int_equal(st.dropped_full, EXTRA + 1);
    assert_int_equal(st.written, 0);
    /* Still stalled: nothing got in while the sink was stuck. */
    pthread_mutex_lock(&f.lock);
    assert_int_equal(f.written, 0);
    assert_int_equal(f.in_write, 1);
    pthread_mutex_unlock(&f.lock);

    fake_set(&f, &f.stall, 0);
    assert_int_equal(smime_telemetry_close(t, 10000, &st), -1);   /* -1: some were dropped */
    alarm(0);
    assert_int_equal(st.submitted, 1 + CAP + EXTRA);
    assert_int_equal(st.written, CAP);
    assert_int_equal(st.dropped_full, EXTRA + 1);
    assert_int_equal(f.written, CAP);
    /* The loss was logged, with the count. */
    assert_true(logs.warnings >= 1);
    assert_non_null(strstr(logs.last, "5001"));
}

static void test_queue_failing_sink_counts_and_logs(void **state)
{
    (void)state;
    fake_sink f;
    fake_init(&f);
    f.fail = 1;
    log_capture logs;
    memset(&logs, 0, sizeof(logs));
    pthread_mutex_init(&logs.lock, NULL);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.log = capture_log;
    opt.log_ctx = &logs;
    smime_telemetry *t;
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, NULL,
                                           0), 0);
    for (int i = 0; i < 10; i++) {
        smime_telemetry_record r = numbered(i);
        assert_int_equal(smime_telemetry_submit(t, &r), 0);   /* the caller never sees it */
    }
    smime_telemetry_stats st;
    assert_int_equal(smime_telemetry_close(t, 10000, &st), -1);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.dropped_sink, 10);
    assert_true(st.sink_errors >= 1);
    assert_true(logs.errors >= 1);
    assert_non_null(strstr(logs.last, "10 dropped"));
}

/* A sink that is stuck when close is called: close waits at most flush_ms for the
 * queue, drops and counts what is left, and returns once the call in progress ends. */
static void *release_later(void *arg)
{
    fake_sink *f = arg;
    usleep(200 * 1000);
    fake_set(f, &f->stall, 0);
    return NULL;
}

static void test_close_gives_up_on_flush(void **state)
{
    (void)state;
    fake_sink f;
    fake_init(&f);
    f.stall = 1;
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.queue_capacity = 64;
    opt.batch_size = 1;
    smime_telemetry *t;
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, NULL,
                                           0), 0);
    for (int i = 0; i < 50; i++) {
        smime_telemetry_record r = numbered(i);
        assert_int_equal(smime_telemetry_submit(t, &r), 0);
    }
    pthread_t th;
    pthread_create(&th, NULL, release_later, &f);
    smime_telemetry_stats st;
    /* flush_ms 0: only the batch already in the sink's hands is written. */
    assert_int_equal(smime_telemetry_close(t, 0, &st), -1);
    pthread_join(th, NULL);
    assert_int_equal(st.written + st.dropped_close, 50);
    assert_true(st.dropped_close >= 48);
}

/* A sink that never returns: close still returns, after flush_ms plus the grace
 * time, and says so.  The handle is left to the stuck writer; keeping it in a
 * static makes it reachable for LeakSanitizer, and the sink is released at the
 * end so the writer can finish. */
static fake_sink forever_sink;
static smime_telemetry *abandoned;
static log_capture forever_logs;   /* static: the left-behind writer logs after the test */

static void test_close_never_hangs(void **state)
{
    (void)state;
    fake_init(&forever_sink);
    forever_sink.stall = 1;
    log_capture *logs = &forever_logs;
    pthread_mutex_init(&logs->lock, NULL);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.log = capture_log;
    opt.log_ctx = logs;
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &forever_sink),
                                           &opt, &abandoned, NULL, 0), 0);
    smime_telemetry_record r = numbered(1);
    assert_int_equal(smime_telemetry_submit(abandoned, &r), 0);
    pthread_mutex_lock(&forever_sink.lock);
    while (forever_sink.in_write == 0)
        pthread_cond_wait(&forever_sink.cond, &forever_sink.lock);
    pthread_mutex_unlock(&forever_sink.lock);
    r = numbered(2);
    assert_int_equal(smime_telemetry_submit(abandoned, &r), 0);
    alarm(60);
    smime_telemetry_stats st;
    assert_int_equal(smime_telemetry_close(abandoned, 100, &st), -1);
    alarm(0);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.pending, 2);   /* the one in the sink's hands, and the next */
    pthread_mutex_lock(&logs->lock);
    assert_true(logs->errors >= 1);
    assert_non_null(strstr(logs->last, "did not return"));
    pthread_mutex_unlock(&logs->lock);
    /* let the writer go; it drops the rest and exits on its own */
    fake_set(&forever_sink, &forever_sink.stall, 0);
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&forever_sink.lock);
        int busy = forever_sink.in_write;
        pthread_mutex_unlock(&forever_sink.lock);
        if (!busy)
            break;
        usleep(10 * 1000);
    }
}

static void test_options_rejected(void **state)
{
    (void)state;
    fake_sink f;
    fake_init(&f);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.privacy.domain_mode = SMIME_TELEMETRY_DOMAIN_HMAC;   /* no key */
    smime_telemetry *t = NULL;
    char err[256];
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, err,
                                           sizeof(err)), -1);
    assert_null(t);
    assert_non_null(strstr(err, "key"));
    smime_telemetry_options_default(&opt);
    opt.queue_capacity = SMIME_TELEMETRY_QUEUE_MAX + 1;
    assert_int_equal(smime_telemetry_start(smime_telemetry_sink_new(&fake_ops, &f), &opt, &t, err,
                                           sizeof(err)), -1);
    assert_int_equal(smime_telemetry_open("mysql://x", NULL, &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sqlite:"));
    assert_int_equal(smime_telemetry_open("sqlite:", NULL, &t, err, sizeof(err)), -1);

    assert_int_equal(smime_telemetry_uri_check("sqlite:/var/lib/x.db", err, sizeof(err)), 0);
    assert_int_equal(smime_telemetry_uri_check("sqlite:///var/lib/x.db", err, sizeof(err)), 0);
    assert_int_equal(smime_telemetry_uri_check("postgresql://u@127.0.0.1:5/db", err, sizeof(err)),
                     0);
    assert_int_equal(smime_telemetry_uri_check("postgresql://u@h/db?nonsense=1", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "nonsense"));
    assert_int_equal(smime_telemetry_uri_check("sqlite:", err, sizeof(err)), -1);
    assert_int_equal(smime_telemetry_uri_check("file:/x", err, sizeof(err)), -1);
    assert_int_equal(smime_telemetry_uri_check("", err, sizeof(err)), -1);
}

/* ---- SQLite sink ------------------------------------------------------------ */

typedef struct tmpdb {
    char dir[64];
    char path[128];
    char uri[160];
} tmpdb;

static void tmpdb_make(tmpdb *d)
{
    snprintf(d->dir, sizeof(d->dir), "/tmp/test_telemetry_XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->path, sizeof(d->path), "%s/t.db", d->dir);
    snprintf(d->uri, sizeof(d->uri), "sqlite:%s", d->path);
}

static void tmpdb_remove(tmpdb *d)
{
    char p[200];
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", ".secret" };
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s%s", d->path, suffixes[i]);
        unlink(p);
    }
    rmdir(d->dir);
}

typedef struct collected {
    size_t groups;
    uint64_t total;
    smime_telemetry_record first;
    uint64_t first_count;
} collected;

static int collect(const smime_telemetry_record *rec, uint64_t count, void *ctx)
{
    collected *c = ctx;
    if (c->groups == 0) {
        c->first = *rec;
        c->first_count = count;
    }
    c->groups++;
    c->total += count;
    return 0;
}

static void test_sqlite_round_trip(void **state)
{
    (void)state;
    tmpdb d;
    tmpdb_make(&d);
    smime_telemetry_sink *sink;
    char err[512];
    assert_int_equal(smime_telemetry_sink_open(d.uri, &sink, err, sizeof(err)), 0);
    int version = 0;
    assert_int_equal(smime_telemetry_sink_schema_version(sink, &version, err, sizeof(err)), 0);
    assert_int_equal(version, SMIME_TELEMETRY_SCHEMA_VERSION);

    smime_sig_report s;
    smime_lint_result lint;
    fill_leaky_report(&s);
    fill_lint(&lint);
    smime_telemetry_record recs[3];
    assert_int_equal(smime_telemetry_record_from(&s, &lint, NOW, NULL, &recs[0], err, sizeof(err)), 0);
    recs[1] = recs[0];
    recs[2] = recs[0];
    snprintf(recs[2].day, sizeof(recs[2].day), "2026-07-01");
    assert_int_equal(smime_telemetry_sink_write(sink, recs, 3, err, sizeof(err)), 0);

    collected c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(smime_telemetry_sink_query(sink, NULL, NULL, collect, &c, err, sizeof(err)), 0);
    assert_int_equal(c.groups, 2);
    assert_int_equal(c.total, 3);
    assert_int_equal(c.first_count, 2);
    assert_memory_equal(&c.first, &recs[0], sizeof(recs[0]));   /* every field survives */

    memset(&c, 0, sizeof(c));
    assert_int_equal(smime_telemetry_sink_query(sink, "2026-06-02", "2026-12-31", collect, &c, err,
                                                sizeof(err)), 0);
    assert_int_equal(c.total, 1);
    memset(&c, 0, sizeof(c));
    assert_int_equal(smime_telemetry_sink_query(sink, NULL, "2026-06-01", collect, &c, err,
                                                sizeof(err)), 0);
    assert_int_equal(c.total, 2);
    smime_telemetry_sink_close(sink);

    /* Read the file directly: only our tables exist (the records, the report's
     * roll-up and its two dimensions, the version), and no column of any row holds
     * an address, a name or a message id. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "ORDER BY name", -1, &st, NULL), SQLITE_OK);
    static const char *const tables[] = { "cert_facts", "sender_domains", "signature",
                                          "signature_daily", "signature_monthly",
                                          "telemetry_meta" };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0), tables[i]);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM signature", -1, &st, NULL), SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            if (v && (strchr(v, '@') || strstr(v, "secret") || strstr(v, "msgid")))
                fail_msg("column %s holds personal data: %s", sqlite3_column_name(st, i), v);
        }
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 3);
    sqlite3_close(db);
    tmpdb_remove(&d);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A database left at schema 1 is migrated on open and keeps its rows; a database
 * from a newer program is refused and left as it is. */
static void test_sqlite_migration(void **state)
{
    (void)state;
    tmpdb d;
    tmpdb_make(&d);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    char sql[4096];
    assert_int_equal(smime_telemetry_migration_sql(1, SMIME_TELEMETRY_SQLITE, sql, sizeof(sql)), 0);
    exec_ok(db, sql);
    exec_ok(db, "INSERT INTO signature (day, result, reason, issuer_dn, issuer_key_id, "
                "root_subject, policy_oid, cert_type, generation, findings, key_alg, digest_alg, "
                "sig_alg, validity_days, not_before_month, sbr_scope, client_family, sender_domain)"
                " VALUES ('2025-12-24', 'pass', 'ok', 'CN=Old CA', '', '', '', '', '', '', "
                "'RSA-2048', 'SHA256', 'RSA-SHA256', 365, '2025-01', '', 'Outlook', '')");
    sqlite3_close(db);
    assert_int_equal(smime_telemetry_migration_sql(0, SMIME_TELEMETRY_SQLITE, sql, sizeof(sql)), -1);
    assert_int_equal(smime_telemetry_migration_sql(SMIME_TELEMETRY_SCHEMA_VERSION + 1, SMIME_TELEMETRY_SQLITE, sql,
                                                   sizeof(sql)), -1);

    smime_telemetry_sink *sink;
    char err[512];
    assert_int_equal(smime_telemetry_sink_open(d.uri, &sink, err, sizeof(err)), 0);
    int version = 0;
    assert_int_equal(smime_telemetry_sink_schema_version(sink, &version, err, sizeof(err)), 0);
    assert_int_equal(version, SMIME_TELEMETRY_SCHEMA_VERSION);
    collected c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(smime_telemetry_sink_query(sink, NULL, NULL, collect, &c, err, sizeof(err)), 0);
    assert_int_equal(c.total, 1);
    assert_string_equal(c.first.issuer_dn, "CN=Old CA");
    assert_string_equal(c.first.client_family, "Outlook");
    assert_int_equal(c.first.validity_days, 365);
    assert_int_equal(c.first.scope_flags, 0);
    smime_telemetry_sink_close(sink);

    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = "
                                            "'index' AND name = 'signature_day'", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    exec_ok(db, "UPDATE telemetry_meta SET value = '99' WHERE key = 'schema_version'");
    sqlite3_close(db);

    assert_int_equal(smime_telemetry_sink_open(d.uri, &sink, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM telemetry_meta", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "99");
    sqlite3_finalize(st);
    sqlite3_close(db);
    tmpdb_remove(&d);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The roll-up (schema 5) holds exactly the signature table grouped by day, what
 * the report reads of the certificate, the sender domain and what varies per
 * signature: no group missing, none extra, the same counts; and the monthly
 * roll-up (schema 6) is the daily one summed by month. */
#define ROLLUP_FACTS                                                                       \
    "cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, " \
    "findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs"
#define ROLLUP_DAY "result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca"
#define ROLLUP_FROM_SIGNATURE                                                              \
    "SELECT day, " ROLLUP_FACTS ", sender_domain, " ROLLUP_DAY ", count(*) FROM signature " \
    "GROUP BY day, " ROLLUP_FACTS ", sender_domain, " ROLLUP_DAY
#define ROLLUP_KEPT                                                                        \
    "SELECT day, " ROLLUP_FACTS ", sender_domain, " ROLLUP_DAY ", n FROM signature_daily s " \
    "JOIN cert_facts f ON f.id = s.fact_id JOIN sender_domains d ON d.id = s.domain_id"
#define MONTHLY_KEY                                                                        \
    "fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, " \
    "caa_ca"
#define MONTHLY_FROM_DAILY                                                                 \
    "SELECT substr(day, 1, 7), " MONTHLY_KEY ", sum(n) FROM signature_daily "              \
    "GROUP BY substr(day, 1, 7), " MONTHLY_KEY
#define MONTHLY_KEPT "SELECT month, " MONTHLY_KEY ", n FROM signature_monthly"
static void assert_rollup_matches(sqlite3 *db, int64_t rows)
{
    assert_int_equal(query_int(db, "SELECT count(*) FROM signature"), rows);
    assert_int_equal(query_int(db, "SELECT count(*) FROM (" ROLLUP_FROM_SIGNATURE " EXCEPT "
                                   ROLLUP_KEPT ")"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM (" ROLLUP_KEPT " EXCEPT "
                                   ROLLUP_FROM_SIGNATURE ")"), 0);
    assert_int_equal(query_int(db, "SELECT coalesce(sum(n), 0) FROM signature_daily"), rows);
    assert_int_equal(query_int(db, "SELECT count(*) FROM signature_daily WHERE n <= 0"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM (" MONTHLY_FROM_DAILY " EXCEPT "
                                   MONTHLY_KEPT ")"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM (" MONTHLY_KEPT " EXCEPT "
                                   MONTHLY_FROM_DAILY ")"), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM signature_monthly WHERE n <= 0"), 0);
}

#define V4_INSERT                                                                          \
    "INSERT INTO signature (day, result, reason, issuer_dn, issuer_key_id, root_subject, "  \
    "policy_oid, cert_type, generation, findings, key_alg, digest_alg, sig_alg, "           \
    "validity_days, not_before_month, sbr_scope, scope_flags, client_family, sender_domain, " \
    "cert_id, cn_form, name_attrs, caa_issuemail, caa_ca) VALUES "

/* A schema 4 database with rows gets its roll-up on migration (the report reads
 * only the roll-up, so it reports the same rows as before); later inserts and
 * deletes keep it exact, "" cert_id and domain included. */
static void test_sqlite_rollup_migration(void **state)
{
    (void)state;
    tmpdb d;
    tmpdb_make(&d);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    char sql[16384];
    for (int v = 1; v <= 4; v++) {
        assert_int_equal(smime_telemetry_migration_sql(v, SMIME_TELEMETRY_SQLITE, sql,
                                                       sizeof(sql)), 0);
        exec_ok(db, sql);
    }
    exec_ok(db, V4_INSERT
            "('2026-05-01','pass','ok','CN=A','k1','CN=R','p','mailbox','strict','X Y','RSA-2048',"
            "'SHA256','RSA-SHA256',365,'2026-01','sbr',1,'Outlook','d1','c1','mailbox','','',''),"
            "('2026-05-01','pass','ok','CN=A','k1','CN=R','p','mailbox','strict','X Y','RSA-2048',"
            "'SHA256','RSA-SHA256',365,'2026-01','sbr',2,'Outlook','d1','c1','mailbox','','',''),"
            "('2026-05-02','fail','bad','CN=A','k1','CN=R','p','mailbox','strict','X Y','RSA-2048',"
            "'SHA256','RSA-SHA256',365,'2026-01','sbr',1,'Thunderbird','d2','c1','mailbox','',"
            "'no-caa',''),"
            "('2026-05-02','pass','ok','','','','','','','','','SHA1','',-1,'','',0,'','','','',"
            "'','',''),"
            "('2026-05-03','pass','ok','','','','','','','','','SHA1','',-1,'','',0,'','','','',"
            "'','','')");
    sqlite3_close(db);

    smime_telemetry_sink *sink;
    char err[512];
    assert_int_equal(smime_telemetry_sink_open(d.uri, &sink, err, sizeof(err)), 0);
    smime_telemetry_sink_close(sink);
    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    assert_rollup_matches(db, 5);
    assert_int_equal(query_int(db, "SELECT count(*) FROM cert_facts"), 2);
    assert_int_equal(query_int(db, "SELECT count(*) FROM sender_domains"), 3);
    /* the two first rows differ only in scope_flags, which the report does not read */
    assert_int_equal(query_int(db, "SELECT max(n) FROM signature_daily"), 2);

    exec_ok(db, V4_INSERT
            "('2026-05-01','pass','ok','CN=A','k1','CN=R','p','mailbox','strict','X Y','RSA-2048',"
            "'SHA256','RSA-SHA256',365,'2026-01','sbr',1,'Outlook','d1','c1','mailbox','','',''),"
            "('2026-05-04','pass','ok','CN=B','k2','CN=R','p','sponsor','legacy','','EC-P256',"
            "'SHA384','ECDSA-SHA384',825,'2025-11','sbr',1,'Outlook','d3','c2','mailbox','','','')");
    assert_rollup_matches(db, 7);
    assert_int_equal(query_int(db, "SELECT n FROM signature_daily WHERE day = '2026-05-01'"), 3);
    exec_ok(db, "DELETE FROM signature WHERE day = '2026-05-02'");
    assert_rollup_matches(db, 5);
    exec_ok(db, "DELETE FROM signature WHERE id = (SELECT min(id) FROM signature)");
    assert_rollup_matches(db, 4);
    exec_ok(db, "DELETE FROM signature");
    assert_rollup_matches(db, 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM signature_daily"), 0);
    sqlite3_close(db);
    tmpdb_remove(&d);
}

/* The whole path: queue, writer thread, SQLite file. */
static void test_sqlite_through_queue(void **state)
{
    (void)state;
    tmpdb d;
    tmpdb_make(&d);
    smime_telemetry_options opt;
    smime_telemetry_options_default(&opt);
    opt.privacy.domain_mode = SMIME_TELEMETRY_DOMAIN_HMAC;
    memcpy(opt.privacy.key, "k", 1);
    opt.privacy.key_len = 1;
    smime_telemetry *t;
    char err[512];
    assert_int_equal(smime_telemetry_open(d.uri, &opt, &t, err, sizeof(err)), 0);
    smime_sig_report s;
    fill_leaky_report(&s);
    for (int i = 0; i < 500; i++)
        assert_int_equal(smime_telemetry_submit_sig(t, &s, NULL, NOW), 0);
    smime_telemetry_stats st;
    assert_int_equal(smime_telemetry_close(t, 30000, &st), 0);
    assert_int_equal(st.written, 500);

    smime_telemetry_sink *sink;
    assert_int_equal(smime_telemetry_sink_open(d.uri, &sink, err, sizeof(err)), 0);
    collected c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(smime_telemetry_sink_query(sink, NULL, NULL, collect, &c, err, sizeof(err)), 0);
    assert_int_equal(c.groups, 1);
    assert_int_equal(c.total, 500);
    assert_int_equal(strlen(c.first.sender_domain), 64);
    /* the writer made the deployment secret next to the database and keyed the
     * certificate id with it */
    assert_int_equal(strlen(c.first.cert_id), 64);
    char secret_path[200];
    snprintf(secret_path, sizeof(secret_path), "%s.secret", d.path);
    unsigned char key[SMIME_TELEMETRY_KEY_MAX];
    size_t key_len = 0;
    assert_int_equal(smime_telemetry_secret_load(secret_path, key, &key_len, err, sizeof(err)), 0);
    assert_int_equal(key_len, SMIME_TELEMETRY_SECRET_LEN);
    smime_telemetry_privacy priv;
    memset(&priv, 0, sizeof(priv));
    memcpy(priv.cert_key, key, key_len);
    priv.cert_key_len = key_len;
    smime_telemetry_record again;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, &priv, &again, err, sizeof(err)), 0);
    assert_string_equal(again.cert_id, c.first.cert_id);
    assert_no_personal_data(&c.first);
    smime_telemetry_sink_close(sink);
    tmpdb_remove(&d);
}

static void test_sqlite_unwritable(void **state)
{
    (void)state;
    smime_telemetry_sink *sink = NULL;
    char err[512];
    assert_int_equal(smime_telemetry_sink_open("sqlite:/nonexistent-dir/x/t.db", &sink, err,
                                               sizeof(err)), -1);
    assert_null(sink);
    assert_non_null(strstr(err, "/nonexistent-dir/x/t.db"));
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    return st.st_mode & 0777;
}

/* The deployment secret: made 0600 on first use, the same on every later load, a
 * file others can read (or a symlink, or an empty file) refused. */
static void test_secret_file(void **state)
{
    (void)state;
    char dir[64] = "/tmp/test_secret_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], other[128];
    snprintf(path, sizeof(path), "%s/s", dir);
    snprintf(other, sizeof(other), "%s/o", dir);
    mode_t old = umask(0);   /* the most permissive umask: the mode must still be 0600 */
    unsigned char k1[SMIME_TELEMETRY_KEY_MAX], k2[SMIME_TELEMETRY_KEY_MAX];
    size_t l1 = 0, l2 = 0;
    char err[512];
    assert_int_equal(smime_telemetry_secret_load(path, k1, &l1, err, sizeof(err)), 0);
    umask(old);
    assert_int_equal(l1, SMIME_TELEMETRY_SECRET_LEN);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(smime_telemetry_secret_load(path, k2, &l2, err, sizeof(err)), 0);
    assert_int_equal(l2, l1);
    assert_memory_equal(k1, k2, l1);
    /* another deployment, another secret */
    assert_int_equal(smime_telemetry_secret_load(other, k2, &l2, err, sizeof(err)), 0);
    assert_memory_not_equal(k1, k2, l1);
    /* no temporary file left behind */
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    int entries = 0;
    for (struct dirent *e; (e = readdir(dh));)
        entries += e->d_name[0] != '.';
    closedir(dh);
    assert_int_equal(entries, 2);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(smime_telemetry_secret_load(path, k2, &l2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 600"));
    unlink(other);
    assert_int_equal(symlink(path, other), 0);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(smime_telemetry_secret_load(other, k2, &l2, err, sizeof(err)), -1);
    unlink(other);
    int fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(smime_telemetry_secret_load(other, k2, &l2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    unlink(other);
    unlink(path);
    rmdir(dir);
}

/* Issue 14: the database and its -wal and -shm files are readable by the owner
 * only, whatever the umask; an existing world-readable database is narrowed. */
static void test_sqlite_files_private(void **state)
{
    (void)state;
    tmpdb d;
    tmpdb_make(&d);
    mode_t old = umask(0022);
    smime_telemetry_sink *sink;
    char err[512];
    assert_int_equal(smime_telemetry_sink_open(d.uri, &sink, err, sizeof(err)), 0);
    smime_sig_report s;
    fill_leaky_report(&s);
    smime_telemetry_record r;
    assert_int_equal(smime_telemetry_record_from(&s, NULL, NOW, NULL, &r, err, sizeof(err)), 0);
    assert_int_equal(smime_telemetry_sink_write(sink, &r, 1, err, sizeof(err)), 0);
    char p[200];
    assert_int_equal(mode_of(d.path), 0600);
    snprintf(p, sizeof(p), "%s-wal", d.path);
    assert_int_equal(mode_of(p), 0600);
    snprintf(p, sizeof(p), "%s-shm", d.path);
    assert_int_equal(mode_of(p), 0600);
    smime_telemetry_sink_close(sink);
    assert_int_equal(chmod(d.path, 0644), 0);
    assert_int_equal(smime_telemetry_sink_open_existing(d.uri, &sink, err, sizeof(err)), 0);
    assert_int_equal(mode_of(d.path), 0600);
    smime_telemetry_sink_close(sink);
    umask(old);
    tmpdb_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_family),
        cmocka_unit_test(test_record_fields),
        cmocka_unit_test(test_record_without_lint_or_signer),
        cmocka_unit_test(test_record_untrusted_issuer),
        cmocka_unit_test(test_record_cert_id),
        cmocka_unit_test(test_record_subject_forms),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_sqlite_files_private),
        cmocka_unit_test(test_record_self_issued),
        cmocka_unit_test(test_record_sender_domain),
        cmocka_unit_test(test_record_findings_cut),
        cmocka_unit_test(test_queue_order),
        cmocka_unit_test(test_queue_wait_when_full),
        cmocka_unit_test(test_queue_stalled_sink_never_blocks),
        cmocka_unit_test(test_queue_failing_sink_counts_and_logs),
        cmocka_unit_test(test_close_gives_up_on_flush),
        cmocka_unit_test(test_close_never_hangs),
        cmocka_unit_test(test_options_rejected),
        cmocka_unit_test(test_sqlite_round_trip),
        cmocka_unit_test(test_sqlite_migration),
        cmocka_unit_test(test_sqlite_rollup_migration),
        cmocka_unit_test(test_sqlite_through_queue),
        cmocka_unit_test(test_sqlite_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
