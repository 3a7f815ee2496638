"""`kg load` into a real Oxigraph server, `kg query --endpoint` against it, and the failures:
unreachable, refused credentials, server errors, retries, a server killed in the middle."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import HOST, Oxigraph, copy_built, free_port, kg_command

from kg import namespaces as ns
from kg.project import locate
from kg.query import execute, find_query, open_store
from kg.store import load, run_remote

ROOT = Path(__file__).resolve().parent.parent
QUERY_NAMES = sorted(p.stem for p in (ROOT / "queries").glob("*.rq"))
# Parameters for the stored queries that take some (one row, and several rows).
PARAMS = {"evidence": [{"node": "us-demand-abandon-nuclear"}, {"node": "talks-2026-02-06"}]}
USER, PASSWORD, TOKEN = "alice", "s3cret-Pa55word", "tok-9f8e7d6c5b4a"
SECRETS = (PASSWORD, TOKEN, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())


def short(iri: str) -> str:
    return iri.removeprefix(ns.GRAPH_BASE)


@pytest.fixture(scope="module")
def project_dir(built, tmp_path_factory) -> Path:
    """A private copy of the session build (sources, queries, build/)."""
    return copy_built(built.project.root, tmp_path_factory.mktemp("load-project"))


@pytest.fixture(scope="module")
def graphs(built) -> dict[str, int]:
    """Triples per named graph, as the build counted them."""
    return dict(built.manifest["graphs"])


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """The environment without endpoint credentials and without the user's netrc."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_ENDPOINT_")}
    env["NETRC"] = str(tmp_path / "no-netrc")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def kg(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*kg_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory):
    server = Oxigraph(tmp_path_factory.mktemp("oxigraph-store")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def loaded(oxigraph, project_dir):
    """The module's Oxigraph server with the build loaded (through the library)."""
    report = load(locate(project_dir), oxigraph.store_url, env={"NETRC": "/nonexistent"})
    assert report.exit_code == 0, report.render_text()
    return oxigraph


# ----------------------------------------------------------------------------- against Oxigraph


def test_load_replaces_every_graph_and_verifies_the_values(
    tmp_path, project_dir, graphs, clean_env
):
    server = Oxigraph(tmp_path / "store").start()
    try:
        started = time.perf_counter()
        first = kg("load", "--endpoint", server.store_url, cwd=project_dir, env=clean_env)
        seconds = time.perf_counter() - started
        assert first.returncode == 0, first.stderr
        for iri, n in graphs.items():
            assert re.search(
                rf"{re.escape(iri)}\s+{n}\s+\d+\s+replaced, {n} read back: same values",
                first.stdout,
            )
        assert f"Replaced {len(graphs)} of {len(graphs)}" in first.stdout
        assert "Verified: every graph, read back from the store, holds the build's" in first.stdout
        assert server.counts() == graphs
        # PUT replaces: a second load leaves the same store, no triple twice.
        second = kg("load", "--endpoint", server.store_url, cwd=project_dir, env=clean_env)
        assert second.returncode == 0, second.stderr
        assert server.counts() == graphs
        total = server.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert int(total[0]["n"]) == sum(graphs.values())
        print(f"kg load of the seed build: {seconds:.2f} s wall (CLI, first load)")
    finally:
        server.stop()


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_stored_query_gives_the_same_answers_remotely(name, loaded, built, project_dir):
    project = locate(project_dir)
    store = open_store(built.dataset)
    for params in PARAMS.get(name, [{}]):
        local = execute(store, find_query(project, name), params)
        remote = run_remote(
            project, name, params, endpoint=loaded.query_url, env={"NETRC": "/nonexistent"}
        )
        assert remote.columns == local.columns

        def rows(result):
            return sorted(tuple((c.iri, c.text, c.bound) for c in row) for row in result.rows)

        assert rows(remote) == rows(local), (name, params)
        assert remote.rows, f"{name} {params}: no rows, the comparison proves little"
        assert remote.notes == local.notes


def test_query_command_with_endpoint_prints_what_the_local_one_prints(
    loaded, project_dir, clean_env
):
    for args in (
        ["evidence", "--param", "node=talks-2026-02-06", "--format", "json"],
        ["participants", "--lang", "zh"],
    ):
        here = kg("query", *args, cwd=project_dir, env=clean_env)
        there = kg("query", *args, "--endpoint", loaded.query_url, cwd=project_dir, env=clean_env)
        assert there.returncode == 0, there.stderr
        assert there.stdout == here.stdout
    typo = kg(
        "query", "evidence", "--param", "node=talks-2026-02-07", "--endpoint", loaded.query_url,
        cwd=project_dir, env=clean_env,
    )  # fmt: skip
    assert typo.returncode == 0
    assert "kgr:talks-2026-02-07 (--param node) does not occur in the graph" in typo.stderr


def test_unreachable_endpoint_exits_2_and_says_so(project_dir, graphs, clean_env):
    url = f"http://{HOST}:{free_port()}/store"
    r = kg("load", "--endpoint", url, cwd=project_dir, env=clean_env)
    assert r.returncode == 2
    assert "cannot reach" in r.stderr and "connection refused" in r.stderr
    assert f"Replaced 0 of {len(graphs)}: none." in r.stdout
    assert "Not replaced: " + ", ".join(short(g) for g in graphs) in r.stdout
    assert "Traceback" not in r.stderr
    q = kg(
        "query",
        "talks",
        "--endpoint",
        url.replace("/store", "/query"),
        cwd=project_dir,
        env=clean_env,
    )
    assert q.returncode == 2 and "connection refused" in q.stderr


# ----------------------------------------------------------------------------- scripted failures


class FakeStore:
    """A tiny Graph Store + SPARQL endpoint whose PUT answers follow a script.

    `put(n, iri)` gives the status of the n-th PUT (1-based), or ("slow", seconds) to answer
    late. Successful PUTs are kept, and the COUNT query is answered from them. Every request's
    method, graph and Authorization header is recorded.
    """

    def __init__(self, put=lambda n, iri: 201, error_body=None):
        self.put = put
        self.error_body = error_body or (lambda auth: b"no")
        self.requests: list[tuple[str, str | None, str | None]] = []
        self.graphs: dict[str, bytes] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _reply(self, status: int, body: bytes, ctype="text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):  # noqa: N802
                from urllib.parse import parse_qs, urlsplit

                body = self._body()
                iri = parse_qs(urlsplit(self.path).query)["graph"][0]
                auth = self.headers.get("Authorization")
                fake.requests.append(("PUT", iri, auth))
                status = fake.put(sum(1 for r in fake.requests if r[0] == "PUT"), iri)
                if isinstance(status, tuple):
                    time.sleep(status[1])
                    status = 201
                if 200 <= status < 300:
                    fake.graphs[iri] = body
                    self._reply(status, b"")
                else:
                    self._reply(status, fake.error_body(auth))

            def do_GET(self):  # noqa: N802 -- a graph read back after the load
                from urllib.parse import parse_qs, urlsplit

                iri = parse_qs(urlsplit(self.path).query)["graph"][0]
                fake.requests.append(("GET", iri, self.headers.get("Authorization")))
                if iri in fake.graphs:
                    self._reply(200, fake.graphs[iri], "application/n-triples")
                else:
                    self._reply(404, b"no such graph")

            def do_POST(self):  # noqa: N802
                text = self._body().decode("utf-8")
                fake.requests.append(("POST", None, self.headers.get("Authorization")))
                rows = [
                    {
                        "graph": {"type": "uri", "value": iri},
                        "triples": {"type": "literal", "value": str(body.count(b"\n"))},
                    }
                    for iri, body in fake.graphs.items()
                    if f"<{iri}>" in text
                ]
                answer = {"head": {"vars": ["graph", "triples"]}, "results": {"bindings": rows}}
                self._reply(200, json.dumps(answer).encode(), "application/sparql-results+json")

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}/store"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def puts(self) -> list[str]:
        return [iri for method, iri, _ in self.requests if method == "PUT"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    made: list[FakeStore] = []

    def make(**kwargs) -> FakeStore:
        made.append(FakeStore(**kwargs))
        return made[-1]

    yield make
    for f in made:
        f.close()


def assert_no_secret(r: subprocess.CompletedProcess) -> None:
    for secret in SECRETS:
        assert secret not in r.stdout and secret not in r.stderr


def test_dry_run_says_what_would_be_sent_and_sends_nothing(fake, project_dir, graphs, clean_env):
    store = fake()
    r = kg("load", "--endpoint", store.url, "--dry-run", cwd=project_dir, env=clean_env)
    assert r.returncode == 0, r.stderr
    assert store.requests == []
    assert "Dry run: nothing sent" in r.stdout
    for iri, n in graphs.items():
        assert re.search(rf"{re.escape(iri)}\s+{n}\s+\d+\n", r.stdout)
    assert re.search(rf"total\s+{sum(graphs.values())}\s+\d+", r.stdout)


def test_graph_option_sends_only_that_graph(fake, project_dir, clean_env):
    store = fake()
    r = kg("load", "--endpoint", store.url, "--graph", "ontology", cwd=project_dir, env=clean_env)
    assert r.returncode == 0, r.stderr
    assert store.puts() == [ns.GRAPH_ONTOLOGY]
    bad = kg(
        "load", "--endpoint", store.url, "--graph", "ontologie", cwd=project_dir, env=clean_env
    )
    assert bad.returncode == 2 and "unknown graph ontologie" in bad.stderr


def test_401_without_credentials_asks_for_them(fake, project_dir, graphs, clean_env):
    store = fake(put=lambda n, iri: 401)
    r = kg("load", "--endpoint", store.url, cwd=project_dir, env=clean_env)
    assert r.returncode == 2
    assert "asks for credentials (HTTP 401)" in r.stderr and "KG_ENDPOINT_USER" in r.stderr
    assert len(store.puts()) == 1  # a refusal is not retried
    assert f"Replaced 0 of {len(graphs)}: none." in r.stdout


def test_refused_credentials_never_appear_in_the_output(fake, project_dir, clean_env):
    # The server echoes the Authorization header it got: kg must not repeat it.
    store = fake(put=lambda n, iri: 401)
    env = {**clean_env, "KG_ENDPOINT_USER": USER, "KG_ENDPOINT_PASSWORD": PASSWORD}
    r = kg("load", "--endpoint", store.url, cwd=project_dir, env=env)
    assert r.returncode == 2
    assert (
        "refused the credentials (user and password from KG_ENDPOINT_USER/KG_ENDPOINT_PASSWORD)"
        in r.stderr
    )
    assert store.requests[0][2] == "Basic " + SECRETS[2]  # they were sent
    assert_no_secret(r)

    echo = fake(put=lambda n, iri: 500, error_body=lambda auth: f"denied {auth}".encode())
    r = kg("load", "--endpoint", echo.url, cwd=project_dir, env=env)
    assert r.returncode == 2 and "HTTP 500" in r.stderr and "denied Basic ***" in r.stderr
    assert_no_secret(r)


def test_token_and_netrc_credentials_are_sent_and_never_shown(
    fake, project_dir, tmp_path, clean_env
):
    store = fake()
    env = {**clean_env, "KG_ENDPOINT_TOKEN": TOKEN}
    r = kg("load", "--endpoint", store.url, "--graph", "shared", cwd=project_dir, env=env)
    assert r.returncode == 0, r.stderr
    assert {auth for _, _, auth in store.requests} == {f"Bearer {TOKEN}"}
    assert "bearer token from KG_ENDPOINT_TOKEN" in r.stdout
    assert_no_secret(r)

    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {HOST} login {USER} password {PASSWORD}\n", encoding="utf-8")
    netrc.chmod(0o600)
    store = fake()
    env = {**clean_env, "NETRC": str(netrc)}
    r = kg("load", "--endpoint", store.url, "--graph", "shared", cwd=project_dir, env=env)
    assert r.returncode == 0, r.stderr
    assert {auth for _, _, auth in store.requests} == {"Basic " + SECRETS[2]}
    assert_no_secret(r)


def test_credentials_in_the_url_are_refused_unseen(fake, project_dir, clean_env):
    store = fake()
    url = store.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    for args in (["load", "--endpoint", url], ["query", "talks", "--endpoint", url]):
        r = kg(*args, cwd=project_dir, env=clean_env)
        assert r.returncode == 2
        assert "credentials in the URL are not accepted" in r.stderr and "***@" in r.stderr
        assert_no_secret(r)
        assert USER not in r.stderr
    assert store.requests == []


def test_server_error_is_not_retried(fake, project_dir, clean_env):
    store = fake(put=lambda n, iri: 500)
    r = kg("load", "--endpoint", store.url, cwd=project_dir, env=clean_env)
    assert r.returncode == 2 and "answered HTTP 500" in r.stderr
    assert len(store.puts()) == 1


def test_503_then_success_is_retried(fake, project_dir, graphs, clean_env):
    store = fake(put=lambda n, iri: 503 if n <= 2 else 201)
    r = kg("load", "--endpoint", store.url, cwd=project_dir, env=clean_env)
    assert r.returncode == 0, r.stderr
    first = sorted(graphs)[0]
    assert store.puts()[:3] == [first, first, first]
    assert len(store.puts()) == len(graphs) + 2
    assert "HTTP 503 Service Unavailable; trying again in 0.5 s (attempt 2 of 3)" in r.stderr
    assert f"Replaced {len(graphs)} of {len(graphs)}" in r.stdout


def test_retries_are_bounded_and_the_summary_says_what_was_replaced(
    fake, project_dir, graphs, clean_env
):
    names = sorted(graphs)
    store = fake(put=lambda n, iri: 503 if iri == names[1] else 201)
    r = kg("load", "--endpoint", store.url, cwd=project_dir, env=clean_env)
    assert r.returncode == 2
    assert store.puts() == [names[0], names[1], names[1], names[1]]  # 3 attempts, then stop
    assert "HTTP 503 Service Unavailable (3 attempts)" in r.stderr
    assert f"Replaced 1 of {len(graphs)}: {short(names[0])}." in r.stdout
    assert "Not replaced: " + ", ".join(short(g) for g in names[1:]) + "." in r.stdout
    assert re.search(rf"{re.escape(names[1])}\s+\d+\s+\d+\s+NOT replaced: the PUT failed", r.stdout)
    assert re.search(rf"{re.escape(names[2])}\s+\d+\s+\d+\s+NOT replaced: not sent", r.stdout)
    assert "mixes new and old graphs" in r.stdout


def test_a_timeout_is_retried(fake, project_dir, graphs, clean_env):
    store = fake(put=lambda n, iri: ("slow", 1.0) if n == 1 else 201)
    r = kg("load", "--endpoint", store.url, "--timeout", "0.3", cwd=project_dir, env=clean_env)
    assert r.returncode == 0, r.stderr
    assert "timeout" in r.stderr and "attempt 2 of 3" in r.stderr


# ----------------------------------------------------------------------------- a crash mid-load


class KillingProxy:
    """A reverse proxy to an Oxigraph server that kills the server right after relaying the
    first successful PUT, then answers 502 Bad Gateway, as a proxy with its backend gone does."""

    def __init__(self, upstream: Oxigraph):
        import http.client

        proxy = self
        self.killed = False

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k in ("Content-Type", "Accept")}
                try:
                    conn = http.client.HTTPConnection(HOST, upstream.port, timeout=30)
                    conn.request(self.command, self.path, body, headers)
                    answer = conn.getresponse()
                    status, ctype, data = (
                        answer.status,
                        answer.getheader("Content-Type"),
                        answer.read(),
                    )
                    conn.close()
                except OSError:
                    status, ctype, data = 502, "text/plain", b"backend gone"
                if self.command == "PUT" and 200 <= status < 300 and not proxy.killed:
                    proxy.killed = True
                    upstream.kill()
                self.send_response(status)
                self.send_header("Content-Type", ctype or "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_PUT = do_POST = do_GET = _forward  # noqa: N815

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.store_url = f"http://{HOST}:{self.server.server_address[1]}/store"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_server_killed_mid_load_is_reported_and_a_second_load_repairs(
    tmp_path, project_dir, graphs, clean_env
):
    location = tmp_path / "store"
    server = Oxigraph(location).start()
    proxy = KillingProxy(server)
    restarted = None
    try:
        r = kg("load", "--endpoint", proxy.store_url, cwd=project_dir, env=clean_env)
        assert proxy.killed and server.proc.poll() is not None
        assert r.returncode == 2
        names = sorted(graphs)
        assert f"Replaced 1 of {len(graphs)}: {short(names[0])}." in r.stdout
        assert "Not replaced: " + ", ".join(short(g) for g in names[1:]) + "." in r.stdout
        assert "HTTP 502 Bad Gateway (3 attempts)" in r.stderr
        restarted = Oxigraph(location).start()
        assert restarted.counts() == {names[0]: graphs[names[0]]}  # just what the report said
        again = kg("load", "--endpoint", restarted.store_url, cwd=project_dir, env=clean_env)
        assert again.returncode == 0, again.stderr
        assert restarted.counts() == graphs
    finally:
        proxy.close()
        server.stop()
        if restarted is not None:
            restarted.stop()


def test_an_error_body_read_as_text_is_excerpted_too():
    """urllib's own Digest failure (HTTPError "digest auth failed") reads as str on Python
    3.11.2, bytes elsewhere: both give the one-line excerpt, never an AttributeError."""
    from kg.store import _excerpt

    assert _excerpt(b"no \x1b]0;title\x07\n  access") == _excerpt("no \x1b]0;title\x07\n  access")
    assert "\x1b" not in _excerpt("no \x1b]0;title\x07 access")
