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
 * port) and set TCP_NODELAY on it, which Linux copies to every accepted socket.
 *
 * Stopping.  libmilter's listener holds its lock across a select() on the
 * listening socket that waits up to MI_CHK_TIME (5 s) for a connection, and
 * looks at the stop flag only when that returns; smfi_stop() sets the flag and
 * then waits for the same lock to close the socket.  So SIGTERM took 1-5 s.  Now
 * a helper thread calls smfi_stop() (the flag is set at once, the thread then
 * waits for the lock), and the main thread sends SIGUSR2, whose handler does
 * nothing, to the libmilter thread every 20 ms until smfi_main() returns: the
 * interrupted select() fails with EINTR and the listener, seeing the flag, stops.
 * Then the daemon waits (bounded) for messages whose check has begun to get
 * their replies, and exits.
 *
 * Start-up order (preflight.c holds the checks, which -n runs in the same order):
 * identity and socket as the starting user; listen; detach; switch to UserID;
 * the checks of the running user; pid file (written by UserID into a directory
 * it owns, so that it can remove it at exit: /run/smime-milter/ under the unit's
 * RuntimeDirectory); telemetry.  Until the daemon serves, errors go to stderr as
 * well as syslog, and a detaching start's parent waits for the daemon's word, so
 * its exit status and message say whether the start worked. */
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

#include "metrics.h"
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
            "  -n       check everything a start would and exit (0: it would start)\n"
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

/* The descriptor of our listening TCP socket (libmilter does not give it out):
 * the listening stream socket bound to port; -1 if none. */
static int find_listener(int port)
{
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
        if (bound == port)
            return fd;
    }
    return -1;
}

/* Sets TCP_NODELAY on our listening socket; see the comment at the top. */
static void listener_set_nodelay(int fd, int port)
{
    int one = 1;
    if (fd < 0)
        log_msg(LOG_WARNING, "listening socket on port %d not found; TCP_NODELAY not set", port);
    else if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        log_msg(LOG_WARNING, "TCP_NODELAY on the listening socket: %s", strerror(errno));
}

/* SIGUSR2 (to the libmilter thread only) interrupts the listener's select(); see
 * the comment at the top. */
static void on_wake(int sig)
{
    (void)sig;
}

/* smfi_stop() blocks until the listener lets go of its lock; see the top. */
static void *stopper_thread(void *arg)
{
    (void)arg;
    smfi_stop();
    return NULL;
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

/* Switches to UserID (resolved by preflight_identity).  A local socket is handed
 * over first so the MTA-facing socket belongs to the milter's user; its group is
 * changed only when UserID names one, so a socket made in a set-group-ID directory
 * (the chrooted-Postfix recipe of smime-milter(8)) keeps the MTA's group. */
static int drop_privileges(const smime_config *cfg, const milter_identity *id, int chown_socket)
{
    if (!id->set)
        return 0;
    const char *local = preflight_local_path(cfg->socket);
    /* not started as root, the daemon is UserID already and made the socket as
     * such; and chown(2) is one of the calls the unit's SystemCallFilter forbids */
    if (chown_socket && local && geteuid() == 0 &&
        chown(local, id->uid, id->group_given ? id->gid : (gid_t)-1) < 0)
        log_msg(LOG_WARNING, "chown %s: %s", local, strerror(errno));
    if (getuid() == id->uid && getgid() == id->gid)
        return 0;
    if (setgroups(1, &id->gid) < 0 || setgid(id->gid) < 0 || setuid(id->uid) < 0) {
        log_msg(LOG_ERR, "UserID %s: %s", id->name, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        log_msg(LOG_ERR, "UserID %s: root privileges could be regained", id->name);
        return -1;
    }
    return 0;
}

static int ready_fd = -1;                /* to the waiting parent of a detaching start */

/* Detaches.  The original process waits until the daemon reports that it serves
 * (daemon_ready) or dies first, and exits 0 or 1 accordingly; until then the
 * daemon's stderr is still the caller's, so its start-up errors are seen. */
static int daemonize(void)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(p[1]);
        char c;
        ssize_t n;
        do
            n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        _exit(n == 1 ? 0 : 1);
    }
    close(p[0]);
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
    if (fd > 2)
        close(fd);
    if (fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0)
        return -1;
    ready_fd = p[1];
    return 0;
}

/* Start-up is over: stderr is let go (detached) and the parent told. */
static void daemon_ready(void)
{
    log_startup(0);
    if (ready_fd < 0)
        return;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    if (write(ready_fd, "1", 1) < 0) {
        /* the parent is gone: nobody to tell */
    }
    close(ready_fd);
    ready_fd = -1;
}

/* -n: everything a start would check, in the same order (see preflight.c), then
 * a summary.  Run as root with a UserID it switches to that user for the checks
 * of the running daemon, as a start would. */
