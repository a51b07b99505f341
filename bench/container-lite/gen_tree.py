#!/usr/bin/env python3
"""Writes a file tree that looks like a preprocessing image's payload: many small text-like
files (sources, configs), medium files mixing text and binary, and a few large binaries.
Deterministic (seeded). Sized so that its gzip layer is about 100 MB.

usage: gen_tree.py DIR [SCALE]   (SCALE multiplies every count; default 1.0)
"""
import os
import random
import sys

WORDS = ("import def return self tensor batch image decode resize normalize token "
         "vocab embed float int shape dtype device numpy torch array index slice "
         "config path data load save model layer weight bias input output error "
         "value key list dict true false none class module package version").split()


def text_pool(rng, size):
    out = []
    n = 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
        line = "    " * rng.randint(0, 3) + line + "\n"
        out.append(line)
        n += len(line)
    return "".join(out).encode()


def main():
    root = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = random.Random(1234)
    pool = text_pool(rng, 4 << 20)

    def text(size):
        out = []
        while size > 0:
            n = min(size, len(pool) // 2)
            off = rng.randrange(0, len(pool) - n)
            out.append(pool[off:off + n])
            size -= n
        return b"".join(out)

    def write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    total = 0
    # small sources and configs: 1-16 KiB of text, in a package-like hierarchy
    for i in range(int(12000 * scale)):
        # about ten files per directory, as in real package trees
        pkg = "usr/lib/python3/site-packages/pkg%03d/sub%d" % (i % 300, (i // 300) % 4)
        data = text(rng.randint(1 << 10, 16 << 10))
        write(os.path.join(root, pkg, "mod%05d.py" % i), data)
        total += len(data)
    # medium files: 64 KiB - 1 MiB, half text, half random (compressed assets)
    for i in range(int(150 * scale)):
        size = rng.randint(64 << 10, 1 << 20)
        data = text(size) if i % 2 else os.urandom(size)
        write(os.path.join(root, "usr/share/assets/a%04d.bin" % i), data)
        total += size
    # large binaries: shared libraries and model weights, mostly incompressible
    for i in range(int(5 * scale)):
        size = rng.randint(4 << 20, 10 << 20)
        data = os.urandom(size // 2) + text(size - size // 2)
        write(os.path.join(root, "opt/model/weights%02d.bin" % i), data)
        total += size
    os.makedirs(os.path.join(root, "usr/bin"), exist_ok=True)
    os.symlink("../lib/python3", os.path.join(root, "usr/bin/python-lib"))
    print("%d bytes in %s" % (total, root))


if __name__ == "__main__":
    main()
