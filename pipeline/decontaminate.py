"""Decontamination of a whole output folder, run after a build: no training instance may share its
input with a test instance of any task, of any source.

Several evaluation sets are built from other corpora (MMedBench parts come from MedQA, HeadQA and
IgakuQA; PubMedQA questions recur in other tasks), and the build splits each source on its own, so
only a pass over the finished folder can see that a test input of one task is a training input of
another. That pass is `decontaminate(out)`.

What counts as overlap, between the input of a training row and the input of any test row:

* exact: equal after normalisation (Unicode NFKC, case-folded, whitespace collapsed);
* a shared n-gram of `ngram` (default 13) normalised word tokens, as in the usual LLM contamination
  checks (GPT-3's and those after it). Word tokens are runs of letters and digits (punctuation and `_` split them).
  CJK text has no spaces, so every Han, kana and Bopomofo character is a token of its own, and a
  window that contains one is compared as a character n-gram of `cjk_ngram(ngram)` =
  ceil(1.5 * ngram) tokens (20 for 13: a Chinese or Japanese word is about 1.5 characters, so 20
  characters carry about as much as 13 English words). Hangul is spaced and stays word tokens.
* boilerplate is not overlap: an n-gram found in more than `BOILERPLATE_INPUTS` distinct test inputs
  of one task is a template (MIMIC note headers, MIMIC-IV-ED and SEER feature lists, DDXPlus evidence
  questions), not content, and is ignored everywhere (GPT-3's check ignored 13-grams found in more
  than 10 documents for the same reason). Exact matches are never ignored. The bundled samples have too few
  test rows for any n-gram to reach the limit, so templated sample tasks lose rows that the full
  corpora would keep.

Which rows: "train" and "validation" rows are cleaned; test rows are never altered. MedS-Ins is an
instruction-tuning set: validation rows are trained on or pick checkpoints, so a test input there
leaks just the same. `DecontaminationReport.removed` counts both; the report files give the split.

Memory: test inputs may be millions, so only 8-byte hashes are held (sorted uint64 numpy arrays,
looked up with searchsorted), never texts: 8 bytes per distinct test input and per distinct test
n-gram, plus, for a moment, about three times that for the largest test task while its n-grams are
sorted and counted. Parquet is streamed a batch at a time. The test instance named in the report is
found by a second pass over the test shards that looks only for the hashes that removed something.
Measured: 300,000 test inputs of 120 words (32M n-grams) against 300,000 training inputs took about
a minute on two cores and peaked at 1 GB.

Files: only the train/validation shards of affected tasks are rewritten, each to a temporary name in
its own folder and then renamed to `<split>-00000-of-0000N.parquet` (zstd, row groups kept; a shard
that loses every row goes and the others are renumbered; a task that loses every row of a split
loses that split's shards; when shards are renumbered, old and new names coexist for a moment).
Then, per affected task, `tasks/<task>.json` is rewritten from the shards with its header read
back, `sources/<source>.json` gets the new counts and file lists (the manifest is written last, and
any manifest that disagrees with the shards on disk is brought in line, so a killed run is finished
by the next one), and the card is regenerated.

Reports: `reports/decontamination.jsonl` has one line per removed row (task_id, split, id,
overlaps_test_task, overlaps_test_id, how = "exact" | "13-gram" | "20-char-gram", source_id and the
source build's `built_at`); lines of earlier runs stay until their source is rebuilt.
`reports/decontamination.json` is the summary. A second run finds nothing and changes no file.

Run it after builds, not while one is running on the same folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from pipeline import card, taskfile
from pipeline.model import SPLITS
from pipeline.output import atomic_write_text
from pipeline.validation import fold

NGRAM = 13
#: Characters of CJK text per English word: CJK windows are ceil(CJK_CHARS_PER_WORD * ngram) long.
CJK_CHARS_PER_WORD = 1.5
#: An n-gram in more than this many distinct test inputs of one task is boilerplate and ignored.
BOILERPLATE_INPUTS = 10
#: The splits that are cleaned; test is never altered.
CLEANED_SPLITS = ("train", "validation")
MAX_EXAMPLES = 50
BATCH_ROWS = 1024
REPORT_LINES = Path("reports") / "decontamination.jsonl"
REPORT_SUMMARY = Path("reports") / "decontamination.json"
TMP_SUFFIX = ".decontaminate-tmp"

_CJK = "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff"
_CJK += "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_SHARD = re.compile(r"(train|validation|test)-(\d{5})-of-(\d{5})\.parquet")
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_CJK_SALT = np.uint64(0x5BD1E9955BD1E995)
_NO_HASHES = np.empty(0, np.uint64)


@dataclass
class DecontaminationReport:
    """What one run removed. `removed` counts train and validation rows per task."""

    removed: dict[str, int] = field(default_factory=dict)
    #: Up to 50: {"task_id", "id", "overlaps_test_task", "overlaps_test_id", "how": "exact"|"13-gram"|...}
    examples: list[dict] = field(default_factory=list)
    test_inputs: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        total = sum(self.removed.values())
        head = f"decontamination: {total} train/validation rows removed from {len(self.removed)} tasks"
        ranked = sorted(self.removed.items(), key=lambda kv: (-kv[1], kv[0]))
        detail = ", ".join(f"{t} {n}" for t, n in ranked[:5]) + (" ..." if len(ranked) > 5 else "")
        return f"{head}{' (' + detail + ')' if detail else ''}; {self.test_inputs} test inputs [{self.seconds:.1f}s]"


normalise = fold  # Unicode NFKC, case-folded, whitespace collapsed: the form inputs are compared in


def tokens(normalised: str) -> list[str]:
    """Word tokens (runs of letters and digits) and single CJK characters, in order."""
    if normalised.isascii():  # the same runs with str methods, 4x faster than the regex
        return normalised.translate(_ASCII_SEPARATORS).split()
    return _TOKEN.findall(normalised)


#: Every ASCII character that is not a letter or a digit, mapped to a space.
_ASCII_SEPARATORS = {c: " " for c in range(128) if not chr(c).isalnum()}


def cjk_ngram(ngram: int) -> int:
    return math.ceil(CJK_CHARS_PER_WORD * ngram)


def decontaminate(out: Path, ngram: int = NGRAM) -> DecontaminationReport:
    """Remove from every task's train and validation shards of `out` the rows whose input overlaps a
    test input of any task (see the module docstring); report them and keep the folder consistent."""
    started = time.monotonic()
    out = Path(out)
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    if not out.is_dir():
        raise FileNotFoundError(f"{out}: no such output folder")
    report = DecontaminationReport()
    manifests = _manifests(out)
    if not manifests:
        report.seconds = time.monotonic() - started
        return report
    _clean_stale(out)
    grams = _Grams(ngram, cjk_ngram(ngram))
    index = _index_tests(out, grams)
    report.test_inputs = index.inputs
    (out / REPORT_LINES).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile("w+", encoding="utf-8", dir=out / REPORT_LINES.parent) as spool:
        drops = _scan_training(out, manifests, index, grams, spool)
        witnesses = _find_witnesses(out, grams, spool) if drops else {}
        entries_changed, cumulative = _write_lines(out, manifests, spool, witnesses, report)
    for shard_set, rows in sorted(drops.items()):
        _rewrite_split(*shard_set, rows)
    synced = _sync_manifests(out)
    if synced:
        card.write(out)
    if entries_changed or synced or not (out / REPORT_SUMMARY).is_file():
        report.seconds = time.monotonic() - started
        summary = {
            "ngram": ngram,
            "cjk_ngram": grams.cjk,
            "boilerplate_inputs": BOILERPLATE_INPUTS,
            "cleaned_splits": list(CLEANED_SPLITS),
            "test_inputs": index.inputs,
            "test_ngrams": int(index.grams.size),
            "boilerplate_ngrams_ignored": index.boilerplate,
            "removed_this_run": report.removed,
            "removed": cumulative,
            "removed_total": sum(n for splits in cumulative.values() for n in splits.values()),
            "tasks_resynced": sorted(synced),
            "seconds": round(report.seconds, 3),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        atomic_write_text(out / REPORT_SUMMARY, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    report.seconds = time.monotonic() - started
    return report


# --- hashing -----------------------------------------------------------------------------------------


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _contains(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which `values` are in `sorted_keys` (sorted, unique uint64): a searchsorted membership test."""
    if not sorted_keys.size or not values.size:
        return np.zeros(values.shape, bool)
    order = np.argsort(values)  # sorted needles: each search starts where the last ended (4x faster)
    needles = values[order]
    pos = np.minimum(np.searchsorted(sorted_keys, needles), sorted_keys.size - 1)
    found = np.empty(values.size, bool)
    found[order] = sorted_keys[pos] == needles
    return found


