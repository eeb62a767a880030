/* json - a streaming JSON writer into an smime_buf.
 *
 * The writer tracks nesting so callers never place commas themselves.  Each value
 * call takes a key: pass a key inside an object, NULL inside an array or at the top.
 * Strings are written as valid JSON whatever their bytes: control characters are
 * escaped and bytes that are not well-formed UTF-8 become U+FFFD, so text taken
 * from certificates or mail cannot break the output.  Errors (buffer cap, nesting
 * deeper than SMIME_JSON_MAX_DEPTH) are sticky: check smime_json_ok() at the end. */
#ifndef SMIME_JSON_H
#define SMIME_JSON_H

#include <stddef.h>
#include "smime/util/buf.h"

#define SMIME_JSON_MAX_DEPTH 32

typedef struct smime_json {
    smime_buf *out;              /* borrowed */
    int        depth;
    int        failed;
    int        top_done;         /* the one top-level value was written */
    unsigned char has_items[SMIME_JSON_MAX_DEPTH];
    char       closer[SMIME_JSON_MAX_DEPTH];   /* '}' or ']' expected at each level */
} smime_json;

void smime_json_init(smime_json *j, smime_buf *out);
int  smime_json_ok(const smime_json *j);
void smime_json_begin_object(smime_json *j, const char *key);
void smime_json_end_object(smime_json *j);
void smime_json_begin_array(smime_json *j, const char *key);
void smime_json_end_array(smime_json *j);
/* val NULL writes null. */
void smime_json_string(smime_json *j, const char *key, const char *val);
void smime_json_stringn(smime_json *j, const char *key, const char *val, size_t n);
void smime_json_int(smime_json *j, const char *key, long long val);
void smime_json_bool(smime_json *j, const char *key, int val);
void smime_json_null(smime_json *j, const char *key);

/* Appends s (n bytes) to out as a quoted JSON string. */
int smime_json_quote(smime_buf *out, const char *s, size_t n);

#endif
