/* metrics - counters and the Prometheus endpoint (see metrics.h).
 *
 * HTTP is libmicrohttpd's, not ours: it parses requests, enforces its connection
 * and memory limits and runs the server thread; we answer GET (and HEAD) of
 * /metrics with the rendered text and everything else with 404 or 405.  The
 * listening socket is made here, before the daemon gives up root, and handed to
 * libmicrohttpd after, so its thread never runs with privileges. */
#include "metrics.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milter.h"

#define N_RESULTS   SMIME_RESULT_COUNT
#define N_ACTIONS   5            /* accept .. discard, smime_action */
#define N_FETCH_RC  6            /* SMIME_FETCH_OK .. SMIME_FETCH_FAILED */
#define N_REV       4            /* not-checked, good, revoked, unknown */
#define RENDER_CAP  (256u << 10) /* the text is ~15 KiB; far past it is a bug */

/* Upper bounds of the verification latency buckets, seconds: a verification takes
 * milliseconds, a revocation fetch up to RevocationTimeout, VerifyTimeout caps CPU. */
static const double latency_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                         0.25,  0.5,    1,     2.5,  5,     10,   30 };
#define N_BUCKETS (sizeof(latency_bounds) / sizeof(latency_bounds[0]) + 1) /* + +Inf */

typedef atomic_ullong counter;

static struct {
    counter messages[N_RESULTS][N_ACTIONS];
    counter internal_errors[N_ACTIONS];
    counter unchecked[METRICS_UNCHECKED_COUNT];
    counter signatures[N_RESULTS];
    counter latency_buckets[N_BUCKETS];   /* not cumulative; summed when rendered */
    counter latency_sum_us;
    counter rev_lookups[N_REV];
    counter rev_cache_hits;
    counter rev_fetches[N_FETCH_RC];
    counter reloads_ok;
    counter reloads_refused;
} m;

static const char *const unchecked_names[METRICS_UNCHECKED_COUNT] = { "peerlist",
                                                                     "authenticated" };
static const char *const fetch_names[N_FETCH_RC] = { "ok",        "timeout",   "unreachable",
                                                     "http-error", "too-large", "failed" };
static const char *const rev_names[N_REV] = { "not-checked", "good", "revoked", "unknown" };

static time_t start_time;

