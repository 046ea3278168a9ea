"""The medical instruction tagger: decides whether an instruction (a user's query) is about medicine or
health, for the general-purpose sources whose medical subset MedS-Ins kept (LIMA, ShareGPT).

The paper selected those subsets with InsTag (Lu et al., 2023: an LLM gives open-set tags of a query's
intentions and topics). Here the selection is a pluggable step with one interface, `Tagger`
(`name` and `is_medical(text) -> Tagging(medical, tags)`), and two backends:

- `KeywordTagger` (default; offline, deterministic, ships with the repository): the text's score is the
  sum of the weights of the distinct terms (with regular plural and verb endings) of a curated vocabulary
  it contains, `pipeline/catalogue/medical_terms.txt`: strong terms 1.0, ambiguous ones 0.5, and
  non-medical phrases such as "health check" or "computer virus" that stop the word inside them from
  counting. The text is
  medical when the score reaches `min_score` (1.0: one strong term or two weak ones) and, for long texts,
  `per_100_words` per hundred words (0.5), so that a long conversation about code that mentions a patient
  or a virus in passing is not selected. Its tags are the terms found. On the bundled LIMA and ShareGPT
  samples (29 items, 15 medical) and 14 tricky phrases it agrees with the hand labels on every one
  (tests/test_tagger.py measures it); those texts were written together with the vocabulary, so this is
  an optimistic figure. The vocabulary is English: medical conversations in other languages are mostly
  missed (ShareGPT has many); use the OpenAI backend for them.
- `OpenAITagger`: asks an OpenAI-compatible chat-completions endpoint (the real `openai` client; model,
  base URL and key from arguments or MEDS_INS_TAGGER_MODEL / OPENAI_BASE_URL / OPENAI_API_KEY) for
  InsTag-style tags (a JSON list of {"tag", "explanation"}) and calls the query medical when its tags
  score at least 1.0 against the same vocabulary ("medical advice", "symptom inquiry" and "mental health"
  do; "fitness" or "nutrition" alone do not). Responses are cached on disk, one file per
  sha256(model + prompt), under MEDS_INS_TAGGER_CACHE (default ~/.cache/meds-ins/tagger), so a re-run
  makes no call at all; delete a cache file to ask again.

`from_env()` picks the backend from MEDS_INS_TAGGER = keyword (default) | openai | <module>:<factory>
(a third-party tagger), so converters stay offline unless the user opts in. A converter tags the text
`instruction_text(user_turns)` (the user's turns, at most MAX_CHARS characters) and calls `screen`, which
gives the rejection of a conversation the tagger does not select: reason "not selected by the medical
tagger (<name>)", so the build report counts how many conversations each tagger left out, with the tags
as value.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

TAGGER_ENV = "MEDS_INS_TAGGER"
MODEL_ENV = "MEDS_INS_TAGGER_MODEL"
CACHE_ENV = "MEDS_INS_TAGGER_CACHE"
DEFAULT_MODEL = "gpt-4o-mini"
VOCABULARY = Path(__file__).parent / "catalogue" / "medical_terms.txt"
#: The tagger sees at most this many characters of a conversation's user turns (InsTag tags queries;
#: this bounds the LLM's cost and the incidental terms a very long paste can accumulate).
MAX_CHARS = 4000
SECTION_WEIGHTS = {"strong": 1.0, "weak": 0.5, "exclude": 0.0}
NOT_UNDERSTOOD = "medical tagger response not understood"


class Tagging(NamedTuple):
    """A tagger's verdict on one text: whether it is medical, and the tags that decided it."""

    medical: bool
    tags: tuple[str, ...]


@runtime_checkable
class Tagger(Protocol):
    """What a converter needs from a tagger. `name` appears in the rejection reason of what it leaves out."""

    name: str

    def is_medical(self, text: str) -> Tagging: ...


class TaggerError(ValueError):
    """A tagger answer that cannot be read; `response` is what was answered."""

    def __init__(self, message: str, response: str):
        super().__init__(message)
        self.response = response


def instruction_text(turns: Iterable[str], limit: int = MAX_CHARS) -> str:
    """What a tagger reads of a conversation: the user's turns, blank-line separated, cut at `limit` characters."""
    return "\n\n".join(t.strip() for t in turns if t and t.strip())[:limit]


def not_selected(tagger: Tagger) -> str:
    return f"not selected by the medical tagger ({tagger.name})"


