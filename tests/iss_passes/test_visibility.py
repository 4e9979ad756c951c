import numpy as np
import pytest

from iss_passes.visibility import visible_moments

pytestmark = pytest.mark.unit


def test_a_moment_is_visible_only_when_sunlit_in_a_dark_sky_and_high_enough() -> None:
    sunlit = np.array([True, False, True, True, True])
    sun_altitude = np.array([-10.0, -10.0, -5.9, -6.1, -20.0])
    elevation = np.array([30.0, 30.0, 30.0, 30.0, 9.9])
    assert visible_moments(sunlit, sun_altitude, elevation, 10.0).tolist() == [
        True,
        False,
        False,
        True,
        False,
    ]
