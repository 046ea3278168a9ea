"""MIMIC-IV-Note 2.2 (Johnson et al., PhysioNet 2023): de-identified radiology reports and discharge summaries,
distributed as `note/radiology.csv.gz` and `note/discharge.csv.gz` with columns note_id, subject_id, hadm_id,
note_type, note_seq, charttime, storetime, text (`text` is a multi-line quoted field; PHI is replaced by `___`).

Radiology reports become findings -> impression summarization tasks (per modality, and per anatomy for CT and
MRI) and modality / anatomy classification; both labels come from the exam name (first line of the EXAMINATION
section) through the ordered token rule tables below. Discharge summaries become "complete the Discharge
Instructions" tasks. Both files stream row by row: the corpus is never held in memory.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline import forms
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="mimic_iv",
    name="MIMIC-IV-Note",
    homepage="https://physionet.org/content/mimic-iv-note/2.2/",
    license="PhysioNet Credentialed Health Data License 1.5.0",
    access="credentialed",
    citation=(
        "Johnson, A., Pollard, T., Horng, S., Celi, L. A. and Mark, R. (2023). MIMIC-IV-Note: Deidentified "
        "free-text clinical notes (version 2.2). PhysioNet. https://doi.org/10.13026/1n74-ne17"
    ),
    obtain=(
        "Create a PhysioNet account, become a credentialed user (identity check and the CITI 'Data or Specimens "
        "Only Research' course), then sign the data use agreement on "
        "https://physionet.org/content/mimic-iv-note/2.2/ and download note/radiology.csv.gz and/or "
        "note/discharge.csv.gz. Place them in the raw folder as note/<file> or directly in it; decompressed "
        ".csv copies are accepted too. The *_detail files are not needed."
    ),
    version="2.2",
    forms=(
        RawForm(
            "note",
            (
                RawFile(
                    "radiology",
                    ("note/radiology.csv.gz", "note/radiology.csv", "radiology.csv.gz", "radiology.csv"),
                    required=False,
                    description="radiology reports (note_type RR) and addenda (AR)",
                ),
                RawFile(
                    "discharge",
                    ("note/discharge.csv.gz", "note/discharge.csv", "discharge.csv.gz", "discharge.csv"),
                    required=False,
                    description="discharge summaries (note_type DS)",
                ),
            ),
            "the PhysioNet release (at least one of the two files)",
        ),
    ),
)

CT_MRI = ("CT", "MRI")
SUMMARIZED_MODALITIES = ("Ultrasound", "Angiography", "Pathology", "Mammogram", "Fluoroscopy")
REGIONS = ("Chest", "Head and neck", "Brain", "Abdomen", "Pelvis", "Spine")
MODALITIES = ("X-ray", "CT", "MRI", "Ultrasound", "Angiography", "Mammogram", "Pathology", "Fluoroscopy")
DISCHARGE_TASK = "mimic_iv_discharge_instruction_completion"
MODALITY_TASK = "mimic_iv_modality_classification"
ANATOMY_TASK = "mimic_iv_anatomy_classification"


def _slug(label: str) -> str:
    return label.lower().replace(" ", "_")


def summarization_task(modality: str, region: str | None = None) -> str:
    return f"mimic_iv_{_slug(modality)}{'_' + _slug(region) if region else ''}_summarization"


TASKS = (
    Task(DISCHARGE_TASK, "Text Completion", "Clinical Text", tags=("Discharge Summary", "Discharge Instructions")),
    *(
        Task(summarization_task(m), "Text Summarization", "Clinical Text", ("Radiology", m), several_outputs=True)
        for m in SUMMARIZED_MODALITIES
    ),
    *(
        Task(summarization_task(m, r), "Text Summarization", "Clinical Text", ("Radiology", m, r), several_outputs=True)
        for m in CT_MRI
        for r in REGIONS
    ),
    Task(MODALITY_TASK, "Text Classification", "Clinical Text", ("Radiology", "Imaging Modality"), labels=MODALITIES),
    Task(
        ANATOMY_TASK, "Text Classification", "Clinical Text", ("Radiology", "Anatomy"), labels=REGIONS, multi_label=True
    ),
)

#: The two files feed disjoint tasks, so the build converts them in two processes (pipeline.registry).
PARTS = {"radiology": tuple(t.id for t in TASKS if t.id != DISCHARGE_TASK), "discharge": (DISCHARGE_TASK,)}

# --- exam name -> modality and regions -------------------------------------------------------------------------
# Patterns are whole word tokens of the upper-cased exam name, split on anything not a letter or digit (so
# `C-SPINE` is `C SPINE`, `W&W/O` is `W W O`); a space-separated pattern is a phrase, `*` ends a prefix pattern.

#: One primary modality per report: the first row with a matching pattern wins (CTA is angiography, not CT).
#: The None row comes first because MedS-Ins has no nuclear medicine class and `PET-CT` must not pass for a CT.
MODALITY_RULES: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("PET", "NM", "NUCLEAR", "SCINTIGRAPHY", "SPECT")),
    ("Angiography", ("CTA", "MRA", "MRV", "CTV", "ANGIO*", "ARTERIOGRAM", "ARTERIOGRAPHY", "AORTOGRAM", "VENOGRAM",
                     "VENOGRAPHY")),
    ("CT", ("CT", "CAT SCAN", "COMPUTED TOMOGRAPHY")),
    ("MRI", ("MR", "MRI", "MRCP", "MAGNETIC RESONANCE")),
    ("Mammogram", ("MAMMO*", "TOMOSYNTHESIS")),
    ("Ultrasound", ("US", "ULTRASOUND", "SONO*", "DUPLEX", "DOPPLER", "TRANSVAGINAL")),
    ("Fluoroscopy", ("FLUORO*", "ESOPHAGRAM", "ESOPHAGOGRAM", "BARIUM", "SWALLOW", "UGI", "UPPER GI", "SBFT",
                     "SMALL BOWEL FOLLOW", "ENEMA", "VCUG", "CYSTOGRAM", "HYSTEROSALPINGOGRAM", "MYELOGRAM",
                     "ARTHROGRAM")),
    # MIMIC-IV-Note has no pathology reports; the only radiology about pathology material is specimen imaging
    # (e.g. `BREAST SPECIMEN RADIOGRAPH`), which is what the catalogue's pathology task can honestly hold.
    ("Pathology", ("SPECIMEN", "SPECIMENS", "PATHOLOGY")),
    ("X-ray", ("XR", "X RAY", "RADIOGRAPH*", "PA", "AP", "LAT", "LATERAL", "VIEW", "VIEWS", "PORTABLE", "SUPINE",
               "ERECT", "UPRIGHT", "OBLIQUE", "OBLIQUES", "OBL", "DECUBITUS", "KUB", "FILM", "FILMS")),
)  # fmt: skip

#: Regions in reading order of the exam name; at each position the longest matching phrase wins, so
#: `THORACIC SPINE` is spine before `THORACIC` can make it chest.
REGION_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Brain", ("HEAD", "BRAIN", "SELLA", "PITUITARY", "IAC", "IACS")),
    ("Head and neck", ("NECK", "SOFT TISSUE NECK", "FACE", "FACIAL", "MAXILLOFACIAL", "SINUS", "SINUSES", "ORBIT",
                       "ORBITS", "TEMPORAL BONE", "TEMPORAL BONES", "MANDIBLE", "THYROID", "PAROTID", "CAROTID",
                       "CAROTIDS")),
    ("Spine", ("SPINE", "SPINAL", "CERVICAL", "THORACIC SPINE", "LUMBAR", "LUMBOSACRAL", "SACRUM", "SACRAL", "COCCYX")),
    ("Chest", ("CHEST", "THORAX", "THORACIC", "LUNG", "LUNGS", "RIB", "RIBS", "CARDIAC", "HEART")),
    ("Abdomen", ("ABD", "ABDOMEN", "ABDOMINAL", "LIVER", "HEPATIC", "RENAL", "KIDNEY", "KIDNEYS", "PANCREAS",
                 "PANCREATIC", "SPLEEN", "GALLBLADDER", "BILIARY", "RUQ", "MRCP", "ENTEROGRAPHY", "KUB", "BOWEL",
                 "APPENDIX")),
    ("Pelvis", ("PELVIS", "PELVIC", "PROSTATE", "BLADDER", "UTERUS", "OVARY", "OVARIES", "TRANSVAGINAL", "SCROTUM",
                "SCROTAL", "TESTICULAR", "RECTUM")),
)  # fmt: skip


def exam_tokens(exam_name: str) -> list[str]:
    return re.findall(r"[A-Z0-9]+", re.sub(r"\bU\.S\.", "US", exam_name.upper()))


def _phrase(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split())


def _matches_at(tokens: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    window = tokens[i : i + len(phrase)]
    if len(window) < len(phrase):
        return False
    return all(t.startswith(p[:-1]) if p.endswith("*") else t == p for t, p in zip(window, phrase, strict=True))


_MODALITY_PHRASES = [(modality, [_phrase(p) for p in patterns]) for modality, patterns in MODALITY_RULES]
_REGION_PHRASES = sorted(  # longest first, so a phrase beats the single words inside it
    ((_phrase(p), region) for region, patterns in REGION_RULES for p in patterns), key=lambda pr: -len(pr[0])
)


@lru_cache(maxsize=1 << 16)  # a few thousand distinct exam names cover millions of reports
def modality_of(exam_name: str) -> str | None:
    """The primary modality of an exam name, or None when no rule matches."""
    tokens = exam_tokens(exam_name)
    for modality, phrases in _MODALITY_PHRASES:
        if any(_matches_at(tokens, i, ph) for ph in phrases for i in range(len(tokens))):
            return modality
    return None


def regions_of(exam_name: str) -> list[str]:
    """The anatomical regions an exam name names, in reading order, without repeats; the first is primary."""
    return list(_regions(exam_name))


@lru_cache(maxsize=1 << 16)
def _regions(exam_name: str) -> tuple[str, ...]:
    tokens, found, i = exam_tokens(exam_name), [], 0
    while i < len(tokens):
        hit = next(((ph, region) for ph, region in _REGION_PHRASES if _matches_at(tokens, i, ph)), None)
        if hit and hit[1] not in found:
            found.append(hit[1])
        i += len(hit[0]) if hit else 1
    return tuple(found)


# --- radiology report sections -----------------------------------------------------------------------------------

#: Top-level headers (upper case, at a line start, then a colon). Anything else in capitals with a colon, such as
#: the organ sub-headings `LIVER:` or `BONES:` of a CT report, stays inside the section it appears in.
RADIOLOGY_HEADERS = (
    "EXAMINATION", "EXAM", "INDICATION", "CLINICAL INDICATION", "HISTORY", "CLINICAL HISTORY", "CLINICAL INFORMATION",
    "REASON FOR EXAM", "REASON FOR EXAMINATION", "TECHNIQUE", "PROCEDURE", "PROCEDURE DETAILS", "OPERATORS",
    "ANESTHESIA", "MEDICATIONS", "CONTRAST", "COMPARISON", "COMPARISONS", "DOSE", "FINDINGS", "FINDING", "IMPRESSION",
    "IMPRESSIONS", "CONCLUSION", "CONCLUSIONS", "NOTIFICATION", "RECOMMENDATION", "RECOMMENDATIONS",
    "RECOMMENDATION(S)", "ADDENDUM", "WET READ", "FINAL REPORT", "PROVISIONAL FINDINGS IMPRESSION (PFI)",
)  # fmt: skip
SYNONYMS = {"EXAM": "EXAMINATION", "FINDING": "FINDINGS", "IMPRESSIONS": "IMPRESSION"}
_HEADER = re.compile(
    r"^[ \t]*(?:(?P<name>" + "|".join(re.escape(h) for h in sorted(RADIOLOGY_HEADERS, key=len, reverse=True)) + r")"
    r"[ \t]*:|(?P<bare>FINAL REPORT)[ \t]*$)",  # MIMIC-CXR-style reports put FINAL REPORT alone on its line
    re.M,
)


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines, keeping the text (and `___`) otherwise as is."""
    lines = text.replace("\r\n", "\n").split("\n")
    text = "\n".join([line.rstrip(" \t") for line in lines])  # (str methods: several times faster than re.sub)
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def section_spans(report: str) -> dict[str, tuple[int, int]]:
    """Section name -> (start, end) of its untidied body; the first of repeats wins."""
    heads = list(_HEADER.finditer(report))
    found: dict[str, tuple[int, int]] = {}
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        name = head["name"] or head["bare"]
        found.setdefault(SYNONYMS.get(name, name), (head.end(), nxt.start() if nxt else len(report)))
    return found


