"""COVID-QA specifics: the passage given as context, the located answer, unanswerable questions, and the Hugging
Face parquet export giving the same records as the official JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from converters import covid_qa
from pipeline.model import Record, Rejection, detect_form

BODY = [
    "Title of a toy paper",
    "Abstract: the toy virus spreads by droplets.",
    "x" * 3990,
    "The incubation was 5 days.",
]
CONTEXT = "\n\n".join(BODY)
QAS = [
    {
        "question": "How does it spread?",
        "id": 1,
        "answers": [{"text": "by droplets", "answer_start": CONTEXT.index("by droplets")}],
        "is_impossible": False,
    },
    {
        "question": "Incubation?",
        "id": 2,
        "answers": [{"text": "5 days", "answer_start": CONTEXT.index("5 days") + 3}],
        "is_impossible": False,
    },
    {"question": "Which vaccine?", "id": 3, "answers": [], "is_impossible": True},
]


def convert(root: Path) -> list:
    return list(covid_qa.generate(detect_form(covid_qa.SOURCE, root)))


def official(root: Path) -> list:
    data = {"data": [{"paragraphs": [{"qas": QAS, "context": CONTEXT, "document_id": 7}]}]}
    (root / "COVID-QA.json").write_text(json.dumps(data))
    return convert(root)


def test_passages_and_located_answers(tmp_path: Path) -> None:
    items = official(tmp_path)
    first, second = (i for i in items if isinstance(i, Record))
    assert first.input.startswith("Context: Title of a toy paper") and "5 days" not in first.input
    assert second.input == "Title: Title of a toy paper\nContext: The incubation was 5 days.\nQuestion: Incubation?"
    assert (second.output, second.group, second.key) == ("5 days", "document 7", "2")
    [rejected] = [i for i in items if isinstance(i, Rejection)]
    assert (rejected.reason, rejected.locator) == ("unanswerable question (is_impossible)", "document 7 question 3")


def test_parquet_export_gives_the_same_records(tmp_path: Path) -> None:
    (tmp_path / "json").mkdir()
    expected = [(r.id, r.input, r.output, r.group) for r in official(tmp_path / "json") if isinstance(r, Record)]
    rows = [
        {
            "document_id": 7,
            "context": CONTEXT,
            "question": qa["question"],
            "is_impossible": qa["is_impossible"],
            "id": qa["id"],
            "answers": {
                "text": [a["text"] for a in qa["answers"]],
                "answer_start": [a["answer_start"] for a in qa["answers"]],
            },
        }
        for qa in QAS
    ]
    (tmp_path / "hf" / "covid_qa_deepset").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "hf" / "covid_qa_deepset" / "train-00000-of-00001.parquet")
    items = convert(tmp_path / "hf")
    assert [(r.id, r.input, r.output, r.group) for r in items if isinstance(r, Record)] == expected


def test_chunks_cover_the_article_on_paragraph_boundaries() -> None:
    chunks = covid_qa._chunks(CONTEXT)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(CONTEXT)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    assert CONTEXT[chunks[-1][0] :].startswith("The incubation")
