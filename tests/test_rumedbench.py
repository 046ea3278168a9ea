"""RuMedBench specifics: RuMedDaNet's да/нет answers as a two-option choice, official splits, RuMedTest (no
answers) left unread, and quarantined lines."""

from __future__ import annotations

import json
from pathlib import Path

from converters import rumedbench
from pipeline.model import Record, Rejection, detect_form


def line(pair: str, answer: str) -> str:
    obj = {"context": "Контекст.", "question": "Вопрос?", "answer": answer, "pairID": pair}
    return json.dumps(obj, ensure_ascii=False) + "\n"


def convert(tmp_path: Path, **parts: str) -> list:
    folder = tmp_path / "data" / "RuMedDaNet"
    folder.mkdir(parents=True)
    for part, text in parts.items():
        (folder / f"{part}_v1.jsonl").write_text(text, encoding="utf-8")
    (tmp_path / "data" / "RuMedTest").mkdir()
    (tmp_path / "data" / "RuMedTest" / "private_test_v1.jsonl").write_text('{"idx": "q", "question": "?", "1": "a"}\n')
    return list(rumedbench.generate(detect_form(rumedbench.SOURCE, tmp_path)))


def test_answers_become_fixed_options_and_splits_map(tmp_path: Path) -> None:
    items = convert(tmp_path, dev=line("p1", "да"), test=line("p2", "нет"))
    assert [(r.key, r.split, r.output) for r in items] == [("p1", "validation", "A. да"), ("p2", "test", "B. нет")]
    assert items[0].input == "Контекст.\n\nВопрос?\nA. да\nB. нет"


def test_broken_lines_are_quarantined(tmp_path: Path) -> None:
    items = convert(tmp_path, train=line("p1", "возможно") + "{not json\n" + line("p3", " Да "))
    assert [(r.locator, r.reason) for r in items if isinstance(r, Rejection)] == [
        ("line 1 (pairID=p1)", "answer 'возможно' is not да/нет"),
        ("line 2", "invalid JSON: Expecting property name enclosed in double quotes at character 1"),
    ]
    assert [r.output for r in items if isinstance(r, Record)] == ["A. да"]
