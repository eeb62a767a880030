/* peerlist - parse and match the PeerList file of unchecked SMTP clients. */
#include "peerlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smime/util/buf.h"
#include "smime/util/text.h"

#define PEER_LINE_MAX 128

static int parse_entry(const char *s, smime_peer *p)
{
    char addr[PEER_LINE_MAX];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(addr))
        return -1;
    memcpy(addr, s, n);
    addr[n] = '\0';
    memset(p, 0, sizeof(*p));
    unsigned max;
    if (inet_pton(AF_INET, addr, p->addr) == 1) {
        p->family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
        p->family = 6;
        max = 128;
    } else {
        return -1;
    }
    p->prefix = max;
    if (slash) {
        const char *d = slash + 1;
        unsigned v = 0;
        if (!*d || strlen(d) > 3)
            return -1;
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return -1;
            v = v * 10 + (unsigned)(*d - '0');
        }
        if (v > max)
            return -1;
        p->prefix = v;
    }
    /* clear host bits so matching is a plain prefix comparison */
    for (unsigned bit = p->prefix; bit < max; bit++)
        p->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    return 0;
}

int smime_peerlist_parse(const char *text, size_t len, const char *source,
                         smime_peerlist *out, char *err, size_t errlen)
{
    size_t pos = 0, alloc = 0;
    unsigned lineno = 0;
    out->n = 0;
    out->peers = NULL;
    while (pos < len) {
        lineno++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        const char *hash = memchr(start, '#', n);
        if (hash)
            n = (size_t)(hash - start);
        while (n > 0 && (*start == ' ' || *start == '\t')) {
            start++;
            n--;
        }
        while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t' || start[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        char entry[PEER_LINE_MAX];
        smime_peer peer;
        if (n >= sizeof(entry) || (memcpy(entry, start, n), entry[n] = '\0',
                                   parse_entry(entry, &peer) < 0)) {
            snprintf(err, errlen, "%s:%u: expected an IP address or CIDR block (no host names)",
                     source, lineno);
            return -1;
        }
        if (out->n == SMIME_PEERLIST_MAX) {
            snprintf(err, errlen, "%s:%u: more than %d entries", source, lineno,
                     SMIME_PEERLIST_MAX);
            return -1;
        }
        if (out->n == alloc) {
            size_t na = alloc ? alloc * 2 : 16;
            smime_peer *np = realloc(out->peers, na * sizeof(*np));
            if (!np) {
                snprintf(err, errlen, "%s:%u: out of memory", source, lineno);
                return -1;
            }
            out->peers = np;
            alloc = na;
        }
        out->peers[out->n++] = peer;
    }
    return 0;
}

static int parse_peers(const char *text, size_t len, const char *source, void *out, char *err,
                       size_t errlen)
{
    return smime_peerlist_parse(text, len, source, out, err, errlen);
}

int smime_peerlist_load(const char *path, smime_peerlist *out, char *err, size_t errlen)
{
    out->n = 0;
    out->peers = NULL;
    return smime_text_load_file(path, (size_t)SMIME_PEERLIST_MAX * PEER_LINE_MAX, parse_peers,
                                out, err, errlen);
}

void smime_peerlist_free(smime_peerlist *l)
{
    free(l->peers);
    l->peers = NULL;
    l->n = 0;
}

static int prefix_equal(const unsigned char *a, const unsigned char *net, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, net, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xFFu << (8 - rest));
    return (a[full] & mask) == net[full];
}

int smime_peerlist_match(const smime_peerlist *l, int family, const unsigned char *addr)
{
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
    const unsigned char *v4 = family == 4 ? addr : NULL;
    if (family == 6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0)
        v4 = addr + 12;
    for (size_t i = 0; i < l->n; i++) {
        const smime_peer *p = &l->peers[i];
        if (p->family == 4 && v4 && prefix_equal(v4, p->addr, p->prefix))
            return 1;
        if (p->family == 6 && family == 6 && prefix_equal(addr, p->addr, p->prefix))
            return 1;
    }
    return 0;
}
