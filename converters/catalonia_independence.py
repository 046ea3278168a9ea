"""Catalonia Independence Corpus (CIC; Zotova et al., LREC 2020): tweets about the independence of Catalonia, each
labelled with its author's stance towards it: AGAINST, FAVOR or NEUTRAL. Not medical; MedS-Ins lists it (as SNI
task1646), so it is kept.

The corpus has a Catalan part (CIC-CA, 01_CIC_CA.zip) and a Spanish part (CIC-ES, 02_CIC_ES.zip). The catalogue has
one task, and a task declares one input language, so one part feeds it: the SPANISH part. Mixing the two would make
the declared input language wrong for half of the instances; Spanish is also a language MedS-Ins already covers
(HEAD-QA, MMedBench), while Catalan appears nowhere else in it. (Which part SNI task1646 used is unverified.)

Read as the owners distribute it (github.com/ixa-ehu/catalonia-independence-corpus): 02_CIC_ES.zip, read directly and
streamed member by member, holding spanish_train.csv, spanish_val.csv, spanish_test.csv; the same files already
extracted are accepted too. Despite the .csv name they are TAB-separated, UTF-8, with CRLF line endings, a header
`id_str<TAB>TWEET<TAB>LABEL` and no quoting.

Task catalonia_independence_classification: input = the tweet as written; output = its LABEL (AGAINST, FAVOR or
NEUTRAL). Official splits: train, val -> validation, test. The key is id_str; some ids were mangled into float notation
(`11028517837209518e+18`) and lost digits, so they may no longer be unique: those keys get a hash of the tweet
appended. Files are read test first, then validation, then train, and a tweet (key) seen before is quarantined:
the official test set stays whole and no tweet repeated across splits leaks from test into training. Rows with the
wrong column count, an empty tweet, a label outside the three, or bytes that are not UTF-8 are quarantined.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

LANGUAGE = "spanish"
ARCHIVE = "02_CIC_ES.zip"
_SPLITS = (("test", "test"), ("val", "validation"), ("train", "train"))  # read order: test first (see above)
_MEMBERS = {f"{LANGUAGE}_{part}.csv": split for part, split in _SPLITS}

SOURCE = Source(
    id="catalonia_independence",
    name="Catalonia Independence Corpus (CIC)",
    homepage="https://github.com/ixa-ehu/catalonia-independence-corpus",
    license="CC BY-NC-SA 4.0",
    access="open",
    citation=(
        "Zotova, E., Agerri, R., Nuñez, M. and Rigau, G. (2020). Multilingual Stance Detection in Social Media "
        "Political Debates: The Catalonia Independence Corpus. LREC 2020, pp. 1368-1375."
    ),
    obtain=(
        f"Download {ARCHIVE} (the Spanish part, CIC-ES) from https://github.com/ixa-ehu/catalonia-independence-corpus "
        "into the raw folder; it is read as it is, without unzipping. Its extracted files spanish_train.csv, "
        "spanish_val.csv, spanish_test.csv are accepted instead."
    ),
    forms=(
        RawForm(
            "zip",
            (RawFile("archive", (ARCHIVE, f"*/{ARCHIVE}"), description="CIC-ES, tab-separated .csv members"),),
            f"the official {ARCHIVE}, read without extracting it",
        ),
        RawForm(
            "extracted",
            tuple(
                RawFile(split, (member, f"*/{member}"), required=False, split=split)
                for member, split in _MEMBERS.items()
            ),
            f"the files of {ARCHIVE}, extracted",
        ),
        RawForm(
            "hf",
            tuple(readers.hub_parquet(split, split, split) for split in _MEMBERS.values()),
            "the Hugging Face dataset catalonia_independence, config spanish, as Parquet",
        ),
    ),
    # The official repository (pinned commit); the zip is read as it is.
    downloads=(
        Download(
            "https://raw.githubusercontent.com/ixa-ehu/catalonia-independence-corpus/"
            "ab1359326cfad0723046719f04cfac57e84c6bac/02_CIC_ES.zip",
            "02_CIC_ES.zip",
            sha256="eb717f7074d5a7c9ef596049bab890ca8a1bae9ac0bad12ef70dc3ae09f068ab",
            size=1070281,
        ),
    ),
)

LABELS = ("AGAINST", "FAVOR", "NEUTRAL")
TASKS = (
    Task(
        "catalonia_independence_classification",
        "Intent Identification",
        "Medical Knowledge",
        tags=("Stance Detection", "Twitter", "Politics"),
        input_language="Spanish",
        labels=LABELS,
    ),
)
TASK = TASKS[0].id
HEADER = ["id_str", "TWEET", "LABEL"]
_MANGLED = re.compile(r"\d+(?:\.\d+)?[eE]\+\d+")


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, str] = {}  # key -> where it was first read
    if files.form.name == "zip":
        for path in files.paths("archive"):
            yield from _archive(path, files.relative(path), seen)
    elif files.form.name == "hf":
        for split in _MEMBERS.values():
            for path in files.paths(split):
                yield from _hub_rows(path, files.relative(path), split, seen)
    else:
        for split in _MEMBERS.values():
            for path in files.paths(split):
                with path.open("rb") as f:
                    yield from _rows(f, files.relative(path), path.name, split, seen)


def _archive(path: Path, name: str, seen: dict[str, str]) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{name}: not a readable zip archive: {error}") from error
    with archive:
        present = {Path(info.filename).name: info.filename for info in archive.infolist() if not info.is_dir()}
        for member, split in _MEMBERS.items():
            if member not in present:
                yield Rejection(f"{member} is missing from the archive", name, member, TASK)
                continue
            with archive.open(present[member]) as f:
                yield from _rows(f, name, member, split, seen)


def _rows(lines: Iterable[bytes], name: str, member: str, split: str, seen: dict[str, str]) -> Iterator[Item]:
    """One file's rows, line by line: tab-separated, no quoting, CRLF."""
    for number, raw in enumerate(lines, 1):
        where = f"{member} line {number}"
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield Rejection("not UTF-8", name, where, TASK, repr(raw[:120]))
            continue
        if number == 1:
            if line.split("\t") != HEADER:
                raise ValueError(f"{name}: {member} has header {line[:80]!r}, expected {chr(9).join(HEADER)!r}")
            continue
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 3:
            yield Rejection("wrong column count, expected 3", name, f"{where} ({len(cells)} columns)", TASK, line)
            continue
        yield from _tweet(*(cell.strip() for cell in cells), name, where, split, seen)


