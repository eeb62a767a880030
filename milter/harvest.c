/* harvest - the daemon's one certificate harvest writer (HarvestDirectory):
 * started after the switch of user so the store belongs to the daemon's user,
 * lent to connection threads per message, finished at shutdown.  The same
 * borrow-and-return scheme as telemetry.c, for the same reason: libmilter does
 * not wait for its connection threads when it stops. */
#include <pthread.h>
#include <time.h>

#include "milter.h"
#include "smime/telemetry/harvest.h"

static pthread_mutex_t harvest_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t harvest_idle = PTHREAD_COND_INITIALIZER;
static smime_harvester *harvester;       /* guarded by harvest_lock */
static unsigned harvest_users;           /* threads holding it; guarded */

smime_harvester *harvest_acquire(void)
{
    pthread_mutex_lock(&harvest_lock);
    smime_harvester *h = harvester;
    if (h)
        harvest_users++;
    pthread_mutex_unlock(&harvest_lock);
    return h;
}

void harvest_release(void)
{
    pthread_mutex_lock(&harvest_lock);
    if (--harvest_users == 0)
        pthread_cond_broadcast(&harvest_idle);
    pthread_mutex_unlock(&harvest_lock);
}

void harvest_shutdown(void)
{
    pthread_mutex_lock(&harvest_lock);
    smime_harvester *h = harvester;
    harvester = NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    int rc = 0;
    while (harvest_users > 0 && rc == 0)
        rc = pthread_cond_timedwait(&harvest_idle, &harvest_lock, &until);
    unsigned busy = harvest_users;
    pthread_mutex_unlock(&harvest_lock);
    if (!h)
        return;
    if (busy) {
        log_msg(LOG_WARNING, "harvest: %u connection(s) still busy; writer left running", busy);
        return;
    }
    unsigned long dropped = smime_harvester_close(h);
    if (dropped)
        log_msg(LOG_WARNING, "harvest: %lu certificate(s) not stored (queue full)", dropped);
}

static void harvest_log(void *ctx, int is_error, const char *msg)
{
    (void)ctx;
    log_msg(is_error ? LOG_WARNING : LOG_INFO, "%s", msg);
}

int harvest_start(const smime_config *cfg)
{
    smime_harvest_options o;
    smime_harvest_options_default(&o);
    o.max_entries = cfg->harvest_max_entries;
    o.max_bytes = cfg->harvest_max_bytes;
    char err[512];
    smime_harvester *h = NULL;
    if (smime_harvester_start(cfg->harvest_dir, &o, harvest_log, NULL, &h, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "HarvestDirectory %s: %s", cfg->harvest_dir, err);
        return -1;
    }
    pthread_mutex_lock(&harvest_lock);
    harvester = h;
    pthread_mutex_unlock(&harvest_lock);
    return 0;
}
