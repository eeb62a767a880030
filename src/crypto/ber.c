/* ber - capped BER to DER re-encoder (see include/smime/crypto/ber.h).
 *
 * Input that is DER already (every element as DER writes it) is checked by one
 * walk that builds nothing and copied.  Anything else takes two passes over a
 * tree of the input's elements: the first reads every header,
 * checks it and sums the DER content length of each element bottom-up (a DER
 * header needs its content length before anything is written); the second
 * allocates the output once, at the size the first computed, and writes it.
 * test_ber's cases of one non-DER element below DER ones fail if the first walk
 * lets a kind of difference through.
 * Recursion follows the nesting, which is capped at SMIME_BER_MAX_DEPTH. */
#include "smime/crypto/ber.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NODE_PRIMITIVE, NODE_CONSTRUCTED, NODE_STRING };

/* 24 bytes: at the element cap the tree takes 24 MiB.  32-bit fields hold
 * because SMIME_BER_MAX_INPUT keeps even the output bound below 4 GiB. */
typedef struct ber_node {
    uint32_t der_len;   /* content length once re-encoded */
    uint32_t val_off;   /* primitive: content offset in the input */
    uint32_t val_len;   /* primitive: content length */
    uint32_t first;     /* index + 1 of the first child; 0 = none */
    uint32_t next;      /* index + 1 of the next sibling */
    uint8_t  tag;       /* identifier octet as written in DER */
    uint8_t  kind;      /* NODE_* */
    uint8_t  unused;    /* BIT STRING: unused bits of its last segment */
} ber_node;

typedef struct ber_ctx {
    const uint8_t *in;
    size_t         len;
    size_t         max_out;
    ber_node      *nodes;   /* owned */
    size_t         n, cap;
    char          *err;
    size_t         errlen;
} ber_ctx;

static int fail_at(ber_ctx *c, size_t off, const char *what)
{
    snprintf(c->err, c->errlen, "not BER: %s at offset %zu", what, off);
    return -1;
}

/* Universal types that BER lets a sender split into segments (X.690 8.6, 8.7,
 * 8.23, 8.25, 8.26); DER writes them primitive. */
static int is_string_type(unsigned number)
{
    return number == 3 || number == 4 || number == 7 || number == 12 ||
           (number >= 18 && number <= 28) || number == 30;
}

/* Universal types with a constructed encoding of their own (EXTERNAL, EMBEDDED
 * PDV, SEQUENCE, SET, CHARACTER STRING). */
static int is_constructed_type(unsigned number)
{
    return number == 8 || number == 11 || number == 16 || number == 17 || number == 29;
}

static size_t der_header_len(size_t content)
{
    size_t h = 2;
    for (size_t v = content; content >= 0x80 && v; v >>= 8)
        h++;
    return h;
}

static int new_node(ber_ctx *c, size_t off, uint32_t *idx)
{
    if (c->n >= SMIME_BER_MAX_ELEMENTS)
        return fail_at(c, off, "more elements than the cap of 1048576");
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        if (cap > SMIME_BER_MAX_ELEMENTS)
            cap = SMIME_BER_MAX_ELEMENTS;
        ber_node *grown = realloc(c->nodes, cap * sizeof(*grown));
        if (!grown) {
            snprintf(c->err, c->errlen, "out of memory");
            return -1;
        }
        c->nodes = grown;
        c->cap = cap;
    }
    memset(&c->nodes[c->n], 0, sizeof(c->nodes[0]));
    *idx = (uint32_t)c->n++;
    return 0;
}

/* An element's identifier and length octets, as both walks read them. */
typedef struct ber_head {
    unsigned tag;
    size_t   hdr, clen;           /* header and content length (0 when indefinite) */
    int      indefinite, constructed, universal;
    unsigned number;              /* the tag number (low tags only) */
} ber_head;

/* Reads and checks the header of the element at in[pos..end): NULL, or what is
 * wrong with it. */
static const char *read_head(const uint8_t *in, size_t pos, size_t end, ber_head *h)
{
    if (end - pos < 2)
        return "truncated element header";
    h->tag = in[pos];
    if (h->tag == 0x00)
        return "end-of-contents where an element was expected";
    if ((h->tag & 0x1f) == 0x1f)
        return "high tag number";
    unsigned lb = in[pos + 1];
    h->hdr = 2;
    h->clen = 0;
    h->indefinite = 0;
    if (lb == 0x80) {
        h->indefinite = 1;
    } else if (lb == 0xff) {
        return "reserved length octet 0xff";
    } else if (lb & 0x80) {
        size_t k = lb & 0x7f;
        if (end - pos - 2 < k)
            return "truncated length";
        for (size_t i = 0; i < k; i++) {
            if (h->clen > (SIZE_MAX >> 8))
                return "length too large";
            h->clen = (h->clen << 8) | in[pos + 2 + i];
        }
        h->hdr = 2 + k;
    } else {
        h->clen = lb;
    }
    if (!h->indefinite && h->clen > end - pos - h->hdr)
        return "length beyond the end of its container";
    h->constructed = (h->tag & 0x20) != 0;
    h->universal = (h->tag & 0xc0) == 0;
    h->number = h->tag & 0x1f;
    if (h->indefinite && !h->constructed)
        return "indefinite length on a primitive element";
    if (h->universal && !h->constructed && (h->number == 16 || h->number == 17))
        return "primitive SEQUENCE or SET";
    if (h->universal && h->constructed && !is_string_type(h->number) && !is_constructed_type(h->number))
        return "constructed encoding of a primitive-only type";
    return NULL;
}

