"""Alertmanager from Debian's prometheus-alertmanager package, on 127.0.0.1 with no gossip port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
import yaml

from iss_devstack.apt import ensure_packages
from iss_devstack.errors import DevstackError
from iss_devstack.procs import Process, free_port, port_open
from iss_devstack.progress import step
from iss_devstack.settings import DevstackSettings

BINARY = "/usr/bin/prometheus-alertmanager"


def ensure_installed() -> str:
    ensure_packages(["prometheus-alertmanager"], provides=BINARY)
    return BINARY


def webhook_config(
    url: str, *, group_wait: str = "1s", group_interval: str = "1s"
) -> dict[str, Any]:
    """Every alert, one group per alert name, to one webhook, resolved notifications included."""
    return {
        "route": {
            "receiver": "webhook",
            "group_by": ["alertname", "namespace", "job"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "1h",
        },
        "receivers": [
            {"name": "webhook", "webhook_configs": [{"url": url, "send_resolved": True}]}
        ],
    }


class Alertmanager:
    """An Alertmanager on 127.0.0.1; clustering is off, so it opens no other port."""

    def __init__(
        self, settings: DevstackSettings, data_dir: Path, port: int, config: dict[str, Any]
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.port = port
        self.config = config
        self.process = Process(
            name="alertmanager",
            argv=[],
            log_path=data_dir / "alertmanager.log",
            pid_path=data_dir / "alertmanager.pid",
        )

    @classmethod
    def for_tests(
        cls, settings: DevstackSettings, data_dir: Path, config: dict[str, Any]
    ) -> Alertmanager:
        return cls(settings, data_dir, free_port(), config)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """host:port, as Prometheus's alerting configuration lists it."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        binary = ensure_installed()
        if port_open(self.port):
            raise DevstackError(f"port {self.port} is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "alertmanager.yml"
        config.write_text(yaml.safe_dump(self.config))
        self.process.argv = [
            binary,
            f"--config.file={config}",
            f"--storage.path={self.data_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
        ]
        with step(f"starting Alertmanager on {self.url}"):
            self.process.start()
            self.process.wait_until(self.ready, timeout, "/-/ready answers 200")

    def ready(self) -> bool:
        return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200

    def stop(self) -> None:
        self.process.stop(grace=30)

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds now (API v2)."""
        response = requests.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found
