"""`kg export`: the built dataset in a standard RDF syntax, byte for byte reproducible.

The source of truth is the cached build (build/dataset.nq), read with `pyoxigraph.parse`,
which keeps every literal's lexical form (the query Store would canonicalise some of them,
e.g. xsd:nonNegativeInteger to integer). `export()` works on any quads, so it can be used
on an in-memory dataset; `export_project()` wraps it with `ensure_built` and writes the result
atomically.

Formats that carry named graphs (TriG, N-Quads, JSON-LD) keep them; the others (Turtle,
N-Triples, RDF/XML, framed JSON-LD) merge the selected graphs into one and say so: in a
comment at the top of the file where the syntax has comments, and in `Export.note`.

Determinism: subjects, predicates, objects and graphs are sorted, prefixes are declared in
a fixed order (only those used), JSON keys come in a fixed order; there are no timestamps.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import stat
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _encode
from pathlib import Path

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, parse

from kg import namespaces as ns
from kg.errors import KgError, KgInputError
from kg.project import Project


class KgExportError(KgError):
    """An export that cannot be made or written: unknown format or graph, unwritable path."""


# --------------------------------------------------------------------------------------------
# Formats, prefixes, graph names
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str  # canonical name, as accepted by --format
    label: str  # as people write it
    extension: str
    quads: bool  # can it carry named graphs?


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("turtle", "Turtle", ".ttl", False),
        Format("trig", "TriG", ".trig", True),
        Format("ntriples", "N-Triples", ".nt", False),
        Format("nquads", "N-Quads", ".nq", True),
        Format("rdfxml", "RDF/XML", ".rdf", False),
        Format("jsonld", "JSON-LD", ".jsonld", True),
    )
}
FORMAT_ALIASES = {
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "nq": "nquads",
    "n-quads": "nquads",
    "rdf/xml": "rdfxml",
    "rdf-xml": "rdfxml",
    "rdf": "rdfxml",
    "xml": "rdfxml",
    "json-ld": "jsonld",
}
EXTENSIONS = {
    ".ttl": "turtle",
    ".trig": "trig",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".rdf": "rdfxml",
    ".xml": "rdfxml",
    ".jsonld": "jsonld",
    ".json": "jsonld",
}

# Prefixes declared by Turtle, TriG and RDF/XML, in this order (only those the output uses).
PREFIXES: tuple[tuple[str, str], ...] = (
    ("kg", ns.KG),
    ("kgr", ns.KGR),
    ("kgi", ns.KGI),
    ("kgt", ns.KGT),
    ("kgsh", ns.KGSH),
    ("rdf", ns.RDF),
    ("rdfs", ns.RDFS),
    ("owl", ns.OWL),
    ("xsd", ns.XSD),
    ("skos", ns.SKOS),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("schema", ns.SCHEMA),
    ("sem", "http://semanticweb.cs.vu.nl/2009/11/sem/"),
    ("prov", ns.PROV),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("time", "http://www.w3.org/2006/time#"),
    ("oa", ns.OA),
    ("org", "http://www.w3.org/ns/org#"),
    ("wd", "http://www.wikidata.org/entity/"),
)

CONTEXT_FILE = "ontology/context.jsonld"
DEFAULT_GRAPH = ""  # key of the default graph (the build puts nothing there)

_RDF_TYPE = NamedNode(ns.RDF + "type")
_RDFS_LABEL = NamedNode(ns.RDFS + "label")
_XSD_STRING = ns.XSD + "string"
_XSD_INTEGER = ns.XSD + "integer"
_XSD_DECIMAL = ns.XSD + "decimal"
_XSD_BOOLEAN = ns.XSD + "boolean"
_INTEGER_TYPES = {
    ns.XSD + t
    for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
        "unsignedShort", "unsignedByte",
    )
}  # fmt: skip


_KNOWN_FORMATS = (
    "turtle (ttl), trig, ntriples (nt), nquads (nq), rdfxml (rdf/xml), jsonld; for the property "
    "graph: neo4j (-o DIR), cypher"
)


def resolve_format(name: str | None, output: str | None = None) -> str:
    """The canonical format for `--format NAME`, or guessed from the output file's extension."""
    if name:
        key = name.strip().lower()
        key = FORMAT_ALIASES.get(key, key)
        if key not in FORMATS:
            raise KgExportError(f"unknown format '{name}' (known: {_KNOWN_FORMATS})")
        return key
    if output and output != "-":
        guessed = EXTENSIONS.get(Path(output).suffix.lower())
        if guessed:
            return guessed
        raise KgExportError(
            f"cannot tell the format from the file name '{output}': give --format, or end it "
            f"in {' '.join(EXTENSIONS)}"
        )
    raise KgExportError(
        f"which format? give --format ({_KNOWN_FORMATS}) or an -o file name ending in one of "
        f"{' '.join(EXTENSIONS)}"
    )


def graph_short_name(iri: str) -> str:
    """`ontology`, `shared`, `inferred`, `article/<id>`, `enrichment/<name>`, or the IRI."""
    if iri == DEFAULT_GRAPH:
        return "default"
    if iri.startswith(ns.GRAPH_BASE):
        return iri[len(ns.GRAPH_BASE) :]
    return iri


