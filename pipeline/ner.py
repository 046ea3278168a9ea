"""Shared machinery of the named-entity tasks: one tokenisation and one spacing rule that every
form of an NER corpus is reduced to (standoff annotations over raw text, or IOB token files that have
lost the original spacing), a careful sentence splitter, an IOB reader, and the Records made from
sentences. A sentence becomes the same (id, input, output) whichever form it came from, because
the id hashes its canonical content (IOB files carry no document ids)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from pipeline import forms
from pipeline.model import RawFile, RawFiles, RawForm, Record, Rejection
from pipeline.readers import hub_parquet, parquet_rows

_TOKEN = re.compile(r"\w+|[^\w\s]")
_BEFORE, _AFTER, _JOIN = set(".,;:?!)]}%"), set("([{"), set("-/^")  # no space before / after / around
_CONTRACTION = {"s", "t", "d", "m", "ll", "re", "ve"}  # India ' s -> India's
# A break candidate: end punctuation (+ closing quotes/brackets), space (+ a "* " bullet), a capital, digit or "(2)";
# or any newline. A bare list marker ("1.") is not a sentence: it stays with the text it numbers.
_BREAK = re.compile(r"(?<=[.?!])([\"')\]]*)\s+(?:\*\s+)?(?=[A-Z0-9]|\(\d{1,2}\)\s)|\s*\n\s*")
_ABBREVIATIONS = frozenset(
    ["al.", "sp.", "spp.", "subsp.", "ssp.", "var.", "pv.", "cf.", "aff.", "fig.", "figs.", "vs.", "no.", "nos."]
    + ["str.", "cv.", "c.", "ca.", "approx.", "st.", "dr."]
)
_INITIALS = re.compile(r"[A-Z]\.|(?:[A-Za-z]\.){2,}")  # "E.", "e.g.", "U.S.", "B.g.", but not "72 h."
_MARKER = re.compile(r"\d{1,2}\.")
_TAG = re.compile(r"O|([BI])(?:-(\S+))?")


class Sentence(NamedTuple):
    """A tokenised sentence with its mentions as token ranges [i, j), in text order."""

    tokens: list[str]
    mentions: list[tuple[int, int]]
    raw_file: str
    locator: str
    split: str | None = None


class Span(NamedTuple):
    """A standoff mention: character offsets [start, end) in the document, its text, and the
    annotation file and line it was read from (where a rejection of it points)."""

    start: int
    end: int
    text: str
    file: str
    locator: str


def tokenize(text: str) -> list[str]:
    """Words and single punctuation characters: the one tokenisation both forms are reduced to."""
    return _TOKEN.findall(text)


def detokenize(tokens: list[str]) -> str:
    """Join tokens as prose: the one spacing rule both forms can share, since IOB files lost the original."""
    text, glue_next, open_quotes = "", True, set()
    for i, tok in enumerate(tokens):
        prev, after = tokens[i - 1] if i else "", tokens[i + 1 : i + 3]
        glue, glue_next = glue_next or tok in _BEFORE or tok in _JOIN, tok in _AFTER or tok in _JOIN
        if tok == "'" and prev[-1:].isalnum() and after and after[0].lower() in _CONTRACTION:  # India's, don't
            glue = glue_next = True
        elif tok == "'" and prev[-1:].isdigit():  # 5'-UTR, 3' end: a prime
            glue = True
        elif tok in ('"', "'"):  # quotes alternate: an opening one glues to the next token, a closing one to the last
            glue, glue_next = (True, False) if tok in open_quotes else (glue, True)
            open_quotes ^= {tok}
        elif tok == "." and after[1:] == ["."] and len(prev) == 1 == len(after[0]) and (prev + after[0]).isalpha():
            glue_next = True  # e.g., i.e., U.S.: initials written without spaces
        elif (
            tok in ".,"
            and prev.isdigit()
            and after[:1]
            and after[0].isdigit()
            and (tok == "." or len(after[0]) == 3 or after[1:2] in (["-"], [","]))
        ):
            glue_next = True  # 0.05, 1,200, chemical locants 1,5-bis..., 2,3,7,8-tetra...
        text += tok if glue else " " + tok
    return text


def split_sentences(text: str, spans: Iterable[tuple[int, int]] = ()) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence. Newlines always break (title / abstract); '. X' breaks unless the word
    before the dot is an abbreviation ("et al.", "sp.", "e.g.", "E. coli") or the break would cut a mention."""
    spans, start = list(spans), len(text) - len(text.lstrip())
    for m in _BREAK.finditer(text):
        cut = m.start() + len(m.group(1) or "")
        if "\n" not in m.group() and (
            _abbreviation(text, m.start()) or _MARKER.fullmatch(text[start:cut]) or any(s < cut < e for s, e in spans)
        ):
            continue
        if text[start:cut].strip():
            yield start, cut
        start = m.end()
    if text[start:].strip():
        yield start, len(text.rstrip())


