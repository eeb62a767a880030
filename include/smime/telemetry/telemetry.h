/* telemetry - privacy-safe records of what S/MIME looks like in the wild, and the
 * sinks that store them (SQLite file, PostgreSQL), written off the mail path.
 *
 * A record says which CA, which profile, which algorithms and which SBR findings
 * one signature had, and on which day.  It never holds an address, a message id,
 * a subject or the signer's name: the sender's domain only when the admin turns it
 * on, and then HMAC-SHA256-keyed unless plain text is asked for explicitly.
 *
 * Writing: smime_telemetry_open() starts one writer thread behind a bounded queue.
 * smime_telemetry_submit() copies a record into the queue and returns at once; it
 * never waits for the sink and never fails the caller: when the queue is full the
 * record is dropped and counted.  A sink that fails a write drops that batch and
 * counts it too.  Drops and sink errors are logged through the log callback, from
 * the writer thread, never from the submitting (mail) thread.
 *
 * Reading: smime_telemetry_sink_query() hands back the stored records of a day
 * range grouped by identical content with a count, which is what reports need. */
#ifndef SMIME_TELEMETRY_H
#define SMIME_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>
#include "smime/telemetry/caa.h"
#include "smime/telemetry/record.h"
#include "smime/telemetry/sink.h"

/* ---- sinks by URI ------------------------------------------------------------ */

/* Opens a sink by URI and migrates its schema to SMIME_TELEMETRY_SCHEMA_VERSION:
 *   sqlite:PATH            (sqlite:///abs/path is accepted too)
 *   postgresql://...  postgres://...   (a libpq connection URI, passed verbatim)
 * A database whose schema is newer than this program is refused, not touched.
 * Returns 0 and a sink the caller owns (smime_telemetry_sink_close), or -1. */
int smime_telemetry_sink_open(const char *uri, smime_telemetry_sink **out, char *err,
                              size_t errlen);
/* Checks a URI's syntax without opening anything (for configuration checks such
 * as smime-milter -n): the scheme, a file name for sqlite:, a parsable libpq URI
 * for postgresql://.  Returns 0, or -1 with the problem in err. */
int smime_telemetry_uri_check(const char *uri, char *err, size_t errlen);
/* The database file named by a sqlite: URI (a pointer into uri), or NULL when the
 * URI is not a sqlite: one. */
const char *smime_telemetry_uri_sqlite_path(const char *uri);
/* The same for readers (reports): a SQLite file that does not exist is an error
 * instead of being created empty.  An older schema is still migrated. */
int smime_telemetry_sink_open_existing(const char *uri, smime_telemetry_sink **out, char *err,
                                       size_t errlen);

/* ---- the writer: bounded queue + thread ------------------------------------- */

typedef enum smime_telemetry_log_level {
    SMIME_TELEMETRY_LOG_ERR, SMIME_TELEMETRY_LOG_WARNING, SMIME_TELEMETRY_LOG_INFO
} smime_telemetry_log_level;

typedef void (*smime_telemetry_log_fn)(void *ctx, smime_telemetry_log_level level,
                                       const char *msg);

typedef struct smime_telemetry_options {
    size_t   queue_capacity;        /* records held in memory (~2 KiB each); default 1024 */
    size_t   batch_size;            /* records per sink write; default 64 */
    smime_telemetry_privacy privacy;
    int      wait_when_full;        /* 0 (the milter): a full queue drops the record.
                                     * 1 (offline tools, smime-verify --telemetry):
                                     * submit waits for the writer instead, so an
                                     * archive is recorded whole.  Never on the mail path. */
    smime_telemetry_log_fn log;     /* NULL: messages go nowhere (counters still do) */
    void    *log_ctx;
    /* The deployment secret that keys certificate ids (borrowed, read at open):
     * NULL = smime_telemetry_secret_default_path(uri).  smime_telemetry_open loads
     * or creates it unless privacy.cert_key_len is already set. */
    const char *secret_path;
    /* CAA for S/MIME (caa.h): NULL = no lookups.  Owned by the writer from
     * smime_telemetry_start/open on (freed at close, or at once when they fail);
     * set privacy.caa_lookup too, so that records carry the domain to look up.
     * The writer runs it on each batch before the sink write: a slow or dead DNS
     * server delays the batch by at most the checker's timeout, never the mail. */
    smime_caa_checker *caa;
} smime_telemetry_options;

