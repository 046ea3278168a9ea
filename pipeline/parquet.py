"""Sharded Parquet output: one writer per (task, split) that flushes row groups as it goes and
starts a new shard when the current one reaches the size cap, so memory stays bounded and shards
stay Hub-friendly. Shards are written under temporary names and get their final
`<split>-00000-of-0000N.parquet` names only when the number of shards is known."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("id", "task_id", "source_id", "split", "input", "output", "outputs", "raw_file", "locator")
SCHEMA = pa.schema([(name, pa.list_(pa.string()) if name == "outputs" else pa.string()) for name in COLUMNS])
ROW_GROUP_ROWS = 10_000
#: A row group is flushed at this much text: with one writer per task and split open at once, this is
#: what bounds the build's memory (a source with 20 tasks buffers at most ~20 x 8 MB).
ROW_GROUP_BYTES = 8 * 1024 * 1024
DEFAULT_SHARD_BYTES = 256 * 1024 * 1024


class ShardedWriter:
    """Writes rows (dicts with the schema's columns) of one task and split into a folder. Subclasses
    with another `schema` (the flat export) override `row_bytes`, the estimate that sizes row groups."""

    schema: pa.Schema = SCHEMA

    def __init__(self, folder: Path, split: str, max_shard_bytes: int = DEFAULT_SHARD_BYTES):
        self.folder, self.split, self.max_shard_bytes = folder, split, max_shard_bytes
        self.rows = 0
        self._columns = tuple(self.schema.names)
        self._buffer: dict[str, list] = {c: [] for c in self._columns}
        self._buffer_bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self._shard_bytes = 0
        self._parts: list[Path] = []

    def write(self, row: dict) -> None:
        """`outputs` defaults to `[output]`; `add_outputs` extends it after the fact."""
        for column in self._columns:
            self._buffer[column].append(row[column] if column != "outputs" else row.get("outputs") or [row["output"]])
        self._buffer_bytes += self.row_bytes(row)
        self.rows += 1
        if len(self._buffer["id"]) >= ROW_GROUP_ROWS or self._buffer_bytes >= min(
            ROW_GROUP_BYTES, self.max_shard_bytes
        ):
            self._flush()

    def row_bytes(self, row: dict) -> int:
        return len(row["input"]) + len(row["output"]) + 200

    def _flush(self) -> None:
        if not self._buffer["id"]:
            return
        if self._writer is not None and self._shard_bytes >= self.max_shard_bytes:
            self._writer.close()
            self._writer = None
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            part = self.folder / f".{self.split}-{len(self._parts):05d}.parquet.part"
            self._parts.append(part)
            self._writer = pq.ParquetWriter(part, self.schema, compression="zstd")
            self._shard_bytes = 0
        self._writer.write_table(pa.Table.from_pydict(self._buffer, schema=self.schema))
        self._shard_bytes += self._buffer_bytes
        self._buffer = {c: [] for c in self._columns}
        self._buffer_bytes = 0

    def close(self) -> list[Path]:
        """Flush, close, and give the shards their final names; returns them in order."""
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        total = len(self._parts)
        final = []
        for index, part in enumerate(self._parts):
            target = self.folder / f"{self.split}-{index:05d}-of-{total:05d}.parquet"
            part.rename(target)
            final.append(target)
        return final


def add_outputs(shards: list[Path], extra: dict[str, list[str]]) -> int:
    """Append further right answers to the `outputs` of the rows whose id is in `extra`, rewriting only
    the shards that hold such a row (a row group at a time, under a temporary name, then renamed).
    The answers arrive after their instance was written, since a later record revealed them; the
    rows stay where the hash split put the first one. Returns how many rows were extended."""
    extended = 0
    for shard in shards:
        ids = pq.read_table(shard, columns=["id"]).column("id").to_pylist()
        if not any(i in extra for i in ids):
            continue
        part = shard.with_name(f".{shard.name}.part")
        source = pq.ParquetFile(shard)
        with pq.ParquetWriter(part, SCHEMA, compression="zstd") as writer:
            for group in range(source.num_row_groups):
                table = source.read_row_group(group)
                outputs = table.column("outputs").to_pylist()
                for index, row_id in enumerate(table.column("id").to_pylist()):
                    if row_id in extra:
                        outputs[index] = outputs[index] + extra[row_id]
                        extended += 1
                position = table.schema.get_field_index("outputs")
                writer.write_table(table.set_column(position, "outputs", pa.array(outputs, pa.list_(pa.string()))))
        part.replace(shard)
    return extended
