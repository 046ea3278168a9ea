"""Format-specific tests for the S800 converter: inclusive standoff offsets, quarantine of bad lines, sentence
splitting, and the promise that the original release and the IOB copy give the same records."""

from __future__ import annotations

import shutil
from pathlib import Path

from converters.species800 import NO_ENTITY, SOURCE, generate, to_iob
from pipeline.model import Record, Rejection, detect_form
from pipeline.ner import detokenize, split_sentences, tokenize

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "species800"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(generate(detect_form(SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def write_original(root: Path, abstracts: dict[str, str], rows: list[str]) -> Path:
    (root / "abstracts").mkdir(parents=True)
    for doc, text in abstracts.items():
        (root / "abstracts" / f"{doc}.txt").write_text(text, encoding="utf-8")
    (root / "S800.tsv").write_text("".join(row + "\n" for row in rows), encoding="utf-8")
    return root


def row(doc: str, text: str, mention: str, end_offset: int = -1, taxid: str = "562") -> str:
    """An S800.tsv line; by default with the inclusive end S800 uses (`end_offset` shifts it)."""
    start = text.index(mention)
    return f"{taxid}\t{doc}:11111111\t{start}\t{start + len(mention) + end_offset}\t{mention}"


TEXT = "Growth of Escherichia coli in brine. \n\nCells were counted daily. Escherichia coli survived for a week. \n"


def test_offsets_are_inclusive(tmp_path: Path) -> None:
    write_original(tmp_path, {"species001": TEXT}, [row("species001", TEXT, "Escherichia coli")])
    records, rejections = run(tmp_path)
    assert not rejections
    assert [(r.input, r.output) for r in records] == [
        ("Growth of Escherichia coli in brine.", "Escherichia coli"),
        ("Cells were counted daily.", NO_ENTITY),
        ("Escherichia coli survived for a week.", NO_ENTITY),  # only the first mention is annotated here
    ]
    assert records[0].locator == "species001.txt (PMID 11111111) sentence 1"
    assert records[0].raw_file == "abstracts/species001.txt" and records[0].split is None


def test_exclusive_end_is_a_mismatch_quarantined_with_file_and_line(tmp_path: Path) -> None:
    other = "A title without organisms.\n\nNothing to see here.\n"
    rows = [row("species001", TEXT, "Escherichia coli"), row("species001", TEXT, "brine", end_offset=0)]
    write_original(tmp_path, {"species001": TEXT, "species002": other}, rows)
    records, rejections = run(tmp_path)
    line = next(r for r in rejections if r.locator == "line 2")
    assert line.raw_file == "S800.tsv" and line.value == "brine" and "brine." in line.reason
    skipped = next(r for r in rejections if r.raw_file == "abstracts/species001.txt")
    assert "1 of 2 mentions mismatch" in skipped.reason
    assert {r.raw_file for r in records} == {"abstracts/species002.txt"}  # species001 is not half-converted


def test_missing_abstract_reported_once(tmp_path: Path) -> None:
    absent = "Salmonella enterica in eggs.\n\nSalmonella enterica was found.\n"
    rows = [row("species001", TEXT, "Escherichia coli")] + [
        row("species002", absent, "Salmonella enterica", taxid="28901") for _ in range(2)
    ]
    write_original(tmp_path, {"species001": TEXT}, rows)
    (tmp_path / "pubmedid.tsv").write_text(
        "species001\tPMID:11111111\tbac\t001\tJ X. 1:1, 2000\nspecies003\tPMID:33333333\tzoo\t003\tJ X. 1:3, 2000\n"
    )
    records, rejections = run(tmp_path)
    assert len(records) == 3
    assert sorted(r.reason for r in rejections) == [
        "abstract file missing: abstracts/species002.txt (2 annotations)",
        "abstract file missing: abstracts/species003.txt (0 annotations)",
    ]
    assert {r.locator for r in rejections} == {"species002 (PMID 11111111)", "species003 (PMID 33333333)"}


def test_splitter_respects_abbreviations_and_mentions() -> None:
    text = (
        "Strains of E. coli and e.g. P. falciparum were compared by Smith et al. (2001) in 72 h. "
        "Foo barensis sp. nov. is proposed. Cells of Foo barensis grp. Alpha grew. No growth was seen."
    )
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == [
        "Strains of E. coli and e.g. P. falciparum were compared by Smith et al. (2001) in 72 h.",
        "Foo barensis sp. nov. is proposed.",
        "Cells of Foo barensis grp.",
        "Alpha grew.",
        "No growth was seen.",
    ]
    start = text.index("Foo barensis grp. Alpha")
    protected = [text[s:e] for s, e in split_sentences(text, [(start, start + len("Foo barensis grp. Alpha"))])]
    assert protected[2] == "Cells of Foo barensis grp. Alpha grew."


def test_sample_sentences_keep_abbreviated_names_whole() -> None:
    records, rejections = run(SAMPLE)
    assert not rejections
    by_input = {r.input: r.output for r in records}
    assert by_input[
        "E. coli cells were enriched near the substratum, whereas P. aeruginosa dominated the outer layers."
    ] == ("E. coli, P. aeruginosa")
    assert by_input["Infection with the malaria parasite (P. falciparum) was detected in 9.2% of children."] == (
        "P. falciparum"
    )
    assert by_input["Flow interruption of 6 h doubled the detached biomass."] == NO_ENTITY
    assert by_input["The name Aureomyces lacustris sp. nov. is proposed."] == "Aureomyces lacustris"


def test_iob_built_from_original_sample_gives_the_same_records(tmp_path: Path) -> None:
    original, _ = run(SAMPLE)
    names = ("train", "devel", "test")
    lines: dict[str, list[str]] = {name: [] for name in names}
    for n, sentence in enumerate(to_iob(detect_form(SOURCE, SAMPLE))):
        tokens = [token for token, _ in sentence]
        assert tokenize(detokenize(tokens)) == tokens  # the canonical text re-tokenises to the same tokens
        lines[names[n % 3]] += [f"{token}\t{tag}" for token, tag in sentence] + [""]
    for name in names:
        (tmp_path / f"{name}.tsv").write_text("\n".join(lines[name]) + "\n", encoding="utf-8")
    files = detect_form(SOURCE, tmp_path)
    assert files.form.name == "iob"
    iob, rejections = run(tmp_path)
    assert not rejections
    assert {(r.id, r.input, r.output) for r in iob} == {(r.id, r.input, r.output) for r in original}
    assert len(iob) == len(original) == 35
    split_of = {"train.tsv": "train", "devel.tsv": "validation", "test.tsv": "test"}
    assert all(r.split == split_of[r.raw_file] for r in iob)
    assert sum(r.key.endswith("-2") for r in iob) == 1  # "Data are available on request." occurs twice


def test_iob_with_type_suffix_docstart_and_stray_i(tmp_path: Path) -> None:
    (tmp_path / "test.tsv").write_text(
        "-DOCSTART-\tO\n\nInfection\tO\nby\tO\nP\tB-Species\n.\tI-Species\nfalciparum\tI-Species\n"
        "and\tO\nmice\tI-Species\n.\tO\n\nNone\tO\nhere\tO\n.\tO\n",
        encoding="utf-8",
    )
    records, rejections = run(tmp_path)
    assert not rejections
    assert [(r.input, r.output, r.locator, r.split) for r in records] == [
        ("Infection by P. falciparum and mice.", "P. falciparum, mice", "test.tsv line 3", "test"),
        ("None here.", NO_ENTITY, "test.tsv line 12", "test"),
    ]


def test_iob_malformed_lines_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "devel.tsv").write_text(
        "Bad line without tab\nrest\tO\n\nGood\tO\nmice\tB\n\nOdd\tX\n", encoding="utf-8"
    )
    records, rejections = run(tmp_path)
    assert [(r.input, r.output, r.split) for r in records] == [("Good mice", "mice", "validation")]
    assert [(r.raw_file, r.locator) for r in rejections] == [
        ("devel.tsv", "devel.tsv line 1"),
        ("devel.tsv", "devel.tsv line 7"),
    ]


def test_unpacked_subfolder_is_accepted(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE, tmp_path / "S800-1.0")
    records, _ = run(tmp_path)
    assert {r.id for r in records} == {r.id for r in run(SAMPLE)[0]}
    assert records[0].raw_file == "S800-1.0/abstracts/species001.txt"


def test_detokenizer_spacing() -> None:
    cases = ["HIV-1 in (P. falciparum) at 9.2% e.g. India's 5'-UTR and 'cost', 1,200 cells / day; done."]
    for text in cases:
        assert detokenize(tokenize(text)) == text.replace(" / ", "/")


def test_iob_copies_with_dev_tsv_in_a_subfolder_and_space_separators(tmp_path: Path) -> None:
    (tmp_path / "s800").mkdir()
    (tmp_path / "s800" / "dev.tsv").write_text("Escherichia B\ncoli I\nis O\ncommon O\n. O\n\n")
    files = detect_form(SOURCE, tmp_path)
    [record] = generate(files)
    assert (files.form.name, record.split) == ("iob", "validation")
    assert (record.input, record.output, record.raw_file) == (
        "Escherichia coli is common.",
        "Escherichia coli",
        "s800/dev.tsv",
    )
