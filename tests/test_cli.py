"""The command line as a user runs it: `python -m pipeline ...` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SAMPLES

from pipeline import catalogue
from pipeline.registry import converters


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True)


def test_list_shows_every_catalogue_source_with_status() -> None:
    result = cli("list", "--raw-dir", str(SAMPLES))
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(catalogue.sources()) <= set(lines)
    assert len(catalogue.sources()) == 58
    assert lines["pubmedqa"][1:5] == ["open", "5", "yes", "found"]
    assert lines["mimic_iv"][1:4] == ["credentialed", "20", "yes"]
    for source_id in catalogue.sources():
        has = "yes" if source_id in converters() else "no"
        assert lines[source_id][3] == has, lines[source_id]
        assert has == "yes" or lines[source_id][4] == "-"


def test_list_tasks_shows_every_catalogue_task() -> None:
    result = cli("list", "--tasks")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()[1:]}
    assert set(catalogue.tasks()) <= listed
    row = next(line for line in result.stdout.splitlines() if line.startswith("mimic_iv_ct_chest_summarization "))
    assert "Text Summarization" in row and row.rstrip().endswith("yes")


def test_build_one_source_then_validate(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("build", "--source", "pubmedqa", "--raw-dir", str(SAMPLES / "pubmedqa"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "pubmedqa:" in result.stdout and "instances in 5 tasks" in result.stdout
    checked = cli("validate", str(out))
    assert checked.returncode == 0 and checked.stdout.strip().endswith("OK"), checked.stdout


def test_build_with_missing_raw_files_fails_clearly(tmp_path: Path) -> None:
    result = cli("build", "--source", "mimic_iv", "--raw-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    assert "note/radiology.csv.gz" in result.stderr and "credentialed" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_all_reports_sources_without_raw_files(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    (root / "meqsum").mkdir(parents=True)
    (root / "meqsum" / "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx").write_bytes(
        (SAMPLES / "meqsum" / "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx").read_bytes()
    )
    result = cli("build", "--all", "--raw-dir", str(root), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "meqsum: 10 instances" in result.stdout
    assert "pubmedqa: missing" in result.stdout and "built 1 of" in result.stdout


def test_unknown_source_is_an_error() -> None:
    result = cli("build", "--source", "no_such_corpus")
    assert result.returncode == 2 and "no converter for source 'no_such_corpus'" in result.stderr


def test_validate_reports_task_instance_and_path(tmp_path: Path) -> None:
    bad = {
        "Categories": ["Question Answering"],
        "Domains": ["Exam"],
        "Definition": [],
        "Input_language": ["English"],
        "Output_language": ["English"],
        "Instruction_language": ["English"],
        "Source": "x",
        "URL": "https://example.org",
        "License": "MIT",
        "Contributors": ["me"],
        "Task": "demo_task",
        "Instances": [
            {"id": "demo_task:1", "input": "q", "output": ["a"]},
            {"id": "demo_task:2", "input": "q", "output": [""]},
        ],
    }
    path = tmp_path / "demo_task.json"
    path.write_text(json.dumps(bad))
    result = cli("validate", str(path))
    assert result.returncode == 1
    assert f"{path}: task demo_task at $.Definition:" in result.stdout
    assert f"{path}: task demo_task instance demo_task:2 at $.Instances[1].output[0]:" in result.stdout
    assert "demo_task:1 " not in result.stdout


def test_stats_counts_every_task_of_a_build(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("build", "--all", "--raw-dir", str(SAMPLES), "--out", str(out)).returncode == 0
    result = cli("stats", str(out))
    assert result.returncode == 0, result.stderr
    stats = json.loads((out / "stats.json").read_text())
    manifests = [json.loads(p.read_text()) for p in (out / "sources").glob("*.json")]
    assert {t["task"] for t in stats["tasks"]} == {t for m in manifests for t in m["tasks"]}
    # A task left without instances lost them all to decontamination (e.g. the sample's discharge notes
    # are also MIMIC-IV-ICD test notes, as in the real corpora), and the report says so.
    removed = json.loads((out / "reports" / "decontamination.json").read_text())["removed"]
    assert all(t["instances"] > 0 or t["task"] in removed for t in stats["tasks"])
    assert sum(g["instances"] for g in stats["totals"]["domain"].values()) == stats["instances"]
    assert "| pubmedqa_multiple_choice | pubmedqa | Question Answering | Academic Papers |" in result.stdout


def test_a_task_refused_by_the_quality_stage_fails_the_build_clearly(tmp_path: Path) -> None:
    raw = tmp_path / "meqsum"
    raw.mkdir()
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "QS"
    book.active.append(("File", "CHQ", "Summary"))
    for i in range(4):
        book.active.append(
            (f"{i}.txt", f"Is drug {i} safe in pregnancy for a woman with asthma?", "nan" if i else "Yes.")
        )
    book.save(raw / "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx")
    result = cli("build", "--source", "meqsum", "--raw-dir", str(raw), "--out", str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "meqsum_text_summarization: 3 of 4 records (75%) quarantined by the quality stage" in result.stderr
    assert not (tmp_path / "out" / "data").exists()
    relaxed = cli(
        "build",
        "--source",
        "meqsum",
        "--raw-dir",
        str(raw),
        "--out",
        str(tmp_path / "out"),
        "--max-quarantine-rate",
        "0.9",
    )
    assert relaxed.returncode == 0, relaxed.stderr
