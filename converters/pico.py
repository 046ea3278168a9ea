"""PICO (Zlabinger et al., Findings of EMNLP 2020): 423 sentences of randomised-trial abstracts (taken from
EBM-NLP) re-annotated for Participants, Interventions and Outcomes by crowd workers.

This is the corpus the Super-NaturalInstructions tasks task179/180/181 name as their source, and it is read as
the pico-annotation repository distributes it (github.com/Markus-Zlabinger/pico-annotation, `data/`), not from
the EBM-NLP tarball:
- `data/sentences.json`: senid ("PMID:SENIDX") -> sentence, pre-tokenised (tokens are split on whitespace);
- `data/annotations/{participants,interventions,outcomes}_sensupport.json`: senid -> {"annotations": one 0/1
  list per worker (one label per token), "wids": worker ids}. SenSupport has three workers per sentence.

Per task (participant / intervention / outcome extraction), one instance per sentence:
- input: the sentence exactly as in sentences.json;
- output: the phrases every SenSupport worker marked (the intersection of the workers' token labels, as the SNI
  tasks state), each maximal run of agreed tokens re-joined with single spaces, in text order, de-duplicated and
  ", "-joined by `forms.entities`; "There is no related entity." when the workers agree on no token.
The other annotation sets (Baseline, SenBase, Expert) are not read. There is no official split: the build
hash-splits on the PMID, so every sentence of one abstract lands in one split, in all three tasks. The key is
the senid. A sentence whose labels do not fit it (wrong token count, values other than 0/1, no worker), an
annotation for an unknown senid, and a sentence one annotation file lacks are quarantined.
sentences.json (tens of KB) is read whole as the lookup table; the annotation files are streamed with ijson.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import ijson

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

#: Where users leave the repository: its data/ folder, the clone, or GitHub's zip download.
_DATA = ("data/", "pico-annotation/data/", "pico-annotation-master/data/", "")
_ELEMENTS = ("participants", "interventions", "outcomes")

SOURCE = Source(
    id="pico",
    name="PICO (pico-annotation; EBM-NLP sentences)",
    homepage="https://github.com/Markus-Zlabinger/pico-annotation",
    license="unspecified (the repository states no license)",
    access="open",
    citation=(
        "Zlabinger, M., Sabou, M., Hofstätter, S. and Hanbury, A. (2020). Effective Crowd-Annotation of "
        "Participants, Interventions, and Outcomes in the Text of Clinical Trial Reports. Findings of EMNLP 2020."
    ),
    obtain=(
        "Clone or download https://github.com/Markus-Zlabinger/pico-annotation and place its data/ folder (or the "
        "whole repository) in the raw folder: data/sentences.json and "
        "data/annotations/{participants,interventions,outcomes}_sensupport.json are read."
    ),
    forms=(
        RawForm(
            "pico-annotation",
            (
                RawFile("sentences", tuple(d + "sentences.json" for d in _DATA), description="senid -> sentence"),
                *(
                    RawFile(e, tuple(f"{d}annotations/{e}_sensupport.json" for d in _DATA), required=False)
                    for e in _ELEMENTS
                ),
            ),
            "the pico-annotation repository's data/: sentences.json + SenSupport annotation files",
        ),
    ),
    # The official repository (pinned commit).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/Markus-Zlabinger/pico-annotation/"
            "63358b6bd99826a3607ff7ce78c7e8bbdd5ceed5/data/sentences.json",
            "data/sentences.json",
            sha256="bb73b64fa993420e9826f284e36176cd3d499f97ea199731b31fb7cbf32ffaf1",
            size=70101,
        ),
        Download(
            "https://raw.githubusercontent.com/Markus-Zlabinger/pico-annotation/"
            "63358b6bd99826a3607ff7ce78c7e8bbdd5ceed5/data/annotations/participants_sensupport.json",
            "data/annotations/participants_sensupport.json",
            sha256="72369a1c8c630cb4d3043ad181aca1901ce02189f5db417d99cc7e3615537744",
            size=673134,
        ),
        Download(
            "https://raw.githubusercontent.com/Markus-Zlabinger/pico-annotation/"
            "63358b6bd99826a3607ff7ce78c7e8bbdd5ceed5/data/annotations/interventions_sensupport.json",
            "data/annotations/interventions_sensupport.json",
            sha256="f675c0c9a79c99ee870d65894b68872faf7f0ef8f9682b172db725e4e37b2685",
            size=675284,
        ),
        Download(
            "https://raw.githubusercontent.com/Markus-Zlabinger/pico-annotation/"
            "63358b6bd99826a3607ff7ce78c7e8bbdd5ceed5/data/annotations/outcomes_sensupport.json",
            "data/annotations/outcomes_sensupport.json",
            sha256="e79bf88e5b72f06e1c57bc118bb3814337c82d539d69fad8fb86f92e85597ace",
            size=675284,
        ),
    ),
)

_TAGS = ("Clinical Trials", "PICO")
TASKS = (
    Task("pico_participant_extraction", "Information Extraction", "Academic Papers", _TAGS),
    Task("pico_intervention_extraction", "Information Extraction", "Academic Papers", _TAGS),
    Task("pico_outcome_extraction", "Information Extraction", "Academic Papers", _TAGS),
)
TASK_OF = dict(zip(_ELEMENTS, (t.id for t in TASKS), strict=True))


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("sentences")
    sentences = _sentences(path, files.relative(path))
    for element in _ELEMENTS:
        for labels in files.paths(element):
            yield from _element(labels, files.relative(labels), TASK_OF[element], sentences)


def _sentences(path: Path, name: str) -> dict[str, str]:
    try:
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{name}: not a JSON file in UTF-8: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected one JSON object mapping senid to sentence")
    return data


def _element(path: Path, name: str, task: str, sentences: dict[str, object]) -> Iterator[Item]:
    seen: set[str] = set()
    with path.open("rb") as f:
        for senid, entry in _entries(f, name):
            seen.add(senid)
            where = f"senid {senid}"
            sentence = sentences.get(senid)
            if not isinstance(sentence, str) or not sentence.strip():
                why = "senid not in sentences.json" if sentence is None else "sentence is empty or not a string"
                yield Rejection(why, name, where, task)
                continue
            tokens = sentence.split()
            agreed, problem = _agreement(entry, len(tokens))
            if problem:
                reason = "worker annotations do not fit the sentence's tokens"
                yield Rejection(reason, name, f"{where} ({problem})", task, sentence)
                continue
            pmid = senid.partition(":")[0]
            output = forms.entities(_phrases(tokens, agreed))
            yield Record(task, senid, sentence, output, name, where, group=pmid)
    for senid in (s for s in sentences if s not in seen):  # in sentences.json order, for stable output
        yield Rejection("sentence has no annotation in this file", name, f"senid {senid}", task, str(sentences[senid]))


def _entries(f, name: str) -> Iterator[tuple[str, object]]:
    senid = None
    try:
        for senid, entry in ijson.kvitems(f, "", use_float=True):
            yield senid, entry
    except ijson.JSONError as error:
        after = f" after senid {senid}" if senid else " before the first sentence"
        raise ValueError(f"{name}: malformed JSON{after}: {error}") from error


def _agreement(entry: object, length: int) -> tuple[list[bool], str]:
    """Per token, whether every worker labelled it 1; or why the entry cannot be used."""
    workers = entry.get("annotations") if isinstance(entry, dict) else None
    if not isinstance(workers, list) or not workers:
        return [], "no worker annotations"
    for number, labels in enumerate(workers, 1):
        if not isinstance(labels, list) or len(labels) != length:
            count = len(labels) if isinstance(labels, list) else "no"
            return [], f"worker {number} has {count} token labels, the sentence has {length} tokens"
        if any(label not in (0, 1) or isinstance(label, bool) for label in labels):
            return [], f"worker {number} has labels other than 0/1"
    return [all(labels[i] == 1 for labels in workers) for i in range(length)], ""


def _phrases(tokens: list[str], agreed: list[bool]) -> Iterator[str]:
    """Maximal runs of agreed tokens, in text order."""
    run: list[str] = []
    for token, inside in zip(tokens, agreed, strict=True):
        if inside:
            run.append(token)
        elif run:
            yield " ".join(run)
            run = []
    if run:
        yield " ".join(run)
