/* telemetry - open a sink by URI, and write records to it from one writer thread
 * behind a bounded queue (records: record.c; the sink object: sink.c).
 *
 * The mail path only ever calls smime_telemetry_submit(): it takes the queue lock
 * for one record copy and returns.  The writer never holds the lock while it
 * talks to the sink, so a sink that stalls or fails costs the mail path nothing;
 * records that do not fit are dropped and counted, and the writer logs the
 * counters when they change (rate-limited), so a loss is never silent. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "smime/telemetry/telemetry.h"
#include "smime/util/text.h"
#include "smime/util/timeutil.h"

#define DEFAULT_QUEUE_CAPACITY 1024
#define DEFAULT_BATCH_SIZE     64
#define LOG_INTERVAL_S         10    /* at most one drop warning, one sink error per interval */
#define BACKOFF_MIN_MS         100   /* after a failed write the writer waits, doubling */
#define BACKOFF_MAX_MS         30000
#define LOG_MSG_MAX            640


static int sink_open(const char *uri, int must_exist, smime_telemetry_sink **out, char *err,
                     size_t errlen);

static int is_pg_uri(const char *uri)
{
    return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0;
}

const char *smime_telemetry_uri_sqlite_path(const char *uri)
{
    if (strncmp(uri, "sqlite:", 7) != 0)
        return NULL;
    const char *path = uri + 7;
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    return path;
}

int smime_telemetry_uri_check(const char *uri, char *err, size_t errlen)
{
    if (!uri || !*uri) {
        smime_errf(err, errlen, "empty telemetry URI");
        return -1;
    }
    const char *path = smime_telemetry_uri_sqlite_path(uri);
    if (path) {
        if (!*path) {
            smime_errf(err, errlen, "telemetry URI %s: no file name", uri);
            return -1;
        }
        return 0;
    }
    if (is_pg_uri(uri))
        return smime_telemetry_pg_uri_check(uri, err, errlen);
    smime_errf(err, errlen, "telemetry URI must start with sqlite: or postgresql://");
    return -1;
}

