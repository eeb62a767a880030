/* Unit tests of the capped growable buffer (src/util/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "smime/util/buf.h"

static void test_init_is_empty(void **state)
{
    (void)state;
    smime_buf b;
    memset(&b, 0x5a, sizeof(b));
    smime_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.cap, 100);
    assert_int_equal(b.overflow, 0);
    smime_buf_free(&b);
}

static void test_append_puts_putc_nul_terminated(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 1024);
    assert_int_equal(smime_buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3);
    assert_non_null(b.data);
    assert_int_equal(b.data[3], '\0');
    assert_string_equal(b.data, "abc");
    assert_int_equal(smime_buf_puts(&b, "de"), 0);
    assert_int_equal(smime_buf_putc(&b, 'f'), 0);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    assert_int_equal(b.data[b.len], '\0');
    /* Appending only part of a longer source copies exactly n bytes. */
    assert_int_equal(smime_buf_append(&b, "XYZ", 1), 0);
    assert_string_equal(b.data, "abcdefX");
    /* Zero-length append succeeds and changes nothing. */
    assert_int_equal(smime_buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.data, "abcdefX");
    assert_int_equal(b.overflow, 0);
    smime_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_binary_content_with_nul(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 64);
    assert_int_equal(smime_buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(smime_buf_putc(&b, '\0'), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "a\0b\0", 4);
    assert_int_equal(b.data[4], '\0');
    smime_buf_free(&b);
}

static void test_empty_append_allocates_empty_string(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 10);
    assert_int_equal(smime_buf_puts(&b, ""), 0);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    smime_buf_free(&b);
}

static void test_cap_exactly_reached(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 8);
    assert_int_equal(smime_buf_puts(&b, "12345"), 0);
    assert_int_equal(smime_buf_puts(&b, "678"), 0);   /* len == cap: allowed */
    assert_int_equal(b.len, 8);
    assert_int_equal(b.overflow, 0);
    assert_string_equal(b.data, "12345678");
    /* A zero-length append at the cap is still fine. */
    assert_int_equal(smime_buf_append(&b, "x", 0), 0);
    assert_int_equal(b.overflow, 0);
    /* One more byte is refused. */
    assert_int_equal(smime_buf_putc(&b, '9'), -1);
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    smime_buf_free(&b);
}

static void test_cap_exceeded_content_unchanged(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 8);
    assert_int_equal(smime_buf_puts(&b, "abcde"), 0);
    /* 5 + 4 > 8: refused as a whole, nothing partial is written. */
    assert_int_equal(smime_buf_puts(&b, "wxyz"), -1);
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "abcde");
    /* The flag is sticky: a later append that fits succeeds but keeps it set. */
    assert_int_equal(smime_buf_puts(&b, "fgh"), 0);
    assert_string_equal(b.data, "abcdefgh");
    assert_int_equal(b.overflow, 1);
    smime_buf_free(&b);
}

static void test_cap_exceeded_first_append(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 3);
    assert_int_equal(smime_buf_puts(&b, "abcd"), -1);
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 0);
    smime_buf_free(&b);

    smime_buf_init(&b, 0);
    assert_int_equal(smime_buf_putc(&b, 'a'), -1);
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 0);
    smime_buf_free(&b);
}

static void test_huge_append_refused_without_wrap(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 16);
    assert_int_equal(smime_buf_puts(&b, "ab"), 0);
    /* n close to SIZE_MAX must not wrap the len + n check (nothing is read). */
    assert_int_equal(smime_buf_append(&b, "x", SIZE_MAX), -1);
    assert_int_equal(smime_buf_append(&b, "x", SIZE_MAX - 1), -1);
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "ab");
    smime_buf_free(&b);
}

static void test_growth_beyond_initial_allocation(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(smime_buf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, 10000);
    assert_true(b.alloc > b.len);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[10000], '\0');
    smime_buf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 64);
    assert_int_equal(smime_buf_printf(&b, "%d-%s", 42, "x"), 0);
    assert_string_equal(b.data, "42-x");
    assert_int_equal(b.len, 4);
    assert_int_equal(smime_buf_printf(&b, "|%05u|", 7u), 0);
    assert_string_equal(b.data, "42-x|00007|");
    assert_int_equal(b.len, 11);
    assert_int_equal(smime_buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 11);
    assert_int_equal(b.data[11], '\0');
    smime_buf_free(&b);
}

static void test_printf_exact_cap_and_past_cap(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 10);
    assert_int_equal(smime_buf_printf(&b, "%s", "abcd"), 0);
    assert_int_equal(smime_buf_printf(&b, "%06d", 123), 0);    /* reaches 10 */
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "abcd000123");
    assert_int_equal(b.overflow, 0);
    assert_int_equal(smime_buf_printf(&b, "%c", 'z'), -1);
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "abcd000123");
    smime_buf_free(&b);

    smime_buf_init(&b, 10);
    assert_int_equal(smime_buf_puts(&b, "ab"), 0);
    assert_int_equal(smime_buf_printf(&b, "%s", "0123456789"), -1);  /* 2+10 > 10 */
    assert_int_equal(b.overflow, 1);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "ab");
    smime_buf_free(&b);
}

