"""Shared NER machinery: the IOB reader (types, broken lines, bad bytes) and standoff mapping."""

from __future__ import annotations

from pathlib import Path

from pipeline import ner
from pipeline.model import Rejection


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
