"""HEAD-QA (Vilares and Gomez-Rodriguez, ACL 2019): multiple-choice questions from the Spanish specialised
healthcare exams (MIR, EIR, FIR, PIR, QIR, BIR: medicine, nursing, pharmacology, psychology, chemistry,
biology), in Spanish and in an English translation that keeps the same exam names and question ids.

Read as distributed on the authors' Google Drive (HEAD.zip -> HEAD/, HEAD_EN.zip -> HEAD_EN/), the official
split files `HEAD/{train,dev,test}_HEAD.json` and `HEAD_EN/{train,dev,test}_HEAD_EN.json` (also accepted
directly in the raw folder). Each is one JSON object {"version", "language", "exams": {exam name:
{"name", "data": [question], "category", "year"}}} with questions {"qid": "1", "qtext", "ra": "3",
"answers": [{"aid": 1, "atext"}, ...], "image": "" or a path}; `ra` is the aid of the right answer (the same
answer the per-exam `.gold` files list, so those are not read; neither is HEAD[_EN].json, the union of the
splits). Question and option texts are whitespace-normalised (the PDF extraction leaves line breaks inside
sentences). Questions linked to an image (non-empty `image`, text starting "Pregunta vinculada a la imagen")
are kept, as in MMedBench-Spanish; the images are a separate download and are not used.

Tasks (key = `<exam name>-<qid>`, e.g. `Cuaderno_2013_1_B-12`, shared by every task as `group`):
- head_qa_question_answering (Spanish, the MedS-Bench "MMedBench ES" set; its test = the official test split):
  input forms.multiple_choice(qtext, options), output forms.choice_answer -> "<LETTER>. <option text>", with
  options lettered A, B, ... in file order.
- head_qa_answer_generation (English, as Super-NaturalInstructions task1431 from the English version): the same
  multiple-choice form on the English files.
- head_qa_classification (English, as SNI task1434): input = the English question with its options (the
  multiple-choice input form), output = the exam's category, one of LABELS (the SNI copy spells the nursing
  exam "nursery", the dataset card "nursing": both are accepted and output as "nursing").
- head_qa_translation_en_es / head_qa_translation_es_en (as SNI task1432 / task1433): input = the question text
  in one language, output = the same question in the other, paired on (exam, qid) within a split.

No real copy could be checked here: the layout follows the repository README, the Hugging Face and BigBio
loaders, and the `dummy_data` cut of the Hugging Face loader (2-space indent, ASCII \\u escapes, CRLF line
endings), which the bundled sample reproduces. The Hugging Face Hub Parquet export of `head_qa` (configs es and
en, one row per question with its exam's name and category) is accepted as a second form with the same records.

Official splits throughout: train -> train, dev -> validation, test -> test. Exams are streamed one at a time;
for the translation pairs, the English question texts of one split file (about 1 MB) are indexed before its
Spanish file is read. Broken questions (no answer id, answer id not among the answers, empty text, unknown
category, a question with no counterpart in the other language) are quarantined per task with
`exam <name> qid <qid>` as locator; a file that is not valid JSON raises ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ijson

from pipeline import forms, readers
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SPLITS = (("train", "train"), ("dev", "validation"), ("test", "test"))
LANGUAGES = (("es", "HEAD"), ("en", "HEAD_EN"))

SOURCE = Source(
    id="head_qa",
    name="HEAD-QA",
    homepage="https://github.com/aghie/head-qa",
    license="MIT",
    access="open",
    citation=(
        "Vilares, D. and Gomez-Rodriguez, C. (2019). HEAD-QA: A Healthcare Dataset for Complex Reasoning. "
        "ACL 2019, pp. 960-966."
    ),
    obtain=(
        "Download ES_HEAD (HEAD.zip) and EN_HEAD (HEAD_EN.zip) from the Google Drive links in the README of "
        "https://github.com/aghie/head-qa and unzip both into the raw folder, giving HEAD/{train,dev,test}_HEAD.json "
        "and HEAD_EN/{train,dev,test}_HEAD_EN.json (the .gold files and HEAD[_EN].json may stay; they are not read)."
    ),
    version="1.0",
    forms=(
        RawForm(
            "json",
            tuple(
                RawFile(
                    f"{lang}_{part}",
                    (f"{folder}/{part}_{folder}.json", f"{part}_{folder}.json"),
                    required=False,
                    split=split,
                    description=f"{'Spanish' if lang == 'es' else 'English'} {part} split",
                )
                for lang, folder in LANGUAGES
                for part, split in SPLITS
            ),
            "the Google Drive release: HEAD/ and HEAD_EN/ split files (any of them)",
        ),
        RawForm(
            "hf",
            tuple(
                RawFile(
                    f"{lang}_{part}",
                    (f"**/{lang}/{hub}-*.parquet", f"**/{lang}/{hub}/*.parquet"),
                    required=False,
                    split=split,
                )
                for lang, _ in LANGUAGES
                for (part, split), hub in zip(SPLITS, ("train", "validation", "test"), strict=True)
            ),
            "the Hugging Face dataset head_qa as Parquet, configs es/ and en/ (the same fields per question)",
        ),
    ),
)

EXAM, KNOWLEDGE = "Exam", "Medical Knowledge"
#: The six exam categories; "nursery" (the spelling SNI inherited from the raw files) is read as nursing.
LABELS = ("medicine", "nursing", "psychology", "chemistry", "pharmacology", "biology")
CATEGORY_ALIASES = {"nursery": "nursing"}

TASKS = (
    Task("head_qa_answer_generation", "Question Answering", EXAM, tags=("Healthcare Exam",)),
    Task(
        "head_qa_translation_en_es",
        "Translation",
        EXAM,
        tags=("Healthcare Exam",),
        input_language="English",
        output_language="Spanish",
        several_outputs=True,
    ),
    Task(
        "head_qa_translation_es_en",
        "Translation",
        EXAM,
        tags=("Healthcare Exam",),
        input_language="Spanish",
        output_language="English",
        several_outputs=True,
    ),
    Task("head_qa_classification", "Text Classification", EXAM, tags=("Healthcare Exam",), labels=LABELS),
    Task(
        "head_qa_question_answering",
        "Question Answering",
        KNOWLEDGE,
        tags=("Healthcare Exam",),
        input_language="Spanish",
        output_language="Spanish",
    ),
)
ANSWER_GEN, EN_ES, ES_EN, CLASSIFY, QA = (t.id for t in TASKS)


@dataclass(frozen=True)
class Question:
    exam: str
    qid: str
    text: str
    options: list[str]
    answer: str | None  # the right answer's letter, or None with `problem` set
    problem: str | None  # why the multiple-choice form cannot be built
    category: str

    @property
    def key(self) -> str:
        return f"{self.exam}-{self.qid}"

    @property
    def locator(self) -> str:
        return f"exam {self.exam} qid {self.qid}"


def generate(files: RawFiles) -> Iterator[Item]:
    for part, split in SPLITS:
        english, spanish = files.path(f"en_{part}"), files.path(f"es_{part}")
        questions = _hub_questions if files.form.name == "hf" else _questions
        index: dict[str, tuple[str, str]] = {}  # key -> (locator, English qtext)
        if english is not None:
            name = files.relative(english)
            for q in questions(english, name):
                if isinstance(q, Rejection):
                    yield q
                    continue
                yield from _english(q, name, split)
                index[q.key] = (q.locator, q.text)
        if spanish is not None:
            name = files.relative(spanish)
            for q in questions(spanish, name):
                if isinstance(q, Rejection):
                    yield q
                    continue
                yield from _spanish(q, name, split, index, paired=english is not None)
        if english is not None and spanish is not None:
            for locator, _ in index.values():  # English questions the Spanish file lacks
                for task in (EN_ES, ES_EN):
                    reason = f"no Spanish counterpart in {files.relative(spanish)}"
                    yield Rejection(reason, files.relative(english), locator, task)


def _english(q: Question, name: str, split: str) -> Iterator[Item]:
    def record(task: str, input: str, output: str) -> Record:
        return Record(task, q.key, input, output, name, q.locator, split=split, group=q.key)

    try:
        question = forms.multiple_choice(q.text, q.options)
    except forms.FormError as error:
        for task in (ANSWER_GEN, CLASSIFY):
            yield Rejection(q.problem or str(error), name, q.locator, task)
        return
    if q.problem:
        yield Rejection(q.problem, name, q.locator, ANSWER_GEN)
    else:
        yield record(ANSWER_GEN, question, forms.choice_answer(q.answer, q.options))
    try:
        raw = q.category.lower()
        yield record(CLASSIFY, question, forms.label(CATEGORY_ALIASES.get(raw, raw), LABELS))
    except forms.FormError as error:
        yield Rejection(f"exam category: {error}", name, q.locator, CLASSIFY, q.category)


def _spanish(q: Question, name: str, split: str, english: dict[str, tuple[str, str]], paired: bool) -> Iterator[Item]:
    def record(task: str, input: str, output: str) -> Record:
        return Record(task, q.key, input, output, name, q.locator, split=split, group=q.key)

    try:
        if q.problem:
            raise forms.FormError(q.problem)
        yield record(QA, forms.multiple_choice(q.text, q.options), forms.choice_answer(q.answer, q.options))
    except forms.FormError as error:
        yield Rejection(str(error), name, q.locator, QA)
    if not paired:
        return
    translation = english.pop(q.key, ("", None))[1]
    if not translation or not q.text:
        reason = "no English counterpart (same exam and qid)" if translation is None else "empty qtext"
        for task in (EN_ES, ES_EN):
            yield Rejection(reason, name, q.locator, task)
        return
    yield record(ES_EN, q.text, translation)
    yield record(EN_ES, translation, q.text)


def _hub_questions(path: Path, name: str) -> Iterator[Question | Rejection]:
    """The Hub export: one row per question, with its exam's name and category beside it."""
    columns = ("name", "category", "qid", "qtext", "ra", "answers")
    for number, row in readers.parquet_rows(path, name, columns):
        yield _question(_clean(row["name"]), number, row, _clean(row["category"]), name)


