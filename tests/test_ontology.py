"""Ontology hygiene: every term labelled, defined, typed; nothing undefined or foreign-minted.

These checks read the Turtle sources directly (no build), so they point at the file to fix.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import terms

ROOT = Path(__file__).resolve().parent.parent

KG = "https://w3id.org/oman-talks/ontology#"
KGI = "https://w3id.org/oman-talks/issue/"
KGT = "https://w3id.org/oman-talks/event-type/"
KGR = "https://w3id.org/oman-talks/id/"
KGSH = "https://w3id.org/oman-talks/shapes#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"

TYPE = ox.NamedNode(RDF + "type")
LABEL = ox.NamedNode(RDFS + "label")
DEFINITION = ox.NamedNode(SKOS + "definition")
DOMAIN = ox.NamedNode(RDFS + "domain")
RANGE = ox.NamedNode(RDFS + "range")
SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
SUBPROPERTY = ox.NamedNode(RDFS + "subPropertyOf")
BROADER = ox.NamedNode(SKOS + "broader")


def _parse(paths):
    quads = []
    for path in paths:
        quads.extend(ox.parse(path=str(path)))
    return quads


@pytest.fixture(scope="module")
def ontology():
    files = sorted(p for p in (ROOT / "ontology").glob("*.ttl") if not p.name.startswith("shapes"))
    store = ox.Store()
    store.extend(_parse(files))
    return store


@pytest.fixture(scope="module")
def data_quads():
    return _parse(sorted((ROOT / "data").glob("**/*.ttl")))


@pytest.fixture(scope="module")
def shape_quads():
    return _parse(sorted((ROOT / "ontology").glob("shapes*.ttl")))


def _defined_terms(store: ox.Store) -> set[str]:
    """Every IRI the ontology gives a type to (classes, properties, individuals, concepts)."""
    return {
        q.subject.value
        for q in store.quads_for_pattern(None, TYPE, None)
        if isinstance(q.subject, ox.NamedNode)
    }


def _own_terms(store: ox.Store) -> list[str]:
    return sorted(t for t in _defined_terms(store) if t.startswith((KG, KGI, KGT)))


def _literals(store, subject, predicate):
    return [q.object for q in store.quads_for_pattern(ox.NamedNode(subject), predicate, None)]


def test_every_term_is_labelled_in_english_and_chinese(ontology):
    missing = []
    for term in _own_terms(ontology):
        langs = {lit.language for lit in _literals(ontology, term, LABEL)}
        for lang in ("en", "zh"):
            if lang not in langs:
                missing.append(f"{term} lacks rdfs:label@{lang}")
    assert not missing, "\n".join(missing)


def test_every_term_has_one_label_per_language(ontology):
    doubled = []
    for term in _own_terms(ontology):
        langs = [lit.language for lit in _literals(ontology, term, LABEL)]
        doubled += [
            f"{term} has {langs.count(lang)} labels @{lang}"
            for lang in set(langs)
            if langs.count(lang) > 1
        ]
    assert not doubled, "\n".join(doubled)


def test_every_term_is_defined(ontology):
    undefined = [t for t in _own_terms(ontology) if not _literals(ontology, t, DEFINITION)]
    assert not undefined, "terms without skos:definition:\n" + "\n".join(undefined)


def test_every_property_declares_domain_and_range(ontology):
    problems = []
    for kind in ("ObjectProperty", "DatatypeProperty"):
        for q in ontology.quads_for_pattern(None, TYPE, ox.NamedNode(OWL + kind)):
            prop = q.subject.value
            if not _literals(ontology, prop, DOMAIN):
                problems.append(f"{prop} has no rdfs:domain")
            if not _literals(ontology, prop, RANGE):
                problems.append(f"{prop} has no rdfs:range")
    assert not problems, "\n".join(problems)


def test_properties_and_classes_are_typed(ontology):
    """A kg: term used as a class or property in the ontology must itself be declared."""
    defined = _defined_terms(ontology)
    used = set()
    for q in ontology:
        if q.predicate in (SUBCLASS, SUBPROPERTY, DOMAIN, RANGE):
            for t in (q.subject, q.object):
                if isinstance(t, ox.NamedNode) and t.value.startswith(KG):
                    used.add(t.value)
    assert sorted(used - defined) == []


def _terms_used(quads):
    """Predicates, classes and IRI objects appearing in a set of quads."""
    usage = terms.rdf_usage("", "", quads)
    return usage.terms | usage.links


def _problems(ontology_store, used_by: dict[str, frozenset[str]], described: set[str]):
    ontology_quads = list(ontology_store)
    described = described | terms.described_resources(ontology_quads)
    usages = [terms.Usage(name, "", used) for name, used in used_by.items()]
    return [str(p) for p in terms.check(ontology_quads, described, usages)]


def test_every_term_used_in_data_is_defined(ontology, data_quads):
    subjects = terms.described_resources(data_quads)
    problems = _problems(ontology, {"data": _terms_used(data_quads)}, subjects)
    assert not problems, "\n".join(problems)


def test_every_term_used_in_the_ontology_is_known(ontology):
    problems = _problems(ontology, {"ontology": _terms_used(list(ontology))}, set())
    assert not problems, "\n".join(problems)


def test_every_term_used_in_shapes_is_defined(ontology, shape_quads, data_quads):
    if not shape_quads:
        pytest.fail("ontology/shapes.ttl is missing")
    subjects = terms.described_resources(data_quads) | terms.described_resources(shape_quads)
    problems = _problems(ontology, {"shapes": _terms_used(shape_quads)}, subjects)
    assert not problems, "\n".join(problems)


def _query_terms(text: str) -> set[str]:
    return set(terms.query_usage("", text).terms)


def test_every_term_used_in_queries_is_defined(ontology, data_quads):
    queries = sorted((ROOT / "queries").glob("*.rq"))
    assert queries, "no stored queries"
    used = {p.name: terms.query_usage(p.name, p.read_text(encoding="utf-8")).terms for p in queries}
    problems = _problems(ontology, used, terms.described_resources(data_quads))
    assert not problems, "\n".join(problems)


def test_the_term_check_catches_misspellings_and_foreign_terms(ontology):
    bad = f"""PREFIX kg: <{KG}>\nPREFIX schema: <https://schema.org/>
