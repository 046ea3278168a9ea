"""Prefect flows over the same stage functions the CLI calls; the core never imports Prefect.

Retries follow what can fail transiently. Converting a corpus cannot: a malformed file is malformed
on every attempt, so conversion tasks have no retries and fail once, loudly, naming the source.
Writing over the output folder afterwards (decontamination, the dataset card: files replaced by
rename, so a re-run after a full disk or a dropped network mount is safe), calls to the LLM (whose
responses are cached as they arrive, so a retry asks only for what is still missing) and the upload
to the Hub (huggingface_hub resumes) are retried with a delay, but only on errors that may pass
(`_transient`): a 401, a refused license gate or a bad seeds file is not retried.

Sources are fanned out by the core (`build.build_sources`: a process pool, or the Dask cluster at
`dask_address` through `distributed.Client`), not by a Prefect task runner: the CLI and the flow then
schedule, reuse and decontaminate identically, so their output is the same bytes, and Dask workers
need neither Prefect nor a route to the Prefect API. Per-source outcomes are logged and published as
a table artifact.

Every flow returns a JSON-serialisable dict and raises when a source, a request or the upload failed.
"""

from __future__ import annotations

import errno
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run as current_task_run

from pipeline import build, redact, rewrite, rewrite_cache, seeds
from pipeline import publish as hub
from pipeline.model import MissingRawFiles
from pipeline.parquet import DEFAULT_SHARD_BYTES
from pipeline.quality import QualityConfig, QualityError
from pipeline.registry import ConverterError, converters, get

#: Seconds before the 1st and 2nd retry of output writes, LLM calls and uploads: long enough for a
#: remounted disk, a rate-limit window or a Hub hiccup to pass.
IO_RETRY_DELAYS = [10, 60]
LLM_RETRY_DELAYS = [60, 300]
UPLOAD_RETRY_DELAYS = [30, 120]


class SourceFailed(RuntimeError):
    """One or more sources could not be built; `sources` names them."""

    def __init__(self, message: str, sources: list[str]):
        super().__init__(message)
        self.sources = sources


# --- retry policy ----------------------------------------------------------------------------------


def _transient(error: BaseException) -> bool:
    """Whether an attempt that raised `error` may succeed when simply tried again: connection
    failures, timeouts, HTTP 408/429/5xx and the model's malformed answers anywhere in the cause
    chain, and I/O errors a disk or network file system can recover from (EIO, ENOSPC, ESTALE...).
    A missing or unreadable path, a malformed local file, a gate refusal, no API key or a 401 are not."""
    seen: set[int] = set()
    from_llm = False
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        from_llm = from_llm or isinstance(error, rewrite.RewriteError)
        status = getattr(error, "status_code", None)
        response = getattr(error, "response", None)
        if status is None and response is not None:
            status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status in (408, 429) or status >= 500
        if {c.__name__ for c in type(error).__mro__} & _TRANSIENT_CLASSES:
            return True
        if isinstance(error, (TimeoutError, ConnectionError)):
            return True
        if isinstance(error, OSError) and error.errno in _TRANSIENT_ERRNOS:
            return True
        if from_llm and isinstance(error, json.JSONDecodeError):  # a 200 whose body was not JSON (not a local file)
            return True
        # The context too, even when suppressed (`raise ... from None` hides it from tracebacks, not from us).
        error = error.__cause__ or error.__context__
    return False


#: Exception classes (by name, so that neither openai nor httpx need importing here) of failures to
#: reach a server or to read its answer: openai's, and httpx's (which huggingface_hub uses).
_TRANSIENT_CLASSES = {"APIConnectionError", "APIResponseValidationError", "_Malformed", "TransportError"}
#: I/O errors that a remounted or freed-up disk, or a network file system coming back, can clear.
_TRANSIENT_ERRNOS = {
    errno.EIO, errno.ENOSPC, errno.EDQUOT, errno.ESTALE, errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.ETIMEDOUT,
    errno.ENETDOWN, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED,
}  # fmt: skip