int smime_telemetry_secret_default_path(const char *uri, char *out, size_t outlen)
{
    const char *path = uri ? smime_telemetry_uri_sqlite_path(uri) : NULL;
    int n;
    if (path && *path)
        n = snprintf(out, outlen, "%s.secret", path);
    else if (uri && is_pg_uri(uri))
        n = snprintf(out, outlen, "%s", SMIME_TELEMETRY_SECRET_DEFAULT);
    else
        return -1;
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int smime_telemetry_sink_open(const char *uri, smime_telemetry_sink **out, char *err,
                              size_t errlen)
{
    return sink_open(uri, 0, out, err, errlen);
}

int smime_telemetry_sink_open_existing(const char *uri, smime_telemetry_sink **out, char *err,
                                       size_t errlen)
{
    return sink_open(uri, 1, out, err, errlen);
}

static int sink_open(const char *uri, int must_exist, smime_telemetry_sink **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    if (smime_telemetry_uri_check(uri, err, errlen) < 0)
        return -1;
    const char *path = smime_telemetry_uri_sqlite_path(uri);
    if (path)
        return smime_telemetry_sqlite_open(path, must_exist, out, err, errlen);
    return smime_telemetry_pg_open(uri, out, err, errlen);
}

/* ---- writer ----------------------------------------------------------------- */

struct smime_telemetry {
    smime_telemetry_sink *sink;            /* owned */
    smime_telemetry_options opt;
    pthread_mutex_t lock;                  /* guards everything below */
    pthread_cond_t  wake;                  /* queue not empty, or closing */
    pthread_cond_t  space;                 /* the writer took records (wait_when_full) */
    /* The ring: count records from head on.  The writer stores a batch straight
     * from the first slots, outside the lock, and removes them only afterwards;
     * submit appends after all count, so it never touches them, and the lock is
     * never held for more than one record copy. */
    smime_telemetry_record *ring;          /* owned, opt.queue_capacity entries */
    size_t head, count;
    int closing;
    struct timespec close_deadline;        /* CLOCK_MONOTONIC, as every wait here */
    smime_telemetry_stats st;
    char last_build_error[256];
    int writer_done;                       /* set by the writer as it returns */
    pthread_cond_t  writer_exit;           /* signalled with writer_done */
    pthread_t writer;
};

void smime_telemetry_options_default(smime_telemetry_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->queue_capacity = DEFAULT_QUEUE_CAPACITY;
    opt->batch_size = DEFAULT_BATCH_SIZE;
}

static void tlog(smime_telemetry *t, smime_telemetry_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void tlog(smime_telemetry *t, smime_telemetry_log_level level, const char *fmt, ...)
{
    if (!t->opt.log)
        return;
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->opt.log(t->opt.log_ctx, level, msg);
}

static uint64_t dropped_total(const smime_telemetry_stats *st)
{
    return st->dropped_full + st->dropped_sink + st->dropped_close + st->dropped_invalid;
}

static void after_ms(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static time_t mono_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec;
}

/* The writer's own state: only the writer thread touches it. */
typedef struct writer_state {
    uint64_t logged_drops;       /* dropped_total at the last drop warning */
    time_t   last_drop_log;      /* monotonic seconds; 0 = never */
    time_t   last_error_log;
    uint64_t unlogged_errors;    /* failed writes not logged for the rate limit */
    unsigned backoff_ms;         /* 0 after a good write */
    time_t   last_caa_log;       /* the last CAA resolver error logged */
} writer_state;

static void log_drops(smime_telemetry *t, writer_state *w, const smime_telemetry_stats *snap,
                      const char *build_error, int force)
{
    uint64_t d = dropped_total(snap);
    time_t now = mono_seconds();
    if (d == w->logged_drops ||
        (!force && w->last_drop_log && now - w->last_drop_log < LOG_INTERVAL_S))
        return;
    tlog(t, SMIME_TELEMETRY_LOG_WARNING,
         "telemetry: %llu records dropped so far (queue full %llu, sink errors %llu, "
         "unbuilt %llu%s%s, at close %llu); %llu written",
         (unsigned long long)d, (unsigned long long)snap->dropped_full,
         (unsigned long long)snap->dropped_sink, (unsigned long long)snap->dropped_invalid,
         build_error[0] ? ": " : "", build_error, (unsigned long long)snap->dropped_close,
         (unsigned long long)snap->written);
    w->logged_drops = d;
    w->last_drop_log = now;
}

/* A sink that is down fails every batch: one line per interval says so, with the
 * number of failures it stands for. */
static void log_sink_error(smime_telemetry *t, writer_state *w, size_t n, const char *err)
{
    time_t now = mono_seconds();
    w->unlogged_errors++;
    if (w->last_error_log && now - w->last_error_log < LOG_INTERVAL_S)
        return;
    tlog(t, SMIME_TELEMETRY_LOG_ERR, "telemetry: %s sink: %zu records lost: %s%s",
         smime_telemetry_sink_name(t->sink), n, err[0] ? err : "write failed",
         w->unlogged_errors > 1 ? " (more failed writes since the last report)" : "");
    w->unlogged_errors = 0;
    w->last_error_log = now;
}

/* Called with the lock held.  Waits until there is work (records, or closing),
 * or until a drop warning is due; after a failed write, first waits out the
 * backoff (records meanwhile queue up, and past the cap are dropped and counted),
 * unless close asks for the flush. */
static void wait_for_work(smime_telemetry *t, writer_state *w)
{
    if (w->backoff_ms) {
        struct timespec until;
        after_ms(&until, w->backoff_ms);
        while (!t->closing && !past(&until))
            pthread_cond_timedwait(&t->wake, &t->lock, &until);
    }
    while (t->count == 0 && !t->closing) {
        /* Wake now and then even when idle, so drops held back by the rate limit
         * are still logged. */
        struct timespec until;
        after_ms(&until, LOG_INTERVAL_S * 1000u);
        pthread_cond_timedwait(&t->wake, &t->lock, &until);
        if (dropped_total(&t->st) != w->logged_drops &&
            (!w->last_drop_log || mono_seconds() - w->last_drop_log >= LOG_INTERVAL_S))
            break;
    }
}

/* CAA outcomes for the batch (on this thread, bounded by the checker's timeout);
 * the plain domains never go further than here. */
static void fill_caa(smime_telemetry *t, writer_state *w, smime_telemetry_record *batch,
                     size_t n)
{
    if (t->opt.caa) {
        char err[256] = "";
        if (smime_caa_checker_fill(t->opt.caa, batch, n, (int64_t)time(NULL), err,
                                   sizeof(err)) < 0) {
            time_t now = mono_seconds();
            if (!w->last_caa_log || now - w->last_caa_log >= LOG_INTERVAL_S) {
                tlog(t, SMIME_TELEMETRY_LOG_WARNING,
                     "telemetry: CAA lookups failed (recorded as lookup-failed): %s", err);
                w->last_caa_log = now;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        memset(batch[i].lookup_domain, 0, sizeof(batch[i].lookup_domain));
}

static void *writer_main(void *arg)
{
    smime_telemetry *t = arg;
    writer_state w;
    memset(&w, 0, sizeof(w));
    char err[512];
    pthread_mutex_lock(&t->lock);
    for (;;) {
        wait_for_work(t, &w);
        if (t->closing && t->count > 0 && past(&t->close_deadline)) {
            t->st.dropped_close += t->count;
            t->head = (t->head + t->count) % t->opt.queue_capacity;
            t->count = 0;
        }
        /* One contiguous run of slots: a batch never wraps around the ring. */
        size_t n = t->count < t->opt.batch_size ? t->count : t->opt.batch_size;
        if (n > t->opt.queue_capacity - t->head)
            n = t->opt.queue_capacity - t->head;
        /* The writer's own slots until it removes them below (see the ring). */
        smime_telemetry_record *batch = &t->ring[t->head];
        smime_telemetry_stats snap = t->st;
        char build_error[sizeof(t->last_build_error)];
        memcpy(build_error, t->last_build_error, sizeof(build_error));
        int done = t->closing && t->count == 0 && n == 0;
        pthread_mutex_unlock(&t->lock);

        /* The lock is not held from here on: the sink may take as long as it likes. */
        log_drops(t, &w, &snap, build_error, done);
        int rc = 0;
        if (n > 0) {
            err[0] = '\0';
            fill_caa(t, &w, batch, n);
            rc = smime_telemetry_sink_write(t->sink, batch, n, err, sizeof(err));
            if (rc != 0) {
                log_sink_error(t, &w, n, err);
                w.backoff_ms = w.backoff_ms ? w.backoff_ms * 2 : BACKOFF_MIN_MS;
                if (w.backoff_ms > BACKOFF_MAX_MS)
                    w.backoff_ms = BACKOFF_MAX_MS;
            } else {
                w.backoff_ms = 0;
            }
        }
        pthread_mutex_lock(&t->lock);
        if (n > 0) {
            t->head = (t->head + n) % t->opt.queue_capacity;
            t->count -= n;
            if (t->opt.wait_when_full)
                pthread_cond_broadcast(&t->space);
            if (rc == 0) {
                t->st.written += n;
            } else {
                t->st.dropped_sink += n;
                t->st.sink_errors++;
            }
        }
        if (done)
            break;
    }
    t->writer_done = 1;
    pthread_cond_broadcast(&t->writer_exit);
    pthread_cond_broadcast(&t->space);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Condition variables that time out on the monotonic clock: a change of the
 * system time must not stretch or cut the waits. */
static void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
}

int smime_telemetry_start(smime_telemetry_sink *sink, const smime_telemetry_options *opt,
                          smime_telemetry **out, char *err, size_t errlen)
{
    *out = NULL;
    smime_telemetry_options o;
    if (opt)
        o = *opt;
    else
        smime_telemetry_options_default(&o);
    if (o.queue_capacity == 0)
        o.queue_capacity = DEFAULT_QUEUE_CAPACITY;
    if (o.batch_size == 0)
        o.batch_size = DEFAULT_BATCH_SIZE;
    if (o.queue_capacity > SMIME_TELEMETRY_QUEUE_MAX || o.batch_size > SMIME_TELEMETRY_BATCH_MAX) {
        smime_errf(err, errlen, "telemetry queue capacity must be at most %d, batch size at most %d",
                SMIME_TELEMETRY_QUEUE_MAX, SMIME_TELEMETRY_BATCH_MAX);
        smime_caa_checker_free(o.caa);
        smime_telemetry_sink_close(sink);
        return -1;
    }
    if (o.privacy.domain_mode == SMIME_TELEMETRY_DOMAIN_HMAC &&
        (o.privacy.key_len == 0 || o.privacy.key_len > SMIME_TELEMETRY_KEY_MAX)) {
        smime_errf(err, errlen, "hashed sender domains need a key of 1..%d bytes",
                SMIME_TELEMETRY_KEY_MAX);
        smime_caa_checker_free(o.caa);
        smime_telemetry_sink_close(sink);
        return -1;
    }
    smime_telemetry *t = calloc(1, sizeof(*t));
    if (t)
        t->ring = calloc(o.queue_capacity, sizeof(*t->ring));
    if (!t || !t->ring) {
        smime_errf(err, errlen, "out of memory for the telemetry queue");
        free(t);
        smime_caa_checker_free(o.caa);
        smime_telemetry_sink_close(sink);
        return -1;
    }
    t->sink = sink;
    t->opt = o;
    pthread_mutex_init(&t->lock, NULL);
    cond_init_monotonic(&t->wake);
    cond_init_monotonic(&t->writer_exit);
    cond_init_monotonic(&t->space);
    int rc = pthread_create(&t->writer, NULL, writer_main, t);
    if (rc != 0) {
        smime_errf(err, errlen, "cannot start the telemetry writer: %s", strerror(rc));
        pthread_cond_destroy(&t->writer_exit);
        pthread_cond_destroy(&t->space);
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t->ring);
        free(t);
        smime_caa_checker_free(o.caa);
        smime_telemetry_sink_close(sink);
        return -1;
    }
    *out = t;
    return 0;
}

/* open up to the start of the writer; -1 leaves opt->caa to the caller */
static int open_sink_and_secret(const char *uri, smime_telemetry_options *o,
                                smime_telemetry_sink **sink, int *connected, char *why,
                                size_t whylen, char *err, size_t errlen);

int smime_telemetry_open(const char *uri, const smime_telemetry_options *opt,
                         smime_telemetry **out, char *err, size_t errlen)
{
    *out = NULL;
    smime_telemetry_options o;
    if (opt)
        o = *opt;
    else
        smime_telemetry_options_default(&o);
    smime_telemetry_sink *sink = NULL;
    char why[512] = "";
    int connected = 1;
    if (open_sink_and_secret(uri, &o, &sink, &connected, why, sizeof(why), err, errlen) < 0) {
        smime_caa_checker_free(o.caa);
        return -1;
    }
    if (smime_telemetry_start(sink, &o, out, err, errlen) < 0)
        return -1;
    if (!connected)
        tlog(*out, SMIME_TELEMETRY_LOG_WARNING,
             "telemetry: %s; will connect again for the next records (until then they are "
             "dropped and counted)", why);
    return 0;
}

static int open_sink_and_secret(const char *uri, smime_telemetry_options *o,
                                smime_telemetry_sink **sink, int *connected, char *why,
                                size_t whylen, char *err, size_t errlen)
{
    if (smime_telemetry_uri_check(uri, err, errlen) < 0)
        return -1;
    if (o->privacy.cert_key_len == 0) {
        char path[4096];
        if (o->secret_path)
            snprintf(path, sizeof(path), "%s", o->secret_path);
        else if (smime_telemetry_secret_default_path(uri, path, sizeof(path)) < 0)
            path[0] = '\0';
        if (!path[0]) {
            smime_errf(err, errlen, "telemetry: no path for the deployment secret");
            return -1;
        }
        if (smime_telemetry_secret_load(path, o->privacy.cert_key, &o->privacy.cert_key_len,
                                        err, errlen) < 0)
            return -1;
    }
    o->secret_path = NULL;   /* borrowed: not kept */
    if (is_pg_uri(uri)) {
        if (smime_telemetry_pg_open_lazy(uri, sink, connected, why, whylen) < 0) {
            smime_errf(err, errlen, "%s", why);
            return -1;
        }
    } else if (smime_telemetry_sink_open(uri, sink, err, errlen) < 0) {
        return -1;
    }
    return 0;
}

int smime_telemetry_submit(smime_telemetry *t, const smime_telemetry_record *rec)
{
    int dropped;
    pthread_mutex_lock(&t->lock);
    t->st.submitted++;
    /* Offline tools only (see the option): the mail path never waits here. */
    while (t->opt.wait_when_full && !t->closing && !t->writer_done &&
           t->count >= t->opt.queue_capacity)
        pthread_cond_wait(&t->space, &t->lock);
    if (t->closing || t->count >= t->opt.queue_capacity) {
        t->st.dropped_full++;
        dropped = 1;
    } else {
        t->ring[(t->head + t->count) % t->opt.queue_capacity] = *rec;
        t->count++;
        t->st.queued++;
        dropped = 0;
    }
    pthread_mutex_unlock(&t->lock);
    if (!dropped)
        pthread_cond_signal(&t->wake);
    return dropped;
}

int smime_telemetry_submit_sig(smime_telemetry *t, const smime_sig_report *s,
                               const smime_lint_result *lint, int64_t now)
{
    smime_telemetry_record rec;
    char err[256];
    if (smime_telemetry_record_from(s, lint, now, &t->opt.privacy, &rec, err, sizeof(err)) < 0) {
        pthread_mutex_lock(&t->lock);
        t->st.submitted++;
        t->st.dropped_invalid++;
        memcpy(t->last_build_error, err, sizeof(t->last_build_error));
        t->last_build_error[sizeof(t->last_build_error) - 1] = '\0';
        pthread_mutex_unlock(&t->lock);
        pthread_cond_signal(&t->wake);
        return -1;
    }
    return smime_telemetry_submit(t, &rec);
}

const smime_telemetry_privacy *smime_telemetry_privacy_of(const smime_telemetry *t)
{
    return &t->opt.privacy;   /* written once before the writer starts */
}

void smime_telemetry_get_stats(smime_telemetry *t, smime_telemetry_stats *st)
{
    pthread_mutex_lock(&t->lock);
    *st = t->st;
    st->pending = t->count;
    pthread_mutex_unlock(&t->lock);
}

int smime_telemetry_close(smime_telemetry *t, unsigned flush_ms, smime_telemetry_stats *final)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->lock);
    t->closing = 1;
    after_ms(&t->close_deadline, flush_ms);
    pthread_cond_signal(&t->wake);
    pthread_cond_broadcast(&t->space);
    /* The writer may be inside a sink call that never returns (a database that
     * stopped answering): wait for it a little past the flush time, then leave it
     * rather than hang the caller's shutdown. */
    struct timespec hard;
    after_ms(&hard, flush_ms > UINT_MAX - SMIME_TELEMETRY_CLOSE_GRACE_MS
                        ? UINT_MAX : flush_ms + SMIME_TELEMETRY_CLOSE_GRACE_MS);
    while (!t->writer_done)
        if (pthread_cond_timedwait(&t->writer_exit, &t->lock, &hard) == ETIMEDOUT)
            break;
    int abandoned = !t->writer_done;
    smime_telemetry_stats st = t->st;
    st.pending = t->count;
    pthread_mutex_unlock(&t->lock);
    if (abandoned) {
        /* t stays allocated for the stuck writer, which drops what is left and
         * exits if its sink call ever returns; the sink is never closed. */
        pthread_detach(t->writer);
        tlog(t, SMIME_TELEMETRY_LOG_ERR,
             "telemetry: %s sink did not return within %u ms of close; left behind with "
             "%zu records queued (%llu written, %llu dropped)",
             smime_telemetry_sink_name(t->sink), flush_ms + SMIME_TELEMETRY_CLOSE_GRACE_MS,
             st.pending, (unsigned long long)st.written, (unsigned long long)dropped_total(&st));
        if (final)
            *final = st;
        return -1;
    }
    pthread_join(t->writer, NULL);
    st.pending = 0;
    uint64_t dropped = dropped_total(&st);
    tlog(t, dropped ? SMIME_TELEMETRY_LOG_WARNING : SMIME_TELEMETRY_LOG_INFO,
         "telemetry: closed %s sink: %llu submitted, %llu written, %llu dropped "
         "(queue full %llu, sink errors %llu, unbuilt %llu, at close %llu)",
         smime_telemetry_sink_name(t->sink), (unsigned long long)st.submitted,
         (unsigned long long)st.written, (unsigned long long)dropped,
         (unsigned long long)st.dropped_full, (unsigned long long)st.dropped_sink,
         (unsigned long long)st.dropped_invalid, (unsigned long long)st.dropped_close);
    if (final)
        *final = st;
    smime_telemetry_sink_close(t->sink);
    smime_caa_checker_free(t->opt.caa);
    pthread_cond_destroy(&t->writer_exit);
    pthread_cond_destroy(&t->space);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t->ring);
    free(t);
    return dropped ? -1 : 0;
}
