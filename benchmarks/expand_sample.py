"""Synthetic corpora for the sources without a dedicated generator: the bundled sample (data/samples/<id>),
written `copies` times over into one raw folder of the same layout, each copy a consistent rewording.

Why a rewording and not a copy: the build refuses duplicate ids and removes exact and near duplicates, so
plain copies would be quarantined (and fail the quality stage). Why consistent: raw formats tie their parts
together (an answer is one of the options, a mention is the text at its offsets, a split list names document
files, one file's ids are another's keys), so copy k applies ONE mapping to every file of the sample:

- words of 3+ letters (any alphabetic script; each Han/Kana character on its own) are replaced by a word of the
  same length and case from the sample's own vocabulary (a permutation per copy, words grouped by length and by
  the file they were first seen in, so a Spanish file keeps Spanish words; a small group is filled up with words
  made of the halves of two of its file's words, so that copies of a small sample still differ). Same length
  keeps every character offset valid; equal words stay equal. Words the format or the converter rely on are
  never replaced: JSON keys, XML tag and attribute names, CSV headers, OBO tags, file-path words, the task
  labels, and every word in a string literal (not a docstring, not the text of an f-string message) of the
  converter module and of the pipeline's shared reader modules.
- runs of 6+ digits (PMIDs, note ids, stay ids) become another number of the same width (x + k * S mod 10**n),
  in file names too, so ids stay unique and cross-references stay consistent;
- files named by a document id (an id in the name, or one of 5+ same-extension siblings) are written once per
  copy under the mapped name (a stem without a 6-digit id gets the suffix `c<k>`, in every file that names it);
  other files repeat their records (JSON list items or dict entries, JSON lines, CSV records, text lines or
  blank-line-separated blocks, XML elements, spreadsheet and Parquet rows) inside one file.

Copy 0 is the sample itself, byte for byte. Records the sample holds on purpose to exercise rejections are
repeated too, so the converter rejects the same share of records as on the sample.
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import random
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.hashtable import mix64

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"

MIN_WORD = 3
#: Words a pool is filled up to with made-up words (see `Vocabulary._pad`).
POOL_MIN = 256
#: The same for pools of single Han or Kana characters: a Chinese text is one pool, so it differs between copies
#: only as much as the pool allows (about size * size / 2 affine permutations).
CHARACTER_POOL_MIN = 1024
ID_DIGITS = 6
#: Words of text formats themselves (XML declaration, entities, JSON literals, URLs).
FORMAT_WORDS = frozenset(
    [
        "xml",
        "version",
        "encoding",
        "utf",
        "ascii",
        "iso",
        "latin",
        "standalone",
        "doctype",
        "html",
        "head",
        "body",
        "amp",
        "quot",
        "apos",
        "nbsp",
        "true",
        "false",
        "null",
        "none",
        "nan",
        "http",
        "https",
        "www",
        "com",
        "org",
        "net",
        "gov",
        "edu",
        "index",
    ]
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_BLOCKS = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_WORD = f"[^\\W\\d_{_CJK}]+"
#: Shared modules whose literals hold the words converters key on (headers, tags, labels).
SHARED_MODULES = ("forms", "readers", "ner", "pubtator", "model")

Render = Callable[[int], str]


#: English words: the text of make_corpora's dedicated generators, and extra replacement words for the samples of
#: English-only sources (a small sample has few words of each length: without extras, copies of a short text
#: would often be reworded alike and removed as duplicates).
FUNCTION_WORDS = """the of and to in a with is was for on no as at by or be are from this that there which
not were has have an it its after before without within than into also may but both other these all"""
CONTENT_WORDS = """patient patients history pain chest abdominal acute chronic mild moderate severe left right bilateral
normal abnormal findings evidence lesion mass nodule effusion pleural pulmonary cardiac heart lung lungs liver
kidney renal hepatic biliary bowel colon stomach pancreas spleen gallbladder bladder prostate uterus ovary brain
spinal cervical thoracic lumbar vertebral disc fracture bone joint muscle tissue soft vessel artery vein aorta
carotid coronary venous arterial thrombosis embolism stenosis occlusion aneurysm dissection hemorrhage infarct
ischemia edema swelling inflammation infection abscess pneumonia consolidation atelectasis opacity density
attenuation enhancement contrast intravenous oral dose imaging study examination exam comparison prior previous
interval change stable unchanged improved worsening increased decreased new small large size measuring diameter
centimeter millimeter image images series axial coronal sagittal view views portable upright supine lateral
frontal anterior posterior superior inferior medial proximal distal upper lower middle lobe segment region area
margin wall surface cavity space fluid air gas free collection drainage catheter tube line device stent graft
clip pacemaker surgery surgical procedure operation resection repair excision biopsy specimen pathology tumor
malignancy carcinoma metastatic metastasis benign cyst simple complex solid calcification calcified sclerotic
lytic degenerative disease syndrome disorder condition diagnosis differential likely possible probable suspected
concerning consistent compatible suggestive recommend recommended further evaluation follow clinical correlation
treatment therapy medication medications antibiotic antibiotics steroid insulin heparin warfarin aspirin
analgesic infusion fluids oxygen saturation ventilation intubation extubation admission admitted discharged
discharge hospital course emergency department ward unit service team physician nurse surgeon consultant
family daughter son wife husband home rehabilitation facility outpatient clinic appointment weeks days hours
months year years daily twice weekly morning evening night blood pressure pulse rate temperature fever chills
cough dyspnea shortness breath nausea vomiting diarrhea constipation fatigue weakness dizziness syncope
headache confusion seizure stroke tremor numbness tingling rash itching bleeding bruising jaundice weight
loss gain appetite sleep anxiety depression mood memory speech vision hearing swallowing walking gait balance
fall injury trauma accident wound ulcer skin scar incision dressing sutures staples cast splint brace crutches
diet sodium potassium glucose creatinine hemoglobin platelet white count cells culture sputum urine stool
serum level levels elevated low high within limits laboratory results test tests testing screening
monitoring observation assessment plan management care support education instructions questions concerns
signs symptoms return worsening persistent recurrent intermittent episodic sudden gradual onset duration
resolved resolving ongoing continued started stopped increased adjusted tolerated tolerating improved
noted seen identified demonstrated shown visualized present absent unremarkable intact preserved maintained
trial randomized controlled cohort retrospective prospective observational cases controls participants
subjects group groups outcome outcomes mortality survival risk ratio odds analysis regression association
associated significant significantly difference compared comparison baseline primary secondary endpoint
incidence prevalence rates measured reported assessed evaluated performed included excluded enrolled
received receiving underwent undergoing treated untreated intervention placebo efficacy safety adverse
events effect effects response responses factors factor predictors independent dependent variable sample
population community children adults elderly women men pregnancy infants neonates adolescents age aged
gene genes protein expression mutation variant receptor pathway cell cellular molecular mechanism function
structure activity signaling inhibitor inhibition activation production release levels concentration
exposure environmental occupational smoking alcohol obesity diabetes hypertension asthma arthritis cancer
lymphoma leukemia anemia sepsis shock failure insufficiency disease dementia epilepsy migraine allergy
vaccine vaccination immune immunity antibody antibodies virus viral bacterial fungal parasitic resistance"""

# --- what may not be reworded --------------------------------------------------------------------------------


def _literal_words(path: Path) -> set[str]:
    """Words of every string literal of a module: the keys, headers, tags, labels and patterns its code compares raw
    text with. Docstrings and the text of f-strings are left out: they are prose and messages ("repeats an earlier
    row with the same ..."), and protecting their words left texts made of them (a sample's deliberate duplicate)
    the same in every copy."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    skipped |= {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in ast.walk(node)}
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            words.update(w.casefold() for w in re.findall(_WORD, node.value))
    return words


@cache
def protected_words(source_id: str) -> frozenset[str]:
    from pipeline.registry import get

    conv = get(source_id)
    words = set(FORMAT_WORDS)
    module_file = Path(__import__(conv.module, fromlist=["_"]).__file__)
    words |= _literal_words(module_file)
    for name in SHARED_MODULES:
        words |= _literal_words(ROOT / "pipeline" / f"{name}.py")
    for task in conv.tasks:
        for label in task.labels:
            words.update(w.casefold() for w in re.findall(_WORD, label))
    return frozenset(words)


def _languages(source_id: str, outputs: bool = True) -> set[str]:
    """The languages of the source's task inputs (and outputs): with one input language, every file of the sample
    is in it (an English output is a label or a translation made by the converter)."""
    from pipeline.registry import get

    tasks = get(source_id).tasks
    return {t.input_language for t in tasks} | ({t.output_language for t in tasks} if outputs else set())


def _structural_words(name: str, text: str) -> set[str]:
    """Words that name structure in this file: JSON keys, XML names, a CSV/TSV header, OBO tags."""
    found: list[str] = re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', text)  # JSON keys
    found += re.findall(r"</?([\w:.-]+)", text)  # XML tags
    found += re.findall(r"\s([\w:.-]+)=[\"']", text)  # XML attributes
    found += re.findall(r"^(\w[\w-]*):", text, re.M)  # OBO / header tags
    found += re.findall(r"^\[(\w+)\]", text, re.M)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    if _header_like(first):
        found.append(first)
    return {w.casefold() for piece in found for w in re.findall(_WORD, piece)}


def _header_like(line: str) -> bool:
    cells = [c.strip().strip('"') for c in re.split(r"[,\t|]", line.rstrip("\r\n"))]
    if line.startswith("#"):
        return True
    named = cells if cells[0] else cells[1:]  # pandas writes an unnamed index column
    return len(cells) > 1 and all(c and " " not in c and not c.replace(".", "").isdigit() for c in named)


# --- templates -----------------------------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """Words by pool (length, script, home file); a word's replacement in copy k is found by an affine
    permutation of its pool."""

    index: dict[str, int] = field(default_factory=dict)  # lower-case word -> global index
    pool_of: list[tuple[int, int, int]] = field(default_factory=list)  # per word: (length, script, home)
    lowers: list[str] = field(default_factory=list)
    #: One language in every file: pools by length and script only, not by file (larger pools).
    single_home: bool = False

    def add(self, word: str, home: int) -> int:
        if self.single_home:
            home = 0
        if word not in self.index:
            self.index[word] = len(self.lowers)
            self.lowers.append(word)
            self.pool_of.append((len(word), _script(word), home))
        return self.index[word]

    def freeze(self, protected: frozenset[str] = frozenset()) -> None:
        """Order words by pool so that each pool is a contiguous range [start, start + size)."""
        self._pad(protected)
        order = sorted(range(len(self.lowers)), key=lambda i: (self.pool_of[i], self.lowers[i]))
        self.position = np.empty(len(order), np.int64)
        self.position[order] = np.arange(len(order))
        sorted_words = [self.lowers[i] for i in order]
        keys = [self.pool_of[i] for i in order]
        start = np.zeros(len(order), np.int64)
        size = np.zeros(len(order), np.int64)
        i = 0
        while i < len(keys):
            j = i
            while j < len(keys) and keys[j] == keys[i]:
                j += 1
            start[i:j], size[i:j] = i, j - i
            i = j
        self.start, self.size = start, size
        n = len(sorted_words)
        self.cased = np.array(sorted_words + [w.title() for w in sorted_words] + [w.upper() for w in sorted_words])
        self.n = n

    def _pad(self, protected: frozenset[str]) -> None:
        """Fill every pool up to POOL_MIN words (CHARACTER_POOL_MIN Han or Kana characters) with made-up ones.
        A copy maps a word onto its pool, so a pool of a handful of words has only a handful of images: a text
        made of such words (a small sample, one file per language) came out identical in many copies, and the
        build rightly quarantined them as duplicates. A made-up word joins the first letters of one word of the
        same script and file to the last letters of another, and a character is a neighbour of one in its
        Unicode block: the letter sequences of the language stay, so the language check still passes."""
        pools: dict[tuple[int, int, int], set[str]] = defaultdict(set)
        donors: dict[tuple[int, int], list[str]] = defaultdict(list)
        for word, key in zip(self.lowers, self.pool_of, strict=True):
            pools[key].add(word)
            if len(word) > 1:
                donors[key[1:]].append(word)
        for key, members in sorted(pools.items()):
            length = key[0]
            wanted = POOL_MIN if length > 1 else CHARACTER_POOL_MIN
            words = sorted(members) if length == 1 else donors[key[1:]]
            rng = random.Random(f"pool {key}")
            for _ in range(20 * max(0, wanted - len(members))):
                if len(members) >= wanted:
                    break
                made = _made_word(rng, words, length)
                if made and made not in members and made not in protected:
                    members.add(made)
                    self.lowers.append(made)
                    self.pool_of.append(key)


def _script(word: str) -> int:
    """-1 for an ASCII word, the number of its block for a Han or Kana character (Kana mapped onto Han would make
    Japanese text read as Chinese), else -2."""
    if word.isascii():
        return -1
    if len(word) == 1:
        for n, (low, high) in enumerate(_CJK_BLOCKS):
            if low <= ord(word) <= high:
                return n
    return -2


def _made_word(rng: random.Random, words: list[str], length: int) -> str | None:
    """A word of `length` letters made of two of `words` (a character next to one of them), or None."""
    if length == 1:
        char = rng.choice(words)
        made = chr(ord(char) + rng.randint(-64, 64))
        return made if _script(made) == _script(char) and unicodedata.category(made) == "Lo" else None
    head, tail = rng.choice(words), rng.choice(words)
    cut = rng.randint(1, length - 1)
    if len(head) < cut or len(tail) < length - cut:
        return None
    made = head[:cut] + tail[len(tail) - (length - cut) :]
    return made if len(made.upper()) == length and len(made.title()) == length else None


def _primes(low: int, high: int) -> list[int]:
    sieve = bytearray([1]) * (high - low)
    for p in range(2, int(high**0.5) + 1):
        sieve[(-low) % p :: p] = bytearray(len(sieve[(-low) % p :: p]))
    return [low + i for i, flag in enumerate(sieve) if flag]


#: Primes above any pool size: the multiplier of copy k's permutation is one of them. Many (~1,400) so that copies
#: of a one-pool text (a Chinese text: every Han character is in one pool) rarely get the same permutation.
_PRIMES = _primes(1_000_000, 1_020_000)


class Templates:
    """Every text of a sample, cut into literal pieces and replaceable tokens; renders all of them for copy k at
    once (one numpy pass over the tokens, then one join per text)."""

    def __init__(self, protected: frozenset[str], stems: list[str]):
        self.protected = protected
        self.vocab = Vocabulary()
        pattern = [f"(?P<cjk>[{_CJK}])", f"(?P<word>{_WORD})", f"(?P<num>\\d{{{ID_DIGITS},}})"]
        if stems:
            alternatives = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
            pattern.insert(0, f"(?<![\\w.-])(?P<stem>{alternatives})(?![\\w-])")
        self.regex = re.compile("|".join(pattern))
        self.pieces: list[list[str]] = []  # per text: literal pieces (tokens between them)
        self.spans: list[tuple[int, int]] = []  # per text: its token range
        self.kind: list[int] = []  # 0 word, 1 number, 2 stem
        self.word: list[int] = []  # word index (global, before freeze) or -1
        self.case: list[int] = []
        self.value: list[str] = []  # original token text
        self._rendered: list[str] = []
        self._copy = -1
        self.id_width = 0

    def add(self, text: str, home: int, ids: list[tuple[int, int]] | tuple = ()) -> int:
        """Register a text; `ids` are spans holding a record id (mapped as a whole, see `_id`). Returns its handle."""
        pieces, begin, last = [], len(self.kind), 0
        tokens = [(s, e, "id") for s, e in ids]
        spans = iter(sorted(ids))
        current = next(spans, None)
        for match in self.regex.finditer(text):
            while current is not None and current[1] <= match.start():
                current = next(spans, None)
            if current is not None and current[0] < match.end() and match.start() < current[1]:
                continue  # inside an id span
            tokens.append((match.start(), match.end(), match.lastgroup))
        for start, end, group in sorted(tokens):
            token = text[start:end]
            if group in ("word", "cjk"):
                lower = token.casefold()
                case = 0 if token == lower else 1 if token == lower.title() else 2 if token == token.upper() else -1
                if (group == "word" and len(token) < MIN_WORD) or case < 0 or lower in self.protected:
                    continue
                kind, word = 0, self.vocab.add(lower, home)
            else:
                kind, word, case = {"num": 1, "stem": 2, "id": 3}[group], -1, 0
                if kind == 3 and token.isdigit():
                    self.id_width = max(self.id_width, len(token))
            pieces.append(text[last:start])
            last = end
            self.kind.append(kind)
            self.word.append(word)
            self.case.append(case)
            self.value.append(token)
        pieces.append(text[last:])
        self.pieces.append(pieces)
        self.spans.append((begin, len(self.kind)))
        return len(self.pieces) - 1

    def freeze(self) -> None:
        self.vocab.freeze(self.protected)
        kind = np.array(self.kind, np.int8)
        words = np.array(self.word, np.int64)
        self._is_word = kind == 0
        self._pos = np.where(self._is_word, self.vocab.position[np.where(self._is_word, words, 0)], 0)
        self._start = self.vocab.start[self._pos] if len(self._pos) else self._pos
        self._size = self.vocab.size[self._pos] if len(self._pos) else self._pos
        self._case = np.array(self.case, np.int64)
        self._other = np.flatnonzero(~self._is_word).tolist()

    def render(self, handle: int, copy: int) -> str:
        if copy == 0:
            return "".join(_interleave(self.pieces[handle], self.value[slice(*self.spans[handle])]))
        if copy != self._copy:
            self._prepare(copy)
        begin, end = self.spans[handle]
        return "".join(_interleave(self.pieces[handle], self._rendered[begin:end]))

    def _prepare(self, copy: int) -> None:
        rng = random.Random(copy * 7919 + 13)
        a = _PRIMES[rng.randrange(len(_PRIMES))]
        # An offset of its own for every pool (one shared by all pools would let copies meet as soon as the
        # multiplier and offset agree modulo the pool size, a few thousand combinations at most).
        salt = np.uint64(rng.randrange(1 << 62))
        offset = (mix64(self._start.astype(np.uint64) ^ salt) >> np.uint64(33)).astype(np.int64)
        local = self._pos - self._start
        new = self._start + (a * local + offset) % np.maximum(self._size, 1)
        words = self.vocab.cased[self._case * self.vocab.n + new] if len(new) else new
        rendered = words.tolist()
        for i in self._other:
            token = self.value[i]
            if self.kind[i] == 1:
                rendered[i] = _number(token, copy)
            elif self.kind[i] == 2:
                rendered[i] = f"{token}c{copy}"
            else:
                rendered[i] = _id(token, copy, self.id_width)
        self._rendered, self._copy = rendered, copy


def _number(token: str, copy: int) -> str:
    """A run of ID_DIGITS+ digits in copy k: another number of the same width (offsets stay valid). The step is
    coprime with 10, so one number never maps to itself again; distinct numbers may meet (about n / 10**width
    of them for n numbers written: 1 % for a million 8-digit PMIDs)."""
    width = len(token)
    step = int(10**width * 0.6180339887) | 1
    step += 2 if step % 5 == 0 else 0
    return str((int(token) + copy * step) % 10**width).zfill(width)


def _id(value: str, copy: int, width: int) -> str:
    """A record id in copy k. An id of ID_DIGITS+ digits maps as such a number does anywhere else (a PMID in
    an id column of one file and in a text or a file name of another stays the same); a shorter number moves
    past every id of the sample (so it stays a number and unique); other ids get the prefix `c<k>` (a prefix
    keeps derived ids such as Q1 / Q1-S1 / Q1-S1-A1 related)."""
    if value.isdigit():
        return _number(value, copy) if len(value) >= ID_DIGITS else str(int(value) + copy * 10 ** (width + 1))
    if _LONG_NUMBER.search(value):  # CD900001, PMC9100021: as their number is mapped in texts and file names
        return _LONG_NUMBER.sub(lambda m: _number(m.group(), copy), value)
    return f"c{copy}{value}"


_LONG_NUMBER = re.compile(rf"\d{{{ID_DIGITS},}}")


def _interleave(pieces: list[str], tokens: list[str]) -> Iterator[str]:
    for piece, token in zip(pieces, tokens, strict=False):
        yield piece
        yield token
    yield pieces[-1]


# --- files and their records ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """How one file is written: `head`, then every unit once per copy (joined by `sep`), then `tail`; or, for
    a file-level copy, the whole file per copy under a mapped name."""

    path: str
    writer: str  # text | json | xlsx | parquet | bytes
    per_file: bool = False
    head: str = ""
    tail: str = ""
    sep: str = ""
    units: list = field(default_factory=list)  # template handles (text) or structures (json, rows)
    name: int = -1  # template of the path (per-file copies)
    raw: bytes = b""
    extra: dict = field(default_factory=dict)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _split_lines(text: str) -> list[str]:
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _split_blocks(text: str) -> list[str]:
    """Blank-line-separated blocks, each with the blank lines that follow it."""
    blocks: list[list[str]] = []
    blank_before = True
    for line in _split_lines(text):
        blank = not line.strip()
        if not blank and blank_before:
            blocks.append([])
        if not blocks:
            blocks.append([])
        blocks[-1].append(line)
        blank_before = blank
    return ["".join(b) for b in blocks]


def _csv_records(text: str) -> list[str]:
    """The raw text of each CSV record (a quoted field may hold line breaks)."""
    records, start, quoted = [], 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == "\n" and not quoted:
            records.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        records.append(text[start:])
    return records


class Expander:
    """The plan for one source's sample; `write(folder, copies)` writes the corpus."""

    def __init__(
        self, source_id: str, sample: Path | None = None, keep: tuple[str, ...] = (), id_keys: tuple[str, ...] = ()
    ):
        self.source_id = source_id
        self.id_keys = frozenset(id_keys)
        self.sample = sample or SAMPLES / source_id
        self.keep = keep
        files = self._files()
        per_file = self._per_file({p for p, _ in files})
        stems = sorted({Path(p).stem for p in per_file if not re.search(rf"\d{{{ID_DIGITS}}}", Path(p).name)})
        protected = set(protected_words(source_id))
        for path, data in files:
            protected |= {w.casefold() for w in re.findall(_WORD, path)}
            protected |= _structural_words(path, _decode(data)) if _is_text(path) else set()
        self.templates = Templates(frozenset(protected), stems)
        languages = _languages(source_id)
        self.templates.vocab.single_home = len(_languages(source_id, outputs=False)) == 1
        self.plans = [self._plan(path, data, home, path in per_file) for home, (path, data) in enumerate(files)]
        if languages == {"English"}:
            for word in (*FUNCTION_WORDS.split(), *CONTENT_WORDS.split()):
                if len(word) >= MIN_WORD and word not in self.templates.protected:
                    self.templates.vocab.add(word, 0)
        self.templates.freeze()

    # -- reading the sample --

    def _files(self) -> list[tuple[str, bytes]]:
        """(path relative to the sample, bytes) of every file; zip and gzip members are files of their own
        (`a.zip!member`, `a.csv.gz!`)."""
        found = []
        for path in sorted(p for p in self.sample.rglob("*") if p.is_file()):
            rel = path.relative_to(self.sample).as_posix()
            data = path.read_bytes()
            if rel.endswith(".zip"):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    for info in archive.infolist():
                        found.append((f"{rel}!{info.filename}", b"" if info.is_dir() else archive.read(info)))
            elif rel.endswith(".gz"):
                found.append((f"{rel}!", gzip.decompress(data)))
            else:
                found.append((rel, data))
        return found

    def _per_file(self, paths: set[str]) -> set[str]:
        """Files named by a document id: an id of 6+ digits in the name, or one of 5+ siblings whose names
        differ only in their digits (species001.txt ... species005.txt)."""
        siblings: dict[tuple[str, str, str], int] = {}
        for p in paths:
            key = (str(Path(p).parent), Path(p).suffix, re.sub(r"\d", "", Path(p).stem))
            siblings[key] = siblings.get(key, 0) + 1
        chosen = set()
        for p in paths:
            path = Path(p)
            numbered = (
                re.search(r"\d", path.stem)
                and siblings[(str(path.parent), path.suffix, re.sub(r"\d", "", path.stem))] >= 5
            )
            if "!" not in p and (re.search(rf"\d{{{ID_DIGITS}}}", path.stem) or numbered):
                chosen.add(p)
        return chosen

    def _plan(self, path: str, data: bytes, home: int, per_file: bool) -> Plan:
        t = self.templates
        inner = path.split("!")[-1] or path.removesuffix(".gz!").rsplit("/", 1)[-1]
        suffix = Path(inner.removesuffix(".gz")).suffix.lower()
        if path.endswith("/") or not data or any(re.fullmatch(k, path) for k in self.keep):
            return Plan(path, "bytes", raw=data)
        if per_file:
            name = t.add(path, home)
            if not _is_text(path):
                return Plan(path, "bytes", per_file=True, name=name, raw=data)
            return Plan(path, "text", per_file=True, name=name, units=[t.add(_decode(data), home)])
        if suffix == ".xlsx":
            return self._plan_xlsx(path, data, home)
        if suffix == ".parquet":
            return self._plan_parquet(path, data, home)
        if not _is_text(path):
            return Plan(path, "bytes", raw=data)
        text = _decode(data)
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        text = text[len(bom) :]
        if suffix == ".json":
            plan = self._plan_json(path, text, home)
            if plan is not None:
                return plan
        if suffix in (".xml", ".tmx"):
            plan = self._plan_xml(path, text, home)
            if plan is not None:
                return plan
        if suffix in (".htm", ".html"):
            return Plan(path, "bytes", raw=data)
        if suffix == ".obo":
            blocks = _split_blocks(text)
            return Plan(path, "text", head=bom + blocks[0], units=[t.add(b, home) for b in blocks[1:]])
        json_lines = suffix == ".json" and "\n{" in text or suffix in (".txt", "") and text.startswith("{")
        if suffix == ".jsonl" or (json_lines and text.lstrip().startswith("{")):
            return self._plan_jsonl(path, bom, _split_lines(text), home)
        blocks = _split_blocks(text)
        if len(blocks) >= 3 and suffix not in (".csv",):
            return Plan(path, "text", head=bom, units=[t.add(b, home) for b in blocks])
        records = _csv_records(text) if suffix == ".csv" else _split_lines(text)
        if len(records) == 1 and "," in records[0]:  # one line of comma-separated items (HoC's split index)
            items = records[0].rstrip("\r\n").split(",")
            tail = records[0][len(records[0].rstrip("\r\n")) :]
            return Plan(path, "text", head=bom, tail=tail, sep=",", units=[t.add(i, home) for i in items])
        header = bool(records) and _header_like(records[0]) and suffix in (".csv", ".tsv", ".txt", "")
        return self._plan_lines(path, bom, records, home, header)

    def _plan_lines(self, path: str, bom: str, lines: list[str], home: int, header: bool) -> Plan:
        head = bom + (lines[0] if header and lines else "")
        body = lines[1:] if header else lines
        if body and not body[-1].endswith("\n"):
            body[-1] += "\r\n" if any(x.endswith("\r\n") for x in body) else "\n"
        column = _id_column(lines[0], body) if header and lines else None
        units = []
        for line in body:
            ids = []
            if column is not None:
                delimiter, index = column
                cells = line.split(delimiter)
                if len(cells) > index and cells[index].strip() and '"' not in delimiter.join(cells[: index + 1]):
                    start = sum(len(c) + 1 for c in cells[:index])
                    ids.append((start, start + len(cells[index].rstrip("\r\n"))))
            units.append(self.templates.add(line, home, ids))
        return Plan(path, "text", head=head, units=units)

    def _plan_jsonl(self, path: str, bom: str, lines: list[str], home: int) -> Plan:
        """JSON lines; a line that is not a JSON object (the sample's deliberate errors) is reworded as text."""
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                parsed.append(None)
        ids = self.id_keys | _unique_keys([p for p in parsed if isinstance(p, dict)])
        units = []
        for line, item in zip(lines, parsed, strict=True):
            if isinstance(item, dict):
                units.append((_json_template(self.templates, item, home, ids), line[len(line.rstrip("\r\n")) :]))
            else:
                units.append(self.templates.add(line, home))
        return Plan(path, "jsonl", head=bom, units=units)

    def _plan_json(self, path: str, text: str, home: int) -> Plan | None:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        holder, key = _largest_container(data)
        if holder is None:
            return Plan(path, "text", units=[self.templates.add(text, home)], extra={"once": True})
        container = data if key is None else holder[key]
        if isinstance(container, list):
            ids = self.id_keys | _unique_keys(container)
            units = [_json_template(self.templates, item, home, ids) for item in container]
        else:
            ids = self.id_keys | _unique_keys(list(container.values()))
            units = [(_json_template(self.templates, k, home), _json_template(self.templates, v, home, ids))
                     for k, v in container.items()]  # fmt: skip
        if key is None:
            head, tail = ("[", "]") if isinstance(container, list) else ("{", "}")
        else:
            marker = "\u0000SLOT\u0000"
            holder[key] = marker
            skeleton = json.dumps(data, ensure_ascii=False, indent=1)
            head, tail = skeleton.split(json.dumps(marker))
            head += "[" if isinstance(container, list) else "{"
            tail = ("]" if isinstance(container, list) else "}") + tail
        kind = "list" if isinstance(container, list) else "dict"
        return Plan(path, "json", head=head, tail=tail, sep=",\n", units=units, extra={"kind": kind})

    def _plan_xml(self, path: str, text: str, home: int) -> Plan | None:
        """Units: the elements of the repeated tag that together cover most of the document (the outermost
        repeated record: `tu` of a TMX, not its `tuv`s)."""
        best: tuple[int, int, list[tuple[int, int]]] = (0, 0, [])
        for tag in set(re.findall(r"<([\w:.-]+)[\s>/]", text)):
            name = re.escape(tag)
            spans = [m.span() for m in re.finditer(rf"<{name}(?:\s[^>]*)?(?:/>|>.*?</{name}\s*>)", text, re.S)]
            covered = sum(e - s for s, e in spans)
            if len(spans) >= 2 and (covered, -len(spans)) > best[:2]:
                best = (covered, -len(spans), spans)
        spans = best[2]
        if not spans:
            return None
        attributes: dict[str, list[str]] = {}
        for name, value in _ID_ATTRIBUTE.findall(text):
            attributes.setdefault(name, []).append(value)
        unique = {n for n, values in attributes.items() if len(set(values)) == len(values) or n in self.id_keys}
        units = []
        for s, e in spans:
            unit = text[s:e]
            ids = [m.span(2) for m in _ID_ATTRIBUTE.finditer(unit) if m.group(1) in unique and m.group(2)]
            units.append(self.templates.add(unit, home, ids))
        return Plan(path, "text", head=text[: spans[0][0]], tail=text[spans[-1][1] :], sep="\n", units=units)

    def _plan_xlsx(self, path: str, data: bytes, home: int) -> Plan:
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        units = [[_Text(self.templates.add(v, home)) if isinstance(v, str) else v for v in row] for row in rows[1:]]
        return Plan(path, "xlsx", units=units, extra={"header": rows[0], "title": sheet.title})

    def _plan_parquet(self, path: str, data: bytes, home: int) -> Plan:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        rows = table.to_pylist()
        units = [{k: _json_template(self.templates, v, home) for k, v in row.items()} for row in rows]
        return Plan(path, "parquet", units=units, extra={"schema": table.schema})

    # -- writing --

    def write(self, folder: Path, copies: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        archives: dict[str, zipfile.ZipFile] = {}
        try:
            for plan in self.plans:
                outer, _, member = plan.path.partition("!")
                if outer.endswith(".zip"):
                    if outer not in archives:
                        (folder / outer).parent.mkdir(parents=True, exist_ok=True)
                        archives[outer] = zipfile.ZipFile(folder / outer, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
                    if plan.path.endswith("/"):
                        archives[outer].writestr(member, b"")
                        continue
                    with archives[outer].open(member, "w", force_zip64=True) as handle:
                        self._write_plan(plan, handle, copies)
                elif outer.endswith(".gz"):
                    (folder / outer).parent.mkdir(parents=True, exist_ok=True)
                    with gzip.open(folder / outer, "wb", compresslevel=1) as handle:
                        self._write_plan(plan, handle, copies)
                elif plan.per_file:
                    for k in range(copies):
                        target = folder / self.templates.render(plan.name, k)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        if plan.writer == "bytes":
                            target.write_bytes(plan.raw)
                        else:
                            target.write_bytes(_encode(self.templates.render(plan.units[0], k)))
                else:
                    (folder / plan.path).parent.mkdir(parents=True, exist_ok=True)
                    if plan.writer in ("xlsx", "parquet"):
                        getattr(self, f"_write_{plan.writer}")(plan, folder / plan.path, copies)
                        continue
                    with open(folder / plan.path, "wb") as handle:
                        self._write_plan(plan, handle, copies)
        finally:
            for archive in archives.values():
                archive.close()

    def _write_plan(self, plan: Plan, handle, copies: int) -> None:
        t = self.templates
        if plan.writer == "bytes":
            handle.write(plan.raw)
            return
        if plan.extra.get("once"):
            copies = 1
        handle.write(_encode(plan.head))
        first = True
        buffer: list[str] = []
        for k in range(copies):
            for unit in plan.units:
                if plan.writer == "jsonl":
                    if isinstance(unit, tuple):
                        text = json.dumps(_json_render(t, unit[0], k), ensure_ascii=False) + unit[1]
                    else:
                        text = t.render(unit, k)
                elif plan.writer == "json":
                    if plan.extra["kind"] == "list":
                        text = json.dumps(_json_render(t, unit, k), ensure_ascii=False)
                    else:
                        key = _json_render(t, unit[0], k)
                        key = key if k == 0 or key != _json_render(t, unit[0], 0) else f"{key}_{k}"
                        text = f"{json.dumps(key, ensure_ascii=False)}: "
                        text += json.dumps(_json_render(t, unit[1], k), ensure_ascii=False)
                else:
                    text = t.render(unit, k)
                buffer.append(text if first or not plan.sep else plan.sep + text)
                first = False
            if len(buffer) > 256:
                handle.write(_encode("".join(buffer)))
                buffer.clear()
        handle.write(_encode("".join(buffer) + plan.tail))

    def _write_xlsx(self, plan: Plan, target: Path, copies: int) -> None:
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(plan.extra["title"])
        sheet.append(plan.extra["header"])
        for k in range(copies):
            for row in plan.units:
                sheet.append([_cell(self.templates, v, k) for v in row])
        book.save(target)

    def _write_parquet(self, plan: Plan, target: Path, copies: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with pq.ParquetWriter(target, plan.extra["schema"]) as writer:
            rows = []
            for k in range(copies):
                rows += [{c: _json_render(self.templates, v, k) for c, v in unit.items()} for unit in plan.units]
                if len(rows) >= 10_000:
                    writer.write_table(pa.Table.from_pylist(rows, schema=plan.extra["schema"]))
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=plan.extra["schema"]))


@dataclass(frozen=True)
class _Text:
    """A string of a JSON structure or a spreadsheet, as a template handle."""

    handle: int


def _cell(t: Templates, value, copy: int):
    return t.render(value.handle, copy) if isinstance(value, _Text) else value


@dataclass(frozen=True)
class _IntId:
    """An integer record id of a JSON structure."""

    value: int


def _json_template(t: Templates, value, home: int, id_keys: frozenset[str] = frozenset(), key: str = ""):
    if key in id_keys and isinstance(value, str | int) and not isinstance(value, bool):
        if isinstance(value, int):
            t.id_width = max(t.id_width, len(str(abs(value))))
            return _IntId(value)
        return _Text(t.add(value, home, [(0, len(value))] if value else ()))
    if isinstance(value, str):
        return _Text(t.add(value, home))
    if isinstance(value, list):
        return [_json_template(t, v, home, id_keys, key) for v in value]
    if isinstance(value, dict):
        return {k: _json_template(t, v, home, id_keys, k) for k, v in value.items()}  # keys are structure
    return value


def _json_render(t: Templates, value, copy: int):
    if isinstance(value, _Text):
        return t.render(value.handle, copy)
    if isinstance(value, _IntId):
        if value.value < 0:
            return value.value
        return int(_id(str(value.value), copy, t.id_width))
    if isinstance(value, list):
        return [_json_render(t, v, copy) for v in value]
    if isinstance(value, dict):
        return {k: _json_render(t, v, copy) for k, v in value.items()}
    return value


def _largest_container(data) -> tuple[object | None, object]:
    """(holder, key) of the list (or object of objects) holding most of the document's text, or (data, None)
    when the document itself is that list or object of objects; (None, None) when there is none."""
    if isinstance(data, list) and len(data) >= 2:
        return data, None
    if isinstance(data, dict) and len(data) >= 2 and all(isinstance(v, dict) for v in data.values()):
        return data, None
    best: tuple[int, object | None, object] = (0, None, None)
    stack = [data]
    while stack:
        node = stack.pop()
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in children:
            many = (
                (isinstance(value, list) and len(value) >= 2)
                or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value))  # a 1-article list
                or (isinstance(value, dict) and len(value) >= 2 and all(isinstance(v, dict) for v in value.values()))
            )
            if many:
                size = len(json.dumps(value))
                if size > best[0]:
                    best = (size, node, key)
            if isinstance(value, dict | list):
                stack.append(value)
    return best[1], best[2]


