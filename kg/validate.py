"""SHACL validation: the project's own engine (kg.shacl), or pySHACL, the reference.

kg.shacl decides before answering whether the shapes are within what it implements (an
allow-list); if not it raises `Unsupported` and pySHACL validates instead. `KG_SHACL=pyshacl`
forces pySHACL. tests/test_w3c_shacl.py runs the W3C SHACL test suite through `check`;
tests/test_benchmark_equivalence.py compares the two engines' results on the project's data.

Imported only by the build and `kg shacl`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

from kg import namespaces as ns
from kg.errors import KgInputError, KgShapesError
from kg.report import ValidationReport, ValidationResult

ENGINES = ("kg", "pyshacl")


def _short(term) -> str:
    from rdflib import BNode, URIRef

    if isinstance(term, URIRef):
        return ns.shorten(str(term))
    if isinstance(term, BNode):
        return "(blank node)"
    text = str(term)
    return text if len(text) <= 80 else text[:79] + "…"


def _path_text(graph, path) -> str:
    """SHACL property path as text: IRIs prefixed, sequences with '/', inverses with '^'."""
    from rdflib import BNode, URIRef
    from rdflib.collection import Collection

    sh = ns.SH
    if not isinstance(path, BNode):
        return _short(path)
    inv = graph.value(path, URIRef(sh + "inversePath"))
    if inv is not None:
        return "^" + _path_text(graph, inv)
    alt = graph.value(path, URIRef(sh + "alternativePath"))
    if alt is not None:
        return "(" + "|".join(_path_text(graph, p) for p in Collection(graph, alt)) + ")"
    for name, mark in (
        ("zeroOrMorePath", "*"),
        ("oneOrMorePath", "+"),
        ("zeroOrOnePath", "?"),
    ):
        inner = graph.value(path, URIRef(sh + name))
        if inner is not None:
            return _path_text(graph, inner) + mark
    if graph.value(path, URIRef(ns.RDF + "first")) is not None:
        return "/".join(_path_text(graph, p) for p in Collection(graph, path))
    return "(complex path)"


def _named_shape(shapes_graph, shape):
    """The shape itself if named, else the named node shape holding it as a sh:property."""
    from rdflib import URIRef

    if shape is None or isinstance(shape, URIRef):
        return shape
    for parent in shapes_graph.subjects(URIRef(ns.SH + "property"), shape):
        if isinstance(parent, URIRef):
            return parent
    return None


def engine_name(engine: str | None = None) -> str:
    """The engine to use: the argument, else $KG_SHACL, else kg's own."""
    name = engine or os.environ.get("KG_SHACL") or "kg"
    if name not in ENGINES:
        raise ValueError(f"unknown SHACL engine {name!r} (use one of {', '.join(ENGINES)})")
    return name


@dataclass
class Checked:
    """What one validation produced: kg's raw results, or pySHACL's results graph."""

    engine: str  # "kg" or "pyshacl"
    handed_over: str | None  # why kg's engine declined, if it did
    raw: list | None = None  # kg.shacl.RawResult, when engine == "kg"
    results_graph: object = None  # pySHACL's rdflib results graph, when engine == "pyshacl"
    shapes_graph: object = None  # the rdflib shapes graph pySHACL read
    terms: object = None  # the kg.rdfterms.TermMap that converted the graphs for pySHACL


def check(
    triples: set,
    shapes_triples: list,
    *,
    engine: str | None = None,
    store=None,
    progress=None,
    keep_lexical: bool = False,
) -> Checked:
    """Validate with kg's engine when the shapes are within its allow-list, else pySHACL.

    Raises KgShapesError when the shapes cannot be validated (pySHACL refuses them) or would
    reach beyond the data (SERVICE, FROM)."""
    refuse_remote_queries(shapes_triples)
    handed_over = None
    if engine_name(engine) == "kg":
        from kg import shacl

        try:
            raw = shacl.validate(triples, shapes_triples, store=store, progress=progress)
            return Checked("kg", None, raw=raw)
        except shacl.Unsupported as e:
            handed_over = str(e)
    results_graph, shapes_graph, terms = _run_pyshacl(triples, shapes_triples, keep_lexical)
    return Checked("pyshacl", handed_over, None, results_graph, shapes_graph, terms)


def _run_pyshacl(triples, shapes_triples, keep_lexical: bool = False):
    """pySHACL, as the reference runs it: data and ontology merged, inference none, advanced."""
    import pyshacl

    from kg.rdfterms import TermMap

    terms = TermMap(keep_lexical=keep_lexical)
    data_graph = terms.graph(triples)
    shapes_graph = terms.graph(shapes_triples)
    # pySHACL logs its errors to stderr itself (a logger it configures on each call); they
    # are raised to us as well, and said once.
    logging.disable(logging.CRITICAL)
    try:
        _conforms, results_graph, _ = pyshacl.validate(
            data_graph,
            shacl_graph=shapes_graph,
            inference="none",
            advanced=True,
            allow_warnings=True,
            allow_infos=True,
            inplace=True,  # data_graph is our private copy: skip pySHACL's clone
        )
    except Exception as e:  # noqa: BLE001 -- pySHACL reports malformed shapes by raising
        text = _one_line(e)
        raise KgShapesError(f"the shapes cannot be validated: {type(e).__name__}: {text}") from None
    finally:
        logging.disable(logging.NOTSET)
    if not hasattr(results_graph, "subjects"):  # a pySHACL ValidationFailure
        text = _one_line(getattr(results_graph, "message", results_graph))
        raise KgShapesError(f"the shapes are not valid SHACL: {text}")
    return results_graph, shapes_graph, terms


