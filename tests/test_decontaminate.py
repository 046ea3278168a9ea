"""decontaminate: train and validation rows whose input overlaps a test input of any task (exact after
normalisation, or a shared 13-gram / 20-character CJK gram) are removed from the whole output folder
and reported; test rows, clean rows and everything else stay as they were."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import shutil
from pathlib import Path
from types import ModuleType

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import decontaminate as module
from pipeline import validate
from pipeline.build import build_source
from pipeline.decontaminate import decontaminate, normalise, token_hash, tokens
from pipeline.model import RawFile, RawForm, Record, Source, Task
from pipeline.registry import Converter, from_module

# Test inputs of alpha_exam; copies of them are planted in the training rows of beta's tasks.
EXACT = "Which drug is first-line for uncomplicated hypertension in a 54-year-old man without diabetes?"
CASED = "What is the most common cause of community-acquired pneumonia in adults admitted to hospital wards?"
PASSAGE = (
    "A 67-year-old woman with long-standing atrial fibrillation presented with sudden painless loss of vision "
    "in the right eye, and fundoscopy showed a cherry-red spot with a pale swollen retina around it."
)
NOTE_A = "Which electrolyte disturbance most often follows aggressive loop diuretic therapy in elderly heart failure?"
NOTE_B = "Name the nerve most commonly injured in a displaced supracondylar fracture of the humerus in children."
CLEAN_TEST = "Which vitamin deficiency causes the classic triad of dermatitis, diarrhoea and dementia in adults?"
# 13 of its word tokens appear in one training row (removed), 12 others in another (kept).
SHARED_13 = " ".join(tokens(normalise(PASSAGE))[4:17])
SHARED_12 = " ".join(tokens(normalise(PASSAGE))[20:32])
ZH_TEST = (
    "患者男性六十五岁因反复胸闷气短三年加重伴双下肢水肿一周入院心脏彩超提示左心室射血分数明显降低"
    "既往有高血压病史二十年长期口服降压药物控制欠佳吸烟三十年每日一包"
)
ZH_SHARED_20 = ZH_TEST[5:25]
ZH_SHARED_19 = ZH_TEST[40:59]


def converter(source_id: str, tasks: dict[str, str], records: list[Record]) -> Converter:
    """A converter of `records` for tasks {task_id: language}, like tests/fake_converter.py."""
    module = ModuleType(f"fake_{source_id}")
    module.SOURCE = Source(
        id=source_id,
        name=source_id.title(),
        homepage="https://example.org",
        license="CC0",
        access="open",
        citation="Nobody (2024). Fake.",
        obtain="Write it.",
        forms=(RawForm("txt", (RawFile("input", ("input.txt",)),)),),
    )
    module.TASKS = tuple(
        Task(t, "Question Answering", "Exam", input_language=lang, output_language=lang) for t, lang in tasks.items()
    )
    module.generate = lambda files: iter(records)
    return from_module(module)


def row(task: str, key: str, text: str, split: str) -> Record:
    if task.endswith("_zh"):
        answer = f"这是第{key}号病例的诊断结论，请结合临床。"
    else:
        answer = f"The answer to item {key} is given in the current clinical guideline."
    return Record(task, key, text, answer, "input.txt", f"line {key}", split=split)


def clean(n: int) -> str:
    organs = ["kidney", "liver", "thyroid", "pancreas", "spleen", "adrenal gland", "bladder", "lung", "colon"]
    return f"Describe the blood supply of the {organs[n % len(organs)]} and the clinical relevance of variant {n}."


@pytest.fixture
def build(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "input.txt").write_text("anything")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    out = tmp_path / "out"

    def run(source_id: str, tasks: dict[str, str], records: list[Record], **options) -> Path:
        for task in tasks:
            (seeds / f"{task}.yaml").write_text(f"task: {task}\ndefinitions: ['Answer the question.']\n")
        report = build_source(
            converter(source_id, tasks, records), raw, out, seeds_dir=seeds, **options, clean_across_sources=False
        )
        assert report.status == "built" and not report.quarantined, report.summary()
        return out

    return run


def build_planted(build, **options) -> Path:
    """alpha_exam holds the test inputs; beta's tasks hold copies of them in train and validation."""
    alpha = [row("alpha_exam", str(i), text, "test") for i, text in enumerate([EXACT, CASED, PASSAGE, CLEAN_TEST])]
    alpha += [row("alpha_exam", "4", NOTE_A, "test"), row("alpha_exam", "5", NOTE_B, "test")]
    alpha += [row("alpha_exam", f"t{i}", clean(i), "train") for i in range(3)]
    build("alpha", {"alpha_exam": "English"}, alpha, **options)
    shouted = "  ".join(CASED.upper().split()).replace(" HOSPITAL ", "\n\tＨＯＳＰＩＴＡＬ ")
    beta = [
        row("beta_summary", "exact", EXACT, "train"),
        row("beta_summary", "clean-1", clean(10), "train"),
        row("beta_summary", "cased", shouted, "train"),
        row("beta_summary", "gram", f"Case discussion. {SHARED_13.upper()}; the rest differs entirely here.", "train"),
        row("beta_summary", "gram12", f"Another discussion: {SHARED_12}, then a different story follows.", "train"),
        row("beta_summary", "clean-2", clean(11), "train"),
        row("beta_summary", "val-exact", f"  {EXACT.lower()}  ", "validation"),
        row("beta_summary", "val-clean", clean(12), "validation"),
        row("beta_summary", "test-1", clean(13), "test"),
        row("beta_notes", "a", NOTE_A, "train"),
        row("beta_notes", "b", f"Ward round question: {NOTE_B} Discuss briefly.", "train"),
        row("beta_notes", "test-1", clean(14), "test"),
    ]
    build("beta", {"beta_summary": "English", "beta_notes": "English"}, beta, **options)
    gamma = [
        row("gamma_zh", "test-1", ZH_TEST, "test"),
        row("gamma_zh", "gram20", f"病例讨论：{ZH_SHARED_20}，其余内容完全不同，需要进一步检查。", "train"),
        row("gamma_zh", "gram19", f"病例讨论：{ZH_SHARED_19}，其余内容完全不同，需要进一步检查。", "train"),
    ]
    return build("gamma", {"gamma_zh": "Chinese"}, gamma, **options)


