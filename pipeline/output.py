"""The output folder's layout, and how one source's files replace its previous ones.

    <out>/README.md                         dataset card (YAML configs for `datasets`)
    <out>/data/<task_id>/<split>-00000-of-0000N.parquet
    <out>/tasks/<task_id>.json              seven-field task file
    <out>/quarantine/<source_id>.jsonl      rejected raw records, one JSON object per line
    <out>/sources/<source_id>.json          build manifest of the source (what the card is made from)

A build writes everything into a staging folder inside <out> (same file system), then swaps it in
with renames, so an interrupted build leaves the previous output as it was and never half a shard.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path


def manifest_path(out: Path, source_id: str) -> Path:
    return out / "sources" / f"{source_id}.json"


def read_manifests(out: Path) -> list[dict]:
    folder = out / "sources"
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def staging_dir(out: Path, source_id: str) -> Path:
    path = out / f".staging-{source_id}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    return path


def clean_stale(out: Path, source_id: str) -> None:
    """Remove the staging and trash folders that killed builds of `source_id` left behind (only that
    source's: other sources may be building into the same folder at this moment)."""
    for stale in list(out.glob(f".staging-{source_id}-*")) + list(out.glob(f".trash-{source_id}-*")):
        shutil.rmtree(stale, ignore_errors=True)


def _owned_paths(source_id: str, task_ids: list[str]) -> list[str]:
    paths = [f"data/{t}" for t in task_ids] + [f"tasks/{t}.json" for t in task_ids]
    return paths + [f"quarantine/{source_id}.jsonl", f"sources/{source_id}.json"]


def replace_source(out: Path, staging: Path, source_id: str) -> None:
    """Swap a staged build of `source_id` into `out`, removing what its previous build owned."""
    old = manifest_path(out, source_id)
    old_tasks = list(json.loads(old.read_text(encoding="utf-8"))["tasks"]) if old.is_file() else []
    new_tasks = list(json.loads(manifest_path(staging, source_id).read_text(encoding="utf-8"))["tasks"])
    trash = out / f".trash-{source_id}-{uuid.uuid4().hex[:8]}"
    # The manifest goes first and comes back last: a folder whose manifest is missing is known to be
    # mid-swap, and the next build of that source cleans it up.
    for rel in [f"sources/{source_id}.json"] + _owned_paths(source_id, sorted(set(old_tasks) | set(new_tasks)))[:-1]:
        if (out / rel).exists():
            (trash / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(out / rel, trash / rel)
    for rel in _owned_paths(source_id, new_tasks):
        if (staging / rel).exists():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, out / rel)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
