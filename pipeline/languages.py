"""The language check of the quality stage: every task declares the language of its inputs and outputs
(`Task.input_language`, `Task.output_language`); this module verifies the declaration on the instances.

Two passes, because the build sees ~5M records on 2 cores and a language identifier costs 50 us to 3 ms a call:

1. `instance_problem(text, declared)`, on every text: Unicode script proportions only. It catches a text written
   in another script than the declared language uses (a Chinese answer in an English task, Russian in a Spanish
   task, Japanese Kana in a Chinese task, an English paragraph in a Chinese task) and decides nothing between
   languages that share a script (English / French / Spanish; Chinese / Kanji-only Japanese).
2. `LanguageAudit`, on a deterministic sample of each task's texts (the first 100 per task and field, then every
   97th, at most 1,000): a real identifier, `py3langid` by default (`langdetect` as an option, seeded). It
   measures each task's language distribution for the build report, fails a task whose sampled texts are
   mostly in another language than declared, and quarantines a sampled text clearly in another language
   (identifier confident, text long enough): this is how French in an English task is found.

Care for what identification cannot judge, in both passes: letters are counted in lower case only for scripts
with case (Latin, Greek, Cyrillic...), so codes ("J189; E119"), acronyms ("CT", "WBC"), option letters
("B.") and numbers count for nothing; a text needs at least 30 such letters (or 6 Han / Kana / Hangul
characters) of a foreign script before pass 1 flags it, and foreign scripts must make up over 80% of the letters
(a CJK character weighs 3 letters), so English with Greek letters or units ("5 ug", "TNF-alpha") is fine, and so
is Russian or Chinese naming many Latin species or drugs: a mixed text is not a text in another language.
Pass 2 removes numbers, codes, acronyms and option letters before identifying, counts a text as undetermined
("und") when fewer than 30 letters remain or the identifier is less than 90% sure, judges a task only on 5 or
more determined texts, and quarantines an instance only from 80 letters at 99% confidence.

Choice of identifier, measured by `python benchmarks/language_id.py` (2,000 inputs and outputs of the bundled
samples, mean 114 characters; one core of the 2-core development machine, AMD EPYC):

    instance_problem, every text                     0.2 us a text (1.2 us non-ASCII; 16 us at worst: a full
                                                     1,000-character window of Chinese mixed with Latin)
    instance_problem, 106k texts of the real samples 0.7 us a text (../shared/corpora)
    LanguageAudit.observe, text not sampled          0.4 us
    cleaning a sampled text (`prepare`)              18 us
    py3langid 0.4, restricted to LANGUAGE_CODES      37 us a sampled text   <- default
    langdetect 1.0.9, seed 0, same languages         2,650 us a sampled text

py3langid is ~70 times faster than langdetect and, restricted to the languages of `LANGUAGE_CODES` (so that
Latin binomials and short English terms are not read as Latin, Occitan or Tagalog), makes no confident mistake on
English text of the bundled or real samples, where langdetect gives >99.9% to Italian for "oral glucose tolerance
test", Spanish for "An enzyme deficiency presenting as neonatal jaundice" and French for "Data are available on
request.". With the sample cap, identification costs at most 2 x 1,000 calls per task (~0.1 s with py3langid,
~5 s with langdetect), whatever the task's size. `langdetect` stays available as
`LanguageAudit(identifier="langdetect")` (quality setting `language_identifier: langdetect`).

Found with it: the bundled ShareGPT sample holds a Spanish conversation ("Mi madre tiene diabetes tipo 2...") in
the English task `sharegpt_medical_dialogue` (its answer is quarantined); in the real samples, Portuguese and
Catalan tweets in the Spanish Catalonia Independence task and English questions in the Japanese IgakuQA task.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from functools import cache

#: Language names as tasks declare them -> ISO 639-1 codes (the codes the identifiers return). A task may
#: declare only these; add a language here (one both identifiers know) before a converter declares it.
LANGUAGE_CODES: dict[str, str] = {
    "English": "en",
    "Chinese": "zh",
    "Japanese": "ja",
    "Korean": "ko",
    "French": "fr",
    "Spanish": "es",
    "Portuguese": "pt",
    "Italian": "it",
    "Catalan": "ca",
    "Romanian": "ro",
    "German": "de",
    "Dutch": "nl",
    "Swedish": "sv",
    "Danish": "da",
    "Norwegian": "no",
    "Finnish": "fi",
    "Hungarian": "hu",
    "Polish": "pl",
    "Czech": "cs",
    "Russian": "ru",
    "Ukrainian": "uk",
    "Greek": "el",
    "Turkish": "tr",
    "Arabic": "ar",
    "Persian": "fa",
    "Hebrew": "he",
    "Hindi": "hi",
    "Thai": "th",
    "Vietnamese": "vi",
    "Indonesian": "id",
}
LANGUAGE_NAMES: dict[str, str] = {code: name for name, code in LANGUAGE_CODES.items()}

# ---------------------------------------------------------------------------------------------------------------
# Pass 1: scripts

#: The characters counted as letters of each script. Scripts with case count their lower-case letters only.
_SCRIPT_LETTERS: dict[str, str] = {
    "Latin": "a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f\u1e00-\u1eff",
    "Greek": "\u03ac-\u03ce\u1f00-\u1f7d",
    "Cyrillic": "\u0430-\u045f",
    "Armenian": "\u0561-\u0587",
    "Hebrew": "\u05d0-\u05ea",
    "Arabic": "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff",
    "Devanagari": "\u0904-\u0939\u0958-\u0961",
    "Thai": "\u0e01-\u0e30\u0e32\u0e33\u0e40-\u0e45",
    "Hangul": "\uac00-\ud7a3\u3131-\u318e",
    "Kana": "\u3041-\u3096\u30a1-\u30fa\u30fc\u31f0-\u31ff\uff66-\uff9d",
    "Han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f",
}
_CJK = frozenset({"Hangul", "Kana", "Han"})
_SCRIPT_LABELS = {"Han": "Han (Chinese)", "Kana": "Kana (Japanese)", "Hangul": "Hangul (Korean)"}
#: The scripts each language is written in; every other language of LANGUAGE_CODES is written in Latin.
_SCRIPTS_OF: dict[str, frozenset[str]] = {
    "zh": frozenset({"Han"}),
    "ja": frozenset({"Han", "Kana"}),
    "ko": frozenset({"Hangul", "Han"}),
    "ru": frozenset({"Cyrillic"}),
    "uk": frozenset({"Cyrillic"}),
    "el": frozenset({"Greek"}),
    "ar": frozenset({"Arabic"}),
    "fa": frozenset({"Arabic"}),
    "he": frozenset({"Hebrew"}),
    "hi": frozenset({"Devanagari"}),
    "th": frozenset({"Thai"}),
}
_LATIN_ONLY = frozenset({"Latin"})
_RUNS = {script: re.compile(f"[{letters}]+") for script, letters in _SCRIPT_LETTERS.items()}

#: Pass 1 looks at the first WINDOW characters of a text (which script a text is written in shows there).
WINDOW = 1000
#: A CJK character weighs as much text as about 3 letters of an alphabet (word lengths: ~1.5 vs ~5).
CJK_WEIGHT = 3
#: Pass 1 flags a text only with at least this many letters of one foreign alphabet...
MIN_FOREIGN_LETTERS = 30
#: ...or this many foreign Han / Kana / Hangul characters;
MIN_FOREIGN_CJK = 6
#: and the declared language's own scripts must make up less than this share of the (weighted) letters: Russian
#: or Chinese with many Latin species names is a mixed text, not an English one.
MAX_OWN_SHARE = 0.2
#: Kana marks a text as Japanese in a Chinese (or Korean) task from this many, and 10% of its CJK characters.
MIN_KANA = 3
assert MIN_FOREIGN_CJK <= MIN_FOREIGN_LETTERS


def _count(regex: re.Pattern[str], text: str) -> int:
    return len(text) - len(regex.sub("", text))


def _union(scripts: frozenset[str] | set[str]) -> re.Pattern[str] | None:
    letters = "".join(_SCRIPT_LETTERS[s] for s in sorted(scripts))
    return re.compile(f"[{letters}]+") if letters else None


class _Plan:
    """Precompiled counters for one declared language: its own scripts and the foreign ones."""

    def __init__(self, code: str):
        own = _SCRIPTS_OF.get(code, _LATIN_ONLY)
        foreign = set(_SCRIPT_LETTERS) - own
        self.latin = "Latin" in own
        self.own_alpha, self.own_cjk = _union(own - _CJK), _union(own & _CJK)
        self.foreign_alpha, self.foreign_cjk = _union(foreign - _CJK), _union(foreign & _CJK)
        self.foreign_all = _union(foreign)
        self.foreign = sorted(foreign)
        #: Han is the declared language's own, Kana is not: Kana then marks a Japanese text.
        self.kana_marks_japanese = "Han" in own and "Kana" not in own


@cache
def _plan(declared: str) -> _Plan:
    return _Plan(code_of(declared))


def code_of(declared: str) -> str:
    """The ISO 639-1 code of a declared language name; ValueError for a name not in LANGUAGE_CODES."""
    try:
        return LANGUAGE_CODES[declared]
    except KeyError:
        raise ValueError(
            f"unknown language {declared!r}: declare one of {', '.join(LANGUAGE_CODES)} "
            "(or add it to pipeline.languages.LANGUAGE_CODES)"
        ) from None


def instance_problem(text: str, declared: str) -> str | None:
    """Why `text` is not in the `declared` language, judged by its scripts only (None: nothing to say).

    Cheap enough for every text of the build (~1 us for a typical text, bounded by WINDOW characters):
    an ASCII text in a Latin-script task returns at once, and so does any text that Windows-1252 can
    encode (Latin letters, accents and the usual punctuation and units only)."""
    plan = _plan(declared)
    window = text[:WINDOW]
    if window.isascii():
        if plan.latin:
            return None
        latin = _count(_RUNS["Latin"], window)
        return _reason("Latin", declared) if latin >= MIN_FOREIGN_LETTERS else None
    tail = window
    if plan.latin:
        try:
            window.encode("cp1252")
            return None
        except UnicodeEncodeError as error:  # only what follows the first character outside cp1252 can be foreign
            tail = window[error.start :]
    if _count(plan.foreign_all, tail) < MIN_FOREIGN_CJK:  # one pass settles most texts: no foreign letters
        return None
    alpha = _count(plan.foreign_alpha, tail) if plan.foreign_alpha else 0
    cjk = _count(plan.foreign_cjk, tail) if plan.foreign_cjk else 0
    japanese, han = False, 0
    if plan.kana_marks_japanese and cjk >= MIN_KANA:
        kana = _count(_RUNS["Kana"], window)
        han = _count(_RUNS["Han"], window)
        if kana >= MIN_KANA and 10 * kana >= kana + han:
            japanese, cjk = True, cjk + han
    if alpha < MIN_FOREIGN_LETTERS and cjk < MIN_FOREIGN_CJK:
        return None
    own = _count(plan.own_alpha, window) if plan.own_alpha else 0
    if plan.own_cjk:
        own += CJK_WEIGHT * (_count(plan.own_cjk, window) - (han if japanese else 0))
    if own * (1 - MAX_OWN_SHARE) >= (alpha + CJK_WEIGHT * cjk) * MAX_OWN_SHARE:  # a mixed text, not a foreign one
        return None
    return _reason("Kana" if japanese else _dominant(plan.foreign, window), declared)


def _dominant(scripts: list[str], text: str) -> str:
    counts = {s: _count(_RUNS[s], text) * (CJK_WEIGHT if s in _CJK else 1) for s in scripts}
    if counts.get("Kana", 0) >= MIN_KANA and 10 * counts["Kana"] >= counts["Kana"] + counts.get("Han", 0):
        return "Kana"  # Japanese: Kana with Han
    return max(counts, key=counts.__getitem__)


def _reason(script: str, declared: str) -> str:
    return f"text is in {_SCRIPT_LABELS.get(script, script)} script, task declares {declared}"


# ---------------------------------------------------------------------------------------------------------------
# Pass 2: identification on a sample

#: The identifier reads at most this many characters of a text (after cleaning).
ID_WINDOW = 1000
#: A sampled text is determined when at least this many (weighted) letters remain after cleaning...
MIN_JUDGED_LETTERS = 30
#: ...and the identifier gives its language at least this probability; otherwise it counts as "und".
MIN_CONFIDENCE = 0.9
#: A task field is judged on at least this many determined sampled texts.
MIN_JUDGED_TEXTS = 5
#: A sampled text is quarantined for its language from this many letters and this confidence.
MIN_QUARANTINE_LETTERS = 80
MIN_QUARANTINE_CONFIDENCE = 0.99
#: (declared, identified) pairs an instance is never quarantined for: Kanji-only Japanese reads as Chinese.
#: They still count in the measured distribution, so a "Japanese" task that is all Chinese still fails.
_CLOSE = frozenset({("ja", "zh")})
UNDETERMINED = "und"

#: Numbers, codes, doses, URLs, e-mail addresses, acronyms in capitals and option letters: nothing to identify.
_NOISE = re.compile(
    r"https?://[!-~]+|www\.[!-~]+|[!-~]+@[!-~]+"
    r"|[\w.,:;/%+=<>#&'-]*\d[\w.,:;/%+=<>#&'-]*"
    r"|\b[A-Z][A-Z]+s?\b"
    r"|^[ \t]*[A-Za-z][.)](?=\s)",
    re.ASCII | re.MULTILINE,
)
_ALPHA = _union(set(_SCRIPT_LETTERS) - _CJK)
_CJK_RUNS = _union(set(_CJK))


def prepare(text: str) -> tuple[str, int]:
    """The text the identifier reads (noise removed, at most ID_WINDOW characters) and its weighted letters."""
    text = text[: 2 * ID_WINDOW]
    if text.isupper():
        text = text.lower()  # an all-capitals note: its words are words, not acronyms
    cleaned = " ".join(_NOISE.sub(" ", text).split())[:ID_WINDOW]
    return cleaned, _count(_ALPHA, cleaned) + CJK_WEIGHT * _count(_CJK_RUNS, cleaned)


Identifier = Callable[[str], tuple[str, float]]


@cache
def get_identifier(name: str) -> Identifier:
    """A language identifier by name, restricted to the languages of LANGUAGE_CODES: text -> (code, probability)."""
    codes = sorted(set(LANGUAGE_CODES.values()))
    if name == "py3langid":
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        model.set_languages([c for c in codes if c in set(model.labels)])

        def identify(text: str) -> tuple[str, float]:
            code, probability = model.classify(text)
            return code, float(probability)

        return identify
    if name == "langdetect":
        from langdetect import DetectorFactory
        from langdetect.detector_factory import PROFILES_DIRECTORY
        from langdetect.lang_detect_exception import LangDetectException

        DetectorFactory.seed = 0  # langdetect samples n-grams at random: seed it for deterministic builds
        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        prior = {lang: 1.0 for lang in factory.get_lang_list() if lang.split("-")[0] in codes}

        def identify(text: str) -> tuple[str, float]:
            detector = factory.create()
            detector.set_prior_map(prior)
            detector.append(text)
            try:
                found = detector.get_probabilities()
            except LangDetectException:  # no features in the text
                return UNDETERMINED, 0.0
            if not found:
                return UNDETERMINED, 0.0
            merged: Counter[str] = Counter()
            for language in found:  # zh-cn and zh-tw are both Chinese
                merged[language.lang.split("-")[0]] += language.prob
            return merged.most_common(1)[0]

        return identify
    raise ValueError(f"unknown language identifier {name!r}: use 'py3langid' or 'langdetect'")


class LanguageAudit:
    """Language identification on a deterministic sample of each task's texts, per field ("input", "output").

    Call `observe` for every instance and field, in the build's (deterministic) order; the first
    `sample_first` texts of each task and field are sampled, then every `sample_every`-th, at most `cap`.
    The cap bounds a fixed cost: py3langid reads a 1,000-character clinical note in about 1.4 ms, so a cap
    of 1,000 cost up to 56 s of CPU for a source of 20 tasks and some 250 s over MedS-Ins's 122 tasks, for a
    majority that 300 texts decide as well (MIN_JUDGED_TEXTS are enough to judge a task).
    """

    def __init__(self, identifier: str = "py3langid", sample_first: int = 100, sample_every: int = 97, cap: int = 300):
        if sample_first < 0 or sample_every < 1 or cap < 0:
            raise ValueError("sample_first and cap must be >= 0, sample_every >= 1")
        self.identifier_name = identifier
        self._identify = get_identifier(identifier)  # fails early on an unknown name
        self.sample_first, self.sample_every, self.cap = sample_first, sample_every, cap
        self._seen: dict[tuple[str, str], int] = {}
        self._sampled: Counter[tuple[str, str]] = Counter()
        self._declared: dict[tuple[str, str], str] = {}
        self._measured: dict[str, dict[str, Counter[str]]] = {}
        self._last: tuple[str | None, int, str, float] = (None, 0, UNDETERMINED, 0.0)

    def _samples(self, position: int) -> bool:
        return position < self.sample_first or (position - self.sample_first) % self.sample_every == 0

    def observe(self, task_id: str, field: str, text: str, declared: str) -> str | None:
        """Count this text; if it is sampled, identify it. Returns why THIS text is clearly in another language
        than `declared` (the identifier sure of it on a long enough text), else None."""
        key = (task_id, field)
        position = self._seen.get(key, 0)
        self._seen[key] = position + 1
        if not self._samples(position) or self._sampled[key] >= self.cap:
            return None
        self._sampled[key] += 1
        code = code_of(declared)
        if self._declared.setdefault(key, declared) != declared:
            raise ValueError(f"{task_id} {field}: declared {self._declared[key]} and then {declared}")
        counts = self._measured.setdefault(task_id, {}).setdefault(field, Counter())
        letters, found, probability = self._judge(text)
        if letters < MIN_JUDGED_LETTERS:
            counts[UNDETERMINED] += 1
            return None
        if found == UNDETERMINED or probability < MIN_CONFIDENCE:
            counts[UNDETERMINED] += 1
            return None
        counts[found] += 1
        if (
            found != code
            and letters >= MIN_QUARANTINE_LETTERS
            and probability >= MIN_QUARANTINE_CONFIDENCE
            and (code, found) not in _CLOSE
        ):
            name, by = LANGUAGE_NAMES.get(found, found), self.identifier_name
            return f"identified as {name} ({found}, p={probability:.2f} by {by}), task declares {declared}"
        return None

    def _judge(self, text: str) -> tuple[int, str, float]:
        """(letters, language, probability) of `text`, kept for the last text: the records a converter makes of
        one raw record often share their input (a report's modality and anatomy instances, both sampled)."""
        if text is not self._last[0]:
            cleaned, letters = prepare(text)
            found, probability = self._identify(cleaned) if letters >= MIN_JUDGED_LETTERS else (UNDETERMINED, 0.0)
            self._last = (text, letters, found, probability)
        return self._last[1:]

    def disagreements(self) -> dict[str, str]:
        """task_id -> why, for each task a field of which is mostly (more than half of its determined sampled
        texts, at least MIN_JUDGED_TEXTS of them) identified as another language than declared."""
        found: dict[str, str] = {}
        for task_id, fields in sorted(self._measured.items()):
            problems = []
            for field, counts in sorted(fields.items()):
                declared = self._declared[(task_id, field)]
                code = LANGUAGE_CODES[declared]
                judged = sum(n for c, n in counts.items() if c != UNDETERMINED)
                other = judged - counts[code]
                if judged >= MIN_JUDGED_TEXTS and 2 * other > judged:
                    shown = ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda cn: (-cn[1], cn[0])))
                    problems.append(
                        f"{field} declared {declared} ({code}), but {other} of {judged} determined sampled texts "
                        f"are in other languages (measured: {shown})"
                    )
            if problems:
                found[task_id] = "; ".join(problems)
        return found

    def measured(self) -> dict[str, dict[str, dict[str, int]]]:
        """task_id -> field -> {language code: sampled texts}, "und" for texts too short or too uncertain."""
        return {
            task_id: {field: dict(sorted(counts.items())) for field, counts in sorted(fields.items())}
            for task_id, fields in sorted(self._measured.items())
        }
