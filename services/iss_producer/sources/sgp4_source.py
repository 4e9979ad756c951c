"""SGP4 propagation of a TLE: works with no network; accuracy decays with the age of the TLE."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

import numpy as np
from sgp4.api import Satrec

from iss_contract.limits import ALTITUDE_MAX_KM, ALTITUDE_MIN_KM
from iss_physics.teme import julian_date, speed_kmh, teme_to_geodetic
from iss_physics.tle import Elements
from iss_producer.errors import Rejected, RejectReason
from iss_producer.sources.fix import Fix

NAME: Final = "sgp4"
log = logging.getLogger(__name__)


def propagate(record: Elements, when: datetime, satrec: Satrec | None = None) -> Fix:
    """The position of `record`'s satellite at `when`, or Rejected if SGP4 reports an error or
    a height the contract refuses (below the ground, beyond `ALTITUDE_MAX_KM`)."""
    jd, fr = julian_date(when.timestamp())
    error, position, velocity = (satrec or record.satrec()).sgp4(jd, fr)
    if error != 0:
        raise Rejected(RejectReason.PROPAGATION_ERROR, f"SGP4 error code {error} at {when}")
    lat, lon, height = teme_to_geodetic(np.asarray(position, dtype=np.float64), jd, fr)
    if not ALTITUDE_MIN_KM < float(height) <= ALTITUDE_MAX_KM:
        raise Rejected(
            RejectReason.OUT_OF_RANGE,
            f"SGP4 puts NORAD {record.norad_id} at {float(height):.1f} km at {when}: "
            "the elements have decayed or are wrong",
        )
    return Fix(
        norad_id=record.norad_id,
        name=record.name,
        event_time=when,
        latitude=float(lat),
        longitude=float(lon),
        source=NAME,
        altitude_km=float(height),
        velocity_kmh=float(speed_kmh(np.asarray(velocity, dtype=np.float64))),
    )


class Sgp4Source:
    """Holds the TLE in use; a fresher one can replace it at any time."""

    def __init__(self, record: Elements) -> None:
        self._record = record
        self._satrec = record.satrec()

    @property
    def record(self) -> Elements:
        return self._record

    def replace(self, record: Elements) -> bool:
        """Use `record` if it is newer than the TLE in use; True when it was taken."""
        if record.norad_id != self._record.norad_id or record.epoch <= self._record.epoch:
            return False
        self._record = record
        self._satrec = record.satrec()
        log.info(
            "TLE replaced",
            extra={"norad_id": record.norad_id, "tle_epoch": record.epoch.isoformat()},
        )
        return True

    def position(self, when: datetime) -> Fix:
        return propagate(self._record, when, self._satrec)
