#!/usr/bin/env python3
"""Regenerate openssl.json: AES-XTS known answers computed by OpenSSL (through
python3-cryptography), an implementation independent of golang.org/x/crypto,
for the sizes and tweaks internal/xts cares about. Deterministic: a seeded
PRNG makes keys and plaintexts. Run from this directory."""
import json
import random
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

rng = random.Random(1619)
cases = [  # key bytes, sector, length
    (32, 0, 16),
    (32, 0xFD, 512),
    (32, 7, 8192),
    (64, 1, 48),
    (64, 0xFFFFFFFFFF, 512),
    (64, 0x123456789A, 4144),
    (64, 2**64 - 1, 4096),
]
out = []
for i, (klen, sector, n) in enumerate(cases):
    key = bytes(rng.getrandbits(8) for _ in range(klen))
    pt = bytes(rng.getrandbits(8) for _ in range(n))
    iv = struct.pack("<QQ", sector, 0)
    enc = Cipher(algorithms.AES(key), modes.XTS(iv)).encryptor()
    ct = enc.update(pt) + enc.finalize()
    out.append(dict(name="openssl %d: AES-%d-XTS, %d bytes, sector %#x" % (i, klen * 4, n, sector),
                    key=key.hex(), sector=sector, plaintext=pt.hex(), ciphertext=ct.hex()))
with open("openssl.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
