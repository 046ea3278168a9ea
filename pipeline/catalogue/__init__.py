"""The project's own copy of the MedS-Ins catalogue: every source and task of the paper, with its
category, domain and MedS-Bench membership, whether or not a converter exists for it yet.

`tasks.csv` lists the paper's tasks (one row per task), `sources.csv` the 58 corpora with access level,
license and homepage. The Super-NaturalInstructions row of `tasks.csv` is a placeholder for SNI's many
per-task files: `tasks()` replaces it by one task per row that `sni_tasks.csv` allows.

`sni_tasks.csv` is the reviewed list of SNI task files (one row per file: the derived task id, allow or
deny and why, our category and domain, the SNI category and Domains it was reviewed with, and where those
were checked: "task file" = the file itself was read, "tasks/README.md" = the repository's task index,
which lists each task's name, category and Domains). `sni_categories.csv` maps SNI's categories onto the
19 MedS-Ins categories (empty = no counterpart).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
SNI_SOURCE = "super_natural_instructions"
#: The row of tasks.csv standing for all SNI tasks; replaced by the allowed rows of sni_tasks.csv.
SNI_PLACEHOLDER = "super_natural_instructions_medical"


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


@dataclass(frozen=True)
class SniTask:
    """One reviewed Super-NaturalInstructions task file (a row of sni_tasks.csv)."""

    sni_file: str
    task_id: str
    decision: str  # allow | deny
    category: str
    domain: str
    labels: tuple[str, ...]
    sni_category: str
    sni_domains: tuple[str, ...]
    verified: str
    reason: str

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


@cache
def tasks() -> dict[str, CatalogueTask]:
    found: dict[str, CatalogueTask] = {}
    with open(HERE / "tasks.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["task_id"] == SNI_PLACEHOLDER:
                for sni in sni_tasks().values():
                    if sni.allowed:
                        name = sni.sni_file.removesuffix(".json")
                        found[sni.task_id] = CatalogueTask(
                            sni.task_id, SNI_SOURCE, sni.category, sni.domain, "", name, sni.reason
                        )
                continue
            found[row["task_id"]] = CatalogueTask(
                row["task_id"],
                row["source_id"],
                row["category"],
                row["domain"],
                row["bench"],
                row["paper_task_name"],
                row["note"],
            )
    return found


@cache
def sni_tasks() -> dict[str, SniTask]:
    """The reviewed SNI task files by file name."""
    with open(HERE / "sni_tasks.csv", newline="", encoding="utf-8") as f:
        return {
            row["sni_file"]: SniTask(
                row["sni_file"],
                row["task_id"],
                row["decision"],
                row["category"],
                row["domain"],
                tuple(label for label in row["labels"].split("|") if label),
                row["sni_category"],
                tuple(d.strip() for d in row["sni_domains"].split(";") if d.strip()),
                row["verified"],
                row["reason"],
            )
            for row in csv.DictReader(f)
        }


@cache
def sni_categories() -> dict[str, str]:
    """SNI category -> MedS-Ins category ("" where MedS-Ins has no counterpart)."""
    with open(HERE / "sni_categories.csv", newline="", encoding="utf-8") as f:
        return {row["sni_category"]: row["category"] for row in csv.DictReader(f)}


@cache
def sources() -> dict[str, CatalogueSource]:
    with open(HERE / "sources.csv", newline="", encoding="utf-8") as f:
        return {row["source_id"]: CatalogueSource(**row) for row in csv.DictReader(f)}


def tasks_of(source_id: str) -> list[CatalogueTask]:
    return [t for t in tasks().values() if t.source_id == source_id]
