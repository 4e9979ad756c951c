"""Reading Prometheus's text exposition format with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def _samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def sample_value(text: str, sample: str) -> float:
    """The value of one sample of `text`; `sample` is written as exposed: a name and, when it
    has labels, all of them (`iss_x_total{table="positions"}`)."""
    (wanted,) = _samples(f"{sample} 0\n")
    for found in _samples(text):
        if found.name == wanted.name and found.labels == wanted.labels:
            return float(found.value)
    raise AssertionError(f"{sample} is not exposed")


def sample_sum(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(
        float(s.value)
        for s in _samples(text)
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )
