"""Format-specific tests for the BC2GM converter: GENE.eval offsets that count non-whitespace characters (end
inclusive), quarantine, and the promise that the original release and the IOB copy give the same records."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES, SHARED_CORPORA

from converters.bc2gm import NO_ENTITY, SOURCE, generate, to_iob
from pipeline.model import Record, Rejection, detect_form

SAMPLE = SAMPLES / "bc2gm"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def write(root: Path, split: str, text: str, genes: str | None) -> None:
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / split / f"{split}.in").write_text(text, encoding="utf-8")
    if genes is not None:
        (root / split / "GENE.eval").write_text(genes, encoding="utf-8")


def test_offsets_count_non_whitespace_characters_end_inclusive(tmp_path: Path) -> None:
    write(tmp_path, "train", "S1 Levels of  tumor necrosis\tfactor alpha rose.\nS2 No genes here.\n", "S1|8 31|TNF\n")
    write(tmp_path, "test", "T1 The p53 protein.\n", "T1|3 5|p53\n")
    records, rejections = run(tmp_path)
    assert [(r.raw_file, r.locator, r.reason) for r in rejections] == [
        ("train/GENE.eval", "line 1", r"mention 'TNF' differs from 'tumor necrosis\tfactor alpha' at offsets 11-38"),
        ("train/train.in", "S1", "document skipped: 1 of 1 mentions mismatch its text"),
    ]
    (tmp_path / "train" / "GENE.eval").write_text("S1|8 31|tumor necrosis factor alpha\n")  # spacing may differ
    records, rejections = run(tmp_path)
    assert not rejections
    assert [(r.input, r.output, r.split, r.locator) for r in records] == [
        ("Levels of tumor necrosis factor alpha rose.", "tumor necrosis factor alpha", "train", "S1 sentence 1"),
        ("No genes here.", NO_ENTITY, "train", "S2 sentence 1"),
        ("The p53 protein.", "p53", "test", "T1 sentence 1"),
    ]


def test_quarantine(tmp_path: Path) -> None:
    text = "S1 A CD4 cell.\nS1 A CD8 cell.\nS2\nS3 A CD19 cell.\n"
    write(tmp_path, "train", text, "S1|1 3|CD4\nS9|0 1|X\nS3|1|CD19\n")
    write(tmp_path, "test", "T1 The p53 protein.\n", None)
    records, rejections = run(tmp_path)
    assert [(r.input, r.output) for r in records] == [("A CD4 cell.", "CD4")]
    assert [(r.raw_file, r.locator, r.reason) for r in rejections] == [
        ("train/GENE.eval", "line 3", "malformed line: expected SENTID|start end|mention"),
        ("train/train.in", "line 2", "sentence id S1 repeated (first at line 1)"),
        ("train/train.in", "line 3", "malformed line: expected SENTID text"),
        ("train/train.in", "line 4 (S3)", "sentence skipped: its annotation at train/GENE.eval line 3 cannot be read"),
        ("train/GENE.eval", "line 2", "annotation of sentence S9, which is not in train/train.in"),
        (
            "test/test.in",
            "whole file",
            "no GENE.eval beside test/test.in: its sentences are skipped (they would have no genes)",
        ),
    ]


def test_iob_built_from_the_original_gives_the_same_records(tmp_path: Path) -> None:
    original, rejections = run(SAMPLE)
    assert [r.locator for r in rejections] == ["line 9", "P09000016A0090", "line 6"]
    assert (
        next(r for r in original if r.input.startswith("The KRP2")).output == "KRP2-binding domain of human cyclin D3"
    )
    lines: dict[str, list[str]] = {"train": [], "test": []}
    for record, sentence in zip(original, to_iob(detect_form(SOURCE, SAMPLE)), strict=True):
        lines[record.split] += [f"{t}\t{tag}-GENE" if tag != "O" else f"{t}\tO" for t, tag in sentence] + [""]
    (tmp_path / "BC2GM-IOB").mkdir()
    for split, rows in lines.items():
        (tmp_path / "BC2GM-IOB" / f"{split}.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert detect_form(SOURCE, tmp_path).form.name == "iob"
    iob, rejections = run(tmp_path)
    assert not rejections
    assert [(r.id, r.input, r.output, r.split) for r in iob] == [(r.id, r.input, r.output, r.split) for r in original]


def test_iob_devel_is_validation(tmp_path: Path) -> None:
    (tmp_path / "devel.tsv").write_text("IL-2\tB-GENE\nrose\tO\n")
    [record] = generate(detect_form(SOURCE, tmp_path))
    assert (record.input, record.output, record.split) == ("IL-2 rose", "IL-2", "validation")


@pytest.mark.skipif(not (SHARED_CORPORA / "bc2gm").is_dir(), reason="no real sample")
def test_real_sample_forms_agree_where_they_overlap() -> None:
    real = SHARED_CORPORA / "bc2gm"
    assert detect_form(SOURCE, real).form.name == "original"
    assert detect_form(SOURCE, real / "MTL-Bioinformatics-2016").form.name == "iob"
    original = {r.input: (r.id.split("-")[0], r.output) for r in run(real)[0]}  # "-2": repeats, counted per cut
    iob = {r.input: (r.id.split("-")[0], r.output) for r in run(real / "MTL-Bioinformatics-2016")[0]}
    shared = set(original) & set(iob)
    assert len(shared) > 400 and all(original[s] == iob[s] for s in shared)
