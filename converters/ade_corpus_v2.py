"""ADE Corpus V2 (Gurulingappa et al., J Biomed Inform 2012): sentences of MEDLINE case reports annotated with
drugs, their adverse effects and their doses.

Read as the corpus is distributed (ADE-Corpus-V2/, LF line endings, no header, UTF-8):
- `DRUG-AE.rel`, pipe-delimited: PMID | sentence | adverse effect | begin | end | drug | begin | end;
- `DRUG-DOSE.rel`: the same with the dose in place of the adverse effect;
- `ADE-NEG.txt`: `PMID NEG sentence`, the sentences that mention no drug-related adverse effect.
Offsets are document-level (PMID, title and abstract as annotated), so they are used to order mentions within a
sentence, and checked only for consistency: a relation whose mention is not in its sentence or whose offsets do
not span the mention is quarantined, and so is every instance of that sentence it would have made incomplete.
A sentence is identified by (PMID, text); the relation files are small (6,821 + 279 lines) and are indexed by
sentence in memory, so a sentence's relations are merged wherever they appear; ADE-NEG.txt is streamed.

Tasks (no official split; every instance is grouped on its PMID, so one abstract stays in one split):
- ade_drug_extraction: input = a sentence of DRUG-AE.rel or DRUG-DOSE.rel; output = the drugs of its relations, in
  text order, via `forms.entities`. The corpus annotates a drug only as part of an adverse-effect or dose relation,
  so a drug outside any relation is not listed (the seeds ask for exactly these); ADE-NEG sentences are not used.
- ade_drug_dose_extraction: input = `forms.fields(sentence=..., drug=...)` for each drug of DRUG-DOSE.rel;
  output = its dose(s) in the sentence, in text order, via `forms.entities`.
- ade_adverse_event_classification: input = a sentence; output = "adverse drug event" for the sentences of
  DRUG-AE.rel, "non-adverse drug event" for those of ADE-NEG.txt. A sentence listed in both is quarantined from
  the negatives; a repeated ADE-NEG line is quarantined as a repeat.
Keys are `<PMID>-<hash of the sentence>` (plus a hash of the drug for doses): the corpus has no sentence ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_DIRS = ("", "ADE-Corpus-V2/")

SOURCE = Source(
    id="ade_corpus_v2",
    name="ADE Corpus V2",
    homepage="https://sites.google.com/site/adecorpus/",
    license="unspecified (research use; sentences from MEDLINE case reports)",
    access="open",
    citation=(
        "Gurulingappa, H., Rajput, A. M., Roberts, A., Fluck, J., Hofmann-Apitius, M. and Toldo, L. (2012). "
        "Development of a benchmark corpus to support the automatic extraction of drug-related adverse effects "
        "from medical case reports. Journal of Biomedical Informatics 45(5): 885-892."
    ),
    obtain=(
        "Download ADE-Corpus-V2 (DRUG-AE.rel, DRUG-DOSE.rel, ADE-NEG.txt) from "
        "https://sites.google.com/site/adecorpus/ or a mirror of it such as the ADE-Corpus-V2/ folder of "
        "https://github.com/trunghlt/AdverseDrugReaction, and place the files (or that folder) in the raw folder."
    ),
    version="V2",
    forms=(
        RawForm(
            "original",
            (
                RawFile("drug_ae", tuple(d + "DRUG-AE.rel" for d in _DIRS), description="drug-adverse effect"),
                RawFile("drug_dose", tuple(d + "DRUG-DOSE.rel" for d in _DIRS), required=False),
                RawFile("negative", tuple(d + "ADE-NEG.txt" for d in _DIRS), required=False),
            ),
            "the ADE-Corpus-V2 files DRUG-AE.rel, DRUG-DOSE.rel, ADE-NEG.txt",
        ),
    ),
    # The official Google Sites download is not fetchable by a script; this GitHub copy of ADE-Corpus-V2 is a
    # third-party mirror (pinned commit; sizes and digests are those of that commit's files).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/trunghlt/AdverseDrugReaction/"
            "2851af96e26050cf551a2e1f716ff861f7b1059b/ADE-Corpus-V2/DRUG-AE.rel",
            "ADE-Corpus-V2/DRUG-AE.rel",
            sha256="542cdc483ccc94927762eaf2c9a8ecac49a6c10037dda2895be6a6e20160f75a",
            size=1423024,
        ),
        Download(
            "https://raw.githubusercontent.com/trunghlt/AdverseDrugReaction/"
            "2851af96e26050cf551a2e1f716ff861f7b1059b/ADE-Corpus-V2/DRUG-DOSE.rel",
            "ADE-Corpus-V2/DRUG-DOSE.rel",
            sha256="78b46dfcdc1325d7f81e5e01f5a424e380e4b38fafca02f6e8f67064ca73f2db",
            size=59669,
        ),
        Download(
            "https://raw.githubusercontent.com/trunghlt/AdverseDrugReaction/"
            "2851af96e26050cf551a2e1f716ff861f7b1059b/ADE-Corpus-V2/ADE-NEG.txt",
            "ADE-Corpus-V2/ADE-NEG.txt",
            sha256="8f506c159042ce354fbf26981dc39971dde8f09b1158d94106eab1e516e53fcf",
            size=2308469,
        ),
    ),
)

_TAGS = ("Pharmacovigilance", "Case Reports")
ADE, NON_ADE = "adverse drug event", "non-adverse drug event"
LABELS = (ADE, NON_ADE)
TASKS = (
    Task("ade_drug_extraction", "Named Entity Recognition", "Medical Knowledge", _TAGS),
    Task("ade_drug_dose_extraction", "Information Extraction", "Medical Knowledge", _TAGS),
    Task("ade_adverse_event_classification", "Text Classification", "Medical Knowledge", _TAGS, labels=LABELS),
)
DRUGS, DOSES, CLASSIFY = (t.id for t in TASKS)


@dataclass
class _Sentence:
    """What the relation files say about one sentence; `first` is where it was first seen (file, line)."""

    first: tuple[str, int]
    adverse: bool = False
    drugs: list[tuple[int, str]] = field(default_factory=list)  # (document offset, drug)
    doses: dict[str, list[tuple[int, str, str, int]]] = field(default_factory=dict)  # drug -> offset, dose, file, line
    in_dose_file: bool = False
    broken: list[str] = field(default_factory=list)  # where a relation of it could not be read


def generate(files: RawFiles) -> Iterator[Item]:
    sentences: dict[tuple[str, str], _Sentence] = {}
    for name in ("drug_ae", "drug_dose"):
        for path in files.paths(name):
            yield from _relations(path, files.relative(path), name == "drug_dose", sentences)
    for (pmid, sentence), entry in sentences.items():
        yield from _sentence_records(pmid, sentence, entry)
    for path in files.paths("negative"):
        yield from _negatives(path, files.relative(path), sentences)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _lines(path: Path, name: str) -> Iterator[tuple[int, str | None, bytes]]:
    """(line number, text or None when not UTF-8, raw bytes), blank lines skipped."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                yield number, None, raw
                continue
            if line.strip():
                yield number, line, raw


