from pathlib import Path

import pytest

from iss_liveview.paths import resolve_static

pytestmark = pytest.mark.unit


@pytest.fixture
def root(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<html></html>")
    (static / "app.js").write_text("//")
    (tmp_path / "secret.txt").write_text("do not serve")
    return static


def test_empty_path_serves_the_index(root: Path) -> None:
    assert resolve_static(root, "") == (root / "index.html").resolve()
    assert resolve_static(root, "/") == (root / "index.html").resolve()


def test_a_file_in_the_directory_is_served(root: Path) -> None:
    assert resolve_static(root, "app.js") == (root / "app.js").resolve()


@pytest.mark.parametrize(
    "request_path",
    [
        "../secret.txt",
        "/../secret.txt",
        "js/../../secret.txt",
        "..",
        "..\\secret.txt",
        "%2e%2e/secret.txt",
        "%2E%2E%2Fsecret.txt",
        "..%2fsecret.txt",
        "%252e%252e/secret.txt",
        "index.html\x00.js",
        ".hidden",
    ],
)
def test_traversal_and_encoded_traversal_are_refused(root: Path, request_path: str) -> None:
    assert resolve_static(root, request_path) is None


def test_an_absolute_path_stays_inside_the_directory(root: Path) -> None:
    resolved = resolve_static(root, "//etc/passwd")
    assert resolved == (root / "etc" / "passwd").resolve()


def test_a_symlink_out_of_the_directory_is_refused(root: Path) -> None:
    (root / "link.txt").symlink_to(root.parent / "secret.txt")
    assert resolve_static(root, "link.txt") is None
