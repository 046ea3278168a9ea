"""FrenchMedMCQA (Labrak et al., LOUHI 2022): 3,105 multiple-choice questions from French pharmacy-degree
exams, as distributed in the GitHub repository: `corpus/{train,dev,test}.json`, each a JSON list (indent 4,
ASCII-escaped) of {"id": sha256 hex, "question", "answers": {"a": ..., "e": ...}, "correct_answers": ["b", ...],
"subject_name", "type": "simple"|"multiple" (absent in test.json), "nbr_correct_answers"}. The Hugging Face
copy (qanastek/frenchmedmcqa) is built from the same files. One to five options are correct.

frenchmedmcqa_question_answering
    input:  forms.multiple_choice(question, answers) - the question, then "A. <text>" ... "E. <text>";
    output: every correct option as a forms.choice_answer line "<LETTER>. <text>", in letter order, joined by
            newlines (one line for a "simple" question, two to five for a "multiple" one). Multi-answer
            questions are kept, not quarantined: they are most of the corpus (about 75% of train) and are
            what MMedBench-French (the MedS-Bench test set) asks.
    French input and output; instructions English.

Splits are the official ones: train -> train, dev -> validation, test -> test (MedS-Bench's MMedBench-French
test set is this test split, 622 questions). `key` is the item's id (a SHA-256 of the question).

Quarantined with file, list index and id: items missing a field, a correct answer that is not among the
options, or whose `nbr_correct_answers` disagrees with `correct_answers`. The lists are read with a streaming
parser; a file that is not a JSON list raises ValueError naming the file and the last good item.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ijson

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="frenchmedmcqa",
    name="FrenchMedMCQA",
    homepage="https://github.com/qanastek/FrenchMedMCQA",
    license="Apache-2.0",
    access="open",
    citation=(
        "Labrak, Y., Bazoge, A., Dufour, R., Daille, B., Gourraud, P.-A., Morin, E. and Rouvier, M. (2022). "
        "FrenchMedMCQA: A French Multiple-Choice Question Answering Dataset for Medical domain. Proceedings of "
        "the 13th International Workshop on Health Text Mining and Information Analysis (LOUHI), pp. 41-46."
    ),
    obtain=(
        "Clone https://github.com/qanastek/FrenchMedMCQA and copy corpus/train.json, corpus/dev.json and "
        "corpus/test.json into the raw folder (as corpus/<file> or directly in it)."
    ),
    forms=(
        RawForm(
            "json",
            tuple(
                RawFile(name, (f"corpus/{name}.json", f"{name}.json"), required=False, split=split)
                for name, split in (("train", "train"), ("dev", "validation"), ("test", "test"))
            ),
            "the repository's corpus/{train,dev,test}.json lists (any of them)",
        ),
    ),
    # The official repository (pinned commit).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/qanastek/FrenchMedMCQA/"
            "4e36a4055245feec3218573c9f6bb1a9ecb1756b/corpus/train.json",
            "corpus/train.json",
            sha256="7932ffb982f174980c3545ff220091efcf856be0c946fdf077dea788c35e93a3",
            size=1737510,
        ),
        Download(
            "https://raw.githubusercontent.com/qanastek/FrenchMedMCQA/"
            "4e36a4055245feec3218573c9f6bb1a9ecb1756b/corpus/dev.json",
            "corpus/dev.json",
            sha256="ddd64d9218561fed1c2dcd59ca13c39380ba92953aff253f39ebeb187a420a32",
            size=238934,
        ),
        Download(
            "https://raw.githubusercontent.com/qanastek/FrenchMedMCQA/"
            "4e36a4055245feec3218573c9f6bb1a9ecb1756b/corpus/test.json",
            "corpus/test.json",
            sha256="f53d1682af74558ed58b74c8b422a78199b1a0d4e7f0d47e532c5b4b3411e35e",
            size=473227,
        ),
    ),
)

TASKS = (
    Task(
        "frenchmedmcqa_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Pharmacy",),
        input_language="French",
        output_language="French",
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in files.form.files:
        for path in files.paths(raw.name):
            yield from _file(path, files.relative(path), raw.split)


def _file(path: Path, name: str, split: str | None) -> Iterator[Item]:
    for index, item in _items(path, name):
        where = f"item {index}"
        if not isinstance(item, dict):
            yield Rejection("item is not a JSON object", name, where, TASK)
            continue
        qid = _text(item.get("id"))
        if not qid:
            yield Rejection("missing id", name, where, TASK)
            continue
        where += f" (id={qid})"
        try:
            text, output = _form(item)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, TASK, repr(item.get("correct_answers")))
            continue
        yield Record(TASK, qid, text, output, name, where, split=split, group=qid)


def _form(item: dict) -> tuple[str, str]:
    """(input, output) of one item; FormError says why it cannot be formed."""
    options, correct = item.get("answers"), item.get("correct_answers")
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise forms.FormError("answers is not an object of option texts")
    if not isinstance(correct, list) or not correct or not all(isinstance(c, str) and c.strip() for c in correct):
        raise forms.FormError("correct_answers is not a non-empty list of letters")
    letters = sorted({c.strip().upper() for c in correct})
    declared = item.get("nbr_correct_answers")
    if declared is not None and str(declared).strip() != str(len(letters)):
        raise forms.FormError(f"nbr_correct_answers is {declared} but correct_answers has {len(letters)}")
    options = {k.strip().upper(): v for k, v in options.items()}
    text = forms.multiple_choice(_text(item.get("question")), options)
    return text, "\n".join(forms.choice_answer(letter, options) for letter in letters)


def _items(path: Path, name: str) -> Iterator[tuple[int, object]]:
    """The list's (index, item) pairs, streamed; a syntax error names the file and the last good item."""
    index, last = -1, None
    with open(path, "rb") as f:
        head = f.read(64)
        bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
        if not head[bom:].lstrip().startswith(b"["):
            raise ValueError(f"{name}: not a JSON list (FrenchMedMCQA files are lists of question objects)")
        f.seek(bom)
        try:
            for index, item in enumerate(ijson.items(f, "item")):
                last = item.get("id") if isinstance(item, dict) else None
                yield index, item
        except ijson.JSONError as error:
            after = f" after item {index}" + (f" (id={last})" if last else "") if index >= 0 else " before item 0"
            raise ValueError(f"{name}: malformed JSON{after}: {error}") from error
        except UnicodeDecodeError as error:
            raise ValueError(f"{name}: not UTF-8 after item {index}: {error.reason}") from error


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
