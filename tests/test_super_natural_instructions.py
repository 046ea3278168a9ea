"""Super-NaturalInstructions specifics: the reviewed list kept as data agrees with itself, the catalogue and the
category mapping; each task file present is converted, reported or skipped by its own Domains and that list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLES, SHARED_CORPORA

from converters import super_natural_instructions as sni
from pipeline import catalogue
from pipeline.model import CATEGORIES, DOMAINS, MissingRawFiles, Record, Rejection, detect_form

SAMPLE = SAMPLES / "super_natural_instructions"
COLLEGE = "task690_mmmlu_answer_generation_college_medicine.json"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(sni.generate(detect_form(sni.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def write_task(folder: Path, name: str, domains: list[str], instances: list[dict], last: bool = False) -> None:
    head = {"Categories": ["Question Answering -> Multiple Choice Question Answering"], "Domains": domains}
    body = {"Definition": ["Answer with the letter."], "Instances": instances}
    task = body | head if last else head | body
    (folder / "tasks").mkdir(exist_ok=True)
    (folder / "tasks" / name).write_text(json.dumps(task, indent=4), encoding="utf-8")


def test_reviewed_list_is_consistent_and_replaces_the_catalogue_placeholder() -> None:
    mapping = catalogue.sni_categories()
    assert set(mapping.values()) - {""} <= set(CATEGORIES)
    for name, row in catalogue.sni_tasks().items():
        assert row.task_id == sni.task_id_of(name) and row.decision in ("allow", "deny") and row.reason, row
        assert row.sni_category in mapping and row.sni_domains and row.verified, row
        if row.allowed:
            assert row.category == mapping[row.sni_category] and row.domain in DOMAINS, row
            assert sni.is_medical(list(row.sni_domains)), row
    listed = {t.task_id for t in catalogue.tasks_of("super_natural_instructions")}
    assert listed == {r.task_id for r in catalogue.sni_tasks().values() if r.allowed} == {t.id for t in sni.TASKS}
    assert catalogue.SNI_PLACEHOLDER not in catalogue.tasks()


def test_each_task_file_is_converted_reported_or_skipped() -> None:
    records, rejections = run(SAMPLE)
    by_file = {(r.raw_file.split("/")[-1], r.reason) for r in rejections if r.locator in ("task file", "Domains")}
    assert by_file == {
        ("task1448_disease_entity_extraction_ncbi_dataset.json", "SNI task denied in the reviewed list"),
        ("task1732_medication_timing_classification.json", "SNI task not in the reviewed list"),
    }
    assert not any("task1146" in i.raw_file for i in [*records, *rejections])  # not medical: outside the source
    assert {(r.locator, r.reason) for r in rejections if r.task_id} == {
        ("instance 4 (id task690-5a0c3e7f9b1d4a26b8c0e2f4a6d8b1c9)", "output is not a non-empty list"),
        ("instance 5 (id task690-3f2a9c1e0b7d4e58a6c2d9f1b0e4a7c3)", "repeats the instance id of an earlier instance"),
        ("instance 3", "empty input"),
    }
    first = records[0]
    assert first.key == "task690-3f2a9c1e0b7d4e58a6c2d9f1b0e4a7c3" and first.output == "A" and first.split is None
    assert first.input.endswith("(A)Vitamin A (B)Vitamin C (C)Vitamin D (D)Vitamin K")


def test_instances_without_ids_fields_after_instances_and_several_outputs(tmp_path: Path) -> None:
    instances = [{"input": " Q1?\n(A)a (B)b (C)c (D)d ", "output": ["B", "C"]}, {"input": "Q2?", "output": ["A"]}]
    write_task(tmp_path, COLLEGE, ["Medicine"], instances, last=True)
    records, rejections = run(tmp_path)
    assert not rejections and [(r.input, r.output) for r in records] == [
        ("Q1?\n(A)a (B)b (C)c (D)d", "B"),
        ("Q2?", "A"),
    ]
    assert records[0].key.startswith("h") and records == run(tmp_path)[0]
    assert [f.patterns[0] for f in detect_form(sni.SOURCE, tmp_path).missing] == [
        "tasks/task730_mmmlu_answer_generation_professional_medicine.json"
    ]


def test_an_allowed_file_is_still_checked_against_its_domains_and_categories(tmp_path: Path) -> None:
    write_task(tmp_path, COLLEGE, ["Biology"], [{"input": "Q?", "output": ["A"]}])
    records, rejections = run(tmp_path)
    assert not records and [(r.reason, r.value) for r in rejections] == [
        ("SNI task outside the Healthcare and Medicine domains", "Biology")
    ]
    task = json.loads((tmp_path / "tasks" / COLLEGE).read_text()) | {"Domains": ["Medicine"], "Categories": ["Misc."]}
    (tmp_path / "tasks" / COLLEGE).write_text(json.dumps(task))
    assert run(tmp_path)[1][0].reason == "SNI Categories do not include the reviewed category Question Answering"


def test_broken_json_fails_an_allowed_task_and_quarantines_another(tmp_path: Path) -> None:
    write_task(tmp_path, COLLEGE, ["Medicine"], [{"input": "Q?", "output": ["A"]}])
    (tmp_path / "tasks" / "task1448_disease_entity_extraction_ncbi_dataset.json").write_text('{"Domains": [', "utf-8")
    assert run(tmp_path)[1][0].reason == "task file is not valid JSON"
    path = tmp_path / "tasks" / COLLEGE
    path.write_text(path.read_text().replace('"A"', '"A",,'), encoding="utf-8")
    with pytest.raises(ValueError, match=COLLEGE):
        run(tmp_path)


@pytest.mark.skipif(not (SHARED_CORPORA / "super_natural_instructions").is_dir(), reason="no real sample")
def test_real_sample_holds_only_a_denied_task(tmp_path: Path) -> None:
    real = SHARED_CORPORA / "super_natural_instructions"
    with pytest.raises(MissingRawFiles, match="at least one task file allowed"):
        detect_form(sni.SOURCE, real)
    shutil.copytree(real / "tasks", tmp_path / "tasks")
    shutil.copy(SAMPLE / "tasks" / COLLEGE, tmp_path / "tasks" / COLLEGE)
    _, rejections = run(tmp_path)
    assert ("task file", "SNI task denied in the reviewed list") in {(r.locator, r.reason) for r in rejections}
