"""The quality stage, between extract and write: every record is validated, language-checked and
de-duplicated as it streams past, and the task as a whole gets the sanity checks
Super-NaturalInstructions runs on every pull request. A record that fails goes to the quarantine
with the rule it broke; a task that fails makes the build fail before anything is published, so a
silently shrunken or garbled task never reaches the output.

Memory: the stage keeps 8-byte hashes per accepted record (exact duplicates, conflicting outputs,
duplicates across tasks) plus the near-duplicate index (see pipeline.neardup), never texts.

Test records are de-duplicated only against test records, and train/validation records only against
each other: a copy of a test instance in train must never push the test instance out (streams often
read train first). Such a copy is the decontamination pass's business, which removes the training
side and never alters a test set.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from pipeline.hashtable import Strings, Table64, mix64_int
from pipeline.model import Record, Task
from pipeline.validation import Bounds, Rules, Violation, check, fold, normalise

if TYPE_CHECKING:
    from pipeline.neardup import Sketch

#: Outputs shorter than this many words must match exactly for two records to be near duplicates.
SHORT_OUTPUT_WORDS = 20


class QualityError(Exception):
    """A task failed the quality stage; the build publishes nothing for its source."""


@dataclass(frozen=True, slots=True)
class Merge:
    """The record is another right answer to an instance already accepted (a task with
    `several_outputs`): its output joins that instance's `outputs` instead of making a new one."""

    into: str  # id of the instance that keeps the input


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality stage; `from_file` reads the same names from YAML."""

    rules: Rules = field(default_factory=Rules)
    #: A task whose share of records quarantined by the stage's own rules exceeds this fails the build.
    max_quarantine_rate: float = 0.2
    #: A task with records but fewer than this many instances fails (Super-NaturalInstructions asks 100;
    #: the bundled samples are tiny, so the default only refuses empty-but-present tasks).
    min_instances: int = 1
    #: Degenerate-output checks (all outputs equal, label entropy) apply from this many instances.
    sanity_min_instances: int = 20
    #: Minimum normalised entropy of a closed-set task's label distribution.
    min_label_entropy: float = 0.1
    languages: bool = True
    language_identifier: str = "py3langid"
    near_duplicates: bool = True
    near_threshold: float = 0.9
    near_num_perm: int = 64
    near_shingle: int = 5

    @classmethod
    def from_file(cls, path: Path) -> QualityConfig:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        known = {f.name for f in fields(cls)} - {"rules"}
        unknown = set(data) - known - {"bounds", "task_bounds", "markup_allowed"}
        if unknown:
            raise ValueError(f"{path}: unknown quality settings {sorted(unknown)}")
        rules = Rules(
            bounds=Bounds(**data.get("bounds", {})),
            task_bounds={t: Bounds(**b) for t, b in (data.get("task_bounds") or {}).items()},
            markup_allowed=frozenset(data.get("markup_allowed") or ()),
        )
        return cls(rules=rules, **{k: v for k, v in data.items() if k in known})


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest())


def _pair(in_hash: int, out_hash: int) -> int:
    """The hash of an (input, output) pair from the two texts' hashes, instead of hashing the (often long)
    input again with the output. Not symmetric: (a, b) and (b, a) are different pairs."""
    return mix64_int((in_hash * 0x9E3779B97F4A7C15 + out_hash) & (2**64 - 1))


@dataclass
class TaskQuality:
    """What the stage saw of one task; kept in the build manifest."""

    accepted: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)  # rule -> count
    outputs: Counter[str] = field(default_factory=Counter)  # closed-set tasks only
    first_output: int | None = None
    all_same_output: bool = True
    conflicting_outputs: int = 0  # same input, another output: reported, both kept
    conflict_examples: list[list[str]] = field(default_factory=list)
    merged_outputs: int = 0  # same input, another output, in a task that allows several: one instance
    merge_examples: list[list[str]] = field(default_factory=list)
    cross_task_duplicates: int = 0


class QualityStage:
    """The stage for one source's build. Call `check` for every record (None: write it), then `finish`."""

    STAGE_RULES = ("empty", "placeholder", "markup", "length", "label", "language", "exact-duplicate", "near-duplicate")

    def __init__(self, config: QualityConfig, tasks: dict[str, Task]):
        self.config, self.tasks = config, tasks
        self.state: dict[str, TaskQuality] = defaultdict(TaskQuality)
        # Per record, in numpy-backed tables (pipeline.hashtable; a Python set or dict cost 438 B a record):
        self._pairs: dict[str, Table64] = defaultdict(Table64)  # hash(input, output)
        self._inputs: dict[str, Table64] = defaultdict(lambda: Table64(np.uint64, np.uint32))  # -> output hash, id
        self._ids = Strings()  # ids of the records _inputs points to, without their "<task_id>:"
        self._task_numbers = {task_id: n for n, task_id in enumerate(tasks)}
        self._across = Table64(np.uint16)  # hash(input, output) -> number of the first task that had the pair
        self._short_outputs = Table64(np.uint64)  # hash(record id) -> output hash, short outputs only
        # The last input seen, normalised (for validation) and hashed folded (for duplicates): a converter's
        # records of one raw record often share it (a radiology report's modality and anatomy instances).
        self._last_flat: tuple[str | None, str] = (None, "")
        self._last_input: tuple[str | None, int] = (None, 0)
        self._output_hash: tuple[Record | None, int] = (None, 0)
        self._audit = self._near = None
        self._sketched: tuple[list[Record], dict[int, Sketch | None]] = ([], {})
        if config.languages:
            from pipeline.languages import LanguageAudit

            self._audit = LanguageAudit(identifier=config.language_identifier)
        if config.near_duplicates:
            from pipeline.neardup import NearDuplicates

            self._near = NearDuplicates(config.near_threshold, config.near_num_perm, config.near_shingle)

    def prepare(self, records: list[Record]) -> None:
        """Compute what the near-duplicate check needs of a batch of records at once, before they are checked
        one by one (several times cheaper per record than one at a time; see pipeline.neardup). Optional:
        a record outside the last prepared batch is sketched on its own."""
        if self._near is not None:
            sketches = self._near.sketch_many([(r.input, r.output) for r in records])
            self._sketched = (records, {id(r): s for r, s in zip(records, sketches, strict=True)})

    def validate(self, record: Record) -> Violation | None:
        """Record-level rules and the language check; call before the schema check."""
        task = self.tasks[record.task_id]
        if record.input is not self._last_flat[0]:
            self._last_flat = (record.input, normalise(record.input))
        verdict = check(record, task, self.config.rules, self._last_flat[1]) or self._language(record, task)
        return self._count(record, verdict)

    def deduplicate(self, record: Record, split: str | None = None) -> Violation | Merge | None:
        """Exact and near duplicates; a record that passes is accepted (counted for the task checks),
        or, as another answer to an accepted input, merged into that instance. `split` is the record's
        split when the record does not carry it (hash splits are drawn by the build)."""
        verdict = self._count(record, self._duplicate(record, split or record.split))
        if verdict is None:
            self._accept(record, self.tasks[record.task_id])
        return verdict

    def check(self, record: Record, split: str | None = None) -> Violation | Merge | None:
        return self.validate(record) or self.deduplicate(record, split)

    def _count(self, record: Record, verdict: Violation | Merge | None) -> Violation | Merge | None:
        if isinstance(verdict, Violation):
            self.state[record.task_id].quarantined[verdict.rule] += 1
        return verdict

    def _language(self, record: Record, task: Task) -> Violation | None:
        if self._audit is None:
            return None
        from pipeline.languages import instance_problem

        for name, text, declared in (
            ("input", record.input, task.input_language),
            ("output", record.output, task.output_language),
        ):
            problem = instance_problem(text, declared) or self._audit.observe(task.id, name, text, declared)
            if problem:
                return Violation("language", f"{name}: {problem}", text[:200])
        return None

    def _input_hash(self, text: str) -> int:
        """The hash of the folded input, kept for the last input (see `_last_input`)."""
        if text is not self._last_input[0]:
            self._last_input = (text, _hash(fold(text)))
        return self._last_input[1]

    def _duplicate(self, record: Record, split: str | None) -> Violation | Merge | None:
        task_id, folded_out = record.task_id, fold(record.output)
        in_hash = self._input_hash(record.input)
        out_hash = _hash(folded_out)
        pair = _pair(in_hash, out_hash)
        # Test and non-test records are de-duplicated apart (see the module docstring).
        part = f"{task_id}\x00test" if split == "test" else task_id
        if pair in self._pairs[part]:
            return Violation(
                "exact-duplicate", "same input and output as an earlier instance of the task", record.input[:200]
            )
        if self._near is not None:
            # The batch's records are held with their sketches, so no other live record has one of their ids.
            sketches = self._sketched[1]
            if id(record) in sketches:
                sketch = sketches[id(record)]
            else:
                sketch = self._near.sketch_many([(record.input, record.output)])[0]
            earlier = self._near.check_sketch(part, record.id, sketch)
            short = folded_out.count(" ") < SHORT_OUTPUT_WORDS - 1  # (folded text: words joined by one space)
            # With a short output (a label, a hypothesis, an extracted answer), near-identical text may be a
            # different instance (another hypothesis of one premise, another question on one passage): it is a
            # near duplicate only when the outputs are the same too.
            if earlier is not None and (not short or self._short_outputs.get(_hash(earlier)) == (out_hash,)):
                return Violation("near-duplicate", "near-duplicate of an earlier instance of the task", earlier)
            if short:
                self._short_outputs.add(_hash(record.id), out_hash)
        self._pairs[part].add(pair)
        inputs = self._inputs[part]
        seen = inputs.get(in_hash)
        prefix = f"{task_id}:"
        if seen is None:
            rest = record.id[len(prefix) :]
            short_id = rest if record.id.startswith(prefix) and not rest.startswith("\x00") else f"\x00{record.id}"
            inputs.add(in_hash, out_hash, self._ids.append(short_id))
        elif seen[0] != out_hash:
            stored = self._ids[seen[1]]
            seen = (seen[0], stored[1:] if stored.startswith("\x00") else prefix + stored)
            state = self.state[task_id]
            if self.tasks[task_id].several_outputs:
                state.merged_outputs += 1
                if len(state.merge_examples) < 5:
                    state.merge_examples.append([seen[1], record.id])
                return Merge(seen[1])
            state.conflicting_outputs += 1
            if len(state.conflict_examples) < 5:
                state.conflict_examples.append([seen[1], record.id])
        number = self._task_numbers[task_id]
        if self._across.setdefault(pair, number) != (number,):
            self.state[task_id].cross_task_duplicates += 1
        self._output_hash = (record, out_hash)  # for _accept, which follows
        return None

    def _accept(self, record: Record, task: Task) -> None:
        state = self.state[record.task_id]
        state.accepted += 1
        if task.labels:
            state.outputs[record.output] += 1
        digest = self._output_hash[1] if self._output_hash[0] is record else _hash(fold(record.output))
        if state.first_output is None:
            state.first_output = digest
        elif digest != state.first_output:
            state.all_same_output = False

    def finish(self) -> tuple[dict, list[str]]:
        """(report per task, failures). A failure names the task, the check and the figures."""
        config, report, failures = self.config, {}, []
        measured = self._audit.measured() if self._audit else {}
        for task_id, message in (self._audit.disagreements() if self._audit else {}).items():
            failures.append(f"{task_id}: measured language disagrees with the declaration: {message}")
        for task_id, state in sorted(self.state.items()):
            stage = sum(state.quarantined.values())
            total = state.accepted + stage
            rate = stage / total if total else 0.0
            entropy = _entropy(state.outputs, len(self.tasks[task_id].labels)) if state.outputs else None
            report[task_id] = {
                "accepted": state.accepted,
                "quarantined_by_rule": dict(state.quarantined),
                "quarantine_rate": round(rate, 4),
                "conflicting_outputs": state.conflicting_outputs,
                "conflict_examples": state.conflict_examples,
                "merged_outputs": state.merged_outputs,
                "merge_examples": state.merge_examples,
                "cross_task_duplicates": state.cross_task_duplicates,
                "label_distribution": dict(state.outputs),
                "label_entropy": None if entropy is None else round(entropy, 4),
                "languages": measured.get(task_id, {}),
            }
            if total and rate > config.max_quarantine_rate:
                rules = ", ".join(f"{n} {r}" for r, n in state.quarantined.most_common())
                failures.append(
                    f"{task_id}: {stage} of {total} records ({rate:.0%}) quarantined by the quality stage "
                    f"(limit {config.max_quarantine_rate:.0%}): {rules}"
                )
            if state.accepted and state.accepted < config.min_instances:
                failures.append(f"{task_id}: only {state.accepted} instances (minimum {config.min_instances})")
            if state.accepted >= config.sanity_min_instances:
                if state.all_same_output:
                    failures.append(f"{task_id}: all {state.accepted} instances have the same output")
                if entropy is not None and entropy < config.min_label_entropy:
                    failures.append(
                        f"{task_id}: degenerate label distribution (normalised entropy {entropy:.3f} < "
                        f"{config.min_label_entropy}): {dict(state.outputs.most_common())}"
                    )
        if self._near is not None:
            by_task: dict[str, list[list[str]]] = defaultdict(list)
            for part, clusters in self._near.clusters().items():  # a task's train/validation part, then its test part
                by_task[part.split("\x00")[0]] += clusters
            for task_id, clusters in by_task.items():
                report.setdefault(task_id, {})["near_duplicate_clusters"] = clusters[:20]
        return report, failures


def _entropy(counts: Counter[str], labels: int) -> float:
    """Shannon entropy of the label distribution divided by log(number of declared labels)."""
    total = sum(counts.values())
    if labels < 2 or total == 0:
        return 1.0
    h = -sum(n / total * math.log(n / total) for n in counts.values() if n)
    return h / math.log(labels)