def select_graphs(
    available: Iterable[str], names: Sequence[str] | None = None, *, inferred: bool | None = None
) -> list[str]:
    """The graph IRIs to export, sorted.

    `names` are short names (ontology, shared, inferred, article/<id> or <id>,
    enrichment/<name> or <name>; article and enrichment for all of them) or full IRIs;
    none means every graph. `inferred` True adds the inferred graph, False drops it, None
    leaves the selection as it is.
    """
    available = sorted(set(available))
    lookup: dict[str, list[str]] = defaultdict(list)
    for iri in available:
        short = graph_short_name(iri)
        lookup[short].append(iri)
        kind, slash, key = short.partition("/")
        if slash and kind in ("article", "enrichment"):
            lookup[kind].append(iri)  # every article (every enrichment)
    for iri in available:  # a bare article id, or else a bare enrichment name
        for kind in ("article/", "enrichment/"):
            short = graph_short_name(iri)
            if short.startswith(kind) and short[len(kind) :] not in lookup:
                lookup[short[len(kind) :]] = [iri]
    chosen: set[str] = set()
    for name in names or ():
        key = name.strip()
        if key.startswith("<") and key.endswith(">"):
            key = key[1:-1]
        iris = [key] if key in available else lookup.get(key)
        if not iris:
            import difflib

            shorts = [graph_short_name(g) for g in available]
            # Match against "wikidata", "ontolgy" … and suggest the graph's short name.
            words = {k: graph_short_name(v[0]) if len(v) == 1 else k for k, v in lookup.items()}
            close = [words[w] for w in difflib.get_close_matches(key, words, n=2, cutoff=0.6)]
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise KgExportError(
                f"unknown graph '{name}'{hint} (graphs of this build: {', '.join(shorts)})"
            )
        chosen.update(iris)
    if not names:
        chosen = set(available)
    if inferred is False:
        if names and ns.GRAPH_INFERRED in chosen:
            raise KgExportError("--graph inferred and --no-inferred contradict each other")
        chosen.discard(ns.GRAPH_INFERRED)
    elif inferred is True and ns.GRAPH_INFERRED in available:
        chosen.add(ns.GRAPH_INFERRED)
    return sorted(chosen)


def _graph_key(quad: Quad) -> str:
    g = quad.graph_name
    if isinstance(g, DefaultGraph):
        return DEFAULT_GRAPH
    return f"_:{g.value}" if isinstance(g, BlankNode) else g.value


# --------------------------------------------------------------------------------------------
# The export
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    data: bytes
    format: str  # canonical format name
    graphs: tuple[str, ...]  # the graph IRIs exported, sorted ("" = default graph)
    merged: bool  # True when the format merged the graphs into one
    frame: str | None = None

    @property
    def label(self) -> str:
        label = FORMATS[self.format].label
        return f"framed {label} ({self.frame})" if self.frame else label

    @property
    def note(self) -> str | None:
        """What the user should know: which graphs a graph-less format merged."""
        if not self.merged:
            return None
        names = [graph_short_name(g) for g in self.graphs]
        if len(names) == 1:
            return f"{self.label} has no named graphs: wrote graph {names[0]} without its name"
        return (
            f"{self.label} has no named graphs: merged {len(names)} graphs into one "
            f"({', '.join(names) or 'none selected'})"
        )


FRAMES = ("events",)


