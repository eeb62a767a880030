/* Unit tests of the libcurl transport's guards (src/revocation/http.c): which
 * addresses count as non-public, that a loopback responder is refused unless
 * RevocationAllowPrivate, and that redirects are not followed unless allowed.  A
 * one-shot HTTP server on 127.0.0.1 (a thread of this test) answers each request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smime/revocation/http.h"

typedef struct server {
    int listen_fd;
    int port;
    int requests;                  /* served, in order */
    pthread_t thread;
} server;

/* Answers up to four requests: "/moved" with a 302 to "/data", anything else 200. */
static void *serve(void *arg)
{
    server *s = arg;
    for (int i = 0; i < 4; i++) {
        int c = accept(s->listen_fd, NULL, NULL);
        if (c < 0)
            break;
        char req[2048];
        ssize_t n = read(c, req, sizeof(req) - 1);
        req[n > 0 ? n : 0] = '\0';
        char resp[512];
        if (strncmp(req, "GET /moved ", 11) == 0)
            snprintf(resp, sizeof(resp),
                     "HTTP/1.0 302 Found\r\nLocation: http://127.0.0.1:%d/data\r\n"
                     "Content-Length: 0\r\n\r\n", s->port);
        else
            snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        ssize_t w = write(c, resp, strlen(resp));
        (void)w;
        close(c);
        s->requests++;
    }
    return NULL;
}

static void server_start(server *s)
{
    memset(s, 0, sizeof(*s));
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(listen(s->listen_fd, 8), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
    shutdown(s->listen_fd, SHUT_RDWR);
    close(s->listen_fd);
    pthread_join(s->thread, NULL);
}

static smime_fetch_rc fetch(const smime_http_config *hc, int port, const char *path, smime_buf *body,
                            char *err, size_t errlen)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    smime_fetch_request req = { .url = url, .max_bytes = 1024,
                                .deadline_ms = smime_rev_clock_ms() + 5000 };
    return smime_http_fetch((void *)hc, &req, body, err, errlen);
}

static void test_private_addresses(void **state)
{
    (void)state;
    static const struct { const char *addr; int private; } v4[] = {
        { "127.0.0.1", 1 }, { "10.1.2.3", 1 }, { "172.16.0.1", 1 }, { "172.31.255.255", 1 },
        { "172.32.0.1", 0 }, { "192.168.1.1", 1 }, { "169.254.169.254", 1 }, { "100.64.0.1", 1 },
        { "100.128.0.1", 0 }, { "0.0.0.0", 1 }, { "224.0.0.1", 1 }, { "255.255.255.255", 1 },
        { "8.8.8.8", 0 }, { "192.0.2.1", 0 }, { "193.168.1.1", 0 },
    };
    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        assert_int_equal(inet_pton(AF_INET, v4[i].addr, &a.sin_addr), 1);
        if (smime_http_address_private((struct sockaddr *)&a) != v4[i].private)
            fail_msg("%s: expected %s", v4[i].addr, v4[i].private ? "private" : "public");
    }
    static const struct { const char *addr; int private; } v6[] = {
        { "::1", 1 }, { "::", 1 }, { "fe80::1", 1 }, { "fd00::1", 1 }, { "fc00::1", 1 },
        { "ff02::1", 1 }, { "::ffff:127.0.0.1", 1 }, { "::ffff:8.8.8.8", 0 },
        { "2001:db8::1", 0 }, { "2a00:1450::1", 0 },
    };
    for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
        struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
        assert_int_equal(inet_pton(AF_INET6, v6[i].addr, &a.sin6_addr), 1);
        if (smime_http_address_private((struct sockaddr *)&a) != v6[i].private)
            fail_msg("%s: expected %s", v6[i].addr, v6[i].private ? "private" : "public");
    }
}

static void test_loopback_refused_unless_allowed(void **state)
{
    (void)state;
    server s;
    server_start(&s);
    smime_buf body;
    smime_buf_init(&body, 4096);
    char err[256];
    smime_http_config deflt = { 0 };
    assert_int_equal(fetch(&deflt, s.port, "/data", &body, err, sizeof(err)), SMIME_FETCH_UNREACHABLE);
    assert_non_null(strstr(err, "non-public address 127.0.0.1"));
    assert_int_equal(fetch(NULL, s.port, "/data", &body, err, sizeof(err)), SMIME_FETCH_UNREACHABLE);
    smime_http_config allow = { .allow_private = 1 };
    assert_int_equal(fetch(&allow, s.port, "/data", &body, err, sizeof(err)), SMIME_FETCH_OK);
    assert_int_equal(body.len, 5);
    assert_memory_equal(body.data, "hello", 5);
    server_stop(&s);
    assert_int_equal(s.requests, 1);          /* the refused ones never connected */
    smime_buf_free(&body);
}

static void test_redirects_only_when_allowed(void **state)
{
    (void)state;
    server s;
    server_start(&s);
    smime_buf body;
    smime_buf_init(&body, 4096);
    char err[256];
    smime_http_config none = { .allow_private = 1 };
    assert_int_equal(fetch(&none, s.port, "/moved", &body, err, sizeof(err)), SMIME_FETCH_HTTP_ERROR);
    assert_non_null(strstr(err, "redirect, not followed"));
    smime_http_config one = { .allow_private = 1, .max_redirects = 1 };
    assert_int_equal(fetch(&one, s.port, "/moved", &body, err, sizeof(err)), SMIME_FETCH_OK);
    assert_int_equal(body.len, 5);
    server_stop(&s);
    assert_int_equal(s.requests, 3);          /* 302; then 302 and its target */
    smime_buf_free(&body);
}

int main(void)
{
    assert_int_equal(smime_http_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_addresses),
        cmocka_unit_test(test_loopback_refused_unless_allowed),
        cmocka_unit_test(test_redirects_only_when_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
