"""Red-team findings 2, 8, 12, 13, 18, 19 and the --host warning of 1: one request must not
take the machine or the server (memory, slow clients, big bodies, many connections), and a
killed kg serve leaves nothing running. Real Oxigraph behind the real proxy; every server on
127.0.0.1, stopped by the test that started it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from servers import HOST, copy_built, free_port, kg_command, port_closed
from servers import run_cli as _kg
from test_redteam import _request
from test_serve import start_serve

from kg import serve as kserve

# A sort over a cross join of the whole graph: memory grows by hundreds of MB a second.
SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
SPARQL = {"Content-Type": "application/sparql-query"}


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def _state(pid: int) -> str | None:
    """The process state letter (Z for a zombie), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def mini_dir(built_mini, tmp_path):
    return copy_built(built_mini.project.root, tmp_path / "mini")


# --- finding 8: the local kg query is bounded in memory ------------------------------------------


def test_local_query_stops_at_the_memory_limit_with_exit_2(mini_dir):
    (mini_dir / "queries" / "sort.rq").write_text(f"# question: big sort\n{SORT}\n")
    started = time.monotonic()
    r = _kg("query", "sort", "--memory-limit", "300", "--project", str(mini_dir), timeout=60)
    assert r.returncode == 2, r.stderr
    assert "over the memory limit of 300 MiB (--memory-limit)" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert time.monotonic() - started < 30  # not the 30 s time limit


# --- finding 2: kg serve kills a child past the memory limit, restarts it, and says so ------------


def test_serve_restarts_oxigraph_past_the_memory_limit(mini_dir):
    server = start_serve(mini_dir, "--memory-limit", "200")
    try:
        (child,) = _children(server.proc.pid)
        status, _, body = _request(server.base, "POST", "/query", SORT.encode(), SPARQL)
        assert status in (502, 503), body
        ask = b"ASK { ?s ?p ?o }"
        deadline = time.monotonic() + 10
        while _request(server.base, "POST", "/query", ask, SPARQL)[0] != 200:
            assert time.monotonic() < deadline, "not restarted"
            time.sleep(0.05)
        (new_child,) = _children(server.proc.pid)
        assert new_child != child
    finally:
        code, out = server.stop()
    assert code == 0
    assert "over the memory limit of 200 MiB (kg serve --memory-limit)" in out, out
    assert "Restarted in" in out


def test_serve_restarts_oxigraph_when_it_dies_and_logs_it(mini_dir):
    server = start_serve(mini_dir)
    try:
        (child,) = _children(server.proc.pid)
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _request(server.base, "POST", "/query", b"ASK { ?s ?p ?o }", SPARQL)[0] != 200:
            assert time.monotonic() < deadline and server.proc.poll() is None, "not restarted"
            time.sleep(0.05)
    finally:
        code, out = server.stop()
    assert code == 0
    assert "Oxigraph stopped: it stopped by itself (exit -9)" in out, out


# --- finding 19: a SIGKILLed kg serve leaves no Oxigraph serving ----------------------------------


def test_a_killed_kg_serve_leaves_no_oxigraph_running(mini_dir):
    server = start_serve(mini_dir)
    (child,) = _children(server.proc.pid)
    inner = [
        int(line.rsplit(":", 1)[1].split()[0])
        for line in Path(f"/proc/{child}/cmdline").read_text().split("\0")
        if line.startswith("127.0.0.1:")
    ]
    server.proc.kill()
    server.proc.wait()
    deadline = time.monotonic() + 5
    while _state(child) not in (None, "Z"):  # a zombie is dead: it waits for PID 1 to reap it
        assert time.monotonic() < deadline, f"Oxigraph {child} still running"
        time.sleep(0.05)
    assert inner and port_closed(inner[0])


# --- finding 1: --host 0.0.0.0 warns and prints the real addresses -------------------------------


