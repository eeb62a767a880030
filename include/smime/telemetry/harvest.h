/* harvest - a store of the certificates of senders whose signatures passed, by
 * mailbox address, for an outbound gateway to encrypt to them (what CipherMail
 * calls auto-import).
 *
 * The store is a directory (mode 0700) of one PEM file per address (mode 0600):
 * the signer certificate first, then its path.  File names are the address in
 * lower case, every byte outside [a-z0-9.@_+-] written as %XX, and ".pem"
 * ("alice@partner.example.pem").  Rules:
 *   - only what the caller saw pass is offered (smime_harvest_put);
 *   - a certificate replaces the stored one only when it is newer (a later
 *     notBefore) and valid now, or when the stored one has expired or cannot be
 *     read; the same certificate again changes nothing;
 *   - a certificate seen revoked is removed (smime_harvest_forget), an expired one
 *     is never served (smime_harvest_lookup removes it) and sweeps remove them;
 *   - the store holds at most max_entries files and max_bytes bytes: past either,
 *     expired entries are swept, and a new address is refused if that frees nothing.
 * Files are written to a temporary name and renamed, so a reader never sees half
 * a file.  The mail path never waits for the disk: smime_harvester_* queue the
 * work for one writer thread (a full queue drops, counted). */
#ifndef SMIME_HARVEST_H
#define SMIME_HARVEST_H

#include <stddef.h>
#include <stdint.h>
#include "smime/report/report.h"
#include "smime/util/buf.h"

#define SMIME_HARVEST_QUEUE 256           /* pending jobs of the writer */
#define SMIME_HARVEST_SCAN_MAX 1000000    /* directory entries looked at, at most */

typedef struct smime_harvest_options {
    size_t max_entries;                   /* default 10000 */
    size_t max_bytes;                     /* default 64 MiB */
} smime_harvest_options;

void smime_harvest_options_default(smime_harvest_options *o);

/* The file name for an address ("" and -1 when it does not fit in n bytes or the
 * address is empty). */
int smime_harvest_file_name(const char *addr, char *out, size_t n);

/* Creates the directory (0700) when missing; refuses a path that is not a
 * directory.  Returns 0 or -1 with err. */
int smime_harvest_prepare(const char *dir, char *err, size_t errlen);

typedef enum smime_harvest_outcome {
    SMIME_HARVEST_STORED = 0,             /* new, or replaced an older one */
    SMIME_HARVEST_SAME,                   /* that certificate is stored already */
    SMIME_HARVEST_KEPT,                   /* the stored one is newer: kept */
    SMIME_HARVEST_INVALID,                /* not a certificate valid at now */
    SMIME_HARVEST_FULL,                   /* the caps leave no room */
} smime_harvest_outcome;

const char *smime_harvest_outcome_name(smime_harvest_outcome o);

/* Offers the certificates (PEM, signer first) of a passing signature by addr.
 * Returns the outcome, or -1 with err (a file system error). */
int smime_harvest_put(const char *dir, const smime_harvest_options *o, const char *addr,
                      const char *pem, size_t pem_len, int64_t now, char *err, size_t errlen);

/* Removes addr's entry if its signer certificate has this SHA-256 (upper-case
 * hex, as in smime_cert_summary).  Returns 1 removed, 0 not there, -1 error. */
int smime_harvest_forget(const char *dir, const char *addr, const char *sha256, char *err,
                         size_t errlen);

/* Removes every entry whose signer certificate has expired at now (or cannot be
 * read).  Returns how many were removed, or -1. */
long smime_harvest_sweep(const char *dir, int64_t now, char *err, size_t errlen);

/* Appends addr's PEM to out when there is an entry and its signer certificate is
 * valid at now (an expired one is removed).  Returns 1 served, 0 none, -1 error. */
int smime_harvest_lookup(const char *dir, const char *addr, int64_t now, smime_buf *out,
                         char *err, size_t errlen);

/* ---- the writer thread ---- */
typedef struct smime_harvester smime_harvester;
typedef void (*smime_harvest_log_fn)(void *ctx, int is_error, const char *msg);

/* Prepares the directory and starts the writer.  Returns 0 or -1 with err. */
int  smime_harvester_start(const char *dir, const smime_harvest_options *o,
                           smime_harvest_log_fn log, void *log_ctx, smime_harvester **out,
                           char *err, size_t errlen);
/* Queues what a report asks for: put for every pass with certificates, forget
 * for every signature failed as revoked.  Never blocks; `now` is the validation
 * time.  Returns how many jobs were dropped (queue full or out of memory). */
unsigned smime_harvester_submit(smime_harvester *h, const smime_report *r, int64_t now);
/* Finishes the queued jobs, stops the writer and frees h (NULL is fine).
 * Returns the number of jobs dropped over its life. */
unsigned long smime_harvester_close(smime_harvester *h);

#endif
