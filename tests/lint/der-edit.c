/* der-edit - edits the DER tree of a certificate, for test cases the openssl CLI
 * cannot express (used by tests/lint/make-test-certs.sh; standalone C11, no
 * project dependencies).
 *
 *   der-edit IN.pem OP... > OUT.pem
 *
 * IN is a PEM file; its first certificate is edited, the rest of the file (the
 * chain) is copied after it unchanged.  Lengths are recomputed, so the signature
 * no longer verifies: use the result only for lints that do not look at it.
 *
 * Operations, applied in order; PATH is a dotted list of child indices from the
 * certificate SEQUENCE (0.5 = tbsCertificate.subject, 0.7.0.0 = first extension
 * when the certificate has no unique IDs):
 *   set PATH EXPR    replace the element at PATH
 *   ins PATH EXPR    insert before the element at PATH (index may be one past the end)
 *   dup PATH         duplicate the element after itself
 *   del PATH         remove the element
 * EXPR builds DER: hex bytes are copied, TT( EXPR ) is an element with tag TT and
 * the content EXPR (length computed), 'text' is the bytes of text, and *N repeats
 * the preceding hex byte N more times.  Example: 30(06(550403)0c('Alice')). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 8192
#define MAX_OUT   (1 << 20)

typedef struct node {
    unsigned       tag;
    int            constructed;
    unsigned char *val;    /* primitive content (points into an arena) */
    size_t         len;
    int            child[512];
    int            nchild;
} node;

static node nodes[MAX_NODES];
static int nnodes;
static unsigned char arena[MAX_OUT];
static size_t arena_used;

static void die(const char *m)
{
    fprintf(stderr, "der-edit: %s\n", m);
    exit(2);
}

static unsigned char *keep(const unsigned char *p, size_t n)
{
    if (arena_used + n > sizeof arena)
        die("arena full");
    memcpy(arena + arena_used, p, n);
    arena_used += n;
    return arena + arena_used - n;
}

static int new_node(void)
{
    if (nnodes == MAX_NODES)
        die("too many nodes");
    memset(&nodes[nnodes], 0, sizeof(node));
    return nnodes++;
}

/* Parses one TLV at p (n bytes) into a node; returns its index, sets *used. */
static int parse(const unsigned char *p, size_t n, size_t *used)
{
    if (n < 2)
        die("truncated");
    size_t len = p[1], hdr = 2;
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 4 || n < 2 + k)
            die("bad length");
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = (len << 8) | p[2 + i];
        hdr += k;
    }
    if (len > n - hdr)
        die("length overrun");
    int id = new_node();
    nodes[id].tag = p[0];
    nodes[id].constructed = (p[0] & 0x20) != 0;
    if (nodes[id].constructed) {
        size_t off = 0;
        while (off < len) {
            size_t u;
            int c = parse(p + hdr + off, len - off, &u);
            if (nodes[id].nchild == 512)
                die("too many children");
            nodes[id].child[nodes[id].nchild++] = c;
            off += u;
        }
    } else {
        nodes[id].val = keep(p + hdr, len);
        nodes[id].len = len;
    }
    *used = hdr + len;
    return id;
}

static size_t emit(int id, unsigned char *out);

static size_t content_len(int id)
{
    if (!nodes[id].constructed)
        return nodes[id].len;
    size_t t = 0;
    for (int i = 0; i < nodes[id].nchild; i++)
        t += emit(nodes[id].child[i], NULL);
    return t;
}

