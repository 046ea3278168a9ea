"""Readers for raw text files as corpora distribute them: JSON Lines, JSON lists and XML with BOMs,
stray non-UTF-8 bytes and mojibake, each decoded so that one bad line or item is quarantined with
its position instead of failing (or silently truncating) the whole file.

- `Utf8Stream` reads a file as distributed (optional UTF-8 BOM, any line endings) and hands the parser valid
  UTF-8 in which every undecodable byte is replaced by `BAD_BYTE`, so one bad byte quarantines the record
  that holds it instead of stopping the whole file.
- `json_items` streams the items of a JSON list with ijson.
- `content_key` / `question_group` give stable keys and groups to records that carry no id of their own.
- `repair_mojibake` undoes UTF-8 text that was decoded as Windows-1252 before being saved ("itâ€™s" for
  "it’s", "Â°F" for "°F"), a quirk of the ChatDoctor and medAlpaca JSON files (with ftfy).
- `qa_pairs` turns a medAlpaca / ChatDoctor style list of {instruction, input, output} objects into
  Records of one task, quarantining broken and duplicate items.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

import ftfy
import ijson
import pyarrow.parquet as pq

from pipeline import forms
from pipeline.model import Item, RawFile, Record, Rejection

#: Undecodable bytes read with errors="surrogateescape" become lone surrogates.
_NOT_DECODED = re.compile("[\udc80-\udcff]")
#: A Unicode noncharacter, never found in real text: stands for one byte that is not valid UTF-8.
BAD_BYTE = "\ufdd0"
#: The decoding error handler that marks undecodable bytes as BAD_BYTE: `open(..., errors=MARK_BAD_BYTES)`.
MARK_BAD_BYTES = "meds_ins_mark_bad_bytes"


def _mark_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return BAD_BYTE * (error.end - error.start), error.end


codecs.register_error(MARK_BAD_BYTES, _mark_bad_bytes)


class Utf8Stream:
    """A binary file seen through a UTF-8 decoder: the BOM is dropped, bad bytes become BAD_BYTE, and
    `read` returns valid UTF-8 bytes (what ijson and expat expect)."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors=MARK_BAD_BYTES)

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # parsers probe the stream's type with read(0)
            return b""
        while True:
            chunk = self._raw.read(size)
            text = self._decoder.decode(chunk, final=not chunk)
            if text or not chunk:  # an incomplete multi-byte sequence decodes to "": read on
                return text.encode("utf-8")


def repair_mojibake(text: str) -> str:
    """`text` with UTF-8 that was mis-decoded as Windows-1252 decoded again (ftfy's well-tested repair;
    it leaves text alone unless the fix is unambiguous)."""
    return ftfy.fix_encoding(text)


def has_bad_bytes(*texts: str) -> bool:
    return any(BAD_BYTE in text for text in texts)


def json_items(path: Path, name: str) -> Iterator[tuple[int, object]]:
    """(1-based position, item) of the JSON list in `path`, streamed. A file that is not a JSON list, or
    whose syntax breaks, raises ValueError naming the file and the last item read."""
    with open(path, "rb") as raw:
        stream = Utf8Stream(raw)
        head = stream.read(1 << 16)
        if not head.lstrip().startswith(b"["):
            found = head.lstrip()[:1].decode("utf-8", "replace") or "an empty file"
            raise ValueError(f"{name}: expected a JSON list of objects, found {found!r} at the start")
        number = 0
        try:
            for number, item in enumerate(ijson.items(_Prefixed(head, stream), "item"), start=1):
                yield number, item
        except ijson.JSONError as error:
            where = f"after item {number}" if number else "before the first item"
            raise ValueError(f"{name}: malformed JSON {where}: {error}") from error


class _Prefixed:
    """A stream with `head` (already read) put back in front."""

    def __init__(self, head: bytes, rest: Utf8Stream):
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self._head and size != 0:
            out, self._head = self._head, b""
            return out
        return self._rest.read(size)