def snapshot(folder: Path, pattern: str = "**/*") -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob(pattern))
        if p.is_file()
    }


def ids(out: Path, task: str, split: str) -> list[str]:
    shards = sorted((out / "data" / task).glob(f"{split}-*.parquet"))
    return [i for s in shards for i in pq.read_table(s, columns=["id"]).column("id").to_pylist()]


def manifest(out: Path, source: str) -> dict:
    return json.loads((out / "sources" / f"{source}.json").read_text())


def test_planted_overlaps_are_removed_and_reported(build) -> None:
    out = build_planted(build)
    tests_before = snapshot(out, "data/*/test-*.parquet")
    alpha_before = {k: v for k, v in snapshot(out).items() if "alpha" in k}

    report = decontaminate(out)

    assert report.removed == {"beta_summary": 4, "beta_notes": 2, "gamma_zh": 1}
    assert report.test_inputs == 9
    found = {(e["id"], e["overlaps_test_id"], e["how"]) for e in report.examples}
    assert found == {
        ("beta_summary:exact", "alpha_exam:0", "exact"),
        ("beta_summary:cased", "alpha_exam:1", "exact"),
        ("beta_summary:gram", "alpha_exam:2", "13-gram"),
        ("beta_summary:val-exact", "alpha_exam:0", "exact"),
        ("beta_notes:a", "alpha_exam:4", "exact"),
        ("beta_notes:b", "alpha_exam:5", "13-gram"),
        ("gamma_zh:gram20", "gamma_zh:test-1", "20-char-gram"),
    }
    assert {e["overlaps_test_task"] for e in report.examples} == {"alpha_exam", "gamma_zh"}
    lines = [json.loads(line) for line in (out / "reports" / "decontamination.jsonl").read_text().splitlines()]
    assert {
        (x["task_id"], x["split"], x["id"], x["overlaps_test_task"], x["overlaps_test_id"], x["how"]) for x in lines
    } == {
        (e["task_id"], "validation" if "val-" in e["id"] else "train", e["id"], e["overlaps_test_task"])
        + (e["overlaps_test_id"], e["how"])
        for e in report.examples
    }
    summary = json.loads((out / "reports" / "decontamination.json").read_text())
    assert summary["removed_total"] == 7 and summary["removed"]["beta_summary"] == {"train": 3, "validation": 1}

    # Clean rows (and the 12-gram and 19-character near misses) stay; test shards are byte-identical.
    assert ids(out, "beta_summary", "train") == ["beta_summary:clean-1", "beta_summary:gram12", "beta_summary:clean-2"]
    assert ids(out, "beta_summary", "validation") == ["beta_summary:val-clean"]
    assert ids(out, "gamma_zh", "train") == ["gamma_zh:gram19"]
    assert snapshot(out, "data/*/test-*.parquet") == tests_before
    assert {k: v for k, v in snapshot(out).items() if "alpha" in k} == alpha_before  # no overlap: untouched
    # beta_notes lost all its training rows: its train shards go, its test stays.
    assert sorted(p.name for p in (out / "data" / "beta_notes").iterdir()) == ["test-00000-of-00001.parquet"]
    shard = out / "data" / "beta_summary" / "train-00000-of-00001.parquet"
    assert pq.ParquetFile(shard).metadata.row_group(0).column(4).compression == "ZSTD"

    # Manifests, task files and the card agree with the shards; the folder validates and loads.
    tasks = manifest(out, "beta")["tasks"]
    assert tasks["beta_summary"]["splits"]["train"] == {
        "instances": 3,
        "files": ["data/beta_summary/train-00000-of-00001.parquet"],
    }
    assert tasks["beta_summary"]["splits"]["validation"]["instances"] == 1
    assert tasks["beta_summary"]["splits"]["test"]["instances"] == 1
    assert list(tasks["beta_notes"]["splits"]) == ["test"]
    task_file = json.loads((out / "tasks" / "beta_summary.json").read_text())
    assert [i["id"] for i in task_file["Instances"]] == [
        *ids(out, "beta_summary", "train"),
        "beta_summary:val-clean",
    ] + ["beta_summary:test-1"]
    assert task_file["Definition"] == ["Answer the question."] and task_file["Source"] == "Beta"
    assert list(validate.folder(out)) == []
    card = (out / "README.md").read_text()
    assert "| `beta_notes` | Question Answering | Exam | 0 | 0 | 1 |" in card
    loaded = datasets.load_dataset(str(out))
    assert {s: len(d) for s, d in loaded.items()} == {"train": 7, "validation": 1, "test": 9}
    assert "beta_summary:exact" not in loaded["train"]["id"]
    assert list(datasets.load_dataset(str(out), "beta_notes")) == ["test"]


