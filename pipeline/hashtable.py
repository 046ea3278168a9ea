"""Hashing and storage helpers for the quality stage's per-record state (its tables are in pipeline.kernels).

A Python set or dict of ints costs 60-250 bytes an entry (an int object per key and value, a tuple, the table
slot); the quality stage keeps several entries per record, so at MIMIC-IV's 6 million instances that alone was
2.6 GB (measured 438 B a record). Hence hashes in numpy arrays and ids in one buffer.
"""

from __future__ import annotations

import numpy as np

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise (uint64 arithmetic wraps, as intended): every bit of the result
    depends on every bit of `x`. The vectorised hashes of near duplicates and decontamination end with it."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    return x ^ (x >> np.uint64(31))


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
