"""BC4CHEMD: the BioCreative IV CHEMDNER corpus (Krallinger et al., J Cheminform 2015), 10,000 PubMed abstracts
with chemical entity mentions. MedS-Ins asks, sentence by sentence, for the chemicals mentioned.

Task `bc4chemd_ner`: input = one sentence of a title or abstract; output = its chemical mentions
(first-appearance order, de-duplicated, ", "-joined) or "There is no related entity.". The MedS-Bench
"BC4Chem" test set is the official test split (the CHEMDNER evaluation set = `test.tsv` of the IOB copy).

Two distributions are accepted, reduced to one canonical form by `pipeline.ner` (the tokens of `tokenize`
re-joined by `detokenize`, keyed by a hash of the content), so a sentence gives the same (id, input, output)
whichever form it came from:
- "iob" (the common distribution, and the one the bundled sample follows): MTL-Bioinformatics-2016
  `data/BC4CHEMD/{train,devel,test}.tsv` (`token<TAB>B-Chemical|I-Chemical|O`, blank line between sentences;
  BioBERT's copy has the same file names with bare B|I|O). devel -> validation. The IOBES variant is not read.
- "original": the CHEMDNER release `chemdner_corpus.tar.gz` (BioCreative site), format as read by the corpus
  tools of spyysalo/chemdner-corpora: `{training,development,evaluation}.abstracts.txt`, one abstract a line,
  `PMID<TAB>title<TAB>abstract`; `{...}.annotations.txt`, `PMID<TAB>T|A<TAB>start<TAB>end<TAB>text<TAB>class`,
  offsets into the title (T) or the abstract (A), end exclusive. The document is title + newline + abstract (so
  the title is always a sentence of its own). training -> train, development -> validation, evaluation -> test.
  The annotations of one split are read whole (a few MB); abstracts are streamed line by line. A malformed
  annotation line rejects its whole abstract, since a sentence would otherwise silently lose a mention.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, ner, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

_UNPACKED = ("", "chemdner_corpus/")
_IOB_DIRS = (
    "",
    *(f"{root}{d}/" for root in ("", "data/", "MTL-Bioinformatics-2016/data/") for d in ("BC4CHEMD", "BC4CHEMD-IOB")),
)
_ORIGINAL_SPLITS = (("training", "train"), ("development", "validation"), ("evaluation", "test"))

SOURCE = Source(
    id="bc4chemd",
    name="BioCreative IV CHEMDNER (BC4CHEMD)",
    homepage="https://github.com/cambridgeltl/MTL-Bioinformatics-2016",
    license="CC BY 4.0 (MTL-Bioinformatics-2016 IOB copy)",
    access="open",
    citation=(
        "Krallinger, M., Rabal, O., Leitner, F., Vazquez, M., Salgado, D., Lu, Z., Leaman, R., Lu, Y., Ji, D., "
        "Lowe, D. M., et al. (2015). The CHEMDNER corpus of chemicals and drugs and its annotation principles. "
        "Journal of Cheminformatics 7(Suppl 1): S2."
    ),
    obtain=(
        "Download data/BC4CHEMD/{train,devel,test}.tsv from github.com/cambridgeltl/MTL-Bioinformatics-2016 (the "
        "IOB copy; BioBERT's datasets/NER/BC4CHEMD has the same files), or the original chemdner_corpus.tar.gz "
        "from https://biocreative.bioinformatics.udel.edu/resources/biocreative-iv/chemdner-corpus/ (unpacked: "
        "{training,development,evaluation}.{abstracts,annotations}.txt)."
    ),
    forms=(
        RawForm(
            "original",
            tuple(
                RawFile(f"{part}_{kind}", tuple(f"{p}{part}.{kind}.txt" for p in _UNPACKED), False, split)
                for part, split in _ORIGINAL_SPLITS
                for kind in ("abstracts", "annotations")
            ),
            "the CHEMDNER release: {training,development,evaluation}.{abstracts,annotations}.txt",
        ),
        ner.iob_form(
            _IOB_DIRS, "MTL-Bioinformatics-2016 / BioBERT sentence-split IOB files (token<TAB>B-Chemical|I-Chemical|O)"
        ),
    ),
    # The MTL-Bioinformatics-2016 IOB copy (pinned commit; digests not recorded: the files were not at hand).
    downloads=(
        Download(
            "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/"
            "df0df02fae6dbb87d88ffcf323b9096528f06f84/data/BC4CHEMD/train.tsv",
            "BC4CHEMD/train.tsv",
        ),
        Download(
            "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/"
            "df0df02fae6dbb87d88ffcf323b9096528f06f84/data/BC4CHEMD/devel.tsv",
            "BC4CHEMD/devel.tsv",
        ),
        Download(
            "https://raw.githubusercontent.com/cambridgeltl/MTL-Bioinformatics-2016/"
            "df0df02fae6dbb87d88ffcf323b9096528f06f84/data/BC4CHEMD/test.tsv",
            "BC4CHEMD/test.tsv",
        ),
    ),
)

TASKS = (Task("bc4chemd_ner", "Named Entity Recognition", "Medical Knowledge", tags=("Chemical", "PubMed")),)
TASK = TASKS[0].id
NO_ENTITY = forms.NO_ENTITY
_ANNOTATION = "PMID, T|A, start, end (exclusive), text, class"


def generate(files: RawFiles) -> Iterator[Item]:
    """Records of whichever form was detected; keys count repeats over the whole run."""
    yield from ner.records(TASK, _original(files) if files.form.name == "original" else ner.iob_sentences(files, TASK))


def to_iob(files: RawFiles) -> Iterator[list[tuple[str, str]]]:
    """The original release as IOB sentences of (token, B|I|O), as the MTL / BioBERT copies distribute it."""
    return ner.to_iob(_original(files))


def _original(files: RawFiles) -> Iterator[ner.Sentence | Rejection]:
    for part, split in _ORIGINAL_SPLITS:
        abstracts, annotations = files.path(f"{part}_abstracts"), files.path(f"{part}_annotations")
        if abstracts and not annotations:  # every sentence would wrongly say "no entity"
            why = f"{part}.annotations.txt missing: the {part} abstracts are not converted"
            yield Rejection(why, files.relative(abstracts), "whole file", TASK)
            continue
        if not abstracts:
            if annotations:
                why = f"{part}.abstracts.txt missing: the {part} annotations cannot be used"
                yield Rejection(why, files.relative(annotations), "whole file", TASK)
            continue
        table = files.relative(annotations)
        mentions: dict[str, list[tuple[str, int, int, str, int]]] = defaultdict(list)
        broken: dict[str, int] = {}
        for number, line, error in _lines(annotations):
            cols = line.split("\t")
            if error or len(cols) != 6 or cols[1] not in ("T", "A") or not (cols[2].isdigit() and cols[3].isdigit()):
                reason = f"not UTF-8 ({error})" if error else f"malformed line: expected {_ANNOTATION}"
                yield Rejection(reason, table, f"line {number}", TASK, line)
                if not error and cols[0].strip():
                    broken.setdefault(cols[0].strip(), number)
                continue
            mentions[cols[0]].append((cols[1], int(cols[2]), int(cols[3]), cols[4], number))
        name = files.relative(abstracts)
        seen: set[str] = set()
        for number, line, error in _lines(abstracts):
            cols = line.split("\t")
            if error or len(cols) != 3 or not cols[0].strip():
                reason = f"not UTF-8 ({error})" if error else "malformed line: expected PMID, title, abstract"
                yield Rejection(reason, name, f"line {number}", TASK, line[:200])
                continue
            pmid, title, abstract = cols
            seen.add(pmid)
            label = f"line {number} (PMID {pmid})"
            if pmid in broken:
                why = f"abstract skipped: its annotation {table} line {broken[pmid]} is malformed"
                yield Rejection(why, name, label, TASK)
                continue
            shift = {"T": 0, "A": len(title) + 1}  # abstract offsets count from the abstract's first character
            spans = [
                ner.Span(start + shift[where], end + shift[where], text, table, f"line {n}")
                for where, start, end, text, n in mentions.get(pmid, [])
            ]
            for item in ner.standoff_sentences(f"{title}\n{abstract}", spans, name, label, TASK):
                yield item._replace(split=split) if isinstance(item, ner.Sentence) else item
        for pmid in sorted(set(mentions) - seen):
            lines = mentions[pmid]
            why = f"annotations of a PMID absent from {name}"
            yield Rejection(why, table, f"line {lines[0][4]}", TASK, f"PMID {pmid} ({len(lines)} annotations)")


def _lines(path: Path) -> Iterator[tuple[int, str, str]]:
    """(number, line, decoding problem or "") for each non-blank line; split on LF only."""
    with path.open("rb") as f:
        for number, line, problem in readers.text_lines(f):
            if line.strip():
                yield number, line, problem or ""
