"""WikiDoc specifics: which file feeds which task, and the medAlpaca repository copy of the patient
information set."""

from __future__ import annotations

import json
from pathlib import Path

from converters import wikidoc
from pipeline.model import detect_form


def write(path: Path, *pairs: tuple[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    items = [{"instruction": "Answer this question truthfully", "input": q, "output": a} for q, a in pairs]
    path.write_text(json.dumps(items, indent=4))


def test_files_map_to_tasks(tmp_path: Path) -> None:
    write(tmp_path / "medical_meadow_wikidoc.json", ("What is the epidemiology of X?", "Rare."))
    write(tmp_path / "medical_meadow_wikidoc_patient_information.json", ("What causes X?", "A gene."))
    items = list(wikidoc.generate(detect_form(wikidoc.SOURCE, tmp_path)))
    assert [(r.task_id, r.input, r.output) for r in items] == [
        ("wikidoc_textbook_qa", "What is the epidemiology of X?", "Rare."),
        ("wikidoc_patient_information_qa", "What causes X?", "A gene."),
    ]


def test_medalpaca_repository_file_is_the_patient_information_set(tmp_path: Path) -> None:
    write(tmp_path / "medAlpaca" / "medical_meadow_small.json", ("What causes X?", "A gene."))
    files = detect_form(wikidoc.SOURCE, tmp_path)
    assert [f.name for f in files.missing] == ["textbook"]
    items = list(wikidoc.generate(files))
    assert [(r.task_id, r.raw_file) for r in items] == [
        ("wikidoc_patient_information_qa", "medAlpaca/medical_meadow_small.json")
    ]
