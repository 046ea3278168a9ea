"""Compiled (numba) loops of the quality stage (hash-table probes, the near-duplicate index walk) and of the
sorted hash sets of pipeline.decontaminate.

Why compiled: de-duplication is sequential by nature (whether a record is a duplicate depends on every
record before it, in the build's order), so it cannot be vectorised with numpy, and as Python it cost
50-150 us of CPU a record in ten small steps (a hash-table probe through a memoryview, a bucket chain walk,
a numpy comparison of signatures), more than the conversion itself. Here each step is a few machine
instructions, and a batch of records crosses from Python once.

The tables are numpy arrays owned by Python objects (`Table`, `pipeline.neardup.NearDuplicates`): open
addressing with linear probing, key 0 marking an empty slot (a key 0 is stored as 1). The loops never grow
a table: the caller makes room for a whole batch first (`Table.reserve`), so the arrays a loop writes to
are the ones it was given.

Compiled on first use and cached next to this file (`cache=True`): about 5 s once per installation, then
well under a second per process.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _nonzero(key):  # noqa: ANN001, ANN202 (numba functions are typed by their arguments)
    return key if key != 0 else key + 1


@njit(cache=True, inline="always")
def slot(keys, key):  # noqa: ANN001, ANN202
    """The slot holding `key` (non-zero), or the empty slot where it would go."""
    mask = keys.size - 1
    pos = np.int64(key & mask)
    while keys[pos] != key and keys[pos] != 0:
        pos = (pos + 1) & mask
    return pos


@njit(cache=True)
def place(old_keys, new_keys):  # noqa: ANN001, ANN202
    """Insert every key of `old_keys` into the empty `new_keys`."""
    for j in range(old_keys.size):
        key = old_keys[j]
        if key != 0:
            new_keys[slot(new_keys, key)] = key


@njit(cache=True)
def carry(old_keys, new_keys, old_values, new_values):  # noqa: ANN001, ANN202
    """Copy each key's value from its slot in `old_keys` to its slot in `new_keys` (where `place` put it). Found
    again by probing rather than remembered: a map of old slots to new ones would cost 8 bytes an old slot."""
    for j in range(old_keys.size):
        key = old_keys[j]
        if key != 0:
            new_values[slot(new_keys, key)] = old_values[j]


class Table:
    """A hash table of non-zero 64-bit (or 32-bit) keys with fixed-width values, for the compiled loops.
    `used` is kept in a one-element array so that a loop can count what it inserts. Loaded up to 0.7 (0.35 just
    after growing): memory is what limits a full-scale build, and a compiled linear probe at that load still
    costs a few nanoseconds.

    With `hot`, a table that would hold more than `hot` keys first freezes them (`freeze`): they move to sorted
    arrays (`frozen`, `frozen_values`) searched by bisection behind a directory of their top bits, where a key
    costs its own bytes and not those of the 1.4-2.9 slots the open table keeps for it. A key is then in exactly
    one of the two parts; loops look in both (`find`) and insert into the hot one. `used` counts both."""

    def __init__(
        self,
        key_dtype: type = np.uint64,
        *value_dtypes: type,
        used: np.ndarray | None = None,
        max_load: float = 0.7,
        hot: int | None = None,
    ):
        self.max_load, self.hot = max_load, hot
        self.keys = np.zeros(1024, key_dtype)
        self.values = [np.zeros(1024, dtype) for dtype in value_dtypes]
        self.used = np.zeros(1, np.int64) if used is None else used  # (a view: a loop may count in a shared array)
        self.frozen = np.zeros(0, key_dtype)
        self.frozen_values = [np.zeros(0, dtype) for dtype in value_dtypes]
        self.directory = np.zeros(3, np.int64)
        self.shift = np.full(1, 8 * self.keys.itemsize - 1, np.uint64)  # (an array: loops read it from the tuple)

    def __len__(self) -> int:
        return int(self.used[0])

    def reserve(self, more: int) -> None:
        """Make room for `more` new keys at a load of at most `max_load` (after freezing, with `hot`)."""
        hot_keys = int(self.used[0]) - self.frozen.size
        if self.hot is not None and hot_keys and hot_keys + more > self.hot:
            self.freeze()
            hot_keys = 0
        size = self.keys.size
        while hot_keys + more > self.max_load * size:
            size *= 2
        if size == self.keys.size:
            return
        # No temporaries beside the old and new arrays: the numpy version (a map of old slots to new ones, the
        # values gathered by fancy indexing) held about twice the old arrays more at the moment of the build's
        # peak memory, the last doubling of the near-duplicate index (8 bytes a slot, ~100 million slots at full
        # scale).
        keys = np.zeros(size, self.keys.dtype)
        place(self.keys, keys)
        values = []
        for old in self.values:
            new = np.zeros(size, old.dtype)
            carry(self.keys, keys, old, new)
            values.append(new)
        self.keys, self.values = keys, values

    def freeze(self) -> None:
        """Merge the hot keys and their values into the sorted arrays, and empty the hash table."""
        occupied = np.flatnonzero(self.keys)
        order = occupied[np.argsort(self.keys[occupied])]  # (keys are distinct)
        old = self.frozen.size
        self.frozen = _grown(self.frozen, old + order.size)
        self.frozen_values = [_grown(values, old + order.size) for values in self.frozen_values]
        new_values = _two([values[order] for values in self.values])
        merge_back_values(self.frozen, old, *_two(self.frozen_values), self.keys[order], *new_values)
        bits = max(1, min(28, (self.frozen.size // 32).bit_length()))  # 16-32 keys a bucket
        if self.directory.size != (1 << bits) + 1:
            self.directory = np.zeros((1 << bits) + 1, np.int64)
        self.shift[0] = 8 * self.keys.itemsize - bits
        fill_directory(self.frozen, self.directory, self.shift[0])
        self.keys[:] = 0

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """For the loops: hot keys and values, frozen keys and values, directory, shift."""
        return (self.keys, *self.values, self.frozen, *self.frozen_values, self.directory, self.shift)

    def keys_and_values(self) -> tuple[np.ndarray, ...]:
        return (self.keys, *self.values)

    @property
    def nbytes(self) -> int:
        hot = self.keys.nbytes + sum(v.nbytes for v in self.values)
        return hot + self.frozen.nbytes + sum(v.nbytes for v in self.frozen_values) + self.directory.nbytes


_NO_VALUES = np.zeros(0, np.uint8)


def _two(values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two value arrays for `merge_back_values` (empty ones stand for those a table does not have)."""
    return (*values, _NO_VALUES, _NO_VALUES)[:2]  # type: ignore[return-value]


