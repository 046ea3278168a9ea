"""The rewrite stage with the real `openai` client over real HTTP, against an OpenAI-compatible
chat-completions server started on 127.0.0.1 by each test and scripted per test."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from chat_server import ChatServer, Reply, chat_server, completion, error
from conftest import ROOT

from pipeline import rewrite_cache, seeds
from pipeline.rewrite import REWRITE_PROMPT, RewriteConfig, RewriteError, _Limiter, rewrite
from pipeline.rewrite_cache import RewriteCacheError
from pipeline.rewrite_filters import (
    ACCEPTED,
    CHATTER,
    EMPTY,
    MISSING_REQUIRED,
    NEAR_DUPLICATE,
    SEED_REMOVED,
    clean,
    judge,
)

TASK = "toy_claim_verification"
SEEDS = [
    "Decide whether the abstract supports the claim and answer yes or no.",
    "You are a peer reviewer: does the passage back up the statement? Reply with yes or no only.",
    "Question: is the given statement confirmed by the text that follows? Output yes or no.",
]
VOCABULARY = [f"word{n}" for n in range(400)]


def good(index: int) -> str:
    """A rewrite that passes every filter and is unlike any other index's."""
    return " ".join(random.Random(index).sample(VOCABULARY, 14)) + ". Answer yes or no."


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with chat_server(lambda body, n: completion(good(body["seed"]))) as httpd:
        yield httpd


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    write_seeds(folder, SEEDS)
    return folder


def write_seeds(folder: Path, definitions: list[str]) -> None:
    data = {"task": TASK, "required": ["yes", "no"], "definitions": definitions}
    (folder / f"{TASK}.yaml").write_text(json.dumps(data))  # JSON is YAML


def config(server: ChatServer, **options: object) -> RewriteConfig:
    base = RewriteConfig(
        model="test-model",
        base_url=server.url,
        api_key="sk-test",
        concurrency=1,
        requests_per_minute=None,
        base_delay=0.01,
        max_delay=0.05,
        timeout=10,
        budget_usd=None,
    )
    return replace(base, **options)


def cached(seeds_dir: Path) -> list[dict]:
    path = rewrite_cache.path(TASK, seeds_dir)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- normal runs and resumption -----------------------------------------------------------------


def test_rewrites_grow_the_definition_list_and_are_cached(server: ChatServer, seeds_dir: Path) -> None:
    report = rewrite([TASK], 8, config=config(server, concurrency=3), seeds_dir=seeds_dir)
    assert report.calls == 5 and sorted(server.indices()) == [0, 1, 2, 3, 4]
    body = server.requests[0]
    assert body["model"] == "test-model" and body["temperature"] == 1.0
    seed_of = {b["seed"]: b["messages"][0]["content"] for b in server.requests}
    assert seed_of[0] == f"{REWRITE_PROMPT}\n\n{SEEDS[0]}" and seed_of[4].endswith(SEEDS[1])  # sample i: seed i mod 3
    assert (report.prompt_tokens, report.completion_tokens) == (300, 125)
    assert report.cost_usd == pytest.approx((300 * 0.0025 + 125 * 0.01) / 1000)
    task = report.tasks[TASK]
    assert (task.definitions, task.short, task.rejected) == (8, 0, {})
    lines = cached(seeds_dir)
    assert [line["index"] for line in lines] == [0, 1, 2, 3, 4]
    assert {line["verdict"] for line in lines} == {ACCEPTED} and lines[0]["usage"]["prompt_tokens"] == 60
    assert lines[1]["seed"] == SEEDS[1] and lines[1]["model"] == "test-model"
    assert seeds.definitions(TASK, seeds_dir) == SEEDS + [good(i) for i in range(5)]


def test_a_second_run_makes_no_calls_and_a_higher_target_only_the_new_ones(server: ChatServer, seeds_dir: Path) -> None:
    rewrite([TASK], 6, config=config(server), seeds_dir=seeds_dir)
    before = (rewrite_cache.path(TASK, seeds_dir)).read_bytes()
    again = rewrite([TASK], 6, config=config(server), seeds_dir=seeds_dir)
    assert again.calls == 0 and len(server.requests) == 3 and again.tasks[TASK].cached == 3
    assert rewrite_cache.path(TASK, seeds_dir).read_bytes() == before  # not even rewritten
    more = rewrite([TASK], 9, config=config(server), seeds_dir=seeds_dir)
    assert more.calls == 3 and server.indices() == [0, 1, 2, 3, 4, 5]