/* 1 when the primitive element at pos (head h) is a BIT STRING that X.690 8.6.2
 * forbids: no unused-bits octet, more than 7 unused bits, or some with no bits. */
static int bit_string_malformed(const uint8_t *in, size_t pos, const ber_head *h)
{
    const uint8_t *v = in + pos + h->hdr;
    return h->universal && h->number == 3 && (h->clen == 0 || v[0] > 7 || (h->clen == 1 && v[0] != 0));
}

/* 1 when the element at in[pos..end) at nesting level depth, and all below it,
 * is already DER and passes every check of parse_element: then the re-encoding
 * is the input, and no tree is built (the common case: most senders write DER).
 * 0 for anything else, which parse_element then reads, to re-encode it or to say
 * what is wrong.  *elements counts against the same cap; *after as there. */
static int der_already(const uint8_t *in, size_t pos, size_t end, unsigned depth, size_t *elements,
                       size_t *after)
{
    ber_head h;
    if (++*elements > SMIME_BER_MAX_ELEMENTS || read_head(in, pos, end, &h) || h.indefinite ||
        h.hdr != der_header_len(h.clen))
        return 0;
    if (h.universal && h.constructed && is_string_type(h.number))
        return 0;          /* a segmented string: DER writes it primitive */
    size_t cend = pos + h.hdr + h.clen;
    if (!h.constructed) {
        if (bit_string_malformed(in, pos, &h))
            return 0;
        *after = cend;
        return 1;
    }
    if (depth > SMIME_BER_MAX_DEPTH)
        return 0;
    for (size_t p = pos + h.hdr; p != cend;)
        if (!der_already(in, p, cend, depth + 1, elements, &p))
            return 0;
    *after = cend;
    return 1;
}

/* Reads the element at in[pos..end) at nesting level `depth`: its node index in
 * *idx and the offset after it in *after. */
static int parse_element(ber_ctx *c, size_t pos, size_t end, unsigned depth, uint32_t *idx,
                         size_t *after)
{
    const uint8_t *in = c->in;
    ber_head h;
    const char *why = read_head(in, pos, end, &h);
    if (why)
        return fail_at(c, pos, why);
    unsigned tag = h.tag, number = h.number;
    size_t hdr = h.hdr, clen = h.clen;
    int indefinite = h.indefinite, constructed = h.constructed, universal = h.universal;
    int bits = universal && number == 3;

    uint32_t me;
    if (new_node(c, pos, &me) < 0)
        return -1;
    if (!constructed) {
        if (bit_string_malformed(in, pos, &h))
            return fail_at(c, pos, "malformed BIT STRING");
        ber_node *n = &c->nodes[me];
        n->kind = NODE_PRIMITIVE;
        n->tag = (uint8_t)tag;
        n->val_off = (uint32_t)(pos + hdr);
        n->val_len = (uint32_t)clen;
        n->der_len = (uint32_t)clen;
        n->unused = bits ? in[pos + hdr] : 0;
        *idx = me;
        *after = pos + hdr + clen;
        return 0;
    }
    if (depth > SMIME_BER_MAX_DEPTH)
        return fail_at(c, pos, "constructed elements nested deeper than 32 levels");
    int string = universal && is_string_type(number);      /* written primitive */
    c->nodes[me].kind = string ? NODE_STRING : NODE_CONSTRUCTED;
    c->nodes[me].tag = (uint8_t)(string ? tag & ~0x20u : tag);
    size_t total = bits ? 1 : 0;          /* a BIT STRING starts with its unused-bits octet */
    size_t cend = indefinite ? end : pos + hdr + clen;
    size_t p = pos + hdr;
    uint32_t last = 0;                    /* index + 1 of the last child so far */
    for (;;) {
        if (indefinite) {
            if (cend - p < 2)
                return fail_at(c, pos, "missing end-of-contents");
            if (in[p] == 0 && in[p + 1] == 0) {
                p += 2;
                break;
            }
        } else if (p == cend) {
            break;
        }
        uint32_t child;
        size_t child_pos = p;
        if (parse_element(c, p, cend, depth + 1, &child, &p) < 0)
            return -1;
        /* c->nodes may have moved: index from here on. */
        ber_node *ch = &c->nodes[child];
        if (string) {
            if ((ch->tag | 0x20u) != tag)
                return fail_at(c, child_pos, "segment of a constructed string has another type");
            if (bits && c->nodes[me].unused != 0)
                return fail_at(c, child_pos, "BIT STRING segment after one with unused bits");
            total += bits ? ch->der_len - 1 : ch->der_len;
            if (bits)
                c->nodes[me].unused = ch->unused;
        } else {
            total += der_header_len(ch->der_len) + ch->der_len;
        }
        if (total > c->max_out)
            return fail_at(c, pos, "re-encoded element longer than the output bound");
        if (last)
            c->nodes[last - 1].next = child + 1;
        else
            c->nodes[me].first = child + 1;
        last = child + 1;
    }
    if (bits && !c->nodes[me].first)
        return fail_at(c, pos, "constructed BIT STRING without segments");
    c->nodes[me].der_len = (uint32_t)total;    /* total <= max_out < 2^32 */
    *idx = me;
    *after = p;
    return 0;
}

