"""MQP specifics: a headerless CRLF CSV with quoted fields, 1/0 labels, and its broken rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from converters import medical_question_pairs as mqp
from pipeline.model import Record, Rejection, detect_form


def convert(tmp_path: Path, content: bytes) -> list:
    (tmp_path / "mqp.csv").write_bytes(content)
    return list(mqp.generate(detect_form(mqp.SOURCE, tmp_path)))


def test_rows_become_similar_and_dissimilar_pairs(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        b'1,Is flu contagious?,"Can I pass on flu, and for how long?",1\r\n'
        b"1,Is flu contagious?,Is flu worse than a cold?,0\r\n",
    )
    assert [(r.input, r.output, r.locator) for r in items] == [
        ("Question 1: Is flu contagious?\nQuestion 2: Can I pass on flu, and for how long?", "Similar", "row 1"),
        ("Question 1: Is flu contagious?\nQuestion 2: Is flu worse than a cold?", "Dissimilar", "row 2"),
    ]
    assert all(isinstance(r, Record) and r.split is None for r in items)
    assert items[0].group == items[1].group and items[0].key != items[1].key  # one original question, one split


def test_broken_rows_are_quarantined_by_row(tmp_path: Path) -> None:
    rows = b"1,a?,b?,yes\r\n2,a?,b?\r\n3,c?,d?,1\r\n4,c?,d?,1\r\n5,caf\xe9?,e?,0\r\n"
    items = convert(tmp_path, rows)
    assert [(i.reason, i.locator) for i in items if isinstance(i, Rejection)] == [
        ("label is not 0 or 1", "row 1"),
        ("wrong column count, expected 4", "row 2 (3 columns)"),
        ("repeated pair", "row 4 (repeats row 3)"),
        ("not UTF-8", "row 5"),
    ]


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "medical_question_pairs"
    expected = {
        (r.id, r.input, r.output) for r in mqp.generate(detect_form(mqp.SOURCE, sample)) if isinstance(r, Record)
    }
    with open(sample / "mqp.csv", encoding="utf-8", errors="replace", newline="") as f:
        rows = [r for r in csv.reader(f) if len(r) == 4 and r[3] in ("0", "1")]
    table = {
        "dr_id": [int(r[0]) if r[0].isdigit() else 0 for r in rows],
        "question_1": [r[1] for r in rows],
        "question_2": [r[2] for r in rows],
        "label": [int(r[3]) for r in rows],
    }
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table(table), tmp_path / "data" / "train-00000-of-00001.parquet")
    files = detect_form(mqp.SOURCE, tmp_path)
    assert files.form.name == "hf"
    assert {(r.id, r.input, r.output) for r in mqp.generate(files) if isinstance(r, Record)} == expected
