"""BioCreative V CDR (Li et al., Database 2016): 1,500 PubMed abstracts (500 train / 500 development / 500 test)
with every chemical and disease mention annotated. Two tasks are formed from the same sentences:
- `bc5cdr_disease_entity_extraction` (SNI task1449; MedS-Bench BC5Disease): input one sentence, output its Disease
  mentions;
- `bc5cdr_chemical_ner` (MedS-Bench BC5Chem): input one sentence, output its Chemical mentions.
Outputs are `forms.entities` (first-appearance order, de-duplicated, ", "-joined, "There is no related entity."
when none). The test split is the official CDR test set, the MedS-Bench test side of both tasks.

Two distributions are accepted, detected from the files present (the original first):
- the official release CDR_Data.zip, CDR.Corpus.v010516/CDR_{Training,Development,Test}Set.PubTator.txt:
  `PMID|t|title`, `PMID|a|abstract`, mention lines `PMID<TAB>start<TAB>end<TAB>mention<TAB>Chemical|Disease<TAB>
  MeSH[<TAB>individual mentions]` (end offset exclusive, over title + one separator + abstract), relation lines
  `PMID<TAB>CID<TAB>...` (not mentions, passed over), a blank line between documents. The BioC XML copies of the
  same documents are not read (the PubTator files hold the same text and annotations). The 50-abstract CDR_sample
  set is not a split of the corpus and is not read either. Title and abstract are joined by a newline (the title is
  its own sentence) and abstracts split by `ner.split_sentences`, never inside a mention of the task's type. A mention
  nested in another of its type ("acidosis" in "metabolic acidosis") is dropped in favour of the outer one.
- the MTL-Bioinformatics-2016 / BioBERT IOB copies, one folder per entity type (BC5CDR-chem-IOB/ and
  BC5CDR-disease-IOB/, BioBERT: BC5CDR-chem/ and BC5CDR-disease/, each with train, devel, test.tsv). The combined
  BC5CDR-IOB folder is not read: where a chemical lies inside a disease mention ("cocaine abuse") it keeps only one
  of the two, so its chemical and disease sentences are not those of the corpus.
Both forms are reduced to the canonical form of `pipeline.ner` (tokens re-joined by `detokenize`, keyed by a hash of
the content), so a sentence gives the same (id, input, output) from either form. Splits: Training / Development /
Test (train / devel / test) -> train / validation / test. PubTator reading (quarantine of malformed lines,
non-UTF-8 bytes, repeated PMIDs and mismatching offsets, document by document) is shared with converters.ncbi_disease.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline import forms, ner, pubtator
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

SPLITS = (("train", "Training", "train"), ("devel", "Development", "validation"), ("test", "Test", "test"))
_IOB_NAMES = {"train": ("train.tsv",), "devel": ("devel.tsv", "dev.tsv"), "test": ("test.tsv",)}

SOURCE = Source(
    id="bc5cdr",
    name="BioCreative V CDR (BC5CDR)",
    homepage="https://github.com/JHnlp/BioCreative-V-CDR-Corpus",
    license="BioCreative terms (free for research); MTL IOB copy CC BY 4.0",
    access="open",
    citation=(
        "Li, J., Sun, Y., Johnson, R. J., Sciaky, D., Wei, C.-H., Leaman, R., Davis, A. P., Mattingly, C. J., "
        "Wiegers, T. C. and Lu, Z. (2016). BioCreative V CDR task corpus: a resource for chemical disease relation "
        "extraction. Database 2016: baw068."
    ),
    obtain=(
        "Unzip CDR_Data.zip from https://github.com/JHnlp/BioCreative-V-CDR-Corpus (the BioCreative V track 3 "
        "release) into the raw folder: CDR_Data/CDR.Corpus.v010516/CDR_{Training,Development,Test}Set.PubTator.txt. "
        "Or use the IOB files data/BC5CDR-chem-IOB/ and data/BC5CDR-disease-IOB/ ({train,devel,test}.tsv) of "
        "https://github.com/cambridgeltl/MTL-Bioinformatics-2016 (BioBERT: BC5CDR-chem/, BC5CDR-disease/)."
    ),
    version="CDR.Corpus.v010516",
    forms=(
        RawForm(
            "original",
            tuple(
                RawFile(name, (f"CDR_{s}Set.PubTator.txt", f"**/CDR_{s}Set.PubTator.txt"), required=False, split=split)
                for name, s, split in SPLITS
            ),
            "the official PubTator files CDR_{Training,Development,Test}Set.PubTator.txt (anywhere below the folder)",
        ),
        RawForm(
            "iob",
            tuple(
                RawFile(
                    f"{kind}_{name}",
                    tuple(f"**/BC5CDR-{kind}{d}/{f}" for d in ("-IOB", "") for f in _IOB_NAMES[name]),
                    required=False,
                    split=split,
                )
                for kind in ("chem", "disease")
                for name, _, split in SPLITS
            ),
            "MTL-Bioinformatics-2016 / BioBERT IOB files (token<TAB>B|I|O), one folder per entity type: "
            "BC5CDR-chem-IOB/ and BC5CDR-disease-IOB/ with {train,devel,test}.tsv",
        ),
    ),
    # CDR_Data.zip of the JHnlp copy of the BioCreative V track 3 release (pinned commit); only the PubTator files.
    downloads=(
        Download(
            "https://raw.githubusercontent.com/JHnlp/BioCreative-V-CDR-Corpus/"
            "dd0b3165a94338874979a2a8aaedf74b67466b9c/CDR_Data.zip",
            "CDR_Data.zip",
            unpack="zip",
            members=(
                ("*CDR_TrainingSet.PubTator.txt", ""),
                ("*CDR_DevelopmentSet.PubTator.txt", ""),
                ("*CDR_TestSet.PubTator.txt", ""),
            ),
        ),
    ),
)

_TAGS = ("BC5CDR", "PubMed")
TASKS = (
    Task("bc5cdr_disease_entity_extraction", "Named Entity Recognition", "Medical Knowledge", ("Disease",) + _TAGS),
    Task("bc5cdr_chemical_ner", "Named Entity Recognition", "Medical Knowledge", ("Chemical",) + _TAGS),
)
DISEASE, CHEMICAL = (t.id for t in TASKS)
#: Each task: its PubTator mention type and its IOB folder.
ENTITY = {DISEASE: ("Disease", "disease"), CHEMICAL: ("Chemical", "chem")}
NO_ENTITY = forms.NO_ENTITY


def generate(files: RawFiles) -> Iterator[Item]:
    """Each task in turn (the PubTator files are read once per task); keys count repeats within a task."""
    for task in (DISEASE, CHEMICAL):
        yield from ner.records(task, _sentences(files, task))


def to_iob(files: RawFiles, task: str) -> Iterator[list[tuple[str, str]]]:
    """The original release as one task's IOB sentences of (token, B|I|O), as the MTL / BioBERT copies give it."""
    return ner.to_iob(_sentences(files, task))


def _sentences(files: RawFiles, task: str) -> Iterator[ner.Sentence | Rejection]:
    mention_type, folder = ENTITY[task]
    seen: dict[str, str] = {}
    for name, _, split in SPLITS:
        if files.form.name == "original":
            for path in files.paths(name):
                yield from pubtator.pubtator_sentences(path, files.relative(path), split, task, {mention_type}, seen)
        else:
            for path in files.paths(f"{folder}_{name}"):
                yield from ner.read_iob(path, files.relative(path), split, task)
