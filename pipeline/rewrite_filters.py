"""What a model's rewrite of a seed instruction must pass to join the task's Definition list.

The paper asked GPT-4 to "output the rewritten definition directly without any additional
information"; models still answer "Sure, here is the rewritten definition: ...", refuse, offer three
options, or paraphrase away the label set. Each of those would teach the fine-tuned model a wrong
instruction, so a rewrite is rejected, with one of these reasons, when it is

- `empty`: nothing left after cleaning;
- `chatter`: a preamble, a refusal, a closing offer or a list of alternatives around the instruction
  (rejected, not trimmed: cutting text out of an answer by pattern can cut the instruction too);
- `missing-required`: it lacks a phrase the task declares required (`Seeds.missing`: the label set,
  the empty-answer sentence, the option format);
- `near-duplicate`: ROUGE-L >= 0.7 with an instruction already kept, seeds included
  (`Seeds.similarity`, the Self-Instruct rule; required phrases are left out of the comparison).

Cleaning only undoes what is certainly packaging, never content: surrounding whitespace, whitespace
runs (seeds are stored with single spaces too), a Markdown code fence around the whole answer, and
one pair of quotes around the whole answer. Quotes are stripped rather than rejected because a
quoted instruction is still the instruction; they are stripped only when they provably enclose the
whole text (typographic quotes that balance, or ASCII quotes whose first inner quote opens a new
quotation), so `"Yes" or "no"` keeps its quotes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from pipeline.similarity import MAX_ROUGE_L, tokens

if TYPE_CHECKING:
    from pipeline.seeds import Seeds

ACCEPTED = "accepted"
EMPTY = "empty"
CHATTER = "chatter"
MISSING_REQUIRED = "missing-required"
NEAR_DUPLICATE = "near-duplicate"
#: The rewrite's seed is no longer among the task's seeds (edited or removed): the cached response
#: stays on disk, and comes back if the seed does.
SEED_REMOVED = "seed-removed"
REASONS = (EMPTY, CHATTER, MISSING_REQUIRED, NEAR_DUPLICATE, SEED_REMOVED)

#: Bumped whenever the rules below change, so verdicts cached under the old rules are recomputed.
FILTER_VERSION = 1

_CHATTER = re.compile(
    r"""
    ^(?:sure|certainly|of\ course|absolutely|okay)\b[\s,.!:]       # "Sure, ..."
    | ^here(?:'s|’s|\ is|\ are)\ (?:the\ |a\ |an\ |your\ |my\ |some\ )?
       (?:rewritten|rephrased|revised|reworded|paraphrased|new|alternative|updated)\b
    | ^(?:the\ )?(?:rewritten|rephrased|revised|reworded|paraphrased|new)\s+
       (?:definition|instruction|version|text|prompt)\s*:                  # "Rewritten definition: ..."
    | ^(?:i'm\ sorry|i\ am\ sorry|sorry,|i\ cannot|i\ can't|i\ can’t|as\ an\ ai)\b  # refusals
    | \blet\ me\ know\ if\b | \bi\ hope\ this\ helps\b | \bfeel\ free\ to\b
    | (?:^|\n)\s*(?:note|explanation|alternatively)\s*:                      # commentary after the answer
    | (?:^|\n)\s*(?:option|version|alternative|rewrite)\s*\#?\d              # several alternatives
    """,
    re.IGNORECASE | re.VERBOSE,
)
_FENCE = re.compile(r"^```[\w-]*\n(.*)\n```$", re.DOTALL)
_TYPOGRAPHIC = {"“": "”", "«": "»", "‘": "’", "「": "」", "『": "』"}


class Verdict(NamedTuple):
    reason: str  # ACCEPTED or one of REASONS
    detail: str = ""


def _unquote(text: str) -> str:
    if len(text) < 2:
        return text
    first, last, inner = text[0], text[-1], text[1:-1]
    if first in _TYPOGRAPHIC and last == _TYPOGRAPHIC[first]:
        # Directional quotes nest visibly: the outer pair encloses everything when the inner ones balance.
        depth = 0
        for char in inner:
            depth += (char == first) - (char == last)
            if depth < 0:
                return text
        return inner.strip() if depth == 0 else text
    if first == last and first in "\"'":
        position = inner.find(first)
        if position < 0:
            return inner.strip()
        # '"Yes" or "no"': the first inner quote closes the opening one (it follows a letter), so the
        # outer pair is two quotations, not one around the whole text.
        opens = position == 0 or not inner[position - 1].isalnum()
        if first == '"' and opens and inner.count(first) % 2 == 0:
            return inner.strip()
    return text


def clean(response: str) -> str:
    """The instruction inside a model's answer: packaging removed, whitespace normalised."""
    text = response.strip()
    if fenced := _FENCE.match(text):
        text = fenced.group(1).strip()
    return " ".join(_unquote(" ".join(text.split())).split())


class Kept:
    """The instructions kept so far, with the word counts of each (required phrases left out) cached.

    ROUGE-L F1 is 2 * LCS / (len(a) + len(b)), and the LCS is at most the number of words the two
    share (with multiplicity), so most pairs are cleared by counting shared words; the quadratic
    `Seeds.similarity` runs only for pairs that could reach the threshold. Same verdicts, a fraction
    of the time (the full pairwise check of a task's cache otherwise dominates a rewrite run)."""

    def __init__(self, seeds: Seeds, texts: Iterable[str] = ()):
        self.seeds = seeds
        self.texts: list[str] = []
        self._counts: list[tuple[Counter[str], int]] = []
        for text in texts:
            self.add(text)

    def _count(self, text: str) -> tuple[Counter[str], int]:
        words = tokens(self.seeds.strip_required(text))
        return Counter(words), len(words)

    def add(self, text: str) -> None:
        self.texts.append(text)
        self._counts.append(self._count(text))

    def near(self, text: str, threshold: float = MAX_ROUGE_L) -> tuple[int, float] | None:
        """The first kept instruction `text` is too alike to, with the score; None if there is none."""
        counts, size = self._count(text)
        for position, (other, other_size) in enumerate(self._counts):
            total = size + other_size
            if total and 2 * sum((counts & other).values()) / total < threshold:
                continue  # even a perfect ordering of the shared words stays below the threshold
            if (score := self.seeds.similarity(text, self.texts[position])) >= threshold:
                return position, score
        return None


def judge(seeds: Seeds, kept: Kept | Sequence[str], response: str) -> Verdict:
    """The verdict on one response given the instructions kept so far (seeds first, then the accepted
    rewrites in sample order), cheapest rule first."""
    if not response.strip():
        return Verdict(EMPTY)
    if match := _CHATTER.search(response.strip()):
        return Verdict(CHATTER, " ".join(match.group(0).split()))
    text = clean(response)
    if not text:
        return Verdict(EMPTY)
    if lacking := seeds.missing(text):
        return Verdict(MISSING_REQUIRED, "lacks " + ", ".join(repr(p) for p in lacking))
    found = (kept if isinstance(kept, Kept) else Kept(seeds, kept)).near(text)
    if found is not None:
        return Verdict(NEAR_DUPLICATE, f"ROUGE-L {found[1]:.2f} with definition {found[0]}")
    return Verdict(ACCEPTED)
