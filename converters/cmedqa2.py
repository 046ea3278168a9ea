"""cMedQA2 (Zhang et al., IEEE Access 2018): Chinese community medical questions and the doctors' answers to
them, as distributed in github.com/zhangsheng93/cMedQA2: zipped CSV files read directly from the zips (an
unzipped copy of any of them is accepted too).

- `question.zip` -> question.csv: `question_id,content`
- `answer.zip` -> answer.csv: `ans_id,question_id,content` (only the correct answers: 203,569 in all)
- `train_candidates.zip` -> train_candidates.txt: `question_id,pos_ans_id,neg_ans_id` (training triplets)
- `dev_candidates.zip` / `test_candidates.zip` -> *_candidates.txt: `question_id,ans_id,cnt,label`
  (100 candidates per question, label 1 = a correct answer)

Task `cmedqa2_question_answering` (Chinese in, Chinese out): input = the question's content; output = one
correct answer's content; one instance per (question, correct answer) pair, keyed `<question_id>-<ans_id>` and
grouped by question. The split of a question is the candidates file that lists it (train / dev -> validation /
test); an answer must be listed as a correct candidate of its question there. The question and answer texts
are indispensable, so question.zip and answer.zip are required: without them the build stops and names
exactly those two files. The candidates files are optional, but a question listed in none of those present is
rejected, naming the candidates files that are missing, so no official test question is hash-split into
training.

Files are UTF-8 (a BOM is skipped); a file that is not UTF-8 at all but GB18030 (as some copies re-saved on
Windows are) is read as such. Questions are held in memory to be joined to the streamed answers (about 5 MB of
text for the 108,000 questions); candidates only as ids.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import readers
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

SOURCE = Source(
    id="cmedqa2",
    name="cMedQA2",
    homepage="https://github.com/zhangsheng93/cMedQA2",
    license="GPL-3.0 (repository); data for non-commercial research use",
    access="open",
    citation=(
        "Zhang, S., Zhang, X., Wang, H., Guo, L. and Liu, S. (2018). Multi-Scale Attentive Interaction Networks "
        "for Chinese Medical Question Answer Selection. IEEE Access 6: 74061-74071."
    ),
    obtain=(
        "Download question.zip, answer.zip, train_candidates.zip, dev_candidates.zip and test_candidates.zip from "
        "https://github.com/zhangsheng93/cMedQA2 into the raw folder (zipped or unzipped)."
    ),
    version="2.0",
    forms=(
        RawForm(
            "zip",
            (
                RawFile("questions", ("question.zip", "question.csv", "questions.csv"), description="question texts"),
                RawFile("answers", ("answer.zip", "answer.csv", "answers.csv"), description="answer texts"),
                RawFile(
                    "train",
                    ("train_candidates.zip", "train_candidates.txt"),
                    required=False,
                    split="train",
                    description="training split (question, correct answer, wrong answer) triplets",
                ),
                RawFile(
                    "dev",
                    ("dev_candidates.zip", "dev_candidates.txt"),
                    required=False,
                    split="validation",
                    description="development split candidates",
                ),
                RawFile(
                    "test",
                    ("test_candidates.zip", "test_candidates.txt"),
                    required=False,
                    split="test",
                    description="test split candidates",
                ),
            ),
            "the official zips: question.zip, answer.zip and the three *_candidates.zip split files",
        ),
    ),
    # The official repository (pinned commit); the zips are read as they are. Digests of the two files at hand.
    downloads=tuple(
        Download(
            f"https://raw.githubusercontent.com/zhangsheng93/cMedQA2/85feb9278c3ae552c591205cbf3e828368c91f8f/{name}",
            name,
            sha256=digest,
            size=size,
        )
        for name, size, digest in (
            ("question.zip", None, None),
            ("answer.zip", None, None),
            ("train_candidates.zip", None, None),
            ("dev_candidates.zip", 2395726, "3301b55cddbdd512f6960fb4ed72fd27c7b00db2ed3f10e88d0c2764263a379e"),
            ("test_candidates.zip", 2394296, "d358f5d6b5711a39942e3798f45b5a66887393d1858e88aa1953925e0b630c07"),
        )
    ),
)

TASKS = (
    Task(
        "cmedqa2_question_answering",
        "Question Answering",
        "Medical Knowledge",
        tags=("Chinese", "Consumer Health"),
        input_language="Chinese",
        output_language="Chinese",
        several_outputs=True,
    ),
)
TASK = TASKS[0].id
CANDIDATE_FILES = ("train", "dev", "test")


def generate(files: RawFiles) -> Iterator[Item]:
    split_of: dict[str, str] = {}
    correct: dict[str, set[str]] = {}
    for name in CANDIDATE_FILES:
        for path in files.paths(name):
            yield from _candidates(path, files.relative(path), _split(name), split_of, correct)
    missing = [" or ".join(f.patterns[:1]) for f in files.missing if f.name in CANDIDATE_FILES]
    questions: dict[str, str] = {}
    question_file = files.path("questions")
    question_name = files.relative(question_file)
    for number, row in _rows(question_file, question_name, ("question_id", "content")):
        where = f"row {number}"
        if isinstance(row, str):
            yield Rejection(row, question_name, where, TASK)
        elif not row["question_id"] or not row["content"]:
            yield Rejection("empty question_id or content", question_name, where, TASK, row["question_id"] or None)
        elif row["question_id"] in questions:
            yield Rejection("duplicate question_id", question_name, f"{where} ({row['question_id']})", TASK)
        else:
            questions[row["question_id"]] = row["content"]
    answered: set[str] = set()
    answer_file = files.path("answers")
    answer_name = files.relative(answer_file)
    for number, row in _rows(answer_file, answer_name, ("ans_id", "question_id", "content")):
        if isinstance(row, str):
            yield Rejection(row, answer_name, f"row {number}", TASK)
            continue
        qid, aid, content = row["question_id"], row["ans_id"], row["content"]
        where = f"row {number} (ans_id {aid}, question_id {qid})"
        problem = ""
        if not aid or not qid or not content:
            problem = "empty ans_id, question_id or content"
        elif qid not in questions:
            problem = f"question {qid} is not in {question_name}"
        elif qid not in split_of:
            absent = f"; missing: {', '.join(missing)}" if missing else ""
            problem = f"question {qid} is in no candidates (split) file{absent}"
        elif aid not in correct.get(qid, ()):
            problem = f"answer {aid} is not a correct candidate of question {qid} in its split file"
        if problem:
            yield Rejection(problem, answer_name, where, TASK)
            continue
        answered.add(qid)
        yield Record(TASK, f"{qid}-{aid}", questions[qid], content, answer_name, where, split_of[qid], group=qid)
    for qid in questions:
        if qid in split_of and qid not in answered:
            yield Rejection(f"no answer in {answer_name}", question_name, f"question_id {qid}", TASK)


def _split(name: str) -> str:
    return {"train": "train", "dev": "validation", "test": "test"}[name]


def _candidates(
    path: Path, name: str, split: str, split_of: dict[str, str], correct: dict[str, set[str]]
) -> Iterator[Rejection]:
    """Records each listed question's split and its correct answers; a question listed in two split files is
    kept in the first (train, dev, test order) and reported."""
    conflicts: set[str] = set()
    for number, row in _rows(path, name, ("question_id",)):
        if isinstance(row, str):
            yield Rejection(row, name, f"row {number}", TASK)
            continue
        qid = row["question_id"]
        if "pos_ans_id" in row:
            answer, is_correct = row["pos_ans_id"], True
        elif "ans_id" in row and row.get("label") in ("0", "1"):
            answer, is_correct = row["ans_id"], row["label"] == "1"
        else:
            yield Rejection("expected pos_ans_id, or ans_id with label 0/1", name, f"row {number}", TASK)
            continue
        if split_of.setdefault(qid, split) != split:
            if qid not in conflicts:
                conflicts.add(qid)
                why = f"question {qid} is already in the {split_of[qid]} split; kept there"
                yield Rejection(why, name, f"row {number}", TASK)
            continue
        if is_correct and answer:
            correct.setdefault(qid, set()).add(answer)


def _rows(path: Path, name: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str] | str]]:
    """Rows of a zipped or plain CSV, read in place (see readers.csv_rows), cells stripped."""
    with _open(path, name) as text:
        for number, row in readers.csv_rows(text, name, required):
            yield number, row if isinstance(row, str) else {h: c.strip() for h, c in row.items()}


@contextmanager
def _open(path: Path, name: str) -> Iterator[io.TextIOWrapper]:
    """The CSV text of a plain file or of the single .csv/.txt member of a zip, decoded as UTF-8 (BOM skipped) or,
    when its first megabyte is not UTF-8 but is GB18030, as GB18030; undecodable bytes are kept as surrogates
    so that their row is rejected instead of the file failing."""
    archive = zipfile.ZipFile(path) if path.suffix.lower() == ".zip" else None
    try:
        if archive is not None:
            members = [m for m in archive.namelist() if m.lower().endswith((".csv", ".txt"))]
            if not members:
                raise ValueError(f"{name}: the zip holds no .csv or .txt file ({archive.namelist()})")
            opener = lambda: archive.open(sorted(members)[0])  # noqa: E731
        else:
            opener = lambda: path.open("rb")  # noqa: E731
        with opener() as raw:
            head = raw.read(1 << 20)
        encoding = _encoding(head)
        with opener() as raw:
            yield io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
    except zipfile.BadZipFile as error:
        raise ValueError(f"{name}: not a readable zip ({error})") from error
    finally:
        if archive is not None:
            archive.close()


def _encoding(head: bytes) -> str:
    """UTF-8 unless the sample has more than a few invalid bytes and reads cleanly as GB18030."""
    invalid = head.decode("utf-8", errors="replace").count("\ufffd")
    if invalid * 1000 <= len(head):
        return "utf-8-sig"
    try:
        head.decode("gb18030")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut by the end of the sample
            return "utf-8-sig"
    return "gb18030"
