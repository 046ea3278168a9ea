"""A source whose raw files feed disjoint tasks (a converter's PARTS, e.g. MIMIC-IV's radiology and discharge
notes) converts each file in its own process: the output must be the bytes a build in one process writes,
and a declaration that does not hold must stop the build instead of splitting a task's duplicate checks."""

from __future__ import annotations

import json
import os
import shutil
import time
import types
from dataclasses import replace
from pathlib import Path

import fake_converter
import pytest
from conftest import SAMPLES

from pipeline import pool, registry
from pipeline.build import build_source, parts_of
from pipeline.model import RawFile, Record, detect_form
from pipeline.quality import QualityConfig, QualityError

MIMIC = SAMPLES / "mimic_iv"
DISCHARGE = "mimic_iv_discharge_instruction_completion"


def contents(out: Path) -> dict[str, object]:
    """Every file's bytes, the manifest's content without its build time."""
    found: dict[str, object] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        if name == "sources/mimic_iv.json":
            found[name] = json.loads(path.read_text()) | {"built_at": None}
        else:
            found[name] = path.read_bytes()
    return found


def build(conv: registry.Converter, raw: Path, out: Path, **options) -> object:
    return build_source(conv, raw, out, write_card=False, clean_across_sources=False, **options)


def get_mimic() -> registry.Converter:
    return registry.get("mimic_iv")


def test_parts_in_two_processes_write_the_bytes_of_one_process(tmp_path: Path) -> None:
    conv = get_mimic()
    assert [piece.name for piece in parts_of(conv, detect_form(conv.source, MIMIC))] == ["radiology", "discharge"]
    whole = build(replace(conv, parts=()), MIMIC, tmp_path / "whole")
    build(conv, MIMIC, tmp_path / "in-turn", workers=1)
    pooled = build(conv, MIMIC, tmp_path / "pooled", workers=2)
    expected = contents(tmp_path / "whole")
    assert contents(tmp_path / "in-turn") == expected
    assert contents(tmp_path / "pooled") == expected
    assert pooled.instances == whole.instances and pooled.quality == whole.quality
    assert pooled.quarantined == whole.quarantined and pooled.empty_tasks == whole.empty_tasks
    # Both parts made instances, and their quarantine lines are joined in the order the files are declared.
    assert pooled.instances[DISCHARGE] and pooled.instances["mimic_iv_modality_classification"]
    lines = (tmp_path / "pooled" / "quarantine" / "mimic_iv.jsonl").read_text().splitlines()
    files = [json.loads(line)["raw_file"] for line in lines]
    assert {"note/radiology.csv.gz", "note/discharge.csv.gz"} <= set(files)
    assert files == sorted(files, key=lambda f: "discharge" in f)
    leftovers = [p for p in (tmp_path / "pooled").rglob(".*") if p.name.startswith((".part-", ".merged-outputs"))]
    assert not leftovers  # the parts' quarantine and spill files


def test_a_source_with_one_of_its_files_builds_that_part_alone(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "note").mkdir(parents=True)
    shutil.copy(MIMIC / "note" / "discharge.csv.gz", raw / "note")
    report = build(get_mimic(), raw, tmp_path / "out", workers=2)
    assert report.instances[DISCHARGE] and DISCHARGE not in report.empty_tasks
    assert set(report.empty_tasks) == {t for t in get_mimic().task_ids if t != DISCHARGE}
    assert report.missing_files and "radiology" in report.missing_files[0]
    manifest = json.loads((tmp_path / "out" / "sources" / "mimic_iv.json").read_text())
    assert list(manifest["tasks"]) == list(get_mimic().task_ids)  # declared order, empty tasks included


def test_every_parts_quality_failures_are_reported_and_nothing_is_published(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(QualityError) as refused:
        build(get_mimic(), MIMIC, out, workers=2, quality=QualityConfig(min_instances=10**6))
    assert f"{DISCHARGE}: only" in str(refused.value)
    assert "mimic_iv_modality_classification: only" in str(refused.value)
    assert not (out / "sources" / "mimic_iv.json").exists() and not (out / "data").exists()
    assert not list(out.glob(".staging-*"))


def two_file_module(generate, parts: dict) -> types.ModuleType:
    files = (RawFile("a", ("a.txt",), required=False), RawFile("b", ("b.txt",), required=False))
    module = fake_converter.module(generate, ("two_files_a", "two_files_b"), "two_files", files)
    module.PARTS = parts
    return module


def test_a_record_outside_its_parts_tasks_stops_the_build(tmp_path: Path) -> None:
    def generate(files):
        for path in files.paths("a"):  # file a wrongly makes a task that PARTS gives to file b
            yield Record("two_files_b", "1", "what is the question", "the answer", files.relative(path), "line 1")

    conv = registry.from_module(two_file_module(generate, {"a": ("two_files_a",), "b": ("two_files_b",)}))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("x")
    (raw / "b.txt").write_text("y")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for task in conv.task_ids:
        (seeds / f"{task}.yaml").write_text("definitions:\n  - Summarize the text.\n")
    with pytest.raises(registry.ConverterError, match="from raw file 'a', whose PARTS entry does not list that task"):
        build(conv, raw, tmp_path / "out", workers=1, seeds_dir=seeds)
    assert not (tmp_path / "out" / "sources").exists()


@pytest.mark.parametrize(
    ("parts", "problem"),
    [
        ({"a": ("two_files_a",), "c": ("two_files_b",)}, "'c' is not a raw file of two_files"),
        ({"a": ("two_files_a", "two_files_b"), "b": ("two_files_b",)}, "task 'two_files_b' is in 2 parts"),
        ({"a": ("two_files_a",)}, "task 'two_files_b' is in no part"),
        ({"a": ("two_files_a", "nope"), "b": ("two_files_b",)}, "task 'nope' is not a task of the module"),
    ],
)
def test_a_wrong_parts_declaration_is_refused(parts: dict, problem: str) -> None:
    with pytest.raises(registry.ConverterError, match=f"fake_two_files: PARTS: .*{problem}"):
        registry.from_module(two_file_module(lambda files: iter(()), parts))


def test_the_pool_runs_pieces_in_other_processes_and_returns_them_in_order() -> None:
    with pool.Runner(2) as runner:
        assert runner.pool is not None
        results = list(runner.map(divmod, [(n, 3) for n in range(10)]))
        pids = set(runner.map(os.getpid, [()] * 4))
    assert results == [divmod(n, 3) for n in range(10)]
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    with pool.Runner(1) as runner:
        assert runner.pool is None and list(runner.map(os.getpid, [()])) == [os.getpid()]


def _piece(kind: str, marker: str) -> None:
    """A piece that fails at once, or one that writes `marker` after a while."""
    if kind == "fail":
        raise RuntimeError("the first piece fails")
    time.sleep(4)
    Path(marker).write_text("still ran")


def test_a_failed_piece_stops_the_pieces_still_running(tmp_path: Path) -> None:
    """A converter part that fails early must not wait for the other part's minutes of work (nor let it go on
    writing): the pool's processes are stopped when an error leaves the runner."""
    marker = tmp_path / "marker"
    with pytest.raises(RuntimeError, match="the first piece fails"), pool.Runner(2) as runner:
        list(runner.map(_piece, [("fail", ""), ("mark", str(marker))]))
    time.sleep(6)  # longer than the second piece would have taken
    assert not marker.exists()
