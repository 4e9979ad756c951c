"""Restart a workload the way ``kubectl rollout restart`` does: patch the pod template.

Changing an annotation of ``spec.template`` makes the Deployment or StatefulSet controller roll
out new pods at the workload's own pace (maxUnavailable, partitions, PDBs). Nothing is deleted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from kubernetes import client

from iss_operator.spec import Workload, WorkloadKind
from iss_operator.status import format_time

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
MERGE_PATCH = "application/merge-patch+json"


class RestartError(RuntimeError):
    """The restart patch was refused; ``reason`` is a short CamelCase word for status."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def restart_patch(now: datetime) -> dict[str, Any]:
    """The merge patch that triggers a rolling restart."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: format_time(now)}}}}}


PLURALS = {WorkloadKind.DEPLOYMENT: "deployments", WorkloadKind.STATEFULSET: "statefulsets"}


def _patch(
    apps: client.AppsV1Api, namespace: str, workload: Workload, body: dict[str, Any]
) -> None:
    # The generated patch_namespaced_* methods send a strategic merge patch for a dict body;
    # a JSON merge patch says exactly what it changes and works on any workload kind.
    path = f"/apis/apps/v1/namespaces/{namespace}/{PLURALS[workload.kind]}/{workload.name}"
    apps.api_client.call_api(
        path,
        "PATCH",
        header_params={"Content-Type": MERGE_PATCH, "Accept": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
        response_type="object",
        _return_http_data_only=True,
    )


async def restart_workload(
    apps: client.AppsV1Api, namespace: str, workload: Workload, now: datetime
) -> None:
    """Patch the workload's pod template; raise RestartError if the API server refuses."""
    try:
        await asyncio.to_thread(_patch, apps, namespace, workload, restart_patch(now))
    except client.ApiException as exc:
        where = f"{workload.kind.value} {namespace}/{workload.name}"
        if exc.status == 404:
            raise RestartError("WorkloadNotFound", f"{where} not found") from exc
        if exc.status == 403:
            raise RestartError("Forbidden", f"not allowed to patch {where}") from exc
        raise RestartError("RestartFailed", f"patching {where}: HTTP {exc.status}") from exc
