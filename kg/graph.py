"""The property-graph projection of the build (specified in docs/cypher.md).

The RDF build stays the one source of truth: this module derives a labelled property graph from
its N-Quads, deterministically (same bytes in, same graph out, every list sorted), and can turn
that graph back into the same quads (`to_quads`), which the round-trip test checks.

In short: every IRI is a `:Resource` node with `iri` and `id`; its `rdf:type`s (asserted and
inferred) become labels as well as `rdf__type` relationships; literals become node properties
(language tags as `_en`/`_zh` suffixes, integers and booleans native, other datatypes as their
lexical form with the datatype kept in the key table); each IRI-valued triple is one
relationship carrying the sorted list of named graphs that state it; each node has an
`IN_GRAPH` relationship to every graph that describes it, holding exactly the literals that
graph states. Evidence annotations get the derived label `Annotation` and the properties
`quote`, `start`, `end`, `article`, so the supporting sentence is one hop from a fact.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, parse

from kg import namespaces as ns

RESOURCE = "Resource"  # every node
NAMED_GRAPH = "NamedGraph"  # a node that names a graph of the build
ANNOTATION = "Annotation"  # derived: a Web Annotation that anchors evidence
IN_GRAPH = "IN_GRAPH"  # node -> graph that describes it, with that graph's literals
DERIVED_LABELS = (RESOURCE, NAMED_GRAPH, ANNOTATION)
# kind: of a NamedGraph node; relationshipType: of a predicate's node, the type its triples get
DERIVED_NODE_KEYS = ("iri", "id", "kind", "relationshipType")
ANNOTATION_KEYS = ("quote", "start", "end", "article")  # derived, on :Annotation nodes
REL_KEYS = ("graphs", "asserted")  # on every relationship but IN_GRAPH
DATATYPE_SUFFIX = "__datatype"  # companion of a key whose values have several datatypes

# Prefixes for foreign vocabularies (names `prefix__local`, the neosemantics SHORTEN style).
# kg: itself is left bare; rdfs:label is `label`.
PREFIXES: dict[str, str] = {
    **{p: iri for p, iri in ns.PREFIXES.items() if p != "kg"},
    "dcterms": "http://purl.org/dc/terms/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
}
_XSD_INTEGERS = {
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong", "unsignedShort",
    "unsignedByte",
}  # fmt: skip
_RDF_TYPE = ns.RDF + "type"
_RDFS_LABEL = ns.RDFS + "label"
_LANG_STRING = ns.RDF + "langString"
_XSD_STRING = ns.XSD + "string"
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Key:
    """What a property key stands for: a predicate, a language (or None) and, when every value
    of the key has the same datatype, that datatype (None: see the `__datatype` companion)."""

    name: str
    predicate: str
    lang: str | None
    datatype: str | None
    is_list: bool  # a list on every node, because some node has several values


@dataclass
class Node:
    iri: str
    labels: list[str]  # sorted, `Resource` first
    props: dict[str, object]  # sorted by key


@dataclass
class Rel:
    start: str  # iri of the start node
    type: str
    end: str
    props: dict[str, object]


@dataclass
class PropertyGraph:
    nodes: list[Node]  # sorted by iri
    rels: list[Rel]  # sorted by (type, start, end)
    keys: dict[str, Key]  # property key -> what it means
    rel_types: dict[str, str]  # relationship type -> predicate IRI
    labels: dict[str, str]  # label -> class IRI (derived labels not included)
    graphs: list[str] = field(default_factory=list)  # the named graphs, sorted
    # names the ontology declares (labels, types, keys), used by the data or not: a stored
    # question may name a property that one corpus happens not to use
    declared: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> tuple[int, int]:
        return len(self.nodes), len(self.rels)


# --------------------------------------------------------------------------- names


class _Namer:
    """Names for IRIs: kg: local names bare, known vocabularies `prefix__local`, unknown
    namespaces `ns0__local`, `ns1__…` (numbered in IRI order). A name two IRIs would share
    gets `_2`, `_3` for the later IRIs in sorted order."""

    def __init__(self, iris: Iterable[str]):
        unknown = sorted({_split(i)[0] for i in iris if _prefix_of(i) is None})
        self.extra = {f"ns{n}": space for n, space in enumerate(unknown)}
        self.names: dict[str, str] = {}
        taken: set[str] = set(DERIVED_LABELS) | {IN_GRAPH}
        for iri in sorted(set(iris)):
            base = self._base(iri)
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            self.names[iri] = name

    def _base(self, iri: str) -> str:
        if iri == _RDFS_LABEL:
            return "label"
        if iri.startswith(ns.KG) and len(iri) > len(ns.KG):
            return _NOT_NAME.sub("_", iri[len(ns.KG) :])
        prefix = _prefix_of(iri)
        if prefix is not None:
            space = PREFIXES[prefix]
        else:
            space = _split(iri)[0]
            prefix = next(p for p, s in self.extra.items() if s == space)
        return f"{prefix}__{_NOT_NAME.sub('_', iri[len(space) :])}"


def _prefix_of(iri: str) -> str | None:
    best = None
    for prefix, space in PREFIXES.items():
        longer = best is None or len(space) > len(PREFIXES[best])
        if iri.startswith(space) and len(iri) > len(space) and longer:
            best = prefix
    return best


def _split(iri: str) -> tuple[str, str]:
    for sep in ("#", "/"):
        head, found, tail = iri.rpartition(sep)
        if found and tail:
            return head + sep, tail
    return iri, ""


def short_id(iri: str) -> str:
    """The `id` property: the kgr: local name, else the prefixed name, else the IRI."""
    if iri.startswith(ns.KGR):
        return iri[len(ns.KGR) :]
    shortened = ns.shorten(iri)
    return iri if shortened.startswith("<") else shortened


def graph_kind(iri: str) -> str:
    """article, shared, enrichment, inferred or ontology (or other), from the graph IRI."""
    if iri.startswith(ns.GRAPH_BASE):
        return iri[len(ns.GRAPH_BASE) :].split("/", 1)[0]
    return "other"


# --------------------------------------------------------------------------- values


def _native(datatype: str, lexical: str) -> object | None:
    """The Cypher value of a literal when it has one that gives back the same lexical form."""
    if datatype.startswith(ns.XSD):
        local = datatype[len(ns.XSD) :]
        if local in _XSD_INTEGERS:
            try:
                number = int(lexical)
            except ValueError:
                return None
            return number if str(number) == lexical and abs(number) < 2**63 else None
        if local == "boolean" and lexical in ("true", "false"):
            return lexical == "true"
    return None


def _short_datatype(iri: str) -> str:
    shortened = ns.shorten(iri)
    return iri if shortened.startswith("<") else shortened


def _expand_datatype(text: str) -> str:
    prefix, _, rest = text.partition(":")
    return ns.PREFIXES[prefix] + rest if prefix in ns.PREFIXES else text


# --------------------------------------------------------------------------- projection


def _term_iri(term) -> str:
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"  # the build has none; kept as a pseudo-IRI
    raise ValueError(f"not a node: {term}")


def project(dataset: bytes) -> PropertyGraph:
    """The property graph of a build's N-Quads (see the module docstring)."""
    # (s, p, o) -> graphs for IRI objects; s -> graph -> (p, lang, dt, lexical) for literals
    links: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    literals: dict[str, dict[str, set[tuple[str, str | None, str, str]]]] = defaultdict(
        lambda: defaultdict(set)
    )
    described: dict[str, set[str]] = defaultdict(set)  # subject -> graphs
    nodes: set[str] = set()
    graphs: set[str] = set()
    ontology_types: list[tuple[str, str]] = []
    for quad in parse(dataset, RdfFormat.N_QUADS, lenient=True):
        if isinstance(quad.graph_name, DefaultGraph):
            raise ValueError("the build has a triple in the default graph; it has no named graph")
        g = quad.graph_name.value
        graphs.add(g)
        s = _term_iri(quad.subject)
        p = quad.predicate.value
        o = quad.object
        nodes.add(s)
        described[s].add(g)
        if g == ns.GRAPH_ONTOLOGY and isinstance(o, NamedNode):
            if p == _RDF_TYPE:
                ontology_types.append((s, o.value))
            elif p in _ALIGNMENTS:  # a class or property of another vocabulary it builds on
                ontology_types.append((o.value, _ALIGNMENTS[p]))
        if isinstance(o, Literal):
            literals[s][g].add((p, o.language, o.datatype.value, o.value))
        else:
            oi = _term_iri(o)
            nodes.add(oi)
            links[(s, p, oi)].add(g)
    nodes |= graphs

    # Keys: (predicate, lang) -> datatypes seen, and whether some node has several values.
    key_types: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    key_lexicals: dict[tuple[str, str | None], list[tuple[str, str]]] = defaultdict(list)
    multi: set[tuple[str, str | None]] = set()
    for by_graph in literals.values():
        per_key: dict[tuple[str, str | None], set[tuple[str, str]]] = defaultdict(set)
        for values in by_graph.values():
            for p, lang, dt, lex in values:
                per_key[(p, lang)].add((dt, lex))
        for k, vals in per_key.items():
            key_types[k] |= {dt for dt, _ in vals}
            key_lexicals[k] += vals
            if len(vals) > 1:
                multi.add(k)

    types = {o for (_, p, o) in links if p == _RDF_TYPE}
    predicates = {p for (_, p, _) in links} | {p for p, _ in key_types}
    namer = _Namer(predicates | types)
    keys: dict[tuple[str, str | None], Key] = {}
    taken_keys = set(DERIVED_NODE_KEYS) | set(REL_KEYS)
    for k in sorted(key_types, key=lambda k: (k[0], k[1] or "")):
        p, lang = k
        name = namer.names[p] + (f"_{_NOT_NAME.sub('_', lang.lower())}" if lang else "")
        base, n = name, 1
        while name in taken_keys or name.endswith(DATATYPE_SUFFIX):
            n += 1
            name = f"{base}_{n}"
        taken_keys.add(name)
        dts = key_types[k]
        datatype = next(iter(dts)) if len(dts) == 1 else None
        keys[k] = Key(name, p, lang, datatype, k in multi)
    native_keys = {
        k
        for k, key in keys.items()
        if key.datatype is not None
        and all(_native(key.datatype, lex) is not None for _, lex in key_lexicals[k])
    }

    def literal_props(values: Iterable[tuple[str, str | None, str, str]]) -> dict[str, object]:
        grouped: dict[tuple[str, str | None], list[tuple[str, str]]] = defaultdict(list)
        for p, lang, dt, lex in values:
            grouped[(p, lang)].append((lex, dt))
        props: dict[str, object] = {}
        for k, vals in grouped.items():
            key = keys[k]
            vals = sorted(set(vals))
            if k in native_keys:
                out = [_native(dt, lex) for lex, dt in vals]
            else:
                out = [lex for lex, _ in vals]
            props[key.name] = out if key.is_list else out[0]
            if key.datatype is None:
                dts = [_short_datatype(dt) for _, dt in vals]
                props[key.name + DATATYPE_SUFFIX] = dts if key.is_list else dts[0]
        return dict(sorted(props.items()))

    labels_of: dict[str, set[str]] = defaultdict(set)
    for s, p, o in links:
        if p == _RDF_TYPE:
            labels_of[s].add(namer.names[o])
    annotations = _annotations(links, literals)
    link_predicates = {p for (_, p, _) in links}

    out_nodes: list[Node] = []
    for iri in sorted(nodes):
        labels = sorted(labels_of.get(iri, ()))
        extra = []
        if iri in graphs:
            extra.append(NAMED_GRAPH)
        if iri in annotations:
            extra.append(ANNOTATION)
        props: dict[str, object] = {"iri": iri, "id": short_id(iri)}
        if iri in graphs:
            props["kind"] = graph_kind(iri)
        if iri in link_predicates:  # from the relationship to the property's own node
            props["relationshipType"] = namer.names[iri]
        union = set().union(*literals[iri].values()) if iri in literals else set()
        props.update(literal_props(union))
        if iri in annotations:  # never overrides a stated value (the build states none)
            props.update({k: v for k, v in annotations[iri].items() if k not in props})
        out_nodes.append(Node(iri, [RESOURCE, *extra, *labels], props))

    inferred = ns.GRAPH_INFERRED
    out_rels: list[Rel] = []
    for (s, p, o), gs in links.items():
        g = sorted(gs)
        asserted = any(x != inferred for x in g)
        out_rels.append(Rel(s, namer.names[p], o, {"graphs": g, "asserted": asserted}))
    for s, gs in described.items():
        for g in gs:
            out_rels.append(Rel(s, IN_GRAPH, g, literal_props(literals[s].get(g, ()))))
    out_rels.sort(key=lambda r: (r.type, r.start, r.end))

    return PropertyGraph(
        nodes=out_nodes,
        rels=out_rels,
        keys={key.name: key for key in sorted(keys.values(), key=lambda k: k.name)},
        rel_types=dict(sorted((namer.names[p], p) for (_, p, _) in links)),
        labels=dict(sorted((namer.names[t], t) for t in types)),
        graphs=sorted(graphs),
        declared=_declared(ontology_types, namer),
    )


