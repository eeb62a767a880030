/* main - smime-milter: options, start-up, privileges, signals and reload.
 *
 * Signals.  libmilter's smfi_main() starts a thread that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them, so a SIGHUP would end
 * the daemon instead of reloading it.  smfi_main() therefore runs in a thread of
 * its own (it blocks those signals there and in every thread it starts), while the
 * main thread - the one a process-directed signal is offered to first on Linux -
 * keeps them unblocked with handlers that only write to a pipe.  The main thread
 * reads the pipe: SIGHUP reloads, SIGTERM/SIGINT call smfi_stop().  Should a
 * signal still reach libmilter's thread, smfi_main() returns and the daemon exits
 * non-zero, which the service manager restarts: the MTA tempfails meanwhile.
 *
 * TCP_NODELAY.  libmilter writes every header edit and the final reply as a
 * separate small packet; with Nagle's algorithm and a delayed-ACK peer that costs
 * tens of milliseconds per message.  libmilter offers no hook on the accepted
 * socket, but after smfi_opensocket() the listening socket exists in this process:
 * we find it among our descriptors (a listening TCP socket bound to the configured
 * port) and set TCP_NODELAY on it, which Linux copies to every accepted socket. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <gmime/gmime.h>
#include <gnutls/gnutls.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "milter.h"
#include "smime/revocation/http.h"
#include "smime/telemetry/telemetry.h"
#include "smime/verdict/verify.h"

static int signal_pipe[2] = { -1, -1 };
static atomic_int milter_done;           /* smfi_main() has returned */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smime-milter [-c FILE] [-f] [-n] [-V] [-t FILE.eml...]\n"
            "  -c FILE  configuration file (default " SMIME_MILTER_DEFAULT_CONF ")\n"
            "  -f       stay in the foreground\n"
            "  -n       check the configuration and exit (0 valid)\n"
            "  -V       print versions and exit\n"
            "  -t       verify the message files as the milter would; print the headers\n"
            "           it would add and the action, then exit\n");
}

static void print_versions(void)
{
    unsigned ma = 0, mi = 0, pl = 0;
    smfi_version(&ma, &mi, &pl);
    printf("%s %s\n", SMIME_MILTER_NAME, SMIME_MILTER_VERSION);
    printf("GnuTLS %s\n", gnutls_check_version(NULL));
    printf("GMime %u.%u.%u\n", gmime_major_version, gmime_minor_version, gmime_micro_version);
    printf("libmilter %u.%u.%u\n", ma, mi, pl);
}

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    /* the pipe is non-blocking: a full pipe already holds a wake-up */
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* nothing safe to do here */
    }
    errno = saved;
}

/* The port of an inet/inet6 socket spec, or 0. */
static int spec_port(const char *spec)
{
    const char *p = strncmp(spec, "inet6:", 6) == 0 ? spec + 6
                    : strncmp(spec, "inet:", 5) == 0 ? spec + 5
                                                      : NULL;
    return p ? atoi(p) : 0;
}

/* Sets TCP_NODELAY on our listening socket; see the comment at the top. */
static int listener_set_nodelay(int port)
{
    int done = 0;
    for (int fd = 3; fd < 1024; fd++) {
        int listening = 0, type = 0;
        socklen_t l = sizeof(listening);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) < 0 || !listening)
            continue;
        l = sizeof(type);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM)
            continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
            continue;
        int bound = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                    : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : -1;
        if (bound != port)
            continue;
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
            log_msg(LOG_WARNING, "TCP_NODELAY on the listening socket: %s", strerror(errno));
            return -1;
        }
        done = 1;
    }
    if (!done)
        log_msg(LOG_WARNING, "listening socket on port %d not found; TCP_NODELAY not set", port);
    return done ? 0 : -1;
}

