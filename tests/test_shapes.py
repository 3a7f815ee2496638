"""The SHACL shapes (ontology/shapes.ttl): one conforming and one failing case per shape.

Every case is a small Turtle snippet added to a fixed, conforming "world" (an article, its
publisher, one evidence annotation, two states, a person, a place, an event, a demand …) and to
the ontology, then validated with pySHACL exactly as the build does: ontology merged into the
data graph and passed as ont_graph, inference "none", advanced features on.

- A conforming case must produce no result at all (no violation, no warning) on its nodes.
- A failing case must produce a result whose sh:sourceShape is the shape under test, so that a
  case cannot pass by failing on some other shape.

Speed: each case validates only the snippet's own subjects (pySHACL's focus_nodes), in place, on
a data graph that already holds the ontology (passing it again as ont_graph would only re-add
its triples). The world and the ontology are validated once, by their own tests. pySHACL applies
focus_nodes to nested shapes too, so a value shape (sh:qualifiedValueShape) would see none of
its values: cases of shapes that use one run a full validation, with ont_graph, like the build;
and one test validates all conforming cases together in full.

The last tests build the real project's evidence with the engine (kg.anchor) and check that the
project's data conforms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyshacl
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS

ROOT = Path(__file__).resolve().parent.parent
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"

KG = Namespace("https://w3id.org/oman-talks/ontology#")
KGSH = Namespace("https://w3id.org/oman-talks/shapes#")
SH = Namespace("http://www.w3.org/ns/shacl#")
OA = Namespace("http://www.w3.org/ns/oa#")
EX = Namespace("http://example.org/")

PREFIXES = """\
@prefix kg:   <https://w3id.org/oman-talks/ontology#> .
@prefix kgr:  <https://w3id.org/oman-talks/id/> .
@prefix kgi:  <https://w3id.org/oman-talks/issue/> .
@prefix kgt:  <https://w3id.org/oman-talks/event-type/> .
@prefix ev:   <https://w3id.org/oman-talks/id/evidence/t/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl:  <http://www.w3.org/2002/07/owl#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix oa:   <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix wd:   <http://www.wikidata.org/entity/> .
@prefix ex:   <http://example.org/> .
"""

# Shorthands expanded in every snippet.
LABELS = 'rdfs:label "x"@en , "x"@zh'
EVIDENCE = "kg:hasEvidence ev:0-4"
EV = "https://w3id.org/oman-talks/id/evidence/t/"

# A small world that conforms; cases refer to its nodes (kgr:t-…).
WORLD = f"""
kgr:t-article a kg:NewsArticle ; {LABELS} ;
    kg:sourceFile "t.txt" ; kg:publisher kgr:t-outlet .
kgr:t-outlet a kg:MediaOutlet ; {LABELS} ; {EVIDENCE} .
ev:0-4 a oa:Annotation ; oa:motivatedBy oa:identifying ; oa:hasBody kgr:t-outlet ;
    oa:hasTarget <{EV}0-4/target> ; prov:wasDerivedFrom kgr:t-article .
<{EV}0-4/target> a oa:SpecificResource ; oa:hasSource kgr:t-article ;
    oa:hasSelector <{EV}0-4/quote> , <{EV}0-4/position> .
<{EV}0-4/quote> a oa:TextQuoteSelector ; oa:exact "abcd" ; oa:prefix "" ; oa:suffix "efgh" .
<{EV}0-4/position> a oa:TextPositionSelector ;
    oa:start "0"^^xsd:nonNegativeInteger ; oa:end "4"^^xsd:nonNegativeInteger .
kgr:t-us a kg:State ; {LABELS} ; {EVIDENCE} .
kgr:t-iran a kg:State ; {LABELS} ; {EVIDENCE} .
kgr:t-person a kg:Person ; {LABELS} ; {EVIDENCE} .
kgr:t-place a kg:City ; {LABELS} ; kg:locatedIn kgr:t-us .
kgr:t-post a kg:Post ; {LABELS} ; {EVIDENCE} ; kg:postIn kgr:t-us .
kgr:t-event a kg:Event ; {LABELS} ; {EVIDENCE} ; kg:status kg:happened ;
    kg:hasCondition kgr:t-condition .
kgr:t-threatened a kg:Event ; {LABELS} ; {EVIDENCE} ; kg:status kg:threatened .
kgr:t-condition a kg:Condition ; {LABELS} ; {EVIDENCE} .
kgr:t-demand a kg:Demand ; {LABELS} ; {EVIDENCE} ;
    kg:heldBy kgr:t-us ; kg:addressedTo kgr:t-iran .
"""

# What a node of each class needs to conform with no warning (beyond labels and evidence).
REQUIRED = {
    "kg:Event": "kg:status kg:happened",
    "kg:HappenedEvent": "kg:status kg:happened",
    "kg:Tension": 'kg:tensionAbout kgr:t-event ; kg:explanation "x"@en',
    "kg:Meeting": "kg:status kg:happened ; kg:hasParticipant kgr:t-us , kgr:t-iran",
    "kg:Talks": (
        "kg:status kg:happened ; kg:hasParticipant kgr:t-us , kgr:t-iran ; kg:location kgr:t-place"
    ),
    "kg:Mediation": "kg:status kg:happened",
    "kg:Arrival": "kg:status kg:happened",
    "kg:Proposal": "kg:status kg:happened",
    "kg:Rejection": "kg:status kg:happened ; kg:respondsTo kgr:t-event",
    "kg:Threat": "kg:status kg:happened ; kg:threatens kgr:t-threatened",
    "kg:Ultimatum": "kg:status kg:happened ; kg:threatens kgr:t-threatened",
    "kg:Lobbying": "kg:status kg:happened",
    "kg:Concession": "kg:status kg:happened",
    "kg:Cancellation": "kg:status kg:threatened ; kg:target kgr:t-event",
    "kg:MilitaryStrike": "kg:status kg:happened",
    "kg:MilitaryDeployment": "kg:status kg:happened",
    "kg:ExecutiveOrder": "kg:status kg:happened",
    "kg:PunitiveMeasure": "kg:status kg:happened ; kg:target kgr:t-iran",
    "kg:Tariff": "kg:status kg:announced ; kg:target kgr:t-iran",
    "kg:Sanctions": "kg:status kg:happened ; kg:target kgr:t-iran",
    "kg:SanctionDesignation": "kg:status kg:happened ; kg:target kgr:t-iran",
    "kg:PublicStatement": (
        'kg:status kg:happened ; kg:speaker kgr:t-us ; kg:statedText "说"@zh ;'
        ' kg:englishRendering "said"@en'
    ),
    "kg:Protest": "kg:status kg:happened",
    "kg:Election": "kg:status kg:planned",
    "kg:Participation": "kg:participant kgr:t-person ; kg:role kg:observer",
    "kg:Stance": "kg:heldBy kgr:t-us",
    "kg:Demand": "kg:heldBy kgr:t-us ; kg:addressedTo kgr:t-iran",
    "kg:DemandPackage": "kg:heldBy kgr:t-us ; kg:includesDemand kgr:t-demand",
    "kg:Position": "kg:heldBy kgr:t-iran ; kg:firmness kg:firm",
    "kg:RedLine": "kg:heldBy kgr:t-iran ; kg:firmness kg:redLine",
    "kg:ConditionalOffer": "kg:heldBy kgr:t-iran ; kg:hasCondition kgr:t-condition",
    "kg:AnalysisClaim": (
        'kg:attributedTo kgr:t-article ; kg:claimKind kg:motive ; kg:statedText "说"@zh ;'
        ' kg:englishRendering "said"@en'
    ),
    "kg:UnnamedGroup": "kg:memberKind kg:Vessel",
    "kg:ActorGroup": "kg:memberKind kg:Person",
    "kg:Post": "kg:postIn kgr:t-us",
    "kg:GovernmentBody": "kg:affiliatedWith kgr:t-us",
    "kg:Ministry": "kg:affiliatedWith kgr:t-us",
    "kg:MilitaryOrganization": "kg:affiliatedWith kgr:t-us",
    "kg:Delegation": "kg:delegationOf kgr:t-us",
    "kg:NewsArticle": 'kg:sourceFile "y.txt" ; kg:publisher kgr:t-outlet',
}
# Statements about other nodes that a node of the class needs (it must be linked from them).
LINKED_FROM = {
    "kg:Participation": "kgr:t-event kg:hasParticipation {iri} .",
    "kg:Condition": "kgr:t-event kg:hasCondition {iri} .",
}


def node(
    cls: str,
    extra: str = "",
    *,
    iri: str = "kgr:x",
    labels: str = LABELS,
    evidence: bool = True,
    required: bool = True,
    linked: bool = True,
) -> str:
    """A node of `cls` with what it needs to conform, plus `extra` predicate-object pairs."""
    parts = [f"a {cls}"]
    if labels:
        parts.append(labels)
    if evidence:
        parts.append(EVIDENCE)
    if required and REQUIRED.get(cls):
        parts.append(REQUIRED[cls])
    if extra:
        parts.append(extra)
    text = f"{iri} " + " ;\n    ".join(parts) + " .\n"
    if linked and cls in LINKED_FROM:
        text += LINKED_FROM[cls].format(iri=iri) + "\n"
    return text


def renamed(text: str) -> str:
    """The same snippet with kgr:x renamed outside the project's namespace."""
    return text.replace("kgr:x ", "ex:x ").replace("kgr:x\n", "ex:x\n")


