/* buf - growable byte buffer with a hard cap (see include/smime/util/buf.h). */
#include "smime/util/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void smime_buf_init(smime_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void smime_buf_free(smime_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
    b->overflow = 0;
}

void smime_buf_reset(smime_buf *b)
{
    b->len = 0;
    b->overflow = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int buf_reserve(smime_buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra) {
        b->overflow = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = realloc(b->data, n);
    if (!p) {
        b->overflow = 1;
        return -1;
    }
    b->data = p;
    b->alloc = n;
    return 0;
}

int smime_buf_append(smime_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int smime_buf_puts(smime_buf *b, const char *s)
{
    return smime_buf_append(b, s, strlen(s));
}

int smime_buf_putc(smime_buf *b, char c)
{
    return smime_buf_append(b, &c, 1);
}

int smime_buf_vprintf(smime_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int smime_buf_printf(smime_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = smime_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *smime_buf_steal(smime_buf *b, size_t *len)
{
    char *p = b->data;
    if (!p) {
        p = calloc(1, 1);
    }
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    b->overflow = 0;
    return p;
}

int smime_buf_read_file(smime_buf *b, const char *path, int cut_at_cap)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char chunk[65536];
    int err = 0;
    for (;;) {
        size_t room = b->cap - b->len;
        if (cut_at_cap && room == 0)
            break;
        /* Without cut_at_cap one byte past the cap is asked for, to tell a file
         * of exactly cap bytes from a longer one. */
        size_t want = cut_at_cap && room < sizeof(chunk) ? room : sizeof(chunk);
        ssize_t n = read(fd, chunk, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0)
            break;
        if (smime_buf_append(b, chunk, (size_t)n) < 0) {
            err = (size_t)n > b->cap - b->len ? EFBIG : ENOMEM;
            break;
        }
    }
    if (fd != STDIN_FILENO)
        close(fd);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
