"""Stored Cypher questions (queries/NAME.cypher) over the property-graph projection.

A `.cypher` file has the same header as an `.rq` file, written as Cypher comments
(`// question:`, `// param: NAME TYPE description`, `// columns:`). The text goes to the engine
as it is, comments included, so the engine's line and column are the file's. Parameters are
bound as Cypher parameters (`$name`), never pasted. Queries run read-only: a writing clause is
refused before the engine sees it, and the engine runs everything with GRAPH.RO_QUERY anyway.

The answer is turned into the same `QueryResult` of `Cell`s as `kg query`'s, so `kg.format`
writes both alike: a node becomes its label in the chosen language (`label_en`/`label_zh`,
then the other, then the local name of its IRI) with its IRI beside it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kg import namespaces as ns
from kg.errors import KgError, KgQueryError, KgQueryTimeout, KgTermError
from kg.project import Project
from kg.query import (
    LANGUAGES,
    Cell,
    Param,
    QueryResult,
    StoredQuery,
    expand_iri,
    parse_header,
    printable,
    refuse_outside,
)

SUFFIX = ".cypher"
DEFAULT_TIMEOUT_S = 30.0
WRITE_CLAUSES = ("CREATE", "SET", "DELETE", "DETACH", "MERGE", "REMOVE", "DROP", "LOAD")
# Procedures that only read; any other CALL is refused (index creation, config, ...).
READ_PROCEDURES = (
    "db.labels",
    "db.relationshipTypes",
    "db.propertyKeys",
    "db.indexes",
    "db.constraints",
    "db.idx.fulltext.queryNodes",
    "db.idx.fulltext.queryRelationships",
)
_HEADER_LINE = re.compile(r"^\s*//")
_FALKOR_POS = re.compile(r"line: (\d+), column: (\d+)")
_ERR_MSG = re.compile(r"errMsg: (.*?) line: \d+", re.DOTALL)
_NAMED_ERROR = re.compile(r"^Unknown function '(\w+)'|^'(\w+)' not defined")


_NAMES = ("ident", "bident")


class KgCypherWriteError(KgQueryError):
    """A query that would write (exit 2)."""


# --------------------------------------------------------------------------- stored queries


def _header_as_rq(text: str) -> str:
    """The leading `//` comment block with `#` instead, for kg.query's header parser."""
    out = []
    for line in text.splitlines():
        if _HEADER_LINE.match(line):
            out.append("#" + line.lstrip()[2:])
        elif line.strip():
            break
        else:
            out.append("")
    return "\n".join(out)


def _load(path: Path, name: str, rel: str) -> StoredQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise KgQueryError(f"{rel}: cannot read query: {e}") from None
    question, params, columns = parse_header(_header_as_rq(text), file=rel)
    return StoredQuery(name, path, rel, text, question, params, columns)


def list_queries(project: Project) -> list[StoredQuery]:
    """Every stored Cypher question of the project (queries/*.cypher), sorted by name."""
    folder = project.queries_dir
    paths = sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []
    for p in paths:
        refuse_outside(project, p)  # kg serve's page shows their text
    return [_load(p, p.stem, project.rel(p)) for p in paths]


def find_query(project: Project, name_or_file: str) -> StoredQuery:
    """A stored question by name (queries/<name>.cypher) or by path to a .cypher file."""
    if name_or_file.endswith(SUFFIX) or "/" in name_or_file or "\\" in name_or_file:
        for path in (Path(name_or_file), project.root / name_or_file):
            if path.is_file():
                return _load(path, path.stem, project.rel(path.resolve()))
        raise KgQueryError(f"query file not found: {name_or_file}")
    path = project.queries_dir / f"{name_or_file}{SUFFIX}"
    if path.is_file():
        refuse_outside(project, path)
        return _load(path, name_or_file, project.rel(path))
    names = [q.name for q in list_queries(project)]
    close = difflib.get_close_matches(name_or_file, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    listing = "" if close else f" (known: {', '.join(names) or 'none'})"
    raise KgQueryError(
        f"unknown Cypher query '{name_or_file}'{hint}{listing} — `kg cypher --list` shows them all"
    )


def bind(query: StoredQuery, values: Mapping[str, str]) -> dict[str, object]:
    """The Cypher parameters for the given values, checked against the header."""
    from kg.query import bind as bind_sparql

    bind_sparql(query, values)  # same checks and messages: unknown, missing, malformed
    return {p.name: _param_value(p, values[p.name]) for p in query.params}


def _param_value(param: Param, value: str) -> object:
    if param.type == "IRI":
        return expand_iri(value)
    if param.type == "integer":
        return int(value.strip())
    if param.type == "date":
        return dt.date.fromisoformat(value.strip()).isoformat()  # dates are ISO strings here
    return value


# --------------------------------------------------------------------------- static checks


@dataclass(frozen=True)
class Token:
    kind: str  # ident, bident (`quoted`), string, number, param, punct
    text: str
    line: int
    column: int


_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<string>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<bident>`(?:[^`]|``)*`)|(?P<param>\$\w+)"
    r"|(?P<number>\d+(?:\.\d+(?![.]))?(?:[eE][-+]?\d+)?)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>.)",
    re.DOTALL,
)


def tokens(text: str) -> list[Token]:
    """Cypher tokens with their 1-based line and column; comments and spaces dropped."""
    out = []
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        start = m.start()
        if kind not in ("ws", "comment"):
            value = m.group()
            if kind == "bident":  # `quoted`: a name, never a keyword
                value = value[1:-1].replace("``", "`")
            out.append(Token(kind, value, line, start - line_start + 1))
        newlines = m.group().count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + m.group().rfind("\n") + 1
    return out


