"""The flat export: every instance of an output folder as one ready-to-train example, the way the
paper trained on MedS-Ins, in `OUT/flat/` beside the per-task configs.

    OUT/flat/zero-shot/<split>-00000-of-0000N.parquet    config "flat"
    OUT/flat/<K>-shot/<split>-00000-of-0000N.parquet     config "flat_<K>shot" (with --shots K)

Each row carries one instruction of its task's Definition list (seeds + accepted rewrites, as the
build wrote them to `OUT/tasks/<task_id>.json`), drawn by a hash of the instance id and `seed`, so
the same build gives the same file, and a rebuild that adds instances leaves the others' draws as
they were. The prompt is the paper's zero-shot template `{INSTRUCTION} Input: {INPUT}`; the
few-shot variant puts K cases of the same task's train split before it:

    Case1: Input: ..., Output: ...
    CaseK: Input: ..., Output: ...
    {INSTRUCTION} Please learn from the few-shot cases to see what content you have to output. Input: {INPUT}

Cases come from the train split only, never from test or validation, and never the instance itself;
they are drawn (by a hash of the instance id and `seed`) from a reservoir sample of at most `pool`
train instances per task, which bounds memory whatever the task's size. A task with fewer train
instances gives fewer cases (`shots` says how many; with none the row is the zero-shot prompt).

Columns, for the two kinds of SFT trainers:
  id, task_id, source_id, split, shots   provenance (`id` is the instance id of the task config)
  instruction, input, output             Alpaca style: `instruction` is everything before " Input: "
  messages                               [{role: user, content: the whole prompt}, {role: assistant,
                                         content: output}]: TRL's SFTTrainer conversational format
There is no `prompt` or `text` column on purpose: TRL takes a `prompt` column for the
prompt-completion format and would then ignore `messages`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.model import SPLITS
from pipeline.output import atomic_write_text
from pipeline.parquet import DEFAULT_SHARD_BYTES, ShardedWriter

FOLDER = "flat"
ZERO_SHOT = "zero-shot"
LEARN = "Please learn from the few-shot cases to see what content you have to output."
#: Train instances kept per task to draw few-shot cases from.
DEFAULT_POOL = 256

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("id", "task_id", "source_id", "split")]
    + [("shots", pa.int32())]
    + [(name, pa.string()) for name in ("instruction", "input", "output")]
    + [("messages", pa.list_(_MESSAGE))]
)
_SHARD = re.compile(r"(?P<split>[a-z]+)-\d{5}-of-\d{5}\.parquet")


class FlatError(ValueError):
    pass


@dataclass
class FlatReport:
    out: Path
    shots: int
    seed: int
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> rows
    tasks: int = 0
    fewer_shots: dict[str, int] = field(default_factory=dict)  # task -> rows with fewer than `shots` cases

    def summary(self) -> str:
        parts = [
            f"{name}: " + ", ".join(f"{n} {split}" for split, n in splits.items()) for name, splits in self.rows.items()
        ]
        line = f"flat export of {self.tasks} tasks into {self.out / FOLDER} (seed {self.seed}): " + "; ".join(parts)
        if self.fewer_shots:
            short = ", ".join(f"{t} ({n})" for t, n in sorted(self.fewer_shots.items()))
            line += f"; rows with fewer than {self.shots} train cases: {short}"
        return line


def config_name(folder: str) -> str:
    return "flat" if folder == ZERO_SHOT else f"flat_{folder.removesuffix('-shot')}shot"


def card_configs(out: Path) -> list[dict]:
    """The dataset-card configs of the flat export found in `out` (none when there is none)."""
    configs = []
    root = Path(out) / FOLDER
    folders = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for name in sorted(folders, key=lambda f: (f != ZERO_SHOT, f)):
        present = {m["split"] for p in (root / name).glob("*.parquet") if (m := _SHARD.fullmatch(p.name))}
        files = [{"split": s, "path": f"{FOLDER}/{name}/{s}-*.parquet"} for s in SPLITS if s in present]
        if files:
            configs.append({"config_name": config_name(name), "data_files": files})
    return configs


def _draw(seed: int, instance_id: str, purpose: str) -> int:
    digest = hashlib.blake2b(f"{seed}\0{purpose}\0{instance_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest)


def pick_instruction(definitions: list[str], instance_id: str, seed: int) -> str:
    return definitions[_draw(seed, instance_id, "instruction") % len(definitions)]


def zero_shot(instruction: str, text: str) -> str:
    return f"{instruction} Input: {text}"


def few_shot_instruction(instruction: str, cases: list[tuple[str, str]]) -> str:
    """Everything before " Input: " in the paper's few-shot template."""
    if not cases:
        return instruction
    shown = "\n".join(
        f"Case{i}: Input: {case_input}, Output: {case_output}" for i, (case_input, case_output) in enumerate(cases, 1)
    )
    return f"{shown}\n{instruction} {LEARN}"


def read_definitions(task_file: Path) -> list[str]:
    """The Definition list of a task file, read without parsing its (possibly huge) Instances."""
    try:
        with open(task_file, "rb") as f:
            found = next(ijson.items(f, "Definition"), None)
    except (OSError, ijson.JSONError) as error:
        raise FlatError(f"{task_file}: cannot read the task file ({error})") from None
    if not isinstance(found, list) or not found or not all(isinstance(d, str) and d for d in found):
        raise FlatError(f"{task_file}: 'Definition' must be a non-empty list of strings")
    return found


