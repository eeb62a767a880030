/* content - canonical CRLF form of signed content, hashed and compared where it
 * lies (see include/smime/crypto/content.h). */
#include "smime/crypto/content.h"

#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>
#include "smime/util/linescan.h"

/* The canonical form of v is cut into pieces, each a run of source bytes
 * followed, when the run ended at a bare LF, by the two bytes CR LF.  Every
 * consumer below walks the same pieces: piece_next() is the one place that
 * decides what the canonical form is. */
typedef struct piece {
    const char *run;
    size_t      run_len;
    int         crlf;        /* the run is followed by CR LF (it was a bare LF) */
} piece;

/* The next piece from *pos; 0 when none is left. */
static int piece_next(const smime_content_view *v, const char **pos, piece *out)
{
    const char *end = v->data + v->len;
    if (v->len == 0 || *pos >= end)
        return 0;
    const char *lf = v->lf_as_crlf ? smime_scan_bare_lf(v->data, *pos, end) : NULL;
    out->run = *pos;
    out->run_len = (size_t)((lf ? lf : end) - *pos);
    out->crlf = lf != NULL;
    *pos = lf ? lf + 1 : end;
    return 1;
}

size_t smime_content_canonical_len(const smime_content_view *v)
{
    size_t n = 0;
    const char *pos = v->data;
    piece pc;
    while (piece_next(v, &pos, &pc))
        n += pc.run_len + (pc.crlf ? 2 : 0);
    return n;
}

/* Bare LFs in [p, end), an LF being bare when the byte before it (down to
 * base) is not a CR. */
static size_t bare_lfs_in(const char *base, const char *p, const char *end)
{
    size_t n = 0;
    for (; p < end && (p = smime_scan_bare_lf(base, p, end)) != NULL; p++)
        n++;
    return n;
}

size_t smime_content_canonical_len_in(const smime_content_view *v, const char *msg,
                                      size_t msg_len, size_t msg_bare_lfs)
{
    if (!v->lf_as_crlf)
        return v->len;
    const char *m_end = msg + msg_len;
    int inside = v->len > 0 && msg && v->data >= msg && v->data + v->len <= m_end;
    /* The view's first LF is bare whatever precedes it: after a CR of the
     * message it is not bare there, so such a slice is counted itself. */
    if (inside && msg_len - v->len < v->len &&
        !(v->data > msg && v->data[-1] == '\r' && v->data[0] == '\n')) {
        size_t around = bare_lfs_in(msg, msg, v->data) + bare_lfs_in(msg, v->data + v->len, m_end);
        if (around <= msg_bare_lfs)
            return v->len + (msg_bare_lfs - around);
    }
    return smime_content_canonical_len(v);
}

int smime_content_hash(gnutls_digest_algorithm_t alg, const smime_content_view *v,
                       unsigned char *digest)
{
    if (!v->lf_as_crlf || v->len == 0)
        return gnutls_hash_fast(alg, v->data, v->len, digest);
    gnutls_hash_hd_t h;
    int rc = gnutls_hash_init(&h, alg);
    if (rc < 0)
        return rc;
    /* Short runs (mail lines) are gathered so that GnuTLS sees few calls; a
     * long run is hashed where it lies, after what was gathered before it. */
    char buf[SMIME_CONTENT_CHUNK];
    size_t used = 0;
    const char *pos = v->data;
    piece pc;
    while (rc >= 0 && piece_next(v, &pos, &pc)) {
        size_t need = pc.run_len + (pc.crlf ? 2 : 0);
        if (used + need > sizeof(buf) && used > 0) {
            rc = gnutls_hash(h, buf, used);
            used = 0;
        }
        if (rc < 0)
            break;
        if (need > sizeof(buf)) {
            rc = gnutls_hash(h, pc.run, pc.run_len);
            if (rc >= 0 && pc.crlf)
                rc = gnutls_hash(h, "\r\n", 2);
            continue;
        }
        memcpy(buf + used, pc.run, pc.run_len);
        used += pc.run_len;
        if (pc.crlf) {
            buf[used++] = '\r';
            buf[used++] = '\n';
        }
    }
    if (rc >= 0 && used > 0)
        rc = gnutls_hash(h, buf, used);
    gnutls_hash_deinit(h, rc >= 0 ? digest : NULL);
    return rc < 0 ? rc : 0;
}

int smime_content_equal(const smime_content_view *v, const void *canon, size_t len)
{
    const char *c = canon, *pos = v->data;
    size_t at = 0;
    piece pc;
    while (piece_next(v, &pos, &pc)) {
        size_t need = pc.run_len + (pc.crlf ? 2 : 0);
        if (need > len - at || (pc.run_len && memcmp(c + at, pc.run, pc.run_len) != 0) ||
            (pc.crlf && memcmp(c + at + pc.run_len, "\r\n", 2) != 0))
            return 0;
        at += need;
    }
    return at == len;
}

unsigned char *smime_content_canonical_copy(const smime_content_view *v, size_t *out_len)
{
    size_t n = smime_content_canonical_len(v);
    unsigned char *out = malloc(n ? n : 1);
    if (!out)
        return NULL;
    size_t at = 0;
    const char *pos = v->data;
    piece pc;
    while (piece_next(v, &pos, &pc)) {
        memcpy(out + at, pc.run, pc.run_len);
        at += pc.run_len;
        if (pc.crlf) {
            out[at++] = '\r';
            out[at++] = '\n';
        }
    }
    *out_len = n;
    return out;
}
