/* http - the libcurl transport (see include/smime/revocation/http.h). */
#include "smime/revocation/http.h"

#include <curl/curl.h>
#include <pthread.h>
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

smime_fetch_rc smime_http_fetch(void *ctx, const smime_fetch_request *req, smime_buf *body,
                                char *err, size_t errlen)
{
    const smime_http_config *hc = ctx;
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
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
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
    if (status != 200) {
        snprintf(err, errlen, "HTTP status %ld", status);
        return SMIME_FETCH_HTTP_ERROR;
    }
    return SMIME_FETCH_OK;
}