_CLASSES = {ns.OWL + "Class", ns.RDFS + "Class"}
# the superclass or superproperty named by an alignment is a class or property too
_ALIGNMENTS = {
    ns.RDFS + "subClassOf": ns.RDFS + "Class",
    ns.RDFS + "subPropertyOf": ns.RDF + "Property",
}
_PROPERTIES = {
    ns.RDF + "Property", ns.OWL + "ObjectProperty", ns.OWL + "DatatypeProperty",
    ns.OWL + "AnnotationProperty",
}  # fmt: skip


def _declared(ontology_types: list[tuple[str, str]], used: _Namer) -> dict[str, list[str]]:
    classes = {s for s, o in ontology_types if o in _CLASSES}
    props = {s for s, o in ontology_types if o in _PROPERTIES}
    namer = _Namer(classes | props)

    def name(iri: str) -> str:  # the data's name when the data uses the term
        return used.names.get(iri) or namer.names[iri]

    keys = set()
    for p in props:
        keys |= {name(p)} | {f"{name(p)}_{lang}" for lang in ("en", "zh")}
    return {
        "labels": sorted(name(c) for c in classes),
        "types": sorted(name(p) for p in props),
        "keys": sorted(keys),
    }


def _annotations(links, literals) -> dict[str, dict[str, object]]:
    """quote/start/end/article for each oa:Annotation whose target has both selectors."""
    out_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s, p, o in links:
        out_of[(s, p)].append(o)

    def literal(node: str, predicate: str) -> str | None:
        values = sorted(
            lex
            for vals in literals.get(node, {}).values()
            for p, _, _, lex in vals
            if p == predicate
        )
        return values[0] if values else None

    result = {}
    for s, p, o in links:
        if p != _RDF_TYPE or o != ns.OA + "Annotation":
            continue
        for target in sorted(out_of.get((s, ns.OA + "hasTarget"), ())):
            quote = start = end = None
            for selector in sorted(out_of.get((target, ns.OA + "hasSelector"), ())):
                quote = quote or literal(selector, ns.OA + "exact")
                start = start or literal(selector, ns.OA + "start")
                end = end or literal(selector, ns.OA + "end")
            if quote is None or start is None or end is None:
                continue
            sources = sorted(out_of.get((target, ns.OA + "hasSource"), ()))
            result[s] = {
                "quote": quote,
                "start": int(start),
                "end": int(end),
                "article": sources[0] if sources else None,
            }
            break
    return {s: {k: v for k, v in d.items() if v is not None} for s, d in result.items()}


