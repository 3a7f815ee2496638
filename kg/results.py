"""SPARQL 1.1 Query Results JSON, read tolerantly, into pyoxigraph terms.

Stores differ in what they put around the standard members, and pyoxigraph's own reader
refuses what it does not expect, lazily, while the rows are iterated (Comunica adds a
`metadata` member after `results`; Virtuoso names blank nodes `nodeID://b10001`, which is not a
blank-node label). This reader takes `head` and `results` (or `boolean`) and ignores any other
member, gives each foreign blank-node id a valid label (the same id, the same label, within one
answer), and reads xsd:boolean in its canonical form (Virtuoso writes 1/0, also valid
lexical forms), so that a value compares equal to the embedded engine's. Every term is
built here, at once: a bad one is an error now, not in the middle of printing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode

from kg import namespaces as ns

_BOOLEAN = ns.XSD + "boolean"
_BOOLEANS = {"1": "true", "0": "false", "true": "true", "false": "false"}


@dataclass
class Answer:
    """A SELECT answer (`variables` and `rows`, unbound variables absent from a row) or an
    ASK answer (`boolean`)."""

    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)
    boolean: bool | None = None


class Row(dict):
    """A solution: `row["x"]` is None for an unbound variable, as for pyoxigraph's solutions."""

    def __missing__(self, key):
        return None


def _blank(value: str) -> BlankNode:
    # A label made of the store's id (a hash keeps it a valid label whatever the id holds).
    return BlankNode("b" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:24])


def term(binding: object):
    """One RDF term of a binding (`{"type": …, "value": …}`); ValueError when it is not one."""
    if not isinstance(binding, dict) or not isinstance(binding.get("value"), str):
        raise ValueError(f"a binding without a string value: {str(binding)[:120]}")
    kind, value = binding.get("type"), binding["value"]
    try:
        if kind == "uri":
            return NamedNode(value)
        if kind == "bnode":
            return _blank(value)
        if kind in ("literal", "typed-literal"):  # typed-literal: the 2008 draft many still send
            lang = binding.get("xml:lang")
            datatype = binding.get("datatype")
            if lang:
                return Literal(value, language=str(lang).lower())
            if datatype:
                if datatype == _BOOLEAN and value.strip() in _BOOLEANS:
                    value = _BOOLEANS[value.strip()]
                return Literal(value, datatype=NamedNode(datatype))
            return Literal(value)
    except (ValueError, SyntaxError) as e:
        raise ValueError(f"not a valid {kind} ({e}): {value[:120]!r}") from None
    raise ValueError(f"unknown term type {kind!r} (for {value[:120]!r})")


def read_json(body: bytes) -> Answer:
    """The answer in `body`; ValueError saying what is wrong when it is not SPARQL JSON results."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as e:
        # What the store wrote there says most (Comunica appends its error text to the answer).
        there = " ".join(e.doc[e.pos : e.pos + 160].split())
        raise ValueError(f"not JSON ({e}): {there!r}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"not JSON ({e})") from None
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if isinstance(document.get("boolean"), bool):
        return Answer(boolean=document["boolean"])
    head, results = document.get("head"), document.get("results")
    if not isinstance(head, dict) or not isinstance(results, dict):
        raise ValueError("no 'head' and 'results' members")
    variables = head.get("vars", [])
    bindings = results.get("bindings")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise ValueError("'head.vars' is not a list of names")
    if not isinstance(bindings, list):
        raise ValueError("'results.bindings' is not a list")
    rows = []
    for solution in bindings:
        if not isinstance(solution, dict):
            raise ValueError("a solution that is not a JSON object")
        rows.append(Row((name, term(value)) for name, value in solution.items()))
    return Answer(variables, rows)
