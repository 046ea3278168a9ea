"""MeQSum specifics: the Excel sheet's header and empty cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from converters import meqsum
from pipeline.model import Record, Rejection, detect_form


def sheet(tmp_path: Path, rows: list[tuple]) -> list:
    book = Workbook()
    book.active.title = "QS"
    for row in rows:
        book.active.append(row)
    book.save(tmp_path / "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx")
    return list(meqsum.generate(detect_form(meqsum.SOURCE, tmp_path)))


def test_rows_become_records_keyed_by_file(tmp_path: Path) -> None:
    items = sheet(
        tmp_path, [("File", "CHQ", "Summary"), ("1-5.xml.txt", "SUBJECT: x\nMESSAGE: long question", "Short?")]
    )
    assert items == [
        Record(
            "meqsum_text_summarization",
            "1-5.xml.txt",
            "SUBJECT: x\nMESSAGE: long question",
            "Short?",
            "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx",
            "sheet QS row 2 (File=1-5.xml.txt)",
        )
    ]


def test_empty_cells_are_rejected_with_their_row(tmp_path: Path) -> None:
    items = sheet(
        tmp_path, [("File", "CHQ", "Summary"), ("a.txt", "question", None), (None, "q", "s"), ("b.txt", "q", "s")]
    )
    assert [(i.reason, i.locator) for i in items if isinstance(i, Rejection)] == [
        ("empty Summary cell", "sheet QS row 2 (File=a.txt)"),
        ("empty File cell (no id)", "sheet QS row 3"),
    ]
    assert [i.key for i in items if isinstance(i, Record)] == ["b.txt"]


def test_wrong_header_names_the_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"lacks columns \['Summary'\]"):
        sheet(tmp_path, [("File", "CHQ", "Answer"), ("a", "b", "c")])
