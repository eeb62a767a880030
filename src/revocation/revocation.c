/* revocation - the revocation checker (see include/smime/revocation/revocation.h): sources,
 * cache, one fetch per key, deadlines.
 *
 * Locking: one mutex guards the cache table, the CRL directory and the counters;
 * one condition variable (on the monotonic clock) wakes threads waiting for a
 * fetch.  Network and disk work happen with the lock released; an entry being
 * fetched (or waited on) is never evicted, so the fetcher's pointer stays valid.
 *
 * Ownership: the checker owns every entry, every smime_crl and its copies of the
 * configuration strings; answers are copied out to the caller. */
#include "smime/revocation/revocation.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "smime/revocation/crl.h"
#include "smime/crypto/der.h"
#include "smime/revocation/ocsp.h"
#include "smime/util/timeutil.h"

#define MAX_URLS_PER_CERT  3        /* OCSP responders / CRL points tried per cert */
#define URL_MAX            1024
#define KEY_MAX            (URL_MAX + 8)
#define CRL_DIR_MAX_FILES  256
#define CRL_DIR_RESCAN_MS  60000    /* mirrored CRLs are picked up within a minute */
#define MIN_TIMEOUT_TO_REMEMBER_MS 1000

/* ---- names ---------------------------------------------------------------- */

int smime_rev_mode_parse(const char *word)
{
    if (strcmp(word, "off") == 0)
        return SMIME_REV_MODE_OFF;
    if (strcmp(word, "soft") == 0)
        return SMIME_REV_MODE_SOFT;
    if (strcmp(word, "hard") == 0)
        return SMIME_REV_MODE_HARD;
    return -1;
}

const char *smime_rev_mode_name(smime_rev_mode m)
{
    return m == SMIME_REV_MODE_OFF ? "off" : m == SMIME_REV_MODE_HARD ? "hard" : "soft";
}

static void answer(smime_rev_answer *out, smime_rev_status st, const char *code, const char *source,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void answer(smime_rev_answer *out, smime_rev_status st, const char *code, const char *source,
                   const char *fmt, ...)
{
    memset(out, 0, sizeof(*out));
    out->status = st;
    out->code = code;
    out->source = source;
    out->crl_reason = -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

/* ---- the checker ---------------------------------------------------------- */

/* One cache entry per key: "ocsp|<certificate id>" or "crl|<url>". */
typedef struct cache_entry {
    struct cache_entry *next;       /* hash chain */
    char     *key;                  /* owned */
    int       fetching;             /* a thread is fetching this key now */
    unsigned  waiters;              /* threads waiting for that fetch */
    uint64_t  last_used;
    int       has_answer;           /* OCSP: a verified answer is held */
    smime_rev_answer ocsp;
    smime_crl *crl;                 /* CRL: verified list (owned) */
    int64_t   failed_until_ms;      /* a failed fetch is not retried before this */
    smime_rev_answer failure;
} cache_entry;

typedef struct dir_crl {
    char      *path;                /* owned */
    time_t     mtime;
    off_t      size;
    unsigned char *bytes;           /* owned file content */
    size_t     len;
    gnutls_datum_t claimed_issuer;  /* raw Name the CRL claims (gnutls_free) */
    smime_crl *crl;                 /* verified on first use (owned) */
    int        bad;                 /* did not verify with the issuer that named it */
} dir_crl;

struct smime_revocation {
    smime_revocation_config cfg;    /* strings point to the copies below */
    char   *crl_dir, *cache_dir;
    pthread_mutex_t lock;
    pthread_cond_t  fetched;
    cache_entry **buckets;
    size_t   n_buckets, n_entries;
    size_t   cache_bytes;           /* sum of entry_bytes() over the table */
    uint64_t use_clock;
    dir_crl  dir[CRL_DIR_MAX_FILES];
    size_t   n_dir;
    int64_t  dir_scanned_ms;
    smime_rev_stats stats;
};

void smime_revocation_config_default(smime_revocation_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->use_ocsp = 1;
    cfg->use_crl = 1;
    cfg->max_entries = 4096;
    cfg->max_cache_bytes = 256u << 20;
    cfg->max_ocsp_bytes = 64u << 10;
    cfg->max_crl_bytes = 16u << 20;
    cfg->skew = 300;
    cfg->max_age = 3600;
    cfg->failure_ttl = 30;
}

/* Reads a whole file of at most cap bytes.  Returns 0 (*out owned by the caller),
 * -1 when missing or unreadable, -2 when larger than cap. */
static int read_capped(const char *path, size_t cap, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > cap) {
        close(fd);
        return -2;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    size_t got = 0;
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != n) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int has_crl_suffix(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && (strcmp(name + n - 4, ".crl") == 0 || strcmp(name + n - 4, ".pem") == 0 ||
                      strcmp(name + n - 4, ".der") == 0));
}

static void dir_crl_clear(dir_crl *d)
{
    free(d->path);
    free(d->bytes);
    gnutls_free(d->claimed_issuer.data);
    smime_crl_free(d->crl);
    memset(d, 0, sizeof(*d));
}

/* Re-reads CRLDirectory files that are new or changed; called with the lock held.
 * Directory CRLs are verified lazily, with the issuer of the first certificate
 * that needs them. */
static void dir_rescan(smime_revocation *rv)
{
    DIR *dh = opendir(rv->crl_dir);
    if (!dh)
        return;
    dir_crl fresh[CRL_DIR_MAX_FILES];
    size_t n = 0;
    memset(fresh, 0, sizeof(fresh));
    struct dirent *de;
    while ((de = readdir(dh)) != NULL && n < CRL_DIR_MAX_FILES) {
        if (de->d_name[0] == '.' || !has_crl_suffix(de->d_name))
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", rv->crl_dir, de->d_name) >= sizeof(path))
            continue;
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        dir_crl *old = NULL;
        for (size_t i = 0; i < rv->n_dir && !old; i++)
            if (rv->dir[i].path && strcmp(rv->dir[i].path, path) == 0 &&
                rv->dir[i].mtime == st.st_mtime && rv->dir[i].size == st.st_size)
                old = &rv->dir[i];
        if (old) {
            fresh[n++] = *old;             /* keep it, verified state and all */
            memset(old, 0, sizeof(*old));
            continue;
        }
        dir_crl d = { 0 };
        if (read_capped(path, rv->cfg.max_crl_bytes, &d.bytes, &d.len) < 0)
            continue;
        d.path = strdup(path);
        d.mtime = st.st_mtime;
        d.size = st.st_size;
        if (!d.path || smime_crl_claimed_issuer(d.bytes, d.len, &d.claimed_issuer) < 0) {
            free(d.path);                  /* not a CRL (or unreadable): skipped */
            free(d.bytes);
            continue;
        }
        fresh[n++] = d;
    }
    closedir(dh);
    for (size_t i = 0; i < rv->n_dir; i++)
        dir_crl_clear(&rv->dir[i]);
    memcpy(rv->dir, fresh, n * sizeof(fresh[0]));
    rv->n_dir = n;
}

#define PRUNE_MAX_FILES 100000      /* bounds the work at start */

/* Removes RevocationCache files too old to be of use: an OCSP response lives at
 * most 10 days (REV-OCSP-03), a CA's CRL at most 12 months (REV-CRL-02). */
static void prune_cache_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    time_t now = time(NULL);
    struct dirent *de;
    for (unsigned seen = 0; (de = readdir(dh)) != NULL && seen < PRUNE_MAX_FILES; seen++) {
        const char *name = de->d_name;
        size_t n = strlen(name);
        time_t max_age;
        if (strncmp(name, ".tmp-", 5) == 0)
            max_age = 3600;
        else if (n > 5 && strcmp(name + n - 5, ".ocsp") == 0)
            max_age = 14 * 86400;
        else if (n > 4 && strcmp(name + n - 4, ".crl") == 0)
            max_age = 400 * 86400;
        else
            continue;
        char path[4096];
        struct stat st;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
            lstat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > max_age)
            unlink(path);
    }
    closedir(dh);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

