"""Medical Flashcards specifics: the question alone as input, keys stable under re-ordering, cards without
a question quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from converters import medalpaca_flashcards
from pipeline.model import Record, Rejection, detect_form


def convert(tmp_path: Path, *pairs: tuple[str, str]) -> list:
    items = [{"instruction": "Answer this question truthfully", "input": q, "output": a} for q, a in pairs]
    (tmp_path / "medical_meadow_wikidoc_medical_flashcards.json").write_text(json.dumps(items, indent=4))
    return list(medalpaca_flashcards.generate(detect_form(medalpaca_flashcards.SOURCE, tmp_path)))


def test_cards_keys_and_quarantine(tmp_path: Path) -> None:
    items = convert(tmp_path, ("What does CN VII carry?", "Taste."), ("", "Orphan answer"), ("Why?", "Because."))
    records = [i for i in items if isinstance(i, Record)]
    assert [(r.input, r.output, r.locator) for r in records] == [
        ("What does CN VII carry?", "Taste.", "item 1"),
        ("Why?", "Because.", "item 3"),
    ]
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection)] == [("empty input", "item 2")]
    again = convert(tmp_path, ("Why?", "Because."), ("What does CN VII carry?", "Taste."))
    assert {r.input: r.id for r in again} == {r.input: r.id for r in records}
