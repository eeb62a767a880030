/* Unit tests of the start-up checks (milter/preflight.c) that -n and a start share:
 * who UserID is (never root), the socket's directory, and what the running daemon
 * reads and writes.  Part of the daemon, so its source is compiled in here.  Run as
 * root or not: the checks that depend on it say which they expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../milter/config.c"
#include "../../milter/preflight.c"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_preflight.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", tmpdir, name);
}

/* A configuration whose every path is good: anchors, temporary directory. */
static void good_config(smime_config *c)
{
    smime_config_default(c);
    path_in(c->trust_anchors, sizeof(c->trust_anchors), "anchors.pem");
    FILE *f = fopen(c->trust_anchors, "w");
    assert_non_null(f);
    fputs("not parsed here\n", f);
    fclose(f);
    snprintf(c->temp_dir, sizeof(c->temp_dir), "%s", tmpdir);
}

static void test_dir_of(void **state)
{
    (void)state;
    char d[64];
    dir_of("/run/smime-milter/x.pid", d, sizeof(d));
    assert_string_equal(d, "/run/smime-milter");
    dir_of("/x.pid", d, sizeof(d));
    assert_string_equal(d, "/");
    dir_of("x.pid", d, sizeof(d));
    assert_string_equal(d, ".");
}

static void test_identity_without_user(void **state)
{
    (void)state;
    smime_config c;
    smime_config_default(&c);
    milter_identity id;
    char err[512] = "";
    int rc = preflight_identity(&c, "/etc/x.conf", &id, err, sizeof(err));
    if (geteuid() == 0) {
        /* root without UserID: the one documented message, naming the file */
        assert_int_equal(rc, -1);
        char want[512];
        snprintf(want, sizeof(want), MILTER_ROOT_REFUSAL, "/etc/x.conf");
        assert_string_equal(err, want);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(id.set, 0);
    }
}

static void test_identity_root_refused(void **state)
{
    (void)state;
    static const char *const roots[] = { "root", "0", "root:root", "0:0" };
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        smime_config c;
        smime_config_default(&c);
        snprintf(c.user_id, sizeof(c.user_id), "%s", roots[i]);
        milter_identity id;
        char err[512] = "";
        assert_int_equal(preflight_identity(&c, "f.conf", &id, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "refusing to run as root: set UserID in f.conf"));
    }
}

static void test_identity_unknown(void **state)
{
    (void)state;
    smime_config c;
    smime_config_default(&c);
    snprintf(c.user_id, sizeof(c.user_id), "no-such-user-here");
    milter_identity id;
    char err[512] = "";
    assert_int_equal(preflight_identity(&c, "f.conf", &id, err, sizeof(err)), -1);
    assert_string_equal(err, "UserID: no user no-such-user-here");
    if (!getpwnam("nobody"))
        return;
    snprintf(c.user_id, sizeof(c.user_id), "nobody:no-such-group-here");
    assert_int_equal(preflight_identity(&c, "f.conf", &id, err, sizeof(err)), -1);
    assert_string_equal(err, "UserID: no group no-such-group-here");
}

static void test_identity_other_user(void **state)
{
    (void)state;
    struct passwd *pw = getpwnam("nobody");
    if (!pw)
        skip();
    smime_config c;
    smime_config_default(&c);
    snprintf(c.user_id, sizeof(c.user_id), "nobody");
    milter_identity id;
    char err[512] = "";
    int rc = preflight_identity(&c, "f.conf", &id, err, sizeof(err));
    if (geteuid() == 0) {
        assert_int_equal(rc, 0);
        assert_int_equal(id.set, 1);
        assert_int_equal(id.uid, pw->pw_uid);
        assert_int_equal(id.gid, pw->pw_gid);
        assert_int_equal(id.group_given, 0);
    } else if (getuid() != pw->pw_uid) {
        /* not root: only itself may be named */
        assert_int_equal(rc, -1);
        assert_non_null(strstr(err, "not root, so it cannot switch to it"));
    }
}

static void test_socket(void **state)
{
    (void)state;
    smime_config c;
    smime_config_default(&c);
    char err[512] = "";
    snprintf(c.socket, sizeof(c.socket), "inet:8894@127.0.0.1");
    assert_int_equal(preflight_socket(&c, err, sizeof(err)), 0);
    snprintf(c.socket, sizeof(c.socket), "local:%s/s.sock", tmpdir);
    assert_int_equal(preflight_socket(&c, err, sizeof(err)), 0);
    snprintf(c.socket, sizeof(c.socket), "unix:%s/missing/s.sock", tmpdir);
    assert_int_equal(preflight_socket(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "missing: No such file or directory"));
    char plain[128];
    path_in(plain, sizeof(plain), "plain");
    FILE *f = fopen(plain, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(c.socket, sizeof(c.socket), "local:%s", plain);
    assert_int_equal(preflight_socket(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "exists and is not a socket"));
}

static void test_running_good(void **state)
{
    (void)state;
    smime_config c;
    good_config(&c);
    path_in(c.pid_file, sizeof(c.pid_file), "m.pid");
    snprintf(c.telemetry, sizeof(c.telemetry), "sqlite:%s/t.db", tmpdir);
    char err[512] = "";
    assert_int_equal(preflight_running(&c, err, sizeof(err)), 0);
    /* checked, not made: -n must leave nothing owned by whoever ran it */
    char db[128];
    path_in(db, sizeof(db), "t.db");
    assert_int_equal(access(db, F_OK), -1);
    path_in(db, sizeof(db), "t.db.secret");
    assert_int_equal(access(db, F_OK), -1);
}

static void test_running_each_problem(void **state)
{
    (void)state;
    smime_config c;
    char err[512];

    good_config(&c);
    path_in(c.trust_anchors, sizeof(c.trust_anchors), "no-anchors.pem");
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TrustAnchors: "));

    good_config(&c);
    path_in(c.temp_dir, sizeof(c.temp_dir), "no-spool");
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "TemporaryDirectory "));
    assert_non_null(strstr(err, "cannot create a file"));

    good_config(&c);
    path_in(c.pid_file, sizeof(c.pid_file), "no-run/m.pid");
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "PidFile: directory "));

    good_config(&c);
    snprintf(c.telemetry, sizeof(c.telemetry), "sqlite:%s/no-db/t.db", tmpdir);
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Telemetry: directory "));
    assert_non_null(strstr(err, "no-db: No such file or directory"));

    good_config(&c);
    path_in(c.revocation_cache, sizeof(c.revocation_cache), "no-cache");
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "RevocationCache: directory "));

    good_config(&c);
    path_in(c.peer_list, sizeof(c.peer_list), "no-peers");
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "PeerList: "));

    good_config(&c);
    path_in(c.crl_dir, sizeof(c.crl_dir), "no-crls");
    assert_int_equal(preflight_running(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "CRLDirectory: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dir_of),
        cmocka_unit_test(test_identity_without_user),
        cmocka_unit_test(test_identity_root_refused),
        cmocka_unit_test(test_identity_unknown),
        cmocka_unit_test(test_identity_other_user),
        cmocka_unit_test(test_socket),
        cmocka_unit_test(test_running_good),
        cmocka_unit_test(test_running_each_problem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
