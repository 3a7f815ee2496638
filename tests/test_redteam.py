"""Regression tests for the red-team report (../shared/reports/redteam-report.md): each test
names the finding it keeps fixed. They use the real parts (the Oxigraph server behind kg serve,
pyoxigraph, pySHACL) and a logging HTTP server on 127.0.0.1 as the "internal service" a
request must never reach.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import HOST, copy_built, free_port
from servers import assert_no_traceback as _no_traceback
from servers import run_cli as _kg
from test_serve import start_serve

from kg.project import locate
from kg.sparql_scan import dataset_clauses, remote_parts, service_calls

SHARED = "https://w3id.org/oman-talks/graph/shared"


class Target:
    """A logging HTTP server on 127.0.0.1: the internal service an attacker aims at."""

    def __init__(self, status: int = 200):
        self.requests: list[str] = []
        log = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                log.append(f"{self.command} {self.path}")
                body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
                if status != 200:
                    body = b"internal-admin-page: token=SECRET-42 \x1b]0;PWNED\x07"
                self.send_response(status)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/internal-admin"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    t = Target()
    yield t
    t.close()


@pytest.fixture
def mini(built_mini, tmp_path):
    return locate(copy_built(built_mini.project.root, tmp_path / "mini"))


def _rq(project, name: str, text: str) -> Path:
    path = project.root / "queries" / name
    path.write_text(text, encoding="utf-8")
    return path


# --- finding 1/9: SERVICE is found by its tokens, not fooled by comments, strings or IRIs ---------


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ("SELECT * WHERE { SERVICE <http://a/> { ?s ?p ?o } }", ["<http://a/>"]),
        ("select * where{service<http://a/>{?s ?p ?o}}", ["<http://a/>"]),
        ("SELECT * WHERE { SERVICE SILENT ?ep { ?s ?p ?o } }", ["?ep"]),
        ("# SERVICE <http://a/>\nSELECT * WHERE { ?s ?p ?o }", []),
        ('SELECT * WHERE { ?s ?p "SERVICE <http://a/>" }', []),
        ('SELECT * WHERE { ?s ?p """x " SERVICE <http://a/> """ }', []),
        ("SELECT * WHERE { <http://x/SERVICE> ex:SERVICE ?service }", []),
        ("SELECT * WHERE { ?a ?b ?c FILTER(?a<?b) } # x\n SERVICE", ["?"]),
    ],
)
def test_service_calls_are_found_by_token(text, calls):
    assert [c.target for c in service_calls(text)] == calls


def test_from_clauses_are_told_apart_from_from_named():
    found = dataset_clauses("SELECT * FROM <http://g> FROM NAMED <http://h> WHERE { ?s ?p ?o }")
    assert [(c.keyword, c.target) for c in found] == [
        ("FROM", "<http://g>"),
        ("FROM NAMED", "<http://h>"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { ?s ?p ?o }",
        "select * from <http://g> where { ?s ?p ?o }",
        "SELECT * WHERE { sErViCe <http://a/> { ?s ?p ?o } }",
        "SELECT * WHERE { \u017fERVICE <http://a/> { ?s ?p ?o } }",  # long s: upper() is S
        "LOAD <http://a/> INTO GRAPH <http://g>",
        *[
            p.read_text(encoding="utf-8")
            for p in sorted((Path(__file__).parent.parent / "queries").glob("*.rq"))
        ],
    ],
)
def test_the_quick_look_of_kg_serve_finds_what_the_full_reading_finds(text):
    """kg serve reads the tokens only when the text holds one of the words (the stored
    queries' comments often do): the answer must be the same as reading every token."""
    assert remote_parts(text) == (service_calls(text), dataset_clauses(text))


# --- finding 9 (and 11, the "unsendable" traceback): kg query sends nothing unless allowed --------


def test_kg_query_refuses_service_and_sends_nothing(mini, target):
    _rq(mini, "svc.rq", f"SELECT * WHERE {{ SERVICE <{target.url}> {{ ?s ?p ?o }} }}\n")
    r = _kg("query", "svc", "--project", str(mini.root))
    assert r.returncode == 2, r.stderr
    assert "SERVICE" in r.stderr and "--allow-service" in r.stderr and "svc.rq" in r.stderr
    _no_traceback(r)
    assert target.requests == []
    # The flag allows it: the same request then reaches the target (the test can see one).
    r = _kg("query", "svc", "--allow-service", "--project", str(mini.root))
    assert r.returncode == 0, r.stderr
    assert target.requests and target.requests[0].startswith("POST /internal-admin")


