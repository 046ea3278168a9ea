"""MedQuAD (Ben Abacha and Demner-Fushman, BMC Bioinformatics 2019): 47,457 question-answer pairs built from 12
NIH websites (cancer.gov, GARD, Genetics Home Reference, MedlinePlus, NIDDK, NINDS, NIHSeniorHealth, NHLBI, CDC).

Read: the XML files of github.com/abachaa/MedQuAD as distributed, one `<Document id source url>` per file
(`0000001.xml`, CancerGov `0000001_1.xml`) in 12 collection folders (`1_CancerGov_QA` ... `12_MPlusHerbsSupplements_QA`,
note `8_NHLBI_QA_XML`), directly in the raw folder or under `MedQuAD/` / `MedQuAD-master/`. Every folder is optional,
so a subset converts what it holds and the build names the folders that are missing. Each Document has a `<Focus>`
and `<QAPairs>` of `<QAPair pid>` holding `<Question qid qtype>` and `<Answer>`; files are UTF-8 with XML entities
and answers keep the source pages' line breaks and indentation. The repository's LiveQA qrels archive
(`QA-TestSet-LiveQA-Med-Qrels-2479-Answers.zip`, judgements of answers to other questions) is not read.

Task `medquad_question_answering`, one instance per QA pair:
- input: the Question text (spaces collapsed), e.g. "What is (are) Aarskog-Scott syndrome ?";
- output: the Answer text, each line stripped of its indentation and spaces collapsed, runs of blank lines kept as
  one paragraph break.
Key: `<Document source>:<qid>` (qids restart at 0000001 in every collection; a QAPair without qid uses
`<Document id>-<pid>`, MedQuAD's own qid scheme). Group: the Focus (case-folded), so every answer about one topic,
from whichever collection, lands in the same split. MedQuAD has no official split.

Quarantined, never dropped: every pair of 10_MPlus_ADAM_QA, 11_MPlusDrugs_QA and 12_MPlusHerbsSupplements_QA, whose
answers MedQuAD removed to comply with the MedlinePlus copyright (empty `<Answer></Answer>`); an empty question or
answer elsewhere; a non-UTF-8 byte; a repeated qid; a pair repeating an earlier pair of its Document (same question
and answer). A file that is not well-formed XML is one Document, so it is quarantined as a whole (locator: the file)
instead of stopping the build.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import Utf8Stream, content_key, has_bad_bytes

#: (RawFile name, folder) of the 12 collections, in the release's order.
FOLDERS = (
    ("cancergov", "1_CancerGov_QA"),
    ("gard", "2_GARD_QA"),
    ("ghr", "3_GHR_QA"),
    ("mplus_health_topics", "4_MPlus_Health_Topics_QA"),
    ("niddk", "5_NIDDK_QA"),
    ("ninds", "6_NINDS_QA"),
    ("seniorhealth", "7_SeniorHealth_QA"),
    ("nhlbi", "8_NHLBI_QA_XML"),
    ("cdc", "9_CDC_QA"),
    ("mplus_adam", "10_MPlus_ADAM_QA"),
    ("mplus_drugs", "11_MPlusDrugs_QA"),
    ("mplus_herbs", "12_MPlusHerbsSupplements_QA"),
)
#: Collections whose answers were removed from the public release (MedlinePlus copyright).
ANSWERS_REMOVED = {"mplus_adam", "mplus_drugs", "mplus_herbs"}

SOURCE = Source(
    id="medquad",
    name="MedQuAD",
    homepage="https://github.com/abachaa/MedQuAD",
    license="CC BY 4.0",
    access="open",
    citation=(
        "Ben Abacha A, Demner-Fushman D (2019). A question-entailment approach to question answering. "
        "BMC Bioinformatics 20:511."
    ),
    obtain=(
        "Clone or download https://github.com/abachaa/MedQuAD and put its 12 collection folders (1_CancerGov_QA ... "
        "12_MPlusHerbsSupplements_QA) in the raw folder (or keep them under MedQuAD/). The answers of the three "
        "MedlinePlus folders (10-12) are empty in the public release."
    ),
    version="GitHub release (47,457 QA pairs)",
    forms=(
        RawForm(
            "xml",
            tuple(
                RawFile(
                    name,
                    (f"{folder}/*.xml", f"MedQuAD/{folder}/*.xml", f"MedQuAD-master/{folder}/*.xml"),
                    required=False,
                    description=f"{folder}: one XML Document per focus"
                    + (" (answers removed for copyright)" if name in ANSWERS_REMOVED else ""),
                )
                for name, folder in FOLDERS
            ),
            "the 12 collection folders of XML Documents (any subset)",
        ),
    ),
    # The official repository at a pinned commit as GitHub archives it; the 12 collection folders are kept.
    downloads=(
        Download(
            "https://github.com/abachaa/MedQuAD/archive/577bd37b96c02d1833b2c9eed2de9f96964e96cb.tar.gz",
            "MedQuAD.tar.gz",
            unpack="tar.gz",
            members=tuple(
                (f"*/{folder}/", f"{folder}/")
                for folder in (
                    "1_CancerGov_QA",
                    "2_GARD_QA",
                    "3_GHR_QA",
                    "4_MPlus_Health_Topics_QA",
                    "5_NIDDK_QA",
                    "6_NINDS_QA",
                    "7_SeniorHealth_QA",
                    "8_NHLBI_QA_XML",
                    "9_CDC_QA",
                    "10_MPlus_ADAM_QA",
                    "11_MPlusDrugs_QA",
                    "12_MPlusHerbsSupplements_QA",
                )
            ),
        ),
    ),
)

TASKS = (
    Task(
        "medquad_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Consumer Health", "NIH"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # key -> file of its first pair
    for name, _ in FOLDERS:
        for path in files.paths(name):
            yield from _document(path, files.relative(path), name in ANSWERS_REMOVED, seen)


def _document(path: Path, name: str, removed: bool, seen: dict[str, str]) -> Iterator[Item]:
    with open(path, "rb") as raw:
        try:
            root = ET.parse(Utf8Stream(raw)).getroot()
        except ET.ParseError as error:
            yield Rejection("malformed XML document", name, "whole file", TASK, str(error))
            return
    if root.tag != "Document":
        yield Rejection("root element is not Document", name, "whole file", TASK, root.tag)
        return
    doc_id = (root.get("id") or Path(name).stem).strip()
    collection = (root.get("source") or Path(name).parent.name).strip()
    focus = " ".join((root.findtext("Focus") or "").split())
    group = "focus:" + content_key(focus.casefold()) if focus else f"{collection}:{doc_id}"
    pairs: dict[tuple[str, str], str] = {}  # (question, answer) -> qid, within the Document
    for number, pair in enumerate(root.iter("QAPair"), 1):
        question_el = pair.find("Question")
        qid = (question_el.get("qid") if question_el is not None else None) or ""
        pid = (pair.get("pid") or "").strip()
        qid = qid.strip() or (f"{doc_id}-{pid}" if pid else f"{doc_id}-#{number}")
        locator = f"Document {doc_id} QAPair {qid}"
        question = " ".join("".join(question_el.itertext()).split()) if question_el is not None else ""
        answer_el = pair.find("Answer")
        answer = _clean("".join(answer_el.itertext())) if answer_el is not None else ""
        if not answer:
            reason = "answer removed from the release (MedlinePlus copyright)" if removed else "empty answer"
            yield Rejection(reason, name, locator, TASK, question or None)
            continue
        if not question:
            yield Rejection("empty question", name, locator, TASK, answer[:200])
            continue
        if has_bad_bytes(question, answer):
            yield Rejection("non-UTF-8 byte in question or answer", name, locator, TASK, question)
            continue
        key = f"{collection}:{qid}"
        if key in seen:
            yield Rejection("repeated question id", name, locator, TASK, f"first in {seen[key]}")
            continue
        seen[key] = name
        if (question, answer) in pairs:
            yield Rejection("repeats an earlier QA pair of the document", name, locator, TASK, pairs[question, answer])
            continue
        pairs[question, answer] = qid
        yield Record(TASK, key, question, answer, name, locator, group=group)


def _clean(text: str) -> str:
    """Answer text without the XML's indentation: spaces collapsed within each line, blank-line runs kept as one."""
    lines: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()