def _grown(values: np.ndarray, size: int) -> np.ndarray:
    """`values` resized in place (remapped, not copied) to `size`."""
    if not values.flags.owndata:
        values = values.copy()
    values.resize(size, refcheck=False)
    return values


@njit(cache=True, inline="always")
def _put(keys, values_a, values_b, w, from_keys, from_a, from_b, r):  # noqa: ANN001, ANN202
    """Entry r of (from_keys, from_a, from_b) to position w of (keys, values_a, values_b); empty: no such values."""
    keys[w] = from_keys[r]
    if values_a.size:
        values_a[w] = from_a[r]
    if values_b.size:
        values_b[w] = from_b[r]


@njit(cache=True)
def merge_back_values(frozen, old, values_a, values_b, new, new_a, new_b):  # noqa: ANN001, ANN202
    """Merge the sorted keys `new` (their values in `new_a`, `new_b`; empty arrays: no such values) into the
    first `old` keys of `frozen` and values, which have room for them after: from the back, no second array."""
    i, w = old - 1, old + new.size - 1
    for j in range(new.size - 1, -1, -1):
        while i >= 0 and frozen[i] > new[j]:
            _put(frozen, values_a, values_b, w, frozen, values_a, values_b, i)
            i -= 1
            w -= 1
        _put(frozen, values_a, values_b, w, new, new_a, new_b, j)
        w -= 1


@njit(cache=True, inline="always")
def _after(frozen, low, high, bound):  # noqa: ANN001, ANN202
    """The first position in [low, high) of the sorted `frozen` whose value is above `bound` (high if none)."""
    while low < high:
        middle = (low + high) // 2
        if frozen[middle] <= bound:
            low = middle + 1
        else:
            high = middle
    return low


