"""The project's own copy of the MedS-Ins catalogue: every source and task of the paper, with its
category, domain and MedS-Bench membership, whether or not a converter exists for it yet.

`tasks.csv` lists the paper's tasks (one row per task; the Super-NaturalInstructions row stands for
its many per-task files), `sources.csv` the 58 corpora with access level, license and homepage.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class CatalogueTask:
    task_id: str
    source_id: str
    category: str
    domain: str
    bench: str
    paper_name: str
    note: str


@dataclass(frozen=True)
class CatalogueSource:
    source_id: str
    name: str
    access: str
    license: str
    homepage: str
    citation: str


@cache
def tasks() -> dict[str, CatalogueTask]:
    with open(HERE / "tasks.csv", newline="", encoding="utf-8") as f:
        return {
            row["task_id"]: CatalogueTask(
                row["task_id"],
                row["source_id"],
                row["category"],
                row["domain"],
                row["bench"],
                row["paper_task_name"],
                row["note"],
            )
            for row in csv.DictReader(f)
        }


@cache
def sources() -> dict[str, CatalogueSource]:
    with open(HERE / "sources.csv", newline="", encoding="utf-8") as f:
        return {row["source_id"]: CatalogueSource(**row) for row in csv.DictReader(f)}


def tasks_of(source_id: str) -> list[CatalogueTask]:
    return [t for t in tasks().values() if t.source_id == source_id]