def vocab(cls: str, iri: str = "kg:testValue") -> str:
    """A vocabulary individual (controlled value) of `cls`, or an ontology term."""
    return f'{iri} a {cls} ; {LABELS} ; skos:definition "d"@en .\n'


def issue(extra: str = "", iri: str = "kgi:test") -> str:
    """A concept of the issues scheme, plus `extra` (starting with ' ; ')."""
    return (
        f"{iri} a kg:Issue ; {LABELS} ; skos:inScheme kgi:scheme ;\n"
        f'    skos:definition "d"@en ; skos:prefLabel "x"@en , "x"@zh{extra} .\n'
    )


def event_type(extra: str = "", iri: str = "kgt:test") -> str:
    """A PLOVER event type, plus `extra` (starting with ' ; ')."""
    return (
        f"{iri} a kg:EventType ; {LABELS} ; skos:inScheme kgt:plover ;\n"
        f'    skos:definition "d"@en ; skos:notation "TEST"{extra} .\n'
    )


# A second evidence annotation, complete; failing cases replace one line of it.
ANNOTATION = f"""
ev:5-9 a oa:Annotation ;
    oa:motivatedBy oa:identifying ;
    oa:hasBody kgr:t-us ;
    oa:hasTarget <{EV}5-9/target> ;
    prov:wasDerivedFrom kgr:t-article .
<{EV}5-9/target> a oa:SpecificResource ;
    oa:hasSource kgr:t-article ;
    oa:hasSelector <{EV}5-9/quote> , <{EV}5-9/position> .
<{EV}5-9/quote> a oa:TextQuoteSelector ;
    oa:exact "fghi" ;
    oa:prefix "abcde" ;
    oa:suffix "" .
<{EV}5-9/position> a oa:TextPositionSelector ;
    oa:start "5"^^xsd:nonNegativeInteger ;
    oa:end "9"^^xsd:nonNegativeInteger .
"""


def annotation(old: str = "", new: str = "") -> str:
    """The second annotation, with every `old` (which must occur) replaced by `new`."""
    if not old:
        return ANNOTATION
    assert old in ANNOTATION, old
    return ANNOTATION.replace(old, new)


@dataclass(frozen=True)
class Case:
    """A conforming and one or more failing snippets for one shape (kgsh:<shape>)."""

    shape: str
    good: str
    bad: tuple[str, ...]
    # Value shapes have no target: the test aims them at the objects of ex:value.
    value_shape: bool = False


def case(shape: str, good: str, *bad: str, value_shape: bool = False) -> Case:
    assert bad, shape
    return Case(shape, good, tuple(bad), value_shape)


def class_case(shape: str, cls: str, **kw) -> Case:
    """A class node shape: its node-level rule is the IRI namespace."""
    good = node(cls, **kw)
    return case(shape, good, renamed(good))


def text_case(shape: str, cls: str, prop: str) -> Case:
    """A property holding @zh/@en texts, at most one per language."""
    return case(
        shape,
        node(cls, f'{prop} "文"@zh , "text"@en'),
        node(cls, f'{prop} "text"'),
        node(cls, f'{prop} "a"@en , "b"@en'),
        node(cls, f'{prop} "text"@fr'),
    )


def value_case(shape: str, cls: str, prop: str, good: str, *bad: str) -> Case:
    """A property whose values are checked: `good` conforms, each of `bad` does not."""
    return case(shape, node(cls, f"{prop} {good}"), *(node(cls, f"{prop} {b}") for b in bad))


def without(cls: str, prop: str, extra: str = "") -> str:
    """A node of `cls` with what it needs, except `prop` (one of REQUIRED[cls])."""
    body = REQUIRED[cls]
    kept = " ; ".join(p for p in body.split(" ; ") if not p.startswith(prop + " "))
    assert kept != body, (cls, prop)
    return node(cls, " ; ".join(p for p in (kept, extra) if p), required=False)


def required_case(shape: str, cls: str, prop: str) -> Case:
    """A property the class requires (present in REQUIRED[cls]): drop it to fail."""
    return case(shape, node(cls), without(cls, prop))


EVENT_DATE = 'kg:date "2026-02-06"^^xsd:date ; kg:datePrecision kg:dayPrecision'