int smime_revocation_new(const smime_revocation_config *cfg, smime_revocation **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    smime_revocation *rv = calloc(1, sizeof(*rv));
    if (!rv) {
        snprintf(err, errlen, "revocation: out of memory");
        return -1;
    }
    rv->cfg = *cfg;
    if (rv->cfg.max_entries < 2)
        rv->cfg.max_entries = 2;
    rv->crl_dir = dup_or_null(cfg->crl_dir);
    rv->cache_dir = dup_or_null(cfg->cache_dir);
    rv->cfg.crl_dir = rv->crl_dir;
    rv->cfg.cache_dir = rv->cache_dir;
    rv->n_buckets = 1;
    while (rv->n_buckets < rv->cfg.max_entries)
        rv->n_buckets <<= 1;
    rv->buckets = calloc(rv->n_buckets, sizeof(*rv->buckets));
    pthread_condattr_t ca;
    int bad = !rv->buckets || (cfg->crl_dir && *cfg->crl_dir && !rv->crl_dir) ||
              (cfg->cache_dir && *cfg->cache_dir && !rv->cache_dir);
    if (bad) {
        snprintf(err, errlen, "revocation: out of memory");
    } else if (rv->crl_dir && access(rv->crl_dir, R_OK | X_OK) < 0) {
        snprintf(err, errlen, "CRLDirectory %s: %s", rv->crl_dir, strerror(errno));
        bad = 1;
    } else if (rv->cache_dir && access(rv->cache_dir, R_OK | W_OK | X_OK) < 0) {
        snprintf(err, errlen, "RevocationCache %s: %s", rv->cache_dir, strerror(errno));
        bad = 1;
    }
    if (bad) {
        free(rv->buckets);
        free(rv->crl_dir);
        free(rv->cache_dir);
        free(rv);
        return -1;
    }
    pthread_mutex_init(&rv->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rv->fetched, &ca);
    pthread_condattr_destroy(&ca);
    if (rv->cache_dir)
        prune_cache_dir(rv->cache_dir);
    if (rv->crl_dir) {
        dir_rescan(rv);
        rv->dir_scanned_ms = smime_rev_clock_ms();
    }
    *out = rv;
    return 0;
}