# --------------------------------------------------------------------------- back to RDF


def _node_term(iri: str):
    return BlankNode(iri[2:]) if iri.startswith("_:") else NamedNode(iri)


def to_quads(pg: PropertyGraph) -> list[Quad]:
    """The quads the projection stands for: its relationships (one quad per listed graph) and
    the literals on its IN_GRAPH relationships. Derived labels and properties are left out."""
    quads: list[Quad] = []
    by_name = pg.keys
    for rel in pg.rels:
        s = _node_term(rel.start)
        if rel.type != IN_GRAPH:
            p = NamedNode(pg.rel_types[rel.type])
            o = _node_term(rel.end)
            quads += [Quad(s, p, o, NamedNode(g)) for g in rel.props["graphs"]]
            continue
        g = NamedNode(rel.end)
        for name, value in rel.props.items():
            if name.endswith(DATATYPE_SUFFIX):
                continue
            key = by_name[name]
            values = value if key.is_list else [value]
            if key.datatype is None:
                dts = rel.props[name + DATATYPE_SUFFIX]
                dts = [_expand_datatype(d) for d in (dts if key.is_list else [dts])]
            else:
                dts = [key.datatype] * len(values)
            p = NamedNode(key.predicate)
            for v, dt in zip(values, dts, strict=True):
                lexical = ("true" if v else "false") if isinstance(v, bool) else str(v)
                if key.lang:
                    lit = Literal(lexical, language=key.lang)
                else:
                    lit = Literal(lexical, datatype=NamedNode(dt))
                quads.append(Quad(s, p, lit, g))
    return quads
