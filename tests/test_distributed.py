"""The same build whichever way it runs: one process, a local process pool, or a real Dask cluster (a
`distributed.LocalCluster` of two worker processes on loopback) give the same files with the same bytes,
apart from the timestamps the build records."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES
from distributed import Client, LocalCluster, get_task_stream

from pipeline import build, fingerprint
from pipeline.build import ClusterError, SourceReport, build_all
from pipeline.registry import converters

#: Six small sources of several raw formats; ddxplus and biolord have training rows that decontamination
#: removes, so the compared output includes a decontaminated folder and its report.
SOURCES = ("biolord", "ddxplus", "head_qa", "mednli", "mimic_iv", "pubmedqa")

#: The fields that record when something ran (and how long it took), by file; everything else must match.
TIMESTAMPS = {
    "sources/": ("built_at",),  # each source's manifest: when it was converted
    "reports/decontamination.json": ("finished_at", "seconds"),
    "reports/decontamination.jsonl": ("source_built_at",),  # the removed row's source build, by its built_at
}
#: A digest of every manifest's built_at and fingerprint: derived from the timestamps only.
DERIVED_FROM_TIMESTAMPS = (f"{fingerprint.STATE_DIR}/decontaminated.json",)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("raw")
    for source_id in SOURCES:
        shutil.copytree(SAMPLES / source_id, root / source_id)
    return root


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def single(raw: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SourceReport]]:
    out = tmp_path_factory.mktemp("single") / "out"
    return out, build_all(raw, out, workers=1)


def without_timestamps(rel: str, data: bytes) -> bytes:
    """The file with its timestamp fields removed (JSON and JSON lines), its bytes otherwise."""
    fields = TIMESTAMPS.get("sources/" if rel.startswith("sources/") else rel, ())
    if not fields:
        return data
    if rel.endswith(".jsonl"):
        values = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        return "\n".join(json.dumps({k: v for k, v in value.items() if k not in fields}) for value in values).encode()
    value = json.loads(data)
    assert set(fields) <= set(value), f"{rel} lacks a timestamp field of {fields}"
    return json.dumps({k: v for k, v in value.items() if k not in fields}).encode()


def contents(out: Path) -> dict[str, bytes]:
    return {
        rel: without_timestamps(rel, path.read_bytes())
        for path in sorted(out.rglob("*"))
        if path.is_file() and (rel := path.relative_to(out).as_posix()) not in DERIVED_FROM_TIMESTAMPS
    }


def described(reports: list[SourceReport]) -> list[dict]:
    return [{k: v for k, v in asdict(r).items() if k != "seconds"} for r in reports]


def assert_same_output(expected: Path, actual: Path) -> None:
    want, got = contents(expected), contents(actual)
    assert sorted(got) == sorted(want)
    differing = sorted(rel for rel in want if want[rel] != got[rel])
    assert differing == [], f"differ beyond timestamps: {differing}"


def test_single_process_build_is_the_reference(single: tuple[Path, list[SourceReport]]) -> None:
    """What the other modes are compared with covers every kind of output file, and decontamination."""
    out, reports = single
    assert sorted(r.source_id for r in reports if r.status == "built") == sorted(SOURCES)
    files = contents(out)
    for kind in ("data/", "tasks/", "quarantine/", "sources/", "README.md", "reports/decontamination.json"):
        assert any(rel.startswith(kind) for rel in files), kind
    removed = (out / "reports" / "decontamination.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["source_id"] for line in removed} >= {"biolord", "ddxplus"}


def test_process_pool_build_equals_single_process_build(
    raw: Path, tmp_path: Path, single: tuple[Path, list[SourceReport]]
) -> None:
    out = tmp_path / "out"
    reports = build_all(raw, out, workers=2)
    assert described(reports) == described(single[1])
    assert_same_output(single[0], out)


def test_dask_cluster_build_equals_single_process_build(
    raw: Path, tmp_path: Path, cluster: LocalCluster, single: tuple[Path, list[SourceReport]]
) -> None:
    out = tmp_path / "out"
    with Client(cluster.scheduler_address) as watcher, get_task_stream(watcher) as stream:
        reports = build_all(raw, out, dask_address=cluster.scheduler_address)
    assert described(reports) == described(single[1])
    assert_same_output(single[0], out)
    # The sources were converted by the cluster's worker processes, one task each.
    ran = {task["key"].rsplit("-", 1)[0]: task["worker"] for task in stream.data if task["key"].startswith("build-")}
    assert {f"build-{s}" for s in SOURCES} <= set(ran)
    assert set(ran.values()) <= set(cluster.scheduler_info["workers"])

    # Reuse works across modes: a rebuild on the cluster of an unchanged folder converts nothing.
    again = build_all(raw, out, dask_address=cluster.scheduler_address)
    assert {r.source_id: r.status for r in again if r.status != "missing"} == dict.fromkeys(SOURCES, "reused")


def test_cli_dask_address_builds_on_the_cluster(
    raw: Path, tmp_path: Path, cluster: LocalCluster, single: tuple[Path, list[SourceReport]]
) -> None:
    out = tmp_path / "out"
    args = ["build", "--all", "--raw-dir", str(raw), "--out", str(out), "--dask-address", cluster.scheduler_address]
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"built {len(SOURCES)} of {len(converters())} sources into {out}, reused 0 unchanged" in result.stdout
    assert_same_output(single[0], out)


def test_cli_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    args = ["build", "--all", "--raw-dir", str(tmp_path), "--out", str(tmp_path / "out")]
    for address, says in (("tcp://127.0.0.1:9", "Timed out trying to connect"), ("nonsense://x", "unknown address")):
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", *args, "--dask-address", address],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
        )
        assert result.returncode == 1
        assert f"error: cannot use the Dask scheduler at {address}: " in result.stderr and says in result.stderr
        assert "Traceback" not in result.stderr


def test_sources_are_scheduled_largest_first_and_reported_in_id_order(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Longest-processing-time-first: the job queue starts with the biggest raw folder, so a large corpus
    never starts last and runs alone while the other workers idle. The report order stays the ids'."""
    started: list[str] = []
    real = build.build_one

    def recording(source_id: str, *args, **kwargs) -> SourceReport:
        started.append(source_id)
        return real(source_id, *args, **kwargs)

    monkeypatch.setattr(build, "build_one", recording)
    reports = build.build_sources(raw, tmp_path / "out", workers=1)
    sizes = {s: build.raw_bytes(raw / s) for s in SOURCES}
    assert len(set(sizes.values())) == len(SOURCES) and all(sizes.values())
    assert started[: len(SOURCES)] == sorted(SOURCES, key=lambda s: -sizes[s])
    assert all(build.raw_bytes(raw / s) == 0 for s in started[len(SOURCES) :])  # then the absent ones
    assert [r.source_id for r in reports] == sorted(converters())


