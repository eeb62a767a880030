/* peerlist - the PeerList file: SMTP clients whose mail is not checked at all.
 *
 * One IPv4 or IPv6 address or CIDR block per line ("192.0.2.7", "10.0.0.0/8",
 * "2001:db8::/32"), '#' comments, blank lines ignored.  Host names are not
 * accepted: the milter does no DNS.  Parsing is pure; smime_peerlist_load() adds
 * reading the file. */
#ifndef SMIME_MILTER_PEERLIST_H
#define SMIME_MILTER_PEERLIST_H

#include <stddef.h>

#define SMIME_PEERLIST_MAX 10000   /* entries in one file */

typedef struct smime_peer {
    int           family;          /* 4 or 6 */
    unsigned char addr[16];        /* network address, host bits cleared */
    unsigned      prefix;          /* 0..32 or 0..128 */
} smime_peer;

typedef struct smime_peerlist {
    size_t      n;
    smime_peer *peers;             /* owned */
} smime_peerlist;

/* Parses text into out (which the caller frees with smime_peerlist_free, also on
 * error).  Returns 0, or -1 with "SOURCE:LINE: problem" in err. */
int  smime_peerlist_parse(const char *text, size_t len, const char *source,
                          smime_peerlist *out, char *err, size_t errlen);
int  smime_peerlist_load(const char *path, smime_peerlist *out, char *err, size_t errlen);
void smime_peerlist_free(smime_peerlist *l);

/* 1 when the address (4 bytes for family 4, 16 for family 6) is in the list.  An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches IPv4 entries. */
int  smime_peerlist_match(const smime_peerlist *l, int family, const unsigned char *addr);

#endif
