"""FrenchMedMCQA specifics: official splits, several correct answers, test items without `type`, and the
quarantine / errors of broken items and files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import frenchmedmcqa
from pipeline.model import Rejection, detect_form


def item(qid: str, correct: list[str], count: int | None = None) -> dict:
    answers = {letter: f"Option {letter}" for letter in "abcde"}
    n = len(correct) if count is None else count
    return {"id": qid, "question": f"Question {qid} :", "answers": answers, "correct_answers": correct,
            "subject_name": "pharmacie", "nbr_correct_answers": n}  # fmt: skip


def convert(tmp_path: Path, **parts: list) -> list:
    (tmp_path / "corpus").mkdir()
    for part, items in parts.items():
        (tmp_path / "corpus" / f"{part}.json").write_text(json.dumps(items, indent=4), encoding="ascii")
    return list(frenchmedmcqa.generate(detect_form(frenchmedmcqa.SOURCE, tmp_path)))


def test_splits_and_multiple_answers(tmp_path: Path) -> None:
    items = convert(tmp_path, dev=[item("d1", ["d", "a"])], test=[item("t1", ["c"])])
    assert [(r.key, r.split, r.output) for r in items] == [
        ("d1", "validation", "A. Option a\nD. Option d"),
        ("t1", "test", "C. Option c"),
    ]


def test_broken_items_are_quarantined(tmp_path: Path) -> None:
    items = convert(tmp_path, train=[item("x1", ["f"]), item("x2", ["a", "b"], count=3), item("x3", ["b"])])
    assert [(r.locator, r.reason) for r in items if isinstance(r, Rejection)] == [
        ("item 0 (id=x1)", "answer 'F' is not among the options A, B, C, D, E"),
        ("item 1 (id=x2)", "nbr_correct_answers is 3 but correct_answers has 2"),
    ]
    assert items[-1].key == "x3"


def test_truncated_or_wrong_file_raises_naming_it(tmp_path: Path) -> None:
    (tmp_path / "test.json").write_text(json.dumps([item("t1", ["a"]), item("t2", ["b"])], indent=4)[:-60])
    with pytest.raises(ValueError, match=r"test.json: malformed JSON after item 0 \(id=t1\)"):
        list(frenchmedmcqa.generate(detect_form(frenchmedmcqa.SOURCE, tmp_path)))
    (tmp_path / "test.json").write_text(json.dumps({"t1": item("t1", ["a"])}))
    with pytest.raises(ValueError, match="test.json: not a JSON list"):
        list(frenchmedmcqa.generate(detect_form(frenchmedmcqa.SOURCE, tmp_path)))
