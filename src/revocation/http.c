/* http - the libcurl transport (see include/smime/revocation/http.h). */
#include "smime/revocation/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;            /* written once, under curl_once */

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int smime_http_init(void)
{
    if (pthread_once(&curl_once, curl_init) != 0)
        return -1;
    return curl_init_rc;
}

/* Appends to the capped buffer; returning less than n makes libcurl stop. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    smime_buf *b = ctx;
    size_t n = size * nmemb;
    return smime_buf_append(b, p, n) == 0 ? n : 0;
}

static int v4_private(uint32_t a)
{
    return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
           (a >> 16) == 0xa9fe ||                 /* 169.254/16 link-local */
           (a >> 20) == 0xac1 ||                  /* 172.16/12 */
           (a >> 16) == 0xc0a8 ||                 /* 192.168/16 */
           (a >> 22) == (100u << 2 | 1) ||        /* 100.64/10 shared (CGNAT) */
           (a >> 28) >= 0xe;                      /* multicast 224/4, reserved 240/4 */
}

int smime_http_address_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_private(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
    if (sa->sa_family != AF_INET6)
        return 1;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
        uint32_t v4;
        memcpy(&v4, a->s6_addr + 12, 4);
        return v4_private(ntohl(v4));
    }
    return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
           IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) ||
           (a->s6_addr[0] & 0xfe) == 0xfc;        /* fc00::/7 unique local */
}

typedef struct fetch_guard {
    int  refused;
    char address[INET6_ADDRSTRLEN];
} fetch_guard;

/* Every address libcurl is about to connect to, redirects included, passes here. */
static curl_socket_t open_public_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    fetch_guard *g = ctx;
    (void)purpose;
    if (smime_http_address_private(&a->addr)) {
        g->refused = 1;
        const void *raw = a->family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)&a->addr)->sin_addr;
        if (!inet_ntop(a->family, raw, g->address, sizeof(g->address)))
            snprintf(g->address, sizeof(g->address), "?");
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

smime_fetch_rc smime_http_fetch(void *ctx, const smime_fetch_request *req, smime_buf *body,
                                char *err, size_t errlen)
{
    const smime_http_config *hc = ctx;
    fetch_guard guard = { 0, "" };
    err[0] = '\0';
    if (smime_http_init() < 0) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return SMIME_FETCH_FAILED;
    }
    int64_t left = req->deadline_ms - smime_rev_clock_ms();
    if (left <= 0) {
        snprintf(err, errlen, "no time left");
        return SMIME_FETCH_TIMEOUT;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return SMIME_FETCH_FAILED;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = NULL;
    smime_buf_reset(body);
    body->cap = req->max_bytes < body->cap ? req->max_bytes : body->cap;   /* never above */
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);             /* threads: no SIGALRM */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http");
    unsigned redirects = hc ? hc->max_redirects : 0;
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)redirects);
    int use_proxy = hc && hc->proxy && hc->proxy[0];
    if (!use_proxy && !(hc && hc->allow_private)) {
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_public_socket);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &guard);
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "smime-milter");
    curl_easy_setopt(h, CURLOPT_PROXY, hc && hc->proxy ? hc->proxy : "");
    if (req->post_body) {
        char ct[128];
        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 req->content_type ? req->content_type : "application/octet-stream");
        headers = curl_slist_append(headers, ct);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->post_body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    /* Short messages: they end up in a reason= of a header, next to the URL. */
    switch (cc) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, errlen, "no answer within %lld ms", (long long)left);
        return SMIME_FETCH_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        if (guard.refused) {
            snprintf(err, errlen, "not connecting to the non-public address %s "
                     "(RevocationAllowPrivate)", guard.address);
            return SMIME_FETCH_UNREACHABLE;
        }
        snprintf(err, errlen, "connection refused or no route");
        return SMIME_FETCH_UNREACHABLE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(err, errlen, "host name not resolved");
        return SMIME_FETCH_UNREACHABLE;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        snprintf(err, errlen, "connection dropped");
        return SMIME_FETCH_UNREACHABLE;
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
        if (body->overflow || cc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(err, errlen, "response larger than %zu bytes", req->max_bytes);
            return SMIME_FETCH_TOO_LARGE;
        }
        snprintf(err, errlen, "%.200s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
        return SMIME_FETCH_FAILED;
    default:
        snprintf(err, errlen, "%.200s", curl_err[0] ? curl_err : curl_easy_strerror(cc));
        return SMIME_FETCH_FAILED;
    }
    if (status >= 300 && status < 400) {
        snprintf(err, errlen, "HTTP status %ld: a redirect, not followed (RevocationMaxRedirects)",
                 status);
        return SMIME_FETCH_HTTP_ERROR;
    }
    if (status != 200) {
        snprintf(err, errlen, "HTTP status %ld", status);
        return SMIME_FETCH_HTTP_ERROR;
    }
    return SMIME_FETCH_OK;
}
