/* sink - the sink object over a back end's ops (see include/smime/telemetry/sink.h). */
#include "smime/telemetry/sink.h"

#include <stdlib.h>
#include "smime/util/text.h"

struct smime_telemetry_sink {
    const smime_telemetry_sink_ops *ops;   /* borrowed, static */
    void *impl;                            /* owned through ops->close */
};

smime_telemetry_sink *smime_telemetry_sink_new(const smime_telemetry_sink_ops *ops, void *impl)
{
    smime_telemetry_sink *s = calloc(1, sizeof(*s));
    if (!s) {
        ops->close(impl);
        return NULL;
    }
    s->ops = ops;
    s->impl = impl;
    return s;
}

void smime_telemetry_sink_close(smime_telemetry_sink *sink)
{
    if (!sink)
        return;
    sink->ops->close(sink->impl);
    free(sink);
}

const char *smime_telemetry_sink_name(const smime_telemetry_sink *sink)
{
    return sink->ops->name;
}

int smime_telemetry_sink_write(smime_telemetry_sink *sink, const smime_telemetry_record *recs,
                               size_t n, char *err, size_t errlen)
{
    return sink->ops->write(sink->impl, recs, n, err, errlen);
}

int smime_telemetry_sink_query(smime_telemetry_sink *sink, const char *since_day,
                               const char *until_day, smime_telemetry_row_fn fn, void *ctx,
                               char *err, size_t errlen)
{
    if (!sink->ops->query) {
        smime_errf(err, errlen, "%s sink cannot be read", sink->ops->name);
        return -1;
    }
    return sink->ops->query(sink->impl, since_day, until_day, fn, ctx, err, errlen);
}

int smime_telemetry_sink_schema_version(smime_telemetry_sink *sink, int *version, char *err,
                                        size_t errlen)
{
    if (!sink->ops->schema_version) {
        smime_errf(err, errlen, "%s sink has no schema", sink->ops->name);
        return -1;
    }
    return sink->ops->schema_version(sink->impl, version, err, errlen);
}

int smime_telemetry_sink_sql(smime_telemetry_sink *sink, const char *sql,
                             smime_telemetry_sql_row_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!sink->ops->sql) {
        smime_errf(err, errlen, "%s sink cannot run SQL", sink->ops->name);
        return -1;
    }
    return sink->ops->sql(sink->impl, sql, fn, ctx, err, errlen);
}
