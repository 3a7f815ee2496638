"""Remote SPARQL stores: load the build into one (`kg load`), run stored queries on one.

Loading speaks the SPARQL 1.1 Graph Store HTTP Protocol: every named graph of
build/dataset.nq is sent whole, as N-Triples, with HTTP PUT to `<store endpoint>?graph=<IRI>`.
PUT replaces the graph, so loading twice leaves the same store. Each graph is then read back
(GET, or a CONSTRUCT where the store refuses that) and compared with the build triple by triple
(kg.roundtrip), so a store that changes a value is caught, not only one that loses a triple.
Querying speaks the SPARQL 1.1 Protocol in the two forms every store answers (GET, or a
form-encoded POST for long queries); results are read as application/sparql-results+json by
kg.results, which tolerates what stores add to it.

Only the standard library speaks HTTP (urllib), so nothing heavy is imported. Credentials come
from the environment (KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, or KG_ENDPOINT_TOKEN) or from a
netrc file, never from the command line; messages redact URLs and scrub secrets. Transient
failures (connection reset, timeout, HTTP 502/503/504) are retried a bounded number of times.

Terms reach a query text only through `values_clause`/`values_block`, from pyoxigraph terms.
"""

from __future__ import annotations

import base64
import http.client
import netrc
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import (
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Triple,
    Variable,
    parse,
)

from kg import namespaces as ns
from kg.build import ensure_built
from kg.errors import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    KgEndpointError,
    KgProjectError,
    KgQueryError,
)
from kg.project import Project
from kg.query import Cell, Labeler, QueryResult, _table, bind, find_query, select_table
from kg.results import Answer, read_json
from kg.roundtrip import GraphDiff, compare, read_graph
from kg.sparql_scan import select_aliases

ENV_USER = "KG_ENDPOINT_USER"
ENV_PASSWORD = "KG_ENDPOINT_PASSWORD"
ENV_TOKEN = "KG_ENDPOINT_TOKEN"
ATTEMPTS = 3  # tries per request when the failure is transient
BACKOFF_S = 0.5  # wait before the 2nd try; doubled before each further one
DEFAULT_TIMEOUT_S = 60.0
MAX_ANSWER_BYTES = 512 * 2**20  # an answer longer than this is refused, not read on
ANSWER_PIECE = 1 << 16
TRANSIENT_STATUS = frozenset({502, 503, 504})
N_TRIPLES = "application/n-triples"
FORM = "application/x-www-form-urlencoded"
MAX_GET_URL = 2000  # longer queries go as a form POST: some servers and proxies cut long URLs
SPARQL_JSON = "application/sparql-results+json"
_LABEL = NamedNode(ns.RDFS + "label")
_LABEL_BATCH = 1000  # IRIs per label query (one query for any result of ordinary size)

Notify = Callable[[str], None] | None


# --------------------------------------------------------------------------- URLs, credentials


def redact(url: str) -> str:
    """`url` without its user name and password (`http://***@host/...`), for messages.

    Everything between the scheme and the last `@` goes: a password may itself hold `/`, `?`,
    `#` or `@`, which would put part of it outside what a URL parser calls the user info.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.rpartition('@')[2]}"


def check_url(url: str, option: str) -> str:
    """An http(s) URL without credentials in it; KgEndpointError otherwise."""
    if "@" in url:  # user info, perhaps with a password holding / ? or # (see redact)
        raise KgEndpointError(
            f"{option}: credentials in the URL are not accepted ({redact(url)}): set "
            f"{ENV_USER} and {ENV_PASSWORD}, or {ENV_TOKEN}, or use a netrc file (a literal "
            "@ elsewhere in the URL is written %40)"
        )
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        raise KgEndpointError(f"{option}: not a valid URL: {redact(url)}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KgEndpointError(
            f"{option}: expected an http:// or https:// URL with a host, got {redact(url)}"
        )
    if parts.fragment:
        raise KgEndpointError(f"{option}: a URL with a #fragment cannot be an endpoint")
    return url


@dataclass(frozen=True)
class Credentials:
    """The Authorization header to send, where it comes from, and the values to scrub."""

    header: str | None = field(default=None, repr=False)  # no secret in a repr, a traceback's
    source: str = "none"  # locals or a debugger's display
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # The user name and password behind a Basic header, for a server that asks for Digest.
    user_password: tuple[str, str] | None = field(default=None, repr=False)

    def scrub(self, text: str) -> str:
        """`text` with every secret replaced by ***, for text a server sent back."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
            elif secret:  # short: only where it stands as a word, not inside ordinary words
                text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text)
        return text


def _basic(user: str, password: str, source: str) -> Credentials:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    secrets = (password, token, f"{user}:{password}")
    return Credentials(f"Basic {token}", source, secrets, (user, password))


