"""iss_passes is a bottom layer: the CLI, the operator and the live view may all import it."""

import ast
from pathlib import Path

import pytest

import iss_passes

pytestmark = pytest.mark.unit

ALLOWED_FIRST_PARTY = {"iss_passes", "iss_contract"}


def test_the_package_imports_only_third_party_libraries_and_the_contract() -> None:
    imported: set[str] = set()
    for path in Path(iss_passes.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    first_party = {name for name in imported if name.startswith("iss_")}
    assert first_party <= ALLOWED_FIRST_PARTY
    assert {"skyfield", "sgp4"} <= imported
