/* buf - a growable byte buffer with a hard cap.
 *
 * Every buffer in the project that grows with input is one of these: appending past
 * the cap fails cleanly (returns -1 and sets `overflow`) instead of growing without
 * bound.  The buffer owns its storage; smime_buf_free() releases it.  The content is
 * always NUL-terminated (the NUL is not counted in len) so text can be used as a C
 * string directly. */
#ifndef SMIME_BUF_H
#define SMIME_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct smime_buf {
    char  *data;      /* owned; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap;       /* maximum len; appends beyond it fail */
    int    overflow;  /* set once an append was refused for the cap or for memory */
} smime_buf;

void smime_buf_init(smime_buf *b, size_t cap);
void smime_buf_free(smime_buf *b);
void smime_buf_reset(smime_buf *b);
int  smime_buf_append(smime_buf *b, const void *p, size_t n);
int  smime_buf_puts(smime_buf *b, const char *s);
int  smime_buf_putc(smime_buf *b, char c);
int  smime_buf_printf(smime_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int  smime_buf_vprintf(smime_buf *b, const char *fmt, va_list ap);
/* Reads the file at path ("-" is standard input) into b, which the caller has
 * initialised with its cap.  With cut_at_cap a longer file is cut at the cap
 * (b->len == b->cap) and that is not an error; without it, it is (EFBIG).
 * Returns 0, or -1 with errno set (the file's own error, EFBIG or ENOMEM). */
int  smime_buf_read_file(smime_buf *b, const char *path, int cut_at_cap);
/* Hands the storage to the caller (who frees it with free()) and resets b. */
char *smime_buf_steal(smime_buf *b, size_t *len);

#endif
