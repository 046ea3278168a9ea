"""The seven-field task file (MedS-Ins / Super-NaturalInstructions JSON), written by streaming the
task's Parquet shards so that even a task of millions of instances never sits in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring, encode_basestring_ascii
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


def _string(text: str) -> str:
    """A JSON string as json.dumps(ensure_ascii=False) writes it; the ASCII encoder (faster) for ASCII text, which
    differs only in writing DEL (U+007F) escaped: the same string once parsed."""
    return encode_basestring_ascii(text) if text.isascii() else encode_basestring(text)


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
                # Each instance as json.dumps(ensure_ascii=False) writes it, from the columns: no dict per row.
                ids, inputs, outputs, splits = (batch.column(c).to_pylist() for c in columns)
                for n, (key, text, answers, split) in enumerate(zip(ids, inputs, outputs, splits, strict=True)):
                    answers = ", ".join(map(_string, answers))
                    out.write(
                        ("\n    " if count + n == 0 else ",\n    ")
                        + f'{{"id": {_string(key)}, "input": {_string(text)}, "output": [{answers}], '
                        + f'"split": {_string(split)}}}'
                    )
                count += len(ids)
        out.write("\n  ]\n}\n" if count else "]\n}\n")
    return count
