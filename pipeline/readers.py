"""Line readers shared by converters: they decode line by line, so one bad byte or one broken line
becomes a quarantined record with its line number instead of failing (or silently truncating) the
whole file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path


def text_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text without the line break, None), or (line number, the line with replacement
    characters, problem) for a line that is not UTF-8. A BOM on the first line is dropped."""
    for number, raw in enumerate(lines, 1):
        try:
            yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n"), None
        except UnicodeDecodeError as error:
            bad = f"not valid UTF-8: byte 0x{raw[error.start]:02x} at offset {error.start}"
            yield number, raw.decode("utf-8", "replace").rstrip("\r\n"), bad


def json_lines(source: Path | Iterable[bytes]) -> Iterator[tuple[int, dict | str, str | None]]:
    """JSON Lines: (line number, object, None) per non-blank line, or (line number, the raw line,
    problem) for a line that is not UTF-8, not JSON, or not a JSON object. `source` is a path or an
    iterable of byte lines (e.g. a member of a zip archive)."""
    if isinstance(source, Path):
        with source.open("rb") as f:
            yield from json_lines(f)
        return
    for number, line, problem in text_lines(source):
        if problem:
            yield number, line, problem
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, line, f"invalid JSON: {error.msg} at character {error.pos}"
            continue
        yield (number, row, None) if isinstance(row, dict) else (number, line, "line is not a JSON object")
