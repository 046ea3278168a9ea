"""Throughput and peak memory of `build --source mimic_iv` on synthetic MIMIC-IV-Note radiology files.

The synthetic corpus repeats the rows of our own bundled sample (invented text) under new note ids
and subject ids, so the converter parses the real format. Each scale runs in a fresh process so its
peak RSS is its own. Usage:

    python benchmarks/build_mimic_iv.py --reports 20000 50000 100000
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "samples" / "mimic_iv" / "note" / "radiology.csv.gz"


def make_corpus(folder: Path, reports: int) -> Path:
    with gzip.open(SAMPLE, "rt", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["note_type"] == "RR"]
    path = folder / "note" / "radiology.csv.gz"
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", newline="", encoding="utf-8", compresslevel=1) as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for i in range(reports):
            row = dict(rows[i % len(rows)])
            subject = 10_000_000 + i // 3
            row |= {"note_id": f"{subject}-RR-{i}", "subject_id": str(subject)}
            writer.writerow(row)
    return path


def run_one(reports: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipeline.build import build_source
    from pipeline.registry import get

    with tempfile.TemporaryDirectory() as tmp:
        raw = make_corpus(Path(tmp) / "raw", reports)
        started = time.perf_counter()
        report = build_source(get("mimic_iv"), Path(tmp) / "raw", Path(tmp) / "out")
        seconds = time.perf_counter() - started
        raw_mb = sum(len(chunk) for chunk in _chunks(raw)) / 1e6
    return {
        "reports": reports,
        "instances": report.total,
        "seconds": round(seconds, 2),
        "reports_per_s": round(reports / seconds),
        "instances_per_s": round(report.total / seconds),
        "raw_mb_per_s": round(raw_mb / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _chunks(path: Path):
    with gzip.open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            yield chunk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    results = []
    for n in args.reports:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| reports | instances | seconds | reports/s | instances/s | raw MB/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['reports']} | {r['instances']} | {r['seconds']} | {r['reports_per_s']} | {r['instances_per_s']} "
            f"| {r['raw_mb_per_s']} | {r['peak_rss_mb']} |"
        )


if __name__ == "__main__":
    main()
