"""The tick loop: pick a source through the fallback chain, validate, publish."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import requests

from iss_contract.raw import RawPosition
from iss_producer.backoff import SourceGate, backoff_delay, parse_retry_after
from iss_producer.celestrak import TleRefresher
from iss_producer.chain import FallbackChain
from iss_producer.constellation import Constellation, SnapshotEncoder
from iss_producer.errors import Rejected, RejectReason
from iss_producer.metrics import Health, ProducerMetrics
from iss_producer.publisher import Publisher
from iss_producer.settings import ProducerSettings
from iss_producer.sources import opennotify, sgp4_source, wheretheiss
from iss_producer.sources.fix import Fix, TimestampGuard
from iss_producer.sources.http import FetchError, HttpStatusError, get_body
from iss_producer.sources.sgp4_source import Sgp4Source

log = logging.getLogger(__name__)

_POLL_SLICE_S = 0.1
_OLD_TLE_DAYS = 3.0


def to_message(fix: Fix, producer_id: str, sequence: int, produced_at: datetime) -> RawPosition:
    """The wire message for a Fix."""
    return RawPosition(
        norad_id=fix.norad_id,
        name=fix.name,
        event_time=fix.event_time,
        latitude=fix.latitude,
        longitude=fix.longitude,
        altitude_km=fix.altitude_km,
        velocity_kmh=fix.velocity_kmh,
        visibility=fix.visibility,
        footprint_km=fix.footprint_km,
        source=fix.source,
        producer_id=producer_id,
        sequence=sequence,
        produced_at=produced_at,
    )


class ProducerService:
    """One producer process's behaviour, with the clocks and HTTP session injectable."""

    def __init__(
        self,
        settings: ProducerSettings,
        publisher: Publisher,
        metrics: ProducerMetrics,
        health: Health,
        sgp4: Sgp4Source,
        *,
        constellation: Constellation | None = None,
        session: requests.Session | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.metrics = metrics
        self.health = health
        self.sgp4 = sgp4
        self.constellation = constellation
        self.session = session or requests.Session()
        self._monotonic = monotonic
        self._wall = wall
        self._rng = rng or random.Random()
        self.sequence = 0
        self.chain = FallbackChain(
            settings.sources,
            failures_to_switch=settings.failures_before_fallback,
            probe_interval_s=settings.primary_probe_seconds,
            now=monotonic(),
        )
        self.gates = {
            name: SourceGate(
                settings.opennotify_interval_seconds if name == opennotify.NAME else 0.0
            )
            for name in settings.sources
        }
        self.guard = TimestampGuard()
        self.encoder = (
            SnapshotEncoder(constellation, settings.producer_id)
            if constellation is not None
            else None
        )
        self.refresher = (
            TleRefresher(
                settings.celestrak_url,
                sgp4.record.norad_id,
                settings.tle_refresh_hours * 3600.0,
                settings.request_timeout_seconds,
            )
            if settings.celestrak_url and constellation is None
            else None
        )
        # Constellation mode is SGP4 only; the chain serves single mode.
        metrics.set_active(sgp4_source.NAME if constellation is not None else self.chain.active)

    # -- one tick -------------------------------------------------------------------------

    def tick(self) -> int:
        """Produce this tick's messages; the number of messages queued."""
        self._update_tle()
        if self.constellation is not None:
            queued = self._constellation_tick(self.constellation)
        else:
            queued = self._single_tick()
        self.health.ticked()
        return queued

    def _single_tick(self) -> int:
        now = self._monotonic()
        active = self.chain.active
        published = 0
        for source in self.chain.candidates(now):
            gate = self.gates[source]
            if gate.in_backoff(now):
                continue
            if gate.paced(now):
                if source == active:
                    break  # the active source sets the pace; no stand-in between its answers
                continue
            fix, failed = self._attempt(source, gate)
            if fix is not None:
                self.chain.record_success(source, self._monotonic())
                self._publish(fix)
                published = 1
                break
            if not failed:
                break  # the source answered but has nothing new yet: wait for the next tick
            self.chain.record_failure(source, self._monotonic())
        self.metrics.set_active(self.chain.active)
        return published

    def _attempt(self, source: str, gate: SourceGate) -> tuple[Fix | None, bool]:
        """The position from `source`, or None and whether that counts as a failure.

        A repeated timestamp is rejected but is no failure: the source is up and has not
        moved on yet (a frozen source ends up rejected as stale instead).
        """
        started = time.perf_counter()
        gate.requested(self._monotonic())
        outcome = "ok"
        fix: Fix | None = None
        failed = True
        try:
            fix = self._fetch(source)
            self.guard.check(fix)
            gate.consecutive_errors = 0
        except Rejected as exc:
            outcome, fix = "rejected", None
            failed = exc.reason is not RejectReason.REPEATED_TIMESTAMP
            self.metrics.rejected.labels(source=source, reason=exc.reason.value).inc()
            log.warning(
                "rejected answer from %s: %s",
                source,
                exc,
                extra={"source": source, "reason": exc.reason.value},
            )
        except FetchError as exc:
            outcome = exc.kind
            log.warning("fetch from %s failed: %s", source, exc, extra={"source": source})
        except HttpStatusError as exc:
            outcome = exc.outcome
            if exc.backs_off:
                gate.consecutive_errors += 1
                delay = backoff_delay(
                    gate.consecutive_errors,
                    parse_retry_after(exc.retry_after, self._wall()),
                    base_s=self.settings.backoff_base_seconds,
                    cap_s=self.settings.backoff_max_seconds,
                    rng=self._rng,
                )
                gate.back_off(self._monotonic(), delay)
                log.warning(
                    "%s answered HTTP %d; leaving it alone for %.1f s (Retry-After: %s)",
                    source,
                    exc.status,
                    delay,
                    exc.retry_after,
                    extra={"source": source, "status": exc.status},
                )
            else:
                log.warning("%s answered HTTP %d", source, exc.status, extra={"source": source})
        finally:
            self.metrics.fetch_duration.labels(source=source).observe(time.perf_counter() - started)
            self.metrics.fetches.labels(source=source, outcome=outcome).inc()
        return fix, failed

    def _fetch(self, source: str) -> Fix:
        settings = self.settings
        if source == sgp4_source.NAME:
            return self.sgp4.position(self._wall())
        url, parse = {
            wheretheiss.NAME: (settings.wheretheiss_url, wheretheiss.parse),
            opennotify.NAME: (settings.opennotify_url, opennotify.parse),
        }[source]
        body = get_body(self.session, url, settings.request_timeout_seconds)
        return parse(
            body,
            now=self._wall(),
            norad_id=settings.norad_id,
            max_future_s=settings.max_future_seconds,
            max_age_s=settings.max_age_seconds,
        )

    def _publish(self, fix: Fix) -> None:
        message = to_message(fix, self.settings.producer_id, self.sequence, self._wall())
        self.sequence += 1
        self.publisher.publish(message)

    def _constellation_tick(self, constellation: Constellation) -> int:
        started = time.perf_counter()
        when = self._wall()
        snapshot = constellation.propagate(when)
        self.metrics.fetch_duration.labels(source=sgp4_source.NAME).observe(
            time.perf_counter() - started
        )
        self.metrics.fetches.labels(source=sgp4_source.NAME, outcome="ok").inc()
        rejected = len(constellation) - int(snapshot.ok.sum())
        if rejected:
            self.metrics.rejected.labels(source=sgp4_source.NAME, reason="propagation_error").inc(
                rejected
            )
        assert self.encoder is not None
        messages = self.encoder.encode(snapshot, self.sequence, self._wall())
        self.sequence += len(messages)
        self.publisher.publish_encoded(messages)
        return len(messages)

    def _update_tle(self) -> None:
        now = self._wall()
        if self.constellation is not None:
            self.metrics.tle_age.set((now - self.constellation.oldest_epoch).total_seconds())
            return
        if self.refresher is not None and self.refresher.due(
            self._monotonic(), self.sgp4.record.age_seconds(now)
        ):
            record = self.refresher.fetch(self.session, self._monotonic())
            if record is not None and not self.sgp4.replace(record):
                log.info("TLE refresh brought nothing newer than %s", self.sgp4.record.epoch)
        self.metrics.tle_age.set(self.sgp4.record.age_seconds(now))

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> int:
        """Tick until `stop` is set, then flush; the process exit code."""
        tick_s = self.settings.tick_seconds
        age_days = self.sgp4.record.age_seconds(self._wall()) / 86400.0
        log.info(
            "producing to %s every %.3f s; chain %s; TLE epoch %s (%.1f days old)",
            self.settings.topic,
            tick_s,
            ",".join(self.chain.sources),
            self.sgp4.record.epoch.isoformat(),
            age_days,
        )
        if sgp4_source.NAME in self.chain.sources and age_days > _OLD_TLE_DAYS:
            log.warning(
                "the TLE is %.1f days old: SGP4 positions drift by kilometres per day after "
                "epoch; set ISS_PRODUCER_TLE_FILE or ISS_PRODUCER_CELESTRAK_URL for a fresh one",
                age_days,
            )
        next_at = self._monotonic()
        while not stop.is_set():
            self.tick()
            if self.publisher.fatal is not None:
                break
            next_at += tick_s
            now = self._monotonic()
            if next_at < now:
                missed = int((now - next_at) // tick_s) + 1
                next_at += missed * tick_s
            self._wait_until(next_at, stop)
        return self.shutdown()

    def _wait_until(self, deadline: float, stop: threading.Event) -> None:
        while not stop.is_set():
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                return
            self.publisher.poll(min(remaining, _POLL_SLICE_S))

    def shutdown(self) -> int:
        """Flush outstanding messages within the grace period; 0 when nothing was lost."""
        log.info("stopping: flushing %d outstanding message(s)", self.publisher.outstanding)
        remaining = self.publisher.flush(self.settings.shutdown_grace_seconds)
        publisher = self.publisher
        summary = {
            "sent": publisher.sent,
            "acknowledged": publisher.acknowledged,
            "failed": publisher.failed,
            "unflushed": remaining,
            "last_sequence": self.sequence - 1,
        }
        ok = remaining == 0 and publisher.fatal is None
        log.log(
            logging.INFO if ok else logging.ERROR,
            "stopped: sent=%d acknowledged=%d failed=%d unflushed=%d last_sequence=%d",
            *summary.values(),
            extra=summary,
        )
        return 0 if ok else 1
