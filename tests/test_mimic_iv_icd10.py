"""MIMIC-IV-ICD specifics: codes sorted with their CMS titles (found in the raw folder or the sibling icd10_cm
folder), codes alone without titles, dev -> validation, and a missing generated train file named as missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters.mimic_iv_icd10 import SOURCE, generate
from pipeline.model import MissingRawFiles, Record, detect_form

HEADER = "subject_id,hadm_id,text,labels\n"


def write_splits(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "disch_train_split.csv").write_text(HEADER + "11,201,name ___ chest pain,I10;0DTJ4ZZ;E119;I10\n")
    (folder / "disch_dev_split.csv").write_text(HEADER + "12,202,name ___ cough,J189\n")


def outputs(root: Path) -> dict[str, tuple[str, str | None]]:
    return {r.key: (r.output, r.split) for r in generate(detect_form(SOURCE, root)) if isinstance(r, Record)}


def test_titles_from_the_sibling_icd10_cm_folder(tmp_path: Path) -> None:
    write_splits(tmp_path / "mimic_iv_icd10" / "mimicdata" / "mimic4_icd10")
    (tmp_path / "icd10_cm").mkdir()
    (tmp_path / "icd10_cm" / "icd10cm_codes_2022.txt").write_text(
        "E119    Diabetes, no complication\nI10     High BP\n"
    )
    assert outputs(tmp_path / "mimic_iv_icd10") == {
        "201": ("0DTJ4ZZ, E119: Diabetes, no complication, I10: High BP", "train"),  # no PCS file: code alone
        "202": ("J189", "validation"),
    }


def test_without_titles_codes_stand_alone(tmp_path: Path) -> None:
    write_splits(tmp_path / "raw")
    assert outputs(tmp_path / "raw")["201"] == ("0DTJ4ZZ, E119, I10", "train")


def test_missing_train_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "train_full_hadm_ids.csv").write_text("201\n")
    with pytest.raises(MissingRawFiles) as error:
        detect_form(SOURCE, tmp_path)
    assert "disch_train_split.csv  [missing]" in str(error.value) and "[found, optional]" in str(error.value)
