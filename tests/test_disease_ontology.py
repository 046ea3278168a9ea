"""Disease Ontology specifics: OBO and OBO-Graph JSON give the same records, obsolete terms are rejected,
relation pairs follow the hierarchy, and subset files merge."""

from __future__ import annotations

import shutil
from pathlib import Path

from converters import disease_ontology as do
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "disease_ontology"
ONTOLOGY = SAMPLE / "src" / "ontology"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(do.generate(detect_form(do.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def test_obo_and_json_give_the_same_records(tmp_path: Path) -> None:
    obo, obo_rejections = run(SAMPLE)
    shutil.copy(ONTOLOGY / "doid.json", tmp_path / "doid.json")
    assert detect_form(do.SOURCE, tmp_path).form.name == "json"
    json_records, json_rejections = run(tmp_path)
    assert {(r.id, r.input, r.output) for r in json_records} == {(r.id, r.input, r.output) for r in obo}
    assert [(r.reason, r.task_id) for r in json_rejections] == [(r.reason, r.task_id) for r in obo_rejections]


def test_obsolete_terms_are_rejected_with_their_replacement() -> None:
    records, rejections = run(SAMPLE)
    [obsolete] = [r for r in rejections if r.locator.startswith("DOID:0090030")]
    assert obsolete.reason == "obsolete term (is_obsolete: true); replaced by DOID:0090002"
    assert not [r for r in records if "marsh ague" in r.input]


def test_synonyms_and_definitions() -> None:
    records, rejections = run(SAMPLE)
    synonyms = {r.key: r.output for r in records if r.task_id == do.SYNONYMS}
    assert synonyms["DOID:0090002"] == "quillworm disease; quillworm infestation"  # RELATED "QWI" left out
    assert synonyms["DOID:0090012"] == "atrophic lantern gland"  # the name in other case and NARROW left out
    definitions = {r.key: r.output for r in records if r.task_id == do.EXPLANATION}
    assert 'has_symptom "feathery" skin scales.' in definitions["DOID:0090002"]  # OBO \" unescaped
    assert "DOID:0090013" not in definitions  # no def: no instance
    assert ("empty definition", "DOID:0090022 (line 120)") in {(r.reason, r.locator) for r in rejections}


def test_relation_pairs_follow_the_hierarchy() -> None:
    records, rejections = run(SAMPLE)
    pairs = {r.key: (r.input, r.output) for r in records if r.task_id == do.RELATION}
    text, label = pairs["DOID:0090012|is_a|DOID:0090011"]
    first = text.split("\n")[0]
    assert label == ("child" if first == "Word 1: lantern gland atrophy" else "parent")
    assert {label for _, label in pairs.values()} == set(do.RELATIONS)
    branch = {f"DOID:00900{n:02d}": n // 10 for n in range(1, 23)}  # 0x: agent, 1x: anatomy, 2x: syndromes
    unrelated = [key.split("|") for key, (_, label) in pairs.items() if label == "unrelated"]
    assert unrelated and all(branch[term] != branch[other] for term, _, other in unrelated)
    missing = [(r.reason, r.value) for r in rejections if r.task_id == do.RELATION]
    assert missing == [("is_a parent DOID:0099999 is not defined in this file", "DOID:0099999")]
    assert not any(key.startswith("DOID:0090040|unrelated") for key in pairs)  # broken lineage: no unrelated pair


def test_subset_files_merge_and_bad_lines_spoil_their_stanza(tmp_path: Path) -> None:
    subsets = tmp_path / "src" / "ontology" / "releases" / "subsets"
    subsets.mkdir(parents=True)
    head = "format-version: 1.2\nontology: doid/subsets/x\n\n"
    (subsets / "A_slim.obo").write_text(
        head + "[Term]\nid: DOID:1\nname: alpha disease\n\n[Term]\nid: DOID:2\nname: beta disease\n\n", "utf-8"
    )
    (subsets / "B_slim.obo").write_bytes(
        (head + "[Term]\nid: DOID:2\nname: beta disease\nis_a: DOID:1 ! alpha disease\n\n").encode()
        + b"[Term]\nid: DOID:3\nname: gamma \xff disease\n"
    )
    records, rejections = run(tmp_path)
    assert [(r.id, r.input) for r in records] == [
        ("do_entity_relation_classification:DOID:2|is_a|DOID:1", records[0].input)
    ]
    assert {r.reason for r in rejections} == {
        "term already read from src/ontology/releases/subsets/A_slim.obo; only its is_a parents are used",
        "line 11 is not UTF-8 (invalid start byte)",
    }
