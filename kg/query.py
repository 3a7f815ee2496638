"""Stored SPARQL queries: header parsing, parameter binding, execution and labelling.

Parameters are bound with pyoxigraph `substitutions` (SEP-0007), never pasted into the text.
The query sees the union of all named graphs of the cached build.

A query is evaluated in a worker thread that hands its rows over in batches through a bounded
queue: the caller reads them as they come (a huge result is streamed, never held whole) and
stops at a deadline (`timeout`) or a row count (`limit`). pyoxigraph releases the GIL while it
evaluates but cannot be interrupted, so a query that blocks before its first row (a sort, an
aggregate over a cross join) is abandoned at the deadline: its thread is a daemon, and the
command line exits right after reporting the timeout.
"""

from __future__ import annotations

import datetime as dt
import difflib
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

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
from kg.errors import KgQueryError, KgQueryTimeout, KgTermError
from kg.humanize import duration_text
from kg.memory import MIB
from kg.project import Project

PARAM_TYPES = ("IRI", "string", "integer", "date")
LANGUAGES = ("en", "zh")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_KEY = re.compile(r"^#\s*(question|param|columns)\s*:\s*(.*)$", re.IGNORECASE)
_SYNTAX_POS = re.compile(r"^error at (\d+):(\d+): ?(.*)$", re.DOTALL)
_NOT_PROJECTED = re.compile(r"does not contains? variable \?(\w+) in its SELECT projection")
_LABEL = NamedNode(ns.RDFS + "label")
_TYPE = NamedNode(ns.RDF + "type")
DEFAULT_TIMEOUT_S = 30.0  # `kg query --timeout`
PAGE_ROWS = 1000  # rows read before output starts when streaming (table widths, CSV columns)
_BATCH_ROWS = 256  # rows per hand-over from the worker thread ...
_BATCH_S = 0.05  # ... or fewer, once this long has passed since the last one
_QUEUE_BATCHES = 8  # batches waiting at most: the worker waits when the reader is slower
_MADE_CELLS = 50_000  # cells remembered by term while reading one answer
_MEMORY_POLL_S = 0.05  # how often a waiting reader looks at the memory watchdog's verdict


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
    if text.startswith("\ufeff"):
        raise KgQueryError(
            f"{rel}: starts with a byte-order mark (U+FEFF, invisible in editors), which hides "
            "its header: save it as UTF-8 without BOM"
        )
    question, params, columns = parse_header(text, file=rel)
    return StoredQuery(name, path, rel, text, question, params, columns)


def list_queries(
    project: Project, *, broken: Callable[[KgQueryError], None] | None = None
) -> list[StoredQuery]:
    """Every stored query of the project (queries/*.rq), sorted by name.

    A file that cannot be read (a malformed header, a link out of the project) raises
    KgQueryError; with `broken`, it is handed to `broken` and left out, so that one bad file
    does not take the others (or kg serve) down.
    """
    folder = project.queries_dir
    paths = sorted(folder.glob("*.rq")) if folder.is_dir() else []
    queries = []
    for p in paths:
        try:
            refuse_outside(project, p)
            queries.append(_load_query(p, p.stem, project.rel(p)))
        except KgQueryError as e:
            if broken is None:
                raise
            broken(e)
    return queries


def refuse_outside(project: Project, path: Path) -> None:
    """A stored query that links outside the project is refused (its text would be embedded
    in kg serve's page, whatever it is)."""
    from kg.errors import KgInputError

    try:
        project.check_inside(path)
    except KgInputError as e:
        raise KgQueryError(str(e)) from None


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
        refuse_outside(project, path)
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
        raise KgQueryError(
            f"unknown prefix '{printable(prefix)}:' in '{printable(value)}' (known: {known})"
        )
    return ns.KGR + value