def cleartext_warning(url: str, credentials: Credentials) -> str | None:
    """A warning when credentials would travel unencrypted (http:// to another machine)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    if credentials.header is None or parts.scheme != "http" or loopback:
        return None
    return (
        f"warning: the credentials ({credentials.source}) go to {redact(url)} unencrypted "
        "(http://): anyone on the way can read them; use https://"
    )


def _warn_cleartext(url: str, credentials: Credentials, notify) -> None:
    warning = cleartext_warning(url, credentials)
    if warning and notify:
        notify(warning)


def credentials_for(url: str, env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials for `url`: the environment first, then the netrc file (~/.netrc or $NETRC)."""
    env = os.environ if env is None else env
    token, user, password = env.get(ENV_TOKEN), env.get(ENV_USER), env.get(ENV_PASSWORD)
    if token:
        if user or password:
            raise KgEndpointError(f"set either {ENV_TOKEN} or {ENV_USER}/{ENV_PASSWORD}, not both")
        return Credentials(f"Bearer {token}", f"a bearer token from {ENV_TOKEN}", (token,))
    if user or password:
        if not (user and password):
            missing = ENV_PASSWORD if user else ENV_USER
            raise KgEndpointError(f"{missing} is not set (give {ENV_USER} and {ENV_PASSWORD})")
        return _basic(user, password, f"user and password from {ENV_USER}/{ENV_PASSWORD}")
    path = Path(env["NETRC"]) if env.get("NETRC") else Path.home() / ".netrc"
    if not path.is_file():
        return Credentials()
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except netrc.NetrcParseError as e:
        # The parser's message may quote a token of the file (a password): say only where.
        why = e.msg if "permissive" in e.msg or "owner" in e.msg else "malformed entry"
        raise KgEndpointError(f"{path}:{e.lineno}: cannot read the netrc file: {why}") from None
    except OSError as e:
        raise KgEndpointError(f"cannot read the netrc file {path}: {e.strerror}") from None
    if not entry or not entry[2]:
        return Credentials()
    login, _account, secret = entry
    return _basic(login or "", secret, f"user and password from the netrc file {path}")


# --------------------------------------------------------------------------- HTTP with retries


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect becomes an error: credentials never follow it to another place."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    attempts: int
    headers: Mapping[str, str] = field(default_factory=dict)


def _challenge(headers) -> str:
    """The authentication scheme(s) a 401 asks for (`WWW-Authenticate`), e.g. "Digest"."""
    schemes: list[str] = []
    values = (headers.get_all("WWW-Authenticate") if headers is not None else None) or []
    for value in values:
        scheme = value.strip().split(" ", 1)[0].strip(",")
        if scheme and scheme not in schemes:
            schemes.append(scheme)
    return " or ".join(schemes)


class _Passwords(urllib.request.HTTPPasswordMgr):
    """The one user and password of a client, for its endpoint (redirects are never
    followed, so no other host can be asked)."""

    def __init__(self, credentials: Credentials):
        super().__init__()
        self._user_password = credentials.user_password

    def find_user_password(self, realm, authuri):
        return self._user_password or (None, None)


class _Digest(urllib.request.HTTPDigestAuthHandler):
    """urllib's Digest handler, which also keeps the server's last challenge, so that later
    requests carry their Authorization from the start: a server that answers 401 before
    reading a large body closes the connection while it is still being sent."""

    challenge: dict | None = None

    def retry_http_digest_auth(self, req, auth):
        _token, _sep, challenge = auth.partition(" ")
        parsed = urllib.request.parse_keqv_list(
            filter(None, urllib.request.parse_http_list(challenge))
        )
        self.challenge = parsed
        return super().retry_http_digest_auth(req, auth)

    def header_for(self, request: urllib.request.Request) -> str | None:
        if self.challenge is None:
            return None
        answer = self.get_authorization(request, self.challenge)
        return f"Digest {answer}" if answer else None


def _opener(credentials: Credentials) -> tuple[urllib.request.OpenerDirector, _Digest | None]:
    """No redirects; Digest answered when a user name and password are known (the Basic header
    is sent first; a server that wants Digest says so with a 401 and gets it)."""
    handlers: list = [_NoRedirect]
    digest = None
    if credentials.user_password is not None:
        digest = _Digest(_Passwords(credentials))
        handlers.append(digest)
    return urllib.request.build_opener(*handlers), digest


