"""`python -m pipeline list|build|validate|download|publish|...`: the command line over the stage functions."""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from pipeline import build, catalogue, download, flat, publish, redact, stats, validate
from pipeline.decontaminate import decontaminate
from pipeline.model import MissingRawFiles, detect_form
from pipeline.quality import QualityConfig, QualityError
from pipeline.registry import ConverterError, converters, get
from pipeline.rewrite import RewriteConfig, RewriteError, rewrite
from pipeline.rewrite_cache import RewriteCacheError
from pipeline.seeds import SEEDS_DIR, SeedError

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
    # Incremental and parallel builds (pipeline.fingerprint, build.build_sources).
    building.add_argument(
        "--force",
        action="store_true",
        help="rebuild even the sources whose raw files, code, seeds and config are unchanged",
    )
    building.add_argument(
        "--workers",
        type=_positive,
        metavar="N",
        help="processes converting sources at once (with --all), and the raw-file parts of a large source such as "
        "mimic_iv (default: one per core)",
    )
    building.add_argument(
        "--dask-address",
        metavar="tcp://HOST:PORT",
        help="with --all: convert the sources on this Dask scheduler's workers (they need this project installed "
        "at the same version, and must see --raw-dir and --out at the same paths)",
    )
    # The flat SFT export (pipeline.flat), written after a successful build.
    building.add_argument("--flat", action="store_true", help="also write OUT/flat/: one SFT-ready row per instance")
    building.add_argument("--shots", type=int, default=0, help="with --flat: also a K-shot variant (train cases)")
    building.add_argument("--flat-seed", type=int, default=0, help="with --flat: seed of the instruction/case draws")

    checking = commands.add_parser("validate", help="validate a task JSON file or an output folder")
    checking.add_argument("path", type=Path)

    cleaning = commands.add_parser(
        "decontaminate", help="remove training rows whose input overlaps any test input (builds run it too)"
    )
    cleaning.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)
    cleaning.add_argument("--ngram", type=int, default=13, help="shared word n-gram length that counts as overlap")

    counting = commands.add_parser("stats", help="tasks and instances of an output folder, per task and in total")
    counting.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)

    rewriting = commands.add_parser("rewrite", help="grow each task's Definition list with LLM rewrites of its seeds")
    whose = rewriting.add_mutually_exclusive_group(required=True)
    whose.add_argument("--task", action="append", help="a task id (repeatable)")
    whose.add_argument("--all", action="store_true", help="every registered task")
    rewriting.add_argument("--target", type=int, required=True, help="definitions wanted per task (seeds included)")
    rewriting.add_argument("--model", default=RewriteConfig.model, help="chat model (default %(default)s)")
    rewriting.add_argument("--base-url", help="OpenAI-compatible endpoint (default: OPENAI_BASE_URL, else OpenAI)")
    rewriting.add_argument(
        "--budget", type=float, default=RewriteConfig.budget_usd, help="USD, no request starts past it; -1: no limit"
    )
    rewriting.add_argument("--concurrency", type=int, default=RewriteConfig.concurrency)
    rewriting.add_argument("--rpm", type=float, default=RewriteConfig.requests_per_minute, help="requests a minute")
    rewriting.add_argument("--max-retries", type=int, default=RewriteConfig.max_retries, help="per request")
    rewriting.add_argument("--price-in", type=float, default=RewriteConfig.price_input_per_1k, help="USD/1K tokens")
    rewriting.add_argument("--price-out", type=float, default=RewriteConfig.price_output_per_1k, help="USD/1K tokens")
    rewriting.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR, help="seeds folder (default: the repository's)")
    rewriting.add_argument("--dry-run", action="store_true", help="print the requests and their cost; send nothing")

    _add_download_publish(commands)

    args = parser.parse_args(argv)
    if args.command == "download":
        return _download(args)
    if args.command == "publish":
        return _publish(args)
    if args.command == "list":
        return _list(args)
    if args.command == "build":
        if args.shots and not args.flat:
            parser.error("--shots needs --flat")
        if not args.all and args.dask_address:
            parser.error("--dask-address needs --all (one source is one job)")
        if args.workers and args.dask_address:
            parser.error("--workers is the local process pool; with --dask-address the cluster's workers build")
        code = _build(args)
        return _flat(args) if code == 0 and args.flat else code
    if args.command == "rewrite":
        return _rewrite(args)
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
    rows = [("source", "access", "tasks", "converter", f"raw files in {args.raw_dir}/<source>", "how to get them")]
    ids = list(catalogue.sources()) + [s for s in convs if s not in catalogue.sources()]
    for source_id in ids:
        entry = catalogue.sources().get(source_id)
        access = convs[source_id].source.access if source_id in convs else entry.access
        n_tasks = len(catalogue.tasks_of(source_id)) or len(convs[source_id].tasks)
        if source_id not in convs:
            rows.append((source_id, access, str(n_tasks), "no", "-", "-"))
            continue
        source = convs[source_id].source
        try:
            files = detect_form(source, args.raw_dir / source_id)
            state = f"found ({files.form.name})" + (f", {len(files.missing)} optional missing" if files.missing else "")
        except MissingRawFiles:
            state = "missing"
        if access != "open":
            how = f"by hand: {access} access (download --source {source_id} says how)"
        else:
            how = "download" if source.downloads else f"by hand (download --source {source_id} says how)"
        rows.append((source_id, access, str(n_tasks), "yes", state, how))
    _table(rows)
    return 0


