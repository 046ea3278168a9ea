"""Synthetic raw corpora, in the exact raw formats our converters read, at a chosen scale of the real corpora.

    python benchmarks/make_corpora.py --scale 0.1 --out /tmp/corpora/0.1 [--seed 0] [--sources mimic_iv ddxplus]

`--scale 1.0` writes each corpus with the record count of the real one (table `SOURCES`: MIMIC-IV-Note 2,321,355
radiology reports and 331,794 discharge summaries, DDXPlus 1,292,579 patients, PubMedQA 211,269 + 61,249 + 1,000
abstracts, ...). Output is deterministic from `--seed`: the same seed and scale give the same bytes.

Two kinds of generator:

- Dedicated, fast generators for the big corpora (mimic_iv, ddxplus, pubmedqa, medmcqa, pmc_patients, mimic4ed):
  the real layout (gzipped CSV with multi-line quoted notes, zipped CSV with Python-literal columns, JSON objects,
  JSON Lines, a JSON list with split files, pandas CSV), with text lengths drawn around the published averages
  (constants next to each generator). Text is random word salad from a fixed English clinical vocabulary
  (function words at their natural share): it passes the language check as English, and two texts share no
  13-gram and no 5-gram shingle set, so deduplication and decontamination see what they see on real corpora:
  work, but few hits. Every record is valid: the build should quarantine nothing (tests/test_make_corpora.py
  checks it), and the number of instances it must produce is known exactly (`expected_records`).
- Every other source: its bundled sample (data/samples/<id>) copied `copies` times by `expand_sample.expand`
  (consistent rewordings, new ids), `copies` chosen so that the copies hold about the real corpus's number of
  records; text lengths are those of the sample, and records the sample rejects on purpose are repeated too.

Files are written streaming (a batch of records at a time, memory flat whatever the scale), under a temporary
name and renamed when complete; a source folder appears only when all its files are written. `OUT/corpora.json`
lists, per source: raw records, expected records (converter output), expected instances where known exactly,
raw bytes (uncompressed) and bytes on disk. A source already generated with the same scale, seed and generator
version is kept (delete its folder to regenerate).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import shutil
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from expand_sample import CONTENT_WORDS, FUNCTION_WORDS  # noqa: E402

#: Bumped whenever a generator's output changes, so an older corpus is regenerated.
VERSION = 8
#: The same for expand_sample's rewordings alone (the dedicated corpora, the long ones to write, are kept).
EXPAND_VERSION = 2
META = ".meta"
BATCH = 2_000

# --- what a real corpus holds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """The real corpus: `records` raw records (the unit named by `unit`), where the figure comes from."""

    records: int
    unit: str
    note: str = ""


#: Real record counts (scale 1.0). Figures from the converters' docstrings and the corpus papers; "~" where a
#: corpus is only known approximately. MedS-Ins is about 5M instances; these corpora at scale 1.0 give more,
#: since our converters derive several tasks from one record (a radiology report gives up to three instances).
SOURCES: dict[str, Spec] = {
    "ade_corpus_v2": Spec(23_516, "sentences", "6,821 ADE + 16,695 negative sentences"),
    "anem": Spec(500, "abstracts"),
    "bc2gm": Spec(20_000, "sentences"),
    "bc4chemd": Spec(10_000, "abstracts"),
    "bc5cdr": Spec(1_500, "abstracts"),
    "bioasq": Spec(5_049, "questions", "BioASQ 12b training set"),
    "biolord": Spec(100_000, "rows", "release ~25M rows; MedS-Ins's share unknown, capped at 100k"),
    "catalonia_independence": Spec(20_000, "tweets", "~10k Spanish + ~10k Catalan"),
    "chatdoctor": Spec(124_938, "dialogues", "GenMedGPT-5k 5,452 + HealthCareMagic 112,165 + iCliniq 7,321"),
    "clinical_trials_gov": Spec(1_500, "trials"),
    "cmedqa2": Spec(108_000, "questions", "203,569 answers"),
    "covid_qa": Spec(2_019, "questions"),
    "ddxplus": Spec(1_292_579, "patients", "train 1,025,602 / validate 132,448 / test 134,529"),
    "disease_ontology": Spec(12_000, "terms", "~"),
    "ebms": Spec(456, "questions"),
    "ecdc_tm": Spec(4_000, "translation units", "~"),
    "frenchmedmcqa": Spec(3_105, "questions"),
    "head_qa": Spec(13_530, "questions", "6,765 in Spanish and English"),
    "health_fact": Spec(11_832, "claims"),
    "hoc": Spec(1_852, "abstracts"),
    "icd10_cm": Spec(74_000, "codes", "~, FY2023 order file"),
    "igakuqa": Spec(2_000, "questions"),
    "lima": Spec(1_030, "items"),
    "linnaeus": Spec(100, "documents"),
    "litcovid": Spec(33_699, "articles", "BioCreative VII LitCovid track"),
    "liveqa": Spec(738, "questions"),
    "mashqa": Spec(35_000, "questions", "~"),
    "medalpaca_flashcards": Spec(33_955, "cards"),
    "medical_question_pairs": Spec(3_048, "pairs"),
    "medicationqa": Spec(690, "questions"),
    "mediqa_ans": Spec(156, "questions"),
    "medlineplus": Spec(4_000, "articles", "~"),
    "medmcqa": Spec(193_155, "questions", "train 182,822 / dev 4,183 / test 6,150 (no answers, not read)"),
    "mednli": Spec(14_049, "pairs"),
    "medqa": Spec(12_723, "questions"),
    "medquad": Spec(47_457, "pairs"),
    "meqsum": Spec(1_000, "questions"),
    "mimic4ed": Spec(441_437, "ED stays", "MIMIC-IV-ED benchmark"),
    "mimic_cxr": Spec(227_835, "reports"),
    "mimic_iv": Spec(2_653_149, "notes", "2,321,355 radiology reports + 331,794 discharge summaries"),
    "mimic_iv_icd10": Spec(122_279, "admissions", "~"),
    "mmedbench": Spec(53_566, "questions"),
    "ms2": Spec(20_000, "reviews", "~"),
    "ncbi_disease": Spec(793, "abstracts"),
    "pico": Spec(423, "sentences"),
    "pmc_patients": Spec(167_034, "patients"),
    "pubmed_mesh": Spec(50_000, "articles"),
    "pubmed_summarization": Spec(133_215, "articles"),
    "pubmedqa": Spec(273_518, "abstracts", "PQA-A 211,269 + PQA-U 61,249 + PQA-L 1,000"),
    "radiopaedia_ner": Spec(1_000, "reports", "~"),
    "rct_summarization": Spec(4_692, "reviews"),
    "readability": Spec(27_525, "articles", "PLOS"),
    "rumedbench": Spec(10_000, "items", "~"),
    "seer": Spec(5_000, "rows", "~"),
    "sharegpt": Spec(94_000, "conversations", "~"),
    "species800": Spec(800, "abstracts"),
    "super_natural_instructions": Spec(6_500, "instances per task file", "~"),
    "wikidoc": Spec(15_942, "pairs"),
}

# --- text --------------------------------------------------------------------------------------------------------

PHI = "___"


class Words:
    """Random English-like text, fast: words are drawn with numpy and their bytes gathered in one vectorised
    pass per batch of texts (no Python loop per word). Function words make up about 40 % of the words, as in
    English prose; content words follow a Zipf law over a fixed (seeded) order."""

    def __init__(self, rng: np.random.Generator):
        function, content = FUNCTION_WORDS.split(), CONTENT_WORDS.split()
        content = [content[i] for i in rng.permutation(len(content))]
        weights = np.concatenate(
            [np.full(len(function), 0.4 / len(function)), 0.6 * _zipf(len(content), 0.9)]
        )  # fmt: skip
        self.words = function + content
        self.content_start = len(function)
        self.cdf = np.cumsum(weights / weights.sum())
        n = len(self.words)
        # Variants per word: plain "w ", sentence start "W ", sentence end "w. ", both "W. ".
        variants = [f"{w} " for w in self.words] + [f"{w.capitalize()} " for w in self.words]
        variants += [f"{w}. " for w in self.words] + [f"{w.capitalize()}. " for w in self.words]
        encoded = [v.encode() for v in variants]
        self.lengths = np.array([len(b) for b in encoded], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]])
        self.buffer = np.frombuffer(b"".join(encoded), np.uint8)
        self.n = n
        self.rng = rng

    def draw(self, count: int, content_only: bool = False) -> np.ndarray:
        u = self.rng.random(count)
        if content_only:
            low = self.cdf[self.content_start - 1]
            u = low + u * (1 - low)
        return np.minimum(np.searchsorted(self.cdf, u), self.n - 1)

    def texts(self, lengths: np.ndarray, sentence: tuple[int, int] = (8, 22), content_only: bool = False) -> list[str]:
        """One text per entry of `lengths` (words, at least 1): sentences of `sentence` words, capitalised and
        ended by a full stop."""
        lengths = np.maximum(np.asarray(lengths, np.int64), 1)
        total = int(lengths.sum())
        if total == 0:
            return []
        tokens = self.draw(total, content_only)
        # Sentence ends: at random gaps, and at each text's end; a word after an end starts a sentence.
        end = np.zeros(total, bool)
        gaps = self.rng.integers(sentence[0], sentence[1] + 1, size=total // sentence[0] + 1)
        positions = np.cumsum(gaps) - 1
        end[positions[positions < total]] = True
        text_ends = np.cumsum(lengths) - 1
        end[text_ends] = True
        start = np.empty(total, bool)
        start[0] = True
        start[1:] = end[:-1]
        tokens = tokens + self.n * start + 2 * self.n * end
        sizes = self.lengths[tokens]
        cumulative = np.cumsum(sizes)
        firsts = cumulative - sizes
        index = np.int32 if cumulative[-1] < 2**31 else np.int64  # half the memory for the usual batch
        shifts = (self.offsets[tokens] - firsts).astype(index)
        gather = np.repeat(shifts, sizes) + np.arange(cumulative[-1], dtype=index)
        data = self.buffer[gather].tobytes()
        bounds = cumulative[text_ends].tolist()
        out, previous = [], 0
        for bound in bounds:
            out.append(data[previous : bound - 1].decode())  # without the final space
            previous = bound
        return out

    def phrase(self, count: int, words: tuple[int, int]) -> list[str]:
        """Short lower-case content phrases (options, MeSH-like terms)."""
        lengths = self.rng.integers(words[0], words[1] + 1, size=count)
        tokens = self.draw(int(lengths.sum()), content_only=True)
        out, i = [], 0
        for n in lengths.tolist():
            out.append(" ".join(self.words[t] for t in tokens[i : i + n].tolist()))
            i += n
        return out


def _zipf(n: int, s: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def lognormal_lengths(
    rng: np.random.Generator, count: int, mean: float, sigma: float = 0.5, low: int = 3
) -> np.ndarray:
    """Word counts with the given mean, right-skewed like real text lengths."""
    mu = np.log(mean) - sigma**2 / 2
    return np.maximum(np.rint(rng.lognormal(mu, sigma, count)).astype(np.int64), low)


# --- writing -----------------------------------------------------------------------------------------------------


class Counted:
    """A binary sink that counts the (uncompressed) bytes written through it."""

    def __init__(self, handle):
        self.handle, self.bytes = handle, 0

    def write(self, data: bytes) -> None:
        self.bytes += len(data)
        self.handle.write(data)


def csv_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass
class Part:
    """What one generator wrote."""

    records: int = 0  # raw records
    expected_records: int = 0  # records (instances before quality checks) the converter must yield
    raw_bytes: int = 0  # uncompressed
    exact: bool = True  # expected_records is exact (dedicated generators), not an estimate
    copies: int = 0  # expanded samples: how many copies of the sample


def _count(n_real: int, scale: float) -> int:
    return max(1, round(n_real * scale))


def _batches(total: int, words: int = 200) -> Iterator[tuple[int, int]]:
    """(start, count) batches of records of about `words` words each: ~500k words a batch."""
    size = min(BATCH, max(100, 500_000 // words))
    for start in range(0, total, size):
        yield start, min(size, total - start)


# --- MIMIC-IV-Note -------------------------------------------------------------------------------------------------

RADIOLOGY_REPORTS, DISCHARGE_NOTES = 2_321_355, 331_794
#: Words per section. A MIMIC-IV radiology report is about 1,500 characters (~230 words), a discharge
#: summary about 1,800 words (Damm et al. 2024: > 1,775 words on average) of which ~150 are the instructions.
RADIOLOGY_WORDS = {"indication": 12, "technique": 14, "findings": 140, "impression": 32}
DISCHARGE_WORDS = {"hpi": 330, "pmh": 90, "exam": 160, "results": 230, "course": 520, "meds": 180, "instructions": 150}
#: Exam names (first line of EXAMINATION) and their share of reports: mostly chest radiographs, then CT,
#: ultrasound and MRI, as in a hospital's radiology department.
EXAMS = (
    ("CHEST (PA AND LAT)", 22.0),
    ("CHEST (PORTABLE AP)", 16.0),
    ("ABDOMEN (SUPINE AND ERECT)", 2.0),
    ("L-SPINE (AP AND LAT)", 1.5),
    ("KNEE (AP, LAT AND OBLIQUE) RIGHT", 1.5),
    ("HIP UNILAT MIN 2 VIEWS LEFT", 1.5),
    ("CT HEAD W/O CONTRAST", 8.0),
    ("CT CHEST W/CONTRAST", 4.0),
    ("CT ABD & PELVIS WITH CONTRAST", 7.0),
    ("CT C-SPINE W/O CONTRAST", 3.0),
    ("CT NECK W/CONTRAST", 1.0),
    ("CT PELVIS W/O CONTRAST", 1.0),
    ("CT SINUS/MANDIBLE/MAXILLOFACIAL W/O CONTRAST", 0.5),
    ("MR HEAD W & W/O CONTRAST", 3.0),
    ("MR CERVICAL SPINE W/O CONTRAST", 1.5),
    ("MR L SPINE W/O CONTRAST", 1.5),
    ("MR ABDOMEN W/O CONTRAST", 1.0),
    ("MR PELVIS W/O CONTRAST", 0.5),
    ("CARDIAC MR W/O CONTRAST", 0.2),
    ("MR NECK W/O CONTRAST", 0.3),
    ("LIVER OR GALLBLADDER US (SINGLE ORGAN)", 4.0),
    ("RENAL U.S.", 3.0),
    ("DUPLEX DOPP ABD/PEL", 2.0),
    ("PELVIS U.S., TRANSVAGINAL", 1.5),
    ("THYROID U.S.", 0.5),
    ("UNILAT LOWER EXT VEINS US", 3.0),
    ("CTA CHEST W&W/O C&RECONS, NON-CORONARY", 1.5),
    ("CTA HEAD W&W/O C & RECONS", 1.0),
    ("MRA BRAIN W/O CONTRAST", 0.5),
    ("VIDEO OROPHARYNGEAL SWALLOW", 1.0),
    ("BARIUM ESOPHAGRAM", 0.5),
    ("UPPER GI SERIES WITH SMALL BOWEL FOLLOW THROUGH", 0.5),
    ("MAMMO SCREENING BILATERAL DIGITAL", 1.5),
    ("BREAST SPECIMEN RADIOGRAPH", 0.3),
)


def _exam_instances() -> list[int]:
    """Instances the converter makes of one report of each exam: modality, anatomy (with a region) and
    summarization (summarized modality, or CT/MRI with a region)."""
    from converters import mimic_iv

    counts = []
    for exam, _ in EXAMS:
        modality, regions = mimic_iv.modality_of(exam), mimic_iv.regions_of(exam)
        if modality is None:
            raise AssertionError(f"exam {exam!r} matches no modality rule")
        summarized = modality in mimic_iv.SUMMARIZED_MODALITIES or (modality in mimic_iv.CT_MRI and bool(regions))
        counts.append(1 + bool(regions) + summarized)
    return counts


def mimic_radiology(folder: Path, scale: float, seed: int) -> Part:
    rng = np.random.default_rng([seed, 1, 1])
    words = Words(np.random.default_rng([seed, 1, 0]))
    n = _count(RADIOLOGY_REPORTS, scale)
    weights = np.array([w for _, w in EXAMS])
    per_exam = np.array(_exam_instances())
    part = Part(records=n)
    header = ["note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text"]
    with _gzip(folder / "note" / "radiology.csv.gz") as sink:
        sink.write(csv_bytes([header]))
        for start, count in _batches(n):
            exams = rng.choice(len(EXAMS), size=count, p=weights / weights.sum())
            part.expected_records += int(per_exam[exams].sum())
            texts = {k: words.texts(lognormal_lengths(rng, count, m)) for k, m in RADIOLOGY_WORDS.items()}
            comparison = rng.random(count) < 0.5
            rows = []
            for j in range(count):
                i = start + j
                subject = 10_000_000 + i // 10  # about ten reports per patient
                chart = _timestamp(i)
                findings = texts["findings"][j]
                cut = findings.find(". ", len(findings) // 2)
                if cut > 0:  # two paragraphs
                    findings = findings[: cut + 1] + "\n\n" + findings[cut + 2 :]
                text = (
                    f"EXAMINATION:  {EXAMS[exams[j]][0]}\n\n"
                    f"INDICATION:  {PHI} with {texts['indication'][j]}\n\n"
                    f"TECHNIQUE:  {texts['technique'][j]}\n\n"
                    f"COMPARISON:  {f'{PHI}.' if comparison[j] else 'None.'}\n\n"
                    f"FINDINGS: \n \n{findings}\n\nIMPRESSION: \n \n{texts['impression'][j]}\n"
                )
                rows.append([f"{subject}-RR-{i % 10 + 1}", subject, "", "RR", i % 10 + 1, chart, chart, text])
            sink.write(csv_bytes(rows))
    part.raw_bytes = sink.bytes
    return part


def mimic_discharge(folder: Path, scale: float, seed: int) -> Part:
    rng = np.random.default_rng([seed, 1, 3])
    words = Words(np.random.default_rng([seed, 1, 2]))
    n = _count(DISCHARGE_NOTES, scale)
    part = Part(records=n, expected_records=n)
    header = ["note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text"]
    with _gzip(folder / "note" / "discharge.csv.gz") as sink:
        sink.write(csv_bytes([header]))
        for start, count in _batches(n, sum(DISCHARGE_WORDS.values())):
            t = {k: words.texts(lognormal_lengths(rng, count, m)) for k, m in DISCHARGE_WORDS.items()}
            sexes = rng.choice(["M", "F"], size=count)
            rows = []
            for j in range(count):
                i = start + j
                subject, hadm = 10_000_000 + i * 7 % 1_000_000, 20_000_000 + i
                text = (
                    f" \nName:  {PHI}                     Unit No:   {PHI}\n \n"
                    f"Admission Date:  {PHI}              Discharge Date:   {PHI}\n \n"
                    f"Date of Birth:  {PHI}             Sex:   {sexes[j]}\n \nService: MEDICINE\n \n"
                    f"Allergies: \nNo Known Allergies / Adverse Drug Reactions\n \nAttending: {PHI}.\n \n"
                    f"Chief Complaint:\n{t['hpi'][j][:60].rsplit(' ', 1)[0]}\n \n"
                    f"History of Present Illness:\n{t['hpi'][j]}\n \n"
                    f"Past Medical History:\n{t['pmh'][j]}\n \n"
                    f"Physical Exam:\n{t['exam'][j]}\n \n"
                    f"Pertinent Results:\n{t['results'][j]}\n \n"
                    f"Brief Hospital Course:\n{t['course'][j]}\n \n"
                    f"Discharge Medications:\n{t['meds'][j]}\n \n"
                    f"Discharge Disposition:\nHome\n \nDischarge Diagnosis:\n{t['pmh'][j][:80].rsplit(' ', 1)[0]}\n \n"
                    f"Discharge Condition:\nMental Status: Clear and coherent.\n \n"
                    f"Discharge Instructions:\nDear {PHI},\n\n{t['instructions'][j]}\n\n"
                    f"Sincerely,\nYour care team\n \nFollowup Instructions:\n{PHI}\n"
                )
                chart = _timestamp(i)
                rows.append([f"{subject}-DS-{i % 30 + 1}", subject, hadm, "DS", i % 30 + 1, chart, chart, text])
            sink.write(csv_bytes(rows))
    part.raw_bytes = sink.bytes
    return part


def _timestamp(i: int) -> str:
    day = i % 3650
    return f"{2110 + day // 365}-{day % 365 // 31 % 12 + 1:02d}-{day % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:00"


# --- DDXPlus -------------------------------------------------------------------------------------------------------

DDX_SPLITS = (("train", 1_025_602), ("validate", 132_448), ("test", 134_529))
DDX_EVIDENCES = 223
DDX_COLUMNS = ["AGE", "DIFFERENTIAL_DIAGNOSIS", "SEX", "PATHOLOGY", "EVIDENCES", "INITIAL_EVIDENCE"]
#: The 49 pathologies of DDXPlus.
DDX_CONDITIONS = (
    "Spontaneous pneumothorax", "Cluster headache", "Boerhaave", "Spontaneous rib fracture", "GERD",
    "HIV (initial infection)", "Anemia", "Viral pharyngitis", "Inguinal hernia", "Myasthenia gravis",
    "Whooping cough", "Anaphylaxis", "Epiglottitis", "Guillain-Barré syndrome", "Acute laryngitis", "Croup", "PSVT",
    "Atrial fibrillation", "Bronchiectasis", "Allergic sinusitis", "Chagas", "Scombroid food poisoning", "Myocarditis",
    "Larygospasm", "Acute dystonic reactions", "Localized edema", "SLE", "Tuberculosis", "Unstable angina",
    "Stable angina", "Ebola", "Acute otitis media", "Panic attack", "Bronchospasm / acute asthma exacerbation",
    "Bronchitis", "Acute COPD exacerbation / infection", "Pulmonary embolism", "URTI", "Influenza", "Pneumonia",
    "Acute rhinosinusitis", "Chronic rhinosinusitis", "Bronchiolitis", "Pulmonary neoplasm",
    "Possible NSTEMI / STEMI", "Sarcoidosis", "Pancreatic neoplasm", "Acute pulmonary edema", "Pericarditis",
)  # fmt: skip


def _ddx_books(rng: np.random.Generator, words: Words) -> tuple[dict, dict, dict]:
    """release_evidences.json, release_conditions.json and, per condition, its (symptoms, antecedents)."""
    questions = words.texts(rng.integers(4, 11, size=DDX_EVIDENCES), sentence=(40, 40), content_only=False)
    meanings = words.phrase(DDX_EVIDENCES * 6, (1, 3))
    evidences: dict[str, dict] = {}
    for e in range(DDX_EVIDENCES):
        code, kind = f"E_{e}", rng.choice(["B", "C", "M"], p=[0.7, 0.18, 0.12])
        entry = {"name": code, "code_question": code, "question_fr": "", "question_en": questions[e].rstrip(".") + "?"}
        entry |= {"is_antecedent": bool(rng.random() < 0.25), "default_value": 0, "value_meaning": {}}
        entry |= {"possible-values": [], "data_type": str(kind)}
        if kind == "C" and rng.random() < 0.5:  # a numeric scale
            entry["possible-values"] = list(range(11))
        elif kind in ("C", "M"):
            values = [f"V_{e * 10 + k}" for k in range(int(rng.integers(3, 7)))]
            entry["value_meaning"] = {
                v: {"fr": "", "en": meanings[e * 6 + k]} for k, v in enumerate(values)
            }  # fmt: skip
            entry["possible-values"] = values
            entry["default_value"] = values[0]
        evidences[code] = entry
    conditions, links = {}, {}
    antecedent = [c for c, v in evidences.items() if v["is_antecedent"]]
    symptom = [c for c, v in evidences.items() if not v["is_antecedent"]]
    for k, name in enumerate(DDX_CONDITIONS):
        symptoms = [symptom[i] for i in rng.choice(len(symptom), size=22, replace=False)]
        antecedents = [antecedent[i] for i in rng.choice(len(antecedent), size=8, replace=False)]
        conditions[name] = {"condition_name": name, "cond-name-fr": name, "cond-name-eng": name}
        conditions[name] |= {"icd10-id": f"X{k:02d}", "symptoms": {s: {} for s in symptoms}}
        conditions[name] |= {"antecedents": {a: {} for a in antecedents}, "severity": int(rng.integers(1, 6))}
        links[name] = (symptoms, antecedents)
    return evidences, conditions, links


def ddxplus(folder: Path, scale: float, seed: int) -> Part:
    rng = np.random.default_rng([seed, 2, 1])
    words = Words(np.random.default_rng([seed, 2, 0]))
    evidences, conditions, links = _ddx_books(np.random.default_rng([seed, 2, 2]), words)
    part = Part()
    for name, data in (("release_evidences.json", evidences), ("release_conditions.json", conditions)):
        text = json.dumps(data, indent=4).encode()
        _atomic_bytes(folder / name, text)
        part.raw_bytes += len(text)
    names = list(DDX_CONDITIONS)
    prevalence = _zipf(len(names), 0.6)
    for split, real in DDX_SPLITS:
        n = _count(real, scale)
        part.records += n
        part.expected_records += n
        with _zip(folder / f"release_{split}_patients.zip", f"release_{split}_patients.csv") as sink:
            sink.write(csv_bytes([DDX_COLUMNS]))
            for _, count in _batches(n):
                pathologies = rng.choice(len(names), size=count, p=prevalence)
                rows = []
                for k in pathologies.tolist():
                    rows.append(_ddx_patient(rng, names, k, links, evidences))
                sink.write(csv_bytes(rows))
            part.raw_bytes += sink.bytes
    return part


def _ddx_patient(rng: np.random.Generator, names: list[str], k: int, links: dict, evidences: dict) -> list[object]:
    symptoms, antecedents = links[names[k]]
    chosen = [s for s, keep in zip(symptoms, rng.random(len(symptoms)) < 0.45, strict=True) if keep] or symptoms[:1]
    chosen += [a for a, keep in zip(antecedents, rng.random(len(antecedents)) < 0.3, strict=True) if keep]
    codes = []
    for code in chosen:
        entry = evidences[code]
        if entry["data_type"] == "B":
            codes.append(code)
        elif entry["value_meaning"]:
            values = entry["possible-values"]
            picks = 1 if entry["data_type"] == "C" else int(rng.integers(1, min(3, len(values) - 1) + 1))
            for v in rng.choice(len(values) - 1, size=picks, replace=False).tolist():
                codes.append(f"{code}_@_{values[v + 1]}")
        else:
            codes.append(f"{code}_@_{int(rng.integers(0, 11))}")
    others = rng.choice(len(names) - 1, size=int(rng.integers(2, 10)), replace=False)
    differential = [k, *[o + (o >= k) for o in others.tolist()]]
    probabilities = np.sort(rng.dirichlet(np.ones(len(differential))))[::-1]
    pairs = [[names[d], round(float(p), 4)] for d, p in zip(differential, probabilities.tolist(), strict=True)]
    binary = [c for c in codes if "_@_" not in c and not evidences[c]["is_antecedent"]]
    initial = binary[0] if binary else chosen[0]
    return [int(rng.integers(0, 96)), str(pairs), "MF"[int(rng.integers(0, 2))], names[k], str(codes), initial]


# --- PubMedQA ------------------------------------------------------------------------------------------------------

PUBMEDQA_FILES = (("ori_pqaa.json", 211_269, "artificial"), ("ori_pqau.json", 61_249, "unlabeled"))
PUBMEDQA_LABELLED = ("ori_pqal.json", 1_000, "labelled")
#: Words: question 14.4, context 238, long answer 41 (Jin et al. 2019, Table 2).
PUBMEDQA_WORDS = {"question": 14, "context": 238, "answer": 41}
SECTION_LABELS = (("BACKGROUND", "OBJECTIVE", "METHODS", "RESULTS"), ("BACKGROUND", "METHODS", "RESULTS"))


def pubmedqa(folder: Path, scale: float, seed: int) -> Part:
    rng = np.random.default_rng([seed, 3, 1])
    words = Words(np.random.default_rng([seed, 3, 0]))
    part = Part()
    pmid = 10_000_000
    for name, real, kind in (*PUBMEDQA_FILES, PUBMEDQA_LABELLED):
        n = _count(real, scale)
        part.records += n
        part.expected_records += (6 if kind != "unlabeled" else 5) * n - (n == 1)  # one mismatch pair per record
        with _plain(folder / name) as sink:
            sink.write(b"{")
            for start, count in _batches(n, sum(PUBMEDQA_WORDS.values())):
                q = words.texts(lognormal_lengths(rng, count, PUBMEDQA_WORDS["question"], 0.3))
                c = words.texts(lognormal_lengths(rng, count, PUBMEDQA_WORDS["context"], 0.35))
                a = words.texts(lognormal_lengths(rng, count, PUBMEDQA_WORDS["answer"], 0.4))
                meshes = words.phrase(count * 3, (1, 3))
                decisions = rng.choice(["yes", "no", "maybe"], size=count, p=[0.55, 0.33, 0.12])
                if kind == "artificial":
                    decisions = rng.choice(["yes", "no"], size=count, p=[0.92, 0.08])
                aims = rng.random(count) < 0.5
                chunks = []
                for j in range(count):
                    labels = SECTION_LABELS[0] if aims[j] else SECTION_LABELS[1]
                    contexts = _split_words(c[j], len(labels) - 1)
                    record = {
                        "QUESTION": q[j].rstrip(".") + "?",
                        "CONTEXTS": contexts,
                        "LABELS": list(labels[: len(contexts)]),
                        "MESHES": [m.title() for m in meshes[3 * j : 3 * j + 3]],
                        "YEAR": str(1990 + (start + j) % 30),
                        "reasoning_required_pred": str(decisions[j]),
                        "reasoning_free_pred": str(decisions[j]),
                    }
                    if kind != "unlabeled":
                        record["final_decision"] = str(decisions[j])
                    record["LONG_ANSWER"] = a[j]
                    sep = "" if start + j == 0 else ", "
                    chunks.append(f'{sep}"{pmid}": {json.dumps(record)}')
                    pmid += 1
                sink.write("".join(chunks).encode())
            sink.write(b"}")
        part.raw_bytes += sink.bytes
    return part


def _split_words(text: str, parts: int) -> list[str]:
    """`text` cut at sentence ends into at most `parts` non-empty pieces."""
    sentences = [s if s.endswith(".") else s + "." for s in text.split(". ")]
    size = max(1, -(-len(sentences) // parts))
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


# --- MedMCQA -------------------------------------------------------------------------------------------------------

MEDMCQA_FILES = (("train.json", 182_822, True), ("dev.json", 4_183, True), ("test.json", 6_150, False))
#: Words: question ~13, explanation ~66 (Pal et al. 2022), options 1-4 words.
MEDMCQA_WORDS = {"question": 13, "exp": 66}
SUBJECTS = ("Anatomy", "Physiology", "Biochemistry", "Pathology", "Pharmacology", "Microbiology", "Medicine", "Surgery")


def medmcqa(folder: Path, scale: float, seed: int) -> Part:
    rng = np.random.default_rng([seed, 4, 1])
    words = Words(np.random.default_rng([seed, 4, 0]))
    part = Part()
    for name, real, answered in MEDMCQA_FILES:
        n = _count(real, scale)
        part.records += n
        part.expected_records += 2 * n if answered else 0  # test.json has no answers and is not read
        with _plain(folder / name) as sink:
            for _, count in _batches(n):
                q = words.texts(lognormal_lengths(rng, count, MEDMCQA_WORDS["question"], 0.4))
                e = words.texts(lognormal_lengths(rng, count, MEDMCQA_WORDS["exp"], 0.6))
                options = words.phrase(count * 4, (1, 4))
                lines = []
                for j in range(count):
                    opts = _distinct(options[4 * j : 4 * j + 4], j)
                    row = {"question": q[j].rstrip(".") + ":", "exp": e[j] if answered else None}
                    row["cop"] = int(rng.integers(1, 5)) if answered else None
                    row |= dict(zip(("opa", "opb", "opc", "opd"), opts, strict=True))
                    row |= {"subject_name": SUBJECTS[j % len(SUBJECTS)], "topic_name": None}
                    row |= {"id": str(uuid.UUID(bytes=rng.bytes(16), version=4)), "choice_type": "single"}
                    if not answered:
                        del row["cop"], row["exp"]
                    lines.append(json.dumps(row) + "\n")
                sink.write("".join(lines).encode())
        part.raw_bytes += sink.bytes
    return part


def _distinct(options: list[str], salt: int) -> list[str]:
    seen: set[str] = set()
    out = []
    for k, option in enumerate(options):
        while option in seen:
            option = f"{option} {k + salt % 7}"
        seen.add(option)
        out.append(option)
    return out


# --- PMC-Patients --------------------------------------------------------------------------------------------------

PMC_PATIENTS = 167_034
#: Words: patient summary ~410, title ~13 (Zhao et al. 2023). About 1.2 patients per article; 40 % of patients
#: have similar patients (1-2, in other articles of the training split).
PMC_WORDS = {"patient": 410, "title": 13}


def pmc_patients(folder: Path, scale: float, seed: int) -> Part:
    rng = np.random.default_rng([seed, 5, 1])
    words = Words(np.random.default_rng([seed, 5, 0]))
    n = _count(PMC_PATIENTS, scale)
    # Patients -> articles: runs of 1 or 2 patients share a PMID; articles split 80/10/10 by position.
    new_article = rng.random(n) < 0.83
    new_article[0] = True
    article = np.cumsum(new_article) - 1
    n_articles = int(article[-1]) + 1
    split_of = np.where(np.arange(n_articles) % 10 == 8, 1, np.where(np.arange(n_articles) % 10 == 9, 2, 0))
    train = np.flatnonzero(split_of[article] == 0)
    part = Part(records=n, expected_records=2 * n)
    with _plain(folder / "PMC-Patients.json") as sink:
        sink.write(b"[")
        for start, count in _batches(n, sum(PMC_WORDS.values())):
            texts = words.texts(lognormal_lengths(rng, count, PMC_WORDS["patient"], 0.5))
            titles = words.texts(lognormal_lengths(rng, count, PMC_WORDS["title"], 0.3))
            ages = rng.integers(1, 95, size=count)
            lines = []
            for j in range(count):
                i = start + j
                pmid, uid = 30_000_000 + int(article[i]), None
                uid = f"{pmid}-{i - int(np.searchsorted(article, article[i])) + 1}"
                similar = {}
                if len(train) > 2 and rng.random() < 0.4:
                    for other in rng.choice(train, size=int(rng.integers(1, 3)), replace=False).tolist():
                        if article[other] != article[i]:
                            other_pmid = 30_000_000 + int(article[other])
                            other_uid = f"{other_pmid}-{other - int(np.searchsorted(article, article[other])) + 1}"
                            similar[other_uid] = int(rng.integers(1, 3))
                if similar:
                    part.expected_records += 1
                row = {"patient_id": str(i), "patient_uid": uid, "PMID": str(pmid)}
                row |= {"file_path": f"comm/PMC{pmid % 1000:03d}/PMC{pmid}.xml", "title": titles[j].rstrip(".")}
                row |= {"patient": f"A {ages[j]}-year-old patient. {texts[j]}", "age": [[float(ages[j]), "year"]]}
                row |= {"gender": "MF"[i % 2], "relevant_articles": {}, "similar_patients": similar}
                lines.append(("," if i else "") + json.dumps(row))
            sink.write("\n".join(lines).encode())
        sink.write(b"]")
    part.raw_bytes += sink.bytes
    for name, code in (("train", 0), ("dev", 1), ("test", 2)):
        pmids = [str(30_000_000 + a) for a in np.flatnonzero(split_of == code).tolist()]
        text = json.dumps(pmids).encode()
        _atomic_bytes(folder / f"{name}_PMIDs.json", text)
        part.raw_bytes += len(text)
    return part


# --- MIMIC-IV-ED benchmark ----------------------------------------------------------------------------------------

MIMIC4ED_STAYS = 441_437
MIMIC4ED_TEST_SHARE = 0.2
#: Vital signs: (column, mean, sd, decimals) around adult ED values.
VITALS = (
    ("temperature", 36.8, 0.5, 14),
    ("heartrate", 88, 18, 1),
    ("resprate", 18, 3, 1),
    ("o2sat", 97.5, 2.0, 1),
    ("sbp", 135, 22, 1),
    ("dbp", 78, 14, 1),
)
COMPLAINTS = ("chest pain", "abdominal pain", "headache", "dyspnea", "back pain", "cough", "nausea", "fever",
              "syncope", "dizziness", "fall", "weakness", "rash", "leg swelling", "confusion")  # fmt: skip


def mimic4ed(folder: Path, scale: float, seed: int) -> Part:
    """train.csv / test.csv of the benchmark's data_general_processing.py: the sample's 124 columns, each stay
    with its own history, vitals, complaints, comorbidities and outcomes (prevalences of the benchmark paper:
    hospitalization ~45 %, critical ~6 %, 3-day revisit ~3 %)."""
    rng = np.random.default_rng([seed, 6, 1])
    with open(ROOT / "data" / "samples" / "mimic4ed" / "train.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    n = _count(MIMIC4ED_STAYS, scale)
    n_test = max(1, round(n * MIMIC4ED_TEST_SHARE)) if n > 1 else 0
    part = Part(records=n)
    flags = [c for c in header if c.startswith(("cci_", "eci_"))]
    complaints = [c for c in header if c.startswith("chiefcom_")]
    for name, start, count in (("train.csv", 0, n - n_test), ("test.csv", n - n_test, n_test)):
        with _plain(folder / name) as sink:
            sink.write(csv_bytes([header]))
            for offset, size in _batches(count):
                rows = []
                for i in range(start + offset, start + offset + size):
                    row = _ed_stay(rng, i, flags, complaints)
                    part.expected_records += 2 if row["outcome_hospitalization"] == "True" else 3
                    rows.append([row.get(c, "") for c in header])
                sink.write(csv_bytes(rows))
            part.raw_bytes += sink.bytes
    return part


def _ed_stay(rng: np.random.Generator, i: int, flags: list[str], complaints: list[str]) -> dict[str, str]:
    age = int(rng.integers(18, 96))
    hospitalized = bool(rng.random() < 0.45)
    critical = hospitalized and bool(rng.random() < 0.13)
    revisit = not hospitalized and bool(rng.random() < 0.05)
    los = float(rng.gamma(2.0, 3.0))
    row = {
        "index": str(i),
        "subject_id": str(10_000_000 + i // 3),
        "hadm_id": f"{20_000_000 + i}.0" if hospitalized else "",
        "stay_id": str(30_000_000 + i),
        "anchor_age": str(age - 1),
        "gender": "MF"[int(rng.integers(0, 2))],
        "age": str(age),
        "ethnicity": ("WHITE", "BLACK/AFRICAN AMERICAN", "HISPANIC/LATINO", "ASIAN", "OTHER")[int(rng.integers(0, 5))],
        "outcome_hospitalization": str(hospitalized),
        "outcome_critical": str(critical),
        "outcome_inhospital_mortality": str(critical and bool(rng.random() < 0.3)),
        "outcome_icu_transfer_12h": str(critical),
        "outcome_ed_revisit_3d": str(revisit),
        "ed_los": f"0 days {int(los):02d}:{int(los * 60) % 60:02d}:00",
        "ed_los_hours": f"{los:.2f}",
        "triage_pain": f"{int(rng.integers(0, 11))}.0",
        "triage_acuity": f"{int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.35, 0.5, 0.08, 0.02]))}.0",
        "chiefcomplaint": ", ".join(rng.choice(COMPLAINTS, size=int(rng.integers(1, 3)), replace=False).tolist()),
        "n_med": f"{int(rng.poisson(2))}.0",
        "n_medrecon": f"{int(rng.poisson(4))}.0",
    }
    for window, mean in (("30d", 0.2), ("90d", 0.5), ("365d", 1.2)):
        for kind, scale_ in (("ed", 1.0), ("hosp", 0.6), ("icu", 0.1)):
            row[f"n_{kind}_{window}"] = str(int(rng.poisson(mean * scale_)))
    for name, mean, sd, decimals in VITALS:
        for prefix, shift in (("triage", 0.0), ("ed", -0.1)):
            value = rng.normal(mean + shift * sd, sd)
            row[f"{prefix}_{name}{'_last' if prefix == 'ed' else ''}"] = (
                repr(round(float(value), decimals)) if decimals > 1 else f"{round(float(value))}.0"
            )
    for column in complaints:
        row[column] = str(bool(rng.random() < 0.1))
    for column in flags:
        row[column] = str(int(rng.random() < 0.08))
    return row


# --- the other sources: expanded samples ---------------------------------------------------------------------------


def sample_counts(source_id: str) -> tuple[int, int]:
    """(raw units, records) of the bundled sample: distinct record groups (the abstract, the patient, the
    question: what SOURCES counts) and the records the converter yields."""
    from pipeline.model import Record, detect_form
    from pipeline.registry import get

    conv = get(source_id)
    files = detect_form(conv.source, ROOT / "data" / "samples" / source_id)
    groups, records = set(), 0
    for item in conv.generate(files):
        if isinstance(item, Record):
            records += 1
            groups.add(item.group or item.key)
    return max(1, len(groups)), records


def expanded(source_id: str) -> Callable[[Path, float, int], Part]:
    def generate(folder: Path, scale: float, seed: int) -> Part:
        from expand_sample import expand

        units, records = sample_counts(source_id)
        copies = max(1, round(SOURCES[source_id].records * scale / units))
        expand(source_id, folder, copies)
        return Part(records=copies * units, expected_records=copies * records, exact=False, copies=copies)

    return generate


#: Dedicated generators; each part writes its own files (parts of one source run in parallel).
DEDICATED: dict[str, tuple[Callable[[Path, float, int], Part], ...]] = {
    "mimic_iv": (mimic_radiology, mimic_discharge),
    "ddxplus": (ddxplus,),
    "pubmedqa": (pubmedqa,),
    "medmcqa": (medmcqa,),
    "pmc_patients": (pmc_patients,),
    "mimic4ed": (mimic4ed,),
}


def parts_of(source_id: str) -> tuple[Callable[[Path, float, int], Part], ...]:
    return DEDICATED.get(source_id) or (expanded(source_id),)


# --- files ---------------------------------------------------------------------------------------------------------


class _Sink:
    """Context manager: a Counted binary handle on a temporary file, renamed to `path` on success."""

    def __init__(self, path: Path, opener: Callable):
        self.path, self.opener = path, opener
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.bytes = 0

    def __enter__(self) -> Counted:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.opener(self.tmp)
        self._counted = Counted(self._handle)
        return self._counted

    def __exit__(self, kind, value, traceback) -> None:
        self.bytes = self._counted.bytes
        self._handle.close()
        if kind is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


class _ZipMember:
    def __init__(self, path: Path):
        self.archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def open(self, member: str):
        self.member = self.archive.open(member, "w", force_zip64=True)
        return self

    def write(self, data: bytes) -> None:
        self.member.write(data)

    def close(self) -> None:
        self.member.close()
        self.archive.close()


def _gzip(path: Path) -> _Sink:
    return _Sink(path, lambda tmp: gzip.open(tmp, "wb", compresslevel=1))


def _plain(path: Path) -> _Sink:
    return _Sink(path, lambda tmp: open(tmp, "wb", buffering=1 << 20))


def _zip(path: Path, member: str) -> _Sink:
    return _Sink(path, lambda tmp: _ZipMember(tmp).open(member))


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def uncompressed_bytes(folder: Path) -> int:
    """Bytes of the files as their readers see them: gzip and zip members decompressed."""
    total = 0
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                while chunk := f.read(1 << 22):
                    total += len(chunk)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                total += sum(i.file_size for i in archive.infolist())
        else:
            total += path.stat().st_size
    return total


# --- driver --------------------------------------------------------------------------------------------------------


def _run_part(job: tuple[str, int, str, float, int]) -> tuple[str, dict]:
    source_id, index, folder, scale, seed = job
    started = time.perf_counter()
    part = parts_of(source_id)[index](Path(folder), scale, seed)
    return source_id, part.__dict__ | {"seconds": time.perf_counter() - started}


def generate(out: Path, scale: float, seed: int = 0, sources: list[str] | None = None, jobs: int = 1) -> dict:
    """Write the corpora of `sources` (default: every source of SOURCES) under `out`; returns the manifest."""
    out = Path(out)
    (out / META).mkdir(parents=True, exist_ok=True)
    wanted = sources or list(SOURCES)
    unknown = [s for s in wanted if s not in SOURCES]
    if unknown:
        raise SystemExit(f"unknown sources {unknown}; known: {', '.join(SOURCES)}")
    params = {"scale": scale, "seed": seed, "version": VERSION}

    def params_of(source_id: str) -> dict:
        return params if source_id in DEDICATED else params | {"expand_version": EXPAND_VERSION}

    todo = []
    for source_id in wanted:
        meta = out / META / f"{source_id}.json"
        done = (out / source_id).is_dir() and meta.is_file()
        if done and json.loads(meta.read_text()).get("params") == params_of(source_id):
            continue
        shutil.rmtree(out / source_id, ignore_errors=True)
        staging = out / META / f"{source_id}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        todo += [(source_id, i, str(staging), scale, seed) for i in range(len(parts_of(source_id)))]
    # Biggest first, so the long parts start early.
    todo.sort(key=lambda job: -SOURCES[job[0]].records / len(parts_of(job[0])))
    results: dict[str, list[dict]] = {}
    if jobs > 1 and len(todo) > 1:
        with ProcessPoolExecutor(jobs) as pool:
            for source_id, result in pool.map(_run_part, todo):
                results.setdefault(source_id, []).append(result)
    else:
        for job in todo:
            source_id, result = _run_part(job)
            results.setdefault(source_id, []).append(result)
    for source_id, parts in results.items():
        staging = out / META / f"{source_id}.partial"
        entry = {
            "params": params_of(source_id),
            "generator": "dedicated" if source_id in DEDICATED else "expand_sample",
            "records": sum(p["records"] for p in parts),
            "expected_records": sum(p["expected_records"] for p in parts),
            "exact": all(p["exact"] for p in parts),
            "copies": sum(p["copies"] for p in parts),
            "raw_bytes": sum(p["raw_bytes"] for p in parts) if source_id in DEDICATED else uncompressed_bytes(staging),
            "disk_bytes": disk_bytes(staging),
            "seconds": round(sum(p["seconds"] for p in parts), 2),
        }
        staging.replace(out / source_id)
        _atomic_bytes(out / META / f"{source_id}.json", json.dumps(entry, indent=2).encode())
    manifest = {"params": params, "sources": {}}
    for source_id in sorted(SOURCES):
        meta = out / META / f"{source_id}.json"
        if meta.is_file() and (out / source_id).is_dir():
            entry = json.loads(meta.read_text())
            if entry["params"] == params_of(source_id):
                manifest["sources"][source_id] = {k: v for k, v in entry.items() if k != "params"}
    _atomic_bytes(out / "corpora.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, required=True, help="1.0 = the real corpora's record counts")
    parser.add_argument("--out", type=Path, required=True, help="root folder; one sub-folder per source")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", nargs="+", help="default: every source")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    started = time.perf_counter()
    manifest = generate(args.out, args.scale, args.seed, args.sources, args.jobs)
    total = manifest["sources"]
    print(f"{len(total)} sources in {args.out} ({time.perf_counter() - started:.0f}s)")
    print("| source | generator | raw records | expected records | raw MB | disk MB |")
    print("|---|---|---|---|---|---|")
    for source_id, e in total.items():
        print(
            f"| {source_id} | {e['generator']} | {e['records']:,} | {e['expected_records']:,}"
            f"{'' if e['exact'] else ' (est.)'} | {e['raw_bytes'] / 1e6:,.1f} | {e['disk_bytes'] / 1e6:,.1f} |"
        )


if __name__ == "__main__":
    main()