def content_key(*parts: str) -> str:
    """A stable key for a record without an id: a hash of its content, so it survives re-ordering."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def question_group(question: str) -> str:
    """The split group of a question: answers to the same question (up to case and spacing) stay together."""
    return "q" + hashlib.sha1(" ".join(question.casefold().split()).encode("utf-8")).hexdigest()[:16]


def text_problem(value: object, field: str) -> str | None:
    """Why a raw field cannot be used as text, or None."""
    if value is None:
        return f"missing {field}"
    if not isinstance(value, str):
        return f"{field} is not a string ({type(value).__name__})"
    if not value.strip():
        return f"empty {field}"
    if has_bad_bytes(value):
        return f"non-UTF-8 byte in {field}"
    return None


def qa_pairs(
    task_id: str,
    path: Path,
    name: str,
    question_field: str = "input",
    answer_field: str = "output",
    make_input: Callable[[str], str] = str.strip,
) -> Iterator[Item]:
    """Records from a JSON list of objects holding a question and its answer (other fields, such as the
    constant `instruction`, are ignored); mojibake is repaired. Key: hash of question and answer; group: the
    question; locator: `item N` (1-based position in the list). An exact repeat of an earlier pair is
    quarantined."""
    first_seen: dict[str, int] = {}
    for number, item in json_items(path, name):
        locator = f"item {number}"
        if not isinstance(item, dict):
            yield Rejection("item is not a JSON object", name, locator, task_id, str(item)[:200])
            continue
        question, answer = item.get(question_field), item.get(answer_field)
        problem = text_problem(question, question_field) or text_problem(answer, answer_field)
        if problem:
            yield Rejection(problem, name, locator, task_id, _preview(question))
            continue
        question, answer = repair_mojibake(question).strip(), repair_mojibake(answer).strip()
        key = content_key(question, answer)
        if key in first_seen:
            reason = f"repeats an earlier item (same {question_field} and {answer_field})"
            yield Rejection(reason, name, locator, task_id, f"item {first_seen[key]}")
            continue
        first_seen[key] = number
        try:
            text = make_input(question)
        except forms.FormError as error:
            yield Rejection(str(error), name, locator, task_id, _preview(question))
            continue
        yield Record(task_id, key, text, answer, name, locator, group=question_group(question))


def _preview(value: object) -> str | None:
    return value[:200] if isinstance(value, str) and value.strip() else None


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


def hub_parquet(name: str, hub_split: str, split: str | None) -> RawFile:
    """The Parquet files of one split of a Hugging Face Hub dataset, as `save_to_disk`/`to_parquet` users
    and the Hub's parquet branch lay them out: `<hub_split>-00000-of-0000N.parquet` or `<hub_split>/0000.parquet`,
    anywhere below the raw folder."""
    patterns = (f"**/{hub_split}-*.parquet", f"**/{hub_split}/*.parquet")
    return RawFile(name, patterns, required=False, split=split)


def parquet_rows(path: Path, name: str, columns: Sequence[str]) -> Iterator[tuple[int, dict]]:
    """(1-based row number, row) of a Parquet file, a batch at a time; a file that is not Parquet or lacks
    `columns` raises ValueError naming the file."""
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid / OSError for a damaged file
        raise ValueError(f"{name}: not a readable Parquet file: {error}") from error
    missing = [c for c in columns if c not in parquet.schema_arrow.names]
    if missing:
        raise ValueError(f"{name}: lacks columns {missing}; has {parquet.schema_arrow.names}")
    number = 0
    for batch in parquet.iter_batches(columns=list(columns)):
        for row in batch.to_pylist():
            number += 1
            yield number, row


def csv_rows(
    source: Path | TextIO, name: str, required: Sequence[str], lower_header: bool = False
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(row number, row) for each data row of a CSV with a header, or (row number, reason) for a row that
    cannot be read (wrong number of fields, bytes that are not valid in the file's encoding); the header
    (row 1) must name the `required` columns. Row numbers count CSV records, not lines. `source` is a path
    (read as UTF-8) or a text stream opened with errors="surrogateescape" (e.g. a zip member)."""
    if isinstance(source, Path):
        with source.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
            yield from csv_rows(text, name, required, lower_header)
        return
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(source)
    header = [c.strip().lower() if lower_header else c.strip() for c in next(reader, [])]
    if not set(required) <= set(header):
        raise ValueError(f"{name}: header {header} lacks columns {[c for c in required if c not in header]}")
    for number, cells in enumerate(reader, 2):
        if not cells or cells == [""]:
            continue
        if len(cells) != len(header):
            yield number, f"{len(cells)} fields, expected {len(header)} ({','.join(header)})"
        elif any(_NOT_DECODED.search(c) for c in cells):
            yield number, "bytes that are not valid in the file's encoding"
        else:
            yield number, dict(zip(header, cells, strict=True))


def keyed_rows(
    rows: Iterable[tuple[int, dict[str, str] | str]], name: str, task_id: str, key: str, seen: dict[str, str]
) -> Iterator[tuple[str, dict[str, str]] | Rejection]:
    """The rows of `csv_rows` (cells stripped) with their locator `row N (<key> K)`, each key once: a row
    that cannot be read, has no key, or repeats a key already in `seen` (possibly from another file) is a
    Rejection instead. `seen` maps each key to where it was first read."""
    for number, cells in rows:
        where = f"row {number}"
        if isinstance(cells, str):
            yield Rejection(cells, name, where, task_id)
            continue
        row = {column: value.strip() for column, value in cells.items()}
        value = row.get(key, "")
        if not value:
            yield Rejection(f"missing {key}", name, where, task_id)
            continue
        where = f"{where} ({key} {value})"
        if value in seen:
            yield Rejection(f"{key} repeated (an earlier row has it)", name, where, task_id, seen[value])
            continue
        seen[value] = f"{name} {where}"
        yield where, row
