"""MedQuAD specifics: keys and groups, answer cleaning, the copyright-removed MedlinePlus answers and other
quarantined pairs, and a malformed document that is quarantined instead of stopping the build."""

from __future__ import annotations

from pathlib import Path

from converters import medquad
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "medquad"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(medquad.generate(detect_form(medquad.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_sample_records_and_quarantine() -> None:
    records, rejections = run(SAMPLE)
    by_id = {r.id: r for r in records}
    cdc = by_id["medquad_question_answering:CDC:0000002-1"]
    assert cdc.input == "What are the symptoms of Puddle Fever ?"
    assert cdc.output.startswith("Puddle fever is an invented illness picked up from stagnant water.\n\n- Fever\n- Wet")
    assert cdc.output.endswith("- Sneezing\n\nMost people recover in a week.")
    gard, ghr = by_id["medquad_question_answering:GARD:0000004-1"], by_id["medquad_question_answering:GHR:0000001-1"]
    assert gard.group == ghr.group  # same focus in two collections
    assert "doesn't" in gard.output
    reasons = sorted((r.reason, r.raw_file) for r in rejections)
    removed = [f for reason, f in reasons if reason == "answer removed from the release (MedlinePlus copyright)"]
    assert len(removed) == 4 and all(f.startswith(("10_", "11_", "12_")) for f in removed)
    assert ("empty answer", "3_GHR_QA/0000001.xml") in reasons
    assert ("repeats an earlier QA pair of the document", "5_NIDDK_QA/0000001.xml") in reasons


def test_malformed_document_is_quarantined(tmp_path: Path) -> None:
    folder = tmp_path / "MedQuAD" / "6_NINDS_QA"
    folder.mkdir(parents=True)
    (folder / "0000001.xml").write_text('<Document id="0000001" source="NINDS"><Focus>X</Focus><QAPairs>', "utf-8")
    (folder / "0000002.xml").write_text(
        '<Document id="0000002" source="NINDS"><Focus>Y</Focus><QAPairs><QAPair pid="3">'
        "<Question qtype='information'>What is Y ?</Question><Answer>Y is an example.</Answer></QAPair>"
        "</QAPairs></Document>",
        "utf-8",
    )
    records, rejections = run(tmp_path)
    assert [(r.reason, r.locator) for r in rejections] == [("malformed XML document", "whole file")]
    assert [r.id for r in records] == ["medquad_question_answering:NINDS:0000002-3"]  # qid from Document id + pid
