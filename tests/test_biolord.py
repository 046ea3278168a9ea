"""BioLORD specifics: the Parquet shards and a CSV export give the same records, columns are found by name,
and the matching options never offer another name of the same concept."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from converters import biolord
from pipeline import forms
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "biolord"
SHARD = SAMPLE / "data" / "train-00000-of-00001.parquet"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(biolord.generate(detect_form(biolord.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def test_csv_export_gives_the_same_records(tmp_path: Path) -> None:
    table = pq.read_table(SHARD).to_pylist()
    write_csv(tmp_path / "BioLORD-Dataset.csv", ["name", "definition"], [[r["name"], r["definition"]] for r in table])
    assert detect_form(biolord.SOURCE, tmp_path).form.name == "csv"
    parquet, parquet_rejections = run(SAMPLE)
    exported, rejections = run(tmp_path)
    assert {(r.id, r.input, r.output) for r in exported} == {(r.id, r.input, r.output) for r in parquet}
    assert [r.reason for r in rejections] == [r.reason for r in parquet_rejections]
    assert {r.split for r in exported} == {None}


def test_matching_options_exclude_names_of_the_same_concept() -> None:
    records, _ = run(SAMPLE)
    names_of: dict[str, set[str]] = {}
    for r in records:
        if r.task_id == biolord.SUMMARIZATION:
            names_of.setdefault(r.input, set()).add(r.output)
    matching = [r for r in records if r.task_id == biolord.MATCHING]
    rows = sum(r.task_id == biolord.SUMMARIZATION for r in records)
    assert len(matching) == rows  # every row, including the first ones that waited for options
    for r in matching:
        definition = r.input.split("\n")[0].removeprefix("Definition: ")
        options = [line[3:] for line in r.input.split("\n") if line[:2] in {f"{x}." for x in forms.LETTERS[:4]}]
        assert len(options) == 4 and r.output[3:] in names_of[definition]
        assert len(set(options) & names_of[definition]) == 1, r.input


def test_identifier_column_groups_and_separates_concepts(tmp_path: Path) -> None:
    rows = [["C1", "alpha syndrome", "An invented syndrome number one."]]
    rows += [[f"C{n}", f"concept {n}", f"An invented description number {n}."] for n in range(2, 6)]
    rows += [["C1", "syndrome alpha", "Another invented wording for syndrome one."]]
    write_csv(tmp_path / "x.csv", ["CUI", "concept_name", "Description"], rows)
    records, _ = run(tmp_path)
    last = [r for r in records if r.task_id == biolord.MATCHING and "syndrome one" in r.input]
    assert last and "alpha syndrome" not in last[0].input
    named = [r for r in records if r.task_id == biolord.EXPLANATION and "alpha" in r.input]
    assert len(named) == 2 and {r.group for r in named} == {"concept:C1"}


def test_unknown_columns_stop_with_the_file_named(tmp_path: Path) -> None:
    write_csv(tmp_path / "x.csv", ["foo", "bar"], [["a", "b"]])
    with pytest.raises(ValueError, match=r"x.csv: no concept-name column"):
        run(tmp_path)