def _hub_rows(path: Path, name: str, split: str, seen: dict[str, str]) -> Iterator[Item]:
    """The Hub export (catalonia_independence, config spanish): id_str, TWEET, LABEL as a class id."""
    for number, row in readers.parquet_rows(path, name, HEADER):
        label = LABELS[row["LABEL"]] if isinstance(row["LABEL"], int) and 0 <= row["LABEL"] < len(LABELS) else ""
        cells = ["" if row[c] is None else str(row[c]).strip() for c in HEADER[:2]]
        yield from _tweet(*cells, label, name, f"row {number}", split, seen)


def _tweet(
    tweet_id: str, tweet: str, label: str, name: str, where: str, split: str, seen: dict[str, str]
) -> Iterator[Item]:
    line = "\t".join((tweet_id, tweet, label))
    if not tweet:
        yield Rejection("empty tweet", name, where, TASK, line)
        return
    if tweet_id.isdigit():
        key = tweet_id
    elif _MANGLED.fullmatch(tweet_id):  # lost digits: the tweet's hash keeps the key unique
        key = f"{tweet_id}-{hashlib.sha1(tweet.encode('utf-8')).hexdigest()[:8]}"
    else:
        yield Rejection("id_str is not a tweet id", name, where, TASK, line)
        return
    try:
        output = forms.label(label, LABELS)
    except forms.FormError as error:
        yield Rejection(str(error), name, where, TASK, line)
        return
    if key in seen:
        again = f"{where} (id_str {tweet_id}, first read at {seen[key]})"
        yield Rejection("tweet repeated (kept where first read)", name, again, TASK, line)
        return
    seen[key] = where
    yield Record(TASK, key, tweet, output, name, f"{where} (id_str {tweet_id})", split=split)
