/* mime - find every S/MIME object in a message and slice the exact signed bytes.
 *
 * GMime decides the structure (headers, parameters, transfer encodings); the raw byte
 * range of every entity is tracked alongside by our own boundary scan over the
 * message, because the bytes that were signed must be hashed as they arrived, never
 * as GMime re-serialises them.  The walker reports each S/MIME object it finds to a
 * visitor, in document order, an outer signature before what it signs.  The caller
 * (verify) decides what to do with them and, for opaque signed-data, walks the
 * encapsulated content again through smime_mime_walk_entity().
 *
 * Part identifiers follow IMAP section numbering: the top-level entity of a message
 * is "1" unless it is a multipart, whose children are "1", "2", ...; children of a
 * part P are "P.1", "P.2"; a message/rfc822 part P contains "P.1" (or "P.1", "P.2"
 * ... when its own top level is multipart). */
#ifndef SMIME_MIME_H
#define SMIME_MIME_H

#include <stddef.h>
#include <stdint.h>

#define SMIME_PART_ID_MAX   128
#define SMIME_MAX_ADDRS     16
#define SMIME_ADDR_MAX      320

typedef enum smime_mime_kind {
    SMIME_MIME_DETACHED,     /* multipart/signed: signed bytes + signature DER */
    SMIME_MIME_OPAQUE,       /* pkcs7-mime signed-data: DER carries the content */
    SMIME_MIME_ENVELOPED,    /* enveloped-data / authEnveloped-data: not decrypted */
    SMIME_MIME_COMPRESSED,   /* compressed-data: not decompressed */
    SMIME_MIME_MALFORMED,    /* an S/MIME object we could not take apart; see note */
    SMIME_MIME_LIMIT         /* a cap stopped the walk here; see note */
} smime_mime_kind;

#define SMIME_CLIENT_MAX 160

/* Facts about the message (or forwarded message) that encloses an object. */
typedef struct smime_mime_addrs {
    size_t n_from;
    char   from[SMIME_MAX_ADDRS][SMIME_ADDR_MAX];   /* addr-spec, as decoded by GMime */
    char   sender[SMIME_ADDR_MAX];                   /* empty when there is no Sender */
    char   client[SMIME_CLIENT_MAX];                 /* User-Agent, else X-Mailer; "" */
    unsigned from_headers, sender_headers;           /* how many of each (RFC 5322: <= 1) */
    /* Mailboxes in the Sender header (a group counts as two): RFC 5322 allows
     * exactly one; "Alice <a@x> Mallory <m@y>" (no comma, as Sendmail makes of
     * a NUL-split value) parses as two, and readers may show either. */
    unsigned sender_mailboxes;
    /* "From" or "Sender" (static) when that header holds a control character
     * other than folding white space (a NUL, a bare CR, ESC, DEL, ...), read
     * from the raw bytes because GMime and C strings stop at a NUL: what a
     * reader shows as the author is then anyone's guess.  NULL when none. */
    const char   *control_header;
    unsigned char control_byte;                      /* the first such byte */
} smime_mime_addrs;

/* The author of the message itself (not of forwarded messages): every mailbox of
 * every From header, in order.  GMime keeps only one From header; these are read
 * from each, so a second From header cannot hide an author from a per-sender
 * policy. */
typedef struct smime_mime_authors {
    size_t n;                                      /* addresses kept */
    size_t total;                                  /* addresses found (n <= total) */
    unsigned from_headers;
    int    control;                                /* a From value holds a control
                                                    * byte: readers may show another
                                                    * author than these */
    char   addr[SMIME_MAX_ADDRS][SMIME_ADDR_MAX];
} smime_mime_authors;

/* One S/MIME object.  All pointers are borrowed and valid only during the visit. */
typedef struct smime_mime_item {
    smime_mime_kind kind;
    char            part[SMIME_PART_ID_MAX];
    unsigned        depth;             /* MIME nesting depth of the object */
    const char     *signed_bytes;      /* DETACHED: exact signed entity as it lies in
                                        * the message */
    size_t          signed_len;
    int             signed_lf_as_crlf; /* DETACHED: signed_bytes may hold bare LFs,
                                        * each of which stands for CRLF (the signed
                                        * form); 0: they are the signed form as is */
    const unsigned char *der;          /* DETACHED/OPAQUE: the CMS ContentInfo */
    size_t          der_len;
    const char     *note;              /* MALFORMED/LIMIT: what went wrong, for people */
    const smime_mime_addrs *addrs;     /* enclosing message's From/Sender */
} smime_mime_item;

typedef struct smime_mime_limits {
    unsigned max_depth;      /* nesting of multiparts and messages */
    unsigned max_parts;      /* entities in one message, all levels: enforced before
                              * GMime builds a tree, from a scan of the delimiter
                              * lines of every boundary the bytes declare */
    unsigned max_items;      /* S/MIME objects reported */
    size_t   max_decoded;    /* bytes made by transfer decoding, CRLF conversion and
                              * copies of encapsulated content, all levels together,
                              * charged before each is made; 0: no cap */
} smime_mime_limits;

/* Upper bound on the MIME entities GMime builds from buf (one per delimiter line of
 * a boundary that buf declares anywhere, RFC 2231 pieces included), counting no
 * further than stop_at.  Linear in len; reads only buf. */
