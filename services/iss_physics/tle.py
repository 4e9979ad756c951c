"""Two-line element sets: parsing with checksum verification, epochs, ages and the SGP4 model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sgp4.api import Satrec


class ElementsError(ValueError):
    """An element set that is malformed, fails its checksum, or cannot be found or read."""


def checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns: digits count as themselves, '-' as 1."""
    total = 0
    for char in line[:68]:
        if char.isdigit():
            total += int(char)
        elif char == "-":
            total += 1
    return total % 10


def with_checksum(line: str) -> str:
    """`line` (at least 68 columns) with column 69 set to its checksum."""
    return line[:68] + str(checksum(line))


@dataclass(frozen=True, slots=True)
class Elements:
    """One satellite's element set, as its two lines (and the optional name line)."""

    line1: str
    line2: str
    name: str | None = None

    @property
    def norad_id(self) -> int:
        return int(self.line1[2:7])

    @property
    def epoch(self) -> datetime:
        """Epoch of the elements, UTC (columns 19-32 of line 1: yyddd.dddddddd)."""
        year = int(self.line1[18:20])
        day_of_year = float(self.line1[20:32])
        full_year = 1900 + year if year >= 57 else 2000 + year
        return datetime(full_year, 1, 1, tzinfo=UTC) + timedelta(days=day_of_year - 1.0)

    def age_seconds(self, now: datetime) -> float:
        """How long ago the epoch was (negative when the epoch is in the future)."""
        return (now - self.epoch).total_seconds()

    def satrec(self) -> Satrec:
        """The SGP4 model of these elements; its `error` says whether SGP4 accepted them."""
        return Satrec.twoline2rv(self.line1, self.line2)

    def checked_satrec(self) -> Satrec:
        """`satrec`, raising `ElementsError` when SGP4 rejects the elements at their epoch."""
        model = self.satrec()
        if model.error:
            raise ElementsError(f"SGP4 rejects the elements of NORAD {self.norad_id}")
        return model


def _check_line(line: str, number: str) -> None:
    if len(line) < 69 or not line.startswith(number + " "):
        raise ElementsError(f"line {number} is malformed: {line[:70]!r}")
    if not line[68].isdigit() or checksum(line) != int(line[68]):
        raise ElementsError(
            f"checksum of line {number} is {line[68]!r}, computed {checksum(line)}: {line[:70]!r}"
        )
    try:
        int(line[2:7])
        if number == "1":
            float(line[18:32])
    except ValueError as exc:
        raise ElementsError(f"line {number} is malformed: {line[:70]!r}") from exc


def from_lines(line1: str, line2: str, name: str | None = None) -> Elements:
    """One element set from its two lines, checked."""
    line1, line2 = line1.rstrip(), line2.rstrip()
    _check_line(line1, "1")
    _check_line(line2, "2")
    if line1[2:7] != line2[2:7]:
        raise ElementsError(f"lines 1 and 2 name different satellites: {line1[2:7]}/{line2[2:7]}")
    return Elements(line1[:69], line2[:69], name)


def parse_tle_text(text: str) -> list[Elements]:
    """Every element set of a 2-line or 3-line (name line first) TLE text."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    found: list[Elements] = []
    name: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("1 ") and len(line) >= 69:
            if index + 1 >= len(lines):
                raise ElementsError(f"line 1 without line 2 at the end: {line[:70]!r}")
            found.append(from_lines(line, lines[index + 1], name))
            name = None
            index += 2
        else:
            name = line[2:].strip() if line.startswith("0 ") else line.strip()
            index += 1
    if not found:
        raise ElementsError("no element set found")
    return found


def read_tle_file(path: Path) -> list[Elements]:
    """Every element set of a TLE file."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ElementsError(f"cannot read TLE file {path}: {exc}") from exc
    try:
        return parse_tle_text(text)
    except ElementsError as exc:
        raise ElementsError(f"TLE file {path}: {exc}") from exc


def find(elements: list[Elements], norad_id: int) -> Elements:
    """The element set of `norad_id` (the newest epoch if there are several)."""
    matches = [one for one in elements if one.norad_id == norad_id]
    if not matches:
        raise ElementsError(f"no element set for NORAD {norad_id}")
    return max(matches, key=lambda one: one.epoch)
