"""PubMedQA specifics: which release is which split, the balanced verification pairs, and the
errors a broken release gives."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from converters import pubmedqa
from pipeline.model import Record, Rejection, detect_form


def entry(question: str, decision: str | None = "yes", labels: tuple[str, ...] = ("BACKGROUND",)) -> dict:
    rec = {
        "QUESTION": question,
        "CONTEXTS": [f"Context of {question}"] * len(labels),
        "LABELS": list(labels),
        "MESHES": [],
        "YEAR": "2020",
        "LONG_ANSWER": f"Conclusion about {question}",
    }
    if decision is not None:
        rec["final_decision"] = decision
    return rec


def convert(tmp_path: Path, **releases: dict) -> list:
    for name, content in releases.items():
        (tmp_path / f"ori_{name}.json").write_text(json.dumps(content, indent=4))
    return list(pubmedqa.generate(detect_form(pubmedqa.SOURCE, tmp_path)))


def test_pqal_is_test_and_pqaa_pqau_are_train(tmp_path: Path) -> None:
    items = convert(tmp_path, pqal={"1": entry("q1")}, pqaa={"2": entry("q2")}, pqau={"3": entry("q3", None)})
    splits = {(r.key.split("-")[0], r.split) for r in items}
    assert splits == {("1", "test"), ("2", "train"), ("3", "train")}
    unlabelled = {r.task_id for r in items if r.group == "3"}
    assert "pubmedqa_multiple_choice" not in unlabelled and "pubmedqa_answer_generation" in unlabelled


def test_verification_pairs_each_question_with_its_answer_and_a_foreign_one(tmp_path: Path) -> None:
    items = convert(tmp_path, pqal={str(i): entry(f"q{i}") for i in range(4)})
    verify = [r for r in items if r.task_id == "pubmedqa_answer_verification"]
    assert Counter(r.output for r in verify) == {"yes": 4, "no": 4}
    for r in verify:
        own = f"Conclusion about q{r.group}" in r.input
        assert own == (r.output == "yes"), r
    assert len({r.id for r in verify}) == 8


def test_intent_follows_objective_labels(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        pqal={
            "1": entry("q1", labels=("OBJECTIVE", "METHODS")),
            "2": entry("q2", labels=("BACKGROUND AND AIMS",)),
            "3": entry("q3", labels=("BACKGROUND", "RESULTS")),
        },
    )
    intent = {r.group: r.output for r in items if r.task_id == "pubmedqa_intent_classification"}
    assert intent == {"1": "yes", "2": "yes", "3": "no"}
    assert all("OBJECTIVE" not in r.input for r in items if r.task_id == "pubmedqa_intent_classification")


def test_malformed_records_are_rejected_with_reason(tmp_path: Path) -> None:
    items = convert(tmp_path, pqal={"1": entry("q1", decision="perhaps"), "2": entry(""), "3": entry("q3")})
    rejected = [(r.locator, r.reason) for r in items if isinstance(r, Rejection)]
    assert rejected == [
        ("PMID 1", "final_decision 'perhaps' is not one of yes/no/maybe"),
        ("PMID 2", "missing or empty QUESTION"),
    ]
    assert {r.group for r in items if isinstance(r, Record)} == {"3"}


def test_truncated_file_names_file_and_last_record(tmp_path: Path) -> None:
    text = json.dumps({"11": entry("q1"), "12": entry("q2")}, indent=4)
    (tmp_path / "ori_pqaa.json").write_text(text[: text.index('"12"') + 40])
    with pytest.raises(ValueError, match=r"ori_pqaa.json: malformed JSON after PMID 11"):
        list(pubmedqa.generate(detect_form(pubmedqa.SOURCE, tmp_path)))


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "pubmedqa"
    expected = {(r.id, r.input, r.output, r.split) for r in pubmedqa.generate(detect_form(pubmedqa.SOURCE, sample))}
    for config, release in (
        ("pqa_labeled", "ori_pqal.json"),
        ("pqa_artificial", "ori_pqaa.json"),
        ("pqa_unlabeled", "ori_pqau.json"),
    ):
        rows = [
            {
                "pubid": int(pmid),
                "question": r["QUESTION"],
                "long_answer": r["LONG_ANSWER"],
                "context": {"contexts": r["CONTEXTS"], "labels": r["LABELS"], "meshes": r["MESHES"]},
                **({"final_decision": r["final_decision"]} if "final_decision" in r else {}),
            }
            for pmid, r in json.loads((sample / release).read_text()).items()
        ]
        (tmp_path / config).mkdir()
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / config / "train-00000-of-00001.parquet")
    files = detect_form(pubmedqa.SOURCE, tmp_path)
    assert files.form.name == "hf"
    assert {(r.id, r.input, r.output, r.split) for r in pubmedqa.generate(files)} == expected
