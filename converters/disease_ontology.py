"""Human Disease Ontology (DO; Schriml et al., NAR 2022): disease terms with names, text definitions, synonyms
and an is_a hierarchy, released in src/ontology/ of github.com/DiseaseOntology/HumanDiseaseOntology.

Two release forms are read, giving the same (id, input, output) for the same release content:
- `obo` (primary): OBO 1.2 flat files, `doid.obo` (or HumanDO.obo / doid-non-classified.obo, or when none of
  them is there, the official subset files `releases/subsets/*.obo`, which use the same format).
- `json` (alternative): the OBO-Graph JSON of the same release, `doid.json` (or `releases/subsets/*.json`),
  read with a streaming parser: the is_a edges (ids only) in a first pass, then the nodes.
Synonyms are sorted, so the two forms (which list them in different orders) agree.

Tasks, one group per term (its DOID) so that all instances of a term land in the same split (DO has no
official split; the build hash-splits on the group):
- `do_synonyms_generation`: input = the term's name; output = its EXACT synonyms, sorted, joined by "; ", one
  spelling of those that differ only in case and none equal to the name (RELATED / NARROW / BROAD synonyms
  are not synonyms of the concept and are left out). A term without an exact synonym gives no instance.
- `do_entity_explanation`: input = the term's name; output = its text definition (`def:` / `definition.val`).
- `do_entity_relation_classification`: input = `Word 1: <name>\\nWord 2: <name>`; output = one label of
  RELATIONS, read from Word 1 to Word 2, the four relation types MedS-Ins uses for this task:
  `parent` (Word 1 is the direct is_a parent of Word 2), `child` (Word 1 is a direct is_a child of Word 2),
  `synonym` (Word 2 is an EXACT synonym of Word 1, or the reverse) and `unrelated`. Per term: one pair for
  each asserted is_a parent (its order, hence child or parent, chosen by a hash of the pair), one synonym pair
  when the term has an exact synonym, and one unrelated pair. The label set is built from is_a alone: the
  other relations DO releases may carry (`relationship:` lines, non-is_a JSON edges) point to terms of other
  ontologies (anatomy, taxa, symptoms) whose names are not in the release file, so they cannot form a pair of
  disease names. An `unrelated` partner is a term of the same in-file tree (same root) under other top-level
  branches of that root and sharing no parent, so neither term is an ancestor of the other and they are not
  siblings. Requiring the same tree keeps this sound on subset files, whose orphan terms have their true
  ancestors outside the subset; a term with an is_a parent missing from the file gets no unrelated pair.

Obsolete terms (`is_obsolete: true`, JSON `deprecated`) are not instances: each is rejected with its
replacement, as are unnamed terms, empty definitions, stanzas with a malformed or non-UTF-8 line, and is_a
parents missing from the file. A term already read from an earlier subset file is rejected too, its is_a
parents merged into the first copy. Keys are DOIDs (relation pairs: `<DOID>|is_a|<DOID>`, `<DOID>|synonym`,
`<DOID>|unrelated|<DOID>`). The hierarchy needs the whole graph, so names, parents and one synonym per term are
kept in memory (about 12k terms for the full ontology); definitions and synonym lists are streamed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import ijson

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Record, Rejection, Source, Task

_DIRS = ("", "src/ontology/", "ontology/")
_SUBSETS = ("src/ontology/releases/subsets/", "releases/subsets/", "subsets/")


def _patterns(ext: str) -> tuple[str, ...]:
    main = ("doid", "HumanDO", "doid-non-classified")
    return tuple(d + m + ext for m in main for d in _DIRS) + tuple(f"{s}*{ext}" for s in _SUBSETS)


SOURCE = Source(
    id="disease_ontology",
    name="Human Disease Ontology (DO)",
    homepage="https://github.com/DiseaseOntology/HumanDiseaseOntology",
    license="CC0 1.0",
    access="open",
    citation=(
        "Schriml, L. M., Munro, J. B., Schor, M., Olley, D., McCracken, C., Felix, V., Baron, J. A., Jackson, R., "
        "Bello, S. M., Bearer, C., et al. (2022). The Human Disease Ontology 2022 update. Nucleic Acids Research "
        "50(D1): D1255-D1261."
    ),
    obtain=(
        "Download src/ontology/doid.obo (or doid.json) from https://github.com/DiseaseOntology/HumanDiseaseOntology "
        "(also http://purl.obolibrary.org/obo/doid.obo); keep the src/ontology/ layout or put the file in the raw "
        "folder. Subset files (src/ontology/releases/subsets/*.obo or *.json) are accepted when no full release is."
    ),
    forms=(
        RawForm(
            "obo",
            (RawFile("ontology", _patterns(".obo"), description="DO release in OBO 1.2 format"),),
            "OBO 1.2 release: doid.obo (HumanDO.obo, doid-non-classified.obo), or releases/subsets/*.obo",
        ),
        RawForm(
            "json",
            (RawFile("ontology", _patterns(".json"), description="DO release in OBO-Graph JSON format"),),
            "OBO-Graph JSON release: doid.json, or releases/subsets/*.json",
        ),
    ),
    # The OBO release in the official repository at a pinned commit (data-version 2026-07-31); the PURL
    # http://purl.obolibrary.org/obo/doid.obo always serves the newest one instead.
    downloads=(
        Download(
            "https://raw.githubusercontent.com/DiseaseOntology/HumanDiseaseOntology/"
            "9fbefd6651b79526165453395d06c8fd4bfe4247/src/ontology/doid.obo",
            "doid.obo",
        ),
    ),
)

_TAGS = ("Disease Ontology",)
RELATIONS = ("synonym", "parent", "child", "unrelated")
TASKS = (
    Task("do_synonyms_generation", "Text Completion", "Medical Knowledge", tags=_TAGS),
    Task("do_entity_explanation", "Explanation", "Medical Knowledge", tags=_TAGS),
    Task(
        "do_entity_relation_classification",
        "Word Relation Classification",
        "Medical Knowledge",
        tags=_TAGS,
        labels=RELATIONS,
    ),
)
SYNONYMS, EXPLANATION, RELATION = (t.id for t in TASKS)
SYNONYM_SEPARATOR = "; "

_OBO_ESCAPES = {"n": "\n", "t": "\t", "W": " "}
_OBO_IRI = "http://purl.obolibrary.org/obo/"
_IS_A = {"is_a", "http://www.w3.org/2000/01/rdf-schema#subClassOf", "rdfs:subClassOf"}
_REPLACED_BY = ("http://purl.obolibrary.org/obo/IAO_0100001", "replaced_by")
_CONSIDER = ("http://www.geneontology.org/formats/oboInOwl#consider", "consider")


@dataclass
class Term:
    """One term as read from either form (values already unescaped and whitespace-normalised)."""

    id: str
    file: str
    locator: str
    name: str = ""
    definition: str | None = None
    exact: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    obsolete: bool = False
    replaced_by: list[str] = field(default_factory=list)
    consider: list[str] = field(default_factory=list)
    problem: str = ""  # why the stanza or node could not be read


@dataclass
class _Node:
    """What the hierarchy needs of a term, kept for the whole run."""

    name: str
    parents: tuple[str, ...]
    synonym: str | None
    file: str
    locator: str


def generate(files: RawFiles) -> Iterator[Item]:
    nodes: dict[str, _Node] = {}
    obsolete: set[str] = set()
    read = _obo_terms if files.form.name == "obo" else _json_terms
    for path in files.paths("ontology"):
        name = files.relative(path)
        for term in read(path, name):
            yield from _term(term, nodes, obsolete)
    yield from _relations(nodes, obsolete)


def _term(term: Term, nodes: dict[str, _Node], obsolete: set[str]) -> Iterator[Item]:
    """The synonym and explanation instances of one term; registers it for the hierarchy."""
    where = f"{term.id} ({term.locator})"
    if term.problem:
        yield Rejection(term.problem, term.file, where)
        return
    if term.id in nodes:  # the same term in a second subset file: only its is_a parents are new
        node = nodes[term.id]
        node.parents = tuple(dict.fromkeys(node.parents + tuple(term.parents)))
        yield Rejection(f"term already read from {node.file}; only its is_a parents are used", term.file, where)
        return
    if term.id in obsolete:
        yield Rejection("obsolete term already read from an earlier file", term.file, where)
        return
    if term.obsolete:
        obsolete.add(term.id)
        why = "obsolete term (is_obsolete: true)"
        why += f"; replaced by {', '.join(term.replaced_by)}" if term.replaced_by else ""
        why += f"; consider {', '.join(term.consider)}" if term.consider else ""
        yield Rejection(why, term.file, where, value=term.name or None)
        return
    if not term.name:
        yield Rejection("term has no name", term.file, where)
        return
    folded = {term.name.casefold(): term.name}  # one spelling per synonym, none equal to the name
    for synonym in sorted(set(term.exact), key=lambda s: (s.casefold(), s)):
        folded.setdefault(synonym.casefold(), synonym)
    exact = list(folded.values())[1:]
    synonym = exact[_digest(term.id) % len(exact)] if exact else None
    nodes[term.id] = _Node(term.name, tuple(dict.fromkeys(term.parents)), synonym, term.file, where)
    if exact:
        yield Record(SYNONYMS, term.id, term.name, SYNONYM_SEPARATOR.join(exact), term.file, where, group=term.id)
    if term.definition is not None:
        if term.definition:
            yield Record(EXPLANATION, term.id, term.name, term.definition, term.file, where, group=term.id)
        else:
            yield Rejection("empty definition", term.file, where, EXPLANATION)


def _relations(nodes: dict[str, _Node], obsolete: set[str]) -> Iterator[Item]:
    """Relation pairs, once the whole hierarchy is known."""
    graph = _Graph(nodes)
    for term, node in nodes.items():
        for parent in node.parents:
            key = f"{term}|is_a|{parent}"
            if parent not in nodes:
                why = "obsolete" if parent in obsolete else "not defined in this file"
                yield Rejection(f"is_a parent {parent} is {why}", node.file, node.locator, RELATION, parent)
            elif _digest(key) % 2:
                yield _pair(key, (node.name, nodes[parent].name), "child", term, node)
            else:
                yield _pair(key, (nodes[parent].name, node.name), "parent", term, node)
        if node.synonym:
            key = f"{term}|synonym"
            pair = (node.name, node.synonym) if _digest(key) % 2 else (node.synonym, node.name)
            yield _pair(key, pair, "synonym", term, node)
        other = graph.unrelated(term)
        if other:
            key = f"{term}|unrelated|{other}"
            pair = (node.name, nodes[other].name) if _digest(key) % 2 else (nodes[other].name, node.name)
            yield _pair(key, pair, "unrelated", term, node)


class _Graph:
    """The in-file is_a hierarchy: ancestors, roots and top-level branches of every term. A term with an
    ancestor missing from the file has a broken lineage: it takes part in is_a pairs with the parents that are
    there, but never in an unrelated pair, since its true ancestors are unknown."""

    def __init__(self, nodes: dict[str, _Node]):
        self.nodes = nodes
        self.ancestors: dict[str, frozenset[str]] = {}
        self.broken: set[str] = set()
        for term in nodes:
            self._lineage(term)
        top = {t for t, n in nodes.items() if n.parents and all(p in nodes and not nodes[p].parents for p in n.parents)}
        self.branches = {t: (self.ancestors[t] | {t}) & top for t in nodes}
        self.root = {t: frozenset(a for a in self.ancestors[t] | {t} if not nodes[a].parents) for t in nodes}
        self.trees: dict[frozenset[str], list[str]] = {}
        for term in nodes:
            if term not in self.broken and self.branches[term]:
                self.trees.setdefault(self.root[term], []).append(term)

    def _lineage(self, term: str) -> frozenset[str]:
        if term not in self.ancestors:
            self.ancestors[term] = frozenset()  # a cycle stops here instead of recursing forever
            found: set[str] = set()
            for parent in self.nodes[term].parents:
                if parent not in self.nodes:
                    self.broken.add(term)
                    continue
                found |= {parent} | self._lineage(parent)
                if parent in self.broken:
                    self.broken.add(term)
            self.ancestors[term] = frozenset(found)
        return self.ancestors[term]

    def unrelated(self, term: str) -> str | None:
        """A deterministic partner of the same tree under disjoint top-level branches, sharing no parent (so
        neither term is an ancestor of the other and they are not siblings), or None."""
        pool = self.trees.get(self.root[term], [])
        if term in self.broken or not self.branches[term] or not pool:
            return None
        start = _digest(term) % len(pool)
        for step in range(min(len(pool), 500)):
            other = pool[(start + step) % len(pool)]
            if (
                not self.branches[term] & self.branches[other]
                and not set(self.nodes[term].parents) & set(self.nodes[other].parents)
                and other not in self.ancestors[term]
                and term not in self.ancestors[other]
                and self.nodes[other].name.casefold() != self.nodes[term].name.casefold()
            ):
                return other
        return None


def _pair(key: str, pair: tuple[str, str], relation: str, term: str, node: _Node) -> Record:
    text = forms.fields(word_1=pair[0], word_2=pair[1])
    return Record(RELATION, key, text, forms.label(relation, RELATIONS), node.file, node.locator, group=term)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big")


def _clean(text: str) -> str:
    return " ".join(text.split())


# --- OBO 1.2 ---------------------------------------------------------------------------------------------------


def _obo_terms(path: Path, name: str) -> Iterator[Term]:
    """[Term] stanzas, read line by line; [Typedef] and [Instance] stanzas and the header are skipped. A line
    that is not UTF-8 or not `tag: value` spoils its stanza, which is then rejected whole."""
    term: Term | None = None
    in_term, start, problem = False, 0, ""
    with path.open("rb") as f:
        for number, raw in enumerate(chain(f, [b"[End]"]), 1):  # the sentinel flushes the last stanza
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError as error:
                problem = problem or f"line {number} is not UTF-8 ({error.reason})"
                continue
            if line.startswith("[") and line.endswith("]"):
                if in_term:
                    term = term or Term("?", name, f"line {start}", problem="stanza without an id")
                    term.problem = term.problem or problem
                    yield term
                term, in_term, start, problem = None, line == "[Term]", number, ""
                continue
            if not in_term or not line or line.startswith("!"):
                continue
            tag, colon, value = line.partition(":")
            tag, value = tag.strip(), value.strip()
            if not colon:
                problem = problem or f"line {number}: not a tag-value line"
            elif tag == "id":
                if term is None:
                    term = Term(value, name, f"line {number}")
                else:
                    problem = problem or f"line {number}: second id in one stanza"
            elif term is None:
                problem = problem or f"line {number}: {tag} before the id"
            else:
                problem = problem or _obo_tag(term, tag, value, number)


def _obo_tag(term: Term, tag: str, value: str, number: int) -> str:
    """Reads one tag into the term; returns what is wrong with the line, or ''."""
    if tag == "name":
        term.name = _clean(_unescape(value))
    elif tag == "def":
        text = _quoted(value)
        if text is None:
            return f"line {number}: def is not a quoted string"
        term.definition = _clean(text[0])
    elif tag == "synonym":
        text = _quoted(value)
        if text is None:
            return f"line {number}: synonym is not a quoted string"
        if text[1].split()[:1] == ["EXACT"] and _clean(text[0]):
            term.exact.append(_clean(text[0]))
    elif tag == "is_a":
        target = _target(value)
        if target:
            term.parents.append(target)
    elif tag == "is_obsolete":
        term.obsolete = value.split()[:1] == ["true"]
    elif tag == "replaced_by" and _target(value):
        term.replaced_by.append(_target(value))
    elif tag == "consider" and _target(value):
        term.consider.append(_target(value))
    return ""


def _target(value: str) -> str:
    """The id of an `is_a: DOID:1 {modifiers} ! comment` value."""
    return value.split("!", 1)[0].split("{", 1)[0].strip().split(" ")[0] if value else ""


def _quoted(value: str) -> tuple[str, str] | None:
    """The unescaped content of a leading OBO quoted string and what follows it, or None."""
    if not value.startswith('"'):
        return None
    out, i = [], 1
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            out.append(_OBO_ESCAPES.get(value[i + 1], value[i + 1]))
            i += 2
        elif char == '"':
            return "".join(out), value[i + 1 :].strip()
        else:
            out.append(char)
            i += 1
    return None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _OBO_ESCAPES.get(m.group(1), m.group(1)), value)


# --- OBO-Graph JSON --------------------------------------------------------------------------------------------


def _json_terms(path: Path, name: str) -> Iterator[Term]:
    """CLASS nodes, streamed in file order. A first pass over the edges collects the is_a parents (ids only), so
    that definitions and synonyms are never held for the whole file."""
    parents: dict[str, list[str]] = {}
    with path.open("rb") as f:
        for edge in _json_items(f, name, "graphs.item.edges.item"):
            if isinstance(edge, dict) and edge.get("pred") in _IS_A:
                parents.setdefault(_curie(str(edge.get("sub", ""))), []).append(_curie(str(edge.get("obj", ""))))
    seen: set[str] = set()
    with path.open("rb") as f:
        for index, node in enumerate(_json_items(f, name, "graphs.item.nodes.item")):
            term = _json_node(node, name, index)
            if term is None:
                continue
            if term.id in seen:
                term.problem = "second node with the same id in this file"
            seen.add(term.id)
            term.parents = parents.get(term.id, [])
            yield term


def _json_items(f, name: str, prefix: str) -> Iterator[object]:
    try:
        yield from ijson.items(f, prefix)
    except ijson.JSONError as error:
        raise ValueError(f"{name}: malformed JSON ({prefix}): {error}") from error


def _json_node(node: object, name: str, index: int) -> Term | None:
    if not isinstance(node, dict) or node.get("type", "CLASS") != "CLASS" or not node.get("id"):
        return None  # properties and individuals are not terms
    term = Term(_curie(str(node["id"])), name, f"node {index + 1}", name=_clean(str(node.get("lbl") or "")))
    meta = node.get("meta") or {}
    if not isinstance(meta, dict):
        term.problem = "meta is not an object"
        return term
    definition = meta.get("definition")
    if isinstance(definition, dict) and "val" in definition:
        term.definition = _clean(str(definition["val"] or ""))
    for synonym in meta.get("synonyms") or []:
        if isinstance(synonym, dict) and synonym.get("pred") == "hasExactSynonym" and _clean(str(synonym["val"])):
            term.exact.append(_clean(str(synonym["val"])))
    term.obsolete = meta.get("deprecated") is True
    for prop in meta.get("basicPropertyValues") or []:
        if isinstance(prop, dict) and prop.get("pred") in _REPLACED_BY:
            term.replaced_by.append(_curie(str(prop.get("val", ""))))
        elif isinstance(prop, dict) and prop.get("pred") in _CONSIDER:
            term.consider.append(_curie(str(prop.get("val", ""))))
    return term


def _curie(iri: str) -> str:
    """http://purl.obolibrary.org/obo/DOID_0040083 -> DOID:0040083; other ids are kept."""
    if iri.startswith(_OBO_IRI):
        local = iri[len(_OBO_IRI) :]
        prefix, underscore, rest = local.partition("_")
        return f"{prefix}:{rest}" if underscore and "/" not in local else local
    return iri
