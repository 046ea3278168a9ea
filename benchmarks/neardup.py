"""Throughput, peak memory, precision and recall of `pipeline.neardup.NearDuplicates` on synthetic records.

Records are made deterministically from the seed: 80-300-word texts drawn from a Zipf-distributed vocabulary
(input and output joined by "\\n", as the build passes them), a third of them filled templates (the same
60-120 fixed words with 4-12 slots holding numbers or words), 5 % too short to check. About 2 % are planted
near duplicates: an earlier (non-planted) record with one word replaced. Each size runs in a fresh process so
its peak RSS is its own. `--datasketch-lsh` measures, for comparison, datasketch's own `MinHashLSH` holding the
same signatures with the same bands. Usage:

    python benchmarks/neardup.py --records 100000 [--threshold 0.9] [--num-perm 64] [--datasketch-lsh]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK = "synthetic_task"
#: Records sketched at once, as the build does (pipeline.build.BATCH).
BATCH = 512


class Corpus:
    """Record `i` is a pure function of (seed, i), so planted copies are regenerated, never stored."""

    def __init__(self, seed: int, planted_rate: float):
        rng = random.Random(f"{seed}:vocabulary")
        syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]
        words = {"".join(rng.choices(syllables, k=rng.randint(1, 4))) for _ in range(60_000)}
        self.vocab = sorted(words)
        rng.shuffle(self.vocab)
        self.weights = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(self.vocab))))
        self.templates = []
        for _ in range(20):
            fixed = rng.choices(self.vocab, cum_weights=self.weights, k=rng.randint(60, 120))
            slots = sorted(rng.sample(range(len(fixed)), rng.randint(4, 12)))
            self.templates.append((fixed, slots))
        self.seed, self.planted_rate = seed, planted_rate

    def _rng(self, i: int) -> random.Random:
        return random.Random(f"{self.seed}:{i}")

    def _short(self, i: int) -> bool:
        rng = self._rng(i)
        rng.random()
        return rng.random() < 0.05

    def source(self, i: int) -> int | None:
        """The record that record `i` is a planted copy of (never a planted or short one), or None."""
        rng = self._rng(i)
        if rng.random() >= self.planted_rate:
            return None
        j = rng.randrange(i) if i else 0
        while j >= 0 and (self.source(j) is not None or self._short(j)):
            j -= 1
        return j if j >= 0 else None

    def text(self, i: int) -> str:
        source = self.source(i)
        if source is not None:
            words = self.text(source).split(" ")
            rng = self._rng(i)
            rng.random()
            position = rng.randrange(len(words))
            words[position] = "x" + words[position]  # a word never in the vocabulary
            return " ".join(words)
        rng = self._rng(i)
        rng.random()
        kind = rng.random()
        if kind < 0.05:
            words = rng.choices(self.vocab, cum_weights=self.weights, k=rng.randint(3, 8))
        elif kind < 0.38:
            fixed, slots = self.templates[rng.randrange(len(self.templates))]
            words = list(fixed)
            for s in slots:
                words[s] = str(rng.randrange(10_000)) if rng.random() < 0.5 else rng.choice(self.vocab)
        else:
            words = rng.choices(self.vocab, cum_weights=self.weights, k=rng.randint(80, 300))
        cut = rng.randrange(1, len(words)) if len(words) > 1 else 1
        return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])


def jaccard(a: str, b: str, size: int) -> float:
    from pipeline.neardup import shingles

    x, y = shingles(a, size), shingles(b, size)
    return len(x & y) / len(x | y) if x | y else 1.0


def run_one(records: int, seed: int, planted_rate: float, threshold: float, num_perm: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from pipeline.neardup import MIN_SHINGLES, NearDuplicates, shingles

    corpus = Corpus(seed, planted_rate)
    near = NearDuplicates(threshold, num_perm)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    flagged: dict[int, int] = {}
    seconds, skipped = 0.0, 0
    for first in range(0, records, BATCH):  # as the build does: a batch sketched at once, then checked in order
        texts = [corpus.text(i) for i in range(first, min(records, first + BATCH))]
        skipped += sum(len(shingles(text, near.shingle)) < MIN_SHINGLES for text in texts)
        started = time.perf_counter()
        sketches = near.sketch_arrays([(text,) for text in texts])
        ids = [f"{TASK}:{first + k}" for k in range(len(texts))]
        found = near.check_many([TASK] * len(texts), ids, sketches)
        seconds += time.perf_counter() - started
        for k, earlier in enumerate(found):
            if earlier is not None:
                flagged[first + k] = int(earlier.rsplit(":", 1)[1])
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    planted = {i: j for i in range(records) if (j := corpus.source(i)) is not None}
    true_j = {i: jaccard(corpus.text(i), corpus.text(j), near.shingle) for i, j in planted.items()}
    above = [i for i in planted if true_j[i] >= near.threshold]
    found = [i for i in planted if i in flagged]
    false = [i for i in flagged if i not in planted]
    indexed = records - len(flagged) - skipped
    return {
        "records": records,
        "threshold": threshold,
        "num_perm": num_perm,
        "bands": f"b={near.b} r={near.r}",
        "planted": len(planted),
        "skipped_short": skipped,
        "flagged": len(flagged),
        "records_per_s": round(records / seconds),
        "peak_rss_mb": round(rss_after / 1024),
        "rss_growth_b_per_record": round((rss_after - rss_before) * 1024 / records),
        "index_b_per_indexed_record": round(near.nbytes() / max(1, indexed)),
        "precision": round(len(found) / len(flagged), 4) if flagged else None,
        "recall": round(len(found) / len(planted), 4) if planted else None,
        "recall_true_jaccard_ge_threshold": round(sum(i in flagged for i in above) / len(above), 4) if above else None,
        "planted_true_jaccard_ge_threshold": len(above),
        "recall_by_true_jaccard": _recall_by(true_j, flagged),
        "kept_is_source": sum(flagged[i] == planted[i] for i in found),
        "false_positive_true_jaccard": [
            round(jaccard(corpus.text(i), corpus.text(flagged[i]), near.shingle), 3) for i in false
        ],
        "clusters": len(near.clusters().get(TASK, [])),
    }


def _recall_by(true_j: dict[int, float], flagged: dict[int, int]) -> dict[str, str]:
    edges = [0.0, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 1.01]
    out = {}
    for low, high in itertools.pairwise(edges):
        bucket = [i for i, j in true_j.items() if low <= j < high]
        if bucket:
            out[f"[{low:.2f},{min(high, 1):.2f})"] = f"{sum(i in flagged for i in bucket)}/{len(bucket)}"
    return out


def run_corpus(raw: Path) -> dict:
    """Sketch and check the records a converter makes of a raw folder (e.g. benchmarks/make_corpora.py's
    /tmp/mb/corpora-0.01/mimic_iv), one index per task, texts read beforehand: the near-duplicate stage's own
    cost per record, on real record shapes (several tasks sharing one input)."""
    sys.path.insert(0, str(ROOT))
    from pipeline.model import Record, detect_form
    from pipeline.neardup import NearDuplicates
    from pipeline.registry import get

    conv = get(raw.name)
    records = [r for r in conv.generate(detect_form(conv.source, raw)) if isinstance(r, Record)]
    near = NearDuplicates()
    started = time.perf_counter()
    flagged = 0
    for first in range(0, len(records), BATCH):
        batch = records[first : first + BATCH]
        sketches = near.sketch_arrays([(r.input, r.output) for r in batch])
        found = near.check_many([r.task_id for r in batch], [r.id for r in batch], sketches)
        flagged += sum(earlier is not None for earlier in found)
    seconds = time.perf_counter() - started
    return {
        "corpus": str(raw),
        "records": len(records),
        "flagged": flagged,
        "us_per_record": round(seconds / len(records) * 1e6, 1),
        "index_mb": round(near.nbytes() / 2**20, 1),
    }


def run_datasketch_lsh(records: int, seed: int, planted_rate: float, threshold: float, num_perm: int) -> dict:
    """RSS growth of datasketch.MinHashLSH (dict storage) holding the same records' signatures and bands."""
    sys.path.insert(0, str(ROOT))
    from datasketch import MinHash, MinHashLSH

    from pipeline.neardup import MIN_SHINGLES, NearDuplicates, shingles

    corpus = Corpus(seed, planted_rate)
    near = NearDuplicates(threshold, num_perm)
    lsh = MinHashLSH(threshold=near.threshold, num_perm=near.num_perm, params=(near.b, near.r))
    minhash = MinHash(num_perm=num_perm, seed=1)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    inserted = 0
    for i in range(records):
        shingled = shingles(corpus.text(i), near.shingle)
        if len(shingled) < MIN_SHINGLES:
            continue
        minhash.clear()
        minhash.update_batch(shingled)
        lsh.insert(f"{TASK}:{i}", minhash, check_duplication=False)
        inserted += 1
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "records": records,
        "bands": f"b={near.b} r={near.r}",
        "datasketch_lsh_rss_growth_b_per_record": round((rss_after - rss_before) * 1024 / inserted),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--planted-rate", type=float, default=0.02)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--num-perm", type=int, default=64)
    parser.add_argument("--datasketch-lsh", action="store_true", help="also measure datasketch.MinHashLSH memory")
    parser.add_argument("--corpus", type=Path, help="instead: a raw folder named after its source (see run_corpus)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="neardup", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.corpus:
        print(json.dumps(run_corpus(args.corpus)))
        return
    if args.one:
        run = run_one if args.mode == "neardup" else run_datasketch_lsh
        print(json.dumps(run(args.one, args.seed, args.planted_rate, args.threshold, args.num_perm)))
        return
    modes = ["neardup", "datasketch"] if args.datasketch_lsh else ["neardup"]
    for n in args.records:
        for mode in modes:
            command = [sys.executable, __file__, "--one", str(n), "--mode", mode, "--seed", str(args.seed)]
            command += ["--planted-rate", str(args.planted_rate), "--threshold", str(args.threshold)]
            command += ["--num-perm", str(args.num_perm)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
