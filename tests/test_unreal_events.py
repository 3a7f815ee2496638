"""Inference must not make unreal events real.

An event whose kg:status is not kg:happened (planned, announced, threatened, hypothetical,
abandoned) gets no inferred triple of schema.org, SEM, PROV or OWL-Time: no event type, no
participation, place, time or sub-event link, as subject or as object. Events that happened
are found with those vocabularies' event classes, by every engine (kg.reason, reasonable,
owlrl).
"""

from __future__ import annotations

import pytest
from pyoxigraph import NamedNode, RdfFormat, Store

from kg import namespaces as ns
from kg.anchor import expand_evidence
from kg.load import load_project
from kg.project import locate
from kg.reason import asserted_triples, infer

STANDARD = (
    "https://schema.org/",
    "http://schema.org/",
    "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/2006/time#",
)
TYPE = NamedNode(ns.RDF + "type")
HAPPENED = NamedNode(ns.KG + "happened")
STATUS = NamedNode(ns.KG + "status")
EVENT_CLASSES = [
    NamedNode("https://schema.org/Event"),
    NamedNode("http://semanticweb.cs.vu.nl/2009/11/sem/Event"),
    NamedNode("http://www.w3.org/ns/prov#Activity"),
]


def _standard(t) -> bool:
    if t.predicate.value.startswith(STANDARD):
        return True
    return t.predicate == TYPE and t.object.value.startswith(STANDARD)


def _statuses(triples) -> dict:
    return {t.subject: t.object for t in triples if t.predicate == STATUS}


def _unreal_standard_triples(asserted, inferred) -> list[str]:
    unreal = {s for s, status in _statuses(asserted).items() if status != HAPPENED}
    assert unreal, "no unreal event in the data: the test would prove nothing"
    return sorted(
        str(t) for t in inferred if _standard(t) and (t.subject in unreal or t.object in unreal)
    )


def test_no_unreal_event_carries_an_inferred_standard_event_triple(built):
    store = Store()
    store.load(built.dataset, RdfFormat.N_QUADS)
    inferred_graph = NamedNode(ns.GRAPH_INFERRED)
    asserted, inferred = set(), set()
    for q in store:
        (inferred if q.graph_name == inferred_graph else asserted).add(q.triple)
    assert _unreal_standard_triples(asserted, inferred) == []


def test_every_event_that_happened_is_a_standard_event_and_nothing_else_is(built):
    store = Store()
    store.load(built.dataset, RdfFormat.N_QUADS)
    triples = {q.triple for q in store}
    statuses = _statuses(triples)
    for cls in EVENT_CLASSES:
        found = {t.subject for t in triples if t.predicate == TYPE and t.object == cls}
        happened = {s for s, status in statuses.items() if status == HAPPENED}
        assert found == happened, cls.value


@pytest.fixture(scope="module")
def seed_asserted(project_root, tmp_path_factory, copy_project):
    project = locate(copy_project(project_root, tmp_path_factory.mktemp("unreal") / "p"))
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    return asserted_triples([*loaded.quads(), *(q for a in anchored for q in a.quads)])


@pytest.mark.parametrize("engine", ["kg", "reasonable", "owlrl"])
def test_each_engine_derives_happened_events_only(seed_asserted, engine):
    if engine == "owlrl":
        from tests.test_inference import _owlrl_inferred

        inferred = _owlrl_inferred(seed_asserted)
    else:
        inferred = set(infer(seed_asserted, engine=engine))
    assert _unreal_standard_triples(seed_asserted, inferred) == []
    happened_type = NamedNode(ns.KG + "HappenedEvent")
    statuses = _statuses(seed_asserted)
    typed = {t.subject for t in inferred if t.predicate == TYPE and t.object == happened_type}
    assert typed == {s for s, status in statuses.items() if status == HAPPENED}
    for cls in EVENT_CLASSES:
        assert {t.subject for t in inferred if t.predicate == TYPE and t.object == cls} == typed
