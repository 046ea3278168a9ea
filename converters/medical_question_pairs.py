"""Medical Question Pairs (MQP; McCreery et al., 2020, Curai): 3,048 pairs of patient questions written by doctors,
labelled similar (same intent, a rewrite) or dissimilar (related words, a different question).

Read as distributed in github.com/curai/medical-question-pair-dataset: `mqp.csv`, a comma-separated CSV with NO
header row, CRLF line endings and quoted fields where needed; columns dr_id, question_1, question_2, label
(1 = similar, 0 = different). Each original question (question_1) comes in two consecutive rows, one similar and
one dissimilar pair.

Task medical_question_pair_classification (as SNI task1645): input = `forms.fields(question_1=..., question_2=...)`;
output = "Similar" (label 1) or "Dissimilar" (label 0). There is no official split and no row id: the key is a hash
of the two questions (stable when rows are reordered), the group a hash of question_1, so both pairs built on one
original question land in the same split. A row with the wrong column count, an empty question or a label other
than 0/1, and a repeated pair, are quarantined with their row number. The Hugging Face export
(medical_questions_pairs, one train split, the same columns) is accepted as a second form with the same records.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="medical_question_pairs",
    name="Medical Question Pairs (MQP)",
    homepage="https://github.com/curai/medical-question-pair-dataset",
    license="unspecified (the repository states no license)",
    access="open",
    citation=(
        "McCreery, C. H., Katariya, N., Kannan, A., Chablani, M. and Amatriain, X. (2020). Effective Transfer "
        "Learning for Identifying Similar Questions: Matching User Questions to COVID-19 FAQs. KDD 2020 "
        "(the Medical Question Pairs dataset, Curai)."
    ),
    obtain="Download mqp.csv from https://github.com/curai/medical-question-pair-dataset into the raw folder.",
    forms=(
        RawForm(
            "csv",
            (RawFile("pairs", ("mqp.csv", "medical-question-pair-dataset/mqp.csv")),),
            "the repository's mqp.csv (no header; dr_id, question_1, question_2, label)",
        ),
        RawForm(
            "hf",
            (readers.hub_parquet("pairs", "train", None),),
            "the Hugging Face dataset medical_questions_pairs as Parquet (dr_id, question_1, question_2, label)",
        ),
    ),
    # The official repository (pinned commit).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/curai/medical-question-pair-dataset/"
            "6c7f7fd7a53cedc6fec105c0c6cb78f2e9a82cd1/mqp.csv",
            "mqp.csv",
            sha256="94ecd609a9ca9350e1cff2438aa55a034762f01c1a68732aaae3e4be7b03cf57",
            size=665688,
        ),
    ),
)

SIMILAR, DISSIMILAR = "Similar", "Dissimilar"
LABELS = (SIMILAR, DISSIMILAR)
TASKS = (
    Task(
        "medical_question_pairs_classification",
        "Text Retrieval",
        "Daily Conversation",
        tags=("Consumer Health", "Question Similarity"),
        labels=LABELS,
    ),
)
TASK = TASKS[0].id
_LABEL_OF = {"1": SIMILAR, "0": DISSIMILAR}
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("pairs"):
        name = files.relative(path)
        yield from _pairs(_hub_rows(path, name) if files.form.name == "hf" else _csv_rows(path, name), name)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _csv_rows(path: Path, name: str) -> Iterator[tuple[int, list[str]]]:
    # Undecodable bytes become lone surrogates, so the row that holds them can be quarantined by itself.
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        rows = csv.reader(text)
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as error:
                raise ValueError(f"{name}: unreadable CSV after row {number}: {error}") from error
            number += 1
            yield number, row


def _hub_rows(path: Path, name: str) -> Iterator[tuple[int, list[str]]]:
    """The Hub export (medical_questions_pairs): the same four columns, label as a class id 0/1."""
    for number, row in readers.parquet_rows(path, name, ("dr_id", "question_1", "question_2", "label")):
        yield number, ["" if row[c] is None else str(row[c]) for c in ("dr_id", "question_1", "question_2", "label")]


def _pairs(rows: Iterator[tuple[int, list[str]]], name: str) -> Iterator[Item]:
    seen: dict[str, int] = {}
    for number, row in rows:
        where = f"row {number}"
        if not any(cell.strip() for cell in row):
            continue
        if _NOT_UTF8.search("".join(row)):
            yield Rejection("not UTF-8", name, where, TASK, ascii(row)[:200])
            continue
        if len(row) != 4:
            yield Rejection("wrong column count, expected 4", name, f"{where} ({len(row)} columns)", TASK, str(row))
            continue
        _, first, second, label = (cell.strip() for cell in row)
        if not first or not second:
            yield Rejection("empty question", name, where, TASK, str(row))
            continue
        try:
            output = forms.label(_LABEL_OF.get(label, label), LABELS)
        except forms.FormError:
            yield Rejection("label is not 0 or 1", name, where, TASK, str(row))
            continue
        key = _digest(f"{first}\n{second}")
        if key in seen:
            yield Rejection("repeated pair", name, f"{where} (repeats row {seen[key]})", TASK, str(row))
            continue
        seen[key] = number
        text_in = forms.fields(question_1=first, question_2=second)
        yield Record(TASK, key, text_in, output, name, where, group=_digest(first))
