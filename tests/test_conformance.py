"""The one conformance suite every converter passes, with no per-converter test code: it runs each
registered converter on its bundled sample and, where `../shared/corpora/<source_id>/` exists, on
the real sample of the corpus, and checks the contract the rest of the pipeline relies on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import SAMPLES, SHARED_CORPORA

from pipeline import catalogue, seeds, validation
from pipeline.build import check_record
from pipeline.forms import NO_ENTITY
from pipeline.model import MissingRawFiles, Record, Rejection, Task, detect_form
from pipeline.registry import Converter, converters
from pipeline.schemas import violations

CONVERTERS = sorted(converters())
#: Closed sets up to this size must be spelled out in every instruction of their task.
MAX_LISTED_LABELS = 14


def run(conv: Converter, raw_dir: Path) -> tuple[list[Record], list[Rejection], list[str]]:
    files = detect_form(conv.source, raw_dir)
    items = list(conv.generate(files))
    records = [i for i in items if isinstance(i, Record)]
    rejections = [i for i in items if isinstance(i, Rejection)]
    assert len(records) + len(rejections) == len(items), "a converter yields only Records and Rejections"
    return records, rejections, [" or ".join(f.patterns) for f in files.missing]


def check_records(conv: Converter, records: list[Record]) -> None:
    assert records, f"{conv.source.id}: no records at all"
    duplicates = [i for i, n in Counter(r.id for r in records).items() if n > 1]
    assert not duplicates, f"duplicate instance ids: {sorted(duplicates)[:5]}"
    tasks = {t.id: t for t in conv.tasks}
    for r in records:
        check_record(r, tasks)
        violation = validation.check(r, tasks[r.task_id], validation.Rules())
        assert violation is None, (r.id, violation)
        row = {"id": r.id, "task_id": r.task_id, "source_id": conv.source.id, "split": r.split or "train"}
        row |= {
            "input": r.input,
            "output": r.output,
            "outputs": [r.output],
            "raw_file": r.raw_file,
            "locator": r.locator,
        }
        assert list(violations("instance", row)) == [], (r.id, list(violations("instance", row)))


def check_stable(conv: Converter, raw_dir: Path, records: list[Record]) -> None:
    again, _, _ = run(conv, raw_dir)
    assert again == records, "two runs over the same raw files must give identical records"


@pytest.mark.parametrize("source_id", CONVERTERS)
def test_metadata(source_id: str) -> None:
    conv = converters()[source_id]
    source = conv.source
    assert source.id == source_id and source.id.isidentifier() and source.id == source.id.lower()
    for field in ("name", "homepage", "license", "citation", "obtain"):
        assert getattr(source, field).strip(), f"{source_id}: declare {field}"
    assert source.homepage.startswith(("http://", "https://"))
    assert all(f.patterns for form in source.forms for f in form.files)
    entry = catalogue.sources().get(source_id)
    assert entry is not None, f"{source_id} is not in the catalogue"
    assert entry.access == source.access, f"{source_id}: access {source.access} but catalogue says {entry.access}"


@pytest.mark.parametrize("source_id", CONVERTERS)
def test_tasks_match_catalogue(source_id: str) -> None:
    conv = converters()[source_id]
    listed = {t.task_id: t for t in catalogue.tasks_of(source_id)}
    assert set(conv.task_ids) == set(listed), "a converter produces exactly its source's catalogue tasks"
    for task in conv.tasks:
        assert (task.category, task.domain) == (listed[task.id].category, listed[task.id].domain), task.id
        assert seeds.definitions(task.id), f"{task.id}: no seed instructions"


TASKS = sorted((t.id, t) for c in converters().values() for t in c.tasks)


@pytest.mark.parametrize("task", [t for _, t in TASKS], ids=[i for i, _ in TASKS])
def test_seeds(task: Task) -> None:
    """At least 15 hand-written instructions, pairwise distinct (ROUGE-L below 0.7 once the phrases
    every instruction must repeat are set aside), each naming what the output must look like."""
    found = seeds.load(task.id)
    assert found.problems() == []
    if task.labels and len(task.labels) <= MAX_LISTED_LABELS:
        unlisted = set(task.labels) - set(found.required)
        assert not unlisted, f"{task.id}: a closed set this small is named in every instruction; add {unlisted}"


@pytest.mark.parametrize("source_id", CONVERTERS)
def test_bundled_sample(source_id: str) -> None:
    conv = converters()[source_id]
    raw_dir = SAMPLES / source_id
    assert raw_dir.is_dir(), f"bundle a sample in the raw format under {raw_dir}"
    records, _, missing = run(conv, raw_dir)
    assert missing == [], f"the bundled sample should be complete; missing {missing}"
    check_records(conv, records)
    assert {r.task_id for r in records} == set(conv.task_ids), "every declared task yields records"
    for task_id in {r.task_id for r in records if r.output == NO_ENTITY}:
        assert NO_ENTITY in seeds.load(task_id).required, f"{task_id}: its instructions must name {NO_ENTITY!r}"
    check_stable(conv, raw_dir, records)


@pytest.mark.parametrize("source_id", CONVERTERS)
def test_real_sample(source_id: str) -> None:
    raw_dir = SHARED_CORPORA / source_id
    if not raw_dir.is_dir():
        pytest.skip(f"no real sample at {raw_dir}")
    conv = converters()[source_id]
    try:
        records, rejections, missing = run(conv, raw_dir)
    except MissingRawFiles as error:
        # A partial sample without the files that carry the text converts to nothing; the build must then
        # say exactly which files are missing, and recognise the ones that are there.
        absent = [f for form in conv.source.forms for f in form.files if f.required and not f.find(raw_dir)]
        assert absent and all(f"{' or '.join(f.patterns)}  [missing" in str(error) for f in absent), str(error)
        assert "[found" in str(error), f"nothing of the real sample was recognised:\n{error}"
        return
    check_records(conv, records)
    silent = set(conv.task_ids) - {r.task_id for r in records}
    # A partial real sample may leave tasks empty, but only when the build can name what is missing.
    assert not silent or missing, f"tasks {sorted(silent)} yield nothing and no raw file is reported missing"
    for rejection in rejections:
        assert rejection.reason and rejection.raw_file and rejection.locator, rejection
    check_stable(conv, raw_dir, records)
