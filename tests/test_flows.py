"""The Prefect flows run the same build as the CLI, under a real (temporary) Prefect backend."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import ROOT, SAMPLES
from prefect.testing import utilities as prefect_testing


def files(root: Path, sub: str) -> list[Path]:
    return sorted(p.relative_to(root) for p in (root / sub).rglob("*") if p.is_file())


def test_build_source_flow_writes_the_same_output_as_the_cli(tmp_path: Path) -> None:
    from pipeline import flows, validate
    from pipeline.build import build_source
    from pipeline.registry import get

    with prefect_testing.prefect_test_harness():
        report = flows.build_source("pubmedqa", str(SAMPLES / "pubmedqa"), str(tmp_path / "flow"))
    assert report["status"] == "built" and sum(sum(s.values()) for s in report["instances"].values()) > 0
    build_source(get("pubmedqa"), SAMPLES / "pubmedqa", tmp_path / "direct")
    for sub in ("data", "tasks", "quarantine"):
        flow_files = files(tmp_path / "flow", sub)
        assert flow_files == files(tmp_path / "direct", sub)
        assert all((tmp_path / "flow" / f).read_bytes() == (tmp_path / "direct" / f).read_bytes() for f in flow_files)
    assert list(validate.folder(tmp_path / "flow")) == []


def test_prefect_yaml_deployments_point_at_real_flows() -> None:
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    names = {d["name"] for d in config["deployments"]}
    assert {"build-all", "build-mimic-iv"} <= names
    for deployment in config["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        assert set(deployment.get("parameters", {})) <= set(flow.parameters.properties), deployment["name"]
    weekly = next(d for d in config["deployments"] if d["name"] == "build-all")
    assert weekly["schedules"][0]["cron"] == "0 3 * * 1"
