"""`kg serve`: the build through the real Oxigraph server, read-only, with its YASGUI editor,
the stored-queries page, and a headless Chromium that runs a stored question in the editor;
all of it through kg's proxy, which stops a query at --timeout by restarting Oxigraph."""

from __future__ import annotations

import html
import os
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.client import HTTPConnection, IncompleteRead
from pathlib import Path

import browser as browser_flags
import pytest
from servers import HOST, copy_built, editor_query, free_port, http, kg_command, port_closed

from kg.project import locate
from kg.query import execute, find_query, list_queries, open_store
from kg.serve import editor_text

START_BOUND_S = 5.0  # generous: measured about 0.2-0.3 s on the seed graph


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    pages_port: int
    ready_s: float  # wall time from launch to the "Ready" line
    answer_s: float  # wall time from launch to the first SPARQL answer
    lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pages(self) -> str:
        return f"http://{HOST}:{self.pages_port}/queries.html"

    def stop(self) -> tuple[int, str]:
        """SIGINT, as Ctrl-C sends; the exit code and what it printed after."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=15)
        return self.proc.returncode, out


def _ask(base: str) -> int:
    return http(
        "POST",
        f"{base}/query",
        b"ASK { ?s ?p ?o }",
        {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
    )[0]


def start_serve(project_dir: Path, *options: str) -> Served:
    port, pages_port = free_port(), free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*kg_command(), "serve", "--port", str(port), "--pages-port", str(pages_port), *options],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read():
        for line in iter(proc.stdout.readline, ""):
            lines.put(line.rstrip("\n"))
            if line.startswith("Ready"):
                return  # the rest is read by communicate() when stopping
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    while True:
        line = lines.get(timeout=30)
        if line is None:
            proc.kill()
            raise AssertionError("kg serve ended before it was ready:\n" + "\n".join(seen))
        seen.append(line)
        if line.startswith("Ready"):
            break
    ready = time.perf_counter() - started
    base = f"http://{HOST}:{port}"
    while _ask(base) != 200:  # pragma: no cover - it answers at once once ready
        time.sleep(0.01)
    return Served(proc, port, pages_port, ready, time.perf_counter() - started, seen)


@pytest.fixture(scope="module")
def project_dir(built, tmp_path_factory) -> Path:
    return copy_built(built.project.root, tmp_path_factory.mktemp("serve-project"))


@pytest.fixture(scope="module")
def served(project_dir):
    server = start_serve(project_dir)
    yield server
    server.stop()


def test_serve_starts_fast_answers_and_stops_cleanly_on_sigint(built, tmp_path):
    project_dir = copy_built(built.project.root, tmp_path / "project")
    figures = []
    for run in ("first start", "second start"):
        server = start_serve(project_dir)
        try:
            figures.append(
                f"{run}: ready {server.ready_s:.2f} s, answering {server.answer_s:.2f} s"
            )
            assert server.answer_s < START_BOUND_S, figures[-1]
            assert _ask(server.base) == 200
            text = "\n".join(server.lines)
            assert f"{built.manifest['dataset']['quads']} triples (loaded into memory in" in text
            for url in (f"{server.base}/", f"{server.base}/query", server.pages):
                assert url in text
        finally:
            code, rest = server.stop()
        assert code == 0 and "Stopped." in rest
        assert port_closed(server.port) and port_closed(server.pages_port)
    print("kg serve on the seed graph: " + "; ".join(figures))


def test_answers_sparql_with_the_union_of_the_graphs(served, built, project_dir, run_kg):
    rows = http(
        "POST",
        f"{served.base}/query",
        b"SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
        {"Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )
    assert (
        rows[0] == 200
        and rows[1].split()[-1] == str(sum(built.manifest["graphs"].values())).encode()
    )
    local = run_kg("query", "us-demands", cwd=project_dir)
    remote = run_kg("query", "us-demands", "--endpoint", f"{served.base}/query", cwd=project_dir)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and "(6 rows)" in remote.stdout


def test_serves_the_query_editor_and_graph_store_reads(served, built):
    status, page = http("GET", f"{served.base}/")
    assert status == 200 and b"yasgui" in page.lower()
    status, script = http("GET", f"{served.base}/yasgui.min.js")
    assert status == 200 and len(script) > 100_000  # from the binary itself: works offline
    ontology = "https://w3id.org/oman-talks/graph/ontology"
    status, body = http(
        "GET", f"{served.base}/store?graph={ontology}", None, {"Accept": "application/n-triples"}
    )
    assert status == 200
    assert body.count(b"\n") == built.manifest["graphs"][ontology]


def test_refuses_every_update(served, built, project_dir, run_kg):
    graph = "https://w3id.org/oman-talks/graph/ontology"
    triple = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> ."
    attempts = [
        ("POST", "/update", b"CLEAR ALL", {"Content-Type": "application/sparql-update"}),
        ("PUT", f"/store?graph={graph}", triple, {"Content-Type": "application/n-triples"}),
        ("POST", f"/store?graph={graph}", triple, {"Content-Type": "application/n-triples"}),
        ("DELETE", f"/store?graph={graph}", None, {}),
        # the store is in the server's memory and writable: the proxy refuses every other way
        ("POST", "/", triple, {"Content-Type": "application/n-triples"}),
        ("POST", "/store", triple, {"Content-Type": "application/n-triples"}),
        ("PATCH", "/store", triple, {"Content-Type": "application/n-triples"}),
        ("POST", "/update?x=/query", b"CLEAR ALL", {"Content-Type": "application/sparql-update"}),
    ]
    for method, path, body, headers in attempts:
        assert http(method, served.base + path, body, headers)[0] == 403, (method, path)
    r = run_kg("load", "--endpoint", f"{served.base}/store", cwd=project_dir)
    assert r.returncode == 2 and "HTTP 403" in r.stderr and "read-only" in r.stderr
    status, body = http(
        "GET", f"{served.base}/store?graph={graph}", None, {"Accept": "application/n-triples"}
    )
    assert body.count(b"\n") == built.manifest["graphs"][graph]  # nothing changed


def _links(page: str) -> dict[str, str]:
    found = re.findall(r'<a class="query" data-query="([^"]+)" href="([^"]+)"', page)
    return {html.unescape(name): html.unescape(href) for name, href in found}


def test_the_stored_queries_page_opens_every_question_in_the_editor(served, project_dir):
    status, body = http("GET", served.pages)
    assert status == 200
    page = body.decode("utf-8")
    queries = list_queries(locate(project_dir))
    links = _links(page)
    assert sorted(links) == [q.name for q in queries] and len(links) == 17
    for q in queries:
        assert html.escape(q.question) in page
        assert links[q.name].startswith(f"{served.base}/#")
        assert editor_query(links[q.name]) == editor_text(q)
        assert (
            f"endpoint={served.base}/query".replace(":", "%3A").replace("/", "%2F") in links[q.name]
        )
    assert "VALUES (?node) { (<https://w3id.org/oman-talks/id/talks-2026-02-06>) }" in editor_text(
        find_query(locate(project_dir), "evidence")
    )
    saved = (project_dir / "build" / "serve" / "queries.html").read_text(encoding="utf-8")
    assert saved == page


def test_the_stored_queries_page_lists_the_cypher_questions(served, project_dir):
    from kg import cypher

    page = http("GET", served.pages)[1].decode("utf-8")
    twins = cypher.list_queries(locate(project_dir))
    assert len(twins) >= 17  # a twin per SPARQL question, and the Cypher-only ones
    for q in twins:
        assert f'id="cypher-{q.name}"' in page and html.escape(q.text) in page
        assert f"<code>kg cypher {q.name}" in page
    assert "<code>kg cypher evidence --param node=…</code>" in page


def test_browser_runs_a_stored_question_from_the_page(
    chromium, served, built, project_dir, tmp_path
):
    from playwright import sync_api  # in the test extra

    project = locate(project_dir)
    store = open_store(built.dataset)
    cases = {
        # question: (parameters of its example, a value the article's answer holds)
        "participants": ({}, "https://w3id.org/oman-talks/id/araghchi"),
        "evidence": ({"node": "talks-2026-02-06"}, "2月6日,美国和伊朗的阿曼谈判落下帷幕"),
    }
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=str(chromium),
            headless=True,
            args=browser_flags.FLAGS,
        )
        try:
            page = browser.new_page()
            for name, (params, expected) in cases.items():
                page.goto(served.pages)
                assert page.locator("a.query").count() == 17
                page.click(f"a.query[data-query={name}]")
                editor = ".tabPanel.active .CodeMirror"
                page.wait_for_selector(editor, timeout=15_000)
                shown = page.evaluate(
                    f"() => document.querySelector('{editor}').CodeMirror.getValue()"
                )
                assert shown == editor_text(find_query(project, name))
                page.click(".tabPanel.active .yasqe_queryButton")
                rows = page.locator(".tabPanel.active .yasr table tbody tr")
                rows.first.wait_for(timeout=15_000)
                local = execute(store, find_query(project, name), params)
                assert rows.count() == len(local.rows)
                assert expected in page.inner_text(".tabPanel.active .yasr table")
                page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
                assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        finally:
            browser.close()


# --- the time limit: a query still running at --timeout is stopped, Oxigraph restarted ---------

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ENDLESS_STREAM = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # rows from the start


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc/*/stat)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _post_query(base: str, query: str) -> tuple[int, bytes, float]:
    began = time.perf_counter()
    status, body = http(
        "POST",
        f"{base}/query",
        query.encode("utf-8"),
        {"Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )
    return status, body, time.perf_counter() - began


def _gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not Path(f"/proc/{pid}").exists()


def test_the_oxigraph_server_keeps_no_thread_per_query(served):
    """Oxigraph's own --timeout-s kept a thread per query, asleep for the whole timeout: under
    a few hundred queries a second it piled up thousands of threads and aborted when it could
    spawn no more (found by benchmarks/loadtest.py, 8 clients at 10k triples)."""
    [child] = children(served.proc.pid)
    for _ in range(300):
        status, body, _ = _post_query(served.base, "ASK { ?s ?p ?o }")
        assert status == 200, body
    threads = len(list(Path(f"/proc/{child}/task").iterdir()))
    assert threads < 50, f"{threads} threads in the Oxigraph server after 300 queries"


def test_a_runaway_query_is_stopped_at_the_timeout_and_the_server_goes_on(project_dir, run_kg):
    server = start_serve(project_dir, "--timeout", "2")
    try:
        [first] = children(server.proc.pid)
        # A second runaway query, in flight when the first one's limit passes: cut off by the
        # restart, it is told so at once.
        second: queue.Queue = queue.Queue()

        def later():
            time.sleep(0.5)
            second.put(_post_query(server.base, RUNAWAY.replace("?l }", "?l . ?m ?n ?o }")))

        threading.Thread(target=later, daemon=True).start()
        status, body, took = _post_query(server.base, RUNAWAY)
        assert status == 503 and took < 5, (status, body, took)
        assert body == b"query stopped after 2 s (kg serve --timeout)\n"
        status, body, took = second.get(timeout=10)
        assert status == 503 and b"restarting" in body and took < 3, (status, body, took)
        # Its memory and CPU are released: that Oxigraph process is gone, a new one serves.
        assert _gone(first), f"the Oxigraph process {first} still runs"
        assert _ask(server.base) == 200
        [restarted] = children(server.proc.pid)
        assert restarted != first
        local = run_kg("query", "us-demands", cwd=project_dir)
        endpoint = f"{server.base}/query"
        remote = run_kg("query", "us-demands", "--endpoint", endpoint, cwd=project_dir)
        assert remote.returncode == 0, remote.stderr
        assert remote.stdout == local.stdout and "(6 rows)" in remote.stdout

        # An answer already streaming at the limit is cut off: the connection is closed.
        conn = HTTPConnection(HOST, server.port, timeout=30)
        began = time.perf_counter()
        conn.request(
            "POST", "/query", ENDLESS_STREAM.encode(), {"Content-Type": "application/sparql-query"}
        )
        answer = conn.getresponse()
        assert answer.status == 200
        with pytest.raises(IncompleteRead):
            while answer.read(1 << 20):
                pass  # chunked: ends without its last chunk
        assert time.perf_counter() - began < 5
        conn.close()
        assert _gone(restarted), f"the Oxigraph process {restarted} still runs"
        assert _ask(server.base) == 200  # waits for the restart, if it is not done yet
        [again] = children(server.proc.pid)
        assert again != restarted
    finally:
        code, rest = server.stop()
    assert code == 0, rest
    stopped = [line for line in rest.splitlines() if line.startswith("Stopped POST /query")]
    assert len(stopped) == 2, rest  # one line per stopped query; the one cut off is not one
    assert all(
        "from 127.0.0.1 after 2 s (--timeout); Oxigraph restarted in" in line for line in stopped
    )