def _relations(path: Path, name: str, dose: bool, sentences: dict[tuple[str, str], _Sentence]) -> Iterator[Item]:
    kind = "dose" if dose else "adverse effect"
    for number, line, raw in _lines(path, name):
        where = f"line {number}"
        if line is None:
            yield Rejection("not UTF-8", name, where, None, repr(raw[:120]))
            continue
        fields = line.split("|")
        if len(fields) < 8:
            yield Rejection("fewer than 8 pipe-separated fields", name, where, None, line)
            continue
        pmid, sentence, tail = fields[0].strip(), "|".join(fields[1:-6]).strip(), fields[-6:]
        if not pmid.isdigit() or not sentence:
            yield Rejection("PMID is not a number or the sentence is empty", name, where, None, line)
            continue
        entry = sentences.setdefault((pmid, sentence), _Sentence((name, number)))
        entry.in_dose_file |= dose
        problem = _mention(tail[0:3], kind, sentence) or _mention(tail[3:6], "drug", sentence)
        if problem:
            entry.broken.append(f"{name} line {number}")
            yield Rejection(problem, name, where, None, line)
            continue
        (other, other_start), (drug, drug_start) = (tail[0], int(tail[1])), (tail[3], int(tail[4]))
        entry.drugs.append((drug_start, drug))
        if dose:
            entry.doses.setdefault(drug, []).append((other_start, other, name, number))
        else:
            entry.adverse = True


