"""`pipeline.stats` on a small output built from a few bundled samples: the counts add up, tokens and
instructions match an independent count of the files, and the Sankey page holds its nodes."""

from __future__ import annotations

import json
import math
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES

from pipeline import stats
from pipeline.build import build_source
from pipeline.model import DOMAINS
from pipeline.registry import get

#: One source per text domain (head_qa adds Exam and Spanish, cmedqa2 Chinese).
SOURCES = ("pubmedqa", "head_qa", "cmedqa2", "mimic4ed", "chatdoctor")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stats") / "out"
    for source_id in SOURCES:
        build_source(get(source_id), SAMPLES / source_id, folder)
    assert stats.main(folder) == 0
    return folder


@pytest.fixture(scope="module")
def result(out: Path) -> dict:
    return json.loads((out / "stats.json").read_text(encoding="utf-8"))


def reference_tokens(text: str | None) -> int:
    """The tokenizer rule written out character by character, without the regex."""
    count, in_word = 0, False
    for ch in text or "":
        name = unicodedata.name(ch, "")
        cjk = name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA", "KATAKANA"))
        if ch.isspace():
            in_word = False
        elif cjk or not (ch.isalnum() or ch == "_"):
            count, in_word = count + 1, False
        elif not in_word:
            count, in_word = count + 1, True
    return count


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        (None, 0),
        ("Fever 38.5°C, 发热", 9),  # Fever 38 . 5 ° C , 发 热
        ("患者男性，45岁。", 8),  # 患 者 男 性 ， 45 岁 。
        ("カルテを書く", 6),
        ("naïve  café_au_lait\n(x)", 5),
    ],
)
def test_count_tokens(text: str | None, tokens: int) -> None:
    assert stats.count_tokens(text) == tokens == reference_tokens(text)


def test_every_task_of_the_build_is_counted(out: Path, result: dict) -> None:
    manifests = [json.loads(p.read_text()) for p in (out / "sources").glob("*.json")]
    expected = {
        t: sum(s["instances"] for s in info["splits"].values()) for m in manifests for t, info in m["tasks"].items()
    }
    assert {t["task"]: t["instances"] for t in result["tasks"]} == expected
    assert {t["source"] for t in result["tasks"]} == set(SOURCES)
    assert set(result["totals"]["domain"]) == set(DOMAINS)
    assert result["warnings"] == []


def test_totals_add_up_across_groupings(result: dict) -> None:
    tasks = result["tasks"]
    for t in tasks:
        assert t["tokens"] == t["input_tokens"] + t["output_tokens"]
        assert t["instances"] == t["train"] + t["validation"] + t["test"]
    for key in stats.COUNTS[1:]:
        assert result[key] == sum(t[key] for t in tasks) > 0
    for by, groups in result["totals"].items():
        assert sum(g["tasks"] for g in groups.values()) == len(tasks), by
        for key in stats.COUNTS[1:]:
            assert sum(g[key] for g in groups.values()) == result[key], (by, key)
        for name, g in groups.items():
            assert g["tokens"] == sum(t["tokens"] for t in tasks if t[by] == name)


def test_tokens_equal_an_independent_count_of_the_parquet_rows(out: Path, result: dict) -> None:
    for t in result["tasks"]:
        rows = [
            r
            for shard in sorted((out / "data" / t["task"]).glob("*.parquet"))
            for r in pq.read_table(shard).to_pylist()
        ]
        assert len(rows) == t["instances"]
        assert t["input_tokens"] == sum(reference_tokens(r["input"]) for r in rows), t["task"]
        assert t["output_tokens"] == sum(reference_tokens(r["output"]) for r in rows), t["task"]
    chinese = [t for t in result["tasks"] if t["source"] == "cmedqa2"]
    assert chinese and all(t["tokens"] > 0 for t in chinese)


def test_instructions_equal_the_definition_lengths(out: Path, result: dict) -> None:
    for t in result["tasks"]:
        definition = json.loads((out / "tasks" / f"{t['task']}.json").read_text(encoding="utf-8"))["Definition"]
        assert t["instructions"] == len(definition) > 0, t["task"]


def test_instructions_are_read_from_the_header_only(out: Path, tmp_path: Path) -> None:
    task_file = next((out / "tasks").glob("*.json"))
    text = task_file.read_text(encoding="utf-8")
    truncated = tmp_path / "task.json"
    truncated.write_text(text[: text.index('"Instances"') + 40], encoding="utf-8")  # invalid JSON past the header
    assert stats.count_instructions(truncated) == len(json.loads(text)["Definition"])


def test_domain_token_shares_sum_to_one_beside_the_paper(result: dict) -> None:
    shares = result["domain_token_share"]
    assert list(shares) == list(DOMAINS)
    assert math.isclose(sum(d["share"] for d in shares.values()), 1.0)
    assert math.isclose(sum(d["paper"] for d in shares.values()), 1.0)
    for domain, d in shares.items():
        assert d["tokens"] == result["totals"]["domain"][domain]["tokens"]
        assert math.isclose(d["share"], d["tokens"] / result["tokens"])
    assert shares["Medical Knowledge"]["paper"] == 0.43


def test_markdown_has_the_tables(out: Path, result: dict) -> None:
    text = (out / "stats.md").read_text(encoding="utf-8")
    assert text == stats.markdown(result)
    assert text.startswith(f"# {len(result['tasks'])} tasks, {result['instances']} instances")
    assert "| text domain | tokens | token share | paper |" in text
    assert "| Clinical Text |" in text and "| 35% |" in text
    row = next(t for t in result["tasks"] if t["task"] == "pubmedqa_multiple_choice")
    assert f"| {row['instructions']} | {row['input_tokens']} | {row['output_tokens']} | {row['tokens']} |" in text


def test_sankey_page_is_self_contained_with_every_node(out: Path, result: dict) -> None:
    page = out / "stats_sankey.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    assert "cdn.plot.ly/plotly" not in html and "Plotly.newPlot" in html  # plotly.js inlined, no CDN script
    labels = {t[key] for t in result["tasks"] for key in ("domain", "category", "source_name")}
    for label in labels:
        encoded = json.dumps(label, ensure_ascii=False)
        assert encoded in html or encoded.replace("/", "\\u002f") in html, label  # plotly may escape "/"
    assert '"type":"sankey"' in html


def test_not_an_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert stats.main(tmp_path) == 1
    assert "not an output folder" in capsys.readouterr().out
    assert not (tmp_path / "stats_sankey.html").exists()