#: Attribute or key names that hold a record id (when their values are unique in the file).
_ID_NAME = re.compile(r"(?i)^\w*id$")
_ID_ATTRIBUTE = re.compile(r"\b(\w*(?:id|ID|Id))=\"([^\"]*)\"")


def _unique_keys(items: list) -> frozenset[str]:
    """Keys named like an id, at any depth of the items, whose values all differ (answer ids 1-4 repeated in
    every question are not record ids; question ids nested in the paragraphs of a SQuAD article are)."""
    values: dict[str, list] = {}
    stack = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if _ID_NAME.match(key) and isinstance(value, str | int) and not isinstance(value, bool):
                    values.setdefault(key, []).append(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(k for k, v in values.items() if _mostly_unique(v))


def _mostly_unique(values: list) -> bool:
    """Record ids: at least 2 values and at most a quarter repeated (a sample repeats an id on purpose to show
    the converter's rejection; answer ids 1-4 in every question are far more repeated)."""
    return len(values) >= 2 and len(set(values)) >= 0.75 * len(values)


def _id_column(header: str, lines: list[str]) -> tuple[str, int] | None:
    """(delimiter, index) of a header column named like an id whose values are unique."""
    delimiter = "\t" if header.count("\t") > header.count(",") else ","
    names = header.rstrip("\r\n").split(delimiter)
    for index, name in enumerate(names):
        if _ID_NAME.match(name.strip().strip('"')):
            values = [line.split(delimiter)[index] for line in lines if len(line.split(delimiter)) > index]
            if _mostly_unique(values):
                return delimiter, index
    return None


def _is_text(path: str) -> bool:
    inner = path.split("!")[-1] or path
    return Path(inner.removesuffix(".gz")).suffix.lower() not in (".xlsx", ".parquet", ".zip", ".png", ".jpg")


def expand(source_id: str, folder: Path, copies: int, keep: tuple[str, ...] = ()) -> None:
    """Write `copies` consistent rewordings of the bundled sample of `source_id` into `folder`."""
    Expander(source_id, keep=keep).write(folder, copies)
