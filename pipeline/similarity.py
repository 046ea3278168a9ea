"""How alike two instructions are: ROUGE-L, the Self-Instruct rule for keeping only instructions
that differ from every one already kept (a new one is rejected at ROUGE-L F1 >= 0.7).

Written here rather than taken from `rouge-score`: its default tokenizer drops every non-Latin
character (a Chinese or Japanese instruction would score as empty) and it pulls in nltk and absl
for one dynamic-programming loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

#: Self-Instruct (Wang et al., 2023) keeps a generated instruction only below this ROUGE-L.
MAX_ROUGE_L = 0.7

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased words; one token per CJK character (those scripts do not space words)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, in O(len(a) * len(b)) time and O(len(b)) memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(a: str | Sequence[str], b: str | Sequence[str]) -> float:
    """ROUGE-L F1 between two texts (or token lists): 1.0 for the same words in the same order."""
    ta = tokens(a) if isinstance(a, str) else a
    tb = tokens(b) if isinstance(b, str) else b
    if not ta or not tb:
        return 1.0 if not ta and not tb else 0.0
    lcs = lcs_length(ta, tb)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(tb), lcs / len(ta)
    return 2 * precision * recall / (precision + recall)


def closest(candidate: str, kept: Sequence[str]) -> tuple[float, int]:
    """The highest ROUGE-L of `candidate` against `kept`, and the index it was reached at (-1 if none)."""
    tc = tokens(candidate)
    best, where = 0.0, -1
    for i, text in enumerate(kept):
        score = rouge_l(tc, tokens(text))
        if score > best:
            best, where = score, i
    return best, where
