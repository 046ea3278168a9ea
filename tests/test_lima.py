"""LIMA specifics: the first exchange of each medical item, official splits (test prompts have no answer),
the tagger's rejections with their tags, and broken lines quarantined with their line number."""

from __future__ import annotations

import json
from pathlib import Path

from converters import lima
from pipeline.model import Record, Rejection, detect_form


def convert(tmp_path: Path, files: dict[str, list]) -> list:
    for name, rows in files.items():
        lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    return list(lima.generate(detect_form(lima.SOURCE, tmp_path)))


def test_first_exchange_official_splits_and_tagger_rejections(tmp_path: Path) -> None:
    dialogue = ["Is fever dangerous for toddlers?", "Usually not.", "And a rash?", "See a doctor."]
    items = convert(
        tmp_path,
        {
            "train.jsonl": [
                {"conversations": dialogue, "source": "multi-turn"},
                {"conversations": ["Name a prime number.", "Seven."], "source": "manually authored"},
            ],
            "test.jsonl": [{"conversations": ["Does insulin need refrigeration?"], "source": "stackexchange"}],
        },
    )
    record, not_medical, no_answer = items
    assert isinstance(record, Record)
    assert (record.input, record.output, record.split, record.locator) == (
        dialogue[0],
        "Usually not.",
        "train",
        "line 1",
    )
    assert isinstance(not_medical, Rejection) and isinstance(no_answer, Rejection)
    assert (not_medical.reason, not_medical.value) == (
        "not selected by the medical tagger (keyword)",
        "no medical term",
    )
    assert (no_answer.reason, no_answer.raw_file, no_answer.locator) == (
        "no answer to the first turn",
        "test.jsonl",
        "line 1",
    )


def test_broken_lines_quarantined(tmp_path: Path) -> None:
    good = {"conversations": ["What causes asthma attacks?", "Triggers such as pollen."], "source": "stackexchange"}
    rows = ['{"conversations": ["What causes', {"conversations": "What causes asthma?"}, good, good]
    items = convert(tmp_path, {"train.jsonl": rows})
    assert [type(i) for i in items] == [Rejection, Rejection, Record, Rejection]
    assert [(i.reason.split(":")[0], i.locator) for i in items if isinstance(i, Rejection)] == [
        ("invalid JSON", "line 1"),
        ("conversations is not a non-empty list of strings", "line 2"),
        ("repeats an earlier item (same prompt and answer)", "line 4"),
    ]
