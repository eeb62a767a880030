/* milter-load - drives a milter over the milter protocol (version 6) as an MTA
 * would, from several concurrent connections, and reports throughput and latency.
 * No MTA is needed, so the figure is the milter's own.
 *
 *   milter-load HOST PORT CONNECTIONS MESSAGES FILE.eml...
 *
 * Each connection negotiates once, sends connect and HELO, then transactions
 * (MAIL, RCPT, DATA, headers, EOH, body, end of body) for messages taken in turn
 * from the files until MESSAGES have been sent in all.  It offers every protocol
 * option, so the milter may skip steps or their replies; it honours what the
 * milter asks for.  Latency is measured from MAIL to the final reply.
 * Prints "name value" lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfdef.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES     32
#define MAX_PACKET    (1u << 20)
#define BODY_CHUNK    65535
#define IO_TIMEOUT_S  30

typedef struct message {
    char  *raw;
    size_t len;
    size_t body;          /* offset of the body (after the blank line) */
} message;

typedef struct shared {
    const char *host;
    int port;
    long total;
    atomic_long next;
    message msgs[MAX_FILES];
    int n_msgs;
    double *latency_ms;   /* one per message */
    atomic_long accepted, rejected, tempfailed, discarded, other, tagged, errors;
} shared;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int send_packet(int fd, char cmd, const void *data, size_t len)
{
    uint32_t n = htonl((uint32_t)len + 1);
    char hdr[5];
    memcpy(hdr, &n, 4);
    hdr[4] = cmd;
    if (write_all(fd, hdr, 5) < 0)
        return -1;
    return len ? write_all(fd, data, len) : 0;
}

/* Reads one packet; *data is a buffer of MAX_PACKET bytes owned by the caller. */
static int read_packet(int fd, char *cmd, char *data, size_t *len)
{
    uint32_t n;
    if (read_all(fd, &n, 4) < 0)
        return -1;
    n = ntohl(n);
    if (n == 0 || n > MAX_PACKET)
        return -1;
    if (read_all(fd, cmd, 1) < 0)
        return -1;
    *len = n - 1;
    return *len ? read_all(fd, data, *len) : 0;
}

static int is_final(char c)
{
    return c == SMFIR_CONTINUE || c == SMFIR_ACCEPT || c == SMFIR_REJECT || c == SMFIR_TEMPFAIL ||
           c == SMFIR_DISCARD || c == SMFIR_REPLYCODE || c == SMFIR_SKIP;
}

/* Reads replies until a final one; counts Authentication-Results insertions. */
static int read_final(int fd, char *buf, shared *sh, int *tagged)
{
    for (;;) {
        char cmd;
        size_t len;
        if (read_packet(fd, &cmd, buf, &len) < 0)
            return -1;
        if (is_final(cmd))
            return cmd;
        if ((cmd == SMFIR_INSHEADER || cmd == SMFIR_ADDHEADER) && len > 0) {
            /* insheader carries a 4-byte index before the name */
            const char *name = cmd == SMFIR_INSHEADER ? buf + 4 : buf;
            if (name < buf + len && strncmp(name, "Authentication-Results", 22) == 0)
                *tagged = 1;
        }
        (void)sh;
    }
}

