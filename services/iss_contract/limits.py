"""Every bound of the contracts in one place (docs/contracts.md states each of them).

The producer, the enricher, the devstack topics and the chart's KafkaTopics all read their limits
from here, so a record one component accepts is never one another refuses.
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_MESSAGE_BYTES = 1_048_576
"""`max.message.bytes` of every topic, and `message.max.bytes` of every producer (1 MiB)."""

MAX_VALUE_BYTES = MAX_MESSAGE_BYTES - 1024
"""Longest message value the enricher publishes: the rest is room for the key and Kafka's
record and batch overhead. A longer enriched message is dead-lettered (`enriched_too_large`)."""

MAX_RECORD_BYTES = 65_536
"""Largest raw record accepted (a real one is about 400 bytes); larger ones are dead-lettered
unread, so that nothing a record holds can make its enriched message or dead letter too big."""

MAX_NESTING = 8
"""Deepest nesting of JSON arrays and objects in a raw record (a real one has 1)."""

MAX_CONTAINER_ITEMS = 512
"""Most array elements and object members in a raw record, counted over all its containers."""

MAX_NAME_CHARS = 256
"""Longest satellite name."""

MAX_TEXT_CHARS = 256
"""Longest `producer_id` (and any other free-text field)."""

EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Event times (and `produced_at`) before this instant are rejected: no position stream of this
pipeline starts earlier, and the solar formulas are fitted around J2000."""

ALTITUDE_MIN_KM = 0.0
"""Altitudes must be above this (exclusive): a satellite is above the ellipsoid."""
ALTITUDE_MAX_KM = 1.0e6
"""Altitudes must be at most this (inclusive)."""
SPEED_MAX_KMH = 1.0e6
"""Velocities (km/h) must be in [0, this]."""
FOOTPRINT_MAX_KM = 1.0e6
"""Footprints (km) must be in [0, this]."""

DEADLETTER_ORIGINAL_BYTES = 65_536
"""A dead letter keeps at most this many bytes of the rejected record (with its full size and
sha256), so that every dead letter fits `MAX_MESSAGE_BYTES`."""
DEADLETTER_KEY_BYTES = 256
"""A dead letter keeps at most this many bytes of the rejected record's key."""
DEADLETTER_DETAIL_CHARS = 300
"""A dead letter's detail is cut to this many characters."""
