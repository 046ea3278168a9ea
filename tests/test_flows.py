"""The Prefect flows run the same stages as the CLI, under a real (temporary) Prefect server: the
builds give the CLI's bytes and reuse unchanged sources, the rewrite flow retries a transient LLM
failure within its budget, the publish flow keeps the license gate, and `prefect deploy --all`
accepts prefect.yaml, whose deployment a real process worker then runs."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from chat_server import ChatServer, chat_server, completion, error
from conftest import ROOT, SAMPLES
from hub_server import FakeHub
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.settings import PREFECT_API_URL
from prefect.testing.utilities import prefect_test_harness

from pipeline import build, flows, publish, rewrite, rewrite_cache, validate
from pipeline.registry import get

#: Three quick samples of different raw forms, for the multi-source builds.
SOURCES = ["medmcqa", "mednli", "pubmedqa"]


@pytest.fixture(scope="module", autouse=True)
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One temporary Prefect server (its own SQLite database) for the module's tests; its API URL."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry calls: no network
        patch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
        with prefect_test_harness(server_startup_timeout=120):
            yield PREFECT_API_URL.value()


def files(root: Path, sub: str) -> list[Path]:
    return sorted(p.relative_to(root) for p in (root / sub).rglob("*") if p.is_file())


def assert_same_output(a: Path, b: Path) -> None:
    """Same files with the same bytes, but for each manifest's build time."""
    for sub in ("data", "tasks", "quarantine"):
        listed = files(a, sub)
        assert listed == files(b, sub) and listed, sub
        for f in listed:
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert files(a, "sources") == files(b, "sources")
    for f in files(a, "sources"):
        manifests = [json.loads((root / f).read_text()) for root in (a, b)]
        for manifest in manifests:
            del manifest["built_at"]
        assert manifests[0] == manifests[1], f
    assert (a / "README.md").read_bytes() == (b / "README.md").read_bytes()


def cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def raw_root(tmp_path: Path, sources: list[str] = SOURCES) -> Path:
    """A raw root holding only `sources` (links to their bundled samples): all 58 would be slow."""
    root = tmp_path / "raw"
    root.mkdir()
    for source_id in sources:
        (root / source_id).symlink_to(SAMPLES / source_id, target_is_directory=True)
    return root


def task_runs(state) -> dict[str, object]:
    """The task runs of a finished flow run, as the Prefect API recorded them, by task name."""
    flow_run_id = state.state_details.flow_run_id
    runs_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        # Task run states reach the server as events: wait until every run has a final state.
        for _ in range(300):
            runs = client.read_task_runs(flow_run_filter=runs_filter)
            if runs and all(r.state is not None and r.state.is_final() for r in runs):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"task runs of {flow_run_id} never reached a final state: {runs}")
    return {r.name.rsplit("-", 1)[0]: r for r in runs}


# --- the core stays free of Prefect -----------------------------------------------------------------


def test_the_core_imports_nothing_from_prefect() -> None:
    code = (
        "import pkgutil, importlib, sys, pipeline, converters\n"
        "for package in (pipeline, converters):\n"
        "    for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        if m.name != 'pipeline.flows':\n"
        "            importlib.import_module(m.name)\n"
        "assert 'pipeline.build' in sys.modules and 'pipeline.__main__' in sys.modules\n"
        "print(sorted(n for n in sys.modules if n == 'prefect' or n.startswith('prefect.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_retries_only_where_a_failure_can_pass() -> None:
    for conversion in (flows.convert_source, flows.convert_sources, flows.plan_upload):
        assert conversion.retries == 0, conversion.name
    for transient in (flows.finish_output, flows.llm_rewrite, flows.upload_to_hub):
        assert transient.retries > 0 and transient.retry_delay_seconds, transient.name
        assert transient.retry_condition_fn is flows._retry_if_transient


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionResetError("reset by peer"), True),
        (TimeoutError(), True),
        (OSError(5, "Input/output error"), True),
        (OSError(28, "No space left on device"), True),
        (FileNotFoundError(2, "gone"), False),
        (IsADirectoryError(21, "Is a directory"), False),
        (json.JSONDecodeError("Expecting value", "{", 1), False),  # a damaged local file
        (publish.PublishError("already exists and is PUBLIC"), False),
        (rewrite.RewriteError("no API key: set OPENAI_API_KEY"), False),
        (ValueError("a bad seeds file"), False),
    ],
)
def test_transient_errors(error: BaseException, transient: bool) -> None:
    assert flows._transient(error) is transient


