"""`kg serve`: the built graph through the Oxigraph SPARQL server, read-only, with a page that
opens every stored question in the server's query editor.

The store lives in build/oxigraph/ and is loaded again only when build/dataset.nq changed
(build/oxigraph.json records which dataset it holds). It is loaded in this process with
pyoxigraph's bulk loader and closed before the server opens it, so no two processes ever hold
its lock. The server is `oxigraph serve-read-only` (SPARQL 1.1 Protocol at /query, Graph Store
reads at /store, the YASGUI editor at /, updates refused with 403) with the union of the named
graphs as its default graph, as the stored queries expect. Oxigraph serves no extra files, so
the page of stored queries (also written to build/serve/queries.html) comes from a tiny
http.server on a second port. Ctrl-C (SIGINT) or SIGTERM stops both and exits 0.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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
STORE_DIR = "oxigraph"  # build/oxigraph/: the server's store
STORE_STAMP = "oxigraph.json"  # build/oxigraph.json: the dataset the store holds
PAGES_DIR = "serve"  # build/serve/queries.html
READY_WITHIN_S = 10.0
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
class PreparedStore:
    location: Path
    quads: int
    loaded: bool  # False when the existing store was reused
    seconds: float


def _read_stamp(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def prepare_store(project: Project, *, notify: Callable[[str], None] | None = None):
    """The server's store for the current build: reused when it holds this very dataset,
    else bulk-loaded into a new directory that then replaces the old one."""
    from pyoxigraph import RdfFormat, Store

    started = time.perf_counter()
    built = ensure_built(project, notify=notify)
    digest = built.manifest["dataset"]["sha256"]
    quads = int(built.manifest["dataset"].get("quads", 0))
    location = project.build_dir / STORE_DIR
    stamp = project.build_dir / STORE_STAMP
    if _read_stamp(stamp).get("dataset_sha256") == digest and (location / "CURRENT").is_file():
        return PreparedStore(location, quads, False, time.perf_counter() - started)
    try:
        fresh = Path(tempfile.mkdtemp(dir=project.build_dir, prefix=".oxigraph-"))
    except OSError as e:
        raise KgServeError(f"cannot write the store under {project.build_dir}: {e}") from None
    try:
        store = Store(str(fresh))
        store.bulk_load(built.dataset, RdfFormat.N_QUADS)
        store.flush()
        del store  # closes the database, which frees its lock for the server
        gc.collect()
        stamp.unlink(missing_ok=True)  # never a stamp that vouches for a half-replaced store
        if location.exists():
            old = location.with_name(f".oxigraph-old-{os.getpid()}")
            location.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        fresh.rename(location)
        record = {"dataset_sha256": digest, "quads": quads}
        stamp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        shutil.rmtree(fresh, ignore_errors=True)
        raise KgServeError(f"cannot write the store {location}: {e}") from None
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return PreparedStore(location, quads, True, time.perf_counter() - started)


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


class _PagesServer(ThreadingHTTPServer):
    daemon_threads = True


def _pages_server(host: str, port: int, page: bytes) -> _PagesServer:
    handler = type("Handler", (_PageHandler,), {"page": page})
    server_class = _PagesServer
    if ":" in host:
        server_class = type("PagesServer6", (_PagesServer,), {"address_family": socket.AF_INET6})
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


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        # As the server will: connections still in TIME_WAIT do not make the port busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise KgServeError(
                f"cannot listen on {host}:{port}: {e.strerror or e} (choose another with --port)"
            ) from None


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
    program = oxigraph_program()
    prepared = prepare_store(project, notify=notify)
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
    _check_port_free(host, port)
    pages = _pages_server(host, pages_port, page.encode("utf-8"))
    urls = ServeUrls(
        editor=urls_editor,
        endpoint=urls_endpoint,
        store=f"{base}/store?graph=IRI",
        queries=f"http://{_url_host(host)}:{pages.server_address[1]}/",
    )
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [
        program, "serve-read-only", "--location", str(prepared.location), "--bind", bind,
        "--union-default-graph", "--timeout-s", str(timeout_s),
    ]  # fmt: skip
    proc: subprocess.Popen | None = None
    serving = False
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _stop(signum, frame):
        # Ctrl-C, `kill -INT` (even where a shell started us with SIGINT ignored) and SIGTERM
        # all stop the same way.
        raise KeyboardInterrupt

    try:
        for sig in previous:
            signal.signal(sig, _stop)
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as e:
            raise KgServeError(f"cannot start {program}: {e.strerror or e}") from None
        tail: collections.deque[str] = collections.deque(maxlen=20)
        threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True).start()
        threading.Thread(target=pages.serve_forever, args=(0.05,), daemon=True).start()
        serving = True
        _wait_ready(proc, host, port, tail)
        store_note = (
            f"loaded into {project.rel(prepared.location)}/ in {prepared.seconds:.2f} s"
            if prepared.loaded
            else f"{project.rel(prepared.location)}/ reused"
        )
        out(
            f"Serving {project.root} read-only with Oxigraph: {prepared.quads} triples "
            f"({store_note})\n"
            f"  query editor:      {urls.editor}\n"
            f"  SPARQL endpoint:   {urls.endpoint}\n"
            f"  graph store:       {urls.store} (reads only)\n"
            f"  stored queries:    {urls.queries} ({len(queries)} questions, one click each)\n"
            f"Ready in {time.perf_counter() - started:.2f} s. Updates are refused (HTTP 403). "
            "Ctrl-C stops."
        )
        code = proc.wait()
        said = " | ".join(tail) or "no message"
        raise KgServeError(f"the Oxigraph server stopped (exit {code}): {said}")
    except KeyboardInterrupt:
        out("Stopped.")
        return EXIT_OK
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if serving:
            pages.shutdown()
        pages.server_close()
