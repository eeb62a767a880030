/* sink - the storage interface: what a back end provides (ops), the sink object
 * that wraps one, the back ends themselves, and what the SQLite and PostgreSQL
 * back ends share (the columns of a record, the schema and its migrations).  The
 * back ends include only this, never the writer (telemetry.h) that opens them.
 *
 * The schema is one list of migrations; version N is migrations 1..N applied in
 * order, each in the same transaction as the version bump, so a database is
 * always at exactly one version.  Both back ends run the same statements except
 * where their dialects differ (the id column), which is marked by the token @ID@. */
#ifndef SMIME_TELEMETRY_SINK_H
#define SMIME_TELEMETRY_SINK_H

#include <stddef.h>
#include <stdint.h>
#include "smime/telemetry/record.h"

/* Called once per group of identical records in a query; return non-zero to stop. */
typedef int (*smime_telemetry_row_fn)(const smime_telemetry_record *rec, uint64_t count,
                                      void *ctx);

/* Called once per result row of smime_telemetry_sink_sql: ncols values as text
 * (NULL for SQL NULL), valid during the call; return non-zero to stop. */
typedef int (*smime_telemetry_sql_row_fn)(const char *const *vals, int ncols, void *ctx);

/* What a storage back end provides.  impl is the back end's own state.  Every
 * function returns 0, or -1 with a message for people in err. */
typedef struct smime_telemetry_sink_ops {
    const char *name;                                       /* "sqlite", "postgresql" */
    int  (*write)(void *impl, const smime_telemetry_record *recs, size_t n,
                  char *err, size_t errlen);                /* all n or none */
    int  (*query)(void *impl, const char *since_day, const char *until_day,
                  smime_telemetry_row_fn fn, void *ctx, char *err, size_t errlen);
    int  (*schema_version)(void *impl, int *version, char *err, size_t errlen);
    void (*close)(void *impl);
    /* One SQL statement of the back end's dialect (name says which), run on the
     * server; rows, if any, go to fn (NULL: none expected).  For reports that
     * aggregate where the data is (temporary tables, GROUP BY): the statement text
     * is the caller's and must not carry outside input. */
    int  (*sql)(void *impl, const char *sql, smime_telemetry_sql_row_fn fn, void *ctx,
                char *err, size_t errlen);
} smime_telemetry_sink_ops;

typedef struct smime_telemetry_sink smime_telemetry_sink;

/* Wraps a back end of the caller's (tests, other stores).  Takes ownership of impl:
 * ops->close(impl) runs at smime_telemetry_sink_close().  NULL when out of memory
 * (impl is then closed). */
smime_telemetry_sink *smime_telemetry_sink_new(const smime_telemetry_sink_ops *ops, void *impl);
void smime_telemetry_sink_close(smime_telemetry_sink *sink);
const char *smime_telemetry_sink_name(const smime_telemetry_sink *sink);
int smime_telemetry_sink_write(smime_telemetry_sink *sink, const smime_telemetry_record *recs,
                               size_t n, char *err, size_t errlen);
/* Days are "YYYY-MM-DD" bounds, inclusive; NULL = open. */
int smime_telemetry_sink_query(smime_telemetry_sink *sink, const char *since_day,
                               const char *until_day, smime_telemetry_row_fn fn, void *ctx,
                               char *err, size_t errlen);
int smime_telemetry_sink_schema_version(smime_telemetry_sink *sink, int *version, char *err,
                                        size_t errlen);
/* ops->sql; -1 with err for a back end without it. */
int smime_telemetry_sink_sql(smime_telemetry_sink *sink, const char *sql,
                             smime_telemetry_sql_row_fn fn, void *ctx, char *err, size_t errlen);

/* The back ends (also reachable through smime_telemetry_sink_open). */
/* must_exist: fail on a missing file rather than create it. */
int smime_telemetry_sqlite_open(const char *path, int must_exist, smime_telemetry_sink **out,
                                char *err, size_t errlen);
int smime_telemetry_pg_open(const char *conninfo, smime_telemetry_sink **out, char *err,
                            size_t errlen);
/* 0 when libpq parses conninfo, else -1 with its message. */
int smime_telemetry_pg_uri_check(const char *conninfo, char *err, size_t errlen);
/* The same, except that a server that cannot be reached now is not an error: the
 * sink is returned with *connected 0 and the reason in err, and connects (and
 * migrates) on its next use.  A malformed URI is still an error (-1). */
int smime_telemetry_pg_open_lazy(const char *conninfo, smime_telemetry_sink **out,
                                 int *connected, char *err, size_t errlen);

/* ---- shared by the back ends ---- */

#define SMIME_TELEMETRY_NCOLS 24
/* Result columns smime_telemetry_sink_sql hands to its callback at most: a
 * record's columns and a few more (a count). */
#define SMIME_TELEMETRY_SQL_COLS_MAX (SMIME_TELEMETRY_NCOLS + 8)

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

/* SQL of migration `to_version` (1..SMIME_TELEMETRY_SCHEMA_VERSION) in the
 * dialect's text, with @ID@ replaced by its integer key column, into out.
 * Statements are separated by ';'.  Returns 0, or -1 when the version or the
 * dialect is unknown or out is too small. */
typedef enum { SMIME_TELEMETRY_SQLITE, SMIME_TELEMETRY_POSTGRESQL } smime_telemetry_dialect;
int smime_telemetry_migration_sql(int to_version, smime_telemetry_dialect dialect, char *out,
                                  size_t outlen);

#endif
