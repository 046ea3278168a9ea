"""A task's Definition list as the build reads it: seeds, then the accepted rewrites cached in
`seeds/rewrites/`, without a model and without a key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import rewrite_cache, seeds
from pipeline.rewrite_cache import Entry
from pipeline.rewrite_filters import ACCEPTED, CHATTER, NEAR_DUPLICATE

TASK = "toy_yes_no"
SEEDS = [
    "Does the abstract support the claim? Answer yes or no.",
    "You are a fact checker. Read the passage and reply yes when it backs the statement, otherwise no.",
]
REWRITES = [
    "Check the claim against the abstract and say yes if it holds up, no if it does not.",
    "Sure! Here is the rewritten definition: say yes or no.",
    "Tell us with yes or no whether the evidence in the text agrees with what is claimed.",
    "Does the abstract support the claim? Answer yes or no!",
]


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / f"{TASK}.yaml").write_text(json.dumps({"task": TASK, "required": ["yes", "no"], "definitions": SEEDS}))
    return folder


def entries() -> list[Entry]:
    return [Entry(i, "m", "p", SEEDS[i % 2], text) for i, text in enumerate(REWRITES)]


def test_definitions_are_seeds_then_accepted_rewrites_in_sample_order(seeds_dir: Path) -> None:
    toy = seeds.load(TASK, seeds_dir)
    judged = rewrite_cache.replay(toy, reversed(entries()))
    assert [e.verdict for e in judged] == [ACCEPTED, CHATTER, ACCEPTED, NEAR_DUPLICATE]
    rewrite_cache.save(rewrite_cache.path(TASK, seeds_dir), judged)
    assert seeds.definitions(TASK, seeds_dir) == SEEDS + [REWRITES[0], REWRITES[2]]
    assert seeds.load(TASK, seeds_dir) == toy  # the seeds API is unchanged by the cache beside it


def test_without_a_cache_the_definitions_are_the_seeds(seeds_dir: Path) -> None:
    assert seeds.definitions(TASK, seeds_dir) == SEEDS


def test_pending_responses_left_by_a_crash_are_judged_in_memory(seeds_dir: Path) -> None:
    path = rewrite_cache.path(TASK, seeds_dir)
    for entry in entries():
        rewrite_cache.append(path, entry)  # as the stage appends them on arrival, before any verdict
    before = path.read_bytes()
    assert seeds.definitions(TASK, seeds_dir) == SEEDS + [REWRITES[0], REWRITES[2]]
    assert path.read_bytes() == before  # a build reads the cache, never writes it


def test_offline_is_said_once_per_process(
    seeds_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (seeds_dir / "other_task.yaml").write_text(json.dumps({"definitions": ["Summarize the note."]}))
    monkeypatch.setattr(seeds, "_announced", False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-present")
    seeds.definitions(TASK, seeds_dir)
    assert capsys.readouterr().err == ""
    monkeypatch.delenv("OPENAI_API_KEY")
    seeds.definitions(TASK, seeds_dir)
    seeds.definitions("other_task", seeds_dir)
    seeds.definitions(TASK, seeds_dir)
    err = capsys.readouterr().err
    assert err.count("offline (no OPENAI_API_KEY)") == 1 and str(seeds_dir / "rewrites") in err


def test_a_missing_seeds_file_names_the_file_to_write(seeds_dir: Path) -> None:
    with pytest.raises(seeds.SeedError, match=r"no_such_task: no seed instructions; write .*no_such_task\.yaml"):
        seeds.definitions("no_such_task", seeds_dir)
