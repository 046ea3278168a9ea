"""A converter module built in tests: records and rejections are supplied by the test, so build
behaviour (quarantine, replacement, interruption) can be checked without a real corpus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

from pipeline.model import Item, RawFile, RawFiles, RawForm, Source, Task
from pipeline.registry import Converter, converters, from_module


def make(
    items: Callable[[RawFiles], Iterator[Item]],
    task_ids: tuple[str, ...] = ("meqsum_text_summarization",),
    source_id: str = "meqsum",
) -> Converter:
    return from_module(module(items, task_ids, source_id))


def module(
    items: Callable[[RawFiles], Iterator[Item]],
    task_ids: tuple[str, ...] = ("meqsum_text_summarization",),
    source_id: str = "meqsum",
    files: tuple[RawFile, ...] = (RawFile("input", ("input.txt",)),),
) -> ModuleType:
    """The converter module itself, for tests that add to it (PARTS) or check how it is loaded."""
    made = ModuleType(f"fake_{source_id}")
    made.SOURCE = Source(
        id=source_id,
        name="Fake",
        homepage="https://example.org",
        license="CC0",
        access="open",
        citation="Nobody (2024). Fake.",
        obtain="Write it.",
        forms=(RawForm("txt", files),),
    )
    # Tasks of a real converter keep their declarations (labels, languages); others get a plain one.
    real = {t.id: t for conv in converters().values() for t in conv.tasks}
    made.TASKS = tuple(real.get(t) or Task(t, "Text Summarization", "Medical Knowledge") for t in task_ids)
    made.generate = items
    return made
