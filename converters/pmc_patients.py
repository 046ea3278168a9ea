"""PMC-Patients (Zhao et al., Scientific Data 2023): 167k patient summaries extracted from case reports in PubMed
Central, with the patients' age and sex and patient-to-patient similarity derived from the citation graph.

Two distributions are accepted, giving the same records for the same content:
- "json": `PMC-Patients.json` as on Figshare (collection 6723465) and in the PMC-Patients-ReCDS repository: one JSON
  list (streamed with ijson) of {"patient_id", "patient_uid" ("<PMID>-<n>"), "PMID", "file_path", "title", "patient",
  "age" ([[value, unit], ...], unit year|month|week|day|hour), "gender" ("M"|"F"), "relevant_articles"
  ({PMID: 1|2}), "similar_patients" ({patient_uid: 1|2})}.
- "csv": `PMC-Patients.csv`, the Hugging Face export (zhengyun21/PMC-Patients): the same columns, with `age`,
  `relevant_articles` and `similar_patients` serialised as text (Python or JSON literals; both are parsed). Read
  with the csv module (quoted multi-line fields, UTF-8 with optional BOM).
Official split (optional): the ReCDS article split `train_PMIDs.json`, `dev_PMIDs.json`, `test_PMIDs.json` (JSON
lists of PMIDs, from PMC-Patients-MetaData or Figshare) placed beside the patients file; a patient's split is its
article's (dev -> "validation"). Without them, or for a PMID in none of them, split is None and the build
hash-splits on the group, the PMID, so all patients of one article land in one split.

Tasks (key = patient_uid; group = PMID):
- pmc_patients_title_generation: input = the patient summary; output = the title of its source article.
- pmc_patients_basic_information_extraction: input = the patient summary; output, in one fixed format,
  `Age: <age>; Gender: <Male|Female>`, the age written from the `age` pairs in order, each `<value> <unit>` with
  the value without a trailing ".0" and the unit plural unless the value is 1: [[1.0, "year"], [2.0, "month"]] ->
  `Age: 1 year 2 months; Gender: Female`.
- pmc_patients_similar_case_retrieval: for each patient with similar patients (the query), input =
  `forms.fields(query_patient=..., candidate_1=..., ..., candidate_4=...)`, four candidate summaries; output = the
  labels of the similar candidates (`forms.labels`, e.g. `Candidate 2` or `Candidate 1, Candidate 3`). Candidates
  are built deterministically: up to two similar patients (highest similarity score first, ties broken by a hash
  of the two uids), the rest non-similar patients, chosen by walking the patients in the order of a hash of their
  uid from the point given by a hash of the query's uid, skipping the query, its similar patients and every
  patient of its article; the four are then ordered by a hash of (query, candidate). When train_PMIDs.json is
  present, candidates come from the training split only (as in the ReCDS patient-to-patient corpus), so no
  validation or test summary appears in another instance's input; without it candidates may come from any
  split (the hash split then cannot keep a summary out of instances of another split). Summaries are written on
  one line each in this input (whitespace collapsed).
  The patients are indexed in a temporary SQLite file (on disk) during the build, so memory stays small.

Quarantine: a row without patient_uid, a repeated patient_uid, a missing or empty summary (all tasks); a missing
title (title task); a missing, empty or malformed age or gender (extraction task); a query whose similar patients
are absent from the file or (with train_PMIDs.json) all outside the training split; a query for which too few
non-similar patients exist.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_DIRS = ("", "datasets/", "PMC-Patients/")
_META = ("", "meta/", "PMC-Patients-MetaData/")
_SPLIT_FILES = (("train", "train"), ("dev", "validation"), ("test", "test"))


def _split_lists() -> tuple[RawFile, ...]:
    return tuple(
        RawFile(f"{name}_pmids", tuple(f"{d}{name}_PMIDs.json" for d in _META), required=False, split=split)
        for name, split in _SPLIT_FILES
    )


SOURCE = Source(
    id="pmc_patients",
    name="PMC-Patients",
    homepage="https://github.com/pmc-patients/pmc-patients",
    license="CC BY-NC-SA 4.0",
    access="open",
    citation=(
        "Zhao, Z., Jin, Q., Chen, F., Peng, T. and Yu, S. (2023). A large-scale dataset of patient summaries for "
        "retrieval-based clinical decision support systems. Scientific Data 10: 909."
    ),
    obtain=(
        "Download PMC-Patients.json from Figshare (collection 6723465) or PMC-Patients.csv from the Hugging Face "
        "dataset zhengyun21/PMC-Patients into the raw folder; for the official split, add train_PMIDs.json, "
        "dev_PMIDs.json and test_PMIDs.json from the Hugging Face dataset THUMedInfo/PMC-Patients-MetaData."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile("patients", tuple(f"{d}PMC-Patients.json" for d in _DIRS)),
                *_split_lists(),
            ),
            "PMC-Patients.json (Figshare / ReCDS), a JSON list of patients",
        ),
        RawForm(
            "csv",
            (
                RawFile("patients", tuple(f"{d}PMC-Patients.csv" for d in _DIRS)),
                *_split_lists(),
            ),
            "PMC-Patients.csv, the Hugging Face export (age and relations serialised as text)",
        ),
    ),
    # The authors' Hub copy. The split PMID lists are not fetched (see `obtain`): without them the hash split is used.
    downloads=(Download(hf_dataset="zhengyun21/PMC-Patients", files=("PMC-Patients.csv",)),),
)

#: The candidates of a retrieval instance and how many of them may be similar patients.
CANDIDATES, MAX_SIMILAR = 4, 2
LABELS = tuple(f"Candidate {i}" for i in range(1, CANDIDATES + 1))

TASKS = (
    Task("pmc_patients_title_generation", "Text Completion", "Academic Papers", tags=("Case Reports", "PubMed")),
    Task(
        "pmc_patients_basic_information_extraction",
        "Information Extraction",
        "Academic Papers",
        tags=("Case Reports", "Demographics"),
    ),
    Task(
        "pmc_patients_similar_case_retrieval",
        "Text Retrieval",
        "Academic Papers",
        tags=("Case Reports", "Patient Similarity"),
        labels=LABELS,
        multi_label=True,
    ),
)
TITLE, BASIC, SIMILAR = (t.id for t in TASKS)

GENDERS = {"M": "Male", "F": "Female"}
UNITS = ("year", "month", "week", "day", "hour")


def generate(files: RawFiles) -> Iterator[Item]:
    splits = _splits(files)
    path = files.path("patients")
    name = files.relative(path)
    rows = _csv_rows(path) if files.form.name == "csv" else _json_rows(path, name)
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="pmc_patients-") as scratch:
        db = sqlite3.connect(Path(scratch) / "patients.sqlite")
        columns = "uid TEXT PRIMARY KEY, pmid TEXT, split TEXT, text TEXT, similar TEXT, h INT, at TEXT"
        db.execute(f"CREATE TABLE patient ({columns})")
        for where, row, problem in rows:
            if problem:
                yield Rejection(problem, name, where, None, str(row)[:300])
                continue
            yield from _patient(row, name, where, splits, seen, db)
        db.execute("CREATE INDEX by_hash ON patient (h, uid)")
        db.commit()
        yield from _retrieval(db, name, pool_split="train" if files.paths("train_pmids") else None)
        db.close()


def _splits(files: RawFiles) -> dict[str, str]:
    """PMID -> split, from the optional ReCDS split lists."""
    found: dict[str, str] = {}
    for name, split in _SPLIT_FILES:
        for path in files.paths(f"{name}_pmids"):
            for _, pmid in readers.json_items(path, files.relative(path)):
                found.setdefault(str(pmid), split)
    return found


def _patient(
    row: dict, name: str, where: str, splits: dict[str, str], seen: set[str], db: sqlite3.Connection
) -> Iterator[Item]:
    uid = str(row.get("patient_uid") or "").strip()
    if not uid:
        yield Rejection("missing patient_uid", name, where, None, str(row.get("patient_id")))
        return
    where = f"{where} ({uid})"
    if uid in seen:
        yield Rejection("repeated patient_uid", name, where, None, uid)
        return
    seen.add(uid)
    text = row.get("patient")
    problem = readers.text_problem(text, "patient summary")
    if problem:
        yield Rejection(problem, name, where, None, uid)
        return
    text = text.strip()
    pmid = str(row.get("PMID") or uid.partition("-")[0]).strip()
    split = splits.get(pmid)
    title = row.get("title")
    problem = readers.text_problem(title, "title")
    if problem:
        yield Rejection(problem, name, where, TITLE, uid)
    else:
        yield Record(TITLE, uid, text, " ".join(title.split()), name, where, split, pmid)
    try:
        info = f"Age: {_age(row.get('age'))}; Gender: {_gender(row.get('gender'))}"
    except forms.FormError as error:
        yield Rejection(str(error), name, where, BASIC, f"age={row.get('age')!r} gender={row.get('gender')!r}")
    else:
        yield Record(BASIC, uid, text, info, name, where, split, pmid)
    try:
        similar = _similar(row.get("similar_patients"))
    except forms.FormError as error:
        yield Rejection(str(error), name, where, SIMILAR, str(row.get("similar_patients"))[:300])
        similar = {}
    similar.pop(uid, None)
    db.execute(
        "INSERT INTO patient VALUES (?, ?, ?, ?, ?, ?, ?)",
        (uid, pmid, split, " ".join(text.split()), json.dumps(similar), _hash(uid), where),
    )


def _retrieval(db: sqlite3.Connection, name: str, pool_split: str | None) -> Iterator[Item]:
    queries = db.execute("SELECT uid, pmid, split, text, similar, at FROM patient WHERE similar != '{}' ORDER BY rowid")
    for uid, pmid, split, text, similar_json, where in queries:
        similar: dict[str, int] = json.loads(similar_json)
        found = {
            other: (score, other_split, other_text)
            for other, score in similar.items()
            for other_split, other_text in db.execute("SELECT split, text FROM patient WHERE uid = ?", (other,))
        }
        if not found:
            yield Rejection("similar patients not in the file", name, where, SIMILAR, ", ".join(similar))
            continue
        eligible = [o for o in found if pool_split is None or found[o][1] == pool_split]
        if not eligible:
            why = "similar patients all outside the candidate pool (training split)"
            yield Rejection(why, name, where, SIMILAR, ", ".join(found))
            continue
        eligible.sort(key=lambda o: (-found[o][0], _hash(f"{uid}|{o}")))
        chosen = {o: found[o][2] for o in eligible[:MAX_SIMILAR]}
        others = _others(db, uid, pmid, set(similar), CANDIDATES - len(chosen), pool_split)
        if len(others) < CANDIDATES - len(chosen):
            yield Rejection("too few non-similar patients for the candidates", name, where, SIMILAR, uid)
            continue
        order = sorted([*chosen, *others], key=lambda o: _hash(f"{uid}|{o}"))
        texts = {**chosen, **others}
        parts = {f"candidate_{i}": texts[o] for i, o in enumerate(order, 1)}
        input_text = forms.fields(query_patient=text, **parts)
        output = forms.labels((LABELS[i] for i, o in enumerate(order) if o in chosen), LABELS)
        yield Record(SIMILAR, uid, input_text, output, name, where, split, pmid)


def _others(
    db: sqlite3.Connection, uid: str, pmid: str, similar: set[str], needed: int, pool_split: str | None
) -> dict[str, str]:
    """`needed` non-similar patients from other articles, walking the patients in hash order from the query's point."""
    start = _hash(f"negatives|{uid}")
    where = "" if pool_split is None else " AND split = ?"
    extra = () if pool_split is None else (pool_split,)
    picked: dict[str, str] = {}
    for condition, bound in (("h >= ?", start), ("h < ?", start)):
        rows = db.execute(
            f"SELECT uid, pmid, text FROM patient WHERE {condition}{where} ORDER BY h, uid", (bound, *extra)
        )
        for other, other_pmid, other_text in rows:
            if other != uid and other not in similar and other_pmid != pmid:
                picked[other] = other_text
                if len(picked) == needed:
                    return picked
    return picked


