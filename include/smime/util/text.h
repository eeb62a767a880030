/* text - small text helpers shared by the formatters: UTF-8 decoding and ASCII case
 * handling.  No locale is consulted anywhere: mail and certificates are not in the
 * user's locale. */
#ifndef SMIME_TEXT_H
#define SMIME_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence at s (n bytes available).  Returns its length (1..4)
 * and stores the code point, or returns 0 when the bytes are not well-formed UTF-8
 * (overlong forms, surrogates and values above U+10FFFF are not well-formed). */
size_t smime_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 when all n bytes are well-formed UTF-8. */
int smime_utf8_valid(const unsigned char *s, size_t n);

int smime_ascii_tolower(int c);
/* ASCII-only case-insensitive comparison of two byte strings of known length. */
int smime_ascii_casecmp_n(const char *a, size_t an, const char *b, size_t bn);

/* Upper-case hex of n bytes into out (NUL-terminated, cut to fit outlen). */
void smime_hex(const unsigned char *p, size_t n, char *out, size_t outlen);
/* The same for a DER INTEGER's content: leading zero bytes (sign padding) are
 * dropped, as people write serial numbers. */
void smime_integer_hex(const unsigned char *p, size_t n, char *out, size_t outlen);

/* Formats an error message into err (when err is not NULL and errlen > 0). */
void smime_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copies src (len bytes) into a fixed field of size bytes, always NUL-terminated,
 * cutting on a UTF-8 boundary with a "..." mark when it does not fit. */
void smime_text_set(char *dst, size_t size, const char *src, size_t len);

/* One line of a line-oriented settings file (configuration, policy): copies the
 * bytes from *pos up to the next LF (not included) into line, NUL-terminated,
 * moves *pos past the LF and counts *lineno.  Returns 1 with a line, 0 at the end
 * of text, -1 with err "SOURCE:N: ..." for a line of linesz bytes or more or one
 * holding a NUL byte: both refused before anything is copied. */
int smime_text_next_line(const char *text, size_t len, size_t *pos, unsigned *lineno,
                         char *line, size_t linesz, const char *source, char *err,
                         size_t errlen);

/* Reads the settings file at path, at most cap bytes, and hands its bytes to parse
 * with path as the source name (for "PATH:N: ..." errors).  Returns what parse
 * returns, or -1 with err "PATH: larger than CAP bytes" or "PATH: <errno text>". */
typedef int (*smime_text_parse_fn)(const char *text, size_t len, const char *source,
                                   void *out, char *err, size_t errlen);
int smime_text_load_file(const char *path, size_t cap, smime_text_parse_fn parse, void *out,
                         char *err, size_t errlen);

#endif
