#!/usr/bin/env python3
"""Writes an OCI image layout holding one gzip layer of a directory tree: the tree is
archived by GNU tar (sorted, numeric root ownership) and compressed by gzip -6; digests
and diff_id are computed while streaming. Ref name "bench".

usage: make_layout.py TREE LAYOUT_DIR
"""
import hashlib
import json
import os
import platform
import subprocess
import sys

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def blob(layout, data, media):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}


def main():
    tree, layout = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    tmp = os.path.join(layout, "layer.tmp")
    tar = subprocess.Popen(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                            "-C", tree, "-cf", "-", "."], stdout=subprocess.PIPE)
    with open(tmp, "wb") as out:
        gz = subprocess.Popen(["gzip", "-6", "-n"], stdin=subprocess.PIPE, stdout=out)
        diff = hashlib.sha256()
        while True:
            chunk = tar.stdout.read(1 << 20)
            if not chunk:
                break
            diff.update(chunk)
            gz.stdin.write(chunk)
        gz.stdin.close()
        if tar.wait() != 0 or gz.wait() != 0:
            sys.exit("tar | gzip failed")
    ldigest = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            ldigest.update(chunk)
    size = os.path.getsize(tmp)
    os.rename(tmp, os.path.join(layout, "blobs", "sha256", ldigest.hexdigest()))
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
             "digest": "sha256:" + ldigest.hexdigest(), "size": size}
    config = blob(layout, json.dumps({
        "architecture": ARCH, "os": "linux",
        "config": {"Entrypoint": ["/usr/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]}}).encode(),
        "application/vnd.oci.image.config.v1+json")
    manifest = blob(layout, json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config, "layers": [layer]}).encode(),
        "application/vnd.oci.image.manifest.v1+json")
    manifest["annotations"] = {"org.opencontainers.image.ref.name": "bench"}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


if __name__ == "__main__":
    main()
