"""Format-specific tests for the NCBI disease converter: the PubTator reader's quarantine (duplicate PMIDs, bad
lines, bad bytes), and the promise that the original release and the IOB copy give the same records."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES, SHARED_CORPORA

from converters.ncbi_disease import NO_ENTITY, SOURCE, generate, to_iob
from pipeline.model import Record, Rejection, detect_form
from pipeline.ner import detokenize, tokenize

SAMPLE = SAMPLES / "ncbi_disease"
SPLIT_FILES = {"train": "train.tsv", "validation": "devel.tsv", "test": "test.tsv"}


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_iob_built_from_the_original_gives_the_same_records(tmp_path: Path) -> None:
    original, _ = run(SAMPLE)
    lines: dict[str, list[str]] = {name: [] for name in SPLIT_FILES.values()}
    for record, sentence in zip(original, to_iob(detect_form(SOURCE, SAMPLE)), strict=True):
        tokens = [token for token, _ in sentence]
        assert tokenize(detokenize(tokens)) == tokens
        lines[SPLIT_FILES[record.split]] += [f"{t}\t{tag}-Disease" if tag != "O" else f"{t}\tO" for t, tag in sentence]
        lines[SPLIT_FILES[record.split]].append("")
    for name, rows in lines.items():
        (tmp_path / "NCBI-disease-IOB").mkdir(exist_ok=True)
        (tmp_path / "NCBI-disease-IOB" / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert detect_form(SOURCE, tmp_path).form.name == "iob"
    iob, rejections = run(tmp_path)
    assert not rejections
    assert [(r.id, r.input, r.output, r.split) for r in iob] == [(r.id, r.input, r.output, r.split) for r in original]
    assert {r.split for r in iob} == {"train", "validation", "test"}


def test_sample_quirks(tmp_path: Path) -> None:
    records, rejections = run(SAMPLE)
    by_input = {r.input: r for r in records}
    assert by_input["The allele was also found in two men with prostate tumours."].output == "prostate tumours"
    assert by_input["Sequencing found a frameshift in ZNF812 in all affected members (P = 0.01)."].output == NO_ENTITY
    assert by_input["Loss of the ZNF812 gene in familial retinal dystrophy."].locator == "PMID 90000001 sentence 1"
    assert [r.reason for r in rejections if r.locator == "line 19 (PMID 90000001)"] == [
        "duplicate PMID: an identical copy of the document at NCBItrainset_corpus.txt line 2"
    ]
    assert "2 of 2 mentions mismatch" in next(r.reason for r in rejections if r.locator == "PMID 90000003")


def test_bad_lines_and_bytes_quarantine_their_document_only(tmp_path: Path) -> None:
    good = b"1|t|Gout flares.\r\n1|a|Gout flared twice.\r\n1\t0\t4\tGout\tSpecificDisease\tD006073\n"
    (tmp_path / "NCBItestset_corpus.txt").write_bytes(
        good
        + b"\n2|t|Caf\xe9 study.\n2|a|None.\n\n3|t|Asthma.\n3|a|Asthma again.\n3\t0\tsix\tAsthma\tSpecificDisease\tD1\n"
        + b"\n4|t|Title only.\n\n5\t0\t4\tGout\tSpecificDisease\tD006073\n"
    )
    records, rejections = run(tmp_path)
    assert [(r.input, r.output, r.split) for r in records] == [
        ("Gout flares.", "Gout", "test"),
        ("Gout flared twice.", NO_ENTITY, "test"),  # only the title's mention is annotated
    ]
    assert [(r.locator, r.reason.removeprefix("document skipped: ")) for r in rejections] == [
        ("line 5 (PMID 2)", "line 5 is not UTF-8 (invalid continuation byte)"),
        ("line 8 (PMID 3)", r"line 10 is malformed: '3\t0\tsix\tAsthma\tSpecificDisease\tD1'"),
        ("line 12 (PMID 4)", "no abstract line"),
        ("line 14 (PMID ?)", r"no title line; line 14 is malformed: '5\t0\t4\tGout\tSpecificDisease\tD006073'"),
    ]


@pytest.mark.skipif(not (SHARED_CORPORA / "ncbi_disease").is_dir(), reason="no real sample")
def test_real_sample_forms_agree_on_the_devel_split() -> None:
    real = SHARED_CORPORA / "ncbi_disease"
    assert detect_form(SOURCE, real).form.name == "original"
    assert detect_form(SOURCE, real / "MTL-Bioinformatics-2016").form.name == "iob"
    original = {r.id for r in run(real)[0] if r.split == "validation"}
    iob = {r.id for r in run(real / "MTL-Bioinformatics-2016")[0] if r.split == "validation"}
    assert len(original & iob) > 0.9 * len(iob)  # the rest differ by sentence splitting, e.g. "(P = 0. 05)"
