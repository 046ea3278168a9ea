"""LitCovid, BioCreative VII Track 5 (Chen et al., Database 2022): COVID-19 articles of PubMed with the LitCovid topics
their curators assigned, a multi-label topic classification task.

Read as NCBI distributes it (https://ftp.ncbi.nlm.nih.gov/pub/lu/LitCovid/biocreative/): BC7-LitCovid-Train.csv,
BC7-LitCovid-Dev.csv and BC7-LitCovid-Test-GS.csv (the test set with its gold labels; BC7-LitCovid-Test.csv has no
labels and is not read). Comma-separated, UTF-8, a header row, double-quoted fields that may hold commas and line
breaks (the pandas/RFC 4180 dialect). Columns, found by name: pmid, journal, title, abstract, keywords, pub_type,
authors, doi, label; `label` joins the topics with ';'.

Task litcovid_text_classification (official splits: Train -> train, Dev -> validation, Test-GS -> test; key and
group = pmid):
- input: `forms.fields(title=..., abstract=...)`; an article without an abstract keeps its title alone (the track
  scores such articles too);
- output: `forms.labels` of its topics in the track's order: Treatment, Diagnosis, Prevention, Mechanism,
  Transmission, Epidemic Forecasting, Case Report (topic names matched regardless of case).
Files are read test, dev, train, so that a PMID read before (the test record stays whole) is quarantined. Rows with a
non-UTF-8 byte, the wrong column count, no pmid, no title and no abstract, no label or an unknown topic are
quarantined with their line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_DIRS = ("", "biocreative/")
_FILES = (("test", "Test-GS", "test"), ("dev", "Dev", "validation"), ("train", "Train", "train"))  # read order

SOURCE = Source(
    id="litcovid",
    name="LitCovid (BioCreative VII Track 5)",
    homepage="https://github.com/ncbi/biocreative_litcovid",
    license="unspecified (NCBI public data; abstracts from PubMed)",
    access="open",
    citation=(
        "Chen, Q., Allot, A., Leaman, R., et al. (2022). Multi-label classification for biomedical literature: an "
        "overview of the BioCreative VII LitCovid Track for COVID-19 literature topic annotations. Database 2022, "
        "baac069."
    ),
    obtain=(
        "Download BC7-LitCovid-Train.csv, BC7-LitCovid-Dev.csv and BC7-LitCovid-Test-GS.csv from "
        "https://ftp.ncbi.nlm.nih.gov/pub/lu/LitCovid/biocreative/ (linked from the BioCreative VII Track 5 page) "
        "into the raw folder."
    ),
    forms=(
        RawForm(
            "csv",
            tuple(
                RawFile(name, tuple(f"{d}BC7-LitCovid-{stem}.csv" for d in _DIRS), required=False, split=split)
                for name, stem, split in _FILES
            ),
            "the BioCreative VII Track 5 CSV files (Train, Dev, Test-GS)",
        ),
    ),
    # NCBI's FTP site over HTTPS (the BioCreative VII Track 5 release, as the BigBio loader reads it).
    downloads=tuple(
        Download(f"https://ftp.ncbi.nlm.nih.gov/pub/lu/LitCovid/biocreative/{name}", name)
        for name in ("BC7-LitCovid-Train.csv", "BC7-LitCovid-Dev.csv", "BC7-LitCovid-Test-GS.csv")
    ),
)

TOPICS = ("Treatment", "Diagnosis", "Prevention", "Mechanism", "Transmission", "Epidemic Forecasting", "Case Report")
TASKS = (
    Task(
        "litcovid_text_classification",
        "Text Classification",
        "Medical Knowledge",
        tags=("COVID-19", "Topic Classification", "PubMed"),
        labels=TOPICS,
        multi_label=True,
    ),
)
TASK = TASKS[0].id
COLUMNS = ("pmid", "title", "abstract", "label")
_BY_NAME = {t.casefold(): t for t in TOPICS}


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # pmid -> where it was first read
    for name, _, split in _FILES:
        for path in files.paths(name):
            yield from _rows(path, files.relative(path), split, seen)


def _rows(path: Path, name: str, split: str, seen: dict[str, str]) -> Iterator[Item]:
    for item in readers.keyed_rows(readers.csv_rows(path, name, COLUMNS, lower_header=True), name, TASK, "pmid", seen):
        if isinstance(item, Rejection):
            yield item
            continue
        where, row = item
        pmid = row["pmid"]
        try:
            text = forms.fields(title=row["title"], abstract=row["abstract"])
            topics = [_BY_NAME.get(" ".join(t.split()).casefold(), t.strip()) for t in row["label"].split(";")]
            output = forms.labels([t for t in topics if t], TOPICS)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, TASK, row["label"] or None)
            continue
        yield Record(TASK, pmid, text, output, name, where, split=split, group=pmid)
