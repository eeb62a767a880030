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

/* Pieces of the roll-up's SQL that more than one migration uses. */
#define PG_FACTS_INSERT_NEW "INSERT INTO cert_facts (fact_key, cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs) SELECT DISTINCT encode(sha256(convert_to(concat_ws(chr(31), cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs), 'UTF8')), 'hex'), cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs FROM signature_new ORDER BY 1 ON CONFLICT (fact_key) DO NOTHING; "
#define PG_DOMAINS_INSERT_NEW "INSERT INTO sender_domains (sender_domain) SELECT DISTINCT sender_domain FROM signature_new ORDER BY 1 ON CONFLICT (sender_domain) DO NOTHING; "
#define PG_FACT_JOIN " JOIN cert_facts f ON f.fact_key = encode(sha256(convert_to(concat_ws(chr(31), r.cert_id, r.issuer_dn, r.issuer_key_id, r.root_subject, r.policy_oid, r.cert_type, r.generation, r.findings, r.key_alg, r.validity_days, r.not_before_month, r.sbr_scope, r.cn_form, r.name_attrs), 'UTF8')), 'hex') JOIN sender_domains d ON d.sender_domain = r.sender_domain "
#define ROLLUP_KEY "fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca"

/* Migration N brings a database from version N-1 to N.  Never edit one that has
 * shipped; add the next.  `both` is the text of both dialects; where they must
 * differ, `sqlite` and `pg` are (and `both` is NULL). */
