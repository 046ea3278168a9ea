"""MASH-QA (Zhu, Ahuja, Juan, Wei and Reddy, Findings of EMNLP 2020): about 35k consumer health questions over WebMD
articles whose answers are made of several, possibly non-adjacent, sentences of the article.

Read: the JSON files of the Google Drive archive linked from github.com/mingzhu0527/MASHQA, one per official split:
`train_webmd_squad_v2_consec.json`, `val_webmd_squad_v2_consec.json`, `test_webmd_squad_v2_consec.json` (the files
the authors' scripts read), or, when a split's consec file is absent, the `*_webmd_squad_v2_full.json` variant of the
same split; directly in the raw folder or one folder down. The structure is SQuAD 2.0 extended with sentence offsets,
as read by the authors' `read_squad_examples` (run_sentqa_att.py): `{"data": [{"title", "paragraphs": [{"context",
"sent_starts": [[start, length], ...], "qas": [{"id", "question", "is_impossible", "answers": [{"text",
"answer_start", "answer_starts": [[start, length], ...]}]}]}]}]}`. The data files themselves were not checked here
(they are only on Google Drive), nor what distinguishes the consec and full variants; both are read the same way.
Each file is streamed article by article with ijson.

Task `mashqa_question_answering`, one instance per question:
- input: `forms.fields(context=<the article passage>, question=<the question>)`;
- output: the answer sentences, i.e. the `answer_starts` spans of the context in document order, each with its
  spaces collapsed, joined by a space; when a question has no `answer_starts`, the answer's `text`.
Splits are official: train -> train, val -> validation, test -> test. Key: the question `id`.

Quarantined: an unanswerable question (`is_impossible`), a question without id, text or answer, a span outside its
context, a non-UTF-8 byte, a question id already seen. A file that is not a JSON object with a `data` list, or whose
syntax breaks, raises ValueError naming the file and the last article read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ijson

from pipeline import forms
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import Utf8Stream, has_bad_bytes, text_problem


def _patterns(split: str) -> tuple[str, ...]:
    names = (f"{split}_webmd_squad_v2_consec.json", f"{split}_webmd_squad_v2_full.json")
    return tuple(f"{folder}{name}" for name in names for folder in ("", "*/"))


SOURCE = Source(
    id="mashqa",
    name="MASH-QA",
    homepage="https://github.com/mingzhu0527/MASHQA",
    license="unspecified (code Apache-2.0)",
    access="open",
    citation=(
        "Zhu M, Ahuja A, Juan DC, Wei W, Reddy CK (2020). Question Answering with Long Multiple-Span Answers. "
        "Findings of EMNLP 2020, pp. 3840-3849."
    ),
    obtain=(
        "Download the dataset archive from the Google Drive link in the README of "
        "https://github.com/mingzhu0527/MASHQA (or ask the author, mingzhu@vt.edu), unzip it and put the "
        "{train,val,test}_webmd_squad_v2_consec.json files (or the _full variants) in the raw folder."
    ),
    forms=(
        RawForm(
            "squad_json",
            (
                RawFile("train", _patterns("train"), required=False, split="train"),
                RawFile("val", _patterns("val"), required=False, split="validation"),
                RawFile("test", _patterns("test"), required=False, split="test"),
            ),
            "the SQuAD-2.0-style JSON files of the official splits (any subset)",
        ),
    ),
)

TASKS = (
    Task(
        "mashqa_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Consumer Health", "WebMD"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # question id -> file of its first occurrence
    for raw in SOURCE.forms[0].files:
        for path in files.paths(raw.name):
            yield from _file(path, files.relative(path), raw.split, seen)


def _file(path: Path, name: str, split: str | None, seen: dict[str, str]) -> Iterator[Item]:
    with open(path, "rb") as raw:
        if not raw.read(1 << 12).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            raise ValueError(f"{name}: expected a JSON object with a 'data' list")
        raw.seek(0)
        number = 0
        try:
            for number, article in enumerate(ijson.items(Utf8Stream(raw), "data.item"), 1):
                yield from _article(article, number, name, split, seen)
        except ijson.JSONError as error:
            where = f"after article {number}" if number else "before the first article"
            raise ValueError(f"{name}: malformed JSON {where}: {error}") from error
    if not number:
        raise ValueError(f"{name}: no article in 'data'")


def _article(article: object, number: int, name: str, split: str | None, seen: dict[str, str]) -> Iterator[Item]:
    paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
    if not isinstance(paragraphs, list):
        yield Rejection("article without a paragraphs list", name, f"article {number}", TASK, str(article)[:200])
        return
    for p, paragraph in enumerate(paragraphs, 1):
        where = f"article {number} paragraph {p}"
        context = paragraph.get("context") if isinstance(paragraph, dict) else None
        qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
        problem = text_problem(context, "context") or (None if isinstance(qas, list) else "paragraph without qas list")
        if problem:
            yield Rejection(problem, name, where, TASK, str(paragraph)[:200])
            continue
        for qa in qas:
            yield _question(qa, context, f"{where} question", name, split, seen)


def _question(qa: object, context: str, where: str, name: str, split: str | None, seen: dict[str, str]) -> Item:
    if not isinstance(qa, dict):
        return Rejection("question is not a JSON object", name, where, TASK, str(qa)[:200])
    qid = str(qa.get("id") or "").strip()
    where = f"{where} {qid}" if qid else where
    if not qid:
        return Rejection("question without id", name, where, TASK, str(qa.get("question"))[:200])
    if qid in seen:
        return Rejection("repeated question id", name, where, TASK, f"first in {seen[qid]}")
    seen[qid] = name
    question = qa.get("question")
    problem = text_problem(question, "question")
    if problem:
        return Rejection(problem, name, where, TASK)
    if qa.get("is_impossible") is True:
        return Rejection("unanswerable question (is_impossible)", name, where, TASK, question[:200])
    answers = qa.get("answers")
    if not isinstance(answers, list) or not answers or not isinstance(answers[0], dict):
        return Rejection("no answer", name, where, TASK, question[:200])
    answer, problem, detail = _answer(answers[0], context)
    if problem:
        return Rejection(problem, name, where, TASK, detail or question[:200])
    text = forms.fields(context=context, question=question)
    return Record(TASK, qid, text, answer, name, where, split=split)


def _answer(answer: dict, context: str) -> tuple[str, str | None, str | None]:
    """(answer text from its sentence spans or its `text`, None, None), or ("", why it cannot be formed, detail)."""
    spans = answer.get("answer_starts")
    if not spans:
        problem = text_problem(answer.get("text"), "answer text")
        return ("", problem, None) if problem else (" ".join(answer["text"].split()), None, None)
    pieces: set[tuple[int, str]] = set()
    for span in spans:
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) for v in span)):
            return "", "answer span is not a [start, length] pair", repr(span)
        start, length = span
        if start < 0 or length <= 0 or start + length > len(context):
            return "", "answer span outside the context", f"span {span}; context of {len(context)} characters"
        pieces.add((start, " ".join(context[start : start + length].split())))
    text = " ".join(piece for _, piece in sorted(pieces) if piece)
    if not text or has_bad_bytes(text):
        return "", "empty answer span" if not text else "non-UTF-8 byte in answer", None
    return text, None, None
