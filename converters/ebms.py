"""EBMSummariser corpus (Mollá, Santiago-Martínez, Sarker and Paris, Language Resources and Evaluation 2016): 456
Clinical Inquiries of the Journal of Family Practice, each a clinical question with an evidence-based answer made of
statements ("snips"), each statement justified by longer texts citing the evidence.

Read: the single XML file `ClinicalInquiries.xml` of the SourceForge project `ebmsumcorpus`, streamed with expat. The
element names are those the MedS-Ins script reads (`tree.findall('record')`): the root holds `<record>` elements (id
attribute), each with `<question>` and `<answer>`; `<answer>` holds `<snip>` elements, each with `<sniptext>` (the
statement) and zero or more `<long>` (a justification) holding `<longtext>`. Other elements the corpus documents
(`<url>`, `<sor>` strength of recommendation, `<ref>` citations, abstracts in separate files) are not read. The file
itself is not on GitHub and was not checked here: the layout follows the MedS-Ins script and the corpus paper. Text
is taken with its markup removed and spaces collapsed. A non-UTF-8 encoding named in the XML declaration is honoured.

Tasks (one group per record, so a record's instances share a split; the corpus has no official split):
- `ebms_question_answering`: input = the question; output = the record's statements (sniptexts) in document order,
  joined by a space, as MedS-Ins does. Key: the record id.
- `ebms_answer_verification` (MedS-Bench "EBMS Justification Ver."): input = one statement (sniptext); output = one
  of its justifications (longtext); one instance per `<long>`, as MedS-Ins does. Key: `<record id>:s<i>l<j>`, the
  1-based positions of the snip in its answer and of the long in its snip.
A record without an id attribute is keyed `record-<n>` (its 1-based position in the file).

Quarantined: a record without question or without any statement, an empty statement or justification, a statement
without justification (it gives no verification instance), a non-UTF-8 byte, a repeated record id. Malformed XML
raises ValueError naming the file and the last record read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO

from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import Utf8Stream, has_bad_bytes

SOURCE = Source(
    id="ebms",
    name="EBMSummariser corpus",
    homepage="https://sourceforge.net/projects/ebmsumcorpus/",
    license="unspecified",
    access="open",
    citation=(
        "Mollá D, Santiago-Martínez ME, Sarker A, Paris C (2016). A corpus for research in text processing for "
        "evidence based medicine. Language Resources and Evaluation 50(4):705-727."
    ),
    obtain=(
        "Download the corpus from https://sourceforge.net/projects/ebmsumcorpus/ and put ClinicalInquiries.xml in "
        "the raw folder (the abstracts folder is not needed)."
    ),
    forms=(
        RawForm(
            "xml",
            (
                RawFile(
                    "inquiries",
                    ("ClinicalInquiries.xml", "*/ClinicalInquiries.xml"),
                    description="456 clinical inquiries: question, statements and their justifications",
                ),
            ),
            "the corpus XML file",
        ),
    ),
)

TASKS = (
    Task("ebms_question_answering", "Question Answering", "Medical Knowledge", tags=("Evidence-Based Medicine",)),
    Task("ebms_answer_verification", "Question Answering", "Medical Knowledge", tags=("Evidence-Based Medicine",)),
)
QA, JUSTIFY = (t.id for t in TASKS)

_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("inquiries")
    name = files.relative(path)
    seen: set[str] = set()
    last = None
    with open(path, "rb") as raw:
        try:
            for number, record in _records(raw):
                rid = (record.get("id") or "").strip() or f"record-{number}"
                last = rid
                if rid in seen:
                    yield Rejection("repeated record id", name, f"record {rid} (#{number})", None, rid)
                else:
                    seen.add(rid)
                    yield from _record(record, rid, name)
                record.clear()
        except ET.ParseError as error:
            where = f"after record {last}" if last else "before the first record"
            raise ValueError(f"{name}: malformed XML {where}: {error}") from error


def _records(raw: BinaryIO) -> Iterator[tuple[int, ET.Element]]:
    """(1-based position, element) of each `<record>` child of the root, streamed."""
    head = raw.read(200)
    raw.seek(0)
    declared = _ENCODING.match(head.lstrip(b"\xef\xbb\xbf"))
    utf8 = declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")
    depth, number = 0, 0
    for event, element in ET.iterparse(Utf8Stream(raw) if utf8 else raw, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if event == "end" and depth == 1 and element.tag == "record":
            number += 1
            yield number, element


def _text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _record(record: ET.Element, rid: str, name: str) -> Iterator[Item]:
    where = f"record {rid}"
    question = _text(record.find("question"))
    answer = record.find("answer")
    snips = answer.findall("snip") if answer is not None else []
    statements: list[str] = []
    for i, snip in enumerate(snips, 1):
        statement = _text(snip.find("sniptext"))
        at = f"{where} snip {i}"
        if not statement or has_bad_bytes(statement):
            reason = "empty statement (sniptext)" if not statement else "non-UTF-8 byte in statement"
            yield Rejection(reason, name, at, JUSTIFY, statement or None)
            continue
        statements.append(statement)
        longs = snip.findall("long")
        if not longs:
            yield Rejection("statement without justification", name, at, JUSTIFY, statement[:200])
        for j, long in enumerate(longs, 1):
            justification = _text(long.find("longtext"))
            if not justification or has_bad_bytes(justification):
                reason = "empty justification (longtext)" if not justification else "non-UTF-8 byte in justification"
                yield Rejection(reason, name, f"{at} long {j}", JUSTIFY, statement[:200])
                continue
            key = f"{rid}:s{i}l{j}"
            yield Record(JUSTIFY, key, statement, justification, name, f"{at} long {j}", group=rid)
    if not question or has_bad_bytes(question):
        reason = "empty question" if not question else "non-UTF-8 byte in question"
        yield Rejection(reason, name, where, QA, question or None)
    elif not statements:
        yield Rejection("no statement in the answer", name, where, QA, question[:200])
    else:
        yield Record(QA, rid, question, " ".join(statements), name, where, group=rid)
