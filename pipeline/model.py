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


Unpack = Literal["zip", "tar.gz", "gz"]
UNPACK_KINDS: tuple[str, ...] = ("zip", "tar.gz", "gz")


@dataclass(frozen=True)
class Download:
    """One file as its owners publish it, and where it lands in the source's raw folder, so that
    `python -m pipeline download` can lay a corpus out exactly as the converter's RawFile patterns
    expect. Declared, not coded: a reviewer checks a URL and a path, not a download script.

    Either `url` (HTTP(S); the file is saved at `path`, relative to the raw folder) or `hf_dataset` (a
    Hugging Face Hub dataset repo; `files` are its file names or glob patterns, saved under `path`,
    "" being the raw folder itself). `sha256` and `size`, when known, are checked before the file is
    given its final name; they are left None rather than guessed. An archive (`unpack`) is saved at
    `path`, extracted and then deleted. `members` says which archive members go where, as
    (source, destination) pairs tried in order: a source ending in "/" is a folder prefix (a leading
    "*/" matches any top folder, e.g. the `<repo>-<commit>/` of a GitHub archive) whose contents go
    below the destination folder; any other source is a glob over member paths, the file going to the
    destination path, or into it when it is a folder ("" or ending in "/"). No `members`: every member
    keeps its own path. `note` is shown to the user (a mirror, a URL not verified).
    """

    url: str = ""
    path: str = ""
    sha256: str | None = None
    size: int | None = None
    unpack: Unpack | None = None
    members: tuple[tuple[str, str], ...] = ()
    hf_dataset: str = ""
    revision: str = "main"
    files: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        what = self.url or self.hf_dataset or "download"
        if bool(self.url) == bool(self.hf_dataset):
            raise ValueError(f"{what}: declare exactly one of url and hf_dataset")
        if self.url and not self.path:
            raise ValueError(f"{what}: a URL download needs the path it lands at")
        if self.hf_dataset and (self.unpack or self.members or self.sha256 or self.size is not None):
            raise ValueError(f"{what}: unpack, members, sha256 and size apply to URL downloads only")
        for rel in (self.path, *(dest for _, dest in self.members)):
            parts = Path(rel).parts
            if Path(rel).is_absolute() or ".." in parts or "\\" in rel:
                raise ValueError(f"{what}: {rel!r} must be a relative path inside the raw folder")
        if self.unpack is not None and self.unpack not in UNPACK_KINDS:
            raise ValueError(f"{what}: unpack must be one of {UNPACK_KINDS}, got {self.unpack!r}")
        if self.members and self.unpack is None:
            raise ValueError(f"{what}: members need an unpack kind")
        hexdigits = set("0123456789abcdef")
        if self.sha256 is not None and (len(self.sha256) != 64 or not set(self.sha256) <= hexdigits):
            raise ValueError(f"{what}: sha256 must be 64 lower-case hex digits")


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
    #: Where the raw files are officially published, for `python -m pipeline download`. Open sources
    #: only: registration and credentialed corpora are obtained by the user under their own agreement.
    downloads: tuple[Download, ...] = ()

    def __post_init__(self) -> None:
        if self.access not in ACCESS_LEVELS:
            raise ValueError(f"source {self.id}: access must be one of {ACCESS_LEVELS}, got {self.access!r}")
        if not self.forms:
            raise ValueError(f"source {self.id}: declare at least one RawForm")
        if self.downloads and self.access != "open":
            raise ValueError(f"source {self.id}: {self.access} corpora are never downloaded by the pipeline")


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
    if source.downloads:
        lines.append(f"Or run: python -m pipeline download --source {source.id} --raw-dir {raw_dir}")
    lines.append(f"Homepage: {source.homepage}")
    return "\n".join(lines)