def sections(report: str) -> dict[str, str]:
    """Section name -> tidied body; a body ends where the next top-level header begins; the first of repeats wins."""
    return {name: tidy(report[start:end]) for name, (start, end) in section_spans(report).items()}


# --- discharge summaries -------------------------------------------------------------------------------------------

_INSTRUCTIONS = re.compile(r"^[ \t]*Discharge Instructions[ \t]*:", re.M | re.I)
_AFTER_INSTRUCTIONS = re.compile(
    r"^[ \t]*(?:Follow[- ]?up Instructions|Discharge (?:Medications|Disposition|Diagnos[ie]s|Condition)|Facility)"
    r"[ \t]*:",
    re.M | re.I,
)


def split_instructions(note: str) -> tuple[str, str] | None:
    """(text before the Discharge Instructions header, the section with its header), or None when absent."""
    start = _INSTRUCTIONS.search(note)
    if not start:
        return None
    end = _AFTER_INSTRUCTIONS.search(note, start.end())
    return tidy(note[: start.start()]), tidy(note[start.start() : end.start() if end else len(note)])


# --- reading the CSV files -----------------------------------------------------------------------------------------

COLUMNS = ("note_id", "subject_id", "note_type", "text")
_NOTE_ID = re.compile(r"(\d+)-([A-Z]{2})-(\d+)")


