#!/usr/bin/env python3
"""Synthetic telemetry: a month of signatures from a few thousand certificates of
several CAs, every type and generation, written straight into a database that
smime-telemetry created (schema 4).  Deterministic for a seed.

usage: synth.py DB SEED NCERTS CERT_PREFIX [MONTH]

Each certificate gets a CA, a type x generation (Legacy fading out by issuance
month), a key algorithm that changes over time, a validity period, a subject name
form, findings taken from the real lint IDs (CLS-LEGACY-SUNSET for a Legacy one
issued on or after 2025-07-15), a sender domain (one of 300, a keyed-hash-like
hex id) with a CAA outcome, and 1..30 signatures (a few busy senders send
hundreds) on days of MONTH.  Prints the numbers a test compares the report with."""
import random, sqlite3, sys

db, seed, ncerts, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
month = sys.argv[5] if len(sys.argv) > 5 else "2026-06"
rnd = random.Random(seed)
CAS = [("CN=Alpha S/MIME CA,O=Alpha,C=DE", "A1"), ("CN=Beta Mail CA 2024,O=Beta,C=US", "B2"),
       ("CN=Gamma Sponsor CA,O=Gamma,C=FR", "C3"), ("CN=Delta Legacy CA,O=Delta,C=NL", "D4"),
       ("CN=Epsilon Strict CA,O=Epsilon,C=CH", "E5")]
TYPES = ["mailbox", "organization", "sponsor", "individual"]
TNUM = {"mailbox": 1, "organization": 2, "sponsor": 3, "individual": 4}
GNUM = {"legacy": 1, "multipurpose": 2, "strict": 3}
ERRORS = ["KU-04", "VAL-02", "SAN-01", "SUBJ-CN-01", "EKU-02", "CRL-01"]
months = ["%04d-%02d" % (y, m) for y in range(2023, 2027) for m in range(1, 13)]
months = [m for m in months if "2023-09" <= m <= "2026-05"]
# CAA outcomes per sender domain, from a generator of their own so that the
# rest of the data stays what it was before schema 4
CAA = [("no-caa", "unrestricted")] * 4 + [("no-issuemail", "unrestricted"),
       ("issuemail", "authorized"), ("issuemail", "authorized"), ("issuemail", "not-authorized"),
       ("issuemail", "ca-not-mapped"), ("lookup-failed", "lookup-failed")]
caa_rnd = random.Random(seed + 1000)
con = sqlite3.connect(db)
rows = 0
legacy_after = 0
for i in range(ncerts):
    ca, kid = CAS[rnd.randrange(len(CAS))]
    nb = months[int(len(months) * (rnd.random() ** 0.7))]   # more recent issuance
    t = TYPES[rnd.choice([0, 0, 0, 1, 1, 2, 2, 3])]
    legacy_p = 0.7 if nb < "2024-09" else 0.35 if nb < "2025-07" else 0.1
    g = "legacy" if rnd.random() < legacy_p else rnd.choice(["multipurpose", "multipurpose", "strict"])
    if nb < "2024-06":
        key = rnd.choice(["RSA-2048", "RSA-2048", "RSA-3072", "EC-P256"])
    else:
        key = rnd.choice(["RSA-2048", "RSA-3072", "RSA-4096", "EC-P256", "EC-P256", "EC-P384", "Ed25519"])
    validity = rnd.choice([365, 397, 730, 825] + ([1095, 1185] if g == "legacy" else []))
    findings = set()
    if rnd.random() < 0.18:
        findings.add(rnd.choice(ERRORS))
    if g == "legacy" and nb >= "2025-07" and (nb > "2025-07" or rnd.random() < 0.5):
        findings.add("CLS-LEGACY-SUNSET")
        legacy_after += 1
    if t in ("sponsor", "organization") and rnd.random() < 0.3:
        cn_form, attrs = "mailbox", ""
    elif t == "mailbox":
        cn_form, attrs = rnd.choice([("mailbox", ""), ("mailbox", ""), ("absent", "")])
    else:
        cn_form, attrs = "name", rnd.choice(["givenName surname", "givenName surname", "pseudonym"])
    cert = "%s%060x" % (prefix, i)
    dom_i = caa_rnd.randrange(300)
    # keyed per relying party (the prefix stands for its key): two parties never
    # share a domain id, as with their own HMAC keys
    domain = "%s%062x" % (prefix[:2].ljust(2, "0"), dom_i * 2654435761 + 7)
    caa_issuemail, caa_ca = CAA[dom_i % len(CAA)]
    nsig = 300 if rnd.random() < 0.003 else 1 + int(rnd.random() ** 2 * 30)
    for _ in range(nsig):
        day = "%s-%02d" % (month, 1 + rnd.randrange(30))
        r = rnd.random()
        result, reason = ("pass", "ok") if r < 0.9 else ("policy", "from-mismatch") if r < 0.95 else ("fail", "expired")
        digest = rnd.choice(["SHA256", "SHA256", "SHA256", "SHA384", "SHA512"])
        sig = ("RSA-SHA256" if key.startswith("RSA") else "ECDSA-SHA256" if key.startswith("EC") else "Ed25519")
        con.execute("INSERT INTO signature (day, result, reason, issuer_dn, issuer_key_id, root_subject,"
                    " policy_oid, cert_type, generation, findings, key_alg, digest_alg, sig_alg,"
                    " validity_days, not_before_month, sbr_scope, scope_flags, client_family,"
                    " sender_domain, cert_id, cn_form, name_attrs, caa_issuemail, caa_ca) VALUES"
                    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (day, result, reason, ca, kid, "CN=Synthetic Root,O=Synth", "2.23.140.1.5.%d.%d" % (TNUM[t], GNUM[g]),
                     t, g, " ".join(sorted(findings)), key, digest, sig, validity, nb, "sbr", 7,
                     rnd.choice(["Thunderbird", "Outlook", "Outlook", "Apple Mail"]), domain, cert, cn_form, attrs,
                     caa_issuemail, caa_ca))
        rows += 1
con.commit()
print("synth: %d certificates, %d signatures, %d Legacy after the sunset" % (ncerts, rows, legacy_after))