@njit(cache=True, inline="always")
def find(frozen, directory, shift, key):  # noqa: ANN001, ANN202
    """The position of `key` (uint64, non-zero) among the sorted `frozen` keys (directory[b]: the first key with
    key >> shift >= b), or -1."""
    if frozen.size == 0:
        return np.int64(-1)
    bucket = np.int64(key >> shift)
    pos = _after(frozen, directory[bucket], directory[bucket + 1], key - np.uint64(1))
    if pos < directory[bucket + 1] and frozen[pos] == key:
        return np.int64(pos)
    return np.int64(-1)


# The near-duplicate index (pipeline.neardup._Index), in two parts. The records indexed last, the hot part (from
# record number counts[2] on), are in a hash table: `table_keys`/`heads` map a band key to the newest record with it,
# `links[n - counts[2], band]` is the previous record of record n's bucket in that band (-1: none) and `hot_keys`
# the record's keys. The older records are frozen: `frozen` holds (key << 32 | record) sorted, 8 bytes a key where
# the table and links cost ~20, and `directory[b]` is where the entries whose top bits are b start (counts[3]: the
# shift that gives those bits). `signatures`, `parts` and `owner` (the record's part: a task, or a task's test
# split) are what candidates are verified on. counts: records, used table slots, first hot record, shift.


@njit(cache=True, inline="always")
def _frozen_last(frozen, directory, shift, key):  # noqa: ANN001, ANN202
    """The position of the last frozen entry of `key` (the newest record with it), or -1."""
    bound = (np.uint64(key) << np.uint64(32)) | np.uint64(0xFFFFFFFF)
    bucket = np.int64(bound >> np.uint64(shift))
    j = _after(frozen, directory[bucket], directory[bucket + 1], bound) - 1  # (the entries of `key` end before it)
    if j >= directory[bucket] and (frozen[j] >> np.uint64(32)) == key:
        return j
    return np.int64(-1)


@njit(cache=True)
def near_find(index, keys, signature, shape, part, need, edit_need, chain):  # noqa: ANN001, ANN202
    """The earliest indexed record of `part` sharing a band key with `keys` (each bucket walked at most
    `chain` deep, newest first: the hot records, then the frozen ones) and either agreeing on >= `need` signature
    values, or of the same token count (`shape[0]`), differing in at most one quarter hash and agreeing on
    >= `edit_need`; -1 if none."""
    table_keys, heads, links, hot_keys, frozen, directory, signatures, parts, owner, counts = index
    hot_base, shift = counts[2], counts[3]
    bands = keys.size
    found = np.empty(bands * chain, np.int64)
    k = 0
    for band in range(bands):
        walked = 0
        pos = slot(table_keys, keys[band])
        if table_keys[pos] != 0:
            n = np.int64(heads[pos])
            while n >= 0 and walked < chain:
                found[k] = n
                k += 1
                n = np.int64(links[n - hot_base, band])
                walked += 1
        if walked < chain and frozen.size > 0:
            j = _frozen_last(frozen, directory, shift, keys[band])
            while j >= 0 and walked < chain and (frozen[j] >> np.uint64(32)) == keys[band]:
                found[k] = np.int64(frozen[j] & np.uint64(0xFFFFFFFF))
                k += 1
                j -= 1
                walked += 1
    if k == 0:
        return -1
    candidates = np.sort(found[:k])
    previous = -1
    quarters = shape.size - 1
    for j in range(k):
        n = candidates[j]
        if n == previous:
            continue
        previous = n
        if owner[n] != part:  # a 32-bit key shared with another task's record
            continue
        agree = 0
        for v in range(signature.size):
            agree += signatures[n, v] == signature[v]
        if agree >= need:
            return n
        if agree >= edit_need and parts[n, 0] == shape[0]:
            same = 0
            for q in range(1, quarters + 1):
                same += parts[n, q] == shape[q]
            if same >= quarters - 1:
                return n
    return -1


@njit(cache=True)
def near_add(index, keys, signature, shape, part):  # noqa: ANN001, ANN202
    """Index a record as number `counts[0]`, in the hot part (the rows have room for it, the table for its keys);
    returns it. `counts[1]` counts the table's used slots."""
    table_keys, heads, links, hot_keys, frozen, directory, signatures, parts, owner, counts = index
    n = counts[0]
    row = n - counts[2]
    for band in range(keys.size):
        key = keys[band]
        pos = slot(table_keys, key)
        links[row, band] = -1
        hot_keys[row, band] = key
        if table_keys[pos] == 0:
            table_keys[pos] = key
            counts[1] += 1
        elif heads[pos] != n:  # (equal only if two bands of this record have the same key)
            links[row, band] = heads[pos]
        heads[pos] = n
    signatures[n, :] = signature
    parts[n, :] = shape
    owner[n] = part
    counts[0] = n + 1
    return n


