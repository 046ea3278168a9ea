"""`python -m pipeline list|build|validate`: the command line over the stage functions."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from pipeline import build, catalogue, stats, validate
from pipeline.decontaminate import decontaminate
from pipeline.model import MissingRawFiles, detect_form
from pipeline.quality import QualityConfig, QualityError
from pipeline.registry import ConverterError, converters, get
from pipeline.seeds import SeedError

DEFAULT_RAW = Path("data/raw")
DEFAULT_OUT = Path("data/output")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="catalogue sources (or tasks): converter and raw-file status")
    listing.add_argument("--tasks", action="store_true", help="list every task instead of every source")
    listing.add_argument("--raw-dir", type=Path, default=DEFAULT_RAW, help="root holding one folder per source")

    building = commands.add_parser("build", help="convert raw files into the output dataset")
    which = building.add_mutually_exclusive_group(required=True)
    which.add_argument("--source", help="one source id")
    which.add_argument("--all", action="store_true", help="every source whose raw files are present")
    building.add_argument(
        "--raw-dir", type=Path, help="--source: that source's folder (default data/raw/ID); --all: the root"
    )
    building.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/output)")
    building.add_argument("--shard-mb", type=int, default=256, help="maximum Parquet shard size in MB")
    building.add_argument("--quality-config", type=Path, help="YAML file of quality-stage thresholds")
    building.add_argument(
        "--max-quarantine-rate", type=float, help="fail a task when more than this share is quarantined (0.2)"
    )

    checking = commands.add_parser("validate", help="validate a task JSON file or an output folder")
    checking.add_argument("path", type=Path)

    cleaning = commands.add_parser(
        "decontaminate", help="remove training rows whose input overlaps any test input (builds run it too)"
    )
    cleaning.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)
    cleaning.add_argument("--ngram", type=int, default=13, help="shared word n-gram length that counts as overlap")

    counting = commands.add_parser("stats", help="tasks and instances of an output folder, per task and in total")
    counting.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)

    args = parser.parse_args(argv)
    if args.command == "list":
        return _list(args)
    if args.command == "build":
        return _build(args)
    if args.command == "decontaminate":
        report = decontaminate(args.out, ngram=args.ngram)
        removed = sum(report.removed.values())
        print(
            f"{args.out}: {removed} training rows removed against {report.test_inputs} test inputs "
            f"[{report.seconds:.1f}s]; see reports/decontamination.jsonl"
        )
        for task_id, n in sorted(report.removed.items()):
            print(f"  {task_id}: {n}")
        return 0
    if args.command == "stats":
        return stats.main(args.out)
    return validate.main(args.path)


def _list(args: argparse.Namespace) -> int:
    convs = converters()
    if args.tasks:
        rows = [("task", "source", "category", "domain", "MedS-Bench", "converter")]
        for t in catalogue.tasks().values():
            has = t.source_id in convs and t.task_id in convs[t.source_id].task_ids
            rows.append((t.task_id, t.source_id, t.category, t.domain, t.bench or "-", "yes" if has else "no"))
        extra = [
            (t.id, s, t.category, t.domain, "-", "yes (not in catalogue)")
            for s, c in convs.items()
            for t in c.tasks
            if t.id not in catalogue.tasks()
        ]
        _table(rows + extra)
        return 0
    rows = [("source", "access", "tasks", "converter", f"raw files in {args.raw_dir}/<source>")]
    ids = list(catalogue.sources()) + [s for s in convs if s not in catalogue.sources()]
    for source_id in ids:
        entry = catalogue.sources().get(source_id)
        access = convs[source_id].source.access if source_id in convs else entry.access
        n_tasks = len(catalogue.tasks_of(source_id)) or len(convs[source_id].tasks)
        if source_id not in convs:
            rows.append((source_id, access, str(n_tasks), "no", "-"))
            continue
        try:
            files = detect_form(convs[source_id].source, args.raw_dir / source_id)
            state = f"found ({files.form.name})" + (f", {len(files.missing)} optional missing" if files.missing else "")
        except MissingRawFiles:
            state = "missing"
        rows.append((source_id, access, str(n_tasks), "yes", state))
    _table(rows)
    return 0


def _build(args: argparse.Namespace) -> int:
    quality = QualityConfig.from_file(args.quality_config) if args.quality_config else QualityConfig()
    if args.max_quarantine_rate is not None:
        quality = replace(quality, max_quarantine_rate=args.max_quarantine_rate)
    options = {"max_shard_bytes": args.shard_mb * 1024 * 1024, "quality": quality}
    if args.all:
        reports = build.build_all(args.raw_dir or DEFAULT_RAW, args.out, **options)
        for r in reports:
            print(r.summary())
        built = [r for r in reports if r.status == "built"]
        print(f"built {len(built)} of {len(reports)} sources into {args.out}")
        if not built:
            print(f"error: no source had raw files under {args.raw_dir or DEFAULT_RAW}", file=sys.stderr)
        failed = [r.source_id for r in reports if r.status == "failed"]
        if failed:
            print(f"error: failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed or not built else 0
    try:
        conv = get(args.source)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    try:
        report = build.build_source(conv, args.raw_dir or DEFAULT_RAW / args.source, args.out, **options)
    except (MissingRawFiles, ValueError, ConverterError, SeedError, QualityError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
