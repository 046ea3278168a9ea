"""Radiology report entity extraction from RaTE-NER (Zhao et al., EMNLP 2024), taken as the public release of the
sentences MedS-Ins calls "Radiopaedia caption NER". MedS-Ins (task72) read an unpublished
`Report_NER/train_new_new.jsonl` of the same authors with the same row shape; that RaTE-NER is its public
counterpart is the corpus notes' best guess, not a confirmed fact, and the field names and the spelling of the
types below come from those notes and the RaTE-NER model's label set, not from a checked file.

Format read: the Hugging Face dataset Angelakeke/RaTE-NER, its span-based files
`Radiopaedia/{train,dev,test}_span.json` (or the same files placed directly in the raw folder). Despite the
extension these are JSON Lines, one sentence a line in the DyGIE/PURE layout: {"sentences": [[token, ...]],
"ner": [[[start, end_inclusive, TYPE], ...]]}; other fields ("subtext", the raw sentence; a report id) are not
needed and not read. As in DyGIE, several sentences may share a line, their spans then counting tokens across the
whole line. The five RaTE types (Anatomy, Abnormality, Non-Abnormality, Disease, Non-Disease; upper case in the
RaTE-NER model's label set) are matched case-insensitively, "_" read as "-". Only the Radiopaedia part is read:
the MIMIC_IV/ part (and all/, which contains it) comes from credentialed MIMIC-IV reports and is outside this
open-access source. The *_IOB.json files (the same sentences as token tags) are not read.
Splits: train -> "train", dev -> "validation", test -> "test" (the test split is the manually labelled one).

Task `radiopaedia_report_entity_extraction` (category Sentence Composition Analysis), one instance per sentence:
- input: the sentence in the canonical form of `pipeline.ner` (the release tokens re-split by `ner.tokenize` and
  joined by `ner.detokenize`), so that its spacing does not depend on how the release tokenised it;
- output: its entities as `<mention> (<Type>)`, the mention in the same canonical form (punctuation glued to the
  last token of a span in the release, as in "effusion.", is left out), in text order (by start; an enclosing
  span first), via `forms.entities` (de-duplicated, ", "-joined; "There is no related entity." for a sentence
  without entities). MedS-Ins wrote a Python list repr `[['mention', 'TYPE'], ...]`; the shared entity form is
  used here, with the type added to each mention.
Key: a hash of input and output (the release has no sentence ids; repeats get -2, -3...); group: a hash of the
input, so every copy of a sentence lands in one split.

Quarantine: a line that is not a JSON object or not UTF-8, a sentence without tokens, a span outside its sentence
or reversed, or a type outside the five (the whole sentence, since its entity list would be incomplete).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator

from pipeline import forms, ner, readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_SPLITS = (("train", "train"), ("dev", "validation"), ("test", "test"))
_DIRS = ("Radiopaedia/", "RaTE-NER/Radiopaedia/", "")

SOURCE = Source(
    id="radiopaedia_ner",
    name="Radiopaedia caption NER (RaTE-NER)",
    homepage="https://huggingface.co/datasets/Angelakeke/RaTE-NER",
    license="unspecified in the catalogue (the Hugging Face card states CC BY-NC 4.0)",
    access="open",
    citation=(
        "Zhao, W., Wu, C., Zhang, X., Zhang, Y., Wang, Y. and Xie, W. (2024). RaTEScore: A Metric for Radiology "
        "Report Generation. Proceedings of EMNLP 2024."
    ),
    obtain=(
        "Download the Radiopaedia/ folder of the Hugging Face dataset Angelakeke/RaTE-NER (train_span.json, "
        "dev_span.json, test_span.json) into the raw folder, e.g. with "
        "`huggingface-cli download Angelakeke/RaTE-NER --repo-type dataset --include 'Radiopaedia/*' --local-dir .`."
    ),
    forms=(
        RawForm(
            "span",
            tuple(
                RawFile(name, tuple(f"{d}{name}_span.json" for d in _DIRS), required=False, split=split)
                for name, split in _SPLITS
            ),
            "RaTE-NER span files (JSON Lines: sentences, ner) of the Radiopaedia part",
        ),
    ),
    # The authors' Hub dataset; only the Radiopaedia part (the MIMIC_IV part is MIMIC-derived and not used).
    downloads=(
        Download(hf_dataset="Angelakeke/RaTE-NER", files=tuple(f"Radiopaedia/{name}_span.json" for name, _ in _SPLITS)),
    ),
)

TASKS = (
    Task(
        "radiopaedia_report_entity_extraction",
        "Sentence Composition Analysis",
        "Clinical Text",
        tags=("Radiology", "Radiopaedia"),
    ),
)
TASK = TASKS[0].id

#: The RaTE entity types, as the output names them; keys are their case-folded spellings.
TYPES = {t.lower(): t for t in ("Anatomy", "Abnormality", "Non-Abnormality", "Disease", "Non-Disease")}
_TRAILING = frozenset(".,;:!?")  # split off the end of a release token, not part of the mention


def generate(files: RawFiles) -> Iterator[Item]:
    seen: Counter[str] = Counter()
    for name, split in _SPLITS:
        for path in files.paths(name):
            raw_file = files.relative(path)
            for number, row, problem in readers.json_lines(path):
                where = f"line {number}"
                if problem:
                    yield Rejection(problem, raw_file, where, TASK, str(row)[:300])
                    continue
                for item in _sentences(row, raw_file, where):
                    if isinstance(item, Rejection):
                        yield item
                        continue
                    text, output, locator = item
                    key = _digest(f"{text}\n{output}")
                    seen[key] += 1
                    key += f"-{seen[key]}" if seen[key] > 1 else ""
                    yield Record(TASK, key, text, output, raw_file, locator, split, _digest(text))


def _sentences(row: dict, raw_file: str, where: str) -> Iterator[tuple[str, str, str] | Rejection]:
    sentences, spans = row.get("sentences"), row.get("ner")
    if not _is_list_of_lists(sentences) or not _is_list_of_lists(spans) or len(spans) != len(sentences):
        yield Rejection("sentences and ner missing or not parallel lists", raw_file, where, TASK, str(row)[:300])
        return
    offset = 0
    for number, (tokens, annotated) in enumerate(zip(sentences, spans, strict=True), 1):
        locator = where if len(sentences) == 1 else f"{where} sentence {number}"
        try:
            yield (*_sentence(tokens, annotated, offset), locator)
        except forms.FormError as error:
            yield Rejection(str(error), raw_file, locator, TASK, f"{tokens} {annotated}"[:300])
        offset += len(tokens)


def _sentence(tokens: list, annotated: list, offset: int) -> tuple[str, str]:
    """(input, output) of one sentence; `annotated` spans count tokens from the start of the line (DyGIE)."""
    if not tokens or not all(isinstance(t, str) for t in tokens):
        raise forms.FormError("sentence without tokens")
    pieces = [ner.tokenize(t) for t in tokens]  # a release token may hold several canonical ones ("opacity.")
    starts, flat = [], []
    for piece in pieces:
        starts.append(len(flat))
        flat.extend(piece)
    if not flat:
        raise forms.FormError("sentence without tokens")
    mentions = []
    for span in annotated:
        if not (isinstance(span, list) and len(span) == 3 and all(isinstance(v, int) for v in span[:2])):
            raise forms.FormError("malformed span (expected [start, end, TYPE])")
        start, end, kind = span[0] - offset, span[1] - offset, span[2]
        if not 0 <= start <= end < len(tokens):
            raise forms.FormError("span outside its sentence")
        label = TYPES.get(str(kind).strip().lower().replace("_", "-"))
        if label is None:
            raise forms.FormError("unknown entity type")
        first, last = starts[start], starts[end] + len(pieces[end])
        while last - 1 > starts[end] and flat[last - 1] in _TRAILING:  # "appendicitis." -> "appendicitis"
            last -= 1
        if first == last:
            raise forms.FormError("span covers no text")
        mentions.append((first, -last, label, ner.detokenize(flat[first:last])))
    output = forms.entities(f"{text} ({label})" for _, _, label, text in sorted(mentions))
    return ner.detokenize(flat), output


def _is_list_of_lists(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, list) for v in value)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
