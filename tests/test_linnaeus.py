"""Format-specific tests for the LINNAEUS converter: tags.tsv offsets (end exclusive) and split lists, quarantine of
bad rows and missing documents, and the promise that the original release and the IOB copy give the same records."""

from __future__ import annotations

import shutil
from pathlib import Path

from converters.linnaeus import NO_ENTITY, SOURCE, generate, to_iob
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "linnaeus"
HEADER = "#species id\tdocument\tstart\tend\ttext\tcode\n"
TEXT = "Growth of Escherichia coli in brine\nAbstract\nCells of E. coli were counted daily. No growth was seen.\n"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def tag(doc: str, mention: str, nth: int = 0, shift: int = 0) -> str:
    start = [i for i in range(len(TEXT)) if TEXT.startswith(mention, i)][nth]
    return f"species:ncbi:562\t{doc}\t{start}\t{start + len(mention) + shift}\t{mention}\t\n"


def write(root: Path, docs: list[str], rows: list[str]) -> Path:
    (root / "txt").mkdir(parents=True)
    for doc in docs:
        (root / "txt" / f"{doc}.txt").write_text(TEXT, encoding="utf-8")
    (root / "tags.tsv").write_text(HEADER + "".join(rows), encoding="utf-8")
    return root


def test_offsets_end_exclusive_and_no_split_without_lists(tmp_path: Path) -> None:
    write(tmp_path, ["pmcA1"], [tag("pmcA1", "Escherichia coli"), tag("pmcA1", "E. coli")])
    records, rejections = run(tmp_path)
    assert not rejections
    assert [(r.input, r.output, r.split) for r in records] == [
        ("Growth of Escherichia coli in brine", "Escherichia coli", None),
        ("Abstract", NO_ENTITY, None),
        ("Cells of E. coli were counted daily.", "E. coli", None),
        ("No growth was seen.", NO_ENTITY, None),
    ]
    assert records[2].locator == "pmcA1.txt sentence 3" and records[2].raw_file == "txt/pmcA1.txt"


def test_bad_rows_and_missing_documents_are_quarantined(tmp_path: Path) -> None:
    rows = [tag("pmcA1", "Escherichia coli"), "species:ncbi:562\tpmcA1\t10\tE. coli\t\n"]  # 5 columns
    rows += [tag("pmcA2", "E. coli", shift=1), tag("pmcA3", "brine")]  # inclusive end; pmcA3 has no text
    write(tmp_path, ["pmcA1", "pmcA2"], rows)
    (tmp_path / "split").mkdir()
    (tmp_path / "split" / "test.txt").write_text("pmcA2\npmcA4\n")
    records, rejections = run(tmp_path)
    assert records == []
    assert [(r.reason, r.raw_file, r.locator) for r in rejections] == [
        ("malformed line: expected species id, document, start, end (exclusive), text, code", "tags.tsv", "line 3"),
        ("document skipped: its annotation tags.tsv line 3 is malformed", "txt/pmcA1.txt", "pmcA1.txt"),
        ("mention 'E. coli' differs from 'E. coli ' at offsets 54-62", "tags.tsv", "line 4"),
        ("document skipped: 1 of 1 mentions mismatch its text", "txt/pmcA2.txt", "pmcA2.txt"),
        ("document file missing: its annotations cannot be used", "tags.tsv", "pmcA3"),
        ("document file missing: listed in a split list", "split/test.txt", "pmcA4"),
    ]


def test_iob_built_from_original_sample_gives_the_same_records(tmp_path: Path) -> None:
    original, _ = run(SAMPLE)
    assert {r.split for r in original} == {"train", "validation", "test"}
    by_split: dict[str | None, list[str]] = {"train": [], "validation": [], "test": []}
    for record, sentence in zip(original, to_iob(detect_form(SOURCE, SAMPLE)), strict=True):
        by_split[record.split] += [f"{token}\t{t if t == 'O' else t + '-Species'}" for token, t in sentence] + [""]
    folder = tmp_path / "MTL-Bioinformatics-2016" / "data" / "linnaeus-IOB"
    folder.mkdir(parents=True)
    for name, split in (("train", "train"), ("devel", "validation"), ("test", "test")):
        (folder / f"{name}.tsv").write_text("\n".join(by_split[split]) + "\n", encoding="utf-8")
    assert detect_form(SOURCE, tmp_path).form.name == "iob"
    iob, rejections = run(tmp_path)
    assert not rejections
    assert [(r.id, r.input, r.output, r.split) for r in iob] == [(r.id, r.input, r.output, r.split) for r in original]


def test_sample_keeps_species_clues_and_abbreviations(tmp_path: Path) -> None:
    records, rejections = run(SAMPLE)
    by_input = {r.input: r.output for r in records}
    assert by_input["Farm workers (women and men) reported no diarrhoea over the study period."] == "women, men"
    assert by_input["C. jejuni was isolated from 44% of samples in summer and from 9% in winter."] == "C. jejuni"
    assert [r.locator for r in rejections] == ["pmcA9000005"]
    shutil.copytree(SAMPLE / "linnaeus-corpus-data", tmp_path / "manual-corpus-species-1.1")
    records_again, _ = run(tmp_path)  # the SourceForge tarball layout, without split lists
    assert {r.id for r in records_again} == {r.id for r in records} and {r.split for r in records_again} == {None}
