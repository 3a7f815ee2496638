"""OWL RL closure; only the new, non-trivial triples are kept.

The inferred graph is the closure minus everything asserted, minus noise that says nothing
about the domain: `?x a owl:Thing`, reflexive owl:sameAs, literal subjects, and statements about
the RDF, RDFS, OWL and XSD vocabularies themselves.

Two engines compute the same closure. `reasonable` (Rust) computes it over the whole graph,
but converting a million triples to rdflib terms and back costs more than the reasoning. When
the schema uses only rdfs:subClassOf, rdfs:subPropertyOf, rdfs:domain, rdfs:range and
owl:inverseOf, and the data adds no schema, the closure splits: reasonable closes the schema
alone (small, and cached per schema), and the instance triples are closed here in Python by
the OWL RL rules those axioms trigger (cax-sco, prp-spo1, prp-dom, prp-rng, prp-inv1/2, and
cls-hv1/2 for a named owl:hasValue restriction such as kg:HappenedEvent). Any other construct
falls back to reasonable on everything. `KG_REASONER=reasonable` forces it.
tests/test_benchmark_equivalence.py checks that both agree (and agree with owlrl).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Quad, Triple

from kg import namespaces as ns

_TYPE = NamedNode(ns.RDF + "type")
_THING = NamedNode(ns.OWL + "Thing")
_SAME_AS = NamedNode(ns.OWL + "sameAs")


def is_noise(t: Triple) -> bool:
    """True for closure triples that carry no knowledge about the domain."""
    s = t.subject
    if isinstance(s, NamedNode) and s.value.startswith(ns.W3C_NAMESPACES):
        return True
    if t.predicate == _TYPE and t.object == _THING:
        return True
    return t.predicate == _SAME_AS and s == t.object


def asserted_triples(quads: Iterable[Quad]) -> set[Triple]:
    """The union of all graphs as a set of triples (the graph name does not matter to OWL)."""
    return {q.triple for q in quads}


def closure(triples: set[Triple]) -> set[Triple]:
    """The full OWL RL closure of `triples` (asserted included), as pyoxigraph triples.

    reasonable makes no assumption about what is loaded: the ontology must be among `triples`.
    """
    import reasonable
    from rdflib import Literal as RdflibLiteral

    from kg.rdfterms import TermMap

    terms = TermMap()
    reasoner = reasonable.PyReasoner()
    reasoner.from_graph(terms.triples_to_rdflib(sorted(triples, key=str)))
    back = terms.to_oxigraph
    # reasonable writes plain strings as explicit xsd:string; pyoxigraph makes them equal again.
    # Triples with a literal subject are not RDF 1.1 and cannot be represented: drop them here.
    return {
        Triple(back(s), back(p), back(o))
        for s, p, o in reasoner.reason()
        if not isinstance(s, RdflibLiteral)
    }


ENGINES = ("kg", "reasonable")

_SUBCLASS = NamedNode(ns.RDFS + "subClassOf")
_SUBPROP = NamedNode(ns.RDFS + "subPropertyOf")
_DOMAIN = NamedNode(ns.RDFS + "domain")
_RANGE = NamedNode(ns.RDFS + "range")
_INVERSE = NamedNode(ns.OWL + "inverseOf")
_ON_PROPERTY = NamedNode(ns.OWL + "onProperty")
_HAS_VALUE = NamedNode(ns.OWL + "hasValue")
_SCHEMA_PREDICATES = {_SUBCLASS, _SUBPROP, _DOMAIN, _RANGE, _INVERSE, _ON_PROPERTY, _HAS_VALUE}
# Declarations the split handles (they trigger no instance rule beyond the axioms above).
_SCHEMA_TYPES = {
    NamedNode(ns.OWL + x) for x in ("Class", "ObjectProperty", "DatatypeProperty",
                                    "AnnotationProperty", "Ontology", "Restriction")
} | {NamedNode(ns.RDFS + "Class"), NamedNode(ns.RDF + "Property")}  # fmt: skip
# W3C predicates that carry no OWL RL semantics of their own.
_PLAIN_W3C = {NamedNode(ns.RDFS + x) for x in ("label", "comment", "seeAlso", "isDefinedBy")} | {
    NamedNode(ns.OWL + "versionInfo")
}
_THING_TYPES = {_THING}


class _NotSplittable(Exception):
    pass


def engine_name(engine: str | None = None) -> str:
    name = engine or os.environ.get("KG_REASONER") or "kg"
    if name not in ENGINES:
        raise ValueError(f"unknown reasoner {name!r} (use one of {', '.join(ENGINES)})")
    return name


def infer(asserted: set[Triple], *, engine: str | None = None) -> list[Triple]:
    """Triples entailed by `asserted` (ontology and data together) that are new and not noise."""
    full = None
    if engine_name(engine) == "kg":
        try:
            full = _split_closure(asserted)
        except _NotSplittable:
            full = None
    if full is None:
        full = closure(asserted)
    new = full - asserted
    return sorted((t for t in new if not is_noise(t)), key=str)


_TBOX_CACHE: dict[frozenset, set[Triple]] = {}


def _schema_closure(schema: frozenset) -> set[Triple]:
    got = _TBOX_CACHE.get(schema)
    if got is None:
        got = _TBOX_CACHE[schema] = closure(set(schema))
    return got


def _split_closure(asserted: set[Triple]) -> set[Triple]:
    """The closure as schema closure (reasonable) + instance rules (here), or _NotSplittable."""
    schema, rest = set(), []
    w3c = ns.W3C_NAMESPACES
    for t in asserted:
        p = t.predicate
        if p in _SCHEMA_PREDICATES:
            if not isinstance(t.subject, NamedNode) or not isinstance(t.object, NamedNode):
                raise _NotSplittable("schema axiom on a blank node or literal")
            schema.add(t)
        elif p == _TYPE:
            o = t.object
            if o in _SCHEMA_TYPES:
                schema.add(t)
            elif isinstance(o, NamedNode) and o.value.startswith(w3c) and o not in _THING_TYPES:
                raise _NotSplittable(f"type {o}")
            else:
                rest.append(t)
        elif p.value.startswith(w3c) and p not in _PLAIN_W3C:
            raise _NotSplittable(f"predicate {p}")
        else:
            rest.append(t)
    tbox = _schema_closure(frozenset(schema))

    supers: dict[NamedNode, set] = {}
    sub_props: dict[NamedNode, set] = {}
    domains: dict[NamedNode, set] = {}
    ranges: dict[NamedNode, set] = {}
    inverses: dict[NamedNode, set] = {}
    on_property: dict[NamedNode, NamedNode] = {}
    has_value: dict[NamedNode, NamedNode] = {}
    for t in schema:  # restrictions as written (the schema closure adds none)
        if t.predicate == _ON_PROPERTY:
            on_property[t.subject] = t.object
        elif t.predicate == _HAS_VALUE:
            has_value[t.subject] = t.object
    if set(on_property) != set(has_value):
        raise _NotSplittable("an owl:onProperty restriction other than owl:hasValue")
    # cls-hv1: a member of R has value v for p; cls-hv2: whatever has v for p is an R.
    value_of = {r: (on_property[r], has_value[r]) for r in on_property}
    restrictions_with: dict = {}
    for r, pv in value_of.items():
        restrictions_with.setdefault(pv, []).append(r)
    for t in tbox:
        p = t.predicate
        if p == _SUBCLASS:
            supers.setdefault(t.subject, set()).add(t.object)
        elif p == _SUBPROP:
            sub_props.setdefault(t.subject, set()).add(t.object)
        elif p == _DOMAIN:
            domains.setdefault(t.subject, set()).add(t.object)
        elif p == _RANGE:
            ranges.setdefault(t.subject, set()).add(t.object)
        elif p == _INVERSE:
            inverses.setdefault(t.subject, set()).add(t.object)
            inverses.setdefault(t.object, set()).add(t.subject)
    for p, sups in sub_props.items():
        for q in sups:
            if q in _SCHEMA_PREDICATES or q == _TYPE or q.value.startswith(w3c):
                raise _NotSplittable(f"{p} is a subproperty of {q}")

    def closed(start, edges) -> frozenset:
        seen, todo = {start}, [start]
        while todo:
            for n in edges.get(todo.pop(), ()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return frozenset(seen)

    class_sups: dict = {}
    prop_sups: dict = {}

    def classes_of(c):
        got = class_sups.get(c)
        if got is None:
            got = class_sups[c] = closed(c, supers)
        return got

    # What one triple with predicate p entails directly: (p', inverse?, domain types, range types)
    plans: dict = {}

    def plan(p):
        got = plans.get(p)
        if got is None:
            ps = prop_sups.get(p)
            if ps is None:
                ps = prop_sups[p] = closed(p, sub_props)
            inv = {q for pp in ps for q in inverses.get(pp, ())}
            dom = {c for pp in ps for d in domains.get(pp, ()) for c in classes_of(d)}
            rng = {c for pp in ps for r in ranges.get(pp, ()) for c in classes_of(r)}
            got = plans[p] = (tuple(ps - {p}), tuple(inv), tuple(dom), tuple(rng))
        return got

    out: set[Triple] = set(tbox)
    out.update(asserted)
    todo = list(rest)
    add = out.add

    def typed(s, c) -> None:
        """Add `s a c` (c already closed over superclasses) and what cls-hv1 makes of it."""
        n = Triple(s, _TYPE, c)
        if n not in out:
            add(n)
            if c in _SCHEMA_TYPES and n not in tbox:
                raise _NotSplittable(f"the data makes {s} a {c}")
        pv = value_of.get(c)
        if pv is not None:
            n = Triple(s, pv[0], pv[1])
            if n not in out:
                add(n)
                todo.append(n)

    while todo:
        t = todo.pop()
        s, p, o = t.subject, t.predicate, t.object
        if p == _TYPE:
            for c in classes_of(o):
                typed(s, c)
            continue
        sups, inv, dom, rng = plan(p)
        new = [Triple(s, q, o) for q in sups]
        if not isinstance(o, Literal):
            new += [Triple(o, q, s) for q in inv]
            for c in rng:
                typed(o, c)
        for c in dom:
            typed(s, c)
        if restrictions_with:
            for q in (p, *sups):
                for r in restrictions_with.get((q, o), ()):
                    for c in classes_of(r):
                        typed(s, c)
        for n in new:
            if n not in out:
                add(n)
                todo.append(n)
    return out