def printable(text: str) -> str:
    """`text` safe to show in a one-line message: control characters, line breaks and
    characters that are not valid Unicode (undecodable command-line bytes) as escapes."""
    return "".join(
        ch
        if ch.isprintable() or ch == " "
        else ch.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        if 0xD800 <= ord(ch) <= 0xDFFF
        else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def param_value(param: Param, value: str):
    """The RDF term for a parameter value given on the command line.

    The value becomes one RDF term (an IRI or a literal), which pyoxigraph binds to the
    variable: whatever the text holds (quotes, braces, `}`, `;`, SPARQL keywords), it cannot
    change the query. An IRI must be a valid IRI: one with a space or `<>"{}|^` in it is
    refused (exit 2), not repaired.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise KgQueryError(
            f"bad value for --param {param.name}: '{printable(value)}' is not valid UTF-8 text"
        ) from None
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
        hint = ""
        if param.type == "IRI" and any(ch.isspace() for ch in value.strip()):
            hint = "; an IRI cannot hold a space: write it as %20"
        raise KgQueryError(
            f"bad value for --param {param.name}: '{printable(value)}' is not {expected} "
            f"({printable(str(e))}{hint})"
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
                label = q.object  # a new Python object per access: read it once
                if not isinstance(label, Literal):
                    continue
                lang = label.language
                r = self.order.index(lang) if lang in self.order else rank
                cand = (r, label.value)
                if best is None or cand < best:
                    best = cand
            self._cache[iri] = best[1] if best else ns.local_name(iri)
        return self._cache[iri]


class Cell(NamedTuple):
    """One value of an answer, ready for output (a tuple: answers have many thousands)."""

    text: str  # label for IRIs, lexical value for literals, "" when unbound
    iri: str | None = None  # the IRI, when the value is one
    bound: bool = True  # False for a variable without a value in this row
    value: object = None  # the typed value for JSON (number, boolean), when not a string
    shown: str | None = None  # how a table shows it, when not as `text` (a duration: "8 h")


@dataclass
class QueryResult:
    """Columns and rows of an answer.

    `rows` is every row, or, for a streamed answer (`execute(..., stream=True)`), the first
    page of them; `more` then yields the rest in batches as the engine produces them, and is
    read once. `notes` are known before the rows; `after` fills while `more` is read (the
    --limit cut, a column that holds IRIs only after the first page).
    """

    query: StoredQuery
    columns: list[str]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)
    more: Iterator[list[list[Cell]]] | None = None
    after: list[str] = field(default_factory=list)

    def select(self, names: list[str]) -> QueryResult:
        """The same answer with only the columns `names`, in that order (`--columns`)."""
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            raise KgQueryError(
                f"--columns: {', '.join(unknown)} not in the answer of '{self.query.name}' "
                f"(its columns: {' '.join(self.columns)})"
            )
        at = [self.columns.index(n) for n in names]
        more = None
        if self.more is not None:
            more = ([[row[i] for i in at] for row in batch] for batch in self.more)
        rows = [[row[i] for i in at] for row in self.rows]
        return QueryResult(self.query, list(names), rows, self.notes, more, self.after)

    def iri_columns(self) -> set[str]:
        """Columns holding at least one IRI (they get a `<column>_iri` companion); for a
        streamed answer, decided on its first page."""
        return {c for i, c in enumerate(self.columns) if any(r[i].iri for r in self.rows)}


def open_store(data: bytes) -> Store:
    """An in-memory store holding the cached N-Quads.

    Parsed leniently (IRIs and language tags not checked again): these are the build's own
    bytes, written by pyoxigraph and verified against the manifest's SHA-256 before they get
    here. At a million triples that is 2.4 s instead of 3.2 s for every `kg query`.
    """
    store = Store()
    store.load(data, RdfFormat.N_QUADS, lenient=True)
    return store


def build_store(result) -> Store:
    """The store of a build (a BuildResult): its on-disk copy opened read-only, which takes
    milliseconds, else (no copy, or one that cannot be opened) the N-Quads parsed into memory."""
    from kg import diskstore

    store = diskstore.open_read_only(result.project, result.manifest)
    return store if store is not None else open_store(result.dataset)


_XSD_DURATION = NamedNode(ns.XSD + "duration")


def _cell(term, labeler: Labeler) -> Cell:
    if term is None:
        return Cell("", None, False)
    if isinstance(term, NamedNode):
        return Cell(labeler.label(term), term.value)
    if isinstance(term, BlankNode):
        return Cell(f"_:{term.value}")
    if isinstance(term, Literal):
        if term.datatype == _XSD_DURATION:  # typed in CSV and JSON, as people write it in tables
            return Cell(term.value, shown=duration_text(term.value, labeler.order[0]))
        return Cell(term.value, value=_json_value(term))
    return Cell(str(term))


# How a table writes a quantity with its qualifier (约8小时, about 8 h); CSV and JSON keep both
# columns as they are.
_QUALIFIED = {
    ns.KG + "approximately": {"en": "about {}", "zh": "约{}"},
    ns.KG + "atLeast": {"en": "at least {}", "zh": "至少{}"},
}


def _qualified(cell: Cell, qualifier: Cell, lang: str) -> Cell:
    pattern = _QUALIFIED.get(qualifier.iri or "", {}).get(lang)
    if cell.shown is None or pattern is None:
        return cell
    return cell._replace(shown=pattern.format(cell.shown))


_XSD_INTEGERS = {
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
}  # fmt: skip


def _json_number(lexical: str, local: str) -> object:
    """A decimal or double as a JSON number when one says exactly the same, else its lexical
    form as a string: JSON has no NaN or infinity, and a float would change the digits of a
    long decimal (123456789012345678901234567890.5)."""
    import decimal
    import math

    number = float(lexical)
    if not math.isfinite(number):
        return lexical.strip()  # NaN, INF, -INF, 1e400: a string, as JSON has no such number
    if local != "decimal":
        return number
    try:
        exact = decimal.Decimal(lexical.strip())
    except decimal.InvalidOperation:
        return None
    if exact == exact.to_integral_value():
        return int(exact)
    return number if decimal.Decimal(repr(number)) == exact else lexical.strip()


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
            return _json_number(literal.value, local)
    except ValueError:
        return None  # an ill-typed literal stays a string rather than failing the output
    if local == "boolean" and literal.value in ("true", "false", "1", "0"):
        return literal.value in ("true", "1")
    return None


def _table(answer, query: StoredQuery, labeler: Labeler) -> tuple[list[str], list[list[Cell]]]:
    if isinstance(answer, QueryBoolean):
        return ["result"], [[Cell(str(bool(answer)).lower())]]
    if isinstance(answer, QuerySolutions):
        return select_table([v.value for v in answer.variables], answer, query, labeler)
    # CONSTRUCT / DESCRIBE: one row per triple.
    return ["subject", "predicate", "object"], [
        [_cell(t.subject, labeler), _cell(t.predicate, labeler), _cell(t.object, labeler)]
        for t in answer
    ]


def select_table(
    variables: list[str], solutions, query: StoredQuery, labeler: Labeler
) -> tuple[list[str], list[list[Cell]]]:
    """Columns and rows of SELECT solutions (each `sol[name]` a term, or None when unbound)."""
    columns = list(query.columns) or variables
    absent = [c for c in columns if c not in variables]
    if absent:
        raise KgQueryError(
            f"{query.rel}: '# columns:' names {', '.join(absent)}, which the query does "
            f"not select (it selects {', '.join(variables)})"
        )
    qualified = [
        (i, columns.index(f"{c}_qualifier"))
        for i, c in enumerate(columns)
        if f"{c}_qualifier" in columns
    ]  # as _Reader does for a local answer, so that --endpoint prints the same table
    rows = []
    for sol in solutions:
        cells = [_cell(sol[c], labeler) for c in columns]
        for at, by in qualified:
            cells[at] = _qualified(cells[at], cells[by], labeler.order[0])
        rows.append(cells)
    return columns, rows


def _unknown_nodes(store: Store, substitutions: dict) -> list[str]:
    """Notes for IRI parameters that occur nowhere (most likely a typo)."""
    return [
        f"note: {printable(ns.shorten(v.value))} (--param {k.value}) does not occur in the graph"
        for k, v in substitutions.items()
        if isinstance(v, NamedNode)
        and next(store.quads_for_pattern(v, None, None, None), None) is None
        and next(store.quads_for_pattern(None, None, v, None), None) is None
    ]


# --------------------------------------------------------------------------- evaluation


class _Evaluation:
    """One query evaluated in a daemon worker thread.

    The worker runs `store.query` and iterates the answer (pyoxigraph's iterators must stay in
    the thread that made them), sending ("head", kind, columns), then ("rows", [tuple of
    terms, ...]) batches, then ("end",) — or ("error", exception) — through a bounded queue.
    `stop()` makes it drop the answer at its next hand-over; an evaluation blocked inside the
    engine cannot be stopped, only abandoned.
    """

    def __init__(self, store: Store, text: str, substitutions: dict):
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUE_BATCHES)
        self._stop = threading.Event()
        self.memory_used: int | None = None  # set by the memory watchdog: bytes, over the limit
        self._thread = threading.Thread(
            target=self._work, args=(store, text, substitutions), name="kg-query", daemon=True
        )
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self, store: Store, text: str, substitutions: dict) -> None:
        try:
            from kg.sparql_scan import has_default_graph_clause

            # The union of the graphs is the default graph, unless the query names its own
            # with FROM (SPARQL 1.1 13.2), which pyoxigraph's union flag would override.
            union = not has_default_graph_clause(text)
            answer = store.query(
                text, use_default_graph_as_union=union, substitutions=substitutions
            )
            if isinstance(answer, QueryBoolean):
                if self._put(("head", "boolean", ["result"])):
                    self._put(("rows", [(str(bool(answer)).lower(),)]))
                    self._put(("end",))
                return
            if isinstance(answer, QuerySolutions):
                variables = [v.value for v in answer.variables]
                head = ("head", "select", variables)
                rows = (tuple(sol) for sol in answer)
            else:  # CONSTRUCT / DESCRIBE: one row per triple
                head = ("head", "triples", ["subject", "predicate", "object"])
                rows = ((t.subject, t.predicate, t.object) for t in answer)
            if not self._put(head):
                return
            batch: list[tuple] = []
            last = time.monotonic()
            for row in rows:
                batch.append(row)
                if len(batch) >= _BATCH_ROWS or time.monotonic() - last >= _BATCH_S:
                    if not self._put(("rows", batch)):
                        return
                    batch, last = [], time.monotonic()
            if (not batch or self._put(("rows", batch))) and not self._stop.is_set():
                self._put(("end",))
        except BaseException as e:  # noqa: BLE001 -- handed to the reader, which raises it
            # Without its traceback: the frames in it hold the engine's iterator, which must be
            # dropped in this thread (pyoxigraph: "unsendable"), not where the reader is.
            e.__traceback__ = e.__context__ = e.__cause__ = None
            answer = rows = None  # noqa: F841 -- dropped here, in the worker
            self._put(("error", e))

    def over_memory(self, used: int) -> None:
        """The memory watchdog's call (another thread): the reader stops at its next wait."""
        self.memory_used = used

    def next(self, deadline: float | None):
        """The next message; None once the deadline has passed; ("memory", bytes) once the
        process passed its memory limit (checked every _MEMORY_POLL_S while waiting)."""
        while True:
            if self.memory_used is not None:
                return ("memory", self.memory_used)
            wait = _MEMORY_POLL_S
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                wait = min(wait, remaining)
            try:
                return self._queue.get(timeout=wait)
            except queue.Empty:
                continue

    def peek(self, wait: float):
        """The next message if one comes within `wait` seconds, else None."""
        try:
            return self._queue.get(timeout=wait)
        except queue.Empty:
            return None

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def _engine_error(e: BaseException, query: StoredQuery) -> BaseException:
    """The KgQueryError to raise for an exception of the engine (others are raised as they are)."""
    if isinstance(e, SyntaxError):
        msg = str(e.args[0]) if e.args else str(e)
        m = _SYNTAX_POS.match(msg)
        # The engine gets the file's text as it is (header comments included, nothing
        # prepended), so its line numbers are the file's.
        where = f"{query.rel}:{m.group(1)}:{m.group(2)}" if m else query.rel
        update = _update_keyword(query.text)
        if update:
            return KgQueryError(
                f"{where}: {update} is an update: kg runs queries only (SELECT, ASK, CONSTRUCT, "
                "DESCRIBE); the build is changed by editing its files"
            )
        return KgQueryError(f"{where}: SPARQL syntax error: {m.group(3) if m else msg}")
    if isinstance(e, RuntimeError):
        msg = str(e)
        m = _NOT_PROJECTED.search(msg)
        if m:
            # pyoxigraph binds parameters through the SELECT projection (SEP-0007).
            msg = (
                f"parameter ?{m.group(1)} must be selected by the query to be bound: add "
                f"?{m.group(1)} to its SELECT clause ('# columns:' decides what is shown)"
            )
        return KgQueryError(f"{query.rel}: {msg}")
    if isinstance(e, OSError):
        return KgQueryError(f"{query.rel}: query failed: {e}")
    return e


_UPDATES = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)


