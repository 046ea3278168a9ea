"""RaTE-NER specifics: DyGIE spans are inclusive and count tokens across the whole line, types are matched
case-insensitively, punctuation glued to a release token is not part of a mention, dev is validation."""

from __future__ import annotations

import json
from pathlib import Path

from converters import radiopaedia_ner
from pipeline.model import Record, Rejection, detect_form


def convert(root: Path, lines: list[str]) -> list:
    (root / "Radiopaedia").mkdir()
    (root / "Radiopaedia/dev_span.json").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return list(radiopaedia_ner.generate(detect_form(radiopaedia_ner.SOURCE, root)))


def test_dygie_offsets_types_and_split(tmp_path: Path) -> None:
    row = {
        "sentences": [["Small", "left", "effusion."], ["Lungs", "are", "clear", "."]],
        "ner": [[[1, 2, "abnormality"], [1, 1, "ANATOMY"]], [[3, 3, "Anatomy"], [5, 5, "NON_ABNORMALITY"]]],
    }
    items = convert(tmp_path, [json.dumps(row)])
    assert [(r.split, r.locator, r.input, r.output) for r in items] == [
        ("validation", "line 1 sentence 1", "Small left effusion.", "left effusion (Abnormality), left (Anatomy)"),
        ("validation", "line 1 sentence 2", "Lungs are clear.", "Lungs (Anatomy), clear (Non-Abnormality)"),
    ]
    assert all(isinstance(r, Record) and r.group != r.key for r in items)


def test_quarantine(tmp_path: Path) -> None:
    good = {"sentences": [["No", "mass", "."]], "ner": [[]]}
    lines = [
        json.dumps({"sentences": [["A", "mass"]], "ner": [[[1, 1, "LESION"]]]}),
        json.dumps({"sentences": [["A", "mass"]], "ner": [[[1, 2, "DISEASE"]]]}),
        '{"sentences": [["cut"',
        json.dumps(good),
    ]
    items = convert(tmp_path, lines)
    assert [i.reason[:12] if isinstance(i, Rejection) else i.output for i in items] == [
        "unknown enti",
        "span outside",
        "invalid JSON",
        "There is no related entity.",
    ]
