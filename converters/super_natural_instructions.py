"""Super-NaturalInstructions (Wang et al., EMNLP 2022): 1,616 NLP tasks, one JSON file per task in the
`tasks/` folder of github.com/allenai/natural-instructions (`tasks/taskNNN_<name>.json`: Contributors, Source,
Categories, Domains, Definition, examples, Instances [{id, input, output: [...]}]; the key order varies and
older snapshots have no instance ids). The files are read as the repository distributes them, from its
`tasks/` folder (or with the task files directly in the raw folder).

Selection is explicit and reviewable, kept as data in `pipeline/catalogue/sni_tasks.csv` (one row per
reviewed task file: derived task id, allow/deny and why, our category and domain, the SNI category and
Domains it was reviewed with). Each task file present is handled by its own `Domains` field and that list:
- allowed and its Domains include Healthcare or Medicine: converted into ITS OWN task, id `sni_` + the file
  name (`sni_task690_mmmlu_answer_generation_college_medicine`), with the category and domain of its row;
  the row's SNI category must be among the file's Categories (`pipeline/catalogue/sni_categories.csv` maps
  SNI categories onto ours), else the file is quarantined;
- denied (its corpus is converted by our own converter, e.g. pico task179-181, pubmedqa task845-849, or it
  falls outside the Healthcare/Medicine rule): one Rejection naming the file and the row's reason;
- not listed but its Domains include Healthcare or Medicine: one Rejection "SNI task not in the reviewed
  list", never converted silently; not listed and not medical: outside this source, skipped.
The build report counts instances per task (the selected tasks) and quarantines the rest by reason.

Per instance of an allowed task: input = the SNI `input` (outer whitespace trimmed, text otherwise as
written); output = its FIRST `output` (SNI lists alternative correct answers; one instance per input keeps
one input from appearing with several targets), so the task's own SNI Definition (its first seed) still
describes the output exactly (e.g. the MMLU tasks answer with the option letter only, which is why their
inputs and outputs are kept as SNI writes them instead of being re-formed with pipeline.forms). Where the
row declares labels (A|B|C|D), the build quarantines any other output. Key: the SNI instance `id`
(`task690-<hash>`), or, in snapshots without ids, `h` + a hash of the input. No official split: split None,
the hash split runs on a hash of the question text. Quarantined: instances without an input string or
with an empty / non-string first output, repeated ids or inputs, non-UTF-8 bytes. A task file whose JSON
breaks raises ValueError naming it when it is an allowed task, and is quarantined otherwise.

The form requires at least one allowed task file (a folder holding none converts to nothing); each
allowed file is also declared on its own, so the build names the allowed tasks that are absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ijson

from pipeline import catalogue
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import Utf8Stream, content_key, question_group, text_problem

#: The Domains that put an SNI task in the medical selection.
MEDICAL_DOMAINS = ("Healthcare", "Medicine")

REVIEWED = catalogue.sni_tasks()
ALLOWED = {name: row for name, row in REVIEWED.items() if row.allowed}


def _patterns(name: str) -> tuple[str, ...]:
    return (f"tasks/{name}", name)


SOURCE = Source(
    id="super_natural_instructions",
    name="Super-NaturalInstructions (Healthcare and Medicine tasks)",
    homepage="https://github.com/allenai/natural-instructions",
    license="Apache-2.0 (repository); per-task Instance License (e.g. MIT for the MMLU tasks)",
    access="open",
    citation=(
        "Wang, Y., Mishra, S., Alipoormolabashi, P., et al. (2022). Super-NaturalInstructions: Generalization via "
        "Declarative Instructions on 1600+ NLP Tasks. EMNLP 2022, pp. 5085-5109."
    ),
    obtain=(
        "Clone https://github.com/allenai/natural-instructions (or copy its tasks/ folder) into the raw folder: "
        "tasks/taskNNN_<name>.json are read. Only the task files allowed in pipeline/catalogue/sni_tasks.csv "
        "are converted; the others present are reported."
    ),
    forms=(
        RawForm(
            "tasks",
            (
                RawFile(
                    "reviewed",
                    tuple(p for name in ALLOWED for p in _patterns(name)),
                    description="at least one task file allowed in pipeline/catalogue/sni_tasks.csv",
                ),
                *(
                    RawFile(row.task_id, _patterns(name), required=False, description=f"SNI {name}")
                    for name, row in ALLOWED.items()
                ),
                RawFile(
                    "tasks",
                    ("tasks/task*.json", "task*.json"),
                    required=False,
                    description="every SNI task file present: allowed ones converted, the others reported",
                ),
            ),
            "the repository's tasks/ folder (task JSON files), whole or in part",
        ),
    ),
    # The reviewed task files allowed in sni_tasks.csv, from the official repository at a pinned commit (the whole
    # repository is 3 GB).
    downloads=tuple(
        Download(
            "https://raw.githubusercontent.com/allenai/natural-instructions/"
            f"e0fd31052b21acea5bd95fb00253e1ee1f5d8259/tasks/{name}",
            f"tasks/{name}",
        )
        for name in ALLOWED
    ),
)

TASKS = tuple(
    Task(row.task_id, row.category, row.domain, tags=row.sni_domains, labels=row.labels) for row in ALLOWED.values()
)


@dataclass
class Header:
    """The metadata of a task file needed for the selection (None: the field is absent)."""

    domains: list[str] | None = None
    categories: list[str] | None = None


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("tasks"):
        yield from _task_file(path, files.relative(path))


def is_medical(domains: list[str] | None) -> bool:
    return any(d.strip() in MEDICAL_DOMAINS for d in domains or ())


def task_id_of(file_name: str) -> str:
    """The catalogue id of an SNI task file: `sni_` + its name, snake_case."""
    stem = file_name.removesuffix(".json").lower()
    return "sni_" + re.sub(r"[^a-z0-9]+", "_", stem).strip("_")


def _task_file(path: Path, name: str) -> Iterator[Item]:
    row = REVIEWED.get(path.name)
    try:
        header = read_header(path)
    except ValueError as error:
        if row is not None and row.allowed:
            raise
        yield Rejection("task file is not valid JSON", name, "task file", None, str(error))
        return
    if row is None:
        if is_medical(header.domains):
            domains = ", ".join(header.domains or ())
            yield Rejection("SNI task not in the reviewed list", name, "Domains", None, f"Domains: {domains}")
        return
    if not row.allowed:
        yield Rejection("SNI task denied in the reviewed list", name, "task file", None, row.reason)
        return
    if not is_medical(header.domains):
        found = "none" if header.domains is None else ", ".join(header.domains) or "none"
        yield Rejection("SNI task outside the Healthcare and Medicine domains", name, "Domains", row.task_id, found)
        return
    categories = header.categories or []
    if not any(row.sni_category in (c.strip(), c.split("->")[0].strip()) for c in categories):
        found = ", ".join(categories) or "none"
        reason = f"SNI Categories do not include the reviewed category {row.sni_category}"
        yield Rejection(reason, name, "Categories", row.task_id, found)
        return
    yield from _instances(path, name, row.task_id)


def read_header(path: Path) -> Header:
    """Domains and Categories of a task file, read up to its Instances (or on past them when a field comes
    later). Raises ValueError naming the file if its JSON breaks."""
    header = Header()
    with path.open("rb") as raw:
        try:
            for prefix, event, value in ijson.parse(Utf8Stream(raw)):
                if prefix == "" and event == "map_key" and value == "Instances":
                    if header.domains is not None and header.categories is not None:
                        break
                elif prefix in ("Domains", "Categories") and event == "start_array":
                    setattr(header, prefix.lower(), [])
                elif prefix in ("Domains.item", "Categories.item") and event == "string":
                    getattr(header, prefix.split(".")[0].lower()).append(value)
                elif prefix in ("Domains", "Categories") and event == "string":  # a bare string, not a list
                    setattr(header, prefix.lower(), [value])
        except ijson.JSONError as error:
            raise ValueError(f"{path.name}: malformed JSON: {error}") from error
    return header


def _instances(path: Path, name: str, task_id: str) -> Iterator[Item]:
    seen: dict[str, str] = {}
    number = 0
    with path.open("rb") as raw:
        try:
            for number, instance in enumerate(ijson.items(Utf8Stream(raw), "Instances.item"), 1):
                yield _instance(instance, number, name, task_id, seen)
        except ijson.JSONError as error:
            raise ValueError(f"{name}: malformed JSON after instance {number}: {error}") from error


def _instance(instance: object, number: int, name: str, task_id: str, seen: dict[str, str]) -> Item:
    if not isinstance(instance, dict):
        return Rejection("instance is not a JSON object", name, f"instance {number}", task_id, str(instance)[:200])
    ident = instance.get("id")
    ident = ident.strip() if isinstance(ident, str) and ident.strip() else None
    where = f"instance {number}" + (f" (id {ident})" if ident else "")
    text, outputs = instance.get("input"), instance.get("output")
    problem = text_problem(text, "input")
    if problem:
        return Rejection(problem, name, where, task_id, _preview(text))
    if not isinstance(outputs, list) or not outputs:
        return Rejection("output is not a non-empty list", name, where, task_id, repr(outputs)[:200])
    problem = text_problem(outputs[0], "first output")
    if problem:
        return Rejection(problem, name, where, task_id, _preview(text))
    text = text.strip()
    key = ident or "h" + content_key(text)
    if key in seen:
        what = "instance id" if ident else "input"
        return Rejection(f"repeats the {what} of an earlier instance", name, where, task_id, seen[key])
    seen[key] = where
    return Record(task_id, key, text, outputs[0].strip(), name, where, group=question_group(text))


def _preview(value: object) -> str | None:
    return value[:200] if isinstance(value, str) and value.strip() else None
