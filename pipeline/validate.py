"""`python -m pipeline validate PATH`: check a task JSON file, or a whole output folder (task files
and every Parquet row), against the schemas, reporting each violation with the task, the instance
id and the JSON path. Task files are streamed, so a file of millions of instances is fine."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import ijson
import pyarrow.parquet as pq

from pipeline.schemas import violations


def task_file(path: Path) -> Iterator[str]:
    """Violations in one task file: '<file>: task <id> instance <id> at <path>: <message>'."""
    head: dict = {}
    try:
        with open(path, "rb") as f:
            for key, value in ijson.kvitems(f, ""):
                if key == "Instances":
                    break  # our writer puts Instances last; read them below, one at a time
                head[key] = value
        task = head.get("Task") or path.stem
        yield from (f"{path}: task {task} at {v}" for v in violations("task", head | {"Instances": []}))
        with open(path, "rb") as f:
            for index, instance in enumerate(ijson.items(f, "Instances.item")):
                ident = instance.get("id", f"#{index}") if isinstance(instance, dict) else f"#{index}"
                for v in violations("task#instance", instance, prefix=f"$.Instances[{index}]"):
                    yield f"{path}: task {task} instance {ident} at {v}"
    except (ijson.JSONError, UnicodeDecodeError) as error:
        yield f"{path}: not valid JSON: {error}"


def parquet_file(path: Path, task: str) -> Iterator[str]:
    split = path.name.split("-", 1)[0]
    for batch in pq.ParquetFile(path).iter_batches():
        for row in batch.to_pylist():
            ident = row.get("id")
            for v in violations("instance", row):
                yield f"{path}: task {task} instance {ident} at {v}"
            if row.get("task_id") != task:
                yield f"{path}: task {task} instance {ident} at $.task_id: {row.get('task_id')!r} is not {task!r}"
            if row.get("split") != split:
                yield f"{path}: task {task} instance {ident} at $.split: {row.get('split')!r} in a {split} shard"


def folder(out: Path) -> Iterator[str]:
    tasks = sorted((out / "tasks").glob("*.json"))
    shards = sorted((out / "data").glob("*/*.parquet"))
    if not tasks and not shards:
        yield f"{out}: no tasks/*.json and no data/*/*.parquet: not an output folder"
    for path in tasks:
        yield from task_file(path)
    for path in shards:
        yield from parquet_file(path, path.parent.name)


def main(path: Path) -> int:
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    problems = 0
    for line in folder(path) if path.is_dir() else task_file(path):
        print(line)
        problems += 1
    print(f"{path}: {'OK' if not problems else f'{problems} violation(s)'}")
    return 1 if problems else 0