def test_a_rerun_with_everything_cached_needs_no_key(
    server: ChatServer, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewrite([TASK], 5, config=config(server), seeds_dir=seeds_dir)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report = rewrite([TASK], 5, config=config(server, api_key=None), seeds_dir=seeds_dir)
    assert report.calls == 0 and report.tasks[TASK].definitions == 5 and len(server.requests) == 2


def test_verdicts_follow_sample_order_not_arrival_order(server: ChatServer, seeds_dir: Path) -> None:
    # Samples 1 and 2 answer the same text; 2 arrives first, yet 1 is the one kept.
    twin = good(99)
    server.script = lambda body, n: replace(
        completion(twin if body["seed"] in (1, 2) else good(body["seed"])), delay=0.3 if body["seed"] < 2 else 0
    )
    report = rewrite([TASK], 7, config=config(server, concurrency=4, max_rounds=1), seeds_dir=seeds_dir)
    verdicts = {line["index"]: line["verdict"] for line in cached(seeds_dir)}
    assert verdicts == {0: ACCEPTED, 1: ACCEPTED, 2: NEAR_DUPLICATE, 3: ACCEPTED}
    assert report.tasks[TASK].rejected == {NEAR_DUPLICATE: 1}


# --- errors, retries, budget ------------------------------------------------------------------------


def test_429_then_success_is_retried(server: ChatServer, seeds_dir: Path) -> None:
    server.script = lambda body, n: error(429, retry_after="0") if n == 1 else completion(good(body["seed"]))
    report = rewrite([TASK], 5, config=config(server), seeds_dir=seeds_dir)
    assert report.retries == 1 and report.calls == 2
    assert server.indices() == [0, 0, 1] and len(cached(seeds_dir)) == 2


def test_a_timeout_is_retried(server: ChatServer, seeds_dir: Path) -> None:
    server.script = lambda body, n: replace(completion(good(body["seed"])), delay=2.0 if n == 1 else 0)
    report = rewrite([TASK], 4, config=config(server, timeout=0.5), seeds_dir=seeds_dir)
    assert report.retries == 1 and report.calls == 1 and server.indices() == [0, 0]


def test_persistent_500_fails_clearly_and_keeps_what_arrived(server: ChatServer, seeds_dir: Path) -> None:
    server.script = lambda body, n: completion(good(body["seed"])) if n <= 2 else error(500)
    with pytest.raises(RewriteError, match=r"HTTP 500 .*after 2 retries.*2 responses .* cached") as failure:
        rewrite([TASK], 8, config=config(server, max_retries=2), seeds_dir=seeds_dir)
    assert failure.value.report.calls == 2 and failure.value.report.retries == 2
    assert server.indices() == [0, 1, 2, 2, 2]  # no request started after the failure
    assert [(line["index"], line["verdict"]) for line in cached(seeds_dir)] == [(0, ACCEPTED), (1, ACCEPTED)]
    server.script = lambda body, n: completion(good(body["seed"]))
    server.requests.clear()
    report = rewrite([TASK], 8, config=config(server), seeds_dir=seeds_dir)
    assert server.indices() == [2, 3, 4] and report.tasks[TASK].definitions == 8


def test_an_http_error_that_is_not_retryable_stops_at_once(server: ChatServer, seeds_dir: Path) -> None:
    server.script = lambda body, n: error(401)
    with pytest.raises(RewriteError, match="HTTP 401.*OPENAI_API_KEY"):
        rewrite([TASK], 5, config=config(server), seeds_dir=seeds_dir)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "malformed",
    [
        Reply(body=b"<html>bad gateway</html>"),  # not JSON, though it says so
        Reply(body=b"<html>bad gateway</html>", content_type="text/html"),
        Reply(body={"id": "x", "object": "chat.completion"}),  # no choices
        Reply(body={"id": "x", "object": "chat.completion", "choices": []}),
    ],
)
def test_a_malformed_response_is_retried_then_reported(server: ChatServer, seeds_dir: Path, malformed: Reply) -> None:
    server.script = lambda body, n: malformed if n == 1 else completion(good(body["seed"]))
    report = rewrite([TASK], 4, config=config(server), seeds_dir=seeds_dir)
    assert report.retries == 1 and report.tasks[TASK].definitions == 4
    server.script = lambda body, n: malformed
    with pytest.raises(RewriteError, match="malformed response"):
        rewrite([TASK], 5, config=config(server, max_retries=1), seeds_dir=seeds_dir)
    assert len(cached(seeds_dir)) == 1