def _questions(path: Path, name: str) -> Iterator[Question | Rejection]:
    """Every question of one split file, exam by exam (an exam is a few hundred questions)."""
    exam_name = None
    with open(path, "rb") as f:
        try:
            for exam_name, exam in ijson.kvitems(f, "exams"):
                if not isinstance(exam, dict) or not isinstance(exam.get("data"), list):
                    yield Rejection("exam has no list of questions in 'data'", name, f"exam {exam_name}")
                    continue
                category = _clean(exam.get("category"))
                for number, raw in enumerate(exam["data"], start=1):
                    yield _question(exam_name, number, raw, category, name)
        except ijson.JSONError as error:
            after = f" in or after exam {exam_name}" if exam_name else " before the first exam"
            raise ValueError(f"{name}: malformed JSON{after}: {error}") from error
    if exam_name is None:
        raise ValueError(f"{name}: no exams found (expected a JSON object with an 'exams' object)")


def _question(exam: str, number: int, raw: object, category: str, name: str) -> Question | Rejection:
    if not isinstance(raw, dict) or not _clean(raw.get("qid")):
        return Rejection("question without a qid", name, f"exam {exam} question #{number}")
    qid, text = _clean(raw["qid"]), _clean(raw.get("qtext"))
    options: list[str] = []
    answer, problem = None, None
    answers = raw.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        problem = "answers is not a list of {aid, atext} objects"
    else:
        options = [_clean(a.get("atext")) for a in answers]
        aids = [_clean(a.get("aid")) for a in answers]
        right = _clean(raw.get("ra"))
        if not text:
            problem = "empty qtext"
        elif not right:
            problem = "missing right answer id (ra)"
        elif right not in aids:
            problem = f"right answer id ra={right} is not among the answer ids {', '.join(aids)}"
        else:
            answer = forms.LETTERS[aids.index(right)]
    return Question(exam, qid, text, options, answer, problem, category)


def _clean(value: object) -> str:
    """A field as single-spaced text (ids are ints in some copies, strings in others)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())