def test_a_service_iri_given_as_a_parameter_is_refused(mini, target):
    text = "# param: ep IRI  where to ask\nSELECT * WHERE { SERVICE ?ep { ?s ?p ?o } }\n"
    _rq(mini, "ep.rq", text)
    r = _kg("query", "ep", "--param", f"ep=<{target.url}>", "--project", str(mini.root))
    assert r.returncode == 2 and "--allow-service" in r.stderr, r.stderr
    assert target.requests == []


def test_a_failed_service_is_one_message_not_a_traceback(mini):
    closed = free_port()
    _rq(mini, "down.rq", _service_query(f"http://{HOST}:{closed}/s") + "\n")
    r = _kg("query", "down", "--allow-service", "--project", str(mini.root))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("kg: error:") and "unsendable" not in r.stderr, r.stderr
    _no_traceback(r)


# --- finding 9: SHACL-SPARQL constraints make no request during the build -------------------------


_SPARQL_SHAPE = """
kgsh:RemoteShape a sh:NodeShape ;
    sh:targetClass kg:Actor ;
    sh:sparql [ sh:message "remote" ; sh:select \"\"\"SELECT $this WHERE {{ {clause} }}\"\"\" ] .
"""


@pytest.mark.parametrize(
    "clause",
    ["SERVICE <{url}> {{ $this ?p ?o }}", "$this ?p ?o . FILTER EXISTS {{ SERVICE <{url}> {{}} }}"],
)
@pytest.mark.parametrize("engine", ["kg", "pyshacl"])
def test_shapes_calling_a_service_are_refused_before_any_request(mini_copy, target, clause, engine):
    shapes = mini_copy.root / "ontology" / "shapes.ttl"
    text = _SPARQL_SHAPE.format(clause=clause.format(url=target.url))
    shapes.write_text(shapes.read_text(encoding="utf-8") + text, encoding="utf-8")
    r = _kg("build", "--project", str(mini_copy.root), env={"KG_SHACL": engine})
    assert r.returncode == 2, r.stderr
    assert "ontology/shapes.ttl" in r.stderr and "SERVICE" in r.stderr, r.stderr
    _no_traceback(r)
    assert target.requests == []


def test_shapes_with_from_are_refused(mini_copy, target):
    shapes = mini_copy.root / "ontology" / "shapes.ttl"
    text = _SPARQL_SHAPE.format(clause="$this ?p ?o").replace(
        "SELECT $this WHERE", f"SELECT $this FROM <{target.url}> WHERE"
    )
    shapes.write_text(shapes.read_text(encoding="utf-8") + text, encoding="utf-8")
    r = _kg("build", "--project", str(mini_copy.root), env={"KG_SHACL": "pyshacl"})
    assert r.returncode == 2 and "FROM" in r.stderr, r.stderr
    assert target.requests == []


# --- finding 6: FROM is honoured by kg query ------------------------------------------------------


def test_kg_query_honours_from(mini):
    count = "SELECT (COUNT(*) AS ?n) {from_} WHERE {{ {pattern} }}\n"
    _rq(mini, "from.rq", count.format(from_=f"FROM <{SHARED}>", pattern="?s ?p ?o"))
    _rq(mini, "graph.rq", count.format(from_="", pattern=f"GRAPH <{SHARED}> {{ ?s ?p ?o }}"))
    _rq(mini, "all.rq", count.format(from_="", pattern="?s ?p ?o"))
    got = {}
    for name in ("from", "graph", "all"):
        r = _kg("query", name, "--format", "json", "--project", str(mini.root))
        assert r.returncode == 0, r.stderr
        got[name] = json.loads(r.stdout)[0]["n"]
    assert got["from"] == got["graph"] < got["all"]


# --- finding 1: kg serve, the SSRF pivot ----------------------------------------------------------


@pytest.fixture(scope="module")
def serve_dir(built_mini, tmp_path_factory):
    return copy_built(built_mini.project.root, tmp_path_factory.mktemp("redteam-serve"))


@pytest.fixture(scope="module")
def served(serve_dir):
    server = start_serve(serve_dir)
    yield server
    server.stop()


def _request(base: str, method: str, path: str, body=None, headers=None):
    """Status, headers and body of one request over a raw connection (any Host header)."""
    import http.client

    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": u.netloc, **(headers or {})}
        for k, v in headers.items():
            if v is not None:
                conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        conn.close()