def test_second_run_changes_nothing(build) -> None:
    out = build_planted(build)
    decontaminate(out)
    before = snapshot(out)
    again = decontaminate(out)
    assert again.removed == {} and again.examples == [] and again.test_inputs == 9
    assert snapshot(out) == before


def test_clean_folder_is_left_alone_but_reported(build) -> None:
    out = build("alpha", {"alpha_exam": "English"}, [row("alpha_exam", "1", EXACT, "test")])
    build("beta", {"beta_summary": "English"}, [row("beta_summary", str(i), clean(i), "train") for i in range(4)])
    before = snapshot(out)
    report = decontaminate(out)
    assert report.removed == {} and report.test_inputs == 1
    after = snapshot(out)
    assert {k for k in after if k not in before} == {"reports/decontamination.json", "reports/decontamination.jsonl"}
    assert {k: v for k, v in after.items() if k in before} == before
    assert (out / "reports" / "decontamination.jsonl").read_text() == ""


def test_shards_that_empty_go_and_the_rest_are_renumbered(build) -> None:
    out = build("alpha", {"alpha_exam": "English"}, [row("alpha_exam", "1", EXACT, "test")])
    texts = [clean(1), EXACT, clean(2), EXACT.upper(), clean(3)]
    records = [row("beta_summary", str(i), text, "train") for i, text in enumerate(texts)]
    build("beta", {"beta_summary": "English"}, records, max_shard_bytes=1)  # one row per shard
    assert len(list((out / "data" / "beta_summary").glob("train-*.parquet"))) == 5
    assert decontaminate(out).removed == {"beta_summary": 2}
    names = sorted(p.name for p in (out / "data" / "beta_summary").iterdir())
    assert names == [f"train-{i:05d}-of-00003.parquet" for i in range(3)]
    assert ids(out, "beta_summary", "train") == ["beta_summary:0", "beta_summary:2", "beta_summary:4"]
    assert manifest(out, "beta")["tasks"]["beta_summary"]["splits"]["train"]["files"] == [
        f"data/beta_summary/{n}" for n in names
    ]
    assert list(validate.folder(out)) == []


