"""`kg export`: the built dataset in a standard RDF syntax, byte for byte reproducible.

The source of truth is the cached build (build/dataset.nq): its lines as they are (N-Quads,
N-Triples, Turtle, TriG) or read with `pyoxigraph.parse` (JSON-LD, RDF/XML), which keeps
every literal's lexical form (the query Store would canonicalise some of them, e.g.
xsd:nonNegativeInteger to integer). Output is streamed: the build is read subject by subject
(it is sorted) and never held as terms; what a writer must hold to order its output is text
about the size of the output. `export()` works on any quads, in memory; `export_project()`
wraps `write_export` with `ensure_built` and writes to a temporary file then renames it, or
to standard output as it goes.

Formats that carry named graphs (TriG, N-Quads, JSON-LD) keep them; the others (Turtle,
N-Triples, RDF/XML, framed JSON-LD) merge the selected graphs into one and say so: in a
comment at the top of the file where the syntax has comments, and in `Export.note`.

Determinism: subjects, predicates, objects and graphs are sorted, prefixes are declared in
a fixed order (only those used), JSON keys come in a fixed order; there are no timestamps.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import re
import stat
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from json.encoder import encode_basestring as _encode
from pathlib import Path
from typing import BinaryIO

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
_RDF_LANG_STRING = ns.RDF + "langString"
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
    data: bytes | None  # the document, or None when it was written to a file or stream
    format: str  # canonical format name
    graphs: tuple[str, ...]  # the graph IRIs exported, sorted ("" = default graph)
    merged: bool  # True when the format merged the graphs into one
    frame: str | None = None
    size: int = 0  # bytes written

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
        if len(names) > NOTE_GRAPHS:  # a corpus has hundreds: a line, not a screenful
            names = [*names[: NOTE_GRAPHS - 1], f"… {len(names) - NOTE_GRAPHS + 1} more"]
        return (
            f"{self.label} has no named graphs: merged {len(self.graphs)} graphs into one "
            f"({', '.join(names) or 'none selected'})"
        )


FRAMES = ("events",)
NOTE_GRAPHS = 8  # graphs named in the note of a merging export, at most


def export(
    quads: Iterable[Quad],
    *,
    format: str = "turtle",
    graphs: Sequence[str] | None = None,
    inferred: bool | None = None,
    frame: str | None = None,
    context: dict | None = None,
) -> Export:
    """Serialise `quads` (restricted to the selected graphs) in `format`, in memory.

    `graphs`/`inferred` select graphs as `select_graphs` does. `frame` ("events") asks for
    the framed JSON-LD form; `context` is the JSON-LD context (the value of "@context"), by
    default a minimal one made of the prefixes. `write_export` writes the same bytes to a
    file object instead.
    """
    buffer = io.BytesIO()
    done = write_export(
        _QuadSource(quads), buffer, format=format, graphs=graphs, inferred=inferred,
        frame=frame, context=context,
    )  # fmt: skip
    return replace(done, data=buffer.getvalue())


def write_export(
    source: _Source,
    out: BinaryIO,
    *,
    format: str = "turtle",
    graphs: Sequence[str] | None = None,
    inferred: bool | None = None,
    frame: str | None = None,
    context: dict | None = None,
) -> Export:
    """Write the export of `source` to the binary file object `out`, piece by piece.

    Every usage error (format, frame, graph selection) is raised before the first byte.
    The cyclic garbage collector is paused meanwhile: the export makes millions of objects
    and no reference cycles, and its full collections would otherwise cost a third of the
    time at a million triples.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _write_export(source, out, format, graphs, inferred, frame, context)
    finally:
        if enabled:
            gc.enable()


