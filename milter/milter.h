/* milter.h - what the parts of the smime-milter daemon share.
 *
 * The daemon is a thin shell around the core library: main.c (options, start-up,
 * signals, reload), gen.c (one loaded configuration + trust store, swapped whole on
 * reload), spool.c (one message's bytes, in memory then in a temporary file),
 * callbacks.c (the libmilter callbacks), log.c (syslog or stderr). */
#ifndef SMIME_MILTER_H
#define SMIME_MILTER_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <syslog.h>

#include "config.h"
#include "peerlist.h"
#include "smime/crypto/pki.h"
#include "smime/revocation/http.h"
#include "smime/revocation/revocation.h"
#include "smime/verdict/signing.h"

#define SMIME_MILTER_NAME    "smime-milter"
#define SMIME_MILTER_VERSION "0.1.0"
#define SMIME_MILTER_DEFAULT_CONF "/etc/smime-milter.conf"

/* ---- gen.c: a generation of settings ----
 * Everything a reload may change, loaded together.  Each message holds a reference
 * to the generation that was current when it started, so a reload never changes
 * the settings under a message in flight; the last reference frees it. */
typedef struct milter_gen {
    smime_config   cfg;
    smime_trust   *trust;             /* owned; read-only, shared by threads */
    smime_peerlist peers;             /* owned */
    smime_signing_policy signing;     /* owned; SigningPolicy (empty when unset) */
    int            tagging;           /* some SubjectTag-* is set */
    smime_revocation *revocation;     /* owned; NULL when Revocation is off */
    smime_http_config http;           /* the checker's fetch_ctx: lives as long */
    char           servid[256];       /* AuthservID, or the host name */
    unsigned long  serial;            /* 1 for the first load, +1 per reload */
    unsigned       refs;              /* guarded by the generation lock */
} milter_gen;

/* Loads the configuration file, the trust anchors and the peer list.  Returns a new
 * generation with one reference (the caller's), or NULL with the reason in err. */
milter_gen *gen_load(const char *conf_path, char *err, size_t errlen);
/* Makes g the current generation, taking over the caller's reference, and drops
 * the reference the previous current generation held. */
void gen_install(milter_gen *g);
/* A new reference to the current generation; never NULL after the first install. */
milter_gen *gen_acquire(void);
void gen_release(milter_gen *g);

/* ---- spool.c: one message's bytes ---- */
typedef struct milter_spool {
    char       *mem;                  /* owned; in-memory bytes until spilled */
    size_t      mem_alloc;
    size_t      len;                  /* bytes stored (memory or file) */
    size_t      memory_limit;         /* past it the bytes move to a file */
    size_t      max_size;             /* past it nothing more is stored */
    int         too_big;              /* max_size was exceeded */
    int         fd;                   /* temporary file (already unlinked), or -1 */
    const char *dir;                  /* borrowed: TemporaryDirectory */
    void       *map;                  /* mmap of the file after spool_map() */
    char        error[160];           /* the first failure; "" when none */
} milter_spool;

void spool_init(milter_spool *s, size_t memory_limit, size_t max_size, const char *dir);
/* Stores n bytes; past max_size sets too_big and drops them.  Returns 0, or -1 with
 * the reason in s->error (then every later call fails too). */
int  spool_append(milter_spool *s, const void *p, size_t n);
/* The whole message as one read-only range, valid until spool_free(). */
int  spool_view(milter_spool *s, const char **data, size_t *len);
/* Ends the spool; its in-memory buffer may be kept for the next message. */
void spool_free(milter_spool *s);
/* Frees the buffers kept for later messages (at shutdown, and for the tests). */
void spool_pool_drain(void);
/* How many buffers are kept now. */
size_t spool_pool_kept(void);

/* ---- lease.c: an object lent to connection threads ----
 * libmilter does not wait for its connection threads when it stops, so what they
 * borrow per message (the telemetry and harvest writers) is handed out by a lease:
 * lease_acquire() gives the object (NULL when there is none or the daemon is
 * stopping) and counts the user, lease_release() gives it back, and lease_take()
 * removes it from new users, waits up to wait_s seconds for the current ones and
 * returns it, with *busy the number still holding it (then it must not be freed). */
