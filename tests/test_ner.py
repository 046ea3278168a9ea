"""Shared NER machinery: the IOB reader (types, broken lines, bad bytes) and standoff mapping."""

from __future__ import annotations

import importlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES

from pipeline import ner
from pipeline.model import Record, Rejection, detect_form


def read(tmp_path: Path, content: bytes, types=None) -> list:
    path = tmp_path / "train.tsv"
    path.write_bytes(content)
    return list(ner.records("t", ner.read_iob(path, "train.tsv", "train", "t", types)))


def test_iob_with_types_keeps_only_the_wanted_entity_type(tmp_path: Path) -> None:
    text = b"Aspirin\tB-Chemical\ncauses\tO\nulcers\tB-Disease\n.\tO\n"
    [chem] = read(tmp_path, text, types={"Chemical"})
    [both] = read(tmp_path, text)
    assert (chem.input, chem.output, chem.split) == ("Aspirin causes ulcers.", "Aspirin", "train")
    assert both.output == "Aspirin, ulcers"


def test_a_non_utf8_byte_or_a_broken_line_rejects_only_its_sentence(tmp_path: Path) -> None:
    items = read(tmp_path, b"Good\tO\n.\tO\n\nBad\xff\tO\n\nNo tag here\n\nFine\tB\n")
    rejected = [(r.locator, r.reason.split(";")[0]) for r in items if isinstance(r, Rejection)]
    assert rejected == [
        ("train.tsv line 4", "not UTF-8 (invalid start byte)"),
        ("train.tsv line 6", "malformed line: expected token<TAB>B|I|O"),
    ]
    assert [r.input for r in items if not isinstance(r, Rejection)] == ["Good.", "Fine"]


def test_standoff_spans_map_to_tokens_and_mismatches_reject_the_document() -> None:
    text = "Aspirin (ASA) helps.\nIt also harms."
    spans = [ner.Span(0, 7, "Aspirin", "ann.txt", "line 1"), ner.Span(9, 12, "ASA", "ann.txt", "line 2")]
    records = list(ner.records("t", ner.standoff_sentences(text, spans, "doc.txt", "doc 1", "t")))
    assert [(r.input, r.output) for r in records] == [
        ("Aspirin (ASA) helps.", "Aspirin, ASA"),
        ("It also harms.", "There is no related entity."),
    ]
    wrong = [ner.Span(0, 6, "Aspirin", "ann.txt", "line 1")]
    rejected = list(ner.standoff_sentences(text, wrong, "doc.txt", "doc 1", "t"))
    assert [(r.raw_file, r.locator) for r in rejected] == [("ann.txt", "line 1"), ("doc.txt", "doc 1")]


@pytest.mark.parametrize("source_id", ["species800", "linnaeus", "ncbi_disease", "bc2gm"])
def test_hugging_face_export_gives_the_same_records_as_the_original(source_id: str, tmp_path: Path) -> None:
    """The Hub's Parquet export (tokens + integer ner_tags) of the bundled sample's content converts to the
    same (id, input, output) as the original release it was made from."""
    module = importlib.import_module(f"converters.{source_id}")
    original = detect_form(module.SOURCE, SAMPLES / source_id)
    expected = {(r.id, r.input, r.output) for r in module.generate(original) if isinstance(r, Record)}
    sentences = list(module.to_iob(original))
    tag_id = {"O": 0, "B": 1, "I": 2}
    folder = tmp_path / "data"
    folder.mkdir()
    for split, part in (("train", sentences[::2]), ("test", sentences[1::2])):
        table = pa.table(
            {
                "id": [str(i) for i in range(len(part))],
                "tokens": [[t for t, _ in s] for s in part],
                "ner_tags": [[tag_id[tag] for _, tag in s] for s in part],
            }
        )
        pq.write_table(table, folder / f"{split}-00000-of-00001.parquet")
    files = detect_form(module.SOURCE, tmp_path)
    assert files.form.name == "hf"
    records = [r for r in module.generate(files) if isinstance(r, Record)]
    assert {(r.id, r.input, r.output) for r in records} == expected
    assert {r.split for r in records} == {"train", "test"}


def test_hugging_face_rows_with_mismatched_tags_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    table = pa.table({"tokens": [["Aspirin", "works"], ["Bad"]], "ner_tags": [[1, 0], [0, 1]]})
    pq.write_table(table, tmp_path / "data" / "validation-00000-of-00001.parquet")
    from converters import species800

    items = list(species800.generate(detect_form(species800.SOURCE, tmp_path)))
    assert [(r.output, r.split) for r in items if isinstance(r, Record)] == [("Aspirin", "validation")]
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection)] == [
        ("tokens and ner_tags do not match", "data/validation-00000-of-00001.parquet row 2")
    ]