@dataclass(frozen=True, slots=True)
class Note:
    """One well-formed row, with what every Record or Rejection made from it needs."""

    raw_file: str
    locator: str
    note_id: str
    group: str
    note_type: str
    text: str

    def record(self, task_id: str, input_text: str, output_text: str) -> Record:
        return Record(task_id, self.note_id, input_text, output_text, self.raw_file, self.locator, group=self.group)

    def reject(self, reason: str, task_id: str | None = None, value: str | None = None) -> Rejection:
        return Rejection(reason, self.raw_file, self.locator, task_id, value)


def _rows(path: Path, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line number, row) for every row, streamed; notes are far longer than csv's default field limit."""
    csv.field_size_limit(2**31 - 1)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)  # (a list per row and a dict of the four columns read: DictReader builds more)
        header = next(reader, [])
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{name}: lacks columns {missing}; header is {header or None}")
        where = [(c, header.index(c)) for c in COLUMNS]
        start = reader.line_num + 1
        for cells in reader:
            if cells:  # (DictReader skips empty rows too)
                yield start, {c: cells[i] if i < len(cells) else "" for c, i in where}
            start = reader.line_num + 1


def _notes(files: RawFiles, kind: str) -> Iterator[Note | Rejection]:
    """The rows of every file found for `kind`, as Notes, or as Rejections when note_id or text is unusable."""
    for path in files.paths(kind):
        name = files.relative(path)
        for line, row in _rows(path, name):
            note_id, text = row["note_id"].strip(), row["text"] or ""
            locator = f"note_id={note_id or '?'} (line {line})"
            parsed = _NOTE_ID.fullmatch(note_id)
            if not parsed:
                yield Rejection("missing note_id" if not note_id else "malformed note_id", name, locator, value=note_id)
            elif not text.strip():
                yield Rejection("empty text", name, locator)
            else:
                group = row["subject_id"].strip() or parsed[1]
                yield Note(name, locator, note_id, group, row["note_type"].strip() or parsed[2], text)


