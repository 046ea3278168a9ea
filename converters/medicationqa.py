"""MedicationQA (Ben Abacha et al., MedInfo 2019): consumers' questions about medications, answered by
experts from trusted sources (MedlinePlus, DailyMed, ...).

Read, in either of two forms:
- the official Excel release `MedInfo2019-QA-Medications.xlsx` of github.com/abachaa/Medication_QA_MedInfo2019,
  one sheet "DrugQA" with columns Question, Focus (Drug), Question Type, Answer, Section Title, URL (streamed with
  openpyxl in read-only mode). A question answered from several sections or sources has one row per answer;
- the Hugging Face Hub Parquet export `truehealth/medicationqa` (one train split), one row per sheet row with the
  same six columns (empty cells as null). It gives the same records: only Question and Answer are read, and the
  key is made from their text alone; locators there are `row <n>` (1-based Parquet row).
(The MedS-Ins script for this task loads LiveQA by mistake; this converter reads MedicationQA itself.)

Task `medicationqa_question_answering`, one instance per row:
- input: the Question cell as the consumer wrote it. The Focus and Question Type cells are annotations derived
  from the question, not something a user supplies, so they are not added (that would leak the annotation);
- output: the Answer cell (its line breaks and list layout kept).
No official split (split=None). Rows carry no id: the key is a hash of question and answer, so it survives
re-sorted or re-saved copies of the sheet; all rows of one question share a group, hence a split.
Quarantined: an empty Question or Answer cell (e.g. the `not_drug_question` rows left unanswered), a row that
repeats an earlier question-answer pair. A sheet or Parquet file without Question and Answer columns raises
ValueError.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from openpyxl import load_workbook

from pipeline import readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="medicationqa",
    name="MedicationQA",
    homepage="https://github.com/abachaa/Medication_QA_MedInfo2019",
    license="unspecified (no license file in the repository)",
    access="open",
    citation=(
        "Ben Abacha A, Mrabet Y, Sharp M, Goodwin T, Shooshan SE, Demner-Fushman D (2019). Bridging the Gap "
        "Between Consumers' Medication Questions and Trusted Answers. MedInfo 2019."
    ),
    obtain="Download MedInfo2019-QA-Medications.xlsx from https://github.com/abachaa/Medication_QA_MedInfo2019.",
    forms=(
        RawForm(
            "xlsx",
            (RawFile("questions", ("MedInfo2019-QA-Medications.xlsx", "*.xlsx"), description="sheet DrugQA"),),
            "the official Excel release (sheet DrugQA)",
        ),
        RawForm(
            "hf",
            (readers.hub_parquet("questions", "train", None),),
            "the Hugging Face dataset truehealth/medicationqa as Parquet (the sheet's columns)",
        ),
    ),
    # The official repository (pinned commit).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/abachaa/Medication_QA_MedInfo2019/"
            "8756adc5f4bb99f6bcff690a13921337d9f9bb7e/MedInfo2019-QA-Medications.xlsx",
            "MedInfo2019-QA-Medications.xlsx",
            sha256="4f13d0e3b195bd6a5d72a1872f9118cb5f69fd02c370001695330cfc9e3b5832",
            size=163497,
        ),
    ),
)

TASKS = (
    Task(
        "medicationqa_question_answering",
        "Question Answering",
        "Exam",
        tags=("Consumer Health", "Medications"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id

SHEET = "DrugQA"
COLUMNS = ("Question", "Answer")


#: (row number, locator, Question text, Answer text) of one non-blank row, whichever form it comes from.
_Row = tuple[int, str, str, str]


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("questions"):
        name = files.relative(path)
        yield from _records(_hub_rows(path, name) if files.form.name == "hf" else _sheet_rows(path, name), name)


def _sheet_rows(path: Path, name: str) -> Iterator[_Row]:
    workbook = load_workbook(path, read_only=True)
    try:
        sheet = workbook[SHEET] if SHEET in workbook.sheetnames else workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = tuple(_text(c) for c in next(rows, ()))
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{name}: sheet {sheet.title!r} lacks columns {missing}; header is {list(header)}")
        at_question, at_answer = header.index("Question"), header.index("Answer")
        for number, row in enumerate(rows, start=2):
            cells = [_text(c) for c in row]
            if not any(cells):
                continue  # trailing blank rows that Excel keeps in the sheet's dimension
            question = cells[at_question] if at_question < len(cells) else ""
            answer = cells[at_answer] if at_answer < len(cells) else ""
            yield number, f"sheet {sheet.title} row {number}", question, answer
    finally:
        workbook.close()


def _hub_rows(path: Path, name: str) -> Iterator[_Row]:
    """The Hub export (truehealth/medicationqa): the sheet's rows, empty cells as null."""
    for number, row in readers.parquet_rows(path, name, COLUMNS):
        yield number, f"row {number}", _text(row["Question"]), _text(row["Answer"])


def _records(rows: Iterator[_Row], name: str) -> Iterator[Item]:
    first_seen: dict[str, int] = {}
    for number, locator, question, answer in rows:
        if not question or not answer:
            empty = "Question" if not question else "Answer"
            yield Rejection(f"empty {empty} cell", name, locator, TASK, question or None)
            continue
        key = readers.content_key(question, answer)
        if key in first_seen:
            reason = "repeats an earlier row (same Question and Answer)"
            yield Rejection(reason, name, locator, TASK, f"row {first_seen[key]}")
            continue
        first_seen[key] = number
        yield Record(TASK, key, question, answer, name, locator, group=readers.question_group(question))


def _text(cell: object) -> str:
    if cell is None or cell != cell:  # null, or a NaN that a pandas-written copy may hold for an empty cell
        return ""
    return str(cell).replace("\r\n", "\n").strip()
