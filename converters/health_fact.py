"""PUBHEALTH / HealthFact (Kotonya and Toni, EMNLP 2020): public-health claims from fact-checking and news sites,
each with the article text, a veracity label (true, false, mixture, unproven) and a journalist's explanation of it.

Read as distributed (PUBHEALTH.zip from the Google Drive link of github.com/neemakot/Health-Fact-Checking, unpacked:
PUBHEALTH/train.tsv, dev.tsv, test.tsv; the files directly in the raw folder are accepted too). The README's
12-column description does not match the files. What is read, as the BigBio loader reads it:
- tab-separated, UTF-8, a header row, NO quoting (QUOTE_NONE): one line is one record, so a field holding a tab or
  a line break breaks its row, which then has the wrong column count and is quarantined line by line;
- train.tsv and dev.tsv have 9 columns: claim_id, claim, date_published, explanation, fact_checkers, main_text,
  sources, label, subjects; test.tsv has one more, a leading unnamed pandas index, so the last 9 columns are used;
- missing values may be written `nan` (pandas), read as empty.

Tasks (official splits: train, dev -> validation, test; key and group = claim_id):
- healthfact_classification: input = `forms.fields(claim=..., paragraph=main_text)`; output = the label, one of
  true / false / mixture / unproven (all four of the corpus, none dropped). A row whose label is missing or odd is
  quarantined from this task only: its claim, text and explanation still serve the explanation tasks.
- healthfact_sentence_generation and healthfact_explanation: input = the same claim + paragraph; output = the
  explanation. Both are SNI task1368 ("healthfact sentence generation", an SNI Sentence Composition task: generate
  an explanation for the claim from the paragraph): MedS-Ins trains on it as sentence generation and MedS-Bench tests
  it as explanation (task18_test_healthfact_sentence_generation, the 1,235 rows of test.tsv). So one formation
  serves both, divided by role so that no benchmark explanation is also a training target under the sibling task:
  healthfact_sentence_generation takes train and validation, healthfact_explanation takes test.
The Hugging Face export (health_fact: the same nine columns, label as a class id false/mixture/true/unproven,
splits train/validation/test) is accepted as a second form and gives the same records.
Files are read test, dev, train; a claim_id read before is quarantined (the test set stays whole). Rows that are not
UTF-8, have the wrong column count, no claim_id or no claim are quarantined for every task.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_DIRS = ("PUBHEALTH/", "")
_FILES = (("test", "test", "test"), ("dev", "dev", "validation"), ("train", "train", "train"))  # read order
_HUB = (("test", "test", "test"), ("dev", "validation", "validation"), ("train", "train", "train"))
#: The Hub export stores the label as a class id, in this order (-1: a row the original marks with an odd label).
HUB_LABELS = ("false", "mixture", "true", "unproven")

SOURCE = Source(
    id="health_fact",
    name="PUBHEALTH (HealthFact)",
    homepage="https://github.com/neemakot/Health-Fact-Checking",
    license="MIT",
    access="open",
    citation=(
        "Kotonya, N. and Toni, F. (2020). Explainable Automated Fact-Checking for Public Health Claims. "
        "EMNLP 2020, pp. 7740-7754."
    ),
    obtain=(
        "Download PUBHEALTH.zip through the Google Drive link in https://github.com/neemakot/Health-Fact-Checking "
        "(data/ or src/download_data.sh) and unpack it into the raw folder: PUBHEALTH/train.tsv, dev.tsv, test.tsv."
    ),
    forms=(
        RawForm(
            "tsv",
            tuple(
                RawFile(name, tuple(f"{d}{stem}.tsv" for d in _DIRS), required=False, split=split)
                for name, stem, split in _FILES
            ),
            "PUBHEALTH.zip unpacked: train.tsv, dev.tsv, test.tsv (tab-separated, unquoted)",
        ),
        RawForm(
            "hf",
            tuple(readers.hub_parquet(name, hub, split) for name, hub, split in _HUB),
            "the Hugging Face dataset health_fact (bigbio/pubhealth) as Parquet: train, validation, test",
        ),
    ),
)

_TAGS = ("Public Health", "Fact Checking")
LABELS = ("true", "false", "mixture", "unproven")
TASKS = (
    Task("healthfact_classification", "Fact Verification", "Medical Knowledge", _TAGS, labels=LABELS),
    Task("healthfact_sentence_generation", "Sentence Composition Analysis", "Medical Knowledge", _TAGS),
    Task("healthfact_explanation", "Explanation", "Medical Knowledge", _TAGS),
)
CLASSIFY, SENTENCE, EXPLAIN = (t.id for t in TASKS)
COLUMNS = [
    "claim_id",
    "claim",
    "date_published",
    "explanation",
    "fact_checkers",
    "main_text",
    "sources",
    "label",
    "subjects",
]


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # claim_id -> where it was first read
    for name, _, split in _FILES:
        for path in files.paths(name):
            rows = _hub_rows if files.form.name == "hf" else _rows
            yield from rows(path, files.relative(path), split, seen)


def _hub_rows(path: Path, name: str, split: str, seen: dict[str, str]) -> Iterator[Item]:
    """The Hub's Parquet export: the same nine fields, with the label as a class id."""
    for number, row in readers.parquet_rows(path, name, COLUMNS):
        label = row["label"]
        row["label"] = HUB_LABELS[label] if isinstance(label, int) and 0 <= label < len(HUB_LABELS) else ""
        row = {k: _value("" if v is None else str(v)) for k, v in row.items()}
        yield from _record(row, name, f"row {number}", split, seen)