CASES: list[Case] = [
    # Value shapes (no target of their own)
    case("EnglishText", 'ex:s ex:value "a"@en .', 'ex:s ex:value "a"@zh .', value_shape=True),
    case("ChineseText", 'ex:s ex:value "文"@zh .', 'ex:s ex:value "a"@en .', value_shape=True),
    case(
        "QuoteSelectorValue",
        f"ex:s ex:value <{EV}0-4/quote> .",
        f"ex:s ex:value <{EV}0-4/position> .",
        value_shape=True,
    ),
    case(
        "PositionSelectorValue",
        f"ex:s ex:value <{EV}0-4/position> .",
        f"ex:s ex:value <{EV}0-4/quote> .",
        value_shape=True,
    ),
    # Labels
    case("Labelled", node("kg:City"), renamed(node("kg:City"))),
    case("Labelled-en", node("kg:City"), node("kg:City", labels='rdfs:label "x"@zh')),
    case("Labelled-zh", node("kg:City"), node("kg:City", labels='rdfs:label "x"@en')),
    case(
        "Labelled-languages",
        node("kg:City"),
        node("kg:City", labels=LABELS + ' , "y"@en'),
        node("kg:City", labels=LABELS + ' , "x"'),
        node("kg:City", labels=LABELS + ' , "x"@fr'),
    ),
    # Evidence and quotes
    case("Evidenced", node("kg:Person"), renamed(node("kg:Person"))),
    case(
        "Evidenced-hasEvidence",
        node("kg:Person"),
        node("kg:Person", evidence=False),
        node("kg:Condition", evidence=False),
        node("kg:Person", "kg:hasEvidence kgr:t-event", evidence=False),
    ),
    case(
        "Quoted",
        node("kg:Person", 'kg:quote "abcd"'),
        'ex:x kg:quote "abcd" ; kg:hasEvidence ev:0-4 .',
    ),
    case(
        "Quoted-quote",
        node("kg:Person", 'kg:quote "abcd"'),
        node("kg:Person", 'kg:quote "abcd"@zh'),
        node("kg:Person", 'kg:quote ""'),
    ),
    case(
        "Quoted-hasEvidence",
        node("kg:Person", 'kg:quote "abcd"'),
        'kgr:x kg:quote "abcd" .',
    ),
    case(
        "WikidataLinked",
        node("kg:Person", "kg:wikidataItem wd:Q30"),
        "ex:x kg:wikidataItem wd:Q30 .",
    ),
    value_case(
        "WikidataLinked-wikidataItem",
        "kg:Person",
        "kg:wikidataItem",
        "wd:Q30",
        "<https://www.wikidata.org/wiki/Q30>",
        "wd:Q30 , wd:Q794",
        '"Q30"',
    ),
    # Reported items
    class_case("Reported", "kg:Reported"),
    value_case("Reported-aboutIssue", "kg:Reported", "kg:aboutIssue", "kgi:sanctions", "kgr:t-us"),
    value_case("Reported-aboutActor", "kg:Reported", "kg:aboutActor", "kgr:t-us", "kgi:sanctions"),
    value_case("Reported-refersTo", "kg:Reported", "kg:refersTo", "kgr:t-event", "kgr:t-place"),
    value_case(
        "Reported-hasCondition", "kg:Reported", "kg:hasCondition", "kgr:t-condition", "kgr:t-event"
    ),
    value_case(
        "Reported-storyPhase",
        "kg:Reported",
        "kg:storyPhase",
        "kg:background",
        "kg:background , kg:runUp",
        "kg:happened",
    ),
    value_case(
        "Reported-valueQualifier", "kg:Reported", "kg:valueQualifier", "kg:example", "kg:happened"
    ),
    value_case(
        "Reported-restrictsAgendaTo",
        "kg:Reported",
        "kg:restrictsAgendaTo",
        "kgi:sanctions",
        "kgr:t-us",
    ),
    value_case(
        "Reported-excludesFromAgenda",
        "kg:Reported",
        "kg:excludesFromAgenda",
        "kgi:sanctions",
        "kgr:t-us",
    ),
    text_case("Reported-relativeTime", "kg:Reported", "kg:relativeTime"),
    text_case("Reported-slogan", "kg:Reported", "kg:slogan"),
    text_case("Reported-characterisation", "kg:Reported", "kg:characterisation"),
    value_case(
        "Reported-statedText",
        "kg:Reported",
        "kg:statedText",
        '"说"@zh',
        '"said"@en',
        '"说"',
        '"说"@zh , "讲"@zh',
    ),
    value_case(
        "Reported-englishRendering",
        "kg:Reported",
        "kg:englishRendering",
        '"said"@en',
        '"说"@zh',
        '"said" ',
        '"said"@en , "told"@en',
    ),
    value_case(
        "Reported-directQuote",
        "kg:Reported",
        "kg:directQuote",
        "true",
        '"yes"',
        "true , false",
    ),
    value_case("Reported-invokes", "kg:Reported", "kg:invokes", "kgr:t-us", '"NPT"'),
    # Actors
    class_case("Actor", "kg:Actor"),
    value_case(
        "Actor-affiliatedWith", "kg:Person", "kg:affiliatedWith", "kgr:t-us", "kgr:t-person"
    ),
    value_case("Actor-ally", "kg:State", "kg:ally", "kgr:t-us", "kgr:t-place"),
    class_case("Person", "kg:Person"),
    value_case("Person-holdsPost", "kg:Person", "kg:holdsPost", "kgr:t-post", "kgr:t-us"),
    value_case("Person-sonInLawOf", "kg:Person", "kg:sonInLawOf", "kgr:t-person", "kgr:t-us"),
    class_case("Organization", "kg:Organization"),
    value_case("Organization-ledBy", "kg:Organization", "kg:ledBy", "kgr:t-person", "kgr:t-place"),
    value_case(
        "Organization-hasMember", "kg:Organization", "kg:hasMember", "kgr:t-person", "kgr:t-place"
    ),
    class_case("State", "kg:State"),
    class_case("GovernmentBody", "kg:GovernmentBody"),
    required_case("GovernmentBody-affiliatedWith", "kg:GovernmentBody", "kg:affiliatedWith"),
    class_case("Ministry", "kg:Ministry"),
    class_case("MilitaryOrganization", "kg:MilitaryOrganization"),
    class_case("InternationalOrganization", "kg:InternationalOrganization"),
    class_case("PoliticalParty", "kg:PoliticalParty"),
    class_case("PoliticalFaction", "kg:PoliticalFaction"),
    class_case("MediaOutlet", "kg:MediaOutlet"),
    class_case("Delegation", "kg:Delegation"),
    case(
        "Delegation-delegationOf",
        node("kg:Delegation"),
        node("kg:Delegation", required=False),
        node("kg:Delegation", "kg:delegationOf kgr:t-person", required=False),
        node("kg:Delegation", "kg:delegationOf kgr:t-iran"),
    ),
    class_case("InformalAlliance", "kg:InformalAlliance"),
    class_case("UnnamedGroup", "kg:UnnamedGroup"),
    case(
        "UnnamedGroup-memberKind",
        node("kg:UnnamedGroup"),
        node("kg:UnnamedGroup", required=False),
        node("kg:UnnamedGroup", "kg:memberKind kgr:t-us", required=False),
        node("kg:UnnamedGroup", "kg:memberKind kg:Facility"),
    ),
    value_case(
        "UnnamedGroup-memberCount",
        "kg:UnnamedGroup",
        "kg:memberCount",
        "14 ; kg:countQualifier kg:exactly",
        "-1 ; kg:countQualifier kg:exactly",
        '"14" ; kg:countQualifier kg:exactly',
        "14 , 15 ; kg:countQualifier kg:exactly",
    ),
    value_case(
        "UnnamedGroup-countQualifier",
        "kg:UnnamedGroup",
        "kg:countQualifier",
        "kg:atLeast",
        "kg:happened",
        "kg:atLeast , kg:exactly",
    ),
    text_case("UnnamedGroup-criterion", "kg:UnnamedGroup", "kg:criterion"),
    value_case(
        "UnnamedGroup-inRegion", "kg:UnnamedGroup", "kg:inRegion", "kgr:t-place", "kgr:t-person"
    ),
    case(
        "MemberCountQualified",
        node("kg:UnnamedGroup", "kg:memberCount 14 ; kg:countQualifier kg:exactly"),
        node("kg:UnnamedGroup", "kg:memberCount 14"),
    ),
    class_case("ActorGroup", "kg:ActorGroup"),
    case(
        "ActorGroupMembers",
        node("kg:ActorGroup"),
        node("kg:ActorGroup", "kg:memberKind kg:Vessel", required=False),
        node("kg:ActorGroup", "kg:memberKind kg:Place", required=False),
    ),
    class_case("Post", "kg:Post"),
    case(
        "Post-postIn",
        node("kg:Post"),
        node("kg:Post", required=False),
        node("kg:Post", "kg:postIn kgr:t-place", required=False),
        node("kg:Post", "kg:postIn kgr:t-iran"),
    ),
    # Places and things
    class_case("Place", "kg:Place"),
    value_case("Place-locatedIn", "kg:City", "kg:locatedIn", "kgr:t-us", "kgr:t-person"),
    class_case("City", "kg:City"),
    class_case("Region", "kg:Region"),
    class_case("Facility", "kg:Facility"),
    class_case("Vessel", "kg:Vessel", evidence=False),
    class_case("MilitaryUnit", "kg:MilitaryUnit", evidence=False),
    class_case("Treaty", "kg:Treaty", evidence=False),
    # The article
    class_case("NewsArticle", "kg:NewsArticle", evidence=False),
    case(
        "NewsArticle-sourceFile",
        node("kg:NewsArticle", evidence=False),
        node("kg:NewsArticle", "kg:publisher kgr:t-outlet", evidence=False, required=False),
        node(
            "kg:NewsArticle",
            'kg:publisher kgr:t-outlet ; kg:sourceFile "data/sources/y.txt"',
            evidence=False,
            required=False,
        ),
        node(
            "kg:NewsArticle",
            'kg:publisher kgr:t-outlet ; kg:sourceFile "y.txt"@zh',
            evidence=False,
            required=False,
        ),
        node("kg:NewsArticle", 'kg:sourceFile "z.txt"', evidence=False),
    ),
    case(
        "NewsArticle-publisher",
        node("kg:NewsArticle", evidence=False),
        node("kg:NewsArticle", 'kg:sourceFile "y.txt"', evidence=False, required=False),
        node(
            "kg:NewsArticle",
            'kg:sourceFile "y.txt" ; kg:publisher kgr:t-place',
            evidence=False,
            required=False,
        ),
    ),
    case(
        "NewsArticle-pageFurniture",
        node("kg:NewsArticle", 'kg:pageFurniture "下一篇"', evidence=False),
        node("kg:NewsArticle", 'kg:pageFurniture ""', evidence=False),
        node("kg:NewsArticle", 'kg:pageFurniture "下一篇"@zh', evidence=False),
    ),
    case(
        "NewsArticle-hasHeadline",
        node("kg:NewsArticle", "kg:hasHeadline false", evidence=False),
        node("kg:NewsArticle", 'kg:hasHeadline "no"', evidence=False),
    ),
    case(
        "NewsArticle-hasPrintedYear",
        node("kg:NewsArticle", "kg:hasPrintedYear false", evidence=False),
        node("kg:NewsArticle", "kg:hasPrintedYear false , true", evidence=False),
    ),
    case(
        "NewsArticle-sha256",
        node("kg:NewsArticle", f'kg:sha256 "{"ab" * 32}"^^xsd:hexBinary', evidence=False),
        node("kg:NewsArticle", 'kg:sha256 "abcd"^^xsd:hexBinary', evidence=False),
        node("kg:NewsArticle", f'kg:sha256 "{"ab" * 32}"', evidence=False),
    ),
    case(
        "NewsArticle-characterCount",
        node("kg:NewsArticle", "kg:characterCount 1200", evidence=False),
        node("kg:NewsArticle", "kg:characterCount -5", evidence=False),
        node("kg:NewsArticle", "kg:characterCount 12.5", evidence=False),
    ),
    # Events
    class_case("Event", "kg:Event"),
    case(
        "Event-status",
        node("kg:Event"),
        node("kg:Event", required=False),
        node("kg:Event", "kg:status kg:happened , kg:planned", required=False),
        node("kg:Event", "kg:status kg:firm", required=False),
    ),
    class_case("Tension", "kg:Tension"),
    case(
        "Tension-tensionAbout",
        node("kg:Tension"),
        node("kg:Tension", required=False),
        node("kg:Tension", "kg:tensionAbout kgr:t-place"),
    ),
    case(
        "Tension-explanation",
        node("kg:Tension"),
        without("kg:Tension", "kg:explanation"),
        node("kg:Tension", 'kg:explanation "x"@fr'),
        node("kg:Tension", 'kg:explanation "a"@en , "b"@en'),
    ),
    class_case("HappenedEvent", "kg:HappenedEvent"),
    case(
        "HappenedEvent-status",
        node("kg:HappenedEvent"),
        node("kg:HappenedEvent", "kg:status kg:planned", required=False),
        node("kg:HappenedEvent", "kg:status kg:happened , kg:planned", required=False),
    ),
    value_case(
        "Event-eventType", "kg:Event", "kg:eventType", "kgt:plover-CONSULT", "kgi:sanctions"
    ),
    value_case("Event-location", "kg:Event", "kg:location", "kgr:t-place", "kgr:t-person"),
    value_case("Event-performedBy", "kg:Event", "kg:performedBy", "kgr:t-us", "kgr:t-place"),
    value_case("Event-hasParticipant", "kg:Event", "kg:hasParticipant", "kgr:t-us", "kgr:t-place"),
    case(
        "Event-hasParticipation",
        node("kg:Participation", iri="kgr:p", linked=False)
        + node("kg:Event", "kg:hasParticipation kgr:p"),
        node("kg:Event", "kg:hasParticipation kgr:t-event"),
    ),
    value_case("Event-target", "kg:Event", "kg:target", "kgr:t-us", '"Iran"'),
    value_case(
        "Event-date",
        "kg:Event",
        "kg:date",
        '"2026-02-06"^^xsd:date ; kg:datePrecision kg:dayPrecision',
        '"2026-02-06"^^xsd:date , "2026-02-07"^^xsd:date ; kg:datePrecision kg:dayPrecision',
    ),
    value_case(
        "Event-datePrecision",
        "kg:Event",
        "kg:datePrecision",
        'kg:dayPrecision ; kg:date "2026-02-06"^^xsd:date',
        'kg:happened ; kg:date "2026-02-06"^^xsd:date',
        'kg:dayPrecision , kg:monthPrecision ; kg:date "2026-02-06"^^xsd:date',
    ),
    text_case("Event-dateAsWritten", "kg:Event", "kg:dateAsWritten"),
    text_case("Event-dateBasis", "kg:Event", "kg:dateBasis"),
    text_case("Event-timeOfDay", "kg:Event", "kg:timeOfDay"),
    text_case("Event-purpose", "kg:Event", "kg:purpose"),
    text_case("Event-outcome", "kg:Event", "kg:outcome"),
    value_case(
        "Event-yearInferred",
        "kg:Event",
        "kg:yearInferred",
        f"true ; {EVENT_DATE}",
        f'"yes" ; {EVENT_DATE}',
        f"true , false ; {EVENT_DATE}",
    ),
    value_case(
        "Event-monthInferred",
        "kg:Event",
        "kg:monthInferred",
        f"true ; {EVENT_DATE}",
        f'"yes" ; {EVENT_DATE}',
    ),
    value_case(
        "Event-duration",
        "kg:Event",
        "kg:duration",
        '"PT8H"^^xsd:duration',
        '"PT8H"',
        '"8 hours"^^xsd:duration',
        '"PT8H"^^xsd:duration , "PT9H"^^xsd:duration',
    ),
    value_case(
        "Event-durationQualifier",
        "kg:Event",
        "kg:durationQualifier",
        "kg:approximately",
        "kg:happened",
    ),
    value_case("Event-after", "kg:Event", "kg:after", "kgr:t-event", "kgr:t-us"),
    value_case("Event-partOf", "kg:Event", "kg:partOf", "kgr:t-event", "kgr:t-us"),
    value_case("Event-ledTo", "kg:Event", "kg:ledTo", "kgr:t-event", "kgr:t-us"),
    value_case("Event-supersededBy", "kg:Event", "kg:supersededBy", "kgr:t-event", "kgr:t-us"),
    value_case("Event-respondsTo", "kg:Event", "kg:respondsTo", "kgr:t-demand", "kgr:t-place"),
    value_case("Event-announces", "kg:Event", "kg:announces", "kgr:t-demand", "kgr:t-place"),
    case(
        "DatedEvent",
        node("kg:Event", EVENT_DATE),
        node("kg:Reported", EVENT_DATE),
        node("kg:Demand", "kg:yearInferred true"),
    ),
    case(
        "DatedEvent-date",
        node("kg:Event", EVENT_DATE + " ; kg:yearInferred true"),
        node("kg:Event", "kg:datePrecision kg:dayPrecision"),
        node("kg:Event", "kg:yearInferred true"),
        node("kg:Event", "kg:monthInferred false"),
    ),
    case(
        "DatedEvent-datePrecision",
        node("kg:Event", EVENT_DATE),
        node("kg:Event", 'kg:date "2026-02-06"^^xsd:date'),
    ),
    case(
        "EventDateForm",
        node("kg:Event", EVENT_DATE)
        + node(
            "kg:Event",
            'kg:date "2025-06"^^xsd:gYearMonth ; kg:datePrecision kg:monthPrecision',
            iri="kgr:m",
        )
        + node(
            "kg:Event", 'kg:date "2025"^^xsd:gYear ; kg:datePrecision kg:yearPrecision', iri="kgr:y"
        ),
        node("kg:Event", 'kg:date "2026-02-06" ; kg:datePrecision kg:dayPrecision'),
        node("kg:Event", 'kg:date "2026-02-06"^^xsd:dateTime ; kg:datePrecision kg:dayPrecision'),
        node("kg:Event", 'kg:date "2026-02"^^xsd:gYearMonth ; kg:datePrecision kg:dayPrecision'),
        node("kg:Event", 'kg:date "2026-13"^^xsd:gYearMonth ; kg:datePrecision kg:monthPrecision'),
        node("kg:Event", 'kg:date "26"^^xsd:gYear ; kg:datePrecision kg:yearPrecision'),
        node("kg:Event", 'kg:date "2026-02-06"^^xsd:date ; kg:datePrecision kg:yearPrecision'),
        node("kg:Event", "kg:date kgr:t-event ; kg:datePrecision kg:dayPrecision"),
    ),
    class_case("Meeting", "kg:Meeting"),
    case(
        "Meeting-hasParticipant",
        node("kg:Meeting"),
        node("kg:Meeting", "kg:status kg:happened ; kg:hasParticipant kgr:t-us", required=False),
    ),
    class_case("Talks", "kg:Talks"),
    value_case(
        "Talks-format", "kg:Talks", "kg:format", "kg:bilateral , kg:indirect", "kg:happened"
    ),
    value_case(
        "Talks-agreementReached", "kg:Talks", "kg:agreementReached", "false", '"no"', "true , false"
    ),
    case(
        "TalksLocated",
        node("kg:Talks")
        + node(
            "kg:Talks",
            "kg:status kg:planned ; kg:hasParticipant kgr:t-us , kgr:t-iran",
            iri="kgr:y",
            required=False,
        ),
        node(
            "kg:Talks",
            "kg:status kg:happened ; kg:hasParticipant kgr:t-us , kgr:t-iran",
            required=False,
        ),
    ),
    class_case("Mediation", "kg:Mediation"),
    class_case("Arrival", "kg:Arrival"),
    class_case("Proposal", "kg:Proposal"),
    value_case(
        "Proposal-proposesChangeTo", "kg:Proposal", "kg:proposesChangeTo", "kgr:t-event", "kgr:t-us"
    ),
    value_case(
        "Proposal-proposedLocation",
        "kg:Proposal",
        "kg:proposedLocation",
        "kgr:t-place",
        "kgr:t-person",
    ),
    value_case(
        "Proposal-proposedFormat", "kg:Proposal", "kg:proposedFormat", "kg:bilateral", "kg:firm"
    ),
    value_case(
        "Proposal-restrictsParticipationTo",
        "kg:Proposal",
        "kg:restrictsParticipationTo",
        "kgr:t-us , kgr:t-iran",
        "kgr:t-place",
    ),
    class_case("Rejection", "kg:Rejection"),
    required_case("Rejection-respondsTo", "kg:Rejection", "kg:respondsTo"),
    class_case("Threat", "kg:Threat"),
    case(
        "Threat-threatens",
        node("kg:Threat"),
        node("kg:Threat", "kg:status kg:happened ; kg:threatens kgr:t-us", required=False),
    ),
    case(
        "ThreatenedStatus",
        node("kg:Threat"),
        node("kg:Threat", "kg:status kg:happened ; kg:threatens kgr:t-event", required=False),
    ),
    class_case("Ultimatum", "kg:Ultimatum"),
    class_case("Lobbying", "kg:Lobbying"),
    class_case("Concession", "kg:Concession"),
    value_case(
        "Concession-agreedLocation",
        "kg:Concession",
        "kg:agreedLocation",
        "kgr:t-place",
        "kgr:t-person",
    ),
    value_case(
        "Concession-agreedFormat", "kg:Concession", "kg:agreedFormat", "kg:bilateral", "kg:firm"
    ),
    class_case("Cancellation", "kg:Cancellation"),
    case(
        "Cancellation-target",
        node("kg:Cancellation"),
        node("kg:Cancellation", "kg:status kg:threatened ; kg:target kgr:t-us", required=False),
    ),
    class_case("MilitaryStrike", "kg:MilitaryStrike"),
    class_case("MilitaryDeployment", "kg:MilitaryDeployment"),
    class_case("ExecutiveOrder", "kg:ExecutiveOrder"),
    class_case("PunitiveMeasure", "kg:PunitiveMeasure"),
    value_case(
        "PunitiveMeasure-imposedThrough",
        "kg:PunitiveMeasure",
        "kg:imposedThrough",
        "kgr:t-event",
        "kgr:t-us",
    ),
    required_case("PunitiveMeasure-target", "kg:PunitiveMeasure", "kg:target"),
    class_case("Tariff", "kg:Tariff"),
    value_case("Tariff-rate", "kg:Tariff", "kg:rate", "25", "120", "-1", "25 , 30"),
    text_case("Tariff-tariffBasis", "kg:Tariff", "kg:tariffBasis"),
    case(
        "PercentDatatype",
        node("kg:Tariff", "kg:rate 25")
        + node("kg:ConditionalOffer", "kg:fromPercent 60.5 ; kg:toPercent 20", iri="kgr:y"),
        node("kg:Tariff", 'kg:rate "25"'),
        node("kg:Tariff", "kg:rate 2.5e1"),
        node("kg:ConditionalOffer", 'kg:fromPercent "60"^^xsd:float'),
        node("kg:ConditionalOffer", "kg:toPercent kgr:t-us"),
    ),
    class_case("Sanctions", "kg:Sanctions"),
    class_case("SanctionDesignation", "kg:SanctionDesignation"),
    class_case("PublicStatement", "kg:PublicStatement"),
    case(
        "PublicStatement-speaker",
        node("kg:PublicStatement"),
        without("kg:PublicStatement", "kg:speaker"),
        node("kg:PublicStatement", "kg:speaker kgr:t-iran"),
        without("kg:PublicStatement", "kg:speaker", "kg:speaker kgr:t-place"),
    ),
    required_case("PublicStatement-statedText", "kg:PublicStatement", "kg:statedText"),
    required_case("PublicStatement-englishRendering", "kg:PublicStatement", "kg:englishRendering"),
    class_case("Protest", "kg:Protest"),
    class_case("Election", "kg:Election"),
    class_case("Participation", "kg:Participation"),
    case(
        "Participation-participant",
        node("kg:Participation"),
        node("kg:Participation", "kg:role kg:observer", required=False),
        node("kg:Participation", "kg:participant kgr:t-us"),
        node(
            "kg:Participation", "kg:role kg:observer ; kg:participant kgr:t-place", required=False
        ),
    ),
    case(
        "Participation-role",
        node("kg:Participation"),
        node("kg:Participation", "kg:participant kgr:t-person", required=False),
        node("kg:Participation", "kg:role kg:mediator"),
        node("kg:Participation", "kg:participant kgr:t-person ; kg:role kg:firm", required=False),
    ),
    value_case(
        "Participation-onSide",
        "kg:Participation",
        "kg:onSide",
        "kgr:t-us",
        "kgr:t-person",
        "kgr:t-us , kgr:t-iran",
    ),
    case(
        "MediatorSideless",
        node(
            "kg:Participation", "kg:participant kgr:t-person ; kg:role kg:mediator", required=False
        ),
        node(
            "kg:Participation",
            "kg:participant kgr:t-person ; kg:role kg:mediator ; kg:onSide kgr:t-us",
            required=False,
        ),
    ),
    case(
        "ParticipationInEvent",
        node("kg:Participation"),
        node("kg:Participation", linked=False),
    ),
    # Stances, conditions, claims
    class_case("Stance", "kg:Stance"),
    case(
        "Stance-heldBy",
        node("kg:Stance"),
        node("kg:Stance", required=False),
        node("kg:Stance", "kg:heldBy kgr:t-iran"),
        node("kg:Stance", "kg:heldBy kgr:t-place", required=False),
    ),
    value_case("Stance-addressedTo", "kg:Stance", "kg:addressedTo", "kgr:t-iran", "kgr:t-place"),
    value_case("Stance-statedIn", "kg:Stance", "kg:statedIn", "kgr:t-event", "kgr:t-us"),
    value_case(
        "Stance-firmness",
        "kg:Stance",
        "kg:firmness",
        "kg:firm",
        "kg:happened",
        "kg:firm , kg:conditional",
    ),
    class_case("Demand", "kg:Demand"),
    required_case("Demand-addressedTo", "kg:Demand", "kg:addressedTo"),
    class_case("DemandPackage", "kg:DemandPackage"),
    case(
        "DemandPackage-includesDemand",
        node("kg:DemandPackage"),
        node("kg:DemandPackage", "kg:heldBy kgr:t-us", required=False),
        node("kg:DemandPackage", "kg:includesDemand kgr:t-event"),
    ),
    class_case("Position", "kg:Position"),
    required_case("Position-firmness", "kg:Position", "kg:firmness"),
    class_case("RedLine", "kg:RedLine"),
    case(
        "RedLine-firmness",
        node("kg:RedLine"),
        node("kg:RedLine", "kg:heldBy kgr:t-iran ; kg:firmness kg:firm", required=False),
        node("kg:RedLine", "kg:heldBy kgr:t-iran", required=False),
    ),
    class_case("ConditionalOffer", "kg:ConditionalOffer"),
    required_case("ConditionalOffer-hasCondition", "kg:ConditionalOffer", "kg:hasCondition"),
    text_case("ConditionalOffer-offerText", "kg:ConditionalOffer", "kg:offerText"),
    value_case(
        "ConditionalOffer-fromPercent",
        "kg:ConditionalOffer",
        "kg:fromPercent",
        "60",
        "160",
        "60 , 50",
    ),
    value_case(
        "ConditionalOffer-toPercent",
        "kg:ConditionalOffer",
        "kg:toPercent",
        "20 ; kg:fromPercent 60",
        "60 ; kg:fromPercent 20",
        "20 ; kg:fromPercent 20",
        "-20",
        "20 , 10",
    ),
    class_case("Condition", "kg:Condition"),
    value_case("Condition-requiredOf", "kg:Condition", "kg:requiredOf", "kgr:t-us", "kgr:t-place"),
    case("ConditionAttached", node("kg:Condition"), node("kg:Condition", linked=False)),
    class_case("Claim", "kg:Claim"),
    value_case("Claim-attributedTo", "kg:Claim", "kg:attributedTo", "kgr:t-article", "kgr:t-us"),
    value_case(
        "Claim-claimKind",
        "kg:Claim",
        "kg:claimKind",
        "kg:motive",
        "kg:happened",
        "kg:motive , kg:context",
    ),
    class_case("AnalysisClaim", "kg:AnalysisClaim"),
    case(
        "AnalysisClaim-attributedTo",
        node("kg:AnalysisClaim"),
        without("kg:AnalysisClaim", "kg:attributedTo"),
        node("kg:AnalysisClaim", "kg:attributedTo <https://w3id.org/oman-talks/graph/enrichment/t>")
        + "<https://w3id.org/oman-talks/graph/enrichment/t> a prov:Entity ; "
        + LABELS
        + " .",
    ),
    required_case("AnalysisClaim-claimKind", "kg:AnalysisClaim", "kg:claimKind"),
    required_case("AnalysisClaim-statedText", "kg:AnalysisClaim", "kg:statedText"),
    required_case("AnalysisClaim-englishRendering", "kg:AnalysisClaim", "kg:englishRendering"),
    # Controlled values, concepts, ontology terms
    case(
        "EnglishDefinition",
        vocab("kg:EventStatus"),
        f"kg:testValue a kg:EventStatus ; {LABELS} .",
        f'kg:testValue a kg:EventStatus ; {LABELS} ; skos:definition "定义"@zh .',
        f'kg:testValue a kg:EventStatus ; {LABELS} ; skos:definition "a"@en , "b"@en .',
    ),
    case(
        "InScheme",
        issue(),
        issue().replace("skos:inScheme kgi:scheme ;", ""),
        issue().replace("skos:inScheme kgi:scheme", "skos:inScheme kgr:t-us"),
        event_type(" ; skos:inScheme kgi:scheme"),
    ),
    case(
        "PrefLabel",
        issue(),
        issue(' ; skos:prefLabel "y"@en'),
        event_type(' ; skos:prefLabel "y"'),
    ),
    *(
        case(f"{name}", vocab(f"kg:{name}"), vocab(f"kg:{name}", iri="ex:testValue"))
        for name in (
            "EventStatus",
            "Firmness",
            "ParticipantRole",
            "TalksFormat",
            "Qualifier",
            "DatePrecision",
            "StoryPhase",
            "ClaimKind",
        )
    ),
    case("Issue", issue(), issue(iri="ex:test")),
    case(
        "Issue-broader", issue(" ; skos:broader kgi:sanctions"), issue(" ; skos:broader kgr:t-us")
    ),
    case("EventType", event_type(), event_type(iri="ex:test")),
    case(
        "EventType-notation",
        event_type(),
        event_type().replace(' ; skos:notation "TEST"', ""),
        event_type().replace('skos:notation "TEST"', 'skos:notation "TEST"@en'),
        event_type(' ; skos:notation "TEST2"'),
    ),
    case(
        "OntologyTerm",
        vocab("owl:Class", iri="kg:TestClass") + vocab("owl:ObjectProperty", iri="kg:testProperty"),
        vocab("owl:Class", iri="ex:TestClass"),
        vocab("owl:DatatypeProperty", iri="kgr:testProperty"),
    ),
    case(
        "ProvEntity",
        f"<https://w3id.org/oman-talks/graph/enrichment/t> a prov:Entity ; {LABELS} .",
        f"ex:x a prov:Entity ; {LABELS} .",
    ),
    # Evidence annotations
    case("Annotation", annotation(), annotation("ev:5-9 a", "ex:ann a")),
    case(
        "Annotation-hasBody",
        annotation(),
        annotation("oa:hasBody kgr:t-us ;", ""),
        annotation("oa:hasBody kgr:t-us ;", 'oa:hasBody "the US" ;'),
    ),
    case(
        "Annotation-hasTarget",
        annotation(),
        annotation(f"oa:hasTarget <{EV}5-9/target> ;", "oa:hasTarget kgr:t-us ;"),
        annotation(f"oa:hasTarget <{EV}5-9/target> ;", ""),
    ),
    case(
        "Annotation-motivatedBy",
        annotation(),
        annotation("oa:motivatedBy oa:identifying ;", "oa:motivatedBy oa:commenting ;"),
        annotation("oa:motivatedBy oa:identifying ;", ""),
    ),
    case(
        "Annotation-wasDerivedFrom",
        annotation(),
        annotation("prov:wasDerivedFrom kgr:t-article .", "prov:wasDerivedFrom kgr:t-us ."),
        annotation("    prov:wasDerivedFrom kgr:t-article .", "    oa:hasBody kgr:t-iran ."),
    ),
    case(
        "SpecificResource",
        annotation(),
        annotation(f"<{EV}5-9/target>", "ex:target"),
    ),
    case(
        "SpecificResource-hasSource",
        annotation(),
        annotation("oa:hasSource kgr:t-article ;", "oa:hasSource kgr:t-us ;"),
        annotation("oa:hasSource kgr:t-article ;", ""),
    ),
    case(
        "SpecificResource-hasSelector",
        annotation(),
        annotation(f"<{EV}5-9/quote> , <{EV}5-9/position> .", f"<{EV}5-9/quote> ."),
        annotation(
            f"<{EV}5-9/quote> , <{EV}5-9/position> .",
            f"<{EV}5-9/quote> , <{EV}5-9/position> , <{EV}0-4/quote> .",
        ),
    ),
    case(
        "SpecificResource-quoteSelector",
        annotation(),
        annotation(
            f"<{EV}5-9/quote> , <{EV}5-9/position> .", f"<{EV}5-9/position> , <{EV}0-4/position> ."
        ),
        annotation(
            f"<{EV}5-9/quote> , <{EV}5-9/position> .", f"<{EV}5-9/quote> , <{EV}0-4/quote> ."
        ),
    ),
    case(
        "SpecificResource-positionSelector",
        annotation(),
        annotation(
            f"<{EV}5-9/quote> , <{EV}5-9/position> .", f"<{EV}5-9/quote> , <{EV}0-4/quote> ."
        ),
    ),
    case(
        "TextQuoteSelector",
        annotation(),
        annotation(f"<{EV}5-9/quote> a", "ex:quote a"),
    ),
    case(
        "TextQuoteSelector-exact",
        annotation(),
        annotation('oa:exact "fghi" ;', ""),
        annotation('oa:exact "fghi" ;', 'oa:exact "" ;'),
        annotation('oa:exact "fghi" ;', 'oa:exact "fghi"@zh ;'),
        annotation('oa:exact "fghi" ;', 'oa:exact "fghi" , "jklm" ;'),
    ),
    case(
        "TextQuoteSelector-prefix",
        annotation(),
        annotation('oa:prefix "abcde" ;', 'oa:prefix "abcdefghijklmnopq" ;'),
        annotation('oa:prefix "abcde" ;', 'oa:prefix "abcde"@en ;'),
    ),
    case(
        "TextQuoteSelector-suffix",
        annotation(),
        annotation('oa:suffix "" .', 'oa:suffix "abcdefghijklmnopq" .'),
        annotation('oa:suffix "" .', 'oa:suffix "" , "x" .'),
    ),
    case(
        "TextPositionSelector",
        annotation(),
        annotation(f"<{EV}5-9/position> a", "ex:position a"),
    ),
    case(
        "TextPositionSelector-start",
        annotation(),
        annotation('oa:start "5"^^xsd:nonNegativeInteger', 'oa:start "9"^^xsd:nonNegativeInteger'),
        annotation('oa:start "5"^^xsd:nonNegativeInteger', 'oa:start "5"^^xsd:integer'),
        annotation('oa:start "5"^^xsd:nonNegativeInteger', 'oa:start "-1"^^xsd:nonNegativeInteger'),
        annotation('oa:start "5"^^xsd:nonNegativeInteger ;', ""),
    ),
    case(
        "TextPositionSelector-end",
        annotation(),
        annotation(' ;\n    oa:end "9"^^xsd:nonNegativeInteger', ""),
        annotation('oa:end "9"^^xsd:nonNegativeInteger', 'oa:end "9"'),
        annotation(
            'oa:end "9"^^xsd:nonNegativeInteger',
            'oa:end "9"^^xsd:nonNegativeInteger , "10"^^xsd:nonNegativeInteger',
        ),
    ),
]