def check_read_only(query: StoredQuery) -> None:
    """Refuse a writing clause or a CALL of a procedure that is not known to only read."""
    toks = tokens(query.text)
    for i, tok in enumerate(toks):
        if tok.kind != "ident" or (i and toks[i - 1].text in (".", ":")):
            continue
        word = tok.text.upper()
        if word in WRITE_CLAUSES:
            raise KgCypherWriteError(
                f"{query.rel}:{tok.line}:{tok.column}: {word} would change the graph; kg cypher "
                "runs read-only queries (the graph is derived from the RDF build: change the "
                "data files and run kg build)"
            )
        if word == "CALL" and i + 1 < len(toks) and toks[i + 1].text != "{":
            name, j = [], i + 1
            while j < len(toks) and toks[j].kind in _NAMES:
                name.append(toks[j].text)
                if j + 1 < len(toks) and toks[j + 1].text == ".":
                    j += 2
                else:
                    break
            procedure = ".".join(name)
            if procedure not in READ_PROCEDURES:
                raise KgCypherWriteError(
                    f"{query.rel}:{tok.line}:{tok.column}: CALL {procedure}: only read-only "
                    f"procedures may be called ({', '.join(READ_PROCEDURES)})"
                )


def names_used(toks: list[Token]) -> list[tuple[str, Token]]:
    """(kind, token) for every label ('label'), relationship type ('type') and property key
    ('key') the query names. A colon inside a map literal is a key separator, not a label."""
    out: list[tuple[str, Token]] = []
    stack: list[str] = []  # '(' '[' 'map' 'block'
    for i, tok in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if tok.kind == "punct":
            if tok.text in "([":
                stack.append(tok.text)
            elif tok.text == "{":
                block = prev is not None and prev.kind == "ident" and prev.text.upper() == "CALL"
                stack.append("block" if block else "map")
            elif tok.text in ")]}" and stack:
                stack.pop()
            elif tok.text in ":|" and nxt is not None and nxt.kind in _NAMES:
                inside = stack[-1] if stack else "block"
                if inside == "map" or (tok.text == "|" and inside != "["):
                    continue
                if tok.text == "|" and prev is not None and prev.text == ":":
                    continue
                out.append(("type" if inside == "[" else "label", nxt))
            elif (
                tok.text == "."
                and nxt is not None
                and nxt.kind in _NAMES
                and prev is not None
                and (prev.kind in _NAMES or prev.text in ")]")
                and not (i + 2 < len(toks) and toks[i + 2].text in ("(", "."))
            ):
                out.append(("key", nxt))
    return out


def unknown_names(query: StoredQuery, schema: dict[str, list[str]]) -> list[str]:
    """Messages for labels, types and keys the projection does not have, with the closest."""
    known = {"label": schema["labels"], "type": schema["types"], "key": schema["keys"]}
    what = {"label": "label", "type": "relationship type", "key": "property"}
    sigil = {"label": ":", "type": ":", "key": "."}
    problems, seen = [], set()
    for kind, tok in names_used(tokens(query.text)):
        if tok.text in known[kind] or (kind, tok.text) in seen:
            continue
        seen.add((kind, tok.text))
        close = difflib.get_close_matches(tok.text, known[kind], n=1, cutoff=0.6)
        if not close:
            lower = {k.lower(): k for k in known[kind]}
            close = [lower[tok.text.lower()]] if tok.text.lower() in lower else []
        hint = f" (closest: {sigil[kind]}{close[0]})" if close else ""
        problems.append(
            f"{query.rel}:{tok.line}:{tok.column}: {what[kind]} {sigil[kind]}{tok.text} "
            f"is not in the projection{hint}"
        )
    return problems


