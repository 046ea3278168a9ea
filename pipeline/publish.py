"""`python -m pipeline publish OUT --repo-id ORG/NAME`: an output folder uploaded to a Hugging Face Hub
dataset repository, behind a license gate.

The gate reads the output's own manifests (`sources/<id>.json` carries each source's access level and
license), so it judges what is actually in the folder, not what a flag claims. A manifest's access
level is checked against the catalogue's for that source and the stricter one wins (a manifest
written by an older build, or edited by hand, cannot open a credentialed source); an access level
the gate does not know is treated as restricted.

- Tasks built from registration-only or credentialed sources are refused for a PUBLIC repository,
  always, with the list of offending tasks and why. `--exclude-restricted` publishes the rest: their
  data/, tasks/, sources/ and quarantine/ files are left out and the card is regenerated without them.
- A PRIVATE repository does not make them shareable either. Uploading hands the data to a third party
  (Hugging Face) and lets every member of the repository read it. The PhysioNet Credentialed Health
  Data Use Agreement (MIMIC-IV, MIMIC-CXR, MIMIC-IV-ED, MedNLI) forbids sharing the data with anyone
  not bound by their own agreement, and BioASQ's and SEER's terms forbid redistribution. So restricted
  tasks are refused for private repositories too, unless the user states, with
  `--i-have-a-dua-permitting-redistribution`, that an agreement covers it (e.g. an institutional
  arrangement in which only credentialed members can read the repository); even then a warning naming
  each restricted source and its terms is printed, and the repository must really be private.

What goes to the Hub: the dataset card README.md (regenerated from the manifests of what is uploaded,
so its configs never name a task that is not there), data/<task>/*.parquet as listed in the manifests,
tasks/<task>.json and sources/<source>.json, and the flat SFT export flat/ when every row in it comes
from an uploaded source (it mixes all tasks' rows, so with a source left out it stays local). Not by
default: quarantine/ (rejected raw records with their raw values: a build diagnostic, not the dataset;
`--with-quarantine` adds it for open sources, and a restricted source's quarantine never leaves the
machine, even under the DUA flag), reports/ and stats files (diagnostics of the local build, which
would also describe excluded tasks). Remote files under data/, tasks/, sources/, quarantine/ and flat/
that are not in the upload are deleted by the same upload, so a task re-sharded into fewer files, or
a task now excluded, leaves nothing stale for `load_dataset` to read.

The upload is `HfApi.upload_folder` on a staged folder of hard links (copies where the file system
cannot link). With hf_xet installed (huggingface_hub's default) that is the library's large-folder
upload: files are committed in several batches and re-running the same command resumes an interrupted
upload (committed files are skipped, uploaded chunks deduplicated). Authentication is the library's:
HF_TOKEN or `hf auth login`; the token is never taken on the command line, printed or written, and
messages and log records pass through `pipeline.redact`. `--dry-run` prints exactly which local file
goes to which repository path and uploads nothing (it needs no token and no network).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import card, catalogue, flat
from pipeline.redact import mask

#: Access levels from least to most restricted; anything else is unknown, and restricted.
ACCESS_LEVELS = ("open", "registration", "credentialed")
RESTRICTED = card.RESTRICTED
SYNCED_FOLDERS = ("data/*", "tasks/*", "sources/*", "quarantine/*", f"{flat.FOLDER}/*")
DUA_FLAG = "--i-have-a-dua-permitting-redistribution"
REASONS = {
    "credentialed": "credentialed access: its data use agreement forbids sharing the data, or anything derived "
    "that contains it, with anyone not bound by their own agreement",
    "registration": "registration-only access: the provider's terms forbid redistribution",
}
HINTS = {
    401: "\nThe token was not accepted: check HF_TOKEN, or log in again with `hf auth login`.",
    403: "\nThe token may not write to this namespace: it needs write access to the organisation of --repo-id.",
}
LOCAL_ONLY = "reports/, stats files and build state stay local (diagnostics of this build, not the dataset)"


class RefuseTokenOption(argparse.Action):
    """`--token` on the publish command line: refused, without echoing the value (argparse would
    print an unknown option's value in its error), because a token typed there stays in the shell
    history and shows in `ps`."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        parser.error(
            f"{option_string} is not accepted: a token on the command line stays in your shell history. "
            "Set HF_TOKEN in the environment or run `hf auth login` once."
        )


