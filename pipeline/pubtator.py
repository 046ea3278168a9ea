"""The PubTator text format of NCBI Disease and BioCreative V CDR: per document a `PMID|t|title`
line, a `PMID|a|abstract` line, then tab-separated mention lines `PMID<TAB>start<TAB>end<TAB>text
<TAB>type<TAB>id`, and a blank line. Documents become NER sentences through pipeline.ner."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import NamedTuple

from pipeline import ner
from pipeline.model import Rejection


class Document(NamedTuple):
    """One PubTator document: title and abstract joined by a newline, and its mentions
    (start, exclusive end, mention, type, line number)."""

    pmid: str
    text: str
    mentions: list[tuple[int, int, str, str, int]]
    line: int


_TEXT_LINE = re.compile(r"(\d+)\|([ta])\|(.*)", re.DOTALL)


def pubtator_sentences(
    path: Path,
    name: str,
    split: str | None,
    task_id: str,
    types: Collection[str] | None,
    seen: dict[str, str],
) -> Iterator[ner.Sentence | Rejection]:
    """The sentences of a PubTator file with the mentions of `types` (None: every mention). A mention nested in
    another kept mention is dropped (an IOB file cannot hold both; the outer one is what the copies keep)."""
    for doc in pubtator_documents(path, name, task_id, seen):
        if isinstance(doc, Rejection):
            yield doc
            continue
        wanted = [(s, e, m, n) for s, e, m, kind, n in doc.mentions if types is None or kind in types]
        spans = [ner.Span(s, e, m, name, f"line {n}") for s, e, m, n in wanted]
        for item in ner.standoff_sentences(doc.text, outermost(spans), name, f"PMID {doc.pmid}", task_id):
            yield item._replace(split=split) if isinstance(item, ner.Sentence) else item


def outermost(spans: list[ner.Span]) -> list[ner.Span]:
    """The spans not nested in another (an IOB file holds one of them, and the copies keep the outer one).
    Partial overlaps are kept: standoff_sentences rejects their sentence."""
    outer: list[ner.Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not (outer and outer[-1].start <= span.start and span.end <= outer[-1].end):
            outer.append(span)
    return outer


def pubtator_documents(path: Path, name: str, task_id: str, seen: dict[str, str]) -> Iterator[Document | Rejection]:
    """Documents of a PubTator file, streamed. Relation lines (`PMID<TAB>CID<TAB>...`) are not mentions and are
    passed over. A document with a malformed or undecodable line, a missing title or abstract, or a PMID already
    read (`seen`, shared across the files of a run) is quarantined whole, since its mention list is not trustworthy."""
    doc: _Draft | None = None
    with path.open("rb") as f:
        for number, raw in enumerate(chain(f, [b""]), 1):  # the b"" closes the last document
            try:
                line, problem = raw.decode("utf-8-sig" if number == 1 else "utf-8"), ""
            except UnicodeDecodeError as error:  # read on with a replacement character, to know where it belongs
                line, problem = raw.decode("utf-8", "replace"), f"line {number} is not UTF-8 ({error.reason})"
            line = line.rstrip("\r\n")
            head = _TEXT_LINE.fullmatch(line)
            if not line.strip() or (head and head.group(2) == "t"):  # a document ends here
                if doc is not None:
                    yield doc.finish(name, task_id, seen)
                doc = _Draft(head.group(1), number, head.group(3)) if head else None
            else:
                doc = doc or _Draft("?", number)
                fields = line.split("\t")
                if head and head.group(1) == doc.pmid and doc.abstract is None:
                    doc.abstract = head.group(3)
                elif len(fields) >= 5 and fields[0] == doc.pmid and fields[1].isdigit() and fields[2].isdigit():
                    doc.mentions.append((int(fields[1]), int(fields[2]), fields[3].strip(), fields[4], number))
                elif not (len(fields) == 4 and fields[0] == doc.pmid and not fields[1].isdigit()):  # not a relation
                    doc.bad.append(f"line {number} is malformed: {line[:60]!r}")
            if problem and doc is not None:
                doc.bad.append(problem)


@dataclass
class _Draft:
    """A document being read."""

    pmid: str
    line: int
    title: str | None = None
    abstract: str | None = None
    mentions: list[tuple[int, int, str, str, int]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    def finish(self, name: str, task_id: str, seen: dict[str, str]) -> Document | Rejection:
        where = f"line {self.line} (PMID {self.pmid})"
        if self.title is None or self.abstract is None:
            self.bad.insert(0, "no title line" if self.title is None else "no abstract line")
        if self.bad:
            return Rejection(f"document skipped: {'; '.join(self.bad)}", name, where, task_id)
        text = f"{self.title}\n{self.abstract}"
        digest = hashlib.sha1(repr((text, [m[:4] for m in self.mentions])).encode()).hexdigest()
        first, _, same = seen.get(self.pmid, "").partition("|")
        if first:
            kind = "an identical copy of" if same == digest else "another version of"
            return Rejection(f"duplicate PMID: {kind} the document at {first}", name, where, task_id)
        seen[self.pmid] = f"{name} line {self.line}|{digest}"
        return Document(self.pmid, text, self.mentions, self.line)