def _abbreviation(text: str, after: int) -> bool:
    if text[after - 1] != ".":
        return False
    word = text[max(0, after - 24) : after].split()[-1].lstrip("([{\"'")
    return word.lower() in _ABBREVIATIONS or _INITIALS.fullmatch(word) is not None


def records(task_id: str, items: Iterable[Sentence | Rejection]) -> Iterator[Record | Rejection]:
    """Records of sentences, rejections passed through. The key hashes input and output, so a sentence
    repeated with different annotations cannot swap ids between forms (repeats get -2, -3...); the
    group hashes the input alone, so every copy of a sentence lands in one split."""
    seen: Counter[str] = Counter()
    for item in items:
        if isinstance(item, Rejection):
            yield item
            continue
        sentence = detokenize(item.tokens)
        output = forms.entities(detokenize(item.tokens[i:j]) for i, j in item.mentions)
        key = _digest(f"{sentence}\n{output}")
        seen[key] += 1
        key += f"-{seen[key]}" if seen[key] > 1 else ""
        yield Record(task_id, key, sentence, output, item.raw_file, item.locator, item.split, _digest(sentence))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def standoff_sentences(
    text: str, spans: list[Span], raw_file: str, label: str, task_id: str
) -> Iterator[Sentence | Rejection]:
    """The sentences of one document with standoff mentions mapped onto tokens. Offsets are trusted only
    if every mention matches the text: one mismatch suggests another version of the document, whose
    other sentences could silently lose a mention, so the whole document is rejected."""
    bad = [s for s in spans if text[s.start : s.end] != s.text]
    for s in bad:
        why = f"mention {s.text!r} differs from {text[s.start : s.end]!r} at offsets {s.start}-{s.end}"
        yield Rejection(why, s.file, s.locator, task_id, s.text)
    if bad:
        yield Rejection(
            f"document skipped: {len(bad)} of {len(spans)} mentions mismatch its text", raw_file, label, task_id
        )
        return
    spans = sorted(spans)
    for number, (start, end) in enumerate(split_sentences(text, [(s.start, s.end) for s in spans]), 1):
        found = list(_TOKEN.finditer(text, start, end))
        begins, ends = {t.start(): i for i, t in enumerate(found)}, {t.end(): i + 1 for i, t in enumerate(found)}
        ranges: list[tuple[int, int]] = []
        for s in (span for span in spans if span.start < end and span.end > start):  # overlap: none is lost
            problem = "does not start and end on token boundaries" if s.start not in begins or s.end not in ends else ""
            problem = problem or ("overlaps the previous mention" if ranges and begins[s.start] < ranges[-1][1] else "")
            if problem:
                yield Rejection(
                    f"{s.file} {s.locator}: mention {s.text!r} {problem}",
                    raw_file,
                    f"{label} sentence {number}",
                    task_id,
                )
                break
            ranges.append((begins[s.start], ends[s.end]))
        else:
            yield Sentence([t.group() for t in found], ranges, raw_file, f"{label} sentence {number}")


def to_iob(sentences: Iterable[Sentence | Rejection]) -> Iterator[list[tuple[str, str]]]:
    """Sentences as IOB (token, B|I|O) lists, the way BioBERT-style copies distribute NER corpora."""
    for item in sentences:
        if isinstance(item, Sentence):
            tags = ["O"] * len(item.tokens)
            for i, j in item.mentions:
                tags[i:j] = ["B"] + ["I"] * (j - i - 1)
            yield list(zip(item.tokens, tags, strict=True))


def read_iob(
    path: Path, name: str, split: str | None, task_id: str, types: Collection[str] | None = None
) -> Iterator[Sentence | Rejection]:
    """IOB `token<TAB>tag` lines (a space separator is tolerated), blank line between sentences,
    `-DOCSTART-` lines skipped. With `types`, only B-/I- tags of those entity types are mentions.
    Read line by line; a sentence with a malformed line is rejected whole, since its mention list
    would be wrong."""
    tokens: list[str] = []
    ranges: list[list[int]] = []
    first, broken, inside = 0, False, False
    with path.open("rb") as f:
        for number, raw in enumerate(chain(f, [b""]), 1):  # the b"" flushes the last sentence
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                if not broken:
                    yield Rejection(
                        f"not UTF-8 ({error.reason}); its sentence is skipped",
                        name,
                        f"{name} line {number}",
                        task_id,
                        repr(raw[:80]),
                    )
                first, broken = first if tokens or broken else number, True
                continue
            if line.startswith("-DOCSTART-"):
                continue
            if not line.strip():
                if tokens and not broken:
                    yield Sentence(tokens, [(i, j) for i, j in ranges], name, f"{name} line {first}", split)
                tokens, ranges, broken, inside = [], [], False, False
                continue
            first = first if tokens or broken else number
            token, tab, tag = line.rpartition("\t") if "\t" in line else line.rpartition(" ")
            kind = _TAG.fullmatch(tag.strip())
            if broken or not (tab and token.strip() and kind):
                if not broken:
                    why = "malformed line: expected token<TAB>B|I|O; its sentence is skipped"
                    yield Rejection(why, name, f"{name} line {number}", task_id, line)
                broken = True
                continue
            tokens.append(token.strip())
            mark = kind.group(1) if types is None or kind.group(2) in types else None
            if mark == "I" and inside:
                ranges[-1][1] = len(tokens)
            elif mark:  # B, or an I that follows no mention (tolerated as B)
                ranges.append([len(tokens) - 1, len(tokens)])
            inside = mark is not None


