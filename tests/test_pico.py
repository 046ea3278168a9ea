"""PICO specifics: the output is the intersection of the SenSupport workers' token labels, and labels that do
not fit their sentence are quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from converters import pico
from pipeline.forms import NO_ENTITY
from pipeline.model import Record, Rejection, detect_form

SENTENCE = "Forty adults with gout received colchicine or placebo ."


def convert(tmp_path: Path, participants: dict) -> list:
    (tmp_path / "data" / "annotations").mkdir(parents=True)
    sentences = {"111:0": SENTENCE, "111:1": "Nothing here ."}
    (tmp_path / "data" / "sentences.json").write_text(json.dumps(sentences, indent=4))
    path = tmp_path / "data" / "annotations" / "participants_sensupport.json"
    path.write_text(json.dumps(participants, indent=4))
    return list(pico.generate(detect_form(pico.SOURCE, tmp_path)))


def test_phrases_every_worker_marked_in_text_order(tmp_path: Path) -> None:
    workers = [[1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 0, 1, 0, 0, 0]]
    items = convert(tmp_path, {"111:0": {"annotations": workers, "wids": [1, 2, 3]}})
    record = items[0]
    assert (record.key, record.input, record.output, record.group) == ("111:0", SENTENCE, "adults with gout", "111")
    assert record.task_id == "pico_participant_extraction" and record.split is None
    # 111:1 is in sentences.json but not in the annotation file: quarantined, not dropped
    assert items[1] == Rejection(
        "sentence has no annotation in this file",
        "data/annotations/participants_sensupport.json",
        "senid 111:1",
        "pico_participant_extraction",
        "Nothing here .",
    )


def test_no_agreement_gives_the_no_entity_sentence(tmp_path: Path) -> None:
    workers = [[1, 0, 0, 0, 0, 0, 0, 0, 0], [0] * 9, [0] * 9]
    items = convert(tmp_path, {"111:0": {"annotations": workers, "wids": [1, 2, 3]}})
    assert [i.output for i in items if isinstance(i, Record)] == [NO_ENTITY]


def test_labels_that_do_not_fit_the_sentence_are_quarantined(tmp_path: Path) -> None:
    items = convert(
        tmp_path,
        {
            "111:0": {"annotations": [[0] * 9, [0] * 8], "wids": [1, 2]},
            "111:1": {"annotations": [[0, 2, 0]], "wids": [1]},
            "999:0": {"annotations": [[0]], "wids": [1]},
        },
    )
    assert [(i.locator, i.reason) for i in items] == [
        (
            "senid 111:0 (worker 2 has 8 token labels, the sentence has 9 tokens)",
            "worker annotations do not fit the sentence's tokens",
        ),
        ("senid 111:1 (worker 1 has labels other than 0/1)", "worker annotations do not fit the sentence's tokens"),
        ("senid 999:0", "senid not in sentences.json"),
    ]
