"""S800 / Species-800 (Pafilis et al., PLoS ONE 2013): 800 PubMed abstracts with organism mentions; MedS-Ins
asks, sentence by sentence, for the species mentioned.

Two distributions are accepted. The original S800-1.0 release keeps each abstract whole
(`abstracts/speciesNNN.txt`: title line, blank line, abstract) and lists mentions as standoff in `S800.tsv`
(`taxid<TAB>speciesNNN:PMID<TAB>start<TAB>end<TAB>mention`, the END OFFSET INCLUSIVE). The BioBERT /
MTL-Bioinformatics-2016 copy is sentence-split IOB (`train/devel/test.tsv`, `token<TAB>B|I|O`) that keeps
neither spacing nor document ids. So both forms are reduced to one canonical form: the tokens of `tokenize`
re-joined by `detokenize`, keyed by a hash of that content; a sentence then gives the same
(id, input, output) whichever form it came from.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from pipeline import forms
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_UNPACKED = ("", "S800-1.0/", "original-data/")  # where users tend to leave the unpacked tarball

SOURCE = Source(
    id="species800",
    name="S800 (Species-800)",
    homepage="http://species.jensenlab.org/",
    license="unspecified (research use; abstracts from PubMed)",
    access="open",
    citation=(
        "Pafilis, E., Frankild, S. P., Fanini, L., Faulwetter, S., Pavloudi, C., Vasileiadou, A., Arvanitidis, C. "
        "and Jensen, L. J. (2013). The SPECIES and ORGANISMS Resources for Fast and Accurate Identification of "
        "Taxonomic Names in Text. PLoS ONE 8(6): e65390."
    ),
    obtain=(
        "Download and unpack S800-1.0.tar.gz from http://species.jensenlab.org/ (the S800 corpus link), or use the "
        "BioBERT / MTL-Bioinformatics-2016 IOB files train.tsv, devel.tsv, test.tsv."
    ),
    version="S800-1.0",
    forms=(
        RawForm(
            "original",
            (
                RawFile("annotations", tuple(p + "S800.tsv" for p in _UNPACKED), description="standoff mentions"),
                RawFile("abstracts", tuple(p + "abstracts/species*.txt" for p in _UNPACKED)),
                RawFile("documents", tuple(p + "pubmedid.tsv" for p in _UNPACKED), required=False),
            ),
            "the S800-1.0 release: abstracts/speciesNNN.txt + S800.tsv (+ pubmedid.tsv)",
        ),
        RawForm(
            "iob",
            tuple(
                RawFile(name, tuple(f"{d}{f}.tsv" for d in ("", "s800/", "S800/") for f in files), False, split)
                for name, files, split in (
                    ("train", ("train",), "train"),
                    ("devel", ("devel", "dev"), "validation"),  # copies of the BioBERT files also call it dev.tsv
                    ("test", ("test",), "test"),
                )
            ),
            "BioBERT / MTL-Bioinformatics-2016 sentence-split IOB files (token<TAB>B|I|O)",
        ),
    ),
)

TASKS = (Task("species800_ner", "Named Entity Recognition", "Medical Knowledge", tags=("Species", "PubMed")),)
TASK = TASKS[0].id
NO_ENTITY = forms.NO_ENTITY

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
_TAG = re.compile(r"O|([BI])(?:-\S+)?")


_Span = tuple[int, int, str, int]  # start, exclusive end, mention, S800.tsv line


class _Sentence(NamedTuple):
    tokens: list[str]
    mentions: list[tuple[int, int]]  # token ranges [i, j), in text order
    raw_file: str
    locator: str
    split: str | None = None


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
        elif tok in ".," and prev.isdigit() and after[:1] and after[0].isdigit() and (tok == "." or len(after[0]) == 3):
            glue_next = True  # 0.05, 1,200
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


def generate(files: RawFiles) -> Iterator[Item]:
    """Records of whichever form was detected; keys count repeats over the whole run."""
    seen: Counter[str] = Counter()
    for item in _original(files) if files.form.name == "original" else _iob(files):
        if isinstance(item, Rejection):
            yield item
            continue
        sentence, names = detokenize(item.tokens), [detokenize(item.tokens[i:j]) for i, j in item.mentions]
        output = forms.entities(names)
        # The key hashes input and output, so a sentence repeated with different annotations cannot swap ids
        # between forms; the group hashes the input alone, so every copy of a sentence lands in one split.
        key = _digest(f"{sentence}\n{output}")
        seen[key] += 1
        key += f"-{seen[key]}" if seen[key] > 1 else ""
        yield Record(TASK, key, sentence, output, item.raw_file, item.locator, item.split, _digest(sentence))


def to_iob(files: RawFiles) -> Iterator[list[tuple[str, str]]]:
    """The original release as IOB sentences of (token, B|I|O), as BioBERT distributes S800."""
    for item in _original(files):
        if isinstance(item, _Sentence):
            tags = ["O"] * len(item.tokens)
            for i, j in item.mentions:
                tags[i:j] = ["B"] + ["I"] * (j - i - 1)
            yield list(zip(item.tokens, tags, strict=True))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _original(files: RawFiles) -> Iterator[_Sentence | Rejection]:
    """S800.tsv and pubmedid.tsv are small and read whole; abstracts are read one at a time."""
    table, listing = files.path("annotations"), files.path("documents")
    table_name = files.relative(table)
    pmids: dict[str, str] = {}
    if listing:
        with listing.open(encoding="utf-8") as f:
            pmids.update((c[0], c[1].removeprefix("PMID:")) for c in (ln.split("\t") for ln in f) if len(c) > 1)
    mentions: dict[str, list[_Span]] = defaultdict(list)
    with table.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != 5 or not (fields[2].isdigit() and fields[3].isdigit() and fields[4]):
                if line.strip():
                    why = "malformed line: expected taxid, speciesNNN:PMID, start, end (inclusive), mention"
                    yield Rejection(why, table_name, f"line {number}", TASK, line.rstrip("\r\n"))
                continue
            doc, _, pmid = fields[1].partition(":")
            pmids.setdefault(doc, pmid)
            mentions[doc].append((int(fields[2]), int(fields[3]) + 1, fields[4], number))  # end made exclusive
    present = {path.stem: path for path in files.paths("abstracts")}
    for doc, path in present.items():
        yield from _abstract(path, sorted(mentions.pop(doc, [])), pmids.get(doc), files, table_name)
    folder = files.paths("abstracts")[0].parent
    for doc in sorted((set(mentions) | set(pmids)) - set(present)):
        where = files.relative(folder / f"{doc}.txt")
        reason = f"abstract file missing: {where} ({len(mentions.get(doc, []))} annotations)"
        origin = table_name if doc in mentions else files.relative(listing)
        yield Rejection(reason, origin, f"{doc} (PMID {pmids.get(doc) or '?'})", TASK)


def _abstract(path: Path, spans: list[_Span], pmid: str | None, files: RawFiles, table_name: str) -> Iterator[Item]:
    """One abstract's sentences. Offsets are trusted only if every mention matches the text: one mismatch
    suggests another version of the abstract, and its other sentences could silently lose a species."""
    text, name = path.read_text(encoding="utf-8"), files.relative(path)
    label = f"{path.name} (PMID {pmid})" if pmid else path.name
    bad = [(s, e, m, n) for s, e, m, n in spans if text[s:e] != m]
    for s, e, m, n in bad:
        why = f"mention {m!r} differs from {text[s:e]!r} at {path.name} offsets {s}-{e - 1} (end inclusive)"
        yield Rejection(why, table_name, f"line {n}", TASK, m)
    if bad:
        yield Rejection(f"abstract skipped: {len(bad)} of {len(spans)} mentions mismatch its text", name, label, TASK)
        return
    for number, (start, end) in enumerate(split_sentences(text, [(s, e) for s, e, _, _ in spans]), 1):
        found = list(_TOKEN.finditer(text, start, end))
        begins, ends = {t.start(): i for i, t in enumerate(found)}, {t.end(): i + 1 for i, t in enumerate(found)}
        ranges: list[tuple[int, int]] = []
        for s, e, m, n in (span for span in spans if span[0] < end and span[1] > start):  # overlap: none is lost
            problem = "does not start and end on token boundaries" if s not in begins or e not in ends else ""
            problem = problem or ("overlaps the previous mention" if ranges and begins[s] < ranges[-1][1] else "")
            if problem:
                yield Rejection(
                    f"{table_name} line {n}: mention {m!r} {problem}", name, f"{label} sentence {number}", TASK
                )
                break
            ranges.append((begins[s], ends[e]))
        else:
            yield _Sentence([t.group() for t in found], ranges, name, f"{label} sentence {number}")


def _iob(files: RawFiles) -> Iterator[_Sentence | Rejection]:
    for raw in files.form.files:
        for path in files.paths(raw.name):
            yield from _iob_file(path, files.relative(path), raw.split)


def _iob_file(path: Path, name: str, split: str | None) -> Iterator[_Sentence | Rejection]:
    """Line by line; a sentence with a malformed line is skipped whole, since its mention list would be wrong."""
    tokens, ranges, first, broken, inside = [], [], 0, False, False
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(chain(f, [""]), 1):  # the "" flushes the last sentence
            line = line.rstrip("\r\n")
            if line.startswith("-DOCSTART-"):
                continue
            if not line.strip():
                if tokens and not broken:
                    yield _Sentence(tokens, [(i, j) for i, j in ranges], name, f"{path.name} line {first}", split)
                tokens, ranges, broken, inside = [], [], False, False
                continue
            first = first if tokens or broken else number
            token, tab, tag = line.rpartition("\t") if "\t" in line else line.rpartition(" ")  # some copies use a space
            kind = _TAG.fullmatch(tag.strip())
            if broken or not (tab and token.strip() and kind):
                if not broken:
                    why = "malformed line: expected token<TAB>B|I|O; its sentence is skipped"
                    yield Rejection(why, name, f"{path.name} line {number}", TASK, line)
                broken = True
                continue
            tokens.append(token.strip())
            if kind.group(1) == "I" and inside:
                ranges[-1][1] = len(tokens)
            elif kind.group(1):  # B, or an I that follows no mention (tolerated as B)
                ranges.append([len(tokens) - 1, len(tokens)])
            inside = kind.group(1) is not None
