"""MIMIC-IV-ED benchmark (Xie et al., Scientific Data 2022): one row per emergency-department stay of MIMIC-IV-ED
with the patient's history, triage, comorbidities, ED course and outcomes, built by the benchmark's scripts
(github.com/nliulab/mimic4ed-benchmark) from credentialed MIMIC-IV and MIMIC-IV-ED; the rows are not
distributed, only the code that makes them.

Two forms, both written by pandas `to_csv` (booleans `True`/`False`, missing values empty, `ed_los` a timedelta
such as `0 days 04:34:00`, the free-text `chiefcomplaint` quoted when it holds a comma or a line break):
- `train.csv` + `test.csv` from `data_general_processing.py` (preferred): the benchmark cohort (adults with a
  triage acuity), temperatures in Celsius, outliers clipped, vitals imputed, 124 columns. This is the
  benchmark's own 80/20 split and is carried through (train, test).
- `master_dataset.csv` from `extract_master_dataset.py` (what the MedS-Ins scripts read): every ED stay, 117
  columns, Fahrenheit, nothing imputed. No official split (split=None, hash split on the patient); the
  benchmark's cohort filter is applied and the stays it removes (age under 18, no triage acuity) are quarantined.

Three tasks, one per benchmark outcome; input = the benchmark's variable list of that task (the predictors of
its notebook `Task_*.ipynb`) as one `name: value` line per variable, in the benchmark's order and with its
variable names (the names MedS-Ins and MedS-Bench use; forms.fields would re-case them); numbers are shown with
at most two decimals (`36.72`, `74`), booleans and text as written, a missing value as `not recorded`. Output =
the outcome column, `True` or `False` (forms.label):
- `mimic4ed_hospitalization`: outcome_hospitalization, triage-time variables (64).
- `mimic4ed_critical_triage`: outcome_critical (in-hospital death or ICU transfer within 12 h), the same 64.
- `mimic4ed_72h_ed_revisit`: outcome_ed_revisit_3d, its own list (67: no triage vitals, but the last ED vitals,
  ed_los, n_med, n_medrecon), and only for stays that were not hospitalized, as in the benchmark's notebook.
Key: stay_id; group: subject_id. A row with the wrong number of fields or an outcome that is not True/False is
quarantined for the task(s) it breaks.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="mimic4ed",
    name="MIMIC-IV-ED benchmark",
    homepage="https://github.com/nliulab/mimic4ed-benchmark",
    license="PhysioNet Credentialed Health Data License 1.5.0 (MIMIC-IV, MIMIC-IV-ED); benchmark code: GPL-3.0",
    access="credentialed",
    citation=(
        "Xie, F., Zhou, J., Lee, J. W., Tan, M., Li, S., Rajnthern, L. S., Chee, M. L., Chakraborty, B., Wong, "
        "A.-K. I., Dagan, A., Ong, M. E. H., Gao, F. and Liu, N. (2022). Benchmarking emergency department "
        "prediction models with machine learning and public electronic health records. Scientific Data 9, 658."
    ),
    obtain=(
        "Become a credentialed PhysioNet user and sign the data use agreements of MIMIC-IV "
        "(https://physionet.org/content/mimiciv/) and MIMIC-IV-ED (https://physionet.org/content/mimic-iv-ed/); "
        "clone https://github.com/nliulab/mimic4ed-benchmark, run Benchmark_scripts/extract_master_dataset.py "
        "(gives master_dataset.csv) and data_general_processing.py (gives train.csv and test.csv), and copy "
        "train.csv and test.csv (preferred: the benchmark's split) or master_dataset.csv into the raw folder."
    ),
    forms=(
        RawForm(
            "benchmark_split",
            (
                RawFile("train", ("train.csv",), required=False, split="train"),
                RawFile("test", ("test.csv",), required=False, split="test"),
            ),
            "train.csv / test.csv of data_general_processing.py (the benchmark's split)",
        ),
        RawForm(
            "master",
            (RawFile("master", ("master_dataset.csv",)),),
            "master_dataset.csv of extract_master_dataset.py (no split)",
        ),
    ),
)

HOSPITALIZATION, CRITICAL, REVISIT = "mimic4ed_hospitalization", "mimic4ed_critical_triage", "mimic4ed_72h_ed_revisit"
OUTCOMES = ("True", "False")
TASKS = (
    Task(
        HOSPITALIZATION, "Clinical Outcome Prediction", "Clinical Text", ("Emergency Medicine", "EHR"), labels=OUTCOMES
    ),
    Task(CRITICAL, "Clinical Outcome Prediction", "Clinical Text", ("Emergency Medicine", "Triage"), labels=OUTCOMES),
    Task(REVISIT, "Clinical Outcome Prediction", "Clinical Text", ("Emergency Medicine", "EHR"), labels=OUTCOMES),
)

HISTORY = (
    "age", "gender", "n_ed_30d", "n_ed_90d", "n_ed_365d", "n_hosp_30d", "n_hosp_90d", "n_hosp_365d",
    "n_icu_30d", "n_icu_90d", "n_icu_365d",
)  # fmt: skip
TRIAGE_VITALS = (
    "triage_temperature",
    "triage_heartrate",
    "triage_resprate",
    "triage_o2sat",
    "triage_sbp",
    "triage_dbp",
)
TRIAGE = ("triage_pain", "triage_acuity")
CHIEF_COMPLAINTS = (
    "chiefcom_chest_pain", "chiefcom_abdominal_pain", "chiefcom_headache", "chiefcom_shortness_of_breath",
    "chiefcom_back_pain", "chiefcom_cough", "chiefcom_nausea_vomiting", "chiefcom_fever_chills", "chiefcom_syncope",
    "chiefcom_dizziness",
)  # fmt: skip
COMORBIDITIES = (
    "cci_MI", "cci_CHF", "cci_PVD", "cci_Stroke", "cci_Dementia", "cci_Pulmonary", "cci_Rheumatic", "cci_PUD",
    "cci_Liver1", "cci_DM1", "cci_DM2", "cci_Paralysis", "cci_Renal", "cci_Cancer1", "cci_Liver2", "cci_Cancer2",
    "cci_HIV",
    "eci_Arrhythmia", "eci_Valvular", "eci_PHTN", "eci_HTN1", "eci_HTN2", "eci_NeuroOther", "eci_Hypothyroid",
    "eci_Lymphoma", "eci_Coagulopathy", "eci_Obesity", "eci_WeightLoss", "eci_FluidsLytes", "eci_BloodLoss",
    "eci_Anemia", "eci_Alcohol", "eci_Drugs", "eci_Psychoses", "eci_Depression",
)  # fmt: skip
ED_COURSE = (
    "ed_temperature_last", "ed_heartrate_last", "ed_resprate_last", "ed_o2sat_last", "ed_sbp_last", "ed_dbp_last",
    "ed_los", "n_med", "n_medrecon",
)  # fmt: skip

#: task -> (outcome column, predictors), as in the benchmark's Task_1/2/3 notebooks.
VARIABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    HOSPITALIZATION: ("outcome_hospitalization", HISTORY + TRIAGE_VITALS + TRIAGE + CHIEF_COMPLAINTS + COMORBIDITIES),
    CRITICAL: ("outcome_critical", HISTORY + TRIAGE_VITALS + TRIAGE + CHIEF_COMPLAINTS + COMORBIDITIES),
    REVISIT: ("outcome_ed_revisit_3d", HISTORY + TRIAGE + CHIEF_COMPLAINTS + COMORBIDITIES + ED_COURSE),
}
PREDICTORS = tuple(dict.fromkeys(c for _, names in VARIABLES.values() for c in names))
NEEDED = (
    "subject_id",
    "stay_id",
    *dict.fromkeys(c for outcome, names in VARIABLES.values() for c in (outcome, *names)),
)
MISSING = "not recorded"


def value_text(raw: str) -> str:
    """A cell as shown to the model: numbers with at most two decimals, other text as written, empty as MISSING."""
    text = raw.strip()
    if not text or text.lower() == "nan":
        return MISSING
    try:
        number = float(text)
    except ValueError:
        return " ".join(text.split())
    if not math.isfinite(number):
        return text
    return f"{number:.2f}".rstrip("0").rstrip(".") if number != int(number) else str(int(number))


def render(values: dict[str, str], names: tuple[str, ...]) -> str:
    """The input of a task: its predictors' `name: value` lines, from the stay's values (shown once, used by
    the three tasks)."""
    return forms.attributes((name, values[name]) for name in names)


def generate(files: RawFiles) -> Iterator[Item]:
    for raw in files.form.files:
        for path in files.paths(raw.name):
            yield from _stays(path, files.relative(path), raw.split)


def _stays(path: Path, name: str, split: str | None) -> Iterator[Item]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in NEEDED if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{name}: lacks the benchmark columns {missing}")
        width = len(reader.fieldnames or ())
        start = reader.line_num + 1
        for row in reader:
            where, start = f"line {start}", reader.line_num + 1
            stay_id = (row.get("stay_id") or "").strip()
            locator = f"stay_id={stay_id or '?'} ({where})"
            if None in row or any(v is None for v in row.values()):  # more fields than the header, or fewer
                fields = width + len(row.get(None) or ()) - sum(v is None for v in row.values())
                yield Rejection("wrong column count", name, locator, value=f"{fields} fields, header has {width}")
            elif not stay_id.isdigit():
                yield Rejection("malformed stay_id", name, locator, value=stay_id)
            else:
                yield from _stay(row, name, locator, split)


def _stay(row: dict[str, str], name: str, locator: str, split: str | None) -> Iterator[Item]:
    outside = _outside_cohort(row)
    if outside:
        yield Rejection(outside, name, locator, value=f"age={row['age']!r}, triage_acuity={row['triage_acuity']!r}")
        return
    group = row["subject_id"].strip() or None
    values = {name: value_text(row[name]) for name in PREDICTORS}
    for task, (outcome, names) in VARIABLES.items():
        if task == REVISIT and row["outcome_hospitalization"].strip() != "False":
            if row["outcome_hospitalization"].strip() == "True":
                continue  # hospitalized: not in the revisit cohort of the benchmark (by design, not an instance)
            value = row["outcome_hospitalization"]
            yield Rejection("outcome_hospitalization is not True or False", name, locator, task, value)
            continue
        try:
            output = forms.label(row[outcome].strip(), OUTCOMES)
        except forms.FormError as error:
            yield Rejection(str(error), name, locator, task, f"{outcome}={row[outcome]!r}")
            continue
        text = render(values, names)
        yield Record(task, row["stay_id"].strip(), text, output, name, locator, split=split, group=group)


def _outside_cohort(row: dict[str, str]) -> str | None:
    """Why the benchmark's cohort filter (data_general_processing.py) removes this stay, or None."""
    try:
        age = float(row["age"])
    except ValueError:
        return "age is not a number"
    if age < 18:
        return "age under 18 (outside the benchmark cohort)"
    if not row["triage_acuity"].strip() or row["triage_acuity"].strip().lower() == "nan":
        return "no triage acuity (outside the benchmark cohort)"
    return None