def _update_keyword(text: str) -> str | None:
    """The SPARQL Update keyword the text starts with (after its prologue), if any."""
    from kg.sparql_scan import tokens

    for t in tokens(text):
        word = t.text.upper()
        if t.kind == "word" and word in ("PREFIX", "BASE"):
            continue
        if t.kind in ("iri", "pname") or t.text == ":":
            continue  # a prologue's prefix name and IRI
        return word if t.kind == "word" and word in _UPDATES else None
    return None


class _Reader:
    """Reads an `_Evaluation` for one query: labels the terms, keeps to the deadline and the
    row limit, and turns engine errors into KgQueryError."""

    def __init__(self, evaluation, query, labeler, timeout, limit, after):
        self.evaluation = evaluation
        self.query = query
        self.labeler = labeler
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.limit = limit
        self.after = after  # notes found while reading
        self.memory_limit = 0  # bytes, for the message; set by execute
        self.watchdog = None  # kg.memory.Watchdog of this read, stopped when it ends
        self.count = 0
        self.done = False
        self.positions: list[int] = []  # for each column, its index in the engine's rows
        self._made: dict = {}  # term -> Cell: an answer repeats its IRIs and literals a lot
        self.qualified: list[tuple[int, int]] = []  # (column, its `<column>_qualifier`)

    def _message(self):
        message = self.evaluation.next(self.deadline)
        if message is None:
            self.evaluation.stop()
            raise self._timeout()
        if message[0] == "error":
            self.done = True
            raise _engine_error(message[1], self.query) from None
        if message[0] == "memory":
            self.evaluation.stop()
            self.done = True
            raise KgQueryTimeout(
                f"{self.query.rel}: the query was stopped when kg used {message[1] // MIB} MiB, "
                f"over the memory limit of {self.memory_limit // MIB} MiB (--memory-limit): "
                "narrow it (an ORDER BY or a join over everything holds it all in memory), "
                "or allow more",
                abandoned=self.evaluation.running,
            )
        return message

    def _timeout(self) -> KgQueryTimeout:
        self.done = True
        limit = f"{self.timeout:g} s (--timeout {self.timeout:g})"
        if self.count:
            text = (
                f"{self.query.rel}: stopped after {self.count} rows at the time limit of {limit}: "
                "the output is incomplete; add --limit N, narrow the query, or give more time"
            )
        else:
            text = (
                f"{self.query.rel}: no answer within {limit}: the query was stopped; add a "
                "LIMIT or narrow it, or give it more time with --timeout"
            )
        return KgQueryTimeout(text, abandoned=self.evaluation.running)

    def head(self) -> list[str]:
        _, kind, variables = self._message()
        if kind != "select":
            self.positions = list(range(len(variables)))
            return variables
        columns = list(self.query.columns) or variables
        absent = [c for c in columns if c not in variables]
        if absent:
            self.evaluation.stop()
            self.done = True
            raise KgQueryError(
                f"{self.query.rel}: '# columns:' names {', '.join(absent)}, which the query does "
                f"not select (it selects {', '.join(variables)})"
            )
        self.positions = [variables.index(c) for c in columns]
        self.qualified = [
            (i, columns.index(f"{c}_qualifier"))
            for i, c in enumerate(columns)
            if f"{c}_qualifier" in columns
        ]
        return columns

    def _cells(self, row: tuple) -> list[Cell]:
        made = self._made
        cells = []
        for i in self.positions:
            term = row[i]
            cell = made.get(term)
            if cell is None:
                cell = Cell(term) if isinstance(term, str) else _cell(term, self.labeler)
                if len(made) >= _MADE_CELLS:
                    made.clear()  # a streamed answer must not grow memory with its rows
                made[term] = cell
            cells.append(cell)
        for at, by in self.qualified:
            cells[at] = _qualified(cells[at], cells[by], self.labeler.order[0])
        return cells

    def batches(self) -> Iterator[list[list[Cell]]]:
        """The rows, in the batches the engine hands over, until the end or the limit."""
        try:
            while not self.done:
                message = self._message()
                if message[0] == "end":
                    self.done = True
                    return
                batch = message[1]
                if self.limit is not None and self.count + len(batch) >= self.limit:
                    keep = self.limit - self.count
                    more = len(batch) > keep or self._more_after_limit()
                    self.count = self.limit
                    self.done = True
                    if more:
                        self.after.append(
                            f"note: stopped at --limit {self.limit}: the query has more rows"
                        )
                    if keep:
                        yield [self._cells(r) for r in batch[:keep]]
                    return
                self.count += len(batch)
                yield [self._cells(r) for r in batch]
        finally:
            self.evaluation.stop()
            if self.watchdog is not None:
                self.watchdog.stop()

    def _more_after_limit(self) -> bool:
        """Does a row follow the limit? Asked briefly: a query still busy is not waited for."""
        message = self.evaluation.peek(0.2)
        return message is not None and message[0] == "rows"


