"""`python -m pipeline stats OUT`: what an output folder holds, per task and summed per category,
text domain and source, written next to the data as stats.json, stats.md and stats_sankey.html.

Each count comes from where it is cheapest to read without loading a whole file:

* tasks and instances (per split) from the build manifests, `OUT/sources/<source>.json`;
* instructions, the number of entries in a task file's `Definition`, from `OUT/tasks/<task>.json`
  with a streaming JSON parser (ijson) that stops when `Definition` closes, so the `Instances`
  array (written last, and possibly gigabytes) is never read;
* tokens from the Parquet shards `OUT/data/<task>/*.parquet`, read one batch of the `input` and
  `output` columns at a time (see `count_tokens` for what a token is).

The token share of each text domain is set beside the share the paper reports (Figure 2). The
Sankey diagram text domain -> category -> source (like the paper's Figure 2d, flows sized by
tokens) is a self-contained HTML file with plotly.js inlined, so it opens offline. No PNG is
written: plotly's static export needs a browser engine (kaleido with Chrome), which the pipeline
does not install; a screenshot of the HTML page serves instead.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import ijson
import pyarrow.parquet as pq

from pipeline.model import DOMAINS, SPLITS
from pipeline.output import atomic_write_text, read_manifests

#: Token share of each text domain in MedS-Ins as the paper reports it (Wu et al. 2024, Figure 2).
PAPER_DOMAIN_SHARE: dict[str, float] = {
    "Exam": 0.07,
    "Clinical Text": 0.35,
    "Academic Papers": 0.13,
    "Medical Knowledge": 0.43,
    "Daily Conversation": 0.02,
}

# Han ideographs (with extensions and compatibility forms), Hiragana and Katakana: scripts written
# without spaces between words, so each character is one token.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: One token: a CJK character, a run of other word characters (letters, digits, underscore, in any
#: script), or a single punctuation or symbol character. Whitespace separates tokens and is not one.
TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
TOKENIZER = (
    r"regex `[CJK]|[^\W CJK]+|[^\w\s]`: each CJK character (Han, Hiragana, Katakana) is one token, as are each "
    "run of other word characters and each punctuation or symbol character; whitespace is not counted"
)

COUNTS = ("tasks", "instances", "instructions", "input_tokens", "output_tokens", "tokens")
BATCH_ROWS = 8192


def count_tokens(text: str | None) -> int:
    """Tokens of `text` by the cheap rule of `TOKEN` ("Fever 38.5°C, 发热" -> Fever 38 . 5 ° C , 发 热 = 9).

    A stand-in for a model's subword tokenizer, with no vocabulary to download: English words count
    one each where BPE often gives 1.3, so absolute counts run below an LLM's, but shares between
    tasks and domains, which is what the statistics compare, hold up."""
    return len(TOKEN.findall(text)) if text else 0


def count_instructions(task_file: Path) -> int:
    """Entries of the task file's `Definition`, parsed as a stream that stops when the array closes,
    or at the key `Instances` (the task file writes its header first), so instances are never read."""
    count = 0
    with open(task_file, "rb") as f:
        for prefix, event, value in ijson.parse(f):
            if prefix == "Definition.item" and event not in ("end_map", "end_array"):
                count += 1  # one item: a scalar, or the opening of an object or array
            elif (prefix, event) == ("Definition", "end_array") or (prefix, value) == ("", "Instances"):
                break
    return count


def count_task_tokens(folder: Path) -> tuple[int, int, int]:
    """(rows, input tokens, output tokens) of every Parquet shard in `folder`, a batch at a time."""
    rows = input_tokens = output_tokens = 0
    for shard in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(shard).iter_batches(batch_size=BATCH_ROWS, columns=["input", "output"]):
            rows += batch.num_rows
            input_tokens += sum(count_tokens(t) for t in batch.column("input").to_pylist())
            output_tokens += sum(count_tokens(t) for t in batch.column("output").to_pylist())
    return rows, input_tokens, output_tokens


def collect(out: Path) -> dict:
    tasks = []
    warnings = []
    for manifest in read_manifests(out):
        source = manifest["source"]
        for task_id, info in manifest["tasks"].items():
            counts = {s: info["splits"].get(s, {}).get("instances", 0) for s in SPLITS}
            task_file = out / "tasks" / f"{task_id}.json"
            if task_file.is_file():
                instructions = count_instructions(task_file)
            else:
                instructions = 0
                warnings.append(f"{task_id}: no task file {task_file.relative_to(out)}")
            rows, input_tokens, output_tokens = count_task_tokens(out / "data" / task_id)
            if rows != sum(counts.values()):
                warnings.append(f"{task_id}: manifest says {sum(counts.values())} instances, Parquet holds {rows}")
            tasks.append(
                {
                    "task": task_id,
                    "source": source["id"],
                    "source_name": source.get("name") or source["id"],
                    "category": info["category"],
                    "domain": info["domain"],
                    **counts,
                    "instances": sum(counts.values()),
                    "instructions": instructions,
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "tokens": input_tokens + output_tokens,
                }
            )
    tasks.sort(key=lambda t: t["task"])
    totals: dict[str, dict[str, dict[str, int]]] = {}
    for by in ("category", "domain", "source"):
        groups: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
        for t in tasks:
            groups[t[by]]["tasks"] += 1
            for key in COUNTS[1:]:
                groups[t[by]][key] += t[key]
        totals[by] = dict(sorted(groups.items()))
    stats: dict = {"tasks": tasks, "totals": totals}
    stats.update({key: sum(t[key] for t in tasks) for key in COUNTS[1:]})
    domains = list(DOMAINS) + [d for d in totals["domain"] if d not in DOMAINS]
    stats["domain_token_share"] = {
        d: {
            "tokens": totals["domain"].get(d, {}).get("tokens", 0),
            "share": totals["domain"].get(d, {}).get("tokens", 0) / stats["tokens"] if stats["tokens"] else 0.0,
            "paper": PAPER_DOMAIN_SHARE.get(d),
        }
        for d in domains
    }
    stats["tokenizer"] = TOKENIZER
    stats["warnings"] = warnings
    return stats


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def markdown(stats: dict) -> str:
    lines = [
        f"# {len(stats['tasks'])} tasks, {stats['instances']} instances, {stats['instructions']} instructions, "
        f"{stats['tokens']} tokens",
        "",
        f"Tokens: input {stats['input_tokens']}, output {stats['output_tokens']}; counted by {stats['tokenizer']}.",
        "",
    ]
    lines += [
        "| task | source | category | domain | "
        + " | ".join(SPLITS)
        + " | instances | instructions | input tokens | output tokens | tokens |"
    ]
    lines += ["|---" * (9 + len(SPLITS)) + "|"]
    for t in stats["tasks"]:
        cells = [t["task"], t["source"], t["category"], t["domain"], *(str(t[s]) for s in SPLITS)]
        cells += [str(t[k]) for k in COUNTS[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    for by, groups in stats["totals"].items():
        lines += [
            "",
            f"| {by} | tasks | instances | instructions | input tokens | output tokens | tokens | token share |",
            "|---" * 8 + "|",
        ]
        for name, g in groups.items():
            cells = [name, *(str(g[k]) for k in COUNTS), _share(g["tokens"], stats["tokens"])]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| text domain | tokens | token share | paper |", "|---|---|---|---|"]
    for domain, d in stats["domain_token_share"].items():
        paper = f"{d['paper']:.0%}" if d["paper"] is not None else "-"
        lines.append(f"| {domain} | {d['tokens']} | {_share(d['tokens'], stats['tokens'])} | {paper} |")
    return "\n".join(lines) + "\n"


def sankey_html(stats: dict) -> str:
    """Self-contained HTML page (plotly.js inlined) of the Sankey diagram text domain -> category ->
    source, flows sized by tokens (by instances if the output holds no tokens at all)."""
    import plotly.graph_objects as go

    measure = "tokens" if stats["tokens"] else "instances"
    tasks = stats["tasks"]
    domains = [d for d in stats["domain_token_share"] if d in stats["totals"]["domain"]]
    categories = sorted({t["category"] for t in tasks})
    sources = sorted({(t["source"], t["source_name"]) for t in tasks})
    index: dict[tuple[str, str], int] = {}
    labels: list[str] = []
    for layer, names in (("domain", domains), ("category", categories), ("source", [s for s, _ in sources])):
        for name in names:
            index[layer, name] = len(labels)
            labels.append(name)
    names = dict(sources)
    for source_id, _ in sources:
        labels[index["source", source_id]] = names[source_id]

    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    colour = {d: palette[i % len(palette)] for i, d in enumerate(domains)}
    flows: dict[tuple[int, int], int] = defaultdict(int)
    link_colour: dict[tuple[int, int], str] = {}
    for t in tasks:
        first = (index["domain", t["domain"]], index["category", t["category"]])
        second = (index["category", t["category"]], index["source", t["source"]])
        flows[first] += t[measure]
        flows[second] += t[measure]
        link_colour[first] = _rgba(colour[t["domain"]], 0.45)
        link_colour.setdefault(second, "rgba(150,150,150,0.35)")
    links = [(k, v) for k, v in flows.items() if v > 0]
    node_colours = [colour.get(label, "#9e9e9e") for label in labels[: len(domains)]]
    node_colours += ["#bdbdbd"] * (len(labels) - len(domains))
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": node_colours,
                "pad": 8,
                "thickness": 14,
                "hovertemplate": f"%{{label}}: %{{value:,}} {measure}<extra></extra>",
            },
            link={
                "source": [a for (a, _), _ in links],
                "target": [b for (_, b), _ in links],
                "value": [v for _, v in links],
                "color": [link_colour[k] for k, _ in links],
            },
        )
    )
    figure.update_layout(
        title=f"MedS-Ins: text domain → category → source ({len(tasks)} tasks, {stats[measure]:,} {measure})",
        font_size=11,
        height=max(600, 16 * len(sources)),
    )
    return figure.to_html(include_plotlyjs=True, full_html=True, div_id="stats-sankey")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def main(out: Path) -> int:
    if not read_manifests(out):
        print(f"error: {out} has no build manifests (sources/*.json): not an output folder")
        return 1
    stats = collect(out)
    text = markdown(stats)
    atomic_write_text(out / "stats.json", json.dumps(stats, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "stats.md", text)
    atomic_write_text(out / "stats_sankey.html", sankey_html(stats))
    print(text, end="")
    print(f"\nwrote {out / 'stats.json'}, {out / 'stats.md'} and {out / 'stats_sankey.html'}")
    print("(no PNG: plotly's static image export needs a browser engine; open the HTML page instead)")
    for warning in stats["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
