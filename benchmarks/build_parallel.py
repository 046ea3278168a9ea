"""Wall time of `python -m pipeline build --all` on the bundled samples scaled up, run three ways: one process,
a local process pool, and a Dask `LocalCluster` of worker processes (what `--dask-address` fans out to). Also the
no-op incremental rebuild (nothing changed: every source reused). Prints a Markdown table and writes JSON.

    python benchmarks/build_parallel.py                    # every source, ~10,000 records each (~10 min, 2 cores)
    python benchmarks/build_parallel.py --records 100000   # the issue's size: ~100K records per source
    python benchmarks/build_parallel.py --records 2000 --sources mimic_iv pubmedqa ddxplus --json out.json

The corpus: each source's sample rewritten into N consistent copies by benchmarks/expand_sample.py, N chosen so
the converter yields about `--records` records (at least one copy); generated once under `--root` and reused.
The rewordings draw from the sample's own small vocabulary, so many copies collide as exact or near duplicates and
some sources (e.g. mimic_cxr, whose split file names the sample's studies only) quarantine most records: the
build still reads, checks and deduplicates every one of them, but the share quarantined would make the quality
stage refuse tasks, so every mode runs with `--max-quarantine-rate 1.0`. The table gives instances written
next to records read so this is visible.

Each mode is the CLI in a fresh process (imports included: what a user waits for) on a fresh output folder.
The cluster is started before its run and closed after; its start-up is reported apart, since a user points
`--dask-address` at a cluster that is already running. Outputs are compared with the single-process one
(every Parquet shard and task file, byte for byte): a mode that differs is marked in the table.

The machine's cores are shared with whatever else runs: the load average at the start is recorded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

MODES = ("single", "pool", "dask", "reuse")
_WHY = re.compile(r"; built: (.*)$", re.MULTILINE)
DONE = ".expanded"
_SUMMARY = re.compile(r"^built (\d+) of (\d+) sources into .*, reused (\d+) unchanged$", re.MULTILINE)
_SOURCE_LINE = re.compile(
    r"^(\w+): (\d+) instances in \d+ tasks .*?(?:quarantined (\d+):.*)?\[([\d.]+)s\]", re.MULTILINE
)


def expand_one(job: tuple[str, Path, int]) -> dict:
    """One source's scaled corpus (kept when a complete one of the same size is there already)."""
    from expand_sample import expand
    from make_corpora import sample_counts

    source_id, folder, records = job
    marker = folder.parent / DONE / f"{source_id}.json"  # beside the raw folders, never read by a build
    if marker.is_file():
        known = json.loads(marker.read_text(encoding="utf-8"))
        if known.get("records_wanted") == records:
            return known
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    _, per_sample = sample_counts(source_id)
    copies = max(1, math.ceil(records / max(1, per_sample)))
    expand(source_id, folder, copies)
    info = {
        "source": source_id,
        "records_wanted": records,
        "copies": copies,
        "records": copies * per_sample,
        "bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        "seconds": round(time.perf_counter() - started, 2),
    }
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(json.dumps(info) + "\n", encoding="utf-8")
    return info


def _spin(loops: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(loops):
        total += i
    return time.perf_counter() - started


def parallel_capacity(workers: int, loops: int = 30_000_000) -> float:
    """How many times the work of one process `workers` processes get done in the same time, on a pure-Python
    loop: the ceiling of any speed-up here. Virtual CPUs that share a physical core (SMT siblings, a busy host)
    give well under `workers`."""
    alone = _spin(loops)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pool.submit(_spin, 1000).result()  # started before the clock
        together = max(pool.map(_spin, [loops] * workers))
    return round(workers * alone / together, 2)


def make_corpus(root: Path, sources: list[str], records: int, jobs: int) -> list[dict]:
    root.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(expand_one, [(s, root / s, records) for s in sources]))


