"""LiveQA specifics: the three XML layouts (ids, BOM + CRLF, reference answers), official splits, the
subject line in the patient turn, re-joined hard wraps, quarantine, and malformed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from converters import liveqa
from pipeline.model import Record, Rejection, detect_form

TRAIN1 = """<?xml version="1.0" encoding="UTF-8"?>
<NLM-QUESTIONS>
<NLM-QUESTION questionid="Q7" fRef="1">
\t<SUBJECT></SUBJECT>
\t<MESSAGE>Is  rosacea contagious?</MESSAGE>
\t<SUB-QUESTIONS>
\t\t<SUB-QUESTION subqid="Q7-S1"><ANSWERS>
\t\t\t<ANSWER answerid="Q7-S1-A1" pairid="1">No, rosacea does not spread.</ANSWER>
\t\t\t<ANSWER answerid="Q7-S1-A2" pairid="2"></ANSWER>
\t\t</ANSWERS></SUB-QUESTION>
\t</SUB-QUESTIONS>
</NLM-QUESTION>
<NLM-QUESTION questionid="Q8" fRef="2">
\t<SUBJECT>hiccups</SUBJECT>
\t<MESSAGE>How do I stop them?</MESSAGE>
\t<SUB-QUESTIONS><SUB-QUESTION subqid="Q8-S1"><ANSWERS></ANSWERS></SUB-QUESTION></SUB-QUESTIONS>
</NLM-QUESTION>
</NLM-QUESTIONS>
"""

TRAIN2 = (
    '<?xml version="1.0" encoding="UTF-8"?>\r\n<NLM-QUESTIONS>\r\n<NLM-QUESTION qid="9.0">\r\n'
    "\t<SUBJECT>warts</SUBJECT>\r\n\t<MESSAGE>warts on my hands keep coming back</MESSAGE>\r\n"
    "\t<SUB-QUESTIONS>\r\n\t<SUB-QUESTION>\r\n\t<ANSWERS>\r\n"
    "\t<ANSWER>Warts often return; freezing may need repeating.</ANSWER></ANSWERS></SUB-QUESTION></SUB-QUESTIONS>\r\n"
    "</NLM-QUESTION>\r\n</NLM-QUESTIONS>\r\n"
)

LONG = "x" * 280


def reference_set(
    answer: str = f"\n\t\t\t\t\t{LONG}\n\t\t\t\t\tcontinued.\n\n\t\t\t\t\tNext paragraph.\n\t\t\t\t",
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<LiveQA2017-Medical-Test-Set-Full>
\t<NLM-QUESTION qid="TQ5">
\t\t<Original-Question qFile="5.txt"><SUBJECT>Acne</SUBJECT>
\t\t\t<MESSAGE>Can I go in the sun on these pills?</MESSAGE></Original-Question>
\t\t<ReferenceAnswers>
\t\t\t<ReferenceAnswer aid="TQ5A1"><ANSWER>{answer}</ANSWER><AnswerURL>u</AnswerURL></ReferenceAnswer>
\t\t\t<RefAnswer aid="TQ5A2"><ANSWER>Use sunscreen.</ANSWER></RefAnswer>
\t\t</ReferenceAnswers>
\t</NLM-QUESTION>
</LiveQA2017-Medical-Test-Set-Full>
"""


def convert(tmp_path: Path, files: dict[str, bytes]) -> list:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    return list(liveqa.generate(detect_form(liveqa.SOURCE, tmp_path)))