def iob_form(folders: Iterable[str], description: str) -> RawForm:
    """The BioBERT / MTL-Bioinformatics-2016 distribution of an NER corpus: train/devel/test.tsv (devel
    also called dev.tsv), each optional, in any of `folders` (relative, ending in '/'; '' = the raw folder)."""
    folders = tuple(folders)
    return RawForm(
        "iob",
        tuple(
            RawFile(name, tuple(f"{d}{f}.tsv" for d in folders for f in names), required=False, split=split)
            for name, names, split in (
                ("train", ("train",), "train"),
                ("devel", ("devel", "dev"), "validation"),
                ("test", ("test",), "test"),
            )
        ),
        description,
    )


def iob_sentences(
    files: RawFiles, task_id: str, types: Collection[str] | None = None
) -> Iterator[Sentence | Rejection]:
    """The sentences of every IOB file of the detected form, with the split its RawFile declares."""
    for raw in files.form.files:
        for path in files.paths(raw.name):
            yield from read_iob(path, files.relative(path), raw.split, task_id, types)


def form_sentences(
    files: RawFiles,
    task_id: str,
    original: Callable[[RawFiles], Iterator[Sentence | Rejection]],
    hf_tags: Sequence[str] = ("O", "B", "I"),
    types: Collection[str] | None = None,
) -> Iterator[Sentence | Rejection]:
    """The sentences of whichever form was detected: the corpus's own release (read by `original`),
    its IOB copy, or its Hugging Face export."""
    if files.form.name == "iob":
        return iob_sentences(files, task_id, types)
    if files.form.name == "hf":
        return hf_sentences(files, task_id, hf_tags)
    return original(files)


def hf_form(dataset: str) -> RawForm:
    """A Hugging Face Hub export of an NER corpus (its Parquet conversion): `tokens` and integer
    `ner_tags` per sentence, files named by split (`train-00000-of-00001.parquet`, or `train/0000.parquet`
    as the Hub's parquet branch lays them out), anywhere below the raw folder."""
    return RawForm(
        "hf",
        tuple(
            hub_parquet(name, name, split)
            for name, split in (("train", "train"), ("validation", "validation"), ("test", "test"))
        ),
        f"the Hugging Face dataset {dataset} as Parquet (columns tokens, ner_tags)",
    )


def hf_sentences(files: RawFiles, task_id: str, tag_names: Sequence[str]) -> Iterator[Sentence | Rejection]:
    """Sentences of a Hugging Face export; `tag_names[i]` is the IOB tag of class i (e.g. O, B, I or
    O, B-Disease, I-Disease), as the dataset's ClassLabel feature declares it."""
    marks = [_TAG.fullmatch(name) for name in tag_names]
    if not all(marks):
        raise ValueError(f"tag names must be IOB tags, got {list(tag_names)}")
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            for row, cells in parquet_rows(path, name, ("tokens", "ner_tags")):
                tokens, tags, where = cells["tokens"], cells["ner_tags"], f"{name} row {row}"
                if not tokens or tags is None or len(tokens) != len(tags) or not all(0 <= t < len(marks) for t in tags):
                    yield Rejection("tokens and ner_tags do not match", name, where, task_id, f"{tokens} {tags}")
                else:
                    yield Sentence(tokens, _spans([marks[t].group(1) for t in tags]), name, where, raw.split)


def _spans(marks: Sequence[str | None]) -> list[tuple[int, int]]:
    """Token ranges of mentions from per-token marks B, I or None (an I after no mention starts one)."""
    ranges: list[list[int]] = []
    for i, mark in enumerate(marks):
        if mark == "I" and i and marks[i - 1]:
            ranges[-1][1] = i + 1
        elif mark:
            ranges.append([i, i + 1])
    return [(i, j) for i, j in ranges]
