"""HEAD-QA specifics: official split files, Spanish/English pairing for translation, the category label and
quarantine of broken questions."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from converters import head_qa
from pipeline.model import Record, Rejection, detect_form


def question(qid: str, text: str, ra: str = "2") -> dict:
    answers = [{"aid": i, "atext": f"{text} option {i}"} for i in range(1, 5)]
    return {"qid": qid, "qtext": text, "ra": ra, "answers": answers, "image": ""}


def write(tmp_path: Path, folder: str, part: str, questions: list[dict], category: str = "nursery") -> None:
    exams = {
        "Cuaderno_2014_1_E": {"name": "Cuaderno_2014_1_E", "data": questions, "category": category, "year": "2014"}
    }
    path = tmp_path / folder / f"{part}_{folder}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"version": "1.0", "language": "x", "exams": exams}, indent=2), encoding="utf-8")


def convert(tmp_path: Path) -> list:
    return list(head_qa.generate(detect_form(head_qa.SOURCE, tmp_path)))


def test_splits_pairing_and_category(tmp_path: Path) -> None:
    write(tmp_path, "HEAD", "dev", [question("1", "Pregunta\nuno:")])
    write(tmp_path, "HEAD_EN", "dev", [question("1", "Question one:")])
    records = {(r.task_id, r.key): r for r in convert(tmp_path)}
    assert {r.split for r in records.values()} == {"validation"}
    key = "Cuaderno_2014_1_E-1"
    assert records["head_qa_translation_es_en", key].input == "Pregunta uno:"  # PDF line break normalised
    assert records["head_qa_translation_es_en", key].output == "Question one:"
    assert records["head_qa_translation_en_es", key].output == "Pregunta uno:"
    assert records["head_qa_classification", key].output == "nursing"
    assert records["head_qa_question_answering", key].output == "B. Pregunta uno: option 2"
    assert records["head_qa_answer_generation", key].input.startswith("Question one:\nA. Question one: option 1")


def test_broken_questions_are_quarantined_per_task(tmp_path: Path) -> None:
    write(tmp_path, "HEAD", "train", [question("1", "Uno:", ra="9")], category="dentistry")
    write(tmp_path, "HEAD_EN", "train", [question("1", "One:", ra="9"), question("2", "Two:")], category="dentistry")
    items = convert(tmp_path)
    rejected = {(r.task_id, r.locator, r.reason) for r in items if isinstance(r, Rejection)}
    bad_ra = "right answer id ra=9 is not among the answer ids 1, 2, 3, 4"
    one, two = "exam Cuaderno_2014_1_E qid 1", "exam Cuaderno_2014_1_E qid 2"
    assert ("head_qa_question_answering", one, bad_ra) in rejected
    assert ("head_qa_answer_generation", one, bad_ra) in rejected
    assert ("head_qa_translation_en_es", two, "no Spanish counterpart in HEAD/train_HEAD.json") in rejected
    assert any(t == "head_qa_classification" and "dentistry" in reason for t, _, reason in rejected)
    kept = {(r.task_id, r.key) for r in items if isinstance(r, Record)}
    assert ("head_qa_translation_es_en", "Cuaderno_2014_1_E-1") in kept  # the text is still translatable


def test_malformed_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "test_HEAD.json").write_text('{"version": "1.0", "exams": {"Cuaderno_2015_1_M": {"data": [')
    with pytest.raises(ValueError, match="test_HEAD.json: malformed JSON"):
        convert(tmp_path)


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "head_qa"
    expected = {
        (r.id, r.input, r.output, r.split)
        for r in head_qa.generate(detect_form(head_qa.SOURCE, sample))
        if isinstance(r, Record)
    }
    for lang, folder in head_qa.LANGUAGES:
        (tmp_path / lang).mkdir()
        for (part, _), hub in zip(head_qa.SPLITS, ("train", "validation", "test"), strict=True):
            path = next(sample.rglob(f"{part}_{folder}.json"), None)
            if path is None:
                continue
            exams = json.loads(path.read_text(encoding="utf-8"))["exams"]
            rows = [
                {
                    "name": name,
                    "year": str(exam.get("year")),
                    "category": exam.get("category"),
                    "qid": int(q["qid"]),
                    "qtext": q.get("qtext"),
                    "ra": int(q["ra"]) if str(q.get("ra")).isdigit() else -1,
                    "image": q.get("image") or "",
                    "answers": [{"aid": int(a["aid"]), "atext": a["atext"]} for a in q["answers"]],
                }
                for name, exam in exams.items()
                for q in exam["data"]
            ]
            pq.write_table(pa.Table.from_pylist(rows), tmp_path / lang / f"{hub}-00000-of-00001.parquet")
    files = detect_form(head_qa.SOURCE, tmp_path)
    assert files.form.name == "hf"
    got = {(r.id, r.input, r.output, r.split) for r in head_qa.generate(files) if isinstance(r, Record)}
    assert got == expected
