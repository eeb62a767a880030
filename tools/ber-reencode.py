#!/usr/bin/env python3
"""ber-reencode.py -- rewrites a DER CMS SignedData ContentInfo in BER.

    python3 tools/ber-reencode.py [--outer-only] IN.der OUT.ber

The output is the same abstract value in the encodings real clients use and DER
forbids (X.690 8.1.3.6, 8.7.3):
  * every constructed element of the envelope gets the indefinite length form
    (ends with 00 00), some nested inside definite ones;
  * every primitive OCTET STRING of the envelope (the encapsulated content, the
    signature value) becomes a constructed OCTET STRING of nested pieces of
    uneven sizes, as NSS writes it, only deeper;
  * OIDs and INTEGERs get non-minimal definite lengths (81 nn, 82 00 nn).
What a signature covers is copied byte for byte, as a real BER writer keeps it:
the certificates and CRLs (signed over their own DER), the signer identifier
(compared with the certificate's issuer and serial number) and the signed
attributes (RFC 5652 5.3: always DER, because the signature is over their DER).

--outer-only changes nothing but the length of the outer ContentInfo SEQUENCE to
the indefinite form: the one-line attack of issue 13 (30 82 LL LL -> 30 80 ...
00 00), which needs no key.

Standard library only.  The input must be DER (definite lengths); nesting is
capped, so a hostile input cannot recurse without bound.
"""
import sys

MAX_DEPTH = 64


class Tlv:
    __slots__ = ("tag", "constructed", "content", "children", "raw")

    def __init__(self, tag, constructed, content, raw):
        self.tag = tag              # the identifier octets, as bytes
        self.constructed = constructed
        self.content = content      # content octets, as bytes
        self.children = None        # list of Tlv, for constructed elements
        self.raw = raw              # the whole DER encoding


def parse_one(buf, pos, depth):
    """One DER TLV at buf[pos:]; returns (Tlv, next position)."""
    if depth > MAX_DEPTH:
        raise ValueError("nesting deeper than %d" % MAX_DEPTH)
    start = pos
    if pos >= len(buf):
        raise ValueError("truncated tag at %d" % pos)
    first = buf[pos]
    pos += 1
    if first & 0x1F == 0x1F:           # high tag number: base-128 octets follow
        while True:
            if pos >= len(buf):
                raise ValueError("truncated tag at %d" % start)
            b = buf[pos]
            pos += 1
            if not b & 0x80:
                break
    tag = bytes(buf[start:pos])
    if pos >= len(buf):
        raise ValueError("truncated length at %d" % pos)
    lb = buf[pos]
    pos += 1
    if lb == 0x80:
        raise ValueError("indefinite length at %d: the input must be DER" % start)
    if lb & 0x80:
        n = lb & 0x7F
        if n > 4 or pos + n > len(buf):
            raise ValueError("bad length at %d" % start)
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    else:
        length = lb
    if pos + length > len(buf):
        raise ValueError("element at %d runs past the end" % start)
    content = bytes(buf[pos:pos + length])
    t = Tlv(tag, bool(first & 0x20), content, bytes(buf[start:pos + length]))
    if t.constructed:
        t.children = []
        p = 0
        while p < len(content):
            child, p = parse_one(content, p, depth + 1)
            t.children.append(child)
    return t, pos + length


def def_len(n, extra=0):
    """Definite length octets for n; extra > 0 adds leading zero octets (non-minimal)."""
    if n < 0x80 and extra == 0:
        return bytes([n])
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    body = b"\x00" * max(0, extra - 1) + body
    return bytes([0x80 | len(body)]) + body


def indef(tag, parts):
    """A constructed element with indefinite length: tag (constructed bit set), 80, parts, 00 00."""
    t = bytes([tag[0] | 0x20]) + tag[1:]
    return t + b"\x80" + b"".join(parts) + b"\x00\x00"


def nonminimal(t, extra):
    return t.tag + def_len(len(t.content), extra) + t.content