def _label_not_iri(query: StoredQuery, name: str, value: str) -> bool:
    param = query.param(name)
    if param is None or param.type != "IRI":
        return False
    try:
        param_value(param, value)
    except KgQueryError:
        return True
    return False


def nodes_labelled(store: Store, text: str) -> list[str]:
    """IRIs of the nodes with an rdfs:label equal to `text` (any language, case ignored)."""
    wanted = text.strip().casefold()
    found = set()
    for q in store.quads_for_pattern(None, _LABEL, None, None):
        if isinstance(q.subject, NamedNode) and q.object.value.strip().casefold() == wanted:
            found.add(q.subject.value)
    return sorted(found)


def _occurs(store: Store, node: NamedNode) -> bool:
    return (
        next(store.quads_for_pattern(node, None, None, None), None) is not None
        or next(store.quads_for_pattern(None, None, node, None), None) is not None
    )


def resolve_node_params(store: Store, query: StoredQuery, params: Mapping[str, str]) -> dict:
    """IRI parameters given as a label (`--param node="Iran"` or `node=伊朗`), as IRIs.

    A value that is an IRI, prefixed or local name of a node in the graph stays as it is; else
    a node whose label it is takes its place. A label of several nodes is refused, listing
    them; a value that is neither keeps its own error (or the note that it occurs nowhere).
    """
    resolved = {}
    for name, value in params.items():
        param = query.param(name)
        if param is None or param.type != "IRI":
            continue
        try:
            node = param_value(param, value)
        except KgQueryError:
            node = None
        if node is not None and _occurs(store, node):
            continue
        found = nodes_labelled(store, value)
        if len(found) == 1:
            resolved[name] = f"<{found[0]}>"
        elif len(found) > 1:
            labeler = Labeler(store, "en")
            shown = "; ".join(
                f"{ns.shorten(iri)} ({labeler.label(NamedNode(iri))})" for iri in found[:20]
            )
            more = f" and {len(found) - 20} more" if len(found) > 20 else ""
            raise KgQueryError(
                f"--param {name}: '{printable(value)}' is the label of {len(found)} nodes: "
                f"{shown}{more}; give one of them by its name"
            )
        elif node is None:
            param_value(param, value)  # raises the error of a value that is not an IRI
    return resolved


