"""The dataset card: `README.md` at the top of the output folder. Its YAML `configs` make
`datasets.load_dataset(out)` load every task and `load_dataset(out, "<task_id>")` one task; its
body lists every source with license, access level, citation and counts, so the terms travel with
the data."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.model import SPLITS
from pipeline.output import atomic_write_text, read_manifests

RESTRICTED = ("registration", "credentialed")
ACCESS_NOTE = {
    "open": "open",
    "registration": "registration required",
    "credentialed": "credentialed access (must not be redistributed)",
}


def render(manifests: list[dict]) -> str:
    tasks = {t: m for m in manifests for t, info in m["tasks"].items() if _splits(info)}
    all_splits = [s for s in SPLITS if any(s in _splits(m["tasks"][t]) for t, m in tasks.items())]
    configs = [
        {
            "config_name": "all",
            "default": True,
            "data_files": [{"split": s, "path": f"data/*/{s}-*.parquet"} for s in all_splits],
        }
    ]
    for task_id in sorted(tasks):
        splits = _splits(tasks[task_id]["tasks"][task_id])
        configs.append(
            {
                "config_name": task_id,
                "data_files": [{"split": s, "path": f"data/{task_id}/{s}-*.parquet"} for s in SPLITS if s in splits],
            }
        )
    licenses = sorted({m["source"]["license"] for m in manifests})
    meta = {
        "pretty_name": "MedS-Ins",
        "language": ["en"],
        "license": "other",
        "license_details": "Per source; see the table below. " + "; ".join(licenses),
        "task_categories": ["text-generation"],
        "tags": ["medical", "instruction-tuning", "biomedical"],
        "configs": configs,
    }
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        "# MedS-Ins (built locally)",
        "",
        "Medical instruction-tuning tasks built from raw corpora by the MedS-Ins pipeline. Each task is a",
        "config; `load_dataset(path)` loads all of them. Every row keeps its provenance (`raw_file`, `locator`).",
        "",
        "## Sources",
        "",
        "| source | license | access | tasks | instances | quarantined | homepage |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in manifests:
        s = m["source"]
        count = sum(n["instances"] for info in m["tasks"].values() for n in _splits(info).values())
        lines.append(
            f"| {s['name']} (`{s['id']}`) | {s['license']} | {ACCESS_NOTE[s['access']]} | {len(m['tasks'])} "
            f"| {count} | {m['quarantined']['total']} | {s['homepage']} |"
        )
    lines += ["", "## Tasks", "", "| task | category | domain | " + " | ".join(SPLITS) + " |"]
    lines.append("|---" * (3 + len(SPLITS)) + "|")
    for task_id in sorted(tasks):
        info = tasks[task_id]["tasks"][task_id]
        counts = [str(_splits(info).get(s, {}).get("instances", 0)) for s in SPLITS]
        lines.append(f"| `{task_id}` | {info['category']} | {info['domain']} | " + " | ".join(counts) + " |")
    lines += ["", "## Citations", ""]
    lines += [f"- **{m['source']['name']}**: {m['source']['citation']}" for m in manifests if m["source"]["citation"]]
    restricted = [m["source"]["id"] for m in manifests if m["source"]["access"] in RESTRICTED]
    if restricted:
        lines += [
            "",
            "## Restricted data",
            "",
            "This folder contains tasks from sources that require registration or credentialed access: "
            + ", ".join(f"`{s}`" for s in restricted)
            + ". Do not publish it to a public repository.",
        ]
    return "\n".join(lines) + "\n"


def write(out: Path) -> None:
    atomic_write_text(out / "README.md", render(read_manifests(out)))


def _splits(task_info: dict) -> dict:
    return {s: v for s, v in task_info["splits"].items() if v["instances"]}
