"""MASH-QA specifics: answers rebuilt from sentence spans in document order, the answer text used without spans,
official split mapping with the _full variant as fallback, quarantine, and malformed JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import mashqa
from pipeline.model import Record, Rejection, detect_form

CONTEXT = "Alpha  one. Beta two. Gamma three."


def squad(*qas: dict) -> str:
    paragraph = {"context": CONTEXT, "qas": list(qas)}
    return json.dumps({"version": "v2.0", "data": [{"title": "t", "paragraphs": [paragraph]}]})


def qa(qid: str, **answer: object) -> dict:
    return {"id": qid, "question": "Which?", "is_impossible": False, "answers": [answer]}


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(mashqa.generate(detect_form(mashqa.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_spans_splits_and_variants(tmp_path: Path) -> None:
    (tmp_path / "train_webmd_squad_v2_consec.json").write_text(
        squad(qa("1", text="x", answer_starts=[[22, 12], [0, 11]]), qa("2", text=" Beta  two. ")), "utf-8"
    )
    (tmp_path / "train_webmd_squad_v2_full.json").write_text(squad(qa("9", text="ignored")), "utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "val_webmd_squad_v2_full.json").write_text(squad(qa("3", answer_starts=[[12, 9]])), "utf-8")
    records, rejections = run(tmp_path)
    assert [(r.key, r.output, r.split) for r in records] == [
        ("1", "Alpha one. Gamma three.", "train"),
        ("2", "Beta two.", "train"),
        ("3", "Beta two.", "validation"),
    ]
    assert records[0].input == "Context: Alpha one. Beta two. Gamma three.\nQuestion: Which?"
    assert rejections == []


def test_quarantine_and_malformed(tmp_path: Path) -> None:
    broken = {"id": "5", "question": "?", "is_impossible": True, "answers": []}
    (tmp_path / "test_webmd_squad_v2_consec.json").write_text(
        squad(qa("4", answer_starts=[[30, 10]]), broken, qa("4", text="again")), "utf-8"
    )
    _, rejections = run(tmp_path)
    assert [r.reason for r in rejections] == [
        "answer span outside the context",
        "unanswerable question (is_impossible)",
        "repeated question id",
    ]
    (tmp_path / "test_webmd_squad_v2_consec.json").write_text(squad(qa("4", text="a"))[:-9], "utf-8")
    with pytest.raises(ValueError, match="test_webmd_squad_v2_consec.json: malformed JSON"):
        run(tmp_path)
