"""IRIs the engine relies on: the project's namespaces, named graphs and W3C vocabularies."""

from __future__ import annotations

KG = "https://w3id.org/oman-talks/ontology#"
KGSH = "https://w3id.org/oman-talks/shapes#"
KGI = "https://w3id.org/oman-talks/issue/"
KGT = "https://w3id.org/oman-talks/event-type/"
KGR = "https://w3id.org/oman-talks/id/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SH = "http://www.w3.org/ns/shacl#"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"

# Prefixes known to query parameters and to the display of IRIs.
PREFIXES: dict[str, str] = {
    "kg": KG,
    "kgsh": KGSH,
    "kgi": KGI,
    "kgt": KGT,
    "kgr": KGR,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "sh": SH,
    "oa": OA,
    "prov": PROV,
    "schema": SCHEMA,
}

# Inferences about terms of these vocabularies are noise, not knowledge about the domain.
W3C_NAMESPACES: tuple[str, ...] = (RDF, RDFS, OWL, XSD)

GRAPH_BASE = "https://w3id.org/oman-talks/graph/"
GRAPH_ONTOLOGY = GRAPH_BASE + "ontology"
GRAPH_SHARED = GRAPH_BASE + "shared"
GRAPH_INFERRED = GRAPH_BASE + "inferred"
EVIDENCE_BASE = KGR + "evidence/"


def article_graph(article_id: str) -> str:
    """Named graph of the facts of article `article_id`."""
    return f"{GRAPH_BASE}article/{article_id}"


def enrichment_graph(name: str) -> str:
    """Named graph of the enrichment file `data/enrichment/<name>.ttl`."""
    return f"{GRAPH_BASE}enrichment/{name}"


def evidence_iri(article_id: str, start: int, end: int) -> str:
    """IRI of the annotation anchoring the span start-end of an article (see conventions)."""
    return f"{EVIDENCE_BASE}{article_id}/{start}-{end}"


def shorten(iri: str) -> str:
    """Prefixed form of `iri` when a known prefix covers it, else the IRI in angle brackets."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    if best:
        return f"{best}:{iri[len(PREFIXES[best]) :]}"
    return f"<{iri}>"


def local_name(iri: str) -> str:
    """The part after the last '#' or '/' (a readable fallback when there is no label)."""
    for sep in ("#", "/"):
        head, found, tail = iri.rpartition(sep)
        if found and tail:
            return tail
    return iri
