/* null-milter - the libmilter floor for bench/run.sh: a milter that negotiates
 * what smime-milter negotiates (the same actions, the same callbacks, MAIL,
 * headers, end of headers and body as "no reply"), keeps nothing and accepts
 * every message at end of body.  Driven by bench/milter-load with the same load
 * as our milter, its server CPU per message is what libmilter and the protocol
 * cost before any verification.
 *
 *   null-milter PORT     listens on inet:PORT@127.0.0.1 in the foreground until
 *                        SIGTERM or SIGINT (libmilter's own signal handling) */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>

#define NO_REPLY_STEPS (SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define ACTIONS        (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)

static sfsistat null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)ctx;
    (void)host;
    (void)addr;
    return SMFIS_CONTINUE;
}

static sfsistat null_envfrom(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
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
    (void)ctx;
    (void)chunk;
    (void)len;
    return SMFIS_NOREPLY;
}

static sfsistat null_data(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat null_eom(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_ACCEPT;
}

static sfsistat null_continue(SMFICTX *ctx)
{
    (void)ctx;
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
    long port = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || *end || port < 1 || port > 65535) {
        fprintf(stderr, "usage: null-milter PORT\n");
        return 2;
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
        .xxfi_close = null_continue,
        .xxfi_negotiate = null_negotiate,
    };
    char conn[64];
    snprintf(conn, sizeof(conn), "inet:%ld@127.0.0.1", port);
    if (smfi_setconn(conn) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
        smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "null-milter: cannot listen on %s\n", conn);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
