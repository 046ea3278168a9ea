"""pipeline.hashtable: the compact tables behave as a Python dict / set of the same keys, through growth."""

from __future__ import annotations

import random

import numpy as np

from pipeline.hashtable import Strings, Table64


def test_map_agrees_with_a_dict_through_growth_and_wrap_around() -> None:
    rng = random.Random(5)
    table, reference = Table64(np.uint64, np.uint32, capacity=16), {}
    # Keys crowding the end of the table make probes wrap around; small keys and 0 are legal keys too.
    keys = [rng.getrandbits(64) for _ in range(20_000)] + [2**64 - 1 - i for i in range(300)] + list(range(50))
    for key in keys:
        value = (rng.getrandbits(64), rng.getrandbits(32))
        assert table.setdefault(key, *value) == reference.setdefault(key or 1, value)
    assert len(table) == len(reference)
    for key in keys + [rng.getrandbits(64) for _ in range(2_000)]:
        assert table.get(key) == reference.get(key or 1)
        assert (key in table) == ((key or 1) in reference)
    assert table.nbytes < 60 * len(reference) * 2  # 20 B a slot at a load of at least 0.25


def test_set_add_reports_new_keys_and_add_replaces_values() -> None:
    seen, table = set(), Table64()
    for key in [3, 3, 2**63, 0, 1, 7] * 3:
        assert table.add(key) == ((key or 1) not in seen)
        seen.add(key or 1)
    values = Table64(np.uint16)
    assert values.add(9, 1) and not values.add(9, 2)
    assert values.get(9) == (2,)


def test_strings_round_trip() -> None:
    store = Strings()
    texts = [f"id-{i}-é" * (i % 5) for i in range(3000)]
    indexes = [store.append(t) for t in texts]
    assert indexes == list(range(3000))
    assert [store[i] for i in indexes] == texts


def test_the_scalar_finaliser_matches_the_vectorised_one() -> None:
    from pipeline.hashtable import mix64, mix64_int

    values = [0, 1, 2**32 - 1, 2**63, 2**64 - 1, *np.random.default_rng(3).integers(0, 2**63, 100).tolist()]
    assert [mix64_int(v) for v in values] == mix64(np.array(values, np.uint64)).tolist()
    assert len({mix64_int(v) for v in values}) == len(set(values))
