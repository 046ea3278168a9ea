"""MS^2 (DeYoung et al., EMNLP 2021): medical systematic reviews from the Semantic Scholar corpus, each with the
studies it includes; the task is to write the review's conclusion about the effect from the studies' abstracts.

Two distributions are accepted (the first complete one found is read):
- "mslr" (recommended by the authors): the MSLR 2022 shared-task release, `mslr_data.tar.gz` -> `mslr_data/ms2/`
  (also loadable as the Hugging Face dataset `allenai/mslr2022`, configuration "ms2"). pandas-written UTF-8 CSVs with an
  unnamed index column: `{train,dev}-inputs.csv` (`,ReviewID,PMID,Title,Abstract`, one row per included study),
  `{train,dev}-targets.csv` (`,ReviewID,Target`) and the optional `{train,dev}-reviews-info.csv`
  (`,ReviewID,Background`). `test-inputs.csv` is not read: the test targets are withheld, so it cannot yield a
  record (nothing is lost). The training pair is required, the dev pair optional. The layout is the one of the
  `rct_summarization` corpus and is read by the same code (`rct_summarization.reviews`).
- "original": `ms_data_2021-04-12.zip` of github.com/allenai/ms2, one review object per line in
  `training_reviews.jsonl`, `validation_reviews.jsonl`, `testing_reviews.jsonl` (names as used by the authors'
  scripts/run_ms2.sh; the zip itself is not checked here), and the repository's `sample.json` (one such review,
  a pretty-printed JSON object, of no split). A review has `docid` (its S2 id), `pmid`, `structured_abstract`
  and `structured_summary` (lists of `[label, sentence, label probabilities]`), `included_studies` (each with
  `references`: `title`, `abstract`, `pmid`...); texts are tokenised and carry inline `<int>`/`<out>`/`<pop>`
  PICO tags.

Task `ms2_text_summarization` (multi-document summarization), one instance per review:
- input: `Background: <review background>` when there is one, then every included study, one block each,
  `Study <n>\\nTitle: <title>\\nAbstract: <abstract>` (`forms.fields`), blocks separated by a blank line. Nothing
  is truncated (the authors' models cut to 25 studies; a review here keeps all of them).
- output: the review's conclusion. MSLR: `Target`; original: the sentences of `structured_abstract` labelled
  EFFECT or CONCLUSION (from `structured_summary` when the abstract has none), as the authors'
  summarizer_input_prep.py selects them; the background is its BACKGROUND and GOAL sentences (MSLR: the
  reviews-info `Background`).
Text: in the original form the PICO tags are removed, a few words its tokeniser split are re-joined ("r and
omized", "st and ard", "underst and", "Nurses ' Health") and the tokenised text is re-spaced with the shared
`ner.detokenize` ("fracture ." -> "fracture."); in both forms a leading section heading ("CONCLUSIONS",
"AUTHORS' CONCLUSIONS", "BACKGROUND"...) is removed from the target and background sentences. Of a study's
several references (reports of one trial) the first with an abstract is used, else the first with a title.
Key and group: the review's PubMed id, MSLR's ReviewID (its README: "Pubmed ID of the review"); an original
review without `pmid` is keyed `s2-<docid>`. Splits: train -> train, dev / validation -> validation, testing ->
test; sample.json -> None (hash split).
Quarantined: broken rows and lines, a review without conclusion sentences or target, without any study title
or abstract, without id, or already converted from another file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from converters import rct_summarization
from pipeline import forms, ner, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task


def _mslr(part: str, kind: str, split: str, what: str, required: bool) -> RawFile:
    name = f"{part}-{kind}.csv"
    return RawFile(f"{part}_{kind}", (name, f"ms2/{name}", f"mslr_data/ms2/{name}"), required, split, what)


def _original(name: str, file: str, split: str | None) -> RawFile:
    return RawFile(name, (file, f"ms2_data/{file}"), False, split, "one review JSON object per line")


SOURCE = Source(
    id="ms2",
    name="MS^2 (Multi-Document Summarization of Medical Studies)",
    homepage="https://github.com/allenai/ms2",
    license="Semantic Scholar API and Dataset License Agreement",
    access="open",
    citation=(
        "DeYoung, J., Beltagy, I., van Zuylen, M., Kuehl, B. and Wang, L. L. (2021). MS^2: Multi-Document "
        "Summarization of Medical Studies. Proceedings of EMNLP 2021, pp. 7494-7513."
    ),
    obtain=(
        "Download https://ai2-s2-mslr.s3.us-west-2.amazonaws.com/mslr_data.tar.gz (MSLR 2022, linked from "
        "https://github.com/allenai/mslr-shared-task) and place the files of mslr_data/ms2/ in the raw folder; or "
        "unzip the original https://ai2-s2-ms2.s3-us-west-2.amazonaws.com/ms_data_2021-04-12.zip "
        "({training,validation,testing}_reviews.jsonl) there."
    ),
    forms=(
        RawForm(
            "mslr",
            (
                _mslr("train", "inputs", "train", "study titles and abstracts: ,ReviewID,PMID,Title,Abstract", True),
                _mslr("train", "targets", "train", "review conclusions: ,ReviewID,Target", True),
                _mslr("train", "reviews-info", "train", "review backgrounds: ,ReviewID,Background", False),
                _mslr("dev", "inputs", "validation", "study titles and abstracts", False),
                _mslr("dev", "targets", "validation", "review conclusions", False),
                _mslr("dev", "reviews-info", "validation", "review backgrounds", False),
            ),
            "MSLR 2022 (mslr_data/ms2/): {train,dev}-inputs.csv, -targets.csv and -reviews-info.csv",
        ),
        RawForm(
            "original",
            (
                _original("train", "training_reviews.jsonl", "train"),
                _original("validation", "validation_reviews.jsonl", "validation"),
                _original("test", "testing_reviews.jsonl", "test"),
                RawFile("sample", ("sample.json",), False, None, "the repository's example review (one JSON object)"),
            ),
            "ms_data_2021-04-12.zip: {training,validation,testing}_reviews.jsonl, or the repository's sample.json",
        ),
    ),
    # MSLR 2022 (allenai/mslr-shared-task): its archive holds mslr_data/ms2/ and mslr_data/cochrane/; ms2/ is kept.
    downloads=(
        Download(
            "https://ai2-s2-mslr.s3.us-west-2.amazonaws.com/mslr_data.tar.gz",
            "mslr_data.tar.gz",
            unpack="tar.gz",
            members=(("*/ms2/", "mslr_data/ms2/"),),
        ),
    ),
)

TASKS = (
    Task(
        "ms2_text_summarization",
        "Text Summarization",
        "Medical Knowledge",
        tags=("Evidence Synthesis", "Systematic Reviews", "Multi-Document"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id

TARGET_LABELS = {"EFFECT", "CONCLUSION"}
BACKGROUND_LABELS = {"BACKGROUND", "GOAL"}
_TAGS = re.compile(r"</?(?:int|out|pop)>")
#: A section heading opening a sentence of a review abstract, in the tokenised ("AUTHORS ' CONCLUSIONS") or
#: plain spelling; removed when text follows it.
_HEADING = re.compile(
    r"^(?:(?:AUTHORS|REVIEWERS|REVIEWER\s*'\s*S)\s*'?\s*)?"
    r"(?:BACKGROUND|CONTEXT|INTRODUCTION|RATIONALE|IMPORTANCE|PURPOSES?|AIMS?|GOALS?|OBJECTIVES?"
    r"|MAIN CONCLUSIONS?|CONCLUSIONS?(?: AND (?:RELEVANCE|IMPLICATIONS))?|Conclusions and Relevance"
    r"|INTERPRETATION|IMPLICATIONS(?: FOR (?:CLINICAL PRACTICE|PRACTICE|RESEARCH))?|SUMMARY)"
    r"(?:\s*[:.])?\s+(?=\S)"
)


#: Repairs of the original's tokenisation: words it split around "and" ("r and omized", "st and ard",
#: "underst and") and plural possessives ("Nurses ' Health"), which the detokenizer would take for a quote.
_REJOIN = (
    (re.compile(r"\b([Rr]) and (om)"), r"\1and\2"),
    (re.compile(r"\b([Ss]t) and (ard)"), r"\1and\2"),
    (re.compile(r"\b([Uu]nderst) and\b"), r"\1and"),
    (re.compile(r"(?<=\ws) ' (?=\w)"), "' "),
)


def strip_heading(text: str) -> str:
    return _HEADING.sub("", text, count=1)


def generate(files: RawFiles) -> Iterator[Item]:
    if files.form.name == "mslr":
        yield from _mslr_reviews(files)
    else:
        yield from _original_reviews(files)


def _mslr_reviews(files: RawFiles) -> Iterator[Item]:
    done: dict[str, str] = {}
    for part, split in (("train", "train"), ("dev", "validation")):
        inputs, targets = files.path(f"{part}_inputs"), files.path(f"{part}_targets")
        if inputs is None or targets is None:
            continue  # the build reports the missing file of the pair
        info = files.path(f"{part}_reviews-info")
        background: dict[str, str] = {}
        if info is not None:
            yield from _backgrounds(info, files.relative(info), background)
        yield from rct_summarization.reviews(
            TASK, files, inputs, targets, split, done, background, clean_target=strip_heading
        )


def _backgrounds(path: Path, name: str, into: dict[str, str]) -> Iterator[Rejection]:
    """Fills `into` (ReviewID -> background text) from a reviews-info file."""
    for number, row in readers.csv_rows(path, name, ("ReviewID", "Background")):
        where = f"row {number}"
        if isinstance(row, str):
            yield Rejection(row, name, where, TASK)
            continue
        rid, text = row["ReviewID"].strip(), strip_heading(rct_summarization.tidy(row["Background"]))
        if rid in into:
            yield Rejection("duplicate ReviewID (the first background is used)", name, where, TASK, rid)
        elif rid and text:
            into[rid] = text


def _original_reviews(files: RawFiles) -> Iterator[Item]:
    done: dict[str, str] = {}  # key -> where it was converted
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            for where, review, problem in _review_objects(path, name):
                if problem:
                    yield Rejection(problem, name, where, TASK, str(review)[:300])
                    continue
                item = _review(review, name, where, raw.split)
                if isinstance(item, Record):
                    if item.key in done:
                        reason = "review already converted from another line or file"
                        yield Rejection(reason, name, item.locator, TASK, done[item.key])
                        continue
                    done[item.key] = f"{name} {where}"
                yield item


def _review_objects(path: Path, name: str) -> Iterator[tuple[str, object, str | None]]:
    """(locator, review, problem) of a JSON Lines file, or of a file holding one JSON object (sample.json)."""
    if path.suffix == ".jsonl":
        for number, row, problem in readers.json_lines(path):
            yield f"line {number}", row, problem
        return
    try:
        review = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{name}: not a JSON review object: {error}") from error
    yield "object", review, None if isinstance(review, dict) else "not a JSON object"


def _review(review: dict, name: str, where: str, split: str | None) -> Item:
    docid, pmid = _text(review.get("docid")), _text(review.get("pmid"))
    key = pmid or (f"s2-{docid}" if docid else "")
    if not key:
        return Rejection("review without pmid or docid", name, where, TASK, _text(review.get("title"))[:200] or None)
    where = f"{where} (review {key})"
    target, background = _conclusion(review.get("structured_abstract")) or _conclusion(review.get("structured_summary"))
    if not target:
        return Rejection("no conclusion (EFFECT / CONCLUSION) sentences", name, where, TASK)
    studies = [s for s in map(_study, review.get("included_studies") or []) if s]
    if not studies:
        return Rejection("no included study with a title or abstract", name, where, TASK)
    blocks = [f"Study {n}\n{block}" for n, block in enumerate(studies, 1)]
    intro = [forms.fields(background=background)] if background else []
    locator = f"{where}, {len(studies)} studies"
    return Record(TASK, key, "\n\n".join(intro + blocks), target, name, locator, split=split, group=key)


def _conclusion(structured: object) -> tuple[str, str]:
    """(target, background) from a structured abstract or summary: its EFFECT / CONCLUSION sentences and its
    BACKGROUND / GOAL sentences, each cleaned; ("", "") when it has no target sentence."""
    if not isinstance(structured, list):
        return "", ""
    target, background = [], []
    for entry in structured:
        if not (isinstance(entry, list) and len(entry) >= 2 and isinstance(entry[1], str)):
            continue
        into = target if entry[0] in TARGET_LABELS else background if entry[0] in BACKGROUND_LABELS else None
        if into is not None and (sentence := _clean(entry[1], heading=True)):
            into.append(sentence)
    return (" ".join(target), " ".join(background)) if target else ("", "")


def _study(study: object) -> str | None:
    """The `Title: ...\\nAbstract: ...` block of an included study, or None when it has neither."""
    references = study.get("references") if isinstance(study, dict) else None
    references = [r for r in references or [] if isinstance(r, dict)]
    chosen = next((r for r in references if _text(r.get("abstract"))), None)
    chosen = chosen or next((r for r in references if _text(r.get("title"))), None)
    if chosen is None:
        return None
    title, abstract = _clean(_text(chosen.get("title"))), _clean(_text(chosen.get("abstract")))
    return forms.fields(title=title, abstract=abstract) if title or abstract else None


def _clean(text: str, heading: bool = False) -> str:
    """Tokenised MS^2 text without its PICO tags (and optionally a leading section heading), re-spaced as prose."""
    text = " ".join(_TAGS.sub(" ", text).split())
    if heading:
        text = strip_heading(text)
    for pattern, joined in _REJOIN:
        text = pattern.sub(joined, text)
    return ner.detokenize(text.split())


def _text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip() if isinstance(value, str | int) else ""