static const struct migration {
    const char *both, *sqlite, *pg;
} migrations[SMIME_TELEMETRY_SCHEMA_VERSION] = {
    /* 1: the record table and the version */
    { "CREATE TABLE telemetry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO telemetry_meta (key, value) VALUES ('schema_version', '0');"
    "CREATE TABLE signature ("
    " id @ID@,"
    " day TEXT NOT NULL, result TEXT NOT NULL, reason TEXT NOT NULL,"
    " issuer_dn TEXT NOT NULL, issuer_key_id TEXT NOT NULL, root_subject TEXT NOT NULL,"
    " policy_oid TEXT NOT NULL, cert_type TEXT NOT NULL, generation TEXT NOT NULL,"
    " findings TEXT NOT NULL, key_alg TEXT NOT NULL, digest_alg TEXT NOT NULL,"
    " sig_alg TEXT NOT NULL, validity_days BIGINT NOT NULL, not_before_month TEXT NOT NULL,"
    " sbr_scope TEXT NOT NULL, client_family TEXT NOT NULL, sender_domain TEXT NOT NULL)", NULL, NULL },
    /* 2: the lint scope bits, and an index for the day ranges reports select */
    { "ALTER TABLE signature ADD COLUMN scope_flags BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX signature_day ON signature (day)", NULL, NULL },
    /* 3: distinct certificates (a keyed hash, never the fingerprint) and the subject
     * name forms the naming questions need; rows from before have "" (unknown) */
    { "ALTER TABLE signature ADD COLUMN cert_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE signature ADD COLUMN cn_form TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE signature ADD COLUMN name_attrs TEXT NOT NULL DEFAULT ''", NULL, NULL },
    /* 4: CAA for S/MIME (RFC 9495) of the sender domain, looked up by the writer */
    { "ALTER TABLE signature ADD COLUMN caa_issuemail TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE signature ADD COLUMN caa_ca TEXT NOT NULL DEFAULT ''", NULL, NULL },
    /* 5: the report's roll-up, kept by the database on every insert into signature
     * (the writers, export/merge and any loader stay as they are): the distinct
     * combinations of what the report reads of a certificate (cert_facts), the
     * sender domains, and per day the count of signatures per fact, domain and
     * what varies per signature (signature_daily).  "" (unknown) cert_id and
     * domain are rows like any other, so the report counts them as today.  SQLite
     * keeps it per row; PostgreSQL per statement from the transition table (COPY
     * included), keyed by a hash of the facts (a unique index over the texts could
     * pass the btree's row limit); ON CONFLICT keeps concurrent writers correct.
     * The rows already in signature are rolled up here. */
    { NULL,
    "CREATE TABLE cert_facts (id @ID@, cert_id TEXT NOT NULL, issuer_dn TEXT NOT NULL, issuer_key_id TEXT NOT NULL, root_subject TEXT NOT NULL, policy_oid TEXT NOT NULL, cert_type TEXT NOT NULL, generation TEXT NOT NULL, findings TEXT NOT NULL, key_alg TEXT NOT NULL, validity_days BIGINT NOT NULL, not_before_month TEXT NOT NULL, sbr_scope TEXT NOT NULL, cn_form TEXT NOT NULL, name_attrs TEXT NOT NULL, UNIQUE (cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs)); "
    "CREATE TABLE sender_domains (id @ID@, sender_domain TEXT NOT NULL UNIQUE); "
    "CREATE TABLE signature_daily (day TEXT NOT NULL, fact_id BIGINT NOT NULL, domain_id BIGINT NOT NULL, "
    " result TEXT NOT NULL, reason TEXT NOT NULL, digest_alg TEXT NOT NULL, sig_alg TEXT NOT NULL, "
    " client_family TEXT NOT NULL, caa_issuemail TEXT NOT NULL, caa_ca TEXT NOT NULL, n BIGINT NOT NULL, "
    " UNIQUE (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca)); "
    "CREATE TRIGGER signature_rollup AFTER INSERT ON signature BEGIN "
    " INSERT OR IGNORE INTO cert_facts (cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs) VALUES (NEW.cert_id, NEW.issuer_dn, NEW.issuer_key_id, NEW.root_subject, NEW.policy_oid, NEW.cert_type, NEW.generation, NEW.findings, NEW.key_alg, NEW.validity_days, NEW.not_before_month, NEW.sbr_scope, NEW.cn_form, NEW.name_attrs); "
    " INSERT OR IGNORE INTO sender_domains (sender_domain) VALUES (NEW.sender_domain); "
    " INSERT INTO signature_daily (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca, n) "
    " SELECT NEW.day, (SELECT id FROM cert_facts WHERE cert_id = NEW.cert_id AND issuer_dn = NEW.issuer_dn AND issuer_key_id = NEW.issuer_key_id AND root_subject = NEW.root_subject AND policy_oid = NEW.policy_oid AND cert_type = NEW.cert_type AND generation = NEW.generation AND findings = NEW.findings AND key_alg = NEW.key_alg AND validity_days = NEW.validity_days AND not_before_month = NEW.not_before_month AND sbr_scope = NEW.sbr_scope AND cn_form = NEW.cn_form AND name_attrs = NEW.name_attrs), "
    " (SELECT id FROM sender_domains WHERE sender_domain = NEW.sender_domain), NEW.result, NEW.reason, NEW.digest_alg, NEW.sig_alg, NEW.client_family, NEW.caa_issuemail, NEW.caa_ca, 1 "
    " WHERE true ON CONFLICT (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca) DO UPDATE SET n = n + 1; "
    "END; "
    "CREATE TRIGGER signature_rollup_delete AFTER DELETE ON signature BEGIN "
    " UPDATE signature_daily SET n = n - 1 WHERE day = OLD.day AND fact_id = (SELECT id FROM cert_facts WHERE cert_id = OLD.cert_id AND issuer_dn = OLD.issuer_dn AND issuer_key_id = OLD.issuer_key_id AND root_subject = OLD.root_subject AND policy_oid = OLD.policy_oid AND cert_type = OLD.cert_type AND generation = OLD.generation AND findings = OLD.findings AND key_alg = OLD.key_alg AND validity_days = OLD.validity_days AND not_before_month = OLD.not_before_month AND sbr_scope = OLD.sbr_scope AND cn_form = OLD.cn_form AND name_attrs = OLD.name_attrs) AND domain_id = (SELECT id FROM sender_domains WHERE sender_domain = OLD.sender_domain) AND result = OLD.result AND reason = OLD.reason AND digest_alg = OLD.digest_alg AND sig_alg = OLD.sig_alg AND client_family = OLD.client_family AND caa_issuemail = OLD.caa_issuemail AND caa_ca = OLD.caa_ca; "
    " DELETE FROM signature_daily WHERE n <= 0 AND day = OLD.day AND fact_id = (SELECT id FROM cert_facts WHERE cert_id = OLD.cert_id AND issuer_dn = OLD.issuer_dn AND issuer_key_id = OLD.issuer_key_id AND root_subject = OLD.root_subject AND policy_oid = OLD.policy_oid AND cert_type = OLD.cert_type AND generation = OLD.generation AND findings = OLD.findings AND key_alg = OLD.key_alg AND validity_days = OLD.validity_days AND not_before_month = OLD.not_before_month AND sbr_scope = OLD.sbr_scope AND cn_form = OLD.cn_form AND name_attrs = OLD.name_attrs) AND domain_id = (SELECT id FROM sender_domains WHERE sender_domain = OLD.sender_domain) AND result = OLD.result AND reason = OLD.reason AND digest_alg = OLD.digest_alg AND sig_alg = OLD.sig_alg AND client_family = OLD.client_family AND caa_issuemail = OLD.caa_issuemail AND caa_ca = OLD.caa_ca; "
    "END; "
    "INSERT OR IGNORE INTO cert_facts (cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs) SELECT DISTINCT cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs FROM signature; "
    "INSERT OR IGNORE INTO sender_domains (sender_domain) SELECT DISTINCT sender_domain FROM signature; "
    "INSERT INTO signature_daily (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca, n) "
    " SELECT r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) FROM signature r "
    " JOIN cert_facts f ON f.cert_id = r.cert_id AND f.issuer_dn = r.issuer_dn AND f.issuer_key_id = r.issuer_key_id AND f.root_subject = r.root_subject AND f.policy_oid = r.policy_oid AND f.cert_type = r.cert_type AND f.generation = r.generation AND f.findings = r.findings AND f.key_alg = r.key_alg AND f.validity_days = r.validity_days AND f.not_before_month = r.not_before_month AND f.sbr_scope = r.sbr_scope AND f.cn_form = r.cn_form AND f.name_attrs = r.name_attrs JOIN sender_domains d ON d.sender_domain = r.sender_domain "
    " GROUP BY r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca ",
    "CREATE TABLE cert_facts (id @ID@, fact_key TEXT NOT NULL UNIQUE, cert_id TEXT NOT NULL, issuer_dn TEXT NOT NULL, issuer_key_id TEXT NOT NULL, root_subject TEXT NOT NULL, policy_oid TEXT NOT NULL, cert_type TEXT NOT NULL, generation TEXT NOT NULL, findings TEXT NOT NULL, key_alg TEXT NOT NULL, validity_days BIGINT NOT NULL, not_before_month TEXT NOT NULL, sbr_scope TEXT NOT NULL, cn_form TEXT NOT NULL, name_attrs TEXT NOT NULL); "
    "CREATE TABLE sender_domains (id @ID@, sender_domain TEXT NOT NULL UNIQUE); "
    "CREATE TABLE signature_daily (day TEXT NOT NULL, fact_id BIGINT NOT NULL, domain_id BIGINT NOT NULL, "
    " result TEXT NOT NULL, reason TEXT NOT NULL, digest_alg TEXT NOT NULL, sig_alg TEXT NOT NULL, "
    " client_family TEXT NOT NULL, caa_issuemail TEXT NOT NULL, caa_ca TEXT NOT NULL, n BIGINT NOT NULL, "
    " UNIQUE (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca)); "
    "CREATE FUNCTION signature_rollup() RETURNS trigger LANGUAGE plpgsql AS $rollup$ BEGIN "
    PG_FACTS_INSERT_NEW
    PG_DOMAINS_INSERT_NEW
    "INSERT INTO signature_daily (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca, n) "
    " SELECT r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) FROM signature_new r "
    PG_FACT_JOIN
    " GROUP BY r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
    " ON CONFLICT (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca) DO UPDATE SET n = signature_daily.n + EXCLUDED.n; "
    "RETURN NULL; END $rollup$; "
    "CREATE TRIGGER signature_rollup AFTER INSERT ON signature REFERENCING NEW TABLE AS signature_new "
    " FOR EACH STATEMENT EXECUTE FUNCTION signature_rollup(); "
    "CREATE FUNCTION signature_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $rollup$ BEGIN "
    "UPDATE signature_daily s SET n = s.n - o.n FROM (SELECT r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) FROM signature_old r "
    PG_FACT_JOIN
    " GROUP BY r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca) o (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca, n) WHERE s.day = o.day AND s.fact_id = o.fact_id AND s.domain_id = o.domain_id AND s.result = o.result AND s.reason = o.reason AND s.digest_alg = o.digest_alg AND s.sig_alg = o.sig_alg AND s.client_family = o.client_family AND s.caa_issuemail = o.caa_issuemail AND s.caa_ca = o.caa_ca; "
    "DELETE FROM signature_daily s USING (SELECT r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) FROM signature_old r "
    PG_FACT_JOIN
    " GROUP BY r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca) o (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca, n) WHERE s.n <= 0 AND s.day = o.day AND s.fact_id = o.fact_id AND s.domain_id = o.domain_id AND s.result = o.result AND s.reason = o.reason AND s.digest_alg = o.digest_alg AND s.sig_alg = o.sig_alg AND s.client_family = o.client_family AND s.caa_issuemail = o.caa_issuemail AND s.caa_ca = o.caa_ca; "
    "RETURN NULL; END $rollup$; "
    "CREATE TRIGGER signature_rollup_delete AFTER DELETE ON signature REFERENCING OLD TABLE AS signature_old "
    " FOR EACH STATEMENT EXECUTE FUNCTION signature_rollup_delete(); "
    "CREATE FUNCTION signature_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $rollup$ BEGIN "
    "TRUNCATE signature_daily; RETURN NULL; END $rollup$; "
    "CREATE TRIGGER signature_rollup_truncate AFTER TRUNCATE ON signature "
    " FOR EACH STATEMENT EXECUTE FUNCTION signature_rollup_truncate(); "
    "INSERT INTO cert_facts (fact_key, cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs) SELECT DISTINCT encode(sha256(convert_to(concat_ws(chr(31), cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs), 'UTF8')), 'hex'), cert_id, issuer_dn, issuer_key_id, root_subject, policy_oid, cert_type, generation, findings, key_alg, validity_days, not_before_month, sbr_scope, cn_form, name_attrs FROM signature ORDER BY 1 ON CONFLICT (fact_key) DO NOTHING; "
    "INSERT INTO sender_domains (sender_domain) SELECT DISTINCT sender_domain FROM signature ORDER BY 1 ON CONFLICT (sender_domain) DO NOTHING; "
    "INSERT INTO signature_daily (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca, n) "
    " SELECT r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) FROM signature r "
    PG_FACT_JOIN
    " GROUP BY r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
    " ON CONFLICT (day, fact_id, domain_id, result, reason, digest_alg, sig_alg, client_family, caa_issuemail, caa_ca) DO UPDATE SET n = signature_daily.n + EXCLUDED.n " },
    /* 6: the roll-up per month as well (signature_monthly: signature_daily summed
     * by month), so that a report over whole months reads a month's rows, not
     * its days'; the report takes the days of a partial month from the daily
     * table.  SQLite keeps it from signature_daily by row triggers (the upsert's
     * DO UPDATE fires the update trigger); PostgreSQL in the same statement
     * triggers as the daily table, from the statement's grouped rows, once. */
    { NULL,
    "CREATE TABLE signature_monthly (month TEXT NOT NULL, fact_id BIGINT NOT NULL, domain_id BIGINT NOT NULL, "
    " result TEXT NOT NULL, reason TEXT NOT NULL, digest_alg TEXT NOT NULL, sig_alg TEXT NOT NULL, "
    " client_family TEXT NOT NULL, caa_issuemail TEXT NOT NULL, caa_ca TEXT NOT NULL, n BIGINT NOT NULL, "
    " UNIQUE (month, " ROLLUP_KEY ")); "
    "CREATE TRIGGER signature_daily_monthly_insert AFTER INSERT ON signature_daily BEGIN "
    " INSERT INTO signature_monthly (month, " ROLLUP_KEY ", n) VALUES (substr(NEW.day, 1, 7), NEW.fact_id, NEW.domain_id, NEW.result, NEW.reason, NEW.digest_alg, NEW.sig_alg, NEW.client_family, NEW.caa_issuemail, NEW.caa_ca, NEW.n) "
    " ON CONFLICT (month, " ROLLUP_KEY ") DO UPDATE SET n = n + excluded.n; "
    "END; "
    "CREATE TRIGGER signature_daily_monthly_update AFTER UPDATE OF n ON signature_daily BEGIN "
    " UPDATE signature_monthly SET n = n + NEW.n - OLD.n WHERE month = substr(NEW.day, 1, 7) AND fact_id = NEW.fact_id AND domain_id = NEW.domain_id AND result = NEW.result AND reason = NEW.reason AND digest_alg = NEW.digest_alg AND sig_alg = NEW.sig_alg AND client_family = NEW.client_family AND caa_issuemail = NEW.caa_issuemail AND caa_ca = NEW.caa_ca; "
    "END; "
    "CREATE TRIGGER signature_daily_monthly_delete AFTER DELETE ON signature_daily BEGIN "
    " UPDATE signature_monthly SET n = n - OLD.n WHERE month = substr(OLD.day, 1, 7) AND fact_id = OLD.fact_id AND domain_id = OLD.domain_id AND result = OLD.result AND reason = OLD.reason AND digest_alg = OLD.digest_alg AND sig_alg = OLD.sig_alg AND client_family = OLD.client_family AND caa_issuemail = OLD.caa_issuemail AND caa_ca = OLD.caa_ca; "
    " DELETE FROM signature_monthly WHERE n <= 0 AND month = substr(OLD.day, 1, 7) AND fact_id = OLD.fact_id AND domain_id = OLD.domain_id AND result = OLD.result AND reason = OLD.reason AND digest_alg = OLD.digest_alg AND sig_alg = OLD.sig_alg AND client_family = OLD.client_family AND caa_issuemail = OLD.caa_issuemail AND caa_ca = OLD.caa_ca; "
    "END; "
    "INSERT INTO signature_monthly (month, " ROLLUP_KEY ", n) SELECT substr(day, 1, 7), " ROLLUP_KEY ", sum(n) FROM signature_daily "
    " GROUP BY substr(day, 1, 7), " ROLLUP_KEY,
    "CREATE TABLE signature_monthly (month TEXT NOT NULL, fact_id BIGINT NOT NULL, domain_id BIGINT NOT NULL, "
    " result TEXT NOT NULL, reason TEXT NOT NULL, digest_alg TEXT NOT NULL, sig_alg TEXT NOT NULL, "
    " client_family TEXT NOT NULL, caa_issuemail TEXT NOT NULL, caa_ca TEXT NOT NULL, n BIGINT NOT NULL, "
    " UNIQUE (month, " ROLLUP_KEY ")); "
    "CREATE OR REPLACE FUNCTION signature_rollup() RETURNS trigger LANGUAGE plpgsql AS $rollup$ BEGIN "
    PG_FACTS_INSERT_NEW
    PG_DOMAINS_INSERT_NEW
    "WITH delta AS (SELECT r.day, f.id AS fact_id, d.id AS domain_id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) AS n FROM signature_new r "
    PG_FACT_JOIN
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "
    "daily AS (INSERT INTO signature_daily (day, " ROLLUP_KEY ", n) SELECT * FROM delta ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
    " ON CONFLICT (day, " ROLLUP_KEY ") DO UPDATE SET n = signature_daily.n + EXCLUDED.n) "
    "INSERT INTO signature_monthly (month, " ROLLUP_KEY ", n) SELECT substr(day, 1, 7), " ROLLUP_KEY ", sum(n) FROM delta "
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 "
    " ON CONFLICT (month, " ROLLUP_KEY ") DO UPDATE SET n = signature_monthly.n + EXCLUDED.n; "
    "RETURN NULL; END $rollup$; "
    /* the rows a DELETE took, grouped once into a table of the session (kept
     * across calls, emptied before each) for both roll-ups */
    "CREATE OR REPLACE FUNCTION signature_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $rollup$ BEGIN "
    "CREATE TEMP TABLE IF NOT EXISTS signature_gone (day TEXT, fact_id BIGINT, domain_id BIGINT, result TEXT, reason TEXT, digest_alg TEXT, sig_alg TEXT, client_family TEXT, caa_issuemail TEXT, caa_ca TEXT, n BIGINT); "
    "TRUNCATE signature_gone; "
    "INSERT INTO signature_gone SELECT r.day, f.id, d.id, r.result, r.reason, r.digest_alg, r.sig_alg, r.client_family, r.caa_issuemail, r.caa_ca, count(*) FROM signature_old r "
    PG_FACT_JOIN
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10; "
    "UPDATE signature_daily s SET n = s.n - o.n FROM signature_gone o WHERE s.day = o.day AND s.fact_id = o.fact_id AND s.domain_id = o.domain_id AND s.result = o.result AND s.reason = o.reason AND s.digest_alg = o.digest_alg AND s.sig_alg = o.sig_alg AND s.client_family = o.client_family AND s.caa_issuemail = o.caa_issuemail AND s.caa_ca = o.caa_ca; "
    "DELETE FROM signature_daily s USING signature_gone o WHERE s.n <= 0 AND s.day = o.day AND s.fact_id = o.fact_id AND s.domain_id = o.domain_id AND s.result = o.result AND s.reason = o.reason AND s.digest_alg = o.digest_alg AND s.sig_alg = o.sig_alg AND s.client_family = o.client_family AND s.caa_issuemail = o.caa_issuemail AND s.caa_ca = o.caa_ca; "
    "UPDATE signature_monthly s SET n = s.n - o.n FROM (SELECT substr(day, 1, 7) AS month, " ROLLUP_KEY ", sum(n) AS n FROM signature_gone GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10) o WHERE s.month = o.month AND s.fact_id = o.fact_id AND s.domain_id = o.domain_id AND s.result = o.result AND s.reason = o.reason AND s.digest_alg = o.digest_alg AND s.sig_alg = o.sig_alg AND s.client_family = o.client_family AND s.caa_issuemail = o.caa_issuemail AND s.caa_ca = o.caa_ca; "
    "DELETE FROM signature_monthly s USING (SELECT DISTINCT substr(day, 1, 7) AS month, " ROLLUP_KEY " FROM signature_gone) o WHERE s.n <= 0 AND s.month = o.month AND s.fact_id = o.fact_id AND s.domain_id = o.domain_id AND s.result = o.result AND s.reason = o.reason AND s.digest_alg = o.digest_alg AND s.sig_alg = o.sig_alg AND s.client_family = o.client_family AND s.caa_issuemail = o.caa_issuemail AND s.caa_ca = o.caa_ca; "
    "TRUNCATE signature_gone; "
    "RETURN NULL; END $rollup$; "
    "CREATE OR REPLACE FUNCTION signature_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $rollup$ BEGIN "
    "TRUNCATE signature_daily, signature_monthly; RETURN NULL; END $rollup$; "
    "INSERT INTO signature_monthly (month, " ROLLUP_KEY ", n) SELECT substr(day, 1, 7), " ROLLUP_KEY ", sum(n) FROM signature_daily "
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10" },
};

int smime_telemetry_migration_sql(int to_version, smime_telemetry_dialect dialect, char *out,
                                  size_t outlen)
{
    if (to_version < 1 || to_version > SMIME_TELEMETRY_SCHEMA_VERSION || outlen == 0 ||
        (dialect != SMIME_TELEMETRY_SQLITE && dialect != SMIME_TELEMETRY_POSTGRESQL))
        return -1;
    int pg = dialect == SMIME_TELEMETRY_POSTGRESQL;
    const struct migration *m = &migrations[to_version - 1];
    const char *src = m->both ? m->both : pg ? m->pg : m->sqlite;
    const char *id_column = pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
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
