"""PLOS lay summarization (Luo, Xie and Ananiadou, Findings of EMNLP 2022): full PLOS research articles paired
with the plain-language "author summary" their authors wrote for non-specialists.

Two distributions are accepted (the first found is read):
- "jsonl", the copy MedS-Ins reads (its readability_summarization.py opens `plos_corpus/train_plos.jsonl`; the
  nactem.ac.uk/readability release): JSON Lines, one article per line with the keys of the authors' README
  (github.com/zhehengluoK/Readability-Controllable-Biomedical-Document-Summarization): `doi`, `title`,
  `abstract` (string), `plain language summary` (string), `article` (the whole text, string). Files:
  `train_plos.jsonl`, `val_plos.jsonl`, `test_plos.jsonl` (only the first name is confirmed, by the MedS-Ins
  script; the other two follow it), in the raw folder or its `plos_corpus/`.
- "json", a JSON list per split: `train.json`, `val.json`, `test.json` (in the raw folder or its `PLOS/`),
  streamed with ijson. Both JSON-list releases are read, told apart item by item by their keys: the same
  records as above as a JSON list (the layout the authors' README describes, also on Hugging Face as
  KennyLuo/RC-Sum-PLOS), or the EMNLP 2022 "Making Science Simple" PLOS corpus of Goldsack et al.
  (github.com/TGoldsack1/Corpora_for_Lay_Summarisation, the BioLaySumm data): `id`, `year`, `title`,
  `sections` (list of sections, each a list of strings), `headings`, `abstract` (list), `summary` (the lay
  summary, list), `keywords`.

Task `readability_text_summarization` (lay summary), one instance per article:
- input: `forms.fields(title=..., abstract=..., article=...)`. The article is the whole text (Goldsack: each
  section as its heading, a line break and its text, sections separated by a blank line); as MedS-Ins does, the
  lay summary is removed from the article where the article contains it (with an "Author summary" heading
  just before it), and the abstract part is left out when the article already contains the abstract (the
  title part when there is no title). Nothing is truncated (articles run to several thousand words);
- output: the plain language summary (Goldsack: the `summary` strings joined by spaces).
Spaces are normalised within lines; line breaks are kept.
Key and group: the article's `doi` (Goldsack: `id`); an item with neither is keyed by a hash of its title and
summary. Splits are official: train -> train, val -> validation, test -> test.
Quarantined: a line or item that is not a JSON object (or not UTF-8), an item of neither layout, a summary,
abstract or article that is not text, an empty summary or article, a key seen before. A JSON list whose syntax
breaks raises ValueError naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SPLITS = {"train": "train", "val": "validation", "test": "test"}
PLS = "plain language summary"

SOURCE = Source(
    id="readability",
    name="PLOS readability / lay summarization corpus",
    homepage="https://www.nactem.ac.uk/readability/",
    license="CC BY 4.0 (PLOS articles)",
    access="open",
    citation=(
        "Luo, Z., Xie, Q. and Ananiadou, S. (2022). Readability Controllable Biomedical Document Summarization. "
        "Findings of the Association for Computational Linguistics: EMNLP 2022, pp. 4667-4680."
    ),
    obtain=(
        "Download the PLOS corpus from https://www.nactem.ac.uk/readability/ and place train_plos.jsonl, "
        "val_plos.jsonl and test_plos.jsonl (or the JSON lists train.json, val.json, test.json) in the raw folder. "
        "The EMNLP 2022 PLOS corpus of Goldsack et al. (Google Drive link in "
        "https://github.com/TGoldsack1/Corpora_for_Lay_Summarisation: train.json, val.json, test.json) is read too."
    ),
    forms=(
        RawForm(
            "jsonl",
            tuple(
                RawFile(part, (f"{part}_plos.jsonl", f"plos_corpus/{part}_plos.jsonl"), False, split, "JSON Lines")
                for part, split in SPLITS.items()
            ),
            "JSON Lines as MedS-Ins reads them: {train,val,test}_plos.jsonl",
        ),
        RawForm(
            "json",
            tuple(
                RawFile(part, (f"{part}.json", f"PLOS/{part}.json"), False, split, "a JSON list of articles")
                for part, split in SPLITS.items()
            ),
            "JSON lists {train,val,test}.json (the nactem layout or the EMNLP 2022 Goldsack et al. layout)",
        ),
    ),
)

TASKS = (
    Task(
        "readability_text_summarization",
        "Text Summarization",
        "Medical Knowledge",
        tags=("Lay Summary", "Plain Language", "Biomedical Research"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # key -> where it was first converted
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            if files.form.name == "jsonl":
                items = ((f"line {n}", row, problem) for n, row, problem in readers.json_lines(path))
            else:
                items = ((f"item {n}", item, None) for n, item in readers.json_items(path, name))
            for where, item, problem in items:
                if problem is None and not isinstance(item, dict):
                    problem = "item is not a JSON object"
                if problem:
                    yield Rejection(problem, name, where, TASK, str(item)[:300])
                    continue
                yield from _article(item, name, where, raw.split, seen)


def _article(item: dict, name: str, where: str, split: str | None, seen: dict[str, str]) -> Iterator[Item]:
    if PLS in item:  # nactem layout (strings)
        key_field, summary, abstract = "doi", _text(item.get(PLS)), _text(item.get("abstract"))
        article = _text(item.get("article"))
    elif "summary" in item:  # Goldsack et al. layout (lists)
        key_field, summary, abstract = "id", _joined(item.get("summary")), _joined(item.get("abstract"))
        article = _sections(item.get("sections"), item.get("headings"))
    else:
        yield Rejection(f"neither '{PLS}' nor 'summary' in the item", name, where, TASK, ", ".join(sorted(item))[:300])
        return
    title = " ".join((_text(item.get("title")) or "").split())
    key = " ".join((_text(item.get(key_field)) or _text(item.get("id")) or "").split())
    key = key or readers.content_key(title, summary or "")
    where = f"{where} ({key_field} {key})"
    if summary is None or article is None or abstract is None:
        yield Rejection("summary, abstract or article is not text", name, where, TASK)
        return
    article = _without(article, summary)
    if abstract and " ".join(abstract.split()) in " ".join(article.split()):
        abstract = ""  # the article already holds it
    if not summary or not article:
        yield Rejection("empty lay summary" if not summary else "empty article", name, where, TASK)
    elif key in seen:
        yield Rejection(f"duplicate {key_field}", name, where, TASK, f"first at {seen[key]}")
    else:
        seen[key] = f"{name} {where}"
        text = forms.fields(title=title, abstract=abstract, article=article)
        yield Record(TASK, key, text, summary, name, where, split=split, group=key)


def _text(value: object) -> str | None:
    """A string field with spaces normalised within lines (blank lines dropped); "" when absent, None when not
    a string."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    lines = (" ".join(line.split()) for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def _joined(value: object) -> str | None:
    """A list of strings (Goldsack layout) joined by spaces; a plain string is accepted too."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(" ".join(value).split())
    return _text(value)


def _sections(sections: object, headings: object) -> str | None:
    """Goldsack sections as `<heading>\\n<text>` blocks separated by blank lines."""
    if not isinstance(sections, list):
        return None
    headings = headings if isinstance(headings, list) else []
    blocks = []
    for n, section in enumerate(sections):
        body = _joined(section)
        if body is None:
            return None
        heading = headings[n] if n < len(headings) and isinstance(headings[n], str) else ""
        if body:
            blocks.append("\n".join(part for part in (" ".join(heading.split()), body) if part))
    return "\n\n".join(blocks)


def _without(article: str, summary: str) -> str:
    """The article with the lay summary (and an "Author summary" heading just before it) removed where the article
    contains it, as MedS-Ins does; compared as is, then with all spaces flattened. Unchanged otherwise."""
    for text, part in ((article, summary), (" ".join(article.split()), " ".join(summary.split()))):
        if part and part in text:
            return _text(re.sub(r"(?:\bauthor summary\s*)?" + re.escape(part), "\n", text, flags=re.IGNORECASE))
    return article