def undefined_terms(store: Store, query: StoredQuery) -> list:
    """`kg.terms` problems for the project's own terms a query names but the build does not
    define: a kg:/kgi:/kgt: term not typed in the ontology graph, or another IRI of the
    project's space (kgr: …) that no triple describes and no graph is named. Terms of other
    vocabularies are not checked here: an ad-hoc query may use any."""
    from kg import terms

    usage = terms.query_usage(query.rel, query.text)
    own: dict[str, NamedNode] = {}
    for term in usage.terms:
        if term.startswith(terms.PROJECT_SPACE):
            try:
                own[term] = NamedNode(term)
            except ValueError:
                continue  # not an IRI: the parser will say so
    if not own:
        return []
    ontology_graph = NamedNode(ns.GRAPH_ONTOLOGY)
    ontology, described = [], set()
    for term, node in own.items():
        if term.startswith(terms.VOCABULARY_NAMESPACES):
            ontology += store.quads_for_pattern(node, _TYPE, None, ontology_graph)
        elif next(store.quads_for_pattern(node, None, None, None), None) is not None or (
            store.contains_named_graph(node)
        ):
            described.add(term)
    used = terms.Usage(usage.file, usage.text, frozenset(own))
    return [p for p in terms.check(ontology, described, [used]) if p.term in own]