def test_a_task_that_loses_every_row_becomes_empty(build) -> None:
    out = build("alpha", {"alpha_exam": "English"}, [row("alpha_exam", "1", EXACT, "test")])
    build("beta", {"beta_summary": "English"}, [row("beta_summary", "1", EXACT, "train")])
    assert decontaminate(out).removed == {"beta_summary": 1}
    assert not (out / "data" / "beta_summary").exists() and not (out / "tasks" / "beta_summary.json").exists()
    beta = manifest(out, "beta")
    assert beta["tasks"]["beta_summary"]["splits"] == {} and beta["empty_tasks"] == ["beta_summary"]
    assert "config_name: beta_summary" not in (out / "README.md").read_text()
    assert len(datasets.load_dataset(str(out))["test"]) == 1


def test_boilerplate_shared_by_many_test_inputs_is_not_overlap(build) -> None:
    template = "Patient record exported from the emergency department triage system version four point two:"
    findings = ["fever", "cough", "rash", "headache", "vomiting", "syncope", "chest pain", "dyspnoea"]
    findings += ["back pain", "seizure", "confusion", "palpitations"]
    tests = [
        f"{template} presenting complaint {f} since {i + 2} hours, triaged to bay {i} by the night nurse on duty."
        for i, f in enumerate(findings)
    ]
    out = build("alpha", {"alpha_exam": "English"}, [row("alpha_exam", str(i), t, "test") for i, t in enumerate(tests)])
    train = [
        row("beta_summary", "template", f"{template} presenting complaint dizziness after a long flight.", "train"),
        row("beta_summary", "copy", f"Earlier note: {tests[5].split(':', 1)[1]} Reviewed later.", "train"),
    ]
    build("beta", {"beta_summary": "English"}, train)
    report = decontaminate(out)
    assert report.removed == {"beta_summary": 1}
    assert [(e["id"], e["overlaps_test_id"]) for e in report.examples] == [("beta_summary:copy", "alpha_exam:5")]
    assert json.loads((out / "reports" / "decontamination.json").read_text())["boilerplate_ngrams_ignored"] > 0


def test_a_rebuilt_source_is_reported_once(build) -> None:
    out = build_planted(build)
    first = decontaminate(out)
    lines = (out / "reports" / "decontamination.jsonl").read_text().splitlines()
    build_planted(build, force=True)  # every source rebuilt: the contaminated rows are back
    second = decontaminate(out)
    assert second.removed == first.removed
    again = [json.loads(line) for line in (out / "reports" / "decontamination.jsonl").read_text().splitlines()]
    assert len(again) == len(lines) == len({(x["task_id"], x["id"]) for x in again})


def test_a_killed_run_is_finished_by_the_next(build) -> None:
    out = build_planted(build)
    stale_manifest = (out / "sources" / "beta.json").read_text()
    stale_task = (out / "tasks" / "beta_summary.json").read_text()
    decontaminate(out)
    done = snapshot(out, "[st]*/*.json")
    # As if killed after the shards were renamed and before the task file and manifest were written.
    (out / "sources" / "beta.json").write_text(stale_manifest)
    (out / "tasks" / "beta_summary.json").write_text(stale_task)
    (out / "data" / "beta_summary" / f".train-00000-of-00001.parquet.1234abcd{'.decontaminate-tmp'}").write_text("x")
    assert decontaminate(out).removed == {}
    assert snapshot(out, "[st]*/*.json") == done
    assert not list((out / "data" / "beta_summary").glob(".*"))