def _network_problem(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """What went wrong below HTTP, and whether trying again may help."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s (timeout)", True
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running, and on this port?)", False
    if isinstance(reason, ConnectionError):  # reset, aborted, broken pipe, remote disconnected
        return "the connection was closed before the answer (connection reset)", True
    if isinstance(reason, http.client.IncompleteRead):
        return "the answer was cut short", True
    if isinstance(reason, socket.gaierror):
        return "unknown host", False
    if isinstance(reason, http.client.HTTPException):
        return f"not an HTTP answer ({type(reason).__name__})", False
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror, False
    return str(reason) or type(reason).__name__, False


def read_answer(answer, deadline: float, *, what: str, where: str) -> bytes:
    """The body of `answer`, read by the `deadline` (time.monotonic) and at most
    MAX_ANSWER_BYTES long. `--timeout` is thus one limit for the whole request: a server that
    drips a byte at a time no longer resets it at each read (a slow drip took 122 s for
    --timeout 5), and an endless answer is not read into memory until the machine gives out.
    Past the deadline it raises TimeoutError, which is not retried for a query."""
    sock = getattr(getattr(getattr(answer, "fp", None), "raw", None), "_sock", None)
    pieces, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not end within the time limit")
        if sock is not None:
            sock.settimeout(left)  # each read waits at most for the time left
        piece = answer.read1(ANSWER_PIECE) if hasattr(answer, "read1") else answer.read()
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        if size > MAX_ANSWER_BYTES:
            raise KgEndpointError(
                f"{what}: {where} sent an answer of more than {MAX_ANSWER_BYTES // 2**20} MiB; "
                "kg reads at most that much: narrow the query (a LIMIT in it)"
            )
        pieces.append(piece)


def _is_timeout(exc: BaseException) -> bool:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, TimeoutError | socket.timeout)


def _excerpt(body: bytes | str, limit: int = 300) -> str:
    """The start of a server's answer, for a message: on one line, its control characters
    as visible escapes (a body may hold terminal sequences that retitle the window, clear the
    screen or write the clipboard). A str is taken as it is: the HTTPError urllib's Digest
    handler raises itself ("digest auth failed") reads as str on Python 3.11.2."""
    from kg.query import printable

    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = printable(" ".join(body.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Client:
    """HTTP requests to one endpoint, with credentials, a timeout and bounded retries."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_S,
        notify: Notify = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_timeouts: bool = True,
    ):
        self.retry_timeouts = retry_timeouts  # False for queries: a slow query stays slow
        self.credentials = credentials
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.notify = notify
        self.sleep = sleep
        self._opener, self._digest = _opener(credentials)
        self._challenged = False  # Basic got a 401: let the server say what it wants
        self._probed = False  # the scheme was learnt with a GET before the first body was sent
        self._refusal = False  # the last KgEndpointError was a 401 or 403

    def _probe(self, url: str, what: str, where: str) -> None:
        """Learn the authentication scheme with a harmless GET before sending a body (a Graph
        Store GET reads the graph): a large PUT refused half-way arrives as a reset."""
        self._probed = True
        self._refusal = False
        try:
            self.send("GET", url, what=what, where=where, headers={"Accept": "*/*"})
        except KgEndpointError:
            if self._refusal:
                raise  # wrong credentials, or a scheme kg cannot answer: say so now

    def _ask_challenge(self, error: urllib.error.HTTPError) -> bool:
        """Try again without the Basic header? Only once, with a user and password, when the
        server refused Basic without saying which scheme it wants."""
        return (
            not self._challenged
            and self.credentials.user_password is not None
            and not _challenge(error.headers)
        )

    def _refused(self, status: int, what: str, where: str, scheme: str = "") -> str:
        sent = self.credentials.header is not None
        if status == 401:
            asks = f"{scheme} authentication" if scheme else "credentials"
            if sent:
                source = self.credentials.source
                kind = "user and password" if self.credentials.user_password else "token"
                usable = {"basic", "digest"} if self.credentials.user_password else {"bearer"}
                if scheme and not usable & {s.strip().lower() for s in scheme.split(" or ")}:
                    return (
                        f"{what}: {where} asks for {asks} (HTTP 401), which kg cannot answer "
                        f"with a {kind} ({source}); kg speaks Basic and Digest (with "
                        f"{ENV_USER}/{ENV_PASSWORD}) and Bearer (with {ENV_TOKEN})"
                    )
                return (
                    f"{what}: {where} asks for {asks} and refused the credentials ({source}) "
                    "(HTTP 401)"
                )
            return (
                f"{what}: {where} asks for {asks} (HTTP 401): set {ENV_USER} and "
                f"{ENV_PASSWORD}, or {ENV_TOKEN}, or add the host to a netrc file"
            )
        with_what = f" with the credentials ({self.credentials.source})" if sent else ""
        return (
            f"{what}: {where} refused the request{with_what} (HTTP 403 Forbidden): a read-only "
            "server, or credentials without that right"
        )

    def _said(self, error: urllib.error.HTTPError) -> str:
        """The start of an error answer's body, secrets scrubbed (a server may echo them)."""
        try:
            return self.credentials.scrub(_excerpt(error.read()))
        except (OSError, http.client.HTTPException):
            return ""

    def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        where: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        hint: str = "",
    ) -> Response:
        """Send one request; retry transient failures. `what`/`where` name it in messages."""
        if body and self._digest is not None and not self._probed:
            self._probe(url, what, where)
        problem = ""
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(url, data=body, method=method)
            for key, value in (headers or {}).items():
                request.add_header(key, value)
            if self.credentials.header and not self._challenged:
                request.add_header("Authorization", self.credentials.header)
            elif self._challenged and self._digest is not None:
                digest = self._digest.header_for(request)
                if digest:
                    request.add_unredirected_header("Authorization", digest)
            deadline = time.monotonic() + self.timeout
            try:
                with self._opener.open(request, timeout=self.timeout) as answer:
                    data = read_answer(answer, deadline, what=what, where=where)
                    ctype = answer.headers.get("Content-Type", "")
                    return Response(answer.status, ctype, data, attempt, dict(answer.headers))
            except urllib.error.HTTPError as e:
                said = self._said(e)  # scrubbed: the raw body never stays in this frame
                if e.code == 401 and self._ask_challenge(e):
                    # Virtuoso answers a Basic header with a bare 401 (no WWW-Authenticate);
                    # asked without one, it challenges, and the Digest handler answers.
                    self._challenged = True
                    return self.send(
                        method, url, what=what, where=where, body=body, headers=headers, hint=hint
                    )
                if e.code in (401, 403):
                    self._refusal = True
                    scheme = _challenge(e.headers)
                    raise KgEndpointError(self._refused(e.code, what, where, scheme)) from None
                if 300 <= e.code < 400:
                    target = redact(e.headers.get("Location", "elsewhere"))
                    raise KgEndpointError(
                        f"{what}: {where} redirects (HTTP {e.code}) to {target}: give that URL"
                    ) from None
                problem = f"HTTP {e.code} {e.reason}"
                # A query the server stopped at its time limit would only be stopped again.
                stopped = e.code == 503 and "query stopped" in said
                if e.code not in TRANSIENT_STATUS or stopped:
                    message = f"{what}: {where} answered {problem}" + (f": {said}" if said else "")
                    raise KgEndpointError(message + (f" ({hint})" if hint else "")) from None
            except ValueError as e:  # urllib's Digest handler meeting a scheme it cannot answer
                if "scheme" not in str(e):
                    raise
                self._refusal = True
                scheme = str(e).rpartition(":")[2].strip(" '\"")
                raise KgEndpointError(self._refused(401, what, where, scheme)) from None
            except (OSError, http.client.HTTPException) as e:
                problem, transient = _network_problem(e, self.timeout)
                if transient and not self.retry_timeouts and _is_timeout(e):
                    raise KgEndpointError(f"{what}: {where}: {problem}") from None
                if not transient:
                    raise KgEndpointError(f"{what}: cannot reach {where}: {problem}") from None
            if attempt < self.attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                if self.notify:
                    self.notify(
                        f"{what}: {problem}; trying again in {delay:g} s "
                        f"(attempt {attempt + 1} of {self.attempts})"
                    )
                self.sleep(delay)
        raise KgEndpointError(f"{what}: {where}: {problem} ({self.attempts} attempts)")