def export(
    quads: Iterable[Quad],
    *,
    format: str = "turtle",
    graphs: Sequence[str] | None = None,
    inferred: bool | None = None,
    frame: str | None = None,
    context: dict | None = None,
) -> Export:
    """Serialise `quads` (restricted to the selected graphs) in `format`.

    `graphs`/`inferred` select graphs as `select_graphs` does. `frame` ("events") asks for
    the framed JSON-LD form; `context` is the JSON-LD context (the value of "@context"), by
    default a minimal one made of the prefixes.

    The cyclic garbage collector is paused meanwhile: the export makes millions of objects
    and no reference cycles, and its full collections would otherwise cost a third of the
    time at a million triples.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _export(quads, format, graphs, inferred, frame, context)
    finally:
        if enabled:
            gc.enable()


def _export(
    quads: Iterable[Quad],
    format: str,
    graphs: Sequence[str] | None,
    inferred: bool | None,
    frame: str | None,
    context: dict | None,
) -> Export:
    fmt = resolve_format(format)
    if frame is not None:
        if frame not in FRAMES:
            raise KgExportError(f"unknown frame '{frame}' (known: {', '.join(FRAMES)})")
        if fmt != "jsonld":
            raise KgExportError("--frame applies to JSON-LD only (use --format jsonld)")
    all_quads = list(quads)
    by_graph: dict[str, list[Quad]] = defaultdict(list)
    last, bucket = None, []
    for q in all_quads:  # the quads of a graph mostly come together
        g = q.graph_name
        if g != last:
            last, bucket = g, by_graph[_graph_key(q)]
        bucket.append(q)
    selected = select_graphs(by_graph, graphs, inferred=inferred)
    chosen = {g: by_graph[g] for g in selected}
    merged = not FORMATS[fmt].quads or frame is not None
    header = _merge_header(FORMATS[fmt].label, selected) if merged else []

    def merged_triples() -> set:
        return {q.triple for qs in chosen.values() for q in qs}

    # Turtle, TriG and compact JSON-LD index the quads by subject and predicate into sets
    # (or sorted distinct written forms), so they take the quads as they are: no triples.
    if fmt == "nquads":
        data = "".join(sorted({f"{q} .\n" for qs in chosen.values() for q in qs}))
    elif fmt == "ntriples":
        data = "".join(f"# {line}\n" if line else "#\n" for line in header)
        data += "".join(sorted({f"{t} .\n" for t in merged_triples()}))
    elif fmt == "turtle":
        merged_quads = [q for qs in chosen.values() for q in qs]
        data = _turtle(header, {DEFAULT_GRAPH: merged_quads}, trig=False)
    elif fmt == "trig":
        data = _turtle([], chosen, trig=True)
    elif fmt == "rdfxml":
        data = _rdfxml(header, merged_triples())
    else:
        ctx = JsonLdContext(context if context is not None else default_context())
        if frame is not None:
            doc = ctx.framed_document(merged_triples(), _event_classes(all_quads))
        else:
            doc = ctx.document(chosen)
        data = _dumps(doc) + "\n"
    return Export(data.encode("utf-8"), fmt, tuple(selected), merged, frame)


def _merge_header(label: str, graphs: Sequence[str]) -> list[str]:
    n = len(graphs)
    lines = [
        f"{label} has no named graphs: this file merges the triples of {n} graph"
        f"{'s' if n != 1 else ''} of the kg build:"
    ]
    lines += [f"  {'(default graph)' if g == DEFAULT_GRAPH else '<' + g + '>'}" for g in graphs]
    return lines


# --------------------------------------------------------------------------------------------
# Turtle and TriG
# --------------------------------------------------------------------------------------------

# A local name that needs no escaping in Turtle (a safe subset of PN_LOCAL).
_PN_LOCAL = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?$")
_TTL_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r",
                ord("\t"): "\\t", ord("\b"): "\\b", ord("\f"): "\\f"}  # fmt: skip
_TTL_ESCAPES.update({c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if c not in _TTL_ESCAPES})
_BARE = {
    _XSD_INTEGER: re.compile(r"^[+-]?[0-9]+$"),
    _XSD_DECIMAL: re.compile(r"^[+-]?[0-9]*\.[0-9]+$"),
    _XSD_BOOLEAN: re.compile(r"^(?:true|false)$"),
}


# Every prefix ends in one of these characters, so the prefixes of an IRI are those of its
# part up to the last of them.
_PREFIX_PART = re.compile(
    f"(?s).*[{re.escape(''.join(sorted({base[-1] for _, base in PREFIXES})))}]"
)


class _TurtleTerms:
    """Writes terms in Turtle, prefixed where a known prefix fits; remembers prefixes used."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self._cache: dict[str, str] = {}  # IRI -> its written form
        self._terms: dict = {}  # term -> its written form
        self._by_part: dict[str, list[tuple[str, str]]] = {}

    def iri(self, iri: str) -> str:
        text = self._cache.get(iri)
        if text is None:
            best: tuple[str, str] | None = None
            m = _PREFIX_PART.match(iri)
            if m is not None:
                part = m.group()
                fitting = self._by_part.get(part)
                if fitting is None:  # the prefixes of the IRI, longest first
                    fitting = [(p, base) for p, base in PREFIXES if part.startswith(base)]
                    fitting.sort(key=lambda pb: -len(pb[1]))
                    self._by_part[part] = fitting
                for prefix, base in fitting:
                    if _PN_LOCAL.match(iri[len(base) :]):
                        best = (prefix, base)
                        break
            if best:
                text = f"{best[0]}:{iri[len(best[1]) :]}"
                self.used.add(best[0])  # every form asked for is written
            else:
                text = f"<{iri}>"
            self._cache[iri] = text
        return text

    def term(self, term) -> str:
        text = self._terms.get(term)
        if text is None:
            text = self._terms[term] = self._write(term)
        return text

    def _write(self, term) -> str:
        if isinstance(term, NamedNode):
            return self.iri(term.value)
        if isinstance(term, BlankNode):
            return f"_:{term.value}"
        if isinstance(term, Literal):
            if getattr(term, "direction", None) is not None:
                return str(term)  # RDF 1.2 directional string: N-Triples form is valid Turtle
            dt = term.datatype.value
            if term.language:
                return f'"{term.value.translate(_TTL_ESCAPES)}"@{term.language}'
            bare = _BARE.get(dt)
            if bare is not None and bare.match(term.value):
                return term.value
            quoted = f'"{term.value.translate(_TTL_ESCAPES)}"'
            return quoted if dt == _XSD_STRING else f"{quoted}^^{self.iri(dt)}"
        return str(term)  # quoted triples (RDF 1.2) and anything newer


def _sort_key(term) -> str:
    return str(term)


def _turtle_statements(triples: Iterable, terms: _TurtleTerms, indent: str) -> list[str]:
    """Subject blocks `s a T ;\n    p o1 ,\n        o2 .`, sorted by their written form:
    rdf:type first, rdfs:label second, then the other predicates."""
    term = terms.term
    # Written forms are distinct for distinct terms, so the index can hold them directly.
    index: dict[str, dict] = {}
    verbs: dict = {}  # predicate -> (sort key, written form)
    for t in triples:  # triples or quads, possibly the same triple more than once
        s_text = term(t.subject)
        p = t.predicate
        o = t.object
        preds = index.get(s_text)
        if preds is None:
            preds = index[s_text] = {}
        objs = preds.get(p)
        if objs is None:
            preds[p] = [term(o)]
            if p not in verbs:
                verb = "a" if p == _RDF_TYPE else terms.iri(p.value)
                verbs[p] = ((p != _RDF_TYPE, p != _RDFS_LABEL, verb), verb)
        else:
            objs.append(term(o))
    lead = f"{indent}    "
    sep = f" ,\n{indent}        "
    blocks = []
    for subject_text in sorted(index):
        preds = index[subject_text]
        order = sorted(preds, key=lambda p: verbs[p][0]) if len(preds) > 1 else preds
        parts = []
        for p in order:
            objs = preds[p]
            if len(objs) > 1:
                objs = sorted(set(objs))
            parts.append(f"{verbs[p][1]} {sep.join(objs)}")
        blocks.append(f"{indent}{subject_text} " + f" ;\n{lead}".join(parts) + " .")
    return blocks


