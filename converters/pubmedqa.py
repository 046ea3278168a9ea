"""PubMedQA (Jin et al., EMNLP 2019): questions drawn from PubMed article titles, the abstract
without its conclusion as context, the conclusion as long answer and a yes/no/maybe decision.

Each of the three releases is one JSON object mapping a PMID to its record. PQA-L (expert
labelled, 1,000) is the benchmark the paper evaluates on, so every PQA-L instance is test data;
PQA-A (211k, generated labels) and PQA-U (61k, unlabelled) are training data. The files are read
with a streaming parser, so the 211k-record PQA-A never sits in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import ijson
import pyarrow.parquet as pq

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="pubmedqa",
    name="PubMedQA",
    homepage="https://github.com/pubmedqa/pubmedqa",
    license="MIT",
    access="open",
    citation=(
        "Jin, Q., Dhingra, B., Liu, Z., Cohen, W. and Lu, X. (2019). PubMedQA: A Dataset for Biomedical "
        "Research Question Answering. EMNLP-IJCNLP 2019, pp. 2567-2577."
    ),
    obtain=(
        "ori_pqal.json is in data/ of https://github.com/pubmedqa/pubmedqa; ori_pqaa.json and ori_pqau.json "
        "are linked from its README (Google Drive). Place any of them in the raw folder (or its data/)."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile("pqal", ("ori_pqal.json", "data/ori_pqal.json"), required=False, split="test"),
                RawFile("pqaa", ("ori_pqaa.json", "data/ori_pqaa.json"), required=False, split="train"),
                RawFile("pqau", ("ori_pqau.json", "data/ori_pqau.json"), required=False, split="train"),
            ),
            "the official JSON releases PQA-L, PQA-A, PQA-U (any subset)",
        ),
        RawForm(
            "hf",
            tuple(
                RawFile(name, (f"**/{config}/*.parquet", f"**/{config}-*.parquet"), required=False, split=split)
                for name, config, split in (
                    ("pqal", "pqa_labeled", "test"),
                    ("pqaa", "pqa_artificial", "train"),
                    ("pqau", "pqa_unlabeled", "train"),
                )
            ),
            "the Hugging Face dataset qiaojin/PubMedQA (pubmed_qa) as Parquet: pqa_labeled, pqa_artificial, "
            "pqa_unlabeled",
        ),
    ),
    # PQA-L from the official repository (pinned commit). PQA-A and PQA-U are Google Drive links: by hand (or
    # use the hf form with the authors' Hub copy qiaojin/PubMedQA instead).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/pubmedqa/pubmedqa/"
            "1cbae8e92f72f20c8d3747cbb3bf5bc53554d997/data/ori_pqal.json",
            "ori_pqal.json",
            sha256="8b3276be8942ebbd77f3ddcda12c1749bf0e490045a736fd8438ee40cf37a41d",
            size=2584787,
        ),
    ),
)

ACADEMIC = "Academic Papers"
TASKS = (
    Task("pubmedqa_question_generation", "Text Completion", ACADEMIC, tags=("Biomedical Research",)),
    Task("pubmedqa_answer_verification", "Fact Verification", ACADEMIC, ("Biomedical Research",), labels=("yes", "no")),
    Task(
        "pubmedqa_intent_classification",
        "Intent Identification",
        ACADEMIC,
        ("Biomedical Research",),
        labels=("yes", "no"),
    ),
    Task("pubmedqa_answer_generation", "Question Answering", ACADEMIC, tags=("Biomedical Research",)),
    Task(
        "pubmedqa_multiple_choice",
        "Question Answering",
        ACADEMIC,
        ("Biomedical Research",),
        labels=("yes", "no", "maybe"),
    ),
)
QUESTION_GEN, VERIFY, INTENT, ANSWER_GEN, CHOICE = (t.id for t in TASKS)

DECISIONS = {"yes", "no", "maybe"}
#: Abstract section labels that state the study's aim; their presence is what intent classification asks.
OBJECTIVE_WORDS = {"OBJECTIVE", "OBJECTIVES", "AIM", "AIMS", "PURPOSE", "PURPOSES", "GOAL", "GOALS", "OBJECT"}


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name, labelled = files.relative(path), raw.name != "pqau"
            records = _hf_records(path, name) if files.form.name == "hf" else _json_records(path, name)
            yield from _release(records, name, raw.split, labelled)


def _json_records(path: Path, name: str) -> Iterator[tuple[str, object]]:
    with open(path, "rb") as f:
        yield from _records(f, name)


def _hf_records(path: Path, name: str) -> Iterator[tuple[str, object]]:
    """Rows of the Hub's Parquet export, reshaped into the original release's record (the export keeps
    the same fields: pubid, question, context{contexts, labels}, long_answer, final_decision)."""
    parquet = pq.ParquetFile(path)
    missing = {"pubid", "question", "context", "long_answer"} - set(parquet.schema_arrow.names)
    if missing:
        raise ValueError(f"{name}: lacks columns {sorted(missing)}; has {parquet.schema_arrow.names}")
    for batch in parquet.iter_batches():
        for row in batch.to_pylist():
            context = row.get("context") or {}
            yield (
                str(row["pubid"]),
                {
                    "QUESTION": row["question"],
                    "CONTEXTS": context.get("contexts"),
                    "LABELS": context.get("labels"),
                    "LONG_ANSWER": row["long_answer"],
                    "final_decision": row.get("final_decision"),
                },
            )


def _release(records: Iterator[tuple[str, object]], name: str, split: str | None, labelled: bool) -> Iterator[Item]:
    first: tuple[str, str] | None = None  # (pmid, long answer) of the first record, for the last mismatch
    previous: tuple[str, str] | None = None  # (pmid, question) waiting for a mismatched answer
    for pmid, rec in records:
        where = f"PMID {pmid}"
        problem = _problem(rec, labelled)
        if problem:
            yield Rejection(problem, name, where)
            continue
        context = "\n".join(c.strip() for c in rec["CONTEXTS"])
        question, long_answer = rec["QUESTION"].strip(), rec["LONG_ANSWER"].strip()

        def record(task: str, input: str, output: str, key: str = pmid, group: str = pmid) -> Record:
            return Record(task, key, input, output, name, f"PMID {group}", split=split, group=group)

        yield record(QUESTION_GEN, forms.fields(context=context, answer=long_answer), question)
        yield record(ANSWER_GEN, forms.fields(context=context, question=question), long_answer)
        has_aim = any(OBJECTIVE_WORDS & set(label.upper().replace(",", " ").split()) for label in rec["LABELS"])
        yield record(INTENT, context, "yes" if has_aim else "no")
        if labelled:
            yield record(CHOICE, forms.fields(context=context, question=question), rec["final_decision"])
        # Answer verification: each question with its own conclusion (yes) and with the next
        # record's conclusion (no), so the task is balanced and deterministic in file order.
        yield record(VERIFY, forms.fields(question=question, answer=long_answer), "yes", key=f"{pmid}-matched")
        if previous is not None:
            yield _mismatch(previous, (pmid, long_answer), name, split)
        previous = (pmid, question)
        first = first or (pmid, long_answer)
    if previous is not None and first is not None and first[0] != previous[0]:
        yield _mismatch(previous, first, name, split)


def _records(f: BinaryIO, name: str) -> Iterator[tuple[str, object]]:
    """The file's (PMID, record) pairs; a syntax error names the file and the last good PMID."""
    pmid = None
    try:
        for pmid, rec in ijson.kvitems(f, ""):
            yield pmid, rec
    except ijson.JSONError as error:
        after = f" after PMID {pmid}" if pmid else " before the first record"
        raise ValueError(f"{name}: malformed JSON{after}: {error}") from error


def _mismatch(asked: tuple[str, str], answered: tuple[str, str], name: str, split: str | None) -> Record:
    (pmid, question), (other, answer) = asked, answered
    locator = f"PMID {pmid} (question) with PMID {other} (long answer)"
    text = forms.fields(question=question, answer=answer)
    return Record(VERIFY, f"{pmid}-mismatched", text, "no", name, locator, split=split, group=pmid)


def _problem(rec: object, labelled: bool) -> str | None:
    """Why a raw record cannot be converted, or None."""
    if not isinstance(rec, dict):
        return "record is not a JSON object"
    for key in ("QUESTION", "LONG_ANSWER"):
        if not isinstance(rec.get(key), str) or not rec[key].strip():
            return f"missing or empty {key}"
    contexts, labels = rec.get("CONTEXTS"), rec.get("LABELS")
    if not isinstance(contexts, list) or not contexts or not all(isinstance(c, str) and c.strip() for c in contexts):
        return "CONTEXTS is not a non-empty list of non-empty strings"
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return "LABELS is not a list of strings"
    if labelled and rec.get("final_decision") not in DECISIONS:
        return f"final_decision {rec.get('final_decision')!r} is not one of yes/no/maybe"
    return None
