"""Synthetic satellite catalogues for the benchmarks: many valid element sets from one."""

from __future__ import annotations

from iss_physics.tle import Elements, parse_tle_text, with_checksum

GOLDEN_ANGLE = 137.50776405003785
"""Degrees; steps of it spread the orbits evenly without repeating."""


def synthetic_catalogue(base: Elements, count: int, first_id: int = 10000) -> list[Elements]:
    """`count` valid element sets derived from `base`: same orbit shape, spread over the sky
    (RAAN and mean anomaly stepped by the golden angle), each re-parsed so every checksum and
    layout is verified."""
    if first_id + count > 100000:
        raise ValueError("five-digit NORAD ids only: ask for fewer satellites")
    lines: list[str] = []
    for i in range(count):
        norad = first_id + i
        raan = (float(base.line2[17:25]) + i * GOLDEN_ANGLE / 7.0) % 360.0
        anomaly = (float(base.line2[43:51]) + i * GOLDEN_ANGLE) % 360.0
        line1 = with_checksum(f"1 {norad:05d}" + base.line1[7:])
        line2 = with_checksum(
            f"2 {norad:05d}"
            + base.line2[7:17]
            + f"{raan:8.4f}"
            + base.line2[25:43]
            + f"{anomaly:8.4f}"
            + base.line2[51:]
        )
        lines += [f"SYNTH {norad}", line1, line2]
    return parse_tle_text("\n".join(lines))