# --------------------------------------------------------------------------- answers


class NodeLabeler:
    """The label of a node, as kg.query.Labeler labels an IRI (remembered per IRI: an answer
    names the same nodes many times)."""

    def __init__(self, lang: str = "en"):
        if lang not in LANGUAGES:
            raise KgQueryError(f"unknown language '{lang}' (use one of {', '.join(LANGUAGES)})")
        self.lang = lang
        self.others = [x for x in LANGUAGES if x != lang]
        self._keys = [f"label_{x}" for x in [lang, *self.others]]
        self._cache: dict[str, str] = {}

    def label(self, props: Mapping[str, object]) -> str:
        iri = props.get("iri")
        if iri is not None and iri in self._cache:
            return self._cache[iri]
        found = self._label(props)
        if iri is not None:
            self._cache[iri] = found
        return found

    def _label(self, props: Mapping[str, object]) -> str:
        # a node's short form has every key it was asked for, null when the node lacks it
        for key in self._keys:
            if props.get(key) is not None:
                return _first(props[key])
        rest = [
            _first(v)
            for k, v in props.items()
            if v is not None
            and (k == "label" or (k.startswith("label_") and not k.endswith("__datatype")))
        ]
        if rest:
            return min(rest)
        return ns.local_name(str(props.get("iri", "")))


def _first(value) -> str:
    return min(str(v) for v in value) if isinstance(value, list) and value else str(value)


def to_cell(value, labeler: NodeLabeler) -> Cell:
    # the commonest values first: answers have many thousands of cells
    if value is None:
        return Cell("", None, False)
    if isinstance(value, str):
        return Cell(value)
    if isinstance(value, dict) and "iri" in value:
        # a node's short form, `n {.iri, .label_en, .label_zh}`, as the stored questions return
        # nodes: a whole node brings every property (quotes and all) to the client, which
        # costs more than the query. FalkorDB gives a missing node as a map of nulls.
        if value["iri"] is None:
            return Cell("", None, False)
        return Cell(labeler.label(value), value["iri"])
    if isinstance(value, bool):
        return Cell("true" if value else "false", value=value)
    if isinstance(value, int | float):
        return Cell(str(value), value=value)
    if isinstance(value, list):
        return Cell(", ".join(to_cell(v, labeler).text for v in value))
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return Cell(value.isoformat())
    from falkordb import Edge, Node, Path

    if isinstance(value, Node):
        props = value.properties
        return Cell(labeler.label(props), props.get("iri"))
    if isinstance(value, Edge):
        return Cell(value.relation or "")
    if isinstance(value, Path):
        parts = []
        for i, node in enumerate(value.nodes()):
            if i:
                parts.append(f"-[{value.get_edge(i - 1).relation}]-")
            parts.append(labeler.label(node.properties))
        return Cell(" ".join(parts))
    return Cell(str(value))


def _engine_error(e: Exception, query: StoredQuery, timeout: float | None) -> KgError:
    msg = str(e)
    if "timed out" in msg.lower():
        limit = f"{timeout:g} s (--timeout {timeout:g})" if timeout else "its time limit"
        return KgQueryTimeout(
            f"{query.rel}: no answer within {limit}: the query was stopped; add a LIMIT or "
            "narrow it, or give it more time with --timeout"
        )
    if "read-only" in msg:
        return KgCypherWriteError(f"{query.rel}: the engine refused a write: {msg}")
    m = _FALKOR_POS.search(msg)
    if m:
        detail = _ERR_MSG.search(msg)
        text = detail.group(1).strip() if detail else msg
        line = int(m.group(1))
        column = _char_column(query.text, line, int(m.group(2)))
        return KgQueryError(f"{query.rel}:{line}:{column}: Cypher syntax error: {text}")
    # errors the engine gives without a position: point at the name they are about
    m = _NAMED_ERROR.search(msg)
    if m:
        function, variable = m.groups()
        toks = tokens(query.text)
        for tok, nxt in zip(toks, toks[1:] + [None], strict=True):
            if tok.kind != "ident" or tok.text != (function or variable):
                continue
            if function and (nxt is None or nxt.text != "("):
                continue
            return KgQueryError(f"{query.rel}:{tok.line}:{tok.column}: {printable(msg)}")
    return KgQueryError(f"{query.rel}: {printable(msg)}")