def _shards(task_dir: Path, split: str) -> list[Path]:
    return sorted(p for p in task_dir.glob(f"{split}-*.parquet") if _SHARD.fullmatch(p.name))


def _rows(shards: list[Path]):
    columns = ["id", "task_id", "source_id", "input", "output"]
    for shard in shards:
        for batch in pq.ParquetFile(shard).iter_batches(columns=columns, batch_size=1024):
            yield from batch.to_pylist()


def _reservoir(shards: list[Path], size: int, seed: int, task_id: str) -> list[tuple[str, str, str]]:
    """A uniform sample of at most `size` (id, input, output) of the shards, the same on every run."""
    rng = random.Random(_draw(seed, task_id, "pool"))
    kept: list[tuple[str, str, str]] = []
    for n, row in enumerate(_rows(shards)):
        item = (row["id"], row["input"], row["output"])
        if n < size:
            kept.append(item)
        elif (j := rng.randrange(n + 1)) < size:
            kept[j] = item
    return kept


def _cases(pool: list[tuple[str, str, str]], instance_id: str, shots: int, seed: int) -> list[tuple[str, str]]:
    """`shots` (input, output) cases of `pool`, never the instance itself, drawn by its id and `seed`.
    One more than needed is drawn, so dropping the instance (when it is in the pool) still leaves enough."""
    rng = random.Random(_draw(seed, instance_id, "cases"))
    picked = rng.sample(range(len(pool)), min(shots + 1, len(pool)))
    return [(pool[i][1], pool[i][2]) for i in picked if pool[i][0] != instance_id][:shots]


class _Writer(ShardedWriter):
    """Rows of one config and split into `<split>-0000i-of-0000N.parquet` shards capped by size."""

    schema = SCHEMA

    def row_bytes(self, row: dict) -> int:
        return 2 * (len(row["instruction"]) + len(row["input"]) + len(row["output"])) + 100


def _row(record: dict, split: str, instruction: str, shots: int) -> dict:
    prompt = zero_shot(instruction, record["input"])
    return {
        "id": record["id"],
        "task_id": record["task_id"],
        "source_id": record["source_id"],
        "split": split,
        "shots": shots,
        "instruction": instruction,
        "input": record["input"],
        "output": record["output"],
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": record["output"]}],
    }


def write_flat(
    out: Path,
    *,
    shots: int = 0,
    seed: int = 0,
    pool: int = DEFAULT_POOL,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
) -> FlatReport:
    """Write `OUT/flat/` from the tasks of the output folder `out` (replacing any previous flat
    export as a whole, by renames) and register its configs in the dataset card."""
    out = Path(out)
    if shots < 0:
        raise FlatError(f"shots must be 0 or more, got {shots}")
    if shots and pool <= shots:
        raise FlatError(f"the pool of train cases ({pool}) must be larger than shots ({shots})")
    task_dirs = sorted(p for p in (out / "data").iterdir() if p.is_dir()) if (out / "data").is_dir() else []
    if not task_dirs:
        raise FlatError(f"{out}: no task data under {out / 'data'}; build first")
    for stale in list(out.glob(".staging-flat-*")) + list(out.glob(".trash-flat-*")):
        shutil.rmtree(stale, ignore_errors=True)
    staging = out / f".staging-flat-{uuid.uuid4().hex[:8]}"
    report = FlatReport(out, shots, seed)
    variants = [ZERO_SHOT] + ([f"{shots}-shot"] if shots else [])
    writers: dict[tuple[str, str], _Writer] = {}
    fewer: Counter[str] = Counter()
    try:
        for task_dir in task_dirs:
            task_id = task_dir.name
            task_file = out / "tasks" / f"{task_id}.json"
            if not task_file.is_file():
                raise FlatError(f"{task_dir}: has data but no task file {task_file}; rebuild its source")
            definitions = read_definitions(task_file)
            cases = _reservoir(_shards(task_dir, "train"), pool, seed, task_id) if shots else []
            report.tasks += 1
            for split in SPLITS:
                for record in _rows(_shards(task_dir, split)):
                    instruction = pick_instruction(definitions, record["id"], seed)
                    for variant in variants:
                        key = (variant, split)
                        if key not in writers:
                            writers[key] = _Writer(staging / variant, split, max_shard_bytes)
                        if variant == ZERO_SHOT:
                            writers[key].write(_row(record, split, instruction, 0))
                            continue
                        chosen = _cases(cases, record["id"], shots, seed)
                        if len(chosen) < shots:
                            fewer[task_id] += 1
                        full = few_shot_instruction(instruction, chosen)
                        writers[key].write(_row(record, split, full, len(chosen)))
        for writer in writers.values():
            writer.close()
        target = out / FOLDER
        trash = out / f".trash-flat-{uuid.uuid4().hex[:8]}"
        if target.exists():
            os.replace(target, trash)
        staging.mkdir(exist_ok=True)
        settings = {"shots": shots, "seed": seed, "pool": pool}
        atomic_write_text(staging / "export.json", json.dumps(settings) + "\n")
        os.replace(staging, target)
        shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for (variant, split), writer in sorted(
        writers.items(), key=lambda kv: (kv[0][0] != ZERO_SHOT, SPLITS.index(kv[0][1]))
    ):
        report.rows.setdefault(config_name(variant), {})[split] = writer.rows
    report.fewer_shots = dict(fewer)
    from pipeline import card  # here: the card imports this module for `card_configs`

    card.write(out)
    return report
