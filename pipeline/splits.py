"""Split assignment: a corpus's official split is kept; otherwise a deterministic 9:1 train/test
split on a hash of the record's group, so a record never moves when others are added or the build
is re-run, and records that share raw material (same abstract, same patient) stay together."""

from __future__ import annotations

import hashlib

TEST_PER_MILLE = 100  # 10 % test


def hash_split(source_id: str, group: str) -> str:
    digest = hashlib.sha256(f"{source_id}\x1f{group}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") % 1000 < TEST_PER_MILLE else "train"