def refuse_service(query: StoredQuery) -> None:
    """Raise KgQueryError when the query calls a remote service (SERVICE, LOAD)."""
    from kg.sparql_scan import SERVICE_REFUSED, service_calls

    calls = service_calls(query.text)
    if calls:
        what = "; ".join(str(c) for c in calls[:3])
        raise KgQueryError(f"{query.rel}: " + SERVICE_REFUSED.format(what=what))


def _check_syntax(query: StoredQuery) -> None:
    """Raise the syntax error of `query`, if it has one (parsed against an empty store)."""
    try:
        Store().query(query.text)
    except SyntaxError as e:
        raise _engine_error(e, query) from None
    except Exception:  # noqa: BLE001 -- only the syntax matters here
        pass


def _close_terms(store: Store, problems: list) -> list:
    """The problems in line order, each with the ontology's closest terms as a hint."""
    from kg.terms import VOCABULARY_NAMESPACES, TermProblem

    defined = {
        q.subject.value
        for q in store.quads_for_pattern(None, _TYPE, None, NamedNode(ns.GRAPH_ONTOLOGY))
        if isinstance(q.subject, NamedNode)
    }
    out = []
    for p in sorted(problems, key=lambda p: (p.line or 0, p.term)):
        message = p.message
        space = next((n for n in VOCABULARY_NAMESPACES if p.term.startswith(n)), None)
        if space:
            names = sorted(t[len(space) :] for t in defined if t.startswith(space))
            close = difflib.get_close_matches(p.term[len(space) :], names, n=2, cutoff=0.8)
            if close:
                message += f" (did you mean {' or '.join(ns.shorten(space + c) for c in close)}?)"
        out.append(TermProblem(p.term, p.file, p.line, message))
    return out


