"""SHACL validation: the project's own engine (kg.shacl), or pySHACL, the reference.

Both give the same results (tests/test_benchmark_equivalence.py checks it result for result);
kg.shacl is about 50 times faster on large graphs. It raises `Unsupported` for shapes beyond
what it implements, and the build then uses pySHACL. `KG_SHACL=pyshacl` forces pySHACL.

Imported only by the build.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

from kg import namespaces as ns
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
    refuse_remote_queries(shapes_triples, shapes_files)
    results = None
    if engine_name(engine) == "kg":
        from kg import shacl

        try:
            raw = shacl.validate(triples, shapes_triples, store=store, progress=progress)
        except Exception:  # Unsupported shapes (or a defect): pySHACL is the reference
            raw = None
        if raw is not None:
            results = [_from_raw(r, labels, defined_in) for r in raw]
    if results is None:
        results = _pyshacl_results(triples, shapes_triples, labels, defined_in, shapes_files)
    conforms = not any(r.severity == "Violation" for r in results)
    results = sorted(set(results), key=ValidationResult.sort_key)
    return ValidationReport(conforms=conforms, results=results, shapes_files=shapes_files)


_QUERY_KEYS = ("select", "ask", "construct", "update")


def refuse_remote_queries(shapes_triples: list, shapes_files: list[str]) -> None:
    """Refuse SHACL-SPARQL constraints that would reach the network: SERVICE (both engines
    send it), FROM / FROM NAMED (rdflib, pySHACL's engine, downloads those IRIs). A build
    reads the project and nothing else; `kg query` rebuilds on its own, so a pulled project
    must not be able to make it send requests."""
    from kg.errors import KgInputError
    from kg.sparql_scan import dataset_clauses, service_calls

    keys = {ns.SH + k for k in _QUERY_KEYS}
    for t in shapes_triples:
        if t.predicate.value not in keys:
            continue
        found = service_calls(t.object.value) + dataset_clauses(t.object.value)
        if found:
            what = "; ".join(str(c) for c in found[:3])
            raise KgInputError(
                f"a SHACL-SPARQL constraint reaches beyond the data ({what}): the build sends "
                "no request to the network and reads no other graph; remove it",
                file=", ".join(shapes_files),
            )


def _shapes_error(shapes_files: list[str], error) -> Exception:
    """A mistake in the shapes that pySHACL found, as one input error (exit 2)."""
    from kg.errors import KgInputError

    text = " ".join(str(getattr(error, "message", None) or error).split())
    if len(text) > 400:
        text = text[:399] + "…"
    return KgInputError(
        f"the shapes cannot be used: {type(error).__name__}: {text}",
        file=", ".join(shapes_files),
    )


def _from_raw(r, labels: dict[str, str], defined_in: dict[str, str]) -> ValidationResult:
    from pyoxigraph import NamedNode

    from kg.rdfterms import TermMap

    focus_iri = r.focus.value if isinstance(r.focus, NamedNode) else "(blank node)"
    terms = TermMap()
    value = _short(terms.to_rdflib(r.value)) if r.value is not None else ""
    return ValidationResult(
        severity=ns.local_name(r.severity.value),
        focus=focus_iri,
        label=labels.get(focus_iri, ""),
        path=ns.shorten(r.path.value) if r.path is not None else "",
        message="; ".join(r.messages) or r.component,
        file=defined_in.get(focus_iri),
        value=value,
        shape=ns.shorten(r.shape.value) if isinstance(r.shape, NamedNode) else "",
        component=r.component,
    )


def _pyshacl_results(
    triples, shapes_triples, labels, defined_in, shapes_files
) -> list[ValidationResult]:
    """pySHACL, as the reference runs it: data and ontology merged, inference none, advanced."""
    import pyshacl
    from rdflib import URIRef

    from kg.rdfterms import TermMap

    terms = TermMap()
    data_graph = terms.graph(triples)
    shapes_graph = terms.graph(shapes_triples)
    # pySHACL logs its errors to stderr itself (a logger it configures on each call); they
    # are raised to us as well, and said once, below.
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
    except Exception as e:  # noqa: BLE001 -- a mistake in the shapes (pySHACL, re, pyparsing)
        raise _shapes_error(shapes_files, e) from None
    finally:
        logging.disable(logging.NOTSET)
    if not hasattr(results_graph, "subjects"):  # pySHACL's ValidationFailure
        raise _shapes_error(shapes_files, results_graph)
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
