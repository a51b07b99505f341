#!/usr/bin/env python3
"""Writes the committed seed corpora of the container-lite image fuzz targets.

Run from this directory: python3 make_seeds.py. Standard library only. The seeds are
committed; this script documents how they were made and regenerates them.
  oci_json/      index, nested index, manifest, config and oci-layout documents
  passwd/        "<passwd content>\\0<group content>"
  layer_apply/   one flags byte (bit 0: fallback resolver, bit 1: owner self) + a tar
  image_archive/ OCI layouts as tar archives (oci-archive): valid, tampered, odd members
"""
import gzip
import hashlib
import io
import json
import os
import tarfile

HEX = "a" * 64


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def desc(media, digest="sha256:" + HEX, size=100, **extra):
    d = {"mediaType": media, "digest": digest, "size": size}
    d.update(extra)
    return d


def oci_json():
    index = {"schemaVersion": 2, "manifests": [
        desc("application/vnd.oci.image.manifest.v1+json",
             annotations={"org.opencontainers.image.ref.name": "latest"}),
        desc("application/vnd.oci.image.index.v1+json",
             platform={"os": "linux", "architecture": "arm64", "variant": "v8"})]}
    write("oci_json/index.json", json.dumps(index))
    write("oci_json/nested-index.json", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [desc("application/vnd.oci.image.manifest.v1+json",
                           platform={"os": "linux", "architecture": a})
                      for a in ("amd64", "arm64", "riscv64")]}))
    write("oci_json/manifest.json", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json"),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip"),
                   desc("application/vnd.oci.image.layer.v1.tar+zstd", size=0),
                   desc("application/vnd.oci.image.layer.v1.tar")]}))
    write("oci_json/manifest-docker.json", json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": desc("application/vnd.docker.container.image.v1+json"),
        "layers": [desc("application/vnd.docker.image.rootfs.diff.tar.gzip")]}))
    write("oci_json/config.json", json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "app:app", "Env": ["PATH=/bin", "A=b=c"],
                   "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"],
                   "WorkingDir": "/srv"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + HEX, "sha512:" + "b" * 128]},
        "history": [{"created_by": "test"}]}))
    write("oci_json/config-null.json", json.dumps({
        "architecture": "arm", "variant": "v7", "os": "linux", "config": None,
        "rootfs": {"type": "layers", "diff_ids": []}}))
    write("oci_json/oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}))
    write("oci_json/bad-digest.json", '{"schemaVersion":2,"manifests":[{"mediaType":"x",'
          '"digest":"sha256:ABC","size":1}]}')
    write("oci_json/deep.json", "[" * 40 + "]" * 40)
    write("oci_json/escapes.json", '{"schemaVersion":2,"manifests":[{"mediaType":'
          '"a\\u0000b\\ud83d\\ude00","digest":"sha256:' + HEX + '","size":1e3}]}')


def passwd():
    write("passwd/basic", b"root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:"
          b"/bin/sh\n\0root:x:0:\nsudo:x:27:alice,bob\nusers:x:100:alice\n")
    write("passwd/malformed", b"+nis\n#c\nx:x:abc:1\n::\n:x:1:1\nalice:x:4294967295:0\n"
          b"a:b:c:d:e:f:g:h:i:j\n\0g:x:\n:x:5:alice\nh:x:99999999999:alice\n,,,")
    write("passwd/no-newline", b"svc:x:998:998::/:/sbin/nologin\0svc:x:998:svc")


def tar_seed(name, flags, build):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        build(t)
    write("layer_apply/" + name, bytes([flags]) + buf.getvalue())


def add(t, name, kind=tarfile.REGTYPE, data=b"", mode=0o644, link="", **kw):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    info.mtime = 1700000000
    for k, v in kw.items():
        setattr(info, k, v)
    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def layer_apply():
    def basic(t):
        add(t, "etc/", tarfile.DIRTYPE, mode=0o755)
        add(t, "etc/hostname", data=b"box")
        add(t, "etc/alias", tarfile.SYMTYPE, link="hostname")
        add(t, "etc/hard", tarfile.LNKTYPE, link="etc/hostname")
        add(t, "run/fifo", tarfile.FIFOTYPE)
        add(t, "bin/su", data=b"su", mode=0o4755, uid=1000, gid=1000)
    tar_seed("basic", 0, basic)
    tar_seed("basic-fallback-self", 3, basic)

    def whiteouts(t):
        add(t, "d/", tarfile.DIRTYPE)
        add(t, "d/new", data=b"n")
        add(t, "d/.wh..wh..opq")
        add(t, ".wh.gone")
        add(t, "x/.wh.y")
        add(t, ".wh.")
    tar_seed("whiteouts", 0, whiteouts)

    def escapes(t):
        add(t, "root", tarfile.SYMTYPE, link="/")
        add(t, "root/pwned", data=b"p")
        add(t, "up", tarfile.SYMTYPE, link="../../..")
        add(t, "up/sentinel/pwned", data=b"p")
        add(t, "../sentinel/pwned", data=b"p")
        add(t, "/abs/file", data=b"a")
        add(t, "hl", tarfile.LNKTYPE, link="../sentinel/file")
        add(t, "hl2", tarfile.LNKTYPE, link="up/sentinel/file")
        add(t, ".", tarfile.SYMTYPE, link="/tmp")
    tar_seed("escapes", 0, escapes)
    tar_seed("escapes-fallback", 1, escapes)

    def types(t):
        add(t, "a/", tarfile.DIRTYPE)
        add(t, "a/child", data=b"c")
        add(t, "a", data=b"now a file")
        add(t, "a/", tarfile.DIRTYPE, mode=0o555)
        add(t, "a", tarfile.SYMTYPE, link="a")
        add(t, "a/loop", data=b"x")
        add(t, "dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
        add(t, "dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)
    tar_seed("types", 0, types)

    def names(t):
        add(t, "long/" + "n" * 200 + "/" + "m" * 200, data=b"l")
        add(t, "/".join(["d"] * 140) + "/f", data=b"deep")
        add(t, "ctl\n\x1b[0m", data=b"c")
        info = tarfile.TarInfo("xattr")
        info.pax_headers = {"SCHILY.xattr.user.x": "v", "SCHILY.xattr.security.capability":
                            "\x01", "SCHILY.xattr.user.containerlite.owner": "0:0:4755"}
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    tar_seed("names", 0, names)


def image_archive():
    def layer_tar():
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
            add(t, "bin", tarfile.DIRTYPE, mode=0o755)
            add(t, "bin/prog", data=b"#!/bin/sh\necho hi\n", mode=0o755)
            add(t, "etc/passwd", data=b"root:x:0:0::/:/bin/sh\n")
        return raw.getvalue()

    def layout(tamper=None, extra=()):
        blobs = {}

        def put(data):
            d = hashlib.sha256(data).hexdigest()
            blobs[d] = data
            return {"digest": "sha256:" + d, "size": len(data)}
        layer = layer_tar()
        config = put(json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Entrypoint": ["/bin/prog"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers",
                       "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode())
        gz = put(gzip.compress(layer, mtime=0))
        manifest = put(json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        **gz}]}).encode())
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
            "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
        if tamper == "layer":
            d = gz["digest"][7:]
            blobs[d] = blobs[d][:-1] + bytes([blobs[d][-1] ^ 1])
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
            add(t, "oci-layout", data=b'{"imageLayoutVersion":"1.0.0"}')
            add(t, "index.json", data=json.dumps(index).encode())
            add(t, "blobs", tarfile.DIRTYPE, mode=0o755)
            add(t, "blobs/sha256", tarfile.DIRTYPE, mode=0o755)
            for d, data in sorted(blobs.items()):
                add(t, "blobs/sha256/" + d, data=data)
            for member in extra:
                add(t, **member)
        return raw.getvalue()

    write("image_archive/valid.tar", layout())
    write("image_archive/tampered-layer.tar", layout(tamper="layer"))
    write("image_archive/odd-members.tar", layout(extra=(
        {"name": "blobs/sha256/" + "b" * 64, "kind": tarfile.SYMTYPE, "link": "/etc/passwd"},
        {"name": "../escape", "data": b"x"},
        {"name": "index.json", "data": b"{}"})))


if __name__ == "__main__":
    oci_json()
    passwd()
    layer_apply()
    image_archive()
