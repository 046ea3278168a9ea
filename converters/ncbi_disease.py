"""NCBI Disease corpus (Doğan, Leaman and Lu, J Biomed Inform 2014): 793 PubMed abstracts with every disease
mention annotated. Task `ncbi_disease_entity_extraction` (SNI task1448): the input is one sentence of an abstract
(title or abstract sentence), the output its disease mentions (`forms.entities`: first-appearance order,
de-duplicated, ", "-joined, "There is no related entity." when none). All four mention types (SpecificDisease,
DiseaseClass, Modifier, CompositeMention) are disease mentions, as in the IOB copies.

Two distributions are accepted, detected from the files present (the original first):
- the official release (NCBItrainset_corpus.txt, NCBIdevelopset_corpus.txt, NCBItestset_corpus.txt, as in the NCBI
  zips and spyysalo/ncbi-disease original-data/): PubTator-style documents, `PMID|t|title`, `PMID|a|abstract`, then
  `PMID<TAB>start<TAB>end<TAB>mention<TAB>type<TAB>concept` lines (end offset exclusive, counted over title + one
  separator + abstract), a blank line between documents. The title and abstract are joined by a newline, so the
  title is always its own sentence; abstracts are split by `ner.split_sentences`, never inside a mention.
- the MTL-Bioinformatics-2016 / BioBERT IOB copy (NCBI-disease-IOB/ or NCBI-disease/ with train, devel, test.tsv,
  `token<TAB>B-Disease|I-Disease|O`), which has lost spacing and document ids.
Both are reduced to the canonical form of `pipeline.ner` (its tokens re-joined by `detokenize`, keyed by a hash
of the content), so a sentence gives the same (id, input, output) from either form. Splits: train / devel / test
-> train / validation / test.

Quirks handled: the training file holds PMID 8528200 twice (identical copies); a repeated PMID is quarantined
rather than converted twice. A mention column with trailing spaces (PMID 10923035) is compared stripped. A mention
nested inside another is dropped in favour of the outer one (what an IOB file can represent). A document whose
offsets disagree with its text, a malformed line or a non-UTF-8 byte quarantines the document with file and line.

`pubtator_documents` reads any PubTator file and is shared with the BC5CDR converter.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline import forms, ner, pubtator
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

SPLITS = (("train", "train"), ("devel", "validation"), ("test", "test"))
_ORIGINAL = {"train": "NCBItrainset_corpus.txt", "devel": "NCBIdevelopset_corpus.txt", "test": "NCBItestset_corpus.txt"}
_IOB_DIRS = ("", "**/NCBI-disease-IOB/", "**/NCBI-disease/")

SOURCE = Source(
    id="ncbi_disease",
    name="NCBI Disease Corpus",
    homepage="https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/",
    license="Public domain (US government work)",
    access="open",
    citation=(
        "Doğan, R. I., Leaman, R. and Lu, Z. (2014). NCBI disease corpus: a resource for disease name recognition "
        "and concept normalization. Journal of Biomedical Informatics 47: 1-10."
    ),
    obtain=(
        "Download and unzip NCBItrainset_corpus.zip, NCBIdevelopset_corpus.zip and NCBItestset_corpus.zip from "
        "https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/ (also in original-data/ of "
        "https://github.com/spyysalo/ncbi-disease), or use the IOB files train.tsv, devel.tsv, test.tsv of "
        "data/NCBI-disease-IOB/ in https://github.com/cambridgeltl/MTL-Bioinformatics-2016 (BioBERT: NCBI-disease/)."
    ),
    forms=(
        RawForm(
            "original",
            tuple(
                RawFile(name, (_ORIGINAL[name], f"**/{_ORIGINAL[name]}"), required=False, split=split)
                for name, split in SPLITS
            ),
            "the official PubTator-style release: NCBItrainset_corpus.txt, NCBIdevelopset_corpus.txt, "
            "NCBItestset_corpus.txt (anywhere below the raw folder)",
        ),
        ner.iob_form(_IOB_DIRS, "MTL-Bioinformatics-2016 / BioBERT IOB files (token<TAB>B|I|O): NCBI-disease-IOB/"),
        ner.hf_form("ncbi_disease"),
    ),
    # NCBI's three zips (each holds its NCBI*_corpus.txt), extracted whole.
    downloads=tuple(
        Download(f"https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/{name}.zip", f"{name}.zip", unpack="zip")
        for name in ("NCBItrainset_corpus", "NCBIdevelopset_corpus", "NCBItestset_corpus")
    ),
)

TASKS = (
    Task("ncbi_disease_entity_extraction", "Named Entity Recognition", "Medical Knowledge", tags=("Disease", "PubMed")),
)
TASK = TASKS[0].id
#: Class names of the ner_tags feature of the Hugging Face dataset ncbi_disease, in id order.
HF_TAGS = ("O", "B-Disease", "I-Disease")
NO_ENTITY = forms.NO_ENTITY


def generate(files: RawFiles) -> Iterator[Item]:
    """Records of whichever form was detected; keys count repeats over the whole run."""
    yield from ner.records(TASK, ner.form_sentences(files, TASK, _original, HF_TAGS))


def to_iob(files: RawFiles) -> Iterator[list[tuple[str, str]]]:
    """The original release as IOB sentences of (token, B|I|O), as the MTL / BioBERT copies distribute it."""
    return ner.to_iob(_original(files))


def _original(files: RawFiles) -> Iterator[ner.Sentence | Rejection]:
    seen: dict[str, str] = {}
    for raw in files.form.files:
        for path in files.paths(raw.name):
            yield from pubtator.pubtator_sentences(path, files.relative(path), raw.split, TASK, None, seen)
