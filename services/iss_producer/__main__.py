"""`iss-producer`: publish ISS (or constellation) positions to Kafka."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from pydantic import ValidationError

from iss_physics.tle import ElementsError, find, read_tle_file
from iss_producer.constellation import Constellation
from iss_producer.metrics import Health, MetricsServer, ProducerMetrics
from iss_producer.publisher import Publisher
from iss_producer.service import ProducerService
from iss_producer.settings import Mode, ProducerSettings
from iss_producer.sources.sgp4_source import Sgp4Source
from iss_runtime.logs import configure

log = logging.getLogger("iss_producer")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="iss-producer",
        description="Publish satellite positions to Kafka. Configured by ISS_PRODUCER_* "
        "environment variables (see docs/producer.md).",
    )
    parser.add_argument("--log-format", choices=["json", "text"], help="override the log format")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        settings = ProducerSettings()
    except ValidationError as exc:
        print(f"iss-producer: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    configure(args.log_format or settings.log_format, settings.log_level)

    try:
        sgp4 = Sgp4Source(find(read_tle_file(settings.tle_file), settings.norad_id))
        constellation = None
        if settings.mode is Mode.CONSTELLATION:
            if settings.constellation_file is None:
                log.error("constellation mode needs ISS_PRODUCER_CONSTELLATION_FILE")
                return 2
            constellation = Constellation(read_tle_file(settings.constellation_file))
            log.info("constellation of %d satellites", len(constellation))
    except ElementsError as exc:
        log.error("cannot load TLE: %s", exc)
        return 2

    metrics = ProducerMetrics(["sgp4"] if constellation is not None else settings.sources)
    health = Health(settings.liveness_stall_seconds, settings.readiness_stale_seconds)
    server = MetricsServer(settings.metrics_host, settings.metrics_port, metrics.registry, health)
    server.start()
    log.info("metrics on http://%s:%d/metrics", settings.metrics_host, server.port)

    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    publisher = Publisher(settings, metrics, health)
    service = ProducerService(
        settings, publisher, metrics, health, sgp4, constellation=constellation
    )
    try:
        return service.run(stop)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
