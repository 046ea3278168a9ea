"""BioASQ Task B (Tsatsaronis et al., BMC Bioinformatics 2015): biomedical questions written by experts, each with
relevant PubMed snippets, an "ideal" (paragraph) answer and, except for summary questions, an exact answer.

Format read: the Task B JSON of the BioASQ participants area (registration required; no redistribution), a single
object {"questions": [{"id", "type" (yesno|factoid|list|summary), "body", "ideal_answer" ([str], or a str in old
releases), "exact_answer" ("yes"|"no" for yesno; lists for factoid/list; absent for summary), "documents" (PubMed
URLs), "snippets" ([{"text", "document", "beginSection", "offsetInBeginSection", ...}]), "concepts", "triples"}]},
streamed with ijson. Files:
- the training set, e.g. `training12b.json` (BioASQ-training12b/, older `BioASQ-trainingDataset6b.json`) -> "train";
- golden test batches, e.g. `12B1_golden.json` ... `12B4_golden.json` -> "test". Each year's training set already
  contains the previous years' test batches, so a question met twice (same id) is quarantined the second time.

Task `bioasq_question_answering` (key = question id, group = the id):
- input: `forms.fields(question=body, context=snippets)`, the context being the question's snippet texts in the
  given order, exact repeats removed, one per line; a question without snippets gets the question alone;
- output: for a yes/no question its exact answer, `yes` or `no`; for factoid, list and summary questions the
  ideal answer (the first non-empty one when several are given), a short paragraph. Factoid and list exact answers
  (synonym lists) are not used: the ideal answer states them in a sentence.

Quarantine: a question without id or body, without an ideal answer (or, for yes/no, without a yes/no exact answer),
of an unknown type, or repeated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ijson

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="bioasq",
    name="BioASQ (Task B)",
    homepage="http://participants-area.bioasq.org/",
    license="BioASQ terms of use (no redistribution)",
    access="registration",
    citation=(
        "Tsatsaronis, G., Balikas, G., Malakasiotis, P., et al. (2015). An overview of the BIOASQ large-scale "
        "biomedical semantic indexing and question answering competition. BMC Bioinformatics 16: 138."
    ),
    obtain=(
        "Register at http://participants-area.bioasq.org/, download the Task B training set (e.g. "
        "BioASQ-training12b.zip, containing training12b.json) and, optionally, the golden files of the test batches "
        "(e.g. 12B1_golden.json), and place the JSON files in the raw folder."
    ),
    forms=(
        RawForm(
            "task_b",
            (
                RawFile(
                    "training",
                    ("**/training*.json", "**/BioASQ-training*.json"),
                    required=False,
                    split="train",
                    description="the Task B training set",
                ),
                RawFile(
                    "golden",
                    ("**/*B[0-9]_golden.json", "**/*_golden.json"),
                    required=False,
                    split="test",
                    description="golden files of the Task B test batches",
                ),
            ),
            "BioASQ Task B JSON files: {'questions': [...]}",
        ),
    ),
)

TASKS = (
    Task(
        "bioasq_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Biomedical", "PubMed"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id
TYPES = ("yesno", "factoid", "list", "summary")


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            for number, question in _questions(path, name):
                yield from _question(question, name, f"question {number}", raw.split, seen)


def _questions(path: Path, name: str) -> Iterator[tuple[int, object]]:
    """The items of the file's `questions` list, streamed; a file of another shape raises ValueError."""
    number = 0
    with open(path, "rb") as raw:
        try:
            for number, question in enumerate(ijson.items(readers.Utf8Stream(raw), "questions.item"), 1):
                yield number, question
        except ijson.JSONError as error:
            raise ValueError(f"{name}: malformed JSON after question {number}: {error}") from error
    if number == 0:
        raise ValueError(f"{name}: no questions (expected a BioASQ Task B file: {{'questions': [...]}})")


def _question(question: object, name: str, where: str, split: str | None, seen: dict[str, str]) -> Iterator[Item]:
    if not isinstance(question, dict):
        yield Rejection("question is not a JSON object", name, where, TASK, str(question)[:300])
        return
    qid = str(question.get("id") or "").strip()
    if not qid:
        yield Rejection("question without id", name, where, TASK, str(question.get("body"))[:300])
        return
    where = f"{where} (id {qid})"
    if qid in seen:
        yield Rejection("repeated question id", name, where, TASK, f"first at {seen[qid]}")
        return
    seen[qid] = f"{name} {where}"
    value = json.dumps({k: question.get(k) for k in ("type", "body")}, ensure_ascii=False, default=str)[:300]
    try:
        text = forms.fields(question=_text(question.get("body"), "body"), context=_context(question.get("snippets")))
        answer = _answer(question)
    except forms.FormError as error:
        yield Rejection(str(error), name, where, TASK, value)
        return
    yield Record(TASK, qid, text, answer, name, where, split=split, group=qid)


def _text(value: object, field: str) -> str:
    problem = readers.text_problem(value, field)
    if problem:
        raise forms.FormError(problem)
    return " ".join(value.split())


def _context(snippets: object) -> str:
    texts: dict[str, None] = {}
    for snippet in snippets if isinstance(snippets, list) else ():
        text = snippet.get("text") if isinstance(snippet, dict) else None
        if isinstance(text, str) and text.strip():
            texts.setdefault(" ".join(text.split()))
    if readers.has_bad_bytes(*texts):
        raise forms.FormError("non-UTF-8 byte in snippets")
    return "\n".join(texts)


def _answer(question: dict) -> str:
    kind = question.get("type")
    if kind not in TYPES:
        raise forms.FormError("unknown question type")
    if kind == "yesno":
        exact = question.get("exact_answer")
        exact = exact[0] if isinstance(exact, list) and len(exact) == 1 else exact
        if not isinstance(exact, str) or exact.strip().lower() not in ("yes", "no"):
            raise forms.FormError("yes/no question without a yes/no exact answer")
        return exact.strip().lower()
    ideal = question.get("ideal_answer")
    ideal = ideal if isinstance(ideal, list) else [ideal]
    for candidate in ideal:
        if isinstance(candidate, str) and candidate.strip():
            return _text(candidate, "ideal_answer")
    raise forms.FormError("no ideal answer")