def _rows(path: Path, name: str, split: str, seen: dict[str, str]) -> Iterator[Item]:
    width = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            where = f"line {number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield Rejection("not UTF-8", name, where, None, repr(raw[:120]))
                continue
            cells = line.split("\t")
            if number == 1:
                if len(cells) not in (9, 10) or [c.strip() for c in cells[-9:]] != COLUMNS:
                    raise ValueError(f"{name}: header {line[:120]!r} does not end with the 9 PUBHEALTH columns")
                width = len(cells)
                continue
            if not line.strip():
                continue
            if len(cells) != width:
                why = "wrong column count: a field holds a tab or a line break (the files are not quoted)"
                yield Rejection(why, name, f"{where} ({len(cells)} of {width} columns)", None, line[:300])
                continue
            row = dict(zip(COLUMNS, (_value(c) for c in cells[-9:]), strict=True))
            yield from _record(row, name, where, split, seen)


def _value(cell: str) -> str:
    cell = cell.strip()
    return "" if cell == "nan" else cell


def _record(row: dict[str, str], name: str, where: str, split: str, seen: dict[str, str]) -> Iterator[Item]:
    claim_id, claim = row["claim_id"], row["claim"]
    if not claim_id or not claim:
        yield Rejection("empty claim_id" if not claim_id else "empty claim", name, where, None, claim or claim_id)
        return
    if claim_id in seen:
        again = f"{where} (claim_id {claim_id}, first read at {seen[claim_id]})"
        yield Rejection("claim_id repeated (kept where first read)", name, again, None, claim)
        return
    seen[claim_id] = f"{name} {where}"
    locator = f"{where} (claim_id {claim_id})"

    def record(task: str, output: str) -> Record:
        return Record(task, claim_id, text, output, name, locator, split=split, group=claim_id)

    if not row["main_text"]:
        yield Rejection("empty main_text (the paragraph every task reads)", name, locator, None, claim)
        return
    text = forms.fields(claim=claim, paragraph=row["main_text"])
    try:
        yield record(CLASSIFY, forms.label(row["label"], LABELS))
    except forms.FormError as error:
        yield Rejection(str(error), name, locator, CLASSIFY, row["label"])
    task = EXPLAIN if split == "test" else SENTENCE
    if row["explanation"]:
        yield record(task, row["explanation"])
    else:
        yield Rejection("empty explanation", name, locator, task, claim)