def _write_export(
    source: _Source,
    out: BinaryIO,
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
    selected = select_graphs(source.graphs, graphs, inferred=inferred)
    merged = not FORMATS[fmt].quads or frame is not None
    header = _merge_header(FORMATS[fmt].label, selected) if merged else []
    ctx = None
    if fmt == "jsonld":
        ctx = JsonLdContext(context if context is not None else default_context())
    sink = _Sink(out)
    if fmt == "nquads":
        _write_nquads(source, selected, sink)
    elif fmt == "ntriples":
        _write_ntriples(source, selected, header, sink)
    elif fmt in ("turtle", "trig"):
        _write_turtle(source, selected, header, sink, trig=fmt == "trig")
    elif fmt == "rdfxml":
        _write_rdfxml(source, selected, header, sink)
    elif frame is not None:
        all_quads = list(source.quads())
        chosen = set(selected)
        triples = {q.triple for q in all_quads if _graph_key(q) in chosen}
        doc = ctx.framed_document(triples, _event_classes(all_quads))
        sink.write(_dumps(doc) + "\n")
    else:
        _write_jsonld(source, selected, ctx, sink)
    sink.flush()
    return Export(None, fmt, tuple(selected), merged, frame, sink.size)


def _merge_header(label: str, graphs: Sequence[str]) -> list[str]:
    n = len(graphs)
    lines = [
        f"{label} has no named graphs: this file merges the triples of {n} graph"
        f"{'s' if n != 1 else ''} of the kg build:"
    ]
    lines += [f"  {'(default graph)' if g == DEFAULT_GRAPH else '<' + g + '>'}" for g in graphs]
    return lines


# --------------------------------------------------------------------------------------------
# Sources: the quads to export, in the order of sorted N-Quads lines
# --------------------------------------------------------------------------------------------
#
# The build writes its N-Quads sorted line by line, so the quads of a subject come together
# and subjects come in the order of their N-Triples form: the order every writer wants.
# The writers read a source subject by subject and keep only what they write, never the
# quads. Turtle, TriG and N-Triples/N-Quads read the terms as N-Triples text (cheaper than
# term objects, and Turtle's escapes are N-Triples' own); JSON-LD and RDF/XML read terms.


class _Source:
    graphs: list[str]  # the graph keys that have quads

    def tuples(self) -> Iterator[tuple[str, str, str, str]]:
        """(subject, predicate, object) in N-Triples form and the graph key, distinct, in
        the order of sorted N-Quads lines."""
        raise NotImplementedError

    def quads(self) -> Iterator[Quad]:
        """The quads, those of each subject together, subjects sorted by N-Triples form."""
        raise NotImplementedError

    def line_pieces(self) -> Iterator[bytes]:
        """The distinct N-Quads lines, sorted, UTF-8, in pieces that each end with a line."""
        raise NotImplementedError

    def parse_line(self, line: bytes) -> tuple[bytes, bytes, bytes, str]:
        """(subject, predicate, object) of an N-Quads line in N-Triples form and its graph
        key, read by the N-Quads parser (for lines a quick split cannot take)."""
        (q,) = parse(line, format=RdfFormat.N_QUADS, lenient=True)
        g = _graph_key(q)
        if g not in self.graphs:
            raise KgExportError(
                f"the build's N-Quads hold graph {g or '(default)'} that its manifest does "
                "not list: run `kg build --force`"
            )
        return str(q.subject).encode(), str(q.predicate).encode(), str(q.object).encode(), g

    def nquads(self, graphs: set[str]) -> Iterator[str | bytes] | None:
        """Sorted N-Quads of `graphs` in pieces, if the source has them ready (else None)."""
        return None


def _graph_token(key: str) -> str:
    if key == DEFAULT_GRAPH:
        return ""
    return f" {key}" if key.startswith("_:") else f" <{key}>"


class _QuadSource(_Source):
    """Any quads, in any order (kept in memory and sorted)."""

    def __init__(self, quads: Iterable[Quad]):
        self._quads = list(quads)
        self.graphs = sorted({_graph_key(q) for q in self._quads})

    def tuples(self) -> Iterator[tuple[str, str, str, str]]:
        rows = {}
        for q in self._quads:
            g = _graph_key(q)
            row = (str(q.subject), str(q.predicate), str(q.object), g)
            rows[f"{row[0]} {row[1]} {row[2]}{_graph_token(g)} ."] = row
        for line in sorted(rows):
            yield rows[line]

    def quads(self) -> Iterator[Quad]:
        yield from sorted(set(self._quads), key=lambda q: str(q.subject))

    def line_pieces(self) -> Iterator[bytes]:
        lines = {f"{q.subject} {q.predicate} {q.object}{_graph_token(_graph_key(q))} .\n"
                 for q in self._quads}  # fmt: skip
        yield "".join(sorted(lines)).encode("utf-8")


_CHUNK = 1 << 23  # bytes of N-Quads decoded at a time


class BuildNQuads(_Source):
    """The build's N-Quads: canonical (written by pyoxigraph), sorted by line and checked
    against the manifest, which also lists the graphs they hold (every quad is in a named
    graph). Read piece by piece, never parsed whole into terms."""

    def __init__(self, data: bytes, graphs: Iterable[str]):
        self.data = data
        self.graphs = sorted(graphs)
        self._known = set(self.graphs)

    def line_pieces(self) -> Iterator[bytes]:
        """The N-Quads a few megabytes at a time, each piece ending with a line."""
        data, start, n = self.data, 0, len(self.data)
        while start < n:
            end = data.find(b"\n", min(start + _CHUNK, n) - 1)
            end = n if end < 0 else end + 1
            yield data[start:end]
            start = end

    def pieces(self) -> Iterator[str]:
        """The N-Quads decoded a few megabytes at a time, each piece ending with a line."""
        for piece in self.line_pieces():
            yield piece.decode("utf-8")

    def tuples(self) -> Iterator[tuple[str, str, str, str]]:
        known = self._known
        parsed = self._parsed
        for text in self.pieces():
            lines = text.split("\n")
            if lines[-1] == "":
                lines.pop()
            for line in lines:
                # `<s> <p> o <g> .`: the graph is the last IRI, the object what lies between.
                try:
                    s, p, rest = line.split(" ", 2)
                except ValueError:
                    yield parsed(line)
                    continue
                o, _, g = rest.rpartition(" <")
                g = g[:-3]
                if not o or g not in known:
                    yield parsed(line)
                    continue
                yield s, p, o, g

    def _parsed(self, line: str) -> tuple[str, str, str, str]:
        """A line the quick split cannot take, read by the N-Quads parser."""
        s, p, o, g = self.parse_line(line.encode("utf-8"))
        return s.decode(), p.decode(), o.decode(), g

    def quads(self) -> Iterator[Quad]:
        return parse(self.data, format=RdfFormat.N_QUADS, lenient=True)

    def nquads(self, graphs: set[str]) -> Iterator[str | bytes] | None:
        if graphs != self._known:
            return None
        view = memoryview(self.data)
        return (view[i : i + _CHUNK] for i in range(0, len(view), _CHUNK))


class _Sink:
    """Text written in pieces, passed on UTF-8-encoded in blocks of about a megabyte."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.size = 0
        self._parts: list[str] = []
        self._pending = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._pending += len(text)
        if self._pending > 1 << 20:
            self.flush()

    def write_bytes(self, data) -> None:
        self.flush()
        _write_all(self.out, data)
        self.size += len(data)

    def flush(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8")
            self._parts, self._pending = [], 0
            _write_all(self.out, data)
            self.size += len(data)


# --------------------------------------------------------------------------------------------
# N-Quads and N-Triples
# --------------------------------------------------------------------------------------------


def _write_nquads(source: _Source, selected: Sequence[str], sink: _Sink) -> None:
    chosen = set(selected)
    ready = source.nquads(chosen)
    if ready is not None:
        for piece in ready:
            sink.write_bytes(piece)
        return
    write = sink.write
    for s, p, o, g in source.tuples():
        if g in chosen:
            write(f"{s} {p} {o}{_graph_token(g)} .\n")


def _write_ntriples(source: _Source, selected: Sequence[str], header, sink: _Sink) -> None:
    sink.write("".join(f"# {line}\n" if line else "#\n" for line in header))
    chosen = set(selected)
    write = sink.write
    current, lines = None, set()
    for s, p, o, g in source.tuples():
        if g not in chosen:
            continue
        if s != current:  # a subject's triples, sorted: so are the lines of all of them
            if lines:
                write("".join(sorted(lines)))
            current, lines = s, set()
        lines.add(f"{s} {p} {o} .\n")
    if lines:
        write("".join(sorted(lines)))


# --------------------------------------------------------------------------------------------
# Turtle and TriG
# --------------------------------------------------------------------------------------------

# A local name that needs no escaping in Turtle (a safe subset of PN_LOCAL).
_PN_LOCAL = re.compile(rb"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?")
# Turtle's string escapes. pyoxigraph's N-Triples uses exactly these but for U+FFFE and U+FFFF,
# which it escapes too (a test checks), so the Turtle writer copies quoted strings from the
# build's lines as they are, unless one holds `\uFFFE` or `\uFFFF`.
_TTL_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r",
                ord("\t"): "\\t", ord("\b"): "\\b", ord("\f"): "\\f"}  # fmt: skip
_TTL_ESCAPES.update({c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F] if c not in _TTL_ESCAPES})
# Typed literals Turtle writes bare, by datatype (N-Triples bytes -> lexical form pattern).
_BARE = {
    _XSD_INTEGER.encode(): re.compile(rb"[+-]?[0-9]+"),
    _XSD_DECIMAL.encode(): re.compile(rb"[+-]?[0-9]*\.[0-9]+"),
    _XSD_BOOLEAN.encode(): re.compile(rb"true|false"),
}
_BARE_TEXT = {dt.decode(): pattern for dt, pattern in _BARE.items()}


# Every prefix ends in one of these characters, so the prefixes of an IRI are those of its
# part up to the last of them.
_PREFIX_PART = re.compile(
    f"(?s).*[{re.escape(''.join(sorted({base[-1] for _, base in PREFIXES})))}]".encode()
)


class _TurtleTerms:
    """Writes IRIs (UTF-8) in Turtle, prefixed where a known prefix fits; remembers the
    prefixes used."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self._cache: dict[bytes, bytes] = {}  # IRI -> its written form
        self._by_part: dict[bytes, list[tuple[str, bytes]]] = {}
        self._prefixes = [(p, base.encode()) for p, base in PREFIXES]

    def iri(self, iri: bytes) -> bytes:
        text = self._cache.get(iri)
        if text is None:
            best: tuple[str, bytes] | None = None
            m = _PREFIX_PART.match(iri)
            if m is not None:
                part = m.group()
                fitting = self._by_part.get(part)
                if fitting is None:  # the prefixes of the IRI, longest first
                    fitting = [(p, base) for p, base in self._prefixes if part.startswith(base)]
                    fitting.sort(key=lambda pb: -len(pb[1]))
                    self._by_part[part] = fitting
                for prefix, base in fitting:
                    if _PN_LOCAL.fullmatch(iri, len(base)):
                        best = (prefix, base)
                        break
            if best:
                text = best[0].encode() + b":" + iri[len(best[1]) :]
                self.used.add(best[0])  # every form asked for is written
            else:
                text = b"<" + iri + b">"
            self._cache[iri] = text
        return text

    def iri_text(self, iri: str) -> str:
        return self.iri(iri.encode()).decode()


def _parse_term(text: str):
    """The term whose N-Triples form is `text`."""
    (triple,) = parse(f"<x:s> <x:p> {text} .".encode(), format=RdfFormat.N_TRIPLES)
    return triple.object


def _turtle_literal(term: Literal, iri: Callable[[str], str]) -> str:
    """A literal in Turtle, from the term (the writer works on N-Triples text, except for
    the few literals whose N-Triples escapes Turtle's table does not make)."""
    if getattr(term, "direction", None) is not None:
        return str(term)  # RDF 1.2 directional string: N-Triples form is valid Turtle
    dt = term.datatype.value
    if term.language:
        return f'"{term.value.translate(_TTL_ESCAPES)}"@{term.language}'
    bare = _BARE_TEXT.get(dt)
    if bare is not None and bare.fullmatch(term.value.encode()):
        return term.value
    quoted = f'"{term.value.translate(_TTL_ESCAPES)}"'
    return quoted if dt == _XSD_STRING else f"{quoted}^^{iri(dt)}"


def _sort_key(term) -> str:
    return str(term)


_QUOTE, _LT, _AT = ord('"'), ord("<"), ord("@")
_XSD_STRING_BYTES = _XSD_STRING.encode()
_BLOCKS_AT_ONCE = 4096  # subject blocks joined into one write
# What comes between a subject's predicates, and between a predicate's objects.
_TTL_SEPARATORS = b" ;\n    ", b" ,\n        "
_TRIG_SEPARATORS = b" ;\n        ", b" ,\n            "  # in a TriG graph


class _TurtleWriter:
    """Subject blocks `s a T ;\n    p o1 ,\n        o2 .`, sorted by their written form:
    rdf:type first, rdfs:label second, then the other predicates; objects sorted, each once.
    TriG writes a block per graph of a subject, in its graph. The blocks are kept (about the
    size of the output) until the end: their order is that of their written form, and the
    prefixes declared at the top are those the blocks use.

    It works on the source's N-Quads lines as UTF-8 bytes, never decoded: a term's
    N-Triples form is its Turtle form but for IRIs (prefixed where they can be) and a few
    typed literals (written bare), and byte order is code point order, so sorting the bytes
    sorts the text."""

    def __init__(self, source: _Source, selected: Sequence[str], *, trig: bool) -> None:
        self.source, self.trig = source, trig
        self.chosen = set(selected)
        self.terms = _TurtleTerms()
        self.written: dict[bytes, bytes] = {}  # N-Triples form -> Turtle form
        self.verbs: dict[bytes, tuple] = {}  # predicate -> (sort key, written form)
        self.blocks: dict[str, list[bytes]] = {g: [] for g in (selected if trig else [""])}
        # The graph of a line is read off its end (`… <g> .`): its key if chosen, else None.
        self.tails: dict[bytes, str | None] = {
            f"{g}> .".encode(): (g if g in self.chosen else None)
            for g in source.graphs
            if g != DEFAULT_GRAPH and not g.startswith("_:")
        }

    def term(self, text: bytes) -> bytes:
        """The Turtle form of the term whose N-Triples form is `text` (remembered)."""
        first = text[0]
        if first == _QUOTE:
            if b"\\uFFF" in text:  # U+FFFE, U+FFFF: escaped in N-Triples, not by Turtle's table
                literal = _turtle_literal(_parse_term(text.decode()), self.terms.iri_text)
                found = self.written[text] = literal.encode()
                return found
            end = text.rindex(b'"')
            if end == len(text) - 1 or text[end + 1] == _AT:
                self.written[text] = text  # a plain or language-tagged string: Turtle's
                return text  # escapes are N-Triples' own (but for the two above)
            lexical, datatype = text[1:end], text[end + 4 : -1]
            pattern = _BARE.get(datatype)
            if pattern is not None and pattern.fullmatch(lexical):
                found = lexical
            elif datatype == _XSD_STRING_BYTES:
                found = text[: end + 1]
            else:
                found = text[: end + 1] + b"^^" + self.terms.iri(datatype)
        elif first == _LT and text[1] != _LT:
            found = self.terms.iri(text[1:-1])
        else:
            found = text  # a blank node, a triple term (RDF 1.2): N-Triples is Turtle
        self.written[text] = found
        return found

    def verb(self, p: bytes) -> None:
        """Remember how predicate `p` is written and where it sorts."""
        if p not in self.verbs:
            rdf_type = p == _TYPE_TEXT
            written = b"a" if rdf_type else self.terms.iri(p[1:-1])
            self.verbs[p] = ((not rdf_type, p != _LABEL_TEXT, written), written)

    def finish(self, subject: bytes, g: str, preds: dict[bytes, list[bytes]]) -> None:
        """The block of `subject` in graph `g`: its predicates and their objects."""
        subject_text = self.written.get(subject) or self.term(subject)
        indent = b"    " if self.trig and g else b""
        lead, sep = _TRIG_SEPARATORS if indent else _TTL_SEPARATORS
        verbs = self.verbs
        order = sorted(preds, key=lambda p: verbs[p][0]) if len(preds) > 1 else preds
        parts = []
        for p in order:
            objs = preds[p]
            if len(objs) > 1:  # (merged: a triple once per graph that holds it)
                objs = sorted(set(objs))
            parts.append(verbs[p][1] + b" " + sep.join(objs))
        self.blocks[g].append(indent + subject_text + b" " + lead.join(parts) + b" .")

    def read_merged(self) -> None:
        """The chosen graphs as one (Turtle): a triple in several graphs is written once.
        Lines come sorted, so a subject's lines are together and within them a
        predicate's."""
        written, term, verb, finish = self.written, self.term, self.verb, self.finish
        tail_of, parse_line, chosen = self.tails.get, self.source.parse_line, self.chosen
        unknown = _UNKNOWN_GRAPH
        current, preds, objs, current_p = None, {}, [], None
        for piece in self.source.line_pieces():
            lines = piece.split(b"\n")
            lines.pop()  # a piece ends with a line
            for line in lines:
                try:
                    s, p, rest = line.split(b" ", 2)
                    o, _, tail = rest.rpartition(b" <")
                    g = tail_of(tail, unknown)
                except ValueError:
                    g = unknown
                if g is None:
                    continue  # a graph not chosen
                if g is unknown:  # not `<iri> .` at the end: the parser reads the line
                    s, p, o, g = parse_line(line)
                    if g not in chosen:
                        continue
                if s != current:
                    if preds:
                        finish(current, "", preds)
                    current, preds, current_p = s, {}, None
                if p != current_p:
                    current_p = p
                    objs = preds.get(p)
                    if objs is None:
                        objs = preds[p] = []
                        verb(p)
                objs.append(written.get(o) or term(o))
        if preds:
            finish(current, "", preds)

    def read_by_graph(self) -> None:
        """The chosen graphs each apart (TriG). It reads a line as read_merged does, inline in
        both: a generator between the reading and the grouping cost 0.25 s at 1M triples."""
        written, term, verb, finish = self.written, self.term, self.verb, self.finish
        tail_of, parse_line, chosen = self.tails.get, self.source.parse_line, self.chosen
        unknown = _UNKNOWN_GRAPH
        current, by_graph = None, {}
        for piece in self.source.line_pieces():
            lines = piece.split(b"\n")
            lines.pop()
            for line in lines:
                try:
                    s, p, rest = line.split(b" ", 2)
                    o, _, tail = rest.rpartition(b" <")
                    g = tail_of(tail, unknown)
                except ValueError:
                    g = unknown
                if g is None:
                    continue
                if g is unknown:
                    s, p, o, g = parse_line(line)
                    if g not in chosen:
                        continue
                if s != current:
                    for graph, preds in by_graph.items():
                        finish(current, graph, preds)
                    current, by_graph = s, {}
                preds = by_graph.get(g)
                if preds is None:
                    preds = by_graph[g] = {}
                w = written.get(o) or term(o)
                objs = preds.get(p)
                if objs is None:
                    preds[p] = [w]
                    verb(p)
                else:
                    objs.append(w)
        for graph, preds in by_graph.items():
            finish(current, graph, preds)

    def write(self, header: list[str], sink: _Sink) -> None:
        trig, blocks, terms = self.trig, self.blocks, self.terms
        names = {g: g if g.startswith("_:") else terms.iri_text(g) for g in blocks if trig and g}
        out = "".join(f"# {line}\n" if line else "#\n" for line in header)
        declared = [f"@prefix {p}: <{base}> ." for p, base in PREFIXES if p in terms.used]
        if declared:
            out += ("\n" if header else "") + "\n".join(declared) + "\n"
        write, write_bytes = sink.write, sink.write_bytes
        write(out)
        first = True
        for g in sorted(blocks):
            graph_blocks = blocks.pop(g)
            if not graph_blocks and not (trig and g):
                continue
            graph_blocks.sort()  # by subject: a block is its subject, a space, the rest
            write(("\n" if out else "") if first else "\n\n")
            first = False
            if trig and g:
                write(f"{names[g]} {{\n")
            for i in range(0, len(graph_blocks), _BLOCKS_AT_ONCE):
                if i:
                    write("\n\n")
                write_bytes(b"\n\n".join(graph_blocks[i : i + _BLOCKS_AT_ONCE]))
            if trig and g:
                write("\n}" if graph_blocks else "}")
        if not first:
            write("\n")


_UNKNOWN_GRAPH = object()  # a line whose end is not that of a known graph
_TYPE_TEXT = f"<{_RDF_TYPE.value}>".encode()
_LABEL_TEXT = f"<{_RDFS_LABEL.value}>".encode()


def _write_turtle(
    source: _Source, selected: Sequence[str], header: list[str], sink: _Sink, *, trig: bool
) -> None:
    writer = _TurtleWriter(source, selected, trig=trig)
    if trig:
        writer.read_by_graph()
    else:
        writer.read_merged()
    writer.write(header, sink)


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


def _write_rdfxml(source: _Source, selected: Sequence[str], header: list[str], sink: _Sink) -> None:
    """One rdf:Description per subject, sorted; rdf:type first, then the triples sorted.
    The namespaces are declared at the top, so a first pass (over the N-Triples text) finds
    the predicates; the second writes each subject as soon as its quads are read."""
    chosen = set(selected)
    predicates = sorted({p[1:-1] for _, p, _, g in source.tuples() if g in chosen})
    known = {base: prefix for prefix, base in PREFIXES}
    qnames: dict[str, tuple[str, str]] = {}  # predicate IRI -> (namespace, local name)
    for p in predicates:
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
    tags = {p: f"{namespaces[base]}:{local}" for p, (base, local) in qnames.items()}

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
    sink.write("\n".join(out) + "\n")

    def description(subject, triples: set) -> str:
        if isinstance(subject, BlankNode):
            lines = [f'  <rdf:Description rdf:nodeID="{node_id(subject)}">']
        else:
            lines = [f'  <rdf:Description rdf:about="{_xml_text(subject.value, _XML_ATTR)}">']
        for t in sorted(triples, key=lambda t: (t.predicate != _RDF_TYPE, str(t))):
            tag = tags[t.predicate.value]
            o = t.object
            if isinstance(o, NamedNode):
                lines.append(f'    <{tag} rdf:resource="{_xml_text(o.value, _XML_ATTR)}"/>')
            elif isinstance(o, BlankNode):
                lines.append(f'    <{tag} rdf:nodeID="{node_id(o)}"/>')
            elif isinstance(o, Literal):
                if o.language:
                    attr = f' xml:lang="{o.language}"'
                elif o.datatype.value != _XSD_STRING:
                    attr = f' rdf:datatype="{_xml_text(o.datatype.value, _XML_ATTR)}"'
                else:
                    attr = ""
                lines.append(f"    <{tag}{attr}>{_xml_text(o.value, _XML_TEXT)}</{tag}>")
            else:
                raise KgExportError(f"RDF/XML cannot write the term {o}")
        lines.append("  </rdf:Description>\n")
        return "\n".join(lines)

    current, triples = None, set()
    for subject, q in _by_subject(source.quads(), chosen):
        if subject is not current:
            if triples:
                sink.write(description(current, triples))
            current, triples = subject, set()
        triples.add(q.triple)
    if triples:
        sink.write(description(current, triples))
    sink.write("</rdf:RDF>\n")


def _by_subject(quads: Iterable[Quad], chosen: set[str]) -> Iterator[tuple[object, Quad]]:
    """(subject, quad) for the quads of the chosen graphs; the subject is the same object
    for all the quads of a subject in a row, so `is` tells where the next one begins."""
    subject = last_graph = None
    keep = False
    for q in quads:
        g = q.graph_name
        if g != last_graph:
            last_graph = g
            keep = _graph_key(q) in chosen
        if not keep:
            continue
        s = q.subject
        if s != subject:
            subject = s
        yield subject, q


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
        # predicate -> ([(term name, _Term)], fallback key, {node: (key, container, value)})
        self._pred_info: dict = {}
        self._pred_text: dict = {}  # predicate -> str(predicate), its sort key
        self._text_info: dict = {}  # as _pred_info, for text_node(), by predicate text
        self._text_ids: dict[str, str] = {}  # N-Triples text -> node_id()
        self._set_terms = {name for name, t in self.terms.items() if t.container == "@set"}

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
        if found is None and not vocab:
            found = self._quick_id(iri)
            if found is not None:
                cache[iri] = found
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

    def _quick_id(self, iri: str) -> str | None:
        """`compact(iri, vocab=False)` when its first candidate, the longest prefix, is
        plainly safe (what `expand` would check, without making every candidate)."""
        m = self._ns_part.match(iri) if self._ns_part is not None else None
        if m is None:
            return None
        hits = self._prefix_hits.get(m.group())
        if not hits:
            return None  # (unknown part or no prefix: the general path)
        n, prefix = hits[0]
        suffix = iri[n:]
        if ":" in prefix or prefix in ("_", "") or prefix[0] == "@" or suffix[:2] == "//":
            return None
        found = f"{prefix}:{suffix}"
        return None if found in self._keywords else found

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
        if isinstance(value, Literal):
            return _fits_literal(term, value.datatype.value, value.language)
        if term.container == "@language":
            return 0
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
        return _literal_value(obj.value, obj.datatype.value, obj.language, typ, self.compact)

    def text_node(self, subject: str, props: dict[str, list[str]]) -> dict:
        """`node()` of a subject and its objects in N-Triples text, for the compact form:
        `props` maps each predicate's text to its objects' texts, both in sorted order (as
        sorted N-Quads lines give them: a term's text never continues with the space that
        ends it in the line, so line order is term order). The same dict as `node()` on the
        terms. Which term takes a value depends only on the predicate and, for a
        literal, on its datatype and language (its text after the closing quote): chosen
        once per predicate and such suffix. A node's or class's value is made once per
        predicate; a literal's text is read only as far as its value needs."""
        out: dict = {self.alias["@id"]: self._text_id(subject)}
        keyed: dict[str, list] = {}  # key -> json values
        langmaps: dict[str, dict[str, list]] = {}
        types: list[str] = []
        infos = self._text_info
        compact = self.compact
        for p, objs in props.items():  # in the order node() sorts them (see the docstring)
            if p == _RDF_TYPE_TEXT:
                types += [o for o in objs if o[0] != '"']
                objs = [o for o in objs if o[0] == '"']
                if not objs:
                    continue
            info = infos.get(p)
            if info is None:
                info = infos[p] = self._text_plan(p)
            terms, fallback, for_nodes, for_literals, done = info
            for o in objs:
                if o[0] != '"':
                    hit = done.get(o)  # a node or class seen with this predicate before
                    if hit is None:
                        hit = done[o] = (for_nodes[0], self._text_value(o, for_nodes[1]))
                    name, value = hit  # the value is only ever read
                else:
                    end = o.rfind('"')
                    suffix = o[end + 1 :]
                    plan = for_literals.get(suffix)
                    if plan is None:
                        lex, dt, lang = _literal_parts(o)
                        plan = _literal_plan(terms, fallback, dt, lang)
                        if "--" not in suffix:  # (a direction: not cached by suffix)
                            for_literals[suffix] = plan
                    name, container, typ, dt, lang = plan
                    lex = o[1:end]
                    if "\\" in lex:
                        lex = _parse_term(o).value
                    if container == "@language":
                        langmap = langmaps.get(name)
                        if langmap is None:
                            langmap = langmaps[name] = {}
                        langmap.setdefault(lang, []).append(lex)
                        continue
                    if typ is None and dt == _XSD_STRING:
                        value = lex
                    else:
                        value = _literal_value(lex, dt, lang, typ, compact)
                vals = keyed.get(name)
                if vals is None:
                    keyed[name] = [value]
                else:
                    vals.append(value)
        if types:
            values = [self._text_value(t, "@vocab") for t in types]
            if len(values) > 1:
                values.sort(key=_json_key)
            out[self.alias["@type"]] = values[0] if len(values) == 1 else values
        names = [*keyed, *langmaps] if langmaps else list(keyed)
        if len(names) > 1:
            names.sort(key=self._name_order)  # (a key is a term or a fallback, never both)
        _put_values(out, names, keyed, langmaps, self._set_terms)
        return out

    def _text_plan(self, predicate: str) -> tuple:
        """For `text_node()`: the predicate's terms, the (key, type) its nodes
        take (the term that fits best, as `node()` chooses), and empty caches for the plans
        of its literals (by suffix) and for the values of its nodes (by text)."""
        names, fallback = self.key_candidates(predicate[1:-1])
        terms = [(t, self.terms[t]) for t in names]
        best, name, term = 0, fallback, None
        for t, definition in terms:
            if definition.container == "@language":
                continue  # holds literals only
            fit = 2 if definition.type in ("@id", "@vocab") else 1
            if fit > best:
                best, name, term = fit, t, definition
        for_nodes = (name, term.type if term else None)
        return terms, fallback, for_nodes, {}, {}

    def _text_id(self, node: str) -> str:
        """`node_id()` of an IRI or blank node given in N-Triples text."""
        found = self._text_ids.get(node)
        if found is None:
            found = node if node[0] == "_" else self.compact(node[1:-1], vocab=False)
            self._text_ids[node] = found
        return found

    def _name_order(self, name: str) -> tuple[bool, str]:
        """The order of a node's keys: rdfs:label's first, then by name."""
        return name not in self._label_first, name

    def _text_value(self, node: str, typ: str | None) -> object:
        """`value()` of an IRI or blank node given in N-Triples text."""
        if typ == "@id":
            return self._text_id(node)
        if typ == "@vocab":
            return node if node[0] == "_" else self.compact(node[1:-1], vocab=True)
        return {self.alias["@id"]: self._text_id(node)}

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
                info = pred_info[p] = ([(t, self.terms[t]) for t in terms], fallback, {})
            terms, fallback, done = info
            for o in objs:
                if ref is None:
                    hit = done.get(o)  # a node or class seen with this predicate before
                    if hit is not None:
                        name, containers[name], value = hit
                        vals = keyed.get(name)
                        if vals is None:
                            keyed[name] = [value]
                        else:
                            vals.append(value)
                        continue
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
                value = self.value(o, term, embedded)
                if ref is None and not isinstance(o, Literal):  # (literals are mostly unique)
                    done[o] = (name, containers[name], value)  # the value is only ever read
                vals = keyed.get(name)
                if vals is None:
                    keyed[name] = [value]
                else:
                    vals.append(value)
        if types:
            values = [self.value(t, _VOCAB_TERM) for t in types]
            if len(values) > 1:
                values.sort(key=_json_key)
            out[self.alias["@type"]] = values[0] if len(values) == 1 else values
        names = [*keyed, *langmaps] if langmaps else list(keyed)
        if len(names) > 1:
            label_first = self._label_first
            names = sorted(set(names), key=lambda k: (k not in label_first, k))
        sets = {name for name, container in containers.items() if container == "@set"}
        _put_values(out, names, keyed, langmaps, sets)
        return out

    def _pred_sort_key(self, predicate) -> str:
        text = self._pred_text.get(predicate)
        if text is None:
            text = self._pred_text[predicate] = str(predicate)
        return text

    # Documents --------------------------------------------------------------------------------

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


def _fits_literal(term: _Term, dt: str, lang: str | None) -> int:
    """`JsonLdContext._fits` for a literal of datatype `dt` and language `lang`."""
    if term.container == "@language":
        return 2 if lang else 0
    if term.type is None:
        return 2
    return 2 if not lang and dt == term.type else 1


def _literal_plan(terms: list, fallback: str, dt: str, lang: str | None) -> tuple:
    """(key, container, type, datatype, language) of a literal among a predicate's terms
    (the first that fits best, as `JsonLdContext.node()` chooses)."""
    best, found = 0, None
    for t, definition in terms:
        fit = _fits_literal(definition, dt, lang)
        if fit > best:
            best, found = fit, (t, definition)
    if found is None:
        return fallback, None, None, dt, lang
    return found[0], found[1].container, found[1].type, dt, lang


def _literal_value(
    lex: str, dt: str, lang: str | None, typ: str | None, compact: Callable
) -> object:
    """A literal's JSON-LD value under a term of type `typ` (None: no coercion)."""
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
    return {"@value": lex, "@type": compact(dt, vocab=True)}


# Links whose targets the framed form nests inside the node that points to them.
_NESTED = (
    ns.KG + "hasParticipation",
    ns.KG + "hasEvidence",
    ns.OA + "hasTarget",
    ns.OA + "hasSelector",
)


_RDF_TYPE_TEXT = f"<{_RDF_TYPE.value}>"


def _literal_parts(text: str) -> tuple[str, str, str | None]:
    """Lexical form, datatype IRI and language of a literal in N-Triples text."""
    end = text.rfind('"')
    lex, suffix = text[1:end], text[end + 1 :]
    if "\\" in lex or "--" in suffix:  # escapes or a direction: the parser reads it
        term = _parse_term(text)
        return term.value, term.datatype.value, term.language
    if not suffix:
        return lex, _XSD_STRING, None
    if suffix[0] == "@":
        return lex, _RDF_LANG_STRING, suffix[1:]
    return lex, suffix[3:-1], None


def _json_key(value: object) -> str:
    """`json.dumps(value, ensure_ascii=False)` for sorting, but a string is itself."""
    if isinstance(value, str):
        return value
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
        return "{" + ", ".join(f"{_encode(k)}: {_encode(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def _put_values(out: dict, names: list, keyed: dict, langmaps: dict, sets) -> None:
    """A node's values under their keys, in `names` order: a language map per language-keyed
    name; one value bare unless its term is an @set container; several sorted."""
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
            out[name] = vals[0] if len(vals) == 1 and name not in sets else vals


def _dumps(doc: object, indent: str = "") -> str:
    """`json.dumps(doc, ensure_ascii=False, indent=2)`, faster: the standard library writes
    indented JSON in pure Python, one generator per container. `indent` is where `doc`
    stands in an enclosing document: its lines after the first are indented by it."""
    parts: list[str] = []
    try:
        _dump(doc, indent, parts.append)
    except _NotPlain:
        return json.dumps(doc, ensure_ascii=False, indent=2).replace("\n", "\n" + indent)
    return "".join(parts)


def _dump(value: object, indent: str, append: Callable[[str], None]) -> None:
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
            if type(v) is str:  # most values: no call
                append(f"{sep}{_encode(k)}: {_encode(v)}")
            else:
                append(f"{sep}{_encode(k)}: ")
                _dump(v, inner, append)
            sep = ",\n" + inner
        append("\n" + indent + "}")
    elif kind is list or kind is tuple:
        if not value:
            append("[]")
            return
        inner = indent + "  "
        sep = "[\n" + inner
        for v in value:
            if type(v) is str:
                append(sep + _encode(v))
            else:
                append(sep)
                _dump(v, inner, append)
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


def _node_text(node: dict, indent: str) -> str:
    """`_dumps(node, indent)` of a node object (string keys, never empty), its string values
    written in place."""
    inner = indent + "  "
    parts = [
        f"{_encode(k)}: {_encode(v)}" if type(v) is str else f"{_encode(k)}: {_dumps(v, inner)}"
        for k, v in node.items()
    ]
    return "{\n" + inner + (",\n" + inner).join(parts) + "\n" + indent + "}"


class _NotPlain(Exception):
    """A value `_dumps` leaves to `json.dumps`."""


def _write_jsonld(source: _Source, selected: Sequence[str], ctx: JsonLdContext, sink: _Sink):
    """The compact form: every graph a graph object, each node once, references by id;
    nodes sorted by subject. A node is written to text as soon as its subject's quads are
    read; the texts wait (about the size of the output) because the document lists graph
    by graph and the build sorts by subject."""
    chosen = set(selected)
    nodes: dict[str, list[str]] = {g: [] for g in selected}
    names = {  # before the first byte: a name the context cannot write is an error
        g: ctx.node_id(BlankNode(g[2:]) if g.startswith("_:") else NamedNode(g))
        for g in selected
        if g != DEFAULT_GRAPH
    }
    node = ctx.text_node

    def finish(subject: str, by_graph: dict) -> None:
        for g, props in by_graph.items():
            nodes[g].append(_node_text(node(subject, props), "        " if g else "    "))

    # The N-Triples text of the terms is all a node needs (no terms are made): the tuples
    # come in sorted line order, each subject's together, each distinct.
    current, by_graph = None, {}
    for s, p, o, g in source.tuples():
        if g not in chosen:
            continue
        if s != current:
            if by_graph:
                finish(current, by_graph)
            current, by_graph = s, {}
        props = by_graph.get(g)
        if props is None:
            props = by_graph[g] = {}
        objs = props.get(p)
        if objs is None:
            props[p] = [o]
        else:
            objs.append(o)
    if by_graph:
        finish(current, by_graph)

    write = sink.write
    write(f'{{\n  "@context": {_dumps(ctx.raw, "  ")},\n  "@graph": ')
    top = nodes.pop(DEFAULT_GRAPH, [])
    if not top and not nodes:
        write("[]\n}\n")
        return
    write("[\n    ")
    write(",\n    ".join(top))
    sep = ",\n    " if top else ""
    id_key = _encode(ctx.alias["@id"])
    for g in sorted(nodes):
        graph_nodes = nodes.pop(g)
        write(f'{sep}{{\n      {id_key}: {_encode(names[g])},\n      "@graph": ')
        if graph_nodes:
            write("[\n        ")
            write(",\n        ".join(graph_nodes))
            write("\n      ]\n    }")
        else:
            write("[]\n    }")
        sep = ",\n    "
    write("\n  ]\n}\n")


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


def _write_all(fh, data) -> None:
    """Write `data` in pieces (a test replaces this to fail midway)."""
    view = memoryview(data)
    for start in range(0, len(view), 1 << 16):
        fh.write(view[start : start + (1 << 16)])


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write `path` through: a temporary file in the target folder, moved
    over `path` with os.replace once the block ends without error. The old file stays whole
    until the new one is complete, and nothing is left behind on failure."""
    target = check_output(path)
    if _is_stream(target):  # a pipe or device is written into as the export is made
        try:
            with open(target, "wb") as fh:
                yield fh
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
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            fh = os.fdopen(fd, "wb")
        except OSError as e:
            raise KgExportError(f"cannot write {target}: {e.strerror or e}") from None
        with fh:
            try:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as e:
                raise KgExportError(f"cannot write {target}: {e.strerror or e}") from None
        try:
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as e:
            raise KgExportError(f"cannot write {target}: {e.strerror or e}") from None
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path) as fh:
        _write_all(fh, data)


def export_project(
    project: Project,
    *,
    format: str | None = None,
    graphs: Sequence[str] | None = None,
    inferred: bool | None = None,
    frame: str | None = None,
    output: str | None = None,
    stream: BinaryIO | None = None,
    notify: Callable[[str], None] | None = None,
) -> Export:
    """Export the project's current build, written as it is made: to `output` (atomically),
    or if that is None or "-", to the binary `stream` (standard output, say); with neither,
    the document is returned in `Export.data`."""
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
    source = BuildNQuads(result.dataset, result.manifest["graphs"])
    options = {"format": fmt, "graphs": graphs, "inferred": inferred, "frame": frame}
    if to_file:
        with atomic_output(output) as fh:
            done = write_export(source, fh, context=context, **options)
    elif stream is not None:
        done = write_export(source, stream, context=context, **options)
        stream.flush()
    else:
        buffer = io.BytesIO()
        done = replace(write_export(source, buffer, context=context, **options),
                       data=buffer.getvalue())  # fmt: skip
    if notify is not None and done.note:
        notify(f"note: {done.note}")
    return done
