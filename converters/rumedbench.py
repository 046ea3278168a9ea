"""RuMedBench (Blinov et al., AIME 2022): a Russian medical language-understanding benchmark. Its question
answering task in MedS-Ins (and MMedBench-Russian, the MedS-Bench test set) is RuMedDaNet: yes/no questions
about a short medical context, in the official JSON Lines files `data/RuMedDaNet/{train,dev,test}_v1.jsonl`
of the GitHub repository, one object per line: {"context", "question", "answer": "да"|"нет", "pairID"}
(UTF-8, raw Cyrillic, LF line endings).

rumedbench_question_answering
    input:  forms.multiple_choice(question, {A: да, B: нет}, context=context), i.e. the context, a blank line,
            the question, then the lines "A. да" and "B. нет" (the two options in this fixed order);
    output: forms.choice_answer -> "A. да" or "B. нет".
    The task is declared with these two outputs as its label set; texts stay Russian, instructions English.

Splits are the official ones: train -> train, dev -> validation, test -> test (MedS-Bench's MMedBench-Russian
test set is drawn from it; its 1,052 / 256 sizes match RuMedDaNet train / test). `key` is the row's pairID.

Not read, on purpose: `RuMedTest/private_test_v1.jsonl` (4-option MCQs published WITHOUT answers, so no output
can be formed), `RuMedDaNet/private_test_v1.jsonl` (hidden answers) and the other RuMedBench tasks (RuMedTop3,
RuMedSymptomRec, RuMedNER; RuMedNLI is on PhysioNet), which are not part of this catalogue task.

A line that is not valid UTF-8 or JSON, lacks a field, or whose answer is not да/нет is quarantined with its
file and line number; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="rumedbench",
    name="RuMedBench (RuMedDaNet)",
    homepage="https://github.com/sb-ai-lab/RuMedBench",
    license="unspecified (no license file in the repository)",
    access="open",
    citation=(
        "Blinov, P., Reshetnikova, A., Nesterov, A., Zubkova, G. and Kokh, V. (2022). RuMedBench: A Russian "
        "Medical Language Understanding Benchmark. AIME 2022, LNCS 13263, pp. 383-392."
    ),
    obtain=(
        "Clone https://github.com/sb-ai-lab/RuMedBench (now also published as sb-ai-lab/MedBench) and copy its data/ "
        "folder into the raw folder, so that data/RuMedDaNet/train_v1.jsonl, dev_v1.jsonl and test_v1.jsonl exist "
        "(the files may also be placed in RuMedDaNet/ or directly in the raw folder)."
    ),
    version="v1",
    forms=(
        RawForm(
            "jsonl",
            tuple(
                RawFile(
                    name,
                    tuple(f"{d}{name}_v1.jsonl" for d in ("data/RuMedDaNet/", "RuMedDaNet/", "")),
                    required=False,
                    split=split,
                )
                for name, split in (("train", "train"), ("dev", "validation"), ("test", "test"))
            ),
            "the RuMedDaNet JSON Lines files of the RuMedBench repository (any of train/dev/test)",
        ),
    ),
    # The first author's original repository (pinned commit; it now points to sb-ai-lab/MedBench).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/pavel-blinov/RuMedBench/"
            "dd56a60faf55994ba402615c4067f0652ea0d2bb/data/RuMedDaNet/train_v1.jsonl",
            "data/RuMedDaNet/train_v1.jsonl",
            sha256="d578427338e53635bcf11f4b0aaaa94f1f6dac6cbfffdc15c1440fce7f859de8",
            size=1184847,
        ),
        Download(
            "https://raw.githubusercontent.com/pavel-blinov/RuMedBench/"
            "dd56a60faf55994ba402615c4067f0652ea0d2bb/data/RuMedDaNet/dev_v1.jsonl",
            "data/RuMedDaNet/dev_v1.jsonl",
            sha256="546531142765f55856f971fb748d6aa15ac51c52607f61f553fb6e8726cf590c",
            size=290100,
        ),
        Download(
            "https://raw.githubusercontent.com/pavel-blinov/RuMedBench/"
            "dd56a60faf55994ba402615c4067f0652ea0d2bb/data/RuMedDaNet/test_v1.jsonl",
            "data/RuMedDaNet/test_v1.jsonl",
            sha256="995519f1a354978369396870fb23e9ab62f25b60fc3a676bbe78d82edf726443",
            size=284065,
        ),
    ),
)

TASKS = (
    Task(
        "rumedbench_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("General Medicine", "Yes/No Question"),
        input_language="Russian",
        output_language="Russian",
        labels=("A. да", "B. нет"),
    ),
)
TASK = TASKS[0].id

#: The two answers of RuMedDaNet as the options of the multiple-choice form, in a fixed order.
OPTIONS = {"A": "да", "B": "нет"}
LETTER = {text: letter for letter, text in OPTIONS.items()}
FIELDS = ("pairID", "context", "question", "answer")


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in files.form.files:
        for path in files.paths(raw.name):
            yield from _file(path, files.relative(path), raw.split)


def _file(path: Path, name: str, split: str | None) -> Iterator[Item]:
    for number, row, problem in readers.json_lines(path):
        where = f"line {number}"
        if problem:
            yield Rejection(problem, name, where, TASK, row[:500])
            continue
        if _text(row.get("pairID")):
            where += f" (pairID={_text(row['pairID'])})"
        missing = [f for f in FIELDS if not _text(row.get(f))]
        if missing:
            yield Rejection(f"missing or empty {', '.join(missing)}", name, where, TASK)
            continue
        answer = _text(row["answer"]).lower()
        if answer not in LETTER:
            yield Rejection(f"answer {row['answer']!r} is not да/нет", name, where, TASK, str(row["answer"]))
            continue
        try:
            text = forms.multiple_choice(_text(row["question"]), OPTIONS, context=_text(row["context"]))
            output = forms.choice_answer(LETTER[answer], OPTIONS)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, TASK)
            continue
        key = _text(row["pairID"])
        yield Record(TASK, key, text, output, name, where, split=split, group=key)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
