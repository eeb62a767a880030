/* harvest - the daemon's one certificate harvest writer (HarvestDirectory):
 * started after the switch of user so the store belongs to the daemon's user,
 * lent to connection threads per message, finished at shutdown.  The same
 * borrow-and-return scheme as telemetry.c, for the same reason: libmilter does
 * not wait for its connection threads when it stops. */
#include <pthread.h>
#include <time.h>

#include "milter.h"
#include "smime/telemetry/harvest.h"

static milter_lease harvest_lease = MILTER_LEASE_INIT;

smime_harvester *harvest_acquire(void)
{
    return lease_acquire(&harvest_lease);
}

void harvest_release(void)
{
    lease_release(&harvest_lease);
}

void harvest_shutdown(void)
{
    unsigned busy;
    smime_harvester *h = lease_take(&harvest_lease, 5, &busy);
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
    lease_set(&harvest_lease, h);
    return 0;
}
