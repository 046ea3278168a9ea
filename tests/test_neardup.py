import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import kernels
from pipeline.neardup import MAX_CHAIN, MIN_SHINGLES, NearDuplicates, Sketches, _Index, bands, shingles

ROOT = Path(__file__).resolve().parent.parent
_VOCAB = sorted({"".join(random.Random(i).choices("bcdfghklmnprstvzaeiou", k=7)) for i in range(5000)})


def words(seed: int, n: int) -> list[str]:
    return random.Random(seed).choices(_VOCAB, k=n)


def edit_one_word(text_words: list[str], seed: int) -> list[str]:
    changed = list(text_words)
    position = random.Random(seed).randrange(len(changed))
    changed[position] = "replaced"
    return changed


def record(text_words: list[str]) -> str:
    """Input and output joined by a newline, as the build passes them."""
    half = len(text_words) // 2
    return " ".join(text_words[:half]) + "\n" + " ".join(text_words[half:])


def test_one_word_edits_of_60_word_texts_are_found_and_the_first_is_kept():
    # One changed word alters 5 word 5-grams: Jaccard 51/61 = 0.84, below the default 0.9 by definition (see
    # the module docstring), so these are checked at 0.7.
    near = NearDuplicates(threshold=0.7)
    originals = {f"t:{i}": words(i, 60) for i in range(20)}
    for record_id, text in originals.items():
        assert near.check("t", record_id, record(text)) is None
    for i in range(20):
        assert near.check("t", f"t:copy{i}", record(edit_one_word(originals[f"t:{i}"], seed=100 + i))) == f"t:{i}"
    assert near.clusters() == {"t": [[f"t:{i}", f"t:copy{i}"] for i in range(20)]}


def test_defaults_find_one_word_edits_of_long_texts():
    near = NearDuplicates()
    originals = [words(i, 500) for i in range(10)]
    for i, text in enumerate(originals):
        assert near.check("t", f"t:{i}", record(text)) is None
    for i, text in enumerate(originals):
        assert near.check("t", f"t:copy{i}", record(edit_one_word(text, seed=i))) == f"t:{i}"


@pytest.mark.parametrize("length", [12, 20, 40, 100, 300])
def test_defaults_find_every_one_word_replacement_whatever_the_length(length):
    """A word replaced is found at any length from about ten words: at 100 words its Jaccard similarity is
    right at the 0.9 threshold (half of them were missed on MinHash alone), at 20 words far below it."""
    near = NearDuplicates()
    for i in range(300):
        assert near.check("t", f"t:{i}", record(words(i, length))) is None
    missed = [
        i for i in range(300) if near.check("t", f"t:edit{i}", record(edit_one_word(words(i, length), i))) is None
    ]
    assert missed == []


def test_a_replaced_quarter_of_a_long_text_is_not_a_small_edit():
    near = NearDuplicates()
    base = words(1, 200)
    other = base[:150] + words(2, 50)
    assert near.check("t", "t:1", record(base)) is None
    assert near.check("t", "t:2", record(other)) is None


def test_a_cluster_keeps_the_first_record_and_lists_the_others_in_order():
    near = NearDuplicates(threshold=0.7)
    text = words(1, 80)
    assert near.check("t", "t:a", record(text)) is None
    assert near.check("t", "t:b", record(edit_one_word(text, seed=1))) == "t:a"
    assert near.check("t", "t:c", record(edit_one_word(text, seed=2))) == "t:a"
    assert near.check("t", "t:d", record(text)) == "t:a"
    assert near.clusters() == {"t": [["t:a", "t:b", "t:c", "t:d"]]}


@pytest.mark.parametrize("threshold", [0.9, 0.7])
def test_distinct_texts_are_not_flagged(threshold):
    near = NearDuplicates(threshold=threshold)
    # different abstracts
    for i in range(300):
        assert near.check("abstracts", f"abstracts:{i}", record(words(1000 + i, 150))) is None
    # one template, different values: a short answer and long, different reports
    template = "Read the radiology report below and name the imaging modality that was used for the study. Report:"
    for i, answer in enumerate(["The imaging modality is CT", "The imaging modality is MRI"] * 20):
        report = " ".join(words(5000 + i, 90))
        assert near.check("modality", f"modality:{i}", f"{template} {report}\n{answer}") is None
    # the same template around a long, different report as output
    for i in range(20):
        answer = " ".join(words(7000 + i, 120))
        assert near.check("modality", f"modality:long{i}", f"{template}\n{answer}") is None
    assert near.clusters() == {}


