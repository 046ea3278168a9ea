"""One way to form each kind of task, shared by every converter, so that the same kind of task looks
the same whichever corpus it comes from (a model should not have to learn forty spellings of
"multiple choice"). A converter turns its raw record into plain values and calls these; a value that
cannot be formed (an answer letter not among the options, a label outside the task's set) raises
FormError, which the converter turns into a Rejection with the message as reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

NO_ENTITY = "There is no related entity."
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class FormError(ValueError):
    """A raw record that cannot be formed into the task; the message is the quarantine reason."""


def fields(**named: str | None) -> str:
    """A free-text input made of named parts, one `Name: value` block each, in the order given;
    empty parts are left out. Underscores in names become spaces (`patient_question` -> 'Patient question')."""
    parts = [
        (name.replace("_", " ").capitalize(), " ".join(value.split()) if "\n" not in value else value.strip())
        for name, value in named.items()
        if value and value.strip()
    ]
    if not parts:
        raise FormError("no input text")
    return "\n".join(f"{name}: {value}" for name, value in parts)


def options_of(options: Mapping[str, str] | Sequence[str]) -> dict[str, str]:
    """Options keyed by upper-case letter: a list gets A, B, C...; a mapping's keys are upper-cased."""
    if isinstance(options, Mapping):
        keyed = {str(k).strip().upper(): str(v).strip() for k, v in options.items()}
    else:
        keyed = {LETTERS[i]: str(v).strip() for i, v in enumerate(options)}
    if len(keyed) < 2:
        raise FormError(f"multiple choice needs at least 2 options, got {len(keyed)}")
    empty = [k for k, v in keyed.items() if not v]
    if empty:
        raise FormError(f"empty option {', '.join(empty)}")
    return keyed


def multiple_choice(question: str, options: Mapping[str, str] | Sequence[str], context: str | None = None) -> str:
    """The input of a multiple-choice task: optional context, the question, then one `A. text` line per option."""
    if not question.strip():
        raise FormError("empty question")
    lines = [f"{letter}. {text}" for letter, text in options_of(options).items()]
    head = f"{context.strip()}\n\n" if context and context.strip() else ""
    return f"{head}{question.strip()}\n" + "\n".join(lines)


def choice_answer(answer: str, options: Mapping[str, str] | Sequence[str]) -> str:
    """The output of a multiple-choice task: `<letter>. <option text>`. `answer` is the letter."""
    keyed = options_of(options)
    letter = str(answer).strip().upper().rstrip(".")
    if letter not in keyed:
        raise FormError(f"answer {answer!r} is not among the options {', '.join(keyed)}")
    return f"{letter}. {keyed[letter]}"


def entities(mentions: Iterable[str]) -> str:
    """The output of an extraction task: mentions in order of first appearance, de-duplicated, joined
    by ', '; no mention gives the fixed sentence NO_ENTITY."""
    seen: dict[str, None] = {}
    for mention in mentions:
        text = " ".join(mention.split())
        if text:
            seen.setdefault(text)
    return ", ".join(seen) if seen else NO_ENTITY


def label(value: str, allowed: Sequence[str]) -> str:
    """The output of a closed-set classification task: exactly one label of the task's set."""
    text = " ".join(str(value).split())
    if text not in allowed:
        raise FormError(f"label {value!r} is not one of {', '.join(allowed)}")
    return text


def labels(values: Iterable[str], allowed: Sequence[str]) -> str:
    """The output of a multi-label task: the labels in the order of the task's set, joined by ', '."""
    chosen = {" ".join(str(v).split()) for v in values}
    unknown = sorted(chosen - set(allowed))
    if unknown:
        raise FormError(f"labels {unknown} are not in the task's set")
    if not chosen:
        raise FormError("no label")
    return ", ".join(a for a in allowed if a in chosen)


def dialogue(history: Sequence[tuple[str, str]]) -> str:
    """The input of a dialogue task: the conversation so far, one `Speaker: text` turn per block;
    the output is the next (doctor's) turn as plain text."""
    turns = [(speaker.strip(), text.strip()) for speaker, text in history if text and text.strip()]
    if not turns:
        raise FormError("empty conversation")
    return "\n\n".join(f"{speaker}: {text}" for speaker, text in turns)


def attributes(pairs: Iterable[tuple[str, str | None]]) -> str:
    """A structured-data input (a registry case, an ED stay): one `name: value` line per attribute,
    names kept exactly as the source writes them, values single-spaced, empty values left out."""
    lines = [
        f"{name.strip()}: {' '.join(str(value).split())}"
        for name, value in pairs
        if value is not None and str(value).strip()
    ]
    if not lines:
        raise FormError("no attribute has a value")
    return "\n".join(lines)
