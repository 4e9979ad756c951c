"""Per-satellite state kept in buckets, so the dataflow moves lists of records, not records.

A Bytewax stateful step costs a fixed amount per key and per item. Keyed by satellite, a
catalogue of thousands of objects pays that for nearly every record. Instead the validated
records are grouped by `bucket_of(norad_id)` (a fixed number of buckets) and each bucket is one
key whose value is a whole list of positions and whose state maps NORAD id to that satellite's
`SatelliteState`. Inside a bucket every satellite still has its own `SatelliteLogic`, fed its
positions in arrival order, so enrichment, duplicates, windows and timers behave exactly as with
one key per satellite. A satellite always lands in the same bucket, and Bytewax routes a bucket
to one worker, so a satellite's positions are handled by one worker in order.

The bucket count is part of the recovery store's layout: keep it for the life of a store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bytewax.operators import StatefulBatchLogic

from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher.aggregate import PositionBatch, WindowAggregate
from iss_enricher.enrich import EnrichRules
from iss_enricher.satellite import SatelliteLogic, SatelliteState, WindowRules

BucketState = dict[int, SatelliteState]
"""What a bucket snapshots: the state of each of its satellites, by NORAD id."""


def bucket_of(norad_id: int, buckets: int) -> str:
    """The (string) Bytewax key of the bucket a satellite belongs to."""
    return str(norad_id % buckets)


@dataclass(frozen=True, slots=True)
class Tracked:
    """What one activation of a bucket produced."""

    positions: list[EnrichedPosition]
    """A `PositionBatch` from `on_batch` (it names the windows of late positions)."""
    aggregates: list[WindowAggregate]
    failures: list[tuple[RawPosition, BaseException]] = field(default_factory=list)
    """Positions whose enrichment raised, with the exception (dead-lettered by the flow)."""


class BucketLogic(StatefulBatchLogic[list[RawPosition], Tracked, BucketState]):
    """The satellites of one bucket: lists of positions in, enriched positions and windows out."""

    def __init__(
        self,
        state: BucketState | None,
        rules: EnrichRules,
        windows: WindowRules,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._rules = rules
        self._windows = windows
        self._clock = clock
        self._satellites: dict[int, SatelliteLogic] = {
            norad_id: SatelliteLogic(saved, rules, windows, clock)
            for norad_id, saved in (state or {}).items()
        }
        # Snapshots of satellites untouched since they were taken (immutable, so shared).
        self._snapshots: dict[int, SatelliteState] = {}
        # When each satellite with open windows wants its timer (unix time).
        self._due: dict[int, float] = {}
        for norad_id, satellite in self._satellites.items():
            self._set_due(norad_id, satellite)

    def _set_due(self, norad_id: int, satellite: SatelliteLogic) -> None:
        due = satellite.due()
        if due is None:
            self._due.pop(norad_id, None)
        else:
            self._due[norad_id] = due

    def on_batch(self, values: list[list[RawPosition]]) -> tuple[Iterable[Tracked], bool]:
        groups: dict[int, list[RawPosition]] = {}
        for batch in values:
            for raw in batch:
                group = groups.get(raw.norad_id)
                if group is None:
                    groups[raw.norad_id] = [raw]
                else:
                    group.append(raw)
        seen_at = self._clock()
        now = datetime.fromtimestamp(seen_at, UTC)
        positions = PositionBatch()
        aggregates: list[WindowAggregate] = []
        failures: list[tuple[RawPosition, BaseException]] = []
        satellites = self._satellites
        snapshots = self._snapshots
        for norad_id, group in groups.items():
            satellite = satellites.get(norad_id)
            if satellite is None:
                satellite = satellites[norad_id] = SatelliteLogic(
                    None, self._rules, self._windows, self._clock
                )
            satellite.feed(group, now, seen_at, positions, aggregates, failures)
            snapshots.pop(norad_id, None)
            self._set_due(norad_id, satellite)
        return [Tracked(positions, aggregates, failures)], StatefulBatchLogic.RETAIN

    def on_notify(self) -> tuple[Iterable[Tracked], bool]:
        now = self._clock()
        aggregates: list[WindowAggregate] = []
        for norad_id in [n for n, due in self._due.items() if due <= now]:
            satellite = self._satellites[norad_id]
            aggregates.extend(satellite.notify(now))
            self._snapshots.pop(norad_id, None)
            self._set_due(norad_id, satellite)
        return ([Tracked([], aggregates)] if aggregates else []), StatefulBatchLogic.RETAIN

    def on_eof(self) -> tuple[Iterable[Tracked], bool]:
        aggregates = [
            row for satellite in self._satellites.values() for row in satellite.open_windows()
        ]
        return ([Tracked([], aggregates)] if aggregates else []), StatefulBatchLogic.RETAIN

    def notify_at(self) -> datetime | None:
        if not self._due:
            return None
        return datetime.fromtimestamp(min(self._due.values()), UTC)

    def snapshot(self) -> BucketState:
        snapshots = self._snapshots
        for norad_id, satellite in self._satellites.items():
            if norad_id not in snapshots:
                snapshots[norad_id] = satellite.snapshot()
        return dict(snapshots)
