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
#include "smime/lint/lint.h"
#include "smime/report/report.h"

/* Schema of both sinks; migrations up to this version run on open. */
#define SMIME_TELEMETRY_SCHEMA_VERSION 2

#define SMIME_TELEMETRY_FINDINGS_MAX   512   /* bytes of the space-separated ID list */
#define SMIME_TELEMETRY_KEY_MAX        64    /* HMAC key bytes */
#define SMIME_TELEMETRY_QUEUE_MAX      65536 /* cap on the queue capacity option */
#define SMIME_TELEMETRY_BATCH_MAX      256   /* records per sink write (one transaction) */
#define SMIME_TELEMETRY_CLOSE_GRACE_MS 2000  /* close waits this long past flush_ms */

/* One signature, as stored.  Every field is a NUL-terminated string ("" = unknown
 * or not applicable) except validity_days (-1 = unknown) and scope_flags. */
typedef struct smime_telemetry_record {
    char    day[11];                 /* "YYYY-MM-DD", UTC day of the observation */
    char    result[12];              /* RFC 7281 word: "pass", "fail", ... */
    char    reason[40];              /* stable reason class: "ok", "untrusted", ... */
    char    issuer_dn[SMIME_TEXT_MAX];   /* signer certificate's issuer (RFC 4514) */
    char    issuer_key_id[72];       /* authorityKeyIdentifier of the signer, hex */
    char    root_subject[SMIME_TEXT_MAX];/* trust anchor the chain reached; "" if none */
    char    policy_oid[64];          /* SBR policy OID 2.23.140.1.5.T.G (from lint) */
    char    cert_type[16];           /* "mailbox", "organization", "sponsor", "individual" */
    char    generation[16];          /* "legacy", "multipurpose", "strict" */
    char    findings[SMIME_TELEMETRY_FINDINGS_MAX]; /* lint IDs, sorted, unique, ' '-separated */
    char    key_alg[32];             /* "RSA-2048", "EC-P256", "Ed25519" */
    char    digest_alg[32];          /* CMS digest algorithm, e.g. "SHA256" */
    char    sig_alg[48];             /* CMS signature algorithm */
    int64_t validity_days;           /* notAfter - notBefore, whole days; -1 unknown */
    char    not_before_month[8];     /* "YYYY-MM" */
    char    sbr_scope[16];           /* "sbr", "pre-sbr", "not-smime", "unparsable", "" */
    unsigned scope_flags;            /* SMIME_SCOPE_* bits of the lint result */
    char    client_family[24];       /* smime_telemetry_client_family() */
    char    sender_domain[72];       /* "" unless enabled: HMAC hex or the domain */
} smime_telemetry_record;

typedef enum smime_telemetry_domain_mode {
    SMIME_TELEMETRY_DOMAIN_OFF = 0,  /* default: no sender domain at all */
    SMIME_TELEMETRY_DOMAIN_HMAC,     /* HMAC-SHA256(key, lower-case domain), hex */
    SMIME_TELEMETRY_DOMAIN_PLAIN,    /* the lower-case domain itself (opt-in) */
} smime_telemetry_domain_mode;

typedef struct smime_telemetry_privacy {
    smime_telemetry_domain_mode domain_mode;
    unsigned char key[SMIME_TELEMETRY_KEY_MAX];   /* HMAC key; required for HMAC mode */
    size_t        key_len;
} smime_telemetry_privacy;

/* Reduces a User-Agent / X-Mailer value to a product name: "Thunderbird",
 * "Outlook", "Apple Mail", "Evolution", "KMail", "Roundcube", "Gmail", "Mutt",
 * "Claws Mail", "eM Client", "other" for anything else, "unknown" for "".
 * Returns a static string: version numbers and platforms never leave here. */
const char *smime_telemetry_client_family(const char *header_value);

/* Builds the record of one signature observed at `now` (epoch seconds, UTC).
 * lint may be NULL (lint off, or no signer certificate).  The sender domain is
 * taken from the report's identifier only when priv enables it.  Borrowed
 * arguments, filled *out.  Returns 0, or -1 with err set when priv asks for HMAC
 * without a key or the HMAC fails (then no domain is stored and nothing leaks). */
int smime_telemetry_record_from(const smime_sig_report *s, const smime_lint_result *lint,
                                int64_t now, const smime_telemetry_privacy *priv,
                                smime_telemetry_record *out, char *err, size_t errlen);

/* ---- sinks ------------------------------------------------------------------ */

/* Called once per group of identical records in a query; return non-zero to stop. */
typedef int (*smime_telemetry_row_fn)(const smime_telemetry_record *rec, uint64_t count,
                                      void *ctx);

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
} smime_telemetry_sink_ops;

typedef struct smime_telemetry_sink smime_telemetry_sink;

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
/* The same for readers (reports): a SQLite file that does not exist is an error
 * instead of being created empty.  An older schema is still migrated. */
int smime_telemetry_sink_open_existing(const char *uri, smime_telemetry_sink **out, char *err,
                                       size_t errlen);
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
} smime_telemetry_options;

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
 * gateway starts and passes mail while its telemetry database is away. */
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
