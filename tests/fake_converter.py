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
    module = ModuleType(f"fake_{source_id}")
    module.SOURCE = Source(
        id=source_id,
        name="Fake",
        homepage="https://example.org",
        license="CC0",
        access="open",
        citation="Nobody (2024). Fake.",
        obtain="Write it.",
        forms=(RawForm("txt", (RawFile("input", ("input.txt",)),)),),
    )
    # Tasks of a real converter keep their declarations (labels, languages); others get a plain one.
    real = {t.id: t for conv in converters().values() for t in conv.tasks}
    module.TASKS = tuple(real.get(t) or Task(t, "Text Summarization", "Medical Knowledge") for t in task_ids)
    module.generate = items
    return from_module(module)
