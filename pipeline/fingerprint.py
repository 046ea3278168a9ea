"""What one source's build depends on, so that a source whose inputs did not change is not rebuilt.

A build of a source is a function of four things, each recorded as a flat {name: sha256 or value}
map in the source's manifest (`sources/<id>.json`, key "fingerprint"):

* raw: the content of every raw file the detected form found (keyed by its path in the raw folder).
  Content, not mtime: a `touch` or a fresh copy of the same release rebuilds nothing. Hashing a
  multi-GB corpus every run would cost more than some conversions, so a file's sha256 is kept in
  `<out>/.build-state/raw-<source>.json` under its (path, size, mtime_ns) and re-read only when one
  of those changes. A file modified within RACY_SECONDS of being hashed is not cached, because a
  second write in the same timestamp tick would keep size and mtime (git's "racily clean" entries).
* code: the converter module and every project module it imports, transitively, plus the modules
  `pipeline.build` imports (the quality stage, Parquet writer, task files...), the JSON schemas and
  the catalogue files, and the pipeline version. Found by reading `import` statements, so a new
  helper module is covered without a list to keep up to date.
* seeds: `seeds/<task>.yaml` and `seeds/rewrites/<task>.jsonl` (cached LLM rewrites) of each task.
* config: everything else that shapes the output: quality thresholds, shard size, and the
  environment variables that pick the LIMA/ShareGPT tagger.

A source is reused when all four are equal to its previous build's and that build's output is intact
(every listed shard present with the recorded row count, its task files and quarantine file present).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import pyarrow.parquet as pq

from pipeline import __version__
from pipeline.model import RawFiles

PARTS = ("raw", "code", "seeds", "config")
STATE_DIR = ".build-state"
RACY_SECONDS = 2.0
#: Packages whose modules count as the pipeline's code (a third-party converter's own package is added).
LOCAL_PACKAGES = ("pipeline", "converters")
#: Data files read by the core that shape output, relative to the repository root.
RESOURCES = ("schemas", "pipeline/catalogue")
#: Environment variables read by a module while converting, so part of the config of sources using it.
MODULE_ENV = {"pipeline.tagger": ("MEDS_INS_TAGGER", "MEDS_INS_TAGGER_MODEL")}
_ROOT = Path(__file__).resolve().parent.parent
_CHUNK = 1 << 20

Fingerprint = dict[str, dict[str, str]]


def compute(
    converter_module: str,
    files: RawFiles,
    task_ids: Iterable[str],
    seeds_dir: Path,
    config: Mapping[str, object],
    raw_cache: Path | None = None,
) -> Fingerprint:
    """The fingerprint of one source's build; `raw_cache` is the source's raw-hash cache file (None: none)."""
    code = code_version(converter_module)
    env = sorted({name for module, names in MODULE_ENV.items() if module in code for name in names})
    settings = _flatten(_jsonable(dict(config))) | {f"env.{name}": os.environ.get(name, "") for name in env}
    return {
        "raw": raw_hashes(files, raw_cache),
        "code": code,
        "seeds": seed_hashes(task_ids, seeds_dir),
        "config": {k: json.dumps(v, sort_keys=True) for k, v in sorted(settings.items())},
    }


def changes(previous: Mapping | None, current: Fingerprint) -> list[str]:
    """What differs, one phrase per part ("raw: ori_pqal.json changed"); [] when nothing does."""
    if not previous:
        return ["no fingerprint of a previous build"]
    found = []
    for part in PARTS:
        old, new = previous.get(part) or {}, current[part]
        names = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if names:
            shown = ", ".join(_describe(n, old, new) for n in names[:3])
            found.append(f"{part}: {shown}" + (f" (+{len(names) - 3} more)" if len(names) > 3 else ""))
    return found


def _describe(name: str, old: Mapping, new: Mapping) -> str:
    if name not in old:
        return f"{name} added"
    if name not in new:
        return f"{name} removed"
    return f"{name} changed"


def output_problem(out: Path, manifest: Mapping) -> str | None:
    """Why the output a manifest describes is not intact on disk, or None when it is. Row counts come
    from the Parquet footers, so a truncated or replaced shard is found without reading its rows."""
    source_id = manifest["source"]["id"]
    if not (out / "quarantine" / f"{source_id}.jsonl").is_file():
        return f"quarantine/{source_id}.jsonl is missing"
    for task_id, info in manifest["tasks"].items():
        splits = info.get("splits") or {}
        for split, entry in splits.items():
            rows = 0
            for rel in entry.get("files", []):
                try:
                    rows += pq.read_metadata(out / rel).num_rows
                except (OSError, ValueError) as error:  # absent, or not a Parquet file any more
                    return f"{rel} is unreadable ({type(error).__name__})"
            if rows != entry.get("instances"):
                return f"{task_id} {split}: {rows} rows in its shards, the manifest says {entry.get('instances')}"
        if splits and not (out / "tasks" / f"{task_id}.json").is_file():
            return f"tasks/{task_id}.json is missing"
    return None


# --- raw files ------------------------------------------------------------------------------------------


def raw_hashes(files: RawFiles, cache_file: Path | None) -> dict[str, str]:
    """{name relative to the raw folder: sha256}. The cache is keyed by absolute path, the folder resolved once
    (resolving each of a corpus's 100,000 files would cost more than reading the cache)."""
    paths = sorted({p for found in files.found.values() for p in found}, key=str)
    known = _read_json(cache_file) if cache_file else {}
    kept: dict[str, list] = {}
    hashes = {}
    root = Path(files.root).resolve().as_posix()
    for path in paths:
        stat = path.stat()
        try:
            key = f"{root}/{path.relative_to(files.root).as_posix()}"
        except ValueError:  # not under the folder (a form may name a file elsewhere): its own resolved path
            key = str(path.resolve())
        entry = known.get(key)
        digest = entry[2] if entry and entry[:2] == [stat.st_size, stat.st_mtime_ns] else file_sha256(path)
        if time.time_ns() - stat.st_mtime_ns > RACY_SECONDS * 1e9:
            kept[key] = [stat.st_size, stat.st_mtime_ns, digest]
        hashes[files.relative(path)] = digest
    if cache_file and kept != known:
        _write_json(cache_file, kept)
    return hashes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- code -----------------------------------------------------------------------------------------------


def code_version(converter_module: str) -> dict[str, str]:
    """sha256 of every project module the converter and the build import, of the resources, and the
    pipeline version."""
    modules = _closure(converter_module) | _closure("pipeline.build")
    found = {name: _module_hash(name) for name in sorted(modules)}
    return found | _resource_hashes() | {"pipeline_version": __version__}


def environment() -> dict[str, str]:
    """sha256 of every module of the pipeline's packages, of the resources, and the version, read from disk
    now: what a process converting sources for this one (a Dask worker) must run the same of, or the output
    would depend on where each source ran."""
    found = {}
    for package in LOCAL_PACKAGES:
        origin = _origin(package)
        if origin is None:
            continue
        for path in sorted(origin.parent.rglob("*.py")):
            if "__pycache__" not in path.parts:
                name = ".".join(path.relative_to(origin.parent.parent).with_suffix("").parts)
                found[name.removesuffix(".__init__")] = file_sha256(path)
    return found | _resource_hashes() | {"pipeline_version": __version__}


@cache
def _closure(start: str) -> frozenset[str]:
    local = set(LOCAL_PACKAGES) | {start.split(".")[0]}
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen or name.split(".")[0] not in local:
            continue
        origin = _origin(name)
        if origin is None:
            continue
        seen.add(name)
        pending.extend(_imports(name, origin))
    return frozenset(seen)


@cache
def _origin(name: str) -> Path | None:
    """The source file of module `name`, found on disk without importing it: `find_spec` of a submodule
    imports its parents, and a reused source should not pay for importing what only a conversion needs
    (pipeline.neardup pulls in datasketch, 2 s). None for a name that is no module (`pkg.module.func`)."""
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
    folders = [Path(f) for f in spec.submodule_search_locations or ()]
    for part in rest[:-1]:
        folders = [f / part for f in folders if (f / part).is_dir()]
    for folder in folders:
        for candidate in (folder / f"{rest[-1]}.py", folder / rest[-1] / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _imports(name: str, origin: Path) -> list[str]:
    """The modules `name` imports anywhere (at the top or inside functions), and their parent packages."""
    is_package = origin.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(origin.read_bytes(), filename=str(origin))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join(package + ([base] if base else []))
            # `from pipeline import forms` imports the module pipeline.forms; `from x import func` only x.
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            found += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return found


@cache
def _module_hash(name: str) -> str:
    origin = _origin(name)
    return file_sha256(origin) if origin else "absent"


@cache
def _resource_hashes() -> dict[str, str]:
    found = {}
    for folder in RESOURCES:
        for path in sorted((_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
                found[path.relative_to(_ROOT).as_posix()] = file_sha256(path)
    return found


# --- seeds and config -----------------------------------------------------------------------------------


def seed_hashes(task_ids: Iterable[str], seeds_dir: Path) -> dict[str, str]:
    found = {}
    for task_id in sorted(task_ids):
        for rel in (f"{task_id}.yaml", f"rewrites/{task_id}.jsonl"):
            path = Path(seeds_dir) / rel
            found[rel] = file_sha256(path) if path.is_file() else "absent"
    return found


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    return value


def _flatten(value: Mapping, prefix: str = "") -> dict[str, object]:
    """{"quality": {"rules": {...}, "max_quarantine_rate": 0.2}} -> {"quality.max_quarantine_rate": 0.2,
    "quality.rules": {...}}: one level below the top, so a report names the setting that changed."""
    flat: dict[str, object] = {}
    for key, inner in value.items():
        if isinstance(inner, Mapping) and not prefix:
            flat |= _flatten(inner, f"{key}.")
        else:
            flat[f"{prefix}{key}"] = inner
    return flat


# --- the state folder -----------------------------------------------------------------------------------


def state_dir(out: Path) -> Path:
    return Path(out) / STATE_DIR


def raw_cache(out: Path, source_id: str) -> Path:
    return state_dir(out) / f"raw-{source_id}.json"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: hashing again is always correct
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_state(out: Path, name: str) -> dict:
    return _read_json(state_dir(out) / name)


def write_state(out: Path, name: str, data: dict) -> None:
    _write_json(state_dir(out) / name, data)
