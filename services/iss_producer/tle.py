"""Two-line element sets: parsing with checksum verification, epochs and ages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sgp4.api import Satrec

from iss_producer.errors import TleError


def checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns: digits count as themselves, '-' as 1."""
    total = 0
    for char in line[:68]:
        if char.isdigit():
            total += int(char)
        elif char == "-":
            total += 1
    return total % 10


@dataclass(frozen=True, slots=True)
class TleRecord:
    """One satellite's element set."""

    name: str | None
    line1: str
    line2: str

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
        return Satrec.twoline2rv(self.line1, self.line2)


def _check_line(line: str, number: str) -> None:
    if len(line) < 69 or not line.startswith(number + " "):
        raise TleError(f"line {number} is malformed: {line[:70]!r}")
    if not line[68].isdigit() or checksum(line) != int(line[68]):
        raise TleError(
            f"checksum of line {number} is {line[68]!r}, computed {checksum(line)}: {line[:70]!r}"
        )


def parse_tle_text(text: str) -> list[TleRecord]:
    """Every element set of a 2-line or 3-line (name line first) TLE text."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    records: list[TleRecord] = []
    name: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("1 ") and len(line) >= 69:
            if index + 1 >= len(lines):
                raise TleError(f"line 1 without line 2 at the end: {line[:70]!r}")
            line2 = lines[index + 1]
            _check_line(line, "1")
            _check_line(line2, "2")
            if line[2:7] != line2[2:7]:
                raise TleError(f"lines 1 and 2 name different satellites: {line[2:7]}/{line2[2:7]}")
            records.append(TleRecord(name, line[:69], line2[:69]))
            name = None
            index += 2
        else:
            name = line[2:].strip() if line.startswith("0 ") else line.strip()
            index += 1
    if not records:
        raise TleError("no element set found")
    return records


def load_tle_file(path: Path) -> list[TleRecord]:
    """Every element set of a TLE file."""
    try:
        return parse_tle_text(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TleError(f"cannot read {path}: {exc}") from exc


def find(records: list[TleRecord], norad_id: int) -> TleRecord:
    """The element set of `norad_id` (the newest epoch if there are several)."""
    matches = [record for record in records if record.norad_id == norad_id]
    if not matches:
        raise TleError(f"no element set for NORAD {norad_id}")
    return max(matches, key=lambda record: record.epoch)
