"""LitCovid specifics: the quoted CSV dialect, the split mapping, topic order and broken rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import litcovid
from pipeline.model import Record, Rejection, detect_form

HEADER = b"pmid,journal,title,abstract,keywords,pub_type,authors,doi,label\n"


def convert(root: Path, files: dict[str, bytes]) -> list:
    for name, rows in files.items():
        (root / f"BC7-LitCovid-{name}.csv").write_bytes(HEADER + rows)
    return list(litcovid.generate(detect_form(litcovid.SOURCE, root)))


def test_quoted_rows_splits_and_topic_order(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        {
            "Train": b'1,J,"A title, with a comma","Line one.\nLine two, ""quoted"".",k,t,a,d,Mechanism;treatment\n',
            "Dev": b"2,J,Only a title,,k,t,a,d,Case Report\n",
            "Test-GS": b"3,J,T,Abstract.,k,t,a,d,Transmission;Prevention\n",
        },
    )
    assert [(r.key, r.split, r.output) for r in items] == [
        ("3", "test", "Prevention, Transmission"),
        ("2", "validation", "Case Report"),
        ("1", "train", "Treatment, Mechanism"),
    ]
    assert items[2].input == 'Title: A title, with a comma\nAbstract: Line one.\nLine two, "quoted".'
    assert items[1].input == "Title: Only a title"


def test_broken_rows_are_quarantined_with_their_row(tmp_path: Path) -> None:
    rows = b"1,J,T,A,k,t,a,d,Treatment\n2,J,T,A,k,t,a,d\n3,J,T,\xff bad,k,t,a,d,Diagnosis\n4,J,T,A,k,t,a,d,Vaccine\n"
    items = convert(tmp_path, {"Train": rows + b"1,J,T,A,k,t,a,d,Treatment\n"})
    assert [(i.reason, i.locator) for i in items if isinstance(i, Rejection)] == [
        ("8 fields, expected 9 (pmid,journal,title,abstract,keywords,pub_type,authors,doi,label)", "row 3"),
        ("bytes that are not valid in the file's encoding", "row 4"),
        ("labels ['Vaccine'] are not in the task's set", "row 5 (pmid 4)"),
        ("pmid repeated (an earlier row has it)", "row 6 (pmid 1)"),
    ]
    assert [i.key for i in items if isinstance(i, Record)] == ["1"]


def test_header_without_label_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "BC7-LitCovid-Train.csv").write_text("pmid,title,abstract\n1,T,A\n")
    with pytest.raises(ValueError, match=r"BC7-LitCovid-Train.csv: header .* lacks columns \['label'\]"):
        list(litcovid.generate(detect_form(litcovid.SOURCE, tmp_path)))
