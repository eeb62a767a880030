/* headers - the header work of the milter that is pure text: recognising forged
 * Authentication-Results, folding ours, and formatting the optional X-SMIME-*
 * detail headers.  Values returned for insertion use "\n\t" as the fold (what
 * libmilter expects) and never contain any other control character. */
#ifndef SMIME_HEADERS_H
#define SMIME_HEADERS_H

#include "smime/util/buf.h"
#include "smime/report/report.h"

#define SMIME_DETAIL_HEADER   "X-SMIME-Signature"
#define SMIME_DETAIL_PREFIX   "X-SMIME-"
#define SMIME_DETAIL_ITEM_MAX 200        /* bytes of one certificate text, before quoting */

/* 1 when an Authentication-Results value (as the MTA hands it over: leading blanks,
 * comments and bare-LF folds allowed) names `servid` as its authserv-id, compared
 * ASCII case-insensitively; a quoted-string authserv-id is unquoted first. */
int smime_header_claims_servid(const char *value, const char *servid);

/* 1 when a header name is in our X-SMIME-* namespace (case-insensitive). */
int smime_header_is_detail(const char *name);

/* Copies a one-line Authentication-Results value (smime_authres_format()) to out,
 * folding with "\n\t" after every ';' outside quoted strings, i.e. after the
 * authserv-id and between result clauses.  Returns 0 or -1 (cap). */
int smime_authres_fold(const char *line, smime_buf *out);

/* Appends the value of one X-SMIME-Signature header for a signature:
 *   part=1; result=pass;\n\tsigner="..."; serial=...;\n\tissuer="..."; key=...;
 *   \n\tdigest=...; signature=...;\n\tprofile=mailbox-strict; findings="..."
 * (profile and findings only when the report carries an SBR lint result).
 * Certificate text is cut to SMIME_DETAIL_ITEM_MAX bytes (marked "...") and
 * cleaned by smime_authres_value(), so no line exceeds 998 bytes.  Returns 0/-1. */
int smime_detail_format(const smime_sig_report *s, smime_buf *out);
/* (The value also carries, when known, valid-from= and valid-to= of the signer
 * certificate and, per certificate of the validated path, chainN= its subject and
 * chainN-sha256= its fingerprint (N from 1, the anchor last): the fingerprint is
 * what a SigningPolicy ca= setting names.) */

/* ---- subject tags (SubjectTag-*) ---- */
#define SMIME_SUBJECT_TAG_MAX 64         /* bytes of one configured tag */

/* 1 when s is usable as a subject tag: 1..SMIME_SUBJECT_TAG_MAX bytes of
 * printable ASCII, not starting or ending with a blank. */
int smime_subject_tag_valid(const char *s);

/* Rewrites a Subject header value (as the MTA hands it over; bare-LF folds are
 * kept, CRs dropped): every occurrence of each of the n tags is removed with one
 * blank after it, also inside RFC 2047 encoded words (the subject is then
 * re-encoded), so a sender cannot forge our tag; then `add` (NULL or "" for none)
 * is put in front with one blank.  Sets *changed when the value differs.  Returns
 * 0, or -1 when out's cap was hit.  Needs smime_init() (GMime). */
int smime_subject_retag(const char *value, const char *const *tags, size_t n, const char *add,
                        smime_buf *out, int *changed);

#endif
