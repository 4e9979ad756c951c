"""Constellation mode: propagate every satellite of a TLE file at once with SatrecArray."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sgp4.api import SatrecArray

from iss_contract.limits import ALTITUDE_MAX_KM, ALTITUDE_MIN_KM
from iss_contract.raw import SCHEMA, RawPosition
from iss_contract.timefmt import format_utc
from iss_physics.teme import FloatArray, julian_date, speed_kmh, teme_to_geodetic
from iss_physics.tle import Elements

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Positions of every satellite at one instant; `ok[i]` is False where SGP4 failed or put
    the satellite below the ground or beyond the contract's altitude bound."""

    when: datetime
    latitude: FloatArray
    longitude: FloatArray
    altitude_km: FloatArray
    velocity_kmh: FloatArray
    ok: np.ndarray


class Constellation:
    """Many satellites, propagated together."""

    def __init__(self, records: list[Elements]) -> None:
        if not records:
            raise ValueError("a constellation needs at least one satellite")
        self.records = records
        self.norad_ids = [record.norad_id for record in records]
        self.names = [record.name for record in records]
        self._array = SatrecArray([record.satrec() for record in records])
        self.oldest_epoch = min(record.epoch for record in records)

    def __len__(self) -> int:
        return len(self.records)

    def propagate(self, when: datetime) -> Snapshot:
        jd, fr = julian_date(when.timestamp())
        errors, position, velocity = self._array.sgp4(np.array([jd]), np.array([fr]))
        position = position[:, 0, :]
        velocity = velocity[:, 0, :]
        lat, lon, alt = teme_to_geodetic(position, jd, fr)
        # SGP4's own errors, and heights the contract refuses (a decayed orbit, bad elements).
        ok = (
            (errors[:, 0] == 0)
            & np.isfinite(position).all(axis=1)
            & (alt > ALTITUDE_MIN_KM)
            & (alt <= ALTITUDE_MAX_KM)
        )
        return Snapshot(when, lat, lon, alt, speed_kmh(velocity), ok)


class SnapshotEncoder:
    """Encodes a Snapshot into Kafka (key, value) pairs, fast.

    Building a RawPosition and calling `to_bytes()` per satellite costs most of the CPU at
    tens of thousands of positions per second. This encoder fills a per-tick template instead,
    and checks one message of every tick against `RawPosition.to_bytes()`: if the contract's
    encoding ever differs, the tick is encoded through RawPosition instead (and it is logged).
    """

    def __init__(self, constellation: Constellation, producer_id: str) -> None:
        self._constellation = constellation
        self._producer_id = producer_id
        self._keys = [str(norad_id).encode("ascii") for norad_id in constellation.norad_ids]
        schema = json.dumps(SCHEMA)
        self._heads = [
            f'{{"schema":{schema},"norad_id":{norad_id},"name":{json.dumps(name)},"event_time":"'
            for norad_id, name in zip(constellation.norad_ids, constellation.names, strict=True)
        ]
        self.fallback_ticks = 0

    def _slow(self, snapshot: Snapshot, i: int, sequence: int, produced_at: datetime) -> bytes:
        return RawPosition(
            norad_id=self._constellation.norad_ids[i],
            name=self._constellation.names[i],
            event_time=snapshot.when,
            latitude=float(snapshot.latitude[i]),
            longitude=float(snapshot.longitude[i]),
            altitude_km=float(snapshot.altitude_km[i]),
            velocity_kmh=float(snapshot.velocity_kmh[i]),
            source="sgp4",
            producer_id=self._producer_id,
            sequence=sequence,
            produced_at=produced_at,
        ).to_bytes()

    def encode(
        self, snapshot: Snapshot, first_sequence: int, produced_at: datetime
    ) -> list[tuple[bytes, bytes]]:
        """One (key, value) per satellite that propagated, sequences from `first_sequence`."""
        indices = np.flatnonzero(snapshot.ok).tolist()
        if not indices:
            return []
        lat = snapshot.latitude.tolist()
        lon = snapshot.longitude.tolist()
        alt = snapshot.altitude_km.tolist()
        vel = snapshot.velocity_kmh.tolist()
        keys = self._keys
        tail = (
            format_utc(snapshot.when).replace("%", "%%")
            + '","latitude":%r,"longitude":%r,"altitude_km":%r,"velocity_kmh":%r,'
            '"visibility":null,"footprint_km":null,"source":"sgp4","producer_id":'
            + json.dumps(self._producer_id).replace("%", "%%")
            + ',"sequence":%d,"produced_at":"'
            + format_utc(produced_at).replace("%", "%%")
            + '"}'
        )
        heads = self._heads
        first = indices[0]
        sample = (
            heads[first] + tail % (lat[first], lon[first], alt[first], vel[first], first_sequence)
        ).encode()
        if sample != self._slow(snapshot, first, first_sequence, produced_at):
            if not self.fallback_ticks:
                log.error("fast encoding differs from the contract; encoding through RawPosition")
            self.fallback_ticks += 1
            return [
                (keys[i], self._slow(snapshot, i, first_sequence + n, produced_at))
                for n, i in enumerate(indices)
            ]
        return [
            (
                keys[i],
                (heads[i] + tail % (lat[i], lon[i], alt[i], vel[i], first_sequence + n)).encode(),
            )
            for n, i in enumerate(indices)
        ]