# --------------------------------------------------------------------------------------------
# Fixtures and helpers


def _expand(snippet: str) -> str:
    return PREFIXES + snippet


def _parse(snippet: str) -> Graph:
    return Graph().parse(data=_expand(snippet), format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    g = Graph()
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        if not path.name.startswith("shapes"):
            g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def shapes() -> Graph:
    """The shapes graph, parsed once for the module."""
    return Graph().parse(SHAPES_FILE, format="turtle")


@pytest.fixture(scope="module")
def world(ontology) -> Graph:
    """Ontology + the conforming world; cases add their triples in place and take them out."""
    g = Graph()
    g += ontology
    g += _parse(WORLD)
    return g


@dataclass(frozen=True)
class Result:
    shape: str
    severity: str
    focus: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity} {self.shape} on {self.focus} {self.path}: {self.message}"


def _short(term) -> str:
    text = str(term)
    for prefix, ns in (("kgsh:", KGSH), ("kg:", KG), ("sh:", SH)):
        if text.startswith(str(ns)):
            return prefix + text[len(str(ns)) :]
    return text


def _results(report: Graph) -> list[Result]:
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        out.append(
            Result(
                shape=_short(report.value(r, SH.sourceShape)),
                severity=_short(report.value(r, SH.resultSeverity)),
                focus=str(report.value(r, SH.focusNode)),
                path=_short(report.value(r, SH.resultPath) or ""),
                message="; ".join(sorted(str(m) for m in report.objects(r, SH.resultMessage))),
            )
        )
    return sorted(out, key=str)


