"""Hand-written instructions per task: `seeds/<task_id>.yaml`.

    task: <task_id>
    required:            # phrases every instruction of the task must contain (case-insensitive):
      - yes              # the label set, the empty-answer sentence, the option format...
      - no
    definitions:         # at least MIN_SEEDS, varied in wording and format
      - ...

They become the task file's `Definition` field, followed by the accepted LLM rewrites of the
instruction stage, cached in `seeds/rewrites/<task_id>.jsonl` (`pipeline.rewrite_cache`).
`required` is what keeps a paraphrase honest: an instruction that no longer names the label set or
the empty-answer sentence asks the model for a different output.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from pipeline import rewrite_cache
from pipeline.similarity import MAX_ROUGE_L, rouge_l

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

#: The paper: five annotators wrote three instructions each per task.
MIN_SEEDS = 15


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class Seeds:
    task_id: str
    definitions: tuple[str, ...]
    required: tuple[str, ...] = ()

    def missing(self, instruction: str) -> list[str]:
        """The required phrases `instruction` does not contain as whole words ("no" is not in "not")."""
        text = " ".join(instruction.split())
        return [r for r in self.required if not _phrase(r).search(text)]

    def strip_required(self, instruction: str) -> str:
        """The instruction without its required phrases: what similarity is measured on, since every
        instruction of a task must repeat them (a label set of ten names would make any two alike)."""
        text = " ".join(instruction.split())
        for phrase in sorted(self.required, key=len, reverse=True):
            text = _phrase(phrase).sub(" ", text)
        return text

    def similarity(self, a: str, b: str) -> float:
        return rouge_l(self.strip_required(a), self.strip_required(b))

    def problems(self, minimum: int = MIN_SEEDS, threshold: float = MAX_ROUGE_L) -> list[str]:
        """Everything that keeps these seeds from being a usable instruction set, one line each."""
        found = []
        if len(self.definitions) < minimum:
            found.append(f"{self.task_id}: {len(self.definitions)} seed definitions, at least {minimum} needed")
        for i, text in enumerate(self.definitions):
            if lacking := self.missing(text):
                found.append(f"{self.task_id}: definition {i} lacks required {lacking}")
        for (i, a), (j, b) in itertools.combinations(enumerate(self.definitions), 2):
            if (score := self.similarity(a, b)) >= threshold:
                found.append(f"{self.task_id}: definitions {i} and {j} are too alike (ROUGE-L {score:.2f})")
        return found


@cache
def _phrase(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)


def load(task_id: str, seeds_dir: Path = SEEDS_DIR) -> Seeds:
    path = seeds_dir / f"{task_id}.yaml"
    if not path.is_file():
        raise SeedError(f"{task_id}: no seed instructions; write {path} with a 'definitions' list")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = data.get("definitions") if isinstance(data, dict) else None
    if not isinstance(found, list) or not all(isinstance(d, str) and d.strip() for d in found) or not found:
        raise SeedError(f"{path}: 'definitions' must be a non-empty list of non-empty strings")
    if data.get("task", task_id) != task_id:
        raise SeedError(f"{path}: declares task {data.get('task')!r}, expected {task_id!r}")
    required = data.get("required") or []
    if not isinstance(required, list) or not all(isinstance(r, str) and r.strip() for r in required):
        raise SeedError(f"{path}: 'required' must be a list of non-empty strings")
    return Seeds(task_id, tuple(" ".join(d.split()) for d in found), tuple(" ".join(r.split()) for r in required))


def definitions(task_id: str, seeds_dir: Path = SEEDS_DIR) -> list[str]:
    """The task's Definition list: its seeds, then the accepted rewrites cached under
    `<seeds_dir>/rewrites/` in sample order. The build never calls a model; `python -m pipeline
    rewrite` is what adds rewrites."""
    seeds = load(task_id, seeds_dir)
    _announce(seeds_dir)
    return list(seeds.definitions) + rewrite_cache.accepted(seeds, rewrite_cache.path(task_id, seeds_dir))


_announced = False


def _announce(seeds_dir: Path) -> None:
    """Say once per process, not once per task, where the instructions come from when no model is reachable."""
    global _announced
    if _announced or os.environ.get("OPENAI_API_KEY"):
        return
    _announced = True
    folder = Path(seeds_dir) / rewrite_cache.FOLDER
    print(
        f"instructions: offline (no OPENAI_API_KEY): each task's Definition is its seeds plus the rewrites "
        f"cached in {folder}",
        file=sys.stderr,
    )
