/* log - one place that decides where the daemon's messages go: syslog, or stderr
 * when Syslog is off (foreground debugging, tests). */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "milter.h"

static int log_to_syslog;
static atomic_int log_echo_errors;      /* log_startup(); read by every thread */

static int facility_code(const char *name)
{
    static const struct { const char *name; int code; } map[] = {
        { "mail", LOG_MAIL },     { "daemon", LOG_DAEMON }, { "user", LOG_USER },
        { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
        { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
        { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, name) == 0)
            return map[i].code;
    return LOG_MAIL;
}

void log_open(int use_syslog, const char *facility)
{
    if (log_to_syslog)
        closelog();
    log_to_syslog = use_syslog;
    if (use_syslog)
        openlog(SMIME_MILTER_NAME, LOG_PID | LOG_NDELAY, facility_code(facility));
}

void log_msg(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (log_to_syslog) {
        va_list copy;
        va_copy(copy, ap);
        vsyslog(prio, fmt, ap);
        if (log_echo_errors && prio <= LOG_ERR) {
            char line[2048];
            vsnprintf(line, sizeof(line), fmt, copy);
            fprintf(stderr, "%s: %s\n", SMIME_MILTER_NAME, line);
        }
        va_end(copy);
    } else {
        /* one fprintf per line so lines from threads do not interleave */
        char line[2048];
        vsnprintf(line, sizeof(line), fmt, ap);
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s %s: %s\n", stamp, SMIME_MILTER_NAME, line);
    }
    va_end(ap);
}

void log_startup(int on)
{
    log_echo_errors = on;
}
