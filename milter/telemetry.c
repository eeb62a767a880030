/* telemetry - the daemon's one telemetry writer: started once after the switch of
 * user, lent to connection threads per message, and flushed at shutdown.  Its
 * owner is this file alone, so main.c (start, shutdown) and callbacks.c (acquire,
 * release) never call each other for it. */
#include <pthread.h>
#include <time.h>

#include "metrics.h"
#include "milter.h"
#include "smime/telemetry/telemetry.h"

static pthread_mutex_t telemetry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t telemetry_idle = PTHREAD_COND_INITIALIZER;
static smime_telemetry *telemetry;       /* guarded by telemetry_lock */
static unsigned telemetry_users;         /* threads holding it; guarded */

smime_telemetry *telemetry_acquire(void)
{
    pthread_mutex_lock(&telemetry_lock);
    smime_telemetry *t = telemetry;
    if (t)
        telemetry_users++;
    pthread_mutex_unlock(&telemetry_lock);
    return t;
}

void telemetry_release(void)
{
    pthread_mutex_lock(&telemetry_lock);
    if (--telemetry_users == 0)
        pthread_cond_broadcast(&telemetry_idle);
    pthread_mutex_unlock(&telemetry_lock);
}

/* Takes the handle away from new users, waits (bounded) for the current ones, then
 * flushes and closes it.  A connection thread still holding it after the wait
 * keeps it: it is then left to process exit rather than freed under that thread. */
void telemetry_shutdown(void)
{
    pthread_mutex_lock(&telemetry_lock);
    smime_telemetry *t = telemetry;
    telemetry = NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int rc = 0;
    while (telemetry_users > 0 && rc == 0)
        rc = pthread_cond_timedwait(&telemetry_idle, &telemetry_lock, &until);
    unsigned busy = telemetry_users;
    pthread_mutex_unlock(&telemetry_lock);
    if (!t)
        return;
    if (busy) {
        log_msg(LOG_WARNING, "telemetry: %u connection(s) still busy; records not flushed", busy);
        return;
    }
    if (smime_telemetry_close(t, 5000, NULL) < 0)
        log_msg(LOG_WARNING, "telemetry: some records were dropped (see above)");
}

static void telemetry_log(void *ctx, smime_telemetry_log_level level, const char *msg)
{
    (void)ctx;
    log_msg(level == SMIME_TELEMETRY_LOG_ERR       ? LOG_ERR
            : level == SMIME_TELEMETRY_LOG_WARNING ? LOG_WARNING
                                                   : LOG_INFO,
            "telemetry: %s", msg);
}

void telemetry_metrics(metrics_extra *x)
{
    smime_telemetry *t = telemetry_acquire();
    if (!t)
        return;
    smime_telemetry_get_stats(t, &x->telemetry);
    x->have_telemetry = 1;
    telemetry_release();
}

int telemetry_start(const char *uri)
{
    smime_telemetry_options topt;
    smime_telemetry_options_default(&topt);
    topt.log = telemetry_log;
    char err[512];
    smime_telemetry *t = NULL;
    if (smime_telemetry_open(uri, &topt, &t, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "Telemetry %s: %s", uri, err);
        return -1;
    }
    pthread_mutex_lock(&telemetry_lock);
    telemetry = t;
    pthread_mutex_unlock(&telemetry_lock);
    return 0;
}