def _validate(data: Graph, shapes_graph: Graph, **options) -> list[Result]:
    """pySHACL as the build runs it; `data` must already hold the ontology."""
    conforms, report, text = pyshacl.validate(
        data,
        shacl_graph=shapes_graph,
        inference="none",
        advanced=True,
        allow_warnings=True,
        **options,
    )
    assert isinstance(report, Graph), text
    return _results(report)


def validate_full(snippet: str, world: Graph, shapes: Graph, ontology: Graph) -> list[Result]:
    """Validate all of world + snippet (a copy), ontology as ont_graph, as the build does."""
    data = Graph()
    data += world
    data += _parse(snippet)
    return _validate(data, shapes, ont_graph=ontology, inplace=True)


def validate_snippet(snippet: str, world: Graph, shapes: Graph) -> list[Result]:
    """Validate the snippet's subjects, with the snippet added to the world (then removed)."""
    added = [t for t in _parse(snippet) if t not in world]
    focus = sorted({str(s) for s, _, _ in added if isinstance(s, URIRef)})
    assert focus, "a snippet needs a named subject"
    for t in added:
        world.add(t)
    try:
        return _validate(world, shapes, inplace=True, focus_nodes=focus)
    finally:
        for t in added:
            world.remove(t)


def validate_value_shape(
    shape: str, snippet: str, world: Graph, shapes: Graph, ontology: Graph
) -> list[Result]:
    """A value shape has no target: aim it at the objects of ex:value, and use only it."""
    aimed = Graph()
    aimed += shapes
    aimed.add((KGSH[shape], SH.targetObjectsOf, EX.value))
    data = Graph()
    data += world
    data += _parse(snippet)
    return _validate(data, aimed, ont_graph=ontology, use_shapes=[str(KGSH[shape])])


