"""PubMed summarization specifics: `<S>` tags removed, val -> validation, quarantined lines and duplicate ids."""

from __future__ import annotations

import json
from pathlib import Path

from converters import pubmed_summarization
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "pubmed_summarization"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(pubmed_summarization.generate(detect_form(pubmed_summarization.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_sample_splits_and_quarantine() -> None:
    records, rejections = run(SAMPLE)
    assert {r.key: r.split for r in records} == {
        "PMC9100001": "train",
        "PMC9100002": "train",
        "PMC9100011": "validation",
        "PMC9100021": "test",
    }
    assert all("<S>" not in r.output and "</S>" not in r.output for r in records)
    assert [(r.reason.split(":")[0], r.locator) for r in rejections] == [
        ("empty article_text", "line 3 (article_id PMC9100003)"),
        ("invalid JSON", "line 4"),
    ]


def test_article_and_abstract_sentences_are_joined(tmp_path: Path) -> None:
    row = {
        "article_id": "PMC1",
        "article_text": ["first  sentence .", "second ."],
        "abstract_text": ["<S> a . </S>", "<S> b . </S>"],
    }
    again = dict(row, abstract_text="not a list")
    lines = [json.dumps(row), json.dumps(row), json.dumps(dict(again, article_id="PMC2"))]
    (tmp_path / "test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, rejections = run(tmp_path)
    assert [(r.input, r.output, r.split) for r in records] == [("first sentence . second .", "a . b .", "test")]
    assert [(r.reason, r.locator) for r in rejections] == [
        ("duplicate article_id", "line 2 (article_id PMC1)"),
        ("abstract_text is missing or not a list of strings", "line 3 (article_id PMC2)"),
    ]
