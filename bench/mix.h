/* mix.h - what the floor programs (crypto-limit.c, cms-peers.c) share: the bench
 * mix read and split into its parts before any clock starts, a DER walk to the one
 * SignerInfo's fields, and CPU-time rounds.  Only for the sample mix, whose
 * messages are multipart/signed, CRLF, with one signer and DER signatures; a
 * message that is not so stops the program (exit 2) instead of being measured
 * wrongly.
 *
 * Everything here is set-up code: it runs once per message before timing, so it
 * favours plainness over speed.  The split does not use our library on purpose:
 * a floor must not move when src/ changes. */
#ifndef BENCH_MIX_H
#define BENCH_MIX_H

#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MIX_MAX       32
#define MIX_MSG_MAX   (64u << 20)   /* a bench message larger than this is a mistake */

typedef struct mix_msg {
    const char *path;
    char *raw;                      /* the whole message, NUL-terminated */
    size_t raw_len;
    const char *content;            /* the signed first part, inside raw */
    size_t content_len;
    unsigned char *der;             /* the decoded signature part (malloc) */
    size_t der_len;
} mix_msg;

static inline void mix_die(const char *path, const char *why)
{
    fprintf(stderr, "%s: %s\n", path, why);
    exit(2);
}

static inline double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline const char *find_bytes(const char *hay, size_t hay_len, const char *needle,
                                     size_t needle_len)
{
    for (size_t i = 0; needle_len <= hay_len && i <= hay_len - needle_len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, needle_len) == 0)
            return hay + i;
    return NULL;
}

