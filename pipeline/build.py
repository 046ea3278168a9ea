"""extract -> split -> write for one source, and for every source whose raw files are present.

The converter streams items; each Record is checked against the instance schema, given its split
and handed to the Parquet writer of its task and split; each Rejection (and each Record that fails
a check) goes to the source's quarantine file with its reason. Nothing is held per record except an
8-byte hash of its id (to refuse duplicate ids), so memory does not grow with the corpus's text.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import re
import shutil
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tqdm import tqdm

from pipeline import __version__, card, fingerprint, output, seeds, taskfile
from pipeline.decontaminate import decontaminate
from pipeline.model import SPLITS, MissingRawFiles, RawFiles, Record, Rejection, Task, detect_form
from pipeline.parquet import DEFAULT_SHARD_BYTES, ShardedWriter, add_outputs
from pipeline.pool import Runner, default_workers
from pipeline.quality import Merge, QualityConfig, QualityError, QualityStage
from pipeline.registry import Converter, ConverterError, converters, get
from pipeline.schemas import is_valid, violations
from pipeline.splits import hash_split
from pipeline.validation import Violation

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")


@dataclass
class SourceReport:
    """What happened to one source; printed by the CLI and kept in the manifest."""

    source_id: str
    status: str  # built | reused | missing | failed
    form: str = ""
    instances: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)
    empty_tasks: list[str] = field(default_factory=list)
    quality: dict = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0
    #: Why the source was built ("raw: ori_pqal.json changed", "first build", "forced") or reused
    #: ("unchanged: raw, code, seeds, config"); see pipeline/fingerprint.py.
    reason: str = ""
    #: Train/validation rows of this source's tasks that the decontamination run after the build removed
    #: (task -> rows) because their input overlaps a test input; listed in reports/decontamination.jsonl.
    decontaminated: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(n for splits in self.instances.values() for n in splits.values())

    def summary(self) -> str:
        if self.status not in ("built", "reused"):
            first = self.message.splitlines()[0] if self.message else ""
            return f"{self.source_id}: {self.status}. {first}"
        parts = [f"{self.source_id}: {self.total} instances in {len(self.instances)} tasks ({self.form} form)"]
        if self.quarantined:
            ranked = sorted(self.quarantined.items(), key=lambda kv: (-kv[1], kv[0]))
            reasons = ", ".join(f"{n} {r}" for r, n in ranked[:5]) + (
                f" (+{len(ranked) - 5} more kinds)" if len(ranked) > 5 else ""
            )
            parts.append(f"quarantined {sum(self.quarantined.values())}: {reasons}")
        if self.missing_files:
            parts.append("missing optional files: " + ", ".join(self.missing_files))
        if self.empty_tasks:
            parts.append("tasks without records: " + ", ".join(self.empty_tasks))
        if self.decontaminated:
            removed = ", ".join(f"{t} {n}" for t, n in sorted(self.decontaminated.items()))
            parts.append(
                f"decontamination removed {sum(self.decontaminated.values())} train/validation rows whose input "
                f"overlaps a test input ({removed}; see reports/decontamination.jsonl)"
            )
        why = f"; {self.status}: {self.reason}" if self.reason else ""
        return "; ".join(parts) + f" [{self.seconds:.1f}s]" + why


DEFAULT_QUALITY = QualityConfig()

#: Record-specific details inside a rejection reason: quoted values, paths, file names, numbers.
_DETAIL = re.compile(r"'[^']*'|\"[^\"]*\"|\S*/\S*|\S+\.(?:txt|tsv|json|jsonl|csv|xml|tmx|obo|gz|zip|xlsx)\b|\d+")


def reason_kind(reason: str) -> str:
    """The kind of a rejection, for counting: its reason with the record-specific details masked
    (the quarantine file keeps the full reason), so 750 missing abstracts count as one kind. Numbers
    read as "N" ("cop N is out of range N-N"), other details as "…"."""
    return " ".join(_DETAIL.sub(lambda m: "N" if m[0].isdigit() else "…", reason).split())


def check_record(record: Record, tasks: Mapping[str, Task], part: str | None = None) -> None:
    """Raise when a record breaks the converter contract (an undeclared task, a task its raw file's part
    does not declare, an unknown split): a bug in the converter, not in the data, so it stops the build
    instead of being quarantined."""
    if record.task_id not in tasks:
        if part is not None:
            raise ConverterError(
                f"{record.id}: converter yielded a record of task {record.task_id!r} from raw file {part!r}, "
                f"whose PARTS entry does not list that task"
            )
        raise ConverterError(f"converter yielded a record for undeclared task {record.task_id!r}")
    if record.split is not None and record.split not in SPLITS:
        raise ConverterError(f"{record.id}: split must be one of {SPLITS}, got {record.split!r}")


def build_source(
    conv: Converter,
    raw_dir: Path,
    out: Path,
    *,
    seeds_dir: Path = seeds.SEEDS_DIR,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
    write_card: bool = True,
    quality: QualityConfig = DEFAULT_QUALITY,
    clean_across_sources: bool = True,
    force: bool = False,
    workers: int | None = None,
) -> SourceReport:
    """Build one source into `out`, replacing that source's previous output and keeping the rest.
    When the source's raw files, code, seeds and config are those of its previous build and that
    output is intact, nothing is converted: the report says "reused" (unless `force`). `workers`:
    processes for a source whose raw files convert apart (see `parts_of`); by default one per core
    when its raw files are large (PARTS_POOL_MIN_BYTES), 1 (this process) when they are not.

    Raises MissingRawFiles when no declared form of the source is complete in `raw_dir`, and
    QualityError when a task fails the quality stage (then the previous output stays as it was)."""
    started = time.monotonic()
    source = conv.source
    files = detect_form(source, Path(raw_dir))
    definitions = {t.id: seeds.definitions(t.id, seeds_dir) for t in conv.tasks}  # fail before the long part
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = {"max_shard_bytes": max_shard_bytes, "quality": quality}
    current = fingerprint.compute(
        conv.module, files, conv.task_ids, seeds_dir, config, fingerprint.raw_cache(out, source.id)
    )
    previous = _read_manifest(out, source.id)
    why = "forced" if force else _why_rebuild(out, previous, current)
    if previous is not None and not why:
        report = _reused(previous)
        report.seconds = time.monotonic() - started
        if clean_across_sources:
            finish(out, [report], write_card=write_card)
        elif write_card:
            card.write(out)
        return report
    output.clean_stale(out, source.id)
    staging = output.staging_dir(out, source.id)
    try:
        report = _convert(conv, files, staging, definitions, max_shard_bytes, quality, workers)
        _stamp(staging, source.id, current)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # the previous output stays as it was
        raise
    report.reason = why
    report.seconds = time.monotonic() - started
    output.replace_source(out, staging, source.id)
    if clean_across_sources:
        # A new source's training rows may repeat another source's test inputs (and the reverse).
        finish(out, [report], write_card=write_card)
    elif write_card:
        card.write(out)
    return report


def _read_manifest(out: Path, source_id: str) -> dict | None:
    path = output.manifest_path(out, source_id)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return None  # a damaged manifest: rebuilding replaces it


def _why_rebuild(out: Path, previous: dict | None, current: fingerprint.Fingerprint) -> str:
    """Why the source must be converted again; "" when its previous output can be kept."""
    if previous is None:
        return "first build"
    changed = fingerprint.changes(previous.get("fingerprint"), current)
    if changed:
        return "; ".join(changed)
    problem = fingerprint.output_problem(out, previous)
    return f"previous output not intact: {problem}" if problem else ""


def _reused(manifest: dict) -> SourceReport:
    """The report of a source kept as it is, from its manifest (counts after any decontamination)."""
    return SourceReport(
        manifest["source"]["id"],
        "reused",
        form=manifest.get("form", ""),
        instances={t: {s: v["instances"] for s, v in i["splits"].items()} for t, i in manifest["tasks"].items()},
        quarantined=dict(manifest.get("quarantined", {}).get("by_reason", {})),
        missing_files=list(manifest.get("missing_files", [])),
        empty_tasks=list(manifest.get("empty_tasks", [])),
        quality=manifest.get("quality", {}),
        reason="unchanged: " + ", ".join(fingerprint.PARTS),
    )


def _stamp(staging: Path, source_id: str, current: fingerprint.Fingerprint) -> None:
    """Record the fingerprint in the staged manifest, so it is swapped in with the output it describes."""
    path = output.manifest_path(staging, source_id)
    manifest = json.loads(path.read_text(encoding="utf-8")) | {"fingerprint": current}
    output.atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")


def _convert(
    conv: Converter,
    files: RawFiles,
    staging: Path,
    definitions: dict[str, list[str]],
    max_shard_bytes: int,
    quality: QualityConfig,
    workers: int | None = None,
) -> SourceReport:
    """Stream the converter into `staging`: Parquet shards, task files, quarantine, manifest. A source whose
    raw files feed disjoint tasks (the converter's PARTS) converts each file in its own process."""
    source = conv.source
    report = SourceReport(source.id, "built", form=files.form.name)
    report.missing_files = [" or ".join(f.patterns) for f in files.missing]
    (staging / "quarantine").mkdir()
    (staging / "tasks").mkdir()
    pieces = parts_of(conv, files)
    if len(pieces) == 1:
        workers = 1
    elif workers is None:  # starting processes costs seconds: not worth it for a small source (tests, the samples)
        small = sum(os.stat(p).st_size for piece in pieces for ps in piece.files.found.values() for p in ps)
        workers = 1 if small < PARTS_POOL_MIN_BYTES else default_workers()
    jobs = [
        (conv, piece, staging, {t: definitions[t] for t in piece.task_ids}, max_shard_bytes, quality)
        for piece in pieces
    ]
    with Runner(max(1, min(workers, len(jobs)))) as runner:
        done = list(runner.map(_convert_part, jobs))
    failures = [f for part in done for f in part.failures]
    if failures:
        raise QualityError(f"{source.id}: the quality stage refused the build:\n  " + "\n  ".join(failures))
    quarantine = staging / "quarantine" / f"{source.id}.jsonl"
    if len(pieces) == 1:
        pieces[0].quarantine(staging).rename(quarantine)
    else:
        with open(quarantine, "wb") as joined:  # in the order the parts' files are declared, as one process writes
            for piece in pieces:
                with open(piece.quarantine(staging), "rb") as part:
                    shutil.copyfileobj(part, joined)
                piece.quarantine(staging).unlink()
    built = {t: entry for part in done for t, entry in part.tasks.items()}
    tasks = {t.id: built.get(t.id, {"category": t.category, "domain": t.domain, "splits": {}}) for t in conv.tasks}
    for task_id, entry in tasks.items():
        report.instances[task_id] = {s: v["instances"] for s, v in entry["splits"].items()}
        if not entry["splits"]:
            report.empty_tasks.append(task_id)
    quarantined = sum((part.quarantined for part in done), Counter())
    report.quarantined = dict(quarantined)
    report.quality = dict(sorted((t, q) for part in done for t, q in part.quality.items()))
    manifest = {
        "source": {
            k: getattr(source, k) for k in ("id", "name", "version", "homepage", "license", "access", "citation")
        },
        "converter": conv.module,
        "pipeline_version": __version__,
        "form": files.form.name,
        "missing_files": report.missing_files,
        "tasks": tasks,
        "empty_tasks": report.empty_tasks,
        "quarantined": {"total": sum(quarantined.values()), "by_reason": dict(quarantined)},
        "quality": report.quality,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output.atomic_write_text(output.manifest_path(staging, source.id), json.dumps(manifest, indent=2) + "\n")
    return report


#: Raw bytes from which a source with PARTS converts them in parallel when the caller does not say.
PARTS_POOL_MIN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Piece:
    """What one process of a source's build converts: some of its raw files and the tasks they alone feed."""

    number: int
    name: str | None  # the raw file of a part (PARTS), None for the whole source
    files: RawFiles
    task_ids: tuple[str, ...]

    def quarantine(self, staging: Path) -> Path:
        return staging / "quarantine" / f".part-{self.number}.jsonl"


def parts_of(conv: Converter, files: RawFiles) -> list[Piece]:
    """The pieces a build of `files` converts: one per present raw file of the converter's PARTS, or the whole
    source when it declares none or a present file belongs to no part."""
    present = [name for name, paths in files.found.items() if paths]
    named = dict(conv.parts)
    if not named or not present or any(name not in named for name in present):
        return [Piece(0, None, files, conv.task_ids)]
    return [
        Piece(n, name, replace(files, found={name: files.found[name]}), ids)
        for n, (name, ids) in enumerate((name, ids) for name, ids in conv.parts if files.found.get(name))
    ]


@dataclass
class _Done:
    """What a piece's process built, for the source's manifest and report."""

    tasks: dict[str, dict]
    quarantined: Counter[str]
    quality: dict
    failures: list[str]


def _convert_part(
    conv: Converter,
    piece: Piece,
    staging: Path,
    definitions: dict[str, list[str]],
    max_shard_bytes: int,
    quality: QualityConfig,
) -> _Done:
    """Stream one piece into `staging` (its tasks' shards and task files; its quarantine lines to the piece's
    own file). Its tasks are no other piece's, so nothing here needs what another process sees."""
    source = conv.source
    writers: dict[tuple[str, str], ShardedWriter] = {}
    quarantined: Counter[str] = Counter()
    tasks_by_id = {t.id: t for t in conv.tasks if t.id in piece.task_ids}
    stage = QualityStage(quality, tasks_by_id)
    spill = staging / f"{MERGED_OUTPUTS}.{piece.number}"
    with (
        open(piece.quarantine(staging), "w", encoding="utf-8") as quarantine,
        open(spill, "w", encoding="utf-8") as merged,
    ):

        def reject(rule: str, reason: str, raw_file: str, locator: str, task_id: str | None, value: str | None) -> None:
            quarantined[reason_kind(reason)] += 1
            entry = {"source_id": source.id, "task_id": task_id, "rule": rule, "reason": reason}
            entry |= {"raw_file": raw_file, "locator": locator, "value": value}
            quarantine.write(json.dumps(entry, ensure_ascii=False) + "\n")

        name = source.id if piece.name is None else f"{source.id} ({piece.name})"
        items = tqdm(conv.generate(piece.files), desc=name, unit=" rec", disable=None, mininterval=1.0)
        for batch in _batches(items, BATCH):
            # The record-level checks one record at a time, then the batch's duplicate checks in one compiled
            # loop (pipeline.quality.QualityStage.screen), then the verdicts in the converter's order.
            records, splits, rows, problems = [], [], [], []
            for item in batch:
                if isinstance(item, Rejection):
                    continue
                if not isinstance(item, Record):
                    raise ConverterError(f"{conv.module} yielded {type(item).__name__}, expected Record or Rejection")
                check_record(item, tasks_by_id, piece.name)
                split = item.split or hash_split(source.id, item.group or item.key)
                row = {"id": item.id, "task_id": item.task_id, "source_id": source.id, "split": split}
                row |= {"input": item.input, "output": item.output, "outputs": [item.output]}
                row |= {"raw_file": item.raw_file, "locator": item.locator}
                problem = stage.validate(item)
                if problem is None and not is_valid("instance", row):
                    problem = Violation("schema", next(violations("instance", row), "schema violation"), item.id)
                records.append(item)
                splits.append(split)
                rows.append(row)
                problems.append(problem)
            verdicts = iter(zip(records, splits, rows, stage.screen(records, splits, problems), strict=True))
            for item in batch:
                if isinstance(item, Rejection):
                    reject("converter", item.reason, item.raw_file, item.locator, item.task_id, item.value)
                    continue
                item, split, row, verdict = next(verdicts)
                if isinstance(verdict, Merge):
                    # Another right answer to an instance already written: kept on disk, not in memory,
                    # until the task's shards are complete and can be given it.
                    merged.write(json.dumps([item.task_id, verdict.into, item.output], ensure_ascii=False) + "\n")
                elif verdict is not None:
                    reject(verdict.rule, verdict.message, item.raw_file, item.locator, item.task_id, verdict.value)
                else:
                    key = (item.task_id, split)
                    if key not in writers:
                        writers[key] = ShardedWriter(staging / "data" / item.task_id, split, max_shard_bytes)
                    writers[key].write(row)

    report, failures = stage.finish()
    extra = _merged_outputs(spill)
    tasks: dict[str, dict] = {}
    for task in tasks_by_id.values():
        shards = {s: writers[(task.id, s)].close() for s in SPLITS if (task.id, s) in writers}
        if task.id in extra:
            add_outputs([p for paths in shards.values() for p in paths], extra.pop(task.id))
        splits = {
            s: {"instances": writers[(task.id, s)].rows, "files": [p.relative_to(staging).as_posix() for p in paths]}
            for s, paths in shards.items()
        }
        tasks[task.id] = {"category": task.category, "domain": task.domain, "splits": splits}
        if not splits or failures:  # (a refused build writes no task file: it is thrown away)
            continue
        head = taskfile.header(source, task, definitions[task.id])
        problems = list(violations("task", head | {"Instances": []}))
        if problems:  # declared metadata, not data: a bug to fix in the converter or its seeds
            raise ConverterError(f"{task.id}: task file header violates the schema: {'; '.join(problems)}")
        taskfile.write(staging / "tasks" / f"{task.id}.json", head, [p for s in SPLITS for p in shards.get(s, [])])
    return _Done(tasks, quarantined, report, failures)


#: Records read ahead of the quality stage, so that it can prepare the batch's near-duplicate sketches at once.
BATCH = 512


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


#: Spill file of the extra answers of tasks with `several_outputs`, inside the staging folder.
MERGED_OUTPUTS = ".merged-outputs.jsonl"


def _merged_outputs(path: Path) -> dict[str, dict[str, list[str]]]:
    """task -> instance id -> its further answers, in the order they came, read back from the spill
    file (which is then deleted). Only tasks that allow several answers have any."""
    extra: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            task_id, into, answer = json.loads(line)
            extra[task_id][into].append(answer)
    path.unlink()
    return extra


def build_all(
    raw_root: Path,
    out: Path,
    *,
    force: bool = False,
    workers: int | None = None,
    dask_address: str | None = None,
    **options,
) -> list[SourceReport]:
    """Build every registered source that has a folder with its raw files under `raw_root`;
    report the others as missing instead of failing on them. Sources build in parallel (see
    `build_sources`); decontamination and the card run once, here, after all of them."""
    reports = build_sources(raw_root, out, force=force, workers=workers, dask_address=dask_address, **options)
    finish(out, reports)
    return reports


def build_sources(
    raw_root: Path,
    out: Path,
    *,
    force: bool = False,
    workers: int | None = None,
    dask_address: str | None = None,
    **options,
) -> list[SourceReport]:
    """Convert every registered source under `raw_root` into `out`, one source per job: on the Dask
    cluster at `dask_address` if given, else in a pool of `workers` processes (default: one per core;
    1 builds in this process). Each job stages its own source and swaps it in, touching only the
    files that source owns, so jobs never write the same path. Reports come in source order. A large
    source with PARTS starts its own processes inside its job (see `build_source`): for a while there are
    more processes than cores, which costs little, and the biggest source no longer runs alone at the end.

    A reused source whose rows an earlier decontamination removed against a test task of a source
    rebuilt now is rebuilt too: that test set may have lost the rows that removed them, and a fresh
    build of everything would keep those rows."""
    raw_root, out = Path(raw_root).absolute(), Path(out).absolute()  # workers may have another cwd
    out.mkdir(parents=True, exist_ok=True)
    ids = sorted(converters())
    # Largest first: with sources from 500 abstracts to 2 million notes, a big one started last would run
    # alone at the end while the other workers idle (longest-processing-time-first scheduling).
    biggest = sorted(ids, key=lambda s: (-raw_bytes(raw_root / s), s))
    if workers == 1:  # one process in all: a source with PARTS converts them in turn too
        options = options | {"workers": 1}
    with _runner(workers, dask_address, len(ids)) as run:
        done = {r.source_id: r for r in run([(s, raw_root / s, force) for s in biggest], out, options)}
        reports = [done[s] for s in ids]
        again = decontamination_dependents(out, reports)
        if again:
            redone = {r.source_id: r for r in run([(s, raw_root / s, True) for s in sorted(again)], out, options)}
            for report in redone.values():
                if report.status == "built":
                    report.reason = again[report.source_id]
            reports = [redone.get(r.source_id, r) for r in reports]
    return reports


def raw_bytes(folder: Path) -> int:
    """Bytes of the files under a source's raw folder (0 when it has none): the cost estimate sources are
    scheduled by. Stat calls only; a folder of many small files costs a directory walk."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.stat(os.path.join(parent, name)).st_size
            except OSError:
                continue  # vanished or a dangling link: the build reports what is missing
    return total


def build_one(source_id: str, raw_dir: Path, out: Path, options: dict, force: bool = False) -> SourceReport:
    """One source of `build_sources`, in whichever process runs it: the expected failures become the
    report's status; anything else (a bug) propagates and stops the build."""
    try:
        return build_source(
            get(source_id), raw_dir, out, write_card=False, clean_across_sources=False, force=force, **options
        )
    except MissingRawFiles as missing:
        return SourceReport(source_id, "missing", message=str(missing))
    except (ValueError, ConverterError, seeds.SeedError, QualityError) as error:
        # A malformed corpus fails its own source loudly; the other sources still build.
        return SourceReport(source_id, "failed", message=str(error))


Run = Callable[[list[tuple[str, Path, bool]], Path, dict], list[SourceReport]]


class ClusterError(RuntimeError):
    """The Dask scheduler given for a distributed build cannot be reached or its address is malformed."""


@contextmanager
def _runner(workers: int | None, dask_address: str | None, jobs: int) -> Iterator[Run]:
    if dask_address:
        from distributed import Client  # only a distributed build needs Dask

        try:
            client = Client(dask_address)
        except (OSError, ValueError) as error:  # unreachable, or not an address
            raise ClusterError(f"cannot use the Dask scheduler at {dask_address}: {error}") from error
        with client:
            check_cluster(client, dask_address)

            def on_cluster(batch: list[tuple[str, Path, bool]], out: Path, options: dict) -> list[SourceReport]:
                futures = [
                    client.submit(build_one, s, raw, out, options, force, key=f"build-{s}-{uuid.uuid4().hex}")
                    for s, raw, force in batch
                ]
                try:
                    return client.gather(futures)
                except BaseException:
                    client.cancel(futures)  # running builds finish (their swap is atomic); queued ones do not start
                    raise

            yield on_cluster
        return
    workers = min(workers or default_workers(), jobs)
    if workers <= 1:
        yield lambda batch, out, options: [build_one(s, raw, out, options, force) for s, raw, force in batch]
        return
    # spawn, not fork: the parent may hold threads (Prefect's API clients, tqdm's monitor) a fork would copy.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:

        def in_pool(batch: list[tuple[str, Path, bool]], out: Path, options: dict) -> list[SourceReport]:
            futures = [pool.submit(build_one, s, raw, out, options, force) for s, raw, force in batch]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

        yield in_pool


#: Evaluated on the scheduler and on each worker with the builtin `eval` (which any Python can unpickle,
#: unlike a function of ours): fails there when the pipeline is not installed.
_IMPORTABLE = "__import__('pipeline.build').__name__"
_ENVIRONMENT = "__import__('pipeline.fingerprint', fromlist=['environment']).environment()"


def check_cluster(client: Client, address: str) -> None:
    """Refuse a cluster that cannot run this build as this process would. A scheduler or worker without the
    pipeline installed cannot unpickle the jobs: Dask then fails with a traceback or, on a worker, hangs for
    good; a worker with other code (another version, a stale process) would convert with it. A cluster with
    no worker yet (an adaptive one) is not checked: its workers start with the jobs."""
    fix = "install this project (pip install -e .) in the cluster's environment, at the same version as here"
    try:
        client.run_on_scheduler(eval, _IMPORTABLE)
    except Exception as error:
        raise ClusterError(f"the Dask scheduler at {address} cannot import the pipeline ({error!r}): {fix}") from error
    found = client.run(eval, _ENVIRONMENT, on_error="return")
    if not found:
        return
    here = fingerprint.environment()
    for worker, theirs in sorted(found.items()):
        if isinstance(theirs, BaseException):
            raise ClusterError(f"Dask worker {worker} cannot import the pipeline ({theirs!r}): {fix}")
        differ = sorted(k for k in set(here) | set(theirs) if here.get(k) != theirs.get(k))
        if differ:
            shown = ", ".join(differ[:5]) + (f" (+{len(differ) - 5} more)" if len(differ) > 5 else "")
            raise ClusterError(
                f"Dask worker {worker} runs other pipeline code than this process (different: {shown}): {fix}"
            )


def decontamination_dependents(out: Path, reports: list[SourceReport]) -> dict[str, str]:
    """Reused sources (-> why they must be rebuilt) that lost rows to a test task of a source built in
    `reports`, or to a test task no manifest owns any more, according to reports/decontamination.jsonl."""
    rebuilt = {r.source_id for r in reports if r.status == "built"}
    reused = {r.source_id for r in reports if r.status == "reused"}
    lines = out / DECONTAMINATION_LINES
    if not rebuilt or not reused or not lines.is_file():
        return {}
    owner, built_at = {}, {}
    for manifest in output.read_manifests(out):
        source_id = manifest["source"]["id"]
        built_at[source_id] = manifest.get("built_at")
        owner |= {task_id: source_id for task_id in manifest["tasks"]}
    found: dict[str, set[str]] = defaultdict(set)
    with open(lines, encoding="utf-8") as entries:
        for text in entries:
            entry = json.loads(text)
            source_id = entry.get("source_id")
            if source_id not in reused or entry.get("source_built_at") != built_at.get(source_id):
                continue  # a row of a source built now, or a line the next decontamination drops
            test_source = owner.get(entry.get("overlaps_test_task"))
            if test_source is None or test_source in rebuilt:
                found[source_id].add(test_source or f"the former task {entry.get('overlaps_test_task')}")
    return {s: "decontaminated against rebuilt " + ", ".join(sorted(by)) for s, by in found.items() if by}


#: Where `decontaminate` lists the rows it removed, one JSON object per line.
DECONTAMINATION_LINES = "reports/decontamination.jsonl"
#: The state of the folder (every source's build) the last decontamination ran on.
_DECONTAMINATED = "decontaminated.json"


def finish(out: Path, reports: list[SourceReport], *, write_card: bool = True) -> None:
    """After sources are built: decontaminate the whole folder (unless it already was, in the state it
    is in now, e.g. when every source was reused) and write the dataset card. Each report is told what
    the decontamination removed from its tasks, so the build report names planted leaks too."""
    out = Path(out)
    if any(r.status in ("built", "reused") for r in reports) or output.read_manifests(out):
        state = _folder_state(out)
        if any(r.status == "built" for r in reports) or fingerprint.read_state(out, _DECONTAMINATED) != state:
            removed = decontaminate(out).removed
            fingerprint.write_state(out, _DECONTAMINATED, state)
            for report in reports:
                report.decontaminated = {t: n for t, n in removed.items() if t in report.instances}
    if write_card:
        card.write(out)


def _folder_state(out: Path) -> dict[str, str]:
    """Each source's build, named by its built_at and fingerprint: what decontamination depends on."""
    return {
        m["source"]["id"]: hashlib.sha256(
            json.dumps([m.get("built_at"), m.get("fingerprint")], sort_keys=True).encode()
        ).hexdigest()
        for m in output.read_manifests(out)
    }


def report_json(reports: list[SourceReport]) -> str:
    return json.dumps([asdict(r) for r in reports], indent=2)