class PublishError(Exception):
    """The output folder cannot be published as asked; the message says why and what to do.
    `status_code` is the Hub's HTTP status when the Hub refused (retry policies read it)."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class HubUnreachable(PublishError, ConnectionError):
    """The Hub could not be reached (connection refused, timeout): trying again later may work."""


class GateError(PublishError):
    """Restricted tasks in an upload that may not carry them."""

    def __init__(self, message: str, offending: list[tuple[str, str, str, str]]):
        super().__init__(message)
        self.offending = offending  # (task_id, source_id, access, license)


@dataclass
class Plan:
    """Exactly what an upload would send: `files` maps repository paths to local files; the card is
    generated (`card_text`) and goes to README.md."""

    out: Path
    repo_id: str
    private: bool
    files: dict[str, Path] = field(default_factory=dict)
    card_text: str = ""
    sources: list[str] = field(default_factory=list)
    excluded: dict[str, list[str]] = field(default_factory=dict)  # restricted source -> its tasks left out
    warnings: list[str] = field(default_factory=list)
    local_only: list[str] = field(default_factory=list)  # what stays on this machine, and why

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files.values()) + len(self.card_text.encode())

    def lines(self) -> list[str]:
        """The dry-run listing: one `local -> repo path` line per file, README.md first."""
        visibility = "private" if self.private else "public"
        lines = [
            f"{len(self.files) + 1} files ({self.total_bytes / 1e6:.1f} MB) to the {visibility} dataset repository "
            f"{self.repo_id}:",
            f"  (dataset card generated from {len(self.sources)} source manifests) -> README.md",
        ]
        lines += [f"  {local} -> {repo_path}" for repo_path, local in sorted(self.files.items())]
        for source_id, tasks in sorted(self.excluded.items()):
            lines.append(f"excluded (restricted source {source_id}): {', '.join(tasks) or 'no tasks'}")
        lines += [f"not uploaded: {note}" for note in self.local_only]
        lines.append(
            "remote files under " + ", ".join(f.removesuffix("/*") + "/" for f in SYNCED_FOLDERS) + " that are not "
            "listed here will be deleted"
        )
        return lines


def effective_access(source: dict) -> str:
    """The stricter of the access level the manifest records and the catalogue's for that source; an
    unknown level is returned as it is (and is restricted, since it is not "open")."""
    levels = [str(source.get("access"))]
    listed = catalogue.sources().get(source["id"])
    if listed is not None:
        levels.append(listed.access)
    unknown = [level for level in levels if level not in ACCESS_LEVELS]
    return unknown[0] if unknown else max(levels, key=ACCESS_LEVELS.index)


def reason(access: str) -> str:
    return REASONS.get(access, f"access level {access!r} is not one the gate knows, so it is treated as restricted")


def plan(
    out: Path,
    repo_id: str,
    *,
    private: bool = False,
    exclude_restricted: bool = False,
    with_quarantine: bool = False,
    dua_permits_redistribution: bool = False,
) -> Plan:
    """Decide what goes where, enforcing the license gate. Raises GateError or PublishError."""
    out = Path(out)
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PublishError(f"--repo-id must be ORG/NAME, got {repo_id!r}")
    manifests = _manifests(out)
    if not manifests:
        raise PublishError(f"{out}: no sources/<id>.json manifests; build into it first (python -m pipeline build)")
    restricted = [m for m in manifests if m["source"]["access"] != "open"]
    offending = [
        (task_id, m["source"]["id"], m["source"]["access"], m["source"]["license"])
        for m in restricted
        for task_id in sorted(m["tasks"])
    ]
    result = Plan(out=out, repo_id=repo_id, private=private)
    if restricted and exclude_restricted:
        result.excluded = {m["source"]["id"]: sorted(m["tasks"]) for m in restricted}
        manifests = [m for m in manifests if m["source"]["access"] == "open"]
        if not manifests:
            raise PublishError(f"{out}: every source in it is restricted; nothing is left to publish")
    elif restricted:
        _gate(restricted, offending, repo_id, private, dua_permits_redistribution, result)
    for manifest in manifests:
        source = manifest["source"]
        result.sources.append(source["id"])
        _add(result, f"sources/{source['id']}.json")
        for task_id, info in sorted(manifest["tasks"].items()):
            shards = [f for split in info.get("splits", {}).values() for f in split.get("files", [])]
            if shards:
                _add(result, f"tasks/{task_id}.json")
            for shard in shards:
                _add(result, shard)
        quarantine = f"quarantine/{source['id']}.jsonl"
        if with_quarantine and source["access"] == "open" and (out / quarantine).is_file():
            _add(result, quarantine)
    if not with_quarantine and (out / "quarantine").is_dir():
        result.local_only.append("quarantine/ (rejected raw records with their raw values; --with-quarantine adds it)")
    flat_configs = _add_flat(result, set(result.sources))
    result.local_only.append(LOCAL_ONLY)
    result.card_text = card.render(manifests, flat_configs, excluded=result.excluded)
    return result


def _manifests(out: Path) -> list[dict]:
    """The folder's manifests, each checked for what the gate reads, with the effective access level."""
    found = []
    for path in sorted((out / "sources").glob("*.json")) if (out / "sources").is_dir() else []:
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            source, tasks = manifest["source"], manifest["tasks"]
            missing = [k for k in ("id", "access", "license") if k not in source]
            if missing or not isinstance(tasks, dict):
                raise ValueError(f"no {', '.join(missing) or 'tasks mapping'}")
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise PublishError(
                f"{path}: not a readable build manifest ({type(error).__name__}: {error}); rebuild that source "
                "before publishing"
            ) from None
        found.append({**manifest, "source": {**source, "access": effective_access(source)}})
    return found