/* Base64 to bytes, skipping line breaks; returns the length or (size_t)-1. */
static inline size_t base64_to_der(const char *b, size_t n, unsigned char *out, size_t cap)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\r' || b[i] == '\n' || b[i] == ' ' || b[i] == '\t')
            continue;
        if (b[i] == '=')
            break;
        const char *at = memchr(alphabet, b[i], 64);
        if (!at)
            return (size_t)-1;
        acc = (acc << 6) | (uint32_t)(at - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return (size_t)-1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

/* Reads PATH and finds its two parts: the first part's exact bytes (what the
 * signature covers: from after the first delimiter line to before the CRLF of the
 * next) and the second part's base64 body, decoded. */
static inline void mix_load(const char *path, mix_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->path = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        mix_die(path, "cannot open");
    if (fseek(f, 0, SEEK_END) < 0)
        mix_die(path, "cannot seek");
    long n = ftell(f);
    if (n <= 0 || (unsigned long)n > MIX_MSG_MAX)
        mix_die(path, "empty or larger than a bench message may be");
    rewind(f);
    m->raw = malloc((size_t)n + 1);
    if (!m->raw || fread(m->raw, 1, (size_t)n, f) != (size_t)n)
        mix_die(path, "read failed");
    fclose(f);
    m->raw[n] = '\0';
    m->raw_len = (size_t)n;
    const char *head_end = find_bytes(m->raw, m->raw_len, "\r\n\r\n", 4);
    if (!head_end)
        mix_die(path, "no end of header in CRLF form");
    /* boundary="..." or boundary=token, in the (possibly folded) top header */
    const char *b = NULL;
    for (const char *p = m->raw; p + 9 < head_end; p++)
        if (strncasecmp(p, "boundary=", 9) == 0) {
            b = p + 9;
            break;
        }
    if (!b)
        mix_die(path, "not multipart (no boundary)");
    size_t blen;
    if (*b == '"') {
        b++;
        const char *q = memchr(b, '"', (size_t)(head_end - b));
        if (!q)
            mix_die(path, "unterminated boundary");
        blen = (size_t)(q - b);
    } else {
        blen = strcspn(b, "; \t\r\n");
    }
    if (blen == 0 || blen > 70)
        mix_die(path, "bad boundary");
    char delim[80];                  /* CRLF "--" boundary */
    snprintf(delim, sizeof(delim), "\r\n--%.*s", (int)blen, b);
    size_t dlen = blen + 4;
    /* the first delimiter may follow the header's blank line directly */
    const char *body = head_end + 2;
    const char *d1 = find_bytes(body, m->raw_len - (size_t)(body - m->raw), delim, dlen);
    if (!d1)
        mix_die(path, "no first delimiter");
    const char *c = memchr(d1 + dlen, '\n', m->raw_len - (size_t)(d1 + dlen - m->raw));
    if (!c)
        mix_die(path, "delimiter line not ended");
    m->content = c + 1;
    const char *d2 = find_bytes(m->content, m->raw_len - (size_t)(m->content - m->raw), delim, dlen);
    if (!d2)
        mix_die(path, "no second delimiter");
    m->content_len = (size_t)(d2 - m->content);
    const char *part2 = d2 + dlen;
    size_t rest = m->raw_len - (size_t)(part2 - m->raw);
    const char *sig_body = find_bytes(part2, rest, "\r\n\r\n", 4);
    if (!sig_body)
        mix_die(path, "signature part has no body");
    sig_body += 4;
    const char *d3 = find_bytes(sig_body, m->raw_len - (size_t)(sig_body - m->raw), delim, dlen);
    if (!d3)
        mix_die(path, "no closing delimiter");
    size_t b64_len = (size_t)(d3 - sig_body);
    m->der = malloc(b64_len);
    if (!m->der)
        mix_die(path, "out of memory");
    m->der_len = base64_to_der(sig_body, b64_len, m->der, b64_len);
    if (m->der_len == (size_t)-1 || m->der_len < 2)
        mix_die(path, "signature part is not base64");
}

static inline void mix_free(mix_msg *m)
{
    free(m->raw);
    free(m->der);
}

/* ---- DER, definite lengths only (the mix is DER; BER stops the program) ---- */

typedef struct der {
    const unsigned char *p;         /* the whole element */
    size_t len;                     /* of the whole element */
    const unsigned char *body;
    size_t body_len;
    unsigned char tag;
} der;

/* Reads one element at *p (within end); advances *p past it.  0 or -1. */
static inline int der_next(const unsigned char **p, const unsigned char *end, der *out)
{
    const unsigned char *q = *p;
    if (end - q < 2)
        return -1;
    out->p = q;
    out->tag = *q++;
    if ((out->tag & 0x1f) == 0x1f)
        return -1;                  /* multi-byte tags do not occur in CMS */
    size_t len = *q++;
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 4 || (size_t)(end - q) < k)
            return -1;              /* k == 0: indefinite (BER) */
        len = 0;
        while (k--)
            len = (len << 8) | *q++;
    }
    if ((size_t)(end - q) < len)
        return -1;
    out->body = q;
    out->body_len = len;
    out->len = (size_t)(q + len - out->p);
    *p = q + len;
    return 0;
}

/* The fields of the one SignerInfo of a SignedData, as slices of the DER. */
typedef struct signer_fields {
    der certs;                      /* [0] IMPLICIT SET OF Certificate */
    der digest_oid;                 /* digestAlgorithm's OID */
    der signed_attrs;               /* [0] IMPLICIT SET OF Attribute */
    der sig_alg_oid;
    der signature;                  /* OCTET STRING */
} signer_fields;

