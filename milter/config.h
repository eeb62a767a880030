/* config - the smime-milter configuration file: parse and validate.
 *
 * The file has one "Key value" per line, as admins know from OpenDKIM: keys are
 * case-insensitive, the value is the rest of the line with surrounding blanks
 * removed, '#' starts a comment anywhere on a line, blank lines are ignored.
 * Unknown keys, repeated keys and bad values are errors that name the file and the
 * line.  smime_config_parse() is pure (text in, struct out); smime_config_load()
 * only adds reading the file.  smime-milter.conf(5) documents every key. */
#ifndef SMIME_MILTER_CONFIG_H
#define SMIME_MILTER_CONFIG_H

#include <stddef.h>
#include <sys/socket.h>
#include "smime/verdict/policy.h"
#include "smime/revocation/revocation.h" /* smime_rev_mode */
#include "smime/verdict/verify.h"     /* smime_lint_mode */
#include "smime/report/headers.h"     /* SMIME_SUBJECT_TAG_MAX */

#define SMIME_CONFIG_PATH_MAX  1024
#define SMIME_CONFIG_NAME_MAX  256
#define SMIME_CONFIG_FILE_MAX  (1u << 20)   /* larger configuration files are refused */
#define SMIME_CONFIG_LINE_MAX  4096
#define SMIME_TAG_SIGNING_FAIL SMIME_RESULT_COUNT  /* subject_tag index of SigningFail */

typedef struct smime_config {
    char   socket[SMIME_CONFIG_PATH_MAX];        /* libmilter connection spec */
    char   authserv_id[SMIME_CONFIG_NAME_MAX];   /* "" = the host name, found at start */
    char   trust_anchors[SMIME_CONFIG_PATH_MAX]; /* required */
    char   user_id[SMIME_CONFIG_NAME_MAX];       /* "user" or "user:group"; "" = stay */
    char   pid_file[SMIME_CONFIG_PATH_MAX];      /* "" = none */
    int    has_umask;
    unsigned umask;
    int    syslog;                               /* log to syslog (else stderr) */
    char   syslog_facility[16];                  /* "mail", "daemon", "local0".. */
    int    log_why;                              /* reasons in the log line */
    char   peer_list[SMIME_CONFIG_PATH_MAX];     /* "" = none */
    int    skip_authenticated;                   /* SMTP AUTH clients are not checked */
    size_t max_message_size;                     /* larger: not checked, neutral */
    size_t memory_limit;                         /* per message in memory, then a file */
    char   temp_dir[SMIME_CONFIG_PATH_MAX];
    int    remove_forged;                        /* drop A-R headers claiming our id */
    int    detail_headers;                       /* add X-SMIME-* headers */
    smime_lint_mode lint_mode;                   /* passed to the core (verify.h) */
    unsigned max_depth;                          /* MIME nesting followed */
    smime_rev_mode revocation;                   /* OCSP/CRL checks: off, soft, hard */
    unsigned revocation_timeout;                 /* seconds for all fetches of a message */
    char   revocation_cache[SMIME_CONFIG_PATH_MAX];  /* "" = memory only */
    char   crl_dir[SMIME_CONFIG_PATH_MAX];       /* "" = none */
    unsigned revocation_max_redirects;           /* HTTP redirects followed (0) */
    int    revocation_allow_private;             /* fetch from non-public addresses */
    unsigned max_signatures;                     /* the cost model, smime_verify_options */
    unsigned max_rsa_bits;
    unsigned hash_factor;
    unsigned decode_factor;
    unsigned verify_timeout;                     /* CPU seconds per message; 0 = none */
    char   telemetry[SMIME_CONFIG_PATH_MAX];     /* sink URI; "" = no telemetry */
    char   metrics_socket[SMIME_CONFIG_PATH_MAX]; /* Prometheus endpoint; "" = none */
    int    telemetry_sender_domain;              /* smime_telemetry_domain_mode */
    char   telemetry_hmac_key[SMIME_CONFIG_PATH_MAX];  /* key file for hmac mode */
    int    caa_lookup;                           /* CAA for S/MIME by the writer */
    char   caa_resolver[128];                    /* ADDR[@PORT]; "" = resolv.conf */
    char   caa_issuer_map[SMIME_CONFIG_PATH_MAX];/* "" = none */
    unsigned caa_timeout_ms;                     /* one batch's lookups */
    unsigned caa_cache;                          /* domains cached */
    smime_policy policy;
    /* ---- gateway policy (issue #18) ---- */
    char   signing_policy[SMIME_CONFIG_PATH_MAX];   /* SigningPolicy file; "" = none */
    /* SubjectTag-<Result> by smime_result, then SubjectTag-SigningFail; "" = none */
    char   subject_tag[SMIME_RESULT_COUNT + 1][SMIME_SUBJECT_TAG_MAX + 1];
    char   harvest_dir[SMIME_CONFIG_PATH_MAX];      /* HarvestDirectory; "" = off */
    unsigned harvest_max_entries;
    size_t harvest_max_bytes;
} smime_config;

/* Fills every default (see smime-milter.conf(5)). */
void smime_config_default(smime_config *c);

/* Parses configuration text (len bytes, need not be NUL-terminated) over the
 * defaults.  `source` names the text in errors ("FILE:LINE: problem").  Returns 0,
 * or -1 with the message in err (out is then unspecified). */
int smime_config_parse(const char *text, size_t len, const char *source, smime_config *out,
                       char *err, size_t errlen);

/* Reads the file (at most SMIME_CONFIG_FILE_MAX bytes) and parses it. */
int smime_config_load(const char *path, smime_config *out, char *err, size_t errlen);

/* 1 when spec is a socket smime-milter can listen on: inet:PORT[@HOST],
 * inet6:PORT[@[ADDR]] or local:/absolute/path (unix: is an alias of local:). */
int smime_config_socket_valid(const char *spec);

/* MetricsSocket: inet:PORT@IPV4 or inet6:PORT@[IPV6], numeric addresses only.
 * Fills *out and *len; returns 0, or -1 when spec is not of that form. */
int smime_config_metrics_addr(const char *spec, struct sockaddr_storage *out, socklen_t *len);

#endif