# --------------------------------------------------------------------------- terms in queries


def _term_text(term) -> str:
    if not isinstance(term, NamedNode | Literal):
        raise TypeError(f"only IRIs and literals can be bound in a VALUES clause, not {term!r}")
    return str(term)


def values_clause(bindings: Mapping[Variable | str, NamedNode | Literal]) -> str:
    """`VALUES (?a ?b) { (<x> "y"@en) }`: one row binding each variable to its term.

    This binds, it does not paste. A remote endpoint cannot take pyoxigraph substitutions, so
    the binding travels in the query text, as SPARQL's own binding construct (a VALUES row
    joined with the query). What is written is never the user's string: it is the RDF term
    pyoxigraph made of it, in pyoxigraph's N-Triples serialisation, which is SPARQL term
    syntax. A NamedNode is a validated IRI (no space, '>', '"', '{' or newline can be in it,
    so `<…>` cannot be left); a Literal's lexical form is escaped ('"', '\\' and line breaks
    become escapes), so its quotes cannot be closed early. A value can therefore only ever be
    one term in the row, never query syntax. Variable names are checked by pyoxigraph too.
    """
    names = [str(v if isinstance(v, Variable) else Variable(v)) for v in bindings]
    terms = [_term_text(t) for t in bindings.values()]
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}"


def values_block(variable: Variable | str, terms: Iterable[NamedNode | Literal]) -> str:
    """`VALUES ?v { <a> <b> }`: one row per term (same reasoning as `values_clause`)."""
    var = variable if isinstance(variable, Variable) else Variable(variable)
    return f"VALUES {var} {{ {' '.join(_term_text(t) for t in terms)} }}"


# --------------------------------------------------------------------------- SPARQL protocol


def sparql(
    client: Client, endpoint: str, text: str, *, what: str, accept: str = SPARQL_JSON
) -> Response:
    """Send a query (SPARQL 1.1 Protocol): GET when the URL stays short, else a form-encoded
    POST. These are the two forms every store answers; a direct POST
    (application/sparql-query) is optional in the protocol, and Virtuoso 7.2 never answers
    one (openlink/virtuoso-opensource#842)."""
    form = urllib.parse.urlencode({"query": text})
    joiner = "&" if urllib.parse.urlsplit(endpoint).query else "?"
    short = len(endpoint) + 1 + len(form) <= MAX_GET_URL
    return client.send(
        "GET" if short else "POST",
        endpoint + joiner + form if short else endpoint,
        what=what,
        where=redact(endpoint),
        body=None if short else form.encode("ascii"),
        headers={"Accept": accept} | ({} if short else {"Content-Type": FORM}),
        hint="is it the SPARQL query endpoint? for Oxigraph http://host:port/query",
    )


