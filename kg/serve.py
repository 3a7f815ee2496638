"""`kg serve`: the built graph through the Oxigraph SPARQL server, read-only, with a page that
opens every stored question in the server's query editor.

The Oxigraph server (`oxigraph serve`, SPARQL 1.1 Protocol at /query, Graph Store reads at
/store, the YASGUI editor at /) holds the build in memory: every start posts build/dataset.nq
to it (`served_data`), and the proxy in front refuses every request that could change it
(403), so it serves read-only. Its default graph is the union of the named graphs, as the
stored queries expect. Oxigraph serves no extra files, so
the page of stored queries (also written to build/serve/queries.html) comes from a tiny
http.server on a second port. Ctrl-C (SIGINT) or SIGTERM stops everything and exits 0.

Oxigraph 0.5 cannot stop a running query (its --timeout-s reaches only some evaluation paths,
and a query goes on after its client hangs up: oxigraph/oxigraph#1336), so the server listens
on a free loopback port behind a small reverse proxy on the public one. The proxy gives each
request --timeout seconds for its whole answer; past that it answers 503 (or, the answer
already streaming, closes the connection), kills Oxigraph and starts it again on the same
data. Requests in flight at that moment are cut off and told so (503, restarting).
"""

from __future__ import annotations

import collections
import contextlib
import html
import http.client
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kg.build import ensure_built
from kg.errors import EXIT_OK, KgQueryError, KgServeError
from kg.project import Project
from kg.query import StoredQuery, list_queries, param_value

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT_S = 30  # the server's limit on one query
PAGES_DIR = "serve"  # build/serve/queries.html
READY_WITHIN_S = 10.0
LOAD_WITHIN_S = 600.0  # posting the build to the child (2-3 s at a million triples)
INTERNAL_HOST = "127.0.0.1"  # where the Oxigraph server listens, behind the proxy
PROXY_CHUNK = 64 * 1024  # bodies pass through the proxy in pieces of at most this
PROXY_LINE = 8 * 1024  # longest chunk-size line of a chunked request body
PROXY_IDLE_S = 120  # an idle keep-alive connection to the proxy is closed after this
_EXAMPLE = re.compile(r"\be\.g\.,?\s*([^\s,;)]+)")

Print = Callable[[str], None]


