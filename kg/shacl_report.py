"""`kg shacl`: validate any data files against any shapes files, as pySHACL's command does,
and write the SHACL validation report (a sh:ValidationReport graph).

The same decision as the build (kg.validate.check): kg's own engine when the shapes are within
its allow-list, pySHACL otherwise. Unlike the build, the report follows the specification:
sh:conforms is false as soon as there is any result, whatever its severity (SHACL 3.6.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse, serialize

from kg import namespaces as ns
from kg.errors import KgInputError

SH = ns.SH
_RDF_TYPE = NamedNode(ns.RDF + "type")
_XSD_BOOLEAN = NamedNode(ns.XSD + "boolean")
# Formats `--format` accepts (the names and aliases of `kg export`), as pyoxigraph writes them.
_OUTPUT = {
    "turtle": RdfFormat.TURTLE,
    "trig": RdfFormat.TRIG,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
}
_PREFIXES = {"sh": SH, "rdf": ns.RDF, "rdfs": ns.RDFS, "xsd": ns.XSD}


def _sh(name: str) -> NamedNode:
    return NamedNode(SH + name)


@dataclass(frozen=True)
class ReportResult:
    """One sh:ValidationResult, as RDF terms."""

    severity: NamedNode
    focus: object
    path: object | None  # a NamedNode, or the blank node of a complex path (see path_triples)
    value: object | None
    shape: object
    component: NamedNode
    constraint: object | None = None
    messages: tuple[Literal, ...] = ()

    def sort_key(self) -> tuple:
        parts = (self.focus, self.shape, self.component, self.path, self.value, self.severity)
        return tuple(str(x) for x in (*parts, self.constraint, self.messages))


@dataclass
class ShaclReport:
    results: list[ReportResult]
    engine: str  # "kg" or "pyshacl"
    handed_over: str | None = None  # why kg's engine declined the shapes
    path_triples: list[Triple] = field(default_factory=list)  # structure of complex paths

    @property
    def conforms(self) -> bool:
        return not self.results

    def triples(self) -> list[Triple]:
        """The sh:ValidationReport graph (blank nodes numbered in a stable order)."""
        report = BlankNode("report")
        conforms = Literal(str(self.conforms).lower(), datatype=_XSD_BOOLEAN)
        head = [
            Triple(report, _RDF_TYPE, _sh("ValidationReport")),
            Triple(report, _sh("conforms"), conforms),
        ]
        out: list[Triple] = []
        for i, r in enumerate(sorted(self.results, key=ReportResult.sort_key)):
            node = BlankNode(f"result{i + 1}")
            head.append(Triple(report, _sh("result"), node))
            out.append(Triple(node, _RDF_TYPE, _sh("ValidationResult")))
            fields = (
                ("resultSeverity", r.severity),
                ("focusNode", r.focus),
                ("resultPath", r.path),
                ("value", r.value),
                ("sourceShape", r.shape),
                ("sourceConstraintComponent", r.component),
                ("sourceConstraint", r.constraint),
            )
            out += [Triple(node, _sh(k), v) for k, v in fields if v is not None]
            out += [Triple(node, _sh("resultMessage"), m) for m in r.messages]
        return head + out + list(self.path_triples)

    def serialize(self, fmt: str = "turtle") -> bytes:
        """The report in `fmt`; blank nodes canonically labelled (RDFC-1.0), so that the same
        inputs give the same bytes (shapes written with [ ] get random labels when parsed)."""
        from pyoxigraph import CanonicalizationAlgorithm, Dataset, Quad

        rdf_format = _OUTPUT[fmt]
        dataset = Dataset(Quad(t.subject, t.predicate, t.object) for t in self.triples())
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
        report = next(q.subject for q in dataset if q.object == _sh("ValidationReport"))
        # The report node first, then the results in order, then the paths.
        triples = sorted(
            (q.triple for q in dataset), key=lambda t: (t.subject != report, str(t.subject), str(t))
        )
        kwargs = {"prefixes": _PREFIXES} if rdf_format in (RdfFormat.TURTLE, RdfFormat.TRIG) else {}
        return serialize(triples, format=rdf_format, **kwargs)


def validate_graphs(
    data_triples: Iterable[Triple], shapes_triples: Iterable[Triple], *, engine: str | None = None
) -> ShaclReport:
    """The validation report of the data against the shapes (no inference, as given).

    Raises KgShapesError when the shapes are not valid SHACL or cannot be validated."""
    from kg.validate import check

    checked = check(set(data_triples), list(shapes_triples), engine=engine, keep_lexical=True)
    if checked.engine == "kg":
        results = [
            ReportResult(
                severity=r.severity,
                focus=r.focus,
                path=r.path,
                value=r.value,
                shape=r.shape,
                component=_sh(r.component),
                constraint=r.constraint,
                messages=r.messages,
            )
            for r in checked.raw
        ]
        return ShaclReport(results, "kg")
    results, paths = _from_pyshacl(checked.results_graph, checked.shapes_graph, checked.terms)
    return ShaclReport(results, "pyshacl", checked.handed_over, paths)


def _from_pyshacl(results_graph, shapes_graph, terms) -> tuple[list[ReportResult], list[Triple]]:
    """pySHACL's results as terms; `terms` maps them back to the exact terms that went in."""
    from rdflib import BNode, URIRef

    ox = terms.to_oxigraph

    def one(node, name):
        got = results_graph.value(node, URIRef(SH + name))
        return ox(got) if got is not None else None

    results, paths = [], []
    # The report's own results (not the nested sh:detail ones pySHACL adds for sh:node).
    for node in sorted(set(results_graph.objects(None, URIRef(SH + "result")))):
        path = results_graph.value(node, URIRef(SH + "resultPath"))
        if isinstance(path, BNode):
            graph = results_graph if (path, None, None) in results_graph else shapes_graph
            paths += _reachable(graph, path, ox)
        messages = [ox(m) for m in results_graph.objects(node, URIRef(SH + "resultMessage"))]
        results.append(
            ReportResult(
                severity=one(node, "resultSeverity") or _sh("Violation"),
                focus=one(node, "focusNode"),
                path=ox(path) if path is not None else None,
                value=one(node, "value"),
                shape=one(node, "sourceShape"),
                component=one(node, "sourceConstraintComponent"),
                constraint=one(node, "sourceConstraint"),
                messages=tuple(sorted(messages, key=lambda m: (m.value, m.language or ""))),
            )
        )
    return results, sorted(set(paths), key=str)