def test_budget_stops_new_requests_and_keeps_completed_work(server: ChatServer, seeds_dir: Path) -> None:
    server.script = lambda body, n: completion(good(body["seed"]), prompt_tokens=500, completion_tokens=500)
    prices = {"price_input_per_1k": 1.0, "price_output_per_1k": 1.0}
    report = rewrite([TASK], 13, config=config(server, budget_usd=3.5, **prices), seeds_dir=seeds_dir)
    assert report.budget_exhausted and report.calls == 4 and report.cost_usd == pytest.approx(4.0)
    assert len(server.requests) == 4 and len(cached(seeds_dir)) == 4
    assert report.tasks[TASK].short == 6 and "budget reached" in report.summary()
    more = rewrite([TASK], 13, config=config(server, budget_usd=100.0, **prices), seeds_dir=seeds_dir)
    assert not more.budget_exhausted and more.calls == 6 and server.indices() == list(range(10))


def test_requests_are_paced_by_the_rate_limit() -> None:
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = _Limiter(120, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [pytest.approx(0.5), pytest.approx(0.5)]
    now[0] += 10  # idle for a while: the next request starts at once
    limiter.wait()
    assert len(slept) == 2


# --- the filters -----------------------------------------------------------------------------------


def test_filters_reject_and_count_each_reason_and_later_rounds_make_up(server: ChatServer, seeds_dir: Path) -> None:
    answers = {
        0: "Sure, here is the rewritten definition: Tell whether the abstract backs the claim; yes or no.",
        1: "   ",
        2: SEEDS[2].replace("Question:", "Query:"),  # a near copy of its seed
        3: "Tell whether the abstract agrees with the claim. Answer with a single word.",  # dropped the labels
        4: f"“{good(4)}”",  # quoted: kept without the quotes
        5: good(5),
    }
    server.script = lambda body, n: completion(answers[body["seed"]])
    report = rewrite([TASK], 5, config=config(server), seeds_dir=seeds_dir)
    assert report.rounds == 3 and server.indices() == [0, 1, 2, 3, 4, 5]
    assert report.tasks[TASK].rejected == {CHATTER: 1, EMPTY: 1, MISSING_REQUIRED: 1, NEAR_DUPLICATE: 1}
    assert seeds.definitions(TASK, seeds_dir) == SEEDS + [good(4), good(5)]
    details = {line["index"]: line["detail"] for line in cached(seeds_dir)}
    assert details[3] == "lacks 'yes', 'no'" and details[2].startswith("ROUGE-L 0.9") and "definition 2" in details[2]


def test_a_task_the_model_cannot_serve_stops_after_max_rounds(server: ChatServer, seeds_dir: Path) -> None:
    server.script = lambda body, n: completion("I'm sorry, I can't help with that.")
    report = rewrite([TASK], 5, config=config(server, max_rounds=3), seeds_dir=seeds_dir)
    assert report.rounds == 3 and len(server.requests) == 6 and report.tasks[TASK].short == 2
    assert report.tasks[TASK].rejected == {CHATTER: 6} and f"{TASK}: 3 of 5 (2 short)" in report.summary()


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ("", EMPTY),
        ('""', EMPTY),
        ("Sure! Decide if the abstract supports the claim: yes or no.", CHATTER),
        ("Certainly, decide if the abstract supports the claim: yes or no.", CHATTER),
        ("Here's the rewritten definition: decide if the abstract supports the claim, yes or no.", CHATTER),
        ("Rewritten instruction: decide if the abstract supports the claim, yes or no.", CHATTER),
        ("Decide if the abstract supports the claim (yes or no). Let me know if you need more.", CHATTER),
        ("Option 1: judge the claim, yes or no.\nOption 2: rate the claim, yes or no.", CHATTER),
        ("Judge the claim against the abstract, yes or no.\n\nNote: I kept the labels.", CHATTER),
        ("As an AI, I would say: judge the claim, yes or no.", CHATTER),
        ("Here is a sentence and a claim: reply yes or no to whether they agree.", ACCEPTED),
        ("Judge the claim against the abstract and reply with one word.", MISSING_REQUIRED),
        ("Judge the claim against the abstract; answer yes or not.", MISSING_REQUIRED),  # "not" is not "no"
        ("Decide whether the abstract supports the claim and answer yes or no!", NEAR_DUPLICATE),
        ("Peer reviewer: does the passage back up the statement? Reply yes or no only.", NEAR_DUPLICATE),
        ("Read the claim and the abstract, then write yes if the abstract supports it and no otherwise.", ACCEPTED),
    ],
)
def test_filter_rules(response: str, reason: str) -> None:
    toy = seeds.Seeds(TASK, tuple(SEEDS), ("yes", "no"))
    assert judge(toy, SEEDS, response).reason == reason


