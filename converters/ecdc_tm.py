"""ECDC-TM, the translation memory of the European Centre for Disease Prevention and Control (Steinberger et
al., LRE 2014): sentences of ECDC web pages written in English and professionally translated into 24 languages.

Two forms are read, giving the same (id, input, output) for the same sentence pair:
- `tmx` (the official distribution): ECDC-TM.zip holding one multilingual TMX file, ECDC-TM/ECDC.tmx, read
  from inside the zip or unzipped. Each `<tu>` has one `<tuv xml:lang="EN"><seg>...</seg></tuv>` per language
  (codes such as EN, SV, DE, FR; region suffixes like EN-GB and the TMX 1.1 `lang` attribute are accepted).
  The file is parsed incrementally (expat), so it never sits in memory whole. Inline TMX markup that carries
  native codes (`bpt`, `ept`, `ph`, `it`, `ut`) is dropped, the text of `hi` / `sub` kept.
- `sni`: the Super-NaturalInstructions task files built from it (task1395 en->sv, task1396 en->de, task1397
  fr->en; `Instances[{id, input, output: [...]}]`), each optional; a missing one is named by the build.

Tasks (input = the source-language segment, output = its translation): `ecdc_tm_en_sv_translation` (English ->
Swedish), `ecdc_tm_en_de_translation` (English -> German), `ecdc_tm_fr_en_translation` (French -> English).
A unit that lacks either language of a pair is simply not an instance of that pair.

Segments carry HTML entities (`&nbsp;` in numbers such as "3&nbsp;000", escaped as `&amp;nbsp;` in the TMX):
they are decoded, and every run of whitespace (non-breaking spaces included) becomes one space. A raw,
undeclared `&nbsp;` entity is resolved too when the TMX has its DOCTYPE line. The TM has no ids and no splits:
the key is a hash of the normalised (source, target) pair, the group a hash of the English sentence, so the
three pairs of one unit share a split (the build hash-splits on it). Rejected: units without an English
segment, empty segments, untranslated segments (target identical to source) and repeats of a pair already
seen (TMs repeat boilerplate such as menu labels).
"""

from __future__ import annotations

import hashlib
import html
import html.entities
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

import ijson

from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_SNI = {
    "en_sv": "task1395_europa_ecdc_tm_en_sv_translation.json",
    "en_de": "task1396_europa_ecdc_tm_en_de_translation.json",
    "fr_en": "task1397_europa_ecdc_tm_fr_en_translation.json",
}

SOURCE = Source(
    id="ecdc_tm",
    name="ECDC Translation Memory (ECDC-TM)",
    homepage="https://ec.europa.eu/jrc/en/language-technologies/ecdc-translation-memory",
    license="ECDC-TM terms of use (© EU/ECDC; HF card: CC BY-SA 4.0)",
    access="open",
    citation=(
        "Steinberger, R., Ebrahim, M., Poulis, A., Carrasco-Benitez, M., Schlüter, P., Przybyszewski, M. and "
        "Gilbro, S. (2014). An overview of the European Union's highly multilingual parallel corpora. Language "
        "Resources and Evaluation 48(4): 679-707."
    ),
    obtain=(
        "Download ECDC-TM.zip (http://optima.jrc.it/Resources/ECDC-TM/ECDC-TM.zip) into the raw folder, zipped or "
        "unzipped (ECDC-TM/ECDC.tmx). The Super-NaturalInstructions task files task1395/1396/1397_europa_ecdc_tm_*"
        ".json (github.com/allenai/natural-instructions, tasks/) are accepted instead."
    ),
    forms=(
        RawForm(
            "tmx",
            (
                RawFile(
                    "tmx",
                    ("ECDC-TM.zip", "ECDC-TM/ECDC.tmx", "ECDC.tmx", "*.tmx", "*/*.tmx"),
                    description="the multilingual TMX, zipped or not",
                ),
            ),
            "the official ECDC-TM.zip with its multilingual TMX (zipped or unzipped)",
        ),
        RawForm(
            "sni",
            tuple(
                RawFile(pair, (f"sni/{file}", file, f"tasks/{file}"), required=False, description=f"SNI {pair} task")
                for pair, file in _SNI.items()
            ),
            "Super-NaturalInstructions task files task1395 (en-sv), task1396 (en-de), task1397 (fr-en)",
        ),
    ),
    # The JRC's current address of ECDC-TM.zip (formerly http://optima.jrc.it/Resources/ECDC-TM/ECDC-TM.zip).
    downloads=(
        Download(
            "https://wt-public.emm4u.eu/Resources/ECDC-TM/ECDC-TM.zip",
            "ECDC-TM.zip",
            note="the JRC moves this file between hosts; the address is taken from current public scripts",
        ),
    ),
)

