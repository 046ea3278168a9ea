"""Near-duplicate detection within each task: MinHash signatures (datasketch) and a compact banded LSH index.

The build sketches records a batch at a time (`NearDuplicates.sketch_many`) and then calls
`check_sketch(task_id, record_id, sketch)` for every record in its deterministic order (`check` does both for
one record). The first record of a group of near duplicates is kept and indexed; a later one gets the id of the earlier
one back and is not indexed, so the kept record never depends on anything but the order of the build.
Tasks are independent (one index per task). Texts are never stored.

Similarity is the Jaccard similarity of shingle sets, estimated from a MinHash signature; a record is a near
duplicate of an earlier one when the estimate is at least `threshold`.

- Shingles: the text is normalised (Unicode NFKC, case-folded, whitespace collapsed) and split into tokens: a
  run of non-space characters, except that every Han, Hiragana or Katakana character is a token of its own,
  so Chinese and Japanese text with no spaces gets character shingles and mixed text works too. A shingle is
  `shingle` consecutive tokens (word 5-grams by default). A text with fewer than `MIN_SHINGLES` distinct
  shingles is skipped (not checked, not indexed): similarity means little there, and the exact
  de-duplication of the quality stage handles it.
- Signature: datasketch's MinHash (scheme affine32, `num_perm`, seed=1: its permutations and finaliser) of the
  shingles, computed with numpy on whole batches instead of one Python call per shingle or record: each token
  gets a 64-bit hash from its code points, a shingle a polynomial of its tokens' hashes, of which the top 32
  bits enter the MinHash. Each distinct text of a batch is tokenised and MinHashed once (the records made of
  one raw record share their input: a radiology report's modality and anatomy instances); a record's MinHash
  is the element-wise minimum of its texts' and that of the few shingles spanning two of its texts, the same
  values as the MinHash of all its shingles. Per record (sketch and check, batches of 512) on the
  synthetic corpora of benchmarks/make_corpora.py at scale 0.01 (`python benchmarks/neardup.py --corpus
  /tmp/mb/corpora-0.01/mimic_iv`, shared 2-core machine): MIMIC-IV 172 (xxh32 of each shingle's UTF-8
  bytes) -> 130 (numpy, a record at a time) -> 90-115 us (batches; the permutations-by-shingles matrix laid
  out so that the minimum runs along rows, 5x faster than along columns); PubMedQA 187 -> 140 -> 91 us.
- Candidates: the signature is cut into `b` bands of `r` values, `r` the largest for which a pair at exactly
  `threshold` shares a band with probability >= 0.995 (`1 - (1 - t**r)**b`); defaults 0.9 and 64 give b=9,
  r=7. Each band is hashed to a 32-bit key in an open-addressing table of numpy arrays that points to the
  latest record with that key; records of one bucket are chained newest first (at most `MAX_CHAIN` walked
  per band, so a hot bucket cannot make a query slow).
- Small edits: a word replaced changes up to `shingle` shingles, so in a text under about 100 words its
  Jaccard similarity is under 0.9 (51/61 = 0.84 at 60 words) and MinHash alone misses it. So each text is
  also cut into QUARTERS contiguous parts; the token count and each part's hash make QUARTERS more band keys
  (a text with one word replaced shares three of them with the original at any length), and a candidate of
  the same length that differs in one part only is a near duplicate when its signature agrees as well as a
  change of EDIT_SHARE of the words (at least one) would leave it, less 4.5 standard deviations. A quarter
  rewritten in a long text falls far below that.
- Verification: each candidate's stored signature (8 low bits of each value: b-bit minwise hashing,
  Li & Koenig 2010, corrected for the 1/256 chance agreement) must reach `threshold`; of those that do, the
  earliest record is returned. A band collision alone never flags a record.

With the small-edit candidates (`python benchmarks/neardup.py --records 100000`, shared machine): 8,556
records/s in batches (3,635 a record at a time), 336 B/record of index, precision 1.0, recall 1.0 (2,025 of
2,025 planted one-word edits, true Jaccard 0.80-0.99). The table below is from before they were added.

Figures (benchmarks/neardup.py, one task; 80-300-word texts, a third filled templates, 5 % too short, 2 %
planted copies of an earlier record with one word changed; 2-core machine):

| records | threshold, num_perm | records/s | peak RSS | index B/record | precision | recall (true J >= threshold) |
|---|---|---|---|---|---|---|
| 100,000 | 0.9, 64 (defaults) | 4,578 | 160 MB | 297 | 0.9986 | 0.721 (0.870) |
| 1,000,000 | 0.9, 64 (defaults) | 4,235 | 618 MB | 259 | 0.9996 | 0.739 (0.883) |
| 100,000 | 0.8, 64 | 3,952 | 159 MB | 328 | 0.938 | 0.980 (0.980) |
| 100,000 | 0.8, 128 | 3,844 | 225 MB | 597 | 0.9985 | 0.995 (0.995) |

Memory: the index holds per kept record a 64 B signature, 20 B of length and quarter hashes, 52 B of chain links and
13 table slots of 8 B (9 bands, 4 quarters) at a load of 0.35-0.7, and the record id without its `task_id:` prefix:
about 300-450 B (the figures below were measured with 9 slots, before the quarters: 260-300 B, so 1.3-1.5 GB for 5
million records); the RSS grew by 550 B per record at 1 million (table doubling and interpreter overhead included),
2.7 GB for 5 million. datasketch's own `MinHashLSH` (dict storage: a Python set per bucket, a bytes key per band)
with the same bands grew by 3,200-3,400 B per record, 16 GB for 5 million, and keeps no signature to verify
candidates with (at its default bands for 0.9, b=3 and r=21, about 1,100 B, but only 29 % of the pairs at Jaccard
0.9 become candidates); hence only the MinHash comes from datasketch. Time goes mostly into datasketch's SHA-1 of
each shingle.

What the figures mean: a planted pair is missed when its estimated similarity falls under the threshold (at
0.9 none was missed for want of a shared band). With 64 permutations the estimate has a standard deviation
of about 0.03 at 0.9, so pairs within a few hundredths of the threshold fall on either side; records of one
template are estimated alike, so at 0.8 with 64 permutations some templates were flagged as a whole (true
Jaccard 0.54-0.71); 128 permutations remove most of that at twice the memory. A one-word change alters up to
5 word 5-grams: Jaccard (n-5)/(n+5) for n shingles, a near duplicate at 0.9 only in texts of about 100 words
or more; in a 60-word text it is 51/61 = 0.84.

Signatures depend on the datasketch version (2.0 changed the default permutation scheme): a build is
deterministic for a given installation.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from pipeline.hashtable import mix64

#: Texts with fewer distinct shingles than this are skipped.
MIN_SHINGLES = 5
#: A text is cut into this many parts for the small-edit candidates (see `_quarters`).
QUARTERS = 4
#: Share of words a small edit replaces at most (at least one word), for its verification.
EDIT_SHARE = 0.01
#: Characters sketched at once at most (numpy temporaries: ~25 bytes a character).
_BATCH_CHARACTERS = 1_000_000
#: Shingles per slice of the signature computation (a slice's permutations-by-shingles matrix: 4 MB at 64).
_SLICE = 1 << 14
#: Margin of the small-edit verification, in binomial standard deviations. The affine permutations of
#: datasketch's MinHash are not independent: agreement counts have a heavier low tail than the binomial (one-word
#: edits of 100-word texts, 5,000 pairs: 2 fell below 3.5 sd, none below 4 sd), hence 4.5, not 3.5.
SMALL_EDIT_SIGMAS = 4.5
#: Records walked per band bucket at most, newest first.
MAX_CHAIN = 32
#: A pair at exactly the threshold shares at least one band with at least this probability.
BAND_RECALL = 0.995
SEED = 1

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
_CHUNK_BITS = 16
_CHUNK = 1 << _CHUNK_BITS
_MAX_LOAD = 0.7


def _constant(name: str) -> int:
    """A fixed 64-bit constant (the same under every Python and numpy version)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str, size: int) -> set[bytes]:
    """The distinct shingles of `text` (see the module docstring), as UTF-8 bytes."""
    tokens = _tokens(text)
    return {" ".join(tokens[i : i + size]).encode("utf-8") for i in range(len(tokens) - size + 1)}


