"""Format-specific tests for the BC4CHEMD converter: the CHEMDNER release (title/abstract offsets, split names,
quarantine) and the promise that it gives the same records as the MTL-Bioinformatics-2016 IOB copy."""

from __future__ import annotations

from pathlib import Path

from converters.bc4chemd import NO_ENTITY, SOURCE, generate, to_iob
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "bc4chemd"
TITLE, ABSTRACT = "Aspirin and warfarin in atrial fibrillation", "Bleeding rose with warfarin. Doses were halved."
PARTS = ("training", "development", "evaluation")


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def ann(pmid: str, where: str, mention: str, shift: int = 0) -> str:
    start = (TITLE if where == "T" else ABSTRACT).index(mention)
    return f"{pmid}\t{where}\t{start}\t{start + len(mention) + shift}\t{mention}\tTRIVIAL\n"


def write(root: Path, abstracts: dict[str, list[str]], annotations: dict[str, list[str]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for part, lines in abstracts.items():
        (root / f"{part}.abstracts.txt").write_text("".join(lines), encoding="utf-8")
    for part, lines in annotations.items():
        (root / f"{part}.annotations.txt").write_text("".join(lines), encoding="utf-8")
    return root


def test_original_offsets_are_per_title_and_abstract(tmp_path: Path) -> None:
    doc = f"111\t{TITLE}\t{ABSTRACT}\n"
    rows = [ann("111", "T", "Aspirin"), ann("111", "T", "warfarin"), ann("111", "A", "warfarin")]
    write(
        tmp_path / "chemdner_corpus", {p: [doc] for p in PARTS}, {"training": rows, "development": [], "evaluation": []}
    )
    records, rejections = run(tmp_path)
    assert not rejections
    assert [(r.input, r.output, r.split) for r in records if r.split == "train"] == [
        (TITLE, "Aspirin, warfarin", "train"),
        ("Bleeding rose with warfarin.", "warfarin", "train"),
        ("Doses were halved.", NO_ENTITY, "train"),
    ]
    assert {r.split for r in records} == {"train", "validation", "test"}
    assert records[1].raw_file == "chemdner_corpus/training.abstracts.txt"
    assert records[1].locator == "line 1 (PMID 111) sentence 2"


def test_original_quarantine(tmp_path: Path) -> None:
    docs = [f"111\t{TITLE}\t{ABSTRACT}\n", f"222\t{TITLE}\t{ABSTRACT}\n", "333\tonly a title\n"]
    rows = [ann("111", "A", "warfarin"), "222\tA\t19\twarfarin\tTRIVIAL\n", ann("444", "T", "Aspirin")]
    write(tmp_path, {"training": docs, "evaluation": [docs[0]]}, {"training": rows})
    records, rejections = run(tmp_path)
    assert {(r.input, r.output) for r in records} == {
        (TITLE, NO_ENTITY),
        ("Bleeding rose with warfarin.", "warfarin"),
        ("Doses were halved.", NO_ENTITY),
    }
    assert [(r.reason, r.raw_file, r.locator) for r in rejections] == [
        (
            "malformed line: expected PMID, T|A, start, end (exclusive), text, class",
            "training.annotations.txt",
            "line 2",
        ),
        (
            "abstract skipped: its annotation training.annotations.txt line 2 is malformed",
            "training.abstracts.txt",
            "line 2 (PMID 222)",
        ),
        ("malformed line: expected PMID, title, abstract", "training.abstracts.txt", "line 3"),
        ("annotations of a PMID absent from training.abstracts.txt", "training.annotations.txt", "line 3"),
        (
            "evaluation.annotations.txt missing: the evaluation abstracts are not converted",
            "evaluation.abstracts.txt",
            "whole file",
        ),
    ]


def test_original_and_iob_give_the_same_records(tmp_path: Path) -> None:
    """The bundled IOB sample, turned back into the CHEMDNER release, then to IOB again: same records."""
    iob, _ = run(SAMPLE)
    abstracts: dict[str, list[str]] = {p: [] for p in PARTS}
    annotations: dict[str, list[str]] = {p: [] for p in PARTS}
    part = {"train": "training", "validation": "development", "test": "evaluation"}
    for n, record in enumerate(iob):  # each sentence becomes the title of an abstract of its own
        pmid = str(1000 + n)
        abstracts[part[record.split]].append(f"{pmid}\t{record.input}\tNothing to report.\n")
        for mention in [] if record.output == NO_ENTITY else record.output.split(", "):
            start = record.input.index(mention)
            annotations[part[record.split]].append(f"{pmid}\tT\t{start}\t{start + len(mention)}\t{mention}\tX\n")
    write(tmp_path / "original", abstracts, annotations)
    original, rejections = run(tmp_path / "original")
    assert not rejections
    titles = [r for r in original if r.input != "Nothing to report."]
    assert [(r.id, r.input, r.output, r.split) for r in titles] == [(r.id, r.input, r.output, r.split) for r in iob]
    (tmp_path / "again").mkdir()
    sentences = list(to_iob(detect_form(SOURCE, tmp_path / "original")))
    lines = [f"{token}\t{tag}" for sentence in sentences for token, tag in sentence + [("", "")]]
    (tmp_path / "again" / "test.tsv").write_text("\n".join(line.strip() for line in lines) + "\n", encoding="utf-8")
    again, _ = run(tmp_path / "again")
    assert [(r.id, r.input, r.output) for r in again] == [(r.id, r.input, r.output) for r in original]


def test_sample_malformed_iob_sentence_is_quarantined() -> None:
    records, rejections = run(SAMPLE)
    assert [(r.reason, r.raw_file, r.locator, r.value) for r in rejections] == [
        (
            "malformed line: expected token<TAB>B|I|O; its sentence is skipped",
            "train.tsv",
            "train.tsv line 51",
            "reference\tX-Chemical",
        )
    ]
    assert not any(r.input.startswith("Allopurinol") for r in records)
    assert {r.split for r in records} == {"train", "validation", "test"}
