"""Seconds from an anchor instant, as the Julian dates SGP4 (UTC) and sidereal time (UT1) take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from iss_passes import sky

_UNIX_JD = 2440587.5
_DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Clock:
    """Times are float seconds from `anchor`; UT1 - UTC is taken from Skyfield's tables at the
    anchor and held for the window (it changes by about a millisecond a day)."""

    anchor: datetime
    jd: float
    """Julian date of the UTC midnight before the anchor (ends in .5)."""
    fraction: float
    """Fraction of a day from that midnight to the anchor."""
    dut1_s: float

    @classmethod
    def at(cls, anchor: datetime) -> Clock:
        anchor = anchor.astimezone(UTC)
        days = (anchor - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / _DAY_S
        whole = float(np.floor(days))
        dut1 = float(sky.timescale().from_datetime(anchor).dut1)
        return cls(anchor, _UNIX_JD + whole, days - whole, dut1)

    def utc(self, seconds: Any) -> tuple[Any, Any]:
        """(jd, fraction) arrays of UTC, as `Satrec.sgp4_array` wants them."""
        fraction = self.fraction + np.asarray(seconds, dtype=float) / _DAY_S
        return np.full_like(fraction, self.jd), fraction

    def ut1(self, seconds: Any) -> tuple[float, Any]:
        """(jd, fraction) of UT1, for Greenwich sidereal time."""
        return self.jd, self.fraction + (np.asarray(seconds, dtype=float) + self.dut1_s) / _DAY_S

    def moment(self, seconds: float) -> datetime:
        return self.anchor + timedelta(seconds=float(seconds))

    def seconds(self, moment: datetime) -> float:
        return (moment - self.anchor).total_seconds()