def _uses_value_shapes(shapes: Graph, shape: URIRef) -> bool:
    nested = (SH.qualifiedValueShape, SH.node, SH["or"], SH["and"], SH["not"], SH.xone)
    return any((shape, p, None) in shapes for p in nested)


def run_case(c: Case, snippet: str, world, shapes, ontology) -> list[Result]:
    if c.value_shape:
        return validate_value_shape(c.shape, snippet, world, shapes, ontology)
    if _uses_value_shapes(shapes, KGSH[c.shape]):
        return validate_full(snippet, world, shapes, ontology)
    return validate_snippet(snippet, world, shapes)


def _shape_nodes(shapes: Graph) -> set[URIRef]:
    """Every shape of the file: typed node and property shapes, and anything used as one."""
    found = set(shapes.subjects(RDF.type, SH.NodeShape))
    found |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    for p in (SH.property, SH.node, SH.qualifiedValueShape, SH["not"]):
        found |= set(shapes.objects(None, p))
    return found


# --------------------------------------------------------------------------------------------
# The shapes file itself


def test_shapes_file_has_no_blank_nodes(shapes):
    blank = [t for t in shapes if any(isinstance(x, BNode) for x in t)]
    assert not blank, f"{len(blank)} triples with blank nodes, e.g. {blank[:3]}"


