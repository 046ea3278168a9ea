"""MedQA specifics: the official split files and layouts, and the rows that are quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from converters import medqa
from pipeline.model import Record, Rejection, detect_form


def row(answer_idx: str = "B", answer: str | None = None) -> str:
    options = {"A": "Aspirin", "B": "Heparin", "C": "Warfarin", "D": "Alteplase"}
    return json.dumps(
        {
            "question": "Q?",
            "answer": answer or options.get(answer_idx, ""),
            "options": options,
            "meta_info": "step1",
            "answer_idx": answer_idx,
        }
    )


def convert(root: Path) -> list:
    return list(medqa.generate(detect_form(medqa.SOURCE, root)))


def test_splits_keys_and_layouts(tmp_path: Path) -> None:
    us = tmp_path / "full/data_clean/questions/US/4_options"
    us.mkdir(parents=True)
    (us / "phrases_no_exclude_dev.jsonl").write_text(row() + "\n" + row("C") + "\n")
    zh = tmp_path / "full/data_clean/questions/Mainland"
    zh.mkdir(parents=True)
    (zh / "test.jsonl").write_text("\ufeff" + row("A") + "\n", encoding="utf-8")  # a BOM is tolerated
    items = convert(tmp_path / "full")
    assert [(r.task_id, r.key, r.split, r.output) for r in items] == [
        ("medqa_question_answering_en", "dev-1", "validation", "B. Heparin"),
        ("medqa_question_answering_en", "dev-2", "validation", "C. Warfarin"),
        ("medqa_question_answering_zh", "test-1", "test", "A. Aspirin"),
    ]
    assert items[0].input == "Q?\nA. Aspirin\nB. Heparin\nC. Warfarin\nD. Alteplase"
    flat = tmp_path / "flat"  # the US files laid flat, as some copies ship them
    flat.mkdir()
    (flat / "phrases_no_exclude_dev.jsonl").write_text((us / "phrases_no_exclude_dev.jsonl").read_text())
    assert [(r.id, r.input, r.output) for r in convert(flat)] == [(r.id, r.input, r.output) for r in items[:2]]


def test_broken_rows_are_quarantined_with_reason(tmp_path: Path) -> None:
    lines = [row("E"), row("B", answer="Aspirin"), "{not json", row()]
    (tmp_path / "phrases_no_exclude_test.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + b'{"q": "\xff"}\n')
    items = convert(tmp_path)
    assert [(r.locator, r.reason) for r in items if isinstance(r, Rejection)] == [
        ("line 1", "answer 'E' is not among the options A, B, C, D"),
        ("line 2", "answer text differs from option B (answer_idx)"),
        ("line 3", "invalid JSON: Expecting property name enclosed in double quotes at character 1"),
        ("line 5", "not valid UTF-8: byte 0xff at offset 7"),
    ]
    assert [r.key for r in items if isinstance(r, Record)] == ["test-4"]
