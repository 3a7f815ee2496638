"""A SHACL Core + SPARQL-constraint validator over pyoxigraph terms, equal to pySHACL's results.

pySHACL is the reference; it evaluates each shape focus node by focus node over an rdflib graph,
which takes minutes on a graph of a million triples. This engine indexes the data graph once
(objects by predicate and subject, types, the rdfs:subClassOf closure), checks the core
constraints set-wise in Python, and runs each SPARQL constraint once for all its focus nodes
(the focus nodes are bound with a VALUES block instead of one query per node).

It implements exactly the part of SHACL that the project's shapes use, with pySHACL's
semantics where the spec leaves room (datatype well-formedness, literal comparison, language
matching, which results carry sh:value, which messages are reported). Anything else — complex
paths, logical constraints, sh:in, sh:closed, message templates, property pairs other than
sh:lessThan, a shape without sh:message — raises `Unsupported`, and the caller falls back to
pySHACL. tests/test_benchmark_equivalence.py checks result-for-result equality with pySHACL on
the shipped data, on a synthetic corpus and on every failing case of tests/test_shapes.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store, Triple, Variable

from kg import namespaces as ns

SH = ns.SH
_RDF_TYPE = NamedNode(ns.RDF + "type")
_SUBCLASS = NamedNode(ns.RDFS + "subClassOf")
_FIRST = NamedNode(ns.RDF + "first")
_REST = NamedNode(ns.RDF + "rest")
_NIL = NamedNode(ns.RDF + "nil")
_XSD_STRING = NamedNode(ns.XSD + "string")
_LANG_STRING = NamedNode(ns.RDF + "langString")


def _sh(name: str) -> NamedNode:
    return NamedNode(SH + name)


_NODE_SHAPE, _PROPERTY_SHAPE = _sh("NodeShape"), _sh("PropertyShape")
_VIOLATION = _sh("Violation")
_RDFS_CLASS = NamedNode(ns.RDFS + "Class")

# The allow-list. The engine answers only when every sh: term of the shapes graph is one it
# implements (or a report/annotation term that changes nothing), every predicate on a shape is
# one of these, and every SPARQL constraint has the shape checked by `_sparql_structure`.
# Anything else (logical constraints, sh:in, sh:closed, complex paths, custom constraint
# components, sh:entailment, owl:imports...) raises Unsupported before any answer.
# Parameters that make a node a shape (targets, constraint parameters, sh:path, sh:property):
_SHAPE_PARAMETERS = {
    "targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "property", "path",
    "nodeKind", "pattern", "class", "datatype", "minLength", "maxLength", "languageIn",
    "uniqueLang", "hasValue", "minCount", "maxCount", "minInclusive", "maxInclusive",
    "minExclusive", "maxExclusive", "lessThan", "qualifiedValueShape", "sparql",
}  # fmt: skip
_IGNORED_KEYS = {"name", "description", "order", "group", "defaultValue"}
_SHAPE_KEYS = _SHAPE_PARAMETERS | _IGNORED_KEYS | {
    "message", "severity", "flags", "qualifiedMinCount", "qualifiedMaxCount",
}  # fmt: skip
# Other sh: terms allowed anywhere in the shapes graph: classes and values the engine knows,
# SPARQL constraint and prefix declarations, and the report vocabulary (a test file may hold
# the expected report beside its shapes; it is not a shape).
_OTHER_SH_TERMS = {
    "NodeShape", "PropertyShape", "SPARQLConstraint", "Violation", "Warning", "Info",
    "IRI", "BlankNode", "Literal", "BlankNodeOrIRI", "BlankNodeOrLiteral", "IRIOrLiteral",
    "select", "prefixes", "declare", "prefix", "namespace", "PrefixDeclaration",
    "ValidationReport", "ValidationResult", "conforms", "result", "focusNode", "resultPath",
    "value", "sourceShape", "sourceConstraint", "sourceConstraintComponent", "resultSeverity",
    "resultMessage",
}  # fmt: skip
# Each constraint component the engine implements, by the parameter that activates it.
_COMPONENTS = {
    "nodeKind", "pattern", "class", "datatype", "minLength", "maxLength", "languageIn",
    "uniqueLang", "hasValue", "minCount", "maxCount", "minInclusive", "maxInclusive",
    "minExclusive", "maxExclusive", "lessThan", "qualifiedValueShape",
}  # fmt: skip
# Predicates other than sh: ones a shape may carry: annotations that change no result.
_ANNOTATIONS = {
    ns.RDF + "type", ns.RDFS + "label", ns.RDFS + "comment", ns.RDFS + "seeAlso",
    ns.RDFS + "isDefinedBy", ns.OWL + "versionInfo", ns.SKOS + "prefLabel",
    ns.SKOS + "definition", ns.SKOS + "note", ns.SKOS + "scopeNote", ns.SKOS + "editorialNote",
}  # fmt: skip
_SHAPE_TYPES = {_NODE_SHAPE, _PROPERTY_SHAPE, _RDFS_CLASS}


class Unsupported(Exception):
    """The shapes use a feature this engine does not implement: use pySHACL."""


@dataclass(frozen=True)
class RawResult:
    """One validation result, with pyoxigraph terms (None where pySHACL reports nothing)."""

    severity: NamedNode
    focus: object
    path: NamedNode | None
    messages: tuple[Literal, ...]  # sh:message terms, language tags kept
    value: object | None
    shape: object
    component: str  # local name of the constraint component
    constraint: object | None = None  # the SPARQL constraint node (sh:sourceConstraint)


@dataclass
class _Sparql:
    node: object
    query: str
    prefixes: dict[str, str]
    messages: tuple[Literal, ...]
    values_at: int  # where `VALUES ?this {...}` goes: just inside the WHERE group


@dataclass
class _Shape:
    node: object
    is_property: bool
    path: NamedNode | None = None
    severity: NamedNode = _VIOLATION
    messages: tuple[Literal, ...] = ()
    targets: list[tuple[str, object]] = field(default_factory=list)
    constraints: list[tuple[str, object]] = field(default_factory=list)
    properties: list[object] = field(default_factory=list)
    sparql: list[_Sparql] = field(default_factory=list)


class Shapes:
    """The compiled shapes graph."""

    def __init__(self, triples: Iterable[Triple]):
        self.po: dict[object, dict[NamedNode, list]] = {}
        for t in triples:
            self.po.setdefault(t.subject, {}).setdefault(t.predicate, []).append(t.object)
            # Predicates, and classes (a custom component is `ex:C a sh:ConstraintComponent`);
            # other sh: objects (a report's sh:ClassConstraintComponent...) are checked where used.
            is_type = t.predicate == _RDF_TYPE
            for term in (t.predicate, t.object) if is_type else (t.predicate,):
                if isinstance(term, NamedNode) and term.value.startswith(SH):
                    key = term.value[len(SH) :]
                    if key not in _SHAPE_KEYS and key not in _OTHER_SH_TERMS:
                        raise Unsupported(f"sh:{key}")
            if t.predicate.value == ns.OWL + "imports":
                raise Unsupported("owl:imports in the shapes graph")
        self.shapes: dict[object, _Shape] = {}
        parameters = {NamedNode(SH + k) for k in _SHAPE_PARAMETERS}
        # A shape: typed as one, or the subject of a target or constraint parameter (SHACL 2.1).
        roots = [
            s
            for s, props in self.po.items()
            if any(o in (_NODE_SHAPE, _PROPERTY_SHAPE) for o in props.get(_RDF_TYPE, ()))
            or any(p in parameters for p in props)
        ]
        for s in roots:
            self._compile(s)
        self._refuse_cycles()

    def _refuse_cycles(self) -> None:
        """Recursive shapes (SHACL leaves them undefined): Unsupported."""
        done: set = set()

        def visit(node, stack: set) -> None:
            if node in stack:
                raise Unsupported(f"recursive shapes through {node}")
            if node in done:
                return
            stack.add(node)
            shape = self.shapes[node]
            for child in shape.properties:
                visit(child, stack)
            for key, param in shape.constraints:
                if key == "qualifiedValueShape":
                    visit(param[0], stack)
            stack.discard(node)
            done.add(node)

        for node in list(self.shapes):
            visit(node, set())

    def values(self, node, name: str) -> list:
        return self.po.get(node, {}).get(NamedNode(SH + name), [])

    def one(self, node, name: str):
        vals = self.values(node, name)
        if len(vals) > 1:
            raise Unsupported(f"several sh:{name} on {node}")
        return vals[0] if vals else None

    def rdf_list(self, node) -> list:
        out, seen = [], set()
        while node != _NIL:
            if node in seen:
                raise Unsupported("cyclic RDF list")
            seen.add(node)
            props = self.po.get(node, {})
            first, rest = props.get(_FIRST, []), props.get(_REST, [])
            if len(first) != 1 or len(rest) != 1:
                raise Unsupported("malformed RDF list")
            out.append(first[0])
            node = rest[0]
        return out

    def _compile(self, node) -> _Shape:
        if node in self.shapes:
            return self.shapes[node]
        props = self.po.get(node, {})
        for p in props:
            if p.value.startswith(SH):
                key = p.value[len(SH) :]
                if key not in _SHAPE_KEYS:
                    raise Unsupported(f"sh:{key} on {node}")
            elif p.value not in _ANNOTATIONS:
                # e.g. the parameter of a custom (SPARQL-based) constraint component
                raise Unsupported(f"{p} on the shape {node}")
        types = set(props.get(_RDF_TYPE, []))
        if types - _SHAPE_TYPES:
            raise Unsupported(f"a shape typed {', '.join(str(t) for t in types - _SHAPE_TYPES)}")
        path = self.one(node, "path")
        if path is not None and not isinstance(path, NamedNode):
            raise Unsupported("complex property path")
        shape = _Shape(node=node, is_property=path is not None, path=path)
        self.shapes[node] = shape
        severity = self.one(node, "severity")
        if severity is not None:
            if not isinstance(severity, NamedNode):  # any IRI is a severity (SHACL 2.1.5)
                raise Unsupported(f"sh:severity {severity}")
            shape.severity = severity
        shape.messages = _messages(self.values(node, "message"))
        for kind in (
            "targetClass",
            "targetSubjectsOf",
            "targetObjectsOf",
            "targetNode",
        ):
            shape.targets += [(kind, v) for v in self.values(node, kind)]
        if _RDFS_CLASS in types:  # implicit class target (SHACL 2.1.3.3)
            shape.targets.append(("targetClass", node))
        for p, objs in props.items():
            key = p.value[len(SH) :] if p.value.startswith(SH) else None
            if (
                key
                in (
                    None,
                    "path",
                    "message",
                    "severity",
                    "property",
                    "sparql",
                    "flags",
                    "qualifiedMinCount",
                    "qualifiedMaxCount",
                )
                or key in _IGNORED_KEYS
            ):
                continue  # fmt: skip
            if key.startswith("target"):
                continue
            if len(objs) != 1 and key not in ("class", "datatype", "hasValue"):
                raise Unsupported(f"several sh:{key} on {node}")
            for o in objs:
                shape.constraints.append((key, self._param(node, key, o)))
        properties = self.values(node, "property")
        if properties and shape.is_property:
            # Its children's focus nodes are its value nodes, reported once per path there.
            raise Unsupported("sh:property on a property shape")
        for p in properties:
            child = self._compile(p)
            if not child.is_property:
                raise Unsupported("sh:property without sh:path")
            shape.properties.append(p)
        for c in self.values(node, "sparql"):
            shape.sparql.append(self._sparql(node, c))
        if shape.is_property and shape.sparql:
            raise Unsupported("SPARQL constraint on a property shape")
        return shape

    def _param(self, node, key: str, o):
        if key == "pattern":
            flags = self.one(node, "flags")
            re_flags = 0
            if flags is not None:
                text = flags.value.lower()
                re_flags |= re.I if "i" in text else 0
                re_flags |= re.M if "m" in text else 0
                if set(text) - {"i", "m"}:
                    raise Unsupported("sh:flags other than i and m")
            try:
                return re.compile(o.value, re_flags)
            except (re.error, AttributeError):  # pySHACL decides what a broken pattern means
                raise Unsupported(f"sh:pattern {o}") from None
        if key == "languageIn":
            return {str(x.value).lower() for x in self.rdf_list(o)}
        if key in ("minCount", "maxCount", "minLength", "maxLength"):
            if not isinstance(o, Literal) or o.datatype.value != ns.XSD + "integer":
                raise Unsupported(f"sh:{key} {o}")  # pySHACL refuses or decides
            try:
                return int(o.value)
            except ValueError:
                raise Unsupported(f"sh:{key} {o}") from None
        if key == "uniqueLang":
            # Only true activates it; the suite says "1"^^xsd:boolean does not (uniqueLang-002).
            if not isinstance(o, Literal) or o.datatype.value != ns.XSD + "boolean":
                raise Unsupported(f"sh:uniqueLang {o}")
            return o.value == "true"
        if key == "qualifiedValueShape":
            self._compile(o)
            mins, maxs = (
                self.values(node, "qualifiedMinCount"),
                self.values(node, "qualifiedMaxCount"),
            )
            return (
                o,
                int(mins[0].value) if mins else None,
                int(maxs[0].value) if maxs else None,
            )
        if key == "lessThan" and not isinstance(o, NamedNode):
            raise Unsupported("sh:lessThan with a complex path")
        return o

    def _sparql(self, shape_node, c) -> _Sparql:
        props = self.po.get(c, {})
        for p in props:
            if p.value.startswith(SH) and p.value[len(SH) :] not in (
                "select", "prefixes", "message",
            ):  # fmt: skip
                raise Unsupported(f"sh:{p.value[len(SH) :]} on a SPARQL constraint")
            if not p.value.startswith(SH) and p.value not in _ANNOTATIONS:
                raise Unsupported(f"{p} on a SPARQL constraint")
        select = self.one(c, "select")
        if not isinstance(select, Literal):
            raise Unsupported("SPARQL constraint without a literal sh:select")
        query = select.value
        values_at = _sparql_structure(query)
        prefixes: dict[str, str] = {}
        for decl_holder in self.values(c, "prefixes"):
            for decl in self.values(decl_holder, "declare"):
                pre, iri = self.one(decl, "prefix"), self.one(decl, "namespace")
                if pre is None or iri is None:
                    raise Unsupported("incomplete sh:declare")
                prefixes[pre.value] = iri.value
        messages = _messages(self.values(c, "message"))
        for m in (*messages, *self.values(shape_node, "message")):
            if "{" in m.value:
                raise Unsupported("message template")
        return _Sparql(c, query, prefixes, messages, values_at)

    def active(self) -> list[_Shape]:
        return list(self.shapes.values())


def _messages(terms: list) -> tuple[Literal, ...]:
    """sh:message values, language tags kept, in a deterministic order."""
    if any(not isinstance(m, Literal) for m in terms):
        raise Unsupported("sh:message that is not a literal")
    return tuple(sorted(terms, key=_message_key))


def _message_key(m: Literal) -> tuple[str, str]:
    return (m.value, m.language or "")


# SPARQL-constraint queries: the shape of query where binding $this with one VALUES block
# just inside the WHERE group equals SHACL's pre-binding (SHACL 5.3.1). Strings, IRIs and
# comments are blanked first so that words inside them do not count.
_SPARQL_SKIP = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\s]*>|#[^\n]*"
)
_SPARQL_TOKEN = re.compile(r"[{}]|[A-Za-z_][A-Za-z_0-9]*|[?$][A-Za-z_0-9]+")
# Refused outright: the suite's must-refuse forms (MINUS, VALUES, SERVICE, a subquery), forms
# that would hide $this from the VALUES binding (UNION and nested groups, GRAPH), a dataset
# clause, and variables only pySHACL binds.
_SPARQL_REFUSED = {"minus", "values", "service", "union", "graph", "from", "named"}
_SPARQL_REFUSED_VARS = {"shapesgraph", "currentshape", "failure"}


def _sparql_structure(query: str) -> int:
    """Where VALUES ?this goes (just after the WHERE group's "{"); Unsupported unless the query
    has the allowed shape: one SELECT, $this never assigned, and inside the WHERE group only
    OPTIONAL { } and [NOT] EXISTS { } groups (EXISTS also deeper: it sees the outer bindings)."""
    blanked = _SPARQL_SKIP.sub(lambda m: " " * len(m.group()), query)
    selects, where_at, stack = 0, None, []
    previous = ""
    for m in _SPARQL_TOKEN.finditer(blanked):
        tok = m.group()
        low = tok.lower()
        if low == "select":
            selects += 1
        elif low in _SPARQL_REFUSED:
            raise Unsupported(f"SPARQL constraint with {tok.upper()}")
        elif tok[0] in "?$" and low[1:] in _SPARQL_REFUSED_VARS:
            raise Unsupported(f"SPARQL constraint using {tok}")
        elif low in ("?this", "$this") and previous == "as":
            raise Unsupported("SPARQL constraint assigning $this")
        elif tok == "{":
            if where_at is None:
                where_at = m.end()
            elif previous == "exists" or (previous == "optional" and len(stack) == 1):
                pass
            else:
                raise Unsupported("SPARQL constraint with a nested group, UNION or subquery")
            stack.append(tok)
        elif tok == "}":
            if not stack:
                raise Unsupported("SPARQL constraint with unbalanced braces")
            stack.pop()
        previous = low
    if selects != 1 or where_at is None or stack:
        raise Unsupported("SPARQL constraint that is not one SELECT with a WHERE group")
    return where_at


class Data:
    """The data graph (data and ontology merged), indexed for shape evaluation."""

    def __init__(self, triples: Iterable[Triple]):
        sp: dict[NamedNode, dict[object, list]] = {}
        for t in triples:
            by_s = sp.get(t.predicate)
            if by_s is None:
                by_s = sp[t.predicate] = {}
            objs = by_s.get(t.subject)
            if objs is None:
                by_s[t.subject] = [t.object]
            else:
                objs.append(t.object)
        self.sp = sp
        self.types = sp.get(_RDF_TYPE, {})
        supers: dict[object, set] = {}
        for sub, sups in sp.get(_SUBCLASS, {}).items():
            supers.setdefault(sub, set()).update(sups)
        self._supers = supers
        self._closure: dict[object, frozenset] = {}
        self._by_class: dict[object, list] | None = None
        self._objects_of: dict[NamedNode, list] = {}

    def superclasses(self, cls) -> frozenset:
        """`cls` and every class it is an rdfs:subClassOf*."""
        got = self._closure.get(cls)
        if got is None:
            seen, todo = {cls}, [cls]
            while todo:
                for s in self._supers.get(todo.pop(), ()):
                    if s not in seen:
                        seen.add(s)
                        todo.append(s)
            got = self._closure[cls] = frozenset(seen)
        return got

    def has_class(self, node, cls) -> bool:
        return any(cls in self.superclasses(t) for t in self.types.get(node, ()))

    def instances(self, cls) -> list:
        """Every node with rdf:type/rdfs:subClassOf* `cls` (SHACL instances)."""
        if self._by_class is None:
            by_type: dict[object, list] = {}
            for x, ts in self.types.items():
                for t in ts:
                    by_type.setdefault(t, []).append(x)
            by_class: dict[object, dict] = {}
            for t, xs in by_type.items():
                for c in self.superclasses(t):
                    by_class.setdefault(c, {}).update(dict.fromkeys(xs))
            self._by_class = {c: list(xs) for c, xs in by_class.items()}
        return self._by_class.get(cls, [])

    def values(self, node, path: NamedNode) -> list:
        return self.sp.get(path, {}).get(node, [])

    def subjects_of(self, p: NamedNode) -> list:
        return list(self.sp.get(p, {}))

    def objects_of(self, p: NamedNode) -> list:
        got = self._objects_of.get(p)
        if got is None:
            seen: dict = {}
            for objs in self.sp.get(p, {}).values():
                for o in objs:
                    seen[o] = None
            got = self._objects_of[p] = list(seen)
        return got


class _Rdflib:
    """pySHACL's literal semantics (well-formedness, comparison), through cached rdflib terms."""

    def __init__(self):
        from rdflib import Literal as RLiteral
        from rdflib import URIRef

        self.RLiteral, self.URIRef = RLiteral, URIRef
        self._cache: dict = {}

    def term(self, t):
        got = self._cache.get(t)
        if got is None:
            if isinstance(t, Literal):
                if t.language:
                    got = self.RLiteral(t.value, lang=t.language)
                else:
                    got = self.RLiteral(t.value, datatype=self.URIRef(t.datatype.value))
            elif isinstance(t, NamedNode):
                got = self.URIRef(t.value)
            else:
                raise Unsupported("blank node where a literal comparison is needed")
            self._cache[t] = got
        return got


def _datatype_ok(v, rule: NamedNode, rd: _Rdflib) -> bool:
    """pySHACL's DatatypeConstraintComponent for one value."""
    if not isinstance(v, Literal):
        return False
    if v.language:
        if rule == _LANG_STRING:
            return True
        return rule.value == ns.RDFS + "Literal"
    if v.datatype == rule:
        if rule == _XSD_STRING:
            return True
        lit = rd.term(v)
        if getattr(lit, "ill_typed", None) is True:
            return False
        return _actual_datatype_ok(lit, rule)
    return bool(rule.value == ns.RDFS + "Literal" or rule.value == ns.RDFS + "Datatype")


def _actual_datatype_ok(lit, rule: NamedNode) -> bool:
    import datetime as dtm
    from decimal import Decimal

    value, local = (
        lit.value,
        rule.value[len(ns.XSD) :] if rule.value.startswith(ns.XSD) else "",
    )
    checks = {
        "string": (str, bytes),
        "integer": int,
        "float": float,
        "decimal": Decimal,
        "boolean": bool,
        "date": dtm.date,
        "time": dtm.time,
        "dateTime": dtm.datetime,
    }
    if rule == _LANG_STRING:
        return isinstance(value, (str, bytes))
    if local in checks:
        return isinstance(value, checks[local])
    return True


def _node_kind_ok(v, kind: NamedNode) -> bool:
    k = kind.value[len(SH) :]
    is_iri, is_bnode, is_lit = (
        isinstance(v, NamedNode),
        isinstance(v, BlankNode),
        isinstance(v, Literal),
    )
    table = {
        "IRI": is_iri,
        "BlankNode": is_bnode,
        "Literal": is_lit,
        "BlankNodeOrIRI": is_bnode or is_iri,
        "BlankNodeOrLiteral": is_bnode or is_lit,
        "IRIOrLiteral": is_iri or is_lit,
    }
    if k not in table:
        raise Unsupported(f"sh:nodeKind {kind}")
    return table[k]


def _string_of(v, rd: _Rdflib) -> str:
    """pySHACL's value_node_to_string."""
    if isinstance(v, Literal):
        if v.language or v.datatype == _XSD_STRING:
            return v.value
        return str(rd.term(v))
    return v.value


def _compare_ok(v, bound, key: str, rd: _Rdflib) -> bool:
    """pySHACL's min/max inclusive/exclusive check of one value."""
    if not isinstance(v, Literal):
        return False
    lv, lb = rd.term(v), rd.term(bound)
    v_str, b_str = isinstance(lv.value, str), isinstance(lb.value, str)
    if v_str != b_str:
        return False
    try:
        cmp = _compare_literal(lv, lb)
    except (TypeError, NotImplementedError):
        return False
    return {
        "minInclusive": cmp >= 0,
        "minExclusive": cmp > 0,
        "maxInclusive": cmp <= 0,
        "maxExclusive": cmp < 0,
    }[key]


def _compare_literal(l1, l2) -> int:
    """pySHACL's rdfutil.compare.compare_literal (copied: importing pySHACL costs 0.1 s)."""
    import datetime as dtm

    if l1.eq(l2):
        return 0
    if l1.value.__class__ in (dtm.datetime, dtm.time):
        if l1.value == l2.value:
            return 0
        if l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


def _less_than_fails(v, other, rd: _Rdflib) -> bool:
    """pySHACL's sh:lessThan comparison of one pair: True when it is a violation."""
    if isinstance(v, BlankNode) or isinstance(other, BlankNode):
        raise Unsupported("sh:lessThan on a blank node (pySHACL raises)")

    def plain(t):
        if isinstance(t, NamedNode):
            return t.value, True
        lit = rd.term(t)
        if isinstance(lit.value, str):
            return lit.value, True
        return lit, False

    a, a_str = plain(v)
    b, b_str = plain(other)
    if a_str != b_str:
        return True
    return not a < b


class Validator:
    def __init__(self, shapes: Shapes, data: Data, store_factory):
        self.shapes = shapes
        self.data = data
        self._store_factory = store_factory
        self._store: Store | None = None
        self.rd = _Rdflib()
        self._conforms_cache: dict[tuple, bool] = {}
        self.progress = None

    def store(self) -> Store:
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    def focus_nodes(self, shape: _Shape) -> list:
        seen: dict = {}
        for kind, v in shape.targets:
            if kind == "targetClass":
                nodes = self.data.instances(v)
            elif kind == "targetSubjectsOf":
                nodes = self.data.subjects_of(v)
            elif kind == "targetObjectsOf":
                nodes = self.data.objects_of(v)
            else:
                nodes = [v]
            for n in nodes:
                seen[n] = None
        return list(seen)

    def run(self) -> list[RawResult]:
        # Each shape on its own targets, and each of its property shapes on the same focus
        # nodes, once per parent: a property shape shared by two node shapes whose targets
        # overlap reports twice, as SHACL's report does (sh:property is only allowed on node
        # shapes, so this is the whole depth).
        results: list[RawResult] = []
        for shape in self.shapes.shapes.values():
            nodes = self.focus_nodes(shape)
            if nodes:
                results += self.evaluate(shape, nodes)
                for p in shape.properties:
                    results += self.evaluate(self.shapes.shapes[p], nodes)
            if self.progress is not None:
                self.progress()
        return results

    def _value_nodes(self, shape: _Shape, f) -> list:
        # The data is a set of triples, so the objects of one subject and path are distinct.
        return self.data.values(f, shape.path) if shape.is_property else [f]

    def evaluate(self, shape: _Shape, nodes: list, *, first_failure: bool = False):
        """Results of `shape` on `nodes`; with first_failure, stop at the first one."""
        out: list[RawResult] = []

        def fail(f, value, component: str, path=None, extra=(), constraint=None) -> bool:
            msgs = tuple(sorted(set(shape.messages) | set(extra), key=_message_key))
            out.append(
                RawResult(
                    shape.severity,
                    f,
                    path if path is not None else shape.path,
                    msgs,
                    value,
                    shape.node,
                    component,
                    constraint,
                )
            )
            return first_failure

        rd = self.rd
        for key, param in shape.constraints:
            comp = key[0].upper() + key[1:] + "ConstraintComponent"
            for f in nodes:
                values = self._value_nodes(shape, f)
                if key == "minCount":
                    if len(values) < param and fail(f, None, comp):
                        return out
                elif key == "maxCount":
                    if len(values) > param and fail(f, None, comp):
                        return out
                elif key == "hasValue":
                    if param not in values and fail(f, None, comp):
                        return out
                elif key == "uniqueLang":
                    if not param:
                        continue
                    langs: dict[str, int] = {}
                    for v in values:
                        if isinstance(v, Literal) and v.language:
                            low = v.language.lower()
                            langs[low] = langs.get(low, 0) + 1
                    for n in langs.values():
                        if n > 1 and fail(f, None, comp):
                            return out
                elif key == "qualifiedValueShape":
                    vshape, qmin, qmax = param
                    n = sum(1 for v in values if self.conforms(vshape, v))
                    too_many = qmax is not None and n > qmax
                    too_few = qmin is not None and n < qmin
                    if too_many and fail(f, None, "QualifiedMaxCountConstraintComponent"):
                        return out
                    if too_few and fail(f, None, "QualifiedMinCountConstraintComponent"):
                        return out
                elif key == "lessThan":
                    others = self.data.values(f, param)
                    for v in values:
                        for o in others:
                            if _less_than_fails(v, o, rd) and fail(f, v, comp):
                                return out
                else:
                    for v in values:
                        if not self._value_ok(key, param, v) and fail(f, v, comp):
                            return out
        for sq in shape.sparql:
            for f, path, value in self._run_sparql(sq, nodes):
                if fail(f, value, "SPARQLConstraintComponent", path, sq.messages, sq.node):
                    return out
        return out

    def _value_ok(self, key: str, param, v) -> bool:
        rd = self.rd
        if key == "class":
            return not isinstance(v, Literal) and self.data.has_class(v, param)
        if key == "datatype":
            return _datatype_ok(v, param, rd)
        if key == "nodeKind":
            return _node_kind_ok(v, param)
        if key == "pattern":
            if isinstance(v, BlankNode):
                return False
            s = _string_of(v, rd)
            return bool(param.match(s) or param.search(s))
        if key in ("minLength", "maxLength"):
            if key == "minLength" and param == 0:
                return True
            if isinstance(v, BlankNode):
                return False
            n = len(_string_of(v, rd))
            return n >= param if key == "minLength" else n <= param
        if key == "languageIn":
            if not isinstance(v, Literal) or not v.language:
                return False
            if "*" in param:
                return True
            lang = v.language.lower()
            return lang in param or lang.split("-")[0] in param
        if key in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            return _compare_ok(v, param, key, rd)
        raise Unsupported(f"sh:{key}")

    def conforms(self, shape_node, value) -> bool:
        """Does `value` conform to the shape (a nested check: any result means no)?"""
        key = (shape_node, value)
        got = self._conforms_cache.get(key)
        if got is None:
            shape = self.shapes.shapes[shape_node]
            got = not self.evaluate(shape, [value], first_failure=True)
            if got:
                for p in shape.properties:
                    if self.evaluate(self.shapes.shapes[p], [value], first_failure=True):
                        got = False
                        break
            self._conforms_cache[key] = got
        return got

    def _run_sparql(self, sq: _Sparql, nodes: list):
        """(focus, path, value) for each solution, all focus nodes at once (VALUES $this)."""
        text, at = sq.query, sq.values_at
        for n in nodes:
            if not isinstance(n, NamedNode):
                raise Unsupported("blank focus node for a SPARQL constraint")
        out = []
        for chunk in range(0, len(nodes), 20000):
            part = nodes[chunk : chunk + 20000]
            values = " VALUES ?this { " + " ".join(str(n) for n in part) + " } "
            query = text[:at] + values + text[at:]
            try:
                solutions = self.store().query(query, prefixes=sq.prefixes)
                this_v, path_v, value_v = (
                    Variable("this"),
                    Variable("path"),
                    Variable("value"),
                )
                names = {v.value for v in solutions.variables}
                for sol in solutions:
                    f = sol[this_v] if "this" in names else None
                    p = sol[path_v] if "path" in names else None
                    v = sol[value_v] if "value" in names else None
                    if f is None:
                        raise Unsupported("a SPARQL constraint solution without $this")
                    if v is None:
                        v = f  # node shapes report the focus node as the value
                    out.append((f, p, v))
            except (SyntaxError, RuntimeError, OSError) as e:
                raise Unsupported(f"SPARQL constraint failed: {e}") from None
        return out


def make_store(triples: Iterable[Triple]) -> Store:
    """A store holding `triples` in its default graph (what SPARQL constraints query)."""
    store = Store()
    store.bulk_extend(Quad(t.subject, t.predicate, t.object) for t in triples)
    return store


def validate(
    data_triples, shapes_triples, *, store: Store | None = None, progress=None
) -> list[RawResult]:
    """Every result of the shapes on the data (ontology merged in). Raises Unsupported.

    `progress()`, if given, is called once per shape checked."""
    # A set: value nodes must be distinct (Data relies on it).
    triples = data_triples if isinstance(data_triples, (set, frozenset)) else set(data_triples)
    shapes = Shapes(shapes_triples)
    data = Data(triples)
    factory = (lambda: store) if store is not None else (lambda: make_store(triples))
    validator = Validator(shapes, data, factory)
    validator.progress = progress
    return validator.run()
