"""ICD-10-CM (diagnoses, NCHS/CDC) and ICD-10-PCS (procedures, CMS): the code files the US government publishes
each fiscal year, public domain. MedS-Ins built its explanation task from a private crawl of icd10data.com
(`crawl_ICD_final.json`, `crawl_ICD_PCS.json`, never published); this converter reads the official CMS release
instead, which holds the same codes and titles.

Files read (from the CMS zips "Code Descriptions in Tabular Order" and "ICD-10-PCS Order File"):
- `icd10cm_order_YYYY.txt` / `icd10pcs_order_YYYY.txt`, fixed width: order number (5 digits), blank, code
  without dot (7, blank-padded), blank, flag (`1` a valid code, `0` a header), blank, short title (60,
  blank-padded), blank, long title to the end of the line. Some years spell the names with hyphens
  (`icd10cm-order-2023.txt`); both are accepted, CRLF or LF line ends.
- `icd10cm_codes_YYYY.txt` / `icd10pcs_codes_YYYY.txt`: valid codes only, `CODE<blanks>long title`. Read for a
  code system only when its order file is absent; for valid codes both give the same records.
Several fiscal years may lie side by side: the newest file is read first and a code already given by a newer
release is not repeated (codes retired since keep the title of their last release).

Task `icd10_code_explanation`: input = the code as the files spell it, without the dot (`E1165`, `0DTJ4ZZ`; the
form MIMIC-IV and MedS-Ins use); output = its long title. Header rows (flag 0) of ICD-10-CM are the categories
and subcategories of the classification (`E11` "Type 2 diabetes mellitus"): they are codes a coder reads, so
they are kept. Header rows of ICD-10-PCS are the 3-character table prefixes (`0DT`), not codes: they are not
converted. Key: `cm-<code>` / `pcs-<code>`; group: the system and the first three characters (the ICD-10-CM
category, the PCS table), so a category and its subcodes share a split. A malformed line is quarantined with
its line number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="icd10_cm",
    name="ICD-10-CM / ICD-10-PCS code descriptions",
    homepage="https://www.cms.gov/medicare/coding-billing/icd-10-codes",
    license="Public domain (CMS/CDC)",
    access="open",
    citation=(
        "Centers for Medicare & Medicaid Services and National Center for Health Statistics. ICD-10-CM and "
        "ICD-10-PCS code descriptions (annual fiscal-year release). https://www.cms.gov/medicare/coding-billing/icd-10-codes"
    ),
    obtain=(
        "From https://www.cms.gov/medicare/coding-billing/icd-10-codes download, for a fiscal year, the ICD-10-CM "
        "'Code Descriptions in Tabular Order' zip (icd10cm_order_YYYY.txt, icd10cm_codes_YYYY.txt) and the "
        "ICD-10-PCS 'Order File (Long and Abbreviated Titles)' zip (icd10pcs_order_YYYY.txt); unzip them into the "
        "raw folder or one subfolder of it. Several years may be placed side by side."
    ),
    forms=(
        RawForm(
            "cms",
            (
                RawFile("cm_order", ("icd10cm[_-]order[_-]*.txt", "*/icd10cm[_-]order[_-]*.txt"), required=False),
                RawFile("pcs_order", ("icd10pcs[_-]order[_-]*.txt", "*/icd10pcs[_-]order[_-]*.txt"), required=False),
                RawFile("cm_codes", ("icd10cm[_-]codes[_-]*.txt", "*/icd10cm[_-]codes[_-]*.txt"), required=False),
                RawFile("pcs_codes", ("icd10pcs[_-]codes[_-]*.txt", "*/icd10pcs[_-]codes[_-]*.txt"), required=False),
            ),
            "the CMS code files (order files preferred, code files as fallback), any of the four",
        ),
    ),
    # CMS's FY2026 files. CMS renames them every year (and for mid-year updates) and has been seen refusing
    # non-browser clients: if these fail, download the current ones from the page in `obtain` by hand.
    downloads=(
        Download(
            "https://www.cms.gov/files/zip/2026-code-descriptions-tabular-order.zip",
            "icd10cm-2026.zip",
            unpack="zip",
            members=(("*icd10cm_order_2026.txt", ""),),
            note="CMS renames these files yearly; not verified from here",
        ),
        Download(
            "https://www.cms.gov/files/zip/2026-icd-10-pcs-order-file-long-and-abbreviated-titles.zip",
            "icd10pcs-2026.zip",
            unpack="zip",
            members=(("*icd10pcs_order_2026.txt", ""),),
            note="CMS renames these files yearly; not verified from here",
        ),
    ),
)

TASK = "icd10_code_explanation"
TASKS = (Task(TASK, "Explanation", "Medical Knowledge", tags=("ICD-10-CM", "ICD-10-PCS", "Medical Coding")),)

SYSTEMS = ("cm", "pcs")
_CODE = re.compile(r"[A-Z0-9]{3,7}")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    valid: bool  # False for a header row of an order file
    title: str  # the long title


def parse_order(line: str) -> Entry | str:
    """One line of an order file, or the reason it is malformed. Columns are located from the end of the order
    number, so a release whose order numbers outgrow five digits still parses."""
    number, _, rest = line.partition(" ")
    if not number.isdigit():
        return "order number is not a number"
    code, flag, title = rest[:7].strip(), rest[8:9], rest[71:].strip()
    if not _CODE.fullmatch(code) or rest[7:8] != " ":
        return "malformed code column"
    if flag not in ("0", "1") or rest[9:10] != " ":
        return "invalid header flag"
    if not title:
        return "no long title"
    return Entry(code, flag == "1", " ".join(title.split()))


def parse_codes(line: str) -> Entry | str:
    """One line of a codes file (`CODE<blanks>title`), or the reason it is malformed."""
    parts = line.split(None, 1)
    if not parts or not _CODE.fullmatch(parts[0]):
        return "malformed code column"
    if len(parts) < 2 or not parts[1].strip():
        return "empty title"
    return Entry(parts[0], True, " ".join(parts[1].split()))


def newest_first(paths: list[Path]) -> list[Path]:
    """Release files ordered from the newest fiscal year (the year in the file name) to the oldest."""

    def year(path: Path) -> int:
        found = _YEAR.findall(path.name)
        return int(found[-1]) if found else 0

    return sorted(paths, key=lambda p: (year(p), p.name), reverse=True)


def entries(path: Path) -> Iterator[tuple[int, str, Entry | str]]:
    """(line number, line, Entry or the reason the line is malformed) for every non-blank line of an order or
    codes file; the file name tells which."""
    parse = parse_order if "order" in path.name.lower() else parse_codes
    with path.open("rb") as handle:
        for number, line, problem in readers.text_lines(handle):
            if line.strip():
                yield number, line, (problem or parse(line.rstrip()))


def system_files(files: RawFiles, system: str) -> list[Path]:
    """The files to read for one code system, newest first: the order files, else the codes files."""
    return newest_first(files.paths(f"{system}_order") or files.paths(f"{system}_codes"))


def title_table(paths: list[Path], table: dict[str, str] | None = None) -> dict[str, str]:
    """Code -> long title from release files (any order); the newest release wins, malformed lines are skipped.
    A lookup table for other converters (MIMIC-IV-ICD); this converter quarantines what the table skips."""
    table = {} if table is None else table
    for path in newest_first(paths):
        for _, _, entry in entries(path):
            if isinstance(entry, Entry):
                table.setdefault(entry.code, entry.title)
    return table


def generate(files: RawFiles) -> Iterator[Item]:
    for system in SYSTEMS:
        given: dict[str, str] = {}  # code -> the file that gave it
        for path in system_files(files, system):
            name = files.relative(path)
            for number, line, entry in entries(path):
                locator = f"line {number}"
                if isinstance(entry, str):
                    yield Rejection(entry, name, locator, TASK, line[:200])
                elif system == "pcs" and not entry.valid:
                    continue  # a PCS table header (`0DT`), not a code: by design not an instance
                elif entry.code in given:
                    if given[entry.code] == name:
                        yield Rejection("code repeated in the same file", name, locator, TASK, entry.code)
                    # else an older release of a code a newer one already gave: its newest title is kept
                else:
                    given[entry.code] = name
                    key = f"{system}-{entry.code}"
                    group = f"{system}-{entry.code[:3]}"
                    yield Record(TASK, key, entry.code, entry.title, name, locator, group=group)
