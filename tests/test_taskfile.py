"""pipeline.taskfile: the task file's instances are the Parquet rows, written as json.dumps would write them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import taskfile

TRICKY = [
    'quotes " and \\ backslashes',
    "new\nlines\tand\x01control",
    "accents é, Chinese 高血压, emoji 🩺",
    "DEL \x7f",
    "",
]


def test_instances_are_the_rows_in_order_as_json_dumps_writes_them(tmp_path: Path) -> None:
    shards = []
    for n, split in enumerate(("train", "test")):
        rows = [
            {"id": f"t:{n}-{i}", "input": text, "outputs": [text, "second"] if i % 2 else [text], "split": split}
            for i, text in enumerate(TRICKY)
        ]
        shards.append(tmp_path / f"{split}.parquet")
        pq.write_table(pa.Table.from_pylist(rows), shards[-1])
    path = tmp_path / "task.json"
    assert taskfile.write(path, {"Task": "t", "Definition": ["Ünïcode"]}, shards) == 2 * len(TRICKY)
    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text)
    expected = [
        {"id": r["id"], "input": r["input"], "output": r["outputs"], "split": r["split"]}
        for shard in shards
        for r in pq.read_table(shard).to_pylist()
    ]
    assert loaded["Instances"] == expected and loaded["Definition"] == ["Ünïcode"]
    lines = [line.strip().rstrip(",") for line in text.splitlines() if line.startswith("    {")]
    for line, instance in zip(lines, expected, strict=True):
        if "\x7f" not in instance["input"]:  # (the one difference: DEL written escaped, the same once parsed)
            assert line == json.dumps(instance, ensure_ascii=False)


def test_a_task_without_rows_has_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    assert taskfile.write(path, {"Task": "t"}, []) == 0
    assert json.loads(path.read_text(encoding="utf-8")) == {"Task": "t", "Instances": []}