static uint8_t *write_header(uint8_t *o, unsigned tag, size_t len)
{
    *o++ = (uint8_t)tag;
    if (len < 0x80) {
        *o++ = (uint8_t)len;
        return o;
    }
    size_t k = der_header_len(len) - 2;
    *o++ = (uint8_t)(0x80 | k);
    for (size_t i = k; i > 0; i--)
        *o++ = (uint8_t)(len >> (8 * (i - 1)));
    return o;
}

/* The content octets of a string's segments, in order; `skip` is 1 for BIT
 * STRING segments (their unused-bits octet is written once, by the caller). */
static uint8_t *write_segments(const ber_ctx *c, const ber_node *n, size_t skip, uint8_t *o)
{
    for (uint32_t i = n->first; i; i = c->nodes[i - 1].next) {
        const ber_node *ch = &c->nodes[i - 1];
        if (ch->kind == NODE_PRIMITIVE) {
            memcpy(o, c->in + ch->val_off + skip, ch->val_len - skip);
            o += ch->val_len - skip;
        } else {
            o = write_segments(c, ch, skip, o);
        }
    }
    return o;
}

static uint8_t *write_element(const ber_ctx *c, const ber_node *n, uint8_t *o)
{
    o = write_header(o, n->tag, n->der_len);
    switch (n->kind) {
    case NODE_PRIMITIVE:
        if (n->val_len)
            memcpy(o, c->in + n->val_off, n->val_len);
        return o + n->val_len;
    case NODE_STRING:
        if ((n->tag & 0x1f) == 3) {
            *o++ = n->unused;
            return write_segments(c, n, 1, o);
        }
        return write_segments(c, n, 0, o);
    default:
        for (uint32_t i = n->first; i; i = c->nodes[i - 1].next)
            o = write_element(c, &c->nodes[i - 1], o);
        return o;
    }
}

int smime_ber_to_der(smime_span in, uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    if (!in.p || in.len == 0) {
        snprintf(err, errlen, "not BER: empty input");
        return -1;
    }
    if (in.len > SMIME_BER_MAX_INPUT) {
        snprintf(err, errlen, "not BER: input larger than the cap of %zu bytes", SMIME_BER_MAX_INPUT);
        return -1;
    }
    size_t elements = 0, der_end = 0;
    if (der_already(in.p, 0, in.len, 1, &elements, &der_end) && der_end == in.len &&
        in.len <= SMIME_BER_MAX_OUTPUT(in.len)) {
        uint8_t *copy = malloc(in.len);
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(copy, in.p, in.len);
        *out = copy;
        *out_len = in.len;
        return 0;
    }
    ber_ctx c = { .in = in.p, .len = in.len, .max_out = SMIME_BER_MAX_OUTPUT(in.len),
                  .err = err, .errlen = errlen };
    uint32_t root;
    size_t after;
    int rc = parse_element(&c, 0, in.len, 1, &root, &after);
    if (rc == 0 && after != in.len) {
        snprintf(err, errlen, "not BER: %zu bytes after the element", in.len - after);
        rc = -1;
    }
    size_t total = 0;
    if (rc == 0) {
        total = der_header_len(c.nodes[root].der_len) + c.nodes[root].der_len;
        if (total > c.max_out) {
            snprintf(err, errlen, "not BER: re-encoding longer than the output bound");
            rc = -1;
        }
    }
    uint8_t *buf = NULL;
    if (rc == 0 && !(buf = malloc(total))) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        uint8_t *end = write_element(&c, &c.nodes[root], buf);
        if ((size_t)(end - buf) != total) {      /* the two passes disagree: a bug here */
            snprintf(err, errlen, "internal error: DER re-encoding size mismatch");
            free(buf);
            buf = NULL;
            rc = -1;
        }
    }
    free(c.nodes);
    if (rc == 0) {
        *out = buf;
        *out_len = total;
    }
    return rc;
}
