/* harvest - the certificate store of passing signers (see
 * include/smime/telemetry/harvest.h) and its writer thread. */
#include "smime/telemetry/harvest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smime/util/text.h"

void smime_harvest_options_default(smime_harvest_options *o)
{
    o->max_entries = 10000;
    o->max_bytes = 64u << 20;
}

static const char *const outcome_names[] = { "stored", "same", "kept", "invalid", "full" };

const char *smime_harvest_outcome_name(smime_harvest_outcome o)
{
    return (unsigned)o < 5 ? outcome_names[o] : "?";
}

int smime_harvest_file_name(const char *addr, char *out, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t o = 0;
    if (!*addr || n < 5)
        goto too_long;
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
        unsigned char c = (unsigned char)smime_ascii_tolower(*p);
        /* a leading dot would hide the file; '%' is our escape */
        int plain = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '_' ||
                     c == '+' || c == '-' || (c == '.' && p != (const unsigned char *)addr));
        if (o + (plain ? 1 : 3) + 5 > n)
            goto too_long;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hx[c >> 4];
            out[o++] = hx[c & 15];
        }
    }
    memcpy(out + o, ".pem", 5);
    return 0;
too_long:
    if (n)
        out[0] = '\0';
    return -1;
}

int smime_harvest_prepare(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        smime_errf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        smime_errf(err, errlen, "%s: not a directory", dir);
        return -1;
    }
    return 0;
}

/* The facts of the first certificate of a PEM text. */
typedef struct cert_facts {
    int64_t not_before, not_after;
    char    sha256[65];
} cert_facts;

static int facts_of(const char *pem, size_t len, cert_facts *f)
{
    gnutls_x509_crt_t crt;
    if (len == 0 || len > SMIME_CERTS_PEM_MAX || gnutls_x509_crt_init(&crt) < 0)
        return -1;
    gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };
    int rc = -1;
    unsigned char fp[32];
    size_t fn = sizeof(fp);
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
        gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fn) >= 0 && fn == 32) {
        f->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
        f->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
        smime_hex(fp, fn, f->sha256, sizeof(f->sha256));
        rc = 0;
    }
    gnutls_x509_crt_deinit(crt);
    return rc;
}

static int valid_at(const cert_facts *f, int64_t now)
{
    return now >= f->not_before && now <= f->not_after;
}

/* Reads a stored file (no links followed) into b.  Returns 1, 0 when there is
 * none, -1 on another error. */
static int read_entry(const char *path, smime_buf *b)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    char chunk[4096];
    ssize_t n;
    int rc = 1;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (smime_buf_append(b, chunk, (size_t)n) < 0 || b->overflow) {
            rc = -1;
            errno = EFBIG;
            break;
        }
    if (n < 0)
        rc = -1;
    close(fd);
    return rc;
}

static int entry_path(const char *dir, const char *addr, char *out, size_t n)
{
    char name[256];
    if (smime_harvest_file_name(addr, name, sizeof(name)) < 0)
        return -1;
    return (size_t)snprintf(out, n, "%s/%s", dir, name) < n ? 0 : -1;
}

static int is_entry_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".pem") == 0;
}

/* Counts entries and their bytes, looking at no more than SMIME_HARVEST_SCAN_MAX. */
static int usage(const char *dir, size_t *entries, size_t *bytes)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    *entries = *bytes = 0;
    struct dirent *e;
    size_t seen = 0;
    while ((e = readdir(d)) != NULL && seen++ < SMIME_HARVEST_SCAN_MAX) {
        if (!is_entry_name(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
            (*entries)++;
            *bytes += (size_t)st.st_size;
        }
    }
    closedir(d);
    return 0;
}