static int connect_to(const char *host, int port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* One step: skipped when the milter asked for it not to be sent; no reply read
 * when it asked for no reply.  Returns the reply, 'c' when none, or -1. */
static int step(int fd, uint32_t proto, uint32_t no_flag, uint32_t nr_flag, char cmd,
                const void *data, size_t len, char *buf, shared *sh)
{
    if (proto & no_flag)
        return SMFIR_CONTINUE;
    if (send_packet(fd, cmd, data, len) < 0)
        return -1;
    if (proto & nr_flag)
        return SMFIR_CONTINUE;
    int tagged = 0;
    return read_final(fd, buf, sh, &tagged);
}

static int transaction(int fd, uint32_t proto, const message *m, char *buf, shared *sh,
                       int *tagged)
{
    static const char from[] = "<alice@example.test>";
    static const char rcpt[] = "<carol@example.test>";
    int r = step(fd, proto, SMFIP_NOMAIL, SMFIP_NR_MAIL, SMFIC_MAIL, from, sizeof(from), buf, sh);
    if (r != SMFIR_CONTINUE)
        return r;
    r = step(fd, proto, SMFIP_NORCPT, SMFIP_NR_RCPT, SMFIC_RCPT, rcpt, sizeof(rcpt), buf, sh);
    if (r != SMFIR_CONTINUE)
        return r;
    r = step(fd, proto, SMFIP_NODATA, SMFIP_NR_DATA, SMFIC_DATA, NULL, 0, buf, sh);
    if (r != SMFIR_CONTINUE)
        return r;
    /* Headers: name NUL value NUL; folded lines joined with bare LF (as Postfix
     * sends them), leading space dropped unless the milter asked for it. */
    size_t pos = 0;
    while (pos < m->body && !(m->raw[pos] == '\r' && m->raw[pos + 1] == '\n')) {
        size_t end = pos;
        for (;;) {
            char *lf = memchr(m->raw + end, '\n', m->body - end);
            end = lf ? (size_t)(lf - m->raw) + 1 : m->body;
            if (end >= m->body || (m->raw[end] != ' ' && m->raw[end] != '\t'))
                break;
        }
        const char *colon = memchr(m->raw + pos, ':', end - pos);
        if (!colon)
            return -1;
        size_t nlen = (size_t)(colon - (m->raw + pos));
        const char *v = colon + 1;
        if (!(proto & SMFIP_HDR_LEADSPC) && v < m->raw + end && *v == ' ')
            v++;
        size_t vlen = (size_t)(m->raw + end - v);
        char *hp = malloc(nlen + vlen + 2);
        size_t o = 0;
        memcpy(hp, m->raw + pos, nlen);
        o = nlen;
        hp[o++] = '\0';
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] == '\r')
                continue;
            hp[o++] = v[i];
        }
        while (o > nlen + 1 && hp[o - 1] == '\n')
            o--;
        hp[o++] = '\0';
        r = step(fd, proto, SMFIP_NOHDRS, SMFIP_NR_HDR, SMFIC_HEADER, hp, o, buf, sh);
        free(hp);
        if (r != SMFIR_CONTINUE)
            return r;
        pos = end;
    }
    r = step(fd, proto, SMFIP_NOEOH, SMFIP_NR_EOH, SMFIC_EOH, NULL, 0, buf, sh);
    if (r != SMFIR_CONTINUE)
        return r;
    for (size_t off = m->body; off < m->len;) {
        size_t n = m->len - off < BODY_CHUNK ? m->len - off : BODY_CHUNK;
        r = step(fd, proto, SMFIP_NOBODY, SMFIP_NR_BODY, SMFIC_BODY, m->raw + off, n, buf, sh);
        if (r == SMFIR_SKIP)
            break;
        if (r != SMFIR_CONTINUE)
            return r;
        off += n;
    }
    if (send_packet(fd, SMFIC_BODYEOB, NULL, 0) < 0)
        return -1;
    return read_final(fd, buf, sh, tagged);
}

