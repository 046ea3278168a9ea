"""Hallmarks of Cancer, HoC (Baker et al., Bioinformatics 2016): 1,852 PubMed abstracts whose sentences experts
labelled with the hallmarks of cancer of Hanahan and Weinberg (a 37-class hierarchy under 10 top-level hallmarks).

Task hoc_text_classification (multi-label, one instance per abstract, key and group = the PMID):
- input: the abstract, its tokenised sentences re-joined as prose (`ner.detokenize` of the whitespace tokens) and
  separated by one space;
- output: `forms.labels` of the top-level hallmarks of all its sentences (the part of a label before the first
  `--`), in the vocabulary order of LABELS: the 10 hallmarks alphabetically (the order of the BLUE and BLURB
  evaluation scripts), spelled as the original release spells them.
- Abstracts with no hallmark: every sentence unlabelled or `NULL`. They are kept, with the output "None", the
  eleventh label of the vocabulary (it is never combined with a hallmark). BLURB and BigBio also keep them as a
  "none" class; dropping them would teach a model that every abstract shows some hallmark.

Two distributions are accepted, giving the same (id, input, output, split) for the same abstract:
- "sb895", the original release (github.com/sb895/Hallmarks-of-Cancer): `text/<PMID>.txt`, one tokenised sentence
  per line, and `labels/<PMID>.txt`, with NO line breaks: one segment per sentence, each segment STARTING with `<`
  (the count of `<` equals the number of text lines); within a segment several labels are joined by `AND` (with or
  without spaces), a hierarchical label is written `Top--Sub--Subsub` (possibly with a trailing `--`), and `NULL`
  or blanks mean no label. The release has no splits. The official split most used with it is BLURB's (Gu et al.
  2021; BigBio uses it too): `indexing/HoC/{train,dev,test}_pmid.tsv` of BLURB's data_generation.tar.gz, each one
  line of comma-separated `<PMID>.txt` names. Laid next to the release, they give train / validation / test (an
  abstract listed in none of the index files present is quarantined); without them split is None and the build
  hash-splits on the PMID. The MedS-Bench HoC test set comes from the BLURB test split.
- "tsv", the sentence-level files of the benchmarks, `train.tsv`, `dev.tsv`, `test.tsv` (dev -> validation),
  recognised by their header: BLURB (`labels<TAB>sentence<TAB>index`, labels `0_0,1_1,...`: one `i_x` flag per
  hallmark in the alphabetical order) or BLUE (header `index sentence1 sentence2 label` but rows of 3 fields:
  `<PMID>_s<i>`, sentence, comma-joined lower-case hallmarks, empty for none). Rows of one abstract are
  consecutive and are gathered back into the abstract.

Quarantined: labels and text with different sentence counts, a labels or text file without its partner, unknown
hallmark names, non-UTF-8 files, malformed tsv rows (the whole abstract), PMIDs repeated across tsv files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import forms, ner, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_RELEASE = ("", "Hallmarks-of-Cancer-master/", "Hallmarks-of-Cancer/")  # the repository as cloned or unzipped
_INDEX = ("indexing/HoC/", "data_generation/indexing/HoC/", "")
_TSV = ("HoC/", "data/HoC/", "")
_SPLITS = (("train", "train"), ("dev", "validation"), ("test", "test"))  # file stem, split

SOURCE = Source(
    id="hoc",
    name="Hallmarks of Cancer (HoC)",
    homepage="https://github.com/sb895/Hallmarks-of-Cancer",
    license="GPL-3.0",
    access="open",
    citation=(
        "Baker, S., Silins, I., Guo, Y., Ali, I., Hogberg, J., Stenius, U. and Korhonen, A. (2016). Automatic "
        "semantic classification of scientific literature according to the hallmarks of cancer. Bioinformatics "
        "32(3), pp. 432-440."
    ),
    obtain=(
        "Clone or download https://github.com/sb895/Hallmarks-of-Cancer and place its labels/ and text/ folders in "
        "the raw folder. For the official train/dev/test split add indexing/HoC/{train,dev,test}_pmid.tsv from "
        "BLURB's https://microsoft.github.io/BLURB/sample_code/data_generation.tar.gz. Alternatively, place the "
        "BLURB or BLUE sentence files train.tsv, dev.tsv, test.tsv."
    ),
    forms=(
        RawForm(
            "sb895",
            (
                RawFile("labels", tuple(f"{r}labels/*.txt" for r in _RELEASE), description="labels/<PMID>.txt"),
                RawFile("text", tuple(f"{r}text/*.txt" for r in _RELEASE), description="text/<PMID>.txt"),
                *(
                    RawFile(
                        f"{stem}_ids",
                        tuple(f"{d}{stem}_pmid.tsv" for d in _INDEX),
                        required=False,
                        split=split,
                        description="BLURB split index",
                    )
                    for stem, split in _SPLITS
                ),
            ),
            "the original release (text/ and labels/ per PMID), optionally with BLURB's split index files",
        ),
        RawForm(
            "tsv",
            tuple(
                RawFile(stem, tuple(f"{d}{stem}.tsv" for d in _TSV), required=False, split=split)
                for stem, split in _SPLITS
            ),
            "BLURB or BLUE sentence-level train.tsv, dev.tsv, test.tsv",
        ),
    ),
    # The official repository at a pinned commit as GitHub archives it (labels/ and text/ kept), and BLURB's
    # data_generation.tar.gz for the split lists (indexing/HoC/, the path the BigBio loader reads).
    downloads=(
        Download(
            "https://github.com/sb895/Hallmarks-of-Cancer/archive/3bc6e6deb90cf5bc4f9988c493fe2c32e9b3cf2a.tar.gz",
            "Hallmarks-of-Cancer.tar.gz",
            unpack="tar.gz",
            members=(("*/labels/", "labels/"), ("*/text/", "text/")),
        ),
        Download(
            "https://microsoft.github.io/BLURB/sample_code/data_generation.tar.gz",
            "data_generation.tar.gz",
            unpack="tar.gz",
            members=(("data_generation/indexing/HoC/", "data_generation/indexing/HoC/"),),
        ),
    ),
)

HALLMARKS = (
    "Activating invasion and metastasis",
    "Avoiding immune destruction",
    "Cellular energetics",
    "Enabling replicative immortality",
    "Evading growth suppressors",
    "Genomic instability and mutation",
    "Inducing angiogenesis",
    "Resisting cell death",
    "Sustaining proliferative signaling",
    "Tumor promoting inflammation",
)
NO_HALLMARK = "None"
LABELS = (*HALLMARKS, NO_HALLMARK)
TASKS = (
    Task(
        "hoc_text_classification",
        "Text Classification",
        "Medical Knowledge",
        tags=("Oncology", "Cancer Hallmarks", "PubMed"),
        labels=LABELS,
        multi_label=True,
    ),
)
TASK = TASKS[0].id

_BY_NAME = {h.casefold(): h for h in HALLMARKS}
_INDEX_ID = re.compile(r"(\d+)_s(\d+)")
_FLAG = re.compile(r"(\d+)_([01])")


class _Broken(Exception):
    """A raw abstract that cannot be converted: reason, and the offending value."""

    def __init__(self, reason: str, value: str | None = None):
        super().__init__(reason)
        self.reason, self.value = reason, value


def generate(files: RawFiles) -> Iterator[Item]:
    if files.form.name == "tsv":
        yield from _tsv(files)
    else:
        yield from _release(files)


def _record(pmid: str, sentences: list[str], hallmarks: set[str], name: str, split: str | None) -> Record:
    text = " ".join(ner.detokenize(s.split()) for s in sentences if s.strip())
    if not text:
        raise _Broken("empty abstract")
    output = forms.labels(hallmarks or {NO_HALLMARK}, LABELS)
    return Record(TASK, pmid, text, output, name, f"PMID {pmid}", split=split, group=pmid)


# --- the original release ---------------------------------------------------------------------------------------


def _release(files: RawFiles) -> Iterator[Item]:
    split_of, missing = _split_index(files)
    texts = {p.stem: p for p in files.paths("text")}
    paired: set[str] = set()
    for path in files.paths("labels"):
        pmid, name = path.stem, files.relative(path)
        text_path = texts.get(pmid)
        if text_path is None:
            yield Rejection("labels file without a text file", name, f"PMID {pmid}", TASK)
            continue
        paired.add(pmid)
        splits = split_of.get(pmid, set())
        if split_of and len(splits) != 1:
            reason = "PMID in no split index file" if not splits else "PMID in several split index files"
            yield Rejection(reason, name, f"PMID {pmid}", TASK, ", ".join(sorted(splits)) or missing or None)
            continue
        try:
            segments = _segments(_read(path))
            sentences = _read(text_path).splitlines()
            if len(segments) != len(sentences):
                raise _Broken(
                    "labels and text have different sentence counts",
                    f"{len(segments)} label segments, {len(sentences)} text lines",
                )
            hallmarks = {h for segment in segments for h in _labels_of_segment(segment)}
            yield _record(pmid, sentences, hallmarks, name, next(iter(splits), None))
        except _Broken as error:
            yield Rejection(error.reason, name, f"PMID {pmid}", TASK, error.value)
    for pmid, path in texts.items():
        if pmid not in paired:
            yield Rejection("text file without a labels file", files.relative(path), f"PMID {pmid}", TASK)


def _split_index(files: RawFiles) -> tuple[dict[str, set[str]], str]:
    """PMID -> the splits whose BLURB index file lists it, and the index files that are absent (for rejections)."""
    split_of: dict[str, set[str]] = {}
    absent = []
    for stem, split in _SPLITS:
        path = files.path(f"{stem}_ids")
        if path is None:
            absent.append(f"{stem}_pmid.tsv")
            continue
        for item in path.read_text(encoding="utf-8-sig").replace("\n", ",").split(","):
            pmid = item.strip().removesuffix(".txt")
            if pmid:
                split_of.setdefault(pmid, set()).add(split)
    return split_of, (f"index files absent: {', '.join(absent)}" if absent and split_of else "")


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Broken("not UTF-8", f"byte at offset {error.start} of {path.name}") from None


def _segments(labels: str) -> list[str]:
    """The per-sentence segments of a labels file: each starts with '<'."""
    head, *segments = labels.split("<")
    if head.strip():
        raise _Broken("labels file does not start with '<'", labels[:120])
    return segments


def _labels_of_segment(segment: str) -> set[str]:
    found = set()
    for part in segment.split("AND"):
        part = part.strip()
        if not part or part.upper() == "NULL":
            continue
        hallmark = _BY_NAME.get(" ".join(part.split("--")[0].split()).casefold())
        if hallmark is None:
            raise _Broken("unknown hallmark label", part)
        found.add(hallmark)
    return found


# --- BLURB / BLUE sentence files -----------------------------------------------------------------------------------


@dataclass
class _Abstract:
    pmid: str
    where: str
    sentences: list[str] = field(default_factory=list)
    hallmarks: set[str] = field(default_factory=set)
    problem: _Broken | None = None


def _tsv(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # PMID -> file where its abstract was read
    for stem, split in _SPLITS:
        for path in files.paths(stem):
            name = files.relative(path)
            for item in _tsv_abstracts(path, name):
                if isinstance(item, Rejection):
                    yield item
                elif item.pmid in seen:
                    yield Rejection(
                        "PMID repeated (an earlier abstract has it)", name, item.where, TASK, seen[item.pmid]
                    )
                else:
                    seen[item.pmid] = f"{name} {item.where}"
                    try:
                        if item.problem:
                            raise item.problem
                        yield _record(item.pmid, item.sentences, item.hallmarks, name, split)
                    except _Broken as error:
                        yield Rejection(error.reason, name, item.where, TASK, error.value)


def _tsv_abstracts(path: Path, name: str) -> Iterator[_Abstract | Rejection]:
    """Abstracts gathered from consecutive sentence rows; a bad row spoils its abstract (or is rejected alone
    when it names no abstract)."""
    layout = None
    current: _Abstract | None = None
    with path.open("rb") as f:
        for number, line, problem in readers.text_lines(f):
            if layout is None:
                layout = _layout(line, name)
                continue
            if not line.strip():
                continue
            cells = line.split("\t")
            index = cells[0 if layout == "blue" else -1].strip() if cells else ""
            match = _INDEX_ID.fullmatch(index)
            if not match:
                yield Rejection("row index is not <PMID>_s<n>", name, f"line {number}", TASK, line[:200])
                continue
            pmid, position = match.group(1), int(match.group(2))
            if current is None or current.pmid != pmid:
                if current is not None:
                    yield current
                current = _Abstract(pmid, f"PMID {pmid} (from line {number})")
            if current.problem:
                continue
            try:
                if problem:
                    raise _Broken("not UTF-8", f"line {number}: {problem}")
                if len(cells) != 3:
                    raise _Broken("wrong column count", f"line {number}: {len(cells)} fields")
                if position != len(current.sentences):
                    raise _Broken("sentence rows missing or out of order", f"line {number}: {index}")
                sentence, flags = (cells[1], cells[2]) if layout == "blue" else (cells[1], cells[0])
                current.hallmarks |= _blue_labels(flags) if layout == "blue" else _blurb_labels(flags)
                current.sentences.append(sentence.strip())
            except _Broken as error:
                current.problem = error
    if current is not None:
        yield current


def _layout(header: str, name: str) -> str:
    names = [c.strip() for c in header.split("\t")]
    if names == ["labels", "sentence", "index"]:
        return "blurb"
    if names[:1] == ["index"] and "sentence1" in names:
        return "blue"
    raise ValueError(f"{name}: header {header[:80]!r} is neither BLURB's (labels, sentence, index) nor BLUE's")


def _blurb_labels(flags: str) -> set[str]:
    found = set()
    items = [_FLAG.fullmatch(f.strip()) for f in flags.split(",")]
    if len(items) != len(HALLMARKS) or not all(items):
        raise _Broken("malformed BLURB label flags", flags[:120])
    for item in items:
        index, on = int(item.group(1)), item.group(2) == "1"
        if index >= len(HALLMARKS):
            raise _Broken("malformed BLURB label flags", flags[:120])
        if on:
            found.add(HALLMARKS[index])
    return found


def _blue_labels(names: str) -> set[str]:
    found = set()
    for name in names.split(","):
        name = " ".join(name.split())
        if not name or name.upper() == "NULL":
            continue
        hallmark = _BY_NAME.get(name.casefold())
        if hallmark is None:
            raise _Broken("unknown hallmark label", name)
        found.add(hallmark)
    return found
