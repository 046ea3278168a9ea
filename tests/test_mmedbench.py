"""MMedBench specifics: the archive and its unzipped folders give the same records, multi-answer questions, and
the rows or files that are quarantined."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from converters import mmedbench
from pipeline.model import Record, Rejection, detect_form

OPTIONS = {"A": "Uno", "B": "Dos", "C": "Tres"}


def line(answer_idx: object = "B", rationale: str = "Porque sí.") -> str:
    return json.dumps({"question": "¿Cuál?", "options": OPTIONS, "answer_idx": answer_idx, "rationale": rationale})


def convert(root: Path) -> list:
    return list(mmedbench.generate(detect_form(mmedbench.SOURCE, root)))


def test_zip_and_unzipped_give_the_same_records(tmp_path: Path) -> None:
    members = {
        "MMedBench/Train/Spanish.jsonl": [line(), line(["A", "C"]), line("A,C"), line("AC")],
        "MMedBench/Test/Spanish.jsonl": [line("C")],
    }
    (tmp_path / "zip").mkdir()
    with zipfile.ZipFile(tmp_path / "zip" / "MMedBench.zip", "w") as archive:
        for name, lines in members.items():
            archive.writestr(name, "\n".join(lines) + "\n")
            target = tmp_path / "unzipped" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(lines) + "\n")
    zipped, unzipped = convert(tmp_path / "zip"), convert(tmp_path / "unzipped")
    assert [(r.id, r.input, r.output, r.split) for r in zipped] == [
        (r.id, r.input, r.output, r.split) for r in unzipped
    ]
    assert [(r.key, r.split, r.input.splitlines()[-1]) for r in zipped] == [
        ("train-1", "train", "Answer: B. Dos"),
        ("train-2", "train", "Answer: A. Uno, C. Tres"),
        ("train-3", "train", "Answer: A. Uno, C. Tres"),
        ("train-4", "train", "Answer: A. Uno, C. Tres"),
        ("test-1", "test", "Answer: C. Tres"),
    ]
    assert zipped[0].input == "Question: ¿Cuál?\nA. Uno\nB. Dos\nC. Tres\nAnswer: B. Dos"
    assert zipped[0].output == "Porque sí." and zipped[0].task_id == "mmedbench_explanation_spanish"
    assert zipped[0].locator == "MMedBench/Train/Spanish.jsonl line 1" and unzipped[0].locator == "line 1"


def test_quarantine_reasons(tmp_path: Path) -> None:
    (tmp_path / "Test").mkdir()
    (tmp_path / "Test" / "English.jsonl").write_text("\n".join([line("D"), line(rationale=" "), line([]), line()]))
    (tmp_path / "Test" / "Korean.jsonl").write_text(line() + "\n")
    items = convert(tmp_path)
    assert [(r.raw_file, r.locator, r.reason) for r in items if isinstance(r, Rejection)] == [
        ("Test/English.jsonl", "line 1", "answer 'D' is not among the options A, B, C"),
        ("Test/English.jsonl", "line 2", "missing or empty rationale"),
        ("Test/English.jsonl", "line 3", "no answer (answer_idx is empty)"),
        (
            "Test/Korean.jsonl",
            "(whole file)",
            "no task for language file Korean.jsonl (expected one of Chinese, "
            "English, French, Japanese, Russian, Spanish)",
        ),
    ]
    assert [r.key for r in items if isinstance(r, Record)] == ["test-4"]
