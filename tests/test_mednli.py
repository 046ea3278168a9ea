"""MedNLI specifics: official splits (dev -> validation), the classification task groups rows by identical premise
(not by position), and broken rows are quarantined without costing the other rows."""

from __future__ import annotations

import json
from pathlib import Path

from converters import mednli
from pipeline.model import Record, Rejection, detect_form


def row(pid: str, premise: str, hypothesis: str, label: str) -> str:
    return json.dumps({"sentence1": premise, "pairID": pid, "sentence2": hypothesis, "gold_label": label}) + "\n"


def convert(root: Path) -> list:
    return list(mednli.generate(detect_form(mednli.SOURCE, root)))


def test_premises_are_grouped_by_text_not_position(tmp_path: Path) -> None:
    a, b = "Creatinine rose to 3.0.", "Chest x-ray was clear."
    (tmp_path / "mli_dev_v1.jsonl").write_text(
        row("1", a, "Kidney injury.", "entailment")
        + row("2", b, "No infiltrate.", "entailment")  # interleaved: a positional triplet would mix premises
        + row("3", a, "Normal kidneys.", "contradiction")
        + row("4", a, "On dialysis.", "neutral")
        + row("5", b, "Lobar pneumonia.", "contradiction")
    )
    items = convert(tmp_path)
    grouped = {r.key: r for r in items if isinstance(r, Record) and r.task_id == mednli.CLASSIFICATION}
    assert set(grouped) == {"1", "2"} and all(r.split == "validation" for r in grouped.values())
    assert grouped["1"].input.startswith(f"Premise: {a}\nHypothesis 1: ") and "No infiltrate" not in grouped["1"].input
    labelled = {}
    for hypothesis, label in zip(grouped["1"].input.splitlines()[1:], grouped["1"].output.splitlines(), strict=True):
        assert hypothesis.split(": ")[0] == label.split(": ")[0]  # the same "Hypothesis <n>" on both sides
        labelled[hypothesis.split(": ", 1)[1]] = label.split(": ", 1)[1]
    assert labelled == {"Kidney injury.": "entailment", "Normal kidneys.": "contradiction", "On dialysis.": "neutral"}
    generated = {(r.task_id, r.key, r.output) for r in items if r.task_id in (mednli.GENERATIVE, mednli.WRONG)}
    assert generated == {
        (mednli.GENERATIVE, "1", "Kidney injury."),
        (mednli.GENERATIVE, "2", "No infiltrate."),
        (mednli.WRONG, "3", "Normal kidneys."),
        (mednli.WRONG, "5", "Lobar pneumonia."),
    }


def test_quarantine_reasons(tmp_path: Path) -> None:
    (tmp_path / "mli_train_v1.jsonl").write_text(
        row("1", "Afebrile.", "No fever.", "entailment")
        + row("2", "Afebrile.", "Febrile.", "-")
        + row("1", "Afebrile.", "Has a fever.", "contradiction")
        + row("3", "", "Anything.", "neutral")
        + "{not json\n"
    )
    items = convert(tmp_path)
    assert [(r.reason, r.locator.split(" (")[0]) for r in items if isinstance(r, Rejection)] == [
        ("gold_label is not entailment, contradiction or neutral", "line 2"),
        ("duplicate pairID (an earlier row has the same pairID)", "line 3"),
        ("empty sentence1", "line 4"),
        ("invalid JSON: Expecting property name enclosed in double quotes at character 1", "line 5"),
        ("premise has a single hypothesis", "line 1"),
    ]
    assert {(r.task_id, r.key, r.split) for r in items if isinstance(r, Record)} == {
        (mednli.DISCRIMINATIVE, "1", "train"),
        (mednli.GENERATIVE, "1", "train"),
    }