static int check_config(const char *conf, milter_gen *g)
{
    char err[1024];
    milter_identity id;
    if (preflight_identity(&g->cfg, conf, &id, err, sizeof(err)) < 0 ||
        preflight_socket(&g->cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", conf, err);
        return 1;
    }
    if (drop_privileges(&g->cfg, &id, 0) < 0)     /* logged: -n logs to stderr */
        return 1;
    if (preflight_running(&g->cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\n", conf, err);
        return 1;
    }
    printf("%s: configuration ok (%u trust anchors, authserv-id %s)\n", conf,
           smime_trust_count(g->trust), g->servid);
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
        { "MetricsSocket", offsetof(smime_config, metrics_socket) },
        { "HarvestDirectory", offsetof(smime_config, harvest_dir) },
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
        metrics_reload(0);
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
    metrics_reload(1);
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
        if (!check_only && !test_mode) {
            /* whether Syslog is wanted is in the file that failed: say it there too */
            openlog(SMIME_MILTER_NAME, LOG_PID, LOG_MAIL);
            syslog(LOG_ERR, "%s", err);
            closelog();
        }
        return 1;
    }
    if (check_only) {
        log_open(0, "");                /* -n answers on the terminal */
        int rc = check_config(conf, g);
        gen_release(g);
        return rc;
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
    log_startup(1);
    milter_identity id;
    if (preflight_identity(cfg, conf, &id, err, sizeof(err)) < 0 ||
        preflight_socket(cfg, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        goto start_failed;
    }
    if (smfi_setconn((char *)cfg->socket) != MI_SUCCESS ||
        smfi_register(*callbacks_desc()) != MI_SUCCESS) {
        log_msg(LOG_ERR, "libmilter set-up failed for %s", cfg->socket);
        goto start_failed;
    }
    errno = 0;
    if (smfi_opensocket(1) != MI_SUCCESS) {
        /* libmilter says why only to syslog; errno is still its bind()'s */
        log_msg(LOG_ERR, "cannot listen on %s: %s", cfg->socket,
                errno ? strerror(errno) : "libmilter failed");
        goto start_failed;
    }
    int port = spec_port(cfg->socket);
    if (port > 0)
        listener_set_nodelay(find_listener(port), port);
    if (!foreground && daemonize() < 0) {
        log_msg(LOG_ERR, "cannot become a daemon: %s", strerror(errno));
        goto start_failed;
    }
    /* bound while still root (any port), served only after the switch of user */
    if (cfg->metrics_socket[0]) {
        struct sockaddr_storage ss;
        socklen_t sl = 0;
        if (smime_config_metrics_addr(cfg->metrics_socket, &ss, &sl) < 0 ||
            metrics_listen((struct sockaddr *)&ss, sl, err, sizeof(err)) < 0) {
            log_msg(LOG_ERR, "MetricsSocket %s: %s", cfg->metrics_socket, err);
            goto start_failed;
        }
    }
    if (drop_privileges(cfg, &id, 1) < 0)
        goto start_failed;
    if (preflight_running(cfg, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        goto start_failed;
    }
    if (cfg->pid_file[0] && write_pid_file(cfg->pid_file) < 0)
        goto start_failed;
    /* after the fork and the switch of user: the writer thread and the database
     * file belong to the daemon as it runs */
    if (cfg->telemetry[0] && telemetry_start(cfg) < 0)
        goto start_failed;
    if (cfg->harvest_dir[0] && harvest_start(cfg) < 0)
        goto start_failed;
    if (cfg->metrics_socket[0] && metrics_start(telemetry_metrics, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "MetricsSocket %s: %s", cfg->metrics_socket, err);
        goto start_failed;
    }
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
    sa.sa_handler = on_wake;        /* no SA_RESTART: the select() must fail */
    sigaction(SIGUSR2, &sa, NULL);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    log_msg(LOG_INFO, "%s %s listening on %s", SMIME_MILTER_NAME, SMIME_MILTER_VERSION,
            cfg->socket);
    daemon_ready();

    int stopping = 0, stopper_started = 0;
    pthread_t stopper_tid;
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
            if (!stopper_started && !atomic_load(&milter_done)) {
                int e = pthread_create(&stopper_tid, NULL, stopper_thread, NULL);
                if (e != 0) {
                    log_msg(LOG_ERR, "cannot start the stop thread: %s", strerror(e));
                    smfi_stop();
                } else {
                    stopper_started = 1;
                }
            }
            const struct timespec tick = { 0, 20 * 1000000L };
            for (int i = 0; i < 500 && !atomic_load(&milter_done); i++) {
                pthread_kill(tid, SIGUSR2);
                nanosleep(&tick, NULL);
            }
        } else if (sig == 0) {
            break;                   /* smfi_main() returned */
        }
    }
    pthread_join(tid, NULL);
    if (stopper_started)
        pthread_join(stopper_tid, NULL);
    if (!stopping)
        log_msg(LOG_ERR, "libmilter stopped unexpectedly (%d)", milter_result);
    /* the replies of messages whose check has begun; bounded by what one check
     * may take (VerifyTimeout of CPU, RevocationTimeout of fetching) */
    milter_gen *cur = gen_acquire();
    unsigned drain_ms = (cur->cfg.verify_timeout + cur->cfg.revocation_timeout + 2) * 1000u;
    gen_release(cur);
    unsigned busy = callbacks_drain(0), waited = busy;
    if (busy)
        busy = callbacks_drain(drain_ms);
    if (busy)
        log_msg(LOG_WARNING, "%u message(s) still being checked at exit", busy);
    else if (waited) {
        /* libmilter writes a reply just after our callback returns it */
        const struct timespec grace = { 0, 50 * 1000000L };
        nanosleep(&grace, NULL);
    }
    metrics_stop();
    telemetry_shutdown();
    harvest_shutdown();
    if (!busy)
        spool_pool_drain();      /* a thread still checking may give one back later */
    milter_gen *last = gen_acquire();
    if (last->cfg.pid_file[0] && unlink(last->cfg.pid_file) < 0 && errno != ENOENT)
        log_msg(LOG_WARNING, "PidFile %s: %s", last->cfg.pid_file, strerror(errno));
    gen_release(last);
    return stopping && milter_result == MI_SUCCESS ? 0 : 1;

start_failed:
    gen_release(g);                  /* not installed yet: still ours */
    return 1;
}
