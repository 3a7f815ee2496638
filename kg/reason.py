"""OWL RL closure with `reasonable`; only the new, non-trivial triples are kept.

The inferred graph is the closure minus everything asserted, minus noise that says nothing
about the domain: `?x a owl:Thing`, reflexive owl:sameAs, literal subjects, and statements about
the RDF, RDFS, OWL and XSD vocabularies themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

import reasonable
from pyoxigraph import NamedNode, Quad, Triple
from rdflib import Literal as RdflibLiteral

from kg import namespaces as ns
from kg.rdfterms import TermMap

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


def infer(asserted: set[Triple]) -> list[Triple]:
    """Triples entailed by `asserted` (ontology and data together) that are new and not noise."""
    new = closure(asserted) - asserted
    return sorted((t for t in new if not is_noise(t)), key=str)
