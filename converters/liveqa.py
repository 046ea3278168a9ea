"""TREC 2017 LiveQA Medical (Ben Abacha et al., TREC 2017): consumer health questions sent to the U.S.
National Library of Medicine, with answers from trusted sources.

Read: the XML files of github.com/abachaa/LiveQA_MedicalTask_TREC2017, streamed with expat.
- `TrainingDatasets/TREC-2017-LiveQA-Medical-Train-1.xml` (200 questions, 388 QA pairs):
  `<NLM-QUESTION questionid="Q1">` with SUBJECT, MESSAGE and SUB-QUESTIONS, each SUB-QUESTION (`subqid`) holding
  ANSWERS/ANSWER (`answerid`, e.g. Q1-S1-A1).
- `TrainingDatasets/TREC-2017-LiveQA-Medical-Train-2.xml` (246 questions, 246 pairs): the same elements with
  `qid="1.0"` and no sub-question or answer ids; the file starts with a UTF-8 BOM and has CRLF line endings.
- `TestDataset/TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml` (or `...-Test.xml`, the same questions
  without NLM summaries; the first found is read): `<NLM-QUESTION qid="TQ1">` with Original-Question/SUBJECT and
  MESSAGE, and ReferenceAnswers of `ReferenceAnswer` (sometimes `RefAnswer`) elements with `aid` and ANSWER.
The two training files were removed from the repository's HEAD on 2024-11-27; they are at commit 74d3612.
The qrels file (judged answers of participating systems) is not read: those answers are not references.

Task `liveqa_medical_conversation` (dialogue), one instance per question-answer pair (the corpus's own unit):
- input: `forms.dialogue([("Patient", turn)])`, the turn being the question's SUBJECT line followed by its
  MESSAGE (the subject is left out when the message already starts with it);
- output: the ANSWER text. XML indentation is removed line by line and the test files' hard wraps (lines of
  ~300 columns) are re-joined; other line breaks are kept.
Splits are official: both training files -> train, the test file -> test. Keys: `train1:<answerid>`,
`train2:<qid>-S<n>-A<m>`, `test:<aid>` (ids built from position within a question only where the file has
none); all answers of one question share the group `<file>:<qid>`.
Quarantined: a question without SUBJECT and MESSAGE or without any ANSWER, an empty ANSWER, a repeated
answer id, a non-UTF-8 byte. Malformed XML raises ValueError naming the file.

Second form, with the same records: the Hugging Face Hub Parquet export `truehealth/liveqa` (splits train and
test), one row per question-answer pair with columns questionid, subject, message, focus, type, answerid, pairid,
answer (focus and type annotate the answer's sub-question; pairid is not read). The rows are gathered into
questions by questionid (first-seen order) and formed exactly as the XML's. The export names no source file, so
the key prefix and ids rest on these assumptions (no copy of the export could be checked here):
- test split -> `test:`; questionid is the test file's `qid` (TQ1), answerid its `aid` (TQ1A1);
- train split -> `train1:` for a question whose rows carry answerids (questionid/answerid/pairid are Train-1's
  attributes), else `train2:` (that file has no ids; questionid is taken to be its `qid`, e.g. "1.0");
- an empty answerid is built by position as in the XML; the flat rows lose the SUB-QUESTION boundaries, so a
  new sub-question is assumed where (focus, type) changes from one row of a question to the next;
- subject, message and answer hold the elements' text (with or without the XML indentation: it is cleaned the
  same way). A question without any answer has no row, so it is absent rather than quarantined.
Locators there are `row <n> (questionid <id>, answer <id>)`, counting Parquet rows from 1. A row without
questionid is quarantined; a file lacking one of the columns read raises ValueError naming it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import Utf8Stream, has_bad_bytes

_TRAIN = "TREC-2017-LiveQA-Medical-Train-{}.xml"
_TEST = ("TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml", "TREC-2017-LiveQA-Medical-Test.xml")

SOURCE = Source(
    id="liveqa",
    name="TREC 2017 LiveQA Medical",
    homepage="https://github.com/abachaa/LiveQA_MedicalTask_TREC2017",
    license="unspecified (no license file in the repository)",
    access="open",
    citation=(
        "Ben Abacha A, Agichtein E, Pinter Y, Demner-Fushman D (2017). Overview of the Medical Question "
        "Answering Task at TREC 2017 LiveQA. TREC 2017."
    ),
    obtain=(
        "Clone https://github.com/abachaa/LiveQA_MedicalTask_TREC2017 and keep its TestDataset/ folder. The "
        "TrainingDatasets/ XML files were deleted from the default branch on 2024-11-27: get them from commit "
        "74d361222a641703edd9874211cd84081bf1b042 (git checkout 74d3612 -- TrainingDatasets)."
    ),
    version="TREC 2017",
    forms=(
        RawForm(
            "xml",
            (
                RawFile(
                    "train1",
                    (f"TrainingDatasets/{_TRAIN.format(1)}", _TRAIN.format(1)),
                    required=False,
                    split="train",
                    description="200 questions split into sub-questions, 388 answers with ids",
                ),
                RawFile(
                    "train2",
                    (f"TrainingDatasets/{_TRAIN.format(2)}", _TRAIN.format(2)),
                    required=False,
                    split="train",
                    description="246 questions with one librarian answer each (UTF-8 BOM, CRLF)",
                ),
                RawFile(
                    "test",
                    tuple(f"TestDataset/{f}" for f in _TEST) + _TEST,
                    required=False,
                    split="test",
                    description="104 test questions with reference answers",
                ),
            ),
            "the XML files of the GitHub repository (any subset)",
        ),
        RawForm(
            "hf",
            (readers.hub_parquet("train", "train", "train"), readers.hub_parquet("test", "test", "test")),
            "the Hugging Face dataset truehealth/liveqa as Parquet (one row per question-answer pair)",
        ),
    ),
    # The official repository: the test file at the current head, the training files from the last commit that
    # had them (they were deleted on 2024-11-27; see `obtain`). Digests of those commits' files.
    downloads=(
        Download(
            "https://raw.githubusercontent.com/abachaa/LiveQA_MedicalTask_TREC2017/"
            "3f5a42ccbaa0b8ff1c665a6dc23785740ab0f09f/TestDataset/TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml",
            "TestDataset/TREC-2017-LiveQA-Medical-Test-Questions-w-summaries.xml",
            sha256="f6384fcf03e9b1bd0d9a15f6ea1a1aafc9491082e63fef0922ae2d6bc451805b",
            size=266041,
        ),
        *(
            Download(
                "https://raw.githubusercontent.com/abachaa/LiveQA_MedicalTask_TREC2017/"
                f"74d361222a641703edd9874211cd84081bf1b042/TrainingDatasets/{name}",
                f"TrainingDatasets/{name}",
                sha256=digest,
                size=size,
            )
            for name, size, digest in (
                (
                    "TREC-2017-LiveQA-Medical-Train-1.xml",
                    649241,
                    "04b307031ab9d2ff0b2e8593f6c7e2313aa86e3da25dabd85ffc051ea431b4d7",
                ),
                (
                    "TREC-2017-LiveQA-Medical-Train-2.xml",
                    312808,
                    "7f7d0466829227cfd830fd8d83d99064868f927b943079ae3c4fffe18dbde47b",
                ),
            )
        ),
    ),
)

TASKS = (
    Task(
        "liveqa_medical_conversation",
        "Dialogue",
        "Daily Conversation",
        tags=("Consumer Health", "NLM"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id


@dataclass(frozen=True)
class _Question:
    """One question as either form gives it: raw SUBJECT and MESSAGE text, and its answers as
    (answer id, raw text, locator), in file order."""

    qid: str
    subject: str
    message: str
    answers: list[tuple[str, str, str]]
    where: str


HUB_COLUMNS = ("questionid", "subject", "message", "focus", "type", "answerid", "answer")


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            if files.form.name == "hf":
                yield from _hub_file(path, name, raw.split)
            else:
                yield from _file(path, name, raw.name, raw.split)


def _file(path: Path, name: str, tag: str, split: str | None) -> Iterator[Item]:
    seen: set[str] = set()
    last = None
    with open(path, "rb") as raw:
        try:
            for _, element in ET.iterparse(Utf8Stream(raw), events=("end",)):
                if element.tag != "NLM-QUESTION":
                    continue
                qid = (element.get("questionid") or element.get("qid") or "").strip()
                last = qid or last
                if qid:
                    yield from _records(_xml_question(element, qid), name, tag, split, seen)
                else:
                    yield Rejection("NLM-QUESTION without questionid/qid attribute", name, "NLM-QUESTION (no id)", TASK)
                element.clear()
        except ET.ParseError as error:
            where = f"after NLM-QUESTION {last}" if last else "before the first NLM-QUESTION"
            raise ValueError(f"{name}: malformed XML {where}: {error}") from error


def _xml_question(q: ET.Element, qid: str) -> _Question:
    where = f"NLM-QUESTION {qid}"
    answers = [(aid, text, f"{where}, ANSWER {aid}") for aid, text in _answers(q, qid)]
    return _Question(qid, _first_text(q, "SUBJECT"), _first_text(q, "MESSAGE"), answers, where)


def _hub_file(path: Path, name: str, split: str | None) -> Iterator[Item]:
    """The Hub export: rows gathered into questions by questionid (first-seen order), each question then formed
    as the XML's, under the tag of the XML file it is inferred to come from."""
    questions: dict[str, list[tuple[int, dict]]] = {}
    for number, row in readers.parquet_rows(path, name, HUB_COLUMNS):
        qid = _field(row["questionid"])
        if qid:
            questions.setdefault(qid, []).append((number, row))
        else:
            yield Rejection("row without questionid", name, f"row {number}", TASK)
    seen: set[str] = set()
    for qid, rows in questions.items():
        if split == "test":
            tag, ids = "test", [_field(row["answerid"]) or f"{qid}A{j}" for j, (_, row) in enumerate(rows, 1)]
        else:
            tag = "train1" if any(_field(row["answerid"]) for _, row in rows) else "train2"
            ids = _training_ids(qid, [row for _, row in rows])
        answers = [
            (aid, row["answer"] or "", f"row {number} (questionid {qid}, answer {aid})")
            for aid, (number, row) in zip(ids, rows, strict=True)
        ]
        number, first = rows[0]
        question = _Question(
            qid, first["subject"] or "", first["message"] or "", answers, f"row {number} (questionid {qid})"
        )
        yield from _records(question, name, tag, split, seen)


