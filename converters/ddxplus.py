"""DDXPlus (Fansi Tchango et al., NeurIPS 2022 Datasets and Benchmarks): 1.3 million synthetic patients, each
with the evidences (symptoms and antecedents) a simulated history-taking collected, the pathology that generated
the patient and the differential diagnosis a rule-based system derives from those evidences.

Read: the figshare release (CC-BY; the English release 22687585, the French original 20043374 has the same
layout), as distributed:
- `release_evidences.json`: evidence code -> {"name", "code_question", "question_fr", "question_en",
  "is_antecedent", "data_type": "B" (binary) | "C" (categorical) | "M" (multi-choice), "default_value",
  "possible-values", "value_meaning": {value code: {"fr", "en"}}};
- `release_conditions.json`: condition -> {"condition_name", "cond-name-fr", "cond-name-eng", "icd10-id",
  "symptoms", "antecedents", "severity"};
- `release_{train,validate,test}_patients.zip`, each holding one CSV (the unzipped file, named without an extension
  or with `.csv`, is accepted too) with columns AGE, DIFFERENTIAL_DIAGNOSIS, SEX, PATHOLOGY, EVIDENCES,
  INITIAL_EVIDENCE. EVIDENCES is a stringified Python list ("['E_48', 'E_54_@_V_161', 'E_56_@_4']": a bare code is
  a binary evidence answered yes; `<code>_@_<value>` a categorical or multi-choice answer, one item per chosen
  value); DIFFERENTIAL_DIAGNOSIS a stringified list of [condition, probability]. Both are parsed with
  ast.literal_eval. The patient files are streamed row by row; the two JSON files are small and loaded whole.

Task ddxplus_diagnosis, one instance per patient:
- input: `forms.fields(age, sex, initial_evidence, symptoms, antecedents, candidate_diagnoses)`. Evidences are
  decoded through release_evidences.json into one line `<question_en> -> <answer>` each, in the order of
  EVIDENCES, the values of a multi-choice evidence joined on one line: a binary evidence answers "yes", a coded
  value its value_meaning "en" (Y / N / NA read "yes" / "no" / "not applicable"), a numeric value
  `<n> (scale <min>-<max>)` from its possible-values. Antecedents (is_antecedent) are listed apart from symptoms;
  the initial evidence (the patient's presenting complaint) is repeated on its own line. The candidates are the
  DIFFERENTIAL_DIAGNOSIS conditions in English (cond-name-eng), sorted alphabetically: the file orders them by
  probability, which would give the answer away.
- output: the PATHOLOGY in English (cond-name-eng; PATHOLOGY and the differential may hold the condition's key,
  condition_name, French or English name depending on the release), checked to be one of the candidates.

Splits are the official ones: train -> train, validate -> validation, test -> test (the MedS-Bench DDXPlus test
set). The CSV has no patient id, so key = `<train|validate|test>-<row number>` (1-based data row in the official
file, whose row order is fixed); group = key. A row with a wrong column count, an unparsable list, an unknown evidence,
value or condition code, no differential, or a pathology missing from its differential is quarantined with its
file and row number.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SPLIT_FILES = (("train", "train"), ("validate", "validation"), ("test", "test"))

SOURCE = Source(
    id="ddxplus",
    name="DDXPlus",
    homepage="https://doi.org/10.6084/m9.figshare.20043374",
    license="CC BY 4.0",
    access="open",
    citation=(
        "Fansi Tchango, A., Goel, R., Wen, Z., Martel, J. and Ghosn, J. (2022). DDXPlus: A New Dataset For "
        "Automatic Medical Diagnosis. NeurIPS 2022 Datasets and Benchmarks Track."
    ),
    obtain=(
        "Download release_evidences.json, release_conditions.json and release_train_patients.zip, "
        "release_validate_patients.zip and/or release_test_patients.zip from figshare (English release: "
        "https://doi.org/10.6084/m9.figshare.22687585; French original: https://doi.org/10.6084/m9.figshare.20043374) "
        "into the raw folder. The zips may be left zipped or unzipped (release_<split>_patients or .csv)."
    ),
    forms=(
        RawForm(
            "figshare",
            (
                RawFile("evidences", ("release_evidences.json",), description="evidence codes -> English questions"),
                RawFile("conditions", ("release_conditions.json",), description="condition names in French/English"),
                *(
                    RawFile(
                        name,
                        tuple(f"release_{name}_patients{ext}" for ext in (".zip", ".csv", "")),
                        required=False,
                        split=split,
                        description="zipped CSV of patients",
                    )
                    for name, split in SPLIT_FILES
                ),
            ),
            "the figshare release: the two JSON dictionaries and any of the three patient files",
        ),
    ),
    # The English release on figshare (article 22687585), by file id. Ids taken from public download scripts and
    # not checked here; release_conditions.json was replaced on figshare once (this is the newer file id).
    downloads=tuple(
        Download(f"https://ndownloader.figshare.com/files/{file_id}", name, note="figshare file ids not verified")
        for name, file_id in (
            ("release_evidences.json", 40278013),
            ("release_conditions.json", 62561569),
            ("release_train_patients.zip", 40278019),
            ("release_validate_patients.zip", 40278022),
            ("release_test_patients.zip", 40278016),
        )
    ),
)

TASK_ID = "ddxplus_diagnosis"
TASKS = (Task(TASK_ID, "Diagnosis", "Medical Knowledge", tags=("Differential Diagnosis", "Synthetic Patients")),)

COLUMNS = ("AGE", "SEX", "PATHOLOGY", "EVIDENCES", "INITIAL_EVIDENCE", "DIFFERENTIAL_DIAGNOSIS")
SEXES = {"M": "Male", "F": "Female"}
PLAIN_VALUES = {"Y": "yes", "N": "no", "NA": "not applicable"}


class BadRow(Exception):
    """A patient row that cannot be formed: the message is the generic reason, `value` the detail."""

    def __init__(self, reason: str, value: str | None = None):
        super().__init__(reason)
        self.value = value


@dataclass(frozen=True)
class Dictionaries:
    evidences: dict[str, dict]
    conditions: dict[str, str]  # any spelling of a condition (key, condition_name, fr, eng) -> English name
    #: Rendered questions and answers, by evidence name and (name, value): 1.3M patients use ~1,000 of them.
    questions: dict[str, str] = field(default_factory=dict)
    answers: dict[tuple[str, str], str] = field(default_factory=dict)

    def question(self, name: str) -> str:
        if name not in self.questions:
            self.questions[name] = _question(self.evidences[name])
        return self.questions[name]

    def answer(self, name: str, value: str, code: str) -> str:
        key = (name, value)
        if key not in self.answers:
            self.answers[key] = _answer(self.evidences[name], value, code)
        return self.answers[key]


def generate(files: RawFiles) -> Iterator[Item]:
    books = Dictionaries(_evidences(files), _conditions(files))
    for name, split in SPLIT_FILES:
        for path in files.paths(name):
            yield from _patients(path, files.relative(path), name, split, books)


# --- the two dictionaries ------------------------------------------------------------------------------------------


def _load(files: RawFiles, name: str) -> dict:
    path = files.path(name)
    assert path is not None  # required files
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{files.relative(path)}: not valid JSON: {error}") from error
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{files.relative(path)}: expected a JSON object of objects")
    return data


def _evidences(files: RawFiles) -> dict[str, dict]:
    return _load(files, "evidences")


def _conditions(files: RawFiles) -> dict[str, str]:
    english: dict[str, str] = {}
    for key, entry in _load(files, "conditions").items():
        name = str(entry.get("cond-name-eng") or "").strip()
        if not name:
            raise ValueError(f"release_conditions.json: condition {key!r} has no cond-name-eng")
        for spelling in (key, entry.get("condition_name"), entry.get("cond-name-fr"), name):
            if isinstance(spelling, str) and spelling.strip():
                english.setdefault(spelling.strip(), name)
    return english


# --- the patient files ---------------------------------------------------------------------------------------------


@contextmanager
def _open_csv(path: Path, name: str) -> Iterator[TextIO]:
    """The patients CSV as text (a zip's single member or the file itself); bad bytes become readers.BAD_BYTE."""
    encoding, errors = "utf-8-sig", readers.MARK_BAD_BYTES
    if path.suffix.lower() != ".zip":
        with open(path, encoding=encoding, errors=errors, newline="") as handle:
            yield handle
        return
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
        if len(members) != 1:
            raise ValueError(f"{name}: expected one CSV in the archive, found {[m.filename for m in members]}")
        with archive.open(members[0]) as raw:
            yield io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")


def _patients(path: Path, name: str, part: str, split: str, books: Dictionaries) -> Iterator[Item]:
    with _open_csv(path, name) as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{name}: lacks columns {missing}; header is {header}")
        for number, cells in enumerate(reader, 1):
            locator = f"row {number}"
            if not cells:
                yield Rejection("empty row", name, locator, TASK_ID)
                continue
            if len(cells) != len(header):
                reason = "wrong column count"
                yield Rejection(reason, name, locator, TASK_ID, f"{len(cells)} cells for {len(header)} columns")
                continue
            row = dict(zip(header, cells, strict=True))
            if readers.has_bad_bytes(*cells):
                yield Rejection("non-UTF-8 byte", name, locator, TASK_ID, ",".join(cells)[:300])
                continue
            try:
                text, answer = _patient(row, books)
            except BadRow as error:
                yield Rejection(str(error), name, locator, TASK_ID, error.value)
                continue
            key = f"{part}-{number}"
            yield Record(TASK_ID, key, text, answer, name, locator, split=split, group=key)


def _patient(row: dict[str, str], books: Dictionaries) -> tuple[str, str]:
    age, sex = row["AGE"].strip(), row["SEX"].strip()
    if not age.isdigit():
        raise BadRow("AGE is not a whole number", row["AGE"])
    pathology = _english(row["PATHOLOGY"], books, "unknown PATHOLOGY condition")
    names = {_english(c, books, "unknown condition in DIFFERENTIAL_DIAGNOSIS") for c in _differential(row)}
    candidates = sorted(names, key=lambda n: (n.casefold(), n))
    if not candidates:
        raise BadRow("empty DIFFERENTIAL_DIAGNOSIS")
    if pathology not in candidates:
        raise BadRow("PATHOLOGY is not among the DIFFERENTIAL_DIAGNOSIS candidates", pathology)
    codes = _literal_list(row["EVIDENCES"], "EVIDENCES")
    if not codes or not all(isinstance(c, str) for c in codes):
        raise BadRow("EVIDENCES is not a non-empty list of codes", row["EVIDENCES"][:300])
    symptoms, antecedents = _render(codes, books)
    initial = row["INITIAL_EVIDENCE"].strip()
    if initial not in books.evidences:
        raise BadRow("unknown INITIAL_EVIDENCE code", initial)
    text = forms.fields(
        age=age,
        sex=SEXES.get(sex, sex),
        initial_evidence=books.question(initial),
        symptoms="\n".join(symptoms),
        antecedents="\n".join(antecedents),
        candidate_diagnoses=", ".join(candidates),
    )
    return text, pathology


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not a Python literal")


def _literal_list(text: str, column: str) -> list:
    text = text.strip()
    if '"' not in text and "\\" not in text:
        # The usual cell, a list of quoted codes, names and numbers, read as JSON: what ast.literal_eval gives,
        # 4x faster. Anything else JSON cannot read (an apostrophe in a name, True, None, a tuple) falls back.
        try:
            value = json.loads(text.replace("'", '"'), parse_constant=_no_constants)
        except ValueError:
            pass
        else:
            if isinstance(value, list):
                return value
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as error:
        raise BadRow(f"{column} is not a list literal", text[:300]) from error
    if not isinstance(value, list):
        raise BadRow(f"{column} is not a list literal", text[:300])
    return value


def _differential(row: dict[str, str]) -> list[str]:
    names = []
    for item in _literal_list(row["DIFFERENTIAL_DIAGNOSIS"], "DIFFERENTIAL_DIAGNOSIS"):
        if not (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise BadRow("DIFFERENTIAL_DIAGNOSIS item is not a [condition, probability] pair", repr(item)[:300])
        names.append(item[0])
    return names


def _english(condition: str, books: Dictionaries, reason: str) -> str:
    name = books.conditions.get(condition.strip())
    if name is None:
        raise BadRow(reason, condition)
    return name


def _question(entry: dict) -> str:
    question = " ".join(str(entry.get("question_en") or "").split()).rstrip(":").rstrip()
    if not question:
        raise BadRow("evidence has no English question", str(entry.get("name")))
    return question


def _render(codes: list[str], books: Dictionaries) -> tuple[list[str], list[str]]:
    """(symptom lines, antecedent lines): one `<question> -> <answer>` line per evidence, in first-appearance order."""
    evidences = books.evidences
    answers: dict[str, list[str]] = {}
    for code in codes:
        name, _, value = code.strip().partition("_@_")
        if name not in evidences:
            raise BadRow("unknown evidence code", code)
        chosen = answers.setdefault(name, [])
        answer = books.answer(name, value, code) if value else "yes"
        if answer not in chosen:
            chosen.append(answer)
    symptoms: list[str] = []
    antecedents: list[str] = []
    for name, chosen in answers.items():
        (antecedents if evidences[name].get("is_antecedent") is True else symptoms).append(
            f"{books.question(name)} -> {', '.join(chosen)}"
        )
    return symptoms, antecedents


def _answer(entry: dict, value: str, code: str) -> str:
    meaning = (entry.get("value_meaning") or {}).get(value)
    if isinstance(meaning, dict) and str(meaning.get("en") or "").strip():
        text = " ".join(str(meaning["en"]).split())
        return PLAIN_VALUES.get(text, text)
    scale = [v for v in entry.get("possible-values") or () if isinstance(v, int | float) and not isinstance(v, bool)]
    if scale and _number(value) in scale:
        return f"{value} (scale {min(scale)}-{max(scale)})"
    raise BadRow("unknown evidence value", code)


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None