/* Writes the element (when out is not NULL) and returns its encoded size. */
static size_t emit(int id, unsigned char *out)
{
    size_t len = content_len(id), hdr = 2;
    unsigned char h[6];
    h[0] = (unsigned char)nodes[id].tag;
    if (len < 0x80) {
        h[1] = (unsigned char)len;
    } else {
        int k = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
        h[1] = (unsigned char)(0x80 | k);
        for (int i = 0; i < k; i++)
            h[2 + i] = (unsigned char)(len >> (8 * (k - 1 - i)));
        hdr += (size_t)k;
    }
    if (out == NULL)
        return hdr + len;
    memcpy(out, h, hdr);
    size_t off = hdr;
    if (nodes[id].constructed) {
        for (int i = 0; i < nodes[id].nchild; i++)
            off += emit(nodes[id].child[i], out + off);
    } else {
        memcpy(out + off, nodes[id].val, len);
        off += len;
    }
    return off;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Builds bytes from EXPR into out; returns the length. */
static size_t build(const char **sp, unsigned char *out, size_t cap)
{
    const char *s = *sp;
    size_t n = 0;
    while (*s && *s != ')') {
        if (*s == ' ') { s++; continue; }
        if (*s == '\'') {
            const char *e = strchr(s + 1, '\'');
            if (e == NULL) die("unterminated text");
            if (n + (size_t)(e - s - 1) > cap) die("expression too long");
            memcpy(out + n, s + 1, (size_t)(e - s - 1));
            n += (size_t)(e - s - 1);
            s = e + 1;
            continue;
        }
        if (*s == '*') {
            long r = strtol(s + 1, (char **)&s, 10);
            if (n == 0 || r < 0 || n + (size_t)r > cap) die("bad repeat");
            memset(out + n, out[n - 1], (size_t)r);
            n += (size_t)r;
            continue;
        }
        int a = hexv(s[0]), b = s[1] ? hexv(s[1]) : -1;
        if (a < 0 || b < 0) die("bad hex in expression");
        unsigned tag = (unsigned)(a * 16 + b);
        s += 2;
        if (*s == '(') {
            s++;
            static unsigned char tmp[8][MAX_OUT / 8];
            static int depth;
            if (depth == 8) die("expression too deep");
            size_t cl = build(&s, tmp[depth++], sizeof tmp[0]);
            depth--;
            if (*s != ')') die("missing )");
            s++;
            size_t hdr = cl < 0x80 ? 2 : cl <= 0xff ? 3 : cl <= 0xffff ? 4 : 5;
            if (n + hdr + cl > cap) die("expression too long");
            out[n] = (unsigned char)tag;
            if (cl < 0x80) out[n + 1] = (unsigned char)cl;
            else {
                int k = (int)hdr - 2;
                out[n + 1] = (unsigned char)(0x80 | k);
                for (int i = 0; i < k; i++) out[n + 2 + i] = (unsigned char)(cl >> (8 * (k - 1 - i)));
            }
            memcpy(out + n + hdr, tmp[depth], cl);
            n += hdr + cl;
        } else {
            if (n + 1 > cap) die("expression too long");
            out[n++] = (unsigned char)tag;
        }
    }
    *sp = s;
    return n;
}

static int parse_expr(const char *e)
{
    static unsigned char buf[MAX_OUT / 4];
    const char *s = e;
    size_t n = build(&s, buf, sizeof buf);
    if (*s) die("unbalanced )");
    size_t used;
    int id = parse(buf, n, &used);
    if (used != n) die("expression is not exactly one element");
    return id;
}

/* Resolves PATH to (parent, index). */
static void resolve(int root, const char *path, int *parent, int *index)
{
    int cur = root, par = -1, idx = -1;
    const char *s = path;
    while (*s) {
        char *end;
        long i = strtol(s, &end, 10);
        if (end == s || i < 0) die("bad path");
        par = cur;
        idx = (int)i;
        if (*end == '.') {
            if (idx >= nodes[cur].nchild) die("path beyond the tree");
            cur = nodes[cur].child[idx];
            s = end + 1;
        } else {
            s = end;
        }
    }
    if (par < 0) die("empty path");
    *parent = par;
    *index = idx;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void pem_out(const unsigned char *d, size_t n)
{
    printf("-----BEGIN CERTIFICATE-----\n");
    int col = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        char q[4] = { b64[v >> 18], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '=' };
        fwrite(q, 1, 4, stdout);
        if ((col += 4) == 64) { putchar('\n'); col = 0; }
    }
    if (col) putchar('\n');
    printf("-----END CERTIFICATE-----\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) die("usage: der-edit IN.pem OP...");
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) die("cannot open input");
    static char text[MAX_OUT];
    size_t tl = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[tl] = '\0';
    char *b = strstr(text, "-----BEGIN CERTIFICATE-----"), *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    if (e == NULL) die("no PEM certificate");
    static unsigned char der[MAX_OUT];
    size_t dn = 0;
    unsigned acc = 0;
    int bits = 0;
    for (char *p = b + 27; p < e; p++) {
        const char *q = strchr(b64, *p);
        if (*p == '=' || q == NULL || *p == '\0') continue;
        acc = (acc << 6) | (unsigned)(q - b64);
        if ((bits += 6) >= 8) { bits -= 8; der[dn++] = (unsigned char)(acc >> bits); }
    }
    size_t used;
    int root = parse(der, dn, &used);
    for (int i = 2; i < argc; i++) {
        const char *op = argv[i];
        if (i + 1 >= argc) die("operation without a path");
        int par, idx;
        resolve(root, argv[i + 1], &par, &idx);
        node *p = &nodes[par];
        if (strcmp(op, "set") == 0 || strcmp(op, "ins") == 0) {
            if (i + 2 >= argc) die("set/ins without an expression");
            int c = parse_expr(argv[i + 2]);
            if (strcmp(op, "set") == 0) {
                if (idx >= p->nchild) die("set beyond the children");
                p->child[idx] = c;
            } else {
                if (idx > p->nchild || p->nchild == 512) die("bad insert");
                memmove(&p->child[idx + 1], &p->child[idx], sizeof(int) * (size_t)(p->nchild - idx));
                p->child[idx] = c;
                p->nchild++;
            }
            i += 2;
        } else if (strcmp(op, "dup") == 0 || strcmp(op, "del") == 0) {
            if (idx >= p->nchild) die("dup/del beyond the children");
            if (op[1] == 'u') {
                if (p->nchild == 512) die("too many children");
                memmove(&p->child[idx + 1], &p->child[idx], sizeof(int) * (size_t)(p->nchild - idx));
                p->nchild++;
            } else {
                memmove(&p->child[idx], &p->child[idx + 1], sizeof(int) * (size_t)(p->nchild - idx - 1));
                p->nchild--;
            }
            i += 1;
        } else {
            die("unknown operation");
        }
    }
    static unsigned char out[MAX_OUT];
    if (emit(root, NULL) > sizeof out) die("output too large");
    size_t on = emit(root, out);
    pem_out(out, on);
    fputs(e + 25, stdout);   /* the rest of the file: the chain */
    return 0;
}
