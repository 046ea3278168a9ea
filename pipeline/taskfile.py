"""The seven-field task file (MedS-Ins / Super-NaturalInstructions JSON), written by streaming the
task's Parquet shards so that even a task of millions of instances never sits in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.model import Source, Task

CONTRIBUTORS = ["MedS-Ins pipeline contributors"]
#: Rows read back at once: pyarrow's default (65,536) held ~300 MB of a radiology task as Python objects.
BATCH_ROWS = 2048


def header(source: Source, task: Task, definitions: list[str]) -> dict:
    """Every field of the task file except Instances, in the order the file shows them."""
    return {
        "Task": task.id,
        "Source_id": source.id,
        "Source": source.name,
        "URL": source.homepage,
        "License": source.license,
        "Access": source.access,
        "Citation": source.citation,
        "Contributors": CONTRIBUTORS,
        "Categories": [task.category],
        "Domains": [task.domain, *task.tags],
        "Definition": definitions,
        "Input_language": [task.input_language],
        "Output_language": [task.output_language],
        "Instruction_language": [task.instruction_language],
    }


def write(path: Path, head: dict, shards: Iterable[Path]) -> int:
    """Write the task file with Instances last (so readers can stream the header first)."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("{\n")
        for key, value in head.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
        out.write('  "Instances": [')
        for shard in shards:
            columns = ["id", "input", "outputs", "split"]
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=BATCH_ROWS, columns=columns):
                for row in batch.to_pylist():
                    instance = {"id": row["id"], "input": row["input"], "output": row["outputs"]}
                    instance["split"] = row["split"]
                    out.write(("\n    " if count == 0 else ",\n    ") + json.dumps(instance, ensure_ascii=False))
                    count += 1
        out.write("\n  ]\n}\n" if count else "]\n}\n")
    return count
