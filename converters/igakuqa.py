"""IgakuQA (Kasai et al., 2023): the Japanese National Medical Licensing Examinations 2018-2022 (exams 112-116),
2,000 questions, as distributed in the GitHub repository: one JSON Lines file per exam block,
`data/<year>/<exam>-<block>.jsonl` (e.g. `data/2022/116-A.jsonl`), one question per line:
{"problem_id": "116A1", "problem_text", "choices": [5 strings], "text_only": bool, "answer": ["c"], "points"}.
`answer` lists lower-case letters indexing `choices` (a, b, ...); several are correct when the question says
so ("2つ選べ" / "3つ選べ"). The `_metadata.jsonl` and `_translate.jsonl` files beside each block (category,
human accuracy, English translation) are not needed and not read.

igakuqa_question_answering
    input:  forms.multiple_choice(problem_text, choices) - the question (its own line breaks, e.g. lab tables,
            kept), then one "A. <choice>" line per choice;
    output: every correct option as a forms.choice_answer line "<LETTER>. <choice>", in letter order, joined
            by newlines. A single-answer question therefore has a one-line output; a "choose two/three"
            question has two/three lines. (Multi-answer questions are kept rather than quarantined: they are
            17% of the exams, MMedBench-Japanese keeps them, and the question text states how many to choose.)
    Japanese input and output; instructions English.

Quarantined (with file, line and problem_id): the numeric-entry calculation questions, which have no choices
(`choices: []`, the answer is digits to fill in, e.g. ["21"] for "①.②"); answers that are not letters among
the choices; lines that are not UTF-8 or not JSON. Questions whose figure is not distributed
(`text_only: false`, about 29% of the sampled exams) are kept: their text and options remain an exam item, and
MMedBench-Japanese (1,789 questions) is too large to be text-only questions alone.

IgakuQA has no train/test split (the authors evaluate on every exam), so split=None and the build hash-splits
on `group` = problem_id, which is also the `key`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_BLOCK = "[0-9][0-9][0-9]-[A-Z].jsonl"  # 116-A.jsonl; excludes 116-A_metadata.jsonl and 116-A_translate.jsonl

SOURCE = Source(
    id="igakuqa",
    name="IgakuQA",
    homepage="https://github.com/jungokasai/IgakuQA",
    license="unspecified (no license file in the repository)",
    access="open",
    citation=(
        "Kasai, J., Kasai, Y., Sakaguchi, K., Yamada, Y. and Radev, D. (2023). Evaluating GPT-4 and ChatGPT on "
        "Japanese Medical Licensing Examinations. arXiv:2303.18027."
    ),
    obtain=(
        "Clone https://github.com/jungokasai/IgakuQA and copy its data/ folder into the raw folder, so that "
        "data/<year>/<exam>-<block>.jsonl files (data/2018/112-A.jsonl ... data/2022/116-F.jsonl) exist."
    ),
    forms=(
        RawForm(
            "jsonl",
            (RawFile("questions", (f"data/*/{_BLOCK}", f"*/{_BLOCK}", _BLOCK), description="one file per block"),),
            "the repository's data/<year>/<exam>-<block>.jsonl files",
        ),
    ),
    # The official repository at a pinned commit as GitHub archives it; its data/ folder is kept.
    downloads=(
        Download(
            "https://github.com/jungokasai/IgakuQA/archive/2bc4c3d159cf5505f6253d24a909fbd53237e239.tar.gz",
            "IgakuQA.tar.gz",
            unpack="tar.gz",
            members=(("*/data/", "data/"),),
        ),
    ),
)

TASKS = (
    Task(
        "igakuqa_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Medical Licensing Examination",),
        input_language="Japanese",
        output_language="Japanese",
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("questions"):
        yield from _block(path, files.relative(path))


def _block(path: Path, name: str) -> Iterator[Item]:
    for number, row, problem in readers.json_lines(path):
        where = f"line {number}"
        if problem:
            yield Rejection(problem, name, where, TASK, row[:500])
            continue
        pid = _text(row.get("problem_id"))
        if not pid:
            yield Rejection("missing problem_id", name, where, TASK)
            continue
        where += f" (problem_id={pid})"
        try:
            text, output = _form(row)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, TASK, json.dumps(row.get("answer"), ensure_ascii=False))
            continue
        yield Record(TASK, pid, text, output, name, where, group=pid)


def _form(row: dict) -> tuple[str, str]:
    """(input, output) of one question; FormError says why it cannot be formed."""
    choices, answer = row.get("choices"), row.get("answer")
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        raise forms.FormError("choices is not a list of strings")
    if not choices:
        raise forms.FormError("no choices (numeric-entry calculation question)")
    if not isinstance(answer, list) or not answer or not all(isinstance(a, str) and a.strip() for a in answer):
        raise forms.FormError("answer is not a non-empty list of letters")
    letters = sorted({a.strip().upper() for a in answer})
    text = forms.multiple_choice(_text(row.get("problem_text")), choices)
    return text, "\n".join(forms.choice_answer(letter, choices) for letter in letters)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