def chunked_octets(data, tag=b"\x04"):
    """An OCTET STRING (or one implicitly tagged as tag) as nested constructed
    pieces of uneven sizes: [ [a b] c [ d (definite, non-minimal) ] rest... ]."""
    if len(data) < 4:
        return indef(tag, [b"\x04" + def_len(len(data)) + data])
    sizes = [1, max(1, len(data) // 7), 3, max(1, len(data) // 3)]
    pieces, pos = [], 0
    for s in sizes:
        if pos >= len(data):
            break
        pieces.append(data[pos:pos + s])
        pos += s
    while pos < len(data):                     # the rest in pieces of 1000 bytes
        pieces.append(data[pos:pos + 1000])
        pos += 1000
    prim = [b"\x04" + def_len(len(p)) + p for p in pieces]
    out = []
    if len(prim) >= 2:                         # two pieces nested one level deeper
        out.append(indef(b"\x24", prim[:2]))
        prim = prim[2:]
    if prim:
        out.append(prim.pop(0))
    if prim:                                   # one nested piece with a definite, non-minimal length
        inner = prim.pop(0)
        out.append(b"\x24" + def_len(len(inner), 2) + inner)
    if prim:                                   # and the rest two levels deeper
        out.append(indef(b"\x24", [indef(b"\x24", prim)]))
    return indef(tag, out)


def generic(t):
    """Any element of the envelope: constructed -> indefinite, OID/INTEGER -> non-minimal."""
    if t.constructed:
        return indef(t.tag, [generic(c) for c in t.children])
    if t.tag == b"\x04":
        return chunked_octets(t.content)
    if t.tag in (b"\x02", b"\x06"):
        return nonminimal(t, 2 if t.tag == b"\x06" else 1)
    return t.raw


def signer_info(si):
    # version, sid, digestAlgorithm, [0] signedAttrs?, signatureAlgorithm,
    # signature, [1] unsignedAttrs?
    out = []
    for i, c in enumerate(si.children):
        if i == 1 or c.tag in (b"\xa0", b"\xa1"):
            out.append(c.raw)                  # sid, signed and unsigned attributes: as signed
        else:
            out.append(generic(c))
    return indef(si.tag, out)


def signed_data(sd):
    out = []
    for c in sd.children:
        if c.tag in (b"\xa0", b"\xa1"):        # certificates, crls: each one as issued
            out.append(indef(c.tag, [x.raw for x in c.children]))
        elif c.tag == b"\x31" and c is sd.children[-1]:
            out.append(indef(c.tag, [signer_info(si) for si in c.children]))
        elif c.tag == b"\x30":                 # encapContentInfo
            parts = [generic(c.children[0])]
            for x in c.children[1:]:
                # [0] EXPLICIT eContent OCTET STRING
                parts.append(indef(x.tag, [chunked_octets(y.content) if y.tag == b"\x04" else generic(y)
                                           for y in x.children]))
            out.append(indef(c.tag, parts))
        else:
            out.append(generic(c))
    return indef(sd.tag, out)


def main(argv):
    outer_only = False
    if argv and argv[0] == "--outer-only":
        outer_only = True
        argv = argv[1:]
    if len(argv) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    with open(argv[0], "rb") as f:
        der = f.read()
    ci, end = parse_one(der, 0, 0)
    if end != len(der):
        raise ValueError("bytes after the ContentInfo")
    if ci.tag != b"\x30" or len(ci.children) != 2 or ci.children[1].tag != b"\xa0":
        raise ValueError("not a ContentInfo")
    if outer_only:
        ber = indef(ci.tag, [c.raw for c in ci.children])
    else:
        explicit = ci.children[1]
        if len(explicit.children) != 1 or explicit.children[0].tag != b"\x30":
            raise ValueError("ContentInfo content is not a SEQUENCE")
        ber = indef(ci.tag, [generic(ci.children[0]),
                             indef(explicit.tag, [signed_data(explicit.children[0])])])
    with open(argv[1], "wb") as f:
        f.write(ber)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError) as e:
        sys.stderr.write("ber-reencode: %s\n" % e)
        sys.exit(1)
