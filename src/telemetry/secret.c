/* secret - the per-deployment secret that keys certificate ids in telemetry.
 *
 * Generated on first use, kept in a file of mode 0600 that only the telemetry
 * writer's user reads.  Without it a stored cert_id cannot be linked to a
 * certificate; with it, anyone holding a certificate could test whether it is in
 * the data, so a file others can read is refused rather than used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "smime/telemetry/record.h"
#include "smime/util/text.h"

#define SECRET_PATH_MAX 4096

/* Reads an existing secret through an fd opened without following a symlink. */
static int read_secret(const char *path, unsigned char *key, size_t *key_len, char *err,
                       size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -2;   /* caller decides: missing is "create", other errors are errors */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        smime_errf(err, errlen, "telemetry secret %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        smime_errf(err, errlen, "telemetry secret %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        smime_errf(err, errlen,
                   "telemetry secret %s: mode %03o lets others read or change it; "
                   "chmod 600 it (or remove it to have a new one made)",
                   path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return -1;
    }
    size_t n = 0;
    while (n < SMIME_TELEMETRY_KEY_MAX) {
        ssize_t r = read(fd, key + n, SMIME_TELEMETRY_KEY_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            smime_errf(err, errlen, "telemetry secret %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n == 0) {
        smime_errf(err, errlen, "telemetry secret %s: empty", path);
        return -1;
    }
    *key_len = n;
    return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int smime_telemetry_secret_load(const char *path, unsigned char *key, size_t *key_len,
                                char *err, size_t errlen)
{
    *key_len = 0;
    if (!path || !*path || strlen(path) + 16 > SECRET_PATH_MAX) {
        smime_errf(err, errlen, "telemetry secret: no usable path");
        return -1;
    }
    int rc = read_secret(path, key, key_len, err, errlen);
    if (rc != -2)
        return rc;
    if (errno != ENOENT) {
        smime_errf(err, errlen, "telemetry secret %s: %s", path, strerror(errno));
        return -1;
    }
    /* First use: a new secret in a private temporary file, linked into place.
     * link() fails when another process was first; then its secret is read. */
    char tmp[SECRET_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkstemp(tmp);   /* mode 0600 */
    if (fd < 0) {
        smime_errf(err, errlen, "telemetry secret %s: cannot create it: %s", path,
                   strerror(errno));
        return -1;
    }
    unsigned char fresh[SMIME_TELEMETRY_SECRET_LEN];
    int grc = gnutls_rnd(GNUTLS_RND_KEY, fresh, sizeof(fresh));
    if (grc < 0 || fchmod(fd, 0600) < 0 || write_all(fd, fresh, sizeof(fresh)) < 0 ||
        fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        smime_errf(err, errlen, "telemetry secret %s: cannot write it: %s", path,
                   grc < 0 ? gnutls_strerror(grc) : strerror(e));
        return -1;
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        smime_errf(err, errlen, "telemetry secret %s: cannot write it: %s", path, strerror(e));
        return -1;
    }
    int linked = link(tmp, path);
    int link_errno = errno;
    unlink(tmp);
    gnutls_memset(fresh, 0, sizeof(fresh));
    if (linked < 0 && link_errno != EEXIST) {
        smime_errf(err, errlen, "telemetry secret %s: cannot create it: %s", path,
                   strerror(link_errno));
        return -1;
    }
    rc = read_secret(path, key, key_len, err, errlen);
    if (rc == -2) {
        smime_errf(err, errlen, "telemetry secret %s: %s", path, strerror(errno));
        return -1;
    }
    return rc;
}
