"""EBMSummariser specifics: statements joined into the answer, one justification instance per <long>, keys by
position, quarantine, a Latin-1 file read through its XML declaration, and malformed XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import ebms
from pipeline.model import Record, Rejection, detect_form


def run(tmp_path: Path, xml: bytes) -> tuple[list[Record], list[Rejection]]:
    (tmp_path / "ClinicalInquiries.xml").write_bytes(xml)
    items = list(ebms.generate(detect_form(ebms.SOURCE, tmp_path)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


RECORD = (
    "<record{attr}><question>Is caf\u00e9 au lait safe?</question><answer>"
    "<snip><sniptext>Probably.</sniptext><long><longtext>One  small\ntrial.</longtext></long></snip>"
    "<snip><sniptext>Ask first.</sniptext><long><longtext>Opinion.</longtext></long></snip></answer></record>"
)


def test_latin1_file_keys_and_repeated_id(tmp_path: Path) -> None:
    body = RECORD.format(attr="") + RECORD.format(attr=' id="7"') + RECORD.format(attr=' id="7"')
    xml = f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<records>{body}</records>'.encode("latin-1")
    records, rejections = run(tmp_path, xml)
    qa = [r for r in records if r.task_id == "ebms_question_answering"]
    assert [(r.key, r.input, r.output) for r in qa] == [
        ("record-1", "Is caf\u00e9 au lait safe?", "Probably. Ask first."),
        ("7", "Is caf\u00e9 au lait safe?", "Probably. Ask first."),
    ]
    verify = sorted(r.key for r in records if r.task_id == "ebms_answer_verification")
    assert verify == ["7:s1l1", "7:s2l1", "record-1:s1l1", "record-1:s2l1"]
    assert next(r.output for r in records if r.key == "7:s1l1") == "One small trial."
    assert [(r.reason, r.locator) for r in rejections] == [("repeated record id", "record 7 (#3)")]


def test_malformed_xml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ClinicalInquiries.xml: malformed XML after record 7"):
        run(tmp_path, ("<records>" + RECORD.format(attr=' id="7"') + "<record id='8'><question>").encode())
