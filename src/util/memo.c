/* memo - bounded result memory shared by threads (see include/smime/util/memo.h). */
#include "smime/util/memo.h"

#include <gnutls/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_SLOTS_MAX 65536u
/* A key may sit in any of the WAYS slots of its set, and a new key replaces the
 * one of them used longest ago: with one slot per key (direct-mapped), two
 * senders whose keys shared a slot pushed each other out on every message, and
 * the 16 lookups of an 8-signer message were the likeliest to collide. */
#define WAYS 4u

typedef struct memo_slot {
    unsigned char key[SMIME_MEMO_KEY];
    unsigned char *value;          /* owned; NULL when the slot is empty */
    size_t len;
    unsigned long used;            /* m->tick when last stored or found */
} memo_slot;

struct smime_memo {
    pthread_mutex_t lock;          /* guards everything below */
    memo_slot *slots;
    unsigned set_mask;             /* sets - 1; set i is slots[i * WAYS ...] */
    unsigned n_slots;
    size_t max_value;
    unsigned long hits, misses, tick;
};

smime_memo *smime_memo_new(unsigned slots, size_t max_value)
{
    unsigned n = WAYS;
    while (n < slots && n < MEMO_SLOTS_MAX)
        n <<= 1;
    smime_memo *m = calloc(1, sizeof(*m));
    if (!m || !(m->slots = calloc(n, sizeof(*m->slots)))) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->n_slots = n;
    m->set_mask = n / WAYS - 1;
    m->max_value = max_value;
    return m;
}

void smime_memo_free(smime_memo *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->n_slots; i++)
        free(m->slots[i].value);
    free(m->slots);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* The first slot of the key's set. */
static memo_slot *set_of(smime_memo *m, const unsigned char key[SMIME_MEMO_KEY])
{
    /* the key is a digest: any of its bytes are as good as a hash */
    unsigned h = (unsigned)key[0] | (unsigned)key[1] << 8 | (unsigned)key[2] << 16;
    return &m->slots[(h & m->set_mask) * WAYS];
}

static memo_slot *find(memo_slot *set, const unsigned char key[SMIME_MEMO_KEY])
{
    for (unsigned w = 0; w < WAYS; w++)
        if (set[w].value && memcmp(set[w].key, key, SMIME_MEMO_KEY) == 0)
            return &set[w];
    return NULL;
}

size_t smime_memo_get(smime_memo *m, const unsigned char key[SMIME_MEMO_KEY], void *out,
                      size_t cap)
{
    size_t len = 0;
    pthread_mutex_lock(&m->lock);
    memo_slot *s = find(set_of(m, key), key);
    if (s && s->len <= cap) {
        memcpy(out, s->value, s->len);
        len = s->len;
        s->used = ++m->tick;
    }
    if (len)
        m->hits++;
    else
        m->misses++;
    pthread_mutex_unlock(&m->lock);
    return len;
}

int smime_memo_put(smime_memo *m, const unsigned char key[SMIME_MEMO_KEY], const void *value,
                   size_t len)
{
    if (len == 0 || len > m->max_value)
        return -1;
    unsigned char *copy = malloc(len);     /* outside the lock: it may be slow */
    if (!copy)
        return -1;
    memcpy(copy, value, len);
    pthread_mutex_lock(&m->lock);
    memo_slot *set = set_of(m, key);
    memo_slot *s = find(set, key);
    for (unsigned w = 0; !s && w < WAYS; w++)
        if (!set[w].value)
            s = &set[w];
    if (!s) {                              /* full: the one used longest ago */
        s = &set[0];
        for (unsigned w = 1; w < WAYS; w++)
            if (set[w].used < s->used)
                s = &set[w];
    }
    unsigned char *old = s->value;
    memcpy(s->key, key, SMIME_MEMO_KEY);
    s->value = copy;
    s->len = len;
    s->used = ++m->tick;
    pthread_mutex_unlock(&m->lock);
    free(old);
    return 0;
}

void smime_memo_stats(smime_memo *m, unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&m->lock);
    *hits = m->hits;
    *misses = m->misses;
    pthread_mutex_unlock(&m->lock);
}

int smime_memo_key_begin(smime_memo_keyer *k, const char *domain)
{
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        return -1;
    k->hash = h;
    smime_memo_key_part(k, domain, strlen(domain));
    return 0;
}

void smime_memo_key_part(smime_memo_keyer *k, const void *p, size_t n)
{
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    gnutls_hash(k->hash, len, sizeof(len));
    if (n)
        gnutls_hash(k->hash, p, n);
}

void smime_memo_key_end(smime_memo_keyer *k, unsigned char key[SMIME_MEMO_KEY])
{
    gnutls_hash_deinit(k->hash, key);
    k->hash = NULL;
}
