"""Converter discovery: the built-in package and a third-party package's entry point."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pipeline import registry


def test_builtin_converters_are_found() -> None:
    found = registry.converters()
    assert {"pubmedqa", "species800", "meqsum", "mimic_iv"} <= set(found)
    assert found["mimic_iv"].source.access == "credentialed"


def test_entry_point_adds_a_third_party_converter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "acme_corpus.py").write_text(
        textwrap.dedent("""
        from pipeline.model import RawFile, RawForm, Record, Source, Task
        SOURCE = Source(id="acme_corpus", name="ACME", homepage="https://example.org", license="CC0",
                        access="open", citation="ACME (2024).", obtain="Ask ACME.",
                        forms=(RawForm("txt", (RawFile("lines", ("lines.txt",)),)),))
        TASKS = (Task("acme_qa", "Question Answering", "Exam"),)
        def generate(files):
            yield Record("acme_qa", "1", "q", "a", "lines.txt", "line 1")
    """)
    )
    dist = tmp_path / "acme_corpus-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-corpus\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[meds_ins.converters]\nacme_corpus = acme_corpus\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.converters.cache_clear()
    try:
        conv = registry.get("acme_corpus")
        assert conv.task_ids == ("acme_qa",) and conv.module == "acme_corpus"
    finally:
        registry.converters.cache_clear()
        sys.modules.pop("acme_corpus", None)


def test_a_module_breaking_the_contract_is_named() -> None:
    import types

    with pytest.raises(registry.ConverterError, match="broken lacks SOURCE, TASKS, generate"):
        registry.from_module(types.ModuleType("broken"))
