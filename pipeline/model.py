"""The data model every stage speaks: sources, tasks, raw-file declarations, records, rejections.

A converter module declares one `Source` and its `Task`s at the top, then streams `Record`s (and
`Rejection`s for raw records it cannot convert). Everything else in the pipeline reads only these
types, so a contributor never needs to know how splitting, writing or validation work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Access = Literal["open", "registration", "credentialed"]
ACCESS_LEVELS: tuple[str, ...] = ("open", "registration", "credentialed")

#: The 19 task categories of MedS-Ins (paper, Table 1).
CATEGORIES: tuple[str, ...] = (
    "Clinical Outcome Prediction",
    "Diagnosis",
    "Dialogue",
    "Explanation",
    "Fact Verification",
    "Information Extraction",
    "Intent Identification",
    "Named Entity Recognition",
    "Natural Language Inference",
    "Question Answering",
    "Sentence Composition Analysis",
    "Text Classification",
    "Text Completion",
    "Text Retrieval",
    "Text Summarization",
    "Translation",
    "Treatment Planning",
    "Word Relation Classification",
    "Wrong Candidate Generation",
)

#: The 5 text domains of MedS-Ins.
DOMAINS: tuple[str, ...] = (
    "Exam",
    "Clinical Text",
    "Academic Papers",
    "Medical Knowledge",
    "Daily Conversation",
)

#: Split names as Hugging Face `datasets` spells them; official splits are mapped onto these.
SPLITS: tuple[str, ...] = ("train", "validation", "test")


@dataclass(frozen=True)
class RawFile:
    """One file (or family of files) a converter reads.

    `patterns` are alternatives relative to the raw folder, tried in order (e.g. the `.csv.gz` a
    corpus ships and the `.csv` users often decompress it to); glob characters are allowed. A file
    that is not `required` may be absent: the converter then converts what is present and the build
    names what was missing.
    """

    name: str
    patterns: tuple[str, ...]
    required: bool = True
    split: str | None = None
    description: str = ""

    def find(self, raw_dir: Path) -> list[Path]:
        """The files matching the first pattern that matches anything, sorted for determinism."""
        for pattern in self.patterns:
            if any(ch in pattern for ch in "*?["):
                hits = sorted(p for p in raw_dir.glob(pattern) if p.is_file())
            else:
                hits = [raw_dir / pattern] if (raw_dir / pattern).is_file() else []
            if hits:
                return hits
        return []


@dataclass(frozen=True)
class RawForm:
    """One way a corpus is distributed (the original release, a preprocessed IOB copy, ...)."""

    name: str
    files: tuple[RawFile, ...]
    description: str = ""


@dataclass(frozen=True)
class Source:
    """A raw corpus: who publishes it, under which terms, and which files the converter reads."""

    id: str
    name: str
    homepage: str
    license: str
    access: Access
    citation: str
    obtain: str
    forms: tuple[RawForm, ...]
    version: str = ""

    def __post_init__(self) -> None:
        if self.access not in ACCESS_LEVELS:
            raise ValueError(f"source {self.id}: access must be one of {ACCESS_LEVELS}, got {self.access!r}")
        if not self.forms:
            raise ValueError(f"source {self.id}: declare at least one RawForm")


@dataclass(frozen=True)
class Task:
    """One instruction task produced by a converter (a row of the catalogue)."""

    id: str
    category: str
    domain: str
    tags: tuple[str, ...] = ()
    input_language: str = "English"
    output_language: str = "English"
    instruction_language: str = "English"
    #: For closed-set tasks, the allowed outputs; with `multi_label`, an output is several of them
    #: joined by ", " (see pipeline.forms). The build quarantines any output outside the set.
    labels: tuple[str, ...] = ()
    multi_label: bool = False
    #: The task has more than one right answer for one input (several doctors answering one question,
    #: several reference summaries or translations): records with the same input and different outputs
    #: become ONE instance whose `outputs` lists them all, as Super-NaturalInstructions has it. Elsewhere
    #: the same input with another output is a contradiction, reported by the quality stage.
    several_outputs: bool = False

    def allows(self, output: str) -> bool:
        if not self.labels:
            return True
        chosen = output.split(", ") if self.multi_label else [output]
        return all(c in self.labels for c in chosen)

    def __post_init__(self) -> None:
        if self.several_outputs and self.labels:
            raise ValueError(f"task {self.id}: a closed-set task has one right answer per input")
        if self.category not in CATEGORIES:
            raise ValueError(f"task {self.id}: unknown category {self.category!r}")
        if self.domain not in DOMAINS:
            raise ValueError(f"task {self.id}: unknown domain {self.domain!r}")


@dataclass(frozen=True, slots=True)
class Record:
    """One instance as a converter produces it.

    `key` identifies the instance within its task and must come from the raw record itself (a PMID,
    a note_id, a row's own id), never from a position in a shuffled list, so ids survive re-runs and
    new releases. `group` (default: `key`) is what the hash split is computed on: instances that
    share raw material (several tasks from one abstract, several notes of one patient) share a group
    and therefore land in the same split, so no test text leaks into training through a sibling task.
    """

    task_id: str
    key: str
    input: str
    output: str
    raw_file: str
    locator: str
    split: str | None = None
    group: str | None = None

    @property
    def id(self) -> str:
        return f"{self.task_id}:{self.key}"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A raw record the converter could not convert, with the reason and where it is."""

    reason: str
    raw_file: str
    locator: str
    task_id: str | None = None
    value: str | None = None


Item = Record | Rejection


@dataclass
class RawFiles:
    """What the build found in a raw folder for one source: the detected form and its files."""

    root: Path
    form: RawForm
    found: dict[str, list[Path]] = field(default_factory=dict)

    def paths(self, name: str) -> list[Path]:
        """All files found for the declared RawFile `name` (empty when an optional file is absent)."""
        return self.found.get(name, [])

    def path(self, name: str) -> Path | None:
        hits = self.paths(name)
        return hits[0] if hits else None

    def relative(self, path: Path) -> str:
        """The name of a raw file as recorded in provenance: relative to the raw folder."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

    @property
    def missing(self) -> list[RawFile]:
        return [f for f in self.form.files if not self.found.get(f.name)]


class MissingRawFiles(Exception):
    """No declared form of a source is complete in the raw folder."""

    def __init__(self, source: Source, raw_dir: Path, detail: str):
        self.source, self.raw_dir = source, raw_dir
        super().__init__(detail)


def detect_form(source: Source, raw_dir: Path) -> RawFiles:
    """Pick the first declared form whose required files are all present in `raw_dir`."""
    raw_dir = Path(raw_dir)
    if raw_dir.is_dir():
        for form in source.forms:
            found = {f.name: f.find(raw_dir) for f in form.files}
            if all(found[f.name] for f in form.files if f.required) and any(found.values()):
                return RawFiles(root=raw_dir, form=form, found={k: v for k, v in found.items() if v})
    raise MissingRawFiles(source, raw_dir, describe_missing(source, raw_dir))


def describe_missing(source: Source, raw_dir: Path) -> str:
    """The error a user sees: what was expected where, how to get it, and what access it needs."""
    where = f"{raw_dir}" + ("" if Path(raw_dir).is_dir() else " (folder does not exist)")
    lines = [f"{source.id}: no complete set of raw files in {where}."]
    lines.append("Accepted forms (the first complete one is used):" if len(source.forms) > 1 else "Expected files:")
    for form in source.forms:
        if len(source.forms) > 1:
            lines.append(f"  - {form.name}: {form.description}".rstrip(": "))
        for f in form.files:
            state = "found" if f.find(Path(raw_dir)) else "missing"
            need = "" if f.required else ", optional"
            what = f"  ({f.description})" if f.description else ""
            lines.append(f"      {' or '.join(f.patterns)}  [{state}{need}]{what}")
    access = {
        "open": "open access",
        "registration": "registration required (sign the provider's data use agreement)",
        "credentialed": "credentialed access (e.g. PhysioNet credentialing, CITI training and a signed "
        "data use agreement)",
    }[source.access]
    lines.append(f"Access: {access}; license: {source.license}.")
    lines.append(f"How to obtain: {source.obtain}")
    lines.append(f"Homepage: {source.homepage}")
    return "\n".join(lines)
