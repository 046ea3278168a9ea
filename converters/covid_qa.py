"""COVID-QA (Moller et al., ACL 2020 NLP-COVID workshop): 2,019 questions that biomedical experts asked about 147
CORD-19 scientific articles, each answered by a span of the article (extractive QA, SQuAD format).

Two distributions are accepted, giving the same (id, input, output) for the same question:
- "json", the official file of github.com/deepset-ai/COVID-QA, `data/question-answering/COVID-QA.json` (or, when
  that is absent, the earlier release `200423_covidQA.json` of the same folder, same format). SQuAD v2 JSON, one
  line, ASCII with \\u escapes: {"data": [{"paragraphs": [{"context", "document_id", "qas": [{"question", "id",
  "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]}; one paragraph per article, whose context is the
  whole paper (title, PMC URL, authors, date, DOI, licence, abstract, body; paragraphs separated by blank lines).
  Read with a streaming parser, one article at a time.
- "parquet", the Hugging Face export deepset/covid_qa_deepset (`covid_qa_deepset/train-00000-of-00001.parquet`):
  one row per question with document_id, context, question, is_impossible, id and answers {text: [...],
  answer_start: [...]}.

Task covid_qa_question_answering (no official split: split None, group = the article's document_id so that all
questions on one paper land in the same split; key = the question's own integer id):
- output: the answer text (the first answer; COVID-QA has one per question), stripped of surrounding spaces;
- input: `forms.fields(title=..., context=..., question=...)`. The context is NOT the whole article: papers run to
  45,000 characters (about 11k tokens), more than most instruction-tuned models read, and most of it is irrelevant to
  the question. It is a passage of the article: the article's paragraphs are packed, in order and whole, into
  consecutive chunks of at most 4,000 characters (a paragraph longer than that is a chunk of its own), and the input
  gets the chunk holding the answer (two or more chunks if the answer crosses a boundary). The chunks are cut
  without looking at the answer, so the answer sits anywhere in its passage rather than in the middle, and every
  question on the same part of a paper sees the same passage. The title line is added when the passage does not
  start with it.
The answer is located at `answer_start`; where the text is not there (an off-by-one start in the raw file), at its
occurrence nearest to `answer_start`. Quarantined: unanswerable questions (is_impossible), questions without an
answer, an answer text absent from the article, an empty question, a missing or repeated id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import ijson
import pyarrow.parquet as pq

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="covid_qa",
    name="COVID-QA",
    homepage="https://github.com/deepset-ai/COVID-QA",
    license="Apache-2.0",
    access="open",
    citation=(
        "Moller, T., Reina, A., Jayakumar, R. and Pietsch, M. (2020). COVID-QA: A Question Answering Dataset for "
        "COVID-19. Proceedings of the 1st Workshop on NLP for COVID-19 at ACL 2020."
    ),
    obtain=(
        "Download data/question-answering/COVID-QA.json from https://github.com/deepset-ai/COVID-QA into the raw "
        "folder (or keep the repository's data/question-answering/ layout). Alternatively, place the Hugging Face "
        "parquet file of deepset/covid_qa_deepset (covid_qa_deepset/train-00000-of-00001.parquet)."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile(
                    "qa",
                    tuple(
                        f"{d}{f}"
                        for f in ("COVID-QA.json", "200423_covidQA.json")
                        for d in ("", "data/question-answering/", "question-answering/")
                    ),
                    description="SQuAD-format JSON",
                ),
            ),
            "the official SQuAD-format JSON of deepset-ai/COVID-QA (COVID-QA.json, or the earlier 200423_covidQA.json)",
        ),
        RawForm(
            "parquet",
            (RawFile("qa", ("covid_qa_deepset/train-*.parquet", "data/train-*.parquet", "train-*.parquet")),),
            "the Hugging Face export deepset/covid_qa_deepset (parquet, one row per question)",
        ),
    ),
    # The final release file of the official repository (pinned commit).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/deepset-ai/COVID-QA/"
            "fb2eb5e249618457e5359806601086c635c8eb8f/data/question-answering/COVID-QA.json",
            "COVID-QA.json",
        ),
    ),
)

TASKS = (
    Task(
        "covid_qa_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("COVID-19", "Extractive QA", "Scientific Articles"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id

#: Largest passage, in characters, given as context (paragraphs are never cut, so one long paragraph may exceed it).
WINDOW = 4000
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("qa")
    name = files.relative(path)
    questions = _parquet(path, name) if files.form.name == "parquet" else _json(path, name)
    seen: dict[str, str] = {}
    for article, context, document_id, qa in questions:
        yield from _question(article, context, document_id, qa, name, seen)


class _Article:
    """One article's context with its chunks, computed once for all of its questions."""

    def __init__(self, context: str):
        self.context = context
        self.title = next((line.strip() for line in context.splitlines() if line.strip()), "")
        self.chunks = _chunks(context)

    def passage(self, start: int, end: int) -> tuple[str, bool]:
        """The chunks covering [start, end), and whether they begin the article (and so hold the title)."""
        covering = [(a, b) for a, b in self.chunks if a < max(end, start + 1) and b > start]
        first, last = covering[0][0], covering[-1][1]
        return self.context[first:last].strip(), first == self.chunks[0][0]


