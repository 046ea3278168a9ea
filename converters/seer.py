"""SEER breast cancer treatment (NCI Surveillance, Epidemiology, and End Results Program): one case-listing row
per tumour, exported from SEER*Stat; the task is to suggest the radiation/surgery sequence of the treatment from
the patient's demographic, tumour and outcome variables.

Read: `Query_5_years.csv`, the file the MedS-Ins script reads (`SEER_treatment_and_alive_prediction/
Query_5_years.csv`, a SEER*Stat case-listing CSV export whose public origin could not be found). SEER*Stat exports
a header row of variable labels (which may themselves hold commas, hence quoted) and CRLF line endings; a UTF-8 BOM
is tolerated. Only two columns are known from the script: the output `Radiation sequence with surgery` and the
derived `stutus_5_years` (sic), which it excludes. The other columns are NOT confirmed; the converter takes
whatever columns the file has, so it does not depend on them. The bundled sample uses typical SEER*Stat labels of
breast-cancer variables (age, sex, year, race, marital status, laterality, grade, AJCC stage, ER/PR/HER2 status,
surgery code, radiation and chemotherapy recodes, survival months, vital status) and a Patient ID column.

Task seer_treatment_planning, one instance per row:
- input: every other column as one `<column label>: <value>` line, in the file's column order (the MedS-Ins
  script's choice; it separated them with blank lines). Left out: the output column, `stutus_5_years`, the
  identifier columns `Patient ID` and `Record number recode`, a pandas index column (unnamed or `Unnamed: 0`) and
  empty values. The lines follow the shape of `forms.fields`, written here without it because `forms.fields`
  capitalises names and would turn SEER labels such as `ER Status Recode` or `AJCC` into `Er status recode`/`ajcc`.
- output: `Radiation sequence with surgery` as `forms.label` over the 7 classes the MedS-Ins script lists (the
  script wrapped it in "The treatment planning is: ..."; the shared closed-set form is the bare label). Any other
  value (e.g. SEER's "Sequence unknown, but both were given") is quarantined.

Split: none official (the MedS-Ins script kept the first 90% of rows for training); the build hash-splits on
`group`. Key: the row's `Patient ID` (with `-<Record number recode>` when that column exists; a later row of the
same key gets `-2`, `-3`... in file order); group: the Patient ID, so a patient's tumours share a split. Without a
Patient ID column, key = group = `row-<n>` (1-based data row). A row with a wrong column count, a non-UTF-8 byte or
an output outside the classes is quarantined with its row number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="seer",
    name="SEER (breast cancer treatment case listing)",
    homepage="https://seer.cancer.gov/",
    license="SEER Research Data Use Agreement",
    access="registration",
    citation=(
        "Surveillance, Epidemiology, and End Results (SEER) Program (www.seer.cancer.gov) SEER*Stat Database: "
        "Incidence - SEER Research Data. National Cancer Institute, DCCPS, Surveillance Research Program."
    ),
    obtain=(
        "Request access to the SEER Research Data at https://seer.cancer.gov/data/ (registration and the SEER "
        "Research Data Use Agreement), install SEER*Stat, run a case listing of breast cancer cases with the "
        "variables wanted, including 'Radiation sequence with surgery', and export it as CSV with variable names in "
        "the first row. Save it as Query_5_years.csv in the raw folder (or in SEER_treatment_and_alive_prediction/, "
        "the folder the MedS-Ins script reads)."
    ),
    forms=(
        RawForm(
            "seerstat_csv",
            (
                RawFile(
                    "cases",
                    ("Query_5_years.csv", "SEER_treatment_and_alive_prediction/Query_5_years.csv"),
                    description="SEER*Stat case-listing CSV export with a 'Radiation sequence with surgery' column",
                ),
            ),
            "a SEER*Stat case-listing CSV export",
        ),
    ),
)

LABELS = (
    "Intraoperative rad with other rad before/after surgery",
    "Intraoperative radiation",
    "No radiation and/or cancer-directed surgery",
    "Radiation after surgery",
    "Radiation before and after surgery",
    "Radiation prior to surgery",
    "Surgery both before and after radiation",
)
TASK_ID = "seer_treatment_planning"
TASKS = (
    Task(
        TASK_ID,
        "Treatment Planning",
        "Medical Knowledge",
        tags=("Oncology", "Breast Cancer", "Radiotherapy"),
        labels=LABELS,
    ),
)

OUTPUT = "Radiation sequence with surgery"
PATIENT_ID, RECORD_NUMBER = "Patient ID", "Record number recode"
EXCLUDED = {OUTPUT, "stutus_5_years", PATIENT_ID, RECORD_NUMBER, "", "Unnamed: 0"}


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("cases"):
        yield from _cases(path, files.relative(path))


def _cases(path: Path, name: str) -> Iterator[Item]:
    seen: dict[str, int] = {}  # key -> how many rows had it so far
    with open(path, encoding="utf-8-sig", errors=readers.MARK_BAD_BYTES, newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if OUTPUT not in header:
            raise ValueError(f"{name}: no {OUTPUT!r} column; header is {header}")
        features = [i for i, column in enumerate(header) if column not in EXCLUDED]
        for number, cells in enumerate(reader, 1):
            locator = f"row {number}"
            if not any(c.strip() for c in cells):
                yield Rejection("empty row", name, locator, TASK_ID)
                continue
            if len(cells) != len(header):
                reason = "wrong column count"
                yield Rejection(reason, name, locator, TASK_ID, f"{len(cells)} cells for {len(header)} columns")
                continue
            if readers.has_bad_bytes(*cells):
                yield Rejection("non-UTF-8 byte", name, locator, TASK_ID, ",".join(cells)[:300])
                continue
            row = dict(zip(header, cells, strict=True))
            key, group = _key(row, number, seen)
            if row.get(PATIENT_ID, "").strip():
                locator = f"{locator} ({PATIENT_ID} {row[PATIENT_ID].strip()})"
            value = row[OUTPUT].strip()
            if not value:
                yield Rejection(f"empty {OUTPUT}", name, locator, TASK_ID)
                continue
            try:
                output = forms.label(value, LABELS)
            except forms.FormError:
                yield Rejection(f"{OUTPUT} is not one of the 7 classes", name, locator, TASK_ID, value)
                continue
            try:
                text = forms.attributes((header[i], cells[i]) for i in features)
            except forms.FormError as error:
                yield Rejection(str(error), name, locator, TASK_ID)
                continue
            yield Record(TASK_ID, key, text, output, name, locator, group=group)


def _key(row: dict[str, str], number: int, seen: dict[str, int]) -> tuple[str, str]:
    """(key, group): the Patient ID (and record number) when the export has them, else the row number."""
    patient = row.get(PATIENT_ID, "").strip()
    if not patient:
        return f"row-{number}", f"row-{number}"
    record = row.get(RECORD_NUMBER, "").strip()
    key = f"{patient}-{record}" if record else patient
    seen[key] = seen.get(key, 0) + 1
    return (key if seen[key] == 1 else f"{key}-{seen[key]}"), patient
