"""AnEM, the Anatomical Entity Mention corpus (Ohta, Pyysalo, Tsujii and Ananiadou, 2012): 500 PubMed abstracts and
PubMed Central sections and captions with anatomical entity mentions in 11 classes. MedS-Ins (after
Super-NaturalInstructions task1486 and task1487) asks, sentence by sentence, for the mentions of one class.

Tasks (input = one sentence; output = its mentions of the class, first-appearance order, de-duplicated,
", "-joined, or "There is no related entity."):
- `anem_cell_extraction`: brat type `Cell`.
- `anem_organism_substance_extraction`: brat type `Organism_substance`.
Every sentence gives one instance per task; both share the sentence's group, so they land in one split.

Format read: the release AnEM-1.0.4.tar.gz (NaCTeM; the same files the BigBio `an_em` loader reads), brat
standoff `AnEM-1.0.4/standoff/<doc>.txt` + `<doc>.ann` (UTF-8; `T1<TAB>Type start end<TAB>text`, end exclusive,
a discontinuous mention written `Type s1 e1;s2 e2`; `*` Equiv, `R` relation, `A`/`M`, `E`, `N` and `#` lines are
not mentions and are ignored). Official split = the document lists `development/train-files.list` (train),
`development/test-files.list` (the development test set -> validation) and `test/test-files.list` (test), one
document name (`PMID-nnn`, `PMC-nnn-sec-NN`, `PMC-nnn-caption-NN`) a line; a document in no present list gets
split None (hash split). Text is reduced to the canonical form of `pipeline.ner` (the tokens of `tokenize`
re-joined by `detokenize`), keyed by a hash of the content.

Quarantine: a document whose .ann has a malformed line, or a mention whose text differs from the document at its
offsets, is rejected whole (a sentence could otherwise silently lose a mention); a sentence holding a
discontinuous mention of the task's class is rejected, since a contiguous token span cannot express it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from pipeline import forms, ner
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

_UNPACKED = ("AnEM-1.0.4/", "")
_LISTS = (
    ("train_list", "development/train-files.list", "train"),
    ("devel_list", "development/test-files.list", "validation"),
    ("test_list", "test/test-files.list", "test"),
)

SOURCE = Source(
    id="anem",
    name="AnEM (Anatomical Entity Mention corpus)",
    homepage="http://www.nactem.ac.uk/anatomy/",
    license="CC BY-SA 3.0",
    access="open",
    citation=(
        "Ohta, T., Pyysalo, S., Tsujii, J. and Ananiadou, S. (2012). Open-domain Anatomical Entity Mention "
        "Detection. In Proceedings of the ACL 2012 Workshop on Detecting Structure in Scholarly Discourse, 27-36."
    ),
    obtain=(
        "Download and unpack http://www.nactem.ac.uk/anatomy/data/AnEM-1.0.4.tar.gz (brat standoff files in "
        "AnEM-1.0.4/standoff/, split lists in AnEM-1.0.4/development/ and AnEM-1.0.4/test/)."
    ),
    version="1.0.4",
    forms=(
        RawForm(
            "standoff",
            (
                RawFile("documents", tuple(f"{p}standoff/*.txt" for p in _UNPACKED), description="brat texts"),
                *(RawFile(name, tuple(p + path for p in _UNPACKED), False, split) for name, path, split in _LISTS),
            ),
            "AnEM-1.0.4: standoff/*.txt + *.ann, development/{train,test}-files.list, test/test-files.list",
        ),
    ),
    # NaCTeM's release archive (the URL of the BigBio loader); extracted whole: AnEM-1.0.4/standoff, development, test.
    downloads=(
        Download("http://www.nactem.ac.uk/anatomy/data/AnEM-1.0.4.tar.gz", "AnEM-1.0.4.tar.gz", unpack="tar.gz"),
    ),
)

TASKS = (
    Task("anem_cell_extraction", "Named Entity Recognition", "Medical Knowledge", tags=("Anatomy", "Cell")),
    Task("anem_organism_substance_extraction", "Named Entity Recognition", "Medical Knowledge", tags=("Anatomy",)),
)
#: The brat entity type each task extracts.
TYPES = {"anem_cell_extraction": "Cell", "anem_organism_substance_extraction": "Organism_substance"}
NO_ENTITY = forms.NO_ENTITY

_TEXT_BOUND = re.compile(r"T\w+\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)")
_OTHER = ("*", "R", "E", "A", "M", "N", "#")  # equivalences, relations, events, attributes, normalisations, notes


class Mention(NamedTuple):
    type: str
    fragments: tuple[tuple[int, int], ...]
    text: str
    locator: str


def generate(files: RawFiles) -> Iterator[Item]:
    """Each task in turn over the documents; document-level rejections are reported once (task None)."""
    for number, task in enumerate(TASKS):
        yield from ner.records(task.id, _sentences(files, task.id, TYPES[task.id], report=number == 0))


def split_of(files: RawFiles) -> dict[str, tuple[str, str]]:
    """Document name -> (split, list file). Lines are document names; a path or a .txt/.ann suffix is tolerated."""
    splits: dict[str, tuple[str, str]] = {}
    for name, _, split in _LISTS:
        for path in files.paths(name):
            with path.open(encoding="utf-8-sig") as f:
                for line in f:
                    doc = Path(line.strip()).name.removesuffix(".txt").removesuffix(".ann")
                    if doc:
                        splits[doc] = (split, files.relative(path))
    return splits


def _sentences(files: RawFiles, task_id: str, kind: str, report: bool) -> Iterator[ner.Sentence | Rejection]:
    splits = split_of(files)
    present = files.paths("documents")
    for path in present:
        doc, name = path.stem, files.relative(path)
        ann = path.with_suffix(".ann")
        if not ann.is_file():
            if report:
                yield Rejection("annotation file (.ann) missing", name, doc, value=files.relative(ann))
            continue
        (text, text_error), (ann_text, ann_error) = _read(path), _read(ann)
        if text_error or ann_error:
            if report:
                bad = path if text_error else ann
                yield Rejection(f"not UTF-8 ({text_error or ann_error})", files.relative(bad), doc)
            continue
        mentions, problems = _parse(ann_text.split("\n"), text, files.relative(ann))
        if problems:
            if report:
                yield from problems
                yield Rejection(f"document skipped: {len(problems)} bad annotation lines", name, doc)
            continue
        wanted = [m for m in mentions if m.type == kind]
        spans = [
            ner.Span(*m.fragments[0], m.text, files.relative(ann), m.locator) for m in wanted if len(m.fragments) == 1
        ]
        split = splits.get(doc, (None, ""))[0]
        cut = _sentences_holding(text, spans, [m for m in wanted if len(m.fragments) > 1], doc)
        for item in ner.standoff_sentences(text, spans, name, doc, task_id):
            if isinstance(item, ner.Sentence) and item.locator in cut:
                why = f"discontinuous {kind} mention: a token span cannot express it"
                yield Rejection(why, name, item.locator, task_id, f"{files.relative(ann)} {cut[item.locator]}")
            else:
                yield item._replace(split=split) if isinstance(item, ner.Sentence) else item
    if report:
        stems = {path.stem for path in present}
        for doc in sorted(set(splits) - stems):
            yield Rejection("document listed in a split list but missing", splits[doc][1], doc, value=f"{doc}.txt")


def _parse(lines: list[str], text: str, ann: str) -> tuple[list[Mention], list[Rejection]]:
    """Text-bound mentions of one .ann file, and a rejection for each malformed or mismatching line."""
    mentions, problems = [], []
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if not line.strip() or line.startswith(_OTHER):
            continue
        match = _TEXT_BOUND.fullmatch(line.lstrip("\ufeff"))
        if not match:
            why = "malformed line: expected T<n><TAB>Type start end<TAB>text"
            problems.append(Rejection(why, ann, f"line {number}", value=line))
            continue
        fragments = tuple((int(f.split()[0]), int(f.split()[1])) for f in match.group(2).split(";"))
        found = " ".join(text[s:e] for s, e in fragments)
        if found != match.group(3) or any(s >= e or e > len(text) for s, e in fragments):
            why = f"mention {match.group(3)!r} differs from {found!r} at offsets {match.group(2)}"
            problems.append(Rejection(why, ann, f"line {number}", value=match.group(3)))
            continue
        mentions.append(Mention(match.group(1), fragments, match.group(3), f"line {number}"))
    return mentions, problems


def _sentences_holding(text: str, spans: list[ner.Span], split_mentions: list[Mention], label: str) -> dict[str, str]:
    """Locator (as standoff_sentences names it) -> .ann line of each sentence a discontinuous mention touches.
    The sentences are cut exactly as standoff_sentences cuts them (same text, same protected spans)."""
    cut: dict[str, str] = {}
    bounds = list(ner.split_sentences(text, [(s.start, s.end) for s in sorted(spans)]))
    for mention in split_mentions:
        for number, (start, end) in enumerate(bounds, 1):
            if any(s < end and e > start for s, e in mention.fragments):
                cut.setdefault(f"{label} sentence {number}", mention.locator)
    return cut


def _read(path: Path) -> tuple[str, str]:
    """A UTF-8 file's text and, on a bad byte, what is wrong and where (else "")."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as error:
        return "", f"{error.reason} at byte {error.start}"
