"""Hand-written instructions per task: `seeds/<task_id>.yaml` with a `definitions` list. They
become the task file's `Definition` field (LLM rewrites are appended by the instruction stage)."""

from __future__ import annotations

from pathlib import Path

import yaml

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


class SeedError(Exception):
    pass


def definitions(task_id: str, seeds_dir: Path = SEEDS_DIR) -> list[str]:
    path = seeds_dir / f"{task_id}.yaml"
    if not path.is_file():
        raise SeedError(f"{task_id}: no seed instructions; write {path} with a 'definitions' list")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = data.get("definitions") if isinstance(data, dict) else None
    if not isinstance(found, list) or not all(isinstance(d, str) and d.strip() for d in found) or not found:
        raise SeedError(f"{path}: 'definitions' must be a non-empty list of non-empty strings")
    if data.get("task", task_id) != task_id:
        raise SeedError(f"{path}: declares task {data.get('task')!r}, expected {task_id!r}")
    return [" ".join(d.split()) for d in found]