def _gate(restricted, offending, repo_id: str, private: bool, dua: bool, result: Plan) -> None:
    listing = "\n".join(
        f"  - {task} (source {source}, {access} access, license: {license})"
        for task, source, access, license in offending
    )
    why = "\n".join(f"  {access}: {reason(access)}" for access in sorted({o[2] for o in offending}))
    if not private:
        raise GateError(
            f"refusing to publish to the public repository {repo_id}: {len(offending)} tasks come from sources "
            f"whose terms forbid redistribution:\n{listing}\nwhy:\n{why}\n"
            "Publish the other tasks with --exclude-restricted. Restricted tasks never go to a public repository.",
            offending,
        )
    if not dua:
        raise GateError(
            f"refusing to upload {len(offending)} restricted tasks to {repo_id}, even as a private repository: "
            "uploading gives the data to a third party (Hugging Face) and to every reader of the repository, which "
            f"these terms forbid:\n{listing}\nwhy:\n{why}\n"
            f"Use --exclude-restricted, or, only if an agreement explicitly allows this sharing, {DUA_FLAG}.",
            offending,
        )
    for manifest in restricted:
        source = manifest["source"]
        result.warnings.append(
            f"WARNING: uploading {len(manifest['tasks'])} tasks of {source['id']} ({source['license']}) to the "
            f"private repository {repo_id} on the strength of {DUA_FLAG}. Only people covered by that agreement "
            "may ever be given access to the repository; its quarantine file stays local."
        )


def _add(result: Plan, rel: str) -> None:
    local = result.out / rel
    if not local.is_file():
        raise PublishError(
            f"{result.out}: the manifests list {rel}, which is missing; the folder is incomplete (rebuild the source, "
            "or run python -m pipeline decontaminate to bring the manifests in line)"
        )
    result.files[rel] = local