def test_an_http_status_anywhere_in_the_chain_decides() -> None:
    class Status(Exception):
        def __init__(self, status_code: int):
            self.status_code = status_code

    for status, transient in ((500, True), (503, True), (429, True), (408, True), (401, False), (404, False)):
        try:
            try:
                raise Status(status)
            except Status:
                raise publish.PublishError("the Hub refused the upload") from None  # context kept, hidden
        except publish.PublishError as wrapped:
            assert flows._transient(wrapped) is transient, status


def test_a_malformed_model_answer_is_transient_but_a_malformed_file_is_not() -> None:
    def chained(*errors: BaseException) -> BaseException:
        for cause, effect in zip(errors[1:], errors, strict=False):
            effect.__cause__ = cause
        return errors[0]

    answer = json.JSONDecodeError("Expecting value", "<html>", 0)
    top = chained(rewrite.RewriteError("1 request(s) failed"), rewrite.RewriteError("t sample 3: malformed"), answer)
    assert flows._transient(top)
    assert not flows._transient(chained(ValueError("sources/x.json is damaged"), json.JSONDecodeError("x", "{", 1)))


# --- build flows ------------------------------------------------------------------------------------


def test_build_source_flow_writes_the_same_output_as_the_cli(tmp_path: Path) -> None:
    report = flows.build_source("pubmedqa", str(SAMPLES / "pubmedqa"), str(tmp_path / "flow"))
    assert report["status"] == "built" and report["reason"] == "first build"
    assert sum(sum(s.values()) for s in report["instances"].values()) > 0
    json.dumps(report)
    cli("build", "--source", "pubmedqa", "--raw-dir", str(SAMPLES / "pubmedqa"), "--out", str(tmp_path / "cli"))
    assert_same_output(tmp_path / "flow", tmp_path / "cli")
    assert list(validate.folder(tmp_path / "flow")) == []


def test_build_source_flow_fails_once_naming_a_malformed_source(tmp_path: Path) -> None:
    broken = tmp_path / "pubmedqa"
    shutil.copytree(SAMPLES / "pubmedqa", broken)
    (broken / "ori_pqal.json").write_bytes((SAMPLES / "pubmedqa" / "ori_pqal.json").read_bytes()[:300])
    state = flows.build_source("pubmedqa", str(broken), str(tmp_path / "out"), return_state=True)
    assert state.is_failed()
    failure = state.result(raise_on_failure=False)
    assert isinstance(failure, flows.SourceFailed) and failure.sources == ["pubmedqa"]
    assert "pubmedqa failed: ori_pqal.json: malformed JSON" in str(failure)
    runs = task_runs(state)
    assert runs["convert-source"].state.is_failed() and runs["convert-source"].run_count == 1  # not retried
    assert "finish-output" not in runs
    assert not (tmp_path / "out" / "sources" / "pubmedqa.json").exists()


def test_build_all_flow_builds_like_the_cli_then_reuses_then_forces(tmp_path: Path) -> None:
    raw, out = raw_root(tmp_path), tmp_path / "flow"
    first = flows.build_all(str(raw), str(out), workers=1)
    json.dumps(first)
    assert first["built"] == SOURCES and first["reused"] == [] and first["failed"] == []
    assert len(first["missing"]) == len(first["sources"]) - len(SOURCES)
    cli("build", "--all", "--raw-dir", str(raw), "--out", str(tmp_path / "cli"))  # a process pool
    assert_same_output(out, tmp_path / "cli")

    before = {f: (out / f).stat().st_mtime_ns for f in files(out, "data")}
    second = flows.build_all(str(raw), str(out), workers=1, return_state=True)
    result = second.result()
    assert result["reused"] == SOURCES and result["built"] == []
    reused = [r for r in result["sources"] if r["status"] == "reused"]
    assert {r["reason"] for r in reused} == {"unchanged: raw, code, seeds, config"}
    assert {f: (out / f).stat().st_mtime_ns for f in files(out, "data")} == before  # not rewritten
    assert {"convert-sources", "finish-output"} <= set(task_runs(second))
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
    table = next(a for a in artifact if a.key == "build-report").data
    rows = json.loads(table) if isinstance(table, str) else table
    assert sorted((r["source"], r["status"]) for r in rows) == [(s, "reused") for s in SOURCES]

    forced = flows.build_all(str(raw), str(out), force=True, workers=1)
    assert forced["built"] == SOURCES
    assert {r["reason"] for r in forced["sources"] if r["status"] == "built"} == {"forced"}
    assert_same_output(out, tmp_path / "cli")