def _union(parts: list[np.ndarray]) -> np.ndarray:
    """The sorted distinct values of `parts`, which it empties (so that only one copy is alive)."""
    values = _sorted(parts)
    if values.size > 1:
        distinct = np.empty(values.size, bool)
        distinct[0] = True
        np.not_equal(values[1:], values[:-1], out=distinct[1:])
        values = values[distinct]
    return values


def _sorted(parts: list[np.ndarray]) -> np.ndarray:
    """All of `parts` in one sorted array; empties `parts`."""
    values = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else _NO_HASHES.copy()
    parts.clear()
    values.sort()
    return values


class _HashSet:
    """A growing set of uint64 hashes: sorted runs, each at least twice the size of the next, so a
    lookup searches a logarithmic number of runs and each hash is merged a logarithmic number of times."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def contains(self, values: np.ndarray) -> np.ndarray:
        found = np.zeros(values.size, bool)
        for run in self.runs:
            found |= _contains(run, values)
        return found

    def add(self, distinct: np.ndarray) -> None:
        """Add sorted unique hashes that are not in the set yet."""
        run = distinct
        while self.runs and self.runs[-1].size <= 2 * run.size:
            run = _union([self.runs.pop(), run])
        self.runs.append(run)


@dataclass
class _Windows:
    doc: np.ndarray  # index of the text in the batch, per window
    hash: np.ndarray  # uint64 per window
    cjk: np.ndarray  # bool per window: a CJK character n-gram (else a word n-gram)


@dataclass(frozen=True)
class _Grams:
    words: int
    cjk: int

    def exact(self, texts: list[str | None]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Normalised texts, their 8-byte hashes, and which are non-empty."""
        norms = [normalise(t or "") for t in texts]
        present = np.fromiter((bool(n) for n in norms), bool, len(norms))
        hashes = np.fromiter((_digest(n) if n else 0 for n in norms), np.uint64, len(norms))
        return norms, hashes, present

    def windows(self, norms: list[str], docs: np.ndarray) -> _Windows:
        """The n-gram hashes of the texts norms[d] for d in docs, in text order (word n-grams first).

        A token's hash is Python's string hash (SipHash, salted per process: hashes never outlive the
        run); a window's is a polynomial of its tokens' hashes, computed for all windows at once."""
        words: list[str] = []
        lengths = np.zeros(len(docs), np.int64)
        with_cjk: list[tuple[int, int]] = []  # token ranges of the texts that contain CJK characters
        for i, d in enumerate(docs.tolist()):
            toks = tokens(norms[d])
            if not norms[d].isascii() and _CJK_CHAR.search(norms[d]):
                with_cjk.append((len(words), len(words) + len(toks)))
            lengths[i] = len(toks)
            words.extend(toks)
        empty = _Windows(np.empty(0, np.int64), _NO_HASHES, np.empty(0, bool))
        if not words:
            return empty
        token_hash = np.fromiter(map(hash, words), np.int64, len(words)).view(np.uint64)
        token_cjk = np.zeros(len(words), bool)
        for begin, end in with_cjk:
            token_cjk[begin:end] = np.fromiter(map(bool, map(_CJK_CHAR.fullmatch, words[begin:end])), bool)
        doc_of = np.repeat(np.asarray(docs, np.int64), lengths)
        cjk_before = np.concatenate(([0], np.cumsum(token_cjk)))
        parts = []
        for size, want_cjk in ((self.words, False), (self.cjk, True)):
            starts = len(words) - size + 1
            if starts <= 0 or (want_cjk and not with_cjk):
                continue
            h = np.zeros(starts, np.uint64)
            for j in range(size):  # wraps mod 2**64
                h *= _MULTIPLIER
                h += token_hash[j : j + starts]
            cjk_in = cjk_before[size:] - cjk_before[:starts]
            keep = (doc_of[:starts] == doc_of[size - 1 :]) & ((cjk_in > 0) if want_cjk else (cjk_in == 0))
            chosen = np.flatnonzero(keep)
            parts.append((doc_of[chosen], h[chosen] ^ _CJK_SALT if want_cjk else h[chosen], want_cjk))
        if not parts:
            return empty
        return _Windows(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([np.full(p[0].size, p[2]) for p in parts]),
        )

    def how(self, cjk: bool) -> str:
        return f"{self.cjk}-char-gram" if cjk else f"{self.words}-gram"


