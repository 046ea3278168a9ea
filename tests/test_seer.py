"""SEER specifics: the SEER*Stat export read with its BOM, CRLF and quoted labels; output and identifier columns
left out of the input; keys from Patient ID or, without it, the row number; values outside the 7 classes quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import seer
from pipeline.model import Record, Rejection, detect_form

PRIOR = "Radiation prior to surgery"


def convert(root: Path, text: str) -> list:
    (root / "Query_5_years.csv").write_bytes(text.replace("\n", "\r\n").encode("utf-8-sig"))
    return list(seer.generate(detect_form(seer.SOURCE, root)))


def test_input_output_and_keys(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        '"Patient ID","Chemotherapy recode (yes, no/unk)",Radiation sequence with surgery,stutus_5_years,Grade\n'
        "007,Yes,Radiation after surgery,1,\n"
        "007,No/Unknown,Radiation prior to surgery,0,II\n"
        '008,Yes,"Sequence unknown, but both were given",1,I\n',
    )
    records = [r for r in items if isinstance(r, Record)]
    assert [(r.key, r.group, r.input, r.output, r.split) for r in records] == [
        ("007", "007", "Chemotherapy recode (yes, no/unk): Yes", "Radiation after surgery", None),
        ("007-2", "007", "Chemotherapy recode (yes, no/unk): No/Unknown\nGrade: II", PRIOR, None),
    ]
    (rejection,) = [r for r in items if isinstance(r, Rejection)]
    assert (rejection.reason, rejection.locator) == (
        "Radiation sequence with surgery is not one of the 7 classes",
        "row 3 (Patient ID 008)",
    )


def test_without_patient_id_and_without_output_column(tmp_path: Path) -> None:
    items = convert(tmp_path, "Age,Radiation sequence with surgery\n61,Intraoperative radiation\n")
    assert [(r.key, r.input) for r in items] == [("row-1", "Age: 61")]
    with pytest.raises(ValueError, match="Query_5_years.csv: no 'Radiation sequence with surgery' column"):
        convert(tmp_path, "Age,Radiation\n61,Beam\n")
