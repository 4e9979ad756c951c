"""The enrichment dataflow, built by a factory so tests can plug in their own sources and sinks.

    raw-in ─ validate ─ split-rejects ─┬─ dead-letter-encode ─ dead-letters-out     (Kafka)
                                       └─ key-by-norad ─ track ─ unkey ─ split-aggregates ─┐
        ┌──────────────────────────────────────────────────────────────────────────────────┘
        ├─ positions-out                                                          (PostgreSQL)
        ├─ enriched-encode ─ enriched-out                                              (Kafka)
        └─ aggregates-out                                                         (PostgreSQL)

`track` is one stateful step per satellite: enrichment and the one-minute windows
(`iss_enricher.satellite`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaError, KafkaSourceMessage
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from iss_contract.deadletter import DeadLetter
from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_contract.validate import Rejected, parse_raw
from iss_enricher import aggregate, metrics
from iss_enricher.enrich import EnrichRules
from iss_enricher.publish import KeyValue
from iss_enricher.satellite import Output, SatelliteLogic, SatelliteState, WindowRules

logger = logging.getLogger(__name__)

RawMessage = KafkaSourceMessage[bytes | None, bytes | None]
RawInput = RawMessage | KafkaError[bytes | None, bytes | None]


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """What the dataflow itself needs to know (a subset of EnricherSettings)."""

    raw_topic: str
    max_future: timedelta = timedelta(seconds=60)
    rules: EnrichRules = field(default_factory=EnrichRules)
    windows: WindowRules = field(default_factory=WindowRules)


@dataclass(frozen=True, slots=True)
class Sinks:
    """Where the dataflow's four outputs go."""

    positions: Sink[EnrichedPosition]
    aggregates: Sink[aggregate.WindowAggregate]
    enriched: Sink[KeyValue]
    dead_letters: Sink[KeyValue]


def validate_batch(
    batch: list[RawInput], *, topic: str, max_future: timedelta
) -> list[RawPosition | DeadLetter]:
    """Parse every record; a bad one becomes a dead letter with its reason and original bytes."""
    out: list[RawPosition | DeadLetter] = []
    now = datetime.now(UTC)
    records = 0
    for item in batch:
        if isinstance(item, KafkaError):
            logger.warning("Kafka consumer error: %s", item.err)
            continue
        records += 1
        try:
            out.append(parse_raw(item.value, now=now, max_future=max_future))
        except Rejected as rejected:
            metrics.RECORDS_REJECTED.labels(rejected.reason.value).inc()
            out.append(
                DeadLetter(
                    reason=rejected.reason,
                    detail=rejected.detail,
                    topic=item.topic or topic,
                    partition=item.partition,
                    offset=item.offset,
                    key=item.key,
                    value=item.value,
                    rejected_at=now,
                )
            )
    metrics.RECORDS_IN.inc(records)
    return out


def _is_position(item: RawPosition | DeadLetter) -> TypeGuard[RawPosition]:
    return isinstance(item, RawPosition)


def _encode_dead_letter(letter: DeadLetter) -> KeyValue:
    return (letter.key, letter.to_bytes())


def _encode_enriched(position: EnrichedPosition) -> KeyValue:
    return (position.raw.key, position.to_bytes())


def _is_enriched(item: Output) -> TypeGuard[EnrichedPosition]:
    return isinstance(item, EnrichedPosition)


def build_flow(
    source: Source[Any], sinks: Sinks, settings: FlowSettings, flow_id: str = "iss-enricher"
) -> Dataflow:
    """Wire the enrichment dataflow between a source of Kafka messages and the four sinks."""
    flow = Dataflow(flow_id)
    raw = op.input("raw-in", flow, source)
    checked = op.flat_map_batch(
        "validate",
        raw,
        lambda batch: validate_batch(
            batch, topic=settings.raw_topic, max_future=settings.max_future
        ),
    )
    split = op.branch("split-rejects", checked, _is_position)
    rejected: Any = split.falses  # everything that is not a position is a dead letter
    letters = op.map("dead-letter-encode", rejected, _encode_dead_letter)
    op.output("dead-letters-out", letters, sinks.dead_letters)

    keyed = op.key_on("key-by-norad", split.trues, lambda p: str(p.norad_id))

    def build_logic(state: SatelliteState | None) -> SatelliteLogic:
        return SatelliteLogic(state, settings.rules, settings.windows)

    tracked = op.stateful_batch("track", keyed, build_logic)
    outputs = op.branch("split-aggregates", op.key_rm("unkey", tracked), _is_enriched)
    positions = outputs.trues
    op.output("positions-out", positions, sinks.positions)
    encoded = op.map("enriched-encode", positions, _encode_enriched)
    op.output("enriched-out", encoded, sinks.enriched)
    rows: Any = outputs.falses  # everything that is not a position is a window row
    op.output("aggregates-out", rows, sinks.aggregates)
    return flow
