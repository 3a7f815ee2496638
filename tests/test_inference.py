"""OWL RL inference: its own graph, nothing asserted, no noise, and agreement with owlrl."""

from __future__ import annotations

import owlrl
import pytest
from pyoxigraph import BlankNode, Dataset, Literal, NamedNode, RdfFormat, Triple, parse
from rdflib import Literal as RdflibLiteral

from kg import namespaces as ns
from kg.anchor import expand_evidence
from kg.load import load_project
from kg.project import locate
from kg.rdfterms import TermMap
from kg.reason import asserted_triples, infer, is_noise

TYPE = NamedNode(ns.RDF + "type")
SUBCLASS = NamedNode(ns.RDFS + "subClassOf")
INFERRED = NamedNode(ns.GRAPH_INFERRED)


def _dataset(result) -> Dataset:
    return Dataset(parse(result.dataset, RdfFormat.N_QUADS))


def _split(dataset):
    inferred, asserted = set(), set()
    for q in dataset:
        (inferred if q.graph_name == INFERRED else asserted).add(q.triple)
    return inferred, asserted


def test_subclass_instance_gets_superclass_type_in_inferred_graph_only(built_mini):
    inferred, asserted = _split(_dataset(built_mini))
    usa_is_actor = Triple(NamedNode(ns.KGR + "usa"), TYPE, NamedNode(ns.KG + "Actor"))
    assert usa_is_actor in inferred
    assert usa_is_actor not in asserted
    # Alignment with external vocabularies: schema.org users find the meeting as an Event.
    talks = Triple(NamedNode(ns.KGR + "talks-2026-02-06"), TYPE, NamedNode(ns.SCHEMA + "Event"))
    assert talks in inferred


def test_inverse_property_is_materialised(built_mini):
    inferred, _ = _split(_dataset(built_mini))
    made = Triple(
        NamedNode(ns.KGR + "usa"),
        NamedNode(ns.KG + "madeDemand"),
        NamedNode(ns.KGR + "demand-stop-enrichment"),
    )
    assert made in inferred


def test_superclass_types_of_the_project_are_inferred(built):
    """Generic: every asserted instance of C gets each asserted superclass D of C."""
    inferred, asserted = _split(_dataset(built))
    supers = {
        (t.subject, t.object)
        for t in asserted
        if t.predicate == SUBCLASS and isinstance(t.object, NamedNode)
    }
    checked = 0
    for t in asserted:
        if t.predicate != TYPE or isinstance(t.subject, BlankNode):
            continue
        for sub, sup in supers:
            if sub == t.object and sup != t.object:
                expected = Triple(t.subject, TYPE, sup)
                assert expected in inferred or expected in asserted
                checked += 1
    assert checked, "the project has no instance of a subclass: nothing was checked"


def test_inferred_graph_holds_nothing_asserted_and_no_noise(built):
    inferred, asserted = _split(_dataset(built))
    assert inferred, "no inferences at all"
    assert not inferred & asserted
    assert not [t for t in inferred if is_noise(t)]


def test_noise_filter():
    x = NamedNode(ns.KGR + "x")
    assert is_noise(Triple(x, TYPE, NamedNode(ns.OWL + "Thing")))
    assert is_noise(Triple(x, NamedNode(ns.OWL + "sameAs"), x))
    assert is_noise(Triple(NamedNode(ns.OWL + "Thing"), TYPE, NamedNode(ns.OWL + "Class")))
    assert is_noise(Triple(NamedNode(ns.XSD + "string"), TYPE, NamedNode(ns.RDFS + "Datatype")))
    assert not is_noise(Triple(x, TYPE, NamedNode(ns.KG + "Actor")))
    assert not is_noise(Triple(x, NamedNode(ns.OWL + "sameAs"), NamedNode(ns.KGR + "y")))


def test_plain_strings_are_not_reinferred_as_xsd_string():
    # reasonable returns "x"^^xsd:string for plain "x"; it must not count as a new triple.
    x, label = NamedNode(ns.KGR + "x"), NamedNode(ns.RDFS + "label")
    asserted = {
        Triple(x, label, Literal("plain")),
        Triple(x, TYPE, NamedNode(ns.KG + "Thing")),
        Triple(NamedNode(ns.KG + "Thing"), SUBCLASS, NamedNode(ns.KG + "Top")),
        Triple(x, NamedNode(ns.OWL + "sameAs"), NamedNode(ns.KGR + "y")),
    }
    new = set(infer(asserted))
    assert Triple(x, TYPE, NamedNode(ns.KG + "Top")) in new
    assert Triple(NamedNode(ns.KGR + "y"), label, Literal("plain")) in new
    assert not [t for t in new if t.predicate == label and t.subject == x]
    assert not [t for t in new if is_noise(t)]


