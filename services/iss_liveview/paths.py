"""Map a request path onto a file inside the static directory, or refuse it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

INDEX = "index.html"


def resolve_static(root: Path, request_path: str) -> Path | None:
    """The file under `root` that `request_path` names, or None when it must not be served.

    `request_path` is the already percent-decoded path. Anything that could climb out of the
    directory is refused before touching the file system: `..` segments, absolute paths,
    backslashes, NUL bytes and leftover `%` escapes (a double-encoded `..`). The final
    resolved path is checked to stay under `root` too, so a symlink cannot leak a file.
    """
    if any(bad in request_path for bad in ("\\", "\x00", "%")):
        return None
    relative = request_path.lstrip("/") or INDEX
    parts = PurePosixPath(relative).parts
    if any(part in ("..", ".") or part.startswith(".") for part in parts):
        return None
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if not candidate.is_relative_to(base) or candidate == base:
        return None
    return candidate
