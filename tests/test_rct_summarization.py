"""RCT summarization specifics: reviews assembled from scattered input rows, the quarantined rows and reviews,
the split mapping, and the error naming the inputs file when only the targets are present."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from converters import rct_summarization
from pipeline.model import MissingRawFiles, Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "rct_summarization"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(rct_summarization.generate(detect_form(rct_summarization.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_reviews_gather_their_trials_and_keep_official_splits() -> None:
    records, rejections = run(SAMPLE)
    by_key = {r.key: r for r in records}
    assert {k: r.split for k, r in by_key.items()} == {
        "CD900001": "train",
        "CD900002": "train",
        "CD900003": "train",
        "CD900011": "validation",
        "CD900021": "test",
        "CD900022": "test",
    }
    honey = by_key["CD900001"]  # its third trial comes after another review's rows and has no abstract
    assert honey.input.count("Study ") == 3 and honey.input.endswith(
        "Study 3\nTitle: Honey for leg ulcers in older adults (conference abstract)"
    )
    assert "clover honey. Ulcer area" in honey.input  # line breaks inside an abstract are flattened
    assert honey.output.count("\n") == 1  # the target's paragraph break is kept
    assert "\u00a0" not in by_key["CD900003"].output
    assert {(r.reason, r.raw_file, r.locator) for r in rejections} == {
        ("trial with neither title nor abstract", "train-inputs.csv", "row 6"),
        ("review without target", "train-inputs.csv", "ReviewID CD900009"),
        ("review without input trials", "train-targets.csv", "row 5 (ReviewID CD900004)"),
        ("bytes that are not valid in the file's encoding", "test-inputs.csv", "row 4"),
    }


def test_targets_alone_name_the_missing_inputs_file(tmp_path: Path) -> None:
    for part in ("train", "dev", "test"):
        shutil.copy(SAMPLE / f"{part}-targets.csv", tmp_path)
    with pytest.raises(MissingRawFiles) as error:
        detect_form(rct_summarization.SOURCE, tmp_path)
    assert "train-inputs.csv  [missing]" in str(error.value) and "train-targets.csv  [found]" in str(error.value)


def test_a_split_without_its_inputs_is_skipped_and_reported(tmp_path: Path) -> None:
    for name in ("train-inputs.csv", "train-targets.csv", "test-targets.csv"):
        shutil.copy(SAMPLE / name, tmp_path)
    files = detect_form(rct_summarization.SOURCE, tmp_path)
    assert "test-inputs.csv" in [f.patterns[0] for f in files.missing]
    records, _ = run(tmp_path)
    assert {r.split for r in records} == {"train"}


def test_a_review_in_two_splits_is_converted_once(tmp_path: Path) -> None:
    for name in ("train-inputs.csv", "train-targets.csv"):
        shutil.copy(SAMPLE / name, tmp_path)
    (tmp_path / "dev-inputs.csv").write_text(",ReviewID,PMID,Title,Abstract\n0,CD900002,1,T,A\n", encoding="utf-8")
    (tmp_path / "dev-targets.csv").write_text(",ReviewID,Target\n0,CD900002,Again.\n", encoding="utf-8")
    records, rejections = run(tmp_path)
    assert [r.split for r in records if r.key == "CD900002"] == ["train"]
    assert ("review already converted from another split", "dev-inputs.csv") in {
        (r.reason, r.raw_file) for r in rejections
    }


def test_a_header_without_the_columns_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "train-inputs.csv").write_text(",ReviewID,Text\n0,CD1,x\n", encoding="utf-8")
    shutil.copy(SAMPLE / "train-targets.csv", tmp_path)
    with pytest.raises(ValueError, match="train-inputs.csv: header"):
        run(tmp_path)
