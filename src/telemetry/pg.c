/* pg - the fleet telemetry sink: a PostgreSQL database (libpq) that
 * many gateways write to, with the same schema as the SQLite sink.
 *
 * Migration runs in one transaction under a transaction-scoped advisory lock, so
 * gateways starting together migrate once.  A batch is one transaction; a lost
 * connection is reset before the next batch (the failed batch is the caller's to
 * count).  The connection is used by one thread at a time.
 *
 * Built without libpq (no <libpq-fe.h>, i.e. before the build asks pkg-config for
 * libpq's flags), smime_telemetry_pg_open() fails with a message instead. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/telemetry/sink.h"
#include "smime/util/text.h"


#if defined(__has_include)
#if __has_include(<libpq-fe.h>)
#define HAVE_LIBPQ 1
#endif
#endif

#ifndef HAVE_LIBPQ

int smime_telemetry_pg_open(const char *conninfo, smime_telemetry_sink **out, char *err,
                            size_t errlen)
{
    (void)conninfo;
    *out = NULL;
    smime_errf(err, errlen, "postgresql: this program was built without libpq");
    return -1;
}

int smime_telemetry_pg_open_lazy(const char *conninfo, smime_telemetry_sink **out,
                                 int *connected, char *err, size_t errlen)
{
    *connected = 0;
    return smime_telemetry_pg_open(conninfo, out, err, errlen);
}

int smime_telemetry_pg_uri_check(const char *conninfo, char *err, size_t errlen)
{
    (void)conninfo;
    smime_errf(err, errlen, "postgresql: this program was built without libpq");
    return -1;
}

#else

#include <libpq-fe.h>

#define MIGRATION_SQL_MAX 16384
#define QUERY_SQL_MAX 2048
#define MIGRATION_LOCK_KEY "5366521389"   /* any constant: "smime telemetry migration" */

typedef struct pg_sink {
    PGconn *conn;        /* owned; NULL until a connection was made */
    char   *conninfo;    /* owned copy, for connecting later */
    int     migrated;    /* the schema is known to be current */
    char insert_sql[QUERY_SQL_MAX];
} pg_sink;

/* libpq's messages end with a newline; ours do not. */
static const char *pg_message(PGconn *conn)
{
    static const char none[] = "unknown error";
    const char *m = PQerrorMessage(conn);
    return m && *m ? m : none;
}

static void set_pg_err(char *err, size_t errlen, const char *what, PGconn *conn)
{
    smime_errf(err, errlen, "postgresql: %s: %s", what, pg_message(conn));
    if (err) {
        size_t n = strlen(err);
        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == '\r'))
            err[--n] = '\0';
    }
}

/* Runs a statement without parameters; any non-success status is an error. */
static int exec(PGconn *conn, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_pg_err(err, errlen, what, conn);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;   /* notices are not errors; errors come back as results */
}

static int read_version(PGconn *conn, int *version, char *err, size_t errlen)
{
    *version = 0;
    PGresult *res = PQexec(conn, "SELECT to_regclass('telemetry_meta') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        set_pg_err(err, errlen, "reading the schema version", conn);
        PQclear(res);
        return -1;
    }
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists)
        return 0;
    res = PQexec(conn, "SELECT value FROM telemetry_meta WHERE key = 'schema_version'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        set_pg_err(err, errlen, "reading the schema version", conn);
        PQclear(res);
        return -1;
    }
    const char *v = PQgetvalue(res, 0, 0);
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0) {
        smime_errf(err, errlen, "postgresql: schema_version is not a number: %s", v);
        PQclear(res);
        return -1;
    }
    *version = (int)n;
    PQclear(res);
    return 0;
}

static int migrate(PGconn *conn, char *err, size_t errlen)
{
    if (exec(conn, "BEGIN", "starting the migration", err, errlen) < 0)
        return -1;
    if (exec(conn, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")",
             "locking for the migration", err, errlen) < 0)
        goto rollback;
    int version;
    if (read_version(conn, &version, err, errlen) < 0)
        goto rollback;
    if (version > SMIME_TELEMETRY_SCHEMA_VERSION) {
        smime_errf(err, errlen,
                "postgresql: database schema version %d is newer than this program's (%d); "
                "not touching it", version, SMIME_TELEMETRY_SCHEMA_VERSION);
        goto rollback;
    }
    for (int v = version + 1; v <= SMIME_TELEMETRY_SCHEMA_VERSION; v++) {
        char sql[MIGRATION_SQL_MAX];
        if (smime_telemetry_migration_sql(v, SMIME_TELEMETRY_POSTGRESQL, sql, sizeof(sql)) < 0) {
            smime_errf(err, errlen, "postgresql: no migration to schema version %d", v);
            goto rollback;
        }
        char what[64];
        snprintf(what, sizeof(what), "migrating to schema version %d", v);
        if (exec(conn, sql, what, err, errlen) < 0)
            goto rollback;
    }
    return exec(conn, "COMMIT", "committing the migration", err, errlen);
rollback:
    exec(conn, "ROLLBACK", "rollback", NULL, 0);
    return -1;
}