def validate(
    triples: set,
    shapes_triples: Iterable,
    *,
    defined_in: dict[str, str],
    labels: dict[str, str],
    shapes_files: list[str],
    engine: str | None = None,
    store=None,
    progress=None,
) -> ValidationReport:
    """Validate `triples` (the asserted data with the ontology merged, so that sh:class sees
    subclasses) against the shapes. `store`, if given, holds the same triples in its default
    graph (the SPARQL constraints run there). `progress()` is called once per shape checked.

    `defined_in` maps a node IRI to the data file that defines it; `labels` to its English label.
    Warnings and infos are reported but do not make the data non-conforming.
    """
    if not shapes_files:
        return ValidationReport(conforms=True, results=[], shapes_files=[])
    shapes_triples = list(shapes_triples)
    try:
        checked = check(triples, shapes_triples, engine=engine, store=store, progress=progress)
    except KgShapesError as e:  # the build names the shapes file
        raise KgInputError(str(e), file=", ".join(shapes_files)) from None
    if checked.engine == "kg":
        parents = _named_parents(shapes_triples)
        results = [_from_raw(r, labels, defined_in, parents) for r in checked.raw]
    else:
        results = _pyshacl_results(checked.results_graph, checked.shapes_graph, labels, defined_in)
    # The build's policy: only violations fail it (the SHACL report itself, `kg shacl`, says
    # sh:conforms false for any result).
    conforms = not any(r.severity == "Violation" for r in results)
    results = sorted(set(results), key=ValidationResult.sort_key)
    return ValidationReport(conforms=conforms, results=results, shapes_files=shapes_files)


_QUERY_KEYS = ("select", "ask", "construct", "update")


def refuse_remote_queries(shapes_triples: list) -> None:
    """Refuse SHACL-SPARQL constraints that would reach the network: SERVICE (both engines
    send it), FROM / FROM NAMED (rdflib, pySHACL's engine, downloads those IRIs). Validation
    reads the data and nothing else; `kg query` rebuilds on its own, so a pulled project
    must not be able to make it send requests."""
    from kg.sparql_scan import dataset_clauses, service_calls

    keys = {ns.SH + k for k in _QUERY_KEYS}
    for t in shapes_triples:
        if t.predicate.value not in keys:
            continue
        found = service_calls(t.object.value) + dataset_clauses(t.object.value)
        if found:
            what = "; ".join(str(c) for c in found[:3])
            raise KgShapesError(
                f"a SHACL-SPARQL constraint reaches beyond the data ({what}): validation sends "
                "no request to the network and reads no other graph; remove it"
            )


def _one_line(error) -> str:
    """pySHACL's complaint on one line, at most 400 characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= 400 else text[:399] + "…"


def _named_parents(shapes_triples) -> dict:
    """Blank-node property shape -> a named shape holding it (what the pySHACL path shows)."""
    from pyoxigraph import BlankNode, NamedNode

    prop = NamedNode(ns.SH + "property")
    parents: dict = {}
    for t in shapes_triples:
        named_parent = isinstance(t.subject, NamedNode)
        if t.predicate == prop and isinstance(t.object, BlankNode) and named_parent:
            parents.setdefault(t.object, t.subject)
    return parents


def _from_raw(r, labels, defined_in, parents: dict) -> ValidationResult:
    from pyoxigraph import NamedNode

    from kg.rdfterms import TermMap

    focus_iri = r.focus.value if isinstance(r.focus, NamedNode) else "(blank node)"
    terms = TermMap()
    value = _short(terms.to_rdflib(r.value)) if r.value is not None else ""
    shape = parents.get(r.shape, r.shape)
    return ValidationResult(
        severity=ns.local_name(r.severity.value),
        focus=focus_iri,
        label=labels.get(focus_iri, ""),
        path=ns.shorten(r.path.value) if r.path is not None else "",
        message="; ".join(m.value for m in r.messages) or r.component,
        file=defined_in.get(focus_iri),
        value=value,
        shape=ns.shorten(shape.value) if isinstance(shape, NamedNode) else "",
        component=r.component,
    )


def _pyshacl_results(results_graph, shapes_graph, labels, defined_in) -> list[ValidationResult]:
    """pySHACL's results graph as kg's records."""
    from rdflib import URIRef

    sh = ns.SH

    def one(node, name):
        return results_graph.value(node, URIRef(sh + name))

    results = []
    for node in results_graph.subjects(URIRef(ns.RDF + "type"), URIRef(sh + "ValidationResult")):
        focus = one(node, "focusNode")
        focus_iri = str(focus) if isinstance(focus, URIRef) else "(blank node)"
        messages = sorted(str(m) for m in results_graph.objects(node, URIRef(sh + "resultMessage")))
        component = one(node, "sourceConstraintComponent")
        path = one(node, "resultPath")
        value = one(node, "value")
        shape = _named_shape(shapes_graph, one(node, "sourceShape"))
        severity = one(node, "resultSeverity")
        results.append(
            ValidationResult(
                severity=ns.local_name(str(severity)) if severity is not None else "Violation",
                focus=focus_iri,
                label=labels.get(focus_iri, ""),
                path=_path_text(results_graph, path) if path is not None else "",
                message="; ".join(messages) or ns.local_name(str(component or "")),
                file=defined_in.get(focus_iri),
                value=_short(value) if value is not None else "",
                shape=_short(shape) if shape is not None else "",
                component=ns.local_name(str(component)) if component is not None else "",
            )
        )
    return results
