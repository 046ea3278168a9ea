"""BioASQ specifics: yes/no questions are answered by their exact answer, the others by their (first) ideal
answer, golden batch files are the test split, and a question seen in an earlier file is quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import bioasq
from pipeline.model import Record, Rejection, detect_form


def question(qid: str, kind: str, ideal: object, exact: object = None, snippets: tuple[str, ...] = ()) -> dict:
    q = {"id": qid, "type": kind, "body": f"Question {qid}?", "ideal_answer": ideal, "snippets": []}
    q["snippets"] = [{"text": s, "document": "http://www.ncbi.nlm.nih.gov/pubmed/1"} for s in snippets]
    return q | ({"exact_answer": exact} if exact is not None else {})


def convert(root: Path, files: dict[str, list[dict]]) -> list:
    for name, questions in files.items():
        (root / name).write_text(json.dumps({"questions": questions}), encoding="utf-8")
    return list(bioasq.generate(detect_form(bioasq.SOURCE, root)))


def test_outputs_and_splits(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        {
            "training11b.json": [
                question("a", "yesno", ["Yes, it is."], "Yes", ("S1.", "S2.", "S1.")),
                question("b", "summary", "An old single-string ideal answer."),
                question("c", "factoid", ["", "It is X."], [["X"]]),
                question("d", "yesno", ["Unclear."], ["maybe"]),
            ],
            "11B2_golden.json": [question("e", "list", ["A and B."], [["A"], ["B"]]), question("a", "yesno", [], "no")],
        },
    )
    records = [(r.key, r.split, r.output) for r in items if isinstance(r, Record)]
    assert records == [
        ("a", "train", "yes"),
        ("b", "train", "An old single-string ideal answer."),
        ("c", "train", "It is X."),
        ("e", "test", "A and B."),
    ]
    assert items[0].input == "Question: Question a?\nContext: S1.\nS2."
    assert [r.reason for r in items if isinstance(r, Rejection)] == [
        "yes/no question without a yes/no exact answer",
        "repeated question id",
    ]


def test_a_file_of_another_shape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "training12b.json").write_text(json.dumps([question("a", "summary", ["x"])]), encoding="utf-8")
    with pytest.raises(ValueError, match="no questions"):
        list(bioasq.generate(detect_form(bioasq.SOURCE, tmp_path)))
