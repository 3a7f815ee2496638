"""The property-graph projection (kg.graph): reversible, deterministic, as docs/cypher.md says."""

from __future__ import annotations

from collections import defaultdict

import pytest
from pyoxigraph import RdfFormat, parse

from kg import namespaces as ns
from kg.graph import ANNOTATION, IN_GRAPH, RESOURCE, project, to_quads


def _by_graph(quads) -> dict[str, set]:
    out: dict[str, set] = defaultdict(set)
    for q in quads:
        out[q.graph_name.value].add((q.subject, q.predicate, q.object))
    return out


@pytest.fixture(scope="module", params=["project", "mini"])
def dataset(request, built, built_mini) -> bytes:
    return (built if request.param == "project" else built_mini).dataset


def test_round_trip_gives_every_graph_back(dataset):
    """Article, shared, enrichment (and ontology, inferred) graphs come back exactly. The build
    has no blank nodes, so isomorphism is equality of the triple sets."""
    original = _by_graph(parse(dataset, RdfFormat.N_QUADS))
    back = _by_graph(to_quads(project(dataset)))
    assert sorted(back) == sorted(original)
    kinds = {g.removeprefix(ns.GRAPH_BASE).split("/")[0] for g in original}
    assert {"article", "shared", "inferred", "ontology"} <= kinds
    for graph, triples in original.items():
        assert back[graph] == triples, graph


def test_projection_is_deterministic(dataset):
    first, second = project(dataset), project(dataset)
    assert first == second
    assert [n.iri for n in first.nodes] == sorted(n.iri for n in first.nodes)


def test_labels_carry_the_inferred_closure(built):
    pg = project(built.dataset)
    demands = [n for n in pg.nodes if "Demand" in n.labels]
    assert demands
    for node in demands:  # Demand is a Stance (subClassOf): the label is there without a walk
        assert node.labels[0] == RESOURCE and "Stance" in node.labels
    assert pg.labels["Demand"] == ns.KG + "Demand"


def test_relationships_say_which_graphs_state_them(built):
    pg = project(built.dataset)
    rels = [r for r in pg.rels if r.type != IN_GRAPH]
    only_inferred = [r for r in rels if r.props["graphs"] == [ns.GRAPH_INFERRED]]
    assert only_inferred and not any(r.props["asserted"] for r in only_inferred)
    assert all(r.props["asserted"] for r in rels if r not in only_inferred)


def test_evidence_is_one_hop_from_the_fact(built):
    pg = project(built.dataset)
    nodes = {n.iri: n for n in pg.nodes}
    text = (built.project.root / "data" / "sources").glob("*.txt")
    sources = {p.stem: p.read_text(encoding="utf-8") for p in text}
    evidence = [r for r in pg.rels if r.type == "hasEvidence"]
    assert evidence
    for rel in evidence:
        note = nodes[rel.end]
        assert ANNOTATION in note.labels
        article_id = rel.end.split("/")[-2]
        # the quote is the source text between the offsets, as the build anchored it
        assert sources[article_id][note.props["start"] : note.props["end"]] == note.props["quote"]


def test_literal_types(built):
    pg = project(built.dataset)
    values = defaultdict(list)
    for n in pg.nodes:
        if ANNOTATION in n.labels:
            continue  # its quote/start/end are derived (a string and ints)
        for k, v in n.props.items():
            values[k].append(v)
    assert all(isinstance(v, int) for v in values["firstQuoteStart"])
    assert all(isinstance(v, bool) for v in values["yearInferred"])
    assert all(isinstance(v, list) for v in values["quote"])  # several on some node: a list
    # kg:date mixes xsd:date, gYearMonth, gYear: the precision is kept beside the value
    assert pg.keys["date"].datatype is None
    assert {"xsd:date", "xsd:gYearMonth", "xsd:gYear"} >= set(values["date__datatype"])
    assert "label_en" in pg.keys and "label_zh" in pg.keys


def test_a_predicates_node_names_its_relationship_type(built):
    """From a relationship to the description of its property: p.relationshipType = type(r)."""
    pg = project(built.dataset)
    by_iri = {n.iri: n for n in pg.nodes}
    held_by = by_iri[ns.KG + "heldBy"].props
    assert held_by["relationshipType"] == "heldBy" and held_by["id"] == "kg:heldBy"
    for rtype, predicate in pg.rel_types.items():
        if predicate in by_iri:
            assert by_iri[predicate].props["relationshipType"] == rtype
    # a predicate only of literals (kg:date) names no relationship type
    assert "relationshipType" not in by_iri[ns.KG + "date"].props