def oxigraph_program() -> str:
    """The Oxigraph server program: beside this Python (a virtual environment), else on PATH."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("oxigraph")
    if found:
        return found
    raise KgServeError(
        "the Oxigraph server program is not installed: `pip install oxigraph==0.5.13` (it is "
        "a dependency of kg: reinstall kg)"
    )


# --------------------------------------------------------------------------- the store


@dataclass
class ServedData:
    """What the Oxigraph child serves: the build's N-Quads, held in the child's memory.

    The child is `oxigraph serve` without --location (an in-memory store: at a million
    triples its queries are 2-5x faster than on a RocksDB store opened read-only) and every
    (re)start posts the dataset to its Graph Store on the private loopback port before the
    proxy lets any request through. The file is opened once, here: a `kg build` while serving
    replaces build/dataset.nq by rename, so a restart reloads the bytes this server started
    with. The in-memory store would accept updates: the proxy refuses them (`_writes`).
    """

    file: object  # the open build/dataset.nq (binary, read from the start at every load)
    size: int
    quads: int
    seconds: float = 0.0  # the last load

    def command(self, program: str, bind: str, timeout_s: int) -> list[str]:
        return [
            program, "serve", "--bind", bind, "--union-default-graph",
            "--timeout-s", str(timeout_s),
        ]  # fmt: skip

    def load(self, host: str, port: int) -> None:
        """Post the dataset to the child just started on host:port."""
        began = time.perf_counter()
        self.file.seek(0)
        conn = http.client.HTTPConnection(host, port, timeout=LOAD_WITHIN_S)
        try:
            conn.request(
                "POST", "/store?lenient", self.file,
                {"Content-Type": "application/n-quads", "Content-Length": str(self.size)},
            )  # fmt: skip
            answer = conn.getresponse()
            said = answer.read(500).decode("utf-8", "replace").strip()
        except (OSError, http.client.HTTPException) as e:
            raise KgServeError(f"cannot load the build into the Oxigraph server: {e}") from None
        finally:
            conn.close()
        if answer.status not in (200, 201, 204):
            raise KgServeError(
                f"the Oxigraph server refused the build (HTTP {answer.status}): {said}"
            )
        self.seconds = time.perf_counter() - began

    def close(self) -> None:
        self.file.close()


def served_data(project: Project, *, notify: Callable[[str], None] | None = None) -> ServedData:
    """The current build (rebuilt first if a source changed), ready to load into the child."""
    built = ensure_built(project, notify=notify)
    path = project.build_dir / "dataset.nq"
    try:
        file = path.open("rb")
        size = os.fstat(file.fileno()).st_size
    except OSError as e:
        raise KgServeError(f"cannot read {path}: {e.strerror or e}") from None
    return ServedData(file, size, int(built.manifest["dataset"].get("quads", 0)))


def _writes(method: str, path: str) -> bool:
    """Would this request change the store? Everything but reads and POST /query does."""
    if method in ("GET", "HEAD"):
        return False
    return not (method == "POST" and urllib.parse.urlsplit(path).path == "/query")


# --------------------------------------------------------------------------- stored-queries page


def editor_text(query: StoredQuery) -> str:
    """The query as it opens in the editor: its parameters bound by a trailing VALUES clause
    to the example the header gives (`e.g. kgr:x`), or a commented-out clause to fill in."""
    from kg.store import values_clause

    if not query.params:
        return query.text
    lines = [query.text.rstrip("\n"), ""]
    bindings = {}
    for p in query.params:
        m = _EXAMPLE.search(p.description)
        if m:
            with contextlib.suppress(KgQueryError):
                bindings[p.name] = param_value(p, m.group(1))
    if len(bindings) == len(query.params):
        shown = " ".join(
            f"{p.name}={_EXAMPLE.search(p.description).group(1)}" for p in query.params
        )
        lines.append(
            f"# parameters, bound here to the header's example ({shown}): edit to ask again"
        )
        lines.append(values_clause(bindings))
    else:
        wanted = ", ".join(f"{p.name} ({p.type})" for p in query.params)
        lines.append(f"# parameters: {wanted}; uncomment the next line and give the values")
        names = " ".join(f"?{p.name}" for p in query.params)
        lines.append(f"# VALUES ({names}) {{ ({' '.join(p.type for p in query.params)}) }}")
    return "\n".join(lines) + "\n"


def editor_link(editor_url: str, endpoint_url: str, text: str) -> str:
    """A link that opens `text` in Oxigraph's YASGUI page, ready to run against the endpoint.

    YASGUI (populateFromUrl) reads `query` and `endpoint` from the URL fragment; the endpoint
    must be given because the page's default is derived from its own URL, fragment included.
    """
    fragment = urllib.parse.urlencode({"query": text, "endpoint": endpoint_url})
    return f"{editor_url.rstrip('/')}/#{fragment}"


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
padding: 0 1rem; }
li { margin: 0 0 .8rem; } a.query { font-weight: 600; } code { font-size: 90%; }
.params { color: #555; font-size: 90%; } details pre { background: #f6f6f6; padding: .5rem;
overflow-x: auto; }
"""


def queries_page(queries: list[StoredQuery], *, editor: str, endpoint: str, title: str) -> str:
    """A static HTML page (no script, nothing fetched) listing every stored question."""
    esc = html.escape
    items = []
    for q in queries:
        text = editor_text(q)
        params = ""
        if q.params:
            params = "; ".join(f"{p.name} ({p.type}): {p.description}" for p in q.params)
            params = f'<div class="params">parameters — {esc(params)}</div>'
        items.append(
            f'<li id="q-{esc(q.name)}"><a class="query" data-query="{esc(q.name)}" '
            f'href="{esc(editor_link(editor, endpoint, text))}">{esc(q.name)}</a> — '
            f"{esc(q.question or '(no question in the header)')}{params}"
            f"<details><summary>SPARQL</summary><pre>{esc(text)}</pre></details></li>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Stored queries — {esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>Stored queries</h1>\n<p>{len(queries)} questions of <code>{esc(title)}</code>. "
        f'Each opens in the <a href="{esc(editor)}">query editor</a>, ready to run (the ▶ '
        f"button) against <code>{esc(endpoint)}</code>: read-only, its default graph is the "
        "union of the named graphs.</p>\n<ol>\n" + "\n".join(items) + "\n</ol>\n</body>\n</html>\n"
    )


