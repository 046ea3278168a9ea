"""MEDIQA-AnS (Savery, Ben Abacha, Gayen and Demner-Fushman, Scientific Data 2020): 156 consumer health questions
with the answers NLM's CHiQA system retrieved from trusted websites and expert-written summaries of those answers.

Read: `question_driven_answer_summarization_primary_dataset.json` of the OSF release (doi 10.17605/OSF.IO/FYG46),
streamed: one JSON object keyed by question id, each value holding `question`, `multi_abs_summ` and `multi_ext_summ`
(summaries of all its answers together) and `answers`, an object keyed by answer id whose values hold `section` (the
passage that answers the question), `article` (the whole web page), `url`, `rating`, `answer_abs_summ` and
`answer_ext_summ`. The keys `answers`, `article` and `url` are confirmed by the authors' code
(saverymax/qdriven-chiqa-summarization, evaluation/collection_statistics.py); the summary and section key names follow
the data descriptor and code that reads the file, not a file checked here. The derived files of the same release
(`page2answer_*`, `section2answer_*`) repeat this content and are not read.

Task `mediqa_ans_question_answering`, question-driven answering from the retrieved passages, with the expert
abstractive summaries as answers (the extractive ones are copied sentences and are not used):
- one instance per answer: input = `forms.fields(question=..., context=<section>)` (the whole `article` when the
  section is empty); output = `answer_abs_summ`. Key `<question id>/<answer id>`.
- one instance per question: input = `forms.fields(question=..., context=<the passages (section, else article) of all
  its answers, in file order, one paragraph each>)`; output = `multi_abs_summ`. Key `<question id>/all`.
Passages keep their paragraph breaks, with spaces collapsed within each line. A question with a single usable
passage gets no multi-answer instance (it would repeat that answer's input; quarantined with that reason). All
instances of a question share its id as group. The collection is a test-only evaluation set with no train/test
division, so split is None (the build hash-splits on the group).

Quarantined: a question without text, an answer without section and article, an empty summary, a non-UTF-8 byte, an
item that is not an object. A file that is not a JSON object, or whose syntax breaks, raises ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Iterator

import ijson

from pipeline import forms
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import Utf8Stream, text_problem

FILE = "question_driven_answer_summarization_primary_dataset.json"

SOURCE = Source(
    id="mediqa_ans",
    name="MEDIQA-AnS",
    homepage="https://osf.io/fyg46/",
    license="unspecified",
    access="open",
    citation=(
        "Savery M, Ben Abacha A, Gayen S, Demner-Fushman D (2020). Question-driven summarization of answers to "
        "consumer health questions. Scientific Data 7:322."
    ),
    obtain=(
        f"Download {FILE} from the OSF project https://doi.org/10.17605/OSF.IO/FYG46 (folder summarization_datasets) "
        "and put it in the raw folder (or keep it under summarization_datasets/)."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile(
                    "primary",
                    (FILE, f"summarization_datasets/{FILE}", f"*/{FILE}"),
                    description="156 questions with their answers and single- and multi-answer summaries",
                ),
            ),
            "the primary JSON file of the OSF release",
        ),
    ),
)

TASKS = (
    Task(
        "mediqa_ans_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Consumer Health",),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("primary")
    name = files.relative(path)
    qid = None
    with open(path, "rb") as raw:
        if not raw.read(1 << 12).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            raise ValueError(f"{name}: expected a JSON object keyed by question id")
        raw.seek(0)
        try:
            for qid, item in ijson.kvitems(Utf8Stream(raw), ""):
                yield from _question(str(qid), item, name)
        except ijson.JSONError as error:
            after = f"after question {qid}" if qid is not None else "before the first question"
            raise ValueError(f"{name}: malformed JSON {after}: {error}") from error


def _question(qid: str, item: object, name: str) -> Iterator[Item]:
    where = f"question {qid}"
    if not isinstance(item, dict):
        yield Rejection("question is not a JSON object", name, where, TASK, str(item)[:200])
        return
    question = item.get("question")
    problem = text_problem(question, "question")
    if problem:
        yield Rejection(problem, name, where, TASK)
        return
    answers = item.get("answers")
    if not isinstance(answers, dict) or not answers:
        yield Rejection("no answers object", name, where, TASK, question[:200])
        return
    sections: list[str] = []
    for aid, answer in answers.items():
        at = f"{where} answer {aid}"
        if not isinstance(answer, dict):
            yield Rejection("answer is not a JSON object", name, at, TASK, str(answer)[:200])
            continue
        passage = answer.get("section")
        if text_problem(passage, "section"):
            passage = answer.get("article")
        problem = text_problem(passage, "section and article")
        if problem:
            yield Rejection(problem, name, at, TASK, question[:200])
            continue
        passage = _clean(passage)
        sections.append(passage)  # part of the multi-answer context even when its own summary is unusable
        problem = text_problem(answer.get("answer_abs_summ"), "summary")
        if problem:
            yield Rejection(problem, name, at, TASK, question[:200])
            continue
        text = forms.fields(question=question, context=passage)
        yield Record(TASK, f"{qid}/{aid}", text, answer["answer_abs_summ"].strip(), name, at, group=qid)
    problem = text_problem(item.get("multi_abs_summ"), "multi-answer summary")
    if not problem and len(sections) < 2:
        problem = "single usable answer passage: no multi-answer instance"
    if problem:
        yield Rejection(problem, name, f"{where} (all answers)", TASK, question[:200])
        return
    text = forms.fields(question=question, context="\n\n".join(sections))
    yield Record(TASK, f"{qid}/all", text, item["multi_abs_summ"].strip(), name, f"{where} (all answers)", group=qid)


def _clean(text: str) -> str:
    """Passage text with spaces collapsed within each line and runs of blank lines kept as one."""
    lines: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()
