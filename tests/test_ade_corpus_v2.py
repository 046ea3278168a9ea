"""ADE Corpus V2 specifics: relations of one sentence merged across files in text order, negatives from
ADE-NEG.txt, and the quarantine of malformed relations, repeats and contradictions."""

from __future__ import annotations

from pathlib import Path

from converters import ade_corpus_v2 as ade
from pipeline.model import Record, Rejection, detect_form

S = "Nausea followed high-dose aspirin 3 g and ibuprofen 400 mg."


def rel(pmid: str, sentence: str, other: str, drug: str, base: int = 100) -> str:
    a, d = sentence.index(other), sentence.index(drug)
    return f"{pmid}|{sentence}|{other}|{base + a}|{base + a + len(other)}|{drug}|{base + d}|{base + d + len(drug)}"


def convert(tmp_path: Path, ae: list[str], dose: list[str] = (), neg: list[str] = ()) -> list:
    for name, lines in (("DRUG-AE.rel", ae), ("DRUG-DOSE.rel", dose), ("ADE-NEG.txt", neg)):
        (tmp_path / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return list(ade.generate(detect_form(ade.SOURCE, tmp_path)))


def outputs(items: list, task: str) -> list[tuple[str, str]]:
    return [(r.input, r.output) for r in items if isinstance(r, Record) and r.task_id == task]


def test_relations_merge_per_sentence_in_text_order(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        ae=[rel("7", S, "Nausea", "ibuprofen"), rel("7", S, "Nausea", "aspirin")],
        dose=[rel("7", S, "3 g", "aspirin"), rel("7", S, "high-dose", "aspirin"), rel("7", S, "400 mg", "ibuprofen")],
        neg=["7 NEG Both drugs were stopped."],
    )
    assert outputs(items, ade.DRUGS) == [(S, "aspirin, ibuprofen")]
    assert outputs(items, ade.DOSES) == [
        (f"Sentence: {S}\nDrug: aspirin", "high-dose, 3 g"),
        (f"Sentence: {S}\nDrug: ibuprofen", "400 mg"),
    ]
    assert outputs(items, ade.CLASSIFY) == [(S, ade.ADE), ("Both drugs were stopped.", ade.NON_ADE)]
    assert {r.group for r in items} == {"7"}


def test_malformed_relation_keeps_the_sentence_out_of_extraction(tmp_path: Path) -> None:
    bad = rel("7", S, "Nausea", "aspirin").replace("|aspirin|", "|naproxen|")
    items = convert(tmp_path, ae=[rel("7", S, "Nausea", "ibuprofen"), bad, "8|too short"])
    reasons = [(i.reason, i.locator, i.task_id) for i in items if isinstance(i, Rejection)]
    assert reasons == [
        ("drug offsets do not span the drug", "line 2", None),
        ("fewer than 8 pipe-separated fields", "line 3", None),
        (
            "a relation of this sentence is malformed: its drug list would be incomplete",
            "PMID 7, line 1 (malformed: DRUG-AE.rel line 2)",
            ade.DRUGS,
        ),
    ]
    assert outputs(items, ade.DRUGS) == [] and outputs(items, ade.CLASSIFY) == [(S, ade.ADE)]


def test_negative_repeats_and_contradictions_are_quarantined(tmp_path: Path) -> None:
    items = convert(tmp_path, ae=[rel("7", S, "Nausea", "aspirin")], neg=["7 NEG Fine.", "7 NEG Fine.", f"7 NEG {S}"])
    assert [(i.reason, i.locator) for i in items if isinstance(i, Rejection)] == [
        ("repeated line", "line 2 (repeats line 1)"),
        ("negative sentence also listed with an adverse effect", "line 3 (in DRUG-AE.rel line 1)"),
    ]