def _answer(response: Response, what: str, where: str) -> Answer:
    if "json" not in response.content_type:
        raise KgEndpointError(
            f"{what}: {where} answered {response.content_type or 'no content type'}, "
            f"not {SPARQL_JSON}: is it a SPARQL query endpoint?"
        )
    try:
        return read_json(response.body)
    except ValueError as e:
        raise KgEndpointError(f"{what}: {where} sent unreadable results: {e}") from None


def row_cap(response: Response, rows: int) -> str | None:
    """A note when the store may have cut the answer at its row limit: it announces a limit
    (X-SPARQL-MaxRows, Virtuoso's ResultSetMaxRows) and the answer has that many rows."""
    announced = {k.lower(): v for k, v in response.headers.items()}.get("x-sparql-maxrows")
    try:
        cap = int(announced) if announced is not None else None
    except ValueError:
        cap = None
    if cap is not None and rows >= cap:
        return (
            f"the endpoint returns at most {cap} rows (X-SPARQL-MaxRows) and sent {rows}: the "
            "answer was cut, rows are missing (raise the store's limit, e.g. Virtuoso's "
            "ResultSetMaxRows, or narrow the query)"
        )
    return None


def _select(client: Client, endpoint: str, text: str, what: str) -> list:
    response = sparql(client, endpoint, text, what=what)
    answer = _answer(response, what, redact(endpoint))
    cut = row_cap(response, len(answer.rows))
    if cut:
        raise KgEndpointError(f"{what}: {cut}")
    return answer.rows


def _union_pattern(s: str, p: str, o: str) -> str:
    """The triple pattern in the default graph or in any named graph: right whether or not the
    endpoint's default graph is the union of its graphs."""
    return f"{{ {s} {p} {o} }} UNION {{ GRAPH ?anyGraph {{ {s} {p} {o} }} }}"


def _fetch_labels(client: Client, endpoint: str, nodes: Sequence[NamedNode]) -> Store:
    """The rdfs:label triples of `nodes`, one query (per thousand IRIs) bound with VALUES."""
    labels = Store()
    for i in range(0, len(nodes), _LABEL_BATCH):
        batch = nodes[i : i + _LABEL_BATCH]
        text = (
            f"SELECT DISTINCT ?node ?label WHERE {{ {values_block('node', batch)} "
            f"{_union_pattern('?node', str(_LABEL), '?label')} }}"
        )
        quads = [
            Quad(sol["node"], _LABEL, sol["label"])
            for sol in _select(client, endpoint, text, "fetching labels")
            if isinstance(sol["node"], NamedNode) and isinstance(sol["label"], Literal)
        ]
        labels.extend(quads)
    return labels


def _remote_unknown_nodes(client: Client, endpoint: str, substitutions: dict) -> list[str]:
    """Notes for IRI parameters that occur nowhere in the remote store (likely typos)."""
    iris = {k: v for k, v in substitutions.items() if isinstance(v, NamedNode)}
    if not iris:
        return []
    text = (
        f"SELECT ?node WHERE {{ {values_block('node', iris.values())} FILTER EXISTS {{ "
        f"{_union_pattern('?node', '?p', '?o')} UNION {_union_pattern('?s', '?p', '?node')} }} }}"
    )
    found = {sol["node"] for sol in _select(client, endpoint, text, "checking the parameters")}
    return [
        f"note: {ns.shorten(v.value)} (--param {k.value}) does not occur in the graph"
        for k, v in iris.items()
        if v not in found
    ]


def _iris(solutions) -> list[NamedNode]:
    seen: dict[NamedNode, None] = {}
    for sol in solutions:
        for term in sol:
            if isinstance(term, NamedNode):
                seen[term] = None
    return list(seen)


