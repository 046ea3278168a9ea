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

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, ner
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Rejection, Source, Task

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
        ner.iob_form(
            ("", "s800/", "S800/"), "BioBERT / MTL-Bioinformatics-2016 sentence-split IOB files (token<TAB>B|I|O)"
        ),
        ner.hf_form("species_800"),
    ),
    # The official S800 release from the JensenLab site; its files sit at the top of the archive.
    downloads=(Download("https://species.jensenlab.org/files/S800-1.0.tar.gz", "S800-1.0.tar.gz", unpack="tar.gz"),),
)

TASKS = (Task("species800_ner", "Named Entity Recognition", "Medical Knowledge", tags=("Species", "PubMed")),)
TASK = TASKS[0].id
#: Class names of the ner_tags feature of the Hugging Face dataset species_800, in id order.
HF_TAGS = ("O", "B", "I")
NO_ENTITY = forms.NO_ENTITY

_Span = tuple[int, int, str, int]  # start, exclusive end, mention, S800.tsv line


def generate(files: RawFiles) -> Iterator[Item]:
    """Records of whichever form was detected; keys count repeats over the whole run."""
    yield from ner.records(TASK, ner.form_sentences(files, TASK, _original, HF_TAGS))


def to_iob(files: RawFiles) -> Iterator[list[tuple[str, str]]]:
    """The original release as IOB sentences of (token, B|I|O), as BioBERT distributes S800."""
    return ner.to_iob(_original(files))


def _original(files: RawFiles) -> Iterator[ner.Sentence | Rejection]:
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
    """One abstract's sentences (S800.tsv offsets are end-inclusive; made exclusive when read)."""
    label = f"{path.name} (PMID {pmid})" if pmid else path.name
    standoff = [ner.Span(s, e, m, table_name, f"line {n}") for s, e, m, n in spans]
    yield from ner.standoff_sentences(path.read_text(encoding="utf-8"), standoff, files.relative(path), label, TASK)
