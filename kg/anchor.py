"""Expand the `kg:quote` short form into Web Annotation evidence anchored in the source text.

Every quote must occur exactly once in the article's source text outside page furniture.
All problems are collected before raising, so one build run shows every broken quote.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg import namespaces as ns
from kg.errors import AnchorProblem, KgAnchorError
from kg.load import Loaded, LoadedFile
from kg.project import ARTICLE, Project

CONTEXT_CHARS = 16  # length of oa:prefix / oa:suffix

_QUOTE = NamedNode(ns.KG + "quote")
_SOURCE_FILE = NamedNode(ns.KG + "sourceFile")
_FURNITURE = NamedNode(ns.KG + "pageFurniture")
_HAS_EVIDENCE = NamedNode(ns.KG + "hasEvidence")
_FIRST_QUOTE_START = NamedNode(ns.KG + "firstQuoteStart")
_TYPE = NamedNode(ns.RDF + "type")
_NNI = NamedNode(ns.XSD + "nonNegativeInteger")
_SHA256 = NamedNode(ns.KG + "sha256")
_CHARS = NamedNode(ns.KG + "characterCount")
_HEX = NamedNode(ns.XSD + "hexBinary")
_INTEGER = NamedNode(ns.XSD + "integer")


def _oa(name: str) -> NamedNode:
    return NamedNode(ns.OA + name)


@dataclass
class Anchored:
    """The evidence quads added to one article file's graph."""

    file: LoadedFile
    quads: list[Quad] = field(default_factory=list)
    evidence: set[str] = field(default_factory=set)  # annotation IRIs


def _line_of(text: str, needle: str, start: int = 0) -> int | None:
    """1-based line where `needle` first occurs in `text` at or after `start`."""
    if not needle:
        return None
    idx = text.find(needle, start)
    if idx < 0:
        return None
    return text.count("\n", 0, idx) + 1


def literal_line(file_text: str, node: str, value: str) -> int | None:
    """Line of the .ttl file where a literal is written, found by searching the file text.

    Search from the node's own description first (two nodes may quote the same text), and for
    the literal with its quotes before the bare text (a short quote may sit inside a longer
    one); then the first line of a multi-line literal; last, the node itself.
    """
    local = ns.local_name(node)
    node_at = max(file_text.find(local), 0) if local else 0
    first = value.split("\n", 1)[0]
    needles = [f'"{value}"', f"'{value}'", value, first[:40]]
    for needle in needles:
        for start in (node_at, 0):
            line = _line_of(file_text, needle, start)
            if line:
                return line
    return _line_of(file_text, local) if local else None


def _occurrences(text: str, needle: str) -> list[int]:
    out, i = [], text.find(needle)
    while i >= 0:  # overlapping matches count: each is a distinct possible anchor
        out.append(i)
        i = text.find(needle, i + 1)
    return out


def _read_source(path: Path) -> str:
    # newline="" keeps CR LF as two code points, so offsets match the file as stored.
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _anchor_file(project: Project, lf: LoadedFile, problems: list[AnchorProblem]) -> Anchored:
    rel = lf.source.rel
    out = Anchored(file=lf)

    def problem(node: str, message: str, text: str = "", line: int | None = None) -> None:
        if line is None and text:
            line = literal_line(lf.text, node, text)
        problems.append(AnchorProblem(rel, line, node, message, text))

    def node_line(node: str) -> int | None:
        return _line_of(lf.text, ns.local_name(node))

    quotes = [(q.subject, q.object) for q in lf.quads if q.predicate == _QUOTE]
    if lf.source.kind != ARTICLE:
        for subject, obj in quotes:
            problem(
                subject.value,
                "kg:quote is only allowed in data/articles/*.ttl (the article anchors it)",
                getattr(obj, "value", ""),
            )
        return out

    articles = sorted({q.subject.value for q in lf.quads if q.predicate == _SOURCE_FILE})
    if len(articles) != 1:
        if articles:
            what = f"{len(articles)} article nodes (with kg:sourceFile): " + ", ".join(articles)
        else:
            what = "no article node (a node with kg:sourceFile)"
        problems.append(
            AnchorProblem(rel, None, lf.source.graph or "", f"{what}; expected exactly one")
        )
        return out
    article = articles[0]
    article_node = NamedNode(article)
    names = [q.object for q in lf.quads if q.predicate == _SOURCE_FILE]
    name = names[0].value if len(names) == 1 and isinstance(names[0], Literal) else None
    if name is None:
        problem(article, "kg:sourceFile must be one literal file name", line=node_line(article))
        return out
    src_path = project.sources_dir / name
    src_rel = project.rel(src_path)
    if Path(name).name != name or not src_path.is_file():
        problem(
            article,
            f"source text not found: {src_rel} (kg:sourceFile names a file in data/sources/)",
            name,
        )
        return out
    try:
        source = _read_source(src_path)
    except UnicodeDecodeError as e:
        problem(article, f"{src_rel} is not valid UTF-8 ({e.reason})")
        return out

    furniture: list[tuple[int, int]] = []
    for q in lf.quads:
        if q.subject == article_node and q.predicate == _FURNITURE:
            text = q.object.value
            spans = _occurrences(source, text) if text else []
            if not spans:
                problem(article, f"page furniture not found in {src_rel}", text)
            furniture += [(s, s + len(text)) for s in spans]

    article_id = lf.source.key or ""
    _add_source_facts(out, article_node, src_path, source)
    first_start: dict[NamedNode, int] = {}
    for subject, obj in sorted(quotes, key=lambda so: (so[0].value, getattr(so[1], "value", ""))):
        node = subject.value
        if not isinstance(obj, Literal):
            problem(node, "kg:quote must be a literal", line=node_line(node))
            continue
        quote = obj.value
        if not quote.strip():
            problem(node, "empty quote", line=node_line(node))
            continue
        found = _occurrences(source, quote)
        outside = [
            s for s in found if not any(s < f_end and s + len(quote) > f for f, f_end in furniture)
        ]
        if len(outside) == 1:
            start = outside[0]
            _add_evidence(
                out, subject, article_node, article_id, source, start, len(quote), furniture
            )
            first_start[subject] = min(start, first_start.get(subject, start))
        elif not found:
            problem(node, f"quote not found in {src_rel}", quote)
        elif not outside:
            problem(node, f"quote falls inside page furniture of {src_rel}", quote)
        else:
            at = ", ".join(str(s) for s in outside)
            problem(
                node,
                f"quote occurs {len(outside)} times in {src_rel} (at {at}); "
                "quote more text so that it is unique",
                quote,
            )
    _add_story_order(out, first_start)
    return out