def test_short_texts_are_skipped_and_not_indexed():
    near = NearDuplicates()
    assert len(shingles("The imaging modality is CT", 5)) < MIN_SHINGLES
    assert near.check("t", "t:1", "The imaging modality is CT") is None
    assert near.check("t", "t:2", "The imaging modality is CT") is None  # exact de-duplication handles these
    assert near.nbytes() == 0


def test_tasks_are_independent():
    near = NearDuplicates(threshold=0.7)
    text = words(3, 100)
    assert near.check("a", "a:1", record(text)) is None
    assert near.check("b", "b:1", record(text)) is None
    assert near.check("b", "b:2", record(edit_one_word(text, seed=3))) == "b:1"
    assert near.check("a", "a:2", record(edit_one_word(text, seed=4))) == "a:1"
    assert near.clusters() == {"a": [["a:1", "a:2"]], "b": [["b:1", "b:2"]]}


def test_chinese_text_without_spaces_gets_character_shingles():
    assert shingles("今天天气很好", 2) == {s.encode() for s in ["今 天", "天 天", "天 气", "气 很", "很 好"]}
    assert shingles("患者 CT显示肺结节", 2) == {
        s.encode() for s in ["患 者", "者 ct", "ct 显", "显 示", "示 肺", "肺 结", "结 节"]
    }
    chars = "".join(random.Random(9).choices([chr(c) for c in range(0x4E00, 0x4E00 + 3000)], k=120))
    near = NearDuplicates(threshold=0.7)
    assert near.check("zh", "zh:1", chars) is None
    assert near.check("zh", "zh:2", chars[:60] + "好" + chars[61:]) == "zh:1"
    other = "".join(random.Random(10).choices([chr(c) for c in range(0x4E00, 0x4E00 + 3000)], k=120))
    assert near.check("zh", "zh:3", other) is None


def test_normalisation_ignores_case_width_and_whitespace():
    assert shingles("Ｔｈｅ  PATIENT\n\twas  seen today in clinic", 5) == shingles(
        "the patient was seen today in clinic", 5
    )


def test_texts_are_not_stored():
    short, long = NearDuplicates(), NearDuplicates()
    for i in range(50):
        short.check("t", f"t:{i}", record(words(i, 20)))
        long.check("t", f"t:{i}", record(words(i, 5000)))
    assert short.nbytes() == long.nbytes()


def test_ids_round_trip_with_and_without_the_task_prefix():
    near = NearDuplicates()
    ids = ["t:1", "other:2", "t:\0odd", "plain"]
    texts = [record(words(20 + i, 500)) for i in range(len(ids))]
    for record_id, text in zip(ids, texts, strict=True):
        assert near.check("t", record_id, text) is None
    for i, text in enumerate(texts):
        assert near.check("t", f"t:copy{i}", text) == ids[i]


def test_bands_reach_the_threshold_and_the_table_grows():
    assert bands(0.9, 64) == (9, 7)
    for threshold in (0.5, 0.8, 0.9, 1.0):
        b, r = bands(threshold, 64)
        assert b * r <= 64 and 1 - (1 - threshold**r) ** b >= 0.995
    near = NearDuplicates()
    for i in range(3000):  # 27,000 band keys: the 1,024-slot table is re-hashed several times
        assert near.check("t", f"t:{i}", record(words(i, 30))) is None
    for i in range(0, 3000, 97):
        assert near.check("t", f"t:again{i}", record(words(i, 30))) == f"t:{i}"
    with pytest.raises(ValueError):
        NearDuplicates(threshold=0)


def _add(index: _Index, keys: list[int], signature: np.ndarray, parts: np.ndarray, task: int = 0) -> None:
    index.reserve(1)
    kernels.near_add(index.arrays, np.array(keys, np.uint32), signature, parts, task)


def _find(index: _Index, keys: list[int], signature: np.ndarray, parts: np.ndarray, task: int = 0) -> int:
    return kernels.near_find(index.arrays, np.array(keys, np.uint32), signature, parts, task, 8, 8, MAX_CHAIN)


