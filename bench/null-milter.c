/* null-milter - the milter floors for bench/run.sh: a milter that negotiates
 * what smime-milter negotiates (the same actions, the same callbacks, MAIL,
 * headers, end of headers and body as "no reply").  Driven by bench/milter-load
 * with the same load as our milter.
 *
 *   null-milter PORT          the libmilter floor: keeps nothing and accepts every
 *                             message at end of body; its server CPU per message
 *                             is what libmilter and the protocol cost before any
 *                             verification
 *   null-milter PORT FILE...  the crypto milter floor: also keeps each message's
 *                             body as it comes and, at end of body, does the crypto
 *                             limit's work (limit.h) on the bytes received for the
 *                             mix message of that body's length, then adds one
 *                             header, as a verifier that tags must.  What any
 *                             S/MIME milter does in the same setting, and nothing
 *                             else; a message it cannot verify stops it (exit 3).
 *
 * Listens on inet:PORT@127.0.0.1 in the foreground until SIGTERM or SIGINT
 * (libmilter's own signal handling). */
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "limit.h"

#define NO_REPLY_STEPS (SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define ACTIONS        (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)

/* The crypto milter's mix: each message's limit case and where its signed
 * content lies in its body (set before the first connection; read only after). */
typedef struct floor_msg {
    mix_msg    msg;
    limit_case limit;
    size_t     body_len;
    size_t     content_at;     /* offset of the signed content in the body */
} floor_msg;

static floor_msg floor_mix[MIX_MAX];
static int floor_n;             /* 0: the libmilter floor */

/* A connection's body buffer, kept for the connection's life and grown to its
 * largest message, so that no message allocates (our milter's spool keeps its
 * buffers too). */
typedef struct floor_conn {
    char  *body;
    size_t len, cap;
} floor_conn;

static void floor_load(int n, char **files)
{
    for (int i = 0; i < n; i++) {
        floor_msg *f = &floor_mix[i];
        mix_load(files[i], &f->msg);
        limit_setup(&f->msg, &f->limit);
        const char *blank = strstr(f->msg.raw, "\r\n\r\n");
        if (!blank)
            mix_die(files[i], "no header block ending in CRLF CRLF");
        const char *body = blank + 4;
        f->body_len = f->msg.raw_len - (size_t)(body - f->msg.raw);
        f->content_at = (size_t)(f->msg.content - body);
        for (int j = 0; j < i; j++)
            if (floor_mix[j].body_len == f->body_len)
                mix_die(files[i], "a body as long as another mix message's: cannot tell them apart");
    }
    floor_n = n;
}

static sfsistat null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)host;
    (void)addr;
    if (floor_n) {
        floor_conn *c = calloc(1, sizeof(*c));
        if (!c || smfi_setpriv(ctx, c) != MI_SUCCESS) {
            free(c);
            return SMFIS_TEMPFAIL;
        }
    }
    return SMFIS_CONTINUE;
}

static sfsistat null_envfrom(SMFICTX *ctx, char **argv)
{
    (void)argv;
    floor_conn *c = floor_n ? smfi_getpriv(ctx) : NULL;
    if (c)
        c->len = 0;
    return SMFIS_NOREPLY;
}

static sfsistat null_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx;
    (void)name;
    (void)value;
    return SMFIS_NOREPLY;
}

static sfsistat null_eoh(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_NOREPLY;
}

static sfsistat null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    floor_conn *c = floor_n ? smfi_getpriv(ctx) : NULL;
    if (!c)
        return SMFIS_NOREPLY;
    if (len > MIX_MSG_MAX - c->len)
        return SMFIS_TEMPFAIL;                 /* no mix message is this long */
    if (c->len + len > c->cap) {
        size_t cap = c->cap ? c->cap : 65536;
        while (cap < c->len + len)
            cap *= 2;
        char *grown = realloc(c->body, cap);
        if (!grown)
            return SMFIS_TEMPFAIL;
        c->body = grown;
        c->cap = cap;
    }
    memcpy(c->body + c->len, chunk, len);
    c->len += len;
    return SMFIS_NOREPLY;
}

static sfsistat null_data(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat null_eom(SMFICTX *ctx)
{
    floor_conn *c = floor_n ? smfi_getpriv(ctx) : NULL;
    if (!c)
        return SMFIS_ACCEPT;
    const floor_msg *f = NULL;
    for (int i = 0; i < floor_n && !f; i++)
        if (floor_mix[i].body_len == c->len)
            f = &floor_mix[i];
    /* a floor measured on anything but the real verification would be no floor */
    if (!f || limit_gnutls_over(&f->limit, c->body + f->content_at) < 0) {
        fprintf(stderr, "null-milter: a %zu-byte body is no mix message that verifies\n", c->len);
        _exit(3);
    }
    c->len = 0;
    if (smfi_insheader(ctx, 0, "Authentication-Results", "bench.localhost; smime=pass") != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_ACCEPT;
}

static sfsistat null_continue(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat null_close(SMFICTX *ctx)
{
    floor_conn *c = floor_n ? smfi_getpriv(ctx) : NULL;
    if (c) {
        free(c->body);
        free(c);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

/* As smime-milter's negotiation: refuses an MTA without the actions or the
 * no-reply steps, asks for exactly those. */
static sfsistat null_negotiate(SMFICTX *ctx, unsigned long actions_offered, unsigned long steps_offered,
                               unsigned long f2, unsigned long f3, unsigned long *actions,
                               unsigned long *steps, unsigned long *pf2, unsigned long *pf3)
{
    (void)ctx;
    (void)f2;
    (void)f3;
    if ((actions_offered & ACTIONS) != ACTIONS || (steps_offered & NO_REPLY_STEPS) != NO_REPLY_STEPS)
        return SMFIS_REJECT;
    *actions = ACTIONS;
    *steps |= NO_REPLY_STEPS;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    char *end;
    long port = argc >= 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc < 2 || *end || port < 1 || port > 65535 || argc - 2 > MIX_MAX) {
        fprintf(stderr, "usage: null-milter PORT [FILE...]\n");
        return 2;
    }
    if (argc > 2) {
        if (gnutls_global_init() < 0)
            return 2;
        floor_load(argc - 2, argv + 2);
    }
    static struct smfiDesc desc = {
        .xxfi_name = "null-milter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = ACTIONS,
        .xxfi_connect = null_connect,
        .xxfi_envfrom = null_envfrom,
        .xxfi_header = null_header,
        .xxfi_eoh = null_eoh,
        .xxfi_body = null_body,
        .xxfi_eom = null_eom,
        .xxfi_data = null_data,
        .xxfi_abort = null_continue,
        .xxfi_close = null_close,
        .xxfi_negotiate = null_negotiate,
    };
    char conn[64];
    snprintf(conn, sizeof(conn), "inet:%ld@127.0.0.1", port);
    if (smfi_setconn(conn) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "null-milter: cannot listen on %s\n", conn);
        return 1;
    }
    /* As smime-milter does (milter/main.c says why): TCP_NODELAY on the listening
     * socket, which accepted ones inherit, so that an added header and the final
     * reply are not held back by Nagle's algorithm.  This process's only
     * listening socket is libmilter's. */
    int one = 1, set = 0;
    for (int fd = 3; fd < 1024 && !set; fd++) {
        int listening = 0;
        socklen_t len = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
            set = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0;
    }
    if (!set) {
        fprintf(stderr, "null-milter: cannot set TCP_NODELAY on the listening socket\n");
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