#: str.isspace() of every code point up to U+3000, the last whitespace character (what regex `\s` matches).
_SPACE = np.array([chr(c).isspace() for c in range(0x3001)], bool)
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_POLY = np.uint64(0xFF51AFD7ED558CCD)
_EMPTY = np.empty(0, np.uint64)
#: Odd 64-bit weights by position (of a character in its token, of a token in the text), from a fixed seed.
_WEIGHTS = np.random.default_rng(20240601).integers(0, 2**63, size=256, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def _token_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(64-bit hash of every token of `texts`, in order; number of tokens of each text), computed on the code
    points of all the texts at once with numpy: no Python work per token or shingle, and a few dozen numpy
    calls per batch instead of per text (they cost more than the arithmetic on a short text)."""
    normalised = [unicodedata.normalize("NFKC", text).casefold() for text in texts]
    joined = " ".join(normalised)  # a space between texts: no token spans two of them
    if joined.isascii():
        points = np.frombuffer(joined.encode("ascii"), np.uint8)
        space = _SPACE[points]
        cjk = None
        boundary = space
    else:
        points = np.frombuffer(joined.encode("utf-32-le"), np.uint32)
        space = _SPACE[np.minimum(points, len(_SPACE) - 1)] & (points < len(_SPACE))
        cjk = np.zeros(points.size, bool)
        for low, high in _CJK_RANGES:
            cjk |= (points >= low) & (points <= high)
        boundary = space | cjk
    kept = np.flatnonzero(~space)
    if not kept.size:
        return _EMPTY, np.zeros(len(texts), np.int64)
    start = np.empty(points.size, bool)  # a token starts after a space or a CJK character, and at a CJK one
    start[0] = True
    start[1:] = boundary[:-1]
    if cjk is not None:
        start |= cjk
    starts = start[kept]
    first = np.flatnonzero(starts)
    position = np.arange(kept.size) - first[np.cumsum(starts) - 1]
    # A weighted sum of the code points (weight by position in the token), mixed: one multiply per character.
    values = (points[kept].astype(np.uint64) + np.uint64(1)) * _WEIGHTS[position & 255]
    hashes = mix64(np.add.reduceat(values, first))
    text_starts = np.cumsum([0] + [len(text) + 1 for text in normalised[:-1]])
    owner = np.searchsorted(text_starts, kept[first], side="right") - 1
    return hashes, np.bincount(owner, minlength=len(texts))


def _segments(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start of each segment, segment of each element) for consecutive segments of `lengths`."""
    starts = np.cumsum(lengths) - lengths
    return starts, np.repeat(np.arange(lengths.size), lengths)


def _mix_keys(*columns: np.ndarray) -> np.ndarray:
    """Non-zero 32-bit keys of rows of integers: a multiply-add of the columns, mixed (splitmix64)."""
    h = np.full(columns[0].shape, _GOLDEN, np.uint64)
    for n, column in enumerate(columns):
        h = (h + column.astype(np.uint64)) * _WEIGHTS[n]
    keys = (mix64(h) >> np.uint64(32)).astype(np.uint32)
    keys[keys == 0] = 1
    return keys


def bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(b, r): the longest bands for which a pair at `threshold` is a candidate with probability >= BAND_RECALL."""
    for r in range(num_perm, 0, -1):
        b = num_perm // r
        if 1 - (1 - threshold**r) ** b >= BAND_RECALL:
            return b, r
    return num_perm, 1


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the index needs of a record: computed for a batch of records at once (`sketch_many`)."""

    shingles: int  # distinct shingles
    signature: np.ndarray  # the low 8 bits of each MinHash value
    keys: list[int]  # a 32-bit key per band, then per quarter
    parts: np.ndarray  # token count, then the 32-bit hash of each quarter of the tokens


class _Rows:
    """A growable 2-D array kept in chunks of _CHUNK rows: appending never copies a full chunk."""

    def __init__(self, width: int, dtype: type):
        self.width, self.dtype, self.chunks, self.n = width, dtype, [], 0

    def append(self, row: np.ndarray) -> None:
        c, i = self.n >> _CHUNK_BITS, self.n & (_CHUNK - 1)
        if c == len(self.chunks):
            self.chunks.append(np.empty((64, self.width), self.dtype))
        elif i == len(self.chunks[c]):
            grown = np.empty((min(2 * i, _CHUNK), self.width), self.dtype)
            grown[:i] = self.chunks[c]
            self.chunks[c] = grown
        self.chunks[c][i] = row
        self.n += 1

    def take(self, rows: list[int]) -> np.ndarray:
        """The rows numbered `rows` (ascending), gathered a chunk at a time: templated records have hundreds
        of candidates, and stacking them row by row cost more than everything else in the index."""
        by_chunk = itertools.groupby(rows, key=lambda n: n >> _CHUNK_BITS)
        parts = [self.chunks[c][[n & (_CHUNK - 1) for n in group]] for c, group in by_chunk]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.chunks)


