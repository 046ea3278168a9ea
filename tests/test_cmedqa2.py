"""cMedQA2 specifics: splits from the candidates files, zipped and unzipped copies, the files named when the
texts are missing, and GB18030 copies."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from converters import cmedqa2
from pipeline.model import MissingRawFiles, Record, Rejection, describe_missing, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "cmedqa2"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(cmedqa2.generate(detect_form(cmedqa2.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def unzip(name: str, into: Path) -> None:
    with zipfile.ZipFile(SAMPLE / name) as archive:
        archive.extractall(into)


def test_splits_come_from_the_candidates_files() -> None:
    records, rejections = run(SAMPLE)
    split = {r.key: r.split for r in records}
    assert split["10000001-200001"] == split["10000001-200002"] == "train"
    assert split["10000005-200006"] == "validation" and split["10000009-200010"] == "test"
    assert {(r.locator, r.reason) for r in rejections} == {
        ("row 12 (ans_id 200011, question_id 10000010)", "question 10000010 is not in question.zip"),
        ("row 13", "4 fields, expected 3 (ans_id,question_id,content)"),
    }


def test_unzipped_copies_give_the_same_records(tmp_path: Path) -> None:
    for name in ("question.zip", "answer.zip", "train_candidates.zip", "dev_candidates.zip", "test_candidates.zip"):
        unzip(name, tmp_path)
    assert {(r.id, r.input, r.output, r.split) for r in run(tmp_path)[0]} == {
        (r.id, r.input, r.output, r.split) for r in run(SAMPLE)[0]
    }


def test_without_texts_the_build_names_question_and_answer_zips(tmp_path: Path) -> None:
    for name in ("dev_candidates.zip", "test_candidates.zip"):
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    with pytest.raises(MissingRawFiles):
        detect_form(cmedqa2.SOURCE, tmp_path)
    lines = describe_missing(cmedqa2.SOURCE, tmp_path).splitlines()
    missing = [line.split()[0] for line in lines if "[missing]" in line]
    assert missing == ["question.zip", "answer.zip"]


def test_questions_of_a_missing_split_file_are_rejected_not_hash_split(tmp_path: Path) -> None:
    for name in ("question.zip", "answer.zip", "dev_candidates.zip", "test_candidates.zip"):
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    records, rejections = run(tmp_path)
    assert {r.split for r in records} == {"validation", "test"}
    why = "question 10000001 is in no candidates (split) file; missing: train_candidates.zip"
    assert why in {r.reason for r in rejections}


def test_gb18030_copy_is_read(tmp_path: Path) -> None:
    for name in ("answer.zip", "train_candidates.zip", "dev_candidates.zip", "test_candidates.zip"):
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    with zipfile.ZipFile(SAMPLE / "question.zip") as archive:
        text = archive.read("question.csv").decode("utf-8")
    (tmp_path / "question.csv").write_bytes(text.encode("gb18030"))
    assert {r.input for r in run(tmp_path)[0]} == {r.input for r in run(SAMPLE)[0]}
