/* Unit tests of memo: values come back as stored, a set's new key replaces the
 * one used longest ago, sizes are capped, and threads sharing one memo never see
 * a torn value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "smime/util/memo.h"

static void key_of(unsigned n, unsigned char key[SMIME_MEMO_KEY])
{
    memset(key, 0, SMIME_MEMO_KEY);
    memcpy(key, &n, sizeof(n));
    key[SMIME_MEMO_KEY - 1] = 0x5a;
}

static void test_get_put(void **state)
{
    (void)state;
    smime_memo *m = smime_memo_new(8, 64);
    assert_non_null(m);
    unsigned char k1[SMIME_MEMO_KEY], out[64];
    key_of(1, k1);
    assert_int_equal(smime_memo_get(m, k1, out, sizeof(out)), 0);
    assert_int_equal(smime_memo_put(m, k1, "first", 6), 0);
    assert_int_equal(smime_memo_get(m, k1, out, sizeof(out)), 6);
    assert_string_equal((char *)out, "first");
    /* a value that does not fit the caller's buffer is not half copied */
    memset(out, 0, sizeof(out));
    assert_int_equal(smime_memo_get(m, k1, out, 3), 0);
    assert_int_equal(out[0], 0);
    /* the same key again replaces */
    assert_int_equal(smime_memo_put(m, k1, "second", 7), 0);
    assert_int_equal(smime_memo_get(m, k1, out, sizeof(out)), 7);
    assert_string_equal((char *)out, "second");
    /* empty and oversized values are refused, and leave the old one */
    assert_int_equal(smime_memo_put(m, k1, "x", 0), -1);
    unsigned char big[65] = { 0 };
    assert_int_equal(smime_memo_put(m, k1, big, sizeof(big)), -1);
    assert_int_equal(smime_memo_get(m, k1, out, sizeof(out)), 7);
    unsigned long hits, misses;
    smime_memo_stats(m, &hits, &misses);
    assert_int_equal(hits, 3);
    assert_int_equal(misses, 2);
    smime_memo_free(m);
    smime_memo_free(NULL);
}

static void test_collision_replaces(void **state)
{
    (void)state;
    /* one set (1 is rounded up to the 4 ways of one set): every key shares it;
     * four keys live side by side, a fifth replaces the one used longest ago */
    smime_memo *m = smime_memo_new(1, 16);
    unsigned char k[6][SMIME_MEMO_KEY], out[16];
    for (unsigned i = 1; i <= 5; i++)
        key_of(i, k[i]);
    for (unsigned i = 1; i <= 4; i++)
        assert_int_equal(smime_memo_put(m, k[i], &i, sizeof(i)), 0);
    for (unsigned i = 1; i <= 4; i++)
        assert_int_equal(smime_memo_get(m, k[i], out, sizeof(out)), sizeof(i));
    /* k1 read again: k2 is now the least recently used */
    assert_int_equal(smime_memo_get(m, k[1], out, sizeof(out)), sizeof(unsigned));
    unsigned five = 5;
    assert_int_equal(smime_memo_put(m, k[5], &five, sizeof(five)), 0);
    assert_int_equal(smime_memo_get(m, k[2], out, sizeof(out)), 0);
    assert_int_equal(smime_memo_get(m, k[1], out, sizeof(out)), sizeof(unsigned));
    assert_int_equal(smime_memo_get(m, k[5], out, sizeof(out)), sizeof(unsigned));
    unsigned got;
    memcpy(&got, out, sizeof(got));
    assert_int_equal(got, 5);
    assert_int_equal(smime_memo_get(m, k[3], out, sizeof(out)), sizeof(unsigned));
    assert_int_equal(smime_memo_get(m, k[4], out, sizeof(out)), sizeof(unsigned));
    /* a key stored again replaces its own value, in its own slot */
    assert_int_equal(smime_memo_put(m, k[1], "one", 4), 0);
    assert_int_equal(smime_memo_get(m, k[1], out, sizeof(out)), 4);
    assert_string_equal((char *)out, "one");
    smime_memo_free(m);
}

/* Each value is 256 copies of one byte derived from its key: a reader that ever
 * sees two different bytes in a value has read it torn. */
typedef struct hammer {
    smime_memo *m;
    unsigned seed;
    int torn;
} hammer;

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    unsigned char key[SMIME_MEMO_KEY], val[256], out[256];
    for (unsigned i = 0; i < 20000; i++) {
        unsigned n = (i * 7 + h->seed) % 64;
        key_of(n, key);
        if (i % 3 == 0) {
            memset(val, (int)(n + 1), sizeof(val));
            smime_memo_put(h->m, key, val, sizeof(val));
        } else {
            size_t len = smime_memo_get(h->m, key, out, sizeof(out));
            for (size_t k = 0; k < len; k++)
                if (out[k] != (unsigned char)(n + 1))
                    h->torn = 1;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    smime_memo *m = smime_memo_new(16, 256);
    pthread_t th[4];
    hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){ m, (unsigned)i * 13, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_false(h[i].torn);
    }
    unsigned long hits, misses;
    smime_memo_stats(m, &hits, &misses);
    assert_true(hits > 0);
    smime_memo_free(m);
}

static void key_of_parts(const char *domain, const char *const *parts, size_t n,
                         unsigned char key[SMIME_MEMO_KEY])
{
    smime_memo_keyer k;
    assert_int_equal(smime_memo_key_begin(&k, domain), 0);
    for (size_t i = 0; i < n; i++)
        smime_memo_key_part(&k, parts[i], strlen(parts[i]));
    smime_memo_key_end(&k, key);
}

/* Keys tell apart what their parts tell apart: where one part ends and the next
 * begins, and the domain. */
static void test_keys(void **state)
{
    (void)state;
    static const char *const ab_c[] = { "ab", "c" }, *const a_bc[] = { "a", "bc" };
    static const char *const abc[] = { "abc" }, *const abc_empty[] = { "abc", "" };
    unsigned char k1[SMIME_MEMO_KEY], k2[SMIME_MEMO_KEY], k3[SMIME_MEMO_KEY], k4[SMIME_MEMO_KEY];
    key_of_parts("d", ab_c, 2, k1);
    key_of_parts("d", a_bc, 2, k2);
    key_of_parts("d", abc, 1, k3);
    key_of_parts("d", abc_empty, 2, k4);
    assert_memory_not_equal(k1, k2, SMIME_MEMO_KEY);
    assert_memory_not_equal(k1, k3, SMIME_MEMO_KEY);
    assert_memory_not_equal(k3, k4, SMIME_MEMO_KEY);
    key_of_parts("e", ab_c, 2, k2);
    assert_memory_not_equal(k1, k2, SMIME_MEMO_KEY);
    key_of_parts("d", ab_c, 2, k2);
    assert_memory_equal(k1, k2, SMIME_MEMO_KEY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_collision_replaces),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
