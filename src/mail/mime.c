/* mime - walk the MIME tree, find S/MIME objects, slice the exact signed bytes
 * (see include/smime/mail/mime.h). */
#define _GNU_SOURCE /* memmem */
#include "smime/mail/mime.h"

#include <gmime/gmime.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "smime/util/base64.h"
#include "smime/util/linescan.h"

struct smime_mime_walk {
    const smime_mime_limits *lim;
    smime_mime_visit_fn      visit;
    void                    *ctx;
    unsigned                 parts_seen;
    unsigned                 parts_built;   /* entities GMime may have built: the sum of
                                             * smime_mime_count_parts() over every parse */
    size_t                   decoded_left;  /* of lim->max_decoded */
    unsigned                 items_seen;
    int                      limit_reported;
    int                      stop;          /* first non-zero visitor value */
    smime_mime_authors      *authors;       /* top-level From mailboxes, or NULL */
    int                      bare_lf;       /* the buffer being walked may have bare LF
                                             * line ends: its slices are hashed as if
                                             * each were CRLF (signed_lf_as_crlf) */
    GHashTable              *quick_kids;    /* of the tree being walked when it is a
                                             * quick tree: what the build found in the
                                             * bytes (owned), a multipart object -> its
                                             * children's spans, a base64 leaf -> the
                                             * span of its content; or NULL */
    size_t                   parsed_bytes;  /* bytes handed to GMime's parser */
    unsigned                 whole_trees;   /* parses GMime made whole (quick tree not
                                             * built: odd input, or asked for) */
    int                      whole_tree;    /* never build a quick tree */
    const smime_mime_prescan *prescan;      /* the count of the top-level buffer, made
                                             * before the walk (borrowed), until the
                                             * parse of that buffer takes it; or NULL */
};

/* A byte range [start, end) of the buffer being walked. */
typedef struct span {
    const char *base;
    size_t      start, end;
} span;

size_t smime_mime_crlf_length(const char *in, size_t len)
{
    if (len == 0)
        return 0;          /* in may be NULL then (an empty decoded part) */
    size_t need = len;
    const char *end = in + len;
    /* This runs over every byte of every message: 16 at a time (linescan.h). */
    for (const char *lf = in; (lf = smime_scan_bare_lf(in, lf, end)) != NULL; lf++)
        need++;
    return need;
}

char *smime_mime_to_crlf_sized(const char *in, size_t len, size_t crlf_len)
{
    char *out = g_try_malloc(crlf_len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = in, *end = len ? in + len : in;
    /* The runs between bare LFs are copied whole; o never passes crlf_len, as
     * long as crlf_len is what smime_mime_crlf_length said. */
    for (const char *lf; p < end && (lf = smime_scan_bare_lf(in, p, end)) != NULL; p = lf + 1) {
        if (o + (size_t)(lf - p) + 2 > crlf_len) {
            g_free(out);
            return NULL;
        }
        memcpy(out + o, p, (size_t)(lf - p));
        o += (size_t)(lf - p);
        out[o++] = '\r';
        out[o++] = '\n';
    }
    if (o + (size_t)(end - p) != crlf_len) {
        g_free(out);
        return NULL;
    }
    if (end > p)
        memcpy(out + o, p, (size_t)(end - p));
    out[crlf_len] = '\0';
    return out;
}

char *smime_mime_to_crlf(const char *in, size_t len, size_t max_len, size_t *out_len)
{
    size_t need = smime_mime_crlf_length(in, len);
    if (need > max_len)
        return NULL;
    char *out = smime_mime_to_crlf_sized(in, len, need);
    if (out)
        *out_len = need;
    return out;
}

/* ---- counting entities before GMime builds them ---- */

#define BOUNDARY_MAX     70      /* RFC 2046 5.1.1 */
#define BOUNDARY_SLOTS_MIN 64    /* hash slots for declared boundaries (powers of 2): */
#define BOUNDARY_SLOTS_MAX 1024  /* doubled when half are filled; past the last half the
                                  * count is over any limit */

/* A message declares a boundary or two, so the set starts small and grows.  Sized
 * for the worst case at once (72 KiB), every message's prescan took and gave back
 * a block as large as a thread's heap keeps: glibc then trimmed that heap after
 * nearly every message, and each trim (madvise, with a TLB shootdown across the
 * daemon's cores) and the page faults after it cost some 20 % of the milter's
 * CPU on small messages.  A slot is empty when its length is 0. */
typedef struct boundary_set {
    unsigned       n;
    unsigned       n_slots;
    unsigned char *len;                   /* [n_slots]; owned, with text */
    char         (*text)[BOUNDARY_MAX];   /* [n_slots], in the same block */
} boundary_set;

/* Gives set empty slots of n_slots (which it must hold every member in);
 * -1 when out of memory, set unchanged. */
static int boundary_slots_alloc(boundary_set *set, unsigned n_slots)
{
    unsigned char *block = g_try_malloc((size_t)n_slots * (1 + BOUNDARY_MAX));
    if (!block)
        return -1;
    memset(block, 0, n_slots);
    set->len = block;
    set->text = (char (*)[BOUNDARY_MAX])(block + n_slots);
    set->n_slots = n_slots;
    return 0;
}

static boundary_set *boundary_set_new(void)
{
    boundary_set *set = g_try_new0(boundary_set, 1);
    if (set && boundary_slots_alloc(set, BOUNDARY_SLOTS_MIN) < 0) {
        g_free(set);
        return NULL;
    }
    return set;
}

static void boundary_set_free(boundary_set *set)
{
    if (set)
        g_free(set->len);
    g_free(set);
}

static unsigned prefix_hash(const char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* Every boundary is keyed by its first four bytes (fewer when shorter), so a line
 * is matched against the few candidates that share its first bytes.  The slot of
 * v[0..n) (1 <= n <= BOUNDARY_MAX): the one that holds it, or the empty one where
 * it would go; -1 when neither (never while the set is at most half full). */
static int boundary_slot(const boundary_set *b, const char *v, size_t n)
{
    size_t key = n < 4 ? n : 4;
    unsigned mask = b->n_slots - 1;
    unsigned i = prefix_hash(v, key) & mask;
    for (unsigned probe = 0; probe < b->n_slots; probe++, i = (i + 1) & mask)
        if (b->len[i] == 0 || (b->len[i] == n && memcmp(b->text[i], v, n) == 0))
            return (int)i;
    return -1;
}

/* Doubles b's slots, every member rehashed; -1 at the largest size or out of
 * memory, b unchanged. */
static int boundary_set_grow(boundary_set *b)
{
    if (b->n_slots >= BOUNDARY_SLOTS_MAX)
        return -1;
    boundary_set grown = { .n = b->n };
    if (boundary_slots_alloc(&grown, b->n_slots * 2) < 0)
        return -1;
    for (unsigned i = 0; i < b->n_slots; i++)
        if (b->len[i]) {
            int j = boundary_slot(&grown, b->text[i], b->len[i]);
            grown.len[j] = b->len[i];
            memcpy(grown.text[j], b->text[i], b->len[i]);
        }
    g_free(b->len);
    *b = grown;
    return 0;
}

/* Returns -1 when the set is full. */
static int boundary_add(boundary_set *b, const char *v, size_t n)
{
    if (n == 0)
        return 0;
    if (n > BOUNDARY_MAX)
        n = BOUNDARY_MAX;
    int i = boundary_slot(b, v, n);
    if (i < 0)
        return -1;
    if (b->len[i])
        return 0;                     /* declared already */
    if (b->n + 1 >= b->n_slots / 2) {
        if (boundary_set_grow(b) < 0)
            return -1;
        i = boundary_slot(b, v, n);
    }
    b->len[i] = (unsigned char)n;
    memcpy(b->text[i], v, n);
    b->n++;
    return 0;
}

/* 1 when the text after a line's "--" starts with a declared boundary. */
static int boundary_starts(const boundary_set *b, const char *p, size_t n)
{
    for (size_t key = 1; key <= 4 && key <= n; key++) {
        unsigned mask = b->n_slots - 1;
        unsigned i = prefix_hash(p, key) & mask;
        for (; b->len[i]; i = (i + 1) & mask) {
            size_t bl = b->len[i];
            if ((bl < 4 ? bl : 4) == key && bl <= n && memcmp(b->text[i], p, bl) == 0)
                return 1;
        }
    }
    return 0;
}

/* The value after "boundary" [ "*" digits [ "*" ] ] [ WSP ] "=" at p: a quoted
 * string, or a token; an RFC 2231 extended value loses its charset'language'
 * prefix and its %XX escapes.  Written to out (at most BOUNDARY_MAX bytes). */
static size_t boundary_value(const char *p, const char *end, char *out)
{
    int extended = 0;
    if (p < end && *p == '*') {           /* "*=" extended; "*N=" a piece; "*N*=" both */
        p++;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == digits) {
            extended = 1;
        } else if (p < end && *p == '*') {
            extended = 1;
            p++;
        }
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '=')
        return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    size_t n = 0;
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"' && *p != '\r' && *p != '\n' && n < BOUNDARY_MAX; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            out[n++] = *p;
        }
        return n;
    }
    const char *start = p;
    while (p < end && !strchr(" \t\r\n;\"", *p))
        p++;
    if (extended) {
        const char *q1 = memchr(start, '\'', (size_t)(p - start));
        const char *q2 = q1 ? memchr(q1 + 1, '\'', (size_t)(p - q1 - 1)) : NULL;
        if (q2)
            start = q2 + 1;
    }
    for (const char *q = start; q < p && n < BOUNDARY_MAX; q++) {
        if (extended && *q == '%' && q + 2 < p && g_ascii_isxdigit(q[1]) && g_ascii_isxdigit(q[2])) {
            out[n++] = (char)(g_ascii_xdigit_value(q[1]) * 16 + g_ascii_xdigit_value(q[2]));
            q += 2;
        } else {
            out[n++] = *q;
        }
    }
    return n;
}

/* Delimiter candidates seen before the boundary that they start was declared,
 * kept for a second look at the end of the pass; past this many, the lines are
 * found again by a second pass (text full of "--" lines). */
#define EARLY_LINES_MAX 64

/* Declares the boundary of a "boundary" [ "*" digits [ "*" ] ] [ WSP ] "=" whose
 * "=" is at eq; -1 when the set is full. */