def _build(args: argparse.Namespace) -> int:
    quality = QualityConfig.from_file(args.quality_config) if args.quality_config else QualityConfig()
    if args.max_quarantine_rate is not None:
        quality = replace(quality, max_quarantine_rate=args.max_quarantine_rate)
    options = {"max_shard_bytes": args.shard_mb * 1024 * 1024, "quality": quality}
    if args.all:
        root = args.raw_dir or DEFAULT_RAW
        try:
            reports = build.build_all(
                root, args.out, force=args.force, workers=args.workers, dask_address=args.dask_address, **options
            )
        except build.ClusterError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        for r in reports:
            print(r.summary())
        built = [r for r in reports if r.status == "built"]
        reused = [r for r in reports if r.status == "reused"]
        print(f"built {len(built)} of {len(reports)} sources into {args.out}, reused {len(reused)} unchanged")
        if not built and not reused:
            print(f"error: no source had raw files under {root}", file=sys.stderr)
        failed = [r.source_id for r in reports if r.status == "failed"]
        if failed:
            print(f"error: failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed or not (built or reused) else 0
    try:
        conv = get(args.source)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    try:
        report = build.build_source(
            conv, args.raw_dir or DEFAULT_RAW / args.source, args.out, force=args.force, workers=args.workers, **options
        )
    except (MissingRawFiles, ValueError, ConverterError, SeedError, QualityError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _flat(args: argparse.Namespace) -> int:
    """The flat SFT export of the folder just built."""
    try:
        report = flat.write_flat(args.out, shots=args.shots, seed=args.flat_seed)
    except flat.FlatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _rewrite(args: argparse.Namespace) -> int:
    """LLM rewrites of the seeds: the requests (--dry-run) or the run, with tokens and cost."""
    task_ids = sorted({t.id for conv in converters().values() for t in conv.tasks}) if args.all else args.task
    config = RewriteConfig(
        model=args.model,
        base_url=args.base_url,
        concurrency=args.concurrency,
        requests_per_minute=args.rpm,
        max_retries=args.max_retries,
        budget_usd=None if args.budget is None or args.budget < 0 else args.budget,
        price_input_per_1k=args.price_in,
        price_output_per_1k=args.price_out,
    )
    try:
        report = rewrite(task_ids, args.target, config=config, dry_run=args.dry_run, seeds_dir=args.seeds_dir)
    except RewriteError as error:
        if error.report is not None and error.report.rounds:
            print(error.report.summary())
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (SeedError, RewriteCacheError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: every response received is cached in {args.seeds_dir / 'rewrites'}", file=sys.stderr)
        return 130
    if args.dry_run:
        for r in report.planned:
            print(f"{r.task_id} #{r.index} (seed {r.seed_number}): {r.seed[:100]}")
        if report.planned:
            print(f"each request: one user message, {config.prompt!r} followed by a blank line and the seed")
    print(report.summary())
    return 0


def _add_download_publish(commands: argparse._SubParsersAction) -> None:
    """The `download` and `publish` subcommands: raw data in, the dataset out (pipeline.download, .publish)."""
    fetching = commands.add_parser("download", help="fetch the raw files of open-access sources from their owners")
    which = fetching.add_mutually_exclusive_group(required=True)
    which.add_argument("--source", help="one source id (a gated one prints how to obtain it, exit code 3)")
    which.add_argument("--all-open", action="store_true", help="every open source; lists what it did not fetch")
    fetching.add_argument(
        "--raw-dir", type=Path, help="--source: that source's folder (default data/raw/ID); --all-open: the root"
    )
    fetching.add_argument("--mirror", help="fetch each URL as MIRROR/<host>/<path> (default $MEDS_INS_DOWNLOAD_MIRROR)")
    fetching.add_argument("--no-progress", action="store_true", help="no progress bars")

    publishing = commands.add_parser(
        "publish",
        help="upload an output folder to a Hugging Face Hub dataset repo",
        description="Upload OUT to a Hub dataset repository behind the license gate: tasks of registration or "
        "credentialed sources never go to a public repository. Authentication: HF_TOKEN or `hf auth login` "
        "(never a command-line option).",
    )
    publishing.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)
    publishing.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repository")
    publishing.add_argument("--private", action="store_true", help="create the repository private")
    publishing.add_argument(
        "--exclude-restricted", action="store_true", help="leave out tasks of registration/credentialed sources"
    )
    publishing.add_argument(
        "--with-quarantine", action="store_true", help="also upload quarantine/ of open sources (raw values)"
    )
    publishing.add_argument(
        publish.DUA_FLAG,
        dest="dua",
        action="store_true",
        help="with --private only: an agreement you hold allows sharing the restricted tasks this way",
    )
    publishing.add_argument("--message", help="commit message")
    publishing.add_argument("--dry-run", action="store_true", help="print which file goes where; upload nothing")
    publishing.add_argument("--token", nargs="?", action=publish.RefuseTokenOption, help=argparse.SUPPRESS)


def _download(args: argparse.Namespace) -> int:
    """Open sources fetched, gated ones explained. Exit 0 all fine, 1 a download failed, 2 unknown
    source, 3 the source must be obtained by hand (gated, or no direct download published)."""
    say = _masked_printer()
    options = {"mirror": args.mirror, "progress": not args.no_progress}
    if args.source:
        try:
            source = get(args.source).source
        except KeyError as error:
            say(f"error: {error.args[0]}", err=True)
            return 2
        result = download.download_source(source, args.raw_dir or DEFAULT_RAW / args.source, **options)
        say(result.message, err=not result.ok)
        return 0 if result.ok else 1 if result.status == "failed" else 3
    root = args.raw_dir or DEFAULT_RAW
    results, skipped = [], []
    for source_id, conv in sorted(converters().items()):
        if conv.source.access != "open" or not conv.source.downloads:
            skipped.append(conv.source)
            continue
        result = download.download_source(conv.source, root / source_id, **options)
        say(result.message, err=not result.ok)
        results.append(result)
    failed = [r.source_id for r in results if not r.ok]
    say(f"{len(results) - len(failed)} of {len(results)} downloadable sources complete in {root}")
    say(f"not downloaded ({len(skipped)}): obtain these yourself")
    for source in skipped:
        say(download.skipped_summary(source, root / source.id))
    if failed:
        say(f"error: failed: {', '.join(failed)}", err=True)
    return 1 if failed else 0


def _publish(args: argparse.Namespace) -> int:
    """The license-gated upload (or its plan, with --dry-run). Exit 0 done, 1 refused or failed."""
    say = _masked_printer()
    try:
        plan = publish.plan(
            args.out,
            args.repo_id,
            private=args.private,
            exclude_restricted=args.exclude_restricted,
            with_quarantine=args.with_quarantine,
            dua_permits_redistribution=args.dua,
        )
    except publish.PublishError as error:
        say(f"error: {error}", err=True)
        return 1
    for warning in plan.warnings:
        say(warning, err=True)
    say(("dry run, nothing uploaded: " if args.dry_run else "uploading ") + "\n".join(plan.lines()))
    if args.dry_run:
        return 0
    try:
        commit = publish.upload(plan, commit_message=args.message)
    except publish.PublishError as error:
        say(f"error: {error}", err=True)
        return 1
    except Exception:  # a bug or an unforeseen library error: its traceback, but never a token in it
        say(f"error: the upload to {args.repo_id} failed:\n{traceback.format_exc()}", err=True)
        return 1
    say(f"published: {commit.commit_url}")
    return 0


def _masked_printer():
    """print, with tokens masked in everything said and in the logs of the libraries used."""
    redact.install_log_masking()

    def say(text: str, err: bool = False) -> None:
        print(redact.mask(text), file=sys.stderr if err else sys.stdout)

    return say


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
