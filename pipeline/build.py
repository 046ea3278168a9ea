"""extract -> split -> write for one source, and for every source whose raw files are present.

The converter streams items; each Record is checked against the instance schema, given its split
and handed to the Parquet writer of its task and split; each Rejection (and each Record that fails
a check) goes to the source's quarantine file with its reason. Nothing is held per record except an
8-byte hash of its id (to refuse duplicate ids), so memory does not grow with the corpus's text.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from pipeline import __version__, card, output, seeds, taskfile
from pipeline.decontaminate import decontaminate
from pipeline.model import SPLITS, MissingRawFiles, RawFiles, Record, Rejection, Task, detect_form
from pipeline.parquet import DEFAULT_SHARD_BYTES, ShardedWriter, add_outputs
from pipeline.quality import Merge, QualityConfig, QualityError, QualityStage
from pipeline.registry import Converter, ConverterError, converters
from pipeline.schemas import is_valid, violations
from pipeline.splits import hash_split


@dataclass
class SourceReport:
    """What happened to one source; printed by the CLI and kept in the manifest."""

    source_id: str
    status: str  # built | missing | failed
    form: str = ""
    instances: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)
    empty_tasks: list[str] = field(default_factory=list)
    quality: dict = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(n for splits in self.instances.values() for n in splits.values())

    def summary(self) -> str:
        if self.status != "built":
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
        return "; ".join(parts) + f" [{self.seconds:.1f}s]"


DEFAULT_QUALITY = QualityConfig()

#: Record-specific details inside a rejection reason: quoted values, paths, file names, numbers.
_DETAIL = re.compile(r"'[^']*'|\"[^\"]*\"|\S*/\S*|\S+\.(?:txt|tsv|json|jsonl|csv|xml|tmx|obo|gz|zip|xlsx)\b|\d+")


def reason_kind(reason: str) -> str:
    """The kind of a rejection, for counting: its reason with the record-specific details masked
    (the quarantine file keeps the full reason), so 750 missing abstracts count as one kind."""
    return " ".join(_DETAIL.sub("…", reason).split())


def check_record(record: Record, tasks: Mapping[str, Task]) -> None:
    """Raise when a record breaks the converter contract (an undeclared task, an unknown split): a bug
    in the converter, not in the data, so it stops the build instead of being quarantined."""
    if record.task_id not in tasks:
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
) -> SourceReport:
    """Build one source into `out`, replacing that source's previous output and keeping the rest.

    Raises MissingRawFiles when no declared form of the source is complete in `raw_dir`, and
    QualityError when a task fails the quality stage (then the previous output stays as it was)."""
    started = time.monotonic()
    source = conv.source
    files = detect_form(source, Path(raw_dir))
    definitions = {t.id: seeds.definitions(t.id, seeds_dir) for t in conv.tasks}  # fail before the long part
    out.mkdir(parents=True, exist_ok=True)
    output.clean_stale(out, source.id)
    staging = output.staging_dir(out, source.id)
    try:
        report = _convert(conv, files, staging, definitions, max_shard_bytes, quality)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # the previous output stays as it was
        raise
    report.seconds = time.monotonic() - started
    output.replace_source(out, staging, source.id)
    if clean_across_sources:
        # A new source's training rows may repeat another source's test inputs (and the reverse).
        decontaminate(out)
    if write_card:
        card.write(out)
    return report


def _convert(
    conv: Converter,
    files: RawFiles,
    staging: Path,
    definitions: dict[str, list[str]],
    max_shard_bytes: int,
    quality: QualityConfig,
) -> SourceReport:
    """Stream the converter into `staging`: Parquet shards, task files, quarantine, manifest."""
    source = conv.source
    report = SourceReport(source.id, "built", form=files.form.name)
    report.missing_files = [" or ".join(f.patterns) for f in files.missing]
    writers: dict[tuple[str, str], ShardedWriter] = {}
    seen: dict[str, set[int]] = defaultdict(set)  # 8-byte id hashes: memory per instance, not per text
    quarantined: Counter[str] = Counter()
    tasks_by_id = {t.id: t for t in conv.tasks}
    stage = QualityStage(quality, tasks_by_id)
    (staging / "quarantine").mkdir()
    with (
        open(staging / "quarantine" / f"{source.id}.jsonl", "w", encoding="utf-8") as quarantine,
        open(staging / MERGED_OUTPUTS, "w", encoding="utf-8") as merged,
    ):

        def reject(rule: str, reason: str, raw_file: str, locator: str, task_id: str | None, value: str | None) -> None:
            quarantined[reason_kind(reason)] += 1
            entry = {"source_id": source.id, "task_id": task_id, "rule": rule, "reason": reason}
            entry |= {"raw_file": raw_file, "locator": locator, "value": value}
            quarantine.write(json.dumps(entry, ensure_ascii=False) + "\n")

        for item in tqdm(conv.generate(files), desc=source.id, unit=" rec", disable=None, mininterval=1.0):
            if isinstance(item, Rejection):
                reject("converter", item.reason, item.raw_file, item.locator, item.task_id, item.value)
                continue
            if not isinstance(item, Record):
                raise ConverterError(f"{conv.module} yielded {type(item).__name__}, expected Record or Rejection")
            check_record(item, tasks_by_id)
            digest = int.from_bytes(hashlib.blake2b(item.id.encode(), digest_size=8).digest())
            where = (item.raw_file, item.locator, item.task_id)
            if digest in seen[item.task_id]:
                reject("duplicate-id", "duplicate instance id", *where, item.id)
                continue
            split = item.split or hash_split(source.id, item.group or item.key)
            row = {"id": item.id, "task_id": item.task_id, "source_id": source.id, "split": split}
            row |= {"input": item.input, "output": item.output, "outputs": [item.output]}
            row |= {"raw_file": item.raw_file, "locator": item.locator}
            if (violation := stage.validate(item)) is not None:
                reject(violation.rule, violation.message, *where, violation.value)
                continue
            if not is_valid("instance", row):
                reject("schema", next(violations("instance", row), "schema violation"), *where, item.id)
                continue
            verdict = stage.deduplicate(item)
            if isinstance(verdict, Merge):
                seen[item.task_id].add(digest)
                # Another right answer to an instance already written: kept on disk, not in memory,
                # until the task's shards are complete and can be given it.
                merged.write(json.dumps([item.task_id, verdict.into, item.output], ensure_ascii=False) + "\n")
                continue
            if verdict is not None:
                reject(verdict.rule, verdict.message, *where, verdict.value)
                continue
            seen[item.task_id].add(digest)
            key = (item.task_id, split)
            if key not in writers:
                writers[key] = ShardedWriter(staging / "data" / item.task_id, split, max_shard_bytes)
            writers[key].write(row)

    report.quality, failures = stage.finish()
    if failures:
        raise QualityError(f"{source.id}: the quality stage refused the build:\n  " + "\n  ".join(failures))
    extra = _merged_outputs(staging / MERGED_OUTPUTS)
    tasks: dict[str, dict] = {}
    (staging / "tasks").mkdir()
    for task in conv.tasks:
        shards = {s: writers[(task.id, s)].close() for s in SPLITS if (task.id, s) in writers}
        if task.id in extra:
            add_outputs([p for paths in shards.values() for p in paths], extra.pop(task.id))
        splits = {
            s: {"instances": writers[(task.id, s)].rows, "files": [p.relative_to(staging).as_posix() for p in paths]}
            for s, paths in shards.items()
        }
        tasks[task.id] = {"category": task.category, "domain": task.domain, "splits": splits}
        report.instances[task.id] = {s: v["instances"] for s, v in splits.items()}
        if not splits:
            report.empty_tasks.append(task.id)
            continue
        head = taskfile.header(source, task, definitions[task.id])
        problems = list(violations("task", head | {"Instances": []}))
        if problems:  # declared metadata, not data: a bug to fix in the converter or its seeds
            raise ConverterError(f"{task.id}: task file header violates the schema: {'; '.join(problems)}")
        taskfile.write(staging / "tasks" / f"{task.id}.json", head, [p for s in SPLITS for p in shards.get(s, [])])
    report.quarantined = dict(quarantined)
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


def build_all(raw_root: Path, out: Path, **options) -> list[SourceReport]:
    """Build every registered source that has a folder with its raw files under `raw_root`;
    report the others as missing instead of failing on them."""
    reports = []
    for source_id, conv in sorted(converters().items()):
        try:
            reports.append(
                build_source(conv, raw_root / source_id, out, write_card=False, clean_across_sources=False, **options)
            )
        except MissingRawFiles as missing:
            reports.append(SourceReport(source_id, "missing", message=str(missing)))
        except (ValueError, ConverterError, seeds.SeedError, QualityError) as error:
            # A malformed corpus fails its own source loudly; the other sources still build.
            reports.append(SourceReport(source_id, "failed", message=str(error)))
    if any(r.status == "built" for r in reports):
        decontaminate(out)
    card.write(out)
    return reports


def report_json(reports: list[SourceReport]) -> str:
    return json.dumps([asdict(r) for r in reports], indent=2)