def test_every_shape_is_named_labelled_and_has_a_message(shapes):
    problems = []
    for shape in sorted(_shape_nodes(shapes)):
        name = _short(shape)
        if not isinstance(shape, URIRef) or not str(shape).startswith(str(KGSH)):
            problems.append(f"{name}: not named in kgsh:")
            continue
        if (shape, RDF.type, SH.NodeShape) not in shapes and (
            shape,
            RDF.type,
            SH.PropertyShape,
        ) not in shapes:
            problems.append(f"{name}: not typed sh:NodeShape or sh:PropertyShape")
        messages = [m for m in shapes.objects(shape, SH.message) if str(m).strip()]
        if not messages:
            problems.append(f"{name}: no sh:message")
        if any(isinstance(m, Literal) and m.language not in (None, "en") for m in messages):
            problems.append(f"{name}: sh:message is not in English")
        if not [lab for lab in shapes.objects(shape, RDFS.label) if str(lab).strip()]:
            problems.append(f"{name}: no rdfs:label")
    for constraint in sorted(shapes.subjects(RDF.type, SH.SPARQLConstraint)):
        if shapes.value(constraint, RDFS.label) is None:
            problems.append(f"{_short(constraint)}: no rdfs:label")
    assert not problems, "\n".join(problems)


def test_property_shapes_are_typed_and_node_shapes_are_not_paths(shapes):
    problems = []
    for s in shapes.subjects(SH.path, None):
        if (s, RDF.type, SH.PropertyShape) not in shapes:
            problems.append(f"{_short(s)} has sh:path but is not typed sh:PropertyShape")
    for s in shapes.subjects(RDF.type, SH.NodeShape):
        if (s, SH.path, None) in shapes:
            problems.append(f"{_short(s)} is a node shape with an sh:path")
    assert not problems, "\n".join(problems)


