"""Convert terms between pyoxigraph and rdflib (needed by reasonable, owlrl and pySHACL).

Imported only by build steps: rdflib is too slow to import for read-only commands.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef


class TermMap:
    """Two-way term conversion that remembers what it converted.

    rdflib may rewrite lexical forms (e.g. "020"^^xsd:integer to "20"); mapping terms coming
    back to the exact pyoxigraph term that went in keeps asserted and inferred data comparable.
    """

    def __init__(self, *, keep_lexical: bool = False) -> None:
        self._back: dict[object, object] = {}
        # keep_lexical: rdflib would rewrite "none"^^xsd:boolean to "false", and two distinct
        # terms would map back to one (the SHACL report needs exact values; the build keeps
        # rdflib's normal forms, which its messages and tests were written against).
        self._normalize = not keep_lexical

    def to_rdflib(self, term):
        if isinstance(term, ox.NamedNode):
            out = URIRef(term.value)
        elif isinstance(term, ox.BlankNode):
            out = BNode(term.value)
        elif isinstance(term, ox.Literal):
            if term.language:
                out = Literal(term.value, lang=term.language, normalize=self._normalize)
            else:
                dt = URIRef(term.datatype.value)
                out = Literal(term.value, datatype=dt, normalize=self._normalize)
        else:
            raise TypeError(f"unsupported RDF term: {term!r}")
        self._back.setdefault(_key(out), term)
        return out

    def to_oxigraph(self, term):
        known = self._back.get(_key(term))
        if known is not None:
            return known
        if isinstance(term, URIRef):
            return ox.NamedNode(str(term))
        if isinstance(term, BNode):
            return ox.BlankNode(str(term))
        if isinstance(term, Literal):
            if term.language:
                return ox.Literal(str(term), language=term.language)
            # A plain rdflib literal is an xsd:string in RDF 1.1; pyoxigraph treats them alike.
            if term.datatype is None:
                return ox.Literal(str(term))
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        raise TypeError(f"unsupported RDF term: {term!r}")

    def triples_to_rdflib(self, triples: Iterable) -> list[tuple]:
        f = self.to_rdflib
        return [(f(t.subject), f(t.predicate), f(t.object)) for t in triples]

    def graph(self, triples: Iterable) -> Graph:
        g = Graph()
        for t in self.triples_to_rdflib(triples):
            g.add(t)
        return g


def _key(term) -> tuple:
    # rdflib's Literal equality ignores nothing we care about, but hashing plain vs
    # xsd:string literals differs; key on the parts that identify the RDF term.
    if isinstance(term, Literal):
        dt = str(term.datatype) if term.datatype else "http://www.w3.org/2001/XMLSchema#string"
        return ("L", str(term), term.language or "", "" if term.language else dt)
    return (type(term).__name__, str(term))
