/* sqlite - the embedded telemetry sink: one SQLite file.
 *
 * Opened once, migrated to the current schema in one IMMEDIATE transaction (two
 * processes opening the same file, say the milter and smime-verify, serialise on
 * it), then written in one transaction per batch.  WAL journal mode lets a report
 * read while the milter writes.  The connection is used by one thread at a time
 * (the writer, or the report tool), but is opened in serialized mode anyway.
 *
 * Built without <sqlite3.h>, smime_telemetry_sqlite_open() fails with a message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/telemetry/sink.h"
#include "smime/util/text.h"

#if defined(__has_include)
#if __has_include(<sqlite3.h>)
#define HAVE_SQLITE3 1
#endif
#endif

#ifndef HAVE_SQLITE3

/* Built before libsqlite3-dev was installed (tools/deps.sh installs it): the
 * library still builds, and the sink says why it cannot open. */
int smime_telemetry_sqlite_open(const char *path, int must_exist, smime_telemetry_sink **out,
                                char *err, size_t errlen)
{
    (void)must_exist;
    *out = NULL;
    if (err && errlen)
        snprintf(err, errlen, "sqlite: %s: this program was built without SQLite", path);
    return -1;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000
#define WAL_RETRY_MS    10
#define MIGRATION_SQL_MAX 16384
#define QUERY_SQL_MAX 2048

typedef struct sqlite_sink {
    sqlite3      *db;       /* owned */
    sqlite3_stmt *insert;   /* owned; prepared once */
} sqlite_sink;


static int exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        smime_errf(err, errlen, "sqlite: %s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Current schema version; 0 for a database without our tables. */
static int read_version(sqlite3 *db, int *version, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    *version = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'telemetry_meta'", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    int exists = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (!exists)
        return 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM telemetry_meta WHERE key = 'schema_version'",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            smime_errf(err, errlen, "sqlite: telemetry_meta has no schema_version");
        else
            smime_errf(err, errlen, "sqlite: reading the schema version: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    const char *v = (const char *)sqlite3_column_text(st, 0);
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || *end || n < 0) {
        smime_errf(err, errlen, "sqlite: schema_version is not a number: %s", v ? v : "NULL");
        sqlite3_finalize(st);
        return -1;
    }
    *version = (int)n;
    sqlite3_finalize(st);
    return 0;
fail:
    smime_errf(err, errlen, "sqlite: reading the schema version: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}

/* Switching to WAL needs the file to itself for a moment, and SQLite does not
 * call the busy handler for it while another connection is creating the same
 * file (two processes starting together), so busy is retried here, bounded. */
static int set_wal(sqlite3 *db, char *err, size_t errlen)
{
    for (int waited_ms = 0;; waited_ms += WAL_RETRY_MS) {
        int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= BUSY_TIMEOUT_MS) {
            smime_errf(err, errlen, "sqlite: setting WAL mode: %s", sqlite3_errmsg(db));
            return -1;
        }
        sqlite3_sleep(WAL_RETRY_MS);
    }
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    if (exec(db, "BEGIN IMMEDIATE", "starting the migration", err, errlen) < 0)
        return -1;
    int version;
    if (read_version(db, &version, err, errlen) < 0)
        goto rollback;
    if (version > SMIME_TELEMETRY_SCHEMA_VERSION) {
        smime_errf(err, errlen,
                "sqlite: database schema version %d is newer than this program's (%d); "
                "not touching it", version, SMIME_TELEMETRY_SCHEMA_VERSION);
        goto rollback;
    }
    for (int v = version + 1; v <= SMIME_TELEMETRY_SCHEMA_VERSION; v++) {
        char sql[MIGRATION_SQL_MAX];
        if (smime_telemetry_migration_sql(v, SMIME_TELEMETRY_SQLITE, sql, sizeof(sql)) < 0) {
            smime_errf(err, errlen, "sqlite: no migration to schema version %d", v);
            goto rollback;
        }
        char what[64];
        snprintf(what, sizeof(what), "migrating to schema version %d", v);
        if (exec(db, sql, what, err, errlen) < 0)
            goto rollback;
    }
    return exec(db, "COMMIT", "committing the migration", err, errlen);
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* The file holds which CAs and certificates this gateway saw: readable by its
 * owner only.  A new database is created here with mode 0600 before SQLite opens
 * it, because SQLite gives its -wal and -shm files the mode of the database file;
 * an existing one (and its -wal, -shm, -journal) that others can read is narrowed
 * to the owner's bits.  Returns 0, or -1 with err. */
static int make_private(const char *path, int must_exist, char *err, size_t errlen)
{
    if (!must_exist) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
        } else if (errno != EEXIST) {
            smime_errf(err, errlen, "sqlite: %s: %s", path, strerror(errno));
            return -1;
        }
    }
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[4096];
        if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffixes[i]) >= sizeof(p)) {
            smime_errf(err, errlen, "sqlite: %s: path too long", path);
            return -1;
        }
        struct stat st;
        if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & (S_IRWXG | S_IRWXO)))
            continue;
        if (st.st_uid == geteuid() && chmod(p, st.st_mode & 0700) < 0) {
            smime_errf(err, errlen, "sqlite: %s: cannot make it private: %s", p, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int sqlite_write(void *impl, const smime_telemetry_record *recs, size_t n, char *err,
                        size_t errlen)
{
    sqlite_sink *s = impl;
    if (exec(s->db, "BEGIN IMMEDIATE", "starting a write", err, errlen) < 0)
        return -1;
    for (size_t r = 0; r < n; r++) {
        const char *vals[SMIME_TELEMETRY_NCOLS];
        char numbuf[SMIME_TELEMETRY_NCOLS * 24];
        smime_telemetry_record_values(&recs[r], vals, numbuf);
        sqlite3_reset(s->insert);
        sqlite3_clear_bindings(s->insert);
        for (int i = 0; i < SMIME_TELEMETRY_NCOLS; i++)
            sqlite3_bind_text(s->insert, i + 1, vals[i], -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s->insert) != SQLITE_DONE) {
            smime_errf(err, errlen, "sqlite: insert: %s", sqlite3_errmsg(s->db));
            sqlite3_reset(s->insert);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    sqlite3_reset(s->insert);
    if (exec(s->db, "COMMIT", "committing a write", err, errlen) < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int sqlite_query(void *impl, const char *since_day, const char *until_day,
                        smime_telemetry_row_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite_sink *s = impl;
    char sql[QUERY_SQL_MAX];
    snprintf(sql, sizeof(sql),
             "SELECT %s, count(*) FROM signature WHERE day >= ?1 AND day <= ?2 GROUP BY %s "
             "ORDER BY %s", smime_telemetry_column_list, smime_telemetry_column_list,
             smime_telemetry_column_list);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        smime_errf(err, errlen, "sqlite: query: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    /* ISO dates compare as text; these bounds are below and above every date. */
    sqlite3_bind_text(st, 1, since_day ? since_day : "0000-00-00", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, until_day ? until_day : "9999-99-99", -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *vals[SMIME_TELEMETRY_NCOLS];
        for (int i = 0; i < SMIME_TELEMETRY_NCOLS; i++)
            vals[i] = (const char *)sqlite3_column_text(st, i);
        smime_telemetry_record rec;
        if (smime_telemetry_record_parse(vals, &rec) < 0) {
            smime_errf(err, errlen, "sqlite: a stored row has a malformed number");
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_int64 count = sqlite3_column_int64(st, SMIME_TELEMETRY_NCOLS);
        if (fn(&rec, (uint64_t)count, ctx) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        smime_errf(err, errlen, "sqlite: query: %s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int sqlite_sql(void *impl, const char *sql, smime_telemetry_sql_row_fn fn, void *ctx,
                      char *err, size_t errlen)
{
    sqlite_sink *s = impl;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        smime_errf(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    int ncols = sqlite3_column_count(st);
    if (ncols > SMIME_TELEMETRY_SQL_COLS_MAX) {
        smime_errf(err, errlen, "sqlite: more than %d result columns",
                   SMIME_TELEMETRY_SQL_COLS_MAX);
        sqlite3_finalize(st);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *vals[SMIME_TELEMETRY_SQL_COLS_MAX];
        for (int i = 0; i < ncols; i++)
            vals[i] = (const char *)sqlite3_column_text(st, i);
        if (fn && fn(vals, ncols, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        smime_errf(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 0;
}

static int sqlite_schema_version(void *impl, int *version, char *err, size_t errlen)
{
    sqlite_sink *s = impl;
    return read_version(s->db, version, err, errlen);
}

static void sqlite_close(void *impl)
{
    sqlite_sink *s = impl;
    if (!s)
        return;
    sqlite3_finalize(s->insert);
    sqlite3_close(s->db);
    free(s);
}

static const smime_telemetry_sink_ops sqlite_ops = {
    .name = "sqlite",
    .write = sqlite_write,
    .query = sqlite_query,
    .schema_version = sqlite_schema_version,
    .close = sqlite_close,
    .sql = sqlite_sql,
};

int smime_telemetry_sqlite_open(const char *path, int must_exist, smime_telemetry_sink **out,
                                char *err, size_t errlen)
{
    *out = NULL;
    sqlite_sink *s = calloc(1, sizeof(*s));
    if (!s) {
        smime_errf(err, errlen, "sqlite: out of memory");
        return -1;
    }
    if (make_private(path, must_exist, err, errlen) < 0) {
        free(s);
        return -1;
    }
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | (must_exist ? 0 : SQLITE_OPEN_CREATE) |
                                 SQLITE_OPEN_FULLMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        smime_errf(err, errlen, "sqlite: %s: %s", path,
                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sqlite_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    char sql[QUERY_SQL_MAX];
    int o = snprintf(sql, sizeof(sql), "INSERT INTO signature (%s) VALUES (",
                     smime_telemetry_column_list);
    for (int i = 0; i < SMIME_TELEMETRY_NCOLS; i++)
        o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s?", i ? "," : "");
    snprintf(sql + o, sizeof(sql) - (size_t)o, ")");
    if (set_wal(s->db, err, errlen) < 0 || migrate(s->db, err, errlen) < 0) {
        char why[512];
        snprintf(why, sizeof(why), "%s", err ? err : "");
        smime_errf(err, errlen, "%s: %s", path, why);
        sqlite_close(s);
        return -1;
    }
    if (sqlite3_prepare_v2(s->db, sql, -1, &s->insert, NULL) != SQLITE_OK) {
        smime_errf(err, errlen, "sqlite: %s: preparing the insert: %s", path, sqlite3_errmsg(s->db));
        sqlite_close(s);
        return -1;
    }
    *out = smime_telemetry_sink_new(&sqlite_ops, s);
    if (!*out) {
        smime_errf(err, errlen, "sqlite: out of memory");
        return -1;
    }
    return 0;
}

#endif