_TAGS = ("Public Health",)
LANGUAGES = {"en": "English", "sv": "Swedish", "de": "German", "fr": "French"}
PAIRS = (("en", "sv"), ("en", "de"), ("fr", "en"))
TASKS = tuple(
    Task(
        f"ecdc_tm_{src}_{tgt}_translation",
        "Translation",
        "Medical Knowledge",
        tags=_TAGS,
        input_language=LANGUAGES[src],
        output_language=LANGUAGES[tgt],
        several_outputs=True,
    )
    for src, tgt in PAIRS
)
TASK_OF = {pair: task.id for pair, task in zip(PAIRS, TASKS, strict=True)}

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NATIVE_CODE = {"bpt", "ept", "ph", "it", "ut"}  # inline elements whose content is markup, not text
_HTML_ENTITIES = {name: chr(code) for name, code in html.entities.name2codepoint.items()}


def generate(files: RawFiles) -> Iterator[Item]:
    seen: dict[str, dict[str, str]] = {task.id: {} for task in TASKS}
    if files.form.name == "tmx":
        for path in files.paths("tmx"):
            yield from _tmx(path, files.relative(path), seen)
    else:
        for pair, (src, tgt) in zip(_SNI, PAIRS, strict=True):
            for path in files.paths(pair):
                yield from _sni(path, files.relative(path), src, tgt, seen)


def normalise(text: str) -> str:
    """HTML entities decoded, every whitespace run (NBSP included) one space, trimmed."""
    return " ".join(html.unescape(text).split())


def _pair(src: str, tgt: str, source: str, target: str, raw: str, where: str, seen: dict[str, dict[str, str]]) -> Item:
    task = TASK_OF[(src, tgt)]
    source, target = normalise(source), normalise(target)
    if not source or not target:
        return Rejection(f"empty {(src if not source else tgt).upper()} segment", raw, where, task)
    if source == target:
        return Rejection("target identical to source (untranslated segment)", raw, where, task, target)
    key = _digest(f"{source}\x1f{target}")
    if key in seen[task]:
        return Rejection(f"repeats the pair of {seen[task][key]}", raw, where, task, source)
    seen[task][key] = where
    english = source if src == "en" else target
    return Record(task, key, source, target, raw, where, group=_digest(english))


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


# --- TMX -------------------------------------------------------------------------------------------------------


def _tmx(path: Path, name: str, seen: dict[str, dict[str, str]]) -> Iterator[Item]:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = sorted(m for m in archive.namelist() if m.lower().endswith(".tmx"))
                if not members:
                    raise ValueError(f"{name}: the zip holds no .tmx file ({archive.namelist()})")
                for member in members:
                    with archive.open(member) as stream:
                        yield from _units(stream, name, f"{member} ", seen)
        except zipfile.BadZipFile as error:
            raise ValueError(f"{name}: not a readable zip ({error})") from error
    else:
        with path.open("rb") as stream:
            yield from _units(stream, name, "", seen)