def execute(
    store: Store,
    query: StoredQuery,
    params: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
    timeout: float | None = None,
    limit: int | None = None,
    stream: bool = False,
    memory_limit: int | None = None,
) -> QueryResult:
    """Run a stored query against `store` with its parameters bound.

    `timeout` (seconds) stops it with KgQueryTimeout, and so does `memory_limit` (bytes of this
    process's resident memory, watched while the query runs); `limit` keeps the first rows
    only. With
    `stream`, `rows` holds the first page (PAGE_ROWS) and `more` the rest, read as produced;
    else every row is read here.
    """
    substitutions = bind(query, params or {})
    labeler = Labeler(store, lang)
    if timeout is not None and timeout <= 0:
        raise KgQueryError("--timeout must be a positive number of seconds")
    if limit is not None and limit < 1:
        raise KgQueryError("--limit must be a positive number of rows")
    notes = _unknown_nodes(store, substitutions)
    evaluation = _Evaluation(store, query.text, substitutions)
    result = QueryResult(query, [], [], notes)
    reader = _Reader(evaluation, query, labeler, timeout, limit, result.after)
    if memory_limit:
        from kg.memory import Watchdog

        reader.memory_limit = memory_limit
        reader.watchdog = Watchdog(memory_limit, evaluation.over_memory).start()
    try:
        result.columns = reader.head()
        batches = reader.batches()
        for batch in batches:
            result.rows += batch
            if stream and len(result.rows) >= PAGE_ROWS:
                break
    except BaseException:
        evaluation.stop()
        if reader.watchdog is not None:
            reader.watchdog.stop()
        raise
    if not reader.done:
        result.more = batches
    elif reader.watchdog is not None:
        reader.watchdog.stop()
    return result


def run(
    project: Project,
    name_or_file: str,
    params: Mapping[str, str] | None = None,
    *,
    lang: str = "en",
    notify: Callable[[str], None] | None = None,
    timeout: float | None = None,
    limit: int | None = None,
    stream: bool = False,
    allow_service: bool = False,
    memory_limit_mib: int | None = None,
) -> QueryResult:
    """Find a stored query, make sure the build is current, check its terms, and run it.

    A query calling SERVICE is refused unless `allow_service`: the engine would send the
    request wherever the IRI (or a --param) points.

    A query naming a term of the project that the build does not define (a misspelt
    property, a kgr: node that does not exist) raises KgTermError (exit 1) and is not run:
    its answer would be silently empty.
    """
    query = find_query(project, name_or_file)
    params = dict(params or {})
    maybe_labels = {k: v for k, v in params.items() if _label_not_iri(query, k, v)}
    # report parameter mistakes before any (re)build; a label is checked against the build
    bind(query, {k: ("kgr:x" if k in maybe_labels else v) for k, v in params.items()})
    if not allow_service:
        refuse_service(query)
    result = ensure_built(project, notify=notify)
    store = build_store(result)
    params.update(resolve_node_params(store, query, params))
    problems = undefined_terms(store, query)
    if problems:
        _check_syntax(query)  # a syntax error is the first thing to fix
        raise KgTermError(_close_terms(store, problems), what=query.rel)
    from kg.memory import default_limit_mib

    mib = memory_limit_mib or default_limit_mib()
    return execute(
        store,
        query,
        params,
        lang=lang,
        timeout=timeout,
        limit=limit,
        stream=stream,
        memory_limit=mib * MIB,
    )
