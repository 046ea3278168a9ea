"""MedlinePlus (U.S. National Library of Medicine): consumer health information on drugs, the A.D.A.M. Medical
Encyclopedia, medical (lab) tests and, in MedlinePlus Genetics, genetic conditions and genes.

MedS-Ins published no script and no data for its seven MedlinePlus tasks, and MedlinePlus has no single download
covering them, so the distributions below are a choice, made for being the public forms these collections are
actually obtained in:
- `genetics`: the MedlinePlus Genetics bulk XML `ghr-summaries.xml` (https://medlineplus.gov/download/ghr-summaries.xml,
  public domain; formerly Genetics Home Reference). Root `<summaries>` (namespace varying with the release, ignored
  here) holding `<health-condition-summary>` and `<gene-summary>` elements with `<name>`, `<ghr-page>`, `<gene-symbol>`
  (genes), `<synonym-list><synonym>` and `<text-list><text><text-role>ROLE</text-role><html>XHTML</html></text>`;
  the roles read are `description` (conditions) and `function` (genes). Other summaries (chromosomes, mtDNA) are
  outside these tasks and not read. Element names follow the data-file documentation and code that reads the file;
  no copy was checked here.
- `drugs`, `encyclopedia`, `lab_tests`: the web pages as saved by a crawl of medlineplus.gov that keeps the site's
  paths (`wget --mirror` layout): `druginfo/meds/a682878.html` (drug monographs, AHFS, copyrighted),
  `ency/article/000001.htm` (A.D.A.M. encyclopedia, copyrighted) and `lab-tests/<slug>/index.html` (NLM-written
  medical test pages), with or without a leading `medlineplus.gov/`. There is no bulk download of these collections
  (MedQuAD removed its MedlinePlus drug and encyclopedia answers for copyright reasons); users crawl them for their
  own use. Pages are read with the standard library's HTML parser and reduced to their `<h1>` title, the text
  before the first `<h2>` (for the encyclopedia, the `id="ency_summary"` block when present) and one section per
  `<h2>`, within `<article>` when the page has one; scripts, navigation, asides, buttons and hidden text are left
  out. The encyclopedia markup was compared with a public excerpt of a real article page (div#ency_summary, one
  `<section>` per `<h2>`, "Review Date" as a section); drug and lab-test pages are assumed to share the site's
  template. The markup changes over time; only these heading-level conventions are relied on.
The MedlinePlus health topics XML (`mplus_topics_*.xml`) covers none of the seven tasks and is not read.

Tasks (no official split: split None; every instance of a page or summary shares its group):
- `medlineplus_drug_qa`: per drug-page section, input = `forms.fields(drug=<title>, question=<section heading>)`
  (headings that are not questions, such as "IMPORTANT WARNING" or "Brand names", are mapped to a question, see
  DRUG_QUESTIONS); output = the section text (paragraphs one per line, list items as "- item"). Key
  `<page>#<heading slug>`. Site furniture sections (DRUG_FURNITURE) are not content; any other heading that is not a
  question is quarantined.
- `medlineplus_encyclopedia_qa` (Text Summarization in the catalogue): input = `forms.fields(topic=<title>,
  article=<the article's sections, "Heading" then its text, blank line between sections>)` without the
  encyclopedia's furniture sections (references, review date, images...) and its closing review block; output =
  the article's lead summary.
- `medlineplus_fact_verification_{drugs,encyclopedia,medical_test,genetic_conditions,gene}`: short statements
  labelled `true` / `false`. For each topic (drug, encyclopedia article, lab test, condition, gene) the fact is the
  first sentence of its main text (drug: "Why is this medication prescribed?" first; encyclopedia: the summary;
  lab test: the sections in order; condition: the description; gene: the function) that names the topic (its title
  or name, that without a parenthesis, an encyclopedia "Abdomen - swollen" as "swollen abdomen", a lab test's name
  without "test", a condition's synonyms, a gene's symbol), ends with a full stop and has 5 to 60 words. `true`:
  that sentence. `false`: the fact of the next topic in file order (the last topic takes the first one's) with that
  topic's mention replaced by this topic's mention (as worded in its own fact), so the statement claims about this
  topic what is true of another; casing and a/an are adjusted, verb agreement is not. Each topic gives one
  `true` and one `false` instance, so the task is balanced; both are keyed `<topic>:true` / `<topic>:false` and
  grouped with the topic. The swap can occasionally produce a statement that also holds for this topic (two
  related genes); this is the documented noise of the mismatch construction.

Quarantined: a page without `<h1>`, an encyclopedia article without summary or body, a drug section that is empty or
whose heading is neither a question nor a known one, a repeated heading, a topic without a usable fact sentence,
a topic left alone (no other topic to borrow a false fact from), a non-UTF-8 byte. Malformed genetics XML raises
ValueError naming the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task
from pipeline.ner import split_sentences
from pipeline.readers import Utf8Stream, has_bad_bytes

_SITE = ("", "medlineplus.gov/", "www.medlineplus.gov/")

SOURCE = Source(
    id="medlineplus",
    name="MedlinePlus",
    homepage="https://medlineplus.gov/",
    license=(
        "unspecified (NLM-written pages public domain; drug monographs (AHFS) and A.D.A.M. encyclopedia copyrighted)"
    ),
    access="open",
    citation="MedlinePlus [Internet]. Bethesda (MD): National Library of Medicine (US). https://medlineplus.gov/",
    obtain=(
        "Genetics: download https://medlineplus.gov/download/ghr-summaries.xml into the raw folder. Drugs, "
        "encyclopedia and medical tests have no bulk download: save the pages of https://medlineplus.gov/druginfo/"
        "meds/ (a*.html), https://medlineplus.gov/ency/article/ (*.htm) and https://medlineplus.gov/lab-tests/ "
        "(one folder per test) keeping the site's paths, e.g. `wget --mirror --no-parent` run in the raw folder, "
        "respecting MedlinePlus' terms of use (drug and encyclopedia text is copyrighted by its licensors)."
    ),
    version="web pages and ghr-summaries.xml as crawled by the user",
    forms=(
        RawForm(
            "web",
            (
                RawFile(
                    "genetics",
                    ("ghr-summaries.xml", "download/ghr-summaries.xml", "*/ghr-summaries.xml"),
                    required=False,
                    description="MedlinePlus Genetics bulk XML (conditions and genes)",
                ),
                RawFile(
                    "drugs",
                    tuple(f"{s}druginfo/meds/a*.html" for s in _SITE),
                    required=False,
                    description="saved drug monograph pages",
                ),
                RawFile(
                    "encyclopedia",
                    tuple(f"{s}ency/article/*.htm" for s in _SITE),
                    required=False,
                    description="saved A.D.A.M. encyclopedia article pages",
                ),
                RawFile(
                    "lab_tests",
                    tuple(f"{s}lab-tests/*/index.html" for s in _SITE) + tuple(f"{s}lab-tests/*.html" for s in _SITE),
                    required=False,
                    description="saved medical test pages",
                ),
            ),
            "ghr-summaries.xml and/or saved medlineplus.gov pages (any subset)",
        ),
    ),
    # The MedlinePlus Genetics bulk XML (NLM). Drugs, encyclopedia and tests have no bulk download: by hand.
    downloads=(Download("https://medlineplus.gov/download/ghr-summaries.xml", "ghr-summaries.xml"),),
)

KNOWLEDGE = "Medical Knowledge"
LABELS = ("true", "false")
TASKS = (
    Task("medlineplus_drug_qa", "Question Answering", KNOWLEDGE, tags=("Drugs", "Consumer Health")),
    Task("medlineplus_encyclopedia_qa", "Text Summarization", KNOWLEDGE, tags=("Encyclopedia", "Consumer Health")),
    Task("medlineplus_fact_verification_medical_test", "Fact Verification", KNOWLEDGE, ("Lab Tests",), labels=LABELS),
    Task(
        "medlineplus_fact_verification_genetic_conditions",
        "Fact Verification",
        KNOWLEDGE,
        ("Genetics",),
        labels=LABELS,
    ),
    Task("medlineplus_fact_verification_gene", "Fact Verification", KNOWLEDGE, ("Genetics",), labels=LABELS),
    Task(
        "medlineplus_fact_verification_encyclopedia", "Fact Verification", KNOWLEDGE, ("Encyclopedia",), labels=LABELS
    ),
    Task("medlineplus_fact_verification_drugs", "Fact Verification", KNOWLEDGE, ("Drugs",), labels=LABELS),
)
DRUG_QA, ENCY_SUMMARY, FV_TEST, FV_CONDITION, FV_GENE, FV_ENCY, FV_DRUG = (t.id for t in TASKS)

#: Drug-page headings that are not questions, as the question they answer (keys case-folded, without final colon).
DRUG_QUESTIONS = {
    "important warning": "What is the important warning about this medicine?",
    "other uses for this medicine": "What are other uses for this medicine?",
    "in case of emergency/overdose": "What should I do in case of emergency or overdose?",
    "brand names": "What are the brand names of this medicine?",
    "brand names of combination products": "What are the brand names of combination products containing this medicine?",
    "other names": "What are other names for this medicine?",
}
#: Drug-page sections that are site furniture, not content.
DRUG_FURNITURE = {"learn how to cite this page", "browse drugs and medicines", "related medlineplus health topics"}
#: Encyclopedia sections left out of the article body (furniture and bibliography).
ENCY_FURNITURE = {
    "references",
    "review date",
    "images",
    "related medlineplus health topics",
    "learn how to cite this page",
    "browse the encyclopedia",
}
#: The drug section whose sentences are searched first for the drug's fact.
WHY = "why is this medication prescribed?"


def generate(files: RawFiles) -> Iterator[Item]:
    for path in files.paths("genetics"):
        yield from _genetics(path, files.relative(path))
    drug_facts, ency_facts, test_facts = _Verifier(FV_DRUG), _Verifier(FV_ENCY), _Verifier(FV_TEST)
    for path in files.paths("drugs"):
        yield from _drug(path, files.relative(path), drug_facts)
    yield from drug_facts.close()
    for path in files.paths("encyclopedia"):
        yield from _encyclopedia(path, files.relative(path), ency_facts)
    yield from ency_facts.close()
    for path in files.paths("lab_tests"):
        yield from _lab_test(path, files.relative(path), test_facts)
    yield from test_facts.close()


# ---------------------------------------------------------------- fact verification


@dataclass(frozen=True)
class _Fact:
    key: str
    name: str  # how the topic is named in a false statement about it: its mention in its own fact
    names: tuple[str, ...]  # the spellings that find the topic in a sentence
    sentence: str
    raw_file: str
    locator: str


@dataclass
class _Verifier:
    """Pairs each topic's true fact with the next topic's fact (the last with the first) for the false statement."""

    task: str
    first: _Fact | None = None
    previous: _Fact | None = None
    count: int = field(default=0)

    def add(self, fact: _Fact) -> Iterator[Item]:
        self.count += 1
        yield Record(self.task, f"{fact.key}:true", fact.sentence, "true", fact.raw_file, fact.locator, group=fact.key)
        if self.previous is not None:
            yield self._false(self.previous, fact)
        self.previous = fact
        self.first = self.first or fact

    def close(self) -> Iterator[Item]:
        if self.previous is not None and self.first is not None and self.count > 1:
            yield self._false(self.previous, self.first)
        elif self.previous is not None:
            p = self.previous
            yield Rejection("only one topic: no other fact for a false statement", p.raw_file, p.locator, self.task)

    def _false(self, topic: _Fact, other: _Fact) -> Record:
        statement = _swap(other.sentence, other.names, topic.name)
        locator = f"{topic.locator}, with the fact of {other.key}"
        return Record(self.task, f"{topic.key}:false", statement, "false", topic.raw_file, locator, group=topic.key)


def _pattern(names: Iterable[str]) -> re.Pattern[str]:
    spelled = sorted({n for n in names if n}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in spelled) + r")(?![\w-])", re.IGNORECASE)


def _fact(paragraphs: Iterable[str], names: tuple[str, ...]) -> tuple[str, str] | None:
    """The first sentence that names the topic, ends with a full stop and has 5 to 60 words, with the mention."""
    pattern = _pattern(names)
    for paragraph in paragraphs:
        for start, end in split_sentences(paragraph):
            sentence = " ".join(paragraph[start:end].split()).lstrip("- ")
            found = pattern.search(sentence)
            if found and sentence.endswith(".") and 5 <= len(sentence.split()) <= 60:
                return sentence, found.group()
    return None


def _swap(sentence: str, names: tuple[str, ...], name: str) -> str:
    """`sentence` with every mention of `names` replaced by `name`, fitted to where it stands: its capitalised words
    ("Complete Blood Count") in sentence case, a capital at the start, the article before it made a/an as needed."""
    result, last = "", 0
    for match in _pattern(names).finditer(sentence):
        result += sentence[last : match.start()]
        text = name
        if match.start() == 0 or match.group()[:1].islower():
            text = " ".join(w.lower() if re.fullmatch(r"[A-Z][a-z]+", w) else w for w in text.split(" "))
        if match.start() == 0:
            text = text[:1].upper() + text[1:]
        article = re.search(r"(?<![\w-])([Aa])n? $", result)
        if article and text[:1].isalpha():
            result = result[: article.start()] + article.group(1) + ("n " if _vowel_sound(text) else " ")
        result += text
        last = match.end()
    return result + sentence[last:]


def _vowel_sound(word: str) -> bool:
    """Whether 'an' goes before `word`: by its first letter (u + consonant + vowel sounds "you"), an acronym by the
    name of its first letter."""
    first = word.split(" ")[0]
    if len(first) > 1 and first.isupper():
        return first[0] in "AEFHILMNORSX"
    lower = first.lower()
    if re.match(r"u[b-df-hj-np-tv-z][aeiou]", lower):  # urine, unique, usual: a "you" sound
        return False
    return lower[:1] in "aeiou"


def _variants(title: str, *, test: bool = False) -> tuple[str, ...]:
    """The spellings of a page title that may name the topic in its text: the title, without its parentheses,
    an encyclopedia "Abdomen - swollen" as "swollen Abdomen", a test's name without "test"."""
    bare = " ".join(re.sub(r"\([^)]*\)", " ", title).split())
    names = [title, bare]
    for name in (title, bare):
        parts = [p.strip() for p in name.split(" - ") if p.strip()]
        if len(parts) == 2:
            names.append(f"{parts[1]} {parts[0]}")
    if test:
        names += [re.sub(r"\s+tests?$", "", n, flags=re.IGNORECASE) for n in list(names)]
    return tuple(dict.fromkeys(n for n in names if n))