def test_a_wildcard_host_is_warned_about_with_the_real_addresses(monkeypatch):
    monkeypatch.setattr(kserve, "interface_addresses", lambda: ["192.0.2.7", "2001:db8::7"])
    lines = kserve.exposure_warning("0.0.0.0", 7878, 7879)
    assert lines[0].startswith("WARNING: --host 0.0.0.0 serves the network")
    assert "http://192.0.2.7:7878/" in lines[1] and "http://[2001:db8::7]:7878/" in lines[2]
    assert kserve.exposure_warning("127.0.0.1", 7878, 7879) == []
    assert kserve.exposure_warning("localhost", 7878, 7879) == []


# --- finding 13: a slow reader does not make the proxy restart Oxigraph for everyone -------------


def test_a_slow_reader_does_not_restart_oxigraph(mini_dir):
    server = start_serve(mini_dir, "--timeout", "2")
    try:
        (child,) = _children(server.proc.pid)
        q = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c }"  # about 120,000 rows: tens of MB
        body = urllib.parse.urlencode({"query": q}).encode()
        with socket.create_connection((HOST, server.port)) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(
                b"POST /query HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Accept: application/sparql-results+json\r\n"
                b"Content-Length: %d\r\n\r\n%b" % (server.port, len(body), body)
            )
            assert s.recv(100)
            time.sleep(3.5)  # past --timeout, reading nothing
        ask = b"ASK { ?s ?p ?o }"
        assert _request(server.base, "POST", "/query", ask, SPARQL)[0] == 200
        assert _children(server.proc.pid) == [child]
    finally:
        code, out = server.stop()
    assert "restarted" not in out.lower(), out


# --- finding 12 and 28: request bodies are relayed in pieces; bad framing is a 400 ----------------


def _raw(port: int, head: bytes, body_pieces=(), read=True) -> bytes:
    with socket.create_connection((HOST, port), timeout=30) as s:
        s.sendall(head)
        for piece in body_pieces:
            s.sendall(piece)
        if not read:
            return b""
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


def test_a_big_chunk_is_not_buffered_whole(mini_dir):
    server = start_serve(mini_dir)
    try:
        before = _peak_rss_kib(server.proc.pid)
        size = 64 * 1024 * 1024
        piece = b"x" * (1024 * 1024)
        head = (
            b"PUT /store?graph=http://x/g HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/n-triples\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n%x\r\n" % (server.port, size)
        )
        # A write is refused from its head, before its body is read: the client learns it
        # while still sending (sent past the refusal, the rest would meet a closed socket).
        answer = _raw(server.port, head, [piece])
        assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
        grown_mib = (_peak_rss_kib(server.proc.pid) - before) / 1024
        assert grown_mib < 32, f"the proxy grew by {grown_mib:.0f} MiB for a 64 MiB chunk"
    finally:
        server.stop()


@pytest.mark.parametrize("size_line", [b"zz", b"-5", b"ffffffffffffffff"])
def test_a_bad_chunk_size_is_answered_400(mini_dir, size_line):
    server = start_serve(mini_dir)
    try:
        head = (
            b"POST /query HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%b\r\nASK {}\r\n0\r\n\r\n" % (server.port, size_line)
        )
        assert _raw(server.port, head).startswith(b"HTTP/1.1 400")
    finally:
        server.stop()


def test_a_query_body_over_the_cap_is_refused(mini_dir):
    server = start_serve(mini_dir)
    try:
        # The head alone: the proxy refuses by the declared length, before reading the body
        # (a client still sending would see its connection reset instead of the answer).
        head = (
            b"POST /query HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/sparql-query\r\nContent-Length: %d\r\n\r\n"
            % (server.port, 2 * 1024 * 1024)
        )
        assert _raw(server.port, head).startswith(b"HTTP/1.1 413")
        # A chunked body is counted as it comes.
        chunked = (
            b"POST /query HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n"
            % server.port
        )
        piece = b"%x\r\n%b\r\n" % (300 * 1024, b"#" * (300 * 1024))
        assert _raw(server.port, chunked, [piece] * 4).startswith(b"HTTP/1.1 413")
    finally:
        server.stop()


