/* Unit tests of the milter's message spool (milter/spool.c): memory first, then an
 * unlinked temporary file, nothing past the size cap, failures reported.  The
 * spool is part of the daemon, not of libsmime, so its source is compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../milter/spool.c"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_spool.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    spool_pool_drain();
    return rmdir(tmpdir);           /* fails if the spool left a file behind */
}

static size_t files_in(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void fill(char *buf, size_t n, size_t offset)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (offset + i) % 26);
}

static void test_memory_only(void **state)
{
    (void)state;
    milter_spool s;
    spool_init(&s, 1024, 4096, tmpdir);
    assert_int_equal(spool_append(&s, "Subject: x\r\n\r\n", 14), 0);
    assert_int_equal(spool_append(&s, "body\r\n", 6), 0);
    const char *data;
    size_t len;
    assert_int_equal(spool_view(&s, &data, &len), 0);
    assert_int_equal(len, 20);
    assert_memory_equal(data, "Subject: x\r\n\r\nbody\r\n", 20);
    assert_int_equal(s.fd, -1);
    spool_free(&s);
}

/* Past the memory limit the bytes move to a file that is already unlinked, and the
 * view still gives back every byte in order. */
static void test_spills_to_unlinked_file(void **state)
{
    (void)state;
    milter_spool s;
    spool_init(&s, 1000, 1u << 20, tmpdir);
    char chunk[300];
    size_t total = 0;
    for (int i = 0; i < 20; i++) {
        fill(chunk, sizeof(chunk), total);
        assert_int_equal(spool_append(&s, chunk, sizeof(chunk)), 0);
        total += sizeof(chunk);
    }
    assert_true(s.fd >= 0);
    assert_null(s.mem);
    assert_int_equal(files_in(tmpdir), 0);
    const char *data;
    size_t len;
    assert_int_equal(spool_view(&s, &data, &len), 0);
    assert_int_equal(len, total);
    char *want = malloc(total);
    assert_non_null(want);
    fill(want, total, 0);
    assert_memory_equal(data, want, total);
    free(want);
    spool_free(&s);
}

/* Past the size cap nothing more is stored, it is not an error, and it stays so. */
static void test_too_big(void **state)
{
    (void)state;
    milter_spool s;
    spool_init(&s, 100, 1000, tmpdir);
    char chunk[600];
    fill(chunk, sizeof(chunk), 0);
    assert_int_equal(spool_append(&s, chunk, sizeof(chunk)), 0);
    assert_int_equal(s.too_big, 0);
    assert_int_equal(spool_append(&s, chunk, sizeof(chunk)), 0);
    assert_int_equal(s.too_big, 1);
    assert_int_equal(s.fd, -1);
    assert_null(s.mem);
    assert_int_equal(spool_append(&s, "x", 1), 0);
    assert_string_equal(s.error, "");
    spool_free(&s);
}

/* A finished message's buffer serves the next one, which then writes into it
 * from its start; one too large for the pool is freed, and the pool keeps at
 * most its number of buffers. */
static void test_buffers_are_reused(void **state)
{
    (void)state;
    spool_pool_drain();
    milter_spool a, b;
    spool_init(&a, 1u << 20, 1u << 22, tmpdir);
    static char chunk[200000];
    fill(chunk, sizeof(chunk), 0);
    assert_int_equal(spool_append(&a, chunk, sizeof(chunk)), 0);
    const char *kept = a.mem;
    spool_free(&a);
    assert_int_equal(spool_pool_kept(), 1);
    spool_init(&b, 1u << 20, 1u << 22, tmpdir);
    assert_int_equal(spool_pool_kept(), 0);
    assert_ptr_equal(b.mem, kept);
    assert_int_equal(spool_append(&b, "Subject: y\r\n", 12), 0);
    const char *data;
    size_t len;
    assert_int_equal(spool_view(&b, &data, &len), 0);
    assert_int_equal(len, 12);
    assert_memory_equal(data, "Subject: y\r\n", 12);
    spool_free(&b);
    /* a buffer larger than the memory limit of the next spool is not taken */
    milter_spool small;
    spool_init(&small, 1000, 4096, tmpdir);
    assert_null(small.mem);
    assert_int_equal(spool_pool_kept(), 1);
    spool_free(&small);
    /* over the pool's size cap: freed, not kept */
    spool_pool_drain();
    milter_spool big;
    spool_init(&big, 4u << 20, 8u << 20, tmpdir);
    for (int i = 0; i < 10; i++)
        assert_int_equal(spool_append(&big, chunk, sizeof(chunk)), 0);
    spool_free(&big);
    assert_int_equal(spool_pool_kept(), 0);
    /* never more than the pool's number of buffers */
    milter_spool many[12];
    for (int i = 0; i < 12; i++) {
        spool_init(&many[i], 1u << 20, 1u << 22, tmpdir);
        assert_int_equal(spool_append(&many[i], chunk, 100), 0);
    }
    for (int i = 0; i < 12; i++)
        spool_free(&many[i]);
    assert_int_equal(spool_pool_kept(), 8);
    spool_pool_drain();
    assert_int_equal(spool_pool_kept(), 0);
}

static void test_missing_directory_is_an_error(void **state)
{
    (void)state;
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing", tmpdir);
    milter_spool s;
    spool_init(&s, 10, 1000, missing);
    assert_int_equal(spool_append(&s, "0123456789", 10), 0);
    assert_int_equal(spool_append(&s, "x", 1), -1);
    assert_non_null(strstr(s.error, "temporary file in TemporaryDirectory"));
    /* sticky: later calls fail too, and there is nothing to view */
    assert_int_equal(spool_append(&s, "y", 1), -1);
    const char *data;
    size_t len;
    assert_int_equal(spool_view(&s, &data, &len), -1);
    spool_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_only),
        cmocka_unit_test(test_spills_to_unlinked_file),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_buffers_are_reused),
        cmocka_unit_test(test_missing_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
