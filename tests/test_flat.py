"""The flat SFT export: one instruction per instance drawn from its task's Definition list, the
paper's zero-shot and few-shot templates, read back with `datasets`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from conftest import ROOT, SAMPLES
from fake_converter import make

from pipeline import rewrite_cache, seeds
from pipeline.build import build_source
from pipeline.flat import LEARN, FlatError, write_flat
from pipeline.model import Record
from pipeline.quality import QualityConfig

BIG, SMALL = "meqsum_text_summarization", "toy_small_task"
MECHANICS = QualityConfig(languages=False, near_duplicates=False)
SEEDS = {
    BIG: [
        "Summarize the patient's question in one short sentence.",
        "You are a triage nurse: condense this consumer health question into a single brief question.",
        "Rewrite the message below as the shortest question that keeps its medical meaning.",
        "What is this person really asking? State it as one concise question.",
    ],
    SMALL: ["Answer the question.", "Give the answer to the question below, in a few words."],
}
REWRITE = "Boil the long question down to one short question a doctor could answer."


def record(task: str, key: str, split: str) -> Record:
    return Record(task, key, f"{task} question number {key} ?", f"summary {key}", "input.txt", f"line {key}", split)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flat")
    seeds_dir = root / "seeds"
    seeds_dir.mkdir()
    for task, definitions in SEEDS.items():
        (seeds_dir / f"{task}.yaml").write_text(json.dumps({"task": task, "definitions": definitions}))
    toy = seeds.load(BIG, seeds_dir)
    entry = rewrite_cache.Entry(0, "m", "p", SEEDS[BIG][0], REWRITE)
    rewrite_cache.save(rewrite_cache.path(BIG, seeds_dir), rewrite_cache.replay(toy, [entry]))
    raw = root / "raw"
    raw.mkdir()
    (raw / "input.txt").write_text("anything")

    def items(files):
        for i in range(60):
            yield record(BIG, f"{i:03d}", "train" if i < 40 else "test")
        yield record(SMALL, "only-train", "train")
        yield record(SMALL, "t1", "test")
        yield record(SMALL, "t2", "test")

    folder = root / "out"
    build_source(make(items, (BIG, SMALL)), raw, folder, seeds_dir=seeds_dir, quality=MECHANICS)
    return folder


def definitions(out: Path, task: str) -> list[str]:
    return json.loads((out / "tasks" / f"{task}.json").read_text())["Definition"]


def load(out: Path, config: str) -> datasets.DatasetDict:
    return datasets.load_dataset(str(out), config)


def test_zero_shot_rows_follow_the_paper_template_with_a_drawn_instruction(out: Path) -> None:
    report = write_flat(out, seed=0)
    assert report.rows == {"flat": {"train": 41, "test": 22}} and report.tasks == 2
    assert definitions(out, BIG) == SEEDS[BIG] + [REWRITE]
    flat = load(out, "flat")
    assert {s: len(d) for s, d in flat.items()} == {"train": 41, "test": 22}
    assert set(flat["train"].column_names) == {
        "id",
        "task_id",
        "source_id",
        "split",
        "shots",
        "instruction",
        "input",
        "output",
        "messages",
    }
    for split, rows in flat.items():
        for row in rows:
            assert row["split"] == split and row["shots"] == 0
            assert row["instruction"] in definitions(out, row["task_id"])
            assert row["messages"] == [
                {"role": "user", "content": f"{row['instruction']} Input: {row['input']}"},
                {"role": "assistant", "content": row["output"]},
            ]
    used = {row["instruction"] for row in flat["train"] if row["task_id"] == BIG}
    assert len(used) >= 4  # 40 draws over 5 definitions
    task = datasets.load_dataset(str(out), BIG)  # the task's own config is untouched
    assert sorted(flat["test"].filter(lambda r: r["task_id"] == BIG)["id"]) == sorted(task["test"]["id"])


def test_draws_are_deterministic_per_seed(out: Path) -> None:
    def draws(seed: int) -> dict[str, str]:
        write_flat(out, seed=seed)
        rows = datasets.load_dataset("parquet", data_files=str(out / "flat" / "zero-shot" / "*.parquet"))["train"]
        return dict(zip(rows["id"], rows["instruction"], strict=True))

    first = draws(0)
    assert draws(0) == first
    other = draws(1)
    assert other.keys() == first.keys() and sum(first[k] != other[k] for k in first) > 10


def test_few_shot_cases_come_from_the_train_split_and_never_the_instance(out: Path) -> None:
    report = write_flat(out, shots=3, seed=0)
    assert report.rows["flat_3shot"] == {"train": 41, "test": 22}
    assert report.fewer_shots == {SMALL: 3}  # one train instance: none for itself, one for each test row
    train_inputs = {r["input"]: r["output"] for r in load(out, BIG)["train"]} | {
        r["input"]: r["output"] for r in load(out, SMALL)["train"]
    }
    few = load(out, "flat_3shot")
    zero = {r["id"]: r["instruction"] for split in load(out, "flat").values() for r in split}
    for split, rows in few.items():
        for row in rows:
            cases = re.findall(r"Case(\d+): Input: (.*?), Output: (.*?)(?:\n|$)", row["instruction"])
            assert len(cases) == row["shots"] and [int(c[0]) for c in cases] == list(range(1, row["shots"] + 1))
            for _, case_input, case_output in cases:
                assert train_inputs.get(case_input) == case_output  # a train instance, with its own answer
                assert case_input != row["input"]
            assert len({c[1] for c in cases}) == len(cases)
            if row["shots"]:
                assert row["instruction"].endswith(f"\n{zero[row['id']]} {LEARN}")
            else:
                assert row["instruction"] == zero[row["id"]]
            assert row["messages"][0]["content"] == f"{row['instruction']} Input: {row['input']}"
            if row["task_id"] == BIG:
                assert row["shots"] == 3
            else:
                assert row["shots"] == (0 if split == "train" else 1)
    card = (out / "README.md").read_text()
    assert "config_name: flat\n" in card and "config_name: flat_3shot" in card and "flat/3-shot/test-*" in card


def test_few_shot_cases_come_from_a_bounded_pool(out: Path) -> None:
    write_flat(out, shots=2, seed=5, pool=4)
    rows = load(out, "flat_2shot")
    seen = {
        c
        for split in rows.values()
        for r in split
        if r["task_id"] == BIG
        for c in re.findall(r"Case\d+: Input: (.*?), Output:", r["instruction"])
    }
    assert len(seen) == 4


def test_a_new_export_replaces_the_old_one_whole(out: Path) -> None:
    write_flat(out, shots=2)
    write_flat(out)
    assert sorted(p.name for p in (out / "flat").iterdir()) == ["export.json", "zero-shot"]
    card = (out / "README.md").read_text()
    assert "config_name: flat\n" in card and "flat_2shot" not in card
    assert not [p for p in out.iterdir() if p.name.startswith((".staging", ".trash"))]


def test_bad_requests_are_clear_errors(tmp_path: Path, out: Path) -> None:
    with pytest.raises(FlatError, match="no task data"):
        write_flat(tmp_path)
    with pytest.raises(FlatError, match="shots must be 0 or more"):
        write_flat(out, shots=-1)


def test_cli_build_with_flat_and_shots(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True)

    target = tmp_path / "out"
    source = ["build", "--source", "pubmedqa", "--raw-dir", str(SAMPLES / "pubmedqa"), "--out", str(target)]
    result = cli(*source, "--flat", "--shots", "1")
    assert result.returncode == 0, result.stderr
    assert "flat export of 5 tasks" in result.stdout and "flat_1shot" in result.stdout
    total = sum(len(split) for split in datasets.load_dataset(str(target)).values())
    assert sum(len(split) for split in load(target, "flat").values()) == total
    assert sum(len(split) for split in load(target, "flat_1shot").values()) == total
    refused = cli(*source, "--shots", "1")
    assert refused.returncode == 2 and "--shots needs --flat" in refused.stderr
