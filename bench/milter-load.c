/* milter-load - drives a milter over the milter protocol (version 6) as an MTA
 * would, from several concurrent connections, and reports throughput and latency.
 * No MTA is needed, so the figure is the milter's own.
 *
 *   milter-load [-r RATE] [-p STEPS] [-m NAME=VALUE] HOST PORT CONNECTIONS MESSAGES
 *               FILE.eml...
 *
 * Each connection negotiates once, sends connect and HELO, then transactions
 * (MAIL, RCPT, DATA, headers, EOH, body, end of body) for messages taken in turn
 * from the files until MESSAGES have been sent in all.  It offers every protocol
 * option, so the milter may skip steps or their replies; it honours what the
 * milter asks for.  -p STEPS (a number) offers those protocol flags instead, as an
 * older MTA would; without SMFIP_NODATA among them no DATA step is sent, as by an
 * MTA older than that step.  -m sends a macro with MAIL, as Postfix sends
 * {auth_authen} for an authenticated client.  Commands that expect no reply are
 * buffered and written together, as an MTA's buffered stream does, so that the
 * client's own system calls take as little as possible of the CPU it shares with
 * the milter.
 *
 * Without -r the connections send back to back (closed loop): the figure is the
 * most the milter can take, and latency there is mostly waiting in line (16
 * connections always busy make the mean latency 16 / throughput).  With -r the
 * messages are due at RATE per second in all (open loop, spread over the
 * connections); latency runs from when a message was due, not when it could be
 * sent, so a milter that falls behind shows its backlog in the figures.
 * Latency ends at the final reply.  Prints "name value" lines. */
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
#define OUT_BUF       (256u << 10)

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
    const char *names[MAX_FILES];
    int n_msgs;
    double *latency_ms;   /* one per message */
    double rate;          /* messages due per second in all; 0: back to back */
    uint32_t offer;       /* protocol flags offered at negotiation */
    char mail_macro[256]; /* "M" name NUL value NUL, sent with MAIL; empty: none */
    size_t mail_macro_len;
    _Atomic uint32_t negotiated;  /* what the milter asked for (the last session's) */
    double start;         /* when message 0 is due (set between the barriers) */
    pthread_barrier_t ready, go;
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

/* Commands waiting to be written: flushed before a reply is awaited, or when
 * full. */
typedef struct outbuf {
    char   data[OUT_BUF];
    size_t len;
} outbuf;

static int flush_out(int fd, outbuf *o)
{
    int rc = o->len ? write_all(fd, o->data, o->len) : 0;
    o->len = 0;
    return rc;
}

static int queue_packet(int fd, outbuf *o, char cmd, const void *data, size_t len)
{
    if (o->len + 5 + len > sizeof(o->data) && flush_out(fd, o) < 0)
        return -1;
    uint32_t n = htonl((uint32_t)len + 1);
    memcpy(o->data + o->len, &n, 4);
    o->data[o->len + 4] = cmd;
    o->len += 5;
    if (len > sizeof(o->data) - o->len) {        /* a body chunk larger than the buffer */
        if (flush_out(fd, o) < 0)
            return -1;
        return write_all(fd, data, len);
    }
    if (len)                                     /* data is NULL for empty commands */
        memcpy(o->data + o->len, data, len);
    o->len += len;
    return 0;
}

