"""ShareGPT specifics: one instance per assistant turn with the dialogue before it, the parts of a split
conversation in one group, the unsplit HTML-cleaned files read together, and quarantined conversations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import sharegpt
from pipeline.model import Record, Rejection, detect_form

MEDICAL = "I have had a cough and fever for a week."


def conv(cid: str, *turns: tuple[str, str]) -> dict:
    return {"id": cid, "conversations": [{"from": who, "value": text} for who, text in turns]}


def convert(tmp_path: Path, files: dict[str, object]) -> list:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else json.dumps(content, indent=2).encode()
        (tmp_path / name).write_bytes(data)
    return list(sharegpt.generate(detect_form(sharegpt.SOURCE, tmp_path)))


def test_one_instance_per_assistant_turn(tmp_path: Path) -> None:
    first = conv("abc_0", ("system", "Be brief."), ("human", MEDICAL), ("gpt", "See a doctor."), ("human", "Why?"))
    second = conv("abc_8", ("gpt", "(continued)"), ("human", "Which doctor?"), ("chatgpt", "Your GP."))
    items = convert(tmp_path, {"ShareGPT_V3_unfiltered_cleaned_split.json": [first, second]})
    assert all(isinstance(i, Record) for i in items)
    assert [(i.key, i.group, i.split, i.output) for i in items] == [
        ("abc_0:3", "abc", None, "See a doctor."),
        ("abc_8:3", "abc", None, "Your GP."),
    ]
    assert items[0].input == f"System: Be brief.\n\nUser: {MEDICAL}"
    assert items[1].input == "Assistant: (continued)\n\nUser: Which doctor?"


def test_html_cleaned_parts_and_quarantine(tmp_path: Path) -> None:
    part1 = [
        conv("x1", ("human", MEDICAL), ("gpt", "")),
        conv("x2", ("human", MEDICAL), ("bard", "Rest.")),
        conv("x3", ("human", "Write a haiku about autumn."), ("gpt", "Leaves fall.")),
        conv("x4", ("human", MEDICAL)),
    ]
    part2 = [conv("x3", ("human", MEDICAL), ("gpt", "Rest.")), ["not", "an", "object"]]
    folder = "HTML_cleaned_raw_dataset"
    items = convert(
        tmp_path,
        {f"{folder}/sg_90k_part1_html_cleaned.json": part1, f"{folder}/sg_90k_part2_html_cleaned.json": part2},
    )
    assert all(isinstance(i, Rejection) for i in items)
    assert [(i.reason, i.raw_file.split("_")[-3], i.locator, i.value) for i in items] == [
        ("empty assistant turn", "part1", "id x1, turn 2", None),
        ("unknown speaker", "part1", "id x2", "bard"),
        ("not selected by the medical tagger (keyword)", "part1", "id x3", "no medical term"),
        ("no assistant turn after a user turn", "part1", "id x4", "1 turns"),
        ("repeated conversation id", "part2", "id x3", f"first read at {folder}/sg_90k_part1_html_cleaned.json item 3"),
        ("item is not a JSON object", "part2", "item 2", "['not', 'an', 'object']"),
    ]


def test_bad_byte_and_broken_file(tmp_path: Path) -> None:
    raw = json.dumps([conv("y1", ("human", MEDICAL + " BAD"), ("gpt", "Rest."))]).encode()
    items = convert(tmp_path, {"ShareGPT_V3_unfiltered_cleaned_split.json": raw.replace(b"BAD", b"\xff")})
    assert [(i.reason, i.locator) for i in items] == [("non-UTF-8 byte in a turn", "id y1")]
    with pytest.raises(ValueError, match=r"ShareGPT_V3_unfiltered_cleaned_split.json: malformed JSON after item 1"):
        convert(tmp_path, {"ShareGPT_V3_unfiltered_cleaned_split.json": raw[:-1] + b', {"id": "y2", "conv'})
