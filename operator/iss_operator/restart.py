"""Restart a workload the way ``kubectl rollout restart`` does: patch the pod template.

Changing an annotation of ``spec.template`` makes the Deployment or StatefulSet controller roll
out new pods at the workload's own pace (maxUnavailable, partitions, PDBs). Nothing is deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from iss_operator.kube import Kube, KubeError
from iss_operator.spec import Workload, WorkloadKind
from iss_operator.status import format_time

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"

PLURALS = {WorkloadKind.DEPLOYMENT: "deployments", WorkloadKind.STATEFULSET: "statefulsets"}


class RestartError(RuntimeError):
    """The restart did not happen; ``reason`` is a short CamelCase word for status."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def restart_patch(now: datetime) -> dict[str, Any]:
    """The merge patch that triggers a rolling restart."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: format_time(now)}}}}}


def workload_path(namespace: str, workload: Workload) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/{PLURALS[workload.kind]}/{workload.name}"


def _where(namespace: str, workload: Workload) -> str:
    return f"{workload.kind.value} {namespace}/{workload.name}"


def _restart_error(exc: KubeError, namespace: str, workload: Workload) -> RestartError:
    where = _where(namespace, workload)
    if exc.reason == "NotFound":
        return RestartError("WorkloadNotFound", f"{where} not found")
    if exc.reason == "Forbidden":
        return RestartError("Forbidden", f"not allowed to patch {where}")
    return RestartError("RestartFailed", f"patching {where}: {exc}")


async def workload_exists(kube: Kube, namespace: str, workload: Workload) -> bool | None:
    """True or False when the API server says; None when it cannot be asked now."""
    try:
        await kube.request("GET", workload_path(namespace, workload))
    except KubeError as exc:
        return False if exc.reason == "NotFound" else None
    return True


async def restart_workload(kube: Kube, namespace: str, workload: Workload, now: datetime) -> None:
    """Patch the workload's pod template; raise RestartError for any failure, timeouts too."""
    try:
        await kube.merge_patch(workload_path(namespace, workload), restart_patch(now))
    except KubeError as exc:
        raise _restart_error(exc, namespace, workload) from exc
