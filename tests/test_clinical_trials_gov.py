"""LCT specifics: SpERT tokens are matched back onto the study text (spacing and wrapped lines restored), the
dev file is the validation split, and a record that cannot be placed or typed is quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from converters import clinical_trials_gov
from pipeline.model import Record, Rejection, detect_form

TEXT = "Inclusion Criteria:\n  -  HbA1c between 7% and 10%\n  -  Able to walk\n     100 m\nExclusion Criteria:\n"


def record(oid: str, tokens: list[str], entities: list[tuple[str, int, int]]) -> dict:
    ents = [{"type": t, "start": s, "end": e} for t, s, e in entities]
    return {"orig_id": oid, "tokens": tokens, "entities": ents, "relations": []}


def convert(root: Path, dev: list[dict], types: list[str] | None = None) -> list:
    (root / "data/ner/spert").mkdir(parents=True)
    (root / "data/docs/brat/batch3").mkdir(parents=True)
    (root / "data/docs/brat/batch3/NCT01.txt").write_text(TEXT, encoding="utf-8")
    (root / "data/ner/spert/dev.json").write_text(json.dumps(dev, indent=4), encoding="utf-8")
    if types is not None:
        inventory = {"entities": {t: {"short": t, "verbose": t} for t in types}, "relations": {}}
        (root / "data/ner/spert/types.json").write_text(json.dumps(inventory), encoding="utf-8")
    return list(clinical_trials_gov.generate(detect_form(clinical_trials_gov.SOURCE, root)))


def test_text_restored_from_the_study_file(tmp_path: Path) -> None:
    lead = ["\n  ", "-", " "]
    items = convert(
        tmp_path,
        [
            record("1_NCT01", [*lead, "HbA1c", "between", "7", "%", "and", "10", "%"], [("Eq-Comparison", 4, 10)]),
            record("2_NCT01", [*lead, "Able", "to", "walk", "\n     ", "100", "m"], [("Eq-Value", 7, 9)]),
        ],
    )
    assert [(r.key, r.split, r.group, r.input, r.output) for r in items] == [
        ("1_NCT01", "validation", "NCT01", "- HbA1c between 7% and 10%", "between 7% and 10% (Eq-Comparison)"),
        ("2_NCT01", "validation", "NCT01", "- Able to walk 100 m", "100 m (Eq-Value)"),
    ]


def test_quarantine(tmp_path: Path) -> None:
    lead = ["\n  ", "-", " "]
    items = convert(
        tmp_path,
        [
            record("1_NCT01", [*lead, "HbA1c", "above", "7", "%"], []),
            record("2_NCT01", [*lead, "Able", "to", "walk"], [("Gait", 3, 4)]),
            record("3_NCT02", [*lead, "Pregnancy"], []),
            record("4_NCT01", ["\n"], []),
            record("4_NCT01", ["\n", "Exclusion", "Criteria", ":"], []),
        ],
        types=["Condition"],
    )
    assert all(isinstance(i, Rejection) for i in items)
    assert [i.reason for i in items] == [
        "tokens not found in the criteria text",
        "entity type not declared in types.json",
        "criteria text file missing",
        "no text (only whitespace tokens)",
        "repeated orig_id",
    ]
    assert items[1].locator == "record 2 (2_NCT01)" and not any(isinstance(i, Record) for i in items)


def test_a_bare_criteria_header_is_no_instance_but_an_annotated_one_is(tmp_path: Path) -> None:
    # Every study opens its lists with these lines: 1,500 identical unannotated instances otherwise.
    items = convert(
        tmp_path,
        [
            record("0_NCT01", ["Inclusion", "Criteria", ":"], []),
            record("4_NCT01", ["Exclusion", "Criteria", ":"], [("Condition", 0, 1)]),
        ],
    )
    assert isinstance(items[0], Rejection) and items[0].value == "Inclusion Criteria:"
    assert items[0].reason == "section header without entities, not a criterion"
    assert isinstance(items[1], Record) and items[1].output == "Exclusion (Condition)"
