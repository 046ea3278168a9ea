"""MeQSum: consumer health questions and their expert one-sentence summaries (Ben Abacha and
Demner-Fushman, ACL 2019), distributed as a single Excel sheet with columns File, CHQ, Summary."""

from __future__ import annotations

from collections.abc import Iterator

from openpyxl import load_workbook

from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="meqsum",
    name="MeQSum",
    homepage="https://github.com/abachaa/MeQSum",
    license="CC BY 4.0",
    access="open",
    citation=(
        "Ben Abacha, A. and Demner-Fushman, D. (2019). On the Summarization of Consumer Health "
        "Questions. ACL 2019, pp. 2228-2234."
    ),
    obtain="Download MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx from https://github.com/abachaa/MeQSum.",
    forms=(
        RawForm(
            "xlsx",
            (RawFile("questions", ("MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx", "*.xlsx")),),
            "the official Excel release (columns File, CHQ, Summary)",
        ),
    ),
    # The official repository (pinned commit).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/abachaa/MeQSum/"
            "51e36cf65c12602333b6fdc3ae8ecf10430529f7/MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx",
            "MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx",
            sha256="abedd939d5014306ca576522416bf69103e85dc8fcf1668a4099e8b84a39eeea",
            size=216310,
        ),
    ),
)

TASKS = (
    Task(
        "meqsum_text_summarization",
        "Text Summarization",
        "Medical Knowledge",
        tags=("Consumer Health", "Question Summarization"),
        several_outputs=True,
    ),
)

COLUMNS = ("File", "CHQ", "Summary")


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("questions")
    name = files.relative(path)
    workbook = load_workbook(path, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = tuple(str(c).strip() if c is not None else "" for c in next(rows, ()))
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{name}: sheet {sheet.title!r} lacks columns {missing}; header is {list(header)}")
        at = {c: header.index(c) for c in COLUMNS}
        for number, row in enumerate(rows, start=2):
            cells = {c: _text(row[at[c]]) if at[c] < len(row) else "" for c in COLUMNS}
            if not any(cells.values()):
                continue  # trailing blank rows that Excel keeps in the sheet's dimension
            locator = f"sheet {sheet.title} row {number}" + (f" (File={cells['File']})" if cells["File"] else "")
            if not cells["File"]:
                yield Rejection("empty File cell (no id)", name, locator)
            elif not cells["CHQ"] or not cells["Summary"]:
                empty = "CHQ" if not cells["CHQ"] else "Summary"
                yield Rejection(f"empty {empty} cell", name, locator, TASKS[0].id)
            else:
                yield Record(TASKS[0].id, cells["File"], cells["CHQ"], cells["Summary"], name, locator)
    finally:
        workbook.close()


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()
