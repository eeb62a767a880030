/* spool - one message's bytes: in memory up to MessageMemoryLimit, then in an
 * unlinked temporary file in TemporaryDirectory, never more than
 * MaximumMessageSize (past it the message is only counted, not stored, and the
 * caller reports it as not checked). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "milter.h"

/* In-memory buffers of finished messages, kept for the next ones.  Growing a
 * buffer by doubling copies it each time and takes fresh pages from the kernel:
 * a message of a few hundred KB paid for that in copies, page faults and heap
 * trimming (some 4 % of the daemon's CPU per message on the bench mix).  Taken
 * from here, a buffer is written once.  At most SPOOL_POOL_BUFFERS are kept, each
 * at most SPOOL_POOL_MAX_BYTES (MessageMemoryLimit's default: beyond it a message
 * goes to a file anyway), so the pool holds 8 MiB at most whatever the traffic. */
#define SPOOL_POOL_BUFFERS   8
#define SPOOL_POOL_MAX_BYTES (1u << 20)
static struct {
    pthread_mutex_t lock;
    char           *buf[SPOOL_POOL_BUFFERS];     /* owned; guarded by lock */
    size_t          alloc[SPOOL_POOL_BUFFERS];
    size_t          n;
} spool_pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Takes the largest kept buffer whose size is within limit into s, if any. */
static void pool_take(milter_spool *s, size_t limit)
{
    pthread_mutex_lock(&spool_pool.lock);
    size_t best = spool_pool.n;
    for (size_t i = 0; i < spool_pool.n; i++)
        if (spool_pool.alloc[i] <= limit &&
            (best == spool_pool.n || spool_pool.alloc[i] > spool_pool.alloc[best]))
            best = i;
    if (best < spool_pool.n) {
        s->mem = spool_pool.buf[best];
        s->mem_alloc = spool_pool.alloc[best];
        spool_pool.n--;
        spool_pool.buf[best] = spool_pool.buf[spool_pool.n];
        spool_pool.alloc[best] = spool_pool.alloc[spool_pool.n];
    }
    pthread_mutex_unlock(&spool_pool.lock);
}

/* Gives s's buffer back to the pool, or frees it when the pool is full or the
 * buffer too large; s keeps none. */
static void pool_give(milter_spool *s)
{
    char *mem = s->mem;
    size_t alloc = s->mem_alloc;
    s->mem = NULL;
    s->mem_alloc = 0;
    if (!mem)
        return;
    if (alloc <= SPOOL_POOL_MAX_BYTES) {
        pthread_mutex_lock(&spool_pool.lock);
        if (spool_pool.n < SPOOL_POOL_BUFFERS) {
            spool_pool.buf[spool_pool.n] = mem;
            spool_pool.alloc[spool_pool.n] = alloc;
            spool_pool.n++;
            mem = NULL;
        }
        pthread_mutex_unlock(&spool_pool.lock);
    }
    free(mem);
}

void spool_pool_drain(void)
{
    pthread_mutex_lock(&spool_pool.lock);
    for (size_t i = 0; i < spool_pool.n; i++)
        free(spool_pool.buf[i]);
    spool_pool.n = 0;
    pthread_mutex_unlock(&spool_pool.lock);
}

size_t spool_pool_kept(void)
{
    pthread_mutex_lock(&spool_pool.lock);
    size_t n = spool_pool.n;
    pthread_mutex_unlock(&spool_pool.lock);
    return n;
}

void spool_init(milter_spool *s, size_t memory_limit, size_t max_size, const char *dir)
{
    memset(s, 0, sizeof(*s));
    s->memory_limit = memory_limit;
    s->max_size = max_size;
    s->dir = dir;
    s->fd = -1;
    pool_take(s, memory_limit);
}

static int spool_fail(milter_spool *s, const char *what, int err)
{
    if (!s->error[0])
        snprintf(s->error, sizeof(s->error), "%s: %s", what, strerror(err));
    return -1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Moves the in-memory bytes to a new temporary file. */
static int spool_spill(milter_spool *s)
{
    char path[SMIME_CONFIG_PATH_MAX + 32];
    int n = snprintf(path, sizeof(path), "%s/smime-milter.XXXXXX", s->dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return spool_fail(s, "temporary file name", ENAMETOOLONG);
    int fd = mkstemp(path);
    if (fd < 0)
        return spool_fail(s, "temporary file in TemporaryDirectory", errno);
    /* unlinked at once: nothing is left behind whatever happens to the process */
    if (unlink(path) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int e = errno;
        close(fd);
        return spool_fail(s, "temporary file", e);
    }
    if (write_all(fd, s->mem, s->len) < 0) {
        int e = errno;
        close(fd);
        return spool_fail(s, "temporary file write", e);
    }
    s->fd = fd;
    pool_give(s);
    return 0;
}

int spool_append(milter_spool *s, const void *p, size_t n)
{
    if (s->error[0])
        return -1;
    if (s->too_big || n == 0)
        return 0;
    if (n > s->max_size - s->len) {
        s->too_big = 1;
        pool_give(s);
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        return 0;
    }
    if (s->fd < 0 && s->len + n > s->memory_limit && spool_spill(s) < 0)
        return -1;
    if (s->fd >= 0) {
        if (write_all(s->fd, p, n) < 0)
            return spool_fail(s, "temporary file write", errno);
        s->len += n;
        return 0;
    }
    if (s->len + n > s->mem_alloc) {
        size_t want = s->mem_alloc ? s->mem_alloc : 16384;
        while (want < s->len + n)
            want *= 2;
        if (want > s->memory_limit)
            want = s->memory_limit;
        char *m = realloc(s->mem, want);
        if (!m)
            return spool_fail(s, "message buffer", ENOMEM);
        s->mem = m;
        s->mem_alloc = want;
    }
    memcpy(s->mem + s->len, p, n);
    s->len += n;
    return 0;
}

int spool_view(milter_spool *s, const char **data, size_t *len)
{
    if (s->error[0])
        return -1;
    *len = s->len;
    if (s->fd < 0) {
        *data = s->mem ? s->mem : "";
        return 0;
    }
    if (!s->map) {
        void *m = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, s->fd, 0);
        if (m == MAP_FAILED)
            return spool_fail(s, "mapping the temporary file", errno);
        s->map = m;
    }
    *data = s->map;
    return 0;
}

void spool_free(milter_spool *s)
{
    if (s->map)
        munmap(s->map, s->len);
    if (s->fd >= 0)
        close(s->fd);
    pool_give(s);
    s->map = NULL;
    s->fd = -1;
}
