from __future__ import annotations

import re

import pytest

from iss_dashboards.build import default_output_dir
from iss_dashboards.catalog import DASHBOARDS
from iss_dashboards.provisioning import configmaps

pytestmark = pytest.mark.unit


def test_every_generated_file_has_one_configmap_keyed_by_its_file_name() -> None:
    entries = configmaps(default_output_dir())

    assert sorted(entry.key for entry in entries) == sorted(DASHBOARDS)
    assert all(entry.path.name == entry.key and entry.path.is_file() for entry in entries)


def test_configmap_names_and_keys_are_valid_kubernetes_names() -> None:
    for entry in configmaps(default_output_dir()):
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", entry.name), entry.name
        assert len(entry.name) <= 40, "leave room for the release name prefix"
        assert re.fullmatch(r"[-._a-zA-Z0-9]+", entry.key), entry.key


def test_configmap_names_are_distinct() -> None:
    names = [entry.name for entry in configmaps(default_output_dir())]

    assert len(set(names)) == len(names)