def _retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only what `_transient` says may pass."""
    error = state.data if isinstance(state.data, BaseException) else None
    return error is not None and _transient(error)


# --- build ------------------------------------------------------------------------------------------


def _options(shard_mb: int | None, quality_config: str | None, max_quarantine_rate: float | None) -> dict:
    """The build options the CLI derives from --shard-mb, --quality-config and --max-quarantine-rate."""
    quality = QualityConfig.from_file(Path(quality_config)) if quality_config else QualityConfig()
    if max_quarantine_rate is not None:
        quality = replace(quality, max_quarantine_rate=max_quarantine_rate)
    shard_bytes = shard_mb * 1024 * 1024 if shard_mb else DEFAULT_SHARD_BYTES
    return {"max_shard_bytes": shard_bytes, "quality": quality}


@task(name="convert-source", retries=0, cache_policy=NO_CACHE)
def convert_source(source_id: str, raw_dir: str, out: str, force: bool, options: dict) -> dict:
    """Convert one source into `out` (or keep its unchanged previous output). No retries: see the module."""
    try:
        report = build.build_source(
            get(source_id),
            Path(raw_dir),
            Path(out),
            force=force,
            write_card=False,
            clean_across_sources=False,
            **options,
        )
    except (MissingRawFiles, ValueError, ConverterError, seeds.SeedError, QualityError) as error:
        raise SourceFailed(f"{source_id} failed: {error}", [source_id]) from error
    get_run_logger().info(report.summary())
    return asdict(report)


@task(name="convert-sources", retries=0, cache_policy=NO_CACHE)
def convert_sources(
    raw_root: str, out: str, force: bool, workers: int | None, dask_address: str | None, options: dict
) -> list[dict]:
    """Every source under `raw_root`, fanned out by the core; a failed source is a report, not an exception."""
    reports = build.build_sources(
        Path(raw_root), Path(out), force=force, workers=workers, dask_address=dask_address, **options
    )
    return [asdict(r) for r in reports]


@task(
    name="finish-output",
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=_retry_if_transient,
    cache_policy=NO_CACHE,
)
def finish_output(out: str, reports: list[dict]) -> None:
    """Decontaminate the output folder across sources and write the dataset card (idempotent)."""
    build.finish(Path(out), [build.SourceReport(**r) for r in reports])


def _publish_table(reports: list[dict]) -> None:
    rows = [
        {
            "source": r["source_id"],
            "status": r["status"],
            "instances": sum(n for splits in r["instances"].values() for n in splits.values()),
            "why": r["reason"] or (r["message"].splitlines()[0] if r["message"] else ""),
        }
        for r in reports
        if r["status"] != "missing"
    ]
    missing = sum(r["status"] == "missing" for r in reports)
    create_table_artifact(rows, key="build-report", description=f"{len(rows)} sources; {missing} without raw files")


@flow(name="build-source")
def build_source(
    source_id: str,
    raw_dir: str | None = None,
    out: str = "data/output",
    force: bool = False,
    shard_mb: int = 256,
    quality_config: str | None = None,
    max_quarantine_rate: float | None = None,
) -> dict:
    """`python -m pipeline build --source ID`: one source (raw folder default data/raw/<source_id>)
    into `out`, keeping the other sources there. Returns the source's report."""
    options = _options(shard_mb, quality_config, max_quarantine_rate)
    report = convert_source(source_id, raw_dir or f"data/raw/{source_id}", out, force, options)
    finish_output(out, [report])
    _publish_table([report])
    return report