class _PageHandler(BaseHTTPRequestHandler):
    page = b""
    server_version = "kg-serve"

    def _send(self, head_only: bool) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path not in ("/", "/queries.html", "/index.html"):
            self.send_error(404, "only / is served here; the SPARQL server is on the other port")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head_only:
            self.wfile.write(self.page)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._send(False)

    def do_HEAD(self):  # noqa: N802
        self._send(True)

    def log_message(self, format, *args):  # noqa: A002
        pass  # quiet: the terminal shows kg's own lines only


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def server_bind(self):
        # As HTTPServer.server_bind, without its reverse DNS lookup of the host (getfqdn).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # One line, not socketserver's traceback: the request is lost, the server goes on.
        error = sys.exc_info()[1]
        print(f"kg serve: a request from {client_address[0]} failed: {error!r}", file=sys.stderr)


def _pages_server(host: str, port: int, page: bytes) -> _Server:
    handler = type("Handler", (_PageHandler,), {"page": page})
    server_class = _Server
    if ":" in host:
        server_class = type("PagesServer6", (_Server,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host, port), handler)
    except OSError as e:
        raise KgServeError(
            f"cannot serve the stored-queries page on {host}:{port}: {e.strerror or e} "
            "(choose another port with --pages-port)"
        ) from None


# --------------------------------------------------------------------------- the server


def _url_host(host: str) -> str:
    """The host as written in a URL; a wildcard address is reached through the loopback."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind((INTERNAL_HOST, 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, host: str, port: int, tail) -> None:
    connect_host = _url_host(host).strip("[]")
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = " | ".join(tail) or "no message"
            raise KgServeError(
                f"the Oxigraph server stopped at once (exit {proc.returncode}): {said}"
            )
        with contextlib.suppress(OSError), socket.create_connection((connect_host, port), 0.2):
            return
        time.sleep(0.005)
    raise KgServeError(
        f"the Oxigraph server did not answer on {host}:{port} within {READY_WITHIN_S:g} s"
    )


def _drain(stream, tail: collections.deque) -> None:
    """Keep the last lines the server writes (for an error message), so its pipe never fills."""
    for raw in iter(stream.readline, b""):
        tail.append(raw.decode("utf-8", "replace").rstrip())


class _Oxigraph:
    """The Oxigraph server, a child process on a free loopback port that only the proxy uses.

    `restart` kills it (SIGKILL: Oxigraph 0.5 cannot stop a running evaluation any other way)
    and starts it again on the same store; the store is opened read-only, so that is safe and
    fast. Each start is a new generation: a request knows which one it spoke to, so a request
    cut off by a restart is told so, and two requests that outlive the limit together restart
    it once.
    """

    def __init__(
        self,
        command: Callable[[str], list[str]],
        program: str,
        load: Callable[[str, int], None] | None = None,
    ):
        self._command = command  # the command line, given the address to bind
        self._program = program
        self._load = load  # fills a just-started server with its data (host, port)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.generation = 0
        self.tail: collections.deque[str] = collections.deque(maxlen=20)
        self.closing = False
        self.failure: KgServeError | None = None  # set when a restart failed

    def start(self) -> None:
        """Start it and wait until it answers (the caller holds `lock`, or nobody else runs)."""
        port = _free_loopback_port()
        try:
            proc = subprocess.Popen(
                self._command(f"{INTERNAL_HOST}:{port}"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as e:
            raise KgServeError(f"cannot start {self._program}: {e.strerror or e}") from None
        self.proc, self.port = proc, port
        threading.Thread(target=_drain, args=(proc.stderr, self.tail), daemon=True).start()
        _wait_ready(proc, INTERNAL_HOST, port, self.tail)
        if self._load is not None:
            try:
                self._load(INTERNAL_HOST, port)
            except BaseException:
                proc.kill()
                raise

    def target(self) -> tuple[int, int]:
        """(generation, port) of the server to send the next request to; waits for a restart."""
        with self.lock:
            if self.failure is not None:
                raise self.failure
            if self.closing:
                raise KgServeError("kg serve is stopping")
            return self.generation, self.port

    def restart(self, generation: int) -> float | None:
        """Kill the server of `generation` and start a new one: the seconds that took, or None
        when that server is gone already (another request restarted it, or kg serve stops)."""
        with self.lock:
            if generation != self.generation or self.closing or self.failure is not None:
                return None
            began = time.perf_counter()
            self.generation += 1  # first: requests cut off from here on are told "restarting"
            self.proc.kill()
            self.proc.wait()
            try:
                self.start()
            except KgServeError as e:
                self.failure = e  # the main thread reports it and exits
                if self.proc.poll() is None:
                    self.proc.kill()
                return None
            return time.perf_counter() - began

    def wait(self) -> None:
        """Block until the server stops by itself (or a restart fails); then raise why."""
        while True:
            proc = self.proc
            code = proc.wait()
            with self.lock:
                if self.failure is not None:
                    raise self.failure
                if self.proc is not proc:
                    continue  # restarted
            said = " | ".join(self.tail) or "no message"
            raise KgServeError(f"the Oxigraph server stopped (exit {code}): {said}")

    def stop(self) -> None:
        with self.lock:
            self.closing = True
            proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# Headers that concern one connection only (RFC 9110 7.6.1), never passed on; Expect is
# answered by the proxy itself. Content-Length and Transfer-Encoding are set by the proxy.
_HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate",
        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect",
        "content-length",
    }
)  # fmt: skip


class _Deadline(Exception):
    """The request's time limit passed."""


