"""Dedup and decontamination at scale: a synthetic set of records with planted duplicates goes
through the quality stage (validation, language check, exact and near-duplicate removal) and then
through decontamination against a synthetic test set with planted leaks. Prints records/s, peak RSS
and the precision and recall of the planted defects found.

    python benchmarks/quality.py --records 1000000

Records are ~100-word English-like texts drawn deterministically from a seed; 1 % are exact
duplicates (case and spacing changed), 1 % near duplicates (one word changed), and 1 % of the
training inputs copy a test input of another task.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.build import build_source  # noqa: E402
from pipeline.decontaminate import decontaminate  # noqa: E402
from pipeline.model import RawFile, RawForm, Record, Source, Task  # noqa: E402
from pipeline.quality import QualityConfig, QualityStage  # noqa: E402
from pipeline.registry import Converter, from_module  # noqa: E402

WORDS = (
    "patient",
    "therapy",
    "dose",
    "daily",
    "blood",
    "pressure",
    "heart",
    "kidney",
    "liver",
    "infection",
    "fever",
    "cough",
    "pain",
    "chest",
    "abdomen",
    "tablet",
    "injection",
    "weeks",
    "months",
    "improved",
    "worsened",
    "stable",
    "trial",
    "randomised",
    "placebo",
    "outcome",
    "mortality",
    "risk",
    "diagnosis",
    "imaging",
    "scan",
    "biopsy",
    "tumour",
    "lesion",
    "artery",
    "vein",
    "lung",
    "brain",
    "spine",
    "nurse",
    "doctor",
    "clinic",
    "ward",
    "acute",
    "chronic",
    "mild",
    "severe",
    "moderate",
    "adult",
    "child",
    "elderly",
    "woman",
    "man",
    "history",
    "family",
    "allergy",
    "diabetes",
    "asthma",
)


def text(rng: random.Random, words: int = 100) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def records(n: int, seed: int = 1):
    """(record, planted kind or None, original id) in a deterministic order."""
    rng = random.Random(seed)
    kept: list[tuple[str, str, str]] = []
    for i in range(n):
        roll = rng.random()
        if kept and roll < 0.01:
            rid, source_in, source_out = kept[rng.randrange(len(kept))]
            yield Record("t", f"d{i}", f"  {source_in.upper()} ", source_out, "bench", f"d{i}"), "exact", rid
        elif kept and roll < 0.02:
            rid, source_in, source_out = kept[rng.randrange(len(kept))]
            words = source_in.split()
            words[len(words) // 2] = "zebra"
            yield Record("t", f"n{i}", " ".join(words), source_out, "bench", f"n{i}"), "near", rid
        else:
            rec = Record("t", f"r{i}", text(rng), f"Summary {i}: " + text(rng, 12), "bench", f"r{i}")
            if len(kept) < 10_000:
                kept.append((rec.id, rec.input, rec.output))
            yield rec, None, None


def dedup(n: int) -> dict:
    stage = QualityStage(QualityConfig(), {"t": Task("t", "Text Summarization", "Medical Knowledge")})
    planted, found, false = {"exact": 0, "near": 0}, {"exact": 0, "near": 0}, 0
    started = time.perf_counter()
    stream = records(n)
    while batch := list(itertools.islice(stream, 512)):  # as the build does: validated one by one, screened at once
        recs = [record for record, _, _ in batch]
        verdicts = stage.screen(recs, [r.split for r in recs], [stage.validate(r) for r in recs])
        for (_, kind, _), violation in zip(batch, verdicts, strict=True):
            if kind:
                planted[kind] += 1
            flagged = violation is not None and violation.rule in ("exact-duplicate", "near-duplicate")
            if flagged and kind:
                found[kind] += 1
            elif flagged:
                false += 1
    seconds = time.perf_counter() - started
    caught = sum(found.values())
    return {
        "records": n,
        "records_per_s": round(n / seconds),
        "precision": round(caught / (caught + false), 4) if caught + false else 1.0,
        "recall_exact": round(found["exact"] / planted["exact"], 4),
        "recall_near": round(found["near"] / planted["near"], 4),
    }


def contamination(n_train: int, n_test: int) -> dict:
    """Two sources built into one folder (an exam task's test set, then a training task with planted
    copies of its inputs); the decontamination of that folder is what is timed."""
    rng = random.Random(2)
    tests = [text(rng, 60) for _ in range(n_test)]
    leaks: set[str] = set()

    def train_rows(files):
        for i in range(n_train):
            if rng.random() < 0.01:
                source = tests[rng.randrange(n_test)]
                t = source if rng.random() < 0.5 else "Background. " + source + " Extra words follow here."
                leaks.add(f"train_task:t{i}")
            else:
                t = text(rng, 60)
            yield Record("train_task", f"t{i}", t, f"answer {i}", "bench", f"t{i}", split="train")

    def exam_rows(files):
        for i, t in enumerate(tests):
            yield Record("exam_task", f"q{i}", t, f"answer {i}", "bench", f"q{i}", split="test")

    fast = QualityConfig(languages=False, near_duplicates=False, max_quarantine_rate=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        out, raw, seeds = Path(tmp) / "out", Path(tmp) / "raw", Path(tmp) / "seeds"
        raw.mkdir()
        seeds.mkdir()
        (raw / "input.txt").write_text("x")
        for task in ("exam_task", "train_task"):
            (seeds / f"{task}.yaml").write_text(f"task: {task}\ndefinitions: ['Answer.']\n")
        options = {"seeds_dir": seeds, "quality": fast, "clean_across_sources": False}
        build_source(_converter("exam", "exam_task", exam_rows), raw, out, **options)
        build_source(_converter("train", "train_task", train_rows), raw, out, **options)
        started = time.perf_counter()
        report = decontaminate(out)
        seconds = time.perf_counter() - started
    removed = report.removed.get("train_task", 0)
    return {
        "train": n_train,
        "test": n_test,
        "seconds": round(seconds, 1),
        "rows_per_s": round((n_train + n_test) / seconds),
        "removed": removed,
        "planted": len(leaks),
        "recall": round(min(removed, len(leaks)) / len(leaks), 4),
        "precision": round(min(removed, len(leaks)) / removed, 4) if removed else 1.0,
    }


def _converter(source_id: str, task_id: str, generate) -> Converter:
    module = ModuleType(f"bench_{source_id}")
    form = RawForm("txt", (RawFile("input", ("input.txt",)),))
    module.SOURCE = Source(source_id, source_id, "https://example.org", "CC0", "open", "Bench.", "Made here.", (form,))
    module.TASKS = (Task(task_id, "Question Answering", "Medical Knowledge"),)
    module.generate = generate
    return from_module(module)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--test", type=int, default=100_000)
    args = parser.parse_args()
    result = dedup(args.records)
    print(f"dedup: {result}")
    result = contamination(args.records, args.test)
    print(f"decontamination: {result}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