def _training_ids(qid: str, rows: list[dict]) -> list[str]:
    """The answer id of each row of a training question: its answerid, else `<qid>-S<i>-A<j>` as the XML reader
    builds it, a new sub-question starting where (focus, type) changes."""
    ids: list[str] = []
    sub, position, previous = 0, 0, None
    for row in rows:
        annotation = (_field(row["focus"]), _field(row["type"]))
        if annotation != previous:
            sub, position, previous = sub + 1, 0, annotation
        position += 1
        ids.append(_field(row["answerid"]) or f"{qid}-S{sub}-A{position}")
    return ids


def _field(value: object) -> str:
    return "" if value is None else str(value).strip()


def _records(q: _Question, name: str, tag: str, split: str | None, seen: set[str]) -> Iterator[Item]:
    """The records (and rejections) of one question, whichever form it was read from."""
    turn = _patient_turn(_clean(q.subject), _clean(q.message))
    if not turn:
        yield Rejection("empty SUBJECT and MESSAGE", name, q.where, TASK)
        return
    if has_bad_bytes(turn):
        yield Rejection("non-UTF-8 byte in SUBJECT or MESSAGE", name, q.where, TASK, turn[:200])
        return
    if not q.answers:
        yield Rejection("question has no ANSWER", name, q.where, TASK, turn[:200])
        return
    question = forms.dialogue([("Patient", turn)])
    for aid, text, locator in q.answers:
        answer = _clean(text)
        key = f"{tag}:{aid}"
        if key in seen:
            yield Rejection(f"duplicate answer id {aid}", name, locator, TASK, aid)
        elif not answer:
            yield Rejection("empty ANSWER", name, locator, TASK)
        elif has_bad_bytes(answer):
            yield Rejection("non-UTF-8 byte in ANSWER", name, locator, TASK, answer[:200])
        else:
            seen.add(key)
            yield Record(TASK, key, question, answer, name, locator, split=split, group=f"{tag}:{q.qid}")


