"""Every term a project uses must be defined: in its ontology, or as a known term of a reused
vocabulary. A misspelt property (`kg:perfomedBy`) or a term minted in someone else's namespace
(`schema:negotiator`) would otherwise pass silently: SPARQL and SHACL ignore what they don't
know. The check reads the parsed sources, so it names the file and line of each use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyoxigraph import NamedNode, Quad

from kg import namespaces as ns

# Terms of other vocabularies this project uses, checked by hand against each vocabulary's
# published definition. A term outside this list is a typo or a term minted in someone else's
# namespace. `None` accepts every term of the namespace (SHACL's own terms in shapes,
# Wikidata item identifiers, licence URLs).
KNOWN_EXTERNAL_TERMS: dict[str, frozenset[str] | None] = {
    ns.RDF: frozenset({"type", "langString", "Property", "first", "rest", "nil"}),
    ns.RDFS: frozenset(
        {"label", "comment", "subClassOf", "subPropertyOf", "domain", "range", "Literal"}
        | {"Resource", "Class", "seeAlso"}
    ),
    ns.OWL: frozenset(
        {"Ontology", "Class", "ObjectProperty", "DatatypeProperty", "Thing", "versionInfo"}
        | {"equivalentClass", "NamedIndividual", "Restriction", "onProperty", "hasValue"}
    ),
    ns.XSD: frozenset(
        {"string", "boolean", "integer", "decimal", "date", "gYearMonth", "gYear", "duration"}
        | {"nonNegativeInteger", "hexBinary", "language"}
    ),
    ns.SKOS: frozenset(
        {"Concept", "ConceptScheme", "inScheme", "topConceptOf", "hasTopConcept", "broader"}
        | {"narrower", "prefLabel", "altLabel", "definition", "notation", "exactMatch"}
    ),
    "http://purl.org/dc/terms/": frozenset(
        {"license", "type", "subject", "publisher", "language", "source"}
    ),
    "https://schema.org/": frozenset(
        {"Person", "Organization", "Place", "Country", "City", "GovernmentOrganization"}
        | {"Vehicle", "Legislation", "NewsArticle", "Event", "attendee", "location", "about"}
        | {"affiliation", "relatedTo", "publisher", "sameAs", "containedInPlace"}
    ),
    "http://semanticweb.cs.vu.nl/2009/11/sem/": frozenset(
        {"Event", "Role", "hasActor", "hasPlace", "roleType", "subEventOf"}
    ),
    ns.PROV: frozenset(
        {"Agent", "Entity", "Activity", "Collection", "wasAssociatedWith", "wasAttributedTo"}
        | {"hadMember", "wasDerivedFrom"}
    ),
    "http://xmlns.com/foaf/0.1/": frozenset(
        {"Agent", "Person", "Organization", "Document", "member"}
    ),
    "http://www.w3.org/2006/time#": frozenset({"after", "hasXSDDuration", "TemporalEntity"}),
    ns.OA: frozenset(
        {"Annotation", "SpecificResource", "TextQuoteSelector", "TextPositionSelector"}
        | {"hasBody", "hasTarget", "hasSource", "hasSelector", "exact", "prefix", "suffix"}
        | {"start", "end", "motivatedBy", "identifying"}
    ),
    "http://www.w3.org/ns/org#": frozenset({"Post", "holds", "postIn"}),
    "http://www.w3.org/ns/shacl#": None,
    "http://www.wikidata.org/entity/": None,
    "https://opensource.org/licenses/": None,
}

# Namespaces whose terms the ontology defines (a use must match a typed term there).
VOCABULARY_NAMESPACES = (ns.KG, ns.KGI, ns.KGT)
# The project's own space: anything else minted there (resources, graphs, the ontology's IRI)
# must be described somewhere.
PROJECT_SPACE = "https://w3id.org/oman-talks/"

_TYPE = NamedNode(ns.RDF + "type")


@dataclass(frozen=True)
class TermProblem:
    """A term used but not defined, with the place it is used."""

    term: str
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {ns.shorten(self.term)} {self.message}"


@dataclass(frozen=True)
class Usage:
    """The terms one source uses, and its text (to find the line of each use)."""

    file: str
    text: str
    terms: frozenset[str]  # used as predicate or class: must be a known term
    links: frozenset[str] = frozenset()  # other IRIs: outside pages (a source's URL) may be any


def defined_terms(ontology: list[Quad]) -> set[str]:
    """Every IRI the ontology gives a type to: classes, properties, values, concepts."""
    return {q.subject.value for q in ontology if q.predicate == _TYPE and _is_iri(q.subject)}


def described_resources(quads: list[Quad]) -> set[str]:
    return {q.subject.value for q in quads if _is_iri(q.subject)}


def rdf_usage(file: str, text: str, quads: list[Quad]) -> Usage:
    terms, links = set(), set()
    for q in quads:
        terms.add(q.predicate.value)
        if q.predicate == _TYPE and _is_iri(q.object):
            terms.add(q.object.value)
        links.update(t.value for t in (q.subject, q.object) if _is_iri(t))
    return Usage(file, text, frozenset(terms), frozenset(links - terms))


_PREFIX_DECL = re.compile(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", re.I)
_IRI = re.compile(r"<([^<>\s]+)>")
_PNAME = re.compile(r"(?<![\w<:?$])([A-Za-z][\w-]*)?:([A-Za-z_][\w-]*(?:\.[\w-]+)*)")
_STRING = re.compile(
    r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
)


def query_usage(file: str, text: str) -> Usage:
    """Terms a SPARQL query names, through its PREFIX declarations or full IRIs."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    prefixes = {p: iri for p, iri in _PREFIX_DECL.findall(body)}
    body = _PREFIX_DECL.sub("", body)
    body = _STRING.sub('""', body)  # words inside strings are not terms
    terms = set(_IRI.findall(body))
    for prefix, local in _PNAME.findall(body):
        if prefix in prefixes:
            terms.add(prefixes[prefix] + local)
    return Usage(file, text, frozenset(terms))