SELECT ?x WHERE {{ ?x kg:perfomedBy ?y ; schema:negotiator ?z ; kg:performedBy ?w }}"""
    problems = _problems(ontology, {"q.rq": terms.query_usage("q.rq", bad).terms}, set())
    assert any("kg:perfomedBy" in p or "perfomedBy" in p for p in problems), problems
    assert any("negotiator" in p for p in problems), problems
    assert not any("performedBy is" in p for p in problems), problems


def test_every_own_term_is_used_somewhere(ontology, data_quads, shape_quads):
    """Terms nobody uses rot: each class, property and value is used by data or shapes."""
    used = set(_terms_used(data_quads)) | set(_terms_used(shape_quads))
    for path in (ROOT / "queries").glob("*.rq"):
        used |= _query_terms(path.read_text(encoding="utf-8"))
    # Terms used by the ontology's own axioms (superclasses, schemes) count as used.
    for q in ontology:
        if q.predicate != TYPE and isinstance(q.object, ox.NamedNode):
            used.add(q.object.value)
    # Produced by the build rather than written in data.
    produced = {KG + "hasEvidence", KG + "sha256", KG + "characterCount"}
    unused = [t for t in _own_terms(ontology) if t.startswith(KG) and t not in used | produced]
    assert not unused, "unused terms:\n" + "\n".join(unused)


@pytest.mark.parametrize(
    "relation", [SUBCLASS, SUBPROPERTY, BROADER], ids=["subClassOf", "subPropertyOf", "broader"]
)
def test_hierarchies_have_no_cycles(ontology, relation):
    edges = defaultdict(set)
    for q in ontology.quads_for_pattern(None, relation, None):
        edges[q.subject.value].add(q.object.value)

    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("cycle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in list(edges):
        if node not in state:
            visit(node, [])


def test_no_blank_nodes_in_sources(ontology, data_quads, shape_quads):
    """Blank nodes get fresh labels on every parse, which would break byte-identical builds."""
    blank = [
        q
        for q in list(ontology) + data_quads + shape_quads
        if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)
    ]
    assert blank == []


def test_language_tags_are_lowercase():
    bad = []
    for path in sorted(ROOT.glob("ontology/*.ttl")) + sorted(ROOT.glob("data/**/*.ttl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r'"@[a-z]*[A-Z]', line):
                bad.append(f"{path.relative_to(ROOT)}:{lineno}")
    assert bad == []


def test_wikidata_links_only_from_verified_rows():
    """Every Q-identifier in the data is a VERIFIED row of the reference table, for that name."""
    table = ROOT / "data" / "enrichment" / "wikidata-qids.tsv"
    verified = set()
    for row in table.read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 4 and cols[3] == "VERIFIED":
            verified.add(cols[2])
    used = set()
    for path in (ROOT / "data").glob("**/*.ttl"):
        used |= set(re.findall(r"wd:(Q\d+)", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"wikidata\.org/entity/(Q\d+)", path.read_text(encoding="utf-8")))
    assert used, "no Wikidata links found"
    assert used <= verified, f"unverified identifiers: {sorted(used - verified)}"


def test_shipped_reference_table_matches_the_shared_one():
    shared = ROOT.parent / "shared" / "reference" / "wikidata-qids.tsv"
    if shared.exists():  # beside a checkout in this workplace; elsewhere the shipped copy stands
        assert shared.read_bytes() == (ROOT / "data/enrichment/wikidata-qids.tsv").read_bytes()


def test_wikidata_links_live_only_in_enrichment():
    for path in (ROOT / "data").glob("**/*.ttl"):
        if path.parent.name != "enrichment":
            assert "wikidata" not in path.read_text(encoding="utf-8").lower().replace(
                "kg:wikidataitem", ""
            ), path
