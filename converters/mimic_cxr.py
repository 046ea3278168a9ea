"""MIMIC-CXR 2.0.0 (Johnson et al., 2019): the free-text reports of 227,835 chest radiograph studies.

Read as PhysioNet distributes it: `cxr-study-list.csv.gz` (columns subject_id, study_id, path; `path` is
`files/pXX/pXXXXXXXX/sXXXXXXXX.txt`, relative to the release root; the MedS-Ins script reads a `report_path`
column the release does not have) and the report each row points to, either unzipped from
`mimic-cxr-reports.zip` into the raw folder (`files/...`) or left inside that zip (second form). A report is
plain text: a `FINAL REPORT` line, then upper-case headers ending in a colon (`EXAMINATION:`, `INDICATION:`,
`TECHNIQUE:`, `COMPARISON:`, `FINDINGS:`, `IMPRESSION:`; older reports `HISTORY:`, some a `WET READ:` before
the final report), lines indented by one space and hard-wrapped, PHI as `___`; many reports lack FINDINGS or
IMPRESSION, and a few spell a header in lower or mixed case (`Impression:`).

Sections are found by `converters.mimic_iv.sections` (the MIMIC-IV-Note radiology header table); the only
variant is that headers of that table written in lower or mixed case at a line start are upper-cased first.
Each section body is then unwrapped: lines of a paragraph are joined, paragraphs and numbered or bulleted
list items keep their own lines, runs of blanks become one.

Task `mimic_cxr_text_summarization`: input = FINDINGS, output = IMPRESSION; a report without either (or with
one empty) is quarantined. Split: the official one of MIMIC-CXR-JPG 2.0.0 (`mimic-cxr-2.0.0-split.csv.gz`,
one row per image: dicom_id, study_id, subject_id, split in train/validate/test; validate -> validation), read
when it is in the raw folder; without it split=None and the build hash-splits on the patient. Key: study_id;
group: subject_id (the official split is by patient too).
"""

from __future__ import annotations

import csv
import gzip
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from converters.mimic_iv import RADIOLOGY_HEADERS, sections, tidy
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

STUDIES = RawFile(
    "studies",
    ("cxr-study-list.csv.gz", "cxr-study-list.csv"),
    description="one row per study: subject_id, study_id, path of its report",
)
SPLIT = RawFile(
    "split",
    ("mimic-cxr-2.0.0-split.csv.gz", "mimic-cxr-2.0.0-split.csv"),
    required=False,
    description="official split, from MIMIC-CXR-JPG 2.0.0",
)
ZIP_NAME = "mimic-cxr-reports.zip"

SOURCE = Source(
    id="mimic_cxr",
    name="MIMIC-CXR",
    homepage="https://physionet.org/content/mimic-cxr/2.0.0/",
    license="PhysioNet Credentialed Health Data License 1.5.0",
    access="credentialed",
    citation=(
        "Johnson, A. E. W., Pollard, T. J., Berkowitz, S. J., Greenbaum, N. R., Lungren, M. P., Deng, C., Mark, "
        "R. G. and Horng, S. (2019). MIMIC-CXR, a de-identified publicly available database of chest radiographs "
        "with free-text reports. Scientific Data 6, 317."
    ),
    obtain=(
        "Become a credentialed PhysioNet user (identity check, CITI 'Data or Specimens Only Research' course) and "
        "sign the data use agreement of https://physionet.org/content/mimic-cxr/2.0.0/; download "
        "cxr-study-list.csv.gz and mimic-cxr-reports.zip (unzip it into the raw folder, giving files/pXX/..., or "
        "leave the zip there). For the official split, also download mimic-cxr-2.0.0-split.csv.gz from "
        "https://physionet.org/content/mimic-cxr-jpg/2.0.0/ (same agreement). The DICOM/JPG images are not needed."
    ),
    version="2.0.0",
    forms=(
        RawForm(
            "reports",
            (STUDIES, RawFile("reports", ("files/p1[0-9]/p*/s*.txt",), description="the unzipped reports"), SPLIT),
            "the study list with the reports unzipped under files/",
        ),
        RawForm(
            "zip",
            (STUDIES, RawFile("reports_zip", (ZIP_NAME,), description="the reports, zipped"), SPLIT),
            "the study list with mimic-cxr-reports.zip",
        ),
    ),
)

TASK = "mimic_cxr_text_summarization"
TASKS = (Task(TASK, "Text Summarization", "Clinical Text", tags=("Radiology", "X-ray", "Chest"), several_outputs=True),)

SPLIT_NAMES = {"train": "train", "validate": "validation", "test": "test"}
STUDY_COLUMNS = ("subject_id", "study_id", "path")
SPLIT_COLUMNS = ("study_id", "split")

