/* Hostile input: each case is built here, verified by the whole pipeline in a
 * child process under a time limit (alarm) and, outside sanitizer builds, an
 * address-space limit, and must end with its expected verdict.  A crash, a hang
 * or a blown limit fails the case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smime/report/authres.h"
#include "smime/util/json.h"
#include "smime/verdict/verify.h"
#include "pkigen.h"
#include "testutil.h"

#define CASE_SECONDS   30
#define CASE_MEMORY    (2048ull << 20)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

static smime_report *verify_buf(const char *msg, size_t len)
{
    char err[256];
    smime_trust *trust;
    if (smime_trust_load(SAMPLE_ANCHORS, &trust, err, sizeof(err)) < 0)
        abort();
    smime_verify_options opt;
    smime_verify_options_default(&opt, SAMPLE_NOW);
    opt.max_message_size = 128u << 20;
    smime_report *r = NULL;
    if (smime_verify_message(msg, len, trust, &opt, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "verify failed: %s\n", err);
        abort();
    }
    smime_trust_free(trust);
    return r;
}

/* Runs fn in a child with the limits; the case passes when the child exits 0. */
static void run_limited(const char *name, int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child must die of its faults, not return into cmocka's runner. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        alarm(CASE_SECONDS);
        if (!UNDER_ASAN) {
            struct rlimit rl = { CASE_MEMORY, CASE_MEMORY };
            setrlimit(RLIMIT_AS, &rl);
        }
        _exit(fn());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: killed by signal %d%s\n", name, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (time limit)" : "");
    else if (WEXITSTATUS(status) != 0)
        fprintf(stderr, "%s: wrong verdict (exit %d)\n", name, WEXITSTATUS(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

#define EXPECT(cond)                                                        \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                       \
        }                                                                   \
    } while (0)

static int first_result_is(const smime_report *r, smime_result res, const char *code)
{
    if (r->n_sigs == 0)
        return 0;
    return r->sigs[0].result == res && (!code || (r->sigs[0].code && !strcmp(r->sigs[0].code, code)));
}

/* The header and the JSON of a report carry no line break or control byte. */
static int outputs_clean(const smime_report *r)
{
    smime_buf h;
    smime_buf_init(&h, 1 << 20);
    if (smime_authres_format(r, "mx.test", &h) < 0)
        return 0;
    for (size_t i = 0; i < h.len; i++)
        if ((unsigned char)h.data[i] < 0x20 || h.data[i] == 0x7f)
            return 0;
    smime_buf js;
    smime_buf_init(&js, 4 << 20);
    smime_json j;
    smime_json_init(&j, &js);
    smime_json_begin_object(&j, NULL);
    smime_report_json(r, &j);
    smime_json_end_object(&j);
    int ok = smime_json_ok(&j);
    for (size_t i = 0; ok && i < js.len; i++)
        if ((unsigned char)js.data[i] < 0x20)
            ok = 0;
    smime_buf_free(&h);
    smime_buf_free(&js);
    return ok;
}

static char *sample(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof(path), SAMPLE_DIR "%s", name);
    return test_read_file(path, len);
}

/* --- MIME ------------------------------------------------------------------ */

static int case_nested_10000(void)
{
    GString *m = g_string_new("From: alice@example.test\r\nMIME-Version: 1.0\r\n");
    for (int i = 0; i < 10000; i++)
        g_string_append_printf(m, "Content-Type: multipart/mixed; boundary=\"n%d\"\r\n\r\n--n%d\r\n", i, i);
    g_string_append(m, "Content-Type: text/plain\r\n\r\nbottom\r\n");
    for (int i = 10000; i-- > 0;)
        g_string_append_printf(m, "--n%d--\r\n", i);
    smime_report *r = verify_buf(m->str, m->len);
    EXPECT(first_result_is(r, SMIME_RESULT_NEUTRAL, "limit"));
    smime_report_free(r);
    g_string_free(m, TRUE);
    return 0;
}

