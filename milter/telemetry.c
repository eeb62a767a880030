/* telemetry - the daemon's one telemetry writer: started once after the switch of
 * user, lent to connection threads per message, and flushed at shutdown.  Its
 * owner is this file alone, so main.c (start, shutdown) and callbacks.c (acquire,
 * release) never call each other for it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "milter.h"
#include "smime/telemetry/telemetry.h"

static milter_lease telemetry_lease = MILTER_LEASE_INIT;

smime_telemetry *telemetry_acquire(void)
{
    return lease_acquire(&telemetry_lease);
}

void telemetry_release(void)
{
    lease_release(&telemetry_lease);
}

/* Takes the handle away from new users, waits (bounded) for the current ones, then
 * flushes and closes it.  A connection thread still holding it after the wait
 * keeps it: it is then left to process exit rather than freed under that thread. */
void telemetry_shutdown(void)
{
    unsigned busy;
    smime_telemetry *t = lease_take(&telemetry_lease, 5, &busy);
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

/* The HMAC key for hashed sender domains: the file's first
 * SMIME_TELEMETRY_KEY_MAX bytes (read after the switch of user, like the
 * database).  Returns 0, or -1 (logged). */
static int read_hmac_key(const char *path, smime_telemetry_privacy *priv)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        log_msg(LOG_ERR, "TelemetryHMACKeyFile %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(priv->key, 1, sizeof(priv->key), f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0) {
        log_msg(LOG_ERR, "TelemetryHMACKeyFile %s: %s", path, bad ? "read error" : "empty");
        return -1;
    }
    priv->key_len = n;
    return 0;
}

/* The CAA checker for the writer: libunbound towards CAAResolver (or
 * resolv.conf), the issuer map.  Returns 0, or -1 (logged). */
static int caa_make(const smime_config *cfg, smime_caa_checker **out)
{
    char err[512];
    smime_caa_map *map = NULL;
    if (cfg->caa_issuer_map[0] && smime_caa_map_load(cfg->caa_issuer_map, &map, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "CAAIssuerMap: %s", err);
        return -1;
    }
    smime_caa_resolver r;
    if (smime_caa_unbound_new(cfg->caa_resolver[0] ? cfg->caa_resolver : NULL, &r, err,
                              sizeof(err)) < 0) {
        log_msg(LOG_ERR, "CAAResolver: %s", err);
        smime_caa_map_free(map);
        return -1;
    }
    smime_caa_options o = { .timeout_ms = cfg->caa_timeout_ms, .cache_max = cfg->caa_cache };
    if (smime_caa_checker_new(&o, r, map, out, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "CAALookup: %s", err);
        return -1;
    }
    return 0;
}

int telemetry_start(const smime_config *cfg)
{
    smime_telemetry_options topt;
    smime_telemetry_options_default(&topt);
    topt.log = telemetry_log;
    topt.privacy.domain_mode = (smime_telemetry_domain_mode)cfg->telemetry_sender_domain;
    if (topt.privacy.domain_mode == SMIME_TELEMETRY_DOMAIN_HMAC &&
        read_hmac_key(cfg->telemetry_hmac_key, &topt.privacy) < 0)
        return -1;
    if (cfg->caa_lookup) {
        if (caa_make(cfg, &topt.caa) < 0)
            return -1;
        topt.privacy.caa_lookup = 1;
    }
    char err[512];
    smime_telemetry *t = NULL;
    /* topt.caa is the writer's from here on, also when this fails */
    if (smime_telemetry_open(cfg->telemetry, &topt, &t, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "Telemetry %s: %s", cfg->telemetry, err);
        return -1;
    }
    if (cfg->caa_lookup)
        log_msg(LOG_INFO, "telemetry: CAA for S/MIME looked up through %s, %u ms per batch",
                cfg->caa_resolver[0] ? cfg->caa_resolver : "resolv.conf", cfg->caa_timeout_ms);
    lease_set(&telemetry_lease, t);
    return 0;
}
