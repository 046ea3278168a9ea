"""extract -> split -> write: output layout, quarantine, replacement of one source, atomicity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES
from fake_converter import make

from pipeline import validate
from pipeline.build import build_all, build_source
from pipeline.model import MissingRawFiles, Record, Rejection
from pipeline.quality import QualityConfig
from pipeline.registry import ConverterError, get
from pipeline.splits import hash_split

TASK = "meqsum_text_summarization"


def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir(exist_ok=True)
    (folder / "input.txt").write_text("anything")
    return folder


def record(key: str, text: str | None = None, output: str | None = None, task: str = TASK) -> Record:
    """A record whose content differs with its key, so the quality stage sees no duplicates."""
    text = f"question number {key}" if text is None else text
    output = f"summary number {key}" if output is None else output
    return Record(task, key, text, output, "input.txt", f"line {key}")


#: For tests of the build's mechanics (sharding, replacement, atomicity): no near-duplicate index or
#: language identification over the synthetic filler text.
MECHANICS = QualityConfig(languages=False, near_duplicates=False)


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def samples_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    reports = build_all(SAMPLES, out)
    assert all(r.status == "built" for r in reports), [r.summary() for r in reports]
    return out


def test_all_samples_build_valid_output(samples_out: Path) -> None:
    assert list(validate.folder(samples_out)) == []
    manifests = [json.loads(p.read_text()) for p in (samples_out / "sources").glob("*.json")]
    expected = sum(n["instances"] for m in manifests for t in m["tasks"].values() for n in t["splits"].values())
    loaded = datasets.load_dataset(str(samples_out))
    assert sum(len(split) for split in loaded.values()) == expected
    assert set(loaded["train"].column_names) == {
        "id",
        "task_id",
        "source_id",
        "split",
        "input",
        "output",
        "outputs",
        "raw_file",
        "locator",
    }


def test_one_task_loads_as_its_own_config(samples_out: Path) -> None:
    task = "pubmedqa_multiple_choice"
    loaded = datasets.load_dataset(str(samples_out), task)
    rows = [row for split in loaded.values() for row in split]
    assert rows and {row["task_id"] for row in rows} == {task}
    assert all(row["id"].startswith(f"{task}:") and row["raw_file"] and row["locator"] for row in rows)
    assert {row["split"] for row in loaded["test"]} == {"test"}


def test_task_file_has_the_seven_fields(samples_out: Path) -> None:
    task = json.loads((samples_out / "tasks" / "pubmedqa_multiple_choice.json").read_text())
    for field in (
        "Categories",
        "Domains",
        "Definition",
        "Input_language",
        "Output_language",
        "Instruction_language",
        "Instances",
        "Source",
        "URL",
        "License",
        "Contributors",
    ):
        assert task[field], field
    assert task["Categories"] == ["Question Answering"] and task["Domains"][0] == "Academic Papers"
    assert all(len(i["output"]) == 1 and i["output"][0] in {"yes", "no", "maybe"} for i in task["Instances"])


def test_card_lists_sources_and_restricted_data(samples_out: Path) -> None:
    card = (samples_out / "README.md").read_text()
    assert "config_name: all" in card and "config_name: meqsum_text_summarization" in card
    assert "| MeQSum (`meqsum`) | CC BY 4.0 | open |" in card
    if (samples_out / "sources" / "mimic_iv.json").exists():
        assert "## Restricted data" in card and "`mimic_iv`" in card


def test_rejections_and_bad_records_are_quarantined(tmp_path: Path) -> None:
    def items(files):
        yield record("1")
        yield Rejection("unparseable row", "input.txt", "line 2", TASK, "###")
        yield record("3", output="   ")
        yield record("1", text="another question")  # same id again
        yield record("4")

    out = tmp_path / "out"
    report = build_source(make(items), raw(tmp_path), out, quality=QualityConfig(max_quarantine_rate=1.0))
    empty = "output is empty after whitespace normalisation"
    assert report.quarantined == {"unparseable row": 1, empty: 1, "duplicate instance id": 1}
    lines = [json.loads(line) for line in (out / "quarantine" / "meqsum.jsonl").read_text().splitlines()]
    assert [(q["rule"], q["reason"], q["locator"]) for q in lines] == [
        ("converter", "unparseable row", "line 2"),
        ("empty", empty, "line 3"),
        ("duplicate-id", "duplicate instance id", "line 1"),
    ]
    assert all(q["task_id"] == TASK and q["raw_file"] == "input.txt" for q in lines)
    assert report.total == 2


def test_rebuilding_one_source_keeps_the_others(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_source(get("pubmedqa"), SAMPLES / "pubmedqa", out)
    before = {k: v for k, v in snapshot(out).items() if "pubmedqa" in k}
    tasks = ("meqsum_text_summarization",)
    build_source(make(lambda files: iter([record("1"), record("2")]), tasks), raw(tmp_path), out)
    # The meqsum stand-in now builds a different task set; the old task's files must go with it.
    build_source(
        make(lambda files: iter([record("9", task="species800_ner")]), ("species800_ner",)), raw(tmp_path), out
    )
    after = snapshot(out)
    assert {k: v for k, v in after.items() if "pubmedqa" in k} == before
    assert not (out / "data" / "meqsum_text_summarization").exists()
    assert not (out / "tasks" / "meqsum_text_summarization.json").exists()
    assert (out / "tasks" / "species800_ner.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith((".staging", ".trash"))]


def test_interrupted_build_leaves_previous_output_intact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_source(make(lambda files: iter([record(str(i)) for i in range(50)])), raw(tmp_path), out)
    before = snapshot(out)

    def interrupted(files):
        for i in range(30_000):
            yield record(f"new-{i}", text=f"{i} " + "x" * 100)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_source(make(interrupted), raw(tmp_path), out, max_shard_bytes=1 << 20, quality=MECHANICS)
    assert snapshot(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_shards_are_capped_by_size_and_named_for_the_hub(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rows = [record(f"{i:05d}", text=f"{i} " + "word " * 400) for i in range(3000)]
    build_source(make(lambda files: iter(rows)), raw(tmp_path), out, max_shard_bytes=1 << 20, quality=MECHANICS)
    shards = sorted((out / "data" / TASK).glob("train-*.parquet"))
    assert len(shards) > 1
    assert [s.name for s in shards] == [f"train-{i:05d}-of-{len(shards):05d}.parquet" for i in range(len(shards))]
    assert pq.ParquetFile(shards[0]).metadata.row_group(0).column(4).compression == "ZSTD"
    test_rows = sum(1 for r in rows if hash_split("meqsum", r.key) == "test")
    assert sum(pq.ParquetFile(s).metadata.num_rows for s in shards) == len(rows) - test_rows


def test_missing_raw_files_name_what_is_expected(tmp_path: Path) -> None:
    with pytest.raises(MissingRawFiles) as error:
        build_source(get("mimic_iv"), tmp_path / "nowhere", tmp_path / "out")
    message = str(error.value)
    assert "note/radiology.csv.gz" in message and "credentialed" in message and "physionet" in message.lower()
    assert not (tmp_path / "out").exists()


def test_hash_split_is_stable_and_nine_to_one() -> None:
    groups = [f"doc-{i}" for i in range(20_000)]
    first = {g: hash_split("src", g) for g in groups[:10_000]}
    assert {g: hash_split("src", g) for g in groups[:10_000]} == first
    share = sum(hash_split("src", g) == "test" for g in groups) / len(groups)
    assert 0.09 < share < 0.11
    assert hash_split("src", "doc-1") in {"train", "test"}


def test_official_split_is_kept_and_group_decides_hash_split(tmp_path: Path) -> None:
    siblings = [
        Record(t, "same-doc", "text", "out", "input.txt", "doc", group="g-7")
        for t in ("pubmedqa_question_generation", "pubmedqa_answer_generation")
    ]
    official = Record("pubmedqa_multiple_choice", "x", "other text", "yes", "input.txt", "doc", split="validation")
    tasks = ("pubmedqa_question_generation", "pubmedqa_answer_generation", "pubmedqa_multiple_choice")
    out = tmp_path / "out"
    build_source(make(lambda files: iter([*siblings, official]), tasks, "pubmedqa"), raw(tmp_path), out)
    expected = hash_split("pubmedqa", "g-7")
    assert (out / "data" / "pubmedqa_question_generation" / f"{expected}-00000-of-00001.parquet").exists()
    assert (out / "data" / "pubmedqa_answer_generation" / f"{expected}-00000-of-00001.parquet").exists()
    assert (out / "data" / "pubmedqa_multiple_choice" / "validation-00000-of-00001.parquet").exists()


def test_task_metadata_violating_the_schema_fails_the_build(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / f"{TASK}.yaml").write_text(f"task: {TASK}\ndefinitions: ['Summarize.']\n")
    conv = make(lambda files: iter([record("1")]))
    conv = type(conv)(
        source=replace(conv.source, homepage="not a url"), tasks=conv.tasks, generate=conv.generate, module="fake"
    )
    out = tmp_path / "out"
    with pytest.raises(ConverterError, match=r"task file header violates the schema: \$\.URL"):
        build_source(conv, raw(tmp_path), out, seeds_dir=seeds)
    assert not (out / "data").exists()


def test_rejections_are_counted_by_kind_and_kept_in_full(tmp_path: Path) -> None:
    def items(files):
        for doc in ("species051", "species052"):
            yield Rejection(f"abstract file missing: abstracts/{doc}.txt ({doc[-1]} annotations)", "S800.tsv", doc)
        yield record("1")

    out = tmp_path / "out"
    report = build_source(make(items), raw(tmp_path), out)
    assert report.quarantined == {"abstract file missing: … (N annotations)": 2}
    lines = (out / "quarantine" / "meqsum.jsonl").read_text().splitlines()
    assert [json.loads(line)["reason"] for line in lines] == [
        "abstract file missing: abstracts/species051.txt (1 annotations)",
        "abstract file missing: abstracts/species052.txt (2 annotations)",
    ]


def test_a_build_removes_training_rows_that_repeat_another_sources_test_input(tmp_path: Path) -> None:
    question = "Which anticoagulant is preferred in pregnancy for a woman with a mechanical heart valve?"
    exam = Record("pubmedqa_multiple_choice", "q1", question, "yes", "input.txt", "q1", split="test")
    out = tmp_path / "out"
    build_source(make(lambda files: iter([exam]), ("pubmedqa_multiple_choice",), "pubmedqa"), raw(tmp_path), out)
    leaked = Record(TASK, "l1", question.upper(), "Low molecular weight heparin.", "input.txt", "l1", split="train")
    kept = Record(
        TASK, "ok", "How long should warfarin be stopped before surgery?", "Five days.", "input.txt", "ok", "train"
    )
    build_source(make(lambda files: iter([leaked, kept])), raw(tmp_path), out)
    ids = {i for p in (out / "data" / TASK).glob("train-*.parquet") for i in pq.read_table(p).column("id").to_pylist()}
    assert f"{TASK}:l1" not in ids and f"{TASK}:ok" in ids
    lines = [json.loads(x) for x in (out / "reports" / "decontamination.jsonl").read_text().splitlines()]
    assert [(x["id"], x["overlaps_test_id"], x["how"]) for x in lines] == [
        (f"{TASK}:l1", "pubmedqa_multiple_choice:q1", "exact")
    ]


def test_several_right_answers_become_one_instance_with_several_outputs(tmp_path: Path) -> None:
    """Same input, other output: merged where the task allows several answers (meqsum's several
    reference summaries), reported and kept apart where it does not."""
    single = "pubmedqa_question_generation"

    def items(files):
        yield record("1", text="How do I treat a migraine?", output="Migraine treatment.")
        yield record("2", text="how do I  treat a MIGRAINE?", output="Treating migraines.")  # folded: same input
        yield record("3", text="How do I treat a migraine?", output="migraine treatment.")  # exact duplicate
        yield record("4")
        yield record("5", text="How do I treat a migraine?", output="Therapy for migraine.")
        yield record("6", text="One abstract.", output="First question?", task=single)
        yield record("7", text="One abstract.", output="Second question?", task=single)

    out = tmp_path / "out"
    report = build_source(
        make(items, (TASK, single)), raw(tmp_path), out, quality=replace(MECHANICS, max_quarantine_rate=1.0)
    )
    assert report.instances[TASK] and sum(report.instances[TASK].values()) == 2
    assert report.quarantined == {"same input and output as an earlier instance of the task": 1}
    rows = {r["id"]: r for r in datasets.load_dataset(str(out), TASK)[hash_split("meqsum", "1")]}
    assert rows[f"{TASK}:1"]["output"] == "Migraine treatment."
    assert rows[f"{TASK}:1"]["outputs"] == ["Migraine treatment.", "Treating migraines.", "Therapy for migraine."]
    other = next(r for split in datasets.load_dataset(str(out), TASK).values() for r in split if r["id"].endswith(":4"))
    assert other["outputs"] == [other["output"]]
    quality = json.loads((out / "sources" / "meqsum.json").read_text())["quality"]
    assert quality[TASK]["merged_outputs"] == 2
    assert quality[TASK]["merge_examples"] == [[f"{TASK}:1", f"{TASK}:2"], [f"{TASK}:1", f"{TASK}:5"]]
    assert quality[single]["conflicting_outputs"] == 1 and sum(report.instances[single].values()) == 2
    instances = json.loads((out / "tasks" / f"{TASK}.json").read_text())["Instances"]
    assert next(i for i in instances if i["id"] == f"{TASK}:1")["output"] == rows[f"{TASK}:1"]["outputs"]
    assert validate.main(out) == 0
    assert not list(out.rglob("*merged*")), "the spill file of extra answers does not reach the output"
