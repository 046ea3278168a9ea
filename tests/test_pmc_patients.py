"""PMC-Patients specifics: the Hugging Face CSV (structured columns serialised as Python literals) gives the same
records as the JSON list, the age is written in one fixed format, and without the ReCDS split lists there is no
official split."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from conftest import SAMPLES

from converters import pmc_patients
from pipeline.model import Record, detect_form


def convert(root: Path) -> list:
    return list(pmc_patients.generate(detect_form(pmc_patients.SOURCE, root)))


def test_csv_export_gives_the_same_records(tmp_path: Path) -> None:
    patients = json.loads((SAMPLES / "pmc_patients/PMC-Patients.json").read_text(encoding="utf-8"))
    with open(tmp_path / "PMC-Patients.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(patients[0]))
        writer.writeheader()
        for p in patients:
            writer.writerow({k: repr(v) if isinstance(v, list | dict) else v for k, v in p.items()})
    for name in ("train", "dev", "test"):
        shutil.copy(SAMPLES / f"pmc_patients/{name}_PMIDs.json", tmp_path)
    from_csv = [r for r in convert(tmp_path) if isinstance(r, Record)]
    from_json = [r for r in convert(SAMPLES / "pmc_patients") if isinstance(r, Record)]
    assert [(r.id, r.input, r.output, r.split) for r in from_csv] == [
        (r.id, r.input, r.output, r.split) for r in from_json
    ]
    assert {r.task_id for r in from_csv} == {t.id for t in pmc_patients.TASKS}


def test_age_format_and_no_split_without_lists(tmp_path: Path) -> None:
    def patient(uid: str, age: list, gender: str, similar: dict) -> dict:
        text = f"Summary of patient {uid}."
        return {"patient_uid": uid, "PMID": uid.split("-")[0], "title": "T", "patient": text, "age": age,
                "gender": gender, "similar_patients": similar}  # fmt: skip

    rows = [
        patient("1-1", [[1.5, "year"]], "F", {"2-1": 1}),
        patient("2-1", [[1.0, "month"], [3.0, "day"]], "M", {}),
        patient("3-1", [[30.0, "year"]], "U", {}),
        *(patient(f"{n}-1", [[40.0, "year"]], "M", {}) for n in range(4, 8)),
    ]
    (tmp_path / "PMC-Patients.json").write_text(json.dumps(rows), encoding="utf-8")
    items = convert(tmp_path)
    basic = {r.key: r.output for r in items if isinstance(r, Record) and r.task_id == pmc_patients.BASIC}
    assert basic["1-1"] == "Age: 1.5 years; Gender: Female"
    assert basic["2-1"] == "Age: 1 month 3 days; Gender: Male"
    assert "3-1" not in basic
    assert {r.split for r in items if isinstance(r, Record)} == {None}
    (query,) = [r for r in items if isinstance(r, Record) and r.task_id == pmc_patients.SIMILAR]
    assert query.input.count("\nCandidate ") == 4 and "Summary of patient 2-1." in query.input
