#!/usr/bin/env python3
"""berify.py IN.der OUT.ber -- writes a BER twin of a DER file, as NSS would:
every constructed element gets an indefinite length, every OCTET STRING longer
than 16 octets becomes 16-octet segments (every other one nested once more), and
every other primitive length takes a non-minimal 4-octet form.  Seeds the CMS
fuzz targets with BER as well as DER.  Exits 1 on input that is not DER."""
import sys


def elements(b, i, end):
    while i < end:
        tag = b[i]
        n = b[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7f
            if k == 0 or i + k > end:
                raise ValueError("not DER")
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        if i + n > end:
            raise ValueError("not DER")
        yield tag, b[i:i + n]
        i += n


def berify(b):
    out = bytearray()
    for tag, val in elements(b, 0, len(b)):
        if tag & 0x20:
            out += bytes([tag, 0x80]) + berify(val) + b"\0\0"
        elif tag == 0x04 and len(val) > 16:
            out += b"\x24\x80"
            for k, i in enumerate(range(0, len(val), 16)):
                seg = bytes([0x04, len(val[i:i + 16])]) + val[i:i + 16]
                out += b"\x24\x80" + seg + b"\0\0" if k % 2 else seg
            out += b"\0\0"
        else:
            out += bytes([tag, 0x84]) + len(val).to_bytes(4, "big") + val
    return bytes(out)


def main():
    data = open(sys.argv[1], "rb").read()
    try:
        ber = berify(data)
    except (ValueError, IndexError):
        return 1
    open(sys.argv[2], "wb").write(ber)
    return 0


if __name__ == "__main__":
    sys.exit(main())