def test_layouts_ids_splits_and_quarantine(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        {
            "TrainingDatasets/TREC-2017-LiveQA-Medical-Train-1.xml": TRAIN1.encode(),
            "TrainingDatasets/TREC-2017-LiveQA-Medical-Train-2.xml": b"\xef\xbb\xbf" + TRAIN2.encode(),
            "TestDataset/TREC-2017-LiveQA-Medical-Test.xml": reference_set().encode(),
        },
    )
    records = {r.key: r for r in items if isinstance(r, Record)}
    assert {k: (r.split, r.group) for k, r in records.items()} == {
        "train1:Q7-S1-A1": ("train", "train1:Q7"),
        "train2:9.0-S1-A1": ("train", "train2:9.0"),
        "test:TQ5A1": ("test", "test:TQ5"),
        "test:TQ5A2": ("test", "test:TQ5"),
    }
    assert records["train1:Q7-S1-A1"].input == "Patient: Is rosacea contagious?"
    assert records["train2:9.0-S1-A1"].input == "Patient: warts on my hands keep coming back"
    assert records["test:TQ5A2"].input == "Patient: Acne\nCan I go in the sun on these pills?"
    assert records["test:TQ5A1"].output == f"{LONG} continued.\n\nNext paragraph."
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection)] == [
        ("empty ANSWER", "NLM-QUESTION Q7, ANSWER Q7-S1-A2"),
        ("question has no ANSWER", "NLM-QUESTION Q8"),
    ]


def test_summaries_file_is_preferred_to_plain_test_file(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        {
            "TestDataset/TREC-2017-LiveQA-Medical-Test.xml": reference_set("plain").encode(),
            "TestDataset/TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml": reference_set("summaries").encode(),
        },
    )
    assert {r.raw_file for r in items} == {"TestDataset/TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml"}


def test_non_utf8_byte_quarantines_its_answer_only(tmp_path: Path) -> None:
    items = convert(
        tmp_path, {"TREC-2017-LiveQA-Medical-Test.xml": reference_set().encode().replace(b"Use sun", b"Use\xffsun")}
    )
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection)] == [
        ("non-UTF-8 byte in ANSWER", "NLM-QUESTION TQ5, ANSWER TQ5A2")
    ]
    assert [r.key for r in items if isinstance(r, Record)] == ["test:TQ5A1"]


def test_malformed_xml_names_file_and_last_question(tmp_path: Path) -> None:
    truncated = TRAIN1[: TRAIN1.index("<MESSAGE>How")].encode()
    with pytest.raises(ValueError, match=r"Train-1.xml: malformed XML after NLM-QUESTION Q7"):
        convert(tmp_path, {"TREC-2017-LiveQA-Medical-Train-1.xml": truncated})


def hub_rows(path: Path) -> list[dict]:
    """One Hub-style row per ANSWER of an XML file: the question's ids and texts beside each answer, ids left
    null where the file has none."""
    rows = []
    for q in ET.parse(path).getroot().iter("NLM-QUESTION"):
        subject, message = ("".join(next(q.iter(tag)).itertext()) for tag in ("SUBJECT", "MESSAGE"))
        question = {"questionid": q.get("questionid") or q.get("qid"), "subject": subject, "message": message}
        for holder in [*q.iter("SUB-QUESTION"), *(e for e in q.iter() if e.tag in ("ReferenceAnswer", "RefAnswer"))]:
            annotations = holder if holder.find("ANNOTATIONS") is not None else q
            focus, kind = (annotations.findtext(f"ANNOTATIONS/{tag}") for tag in ("FOCUS", "TYPE"))
            for answer in holder.iter("ANSWER"):
                ids = {"answerid": answer.get("answerid") or holder.get("aid"), "pairid": answer.get("pairid")}
                rows.append(question | {"focus": focus, "type": kind} | ids | {"answer": answer.text})
    return rows


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    """The Hub export (one row per question-answer pair, both training files in its train split) of the bundled
    sample gives the same records, ids included: Train-1 and test rows by their answerid, Train-2 rows by position."""
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "liveqa"
    files = detect_form(liveqa.SOURCE, sample)
    assert files.form.name == "xml"
    expected = {(r.id, r.input, r.output, r.split) for r in liveqa.generate(files) if isinstance(r, Record)}
    (tmp_path / "data").mkdir()
    for split, pattern in (("train", "TrainingDatasets/*-Train-*.xml"), ("test", "TestDataset/*-w-summaries.xml")):
        rows = [row for path in sorted(sample.glob(pattern)) for row in hub_rows(path)]
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / "data" / f"{split}-00000-of-00001.parquet")
    files = detect_form(liveqa.SOURCE, tmp_path)
    assert files.form.name == "hf"
    records = [r for r in liveqa.generate(files) if isinstance(r, Record)]
    assert len(records) == len(expected)
    assert {(r.id, r.input, r.output, r.split) for r in records} == expected
