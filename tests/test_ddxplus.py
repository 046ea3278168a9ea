"""DDXPlus specifics: evidences decoded to English question -> answer lines, conditions mapped to English from any
spelling (the French release), zipped and unzipped patient files give the same records, broken rows quarantined."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from converters import ddxplus
from pipeline.model import Record, Rejection, detect_form

EVIDENCES = {
    "E_1": {"name": "E_1", "question_en": "Do you cough?", "is_antecedent": False, "data_type": "B",
            "value_meaning": {}, "possible-values": []},
    "E_2": {"name": "E_2", "question_en": "Where is the pain:", "is_antecedent": False, "data_type": "M",
            "value_meaning": {"V_1": {"fr": "gorge", "en": "throat"}, "V_2": {"fr": "nez", "en": "nose"}},
            "possible-values": ["V_1", "V_2"]},
    "E_3": {"name": "E_3", "question_en": "How bad is it?", "is_antecedent": False, "data_type": "C",
            "value_meaning": {}, "possible-values": list(range(11))},
    "E_4": {"name": "E_4", "question_en": "Do you smoke?", "is_antecedent": True, "data_type": "B",
            "value_meaning": {}, "possible-values": []},
}  # fmt: skip
CONDITIONS = {
    "Pneumonie": {"condition_name": "Pneumonie", "cond-name-fr": "Pneumonie", "cond-name-eng": "Pneumonia"},
    "Bronchite": {"condition_name": "Bronchite", "cond-name-fr": "Bronchite", "cond-name-eng": "Bronchitis"},
}
HEADER = "AGE,DIFFERENTIAL_DIAGNOSIS,SEX,PATHOLOGY,EVIDENCES,INITIAL_EVIDENCE\n"
GOOD = """40,"[['Pneumonie', 0.6], ['Bronchite', 0.4]]",F,Pneumonie,"""
GOOD += """"['E_1', 'E_2_@_V_2', 'E_2_@_V_1', 'E_3_@_7', 'E_4']",E_1\n"""


def raw(root: Path, patients: str, zipped: bool) -> Path:
    root.mkdir()
    (root / "release_evidences.json").write_text(json.dumps(EVIDENCES))
    (root / "release_conditions.json").write_text(json.dumps(CONDITIONS))
    if zipped:
        with zipfile.ZipFile(root / "release_test_patients.zip", "w") as z:
            z.writestr("release_test_patients", patients)
    else:
        (root / "release_test_patients").write_text(patients)  # the unzipped file has no extension
    return root


def convert(root: Path) -> list:
    return list(ddxplus.generate(detect_form(ddxplus.SOURCE, root)))


def test_decoding_and_both_file_forms(tmp_path: Path) -> None:
    zipped, unzipped = (convert(raw(tmp_path / d, HEADER + GOOD, d == "zip")) for d in ("zip", "csv"))
    assert [(r.id, r.input, r.output) for r in zipped] == [(r.id, r.input, r.output) for r in unzipped]
    (record,) = zipped
    assert (record.key, record.split, record.output) == ("test-1", "test", "Pneumonia")
    assert record.input == (
        "Age: 40\nSex: Female\nInitial evidence: Do you cough?\n"
        "Symptoms: Do you cough? -> yes\nWhere is the pain -> nose, throat\nHow bad is it? -> 7 (scale 0-10)\n"
        "Antecedents: Do you smoke? -> yes\nCandidate diagnoses: Bronchitis, Pneumonia"
    )


def test_quarantine_reasons(tmp_path: Path) -> None:
    rows = [
        """3,"[['Bronchite', 1.0]]",M,Pneumonie,"['E_1']",E_1""",
        """3,"[['Bronchite', 1.0]]",M,Bronchite,"['E_1', 'E_2_@_V_9']",E_1""",
        """3,"[['Grippe', 1.0]]",M,Bronchite,"['E_1']",E_1""",
        """3,"[['Bronchite', 1.0]",M,Bronchite,"['E_1']",E_1""",
        """3,"[['Bronchite', 1.0]]",M,Bronchite""",
    ]
    items = convert(raw(tmp_path / "r", HEADER + GOOD + "\n".join(rows) + "\n", True))
    assert [(r.locator, r.reason) for r in items if isinstance(r, Rejection)] == [
        ("row 2", "PATHOLOGY is not among the DIFFERENTIAL_DIAGNOSIS candidates"),
        ("row 3", "unknown evidence value"),
        ("row 4", "unknown condition in DIFFERENTIAL_DIAGNOSIS"),
        ("row 5", "DIFFERENTIAL_DIAGNOSIS is not a list literal"),
        ("row 6", "wrong column count"),
    ]
    assert [r.key for r in items if isinstance(r, Record)] == ["test-1"]
