"""MIMIC-IV-ED benchmark specifics: train.csv/test.csv carry the benchmark split, master_dataset.csv has none and
gets the benchmark's cohort filter, the revisit task has its own variables and only non-hospitalized stays."""

from __future__ import annotations

import csv
from pathlib import Path

from converters.mimic4ed import HOSPITALIZATION, REVISIT, SOURCE, generate, value_text
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "mimic4ed"
ADDED_BY_PROCESSING = ("triage_MAP", "score_CCI", "score_CART", "score_REMS", "score_NEWS", "score_NEWS2", "score_MEWS")


def test_master_dataset_has_no_split_and_the_benchmark_cohort(tmp_path: Path) -> None:
    with (SAMPLE / "test.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if c not in ADDED_BY_PROCESSING]
    rows[0]["age"], rows[1]["triage_acuity"] = "16", ""
    with (tmp_path / "master_dataset.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    items = list(generate(detect_form(SOURCE, tmp_path)))
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection) and r.task_id is None] == [
        ("age under 18 (outside the benchmark cohort)", "stay_id=30200001 (line 2)"),
        ("no triage acuity (outside the benchmark cohort)", "stay_id=30200002 (line 3)"),
    ]
    kept = [r for r in items if isinstance(r, Record)]
    assert kept and {r.split for r in kept} == {None}
    assert {r.key for r in kept if r.task_id == REVISIT} == {"30200004"}  # 30200003 was hospitalized


def test_task_inputs_and_values() -> None:
    items = [r for r in generate(detect_form(SOURCE, SAMPLE)) if isinstance(r, Record) and r.key == "30100002"]
    by_task = {r.task_id: r for r in items}
    assert by_task[HOSPITALIZATION].input.splitlines()[:2] == ["age: 34", "gender: F"]
    assert "triage_temperature: 36.78" in by_task[HOSPITALIZATION].input.splitlines()
    revisit = by_task[REVISIT].input.splitlines()
    assert len(revisit) == 67 and "ed_los: 0 days 05:12:00" in revisit and "triage_acuity: 3" in revisit
    assert not any(line.startswith("triage_temperature") for line in revisit)
    assert (by_task[REVISIT].output, by_task[REVISIT].split) == ("True", "train")
    assert [value_text(v) for v in ("74.0", "36.72222", "", "nan", "True", "M")] == [
        "74", "36.72", "not recorded", "not recorded", "True", "M",
    ]  # fmt: skip
