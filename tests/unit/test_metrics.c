/* Unit tests of the milter's metrics (milter/metrics.c): what each event adds to
 * which series, the text exposition format, exact counts under concurrent
 * updates, and the HTTP endpoint over a real loopback socket.  The metrics are
 * part of the daemon, not of libsmime, so the source is compiled in here.  The
 * counters are process-wide, so every check compares a scrape before and after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../milter/metrics.c"

static char *scrape(const metrics_extra *x)
{
    smime_buf b;
    smime_buf_init(&b, RENDER_CAP);
    assert_int_equal(metrics_render(x, &b), 0);
    size_t len;
    char *text = smime_buf_steal(&b, &len);
    assert_non_null(text);
    return text;
}

/* The value of one series ("name{labels}" exactly as rendered); fails when absent. */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        if ((size_t)(end - line) > n && strncmp(line, series, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
        line = *end ? end + 1 : end;
    }
    fail_msg("series %s not in the scrape", series);
    return -1;
}

static int has_series(const char *text, const char *prefix)
{
    return strstr(text, prefix) != NULL;
}

/* Format rules a scraper relies on: every sample belongs to a family announced by
 * HELP and TYPE before it; counter families end in _total; histogram samples are
 * _bucket, _sum and _count; each value is a number; the text ends with a newline. */
static void check_format(const char *text)
{
    char family[128] = "", type[16] = "";
    size_t samples = 0;
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char buf[512];
        size_t len = (size_t)(end - line);
        assert_true(len < sizeof(buf));
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = end + 1;
        if (strncmp(buf, "# HELP ", 7) == 0)
            continue;
        if (strncmp(buf, "# TYPE ", 7) == 0) {
            assert_int_equal(sscanf(buf + 7, "%127s %15s", family, type), 2);
            if (strcmp(type, "counter") == 0)
                assert_non_null(strstr(family, "_total"));
            continue;
        }
        assert_true(family[0] != '\0');
        assert_int_equal(strncmp(buf, family, strlen(family)), 0);
        const char *rest = buf + strlen(family);
        if (strcmp(type, "histogram") == 0)
            assert_true(strncmp(rest, "_bucket{", 8) == 0 || strncmp(rest, "_sum ", 5) == 0 ||
                        strncmp(rest, "_count ", 7) == 0);
        else
            assert_true(*rest == ' ' || *rest == '{');
        const char *space = strrchr(buf, ' ');
        assert_non_null(space);
        char *num_end;
        strtod(space + 1, &num_end);
        assert_true(num_end != space + 1 && *num_end == '\0');
        samples++;
    }
    assert_true(samples > 50);
}

static void test_format_and_build_info(void **state)
{
    (void)state;
    char *text = scrape(NULL);
    check_format(text);
    assert_true(has_series(text, "smime_milter_build_info{version=\"" SMIME_MILTER_VERSION
                                 "\",gnutls=\""));
    /* every result x action pair is there from the start, so rates work at once */
    assert_true(value_of(text, "smime_milter_messages_total{result=\"temperror\",action=\"discard\"}") >= 0);
    assert_true(value_of(text, "smime_milter_verification_seconds_bucket{le=\"+Inf\"}") >= 0);
    /* telemetry only when there is a writer */
    assert_false(has_series(text, "smime_milter_telemetry_"));
    free(text);
}

static void fill_report(smime_report *r)
{
    /* each filled before the next is added: adding may move the array */
    smime_sig_report *a = smime_report_add_sig(r);
    assert_non_null(a);
    a->result = SMIME_RESULT_PASS;
    a->n_revocation = 2;
    a->revocation[0].status = "good";
    a->revocation[0].from_cache = 1;
    a->revocation[1].status = "unknown";
    smime_sig_report *b = smime_report_add_sig(r);
    assert_non_null(b);
    b->result = SMIME_RESULT_FAIL;
    b->n_revocation = 1;
    b->revocation[0].status = "revoked";
}