def _reachable(graph, start, ox) -> list[Triple]:
    """The triples of a complex path: everything reachable from its blank node."""
    from rdflib import BNode

    out, todo, seen = [], [start], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in graph.predicate_objects(node):
            out.append(Triple(ox(node), ox(p), ox(o)))
            if isinstance(o, BNode):
                todo.append(o)
    return out


def read_rdf(path: str | Path, prefix: str = "f") -> list[Triple]:
    """The triples of one RDF file, its syntax told by its extension (.ttl, .nt, .rdf, ...).

    Blank nodes keep the file's labels behind a prefix (`file` plus the file's place in
    the command line) so that the report is the same from run to run."""
    from kg.load import _syntax_error

    p = Path(path)
    try:
        rdf_format = RdfFormat.from_extension(p.suffix.lstrip(".").lower())
    except ValueError:
        rdf_format = None
    if rdf_format is None:
        raise KgInputError(
            "cannot tell the RDF syntax from the file name: end it in .ttl, .nt, .nq, .trig, "
            ".rdf or .jsonld",
            file=str(path),
        )
    try:
        data = p.read_bytes()
    except OSError as e:
        raise KgInputError(f"cannot read: {e.strerror}", file=str(path)) from None
    try:
        quads = list(parse(data, rdf_format, base_iri=p.resolve().as_uri()))
    except SyntaxError as e:
        error = _syntax_error(e, str(path))
        raise KgInputError(
            error.detail.replace("Turtle", rdf_format.name), file=str(path), line=error.line,
            column=error.column,
        ) from None  # fmt: skip

    def local(term):
        return BlankNode(f"{prefix}_{term.value}") if isinstance(term, BlankNode) else term

    return [Triple(local(q.subject), q.predicate, local(q.object)) for q in quads]


def validate_files(
    data_files: Sequence[str | Path],
    shapes_files: Sequence[str | Path],
    *,
    engine: str | None = None,
) -> ShaclReport:
    """`kg shacl`: read the files (a file given as both data and shapes is read once, so its
    blank nodes are the same in both graphs) and validate."""
    parsed: dict[Path, list[Triple]] = {}

    def read(paths) -> list[Triple]:
        out: list[Triple] = []
        for p in paths:
            key = Path(p).resolve()
            if key not in parsed:
                parsed[key] = read_rdf(p, f"file{len(parsed) + 1}")
            out += parsed[key]
        return out

    return validate_graphs(read(data_files), read(shapes_files), engine=engine)
