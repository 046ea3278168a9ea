"""End-to-end benchmark: the whole build (extract, validate, language check, exact and near duplicates, schema,
split, Parquet and task files, decontamination; no LLM call) over synthetic corpora at several scales, per stage
and per converter, against naive baselines. Prints Markdown tables and writes the figures as JSON.

    python benchmarks/run.py --scales 0.1 0.3 1.0 [--root /tmp/meds-bench] [--json results.json]
    python benchmarks/run.py --scales 0.01 0.03 --per-source mimic_iv ddxplus --skip all

For each scale, in this order:

1. the corpora (benchmarks/make_corpora.py: same seed, so a scale once generated is reused);
2. per converter (`--per-source`, default the six with dedicated generators), each measured piece in its own
   process so that its peak RSS is its own:
   - `extract`: the converter's `generate` alone, every Record and Rejection consumed and dropped;
   - `build`: `build_source` (no decontamination, no card), with each stage timed in place (the stage
     functions are wrapped with a clock; the overhead is well under 1 %): extract, fingerprint, validate
     (record rules), language, duplicates (hashes of ids and texts, then the compiled loop of exact and near
     duplicate checks), sketch (MinHash sketches for the near-duplicate check), schema, split, Parquet, task
     files, other (the build loop itself, quarantine lines, manifest);
3. `all`: `build_sources` over every corpus of the scale with `--workers` processes, then `finish`
   (decontamination of the whole folder and the card), timed apart; peak RSS is the largest single process
   (wait4) and the sampled sum over the process tree (psutil, every 0.2 s);
4. the naive baselines (benchmarks/naive.py, pandas row iteration and a lean csv + json.dump script) for the
   MIMIC-IV radiology summarization tasks and DDXPlus, with our extract and build of the same input
   (for MIMIC-IV: a folder holding only radiology.csv.gz).

Then a least-squares line of seconds against records over the scales (slope in microseconds per record, R^2)
for each measured piece, and peak RSS per scale, so linearity and flat memory can be read off.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

DEFAULT_PER_SOURCE = ("mimic_iv", "ddxplus", "pubmedqa", "medmcqa", "pmc_patients", "mimic4ed")
PIECES = ("extract", "build", "all", "naive")
#: MedS-Ins's size, for the whole build's projected time (the target: under 10 minutes).
TARGET_INSTANCES = 5_000_000
STAGES = (
    "extract",
    "fingerprint",
    "validate",
    "language",
    "duplicates",
    "sketch",
    "schema",
    "split",
    "parquet",
    "task files",
    "other",
)

# --- measured pieces (run in a child process) ----------------------------------------------------------------------


def piece_extract(raw: Path, source_id: str) -> dict:
    from pipeline.model import Record, detect_form
    from pipeline.registry import get

    conv = get(source_id)
    files = detect_form(conv.source, raw)
    records = rejections = 0
    started = time.perf_counter()
    for item in conv.generate(files):
        if isinstance(item, Record):
            records += 1
        else:
            rejections += 1
    return {"seconds": time.perf_counter() - started, "records": records, "rejections": rejections}


class Clock:
    """Seconds per stage, from wrapped functions; nested stages are subtracted from their callers."""

    def __init__(self):
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._stack: list[list] = []

    def wrap(self, stage: str, function):
        def timed(*args, **kwargs):
            frame = [time.perf_counter(), 0.0]
            self._stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                self._stack.pop()
                spent = time.perf_counter() - frame[0]
                self.seconds[stage] += spent - frame[1]
                if self._stack:
                    self._stack[-1][1] += spent

        return timed

    def wrap_generator(self, stage: str, generate):
        def timed(files):
            iterator = iter(generate(files))
            while True:
                frame = [time.perf_counter(), 0.0]
                self._stack.append(frame)
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self._stack.pop()
                    self.seconds[stage] += time.perf_counter() - frame[0] - frame[1]
                yield item

        return timed


def piece_build(raw: Path, source_id: str, out: Path) -> dict:
    """build_source with every stage function wrapped by the clock."""
    from pipeline import build, fingerprint, neardup, parquet, quality, registry, taskfile

    clock = Clock()
    patches = [
        (fingerprint, "compute", "fingerprint"),
        (quality, "check", "validate"),
        (quality.QualityStage, "_language", "language"),
        (quality.QualityStage, "screen", "duplicates"),  # (a batch at a time, from the build loop)
        (neardup.NearDuplicates, "sketch_arrays", "sketch"),
        (build, "is_valid", "schema"),
        (build, "hash_split", "split"),
        (parquet.ShardedWriter, "write", "parquet"),
        (parquet.ShardedWriter, "close", "parquet"),
        (build, "add_outputs", "parquet"),
        (taskfile, "write", "task files"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, stage in patches:
        setattr(owner, name, clock.wrap(stage, getattr(owner, name)))
    conv = registry.get(source_id)
    conv = dataclasses.replace(conv, generate=clock.wrap_generator("extract", conv.generate))
    started = time.perf_counter()
    try:
        # In this process (workers=1), so that the clock sees every stage of a source with PARTS too; the `all`
        # piece measures those parts converting in parallel.
        report = build.build_source(conv, raw, out, write_card=False, clean_across_sources=False, force=True, workers=1)
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    total = time.perf_counter() - started
    clock.seconds["other"] = total - sum(clock.seconds.values())
    return {
        "seconds": total,
        "status": report.status,
        "instances": report.total,
        "quarantined": sum(report.quarantined.values()),
        "stages": clock.seconds,
    }


def piece_all(root: Path, out: Path, workers: int, sources: list[str]) -> dict:
    from pipeline import build

    raw_root = root
    if sources:  # a folder holding only the chosen corpora
        raw_root = out.parent / "raw-subset"
        raw_root.mkdir(exist_ok=True)
        for s in sources:
            if not (raw_root / s).exists():
                (raw_root / s).symlink_to(root / s)
    started = time.perf_counter()
    reports = build.build_sources(raw_root, out, workers=workers, force=True)
    converted = time.perf_counter() - started
    converters_mb = _peak_mb(resource.RUSAGE_CHILDREN)  # the pool's workers and their parts, all waited for
    build.finish(out, reports)
    total = time.perf_counter() - started
    roles = {"conversion workers": converters_mb, "main process": _peak_mb(resource.RUSAGE_SELF)}
    if _peak_mb(resource.RUSAGE_CHILDREN) > converters_mb:  # (else decontamination's workers stayed below)
        roles["decontamination workers"] = _peak_mb(resource.RUSAGE_CHILDREN)
    decontamination = json.loads((out / "reports" / "decontamination.json").read_text(encoding="utf-8"))
    return {
        "seconds": total,
        "build_sources_seconds": converted,
        "finish_seconds": total - converted,
        "instances": sum(r.total for r in reports if r.status == "built"),
        "decontaminated": decontamination.get("removed_total"),
        "test_inputs": decontamination.get("test_inputs"),
        "test_ngrams": decontamination.get("test_ngrams"),
        "statuses": {r.source_id: r.status for r in reports},
        "failed": {r.source_id: r.message[:500] for r in reports if r.status == "failed"},
        "source_seconds": {r.source_id: round(r.seconds, 2) for r in reports},
        # Which process holds the peak: the main process runs decontamination's merges and holds its test index.
        "peak_rss_mb_by_role": roles,
    }


def _peak_mb(who: int) -> float:
    """Peak RSS in MB of this process (RUSAGE_SELF) or of the largest descendant waited for (RUSAGE_CHILDREN)."""
    return resource.getrusage(who).ru_maxrss / 1024


def _child(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "extract":
        result = piece_extract(Path(argv[1]), argv[2])
    elif kind == "build":
        result = piece_build(Path(argv[1]), argv[2], Path(argv[3]))
    elif kind == "all":
        result = piece_all(Path(argv[1]), Path(argv[2]), int(argv[3]), argv[4:])
    else:
        raise SystemExit(f"unknown piece {kind}")
    print("RESULT " + json.dumps(result))


# --- running a piece in a child and measuring it --------------------------------------------------------------------


def measure(command: list[str], timeout: float | None = None) -> dict:
    """Run `command`; its last `RESULT {json}` line (or, for naive.py, its last JSON line) plus wall seconds,
    the child's peak RSS (wait4: the largest of it and the descendants it waited for) and the sampled peak
    of the RSS summed over its process tree."""
    import psutil

    load = os.getloadavg()[0]  # other work on the machine slows every figure: recorded with it
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        try:
            parent = psutil.Process(process.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            total = 0
            try:
                for p in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += p.memory_info().rss
            except psutil.NoSuchProcess:
                return
            peak_tree = max(peak_tree, total)
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout_chunks: list[str] = []
    stderr_chunks: list[str] = []
    readers = [
        threading.Thread(target=lambda: stdout_chunks.append(process.stdout.read()), daemon=True),
        threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()), daemon=True),
    ]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    for r in readers:
        r.join()
    sampler.join()
    stdout, stderr = "".join(stdout_chunks), "".join(stderr_chunks)
    result: dict = {}
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            break
        if line.startswith("{"):
            result = json.loads(line)
            break
    if process.returncode != 0 or not result:
        return {"error": f"exit {process.returncode}: {stderr.strip()[-2000:]}", "wall_seconds": wall}
    return result | {
        "load_before": load,
        "wall_seconds": wall,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "peak_tree_rss_mb": peak_tree / 2**20,
    }


def child_command(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", *args]


# --- one scale ------------------------------------------------------------------------------------------------------


def run_scale(scale: float, args: argparse.Namespace) -> dict:
    from make_corpora import generate

    corpora = args.root / f"corpora-{scale:g}"
    print(f"\n## Scale {scale:g}\n", flush=True)
    started = time.perf_counter()
    sources = None if args.sources is None else sorted(set(args.sources) | set(args.per_source))
    manifest = generate(corpora, scale, args.seed, sources, jobs=args.workers)["sources"]
    print(f"corpora in {corpora} ({time.perf_counter() - started:.0f}s)", flush=True)
    result: dict = {"scale": scale, "corpora": manifest, "per_source": {}, "naive": {}}
    work = Path(tempfile.mkdtemp(prefix=f"meds-bench-{scale:g}-", dir=args.root))
    try:
        for source_id in args.per_source:
            if source_id not in manifest:
                continue
            entry: dict = {}
            if "extract" in args.pieces:
                entry["extract"] = measure(child_command("extract", str(corpora / source_id), source_id))
            if "build" in args.pieces:
                out = work / f"build-{source_id}"
                entry["build"] = measure(child_command("build", str(corpora / source_id), source_id, str(out)))
                shutil.rmtree(out, ignore_errors=True)
            result["per_source"][source_id] = entry
            _print_progress(source_id, entry)
        if "all" in args.pieces:
            out = work / "all"
            chosen = [] if args.sources is None else sorted(manifest)
            result["all"] = measure(child_command("all", str(corpora), str(out), str(args.workers), *chosen))
            shutil.rmtree(out, ignore_errors=True)
            _print_progress("all", {"all": result["all"]})
        if "naive" in args.pieces:
            result["naive"] = run_naive(corpora, work, manifest, scale, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def run_naive(corpora: Path, work: Path, manifest: dict, scale: float, args: argparse.Namespace) -> dict:
    """Baselines and our extract and build of the same input."""
    found: dict = {}
    for source_id in ("mimic_iv", "ddxplus"):
        if source_id not in manifest:
            continue
        raw = corpora / source_id
        if source_id == "mimic_iv":  # the baselines convert the radiology reports only
            raw = work / "mimic_iv-radiology"
            (raw / "note").mkdir(parents=True, exist_ok=True)
            target = raw / "note" / "radiology.csv.gz"
            if not target.exists():
                target.symlink_to(corpora / "mimic_iv" / "note" / "radiology.csv.gz")
        entry = {
            "ours_extract": measure(child_command("extract", str(raw), source_id)),
            "ours_build": measure(child_command("build", str(raw), source_id, str(work / f"naive-ours-{source_id}"))),
            "lean": measure([sys.executable, str(BENCH / "naive.py"), source_id, "lean", str(raw), str(work / "n")]),
        }
        shutil.rmtree(work / f"naive-ours-{source_id}", ignore_errors=True)
        if scale <= args.pandas_max_scale:
            command = [sys.executable, str(BENCH / "naive.py"), source_id, "pandas", str(raw), str(work / "n")]
            entry["pandas"] = measure(command)
        shutil.rmtree(work / "n", ignore_errors=True)
        found[source_id] = entry
        _print_progress(f"naive {source_id}", entry)
    return found


def _print_progress(name: str, entry: dict) -> None:
    parts = []
    for piece, r in entry.items():
        if "error" in r:
            parts.append(f"{piece}: ERROR {r['error'][-300:]}")
        else:
            parts.append(f"{piece} {r['wall_seconds']:.1f}s {r.get('peak_rss_mb', 0):.0f}MB")
    print(f"- {name}: " + "; ".join(parts), flush=True)


# --- reporting ------------------------------------------------------------------------------------------------------


def fit(points: list[tuple[float, float]]) -> dict | None:
    """Least-squares line y = a + b x; b in the unit of y per unit of x, with R^2."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for _, y in points)
    ss_res = sum((y - a - b * x) ** 2 for x, y in points)
    return {"intercept": a, "slope": b, "r2": 1 - ss_res / ss_tot if ss_tot else 1.0}


