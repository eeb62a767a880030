/* schema - the columns and migrations both telemetry back ends share.
 *
 * Adding a field to the record is: a field in smime_telemetry_record, an entry in
 * `cols` below, and a migration that adds the column (never an edit of an old
 * migration: databases in the field are already at it). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smime/telemetry/sink.h"

enum col_kind { COL_TEXT, COL_INT64, COL_UINT };

static const struct {
    const char   *name;
    enum col_kind kind;
    size_t        off;
    size_t        size;   /* text columns: the field size */
} cols[SMIME_TELEMETRY_NCOLS] = {
#define TEXT(f) { #f, COL_TEXT, offsetof(smime_telemetry_record, f), \
                  sizeof(((smime_telemetry_record *)0)->f) }
    TEXT(day), TEXT(result), TEXT(reason), TEXT(issuer_dn), TEXT(issuer_key_id),
    TEXT(root_subject), TEXT(policy_oid), TEXT(cert_type), TEXT(generation), TEXT(findings),
    TEXT(key_alg), TEXT(digest_alg), TEXT(sig_alg),
    { "validity_days", COL_INT64, offsetof(smime_telemetry_record, validity_days), 0 },
    TEXT(not_before_month), TEXT(sbr_scope),
    { "scope_flags", COL_UINT, offsetof(smime_telemetry_record, scope_flags), 0 },
    TEXT(client_family), TEXT(sender_domain), TEXT(cert_id), TEXT(cn_form), TEXT(name_attrs),
    TEXT(caa_issuemail), TEXT(caa_ca),
#undef TEXT
};

const char *const smime_telemetry_columns[SMIME_TELEMETRY_NCOLS] = {
    "day", "result", "reason", "issuer_dn", "issuer_key_id", "root_subject", "policy_oid",
    "cert_type", "generation", "findings", "key_alg", "digest_alg", "sig_alg",
    "validity_days", "not_before_month", "sbr_scope", "scope_flags", "client_family",
    "sender_domain", "cert_id", "cn_form", "name_attrs", "caa_issuemail", "caa_ca",
};

const char smime_telemetry_column_list[] =
    "day,result,reason,issuer_dn,issuer_key_id,root_subject,policy_oid,cert_type,generation,"
    "findings,key_alg,digest_alg,sig_alg,validity_days,not_before_month,sbr_scope,scope_flags,"
    "client_family,sender_domain,cert_id,cn_form,name_attrs,caa_issuemail,caa_ca";

void smime_telemetry_record_values(const smime_telemetry_record *rec,
                                   const char *vals[SMIME_TELEMETRY_NCOLS], char *numbuf)
{
    const char *base = (const char *)rec;
    for (size_t i = 0; i < SMIME_TELEMETRY_NCOLS; i++) {
        char *num = numbuf + i * 24;
        switch (cols[i].kind) {
        case COL_TEXT:
            vals[i] = base + cols[i].off;
            break;
        case COL_INT64: {
            int64_t v;
            memcpy(&v, base + cols[i].off, sizeof(v));
            snprintf(num, 24, "%lld", (long long)v);
            vals[i] = num;
            break;
        }
        case COL_UINT: {
            unsigned v;
            memcpy(&v, base + cols[i].off, sizeof(v));
            snprintf(num, 24, "%u", v);
            vals[i] = num;
            break;
        }
        }
    }
}

int smime_telemetry_record_parse(const char *const vals[SMIME_TELEMETRY_NCOLS],
                                 smime_telemetry_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    char *base = (char *)rec;
    for (size_t i = 0; i < SMIME_TELEMETRY_NCOLS; i++) {
        const char *v = vals[i] ? vals[i] : "";
        if (cols[i].kind == COL_TEXT) {
            size_t n = strlen(v);
            if (n >= cols[i].size)
                n = cols[i].size - 1;
            memcpy(base + cols[i].off, v, n);
            base[cols[i].off + n] = '\0';
            continue;
        }
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end)
            return -1;
        if (cols[i].kind == COL_INT64) {
            int64_t x = n;
            memcpy(base + cols[i].off, &x, sizeof(x));
        } else {
            if (n < 0 || (unsigned long long)n > 0xffffffffull)
                return -1;
            unsigned x = (unsigned)n;
            memcpy(base + cols[i].off, &x, sizeof(x));
        }
    }
    return 0;
}

/* Migration N brings a database from version N-1 to N.  Never edit one that has
 * shipped; add the next. */
static const char *const migrations[SMIME_TELEMETRY_SCHEMA_VERSION] = {
    /* 1: the record table and the version */
    "CREATE TABLE telemetry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO telemetry_meta (key, value) VALUES ('schema_version', '0');"
    "CREATE TABLE signature ("
    " id @ID@,"
    " day TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL,"
    " issuer_dn TEXT NOT NULL, issuer_key_id TEXT NOT NULL, root_subject TEXT NOT NULL,"
    " policy_oid TEXT NOT NULL, cert_type TEXT NOT NULL, generation TEXT NOT NULL,"
    " findings TEXT NOT NULL, key_alg TEXT NOT NULL, digest_alg TEXT NOT NULL,"
    " sig_alg TEXT NOT NULL, validity_days BIGINT NOT NULL, not_before_month TEXT NOT NULL,"
    " sbr_scope TEXT NOT NULL, client_family TEXT NOT NULL, sender_domain TEXT NOT NULL)",
    /* 2: the lint scope bits, and an index for the day ranges reports select */
    "ALTER TABLE signature ADD COLUMN scope_flags BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX signature_day ON signature (day)",
    /* 3: distinct certificates (a keyed hash, never the fingerprint) and the subject
     * name forms the naming questions need; rows from before have "" (unknown) */
    "ALTER TABLE signature ADD COLUMN cert_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE signature ADD COLUMN cn_form TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE signature ADD COLUMN name_attrs TEXT NOT NULL DEFAULT ''",
    /* 4: CAA for S/MIME (RFC 9495) of the sender domain, looked up by the writer */
    "ALTER TABLE signature ADD COLUMN caa_issuemail TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE signature ADD COLUMN caa_ca TEXT NOT NULL DEFAULT ''",
};

int smime_telemetry_migration_sql(int to_version, const char *id_column, char *out,
                                  size_t outlen)
{
    if (to_version < 1 || to_version > SMIME_TELEMETRY_SCHEMA_VERSION || outlen == 0)
        return -1;
    const char *src = migrations[to_version - 1];
    size_t o = 0;
    for (const char *p = src; *p;) {
        const char *piece = p;
        size_t len = 1;
        if (strncmp(p, "@ID@", 4) == 0) {
            piece = id_column;
            len = strlen(id_column);
            p += 4;
        } else {
            p++;
        }
        if (o + len >= outlen)
            return -1;
        memcpy(out + o, piece, len);
        o += len;
    }
    int n = snprintf(out + o, outlen - o,
                     ";UPDATE telemetry_meta SET value = '%d' WHERE key = 'schema_version'",
                     to_version);
    if (n < 0 || (size_t)n >= outlen - o)
        return -1;
    return 0;
}