def run_remote(
    project: Project,
    name_or_file: str,
    params: Mapping[str, str] | None = None,
    *,
    endpoint: str,
    lang: str = "en",
    timeout: float = DEFAULT_TIMEOUT_S,
    limit: int | None = None,
    notify: Notify = None,
    env: Mapping[str, str] | None = None,
) -> QueryResult:
    """Run a stored query on a remote SPARQL endpoint; the same result as `kg.query.run`.

    `timeout` bounds each request; a query that times out is not tried again (a connection
    reset or HTTP 502/503/504 is). `limit` keeps the first rows.

    The stored queries expect the union of the named graphs as the default graph (for the
    Oxigraph server: `--union-default-graph`). No local build is needed.
    """
    url = check_url(endpoint, "--endpoint")
    query = find_query(project, name_or_file)
    substitutions = bind(query, params or {})
    Labeler(Store(), lang)  # rejects an unknown language before any request
    text = query.text
    if substitutions:
        aliases = select_aliases(text) & {v.value for v in substitutions}
        if aliases:
            # Joined before the SELECT expressions are computed, a VALUES row may not bind
            # their names (SPARQL 1.1, 18.2.4.1): the store answers 400, a misleading hint.
            name = sorted(aliases)[0]
            raise KgQueryError(
                f"{query.rel}: --param {name} names a SELECT expression (… AS ?{name}), "
                "which a SPARQL endpoint cannot bind; bind a variable of the WHERE pattern "
                "instead, or run the query without --endpoint"
            )
        # A trailing VALUES clause (SPARQL 1.1, 10.2.2) joins the bindings with the results.
        text = text.rstrip("\n") + "\n" + values_clause(substitutions) + "\n"
    if timeout <= 0:
        raise KgEndpointError("--timeout must be a positive number of seconds")
    credentials = credentials_for(url, env)
    _warn_cleartext(url, credentials, notify)
    client = Client(credentials, timeout=timeout, notify=notify, retry_timeouts=False)
    where = redact(url)
    what = f"query {query.name}"
    answer = sparql(client, url, text, what=what, accept=f"{SPARQL_JSON}, {N_TRIPLES};q=0.9")
    cut = None
    if answer.content_type.startswith(N_TRIPLES):  # CONSTRUCT or DESCRIBE
        try:
            triples = [q.triple for q in parse(answer.body, RdfFormat.N_TRIPLES)]
        except SyntaxError as e:
            raise KgEndpointError(f"{what}: {where} sent unreadable triples: {e}") from None
        nodes = _iris([t.subject, t.predicate, t.object] for t in triples)
        labeler = Labeler(_fetch_labels(client, url, nodes), lang)
        columns, rows = _table(triples, query, labeler)
    else:
        results = _answer(answer, what, where)
        if results.boolean is not None:
            columns, rows = ["result"], [[Cell(str(results.boolean).lower())]]
        else:
            nodes = _iris(row.values() for row in results.rows)
            labeler = Labeler(_fetch_labels(client, url, nodes), lang)
            columns, rows = select_table(results.variables, results.rows, query, labeler)
        cut = row_cap(answer, len(results.rows))
    notes = _remote_unknown_nodes(client, url, substitutions)
    result = QueryResult(query, columns, rows, notes)
    if cut:
        result.after.append(f"warning: {cut}")
    if limit is not None and len(rows) > limit:
        del rows[limit:]
        result.after.append(f"note: stopped at --limit {limit}: the query has more rows")
    return result


# --------------------------------------------------------------------------- loading


@dataclass
class GraphLoad:
    """One named graph of the build and what became of it."""

    iri: str
    triples: int
    body: bytes = field(repr=False)
    status: str = "pending"  # pending | replaced | failed | not sent
    diff: GraphDiff | None = None  # the graph read back and compared with the build, when read

    @property
    def short(self) -> str:
        return self.iri.removeprefix(ns.GRAPH_BASE)

    @property
    def stored(self) -> int | None:
        """Triples the store gave back for it, when read back."""
        return None if self.diff is None else self.diff.stored

    @property
    def verified(self) -> bool:
        return self.status == "replaced" and self.diff is not None and self.diff.same


