"""`python -m pipeline publish`: the license gate, the dry-run plan, the dataset card, real uploads through
huggingface_hub to the fake Hub of tests/hub_server.py (127.0.0.1), and the token kept out of everything
printed, logged or written.

The output folder is built from the bundled samples of two credentialed sources (MIMIC-IV-Note, MedNLI),
one registration-only source (SEER) and two open ones (PubMedQA, MeQSum)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import SAMPLES
from hub_server import FakeHub, Repo

from pipeline import card, flat, publish, redact
from pipeline.__main__ import main
from pipeline.build import build_source
from pipeline.registry import get

RESTRICTED = {"mimic_iv": "credentialed", "mednli": "credentialed", "seer": "registration"}
OPEN = ("meqsum", "pubmedqa")
TOKEN = "hf_PublishTestTokenDoNotLeak0123456789"
MASKED = "hf_" + redact.MASK


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "out"
    for source_id in [*RESTRICTED, *OPEN]:
        report = build_source(get(source_id), SAMPLES / source_id, out)
        assert report.status == "built", report.summary()
    return out


@pytest.fixture
def out(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built folder, for tests that change it or stage uploads beside it."""
    copy = tmp_path / "work" / "out"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The fake Hub, with huggingface_hub pointed at it, online, and authenticated by HF_TOKEN only
    (no `hf auth login` file of the machine running the tests is read)."""
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", server.url)
        # conftest puts the Hub libraries offline for every other test; these talk to a loopback hub.
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
        monkeypatch.setattr("huggingface_hub.constants.HF_STORED_TOKENS_PATH", str(tmp_path / "hf-home" / "stored"))
        monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        yield server


def manifest(out: Path, source_id: str) -> dict:
    return json.loads((out / "sources" / f"{source_id}.json").read_text(encoding="utf-8"))


def tasks_of(out: Path, source_id: str) -> list[str]:
    return sorted(manifest(out, source_id)["tasks"])


def files_of(out: Path, source_id: str) -> set[str]:
    """Every file of the folder that belongs to one source: manifest, quarantine, task files, shards."""
    found = {f"sources/{source_id}.json", f"quarantine/{source_id}.jsonl"}
    for task_id in tasks_of(out, source_id):
        found.add(f"tasks/{task_id}.json")
        found |= {p.relative_to(out).as_posix() for p in (out / "data" / task_id).glob("*")}
    return {f for f in found if (out / f).is_file()}


def planned(stdout: str) -> dict[str, str]:
    """The dry run's `local -> repository path` lines as {repository path: local}."""
    pairs = [line.strip().rsplit(" -> ", 1) for line in stdout.splitlines() if line.startswith("  ") and " -> " in line]
    return {repo_path: local for local, repo_path in pairs}


def front_matter(card_text: str) -> dict:
    return yaml.safe_load(card_text.split("---\n")[1])


# --- the gate ---------------------------------------------------------------------------------------


def test_public_dry_run_is_refused_listing_every_restricted_task_with_source_and_reason(
    built: Path, hub: FakeHub, capsys: pytest.CaptureFixture
) -> None:
    assert main(["publish", str(built), "--repo-id", "org/meds", "--dry-run"]) == 1
    said = capsys.readouterr()
    assert said.out == ""  # no plan is printed for a refused upload
    assert "refusing to publish to the public repository org/meds" in said.err
    listed = {line.split()[1]: line for line in said.err.splitlines() if line.startswith("  - ")}
    expected = {t: s for s in RESTRICTED for t in tasks_of(built, s)}
    assert set(listed) == set(expected) and len(expected) > 20
    for task_id, source_id in expected.items():
        line = listed[task_id]
        assert f"source {source_id}," in line and f"{RESTRICTED[source_id]} access" in line
        assert f"license: {manifest(built, source_id)['source']['license']}" in line
    assert "credentialed: credentialed access: its data use agreement forbids sharing" in said.err
    assert "registration: registration-only access: the provider's terms forbid redistribution" in said.err
    assert "--exclude-restricted" in said.err
    assert hub.requests == []  # the gate needs neither the network nor a token

    # The DUA flag does not open a public repository.
    assert main(["publish", str(built), "--repo-id", "org/meds", "--dry-run", publish.DUA_FLAG]) == 1
    assert "refusing to publish to the public repository" in capsys.readouterr().err


