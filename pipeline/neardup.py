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
  r=7. Each band is hashed to a 32-bit key (mixed with the band and the task's number: all tasks share one
  open-addressing table of numpy arrays but no bucket) that points to the latest record with that key;
  records of one bucket are chained newest first (at most `MAX_CHAIN` walked per band, so a hot bucket
  cannot make a query slow). The walk and the verification below are compiled (pipeline.kernels) and run a
  batch at a time (`check_many`): as Python they cost 50-250 us a record on templated records.
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

Memory: the index holds per kept record a 64 B signature, 20 B of length and quarter hashes, 4 B of task number,
the record id without its `task_id:` prefix and 13 keys (9 bands, 4 quarters). The last HOT_RECORDS records' keys
are in a hash table (8 B a slot at a load of 0.35-0.7) with chain links (4 B a key) and their keys again (for
freezing); older keys are frozen: 8 B each in one sorted array, plus ~0.5 B of directory. So about 210 B a record
once the hot part is small beside the frozen one (`python benchmarks/neardup.py --records 300000`: 371 B, of which
~165 B is the hot part's 46 MB); it was 350-550 B with every key in the table, whose last doubling (1 GB of slots
at 6M records, plus numpy's temporaries while re-hashing) made the index the largest part of a full-scale MIMIC-IV
build's 4.3 GB. datasketch's own `MinHashLSH` (dict storage: a Python set per
bucket, a bytes key per band) with the same bands grew by 3,200-3,400 B per record, 16 GB for 5 million, and keeps
no signature to verify candidates with (at its default bands for 0.9, b=3 and r=21, about 1,100 B, but only 29 % of
the pairs at Jaccard 0.9 become candidates); hence only the MinHash permutations come from datasketch.

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

from pipeline import kernels
from pipeline.hashtable import mix64

#: Texts with fewer distinct shingles than this are skipped.
MIN_SHINGLES = 5
#: A text is cut into this many parts for the small-edit candidates (see `_quarters`).
QUARTERS = 4
#: Share of words a small edit replaces at most (at least one word), for its verification.
EDIT_SHARE = 0.01
#: Characters sketched at once at most (code points, token and shingle hashes: ~12-20 bytes a character).
_BATCH_CHARACTERS = 1_000_000
#: Margin of the small-edit verification, in binomial standard deviations. The affine permutations of
#: datasketch's MinHash are not independent: agreement counts have a heavier low tail than the binomial (one-word
#: edits of 100-word texts, 5,000 pairs: 2 fell below 3.5 sd, none below 4 sd), hence 4.5, not 3.5.
SMALL_EDIT_SIGMAS = 4.5
#: Records walked per band bucket at most, newest first.
MAX_CHAIN = 32
#: Records in the index's hash table at most, before their keys are frozen into its sorted array (see `_Index`):
#: ~45 MB of table and chains.
HOT_RECORDS = 1 << 17
#: Frozen entries per directory bucket at most (16 at least), searched by bisection: ~0.5 B of directory a key.
FROZEN_BUCKET = 32
#: A pair at exactly the threshold shares at least one band with at least this probability.
BAND_RECALL = 0.995
SEED = 1

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


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
_CJK_LOW, _CJK_HIGH = (
    np.array(bound, np.uint32)
    for bound in zip(
        (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF), strict=True
    )
)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: Odd 64-bit weights by position (of a character in its token, of a token in the text), from a fixed seed.
_WEIGHTS = np.random.default_rng(20240601).integers(0, 2**63, size=256, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def _token_hashes(texts: list[str], folded: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(64-bit hash of every token of `texts`, in order; offset of each text's first token, then the end):
    the texts normalised here (unless `folded`: pipeline.validation.fold's NFKC, case folding and collapsed
    spaces give the same tokens), tokenised and hashed by compiled code (pipeline.kernels.token_hashes)."""
    normalised = texts if folded else [unicodedata.normalize("NFKC", text).casefold() for text in texts]
    points = np.frombuffer("".join(normalised).encode("utf-32-le"), np.uint32)
    starts = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(text) for text in normalised], out=starts[1:])
    return kernels.token_hashes(points, starts, _SPACE, _CJK_LOW, _CJK_HIGH, _WEIGHTS)


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
    """What the index needs of one record (`sketch_many`); a batch is kept as `Sketches`."""

    shingles: int  # distinct shingles
    signature: np.ndarray  # the low 8 bits of each MinHash value
    keys: np.ndarray  # a 32-bit key per band, then per quarter
    parts: np.ndarray  # token count, then the 32-bit hash of each quarter of the tokens


@dataclass(frozen=True, slots=True)
class Sketches:
    """The sketches of a batch of records as arrays, row i for record i (rows of unsketched records: zeros)."""

    sketched: np.ndarray  # bool: the record has at least MIN_SHINGLES distinct shingles
    shingles: np.ndarray  # distinct shingles
    signatures: np.ndarray  # (records, num_perm) uint8
    keys: np.ndarray  # (records, b + QUARTERS) uint32
    parts: np.ndarray  # (records, QUARTERS + 1) uint32

    def __len__(self) -> int:
        return self.sketched.size


class _Index:
    """The indexes of all tasks in one set of arrays, run by pipeline.kernels (see `kernels.near_find`). A band key
    is mixed with its task's number and band, so tasks share the table but not its buckets.

    The last `hot` records are in a hash table with chained buckets; when it is full, their keys are frozen: merged
    into one sorted array of (key, record) entries with a directory by the keys' top bits, 8 bytes a key instead of
    the table's and chains' ~20 (13 keys a record: about 150 bytes a record less, 0.9 GB at full scale), and a
    bucket's records are contiguous there, newest last, so the walk is the same. Rows and the sorted array grow in
    place (`ndarray.resize`: large arrays are remapped, not copied, so growing never holds two copies)."""

    def __init__(self, keys: int, num_perm: int, rows: int = 1024, hot: int | None = None):
        self.hot = HOT_RECORDS if hot is None else hot
        self.counts = np.zeros(4, np.int64)  # records, used table slots, first hot record, directory shift
        self.table = kernels.Table(np.uint32, np.int32, used=self.counts[1:2])
        self.links = np.zeros((min(rows, self.hot), keys), np.int32)
        self.hot_keys = np.zeros((min(rows, self.hot), keys), np.uint32)
        self.frozen = np.zeros(0, np.uint64)
        self.directory = np.zeros(3, np.int64)
        self.counts[3] = 63
        self.signatures = np.zeros((rows, num_perm), np.uint8)
        self.parts = np.zeros((rows, QUARTERS + 1), np.uint32)
        self.owner = np.zeros(rows, np.int32)
        self.ids, self.id_ends = bytearray(), array("Q")

    def reserve(self, records: int) -> None:
        """Room for `records` more records (rows and table slots), freezing the hot part first if they would
        overflow it."""
        hot_records = int(self.counts[0] - self.counts[2])
        if hot_records and hot_records + records > self.hot:
            self.freeze()
            hot_records = 0
        self.table.reserve(records * self.links.shape[1])
        _grow(self.counts[0] + records, 1.25, self.signatures, self.parts, self.owner)
        _grow(hot_records + records, 2.0, self.links, self.hot_keys)

    def freeze(self) -> None:
        """Move the hot part's keys into the sorted array, and empty the table."""
        records = int(self.counts[0] - self.counts[2])
        entries = kernels.hot_entries(self.hot_keys, records, self.counts[2])
        old = self.frozen.size
        self.frozen.resize(old + entries.size, refcheck=False)
        nothing = entries[:0]
        kernels.merge_back_values(self.frozen, old, nothing, nothing, entries, nothing, nothing)
        bits = max(1, min(28, int(self.frozen.size // FROZEN_BUCKET).bit_length()))  # 16-32 entries a bucket
        if self.directory.size != (1 << bits) + 1:
            self.directory = np.zeros((1 << bits) + 1, np.int64)
        self.counts[3] = 64 - bits  # (of the entries: the key's top bits)
        kernels.fill_directory(self.frozen, self.directory, self.counts[3])
        self.table.keys[:] = 0
        self.counts[1] = 0
        self.counts[2] = self.counts[0]

    @property
    def arrays(self) -> tuple:
        table_keys, heads = self.table.keys_and_values()
        hot = (table_keys, heads, self.links, self.hot_keys, self.frozen, self.directory)
        return (*hot, self.signatures, self.parts, self.owner, self.counts)

    def add_id(self, record_id: str, prefix: str) -> None:
        rest = record_id[len(prefix) :]
        stored = rest if record_id.startswith(prefix) and not rest.startswith("\0") else f"\0{record_id}"
        self.ids += stored.encode("utf-8")
        self.id_ends.append(len(self.ids))

    def record_id(self, n: int, prefix: str) -> str:
        stored = self.ids[self.id_ends[n - 1] if n else 0 : self.id_ends[n]].decode("utf-8")
        return stored[1:] if stored.startswith("\0") else prefix + stored

    @property
    def nbytes(self) -> int:
        rows = int(self.counts[0])
        per_row = self.signatures[0].nbytes + self.parts[0].nbytes + self.owner[0].nbytes
        hot = self.table.nbytes + self.links.nbytes + self.hot_keys.nbytes
        frozen = self.frozen.nbytes + self.directory.nbytes
        return hot + frozen + rows * per_row + len(self.ids) + self.id_ends.itemsize * len(self.id_ends)


def _grow(rows: int, factor: float, *arrays: np.ndarray) -> None:
    """Grow the rows of `arrays` (in place) by `factor` until they have `rows`. The rows of every record indexed
    grow by a quarter at a time: `resize` zero-fills, so room made in advance is memory held (doubling held up to
    half as much again at full scale, ~200 MB)."""
    size = len(arrays[0])
    while rows > size:
        size = max(size + 1, int(size * factor))
    if size != len(arrays[0]):
        for array_ in arrays:
            array_.resize((size, *array_.shape[1:]), refcheck=False)


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
        self.need = math.ceil(num_perm * (threshold + (1 - threshold) / 256) - 1e-9)
        self._multipliers = np.array(
            [[_constant(f"band {band} value {value}") | 1 for value in range(self.r)] for band in range(self.b)],
            dtype=np.uint64,
        )
        minhash = MinHash(num_perm=num_perm, seed=SEED)
        if getattr(minhash, "scheme", None) != "affine32":
            raise RuntimeError("pipeline.neardup needs datasketch >= 2.0 (affine32 MinHash permutations)")
        self._a, self._b = (p.astype(np.uint32) for p in minhash.permutations)
        self._edit_need: dict[int, int] = {}
        self.index = _Index(self.b + QUARTERS, num_perm)
        self._numbers: dict[str, int] = {}  # task id -> its number in the index
        self._clusters: dict[int, dict[int, list[str]]] = defaultdict(dict)

    def number(self, task_id: str) -> int:
        """The task's number in the shared index (given in order of first use)."""
        return self._numbers.setdefault(task_id, len(self._numbers))

    def check(self, task_id: str, record_id: str, *texts: str) -> str | None:
        """The id of an earlier near duplicate in the same task (the record is then not indexed), or None
        (the record is indexed, unless it is too short to be checked). Several texts are one text joined by
        newlines (input and output). For a stream, `check_many` a batch at once."""
        return self.check_many([task_id], [record_id], self.sketch_arrays([texts]))[0]

    def check_sketch(self, task_id: str, record_id: str, sketch: Sketch | None) -> str | None:
        """`check` of a record sketched beforehand (None: too short to be checked)."""
        if sketch is None:
            return None
        one = Sketches(
            np.ones(1, bool), np.array([sketch.shingles]), sketch.signature[None], sketch.keys[None], sketch.parts[None]
        )
        return self.check_many([task_id], [record_id], one)[0]

    def check_many(self, task_ids: Sequence[str], record_ids: Sequence[str], sketches: Sketches) -> list[str | None]:
        """`check` of each record of a batch in order (a record is checked against the earlier ones of the
        batch too): the id of its earlier near duplicate, or None."""
        numbers = np.array([self.number(t) for t in task_ids], np.int32)
        keys, edit_need = self.batch_keys(numbers, sketches)
        self.index.reserve(len(sketches))
        earlier = np.empty(len(sketches), np.int64)
        kernels.near_screen(
            self.index.arrays, keys, sketches.signatures, sketches.parts, numbers, sketches.sketched,
            self.need, edit_need, MAX_CHAIN, earlier,
        )  # fmt: skip
        return self.settle(task_ids, record_ids, numbers, earlier)

    def batch_keys(self, numbers: np.ndarray, sketches: Sketches) -> tuple[np.ndarray, np.ndarray]:
        """(band keys mixed with each record's task number and band; signature agreements a small edit needs)."""
        width = sketches.keys.shape[1]
        band = np.broadcast_to(np.arange(width), sketches.keys.shape)
        keys = _mix_keys(sketches.keys, np.broadcast_to(numbers[:, None], sketches.keys.shape), band)
        edit_need = np.array([self._small_edit_need(m) for m in sketches.shingles.tolist()], np.int64)
        return keys, edit_need

    def settle(
        self, task_ids: Sequence[str], record_ids: Sequence[str], numbers: np.ndarray, earlier: np.ndarray
    ) -> list[str | None]:
        """After a compiled check: store the ids of the records indexed (-1), note the clusters of those with an
        earlier near duplicate (>= 0) and return that one's id."""
        found: list[str | None] = [None] * len(record_ids)
        for i in np.flatnonzero(earlier >= -1).tolist():
            n, task_id = int(earlier[i]), task_ids[i]
            if n == -1:
                self.index.add_id(record_ids[i], f"{task_id}:")
            else:
                self._clusters[int(numbers[i])].setdefault(n, []).append(record_ids[i])
                found[i] = self.index.record_id(n, f"{task_id}:")
        return found

    def sketch_many(self, items: Sequence[Sequence[str]]) -> list[Sketch | None]:
        """The sketch of each item (the texts of one record), None for one with under MIN_SHINGLES distinct
        shingles (`sketch_arrays`, one object per record)."""
        batch = self.sketch_arrays(items)
        return [
            Sketch(int(batch.shingles[i]), batch.signatures[i], batch.keys[i], batch.parts[i]) if sketched else None
            for i, sketched in enumerate(batch.sketched.tolist())
        ]

    def sketch_arrays(self, items: Sequence[Sequence[str]], folded: bool = False) -> Sketches:
        """The sketches of the items (the texts of one record each, already `fold`ed if `folded`: the quality
        stage has them); a record with under MIN_SHINGLES distinct shingles is not sketched. A batch crosses to
        compiled code once (pipeline.kernels.sketch), and each distinct text is tokenised and MinHashed once:
        the records a converter makes of one raw record often share their input, and the MinHash of a record
        is the element-wise minimum of its texts' MinHashes and that of the few shingles spanning two of them."""
        chunks, size = [], 0  # (a batch of long notes would take ~25 bytes a character at once)
        for n, item in enumerate(items):
            size += sum(map(len, item))
            if size > _BATCH_CHARACTERS and n > (chunks[-1] if chunks else 0):
                chunks.append(n)
                size = sum(map(len, item))
        if chunks:
            bounds = [0, *chunks, len(items)]
            pieces = [self.sketch_arrays(items[a:b], folded) for a, b in itertools.pairwise(bounds)]
            return Sketches(*(np.concatenate([getattr(p, f) for p in pieces]) for f in Sketches.__slots__))
        numbers: dict[str, int] = {}
        layout = [[numbers.setdefault(text, len(numbers)) for text in item] for item in items]
        hashes, first = _token_hashes(list(numbers), folded)
        flat = np.fromiter((n for texts in layout for n in texts), np.int64)
        layout_starts = np.zeros(len(items) + 1, np.int64)
        np.cumsum([len(texts) for texts in layout], out=layout_starts[1:])
        values = np.full((len(items), self.num_perm), np.iinfo(np.uint32).max, np.uint32)
        distinct = np.zeros(len(items), np.int64)
        parts = np.zeros((len(items), QUARTERS + 1), np.uint32)
        kernels.sketch(
            hashes, first, flat, layout_starts, self.shingle, self._a, self._b, _WEIGHTS, values, distinct, parts
        )
        sketched = distinct >= MIN_SHINGLES
        values, parts = values[sketched], parts[sketched]
        keys = np.zeros((len(items), self.b + QUARTERS), np.uint32)
        keys[sketched] = np.column_stack([self._band_keys(values), self._quarter_keys(parts)])
        signatures = np.zeros((len(items), self.num_perm), np.uint8)
        signatures[sketched] = values
        shapes = np.zeros((len(items), QUARTERS + 1), np.uint32)
        shapes[sketched] = parts
        return Sketches(sketched, distinct, signatures, keys, shapes)

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
        found = {task_id: self._clusters.get(number) for task_id, number in self._numbers.items()}
        return {
            task_id: [[self.index.record_id(kept, f"{task_id}:"), *dropped] for kept, dropped in sorted(c.items())]
            for task_id, c in sorted(found.items())
            if c
        }

    def nbytes(self) -> int:
        """Bytes held by the index (rows of the records indexed, table, ids), for measurements."""
        return self.index.nbytes if self.index.counts[0] else 0

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