static void *worker(void *arg)
{
    shared *sh = arg;
    char *buf = malloc(MAX_PACKET);
    int fd = connect_to(sh->host, sh->port);
    uint32_t proto = 0;
    if (fd < 0)
        goto fail;
    uint32_t neg[3] = { htonl(6), htonl(0x1FF),
                        htonl(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT |
                              SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NR_HDR |
                              SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_SKIP | SMFIP_NR_CONN |
                              SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA |
                              SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC) };
    char cmd;
    size_t len;
    if (send_packet(fd, SMFIC_OPTNEG, neg, sizeof(neg)) < 0 || read_packet(fd, &cmd, buf, &len) < 0 ||
        cmd != SMFIC_OPTNEG || len < 12)
        goto fail;
    memcpy(&proto, buf + 8, 4);
    proto = ntohl(proto);
    static const char conn[] = "client.example.test\0" "4\x00\x19" "127.0.0.1";
    if (step(fd, proto, SMFIP_NOCONNECT, SMFIP_NR_CONN, SMFIC_CONNECT, conn, sizeof(conn), buf, sh) !=
            SMFIR_CONTINUE ||
        step(fd, proto, SMFIP_NOHELO, SMFIP_NR_HELO, SMFIC_HELO, "client.example.test", 20, buf, sh) !=
            SMFIR_CONTINUE)
        goto fail;
    for (;;) {
        long i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->total)
            break;
        const message *m = &sh->msgs[i % sh->n_msgs];
        int tagged = 0;
        double t0 = now_s();
        int r = transaction(fd, proto, m, buf, sh, &tagged);
        sh->latency_ms[i] = (now_s() - t0) * 1000.0;
        if (r < 0) {
            atomic_fetch_add(&sh->errors, 1);
            goto fail;
        }
        if (tagged)
            atomic_fetch_add(&sh->tagged, 1);
        switch (r) {
        case SMFIR_ACCEPT:
        case SMFIR_CONTINUE: atomic_fetch_add(&sh->accepted, 1); break;
        case SMFIR_REJECT: atomic_fetch_add(&sh->rejected, 1); break;
        case SMFIR_TEMPFAIL: atomic_fetch_add(&sh->tempfailed, 1); break;
        case SMFIR_DISCARD: atomic_fetch_add(&sh->discarded, 1); break;
        default: atomic_fetch_add(&sh->other, 1); break;
        }
        if (r != SMFIR_CONTINUE && r != SMFIR_ACCEPT && send_packet(fd, SMFIC_ABORT, NULL, 0) < 0)
            goto fail;
    }
    send_packet(fd, SMFIC_QUIT, NULL, 0);
    close(fd);
    free(buf);
    return NULL;
fail:
    atomic_fetch_add(&sh->errors, 1);
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int load_message(const char *path, message *m)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    m->raw = malloc((size_t)n + 1);
    if (!m->raw || fread(m->raw, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    m->raw[n] = '\0';
    m->len = (size_t)n;
    char *blank = strstr(m->raw, "\r\n\r\n");
    if (!blank)
        return -1;            /* the bench mix is in CRLF form */
    m->body = (size_t)(blank - m->raw) + 2;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: milter-load HOST PORT CONNECTIONS MESSAGES FILE.eml...\n");
        return 2;
    }
    static shared sh;
    sh.host = argv[1];
    sh.port = atoi(argv[2]);
    int conns = atoi(argv[3]);
    sh.total = atol(argv[4]);
    if (conns < 1 || conns > 1024 || sh.total < 1) {
        fprintf(stderr, "milter-load: bad CONNECTIONS or MESSAGES\n");
        return 2;
    }
    for (int i = 5; i < argc && sh.n_msgs < MAX_FILES; i++)
        if (load_message(argv[i], &sh.msgs[sh.n_msgs++]) < 0) {
            fprintf(stderr, "milter-load: %s: unreadable or not CRLF\n", argv[i]);
            return 2;
        }
    sh.latency_ms = calloc((size_t)sh.total, sizeof(double));
    pthread_t *th = calloc((size_t)conns, sizeof(pthread_t));
    double t0 = now_s();
    for (int i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, worker, &sh);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    double elapsed = now_s() - t0;
    long done = atomic_load(&sh.accepted) + atomic_load(&sh.rejected) + atomic_load(&sh.tempfailed) +
                atomic_load(&sh.discarded) + atomic_load(&sh.other);
    qsort(sh.latency_ms, (size_t)sh.total, sizeof(double), cmp_double);
    size_t skip = (size_t)(sh.total - done);   /* zero latencies of unsent messages */
    double *lat = sh.latency_ms + skip;
    size_t n = (size_t)done;
    printf("milter_msgs_per_s %.1f\n", n ? (double)n / elapsed : 0.0);
    printf("milter_p50_ms %.3f\n", n ? lat[n / 2] : 0.0);
    printf("milter_p99_ms %.3f\n", n ? lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : 0.0);
    printf("milter_messages %ld\n", done);
    printf("milter_tagged %ld\n", atomic_load(&sh.tagged));
    printf("milter_accepted %ld\n", atomic_load(&sh.accepted));
    printf("milter_rejected %ld\n", atomic_load(&sh.rejected));
    printf("milter_tempfailed %ld\n", atomic_load(&sh.tempfailed));
    printf("milter_errors %ld\n", atomic_load(&sh.errors));
    return atomic_load(&sh.errors) ? 1 : 0;
}