def _units(stream: BinaryIO, name: str, prefix: str, seen: dict[str, dict[str, str]]) -> Iterator[Item]:
    reader = _TmxReader()
    parser = ElementTree.XMLParser(target=reader)
    parser.entity.update(_HTML_ENTITIES)  # undeclared HTML entities, resolvable when the file has a DOCTYPE
    try:
        while chunk := stream.read(1 << 16):
            parser.feed(chunk)
            yield from _drain(reader, name, prefix, seen)
        parser.close()
    except ElementTree.ParseError as error:
        line, column = error.position
        raise ValueError(f"{name}: {prefix}malformed TMX at line {line}, column {column}: {error}") from error
    yield from _drain(reader, name, prefix, seen)


def _drain(reader: _TmxReader, name: str, prefix: str, seen: dict[str, dict[str, str]]) -> Iterator[Item]:
    while reader.done:
        number, tuid, segments = reader.done.pop(0)
        where = f"{prefix}tu {number}" + (f" (tuid {tuid})" if tuid else "")
        if not any(normalise(s) for s in segments.get("en", [])):
            langs = ", ".join(sorted(segments)) or "none"
            yield Rejection(f"translation unit has no English segment (languages: {langs})", name, where)
            continue
        for src, tgt in PAIRS:
            for source in segments.get(src, []):
                for target in segments.get(tgt, []):
                    yield _pair(src, tgt, source, target, name, where, seen)


class _TmxReader:
    """An expat target collecting finished translation units as (number, tuid, {language: [segments]})."""

    def __init__(self) -> None:
        self.done: list[tuple[int, str, dict[str, list[str]]]] = []
        self.count = 0
        self.unit: dict[str, list[str]] | None = None
        self.tuid = ""
        self.lang: str | None = None
        self.parts: list[str] | None = None
        self.skip = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = tag.rpartition("}")[2]
        if tag == "tu":
            self.count += 1
            self.unit, self.tuid = {}, attrib.get("tuid", "")
        elif tag == "tuv" and self.unit is not None:
            code = attrib.get(_XML_LANG) or attrib.get("lang") or ""
            self.lang = code.replace("_", "-").split("-")[0].strip().lower()
        elif tag == "seg" and self.lang is not None:
            self.parts, self.skip = [], 0
        elif self.parts is not None and tag in _NATIVE_CODE:
            self.skip += 1

    def data(self, text: str) -> None:
        if self.parts is not None and not self.skip:
            self.parts.append(text)

    def end(self, tag: str) -> None:
        tag = tag.rpartition("}")[2]
        if self.parts is not None and tag in _NATIVE_CODE:
            self.skip -= 1
        elif tag == "seg" and self.parts is not None and self.unit is not None and self.lang is not None:
            self.unit.setdefault(self.lang, []).append("".join(self.parts))
            self.parts = None
        elif tag == "tuv":
            self.lang = None
        elif tag == "tu" and self.unit is not None:
            self.done.append((self.count, self.tuid, self.unit))
            self.unit = None

    def close(self) -> None:
        return None


# --- Super-NaturalInstructions ---------------------------------------------------------------------------------


def _sni(path: Path, name: str, src: str, tgt: str, seen: dict[str, dict[str, str]]) -> Iterator[Item]:
    task = TASK_OF[(src, tgt)]
    with path.open("rb") as f:
        try:
            for number, instance in enumerate(ijson.items(f, "Instances.item"), 1):
                ident = instance.get("id") if isinstance(instance, dict) else None
                where = f"instance {ident}" if ident else f"instance {number}"
                outputs = instance.get("output") if isinstance(instance, dict) else None
                source = instance.get("input") if isinstance(instance, dict) else None
                if not isinstance(source, str) or not isinstance(outputs, list) or not outputs:
                    yield Rejection("instance lacks an input string or a non-empty output list", name, where, task)
                    continue
                for target in outputs:
                    if not isinstance(target, str):
                        yield Rejection("output is not a string", name, where, task, repr(target)[:80])
                    else:
                        yield _pair(src, tgt, source, target, name, where, seen)
        except ijson.JSONError as error:
            raise ValueError(f"{name}: malformed JSON: {error}") from error