def _hash(text: str) -> int:
    """A stable 56-bit hash (fits SQLite's signed 64-bit integers)."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:7], "big")


def _literal(value: object, field: str) -> object:
    """A structured field as given (JSON) or as text (the CSV export): JSON, else a Python literal."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as error:
        raise forms.FormError(f"unparsable {field}") from error


def _age(value: object) -> str:
    pairs = _literal(value, "age")
    if not pairs:
        raise forms.FormError("missing age")
    if not isinstance(pairs, list | tuple):
        raise forms.FormError("malformed age (expected [[value, unit], ...])")
    parts = []
    for pair in pairs:
        number = pair[0] if isinstance(pair, list | tuple) and len(pair) == 2 else None
        if isinstance(number, bool) or not isinstance(number, int | float | Decimal):  # ijson gives Decimal
            raise forms.FormError("malformed age (expected [[value, unit], ...])")
        value, unit = float(number), str(pair[1]).strip().lower()
        if unit not in UNITS or value < 0:
            raise forms.FormError("malformed age (unknown unit or negative value)")
        shown = str(int(value)) if value.is_integer() else f"{value:g}"
        parts.append(f"{shown} {unit}{'' if value == 1 else 's'}")
    return " ".join(parts)


def _gender(value: object) -> str:
    gender = GENDERS.get(str(value or "").strip().upper())
    if gender is None:
        raise forms.FormError("missing or unknown gender (expected M or F)")
    return gender