static int case_parts_10000(void)
{
    size_t slen;
    char *signed_msg = sample("01-multipart-signed-rsa2048.eml", &slen);
    GString *m = g_string_new("From: alice@example.test\r\nMIME-Version: 1.0\r\n"
                              "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
    for (int i = 0; i < 10000; i++)
        g_string_append_printf(m, "--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i);
    g_string_append(m, "--p\r\nContent-Type: message/rfc822\r\n\r\n");
    g_string_append_len(m, signed_msg, (gssize)slen);
    g_string_append(m, "\r\n--p--\r\n");
    smime_report *r = verify_buf(m->str, m->len);
    EXPECT(first_result_is(r, SMIME_RESULT_NEUTRAL, "limit"));
    smime_report_free(r);
    g_string_free(m, TRUE);
    free(signed_msg);
    return 0;
}

static int case_header_1mb(void)
{
    size_t slen;
    char *s = sample("01-multipart-signed-rsa2048.eml", &slen);
    GString *m = g_string_new("X-Big: ");
    for (int i = 0; i < 1 << 20; i += 64)
        g_string_append(m, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde ");
    g_string_append(m, "\r\n");
    g_string_append_len(m, s, (gssize)slen);
    smime_report *r = verify_buf(m->str, m->len);
    EXPECT(first_result_is(r, SMIME_RESULT_PASS, "ok"));
    smime_report_free(r);
    g_string_free(m, TRUE);
    free(s);
    return 0;
}

static int case_body_50mb(void)
{
    test_id alice = pkigen_load("alice"), ca = pkigen_load("smime-ca");
    GString *content = g_string_new("Content-Type: text/plain\r\n\r\n");
    while (content->len < (50u << 20))
        g_string_append(content, "The quick brown fox jumps over the lazy dog, 0123456789.\r\n");
    size_t len;
    char *msg = pkigen_message_with(&alice, &ca.crt, 1, "alice@example.test", content->str, &len);
    g_string_free(content, TRUE);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_PASS, "ok"));
    smime_report_free(r);
    g_free(msg);
    pkigen_free(&alice);
    pkigen_free(&ca);
    return 0;
}

/* The sample message with its signature part's base64 replaced by `b64`. */
static char *with_signature(const char *b64, size_t *len)
{
    size_t slen;
    char *s = sample("01-multipart-signed-rsa2048.eml", &slen);
    char *start = strstr(s, "S/MIME Cryptographic Signature\r\n\r\n");
    if (!start)
        abort();
    start += strlen("S/MIME Cryptographic Signature\r\n\r\n");
    char *end = strstr(start, "\r\n--");
    if (!end)
        abort();
    char *msg = g_strdup_printf("%.*s%s%s", (int)(start - s), s, b64, end);
    free(s);
    *len = strlen(msg);
    return msg;
}

static unsigned char *sample_signature(size_t *len)
{
    size_t slen;
    char *s = sample("01-multipart-signed-rsa2048.eml", &slen);
    char *start = strstr(s, "S/MIME Cryptographic Signature\r\n\r\n") +
                  strlen("S/MIME Cryptographic Signature\r\n\r\n");
    char *end = strstr(start, "\r\n--");
    *end = '\0';
    gsize n;
    unsigned char *der = g_base64_decode(start, &n);
    free(s);
    *len = n;
    return der;
}

static int case_broken_base64(void)
{
    size_t len;
    char *msg = with_signature("MIIKcQYJKoZIhvcNAQcCoIIKYjCCCl4CAQEx!!!!####$$$$%%%%\r\n====AAAA", &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_NEUTRAL, "malformed-cms"));
    smime_report_free(r);
    g_free(msg);
    return 0;
}

static int case_truncated_asn1(void)
{
    size_t n;
    unsigned char *der = sample_signature(&n);
    gchar *b64 = g_base64_encode(der, n / 2);
    size_t len;
    char *msg = with_signature(b64, &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_NEUTRAL, "malformed-cms"));
    smime_report_free(r);
    g_free(msg);
    g_free(b64);
    g_free(der);
    return 0;
}

static int case_overlong_asn1(void)
{
    size_t n;
    unsigned char *der = sample_signature(&n);
    /* Outer SEQUENCE claims 2^31 bytes; then a nested length past the end. */
    unsigned char *bad = g_malloc(n + 3);
    bad[0] = 0x30;
    bad[1] = 0x84;
    bad[2] = 0x7f;
    bad[3] = 0xff;
    bad[4] = 0xff;
    bad[5] = 0xff;
    memcpy(bad + 6, der + 4, n - 4);
    gchar *b64 = g_base64_encode(bad, n + 2);
    size_t len;
    char *msg = with_signature(b64, &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_NEUTRAL, "malformed-cms"));
    smime_report_free(r);
    g_free(msg);
    g_free(b64);
    g_free(bad);
    g_free(der);
    return 0;
}

