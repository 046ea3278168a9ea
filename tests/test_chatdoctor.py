"""ChatDoctor specifics: one task per file, iCliniq's real-doctor answer, the CRLF/BOM/mojibake quirks of
the JSON lists, quarantine of broken and repeated items, and broken files (shared `pipeline.readers` helpers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters import chatdoctor
from pipeline.model import Record, Rejection, detect_form

INSTRUCTION = "If you are a doctor, please answer the medical questions based on the patient's description."


def convert(tmp_path: Path, files: dict[str, bytes]) -> list:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return list(chatdoctor.generate(detect_form(chatdoctor.SOURCE, tmp_path)))


def pairs(*items: tuple[str, str]) -> bytes:
    text = json.dumps([{"instruction": INSTRUCTION, "input": q, "output": a} for q, a in items], indent=6)
    return text.replace("\n", "\r\n").encode()


def test_each_file_feeds_its_own_task(tmp_path: Path) -> None:
    icliniq = [{"input": "q3", "answer_icliniq": "real", "answer_chatgpt": "gpt", "answer_chatdoctor": "bot"}]
    items = convert(
        tmp_path,
        {
            "chatdoctor5k.json": pairs(("q1", "a1")),
            "HealthCareMagic-100k.json": b"\xef\xbb\xbf" + pairs(("q2", "a2")),
            "iCliniq.json": json.dumps(icliniq).encode(),
        },
    )
    assert [(r.task_id, r.input, r.output, r.split) for r in items] == [
        ("chatdoctor_conversation", "Patient: q1", "a1", None),
        ("chatdoctor_healthcaremagic_conversation", "Patient: q2", "a2", None),
        ("chatdoctor_icliniq_conversation", "Patient: q3", "real", None),
    ]


def test_mojibake_repaired_and_broken_items_quarantined(tmp_path: Path) -> None:
    raw = pairs(("It\u00e2\u20ac\u2122s 38 \u00c2\u00b0C", "a"), ("q", ""), ("BAD", "a"), ("q", "b"), ("q", "b"))
    items = convert(tmp_path, {"HealthCareMagic-100k.json": raw.replace(b"BAD", b"b\xe9d")})
    assert [r.input for r in items if isinstance(r, Record)] == ["Patient: It\u2019s 38 \u00b0C", "Patient: q"]
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection)] == [
        ("empty output", "item 2"),
        ("non-UTF-8 byte in input", "item 3"),
        ("repeats an earlier item (same input and output)", "item 5"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"input": "q", "output": "a"}', r"iCliniq.json: expected a JSON list of objects, found '\{'"),
        (
            b'[{"input": "q", "answer_icliniq": "a"}, {"input": "q2", "answ',
            r"iCliniq.json: malformed JSON after item 1",
        ),
    ],
)
def test_broken_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        convert(tmp_path, {"iCliniq.json": content})
