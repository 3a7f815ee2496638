"""Compare a graph read back from a store with the graph the build sent: values, not counts.

A store may accept a triple and keep something else (Virtuoso 7.2 stores
`"PT8H"^^xsd:duration` as seconds and gives back `"28800.0"^^xsd:duration`); counting the
triples does not see that. Both sides are parsed with pyoxigraph and each triple is written in
its N-Triples form; the graphs are equal when the two sets of forms are (the build has no
blank nodes, so the forms are canonical and set equality is isomorphism). Only a 16-byte
digest of each form is kept, so a graph of millions of triples compares in tens of megabytes.

Triples the store gave back in another lexical form of the same value (`"1"^^xsd:boolean`
for `"true"`, `"20.0"` for `"20"^^xsd:decimal`) count as kept, and are named apart. Blank
nodes, where there are some, are compared by the shape of their triples only (their labels
are the store's), and the result says so.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse

from kg import namespaces as ns

SHOWN = 10  # differences named per graph; the rest are counted

# xsd:decimal and the types derived from it share one value space: "657"^^xsd:integer is the
# same value as "657"^^xsd:nonNegativeInteger (Oxigraph 0.5 gives back the first for the second).
_DECIMALS = {
    "decimal", "integer", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
    "unsignedShort", "unsignedByte",
}  # fmt: skip
_FLOATS = {"double", "float"}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _value(literal: Literal):
    """A comparable (value space, value) for the numeric and boolean datatypes, else None."""
    dt = literal.datatype.value
    if not dt.startswith(ns.XSD):
        return None
    local, text = dt[len(ns.XSD) :], literal.value.strip()
    if local == "boolean":
        value = _BOOLEANS.get(text)
        return None if value is None else ("boolean", value)
    space = "decimal" if local in _DECIMALS else "float" if local in _FLOATS else None
    if space is None:
        return None
    try:
        return (space, Decimal(text))
    except InvalidOperation:
        return None


def _form(triple: Triple, blank: str | None = None) -> str:
    """The N-Triples form of `triple`; blank nodes written as `blank` when given."""
    if blank is None:
        return str(triple)
    parts = [
        blank if isinstance(t, BlankNode) else str(t)
        for t in (triple.subject, triple.predicate, triple.object)
    ]
    return " ".join(parts)


def _value_key(triple: Triple) -> tuple | None:
    o = triple.object
    if isinstance(o, Literal):
        value = _value(o)
        if value is not None:
            return (str(triple.subject), str(triple.predicate), value)
    return None


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def show(term) -> str:
    """A term as a person reads it: prefixed IRIs, literals with a prefixed datatype."""
    if isinstance(term, NamedNode):
        short = ns.shorten(term.value)
        return short if short != term.value else f"<{term.value}>"
    if isinstance(term, Literal):
        text = term.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        if term.language:
            return f'"{text}"@{term.language}'
        dt = term.datatype.value
        if dt == ns.XSD + "string":
            return f'"{text}"'
        return f'"{text}"^^{show(term.datatype)}'
    return str(term)


def _show_triple(t: Triple) -> str:
    return f"{show(t.subject)} {show(t.predicate)} {show(t.object)}"


@dataclass
class GraphDiff:
    """What a store changed in one graph."""

    sent: int
    stored: int
    missing: int = 0  # triples sent that the store does not give back (same value counts as kept)
    extra: int = 0  # triples the store gives back that were not sent
    relexed: int = 0  # kept with the same value in another lexical form or derived datatype
    relexed_lines: list[str] = field(default_factory=list)  # the first of them
    blank_nodes: bool = False  # compared by shape, not by label
    changes: int = 0  # differences as people count them: a changed value is one, not two
    lines: list[str] = field(default_factory=list)  # the first `SHOWN` of them

    @property
    def same(self) -> bool:
        return self.missing == 0 and self.extra == 0


def compare(sent: list[Triple], stored: list[Triple]) -> GraphDiff:
    """How `stored` (read back from the store) differs from `sent` (the build's graph)."""
    blank = any(
        isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode)
        for t in (*sent, *stored)
    )
    marker = "_:" if blank else None
    sent_forms = Counter(_digest(_form(t, marker)) for t in sent)
    stored_forms = Counter(_digest(_form(t, marker)) for t in stored)
    diff = GraphDiff(len(sent), len(stored), blank_nodes=blank)
    only_sent = sent_forms - stored_forms
    only_stored = stored_forms - sent_forms
    if not only_sent and not only_stored:
        return diff
    gone = [t for t in sent if _digest(_form(t, marker)) in only_sent]
    new = [t for t in stored if _digest(_form(t, marker)) in only_stored]
    # The same value in another lexical form is kept, not changed.
    new_by_value = {}
    for t in new:
        key = _value_key(t)
        if key is not None:
            new_by_value.setdefault(key, t)
    matched_new: set[str] = set()
    changed_gone = []
    for t in gone:
        key = _value_key(t)
        twin = new_by_value.get(key) if key is not None else None
        if twin is not None and str(twin) not in matched_new:
            matched_new.add(str(twin))
            diff.relexed += 1
            if len(diff.relexed_lines) < 3:
                diff.relexed_lines.append(f"{_show_triple(t)} came back as {show(twin.object)}")
        else:
            changed_gone.append(t)
    new = [t for t in new if str(t) not in matched_new]
    diff.missing, diff.extra = len(changed_gone), len(new)
    # Name each change as "was → is" where subject and predicate pair them up.
    new_by_sp: dict[tuple[str, str], list[Triple]] = {}
    for t in new:
        new_by_sp.setdefault((str(t.subject), str(t.predicate)), []).append(t)
    paired: set[str] = set()
    for t in changed_gone:
        twins = new_by_sp.get((str(t.subject), str(t.predicate)), [])
        twin = next((x for x in twins if str(x) not in paired), None)
        if twin is not None:
            paired.add(str(twin))
            line = f"changed: {_show_triple(t)} came back as {show(twin.object)}"
        else:
            line = f"lost: {_show_triple(t)}"
        diff.changes += 1
        if len(diff.lines) < SHOWN:
            diff.lines.append(line)
    for t in new:
        if str(t) not in paired:
            diff.changes += 1
            if len(diff.lines) < SHOWN:
                diff.lines.append(f"added: {_show_triple(t)}")
    return diff


def read_graph(body: bytes, content_type: str) -> list[Triple]:
    """The triples of a graph document a store sent (N-Triples, Turtle, RDF/XML …);
    ValueError when it cannot be read."""
    media = content_type.split(";", 1)[0].strip().lower() or "application/n-triples"
    if media == "text/plain":  # what some stores call N-Triples
        media = "application/n-triples"
    rdf_format = RdfFormat.from_media_type(media)
    if rdf_format is None:
        raise ValueError(f"a graph in {media}, which kg cannot read")
    try:
        return [q.triple for q in parse(body, rdf_format)]
    except SyntaxError as e:
        raise ValueError(f"unreadable {media}: {e}") from None