static void test_message_counts(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    assert_non_null(r);
    fill_report(r);
    char *before = scrape(NULL);
    metrics_message(r, SMIME_RESULT_FAIL, SMIME_ACTION_REJECT, 0.003);
    metrics_message(r, SMIME_RESULT_FAIL, SMIME_ACTION_REJECT, 0.0005);
    /* not timed: counted, but not in the histogram */
    metrics_message(NULL, SMIME_RESULT_NEUTRAL, SMIME_ACTION_ACCEPT, -1);
    char *after = scrape(NULL);
    check_format(after);
#define DELTA(series) (value_of(after, series) - value_of(before, series))
    assert_true(DELTA("smime_milter_messages_total{result=\"fail\",action=\"reject\"}") == 2);
    assert_true(DELTA("smime_milter_messages_total{result=\"neutral\",action=\"accept\"}") == 1);
    assert_true(DELTA("smime_milter_messages_total{result=\"pass\",action=\"accept\"}") == 0);
    assert_true(DELTA("smime_milter_signatures_total{result=\"pass\"}") == 2);
    assert_true(DELTA("smime_milter_signatures_total{result=\"fail\"}") == 2);
    assert_true(DELTA("smime_milter_signatures_total{result=\"none\"}") == 0);
    assert_true(DELTA("smime_milter_revocation_lookups_total{status=\"good\"}") == 2);
    assert_true(DELTA("smime_milter_revocation_lookups_total{status=\"unknown\"}") == 2);
    assert_true(DELTA("smime_milter_revocation_lookups_total{status=\"revoked\"}") == 2);
    assert_true(DELTA("smime_milter_revocation_lookups_total{status=\"not-checked\"}") == 0);
    assert_true(DELTA("smime_milter_revocation_cache_hits_total") == 2);
    /* 0.0005 s falls in le=0.001, 0.003 s in le=0.005; buckets are cumulative */
    assert_true(DELTA("smime_milter_verification_seconds_bucket{le=\"0.001\"}") == 1);
    assert_true(DELTA("smime_milter_verification_seconds_bucket{le=\"0.0025\"}") == 1);
    assert_true(DELTA("smime_milter_verification_seconds_bucket{le=\"0.005\"}") == 2);
    assert_true(DELTA("smime_milter_verification_seconds_bucket{le=\"+Inf\"}") == 2);
    assert_true(DELTA("smime_milter_verification_seconds_count") == 2);
    double sum = DELTA("smime_milter_verification_seconds_sum");
    assert_true(sum > 0.0034 && sum < 0.0036);
#undef DELTA
    free(before);
    free(after);
    smime_report_free(r);
}

static void test_other_events(void **state)
{
    (void)state;
    char *before = scrape(NULL);
    metrics_internal_error(SMIME_ACTION_TEMPFAIL);
    metrics_unchecked_message(METRICS_UNCHECKED_PEERLIST);
    metrics_unchecked_message(METRICS_UNCHECKED_AUTHENTICATED);
    metrics_unchecked_message(METRICS_UNCHECKED_AUTHENTICATED);
    metrics_unchecked_message(METRICS_UNCHECKED_COUNT);      /* out of range: ignored */
    metrics_reload(1);
    metrics_reload(0);
    metrics_reload(0);
    metrics_revocation_fetch(SMIME_FETCH_OK);
    metrics_revocation_fetch(SMIME_FETCH_TIMEOUT);
    metrics_revocation_fetch((smime_fetch_rc)99);            /* counted as failed */
    char *after = scrape(NULL);
#define DELTA(series) (value_of(after, series) - value_of(before, series))
    assert_true(DELTA("smime_milter_internal_errors_total{action=\"tempfail\"}") == 1);
    assert_true(DELTA("smime_milter_internal_errors_total{action=\"accept\"}") == 0);
    assert_true(DELTA("smime_milter_messages_unchecked_total{reason=\"peerlist\"}") == 1);
    assert_true(DELTA("smime_milter_messages_unchecked_total{reason=\"authenticated\"}") == 2);
    assert_true(DELTA("smime_milter_reloads_total{outcome=\"ok\"}") == 1);
    assert_true(DELTA("smime_milter_reloads_total{outcome=\"refused\"}") == 2);
    assert_true(DELTA("smime_milter_revocation_fetches_total{outcome=\"ok\"}") == 1);
    assert_true(DELTA("smime_milter_revocation_fetches_total{outcome=\"timeout\"}") == 1);
    assert_true(DELTA("smime_milter_revocation_fetches_total{outcome=\"failed\"}") == 1);
#undef DELTA
    free(before);
    free(after);
}

static void test_telemetry_extra(void **state)
{
    (void)state;
    metrics_extra x;
    memset(&x, 0, sizeof(x));
    x.have_telemetry = 1;
    x.telemetry.queued = 7;
    x.telemetry.written = 5;
    x.telemetry.dropped_full = 2;
    x.telemetry.dropped_sink = 3;
    x.telemetry.dropped_invalid = 4;
    x.telemetry.sink_errors = 1;
    x.telemetry.pending = 2;
    char *text = scrape(&x);
    check_format(text);
    assert_true(value_of(text, "smime_milter_telemetry_records_queued_total") == 7);
    assert_true(value_of(text, "smime_milter_telemetry_records_written_total") == 5);
    assert_true(value_of(text, "smime_milter_telemetry_records_dropped_total{reason=\"queue-full\"}") == 2);
    assert_true(value_of(text, "smime_milter_telemetry_records_dropped_total{reason=\"sink-error\"}") == 3);
    assert_true(value_of(text, "smime_milter_telemetry_records_dropped_total{reason=\"invalid\"}") == 4);
    assert_true(value_of(text, "smime_milter_telemetry_sink_errors_total") == 1);
    assert_true(value_of(text, "smime_milter_telemetry_queue_length") == 2);
    free(text);
}

