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
keeps a sleeping thread per query for the whole timeout, and a query goes on after its client
hangs up: oxigraph/oxigraph#1336), so kg does not pass it: the server listens
on a free loopback port behind a small reverse proxy on the public one. The proxy gives each
request --timeout seconds for its whole answer; past that it answers 503 (or, the answer
already streaming, closes the connection), kills Oxigraph and starts it again on the same
data. Requests in flight at that moment are cut off and told so (503, restarting).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import functools
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
from kg.errors import EXIT_OK, KgError, KgQueryError, KgServeError
from kg.memory import MIB, Watchdog, default_limit_mib
from kg.project import Project
from kg.query import StoredQuery, list_queries, param_value
from kg.serve_guard import (
    MAX_QUERY_BYTES,
    QUERY_PATH,
    Policy,
    Refusal,
    interface_addresses,
    is_loopback,
    is_wildcard,
    queries_of_body,
    query_of_url,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7878
DEFAULT_TIMEOUT_S = 30  # the server's limit on one query
PAGES_DIR = "serve"  # build/serve/queries.html
READY_WITHIN_S = 10.0
LOAD_WITHIN_S = 600.0  # posting the build to the child (2-3 s at a million triples)
INTERNAL_HOST = "127.0.0.1"  # where the Oxigraph server listens, behind the proxy
PROXY_CHUNK = 64 * 1024  # request bodies pass through the proxy in pieces of at most this
PROXY_READ = 256 * 1024  # answers are read from Oxigraph in pieces of at most this
PROXY_LINE = 8 * 1024  # longest chunk-size line of a chunked request body
PROXY_IDLE_S = 120  # an idle keep-alive connection to the proxy is closed after this
PAGES_IDLE_S = 30  # the same for the stored-queries page
HEAD_S = 30  # a request's line and headers must arrive within this (slow-drip clients)
HEAD_CHECK_S = 1.0
ERROR_BODY_BYTES = 64 * 1024  # of an error answer, at most this is read (and shortened)
LINGER_S = 1.0  # after a refusal, what the client still sends is read and dropped this long
LINGER_BYTES = 4 * 1024 * 1024  # ... up to this much
MAX_CONNECTIONS = 512  # open connections (threads) per server; more are answered 503
MAX_TIMEOUT_S = 86_400  # --timeout at most a day (the clock must be able to hold it)
MIN_MEMORY_MIB = 64  # below this the Oxigraph server cannot even start
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

    def command(self, program: str, bind: str) -> list[str]:
        # No --timeout-s: Oxigraph 0.5.13 starts a thread per query that sleeps out the whole
        # timeout, so at 30 s a few hundred queries a second piled up ~16,000 sleeping threads
        # until a thread could not be spawned and it aborted. The proxy's limit is enough.
        return [program, "serve", "--bind", bind, "--union-default-graph"]

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


def queries_page(
    queries: list[StoredQuery],
    *,
    editor: str,
    endpoint: str,
    title: str,
    cypher: list[StoredQuery] = (),
) -> str:
    """A static HTML page (no script, nothing fetched) listing every stored question, the
    SPARQL ones with a link into the editor, the Cypher twins (`kg cypher`) to read."""
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
        "union of the named graphs.</p>\n<ol>\n"
        + "\n".join(items)
        + "\n</ol>\n"
        + _cypher_section(cypher)
        + "</body>\n</html>\n"
    )


def _cypher_section(queries: list[StoredQuery]) -> str:
    """The Cypher questions, read-only: their text and the command that runs them."""
    if not queries:
        return ""
    esc = html.escape
    items = []
    for q in queries:
        params = " ".join(f"--param {p.name}=…" for p in q.params)
        command = f"kg cypher {q.name}" + (f" {params}" if params else "")
        items.append(
            f'<li id="cypher-{esc(q.name)}"><code>{esc(q.name)}</code> — '
            f"{esc(q.question or '(no question in the header)')}"
            f'<div class="params">run: <code>{esc(command)}</code></div>'
            f"<details><summary>Cypher</summary><pre>{esc(q.text)}</pre></details></li>"
        )
    return (
        f"<h2>Cypher</h2>\n<p>{len(queries)} questions in Cypher, over the property-graph "
        "projection of the same build (docs/cypher.md); the editor above speaks SPARQL, so "
        "these run from the command line.</p>\n<ol>\n" + "\n".join(items) + "\n</ol>\n"
    )


