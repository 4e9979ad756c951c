"""A graceful stop on SIGTERM or SIGINT: the Kafka source ends its stream, the dataflow drains.

Raising KeyboardInterrupt from the signal handler, Python's default for SIGINT, would surface
inside whichever callback the worker happens to be running (a sink's write, the enrichment)
and Bytewax answers an exception from a callback with a panic. Instead the first signal only
sets a flag. The Kafka source checks it before every poll and, once it is set, reports the end
of its partitions; Bytewax then finishes the batches in flight, writes the final snapshot,
emits the open aggregate windows as they stand (they stay open in the snapshot and are completed
after a restart) and closes the sinks, and the process exits 0. A second signal raises
KeyboardInterrupt for those who cannot wait (a database outage holds the sink until the
database is back).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

logger = logging.getLogger(__name__)


class StopRequest:
    """Set once a stop signal arrived; read by the Kafka source before every poll."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def install(request: StopRequest) -> None:
    """Handle SIGTERM and SIGINT: the first asks for a graceful stop, a second forces one."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if request.is_set():
            raise KeyboardInterrupt(f"{name} again: stopping at once")
        logger.info("%s: finishing the batches in flight, then stopping", name)
        request.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