typedef struct milter_lease {
    pthread_mutex_t lock;
    pthread_cond_t  idle;
    void           *obj;     /* guarded by lock */
    unsigned        users;   /* threads holding obj; guarded by lock */
} milter_lease;
#define MILTER_LEASE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0 }
void  lease_set(milter_lease *l, void *obj);
void *lease_acquire(milter_lease *l);
void  lease_release(milter_lease *l);
void *lease_take(milter_lease *l, unsigned wait_s, unsigned *busy);

/* ---- telemetry.c: the daemon's telemetry writer ----
 * Opened once after start-up (the sink is process-wide: its URI takes a restart to
 * change).  libmilter does not wait for its connection threads when it stops, so
 * a thread borrows the handle with telemetry_acquire() (NULL when there is none or
 * the daemon is stopping) and gives it back with telemetry_release(); the handle
 * is closed only when no thread holds it. */
struct smime_telemetry;
/* Opens the sink of cfg->telemetry and starts the writer, with the sender domain
 * mode and, when CAALookup is on, the CAA checker (resolver, issuer map) that the
 * writer thread runs; -1 (logged) when it cannot. */
int telemetry_start(const smime_config *cfg);
struct smime_telemetry *telemetry_acquire(void);
void telemetry_release(void);
/* Flushes and closes the writer, after waiting (bounded) for the threads using it. */
void telemetry_shutdown(void);
/* The writer's counters for a metrics scrape (a metrics_collect_fn); nothing when
 * there is no writer. */
struct metrics_extra;
void telemetry_metrics(struct metrics_extra *x);

/* ---- preflight.c: what a start needs, checked by -n and by the start ---- */
/* The one message for a daemon that would keep root (%s: the configuration file). */
#define MILTER_ROOT_REFUSAL \
    "refusing to run as root: set UserID in %s to an unprivileged user (e.g. UserID smime-milter)"

typedef struct milter_identity {
    int   set;                        /* UserID given */
    uid_t uid;
    gid_t gid;                        /* the group given, else the user's */
    int   group_given;                /* UserID user:group */
    char  name[SMIME_CONFIG_NAME_MAX];
} milter_identity;

/* As the starting user: who UserID is (never root; root without UserID, and a
 * non-root start with another UserID, are refused).  0, or -1 with the reason. */
int preflight_identity(const smime_config *cfg, const char *conf, milter_identity *id,
                       char *err, size_t errlen);
/* As the starting user: a local: socket's directory can take the socket. */
int preflight_socket(const smime_config *cfg, char *err, size_t errlen);
/* As the user the daemon runs as: anchors, peer list and CRLs readable,
 * TemporaryDirectory, RevocationCache, the PidFile's directory and the telemetry
 * database (and its secret) writable.  0, or -1 with the reason. */
int preflight_running(const smime_config *cfg, char *err, size_t errlen);
/* The path of a local:/unix: socket spec, or NULL. */
const char *preflight_local_path(const char *spec);

/* ---- harvest.c: the certificate harvest writer (HarvestDirectory) ----
 * Like the telemetry writer: started once after the switch of user (the
 * directory takes a restart to change), lent to connection threads, closed at
 * shutdown when no thread holds it. */
struct smime_harvester;
int harvest_start(const smime_config *cfg);
struct smime_harvester *harvest_acquire(void);
void harvest_release(void);
void harvest_shutdown(void);

/* ---- log.c ---- */
/* Opens syslog when `use_syslog` (with the facility name of the configuration),
 * else logs to stderr.  May be called again on reload. */
void log_open(int use_syslog, const char *facility);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* While on (from start until the daemon serves), errors logged to syslog are
 * printed to stderr as well, so a start that fails says why where it was typed
 * (or in the journal) even with no syslog daemon. */
void log_startup(int on);

/* ---- callbacks.c ---- */
struct smfiDesc;
/* The filter description registered with libmilter. */
struct smfiDesc *callbacks_desc(void);

/* -t: verifies one file as the milter would and prints the headers it would add
 * and the action.  Returns 0 on success, -1 when the file could not be checked. */
int callbacks_test_file(const milter_gen *g, const char *path);

/* Waits until no message is being checked (its reply decided), at most timeout_ms.
 * Returns the number of messages still being checked (0: drained). */
unsigned callbacks_drain(unsigned timeout_ms);

#endif
