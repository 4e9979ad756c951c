"""A small asyncio Kubernetes client: every request has a deadline and can be abandoned.

The operator's own calls (status, restarts, Events, the leader Lease) go through here rather
than through the synchronous ``kubernetes`` client, whose calls run in threads that can be
neither cancelled nor bounded. Each request carries the API server's own ``timeout`` parameter
too, so a request the server holds (waiting on etcd, say) is abandoned there as well. Sockets
close with a reset (SO_LINGER 0): a request abandoned before a frozen server read it is dropped
by the kernel instead of being applied when the server wakes up.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohappyeyeballs import AddrInfoType
from kubernetes import client, config

MERGE_PATCH = "application/merge-patch+json"


class KubeError(RuntimeError):
    """A request failed; ``reason`` is a short CamelCase word fit for a status field."""

    def __init__(self, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Credentials:
    """Where the API server is and how to authenticate to it."""

    server: str
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    verify: bool
    configuration: client.Configuration

    def authorization(self) -> str | None:
        # Re-read per request: in a pod, the projected token is rotated (the refresh hook).
        value: str | None = self.configuration.get_api_key_with_prefix("authorization")
        return value


def load_credentials(kubeconfig: str | None = None) -> Credentials:
    """In a pod, the service account; elsewhere ``kubeconfig``, $KUBECONFIG or ~/.kube/config."""
    configuration = client.Configuration()
    try:
        if kubeconfig is not None:
            raise config.ConfigException("a kubeconfig was given")
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    return Credentials(
        server=str(configuration.host).rstrip("/"),
        ca_file=configuration.ssl_ca_cert,
        cert_file=configuration.cert_file,
        key_file=configuration.key_file,
        verify=bool(configuration.verify_ssl),
        configuration=configuration,
    )


def _resetting_socket(addr_info: AddrInfoType) -> socket.socket:
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=kind, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return sock


class Kube:
    """Requests against one API server, each bounded by ``timeout_seconds``."""

    def __init__(self, credentials: Credentials, timeout_seconds: float) -> None:
        self.credentials = credentials
        self.timeout_seconds = timeout_seconds
        context: ssl.SSLContext | bool = False
        if credentials.server.startswith("https://"):
            context = ssl.create_default_context(cafile=credentials.ca_file)
            if credentials.cert_file and credentials.key_file:
                context.load_cert_chain(credentials.cert_file, credentials.key_file)
            if not credentials.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context, socket_factory=_resetting_socket, limit=20),
        )

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        timeout_seconds: float | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One request; the JSON answer, or KubeError (HTTP error, timeout, no connection)."""
        timeout = timeout_seconds or self.timeout_seconds
        headers = {"Accept": "application/json", "Content-Type": content_type}
        authorization = self.credentials.authorization()
        if authorization:
            headers["Authorization"] = authorization
        # The server gives up a little before the client does, so its answer can arrive.
        params = {**(query or {}), "timeout": f"{max(int(timeout) - 1, 1)}s"}
        url = f"{self.credentials.server}{path}"
        data = None if body is None else json.dumps(body)
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise KubeError(
                        _reason(response.status),
                        f"{method} {path}: HTTP {response.status}: {_message(text)}",
                        response.status,
                    )
                answer: dict[str, Any] = json.loads(text) if text else {}
                return answer
        except TimeoutError as exc:
            raise KubeError("Timeout", f"{method} {path}: no answer in {timeout:g}s") from exc
        except aiohttp.ClientError as exc:
            raise KubeError("Unreachable", f"{method} {path}: {exc}") from exc
        except ValueError as exc:
            raise KubeError("BadResponse", f"{method} {path}: {exc}") from exc

    async def merge_patch(
        self, path: str, body: dict[str, Any], timeout_seconds: float | None = None
    ) -> dict[str, Any]:
        return await self.request(
            "PATCH", path, body, content_type=MERGE_PATCH, timeout_seconds=timeout_seconds
        )


def _reason(status: int) -> str:
    return {
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        422: "Invalid",
        429: "TooManyRequests",
    }.get(status, "ServerError" if status >= 500 else "RequestRefused")


def _message(text: str) -> str:
    try:
        payload = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return str(payload["message"])[:300]
    return text[:200]
