"""PubMed MeSH classification: PubMed articles with the top-level MeSH categories of the headings NLM indexers gave
them, a multi-label classification task.

MedS-Ins names no source file for this corpus. The distribution read is the most widely used public one for the
task, the Kaggle dataset "PubMed MultiLabel Text Classification Dataset" (owaiskhan9654/pubmed-multilabel-text-
classification, mirrored on the Hugging Face Hub as owaiskha9654/PubMed_MultiLabel_Text_Classification_Dataset_MeSH):
about 50,000 articles drawn from the BioASQ Task A MEDLINE set, in the file
`PubMed Multi Label Text Classification Dataset Processed.csv`. It is read exactly as distributed: comma-separated,
UTF-8, a header row, double-quoted fields (pandas `to_csv`), 20 columns found by name:
Title, abstractText, meshMajor (Python-list text of the major MeSH headings), pmid, meshid (Python-list text of their
tree numbers), meshroot (Python-list text of their root categories such as `Diseases [C]`), then the 14 one-hot
columns A B C D E F G H I J L M N Z (0 or 1), one per MeSH root category.

Task pubmed_mesh_text_classification (no official split: split None, key and group = pmid):
- input: `forms.fields(title=Title, abstract=abstractText)`;
- output: `forms.labels` of the categories whose column is 1, in the column order A..Z. The label names are MeSH's
  category names except that the three with commas lose them ("Analytical Diagnostic and Therapeutic Techniques and
  Equipment", "Anthropology Education Sociology and Social Phenomena", "Technology Industry and Agriculture"): a
  multi-label output joins labels with ", ", so a label may not contain one.
Quarantined: rows whose one-hot columns are all 0 (about 360 of the 50,000: they come from headings outside the 14
categories and carry no label), a repeated pmid (the file holds a few hundred duplicate rows; the first is kept), a
one-hot cell that is not 0 or 1, no title and no abstract, the wrong column count, a non-UTF-8 byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

FILE = "PubMed Multi Label Text Classification Dataset Processed.csv"

SOURCE = Source(
    id="pubmed_mesh",
    name="PubMed MeSH classification (PubMed MultiLabel Text Classification Dataset)",
    homepage="https://www.kaggle.com/datasets/owaiskhan9654/pubmed-multilabel-text-classification",
    license="unspecified (Kaggle dataset; titles and abstracts from PubMed/MEDLINE, MeSH by NLM)",
    access="open",
    citation=(
        "PubMed MultiLabel Text Classification Dataset (MeSH). Kaggle dataset by owaiskhan9654, "
        "https://www.kaggle.com/datasets/owaiskhan9654/pubmed-multilabel-text-classification; articles from the "
        "BioASQ Task A MEDLINE set (Tsatsaronis et al., BMC Bioinformatics 2015)."
    ),
    obtain=(
        f"Download '{FILE}' from https://www.kaggle.com/datasets/owaiskhan9654/pubmed-multilabel-text-classification "
        "(or the Hugging Face mirror owaiskha9654/PubMed_MultiLabel_Text_Classification_Dataset_MeSH) into the raw "
        "folder."
    ),
    forms=(
        RawForm(
            "csv",
            (RawFile("articles", (FILE, f"data/{FILE}"), description="the processed CSV, 20 columns"),),
            "the Kaggle CSV: Title, abstractText, meshMajor, pmid, meshid, meshroot and 14 one-hot columns A..Z",
        ),
    ),
)

#: MeSH root categories in the order of the one-hot columns (commas dropped from three names, see above).
CATEGORIES = (
    ("A", "Anatomy"),
    ("B", "Organisms"),
    ("C", "Diseases"),
    ("D", "Chemicals and Drugs"),
    ("E", "Analytical Diagnostic and Therapeutic Techniques and Equipment"),
    ("F", "Psychiatry and Psychology"),
    ("G", "Phenomena and Processes"),
    ("H", "Disciplines and Occupations"),
    ("I", "Anthropology Education Sociology and Social Phenomena"),
    ("J", "Technology Industry and Agriculture"),
    ("L", "Information Science"),
    ("M", "Named Groups"),
    ("N", "Health Care"),
    ("Z", "Geographicals"),
)
LABELS = tuple(name for _, name in CATEGORIES)
TASKS = (
    Task(
        "pubmed_mesh_text_classification",
        "Text Classification",
        "Medical Knowledge",
        tags=("MeSH", "PubMed", "Subject Indexing"),
        labels=LABELS,
        multi_label=True,
    ),
)
TASK = TASKS[0].id
COLUMNS = ("Title", "abstractText", "pmid", *(code for code, _ in CATEGORIES))
_ONE, _ZERO = {"1", "1.0", "True", "true"}, {"0", "0.0", "False", "false"}


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("articles")
    yield from _rows(path, files.relative(path))


def _rows(path: Path, name: str) -> Iterator[Item]:
    seen: dict[str, str] = {}  # pmid -> line where it was first read
    for item in readers.keyed_rows(readers.csv_rows(path, name, COLUMNS), name, TASK, "pmid", seen):
        if isinstance(item, Rejection):
            yield item
            continue
        where, row = item
        pmid = row["pmid"]
        odd = [f"{code}={row[code]!r}" for code, _ in CATEGORIES if row[code] not in _ONE | _ZERO]
        if odd:
            yield Rejection("one-hot category cell is not 0 or 1", name, where, TASK, ", ".join(odd))
            continue
        chosen = [label for code, label in CATEGORIES if row[code] in _ONE]
        if not chosen:
            yield Rejection("no MeSH root category (all one-hot columns are 0)", name, where, TASK)
            continue
        try:
            text = forms.fields(title=row["Title"], abstract=row["abstractText"])
            output = forms.labels(chosen, LABELS)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, TASK)
            continue
        yield Record(TASK, pmid, text, output, name, where, group=pmid)