@njit(cache=True)
def hot_entries(hot_keys, records, hot_base):  # noqa: ANN001, ANN202
    """The hot part's (key << 32 | record) entries, sorted, a key repeated in one record's bands once."""
    entries = np.empty(records * hot_keys.shape[1], np.uint64)
    k = 0
    for r in range(records):
        for band in range(hot_keys.shape[1]):
            key = hot_keys[r, band]
            repeated = False
            for earlier in range(band):
                repeated |= hot_keys[r, earlier] == key
            if not repeated:
                entries[k] = (np.uint64(key) << np.uint64(32)) | np.uint64(hot_base + r)
                k += 1
    out = entries[:k]
    out.sort()
    return out


@njit(cache=True)
def merge_unique_back(values, old, new):  # noqa: ANN001, ANN202
    """`merge_back_values` of keys alone, then equal neighbours dropped: the distinct values are the first
    (returned) count of `values`."""
    nothing = values[:0]
    merge_back_values(values, old, nothing, nothing, new, nothing, nothing)
    n = 0
    for i in range(old + new.size):
        if n == 0 or values[i] != values[n - 1]:
            values[n] = values[i]
            n += 1
    return n


@njit(cache=True)
def drop_sorted(values, drop):  # noqa: ANN001, ANN202
    """Remove from the sorted `values` (in place, order kept) those in the sorted `drop`; returns how many stay."""
    n = j = 0
    for i in range(values.size):
        v = values[i]
        while j < drop.size and drop[j] < v:
            j += 1
        if j < drop.size and drop[j] == v:
            continue
        values[n] = v
        n += 1
    return n


@njit(cache=True)
def fill_bitmap(keys, shift, bitmap):  # noqa: ANN001, ANN202
    """Set bit (key >> shift) of `bitmap` for every key."""
    for i in range(keys.size):
        bit = keys[i] >> shift
        bitmap[bit >> np.uint64(3)] |= np.uint8(1) << np.uint8(bit & np.uint64(7))


@njit(cache=True)
def members(keys, bitmap, shift, directory, directory_shift, values, found):  # noqa: ANN001, ANN202, PLR0913
    """found[i]: whether values[i] is among the sorted unique `keys`. The bitmap (bit value >> shift) turns most
    absent values away with one byte read; the rest bisect only their directory bucket (directory[b]: the first key
    with key >> directory_shift >= b), a few entries, where a search of the whole array (123M test n-grams at full
    scale) reads ~27 far-apart ones."""
    for i in range(values.size):
        value = values[i]
        bit = value >> shift
        if not (bitmap[bit >> np.uint64(3)] >> np.uint8(bit & np.uint64(7))) & np.uint8(1):
            found[i] = False
            continue
        bucket = np.int64(value >> directory_shift)
        low, high = directory[bucket], directory[bucket + 1]
        while low < high:  # the first key >= value
            middle = (low + high) // 2
            if keys[middle] < value:
                low = middle + 1
            else:
                high = middle
        found[i] = low < directory[bucket + 1] and keys[low] == value


@njit(cache=True)
def fill_directory(frozen, directory, shift):  # noqa: ANN001, ANN202
    """directory[b]: the first entry of the sorted `frozen` with entry >> shift >= b."""
    b = 0
    for j in range(frozen.size):
        bucket = np.int64(frozen[j] >> np.uint64(shift))
        while b <= bucket:
            directory[b] = j
            b += 1
    while b < directory.size:
        directory[b] = frozen.size
        b += 1


@njit(cache=True, inline="always")
def _near_step(index, keys, signature, shape, part, need, edit_need, chain):  # noqa: ANN001, ANN202
    """`near_find`, then `near_add` when there is no earlier near duplicate: (the earlier record or -1, the record's
    new number or -1)."""
    e = near_find(index, keys, signature, shape, part, need, edit_need, chain)
    if e >= 0:
        return e, np.int64(-1)
    return e, np.int64(near_add(index, keys, signature, shape, part))