def _service_query(url: str) -> str:
    return f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"


@pytest.mark.parametrize("how", ["sparql-query", "form", "get"])
def test_serve_refuses_service_and_sends_nothing(served, target, how):
    q = _service_query(target.url)
    if how == "get":
        get = "/query?" + urllib.parse.urlencode({"query": q})
        status, _, body = _request(served.base, "GET", get)
    elif how == "form":
        form = urllib.parse.urlencode({"query": q}).encode()
        ctype = "application/x-www-form-urlencoded"
        status, _, body = _request(served.base, "POST", "/query", form, {"Content-Type": ctype})
    else:
        ctype = "application/sparql-query"
        sparql = {"Content-Type": ctype}
        status, _, body = _request(served.base, "POST", "/query", q.encode(), sparql)
    assert status == 403, body
    assert b"--allow-service" in body
    time.sleep(0.2)
    assert target.requests == []


def test_serve_allows_service_with_the_flag(serve_dir, target):
    server = start_serve(serve_dir, "--allow-service")
    try:
        q = _service_query(target.url).encode()
        ctype = {"Content-Type": "application/sparql-query"}
        status, _, body = _request(server.base, "POST", "/query", q, ctype)
        assert status == 200, body
        assert target.requests and target.requests[0].startswith("POST /internal-admin")
    finally:
        server.stop()


def test_serve_refuses_a_foreign_host_header(served):
    ask = b"ASK { ?s ?p ?o }"
    ctype = {"Content-Type": "application/sparql-query"}
    status, _, body = _request(
        served.base, "POST", "/query", ask, {**ctype, "Host": f"evil.example:{served.port}"}
    )
    assert status == 421 and b"DNS rebinding" in body
    for host in (f"localhost:{served.port}", f"127.0.0.1:{served.port}"):
        assert _request(served.base, "POST", "/query", ask, {**ctype, "Host": host})[0] == 200


def test_serve_refuses_cross_site_requests_but_opens_the_editor(served):
    form = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}).encode()
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    evil = {**ctype, "Origin": "http://evil.example"}
    assert _request(served.base, "POST", "/query", form, evil)[0] == 403
    same = {**ctype, "Origin": f"http://127.0.0.1:{served.port}", "Sec-Fetch-Site": "same-origin"}
    assert _request(served.base, "POST", "/query", form, same)[0] == 200
    get = "/query?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    assert _request(served.base, "GET", get, None, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    # A link from the stored-queries page (another port: same-site) still opens the editor.
    assert _request(served.base, "GET", "/", None, {"Sec-Fetch-Site": "same-site"})[0] == 200
    # A form POST a page can send without asking (text/plain) never runs.
    plain = {"Content-Type": "text/plain"}
    assert _request(served.base, "POST", "/query", b"query=ASK{?s ?p ?o}", plain)[0] == 415


def test_serve_sends_no_cors_header(served):
    for method in ("GET", "OPTIONS"):
        headers = {"Origin": f"http://127.0.0.1:{served.port}"}
        get = "/query?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
        _, answer_headers, _ = _request(served.base, method, get, None, headers)
        assert not any(k.lower().startswith("access-control-") for k in answer_headers)


def test_serve_refuses_from_which_the_union_would_override(served):
    q = f"SELECT (COUNT(*) AS ?n) FROM <{SHARED}> WHERE {{ ?s ?p ?o }}".encode()
    status, _, body = _request(
        served.base, "POST", "/query", q, {"Content-Type": "application/sparql-query"}
    )
    assert status == 400 and b"GRAPH" in body


def test_serve_with_service_allowed_does_not_pass_remote_error_bodies_on(serve_dir):
    internal = Target(status=500)
    server = start_serve(serve_dir, "--allow-service")
    try:
        q = _service_query(internal.url).encode()
        status, _, body = _request_tolerant(server.base, q)
        assert internal.requests, "the SERVICE call was not made"
        assert b"SECRET-42" not in body and b"\x1b" not in body, body
        assert b"remote answer is not shown" in body, body
    finally:
        server.stop()
        internal.close()


def _request_tolerant(base: str, query: bytes):
    """Status and what arrived of the body, even when the answer is cut off."""
    import http.client

    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", "/query", query, {"Content-Type": "application/sparql-query"})
        answer = conn.getresponse()
        try:
            body = answer.read()
        except http.client.IncompleteRead as e:
            body = e.partial
        return answer.status, dict(answer.getheaders()), body
    finally:
        conn.close()