def check(ontology: list[Quad], described: set[str], usages: list[Usage]) -> list[TermProblem]:
    """Problems for every undefined term of every usage, in file order."""
    defined = defined_terms(ontology)
    problems = []
    for usage in usages:
        for term in sorted(usage.terms | usage.links):
            message = _why_undefined(term, defined, described)
            if message and term in usage.links and message.startswith("is in a vocabulary"):
                continue  # a link to an outside page or dataset, not a term of a vocabulary
            if message:
                problems.append(TermProblem(term, usage.file, _line_of(usage.text, term), message))
    return problems


def _why_undefined(term: str, defined: set[str], described: set[str]) -> str | None:
    if term.startswith(VOCABULARY_NAMESPACES):
        return None if term in defined else "is not defined in ontology/"
    if term.startswith(ns.KGSH):
        return None  # shapes are checked by the shapes tests, not used by data
    if term.startswith(PROJECT_SPACE):
        return None if term in described else "is referred to but never described in data/"
    for namespace, known in KNOWN_EXTERNAL_TERMS.items():
        if term.startswith(namespace):
            local = term[len(namespace) :]
            if known is None or local in known:
                return None
            return f"is not a known term of <{namespace}>"
    return "is in a vocabulary the project does not use (see kg/terms.py)"


def _line_of(text: str, term: str) -> int | None:
    """Line of the first use: the full IRI, else the prefixed name's local part."""
    local = ns.local_name(term)
    for needle in (f"<{term}>", f":{local}"):
        for m in re.finditer(re.escape(needle), text):
            after = text[m.end() : m.end() + 1]
            if needle.startswith("<") or not (after.isalnum() or after in "-_"):
                return text.count("\n", 0, m.start()) + 1
    return None


def _is_iri(term) -> bool:
    return isinstance(term, NamedNode)