unsigned smime_mime_count_parts(const char *buf, size_t len, unsigned stop_at);

typedef struct smime_mime_walk smime_mime_walk;

/* Return 0 to go on, non-zero to stop the walk (that value is returned). */
typedef int (*smime_mime_visit_fn)(smime_mime_walk *walk, const smime_mime_item *item,
                                   void *ctx);

/* Length of the CRLF form of in: equal to len when it is already canonical. */
size_t smime_mime_crlf_length(const char *in, size_t len);

/* Converts bare LF line ends to CRLF.  A lone CR is content, not a line end, and
 * is kept: converting it would change bytes a sender signed.  Returns a g_malloc'ed buffer
 * the caller frees with g_free, or NULL when the result would exceed max_len. */
char *smime_mime_to_crlf(const char *in, size_t len, size_t max_len, size_t *out_len);
/* The same when crlf_len = smime_mime_crlf_length(in, len) is known already: one
 * pass over in fewer (NULL on memory failure, or when crlf_len is not that). */
char *smime_mime_to_crlf_sized(const char *in, size_t len, size_t crlf_len);

/* Walks a whole message (CRLF form, or with bare LF line ends, which are read as
 * CRLF; the buffer is borrowed and must outlive the walk).  Returns 0 or the first non-zero visitor value; -1 on memory failure. */
int smime_mime_walk_message(const char *msg, size_t len, const smime_mime_limits *lim,
                            smime_mime_visit_fn visit, void *ctx);
/* Adds the mailboxes of one From header value (as in the message, folds allowed)
 * to *authors, counting those past SMIME_MAX_ADDRS in total only. */
void smime_mime_authors_add(smime_mime_authors *authors, const char *from_value);

/* Fills *authors (zeroed first) from the From headers of a message's header
 * section, without parsing the rest: for a message too large to be walked.  At
 * most SMIME_AUTHORS_SCAN_MAX bytes are looked at, and a From value is cut at
 * SMIME_AUTHORS_VALUE_MAX bytes. */
#define SMIME_AUTHORS_SCAN_MAX  (1u << 20)
#define SMIME_AUTHORS_VALUE_MAX (16u << 10)
void smime_mime_scan_authors(const char *msg, size_t len, smime_mime_authors *authors);

/* The same, also filling *authors (zeroed first) from the top-level header. */
int smime_mime_walk_message_authors(const char *msg, size_t len, const smime_mime_limits *lim,
                                    smime_mime_visit_fn visit, void *ctx,
                                    smime_mime_authors *authors);

/* The same when the caller knows already whether msg has a bare LF (bare_lf:
 * smime_mime_crlf_length(msg, len) != len): spares a look for one.  A wrong 0
 * makes slices with bare LFs that say they have none. */
int smime_mime_walk_message_lf(const char *msg, size_t len, int bare_lf,
                               const smime_mime_limits *lim, smime_mime_visit_fn visit,
                               void *ctx, smime_mime_authors *authors);

/* One pass over a message before its walk answers two questions every byte is
 * asked: the part count (an upper bound on the entities GMime would build, with
 * the boundaries and delimiter lines it found) and the number of bare LFs (so
 * the message's CRLF length is len + that).  msg is borrowed and must outlive
 * the prescan; lim->max_parts is the walk's.  NULL when memory ran out. */
typedef struct smime_mime_prescan smime_mime_prescan;
smime_mime_prescan *smime_mime_prescan_new(const char *msg, size_t len, const smime_mime_limits *lim);
size_t smime_mime_prescan_bare_lfs(const smime_mime_prescan *pre);
void smime_mime_prescan_free(smime_mime_prescan *pre);
/* smime_mime_walk_message_lf over the message pre was made of, with the same lim
 * (max_parts): its top level is not counted again. */
int smime_mime_walk_message_prescanned(const char *msg, size_t len, const smime_mime_prescan *pre,
                                       const smime_mime_limits *lim, smime_mime_visit_fn visit,
                                       void *ctx, smime_mime_authors *authors);

/* From inside a visit: what GMime's parser was given so far in this walk, in
 * bytes (header blocks, the leaves decoded, whole buffers), and how many buffers
 * it parsed whole (the quick tree not built: odd input, or whole_tree). */
size_t smime_mime_walk_parsed_bytes(const smime_mime_walk *walk);
unsigned smime_mime_walk_whole_trees(const smime_mime_walk *walk);
/* smime_mime_walk_message_lf with GMime parsing every buffer whole, as the walk
 * did before it built its quick tree (from our delimiter scan, GMime reading the
 * header blocks and the leaves decoded): the reference the tests hold the quick
 * tree to. */
int smime_mime_walk_message_whole_tree(const char *msg, size_t len, int bare_lf,
                                       const smime_mime_limits *lim,
                                       smime_mime_visit_fn visit, void *ctx);

/* From inside a visit: walks a MIME entity (headers + body, e.g. the content of an
 * opaque signed-data) as part `part` of the same walk, one level deeper, sharing the
 * walk's caps.  `addrs` are the addresses that apply inside it. */
int smime_mime_walk_entity(smime_mime_walk *walk, const char *entity, size_t len,
                           const char *part, unsigned depth, const smime_mime_addrs *addrs);

#endif