def run_build(corpus: Path, out: Path, extra: list[str], log: Path) -> dict:
    """`build --all` in a fresh interpreter: wall seconds and what its report says (kept in full in `log`)."""
    command = [sys.executable, "-m", "pipeline", "build", "--all", "--raw-dir", str(corpus), "--out", str(out)]
    command += ["--max-quarantine-rate", "1.0", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    summary = _SUMMARY.search(done.stdout)
    lines = _SOURCE_LINE.findall(done.stdout)
    return {
        "wall_seconds": round(wall, 2),
        "built": int(summary.group(1)),
        "reused": int(summary.group(3)),
        "instances": sum(int(n) for _, n, _, _ in lines),
        "quarantined": sum(int(q or 0) for _, _, q, _ in lines),
        "source_seconds_sum": round(sum(float(s) for *_, s in lines), 2),
        "slowest_sources": {s: float(t) for s, _, _, t in sorted(lines, key=lambda line: -float(line[3]))[:5]},
        # Why sources were converted: "first build" on a fresh folder; on the no-op rebuild anything else means
        # the tree changed under the benchmark (code or seeds edited meanwhile).
        "built_because": dict(Counter(_WHY.findall(done.stdout))),
    }


def output_digest(out: Path) -> dict[str, str]:
    """sha256 of every shard and task file: the dataset itself (manifests and reports carry timestamps)."""
    files = sorted([*out.glob("data/*/*.parquet"), *out.glob("tasks/*.json"), *out.glob("quarantine/*.jsonl")])
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="records per source (default %(default)s)")
    parser.add_argument("--sources", nargs="+", help="default: every registered source")
    parser.add_argument("--workers", type=int, default=2, help="pool processes and cluster workers (default 2)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--root", type=Path, help="work folder (default: a folder in the system temp dir, kept)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    from pipeline.registry import converters

    sources = sorted(args.sources or converters())
    root = args.root or Path(tempfile.gettempdir()) / "meds-ins-build-parallel"
    corpus = root / f"corpus-{args.records}"
    load = os.getloadavg()
    capacity = parallel_capacity(args.workers)
    started = time.perf_counter()
    expanded = make_corpus(corpus, sources, args.records, args.workers)
    generation = time.perf_counter() - started
    records = sum(e["records"] for e in expanded)
    print(
        f"corpus: {len(sources)} sources, {records:,} records, "
        f"{sum(e['bytes'] for e in expanded) / 1e6:,.0f} MB in {corpus} [{generation:.0f}s]",
        flush=True,
    )

    # The raw root the builds read: the chosen sources only (a corpus folder may hold others from earlier runs).
    selected = root / "selected"
    shutil.rmtree(selected, ignore_errors=True)
    selected.mkdir()
    for source_id in sources:
        (selected / source_id).symlink_to(corpus / source_id, target_is_directory=True)
    logs = root / "logs"
    results: dict[str, dict] = {}
    digests: dict[str, dict[str, str]] = {}
    for mode in args.modes:
        out = root / f"out-{'single' if mode == 'reuse' else mode}"
        if mode != "reuse":
            shutil.rmtree(out, ignore_errors=True)
        elif "single" not in results:
            raise SystemExit("--modes reuse needs single before it (it rebuilds the single-process output)")
        if mode == "dask":
            from distributed import LocalCluster

            begun = time.perf_counter()
            with LocalCluster(
                n_workers=args.workers, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
            ) as cluster:
                startup = time.perf_counter() - begun
                result = run_build(selected, out, ["--dask-address", cluster.scheduler_address], logs / "dask.log")
            result["cluster_startup_seconds"] = round(startup, 2)
        else:
            workers = ["--workers", str(1 if mode == "single" else args.workers)]
            result = run_build(selected, out, workers, logs / f"{mode}.log")
        result["workers"] = 1 if mode == "single" else args.workers
        if mode != "reuse":
            digests[mode] = output_digest(out)
            result["same_output_as_single"] = digests[mode] == digests.get("single", digests[mode])
        results[mode] = result
        print(f"{mode}: {result}", flush=True)

    report = {
        "records_per_source": args.records,
        "sources": len(sources),
        "records": records,
        "corpus_seconds": round(generation, 1),
        "cores": len(os.sched_getaffinity(0)),
        "load_average_at_start": [round(x, 2) for x in load],
        "parallel_capacity": capacity,
        "python": platform.python_version(),
        "modes": results,
    }
    base = results.get("single", {}).get("wall_seconds")
    print()
    print(
        f"`build --all`, {len(sources)} sources, {records:,} records ({args.records:,} per source), "
        f"{report['cores']} cores, load average at start {load[0]:.1f}; "
        f"{args.workers} processes do {capacity}x the work of one on a pure-Python loop (the ceiling of a speed-up)"
    )
    print()
    print("| mode | workers | wall s | speed-up | records/s | built | reused | instances | quarantined | same output |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode, r in results.items():
        speed = f"{base / r['wall_seconds']:.2f}x" if base else "-"
        note = f" (+{r['cluster_startup_seconds']:.1f} s cluster start)" if "cluster_startup_seconds" in r else ""
        same = {True: "yes", False: "NO"}.get(r.get("same_output_as_single"), "-")
        print(
            f"| {mode} | {r['workers']} | {r['wall_seconds']:.1f}{note} | {speed} | {records / r['wall_seconds']:,.0f} "
            f"| {r['built']} | {r['reused']} | {r['instances']:,} | {r['quarantined']:,} | {same} |"
        )
    if "single" in results:
        slowest = ", ".join(f"{s} {t:.1f}s" for s, t in results["single"]["slowest_sources"].items())
        print(f"\nslowest sources (single process): {slowest}")
    if results.get("reuse", {}).get("built"):
        print(f"\nthe no-op rebuild converted sources again: {results['reuse']['built_because']}")
    print(f"\nfull reports: {logs}/<mode>.log")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
