/* x509 - certificate decoding into spans (see include/smime/crypto/x509.h). */
#include "smime/crypto/x509.h"

#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errsz, const char *what)
{
    if (errsz)
        snprintf(err, errsz, "%s", what);
    return -1;
}

static int parse_alg(smime_span tlv, smime_span *oid, smime_span *params)
{
    smime_der_tlv seq, o, p;
    smime_der_reader r;
    if (smime_der_parse_one(tlv, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, seq.val);
    if (smime_der_expect(&r, SMIME_DER_OID, &o) != 0)
        return -1;
    *oid = o.val;
    params->p = NULL;
    params->len = 0;
    int rc = smime_der_next(&r, &p);
    if (rc < 0)
        return -1;
    if (rc == 1)
        *params = p.tlv;
    return smime_der_at_end(&r) ? 0 : -1;
}

static int parse_time(smime_der_reader *r, unsigned *tag, smime_span *raw, int64_t *t, int *form)
{
    smime_der_tlv v;
    if (smime_der_next(r, &v) != 1)
        return -1;
    int rc = smime_der_time(v.tag, v.val, t);
    if (rc < 0)
        return -1;
    *tag = v.tag;
    *raw = v.val;
    *form = rc;
    return 0;
}

static int parse_extensions(smime_span seq_val, smime_x509 *c, char *err, size_t errsz)
{
    smime_der_reader r;
    smime_der_tlv e;
    int rc;
    smime_der_reader_init(&r, seq_val);
    while ((rc = smime_der_next(&r, &e)) == 1) {
        smime_der_tlv oid, crit, val;
        smime_der_reader er;
        if (e.tag != SMIME_DER_SEQUENCE)
            return fail(err, errsz, "extension is not a SEQUENCE");
        if (c->next == SMIME_X509_MAX_EXT)
            return fail(err, errsz, "too many extensions");
        smime_der_reader_init(&er, e.val);
        if (smime_der_expect(&er, SMIME_DER_OID, &oid) != 0 || !smime_der_oid_valid(oid.val))
            return fail(err, errsz, "extension OID malformed");
        smime_x509_ext *x = &c->ext[c->next];
        x->oid = oid.val;
        x->critical = 0;
        int o = smime_der_optional(&er, SMIME_DER_BOOLEAN, &crit);
        if (o < 0)
            return fail(err, errsz, "extension critical flag malformed");
        if (o == 1) {
            int b = smime_der_bool(crit.val);
            if (b < 0)
                return fail(err, errsz, "extension critical flag is not a DER BOOLEAN");
            /* DER forbids encoding the DEFAULT FALSE; common enough in the wild to
             * report it and go on linting rather than refuse the certificate. */
            if (b == 0)
                c->critical_false_encoded = 1;
            x->critical = b;
        }
        if (smime_der_expect(&er, SMIME_DER_OCTET_STRING, &val) != 0 || !smime_der_at_end(&er))
            return fail(err, errsz, "extension value malformed");
        x->value = val.val;
        c->next++;
    }
    if (rc < 0)
        return fail(err, errsz, "extensions malformed");
    if (c->next == 0)
        return fail(err, errsz, "extensions field present but empty");
    return 0;
}

int smime_x509_parse(const uint8_t *der, size_t len, smime_x509 *c, char *err, size_t errsz)
{
    memset(c, 0, sizeof(*c));
    if (errsz)
        err[0] = '\0';
    smime_span all = { der, len };
    smime_der_tlv cert, tbs, alg, sig, t;
    smime_der_reader r, tr;
    if (der == NULL || smime_der_parse_one(all, &cert) != 0 || cert.tag != SMIME_DER_SEQUENCE)
        return fail(err, errsz, "not a DER certificate (outer SEQUENCE)");
    if (smime_der_validate(cert.val) != 0)
        return fail(err, errsz, "DER framing error inside the certificate");
    c->der = all;
    smime_der_reader_init(&r, cert.val);
    if (smime_der_expect(&r, SMIME_DER_SEQUENCE, &tbs) != 0
        || smime_der_expect(&r, SMIME_DER_SEQUENCE, &alg) != 0
        || smime_der_expect(&r, SMIME_DER_BIT_STRING, &sig) != 0 || !smime_der_at_end(&r))
        return fail(err, errsz, "certificate is not tbsCertificate, signatureAlgorithm, signature");
    c->tbs = tbs.tlv;
    c->sig_alg = alg.tlv;
    c->sig_value = sig.val;
    smime_der_reader_init(&tr, tbs.val);
    c->version = 1;
    int o = smime_der_optional(&tr, SMIME_DER_CTXC(0), &t);
    if (o < 0)
        return fail(err, errsz, "version malformed");
    if (o == 1) {
        smime_der_tlv v;
        int64_t vv;
        if (smime_der_parse_one(t.val, &v) != 0 || v.tag != SMIME_DER_INTEGER
            || smime_der_int_i64(v.val, &vv) != 0)
            return fail(err, errsz, "version malformed");
        c->version = vv <= 2 ? (int)vv + 1 : 0;
        c->version_default_encoded = vv == 0;
    }
    if (smime_der_expect(&tr, SMIME_DER_INTEGER, &t) != 0 || t.val.len == 0)
        return fail(err, errsz, "serialNumber missing or malformed");
    c->serial = t.val;
    smime_span dummy_oid, dummy_params;
    if (smime_der_expect(&tr, SMIME_DER_SEQUENCE, &t) != 0
        || parse_alg(t.tlv, &dummy_oid, &dummy_params) != 0)
        return fail(err, errsz, "tbsCertificate.signature malformed");
    c->tbs_sig_alg = t.tlv;
    if (smime_der_expect(&tr, SMIME_DER_SEQUENCE, &t) != 0)
        return fail(err, errsz, "issuer malformed");
    c->issuer = t.tlv;
    if (smime_der_expect(&tr, SMIME_DER_SEQUENCE, &t) != 0)
        return fail(err, errsz, "validity malformed");
    smime_der_reader vr;
    smime_der_reader_init(&vr, t.val);
    if (parse_time(&vr, &c->not_before_tag, &c->not_before_raw, &c->not_before, &c->not_before_form)
        || parse_time(&vr, &c->not_after_tag, &c->not_after_raw, &c->not_after, &c->not_after_form)
        || !smime_der_at_end(&vr))
        return fail(err, errsz, "validity times unreadable");
    if (smime_der_expect(&tr, SMIME_DER_SEQUENCE, &t) != 0)
        return fail(err, errsz, "subject malformed");
    c->subject = t.tlv;
    if (smime_der_expect(&tr, SMIME_DER_SEQUENCE, &t) != 0)
        return fail(err, errsz, "subjectPublicKeyInfo malformed");
    c->spki = t.tlv;
    {
        smime_der_reader sr;
        smime_der_tlv a, k;
        smime_der_reader_init(&sr, t.val);
        if (smime_der_expect(&sr, SMIME_DER_SEQUENCE, &a) != 0
            || parse_alg(a.tlv, &c->spki_alg_oid, &c->spki_params) != 0
            || smime_der_expect(&sr, SMIME_DER_BIT_STRING, &k) != 0 || !smime_der_at_end(&sr))
            return fail(err, errsz, "subjectPublicKeyInfo malformed");
        c->spki_alg = a.tlv;
        c->spki_key_ok = k.val.len >= 1 && k.val.p[0] == 0;
        c->spki_key.p = k.val.p + (k.val.len ? 1 : 0);
        c->spki_key.len = k.val.len ? k.val.len - 1 : 0;
    }
    if ((o = smime_der_optional(&tr, SMIME_DER_CTX(1), &t)) < 0)
        return fail(err, errsz, "issuerUniqueID malformed");
    c->has_issuer_uid = o;
    if ((o = smime_der_optional(&tr, SMIME_DER_CTX(2), &t)) < 0)
        return fail(err, errsz, "subjectUniqueID malformed");
    c->has_subject_uid = o;
    if ((o = smime_der_optional(&tr, SMIME_DER_CTXC(3), &t)) < 0)
        return fail(err, errsz, "extensions malformed");
    if (o == 1) {
        smime_der_tlv seq;
        if (smime_der_parse_one(t.val, &seq) != 0 || seq.tag != SMIME_DER_SEQUENCE)
            return fail(err, errsz, "extensions malformed");
        c->has_extensions = 1;
        if (parse_extensions(seq.val, c, err, errsz) != 0)
            return -1;
    }
    if (!smime_der_at_end(&tr))
        return fail(err, errsz, "unexpected data after the extensions");
    return 0;
}

const smime_x509_ext *smime_x509_ext_find(const smime_x509 *c, const char *oid, size_t oid_len)
{
    for (size_t i = 0; i < c->next; i++)
        if (smime_der_oid_eq(c->ext[i].oid, oid, oid_len))
            return &c->ext[i];
    return NULL;
}

int smime_name_parse(smime_span name_tlv, smime_name *out)
{
    smime_der_tlv name, rdn, atv, oid, val;
    smime_der_reader r, rr, ar;
    int rc;
    out->n = 0;
    out->rdns = 0;
    if (smime_der_parse_one(name_tlv, &name) != 0 || name.tag != SMIME_DER_SEQUENCE)
        return -1;
    smime_der_reader_init(&r, name.val);
    while ((rc = smime_der_next(&r, &rdn)) == 1) {
        if (rdn.tag != SMIME_DER_SET || rdn.val.len == 0)
            return -1;
        size_t first = out->n;
        smime_der_reader_init(&rr, rdn.val);
        while ((rc = smime_der_next(&rr, &atv)) == 1) {
            if (atv.tag != SMIME_DER_SEQUENCE || out->n == SMIME_NAME_MAX_ATTRS)
                return -1;
            smime_der_reader_init(&ar, atv.val);
            if (smime_der_expect(&ar, SMIME_DER_OID, &oid) != 0 || smime_der_next(&ar, &val) != 1
                || !smime_der_at_end(&ar) || !smime_der_oid_valid(oid.val))
                return -1;
            smime_name_attr *a = &out->a[out->n++];
            a->oid = oid.val;
            a->tag = val.tag;
            a->value = val.val;
            a->rdn = out->rdns;
            a->multi = 0;
        }
        if (rc < 0)
            return -1;
        if (out->n - first > 1)
            for (size_t i = first; i < out->n; i++)
                out->a[i].multi = 1;
        out->rdns++;
    }
    return rc < 0 ? -1 : 0;
}