def test_private_repository_needs_the_dua_flag_and_then_warns_per_source(
    built: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["publish", str(built), "--repo-id", "org/meds", "--private", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "even as a private repository" in err and publish.DUA_FLAG in err
    assert all(f"  - {t} (source" in err for s in RESTRICTED for t in tasks_of(built, s))

    argv = ["publish", str(built), "--repo-id", "org/meds", "--private", publish.DUA_FLAG, "--dry-run"]
    assert main([*argv, "--with-quarantine"]) == 0
    said = capsys.readouterr()
    warnings = [line for line in said.err.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == len(RESTRICTED)
    for source_id in RESTRICTED:
        license = manifest(built, source_id)["source"]["license"]
        assert any(f"tasks of {source_id} ({license})" in w for w in warnings)
    files = planned(said.out)
    assert "to the private dataset repository org/meds" in said.out
    for source_id in RESTRICTED:  # the data goes, its quarantine (raw values) never does
        assert files_of(built, source_id) - set(files) == {f"quarantine/{source_id}.jsonl"}
    assert {f"quarantine/{s}.jsonl" for s in OPEN} <= set(files)


def test_exclude_restricted_dry_run_lists_exactly_the_open_files(built: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["publish", str(built), "--repo-id", "org/meds", "--exclude-restricted", "--dry-run"]) == 0
    said = capsys.readouterr()
    files = planned(said.out)
    expected = {f for s in OPEN for f in files_of(built, s) if not f.startswith("quarantine/")}
    assert set(files) == expected | {"README.md"}
    assert files.pop("README.md").startswith("(dataset card generated from 2 source manifests)")
    assert all(Path(local) == built / repo_path for repo_path, local in files.items())
    for source_id in RESTRICTED:
        for path in files_of(built, source_id):
            assert path not in said.out, path
        line = f"excluded (restricted source {source_id}): {', '.join(tasks_of(built, source_id))}"
        assert line in said.out.splitlines()
    assert f"{len(expected) + 1} files" in said.out.splitlines()[0]
    assert "not uploaded: quarantine/" in said.out

    argv = ["publish", str(built), "--repo-id", "org/meds", "--exclude-restricted", "--with-quarantine", "--dry-run"]
    assert main(argv) == 0
    with_quarantine = set(planned(capsys.readouterr().out))
    assert with_quarantine - set(files) == {"README.md", *(f"quarantine/{s}.jsonl" for s in OPEN)}


def test_exclude_restricted_card_names_only_what_is_uploaded(built: Path) -> None:
    plan = publish.plan(built, "org/meds", exclude_restricted=True)
    configs = {c["config_name"] for c in front_matter(plan.card_text)["configs"]}
    assert configs == {"all", *(t for s in OPEN for t in tasks_of(built, s))}
    uploaded_part, not_included = plan.card_text.split("## Not included")
    for source_id in RESTRICTED:
        assert f"`{source_id}`" not in uploaded_part and f"- `{source_id}`:" in not_included
        for task_id in tasks_of(built, source_id):
            assert task_id not in uploaded_part and f"`{task_id}`" in not_included
    assert "## Restricted data" not in plan.card_text
    instances = sum(
        n["instances"] for s in OPEN for t in manifest(built, s)["tasks"].values() for n in t["splits"].values()
    )
    assert f"6 tasks, {instances} instances, from 2 sources" in plan.card_text


def test_card_lists_every_source_with_its_terms_and_counts(built: Path) -> None:
    plan = publish.plan(built, "org/meds", private=True, dua_permits_redistribution=True)
    rows = {
        line.split("(`")[1].split("`")[0]: line for line in plan.card_text.splitlines() if "| " in line and "(`" in line
    }
    citations = plan.card_text.split("## Citations")[1]
    for source_id in [*RESTRICTED, *OPEN]:
        m = manifest(built, source_id)
        source = m["source"]
        cells = [c.strip() for c in rows[source_id].strip("|").split("|")]
        instances = sum(n["instances"] for t in m["tasks"].values() for n in t["splits"].values())
        assert cells[0] == f"{source['name']} (`{source_id}`)"
        assert cells[1] == source["license"] and source["license"]
        assert cells[2] == card.access_note(RESTRICTED.get(source_id, "open")) == card.access_note(source["access"])
        built_tasks = [t for t in m["tasks"].values() if any(n["instances"] for n in t["splits"].values())]
        assert (cells[3], cells[4]) == (str(len(built_tasks)), str(instances))
        assert cells[6] == source["homepage"] and source["homepage"].startswith("https://")
        assert f"- **{source['name']}** (`{source_id}`): {source['citation']}" in citations and source["citation"]
    assert "## Restricted data" in plan.card_text
    assert all(f"`{s}`" in plan.card_text.split("## Restricted data")[1] for s in RESTRICTED)


def test_a_manifest_cannot_open_a_restricted_source(out: Path) -> None:
    path = out / "sources" / "mimic_iv.json"
    edited = manifest(out, "mimic_iv")
    edited["source"]["access"] = "open"  # an old or hand-edited manifest: the catalogue says credentialed
    path.write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(publish.GateError) as refused:
        publish.plan(out, "org/meds", exclude_restricted=False)
    assert {t for t, s, access, _ in refused.value.offending if s == "mimic_iv" and access == "credentialed"} == set(
        tasks_of(out, "mimic_iv")
    )
    assert "mimic_iv" in publish.plan(out, "org/meds", exclude_restricted=True).excluded

    # A source the catalogue does not know, with an access level the gate does not know: restricted.
    unknown = manifest(out, "meqsum")
    unknown["source"].update(id="local_corpus", access="members-only")
    (out / "sources" / "local_corpus.json").write_text(json.dumps(unknown), encoding="utf-8")
    with pytest.raises(publish.GateError, match="access level 'members-only' is not one the gate knows"):
        publish.plan(out, "org/meds", private=True)

    (out / "sources" / "local_corpus.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(publish.PublishError, match=r"sources/local_corpus\.json: not a readable build manifest"):
        publish.plan(out, "org/meds", exclude_restricted=True)


def test_a_shard_missing_from_the_folder_stops_the_plan(out: Path) -> None:
    shard = next((out / "data" / "pubmedqa_multiple_choice").glob("train-*.parquet"))
    shard.unlink()
    with pytest.raises(publish.PublishError, match=f"the manifests list data/pubmedqa_multiple_choice/{shard.name}"):
        publish.plan(out, "org/meds", exclude_restricted=True)
    with pytest.raises(publish.PublishError, match="--repo-id must be ORG/NAME"):
        publish.plan(out, "meds", exclude_restricted=True)


def test_flat_export_goes_only_when_every_row_in_it_is_uploaded(out: Path) -> None:
    flat.write_flat(out, shots=0, seed=0)
    excluded = publish.plan(out, "org/meds", exclude_restricted=True)
    assert not any(p.startswith("flat/") for p in excluded.files)
    assert "flat" not in {c["config_name"] for c in front_matter(excluded.card_text)["configs"]}
    assert any(
        line.startswith("not uploaded: flat/ (it holds rows of mednli, mimic_iv, seer") for line in excluded.lines()
    )

    everything = publish.plan(out, "org/meds", private=True, dua_permits_redistribution=True)
    shards = {p.relative_to(out).as_posix() for p in (out / "flat").rglob("*") if p.is_file()}
    assert shards and shards <= set(everything.files)
    assert "flat" in {c["config_name"] for c in front_matter(everything.card_text)["configs"]}


# --- uploads through huggingface_hub -----------------------------------------------------------------


def test_upload_sends_exactly_the_plan_and_deletes_stale_remote_files(
    out: Path, hub: FakeHub, capsys: pytest.CaptureFixture
) -> None:
    stale = {"data/old_task/train-00000-of-00001.parquet": b"old", "tasks/old_task.json": b"{}"}
    hub.repos["org/meds"] = Repo(files={**stale, "notes/keep.txt": b"not ours"})
    hub.accepted_tokens = {TOKEN}
    assert main(["publish", str(out), "--repo-id", "org/meds", "--exclude-restricted", "--message", "v1"]) == 0
    assert "published: " in capsys.readouterr().out

    plan = publish.plan(out, "org/meds", exclude_restricted=True)
    repo = hub.repos["org/meds"]
    assert set(repo.files) == {*plan.files, "README.md", "notes/keep.txt"}
    assert all(repo.files[path] == local.read_bytes() for path, local in plan.files.items())
    assert repo.files["README.md"].decode() == plan.card_text
    assert not any(s in path for path in repo.files for s in RESTRICTED)
    deleted = {line["value"]["path"] for c in repo.commits for line in c["lines"] if line["key"] == "deletedFile"}
    assert deleted == set(stale)
    assert repo.commits[0]["lines"][0]["value"]["summary"].startswith("v1")

    api_calls = [r for r in hub.requests if r.path.startswith("/api/repos") or "/api/datasets/" in r.path]
    called = {(r.method, r.path.split("?")[0]) for r in api_calls}
    expected = {"/api/repos/create", "/api/datasets/org/meds/preupload/main", "/api/datasets/org/meds/commit/main"}
    assert {("POST", path) for path in expected} <= called
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in api_calls)
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # the staging folder is gone


def test_private_upload_creates_a_private_repository_and_never_uses_a_public_one(
    out: Path, hub: FakeHub, capsys: pytest.CaptureFixture
) -> None:
    argv = ["publish", str(out), "--private", publish.DUA_FLAG, "--with-quarantine"]
    assert main([*argv, "--repo-id", "org/dua"]) == 0
    repo = hub.repos["org/dua"]
    assert repo.private
    assert files_of(out, "mimic_iv") - set(repo.files) == {"quarantine/mimic_iv.jsonl"}
    assert "quarantine/pubmedqa.jsonl" in repo.files

    hub.repos["org/open"] = Repo(private=False)
    assert main([*argv, "--repo-id", "org/open"]) == 1
    assert "org/open already exists and is PUBLIC" in capsys.readouterr().err
    assert hub.repos["org/open"].commits == [] and hub.repos["org/open"].files == {}


def test_token_from_hf_auth_login_when_the_environment_has_none(
    out: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    argv = ["publish", str(out), "--repo-id", "org/meds", "--exclude-restricted"]
    assert main(argv) == 1
    assert "no Hugging Face token: set HF_TOKEN" in capsys.readouterr().err
    assert hub.requests == []

    login = tmp_path / "hf-home" / "token"  # what `hf auth login` writes
    login.parent.mkdir(parents=True, exist_ok=True)
    login.write_text(TOKEN)
    hub.accepted_tokens = {TOKEN}
    assert main(argv) == 0
    assert TOKEN not in "".join(capsys.readouterr())
    assert hub.repos["org/meds"].files


def test_no_token_option_on_the_command_line(built: Path, capsys: pytest.CaptureFixture) -> None:
    for argv in (["--token", TOKEN], [f"--token={TOKEN}"]):
        with pytest.raises(SystemExit) as stopped:
            main(["publish", str(built), "--repo-id", "org/meds", "--dry-run", *argv])
        assert stopped.value.code == 2
        said = capsys.readouterr()
        assert "--token is not accepted" in said.err and "HF_TOKEN" in said.err
        assert TOKEN not in said.out + said.err
    with pytest.raises(SystemExit):
        main(["publish", "--help"])
    assert "--token" not in capsys.readouterr().out


# --- secrets -----------------------------------------------------------------------------------------


def test_token_never_printed_logged_or_written_when_the_hub_echoes_it(
    out: Path,
    hub: FakeHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    log_file = tmp_path / "publish.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    argv = ["publish", str(out), "--repo-id", "org/meds", "--exclude-restricted"]
    try:
        hub.accepted_tokens = {"hf_SomeoneElsesToken000000000000000"}  # 401, echoing the header it was sent
        assert main(argv) == 1
        first = capsys.readouterr()
        assert "401" in first.err and f"Bearer {MASKED}" in first.err

        hub.accepted_tokens, hub.fail_with = None, (500, "internal error while checking {authorization}")
        assert main(argv) == 1
        second = capsys.readouterr()
        assert "(HTTP 500)" in second.err and f"internal error while checking Bearer {MASKED}" in second.err
        assert "Run the same command again later" in second.err

        # An error nobody foresaw still prints its traceback, masked.
        hub.fail_with = None

        def broken(*args, **kwargs):
            raise RuntimeError(f"unexpected failure with token={TOKEN} at https://user:{TOKEN}@example.org/x")

        monkeypatch.setattr("huggingface_hub.HfApi.upload_folder", broken)
        assert main(argv) == 1
        third = capsys.readouterr()
        assert "Traceback" in third.err and "RuntimeError: unexpected failure with token=hf_***" in third.err

        # Libraries' log records are masked whichever logger makes them and whichever handler writes them.
        logging.getLogger("huggingface_hub.utils._http").warning("sent Authorization: Bearer %s", TOKEN)
        logging.getLogger("httpx2.deep.child").error("request to https://x.org/?token=%s failed", TOKEN)
        try:
            raise ValueError(f"inside {TOKEN}")
        except ValueError:
            logging.getLogger("pipeline.publish").exception("caught")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()

    printed = first.out + first.err + second.out + second.err + third.out + third.err
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    written = log_file.read_text(encoding="utf-8")
    assert TOKEN not in printed and TOKEN not in logged and TOKEN not in written
    assert MASKED in logged and MASKED in written and "ValueError: inside hf_***" in written
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert not hub.repos.get("org/meds", Repo()).files  # nothing was uploaded by the failed attempts


def test_mask_covers_login_files_and_the_usual_shapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved, stored, refresh = "saved-login-secret-1234", "stored-secret-5678", "refresh-secret-9012"
    (tmp_path / "token").write_text(saved + "\n")
    (tmp_path / "stored").write_text(f"[work]\nhf_token = {stored}\nrefresh_token = {refresh}\n")
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.setattr("huggingface_hub.constants.HF_STORED_TOKENS_PATH", str(tmp_path / "stored"))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    text = redact.mask(f"a {saved} b {stored} c {refresh} d {TOKEN}_suffix e x%3D{TOKEN[:-3]}abc")
    assert not any(secret in text for secret in (saved, stored, refresh, TOKEN, TOKEN[3:20]))
    assert text.count(redact.MASK) == 5
    assert redact.mask("Authorization: Bearer abc.def-123") == "Authorization: Bearer ***"
    assert redact.mask("GET https://me:pw@host/x?access_token=zz9&x=1") == "GET https://***@host/x?access_token=***&x=1"
    assert redact.mask('{"token": "abcdefghijklmnopqrstu"}') == '{"token": "***"}'
    for prose in ("3 tokens: fine", "no Hugging Face token: set HF_TOKEN", "token budget: 500"):
        assert redact.mask(prose) == prose


def test_hub_errors_keep_their_status_and_an_unreachable_hub_is_a_connection_error(
    out: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a retry policy (pipeline.flows) reads: the HTTP status, or a ConnectionError; never the
    library's exception chained, whose message may quote the token."""
    plan = publish.plan(out, "org/meds", exclude_restricted=True)
    hub.fail_with = (503, "busy, {authorization}")
    with pytest.raises(publish.PublishError) as refused:
        publish.upload(plan)
    assert refused.value.status_code == 503 and refused.value.__cause__ is None
    assert refused.value.__suppress_context__ and TOKEN not in str(refused.value)

    with FakeHub() as closed:
        url = closed.url  # a port that nothing listens on once this server is gone
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", url)
    with pytest.raises(publish.HubUnreachable, match=f"could not reach the Hub at {url}") as unreachable:
        publish.upload(plan)
    assert isinstance(unreachable.value, ConnectionError)