class _TaskIndex:
    """The index of one task: signatures, band table, bucket chains and ids of the kept records."""

    def __init__(self, task_id: str, b: int, num_perm: int):
        self.prefix = f"{task_id}:"
        self.signatures = _Rows(num_perm, np.uint8)
        self.parts = _Rows(QUARTERS + 1, np.uint32)  # token count, then the hash of each quarter of the tokens
        # Per band, per record: the previous record of the same bucket, or -1. One array per band, read as Python
        # ints: walking the chains of templated records (hundreds of steps a record) through numpy cost ~1 us a step.
        self.links = [array("i") for _ in range(b)]
        self.keys = np.zeros(1024, np.uint32)  # 0: empty slot
        self.heads = np.zeros(1024, np.int32)
        self._views()
        self.used = 0
        self.ids, self.id_ends = bytearray(), array("Q")

    def _slot(self, key: int) -> int:
        """The slot holding `key`, or the empty slot where it would go (linear probing)."""
        keys, mask = self._kv, len(self._kv) - 1
        pos = key & mask
        while True:
            found = keys[pos]
            if found == key or found == 0:
                return pos
            pos = (pos + 1) & mask

    def _views(self) -> None:
        """Python-int views of the table (reading a numpy scalar costs several times more)."""
        self._kv, self._hv = memoryview(self.keys), memoryview(self.heads)

    def find(self, keys: list[int], signature: np.ndarray, need: int, parts: np.ndarray, edit_need: int) -> int | None:
        """The earliest indexed record sharing a band with `keys` and either agreeing on >= `need` signature
        values, or of the same length, differing in one quarter only and agreeing on >= `edit_need`."""
        candidates = set()
        kv, hv, mask = self._kv, self._hv, len(self._kv) - 1
        for band, key in enumerate(keys):
            pos = key & mask
            while (found := kv[pos]) != key and found != 0:
                pos = (pos + 1) & mask
            if found == 0:
                continue
            n, walked, chain = hv[pos], 0, self.links[band]
            while n >= 0 and walked < MAX_CHAIN:
                candidates.add(n)
                n, walked = chain[n], walked + 1
        if not candidates:
            return None
        ordered = sorted(candidates)
        agree = (self.signatures.take(ordered) == signature).sum(axis=1)
        if agree.max() < min(need, edit_need):  # the usual answer, settled without the parts (fewer numpy calls)
            return None
        theirs = self.parts.take(ordered)
        edited = (theirs[:, 0] == parts[0]) & (np.count_nonzero(theirs[:, 1:] == parts[1:], axis=1) >= QUARTERS - 1)
        hits = np.flatnonzero((agree >= need) | (edited & (agree >= edit_need)))
        return ordered[hits[0]] if hits.size else None

    def add(self, record_id: str, keys: list[int], signature: np.ndarray, parts: np.ndarray) -> None:
        n = self.signatures.n
        if (self.used + len(keys)) > _MAX_LOAD * len(self.keys):
            self._grow()
        links = [-1] * len(keys)
        kv, hv, mask = self._kv, self._hv, len(self._kv) - 1
        for band, key in enumerate(keys):
            pos = key & mask
            while (found := kv[pos]) != key and found != 0:
                pos = (pos + 1) & mask
            if found == 0:
                kv[pos] = key
                self.used += 1
            elif hv[pos] != n:  # (equal only if two bands of this record have the same 32-bit key)
                links[band] = hv[pos]
            hv[pos] = n
        self.signatures.append(signature)
        self.parts.append(parts)
        for chain, link in zip(self.links, links, strict=True):
            chain.append(link)
        rest = record_id[len(self.prefix) :]
        stored = rest if record_id.startswith(self.prefix) and not rest.startswith("\0") else f"\0{record_id}"
        self.ids += stored.encode("utf-8")
        self.id_ends.append(len(self.ids))

    def record_id(self, n: int) -> str:
        stored = self.ids[self.id_ends[n - 1] if n else 0 : self.id_ends[n]].decode("utf-8")
        return stored[1:] if stored.startswith("\0") else self.prefix + stored

    def _grow(self) -> None:
        """Double the table and re-insert every key. Keys sorted by home slot are placed in one vectorised pass
        (slot = max(home, previous slot + 1), a running maximum); the few pushed past the end wrap around."""
        occupied = self.keys != 0
        keys, heads = self.keys[occupied], self.heads[occupied]
        size = 2 * len(self.keys)
        self.keys, self.heads = np.zeros(size, np.uint32), np.zeros(size, np.int32)
        self._views()
        homes = keys & np.uint32(size - 1)
        order = np.argsort(homes, kind="stable")
        keys, heads, homes = keys[order], heads[order], homes[order].astype(np.int64)
        del order
        steps = np.arange(len(keys), dtype=np.int64)
        slots = np.maximum.accumulate(homes - steps) + steps
        inside = slots < size
        self.keys[slots[inside]], self.heads[slots[inside]] = keys[inside], heads[inside]
        for key, head in zip(keys[~inside].tolist(), heads[~inside].tolist(), strict=True):
            pos = self._slot(key)
            self._kv[pos], self._hv[pos] = key, head

    @property
    def nbytes(self) -> int:
        tables = self.keys.nbytes + self.heads.nbytes
        return (
            self.signatures.nbytes
            + self.parts.nbytes
            + sum(chain.itemsize * len(chain) for chain in self.links)
            + tables
            + len(self.ids)
            + self.id_ends.itemsize * len(self.id_ends)
        )


