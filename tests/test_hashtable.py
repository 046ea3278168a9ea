"""The compact tables of the quality stage keep what is put in them, through growth."""

from __future__ import annotations

import random
import tracemalloc

import numpy as np

from pipeline import kernels
from pipeline.hashtable import Strings


def test_compiled_table_keeps_keys_and_values_through_growth_and_wrap_around() -> None:
    """kernels.Table: keys placed by the compiled probe are all found, with their values, after the table has
    doubled several times; keys crowding the end of the table make probes wrap around."""
    rng = random.Random(5)
    table = kernels.Table(np.uint64, np.uint32)
    keys = [rng.getrandbits(64) | 1 for _ in range(5_000)] + [2**64 - 1 - 2 * i for i in range(300)]
    reference = {}
    for start in range(0, len(keys), 700):
        chunk = keys[start : start + 700]
        table.reserve(len(chunk))
        for key in chunk:
            pos = kernels.slot(table.keys, np.uint64(key))
            if table.keys[pos] == 0:
                table.keys[pos], table.used[0] = key, table.used[0] + 1
            table.values[0][pos] = reference[key] = rng.getrandbits(32)
        assert table.used[0] <= table.max_load * table.keys.size
    assert len(table) == len(reference) and table.keys.size == 8192  # (the smallest power of two at load 0.7)
    for key, value in reference.items():
        pos = kernels.slot(table.keys, np.uint64(key))
        assert table.keys[pos] == key and table.values[0][pos] == value
    assert table.keys[kernels.slot(table.keys, np.uint64(2))] == 0  # absent: its empty slot


def test_a_table_with_a_hot_limit_freezes_its_keys_and_values_into_sorted_arrays() -> None:
    """kernels.Table(hot=...): past the limit, keys and both values move to the sorted arrays, where `find` gets
    them back; the hash table holds only the keys added since, and every key is in exactly one part."""
    rng = random.Random(9)
    table = kernels.Table(np.uint64, np.uint64, np.uint16, hot=100)
    reference = {}
    for _ in range(40):
        chunk = [rng.getrandbits(64) | 1 for _ in range(rng.randint(1, 60))]
        table.reserve(len(chunk))
        assert int(table.used[0]) - table.frozen.size <= 100
        for key in chunk:
            pos = kernels.slot(table.keys, np.uint64(key))
            table.keys[pos], table.used[0] = key, table.used[0] + 1
            table.values[0][pos], table.values[1][pos] = reference[key] = (key >> 7, key & 0xFFFF)
    assert table.frozen.size > 1000 and np.all(table.frozen[1:] > table.frozen[:-1])
    for key, (a, b) in reference.items():
        f = kernels.find(table.frozen, table.directory, table.shift[0], np.uint64(key))
        pos = kernels.slot(table.keys, np.uint64(key))
        assert (f >= 0) != (table.keys[pos] == key)
        got = (
            (table.frozen_values[0][f], table.frozen_values[1][f])
            if f >= 0
            else (table.values[0][pos], table.values[1][pos])
        )
        assert (int(got[0]), int(got[1])) == (a, b)
    assert kernels.find(table.frozen, table.directory, table.shift[0], np.uint64(2)) == -1


def test_growing_a_table_allocates_only_its_new_arrays() -> None:
    """The last doubling of the near-duplicate index is the build's peak of memory: growth must hold nothing but
    the old arrays and the new ones (no map of slots, no gathered copies of the values)."""
    table = kernels.Table(np.uint32, np.int32, np.uint64, max_load=0.7)
    keys = np.random.default_rng(3).integers(1, 2**32, size=180_000, dtype=np.uint64).astype(np.uint32)
    table.reserve(len(keys))
    for n, key in enumerate(keys.tolist()):
        pos = kernels.slot(table.keys, np.uint32(key))
        table.keys[pos], table.values[0][pos], table.values[1][pos] = key, n, 3 * n
    table.used[0] = int(np.count_nonzero(table.keys))
    before = {int(k): (int(a), int(b)) for k, a, b in zip(*table.keys_and_values(), strict=True) if k}
    tracemalloc.start()
    try:
        table.reserve(table.keys.size)  # doubles at least once
        grown, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    new_bytes = table.nbytes
    assert grown >= new_bytes and peak <= new_bytes + 64 * 1024, (peak, new_bytes)
    after = {int(k): (int(a), int(b)) for k, a, b in zip(*table.keys_and_values(), strict=True) if k}
    assert after == before


def test_strings_round_trip() -> None:
    store = Strings()
    texts = [f"id-{i}-é" * (i % 5) for i in range(3000)]
    indexes = [store.append(t) for t in texts]
    assert indexes == list(range(3000))
    assert [store[i] for i in indexes] == texts
