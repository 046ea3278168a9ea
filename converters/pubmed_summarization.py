"""PubMed long-document summarization (Cohan et al., NAACL 2018): PubMed Central open-access articles paired
with their abstracts.

Read: `pubmed-dataset.zip` linked from github.com/armancohan/long-summarization (the files the Hugging Face
`scientific_papers` "pubmed" configuration is built from), unzipped: `train.txt`, `val.txt`, `test.txt` (and a
`vocab` file, not read), JSON Lines despite the extension, one article per line:
`{"article_id": "PMC...", "article_text": [sentence, ...], "abstract_text": ["<S> sentence . </S>", ...],
"labels": ..., "section_names": [...], "sections": [[sentence, ...], ...]}`. The text is lower-cased and
tokenised (spaces around punctuation) and math/citations are replaced by placeholders (`@xmath0`, `[ 1 ]`) as
distributed; it is kept so, only the spacing is normalised.

Task `pubmed_text_summarization`, one instance per article:
- input: the full article, the sentences of `article_text` joined by spaces. Articles are long (about 3,000
  words on average) and are NOT truncated here: any cut to a model's context belongs to training, not to the
  dataset;
- output: the abstract, the sentences of `abstract_text` with their `<S>` / `</S>` tags removed, joined by spaces.
Key and group: `article_id`. Splits are official: train -> train, val -> validation, test -> test; each file is
optional and converted when present.
Quarantined: a line that is not UTF-8 or not a JSON object, a missing article_id, an article or abstract that
is missing, not a list of strings, or empty once the tags are removed, an article_id seen before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline import readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="pubmed_summarization",
    name="PubMed long-document summarization dataset (Cohan et al.)",
    homepage="https://github.com/armancohan/long-summarization",
    license="unspecified (PubMed Central open-access articles)",
    access="open",
    citation=(
        "Cohan, A., Dernoncourt, F., Kim, D. S., Bui, T., Kim, S., Chang, W. and Goharian, N. (2018). A "
        "Discourse-Aware Attention Model for Abstractive Summarization of Long Documents. NAACL-HLT 2018, "
        "pp. 615-621."
    ),
    obtain=(
        "Download pubmed-dataset.zip from the link in the README of https://github.com/armancohan/long-summarization "
        "(Google Drive; also on archive.org) and unzip train.txt, val.txt and test.txt into the raw folder (or keep "
        "them in its pubmed-dataset/ folder)."
    ),
    forms=(
        RawForm(
            "jsonl",
            tuple(
                RawFile(part, (f"{part}.txt", f"pubmed-dataset/{part}.txt"), False, split, "one article per line")
                for part, split in (("train", "train"), ("val", "validation"), ("test", "test"))
            ),
            "pubmed-dataset.zip: train.txt, val.txt, test.txt (JSON Lines)",
        ),
    ),
)

TASKS = (
    Task(
        "pubmed_text_summarization",
        "Text Summarization",
        "Medical Knowledge",
        tags=("Biomedical Research", "Long Document"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id

_SENTENCE_TAGS = re.compile(r"</?S>")


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # article_id -> where it was first converted
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            for number, row, problem in readers.json_lines(path):
                where = f"line {number}"
                if problem:
                    yield Rejection(problem, name, where, TASK, str(row)[:300])
                    continue
                article_id = row.get("article_id")
                if not isinstance(article_id, str | int) or isinstance(article_id, bool) or not str(article_id).strip():
                    yield Rejection("missing article_id", name, where, TASK)
                    continue
                article_id = str(article_id).strip()
                where = f"{where} (article_id {article_id})"
                article, problem = _sentences(row.get("article_text"), "article_text")
                abstract, problem = ("", problem) if problem else _sentences(row.get("abstract_text"), "abstract_text")
                if problem:
                    yield Rejection(problem, name, where, TASK)
                elif article_id in seen:
                    yield Rejection("duplicate article_id", name, where, TASK, f"first at {seen[article_id]}")
                else:
                    seen[article_id] = f"{name} {where}"
                    yield Record(TASK, article_id, article, abstract, name, where, split=raw.split, group=article_id)


def _sentences(value: object, field: str) -> tuple[str, str | None]:
    """(text, None): the sentences of a list field without `<S>` tags, joined by spaces; or ("", problem)."""
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        return "", f"{field} is missing or not a list of strings"
    text = " ".join(_SENTENCE_TAGS.sub(" ", " ".join(value)).split())
    return (text, None) if text else ("", f"empty {field}")
