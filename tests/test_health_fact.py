"""PUBHEALTH specifics: unquoted TSVs, test.tsv's leading index column, `nan` cells, odd labels, and which split
feeds which of the two explanation tasks."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from converters import health_fact as hf
from pipeline.model import Record, Rejection, detect_form

HEADER = "\t".join(hf.COLUMNS)


def line(claim_id: str, label: str = "true", explanation: str = "Because.", text: str = "The article.") -> str:
    return "\t".join([claim_id, f"Claim {claim_id}", "May 1, 2020", explanation, "Ann", text, "url", label, "Health"])


def convert(tmp_path: Path, train: list[str], test: list[str]) -> list:
    (tmp_path / "PUBHEALTH").mkdir()
    (tmp_path / "PUBHEALTH" / "train.tsv").write_text("\n".join([HEADER, *train]) + "\n", encoding="utf-8")
    test_lines = [f"\t{HEADER}"] + [f"{i}\t{row}" for i, row in enumerate(test)]  # the pandas index column
    (tmp_path / "PUBHEALTH" / "test.tsv").write_text("\n".join(test_lines) + "\n", encoding="utf-8")
    return list(hf.generate(detect_form(hf.SOURCE, tmp_path)))


def test_splits_feed_sentence_generation_or_explanation(tmp_path: Path) -> None:
    items = convert(tmp_path, train=[line("1", "mixture")], test=[line("2", "false")])
    assert [(r.task_id, r.key, r.split, r.output) for r in items] == [
        (hf.CLASSIFY, "2", "test", "false"),
        (hf.EXPLAIN, "2", "test", "Because."),
        (hf.CLASSIFY, "1", "train", "mixture"),
        (hf.SENTENCE, "1", "train", "Because."),
    ]
    assert items[0].input == "Claim: Claim 2\nParagraph: The article."
    assert items[0].raw_file == "PUBHEALTH/test.tsv" and items[0].locator == "line 2 (claim_id 2)"


def test_odd_label_nan_and_broken_rows(tmp_path: Path) -> None:
    train = [line("1", "snopes"), line("3", explanation="nan"), line("4", text="Half\nof it"), line("2")]
    items = convert(tmp_path, train=train, test=[line("2")])
    rejected = [(i.reason, i.locator, i.task_id) for i in items if isinstance(i, Rejection)]
    assert rejected == [
        ("label 'snopes' is not one of true, false, mixture, unproven", "line 2 (claim_id 1)", hf.CLASSIFY),
        ("empty explanation", "line 3 (claim_id 3)", hf.SENTENCE),
        (
            "wrong column count: a field holds a tab or a line break (the files are not quoted)",
            "line 4 (6 of 9 columns)",
            None,
        ),
        (
            "wrong column count: a field holds a tab or a line break (the files are not quoted)",
            "line 5 (4 of 9 columns)",
            None,
        ),
        (
            "claim_id repeated (kept where first read)",
            "line 6 (claim_id 2, first read at PUBHEALTH/test.tsv line 2)",
            None,
        ),
    ]
    train_records = {(r.task_id, r.key) for r in items if isinstance(r, Record) and r.split == "train"}
    assert train_records == {(hf.SENTENCE, "1"), (hf.CLASSIFY, "3")}


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    """The Hub export (label as a class id, `nan` as null) of the bundled sample gives the same records."""
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "health_fact"
    expected = {
        (r.id, r.input, r.output, r.split) for r in hf.generate(detect_form(hf.SOURCE, sample)) if isinstance(r, Record)
    }
    (tmp_path / "data").mkdir()
    for stem, hub in (("train", "train"), ("dev", "validation"), ("test", "test")):
        lines = next(sample.rglob(f"{stem}.tsv")).read_text(encoding="utf-8").splitlines()
        width = len(lines[0].split("\t"))
        rows = [
            dict(zip(hf.COLUMNS, cells[-9:], strict=True))
            for cells in (line.split("\t") for line in lines[1:])
            if len(cells) == width
        ]
        for row in rows:
            row.update({k: None if v == "nan" else v for k, v in row.items()})
            row["label"] = hf.HUB_LABELS.index(row["label"]) if row["label"] in hf.HUB_LABELS else -1
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / "data" / f"{hub}-00000-of-00001.parquet")
    files = detect_form(hf.SOURCE, tmp_path)
    assert files.form.name == "hf"
    assert {(r.id, r.input, r.output, r.split) for r in hf.generate(files) if isinstance(r, Record)} == expected
