"""The thin HTTP edge shared by the API sources: one blocking GET, classified."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from iss_producer.errors import ProducerError

USER_AGENT = "iss-tracker-producer/0.1"


class FetchError(ProducerError):
    """No HTTP answer at all: `kind` is `timeout` or `connection_error`."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Answer:
    """What the server said."""

    status: int
    body: bytes
    retry_after: str | None


def get(session: requests.Session, url: str, timeout_s: float) -> Answer:
    """GET `url` once; the caller decides what a status means."""
    try:
        response = session.get(
            url, timeout=timeout_s, headers={"User-Agent": USER_AGENT}, allow_redirects=True
        )
    except requests.Timeout as exc:
        raise FetchError("timeout", str(exc)) from exc
    except requests.RequestException as exc:
        raise FetchError("connection_error", str(exc)) from exc
    return Answer(response.status_code, response.content, response.headers.get("Retry-After"))


class HttpStatusError(ProducerError):
    """The server answered with a status other than 200."""

    def __init__(self, status: int, retry_after: str | None, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:80]!r}")
        self.status = status
        self.retry_after = retry_after

    @property
    def outcome(self) -> str:
        """Label for iss_producer_fetches_total."""
        if self.status == 429:
            return "rate_limited"
        if self.status >= 500:
            return "server_error"
        return "http_error"

    @property
    def backs_off(self) -> bool:
        """429 and 5xx ask the client to slow down."""
        return self.status == 429 or self.status >= 500


def get_body(session: requests.Session, url: str, timeout_s: float) -> bytes:
    """The body of a 200 answer; HttpStatusError or FetchError otherwise."""
    answer = get(session, url, timeout_s)
    if answer.status != 200:
        raise HttpStatusError(answer.status, answer.retry_after, answer.body)
    return answer.body