def screen(tagger: Tagger, text: str) -> tuple[str, str] | None:
    """None when `tagger` selects `text` as medical, else the (reason, value) of its rejection."""
    try:
        medical, tags = tagger.is_medical(text)
    except TaggerError as error:
        return NOT_UNDERSTOOD, error.response[:200]
    return None if medical else (not_selected(tagger), ", ".join(tags) or "no medical term")


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits: punctuation, hyphens and underscores separate words."""
    return re.findall(r"[^\W_]+", text.casefold())


def _inflections(word: str) -> set[str]:
    """Regular plural and verb forms: -s, -es, -ies, -ed, -d, -ing (a final e dropped)."""
    forms = {word + "s", word + "es", word + "ed", word + "ing"}
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    return forms


@dataclass(frozen=True)
class Vocabulary:
    """Terms with weights; `phrases` maps each term's word sequence (and its inflections) to (term, weight),
    `lengths` a first word to the lengths of the phrases starting with it, longest first."""

    phrases: Mapping[tuple[str, ...], tuple[str, float]]
    lengths: Mapping[str, tuple[int, ...]]

    @classmethod
    def parse(cls, lines: Iterable[str], name: str = "vocabulary") -> Vocabulary:
        terms: dict[tuple[str, ...], tuple[str, float]] = {}
        weight: float | None = None
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line.strip("[]").strip()
                if section not in SECTION_WEIGHTS:
                    raise ValueError(f"{name}:{number}: unknown section [{section}]; use {list(SECTION_WEIGHTS)}")
                weight = SECTION_WEIGHTS[section]
                continue
            if weight is None:
                raise ValueError(f"{name}:{number}: term {line!r} before any [section]")
            key = tuple(words(line))
            if not key:
                raise ValueError(f"{name}:{number}: {line!r} has no word")
            if key in terms:
                raise ValueError(f"{name}:{number}: {line!r} is listed twice")
            terms[key] = (" ".join(key), weight)
        phrases = dict(terms)
        for key, value in terms.items():  # inflections of the last word, unless listed as terms of their own
            for form in _inflections(key[-1]):
                phrases.setdefault(key[:-1] + (form,), value)
        lengths: dict[str, set[int]] = {}
        for key in phrases:
            lengths.setdefault(key[0], set()).add(len(key))
        return cls(phrases, {first: tuple(sorted(ns, reverse=True)) for first, ns in lengths.items()})

    def matches(self, tokens: list[str]) -> dict[str, float]:
        """The distinct weighted terms in `tokens`, in order of first appearance; at each position the
        longest term wins, and an excluded phrase consumes its words without counting."""
        found: dict[str, float] = {}
        i = 0
        while i < len(tokens):
            for n in self.lengths.get(tokens[i], ()):
                hit = self.phrases.get(tuple(tokens[i : i + n]))
                if hit is not None:
                    if hit[1] > 0:
                        found.setdefault(*hit)
                    i += n
                    break
            else:
                i += 1
        return found


@cache
def vocabulary(path: Path = VOCABULARY) -> Vocabulary:
    with open(path, encoding="utf-8") as f:
        return Vocabulary.parse(f, str(path))


class KeywordTagger:
    """Offline tagger: weighted medical terms, with a threshold that grows with the length of the text."""

    name = "keyword"

    def __init__(self, vocab: Vocabulary | None = None, min_score: float = 1.0, per_100_words: float = 0.5):
        self.vocab = vocab or vocabulary()
        self.min_score, self.per_100_words = min_score, per_100_words

    def score(self, text: str) -> tuple[float, float, tuple[str, ...]]:
        """(score, score needed, terms found) of `text`."""
        tokens = words(text)
        found = self.vocab.matches(tokens)
        needed = max(self.min_score, self.per_100_words * len(tokens) / 100)
        return sum(found.values()), needed, tuple(found)

    def is_medical(self, text: str) -> Tagging:
        score, needed, terms = self.score(text)
        return Tagging(score >= needed, terms)


#: InsTag-style prompt (open-set tags of intentions and topics, each explained, as a JSON list), with
#: one addition: a tag for the subject domain, which is what the medical decision reads.
SYSTEM_PROMPT = (
    "You are a tagging system. You describe the instructions people give to an AI assistant with "
    "fine-grained tags of their intentions and topics, so that the instructions can be analysed and selected."
)
USER_PROMPT = (
    "Tag the user query below. Give fine-grained tags for what the user wants and for the topics involved, "
    'and always one tag naming the subject domain of the query (for example "medicine", "mental health", '
    '"programming", "cooking", "law"). Explain each tag in one sentence. Answer only with a JSON list of '
    'objects of the form {{"tag": str, "explanation": str}}.\n\nUser query:\n[begin]\n{query}\n[end]'
)


def instag_messages(query: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": USER_PROMPT.format(query=query)},
    ]


def parse_tags(content: str) -> tuple[str, ...]:
    """The tags in a model's answer: a JSON list of {"tag": ...} objects or of strings (a ```json fence,
    text around the list, or an object {"tags": [...]} are tolerated). Raises TaggerError otherwise."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    candidates = [text]
    start, end = text.find("["), text.rfind("]")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            tags = _tags_of(json.loads(candidate))
        except json.JSONDecodeError:
            continue
        if tags is not None:
            return tags
    raise TaggerError("the answer is not a JSON list of tags", content)


