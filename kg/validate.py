"""SHACL validation with pySHACL: run the shapes and turn the results graph into a report.

Imported only by the build (rdflib and pySHACL are slow to import).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyshacl
from rdflib import BNode, URIRef
from rdflib.collection import Collection

from kg import namespaces as ns
from kg.rdfterms import TermMap
from kg.report import ValidationReport, ValidationResult


def _short(term) -> str:
    if isinstance(term, URIRef):
        return ns.shorten(str(term))
    if isinstance(term, BNode):
        return "(blank node)"
    text = str(term)
    return text if len(text) <= 80 else text[:79] + "…"


def _path_text(graph, path) -> str:
    """SHACL property path as text: IRIs prefixed, sequences with '/', inverses with '^'."""
    sh = ns.SH
    if not isinstance(path, BNode):
        return _short(path)
    inv = graph.value(path, URIRef(sh + "inversePath"))
    if inv is not None:
        return "^" + _path_text(graph, inv)
    alt = graph.value(path, URIRef(sh + "alternativePath"))
    if alt is not None:
        return "(" + "|".join(_path_text(graph, p) for p in Collection(graph, alt)) + ")"
    for name, mark in (("zeroOrMorePath", "*"), ("oneOrMorePath", "+"), ("zeroOrOnePath", "?")):
        inner = graph.value(path, URIRef(sh + name))
        if inner is not None:
            return _path_text(graph, inner) + mark
    if graph.value(path, URIRef(ns.RDF + "first")) is not None:
        return "/".join(_path_text(graph, p) for p in Collection(graph, path))
    return "(complex path)"


def _named_shape(shapes_graph, shape):
    """The shape itself if named, else the named node shape holding it as a sh:property."""
    if shape is None or isinstance(shape, URIRef):
        return shape
    for parent in shapes_graph.subjects(URIRef(ns.SH + "property"), shape):
        if isinstance(parent, URIRef):
            return parent
    return None


def validate(
    data_triples: Iterable,
    ontology_triples: Iterable,
    shapes_triples: Iterable,
    *,
    defined_in: dict[str, str],
    labels: dict[str, str],
    shapes_files: list[str],
) -> ValidationReport:
    """Validate data (merged with the ontology, so sh:class sees subclasses) against shapes.

    `defined_in` maps a node IRI to the data file that defines it; `labels` to its English label.
    Warnings and infos are reported but do not make the data non-conforming.
    """
    if not shapes_files:
        return ValidationReport(conforms=True, results=[], shapes_files=[])
    terms = TermMap()
    ontology = list(ontology_triples)
    ont_graph = terms.graph(ontology)
    data_graph = terms.graph(ontology)
    for t in terms.triples_to_rdflib(data_triples):
        data_graph.add(t)
    shapes_graph = terms.graph(shapes_triples)
    conforms, results_graph, _ = pyshacl.validate(
        data_graph,
        shacl_graph=shapes_graph,
        ont_graph=ont_graph,
        inference="none",
        advanced=True,
        allow_warnings=True,
        allow_infos=True,
        inplace=True,  # data_graph is our private copy: skip pySHACL's clone
    )
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
    results = sorted(set(results), key=ValidationResult.sort_key)
    return ValidationReport(conforms=bool(conforms), results=results, shapes_files=shapes_files)