# --- finding 18: idle and trickling connections are closed; connections are bounded --------------


@pytest.fixture
def pages(monkeypatch):
    monkeypatch.setattr(kserve, "HEAD_S", 1.0)
    monkeypatch.setattr(kserve, "HEAD_CHECK_S", 0.1)
    monkeypatch.setattr(kserve._PageHandler, "timeout", 1.0)
    monkeypatch.setattr(kserve._Server, "max_connections", 8)
    server = kserve._pages_server(HOST, 0, b"<p>page</p>")
    import threading

    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(1024):
            pass
        return True
    except TimeoutError:
        return False


def test_idle_and_trickling_connections_are_closed(pages):
    with socket.create_connection((HOST, pages)) as idle:
        assert _closed_within(idle, 3)
    with socket.create_connection((HOST, pages)) as trickle:
        trickle.sendall(b"GET / HTTP/1.1\r\n")
        closed = False
        for i in range(8):  # one header line every 0.4 s: each read is in time, the head is not
            time.sleep(0.4)
            try:
                trickle.sendall(b"X-%d: y\r\n" % i)
            except OSError:
                closed = True
                break
        assert closed or _closed_within(trickle, 1)


def test_connections_beyond_the_bound_get_503(pages):
    held = [socket.create_connection((HOST, pages)) for _ in range(8)]
    try:
        time.sleep(0.2)
        with socket.create_connection((HOST, pages), timeout=5) as extra:
            assert extra.recv(100).startswith(b"HTTP/1.1 503")
    finally:
        for s in held:
            s.close()


def test_serve_refuses_a_huge_timeout_and_a_tiny_memory_limit(mini_dir):
    r = _kg("serve", "--timeout", "99999999999", "--project", str(mini_dir), "--port", "1")
    assert r.returncode == 2 and "--timeout must be between 1 and 86400" in r.stderr, r.stderr
    port = str(free_port())
    r = _kg("serve", "--memory-limit", "10", "--project", str(mini_dir), "--port", port)
    assert r.returncode == 2 and "--memory-limit must be at least" in r.stderr, r.stderr


def test_four_hundred_simultaneous_requests_all_get_answers(mini_dir):
    """The report's "what holds": 400 simultaneous GETs all got 200. The connection bound
    (MAX_CONNECTIONS) must stay above that."""
    server = start_serve(mini_dir)
    try:
        target = "/query?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
        request = b"GET %b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % (
            target.encode(),
            server.port,
        )
        socks = [socket.create_connection((HOST, server.port), timeout=60) for _ in range(400)]
        try:
            for s in socks:
                s.sendall(request)
            statuses = []
            for s in socks:
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
                statuses.append(data[:12])
        finally:
            for s in socks:
                s.close()
        assert statuses == [b"HTTP/1.1 200"] * 400, set(statuses)
    finally:
        server.stop()


# --- finding 25: two kg serve started together on a changed build both start ---------------------


def test_two_serves_started_together_both_prepare_the_store(mini_dir):
    for round_ in range(3):
        shared = mini_dir / "data" / "shared" / "extra.ttl"
        shared.write_text(
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            f"<http://x.example/r{round_}> rdfs:label 'round {round_}' .\n"
        )
        procs = [
            subprocess.Popen(
                [
                    *kg_command(),
                    "serve",
                    "--port",
                    str(free_port()),
                    "--pages-port",
                    "0",
                    "--project",
                    str(mini_dir),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
            for _ in range(2)
        ]
        try:
            for proc in procs:
                line = ""
                while not line.startswith("Ready"):
                    line = proc.stdout.readline()
                    assert line, f"round {round_}: kg serve ended: {proc.wait()}"
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
                proc.communicate(timeout=15)
