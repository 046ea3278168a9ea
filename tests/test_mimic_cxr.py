"""MIMIC-CXR specifics: reports read from the unzipped folder or from the zip give the same records, the official
split comes from the MIMIC-CXR-JPG split file when present, headers in any case, and unwrapped section text."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from converters.mimic_cxr import SOURCE, generate, report_sections, unwrap
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "mimic_cxr"


def convert(root: Path) -> list:
    return list(generate(detect_form(SOURCE, root)))


def records(items: list) -> set[tuple]:
    return {(r.id, r.input, r.output, r.split, r.group) for r in items if isinstance(r, Record)}


def test_zip_form_gives_the_same_records(tmp_path: Path) -> None:
    for name in ("cxr-study-list.csv.gz", "mimic-cxr-2.0.0-split.csv.gz"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    with zipfile.ZipFile(tmp_path / "mimic-cxr-reports.zip", "w") as archive:
        for report in sorted((SAMPLE / "files").rglob("*.txt")):  # the archive may put a folder before files/
            archive.write(report, "mimic-cxr-reports/" + report.relative_to(SAMPLE).as_posix())
    zipped = convert(tmp_path)
    assert detect_form(SOURCE, tmp_path).form.name == "zip"
    assert records(zipped) == records(convert(SAMPLE)) and len(records(zipped)) == 4
    assert {r.split for r in zipped if isinstance(r, Record)} == {"train", "validation", "test"}


def test_without_the_split_file_there_is_no_split(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE, tmp_path / "raw", ignore=shutil.ignore_patterns("mimic-cxr-2.0.0-split.csv.gz"))
    items = convert(tmp_path / "raw")
    assert {r.split for r in items if isinstance(r, Record)} == {None}
    assert [r.reason for r in items if isinstance(r, Rejection)] == [
        "no FINDINGS section",
        "report file not found",
        "empty FINDINGS section",
    ]


def test_headers_in_any_case_and_unwrapped_text() -> None:
    report = (
        "                                 FINAL REPORT\n INDICATION:  ___ with cough\n \n Findings: \n \n"
        " Lungs are clear.  No\n effusion.\n \n impression:\n 1.  No acute process.\n 2.  Stable heart.\n"
    )
    parts = report_sections(report)
    assert unwrap(parts["FINDINGS"]) == "Lungs are clear. No effusion."
    assert unwrap(parts["IMPRESSION"]) == "1. No acute process.\n2. Stable heart."
    assert parts["INDICATION"] == "___ with cough"