/* --- certificates ------------------------------------------------------------ */

static int case_san_1000(void)
{
    test_id ca = pkigen_load("smime-ca");
    const char *sans[1000];
    char *buf = g_malloc(1000 * 40);
    for (int i = 0; i < 999; i++) {
        snprintf(buf + i * 40, 40, "user%d@example.test", i);
        sans[i] = buf + i * 40;
    }
    sans[999] = "alice@example.test";     /* the bound address comes last */
    test_id leaf = pkigen_issue(&ca, "many SANs", 9, 0, sans, 1000, 1);
    size_t len;
    char *msg = pkigen_message(&leaf, &ca.crt, 1, "alice@example.test", &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_PASS, "ok"));
    EXPECT(r->sigs[0].n_mailboxes == SMIME_MAILBOXES_MAX);   /* the report is capped */
    smime_report_free(r);
    g_free(msg);
    g_free(buf);
    pkigen_free(&leaf);
    pkigen_free(&ca);
    return 0;
}

static int case_chain_50(void)
{
    test_id root = pkigen_load("root-ca");
    test_id cas[50];
    gnutls_x509_crt_t extra[50];
    for (int i = 0; i < 50; i++) {
        char cn[32];
        snprintf(cn, sizeof(cn), "Chain CA %d", i);
        cas[i] = pkigen_issue(i ? &cas[i - 1] : &root, cn, strlen(cn), 1, NULL, 0, (unsigned)(100 + i));
        extra[i] = cas[i].crt;
    }
    const char *san[] = { "alice@example.test" };
    test_id leaf = pkigen_issue(&cas[49], "deep leaf", 9, 0, san, 1, 2);
    size_t len;
    char *msg = pkigen_message(&leaf, extra, 50, "alice@example.test", &len);
    smime_report *r = verify_buf(msg, len);
    /* 51 certificates: more than are read from one signature. */
    EXPECT(first_result_is(r, SMIME_RESULT_NEUTRAL, "limit"));
    smime_report_free(r);
    g_free(msg);
    /* 50 CAs in the message but the signer first: the path is longer than allowed. */
    gnutls_x509_crt_t last9[9];
    for (int i = 0; i < 9; i++)
        last9[i] = cas[41 + i].crt;
    msg = pkigen_message(&leaf, last9, 9, "alice@example.test", &len);
    r = verify_buf(msg, len);
    /* 10 certificates (signer + 9 CAs) do not reach the root: untrusted. */
    EXPECT(first_result_is(r, SMIME_RESULT_FAIL, "untrusted"));
    smime_report_free(r);
    g_free(msg);
    gnutls_x509_crt_t last30[30];
    for (int i = 0; i < 30; i++)
        last30[i] = cas[20 + i].crt;
    msg = pkigen_message(&leaf, last30, 30, "alice@example.test", &len);
    r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_FAIL, "chain-too-long"));
    smime_report_free(r);
    g_free(msg);
    pkigen_free(&leaf);
    for (int i = 0; i < 50; i++)
        pkigen_free(&cas[i]);
    pkigen_free(&root);
    return 0;
}

