"""Finds converters: modules of the `converters` package and modules named by the
`meds_ins.converters` entry-point group, so a third-party package can add a source without
touching this repository.

A converter module defines `SOURCE` (a `Source`), `TASKS` (a sequence of `Task`) and
`generate(files: RawFiles) -> Iterator[Record | Rejection]`. It may define `PARTS`, a mapping from the name
of a declared RawFile to the ids of the tasks made from that file alone, when its files feed disjoint sets of
tasks (MIMIC-IV's radiology and discharge notes): the build then converts each file in its own process
(pipeline.build). Ids, duplicates and the task checks are all per task, so a part needs nothing of the others.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

from pipeline.model import Item, RawFiles, Source, Task

ENTRY_POINT_GROUP = "meds_ins.converters"


class ConverterError(Exception):
    """A converter module that does not follow the contract."""


@dataclass(frozen=True)
class Converter:
    source: Source
    tasks: tuple[Task, ...]
    generate: Callable[[RawFiles], Iterator[Item]]
    module: str
    #: (raw file name, ids of the tasks made from it alone), from the module's PARTS; empty: one part.
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def task_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tasks)


def from_module(module: ModuleType) -> Converter:
    missing = [name for name in ("SOURCE", "TASKS", "generate") if not hasattr(module, name)]
    if missing:
        raise ConverterError(f"converter module {module.__name__} lacks {', '.join(missing)}")
    source, tasks = module.SOURCE, tuple(module.TASKS)
    if not isinstance(source, Source) or not all(isinstance(t, Task) for t in tasks) or not tasks:
        raise ConverterError(f"converter module {module.__name__}: SOURCE must be a Source and TASKS non-empty Tasks")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ConverterError(f"converter module {module.__name__}: duplicate task ids")
    parts = _parts(module.__name__, source, ids, getattr(module, "PARTS", {}))
    return Converter(source=source, tasks=tasks, generate=module.generate, module=module.__name__, parts=parts)


def _parts(module: str, source: Source, task_ids: list[str], declared) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """PARTS checked: every key a declared raw file, every task in exactly one part. A part that could make
    another's task would be de-duplicated apart from it, so a wrong declaration is refused here, and a record
    outside its part's tasks stops the build."""
    if not declared:
        return ()
    files = {f.name for form in source.forms for f in form.files}
    parts = tuple((name, tuple(ids)) for name, ids in dict(declared).items())
    problems = [f"{name!r} is not a raw file of {source.id}" for name, _ in parts if name not in files]
    counts = Counter(t for _, ids in parts for t in ids)
    problems += [f"task {t!r} is in {n} parts" for t, n in counts.items() if n > 1]
    problems += [f"task {t!r} is not a task of the module" for t in counts if t not in task_ids]
    problems += [f"task {t!r} is in no part" for t in task_ids if t not in counts]
    if problems:
        raise ConverterError(f"converter module {module}: PARTS: " + "; ".join(problems))
    return parts


@cache
def converters() -> dict[str, Converter]:
    """All registered converters by source id; built-in modules first, then entry points."""
    import converters as package

    found: dict[str, Converter] = {}
    modules = [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        if not isinstance(loaded, ModuleType):
            raise ConverterError(f"entry point {ep.name} = {ep.value} must name a module")
        modules.append(loaded)
    for module in modules:
        conv = from_module(module)
        if conv.source.id in found:
            raise ConverterError(
                f"source {conv.source.id} is defined twice: {found[conv.source.id].module} and {conv.module}"
            )
        found[conv.source.id] = conv
    return found


def get(source_id: str) -> Converter:
    try:
        return converters()[source_id]
    except KeyError:
        raise KeyError(f"no converter for source {source_id!r}; known: {', '.join(sorted(converters()))}") from None
