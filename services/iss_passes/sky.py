"""Skyfield's timescale and the JPL DE421 ephemeris, both from installed files only.

The timescale is built from the Earth-orientation tables Skyfield carries (`builtin=True`), and
DE421 (1899-2053) is opened straight from the `skyfield-data` package's directory, so nothing is
ever downloaded. `skyfield_data.get_skyfield_data_path()` is not used: it warns about the
package's `finals2000A.all`, which the builtin timescale does not read.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from skyfield.api import load
from skyfield.iokit import load_file

EPHEMERIS_NAME = "de421.bsp"


def ephemeris_path() -> Path:
    """Where `skyfield-data` installed DE421."""
    return Path(str(resources.files("skyfield_data").joinpath("data", EPHEMERIS_NAME)))


@cache
def timescale() -> Any:
    """Skyfield's `Timescale`, from its bundled delta-T and leap-second tables."""
    return load.timescale(builtin=True)


@cache
def ephemeris() -> Any:
    """The DE421 `SpiceKernel` (Sun and Earth positions for the visibility rule)."""
    return load_file(str(ephemeris_path()))