@pytest.mark.parametrize("hot", [None, 7])
def test_index_keeps_every_record_through_growth_wrap_around_and_freezing(hot):
    """With the default hot part, every key stays in the hash table; with 7 hot records at most, all but the last
    few are frozen into the sorted array, and are found there just the same."""
    index = _Index(1, 8, hot=hot)
    rng = np.random.default_rng(0)
    signatures = rng.integers(0, 256, size=(3000, 8), dtype=np.uint8)
    keys = [(i << 16) | 0xFFFF for i in range(1, 1501)] + rng.integers(1, 2**32, 1500).tolist()  # half wrap
    parts = np.zeros(5, np.uint32)
    for i, key in enumerate(keys):
        _add(index, [key], signatures[i], parts + i)
    assert 3000 <= len(index.owner) <= 3000 * 1.25 and index.counts[0] == 3000  # rows grow by a quarter
    if hot is None:
        assert len(index.table.keys) == 8192 and index.counts[1] == 3000 and index.frozen.size == 0
    else:
        assert 3000 - 7 <= index.counts[2] < 3000 and index.frozen.size == index.counts[2]
        assert np.all(np.diff(index.frozen.astype(np.float64)) > 0)  # sorted
    for i, key in enumerate(keys):  # the rows grown in place kept their signatures
        assert _find(index, [key], signatures[i], parts + i) == i
    assert _find(index, [keys[5]], signatures[5], parts + 5, task=1) == -1  # another task's record
    assert _find(index, [12345], signatures[5], parts + 5) == -1  # a key no record has


@pytest.mark.parametrize("hot", [None, 7, 40])
def test_long_chains_are_walked_newest_first_and_bounded(hot):
    """A hot bucket (every record shares it) is walked newest first, MAX_CHAIN records at most, across the hash
    table and the frozen entries alike; a record is also reached through its other bands."""
    index = _Index(2, 8, hot=hot)
    parts = np.zeros(5, np.uint32)
    signatures = np.repeat(np.arange(100, dtype=np.uint8)[:, None], 8, axis=1)  # no two agree anywhere
    for i in range(100):
        _add(index, [7, 1000 + i], signatures[i], parts + i)  # band 0: one hot bucket
    assert _find(index, [7, 5], signatures[99 - MAX_CHAIN + 1], parts + 1) == 99 - MAX_CHAIN + 1
    assert _find(index, [7, 5], signatures[99 - MAX_CHAIN], parts + 1) == -1  # past the chain's walk
    assert _find(index, [3, 1000 + 10], signatures[10], parts + 1) == 10  # reached through its other band


def test_freezing_the_index_changes_no_verdict(monkeypatch):
    """A stream of records (copies, one-word edits, templated texts, several tasks) checked in batches gets the
    same verdicts and clusters whether the index freezes every 50 records or never."""
    from pipeline import neardup

    rng = random.Random(8)
    template = words(999, 70)
    items, tasks, ids = [], [], []
    for i in range(1500):
        choice = rng.random()
        if choice < 0.2 and items:
            base = rng.choice(items)[0].split()
            text = " ".join(edit_one_word(base, seed=i) if rng.random() < 0.5 else base)
        elif choice < 0.4:
            text = " ".join(edit_one_word(template, seed=i))
        else:
            text = record(words(i, rng.choice([20, 60, 150])))
        items.append((text,))
        tasks.append(rng.choice("ab"))
        ids.append(f"{tasks[-1]}:{i}")
    results = []
    for hot in (neardup.HOT_RECORDS, 50):
        monkeypatch.setattr(neardup, "HOT_RECORDS", hot)
        near, found = NearDuplicates(), []
        for start in range(0, len(items), 128):
            batch = near.sketch_arrays(items[start : start + 128])
            found += near.check_many(tasks[start : start + 128], ids[start : start + 128], batch)
        assert (near.index.frozen.size > 0) == (hot == 50)
        results.append((found, near.clusters()))
    assert results[0] == results[1]
    assert sum(f is not None for f in results[0][0]) > 300  # the stream has near duplicates to find


def test_a_batch_is_checked_against_itself_in_order_and_tasks_stay_apart():
    near, text = NearDuplicates(), record(words(1, 60))
    batch = near.sketch_arrays([(text,), (text,), ("too short",), (text,), (text,)])
    found = near.check_many(["a", "a", "a", "b", "a"], ["a:1", "a:2", "a:3", "b:4", "a:5"], batch)
    assert found == [None, "a:1", None, None, "a:1"]
    assert near.clusters() == {"a": [["a:1", "a:2", "a:5"]]}
    assert near.check("b", "b:6", text) == "b:4"


_RUN = """
import json, random, sys
sys.path.insert(0, {root!r})
from pipeline.neardup import NearDuplicates
from tests.test_neardup import edit_one_word, record, words
near = NearDuplicates(threshold=0.7)
out = []
for i in range(200):
    base = words(i % 150, 60)
    text = edit_one_word(base, seed=i) if i >= 150 else base
    out.append(near.check("t", f"t:{{i}}", record(text)))
print(json.dumps([out, near.clusters()]))
"""


def test_deterministic_across_runs_and_hash_seeds():
    results = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        code = _RUN.format(root=str(ROOT))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        results.append(json.loads(done.stdout))
    assert results[0] == results[1]
    assert len(results[0][1]["t"]) == 50


