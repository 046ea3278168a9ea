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

Memory: test inputs may be millions, so only 8-byte hashes are held (sorted uint64 numpy arrays, looked up behind a
bitmap of 2 bytes a key and, for n-grams, a directory of half a byte a key at most), never texts: about 10.5 bytes
per distinct test n-gram and 8 per distinct test input, plus, for a moment, about three times that for the largest
test task (the two largest with two workers) while its n-grams are sorted and counted; each task's hashes join the
union as they arrive, merged in place in runs of doubling size (at scale 1.0, 123M test n-grams: the largest process
peaked at 5.4 GB when all tasks' arrays were held and concatenated, at about 2 GB when they were merged into one
growing array; the runs hold at most about as much again as that array: measured, the main process peaks at 2.5 GB
there).
Parquet is streamed a batch at a time, and a batch is hashed in pieces of PIECE_CHARS characters.
The test instance named in the report is found by a second pass over the test shards that looks
only for the hashes that removed something.

Speed: a piece of texts is folded, tokenised and hashed as one numpy array of code points (no
Python string per word), which gives exactly the normal form, tokens and n-grams of `fold` and
`tokens` text by text (tests/test_decontaminate.py checks it on mixed scripts). A token's hash is
a polynomial of its code points, the same in every process, so the passes over test shards (a task a
piece) and train/validation shards (~PIECE_ROWS rows a piece) run in a pool of `workers` spawned
processes; results are merged in piece order, so the output does not depend on the workers. A
caller's script must then guard its entry point (`if __name__ == "__main__":`), as with the build.
Measured on a scale-0.03 build of the benchmark corpora (389k instances, 517M characters of input,
72,644 rows removed; `python benchmarks/decontaminate.py`): 36 s -> 22 s with one process; two
workers help only when the second core is free (fold and n-grams of 63M characters: 2.1 -> 0.9 s).

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
import unicodedata
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

from pipeline import card, kernels, taskfile
from pipeline.hashtable import mix64
from pipeline.model import SPLITS
from pipeline.output import atomic_write_text
from pipeline.pool import Runner, default_workers
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


def decontaminate(out: Path, ngram: int = NGRAM, workers: int | None = None) -> DecontaminationReport:
    """Remove from every task's train and validation shards of `out` the rows whose input overlaps a
    test input of any task (see the module docstring); report them and keep the folder consistent.
    The passes over the shards run in `workers` processes (default: one per core, or this process only
    for a folder under POOL_MIN_BYTES of Parquet; 1: this process only); the result is the same for any
    number."""
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
    if workers is None:  # starting a pool costs seconds: not worth it for a small folder (tests, the samples)
        small = sum(s.stat().st_size for f in _task_folders(out) for s in f.glob("*.parquet")) < POOL_MIN_BYTES
        workers = 1 if small else default_workers()
    workers = max(1, workers)
    (out / REPORT_LINES).parent.mkdir(parents=True, exist_ok=True)
    with (
        Runner(workers) as runner,
        tempfile.TemporaryDirectory(prefix="decontaminate-") as shared,
        tempfile.TemporaryFile("w+", encoding="utf-8", dir=out / REPORT_LINES.parent) as spool,
    ):
        index = _index_tests(out, grams, runner)
        report.test_inputs = index.inputs
        where = _share(index, Path(shared)) if runner.pool is not None else index
        drops = _scan_training(out, manifests, where, grams, spool, runner)
        witnesses = _find_witnesses(out, grams, spool, runner) if drops else {}
        entries_changed, cumulative = _write_lines(out, manifests, spool, witnesses, report)
        # A task's shards, then task files, then manifests, each task in a process of the pool: a run killed in
        # between is finished by the next one (see _sync_manifests).
        by_folder: dict[Path, list[tuple[str, dict[Path, np.ndarray]]]] = defaultdict(list)
        for (folder, split), rows in sorted(drops.items()):
            by_folder[folder].append((split, rows))
        list(runner.map(_rewrite_splits, [(folder, splits) for folder, splits in by_folder.items()]))
        synced = _sync_manifests(out, runner)
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
            "test_ngrams": int(index.grams.keys.size),
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
        """Add sorted unique hashes. The set owns the array from then on: runs are merged in place (`_merge_into`),
        so that a union of overlapping parts never holds more than its runs and the part added."""
        run = distinct
        while self.runs and self.runs[-1].size <= 2 * run.size:
            run = _merge_into(self.runs.pop(), run)
        self.runs.append(run)

    def union(self) -> np.ndarray:
        """All the hashes, sorted and distinct, in one array (the set is emptied)."""
        values = _NO_HASHES.copy()
        while self.runs:  # smallest first, into the next larger
            values = _merge_into(self.runs.pop(), values)
        return values