static int boundary_declare(boundary_set *b, const char *buf, const char *eq, const char *end)
{
    /* back from "=" over white space and an RFC 2231 "*N*" to the name */
    const char *q = eq;
    while (q > buf && (q[-1] == ' ' || q[-1] == '\t'))
        q--;
    if (q > buf && q[-1] == '*')
        q--;
    while (q > buf && q[-1] >= '0' && q[-1] <= '9')
        q--;
    if (q > buf && q[-1] == '*')
        q--;
    if (q - buf < 8 || g_ascii_strncasecmp(q - 8, "boundary", 8) != 0)
        return 0;
    char v[BOUNDARY_MAX];
    size_t n = boundary_value(q, end, v);
    return n ? boundary_add(b, v, n) : 0;
}

/* Where the line at line ends: its LF, or end. */
static const char *line_end(const char *line, const char *end)
{
    const char *lf = memchr(line, '\n', (size_t)(end - line));
    return lf ? lf : end;
}

typedef struct early_line {
    const char *text;    /* after the line's "--" */
    size_t      n;
} early_line;

/* What the count found, kept for the walk of the same buffer: the declared
 * boundaries and the offsets, in order, of the lines it counted (each a "--" and
 * then one of them), so that splitting a multipart whose boundary is among them
 * need not scan its body again. */
typedef struct delimiter_index {
    boundary_set *set;        /* owned; NULL: no index */
    size_t       *lines;      /* owned */
    size_t        n, cap;
} delimiter_index;

static void delimiter_index_clear(delimiter_index *ix)
{
    boundary_set_free(ix->set);
    g_free(ix->lines);
    memset(ix, 0, sizeof(*ix));
}

/* Records the counted line at offset off; on no memory the index is dropped
 * (the count goes on: the walk then scans). */
static void delimiter_index_add(delimiter_index *ix, size_t off)
{
    if (!ix || !ix->lines)
        return;
    if (ix->n == ix->cap) {
        size_t *grown = g_try_renew(size_t, ix->lines, ix->cap * 2);
        if (!grown) {
            g_free(ix->lines);
            ix->lines = NULL;
            return;
        }
        ix->lines = grown;
        ix->cap *= 2;
    }
    ix->lines[ix->n++] = off;
}