class NearDuplicates:
    """Near-duplicate detection for a streaming build, one independent index per task.

    threshold: estimated Jaccard similarity of shingle sets at or above which a record is a near duplicate.
    num_perm: MinHash permutations (signature length); memory and time grow with it.
    shingle: tokens per shingle (words; single characters in Chinese and Japanese text).
    """

    def __init__(self, threshold: float = 0.9, num_perm: int = 64, shingle: int = 5):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if num_perm < 2 or shingle < 1:
            raise ValueError(f"num_perm must be >= 2 and shingle >= 1, got {num_perm} and {shingle}")
        self.threshold, self.num_perm, self.shingle = threshold, num_perm, shingle
        self.b, self.r = bands(threshold, num_perm)
        # Agreements needed out of num_perm 8-bit values: J + (1 - J) / 256 of them agree at similarity J.
        self._need = math.ceil(num_perm * (threshold + (1 - threshold) / 256) - 1e-9)
        self._multipliers = np.array(
            [[_constant(f"band {band} value {value}") | 1 for value in range(self.r)] for band in range(self.b)],
            dtype=np.uint64,
        )
        minhash = MinHash(num_perm=num_perm, seed=SEED)
        if getattr(minhash, "scheme", None) != "affine32":
            raise RuntimeError("pipeline.neardup needs datasketch >= 2.0 (affine32 MinHash permutations)")
        self._a, self._b = (p.astype(np.uint32) for p in minhash.permutations)
        self._edit_need: dict[int, int] = {}
        self._tasks: dict[str, _TaskIndex] = {}
        self._clusters: dict[str, dict[int, list[str]]] = defaultdict(dict)

    def check(self, task_id: str, record_id: str, *texts: str) -> str | None:
        """The id of an earlier near duplicate in the same task (the record is then not indexed), or None
        (the record is indexed, unless it is too short to be checked). Several texts are one text joined by
        newlines (input and output). For a stream, `sketch_many` a batch first and `check_sketch` each."""
        return self.check_sketch(task_id, record_id, self.sketch_many([texts])[0])

    def check_sketch(self, task_id: str, record_id: str, sketch: Sketch | None) -> str | None:
        """`check` of a record sketched beforehand (None: too short to be checked)."""
        if sketch is None:
            return None
        index = self._tasks.get(task_id)
        if index is None:
            index = self._tasks[task_id] = _TaskIndex(task_id, self.b + QUARTERS, self.num_perm)
        need = self._small_edit_need(sketch.shingles)
        earlier = index.find(sketch.keys, sketch.signature, self._need, sketch.parts, need)
        if earlier is None:
            index.add(record_id, sketch.keys, sketch.signature, sketch.parts)
            return None
        self._clusters[task_id].setdefault(earlier, []).append(record_id)
        return index.record_id(earlier)

    def sketch_many(self, items: Sequence[Sequence[str]]) -> list[Sketch | None]:
        """The sketch of each item (the texts of one record), None for one with under MIN_SHINGLES distinct
        shingles. A batch is computed in one numpy pass (numpy's per-call overhead outweighs the arithmetic on
        one record), and each distinct text is tokenised and MinHashed once: the records a converter makes of
        one raw record often share their input, and the MinHash of a record is the element-wise minimum of its
        texts' MinHashes and that of the few shingles that span two of its texts."""
        chunks, size = [], 0  # (a batch of long notes would take ~25 bytes a character at once)
        for n, item in enumerate(items):
            size += sum(map(len, item))
            if size > _BATCH_CHARACTERS and n > (chunks[-1] if chunks else 0):
                chunks.append(n)
                size = sum(map(len, item))
        if chunks:
            bounds = [0, *chunks, len(items)]
            return [s for a, b in itertools.pairwise(bounds) for s in self.sketch_many(items[a:b])]
        numbers: dict[str, int] = {}
        layout = [[numbers.setdefault(text, len(numbers)) for text in item] for item in items]
        hashes, counts = _token_hashes(list(numbers))
        # Each record's tokens: its texts' tokens one after the other ("pieces").
        pieces = np.fromiter((n for texts in layout for n in texts), np.int64)
        piece_lengths = counts[pieces]
        text_starts = np.cumsum(counts) - counts
        piece_starts, piece_of = _segments(piece_lengths)
        tokens = hashes[np.arange(piece_of.size) - piece_starts[piece_of] + text_starts[pieces][piece_of]]
        first_piece = np.cumsum([0] + [len(texts) for texts in layout[:-1]])
        lengths = np.add.reduceat(piece_lengths, first_piece) if tokens.size else np.zeros(len(items), np.int64)
        record_starts, owner = _segments(lengths)
        position = np.arange(tokens.size) - record_starts[owner]
        # Shingles: a polynomial of `shingle` consecutive token hashes, those within one record only.
        size, n = self.shingle, max(0, tokens.size - self.shingle + 1)
        acc = tokens[:n].copy()
        for j in range(1, size):
            acc *= _POLY
            acc += tokens[j : j + n]
        inside = np.flatnonzero(position[:n] <= (lengths - size)[owner[:n]])
        shingled, shingle_owner = mix64(acc[inside]), owner[inside]
        # Distinct shingles per record (the count matters; the MinHash is the same with repeats): the record's
        # number in the top bits of a key, the hash in the rest (54 bits and more: a collision within a record
        # of a thousand shingles has a chance of about 1e-10), sorted.
        bits = max(1, (len(items) - 1).bit_length())
        keys = np.sort((shingle_owner.astype(np.uint64) << np.uint64(64 - bits)) | (shingled >> np.uint64(bits)))
        new = np.ones(keys.size, bool)
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        distinct = np.bincount((keys[new] >> np.uint64(64 - bits)).astype(np.int64), minlength=len(items))
        sketched = np.flatnonzero(distinct >= MIN_SHINGLES)
        if not sketched.size:
            return [None] * len(items)
        values = self._record_signatures(shingled, inside, piece_of, pieces, first_piece, len(numbers), shingle_owner)
        values = values[sketched]
        # Quarters: each record's tokens in QUARTERS contiguous parts; a part's hash sums its tokens salted by
        # their position (parts are only compared between texts of the same token count).
        weighted = np.append(tokens * _WEIGHTS[position & 255], np.uint64(0))
        bounds = record_starts[sketched, None] + (lengths[sketched, None] * np.arange(QUARTERS + 1)) // QUARTERS
        sums = np.add.reduceat(weighted, bounds.ravel()).reshape(-1, QUARTERS + 1)[:, :QUARTERS]
        parts = np.column_stack([lengths[sketched], mix64(sums) >> np.uint64(32)]).astype(np.uint32)
        band_keys = np.column_stack([self._band_keys(values), self._quarter_keys(parts)]).tolist()
        signatures = values.astype(np.uint8)
        sketches: list[Sketch | None] = [None] * len(items)
        for row, record in enumerate(sketched.tolist()):
            sketches[record] = Sketch(int(distinct[record]), signatures[row], band_keys[row], parts[row])
        return sketches

    def _record_signatures(
        self,
        shingled: np.ndarray,
        at: np.ndarray,
        piece_of: np.ndarray,
        pieces: np.ndarray,
        first_piece: np.ndarray,
        texts: int,
        owner: np.ndarray,
    ) -> np.ndarray:
        """The MinHash of every record, from the shingles `shingled` starting at tokens `at`: the MinHash of each
        distinct text once (from the shingles of its first piece), combined per record with that of its shingles
        spanning two pieces."""
        first_piece_of_text = np.full(texts, -1, np.int64)
        first_piece_of_text[pieces[::-1]] = np.arange(pieces.size - 1, -1, -1)  # (the last write is the first)
        start_piece, end_piece = piece_of[at], piece_of[at + self.shingle - 1]
        within = (start_piece == end_piece) & (first_piece_of_text[pieces[start_piece]] == start_piece)
        spanning = start_piece != end_piece
        # One MinHash pass over two kinds of groups: texts (numbered 0..texts-1), and records' spanning shingles
        # (numbered texts + record); both come in order of their group.
        groups = np.concatenate([pieces[start_piece[within]], texts + owner[spanning]])
        values = self._signatures(np.concatenate([shingled[within], shingled[spanning]]), groups)
        none = np.iinfo(np.uint32).max
        by_group = np.full((texts + first_piece.size, self.num_perm), none, np.uint32)
        present = np.unique(groups)
        by_group[present] = values
        records = np.minimum.reduceat(by_group[pieces], first_piece, axis=0)
        return np.minimum(records, by_group[texts:])

    def _signatures(self, shingled: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """datasketch's MinHash (scheme affine32) of each group of shingles (given by their 64-bit hashes, top 32
        bits used; `groups` non-decreasing), in order of group: MurmurHash3's finalizer, then num_perm affine
        permutations mod 2^32, the minimum of each. In slices of about _SLICE shingles, so that the
        shingles-by-permutations matrix stays small."""
        h = (shingled >> np.uint64(32)).astype(np.uint32)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
        starts = np.flatnonzero(np.diff(groups, prepend=-1))
        ends = np.append(starts[1:], h.size)
        values = np.empty((self.num_perm, starts.size), np.uint32)  # permutations by groups: reduceat along rows
        first = 0
        while first < starts.size:
            last = max(first + 1, int(np.searchsorted(ends, starts[first] + _SLICE, side="right")))
            rows = np.multiply(self._a[:, None], h[starts[first] : ends[last - 1]])
            rows += self._b[:, None]
            values[:, first:last] = np.minimum.reduceat(rows, starts[first:last] - starts[first], axis=1)
            first = last
        return values.T

    def _band_keys(self, values: np.ndarray) -> np.ndarray:
        """One non-zero 32-bit key per band and record: a multiply-add hash of the band's values, mixed."""
        rows = values[:, : self.b * self.r].astype(np.uint64).reshape(len(values), self.b, self.r)
        h = (rows * self._multipliers).sum(axis=2, dtype=np.uint64)
        keys = (mix64(h) >> np.uint64(32)).astype(np.uint32)
        keys[keys == 0] = 1
        return keys

    @staticmethod
    def _quarter_keys(parts: np.ndarray) -> np.ndarray:
        """One band key per quarter, for the length and the position: a text with one word replaced shares
        three of them with the original whatever its length, where its MinHash bands may all differ."""
        quarter = np.broadcast_to(np.arange(QUARTERS), (len(parts), QUARTERS))
        length = np.broadcast_to(parts[:, :1], (len(parts), QUARTERS))
        return _mix_keys(length, quarter, parts[:, 1:])

    def clusters(self) -> dict[str, list[list[str]]]:
        """task_id -> [[kept id, dropped id, ...], ...], clusters in the order their kept record was added."""
        return {
            task_id: [[self._tasks[task_id].record_id(kept), *dropped] for kept, dropped in sorted(found.items())]
            for task_id, found in sorted(self._clusters.items())
            if found
        }

    def nbytes(self) -> int:
        """Bytes held by the indexes (numpy arrays, table, ids), for measurements."""
        return sum(index.nbytes for index in self._tasks.values())

    def _small_edit_need(self, m: int) -> int:
        """Signature agreements expected, less SMALL_EDIT_SIGMAS standard deviations, between a text of `m` shingles and
        the same text with EDIT_SHARE of its words (at least one) replaced: each replaced word changes up to
        `shingle` shingles, so the Jaccard similarity is at least (m - k s) / (m + k s)."""
        if m not in self._edit_need:
            changed = max(1, math.ceil(EDIT_SHARE * (m + self.shingle - 1))) * self.shingle
            jaccard = max(0.0, (m - changed) / (m + changed))
            p = jaccard + (1 - jaccard) / 256
            mean, sd = self.num_perm * p, math.sqrt(self.num_perm * p * (1 - p))
            self._edit_need[m] = max(0, math.floor(mean - SMALL_EDIT_SIGMAS * sd))
        return self._edit_need[m]
