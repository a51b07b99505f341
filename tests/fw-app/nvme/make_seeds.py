#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_commands: records [queue][flags][SQE 64][len u16][data].
Queues: 0 admin, 1 I/O, 2 discovery, 3 unconnected. Run from this folder: ./make_seeds.py"""
import os
import struct

HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
SUBNQN = b"nqn.2026-11.dev.insitu:csd"
TRANSPORT, INCAPSULE = 0x5A, 0x01


def sqe(opc, cid, nsid=0, cdw=(0,) * 6, sgl_len=0, sgl_type=TRANSPORT, flags=0x40):
    head = struct.pack("<BBHI", opc, flags, cid, nsid) + bytes(16)
    sgl = struct.pack("<QI3xB", 0, sgl_len, sgl_type if sgl_len else 0)
    return head + sgl + struct.pack("<6I", *cdw)


def rec(queue, s, data=b"", flags=0):
    assert len(s) == 64
    return bytes([queue, flags]) + s + struct.pack("<H", len(data)) + data


def tick(ms):
    return rec(0, struct.pack("<I", ms) + bytes(60), flags=0x80)


def connect(cid, qid, sqsize, cntlid, subnqn):
    s = bytearray(sqe(0x7F, cid, sgl_len=1024, sgl_type=INCAPSULE))
    s[4] = 0x01
    struct.pack_into("<HHHBxI", s, 40, 0, qid, sqsize, 0, 5000)
    d = bytearray(1024)
    d[0] = 0x42
    struct.pack_into("<H", d, 16, cntlid)
    d[256:256 + len(subnqn)] = subnqn
    d[512:512 + len(HOSTNQN)] = HOSTNQN
    return bytes(s), bytes(d)


def rw(opc, cid, slba, nlb, fua=False):
    cdw = (slba & 0xFFFFFFFF, slba >> 32, (nlb - 1) | (1 << 30 if fua else 0), 0, 0, 0)
    return sqe(opc, cid, 1, cdw, nlb * 4096)


def getlog(cid, lid, length, lpo=0, nsid=0):
    numd = length // 4 - 1
    return sqe(0x02, cid, nsid, (lid | (numd & 0xFFFF) << 16, numd >> 16, lpo, 0, 0, 0), length)


seeds = {}
blk = bytes(range(256)) * 16
seeds["identify-logs"] = b"".join([
    rec(0, sqe(0x06, 1, 0, (1, 0, 0, 0, 0, 0), 4096)),
    rec(0, sqe(0x06, 2, 1, (0, 0, 0, 0, 0, 0), 4096)),
    rec(0, sqe(0x06, 3, 1, (3, 0, 0, 0, 0, 0), 4096)),
    rec(0, getlog(4, 0x02, 512, nsid=0xFFFFFFFF)),
    rec(0, getlog(5, 0x01, 4096)),
    rec(0, getlog(6, 0x05, 4096)),
    rec(0, getlog(7, 0xC1, 512)),
])
seeds["write-read"] = b"".join([
    rec(1, rw(0x01, 10, 8, 1), blk),
    rec(1, rw(0x01, 11, 9, 1, fua=True), blk),
    rec(1, rw(0x02, 12, 8, 2)),
    rec(1, sqe(0x00, 13, 1)),
    rec(1, sqe(0x08, 14, 1, (8, 0, 1 | (1 << 25), 0, 0, 0))),
    rec(1, sqe(0x09, 15, 1, (1, 4, 0, 0, 0, 0), 32, INCAPSULE),
        struct.pack("<IIQ", 0, 2, 8) + struct.pack("<IIQ", 0, 1, 100)),
    rec(1, rw(0x02, 16, 1 << 40, 1)),
])
seeds["aer-keepalive"] = b"".join(
    [rec(0, sqe(0x0C, 20 + i)) for i in range(6)] +
    [rec(0, sqe(0x18, 30)), tick(3000), tick(3000), rec(1, sqe(0x00, 31, 1))])
seeds["features-props"] = b"".join([
    rec(0, sqe(0x0A, 40, 0, (0x07, 0, 0, 0, 0, 0))),
    rec(0, sqe(0x09, 41, 0, (0x0F, 10000, 0, 0, 0, 0))),
    rec(0, sqe(0x09, 42, 0, (0x0B, 0xFF, 0, 0, 0, 0))),
    rec(0, bytes([0x7F, 0x40, 43, 0, 0x04]) + bytes(35) + bytes([1, 0, 0, 0]) + bytes(20)),
    rec(0, bytes([0x7F, 0x40, 44, 0, 0x00]) + bytes(39) + struct.pack("<IQ", 0x14, 0x464001)
        + bytes(8)),
    rec(0, bytes([0x7F, 0x40, 45, 0, 0x04]) + bytes(39) + struct.pack("<I", 0x1C) + bytes(16)),
])
s, d = connect(50, 0, 31, 0xFFFF, SUBNQN)
s2, d2 = connect(51, 0, 31, 0xFFFF, b"nqn.2014-08.org.nvmexpress.discovery")
seeds["connect-fresh"] = rec(3, s, d) + rec(3, s2, d2) + rec(3, sqe(0x06, 52, 0, (1,) + (0,) * 5, 4096))
seeds["discovery"] = b"".join([
    rec(2, getlog(60, 0x70, 1024)),
    rec(2, getlog(61, 0x70, 1024, lpo=1024)),
    rec(2, sqe(0x06, 62, 0, (1, 0, 0, 0, 0, 0), 4096)),
    rec(2, sqe(0x18, 63)),
])
os.makedirs("corpus", exist_ok=True)
for name, blob in seeds.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(blob)