@njit(cache=True)
def near_screen(index, keys, signature, shape, part, active, need, edit_need, chain, earlier):  # noqa: ANN001, ANN202
    """`_near_step` for each active record of a batch in order; `earlier[i]`: the earlier record's number, -1
    (indexed) or -2 (not checked)."""
    for i in range(keys.shape[0]):
        earlier[i] = -2
        if active[i]:
            earlier[i] = _near_step(index, keys[i], signature[i], shape[i], part[i], need, edit_need[i], chain)[0]


#: Verdicts of `screen`.
ACCEPT, DUPLICATE_ID, INVALID, EXACT, NEAR, MERGE = range(6)
#: Flags of `screen`: the record's id was stored for the input table / the near-duplicate index; its input had
#: another output before (kept: a conflict); its (input, output) pair was first seen in another task.
NEW_INPUT, INDEXED, CONFLICT, CROSS_TASK = 1, 2, 4, 8


@njit(cache=True)
def screen(tables, used, near, kept_out, several, near_need, chain, batch, verdict, ref, flags, earlier):  # noqa: ANN001, ANN202
    """The quality stage's duplicate checks for a batch, record by record in order (see pipeline.quality):
    an id already accepted in its task; a record that failed validation; the same (input, output) in its part;
    a near duplicate of an indexed record of its part (with a short output, only with the same output); then
    the record is accepted, or merged into the instance of the same input where the task allows several
    outputs. `used` counts each table's keys (seen ids, pairs, inputs, pairs across tasks); `near_need` < 0 skips
    the near-duplicate checks. Keys are non-zero and already mixed with their task or part by the caller."""
    (seen, seen_frozen, seen_directory, seen_shift), (pairs, pairs_frozen, pairs_directory, pairs_shift) = tables[:2]
    inputs, input_out, input_id, inputs_frozen, frozen_out, frozen_id, inputs_directory, inputs_shift = tables[2]
    across, across_task, across_frozen, frozen_task, across_directory, across_shift = tables[3]
    task, part, id_key, valid, pair_key, pair, input_key, out_hash, short, sketched, keys, signature, shape, edit = (
        batch
    )
    for i in range(task.size):
        flags[i] = 0
        ref[i] = -1
        earlier[i] = -2
        pos = slot(seen, id_key[i])
        if seen[pos] != 0 or find(seen_frozen, seen_directory, seen_shift[0], id_key[i]) >= 0:
            verdict[i] = DUPLICATE_ID
            continue
        if not valid[i]:
            verdict[i] = INVALID
            continue
        p = slot(pairs, pair_key[i])
        if pairs[p] != 0 or find(pairs_frozen, pairs_directory, pairs_shift[0], pair_key[i]) >= 0:
            verdict[i] = EXACT
            continue
        if near_need >= 0 and sketched[i]:
            e, n = _near_step(near, keys[i], signature[i], shape[i], part[i], near_need, edit[i], chain)
            earlier[i] = e
            if n >= 0:
                kept_out[n] = out_hash[i] if short[i] else np.uint64(0)  # (a plain 0 would make it a float)
                flags[i] |= INDEXED
            elif not short[i] or (kept_out[e] != 0 and kept_out[e] == out_hash[i]):
                verdict[i] = NEAR
                ref[i] = e
                continue
        pairs[p] = pair_key[i]
        used[1] += 1
        q = slot(inputs, input_key[i])
        f = find(inputs_frozen, inputs_directory, inputs_shift[0], input_key[i]) if inputs[q] == 0 else -1
        if inputs[q] == 0 and f < 0:
            inputs[q] = input_key[i]
            input_out[q] = out_hash[i]
            input_id[q] = used[2]
            used[2] += 1
            flags[i] |= NEW_INPUT
        elif (input_out[q] if f < 0 else frozen_out[f]) != out_hash[i]:
            ref[i] = input_id[q] if f < 0 else frozen_id[f]
            if several[task[i]]:
                verdict[i] = MERGE
                seen[pos] = id_key[i]
                used[0] += 1
                continue
            flags[i] |= CONFLICT
        a = slot(across, pair[i])
        f = find(across_frozen, across_directory, across_shift[0], pair[i]) if across[a] == 0 else -1
        if across[a] == 0 and f < 0:
            across[a] = pair[i]
            across_task[a] = task[i]
            used[3] += 1
        elif (across_task[a] if f < 0 else frozen_task[f]) != task[i]:
            flags[i] |= CROSS_TASK
        seen[pos] = id_key[i]
        used[0] += 1
        verdict[i] = ACCEPT


