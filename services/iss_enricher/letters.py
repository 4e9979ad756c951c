"""Dead letters of valid positions that could not be handled: raised, or too large to publish.

Validation's own dead letters (records that break the contract) are made in `iss_enricher.flow`;
these are for positions that passed it. Neither has its Kafka origin any more, so the letter
carries the position re-encoded as the raw record, under the raw topic's name.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from iss_contract.deadletter import DeadLetter, Reason
from iss_contract.enriched import EnrichedPosition
from iss_contract.raw import RawPosition
from iss_enricher import metrics
from iss_enricher.publish import KeyValue

logger = logging.getLogger(__name__)


def failure_letter(position: RawPosition, error: BaseException, topic: str) -> KeyValue:
    """The dead letter of a position whose handling raised: `internal_error`, the class named."""
    metrics.RECORDS_REJECTED.labels(Reason.INTERNAL_ERROR.value).inc()
    logger.error(
        "the position of NORAD %d at %s raised %s; dead-lettered",
        position.norad_id,
        position.event_time.isoformat(),
        type(error).__name__,
    )
    return _letter(position, Reason.INTERNAL_ERROR, type(error).__name__, topic)


def too_large_letter(position: EnrichedPosition, size: int, limit: int, topic: str) -> KeyValue:
    """The dead letter of a stored position whose enriched message is over the topic's limit."""
    metrics.RECORDS_REJECTED.labels(Reason.ENRICHED_TOO_LARGE.value).inc()
    detail = f"enriched message of {size} bytes is over {limit}; the row is stored"
    return _letter(position.raw, Reason.ENRICHED_TOO_LARGE, detail, topic)


def refused_letter(position: EnrichedPosition, error: str, too_large: bool, topic: str) -> KeyValue:
    """The dead letter of a stored position whose enriched message the broker refused."""
    reason = Reason.ENRICHED_TOO_LARGE if too_large else Reason.INTERNAL_ERROR
    metrics.RECORDS_REJECTED.labels(reason.value).inc()
    logger.error(
        "the broker refused the enriched message of NORAD %d at %s (%s); dead-lettered",
        position.raw.norad_id,
        position.raw.event_time.isoformat(),
        error,
    )
    detail = f"the broker refused the enriched message ({error}); the row is stored"
    return _letter(position.raw, reason, detail, topic)


def _letter(position: RawPosition, reason: Reason, detail: str, topic: str) -> KeyValue:
    try:
        value: bytes | None = position.to_bytes()
    except Exception:  # the position itself may be what raised
        value = None
    letter = DeadLetter(
        reason=reason,
        detail=detail,
        topic=topic,
        partition=None,
        offset=None,
        key=position.key,
        value=value,
        rejected_at=datetime.now(UTC),
    )
    return letter.message()