static int offset_order(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* 1 when boundary (GMime's reading of the header) is one the count declared
 * exactly: then every line that starts with "--" and it was counted. */
static int delimiter_index_covers(const delimiter_index *ix, const char *boundary)
{
    if (!ix || !ix->set || !ix->lines)
        return 0;
    size_t n = strlen(boundary);
    if (n == 0 || n > BOUNDARY_MAX)
        return 0;
    int i = boundary_slot(ix->set, boundary, n);
    return i >= 0 && ix->set->len[i] != 0;
}

/* smime_mime_count_parts; with keep, a count below stop_at also leaves its index
 * there (to be cleared by the caller); with bare, the bare LFs of the buffer are
 * added to it on the way, and *counted_all says whether the pass got to its end
 * (it stops early at stop_at). */
static unsigned count_pass(const char *buf, size_t len, unsigned stop_at, delimiter_index *keep,
                           size_t *bare, int *counted_all)
{
    *counted_all = len == 0;
    if (len == 0)
        return 0;
    boundary_set *b = boundary_set_new();
    if (!b)
        return stop_at;             /* cannot count: treat as over the limit */
    delimiter_index ix = { 0 };
    if (keep) {
        ix.cap = 16;
        ix.lines = g_try_new(size_t, ix.cap);
    }
    delimiter_index *rec = keep ? &ix : NULL;
    const char *end = buf + len;
    /* Every "boundary" followed by "=" declares a candidate, wherever it stands
     * (counting more candidates than GMime honours only raises the bound), and
     * every line that starts with "--" and then a declared boundary counts.  One
     * pass finds both: a line that starts a boundary declared only after it is
     * looked at again at the end, so the count is that of all lines against all
     * declarations. */
    early_line early[EARLY_LINES_MAX];
    size_t n_early = 0;
    int early_overflow = 0;
    unsigned count = 0;
    for (const char *p = buf;;) {
        if (p >= end) {
            *counted_all = 1;
            break;
        }
        if (count >= stop_at)
            break;
        const char *hit = bare ? smime_scan_dash_line_or_counting(buf, p, end, '=', bare)
                               : smime_scan_dash_line_or(buf, p, end, '=');
        if (!hit) {
            *counted_all = 1;
            break;
        }
        if (*hit == '=') {
            if (boundary_declare(b, buf, hit, end) < 0) {
                boundary_set_free(b);
                g_free(ix.lines);
                return stop_at;      /* hundreds of boundaries: beyond any limit */
            }
            p = hit + 1;
            continue;
        }
        size_t n = (size_t)(line_end(hit, end) - hit);
        if (n > 2 && boundary_starts(b, hit + 2, n - 2)) {
            count++;
            delimiter_index_add(rec, (size_t)(hit - buf));
        } else if (n > 2 && n_early < EARLY_LINES_MAX)
            early[n_early++] = (early_line){ hit + 2, n - 2 };
        else if (n > 2)
            early_overflow = 1;
        /* the rest of the line may declare a boundary too */
        p = hit + 2;
    }
    if (count < stop_at && early_overflow && b->n) {
        count = 0;
        ix.n = 0;
        for (const char *line = buf; count < stop_at && line < end &&
                                     (line = smime_scan_dash_line(buf, line, end)) != NULL;) {
            const char *le = line_end(line, end);
            size_t n = (size_t)(le - line);
            if (n > 2 && boundary_starts(b, line + 2, n - 2)) {
                count++;
                delimiter_index_add(rec, (size_t)(line - buf));
            }
            line = le < end ? le + 1 : end;
        }
    } else {
        int added = 0;
        for (size_t i = 0; i < n_early && count < stop_at; i++)
            if (boundary_starts(b, early[i].text, early[i].n)) {
                count++;
                delimiter_index_add(rec, (size_t)(early[i].text - 2 - buf));
                added = 1;
            }
        if (added && ix.lines)
            qsort(ix.lines, ix.n, sizeof(ix.lines[0]), offset_order);
    }
    if (keep && count < stop_at && ix.lines) {
        ix.set = b;
        *keep = ix;
        return count;
    }
    g_free(ix.lines);
    boundary_set_free(b);
    return count;
}

/* count_pass, and with bare_lfs the buffer's bare LFs into it: from the same pass
 * when it went to the end, else (a count over the limit: rare) by a pass of
 * their own. */
static unsigned count_delimiters(const char *buf, size_t len, unsigned stop_at, delimiter_index *keep,
                                 size_t *bare_lfs)
{
    size_t bare = 0;
    int counted_all = 0;
    unsigned n = count_pass(buf, len, stop_at, keep, bare_lfs ? &bare : NULL, &counted_all);
    if (bare_lfs)
        *bare_lfs = counted_all ? bare : smime_mime_crlf_length(buf, len) - len;
    return n;
}

unsigned smime_mime_count_parts(const char *buf, size_t len, unsigned stop_at)
{
    return count_delimiters(buf, len, stop_at, NULL, NULL);
}

struct smime_mime_prescan {
    const char     *msg;          /* what was counted (borrowed) */
    size_t          len;
    unsigned        stop_at;      /* the bound the count stopped at: max_parts + 1 */
    unsigned        parts;
    size_t          bare_lfs;
    delimiter_index delimiters;   /* owned */
};

smime_mime_prescan *smime_mime_prescan_new(const char *msg, size_t len, const smime_mime_limits *lim)
{
    smime_mime_prescan *pre = g_try_new0(smime_mime_prescan, 1);
    if (!pre)
        return NULL;
    pre->msg = msg;
    pre->len = len;
    pre->stop_at = lim->max_parts + 1;    /* as parse_and_walk bounds the top level */
    pre->parts = count_delimiters(msg, len, pre->stop_at, &pre->delimiters, &pre->bare_lfs);
    return pre;
}

size_t smime_mime_prescan_bare_lfs(const smime_mime_prescan *pre)
{
    return pre->bare_lfs;
}

void smime_mime_prescan_free(smime_mime_prescan *pre)
{
    if (!pre)
        return;
    delimiter_index_clear(&pre->delimiters);
    g_free(pre);
}

/* Part ids deeper than the buffer (only past the depth cap's worth of digits) are
 * cut and marked with a trailing "+" rather than silently truncated. */
static void part_join(char *out, const char *parent, unsigned index)
{
    char tmp[SMIME_PART_ID_MAX + 16];
    int n = parent[0] ? snprintf(tmp, sizeof(tmp), "%.*s.%u", SMIME_PART_ID_MAX, parent, index)
                      : snprintf(tmp, sizeof(tmp), "%u", index);
    if (n < 0 || (size_t)n >= SMIME_PART_ID_MAX) {
        memcpy(out, tmp, SMIME_PART_ID_MAX - 2);
        out[SMIME_PART_ID_MAX - 2] = '+';
        out[SMIME_PART_ID_MAX - 1] = '\0';
        return;
    }
    memcpy(out, tmp, (size_t)n + 1);
}

/* Offset of the first body byte of the entity in s: just after the blank line that
 * ends the headers, or s->end when there is none.  The bytes may have bare LF line
 * ends (the walk reads the message as it arrived): a line break is CRLF or a bare
 * LF, so the blank line is an LF followed by LF or CR LF, or a break at the very
 * start: the same place as "\r\n\r\n" in the CRLF form. */
static size_t entity_body_start(const span *s)
{
    const char *p = s->base + s->start;
    size_t n = s->end - s->start;
    if (n >= 1 && p[0] == '\n')
        return s->start + 1;
    if (n >= 2 && p[0] == '\r' && p[1] == '\n')
        return s->start + 2;
    for (const char *lf = p, *end = p + n; (lf = memchr(lf, '\n', (size_t)(end - lf))) != NULL; lf++) {
        if (lf + 1 < end && lf[1] == '\n')
            return (size_t)(lf + 2 - s->base);
        if (lf + 2 < end && lf[1] == '\r' && lf[2] == '\n')
            return (size_t)(lf + 3 - s->base);
    }
    return s->end;
}

/* Splits the body [start, end) of a multipart at its delimiter lines (RFC 2046
 * 5.1.1: "--boundary", optional "--", optional white space, CRLF).  Each child runs
 * from after its delimiter line to before the CRLF that precedes the next one.
 * Returns the number of children found (up to max stored in kids). */
static size_t multipart_split(const span *body, const char *boundary, span *kids, size_t max)
{
    size_t blen = strlen(boundary);
    size_t count = 0;
    size_t child_start = 0;
    int open = 0;
    size_t pos = body->start;
    const char *b = body->base;
    while (pos < body->end) {
        /* Only lines that start with "--" can be delimiters: jump to the next. */
        const char *dash = smime_scan_dash_line(b + body->start, b + pos, b + body->end);
        if (!dash)
            break;
        pos = (size_t)(dash - b);
        /* The text is in CRLF form: a line ends at the first LF (after its CR). */
        const char *lf = memchr(b + pos, '\n', body->end - pos);
        size_t line_end = !lf ? body->end
                          : (size_t)(lf - b) > pos && lf[-1] == '\r' ? (size_t)(lf - b) - 1
                                                                     : (size_t)(lf - b);
        size_t next = lf ? (size_t)(lf - b) + 1 : body->end;
        size_t n = line_end - pos;
        if (n >= blen + 2 && b[pos] == '-' && b[pos + 1] == '-' &&
            memcmp(b + pos + 2, boundary, blen) == 0) {
            size_t q = pos + 2 + blen;
            int closing = 0;
            if (q + 1 < line_end + 1 && q + 2 <= line_end && b[q] == '-' && b[q + 1] == '-') {
                closing = 1;
                q += 2;
            }
            while (q < line_end && (b[q] == ' ' || b[q] == '\t'))
                q++;
            if (q == line_end) {
                if (open) {
                    /* the line break before the delimiter belongs to it: CRLF,
                     * or a bare LF in a message that has them */
                    size_t child_end = pos >= child_start + 2 && b[pos - 2] == '\r' ? pos - 2
                                       : pos >= child_start + 1                  ? pos - 1
                                                                                 : child_start;
                    if (count < max)
                        kids[count] = (span){ b, child_start, child_end };
                    count++;
                }
                if (closing)
                    return count;
                open = 1;
                child_start = next;
            }
        }
        pos = next;
    }
    if (open) {
        /* No closing delimiter: GMime ends the last child at the end of the data. */
        if (count < max)
            kids[count] = (span){ b, child_start, body->end };
        count++;
    }
    return count;
}

static int mime_type_is(GMimeContentType *ct, const char *type, const char *subtype)
{
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static int is_pkcs7_signature_type(GMimeContentType *ct)
{
    return mime_type_is(ct, "application", "pkcs7-signature") ||
           mime_type_is(ct, "application", "x-pkcs7-signature");
}

static int is_pkcs7_mime_type(GMimeContentType *ct)
{
    return mime_type_is(ct, "application", "pkcs7-mime") ||
           mime_type_is(ct, "application", "x-pkcs7-mime");
}

static int protocol_is_pkcs7(const char *protocol)
{
    return protocol && (!g_ascii_strcasecmp(protocol, "application/pkcs7-signature") ||
                        !g_ascii_strcasecmp(protocol, "application/x-pkcs7-signature"));
}

/* Takes n bytes from the walk's decoding budget before they are made.  Returns 0,
 * or -1 (nothing taken) when the budget would be exceeded. */
static int decode_charge(smime_mime_walk *w, size_t n)
{
    if (n > w->decoded_left)
        return -1;
    w->decoded_left -= n;
    return 0;
}

#define PARTS_LIMIT_NOTE "more MIME parts than the limit; the rest were not checked"
#define DECODE_LIMIT_NOTE "decoded content beyond the limit for this message; not checked"

static GMimeStream *stream_over(const char *buf, size_t len, GByteArray **arr_out)
{
    /* The stream must not copy or free our buffer: wrap it in a GByteArray that
     * does not own it, and take the array back apart before it is freed. */
    GByteArray *arr = g_byte_array_new_take((guint8 *)buf, len);
    GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(arr);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    *arr_out = arr;
    return stream;
}

static void stream_release(GMimeStream *stream, GByteArray *arr)
{
    g_object_unref(stream);
    /* Hand the borrowed bytes back without freeing them. */
    (void)g_byte_array_steal(arr, NULL);
    g_byte_array_unref(arr);
}

/* The bytes of a memory stream (as GMime's parser leaves a part's content when
 * it reads from memory: a bounded view of the message buffer), len of them.
 * Returns 1 with *p and *n, or 0 for any other stream. */
static int stream_bytes(GMimeStream *s, gint64 len, const char **p, size_t *n)
{
    if (!GMIME_IS_STREAM_MEM(s))
        return 0;
    GByteArray *buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    gint64 end = s->bound_end < 0 ? (gint64)(buf ? buf->len : 0) : s->bound_end;
    if (!buf || s->bound_start < 0 || end < s->bound_start || end > (gint64)buf->len ||
        end - s->bound_start != len)
        return 0;
    *p = (const char *)buf->data + s->bound_start;
    *n = (size_t)len;
    return 1;
}

/* Decoded content of a leaf part (transfer encoding undone).  Returns a GByteArray
 * the caller unrefs; NULL if the part has no content, or (with *over set) when its
 * encoded size is more than the decoding budget left: no encoding GMime undoes
 * makes more bytes than it reads, so the charge holds before the work. */
static GByteArray *part_decoded(smime_mime_walk *w, GMimePart *part, int *over)
{
    *over = 0;
    /* a quick tree's base64 leaf: its content lies in the buffer, GMime has none */
    const span *in_place = w->quick_kids ? g_hash_table_lookup(w->quick_kids, part) : NULL;
    GMimeDataWrapper *content = in_place ? NULL : g_mime_part_get_content(part);
    if (!in_place && !content)
        return NULL;
    GMimeStream *raw = content ? g_mime_data_wrapper_get_stream(content) : NULL;
    gint64 raw_len = in_place ? (gint64)(in_place->end - in_place->start)
                     : raw    ? g_mime_stream_length(raw)
                              : -1;
    if (raw_len < 0 || decode_charge(w, (size_t)raw_len) < 0) {
        *over = 1;
        return NULL;
    }
    /* Sized for the largest possible result up front: a growing array would
     * double its way there and hold up to twice the decoded bytes at its peak. */
    GByteArray *arr = g_byte_array_sized_new((guint)raw_len + 2);
    const char *text = NULL;
    size_t text_len = 0, n;
    if (in_place) {
        text = in_place->base + in_place->start;
        text_len = (size_t)raw_len;
    }
    /* Base64 as encoders write it is decoded here, straight from the message's
     * bytes: GMime's filter streams cost more than the decoding.  The whole-tree
     * walk keeps GMime's decoder, which the tests hold this one to. */
    if (!w->whole_tree &&
        (in_place || (g_mime_data_wrapper_get_encoding(content) == GMIME_CONTENT_ENCODING_BASE64 &&
                      stream_bytes(raw, raw_len, &text, &text_len)))) {
        g_byte_array_set_size(arr, (guint)raw_len + 2);
        if (smime_base64_decode(text, text_len, 0, arr->data, &n) == 0) {
            g_byte_array_set_size(arr, (guint)n);
            return arr;
        }
        g_byte_array_set_size(arr, 0);  /* not as encoders write it: GMime's lenience decides */
    }
    GByteArray *borrowed = NULL;
    GMimeStream *in_place_stream = NULL;
    if (in_place) {
        in_place_stream = stream_over(text, text_len, &borrowed);
        content = g_mime_data_wrapper_new_with_stream(in_place_stream, GMIME_CONTENT_ENCODING_BASE64);
    }
    GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(arr);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
    g_mime_data_wrapper_write_to_stream(content, mem);
    g_object_unref(mem);
    if (in_place) {
        g_object_unref(content);
        stream_release(in_place_stream, borrowed);
    }
    return arr;
}

/* CMS objects are DER; some senders armour them once more (base64 with no
 * transfer-encoding header, or PEM).  Undo that so the CMS layer sees DER. */
static void cms_unarmour(GByteArray *arr)
{
    if (arr->len == 0 || arr->data[0] == 0x30)
        return;
    GString *text = g_string_new_len((const char *)arr->data, arr->len);
    char *begin = strstr(text->str, "-----BEGIN");
    if (begin) {
        char *nl = strchr(begin, '\n');
        char *endm = nl ? strstr(nl, "-----END") : NULL;
        if (nl && endm) {
            g_string_truncate(text, (gsize)(endm - text->str));
            g_string_erase(text, 0, (gssize)(nl + 1 - text->str));
        }
    }
    gsize out_len = 0;
    guchar *der = g_base64_decode(text->str, &out_len);
    if (der && out_len > 0 && der[0] == 0x30) {
        g_byte_array_set_size(arr, 0);
        g_byte_array_append(arr, der, (guint)out_len);
    }
    g_free(der);
    g_string_free(text, TRUE);
}

/* Content type OID of a CMS ContentInfo, sniffed from its first bytes: the DER of
 * the OID value, so callers compare bytes. */
static const unsigned char OID_SIGNED_DATA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const unsigned char OID_ENVELOPED[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03 };
static const unsigned char OID_AUTH_ENVELOPED[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                                    0x09, 0x10, 0x01, 0x17 };
static const unsigned char OID_COMPRESSED[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                                                0x09, 0x10, 0x01, 0x09 };

/* The identifier and length octets at p (one-octet tags: all a ContentInfo has
 * before its content):  the header size into *hdr and the content length into
 * *len, SIZE_MAX for the indefinite form.  Long-form lengths may have leading
 * zero octets (BER, X.690 8.1.3.5): NSS and Outlook write them, and the sniff
 * must read every encoding the CMS parser below accepts. */
static int ber_header(const unsigned char *p, size_t n, size_t *hdr, size_t *len)
{
    if (n < 2 || (p[0] & 0x1f) == 0x1f)
        return -1;
    if (!(p[1] & 0x80)) {
        *hdr = 2;
        *len = p[1];
        return 0;
    }
    size_t k = p[1] & 0x7f;
    if (k == 0) {                /* indefinite: only a constructed element may be */
        if (!(p[0] & 0x20))
            return -1;
        *hdr = 2;
        *len = SIZE_MAX;
        return 0;
    }
    if (k > n - 2)
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < k; i++) {
        if (v > (SIZE_MAX >> 8))
            return -1;
        v = v << 8 | p[2 + i];
    }
    *hdr = 2 + k;
    *len = v;
    return 0;
}

static smime_mime_kind cms_kind(const unsigned char *der, size_t n)
{
    size_t h, len, oh, olen;     /* len, the outer length, is the CMS parser's to check */
    if (n < 2 || der[0] != 0x30 || ber_header(der, n, &h, &len) < 0 || h >= n ||
        der[h] != 0x06 || ber_header(der + h, n - h, &oh, &olen) < 0 || olen > n - h - oh)
        return SMIME_MIME_MALFORMED;
    const unsigned char *oid = der + h + oh;
#define OID_IS(c) (olen == sizeof(c) && memcmp(oid, c, sizeof(c)) == 0)
    if (OID_IS(OID_SIGNED_DATA))
        return SMIME_MIME_OPAQUE;
    if (OID_IS(OID_ENVELOPED) || OID_IS(OID_AUTH_ENVELOPED))
        return SMIME_MIME_ENVELOPED;
    if (OID_IS(OID_COMPRESSED))
        return SMIME_MIME_COMPRESSED;
#undef OID_IS
    return SMIME_MIME_MALFORMED;
}

static int emit(smime_mime_walk *w, smime_mime_item *item)
{
    if (w->stop)
        return w->stop;
    if (w->items_seen >= w->lim->max_items) {
        if (!w->limit_reported) {
            w->limit_reported = 1;
            smime_mime_item cap = *item;
            cap.kind = SMIME_MIME_LIMIT;
            cap.der = NULL;
            cap.der_len = 0;
            cap.signed_bytes = NULL;
            cap.signed_len = 0;
            cap.note = "more S/MIME objects than the limit; the rest were not checked";
            w->stop = w->visit(w, &cap, w->ctx);
        }
        return w->stop;
    }
    w->items_seen++;
    w->stop = w->visit(w, item, w->ctx);
    return w->stop;
}

static int emit_note(smime_mime_walk *w, smime_mime_kind kind, const char *part, unsigned depth,
                     const smime_mime_addrs *addrs, const char *note)
{
    smime_mime_item item = { .kind = kind, .depth = depth, .note = note, .addrs = addrs };
    snprintf(item.part, sizeof(item.part), "%s", part);
    return emit(w, &item);
}

/* One LIMIT item per walk: the first cap reached is the one reported. */
static int limit_note(smime_mime_walk *w, const char *part, unsigned depth,
                      const smime_mime_addrs *addrs, const char *note)
{
    /* Before a message is parsed there are no addresses yet: an empty set. */
    static const smime_mime_addrs no_addrs;
    if (w->limit_reported)
        return 0;
    w->limit_reported = 1;
    return emit_note(w, SMIME_MIME_LIMIT, part[0] ? part : "1", depth, addrs ? addrs : &no_addrs,
                     note);
}

/* The From addresses of list, after those already in out. */
static void addrs_add_from(InternetAddressList *from, smime_mime_addrs *out)
{
    int n = from ? internet_address_list_length(from) : 0;
    for (int i = 0; i < n && out->n_from < SMIME_MAX_ADDRS; i++) {
        InternetAddress *ia = internet_address_list_get_address(from, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (a && *a)
                snprintf(out->from[out->n_from++], SMIME_ADDR_MAX, "%s", a);
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressList *members =
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            int m = members ? internet_address_list_length(members) : 0;
            for (int j = 0; j < m && out->n_from < SMIME_MAX_ADDRS; j++) {
                InternetAddress *mi = internet_address_list_get_address(members, j);
                if (!INTERNET_ADDRESS_IS_MAILBOX(mi))
                    continue;
                const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(mi));
                if (a && *a)
                    snprintf(out->from[out->n_from++], SMIME_ADDR_MAX, "%s", a);
            }
        }
    }
}

/* The Sender addresses of list, after those already counted in out: the first
 * of them all, when it is a mailbox, is the Sender. */
static void addrs_add_sender(InternetAddressList *sender, smime_mime_addrs *out)
{
    int ns = sender ? internet_address_list_length(sender) : 0;
    for (int i = 0; i < ns; i++) {
        InternetAddress *ia = internet_address_list_get_address(sender, i);
        int first = out->sender_mailboxes == 0;
        out->sender_mailboxes += INTERNET_ADDRESS_IS_MAILBOX(ia) ? 1 : 2;
        if (first && INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (a)
                snprintf(out->sender, SMIME_ADDR_MAX, "%s", a);
        }
    }
}

static void authors_add_list(InternetAddressList *list, smime_mime_authors *out)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            /* groups do not nest (RFC 5322 3.4) */
            InternetAddressList *members =
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            int m = members ? internet_address_list_length(members) : 0;
            for (int j = 0; j < m; j++) {
                InternetAddress *mi = internet_address_list_get_address(members, j);
                if (!INTERNET_ADDRESS_IS_MAILBOX(mi))
                    continue;
                const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(mi));
                if (a && *a && out->total++ < SMIME_MAX_ADDRS)
                    snprintf(out->addr[out->n++], SMIME_ADDR_MAX, "%s", a);
            }
        } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (a && *a && out->total++ < SMIME_MAX_ADDRS)
                snprintf(out->addr[out->n++], SMIME_ADDR_MAX, "%s", a);
        }
    }
}

