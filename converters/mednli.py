"""MedNLI (Romanov and Shivade, EMNLP 2018): natural language inference on clinical text. Clinicians wrote, for
premise sentences taken from MIMIC-III notes, one hypothesis that is definitely true (entailment), one that is
definitely false (contradiction) and one that might be true (neutral).

Read: the PhysioNet release 1.0.0 (credentialed), files `mli_train_v1.jsonl`, `mli_dev_v1.jsonl` and
`mli_test_v1.jsonl` (in the raw folder or in the folder the zip unpacks to), SNLI-style JSON Lines, one object per
line: {"sentence1": premise, "pairID": id, "sentence1_parse", "sentence1_binary_parse", "sentence2": hypothesis,
"sentence2_parse", "sentence2_binary_parse", "gold_label": "entailment"|"contradiction"|"neutral"}; only
sentence1, sentence2, gold_label and pairID are used. Each premise is followed by its three hypotheses.

Tasks (key = the row's pairID, except for the classification task; group = a hash of the premise, so every
instance made from one premise lands in the same split):
- mednli_entailment_discriminative: input `forms.fields(premise=..., hypothesis=...)`, output the gold label as
  `forms.label` over entailment / contradiction / neutral (lower case, as in the files). Every row.
- mednli_entailment_generative: entailment rows only; input `forms.fields(premise=...)`, output the hypothesis.
- mednli_wrong_entailment_generative: contradiction rows only; same input, output the (contradicting) hypothesis.
- mednli_entailment_classification: one instance per distinct premise with at least two hypotheses. The MedS-Ins
  script takes rows i, i+1, i+2 as one premise's triplet, which silently mixes premises when a row is missing or
  the order differs; here rows are grouped by IDENTICAL premise text within a file instead (the whole file is
  read first; only premise -> (pairID, hypothesis, label) is kept, a few MB for the 11k-row train file). A premise
  that occurs in several triplets gives one instance with all its hypotheses. Hypotheses are ordered by a hash of
  their pairID (deterministic, and independent of the label, so the position does not give the answer away).
  Input `forms.fields(premise=..., hypothesis_1=..., hypothesis_2=..., ...)`; output, in the same shared form,
  `Hypothesis 1: <label>` lines, one per hypothesis. Key: the smallest pairID of the group. A premise with a
  single hypothesis is quarantined for this task only.

Splits are the official ones: train -> train, dev -> validation, test -> test; the MedS-Bench MedNLI
discriminative and generative test sets come from the test split. A line that is not UTF-8 or JSON, lacks a
sentence, has a label outside the three (SNLI's "-" for no consensus), or repeats an earlier pairID is
quarantined with its file and line; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="mednli",
    name="MedNLI",
    homepage="https://physionet.org/content/mednli/1.0.0/",
    license="PhysioNet Credentialed Health Data License 1.5.0",
    access="credentialed",
    citation=(
        "Romanov, A. and Shivade, C. (2018). Lessons from Natural Language Inference in the Clinical Domain. "
        "EMNLP 2018, pp. 1586-1596. Shivade, C. (2019). MedNLI - A Natural Language Inference Dataset For The "
        "Clinical Domain (version 1.0.0). PhysioNet. https://doi.org/10.13026/C2RS98"
    ),
    obtain=(
        "Become a credentialed PhysioNet user (identity check and CITI 'Data or Specimens Only Research' training), "
        "sign the data use agreement on https://physionet.org/content/mednli/1.0.0/ and download "
        "mednli-a-natural-language-inference-dataset-for-the-clinical-domain-1.0.0.zip. Unzip it into the raw "
        "folder: mli_train_v1.jsonl, mli_dev_v1.jsonl and mli_test_v1.jsonl are read directly in the raw folder or "
        "one folder below it."
    ),
    version="1.0.0",
    forms=(
        RawForm(
            "jsonl",
            tuple(
                RawFile(name, (f"mli_{name}_v1.jsonl", f"*/mli_{name}_v1.jsonl"), required=False, split=split)
                for name, split in (("train", "train"), ("dev", "validation"), ("test", "test"))
            ),
            "the PhysioNet release: SNLI-style JSON Lines (any of train/dev/test)",
        ),
    ),
)

LABELS = ("entailment", "contradiction", "neutral")
CLINICAL = "Clinical Text"
TAGS = ("Clinical Notes", "MIMIC-III")
TASKS = (
    Task("mednli_entailment_discriminative", "Natural Language Inference", CLINICAL, TAGS, labels=LABELS),
    Task("mednli_entailment_generative", "Natural Language Inference", CLINICAL, TAGS),
    Task("mednli_wrong_entailment_generative", "Wrong Candidate Generation", CLINICAL, TAGS),
    Task("mednli_entailment_classification", "Natural Language Inference", CLINICAL, TAGS),
)
DISCRIMINATIVE, GENERATIVE, WRONG, CLASSIFICATION = (t.id for t in TASKS)
GENERATED_FROM = {"entailment": GENERATIVE, "contradiction": WRONG}


@dataclass(frozen=True, slots=True)
class Pair:
    pair_id: str
    premise: str
    hypothesis: str
    label: str
    locator: str


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # pairID -> where it was first seen, across files
    for raw in SOURCE.forms[0].files:
        for path in files.paths(raw.name):
            yield from _file(path, files.relative(path), raw.split, seen)


def _file(path: Path, name: str, split: str | None, seen: dict[str, str]) -> Iterator[Item]:
    premises: dict[str, list[Pair]] = {}  # premise -> its hypotheses, in file order
    for number, row, problem in readers.json_lines(path):
        locator = f"line {number}"
        if problem:
            yield Rejection(problem, name, locator, None, str(row)[:300])
            continue
        pair = yield from _pair(row, name, locator, seen)
        if pair is None:
            continue
        group = _group(pair.premise)
        premise = forms.fields(premise=pair.premise)
        both = forms.fields(premise=pair.premise, hypothesis=pair.hypothesis)
        yield Record(DISCRIMINATIVE, pair.pair_id, both, pair.label, name, pair.locator, split, group)
        if pair.label in GENERATED_FROM:
            task = GENERATED_FROM[pair.label]
            yield Record(task, pair.pair_id, premise, pair.hypothesis, name, pair.locator, split, group)
        premises.setdefault(pair.premise, []).append(pair)
    for premise, pairs in premises.items():
        yield _classification(premise, pairs, name, split)


def _pair(row: dict, name: str, locator: str, seen: dict[str, str]) -> Generator[Rejection, None, Pair | None]:
    """The row as a Pair (the generator's return value), after yielding a Rejection when it is unusable."""
    pair_id = row.get("pairID")
    if not isinstance(pair_id, str) or not pair_id.strip():
        yield Rejection("missing pairID", name, locator, None, str(row)[:300])
        return None
    pair_id = pair_id.strip()
    locator = f"{locator} (pairID {pair_id})"
    problem = readers.text_problem(row.get("sentence1"), "sentence1") or readers.text_problem(
        row.get("sentence2"), "sentence2"
    )
    if problem:
        yield Rejection(problem, name, locator, None, str(row.get("sentence1"))[:300])
        return None
    try:
        label = forms.label(str(row.get("gold_label", "")).strip().lower(), LABELS)
    except forms.FormError:
        yield Rejection("gold_label is not entailment, contradiction or neutral", name, locator, None,
                        repr(row.get("gold_label")))  # fmt: skip
        return None
    if pair_id in seen:
        yield Rejection("duplicate pairID (an earlier row has the same pairID)", name, locator, None, seen[pair_id])
        return None
    seen[pair_id] = f"{name} {locator}"
    return Pair(pair_id, " ".join(row["sentence1"].split()), " ".join(row["sentence2"].split()), label, locator)


def _classification(premise: str, pairs: list[Pair], name: str, split: str | None) -> Item:
    key = min(p.pair_id for p in pairs)
    locator = ", ".join(p.locator.split(" (")[0] for p in pairs) + f" (pairIDs {', '.join(p.pair_id for p in pairs)})"
    if len(pairs) < 2:
        return Rejection("premise has a single hypothesis", name, locator, CLASSIFICATION, premise[:300])
    ordered = sorted(pairs, key=lambda p: (readers.content_key(p.pair_id), p.pair_id))
    hypotheses = {f"hypothesis_{i}": p.hypothesis for i, p in enumerate(ordered, 1)}
    labels = {f"hypothesis_{i}": p.label for i, p in enumerate(ordered, 1)}
    text = forms.fields(premise=premise, **hypotheses)
    return Record(CLASSIFICATION, key, text, forms.fields(**labels), name, locator, split, _group(premise))


def _group(premise: str) -> str:
    return "p" + readers.content_key(premise)
