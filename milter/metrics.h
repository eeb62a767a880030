/* metrics - the daemon's counters, and the Prometheus endpoint that serves them.
 *
 * The counters are process-wide atomics: connection threads add to them without a
 * lock, a scrape reads each one once (a scrape taken while mail flows may see one
 * message in some counters and not yet in others; each counter only grows).  They
 * are counted whether or not MetricsSocket is set - an atomic add per message is
 * nothing next to a verification - and served only when it is.  Label values are
 * fixed words of ours (results, actions, statuses), never text from mail, so the
 * number of series is fixed.  smime-milter(8) (METRICS) lists every name. */
#ifndef SMIME_MILTER_METRICS_H
#define SMIME_MILTER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "smime/report/report.h"
#include "smime/revocation/transport.h"
#include "smime/telemetry/telemetry.h"
#include "smime/util/buf.h"
#include "smime/verdict/policy.h"

/* Why a message was let through without a check. */
typedef enum metrics_unchecked {
    METRICS_UNCHECKED_PEERLIST = 0,
    METRICS_UNCHECKED_AUTHENTICATED,
    METRICS_UNCHECKED_COUNT,
} metrics_unchecked;

/* One message the core checked (or found too large to check): its result and
 * action, each signature's result, each certificate's revocation answer, and the
 * time the core took in seconds (< 0: not timed, e.g. too large to check). */
void metrics_message(const smime_report *r, smime_result result, smime_action action,
                     double verify_seconds);
/* A message that met an internal error, and the action On-InternalError took. */
void metrics_internal_error(smime_action action);
void metrics_unchecked_message(metrics_unchecked why);
/* A SIGHUP: ok = the new configuration is in use; 0 = refused, the old one stays. */
void metrics_reload(int ok);
/* One transport call of the revocation checker, with its outcome. */
void metrics_revocation_fetch(smime_fetch_rc rc);

/* What a scrape adds from other owners (the telemetry writer). */
typedef struct metrics_extra {
    int                   have_telemetry;     /* Telemetry is configured and open */
    smime_telemetry_stats telemetry;
} metrics_extra;
typedef void (*metrics_collect_fn)(metrics_extra *x);

/* The text exposition format (version 0.0.4) of every counter plus `x` (NULL:
 * nothing extra) into out.  Returns 0, or -1 when out's cap was reached. */
int metrics_render(const metrics_extra *x, smime_buf *out);

/* Binds and listens on the MetricsSocket address (before privileges are dropped,
 * so any port works).  Returns 0, or -1 with the reason in err. */
int metrics_listen(const struct sockaddr *addr, socklen_t len, char *err, size_t errlen);
/* Serves GET /metrics on the listening socket from a thread of libmicrohttpd;
 * `collect` (may be NULL) is called on that thread for every scrape.  Returns 0,
 * or -1 with the reason in err. */
int metrics_start(metrics_collect_fn collect, char *err, size_t errlen);
/* Stops the server (waits for a scrape in progress) and closes the socket. */
void metrics_stop(void);
/* The port the listening socket is bound to (for a test that asked for port 0). */
int metrics_port(void);

#endif