@dataclass
class LoadReport:
    endpoint: str  # redacted
    query_endpoint: str | None  # redacted; None when there is none (graphs are read by GET)
    credentials: str  # where the credentials come from ("none")
    graphs: list[GraphLoad]
    dry_run: bool = False
    error: str | None = None
    interrupted: bool = False
    counted: bool = False  # every replaced graph was read back and compared
    seconds: float = 0.0

    @property
    def replaced(self) -> list[GraphLoad]:
        return [g for g in self.graphs if g.status == "replaced"]

    @property
    def not_replaced(self) -> list[GraphLoad]:
        return [g for g in self.graphs if g.status != "replaced"]

    @property
    def mismatched(self) -> list[GraphLoad]:
        return [g for g in self.graphs if self.counted and not g.verified]

    @property
    def exit_code(self) -> int:
        if self.dry_run:
            return EXIT_OK
        if self.interrupted:
            return 130
        if self.mismatched:  # read back, and some graph differs from the build
            return EXIT_PROBLEMS
        return EXIT_USAGE if self.error else EXIT_OK

    def _result(self, g: GraphLoad) -> str:
        if g.status == "replaced":
            if g.diff is None:
                return "replaced (not read back)"
            d = g.diff
            if d.same:
                verdict = "same values"
                if d.relexed:
                    verdict += f" ({d.relexed} in another form)"
                if d.blank_nodes:
                    verdict += " (blank nodes by shape)"
            else:
                verdict = f"CHANGED: {d.changes} triple(s), listed below"
            return f"replaced, {d.stored} read back: {verdict}"
        if g.status == "failed":
            return "NOT replaced: the PUT failed"
        return "NOT replaced: not sent"

    def render_text(self) -> str:
        width = max([len(g.iri) for g in self.graphs] + [5])
        head = [f"{'graph':<{width}}  {'triples':>8}  {'bytes':>9}"]
        if self.dry_run:
            lines = [
                f"Dry run: nothing sent. `kg load` would replace {len(self.graphs)} graph(s) at "
                f"{self.endpoint}",
                f"(HTTP PUT ?graph=IRI, N-Triples, UTF-8; credentials: {self.credentials}), then "
                "read each back (HTTP GET ?graph=IRI"
                + (f", or CONSTRUCT at {self.query_endpoint}" if self.query_endpoint else "")
                + ") and compare it with the build.",
                "",
            ]
            rows = [f"{g.iri:<{width}}  {g.triples:>8}  {len(g.body):>9}" for g in self.graphs]
        else:
            state = "stopped" if self.error or self.interrupted else "done"
            lines = [
                f"Loading {len(self.graphs)} graph(s) into {self.endpoint} ({state} in "
                f"{self.seconds:.2f} s; HTTP PUT, N-Triples; credentials: {self.credentials})",
                "",
            ]
            head[0] += "  result"
            rows = [
                f"{g.iri:<{width}}  {g.triples:>8}  {len(g.body):>9}  {self._result(g)}"
                for g in self.graphs
            ]
        total = sum(g.triples for g in self.graphs)
        size = sum(len(g.body) for g in self.graphs)
        lines += ["  " + r for r in [*head, *rows, f"{'total':<{width}}  {total:>8}  {size:>9}"]]
        lines.append("")
        if self.dry_run:
            return "\n".join(lines) + "\n"
        names = ", ".join(g.short for g in self.replaced) or "none"
        lines.append(f"Replaced {len(self.replaced)} of {len(self.graphs)}: {names}.")
        if self.not_replaced:
            lines.append(f"Not replaced: {', '.join(g.short for g in self.not_replaced)}.")
            if self.replaced:
                lines.append(
                    "The store now mixes new and old graphs: run `kg load` again once the "
                    "endpoint works (each PUT replaces a graph whole)."
                )
        elif self.counted and not self.mismatched:
            lines.append(
                "Verified: every graph, read back from the store, holds the build's triples "
                "with the same values."
            )
            relexed = [g for g in self.graphs if g.diff is not None and g.diff.relexed]
            if relexed:
                lines.append(
                    f"The store gave back {sum(g.diff.relexed for g in relexed)} value(s) in "
                    "another lexical form or datatype of the same value, e.g.:"
                )
                lines += [f"  {line}" for g in relexed for line in g.diff.relexed_lines][:3]
        elif self.mismatched:
            lines.append(
                f"Read back: {len(self.mismatched)} graph(s) differ from the build; the store "
                "changed these triples:"
            )
            for g in self.mismatched:
                if g.diff is None:
                    continue
                lines.append(f"  {g.short}:")
                lines += [f"    {line}" for line in g.diff.lines]
                if g.diff.changes > len(g.diff.lines):
                    lines.append(f"    … and {g.diff.changes - len(g.diff.lines)} more")
        return "\n".join(lines) + "\n"


def graph_payloads(data: bytes) -> list[GraphLoad]:
    """The named graphs of the N-Quads `data` as N-Triples documents, sorted by IRI.

    The quads are parsed, not loaded into a Store: the parser keeps every literal as written,
    where a Store would canonicalise some of them. Blank nodes keep their labels within a
    graph (each graph is its own document, so one blank node cannot span two graphs).
    """
    lines: dict[str, list[str]] = {}
    for quad in parse(data, RdfFormat.N_QUADS):
        graph = quad.graph_name
        if not isinstance(graph, NamedNode):
            raise KgProjectError(
                "build/dataset.nq has triples outside the named graphs; kg load sends named "
                "graphs only"
            )
        lines.setdefault(graph.value, []).append(f"{quad.triple} .\n")
    return [
        GraphLoad(iri, len(body), "".join(body).encode("utf-8"))
        for iri, body in sorted(lines.items())
    ]


def _select_graphs(graphs: list[GraphLoad], names: Sequence[str]) -> list[GraphLoad]:
    if not names:
        return graphs
    by_name = {g.iri: g for g in graphs} | {g.short: g for g in graphs}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(g.short for g in graphs)
        raise KgEndpointError(f"unknown graph {', '.join(unknown)} (the build has: {known})")
    wanted = {by_name[n].iri for n in names}
    return [g for g in graphs if g.iri in wanted]


_QUERY_BESIDE = {
    "/store": "/query",  # Oxigraph
    "/data": "/query",  # Fuseki: /ds/data, /ds/query
    "/sparql-graph-crud": "/sparql",  # Virtuoso
    "/sparql-graph-crud-auth": "/sparql",  # Virtuoso, authenticated
}


def derive_query_endpoint(store_url: str) -> str:
    """The SPARQL query endpoint beside a Graph Store endpoint (…/store → …/query,
    …/sparql-graph-crud → …/sparql)."""
    parts = urllib.parse.urlsplit(store_url)
    for tail, query_tail in _QUERY_BESIDE.items():
        if parts.path.endswith(tail):
            path = parts.path[: -len(tail)] + query_tail
            return urllib.parse.urlunsplit(parts._replace(path=path, query=""))
    raise KgEndpointError(
        f"cannot tell the SPARQL query endpoint that goes with {redact(store_url)}: give "
        "--query-endpoint URL (for Oxigraph http://host:port/query)"
    )