def _char_column(text: str, line: int, byte_column: int) -> int:
    """The engine counts columns in UTF-8 bytes; the file's reader counts characters."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return byte_column
    head = lines[line - 1].encode("utf-8")[: max(byte_column - 1, 0)]
    return len(head.decode("utf-8", errors="ignore")) + 1


def execute(
    graph,
    query: StoredQuery,
    params: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
    timeout: float | None = DEFAULT_TIMEOUT_S,
    limit: int | None = None,
    schema: dict[str, list[str]] | None = None,
) -> QueryResult:
    """Run a stored Cypher question on a FalkorDB graph, read-only, and label its answer."""
    labeler = NodeLabeler(lang)
    if timeout is not None and timeout <= 0:
        raise KgQueryError("--timeout must be a positive number of seconds")
    if limit is not None and limit < 1:
        raise KgQueryError("--limit must be a positive number of rows")
    bound = bind(query, params or {})
    check_read_only(query)
    if schema is not None:
        problems = unknown_names(query, schema)
        if problems:
            _syntax_first(graph, query)
            raise KgTermError(problems, what=query.rel)
    ms = None if timeout is None else max(1, int(timeout * 1000))
    try:
        answer = graph.ro_query(query.text, bound, timeout=ms)
    except Exception as e:  # noqa: BLE001 -- the engine's errors come as redis ResponseError
        if type(e).__name__ in ("ResponseError", "TimeoutError"):
            raise _engine_error(e, query, timeout) from None
        raise
    names = [h[1] for h in answer.header]
    columns = list(query.columns) or names
    absent = [c for c in columns if c not in names]
    if absent:
        raise KgQueryError(
            f"{query.rel}: '// columns:' names {', '.join(absent)}, which the query does not "
            f"return (it returns {', '.join(names)})"
        )
    positions = [names.index(c) for c in columns]
    rows = answer.result_set
    notes_after = []
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        notes_after.append(f"note: stopped at --limit {limit}: the query has more rows")
    cells = [[to_cell(row[i], labeler) for i in positions] for row in rows]
    return QueryResult(query, columns, cells, [], None, notes_after)


def _syntax_first(graph, query: StoredQuery) -> None:
    """A syntax error is the first thing to fix: raise it if the engine finds one."""
    try:
        graph.explain(query.text)
    except Exception as e:  # noqa: BLE001
        msg = str(e)
        if _FALKOR_POS.search(msg):
            raise _engine_error(e, query, None) from None


# --------------------------------------------------------------------------- running


def connect(endpoint: str):
    """The FalkorDB graph at `endpoint`: redis://HOST:PORT[/GRAPH] or falkordb://…, with the
    credentials of `kg load --cypher` (KG_CYPHER_PASSWORD, KG_CYPHER_USER; never in the URL,
    never in a message)."""
    from kg import cypher_load

    target = cypher_load.parse_url(endpoint, flag="--endpoint")
    return cypher_load.connect(target).select_graph(target.graph)


def run(
    project: Project,
    name_or_file: str,
    params: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
    notify=None,
    timeout: float | None = DEFAULT_TIMEOUT_S,
    limit: int | None = None,
    endpoint: str | None = None,
) -> QueryResult:
    """Find a stored Cypher question, make sure the projection is current, and run it there
    (or on the FalkorDB server at `endpoint`)."""
    from kg import falkor
    from kg.build import ensure_built
    from kg.cache import read_manifest

    query = find_query(project, name_or_file)
    bind(query, params or {})  # parameter mistakes before any (re)build
    check_read_only(query)
    if endpoint is not None:
        graph = connect(endpoint)
        return execute(
            graph, query, params, lang=lang, timeout=timeout, limit=limit, schema=_schema(graph)
        )
    result = ensure_built(project, notify=notify)
    sha = (result.manifest.get("dataset") or read_manifest(project)["dataset"])["sha256"]
    server, _ = falkor.open_projection(project.build_dir, sha, lambda: result.dataset)
    with server:
        graph = server.graph()
        known = _schema(graph, falkor.declared_names(project.build_dir))
        return execute(graph, query, params, lang=lang, timeout=timeout, limit=limit, schema=known)


def _schema(graph, declared: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """The names the loaded graph has, and those the ontology declares (a stored question may
    name a property that this corpus does not use: its answer is empty, not an error)."""
    from kg.falkor import schema

    known = schema(graph)
    for kind, names in (declared or {}).items():
        known[kind] = sorted(set(known[kind]) | set(names))
    return known
