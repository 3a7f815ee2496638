"""Reading SPARQL JSON results as stores send them, and comparing a graph read back."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from kg import namespaces as ns
from kg.results import read_json
from kg.roundtrip import compare, read_graph

XSD = ns.XSD


def _doc(bindings, **extra) -> bytes:
    return json.dumps(
        {"head": {"vars": ["x"]}, "results": {"bindings": bindings}, **extra}
    ).encode()


def test_comunica_metadata_and_virtuoso_blank_nodes_are_read():
    body = _doc(
        [
            {"x": {"type": "bnode", "value": "nodeID://b10001"}},
            {"x": {"type": "bnode", "value": "nodeID://b10001"}},
            {"x": {"type": "bnode", "value": "nodeID://b10002"}},
            {},
        ],
        metadata={"httpRequests": 0},
    )
    answer = read_json(body)
    xs = [row["x"] for row in answer.rows]
    assert all(isinstance(x, BlankNode) for x in xs[:3]) and xs[3] is None
    assert xs[0] == xs[1] != xs[2]  # the same id, the same blank node, within an answer


def test_booleans_are_read_by_value_and_old_typed_literals_too():
    rows = read_json(
        _doc(
            [
                {"x": {"type": "typed-literal", "datatype": XSD + "boolean", "value": "1"}},
                {"x": {"type": "literal", "datatype": XSD + "boolean", "value": "0"}},
                {"x": {"type": "literal", "xml:lang": "ZH", "value": "弃核"}},
            ]
        )
    ).rows
    assert rows[0]["x"] == Literal("true", datatype=NamedNode(XSD + "boolean"))
    assert rows[1]["x"] == Literal("false", datatype=NamedNode(XSD + "boolean"))
    assert rows[2]["x"] == Literal("弃核", language="zh")


@pytest.mark.parametrize(
    "body",
    [
        b'{"head": {"vars": ["x"]}, "results": {"bindings": []}}\n!! query timed out',
        b'{"head": {"vars": ["x"]}}',
        _doc([{"x": {"type": "uri", "value": "not an iri"}}]),
        _doc([{"x": {"type": "triple", "value": "x"}}]),
    ],
)
def test_unreadable_results_are_one_value_error(body):
    with pytest.raises(ValueError):
        read_json(body)


def test_ask_answers():
    assert read_json(b'{"head": {}, "boolean": true}').boolean is True


def _t(s, p, o) -> Triple:
    return Triple(NamedNode(ns.KGR + s), NamedNode(ns.KG + p), o)


def test_a_changed_value_is_named_and_another_form_of_the_same_value_is_kept():
    duration = NamedNode(XSD + "duration")
    sent = [
        _t("talks", "duration", Literal("PT8H", datatype=duration)),
        _t("a", "firstQuoteStart", Literal("657", datatype=NamedNode(XSD + "nonNegativeInteger"))),
        _t("a", "label", Literal("x")),
    ]
    stored = [
        _t("talks", "duration", Literal("28800.0", datatype=duration)),
        _t("a", "firstQuoteStart", Literal("657", datatype=NamedNode(XSD + "integer"))),
        _t("a", "label", Literal("x")),
        _t("b", "label", Literal("new")),
    ]
    diff = compare(sent, stored)
    assert not diff.same and diff.relexed == 1 and diff.changes == 2
    assert diff.lines == [
        'changed: kgr:talks kg:duration "PT8H"^^xsd:duration came back as "28800.0"^^xsd:duration',
        'added: kgr:b kg:label "new"',
    ]
    assert compare(sent, sent).same


def test_a_graph_document_is_read_by_its_media_type():
    nt = b"<http://a/s> <http://a/p> <http://a/o> .\n"
    assert len(read_graph(nt, "text/plain; charset=UTF-8")) == 1
    assert len(read_graph(nt, "application/n-triples")) == 1
    with pytest.raises(ValueError):
        read_graph(b"<html>", "text/html")
