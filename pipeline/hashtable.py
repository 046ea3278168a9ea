"""Compact hash tables of 64-bit keys for the quality stage's per-record state.

A Python set or dict of ints costs 60-250 bytes an entry (an int object per key and value, a tuple, the table
slot); the quality stage keeps several entries per record, so at MIMIC-IV's 6 million instances that alone was
2.6 GB (measured 438 B a record). Here keys and values live in numpy arrays with open addressing and linear
probing, 8 bytes a key plus the values' own width, at a load of 0.25-0.5: 16-60 bytes an entry. Lookups go
through memoryviews, so a probe reads Python ints without creating numpy scalars.

Keys are hashes (their low bits pick the slot). Key 0 marks an empty slot, so the key 0 is stored as 1: the only
effect is that 0 and 1 are one key, with probability 2**-63.
"""

from __future__ import annotations

import numpy as np

_MAX_LOAD = 0.5
_M1_INT, _M2_INT = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_M1, _M2 = np.uint64(_M1_INT), np.uint64(_M2_INT)
_MASK64 = (1 << 64) - 1


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise (uint64 arithmetic wraps, as intended): every bit of the result
    depends on every bit of `x`. The vectorised hashes of near duplicates and decontamination end with it."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    return x ^ (x >> np.uint64(31))


def mix64_int(x: int) -> int:
    """`mix64` of one Python int below 2**64, without numpy (a numpy scalar operation costs ~1 us)."""
    x = ((x ^ (x >> 30)) * _M1_INT) & _MASK64
    x = ((x ^ (x >> 27)) * _M2_INT) & _MASK64
    return x ^ (x >> 31)


class Table64:
    """A map from 64-bit keys to a fixed tuple of numeric values (dtypes given); no values makes it a set."""

    def __init__(self, *value_dtypes: type, capacity: int = 1024):
        size = 1 << max(4, (capacity - 1).bit_length())
        self._dtypes = value_dtypes
        self._keys = np.zeros(size, np.uint64)
        self._values = [np.zeros(size, dtype) for dtype in value_dtypes]
        self.used = 0
        self._views()

    def _views(self) -> None:
        self._kv = memoryview(self._keys)
        self._vv = [memoryview(v) for v in self._values]
        self._mask = len(self._keys) - 1

    def __len__(self) -> int:
        return self.used

    def _slot(self, key: int) -> int:
        """The slot of `key`, or the empty slot where it would go."""
        keys, mask = self._kv, self._mask
        pos = key & mask
        while (found := keys[pos]) != key and found != 0:
            pos = (pos + 1) & mask
        return pos

    def __contains__(self, key: int) -> bool:
        key = key or 1
        return self._kv[self._slot(key)] == key

    def get(self, key: int) -> tuple | None:
        """The values stored under `key`, or None."""
        key = key or 1
        pos = self._slot(key)
        if self._kv[pos] != key:
            return None
        return tuple(view[pos] for view in self._vv)

    def setdefault(self, key: int, *values: int) -> tuple:
        """The values under `key`; `values` are stored first when the key is new."""
        key = key or 1
        pos = self._slot(key)
        if self._kv[pos] == key:
            return tuple(view[pos] for view in self._vv)
        self._insert(pos, key, values)
        return values

    def add(self, key: int, *values: int) -> bool:
        """Store `key` (with `values`, replacing any stored); True when the key was new."""
        key = key or 1
        pos = self._slot(key)
        if self._kv[pos] == key:
            for view, value in zip(self._vv, values, strict=True):
                view[pos] = value
            return False
        self._insert(pos, key, values)
        return True

    def _insert(self, pos: int, key: int, values: tuple) -> None:
        if (self.used + 1) > _MAX_LOAD * len(self._keys):
            self._grow()
            pos = self._slot(key)
        self._kv[pos] = key
        for view, value in zip(self._vv, values, strict=True):
            view[pos] = value
        self.used += 1

    def _grow(self) -> None:
        """Double the table; keys sorted by their new home slot are placed in one vectorised pass (slot = the
        running maximum of home and previous slot + 1), the few pushed past the end wrap around in Python."""
        occupied = self._keys != 0
        keys = self._keys[occupied]
        values = [v[occupied] for v in self._values]
        size = 2 * len(self._keys)
        self._keys = np.zeros(size, np.uint64)
        self._values = [np.zeros(size, dtype) for dtype in self._dtypes]
        self._views()
        homes = (keys & np.uint64(size - 1)).astype(np.int64)
        order = np.argsort(homes, kind="stable")
        keys, homes, values = keys[order], homes[order], [v[order] for v in values]
        steps = np.arange(len(keys), dtype=np.int64)
        slots = np.maximum.accumulate(homes - steps) + steps
        inside = slots < size
        self._keys[slots[inside]] = keys[inside]
        for target, source in zip(self._values, values, strict=True):
            target[slots[inside]] = source[inside]
        outside = np.flatnonzero(~inside).tolist()
        for i in outside:
            key = int(keys[i])
            pos = self._slot(key)
            self._kv[pos] = key
            for view, source in zip(self._vv, values, strict=True):
                view[pos] = source[i].item()

    @property
    def nbytes(self) -> int:
        return self._keys.nbytes + sum(v.nbytes for v in self._values)


class Strings:
    """Append-only strings (record ids) in one buffer: about their UTF-8 length plus 8 bytes each."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = np.zeros(1024, np.uint64)
        self._n = 0

    def append(self, text: str) -> int:
        """Store `text`; returns its index."""
        self._data += text.encode("utf-8")
        if self._n == len(self._ends):
            self._ends = np.concatenate([self._ends, np.zeros(len(self._ends), np.uint64)])
        self._ends[self._n] = len(self._data)
        self._n += 1
        return self._n - 1

    def __getitem__(self, index: int) -> str:
        start = int(self._ends[index - 1]) if index else 0
        return self._data[start : int(self._ends[index])].decode("utf-8")

    def __len__(self) -> int:
        return self._n
