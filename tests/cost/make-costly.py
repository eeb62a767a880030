#!/usr/bin/env python3
"""Builds the messages of the cost tests (tests/check-cost.sh): small messages that
would buy far more CPU or memory than their size if a cap of the cost model did not
hold.  Each is made with OpenSSL from a key made here.

  make-costly.py DIR [SCALE [CLASS...]]

SCALE (default 1) multiplies the sizes; 1 keeps every message a few MB at most.
CLASS names limit what is made (default: all).
Writes DIR/<class>.eml and prints one line per message: class, bytes.
"""
import base64
import os
import quopri
import random
import subprocess
import sys

OUT = sys.argv[1]
SCALE = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
ONLY = set(sys.argv[3:])
os.makedirs(OUT, exist_ok=True)


def wanted(name):
    return not ONLY or name in ONLY
CRLF = b"\r\n"


def run(*args, data=None):
    return subprocess.run(args, input=data, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout


def key_and_cert(name, bits, exponent):
    key, crt = os.path.join(OUT, name + ".key"), os.path.join(OUT, name + ".pem")
    if not os.path.exists(crt):
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % bits,
            "-pkeyopt", "rsa_keygen_pubexp:%d" % exponent, "-out", key)
        run("openssl", "req", "-x509", "-new", "-key", key, "-out", crt, "-days", "3650",
            "-subj", "/CN=Cost Test/emailAddress=cost@example.com",
            "-addext", "subjectAltName=email:cost@example.com",
            "-addext", "keyUsage=critical,digitalSignature",
            "-addext", "extendedKeyUsage=emailProtection")
    return key, crt


def detached_sig(content, key, crt, signers):
    path = os.path.join(OUT, "content.tmp")
    with open(path, "wb") as f:
        f.write(content)
    # -nocerts with -certfile: the certificate once, however many SignerInfos use it
    args = ["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-in", path, "-md", "sha256",
            "-nocerts", "-certfile", crt]
    for _ in range(signers):
        args += ["-signer", crt, "-inkey", key]
    der = run(*args)
    os.unlink(path)
    return der


def b64(der):
    text = base64.encodebytes(der).replace(b"\n", CRLF)
    return text


def multipart_signed(inner, der, boundary):
    return (b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
            b"micalg=sha-256; boundary=\"" + boundary + b"\"" + CRLF + CRLF +
            b"--" + boundary + CRLF + inner + CRLF +
            b"--" + boundary + CRLF +
            b"Content-Type: application/pkcs7-signature; name=smime.p7s" + CRLF +
            b"Content-Transfer-Encoding: base64" + CRLF + CRLF + b64(der) +
            b"--" + boundary + b"--" + CRLF)


HEAD = (b"From: cost@example.com" + CRLF + b"To: rcpt@example.com" + CRLF +
        b"Subject: cost test" + CRLF + b"MIME-Version: 1.0" + CRLF)


def text_part(n):
    line = b"The quick brown fox jumps over the lazy dog 0123456789." + CRLF
    return b"Content-Type: text/plain" + CRLF + CRLF + line * max(1, n // len(line))


def write(name, data):
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)
    print(name, len(data))


random.seed(7)
# COST_RSA_BITS / COST_EXPONENT_BITS make the measurements of the sizes.
exp_bits = int(os.environ.get("COST_EXPONENT_BITS", "1000"))
big_e = random.getrandbits(exp_bits) | 1 | (1 << (exp_bits - 1))
bkey, bcrt = key_and_cert("bigexp", int(os.environ.get("COST_RSA_BITS", "2048")), big_e)
nkey, ncrt = key_and_cert("plain", 2048, 65537)

# 1. many signed parts x many SignerInfos, by a key whose exponent makes every
#    verification ~60 times dearer: 32 x 32 = 1,024 signatures.
if wanted("many-signatures"):
    parts, signers = 32, 32
    inner = text_part(200)
    der = detached_sig(inner, bkey, bcrt, signers)
    body = b""
    for i in range(parts):
        body += b"--outer" + CRLF + multipart_signed(inner, der, b"s%d" % i) + CRLF
    write("many-signatures", HEAD + b"Content-Type: multipart/mixed; boundary=\"outer\"" + CRLF + CRLF +
          body + b"--outer--" + CRLF)

# 2. nested multipart/signed, every level signed by many SignerInfos over all the
#    levels inside it: each SignerInfo hashes the nested content again.
if wanted("nested-signed"):
    levels, signers = 32, 32
    entity = text_part(int(200000 * SCALE))
    for k in range(levels):
        entity = multipart_signed(entity, detached_sig(entity, nkey, ncrt, signers), b"n%d" % k)
    write("nested-signed", HEAD + entity)

# 3. nested message/rfc822 parts, each quoted-printable encoded: every level is
#    decoded and parsed again while the outer copies live.
#    Encoded as text (LF line ends, CRLF on the wire), as a mail client would.
if wanted("nested-qp-rfc822"):
    levels = 31
    msg = (HEAD + text_part(int(120000 * SCALE))).replace(CRLF, b"\n")
    for k in range(levels):
        msg = (HEAD.replace(CRLF, b"\n") + b"Content-Type: message/rfc822\n" +
               b"Content-Transfer-Encoding: quoted-printable\n\n" + quopri.encodestring(msg))
    write("nested-qp-rfc822", msg.replace(b"\n", CRLF))

# 4. one multipart with a million empty parts: GMime would build them all.
if wanted("million-parts"):
    count = int(1000000 * SCALE)
    write("million-parts", HEAD + b"Content-Type: multipart/mixed; boundary=\"x\"" + CRLF + CRLF +
          (b"--x" + CRLF + CRLF) * count + b"--x--" + CRLF)