/* The addresses and client of a message whose header fields are head's, into
 * *out, and its authors (every From field, each parsed on its own) into *authors
 * (NULL: not wanted).  msg is the message GMime made of the fields, or NULL when
 * the header block was parsed as a part (the quick tree's messages): then the
 * From and Sender fields are parsed here, each on its own and the lists joined in
 * order, as GMime joins them into a message's; the tests hold the two ways to
 * the same addresses.  The number of fields looked at is bounded by what the
 * parts cap let GMime build. */
static void addrs_collect(GMimeObject *head, GMimeMessage *msg, smime_mime_addrs *out,
                          smime_mime_authors *authors)
{
    memset(out, 0, sizeof(*out));
    GMimeHeaderList *headers = g_mime_object_get_header_list(head);
    int nh = headers ? g_mime_header_list_get_count(headers) : 0;
    for (int i = 0; i < nh; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(headers, i);
        const char *name = g_mime_header_get_name(h);
        int from = name && !g_ascii_strcasecmp(name, "From");
        int sender = !from && name && !g_ascii_strcasecmp(name, "Sender");
        /* a second From is what a spoofer adds: count them */
        out->from_headers += (unsigned)from;
        out->sender_headers += (unsigned)sender;
        if (authors && from)
            authors->from_headers++;
        /* parsed here: a From for the authors, and without GMime's message the
         * From and Sender fields it would have parsed */
        if (!((from && authors) || (!msg && (from || sender))))
            continue;
        const char *raw = g_mime_header_get_raw_value(h);
        InternetAddressList *list = raw ? internet_address_list_parse(NULL, raw) : NULL;
        if (!list)
            continue;
        if (from && authors)
            authors_add_list(list, authors);
        if (from && !msg)
            addrs_add_from(list, out);
        if (sender && !msg)
            addrs_add_sender(list, out);
        g_object_unref(list);
    }
    if (msg) {
        addrs_add_from(g_mime_message_get_from(msg), out);
        addrs_add_sender(g_mime_message_get_sender(msg), out);
    }
    const char *client = g_mime_object_get_header(head, "User-Agent");
    if (!client)
        client = g_mime_object_get_header(head, "X-Mailer");
    if (client)
        snprintf(out->client, sizeof(out->client), "%s", client);
}

void smime_mime_authors_add(smime_mime_authors *authors, const char *from_value)
{
    authors->from_headers++;
    InternetAddressList *list = internet_address_list_parse(NULL, from_value);
    if (list) {
        authors_add_list(list, authors);
        g_object_unref(list);
    }
}

void smime_mime_scan_authors(const char *msg, size_t len, smime_mime_authors *authors)
{
    memset(authors, 0, sizeof(*authors));
    size_t end = len < SMIME_AUTHORS_SCAN_MAX ? len : SMIME_AUTHORS_SCAN_MAX;
    char *value = g_malloc(SMIME_AUTHORS_VALUE_MAX + 1);
    size_t i = 0;
    while (i < end) {
        const char *line = msg + i;
        const char *nl = memchr(line, '\n', end - i);
        size_t n = nl ? (size_t)(nl - line) : end - i;
        size_t next = i + n + (nl ? 1 : 0);
        if (n == 0 || (n == 1 && line[0] == '\r'))
            break;                   /* the end of the header section */
        if (n >= 5 && g_ascii_strncasecmp(line, "From:", 5) == 0) {
            /* the value with its continuation lines, folds kept */
            size_t vl = 0;
            const char *p = line + 5;
            size_t pn = n - 5;
            for (;;) {
                size_t take = pn < SMIME_AUTHORS_VALUE_MAX - vl ? pn : SMIME_AUTHORS_VALUE_MAX - vl;
                memcpy(value + vl, p, take);
                vl += take;
                if (next >= end || (msg[next] != ' ' && msg[next] != '\t'))
                    break;
                p = msg + next;
                nl = memchr(p, '\n', end - next);
                pn = nl ? (size_t)(nl - p) : end - next;
                next += pn + (nl ? 1 : 0);
                if (vl < SMIME_AUTHORS_VALUE_MAX)
                    value[vl++] = ' ';
            }
            value[vl] = '\0';
            for (size_t k = 0; k < vl; k++)
                if (value[k] == '\r' || value[k] == '\0')
                    value[k] = ' ';
            smime_mime_authors_add(authors, value);
        }
        i = next;
    }
    g_free(value);
}

/* Field names compared with strings of the same length, case-insensitively. */
static int field_is(const char *p, size_t n, const char *name)
{
    return n == strlen(name) && g_ascii_strncasecmp(p, name, n) == 0;
}

/* Scans the raw header block [start, end) of a message (CRLF form) for a From or
 * Sender field whose value holds a control character that is not folding white
 * space: HTAB anywhere and CRLF followed by SP or HTAB are allowed, every other
 * byte below 0x20 (NUL and a CR not followed by LF included) and DEL are not.
 * GMime reads such a value up to the NUL or interprets it its own way, and a
 * reader may show what follows: the author is ambiguous.  Linear in the block. */
static void author_controls(const char *b, size_t start, size_t end, smime_mime_addrs *out)
{
    const char *field = NULL;       /* the author field being scanned, or NULL */
    size_t pos = start;
    while (pos < end && !out->control_header) {
        /* A line ends at CRLF, or at a bare LF (the walk reads the message as it
         * arrived); a CR before anything else is a control byte. */
        const char *lf = memchr(b + pos, '\n', end - pos);
        size_t next = lf ? (size_t)(lf - b) + 1 : end;
        size_t eol = !lf ? end : (size_t)(lf - b) > pos && lf[-1] == '\r' ? (size_t)(lf - b) - 1
                                                                          : (size_t)(lf - b);
        size_t value = pos;
        if (b[pos] != ' ' && b[pos] != '\t') {      /* a new field, not a fold */
            const char *colon = memchr(b + pos, ':', eol - pos);
            field = NULL;
            if (colon) {
                size_t nlen = (size_t)(colon - (b + pos));
                while (nlen > 0 && (b[pos + nlen - 1] == ' ' || b[pos + nlen - 1] == '\t'))
                    nlen--;         /* RFC 5322 obs-optional: "From :" */
                if (field_is(b + pos, nlen, "From"))
                    field = "From";
                else if (field_is(b + pos, nlen, "Sender"))
                    field = "Sender";
                value = (size_t)(colon - b) + 1;
            }
        }
        for (size_t i = value; field && i < eol; i++) {
            unsigned char c = (unsigned char)b[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                out->control_header = field;
                out->control_byte = c;
                break;
            }
        }
        pos = next;
    }
}