static int case_cross_sign_loop(void)
{
    /* A is issued by B and B by A: the same names and keys, signed both ways. */
    test_id b0 = pkigen_issue(NULL, "Loop B", 6, 1, NULL, 0, 10);
    test_id a = pkigen_issue(&b0, "Loop A", 6, 1, NULL, 0, 11);
    test_id b;
    PKIGEN_CHECK(gnutls_x509_crt_init(&b.crt));
    b.key = b0.key;
    PKIGEN_CHECK(gnutls_x509_crt_set_version(b.crt, 3));
    unsigned char sn[] = { 0x12 };
    PKIGEN_CHECK(gnutls_x509_crt_set_serial(b.crt, sn, 1));
    PKIGEN_CHECK(gnutls_x509_crt_set_activation_time(b.crt, 1735689600));
    PKIGEN_CHECK(gnutls_x509_crt_set_expiration_time(b.crt, 2682374400));
    PKIGEN_CHECK(gnutls_x509_crt_set_key(b.crt, b0.key));
    PKIGEN_CHECK(gnutls_x509_crt_set_dn(b.crt, "CN=Loop B", NULL));
    PKIGEN_CHECK(gnutls_x509_crt_set_basic_constraints(b.crt, 1, -1));
    PKIGEN_CHECK(gnutls_x509_crt_set_key_usage(b.crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN));
    PKIGEN_CHECK(gnutls_x509_crt_sign2(b.crt, a.crt, a.key, GNUTLS_DIG_SHA256, 0));
    const char *san[] = { "alice@example.test" };
    test_id leaf = pkigen_issue(&a, "loop leaf", 9, 0, san, 1, 3);
    gnutls_x509_crt_t extra[] = { a.crt, b.crt };
    size_t len;
    char *msg = pkigen_message(&leaf, extra, 2, "alice@example.test", &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_FAIL, "untrusted"));
    smime_report_free(r);
    g_free(msg);
    pkigen_free(&leaf);
    gnutls_x509_crt_deinit(b.crt);
    pkigen_free(&a);
    pkigen_free(&b0);
    return 0;
}

static int case_control_bytes_in_names(void)
{
    static const char evil_cn[] = "Evil CA\r\nX-Injected: yes\0tail\xff\xfe\"\\ end";
    test_id evil = pkigen_issue(NULL, evil_cn, sizeof(evil_cn) - 1, 1, NULL, 0, 20);
    /* An rfc822Name with a line break, and the From the sender claims. */
    const char *san[] = { "alice@example.test\r\nX-Evil: 1" };
    test_id leaf = pkigen_issue(&evil, "leaf\nwith\rbreaks", 16, 0, san, 1, 4);
    size_t len;
    char *msg = pkigen_message(&leaf, &evil.crt, 1, "alice@example.test", &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(r->n_sigs == 1 && r->sigs[0].result == SMIME_RESULT_FAIL);
    EXPECT(outputs_clean(r));
    smime_report_free(r);
    g_free(msg);
    pkigen_free(&leaf);
    pkigen_free(&evil);
    return 0;
}

/* The intermediate carried 40 times: repeats are read once, so the signer (last
 * in the set) is still among the certificates read, and the path is sound. */
static int case_duplicate_certificates(void)
{
    test_id alice = pkigen_load("alice"), ca = pkigen_load("smime-ca");
    gnutls_x509_crt_t extra[40];
    for (int i = 0; i < 40; i++)
        extra[i] = ca.crt;
    size_t len;
    char *msg = pkigen_message(&alice, extra, 40, "alice@example.test", &len);
    smime_report *r = verify_buf(msg, len);
    EXPECT(first_result_is(r, SMIME_RESULT_PASS, "ok"));
    EXPECT(r->sigs[0].chain_len == 2);
    smime_report_free(r);
    g_free(msg);
    pkigen_free(&alice);
    pkigen_free(&ca);
    return 0;
}

#define LIMITED(fn) \
    static void test_##fn(void **state) { (void)state; run_limited(#fn, fn); }
LIMITED(case_nested_10000)
LIMITED(case_parts_10000)
LIMITED(case_header_1mb)
LIMITED(case_body_50mb)
LIMITED(case_broken_base64)
LIMITED(case_truncated_asn1)
LIMITED(case_overlong_asn1)
LIMITED(case_san_1000)
LIMITED(case_chain_50)
LIMITED(case_cross_sign_loop)
LIMITED(case_control_bytes_in_names)
LIMITED(case_duplicate_certificates)

int main(void)
{
    smime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_nested_10000),
        cmocka_unit_test(test_case_parts_10000),
        cmocka_unit_test(test_case_header_1mb),
        cmocka_unit_test(test_case_body_50mb),
        cmocka_unit_test(test_case_broken_base64),
        cmocka_unit_test(test_case_truncated_asn1),
        cmocka_unit_test(test_case_overlong_asn1),
        cmocka_unit_test(test_case_san_1000),
        cmocka_unit_test(test_case_chain_50),
        cmocka_unit_test(test_case_cross_sign_loop),
        cmocka_unit_test(test_case_control_bytes_in_names),
        cmocka_unit_test(test_case_duplicate_certificates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