static void entry_free(cache_entry *e)
{
    free(e->key);
    smime_crl_free(e->crl);
    free(e);
}

void smime_revocation_free(smime_revocation *rv)
{
    if (!rv)
        return;
    for (size_t b = 0; b < rv->n_buckets; b++) {
        cache_entry *e = rv->buckets[b];
        while (e) {
            cache_entry *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    for (size_t i = 0; i < rv->n_dir; i++)
        dir_crl_clear(&rv->dir[i]);
    pthread_cond_destroy(&rv->fetched);
    pthread_mutex_destroy(&rv->lock);
    free(rv->buckets);
    free(rv->crl_dir);
    free(rv->cache_dir);
    free(rv);
}

void smime_revocation_stats(smime_revocation *rv, smime_rev_stats *out)
{
    pthread_mutex_lock(&rv->lock);
    *out = rv->stats;
    out->entries = rv->n_entries;
    out->bytes = rv->cache_bytes;
    pthread_mutex_unlock(&rv->lock);
}

/* ---- the cache table (lock held) ------------------------------------------ */

static size_t key_hash(const char *k)
{
    uint64_t h = 1469598103934665603ull;          /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return (size_t)h;
}

static size_t entry_bytes(const cache_entry *e)
{
    return sizeof(*e) + strlen(e->key) + 1 + (e->crl ? smime_crl_bytes(e->crl) : 0);
}

/* Drops the least recently used entry nobody is fetching or waiting for.
 * Returns 0, or -1 when every entry is in use. */
static int evict_one(smime_revocation *rv)
{
    cache_entry **victim = NULL;
    for (size_t b = 0; b < rv->n_buckets; b++)
        for (cache_entry **pp = &rv->buckets[b]; *pp; pp = &(*pp)->next)
            if (!(*pp)->fetching && !(*pp)->waiters &&
                (!victim || (*pp)->last_used < (*victim)->last_used))
                victim = pp;
    if (!victim)
        return -1;
    cache_entry *e = *victim;
    *victim = e->next;
    rv->cache_bytes -= entry_bytes(e);
    entry_free(e);
    rv->n_entries--;
    rv->stats.evictions++;
    return 0;
}

/* Keeps the table within its entry and byte bounds (room for `adding` more). */
static void enforce_bounds(smime_revocation *rv, size_t adding)
{
    while ((rv->n_entries + adding > rv->cfg.max_entries ||
            rv->cache_bytes > rv->cfg.max_cache_bytes) && rv->n_entries > 0)
        if (evict_one(rv) < 0)
            break;
}

/* The entry of key, made (and the table kept within bounds) when absent; NULL
 * when out of memory.  Lock held. */
static cache_entry *entry_get(smime_revocation *rv, const char *key)
{
    size_t b = key_hash(key) & (rv->n_buckets - 1);
    for (cache_entry *e = rv->buckets[b]; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            e->last_used = ++rv->use_clock;
            return e;
        }
    enforce_bounds(rv, 1);
    cache_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    e->last_used = ++rv->use_clock;
    e->next = rv->buckets[b];
    rv->buckets[b] = e;
    rv->n_entries++;
    rv->cache_bytes += entry_bytes(e);
    return e;
}

/* Waits (lock held) until no fetch of e is in flight or the deadline passes.
 * Returns 0, or -1 on the deadline. */
static int wait_for_fetch(smime_revocation *rv, cache_entry *e, int64_t deadline_ms)
{
    if (!e->fetching)
        return 0;
    if (deadline_ms <= 0)
        return -1;
    rv->stats.waits++;
    e->waiters++;
    struct timespec ts = { (time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L };
    int rc = 0;
    while (e->fetching && rc == 0) {
        /* 0 may be a spurious wake-up; anything else (ETIMEDOUT) ends the wait. */
        if (pthread_cond_timedwait(&rv->fetched, &rv->lock, &ts) != 0 && e->fetching)
            rc = -1;
    }
    e->waiters--;
    return rc;
}

/* ---- disk cache ------------------------------------------------------------ */

static int disk_path(const smime_revocation *rv, const char *key, const char *ext, char *out,
                     size_t outlen)
{
    unsigned char h[32];
    if (!rv->cache_dir || gnutls_hash_fast(GNUTLS_DIG_SHA256, key, strlen(key), h) < 0)
        return -1;
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return (size_t)snprintf(out, outlen, "%s/%s.%s", rv->cache_dir, hex, ext) < outlen ? 0 : -1;
}

/* Writes atomically (temporary file, then rename) so readers never see half a
 * file.  Failures only cost a future fetch, so they are not reported. */
static void disk_write(const smime_revocation *rv, const char *key, const char *ext,
                       const void *data, size_t len)
{
    char path[4096], tmp[4096];
    if (disk_path(rv, key, ext, path, sizeof(path)) < 0 ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", rv->cache_dir) >= sizeof(tmp))
        return;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return;
    const unsigned char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (close(fd) < 0 || done != len || rename(tmp, path) < 0)
        unlink(tmp);
}

/* ---- fetching --------------------------------------------------------------- */

static const char *fetch_code(smime_fetch_rc rc)
{
    switch (rc) {
    case SMIME_FETCH_TIMEOUT:     return "timeout";
    case SMIME_FETCH_UNREACHABLE: return "unreachable";
    case SMIME_FETCH_HTTP_ERROR:  return "http-error";
    case SMIME_FETCH_TOO_LARGE:   return "too-large";
    default:                      return "error";
    }
}

/* One transport call, with the deadline already checked.  Returns the rc; on
 * failure fills out. */
static smime_fetch_rc do_fetch(smime_revocation *rv, const smime_fetch_request *req,
                               const char *shown_url, smime_buf *body, const char *what,
                               smime_rev_answer *out)
{
    char err[256] = "";
    pthread_mutex_lock(&rv->lock);
    rv->stats.fetches++;
    pthread_mutex_unlock(&rv->lock);
    smime_fetch_rc rc = rv->cfg.fetch(rv->cfg.fetch_ctx, req, body, err, sizeof(err));
    if (rc != SMIME_FETCH_OK)
        answer(out, SMIME_REV_UNKNOWN, fetch_code(rc), what, "%s %s: %s",
               strcmp(what, "ocsp") == 0 ? "OCSP responder" : "CRL at", shown_url,
               err[0] ? err : fetch_code(rc));
    return rc;
}

/* Remembers a failure so that the next messages do not wait for a responder that
 * just failed; a timeout counts only when the attempt had a fair amount of time. */
static void remember_failure(smime_revocation *rv, cache_entry *e, const smime_rev_answer *a,
                             int64_t started_ms, int64_t deadline_ms)
{
    if (strcmp(a->code, "timeout") == 0 && deadline_ms - started_ms < MIN_TIMEOUT_TO_REMEMBER_MS)
        return;
    e->failed_until_ms = smime_rev_clock_ms() + rv->cfg.failure_ttl * 1000;
    e->failure = *a;
}

static int ocsp_answer_usable(const smime_rev_answer *a, const smime_rev_time *t)
{
    if (a->this_update > t->now + t->skew)
        return 0;
    int64_t until = a->next_update ? a->next_update : a->this_update + t->max_age;
    return t->now <= until + t->skew;
}

/* An answer worth keeping: a verified response that says good, revoked or unknown. */
static int ocsp_answer_definite(const smime_rev_answer *a)
{
    return a->status == SMIME_REV_GOOD || a->status == SMIME_REV_REVOKED ||
           (a->code && strcmp(a->code, "responder-unknown") == 0);
}

/* The cache key of "this certificate's status": its signature value (which no
 * other certificate has) and serial, hashed.  Far cheaper than the OCSP CertID,
 * and as exact: a certificate's signature verifies under one issuer key only. */
static int cert_cache_id(gnutls_x509_crt_t cert, char *out, size_t outlen)
{
    unsigned char sig[1024], serial[64], h[32];
    size_t sl = sizeof(sig), nl = sizeof(serial);
    gnutls_hash_hd_t hd;
    if (outlen < 65 || gnutls_x509_crt_get_signature(cert, (char *)sig, &sl) < 0 ||
        gnutls_x509_crt_get_serial(cert, serial, &nl) < 0 ||
        gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
        return -1;
    gnutls_hash(hd, sig, sl);
    gnutls_hash(hd, serial, nl);
    gnutls_hash_deinit(hd, h);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
    return 0;
}

/* The entry for key, locked, once no other lookup is fetching it.  On failure
 * (memory, or the deadline passed while waiting) answers unknown in out, with the
 * lock released, and returns NULL. */
static cache_entry *entry_wait(smime_revocation *rv, const char *key, const char *source,
                               const char *what, int64_t deadline_ms, smime_rev_answer *out)
{
    pthread_mutex_lock(&rv->lock);
    cache_entry *e = entry_get(rv, key);
    if (!e) {
        pthread_mutex_unlock(&rv->lock);
        answer(out, SMIME_REV_UNKNOWN, "error", source, "out of memory");
        return NULL;
    }
    if (wait_for_fetch(rv, e, deadline_ms) < 0) {
        pthread_mutex_unlock(&rv->lock);
        answer(out, SMIME_REV_UNKNOWN, "timeout", source,
               "%s: deadline passed while another lookup was fetching", what);
        return NULL;
    }
    return e;
}

/* A failed fetch is remembered for a while so that a down responder is not asked
 * again by every message.  Called with the lock held; when the remembered failure
 * answers, copies it to out, releases the lock and returns 1. */
static int answer_from_failure(smime_revocation *rv, cache_entry *e, smime_rev_answer *out)
{
    if (e->failed_until_ms <= smime_rev_clock_ms())
        return 0;
    *out = e->failure;
    out->from_cache = 1;
    rv->stats.memory_hits++;
    pthread_mutex_unlock(&rv->lock);
    return 1;
}

static void ocsp_lookup(smime_revocation *rv, const char *url, gnutls_x509_crt_t cert,
                        gnutls_x509_crt_t issuer, const smime_rev_time *t, int64_t deadline_ms,
                        smime_rev_answer *out)
{
    char id[80], key[KEY_MAX];
    if (cert_cache_id(cert, id, sizeof(id)) < 0) {
        answer(out, SMIME_REV_UNKNOWN, "error", "ocsp", "certificate signature or serial unreadable");
        return;
    }
    snprintf(key, sizeof(key), "ocsp|%s", id);
    char what[KEY_MAX + 32];
    snprintf(what, sizeof(what), "OCSP responder %s", url);
    cache_entry *e = entry_wait(rv, key, "ocsp", what, deadline_ms, out);
    if (!e)
        return;
    if (e->has_answer && ocsp_answer_usable(&e->ocsp, t)) {
        *out = e->ocsp;
        out->from_cache = 1;
        rv->stats.memory_hits++;
        pthread_mutex_unlock(&rv->lock);
        return;
    }
    if (answer_from_failure(rv, e, out))
        return;
    e->fetching = 1;
    pthread_mutex_unlock(&rv->lock);

    /* The lock is released: disk and network work for this key is ours alone. */
    smime_rev_answer a;
    int have = 0, from_disk = 0;
    char path[4096];
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (disk_path(rv, key, "ocsp", path, sizeof(path)) == 0 &&
        read_capped(path, rv->cfg.max_ocsp_bytes, &bytes, &len) == 0) {
        smime_ocsp_check(bytes, len, cert, issuer, t, &a);
        have = ocsp_answer_definite(&a);
        from_disk = have;
        free(bytes);
    }
    int failed = 0;
    int64_t started = smime_rev_clock_ms();
    if (!have && !rv->cfg.fetch) {
        answer(&a, SMIME_REV_UNKNOWN, "offline", "ocsp", "offline: OCSP responder %s not asked", url);
    } else if (!have && started >= deadline_ms) {
        answer(&a, SMIME_REV_UNKNOWN, "timeout", "ocsp",
               "OCSP responder %s not asked: time budget spent", url);
    } else if (!have) {
        gnutls_datum_t req = { NULL, 0 };
        char get_url[URL_MAX + 512];
        smime_buf body;
        smime_buf_init(&body, rv->cfg.max_ocsp_bytes);
        if (smime_ocsp_request(cert, issuer, &req) < 0) {
            answer(&a, SMIME_REV_UNKNOWN, "error", "ocsp", "cannot build an OCSP request");
        } else {
            /* RFC 5019: GET when the encoded request is short (cacheable by proxies). */
            smime_fetch_request fr = { .url = url, .max_bytes = rv->cfg.max_ocsp_bytes,
                                       .deadline_ms = deadline_ms };
            if (!rv->cfg.ocsp_post &&
                smime_ocsp_get_url(url, req.data, req.size, get_url, sizeof(get_url)) == 0 &&
                strlen(get_url) - strlen(url) <= 256) {
                fr.url = get_url;
            } else {
                fr.post_body = req.data;
                fr.post_len = req.size;
                fr.content_type = "application/ocsp-request";
            }
            if (do_fetch(rv, &fr, url, &body, "ocsp", &a) == SMIME_FETCH_OK) {
                smime_ocsp_check((const unsigned char *)body.data, body.len, cert, issuer, t, &a);
                have = ocsp_answer_definite(&a);
                if (have)
                    disk_write(rv, key, "ocsp", body.data, body.len);
                else
                    snprintf(a.reason + strlen(a.reason), sizeof(a.reason) - strlen(a.reason),
                             " (from %.100s)", url);
            }
            failed = !have;
        }
        gnutls_free(req.data);
        smime_buf_free(&body);
    }

    pthread_mutex_lock(&rv->lock);
    e->fetching = 0;
    if (have) {
        e->ocsp = a;
        e->has_answer = 1;
        e->failed_until_ms = 0;
        if (from_disk)
            rv->stats.disk_hits++;
    } else if (failed) {
        remember_failure(rv, e, &a, started, deadline_ms);
    }
    pthread_cond_broadcast(&rv->fetched);
    pthread_mutex_unlock(&rv->lock);
    *out = a;
    out->from_cache = from_disk;
}

/* Loads CRL bytes and looks cert up.  Returns the verified CRL (caller owns) or
 * NULL with out filled. */
static smime_crl *crl_from_bytes(const unsigned char *p, size_t n, gnutls_x509_crt_t cert,
                                 gnutls_x509_crt_t issuer, const smime_rev_time *t,
                                 smime_rev_answer *out)
{
    smime_crl *crl = NULL;
    if (smime_crl_load(p, n, issuer, &crl, out) < 0)
        return NULL;
    smime_crl_lookup(crl, cert, t, out);
    return crl;
}

static int crl_answer_definite(const smime_rev_answer *a)
{
    return a->status == SMIME_REV_GOOD || a->status == SMIME_REV_REVOKED;
}

static void crl_url_lookup(smime_revocation *rv, const char *url, gnutls_x509_crt_t cert,
                           gnutls_x509_crt_t issuer, const smime_rev_time *t, int64_t deadline_ms,
                           smime_rev_answer *out)
{
    char key[KEY_MAX];
    snprintf(key, sizeof(key), "crl|%s", url);
    char what[KEY_MAX + 32];
    snprintf(what, sizeof(what), "CRL at %s", url);
    cache_entry *e = entry_wait(rv, key, "crl", what, deadline_ms, out);
    if (!e)
        return;
    if (e->crl && smime_crl_verified_with(e->crl, issuer)) {
        smime_crl_lookup(e->crl, cert, t, out);
        /* Answers that only a new CRL can change come from memory too. */
        if (crl_answer_definite(out) || strcmp(out->code, "crl-scope") == 0 ||
            strcmp(out->code, "insecure-algorithm") == 0) {
            out->from_cache = 1;
            rv->stats.memory_hits++;
            pthread_mutex_unlock(&rv->lock);
            return;
        }
    }
    if (answer_from_failure(rv, e, out))
        return;
    e->fetching = 1;
    pthread_mutex_unlock(&rv->lock);

    smime_rev_answer a;
    smime_crl *crl = NULL;
    int from_disk = 0, failed = 0;
    char path[4096];
    unsigned char *bytes = NULL;
    size_t len = 0;
    if (disk_path(rv, key, "crl", path, sizeof(path)) == 0 &&
        read_capped(path, rv->cfg.max_crl_bytes, &bytes, &len) == 0) {
        crl = crl_from_bytes(bytes, len, cert, issuer, t, &a);
        free(bytes);
        if (crl && !crl_answer_definite(&a)) {
            smime_crl_free(crl);        /* expired on disk: fetch a new one */
            crl = NULL;
        }
        from_disk = crl != NULL;
    }
    int64_t started = smime_rev_clock_ms();
    if (!crl && !rv->cfg.fetch) {
        answer(&a, SMIME_REV_UNKNOWN, "offline", "crl", "offline: CRL at %s not fetched", url);
    } else if (!crl && started >= deadline_ms) {
        answer(&a, SMIME_REV_UNKNOWN, "timeout", "crl", "CRL at %s not fetched: time budget spent",
               url);
    } else if (!crl) {
        smime_buf body;
        smime_buf_init(&body, rv->cfg.max_crl_bytes);
        smime_fetch_request fr = { .url = url, .max_bytes = rv->cfg.max_crl_bytes,
                                   .deadline_ms = deadline_ms };
        if (do_fetch(rv, &fr, url, &body, "crl", &a) == SMIME_FETCH_OK) {
            crl = crl_from_bytes((const unsigned char *)body.data, body.len, cert, issuer, t, &a);
            if (crl)
                disk_write(rv, key, "crl", body.data, body.len);
            else
                snprintf(a.reason + strlen(a.reason), sizeof(a.reason) - strlen(a.reason),
                         " (from %.100s)", url);
        }
        failed = crl == NULL || !crl_answer_definite(&a);
        smime_buf_free(&body);
    }

    pthread_mutex_lock(&rv->lock);
    e->fetching = 0;
    if (crl) {
        rv->cache_bytes -= entry_bytes(e);
        smime_crl_free(e->crl);
        e->crl = crl;
        rv->cache_bytes += entry_bytes(e);
        e->failed_until_ms = 0;
        if (from_disk)
            rv->stats.disk_hits++;
    }
    if (failed)
        remember_failure(rv, e, &a, started, deadline_ms);
    enforce_bounds(rv, 0);            /* a big CRL may push older entries out */
    pthread_cond_broadcast(&rv->fetched);
    pthread_mutex_unlock(&rv->lock);
    *out = a;
    out->from_cache = from_disk;
}

/* CRLDirectory: the first current CRL issued (and verified) by issuer decides. */
static int crl_dir_lookup(smime_revocation *rv, gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer,
                          const smime_rev_time *t, smime_rev_answer *out)
{
    int found = 0;
    pthread_mutex_lock(&rv->lock);
    int64_t now_ms = smime_rev_clock_ms();
    if (now_ms - rv->dir_scanned_ms > CRL_DIR_RESCAN_MS) {
        dir_rescan(rv);
        rv->dir_scanned_ms = now_ms;
    }
    gnutls_datum_t issuer_dn = { NULL, 0 };
    if (gnutls_x509_crt_get_raw_dn(issuer, &issuer_dn) < 0)
        issuer_dn.size = 0;
    for (size_t i = 0; i < rv->n_dir && !found && issuer_dn.size; i++) {
        dir_crl *d = &rv->dir[i];
        if (d->bad || d->claimed_issuer.size != issuer_dn.size ||
            memcmp(d->claimed_issuer.data, issuer_dn.data, issuer_dn.size) != 0)
            continue;
        if (!d->crl) {
            smime_rev_answer err;
            /* Once per file version, under the lock: our reader takes about 15 ms
             * for 100,000 entries. */
            smime_crl *crl = NULL;
            if (smime_crl_load(d->bytes, d->len, issuer, &crl, &err) < 0) {
                d->bad = 1;
                continue;
            }
            d->crl = crl;
        }
        if (!smime_crl_verified_with(d->crl, issuer))
            continue;
        smime_crl_lookup(d->crl, cert, t, out);
        if (crl_answer_definite(out)) {
            out->from_cache = 1;
            snprintf(out->reason + strlen(out->reason), sizeof(out->reason) - strlen(out->reason),
                     " (CRLDirectory)");
            found = 1;
        }
    }
    pthread_mutex_unlock(&rv->lock);
    gnutls_free(issuer_dn.data);
    return found;
}

/* Keeps a URL when it is plain http:// (OCSP responses and CRLs are signed, and
 * https would need revocation checks of its own) and has no control characters
 * or spaces; returns the new count. */
static size_t url_keep(const smime_der_tlv *uri, char urls[][URL_MAX], size_t n, size_t max)
{
    if (n >= max || uri->val.len < 8 || uri->val.len >= URL_MAX ||
        memcmp(uri->val.p, "http://", 7) != 0)
        return n;
    for (size_t k = 0; k < uri->val.len; k++)
        if (uri->val.p[k] <= 0x20 || uri->val.p[k] >= 0x7f)
            return n;
    memcpy(urls[n], uri->val.p, uri->val.len);
    urls[n][uri->val.len] = '\0';
    return n + 1;
}

#define GN_URI SMIME_DER_CTX(6)      /* GeneralName uniformResourceIdentifier */

/* The OCSP responder URLs of an AuthorityInfoAccess extension value. */
static size_t aia_ocsp_urls(smime_span v, char urls[][URL_MAX], size_t max)
{
    smime_der_tlv seq, ad, method, loc;
    smime_der_reader r, ar;
    size_t n = 0;
    if (smime_der_parse_one(v, &seq) < 0 || seq.tag != SMIME_DER_SEQUENCE)
        return 0;
    smime_der_reader_init(&r, seq.val);
    while (smime_der_next(&r, &ad) == 1) {
        smime_der_reader_init(&ar, ad.val);
        if (ad.tag != SMIME_DER_SEQUENCE || smime_der_expect(&ar, SMIME_DER_OID, &method) < 0 ||
            smime_der_next(&ar, &loc) != 1)
            continue;
        if (SMIME_OID_EQ(method.val, "\x2b\x06\x01\x05\x05\x07\x30\x01") && loc.tag == GN_URI)
            n = url_keep(&loc, urls, n, max);            /* id-ad-ocsp */
    }
    return n;
}

/* The URLs of a CRLDistributionPoints extension value: the fullName URIs of
 * distribution points that cover all reasons and whose CRL the CA itself issues
 * (a cRLIssuer points elsewhere, which we do not follow). */
static size_t cdp_urls(smime_span v, char urls[][URL_MAX], size_t max)
{
    smime_der_tlv seq, dp, el, name, gn;
    smime_der_reader r, dr, nr, gr;
    size_t n = 0;
    if (smime_der_parse_one(v, &seq) < 0 || seq.tag != SMIME_DER_SEQUENCE)
        return 0;
    smime_der_reader_init(&r, seq.val);
    while (smime_der_next(&r, &dp) == 1) {
        if (dp.tag != SMIME_DER_SEQUENCE)
            continue;
        smime_der_tlv full = { 0 };
        int usable = 1;
        smime_der_reader_init(&dr, dp.val);
        while (smime_der_next(&dr, &el) == 1) {
            if (el.tag == SMIME_DER_CTXC(0)) {             /* distributionPoint */
                smime_der_reader_init(&nr, el.val);
                if (smime_der_next(&nr, &name) == 1 && name.tag == SMIME_DER_CTXC(0))
                    full = name;                           /* fullName */
            } else {
                usable = 0;                                /* reasons or cRLIssuer */
            }
        }
        if (!usable || !full.tlv.p)
            continue;
        smime_der_reader_init(&gr, full.val);
        while (smime_der_next(&gr, &gn) == 1)
            if (gn.tag == GN_URI)
                n = url_keep(&gn, urls, n, max);
    }
    return n;
}

/* The http:// URLs of one kind in a certificate (AIA OCSP or CDP), read with our
 * DER reader from the raw extension: GnuTLS's per-entry calls decode the whole
 * extension again for each entry, which was most of the cost of a cache hit. */
static size_t cert_urls(gnutls_x509_crt_t cert, int ocsp, char urls[][URL_MAX], size_t max)
{
    gnutls_datum_t v = { NULL, 0 };
    unsigned critical = 0;
    if (gnutls_x509_crt_get_extension_by_oid2(cert, ocsp ? "1.3.6.1.5.5.7.1.1" : "2.5.29.31", 0,
                                              &v, &critical) < 0)
        return 0;
    smime_span span = { v.data, v.size };
    size_t n = ocsp ? aia_ocsp_urls(span, urls, max) : cdp_urls(span, urls, max);
    gnutls_free(v.data);
    return n;
}

/* Adds a source's failure to the combined reason. */
static void note_failure(char *acc, size_t acclen, const smime_rev_answer *a)
{
    size_t l = strlen(acc);
    if (l + 3 >= acclen)
        return;
    if (l) {
        memcpy(acc + l, "; ", 2);
        l += 2;
    }
    size_t r = strlen(a->reason);
    if (r > acclen - l - 1)
        r = acclen - l - 1;          /* cut: the first source's reason matters most */
    memcpy(acc + l, a->reason, r);
    acc[l + r] = '\0';
}

void smime_revocation_check_cert(smime_revocation *rv, gnutls_x509_crt_t cert,
                                 gnutls_x509_crt_t issuer, int64_t now, int64_t deadline_ms,
                                 smime_rev_answer *out)
{
    smime_rev_time t = { now, rv->cfg.skew, rv->cfg.max_age };
    char ocsp_urls[MAX_URLS_PER_CERT][URL_MAX], crl_urls[MAX_URLS_PER_CERT][URL_MAX];
    size_t n_ocsp = rv->cfg.use_ocsp ? cert_urls(cert, 1, ocsp_urls, MAX_URLS_PER_CERT) : 0;
    size_t n_crl = rv->cfg.use_crl ? cert_urls(cert, 0, crl_urls, MAX_URLS_PER_CERT) : 0;
    pthread_mutex_lock(&rv->lock);
    rv->stats.lookups++;
    int have_dir = rv->crl_dir != NULL;
    pthread_mutex_unlock(&rv->lock);

    char failures[sizeof(out->reason)] = "";
    smime_rev_answer first_failure, a;
    int tried = 0;
    for (size_t i = 0; i < n_ocsp; i++) {
        ocsp_lookup(rv, ocsp_urls[i], cert, issuer, &t, deadline_ms, &a);
        if (a.status == SMIME_REV_GOOD || a.status == SMIME_REV_REVOKED) {
            *out = a;
            return;
        }
        if (!tried++)
            first_failure = a;
        note_failure(failures, sizeof(failures), &a);
    }
    if (rv->cfg.use_crl && have_dir && crl_dir_lookup(rv, cert, issuer, &t, &a)) {
        *out = a;
        return;
    }
    for (size_t i = 0; i < n_crl; i++) {
        crl_url_lookup(rv, crl_urls[i], cert, issuer, &t, deadline_ms, &a);
        if (crl_answer_definite(&a)) {
            *out = a;
            return;
        }
        if (!tried++)
            first_failure = a;
        note_failure(failures, sizeof(failures), &a);
    }
    if (!tried) {
        answer(out, SMIME_REV_NOT_CHECKED, "no-source", "none",
               "the certificate names no OCSP responder or CRL over http%s",
               have_dir ? " and CRLDirectory has no current CRL of its issuer" : "");
        return;
    }
    *out = first_failure;
    out->status = SMIME_REV_UNKNOWN;
    snprintf(out->reason, sizeof(out->reason), "%s", failures);
}

smime_rev_status smime_revocation_check_path(smime_revocation *rv, gnutls_x509_crt_t const *path,
                                             size_t n, gnutls_x509_crt_t anchor, int64_t now,
                                             int64_t deadline_ms, smime_rev_result *out)
{
    memset(out, 0, sizeof(*out));
    static const int rank[] = {
        [SMIME_REV_NOT_CHECKED] = 0, [SMIME_REV_GOOD] = 1, [SMIME_REV_UNKNOWN] = 2,
        [SMIME_REV_REVOKED] = 3,
    };
    for (size_t i = 0; i < n && out->n < SMIME_CHAIN_MAX; i++) {
        gnutls_x509_crt_t issuer = i + 1 < n ? path[i + 1] : anchor;
        if (!issuer)
            break;                  /* the path ends at the anchor itself */
        smime_rev_answer *a = &out->certs[out->n];
        smime_revocation_check_cert(rv, path[i], issuer, now, deadline_ms, a);
        if (out->n == 0 || rank[a->status] > rank[out->status]) {
            out->status = a->status;
            out->worst = out->n;
        }
        out->n++;
        if (a->status == SMIME_REV_REVOKED)
            break;                  /* nothing above can make it better */
    }
    return out->status;
}

int smime_rev_apply(const smime_rev_result *r, smime_rev_mode mode, smime_result *result,
                    const char **code, char *reason, size_t reason_len)
{
    if (mode == SMIME_REV_MODE_OFF || r->n == 0 ||
        (r->status != SMIME_REV_REVOKED && r->status != SMIME_REV_UNKNOWN))
        return 0;
    const smime_rev_answer *a = &r->certs[r->worst];
    const char *who = r->worst == 0 ? "signer certificate" : "issuing CA certificate";
    char text[SMIME_TEXT_MAX];
    smime_rev_describe(a, who, text, sizeof(text));
    if (r->status == SMIME_REV_REVOKED) {
        *result = SMIME_RESULT_FAIL;
        *code = "revoked";
        snprintf(reason, reason_len, "%s", text);
        return 1;
    }
    if (mode == SMIME_REV_MODE_HARD && *result == SMIME_RESULT_PASS) {
        *result = SMIME_RESULT_TEMPERROR;
        *code = "revocation-unknown";
        snprintf(reason, reason_len, "%s", text);
        return 1;
    }
    size_t l = strnlen(reason, reason_len);
    if (l + 3 < reason_len)
        snprintf(reason + l, reason_len - l, "; %s", text);
    return 0;
}
