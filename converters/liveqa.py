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
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
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
    ),
)

TASKS = (Task("liveqa_medical_conversation", "Dialogue", "Daily Conversation", tags=("Consumer Health", "NLM")),)
TASK = TASKS[0].id

_Answer = tuple[str, str]  # (answer id, raw text)


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in SOURCE.forms[0].files:
        for path in files.paths(raw.name):
            yield from _file(path, files.relative(path), raw.name, raw.split)


def _file(path: Path, name: str, tag: str, split: str | None) -> Iterator[Item]:
    seen: set[str] = set()
    last = None
    with open(path, "rb") as raw:
        try:
            for _, element in ET.iterparse(Utf8Stream(raw), events=("end",)):
                if element.tag != "NLM-QUESTION":
                    continue
                last = element.get("questionid") or element.get("qid") or last
                yield from _question(element, name, tag, split, seen)
                element.clear()
        except ET.ParseError as error:
            where = f"after NLM-QUESTION {last}" if last else "before the first NLM-QUESTION"
            raise ValueError(f"{name}: malformed XML {where}: {error}") from error


def _question(q: ET.Element, name: str, tag: str, split: str | None, seen: set[str]) -> Iterator[Item]:
    qid = (q.get("questionid") or q.get("qid") or "").strip()
    if not qid:
        yield Rejection("NLM-QUESTION without questionid/qid attribute", name, "NLM-QUESTION (no id)", TASK)
        return
    where = f"NLM-QUESTION {qid}"
    turn = _patient_turn(_clean(_first_text(q, "SUBJECT")), _clean(_first_text(q, "MESSAGE")))
    answers = _answers(q, qid)
    if not turn:
        yield Rejection("empty SUBJECT and MESSAGE", name, where, TASK)
        return
    if has_bad_bytes(turn):
        yield Rejection("non-UTF-8 byte in SUBJECT or MESSAGE", name, where, TASK, turn[:200])
        return
    if not answers:
        yield Rejection("question has no ANSWER", name, where, TASK, turn[:200])
        return
    question = forms.dialogue([("Patient", turn)])
    for aid, text in answers:
        locator = f"{where}, ANSWER {aid}"
        answer = _clean(text)
        if aid in seen:
            yield Rejection(f"duplicate answer id {aid}", name, locator, TASK, aid)
        elif not answer:
            yield Rejection("empty ANSWER", name, locator, TASK)
        elif has_bad_bytes(answer):
            yield Rejection("non-UTF-8 byte in ANSWER", name, locator, TASK, answer[:200])
        else:
            seen.add(aid)
            yield Record(TASK, f"{tag}:{aid}", question, answer, name, locator, split=split, group=f"{tag}:{qid}")


def _answers(q: ET.Element, qid: str) -> list[_Answer]:
    """(answer id, text) of every answer of the question, in file order: sub-question answers in the
    training files, reference answers in the test files."""
    found: list[_Answer] = []
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