static void add(counter *c, unsigned long long n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static unsigned result_index(smime_result r)
{
    return (unsigned)r < N_RESULTS ? (unsigned)r : SMIME_RESULT_NEUTRAL;
}

static unsigned action_index(smime_action a)
{
    return (unsigned)a < N_ACTIONS ? (unsigned)a : SMIME_ACTION_ACCEPT;
}

static unsigned rev_index(const char *status)
{
    for (unsigned i = 1; i < N_REV; i++)
        if (status && strcmp(status, rev_names[i]) == 0)
            return i;
    return 0;
}

void metrics_message(const smime_report *r, smime_result result, smime_action action,
                     double verify_seconds)
{
    add(&m.messages[result_index(result)][action_index(action)], 1);
    for (size_t i = 0; r && i < r->n_sigs; i++) {
        const smime_sig_report *s = &r->sigs[i];
        add(&m.signatures[result_index(s->result)], 1);
        for (size_t j = 0; j < s->n_revocation && j < SMIME_CHAIN_MAX; j++) {
            add(&m.rev_lookups[rev_index(s->revocation[j].status)], 1);
            if (s->revocation[j].from_cache)
                add(&m.rev_cache_hits, 1);
        }
    }
    if (verify_seconds < 0)
        return;
    size_t b = 0;
    while (b < N_BUCKETS - 1 && verify_seconds > latency_bounds[b])
        b++;
    add(&m.latency_buckets[b], 1);
    /* microseconds keep the sum an integer that atomics can add; 2^64 us is
     * half a million years of verification */
    add(&m.latency_sum_us, (unsigned long long)(verify_seconds * 1e6 + 0.5));
}

void metrics_internal_error(smime_action action)
{
    add(&m.internal_errors[action_index(action)], 1);
}

void metrics_unchecked_message(metrics_unchecked why)
{
    if ((unsigned)why < METRICS_UNCHECKED_COUNT)
        add(&m.unchecked[why], 1);
}

void metrics_reload(int ok)
{
    add(ok ? &m.reloads_ok : &m.reloads_refused, 1);
}

void metrics_revocation_fetch(smime_fetch_rc rc)
{
    add(&m.rev_fetches[(unsigned)rc < N_FETCH_RC ? (unsigned)rc : SMIME_FETCH_FAILED], 1);
}

/* ---- rendering ---- */

static void family(smime_buf *out, const char *name, const char *type, const char *help)
{
    smime_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value from a version string: the format's three escapes, nothing else
 * is special; our strings are short and printable anyway. */
static void label_value(smime_buf *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            smime_buf_putc(out, '\\');
        if (*v == '\n')
            smime_buf_puts(out, "\\n");
        else
            smime_buf_putc(out, *v);
    }
}

int metrics_render(const metrics_extra *x, smime_buf *out)
{
    char gmime[32];
    snprintf(gmime, sizeof(gmime), "%u.%u.%u", gmime_major_version, gmime_minor_version,
             gmime_micro_version);
    family(out, "smime_milter_build_info", "gauge",
           "Versions of smime-milter and the libraries it runs with (always 1).");
    smime_buf_puts(out, "smime_milter_build_info{version=\"");
    label_value(out, SMIME_MILTER_VERSION);
    smime_buf_puts(out, "\",gnutls=\"");
    label_value(out, gnutls_check_version(NULL));
    smime_buf_puts(out, "\",gmime=\"");
    label_value(out, gmime);
    smime_buf_puts(out, "\"} 1\n");
    family(out, "smime_milter_start_time_seconds", "gauge",
           "When the daemon started, seconds since the epoch.");
    smime_buf_printf(out, "smime_milter_start_time_seconds %lld\n", (long long)start_time);

    family(out, "smime_milter_messages_total", "counter",
           "Messages checked, by the most severe result and the action taken.");
    for (unsigned r = 0; r < N_RESULTS; r++)
        for (unsigned a = 0; a < N_ACTIONS; a++)
            smime_buf_printf(out, "smime_milter_messages_total{result=\"%s\",action=\"%s\"} %llu\n",
                             smime_result_name((smime_result)r),
                             smime_action_name((smime_action)a), get(&m.messages[r][a]));
    family(out, "smime_milter_internal_errors_total", "counter",
           "Messages that met an internal error, by the action On-InternalError took.");
    for (unsigned a = 0; a < N_ACTIONS; a++)
        smime_buf_printf(out, "smime_milter_internal_errors_total{action=\"%s\"} %llu\n",
                         smime_action_name((smime_action)a), get(&m.internal_errors[a]));
    family(out, "smime_milter_messages_unchecked_total", "counter",
           "Messages let through without a check (PeerList, SkipAuthenticated).");
    for (unsigned u = 0; u < METRICS_UNCHECKED_COUNT; u++)
        smime_buf_printf(out, "smime_milter_messages_unchecked_total{reason=\"%s\"} %llu\n",
                         unchecked_names[u], get(&m.unchecked[u]));
    family(out, "smime_milter_signatures_total", "counter", "Signatures checked, by result.");
    for (unsigned r = 0; r < N_RESULTS; r++)
        smime_buf_printf(out, "smime_milter_signatures_total{result=\"%s\"} %llu\n",
                         smime_result_name((smime_result)r), get(&m.signatures[r]));

    family(out, "smime_milter_verification_seconds", "histogram",
           "Time the core took to check one message, revocation fetches included.");
    unsigned long long cumulative = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        cumulative += get(&m.latency_buckets[b]);
        if (b < N_BUCKETS - 1)
            smime_buf_printf(out, "smime_milter_verification_seconds_bucket{le=\"%g\"} %llu\n",
                             latency_bounds[b], cumulative);
        else
            smime_buf_printf(out, "smime_milter_verification_seconds_bucket{le=\"+Inf\"} %llu\n",
                             cumulative);
    }
    unsigned long long sum_us = get(&m.latency_sum_us);
    smime_buf_printf(out, "smime_milter_verification_seconds_sum %llu.%06llu\n",
                     sum_us / 1000000, sum_us % 1000000);
    /* the count is the +Inf bucket as read, so the two always agree */
    smime_buf_printf(out, "smime_milter_verification_seconds_count %llu\n", cumulative);

    family(out, "smime_milter_revocation_lookups_total", "counter",
           "Certificates whose revocation status was asked, by the answer.");
    for (unsigned i = 0; i < N_REV; i++)
        smime_buf_printf(out, "smime_milter_revocation_lookups_total{status=\"%s\"} %llu\n",
                         rev_names[i], get(&m.rev_lookups[i]));
    family(out, "smime_milter_revocation_cache_hits_total", "counter",
           "Revocation answers taken from the cache (memory or RevocationCache), no fetch.");
    smime_buf_printf(out, "smime_milter_revocation_cache_hits_total %llu\n",
                     get(&m.rev_cache_hits));
    family(out, "smime_milter_revocation_fetches_total", "counter",
           "OCSP and CRL fetches over HTTP, by outcome (ok, or why it failed).");
    for (unsigned i = 0; i < N_FETCH_RC; i++)
        smime_buf_printf(out, "smime_milter_revocation_fetches_total{outcome=\"%s\"} %llu\n",
                         fetch_names[i], get(&m.rev_fetches[i]));

    family(out, "smime_milter_reloads_total", "counter",
           "SIGHUP reloads: ok (in use) or refused (the old configuration stays).");
    smime_buf_printf(out, "smime_milter_reloads_total{outcome=\"ok\"} %llu\n",
                     get(&m.reloads_ok));
    smime_buf_printf(out, "smime_milter_reloads_total{outcome=\"refused\"} %llu\n",
                     get(&m.reloads_refused));

    if (x && x->have_telemetry) {
        const smime_telemetry_stats *t = &x->telemetry;
        family(out, "smime_milter_telemetry_records_queued_total", "counter",
               "Telemetry records accepted into the writer's queue.");
        smime_buf_printf(out, "smime_milter_telemetry_records_queued_total %llu\n",
                         (unsigned long long)t->queued);
        family(out, "smime_milter_telemetry_records_written_total", "counter",
               "Telemetry records stored by the sink.");
        smime_buf_printf(out, "smime_milter_telemetry_records_written_total %llu\n",
                         (unsigned long long)t->written);
        family(out, "smime_milter_telemetry_records_dropped_total", "counter",
               "Telemetry records lost, by reason.");
        smime_buf_printf(out,
                         "smime_milter_telemetry_records_dropped_total{reason=\"queue-full\"} %llu\n"
                         "smime_milter_telemetry_records_dropped_total{reason=\"sink-error\"} %llu\n"
                         "smime_milter_telemetry_records_dropped_total{reason=\"invalid\"} %llu\n",
                         (unsigned long long)t->dropped_full, (unsigned long long)t->dropped_sink,
                         (unsigned long long)t->dropped_invalid);
        family(out, "smime_milter_telemetry_sink_errors_total", "counter",
               "Failed writes of the telemetry sink.");
        smime_buf_printf(out, "smime_milter_telemetry_sink_errors_total %llu\n",
                         (unsigned long long)t->sink_errors);
        family(out, "smime_milter_telemetry_queue_length", "gauge",
               "Telemetry records waiting in the writer's queue.");
        smime_buf_printf(out, "smime_milter_telemetry_queue_length %zu\n", t->pending);
    }
    return out->overflow ? -1 : 0;
}

