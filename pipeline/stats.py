"""`python -m pipeline stats OUT`: what an output folder holds, per task and summed per category,
text domain and source, read from the build manifests (no pass over the data). Written next to the
data as stats.json and stats.md."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from pipeline.model import SPLITS
from pipeline.output import atomic_write_text, read_manifests


def collect(out: Path) -> dict:
    tasks = []
    for manifest in read_manifests(out):
        for task_id, info in manifest["tasks"].items():
            counts = {s: info["splits"].get(s, {}).get("instances", 0) for s in SPLITS}
            tasks.append(
                {
                    "task": task_id,
                    "source": manifest["source"]["id"],
                    "category": info["category"],
                    "domain": info["domain"],
                    **counts,
                    "instances": sum(counts.values()),
                }
            )
    tasks.sort(key=lambda t: t["task"])
    totals: dict[str, dict[str, dict[str, int]]] = {}
    for by in ("category", "domain", "source"):
        groups: dict[str, dict[str, int]] = defaultdict(lambda: {"tasks": 0, "instances": 0})
        for t in tasks:
            groups[t[by]]["tasks"] += 1
            groups[t[by]]["instances"] += t["instances"]
        totals[by] = dict(sorted(groups.items()))
    return {"tasks": tasks, "totals": totals, "instances": sum(t["instances"] for t in tasks)}


def markdown(stats: dict) -> str:
    lines = [f"# {len(stats['tasks'])} tasks, {stats['instances']} instances", ""]
    lines += ["| task | source | category | domain | " + " | ".join(SPLITS) + " | instances |"]
    lines += ["|---" * (5 + len(SPLITS)) + "|"]
    for t in stats["tasks"]:
        cells = [t["task"], t["source"], t["category"], t["domain"], *(str(t[s]) for s in SPLITS), str(t["instances"])]
        lines.append("| " + " | ".join(cells) + " |")
    for by, groups in stats["totals"].items():
        lines += ["", f"| {by} | tasks | instances | share |", "|---|---|---|---|"]
        for name, g in groups.items():
            share = g["instances"] / stats["instances"] if stats["instances"] else 0.0
            lines.append(f"| {name} | {g['tasks']} | {g['instances']} | {share:.1%} |")
    return "\n".join(lines) + "\n"


def main(out: Path) -> int:
    stats = collect(out)
    if not stats["tasks"]:
        print(f"error: {out} has no build manifests (sources/*.json): not an output folder")
        return 1
    text = markdown(stats)
    atomic_write_text(out / "stats.json", json.dumps(stats, indent=2) + "\n")
    atomic_write_text(out / "stats.md", text)
    print(text, end="")
    return 0