def _rate(n: float, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "-"


def markdown(results: dict) -> str:
    lines: list[str] = []
    for scale_result in results["scales"]:
        scale, corpora = scale_result["scale"], scale_result["corpora"]
        lines += [f"\n### Scale {scale:g}\n"]
        if scale_result["per_source"]:
            lines += [
                "| source | raw records | raw MB | piece | seconds | raw records/s | instances/s | raw MB/s "
                "| peak RSS MB |",
                "|---|---|---|---|---|---|---|---|---|",
            ]
            for source_id, entry in scale_result["per_source"].items():
                c = corpora[source_id]
                mb = c["raw_bytes"] / 1e6
                for piece, r in entry.items():
                    if "error" in r:
                        lines.append(f"| {source_id} | {c['records']:,} | {mb:,.1f} | {piece} | error | | | | |")
                        continue
                    s = r["seconds"]
                    instances = r.get("instances", r.get("records", 0))
                    lines.append(
                        f"| {source_id} | {c['records']:,} | {mb:,.1f} | {piece} | {s:,.1f} | "
                        f"{_rate(c['records'], s)} | {_rate(instances, s)} | {mb / s:,.1f} | {r['peak_rss_mb']:,.0f} |"
                    )
            lines += ["", "Stages of `build` (seconds):", ""]
            lines += ["| source | " + " | ".join(STAGES) + " | total | build / extract |"]
            lines += ["|---" * (len(STAGES) + 3) + "|"]
            for source_id, entry in scale_result["per_source"].items():
                b, e = entry.get("build", {}), entry.get("extract", {})
                if "stages" not in b:
                    continue
                ratio = f"{b['seconds'] / e['seconds']:.1f}x" if e.get("seconds") else "-"
                cells = " | ".join(f"{b['stages'].get(s, 0):,.1f}" for s in STAGES)  # (older runs: other stages)
                lines.append(f"| {source_id} | {cells} | {b['seconds']:,.1f} | {ratio} |")
        a = scale_result.get("all")
        if a and "error" not in a:
            records = sum(c["records"] for c in corpora.values())
            mb = sum(c["raw_bytes"] for c in corpora.values()) / 1e6
            failed = ", ".join(f"{s}" for s in a["failed"]) or "none"
            lines += [
                "",
                f"Whole build (`build_sources` with {results['workers']} workers, then decontamination and card): "
                f"{len(corpora)} corpora, {records:,} raw records, {mb:,.0f} raw MB -> {a['instances']:,} instances "
                f"in **{a['seconds']:,.1f} s** (convert {a['build_sources_seconds']:,.1f} s, decontaminate + card "
                f"{a['finish_seconds']:,.1f} s; {a['decontaminated']} rows decontaminated): "
                f"{_rate(a['instances'], a['seconds'])} instances/s, {mb / a['seconds']:,.1f} raw MB/s; peak RSS "
                f"{a['peak_rss_mb']:,.0f} MB (largest process), {a['peak_tree_rss_mb']:,.0f} MB (process tree). "
                f"Failed sources: {failed}.",
            ]
            if a.get("peak_rss_mb_by_role"):
                roles = ", ".join(f"{role} {mb:,.0f} MB" for role, mb in a["peak_rss_mb_by_role"].items())
                lines[-1] += f" Peak RSS by process: {roles}."
        elif a:
            lines += ["", f"Whole build: error {a['error'][-500:]}"]
        if scale_result["naive"]:
            lines += [
                "",
                "Naive baselines on the same input (MIMIC-IV: radiology.csv.gz only; records = raw rows read):",
                "",
                "| corpus | script | seconds | raw records/s | instances | us / instance | peak RSS MB "
                "| its time / ours extract |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for source_id, entry in scale_result["naive"].items():
                ours = entry.get("ours_extract", {})
                rows = entry.get("lean", {}).get("records")
                for name, r in entry.items():
                    if "error" in r:
                        lines.append(f"| {source_id} | {name} | error | | | | | |")
                        continue
                    ratio = f"{r['seconds'] / ours['seconds']:.2f}" if ours.get("seconds") else "-"
                    instances = r.get("instances", r.get("records") if name == "ours_extract" else None)
                    # (the same input gives our converter more tasks than the baselines: time per instance too)
                    each = f"{r['seconds'] / instances * 1e6:,.1f}" if instances else "-"
                    lines.append(
                        f"| {source_id} | {name} | {r['seconds']:,.2f} | {_rate(rows, r['seconds']) if rows else '-'} "
                        f"| {instances if instances is not None else '-'} | {each} | {r['peak_rss_mb']:,.0f} "
                        f"| {ratio} |"
                    )
        naive = scale_result["naive"]
        builds = {src: e["ours_build"] for src, e in naive.items() if "stages" in e.get("ours_build", {})}
        if builds:
            lines += ["", "Stages of our `build` of that input (seconds):", ""]
            lines += ["| corpus | " + " | ".join(STAGES) + " | total | build / extract |"]
            lines += ["|---" * (len(STAGES) + 3) + "|"]
            for source_id, b in builds.items():
                e = naive[source_id].get("ours_extract", {})
                ratio = f"{b['seconds'] / e['seconds']:.1f}x" if e.get("seconds") else "-"
                cells = " | ".join(f"{b['stages'].get(s, 0):,.1f}" for s in STAGES)  # (older runs: other stages)
                lines.append(f"| {source_id} | {cells} | {b['seconds']:,.1f} | {ratio} |")
    loads = [
        r["load_before"]
        for s in results["scales"]
        for entry in [*s["per_source"].values(), s.get("naive", {}).get("mimic_iv", {}), {"all": s.get("all") or {}}]
        for r in entry.values()
        if isinstance(r, dict) and "load_before" in r
    ]
    if loads:
        lines += ["", f"1-minute load average when each piece started: {min(loads):.1f} to {max(loads):.1f}."]
    if results.get("all_per_instance"):
        f = results["all_per_instance"]
        lines += [
            "",
            f"Whole build against instances: {f['slope'] * 1e6:,.1f} us per instance + {f['intercept']:,.1f} s "
            f"(R^2 {f['r2']:.4f}); {TARGET_INSTANCES:,} instances (MedS-Ins) -> **{f['seconds_for_target'] / 60:,.1f} "
            "min** by this line.",
        ]
    if results.get("fits"):
        lines += ["", "### Growth over the scales\n", "| piece | slope (us per raw record) | intercept s | R^2 |"]
        lines += ["|---|---|---|---|"]
        for name, f in results["fits"].items():
            lines.append(f"| {name} | {f['slope'] * 1e6:,.1f} | {f['intercept']:,.2f} | {f['r2']:.4f} |")
        lines += ["", "| piece | " + " | ".join(f"RSS MB at {s['scale']:g}" for s in results["scales"]) + " |"]
        lines += ["|---" * (len(results["scales"]) + 1) + "|"]
        for name, values in results["rss"].items():
            lines.append(f"| {name} | " + " | ".join(f"{v:,.0f}" if v else "-" for v in values) + " |")
    return "\n".join(lines) + "\n"


def growth(results: dict) -> None:
    """Fits of seconds against raw records, and peak RSS per scale, for every piece measured at every scale."""
    series: dict[str, list[tuple[float, float]]] = {}
    rss: dict[str, list[float | None]] = {}
    scales = results["scales"]
    for index, s in enumerate(scales):
        corpora = s["corpora"]
        measured = [
            (f"{src} {piece}", corpora[src]["records"], r)
            for src, e in s["per_source"].items()
            for piece, r in e.items()
        ]
        if s.get("all") and "error" not in s["all"]:
            measured.append(("all", sum(c["records"] for c in corpora.values()), s["all"]))
        for src, entry in s.get("naive", {}).items():
            rows = entry.get("lean", {}).get("records")  # raw rows read (MIMIC-IV: the radiology reports only)
            measured += [(f"naive {src} {name}", rows, r) for name, r in entry.items() if rows]
        for name, records, r in measured:
            if "error" in r:
                continue
            series.setdefault(name, []).append((records, r["seconds"]))
            rss.setdefault(name, [None] * len(scales))[index] = (
                r.get("peak_tree_rss_mb") if name == "all" else r.get("peak_rss_mb")
            )
    results["fits"] = {name: f for name, points in series.items() if (f := fit(points))}
    results["rss"] = rss
    whole = [(s["all"]["instances"], s["all"]["seconds"]) for s in scales if s.get("all") and "error" not in s["all"]]
    if (f := fit(whole)) is not None:
        results["all_per_instance"] = f | {"seconds_for_target": f["intercept"] + f["slope"] * TARGET_INSTANCES}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "meds-bench")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--sources", nargs="+", help="corpora to generate and build (default: all)")
    parser.add_argument("--per-source", nargs="*", default=list(DEFAULT_PER_SOURCE))
    parser.add_argument("--skip", nargs="*", default=[], choices=PIECES, help="pieces not to run")
    parser.add_argument(
        "--pandas-max-scale", type=float, default=0.3, help="run the pandas baselines only up to this scale (memory)"
    )
    parser.add_argument("--json", type=Path, default=Path("benchmark-results.json"))
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--from-json", type=Path, help="measure nothing: print the tables of this earlier --json file")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        growth(results)
        _print_tables(results, args.markdown)
        return
    args.pieces = [p for p in PIECES if p not in args.skip]
    args.root.mkdir(parents=True, exist_ok=True)
    results = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)),
            "python": platform.python_version(),
        },
        "workers": args.workers,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scales": [],
    }
    for scale in args.scales:
        results["scales"].append(run_scale(scale, args))
        growth(results)
        _write(args.json, json.dumps(results, indent=2))  # after each scale: a long run keeps what it measured
    _print_tables(results, args.markdown)


def _print_tables(results: dict, path: Path | None) -> None:
    text = markdown(results)
    print(text)
    if path:
        _write(path, text)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    main()
