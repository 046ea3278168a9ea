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
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import yaml

from pipeline import kernels
from pipeline.hashtable import Strings, mix64
from pipeline.model import Record, Task
from pipeline.neardup import MAX_CHAIN, NearDuplicates, _Index
from pipeline.validation import Bounds, Rules, Violation, check, fold, fold_flat, normalise

#: Outputs shorter than this many words must match exactly for two records to be near duplicates.
SHORT_OUTPUT_WORDS = 20
#: Normalised texts kept between `validate` and `screen` at most (a build batch has up to twice its records).
FLAT_TEXTS = 8192
#: Keys each duplicate table holds in its hash table at most before freezing them into sorted arrays
#: (kernels.Table): ~20 B a key less at full scale (6M records in one source: ~500 MB less), ~10 MB of tables.
HOT_KEYS = 1 << 17


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


def _pairs(in_hash: np.ndarray, out_hash: np.ndarray) -> np.ndarray:
    """The hash of each (input, output) pair from the two texts' hashes, instead of hashing the (often long)
    input again with the output. Not symmetric: (a, b) and (b, a) are different pairs."""
    return mix64(in_hash * np.uint64(0x9E3779B97F4A7C15) + out_hash)


def _keys(hashes: np.ndarray, owner: np.ndarray | None = None, table: int = 0) -> np.ndarray:
    """Non-zero table keys: hashes mixed with their owner's number (a task or a part) and the table's, so that
    one compiled table serves every task. Zero marks an empty slot; a hash 0 becomes 1."""
    if owner is not None:
        hashes = mix64(hashes ^ (owner.astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93) + np.uint64(table)))
    return np.where(hashes == 0, np.uint64(1), hashes)


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
    """The stage for one source's build. Give it each batch of records in order (`screen`), then `finish`."""

    STAGE_RULES = ("empty", "placeholder", "markup", "length", "label", "language", "exact-duplicate", "near-duplicate")

    def __init__(self, config: QualityConfig, tasks: dict[str, Task]):
        self.config, self.tasks = config, tasks
        self.state: dict[str, TaskQuality] = defaultdict(TaskQuality)
        self._task_numbers = {task_id: n for n, task_id in enumerate(tasks)}
        self._several = np.array([task.several_outputs for task in tasks.values()] or [False], bool)
        self._parts: dict[str, int] = {}  # a task, or a task's test split (see _part) -> its number
        # Per record, hashes in compiled tables (pipeline.kernels; a Python set or dict cost 438 B a record). One
        # `used` array counts the keys of all four, so that the compiled loop can count in it.
        self._used = np.zeros(4, np.int64)
        hot = HOT_KEYS
        self._tables = (
            kernels.Table(np.uint64, used=self._used[0:1], hot=hot),  # ids accepted, mixed with their task
            kernels.Table(np.uint64, used=self._used[1:2], hot=hot),  # (input, output) pairs, mixed with their part
            kernels.Table(np.uint64, np.uint64, np.uint32, used=self._used[2:3], hot=hot),  # input -> output hash, id
            kernels.Table(np.uint64, np.uint16, used=self._used[3:4], hot=hot),  # pair -> first task with it
        )
        self._ids = Strings()  # ids of the records the input table points to, without their "<task_id>:"
        # The texts of the batch being validated, normalised: validation needs them, and folding them for the
        # duplicate checks is then only lower-casing (pipeline.validation.fold_flat). A converter's records of one
        # raw record often share their input (a radiology report's modality and anatomy instances). Emptied by
        # `screen`, and when it grows past FLAT_TEXTS (a caller that validates and never screens).
        self._flats: dict[str, str] = {}
        # The last input screened: folded, and its hash.
        self._last_input: tuple[str | None, str, int] = (None, "", 0)
        self._audit = self._near = None
        self._kept_out = np.zeros(1024, np.uint64)  # per near-duplicate index row: its output hash if short, or 0
        if config.languages:
            from pipeline.languages import LanguageAudit

            self._audit = LanguageAudit(identifier=config.language_identifier)
        if config.near_duplicates:
            self._near = NearDuplicates(config.near_threshold, config.near_num_perm, config.near_shingle)

    def validate(self, record: Record) -> Violation | None:
        """Record-level rules and the language check (not counted until the record is screened)."""
        task = self.tasks[record.task_id]
        if len(self._flats) > FLAT_TEXTS:
            self._flats.clear()
        flats = self._flats
        flat_in = flats.get(record.input)
        if flat_in is None:
            flat_in = flats[record.input] = normalise(record.input)
        flat_out = flats.get(record.output)
        if flat_out is None:
            flat_out = flats[record.output] = normalise(record.output)
        return check(record, task, self.config.rules, flat_in, flat_out) or self._language(record, task)

    def check(self, record: Record, split: str | None = None) -> Violation | Merge | None:
        """`validate` and `screen` one record (tests, small callers; the build screens batches)."""
        return self.screen([record], [split or record.split], [self.validate(record)])[0]

    def screen(
        self, records: Sequence[Record], splits: Sequence[str | None], problems: Sequence[Violation | None]
    ) -> list[Violation | Merge | None]:
        """The verdict on each record of a batch, in order: None (accepted: write it), a Merge, or a Violation:
        "duplicate-id" (an id already accepted in its task), the record's own problem from `problems`
        (validation or schema), an exact or a near duplicate. A record is judged against every accepted record
        before it, those of the batch included. `splits`: each record's split (hash splits are drawn by the
        build). Test records are de-duplicated apart from the others (see the module docstring)."""
        if not records:
            return []
        m, near = len(records), self._near
        task = np.fromiter((self._task_numbers[r.task_id] for r in records), np.int32, m)
        part_names = [
            f"{r.task_id}\x00test" if s == "test" else r.task_id for r, s in zip(records, splits, strict=True)
        ]
        part = np.fromiter((self._part(name) for name in part_names), np.int32, m)
        id_hash = np.fromiter((_hash(r.id) for r in records), np.uint64, m)
        folded_in = [self._folded_input(r.input) for r in records]
        in_hash = np.fromiter((h for _, h in folded_in), np.uint64, m)
        folded = [self._fold(r.output) for r in records]
        self._flats.clear()
        out_hash = np.fromiter((_hash(text) for text in folded), np.uint64, m)
        # (folded text: words joined by one space) With a short output (a label, a hypothesis, an extracted answer),
        # near-identical text may be a different instance (another hypothesis of one premise): it is a near
        # duplicate only when the outputs are the same too.
        short = np.fromiter((text.count(" ") < SHORT_OUTPUT_WORDS - 1 for text in folded), bool, m)
        valid = np.fromiter((p is None for p in problems), bool, m)
        pair = _keys(_pairs(in_hash, out_hash))
        batch_keys = (_keys(id_hash, task, 1), _keys(pair, part, 2), _keys(in_hash, part, 3))
        for table in self._tables:
            table.reserve(m)
        if near is not None:
            sketches = near.sketch_arrays([(i, o) for (i, _), o in zip(folded_in, folded, strict=True)], folded=True)
            keys, edit_need = near.batch_keys(part, sketches)
            near.index.reserve(m)
            if self._kept_out.size < near.index.owner.size:
                self._kept_out.resize(near.index.owner.size, refcheck=False)
            near_arrays, need = near.index.arrays, near.need
            sketched, signatures, shapes = sketches.sketched & valid, sketches.signatures, sketches.parts
        else:  # (empty stand-ins; need < 0 skips the near-duplicate checks)
            near_arrays, need = _Index(1, 1, rows=1).arrays, -1
            keys, edit_need, sketched = np.zeros((m, 1), np.uint32), np.zeros(m, np.int64), np.zeros(m, bool)
            signatures, shapes = np.zeros((m, 1), np.uint8), np.zeros((m, 1), np.uint32)
        verdict, ref, flags, earlier = (
            np.empty(m, np.int8),
            np.empty(m, np.int64),
            np.empty(m, np.uint8),
            np.empty(m, np.int64),
        )
        tables = tuple(table.arrays for table in self._tables)
        batch = (task, part, batch_keys[0], valid, batch_keys[1], pair, batch_keys[2], out_hash, short, sketched)
        batch += (keys, signatures, shapes, edit_need)
        kernels.screen(
            tables,
            self._used,
            near_arrays,
            self._kept_out,
            self._several,
            need,
            MAX_CHAIN,
            batch,
            verdict,
            ref,
            flags,
            earlier,
        )
        found = near.settle(part_names, [r.id for r in records], part, earlier) if near is not None else [None] * m
        return [
            self._verdict(record, int(v), int(r), int(f), found[i], problems[i], int(out_hash[i]))
            for i, (record, v, r, f) in enumerate(
                zip(records, verdict.tolist(), ref.tolist(), flags.tolist(), strict=True)
            )
        ]

    def _verdict(  # noqa: PLR0913 (one record's share of the compiled loop's arrays)
        self,
        record: Record,
        verdict: int,
        ref: int,
        flags: int,
        earlier: str | None,
        problem: Violation | None,
        out_hash: int,
    ) -> Violation | Merge | None:
        """What `screen` says of one record, from the compiled loop's verdict; counts it for the task checks."""
        task_id, state = record.task_id, self.state[record.task_id]
        if flags & kernels.NEW_INPUT:
            prefix, rest = f"{task_id}:", record.id[len(task_id) + 1 :]
            plain = record.id.startswith(prefix) and not rest.startswith("\x00")
            self._ids.append(rest if plain else f"\x00{record.id}")
        if verdict == kernels.DUPLICATE_ID:
            return Violation("duplicate-id", "duplicate instance id", record.id)
        if verdict == kernels.INVALID:
            assert problem is not None
            if problem.rule in self.STAGE_RULES:
                state.quarantined[problem.rule] += 1
            return problem
        if verdict == kernels.EXACT:
            state.quarantined["exact-duplicate"] += 1
            return Violation(
                "exact-duplicate", "same input and output as an earlier instance of the task", record.input[:200]
            )
        if verdict == kernels.NEAR:
            state.quarantined["near-duplicate"] += 1
            return Violation("near-duplicate", "near-duplicate of an earlier instance of the task", earlier)
        if verdict == kernels.MERGE:
            into = self._id(ref, task_id)
            state.merged_outputs += 1
            if len(state.merge_examples) < 5:
                state.merge_examples.append([into, record.id])
            return Merge(into)
        if flags & kernels.CONFLICT:
            state.conflicting_outputs += 1
            if len(state.conflict_examples) < 5:
                state.conflict_examples.append([self._id(ref, task_id), record.id])
        if flags & kernels.CROSS_TASK:
            state.cross_task_duplicates += 1
        state.accepted += 1
        if self.tasks[task_id].labels:
            state.outputs[record.output] += 1
        if state.first_output is None:
            state.first_output = out_hash
        elif out_hash != state.first_output:
            state.all_same_output = False
        return None

    def _id(self, n: int, task_id: str) -> str:
        stored = self._ids[n]
        return stored[1:] if stored.startswith("\x00") else f"{task_id}:{stored}"

    def _part(self, name: str) -> int:
        """The number of a part (a task, or a task's test split), shared with the near-duplicate index."""
        if self._near is not None:
            return self._near.number(name)
        return self._parts.setdefault(name, len(self._parts))

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

    def _fold(self, text: str) -> str:
        flat = self._flats.get(text)
        return fold(text) if flat is None else fold_flat(text, flat)

    def _folded_input(self, text: str) -> tuple[str, int]:
        """The folded input and its hash, kept for the last input (see `_last_input`)."""
        if text is not self._last_input[0]:
            folded = self._fold(text)
            self._last_input = (text, folded, _hash(folded))
        return self._last_input[1:]

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
