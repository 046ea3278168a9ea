"""Catalonia Independence Corpus specifics: tab-separated ".csv" members read straight from the zip (or extracted),
the split mapping, mangled float ids, and tweets repeated across splits."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


def test_hugging_face_export_gives_the_same_records(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parent.parent / "data" / "samples" / "catalonia_independence"
    expected = {
        (r.id, r.input, r.output, r.split)
        for r in cic.generate(detect_form(cic.SOURCE, sample))
        if isinstance(r, Record)
    }
    (tmp_path / "spanish").mkdir()
    with zipfile.ZipFile(sample / cic.ARCHIVE) as archive:
        for info in archive.infolist():
            member = Path(info.filename).name
            if member not in cic._MEMBERS:
                continue
            lines = archive.read(info).decode("utf-8").splitlines()[1:]
            rows = [line.split("\t") for line in lines if line.count("\t") == 2]
            rows = [r for r in rows if r[2].strip() in cic.LABELS]
            table = pa.table(
                {
                    "id_str": [r[0] for r in rows],
                    "TWEET": [r[1] for r in rows],
                    "LABEL": [cic.LABELS.index(r[2].strip()) for r in rows],
                }
            )
            pq.write_table(table, tmp_path / "spanish" / f"{cic._MEMBERS[member]}-00000-of-00001.parquet")
    files = detect_form(cic.SOURCE, tmp_path)
    assert files.form.name == "hf"
    assert {(r.id, r.input, r.output, r.split) for r in cic.generate(files) if isinstance(r, Record)} == expected