def _add_flat(result: Plan, uploaded: set[str]) -> list[dict]:
    """Add the flat export if every one of its rows comes from an uploaded source; its card configs."""
    root = result.out / flat.FOLDER
    shards = sorted(root.glob("*/*.parquet")) if root.is_dir() else []
    if not shards:
        return []
    sources = _flat_sources(shards)
    foreign = sorted(sources - uploaded)
    if foreign:
        result.local_only.append(
            f"{flat.FOLDER}/ (it holds rows of {', '.join(foreign)}, which this upload leaves out; it is one export "
            "of every task's rows and cannot be split here. Build it without them with --flat to publish it)"
        )
        return []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):  # the shards and the export's settings
        _add(result, path.relative_to(result.out).as_posix())
    return flat.card_configs(result.out)


def _flat_sources(shards: list[Path]) -> set[str]:
    """The source ids in the flat shards' source_id column, read a batch at a time."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found: set[str] = set()
    for shard in shards:
        try:
            for batch in pq.ParquetFile(shard).iter_batches(columns=["source_id"]):
                found.update(v for v in pc.unique(batch.column(0)).to_pylist() if v is not None)
        except (OSError, KeyError, ValueError) as error:
            raise PublishError(f"{shard}: cannot read its source_id column ({error}); rebuild with --flat") from None
    return found


def stage(result: Plan, folder: Path) -> Path:
    """Lay the plan out in `folder` (hard links; copies across file systems) with the generated card."""
    for repo_path, local in result.files.items():
        target = folder / repo_path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(local, target)
        except OSError:
            shutil.copy2(local, target)
    (folder / "README.md").write_text(result.card_text, encoding="utf-8")
    return folder


def upload(result: Plan, *, commit_message: str | None = None, endpoint: str | None = None):
    """Create the dataset repository if needed, check its visibility, and upload the staged plan with
    huggingface_hub. Returns the CommitInfo of the last commit.

    Errors come back as PublishError with the token masked and without the library's exception
    chained (its message may quote the token, and tracebacks print chained exceptions); the HTTP
    status stays readable as `status_code`, and an unreachable Hub is a HubUnreachable."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    if not get_token():
        raise PublishError(
            "no Hugging Face token: set HF_TOKEN (a token with write access) or run `hf auth login`; the token is "
            "never taken on the command line"
        )
    api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None)
    try:
        api.create_repo(result.repo_id, repo_type="dataset", private=result.private, exist_ok=True)
        if result.private and not api.repo_info(result.repo_id, repo_type="dataset").private:
            raise PublishError(
                f"{result.repo_id} already exists and is PUBLIC: --private does not change an existing repository. "
                "Make it private on the Hub (Settings) first, or choose another --repo-id."
            )
        with tempfile.TemporaryDirectory(prefix=f".{result.out.name}-publish-", dir=result.out.parent) as tmp:
            folder = stage(result, Path(tmp))
            return api.upload_folder(
                repo_id=result.repo_id,
                repo_type="dataset",
                folder_path=folder,
                commit_message=commit_message or f"MedS-Ins: {len(result.sources)} sources from the pipeline",
                delete_patterns=list(SYNCED_FOLDERS),
            )
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        hint = HINTS.get(status, "\nRun the same command again later: it resumes." if _busy(status) else "")
        raise PublishError(
            f"{result.repo_id}: the Hub refused the upload (HTTP {status}): {mask(str(error))}{hint}", status
        ) from None
    except Exception as error:
        if not _transport_error(error):
            raise
        raise HubUnreachable(
            f"{result.repo_id}: could not reach the Hub at {mask(api.endpoint)}: {type(error).__name__}: "
            f"{mask(str(error))}. Run the same command again to resume."
        ) from None


def _busy(status: int | None) -> bool:
    return status is not None and (status == 429 or status >= 500)


def _transport_error(error: BaseException) -> bool:
    """Connection refused, timeouts, broken connections, by name: huggingface_hub 1.x raises httpx's
    TransportError subclasses, 2.x those of its fork httpx2. A local OSError (staging) is not one."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return isinstance(error, (ConnectionError, TimeoutError)) or bool(names & {"TransportError", "TimeoutException"})
