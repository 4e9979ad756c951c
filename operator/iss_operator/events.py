"""Kubernetes Events for Pipelines, aggregated the way the kubelet's recorder does it.

One Event object per Pipeline, type and reason: a repeat raises its ``count`` and moves its
``lastTimestamp`` (and message) instead of creating another object. Posting is bounded by the
client's deadline and never raises: an Event lost in an outage is logged, not retried.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from iss_operator.kube import Kube, KubeError

logger = logging.getLogger(__name__)

COMPONENT = "iss-operator"


@dataclass
class Posted:
    name: str
    count: int


@dataclass(frozen=True)
class Involved:
    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str

    def reference(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
        }


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_event(
    involved: Involved, kind: str, reason: str, message: str, now: datetime, instance: str
) -> dict[str, Any]:
    """A core/v1 Event with count 1, named after the Pipeline like kubectl's events are."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved.name}.{uuid.uuid4().hex[:16]}",
            "namespace": involved.namespace,
        },
        "involvedObject": involved.reference(),
        "type": kind,
        "reason": reason,
        "message": message[:1024],
        "count": 1,
        "firstTimestamp": _time(now),
        "lastTimestamp": _time(now),
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": instance[:128],
    }


class EventRecorder:
    """Creates an Event the first time a (Pipeline, type, reason) happens, then counts."""

    def __init__(self, kube: Kube, instance: str) -> None:
        self.kube = kube
        self.instance = instance
        self.posted: dict[tuple[str, str, str], Posted] = {}

    async def post(
        self, involved: Involved, kind: str, reason: str, message: str, now: datetime
    ) -> None:
        key = (involved.uid, kind, reason)
        events = f"/api/v1/namespaces/{involved.namespace}/events"
        known = self.posted.get(key)
        try:
            if known is not None:
                try:
                    await self.kube.merge_patch(
                        f"{events}/{known.name}",
                        {
                            "count": known.count + 1,
                            "lastTimestamp": _time(now),
                            "message": message[:1024],
                        },
                    )
                    known.count += 1
                    return
                except KubeError as exc:
                    if exc.reason != "NotFound":  # expired (the event TTL): start over
                        raise
            body = new_event(involved, kind, reason, message, now, self.instance)
            await self.kube.request("POST", events, body)
            self.posted[key] = Posted(body["metadata"]["name"], 1)
        except KubeError as exc:
            logger.warning(
                "event %s for %s/%s not posted: %s", reason, involved.namespace, involved.name, exc
            )

    def forget(self, uid: str) -> None:
        for key in [k for k in self.posted if k[0] == uid]:
            del self.posted[key]