def test_normal_form_and_tokens() -> None:
    assert normalise("  Ｆｉｒｓｔ\u00a0LINE\n\ttherapy ") == "first line therapy"
    assert tokens("n_ed_30d: 1.5 mg, ___ 胸闷a") == ["n", "ed", "30d", "1", "5", "mg", "胸", "闷", "a"]


def test_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        decontaminate(tmp_path / "nowhere")
    assert decontaminate(tmp_path).removed == {}


def without_times(snap: dict[str, str], out: Path) -> dict[str, str]:
    """The snapshot with the summary's timings taken out (they differ from run to run)."""
    summary = json.loads((out / "reports" / "decontamination.json").read_text())
    summary.pop("seconds"), summary.pop("finished_at")
    return snap | {"reports/decontamination.json": json.dumps(summary, sort_keys=True)}


def test_two_processes_and_small_pieces_give_the_same_folder_as_one(build, monkeypatch) -> None:
    out = build_planted(build)
    copies = [out.with_name(f"copy{i}") for i in range(2)]
    for copy in copies:
        shutil.copytree(out, copy)
    serial = decontaminate(out, workers=1)
    assert serial.removed and serial.examples
    assert decontaminate(copies[0], workers=2).examples == serial.examples
    # pieces of a few characters and rows: every text and row group on its own, same rows removed
    monkeypatch.setattr(module, "PIECE_CHARS", 40)
    monkeypatch.setattr(module, "PIECE_ROWS", 1)
    assert decontaminate(copies[1], workers=1).examples == serial.examples
    expected = without_times(snapshot(out), out)
    for copy in copies:
        assert without_times(snapshot(copy), copy) == expected


def test_pieces_of_a_shard_follow_its_row_groups(tmp_path: Path, monkeypatch) -> None:
    shard = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(10)], "input": ["x"] * 10}), shard, row_group_size=3)
    monkeypatch.setattr(module, "PIECE_ROWS", 5)
    assert module._pieces(shard) == [([0, 1], 0), ([2, 3], 6)]


def reference_windows(norms: list[str], docs: list[int], words: int, cjk: int) -> list[tuple[int, int, bool]]:
    """(text, hash, CJK?) of every window, one token at a time: what the vectorised code must give."""
    mask, word_windows, cjk_windows = (1 << 64) - 1, [], []
    for d in docs:
        toks = tokens(norms[d])
        hashes = [token_hash(t) for t in toks]
        is_cjk = [bool(module._CJK_CHAR.fullmatch(t)) for t in toks]
        for size, cjk_window, found in ((words, False, word_windows), (cjk, True, cjk_windows)):
            for i in range(len(toks) - size + 1):
                if any(is_cjk[i : i + size]) != cjk_window:
                    continue
                h = 0
                for t in hashes[i : i + size]:
                    h = (h * int(module._MULTIPLIER) + t) & mask
                found.append((d, h ^ int(module._CJK_SALT) if cjk_window else h, cjk_window))
    return word_windows + cjk_windows