static int call_vprintf(smime_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = smime_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static void test_vprintf(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 2000);
    char big[1500];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    /* Larger than the first allocation: the buffer must grow before writing. */
    assert_int_equal(call_vprintf(&b, "<%s>%lld", big, -5LL), 0);
    assert_int_equal(b.len, 1499 + 2 + 2);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[1500], '>');
    assert_string_equal(b.data + 1501, "-5");
    smime_buf_free(&b);
}

static void test_reset(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 4);
    smime_buf_reset(&b);                       /* on a never-used buffer */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(smime_buf_puts(&b, "abcd"), 0);
    assert_int_equal(smime_buf_putc(&b, 'e'), -1);
    assert_int_equal(b.overflow, 1);
    smime_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.overflow, 0);
    assert_int_equal(b.cap, 4);
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    /* The whole cap is available again after a reset. */
    assert_int_equal(smime_buf_puts(&b, "wxyz"), 0);
    assert_string_equal(b.data, "wxyz");
    assert_int_equal(b.overflow, 0);
    smime_buf_free(&b);
}

static void test_steal(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 32);
    assert_int_equal(smime_buf_puts(&b, "hello"), 0);
    size_t len = 99;
    char *p = smime_buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 5);
    assert_string_equal(p, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.cap, 32);
    /* The buffer is usable again and does not share storage with p. */
    assert_int_equal(smime_buf_puts(&b, "again"), 0);
    assert_true(b.data != p);
    assert_string_equal(b.data, "again");
    assert_string_equal(p, "hello");
    free(p);
    /* len may be NULL. */
    p = smime_buf_steal(&b, NULL);
    assert_string_equal(p, "again");
    free(p);
    smime_buf_free(&b);
}

static void test_steal_empty_gives_empty_string(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 32);
    size_t len = 99;
    char *p = smime_buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    smime_buf_free(&b);
}

/* Header: steal "resets b"; smime_buf_reset() clears the overflow flag. */
static void test_steal_after_overflow_resets_flag(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 2);
    assert_int_equal(smime_buf_puts(&b, "abc"), -1);
    assert_int_equal(smime_buf_puts(&b, "ab"), 0);
    assert_int_equal(b.overflow, 1);
    size_t len;
    char *p = smime_buf_steal(&b, &len);
    assert_string_equal(p, "ab");
    assert_int_equal(len, 2);
    free(p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.overflow, 0);
    smime_buf_free(&b);
}

static void test_free_twice_and_reuse(void **state)
{
    (void)state;
    smime_buf b;
    smime_buf_init(&b, 8);
    smime_buf_free(&b);                        /* never used */
    assert_int_equal(smime_buf_puts(&b, "x"), 0);
    smime_buf_free(&b);
    smime_buf_free(&b);                        /* idempotent */
    assert_null(b.data);
    assert_int_equal(smime_buf_puts(&b, "y"), 0);  /* cap kept: reusable */
    assert_string_equal(b.data, "y");
    smime_buf_free(&b);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/smime-buf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    smime_buf b;
    /* exactly the cap: fine either way */
    smime_buf_init(&b, 10);
    assert_int_equal(smime_buf_read_file(&b, path, 0), 0);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    smime_buf_free(&b);
    /* past the cap: an error, unless cutting is asked for */
    smime_buf_init(&b, 9);
    errno = 0;
    assert_int_equal(smime_buf_read_file(&b, path, 0), -1);
    assert_int_equal(errno, EFBIG);
    smime_buf_free(&b);
    smime_buf_init(&b, 9);
    assert_int_equal(smime_buf_read_file(&b, path, 1), 0);
    assert_int_equal(b.len, 9);
    assert_string_equal(b.data, "012345678");
    smime_buf_free(&b);
    unlink(path);
    smime_buf_init(&b, 9);
    assert_int_equal(smime_buf_read_file(&b, path, 0), -1);
    assert_int_equal(errno, ENOENT);
    smime_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_init_is_empty),
        cmocka_unit_test(test_append_puts_putc_nul_terminated),
        cmocka_unit_test(test_binary_content_with_nul),
        cmocka_unit_test(test_empty_append_allocates_empty_string),
        cmocka_unit_test(test_cap_exactly_reached),
        cmocka_unit_test(test_cap_exceeded_content_unchanged),
        cmocka_unit_test(test_cap_exceeded_first_append),
        cmocka_unit_test(test_huge_append_refused_without_wrap),
        cmocka_unit_test(test_growth_beyond_initial_allocation),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_printf_exact_cap_and_past_cap),
        cmocka_unit_test(test_vprintf),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_steal_empty_gives_empty_string),
        cmocka_unit_test(test_steal_after_overflow_resets_flag),
        cmocka_unit_test(test_free_twice_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
