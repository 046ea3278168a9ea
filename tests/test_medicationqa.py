"""MedicationQA specifics: content keys, one group per question, empty and repeated rows, the header."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook, load_workbook

from converters import medicationqa
from pipeline.model import Record, Rejection, detect_form

HEADER = ("Question", "Focus (Drug)", "Question Type", "Answer", "Section Title", "URL")


def sheet(tmp_path: Path, rows: list[tuple]) -> list:
    book = Workbook()
    book.active.title = "DrugQA"
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "MedInfo2019-QA-Medications.xlsx")
    return list(medicationqa.generate(detect_form(medicationqa.SOURCE, tmp_path)))


def test_rows_answers_and_quarantine(tmp_path: Path) -> None:
    items = sheet(
        tmp_path,
        [
            HEADER,
            ("what is drug x for ", "x", "Indication", "Drug x treats y.\n\t1\tstep", "Uses", "u"),
            ("what is drug x for", "x", "Indication", "It is also used for z.", None, "v"),
            ("not about drugs", None, "not_drug_question", None, None, None),
            ("what is drug x for", "x", "Indication", "It is also used for z.", None, "v"),
            (None, None, None, None, None, None),
        ],
    )
    records = [i for i in items if isinstance(i, Record)]
    assert [(r.input, r.output, r.locator) for r in records] == [
        ("what is drug x for", "Drug x treats y.\n\t1\tstep", "sheet DrugQA row 2"),
        ("what is drug x for", "It is also used for z.", "sheet DrugQA row 3"),
    ]
    assert records[0].group == records[1].group and records[0].key != records[1].key and records[0].split is None
    assert [(r.reason, r.locator, r.value) for r in items if isinstance(r, Rejection)] == [
        ("empty Answer cell", "sheet DrugQA row 4", "not about drugs"),
        ("repeats an earlier row (same Question and Answer)", "sheet DrugQA row 5", "row 3"),
    ]


def test_keys_do_not_depend_on_row_order(tmp_path: Path) -> None:
    rows = [("q1", "", "", "a1", "", ""), ("q2", "", "", "a2", "", "")]
    first = {r.input: r.id for r in sheet(tmp_path, [HEADER, *rows])}
    assert first == {r.input: r.id for r in sheet(tmp_path, [HEADER, *reversed(rows)])}


def test_wrong_header_names_the_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"lacks columns \['Answer'\]"):
        sheet(tmp_path, [("Question", "Focus (Drug)", "Reply"), ("q", "f", "a")])


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    """The Hub export (the sheet's rows, empty cells as null) of the bundled sample gives the same records."""
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "medicationqa"
    files = detect_form(medicationqa.SOURCE, sample)
    assert files.form.name == "xlsx"
    expected = {(r.id, r.input, r.output, r.split) for r in medicationqa.generate(files) if isinstance(r, Record)}
    book = load_workbook(sample / "MedInfo2019-QA-Medications.xlsx", read_only=True)
    header, *rows = book["DrugQA"].iter_rows(values_only=True)
    book.close()
    assert header == HEADER
    table = [dict(zip(HEADER, row, strict=True)) for row in rows if any(c is not None for c in row)]
    (tmp_path / "data").mkdir()
    pq.write_table(pa.Table.from_pylist(table), tmp_path / "data" / "train-00000-of-00001.parquet")
    files = detect_form(medicationqa.SOURCE, tmp_path)
    assert files.form.name == "hf"
    records = [r for r in medicationqa.generate(files) if isinstance(r, Record)]
    assert len(records) == len(expected) and records[0].locator == "row 1"
    assert {(r.id, r.input, r.output, r.split) for r in records} == expected
