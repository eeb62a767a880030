/* libFuzzer target: arbitrary bytes -> the configuration parser
 * (smime_config_parse, milter/config.c).  Besides the sanitizers' checks it aborts
 * when a promise of milter/config.h is broken: the error message is a
 * terminated string naming the source, every string field of an accepted
 * configuration is terminated inside its array, an accepted Socket is one the
 * daemon can listen on, and parsing is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../milter/config.c"

#define FIELD_OK(c, f) (memchr((c)->f, '\0', sizeof((c)->f)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static smime_config a, b; /* large (several KB of paths): not on the stack */
    char err[512], err2[512];
    memset(err, 'x', sizeof(err));
    int rc = smime_config_parse((const char *)data, size, "fuzz.conf", &a, err, sizeof(err));
    if (rc != 0 && rc != -1)
        abort();
    if (rc < 0) {
        if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz.conf", 9) != 0)
            abort();
    } else {
        if (!FIELD_OK(&a, socket) || !FIELD_OK(&a, authserv_id) || !FIELD_OK(&a, trust_anchors) ||
            !FIELD_OK(&a, user_id) || !FIELD_OK(&a, pid_file) || !FIELD_OK(&a, syslog_facility) ||
            !FIELD_OK(&a, peer_list) || !FIELD_OK(&a, temp_dir) || !FIELD_OK(&a, revocation_cache) ||
            !FIELD_OK(&a, crl_dir) || !FIELD_OK(&a, telemetry))
            abort();
        if (a.trust_anchors[0] == '\0')
            abort();
        if (a.socket[0] && !smime_config_socket_valid(a.socket))
            abort();
        if (a.memory_limit > a.max_message_size)
            abort();
    }
    int rc2 = smime_config_parse((const char *)data, size, "fuzz.conf", &b, err2, sizeof(err2));
    if (rc2 != rc || (rc < 0 && strcmp(err, err2) != 0))
        abort();
    return 0;
}