static int write_pid_file(const char *path)
{
    /* 0644 whatever UMask says, never through a symbolic link */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd < 0 || fchmod(fd, 0644) < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        if (fd >= 0)
            close(fd);
        log_msg(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0) {
        log_msg(LOG_ERR, "PidFile %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Switches to UserID ("user" or "user:group"); a local socket is handed over first
 * so the MTA-facing socket belongs to the milter's user. */
static int drop_privileges(const smime_config *cfg)
{
    if (!cfg->user_id[0])
        return 0;
    char user[SMIME_CONFIG_NAME_MAX];
    snprintf(user, sizeof(user), "%s", cfg->user_id);
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_msg(LOG_ERR, "UserID: no user %s", user);
        return -1;
    }
    gid_t gid = pw->pw_gid;
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            log_msg(LOG_ERR, "UserID: no group %s", group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    const char *local = strncmp(cfg->socket, "local:", 6) == 0  ? cfg->socket + 6
                        : strncmp(cfg->socket, "unix:", 5) == 0 ? cfg->socket + 5
                                                                 : NULL;
    if (local && chown(local, pw->pw_uid, gid) < 0)
        log_msg(LOG_WARNING, "chown %s: %s", local, strerror(errno));
    if (getuid() == pw->pw_uid && getgid() == gid)
        return 0;
    if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
        log_msg(LOG_ERR, "UserID %s: %s", cfg->user_id, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        log_msg(LOG_ERR, "UserID %s: root privileges could be regained", cfg->user_id);
        return -1;
    }
    return 0;
}

static int daemonize(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return -1;
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
        close(fd);
    return 0;
}

static void *milter_thread(void *arg)
{
    int *result = arg;
    *result = smfi_main();
    atomic_store(&milter_done, 1);
    char c = 0;         /* tells the main thread that libmilter has stopped */
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* the main thread also joins us at exit */
    }
    return NULL;
}

/* Settings that need a restart: say so instead of pretending they changed. */
static void reload_warnings(const smime_config *old, const smime_config *neu)
{
    static const struct { const char *key; size_t off; } fixed[] = {
        { "Socket", offsetof(smime_config, socket) },
        { "UserID", offsetof(smime_config, user_id) },
        { "PidFile", offsetof(smime_config, pid_file) },
        { "Telemetry", offsetof(smime_config, telemetry) },
        { "TelemetryHMACKeyFile", offsetof(smime_config, telemetry_hmac_key) },
        { "CAAResolver", offsetof(smime_config, caa_resolver) },
        { "CAAIssuerMap", offsetof(smime_config, caa_issuer_map) },
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp((const char *)old + fixed[i].off, (const char *)neu + fixed[i].off) != 0)
            log_msg(LOG_WARNING, "reload: %s changes only take effect after a restart",
                    fixed[i].key);
}

static void reload(const char *conf)
{
    char err[1024];
    milter_gen *neu = gen_load(conf, err, sizeof(err));
    if (!neu) {
        log_msg(LOG_ERR, "reload refused, old configuration kept: %s", err);
        return;
    }
    milter_gen *old = gen_acquire();
    reload_warnings(&old->cfg, &neu->cfg);
    if (old->cfg.syslog != neu->cfg.syslog ||
        strcmp(old->cfg.syslog_facility, neu->cfg.syslog_facility) != 0)
        log_open(neu->cfg.syslog, neu->cfg.syslog_facility);
    gen_release(old);
    gen_install(neu);
    milter_gen *now = gen_acquire();
    log_msg(LOG_INFO, "reloaded %s (generation %lu, %u trust anchors)", conf, now->serial,
            smime_trust_count(now->trust));
    gen_release(now);
}

int main(int argc, char **argv)
{
    const char *conf = SMIME_MILTER_DEFAULT_CONF;
    int foreground = 0, check_only = 0, versions = 0, test_mode = 0;
    int c;
    while ((c = getopt(argc, argv, "c:fnVth")) != -1) {
        switch (c) {
        case 'c': conf = optarg; break;
        case 'f': foreground = 1; break;
        case 'n': check_only = 1; break;
        case 'V': versions = 1; break;
        case 't': test_mode = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (versions) {
        print_versions();
        return 0;
    }
    if (test_mode != (optind < argc)) {
        usage(stderr);
        return 2;
    }
    /* both process-wide and not thread-safe: before any thread exists */
    if (smime_init() < 0 || smime_http_init() < 0) {
        fprintf(stderr, "%s: library initialisation failed\n", SMIME_MILTER_NAME);
        return 1;
    }
    char err[1024];
    milter_gen *g = gen_load(conf, err, sizeof(err));
    if (!g) {
        fprintf(stderr, "%s: %s\n", SMIME_MILTER_NAME, err);
        return 1;
    }
    if (check_only) {
        printf("%s: configuration ok (%u trust anchors, authserv-id %s)\n", conf,
               smime_trust_count(g->trust), g->servid);
        gen_release(g);
        return 0;
    }
    if (test_mode) {
        int bad = 0;
        for (int i = optind; i < argc; i++)
            bad |= callbacks_test_file(g, argv[i]) < 0;
        gen_release(g);
        return bad ? 3 : 0;
    }

    const smime_config *cfg = &g->cfg;
    if (cfg->has_umask)
        umask((mode_t)cfg->umask);
    log_open(cfg->syslog, cfg->syslog_facility);
    /* A parser of hostile mail must not keep root: started as root, the daemon
     * binds and then switches to UserID; without one it refuses to start. */
    if (geteuid() == 0 && !cfg->user_id[0]) {
        log_msg(LOG_ERR, "refusing to run as root: set UserID in %s (e.g. UserID smime-milter)",
                conf);
        gen_release(g);
        return 1;
    }
    if (smfi_setconn((char *)cfg->socket) != MI_SUCCESS ||
        smfi_register(*callbacks_desc()) != MI_SUCCESS) {
        log_msg(LOG_ERR, "libmilter set-up failed for %s", cfg->socket);
        return 1;
    }
    if (smfi_opensocket(1) != MI_SUCCESS) {
        log_msg(LOG_ERR, "cannot listen on %s", cfg->socket);
        return 1;
    }
    int port = spec_port(cfg->socket);
    if (port > 0)
        listener_set_nodelay(port);
    if (!foreground && daemonize() < 0) {
        log_msg(LOG_ERR, "cannot become a daemon: %s", strerror(errno));
        return 1;
    }
    if (cfg->pid_file[0] && write_pid_file(cfg->pid_file) < 0)
        return 1;
    if (drop_privileges(cfg) < 0)
        return 1;
    /* after the fork and the switch of user: the writer thread and the database
     * file belong to the daemon as it runs */
    if (cfg->telemetry[0] && telemetry_start(cfg) < 0)
        return 1;
    gen_install(g);                  /* the current generation owns g from now on */

    if (pipe(signal_pipe) < 0 || fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK) < 0 ||
        fcntl(signal_pipe[0], F_SETFD, FD_CLOEXEC) < 0 ||
        fcntl(signal_pipe[1], F_SETFD, FD_CLOEXEC) < 0) {
        log_msg(LOG_ERR, "signal pipe: %s", strerror(errno));
        return 1;
    }
    sigset_t stop_set, old_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGHUP);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    /* the libmilter thread inherits a mask that blocks them; the main thread does not */
    pthread_sigmask(SIG_BLOCK, &stop_set, &old_set);
    int milter_result = MI_FAILURE;
    pthread_t tid;
    int rc = pthread_create(&tid, NULL, milter_thread, &milter_result);
    if (rc != 0) {
        log_msg(LOG_ERR, "cannot start the milter thread: %s", strerror(rc));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    log_msg(LOG_INFO, "%s %s listening on %s", SMIME_MILTER_NAME, SMIME_MILTER_VERSION,
            cfg->socket);

    int stopping = 0;
    for (;;) {
        char sig;
        ssize_t n = read(signal_pipe[0], &sig, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_msg(LOG_ERR, "signal pipe: %s", n < 0 ? strerror(errno) : "closed");
            break;
        }
        if (sig == SIGHUP) {
            reload(conf);
        } else if (sig == SIGTERM || sig == SIGINT) {
            if (!stopping)
                log_msg(LOG_INFO, "stopping on signal %d", sig);
            stopping = 1;
            /* after smfi_main() has returned libmilter's state is torn down */
            if (!atomic_load(&milter_done))
                smfi_stop();
        } else if (sig == 0) {
            break;                   /* smfi_main() returned */
        }
    }
    pthread_join(tid, NULL);
    if (!stopping)
        log_msg(LOG_ERR, "libmilter stopped unexpectedly (%d)", milter_result);
    telemetry_shutdown();
    milter_gen *last = gen_acquire();
    if (last->cfg.pid_file[0] && unlink(last->cfg.pid_file) < 0 && errno != ENOENT)
        log_msg(LOG_WARNING, "PidFile %s: %s", last->cfg.pid_file, strerror(errno));
    gen_release(last);
    return stopping && milter_result == MI_SUCCESS ? 0 : 1;
}