/* Connects (or reconnects a lost connection) and migrates once.  Called before
 * every use, so a server that was down at start or restarted since is picked up
 * by the next batch; one attempt per call, never a retry loop. */
static int ensure_ready(pg_sink *s, char *err, size_t errlen)
{
    if (!s->conn) {
        s->conn = PQconnectdb(s->conninfo);
        if (!s->conn) {
            smime_errf(err, errlen, "postgresql: out of memory");
            return -1;
        }
        PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    } else if (PQstatus(s->conn) != CONNECTION_OK) {
        PQreset(s->conn);
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        set_pg_err(err, errlen, "connecting", s->conn);
        return -1;
    }
    if (!s->migrated) {
        if (migrate(s->conn, err, errlen) < 0)
            return -1;
        s->migrated = 1;
    }
    return 0;
}

/* SQLSTATEs after which the same transaction, run again, may succeed: writers
 * that meet in the roll-up rows the triggers keep can deadlock (40P01) or fail
 * to serialise (40001), and PostgreSQL then aborts one of them. */
static int pg_retryable(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0);
}

#define PG_WRITE_ATTEMPTS 3     /* a transaction aborted by a deadlock, run again */

/* One transaction writing recs; -1 with *retry set when PostgreSQL aborted it
 * in a way worth running again. */
static int pg_write_once(pg_sink *s, const smime_telemetry_record *recs, size_t n, int *retry,
                         char *err, size_t errlen)
{
    *retry = 0;
    if (exec(s->conn, "BEGIN", "starting a write", err, errlen) < 0)
        return -1;
    for (size_t r = 0; r < n; r++) {
        const char *vals[SMIME_TELEMETRY_NCOLS];
        char numbuf[SMIME_TELEMETRY_NCOLS * 24];
        smime_telemetry_record_values(&recs[r], vals, numbuf);
        PGresult *res = PQexecParams(s->conn, s->insert_sql, SMIME_TELEMETRY_NCOLS, NULL, vals,
                                     NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            set_pg_err(err, errlen, "insert", s->conn);
            *retry = pg_retryable(res);
            PQclear(res);
            exec(s->conn, "ROLLBACK", "rollback", NULL, 0);
            return -1;
        }
        PQclear(res);
    }
    PGresult *res = PQexec(s->conn, "COMMIT");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        set_pg_err(err, errlen, "committing a write", s->conn);
        *retry = pg_retryable(res);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

static int pg_write(void *impl, const smime_telemetry_record *recs, size_t n, char *err,
                    size_t errlen)
{
    pg_sink *s = impl;
    if (ensure_ready(s, err, errlen) < 0)
        return -1;
    for (int attempt = 0; attempt < PG_WRITE_ATTEMPTS; attempt++) {
        int retry;
        if (pg_write_once(s, recs, n, &retry, err, errlen) == 0)
            return 0;
        if (!retry)
            break;
    }
    return -1;
}

static int pg_query(void *impl, const char *since_day, const char *until_day,
                    smime_telemetry_row_fn fn, void *ctx, char *err, size_t errlen)
{
    pg_sink *s = impl;
    if (ensure_ready(s, err, errlen) < 0)
        return -1;
    char sql[QUERY_SQL_MAX];
    snprintf(sql, sizeof(sql),
             "SELECT %s, count(*) FROM signature WHERE day >= $1 AND day <= $2 GROUP BY %s "
             "ORDER BY %s", smime_telemetry_column_list, smime_telemetry_column_list,
             smime_telemetry_column_list);
    const char *params[2] = { since_day ? since_day : "0000-00-00",
                              until_day ? until_day : "9999-99-99" };
    PGresult *res = PQexecParams(s->conn, sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        set_pg_err(err, errlen, "query", s->conn);
        PQclear(res);
        return -1;
    }
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++) {
        const char *vals[SMIME_TELEMETRY_NCOLS];
        for (int i = 0; i < SMIME_TELEMETRY_NCOLS; i++)
            vals[i] = PQgetvalue(res, r, i);
        smime_telemetry_record rec;
        if (smime_telemetry_record_parse(vals, &rec) < 0) {
            smime_errf(err, errlen, "postgresql: a stored row has a malformed number");
            PQclear(res);
            return -1;
        }
        uint64_t count = strtoull(PQgetvalue(res, r, SMIME_TELEMETRY_NCOLS), NULL, 10);
        if (fn(&rec, count, ctx) != 0)
            break;
    }
    PQclear(res);
    return 0;
}