def _similar(value: object) -> dict[str, int]:
    """similar_patients as {patient_uid: score}; an older list of uids gets score 1."""
    similar = _literal(value, "similar_patients")
    if not similar:
        return {}
    if isinstance(similar, list):
        similar = dict.fromkeys(similar, 1)
    if not isinstance(similar, dict):
        raise forms.FormError("malformed similar_patients (expected {patient_uid: score})")
    try:
        return {str(k).strip(): int(v) for k, v in similar.items()}
    except (TypeError, ValueError) as error:
        raise forms.FormError("malformed similar_patients (expected {patient_uid: score})") from error


def _json_rows(path: Path, name: str) -> Iterator[tuple[str, dict | object, str | None]]:
    for number, item in readers.json_items(path, name):
        where = f"item {number}"
        yield (where, item, None) if isinstance(item, dict) else (where, item, "item is not a JSON object")


COLUMNS = ("patient_uid", "PMID", "title", "patient", "age", "gender", "similar_patients")


def _csv_rows(path: Path) -> Iterator[tuple[str, dict | object, str | None]]:
    csv.field_size_limit(2**31 - 1)  # summaries are long quoted fields
    with open(path, encoding="utf-8-sig", errors=readers.MARK_BAD_BYTES, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path.name}: lacks columns {missing}; has {reader.fieldnames}")
        for number, row in enumerate(reader, 1):
            where = f"row {number}"
            if None in row or any(v is None for v in row.values()):
                yield where, row, "wrong number of columns"
                continue
            yield where, row, None