def _mention(cells: list[str], kind: str, sentence: str) -> str:
    """Why a (text, begin, end) triple is unusable, or ''."""
    text, begin, end = cells
    if not text.strip():
        return f"empty {kind}"
    if not (begin.strip().isdigit() and end.strip().isdigit()) or int(end) - int(begin) != len(text):
        return f"{kind} offsets do not span the {kind}"
    if text not in sentence:
        return f"{kind} is not in the sentence"
    return ""


def _sentence_records(pmid: str, sentence: str, entry: _Sentence) -> Iterator[Item]:
    name, line = entry.first
    key, where = f"{pmid}-{_digest(sentence)}", f"PMID {pmid}, line {line}"

    def record(task: str, key: str, text: str, output: str, raw_file: str = name, locator: str = where) -> Record:
        return Record(task, key, text, output, raw_file, locator, group=pmid)

    if entry.adverse:
        yield record(CLASSIFY, key, sentence, forms.label(ADE, LABELS))
    if entry.broken:  # its drug (or dose) list would be incomplete
        why = "a relation of this sentence is malformed: its drug list would be incomplete"
        for task in (DRUGS, DOSES) if entry.in_dose_file else (DRUGS,):
            yield Rejection(why, name, f"{where} (malformed: {', '.join(entry.broken)})", task, sentence)
        return
    yield record(DRUGS, key, sentence, forms.entities(drug for _, drug in sorted(entry.drugs)))
    for drug, doses in entry.doses.items():
        text = forms.fields(sentence=sentence, drug=drug)
        output = forms.entities(dose for _, dose, _, _ in sorted(doses))
        _, _, dose_file, dose_line = doses[0]
        yield record(DOSES, f"{key}-{_digest(drug)[:6]}", text, output, dose_file, f"PMID {pmid}, line {dose_line}")


def _negatives(path: Path, name: str, sentences: dict[tuple[str, str], _Sentence]) -> Iterator[Item]:
    seen: dict[str, int] = {}
    for number, line, raw in _lines(path, name):
        where = f"line {number}"
        if line is None:
            yield Rejection("not UTF-8", name, where, CLASSIFY, repr(raw[:120]))
            continue
        pmid, marker, sentence = (line.split(" ", 2) + ["", ""])[:3]
        sentence = sentence.strip()
        if not pmid.isdigit() or marker != "NEG" or not sentence:
            yield Rejection("expected 'PMID NEG sentence'", name, where, CLASSIFY, line)
            continue
        key = f"{pmid}-{_digest(sentence)}"
        if key in seen:
            yield Rejection("repeated line", name, f"{where} (repeats line {seen[key]})", CLASSIFY, line)
            continue
        seen[key] = number
        known = sentences.get((pmid, sentence))
        if known is not None and known.adverse:
            also = f"{where} (in {known.first[0]} line {known.first[1]})"
            yield Rejection("negative sentence also listed with an adverse effect", name, also, CLASSIFY, line)
            continue
        yield Record(CLASSIFY, key, sentence, forms.label(NON_ADE, LABELS), name, f"PMID {pmid}, {where}", group=pmid)
