/* caa_unbound - the CAA resolver back end over libunbound: every name of a batch
 * is sent at once (ub_resolve_async), answers are collected until the overall
 * deadline, and what has not answered by then is cancelled and reported as a
 * timeout.  libunbound does the DNS (retries, TCP fallback, CNAME chasing, its own
 * cache); this file only maps its results onto smime_caa_answer.
 *
 * The context runs its work in a thread of its own (ub_ctx_async 1), never a
 * forked process, so a milter that later drops privileges or is supervised sees
 * no stray children.  Used by one thread at a time (the telemetry writer). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smime/telemetry/caa.h"
#include "smime/util/text.h"

#if defined(__has_include)
#if __has_include(<unbound.h>)
#define HAVE_UNBOUND 1
#endif
#endif

#ifndef HAVE_UNBOUND

int smime_caa_unbound_new(const char *server, smime_caa_resolver *out, char *err,
                          size_t errlen)
{
    (void)server;
    memset(out, 0, sizeof(*out));
    smime_errf(err, errlen, "CAA: this program was built without libunbound");
    return -1;
}

#else

#include <unbound.h>

#define RR_TYPE_CAA 257
#define RR_CLASS_IN 1

typedef struct slot {
    smime_caa_answer *ans;
    int done;
} slot;

static void on_result(void *arg, int status, struct ub_result *res)
{
    slot *s = arg;
    s->done = 1;
    smime_caa_answer *a = s->ans;
    if (status != 0 || !res) {
        a->status = SMIME_CAA_ANS_FAILED;
        a->rcode = -1;
        a->ttl = SMIME_CAA_FAIL_TTL;
    } else if (res->rcode == 0 || res->rcode == 3) {   /* NOERROR, NXDOMAIN */
        a->status = SMIME_CAA_ANS_EMPTY;
        a->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
        if (res->rcode == 0 && res->havedata)
            for (size_t i = 0; res->data[i]; i++)
                smime_caa_answer_add(a, (const unsigned char *)res->data[i],
                                     (size_t)res->len[i]);
    } else {   /* SERVFAIL, REFUSED, ...: no answer to climb past */
        a->status = SMIME_CAA_ANS_FAILED;
        a->rcode = res->rcode;
        a->ttl = SMIME_CAA_FAIL_TTL;
    }
    if (res)
        ub_resolve_free(res);
}

static long ms_until(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
              (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

static int ub_resolve_batch(void *impl, const char *const *names, size_t n, unsigned timeout_ms,
                            smime_caa_answer *ans, char *err, size_t errlen)
{
    struct ub_ctx *ctx = impl;
    if (n > SMIME_CAA_PENDING_MAX) {
        smime_errf(err, errlen, "CAA: more than %d names at once", SMIME_CAA_PENDING_MAX);
        return -1;
    }
    slot slots[SMIME_CAA_PENDING_MAX];
    int ids[SMIME_CAA_PENDING_MAX];
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    size_t open = 0;
    for (size_t i = 0; i < n; i++) {
        memset(&ans[i], 0, sizeof(ans[i]));
        ans[i].status = SMIME_CAA_ANS_TIMEOUT;
        ans[i].ttl = SMIME_CAA_FAIL_TTL;
        slots[i].ans = &ans[i];
        slots[i].done = 0;
        int rc = ub_resolve_async(ctx, names[i], RR_TYPE_CAA, RR_CLASS_IN, &slots[i], on_result,
                                  &ids[i]);
        if (rc != 0) {
            ans[i].status = SMIME_CAA_ANS_FAILED;
            ans[i].rcode = -1;
            slots[i].done = 1;
        } else {
            open++;
        }
    }
    int fd = ub_fd(ctx);
    while (open > 0) {
        long left = ms_until(&deadline);
        if (left == 0)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno != EINTR) {
            smime_errf(err, errlen, "CAA: poll: %s", strerror(errno));
            break;
        }
        if (pr > 0 && ub_process(ctx) != 0) {
            smime_errf(err, errlen, "CAA: libunbound failed to process answers");
            break;
        }
        open = 0;
        for (size_t i = 0; i < n; i++)
            open += !slots[i].done;
    }
    /* Past the deadline: the rest are timeouts, and must not call back into slots
     * that are gone once this returns. */
    for (size_t i = 0; i < n; i++)
        if (!slots[i].done)
            ub_cancel(ctx, ids[i]);
    return 0;
}

static void ub_close(void *impl)
{
    if (impl)
        ub_ctx_delete(impl);
}

int smime_caa_unbound_new(const char *server, smime_caa_resolver *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct ub_ctx *ctx = ub_ctx_create();
    if (!ctx) {
        smime_errf(err, errlen, "CAA: cannot create a libunbound context");
        return -1;
    }
    int rc = ub_ctx_async(ctx, 1);
    const char *what = "threads";
    if (rc == 0 && server && *server) {
        /* a forwarder on loopback (a local resolver, or a test's server) is allowed */
        what = "do-not-query-localhost";
        rc = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
        if (rc == 0) {
            what = server;
            rc = ub_ctx_set_fwd(ctx, server);
        }
    } else if (rc == 0) {
        what = "/etc/resolv.conf";
        rc = ub_ctx_resolvconf(ctx, NULL);
    }
    if (rc != 0) {
        smime_errf(err, errlen, "CAA resolver (%s): %s", what, ub_strerror(rc));
        ub_ctx_delete(ctx);
        return -1;
    }
    out->resolve = ub_resolve_batch;
    out->close = ub_close;
    out->impl = ctx;
    return 0;
}

#endif
