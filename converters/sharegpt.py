"""ShareGPT (Vicuna's collection of ChatGPT conversations shared by users via sharegpt.com, 2023): MedS-Ins
keeps the medical conversations.

Read: the Hugging Face repository `anon8231489123/ShareGPT_Vicuna_unfiltered` (there is no official
release), a JSON list of {"id": str, "conversations": [{"from": "human" | "gpt", "value": str}, ...]}, streamed
with ijson. The first of these present is read (they hold the same conversations, differently cleaned):
`ShareGPT_V3_unfiltered_cleaned_split.json` (~94k items: HTML turned into markdown, long conversations cut
into parts with ids `<id>_<n>`, written by FastChat with 2-space indentation), its `..._no_imsorry.json`
variant, or the two unsplit files `HTML_cleaned_raw_dataset/sg_90k_part1_html_cleaned.json` and
`..._part2_...` (both read). Besides human/gpt, `from` is rarely user, chatgpt, bing or system.

Task `sharegpt_medical_dialogue`, one instance per assistant turn of a medical conversation, so that every
reply is learnt with the context it was given:
- input: `forms.dialogue` of all turns before it, speakers `User` / `Assistant` / `System`;
- output: that assistant turn, as written (markdown kept).
An assistant turn before any user turn (a part that starts mid-conversation) only serves as history.
Selection: the medical tagger (`pipeline.tagger`, MEDS_INS_TAGGER=keyword|openai, default keyword) reads the
conversation's user turns (first 4,000 characters); a conversation it does not select is quarantined once,
with reason "not selected by the medical tagger (<tagger>)" and its tags as value, so the build report
shows how many conversations the tagger kept (most of ShareGPT is not medical). Once a part `<id>_<n>` is
selected, the later parts of the same conversation are selected with it without asking the tagger again
(a follow-up such as "Which doctor should I see?" is medical because of what came before); a part that
follows unselected parts is tagged on its own.
No official split (split=None); key `<id>:<turn>` (turn numbered from 1 in the raw list), locator
`id <id>, turn <turn>`; group = the id without its `_<n>` part suffix, so the parts of one conversation
share a split. Quarantined: an item that is not an object, without id or with an id seen before, turns
that are not {from, value} strings, an unknown speaker, a non-UTF-8 byte, a medical conversation without
an assistant turn after a user turn, an empty assistant turn. A file that is not a JSON list or breaks
off raises ValueError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline import forms, tagger
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.readers import has_bad_bytes, json_items

_HTML_CLEANED = "sg_90k_part[0-9]_html_cleaned.json"

SOURCE = Source(
    id="sharegpt",
    name="ShareGPT (Vicuna unfiltered)",
    homepage="https://huggingface.co/datasets/anon8231489123/ShareGPT_Vicuna_unfiltered",
    license="unspecified (ChatGPT outputs, subject to OpenAI's terms of use)",
    access="open",
    citation=(
        "Chiang W-L, Li Z, Lin Z, et al. (2023). Vicuna: An Open-Source Chatbot Impressing GPT-4 with 90% ChatGPT "
        "Quality. LMSYS blog; conversations from sharegpt.com as collected in anon8231489123/"
        "ShareGPT_Vicuna_unfiltered."
    ),
    obtain=(
        "Download ShareGPT_V3_unfiltered_cleaned_split.json (or the _no_imsorry variant, or the two "
        "HTML_cleaned_raw_dataset/sg_90k_part*_html_cleaned.json files) from "
        "https://huggingface.co/datasets/anon8231489123/ShareGPT_Vicuna_unfiltered into the raw folder."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile(
                    "conversations",
                    (
                        "ShareGPT_V3_unfiltered_cleaned_split.json",
                        "ShareGPT_V3_unfiltered_cleaned_split_no_imsorry.json",
                        f"HTML_cleaned_raw_dataset/{_HTML_CLEANED}",
                        _HTML_CLEANED,
                    ),
                    description="JSON list of {id, conversations: [{from, value}]}; the first file name found",
                ),
            ),
            "the JSON files of the Hugging Face repository anon8231489123/ShareGPT_Vicuna_unfiltered",
        ),
    ),
    downloads=(
        Download(
            hf_dataset="anon8231489123/ShareGPT_Vicuna_unfiltered", files=("ShareGPT_V3_unfiltered_cleaned_split.json",)
        ),
    ),
)

TASKS = (
    Task(
        "sharegpt_medical_dialogue",
        "Dialogue",
        "Daily Conversation",
        tags=("Medical Subset", "ChatGPT"),
        several_outputs=True,
    ),
)
TASK = TASKS[0].id

USER, ASSISTANT = "User", "Assistant"
SPEAKERS = {"human": USER, "user": USER, "gpt": ASSISTANT, "chatgpt": ASSISTANT, "bing": ASSISTANT, "system": "System"}
_PART = re.compile(r"_\d+$")


def generate(files: RawFiles) -> Iterator[Item]:
    selector = tagger.from_env()
    seen: dict[str, str] = {}  # conversation id -> where it was first read
    selected: set[str] = set()  # groups (conversations before the split into parts) the tagger selected
    for path in files.paths("conversations"):
        name = files.relative(path)
        for number, item in json_items(path, name):
            yield from _conversation(number, item, name, selector, seen, selected)


def _conversation(
    number: int, item: object, name: str, selector: tagger.Tagger, seen: dict[str, str], selected: set[str]
) -> Iterator[Item]:
    where = f"item {number}"
    if not isinstance(item, dict):
        yield Rejection("item is not a JSON object", name, where, TASK, str(item)[:200])
        return
    cid = item.get("id")
    if not isinstance(cid, str) or not cid.strip():
        yield Rejection("missing conversation id", name, where, TASK, str(cid)[:200])
        return
    cid = cid.strip()
    where = f"id {cid}"
    if cid in seen:
        yield Rejection("repeated conversation id", name, where, TASK, f"first read at {seen[cid]}")
        return
    seen[cid] = f"{name} item {number}"
    turns, problem = _turns(item.get("conversations"))
    if problem:
        yield Rejection(problem[0], name, where, TASK, problem[1])
        return
    group = _PART.sub("", cid)
    if group not in selected:  # a later part of a selected conversation is selected with it
        refused = tagger.screen(selector, tagger.instruction_text(text for who, text in turns if who == USER))
        if refused:
            yield Rejection(refused[0], name, where, TASK, refused[1])
            return
        selected.add(group)
    answered = False
    for index, (who, text) in enumerate(turns):
        if who != ASSISTANT or not any(w == USER for w, _ in turns[:index]):
            continue
        turn = index + 1
        locator = f"{where}, turn {turn}"
        answered = True
        if not text.strip():
            yield Rejection("empty assistant turn", name, locator, TASK)
            continue
        try:
            history = forms.dialogue(turns[:index])
        except forms.FormError as error:
            yield Rejection(str(error), name, locator, TASK)
            continue
        yield Record(TASK, f"{cid}:{turn}", history, text.strip(), name, locator, group=group)
    if not answered:
        yield Rejection("no assistant turn after a user turn", name, where, TASK, f"{len(turns)} turns")


def _turns(raw: object) -> tuple[list[tuple[str, str]], tuple[str, str] | None]:
    """(speaker, text) of every turn, or the (reason, value) of why the conversation cannot be read."""
    if not isinstance(raw, list) or not raw:
        return [], ("conversations is not a non-empty list", str(raw)[:200])
    turns = []
    for turn in raw:
        if (
            not isinstance(turn, dict)
            or not isinstance(turn.get("from"), str)
            or not isinstance(turn.get("value"), str)
        ):
            return [], ("turn is not a {from, value} pair of strings", str(turn)[:200])
        speaker = SPEAKERS.get(turn["from"].strip().lower())
        if speaker is None:
            return [], ("unknown speaker", turn["from"][:200])
        if has_bad_bytes(turn["value"]):
            return [], ("non-UTF-8 byte in a turn", turn["value"][:200])
        turns.append((speaker, turn["value"]))
    return turns, None
