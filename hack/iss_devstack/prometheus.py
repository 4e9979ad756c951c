"""Prometheus from Debian packages, scraping targets listed in generated file_sd files."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
import yaml

from iss_devstack.apt import ensure_packages
from iss_devstack.errors import DevstackError
from iss_devstack.procs import Process, free_port, port_open
from iss_devstack.progress import step
from iss_devstack.settings import DevstackSettings

BINARY = "/usr/bin/prometheus"


def ensure_installed() -> str:
    ensure_packages(["prometheus"], provides=BINARY)
    return BINARY


def scrape_config(
    targets_dir: Path,
    scrape_interval: str,
    rule_files: Sequence[Path] = (),
    alertmanagers: Sequence[str] = (),
) -> dict[str, Any]:
    """A configuration that scrapes every target listed in `targets_dir/*.json`, evaluates
    `rule_files` at the scrape interval and sends alerts to `alertmanagers` (host:port)."""
    config: dict[str, Any] = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
    }
    if rule_files:
        config["rule_files"] = [str(path) for path in rule_files]
    if alertmanagers:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]
        }
    config["scrape_configs"] = [
        {
            "job_name": "file-sd",
            "file_sd_configs": [{"files": [str(targets_dir / "*.json")], "refresh_interval": "1s"}],
        }
    ]
    return config


class Prometheus:
    """A Prometheus server on 127.0.0.1 whose scrape targets can be added while it runs."""

    def __init__(
        self,
        settings: DevstackSettings,
        data_dir: Path,
        port: int,
        *,
        scrape_interval: str = "1s",
        rule_files: Sequence[Path] = (),
        alertmanagers: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        self.rule_files = tuple(rule_files)
        self.alertmanagers = tuple(alertmanagers)
        self.data_dir = data_dir
        self.port = port
        self.scrape_interval = scrape_interval
        self.targets_dir = data_dir / "targets"
        self.process = Process(
            name="prometheus",
            argv=[],
            log_path=data_dir / "prometheus.log",
            pid_path=data_dir / "prometheus.pid",
        )

    @classmethod
    def for_devstack(cls, settings: DevstackSettings) -> Prometheus:
        """The server of the local stack (`make up`), on its configured port."""
        return cls(
            settings,
            settings.state_dir / "prometheus",
            settings.prometheus_port,
            scrape_interval="5s",
        )

    @classmethod
    def for_tests(
        cls,
        settings: DevstackSettings,
        data_dir: Path,
        *,
        rule_files: Sequence[Path] = (),
        alertmanagers: Sequence[str] = (),
    ) -> Prometheus:
        return cls(
            settings, data_dir, free_port(), rule_files=rule_files, alertmanagers=alertmanagers
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        binary = ensure_installed()
        if port_open(self.port):
            raise DevstackError(
                f"port {self.port} is already in use; is another Prometheus running?"
            )
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                scrape_config(
                    self.targets_dir, self.scrape_interval, self.rule_files, self.alertmanagers
                )
            )
        )
        self.process.argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=7d",
        ]
        with step(f"starting Prometheus on {self.url}"):
            self.process.start()
            self.process.wait_until(self.ready, timeout, "/-/ready answers 200")

    def ready(self) -> bool:
        return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200

    def stop(self) -> None:
        self.process.stop(grace=30)

    def add_target(self, job: str, address: str, labels: dict[str, str] | None = None) -> None:
        """Scrape `address` (host:port, path /metrics) under the `job` label from now on."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{job}-{address}")
        group = {"targets": [address], "labels": {"job": job, **(labels or {})}}
        staging = self.targets_dir / f".{name}.tmp"
        staging.write_text(json.dumps([group]))
        staging.rename(self.targets_dir / f"{name}.json")

    def remove_target(self, job: str, address: str) -> None:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{job}-{address}")
        (self.targets_dir / f"{name}.json").unlink(missing_ok=True)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The result vector of an instant query."""
        response = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body: dict[str, Any] = response.json()
        if body.get("status") != "success":
            raise DevstackError(f"query {expr!r} failed: {body.get('error', body)}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, expr: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll an instant query until it returns a non-empty result."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"Prometheus returned nothing for {expr!r} in {timeout:.0f}s")
            time.sleep(0.5)


def main() -> None:
    """Run Prometheus in the foreground on the `make up` port."""
    prometheus = Prometheus.for_devstack(DevstackSettings())
    prometheus.start()
    print(f"Prometheus is up: {prometheus.url} (Ctrl-C stops it)", file=sys.stderr)
    try:
        prometheus.process.wait_until_interrupted()
    finally:
        prometheus.stop()


if __name__ == "__main__":
    main()
