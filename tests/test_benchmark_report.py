"""The benchmark's report (benchmarks/run.py): the fits that show linear growth, the projection to MedS-Ins's
size and the tables, computed from measured figures; re-printable from the JSON without measuring again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

STAGES = dict.fromkeys(run.STAGES, 1.0)


def scale(factor: float) -> dict:
    """Figures of one scale: everything proportional to `factor`, plus 5 s of fixed cost for the whole build."""
    piece = {"peak_rss_mb": 100 * factor, "peak_tree_rss_mb": 150 * factor, "load_before": 0.5}
    return {
        "scale": factor,
        "corpora": {"mimic_iv": {"records": int(1e6 * factor), "raw_bytes": int(2e9 * factor)}},
        "per_source": {},
        "all": piece
        | {
            "seconds": 5 + 2e-4 * 3e6 * factor,
            "instances": int(3e6 * factor),
            "build_sources_seconds": 4 + 2e-4 * 3e6 * factor,
            "finish_seconds": 1.0,
            "decontaminated": 0,
            "failed": {},
        },
        "naive": {
            "mimic_iv": {
                "ours_extract": piece | {"seconds": 10 * factor, "records": int(2e6 * factor)},
                "ours_build": piece | {"seconds": 40 * factor, "instances": int(2e6 * factor), "stages": STAGES},
                "lean": piece | {"seconds": 12 * factor, "records": int(8e5 * factor)},
            }
        },
    }


@pytest.fixture
def results() -> dict:
    found = {"workers": 2, "scales": [scale(0.1), scale(0.3), scale(1.0)]}
    run.growth(found)
    return found


def test_fits_recover_the_slopes_and_project_the_target(results: dict) -> None:
    whole = results["all_per_instance"]
    assert whole["slope"] == pytest.approx(2e-4) and whole["intercept"] == pytest.approx(5.0)
    assert whole["r2"] == pytest.approx(1.0)
    assert whole["seconds_for_target"] == pytest.approx(5 + 2e-4 * run.TARGET_INSTANCES)
    # Naive pieces are fitted against the raw rows they read: 40 s per 800,000 rows at scale 1.
    assert results["fits"]["naive mimic_iv ours_build"]["slope"] == pytest.approx(40 / 8e5)
    assert results["rss"]["naive mimic_iv lean"] == [pytest.approx(10), pytest.approx(30), pytest.approx(100)]


def test_tables_show_the_stages_the_ratio_and_the_projection(results: dict) -> None:
    text = run.markdown(results)
    assert "Stages of our `build` of that input" in text
    assert "| mimic_iv | " + " | ".join(["1.0"] * len(run.STAGES)) + " | 40.0 | 4.0x |" in text  # at scale 1
    assert f"{run.TARGET_INSTANCES:,} instances (MedS-Ins) -> **{(5 + 1000) / 60:,.1f} min**" in text
    assert "| naive mimic_iv ours_build | 50.0 |" in text  # us per raw row
    # The naive table divides by the instances each script made: 10 s / 2M and 40 s / 2M at scale 1.
    assert "| mimic_iv | ours_extract | 10.00 | 80,000 | 2000000 | 5.0 | 100 | 1.00 |" in text
    assert "| mimic_iv | ours_build | 40.00 | 20,000 | 2000000 | 20.0 | 100 | 4.00 |" in text


def test_tables_are_printed_again_from_the_json(results: dict, tmp_path: Path) -> None:
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps({k: v for k, v in results.items() if k in ("workers", "scales")}))
    out = tmp_path / "tables.md"
    command = [sys.executable, str(BENCH / "run.py"), "--from-json", str(saved), "--markdown", str(out)]
    printed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert out.read_text() == run.markdown(results)
    assert printed == out.read_text() + "\n"


def test_the_build_piece_times_every_stage_of_a_real_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """piece_build wraps the build's stage functions by name: a renamed function must fail here, not in an
    hour-long benchmark run. On the bundled MIMIC-IV sample every record passes through the timed stages, in
    this process even where a build of a corpus this large would convert MIMIC-IV's parts in a pool."""
    from pipeline import build

    monkeypatch.setattr(build, "PARTS_POOL_MIN_BYTES", 0)
    figures = run.piece_build(
        Path(__file__).resolve().parent.parent / "data" / "samples" / "mimic_iv", "mimic_iv", tmp_path
    )
    assert figures["status"] == "built" and figures["instances"] > 0
    assert set(figures["stages"]) == set(run.STAGES)
    for stage in ("extract", "validate", "duplicates", "sketch", "schema", "split", "parquet", "task files"):
        assert figures["stages"][stage] > 0, stage


def test_the_whole_build_piece_says_which_process_peaks(tmp_path: Path) -> None:
    """The largest process of a full-scale run is the figure to act on: the piece names the peak of the conversion
    workers and of the main process (which holds decontamination's test index) apart."""
    samples = Path(__file__).resolve().parent.parent / "data" / "samples"
    out = tmp_path / "out"
    out.mkdir()
    figures = run.piece_all(samples, out, 2, ["mimic_iv", "pubmedqa"])
    assert figures["statuses"]["mimic_iv"] == figures["statuses"]["pubmedqa"] == "built"
    assert figures["instances"] > 0 and not figures["failed"]
    roles = figures["peak_rss_mb_by_role"]
    assert {"conversion workers", "main process"} <= set(roles) and all(mb > 10 for mb in roles.values())
    scale_result = {
        "scale": 1.0,
        "corpora": {},
        "per_source": {},
        "naive": {},
        "all": figures | {"peak_rss_mb": 1.0, "peak_tree_rss_mb": 1.0, "decontaminated": 0, "failed": {}},
    }
    text = run.markdown({"workers": 2, "scales": [scale_result]})
    assert f"Peak RSS by process: conversion workers {roles['conversion workers']:,.0f} MB" in text
