"""librdkafka's log lines through Python logging (so through the JSON formatter), without floods.

Each client is handed `kafka_logger(name)` as its `logger` property: librdkafka's lines become
log records of that logger instead of raw `%3|...|FAIL|` lines on stderr. A filter on it
(`KafkaLogGate`) does two things:

- A broker outage is one line when it starts (WARNING: the first connection error) and one
  when it ends (INFO, with how long it lasted and how many lines were held back), and the
  `kafka_unreachable` gauge of the caller's choosing is 1 in between. librdkafka reports a
  refused connection on every reconnect attempt (dozens a second with several brokers); none of
  those lines are printed during the outage. The outage ends when the application reports that
  the broker answered (`reachable()`: a delivery acknowledged, a poll that returned messages);
  connection errors in the `settle_s` after that (lines queued during the outage, connections
  still retrying) start no new outage.
- Any other line is rate-limited per facility: at most `burst` lines per `window_s`, the number
  held back reported with the next line that passes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

CONNECTION_FACILITIES = frozenset({"FAIL", "ERROR", "BROKERFAIL", "DISCONNECT"})
_CONNECTION_WORDS = ("Connection refused", "Connect to", "brokers are down", "Failed to resolve")
CLIENT_PROPERTIES = {"log.connection.close": False}
"""For every client: an idle connection closed by the broker is routine, not a line."""


class KafkaLogGate(logging.Filter):
    """Collapses connection errors into outage start/end lines and rate-limits the rest."""

    def __init__(
        self,
        *,
        burst: int = 5,
        window_s: float = 60.0,
        on_outage: Callable[[bool], None] = lambda down: None,
        clock: Callable[[], float] = time.monotonic,
        settle_s: float = 10.0,
    ) -> None:
        super().__init__()
        self._burst = burst
        self._window_s = window_s
        self._on_outage = on_outage
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int, int]] = {}
        self._down_since: float | None = None
        self._held_in_outage = 0
        self._settle_s = settle_s
        self._up_since = -settle_s
        self.logger: logging.Logger | None = None

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def filter(self, record: logging.LogRecord) -> bool:
        facility, text = _parts(record)
        with self._lock:
            if _is_connection_error(facility, text):
                if self._down_since is not None:
                    self._held_in_outage += 1
                    return False
                if self._clock() - self._up_since < self._settle_s:
                    return False  # queued from the outage that just ended, or its tail
                self._down_since = self._clock()
                self._held_in_outage = 0
                record.levelno, record.levelname = logging.WARNING, "WARNING"
                record.msg = (
                    "Kafka broker unreachable (%s); further connection errors are held back"
                    " until it answers again"
                )
                record.args = (text,)
                outage_started = True
            else:
                outage_started = False
                passed = self._rate_limited(facility, record)
        if outage_started:
            self._on_outage(True)
            return True
        return passed

    def _rate_limited(self, facility: str, record: logging.LogRecord) -> bool:
        now = self._clock()
        started, shown, held = self._windows.get(facility, (now, 0, 0))
        if now - started >= self._window_s:
            started, shown = now, 0
        if shown >= self._burst:
            self._windows[facility] = (started, shown, held + 1)
            return False
        self._windows[facility] = (started, shown + 1, 0)
        if held:
            record.msg = f"{record.msg} ({held} similar line(s) held back)"
        return True

    def reachable(self) -> None:
        """The application saw the broker answer: end the outage, if there is one."""
        if self._down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self._down_since is None:
                return
            self._up_since = self._clock()
            lasted = self._up_since - self._down_since
            held = self._held_in_outage
            self._down_since = None
        if self.logger is not None:
            self.logger.info(
                "Kafka broker reachable again after %.1f s (%d connection error line(s) held back)",
                lasted,
                held,
            )
        self._on_outage(False)


def _parts(record: logging.LogRecord) -> tuple[str, str]:
    """(facility, text) of a librdkafka record: confluent-kafka logs "%s [%s] %s" with
    (facility, client name, message) as its arguments."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 3:
        return str(args[0]), str(args[2])
    return "", record.getMessage()


def _is_connection_error(facility: str, text: str) -> bool:
    return facility in CONNECTION_FACILITIES and any(word in text for word in _CONNECTION_WORDS)


_GATES: dict[str, KafkaLogGate] = {}


def kafka_logger(
    name: str, on_outage: Callable[[bool], None] = lambda down: None, *, renew: bool = False
) -> tuple[logging.Logger, KafkaLogGate]:
    """The logger to hand a librdkafka client as its `logger` property, and its gate.

    The clients of one process that share a name share the gate (one outage, one line);
    `on_outage` is taken from the first call for a name, unless `renew` replaces the gate."""
    logger = logging.getLogger(name)
    gate = _GATES.get(name)
    if gate is not None and renew:
        logger.removeFilter(gate)
        gate = None
    if gate is None:
        gate = _GATES[name] = KafkaLogGate(on_outage=on_outage)
        gate.logger = logger
        logger.addFilter(gate)
    return logger, gate