def test_build_all_flow_fails_naming_the_failed_source_after_building_the_others(tmp_path: Path) -> None:
    raw = raw_root(tmp_path, ["mednli"])
    shutil.copytree(SAMPLES / "pubmedqa", raw / "pubmedqa")
    (raw / "pubmedqa" / "ori_pqal.json").write_text('{"12345": {"QUESTION": "truncated', encoding="utf-8")
    state = flows.build_all(str(raw), str(tmp_path / "out"), workers=1, return_state=True)
    assert state.is_failed()
    failure = state.result(raise_on_failure=False)
    assert isinstance(failure, flows.SourceFailed) and failure.sources == ["pubmedqa"]
    assert str(failure).startswith("1 source(s) failed: pubmedqa") and "ori_pqal.json" in str(failure)
    assert (tmp_path / "out" / "sources" / "mednli.json").is_file()  # the good source is written
    assert (tmp_path / "out" / "README.md").is_file()  # and the card, after the failure
    assert task_runs(state)["convert-sources"].run_count == 1


def test_build_all_flow_on_a_dask_cluster_matches_the_local_build(tmp_path: Path) -> None:
    from distributed import LocalCluster

    raw = raw_root(tmp_path, ["mednli", "pubmedqa"])
    local = flows.build_all(str(raw), str(tmp_path / "local"), workers=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as c:
        remote = flows.build_all(str(raw), str(tmp_path / "dask"), dask_address=c.scheduler_address)
    assert remote["built"] == local["built"] == ["mednli", "pubmedqa"]
    assert_same_output(tmp_path / "dask", tmp_path / "local")


# --- rewrite flow -----------------------------------------------------------------------------------

TASK = "toy_flow_task"
#: The last seed is the shortest, so the third request is the cheapest to estimate (see the budget test).
SEEDS = [
    "Decide whether the abstract supports the claim and answer yes or no, nothing else.",
    "You are a peer reviewer: does the passage back up the statement? Reply with yes or no only.",
    "Is the statement confirmed by the text? Output yes or no.",
]


def good(index: int) -> str:
    """A rewrite that passes every filter and is unlike any other index's."""
    return " ".join(random.Random(index).sample([f"word{n}" for n in range(400)], 14)) + ". Answer yes or no."


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    data = {"task": TASK, "required": ["yes", "no"], "definitions": SEEDS}
    (folder / f"{TASK}.yaml").write_text(json.dumps(data))  # JSON is YAML
    return folder


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flows' retries as deployed, minus the minutes of waiting between attempts."""
    for name in ("llm_rewrite", "upload_to_hub"):
        monkeypatch.setattr(flows, name, getattr(flows, name).with_options(retry_delay_seconds=0))


def rewrite_options(server: ChatServer, seeds_dir: Path, **options: object) -> dict:
    base = {"tasks": [TASK], "model": "test-model", "base_url": server.url, "seeds_dir": str(seeds_dir)}
    return base | {"concurrency": 1, "rpm": None, "max_retries": 0, "budget": None} | options


def test_rewrite_flow_retries_a_transient_failure_without_asking_twice(
    seeds_dir: Path, no_retry_delay: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with chat_server(lambda body, n: error(500) if n == 2 else completion(good(body["seed"]))) as server:
        state = flows.rewrite_instructions(**rewrite_options(server, seeds_dir), target=6, return_state=True)
        result = state.result()
    json.dumps(result)
    assert result["attempts"] == 2 and result["tasks"][TASK]["definitions"] == 6
    assert server.indices() == [0, 1, 1, 2]  # sample 0 was cached by the failed attempt: not asked again
    assert task_runs(state)["llm-rewrite"].run_count == 2
    entries, _ = rewrite_cache.load(rewrite_cache.path(TASK, seeds_dir))
    assert [e.index for e in entries] == [0, 1, 2]
    per_response = (
        60 * rewrite.RewriteConfig.price_input_per_1k + 25 * rewrite.RewriteConfig.price_output_per_1k
    ) / 1e3
    assert result["spent_usd"] == pytest.approx(3 * per_response)


def test_rewrite_flow_budget_holds_across_retries(
    seeds_dir: Path, no_retry_delay: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = rewrite.RewriteConfig(price_input_per_1k=1.0, price_output_per_1k=1.0)
    spent_each = config.cost(60, 25)
    estimates = [rewrite.estimate_cost(rewrite.Request(TASK, i, s, i), config) for i, s in enumerate(SEEDS)]
    assert estimates[2] <= min(estimates[:2])  # so a fresh budget per attempt would let sample 2 through
    budget = spent_each + max(estimates[:2]) + 1e-9
    with chat_server(lambda body, n: error(503) if n == 2 else completion(good(body["seed"]))) as server:
        options = rewrite_options(server, seeds_dir, budget=budget, price_in=1.0, price_out=1.0)
        result = flows.rewrite_instructions(**options, target=6)
    assert server.indices() == [0, 1, 1]  # the retry had the budget left over, not a new one
    assert result["attempts"] == 2 and result["budget_exhausted"]
    assert result["spent_usd"] == pytest.approx(2 * spent_each) and result["spent_usd"] <= budget


def test_rewrite_flow_does_not_retry_what_cannot_pass(
    seeds_dir: Path, no_retry_delay: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with chat_server(lambda body, n: error(401)) as server:
        state = flows.rewrite_instructions(**rewrite_options(server, seeds_dir), target=5, return_state=True)
    assert state.is_failed() and len(server.requests) == 1
    failure = state.result(raise_on_failure=False)
    assert isinstance(failure, rewrite.RewriteError) and "HTTP 401" in str(failure)
    assert task_runs(state)["llm-rewrite"].run_count == 1


def test_rewrite_flow_takes_its_key_from_a_secret_block_and_dry_runs_without_one(
    seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with chat_server(lambda body, n: completion(good(body["seed"]))) as server:
        planned = flows.rewrite_instructions(**rewrite_options(server, seeds_dir), target=5, dry_run=True)
        assert planned["dry_run"] and len(planned["planned"]) == 2 and server.requests == []
        keyless = flows.rewrite_instructions(**rewrite_options(server, seeds_dir), target=5, return_state=True)
        assert keyless.is_failed() and "no API key" in str(keyless.result(raise_on_failure=False))
        assert task_runs(keyless)["llm-rewrite"].run_count == 1
        Secret(value="sk-from-block").save("openai-key-test", overwrite=True)
        done = flows.rewrite_instructions(
            **rewrite_options(server, seeds_dir), target=5, api_key_secret="openai-key-test"
        )
    assert done["calls"] == 2 and server.indices() == [0, 1]


# --- publish flow -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_with_mimic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish") / "out"
    for source_id in ("pubmedqa", "mimic_iv"):
        build.build_source(get(source_id), SAMPLES / source_id, out)
    return out


def test_publish_flow_refuses_a_public_repo_with_mimic_tasks(built_with_mimic: Path) -> None:
    state = flows.publish("org/meds-ins", str(built_with_mimic), dry_run=True, return_state=True)
    assert state.is_failed()
    failure = state.result(raise_on_failure=False)
    assert isinstance(failure, publish.GateError) and "public repository org/meds-ins" in str(failure)
    mimic_tasks = sorted(json.loads((built_with_mimic / "sources" / "mimic_iv.json").read_text())["tasks"])
    assert mimic_tasks and all(t in str(failure) for t in mimic_tasks)
    assert task_runs(state)["plan-upload"].run_count == 1  # a refusal is final: no retries

    planned = flows.publish("org/meds-ins", str(built_with_mimic), exclude_restricted=True, dry_run=True)
    json.dumps(planned)
    assert planned["excluded"] == {"mimic_iv": mimic_tasks} and planned["commit_url"] is None
    assert planned["files"] and not [p for p in planned["files"] if "mimic" in p]


class FlakyHub(FakeHub):
    """The fake Hub answering the first request to create a repository with 503, as a Hub under load does."""

    @property
    def fail_with(self) -> tuple[int, str] | None:
        creates = [r for r in self.requests if r.path == "/api/repos/create"]
        if creates and self.requests[-1] is creates[0]:  # the request being answered is the first create
            return (503, "Service Unavailable")
        return self._fail_with

    @fail_with.setter
    def fail_with(self, value: tuple[int, str] | None) -> None:
        self._fail_with = value


def test_publish_flow_uploads_and_retries_a_hub_hiccup(
    built_with_mimic: Path, no_retry_delay: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(built_with_mimic, out)
    with FlakyHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", hub.url)
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
        monkeypatch.setenv("HF_TOKEN", "hf_" + "x" * 34)
        state = flows.publish("org/meds-ins", str(out), exclude_restricted=True, message="test", return_state=True)
        result = state.result()
        uploaded = set(hub.repos["org/meds-ins"].files)
    assert result["commit_url"] and set(result["files"]) | {"README.md"} == uploaded
    assert not [p for p in uploaded if "mimic" in p]
    assert [r.path for r in hub.requests].count("/api/repos/create") == 2
    assert task_runs(state)["upload-to-hub"].run_count == 2


# --- prefect.yaml -----------------------------------------------------------------------------------


def test_prefect_deploy_accepts_prefect_yaml_and_a_worker_runs_a_deployment(prefect_api: str, tmp_path: Path) -> None:
    """The README's commands, against the test's server: create the pool, deploy every deployment in
    prefect.yaml, read them back through the API, then let a process worker run build-mimic-iv."""
    env = os.environ | {"PREFECT_API_URL": prefect_api, "MEDS_INS_HOME": str(ROOT)}
    for command in (["work-pool", "create", "meds-ins", "--type", "process"], ["--no-prompt", "deploy", "--all"]):
        done = subprocess.run(["prefect", *command], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    with get_client(sync_client=True) as client:
        deployed = {d.name: d for d in client.read_deployments()}
        flow_names = {d.name: client.read_flow(d.flow_id).name for d in deployed.values()}
    assert {"build-all", "build-mimic-iv", "rewrite", "publish"} <= set(deployed)
    assert set(deployed) == {d["name"] for d in config["deployments"]}
    assert flow_names["build-all"] == "build-all" and flow_names["build-mimic-iv"] == "build-source"
    assert flow_names["rewrite"] == "rewrite-instructions" and flow_names["publish"] == "publish"
    for deployment in deployed.values():
        assert deployment.work_pool_name == "meds-ins"
        assert deployment.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]
    weekly = deployed["build-all"]
    assert [(s.schedule.cron, s.schedule.timezone) for s in weekly.schedules] == [("0 3 * * 1", "UTC")]
    assert weekly.parameters == {"raw_root": "data/raw", "out": "data/output"}
    assert set(weekly.parameter_openapi_schema["properties"]) >= {"raw_root", "out", "force", "workers", "dask_address"}
    mimic = deployed["build-mimic-iv"]
    assert mimic.parameters["source_id"] == "mimic_iv" and "raw_dir" in mimic.parameters
    assert deployed["rewrite"].parameters["tasks"] == "all" and not deployed["rewrite"].schedules
    assert "repo_id" in deployed["publish"].parameter_openapi_schema["required"]

    from prefect.deployments import run_deployment

    out = tmp_path / "out"
    parameters = {"raw_dir": str(SAMPLES / "mimic_iv"), "out": str(out)}
    flow_run = run_deployment("build-source/build-mimic-iv", parameters=parameters, timeout=0)
    worker = subprocess.run(
        ["prefect", "worker", "start", "--pool", "meds-ins", "--run-once"],
        cwd=tmp_path,  # the deployment's pull step, not the worker's folder, decides where the flow runs
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    with get_client(sync_client=True) as client:
        finished = client.read_flow_run(flow_run.id)
    assert finished.state.is_completed(), worker.stdout + worker.stderr
    manifest = json.loads((out / "sources" / "mimic_iv.json").read_text())
    assert manifest["tasks"] and list(validate.folder(out)) == []