def test_warnings_are_documented_as_advisory(shapes):
    """Every sh:Warning shape says "(advisory)" and is listed in the file's header comment."""
    text = SHAPES_FILE.read_text(encoding="utf-8")
    block = text.split("The advisory shapes are exactly these:", 1)[1]
    block = block.split("Everything else is a Violation.", 1)[0]
    listed = {line.split()[1] for line in block.splitlines() if line.startswith("#   kgsh:")}
    warnings = {_short(s) for s in shapes.subjects(SH.severity, SH.Warning)}
    assert warnings == listed, f"undocumented: {warnings - listed}; stale: {listed - warnings}"
    for s in shapes.subjects(SH.severity, SH.Warning):
        assert str(shapes.value(s, SH.message)).startswith("(advisory)"), _short(s)
    other = set(shapes.objects(None, SH.severity)) - {SH.Warning, SH.Violation}
    assert not other, other


def test_every_shape_has_cases(shapes):
    shape_names = {_short(s).removeprefix("kgsh:") for s in _shape_nodes(shapes)}
    case_names = [c.shape for c in CASES]
    duplicates = {n for n in case_names if case_names.count(n) > 1}
    assert not duplicates, f"several cases for {sorted(duplicates)}"
    assert shape_names == set(case_names), (
        f"shapes without cases: {sorted(shape_names - set(case_names))}; "
        f"cases without shapes: {sorted(set(case_names) - shape_names)}"
    )


def _targeted_classes(shapes: Graph) -> dict[URIRef, set[URIRef]]:
    out: dict[URIRef, set[URIRef]] = {}
    for shape, _, cls in shapes.triples((None, SH.targetClass, None)):
        out.setdefault(cls, set()).add(shape)
    return out


def _classes_used_in_data() -> set[URIRef]:
    data = Graph()
    for path in sorted((ROOT / "data").glob("**/*.ttl")):
        data.parse(path, format="turtle")
    rows = data.query("SELECT DISTINCT ?class WHERE { ?node a ?class }")
    return {row[0] for row in rows}


# Classes of nodes the build makes from kg:quote, and of vocabulary individuals and concepts.
BUILT_CLASSES = {OA.Annotation, OA.SpecificResource, OA.TextQuoteSelector, OA.TextPositionSelector}


def test_every_class_used_in_data_has_a_node_shape(shapes, ontology):
    used = _classes_used_in_data() | BUILT_CLASSES
    # Classes whose individuals the ontology defines (statuses, roles, issues, event types …).
    for cls in ontology.subjects(RDF.type, OWL.Class):
        if (None, RDF.type, cls) in ontology:
            used.add(cls)
    assert KG.Issue in used and KG.EventType in used and KG.EventStatus in used
    targeted = _targeted_classes(shapes)
    missing = sorted(_short(c) for c in used if c not in targeted)
    assert not missing, f"classes without a node shape targeting them: {missing}"


def test_every_class_of_the_ontology_has_its_node_shape(shapes, ontology):
    """kgsh:<Name> targets kg:<Name> for every class of the ontology."""
    missing = []
    for cls in sorted(ontology.subjects(RDF.type, OWL.Class)):
        name = str(cls).removeprefix(str(KG))
        if (KGSH[name], SH.targetClass, cls) not in shapes:
            missing.append(name)
    assert not missing, f"no kgsh:<Name> shape targeting kg:<Name> for {missing}"


def test_labels_are_required_on_every_class_of_the_ontology(shapes, ontology):
    """Every class of the ontology is (a subclass of) a class kgsh:Labelled targets."""
    roots = set(shapes.objects(KGSH.Labelled, SH.targetClass))
    uncovered = []
    for cls in sorted(ontology.subjects(RDF.type, OWL.Class)):
        supers = set(ontology.transitive_objects(cls, RDFS.subClassOf))
        if not supers & roots:
            uncovered.append(_short(cls))
    assert not uncovered, f"kgsh:Labelled does not reach {uncovered}"


# --------------------------------------------------------------------------------------------
# The world, the ontology and the cases


def test_ontology_conforms(ontology, shapes):
    """The vocabulary individuals, concepts and terms of the ontology satisfy the shapes."""
    data = Graph()
    data += ontology
    results = _validate(data, shapes, ont_graph=ontology, inplace=True)
    assert not results, "\n".join(map(str, results))


def _numbered(snippet: str, n: int) -> str:
    return re.sub(r"kgr:(x|y|p|m)(?![\w-])", lambda m: f"kgr:{m.group(1)}-{n}", snippet)


def test_world_and_all_conforming_cases_conform_together(world, shapes, ontology):
    """One full validation (no focus_nodes, ontology as ont_graph) of every conforming case."""
    snippets = [_numbered(c.good, n) for n, c in enumerate(CASES) if not c.value_shape]
    results = validate_full("\n".join(snippets), world, shapes, ontology)
    assert not results, "\n".join(map(str, results))


@pytest.mark.parametrize("c", CASES, ids=[c.shape for c in CASES])
def test_conforming_case(c: Case, world, shapes, ontology):
    results = run_case(c, c.good, world, shapes, ontology)
    assert not results, f"kgsh:{c.shape} conforming case:\n{c.good}\n" + "\n".join(
        map(str, results)
    )


BAD = [(c, i) for c in CASES for i in range(len(c.bad))]


@pytest.mark.parametrize("c,i", BAD, ids=[f"{c.shape}-{i}" for c, i in BAD])
def test_failing_case(c: Case, i: int, world, shapes, ontology):
    snippet = c.bad[i]
    results = run_case(c, snippet, world, shapes, ontology)
    shape = f"kgsh:{c.shape}"
    assert any(r.shape == shape for r in results), (
        f"{shape} failing case #{i} did not fail on {shape}:\n{snippet}\nresults:\n"
        + ("\n".join(map(str, results)) or "(none)")
    )


# --------------------------------------------------------------------------------------------
# The real project


@pytest.fixture(scope="module")
def real_results(ontology, shapes) -> list[Result]:
    """The project's data with its evidence built by the engine (kg.anchor), validated."""
    from pyoxigraph import RdfFormat, serialize

    from kg.anchor import expand_evidence
    from kg.load import load_project
    from kg.project import ONTOLOGY, Project

    project = Project(ROOT)
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    triples = [q.triple for f in loaded.files if f.source.kind != ONTOLOGY for q in f.quads]
    triples += [q.triple for a in anchored for q in a.quads]
    data = Graph()
    data += ontology
    data.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    return _validate(data, shapes, ont_graph=ontology, inplace=True)


def test_real_data_conforms(real_results):
    violations = [r for r in real_results if r.severity == "sh:Violation"]
    assert not violations, "\n".join(map(str, violations))


def test_real_data_has_no_warnings(real_results):
    warnings = [r for r in real_results if r.severity != "sh:Violation"]
    assert not warnings, "\n".join(map(str, warnings))
