"""MEDIQA-AnS specifics: per-answer and per-question instances, the article used when the section is empty, the
multi-answer context keeping a passage whose own summary is missing, and a file that is not a JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import mediqa_ans
from pipeline.model import Record, Rejection, detect_form


def run(tmp_path: Path, data: object) -> tuple[list[Record], list[Rejection]]:
    (tmp_path / mediqa_ans.FILE).write_text(json.dumps(data), encoding="utf-8")
    items = list(mediqa_ans.generate(detect_form(mediqa_ans.SOURCE, tmp_path)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def answer(section: str, summary: str, article: str = "Whole page.") -> dict:
    return {"section": section, "article": article, "url": "u", "rating": "GOOD", "answer_abs_summ": summary}


def test_instances_and_quarantine(tmp_path: Path) -> None:
    data = {
        "7": {
            "question": "Is  it bad?",
            "multi_abs_summ": "No.",
            "answers": {"7_Answer1": answer("", "Not bad."), "7_Answer2": answer("Line one.\n  Line   two.", "")},
        },
        "8": {"question": "Why?", "multi_abs_summ": "Because.", "answers": {"8_Answer1": answer("Reason.", "So.")}},
    }
    records, rejections = run(tmp_path, data)
    assert [(r.key, r.input, r.output) for r in records] == [
        ("7/7_Answer1", "Question: Is it bad?\nContext: Whole page.", "Not bad."),
        ("7/all", "Question: Is it bad?\nContext: Whole page.\n\nLine one.\nLine two.", "No."),
        ("8/8_Answer1", "Question: Why?\nContext: Reason.", "So."),
    ]
    assert {r.group for r in records} == {"7", "8"}
    assert [(r.reason, r.locator) for r in rejections] == [
        ("empty summary", "question 7 answer 7_Answer2"),
        ("single usable answer passage: no multi-answer instance", "question 8 (all answers)"),
    ]


def test_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected a JSON object"):
        run(tmp_path, [{"question": "x"}])
