"""Element sets: the layouts, checksums and errors the producer and pass predictions share."""

from datetime import UTC, datetime

import pytest

from iss_physics.tle import (
    ElementsError,
    checksum,
    find,
    from_lines,
    parse_tle_text,
    read_tle_file,
    with_checksum,
)
from iss_producer.settings import DEFAULT_TLE_FILE
from tests.support.passes_reference import ISS_TLE, iss_lines

LINE1 = "1 25544U 98067A   26259.85263506  .00007068  00000+0  13566-3 0  9993"
LINE2 = "2 25544  51.6307 206.4210 0004838 147.2470 212.8820 15.49143506585961"


@pytest.mark.unit
def test_shipped_tle_loads_with_name_epoch_and_id() -> None:
    record = find(read_tle_file(DEFAULT_TLE_FILE), 25544)
    assert record.name == "ISS (ZARYA)"
    assert record.norad_id == 25544
    assert record.epoch.date() == datetime(2026, 9, 16, tzinfo=UTC).date()
    assert record.age_seconds(datetime(2026, 9, 17, 20, 27, 47, 669184, tzinfo=UTC)) == (
        pytest.approx(86400.0, abs=0.01)
    )


@pytest.mark.unit
def test_checksums_of_the_shipped_lines() -> None:
    assert checksum(LINE1) == 3
    assert checksum(LINE2) == 1


@pytest.mark.unit
def test_two_line_and_zero_prefixed_name_layouts_parse() -> None:
    assert parse_tle_text(f"{LINE1}\n{LINE2}\n")[0].name is None
    assert parse_tle_text(f"0 ISS (ZARYA)\n{LINE1}\n{LINE2}\n")[0].name == "ISS (ZARYA)"


@pytest.mark.unit
def test_corrupted_line_fails_its_checksum() -> None:
    corrupted = LINE2.replace("51.6307", "51.6308")
    with pytest.raises(ElementsError, match="checksum"):
        parse_tle_text(f"ISS\n{LINE1}\n{corrupted}\n")


@pytest.mark.unit
@pytest.mark.parametrize(
    "text",
    ["", "<html>not found</html>", f"ISS\n{LINE1}\n", f"ISS\n{LINE1}\n{LINE1}\n"],
    ids=["empty", "html", "no-line-2", "line-1-twice"],
)
def test_text_without_a_valid_element_set_is_refused(text: str) -> None:
    with pytest.raises(ElementsError):
        parse_tle_text(text)


@pytest.mark.unit
def test_unknown_satellite_is_reported() -> None:
    with pytest.raises(ElementsError, match="20580"):
        find(parse_tle_text(f"{LINE1}\n{LINE2}\n"), 20580)


@pytest.mark.unit
def test_the_shipped_iss_tle_parses_with_its_name_and_epoch() -> None:
    (iss,) = read_tle_file(ISS_TLE)
    assert iss.norad_id == 25544
    assert iss.name == "ISS (ZARYA)"
    assert iss.epoch.isoformat().startswith("2026-09-16T20:27:47")


@pytest.mark.unit
def test_a_wrong_checksum_is_rejected_with_the_line_number() -> None:
    line1, line2 = iss_lines()
    bad = line2[:68] + str((int(line2[68]) + 1) % 10)
    with pytest.raises(ElementsError, match="checksum of line 2"):
        from_lines(line1, bad)


@pytest.mark.unit
def test_lines_of_two_satellites_are_rejected() -> None:
    line1, line2 = iss_lines()
    other = with_checksum(line2[:2] + "10000" + line2[7:])
    with pytest.raises(ElementsError, match="different satellites"):
        from_lines(line1, other)


@pytest.mark.unit
def test_a_missing_norad_id_and_an_unreadable_file_say_so(tmp_path: object) -> None:
    with pytest.raises(ElementsError, match="no element set for NORAD 1"):
        find(parse_tle_text("\n".join(iss_lines())), 1)
    with pytest.raises(ElementsError, match="cannot read TLE file"):
        read_tle_file(ISS_TLE.with_name("absent.tle"))
    with pytest.raises(ElementsError, match="no element set found"):
        parse_tle_text("just words\n")