def _chunks(context: str) -> list[tuple[int, int]]:
    """[start, end) offsets of consecutive chunks of whole paragraphs, each at most WINDOW characters."""
    paragraphs, at = [], 0
    for brk in _PARAGRAPH_BREAK.finditer(context):
        paragraphs.append((at, brk.start()))
        at = brk.end()
    paragraphs.append((at, len(context)))
    chunks: list[tuple[int, int]] = []
    for start, end in paragraphs:
        if chunks and end - chunks[-1][0] <= WINDOW:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    # Offsets between chunks (the breaks) belong to the chunk before, so every offset is in exactly one chunk.
    return [(a, chunks[i + 1][0] if i + 1 < len(chunks) else len(context)) for i, (a, _) in enumerate(chunks)]


def _question(
    article: _Article, context: str, document_id: object, qa: object, name: str, seen: dict[str, str]
) -> Iterator[Item]:
    group = f"document {document_id}" if document_id is not None else readers.content_key(article.title)
    if not isinstance(qa, dict):
        yield Rejection("question is not a JSON object", name, group, TASK, str(qa)[:200])
        return
    qid = qa.get("id")
    if qid is None or not str(qid).strip():
        yield Rejection("missing question id", name, group, TASK, str(qa.get("question"))[:200])
        return
    key = str(qid).strip()
    where = f"{group} question {key}"
    if key in seen:
        yield Rejection("question id repeated (an earlier question has it)", name, where, TASK, seen[key])
        return
    seen[key] = where
    question = qa.get("question")
    problem = readers.text_problem(question, "question") or readers.text_problem(context, "context")
    if problem:
        yield Rejection(problem, name, where, TASK, str(question)[:200])
        return
    if qa.get("is_impossible") is True:
        yield Rejection("unanswerable question (is_impossible)", name, where, TASK, question[:200])
        return
    answers = qa.get("answers") or []
    answer = answers[0] if isinstance(answers, list) and answers and isinstance(answers[0], dict) else None
    text = answer.get("text") if answer else None
    if not isinstance(text, str) or not text.strip():
        yield Rejection("no answer", name, where, TASK, question[:200])
        return
    start = _locate(context, text, answer.get("answer_start"))
    if start is None:
        yield Rejection("answer text not found in the context", name, where, TASK, text[:200])
        return
    passage, has_title = article.passage(start, start + len(text))
    try:
        input_text = forms.fields(title=None if has_title else article.title, context=passage, question=question)
    except forms.FormError as error:
        yield Rejection(str(error), name, where, TASK, question[:200])
        return
    yield Record(TASK, key, input_text, text.strip(), name, where, group=group)


def _locate(context: str, text: str, start: object) -> int | None:
    """Where the answer is: at answer_start if it is there, else its occurrence nearest to answer_start."""
    begin = int(start) if isinstance(start, int | float) and not isinstance(start, bool) else 0
    if context[begin : begin + len(text)] == text:
        return begin
    for needle in (text, text.strip()):
        hits = [m.start() for m in re.finditer(re.escape(needle), context)]
        if hits:
            return min(hits, key=lambda at: (abs(at - begin), at))
    return None


# --- readers ------------------------------------------------------------------------------------------------------


def _json(path: Path, name: str) -> Iterator[tuple[_Article, str, object, object]]:
    number = 0
    with path.open("rb") as raw:
        try:
            for number, item in enumerate(ijson.items(readers.Utf8Stream(raw), "data.item"), start=1):
                paragraphs = item.get("paragraphs") if isinstance(item, dict) else None
                if not isinstance(paragraphs, list):
                    raise ValueError(f"{name}: article {number} has no list of paragraphs")
                for paragraph in paragraphs:
                    context = paragraph.get("context") if isinstance(paragraph, dict) else None
                    if not isinstance(context, str):
                        raise ValueError(f"{name}: article {number} has a paragraph without a context")
                    article = _Article(context)
                    for qa in paragraph.get("qas") or []:
                        yield article, context, paragraph.get("document_id"), qa
        except ijson.JSONError as error:
            where = f"after article {number}" if number else "before the first article"
            raise ValueError(f"{name}: malformed JSON {where}: {error}") from error


def _parquet(path: Path, name: str) -> Iterator[tuple[_Article, str, object, object]]:
    article: _Article | None = None
    for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
        for row in batch.to_pylist():
            context = row.get("context")
            if not isinstance(context, str):
                context = ""
            if article is None or article.context != context:
                article = _Article(context)
            answers = row.get("answers") or {}
            texts, starts = answers.get("text") or [], answers.get("answer_start") or []
            qa = {
                "id": row.get("id"),
                "question": row.get("question"),
                "is_impossible": row.get("is_impossible"),
                "answers": [{"text": t, "answer_start": s} for t, s in zip(texts, starts, strict=False)],
            }
            yield article, context, row.get("document_id"), qa