def test_batch_folding_and_hashing_match_the_text_at_a_time_definitions() -> None:
    """Normal form, exact hash, tokens and n-grams of a whole batch at once (numpy) equal fold(),
    blake2b of it and the windows of tokens() one text at a time, on mixed scripts and odd spaces."""
    rng = random.Random(7)
    alphabet = list("ab Z9_-.,\t\n\x0b\x1c\u00a0\u3000\u2028ßİﬁ½é中文日本カナ한국々〇\u200b\U00020001µΩ")
    alphabet += ["  ", "\r\n"]
    texts: list[str | None] = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(60))) for _ in range(400)]
    texts += [None, "", "   ", EXACT, PASSAGE, ZH_TEST]
    collapsed = [EXACT, CASED.lower(), "plain words only", PASSAGE]  # the path for texts already in normal form
    grams = module._Grams(4, 6)
    for batch in (texts[:200], texts[200:], collapsed, ["ascii only", "\tsome  SPACES between four or more words "]):
        folded, hashes, present = grams.fold(batch)
        norms = [normalise(t or "") for t in batch]
        assert present.tolist() == [bool(n) for n in norms]
        assert hashes.tolist() == [module._digest(n) if n else 0 for n in norms]
        assert [folded.text(i) for i in np.flatnonzero(present)] == [n for n in norms if n]
        for docs in (np.flatnonzero(present), np.flatnonzero(present)[1::3]):
            win = grams.windows(folded, docs)
            got = list(zip(win.doc.tolist(), win.hash.tolist(), win.cjk.tolist(), strict=True))
            assert got == reference_windows(norms, docs.tolist(), 4, 6)
        assert win.doc.size and set(win.doc.tolist()) <= set(docs.tolist())  # a subset has windows of its own


def test_bitmap_lookup_agrees_with_binary_search() -> None:
    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(0, 2**63, 50_000, dtype=np.uint64) * np.uint64(2))
    values = np.concatenate([keys[::7], rng.integers(0, 2**63, 50_000, dtype=np.uint64), keys[-1:] + np.uint64(1)])
    found = module._Keys(keys).contains(values)
    assert found.tolist() == module._contains(keys, values).tolist() == np.isin(values, keys).tolist()
    assert found.sum() >= keys[::7].size and not module._Keys(keys[:0]).contains(values).any()
    # The extremes of the hash space, and the arrays as workers load them (read-only, memory-mapped).
    edges = np.array([0, 1, 2**63, 2**64 - 1], np.uint64)
    keys = np.unique(np.concatenate([keys, edges[[0, 3]]]))
    shared = module._Keys(keys)
    loaded = module._Keys(*(np.require(a, requirements="C").view() for a in (keys, shared.bitmap, shared.directory)))
    for array in (loaded.keys, loaded.bitmap, loaded.directory):
        array.flags.writeable = False
    assert loaded.contains(edges).tolist() == [True, False, False, True]
    assert loaded.contains(values).tolist() == np.isin(values, keys).tolist()


def test_test_hashes_merge_in_place_into_their_sorted_distinct_union() -> None:
    """The index of test n-grams grows by merging each task's hashes into it (`_merge_into`) and then loses the
    boilerplate (`kernels.drop_sorted`): the same values as numpy's set operations."""
    from pipeline import kernels

    rng = np.random.default_rng(5)
    union, reference = module._NO_HASHES.copy(), np.zeros(0, np.uint64)
    for size in (0, 1000, 1, 5000, 0, 3000):
        part = np.unique(rng.integers(0, 20_000, size, dtype=np.uint64))  # overlapping parts
        union = module._merge_into(union, part)
        reference = np.union1d(reference, part)
        assert union.tolist() == reference.tolist()
    runs, added = module._HashSet(), module._NO_HASHES  # the index's union: parts merged in runs of doubling size
    for size in (3000, 10, 0, 700, 700, 5000, 1):
        part = np.unique(rng.integers(0, 20_000, size, dtype=np.uint64))
        added = np.union1d(added, part)  # (before the set takes the part over and merges into it)
        runs.add(part)
        assert 0 < len(runs.runs) <= 4 and all(a.size > b.size for a, b in itertools.pairwise(runs.runs))
    parts_union = np.unique(np.concatenate(runs.runs))
    assert parts_union.tolist() == added.tolist()  # no hash lost or made up by the in-place merges
    assert runs.union().tolist() == parts_union.tolist() and not runs.runs
    repeated = np.sort(rng.integers(0, 50, 400, dtype=np.uint64))
    assert module._merge_into(repeated[::2], module._NO_HASHES).tolist() == np.unique(repeated[::2]).tolist()  # a view
    drop = np.unique(rng.integers(0, 25_000, 4000, dtype=np.uint64))
    kept = union.copy()
    kept.resize(kernels.drop_sorted(kept, drop), refcheck=False)
    assert kept.tolist() == np.setdiff1d(union, drop).tolist() and 0 < kept.size < union.size
