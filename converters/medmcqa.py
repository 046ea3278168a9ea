"""MedMCQA (Pal et al., CHIL 2022): four-option questions from the Indian AIIMS and NEET PG medical entrance exams,
most with an explanation of the answer.

Two distributions are accepted, giving the same (id, input, output) for the same question:
- "json": the official data.zip from the Google Drive link of github.com/medmcqa/medmcqa: train.json, dev.json,
  test.json, which are JSON Lines despite the extension. Row: {"question", "exp", "cop", "opa".."opd",
  "subject_name", "topic_name", "id", "choice_type"}; `cop` (correct option) is 1-BASED here (1 = opa).
- "parquet": the Hugging Face export (openlifescienceai/medmcqa, `data/{train,validation,test}-*.parquet`), same
  columns but `cop` is 0-BASED (a ClassLabel a/b/c/d; -1 where the answer is withheld).

Splits: the official test split ships without answers (no `cop`, no `exp`), so it cannot yield a record and is not
read at all (not even declared; nothing is lost, since every row of it lacks the output). As the catalogue notes, the
dev split (4,183 questions) serves as the test set of MedS-Bench, so dev -> "test"; train -> "train". No
"validation" split is produced.

Tasks (key = the row's `id`, shared as group by the two tasks of one question):
- medmcqa_multiple_choice_qa: input `forms.multiple_choice(question, [opa, opb, opc, opd])` (options A-D),
  output `forms.choice_answer(letter, options)`, i.e. `<letter>. <option text>`.
- medmcqa_explanation_qa: input = that question with its options and the answer,
  `forms.fields(question=<multiple-choice input>, answer=<letter>. <option text>)`; output = `exp`, the explanation.
  A question without an explanation (null or blank `exp`) is quarantined for this task only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="medmcqa",
    name="MedMCQA",
    homepage="https://github.com/medmcqa/medmcqa",
    license="MIT",
    access="open",
    citation=(
        "Pal, A., Umapathi, L. K. and Sankarasubbu, M. (2022). MedMCQA: A Large-scale Multi-Subject Multi-Choice "
        "Dataset for Medical domain Question Answering. Proceedings of the Conference on Health, Inference, and "
        "Learning (CHIL 2022), PMLR 174, pp. 248-260."
    ),
    obtain=(
        "Download data.zip from the Google Drive link in the README of https://github.com/medmcqa/medmcqa and unzip "
        "train.json and dev.json into the raw folder (or its data/); test.json has no answers and is not read. "
        "Alternatively, place the Hugging Face parquet files of openlifescienceai/medmcqa "
        "(data/train-*.parquet, data/validation-*.parquet)."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile("train", ("train.json", "data/train.json"), required=False, split="train"),
                RawFile("dev", ("dev.json", "data/dev.json"), required=False, split="test"),
            ),
            "the official data.zip: train.json and dev.json, JSON Lines with a 1-based cop",
        ),
        RawForm(
            "parquet",
            (
                RawFile("train", ("data/train-*.parquet", "train-*.parquet"), required=False, split="train"),
                RawFile("dev", ("data/validation-*.parquet", "validation-*.parquet"), required=False, split="test"),
            ),
            "the Hugging Face export (openlifescienceai/medmcqa): parquet with a 0-based cop",
        ),
    ),
    # The authors' Hugging Face copy (openlifescienceai/medmcqa), Parquet; the original data.zip is on Google Drive.
    downloads=(
        Download(
            hf_dataset="openlifescienceai/medmcqa",
            files=("data/train-*.parquet", "data/validation-*.parquet"),
        ),
    ),
)

TASKS = (
    Task("medmcqa_explanation_qa", "Explanation", "Exam", tags=("Medical Entrance Exam", "AIIMS", "NEET PG")),
    Task(
        "medmcqa_multiple_choice_qa", "Question Answering", "Exam", tags=("Medical Entrance Exam", "AIIMS", "NEET PG")
    ),
)
EXPLANATION, CHOICE = (t.id for t in TASKS)

OPTION_COLUMNS = ("opa", "opb", "opc", "opd")
COLUMNS = ("id", "question", *OPTION_COLUMNS, "cop", "exp")


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # id -> where it was first seen, across files
    base = 0 if files.form.name == "parquet" else 1
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            rows = _parquet_rows(path, name) if base == 0 else _json_lines(path)
            for where, row, problem in rows:
                if problem:
                    yield Rejection(problem, name, where, None, str(row)[:500])
                    continue
                yield from _question(row, name, where, raw.split, base, seen)


def _question(row: dict, name: str, where: str, split: str | None, base: int, seen: dict[str, str]) -> Iterator[Item]:
    qid = row.get("id")
    value = json.dumps(row, ensure_ascii=False, default=str)[:500]
    if not isinstance(qid, str) or not qid.strip():
        yield Rejection("missing or empty id", name, where, None, value)
        return
    qid = qid.strip()
    where = f"{where} (id {qid})"
    if qid in seen:
        yield Rejection("duplicate id (an earlier row has the same id)", name, where, None, f"first at {seen[qid]}")
        return
    seen[qid] = f"{name} {where}"
    try:
        question, options, letter = _fields(row, base)
        input_text = forms.multiple_choice(question, options)
        answer = forms.choice_answer(letter, options)
    except forms.FormError as error:
        yield Rejection(str(error), name, where, None, value)
        return
    yield Record(CHOICE, qid, input_text, answer, name, where, split=split, group=qid)
    explanation = row.get("exp")
    if not isinstance(explanation, str) or not explanation.strip():
        yield Rejection("no explanation (exp is null or empty)", name, where, EXPLANATION, value)
        return
    explained = forms.fields(question=input_text, answer=answer)
    yield Record(EXPLANATION, qid, explained, explanation.strip(), name, where, split=split, group=qid)


def _fields(row: dict, base: int) -> tuple[str, list[str], str]:
    """question, options A-D and the answer letter; `base` is what `cop` counts from (1 raw, 0 parquet)."""
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise forms.FormError("missing or empty question")
    options = [row.get(c) for c in OPTION_COLUMNS]
    for column, option in zip(OPTION_COLUMNS, options, strict=True):
        if not isinstance(option, str):
            raise forms.FormError(f"{column} is missing or not text")
    cop = row.get("cop")
    if isinstance(cop, str) and cop.strip().lstrip("-").isdigit():
        cop = int(cop)
    if cop is None or isinstance(cop, bool) or not isinstance(cop, int):
        raise forms.FormError("no answer (cop is missing)")
    if not base <= cop < base + len(options):
        hint = " (cop is 1-based in the official files; 0 suggests a 0-based export)" if base == 1 and cop == 0 else ""
        raise forms.FormError(f"cop {cop} is out of range {base}-{base + len(options) - 1}{hint}")
    return question, options, forms.LETTERS[cop - base]


def _json_lines(path: Path) -> Iterator[tuple[str, dict | str, str | None]]:
    for number, row, problem in readers.json_lines(path):
        yield f"line {number}", row, problem


def _parquet_rows(path: Path, name: str) -> Iterator[tuple[str, dict, None]]:
    for number, row in readers.parquet_rows(path, name, COLUMNS):
        yield f"row {number}", row, None
