"""Incremental rebuilds: a source is converted again exactly when its raw content, code, seeds or config
changed, or its previous output is damaged; otherwise it is reused, and the report says which and why."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import ROOT, SAMPLES

from pipeline import build, fingerprint
from pipeline.build import SourceReport, build_all, build_source
from pipeline.quality import QualityConfig
from pipeline.registry import converters, from_module
from pipeline.seeds import SEEDS_DIR

#: Four small sources of four raw formats (JSON, JSON lines, zipped JSON, gzipped CSV); ddxplus's
#: decontamination removes rows, so reuse must keep a decontaminated folder as it is too.
SOURCES = ("ddxplus", "mednli", "mimic_iv", "pubmedqa")
UNCHANGED = "unchanged: raw, code, seeds, config"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    for source_id in SOURCES:
        shutil.copytree(SAMPLES / source_id, root / source_id)  # copy2: the samples' own mtimes
    return root


def build_samples(raw: Path, out: Path, **options) -> dict[str, SourceReport]:
    """build --all in this process (so a test can see what it calls), the sources present only."""
    reports = build_all(raw, out, workers=1, **options)
    return {r.source_id: r for r in reports if r.status != "missing"}


def statuses(reports: dict[str, SourceReport]) -> dict[str, str]:
    return {s: r.status for s, r in reports.items()}


def owned(out: Path, source_id: str) -> list[str]:
    """The files one source's build wrote: its shards, task files, quarantine file and manifest."""
    manifest = json.loads((out / "sources" / f"{source_id}.json").read_text(encoding="utf-8"))
    files = [f"sources/{source_id}.json", f"quarantine/{source_id}.jsonl"]
    for task_id in manifest["tasks"]:
        files += [p.relative_to(out).as_posix() for p in sorted((out / "data" / task_id).glob("*.parquet"))]
        if (out / "tasks" / f"{task_id}.json").is_file():
            files.append(f"tasks/{task_id}.json")
    return files


def identity(out: Path, source_id: str) -> dict[str, tuple[str, int]]:
    """Content and inode of each file a source owns: a build writes new files and renames them in, so
    an unchanged inode means the file was not rewritten, not merely rewritten with the same bytes."""
    found = {}
    for rel in owned(out, source_id):
        path = out / rel
        found[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_ino)
    return found