def _add_fact(
    verifier: _Verifier,
    key: str,
    name: str,
    names: tuple[str, ...],
    paragraphs: Iterable[str],
    raw_file: str,
    locator: str,
) -> Iterator[Item]:
    found = _fact(paragraphs, names)
    if found is None:
        yield Rejection("no short sentence naming the topic", raw_file, locator, verifier.task, name)
    elif has_bad_bytes(found[0]):
        yield Rejection("non-UTF-8 byte in the fact sentence", raw_file, locator, verifier.task, found[0])
    else:
        sentence, mention = found
        yield from verifier.add(_Fact(key, mention, names, sentence, raw_file, locator))


# ---------------------------------------------------------------- MedlinePlus Genetics XML


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _flat(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _genetics(path: Path, name: str) -> Iterator[Item]:
    conditions, genes = _Verifier(FV_CONDITION), _Verifier(FV_GENE)
    last = None
    with open(path, "rb") as raw:
        try:
            depth = 0
            for event, element in ET.iterparse(Utf8Stream(raw), events=("start", "end")):
                depth += 1 if event == "start" else -1
                if event != "end" or depth != 1:
                    continue
                kind = _local(element.tag)
                if kind in ("health-condition-summary", "gene-summary"):
                    last = _flat(_child(element, "name")) or last
                    verifier = conditions if kind == "health-condition-summary" else genes
                    yield from _summary(element, kind == "gene-summary", name, verifier)
                element.clear()
        except ET.ParseError as error:
            where = f"after summary {last!r}" if last else "before the first summary"
            raise ValueError(f"{name}: malformed XML {where}: {error}") from error
    yield from conditions.close()
    yield from genes.close()


def _summary(element: ET.Element, gene: bool, raw_file: str, verifier: _Verifier) -> Iterator[Item]:
    title = _flat(_child(element, "name"))
    symbol = _flat(_child(element, "gene-symbol"))
    page = _flat(_child(element, "ghr-page")).rstrip("/")
    slug = page.rsplit("/", 1)[-1] if page else (element.get("id") or "").strip()
    label = symbol if gene else title
    kind = "gene" if gene else "condition"
    locator = f"{kind}-summary {label or slug or '(unnamed)'}"
    if not label or not slug:
        missing = "gene-symbol" if gene else "name"
        yield Rejection(f"{kind} summary without {missing} or page", raw_file, locator, verifier.task, title or None)
        return
    synonyms = () if gene else tuple(_flat(s) for s in element.iter() if _local(s.tag) == "synonym")
    role = "function" if gene else "description"
    paragraphs = _role_paragraphs(element, role)
    yield from _add_fact(verifier, f"{kind}:{slug}", label, (label, *synonyms), paragraphs, raw_file, locator)


def _role_paragraphs(element: ET.Element, role: str) -> list[str]:
    for text in element.iter():
        if _local(text.tag) == "text" and _flat(_child(text, "text-role")) == role:
            html = _child(text, "html")
            if html is None:
                return []
            blocks = [_flat(b) for b in html.iter() if _local(b.tag) in ("p", "li")]
            return [b for b in blocks if b] or [_flat(html)]
    return []


# ---------------------------------------------------------------- saved web pages


@dataclass
class _Page:
    title: str = ""
    lead: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # the id="ency_summary" block
    sections: list[tuple[str, list[str]]] = field(default_factory=list)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_BLOCKS = {"p", "li", "div", "ul", "ol", "dl", "dd", "dt", "br", "tr", "td", "th", "table", "section", "blockquote"}
_BLOCKS |= {"article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption"}
_SKIP_TAGS = {"script", "style", "noscript", "button", "nav", "header", "footer", "aside", "form", "svg", "iframe"}
_SKIP_CLASSES = {"visuallyhidden", "hide-offscreen", "page-actions", "page-url", "section-button", "breadcrumb"}


class _PageParser(HTMLParser):
    """Blocks of text of an HTML page: (kind, text, inside <article>, inside #ency_summary)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, bool, bool]] = []
        self._open: list[tuple[str, bool, bool, bool]] = []  # (tag, skipped, in article, in summary)
        self._text: list[str] = []
        self._where: tuple[bool, bool] = (False, False)  # (in article, in summary) of the block's text

    def _state(self) -> tuple[bool, bool, bool]:
        return self._open[-1][1:] if self._open else (False, False, False)

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if text:
            kind = next((t for t, *_ in reversed(self._open) if t in ("h1", "h2", "h3", "h4", "li")), "text")
            self.blocks.append((kind, text, *self._where))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush()
        if tag in _VOID:
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        skipped, article, summary = self._state()
        hidden = "hidden" in values or values.get("aria-hidden") == "true"
        skipped = skipped or hidden or tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES)
        self._open.append((tag, skipped, article or tag == "article", summary or values.get("id") == "ency_summary"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush()
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        skipped, article, summary = self._state()
        if skipped:
            return
        if not "".join(self._text).strip():
            self._where = (article, summary)
        self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _read_page(path: Path) -> _Page:
    with open(path, "rb") as raw:
        text = Utf8Stream(raw).read().decode("utf-8")
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    blocks = parser.blocks
    if any(article for _, _, article, _ in blocks):
        blocks = [b for b in blocks if b[2]]
    page = _Page()
    for kind, text, _, summary in blocks:
        if kind == "h1" and not page.title:
            page.title = text
        elif not page.title:
            continue
        elif kind == "h2":
            page.sections.append((text, []))
        else:
            line = f"- {text}" if kind == "li" else text
            if page.sections:
                page.sections[-1][1].append(line)
            else:
                page.lead.append(line)
            if summary:
                page.summary.append(line)
    return page


def _heading(text: str) -> str:
    return " ".join(text.split()).rstrip(":").strip().casefold()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _page_id(path: Path) -> str:
    return path.parent.name if path.name == "index.html" else path.stem


def _bad_page(page: _Page, name: str, task: str) -> Rejection | None:
    if not page.title:
        return Rejection("page without title (h1)", name, "whole page", task)
    return None


def _drug(path: Path, name: str, facts: _Verifier) -> Iterator[Item]:
    page, pid = _read_page(path), _page_id(path)
    bad = _bad_page(page, name, DRUG_QA)
    if bad:
        yield bad
        return
    group = f"drug:{pid}"
    seen: set[str] = set()
    for heading, lines in page.sections:
        key, locator = f"{pid}#{_slug(heading)}", f"page {pid} section {heading!r}"
        folded = _heading(heading)
        if folded in DRUG_FURNITURE:
            continue
        question = heading if heading.endswith("?") else DRUG_QUESTIONS.get(folded)
        answer = "\n".join(lines).strip()
        problem = None
        if key in seen:
            problem = "repeated section heading"
        elif not question:
            problem = "section heading is neither a question nor a known drug section"
        elif not answer:
            problem = "empty section"
        elif has_bad_bytes(answer, heading):
            problem = "non-UTF-8 byte in section"
        seen.add(key)
        if problem:
            yield Rejection(problem, name, locator, DRUG_QA, heading)
            continue
        text = forms.fields(drug=page.title, question=question)
        yield Record(DRUG_QA, key, text, answer, name, locator, group=group)
    ordered = sorted(page.sections, key=lambda s: _heading(s[0]) != WHY)  # the indication first
    paragraphs = ["\n".join(lines) for heading, lines in ordered if _heading(heading) not in DRUG_FURNITURE]
    yield from _add_fact(facts, group, page.title, _variants(page.title), paragraphs, name, f"page {pid}")


def _encyclopedia(path: Path, name: str, facts: _Verifier) -> Iterator[Item]:
    page, pid = _read_page(path), _page_id(path)
    bad = _bad_page(page, name, ENCY_SUMMARY)
    if bad:
        yield bad
        return
    group, locator = f"ency:{pid}", f"article {pid}"
    summary = "\n".join(page.summary or page.lead).strip()
    sections = []
    for heading, lines in page.sections:
        if any(_heading(heading).startswith(f) for f in ENCY_FURNITURE):
            continue
        review = next((i for i, line in enumerate(lines) if line.casefold().startswith("review date")), None)
        lines = lines[:review]  # the review block (date, reviewers) that closes an article
        if lines:
            sections.append(heading + "\n" + "\n".join(lines))
    body = "\n\n".join(sections)
    if not summary or not body:
        reason = "article without summary before its first section" if not summary else "article without sections"
        yield Rejection(reason, name, locator, ENCY_SUMMARY, page.title)
    elif has_bad_bytes(summary, body):
        yield Rejection("non-UTF-8 byte in article", name, locator, ENCY_SUMMARY, page.title)
    else:
        text = forms.fields(topic=page.title, article=body)
        yield Record(ENCY_SUMMARY, pid, text, summary, name, locator, group=group)
    yield from _add_fact(facts, group, page.title, _variants(page.title), [summary], name, locator)


def _lab_test(path: Path, name: str, facts: _Verifier) -> Iterator[Item]:
    page, pid = _read_page(path), _page_id(path)
    bad = _bad_page(page, name, FV_TEST)
    if bad:
        yield bad
        return
    paragraphs = ["\n".join(page.lead)] + ["\n".join(lines) for _, lines in page.sections]
    names = _variants(page.title, test=True)
    yield from _add_fact(facts, f"lab:{pid}", page.title, names, paragraphs, name, f"page {pid}")