static inline void der_signer(const char *path, const unsigned char *d, size_t n, signer_fields *sf)
{
    memset(sf, 0, sizeof(*sf));
    const unsigned char *p = d, *end = d + n;
    der ci, oid, explicit0, sd, e;
    if (der_next(&p, end, &ci) < 0 || ci.tag != 0x30)
        mix_die(path, "ContentInfo is not a DER SEQUENCE");
    p = ci.body;
    end = ci.body + ci.body_len;
    if (der_next(&p, end, &oid) < 0 || der_next(&p, end, &explicit0) < 0 || explicit0.tag != 0xa0)
        mix_die(path, "ContentInfo without content");
    p = explicit0.body;
    end = explicit0.body + explicit0.body_len;
    if (der_next(&p, end, &sd) < 0 || sd.tag != 0x30)
        mix_die(path, "SignedData is not a SEQUENCE");
    p = sd.body;
    end = sd.body + sd.body_len;
    der signer_infos = { 0 };
    while (p < end) {
        if (der_next(&p, end, &e) < 0)
            mix_die(path, "bad SignedData element");
        if (e.tag == 0xa0)
            sf->certs = e;
        else if (e.tag == 0x31)
            signer_infos = e;       /* digestAlgorithms comes first; signerInfos last */
    }
    if (!signer_infos.p || !sf->certs.p)
        mix_die(path, "no signerInfos or no certificates");
    p = signer_infos.body;
    end = signer_infos.body + signer_infos.body_len;
    der si;
    if (der_next(&p, end, &si) < 0 || si.tag != 0x30)
        mix_die(path, "bad SignerInfo");
    if (p != end)
        mix_die(path, "more than one signer (the floor counts one verification)");
    p = si.body;
    end = si.body + si.body_len;
    der version, sid, dalg, f;
    if (der_next(&p, end, &version) < 0 || der_next(&p, end, &sid) < 0 || der_next(&p, end, &dalg) < 0)
        mix_die(path, "bad SignerInfo header");
    const unsigned char *a = dalg.body;
    if (der_next(&a, dalg.body + dalg.body_len, &sf->digest_oid) < 0 || sf->digest_oid.tag != 0x06)
        mix_die(path, "bad digestAlgorithm");
    if (der_next(&p, end, &f) < 0)
        mix_die(path, "truncated SignerInfo");
    if (f.tag != 0xa0)
        mix_die(path, "no signed attributes");
    sf->signed_attrs = f;
    der salg;
    if (der_next(&p, end, &salg) < 0 || salg.tag != 0x30)
        mix_die(path, "bad signatureAlgorithm");
    a = salg.body;
    if (der_next(&a, salg.body + salg.body_len, &sf->sig_alg_oid) < 0 || sf->sig_alg_oid.tag != 0x06)
        mix_die(path, "bad signatureAlgorithm OID");
    if (der_next(&p, end, &sf->signature) < 0 || sf->signature.tag != 0x04)
        mix_die(path, "bad signature");
}

/* The signed attributes as they are signed: the [0] IMPLICIT tag turned into the
 * SET tag (RFC 5652, 5.4).  A malloc'd copy. */
static inline unsigned char *attrs_as_signed(const signer_fields *sf)
{
    unsigned char *a = malloc(sf->signed_attrs.len);
    if (!a)
        exit(2);
    memcpy(a, sf->signed_attrs.p, sf->signed_attrs.len);
    a[0] = 0x31;
    return a;
}

/* The messageDigest attribute's value (an OCTET STRING inside the signed
 * attributes); NULL if absent. */
static inline const unsigned char *message_digest_of(const signer_fields *sf, size_t *len)
{
    static const unsigned char md_oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04 };
    const unsigned char *p = sf->signed_attrs.body, *end = p + sf->signed_attrs.body_len;
    der attr;
    while (p < end && der_next(&p, end, &attr) == 0) {
        const unsigned char *q = attr.body, *qend = attr.body + attr.body_len;
        der type, values, value;
        if (der_next(&q, qend, &type) < 0 || type.len != sizeof(md_oid) ||
            memcmp(type.p, md_oid, sizeof(md_oid)) != 0)
            continue;
        q = type.p + type.len;
        if (der_next(&q, qend, &values) < 0)
            return NULL;
        const unsigned char *v = values.body;
        if (der_next(&v, values.body + values.body_len, &value) < 0 || value.tag != 0x04)
            return NULL;
        *len = value.body_len;
        return value.body;
    }
    return NULL;
}

/* Prints NAME_msgs_per_s and NAME_us_per_msg from a count over CPU seconds. */
static inline void print_rate(const char *name, long count, double cpu_s)
{
    printf("%s_msgs_per_s %.1f\n", name, cpu_s > 0 ? (double)count / cpu_s : 0.0);
    printf("%s_us_per_msg %.2f\n", name, count > 0 ? cpu_s * 1e6 / (double)count : 0.0);
}

#endif
