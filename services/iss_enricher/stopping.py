"""A graceful stop on SIGTERM or SIGINT: the Kafka source ends its stream, the dataflow drains.

Raising KeyboardInterrupt from the signal handler, Python's default for SIGINT, would surface
inside whichever callback the worker happens to be running (a sink's write, the enrichment)
and Bytewax answers an exception from a callback with a panic. Instead the first signal only
sets a flag. The Kafka source checks it before every poll and, once it is set, reports the end
of its partitions; Bytewax then finishes the batches in flight, writes the final snapshot,
emits the open aggregate windows as they stand (they stay open in the snapshot and are completed
after a restart) and closes the sinks, and the process exits 0.

A drain cannot finish while Kafka or PostgreSQL is down (the sinks hold their batch until it is
written), so the first signal also starts a timer: if the process is still stopping after
`grace_seconds` (less than the chart's termination grace period), it exits with status 1. The
last snapshot stands and the batches not committed are replayed after a restart. A second
signal exits at once with status 130, whatever the process is waiting for.

The signals are not handled by Python's usual handlers, which run only when the main thread
executes Python code: a main thread blocked in a C call (a Kafka client closing while the broker
is down) would never see them. Instead `install`, called before any other thread starts, blocks
SIGTERM and SIGINT in every thread and one thread of its own waits for them (`sigwait`) and acts
at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

STOP_TIMEOUT_EXIT = 1
SECOND_SIGNAL_EXIT = 130

logger = logging.getLogger(__name__)


class StopRequest:
    """Set once a stop signal arrived; read by the Kafka source before every poll."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the request; whether it arrived."""
        return self._event.wait(timeout)


def exit_now(status: int, message: str) -> None:
    """Log and leave at once: no interpreter shutdown (it would wait for the positions output's
    helper thread, which may be retrying a database that is down)."""
    logger.warning(message)
    logging.shutdown()
    os._exit(status)


def _give_up(grace_seconds: float) -> None:
    exit_now(
        STOP_TIMEOUT_EXIT,
        f"still stopping after {grace_seconds:.0f} s (Kafka or PostgreSQL unreachable?); exiting;"
        " batches not committed are replayed after a restart",
    )


def install(request: StopRequest, grace_seconds: float | None = None) -> None:
    """Handle SIGTERM and SIGINT: the first asks for a graceful stop (given up after
    `grace_seconds`, when set), a second forces one. Call it before starting other threads:
    they inherit the blocked signals, so only the waiting thread receives them."""
    signals = {signal.SIGTERM, signal.SIGINT}

    def handle(signum: int) -> None:
        name = signal.Signals(signum).name
        if request.is_set():
            exit_now(
                SECOND_SIGNAL_EXIT,
                f"{name} again: stopped at once by a second signal;"
                " batches not committed are replayed",
            )
        logger.info("%s: finishing the batches in flight, then stopping", name)
        request.set()
        if grace_seconds is not None:
            timer = threading.Timer(grace_seconds, _give_up, (grace_seconds,))
            timer.daemon = True
            timer.start()

    def wait_for_signals() -> None:
        while True:
            handle(signal.sigwait(signals))

    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    threading.Thread(target=wait_for_signals, name="stop-signals", daemon=True).start()