# The cross-check compares the two engines on ABox knowledge only: rdf:type triples and
# triples whose predicate is a domain property (not in the rdf/rdfs/owl/xsd vocabularies),
# about subjects that are IRIs outside those vocabularies. Schema-level (TBox) closure differs
# on purpose and is excluded: owlrl adds reflexive rdfs:subClassOf / owl:equivalentClass /
# owl:equivalentProperty, `C rdfs:subClassOf owl:Thing`, domain/range widening (scm-dom2,
# scm-rng2) and subclasses of owl:unionOf expressions, which reasonable does not derive.
def _abox(t: Triple) -> bool:
    s = t.subject
    if not isinstance(s, NamedNode) or s.value.startswith(ns.W3C_NAMESPACES):
        return False
    return t.predicate == TYPE or not t.predicate.value.startswith(ns.W3C_NAMESPACES)


def _owlrl_inferred(asserted: set[Triple]) -> set[Triple]:
    terms = TermMap()
    graph = terms.graph(asserted)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    out = set()
    for s, p, o in graph:
        if isinstance(s, RdflibLiteral):
            continue  # owlrl types literals; not representable in RDF 1.1
        out.add(Triple(terms.to_oxigraph(s), terms.to_oxigraph(p), terms.to_oxigraph(o)))
    return {t for t in out - asserted if not is_noise(t)}


def test_reasonable_agrees_with_owlrl_on_abox(project_root, tmp_path, copy_project):
    project = locate(copy_project(project_root, tmp_path / "p"))
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    asserted = asserted_triples([*loaded.quads(), *(q for a in anchored for q in a.quads)])
    fast = {t for t in infer(asserted) if _abox(t)}
    reference = {t for t in _owlrl_inferred(asserted) if _abox(t)}
    assert fast, "nothing to compare"
    assert sorted(map(str, fast - reference)) == []
    assert sorted(map(str, reference - fast)) == []


ALIGNMENTS = [
    # (our class, a class of a reused vocabulary that must find every instance after inference)
    # (kg:HappenedEvent, the events that took place, is checked in tests/test_unreal_events.py:
    # it is derived from kg:status, never asserted.)
    ("Actor", "http://www.w3.org/ns/prov#Agent"),
    ("Actor", "http://xmlns.com/foaf/0.1/Agent"),
    ("Person", "https://schema.org/Person"),
    ("Person", "http://xmlns.com/foaf/0.1/Person"),
    ("Organization", "https://schema.org/Organization"),
    ("Place", "https://schema.org/Place"),
    ("Issue", "http://www.w3.org/2004/02/skos/core#Concept"),
    ("NewsArticle", "https://schema.org/NewsArticle"),
    ("Post", "http://www.w3.org/ns/org#Post"),
]


@pytest.mark.parametrize(("ours", "theirs"), ALIGNMENTS, ids=[a[1] for a in ALIGNMENTS])
def test_a_user_of_the_reused_vocabulary_finds_every_instance(built, ours, theirs):
    """After inference, `?x a schema:Event` (etc.) finds exactly what our subclasses hold."""
    from pyoxigraph import Store, Variable

    store = Store()
    store.load(built.dataset, RdfFormat.N_QUADS)
    ours_query = """
        SELECT DISTINCT ?x ?ours ?inferred WHERE {
          GRAPH ?g { ?x a ?c } FILTER(?g != ?inferred)
          ?c <http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?ours }"""
    asserted = {
        s["x"]
        for s in store.query(
            ours_query,
            use_default_graph_as_union=True,
            substitutions={
                Variable("ours"): NamedNode(ns.KG + ours),
                Variable("inferred"): INFERRED,
            },
        )
    }
    found = {
        s["x"]
        for s in store.query(
            "SELECT DISTINCT ?x ?theirs WHERE { ?x a ?theirs }",
            use_default_graph_as_union=True,
            substitutions={Variable("theirs"): NamedNode(theirs)},
        )
    }
    assert asserted, f"no kg:{ours} in the data"
    assert asserted <= found, (
        f"not found as {theirs}: {sorted(x.value for x in asserted - found)[:5]}"
    )
