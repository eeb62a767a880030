/* content - the signed content of a message as it lies in the message, hashed
 * and compared in its canonical form without being copied.
 *
 * RFC 8551 3.1.1: what is signed is the canonical CRLF form.  A message that
 * arrived with bare LF line ends (or some of them) is not converted into a
 * second buffer: the view says that each bare LF (one not after a CR) stands
 * for CRLF, and the hash reads it so, through a small stack buffer.  A lone CR
 * is content, never a line end (smime_mime_to_crlf does the same). */
#ifndef SMIME_CONTENT_H
#define SMIME_CONTENT_H

#include <gnutls/gnutls.h>
#include <stddef.h>

typedef struct smime_content_view {
    const char *data;        /* borrowed; NULL only when len is 0 */
    size_t      len;
    int         lf_as_crlf;  /* a bare LF in data stands for CRLF */
} smime_content_view;

/* Bytes the hash gathers short runs into before handing them to GnuTLS; runs
 * at least this long are hashed where they lie.  Public for the tests, which
 * put a CR or an LF at its edges. */
#define SMIME_CONTENT_CHUNK 4096

/* Length of the canonical form of v. */
size_t smime_content_canonical_len(const smime_content_view *v);
/* The same length, for a view that may lie inside the message [msg, msg +
 * msg_len), which holds msg_bare_lfs bare LFs: when the view is the larger part
 * of it (a large body), the bare LFs around the view are counted instead of
 * those in it, so the body is read once, by the hash.  Any other view is
 * counted itself. */
size_t smime_content_canonical_len_in(const smime_content_view *v, const char *msg,
                                      size_t msg_len, size_t msg_bare_lfs);
/* Hashes the canonical form of v into digest (gnutls_hash_get_len(alg) bytes).
 * Returns 0 or a GnuTLS error. */
int smime_content_hash(gnutls_digest_algorithm_t alg, const smime_content_view *v,
                       unsigned char *digest);
/* 1 when the canonical form of v is exactly the len bytes at canon, else 0. */
int smime_content_equal(const smime_content_view *v, const void *canon, size_t len);
/* The canonical form of v in a new buffer (malloc; the caller frees it), its
 * length in *out_len; NULL when memory ran out.  For the reference path only,
 * which hands GnuTLS one buffer. */
unsigned char *smime_content_canonical_copy(const smime_content_view *v, size_t *out_len);

#endif
