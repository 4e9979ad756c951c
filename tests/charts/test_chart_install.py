"""`helm install`, `upgrade` and `uninstall` against the real local control plane.

The control plane has no scheduler or kubelet: pods stay Pending, so the migration hook Job
never finishes by itself and helm would wait for it until its timeout. The tests play the
kubelet's part for that Job only, marking it complete through its status subresource, and so
exercise the hook's creation, helm's wait on it and its delete policy.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.chart import CHART, parse_manifests, wait_for_default_service_account

if TYPE_CHECKING:
    from iss_devstack.controlplane import ControlPlane

pytestmark = pytest.mark.controlplane

RELEASE = "iss"
FULLNAME = "iss-iss-tracker"
MIGRATION_JOB = f"{FULLNAME}-migrate"
CLEANUP_JOB = f"{FULLNAME}-pipeline-cleanup"
"""The pre-delete hook that deletes the Pipelines while the operator still runs."""
# Kinds to look for leftovers in after an uninstall (everything the chart can create).
KINDS = (
    "deployments,statefulsets,replicasets,pods,jobs,services,configmaps,secrets,"
    "serviceaccounts,roles,rolebindings,persistentvolumeclaims,"
    "kafkas,kafkanodepools,kafkatopics,kafkausers,pipelines,kopfpeerings,networkpolicies,"
    "poddisruptionbudgets"
)


def complete_job(controlplane: ControlPlane, namespace: str, name: str) -> bool:
    """Mark a Job as succeeded, as the job controller would after its pod exited 0.

    The start time, once the job controller set it, may not change: keep it.
    """
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    job = json.loads(controlplane.kubectl("get", "job", name, "-n", namespace, "-o", "json").stdout)
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": now, "lastProbeTime": now}
        for kind in ("SuccessCriteriaMet", "Complete")
    ]
    status = {
        "startTime": job.get("status", {}).get("startTime", now),
        "completionTime": now,
        "active": 0,
        "ready": 0,
        "terminating": 0,
        "succeeded": 1,
        "conditions": conditions,
    }
    result = controlplane.kubectl(
        "patch",
        "job",
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": status}),
        check=False,
    )
    return result.returncode == 0


def helm_completing_hook(
    controlplane: ControlPlane,
    namespace: str,
    *args: str,
    timeout: float = 240,
    job: str = MIGRATION_JOB,
) -> subprocess.CompletedProcess[str]:
    """Run a helm command that waits on a hook (the migration's by default), completing its Job."""
    command = ["helm", *args, "--namespace", namespace, "--timeout", f"{int(timeout - 30)}s"]
    process = subprocess.Popen(
        command,
        env={**controlplane.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    completed = False
    while process.poll() is None:
        assert time.monotonic() < deadline, f"{command} did not finish"
        if not completed:
            found = controlplane.kubectl(
                "get", "job", job, "-n", namespace, "-o", "name", check=False
            )
            if found.returncode == 0 and found.stdout.strip():
                completed = complete_job(controlplane, namespace, job)
        time.sleep(0.5)
    stdout, stderr = process.communicate()
    assert completed, f"the hook Job {job} never appeared; helm said: {stdout}{stderr}"
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def secret_data(controlplane: ControlPlane, namespace: str, name: str) -> dict[str, str]:
    out = controlplane.kubectl("get", "secret", name, "-n", namespace, "-o", "json").stdout
    data: dict[str, str] = json.loads(out)["data"]
    return data


def get_json(controlplane: ControlPlane, namespace: str, *what: str) -> dict[str, Any]:
    out = controlplane.kubectl("get", *what, "-n", namespace, "-o", "json").stdout
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def release_unused_claims(controlplane: ControlPlane, namespace: str) -> None:
    """Do the pvc-protection controller's part, which this control plane does not run: a
    claim being deleted loses its finalizer once no pod uses it."""
    claims = json.loads(controlplane.kubectl("get", "pvc", "-n", namespace, "-o", "json").stdout)[
        "items"
    ]
    pods = json.loads(controlplane.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)
    used = {
        volume["persistentVolumeClaim"]["claimName"]
        for pod in pods["items"]
        for volume in pod["spec"].get("volumes", [])
        if "persistentVolumeClaim" in volume
    }
    for claim in claims:
        meta = claim["metadata"]
        if meta.get("deletionTimestamp") and meta["name"] not in used:
            controlplane.kubectl(
                "patch",
                "pvc",
                meta["name"],
                "-n",
                namespace,
                "--type=json",
                "-p",
                '[{"op": "remove", "path": "/metadata/finalizers"}]',
                check=False,
            )


def leftovers(controlplane: ControlPlane, namespace: str) -> list[str]:
    out = controlplane.kubectl(
        "get",
        KINDS,
        "-n",
        namespace,
        "-l",
        f"app.kubernetes.io/instance={RELEASE}",
        "-o",
        "name",
    ).stdout
    return out.split()


@pytest.fixture
def release_namespace(controlplane: ControlPlane, chart_crds: list[str], namespace: str) -> str:
    wait_for_default_service_account(controlplane, namespace)
    return namespace


def test_install_upgrade_and_uninstall_leave_a_clean_namespace(
    controlplane: ControlPlane, release_namespace: str
) -> None:
    ns = release_namespace

    installed = helm_completing_hook(
        controlplane, ns, "install", RELEASE, str(CHART), "--wait=false"
    )
    assert installed.returncode == 0, installed.stderr
    assert "kubectl -n " + ns + " get pipelines" in installed.stdout  # NOTES.txt

    manifest = controlplane.helm("get", "manifest", RELEASE, "-n", ns).stdout
    objects = parse_manifests(manifest)
    for obj in objects:
        kind, name = obj["kind"].lower(), obj["metadata"]["name"]
        assert controlplane.kubectl("get", kind, name, "-n", ns, check=False).returncode == 0, (
            f"{kind}/{name} was not created"
        )
    # The hook succeeded and its delete policy removed it.
    assert controlplane.kubectl("get", "job", MIGRATION_JOB, "-n", ns, check=False).returncode != 0

    pipeline = get_json(controlplane, ns, "pipeline", FULLNAME)
    components = pipeline["spec"]["components"]
    assert {c["name"] for c in components} == {"producer", "enricher"}

    db_secret = secret_data(controlplane, ns, f"{FULLNAME}-db-credentials")
    grafana_secret = secret_data(controlplane, ns, f"{FULLNAME}-grafana-admin")

    upgraded = helm_completing_hook(
        controlplane,
        ns,
        "upgrade",
        RELEASE,
        str(CHART),
        "--wait=false",
        "--set",
        "producer.replicas=2",
        "--set",
        "liveview.enabled=true",
    )
    assert upgraded.returncode == 0, upgraded.stderr
    producer = get_json(controlplane, ns, "deployment", f"{FULLNAME}-producer")
    assert producer["spec"]["replicas"] == 2
    assert get_json(controlplane, ns, "deployment", f"{FULLNAME}-liveview")
    assert secret_data(controlplane, ns, f"{FULLNAME}-db-credentials") == db_secret
    assert secret_data(controlplane, ns, f"{FULLNAME}-grafana-admin") == grafana_secret

    history = controlplane.helm("history", RELEASE, "-n", ns, "-o", "json").stdout
    assert [r["status"] for r in json.loads(history)] == ["superseded", "deployed"]

    # The enricher's recovery store holds one process's partitions: another count is refused.
    refused = controlplane.helm(
        "upgrade", RELEASE, str(CHART), "-n", ns, "--reuse-values", "--set", "enricher.replicas=2",
        check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "enricher.replicas cannot change from 1 to 2" in refused.stderr
    assert "recovery store" in refused.stderr
    enricher = get_json(controlplane, ns, "statefulset", f"{FULLNAME}-enricher")
    assert enricher["spec"]["replicas"] == 1

    uninstalled = helm_completing_hook(
        controlplane, ns, "uninstall", RELEASE, "--wait", timeout=180, job=CLEANUP_JOB
    )
    assert uninstalled.returncode == 0, uninstalled.stderr
    # The garbage collector removes what the workloads own: pods, and the claims the
    # StatefulSets' retention policy hands to them.
    deadline = time.monotonic() + 90
    while remaining := leftovers(controlplane, ns):
        assert time.monotonic() < deadline, f"left behind: {remaining}"
        release_unused_claims(controlplane, ns)
        time.sleep(1)


def test_upgrade_keeps_a_user_supplied_database_secret_untouched(
    controlplane: ControlPlane, release_namespace: str
) -> None:
    ns = release_namespace
    controlplane.kubectl(
        "create", "secret", "generic", "mine", "-n", ns, "--from-literal=password=s3cret-value"
    )
    args = ("--wait=false", "--set", "database.existingSecret=mine")
    installed = helm_completing_hook(controlplane, ns, "install", RELEASE, str(CHART), *args)
    assert installed.returncode == 0, installed.stderr
    statefulset = get_json(controlplane, ns, "statefulset", f"{FULLNAME}-timescaledb")
    env = statefulset["spec"]["template"]["spec"]["containers"][0]["env"]
    password = next(e for e in env if e["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": "mine", "key": "password"}

    def secrets_hash() -> str:
        enricher = get_json(controlplane, ns, "statefulset", f"{FULLNAME}-enricher")
        value: str = enricher["spec"]["template"]["metadata"]["annotations"][
            "iss-tracker.io/secrets-hash"
        ]
        return value

    before = secrets_hash()
    upgraded = helm_completing_hook(controlplane, ns, "upgrade", RELEASE, str(CHART), *args)
    assert upgraded.returncode == 0, upgraded.stderr
    assert secret_data(controlplane, ns, "mine")["password"] == "czNjcmV0LXZhbHVl"
    assert secrets_hash() == before  # nothing changed, nothing rolls

    # A rotated password rolls the pods that read it at the next upgrade.
    controlplane.kubectl(
        "patch", "secret", "mine", "-n", ns, "--type=merge",
        "-p", '{"stringData": {"password": "rotated-value"}}',
    )  # fmt: skip
    rotated = helm_completing_hook(controlplane, ns, "upgrade", RELEASE, str(CHART), *args)
    assert rotated.returncode == 0, rotated.stderr
    assert secrets_hash() != before
    uninstalled = helm_completing_hook(
        controlplane, ns, "uninstall", RELEASE, "--wait", timeout=180, job=CLEANUP_JOB
    )
    assert uninstalled.returncode == 0, uninstalled.stderr
    # Not the chart's: uninstall leaves it.
    assert secret_data(controlplane, ns, "mine")