@flow(name="build-all")
def build_all(
    raw_root: str = "data/raw",
    out: str = "data/output",
    force: bool = False,
    workers: int | None = None,
    dask_address: str | None = None,
    shard_mb: int = 256,
    quality_config: str | None = None,
    max_quarantine_rate: float | None = None,
) -> dict:
    """`python -m pipeline build --all`: every source with raw files under `raw_root`, unchanged ones
    reused, on `workers` local processes (default: one per core) or the Dask scheduler at
    `dask_address` (tcp://HOST:PORT). Raises SourceFailed naming the failed sources, after the others
    are written; the report of every source is in the logs and the "build-report" artifact."""
    options = _options(shard_mb, quality_config, max_quarantine_rate)
    reports = convert_sources(raw_root, out, force, workers, dask_address, options)
    finish_output(out, reports)
    logger = get_run_logger()
    for report in reports:
        if report["status"] != "missing":
            logger.info(build.SourceReport(**report).summary())
    _publish_table(reports)
    by_status: dict[str, list[str]] = {s: [] for s in ("built", "reused", "missing", "failed")}
    for report in reports:
        by_status[report["status"]].append(report["source_id"])
    failed = [r for r in reports if r["status"] == "failed"]
    if failed:
        details = "\n".join(f"  {r['source_id']}: {r['message']}" for r in failed)
        names = [r["source_id"] for r in failed]
        raise SourceFailed(f"{len(failed)} source(s) failed: {', '.join(names)}\n{details}", names)
    if not by_status["built"] and not by_status["reused"]:
        raise SourceFailed(f"no source had raw files under {raw_root}", [])
    return {"raw_root": raw_root, "out": out, "sources": reports, **by_status}


# --- rewrite ----------------------------------------------------------------------------------------


def _cached_cost(task_ids: list[str], seeds_dir: Path, config: rewrite.RewriteConfig) -> float:
    """What the responses cached for these tasks cost, at the configured prices. The difference
    between two readings is what a run spent between them, whatever attempt made the calls."""
    total = 0.0
    for task_id in task_ids:
        entries, _ = rewrite_cache.load(rewrite_cache.path(task_id, seeds_dir))
        for entry in entries:
            usage = entry.usage or {}
            prompt = usage.get("prompt_tokens", rewrite.estimate_tokens(config.prompt + entry.seed))
            answer = usage.get("completion_tokens", rewrite.estimate_tokens(entry.response))
            total += config.cost(prompt, answer)
    return total


@task(
    name="llm-rewrite",
    retries=len(LLM_RETRY_DELAYS),
    retry_delay_seconds=LLM_RETRY_DELAYS,
    retry_condition_fn=_retry_if_transient,
    cache_policy=NO_CACHE,
)
def llm_rewrite(
    task_ids: list[str],
    target: int,
    config: rewrite.RewriteConfig,
    seeds_dir: str,
    cost_before: float,
    dry_run: bool,
    api_key_secret: str | None = None,
) -> dict:
    """One attempt at growing the Definition lists. A retry asks only for samples not yet cached, and
    gets the budget left after what earlier attempts spent (read from the cache, not remembered).
    The key is read here, from the Secret block, so that it is never a task input."""
    folder = Path(seeds_dir)
    if api_key_secret:
        from prefect.blocks.system import Secret

        config = replace(config, api_key=Secret.load(api_key_secret).get())
    if config.budget_usd is not None and not dry_run:
        spent = _cached_cost(task_ids, folder, config) - cost_before
        config = replace(config, budget_usd=max(0.0, config.budget_usd - spent))
    try:
        report = rewrite.rewrite(task_ids, target, config=config, dry_run=dry_run, seeds_dir=folder)
    except rewrite.RewriteError as error:
        if error.report is not None and error.report.rounds:
            get_run_logger().warning(error.report.summary())
        raise
    get_run_logger().info(report.summary())
    return report.as_dict() | {"attempts": current_task_run.run_count}


