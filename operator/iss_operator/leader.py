"""Leader election on a coordination.k8s.io Lease: one replica acts, the others stand by.

The rules are client-go's: the holder renews every ``retry_seconds``; it stops acting when it
has not renewed for ``renew_deadline_seconds``; another replica takes the Lease once its record
has not changed for ``lease_duration_seconds`` as seen on that replica's own clock, so clock
skew between replicas does not matter. Every call is bounded by the client's deadline. On a
clean exit the holder releases the Lease, and a standby takes over within ``retry_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from iss_operator.health import Health
from iss_operator.kube import Kube, KubeError

logger = logging.getLogger(__name__)

HEALTH_KEY = "leader-election"


class Move(StrEnum):
    CREATE = "create"
    RENEW = "renew"
    ACQUIRE = "acquire"
    WAIT = "wait"


@dataclass(frozen=True)
class LeaseRecord:
    holder: str | None
    duration_seconds: float
    renew_time: str | None
    resource_version: str

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> LeaseRecord:
        spec = obj.get("spec") or {}
        return cls(
            holder=spec.get("holderIdentity") or None,
            duration_seconds=float(spec.get("leaseDurationSeconds") or 15),
            renew_time=spec.get("renewTime"),
            resource_version=str((obj.get("metadata") or {}).get("resourceVersion", "")),
        )


def next_move(record: LeaseRecord | None, me: str, unchanged_for: float) -> Move:
    """What to do with the Lease as read now; ``unchanged_for`` is on this replica's clock."""
    if record is None:
        return Move.CREATE
    if record.holder == me:
        return Move.RENEW
    if record.holder is None or unchanged_for >= record.duration_seconds:
        return Move.ACQUIRE
    return Move.WAIT


def micro_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Leadership:
    """Holds, renews and releases the Lease; ``leading`` says whether this replica may act."""

    def __init__(
        self,
        kube: Kube | None,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_duration_seconds: float,
        renew_deadline_seconds: float,
        retry_seconds: float,
        health: Health,
    ) -> None:
        self.kube = kube
        self.path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"
        self.collection = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
        self.name = name
        self.identity = identity
        self.duration = lease_duration_seconds
        self.renew_deadline = renew_deadline_seconds
        self.retry = retry_seconds
        self.health = health
        self._renewed_at: float | None = None
        self._seen: tuple[str | None, str | None, str] | None = None
        self._seen_at = time.monotonic()
        self._last_error: str | None = None
        self._record: LeaseRecord | None = None

    @property
    def leading(self) -> bool:
        if self.kube is None:
            return True  # standalone: no election
        return (
            self._renewed_at is not None
            and time.monotonic() - self._renewed_at < self.renew_deadline
        )

    def _spec(self, now: datetime, acquire: bool, transitions: int) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.duration),
            "renewTime": micro_time(now),
        }
        if acquire:
            spec["acquireTime"] = micro_time(now)
            spec["leaseTransitions"] = transitions
        return spec

    async def round(self) -> None:
        """Read the Lease once and create, renew, take or leave it."""
        assert self.kube is not None
        was_leading = self.leading
        try:
            obj: dict[str, Any] | None = await self.kube.request("GET", self.path)
        except KubeError as exc:
            if exc.reason != "NotFound":
                raise
            obj = None
        record = LeaseRecord.from_object(obj) if obj is not None else None
        seen = (record.holder, record.renew_time, record.resource_version) if record else None
        if seen != self._seen:
            self._seen, self._seen_at = seen, time.monotonic()
        move = next_move(record, self.identity, time.monotonic() - self._seen_at)
        now = datetime.now(UTC)
        started = time.monotonic()
        if move is Move.CREATE:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name},
                "spec": self._spec(now, True, 0),
            }
            await self.kube.request("POST", self.collection, body)
        elif move in (Move.RENEW, Move.ACQUIRE):
            assert record is not None
            assert obj is not None
            transitions = int((obj.get("spec") or {}).get("leaseTransitions") or 0)
            body = {
                "metadata": {"resourceVersion": record.resource_version},
                "spec": self._spec(now, move is Move.ACQUIRE, transitions + 1),
            }
            await self.kube.merge_patch(self.path, body)
        else:
            self._renewed_at = None
            if was_leading:
                logger.warning("lost the lease %s to %s; standing by", self.name, record)
            return
        self._renewed_at = started
        if not was_leading:
            logger.warning(
                "holding the lease %s as %s: this replica acts", self.name, self.identity
            )

    async def run(self) -> None:
        """Rounds every ``retry_seconds`` until cancelled; never raises otherwise."""
        while True:
            try:
                await self.round()
                if self._last_error is not None:
                    logger.warning("the lease %s can be read again", self.name)
                self._last_error = None
                self.health.refusal(HEALTH_KEY, None)
            except KubeError as exc:
                if str(exc.reason) != self._last_error:
                    logger.warning("lease %s: %s", self.name, exc)
                self._last_error = str(exc.reason)
                if exc.status in (401, 403):
                    # Refused for good, no replica would ever act: /healthz says so.
                    advice = "the operator's Role needs get, create and update on leases"
                    self.health.refusal(HEALTH_KEY, f"{exc} ({advice})")
            except Exception:
                logger.exception("lease %s: unexpected error", self.name)
            self.health.beat(HEALTH_KEY, 3 * self.retry + 2 * self.kube_timeout)
            await asyncio.sleep(self.retry)

    @property
    def kube_timeout(self) -> float:
        return self.kube.timeout_seconds if self.kube is not None else 0.0

    async def release(self, timeout_seconds: float) -> None:
        """Give the Lease up so a standby takes over now; bounded, never raises."""
        if self.kube is None or not self.leading:
            return
        self._renewed_at = None
        try:
            await self.kube.merge_patch(
                self.path,
                {"spec": {"holderIdentity": None, "leaseDurationSeconds": 1}},
                timeout_seconds=timeout_seconds,
            )
            logger.info("released the lease %s", self.name)
        except KubeError as exc:
            logger.warning("could not release the lease %s: %s", self.name, exc)
