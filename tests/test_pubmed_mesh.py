"""PubMed MeSH specifics: the one-hot category columns of the Kaggle CSV, duplicate rows and unlabelled rows."""

from __future__ import annotations

import csv
from pathlib import Path

from converters import pubmed_mesh
from pipeline.model import Record, Rejection, detect_form

LETTERS = list("ABCDEFGHIJLMNZ")


def convert(root: Path, rows: list[tuple[str, str, str, str]]) -> list:
    with (root / pubmed_mesh.FILE).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Title", "abstractText", "meshMajor", "pmid", "meshid", "meshroot", *LETTERS])
        for title, abstract, pmid, roots in rows:
            writer.writerow(
                [title, abstract, "['X']", pmid, "[['A01']]", "['Anatomy [A]']", *(int(c in roots) for c in LETTERS)]
            )
    return list(pubmed_mesh.generate(detect_form(pubmed_mesh.SOURCE, root)))


def test_one_hot_columns_become_labels_in_column_order(tmp_path: Path) -> None:
    [record] = convert(tmp_path, [("A title", "An abstract, with a comma.", "7", "ZJEA")])
    assert record.output == (
        "Anatomy, Analytical Diagnostic and Therapeutic Techniques and Equipment, Technology Industry and Agriculture, "
        "Geographicals"
    )
    assert (record.key, record.split, record.input) == (
        "7",
        None,
        "Title: A title\nAbstract: An abstract, with a comma.",
    )


def test_duplicates_and_rows_without_category_are_quarantined(tmp_path: Path) -> None:
    items = convert(tmp_path, [("T", "A", "1", "C"), ("T", "A", "2", ""), ("T", "A", "1", "C")])
    assert [(i.reason, i.locator) for i in items if isinstance(i, Rejection)] == [
        ("no MeSH root category (all one-hot columns are 0)", "row 3 (pmid 2)"),
        ("pmid repeated (an earlier row has it)", "row 4 (pmid 1)"),
    ]
    assert [(i.key, i.output) for i in items if isinstance(i, Record)] == [("1", "Diseases")]