def everything(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def without_state(files: dict[str, str]) -> dict[str, str]:
    """The output without the build's own bookkeeping (.build-state: raw-hash caches keyed by mtime)."""
    return {rel: digest for rel, digest in files.items() if not rel.startswith(fingerprint.STATE_DIR + "/")}


def texts(out: Path, task_id: str) -> list[str]:
    rows = []
    for shard in sorted((out / "data" / task_id).glob("*.parquet")):
        table = pq.read_table(shard, columns=["input", "output"])
        rows += table.column("input").to_pylist() + table.column("output").to_pylist()
    return rows


def test_nothing_changed_reuses_every_source_and_converts_nothing(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    first = build_samples(raw, out)
    assert statuses(first) == dict.fromkeys(SOURCES, "built")
    assert {r.reason for r in first.values()} == {"first build"}
    before = everything(out)
    files = {s: identity(out, s) for s in SOURCES}

    def no_conversion(*args: object, **kwargs: object) -> SourceReport:
        raise AssertionError("a source with nothing changed was converted again")

    monkeypatch.setattr(build, "_convert", no_conversion)
    again = build_samples(raw, out)
    assert statuses(again) == dict.fromkeys(SOURCES, "reused")
    assert {r.reason for r in again.values()} == {UNCHANGED}
    # The report of a reused source is its previous one (counts after decontamination included).
    for source_id in SOURCES:
        manifest = json.loads((out / "sources" / f"{source_id}.json").read_text(encoding="utf-8"))
        counted = sum(s["instances"] for t in manifest["tasks"].values() for s in t["splits"].values())
        assert again[source_id].total == counted > 0
    assert everything(out) == before
    assert {s: identity(out, s) for s in SOURCES} == files


def test_new_raw_content_rebuilds_exactly_that_source_and_names_the_file(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_samples(raw, out)
    others = {s: identity(out, s) for s in SOURCES if s != "mednli"}
    train = raw / "mednli" / "mli_train_v1.jsonl"
    assert "afebrile" in train.read_text(encoding="utf-8")
    train.write_text(train.read_text(encoding="utf-8").replace("afebrile", "apyrexial"), encoding="utf-8")

    reports = build_samples(raw, out)
    assert statuses(reports) == {s: "built" if s == "mednli" else "reused" for s in SOURCES}
    assert reports["mednli"].reason == "raw: mli_train_v1.jsonl changed"
    assert {s: identity(out, s) for s in others} == others
    written = [t for t in texts(out, "mednli_entailment_generative") if "apyrexial" in t]
    assert written and not [t for t in texts(out, "mednli_entailment_generative") if "afebrile" in t]


def test_a_file_touched_without_new_content_is_not_rebuilt(raw: Path, tmp_path: Path) -> None:
    """The fingerprint is the content: a `touch`, or a fresh copy of the same release, rebuilds nothing.
    The new mtime makes the raw-hash cache miss, so the file is hashed again and found equal."""
    out = tmp_path / "out"
    build_samples(raw, out)
    before = everything(out)
    later = time.time_ns() - 10 * 10**9
    for path in (raw / "pubmedqa").iterdir():
        path.write_bytes(path.read_bytes())  # a fresh copy: same bytes, new mtime
    os.utime(raw / "mednli" / "mli_test_v1.jsonl", ns=(later, later))  # a bare touch

    reports = build_samples(raw, out)
    assert statuses(reports) == dict.fromkeys(SOURCES, "reused")
    cached = json.loads(fingerprint.raw_cache(out, "mednli").read_text(encoding="utf-8"))
    assert cached[str((raw / "mednli" / "mli_test_v1.jsonl").resolve())][1] == later  # hashed again, recorded
    assert without_state(everything(out)) == without_state(before)


def test_a_rewrite_that_keeps_size_and_mtime_is_seen_while_the_file_is_fresh(raw: Path, tmp_path: Path) -> None:
    """A file modified within RACY_SECONDS of being hashed is not cached under its (size, mtime), since a
    second write in the same timestamp tick would keep both: git's "racily clean" rule. A future mtime
    keeps the file in that window however long the build takes."""
    out = tmp_path / "out"
    path = raw / "mednli" / "mli_dev_v1.jsonl"
    fresh = time.time_ns() + 3600 * 10**9
    os.utime(path, ns=(fresh, fresh))
    build_samples(raw, out)
    cached = json.loads(fingerprint.raw_cache(out, "mednli").read_text(encoding="utf-8"))
    assert str(path.resolve()) not in cached and cached  # the other files of the source are cached

    text = path.read_text(encoding="utf-8")
    assert "furosemide" in text
    path.write_text(text.replace("furosemide", "frusemide."), encoding="utf-8")  # same length
    os.utime(path, ns=(fresh, fresh))
    reports = build_samples(raw, out)
    assert reports["mednli"].status == "built" and reports["mednli"].reason == "raw: mli_dev_v1.jsonl changed"


def test_a_changed_seed_rebuilds_exactly_the_source_of_that_task(raw: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    out = tmp_path / "out"
    assert set(statuses(build_samples(raw, out, seeds_dir=seeds)).values()) == {"built"}
    others = {s: identity(out, s) for s in SOURCES if s != "mednli"}
    new = "State, in one sentence, a fact about the patient that the clinical premise below makes certain."
    with open(seeds / "mednli_entailment_generative.yaml", "a", encoding="utf-8") as yaml_file:
        yaml_file.write(f"  - >-\n    {new}\n")

    reports = build_samples(raw, out, seeds_dir=seeds)
    assert statuses(reports) == {s: "built" if s == "mednli" else "reused" for s in SOURCES}
    assert reports["mednli"].reason == "seeds: mednli_entailment_generative.yaml changed"
    task = json.loads((out / "tasks" / "mednli_entailment_generative.json").read_text(encoding="utf-8"))
    assert task["Definition"][-1] == new
    assert {s: identity(out, s) for s in others} == others


def test_changed_quality_config_or_shard_size_rebuilds_and_says_which_setting(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_samples(raw, out)
    stricter = build_samples(raw, out, quality=QualityConfig(max_quarantine_rate=0.25))
    assert statuses(stricter) == dict.fromkeys(SOURCES, "built")
    assert {r.reason for r in stricter.values()} == {"config: quality.max_quarantine_rate changed"}
    assert statuses(build_samples(raw, out, quality=QualityConfig(max_quarantine_rate=0.25))) == dict.fromkeys(
        SOURCES, "reused"
    )
    smaller = build_samples(raw, out, quality=QualityConfig(max_quarantine_rate=0.25), max_shard_bytes=1 << 20)
    assert {r.reason for r in smaller.values()} == {"config: max_shard_bytes changed"}


def test_changed_converter_code_rebuilds_but_an_unrelated_module_does_not(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A third-party converter package: the converter imports a helper module; editing the helper is a
    code change of the source, editing a module it never imports is not."""
    package = tmp_path / "site" / "probe_converters"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("LABEL = 'v1'\n")
    (package / "unrelated.py").write_text("X = 1\n")
    (package / "mednli_probe.py").write_text(
        "from converters.mednli import SOURCE, TASKS\n"
        "from converters.mednli import generate as _generate\n"
        "from probe_converters import helper\n\n\n"
        "def generate(files):\n"
        "    assert helper.LABEL\n"
        "    return _generate(files)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import probe_converters.mednli_probe as probe

    # A module's hash is computed once per process (the code a process runs does not change under it); the
    # probe's modules are hashed afresh on every build, as the next process of a real user would.
    once = fingerprint._module_hash
    monkeypatch.setattr(
        fingerprint,
        "_module_hash",
        lambda name: fingerprint.file_sha256(fingerprint._origin(name)) if name.startswith("probe_") else once(name),
    )

    conv = from_module(probe)
    out = tmp_path / "out"
    assert build_source(conv, raw / "mednli", out).reason == "first build"
    (package / "unrelated.py").write_text("X = 2\n")
    assert build_source(conv, raw / "mednli", out).status == "reused"

    (package / "helper.py").write_text("LABEL = 'v2'\n")
    report = build_source(conv, raw / "mednli", out)
    assert report.status == "built" and report.reason == "code: probe_converters.helper changed"
    assert build_source(conv, raw / "mednli", out).status == "reused"


def test_a_new_pipeline_version_rebuilds_every_source(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build_samples(raw, out)
    monkeypatch.setattr(fingerprint, "__version__", "99.0.0")
    reports = build_samples(raw, out)
    assert statuses(reports) == dict.fromkeys(SOURCES, "built")
    assert {r.reason for r in reports.values()} == {"code: pipeline_version changed"}


def test_force_rebuilds_every_source(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_samples(raw, out)
    files = {s: identity(out, s) for s in SOURCES}
    reports = build_samples(raw, out, force=True)
    assert statuses(reports) == dict.fromkeys(SOURCES, "built")
    assert {r.reason for r in reports.values()} == {"forced"}
    after = {s: identity(out, s) for s in SOURCES}
    for source_id in SOURCES:  # new files (new inodes)...
        assert {rel: ino for rel, (_, ino) in after[source_id].items()} != {
            rel: ino for rel, (_, ino) in files[source_id].items()
        }
    # ... with the same content but the build time in the manifest
    assert {s: {r: h for r, (h, _) in f.items() if not r.startswith("sources/")} for s, f in after.items()} == {
        s: {r: h for r, (h, _) in f.items() if not r.startswith("sources/")} for s, f in files.items()
    }


def _truncate_first_shard(out: Path) -> str:
    shard = sorted((out / "data" / "pubmedqa_answer_generation").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:100])
    return "previous output not intact: data/pubmedqa_answer_generation/"


def _delete_task_file(out: Path) -> str:
    (out / "tasks" / "pubmedqa_multiple_choice.json").unlink()
    return "previous output not intact: tasks/pubmedqa_multiple_choice.json is missing"


def _delete_quarantine(out: Path) -> str:
    (out / "quarantine" / "pubmedqa.jsonl").unlink()
    return "previous output not intact: quarantine/pubmedqa.jsonl is missing"


def _replace_shard(out: Path) -> str:
    """A shard of another task put in its place: readable, but the wrong number of rows."""
    shards = sorted((out / "data" / "pubmedqa_answer_generation").glob("*.parquet"))
    other = sorted((out / "data" / "mednli_entailment_generative").glob("*.parquet"))[0]
    assert pq.read_metadata(other).num_rows != pq.read_metadata(shards[0]).num_rows
    shutil.copyfile(other, shards[0])
    return "previous output not intact: pubmedqa_answer_generation "


@pytest.mark.parametrize("damage", [_truncate_first_shard, _delete_task_file, _delete_quarantine, _replace_shard])
def test_damaged_output_of_an_unchanged_source_is_rebuilt(raw: Path, tmp_path: Path, damage) -> None:
    out = tmp_path / "out"
    build_samples(raw, out)
    intact = identity(out, "pubmedqa")
    expected = damage(out)
    reports = build_samples(raw, out)
    assert statuses(reports) == {s: "built" if s == "pubmedqa" else "reused" for s in SOURCES}
    assert reports["pubmedqa"].reason.startswith(expected), reports["pubmedqa"].reason
    repaired = identity(out, "pubmedqa")
    assert {r: h for r, (h, _) in repaired.items() if r != "sources/pubmedqa.json"} == {
        r: h for r, (h, _) in intact.items() if r != "sources/pubmedqa.json"
    }


def tally(built: int, reused: int, out: Path) -> str:
    """The CLI's last line for a build --all (every registered source is counted, present or not)."""
    return f"built {built} of {len(converters())} sources into {out}, reused {reused} unchanged"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_reports_reused_and_rebuilt_sources_and_force(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    common = ("build", "--all", "--raw-dir", str(raw), "--out", str(out))
    first = cli(*common, "--workers", "2")
    assert first.returncode == 0, first.stderr
    assert tally(4, 0, out) in first.stdout

    again = cli(*common)
    assert again.returncode == 0, again.stderr
    lines = {line.split(":")[0]: line for line in again.stdout.splitlines() if line.split(":")[0] in SOURCES}
    assert set(lines) == set(SOURCES)
    assert all(line.endswith(f"; reused: {UNCHANGED}") for line in lines.values()), lines
    assert tally(0, 4, out) in again.stdout

    notes = raw / "mimic_iv" / "note" / "radiology.csv.gz"
    text = gzip.decompress(notes.read_bytes()).decode("utf-8")
    assert "No acute" in text
    notes.write_bytes(gzip.compress(text.replace("No acute", "No new", 1).encode("utf-8")))
    changed = cli(*common, "--workers", "1")
    assert changed.returncode == 0, changed.stderr
    lines = {line.split(":")[0]: line for line in changed.stdout.splitlines() if line.split(":")[0] in SOURCES}
    assert lines["mimic_iv"].endswith("; built: raw: note/radiology.csv.gz changed"), lines["mimic_iv"]
    assert all(lines[s].endswith(f"; reused: {UNCHANGED}") for s in SOURCES if s != "mimic_iv")
    assert tally(1, 3, out) in changed.stdout

    one = cli("build", "--source", "pubmedqa", "--raw-dir", str(raw / "pubmedqa"), "--out", str(out))
    assert one.returncode == 0 and one.stdout.strip().endswith(f"; reused: {UNCHANGED}"), one.stdout + one.stderr
    forced = cli(*common, "--force", "--workers", "1")
    assert forced.returncode == 0, forced.stderr
    assert tally(4, 0, out) in forced.stdout and forced.stdout.count("; built: forced") == 4

    wrong = cli("build", "--source", "pubmedqa", "--dask-address", "tcp://127.0.0.1:1", "--out", str(out))
    assert wrong.returncode == 2 and "--dask-address needs --all" in wrong.stderr
