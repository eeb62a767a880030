/* preflight - what a start needs from the system, checked in one place.
 *
 * `smime-milter -n` and a real start run the same checks in the same order, so -n
 * passes exactly when a start would get past them (a unit's ExecStartPre that
 * passes no longer hides an ExecStart that fails).  Two groups, because the
 * start does its work under two identities:
 *   - preflight_identity() and preflight_socket() as the user the daemon is
 *     started as (root, or the unit's User=): who to become, where to listen;
 *   - preflight_running() after the switch to UserID, as the daemon will run:
 *     the files it reads on reload and the places it writes.
 * Checks use access() and a trial temporary file, never the real sinks: -n must
 * not create a telemetry database or a secret owned by whoever ran it. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter.h"
#include "smime/telemetry/telemetry.h"

/* The directory part of path ("." for a bare name). */
static void dir_of(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, outlen, ".");
    else if (slash == path)
        snprintf(out, outlen, "/");
    else
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

/* 0 when dir is a directory the current user may create and remove files in. */
static int dir_writable(const char *key, const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        snprintf(err, errlen, "%s: directory %s: %s", key, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s is not a directory", key, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "%s: directory %s not writable by uid %ld: %s", key, dir,
                 (long)getuid(), strerror(errno));
        return -1;
    }
    return 0;
}

/* 0 when path can be read (a file, or a directory that can be listed). */
static int readable(const char *key, const char *path, char *err, size_t errlen)
{
    struct stat st;
    int mode = R_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        mode |= X_OK;
    if (access(path, mode) < 0) {
        snprintf(err, errlen, "%s: %s not readable by uid %ld: %s", key, path, (long)getuid(),
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* A file the daemon opens for writing, creating it when missing: an existing one
 * must be readable and writable, a missing one needs a writable directory. */
static int file_writable(const char *key, const char *path, char *err, size_t errlen)
{
    if (access(path, F_OK) == 0) {
        if (access(path, R_OK | W_OK) < 0) {
            snprintf(err, errlen, "%s: %s not writable by uid %ld: %s", key, path,
                     (long)getuid(), strerror(errno));
            return -1;
        }
        return 0;
    }
    char dir[SMIME_CONFIG_PATH_MAX];
    dir_of(path, dir, sizeof(dir));
    return dir_writable(key, dir, err, errlen);
}

/* The path of a local:/unix: socket spec, or NULL for inet. */
const char *preflight_local_path(const char *spec)
{
    return strncmp(spec, "local:", 6) == 0  ? spec + 6
           : strncmp(spec, "unix:", 5) == 0 ? spec + 5
                                             : NULL;
}

int preflight_identity(const smime_config *cfg, const char *conf, milter_identity *id,
                       char *err, size_t errlen)
{
    memset(id, 0, sizeof(*id));
    if (!cfg->user_id[0]) {
        /* a parser of hostile mail must not keep root */
        if (geteuid() == 0) {
            snprintf(err, errlen, MILTER_ROOT_REFUSAL, conf);
            return -1;
        }
        return 0;
    }
    char user[SMIME_CONFIG_NAME_MAX];
    snprintf(user, sizeof(user), "%s", cfg->user_id);
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        /* a number names a uid, as in chown(1) */
        char *end;
        unsigned long uid = strtoul(user, &end, 10);
        if (*user && !*end && uid <= UINT_MAX)
            pw = getpwuid((uid_t)uid);
    }
    if (!pw) {
        snprintf(err, errlen, "UserID: no user %s", user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        snprintf(err, errlen, MILTER_ROOT_REFUSAL, conf);
        return -1;
    }
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            snprintf(err, errlen, "UserID: no group %s", group);
            return -1;
        }
        id->gid = gr->gr_gid;
        id->group_given = 1;
    }
    snprintf(id->name, sizeof(id->name), "%s", cfg->user_id);
    id->set = 1;
    if (geteuid() != 0 && (getuid() != id->uid || getgid() != id->gid)) {
        snprintf(err, errlen,
                 "UserID %s: started as uid %ld, not root, so it cannot switch to it "
                 "(start it as root, or as that user)",
                 cfg->user_id, (long)getuid());
        return -1;
    }
    return 0;
}

int preflight_socket(const smime_config *cfg, char *err, size_t errlen)
{
    const char *path = preflight_local_path(cfg->socket);
    if (!path)
        return 0;                   /* inet: the port is tried by the start itself */
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "Socket: %s exists and is not a socket", path);
        return -1;
    }
    char dir[SMIME_CONFIG_PATH_MAX];
    dir_of(path, dir, sizeof(dir));
    return dir_writable("Socket", dir, err, errlen);
}

int preflight_running(const smime_config *cfg, char *err, size_t errlen)
{
    /* read again on every SIGHUP, by this user */
    if (readable("TrustAnchors", cfg->trust_anchors, err, errlen) < 0)
        return -1;
    if (cfg->peer_list[0] && readable("PeerList", cfg->peer_list, err, errlen) < 0)
        return -1;
    if (cfg->crl_dir[0] && readable("CRLDirectory", cfg->crl_dir, err, errlen) < 0)
        return -1;
    if (cfg->revocation_cache[0] &&
        dir_writable("RevocationCache", cfg->revocation_cache, err, errlen) < 0)
        return -1;
    if (cfg->signing_policy[0] && readable("SigningPolicy", cfg->signing_policy, err, errlen) < 0)
        return -1;
    if (cfg->harvest_dir[0]) {
        /* the harvest writer makes the directory when it is missing */
        struct stat st;
        char parent[SMIME_CONFIG_PATH_MAX];
        dir_of(cfg->harvest_dir, parent, sizeof(parent));
        if (stat(cfg->harvest_dir, &st) == 0 ?
                dir_writable("HarvestDirectory", cfg->harvest_dir, err, errlen) < 0 :
                dir_writable("HarvestDirectory", parent, err, errlen) < 0)
            return -1;
    }
    /* a trial file, as the spool makes them: access() alone misses a full or
     * read-only file system */
    char trial[SMIME_CONFIG_PATH_MAX + 32];
    snprintf(trial, sizeof(trial), "%s/smime-milter-check.XXXXXX", cfg->temp_dir);
    int fd = mkstemp(trial);
    if (fd < 0) {
        snprintf(err, errlen, "TemporaryDirectory %s: cannot create a file as uid %ld: %s",
                 cfg->temp_dir, (long)getuid(), strerror(errno));
        return -1;
    }
    close(fd);
    unlink(trial);
    if (cfg->pid_file[0]) {
        /* written and removed by this user: its directory must be ours */
        char dir[SMIME_CONFIG_PATH_MAX];
        dir_of(cfg->pid_file, dir, sizeof(dir));
        if (dir_writable("PidFile", dir, err, errlen) < 0)
            return -1;
    }
    if (cfg->telemetry[0]) {
        const char *db = smime_telemetry_uri_sqlite_path(cfg->telemetry);
        if (db && file_writable("Telemetry", db, err, errlen) < 0)
            return -1;
        /* the deployment secret is read when it exists, else created */
        char secret[SMIME_CONFIG_PATH_MAX + 16];
        if (smime_telemetry_secret_default_path(cfg->telemetry, secret, sizeof(secret)) == 0) {
            if (access(secret, F_OK) == 0 ? readable("Telemetry secret", secret, err, errlen) < 0
                                          : file_writable("Telemetry secret", secret, err,
                                                          errlen) < 0)
                return -1;
        }
    }
    return 0;
}
