"""Pass predictions: when a satellite rises over an observer, how high it climbs, and whether
it can be seen with the eye. Pure functions on element sets; Skyfield and its shipped ephemeris
do the astronomy, offline."""

from iss_passes.errors import ObserverError, PassError, WindowError
from iss_passes.observer import Observer
from iss_passes.predict import (
    MAX_EPOCH_DAYS,
    Pass,
    as_dict,
    check_window,
    epoch_of,
    predict_many,
    predict_passes,
)
from iss_passes.visibility import SUN_LIMIT_DEG
from iss_physics.tle import (
    Elements,
    ElementsError,
    find,
    from_lines,
    parse_tle_text,
    read_tle_file,
)

__all__ = [
    "MAX_EPOCH_DAYS",
    "SUN_LIMIT_DEG",
    "Elements",
    "ElementsError",
    "Observer",
    "ObserverError",
    "Pass",
    "PassError",
    "WindowError",
    "as_dict",
    "check_window",
    "epoch_of",
    "find",
    "from_lines",
    "parse_tle_text",
    "predict_many",
    "predict_passes",
    "read_tle_file",
]