def _add_story_order(out: Anchored, first_start: dict[NamedNode, int]) -> None:
    """Where each node is first quoted, as one triple: queries order their rows as the story
    tells them with one lookup, not a four-step walk through each node's evidence."""
    graph = NamedNode(out.file.source.graph)
    out.quads += [
        Quad(node, _FIRST_QUOTE_START, Literal(str(start), datatype=_NNI), graph)
        for node, start in sorted(first_start.items(), key=lambda item: item[0].value)
    ]


def _add_source_facts(out: Anchored, article: NamedNode, path: Path, source: str) -> None:
    """Record what the offsets refer to: the digest and length of the text as anchored."""
    graph = NamedNode(out.file.source.graph)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out.quads += [
        Quad(article, _SHA256, Literal(digest, datatype=_HEX), graph),
        Quad(article, _CHARS, Literal(str(len(source)), datatype=_INTEGER), graph),
    ]


def _add_evidence(out, node, article, article_id, source, start, length, furniture=()) -> None:
    end = start + length
    # The context stops at page furniture: it is not content, and a selector should not carry it.
    before = max([0, start - CONTEXT_CHARS, *(f_end for _, f_end in furniture if f_end <= start)])
    after = min([len(source), end + CONTEXT_CHARS, *(f for f, _ in furniture if f >= end)])
    graph = NamedNode(out.file.source.graph)
    e_iri = ns.evidence_iri(article_id, start, end)
    e = NamedNode(e_iri)
    quads = [Quad(node, _HAS_EVIDENCE, e, graph), Quad(e, _oa("hasBody"), node, graph)]
    if e_iri not in out.evidence:  # two nodes quoting one span share the annotation
        out.evidence.add(e_iri)
        target = NamedNode(e_iri + "/target")
        quote = NamedNode(e_iri + "/quote")
        position = NamedNode(e_iri + "/position")
        triples = [
            (e, _TYPE, _oa("Annotation")),
            (e, _oa("motivatedBy"), _oa("identifying")),
            (e, _oa("hasTarget"), target),
            (e, NamedNode(ns.PROV + "wasDerivedFrom"), article),
            (target, _TYPE, _oa("SpecificResource")),
            (target, _oa("hasSource"), article),
            (target, _oa("hasSelector"), quote),
            (target, _oa("hasSelector"), position),
            (quote, _TYPE, _oa("TextQuoteSelector")),
            (quote, _oa("exact"), Literal(source[start:end])),
            (quote, _oa("prefix"), Literal(source[before:start])),
            (quote, _oa("suffix"), Literal(source[end:after])),
            (position, _TYPE, _oa("TextPositionSelector")),
            (position, _oa("start"), Literal(str(start), datatype=_NNI)),
            (position, _oa("end"), Literal(str(end), datatype=_NNI)),
        ]
        quads += [Quad(s, p, o, graph) for s, p, o in triples]
    out.quads += quads


def expand_evidence(project: Project, loaded: Loaded, *, progress=None) -> list[Anchored]:
    """Anchor every quote of every loaded file; raise KgAnchorError listing all problems.

    `progress` (a kg.progress.Progress) is advanced once per file.
    """
    problems: list[AnchorProblem] = []
    if progress is not None:
        progress.stage("anchor", len(loaded.files), "files")
    results = []
    for lf in loaded.files:
        results.append(_anchor_file(project, lf, problems))
        if progress is not None:
            progress.advance()
    if problems:
        raise KgAnchorError(problems)
    return [r for r in results if r.quads]