def _turtle(header: list[str], graphs: dict[str, Sequence], *, trig: bool) -> str:
    terms = _TurtleTerms()
    body: list[str] = []
    for g in sorted(graphs):
        blocks = _turtle_statements(graphs[g], terms, "    " if trig and g else "")
        if trig and g != DEFAULT_GRAPH:
            name = terms.iri(g) if not g.startswith("_:") else g
            inner = "\n\n".join(blocks)
            body.append(f"{name} {{\n{inner}\n}}" if blocks else f"{name} {{\n}}")
        elif blocks:
            body.append("\n\n".join(blocks))
    out = "".join(f"# {line}\n" if line else "#\n" for line in header)
    declared = [f"@prefix {p}: <{base}> ." for p, base in PREFIXES if p in terms.used]
    if declared:
        out += ("\n" if header else "") + "\n".join(declared) + "\n"
    if body:
        out += ("\n" if out else "") + "\n\n".join(body) + "\n"
    return out


# --------------------------------------------------------------------------------------------
# RDF/XML
# --------------------------------------------------------------------------------------------

_NCNAME_TAIL = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*$")
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_TEXT = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\r"): "&#13;"}
_XML_ATTR = {**_XML_TEXT, ord('"'): "&quot;", ord("\t"): "&#9;", ord("\n"): "&#10;"}


def _xml_text(value: str, table: dict) -> str:
    bad = _XML_ILLEGAL.search(value)
    if bad:
        raise KgExportError(
            f"RDF/XML cannot hold the character U+{ord(bad.group()):04X} (XML 1.0 forbids it) "
            f"in {value[:40]!r}: export to Turtle, N-Triples or JSON-LD instead"
        )
    return value.translate(table)