#: A header of the MIMIC-IV-Note table in any case at a line start, before its colon (upper-cased before parsing).
_ANY_CASE_HEADER = re.compile(
    r"^([ \t]*)(" + "|".join(re.escape(h) for h in sorted(RADIOLOGY_HEADERS, key=len, reverse=True)) + r")(?=[ \t]*:)",
    re.M | re.I,
)
#: A line that starts a list item, kept on its own line when a paragraph is unwrapped.
_ITEM = re.compile(r"(?:\d{1,2}[.)]|[-*\u2022])\s")


def report_sections(report: str) -> dict[str, str]:
    """Section name -> body of a MIMIC-CXR report: converters.mimic_iv.sections after upper-casing headers."""
    text = report.replace("\r\n", "\n").replace("\r", "\n")
    return sections(_ANY_CASE_HEADER.sub(lambda m: m[1] + m[2].upper(), text))


def unwrap(body: str) -> str:
    """A hard-wrapped section as prose: paragraph lines joined, list items and paragraphs on their own lines."""
    paragraphs = []
    for paragraph in re.split(r"\n[ \t]*\n", tidy(body)):
        lines: list[str] = []
        for line in paragraph.splitlines():
            line = " ".join(line.split())
            if not line:
                continue
            if lines and not _ITEM.match(line):
                lines[-1] += " " + line
            else:
                lines.append(line)
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def generate(files: RawFiles) -> Iterator[Item]:
    splits = _official_splits(files.path("split"), files) if files.path("split") else None
    studies = files.path("studies")
    assert studies is not None  # required by both forms
    list_name = files.relative(studies)
    with ExitStack() as stack:
        read = _zip_reader(files, stack) if files.path("reports_zip") else _folder_reader(files.root)
        for line, row in _csv_rows(studies, list_name, STUDY_COLUMNS):
            yield _study(row, read, list_name, f"line {line}", splits)


def _study(
    row: dict[str, str],
    read: Callable[[str], tuple[str, bytes] | None],
    list_name: str,
    where: str,
    splits: dict[str, str] | None,
) -> Item:
    subject_id, study_id, path = (row[c].strip() for c in STUDY_COLUMNS)
    locator = f"study_id={study_id or '?'} ({list_name} {where})"
    if not study_id.isdigit():
        return Rejection("malformed study_id", list_name, locator, TASK, study_id)
    if not path:
        return Rejection("missing report path", list_name, locator, TASK)
    found = read(path)
    if found is None:
        return Rejection("report file not found", list_name, locator, TASK, path)
    name, raw = found
    locator = f"study_id={study_id}"
    try:
        report = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return Rejection("report is not valid UTF-8", name, locator, TASK, f"byte offset {error.start}")
    parts = report_sections(report)
    for needed in ("FINDINGS", "IMPRESSION"):
        if not parts.get(needed):
            return Rejection(f"{'empty' if needed in parts else 'no'} {needed} section", name, locator, TASK)
    findings, impression = unwrap(parts["FINDINGS"]), unwrap(parts["IMPRESSION"])
    split = None
    if splits is not None:
        split = splits.get(study_id)
        if split is None:
            return Rejection("study not in the official split file", name, locator, TASK, study_id)
    return Record(TASK, study_id, findings, impression, name, locator, split=split, group=subject_id or None)


def _open_text(path: Path) -> TextIO:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _csv_rows(path: Path, name: str, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file with the given columns, streamed; a missing column fails the file."""
    with _open_text(path) as handle:
        reader = csv.DictReader(handle, restval="")
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{name}: lacks columns {missing}; header is {reader.fieldnames}")
        for row in reader:
            yield reader.line_num, row


def _official_splits(path: Path, files: RawFiles) -> dict[str, str]:
    """study_id -> split from the MIMIC-CXR-JPG split file (one row per image; a study's images share a split)."""
    name = files.relative(path)
    splits: dict[str, str] = {}
    for line, row in _csv_rows(path, name, SPLIT_COLUMNS):
        split = SPLIT_NAMES.get(row["split"].strip())
        if split is None:
            raise ValueError(f"{name}: line {line} has split {row['split']!r}, not one of {sorted(SPLIT_NAMES)}")
        splits.setdefault(row["study_id"].strip(), split)
    return splits


def _folder_reader(root: Path) -> Callable[[str], tuple[str, bytes] | None]:
    def read(path: str) -> tuple[str, bytes] | None:
        file = root / path
        return (path, file.read_bytes()) if file.is_file() else None

    return read


def _zip_reader(files: RawFiles, stack: ExitStack) -> Callable[[str], tuple[str, bytes] | None]:
    """Reports read from mimic-cxr-reports.zip; members are found by their `files/...` tail, whatever folder the
    archive puts before it."""
    path = files.path("reports_zip")
    assert path is not None
    archive = stack.enter_context(zipfile.ZipFile(path))
    zip_name = files.relative(path)
    members = {}
    for info in archive.infolist():
        if not info.is_dir():
            cut = info.filename.find("files/")
            members.setdefault(info.filename[cut:] if cut >= 0 else info.filename, info.filename)

    def read(report: str) -> tuple[str, bytes] | None:
        member = members.get(report)
        return (f"{zip_name}:{member}", archive.read(member)) if member else None

    return read