# Sketching (pipeline.neardup.sketch_arrays): tokens, shingles and MinHash signatures. The arithmetic is that of the
# numpy version it replaced, kept as the reference in the tests: a token's hash is mix64 of the sum of (code point
# + 1) * weights[position in token & 255]; a shingle's is mix64 of the polynomial (times POLY) of its tokens'
# hashes; its top 32 bits, MurmurHash3-finalised, go through datasketch's affine32 permutations.

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_POLY = np.uint64(0xFF51AFD7ED558CCD)


@njit(cache=True, inline="always")
def _mix64(x):  # noqa: ANN001, ANN202
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


@njit(cache=True)
def token_hashes(points, starts, space, cjk_low, cjk_high, weights):  # noqa: ANN001, ANN202
    """(hash of every token, in order; first token of each text, plus the end) of the texts `points[starts[t]:
    starts[t + 1]]`: tokens are runs of non-space code points, except that a CJK code point is a token of its own.
    `space[c]`: code point c is whitespace (c < space.size); CJK ranges are [cjk_low[k], cjk_high[k]]."""
    texts = starts.size - 1
    hashes = np.empty(points.size, np.uint64)
    first = np.empty(texts + 1, np.int64)
    n = 0
    for t in range(texts):
        first[t] = n
        acc, position = np.uint64(0), -1
        for i in range(starts[t], starts[t + 1]):
            c = points[i]
            if c < space.size and space[c]:
                if position >= 0:
                    hashes[n] = _mix64(acc)
                    n += 1
                    position = -1
                continue
            is_cjk = False
            for k in range(cjk_low.size):
                if cjk_low[k] <= c <= cjk_high[k]:
                    is_cjk = True
            if is_cjk and position >= 0:  # the token before it ends
                hashes[n] = _mix64(acc)
                n += 1
                position = -1
            if position < 0:
                acc, position = np.uint64(0), 0
            acc += (np.uint64(c) + np.uint64(1)) * weights[position & 255]
            position += 1
            if is_cjk:
                hashes[n] = _mix64(acc)
                n += 1
                position = -1
        if position >= 0:
            hashes[n] = _mix64(acc)
            n += 1
    first[texts] = n
    return hashes[:n], first


@njit(cache=True, inline="always")
def _murmur32(shingle_hash):  # noqa: ANN001, ANN202
    """MurmurHash3's 32-bit finaliser of the top 32 bits of a shingle's hash (as uint64: numba widens uint32
    products to 64 bits, hence the masks)."""
    low = np.uint64(0xFFFFFFFF)
    h = shingle_hash >> np.uint64(32)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & low
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & low
    return np.uint32(h ^ (h >> np.uint64(16)))


@njit(cache=True)
def _minhash_into(values, hashes, a, b):  # noqa: ANN001, ANN202
    """Lower `values` (uint32, num_perm) with shingles (their _murmur32 values) as datasketch's affine32
    MinHash: (a * h + b) mod 2**32 per permutation, the minimum. Permutation by permutation, so that the loop
    over shingles is a vectorised minimum (4x faster than shingle by shingle)."""
    for p in range(values.size):
        smallest, ap, bp = np.uint32(0xFFFFFFFF), a[p], b[p]
        for j in range(hashes.size):
            smallest = min(smallest, np.uint32(ap * hashes[j] + bp))
        values[p] = min(values[p], smallest)


@njit(cache=True)
def _merge_unique(x, y, out):  # noqa: ANN001, ANN202
    """Merge the sorted unique arrays x and y into `out` (unique); returns how many were written."""
    i = j = n = 0
    while i < x.size or j < y.size:
        if j == y.size or (i < x.size and x[i] < y[j]):
            out[n] = x[i]
            i += 1
        elif i == x.size or y[j] < x[i]:
            out[n] = y[j]
            j += 1
        else:
            out[n] = x[i]
            i += 1
            j += 1
        n += 1
    return n


