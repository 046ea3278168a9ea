"""PLOS readability specifics: the JSON Lines copy and the JSON lists (the same records, or the EMNLP 2022
Goldsack et al. layout) give the same instances; the lay summary is taken out of the article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import readability
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "readability"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(readability.generate(detect_form(readability.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_sample_removes_the_lay_summary_from_the_article() -> None:
    records, rejections = run(SAMPLE)
    assert {r.split for r in records} == {"train", "validation", "test"}
    for record in records:
        assert record.output not in record.input and "Author summary" not in record.input
        assert record.input.startswith("Title: ") and "\nAbstract: " not in record.input  # the article holds it
    assert [(r.reason, r.locator) for r in rejections] == [
        ("empty lay summary", "line 3 (doi 10.1371/journal.pone.9900003)")
    ]


def test_json_lists_give_the_same_instances(tmp_path: Path) -> None:
    for part in ("train", "val", "test"):
        lines = (SAMPLE / f"{part}_plos.jsonl").read_text(encoding="utf-8").splitlines()
        (tmp_path / f"{part}.json").write_text(json.dumps([json.loads(line) for line in lines], indent=2))
    expected, _ = run(SAMPLE)
    records, rejections = run(tmp_path)
    assert [(r.id, r.input, r.output, r.split) for r in records] == [
        (r.id, r.input, r.output, r.split) for r in expected
    ]
    assert [r.locator for r in rejections] == ["item 3 (doi 10.1371/journal.pone.9900003)"]


def test_goldsack_layout(tmp_path: Path) -> None:
    item = {
        "id": "journal.pgen.1",
        "year": 2020,
        "title": "A title",
        "sections": [["First sentence.", "Second."], ["Results here."]],
        "headings": ["Introduction", "Results"],
        "abstract": ["Abstract one.", "Abstract two."],
        "summary": ["Lay one.", "Lay two."],
        "keywords": ["genetics"],
    }
    (tmp_path / "val.json").write_text(json.dumps([item, {"id": "x", "title": "no summary"}]), encoding="utf-8")
    [record], [rejection] = run(tmp_path)
    assert (record.key, record.split, record.output) == ("journal.pgen.1", "validation", "Lay one. Lay two.")
    assert record.input == (
        "Title: A title\nAbstract: Abstract one. Abstract two.\n"
        "Article: Introduction\nFirst sentence. Second.\n\nResults\nResults here."
    )
    assert rejection.reason == "neither 'plain language summary' nor 'summary' in the item"


def test_a_broken_json_list_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "train.json").write_text('[{"id": "a", "summary": ["x"]}, {"id": ', encoding="utf-8")
    with pytest.raises(ValueError, match="train.json: malformed JSON"):
        run(tmp_path)