static int send_packet(int fd, outbuf *o, char cmd, const void *data, size_t len)
{
    if (queue_packet(fd, o, cmd, data, len) < 0)
        return -1;
    return flush_out(fd, o);
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

/* One connection to the milter, owned by one thread. */
typedef struct session {
    shared  *sh;
    int      fd;
    uint32_t proto;          /* the steps and replies the milter negotiated away */
    char    *in;             /* MAX_PACKET bytes for replies */
    outbuf   out;
} session;

/* Sends what is queued and reads replies until a final one; notes an inserted
 * Authentication-Results header in *tagged. */
static int read_final(session *ss, int *tagged)
{
    if (flush_out(ss->fd, &ss->out) < 0)
        return -1;
    for (;;) {
        char cmd;
        size_t len;
        if (read_packet(ss->fd, &cmd, ss->in, &len) < 0)
            return -1;
        if (is_final(cmd))
            return cmd;
        if ((cmd == SMFIR_INSHEADER || cmd == SMFIR_ADDHEADER) && len > 0) {
            /* insheader carries a 4-byte index before the name */
            const char *name = cmd == SMFIR_INSHEADER ? ss->in + 4 : ss->in;
            if (name < ss->in + len && strncmp(name, "Authentication-Results", 22) == 0)
                *tagged = 1;
        }
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

/* One step: skipped when the milter asked for it not to be sent; queued without
 * waiting when it asked for no reply.  Returns the reply, SMFIR_CONTINUE when
 * none, or -1. */
static int step(session *ss, uint32_t no_flag, uint32_t nr_flag, char cmd, const void *data,
                size_t len)
{
    if (ss->proto & no_flag)
        return SMFIR_CONTINUE;
    if (queue_packet(ss->fd, &ss->out, cmd, data, len) < 0)
        return -1;
    if (ss->proto & nr_flag)
        return SMFIR_CONTINUE;
    int tagged = 0;
    return read_final(ss, &tagged);
}

/* "Name\0value\0" of one header; folded lines joined with bare LF (as Postfix
 * sends them), the blank after the colon dropped unless the milter asked for
 * it.  Returns the length written to out (at least raw_len + 2 bytes). */
static size_t header_packet(const char *raw, size_t raw_len, uint32_t proto, char *out)
{
    const char *colon = memchr(raw, ':', raw_len);
    if (!colon)
        return 0;
    size_t nlen = (size_t)(colon - raw);
    const char *v = colon + 1, *end = raw + raw_len;
    if (!(proto & SMFIP_HDR_LEADSPC) && v < end && *v == ' ')
        v++;
    memcpy(out, raw, nlen);
    size_t o = nlen;
    out[o++] = '\0';
    for (; v < end; v++)
        if (*v != '\r')
            out[o++] = *v;
    while (o > nlen + 1 && out[o - 1] == '\n')
        o--;
    out[o++] = '\0';
    return o;
}

static int transaction(session *ss, const message *m, int *tagged)
{
    static const char from[] = "<alice@example.test>";
    static const char rcpt[] = "<carol@example.test>";
    if (ss->sh->mail_macro_len && !(ss->proto & SMFIP_NOMAIL) &&
        queue_packet(ss->fd, &ss->out, SMFIC_MACRO, ss->sh->mail_macro, ss->sh->mail_macro_len) < 0)
        return -1;
    int r = step(ss, SMFIP_NOMAIL, SMFIP_NR_MAIL, SMFIC_MAIL, from, sizeof(from));
    if (r != SMFIR_CONTINUE)
        return r;
    r = step(ss, SMFIP_NORCPT, SMFIP_NR_RCPT, SMFIC_RCPT, rcpt, sizeof(rcpt));
    if (r != SMFIR_CONTINUE)
        return r;
    /* An MTA older than the DATA step (protocol 2 and 3) neither sends it nor
     * offers to leave it out: an offer without SMFIP_NODATA plays that MTA. */
    if (ss->sh->offer & SMFIP_NODATA) {
        r = step(ss, SMFIP_NODATA, SMFIP_NR_DATA, SMFIC_DATA, NULL, 0);
        if (r != SMFIR_CONTINUE)
            return r;
    }
    size_t pos = 0;
    while (pos < m->body && !(m->raw[pos] == '\r' && m->raw[pos + 1] == '\n')) {
        size_t end = pos;
        for (;;) {
            char *lf = memchr(m->raw + end, '\n', m->body - end);
            end = lf ? (size_t)(lf - m->raw) + 1 : m->body;
            if (end >= m->body || (m->raw[end] != ' ' && m->raw[end] != '\t'))
                break;
        }
        char *hp = malloc(end - pos + 2);
        size_t hlen = hp ? header_packet(m->raw + pos, end - pos, ss->proto, hp) : 0;
        r = hlen ? step(ss, SMFIP_NOHDRS, SMFIP_NR_HDR, SMFIC_HEADER, hp, hlen) : -1;
        free(hp);
        if (r != SMFIR_CONTINUE)
            return r;
        pos = end;
    }
    r = step(ss, SMFIP_NOEOH, SMFIP_NR_EOH, SMFIC_EOH, NULL, 0);
    if (r != SMFIR_CONTINUE)
        return r;
    for (size_t off = m->body; off < m->len;) {
        size_t n = m->len - off < BODY_CHUNK ? m->len - off : BODY_CHUNK;
        r = step(ss, SMFIP_NOBODY, SMFIP_NR_BODY, SMFIC_BODY, m->raw + off, n);
        if (r == SMFIR_SKIP)
            break;
        if (r != SMFIR_CONTINUE)
            return r;
        off += n;
    }
    if (queue_packet(ss->fd, &ss->out, SMFIC_BODYEOB, NULL, 0) < 0)
        return -1;
    return read_final(ss, tagged);
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = { (time_t)d, (long)((d - (double)(time_t)d) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void *worker(void *arg)
{
    shared *sh = arg;
    int at_start = 1;                 /* the barriers are still ahead */
    session *ss = calloc(1, sizeof(*ss));
    if (!ss) {
        atomic_fetch_add(&sh->errors, 1);
        pthread_barrier_wait(&sh->ready);
        pthread_barrier_wait(&sh->go);
        return NULL;
    }
    ss->sh = sh;
    ss->in = malloc(MAX_PACKET);
    ss->fd = ss->in ? connect_to(sh->host, sh->port) : -1;
    if (ss->fd < 0)
        goto fail;
    uint32_t neg[3] = { htonl(6), htonl(0x1FF), htonl(sh->offer) };
    char cmd;
    size_t len;
    if (send_packet(ss->fd, &ss->out, SMFIC_OPTNEG, neg, sizeof(neg)) < 0 ||
        read_packet(ss->fd, &cmd, ss->in, &len) < 0 || cmd != SMFIC_OPTNEG || len < 12)
        goto fail;
    memcpy(&ss->proto, ss->in + 8, 4);
    ss->proto = ntohl(ss->proto);
    atomic_store(&sh->negotiated, ss->proto);
    static const char conn[] = "client.example.test\0" "4\x00\x19" "127.0.0.1";
    if (step(ss, SMFIP_NOCONNECT, SMFIP_NR_CONN, SMFIC_CONNECT, conn, sizeof(conn)) !=
            SMFIR_CONTINUE ||
        step(ss, SMFIP_NOHELO, SMFIP_NR_HELO, SMFIC_HELO, "client.example.test", 20) !=
            SMFIR_CONTINUE)
        goto fail;
    /* every connection is open before the clock starts */
    pthread_barrier_wait(&sh->ready);
    pthread_barrier_wait(&sh->go);
    at_start = 0;
    for (;;) {
        long i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->total)
            break;
        const message *m = &sh->msgs[i % sh->n_msgs];
        int tagged = 0;
        double t0;
        if (sh->rate > 0) {
            t0 = sh->start + (double)i / sh->rate;     /* when message i is due */
            sleep_until(t0);
        } else {
            t0 = now_s();
        }
        int r = transaction(ss, m, &tagged);
        if (r < 0)
            goto fail;
        sh->latency_ms[i] = (now_s() - t0) * 1000.0;
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
        if (r != SMFIR_CONTINUE && r != SMFIR_ACCEPT &&
            send_packet(ss->fd, &ss->out, SMFIC_ABORT, NULL, 0) < 0)
            goto fail;
    }
    send_packet(ss->fd, &ss->out, SMFIC_QUIT, NULL, 0);
    close(ss->fd);
    free(ss->in);
    free(ss);
    return NULL;
fail:
    atomic_fetch_add(&sh->errors, 1);
    if (at_start) {
        pthread_barrier_wait(&sh->ready);
        pthread_barrier_wait(&sh->go);
    }
    if (ss->fd >= 0)
        close(ss->fd);
    free(ss->in);
    free(ss);
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
    /* the body as an MTA sends it: after the blank line, which ends the header */
    m->body = (size_t)(blank - m->raw) + 4;
    return 0;
}

int main(int argc, char **argv)
{
    static shared sh;
    sh.offer = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY |
               SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | SMFIP_NODATA |
               SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
               SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC;
    int a = 1;
    while (argc - a > 1 && argv[a][0] == '-' && strchr("rpm", argv[a][1]) && !argv[a][2]) {
        char *end;
        if (argv[a][1] == 'm') {
            const char *eq = strchr(argv[a + 1], '=');
            size_t len = strlen(argv[a + 1]);
            if (!eq || eq == argv[a + 1] || len + 3 > sizeof(sh.mail_macro)) {
                fprintf(stderr, "milter-load: bad macro %s (NAME=VALUE)\n", argv[a + 1]);
                return 2;
            }
            sh.mail_macro[0] = SMFIC_MAIL;
            memcpy(sh.mail_macro + 1, argv[a + 1], len + 1);
            sh.mail_macro[1 + (eq - argv[a + 1])] = '\0';   /* name NUL value NUL */
            sh.mail_macro_len = len + 2;
        } else if (argv[a][1] == 'r') {
            sh.rate = strtod(argv[a + 1], &end);
            if (*end || sh.rate <= 0) {
                fprintf(stderr, "milter-load: bad RATE %s\n", argv[a + 1]);
                return 2;
            }
        } else {
            unsigned long v = strtoul(argv[a + 1], &end, 0);
            if (*end || v > UINT32_MAX) {
                fprintf(stderr, "milter-load: bad STEPS %s\n", argv[a + 1]);
                return 2;
            }
            sh.offer = (uint32_t)v;
        }
        a += 2;
    }
    if (argc - a < 5) {
        fprintf(stderr, "usage: milter-load [-r RATE] [-p STEPS] [-m NAME=VALUE] HOST PORT "
                        "CONNECTIONS MESSAGES FILE.eml...\n");
        return 2;
    }
    sh.host = argv[a];
    sh.port = atoi(argv[a + 1]);
    int conns = atoi(argv[a + 2]);
    sh.total = atol(argv[a + 3]);
    if (conns < 1 || conns > 1024 || sh.total < 1) {
        fprintf(stderr, "milter-load: bad CONNECTIONS or MESSAGES\n");
        return 2;
    }
    for (int i = a + 4; i < argc && sh.n_msgs < MAX_FILES; i++) {
        sh.names[sh.n_msgs] = argv[i];
        if (load_message(argv[i], &sh.msgs[sh.n_msgs++]) < 0) {
            fprintf(stderr, "milter-load: %s: unreadable or not CRLF\n", argv[i]);
            return 2;
        }
    }
    sh.latency_ms = calloc((size_t)sh.total, sizeof(double));
    pthread_t *th = calloc((size_t)conns, sizeof(pthread_t));
    if (!sh.latency_ms || !th) {
        fprintf(stderr, "milter-load: out of memory\n");
        return 2;
    }
    pthread_barrier_init(&sh.ready, NULL, (unsigned)conns + 1);
    pthread_barrier_init(&sh.go, NULL, (unsigned)conns + 1);
    for (int i = 0; i < conns; i++)
        if (pthread_create(&th[i], NULL, worker, &sh) != 0) {
            fprintf(stderr, "milter-load: cannot start thread %d\n", i);
            return 2;
        }
    pthread_barrier_wait(&sh.ready);
    double t0 = now_s();
    sh.start = t0;
    pthread_barrier_wait(&sh.go);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    double elapsed = now_s() - t0;
    long done = atomic_load(&sh.accepted) + atomic_load(&sh.rejected) + atomic_load(&sh.tempfailed) +
                atomic_load(&sh.discarded) + atomic_load(&sh.other);
    /* per file first (message i is file i % n_msgs), then over all */
    double *one = malloc(((size_t)sh.total / (size_t)sh.n_msgs + 1) * sizeof(double));
    for (int f = 0; one && f < sh.n_msgs; f++) {
        size_t k = 0;
        for (long i = f; i < sh.total; i += sh.n_msgs)
            if (sh.latency_ms[i] > 0)
                one[k++] = sh.latency_ms[i];
        if (!k)
            continue;
        qsort(one, k, sizeof(double), cmp_double);
        const char *base = strrchr(sh.names[f], '/');
        printf("milter_file_p50_p99_ms %s %.3f %.3f\n", base ? base + 1 : sh.names[f], one[k / 2],
               one[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1]);
    }
    free(one);
    qsort(sh.latency_ms, (size_t)sh.total, sizeof(double), cmp_double);
    size_t skip = (size_t)(sh.total - done);   /* zero latencies of unsent messages */
    double *lat = sh.latency_ms + skip;
    size_t n = (size_t)done;
    printf("milter_msgs_per_s %.1f\n", n ? (double)n / elapsed : 0.0);
    printf("milter_p50_ms %.3f\n", n ? lat[n / 2] : 0.0);
    printf("milter_p99_ms %.3f\n", n ? lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : 0.0);
    printf("milter_max_ms %.3f\n", n ? lat[n - 1] : 0.0);
    if (sh.rate > 0)
        printf("milter_offered_msgs_per_s %.1f\n", sh.rate);
    printf("milter_steps 0x%x\n", (unsigned)atomic_load(&sh.negotiated));
    printf("milter_messages %ld\n", done);
    printf("milter_tagged %ld\n", atomic_load(&sh.tagged));
    printf("milter_accepted %ld\n", atomic_load(&sh.accepted));
    printf("milter_rejected %ld\n", atomic_load(&sh.rejected));
    printf("milter_tempfailed %ld\n", atomic_load(&sh.tempfailed));
    printf("milter_errors %ld\n", atomic_load(&sh.errors));
    free(th);
    free(sh.latency_ms);
    for (int f = 0; f < sh.n_msgs; f++)
        free(sh.msgs[f].raw);
    pthread_barrier_destroy(&sh.ready);
    pthread_barrier_destroy(&sh.go);
    return atomic_load(&sh.errors) ? 1 : 0;
}
