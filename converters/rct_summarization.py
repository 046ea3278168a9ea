"""RCT summarization (Wallace et al., AMIA 2021): the titles and abstracts of the randomized controlled trials
included in a Cochrane systematic review, paired with that review's "Authors' conclusions".

Read: the CSV files of github.com/bwallace/RCT-summarization-data, written by pandas (UTF-8, `,`-separated,
minimal quoting, fields with embedded newlines, an unnamed first column holding the pandas index, NaN written as
an empty field):
- `{train,dev,test}-inputs.csv`: `,ReviewID,PMID,Title,Abstract`, one row per included trial, many rows per
  ReviewID (a Cochrane id such as CD007119); an abstract may be empty.
- `{train,dev,test}-targets.csv`: `,ReviewID,Target`, one row per review (3,752 / 470 / 470).
The Cochrane subset of the MSLR 2022 shared task (`mslr_data/cochrane/`) has the same layout and, judging by
its split sizes, the same reviews (not checked here): its files can be placed in the raw folder as they are, but it
ships no test targets, so it gives no test split.

Task `rct_text_summarization` (multi-document summarization), one instance per review:
- input: every included trial of the review in file order, one block each,
  `Study <n>\\nTitle: <title>\\nAbstract: <abstract>` (built with `forms.fields`, spaces and line breaks of
  title and abstract flattened to single spaces; a trial without an abstract keeps its title), blocks separated
  by a blank line. Nothing is truncated: a review keeps all its trials;
- output: `Target`, the authors' conclusions; spaces are normalised and paragraph breaks kept.
Key and group: the ReviewID. Splits are official: train -> train, dev -> validation, test -> test (the
MedS-Bench RCT-Text set is this test split).

The training pair (train-inputs.csv, train-targets.csv) is required; the dev and test pairs are optional, and a
split whose inputs or targets file is absent is skipped (the build names the missing file). Without any inputs
file (the targets alone carry no input text) the build stops and names the missing inputs file.

Streaming: targets (a few MB) are held in memory; an inputs file is read twice, first counting the rows of each
review, then collecting each review's trials and emitting the review as soon as its last row has been read, so
only reviews still open are held (one at a time when, as distributed, a review's rows are contiguous).
Quarantined: a row with the wrong number of fields or bytes that are not UTF-8, an empty ReviewID or Target, a
trial with neither title nor abstract (its review keeps the other trials), a trial repeated within a review, a
review without target or without any usable trial, a target without input rows, a review already converted
from another split. A file whose header lacks the expected columns raises ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

#: File name prefix -> split.
SPLITS = {"train": "train", "dev": "validation", "test": "test"}

SOURCE = Source(
    id="rct_summarization",
    name="RCT summarization data (Cochrane reviews of randomized controlled trials)",
    homepage="https://github.com/bwallace/RCT-summarization-data",
    license="unspecified (no license in the repository; PubMed and Cochrane abstracts)",
    access="open",
    citation=(
        "Wallace, B. C., Saha, S., Soboczenski, F. and Marshall, I. J. (2021). Generating (Factual?) Narrative "
        "Summaries of RCTs: Experiments with Neural Multi-Document Summarization. AMIA Joint Summits on "
        "Translational Science Proceedings, 605-614."
    ),
    obtain=(
        "Clone https://github.com/bwallace/RCT-summarization-data and place its six CSV files "
        "({train,dev,test}-inputs.csv and {train,dev,test}-targets.csv) in the raw folder."
    ),
    forms=(
        RawForm(
            "csv",
            tuple(
                RawFile(
                    f"{part}_{kind}",
                    (f"{part}-{kind}.csv",),
                    required=part == "train",
                    split=split,
                    description=what,
                )
                for part, split in SPLITS.items()
                for kind, what in (
                    ("inputs", "trial titles and abstracts: ,ReviewID,PMID,Title,Abstract"),
                    ("targets", "review conclusions: ,ReviewID,Target"),
                )
            ),
            "the repository's CSV files: {train,dev,test}-inputs.csv and {train,dev,test}-targets.csv",
        ),
    ),
    # The official repository (pinned commit). Digests of the target files; the input files were not at hand.
    downloads=tuple(
        Download(
            "https://raw.githubusercontent.com/bwallace/RCT-summarization-data/"
            f"de10c2712873efa1733859f2d7113af60427d7b2/{name}",
            name,
            sha256=digest,
            size=size,
        )
        for name, size, digest in (
            ("train-inputs.csv", None, None),
            ("train-targets.csv", 1785037, "558718e9588c714de4159b3817d52faf51114f0a8babd8b312e64bd7910ba28e"),
            ("dev-inputs.csv", None, None),
            ("dev-targets.csv", 230267, "ca8062280ffa8c12293ee20e34c142c1a3e315f06aed7b5c166c32c09a358bd1"),
            ("test-inputs.csv", None, None),
            ("test-targets.csv", 223814, "b11f08cb9e7a8006ae561598bbe4b0dd622872650f59b916c07f032ff3d9cd84"),
        )
    ),
)

TASKS = (
    Task(
        "rct_text_summarization",
        "Text Summarization",
        "Medical Knowledge",
        tags=("Evidence Synthesis", "Randomized Controlled Trials", "Multi-Document"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id

INPUT_COLUMNS = ("ReviewID", "PMID", "Title", "Abstract")
TARGET_COLUMNS = ("ReviewID", "Target")


def generate(files: RawFiles) -> Iterator[Item]:
    done: dict[str, str] = {}  # ReviewID -> the split it was converted from
    for part, split in SPLITS.items():
        inputs, targets = files.path(f"{part}_inputs"), files.path(f"{part}_targets")
        if inputs is not None and targets is not None:  # otherwise the build reports the missing file of the pair
            yield from reviews(TASK, files, inputs, targets, split, done)


def reviews(
    task_id: str,
    files: RawFiles,
    inputs: Path,
    targets: Path,
    split: str | None,
    done: dict[str, str],
    background: dict[str, str] | None = None,
    clean_target: Callable[[str], str] = lambda text: text,
) -> Iterator[Item]:
    """Records of one split of an inputs/targets pair of CSV files (this corpus and MSLR 2022's MS^2 subset):
    one per ReviewID, its trials as input, its target as output. `background` (ReviewID -> text) is put
    before the trials when given; `clean_target` tidies the target text further; `done` carries the ReviewIDs
    already converted from other splits."""
    inputs_name, targets_name = files.relative(inputs), files.relative(targets)
    wanted: dict[str, tuple[str, str]] = {}  # ReviewID -> (target, locator)
    for number, row in readers.csv_rows(targets, targets_name, TARGET_COLUMNS):
        where = f"row {number}"
        if isinstance(row, str):
            yield Rejection(row, targets_name, where, task_id)
            continue
        rid, target = row["ReviewID"].strip(), tidy(clean_target(tidy(row["Target"])))
        if not rid:
            yield Rejection("empty ReviewID", targets_name, where, task_id, target[:200] or None)
        elif not target:
            yield Rejection("empty Target", targets_name, f"{where} (ReviewID {rid})", task_id)
        elif rid in wanted:
            yield Rejection("duplicate ReviewID", targets_name, f"{where} (ReviewID {rid})", task_id, wanted[rid][1])
        else:
            wanted[rid] = (target, where)

    remaining: dict[str, int] = {}
    for _, row in readers.csv_rows(inputs, inputs_name, INPUT_COLUMNS):
        if not isinstance(row, str) and row["ReviewID"].strip():
            rid = row["ReviewID"].strip()
            remaining[rid] = remaining.get(rid, 0) + 1

    open_reviews: dict[str, list[tuple[str, str]]] = {}  # ReviewID -> (PMID, study block) so far
    seen: set[str] = set()
    for number, row in readers.csv_rows(inputs, inputs_name, INPUT_COLUMNS):
        where = f"row {number}"
        if isinstance(row, str):
            yield Rejection(row, inputs_name, where, task_id)
            continue
        rid, pmid = row["ReviewID"].strip(), row["PMID"].strip()
        if not rid:
            yield Rejection("empty ReviewID", inputs_name, where, task_id, pmid or None)
            continue
        studies = open_reviews.setdefault(rid, [])
        title, abstract = " ".join(row["Title"].split()), " ".join(row["Abstract"].split())
        if not title and not abstract:
            yield Rejection("trial with neither title nor abstract", inputs_name, where, task_id, f"{rid} {pmid}")
        elif any(pmid and pmid == other for other, _ in studies):
            yield Rejection("trial repeated within its review", inputs_name, where, task_id, f"{rid} {pmid}")
        else:
            studies.append((pmid, forms.fields(title=title, abstract=abstract)))
        remaining[rid] -= 1
        if remaining[rid]:
            continue
        seen.add(rid)
        studies = open_reviews.pop(rid)
        locator = f"ReviewID {rid}"
        if rid not in wanted:
            yield Rejection("review without target", inputs_name, locator, task_id, f"not in {targets_name}")
        elif rid in done:
            yield Rejection("review already converted from another split", inputs_name, locator, task_id, done[rid])
        elif not studies:
            yield Rejection("review without any trial title or abstract", inputs_name, locator, task_id)
        else:
            done[rid] = split or ""
            target, target_row = wanted[rid]
            blocks = [f"Study {n}\n{block}" for n, (_, block) in enumerate(studies, 1)]
            intro = [forms.fields(background=background[rid])] if background and background.get(rid) else []
            count = f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'}"
            locator = f"ReviewID {rid} ({count}; target {targets_name} {target_row})"
            text = "\n\n".join(intro + blocks)
            yield Record(task_id, rid, text, target, inputs_name, locator, split=split, group=rid)
    for rid, (_, where) in wanted.items():
        if rid not in seen:
            locator = f"{where} (ReviewID {rid})"
            yield Rejection("review without input trials", targets_name, locator, task_id, f"not in {inputs_name}")


def tidy(text: str) -> str:
    """Spaces (including no-break spaces) normalised within each line; blank lines dropped, line breaks kept."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