static int pg_sql(void *impl, const char *sql, smime_telemetry_sql_row_fn fn, void *ctx,
                  char *err, size_t errlen)
{
    pg_sink *s = impl;
    if (ensure_ready(s, err, errlen) < 0)
        return -1;
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_pg_err(err, errlen, "query", s->conn);
        PQclear(res);
        return -1;
    }
    int ncols = PQnfields(res), rows = PQntuples(res);
    if (ncols > SMIME_TELEMETRY_SQL_COLS_MAX) {
        smime_errf(err, errlen, "postgresql: more than %d result columns",
                   SMIME_TELEMETRY_SQL_COLS_MAX);
        PQclear(res);
        return -1;
    }
    for (int r = 0; r < rows && fn; r++) {
        const char *vals[SMIME_TELEMETRY_SQL_COLS_MAX];
        for (int i = 0; i < ncols; i++)
            vals[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
        if (fn(vals, ncols, ctx) != 0)
            break;
    }
    PQclear(res);
    return 0;
}

static int pg_schema_version(void *impl, int *version, char *err, size_t errlen)
{
    pg_sink *s = impl;
    if (ensure_ready(s, err, errlen) < 0)
        return -1;
    return read_version(s->conn, version, err, errlen);
}

static void pg_close(void *impl)
{
    pg_sink *s = impl;
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    free(s->conninfo);
    free(s);
}

static const smime_telemetry_sink_ops pg_ops = {
    .name = "postgresql",
    .write = pg_write,
    .query = pg_query,
    .schema_version = pg_schema_version,
    .close = pg_close,
    .sql = pg_sql,
};

int smime_telemetry_pg_uri_check(const char *conninfo, char *err, size_t errlen)
{
    char *parse_err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &parse_err);
    if (!opts) {
        smime_errf(err, errlen, "postgresql: bad connection URI: %s",
                parse_err ? parse_err : "out of memory");
        if (err) {
            size_t n = strlen(err);
            while (n > 0 && err[n - 1] == '\n')
                err[--n] = '\0';
        }
        PQfreemem(parse_err);
        return -1;
    }
    PQconninfoFree(opts);
    return 0;
}

/* Makes the sink; connects and migrates now unless `lazy`.  A lazy sink whose
 * first connection fails is still returned (with the error in err and
 * *connected 0): its writer connects on the next batch. */
static int pg_make(const char *conninfo, int lazy, smime_telemetry_sink **out, int *connected,
                   char *err, size_t errlen)
{
    *out = NULL;
    *connected = 0;
    if (smime_telemetry_pg_uri_check(conninfo, err, errlen) < 0)
        return -1;
    pg_sink *s = calloc(1, sizeof(*s));
    if (!s || !(s->conninfo = strdup(conninfo))) {
        free(s);
        smime_errf(err, errlen, "postgresql: out of memory");
        return -1;
    }
    int o = snprintf(s->insert_sql, sizeof(s->insert_sql), "INSERT INTO signature (%s) VALUES (",
                     smime_telemetry_column_list);
    for (int i = 1; i <= SMIME_TELEMETRY_NCOLS; i++)
        o += snprintf(s->insert_sql + o, sizeof(s->insert_sql) - (size_t)o, "%s$%d",
                      i > 1 ? "," : "", i);
    snprintf(s->insert_sql + o, sizeof(s->insert_sql) - (size_t)o, ")");
    if (ensure_ready(s, err, errlen) == 0) {
        *connected = 1;
    } else if (!lazy) {
        pg_close(s);
        return -1;
    }
    *out = smime_telemetry_sink_new(&pg_ops, s);
    if (!*out) {
        smime_errf(err, errlen, "postgresql: out of memory");
        return -1;
    }
    return 0;
}

int smime_telemetry_pg_open(const char *conninfo, smime_telemetry_sink **out, char *err,
                            size_t errlen)
{
    int connected;
    return pg_make(conninfo, 0, out, &connected, err, errlen);
}

int smime_telemetry_pg_open_lazy(const char *conninfo, smime_telemetry_sink **out,
                                 int *connected, char *err, size_t errlen)
{
    return pg_make(conninfo, 1, out, connected, err, errlen);
}

#endif
