"""BioLORD Dataset v1 (Remy et al., Findings of EMNLP 2022): biomedical concept names paired with a textual
description of the concept (UMLS definitions and descriptions generated from the UMLS/SNOMED CT knowledge
graph), built to train embedding models that bring a name and its description together.

Distribution read: no copy of the corpus was available to check its layout, so this follows the most widely
used public distribution, the Hugging Face dataset FremyCompany/BioLORD-Dataset (one `train` split, ~25M rows),
as its files are obtained from the Hub: Parquet shards (`data/train-*.parquet`, or the Hub's parquet export
`default/train/*.parquet`; form `parquet`), or the same table as CSV (`*.csv`, `*.csv.gz`, e.g. written with
`datasets`' `to_csv`; form `csv`). UNCERTAIN: the column names are not confirmed. One row is taken to hold one
concept name and one description; the columns are found by name, case-insensitively: the name from `name` /
`concept_name` / `concept` / `term`, the description from `definition` / `description` / `desc` / `text`, and
an optional concept identifier from `id` / `concept_id` / `cui` / `umls_cui` / `sctid`. A file whose header has
no name or no description column stops the build with an error naming the file and its columns. The bundled
sample uses `name` and `definition` (no identifier column).

Tasks (MedS-Ins tasks 48-50), per row:
- `biolord_explanation`: input = the concept name; output = the description.
- `biolord_summarization`: input = the description; output = the concept name.
- `biolord_text_matching`: input = the description and four candidate concept names (`forms.multiple_choice`);
  output = `<letter>. <name>` of the row's own name (`forms.choice_answer`). The three wrong names come from
  the 64 rows read before (a row found too early waits for later rows), chosen by a hash of the row. Rows of
  the same concept are kept out of the wrong options: rows that share a name or a description with the row
  (or with such a row, transitively, within those 64 rows) and, where the file has an identifier column, rows
  with the same identifier. Without identifiers, a synonym listed only far away in the file could still slip
  in; the dataset gives no way to rule that out.

The dataset has no id per row and no official split: the key is a hash of the (name, description) pair, so
the Parquet and CSV forms give the same ids; an exact repeat of a pair gets the same id and is quarantined by
the build as a duplicate. The group is the concept identifier where there is one, else a hash of the
description, so a description never appears in both the training and the test part of the hash split. Rows
with an empty name or description, or a description that only repeats the name, are rejected.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pyarrow.parquet as pq

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="biolord",
    name="BioLORD Dataset",
    homepage="https://huggingface.co/datasets/FremyCompany/BioLORD-Dataset",
    license="unspecified (definitions derived from UMLS / SNOMED CT, whose licences apply)",
    access="open",
    citation=(
        "Remy, F., Demuynck, K. and Demeester, T. (2022). BioLORD: Learning Ontological Representations from "
        "Definitions for Biomedical Concepts and their Textual Descriptions. Findings of EMNLP 2022, pp. 1454-1465."
    ),
    obtain=(
        "Download the Hugging Face dataset FremyCompany/BioLORD-Dataset (accept its terms on the Hub), e.g. "
        "`huggingface-cli download FremyCompany/BioLORD-Dataset --repo-type dataset --local-dir <raw>/biolord`, "
        "which gives the Parquet shards (data/train-*.parquet); a CSV export of the same table "
        "(load_dataset(...)['train'].to_csv('BioLORD-Dataset.csv')) is accepted too."
    ),
    version="v1",
    forms=(
        RawForm(
            "parquet",
            (
                RawFile(
                    "train",
                    ("data/train-*.parquet", "default/train/*.parquet", "train/*.parquet", "*.parquet"),
                    description="the Hub's Parquet shards of the train split",
                ),
            ),
            "Hugging Face Parquet shards (data/train-*.parquet)",
        ),
        RawForm(
            "csv",
            (RawFile("train", ("*.csv", "*.csv.gz", "data/*.csv", "data/*.csv.gz"), description="CSV export"),),
            "a CSV export of the same table",
        ),
    ),
    # The Hub copy (gated: accept its terms on the Hub and log in first). Read from the Parquet conversion the Hub
    # keeps for its viewer; the config/split layout (default/train/) is assumed, not verified here.
    downloads=(
        Download(
            hf_dataset="FremyCompany/BioLORD-Dataset",
            revision="refs/convert/parquet",
            files=("default/train/*.parquet",),
            note="gated on the Hub; the Parquet layout default/train/ is not verified",
        ),
    ),
)

_TAGS = ("Biomedical Concepts", "UMLS")
TASKS = (
    Task("biolord_text_matching", "Text Retrieval", "Medical Knowledge", tags=_TAGS),
    Task("biolord_summarization", "Text Summarization", "Medical Knowledge", tags=_TAGS, several_outputs=True),
    Task("biolord_explanation", "Explanation", "Medical Knowledge", tags=_TAGS),
)
MATCHING, SUMMARIZATION, EXPLANATION = (t.id for t in TASKS)

NAME_COLUMNS = ("name", "concept_name", "concept", "term")
DESCRIPTION_COLUMNS = ("definition", "description", "desc", "text")
ID_COLUMNS = ("id", "concept_id", "cui", "umls_cui", "sctid")
QUESTION = "Which concept does this definition describe?"
OPTIONS, WINDOW, MAX_WAITING = 4, 64, 256
_BAD = re.compile("[\udc80-\udcff]")  # bytes that were not valid UTF-8


class _Row(NamedTuple):
    key: str
    name: str
    folded: str  # the name case-folded, compared often
    definition: str
    concept: str  # "" when the file has no identifier column
    group: str
    raw_file: str
    locator: str


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("train"):
        name = files.relative(path)
        rows = _parquet(path, name) if files.form.name == "parquet" else _csv(path, name)
        yield from _convert(rows, name)


def _convert(rows: Iterator[tuple[int, dict[str, str] | str]], raw_file: str) -> Iterator[Item]:
    window: deque[_Row] = deque(maxlen=WINDOW)
    waiting: list[_Row] = []
    for number, cells in rows:
        where = f"row {number}"
        if isinstance(cells, str):
            yield Rejection(cells, raw_file, where)
            continue
        name, definition, concept = (" ".join(cells[k].split()) for k in ("name", "definition", "concept"))
        if not name or not definition:
            yield Rejection(f"empty {'name' if not name else 'description'}", raw_file, where, value=name or None)
            continue
        if definition.rstrip(".").casefold() == name.casefold():
            yield Rejection("description only repeats the name", raw_file, where, value=name)
            continue
        key = hashlib.sha1(f"{name}\x1f{definition}".encode()).hexdigest()[:16]
        group = f"concept:{concept}" if concept else hashlib.sha1(definition.encode()).hexdigest()[:16]
        row = _Row(key, name, name.casefold(), definition, concept, group, raw_file, where)
        yield Record(EXPLANATION, key, name, definition, raw_file, where, group=group)
        yield Record(SUMMARIZATION, key, definition, name, raw_file, where, group=group)
        window.append(row)
        waiting.append(row)
        still: list[_Row] = []
        for pending in waiting:
            record = _matching(pending, window)
            if record is None:
                still.append(pending)
            else:
                yield record
        waiting = still
        while len(waiting) > MAX_WAITING:
            yield _unmatched(waiting.pop(0))
    for pending in waiting:
        yield _unmatched(pending)


def _matching(row: _Row, window: deque[_Row]) -> Record | None:
    """The multiple-choice instance of a row, or None while the window holds too few other concepts."""
    names, definitions = _same_concept(row, window)
    others: dict[str, str] = {}
    for other in window:
        if other.folded not in names and other.definition not in definitions and other.folded not in others:
            others[other.folded] = other.name  # rows with the row's identifier are linked by _same_concept
    if len(others) < OPTIONS - 1:
        return None
    pool = list(others.values())
    seed = int(row.key, 16)
    options = [pool[(seed + i) % len(pool)] for i in range(OPTIONS - 1)]
    options.insert(seed % OPTIONS, row.name)
    letter = forms.LETTERS[options.index(row.name)]
    text = forms.multiple_choice(QUESTION, options, context=f"Definition: {row.definition}")
    answer = forms.choice_answer(letter, options)
    return Record(MATCHING, row.key, text, answer, row.raw_file, row.locator, group=row.group)


def _same_concept(row: _Row, window: deque[_Row]) -> tuple[set[str], set[str]]:
    """Names (case-folded) and descriptions linked to the row within the window: rows that share a name or a
    description with the row, or with such a row, and so on, are taken for the same concept."""
    names, definitions = {row.folded}, {row.definition}
    grew = True
    while grew:
        grew = False
        for other in window:
            linked = other.folded in names or other.definition in definitions
            if row.concept and other.concept == row.concept:
                linked = True
            if linked and (other.folded not in names or other.definition not in definitions):
                names.add(other.folded)
                definitions.add(other.definition)
                grew = True
    return names, definitions


def _unmatched(row: _Row) -> Rejection:
    why = f"fewer than {OPTIONS - 1} other concepts among the {WINDOW} neighbouring rows to form the options"
    return Rejection(why, row.raw_file, row.locator, MATCHING, row.name)


def _columns(header: list[str], name: str) -> dict[str, str | None]:
    """Which column of the file holds the name, the description and the optional concept identifier."""
    lower = {h.strip().lower(): h for h in header}

    def pick(choices: tuple[str, ...]) -> str | None:
        return next((lower[c] for c in choices if c in lower), None)

    found = {"name": pick(NAME_COLUMNS), "definition": pick(DESCRIPTION_COLUMNS), "concept": pick(ID_COLUMNS)}
    if found["name"] is None or found["definition"] is None:
        raise ValueError(
            f"{name}: no concept-name column ({'/'.join(NAME_COLUMNS)}) or description column "
            f"({'/'.join(DESCRIPTION_COLUMNS)}) among {header}"
        )
    return found


def _parquet(path: Path, name: str) -> Iterator[tuple[int, dict[str, str] | str]]:
    try:
        table = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for a corrupt file
        raise ValueError(f"{name}: not a readable Parquet file ({error})") from error
    columns = _columns(table.schema_arrow.names, name)
    wanted = [c for c in columns.values() if c is not None]
    number = 0
    for batch in table.iter_batches(batch_size=4096, columns=wanted):
        for values in batch.to_pylist():
            number += 1
            yield number, {k: "" if c is None or values[c] is None else str(values[c]) for k, c in columns.items()}


def _csv(path: Path, name: str) -> Iterator[tuple[int, dict[str, str] | str]]:
    """Rows of a UTF-8 CSV (plain or gzipped; a BOM is skipped), numbered from 1 after the header; a row with
    the wrong number of fields or bytes that are not UTF-8 is reported instead of failing the file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw, io.TextIOWrapper(raw, "utf-8-sig", "surrogateescape", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, [])
        columns = _columns(header, name)
        at = {k: header.index(c) if c is not None else None for k, c in columns.items()}
        for number, cells in enumerate(reader, 1):
            if not cells:
                continue
            if len(cells) != len(header):
                yield number, f"{len(cells)} fields, expected {len(header)} ({','.join(header)})"
            elif any(_BAD.search(c) for c in cells):
                yield number, "bytes that are not valid UTF-8"
            else:
                yield number, {k: cells[i] if i is not None else "" for k, i in at.items()}
