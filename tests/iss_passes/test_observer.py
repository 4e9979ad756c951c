import math

import pytest

from iss_passes import Observer, ObserverError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("lat", "lon", "height", "words"),
    [
        (90.5, 0.0, 0.0, "latitude 90.5 is outside"),
        (0.0, -181.0, 0.0, "longitude -181.0 is outside"),
        (0.0, 0.0, 200_000.0, "height 200000.0 m is outside"),
        (math.nan, 0.0, 0.0, "latitude nan is not a number"),
    ],
)
def test_a_place_off_the_earth_is_refused(
    lat: float, lon: float, height: float, words: str
) -> None:
    with pytest.raises(ObserverError, match=words):
        Observer(lat, lon, height)


def test_an_observer_describes_itself_in_compass_terms() -> None:
    assert Observer(51.5074, -0.1278, 20).describe() == "51.5074°N 0.1278°W, 20 m"
    assert Observer(-33.8688, 211.0, 0).describe() == "33.8688°S 149.0000°W, 0 m"
