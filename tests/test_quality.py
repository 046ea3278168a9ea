"""The quality stage on planted defects: each is caught with the right rule, clean records pass
untouched, and a task that fails a task-level check makes the build fail before publishing."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fake_converter import make

from pipeline.build import build_source
from pipeline.model import Record
from pipeline.quality import QualityConfig, QualityError

FREE, CLOSED = "pubmedqa_answer_generation", "pubmedqa_multiple_choice"
TASKS = (FREE, CLOSED)
DRUGS = ["metformin", "aspirin", "heparin", "warfarin", "insulin", "amoxicillin", "lisinopril", "atorvastatin"]
CONDITIONS = ["type 2 diabetes", "atrial fibrillation", "pneumonia", "hypertension", "asthma", "gout", "anaemia"]
OUTCOMES = ["fewer symptoms", "a mild rash", "better sleep", "stable blood pressure", "no change", "less pain"]


def sentence(rng: random.Random, i: int) -> str:
    return (
        f"Patient {i} with {rng.choice(CONDITIONS)} was treated with {rng.choice(DRUGS)} for {rng.randint(2, 90)} days "
        f"in the {rng.choice(['cardiology', 'medical', 'surgical', 'geriatric'])} ward and reported "
        f"{rng.choice(OUTCOMES)} at the follow-up visit, so the team decided to {rng.choice(['continue', 'stop'])} "
        f"the treatment and review the case in {rng.randint(1, 12)} weeks."
    )


def clean(n: int = 60) -> list[Record]:
    """Pairs of instances (one per task) built on the same sentence: one group, so they share a split."""
    rng = random.Random(7)
    records = []
    for i in range(n):
        text, group = sentence(rng, i), f"g{i}"
        question = f"Context: {text}\nQuestion: What happened next?"
        records.append(Record(FREE, f"f{i}", question, text, "in.txt", f"line {i}", group=group))
        label = rng.choice(["yes", "no", "maybe"])
        records.append(
            Record(CLOSED, f"c{i}", f"{text}\nQuestion: Was it effective?", label, "in.txt", f"line {i}", group=group)
        )
    return records


LONG = (
    "The patient is a sixty-two year old man admitted with crushing chest pain radiating to the left arm, "
    "sweating and nausea for two hours. The electrocardiogram showed ST elevation in the inferior leads and "
    "troponin was raised. He underwent primary angioplasty of the right coronary artery with a drug eluting "
    "stent and recovered without complications during a five day stay on the cardiology ward. He was "
    "discharged on dual antiplatelet therapy with aspirin and ticagrelor for twelve months, a high intensity "
    "statin, a beta blocker and an angiotensin converting enzyme inhibitor, with a referral to cardiac "
    "rehabilitation and advice to stop smoking, and a follow-up appointment in the cardiology clinic."
)
DEFECTS = {
    "near-duplicate": Record(
        FREE, "near", LONG.replace("sixty-two", "sixty-three"), "Inferior STEMI treated.", "in.txt", "n"
    ),
    "placeholder-nan": Record(FREE, "nan", "What is the dose of aspirin after a stent?", "nan", "in.txt", "p1"),
    "placeholder-template": Record(FREE, "tpl", "Answer the question: {input}", "Aspirin daily.", "in.txt", "p2"),
    "markup": Record(FREE, "html", "Which drug lowers glucose in type 2 diabetes?", "<p>Metformin</p>", "in.txt", "m"),
    "label": Record(CLOSED, "lbl", "Did the treatment work for the patient with gout?", "perhaps", "in.txt", "l"),
    "language": Record(
        FREE,
        "zh",
        "What is the first-line treatment for uncomplicated hypertension in adults?",
        "对于无并发症的成人高血压，一线治疗通常是噻嗪类利尿剂或钙通道阻滞剂。",
        "in.txt",
        "z",
    ),
}


def planted() -> list[Record]:
    records = clean()
    first = records[0]
    duplicate = Record(FREE, "dup", "  " + first.input.upper() + " ", first.output.upper(), "in.txt", "line d")
    original = Record(FREE, "orig", LONG, "Inferior STEMI treated.", "in.txt", "o")
    return [*records, duplicate, original, *DEFECTS.values()]


def build(tmp_path: Path, records: list[Record], config: QualityConfig | None = None) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "input.txt").write_text("x")
    out = tmp_path / "out"
    converter = make(lambda files: iter(records), TASKS, "pubmedqa")
    # The synthetic sentences share a template; cross-split decontamination is tested in test_decontaminate.
    build_source(converter, raw, out, quality=config or QualityConfig(), clean_across_sources=False)
    return out


def written_ids(out: Path) -> set[str]:
    return {
        i for p in (out / "data").glob("*/*.parquet") for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()
    }


def test_each_planted_defect_is_quarantined_with_its_rule(tmp_path: Path) -> None:
    out = build(tmp_path, planted())
    lines = [json.loads(x) for x in (out / "quarantine" / "pubmedqa.jsonl").read_text().splitlines()]
    by_locator = {q["locator"]: q["rule"] for q in lines}
    assert by_locator == {
        "line d": "exact-duplicate",
        "n": "near-duplicate",
        "p1": "placeholder",
        "p2": "placeholder",
        "m": "markup",
        "l": "label",
        "z": "language",
    }
    assert all(q["task_id"] in TASKS and q["value"] for q in lines)
    ids = written_ids(out)
    assert {r.id for r in clean()} | {f"{FREE}:orig"} == ids  # every clean record, untouched, and the kept original
    manifest = json.loads((out / "sources" / "pubmedqa.json").read_text())
    assert manifest["quality"][FREE]["quarantined_by_rule"]["near-duplicate"] == 1
    assert [f"{FREE}:orig", f"{FREE}:near"] in manifest["quality"][FREE]["near_duplicate_clusters"]


def test_a_task_over_the_quarantine_limit_fails_and_publishes_nothing(tmp_path: Path) -> None:
    records = clean(10) + [
        Record(FREE, f"e{i}", f"Question {i} about dosing?", "None", "in.txt", f"e{i}") for i in range(5)
    ]
    with pytest.raises(QualityError, match=rf"{FREE}: 5 of 15 records \(33%\) quarantined .*limit 20%.*5 placeholder"):
        build(tmp_path, records)
    assert not (tmp_path / "out" / "data").exists()
    build(tmp_path, records, QualityConfig(max_quarantine_rate=0.5))  # configurable
    assert len(written_ids(tmp_path / "out")) == 20


def test_degenerate_tasks_fail_the_build(tmp_path: Path) -> None:
    same = [
        Record(CLOSED, f"s{i}", r.input, "yes", "in.txt", f"s{i}")
        for i, r in enumerate(clean(30))
        if r.task_id == CLOSED
    ]
    with pytest.raises(QualityError, match=rf"{CLOSED}: all 30 instances have the same output"):
        build(tmp_path, same)
    skewed = same[:29] + [Record(CLOSED, "other", "Was the last one effective at all?", "no", "in.txt", "o")]
    with pytest.raises(QualityError, match=rf"{CLOSED}: degenerate label distribution"):
        build(tmp_path, skewed, QualityConfig(min_label_entropy=0.5))


def test_quality_config_reads_yaml_and_refuses_unknown_settings(tmp_path: Path) -> None:
    path = tmp_path / "quality.yaml"
    path.write_text("max_quarantine_rate: 0.05\nbounds: {output_max: 10}\ntask_bounds: {x: {input_max: 5}}\n")
    config = QualityConfig.from_file(path)
    assert config.max_quarantine_rate == 0.05 and config.rules.bounds.output_max == 10
    assert config.rules.task_bounds["x"].input_max == 5
    path.write_text("max_quarantine: 0.05\n")
    with pytest.raises(ValueError, match=r"unknown quality settings \['max_quarantine'\]"):
        QualityConfig.from_file(path)


def test_a_copy_of_a_test_instance_read_first_in_train_never_pushes_the_test_instance_out(tmp_path: Path) -> None:
    """Streams usually read train before test. The train copy must not win the deduplication: both reach the
    output, and decontamination then removes the training side, leaving the test set whole."""
    records = clean()
    leaked_train = Record(FREE, "leak-train", LONG, "Inferior STEMI treated.", "train.txt", "t1", split="train")
    near_train = Record(FREE, "near-train", LONG.replace("sixty-two", "sixty-four"), "x", "train.txt", "t2")
    test = Record(FREE, "leak-test", LONG, "Inferior STEMI treated.", "test.txt", "e1", split="test")
    records = [leaked_train, replace(near_train, split="train"), *records, test]
    out = build(tmp_path, records)
    assert not (out / "quarantine" / "pubmedqa.jsonl").read_text().strip()
    assert {f"{FREE}:leak-train", f"{FREE}:near-train", f"{FREE}:leak-test"} <= written_ids(out)

    raw = tmp_path / "raw"
    report = build_source(make(lambda files: iter(records), TASKS, "pubmedqa"), raw, tmp_path / "clean", force=True)
    ids = written_ids(tmp_path / "clean")
    assert report.decontaminated[FREE] >= 2  # the build report names the removals, not only the report file
    assert "decontamination removed" in report.summary() and "reports/decontamination.jsonl" in report.summary()
    assert f"{FREE}:leak-test" in ids and not {f"{FREE}:leak-train", f"{FREE}:near-train"} & ids
    removed = [
        json.loads(x) for x in (tmp_path / "clean" / "reports" / "decontamination.jsonl").read_text().splitlines()
    ]
    # (the synthetic clean sentences share a template, so some of them are removed too: not checked here)
    assert {(r["id"], r["overlaps_test_id"]) for r in removed if "leak" in r["overlaps_test_id"]} == {
        (f"{FREE}:leak-train", f"{FREE}:leak-test"),
        (f"{FREE}:near-train", f"{FREE}:leak-test"),
    }


def test_verdicts_are_the_same_whether_records_are_screened_in_batches_or_one_at_a_time() -> None:
    """The build screens a batch at a time in one compiled loop; a record must be judged against the records
    before it in its own batch as against earlier batches, so batches of any size give the verdicts of one
    record at a time (the near duplicate falls in another batch than its original when the batches are small)."""
    from pipeline.quality import QualityStage

    tasks = {t.id: t for t in make(lambda files: iter(()), TASKS, "pubmedqa").tasks}
    records = planted()

    def verdicts(batch: int | None) -> list[str]:
        stage = QualityStage(QualityConfig(), tasks)
        if batch is None:
            return [repr(stage.check(record, "train")) for record in records]
        found = []
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            found += map(repr, stage.screen(chunk, ["train"] * len(chunk), [stage.validate(r) for r in chunk]))
        return found

    alone = verdicts(None)
    assert any("near-duplicate" in v for v in alone) and any("exact-duplicate" in v for v in alone)
    assert verdicts(7) == alone
    assert verdicts(512) == alone


def test_freezing_the_duplicate_tables_changes_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """The duplicate tables and the near-duplicate index move their older keys to sorted arrays (HOT_KEYS,
    HOT_RECORDS): a stream of repeated ids, exact and near duplicates, conflicting outputs and pairs shared between
    tasks, frozen every few records, gets the verdicts and the report it gets when nothing is frozen."""
    from pipeline import neardup, quality
    from pipeline.quality import QualityStage

    tasks = {t.id: t for t in make(lambda files: iter(()), TASKS, "pubmedqa").tasks}
    tasks[FREE] = replace(tasks[FREE], several_outputs=True)  # its other answers to one input are merged
    rng = random.Random(11)
    questions = [sentence(rng, i) for i in range(60)]
    answers = ["yes", "no", "maybe", "Yes, at the same dose.", "It was stopped after two weeks."]
    stream = []
    for i in range(1500):
        key = str(rng.randrange(1300))  # some ids repeat
        text = rng.choice(questions) if rng.random() < 0.7 else sentence(rng, 1000 + i)
        if rng.random() < 0.1:  # a near duplicate: one word changed
            text = text.replace("ward", "unit")
        stream.append(
            (Record(rng.choice(TASKS), key, text, rng.choice(answers), "in.txt", str(i)), rng.choice(["train", "test"]))
        )

    def run() -> tuple[list[str], dict]:
        stage = QualityStage(QualityConfig(), tasks)
        found = []
        for start in range(0, len(stream), 64):
            records, splits = zip(*stream[start : start + 64], strict=True)
            found += map(repr, stage.screen(records, splits, [stage.validate(r) for r in records]))
        return found, stage.finish()[0]

    never = run()
    monkeypatch.setattr(quality, "HOT_KEYS", 40)
    monkeypatch.setattr(neardup, "HOT_RECORDS", 40)
    assert run() == never
    rules = " ".join(never[0])
    assert all(rule in rules for rule in ("duplicate-id", "exact-duplicate", "near-duplicate", "Merge"))
    assert never[1][CLOSED]["conflicting_outputs"] and never[1][CLOSED]["cross_task_duplicates"]


def test_records_sharing_one_input_are_each_judged_on_their_own_output() -> None:
    """The stage keeps the last input normalised and hashed (a converter's records of one raw record share it):
    the records after the first must still be judged on their own outputs, and a swapped (output, input) pair
    is another instance, not a duplicate."""
    from pipeline.quality import QualityStage

    tasks = {t.id: t for t in make(lambda files: iter(()), TASKS, "pubmedqa").tasks}
    stage = QualityStage(QualityConfig(near_duplicates=False), tasks)
    shared = LONG
    verdicts = [
        stage.check(Record(FREE, key, shared, output, "in.txt", key), "train")
        for key, output in (("a", "Inferior STEMI."), ("b", "nan"), ("c", "<b>STEMI</b>"), ("d", "Inferior STEMI."))
    ]
    assert verdicts[0] is None
    assert [v.rule for v in verdicts[1:]] == ["placeholder", "markup", "exact-duplicate"]
    assert stage.check(Record(FREE, "e", "   ", "Inferior STEMI.", "in.txt", "e"), "train").rule == "empty"
    assert stage.check(Record(FREE, "swapped", "Inferior STEMI.", shared, "in.txt", "s"), "train") is None
    assert stage.check(Record(FREE, "f", shared, "Anterior STEMI.", "in.txt", "f"), "train") is None


def test_one_batch_is_screened_in_order_against_itself() -> None:
    """Every duplicate rule applies between records of one batch, in the converter's order: an id is taken only
    once accepted; a conflicting output is reported with the earlier instance; a pair seen in another task is
    counted; test records are de-duplicated apart."""
    from pipeline.quality import QualityStage

    tasks = {t.id: t for t in make(lambda files: iter(()), TASKS, "pubmedqa").tasks}
    stage = QualityStage(QualityConfig(near_duplicates=False), tasks)
    question = "Was metformin continued for the patient with type 2 diabetes?"
    batch = [
        (Record(FREE, "a", question, "Yes, at the same dose.", "in.txt", "1"), "train"),
        (Record(FREE, "a", "Which ward admitted the patient?", "The cardiology ward.", "in.txt", "2"), "train"),
        (Record(FREE, "b", "   ", "Nothing.", "in.txt", "3"), "train"),
        (Record(FREE, "b", "Which ward admitted the patient?", "The cardiology ward.", "in.txt", "4"), "train"),
        (Record(FREE, "c", question.upper(), "yes, at the same dose. ", "in.txt", "5"), "train"),
        (Record(FREE, "d", question, "No, it was stopped.", "in.txt", "6"), "train"),
        (Record(FREE, "e", question, "Yes, at the same dose.", "in.txt", "7"), "test"),
        (Record(FREE, "y", "Did the rash improve?", "yes", "in.txt", "8"), "train"),
        (Record(CLOSED, "y", "Did the rash improve?", "yes", "in.txt", "9"), "train"),
    ]
    records, splits = [r for r, _ in batch], [s for _, s in batch]
    verdicts = stage.screen(records, splits, [stage.validate(r) for r in records])
    assert [v and v.rule for v in verdicts] == [
        None, "duplicate-id", "empty", None, "exact-duplicate", None, None, None, None,
    ]  # fmt: skip
    assert verdicts[1].value == f"{FREE}:a"
    report, _ = stage.finish()
    assert report[FREE]["conflicting_outputs"] == 1
    assert report[FREE]["conflict_examples"] == [[f"{FREE}:a", f"{FREE}:d"]]
    assert report[FREE]["quarantined_by_rule"] == {"empty": 1, "exact-duplicate": 1}  # (a duplicate id is the build's)
    assert report[FREE]["accepted"] == 5 and report[CLOSED]["accepted"] == 1
    assert report[CLOSED]["cross_task_duplicates"] == 1 and report[FREE]["cross_task_duplicates"] == 0


def test_folding_a_normalised_text_gives_the_fold_of_the_text() -> None:
    """The stage folds the texts it has normalised for validation (`fold_flat`: lower-casing only, for ASCII
    text); the result must be `fold` of the raw text, whatever its whitespace, case or script."""
    from pipeline.validation import fold, fold_flat, normalise

    rng = random.Random(7)
    alphabet = "aZqMSX09.,;:!?-'\"() \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # (\x1c-\x1f: whitespace to str.split)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    texts += [
        "  Ａｎｔｅｒｉｏｒ  ＳＴＥＭＩ ",  # full-width letters: NFKC makes them ASCII
        "Straße  ﬁne\u00a0print",  # casefold ß -> ss, the fi ligature, a no-break space
        "zero\u200bwidth  Space\u2028next",  # a zero-width space (removed by normalise, kept by fold)
        "İstanbul ǅ",  # dotted capital I, a title-case digraph
        "",
    ]
    for text in texts:
        assert fold_flat(text, normalise(text)) == fold(text), repr(text)
