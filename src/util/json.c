/* json - streaming JSON writer (see include/smime/util/json.h). */
#include "smime/util/json.h"

#include <string.h>
#include "smime/util/text.h"

void smime_json_init(smime_json *j, smime_buf *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

int smime_json_ok(const smime_json *j)
{
    return !j->failed && !j->out->overflow && j->depth == 0;
}

int smime_json_quote(smime_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    int rc = smime_buf_putc(out, '"');
    size_t i = 0;
    while (i < n && rc == 0) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t k = smime_utf8_decode(p + i, n - i, &cp);
            if (k == 0) {
                rc = smime_buf_puts(out, "\\ufffd");
                i++;
            } else {
                rc = smime_buf_append(out, p + i, k);
                i += k;
            }
            continue;
        }
        switch (c) {
        case '"':  rc = smime_buf_puts(out, "\\\""); break;
        case '\\': rc = smime_buf_puts(out, "\\\\"); break;
        case '\n': rc = smime_buf_puts(out, "\\n"); break;
        case '\r': rc = smime_buf_puts(out, "\\r"); break;
        case '\t': rc = smime_buf_puts(out, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
                rc = smime_buf_puts(out, esc);
            } else {
                rc = smime_buf_putc(out, (char)c);
            }
        }
        i++;
    }
    if (rc == 0)
        rc = smime_buf_putc(out, '"');
    return rc;
}

/* Writes the separator and the key that precede a value at the current level. */
static int json_prefix(smime_json *j, const char *key)
{
    if (j->failed)
        return -1;
    if (j->depth == 0) {
        if (j->top_done || key)
            goto fail;        /* JSON text is one value; a key needs an object */
        j->top_done = 1;
    } else {
        if (j->has_items[j->depth - 1] && smime_buf_putc(j->out, ',') < 0)
            goto fail;
        j->has_items[j->depth - 1] = 1;
    }
    if (key) {
        if (smime_json_quote(j->out, key, strlen(key)) < 0 || smime_buf_putc(j->out, ':') < 0)
            goto fail;
    }
    return 0;
fail:
    j->failed = 1;
    return -1;
}

static void json_open(smime_json *j, const char *key, char c)
{
    if (json_prefix(j, key) < 0)
        return;
    if (j->depth >= SMIME_JSON_MAX_DEPTH || smime_buf_putc(j->out, c) < 0) {
        j->failed = 1;
        return;
    }
    j->closer[j->depth] = c == '{' ? '}' : ']';
    j->has_items[j->depth++] = 0;
}

static void json_close(smime_json *j, char c)
{
    if (j->failed)
        return;
    if (j->depth == 0 || j->closer[j->depth - 1] != c || smime_buf_putc(j->out, c) < 0) {
        j->failed = 1;
        return;
    }
    j->depth--;
}

void smime_json_begin_object(smime_json *j, const char *key) { json_open(j, key, '{'); }
void smime_json_end_object(smime_json *j) { json_close(j, '}'); }
void smime_json_begin_array(smime_json *j, const char *key) { json_open(j, key, '['); }
void smime_json_end_array(smime_json *j) { json_close(j, ']'); }

void smime_json_stringn(smime_json *j, const char *key, const char *val, size_t n)
{
    if (json_prefix(j, key) < 0)
        return;
    if ((val ? smime_json_quote(j->out, val, n) : smime_buf_puts(j->out, "null")) < 0)
        j->failed = 1;
}

void smime_json_string(smime_json *j, const char *key, const char *val)
{
    smime_json_stringn(j, key, val, val ? strlen(val) : 0);
}

void smime_json_int(smime_json *j, const char *key, long long val)
{
    if (json_prefix(j, key) == 0 && smime_buf_printf(j->out, "%lld", val) < 0)
        j->failed = 1;
}

void smime_json_bool(smime_json *j, const char *key, int val)
{
    if (json_prefix(j, key) == 0 && smime_buf_puts(j->out, val ? "true" : "false") < 0)
        j->failed = 1;
}

void smime_json_null(smime_json *j, const char *key)
{
    if (json_prefix(j, key) == 0 && smime_buf_puts(j->out, "null") < 0)
        j->failed = 1;
}