def _mixed_items(n: int) -> list[tuple[str, ...]]:
    """Records of one to three texts in several scripts, some too short, some sharing their first text."""
    rng = random.Random(4)
    vocab = [*_VOCAB[:300], "ＣＴ", "肺", "结节", "患者", "naïve", "\u3042\u3044", "12.5"]
    items: list[tuple[str, ...]] = []
    for _ in range(n):
        texts = tuple(" ".join(rng.choices(vocab, k=rng.choice([0, 3, 8, 40, 200]))) for _ in range(rng.randint(1, 3)))
        if items and rng.random() < 0.3:
            texts = (items[-1][0], *texts[1:])
        items.append(texts)
    return items


def test_a_batch_is_sketched_as_its_records_one_at_a_time_and_however_it_is_cut(monkeypatch):
    from pipeline import neardup

    near = NearDuplicates()
    items = _mixed_items(400)
    batch = near.sketch_many(items)
    alone = [near.sketch_many([item])[0] for item in items]
    monkeypatch.setattr(neardup, "_BATCH_CHARACTERS", 500)  # many small chunks
    cut = near.sketch_many(items)
    assert sum(s is not None for s in batch) > 200
    for one, two, three in zip(batch, alone, cut, strict=True):
        assert (one is None) == (two is None) == (three is None)
        if one is not None:
            assert one.shingles == two.shingles == three.shingles
            assert one.keys.tolist() == two.keys.tolist() == three.keys.tolist()
            assert (one.signature == two.signature).all() and (one.signature == three.signature).all()
            assert (one.parts == two.parts).all() and (one.parts == three.parts).all()


def test_sketches_are_the_minhash_of_all_the_shingles_of_the_record():
    """A record's MinHash is assembled from its texts' and its boundary shingles': it must equal datasketch's
    MinHash of the record's shingles computed directly (low 8 bits kept)."""
    from datasketch import MinHash

    from pipeline import neardup
    from pipeline.hashtable import mix64

    near = NearDuplicates()
    items = [("alpha beta gamma delta", "epsilon zeta eta theta iota"), ("one two three four five six seven " * 3,)]
    for item, sketch in zip(items, near.sketch_many(items), strict=True):
        tokens = neardup._token_hashes(list(item))[0]
        n = tokens.size - near.shingle + 1
        acc = tokens[:n].copy()
        for j in range(1, near.shingle):
            acc *= kernels._POLY
            acc += tokens[j : j + n]
        direct = MinHash(num_perm=near.num_perm, seed=neardup.SEED, hashfunc=lambda x: x)
        direct.update_batch((mix64(acc) >> np.uint64(32)).astype(np.uint32).tolist())
        assert sketch.shingles == len(set(acc.tolist()))
        assert (sketch.signature == direct.hashvalues.astype(np.uint8)).all()


def test_compiled_tokens_are_the_regex_tokens_hashed_by_their_code_points():
    """kernels.token_hashes splits as the regular expression of `shingles` does (runs of non-space, each CJK
    character alone, after NFKC and case folding), and hashes a token from its code points by position."""
    from pipeline import neardup
    from pipeline.hashtable import mix64

    texts = ["Ｔｈｅ  PATIENT\n\twas\u00a0seen", "患者 CT显示肺结节。ok", "", "   ", "x"]
    texts.append("カタカナとひらがな mixed漢字")
    hashes, first = neardup._token_hashes(texts)
    assert first.tolist()[0] == 0 and first[-1] == hashes.size
    for n, text in enumerate(texts):
        expected = []
        for token in neardup._tokens(text):
            total = sum((ord(c) + 1) * int(neardup._WEIGHTS[i & 255]) for i, c in enumerate(token)) % 2**64
            expected.append(int(mix64(np.array([total], np.uint64))[0]))
        assert hashes[first[n] : first[n + 1]].tolist() == expected, text


def test_folded_texts_sketch_as_the_raw_ones():
    """The quality stage passes texts it has already folded (NFKC, case folding, spaces collapsed) with
    folded=True, skipping the normalisation: the sketches must be those of the raw texts."""
    from pipeline.validation import fold

    near = NearDuplicates()
    items = _mixed_items(300) + [
        ("Ｔｈｅ  PATIENT\n\twas\u00a0seen  in 患者 CT显示肺结节 clinic today again", "ＯＫ  fine")
    ]
    raw = near.sketch_arrays(items)
    folded = near.sketch_arrays([tuple(fold(text) for text in item) for item in items], folded=True)
    assert raw.sketched.sum() > 150
    for field in Sketches.__slots__:
        assert np.array_equal(getattr(raw, field), getattr(folded, field)), field
