"""Seconds of `pipeline.decontaminate.decontaminate` on a built output folder, for 1 and 2 workers.

The folder is built once from the synthetic corpora of benchmarks/make_corpora.py (as benchmarks/run.py
makes them, under <root>/corpora-<scale>) with `build_sources`, which leaves decontamination to
`finish`: so the kept copy is the folder as decontamination finds it after a build. Each run works
on a fresh copy; the best of `--runs` is printed (the machine may be shared: timings are noisy), and
the folders of all runs are compared file by file (the summary's timings aside). Usage:

    python benchmarks/decontaminate.py [--scale 0.03] [--root /tmp/mb] [--runs 2] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.build import build_sources  # noqa: E402
from pipeline.decontaminate import decontaminate  # noqa: E402


def contents(folder: Path) -> dict[str, bytes]:
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    summary = json.loads(files["reports/decontamination.json"])
    summary.pop("seconds"), summary.pop("finished_at")
    files["reports/decontamination.json"] = json.dumps(summary, sort_keys=True).encode()
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.03)
    parser.add_argument("--root", type=Path, default=Path("/tmp/mb"))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    corpora = args.root / f"corpora-{args.scale:g}"
    pristine = args.root / f"decontaminate-{args.scale:g}" / "built"
    if not corpora.is_dir():
        sys.exit(f"{corpora}: no corpora; make them with benchmarks/make_corpora.py (or run benchmarks/run.py)")
    if not pristine.is_dir():
        started = time.monotonic()
        partial = pristine.with_name("building")
        shutil.rmtree(partial, ignore_errors=True)
        build_sources(corpora, partial, workers=2)
        partial.rename(pristine)
        print(f"built {pristine} in {time.monotonic() - started:.0f} s")
    work = pristine.with_name("work")
    reference: dict[str, bytes] | None = None
    identical = True
    for workers in args.workers:
        best = float("inf")
        for _ in range(args.runs):
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(pristine, work)
            started = time.perf_counter()
            with contextlib.redirect_stderr(io.StringIO()):  # progress bars
                report = decontaminate(work, workers=workers)
            best = min(best, time.perf_counter() - started)
            files = contents(work)
            reference = files if reference is None else reference
            identical = identical and files == reference
        print(f"workers={workers}: best of {args.runs} {best:.1f} s")
        print(f"  {report.summary()}")
    shutil.rmtree(work, ignore_errors=True)
    print("every run's output identical to the first's" if identical else "OUTPUTS DIFFER between runs")


if __name__ == "__main__":
    main()
