#!/usr/bin/env python3
"""Independent check of the NVMe/TCP digests and layout our builders emit.

Runs proto_pdu_dump, then recomputes every header and data digest with a bitwise CRC32C
written here (not ISA-L, not the C code under test) and checks where the spec puts them:
HDGST over the header right after it, PAD up to the receiver's alignment, DDGST over the
data right after it, all little-endian. The CRC itself is first checked against the
standard check value and the RFC 3720 vectors."""
import struct
import subprocess
import sys

POLY = 0x82F63B78  # CRC32C, reflected


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (POLY if c & 1 else 0)
        t.append(c)
    return t


TABLE = _table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def self_test():
    assert crc32c(b"123456789") == 0xE3069283
    assert struct.pack("<I", crc32c(bytes(32))) == bytes([0xAA, 0x36, 0x91, 0x8A])
    assert struct.pack("<I", crc32c(b"\xff" * 32)) == bytes([0x43, 0xAB, 0xA8, 0x62])
    assert struct.pack("<I", crc32c(bytes(range(32)))) == bytes([0x4E, 0x79, 0xDD, 0x46])
    assert struct.pack("<I", crc32c(bytes(range(31, -1, -1)))) == bytes([0x5C, 0xDB, 0x3F, 0x11])


HLEN = {0: 128, 1: 128, 2: 24, 3: 24, 4: 72, 5: 24, 6: 24, 7: 24, 9: 24}
PDAS = (0, 3, 15, 31)


def check(cfg: int, pdu: bytes) -> str:
    established = bool(cfg & 0x02)
    hdgst_on = established and bool(cfg & 0x04)
    ddgst_on = established and bool(cfg & 0x08)
    align = (PDAS[(cfg >> 4) & 3] + 1) * 4
    ptype, flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", pdu, 0)
    if ptype not in HLEN or hlen != HLEN[ptype]:
        return f"type {ptype} hlen {hlen}"
    if plen != len(pdu):
        return f"PLEN {plen} but {len(pdu)} bytes"
    plain = ptype <= 3
    hd = hdgst_on and not plain
    if bool(flags & 1) != hd:
        return "HDGSTF wrong"
    hdr_end = hlen + (4 if hd else 0)
    if hd and pdu[hlen:hlen + 4] != struct.pack("<I", crc32c(pdu[:hlen])):
        return "header digest wrong"
    if ptype in (2, 3):
        return "" if pdo == 0 and plen <= 152 else "TermReq layout"
    if plen == hdr_end:
        return "" if ptype not in (6, 7) else "data PDU without data"
    want_pdo = -(-hdr_end // align) * align
    if pdo != want_pdo:
        return f"PDO {pdo}, expected {want_pdo}"
    if any(pdu[hdr_end:pdo]):
        return "PAD not zero"
    dd = ddgst_on
    if bool(flags & 2) != dd:
        return "DDGSTF wrong"
    data = pdu[pdo:plen - (4 if dd else 0)]
    if ptype in (6, 7) and struct.unpack_from("<I", pdu, 16)[0] != len(data):
        return "DATAL disagrees with the data"
    if dd and pdu[-4:] != struct.pack("<I", crc32c(data)):
        return "data digest wrong"
    return ""


def main():
    self_test()
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    n = bad = 0
    seen = set()
    for line in out.splitlines():
        cfg_hex, pdu_hex = line.split()
        cfg, pdu = int(cfg_hex, 16), bytes.fromhex(pdu_hex)
        why = check(cfg, pdu)
        n += 1
        seen.add((pdu[0], bool(pdu[1] & 1), bool(pdu[1] & 2)))
        if why:
            bad += 1
            print(f"config {cfg:#04x} type {pdu[0]}: {why}")
    types = {t for t, _, _ in seen}
    print(f"{n} PDUs checked, {bad} wrong, types {sorted(types)}, "
          f"{sum(1 for _, h, _ in seen if h)} type/flag combinations with HDGST, "
          f"{sum(1 for _, _, d in seen if d)} with DDGST")
    if types != set(HLEN) or not any(h for _, h, _ in seen) or not any(d for _, _, d in seen):
        print("not every PDU type and digest was exercised")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
