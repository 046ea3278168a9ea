"""The model's rewrites of a task's seeds, on disk: `seeds/rewrites/<task_id>.jsonl`.

One JSON line per response the model gave, in sample order:

    {"index": 17, "model": "gpt-4o", "prompt": "<sha of the prompt>", "seed": "<the seed rewritten>",
     "response": "<the answer as received>", "verdict": "accepted" | "near-duplicate" | ...,
     "detail": "ROUGE-L 0.74 with definition 3", "usage": {"prompt_tokens": 80, "completion_tokens": 52},
     "filtered_with": "<sha of the seeds and filter rules the verdict was computed under>"}

The files are data to commit: a build reads the accepted rewrites from them without a key, and a
rewrite run never asks again for an index the file already holds, whatever model or prompt answered
it. Each task's samples are numbered 0, 1, 2... across runs; sample `i` rewrites seed `i mod n`.

Verdicts are a pure function of the seeds and the responses taken in index order (a rewrite is
compared with the seeds and the rewrites accepted at lower indices), not of the order responses
arrived in, so concurrent runs, resumed runs and builds agree. A response is appended as `pending`
the moment it arrives (one line, flushed and fsynced: a crash loses at most the line being
written, which a reader then ignores); the stage rewrites the file sorted, with verdicts, at the end
of each round (temporary file, then rename). A reader that finds pending lines, or verdicts computed
under other seeds or rules (`filtered_with`), recomputes them in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.rewrite_filters import ACCEPTED, FILTER_VERSION, SEED_REMOVED, Kept, Verdict, clean, judge

if TYPE_CHECKING:
    from pipeline.seeds import Seeds

PENDING = "pending"
FOLDER = "rewrites"


class RewriteCacheError(ValueError):
    pass


@dataclass(frozen=True)
class Entry:
    """One response of the model, with the key it was asked under and its verdict."""

    index: int
    model: str
    prompt: str
    seed: str
    response: str
    verdict: str = PENDING
    detail: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    filtered_with: str = ""

    def line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False) + "\n"


def path(task_id: str, seeds_dir: Path) -> Path:
    return Path(seeds_dir) / FOLDER / f"{task_id}.jsonl"


def fingerprint(seeds: Seeds) -> str:
    """Names what the verdicts depend on besides the responses: the seeds, the required phrases, the rules."""
    data = json.dumps([FILTER_VERSION, seeds.definitions, seeds.required], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


def prompt_key(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:12]


def load(file: Path) -> tuple[list[Entry], bool]:
    """The entries of a cache file in index order, and whether its last line was torn (a write cut
    short by a crash: ignored, and dropped by the next `save`). Any other bad line is an error."""
    if not file.is_file():
        return [], False
    text = file.read_text(encoding="utf-8")
    lines = text.split("\n")
    torn = False
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:  # no final newline: the last append did not complete
        lines.pop()
        torn = True
    entries: dict[int, Entry] = {}
    for number, line in enumerate(lines, 1):
        try:
            data = json.loads(line)
            entry = Entry(**data)
        except (json.JSONDecodeError, TypeError) as error:
            raise RewriteCacheError(f"{file}: line {number}: not a cached rewrite ({error})") from None
        if not isinstance(entry.index, int) or entry.index < 0:
            raise RewriteCacheError(f"{file}: line {number}: 'index' must be a non-negative integer")
        if not all(isinstance(getattr(entry, k), str) for k in ("model", "prompt", "seed", "response", "verdict")):
            raise RewriteCacheError(f"{file}: line {number}: model, prompt, seed, response and verdict must be strings")
        if entry.index in entries:
            raise RewriteCacheError(f"{file}: line {number}: sample index {entry.index} appears twice")
        entries[entry.index] = entry
    return [entries[i] for i in sorted(entries)], torn


def replay(seeds: Seeds, entries: Iterable[Entry]) -> list[Entry]:
    """Every entry with its verdict, computed in index order against the seeds and the rewrites
    accepted before it. Entries below the first pending or stale one keep their verdicts: nothing
    they depend on has changed (a round's new samples come after the ones already judged)."""
    stamp = fingerprint(seeds)
    ordered = sorted(entries, key=lambda e: e.index)
    start = next((n for n, e in enumerate(ordered) if e.verdict == PENDING or e.filtered_with != stamp), len(ordered))
    current = set(seeds.definitions)
    kept = Kept(seeds, seeds.definitions)
    for entry in ordered[:start]:
        if entry.verdict == ACCEPTED:
            kept.add(clean(entry.response))
    judged = ordered[:start]
    for entry in ordered[start:]:
        verdict = Verdict(SEED_REMOVED) if entry.seed not in current else judge(seeds, kept, entry.response)
        if verdict.reason == ACCEPTED:
            kept.add(clean(entry.response))
        judged.append(replace(entry, verdict=verdict.reason, detail=verdict.detail, filtered_with=stamp))
    return judged


def is_current(seeds: Seeds, entries: Iterable[Entry]) -> bool:
    stamp = fingerprint(seeds)
    return all(e.verdict != PENDING and e.filtered_with == stamp for e in entries)


def judged(seeds: Seeds, file: Path) -> list[Entry]:
    """The entries of `file` with current verdicts (recomputed in memory only when they are stale)."""
    entries, _ = load(file)
    return entries if is_current(seeds, entries) else replay(seeds, entries)


def accepted(seeds: Seeds, file: Path) -> list[str]:
    """The accepted rewrites of a task, cleaned, in index order: what follows the seeds in its Definition."""
    return [clean(e.response) for e in judged(seeds, file) if e.verdict == ACCEPTED]


def rejections(entries: Iterable[Entry]) -> dict[str, int]:
    return dict(sorted(Counter(e.verdict for e in entries if e.verdict not in (ACCEPTED, PENDING)).items()))


def save(file: Path, entries: Iterable[Entry]) -> bool:
    """Write the entries sorted by index (temporary file, fsync, rename); False when the file already
    held exactly that."""
    text = "".join(e.line() for e in sorted(entries, key=lambda e: e.index))
    if file.is_file() and file.read_text(encoding="utf-8") == text:
        return False
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, file)
    _fsync_dir(file.parent)
    return True


def append(file: Path, entry: Entry) -> None:
    """Add one response durably before anything else happens: a Ctrl-C or crash right after keeps it."""
    created = not file.exists()
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "a", encoding="utf-8") as out:
        out.write(entry.line())
        out.flush()
        os.fsync(out.fileno())
    if created:
        _fsync_dir(file.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a new or renamed directory entry itself durable (POSIX only; a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
