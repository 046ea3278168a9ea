"""IgakuQA specifics: lower-case answer letters, several correct answers, the block files only, and the
questions without choices."""

from __future__ import annotations

import json
from pathlib import Path

from converters import igakuqa
from pipeline.model import Record, Rejection, detect_form


def row(pid: str, answer: list[str], choices: list[str] | None = None) -> str:
    choices = ["あ", "い", "う", "え", "お"] if choices is None else choices
    obj = {"problem_id": pid, "problem_text": f"問題{pid}", "choices": choices, "text_only": True, "answer": answer}
    return json.dumps(obj, ensure_ascii=False) + "\n"


def convert(tmp_path: Path, lines: bytes) -> list:
    block = tmp_path / "data" / "2019"
    block.mkdir(parents=True)
    (block / "113-A.jsonl").write_bytes(lines)
    (block / "113-A_translate.jsonl").write_text(row("113A9", ["a"]), encoding="utf-8")  # never read
    return list(igakuqa.generate(detect_form(igakuqa.SOURCE, tmp_path)))


def test_multiple_answers_are_one_line_each_in_letter_order(tmp_path: Path) -> None:
    items = convert(tmp_path, (row("113A1", ["e", "b"]) + row("113A2", ["c"])).encode("utf-8"))
    assert [(r.key, r.output, r.split) for r in items] == [("113A1", "B. い\nE. お", None), ("113A2", "C. う", None)]
    assert items[0].input == "問題113A1\nA. あ\nB. い\nC. う\nD. え\nE. お"


def test_broken_lines_are_quarantined_with_their_line(tmp_path: Path) -> None:
    lines = (
        row("113A1", ["21"], choices=[]).encode() + b'{"problem_id": "113A2", \xff}\n' + row("113A3", ["z"]).encode()
    )
    items = convert(tmp_path, lines)
    assert all(isinstance(i, Rejection) for i in items)
    assert [(r.locator, r.reason) for r in items] == [
        ("line 1 (problem_id=113A1)", "no choices (numeric-entry calculation question)"),
        ("line 2", "not valid UTF-8: byte 0xff at offset 24"),
        ("line 3 (problem_id=113A3)", "answer 'Z' is not among the options A, B, C, D, E"),
    ]
    assert not [i for i in items if isinstance(i, Record)]
