"""The Leaf Clinical Trials (LCT) corpus (Dobbins et al., Scientific Data 2022): eligibility criteria of 1,500
ClinicalTrials.gov studies annotated with about 100 entity types (conditions, drugs, procedures, observations,
comparison operators, values, units, temporal periods, ...) and 50 relation types.

Read as github.com/uw-bionlp/clinical-trials-gov-data distributes it (the repository, its data/ folder, or
GitHub's zip of it):
- `data/ner/spert/{train,dev,test}.json`: the SpERT files, each a JSON list (indent 4, UTF-8, raw non-ASCII such
  as "≥") of one record per criterion line: {"orig_id": "<line>_<NCT id>", "tokens": [...], "entities":
  [{"type", "start", "end" (exclusive)}], "relations": [{"type", "head", "tail"}]}. Tokens include whitespace
  tokens ("\\n  ", " ") but not the single spaces between words, so the original spacing is lost in them.
- `data/docs/brat/batchN/<NCT id>.txt`: the criteria text of each study, which restores it.
- `data/ner/spert/types.json` (optional): the entity and relation type inventory; with it, an entity of an
  undeclared type is quarantined.
Splits: train -> "train", dev -> "validation", test -> "test". All three files are optional (train.json is
large; a partial copy converts what is present). The lines of one study are spread over the three splits, so
each record carries its file's split.

Task `clinical_trials_ner` (one instance per SpERT record, key = its `orig_id`, group = the NCT id):
- input: the criterion as written in the study's .txt (found by matching the record's tokens at the start of a
  line; a criterion wrapped over several lines is one record), whitespace runs collapsed to one space;
- output: its entities, each `<mention> (<type>)`, the mention copied from the text, the type exactly as in
  types.json (e.g. `Condition`, `Eq-Comparison`, `Eq-Operator___GTEQ`), in text order (by start; an enclosing
  mention before those nested in it), joined by `forms.entities` (de-duplicated, ", "-joined; "There is no related
  entity." for a line without entities).
  The corpus annotates a span once per type, so a condition name appears as `... (Condition)` and
  `... (Condition-Name)`. Relations are not used (the catalogue task is entity recognition).

MedS-Ins (task77) instead made one instance per study from train.json only, with a JSON object of every line's
entities and relations as output, and filled the lines kept in dev/test with empty lists; per-line instances
avoid that and keep the official splits.

Quarantine: a record without any non-whitespace token, a bare "Inclusion Criteria:" or "Exclusion Criteria:" line
without entities (a section header, not a criterion), whose study text is missing, whose tokens are not found in
the text, or with an entity of an unknown type or outside its tokens; a repeated orig_id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_ROOTS = ("", "clinical-trials-gov-data/", "clinical-trials-gov-data-main/", "clinical-trials-gov-data-master/")
_SPLITS = (("train", "train"), ("dev", "validation"), ("test", "test"))

SOURCE = Source(
    id="clinical_trials_gov",
    name="Leaf Clinical Trials (LCT) corpus",
    homepage="https://github.com/uw-bionlp/clinical-trials-gov-data",
    license="unspecified (the repository states no license; the criteria text is from ClinicalTrials.gov)",
    access="open",
    citation=(
        "Dobbins, N. J., Mullen, T., Uzuner, Ö. and Yetisgen, M. (2022). The Leaf Clinical Trials Corpus: a new "
        "resource for query generation from clinical trial eligibility criteria. Scientific Data 9: 490."
    ),
    obtain=(
        "Clone or download https://github.com/uw-bionlp/clinical-trials-gov-data and place the repository (or its "
        "data/ folder's parent) in the raw folder: data/ner/spert/{train,dev,test}.json, data/ner/spert/types.json "
        "and data/docs/brat/batch*/NCT*.txt are read."
    ),
    forms=(
        RawForm(
            "spert",
            (
                *(
                    RawFile(name, tuple(f"{r}data/ner/spert/{name}.json" for r in _ROOTS), required=False, split=split)
                    for name, split in _SPLITS
                ),
                RawFile("types", tuple(f"{r}data/ner/spert/types.json" for r in _ROOTS), required=False),
                RawFile(
                    "docs",
                    tuple(f"{r}data/docs/brat/*/NCT*.txt" for r in _ROOTS),
                    description="the eligibility criteria text of each study",
                ),
            ),
            "the SpERT NER files and the brat criteria texts of uw-bionlp/clinical-trials-gov-data",
        ),
    ),
    # The repository at a pinned commit, as GitHub archives it; only the SpERT files and the brat texts are kept.
    downloads=(
        Download(
            "https://github.com/uw-bionlp/clinical-trials-gov-data/archive/62d54af08ba52e8196e664fcec01122a4d4e38ab.tar.gz",
            "clinical-trials-gov-data.tar.gz",
            unpack="tar.gz",
            members=(("*/data/ner/spert/", "data/ner/spert/"), ("*/data/docs/brat/", "data/docs/brat/")),
        ),
    ),
)

TASKS = (
    Task(
        "clinical_trials_ner",
        "Named Entity Recognition",
        "Medical Knowledge",
        tags=("Clinical Trials", "Eligibility Criteria"),
    ),
)
TASK = TASKS[0].id

#: The lines that open a study's two lists. Every study has them, so as instances they would be the same
#: unannotated line 1,500 times over (about a quarter of the corpus), which the build would quarantine as exact
#: duplicates and then refuse the task for; they are no criterion, so they are rejected here, with their reason.
SECTION_HEADER = re.compile(r"(?:key\s+)?(?:inclusion|exclusion)\s+criteria\s*:?", re.IGNORECASE)


def generate(files: RawFiles) -> Iterator[Item]:
    docs = {path.stem: path for path in files.paths("docs")}
    types = _types(files)
    seen: dict[str, str] = {}
    for name, split in _SPLITS:
        for path in files.paths(name):
            raw_file = files.relative(path)
            for number, item in readers.json_items(path, raw_file):
                yield from _record(item, f"record {number}", raw_file, split, docs, types, seen)


def _types(files: RawFiles) -> frozenset[str] | None:
    path = files.path("types")
    if path is None:
        return None
    try:
        declared = json.loads(path.read_text(encoding="utf-8-sig"))["entities"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{files.relative(path)}: not a SpERT types file ({error})") from error
    return frozenset(declared)


def _record(
    item: object,
    where: str,
    raw_file: str,
    split: str,
    docs: dict[str, Path],
    types: frozenset[str] | None,
    seen: dict[str, str],
) -> Iterator[Item]:
    if not isinstance(item, dict) or not isinstance(item.get("orig_id"), str):
        yield Rejection("record without orig_id", raw_file, where, TASK, json.dumps(item, ensure_ascii=False)[:300])
        return
    orig_id = item["orig_id"]
    where = f"{where} ({orig_id})"
    line, _, nct = orig_id.partition("_")
    tokens, entities = item.get("tokens"), item.get("entities")
    if not (line.isdigit() and nct.startswith("NCT")):
        yield Rejection("malformed orig_id (expected <line>_<NCT id>)", raw_file, where, TASK, orig_id)
        return
    if orig_id in seen:
        yield Rejection("repeated orig_id", raw_file, where, TASK, f"first at {seen[orig_id]}")
        return
    seen[orig_id] = f"{raw_file} {where}"
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens) or not isinstance(entities, list):
        yield Rejection("tokens or entities missing or malformed", raw_file, where, TASK, str(item)[:300])
        return
    if not any(t.strip() for t in tokens):
        yield Rejection("no text (only whitespace tokens)", raw_file, where, TASK, repr(tokens))
        return
    path = docs.get(nct)
    if path is None:
        yield Rejection("criteria text file missing", raw_file, where, TASK, f"data/docs/brat/*/{nct}.txt")
        return
    text = path.read_text(encoding="utf-8-sig")
    offsets = _align(tokens, text)
    if offsets is None:
        yield Rejection("tokens not found in the criteria text", raw_file, where, TASK, " ".join(tokens)[:300])
        return
    mentions: list[tuple[int, int, str]] = []
    for entity in entities:
        problem = _entity_problem(entity, offsets, types)
        if problem:
            yield Rejection(problem, raw_file, where, TASK, json.dumps(entity, ensure_ascii=False))
            return
        start, end = offsets[entity["start"]][0], offsets[entity["end"] - 1][1]
        mentions.append((start, end, entity["type"]))
    first = next(span for span in offsets if span[1] > span[0])
    last = next(span for span in reversed(offsets) if span[1] > span[0])
    criterion = " ".join(text[first[0] : last[1]].split())
    if not mentions and SECTION_HEADER.fullmatch(criterion):
        yield Rejection("section header without entities, not a criterion", raw_file, where, TASK, criterion)
        return
    output = forms.entities(f"{' '.join(text[s:e].split())} ({kind})" for s, e, kind in sorted(mentions, key=_order))
    yield Record(TASK, orig_id, criterion, output, raw_file, where, split=split, group=nct)


def _order(mention: tuple[int, int, str]) -> tuple[int, int, str]:
    """Text order: by start, a longer mention before the ones nested in it."""
    start, end, kind = mention
    return start, -end, kind


def _entity_problem(entity: object, offsets: list[tuple[int, int]], types: frozenset[str] | None) -> str | None:
    if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
        return "entity without a type"
    start, end = entity.get("start"), entity.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(offsets)):
        return "entity offsets outside the record's tokens"
    if types is not None and entity["type"] not in types:
        return "entity type not declared in types.json"
    if not any(e > s for s, e in offsets[start:end]):
        return "entity covers only whitespace tokens"
    return None


def _align(tokens: list[str], text: str) -> list[tuple[int, int]] | None:
    """(start, end) in `text` of every token (whitespace tokens get an empty span), for the first place where the
    record's words follow each other, separated only by whitespace, from the start of a line to its end."""
    words = [t for t in tokens if t.strip()]
    pattern = r"^[ \t]*" + r"\s*".join(re.escape(w) for w in words) + r"[ \t\r]*$"
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        return None
    offsets, cursor = [], found.start()
    for token in tokens:
        if not token.strip():
            offsets.append((cursor, cursor))
            continue
        cursor = text.index(token, cursor)  # the match guarantees it follows after whitespace only
        offsets.append((cursor, cursor + len(token)))
        cursor += len(token)
    return offsets
