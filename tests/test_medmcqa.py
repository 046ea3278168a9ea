"""MedMCQA specifics: dev is the benchmark test split, test.json is never read, cop is 1-based in the official
JSON Lines and 0-based in the Hugging Face parquet, and a missing explanation costs only the explanation task."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from converters import medmcqa
from pipeline.model import Record, Rejection, detect_form


def row(qid: str, cop: int | None = 2, exp: str | None = "Because B.") -> dict:
    rec = {
        "question": f"Question {qid}?",
        "exp": exp,
        "cop": cop,
        "opa": "Alpha",
        "opb": "Beta",
        "opc": "Gamma",
        "opd": "Delta",
        "subject_name": "Medicine",
        "topic_name": None,
        "id": qid,
        "choice_type": "single",
    }
    return {k: v for k, v in rec.items() if v is not None or k in ("exp", "topic_name")}


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def convert(root: Path) -> list:
    return list(medmcqa.generate(detect_form(medmcqa.SOURCE, root)))


def test_dev_is_test_and_answerless_test_file_is_not_read(tmp_path: Path) -> None:
    write(tmp_path / "train.json", [row("t1")])
    write(tmp_path / "dev.json", [row("d1", cop=1)])
    write(tmp_path / "test.json", [{k: v for k, v in row("x1").items() if k not in ("cop", "exp")}])
    items = convert(tmp_path)
    assert {(r.task_id, r.key, r.split, r.output) for r in items} == {
        ("medmcqa_multiple_choice_qa", "t1", "train", "B. Beta"),
        ("medmcqa_explanation_qa", "t1", "train", "Because B."),
        ("medmcqa_multiple_choice_qa", "d1", "test", "A. Alpha"),
        ("medmcqa_explanation_qa", "d1", "test", "Because B."),
    }
    explained = next(r for r in items if r.task_id == "medmcqa_explanation_qa" and r.key == "t1")
    assert explained.input == "Question: Question t1?\nA. Alpha\nB. Beta\nC. Gamma\nD. Delta\nAnswer: B. Beta"


def test_quarantine_reasons(tmp_path: Path) -> None:
    write(tmp_path / "train.json", [row("a", exp=None), row("b", cop=0), row("c", cop=None), row("a")])
    items = convert(tmp_path)
    assert [(r.task_id, r.reason) for r in items if isinstance(r, Rejection)] == [
        ("medmcqa_explanation_qa", "no explanation (exp is null or empty)"),
        (None, "cop 0 is out of range 1-4 (cop is 1-based in the official files; 0 suggests a 0-based export)"),
        (None, "no answer (cop is missing)"),
        (None, "duplicate id (an earlier row has the same id)"),
    ]
    assert items[-1].value == "first at train.json line 1 (id a)"
    assert [(r.task_id, r.key) for r in items if isinstance(r, Record)] == [("medmcqa_multiple_choice_qa", "a")]


def test_parquet_export_gives_the_same_records(tmp_path: Path) -> None:
    rows = [row("p1", cop=3), row("p2", cop=4, exp="")]
    (tmp_path / "json").mkdir()
    (tmp_path / "hf" / "data").mkdir(parents=True)
    write(tmp_path / "json" / "dev.json", rows)
    exported = [r | {"cop": r["cop"] - 1} for r in rows]  # the export's ClassLabel counts from 0
    pq.write_table(pa.Table.from_pylist(exported), tmp_path / "hf/data/validation-00000-of-00001.parquet")
    original, export = convert(tmp_path / "json"), convert(tmp_path / "hf")
    assert detect_form(medmcqa.SOURCE, tmp_path / "hf").form.name == "parquet"
    assert [(r.id, r.input, r.output, r.split) for r in export if isinstance(r, Record)] == [
        (r.id, r.input, r.output, r.split) for r in original if isinstance(r, Record)
    ]
    assert [r.locator for r in export if isinstance(r, Rejection)] == ["row 2 (id p2)"]