def graph_url(store_url: str, iri: str) -> str:
    """`<store endpoint>?graph=<IRI>` (Graph Store Protocol, indirect graph identification)."""
    joiner = "&" if urllib.parse.urlsplit(store_url).query else "?"
    return store_url + joiner + urllib.parse.urlencode({"graph": iri})


def read_back(
    client: Client,
    store_url: str,
    iri: str,
    querier: Client | None = None,
    query_url: str | None = None,
) -> list[Triple]:
    """The triples the store holds in graph `iri`: a Graph Store GET, or, when the store
    refuses that and a query endpoint is known, a CONSTRUCT of the graph through it."""
    what = f"reading graph <{iri}> back"
    try:
        answer = client.send(
            "GET",
            graph_url(store_url, iri),
            what=what,
            where=redact(store_url),
            headers={"Accept": f"{N_TRIPLES}, text/turtle;q=0.9, */*;q=0.1"},
        )
    except KgEndpointError:
        if querier is None or query_url is None:
            raise
        text = (
            "CONSTRUCT { ?s ?p ?o } WHERE { "
            f"{values_block('graph', [NamedNode(iri)])} GRAPH ?graph {{ ?s ?p ?o }} }}"
        )
        answer = sparql(querier, query_url, text, what=what, accept=f"{N_TRIPLES}, text/turtle")
    try:
        return read_graph(answer.body, answer.content_type)
    except ValueError as e:
        raise KgEndpointError(f"{what}: {redact(store_url)} sent {e}") from None


def load(
    project: Project,
    endpoint: str,
    *,
    query_endpoint: str | None = None,
    graphs: Sequence[str] = (),
    dry_run: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    notify: Notify = None,
    env: Mapping[str, str] | None = None,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF_S,
) -> LoadReport:
    """Replace the build's named graphs in the store at `endpoint` (Graph Store Protocol),
    then read each back and compare it with the build.

    Mistakes found before anything is sent (bad URL, credentials half set, unknown graph)
    raise KgEndpointError. Once sending has begun, a failure is recorded in the report
    (`error`, and each graph's status) so it can say which graphs were replaced.
    """
    store_url = check_url(endpoint, "--endpoint")
    if query_endpoint:
        query_url: str | None = check_url(query_endpoint, "--query-endpoint")
    else:
        try:
            query_url = derive_query_endpoint(store_url)
        except KgEndpointError:
            query_url = None  # graphs are read back by GET; CONSTRUCT is only the fallback
    credentials = credentials_for(store_url, env)
    query_credentials = credentials_for(query_url, env) if query_url else credentials
    _warn_cleartext(store_url, credentials, notify)
    if query_url and query_url.split("/")[2:3] != store_url.split("/")[2:3]:
        _warn_cleartext(query_url, query_credentials, notify)
    if timeout <= 0:
        raise KgEndpointError("--timeout must be a positive number of seconds")
    built = ensure_built(project, notify=notify)
    selected = _select_graphs(graph_payloads(built.dataset), graphs)
    report = LoadReport(
        redact(store_url),
        redact(query_url) if query_url else None,
        credentials.source,
        selected,
        dry_run=dry_run,
    )
    if dry_run:
        return report
    started = time.perf_counter()
    client = Client(credentials, timeout=timeout, attempts=attempts, backoff=backoff, notify=notify)
    try:
        for g in selected:
            g.status = "failed"  # until the store says otherwise
            try:
                client.send(
                    "PUT",
                    graph_url(store_url, g.iri),
                    what=f"PUT of graph <{g.iri}>",
                    where=report.endpoint,
                    body=g.body,
                    headers={"Content-Type": N_TRIPLES},
                    hint="is it the Graph Store endpoint? for Oxigraph http://host:port/store",
                )
            except KgEndpointError as e:
                report.error = str(e)
                break
            g.status = "replaced"
        for g in selected:
            if g.status == "pending":
                g.status = "not sent"
        if report.error is None and selected:
            querier = None
            if query_url:
                querier = Client(
                    query_credentials,
                    timeout=timeout,
                    attempts=attempts,
                    backoff=backoff,
                    notify=notify,
                )
            try:
                for g in selected:
                    stored = read_back(client, store_url, g.iri, querier, query_url)
                    sent = [q.triple for q in parse(g.body, RdfFormat.N_TRIPLES)]
                    g.diff = compare(sent, stored)
            except KgEndpointError as e:
                report.error = f"the graphs were replaced but could not be read back: {e}"
            else:
                report.counted = True
                if report.mismatched:
                    report.error = "the store did not keep the build's triples in " + ", ".join(
                        g.short for g in report.mismatched
                    )
    except KeyboardInterrupt:
        report.interrupted = True
        report.error = "interrupted"
        for g in selected:
            if g.status in ("pending", "failed"):
                g.status = "not sent" if g.status == "pending" else "failed"
    report.seconds = time.perf_counter() - started
    return report