# --- the folder ---------------------------------------------------------------------------------------


def _manifests(out: Path) -> list[tuple[Path, dict]]:
    folder = out / "sources"
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [(p, json.loads(p.read_text(encoding="utf-8"))) for p in paths]


def _shards(folder: Path, split: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{split}-*.parquet") if _SHARD.fullmatch(p.name))


def _task_folders(out: Path) -> list[Path]:
    data = out / "data"
    return sorted(p for p in data.iterdir() if p.is_dir() and not p.name.startswith(".")) if data.is_dir() else []


def _tmp(folder: Path, name: str) -> Path:
    return folder / f".{name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"


def _clean_stale(out: Path) -> None:
    """Temporary files a killed run left behind (never a shard: they do not end in .parquet)."""
    for pattern in (f"data/*/.*{TMP_SUFFIX}", f"tasks/.*{TMP_SUFFIX}", f"reports/.*{TMP_SUFFIX}"):
        for stale in out.glob(pattern):
            stale.unlink(missing_ok=True)


def _batches(shard: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(shard) as parquet:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)


def _progress(items: list, desc: str) -> tqdm:
    return tqdm(items, desc=desc, unit=" shard", disable=None, mininterval=1.0)


# --- pass 1: the test index ---------------------------------------------------------------------------


@dataclass
class _TestIndex:
    exact: np.ndarray  # sorted unique hashes of normalised test inputs
    grams: np.ndarray  # sorted unique n-gram hashes of test inputs, boilerplate left out
    inputs: int
    boilerplate: int


def _index_tests(out: Path, grams: _Grams) -> _TestIndex:
    exact_parts: list[np.ndarray] = []
    gram_parts: list[np.ndarray] = []
    boilerplate_parts: list[np.ndarray] = []
    inputs = 0
    for folder in _progress(_task_folders(out), "decontaminate: test inputs"):
        seen = _HashSet()  # this task's distinct inputs so far: each counts once towards boilerplate
        task_grams: list[np.ndarray] = []
        for shard in _shards(folder, "test"):
            for batch in _batches(shard, ["input"]):
                inputs += batch.num_rows
                norms, hashes, present = grams.exact(batch.column("input").to_pylist())
                docs = np.flatnonzero(present)
                distinct, first = np.unique(hashes[docs], return_index=True)
                docs = docs[first][~seen.contains(distinct)]
                seen.add(distinct)
                exact_parts.append(distinct)
                win = grams.windows(norms, docs)
                order = np.lexsort((win.doc, win.hash))  # one count per input: drop repeats within it
                doc, h = win.doc[order], win.hash[order]
                once = np.ones(h.size, bool)
                once[1:] = (h[1:] != h[:-1]) | (doc[1:] != doc[:-1])
                task_grams.append(h[once])
        if task_grams:
            occurrences = _sorted(task_grams)  # one per input that has the n-gram
            limit = BOILERPLATE_INPUTS  # more than `limit` occurrences: equal to the one `limit` places on
            boilerplate_parts.append(np.unique(occurrences[limit:][occurrences[limit:] == occurrences[:-limit]]))
            gram_parts.append(_union([occurrences]))
            del occurrences
    boilerplate = _union(boilerplate_parts)
    kept = _union(gram_parts)
    kept = kept[~_contains(boilerplate, kept)]
    return _TestIndex(_union(exact_parts), kept, inputs, int(boilerplate.size))


# --- pass 2: the training rows ------------------------------------------------------------------------


def _scan_training(
    out: Path, manifests: list[tuple[Path, dict]], index: _TestIndex, grams: _Grams, spool
) -> dict[tuple[Path, str], dict[Path, np.ndarray]]:
    """Find the train/validation rows that overlap; spool one JSON line per row (with the hash that
    matched); return the row numbers to drop per (task folder, split) and shard."""
    drops: dict[tuple[Path, str], dict[Path, list[int]]] = defaultdict(lambda: defaultdict(list))
    work = [
        (manifest, task_id, split, shard)
        for _, manifest in manifests
        for task_id in manifest["tasks"]
        for split in CLEANED_SPLITS
        for shard in _shards(out / "data" / task_id, split)
    ]
    for manifest, task_id, split, shard in _progress(work, "decontaminate: train rows"):
        offset = 0
        for batch in _batches(shard, ["id", "input"]):
            norms, hashes, present = grams.exact(batch.column("input").to_pylist())
            exact = present & _contains(index.exact, hashes)
            win = grams.windows(norms, np.flatnonzero(present & ~exact))
            hit = np.flatnonzero(_contains(index.grams, win.hash))
            hit_docs, first = np.unique(win.doc[hit], return_index=True)  # the first shared n-gram of each row
            found = {int(d): ("exact", int(hashes[d])) for d in np.flatnonzero(exact)}
            for d, w in zip(hit_docs.tolist(), hit[first].tolist(), strict=True):
                found[d] = (grams.how(bool(win.cjk[w])), int(win.hash[w]))
            if found:
                ids = batch.column("id").to_pylist()
                for d in sorted(found):
                    how, key = found[d]
                    drops[(shard.parent, split)][shard].append(offset + d)
                    line = [task_id, split, ids[d], how, str(key), manifest["source"]["id"]]
                    spool.write(json.dumps([*line, manifest.get("built_at")], ensure_ascii=False) + "\n")
            offset += batch.num_rows
    return {k: {s: np.asarray(rows, np.int64) for s, rows in v.items()} for k, v in drops.items()}


# --- pass 3: name the test instance each removal overlaps -------------------------------------------------


def _find_witnesses(out: Path, grams: _Grams, spool) -> dict[tuple[bool, int], tuple[str, str]]:
    """(exact?, hash) -> (test task, test id): the first test row holding each hash that removed a row."""
    wanted: dict[bool, set[int]] = {True: set(), False: set()}
    spool.seek(0)
    for line in spool:
        _, _, _, how, key, *_ = json.loads(line)
        wanted[how == "exact"].add(int(key))
    want_exact = np.array(sorted(wanted[True]), np.uint64)
    want_grams = np.array(sorted(wanted[False]), np.uint64)
    found: dict[tuple[bool, int], tuple[str, str]] = {}
    total = want_exact.size + want_grams.size
    for folder in _task_folders(out):
        for shard in _shards(folder, "test"):
            for batch in _batches(shard, ["id", "input"]):
                norms, hashes, present = grams.exact(batch.column("input").to_pylist())
                ids = batch.column("id").to_pylist()
                for d in np.flatnonzero(present & _contains(want_exact, hashes)).tolist():
                    found.setdefault((True, int(hashes[d])), (folder.name, ids[d]))
                if want_grams.size:
                    win = grams.windows(norms, np.flatnonzero(present))
                    for w in np.flatnonzero(_contains(want_grams, win.hash)).tolist():
                        found.setdefault((False, int(win.hash[w])), (folder.name, ids[int(win.doc[w])]))
                if len(found) == total:
                    return found
    return found


# --- reports ------------------------------------------------------------------------------------------


def _write_lines(
    out: Path, manifests: list[tuple[Path, dict]], spool, witnesses: dict, report: DecontaminationReport
) -> tuple[bool, dict[str, dict[str, int]]]:
    """Write reports/decontamination.jsonl: the lines of earlier runs whose source has not been rebuilt
    since, then this run's. Fills `report`; returns (file changed, rows removed per task and split)."""
    built = {t: (m["source"]["id"], m.get("built_at")) for _, m in manifests for t in m["tasks"]}
    new_rows: set[tuple[str, str]] = set()
    removed: Counter[str] = Counter()
    spool.seek(0)
    for line in spool:
        task_id, _, row_id, *_ = json.loads(line)
        new_rows.add((task_id, row_id))
        removed[task_id] += 1
    report.removed = dict(sorted(removed.items()))
    path = out / REPORT_LINES
    cumulative: dict[str, Counter[str]] = defaultdict(Counter)
    changed = bool(new_rows) or not path.is_file()
    tmp = _tmp(path.parent, path.name)
    with open(tmp, "w", encoding="utf-8") as lines:
        if path.is_file():
            with open(path, encoding="utf-8") as old:
                for text in old:
                    entry = json.loads(text)
                    key = (entry.get("task_id"), entry.get("id"))
                    current = built.get(key[0])
                    if current is None or current != (entry.get("source_id"), entry.get("source_built_at")):
                        changed = True  # its source was rebuilt (or dropped): the row may be back
                    elif key not in new_rows:
                        lines.write(text if text.endswith("\n") else text + "\n")
                        cumulative[key[0]][entry.get("split", "train")] += 1
        spool.seek(0)
        for text in spool:
            task_id, split, row_id, how, key, source_id, built_at = json.loads(text)
            test_task, test_id = witnesses.get((how == "exact", int(key)), (None, None))
            example = {"task_id": task_id, "id": row_id, "overlaps_test_task": test_task}
            example |= {"overlaps_test_id": test_id, "how": how}
            if len(report.examples) < MAX_EXAMPLES:
                report.examples.append(dict(example))
            entry = {"task_id": task_id, "split": split, "id": row_id} | {k: v for k, v in example.items() if k != "id"}
            entry |= {"source_id": source_id, "source_built_at": built_at}
            lines.write(json.dumps(entry, ensure_ascii=False) + "\n")
            cumulative[task_id][split] += 1
    if changed:
        os.replace(tmp, path)
    else:
        tmp.unlink()
    return changed, {t: dict(sorted(c.items())) for t, c in sorted(cumulative.items())}


# --- rewriting ----------------------------------------------------------------------------------------


def _rewrite_split(folder: Path, split: str, drops: dict[Path, np.ndarray]) -> None:
    """Write the shards of `split` that lose rows to temporary names, then rename: shards keep their
    order and row groups, empty ones go, and the rest are renumbered `<split>-0000i-of-0000N`."""
    old = _shards(folder, split)
    pieces: list[Path] = []  # what becomes shard i: an untouched old shard or a rewritten temporary one
    for shard in old:
        rows = drops.get(shard)
        if rows is None or not rows.size:
            pieces.append(shard)
            continue
        tmp = _tmp(folder, shard.name)
        if _copy_without(shard, rows, tmp):
            pieces.append(tmp)
    final = [folder / f"{split}-{i:05d}-of-{len(pieces):05d}.parquet" for i in range(len(pieces))]
    for piece, target in zip(pieces, final, strict=True):
        if piece != target:
            os.replace(piece, target)
    for shard in old:
        if shard not in final:
            shard.unlink(missing_ok=True)
    if not any(folder.iterdir()):
        folder.rmdir()


def _copy_without(shard: Path, drop: np.ndarray, target: Path) -> int:
    """Copy `shard` to `target` without the rows numbered in `drop`, row group by row group (zstd).
    Returns the rows kept; writes nothing when none is."""
    kept, offset = 0, 0
    writer: pq.ParquetWriter | None = None
    try:
        with pq.ParquetFile(shard) as parquet:
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group)
                mask = np.ones(table.num_rows, bool)
                mask[drop[(drop >= offset) & (drop < offset + table.num_rows)] - offset] = False
                offset += table.num_rows
                table = table.filter(pa.array(mask))
                if table.num_rows:
                    if writer is None:
                        writer = pq.ParquetWriter(target, parquet.schema_arrow, compression="zstd")
                    writer.write_table(table)
                    kept += table.num_rows
    except BaseException:
        if writer is not None:
            writer.close()
        target.unlink(missing_ok=True)
        raise
    if writer is not None:
        writer.close()
    return kept


