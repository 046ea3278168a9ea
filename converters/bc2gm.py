"""BioCreative II Gene Mention (Smith et al., Genome Biology 2008): 20,000 MEDLINE sentences (15,000 train, 5,000
test) with gene and gene-product mentions. Task `bc2gm_gene_extraction` (SNI task1481): the input is one sentence,
the output its gene mentions (`forms.entities`: first-appearance order, de-duplicated, ", "-joined, "There is no
related entity." when none).

Two distributions are accepted, detected from the files present (the original first):
- the official release (bc2GMtrain_1.1 and bc2GMtest_1.0; spyysalo/bc2gm-corpus original-data/): `train/train.in`
  and `test/test.in`, one sentence a line as `SENTID text` (the id, one space, the untokenised text); the gold
  mentions in the `GENE.eval` beside each, `SENTID|start end|mention`, where BOTH OFFSETS COUNT NON-WHITESPACE
  CHARACTERS ONLY and the end is inclusive: start = non-space characters before the mention, end = index of its
  last non-space character. They are mapped back onto the text; a mention is checked against the text ignoring
  whitespace, as the offsets do. ALTGENE.eval (acceptable alternative spans for scoring) is not read: the output is
  the gold GENE.eval mentions. A line may hold more than one sentence; `ner.split_sentences` splits it (never inside a
  mention), as the IOB copies do. A mention nested in another ("p65" in "p65-selected kappa B motif") is dropped
  in favour of the outer one, which is what an IOB file can hold.
- the MTL-Bioinformatics-2016 / BioBERT IOB copy (BC2GM-IOB/ or BC2GM/ with train, devel, test.tsv,
  `token<TAB>B-GENE|I-GENE|O`), without spacing or sentence ids.
Both are reduced to the canonical form of `pipeline.ner` (tokens re-joined by `detokenize`, keyed by a hash of the
content), so a sentence gives the same (id, input, output) from either form. Splits: the official release has
train and test only; the IOB copies cut a devel split (-> validation) out of the official training sentences, so
a sentence may be train in one form and validation in the other. Quarantined, with file and line or sentence id:
malformed or undecodable lines (an unreadable GENE.eval line also quarantines its sentence, which would otherwise
lose a gene), GENE.eval lines naming no sentence of the text file, a repeated sentence id, a sentence whose mention
offsets disagree with its text, and a text file without its GENE.eval (whose sentences
would otherwise wrongly have no genes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, ner, pubtator
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

SOURCE = Source(
    id="bc2gm",
    name="BioCreative II Gene Mention (BC2GM)",
    homepage="https://github.com/spyysalo/bc2gm-corpus",
    license="Public domain (US government work); MTL IOB copy CC BY 4.0",
    access="open",
    citation=(
        "Smith, L., Tanabe, L. K., Ando, R. J., et al. (2008). Overview of BioCreative II gene mention recognition. "
        "Genome Biology 9(Suppl 2): S2."
    ),
    obtain=(
        "Unpack bc2GMtrain_1.1.tar.gz and bc2GMtest_1.0.tar.gz (biocreative.org; also original-data/ of "
        "https://github.com/spyysalo/bc2gm-corpus) so that train/train.in, train/GENE.eval, test/test.in and "
        "test/GENE.eval lie below the raw folder. Or use the IOB files train.tsv, devel.tsv, test.tsv of "
        "data/BC2GM-IOB/ in https://github.com/cambridgeltl/MTL-Bioinformatics-2016 (BioBERT: BC2GM/)."
    ),
    version="bc2GMtrain_1.1 / bc2GMtest_1.0",
    forms=(
        RawForm(
            "original",
            tuple(
                RawFile(f"{split}_{kind}", (f"{split}/{name}", f"**/{split}/{name}"), required=False, split=split)
                for split in ("train", "test")
                for kind, name in (("text", f"{split}.in"), ("genes", "GENE.eval"))
            ),
            "the official release: train/train.in + train/GENE.eval, test/test.in + test/GENE.eval",
        ),
        ner.iob_form(
            ("", "**/BC2GM-IOB/", "**/BC2GM/"),
            "MTL-Bioinformatics-2016 / BioBERT IOB files (token<TAB>B|I|O): BC2GM-IOB/{train,devel,test}.tsv",
        ),
        ner.hf_form("bc2gm_corpus"),
    ),
    # The official BioCreative II release (bc2GMtrain_1.1, bc2GMtest_1.0) as kept in original-data/ of
    # spyysalo/bc2gm-corpus (biocreative.org serves it behind a form); pinned commit, digests of its files.
    downloads=(
        Download(
            "https://raw.githubusercontent.com/spyysalo/bc2gm-corpus/"
            "018161681145daf751af037cb890f3a54f62a74d/original-data/train/train.in",
            "train/train.in",
            sha256="408f32a796e7aa8ed5b6428c1887e084282b42a02409bba151d0bda3698ca6e3",
            size=2515605,
        ),
        Download(
            "https://raw.githubusercontent.com/spyysalo/bc2gm-corpus/"
            "018161681145daf751af037cb890f3a54f62a74d/original-data/train/GENE.eval",
            "train/GENE.eval",
            sha256="6f2b01a25d700f1fddcc7dea6a1b722498b5a9ad6cf12b19ec9d36ab3b63ad87",
            size=626733,
        ),
        Download(
            "https://raw.githubusercontent.com/spyysalo/bc2gm-corpus/"
            "018161681145daf751af037cb890f3a54f62a74d/original-data/test/test.in",
            "test/test.in",
            sha256="dc1b919a143f99d0cb9182a3a26b1c98e46799d052a463d4c212c49532f123fd",
            size=842987,
        ),
        Download(
            "https://raw.githubusercontent.com/spyysalo/bc2gm-corpus/"
            "018161681145daf751af037cb890f3a54f62a74d/original-data/test/GENE.eval",
            "test/GENE.eval",
            sha256="e6df54b52d337a02a5b11432d132b28c7c657f717e1fe6e8035d3c7b2a18bf4f",
            size=215118,
        ),
    ),
)

TASKS = (Task("bc2gm_gene_extraction", "Named Entity Recognition", "Medical Knowledge", tags=("Gene", "PubMed")),)
TASK = TASKS[0].id
#: Class names of the ner_tags feature of the Hugging Face dataset bc2gm_corpus, in id order.
HF_TAGS = ("O", "B-GENE", "I-GENE")
NO_ENTITY = forms.NO_ENTITY

_Gene = tuple[int, int, str, int]  # start, inclusive end (non-whitespace offsets), mention, GENE.eval line


def generate(files: RawFiles) -> Iterator[Item]:
    """Records of whichever form was detected; keys count repeats over the whole run."""
    yield from ner.records(TASK, ner.form_sentences(files, TASK, _original, HF_TAGS))


def to_iob(files: RawFiles) -> Iterator[list[tuple[str, str]]]:
    """The original release as IOB sentences of (token, B|I|O), as the MTL / BioBERT copies distribute it."""
    return ner.to_iob(_original(files))


def _original(files: RawFiles) -> Iterator[ner.Sentence | Rejection]:
    """GENE.eval (a few thousand lines) is read whole; the sentences are streamed."""
    for split in ("train", "test"):
        text, genes = files.path(f"{split}_text"), files.path(f"{split}_genes")
        if text is None:
            continue
        if genes is None:
            why = f"no GENE.eval beside {files.relative(text)}: its sentences are skipped (they would have no genes)"
            yield Rejection(why, files.relative(text), "whole file", TASK)
            continue
        mentions: dict[str, list[_Gene]] = defaultdict(list)
        broken: dict[str, int] = {}  # sentence id -> a GENE.eval line of it that could not be read
        yield from _read_genes(genes, files.relative(genes), mentions, broken)
        yield from _sentences(text, files.relative(text), files.relative(genes), split, mentions, broken)
        for sentence_id, left in sorted(mentions.items()):  # (an unreadable line was reported when read)
            where = ", ".join(f"line {n}" for *_, n in left)
            why = f"annotation of sentence {sentence_id}, which is not in {files.relative(text)}"
            yield Rejection(why, files.relative(genes), where, TASK, sentence_id)


def _read_genes(path: Path, name: str, mentions: dict[str, list[_Gene]], broken: dict[str, int]) -> Iterator[Rejection]:
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line, problem = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n"), ""
            except UnicodeDecodeError as error:  # read on with a replacement character, to find its sentence
                line, problem = raw.decode("utf-8", "replace").rstrip("\r\n"), f"not UTF-8 ({error.reason})"
            sentence_id, _, rest = line.partition("|")
            offsets, _, mention = rest.partition("|")
            bounds = offsets.split()
            if len(bounds) != 2 or not all(b.isdigit() for b in bounds) or not mention.strip() or not sentence_id:
                problem = problem or "malformed line: expected SENTID|start end|mention"
            if problem and line.strip():
                yield Rejection(problem, name, f"line {number}", TASK, line)
                broken.setdefault(sentence_id.strip(), number)
            elif not problem:
                mentions[sentence_id].append((int(bounds[0]), int(bounds[1]), mention, number))


def _sentences(
    path: Path, name: str, genes_name: str, split: str, mentions: dict[str, list[_Gene]], broken: dict[str, int]
) -> Iterator[ner.Sentence | Rejection]:
    """The sentences of a .in file; `mentions` and `broken` are emptied of the ids found, the rest are strays."""
    seen: dict[str, int] = {}
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                yield Rejection(f"not UTF-8 ({error.reason})", name, f"line {number}", TASK, repr(raw[:80]))
                continue
            sentence_id, _, text = line.partition(" ")
            if not line.strip():
                continue
            if not text.strip():
                yield Rejection("malformed line: expected SENTID text", name, f"line {number}", TASK, line)
                continue
            if sentence_id in seen:
                why = f"sentence id {sentence_id} repeated (first at line {seen[sentence_id]})"
                yield Rejection(why, name, f"line {number}", TASK, sentence_id)
                continue
            seen[sentence_id] = number
            genes, bad = mentions.pop(sentence_id, []), broken.pop(sentence_id, None)
            if bad is not None:  # a mention of it is unreadable: without it the sentence would be wrong
                why = f"sentence skipped: its annotation at {genes_name} line {bad} cannot be read"
                yield Rejection(why, name, f"line {number} ({sentence_id})", TASK)
                continue
            solid = [i for i, ch in enumerate(text) if not ch.isspace()]  # character offset of each non-space
            spans = [_span(text, solid, gene, genes_name) for gene in genes]
            for item in ner.standoff_sentences(text, pubtator.outermost(spans), name, sentence_id, TASK):
                yield item._replace(split=split) if isinstance(item, ner.Sentence) else item


def _span(text: str, solid: list[int], gene: _Gene, genes_name: str) -> ner.Span:
    """A GENE.eval mention on character offsets. Its offsets count non-whitespace characters (end inclusive), so
    the mention matches when it equals the text there up to whitespace; the Span then carries the text's own
    spelling, and otherwise the GENE.eval spelling, which standoff_sentences reports as a mismatch."""
    start, last, mention, number = gene
    begin = solid[start] if start < len(solid) else len(text)
    end = solid[last] + 1 if start <= last < len(solid) else begin
    found = text[begin:end]
    same = "".join(found.split()) == "".join(mention.split())
    return ner.Span(begin, end, found if same else mention, genes_name, f"line {number}")
