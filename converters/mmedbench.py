"""MMedBench (Qiu et al., Nature Communications 2024): multiple-choice medical exam questions in six languages, each
with a rationale explaining the answer. MedS-Ins uses it for one explanation task per language:

- input = the question with its options and the correct answer,
  `forms.fields(question=forms.multiple_choice(question, options), answer=<letter>. <option text>)`; when
  `answer_idx` names several letters (Japanese and French have multi-answer questions) the answer part lists each
  `<letter>. <option text>`, joined by ", ";
- output = the `rationale`, as written.

Read: `MMedBench.zip` as Hugging Face (Henrychur/MMedBench) distributes it, straight from the archive, or its
unzipped folders (`MMedBench/Train/`, `MMedBench/Test/`, or `Train/`, `Test/` in the raw folder). Each folder has
one JSON Lines file per language, `<Language>.jsonl` (Chinese, English, French, Japanese, Russian, Spanish); a row
is {"question", "options": {"A": ...}, "answer_idx": "A" or ["A", "C"], "rationale", ...} (English and Chinese rows
also carry MedQA's "answer" and "meta_info", Japanese ones IgakuQA's "problem_id"). Train/ -> "train" and Test/ ->
"test" (the MMedBench Rationale benchmarks of MedS-Bench). The language comes from the file name, as in MMedLM's own
loader. Rows have no common id, so the key is the split + line number within the language file (`test-12`), the
same whichever way the archive is read. A row without a rationale, or whose answer letter is not among its options,
is quarantined.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipeline import forms, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

#: language file stem -> the exam MMedBench took it from
LANGUAGES = {
    "Chinese": "MedQA MCMLE",
    "English": "MedQA USMLE",
    "French": "FrenchMedMCQA",
    "Japanese": "IgakuQA",
    "Russian": "RuMedDaNet",
    "Spanish": "HEAD-QA",
}
TASKS = tuple(
    Task(
        f"mmedbench_explanation_{language.lower()}",
        "Explanation",
        "Medical Knowledge",
        tags=("Medical Exam", "Rationale", exam),
        input_language=language,
        output_language=language,
    )
    for language, exam in LANGUAGES.items()
)
TASK_OF = {language: f"mmedbench_explanation_{language.lower()}" for language in LANGUAGES}

_SPLITS = {"Train": "train", "Test": "test"}
_MEMBER = re.compile(r"(?:^|/)(Train|Test)/([^/]+)\.jsonl$")
_SEPARATORS = re.compile(r"[\s,;、，]+")

SOURCE = Source(
    id="mmedbench",
    name="MMedBench",
    homepage="https://huggingface.co/datasets/Henrychur/MMedBench",
    license="CC BY-NC 4.0",
    access="open",
    citation=(
        "Qiu, P., Wu, C., Zhang, X., Lin, W., Wang, H., Zhang, Y., Wang, Y. and Xie, W. (2024). Towards Building "
        "Multilingual Language Model for Medicine. Nature Communications 15: 8384."
    ),
    obtain=(
        "Download MMedBench.zip from https://huggingface.co/datasets/Henrychur/MMedBench (Files) and place it in "
        "the raw folder as is, or unzipped (MMedBench/Train/<Language>.jsonl, MMedBench/Test/<Language>.jsonl)."
    ),
    forms=(
        RawForm(
            "zip",
            (RawFile("archive", ("MMedBench.zip",), description="read without unpacking"),),
            "MMedBench.zip as distributed on Hugging Face",
        ),
        RawForm(
            "unzipped",
            tuple(
                RawFile(folder.lower(), tuple(f"{p}{folder}/*.jsonl" for p in ("MMedBench/", "")), False, split)
                for folder, split in _SPLITS.items()
            ),
            "the unzipped archive: MMedBench/Train/<Language>.jsonl and MMedBench/Test/<Language>.jsonl",
        ),
    ),
    downloads=(Download(hf_dataset="Henrychur/MMedBench", files=("MMedBench.zip",)),),
)


def generate(files: RawFiles) -> Iterator[Item]:
    if files.form.name == "zip":
        yield from _archive(files.path("archive"), files.relative(files.path("archive")))
        return
    for raw in files.form.files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            with path.open("rb") as f:
                yield from _language_file(f, path.stem, raw.split, name, "")


def _archive(path: Path, name: str) -> Iterator[Item]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{name}: not a readable zip archive: {error}") from error
    with archive:
        found = [(m, _MEMBER.search(m.filename)) for m in archive.infolist() if "__MACOSX" not in m.filename]
        members = sorted(((m, hit) for m, hit in found if hit), key=lambda x: (x[1].group(1) == "Test", x[0].filename))
        if not members:
            raise ValueError(f"{name}: no Train/<Language>.jsonl or Test/<Language>.jsonl inside the archive")
        for member, hit in members:
            with archive.open(member) as f:
                yield from _language_file(f, hit.group(2), _SPLITS[hit.group(1)], name, f"{member.filename} ")


def _language_file(f: BinaryIO, language: str, split: str | None, name: str, prefix: str) -> Iterator[Item]:
    """The records of one <Language>.jsonl; `prefix` names the archive member in locators."""
    task = TASK_OF.get(language)
    if task is None:
        why = f"no task for language file {language}.jsonl (expected one of {', '.join(LANGUAGES)})"
        yield Rejection(why, name, f"{prefix}(whole file)".strip())
        return
    for number, row, problem in readers.json_lines(f):
        where = f"{prefix}line {number}"
        if problem:
            yield Rejection(problem, name, where, task, str(row)[:500])
            continue
        try:
            input_text, rationale = _explanation(row)
        except forms.FormError as error:
            yield Rejection(str(error), name, where, task, json.dumps(row, ensure_ascii=False)[:500])
            continue
        yield Record(task, f"{split}-{number}", input_text, rationale, name, where, split=split)


def _explanation(row: dict) -> tuple[str, str]:
    question, options, rationale = row.get("question"), row.get("options"), row.get("rationale")
    if not isinstance(question, str) or not question.strip():
        raise forms.FormError("missing or empty question")
    values = options.values() if isinstance(options, dict) else options if isinstance(options, list) else None
    if values is None or not all(isinstance(v, str) for v in values):
        raise forms.FormError("options is not an object of letter -> text")
    if not isinstance(rationale, str) or not rationale.strip():
        raise forms.FormError("missing or empty rationale")
    choice = forms.multiple_choice(question, options)
    answers = [forms.choice_answer(letter, options) for letter in _letters(row.get("answer_idx"), options)]
    return forms.fields(question=choice, answer=", ".join(answers)), rationale.strip()


def _letters(answer_idx: object, options: dict | list) -> list[str]:
    """The answer letters: a list of letters, one letter, or several in one string ("A,C", "AC")."""
    if isinstance(answer_idx, list) and all(isinstance(a, str) for a in answer_idx):
        letters = [a.strip() for a in answer_idx]
    elif isinstance(answer_idx, str):
        letters = [t for t in _SEPARATORS.split(answer_idx.strip()) if t]
        keys = set(forms.options_of(options))
        if len(letters) == 1 and len(letters[0]) > 1 and letters[0].upper() not in keys and letters[0].isalpha():
            letters = list(letters[0])
    else:
        raise forms.FormError(f"answer_idx {answer_idx!r} is neither a letter nor a list of letters")
    letters = list(dict.fromkeys(a for a in letters if a))
    if not letters:
        raise forms.FormError("no answer (answer_idx is empty)")
    return letters