/* ---- the server ---- */

static int listen_fd = -1;
static struct MHD_Daemon *daemon_handle;
static metrics_collect_fn collect_fn;

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned status, const char *text,
                                  size_t len, const char *content_type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    enum MHD_Result rc = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (rc == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED)
        rc = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (rc == MHD_YES)
        rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    static const char *const plain = "text/plain; charset=utf-8";
    /* the first call only announces the request; answering then would be before
     * any body (there should be none) has been seen */
    if (*con_cls == NULL) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;          /* a body is ignored; the answer follows */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET and HEAD\n";
        return queue_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, msg, sizeof(msg) - 1, plain);
    }
    if (strcmp(url, "/metrics") != 0) {
        static const char msg[] = "smime-milter: the metrics are at /metrics\n";
        return queue_text(c, MHD_HTTP_NOT_FOUND, msg, sizeof(msg) - 1, plain);
    }
    metrics_extra x;
    memset(&x, 0, sizeof(x));
    if (collect_fn)
        collect_fn(&x);
    smime_buf b;
    smime_buf_init(&b, RENDER_CAP);
    enum MHD_Result rc;
    if (metrics_render(&x, &b) < 0 || !b.data) {
        static const char msg[] = "metrics could not be rendered\n";
        rc = queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg, sizeof(msg) - 1, plain);
    } else {
        rc = queue_text(c, MHD_HTTP_OK, b.data, b.len, "text/plain; version=0.0.4; charset=utf-8");
    }
    smime_buf_free(&b);
    return rc;
}

int metrics_listen(const struct sockaddr *addr, socklen_t len, char *err, size_t errlen)
{
    if (start_time == 0)
        start_time = time(NULL);
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (addr->sa_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
        bind(fd, addr, len) < 0 || listen(fd, 16) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    listen_fd = fd;
    return 0;
}

int metrics_port(void)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (listen_fd < 0 || getsockname(listen_fd, (struct sockaddr *)&ss, &sl) < 0)
        return -1;
    return ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
           : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                      : -1;
}

int metrics_start(metrics_collect_fn collect, char *err, size_t errlen)
{
    if (listen_fd < 0) {
        snprintf(err, errlen, "not listening");
        return -1;
    }
    collect_fn = collect;
    /* A scraper needs one connection; the limits keep a flood of them small.
     * MHD_USE_INTERNAL_POLLING_THREAD: one thread serves every connection, and a
     * scrape only reads counters.  MHD_USE_ITC lets metrics_stop() quiesce it. */
    daemon_handle = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64u << 10),
        MHD_OPTION_END);
    if (!daemon_handle) {
        snprintf(err, errlen, "libmicrohttpd could not start its server");
        return -1;
    }
    return 0;
}

void metrics_stop(void)
{
    if (daemon_handle) {
        /* quiesced first, the socket is ours again to close: one owner, one close */
        MHD_socket fd = MHD_quiesce_daemon(daemon_handle);
        MHD_stop_daemon(daemon_handle);
        daemon_handle = NULL;
        if (fd != MHD_INVALID_SOCKET)
            listen_fd = fd;
    }
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
}