class _PageHandler(BaseHTTPRequestHandler):
    page = b""
    report = None  # kg.report_files.ReportFiles: the report at /, the stored queries beside it
    server_version = "kg-serve"
    timeout = PAGES_IDLE_S  # a connection that sends nothing is closed after this

    def _send(self, head_only: bool) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path != "/queries.html" and self.report is not None:
            self.report.respond(self, head_only)
            return
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


class _HeadClock:
    """Closes connections whose request head (line and headers) does not arrive whole within
    HEAD_S seconds: a client trickling one header line every few seconds would otherwise hold
    its thread for ever (each read has its own timeout). One thread checks them all."""

    def __init__(self):
        self._due: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._due[sock] = time.monotonic() + HEAD_S
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kg-head", daemon=True)
                self._thread.start()

    def done(self, sock: socket.socket) -> None:
        with self._lock:
            self._due.pop(sock, None)

    def _run(self) -> None:
        while True:
            time.sleep(HEAD_CHECK_S)
            now = time.monotonic()
            with self._lock:
                late = [sock for sock, due in self._due.items() if due <= now]
                for sock in late:
                    del self._due[sock]
            for sock in late:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # its thread's read ends, the thread too


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them: one more is answered 503 at
    once and closed."""

    daemon_threads = True
    request_queue_size = 64
    max_connections = MAX_CONNECTIONS

    def __init__(self, *args, **kwargs):
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.head_clock = _HeadClock()
        super().__init__(*args, **kwargs)

    def server_bind(self):
        # As HTTPServer.server_bind, without its reverse DNS lookup of the host (getfqdn).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            body = b"kg serve is busy: too many open connections, try again\n"
            with contextlib.suppress(OSError):
                request.settimeout(1)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                    b"Connection: close\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
                )
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        # One line, not socketserver's traceback: the request is lost, the server goes on.
        error = sys.exc_info()[1]
        print(f"kg serve: a request from {client_address[0]} failed: {error!r}", file=sys.stderr)


class _TimedHead:
    """Mix-in for a request handler: its request head must arrive within HEAD_S seconds."""

    def handle_one_request(self):
        self.server.head_clock.watch(self.connection)
        try:
            super().handle_one_request()
        finally:
            self.server.head_clock.done(self.connection)

    def parse_request(self):
        try:
            return super().parse_request()
        finally:
            self.server.head_clock.done(self.connection)  # the body has its own deadline


def _pages_server(host: str, port: int, page: bytes, report=None) -> _Server:
    handler = type("Handler", (_TimedHead, _PageHandler), {"page": page, "report": report})
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


def exposure_warning(host: str, port: int, pages_port: int) -> list[str]:
    """What to tell the user when the server listens beyond this machine: a warning, and the
    addresses other machines reach it at."""
    if is_loopback(host):
        return []
    addresses = interface_addresses() if is_wildcard(host) else [host]
    lines = [
        f"WARNING: --host {host} serves the network, not only this machine: anyone who can "
        "reach it can read the whole graph and make it work (SERVICE stays refused unless "
        "--allow-service). Use the default 127.0.0.1 unless that is what you want."
    ]
    for a in addresses:
        name = f"[{a}]" if ":" in a else a
        lines.append(f"  reachable at http://{name}:{port}/ and http://{name}:{pages_port}/")
    if not addresses:
        lines.append("  (this machine's addresses could not be listed)")
    return lines


@contextlib.contextmanager
def _one_preparer(project: Project):
    """Let one kg serve of a project at a time prepare its store (build/.serve.lock, an OS
    lock the kernel drops if the holder dies): two started together raced to replace
    build/oxigraph ("Directory not empty"). A separate file from the build's own lock, which
    prepare_store takes again when it rebuilds."""
    import fcntl

    try:
        project.build_dir.mkdir(parents=True, exist_ok=True)
        handle = open(project.build_dir / ".serve.lock", "a+b")  # noqa: SIM115
    except OSError as e:
        if (
            e.errno not in (errno.EROFS, errno.EACCES, errno.EPERM)
            or not project.build_dir.is_dir()
        ):
            raise KgServeError(
                f"cannot write under {project.build_dir}: {e.strerror or e}"
            ) from None
        # A read-only build/ (a mounted or shared project): serving only reads it, and no
        # kg serve can change it from here, so there is nothing to take turns for.
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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

    The thread that calls `supervise` (kg serve's main thread) starts it and starts it again
    whenever it stops: killed by `restart` (a request past --timeout: SIGKILL, as Oxigraph 0.5
    cannot stop a running evaluation any other way), killed by the memory watchdog (over
    --memory-limit), or dead by itself. The store is opened read-only, so that is safe and
    fast. Children are started by that one long-lived thread only, because the kernel sends a
    child its parent-death signal (kg.memory.parent_death_signal) when the thread that forked
    it ends. Each start is a new generation: a request knows which one it spoke to, so a request
    cut off by a restart is told so, and two requests that outlive the limit together restart
    it once.
    """

    GIVE_UP_AFTER = 3  # deaths in a row, each within QUICK_DEATH_S of its start: stop serving
    QUICK_DEATH_S = 2.0

    def __init__(
        self,
        command: Callable[[str], list[str]],
        program: str,
        *,
        load: Callable[[str, int], None] | None = None,
        memory_limit: int | None = None,
        out: Print = print,
    ):
        self._command = command  # the command line, given the address to bind
        self._program = program
        self._load = load  # fills a just-started server with its data (host, port)
        self.memory_limit = memory_limit  # bytes of resident memory, or None
        self.out = out
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)  # a new child runs, or serving ends
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.generation = 0
        self.started_at = 0.0
        self.killed_for: str | None = None  # why the current child was killed, if it was
        self.tail: collections.deque[str] = collections.deque(maxlen=20)
        self.closing = False
        self.failure: KgServeError | None = None  # set when a restart failed
        self._watchdog: Watchdog | None = None

    def start(self) -> None:
        """Start it and wait until it answers (kg serve's main thread only, holding `lock` or
        alone)."""
        from kg.memory import parent_death_signal

        port = _free_loopback_port()
        try:
            proc = subprocess.Popen(
                self._command(f"{INTERNAL_HOST}:{port}"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=parent_death_signal,  # noqa: PLW1509 -- async-signal-safe: one prctl
            )
        except OSError as e:
            raise KgServeError(f"cannot start {self._program}: {e.strerror or e}") from None
        self.proc, self.port, self.killed_for = proc, port, None
        self.started_at = time.monotonic()
        self.tail.clear()
        threading.Thread(target=_drain, args=(proc.stderr, self.tail), daemon=True).start()
        if self.memory_limit:
            if self._watchdog is not None:
                self._watchdog.stop()
            over = functools.partial(self._over_memory, proc)
            self._watchdog = Watchdog(self.memory_limit, over, pid=proc.pid).start()
        _wait_ready(proc, INTERNAL_HOST, port, self.tail)
        if self._load is not None:
            try:
                self._load(INTERNAL_HOST, port)
            except BaseException:
                proc.kill()
                raise

    def _over_memory(self, proc: subprocess.Popen, used: int) -> None:
        """The watchdog's call: the child passed the memory limit, so it is killed (and the
        supervisor starts the next one)."""
        with self.lock:
            if proc is not self.proc or self.closing or self.killed_for is not None:
                return
            self.killed_for = (
                f"it used {used // MIB} MiB, over the memory limit of "
                f"{self.memory_limit // MIB} MiB (kg serve --memory-limit)"
            )
            self.generation += 1  # requests cut off from here on are told "restarting"
            proc.kill()

    def target(self) -> tuple[int, int]:
        """(generation, port) of the server to send the next request to; waits for a restart."""
        with self.lock:
            if self.failure is not None:
                raise self.failure
            if self.closing:
                raise KgServeError("kg serve is stopping")
            return self.generation, self.port

    def restart(self, generation: int) -> float | None:
        """Kill the server of `generation` and wait for the next one: the seconds that took, or
        None when that server is gone already (another request restarted it, or kg serve
        stops)."""
        with self.lock:
            if generation != self.generation or self.closing or self.failure is not None:
                return None
            if self.killed_for is not None:
                return None  # killed already (the memory watchdog)
            began = time.perf_counter()
            self.generation += 1  # first: requests cut off from here on are told "restarting"
            self.killed_for = "timeout"
            proc = self.proc
            proc.kill()
            while self.proc is proc and self.failure is None and not self.closing:
                self.changed.wait(0.5)
            if self.failure is not None or self.closing:
                return None
            return time.perf_counter() - began

    def supervise(self) -> None:
        """Start the server again each time it stops, and say why when a request did not ask
        for it; returns only by raising (a start that failed, or it keeps dying at once)."""
        quick_deaths = 0
        while True:
            proc = self.proc
            code = proc.wait()
            began = time.perf_counter()
            with self.lock:
                if self.closing:
                    return
                why = self.killed_for
                if why is None:  # died by itself: requests in flight get "restarting"
                    self.generation += 1
                    said = " | ".join(self.tail) or "no message"
                    why = f"it stopped by itself (exit {code}): {said}"
                lived = time.monotonic() - self.started_at
                quick_deaths = quick_deaths + 1 if lived < self.QUICK_DEATH_S else 0
                if quick_deaths >= self.GIVE_UP_AFTER:
                    self.failure = KgServeError(
                        f"the Oxigraph server stopped {quick_deaths} times in a row right "
                        f"after starting; last time {why}"
                    )
                    self.changed.notify_all()
                    raise self.failure
                try:
                    self.start()
                except KgServeError as e:
                    self.failure = e
                    if self.proc.poll() is None:
                        self.proc.kill()
                    self.changed.notify_all()
                    raise
                self.changed.notify_all()
            if why != "timeout":  # a timeout is told by the request that hit it
                took = time.perf_counter() - began
                self.out(
                    f"Oxigraph stopped: {why}; requests it was answering were cut off. "
                    f"Restarted in {took:.2f} s"
                )

    def stop(self) -> None:
        with self.lock:
            self.closing = True
            proc = self.proc
            self.changed.notify_all()
        if self._watchdog is not None:
            self._watchdog.stop()
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


def error_text(body: bytes) -> str:
    """An error answer of Oxigraph as passed on: one line, control characters escaped, and
    without what another server said (a SERVICE call's error quotes the remote answer: a
    page of an internal service must not come back through kg serve)."""
    from kg.query import printable

    text = body.decode("utf-8", "replace")
    head, sep, _ = text.partition(" with payload:")
    if sep:
        text = head + " (the remote answer is not shown)"
    text = printable(" ".join(text.split()))
    return text if len(text) <= 2000 else text[:1999] + "…"


class _RemotePayloadCut:
    """Finds where Oxigraph, already streaming an answer, writes a failed SERVICE call's error
    with the remote server's answer in it (`… returned by URL with payload: …`): what comes
    from there on is not passed on. Only with --allow-service (else no SERVICE runs)."""

    MARKER = b" with payload:"

    def __init__(self):
        self._tail = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(what may be passed on, whether the answer is cut here)."""
        seen = self._tail + data
        at = seen.find(self.MARKER)
        if at < 0:
            self._tail = seen[-len(self.MARKER) :]
            return data, False
        keep = max(at - len(self._tail), 0)
        return data[:keep] + b" (the remote answer is not shown)\n", True


class _ChunkDecoder:
    """The data of a chunked HTTP body (RFC 9112 7.1), decoded as the bytes come. Oxigraph sends
    results in chunks of about 1 KB: decoded one by one through http.client (a read, a re-chunk
    and a send per chunk) they cost the proxy 10-15 ms per MB, more than many queries take; here
    one pass over each piece read joins their data into one. Malformed framing raises
    ValueError."""

    def __init__(self):
        self._line = b""  # a size, CRLF or trailer line not complete yet
        self._left = 0  # data bytes of the current chunk still to come
        self._after_data = False  # the next line is the (empty) one that ends a chunk's data
        self._trailers = False  # the last chunk came: trailer lines until an empty one
        self.done = False

    def feed(self, raw: bytes) -> bytes:
        if self._line:  # the start of a line the last piece ended in
            raw, self._line = self._line + raw, b""
        out = []
        pos, end = 0, len(raw)
        while pos < end and not self.done:
            if self._left:
                take = min(self._left, end - pos)
                out.append(raw[pos : pos + take])
                pos += take
                self._left -= take
                self._after_data = not self._left
                continue
            if self._after_data and raw.startswith(b"\r\n", pos):  # the usual end of a chunk
                pos += 2
                self._after_data = False
                continue
            eol = raw.find(b"\n", pos)
            if eol < 0:
                if end - pos > PROXY_LINE:
                    raise ValueError("a chunk-size line of the answer is too long")
                self._line = raw[pos:]
                break
            line, pos = raw[pos:eol], eol + 1
            if self._after_data or self._trailers:
                if line.strip(b"\r"):
                    if self._after_data:
                        raise ValueError("a chunk of the answer is longer than its size says")
                    continue  # a trailer field: dropped
                self._after_data = False
                self.done = self._trailers
                continue
            try:
                size = _chunk_size(line)
            except _BadRequest as e:
                raise ValueError(str(e)) from None
            if size:
                self._left = size
            else:
                self._trailers = True
        return b"".join(out)


class _AnswerBody:
    """The body of Oxigraph's answer, read straight from its socket in pieces of up to
    PROXY_READ bytes: chunked (decoded), of a Content-Length, or until the connection closes."""

    def __init__(self, answer: http.client.HTTPResponse):
        self._fp = answer.fp  # the buffered socket, positioned after the head
        self._chunks = _ChunkDecoder() if answer.chunked else None
        self._left = None if answer.chunked else answer.length  # None: until closed

    def read(self) -> tuple[bytes, bool]:
        """(the next data, whether the body has ended). An answer cut short raises
        http.client.IncompleteRead."""
        want = PROXY_READ if self._left is None else min(PROXY_READ, self._left)
        raw = self._fp.read1(want) if want else b""
        if self._chunks is not None:
            if not raw:
                raise http.client.IncompleteRead(b"")
            return self._chunks.feed(raw), self._chunks.done
        if self._left is None:
            return raw, not raw
        if want and not raw:
            raise http.client.IncompleteRead(b"", self._left)
        self._left -= len(raw)
        return raw, not self._left


class _Deadline(Exception):
    """The request's time limit passed."""


class _ClientGone(Exception):
    """The client closed the connection (or sent something unreadable)."""


class _ClientLate(_Deadline):
    """The time limit passed while waiting for the client (reading its request, or writing
    the answer to it): the client is slow, not the query."""


class _UpstreamGone(Exception):
    """The connection to Oxigraph failed."""


class _BadRequest(Exception):
    """The request cannot be read as HTTP (a malformed chunk size)."""


_CHUNK_SIZE = re.compile(rb"\s*([0-9A-Fa-f]{1,15})\s*(?:;.*)?", re.DOTALL)


def _chunk_size(line: bytes) -> int:
    """The size a chunk-size line gives (RFC 9112 7.1: hex digits, then extensions)."""
    m = _CHUNK_SIZE.fullmatch(line)
    if m is None:
        raise _BadRequest(f"bad chunk size {line.split(b';')[0].strip()[:20]!r}")
    return int(m.group(1), 16)


class _ProxyHandler(BaseHTTPRequestHandler):
    """Passes each request on to Oxigraph and its answer back, within `limit_s` seconds."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Oxigraph itself offers
    server_version = "kg-serve"
    timeout = PROXY_IDLE_S  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # else a head and a body sent apart wait 40 ms (delayed ACK)
    oxigraph: _Oxigraph
    policy: Policy
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
            raise (_ClientLate if gone is _ClientGone else _Deadline) from None
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
            self.wfile.flush()
            self._linger()

    def _linger(self) -> None:
        """Close gently: stop writing, then read and drop what the client still sends, for a
        moment. Closed with unread data, the socket would send a reset, and a client still
        sending its body (a refused big query) would lose the answer that says why."""
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(LINGER_S)
        left = LINGER_BYTES
        while left > 0:
            data = self.connection.recv(min(left, PROXY_CHUNK))
            if not data:
                return
            left -= len(data)

    def _headers_to_send(self) -> list[tuple[str, str]]:
        named = {
            t.strip().lower() for t in self.headers.get("Connection", "").split(",") if t.strip()
        }
        return [
            (k, v)
            for k, v in self.headers.items()
            if k.lower() not in _HOP_BY_HOP and k.lower() not in named
        ]

    def _admit(self, deadline: float) -> bytes | None:
        """Apply the request policy (kg.serve_guard) before anything reaches Oxigraph. A query
        POST is read whole (it is small: MAX_QUERY_BYTES) to be checked; its body is returned,
        to be sent on as it is. Raises Refusal."""
        path = urllib.parse.urlsplit(self.path).path
        self.policy.check_host(self.headers.get("Host"))
        self.policy.check_site(path, self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site"))
        for text in query_of_url(self.path):
            self.policy.check_query(text)
        if self.command != "POST" or path != QUERY_PATH:
            return None
        framing = self._request_framing()
        if framing is None:
            raise Refusal(400, "bad request: a Content-Length that is not one number")
        length, chunked = framing
        if length is not None and length > MAX_QUERY_BYTES:
            raise Refusal(413, f"a query of more than {MAX_QUERY_BYTES} bytes is refused")
        body = bytearray()
        for piece in self._request_body(length, chunked, deadline, raw=True):
            body += piece
            if len(body) > MAX_QUERY_BYTES:
                raise Refusal(413, f"a query of more than {MAX_QUERY_BYTES} bytes is refused")
        for text in queries_of_body(self.headers.get("Content-Type", ""), bytes(body)):
            self.policy.check_query(text)
        return bytes(body)

    def _proxy(self) -> None:
        deadline = time.monotonic() + self.limit_s
        if self.request_version != "HTTP/1.1":
            self.close_connection = True  # HTTP/1.0 keep-alive is not worth the care
        if _writes(self.command, self.path):  # the child's in-memory store would take them
            self._plain(403, "kg serve is read-only: updates are refused")
            return
        try:
            checked_body = self._admit(deadline)
        except Refusal as e:
            self._plain(e.status, e.reason)
            return
        except _BadRequest as e:
            self._plain(400, f"bad request: {e}")
            return
        except (_Deadline, _ClientGone):
            self.close_connection = True
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
                self._plain(400, "bad request: a Content-Length that is not one number")
                return
            length, chunked = framing
            if checked_body is not None:
                length, chunked = len(checked_body), False
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
            pieces = (
                [checked_body]
                if checked_body is not None
                else self._request_body(length, chunked, deadline)
            )
            for piece in pieces:
                with self._io(up, deadline, _UpstreamGone):
                    up.sendall(piece)
            request_sent = True
            # The answer: status and headers, then the body as it comes.
            with self._io(up, deadline, _UpstreamGone):
                answer = upstream.getresponse()
            if answer.status >= 400 and not self._bodyless(answer):
                with self._io(up, deadline, _UpstreamGone):
                    said = answer.read(ERROR_BODY_BYTES)
                answered = True
                self._plain(answer.status, error_text(said))
                return
            self._send_head(answer, deadline)
            headers_sent = True
            if self._bodyless(answer):
                answered = True
                return
            reframe = answer.chunked or answer.length is None
            scan = _RemotePayloadCut() if self.policy.allow_service else None
            body = _AnswerBody(answer)
            done = False
            while not done:
                with self._io(up, deadline, _UpstreamGone):
                    data, done = body.read()
                if not data:
                    continue
                if scan is not None:
                    data, cut = scan.feed(data)
                    if cut:  # the answer is broken anyway: end it where the quote begins
                        if reframe and not self.close_connection:
                            data = b"%x\r\n%b\r\n" % (len(data), data)
                        self.close_connection = True
                        with self._io(client, deadline, _ClientGone):
                            self.wfile.write(data)
                            self.wfile.flush()
                        answered = True
                        with contextlib.suppress(OSError):
                            client.shutdown(socket.SHUT_RDWR)
                        return
                if reframe and not self.close_connection:
                    data = b"%x\r\n%b\r\n" % (len(data), data)
                with self._io(client, deadline, _ClientGone):
                    self.wfile.write(data)
            answered = True
            if reframe and not self.close_connection:
                with self._io(client, deadline, _ClientGone):
                    self.wfile.write(b"0\r\n\r\n")
        except _ClientLate:
            # The client, not Oxigraph, was slow (it stopped reading a big answer): closing the
            # connection to Oxigraph stops a streaming answer; other requests go on untouched.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        except _Deadline:
            self._stopped(generation, headers_sent, restart=request_sent and not answered)
        except _UpstreamGone as e:
            if headers_sent:
                self.close_connection = True
            elif generation != self.oxigraph.generation:
                self._plain(
                    503,
                    "the Oxigraph server is restarting (a query passed the time or memory limit "
                    "of kg serve, or it stopped): try again",
                )
            else:
                self._plain(502, f"the Oxigraph server did not answer: {e}")
        except _ClientGone:
            self.close_connection = True
        except _BadRequest as e:
            if not headers_sent:
                self._plain(400, f"bad request: {e}")
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
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if len(lengths) > 1:
            return None  # two different lengths (RFC 9112 6.3: a 400)
        length = next(iter(lengths), None)
        if length is None:
            return None, False
        try:
            n = int(length)
        except ValueError:
            n = -1
        return (n, False) if n >= 0 else None

    def _request_body(self, length: int | None, chunked: bool, deadline: float, raw=False):
        """The request body as it is to be sent on, in pieces of at most PROXY_CHUNK bytes:
        a chunked body is re-chunked as it comes (never one whole chunk in memory), or, with
        `raw`, its data only. A malformed chunk-size line raises _BadRequest."""
        client = self.connection
        if chunked:
            while True:
                with self._io(client, deadline, _ClientGone):
                    line = self.rfile.readline(PROXY_LINE)
                size = _chunk_size(line)
                if size == 0:
                    with self._io(client, deadline, _ClientGone):
                        while self.rfile.readline(PROXY_LINE) not in (b"\r\n", b"\n", b""):
                            pass  # trailers: dropped
                    if not raw:
                        yield b"0\r\n\r\n"
                    return
                for data in self._exactly(size, deadline):
                    yield data if raw else b"%x\r\n%b\r\n" % (len(data), data)
                with self._io(client, deadline, _ClientGone):
                    if self.rfile.readline(PROXY_LINE).strip():
                        raise _BadRequest("a chunk longer than its size line says")
        elif length:
            yield from self._exactly(length, deadline)

    def _exactly(self, length: int, deadline: float):
        left = length
        while left:
            with self._io(self.connection, deadline, _ClientGone):
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
            if k.lower() in _HOP_BY_HOP or k.lower() in named:
                continue
            if k.lower().startswith("access-control-"):
                continue  # no CORS: pages of other sites must not read the answers
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


def _proxy_server(
    host: str, port: int, oxigraph: _Oxigraph, limit_s: int, out: Print, policy: Policy
):
    settings = {
        "oxigraph": oxigraph,
        "limit_s": limit_s,
        "out": staticmethod(out),
        "policy": policy,
    }
    handler = type("Handler", (_TimedHead, _ProxyHandler), settings)
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
    allow_service: bool = False,
    memory_limit_mib: int | None = None,
    out: Print = print,
    notify: Callable[[str], None] | None = None,
) -> int:
    """Serve the build read-only until Ctrl-C or SIGTERM; returns the exit code (0).

    `memory_limit_mib` bounds the Oxigraph server's resident memory (default: a quarter of the
    machine's, kg.memory.default_limit_mib); past it the server is killed and started again.
    """
    started = time.perf_counter()
    if not 1 <= port <= 65535:
        raise KgServeError(f"--port must be between 1 and 65535, not {port}")
    if pages_port is None:
        pages_port = port + 1 if port < 65535 else 0
    if not 0 <= pages_port <= 65535 or pages_port == port:
        raise KgServeError(f"--pages-port must be a free port other than --port, not {pages_port}")
    if not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise KgServeError(
            f"--timeout must be between 1 and {MAX_TIMEOUT_S} seconds (a day), not {timeout_s}"
        )
    if memory_limit_mib is None:
        memory_limit_mib = default_limit_mib()
    if memory_limit_mib < MIN_MEMORY_MIB:
        raise KgServeError(
            f"--memory-limit must be at least {MIN_MEMORY_MIB} MiB, not {memory_limit_mib}"
        )
    program = oxigraph_program()
    with _one_preparer(project):
        data = served_data(project, notify=notify)
    queries = list_queries(
        project, broken=lambda e: out(f"WARNING: {e}: left out of the stored-queries page")
    )
    base = f"http://{_url_host(host)}:{port}"
    urls_editor, urls_endpoint = f"{base}/", f"{base}/query"
    from kg import cypher

    try:
        cypher_queries = cypher.list_queries(project)
    except KgError as e:  # a broken .cypher header must not stop the SPARQL server
        out(f"WARNING: {e}: the Cypher questions are left out of the stored-queries page")
        cypher_queries = []
    page = queries_page(
        queries,
        editor=urls_editor,
        endpoint=urls_endpoint,
        title=project.root.name,
        cypher=cypher_queries,
    )
    page_file = project.build_dir / PAGES_DIR / "queries.html"
    with contextlib.suppress(OSError):  # a copy for offline use; serving does not need it
        page_file.parent.mkdir(parents=True, exist_ok=True)
        page_file.write_text(page, encoding="utf-8")

    def command(bind: str) -> list[str]:
        return data.command(program, bind)

    oxigraph = _Oxigraph(
        command, program, load=data.load, memory_limit=memory_limit_mib * MIB, out=out
    )
    policy = Policy(host, port, allow_service=allow_service)
    try:
        proxy = _proxy_server(host, port, oxigraph, timeout_s, out, policy)
    except BaseException:
        data.close()
        raise
    try:
        from kg.report_files import ReportFiles

        report = ReportFiles(project, urls_editor)
        pages = _pages_server(host, pages_port, page.encode("utf-8"), report)
    except BaseException:
        proxy.server_close()
        data.close()
        raise
    urls = ServeUrls(
        editor=urls_editor,
        endpoint=urls_endpoint,
        store=f"{base}/store?graph=IRI",
        queries=f"http://{_url_host(host)}:{pages.server_address[1]}/queries.html",
    )
    report_url = f"http://{_url_host(host)}:{pages.server_address[1]}/"
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
            f"  report:            {report_url} (kg report: article, timeline, network …)\n"
            f"Ready in {time.perf_counter() - started:.2f} s. Updates are refused (HTTP 403); "
            f"a request still running after {timeout_s} s is stopped, and the server "
            f"restarted above {memory_limit_mib} MiB. Ctrl-C stops."
        )
        for line in exposure_warning(host, port, pages.server_address[1]):
            out(line)
        oxigraph.supervise()  # returns only by raising: the server cannot be kept running
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
