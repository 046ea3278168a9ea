"""The dataset card: `README.md` at the top of the output folder. Its YAML `configs` make
`datasets.load_dataset(out)` load every task and `load_dataset(out, "<task_id>")` one task; its
body lists every source with license, access level, citation and counts, so the terms travel with
the data."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline import flat
from pipeline.model import SPLITS
from pipeline.output import atomic_write_text, read_manifests

RESTRICTED = ("registration", "credentialed")
ACCESS_NOTE = {
    "open": "open",
    "registration": "registration required",
    "credentialed": "credentialed access (must not be redistributed)",
}


def render(
    manifests: list[dict], extra_configs: list[dict] | None = None, *, excluded: dict[str, list[str]] | None = None
) -> str:
    """The card of a folder holding `manifests`' sources. `excluded` (restricted source -> its tasks)
    is what `publish --exclude-restricted` left out: named in the card, never among its configs."""
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
    configs += extra_configs or []  # the flat SFT export (pipeline.flat), when the folder has one
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
        f"{len(tasks)} tasks, {_instances(manifests)} instances, from {len(manifests)} sources. Each source keeps its",
        "own license and access terms (below): check them before using or redistributing a task.",
        "",
        "## Sources",
        "",
        "| source | license | access | tasks | instances | quarantined | homepage |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in manifests:
        s = m["source"]
        built = sum(1 for info in m["tasks"].values() if _splits(info))
        lines.append(
            f"| {s['name']} (`{s['id']}`) | {s['license']} | {access_note(s['access'])} | {built} "
            f"| {_instances([m])} | {m.get('quarantined', {}).get('total', 0)} | {s.get('homepage') or '-'} |"
        )
    lines += ["", "## Tasks", "", "| task | category | domain | " + " | ".join(SPLITS) + " |"]
    lines.append("|---" * (3 + len(SPLITS)) + "|")
    for task_id in sorted(tasks):
        info = tasks[task_id]["tasks"][task_id]
        counts = [str(_splits(info).get(s, {}).get("instances", 0)) for s in SPLITS]
        lines.append(f"| `{task_id}` | {info['category']} | {info['domain']} | " + " | ".join(counts) + " |")
    lines += ["", "## Citations", ""]
    lines += [
        f"- **{m['source']['name']}** (`{m['source']['id']}`): {m['source'].get('citation') or 'no citation published'}"
        for m in manifests
    ]
    restricted = [m["source"]["id"] for m in manifests if m["source"]["access"] != "open"]
    if restricted:
        lines += [
            "",
            "## Restricted data",
            "",
            "This folder contains tasks from sources that require registration or credentialed access: "
            + ", ".join(f"`{s}`" for s in restricted)
            + ". Do not publish it to a public repository.",
        ]
    if excluded:
        lines += [
            "",
            "## Not included",
            "",
            "These tasks come from sources whose terms forbid redistribution. They were left out of this upload; "
            "build them from your own copy of the corpus with the MedS-Ins pipeline:",
            "",
        ]
        lines += [f"- `{source}`: " + ", ".join(f"`{t}`" for t in tasks) for source, tasks in sorted(excluded.items())]
    return "\n".join(lines) + "\n"


def access_note(access: str) -> str:
    """How the card names an access level; one it does not know is shown as it is (and treated as
    restricted: only "open" is open)."""
    return ACCESS_NOTE.get(access, f"{access} (treated as restricted)")


def _instances(manifests: list[dict]) -> int:
    return sum(n["instances"] for m in manifests for info in m["tasks"].values() for n in _splits(info).values())


def write(out: Path) -> None:
    atomic_write_text(out / "README.md", render(read_manifests(out), flat.card_configs(out)))


def _splits(task_info: dict) -> dict:
    return {s: v for s, v in task_info["splits"].items() if v["instances"]}
