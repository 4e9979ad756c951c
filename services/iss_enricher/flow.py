"""The enrichment dataflow, built by a factory so tests can plug in their own sources and sinks.

    raw-in ─ validate ─ split-rejects ─┬─ dead-letters ─ dead-letters-out                 (Kafka)
                                       └─ track-buckets ─ unkey ─┐
        ┌────────────────────────────────────────────────────────┘
        ├─ positions ─ positions-out                        (PostgreSQL and the enriched topic)
        └─ aggregates ─ aggregates-out                                               (PostgreSQL)

Records travel in lists: `validate` turns each batch from Kafka into one list of positions per
state bucket (and one list of dead letters), `track-buckets` (`iss_enricher.buckets`) keeps
every satellite's state inside its bucket and answers with lists, and the positions output takes
those lists whole (in production `iss_enricher.positions_out`: stored and published at once).
Bytewax's per-item cost is paid per list, not per record.

No record can stop the dataflow: validation turns anything a record holds into a verdict, and
every later step that handles records one by one (the state machine in `track-buckets`, the
encoding and storing in the positions output) isolates a record that raises, dead-letters it with
the `internal_error` reason and the exception's class, and carries on with the rest. The
`failures` step sends the track step's casualties to the dead-letter topic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeGuard

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaError, KafkaSourceMessage
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink
from confluent_kafka import Message

from iss_contract.deadletter import DeadLetter, Reason
from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_contract.validate import Rejected, parse_raw
from iss_enricher import aggregate, metrics
from iss_enricher.buckets import BucketLogic, BucketState, Tracked, bucket_of
from iss_enricher.enrich import EnrichRules
from iss_enricher.letters import failure_letter
from iss_enricher.publish import KeyValue
from iss_enricher.satellite import WindowRules

logger = logging.getLogger(__name__)

RawMessage = KafkaSourceMessage[bytes | None, bytes | None]
RawInput = Message | RawMessage | KafkaError[bytes | None, bytes | None]
"""What a source may hand the dataflow: librdkafka's messages (`MessagesKafkaSource`),
Bytewax's wrapped messages, or Bytewax's wrapped consumer errors."""


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """What the dataflow itself needs to know (a subset of EnricherSettings)."""

    raw_topic: str
    max_future: timedelta = timedelta(seconds=60)
    rules: EnrichRules = field(default_factory=EnrichRules)
    windows: WindowRules = field(default_factory=WindowRules)
    state_buckets: int = 64
    """Satellites are spread over this many state keys (fixed for the life of a recovery store)."""


@dataclass(frozen=True, slots=True)
class Sinks:
    """Where the dataflow's three outputs go."""

    positions: Sink[list[EnrichedPosition]]
    """Enriched positions, in lists: stored in `positions` and published to the enriched topic."""
    aggregates: Sink[aggregate.WindowAggregate]
    dead_letters: Sink[KeyValue]


Bucket = tuple[str, list[RawPosition]]
"""A bucket key and positions of that bucket's satellites, in arrival order."""


@dataclass(frozen=True, slots=True)
class Rejects:
    """The dead letters of one input batch, encoded for the dead-letter topic."""

    messages: list[KeyValue]


def validate_batch(
    batch: list[RawInput], *, topic: str, max_future: timedelta, buckets: int
) -> list[Bucket | Rejects]:
    """Parse every record; group positions by state bucket, keep arrival order within each.

    A bad record becomes a dead letter with its reason and original bytes.
    """
    keys = _bucket_keys(buckets)
    grouped: dict[str, list[RawPosition]] = {}
    letters: list[KeyValue] = []
    now = datetime.now(UTC)
    records = 0
    for item in batch:
        if type(item) is Message:
            value = item.value()
            record_key = item.key()
        elif isinstance(item, KafkaSourceMessage):
            value = item.value
            record_key = item.key
        else:
            assert isinstance(item, KafkaError)
            logger.warning("Kafka consumer error: %s", item.err)
            continue
        records += 1
        try:
            position = parse_raw(value, key=record_key, now=now, max_future=max_future)
        except Exception as exc:  # Rejected, or anything else: a dead letter, not a crash
            if isinstance(exc, Rejected):
                rejected = exc
            else:
                rejected = Rejected(Reason.INTERNAL_ERROR, type(exc).__name__)
            metrics.RECORDS_REJECTED.labels(rejected.reason.value).inc()
            letters.append(_dead_letter(item, value, rejected, topic, now))
            continue
        key = keys[position.norad_id % buckets]
        group = grouped.get(key)
        if group is None:
            grouped[key] = [position]
        else:
            group.append(position)
    metrics.RECORDS_IN.inc(records)
    out: list[Bucket | Rejects] = list(grouped.items())
    if letters:
        out.append(Rejects(letters))
    return out


@lru_cache(maxsize=8)
def _bucket_keys(buckets: int) -> list[str]:
    return [bucket_of(norad_id, buckets) for norad_id in range(buckets)]


def _dead_letter(
    item: Message | RawMessage, value: bytes | None, rejected: Rejected, topic: str, now: datetime
) -> KeyValue:
    if isinstance(item, KafkaSourceMessage):
        origin = (item.topic, item.partition, item.offset, item.key)
    else:
        origin = (item.topic(), item.partition(), item.offset(), item.key())
    letter = DeadLetter(
        reason=rejected.reason,
        detail=rejected.detail,
        topic=origin[0] or topic,
        partition=origin[1],
        offset=origin[2],
        key=origin[3],
        value=value,
        rejected_at=now,
    )
    return letter.message()


def _is_bucket(item: Bucket | Rejects) -> TypeGuard[Bucket]:
    return not isinstance(item, Rejects)


def _rejects(item: Bucket | Rejects) -> list[KeyValue]:
    assert isinstance(item, Rejects)
    return item.messages


def build_flow(
    source: Source[Any], sinks: Sinks, settings: FlowSettings, flow_id: str = "iss-enricher"
) -> Dataflow:
    """Wire the enrichment dataflow between a source of Kafka messages and the three sinks."""
    flow = Dataflow(flow_id)
    raw = op.input("raw-in", flow, source)
    checked = op.flat_map_batch(
        "validate",
        raw,
        lambda batch: validate_batch(
            batch,
            topic=settings.raw_topic,
            max_future=settings.max_future,
            buckets=settings.state_buckets,
        ),
    )
    split = op.branch("split-rejects", checked, _is_bucket)
    letters = op.flat_map("dead-letters", split.falses, _rejects)

    def build_logic(state: BucketState | None) -> BucketLogic:
        return BucketLogic(state, settings.rules, settings.windows)

    # Not "track": that step held per-satellite state in stores written before the buckets.
    tracked = op.stateful_batch("track-buckets", split.trues, build_logic)
    results = op.map("unkey", tracked, _value)

    def failures(tracked: Tracked) -> list[KeyValue]:
        return [failure_letter(raw, error, settings.raw_topic) for raw, error in tracked.failures]

    casualties = op.flat_map("failures", results, failures)
    op.output("dead-letters-out", op.merge("all-letters", letters, casualties), sinks.dead_letters)
    positions = op.map("positions", results, _positions)
    op.output("positions-out", positions, sinks.positions)
    rows = op.flat_map("aggregates", results, _aggregates)
    op.output("aggregates-out", rows, sinks.aggregates)
    return flow


def _value(item: tuple[str, Tracked]) -> Tracked:
    return item[1]


def _positions(tracked: Tracked) -> list[EnrichedPosition]:
    return tracked.positions


def _aggregates(tracked: Tracked) -> list[aggregate.WindowAggregate]:
    return tracked.aggregates
