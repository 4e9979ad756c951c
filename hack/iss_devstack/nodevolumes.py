"""Volumes for the local node's PersistentVolumeClaims: a folder per claim under the node's state.

The node's default StorageClass names this provisioner. Every second it gives each pending claim
of that class a hostPath PersistentVolume bound to it (kube-controller-manager's volume binder
completes the binding), and deletes the folder and the volume of every claim that is gone.
Folders are world-writable: the pods' images run as their own non-root users.

`python -m iss_devstack.nodevolumes KUBECONFIG FOLDER` runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import signal
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

PROVISIONER = "iss-devstack/node-local"
STORAGE_CLASS = "iss-node-local"
POLL_SECONDS = 1.0


class Api:
    """The few API calls the provisioner makes, as the identity in a kubeconfig."""

    def __init__(self, kubeconfig: Path) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        self.server = cluster["server"]
        self._scratch = Path(tempfile.mkdtemp(prefix="iss-node-volumes-"))
        files = {}
        for name, data in (
            ("ca.crt", cluster["certificate-authority-data"]),
            ("client.crt", user["client-certificate-data"]),
            ("client.key", user["client-key-data"]),
        ):
            files[name] = self._scratch / name
            files[name].write_bytes(base64.b64decode(data))
            files[name].chmod(0o600)
        self.context = ssl.create_default_context(cafile=str(files["ca.crt"]))
        self.context.load_cert_chain(str(files["client.crt"]), str(files["client.key"]))

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.server}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10, context=self.context) as response:
            return json.load(response)

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)


def volume_for(claim: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The PersistentVolume that serves one claim from a folder of its own."""
    meta = claim["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"].get("accessModes", ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": str(folder), "type": "Directory"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }


def reconcile(api: Api, root: Path) -> None:
    """Provision pending claims of our class; remove volumes whose claims are gone."""
    claims = api.request("GET", "/api/v1/persistentvolumeclaims")["items"]
    volumes = api.request("GET", "/api/v1/persistentvolumes")["items"]
    existing = {volume["metadata"]["name"] for volume in volumes}
    for claim in claims:
        if (
            claim["spec"].get("storageClassName") == STORAGE_CLASS
            and claim.get("status", {}).get("phase") == "Pending"
            and not claim["spec"].get("volumeName")
        ):
            folder = root / claim["metadata"]["uid"]
            volume = volume_for(claim, folder)
            if volume["metadata"]["name"] in existing:
                continue
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o777)
            api.request("POST", "/api/v1/persistentvolumes", volume)
    for volume in volumes:
        annotations = volume["metadata"].get("annotations", {})
        if annotations.get("pv.kubernetes.io/provisioned-by") != PROVISIONER:
            continue
        if volume.get("status", {}).get("phase") in ("Released", "Failed"):
            shutil.rmtree(volume["spec"]["hostPath"]["path"], ignore_errors=True)
            try:
                api.request("DELETE", f"/api/v1/persistentvolumes/{volume['metadata']['name']}")
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iss_devstack.nodevolumes")
    parser.add_argument("kubeconfig", type=Path)
    parser.add_argument("folder", type=Path, help="where the volumes' folders are made")
    options = parser.parse_args(argv)
    api = Api(options.kubeconfig)
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"provisioning {STORAGE_CLASS} volumes in {options.folder}", flush=True)
    try:
        while not stopping:
            try:
                reconcile(api, options.folder)
            except (OSError, urllib.error.URLError, KeyError, ValueError) as error:
                print(f"reconcile failed, retrying: {error}", flush=True)
            time.sleep(POLL_SECONDS)
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