class _Keys:
    """Sorted unique uint64 hashes (the test n-grams) behind a bitmap of their top bits, 16 bits a key:
    nearly every n-gram of a training row is in no test input, and the bitmap turns ~94% of those away
    with one byte read each; the rest are looked up in their bucket of a directory by the keys' top bits
    (16 to 32 keys a bucket: at most half a byte a key), in one compiled loop (kernels.members). Sorting the
    rest and searching the whole array took a fifth of decontamination at scale 0.1."""

    def __init__(self, keys: np.ndarray, bitmap: np.ndarray | None = None, directory: np.ndarray | None = None) -> None:
        self.keys = keys
        bits = max(16, int(keys.size * 16 - 1).bit_length())
        self.shift = np.uint64(64 - bits)
        if bitmap is None:  # (compiled: numpy's temporaries were three times the keys)
            bitmap = np.zeros(1 << (bits - 3), np.uint8)
            kernels.fill_bitmap(keys, self.shift, bitmap)
        self.bitmap = bitmap
        bucket_bits = max(1, int(keys.size // DIRECTORY_BUCKET).bit_length())
        self.directory_shift = np.uint64(64 - bucket_bits)
        if directory is None:
            directory = np.zeros((1 << bucket_bits) + 1, np.int64)
            kernels.fill_directory(keys, directory, self.directory_shift)
        self.directory = directory

    def contains(self, values: np.ndarray) -> np.ndarray:
        found = np.empty(values.size, bool)
        kernels.members(self.keys, self.bitmap, self.shift, self.directory, self.directory_shift, values, found)
        return found


#: Keys a bucket of `_Keys`'s directory holds at least, on average (16 to 32).
DIRECTORY_BUCKET = 32


# Code point classes: a character is part of a word token, a CJK token of its own, and/or whitespace.
_WORD, _CJK_TOKEN, _SPACE = 1, 2, 4
_WORD_CHAR = re.compile(f"[^\\W_{_CJK}]")
_CLASSES = np.zeros(0x110000, np.uint8)  # filled in lazily: only the code points met are classified
_CLASSIFIED = np.zeros(0x110000, bool)


def _class_of(code: int) -> int:
    """The class by the very expressions `tokens` uses (and str.split's whitespace), so that the
    vectorised tokens are the regex's tokens."""
    char = chr(code)
    token = _CJK_TOKEN if _CJK_CHAR.match(char) else _WORD if _WORD_CHAR.match(char) else 0
    return token | (_SPACE if char.isspace() else 0)


_CLASSES[:128] = [_class_of(c) for c in range(128)]
_CLASSIFIED[:128] = True
_ASCII_CLASSES = _CLASSES[:256].copy()  # uint8 code points index it without a bounds problem


def _classes(codes: np.ndarray) -> np.ndarray:
    if codes.dtype == np.uint8:
        return _ASCII_CLASSES[codes]
    high = codes[codes >= 128]
    new = high[~_CLASSIFIED[high]]
    if new.size:
        for code in np.unique(new).tolist():
            _CLASSES[code] = _class_of(code)
        _CLASSIFIED[new] = True
    return _CLASSES[codes]


class _Powers:
    """base**i mod 2**64 for i < n, grown on demand: the weights of the polynomial hashes below."""

    def __init__(self, base: int) -> None:
        self.base = np.uint64(base)
        self.table = np.ones(1, np.uint64)

    def __call__(self, n: int) -> np.ndarray:
        if self.table.size < n:
            size = max(n, 2 * self.table.size)
            factors = np.full(size, self.base)
            factors[0] = 1
            self.table = np.cumprod(factors, dtype=np.uint64)  # wraps mod 2**64
        return self.table[:n]


_CHAR_MULTIPLIER = 0x100000001B3
_CHAR_POWERS = _Powers(_CHAR_MULTIPLIER)
_CHAR_INVERSE_POWERS = _Powers(pow(_CHAR_MULTIPLIER, -1, 1 << 64))
_TOKEN_POWERS = _Powers(int(_MULTIPLIER))
_TOKEN_INVERSE_POWERS = _Powers(pow(int(_MULTIPLIER), -1, 1 << 64))


def token_hash(token: str) -> int:
    """The hash `_Folded.windows` gives a token, one token at a time (for tests and reading)."""
    h = sum(ord(c) * pow(_CHAR_MULTIPLIER, i, 1 << 64) for i, c in enumerate(token)) % (1 << 64)
    return int(mix64(np.array([h ^ (len(token) << 56) % (1 << 64)], np.uint64))[0])


def _prefold(text: str | None) -> str:
    """`fold` but for its whitespace collapse, which `_Folded` does on code points."""
    if not text:
        return ""
    if text.isascii():  # NFKC leaves ASCII alone and casefold is lower there
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass
class _Windows:
    doc: np.ndarray  # index of the text in the batch, per window
    hash: np.ndarray  # uint64 per window
    cjk: np.ndarray  # bool per window: a CJK character n-gram (else a word n-gram)


class _Folded:
    """A batch of inputs in normal form, as one array of code points (uint8 when the batch is ASCII):
    folding, tokenising and hashing run over the whole batch in numpy, with no Python object per
    word. Each text has a space before and after it, so that no token spans two texts."""

    def __init__(self, texts: list[str | None]) -> None:
        pre = [_prefold(t) for t in texts]
        lengths = np.fromiter(map(len, pre), np.int64, len(pre))
        self.begin = np.cumsum(lengths + 1) - lengths  # after a space, and a space after the last
        self.end = self.begin + lengths
        joined = " " + " ".join(pre) + " "
        if joined.isascii():
            self.codes = np.frombuffer(joined.encode("ascii"), np.uint8)
        else:
            self.codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
        self.classes = _classes(self.codes)
        self._collapse()

    def _collapse(self) -> None:
        """fold's whitespace collapse: each run of whitespace becomes one space; none at either end."""
        space = (self.classes & _SPACE) != 0
        keep = ~space
        keep[1:] |= space[1:] & ~space[:-1]  # the first character of a run (the text starts after a space)
        if keep[1:].all() and not (space & (self.codes != 32)).any():
            # the usual case: every text is non-empty and already collapsed (single " " between words)
            self.squeezed, self.squeezed_begin, self.squeezed_end = self.codes, self.begin, self.end
            self.present = self.end > self.begin
            return
        squeezed = np.where(space, self.codes.dtype.type(32), self.codes)[keep]
        # kept characters before each text and in it, from one count per text and per gap between texts
        bounds = np.empty(2 * self.begin.size, np.int64)
        bounds[0::2], bounds[1::2] = self.begin, self.end
        counts = np.add.reduceat(keep, np.concatenate(([0], bounds)), dtype=np.int64)[:-1]
        counts[1::2][self.end == self.begin] = 0  # reduceat's count for an empty range is one element
        before = np.cumsum(counts)
        begin, end = before[0::2], before[1::2]
        if squeezed.size:  # a trailing run leaves a space at the end: it goes
            end -= (end > begin) & (squeezed[np.maximum(end - 1, 0)] == 32)
        self.squeezed, self.squeezed_begin, self.squeezed_end = squeezed, begin, end
        self.present = end > begin

    def text(self, i: int) -> str:
        """Text i as `fold` gives it."""
        piece = self.squeezed[self.squeezed_begin[i] : self.squeezed_end[i]]
        return piece.tobytes().decode("ascii" if piece.dtype == np.uint8 else "utf-32-le", "surrogatepass")

    def hashes(self) -> np.ndarray:
        """The 8-byte hash (blake2b of its UTF-8) of each normalised text; 0 for an empty one."""
        out = np.zeros(self.present.size, np.uint64)
        if self.squeezed.dtype == np.uint8:  # ASCII: the bytes are the UTF-8
            view = memoryview(self.squeezed)
            for i in np.flatnonzero(self.present).tolist():
                piece = view[self.squeezed_begin[i] : self.squeezed_end[i]]
                out[i] = int.from_bytes(hashlib.blake2b(piece, digest_size=8).digest(), "little")
        else:
            for i in np.flatnonzero(self.present).tolist():
                out[i] = _digest(self.text(i))
        return out

    def windows(self, docs: np.ndarray, words: int, cjk: int) -> _Windows:
        """The n-gram hashes of texts `docs`, in text order, word n-grams first, then CJK ones.

        A token's hash is a polynomial of its code points (from prefix sums over the batch), mixed; a
        window's is the polynomial of its tokens' hashes sum(h[i+j] * M**(n-1-j)), also from prefix
        sums: S[k] = sum(h[t] * M**-t for t < k), window i = (S[i+n] - S[i]) * M**(i+n-1)."""
        empty = _Windows(np.empty(0, np.int64), _NO_HASHES, np.empty(0, bool))
        word = (self.classes & _WORD) != 0  # a space at both ends: every run starts and ends inside
        single = None if self.codes.dtype == np.uint8 else (self.classes & _CJK_TOKEN) != 0
        if single is None or not single.any():
            starts = np.flatnonzero(word[1:] > word[:-1]) + 1
            ends = np.flatnonzero(word[:-1] > word[1:]) + 1
        else:  # a CJK character is a token of its own
            starts = np.flatnonzero(single[1:] | (word[1:] > word[:-1])) + 1
            ends = np.flatnonzero(single[:-1] | (word[:-1] > word[1:])) + 1
        first = np.searchsorted(starts, self.begin)  # the first token of each text
        counts = np.diff(first, append=starts.size)
        wanted = np.zeros(self.begin.size, bool)
        wanted[docs] = True
        if not wanted.all():
            chosen = np.repeat(wanted, counts)
            starts, ends = starts[chosen], ends[chosen]
            counts = np.where(wanted, counts, 0)
        doc_of = np.repeat(np.arange(self.begin.size), counts)
        if not starts.size:
            return empty
        n = self.codes.size
        prefix = np.zeros(n + 1, np.uint64)
        np.cumsum(self.codes * _CHAR_POWERS(n), out=prefix[1:])  # wraps mod 2**64
        token_hash = (prefix[ends] - prefix[starts]) * _CHAR_INVERSE_POWERS(n)[starts]
        token_hash ^= (ends - starts).astype(np.uint64) << np.uint64(56)
        token_hash = mix64(token_hash)
        token_cjk = np.zeros(starts.size, bool) if single is None else single[starts]
        count = token_hash.size
        sums = np.zeros(count + 1, np.uint64)
        np.cumsum(token_hash * _TOKEN_INVERSE_POWERS(count), out=sums[1:])
        cjk_before = np.concatenate(([0], np.cumsum(token_cjk)))
        parts = []
        for size, want_cjk in ((words, False), (cjk, True)):
            begins = count - size + 1
            if begins <= 0 or (want_cjk and not cjk_before[-1]):
                continue
            h = (sums[size:] - sums[:begins]) * _TOKEN_POWERS(count)[size - 1 :]
            cjk_in = cjk_before[size:] - cjk_before[:begins]
            keep = (doc_of[:begins] == doc_of[size - 1 :]) & ((cjk_in > 0) if want_cjk else (cjk_in == 0))
            kept = np.flatnonzero(keep)
            parts.append((doc_of[kept], h[kept] ^ _CJK_SALT if want_cjk else h[kept], want_cjk))
        if not parts:
            return empty
        return _Windows(
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([np.full(p[0].size, p[2]) for p in parts]),
        )


#: Characters folded and hashed at once: the arrays of a piece (~30 bytes a character) stay in the cache
#: and memory stays bounded whatever the texts' lengths (one longer text is a piece of its own).
PIECE_CHARS = 1 << 19


def _pieces_of(texts: list[str | None]) -> Iterator[tuple[int, list[str | None]]]:
    """`texts` in consecutive runs of about PIECE_CHARS characters: (index of the first, the run)."""
    start, chars = 0, 0
    for i, text in enumerate(texts):
        chars += len(text) if text else 0
        if chars >= PIECE_CHARS:
            yield start, texts[start : i + 1]
            start, chars = i + 1, 0
    if start < len(texts) or not texts:
        yield start, texts[start:]


@dataclass(frozen=True)
class _Grams:
    words: int
    cjk: int

    def fold(self, texts: list[str | None]) -> tuple[_Folded, np.ndarray, np.ndarray]:
        """The batch folded, the 8-byte hash of each normalised text, and which are non-empty."""
        folded = _Folded(texts)
        return folded, folded.hashes(), folded.present

    def windows(self, folded: _Folded, docs: np.ndarray) -> _Windows:
        return folded.windows(docs, self.words, self.cjk)

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


def _batches(shard: Path, columns: list[str], row_groups: list[int] | None = None) -> Iterator[pa.RecordBatch]:
    with pq.ParquetFile(shard) as parquet:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns, row_groups=row_groups)


def _progress(items, desc: str, total: int | None = None) -> tqdm:
    return tqdm(items, desc=desc, unit=" piece", total=total, disable=None, mininterval=1.0)


# --- pass 1: the test index ---------------------------------------------------------------------------


@dataclass
class _TestIndex:
    exact: np.ndarray  # sorted unique hashes of normalised test inputs
    grams: _Keys  # sorted unique n-gram hashes of test inputs, boilerplate left out
    inputs: int
    boilerplate: int


def _index_task(folder: Path, grams: _Grams) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """One task's test inputs: their distinct hashes, their distinct n-grams and the boilerplate among
    those (n-grams of more than BOILERPLATE_INPUTS distinct inputs), and how many inputs there are."""
    seen = _HashSet()  # this task's distinct inputs so far: each counts once towards boilerplate
    exact_parts: list[np.ndarray] = []
    task_grams: list[np.ndarray] = []
    inputs = 0
    for shard in _shards(folder, "test"):
        for batch in _batches(shard, ["input"]):
            inputs += batch.num_rows
            for _, texts in _pieces_of(batch.column("input").to_pylist()):
                _index_piece(texts, grams, seen, exact_parts, task_grams)
    if not task_grams:
        return _union(exact_parts), _NO_HASHES, _NO_HASHES, inputs
    occurrences = _sorted(task_grams)  # one per input that has the n-gram
    limit = BOILERPLATE_INPUTS  # more than `limit` occurrences: equal to the one `limit` places on
    boilerplate = np.unique(occurrences[limit:][occurrences[limit:] == occurrences[:-limit]])
    return _union(exact_parts), _merge_into(occurrences, _NO_HASHES), boilerplate, inputs


def _index_piece(
    texts: list[str | None], grams: _Grams, seen: _HashSet, exact_parts: list[np.ndarray], task_grams: list[np.ndarray]
) -> None:
    """Add the inputs among `texts` not seen yet to `exact_parts` and their n-grams, once per input, to
    `task_grams`."""
    folded, hashes, present = grams.fold(texts)
    docs = np.flatnonzero(present)
    distinct, first = np.unique(hashes[docs], return_index=True)
    docs = docs[first][~seen.contains(distinct)]
    seen.add(distinct.copy())  # (the set merges its arrays in place)
    exact_parts.append(distinct)
    win = grams.windows(folded, docs)
    order = np.lexsort((win.doc, win.hash))  # one count per input: drop repeats within it
    doc, h = win.doc[order], win.hash[order]
    once = np.ones(h.size, bool)
    once[1:] = (h[1:] != h[:-1]) | (doc[1:] != doc[:-1])
    task_grams.append(h[once])


def _index_tests(out: Path, grams: _Grams, runner: Runner) -> _TestIndex:
    exact, grams_set, boilerplate = _HashSet(), _HashSet(), _HashSet()
    inputs = 0
    # biggest first, so that no large task starts last and runs alone (the union does not care)
    folders = sorted(_task_folders(out), key=lambda f: (-sum(s.stat().st_size for s in _shards(f, "test")), f.name))
    pieces = [(folder, grams) for folder in folders]
    # Each task's hashes join the union as they come, merged in place in runs of doubling size (each hash moves a
    # logarithmic number of times): tasks made of one corpus share most test inputs (a radiology report's modality,
    # anatomy and summary tasks), so their arrays held until the end and concatenated cost several times the union
    # (5.4 GB at full scale); merging each into one growing array moved the whole union once per task (60 s at 0.1).
    for task_exact, task_grams, task_boilerplate, count in _progress(
        runner.map(_index_task, pieces), "decontaminate: test inputs", len(pieces)
    ):
        exact.add(task_exact)
        grams_set.add(task_grams)
        boilerplate.add(task_boilerplate)
        inputs += count
    kept, dropped = grams_set.union(), boilerplate.union()
    kept.resize(kernels.drop_sorted(kept, dropped), refcheck=False)
    return _TestIndex(exact.union(), _Keys(kept), inputs, int(dropped.size))


def _merge_into(values: np.ndarray, more: np.ndarray) -> np.ndarray:
    """The distinct values of the sorted `values` and of the sorted distinct `more`, in `values` grown in place: no
    third array."""
    if not values.flags.owndata:
        values = values.copy()
    old = values.size
    values.resize(old + more.size, refcheck=False)
    values.resize(kernels.merge_unique_back(values, old, more), refcheck=False)
    return values


# --- pass 2: the training rows ------------------------------------------------------------------------

#: The test index in a worker process: loaded once from the files `_share` wrote.
_WORKER_INDEX: dict[str, _TestIndex] = {}


def _share(index: _TestIndex, folder: Path) -> str:
    """Write the index's arrays where worker processes memory-map them (one copy in the page cache)."""
    np.save(folder / "exact.npy", index.exact)
    np.save(folder / "grams.npy", index.grams.keys)
    np.save(folder / "bitmap.npy", index.grams.bitmap)
    np.save(folder / "directory.npy", index.grams.directory)
    return str(folder)


def _shared(where: str | _TestIndex) -> _TestIndex:
    if isinstance(where, _TestIndex):
        return where
    if where not in _WORKER_INDEX:
        _WORKER_INDEX.clear()
        folder = Path(where)
        keys = _Keys(*(np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("grams", "bitmap", "directory")))
        _WORKER_INDEX[where] = _TestIndex(np.load(folder / "exact.npy", mmap_mode="r"), keys, 0, 0)
    return _WORKER_INDEX[where]


def _scan_piece(
    shard: Path, row_groups: list[int], index: str | _TestIndex, grams: _Grams
) -> list[tuple[int, str, str, int]]:
    """The rows of these row groups of a train/validation shard that overlap a test input:
    (row number within the rows of `row_groups`, id, how, the hash that matched), in row order."""
    index = _shared(index)
    found_rows: list[tuple[int, str, str, int]] = []
    offset = 0
    for batch in _batches(shard, ["id", "input"], row_groups):
        ids: list[str] | None = None
        for start, texts in _pieces_of(batch.column("input").to_pylist()):
            found = _scan_texts(texts, index, grams)
            if found:
                ids = batch.column("id").to_pylist() if ids is None else ids
                found_rows.extend((offset + start + d, ids[start + d], *found[d]) for d in sorted(found))
        offset += batch.num_rows
    return found_rows


def _scan_texts(texts: list[str | None], index: _TestIndex, grams: _Grams) -> dict[int, tuple[str, int]]:
    """The texts that overlap a test input: {index: (how, the hash that matched)}."""
    folded, hashes, present = grams.fold(texts)
    exact = present & _contains(index.exact, hashes)
    win = grams.windows(folded, np.flatnonzero(present & ~exact))
    hit = np.flatnonzero(index.grams.contains(win.hash))
    hit_docs, first = np.unique(win.doc[hit], return_index=True)  # the first shared n-gram of each row
    found = {int(d): ("exact", int(hashes[d])) for d in np.flatnonzero(exact)}
    for d, w in zip(hit_docs.tolist(), hit[first].tolist(), strict=True):
        found[d] = (grams.how(bool(win.cjk[w])), int(win.hash[w]))
    return found


#: Parquet bytes in the folder below which the passes run in this process even when cores are free.
POOL_MIN_BYTES = 64 * 1024 * 1024

#: Row groups of a shard scanned as one piece: about this many rows (pieces are what workers share out).
PIECE_ROWS = 8192


def _pieces(shard: Path) -> list[tuple[list[int], int]]:
    """The shard's row groups in pieces of about PIECE_ROWS rows: (row groups, first row)."""
    meta = pq.read_metadata(shard)
    pieces: list[tuple[list[int], int]] = []
    group, row = [], 0
    start = 0
    for g in range(meta.num_row_groups):
        group.append(g)
        row += meta.row_group(g).num_rows
        if row - start >= PIECE_ROWS:
            pieces.append((group, start))
            group, start = [], row
    if group or not pieces:
        pieces.append((group, start))
    return pieces


def _scan_training(
    out: Path, manifests: list[tuple[Path, dict]], index: str | _TestIndex, grams: _Grams, spool, runner: Runner
) -> dict[tuple[Path, str], dict[Path, np.ndarray]]:
    """Find the train/validation rows that overlap; spool one JSON line per row (with the hash that
    matched); return the row numbers to drop per (task folder, split) and shard."""
    drops: dict[tuple[Path, str], dict[Path, list[int]]] = defaultdict(lambda: defaultdict(list))
    work = [
        (manifest, task_id, split, shard, groups, start)
        for _, manifest in manifests
        for task_id in manifest["tasks"]
        for split in CLEANED_SPLITS
        for shard in _shards(out / "data" / task_id, split)
        for groups, start in _pieces(shard)
    ]
    results = runner.map(_scan_piece, [(w[3], w[4], index, grams) for w in work])
    for (manifest, task_id, split, shard, _, start), rows in zip(
        work, _progress(results, "decontaminate: train rows", len(work)), strict=True
    ):
        for row, row_id, how, key in rows:
            drops[(shard.parent, split)][shard].append(start + row)
            line = [task_id, split, row_id, how, str(key), manifest["source"]["id"]]
            spool.write(json.dumps([*line, manifest.get("built_at")], ensure_ascii=False) + "\n")
    return {k: {s: np.asarray(rows, np.int64) for s, rows in v.items()} for k, v in drops.items()}


# --- pass 3: name the test instance each removal overlaps -------------------------------------------------


def _witness_shard(
    shard: Path, grams: _Grams, want_exact: np.ndarray, want_grams: np.ndarray
) -> dict[tuple[bool, int], str]:
    """(exact?, hash) -> id of the first row of the test shard holding each wanted hash."""
    found: dict[tuple[bool, int], str] = {}
    for batch in _batches(shard, ["id", "input"]):
        ids = batch.column("id").to_pylist()
        for start, texts in _pieces_of(batch.column("input").to_pylist()):
            folded, hashes, present = grams.fold(texts)
            for d in np.flatnonzero(present & _contains(want_exact, hashes)).tolist():
                found.setdefault((True, int(hashes[d])), ids[start + d])
            if want_grams.size:
                win = grams.windows(folded, np.flatnonzero(present))
                for w in np.flatnonzero(_contains(want_grams, win.hash)).tolist():
                    found.setdefault((False, int(win.hash[w])), ids[start + int(win.doc[w])])
    return found


def _find_witnesses(out: Path, grams: _Grams, spool, runner: Runner) -> dict[tuple[bool, int], tuple[str, str]]:
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
    shards = [shard for folder in _task_folders(out) for shard in _shards(folder, "test")]
    results = runner.map(_witness_shard, [(shard, grams, want_exact, want_grams) for shard in shards])
    for shard, in_shard in zip(shards, results, strict=False):  # in order: the first holder wins
        for key, test_id in in_shard.items():
            found.setdefault(key, (shard.parent.name, test_id))
        if len(found) == total:
            break
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


def _rewrite_splits(folder: Path, splits: list[tuple[str, dict[Path, np.ndarray]]]) -> None:
    """The splits of one task folder in turn (one process: the last one empties and removes the folder)."""
    for split, drops in splits:
        _rewrite_split(folder, split, drops)


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


def _sync_manifests(out: Path, runner: Runner) -> set[str]:
    """Bring every manifest's train/validation counts and file lists in line with the shards on disk,
    rewriting the task file of each task that changed (in the pool) before any manifest. Returns those tasks."""
    changed: set[str] = set()
    synced: list[tuple[Path, dict, list[str]]] = []
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
        if stale:
            synced.append((path, manifest, stale))
    list(runner.map(_rewrite_task_file, [(out, task_id) for _, _, stale in synced for task_id in stale]))
    for path, manifest, stale in synced:
        for task_id in stale:
            if not manifest["tasks"][task_id]["splits"] and task_id not in manifest.get("empty_tasks", []):
                manifest.setdefault("empty_tasks", []).append(task_id)
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
