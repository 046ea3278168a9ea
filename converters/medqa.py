"""MedQA (Jin et al., Applied Sciences 2021): multiple-choice questions from medical licensing exams. Two of its
question sets are read, with their official train / dev / test files (dev -> "validation"):

- medqa_question_answering_en: the 4-option USMLE set, `questions/US/4_options/phrases_no_exclude_{split}.jsonl`
  (10,178 / 1,272 / 1,273; the 1,273-question test file is MedS-Bench's MedQA).
- medqa_question_answering_zh: the Mainland China MCMLE set, `questions/Mainland/{split}.jsonl` (5 options; the
  main Mainland release, not its 4_options copy, which would give other inputs under the same keys).

Both are JSON Lines, one question a line: {"question", "answer" (option text), "options": {"A": ...},
"meta_info", "answer_idx": "A"} (+ "metamap_phrases" in the US files; Chinese is written as raw UTF-8).
Input = `forms.multiple_choice(question, options)`; output = `forms.choice_answer(answer_idx, options)`, i.e.
`<letter>. <option text>`. A row whose `answer` text disagrees with the option its `answer_idx` names is
quarantined, since one of the two is wrong. The rows carry no id, so the key is the official split + line number
(`test-17`), stable because the release files never change. Files are read from the unzipped data_clean.zip
(`data_clean/questions/...`), from its `questions/` folder, or with the US files laid flat in the raw folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_ROOTS = ("data_clean/questions/", "questions/", "")
#: official file name -> split name of the pipeline
_OFFICIAL = (("train", "train"), ("dev", "validation"), ("test", "test"))

TASKS = (
    Task(
        "medqa_question_answering_en",
        "Question Answering",
        "Medical Knowledge",
        tags=("USMLE", "Medical Licensing Exam"),
    ),
    Task(
        "medqa_question_answering_zh",
        "Question Answering",
        "Medical Knowledge",
        tags=("MCMLE", "Medical Licensing Exam"),
        input_language="Chinese",
        output_language="Chinese",
    ),
)
EN, ZH = (t.id for t in TASKS)


def _raw_files() -> tuple[RawFile, ...]:
    files = []
    for lang, folder, stem in (("en", "US/4_options/", "phrases_no_exclude_"), ("zh", "Mainland/", "")):
        for official, split in _OFFICIAL:
            name = f"{stem}{official}.jsonl"
            patterns = tuple(root + folder + name for root in _ROOTS) + ((name,) if lang == "en" else ())
            files.append(RawFile(f"{lang}_{official}", patterns, required=False, split=split))
    return tuple(files)


SOURCE = Source(
    id="medqa",
    name="MedQA (USMLE / MCMLE)",
    homepage="https://github.com/jind11/MedQA",
    license="MIT",
    access="open",
    citation=(
        "Jin, D., Pan, E., Oufattole, N., Weng, W.-H., Fang, H. and Szolovits, P. (2021). What Disease Does This "
        "Patient Have? A Large-scale Open Domain Question Answering Dataset from Medical Exams. Applied Sciences "
        "11(14): 6421."
    ),
    obtain=(
        "Download data_clean.zip from the Google Drive link in the README of https://github.com/jind11/MedQA and "
        "unzip it into the raw folder. Read: data_clean/questions/US/4_options/phrases_no_exclude_{train,dev,test}"
        ".jsonl and data_clean/questions/Mainland/{train,dev,test}.jsonl."
    ),
    version="data_clean (2020 release)",
    forms=(
        RawForm(
            "jsonl",
            _raw_files(),
            "the official JSON Lines question files (US 4-option, Mainland), any subset of train/dev/test",
        ),
    ),
)


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in SOURCE.forms[0].files:
        lang, _, official = raw.name.partition("_")
        for path in files.paths(raw.name):
            yield from _questions(path, files.relative(path), EN if lang == "en" else ZH, official, raw.split)


def _questions(path: Path, name: str, task: str, official: str, split: str | None) -> Iterator[Item]:
    for number, row, problem in readers.json_lines(path):
        where = f"line {number}"
        if problem:
            yield Rejection(problem, name, where, task, str(row)[:500])
            continue
        try:
            question, options, letter = _fields(row)
            input_text = forms.multiple_choice(question, options)
            output = forms.choice_answer(letter, options)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, task, json.dumps(row, ensure_ascii=False)[:500])
            continue
        answer, (chosen_letter, _, chosen) = row.get("answer"), output.partition(". ")
        if isinstance(answer, str) and " ".join(answer.split()) != " ".join(chosen.split()):
            texts = f"answer {answer!r}; option {chosen_letter} {chosen!r}"
            yield Rejection(f"answer text differs from option {chosen_letter} (answer_idx)", name, where, task, texts)
            continue
        yield Record(task, f"{official}-{number}", input_text, output, name, where, split=split)


def _fields(row: dict) -> tuple[str, dict[str, str], str]:
    """question, options, answer letter of a raw row; FormError names what is missing."""
    question, options, letter = row.get("question"), row.get("options"), row.get("answer_idx")
    if not isinstance(question, str) or not question.strip():
        raise forms.FormError("missing or empty question")
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise forms.FormError("options is not an object of letter -> text")
    if not isinstance(letter, str) or not letter.strip():
        raise forms.FormError("missing or empty answer_idx")
    return question, options, letter