def _rdfxml(header: list[str], triples: set) -> str:
    known = {base: prefix for prefix, base in PREFIXES}
    qnames: dict[str, tuple[str, str]] = {}  # predicate IRI -> (namespace, local name)
    for p in sorted({t.predicate.value for t in triples}):
        split = next(
            (
                (base, p[len(base) :])
                for prefix, base in sorted(PREFIXES, key=lambda x: -len(x[1]))
                if p.startswith(base) and _NCNAME.match(p[len(base) :])
            ),
            None,
        )
        if split is None:
            m = _NCNAME_TAIL.search(p)
            if m is None:
                raise KgExportError(
                    f"RDF/XML cannot write the predicate <{p}>: its IRI does "
                    "not end in an XML name; use another format"
                )
            split = (p[: m.start()], m.group())
        qnames[p] = split
    namespaces = {ns.RDF: "rdf"}
    others = sorted({base for base, _ in qnames.values()} - set(known) - {ns.RDF})
    namespaces.update({base: known[base] for base, _ in qnames.values() if base in known})
    namespaces.update({base: f"ns{i}" for i, base in enumerate(others, start=1)})
    order = {prefix: i for i, (prefix, _) in enumerate(PREFIXES)}
    decls = sorted(namespaces.items(), key=lambda kv: (order.get(kv[1], len(order)), kv[1]))

    blank_ids: dict[str, str] = {}

    def node_id(b: BlankNode) -> str:
        if b.value not in blank_ids:
            blank_ids[b.value] = b.value if _NCNAME.match(b.value) else f"b{len(blank_ids)}"
        return blank_ids[b.value]

    out = ['<?xml version="1.0" encoding="utf-8"?>']
    if header:
        text = "\n     ".join(_xml_text(line, {}).replace("--", "- -") for line in header)
        out.append(f"<!-- {text} -->")
    out.append("<rdf:RDF")
    out += [f'    xmlns:{prefix}="{_xml_text(base, _XML_ATTR)}"' for base, prefix in decls]
    out[-1] += ">"
    index: dict = defaultdict(list)
    for t in triples:
        index[t.subject].append(t)
    for subject in sorted(index, key=_sort_key):
        if isinstance(subject, BlankNode):
            out.append(f'  <rdf:Description rdf:nodeID="{node_id(subject)}">')
        else:
            out.append(f'  <rdf:Description rdf:about="{_xml_text(subject.value, _XML_ATTR)}">')
        for t in sorted(index[subject], key=lambda t: (t.predicate != _RDF_TYPE, str(t))):
            base, local = qnames[t.predicate.value]
            tag = f"{namespaces[base]}:{local}"
            o = t.object
            if isinstance(o, NamedNode):
                out.append(f'    <{tag} rdf:resource="{_xml_text(o.value, _XML_ATTR)}"/>')
            elif isinstance(o, BlankNode):
                out.append(f'    <{tag} rdf:nodeID="{node_id(o)}"/>')
            elif isinstance(o, Literal):
                if o.language:
                    attr = f' xml:lang="{o.language}"'
                elif o.datatype.value != _XSD_STRING:
                    attr = f' rdf:datatype="{_xml_text(o.datatype.value, _XML_ATTR)}"'
                else:
                    attr = ""
                out.append(f"    <{tag}{attr}>{_xml_text(o.value, _XML_TEXT)}</{tag}>")
            else:
                raise KgExportError(f"RDF/XML cannot write the term {o}")
        out.append("  </rdf:Description>")
    out.append("</rdf:RDF>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# JSON-LD
# --------------------------------------------------------------------------------------------

_GEN_DELIMS = tuple(":/?#[]@")
_CANON_INT = re.compile(r"^(?:0|-?[1-9][0-9]*)$")
_MAX_SAFE = 2**53


def default_context() -> dict:
    """The context used when the project publishes none: the prefixes, kg: as @vocab."""
    ctx: dict = {"@vocab": ns.KG}
    ctx.update({prefix: base for prefix, base in PREFIXES})
    ctx.update({"id": "@id", "type": "@type"})
    ctx["label"] = {"@id": "rdfs:label", "@container": "@language"}
    return ctx


@dataclass(frozen=True)
class _Term:
    iri: str
    type: str | None = None  # "@id", "@vocab", a datatype IRI, or None
    container: str | None = None  # "@language", "@set" or None


_VOCAB_TERM = _Term("", "@vocab")


class JsonLdContext:
    """The subset of JSON-LD contexts kg writes with: @vocab, prefixes, keyword aliases for
    @id and @type, and terms with @id, @type (@id, @vocab or a datatype) and @container
    (@language or @set). Compaction picks, for each IRI, the first candidate that expands
    back to it, so the documents mean exactly the triples they were made from."""

    def __init__(self, ctx: dict, *, source: str = "@context"):
        if not isinstance(ctx, dict):
            raise KgInputError("the JSON-LD context must be a JSON object", file=source)
        self.raw = ctx
        self.source = source
        self.vocab: str | None = None
        self.prefixes: dict[str, str] = {}
        self.terms: dict[str, _Term] = {}
        self.alias: dict[str, str] = {"@id": "@id", "@type": "@type"}
        self._keywords: dict[str, str] = {}  # alias -> keyword
        for key, value in ctx.items():  # pass 1: @vocab, aliases, absolute prefixes
            if key == "@vocab":
                if not isinstance(value, str) or ":" not in value:
                    self._bad(key, "@vocab must be an absolute IRI")
                self.vocab = value
            elif key == "@version":
                if value != 1.1:
                    self._bad(key, "only @version 1.1 is understood")
            elif key.startswith("@"):
                self._bad(key, "kg export does not support this keyword in a context")
            elif value in ("@id", "@type"):
                if self.alias[value] != value:
                    self._bad(key, f"{value} is aliased twice")
                self.alias[value] = key
                self._keywords[key] = value
            elif isinstance(value, str) and value.startswith("@"):
                self._bad(key, "only @id and @type may be aliased")
            elif isinstance(value, str) and _is_absolute(value) and value.endswith(_GEN_DELIMS):
                self.prefixes[key] = value
        for key, value in ctx.items():  # pass 2: terms
            if key.startswith("@") or key in self._keywords:
                continue
            if isinstance(value, str):
                self.terms[key] = _Term(self._expand_def(key, value))
            elif isinstance(value, dict):
                extra = set(value) - {"@id", "@type", "@container"}
                if extra:
                    self._bad(key, f"unsupported {', '.join(sorted(extra))}")
                iri = self._expand_def(key, value.get("@id", key))
                typ = value.get("@type")
                if typ is not None and typ not in ("@id", "@vocab"):
                    typ = self._expand_def(key, typ)
                container = value.get("@container")
                if container not in (None, "@language", "@set"):
                    self._bad(key, "@container must be @language or @set")
                if container == "@language" and typ is not None:
                    self._bad(key, "a @language container takes no @type")
                self.terms[key] = _Term(iri, typ, container)
            else:
                self._bad(key, "a term maps to an IRI string or a term definition object")
        self._by_iri: dict[str, list[str]] = defaultdict(list)
        for name in sorted(self.terms):
            self._by_iri[self.terms[name].iri].append(name)
        self._compact_ids: dict[str, str] = {}  # IRI -> its form as an @id value
        self._compact_vocab: dict[str, str] = {}  # IRI -> its form as a vocabulary value
        self._key_cache: dict[str, tuple[list[str], str]] = {}
        self._prefix_hits: dict[str, list[tuple[int, str]]] = {}
        # Every prefix ends in one of these characters, so the prefixes of an IRI are the
        # prefixes of its part up to the last of them (cached by that part).
        ends = {base[-1] for base in self.prefixes.values()}
        self._ns_part = re.compile(f"(?s).*[{re.escape(''.join(sorted(ends)))}]") if ends else None
        self._label_key = self.key_candidates(_RDFS_LABEL.value)
        self._label_first = set(self._label_key[0]) | {self._label_key[1]}
        self._pred_info: dict = {}  # predicate -> ([(term name, _Term)], fallback key)
        self._pred_text: dict = {}  # predicate -> str(predicate), its sort key

    def _bad(self, key: str, why: str):
        raise KgInputError(f"@context term '{key}': {why}", file=self.source)

    def _expand_def(self, key: str, value: str) -> str:
        prefix, colon, suffix = value.partition(":")
        if colon and prefix in self.prefixes and not suffix.startswith("//"):
            return self.prefixes[prefix] + suffix
        if colon:
            return value
        if self.vocab:
            return self.vocab + value
        self._bad(key, f"'{value}' is not an IRI, a compact IRI or a @vocab term")
        raise AssertionError  # unreachable

    # IRI expansion (JSON-LD 1.1 §5.2, for this subset); None = would not round-trip safely.
    def expand(self, value: str, *, vocab: bool) -> str | None:
        if value.startswith("@") or value in self._keywords:
            return None
        if vocab and value in self.terms:
            return self.terms[value].iri
        prefix, colon, suffix = value.partition(":")
        if colon:
            if prefix == "_" or suffix.startswith("//"):
                return value
            if prefix in self.prefixes:
                return self.prefixes[prefix] + suffix
            if prefix in self.terms or prefix in self._keywords:
                return None  # JSON-LD 1.0 processors would read it as a compact IRI
            return value if _is_absolute(value) else None
        if vocab and self.vocab:
            return self.vocab + value
        return None

    def compact(self, iri: str, *, vocab: bool) -> str:
        """Shortest safe form of `iri` as a value (@id values when vocab is False)."""
        cache = self._compact_vocab if vocab else self._compact_ids
        found = cache.get(iri)
        if found is None:
            candidates = list(self._by_iri.get(iri, ())) if vocab else []
            if vocab and self.vocab and iri.startswith(self.vocab):
                candidates.append(iri[len(self.vocab) :])
            candidates += self._prefixed(iri)
            candidates.append(iri)
            found = next((c for c in candidates if c and self.expand(c, vocab=vocab) == iri), None)
            if found is None:
                raise KgExportError(f"JSON-LD cannot write <{iri}> safely with this context")
            cache[iri] = found
        return found

    def _prefixed(self, iri: str) -> list[str]:
        m = self._ns_part.match(iri) if self._ns_part is not None else None
        if m is None:
            return []
        part = m.group()
        hits = self._prefix_hits.get(part)
        if hits is None:
            hits = [(len(base), p) for p, base in self.prefixes.items() if part.startswith(base)]
            hits.sort(key=lambda h: (-h[0], h[1]))
            self._prefix_hits[part] = hits
        return [f"{p}:{iri[n:]}" for n, p in hits]

    def key_candidates(self, predicate: str) -> tuple[list[str], str]:
        """Terms for `predicate` (sorted) and the key for values none of them can take."""
        found = self._key_cache.get(predicate)
        if found is None:
            found = self._key_cache[predicate] = self._key_candidates(predicate)
        return found

    def _key_candidates(self, predicate: str) -> tuple[list[str], str]:
        terms = self._by_iri.get(predicate, [])
        fallback = (
            [predicate[len(self.vocab) :]]
            if self.vocab and predicate.startswith(self.vocab)
            else []
        )
        fallback += self._prefixed(predicate) + [predicate]
        for c in fallback:
            if c and c not in self.terms and self.expand(c, vocab=True) == predicate:
                return terms, c
        raise KgExportError(f"JSON-LD cannot write the predicate <{predicate}> with this context")

    def node_id(self, node) -> str:
        if isinstance(node, BlankNode):
            return f"_:{node.value}"
        return self.compact(node.value, vocab=False)

    # Values -----------------------------------------------------------------------------------

    def _fits(self, term: _Term, value) -> int:
        """2: the term's coercion fits `value` exactly; 1: it can hold it as an explicit value
        or node object; 0: it cannot (a language map holds only language-tagged strings)."""
        if term.container == "@language":
            return 2 if isinstance(value, Literal) and value.language else 0
        if isinstance(value, Literal):
            if term.type is None:
                return 2
            return 2 if not value.language and value.datatype.value == term.type else 1
        return 2 if term.type in ("@id", "@vocab") else 1

    def value(self, obj, term: _Term | None, ref: object = None) -> object:
        typ = term.type if term else None
        if not isinstance(obj, Literal):
            if ref is not None:
                return ref
            if typ == "@id":
                return self.node_id(obj)
            if typ == "@vocab":
                return (
                    f"_:{obj.value}"
                    if isinstance(obj, BlankNode)
                    else self.compact(obj.value, vocab=True)
                )
            return {self.alias["@id"]: self.node_id(obj)}
        lex, dt, lang = obj.value, obj.datatype.value, obj.language
        if lang:
            return {"@value": lex, "@language": lang}
        if typ not in (None, "@id", "@vocab") and dt == typ:
            if dt in _INTEGER_TYPES and _CANON_INT.match(lex) and abs(int(lex)) < _MAX_SAFE:
                return int(lex)  # a native number: the context's type gives it back
            return lex
        if typ is None:
            if dt == _XSD_STRING:
                return lex
            if dt == _XSD_INTEGER and _CANON_INT.match(lex) and abs(int(lex)) < _MAX_SAFE:
                return int(lex)
            if dt == _XSD_BOOLEAN and lex in ("true", "false"):
                return lex == "true"
        if dt == _XSD_STRING:
            return {"@value": lex}
        return {"@value": lex, "@type": self.compact(dt, vocab=True)}

    def node(self, subject, props: dict, ref: Callable | None = None) -> dict:
        """A node object: id, type, label, then the other keys sorted; values sorted."""
        out: dict = {self.alias["@id"]: self.node_id(subject)}
        keyed: dict[str, list] = {}  # key -> json values
        langmaps: dict[str, dict[str, list]] = {}
        containers: dict[str, str | None] = {}
        types = []
        pred_info = self._pred_info
        for p in sorted(props, key=self._pred_sort_key) if len(props) > 1 else props:
            objs = props[p]
            objs = sorted(objs, key=_sort_key) if len(objs) > 1 else list(objs)
            if p == _RDF_TYPE:
                types += [o for o in objs if not isinstance(o, Literal)]
                objs = [o for o in objs if isinstance(o, Literal)]
            if not objs:
                continue
            info = pred_info.get(p)
            if info is None:
                terms, fallback = self.key_candidates(p.value)
                info = pred_info[p] = ([(t, self.terms[t]) for t in terms], fallback)
            terms, fallback = info
            for o in objs:
                best, name, term = 0, fallback, None
                for t, definition in terms:
                    fit = self._fits(definition, o)
                    if fit > best:
                        best, name, term = fit, t, definition
                if term is None:
                    containers[name] = None
                else:
                    containers[name] = term.container
                    if term.container == "@language":
                        langmap = langmaps.get(name)
                        if langmap is None:
                            langmap = langmaps[name] = {}
                        langmap.setdefault(o.language, []).append(o.value)
                        continue
                embedded = ref(o, p, term) if ref is not None else None
                vals = keyed.get(name)
                if vals is None:
                    keyed[name] = [self.value(o, term, embedded)]
                else:
                    vals.append(self.value(o, term, embedded))
        if types:
            values = [self.value(t, _VOCAB_TERM) for t in types]
            if len(values) > 1:
                values.sort(key=_json_key)
            out[self.alias["@type"]] = values[0] if len(values) == 1 else values
        names = [*keyed, *langmaps] if langmaps else list(keyed)
        if len(names) > 1:
            label_first = self._label_first
            names = sorted(set(names), key=lambda k: (k not in label_first, k))
        for name in names:
            if name in langmaps:
                out[name] = {
                    lang: vals[0] if len(vals) == 1 else vals
                    for lang, vals in sorted(langmaps[name].items())
                }
            else:
                vals = keyed[name]
                if len(vals) > 1:
                    vals.sort(key=_json_key)
                single = len(vals) == 1 and containers.get(name) != "@set"
                out[name] = vals[0] if single else vals
        return out

    def _pred_sort_key(self, predicate) -> str:
        text = self._pred_text.get(predicate)
        if text is None:
            text = self._pred_text[predicate] = str(predicate)
        return text

    # Documents --------------------------------------------------------------------------------

    def document(self, graphs: dict[str, Sequence]) -> dict:
        """The compact form: every graph a graph object, each node once, references by id."""
        top: list = []
        for g in sorted(graphs):
            nodes = [self.node(s, props) for s, props in _index(graphs[g])]
            if g == DEFAULT_GRAPH:
                top = nodes + top
            else:
                name = self.node_id(BlankNode(g[2:]) if g.startswith("_:") else NamedNode(g))
                top.append({self.alias["@id"]: name, "@graph": nodes})
        return {"@context": self.raw, "@graph": top}

    def framed_document(self, triples: set, event_classes: set) -> dict:
        """The framed form: one object per event (by date) with its participations and
        evidence nested; references carry the label of what they point to; then every other
        node not nested anywhere. The same triples as the merged graphs, nothing more."""
        index = dict(_index(triples))
        labels = {s: props[_RDFS_LABEL] for s, props in index.items() if _RDFS_LABEL in props}
        events = [
            s
            for s, props in index.items()
            if any(t in event_classes for t in props.get(_RDF_TYPE, ()))
        ]
        date = NamedNode(ns.KG + "date")
        events.sort(
            key=lambda s: (min((o.value for o in index[s].get(date, ())), default="~"), str(s))
        )
        nest = {NamedNode(iri) for iri in _NESTED}
        nested = {o for t in triples if t.predicate in nest for o in [t.object] if o in index}
        written: set = set()

        def render(subject, path: frozenset) -> dict:
            written.add(subject)

            def ref(obj, predicate, term):
                if obj in path:  # a link back to a node being written around this one
                    return None
                if obj in index and predicate in nest:
                    return render(obj, path | {obj})
                if obj in labels and not (term and term.type == "@vocab"):
                    return self.node(obj, {_RDFS_LABEL: labels[obj]})
                return None

            return self.node(subject, index[subject], ref)

        out = [render(s, frozenset([s])) for s in events]
        roots = set(events)
        out += [
            render(s, frozenset([s]))
            for s in sorted(index, key=_sort_key)
            if s not in roots and s not in nested
        ]
        for s in sorted(index, key=_sort_key):  # nested only inside a cycle: write it at top
            if s not in written:
                out.append(render(s, frozenset([s])))
        return {"@context": self.raw, "@graph": out}


# Links whose targets the framed form nests inside the node that points to them.
_NESTED = (
    ns.KG + "hasParticipation",
    ns.KG + "hasEvidence",
    ns.OA + "hasTarget",
    ns.OA + "hasSelector",
)


def _json_key(value: object) -> str:
    """`json.dumps(value, ensure_ascii=False)` for sorting, but a string is itself."""
    if isinstance(value, str):
        return value
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
        return "{" + ", ".join(f"{_encode(k)}: {_encode(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _dumps(doc: object) -> str:
    """`json.dumps(doc, ensure_ascii=False, indent=2)`, faster: the standard library writes
    indented JSON in pure Python, one generator per container."""
    parts: list[str] = []
    append = parts.append

    def write(value: object, indent: str) -> None:
        kind = type(value)
        if kind is str:
            append(_encode(value))
        elif kind is dict:
            if not value:
                append("{}")
                return
            inner = indent + "  "
            sep = "{\n" + inner
            for k, v in value.items():
                if type(k) is not str:
                    raise _NotPlain
                append(sep)
                append(_encode(k))
                append(": ")
                write(v, inner)
                sep = ",\n" + inner
            append("\n" + indent + "}")
        elif kind is list or kind is tuple:
            if not value:
                append("[]")
                return
            inner = indent + "  "
            sep = "[\n" + inner
            for v in value:
                append(sep)
                write(v, inner)
                sep = ",\n" + inner
            append("\n" + indent + "]")
        elif kind is int:
            append(int.__repr__(value))
        elif kind is bool:
            append("true" if value else "false")
        elif value is None:
            append("null")
        elif kind is float:
            append(json.dumps(value))
        else:
            raise _NotPlain

    try:
        write(doc, "")
    except _NotPlain:
        return json.dumps(doc, ensure_ascii=False, indent=2)
    return "".join(parts)


class _NotPlain(Exception):
    """A value `_dumps` leaves to `json.dumps`."""


def _index(triples: Iterable) -> list[tuple[object, dict]]:
    index: dict = defaultdict(lambda: defaultdict(set))
    for t in triples:
        index[t.subject][t.predicate].add(t.object)
    return [(s, index[s]) for s in sorted(index, key=_sort_key)]


def _event_classes(quads: Sequence[Quad]) -> set:
    """kg:Event and every class below it (rdfs:subClassOf*, across all graphs)."""
    sub = NamedNode(ns.RDFS + "subClassOf")
    children: dict = defaultdict(set)
    for q in quads:
        if q.predicate == sub:
            children[q.object].add(q.subject)
    found, todo = set(), [NamedNode(ns.KG + "Event")]
    while todo:
        c = todo.pop()
        if c not in found:
            found.add(c)
            todo += children.get(c, ())
    return found


def _is_absolute(value: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) is not None


def load_context(project: Project) -> dict:
    """The project's published JSON-LD context (ontology/context.jsonld), or the default."""
    path = project.root / CONTEXT_FILE
    if not path.is_file():
        return default_context()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise KgInputError(f"cannot read: {e}", file=CONTEXT_FILE) from None
    except json.JSONDecodeError as e:
        raise KgInputError(e.msg, file=CONTEXT_FILE, line=e.lineno, column=e.colno) from None
    ctx = doc.get("@context") if isinstance(doc, dict) else None
    if not isinstance(ctx, dict):
        raise KgInputError('expected {"@context": {...}}', file=CONTEXT_FILE)
    JsonLdContext(ctx, source=CONTEXT_FILE)  # report a broken context before anything else
    return ctx


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _is_stream(path: Path) -> bool:
    """A character device, pipe or socket (/dev/stdout, a FIFO): written into, not replaced."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_output(path: str | os.PathLike) -> Path:
    """The file to write for `path`, if it can be written: a symbolic link is followed (the
    file it points to is replaced, the link stays), its folder exists and it is not a folder;
    a stream (/dev/stdout, a FIFO) is returned as it is."""
    target = Path(path)
    if _is_stream(target):
        return target
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise KgExportError(f"cannot write {target}: it is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise KgExportError(f"cannot write {target}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise KgExportError(f"cannot write {target}: no permission to write in {folder}")
    return target


def _write_all(fh, data: bytes) -> None:
    """Write `data` in pieces (a test replaces this to fail midway)."""
    view = memoryview(data)
    for start in range(0, len(view), 1 << 16):
        fh.write(view[start : start + (1 << 16)])


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write via a temporary file in the target folder and os.replace: the old file stays
    whole until the new one is complete, and nothing is left behind on failure."""
    target = check_output(path)
    if _is_stream(target):
        try:
            with open(target, "wb") as fh:
                _write_all(fh, data)
        except OSError as e:
            raise KgExportError(f"cannot write {target}: {e.strerror or e}") from None
        return
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise KgExportError(f"cannot write {target}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def export_project(
    project: Project,
    *,
    format: str | None = None,
    graphs: Sequence[str] | None = None,
    inferred: bool | None = None,
    frame: str | None = None,
    output: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> Export:
    """Export the project's current build; write it to `output` (atomically) unless it is
    None or "-", in which case the caller prints `Export.data`."""
    from kg.build import ensure_built

    to_file = output not in (None, "-")
    if to_file:
        check_output(output)  # before any (re)build: a typo in the path fails fast
    fmt = resolve_format(format or ("jsonld" if frame else None), output)
    if frame is not None and (fmt != "jsonld" or frame not in FRAMES):
        export((), format=fmt, frame=frame)  # raises the usage error before any build
    context = load_context(project) if fmt == "jsonld" else None
    result = ensure_built(project, notify=notify)
    # The build's own bytes, checked against the manifest: IRIs need not be checked again.
    quads = parse(result.dataset, format=RdfFormat.N_QUADS, lenient=True)
    done = export(quads, format=fmt, graphs=graphs, inferred=inferred, frame=frame, context=context)
    if to_file:
        write_atomic(output, done.data)
    if notify is not None and done.note:
        notify(f"note: {done.note}")
    return done
