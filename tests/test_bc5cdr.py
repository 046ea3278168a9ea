"""Format-specific tests for the BC5CDR converter: two tasks from one PubTator corpus (mention types kept apart,
nested mentions), and the promise that the original release and the per-type IOB copies give the same records."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SAMPLES, SHARED_CORPORA

from converters.bc5cdr import CHEMICAL, DISEASE, NO_ENTITY, SOURCE, generate, to_iob
from pipeline.model import MissingRawFiles, Record, Rejection, detect_form

SAMPLE = SAMPLES / "bc5cdr"
SPLIT_FILES = {"train": "train.tsv", "validation": "devel.tsv", "test": "test.tsv"}


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_iob_built_from_the_original_gives_the_same_records(tmp_path: Path) -> None:
    original, _ = run(SAMPLE)
    for task, folder, kind in ((DISEASE, "BC5CDR-disease-IOB", "Disease"), (CHEMICAL, "BC5CDR-chem-IOB", "Chemical")):
        lines: dict[str, list[str]] = {name: [] for name in SPLIT_FILES.values()}
        records = [r for r in original if r.task_id == task]
        for record, sentence in zip(records, to_iob(detect_form(SOURCE, SAMPLE), task), strict=True):
            rows = lines[SPLIT_FILES[record.split]]
            rows += [f"{token}\t{tag}-{kind}" if tag != "O" else f"{token}\tO" for token, tag in sentence] + [""]
        (tmp_path / "data" / folder).mkdir(parents=True)
        for name, rows in lines.items():
            (tmp_path / "data" / folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert detect_form(SOURCE, tmp_path).form.name == "iob"
    iob, rejections = run(tmp_path)
    assert not rejections
    assert [(r.id, r.input, r.output, r.split) for r in iob] == [(r.id, r.input, r.output, r.split) for r in original]
    assert {(r.task_id, r.split) for r in iob} == {(t, s) for t in (DISEASE, CHEMICAL) for s in SPLIT_FILES}


def test_types_are_kept_apart_and_nested_mentions_give_way_to_the_outer_one() -> None:
    records, rejections = run(SAMPLE)
    outputs = {(r.task_id, r.input): r.output for r in records}
    assert outputs[DISEASE, "Cocaine abuse was excluded."] == "Cocaine abuse"
    assert outputs[CHEMICAL, "Cocaine abuse was excluded."] == "Cocaine"  # a chemical inside a disease mention
    title = "Valproxate-induced metabolic acidosis and renal and hepatic failure."
    assert outputs[DISEASE, title] == "metabolic acidosis, renal and hepatic failure"  # "acidosis" is nested
    assert outputs[CHEMICAL, "No patient required vasopressors."] == NO_ENTITY
    records_of = {r.task_id: r for r in records if r.input == title}
    assert records_of[DISEASE].group == records_of[CHEMICAL].group  # both tasks of a sentence share a split
    assert [(r.task_id, r.locator) for r in rejections] == [
        (DISEASE, "line 27 (PMID 8000103)"),
        (CHEMICAL, "line 27 (PMID 8000103)"),
    ]
    assert "line 30 is malformed" in rejections[0].reason


def test_the_combined_iob_folder_is_not_accepted(tmp_path: Path) -> None:
    (tmp_path / "BC5CDR-IOB").mkdir()
    (tmp_path / "BC5CDR-IOB" / "test.tsv").write_text("Cocaine\tB-Disease\nabuse\tI-Disease\n")
    with pytest.raises(MissingRawFiles, match="BC5CDR-chem-IOB"):
        detect_form(SOURCE, tmp_path)


@pytest.mark.skipif(not (SHARED_CORPORA / "bc5cdr").is_dir(), reason="no real sample")
def test_real_sample_set_read_as_pubtator_meets_the_iob_copy(tmp_path: Path) -> None:
    """The real folder holds IOB copies only (CDR_Data.zip is absent); its 50-abstract PubTator sample set, read as
    if it were the development file, shares many sentences with the IOB devel cut, with the same ids."""
    real = SHARED_CORPORA / "bc5cdr"
    shutil.copy(real / "BioCreative-V-CDR-Corpus" / "CDR_sample.txt", tmp_path / "CDR_DevelopmentSet.PubTator.txt")
    original, rejections = run(tmp_path)
    assert not rejections
    iob = {r.id for r in run(real)[0]}
    for task in (DISEASE, CHEMICAL):
        assert len({r.id for r in original if r.task_id == task} & iob) > 80