/* Where the deployment secret lives unless configured: next to a SQLite database
 * (PATH.secret), SMIME_TELEMETRY_SECRET_DEFAULT for PostgreSQL (every gateway
 * writing one database needs the same secret, so that one certificate has one id:
 * copy the file).  Returns 0, or -1 when out is too small or the URI is neither. */
#define SMIME_TELEMETRY_SECRET_DEFAULT "/var/lib/smime-milter/telemetry.secret"
int smime_telemetry_secret_default_path(const char *uri, char *out, size_t outlen);

typedef struct smime_telemetry_stats {
    uint64_t submitted;      /* submit calls */
    uint64_t queued;         /* accepted into the queue */
    uint64_t written;        /* stored by the sink */
    uint64_t dropped_full;   /* refused: queue full */
    uint64_t dropped_sink;   /* lost: the sink failed their write */
    uint64_t dropped_close;  /* still queued when close gave up waiting */
    uint64_t dropped_invalid;/* submit_sig could not build the record */
    uint64_t sink_errors;    /* failed sink writes */
    size_t   pending;        /* in the queue now */
} smime_telemetry_stats;

typedef struct smime_telemetry smime_telemetry;

void smime_telemetry_options_default(smime_telemetry_options *opt);

/* Opens the sink named by uri and starts the writer.  Returns 0 and a handle the
 * caller owns (smime_telemetry_close), or -1 with err (bad URI, SQLite file that
 * cannot be opened or migrated, HMAC mode without a key...).  A PostgreSQL server
 * that is down is not an error: it is logged (opt->log) and the writer connects
 * when it next has records; until then they are dropped and counted, so a
 * gateway starts and passes mail while its telemetry database is away.
 * The deployment secret (opt->secret_path) that cannot be read or created is an
 * error: records without certificate ids would quietly miscount. */
int smime_telemetry_open(const char *uri, const smime_telemetry_options *opt,
                         smime_telemetry **out, char *err, size_t errlen);
/* The same over a sink the caller made; takes ownership of sink, even on failure. */
int smime_telemetry_start(smime_telemetry_sink *sink, const smime_telemetry_options *opt,
                          smime_telemetry **out, char *err, size_t errlen);

/* Copies rec into the queue.  Never waits for the sink (unless wait_when_full was
 * asked for): returns 0 when queued, 1 when the queue was full and the record was
 * dropped (counted).  Thread-safe. */
int smime_telemetry_submit(smime_telemetry *t, const smime_telemetry_record *rec);

/* Builds the record of one signature (smime_telemetry_record_from with the
 * handle's privacy settings) and submits it.  Returns 0 queued, 1 dropped, -1
 * when the record could not be built (counted as dropped; logged by the writer). */
int smime_telemetry_submit_sig(smime_telemetry *t, const smime_sig_report *s,
                               const smime_lint_result *lint, int64_t now);

void smime_telemetry_get_stats(smime_telemetry *t, smime_telemetry_stats *st);

/* The privacy settings the handle was opened with (sender domain mode and key,
 * the certificate id secret, caa_lookup), for callers that build records
 * themselves with smime_telemetry_record_from.  Fixed for the handle's life;
 * borrowed. */
const smime_telemetry_privacy *smime_telemetry_privacy_of(const smime_telemetry *t);

/* Stops accepting records, lets the writer store what is queued for at most
 * flush_ms milliseconds (what is left then is dropped and counted), joins the
 * writer, logs the totals, closes the sink and frees t.  Fills *final when not
 * NULL.  Returns 0 when nothing was ever dropped, -1 otherwise.  NULL t is a
 * no-op returning 0.
 * A writer stuck in a sink call for SMIME_TELEMETRY_CLOSE_GRACE_MS past the
 * flush time is left behind (logged, -1): close never hangs, and t is then not
 * freed (the stuck thread still uses it; it is reclaimed at process exit). */
int smime_telemetry_close(smime_telemetry *t, unsigned flush_ms, smime_telemetry_stats *final);

#endif