@njit(cache=True)
def _unique_sorted(values):  # noqa: ANN001, ANN202
    """The distinct values of `values` (sorted in place), as a view of its head."""
    values.sort()
    n = 0
    for i in range(values.size):
        if i == 0 or values[i] != values[n - 1]:
            values[n] = values[i]
            n += 1
    return values[:n]


@njit(cache=True, inline="always")
def _shingle(tokens, i, size):  # noqa: ANN001, ANN202
    acc = tokens[i]
    for j in range(1, size):
        acc = acc * _POLY + tokens[i + j]
    return _mix64(acc)


@njit(cache=True)
def sketch(hashes, first, layout, layout_starts, size, a, b, weights, values, distinct, parts):  # noqa: ANN001, ANN202
    """MinHash `values` (records x num_perm, uint32), `distinct` shingle count and `parts` (token count, then the
    top 32 bits of mix64 of each quarter's position-weighted token sum) of each record, whose texts are
    `layout[layout_starts[r]:layout_starts[r + 1]]` (numbers of texts, whose tokens are `hashes[first[t]:first[t +
    1]]`). A shingle is `size` consecutive tokens of the record; each text's own shingles are sorted and MinHashed
    once however many records share it, a record adds the few shingles spanning two of its texts."""
    texts, perms = first.size - 1, a.size
    # Each text's distinct shingles (sorted, in `own[own_starts[t]:own_ends[t]]`) and their MinHash.
    own = np.empty(max(1, hashes.size), np.uint64)
    own_starts, own_ends = np.zeros(texts, np.int64), np.zeros(texts, np.int64)
    text_values = np.full((texts, perms), np.uint32(0xFFFFFFFF), np.uint32)
    longest = 1
    for r in range(layout_starts.size - 1):
        total = 0
        for k in range(layout_starts[r], layout_starts[r + 1]):
            total += first[layout[k] + 1] - first[layout[k]]
        longest = max(longest, total)
    murmured = np.empty(max(longest, hashes.size), np.uint32)  # (a record may hold one text twice)
    at = 0
    for t in range(texts):
        tokens = hashes[first[t] : first[t + 1]]
        n = tokens.size - size + 1
        own_starts[t] = at
        if n > 0:
            for i in range(n):
                own[at + i] = _shingle(tokens, i, size)
            unique = _unique_sorted(own[at : at + n])
            for j in range(unique.size):
                murmured[j] = _murmur32(unique[j])
            _minhash_into(text_values[t], murmured[: unique.size], a, b)
            at += unique.size
        own_ends[t] = at
    tokens = np.empty(longest, np.uint64)
    piece = np.empty(longest, np.int64)
    spanning = np.empty(longest, np.uint64)
    merged, scratch = np.empty(longest + at, np.uint64), np.empty(longest + at, np.uint64)
    for r in range(layout_starts.size - 1):
        length = 0
        for k in range(layout_starts[r], layout_starts[r + 1]):
            t = layout[k]
            for i in range(first[t], first[t + 1]):
                tokens[length], piece[length] = hashes[i], k
                length += 1
            for p in range(perms):
                values[r, p] = min(values[r, p], text_values[t, p])
        parts[r, 0] = length
        quarters = parts.shape[1] - 1
        for q in range(quarters):
            total = np.uint64(0)
            for i in range((length * q) // quarters, (length * (q + 1)) // quarters):
                total += tokens[i] * weights[i & 255]
            parts[r, q + 1] = np.uint32(_mix64(total) >> np.uint64(32))
        n, spans = length - size + 1, 0
        for i in range(max(0, n)):
            if piece[i] != piece[i + size - 1]:
                spanning[spans] = _shingle(tokens, i, size)
                murmured[spans] = _murmur32(spanning[spans])
                spans += 1
        _minhash_into(values[r], murmured[:spans], a, b)
        # Distinct shingles: the union of the texts' and the spanning ones (sorted merges, no sort of the whole).
        count = _unique_sorted(spanning[:spans]).size
        merged[:count] = spanning[:count]
        for k in range(layout_starts[r], layout_starts[r + 1]):
            t = layout[k]
            count = _merge_unique(merged[:count], own[own_starts[t] : own_ends[t]], scratch)
            merged, scratch = scratch, merged
        distinct[r] = count
