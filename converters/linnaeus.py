"""LINNAEUS species corpus (Gerner, Nenadic and Bergman, BMC Bioinformatics 2010): 100 PubMed Central full-text
articles with every species mention annotated. MedS-Ins asks, sentence by sentence, for the species mentioned.

Task `linnaeus_gene_extraction`: the catalogue (after Super-NaturalInstructions task1484,
"gene_extraction_linnaeus_dataset") calls it gene extraction, but LINNAEUS annotates SPECIES names, not genes;
the catalogue's task id is kept so the dataset matches MedS-Ins, and the seeds ask for organisms.
Input = one sentence; output = its species mentions (first-appearance order, de-duplicated, ", "-joined) or
"There is no related entity.".

Two distributions are accepted, reduced to one canonical form by `pipeline.ner` (the tokens of `tokenize`
re-joined by `detokenize`, keyed by a hash of the content), so a sentence gives the same (id, input, output)
whichever form it came from:
- "original": LINNAEUS v1.1 (manual-corpus-species-1.1 on SourceForge, mirrored by spyysalo/linnaeus-corpus-data):
  `txt/pmcA*.txt` full texts (UTF-8) and `tags.tsv` (header `#species id<TAB>document<TAB>start<TAB>end<TAB>text
  <TAB>code`, end offset exclusive). `tags.tsv` is read, not `filtered_tags.tsv`: it keeps "species clues" such as
  "patients", as the IOB copy does. The release has no official split; where the document lists of
  spyysalo/linnaeus-corpus (`split/{train,devel,test}.txt`, the 50/17/33-document split the IOB copy follows) are
  present, documents take that split, otherwise split is None (hash split on the sentence).
- "iob": the MTL-Bioinformatics-2016 / BioBERT copy `linnaeus-IOB/{train,devel,test}.tsv`
  (`token<TAB>B-Species|I-Species|O`, a bare B|I|O is accepted too); devel -> validation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, ner, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

_UNPACKED = ("", "linnaeus-corpus-data/", "manual-corpus-species-1.1/", "manual-corpus-species-1.0/")
_SPLIT_LISTS = ("split/", "linnaeus-corpus/split/")
_IOB_DIRS = ("", "linnaeus-IOB/", "linnaeus/", "data/linnaeus-IOB/", "MTL-Bioinformatics-2016/data/linnaeus-IOB/")
_SPLITS = (("train", "train"), ("devel", "validation"), ("test", "test"))

SOURCE = Source(
    id="linnaeus",
    name="LINNAEUS species corpus",
    homepage="http://linnaeus.sourceforge.net/",
    license="CC BY 4.0",
    access="open",
    citation=(
        "Gerner, M., Nenadic, G. and Bergman, C. M. (2010). LINNAEUS: a species name identification system for "
        "biomedical literature. BMC Bioinformatics 11: 85."
    ),
    obtain=(
        "Download manual-corpus-species-1.1.tar.gz from https://sourceforge.net/projects/linnaeus/files/Corpora/ "
        "(or clone github.com/spyysalo/linnaeus-corpus-data) and, for the train/devel/test split, the split/ folder "
        "of github.com/spyysalo/linnaeus-corpus; or use the MTL-Bioinformatics-2016 IOB files "
        "data/linnaeus-IOB/{train,devel,test}.tsv (github.com/cambridgeltl/MTL-Bioinformatics-2016)."
    ),
    version="1.1",
    forms=(
        RawForm(
            "original",
            (
                RawFile("annotations", tuple(p + "tags.tsv" for p in _UNPACKED), description="standoff mentions"),
                RawFile("documents", tuple(p + "txt/pmcA*.txt" for p in _UNPACKED), description="full texts"),
                *(
                    RawFile(f"{name}_list", tuple(f"{p}{name}.txt" for p in _SPLIT_LISTS), False, split)
                    for name, split in _SPLITS
                ),
            ),
            "LINNAEUS v1.1: txt/pmcA*.txt + tags.tsv (+ split/{train,devel,test}.txt of spyysalo/linnaeus-corpus)",
        ),
        ner.iob_form(
            _IOB_DIRS, "MTL-Bioinformatics-2016 / BioBERT sentence-split IOB files (token<TAB>B-Species|I-Species|O)"
        ),
        ner.hf_form("linnaeus"),
    ),
    # LINNAEUS v1.1 as mirrored (CC BY 4.0) in spyysalo/linnaeus-corpus-data (the SourceForge original,
    # manual-corpus-species-1.1.tar.gz, sits behind SourceForge's mirror redirects), and the train/devel/test
    # document lists of spyysalo/linnaeus-corpus; both at pinned commits.
    downloads=(
        Download(
            "https://github.com/spyysalo/linnaeus-corpus-data/archive/274ef6ed11178320832f58f8cca158a93889aeda.tar.gz",
            "linnaeus-corpus-data.tar.gz",
            unpack="tar.gz",
            members=(("*/tags.tsv", "tags.tsv"), ("*/txt/", "txt/")),
        ),
        *(
            Download(
                "https://raw.githubusercontent.com/spyysalo/linnaeus-corpus/"
                f"f75269c93b887d256061faf1339628b1c7e472db/split/{name}",
                f"split/{name}",
                sha256=digest,
                size=size,
            )
            for name, size, digest in (
                ("train.txt", 589, "c860806e7fcd56ea1b6011fb5e53e613324d5f47370c5722313d0edcf9a3e259"),
                ("devel.txt", 201, "c9b8aface0f42f463fc5419eeb7418bdd453a9f04c8b7ed2c7b28ba2d6d4966b"),
                ("test.txt", 390, "f42b6bf1f846c341cc71ee67ff43ec6a15167442f1067f231e05cc6ab2e1fc4e"),
            )
        ),
    ),
)

TASKS = (
    # Catalogue id kept; the corpus annotates species, not genes (see the module docstring).
    Task("linnaeus_gene_extraction", "Named Entity Recognition", "Medical Knowledge", tags=("Species", "PMC")),
)
TASK = TASKS[0].id
#: Class names of the ner_tags feature of the Hugging Face dataset linnaeus, in id order.
HF_TAGS = ("O", "B", "I")
NO_ENTITY = forms.NO_ENTITY
_COLUMNS = "species id, document, start, end (exclusive), text, code"


def generate(files: RawFiles) -> Iterator[Item]:
    """Records of whichever form was detected; keys count repeats over the whole run."""
    yield from ner.records(TASK, ner.form_sentences(files, TASK, _original, HF_TAGS))


def to_iob(files: RawFiles) -> Iterator[list[tuple[str, str]]]:
    """The original release as IOB sentences of (token, B|I|O), as the MTL / BioBERT copies distribute it."""
    return ner.to_iob(_original(files))


def split_of(files: RawFiles) -> dict[str, tuple[str, str]]:
    """Document id -> (split, list file), from whichever split lists are present (one id a line)."""
    splits: dict[str, tuple[str, str]] = {}
    for name, split in _SPLITS:
        for path in files.paths(f"{name}_list"):
            with path.open(encoding="utf-8-sig") as f:
                splits.update((line.strip(), (split, files.relative(path))) for line in f if line.strip())
    return splits


def _original(files: RawFiles) -> Iterator[ner.Sentence | Rejection]:
    """tags.tsv (~4,300 lines) is read whole; documents are read one at a time."""
    table = files.path("annotations")
    table_name = files.relative(table)
    mentions: dict[str, list[ner.Span]] = defaultdict(list)
    broken: dict[str, int] = {}  # document -> first malformed line naming it
    for number, line, error in _lines(table):
        if number == 1 and line.startswith("#"):  # the header
            continue
        cols = line.split("\t")
        if error or len(cols) != 6 or not (cols[2].isdigit() and cols[3].isdigit() and cols[1] and cols[4]):
            why = f"not UTF-8 ({error})" if error else f"malformed line: expected {_COLUMNS}"
            yield Rejection(why, table_name, f"line {number}", TASK, line)
            if len(cols) > 1 and cols[1].strip():
                broken.setdefault(cols[1].strip(), number)
            continue
        mentions[cols[1]].append(ner.Span(int(cols[2]), int(cols[3]), cols[4], table_name, f"line {number}"))
    splits = split_of(files)
    present = {path.stem: path for path in files.paths("documents")}
    for doc, path in present.items():
        label = path.name
        if doc in broken:  # converting it would silently lose the malformed line's mention
            why = f"document skipped: its annotation {table_name} line {broken[doc]} is malformed"
            yield Rejection(why, files.relative(path), label, TASK)
            mentions.pop(doc, None)
            continue
        spans = mentions.pop(doc, [])
        try:
            text = path.read_bytes().decode("utf-8")  # no newline translation: offsets count every character
        except UnicodeDecodeError as error:
            yield Rejection(f"not UTF-8 ({error.reason} at byte {error.start})", files.relative(path), label, TASK)
            continue
        for item in ner.standoff_sentences(text, spans, files.relative(path), label, TASK):
            yield item._replace(split=splits[doc][0]) if isinstance(item, ner.Sentence) and doc in splits else item
    folder = files.paths("documents")[0].parent
    for doc in sorted((set(mentions) | set(splits) | set(broken)) - set(present)):
        where = files.relative(folder / f"{doc}.txt")
        if doc in mentions or doc in broken:
            why, origin = "document file missing: its annotations cannot be used", table_name
        else:
            why, origin = "document file missing: listed in a split list", splits[doc][1]
        yield Rejection(why, origin, doc, TASK, f"{where} ({len(mentions.get(doc, []))} annotations)")


def _lines(path: Path) -> Iterator[tuple[int, str, str]]:
    """(number, line, decoding problem or "") for each non-blank line; split on LF only."""
    with path.open("rb") as f:
        for number, line, problem in readers.text_lines(f):
            if line.strip():
                yield number, line, problem or ""
