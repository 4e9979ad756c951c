import urllib.error
import urllib.request

import pytest

from iss_producer.metrics import Health, MetricsServer, ProducerMetrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.unit
def test_health_endpoints_follow_the_loop_and_the_acks() -> None:
    clock = Clock()
    health = Health(stall_s=60.0, stale_s=30.0, clock=clock)
    metrics = ProducerMetrics(["wheretheiss", "sgp4"])
    server = MetricsServer("127.0.0.1", 0, metrics.registry, health)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert status(f"{base}/healthz") == 200
        assert status(f"{base}/readyz") == 503  # nothing acknowledged yet
        health.acknowledged()
        assert status(f"{base}/readyz") == 200
        clock.now += 31
        assert status(f"{base}/readyz") == 503
        clock.now += 30
        assert status(f"{base}/healthz") == 503  # no tick for 61 s
        health.ticked()
        assert status(f"{base}/healthz") == 200
        assert status(f"{base}/nothing") == 404
    finally:
        server.stop()


@pytest.mark.unit
def test_metrics_page_has_the_contract_names_and_the_active_source() -> None:
    metrics = ProducerMetrics(["wheretheiss", "open-notify", "sgp4"])
    metrics.set_active("open-notify")
    metrics.fetches.labels(source="sgp4", outcome="ok").inc()
    metrics.rejected.labels(source="wheretheiss", reason="html_body").inc()
    server = MetricsServer("127.0.0.1", 0, metrics.registry, Health(60.0, 30.0))
    server.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as r:
            page = r.read().decode()
    finally:
        server.stop()
    for name in [
        "iss_producer_fetches_total",
        "iss_producer_fetch_duration_seconds_bucket",
        "iss_producer_rejected_total",
        "iss_producer_messages_produced_total",
        "iss_producer_delivery_failures_total",
        "iss_producer_last_publish_timestamp_seconds",
        "iss_producer_tle_age_seconds",
    ]:
        assert name in page
    assert 'iss_producer_current_source{source="open-notify"} 1.0' in page
    assert 'iss_producer_current_source{source="wheretheiss"} 0.0' in page
    assert 'iss_producer_rejected_total{reason="html_body",source="wheretheiss"} 1.0' in page
