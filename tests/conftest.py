"""Shared fixtures. Tests never touch the network: the Hugging Face libraries run offline and cache
into the test's temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
#: Real raw samples of the corpora, laid beside the repository in development and CI; absent elsewhere.
SHARED_CORPORA = ROOT.parent / "shared" / "corpora"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# Set before any test module imports `datasets` (which reads it once): a fresh cache per session, so a
# dataset loaded from an output folder is never an earlier session's cached copy of a same-named folder.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="meds-ins-hf-cache-")
