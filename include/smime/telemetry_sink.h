/* telemetry_sink - what the SQLite and PostgreSQL back ends share: the columns of
 * a record, the schema and its migrations.  Internal to the telemetry modules.
 *
 * The schema is one list of migrations; version N is migrations 1..N applied in
 * order, each in the same transaction as the version bump, so a database is
 * always at exactly one version.  Both back ends run the same statements except
 * where their dialects differ (the id column), which is marked by the token @ID@. */
#ifndef SMIME_TELEMETRY_SINK_H
#define SMIME_TELEMETRY_SINK_H

#include <stddef.h>
#include "smime/telemetry.h"

#define SMIME_TELEMETRY_NCOLS 19

/* The column names, in the order of the record fields below; for SQL text. */
extern const char *const smime_telemetry_columns[SMIME_TELEMETRY_NCOLS];
/* "day,result,...": all column names comma-separated. */
extern const char smime_telemetry_column_list[];

/* Text values of a record's columns, in column order.  Integer columns are
 * formatted into numbuf (at least SMIME_TELEMETRY_NCOLS * 24 bytes); the string
 * pointers point into rec and numbuf. */
void smime_telemetry_record_values(const smime_telemetry_record *rec,
                                   const char *vals[SMIME_TELEMETRY_NCOLS], char *numbuf);
/* Fills a record from column values in the same order (NULL = ""); values too
 * long for a field are cut.  Returns 0, or -1 when an integer column is not one. */
int smime_telemetry_record_parse(const char *const vals[SMIME_TELEMETRY_NCOLS],
                                 smime_telemetry_record *rec);

/* SQL of migration `to_version` (1..SMIME_TELEMETRY_SCHEMA_VERSION), with @ID@
 * replaced by id_column, into out.  Statements are separated by ';'.  Returns 0,
 * or -1 when the version is unknown or out is too small. */
int smime_telemetry_migration_sql(int to_version, const char *id_column, char *out,
                                  size_t outlen);

#endif