static int walk_object(smime_mime_walk *w, GMimeObject *obj, span ent, const char *id,
                       int message_root, unsigned depth, const smime_mime_addrs *addrs);
static int walk_message(smime_mime_walk *w, GMimeMessage *msg, span ent, const char *prefix,
                        unsigned depth);
static int parse_and_walk(smime_mime_walk *w, const char *buf, size_t len, int bare_lf,
                          int as_message, const char *id, unsigned depth,
                          const smime_mime_addrs *addrs);

static int walk_multipart(smime_mime_walk *w, GMimeMultipart *mp, span ent, const char *id,
                          unsigned depth, const smime_mime_addrs *addrs)
{
    int count = g_mime_multipart_get_count(mp);
    const char *boundary = g_mime_multipart_get_boundary(mp);
    int is_signed = GMIME_IS_MULTIPART_SIGNED(mp);
    span body = { ent.base, entity_body_start(&ent), ent.end };
    /* More children than the walk may visit at all: report the limit rather than
     * split a body we will not walk. */
    if (count > 0 && (unsigned)count > w->lim->max_parts)
        return limit_note(w, id, depth, addrs, PARTS_LIMIT_NOTE);
    /* A quick tree was built from our split: its children are those spans. */
    span *cached = w->quick_kids ? g_hash_table_lookup(w->quick_kids, mp) : NULL;
    span *kids = cached;
    size_t found = cached ? (size_t)count : 0;
    if (!cached && boundary && count > 0) {
        kids = g_new0(span, (size_t)count);
        found = multipart_split(&body, boundary, kids, (size_t)count);
    }
    int rc = 0;
    char signed_id[SMIME_PART_ID_MAX];
    part_join(signed_id, id, 1);
    if (!kids || found != (size_t)count) {
        /* Our delimiter scan and GMime disagree on the structure: never guess which
         * bytes were signed.  Unsigned multiparts are still walked for structure. */
        if (is_signed)
            rc = emit_note(w, SMIME_MIME_MALFORMED, signed_id, depth, addrs,
                           "multipart/signed whose parts could not be delimited exactly");
        if (kids != cached)
            g_free(kids);
        return rc;
    }
    if (is_signed) {
        GMimeObject *sig_obj = count == 2 ? g_mime_multipart_get_part(mp, 1) : NULL;
        GMimeContentType *sig_ct = sig_obj ? g_mime_object_get_content_type(sig_obj) : NULL;
        const char *protocol =
            g_mime_object_get_content_type_parameter(GMIME_OBJECT(mp), "protocol");
        int smime_sig = sig_obj && GMIME_IS_PART(sig_obj) &&
                        (is_pkcs7_signature_type(sig_ct) ||
                         (protocol_is_pkcs7(protocol) &&
                          mime_type_is(sig_ct, "application", "octet-stream")));
        if (count != 2 && protocol_is_pkcs7(protocol)) {
            rc = emit_note(w, SMIME_MIME_MALFORMED, signed_id, depth, addrs,
                           "multipart/signed must have exactly two parts");
        } else if (smime_sig) {
            int over;
            GByteArray *der = part_decoded(w, GMIME_PART(sig_obj), &over);
            if (over) {
                if (kids != cached)
                    g_free(kids);
                return limit_note(w, signed_id, depth, addrs, DECODE_LIMIT_NOTE);
            }
            if (der)
                cms_unarmour(der);
            smime_mime_item item = {
                .kind = SMIME_MIME_DETACHED,
                .depth = depth,
                .signed_bytes = kids[0].base + kids[0].start,
                .signed_len = kids[0].end - kids[0].start,
                .signed_lf_as_crlf = w->bare_lf,
                .der = der ? der->data : NULL,
                .der_len = der ? der->len : 0,
                .addrs = addrs,
            };
            snprintf(item.part, sizeof(item.part), "%s", signed_id);
            rc = emit(w, &item);
            if (der)
                g_byte_array_unref(der);
        }
    }
    for (int i = 0; i < count && rc == 0; i++) {
        if (is_signed && i == 1)
            break;              /* the signature itself holds no MIME */
        char kid_id[SMIME_PART_ID_MAX];
        part_join(kid_id, id, (unsigned)i + 1);
        rc = walk_object(w, g_mime_multipart_get_part(mp, i), kids[i], kid_id, 0, depth + 1,
                         addrs);
    }
    if (kids != cached)
        g_free(kids);
    return rc;
}

/* Turns the bare LF line ends of arr into CRLF where it stands (crlf_len from
 * smime_mime_crlf_length): grown once, then filled from the end, where every byte
 * read still holds its old value. */
static void crlf_in_place(GByteArray *arr, size_t crlf_len)
{
    size_t i = arr->len, o = crlf_len;
    if (o == i)
        return;
    g_byte_array_set_size(arr, (guint)crlf_len);
    unsigned char *d = arr->data;
    while (i > 0) {
        unsigned char c = d[--i];
        d[--o] = c;
        if (c == '\n' && (i == 0 || d[i - 1] != '\r'))
            d[--o] = '\r';
    }
}

/* message/rfc822 must not carry a transfer encoding (RFC 2046 5.2.1), but mail in
 * the wild does, and GMime then leaves it a leaf part: decode it and walk the
 * decoded message, in canonical CRLF form. */
static int walk_encoded_message(smime_mime_walk *w, GMimePart *part, const char *id,
                                unsigned depth, const smime_mime_addrs *addrs)
{
    int over;
    GByteArray *dec = part_decoded(w, part, &over);
    if (over)
        return limit_note(w, id, depth, addrs, DECODE_LIMIT_NOTE);
    if (!dec)
        return 0;
    /* Converted in place, so the decoded bytes are never held twice: only the
     * growth is new. */
    size_t n = smime_mime_crlf_length((const char *)dec->data, dec->len);
    if (decode_charge(w, n - dec->len) < 0) {
        g_byte_array_unref(dec);
        return limit_note(w, id, depth, addrs, DECODE_LIMIT_NOTE);
    }
    crlf_in_place(dec, n);
    char *crlf = (char *)dec->data;
    int rc = parse_and_walk(w, crlf, n, 0, 1, id, depth + 1, NULL);
    g_byte_array_unref(dec);
    return rc;
}

static int walk_leaf(smime_mime_walk *w, GMimePart *part, const char *id, unsigned depth,
                     const smime_mime_addrs *addrs)
{
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    if (mime_type_is(ct, "message", "rfc822"))
        return walk_encoded_message(w, part, id, depth, addrs);
    if (!is_pkcs7_mime_type(ct))
        return 0;
    int over;
    GByteArray *der = part_decoded(w, part, &over);
    if (over)
        return limit_note(w, id, depth, addrs, DECODE_LIMIT_NOTE);
    if (!der)
        return emit_note(w, SMIME_MIME_MALFORMED, id, depth, addrs, "empty pkcs7-mime part");
    cms_unarmour(der);
    smime_mime_item item = {
        .kind = cms_kind(der->data, der->len),
        .depth = depth,
        .der = der->data,
        .der_len = der->len,
        .addrs = addrs,
    };
    if (item.kind == SMIME_MIME_MALFORMED) {
        const char *st = g_mime_content_type_get_parameter(ct, "smime-type");
        if (st && !g_ascii_strcasecmp(st, "certs-only")) {
            g_byte_array_unref(der);
            return 0;
        }
        item.note = "pkcs7-mime part is not a CMS signed, enveloped or compressed object";
    }
    snprintf(item.part, sizeof(item.part), "%s", id);
    int rc = emit(w, &item);
    g_byte_array_unref(der);
    return rc;
}

static int walk_object(smime_mime_walk *w, GMimeObject *obj, span ent, const char *id,
                       int message_root, unsigned depth, const smime_mime_addrs *addrs)
{
    if (w->stop)
        return w->stop;
    char own_id[SMIME_PART_ID_MAX];
    if (message_root && !GMIME_IS_MULTIPART(obj))
        part_join(own_id, id, 1);
    else
        snprintf(own_id, sizeof(own_id), "%s", id);
    if (++w->parts_seen > w->lim->max_parts || depth > w->lim->max_depth)
        return limit_note(w, own_id, depth, addrs,
                          depth > w->lim->max_depth
                              ? "MIME nesting deeper than the limit; deeper parts not checked"
                              : PARTS_LIMIT_NOTE);
    if (GMIME_IS_MULTIPART(obj))
        return walk_multipart(w, GMIME_MULTIPART(obj), ent, own_id, depth, addrs);
    if (GMIME_IS_MESSAGE_PART(obj)) {
        span body = { ent.base, entity_body_start(&ent), ent.end };
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        return inner ? walk_message(w, inner, body, own_id, depth + 1) : 0;
    }
    if (GMIME_IS_PART(obj))
        return walk_leaf(w, GMIME_PART(obj), own_id, depth, addrs);
    return 0;
}

/* A message whose header fields are head's and whose MIME entity is root (msg:
 * the message GMime made, or NULL; see addrs_collect). */
static int walk_message_fields(smime_mime_walk *w, GMimeObject *head, GMimeMessage *msg,
                               GMimeObject *root, span ent, const char *prefix, unsigned depth)
{
    smime_mime_addrs *addrs = g_new(smime_mime_addrs, 1);
    smime_mime_authors *authors = depth == 0 && prefix[0] == '\0' ? w->authors : NULL;
    addrs_collect(head, msg, addrs, authors);
    author_controls(ent.base, ent.start, entity_body_start(&ent), addrs);
    if (authors) {
        authors->control = addrs->control_header && !strcmp(addrs->control_header, "From");
        w->authors = NULL;           /* only the message itself */
    }
    int rc = 0;
    if (root)
        rc = walk_object(w, root, ent, prefix, 1, depth, addrs);
    g_free(addrs);
    return rc;
}