class _ClientGone(Exception):
    """The client closed the connection (or sent something unreadable)."""


class _UpstreamGone(Exception):
    """The connection to Oxigraph failed."""


class _ProxyHandler(BaseHTTPRequestHandler):
    """Passes each request on to Oxigraph and its answer back, within `limit_s` seconds."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Oxigraph itself offers
    server_version = "kg-serve"
    timeout = PROXY_IDLE_S  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # else a head and a body sent apart wait 40 ms (delayed ACK)
    oxigraph: _Oxigraph
    limit_s: int = DEFAULT_TIMEOUT_S
    out: Print = print

    # -- one side of the exchange at a time, with the time left as its socket timeout

    @contextlib.contextmanager
    def _io(self, sock: socket.socket, deadline: float, gone: type[Exception]):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Deadline
        sock.settimeout(left)
        try:
            yield
        except TimeoutError:
            raise _Deadline from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise gone(e) from None

    def _plain(self, status: int, text: str) -> None:
        """A short plain-text answer, after which the connection is closed."""
        body = (text + "\n").encode("utf-8")
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.settimeout(5)
            self.send_response_only(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def _headers_to_send(self) -> list[tuple[str, str]]:
        named = {
            t.strip().lower() for t in self.headers.get("Connection", "").split(",") if t.strip()
        }
        return [
            (k, v)
            for k, v in self.headers.items()
            if k.lower() not in _HOP_BY_HOP and k.lower() not in named
        ]

    def _proxy(self) -> None:
        deadline = time.monotonic() + self.limit_s
        if self.request_version != "HTTP/1.1":
            self.close_connection = True  # HTTP/1.0 keep-alive is not worth the care
        if _writes(self.command, self.path):
            self._plain(403, "kg serve is read-only: updates are refused")
            return
        try:
            generation, port = self.oxigraph.target()
        except KgServeError as e:
            self._plain(503, str(e))
            return
        client = self.connection
        upstream = http.client.HTTPConnection(INTERNAL_HOST, port)
        request_sent = answered = headers_sent = False
        try:
            try:
                upstream.timeout = max(deadline - time.monotonic(), 0.001)
                upstream.connect()
            except TimeoutError:
                raise _Deadline from None
            except OSError as e:
                raise _UpstreamGone(e) from None
            up = upstream.sock
            # The request: line, headers, body (passed on as it comes, chunk by chunk).
            framing = self._request_framing()
            if framing is None:
                self._plain(400, "bad request: a Content-Length that is not a number")
                return
            length, chunked = framing
            try:
                upstream.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                headers = self._headers_to_send()
                if not any(k.lower() == "host" for k, _ in headers):
                    upstream.putheader("Host", f"{INTERNAL_HOST}:{port}")
                for k, v in headers:
                    upstream.putheader(k, v)
                if chunked:
                    upstream.putheader("Transfer-Encoding", "chunked")
                elif length is not None:
                    upstream.putheader("Content-Length", str(length))
            except ValueError as e:  # a path or header http.client refuses to send
                self._plain(400, f"bad request: {e}")
                return
            with self._io(up, deadline, _UpstreamGone):
                upstream.endheaders()
            for piece in self._request_body(length, chunked, deadline):
                with self._io(up, deadline, _UpstreamGone):
                    up.sendall(piece)
            request_sent = True
            # The answer: status and headers, then the body as it comes.
            with self._io(up, deadline, _UpstreamGone):
                answer = upstream.getresponse()
            self._send_head(answer, deadline)
            headers_sent = True
            if self._bodyless(answer):
                answered = True
                return
            reframe = answer.chunked or answer.length is None
            while True:
                with self._io(up, deadline, _UpstreamGone):
                    data = answer.read1(PROXY_CHUNK)
                if not data:
                    break
                if reframe and not self.close_connection:
                    data = b"%x\r\n%b\r\n" % (len(data), data)
                with self._io(client, deadline, _ClientGone):
                    self.wfile.write(data)
            answered = True
            if reframe and not self.close_connection:
                with self._io(client, deadline, _ClientGone):
                    self.wfile.write(b"0\r\n\r\n")
        except _Deadline:
            self._stopped(generation, headers_sent, restart=request_sent and not answered)
        except _UpstreamGone as e:
            if headers_sent:
                self.close_connection = True
            elif generation != self.oxigraph.generation:
                self._plain(
                    503,
                    "the Oxigraph server is restarting (another query passed the time limit, "
                    "kg serve --timeout): try again",
                )
            else:
                self._plain(502, f"the Oxigraph server did not answer: {e}")
        except _ClientGone:
            self.close_connection = True
        finally:
            upstream.close()
            with contextlib.suppress(OSError):
                client.settimeout(self.timeout)

    def _stopped(self, generation: int, headers_sent: bool, *, restart: bool) -> None:
        """The time limit passed: say so (or cut the answer off), then stop the query."""
        if headers_sent:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._plain(503, f"query stopped after {self.limit_s} s (kg serve --timeout)")
        if not restart:
            return
        took = self.oxigraph.restart(generation)
        if took is not None:
            what = urllib.parse.urlsplit(self.path).path
            self.out(
                f"Stopped {self.command} {what} from {self.client_address[0]} after "
                f"{self.limit_s} s (--timeout); Oxigraph restarted in {took:.2f} s"
            )

    def _request_framing(self) -> tuple[int | None, bool] | None:
        """(Content-Length, chunked?) of the request body; None when it cannot be told."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None, True
        length = self.headers.get("Content-Length")
        if length is None:
            return None, False
        try:
            n = int(length)
        except ValueError:
            n = -1
        return (n, False) if n >= 0 else None

    def _request_body(self, length: int | None, chunked: bool, deadline: float):
        """The request body as it is to be sent on: as it came, in pieces."""
        client = self.connection
        if chunked:
            while True:
                with self._io(client, deadline, _ClientGone):
                    line = self.rfile.readline(PROXY_LINE)
                    size = int(line.split(b";")[0].strip(), 16)
                    data = self.rfile.read(size + 2) if size else b""
                if size == 0:
                    with self._io(client, deadline, _ClientGone):
                        while self.rfile.readline(PROXY_LINE) not in (b"\r\n", b"\n", b""):
                            pass  # trailers: dropped
                    yield b"0\r\n\r\n"
                    return
                yield line.split(b";")[0].strip() + b"\r\n" + data
        elif length:
            left = length
            while left:
                with self._io(client, deadline, _ClientGone):
                    data = self.rfile.read1(min(left, PROXY_CHUNK))
                if not data:
                    raise _ClientGone("the request body ended early")
                left -= len(data)
                yield data

    def _bodyless(self, answer: http.client.HTTPResponse) -> bool:
        return self.command == "HEAD" or answer.status in (204, 304) or answer.status < 200

    def _send_head(self, answer: http.client.HTTPResponse, deadline: float) -> None:
        named = {
            t.strip().lower()
            for t in (answer.getheader("Connection") or "").split(",")
            if t.strip()
        }
        self.send_response_only(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in _HOP_BY_HOP and k.lower() not in named:
                self.send_header(k, v)
        if self._bodyless(answer):
            if answer.getheader("Content-Length") is not None:
                self.send_header("Content-Length", answer.getheader("Content-Length"))
        elif not (answer.chunked or answer.length is None):
            self.send_header("Content-Length", str(answer.length))
        elif not self.close_connection:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        with self._io(self.connection, deadline, _ClientGone):
            self.end_headers()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _proxy  # noqa: N815

    def log_message(self, format, *args):  # noqa: A002
        pass  # quiet: the terminal shows kg's own lines only


def _proxy_server(host: str, port: int, oxigraph: _Oxigraph, limit_s: int, out: Print):
    settings = {"oxigraph": oxigraph, "limit_s": limit_s, "out": staticmethod(out)}
    handler = type("Handler", (_ProxyHandler,), settings)
    server_class = _Server
    if ":" in host:
        server_class = type("Server6", (_Server,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host, port), handler)
    except OSError as e:
        raise KgServeError(
            f"cannot listen on {host}:{port}: {e.strerror or e} (choose another with --port)"
        ) from None


@dataclass(frozen=True)
class ServeUrls:
    editor: str
    endpoint: str
    store: str
    queries: str


def serve(
    project: Project,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    pages_port: int | None = None,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    out: Print = print,
    notify: Callable[[str], None] | None = None,
) -> int:
    """Serve the build read-only until Ctrl-C or SIGTERM; returns the exit code (0)."""
    started = time.perf_counter()
    if not 1 <= port <= 65535:
        raise KgServeError(f"--port must be between 1 and 65535, not {port}")
    if pages_port is None:
        pages_port = port + 1 if port < 65535 else 0
    if not 0 <= pages_port <= 65535 or pages_port == port:
        raise KgServeError(f"--pages-port must be a free port other than --port, not {pages_port}")
    if timeout_s < 1:
        raise KgServeError(f"--timeout must be at least 1 second, not {timeout_s}")
    program = oxigraph_program()
    data = served_data(project, notify=notify)
    queries = list_queries(project)
    base = f"http://{_url_host(host)}:{port}"
    urls_editor, urls_endpoint = f"{base}/", f"{base}/query"
    page = queries_page(
        queries, editor=urls_editor, endpoint=urls_endpoint, title=project.root.name
    )
    page_file = project.build_dir / PAGES_DIR / "queries.html"
    with contextlib.suppress(OSError):  # a copy for offline use; serving does not need it
        page_file.parent.mkdir(parents=True, exist_ok=True)
        page_file.write_text(page, encoding="utf-8")

    def command(bind: str) -> list[str]:
        return data.command(program, bind, timeout_s)

    oxigraph = _Oxigraph(command, program, data.load)
    try:
        proxy = _proxy_server(host, port, oxigraph, timeout_s, out)
    except BaseException:
        data.close()
        raise
    try:
        pages = _pages_server(host, pages_port, page.encode("utf-8"))
    except BaseException:
        proxy.server_close()
        data.close()
        raise
    urls = ServeUrls(
        editor=urls_editor,
        endpoint=urls_endpoint,
        store=f"{base}/store?graph=IRI",
        queries=f"http://{_url_host(host)}:{pages.server_address[1]}/",
    )
    serving = False
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _stop(signum, frame):
        # Ctrl-C, `kill -INT` (even where a shell started us with SIGINT ignored) and SIGTERM
        # all stop the same way.
        raise KeyboardInterrupt

    try:
        for sig in previous:
            signal.signal(sig, _stop)
        oxigraph.start()
        threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
        threading.Thread(target=pages.serve_forever, args=(0.05,), daemon=True).start()
        serving = True
        out(
            f"Serving {project.root} read-only with Oxigraph: {data.quads} triples "
            f"(loaded into memory in {data.seconds:.2f} s)\n"
            f"  query editor:      {urls.editor}\n"
            f"  SPARQL endpoint:   {urls.endpoint}\n"
            f"  graph store:       {urls.store} (reads only)\n"
            f"  stored queries:    {urls.queries} ({len(queries)} questions, one click each)\n"
            f"Ready in {time.perf_counter() - started:.2f} s. Updates are refused (HTTP 403); "
            f"a request still running after {timeout_s} s is stopped. Ctrl-C stops."
        )
        oxigraph.wait()  # returns only by raising: the server stopped by itself
    except KeyboardInterrupt:
        out("Stopped.")
        return EXIT_OK
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        oxigraph.stop()
        if serving:
            proxy.shutdown()
            pages.shutdown()
        proxy.server_close()
        pages.server_close()
        data.close()
