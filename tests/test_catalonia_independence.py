"""Catalonia Independence Corpus specifics: tab-separated ".csv" members read straight from the zip (or extracted),
the split mapping, mangled float ids, and tweets repeated across splits."""

from __future__ import annotations

import zipfile
from pathlib import Path

from converters import catalonia_independence as cic
from pipeline.model import Record, Rejection, detect_form

FILES = {
    "spanish_train.csv": ["1001\tVotaremos igualmente\tFAVOR", "1003\tHoy hay pleno\tNEUTRAL", "1002\tNo\tMAYBE"],
    "spanish_val.csv": ["10015555555555556e+18\tUna frase\tAGAINST"],
    "spanish_test.csv": ["1003\tHoy hay pleno\tNEUTRAL"],
}


def content(lines: list[str]) -> bytes:
    return "".join(f"{line}\r\n" for line in ["id_str\tTWEET\tLABEL", *lines]).encode("utf-8")


def run(raw_dir: Path) -> list:
    return list(cic.generate(detect_form(cic.SOURCE, raw_dir)))


def test_zip_and_extracted_files_give_the_same_records(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "02_CIC_ES.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, lines in FILES.items():
            archive.writestr(name, content(lines))
    (tmp_path / "unzipped").mkdir()
    for name, lines in FILES.items():
        (tmp_path / "unzipped" / name).write_bytes(content(lines))
    zipped, extracted = run(tmp_path), run(tmp_path / "unzipped")
    assert detect_form(cic.SOURCE, tmp_path).form.name == "zip"
    records = [r for r in zipped if isinstance(r, Record)]
    assert [(r.id, r.input, r.output, r.split) for r in records] == [
        (r.id, r.input, r.output, r.split) for r in extracted if isinstance(r, Record)
    ]
    assert [(r.key, r.split, r.output) for r in records] == [
        ("1003", "test", "NEUTRAL"),
        ("10015555555555556e+18-" + records[1].key.rsplit("-", 1)[1], "validation", "AGAINST"),
        ("1001", "train", "FAVOR"),
    ]
    assert records[0].raw_file == "02_CIC_ES.zip" and records[0].locator == "spanish_test.csv line 2 (id_str 1003)"
    assert [(r.reason, r.locator) for r in zipped if isinstance(r, Rejection)] == [
        (
            "tweet repeated (kept where first read)",
            "spanish_train.csv line 3 (id_str 1003, first read at spanish_test.csv line 2)",
        ),
        ("label 'MAYBE' is not one of AGAINST, FAVOR, NEUTRAL", "spanish_train.csv line 4"),
    ]


def test_task_declares_spanish_input() -> None:
    assert cic.TASKS[0].input_language == "Spanish" and cic.TASKS[0].labels == ("AGAINST", "FAVOR", "NEUTRAL")