static int walk_message(smime_mime_walk *w, GMimeMessage *msg, span ent, const char *prefix,
                        unsigned depth)
{
    return walk_message_fields(w, GMIME_OBJECT(msg), msg, g_mime_message_get_mime_part(msg), ent,
                               prefix, depth);
}

/* ---- the quick tree: GMime reads the header blocks, our split the structure ----
 *
 * GMime's parser builds every entity whole: it scans each body for boundaries and
 * keeps every leaf, which for a large attachment is one more pass over the message.
 * The walk needs less: the type and parameters of every entity, the addresses of
 * every message, and the content of the few leaves it decodes.  So the tree is
 * built here from our delimiter scan, each entity's header block alone given to
 * GMime, and only those leaves parsed whole.  It must be the tree GMime would have
 * built, as far as the walk looks: wherever GMime might see the bytes otherwise
 * (a header line it would read differently, no closing delimiter, a delimiter line
 * only GMime takes for one, boundaries one of which starts the other, a digest,
 * ...), the build gives up and GMime parses the whole buffer as before. */

#define QUICK_NEST_MAX 64        /* enclosing boundaries kept; deeper: GMime parses */

typedef struct quick_build {
    smime_mime_walk *w;
    const char      *base;
    size_t           len;        /* of the buffer being walked, at base */
    GMimeStream     *whole;      /* over that buffer, made when a leaf is parsed whole */
    GByteArray      *whole_arr;  /* (most messages have none); both handed to and
                                  * released by parse_and_walk, after the walk */
    GMimeParser     *headers;    /* reused for every header block, */
    GMimeStream     *header_stream;  /* with this stream */
    GByteArray      *header_bytes;   /* over these bytes (not the stream's) */
    GObject         *passed_over;    /* stands for every leaf the walk passes over */
    const char      *bounds[QUICK_NEST_MAX];   /* boundaries of the enclosing multiparts */
    unsigned         n_bounds;
    const delimiter_index *delimiters;          /* of the buffer, from its count (borrowed) */
} quick_build;

enum { QUICK_OK = 0, QUICK_ODD = 1 };

/* 1 when GMime ends the header block [start, body) where we do, at its blank line,
 * and reads every field in it as one: each line before the blank line a field
 * name (printable ASCII but ':', no white space) and ':', or a fold (SP or HTAB
 * first) after one.  GMime reads a name with other bytes as no field, and may then
 * take the line for the start of the body. */
static int quick_header_block(const char *b, size_t start, size_t body)
{
    if (body <= start)
        return 0;
    size_t pos = start;
    int first = 1;
    while (pos < body) {
        const char *lf = memchr(b + pos, '\n', body - pos);
        if (!lf)
            return 0;
        size_t eol = (size_t)(lf - b);
        size_t len = eol > pos && b[eol - 1] == '\r' ? eol - 1 - pos : eol - pos;
        if (len == 0)
            return eol + 1 == body;      /* the blank line: the last of the block */
        if (b[pos] == ' ' || b[pos] == '\t') {
            if (first)
                return 0;
        } else {
            size_t i = pos;
            while (i < pos + len && b[i] != ':') {
                unsigned char c = (unsigned char)b[i];
                if (c <= 0x20 || c >= 0x7f)
                    return 0;
                i++;
            }
            if (i == pos || i == pos + len)
                return 0;
        }
        first = 0;
        pos = eol + 1;
    }
    return 0;
}

/* The header block of ent: 0 with *body its first body byte, or QUICK_ODD. */
static int quick_body_start(const quick_build *qb, span ent, size_t *body)
{
    size_t bs = entity_body_start(&ent);
    if (bs > ent.end || !quick_header_block(qb->base, ent.start, bs))
        return QUICK_ODD;
    *body = bs;
    return QUICK_OK;
}

/* The fields of a header block that the walk reads through GMime: the type and
 * the transfer encoding, and of a message (message) its authors and client
 * (addrs_collect).  GMime types an entity by its Content-Type fields alone and
 * decodes it by its Content-Transfer-Encoding alone: a disposition, a
 * description or MIME-Version changes neither, and each costs objects. */
static int quick_field_read(const char *name, size_t n, int message)
{
    return field_is(name, n, "Content-Type") || field_is(name, n, "Content-Transfer-Encoding") ||
           (message && (field_is(name, n, "From") || field_is(name, n, "Sender") ||
                        field_is(name, n, "User-Agent") || field_is(name, n, "X-Mailer")));
}

/* One line of a header block that quick_header_block accepts, the one at *pos
 * (< body): moves *pos to the next.  Returns 1 with *colon at the colon of a
 * field's first line, or NULL for the blank line; 0 for a fold. */
static int header_line(const char *b, size_t *pos, size_t body, const char **colon)
{
    size_t at = *pos;
    const char *lf = memchr(b + at, '\n', body - at);
    *pos = lf ? (size_t)(lf - b) + 1 : body;
    if (b[at] == ' ' || b[at] == '\t')
        return 0;
    *colon = memchr(b + at, ':', *pos - at);
    return 1;
}

/* The header block [start, body) (one quick_header_block accepts: each line a
 * field or its fold, the blank line last) into out, with only the fields the walk
 * reads, each with its folds, in their order, and the blank line: GMime makes an
 * object of every field it is given (some 2 us each), and Received, DKIM and the
 * like are most of a message's header block.  Returns the bytes kept. */
static size_t quick_header_bytes(const char *b, size_t start, size_t body, int message,
                                 GByteArray *out)
{
    g_byte_array_set_size(out, 0);
    int keep = 0;
    for (size_t pos = start, line; (line = pos) < body;) {
        const char *colon;
        if (header_line(b, &pos, body, &colon))
            /* the blank line (no colon) ends the block and is kept */
            keep = !colon || quick_field_read(b + line, (size_t)(colon - (b + line)), message);
        if (keep)
            g_byte_array_append(out, (const guint8 *)b + line, (guint)(pos - line));
    }
    return out->len;
}




/* The fields called name in the header block [start, body) (one
 * quick_header_block accepts): returns how many there are, with the first line
 * of the last one's value, less the white space around it, in [*value, *end),
 * and whether a fold continues it (*folded). */
static unsigned quick_field(const char *b, size_t start, size_t body, const char *name,
                            const char **value, const char **end, int *folded)
{
    unsigned fields = 0;
    int in_field = 0;
    *value = *end = NULL;
    *folded = 0;
    for (size_t pos = start, line; (line = pos) < body;) {
        const char *colon;
        if (!header_line(b, &pos, body, &colon)) {
            *folded |= in_field;
            continue;
        }
        in_field = colon && field_is(b + line, (size_t)(colon - (b + line)), name);
        if (in_field) {
            fields++;
            *value = colon + 1;
            *end = b + pos;
            *folded = 0;
        }
    }
    while (*value < *end && (**value == ' ' || **value == '\t'))
        (*value)++;
    while (*end > *value && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r' ||
                             (*end)[-1] == '\n'))
        (*end)--;
    return fields;
}

/* 1 when GMime would make of the header block [start, body) (one
 * quick_header_block accepts) a leaf that the walk passes over: its one
 * Content-Type field names a text, image, audio or video type, or it has none
 * (text/plain, in every parent the quick build takes: not in a digest).  GMime
 * types an entity by that field alone, and the walk reads nothing of such a leaf
 * but its type: walk_leaf acts on message/rfc822 and pkcs7-mime only.  Anything
 * else (a type on a folded line or after a comment too) is left to GMime. */
static int quick_passed_over(const char *b, size_t start, size_t body)
{
    static const char *const types[] = { "text/", "image/", "audio/", "video/" };
    const char *value, *value_end;
    int folded;
    unsigned fields = quick_field(b, start, body, "Content-Type", &value, &value_end, &folded);
    if (fields != 1)
        return fields == 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t n = strlen(types[i]);
        if ((size_t)(value_end - value) >= n && g_ascii_strncasecmp(value, types[i], n) == 0)
            return 1;
    }
    return 0;
}

/* The subtype ("pkcs7-signature" or "x-pkcs7-signature") when GMime would make
 * of the header block [start, body) (one quick_header_block accepts) an
 * application/(x-)pkcs7-signature leaf in base64, or NULL: its one Content-Type
 * field names that type on its first line, then ends or goes on with a
 * parameter or white space; its one Content-Transfer-Encoding field is "base64"
 * on one line, as GMime compares it (case aside, white space stripped).  Anything
 * else is left to GMime. */
static const char *quick_base64_signature(const char *b, size_t start, size_t body)
{
    static const char *const subtypes[] = { "pkcs7-signature", "x-pkcs7-signature" };
    const char *type, *type_end, *cte, *cte_end;
    int type_folded, cte_folded;
    if (quick_field(b, start, body, "Content-Type", &type, &type_end, &type_folded) != 1 ||
        quick_field(b, start, body, "Content-Transfer-Encoding", &cte, &cte_end, &cte_folded) != 1 ||
        cte_folded)
        return NULL;
    if (cte_end - cte != 6 || g_ascii_strncasecmp(cte, "base64", 6) != 0 ||
        (size_t)(type_end - type) < 12 || g_ascii_strncasecmp(type, "application/", 12) != 0)
        return NULL;
    type += 12;
    for (size_t i = 0; i < sizeof(subtypes) / sizeof(subtypes[0]); i++) {
        size_t k = strlen(subtypes[i]);
        if ((size_t)(type_end - type) >= k && g_ascii_strncasecmp(type, subtypes[i], k) == 0 &&
            (type + k == type_end || type[k] == ';' || type[k] == ' ' || type[k] == '\t'))
            return subtypes[i];
    }
    return NULL;
}

/* Records that the content of the leaf obj (ent, its header block ending at body)
 * lies in the buffer from there to the end of its slice, as it runs to the
 * delimiter in the message: part_decoded reads it from there. */
static void quick_content_in_place(quick_build *qb, GMimeObject *obj, span ent, size_t body)
{
    span *content = g_new(span, 1);
    *content = (span){ ent.base, body, ent.end };
    g_hash_table_insert(qb->w->quick_kids, obj, content);
}

/* A parser over [start, end): the header block alone (!persist; message: a
 * message's fields), or a view of the bytes. */
