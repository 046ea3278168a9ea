"""LIMA (Zhou et al., NeurIPS 2023): 1,000 curated prompt-response pairs (plus 30 multi-turn dialogues)
for alignment, from Stack Exchange, wikiHow, Reddit WritingPrompts, Super-NaturalInstructions and the
authors; MedS-Ins keeps the medically relevant part.

Read: the Hugging Face release `GAIR/lima` (gated: accept its terms), JSON Lines `train.jsonl` (1,030 items)
and `test.jsonl` (300), one object per line: {"conversations": [user, assistant, user, ...] (plain
strings, the user speaking first), "source": "stackexchange" | "wikihow" | ...}. Test items hold the prompt
only (LIMA's test set is for human evaluation of generated answers).

Task `lima_medical_answer_generation`, one instance per medical item:
- input: the first user turn (the prompt as written; it is an instruction in its own right);
- output: the first assistant turn.
Multi-turn dialogues give their first exchange only: the later turns answer follow-ups that only make
sense with the conversation before them, which is a dialogue task, not answer generation.
Selection: the medical tagger (`pipeline.tagger`, MEDS_INS_TAGGER=keyword|openai, default keyword) reads
the first user turn; an item it does not select is quarantined with reason "not selected by the medical
tagger (<tagger>)" and its tags as value, so the build report shows how many items the tagger kept.
Splits are official: train.jsonl -> train, test.jsonl -> test; as test items have no answer, a medical
test prompt is quarantined ("no answer to the first turn") and the test split has no instances.
Items carry no id: key = hash of prompt and answer (stable under re-ordering), locator = `line N`,
group = the prompt. Quarantined: a line that is not UTF-8 / JSON / an object, `conversations` not a list
of strings or with an empty prompt, a missing or empty answer, an exact repeat of an earlier item.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline import tagger
from pipeline.model import Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import content_key, json_lines, question_group

SOURCE = Source(
    id="lima",
    name="LIMA",
    homepage="https://huggingface.co/datasets/GAIR/lima",
    license="CC BY-NC-SA 4.0 (items from Stack Exchange and wikiHow keep their own licenses)",
    access="registration",
    citation="Zhou C, Liu P, Xu P, et al. (2023). LIMA: Less Is More for Alignment. NeurIPS 2023.",
    obtain=(
        "Log in to the Hugging Face Hub, accept the terms on https://huggingface.co/datasets/GAIR/lima, then "
        "download train.jsonl and test.jsonl (e.g. `huggingface-cli download GAIR/lima --repo-type dataset "
        "--local-dir <raw>/lima`) into the raw folder."
    ),
    forms=(
        RawForm(
            "jsonl",
            (
                RawFile("train", ("train.jsonl",), split="train", description="1,030 conversations with answers"),
                RawFile(
                    "test",
                    ("test.jsonl",),
                    required=False,
                    split="test",
                    description="300 prompts without answers (all quarantined: nothing to learn from)",
                ),
            ),
            "the JSON Lines files of the Hugging Face release GAIR/lima",
        ),
    ),
)

TASKS = (
    Task(
        "lima_medical_answer_generation",
        "Question Answering",
        "Daily Conversation",
        tags=("Medical Subset",),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id


def generate(files: RawFiles) -> Iterator[Item]:
    selector = tagger.from_env()
    first_seen: dict[str, str] = {}
    for raw in SOURCE.forms[0].files:
        for path in files.paths(raw.name):
            name = files.relative(path)
            for number, row, problem in json_lines(path):
                yield from _item(number, row, problem, name, raw.split, selector, first_seen)


def _item(
    number: int,
    row: dict | str,
    problem: str | None,
    name: str,
    split: str | None,
    selector: tagger.Tagger,
    first_seen: dict[str, str],
) -> Iterator[Item]:
    where = f"line {number}"
    if problem or not isinstance(row, dict):
        yield Rejection(problem or "line is not a JSON object", name, where, TASK, str(row)[:200])
        return
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        yield Rejection("conversations is not a non-empty list of strings", name, where, TASK, str(turns)[:200])
        return
    prompt = turns[0].strip()
    if not prompt:
        yield Rejection("empty first turn", name, where, TASK)
        return
    refused = tagger.screen(selector, tagger.instruction_text([prompt]))
    if refused:
        yield Rejection(refused[0], name, where, TASK, refused[1])
        return
    answer = turns[1].strip() if len(turns) > 1 else ""
    if not answer:
        yield Rejection("no answer to the first turn", name, where, TASK, prompt[:200])
        return
    key = content_key(prompt, answer)
    if key in first_seen:
        yield Rejection("repeats an earlier item (same prompt and answer)", name, where, TASK, first_seen[key])
        return
    first_seen[key] = f"{name} line {number}"
    yield Record(TASK, key, prompt, answer, name, where, split=split, group=question_group(prompt))
