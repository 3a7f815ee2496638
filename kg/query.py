"""Stored SPARQL queries: header parsing, parameter binding, execution and labelling.

Parameters are bound with pyoxigraph `substitutions` (SEP-0007), never pasted into the text.
The query sees the union of all named graphs of the cached build.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Store,
    Variable,
)

from kg import namespaces as ns
from kg.build import ensure_built
from kg.errors import KgQueryError
from kg.project import Project

PARAM_TYPES = ("IRI", "string", "integer", "date")
LANGUAGES = ("en", "zh")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_KEY = re.compile(r"^#\s*(question|param|columns)\s*:\s*(.*)$", re.IGNORECASE)
_SYNTAX_POS = re.compile(r"^error at (\d+):(\d+): ?(.*)$", re.DOTALL)
_NOT_PROJECTED = re.compile(r"does not contains? variable \?(\w+) in its SELECT projection")
_LABEL = NamedNode(ns.RDFS + "label")


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # one of PARAM_TYPES
    description: str = ""

    def usage(self) -> str:
        desc = f" ({self.description})" if self.description else ""
        return f"--param {self.name}={self.type.upper() if self.type == 'IRI' else self.type}{desc}"


@dataclass(frozen=True)
class StoredQuery:
    """A query file and what its header says about it."""

    name: str
    path: Path
    rel: str  # path shown in messages (relative to the project when inside it)
    text: str
    question: str = ""
    params: tuple[Param, ...] = ()
    columns: tuple[str, ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def parse_header(text: str, *, file: str = "<query>") -> tuple[str, tuple, tuple]:
    """Read `# question:`, `# param: NAME TYPE description` and `# columns:` lines.

    The header is the leading block of comment lines; a comment line without a key continues
    the previous entry (so a long question may wrap).
    """
    question: list[str] = []
    params: list[list] = []  # [name, type, [description parts]]
    columns: list[str] = []
    last: list[str] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        m = _HEADER_KEY.match(line)
        if m is None:
            more = line.lstrip("#").strip()
            if last is not None and more:
                last.append(more)
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key == "question":
            question.append(value)
            last = question
        elif key == "columns":
            columns += value.replace(",", " ").split()
            last = None
        else:
            parts = value.split(None, 2)
            if len(parts) < 2:
                raise KgQueryError(
                    f"{file}:{lineno}: a param line reads '# param: NAME TYPE description' "
                    f"with TYPE one of {', '.join(PARAM_TYPES)}"
                )
            name, ptype = parts[0].lstrip("?$"), parts[1]
            canonical = {t.lower(): t for t in PARAM_TYPES}.get(ptype.lower())
            if not _NAME.match(name) or canonical is None:
                raise KgQueryError(
                    f"{file}:{lineno}: bad param '{name} {ptype}': NAME must be a SPARQL "
                    f"variable name and TYPE one of {', '.join(PARAM_TYPES)}"
                )
            desc = [parts[2]] if len(parts) > 2 else []
            params.append([name, canonical, desc])
            last = desc
    plist = tuple(Param(n, t, " ".join(d)) for n, t, d in params)
    return " ".join(question), plist, tuple(columns)


def _load_query(path: Path, name: str, rel: str) -> StoredQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise KgQueryError(f"{rel}: cannot read query: {e}") from None
    question, params, columns = parse_header(text, file=rel)
    return StoredQuery(name, path, rel, text, question, params, columns)


def list_queries(project: Project) -> list[StoredQuery]:
    """Every stored query of the project (queries/*.rq), sorted by name."""
    folder = project.queries_dir
    paths = sorted(folder.glob("*.rq")) if folder.is_dir() else []
    return [_load_query(p, p.stem, project.rel(p)) for p in paths]


def find_query(project: Project, name_or_file: str) -> StoredQuery:
    """A stored query by name (queries/<name>.rq) or by path to an .rq file."""
    looks_like_path = name_or_file.endswith(".rq") or "/" in name_or_file or "\\" in name_or_file
    if looks_like_path:
        for path in (Path(name_or_file), project.root / name_or_file):
            if path.is_file():
                return _load_query(path, path.stem, project.rel(path.resolve()))
        raise KgQueryError(f"query file not found: {name_or_file}")
    path = project.queries_dir / f"{name_or_file}.rq"
    if path.is_file():
        return _load_query(path, name_or_file, project.rel(path))
    folder = project.queries_dir
    names = sorted(p.stem for p in folder.glob("*.rq")) if folder.is_dir() else []
    close = difflib.get_close_matches(name_or_file, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    listing = "" if close else f" (known: {', '.join(names) or 'none'})"
    raise KgQueryError(
        f"unknown query '{name_or_file}'{hint}{listing} — `kg query --list` shows them all"
    )


def expand_iri(value: str) -> str:
    """A full IRI (`<…>` or with ://), a prefixed name (`kgr:x`) or a bare kgr: local name."""
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    prefix, colon, rest = value.partition(":")
    if colon:
        if prefix in ns.PREFIXES:
            return ns.PREFIXES[prefix] + rest
        if rest.startswith("//") or prefix in ("urn", "mailto"):
            return value
        known = ", ".join(f"{p}:" for p in ns.PREFIXES)
        raise KgQueryError(f"unknown prefix '{prefix}:' in '{value}' (known: {known})")
    return ns.KGR + value


def param_value(param: Param, value: str):
    """The RDF term for a parameter value given on the command line."""
    try:
        if param.type == "IRI":
            return NamedNode(expand_iri(value))
        if param.type == "integer":
            return Literal(str(int(value.strip())), datatype=NamedNode(ns.XSD + "integer"))
        if param.type == "date":
            day = dt.date.fromisoformat(value.strip())
            return Literal(day.isoformat(), datatype=NamedNode(ns.XSD + "date"))
        return Literal(value)
    except ValueError as e:
        expected = {
            "IRI": "an IRI, a prefixed name like kgr:x, or a kgr: local name",
            "integer": "a whole number",
            "date": "a date YYYY-MM-DD",
        }.get(param.type, param.type)
        raise KgQueryError(
            f"bad value for --param {param.name}: '{value}' is not {expected} ({e})"
        ) from None


def bind(query: StoredQuery, values: Mapping[str, str]) -> dict[Variable, object]:
    """Check the given parameters against the header and turn them into substitutions."""
    unknown = [k for k in values if query.param(k) is None]
    missing = [p for p in query.params if p.name not in values]
    if unknown or missing:
        if query.params:
            expects = "; ".join(p.usage() for p in query.params)
            expects = f"it expects {expects}"
        else:
            expects = "it takes no parameters"
        what = []
        if unknown:
            what.append(f"unknown parameter {', '.join(repr(k) for k in unknown)}")
        if missing:
            what.append(f"missing parameter {', '.join(repr(p.name) for p in missing)}")
        raise KgQueryError(f"query '{query.name}': {' and '.join(what)}; {expects}")
    return {Variable(p.name): param_value(p, values[p.name]) for p in query.params}


class Labeler:
    """Labels for IRIs: rdfs:label in the chosen language, then the other, then the local name."""

    def __init__(self, store: Store, lang: str = "en"):
        if lang not in LANGUAGES:
            raise KgQueryError(f"unknown language '{lang}' (use one of {', '.join(LANGUAGES)})")
        self.store = store
        self.order = [lang] + [x for x in LANGUAGES if x != lang]
        self._cache: dict[str, str] = {}

    def label(self, node: NamedNode) -> str:
        iri = node.value
        if iri not in self._cache:
            rank = len(self.order)
            best: tuple[int, str] | None = None
            for q in self.store.quads_for_pattern(node, _LABEL, None, None):
                if not isinstance(q.object, Literal):
                    continue
                lang = q.object.language
                r = self.order.index(lang) if lang in self.order else rank
                cand = (r, q.object.value)
                if best is None or cand < best:
                    best = cand
            self._cache[iri] = best[1] if best else ns.local_name(iri)
        return self._cache[iri]


@dataclass(frozen=True)
class Cell:
    text: str  # label for IRIs, lexical value for literals, "" when unbound
    iri: str | None = None  # the IRI, when the value is one
    bound: bool = True  # False for a variable without a value in this row
    value: object = None  # the typed value for JSON (number, boolean), when not a string


@dataclass
class QueryResult:
    query: StoredQuery
    columns: list[str]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)

    def iri_columns(self) -> set[str]:
        """Columns holding at least one IRI (they get a `<column>_iri` companion)."""
        return {c for i, c in enumerate(self.columns) if any(r[i].iri for r in self.rows)}


def open_store(data: bytes) -> Store:
    """An in-memory store holding the cached N-Quads."""
    store = Store()
    store.load(data, RdfFormat.N_QUADS)
    return store


def _cell(term, labeler: Labeler) -> Cell:
    if term is None:
        return Cell("", None, False)
    if isinstance(term, NamedNode):
        return Cell(labeler.label(term), term.value)
    if isinstance(term, BlankNode):
        return Cell(f"_:{term.value}")
    if isinstance(term, Literal):
        return Cell(term.value, value=_json_value(term))
    return Cell(str(term))


_XSD_INTEGERS = {
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
}  # fmt: skip


def _json_value(literal: Literal) -> object:
    """Numbers and booleans as JSON numbers and booleans; None keeps the lexical string."""
    dt = literal.datatype.value
    if not dt.startswith(ns.XSD):
        return None
    local = dt[len(ns.XSD) :]
    try:
        if local in _XSD_INTEGERS:
            return int(literal.value)
        if local in ("decimal", "double", "float"):
            number = float(literal.value)
            return int(number) if local == "decimal" and number.is_integer() else number
    except ValueError:
        return None  # an ill-typed literal stays a string rather than failing the output
    if local == "boolean" and literal.value in ("true", "false", "1", "0"):
        return literal.value in ("true", "1")
    return None


def _table(answer, query: StoredQuery, labeler: Labeler) -> tuple[list[str], list[list[Cell]]]:
    if isinstance(answer, QueryBoolean):
        return ["result"], [[Cell(str(bool(answer)).lower())]]
    if isinstance(answer, QuerySolutions):
        variables = [v.value for v in answer.variables]
        columns = list(query.columns) or variables
        absent = [c for c in columns if c not in variables]
        if absent:
            raise KgQueryError(
                f"{query.rel}: '# columns:' names {', '.join(absent)}, which the query does "
                f"not select (it selects {', '.join(variables)})"
            )
        return columns, [[_cell(sol[c], labeler) for c in columns] for sol in answer]
    # CONSTRUCT / DESCRIBE: one row per triple.
    return ["subject", "predicate", "object"], [
        [_cell(t.subject, labeler), _cell(t.predicate, labeler), _cell(t.object, labeler)]
        for t in answer
    ]


def _unknown_nodes(store: Store, substitutions: dict) -> list[str]:
    """Notes for IRI parameters that occur nowhere (most likely a typo)."""
    return [
        f"note: {ns.shorten(v.value)} (--param {k.value}) does not occur in the graph"
        for k, v in substitutions.items()
        if isinstance(v, NamedNode)
        and next(store.quads_for_pattern(v, None, None, None), None) is None
        and next(store.quads_for_pattern(None, None, v, None), None) is None
    ]


def execute(
    store: Store, query: StoredQuery, params: Mapping[str, str] | None = None, *, lang: str = "en"
) -> QueryResult:
    """Run a stored query against `store` with its parameters bound."""
    substitutions = bind(query, params or {})
    labeler = Labeler(store, lang)
    try:
        # Results are lazy: evaluation errors can surface while rows are read, so read them here.
        answer = store.query(
            query.text, use_default_graph_as_union=True, substitutions=substitutions
        )
        columns, rows = _table(answer, query, labeler)
    except SyntaxError as e:
        msg = str(e.args[0]) if e.args else str(e)
        m = _SYNTAX_POS.match(msg)
        where = f"{query.rel}:{m.group(1)}:{m.group(2)}" if m else query.rel
        raise KgQueryError(f"{where}: SPARQL syntax error: {m.group(3) if m else msg}") from None
    except RuntimeError as e:
        msg = str(e)
        m = _NOT_PROJECTED.search(msg)
        if m:
            # pyoxigraph binds parameters through the SELECT projection (SEP-0007).
            msg = (
                f"parameter ?{m.group(1)} must be selected by the query to be bound: add "
                f"?{m.group(1)} to its SELECT clause ('# columns:' decides what is shown)"
            )
        raise KgQueryError(f"{query.rel}: {msg}") from None
    except OSError as e:
        raise KgQueryError(f"{query.rel}: query failed: {e}") from None
    return QueryResult(query, columns, rows, _unknown_nodes(store, substitutions))


def run(
    project: Project,
    name_or_file: str,
    params: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
    notify: Callable[[str], None] | None = None,
) -> QueryResult:
    """Find a stored query, make sure the build is current, and run it."""
    query = find_query(project, name_or_file)
    bind(query, params or {})  # report parameter mistakes before any (re)build
    result = ensure_built(project, notify=notify)
    return execute(open_store(result.dataset), query, params, lang=lang)
