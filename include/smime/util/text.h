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

#endif
