"""Format-specific tests for the AnEM converter: brat standoff per entity type, the split lists, and quarantine
(discontinuous mentions, offset mismatches, missing files)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from converters.anem import NO_ENTITY, SOURCE, generate
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "anem"
CELL, SUBSTANCE = "anem_cell_extraction", "anem_organism_substance_extraction"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_sample_tasks_splits_and_quarantine() -> None:
    records, rejections = run(SAMPLE)
    outputs = {(r.task_id, r.input): r.output for r in records}
    sentence = "Neutrophils were isolated from blood by density centrifugation."
    assert (outputs[CELL, sentence], outputs[SUBSTANCE, sentence]) == ("Neutrophils", "blood")
    caption = (
        "Staining of goblet cells in the colonic mucosa. (A) Control. (B) After treatment, mucus filled the crypts."
    )
    assert (outputs[CELL, caption], outputs[SUBSTANCE, caption]) == ("goblet cells", "mucus")  # mucosa: other type
    split_of = {r.locator.split()[0]: r.split for r in records}
    assert split_of == {
        "PMC-9000002-sec-03": "train",
        "PMID-90000001": "train",
        "PMC-9000003-caption-02": "validation",  # development/test-files.list
        "PMID-90000004": "test",
        "PMID-90000005": "test",
    }
    groups = Counter(r.group for r in records)
    assert all(groups[r.group] == 2 for r in records if r.locator != "PMID-90000005 sentence 2")
    mast = "Both mast and basal cells were counted in biopsies of skin."
    assert outputs[SUBSTANCE, mast] == NO_ENTITY and (CELL, mast) not in outputs
    assert rejections[0].value == "AnEM-1.0.4/standoff/PMID-90000005.ann line 2"
    assert [(r.reason, r.raw_file, r.locator, r.task_id) for r in rejections] == [
        (
            "discontinuous Cell mention: a token span cannot express it",
            "AnEM-1.0.4/standoff/PMID-90000005.txt",
            "PMID-90000005 sentence 2",
            CELL,
        ),
        (
            "mention 'seminal plasma' differs from 'eminal plasma ' at offsets 98 112",
            "AnEM-1.0.4/standoff/PMID-90000006.ann",
            "line 2",
            None,
        ),
        ("document skipped: 1 bad annotation lines", "AnEM-1.0.4/standoff/PMID-90000006.txt", "PMID-90000006", None),
    ]


def test_unpacked_without_top_folder_missing_files_and_unlisted_documents(tmp_path: Path) -> None:
    (tmp_path / "standoff").mkdir()
    (tmp_path / "test").mkdir()
    text = "Bile and blood were drawn.\nNothing else.\n"
    for doc in ("PMID-1", "PMID-2", "PMID-3"):
        (tmp_path / "standoff" / f"{doc}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "standoff" / "PMID-1.ann").write_text(
        "T1\tOrganism_substance 0 4\tBile\nT2\tOrganism_substance 9 14\tblood\n#1\tAnnotatorNotes T1\tbile\n"
    )
    (tmp_path / "standoff" / "PMID-2.ann").write_text("T1\tOrganism_substance 0 4 Bile\n")  # space, not tab
    (tmp_path / "test" / "test-files.list").write_text("PMID-1.txt\nPMID-9\n")
    records, rejections = run(tmp_path)
    assert [(r.task_id, r.input, r.output, r.split) for r in records] == [
        (CELL, "Bile and blood were drawn.", NO_ENTITY, "test"),
        (CELL, "Nothing else.", NO_ENTITY, "test"),
        (SUBSTANCE, "Bile and blood were drawn.", "Bile, blood", "test"),
        (SUBSTANCE, "Nothing else.", NO_ENTITY, "test"),
    ]
    assert [(r.reason, r.raw_file, r.locator) for r in rejections] == [
        ("malformed line: expected T<n><TAB>Type start end<TAB>text", "standoff/PMID-2.ann", "line 1"),
        ("document skipped: 1 bad annotation lines", "standoff/PMID-2.txt", "PMID-2"),
        ("annotation file (.ann) missing", "standoff/PMID-3.txt", "PMID-3"),
        ("document listed in a split list but missing", "test/test-files.list", "PMID-9"),
    ]