static GMimeParser *quick_parser(quick_build *qb, size_t start, size_t end, int persist,
                                 int message)
{
    if (!persist) {
        /* a header block alone (end is where its body starts) */
        if (!qb->headers) {
            qb->headers = g_mime_parser_new();
            qb->header_stream = g_mime_stream_mem_new();
            qb->header_bytes = g_byte_array_new();
        }
        qb->w->parsed_bytes += quick_header_bytes(qb->base, start, end, message, qb->header_bytes);
        /* one stream over one array for every block: what GMime makes of a block
         * holds copies, and none of its objects outlives the next block */
        g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(qb->header_stream), qb->header_bytes);
        g_mime_parser_init_with_stream(qb->headers, qb->header_stream);
        /* the content of a block alone is empty: a stream of its own is cheaper
         * than a null stream and a view of the block */
        g_mime_parser_set_persist_stream(qb->headers, FALSE);
        return g_object_ref(qb->headers);
    }
    if (!qb->whole)
        qb->whole = stream_over(qb->base, qb->len, &qb->whole_arr);
    GMimeStream *sub = g_mime_stream_substream(qb->whole, (gint64)start, (gint64)end);
    qb->w->parsed_bytes += end - start;
    GMimeParser *p = g_mime_parser_new_with_stream(sub);
    g_mime_parser_set_persist_stream(p, TRUE);
    g_object_unref(sub);
    return p;
}

/* Leaves whose content the walk reads (walk_leaf, walk_multipart's signature). */
static int quick_needs_content(GMimeObject *obj, int signature_slot)
{
    if (!GMIME_IS_PART(obj))
        return 0;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    return signature_slot || is_pkcs7_mime_type(ct) || mime_type_is(ct, "message", "rfc822");
}

static int quick_same_type(GMimeObject *a, GMimeObject *b)
{
    GMimeContentType *ca = g_mime_object_get_content_type(a);
    GMimeContentType *cb = g_mime_object_get_content_type(b);
    return G_OBJECT_TYPE(a) == G_OBJECT_TYPE(b) && ca && cb &&
           !g_ascii_strcasecmp(g_mime_content_type_get_media_type(ca),
                               g_mime_content_type_get_media_type(cb)) &&
           !g_ascii_strcasecmp(g_mime_content_type_get_media_subtype(ca),
                               g_mime_content_type_get_media_subtype(cb));
}

/* multipart_split as GMime's parser splits: QUICK_OK with the children in kids
 * (at most max), or QUICK_ODD when it might split otherwise: no closing delimiter,
 * an empty child, a line GMime takes for a delimiter and we do not (a CR among
 * the white space after it), or a child whose last line break is not the one
 * GMime takes off (it goes by the delimiter line's own CR). */
static int quick_split(const span *body, const char *boundary, const delimiter_index *ix,
                       unsigned max, GArray *kids)
{
    size_t blen = strlen(boundary);
    size_t child_start = 0;
    int open = 0;
    size_t pos = body->start;
    const char *b = body->base;
    /* The count's lines stand for the scan's where the body starts a line of the
     * buffer the count read (every line of ours that starts with "--" and the
     * boundary is among them); k runs over them. */
    size_t k = 0;
    if (ix && !(delimiter_index_covers(ix, boundary) && (pos == 0 || b[pos - 1] == '\n')))
        ix = NULL;
    if (ix) {
        size_t hi = ix->n;
        while (k < hi) {
            size_t mid = k + (hi - k) / 2;
            if (ix->lines[mid] < pos)
                k = mid + 1;
            else
                hi = mid;
        }
    }
    while (pos < body->end) {
        const char *dash;
        if (ix) {
            while (k < ix->n && ix->lines[k] < pos)
                k++;
            if (k == ix->n || ix->lines[k] >= body->end)
                break;
            dash = b + ix->lines[k];
        } else {
            dash = smime_scan_dash_line(b + body->start, b + pos, b + body->end);
            if (!dash)
                break;
        }
        pos = (size_t)(dash - b);
        const char *lf = memchr(b + pos, '\n', body->end - pos);
        size_t line_end = lf ? (size_t)(lf - b) : body->end;      /* LF excluded */
        size_t next = lf ? line_end + 1 : body->end;
        if (line_end - pos >= blen + 2 && memcmp(b + pos + 2, boundary, blen) == 0) {
            size_t q = pos + 2 + blen;
            int closing = 0;
            if (q + 2 <= line_end && b[q] == '-' && b[q + 1] == '-') {
                closing = 1;
                q += 2;
            }
            int cr = line_end > q && b[line_end - 1] == '\r';
            size_t e = cr ? line_end - 1 : line_end;
            int ours = 1, gmimes = 1;        /* what follows is white space to us, to GMime */
            for (size_t i = q; i < e; i++) {
                if (b[i] != ' ' && b[i] != '\t')
                    ours = 0;
                if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r')
                    gmimes = 0;
            }
            if (ours != gmimes)
                return QUICK_ODD;
            if (ours) {
                if (open) {
                    int crlf_before = pos >= child_start + 2 && b[pos - 2] == '\r';
                    size_t child_end = crlf_before ? pos - 2 : pos - 1;
                    if (pos <= child_start || crlf_before != cr || child_end <= child_start ||
                        kids->len >= max)
                        return QUICK_ODD;
                    span kid = { b, child_start, child_end };
                    g_array_append_val(kids, kid);
                }
                if (closing)
                    return QUICK_OK;
                if (!lf)
                    return QUICK_ODD;         /* GMime finds no child after it */
                open = 1;
                child_start = next;
            }
        }
        pos = next;
    }
    return QUICK_ODD;
}

static int quick_entity(quick_build *qb, span ent, unsigned depth, int signature_slot,
                        GMimeObject **out);
static int quick_message(quick_build *qb, span ent, unsigned depth, GMimeMessage **out);

/* Fills in obj (header-only, the entity ent at depth) as GMime would have: the
 * children of a multipart, the message of a message/rfc822 part.  Below the depth
 * cap the walk looks no further, and neither does this. */
static int quick_fill(quick_build *qb, GMimeObject *obj, span ent, unsigned depth)
{
    smime_mime_walk *w = qb->w;
    if (depth > w->lim->max_depth)
        return QUICK_OK;
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        const char *boundary = g_mime_multipart_get_boundary(mp);
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        /* a digest's children default to message/rfc822: their header blocks alone
         * would say text/plain */
        if (!boundary || !boundary[0] || mime_type_is(ct, "multipart", "digest") ||
            qb->n_bounds >= QUICK_NEST_MAX)
            return QUICK_ODD;
        size_t blen = strlen(boundary);
        for (unsigned i = 0; i < qb->n_bounds; i++) {
            size_t alen = strlen(qb->bounds[i]);
            if (!strncmp(qb->bounds[i], boundary, alen < blen ? alen : blen))
                return QUICK_ODD;     /* a line might delimit at two levels */
        }
        span body = { ent.base, entity_body_start(&ent), ent.end };
        GArray *kids = g_array_new(FALSE, FALSE, sizeof(span));
        if (quick_split(&body, boundary, qb->delimiters, w->lim->max_parts, kids) != QUICK_OK) {
            g_array_free(kids, TRUE);
            return QUICK_ODD;
        }
        int is_signed = GMIME_IS_MULTIPART_SIGNED(obj);
        qb->bounds[qb->n_bounds++] = boundary;
        int rc = QUICK_OK;
        for (guint i = 0; i < kids->len && rc == QUICK_OK; i++) {
            GMimeObject *kid = NULL;
            rc = quick_entity(qb, g_array_index(kids, span, i), depth + 1, is_signed && i == 1,
                              &kid);
            if (kid) {
                g_mime_multipart_add(mp, kid);
                g_object_unref(kid);
            }
        }
        qb->n_bounds--;
        if (rc != QUICK_OK) {
            g_array_free(kids, TRUE);
            return rc;
        }
        guint n = kids->len;
        g_hash_table_insert(w->quick_kids, obj, g_array_free(kids, n == 0));
        return QUICK_OK;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        span body = { ent.base, entity_body_start(&ent), ent.end };
        if (body.start >= body.end)
            return QUICK_ODD;
        GMimeMessage *inner = NULL;
        int rc = quick_message(qb, body, depth + 1, &inner);
        if (inner) {
            g_mime_message_part_set_message(GMIME_MESSAGE_PART(obj), inner);
            g_object_unref(inner);
        }
        return rc;
    }
    return QUICK_OK;
}

/* What quick_object makes of an entity: a part, a GMimeMessage (the message of
 * a message/rfc822 part), or a part of a message's header block (the buffer's
 * message: walk_message_fields reads its fields). */
typedef enum quick_kind { QUICK_PART, QUICK_MESSAGE, QUICK_TOP_MESSAGE } quick_kind;

/* One GMime object over [start, end) of the buffer: a message or a part. */
static GObject *quick_construct(quick_build *qb, size_t start, size_t end, int persist,
                                quick_kind kind)
{
    GMimeParser *p = quick_parser(qb, start, end, persist, kind != QUICK_PART);
    GObject *o = kind == QUICK_MESSAGE ? (GObject *)g_mime_parser_construct_message(p, NULL)
                                       : (GObject *)g_mime_parser_construct_part(p, NULL);
    g_object_unref(p);
    return o;
}

/* The MIME entity of what quick_construct made: the message's, or the part. */
static GMimeObject *quick_root(GObject *o, int as_message)
{
    if (!o)
        return NULL;
    return as_message ? g_mime_message_get_mime_part((GMimeMessage *)o) : (GMimeObject *)o;
}

/* The entity or message ent into *out (a new reference, also when the build
 * gives up after making it).  GMime reads the header block only.  The content of
 * a part the walk decodes (quick_needs_content: an opaque signed or enveloped
 * body, the signature of a multipart/signed) runs from its header block to the
 * end of its slice, as it runs to the delimiter in the message: base64 is read
 * from there by part_decoded; any other encoding, and a message, is parsed whole
 * by GMime on that slice. */
