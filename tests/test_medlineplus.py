"""MedlinePlus specifics: the balanced true/false statements built by swapping topic names, page parsing (hidden
text, buttons and furniture left out), drug headings mapped to questions, and the genetics XML."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from converters import medlineplus as mp
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "medlineplus"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(mp.generate(detect_form(mp.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_swap_fits_the_name_to_the_sentence() -> None:
    swap = mp._swap
    names = ("Complete Blood Count (CBC)", "Complete Blood Count")
    assert swap("Complete blood count (CBC) is a test.", names, "Urea Test") == "Urea test is a test."
    assert swap("A complete blood count is a test.", names, "Urine Culture") == "A urine culture is a test."
    assert swap("Ask for a glow test today.", ("glow test",), "Ultrasound") == "Ask for an ultrasound today."
    assert swap("An MTX1 variant and the MTX1 gene.", ("MTX1",), "BRX2") == "A BRX2 variant and the BRX2 gene."


def test_sample_tasks_are_balanced_and_drug_headings_mapped() -> None:
    records, rejections = run(SAMPLE)
    for task in mp.TASKS[2:]:
        labels = Counter(r.output for r in records if r.task_id == task.id)
        assert labels["true"] == labels["false"] > 0, task.id
    questions = {r.key: r.input for r in records if r.task_id == mp.DRUG_QA}
    assert questions["a999001#brand-names"] == "Drug: Examplozine\nQuestion: What are the brand names of this medicine?"
    assert all("Expand Section" not in r.output and "URL of this page" not in r.input for r in records)
    reasons = Counter(r.reason for r in rejections)
    assert reasons["section heading is neither a question nor a known drug section"] == 1
    assert reasons["article without summary before its first section"] == 1


def test_page_outside_article_and_single_topic(tmp_path: Path) -> None:
    page = tmp_path / "lab-tests" / "x-test" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        "<html><body><h2>Menu</h2><p>Not the page.</p><article><h1>X Test</h1><p hidden>Hidden.</p>"
        "<section><h2>What is an x test?</h2><p>An x test measures the made-up x level in urine.</p></section>"
        "</article></body></html>",
        "utf-8",
    )
    records, rejections = run(tmp_path)
    assert [(r.key, r.input) for r in records] == [
        ("lab:x-test:true", "An x test measures the made-up x level in urine.")
    ]
    assert [r.reason for r in rejections] == ["only one topic: no other fact for a false statement"]


def test_genetics_xml_any_namespace_and_malformed(tmp_path: Path) -> None:
    xml = tmp_path / "ghr-summaries.xml"
    xml.write_text(
        '<summaries xmlns="https://ghr.nlm.nih.gov/download/ghr-summaries-20170124.xsd">'
        "<gene-summary><name>n</name><gene-symbol>AB1</gene-symbol><ghr-page>https://x/gene/ab1</ghr-page>"
        "<text-list><text><text-role>function</text-role><html><p xmlns='http://www.w3.org/1999/xhtml'>"
        "The AB1 gene makes an invented enzyme.</p></html></text></text-list></gene-summary>"
        "<gene-summary><name>m</name><gene-symbol>CD2</gene-symbol><ghr-page>https://x/gene/cd2</ghr-page>"
        "<text-list><text><text-role>function</text-role><html>The CD2 gene builds a made-up pump.</html></text>"
        "</text-list></gene-summary></summaries>",
        "utf-8",
    )
    records, _ = run(tmp_path)
    assert {r.key: r.input for r in records} == {
        "gene:ab1:true": "The AB1 gene makes an invented enzyme.",
        "gene:cd2:true": "The CD2 gene builds a made-up pump.",
        "gene:ab1:false": "The AB1 gene builds a made-up pump.",
        "gene:cd2:false": "The CD2 gene makes an invented enzyme.",
    }
    xml.write_text("<summaries><gene-summary><name>n</name>", "utf-8")
    with pytest.raises(ValueError, match="ghr-summaries.xml: malformed XML"):
        run(tmp_path)