@flow(name="rewrite-instructions")
def rewrite_instructions(
    tasks: list[str] | Literal["all"] = "all",
    target: int = 40,
    model: str = rewrite.DEFAULT_MODEL,
    base_url: str | None = None,
    budget: float | None = rewrite.RewriteConfig.budget_usd,
    concurrency: int = rewrite.RewriteConfig.concurrency,
    rpm: float | None = rewrite.RewriteConfig.requests_per_minute,
    max_retries: int = rewrite.RewriteConfig.max_retries,
    price_in: float = rewrite.RewriteConfig.price_input_per_1k,
    price_out: float = rewrite.RewriteConfig.price_output_per_1k,
    seeds_dir: str | None = None,
    api_key_secret: str | None = None,
    dry_run: bool = False,
) -> dict:
    """`python -m pipeline rewrite`: grow each task's Definition list (seeds + accepted rewrites) to
    `target` with an OpenAI-compatible model at `base_url` (default OPENAI_BASE_URL, else OpenAI).
    The key is OPENAI_API_KEY on the worker, or the Prefect Secret block named `api_key_secret` (never
    a parameter: parameters are stored in the Prefect database). `budget` (USD, None: no limit) holds
    across the task's retries. Returns the rewrite report plus `spent_usd` and `attempts`."""
    task_ids = sorted({t.id for conv in converters().values() for t in conv.tasks}) if tasks == "all" else tasks
    folder = Path(seeds_dir) if seeds_dir else seeds.SEEDS_DIR
    config = rewrite.RewriteConfig(
        model=model,
        base_url=base_url,
        concurrency=concurrency,
        requests_per_minute=rpm,
        max_retries=max_retries,
        budget_usd=None if budget is None or budget < 0 else budget,
        price_input_per_1k=price_in,
        price_output_per_1k=price_out,
    )
    before = _cached_cost(task_ids, folder, config)
    result = llm_rewrite(task_ids, target, config, str(folder), before, dry_run, api_key_secret)
    result["spent_usd"] = 0.0 if dry_run else _cached_cost(task_ids, folder, config) - before
    return result


# --- publish ----------------------------------------------------------------------------------------


@task(name="plan-upload", retries=0, cache_policy=NO_CACHE)
def plan_upload(
    out: str, repo_id: str, private: bool, exclude_restricted: bool, with_quarantine: bool, dua: bool
) -> hub.Plan:
    """The license gate and the file list; a refusal is final, so no retries."""
    return hub.plan(
        Path(out),
        repo_id,
        private=private,
        exclude_restricted=exclude_restricted,
        with_quarantine=with_quarantine,
        dua_permits_redistribution=dua,
    )


@task(
    name="upload-to-hub",
    retries=len(UPLOAD_RETRY_DELAYS),
    retry_delay_seconds=UPLOAD_RETRY_DELAYS,
    retry_condition_fn=_retry_if_transient,
    cache_policy=NO_CACHE,
)
def upload_to_hub(plan: hub.Plan, message: str | None) -> str:
    """Upload the planned files (huggingface_hub resumes an interrupted upload on the next attempt)."""
    return hub.upload(plan, commit_message=message).commit_url


@flow(name="publish")
def publish(
    repo_id: str,
    out: str = "data/output",
    private: bool = False,
    exclude_restricted: bool = False,
    dry_run: bool = False,
    with_quarantine: bool = False,
    dua_permits_redistribution: bool = False,
    message: str | None = None,
) -> dict:
    """`python -m pipeline publish`: upload `out` to the Hub dataset repository `repo_id` behind the
    license gate (restricted tasks never go to a public repository). The token is HF_TOKEN on the
    worker. `dry_run` returns the plan and uploads nothing."""
    redact.install_log_masking()
    plan = plan_upload(out, repo_id, private, exclude_restricted, with_quarantine, dua_permits_redistribution)
    logger = get_run_logger()
    for warning in plan.warnings:
        logger.warning(redact.mask(warning))
    logger.info(redact.mask("\n".join(plan.lines())))
    result = {
        "out": out,
        "repo_id": repo_id,
        "private": private,
        "dry_run": dry_run,
        "files": {repo_path: str(local) for repo_path, local in sorted(plan.files.items())},
        "excluded": plan.excluded,
        "warnings": plan.warnings,
        "commit_url": None,
    }
    if not dry_run:
        result["commit_url"] = upload_to_hub(plan, message)
    return result
