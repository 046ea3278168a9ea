"""Naive baselines: the MIMIC-IV radiology summarization tasks and the DDXPlus diagnosis task converted the way
research scripts usually do it, to compare our pipeline with (benchmarks/run.py runs them on the same synthetic
corpora in the same run and prints the ratios).

    python benchmarks/naive.py {mimic_iv,ddxplus} {pandas,lean} RAW_DIR OUT_DIR

- `pandas`: `pandas.read_csv` of the whole file, `DataFrame.iterrows`, every instance appended to a list per task,
  and each task written at the end with `json.dump(task, f, indent=4)`: the whole corpus and the whole task sit
  in memory.
- `lean`: the `csv` module row by row, instances appended to a list per task, `json.dump` (no indent) at the end;
  it does only the conversion (no validation, deduplication, language check, split or Parquet), the way a
  careful one-off script would.

Both use the same simple rules (a regex for the FINDINGS and IMPRESSION sections, a keyword table for the
modality and the region; the DDXPlus evidences decoded through the two JSON dictionaries), so the two differ
only in how they read and hold the data. Prints one JSON line: records read, instances written, seconds.
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import json
import re
import sys
import time
import zipfile
from collections import defaultdict
from pathlib import Path

INSTRUCTION = "Summarize the findings of this radiology report into an impression."
_SECTIONS = re.compile(r"FINDINGS:(.*?)IMPRESSION:(.*?)(?=\n[A-Z][A-Z ()]+:|\Z)", re.S)
_EXAM = re.compile(r"EXAMINATION:(.*)")
#: A research script's keyword table: first match wins.
MODALITIES = (
    ("angiography", ("CTA", "MRA", "ANGIO")),
    ("ct", ("CT",)),
    ("mri", ("MR", "MRI")),
    ("mammogram", ("MAMMO",)),
    ("ultrasound", ("US", "U.S.", "DUPLEX", "DOPP")),
    ("fluoroscopy", ("SWALLOW", "BARIUM", "ESOPHAGRAM", "GI")),
    ("pathology", ("SPECIMEN",)),
    ("x-ray", ("CHEST", "VIEWS", "AP", "LAT", "SUPINE")),
)
REGIONS = (
    ("brain", ("HEAD", "BRAIN")),
    ("spine", ("SPINE",)),
    ("head_and_neck", ("NECK", "SINUS", "THYROID")),
    ("chest", ("CHEST", "CARDIAC")),
    ("abdomen", ("ABD", "ABDOMEN", "LIVER", "RENAL")),
    ("pelvis", ("PELVIS", "PEL")),
)


def _classify(exam: str) -> str | None:
    """The summarization task of an exam name, or None (plain radiographs have none)."""
    words = set(re.split(r"[^A-Z.]+", exam.upper()))
    modality = next((m for m, keys in MODALITIES if words & set(keys)), None)
    if modality in (None, "x-ray"):
        return None
    if modality in ("ct", "mri"):
        region = next((r for r, keys in REGIONS if words & set(keys)), None)
        return f"mimic_iv_{modality}_{region}_summarization" if region else None
    return f"mimic_iv_{modality}_summarization"


def _radiology_instance(note_id: str, text: str) -> tuple[str, dict] | None:
    sections, exam = _SECTIONS.search(text), _EXAM.search(text)
    if not sections or not exam:
        return None
    task = _classify(exam.group(1).strip())
    if task is None:
        return None
    findings, impression = sections.group(1).strip(), sections.group(2).strip()
    return task, {"id": note_id, "instruction": INSTRUCTION, "input": findings, "output": impression}


def mimic_pandas(raw: Path, out: Path) -> tuple[int, int]:
    import pandas as pd

    df = pd.read_csv(raw / "note" / "radiology.csv.gz")
    tasks: dict[str, list[dict]] = defaultdict(list)
    for _, row in df.iterrows():
        found = _radiology_instance(row["note_id"], row["text"])
        if found:
            tasks[found[0]].append(found[1])
    for name, instances in tasks.items():
        with open(out / f"{name}.json", "w") as f:
            json.dump({"Definition": [INSTRUCTION], "Instances": instances}, f, indent=4)
    return len(df), sum(len(v) for v in tasks.values())


def mimic_lean(raw: Path, out: Path) -> tuple[int, int]:
    csv.field_size_limit(2**31 - 1)
    tasks: dict[str, list[dict]] = defaultdict(list)
    rows = 0
    with gzip.open(raw / "note" / "radiology.csv.gz", "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        note_id, text = header.index("note_id"), header.index("text")
        for row in reader:
            rows += 1
            found = _radiology_instance(row[note_id], row[text])
            if found:
                tasks[found[0]].append(found[1])
    for name, instances in tasks.items():
        with open(out / f"{name}.json", "w") as f:
            json.dump({"Definition": [INSTRUCTION], "Instances": instances}, f)
    return rows, sum(len(v) for v in tasks.values())


# --- DDXPlus -------------------------------------------------------------------------------------------------------

DDX_INSTRUCTION = "Given the patient's answers, choose the most likely diagnosis among the candidates."


def _books(raw: Path) -> tuple[dict, dict]:
    evidences = json.loads((raw / "release_evidences.json").read_text())
    conditions = json.loads((raw / "release_conditions.json").read_text())
    names = {k: v["cond-name-eng"] for k, v in conditions.items()}
    return evidences, names


def _ddx_instance(row: dict, evidences: dict, names: dict) -> dict:
    lines = []
    for code in ast.literal_eval(row["EVIDENCES"]):
        name, _, value = code.partition("_@_")
        entry = evidences[name]
        if not value:
            answer = "yes"
        elif value in entry["value_meaning"]:
            answer = entry["value_meaning"][value]["en"]
        else:
            answer = value
        lines.append(f"{entry['question_en']} -> {answer}")
    candidates = sorted(names[c] for c, _ in ast.literal_eval(row["DIFFERENTIAL_DIAGNOSIS"]))
    text = f"Age: {row['AGE']}\nSex: {row['SEX']}\n" + "\n".join(lines) + "\nCandidates: " + ", ".join(candidates)
    return {"instruction": DDX_INSTRUCTION, "input": text, "output": names[row["PATHOLOGY"]]}


def _ddx_files(raw: Path) -> list[Path]:
    return [raw / f"release_{split}_patients.zip" for split in ("train", "validate", "test")]


def ddxplus_pandas(raw: Path, out: Path) -> tuple[int, int]:
    import pandas as pd

    evidences, names = _books(raw)
    rows, instances = 0, []
    for path in _ddx_files(raw):
        df = pd.read_csv(path)
        rows += len(df)
        for _, row in df.iterrows():
            instances.append(_ddx_instance(row, evidences, names))
    with open(out / "ddxplus_diagnosis.json", "w") as f:
        json.dump({"Definition": [DDX_INSTRUCTION], "Instances": instances}, f, indent=4)
    return rows, len(instances)


def ddxplus_lean(raw: Path, out: Path) -> tuple[int, int]:
    evidences, names = _books(raw)
    rows, instances = 0, []
    for path in _ddx_files(raw):
        with zipfile.ZipFile(path) as archive, archive.open(archive.namelist()[0]) as member:
            for row in csv.DictReader(io.TextIOWrapper(member, "utf-8", newline="")):
                rows += 1
                instances.append(_ddx_instance(row, evidences, names))
    with open(out / "ddxplus_diagnosis.json", "w") as f:
        json.dump({"Definition": [DDX_INSTRUCTION], "Instances": instances}, f)
    return rows, len(instances)


BASELINES = {
    ("mimic_iv", "pandas"): mimic_pandas,
    ("mimic_iv", "lean"): mimic_lean,
    ("ddxplus", "pandas"): ddxplus_pandas,
    ("ddxplus", "lean"): ddxplus_lean,
}


def main() -> None:
    if len(sys.argv) != 5 or (sys.argv[1], sys.argv[2]) not in BASELINES:
        raise SystemExit(__doc__)
    source, style, raw, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows, instances = BASELINES[(source, style)](raw, out)
    print(json.dumps({"records": rows, "instances": instances, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