def _tags_of(data: Any) -> tuple[str, ...] | None:
    if isinstance(data, dict):
        if isinstance(data.get("tags"), list):
            return _tags_of(data["tags"])
        data = [data]
    if not isinstance(data, list):
        return None
    tags: dict[str, None] = {}
    for item in data:
        tag = item.get("tag") if isinstance(item, dict) else item
        if not isinstance(tag, str):
            return None
        if tag.strip():
            tags.setdefault(" ".join(tag.split()))
    return tuple(tags)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "meds-ins" / "tagger"


class ResponseCache:
    """Model answers on disk, one JSON file per sha256(model + prompt), written atomically."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @staticmethod
    def key(model: str, messages: list[dict[str, str]]) -> str:
        return hashlib.sha256(json.dumps([model, messages], ensure_ascii=False).encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        try:
            with open(self._path(key), encoding="utf-8") as f:
                return json.load(f)["response"]
        except FileNotFoundError:
            return None

    def put(self, key: str, model: str, messages: list[dict[str, str]], response: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"model": model, "messages": messages, "response": response}
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump(entry, f, ensure_ascii=False)
        os.replace(f.name, path)


class OpenAITagger:
    """InsTag through an OpenAI-compatible chat-completions endpoint, with answers cached on disk. The
    client is created at the first cache miss, so a fully cached re-run needs neither network nor key."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        cache_dir: Path | str | None = None,
        vocab: Vocabulary | None = None,
        min_score: float = 1.0,
        client: Any = None,
        timeout: float = 120.0,
    ):
        self.model = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        self.base_url, self.api_key, self.timeout = base_url, api_key, timeout
        self.cache = ResponseCache(Path(cache_dir) if cache_dir else default_cache_dir())
        self.vocab = vocab or vocabulary()
        self.min_score = min_score
        self._client = client
        self.calls = 0  # requests actually sent (cache misses)

    @property
    def client(self) -> Any:
        if self._client is None:
            import openai  # imported here: the default keyword tagger never needs it

            # None lets the client read OPENAI_BASE_URL / OPENAI_API_KEY itself.
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout)
        return self._client

    def answer(self, query: str) -> str:
        """The model's answer to the InsTag prompt for `query`, from the cache when it was asked before."""
        messages = instag_messages(query)
        key = ResponseCache.key(self.model, messages)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        completion = self.client.chat.completions.create(model=self.model, messages=messages, temperature=0)
        self.calls += 1
        content = completion.choices[0].message.content or ""
        self.cache.put(key, self.model, messages, content)
        return content

    def tags(self, query: str) -> tuple[str, ...]:
        return parse_tags(self.answer(query))

    def is_medical(self, text: str) -> Tagging:
        tags = self.tags(text)
        terms: dict[str, float] = {}
        for tag in tags:  # each tag on its own, so that no phrase spans two tags
            for term, weight in self.vocab.matches(words(tag)).items():
                terms.setdefault(term, weight)
        return Tagging(sum(terms.values()) >= self.min_score, tags)


def from_env(environ: Mapping[str, str] | None = None) -> Tagger:
    """The tagger named by MEDS_INS_TAGGER: keyword (default), openai, or <module>:<factory> for a
    third-party tagger (a class or function called without arguments)."""
    env = os.environ if environ is None else environ
    choice = (env.get(TAGGER_ENV) or "keyword").strip()
    if choice == "keyword":
        return KeywordTagger()
    if choice == "openai":
        return OpenAITagger(
            env.get(MODEL_ENV),
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            cache_dir=default_cache_dir(env),
        )
    if ":" in choice:
        module, _, attr = choice.partition(":")
        tagger = getattr(importlib.import_module(module), attr)()
        if not isinstance(tagger, Tagger):
            raise ValueError(f"{TAGGER_ENV}={choice}: {attr}() gave no tagger (needs `name` and `is_medical`)")
        return tagger
    raise ValueError(f"{TAGGER_ENV}={choice!r}: use keyword, openai or <module>:<factory>")
