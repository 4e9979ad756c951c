"""Write the generated JSON Schemas, or with `--check` fail when a committed one is stale."""

from __future__ import annotations

import argparse
import sys

from iss_contract.schemas import GENERATED, path_of, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m iss_contract.schemas",
        description="Generate the JSON Schemas that are derived from the contract's structs.",
    )
    parser.add_argument("--check", action="store_true", help="fail when a file is not current")
    args = parser.parse_args(argv)
    stale = []
    for name in GENERATED:
        path, text = path_of(name), render(name)
        if path.read_text("utf-8") == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.write_text(text, "utf-8")
            print(f"wrote {path}", file=sys.stderr)
    if stale:
        print(f"stale, run `make generated`: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