# --- a cluster that cannot build as this process would ------------------------------------------------------------


@contextmanager
def dask_processes(tmp_path: Path, scheduler: tuple[str, Path], worker: tuple[str, Path]) -> Iterator[str]:
    """A scheduler and one worker started as separate processes by Dask's own command-line entry points, each
    as (Python run first, working directory): what a cluster someone else set up looks like."""
    scheduler_file = tmp_path / "scheduler.json"
    started = []

    def launch(setup: str, cwd: Path, module: str, argv: list[str]) -> None:
        code = f"import sys\n{setup}\nfrom {module} import main\nsys.argv = {argv!r}\nmain()"
        log = open(tmp_path / f"{argv[0]}.log", "w")  # noqa: SIM115 - closed with the process below
        started.append((subprocess.Popen([sys.executable, "-c", code], cwd=cwd, stdout=log, stderr=log), log))

    common = ["--scheduler-file", str(scheduler_file)]
    launch(
        *scheduler,
        "distributed.cli.dask_scheduler",
        ["dask-scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", *common],
    )
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        launch(
            *worker,
            "distributed.cli.dask_worker",
            ["dask-worker", "--no-nanny", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1", *common],
        )
        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(1, timeout=60)
            yield client.scheduler.address
    finally:
        for process, log in reversed(started):
            process.terminate()
            process.wait(timeout=30)
            log.close()


#: Run first in a process that must not find the pipeline: an import of it then fails, as where it is not installed.
NOT_INSTALLED = "sys.modules['pipeline'] = None"


def test_a_scheduler_without_the_pipeline_is_a_clear_error(raw: Path, tmp_path: Path) -> None:
    with dask_processes(tmp_path, (NOT_INSTALLED, tmp_path), ("", ROOT)) as address:
        says = rf"the Dask scheduler at {address} cannot import the pipeline .*pip install -e \."
        with pytest.raises(ClusterError, match=says):
            build_all(raw, tmp_path / "out", dask_address=address)
    assert not (tmp_path / "out" / "sources").exists()


def test_a_worker_without_the_pipeline_is_a_clear_error_not_a_hang(raw: Path, tmp_path: Path) -> None:
    with (
        dask_processes(tmp_path, ("", ROOT), (NOT_INSTALLED, tmp_path)) as address,
        pytest.raises(ClusterError, match=r"Dask worker tcp://127\.0\.0\.1:\d+ cannot import the pipeline"),
    ):
        build_all(raw, tmp_path / "out", dask_address=address)
    assert not (tmp_path / "out" / "sources").exists()


def test_a_worker_running_other_code_is_refused(raw: Path, tmp_path: Path) -> None:
    """A worker started from another checkout (or before an update): its output would differ from a local
    build's, so the build refuses the cluster and names the modules that differ."""
    other = tmp_path / "other-checkout"
    for folder in ("pipeline", "converters", "schemas"):
        shutil.copytree(ROOT / folder, other / folder, ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "pipeline" / "splits.py", "a", encoding="utf-8") as module:
        module.write("\n# a later edit\n")
    says = r"runs other pipeline code than this process \(different: pipeline\.splits\)"
    with dask_processes(tmp_path, ("", ROOT), ("", other)) as address, pytest.raises(ClusterError, match=says):
        build_all(raw, tmp_path / "out", dask_address=address)
    assert not (tmp_path / "out" / "sources").exists()
