#!/usr/bin/env python3
"""Writes an OCI image layout (one gzip layer) from a root filesystem directory.

    oci-image.py --rootfs DIR --layout DIR [--ref NAME] [--entrypoint JSON] [--cmd JSON]
                 [--env K=V]... [--workdir DIR] [--user USER]

The layer holds DIR's tree owned by 0:0 (numeric), the config records the run
configuration, the index names the manifest with org.opencontainers.image.ref.name. It is
what `umoci` or `skopeo copy ... oci:` would write, produced without any insitu code, so the
examples and tests feed container-lite an independently built image.
"""
import argparse, gzip, hashlib, io, json, os, platform, tarfile


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rootfs", required=True)
    ap.add_argument("--layout", required=True)
    ap.add_argument("--ref", default="latest")
    ap.add_argument("--entrypoint", type=json.loads, default=None)
    ap.add_argument("--cmd", type=json.loads, default=None)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--user", default=None)
    a = ap.parse_args()

    blobs = os.path.join(a.layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    def owned_by_root(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(a.rootfs)):
            tar.add(os.path.join(a.rootfs, name), arcname=name, filter=owned_by_root)
    layer = raw.getvalue()
    gz = gzip.compress(layer, mtime=0)

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    cfg = {}
    if a.entrypoint is not None:
        cfg["Entrypoint"] = a.entrypoint
    if a.cmd is not None:
        cfg["Cmd"] = a.cmd
    if a.env:
        cfg["Env"] = a.env
    if a.workdir:
        cfg["WorkingDir"] = a.workdir
    if a.user:
        cfg["User"] = a.user
    config = {
        "architecture": arch, "os": "linux", "config": cfg,
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    config_desc = put(json.dumps(config).encode())
    layer_desc = put(gz)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer_desc}],
    }
    manifest_desc = put(json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       **manifest_desc,
                       "annotations": {"org.opencontainers.image.ref.name": a.ref}}],
    }
    with open(os.path.join(a.layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(a.layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(f"{a.layout}: {a.ref} -> {manifest_desc['digest']} (layer {layer_desc['size']} bytes)")


if __name__ == "__main__":
    main()
