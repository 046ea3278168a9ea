"""The synthetic corpora of benchmarks/make_corpora.py are what the benchmark claims: in our converters' raw
formats, converted with nothing quarantined (dedicated generators) or with the sample's own share of
rejections (expanded samples), with the number of instances the generator announced, and deterministic."""

from __future__ import annotations

import filecmp
import sys
from pathlib import Path

import pytest

from pipeline.build import build_source
from pipeline.registry import get

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import make_corpora  # noqa: E402

SCALE = 0.0005
#: The expanded samples are small corpora: a larger scale, so that they get several copies.
EXPANDED_SCALE = 0.005
DEDICATED = ("mimic_iv", "ddxplus", "pubmedqa", "medmcqa", "pmc_patients")
EXPANDED = ("biolord", "medqa")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("corpora")
    manifest = make_corpora.generate(root, SCALE, seed=3, sources=list(DEDICATED), jobs=1)["sources"]
    manifest |= make_corpora.generate(root / "x", EXPANDED_SCALE, seed=3, sources=list(EXPANDED), jobs=1)["sources"]
    return root, manifest


def _build(raw: Path, source_id: str, out: Path):
    return build_source(get(source_id), raw, out, write_card=False, clean_across_sources=False)


@pytest.mark.parametrize("source_id", DEDICATED)
def test_dedicated_corpus_converts_whole(corpora: tuple[Path, dict], source_id: str, tmp_path: Path) -> None:
    root, manifest = corpora
    entry = manifest[source_id]
    assert entry["generator"] == "dedicated" and entry["exact"]
    assert entry["records"] == sum(max(1, round(n * SCALE)) for n in _real_parts(source_id)), (
        "raw records follow the scale"
    )
    report = _build(root / source_id, source_id, tmp_path)
    assert report.status == "built"
    assert report.quarantined == {}, f"{source_id}: synthetic records were quarantined: {report.quarantined}"
    assert report.total == entry["expected_records"]
    assert entry["raw_bytes"] > entry["records"] * 100  # real text, not stubs


def _real_parts(source_id: str) -> list[int]:
    m = make_corpora
    return {
        "mimic_iv": [m.RADIOLOGY_REPORTS, m.DISCHARGE_NOTES],
        "ddxplus": [n for _, n in m.DDX_SPLITS],
        "pubmedqa": [n for _, n, _ in (*m.PUBMEDQA_FILES, m.PUBMEDQA_LABELLED)],
        "medmcqa": [n for _, n, _ in m.MEDMCQA_FILES],
        "pmc_patients": [m.PMC_PATIENTS],
    }[source_id]


def test_mimic_iv_radiology_covers_every_summarization_task(corpora: tuple[Path, dict], tmp_path: Path) -> None:
    """The exam names reach every radiology task, so the benchmark exercises all of them."""
    root, _ = corpora
    report = _build(root / "mimic_iv", "mimic_iv", tmp_path)
    empty = [t for t in get("mimic_iv").task_ids if not report.instances.get(t)]
    assert len(empty) <= 3, f"tasks left without instances at scale {SCALE}: {empty}"


@pytest.mark.parametrize("source_id", EXPANDED)
def test_expanded_sample_converts_like_the_sample(corpora: tuple[Path, dict], source_id: str, tmp_path: Path) -> None:
    """Every copy converts as the sample does: copies x the sample's instances, the sample's rejections."""
    root, manifest = corpora
    entry = manifest[source_id]
    assert entry["generator"] == "expand_sample" and entry["copies"] >= 2
    sample = _build(ROOT / "data" / "samples" / source_id, source_id, tmp_path / "sample")
    report = _build(root / "x" / source_id, source_id, tmp_path / "expanded")
    assert report.status == "built"
    assert report.total == pytest.approx(entry["copies"] * sample.total, rel=0.02)
    rate = sum(report.quarantined.values()) / (report.total + sum(report.quarantined.values()))
    sample_rate = sum(sample.quarantined.values()) / (sample.total + sum(sample.quarantined.values()))
    assert rate <= sample_rate + 0.02


def test_generation_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        make_corpora.generate(tmp_path / name, 0.0002, seed=5, sources=["pubmedqa", "ddxplus"], jobs=1)
    for source_id in ("pubmedqa", "ddxplus"):
        a, b = tmp_path / "a" / source_id, tmp_path / "b" / source_id
        names = sorted(p.name for p in a.iterdir())
        assert names == sorted(p.name for p in b.iterdir())
        _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
        assert not mismatch and not errors
    other = tmp_path / "c"
    make_corpora.generate(other, 0.0002, seed=6, sources=["pubmedqa"], jobs=1)
    assert (other / "pubmedqa" / "ori_pqaa.json").read_bytes() != (
        tmp_path / "a" / "pubmedqa" / "ori_pqaa.json"
    ).read_bytes()


def test_a_generated_corpus_is_kept_for_the_same_parameters(tmp_path: Path) -> None:
    make_corpora.generate(tmp_path, 0.0002, seed=1, sources=["medmcqa"], jobs=1)
    marker = tmp_path / "medmcqa" / "marker"
    marker.write_text("kept")
    make_corpora.generate(tmp_path, 0.0002, seed=1, sources=["medmcqa"], jobs=1)
    assert marker.exists(), "same scale and seed: the corpus is reused"
    make_corpora.generate(tmp_path, 0.0003, seed=1, sources=["medmcqa"], jobs=1)
    assert not marker.exists(), "another scale: the corpus is written again"


@pytest.mark.parametrize(("source_id", "copies"), [("litcovid", 700), ("clinical_trials_gov", 400)])
def test_many_copies_of_a_tiny_sample_still_differ(source_id: str, copies: int, tmp_path: Path) -> None:
    """Copies of a sample of a few records, some made almost entirely of words the format protects, pass the
    quality stage: too few images per word made whole copies equal, and the build refused them as duplicates."""
    from expand_sample import expand

    expand(source_id, tmp_path / "raw", copies)
    sample = _build(ROOT / "data" / "samples" / source_id, source_id, tmp_path / "sample")
    report = _build(tmp_path / "raw", source_id, tmp_path / "out")
    assert report.status == "built"
    duplicates = sum(n for reason, n in report.quarantined.items() if "duplicate" in reason or "same input" in reason)
    assert duplicates <= 0.12 * (report.total + sum(report.quarantined.values())), report.quarantined
    assert report.total >= 0.85 * copies * sample.total


def test_a_copy_keeps_kana_as_kana() -> None:
    """Han and Kana characters are pooled apart: Kana replaced by Han made Japanese text read as Chinese."""
    from expand_sample import Templates

    templates = Templates(frozenset(), [])
    original = "きゅうせいちゅうすいえんの痛み"
    handle = templates.add(original, 0)
    templates.freeze()

    def kana(c: str) -> bool:
        return "\u3040" <= c <= "\u30ff"

    texts = {templates.render(handle, copy) for copy in range(1, 30)}
    assert len(texts) == 29
    for text in texts:
        assert [kana(c) for c in text] == [kana(c) for c in original], text
