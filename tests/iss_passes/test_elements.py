import pytest

from iss_passes import ElementsError, find, from_lines, parse_tle_text, read_tle_file
from iss_passes.elements import with_checksum
from tests.iss_passes.reference import ISS_TLE, iss_lines

pytestmark = pytest.mark.unit


def test_the_shipped_iss_tle_parses_with_its_name_and_epoch() -> None:
    (iss,) = read_tle_file(ISS_TLE)
    assert iss.norad_id == 25544
    assert iss.name == "ISS (ZARYA)"
    assert iss.epoch.isoformat().startswith("2026-09-16T20:27:47")


def test_a_wrong_checksum_is_rejected_with_the_line_number() -> None:
    line1, line2 = iss_lines()
    bad = line2[:68] + str((int(line2[68]) + 1) % 10)
    with pytest.raises(ElementsError, match="checksum of line 2"):
        from_lines(line1, bad)


def test_lines_of_two_satellites_are_rejected() -> None:
    line1, line2 = iss_lines()
    other = with_checksum(line2[:2] + "10000" + line2[7:])
    with pytest.raises(ElementsError, match="different satellites"):
        from_lines(line1, other)


def test_a_missing_norad_id_and_an_unreadable_file_say_so(tmp_path: object) -> None:
    with pytest.raises(ElementsError, match="no element set for NORAD 1"):
        find(parse_tle_text("\n".join(iss_lines())), 1)
    with pytest.raises(ElementsError, match="cannot read TLE file"):
        read_tle_file(ISS_TLE.with_name("absent.tle"))
    with pytest.raises(ElementsError, match="no element set found"):
        parse_tle_text("just words\n")
