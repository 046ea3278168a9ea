"""MS^2 specifics: the original review objects (PICO tags, tokenised text, labelled abstract sentences) and the
MSLR 2022 CSVs give the same instance for the same review; quarantined reviews; the repository's sample.json."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from converters import ms2
from pipeline.model import Record, Rejection, detect_form

P = {"EFFECT": 0.9}  # label probabilities, not read


def review(pmid: int | None, effect: bool = True) -> dict:
    abstract = [
        ["BACKGROUND", "BACKGROUND Low <int> zinc </int> intake is common .", P],
        ["GOAL", "</int> OBJECTIVE To assess <int> zinc </int> for <out> colds . </out>", P],
        ["METHODS", "We searched MEDLINE .", P],
    ]
    if effect:
        abstract.append(["EFFECT", "AUTHORS ' CONCLUSIONS <int> Zinc </int> may shorten <out> colds ( 1 day ) .", P])
    study = {
        "title": "Zinc lozenges in children",
        "abstract": "<pop> Children ( n = 20 ) </pop> took zinc .",
        "pmid": "7",
    }
    no_abstract = {"title": "Zinc report", "abstract": None, "pmid": "8"}
    return {
        "docid": "555",
        "pmid": pmid,
        "title": "Zinc for colds: a review",
        "structured_abstract": abstract,
        "structured_summary": [],
        "included_studies": [{"references": [no_abstract, study]}, {"references": [no_abstract]}, {"references": []}],
    }


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(ms2.generate(detect_form(ms2.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_original_reviews_are_cleaned_and_keyed_by_pmid(tmp_path: Path) -> None:
    lines = [review(4242), review(None), review(99, effect=False), review(4242)]
    (tmp_path / "training_reviews.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    records, rejections = run(tmp_path)
    assert [(r.key, r.split) for r in records] == [("4242", "train"), ("s2-555", "train")]
    assert records[0].input == (
        "Background: Low zinc intake is common. To assess zinc for colds.\n\n"
        "Study 1\nTitle: Zinc lozenges in children\nAbstract: Children (n = 20) took zinc.\n\n"
        "Study 2\nTitle: Zinc report"
    )
    assert records[0].output == "Zinc may shorten colds (1 day)."
    assert [(r.reason, r.locator) for r in rejections] == [
        ("no conclusion (EFFECT / CONCLUSION) sentences", "line 3 (review 99)"),
        ("review already converted from another line or file", "line 4 (review 4242), 2 studies"),
    ]


def table(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A CSV as pandas writes it: an unnamed index column first."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("", *header))
        writer.writerows((n, *row) for n, row in enumerate(rows))


def test_mslr_csvs_give_the_same_instance(tmp_path: Path) -> None:
    original, mslr = tmp_path / "original", tmp_path / "mslr"
    original.mkdir(), mslr.mkdir()
    (original / "validation_reviews.jsonl").write_text(json.dumps(review(4242)) + "\n", encoding="utf-8")
    studies = [
        ("4242", "7", "Zinc lozenges in children", "Children (n = 20) took zinc."),
        ("4242", "8", "Zinc report", ""),
    ]
    tables = {
        "inputs": (("ReviewID", "PMID", "Title", "Abstract"), studies),
        "targets": (("ReviewID", "Target"), [("4242", "AUTHORS' CONCLUSIONS: Zinc may shorten colds (1 day).")]),
        "reviews-info": (
            ("ReviewID", "Background"),
            [("4242", "Low zinc intake is common. To assess zinc for colds.")],
        ),
    }
    for kind, (header, rows) in tables.items():
        table(mslr / f"train-{kind}.csv", header, [])
        table(mslr / f"dev-{kind}.csv", header, rows)
    [one], _ = run(original)
    [two], rejections = run(mslr)
    assert detect_form(ms2.SOURCE, mslr).form.name == "mslr" and two.split == one.split == "validation"
    assert (one.id, one.input, one.output) == (two.id, two.input, two.output)
    assert rejections == []


def test_the_repository_sample_is_a_single_review_of_no_split(tmp_path: Path) -> None:
    (tmp_path / "sample.json").write_text(json.dumps(review(4242), indent=4), encoding="utf-8")
    [record], _ = run(tmp_path)
    assert record.key == "4242" and record.split is None and record.raw_file == "sample.json"
