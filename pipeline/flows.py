"""Prefect flows over the same stage functions the CLI calls; the core never imports Prefect.

A malformed corpus fails once, loudly (no retries on conversion); the orchestration issue adds
incremental rebuilds, the rewrite and publish flows and the Dask task runner."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task

from pipeline import build
from pipeline.registry import get


@task(name="convert-source", retries=0)
def convert_source(source_id: str, raw_dir: str, out: str) -> dict:
    report = build.build_source(get(source_id), Path(raw_dir), Path(out))
    get_run_logger().info(report.summary())
    return asdict(report)


@flow(name="build-source")
def build_source(source_id: str, raw_dir: str | None = None, out: str = "data/output") -> dict:
    """Build one source (default raw folder data/raw/<source_id>) into `out`."""
    return convert_source(source_id, raw_dir or f"data/raw/{source_id}", out)


@flow(name="build-all")
def build_all(raw_root: str = "data/raw", out: str = "data/output") -> list[dict]:
    """Build every source whose raw files are under `raw_root`; report the others."""
    reports = build.build_all(Path(raw_root), Path(out))
    logger = get_run_logger()
    for report in reports:
        logger.info(report.summary())
    failed = [r.source_id for r in reports if r.status == "failed"]
    if failed:
        raise RuntimeError(f"sources failed: {', '.join(failed)}")
    return [asdict(r) for r in reports]