static void test_render_cap(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 100);
    assert_int_equal(metrics_render(NULL, &b), -1);
    smime_buf_free(&b);
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    const smime_report *r = arg;
    for (int i = 0; i < PER_THREAD; i++)
        metrics_message(r, SMIME_RESULT_POLICY, SMIME_ACTION_DISCARD, 0.02);
    return NULL;
}

static void test_concurrent_updates_are_exact(void **state)
{
    (void)state;
    smime_report *r = smime_report_new();
    assert_non_null(r);
    fill_report(r);
    char *before = scrape(NULL);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, r), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    char *after = scrape(NULL);
    double n = (double)THREADS * PER_THREAD;
    assert_true(value_of(after, "smime_milter_messages_total{result=\"policy\",action=\"discard\"}") -
                    value_of(before, "smime_milter_messages_total{result=\"policy\",action=\"discard\"}") == n);
    assert_true(value_of(after, "smime_milter_signatures_total{result=\"pass\"}") -
                    value_of(before, "smime_milter_signatures_total{result=\"pass\"}") == n);
    assert_true(value_of(after, "smime_milter_verification_seconds_bucket{le=\"0.025\"}") -
                    value_of(before, "smime_milter_verification_seconds_bucket{le=\"0.025\"}") == n);
    free(before);
    free(after);
    smime_report_free(r);
}

/* ---- the endpoint ---- */

static void collect_for_test(metrics_extra *x)
{
    x->have_telemetry = 1;
    x->telemetry.written = 42;
}

/* One HTTP/1.0 exchange with 127.0.0.1:port; returns the whole response. */
static char *http(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    size_t len = strlen(request);
    assert_int_equal(write(fd, request, len), (ssize_t)len);
    size_t cap = RENDER_CAP + 4096, have = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    ssize_t n;
    while (have < cap && (n = read(fd, buf + have, cap - have)) > 0)
        have += (size_t)n;
    buf[have] = '\0';
    close(fd);
    return buf;
}

static void test_http_endpoint(void **state)
{
    (void)state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char err[256];
    if (metrics_listen((struct sockaddr *)&sa, sizeof(sa), err, sizeof(err)) < 0)
        fail_msg("listen: %s", err);
    int port = metrics_port();
    assert_true(port > 0);
    assert_int_equal(metrics_start(collect_for_test, err, sizeof(err)), 0);

    char *resp = http(port, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
    assert_int_equal(strncmp(resp, "HTTP/1.0 200", 12) == 0 || strncmp(resp, "HTTP/1.1 200", 12) == 0, 1);
    assert_non_null(strstr(resp, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    const char *body = strstr(resp, "\r\n\r\n");
    assert_non_null(body);
    check_format(body + 4);
    assert_true(value_of(body + 4, "smime_milter_telemetry_records_written_total") == 42);
    free(resp);

    resp = http(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(resp, " 200 "));
    assert_null(strstr(resp, "smime_milter_build_info"));
    free(resp);
    resp = http(port, "GET /other HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(resp, " 404 "));
    free(resp);
    resp = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
    assert_non_null(strstr(resp, " 405 "));
    assert_non_null(strstr(resp, "Allow: GET, HEAD\r\n"));
    free(resp);

    metrics_stop();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_not_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    close(fd);
    assert_int_equal(metrics_port(), -1);
}

static void test_listen_error_is_reported(void **state)
{
    (void)state;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char err[256];
    assert_int_equal(metrics_listen((struct sockaddr *)&sa, sizeof(sa), err, sizeof(err)), 0);
    int port = metrics_port();
    /* the same port again, while it is taken */
    int saved = listen_fd;
    listen_fd = -1;
    sa.sin_port = htons((uint16_t)port);
    err[0] = '\0';
    assert_int_equal(metrics_listen((struct sockaddr *)&sa, sizeof(sa), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "in use"));
    listen_fd = saved;
    metrics_stop();
    assert_int_equal(metrics_start(NULL, err, sizeof(err)), -1);
    assert_string_equal(err, "not listening");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_build_info),
        cmocka_unit_test(test_message_counts),
        cmocka_unit_test(test_other_events),
        cmocka_unit_test(test_telemetry_extra),
        cmocka_unit_test(test_render_cap),
        cmocka_unit_test(test_concurrent_updates_are_exact),
        cmocka_unit_test(test_http_endpoint),
        cmocka_unit_test(test_listen_error_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