@pytest.mark.parametrize(
    ("response", "cleaned"),
    [
        ('  "Judge the claim:   yes or no."\n', "Judge the claim: yes or no."),
        ("“Judge the claim: yes or no.”", "Judge the claim: yes or no."),
        ('"Say "There is no related entity." if none."', 'Say "There is no related entity." if none.'),
        ('"Yes" or "no": which one fits?', '"Yes" or "no": which one fits?'),
        ('"Yes" or "no"', '"Yes" or "no"'),  # two quotations, not one around everything
        ("```\nJudge the claim: yes or no.\n```", "Judge the claim: yes or no."),
        ("Judge the claim:\n  yes\tor no.", "Judge the claim: yes or no."),
    ],
)
def test_cleaning_strips_only_certain_packaging(response: str, cleaned: str) -> None:
    assert clean(response) == cleaned


def test_editing_the_seeds_re_judges_cached_rewrites_without_calls(server: ChatServer, seeds_dir: Path) -> None:
    rewrite([TASK], 9, config=config(server), seeds_dir=seeds_dir)
    write_seeds(seeds_dir, [SEEDS[0], SEEDS[2], good(3)])  # seed 1 removed; sample 3 is now a seed itself
    assert seeds.definitions(TASK, seeds_dir) == [SEEDS[0], SEEDS[2], good(3), good(0), good(2), good(5)]
    report = rewrite([TASK], 6, config=config(server), seeds_dir=seeds_dir)
    assert report.calls == 0 and report.tasks[TASK].rejected == {NEAR_DUPLICATE: 1, SEED_REMOVED: 2}
    verdicts = {line["index"]: line["verdict"] for line in cached(seeds_dir)}
    assert verdicts == {0: ACCEPTED, 1: SEED_REMOVED, 2: ACCEPTED, 3: NEAR_DUPLICATE, 4: SEED_REMOVED, 5: ACCEPTED}


# --- the cache file ----------------------------------------------------------------------------------


def test_a_torn_last_line_is_ignored_and_asked_again(server: ChatServer, seeds_dir: Path) -> None:
    rewrite([TASK], 5, config=config(server), seeds_dir=seeds_dir)
    path = rewrite_cache.path(TASK, seeds_dir)
    whole = path.read_text(encoding="utf-8")
    path.write_text(whole[: len(whole) - 40], encoding="utf-8")  # the last append was cut short by a crash
    assert seeds.definitions(TASK, seeds_dir) == SEEDS + [good(0)]
    server.requests.clear()
    rewrite([TASK], 5, config=config(server), seeds_dir=seeds_dir)
    assert server.indices() == [1] and path.read_text(encoding="utf-8") == whole


def test_a_damaged_cache_line_is_an_error_naming_file_and_line(seeds_dir: Path) -> None:
    path = rewrite_cache.path(TASK, seeds_dir)
    path.parent.mkdir()
    line = rewrite_cache.Entry(0, "m", "p", SEEDS[0], good(0)).line()
    path.write_text(line + "{not json\n" + line, encoding="utf-8")
    with pytest.raises(RewriteCacheError, match=rf"{TASK}.jsonl: line 2: not a cached rewrite"):
        seeds.definitions(TASK, seeds_dir)
    path.write_text(line + line, encoding="utf-8")
    with pytest.raises(RewriteCacheError, match="line 2: sample index 0 appears twice"):
        rewrite([TASK], 5, config=RewriteConfig(api_key="x"), seeds_dir=seeds_dir)


