/* memo - a bounded, thread-safe memory of results worth keeping between messages,
 * keyed by a SHA-256 digest the caller computes over everything the result depends
 * on.  Values are copied in and out, so a caller never holds a pointer into the
 * memo and one memo serves every thread.
 *
 * Four-way set-associative: a key may sit in any of the four slots of its set, a
 * key stored again replaces its own value, and a new key replaces the value of its
 * set used longest ago.  Callers give their keys a distinct prefix in the hashed input (a domain)
 * so that different kinds of result cannot collide. */
#ifndef SMIME_MEMO_H
#define SMIME_MEMO_H

#include <stddef.h>

typedef struct smime_memo smime_memo;

#define SMIME_MEMO_KEY 32

/* A memo of `slots` entries (rounded up to a power of two, 4 to 65536), each
 * value at most max_value bytes.  NULL when memory runs out. */
smime_memo *smime_memo_new(unsigned slots, size_t max_value);
void        smime_memo_free(smime_memo *m);

/* Copies the value remembered under key into out when it fits in cap bytes and
 * returns its length; returns 0 when nothing is remembered (or it does not fit). */
size_t smime_memo_get(smime_memo *m, const unsigned char key[SMIME_MEMO_KEY], void *out,
                      size_t cap);

/* Remembers a copy of value under key.  Returns 0, or -1 when the value is empty,
 * larger than the memo's max_value, or memory ran out (nothing is remembered). */
int smime_memo_put(smime_memo *m, const unsigned char key[SMIME_MEMO_KEY], const void *value,
                   size_t len);

/* Building a key: a domain string that keeps one kind of result apart from
 * another, then the parts the result depends on, each length-prefixed so that no
 * two different sequences of parts hash alike. */
typedef struct smime_memo_keyer {
    void *hash;                    /* gnutls_hash_hd_t */
} smime_memo_keyer;

int  smime_memo_key_begin(smime_memo_keyer *k, const char *domain);   /* 0 or -1 */
void smime_memo_key_part(smime_memo_keyer *k, const void *p, size_t n);
void smime_memo_key_end(smime_memo_keyer *k, unsigned char key[SMIME_MEMO_KEY]);

/* Lookups that found a value and that did not, since the memo was made. */
void smime_memo_stats(smime_memo *m, unsigned long *hits, unsigned long *misses);

#endif