static int quick_object(quick_build *qb, span ent, unsigned depth, int signature_slot,
                        quick_kind kind, GObject **out)
{
    int as_message = kind == QUICK_MESSAGE;
    size_t body;
    if (quick_body_start(qb, ent, &body) != QUICK_OK)
        return QUICK_ODD;
    if (kind == QUICK_PART && !signature_slot && quick_passed_over(qb->base, ent.start, body)) {
        /* one bare part for them all: no type, so walk_leaf passes it over too */
        if (!qb->passed_over)
            qb->passed_over = g_object_new(GMIME_TYPE_PART, NULL);
        *out = g_object_ref(qb->passed_over);
        return QUICK_OK;
    }
    const char *signature = kind == QUICK_PART && signature_slot
                                ? quick_base64_signature(qb->base, ent.start, body)
                                : NULL;
    if (signature) {
        /* a part of that type with no fields but it, its content in place as any
         * base64 leaf's below */
        GMimeObject *part = g_object_new(GMIME_TYPE_PART, NULL);
        GMimeContentType *ct = g_mime_content_type_new("application", signature);
        g_mime_object_set_content_type(part, ct);
        g_object_unref(ct);
        quick_content_in_place(qb, part, ent, body);
        *out = (GObject *)part;
        return QUICK_OK;
    }
    GObject *head = quick_construct(qb, ent.start, body, 0, kind);
    GMimeObject *root = quick_root(head, as_message);
    /* A signature's content is read whatever its type.  GMime types an entity by
     * its header block alone, and a leaf's content runs to the end of its slice
     * as it does to the delimiter in place; what is not a leaf might split
     * otherwise, and is left to the whole parse. */
    if (!root || (signature_slot && !GMIME_IS_PART(root))) {
        if (head)
            g_object_unref(head);
        return QUICK_ODD;
    }
    if ((signature_slot || depth <= qb->w->lim->max_depth) &&
        quick_needs_content(root, signature_slot)) {
        if (!as_message &&
            g_mime_part_get_content_encoding(GMIME_PART(root)) == GMIME_CONTENT_ENCODING_BASE64) {
            quick_content_in_place(qb, root, ent, body);
            *out = head;
            return QUICK_OK;
        }
        GObject *whole = quick_construct(qb, ent.start, ent.end, 1, kind);
        GMimeObject *wroot = quick_root(whole, as_message);
        int same = wroot && quick_same_type(root, wroot);
        g_object_unref(head);
        if (!same) {
            if (whole)
                g_object_unref(whole);
            return QUICK_ODD;
        }
        *out = whole;
        return QUICK_OK;
    }
    *out = head;
    return quick_fill(qb, root, ent, depth);
}

/* The entity ent (a child, or encapsulated content) into *out. */
static int quick_entity(quick_build *qb, span ent, unsigned depth, int signature_slot,
                        GMimeObject **out)
{
    GObject *o = NULL;
    int rc = quick_object(qb, ent, depth, signature_slot, QUICK_PART, &o);
    *out = (GMimeObject *)o;
    return rc;
}

/* The message ent (the buffer, or the body of a message/rfc822 part) into *out. */
static int quick_message(quick_build *qb, span ent, unsigned depth, GMimeMessage **out)
{
    GObject *o = NULL;
    int rc = quick_object(qb, ent, depth, 0, QUICK_MESSAGE, &o);
    *out = (GMimeMessage *)o;
    return rc;
}

/* Parses buf (borrowed, must outlive the call; bare_lf: it may have bare LF line
 * ends) with GMime and walks it: as a whole message whose parts are numbered
 * under id, or as a MIME entity that takes the place of part id (the content of
 * an opaque signed-data). */
static int parse_and_walk(smime_mime_walk *w, const char *buf, size_t len, int bare_lf,
                          int as_message, const char *id, unsigned depth,
                          const smime_mime_addrs *addrs)
{
    /* GMime builds the whole tree before we see any of it: count first. */
    unsigned left = w->lim->max_parts > w->parts_built ? w->lim->max_parts - w->parts_built : 0;
    delimiter_index own = { 0 };
    const delimiter_index *delimiters = &own;
    unsigned parts;
    const smime_mime_prescan *pre = w->prescan;
    if (pre && pre->msg == buf && pre->len == len && pre->stop_at == left + 1 && !w->whole_tree) {
        parts = pre->parts;                   /* the same count, made already */
        delimiters = &pre->delimiters;
        w->prescan = NULL;
    } else {
        parts = count_delimiters(buf, len, left + 1, w->whole_tree ? NULL : &own, NULL);
    }
    if (parts > left) {
        delimiter_index_clear(&own);
        return limit_note(w, id[0] ? id : "1", depth, addrs, PARTS_LIMIT_NOTE);
    }
    w->parts_built += parts;
    int outer_bare_lf = w->bare_lf;
    w->bare_lf = bare_lf;
    GByteArray *arr = NULL;
    GMimeStream *stream = NULL;      /* over buf: for GMime's parsers only */
    GHashTable *outer_kids = w->quick_kids;
    w->quick_kids = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    GMimeMessage *message = NULL;
    GMimeObject *obj = NULL;
    int odd = QUICK_ODD;
    if (!w->whole_tree) {
        quick_build qb = { .w = w, .base = buf, .len = len, .delimiters = delimiters };
        /* A message's header block too is parsed as a part's: a GMime message
         * would make an address list of each of six fields, and the walk reads
         * two, parsed in addrs_collect. */
        GObject *top = NULL;
        odd = quick_object(&qb, (span){ buf, 0, len }, depth, 0,
                           as_message ? QUICK_TOP_MESSAGE : QUICK_PART, &top);
        obj = (GMimeObject *)top;
        if (qb.headers) {
            g_object_unref(qb.headers);
            g_object_unref(qb.header_stream);
            g_byte_array_free(qb.header_bytes, TRUE);
        }
        if (qb.passed_over)
            g_object_unref(qb.passed_over);
        stream = qb.whole;
        arr = qb.whole_arr;
        if (odd != QUICK_OK) {
            g_hash_table_remove_all(w->quick_kids);
            if (message)
                g_object_unref(message);
            if (obj)
                g_object_unref(obj);
            message = NULL;
            obj = NULL;
        }
    }
    delimiter_index_clear(&own);
    if (odd != QUICK_OK) {
        /* GMime builds the whole tree, as it sees the bytes. */
        g_hash_table_destroy(w->quick_kids);
        w->quick_kids = NULL;
        w->whole_trees++;
        w->parsed_bytes += len;
        if (!stream)
            stream = stream_over(buf, len, &arr);
        GMimeParser *parser = g_mime_parser_new_with_stream(stream);
        g_mime_parser_set_persist_stream(parser, TRUE);
        if (as_message)
            message = g_mime_parser_construct_message(parser, NULL);
        else
            obj = g_mime_parser_construct_part(parser, NULL);
        g_object_unref(parser);
    }
    int rc = 0;
    span whole = { buf, 0, len };
    if (message) {
        rc = walk_message(w, message, whole, id, depth);
        g_object_unref(message);
    } else if (obj && as_message) {
        rc = walk_message_fields(w, obj, NULL, obj, whole, id, depth);
        g_object_unref(obj);
    } else if (obj) {
        rc = walk_object(w, obj, whole, id, 1, depth, addrs);
        g_object_unref(obj);
    }
    if (w->quick_kids)
        g_hash_table_destroy(w->quick_kids);
    w->quick_kids = outer_kids;
    if (stream)
        stream_release(stream, arr);
    w->bare_lf = outer_bare_lf;
    return rc;
}

size_t smime_mime_walk_parsed_bytes(const smime_mime_walk *w)
{
    return w->parsed_bytes;
}

unsigned smime_mime_walk_whole_trees(const smime_mime_walk *w)
{
    return w->whole_trees;
}

int smime_mime_walk_message_authors(const char *msg, size_t len, const smime_mime_limits *lim,
                                    smime_mime_visit_fn visit, void *ctx,
                                    smime_mime_authors *authors)
{
    int bare_lf = len > 0 && smime_scan_bare_lf(msg, msg, msg + len) != NULL;
    return smime_mime_walk_message_lf(msg, len, bare_lf, lim, visit, ctx, authors);
}

static int walk_top(const char *msg, size_t len, int bare_lf, const smime_mime_prescan *pre,
                    const smime_mime_limits *lim, smime_mime_visit_fn visit, void *ctx,
                    smime_mime_authors *authors)
{
    if (authors)
        memset(authors, 0, sizeof(*authors));
    smime_mime_walk w = { .lim = lim, .visit = visit, .ctx = ctx, .authors = authors,
                          .decoded_left = lim->max_decoded ? lim->max_decoded : SIZE_MAX,
                          .prescan = pre };
    /* Walked as it arrived, never converted into a second copy: the slices of
     * a message with bare LFs say so, and are hashed in CRLF form (content.h). */
    return parse_and_walk(&w, msg, len, bare_lf, 1, "", 0, NULL);
}

int smime_mime_walk_message_lf(const char *msg, size_t len, int bare_lf,
                               const smime_mime_limits *lim, smime_mime_visit_fn visit,
                               void *ctx, smime_mime_authors *authors)
{
    return walk_top(msg, len, bare_lf, NULL, lim, visit, ctx, authors);
}

int smime_mime_walk_message_prescanned(const char *msg, size_t len, const smime_mime_prescan *pre,
                                       const smime_mime_limits *lim, smime_mime_visit_fn visit,
                                       void *ctx, smime_mime_authors *authors)
{
    return walk_top(msg, len, pre->bare_lfs != 0, pre, lim, visit, ctx, authors);
}

int smime_mime_walk_message_whole_tree(const char *msg, size_t len, int bare_lf,
                                       const smime_mime_limits *lim,
                                       smime_mime_visit_fn visit, void *ctx)
{
    smime_mime_walk w = { .lim = lim, .visit = visit, .ctx = ctx, .whole_tree = 1,
                          .decoded_left = lim->max_decoded ? lim->max_decoded : SIZE_MAX };
    return parse_and_walk(&w, msg, len, bare_lf, 1, "", 0, NULL);
}

int smime_mime_walk_message(const char *msg, size_t len, const smime_mime_limits *lim,
                            smime_mime_visit_fn visit, void *ctx)
{
    return smime_mime_walk_message_authors(msg, len, lim, visit, ctx, NULL);
}

int smime_mime_walk_entity(smime_mime_walk *w, const char *entity, size_t len,
                           const char *part, unsigned depth, const smime_mime_addrs *addrs)
{
    /* Encapsulated content is canonical CRLF by RFC 8551; make sure of it, as for
     * the message itself. */
    size_t crlf_len = smime_mime_crlf_length(entity, len);
    /* The caller's copy of the content (len) was made for this walk; ours adds
     * its growth in the CRLF conversion. */
    if (decode_charge(w, len) < 0 || decode_charge(w, crlf_len - len) < 0)
        return limit_note(w, part, depth + 1, addrs, DECODE_LIMIT_NOTE);
    if (crlf_len == len)             /* canonical already, as it should be: in place */
        return parse_and_walk(w, entity, len, 0, 0, part, depth + 1, addrs);
    char *crlf = smime_mime_to_crlf_sized(entity, len, crlf_len);
    if (!crlf)
        return -1;
    int rc = parse_and_walk(w, crlf, crlf_len, 0, 0, part, depth + 1, addrs);
    g_free(crlf);
    return rc;
}