# --- keys, dry run, the command line, interruption ---------------------------------------------------


def test_no_key_is_a_clear_error_and_a_dry_run_needs_none(
    server: ChatServer, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(RewriteError, match="OPENAI_API_KEY"):
        rewrite([TASK], 5, config=config(server, api_key=None), seeds_dir=seeds_dir)
    report = rewrite([TASK], 6, config=config(server, api_key=None), dry_run=True, seeds_dir=seeds_dir)
    assert [(r.index, r.seed) for r in report.planned] == [(0, SEEDS[0]), (1, SEEDS[1]), (2, SEEDS[2])]
    assert report.estimated_cost_usd > 0 and "3 requests" in report.summary()
    assert server.requests == [] and not rewrite_cache.path(TASK, seeds_dir).exists()


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_rewrite_dry_run_run_and_errors(server: ChatServer, seeds_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    common = ["rewrite", "--task", TASK, "--target", "6", "--seeds-dir", str(seeds_dir), "--rpm", "0"]
    dry = cli(*common, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"{TASK} #0 (seed 0): {SEEDS[0]}" in dry.stdout and "estimated $" in dry.stdout
    assert server.requests == []
    nokey = cli(*common, env=env)
    assert nokey.returncode == 1 and "OPENAI_API_KEY" in nokey.stderr and "Traceback" not in nokey.stderr
    env |= {"OPENAI_API_KEY": "sk-cli", "OPENAI_BASE_URL": server.url}
    done = cli(*common, "--model", "cli-model", env=env)
    assert done.returncode == 0, done.stderr
    assert "3 calls to cli-model" in done.stdout and "1 of 1 tasks have at least 6 definitions" in done.stdout
    server.script = lambda body, n: error(503)
    failing = cli(*common[:4], "9", *common[5:], "--max-retries", "1", env=env)
    assert failing.returncode == 1 and "HTTP 503" in failing.stderr and "Traceback" not in failing.stderr


INTERRUPTIBLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from pipeline.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_a_run_killed_midway_loses_nothing(server: ChatServer, seeds_dir: Path, how: signal.Signals) -> None:
    """Three responses arrive, the fourth is on the wire when the process is stopped. After Ctrl-C the
    fourth is still awaited and cached; after SIGKILL it is lost unseen. Either way the re-run asks
    only for what the cache lacks, and never twice for one sample."""
    hold, held = threading.Event(), threading.Event()

    def script(body: dict, n: int) -> Reply:
        if n == 4:
            held.set()
            hold.wait(60)
        return completion(good(body["seed"]))

    server.script = script
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env |= {"OPENAI_API_KEY": "sk-kill", "OPENAI_BASE_URL": server.url}
    command = ["rewrite", "--task", TASK, "--target", "13", "--seeds-dir", str(seeds_dir), "--rpm", "0"]
    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTIBLE, *command, "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert held.wait(60), "the fourth request never arrived"
        process.send_signal(how)
        if how == signal.SIGINT:
            time.sleep(0.2)  # let the client see the interrupt before the answer comes
        hold.set()
        _, stderr = process.communicate(timeout=60)
    finally:
        hold.set()
        if process.poll() is None:
            process.kill()
    kept = [line["index"] for line in cached(seeds_dir)]
    if how == signal.SIGINT:
        assert process.returncode == 130 and "interrupted" in stderr, stderr
        assert kept == [0, 1, 2, 3]
        assert {line["verdict"] for line in cached(seeds_dir)} == {ACCEPTED}
    else:
        assert process.returncode == -signal.SIGKILL and kept == [0, 1, 2]
    first_run = server.indices()
    server.script = lambda body, n: completion(good(body["seed"]))
    server.requests.clear()
    report = rewrite([TASK], 13, config=config(server), seeds_dir=seeds_dir)
    assert sorted(server.indices()) == [i for i in range(10) if i not in kept]
    assert set(server.indices()).isdisjoint(kept) and first_run == [0, 1, 2, 3]
    assert report.tasks[TASK].definitions == 13
    assert [line["index"] for line in cached(seeds_dir)] == list(range(10))