/* Writes the entry through a temporary file (0600) and a rename. */
static int write_entry(const char *dir, const char *path, const char *pem, size_t len,
                       char *err, size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir) >= sizeof(tmp)) {
        smime_errf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    int fd = mkstemp(tmp);          /* 0600 */
    if (fd < 0) {
        smime_errf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, pem + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) < 0)
        ok = 0;
    if (!ok || rename(tmp, path) < 0) {
        if (ok)
            saved = errno;
        unlink(tmp);
        smime_errf(err, errlen, "%s: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

int smime_harvest_put(const char *dir, const smime_harvest_options *o, const char *addr,
                      const char *pem, size_t pem_len, int64_t now, char *err, size_t errlen)
{
    char path[4096];
    if (entry_path(dir, addr, path, sizeof(path)) < 0)
        return SMIME_HARVEST_INVALID;
    cert_facts neu;
    if (facts_of(pem, pem_len, &neu) < 0 || !valid_at(&neu, now))
        return SMIME_HARVEST_INVALID;
    smime_buf old;
    smime_buf_init(&old, SMIME_CERTS_PEM_MAX);
    int have = read_entry(path, &old);
    int read_errno = errno;
    if (have < 0 && read_errno == EFBIG)
        have = 1;                    /* an oversized file: unreadable, replaced */
    size_t old_len = old.len;
    cert_facts prev;
    int prev_ok = have == 1 && facts_of(old.data, old.len, &prev) == 0 && valid_at(&prev, now);
    smime_buf_free(&old);
    if (have < 0) {
        smime_errf(err, errlen, "%s: %s", path, strerror(read_errno));
        return -1;
    }
    if (prev_ok && strcmp(prev.sha256, neu.sha256) == 0)
        return SMIME_HARVEST_SAME;
    if (prev_ok && neu.not_before <= prev.not_before)
        return SMIME_HARVEST_KEPT;
    for (int pass = 0;; pass++) {
        size_t entries, bytes;
        if (usage(dir, &entries, &bytes) < 0) {
            smime_errf(err, errlen, "%s: %s", dir, strerror(errno));
            return -1;
        }
        if (have == 1 && entries > 0) {   /* a replacement frees its entry and bytes */
            entries--;
            bytes -= old_len < bytes ? old_len : bytes;
        }
        if (entries + 1 <= o->max_entries && bytes + pem_len <= o->max_bytes)
            break;
        if (pass == 1)
            return SMIME_HARVEST_FULL;
        long swept = smime_harvest_sweep(dir, now, err, errlen);
        if (swept < 0)
            return -1;
        if (swept == 0)
            return SMIME_HARVEST_FULL;
        if (!prev_ok)
            have = 0;                /* the sweep removed our unusable entry */
    }
    if (write_entry(dir, path, pem, pem_len, err, errlen) < 0)
        return -1;
    return SMIME_HARVEST_STORED;
}

int smime_harvest_forget(const char *dir, const char *addr, const char *sha256, char *err,
                         size_t errlen)
{
    char path[4096];
    if (entry_path(dir, addr, path, sizeof(path)) < 0)
        return 0;
    smime_buf b;
    smime_buf_init(&b, SMIME_CERTS_PEM_MAX);
    int have = read_entry(path, &b);
    cert_facts f;
    int match = have == 1 && facts_of(b.data, b.len, &f) == 0 && strcmp(f.sha256, sha256) == 0;
    smime_buf_free(&b);
    if (!match)
        return 0;
    if (unlink(path) < 0 && errno != ENOENT) {
        smime_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 1;
}

long smime_harvest_sweep(const char *dir, int64_t now, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        smime_errf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    long removed = 0;
    size_t seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && seen++ < SMIME_HARVEST_SCAN_MAX) {
        if (!is_entry_name(e->d_name))
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            continue;
        smime_buf b;
        smime_buf_init(&b, SMIME_CERTS_PEM_MAX);
        int have = read_entry(path, &b);
        cert_facts f;
        int keep = have == 1 && facts_of(b.data, b.len, &f) == 0 && now <= f.not_after;
        smime_buf_free(&b);
        if (have != 0 && !keep && unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int smime_harvest_lookup(const char *dir, const char *addr, int64_t now, smime_buf *out,
                         char *err, size_t errlen)
{
    char path[4096];
    if (entry_path(dir, addr, path, sizeof(path)) < 0)
        return 0;
    smime_buf b;
    smime_buf_init(&b, SMIME_CERTS_PEM_MAX);
    int have = read_entry(path, &b);
    if (have <= 0) {
        smime_buf_free(&b);
        if (have < 0)
            smime_errf(err, errlen, "%s: %s", path, strerror(errno));
        return have;
    }
    cert_facts f;
    int rc = 0, known = facts_of(b.data, b.len, &f) == 0;
    if (known && valid_at(&f, now)) {
        rc = smime_buf_append(out, b.data, b.len) < 0 ? -1 : 1;
        if (rc < 0)
            smime_errf(err, errlen, "output too large");
    } else if (known && now > f.not_after) {
        unlink(path);                /* expired: never served again */
    }
    smime_buf_free(&b);
    return rc;
}

/* ---- the writer thread ---- */

typedef struct harvest_job {
    int     forget;                  /* 0: put */
    char    addr[SMIME_ADDR_MAX];
    char    sha256[65];
    char   *pem;                     /* owned (put) */
    size_t  pem_len;
    int64_t now;
} harvest_job;

struct smime_harvester {
    char   *dir;
    smime_harvest_options opt;
    smime_harvest_log_fn log;
    void   *log_ctx;
    pthread_mutex_t lock;            /* guards the ring, stopping and dropped */
    pthread_cond_t  wake;
    harvest_job ring[SMIME_HARVEST_QUEUE];
    size_t  head, count;
    int     stopping;
    unsigned long dropped;
    pthread_t writer;
};

static void hlog(smime_harvester *h, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void hlog(smime_harvester *h, int is_error, const char *fmt, ...)
{
    if (!h->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    h->log(h->log_ctx, is_error, msg);
}

static void run_job(smime_harvester *h, harvest_job *j)
{
    char err[512] = "";
    if (j->forget) {
        int rc = smime_harvest_forget(h->dir, j->addr, j->sha256, err, sizeof(err));
        if (rc < 0)
            hlog(h, 1, "harvest: %s", err);
        else if (rc > 0)
            hlog(h, 0, "harvest: %s removed (certificate revoked)", j->addr);
        return;
    }
    int rc = smime_harvest_put(h->dir, &h->opt, j->addr, j->pem, j->pem_len, j->now, err,
                               sizeof(err));
    if (rc < 0)
        hlog(h, 1, "harvest: %s", err);
    else if (rc == SMIME_HARVEST_STORED)
        hlog(h, 0, "harvest: %s stored", j->addr);
    else if (rc == SMIME_HARVEST_FULL)
        hlog(h, 1, "harvest: %s not stored: the store is full", j->addr);
}

static void *writer_main(void *arg)
{
    smime_harvester *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->count == 0 && !h->stopping)
            pthread_cond_wait(&h->wake, &h->lock);
        if (h->count == 0)
            break;
        harvest_job j = h->ring[h->head];
        h->head = (h->head + 1) % SMIME_HARVEST_QUEUE;
        h->count--;
        pthread_mutex_unlock(&h->lock);
        run_job(h, &j);              /* the disk work, without the lock */
        free(j.pem);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int smime_harvester_start(const char *dir, const smime_harvest_options *o,
                          smime_harvest_log_fn log, void *log_ctx, smime_harvester **out,
                          char *err, size_t errlen)
{
    *out = NULL;
    if (smime_harvest_prepare(dir, err, errlen) < 0)
        return -1;
    smime_harvester *h = calloc(1, sizeof(*h));
    if (!h || !(h->dir = strdup(dir))) {
        free(h);
        smime_errf(err, errlen, "out of memory");
        return -1;
    }
    h->opt = *o;
    h->log = log;
    h->log_ctx = log_ctx;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    int rc = pthread_create(&h->writer, NULL, writer_main, h);
    if (rc != 0) {
        pthread_cond_destroy(&h->wake);
        pthread_mutex_destroy(&h->lock);
        free(h->dir);
        free(h);
        smime_errf(err, errlen, "cannot start the harvest writer: %s", strerror(rc));
        return -1;
    }
    *out = h;
    return 0;
}

/* Queues a job; takes j->pem.  0, or -1 when dropped (pem freed). */
static int enqueue(smime_harvester *h, harvest_job *j)
{
    pthread_mutex_lock(&h->lock);
    int ok = !h->stopping && h->count < SMIME_HARVEST_QUEUE;
    if (ok) {
        h->ring[(h->head + h->count) % SMIME_HARVEST_QUEUE] = *j;
        h->count++;
        pthread_cond_signal(&h->wake);
    } else {
        h->dropped++;
    }
    pthread_mutex_unlock(&h->lock);
    if (!ok)
        free(j->pem);
    return ok ? 0 : -1;
}

unsigned smime_harvester_submit(smime_harvester *h, const smime_report *r, int64_t now)
{
    unsigned dropped = 0;
    if (!h)
        return 0;
    for (size_t i = 0; i < r->n_sigs; i++) {
        const smime_sig_report *s = &r->sigs[i];
        if (!s->identifier[0])
            continue;
        harvest_job j;
        memset(&j, 0, sizeof(j));
        snprintf(j.addr, sizeof(j.addr), "%s", s->identifier);
        j.now = now;
        if (s->result == SMIME_RESULT_PASS && s->certs_pem) {
            j.pem = malloc(s->certs_pem_len);
            if (!j.pem) {
                pthread_mutex_lock(&h->lock);
                h->dropped++;
                pthread_mutex_unlock(&h->lock);
                dropped++;
                continue;
            }
            memcpy(j.pem, s->certs_pem, s->certs_pem_len);
            j.pem_len = s->certs_pem_len;
        } else if (s->has_signer && s->code && strcmp(s->code, "revoked") == 0 &&
                   s->signer.sha256[0]) {
            j.forget = 1;
            memcpy(j.sha256, s->signer.sha256, sizeof(j.sha256));
        } else {
            continue;
        }
        if (enqueue(h, &j) < 0)
            dropped++;
    }
    return dropped;
}

unsigned long smime_harvester_close(smime_harvester *h)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->writer, NULL);
    unsigned long dropped = h->dropped;
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    free(h->dir);
    free(h);
    return dropped;
}