def generate(files: RawFiles) -> Iterator[Item]:
    for kind, convert in (("radiology", _radiology), ("discharge", _discharge)):
        for note in _notes(files, kind):
            yield from [note] if isinstance(note, Rejection) else convert(note)


def _radiology(note: Note) -> Iterator[Item]:
    if note.note_type == "AR":
        yield note.reject("addendum (note_type AR), not a report")
        return
    spans, parts = section_spans(note.text), {}
    for needed in ("FINDINGS", "IMPRESSION", "EXAMINATION"):  # only these are tidied
        if needed in spans:
            parts[needed] = tidy(note.text[slice(*spans[needed])])
        if not parts.get(needed):
            yield note.reject(f"{'empty' if needed in spans else 'no'} {needed} section")
            return
    exam = parts["EXAMINATION"].splitlines()[0].strip()
    modality, regions = modality_of(exam), regions_of(exam)
    if modality is None:
        yield note.reject("exam name matches no modality rule", value=exam)
        return
    findings, impression = parts["FINDINGS"], parts["IMPRESSION"]
    if modality in SUMMARIZED_MODALITIES:
        yield note.record(summarization_task(modality), findings, impression)
    elif modality in CT_MRI and regions:  # the first region named is the primary one
        yield note.record(summarization_task(modality, regions[0]), findings, impression)
    both = f"FINDINGS: {findings}\n\nIMPRESSION: {impression}"
    yield note.record(MODALITY_TASK, both, forms.label(modality, MODALITIES))
    if regions:
        yield note.record(ANATOMY_TASK, both, forms.labels(regions, REGIONS))


def _discharge(note: Note) -> Iterator[Item]:
    split = split_instructions(note.text)
    if split is None:
        yield note.reject("no Discharge Instructions section", DISCHARGE_TASK)
    elif not _INSTRUCTIONS.sub("", split[1]).strip():
        yield note.reject("empty Discharge Instructions section", DISCHARGE_TASK)
    elif not split[0]:
        yield note.reject("no text before the Discharge Instructions section", DISCHARGE_TASK)
    else:
        yield note.record(DISCHARGE_TASK, *split)
