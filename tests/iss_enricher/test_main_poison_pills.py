"""`iss-enricher` end to end against poison pills: a real broker, a real database, the real
process. Every case of the contract's size, structure and bound limits, between valid records
in the same batch; and records that raise in ways no check foresees, injected into the process.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer

from iss_contract.limits import MAX_MESSAGE_BYTES
from tests.iss_contract.fixtures import STORED, poison_pills
from tests.iss_enricher.fixtures import TLE_EPOCH, sgp4_track
from tests.support.enricher import Pipeline, stop
from tests.support.messages import keyed

pytestmark = pytest.mark.services


def produce_refused(pipeline: Pipeline, value: bytes) -> KafkaError | None:
    """Produce one record past the client's own check; return the broker's verdict."""
    errors: list[KafkaError | None] = []
    producer = Producer(
        {"bootstrap.servers": pipeline.bootstrap, "message.max.bytes": 4_000_000, "retries": 0}
    )
    producer.produce(
        pipeline.raw, key=b"25544", value=value, on_delivery=lambda e, _m: errors.append(e)
    )
    producer.flush(30)
    return errors[0]


def test_no_poison_pill_stops_the_enricher_and_the_records_around_them_are_stored_once(
    pipeline: Pipeline, enricher_log: Path
) -> None:
    pills = poison_pills()
    fitting = [p for p in pills if len(p.value) + len(p.key or b"") < MAX_MESSAGE_BYTES - 200]
    oversized = [p for p in pills if p not in fitting]
    assert oversized, "some pills are over the topic limit"
    for pill in oversized:  # the topic itself refuses them: they never reach the enricher
        error = produce_refused(pipeline, pill.value)
        assert error is not None
        assert error.code() == KafkaError.MSG_SIZE_TOO_LARGE, pill.name

    good = [p.position for p in sgp4_track(TLE_EPOCH, 2 * len(fitting) + 2, 1.0)]
    values: list[tuple[bytes | None, bytes]] = keyed(good[:2])
    for i, pill in enumerate(fitting):  # each pill between valid records, one batch in all
        values.append((pill.key, pill.value))
        values += keyed(good[2 + 2 * i : 4 + 2 * i])
    pipeline.produce(values)
    stored = [p for p in fitting if p.outcome == STORED]
    rejected = [p for p in fitting if p.outcome != STORED]

    process = pipeline.start(log=enricher_log)
    try:
        pipeline.wait_for_rows(len(good) + len(stored), 90, lambda: process.poll() is None)
        letters = pipeline.topic_values(pipeline.deadletter, len(rejected))
        assert process.poll() is None, "a poison pill stopped the enricher"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
        stop(process)
    assert pipeline.count() == len(good) + len(stored)
    assert pipeline.rows(
        "SELECT count(*) FROM (SELECT 1 FROM positions GROUP BY norad_id, event_time"
        " HAVING count(*) > 1) d"
    ) == [(0,)]
    since = good[0].event_time.isoformat()
    sequences = pipeline.rows(
        f"SELECT sequence FROM positions WHERE event_time >= '{since}' ORDER BY event_time"
    )
    assert [s for (s,) in sequences] == [p.sequence for p in good]
    documents = [json.loads(m.value()) for m in letters]
    assert Counter(d["reason"] for d in documents) == Counter(str(p.outcome) for p in rejected)
    assert all(len(m.value()) <= MAX_MESSAGE_BYTES for m in letters)
    by_size = {d["value_bytes"]: d for d in documents}
    for pill in rejected:
        letter = by_size[len(pill.value)]
        assert letter["topic"] == pipeline.raw
        assert letter["offset"] is not None


INJECTED = textwrap.dedent(
    """
    import iss_contract.enriched as enriched
    import iss_contract.validate as validate
    import iss_enricher.enrich as enrich
    import iss_enricher.storage.sink as sink
    from iss_enricher.__main__ import main

    class Unforeseen(Exception):
        "An exception no check in the enricher knows about."

    well_formed, enrich_position = validate._well_formed, enrich.enrich_position
    position_row, to_bytes = sink.position_row, enriched.EnrichedPosition.to_bytes

    def poisoned(stage, producer_id):
        if producer_id == "poison-" + stage:
            raise Unforeseen(stage)

    def _well_formed(value, now, max_future):
        if b"poison-validate" in value:
            raise Unforeseen("validate")
        return well_formed(value, now, max_future)

    def _enrich_position(raw, **kwargs):
        poisoned("enrich", raw.producer_id)
        return enrich_position(raw, **kwargs)

    def _position_row(position):
        poisoned("store", position.raw.producer_id)
        return position_row(position)

    def _to_bytes(self):
        poisoned("encode", self.raw.producer_id)
        return to_bytes(self)

    validate._well_formed = _well_formed
    enrich.enrich_position = _enrich_position
    sink.position_row = _position_row
    enriched.EnrichedPosition.to_bytes = _to_bytes
    main()
    """
)


def test_records_that_raise_in_unforeseen_ways_are_dead_lettered_and_the_rest_stored(
    pipeline: Pipeline, enricher_log: Path
) -> None:
    from msgspec.structs import replace

    track = [p.position for p in sgp4_track(TLE_EPOCH, 40, 1.0)]
    stages = {"validate": 5, "enrich": 12, "store": 20, "encode": 28}
    for stage, index in stages.items():
        track[index] = replace(track[index], producer_id=f"poison-{stage}")
    pipeline.produce(keyed(track))
    with enricher_log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", INJECTED], env=pipeline.env(), stdout=log, stderr=log
        )
    try:
        # Stored: all but the three whose validation, enrichment or row raised.
        pipeline.wait_for_rows(len(track) - 3, 90, lambda: process.poll() is None)
        letters = [json.loads(m.value()) for m in pipeline.topic_values(pipeline.deadletter, 4)]
        published = pipeline.topic_values(pipeline.enriched, len(track) - 3)
        assert process.poll() is None, "an unforeseen exception stopped the enricher"
    finally:
        stop(process)
    assert [(d["reason"], d["detail"]) for d in letters] == [("internal_error", "Unforeseen")] * 4
    stored = {p for (p,) in pipeline.rows("SELECT sequence FROM positions")}
    assert stored == {p.sequence for i, p in enumerate(track) if i not in (5, 12, 20)}
    assert pipeline.count() == len(track) - 3
    # The row whose encoding raised is stored but not published; the one whose row raised is
    # published (the two run side by side) but not stored.
    sent = {json.loads(m.value())["sequence"] for m in published}
    assert len(published) == len(track) - 3
    assert sent == {p.sequence for i, p in enumerate(track) if i not in (5, 12, 28)}
    assert "Traceback" not in enricher_log.read_text()
