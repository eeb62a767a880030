/* text - UTF-8 decoding and ASCII case helpers (see include/smime/util/text.h). */
#include "smime/util/text.h"

#include "smime/util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t smime_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2; v = c & 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3; v = c & 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

int smime_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = smime_utf8_decode(s + i, n - i, &cp);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

int smime_ascii_tolower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int smime_ascii_casecmp_n(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        int x = smime_ascii_tolower((unsigned char)a[i]);
        int y = smime_ascii_tolower((unsigned char)b[i]);
        if (x != y)
            return x - y;
    }
    return an == bn ? 0 : (an < bn ? -1 : 1);
}

void smime_hex(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t o = 0;
    if (outlen == 0)
        return;
    for (size_t i = 0; i < n && o + 2 < outlen; i++) {
        out[o++] = hx[p[i] >> 4];
        out[o++] = hx[p[i] & 15];
    }
    out[o] = '\0';
}

void smime_integer_hex(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    while (n > 1 && p[0] == 0) {
        p++;
        n--;
    }
    smime_hex(p, n, out, outlen);
}

void smime_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void smime_text_set(char *dst, size_t size, const char *src, size_t len)
{
    if (size == 0)
        return;
    if (len < size) {
        memcpy(dst, src, len);
        dst[len] = '\0';
        return;
    }
    /* Cut on a UTF-8 character boundary so the kept text stays well-formed, and
     * mark the cut with "..." when the field has room for it. */
    size_t mark = size >= 8 ? 3 : 0;
    size_t keep = size - 1 - mark;
    while (keep > 0 && ((unsigned char)src[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(dst, src, keep);
    memcpy(dst + keep, "...", mark);
    dst[keep + mark] = '\0';
}

int smime_text_next_line(const char *text, size_t len, size_t *pos, unsigned *lineno,
                         char *line, size_t linesz, const char *source, char *err,
                         size_t errlen)
{
    if (*pos >= len)
        return 0;
    ++*lineno;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n >= linesz) {
        smime_errf(err, errlen, "%s:%u: line longer than %zu bytes", source, *lineno, linesz - 1);
        return -1;
    }
    if (memchr(start, '\0', n)) {
        smime_errf(err, errlen, "%s:%u: NUL byte in line", source, *lineno);
        return -1;
    }
    memcpy(line, start, n);
    line[n] = '\0';
    return 1;
}

int smime_text_load_file(const char *path, size_t cap, smime_text_parse_fn parse, void *out,
                         char *err, size_t errlen)
{
    smime_buf b;
    smime_buf_init(&b, cap);
    int rc;
    if (smime_buf_read_file(&b, path, 0) < 0) {
        if (errno == EFBIG)
            smime_errf(err, errlen, "%s: larger than %zu bytes", path, cap);
        else
            smime_errf(err, errlen, "%s: %s", path, strerror(errno));
        rc = -1;
    } else {
        rc = parse(b.data ? b.data : "", b.len, path, out, err, errlen);
    }
    smime_buf_free(&b);
    return rc;
}
