"""ECDC-TM specifics: the TMX read zipped or not and in UTF-16, entity decoding, the SNI copy giving the same
records, and the units that are quarantined."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from converters import ecdc_tm
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "ecdc_tm"
TMX = SAMPLE / "ECDC-TM" / "ECDC.tmx"


def run(raw_dir: Path) -> tuple[list[Record], list[Rejection]]:
    items = list(ecdc_tm.generate(detect_form(ecdc_tm.SOURCE, raw_dir)))
    return [i for i in items if isinstance(i, Record)], [i for i in items if isinstance(i, Rejection)]


def triples(records: list[Record]) -> set[tuple[str, str, str]]:
    return {(r.id, r.input, r.output) for r in records}


def test_zipped_and_utf16_tmx_give_the_same_records(tmp_path: Path) -> None:
    records, _ = run(SAMPLE)
    with zipfile.ZipFile(tmp_path / "ECDC-TM.zip", "w") as archive:
        archive.write(TMX, "ECDC-TM/ECDC.tmx")
    zipped, _ = run(tmp_path)
    assert triples(zipped) == triples(records)
    assert zipped[0].raw_file == "ECDC-TM.zip" and zipped[0].locator == "ECDC-TM/ECDC.tmx tu 1"
    utf16 = tmp_path / "utf16"
    utf16.mkdir()
    text = TMX.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    (utf16 / "ECDC.tmx").write_bytes(text.encode("utf-16"))
    assert triples(run(utf16)[0]) == triples(records)


def test_entities_and_inline_codes_are_normalised() -> None:
    records, _ = run(SAMPLE)
    by_input = {(r.task_id, r.input): r.output for r in records}
    sv = "ecdc_tm_en_sv_translation"
    assert by_input[(sv, "The network collected 2 400 samples from travellers in one season.")] == (
        "Nätverket samlade in 2 400 prover från resenärer under en säsong."  # &amp;nbsp; in the TMX
    )
    de = "ecdc_tm_en_de_translation"
    assert by_input[(de, "Around 5 % of cases need hospital care.")].startswith("Rund 5 % der")  # raw &nbsp;
    assert by_input[(sv, "Symptoms usually appear within three days. Most patients recover without treatment.")]
    assert all("&" not in r.output and "\xa0" not in r.output for r in records)


def test_quarantined_units_name_their_reason() -> None:
    records, rejections = run(SAMPLE)
    reasons = {(r.locator, r.task_id, r.reason) for r in rejections}
    assert ("tu 6", "ecdc_tm_en_sv_translation", "empty SV segment") in reasons
    assert ("tu 7", None, "translation unit has no English segment (languages: de, fr, sv)") in reasons
    assert ("tu 8", "ecdc_tm_en_sv_translation", "repeats the pair of tu 4") in reasons
    assert sum(r.reason.startswith("target identical to source") for r in rejections) == 3
    assert {r.split for r in records} == {None}
    assert len({r.group for r in records if r.locator == "tu 1"}) == 1  # the three pairs of a unit stay together


def test_sni_task_gives_the_same_records_and_names_missing_tasks(tmp_path: Path) -> None:
    records, _ = run(SAMPLE)
    en_sv = [r for r in records if r.task_id == "ecdc_tm_en_sv_translation"]
    instances = [
        {"id": f"task1395-{n}", "input": r.input, "output": [r.output.replace("2 400", "2&nbsp;400")]}
        for n, r in enumerate(en_sv)
    ]
    (tmp_path / "sni").mkdir()
    task = {"Definition": ["Translate into Swedish."], "Instances": instances}
    (tmp_path / "sni" / ecdc_tm._SNI["en_sv"]).write_text(json.dumps(task, ensure_ascii=False), encoding="utf-8")
    files = detect_form(ecdc_tm.SOURCE, tmp_path)
    assert files.form.name == "sni" and [f.name for f in files.missing] == ["en_de", "fr_en"]
    sni, rejections = run(tmp_path)
    assert not rejections and triples(sni) == triples(en_sv)


def test_malformed_tmx_names_the_file(tmp_path: Path) -> None:
    shutil.copy(TMX, tmp_path / "ECDC.tmx")
    text = (tmp_path / "ECDC.tmx").read_text(encoding="utf-8")
    (tmp_path / "ECDC.tmx").write_text(text.replace("</tu>", "</tuv>", 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"ECDC.tmx: malformed TMX at line \d+"):
        run(tmp_path)