def _answers(q: ET.Element, qid: str) -> list[tuple[str, str]]:
    """(answer id, text) of every answer of the question, in file order: sub-question answers in the
    training files, reference answers in the test files."""
    found: list[tuple[str, str]] = []
    for i, sub in enumerate(q.iter("SUB-QUESTION"), start=1):
        subqid = (sub.get("subqid") or "").strip() or f"{qid}-S{i}"
        for j, answer in enumerate(sub.iter("ANSWER"), start=1):
            found.append(((answer.get("answerid") or "").strip() or f"{subqid}-A{j}", answer.text or ""))
    references = [e for e in q.iter() if e.tag in ("ReferenceAnswer", "RefAnswer")]
    for j, ref in enumerate(references, start=1):
        found.append(((ref.get("aid") or "").strip() or f"{qid}A{j}", ref.findtext("ANSWER") or ""))
    return found


def _first_text(q: ET.Element, tag: str) -> str:
    element = next(q.iter(tag), None)
    return "" if element is None else "".join(element.itertext())


#: The test files are hard-wrapped at about 300 columns: a line this long continues on the next one.
_WRAPPED = 260


def _clean(text: str) -> str:
    """Text without the XML's indentation: spaces collapsed within each line, hard-wrapped lines re-joined,
    runs of blank lines kept as one."""
    lines: list[str] = []
    wrapped = False  # whether the previous physical line was long enough to be a hard wrap
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and lines and wrapped:
            lines[-1] += " " + line
        elif line or (lines and lines[-1]):
            lines.append(line)
        wrapped = len(line) >= _WRAPPED
    return "\n".join(lines).strip()


def _patient_turn(subject: str, message: str) -> str:
    if not subject or message.casefold().startswith(subject.casefold()):
        return message
    return f"{subject}\n{message}" if message else subject
