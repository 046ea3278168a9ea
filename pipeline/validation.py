"""Record-level validation rules of the quality stage: a record that breaks one is quarantined with
the rule's name, never written. Each rule catches a converter or raw-data bug that the schema cannot
see: leftover template placeholders and pandas missing-value spellings, HTML markup where the source
has none, absurd lengths, outputs outside a closed task's answers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pipeline.model import Record, Task

#: Spellings of a missing value that pandas, JSON or a template leave behind when a field is absent.
MISSING_SPELLINGS = frozenset({"nan", "none", "null", "nat", "undefined", "n/a"})
_PLACEHOLDER = re.compile(r"\{\{?\s*(?:input|output|question|answer|context|text|instruction)\s*\}\}?", re.I)
_TAG = re.compile(
    r"</?(?:p|div|span|br|a|b|i|u|em|strong|ul|ol|li|table|tr|td|th|thead|tbody|html|body|head|img|font|sup|sub|h[1-6])"
    r"(?:\s[^<>]*)?/?>",
    re.I,
)
_INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


@dataclass(frozen=True)
class Bounds:
    """Allowed lengths in characters, after whitespace normalisation."""

    input_max: int = 300_000
    output_max: int = 60_000
    input_min: int = 1
    output_min: int = 1


@dataclass(frozen=True)
class Rules:
    """The configurable part of validation: length bounds (per task, else the default) and the tasks
    whose source legitimately contains HTML markup."""

    bounds: Bounds = field(default_factory=Bounds)
    task_bounds: dict[str, Bounds] = field(default_factory=dict)
    markup_allowed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    value: str


def fold(text: str) -> str:
    """The form duplicates and overlaps are compared in (quality stage, decontamination): Unicode NFKC,
    case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def fold_flat(text: str, flat: str) -> str:
    """`fold(text)` from `flat` = `normalise(text)`, which the quality stage has computed already: for ASCII text
    only lower-casing remains (NFKC leaves ASCII alone, ASCII case folding is lower-casing, and neither changes
    which characters are whitespace), a C loop instead of a second split and join."""
    return flat.lower() if text.isascii() else fold(text)


def normalise(text: str) -> str:
    """Whitespace (including zero-width characters) collapsed to single spaces, ends stripped."""
    if text.isascii() or not _ZERO_WIDTH.search(text):
        return " ".join(text.split())  # the same without zero-width characters, and several times faster
    return _INVISIBLE.sub(" ", text).strip()


def check(
    record: Record, task: Task, rules: Rules, flat_input: str | None = None, flat_output: str | None = None
) -> Violation | None:
    """The first rule the record breaks, or None. `flat_input`, `flat_output`: `normalise` of the input and the
    output when the caller has them already (the records a converter makes of one raw record often share their
    input; the quality stage folds both texts later)."""
    closed_answer = bool(task.labels) and task.allows(record.output)  # e.g. HoC's label "None" is an answer
    for name, text, given in (("input", record.input, flat_input), ("output", record.output, flat_output)):
        flat = given if given is not None else normalise(text)
        if not flat:
            return Violation("empty", f"{name} is empty after whitespace normalisation", text[:200])
        if flat.casefold() in MISSING_SPELLINGS and not (name == "output" and closed_answer):
            return Violation("placeholder", f"{name} is a missing-value spelling ({flat!r})", flat)
        if "{" in text and (match := _PLACEHOLDER.search(text)):  # (`in` first: a C scan, no regex machinery)
            return Violation(
                "placeholder", f"{name} holds a template placeholder {match.group()!r}", _around(text, match)
            )
        if "<" in text and task.id not in rules.markup_allowed and (match := _TAG.search(text)):
            return Violation("markup", f"{name} holds HTML markup {match.group()!r}", _around(text, match))
        bounds = rules.task_bounds.get(task.id, rules.bounds)
        low, high = (bounds.input_min, bounds.input_max) if name == "input" else (bounds.output_min, bounds.output_max)
        if not low <= len(flat) <= high:
            return Violation("length", f"{name} has {len(flat)} characters, outside {low}-{high}", flat[:200])
    if not task.allows(record.output):
        allowed = ", ".join(task.labels)
        return Violation("label", f"output is not one of the task's answers ({allowed})", record.output[:200])
    return None


def _around(text: str, match: re.Match[str], width: int = 60) -> str:
    return text[max(0, match.start() - width) : match.end() + width]