def _sync_manifests(out: Path) -> set[str]:
    """Bring every manifest's train/validation counts and file lists in line with the shards on disk,
    rewriting the task file of each task that changed before its manifest. Returns those tasks."""
    changed: set[str] = set()
    for path, manifest in _manifests(out):
        stale = []
        for task_id, info in manifest["tasks"].items():
            splits = info.get("splits", {})
            disk = {}
            for split in CLEANED_SPLITS:
                shards = _shards(out / "data" / task_id, split)
                if shards:
                    rows = sum(pq.read_metadata(s).num_rows for s in shards)
                    disk[split] = {"instances": rows, "files": [s.relative_to(out).as_posix() for s in shards]}
            recorded = {
                s: {"instances": splits[s].get("instances"), "files": splits[s].get("files")}
                for s in CLEANED_SPLITS
                if s in splits
            }
            if recorded != disk:
                fresh = {}
                for split in SPLITS:  # in the build's order; test (and anything unknown) as it was
                    if split in CLEANED_SPLITS and split in disk:
                        fresh[split] = splits.get(split, {}) | disk[split]
                    elif split not in CLEANED_SPLITS and split in splits:
                        fresh[split] = splits[split]
                info["splits"] = fresh | {s: v for s, v in splits.items() if s not in SPLITS}
                stale.append(task_id)
        for task_id in stale:
            _rewrite_task_file(out, task_id)
            if not manifest["tasks"][task_id]["splits"] and task_id not in manifest.get("empty_tasks", []):
                manifest.setdefault("empty_tasks", []).append(task_id)
        if stale:
            atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")
            changed.update(stale)
    return changed


def _rewrite_task_file(out: Path, task_id: str) -> None:
    path = out / "tasks" / f"{task_id}.json"
    shards = [s for split in SPLITS for s in _shards(out / "data" / task_id, split)]
    if not shards:
        path.unlink(missing_ok=True)  # as the build: a task without instances has no task file
        return
    if not path.is_file():
        return
    tmp = _tmp(path.parent, path.name)
    try:
        taskfile.write(tmp, _task_header(path), shards)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _task_header(path: Path) -> dict:
    """Every field of a task file before Instances, read without reading the instances."""
    head: dict = {}
    with open(path, "rb") as f:
        events = ijson.parse(f, use_float=True)
        for prefix, event, value in events:
            if prefix != "" or event != "map_key":
                continue
            if value == "Instances":
                break
            builder = ijson.ObjectBuilder()
            for inner_prefix, inner_event, inner_value in events:
                builder.event(inner_event, inner_value)
                if inner_prefix == value and inner_event not in ("start_map", "start_array", "map_key"):
                    break
            head[value] = builder.value
    return head
