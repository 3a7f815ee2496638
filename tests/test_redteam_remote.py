"""Red-team finding 4: with --endpoint, --timeout is a deadline for the whole request (not per
socket read) and an answer read into memory is capped. Misbehaving servers on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from servers import HOST, kg_command

from kg import store as kstore
from kg.errors import KgEndpointError


class Misbehaving:
    """A server that answers 200 and then drips (one byte every 0.2 s) or floods (endless)."""

    def __init__(self, mode: str):
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(10**9))
                self.end_headers()
                try:
                    for _ in range(10**6):
                        if mode == "drip":
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.2)
                        else:
                            self.wfile.write(b" " * 65536)
                except OSError:
                    pass

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}/query"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def drip():
    s = Misbehaving("drip")
    yield s
    s.close()


@pytest.fixture
def flood():
    s = Misbehaving("flood")
    yield s
    s.close()


def test_a_dripping_endpoint_is_stopped_at_the_timeout_once(built_copy, drip):
    started = time.monotonic()
    r = subprocess.run(
        [*kg_command(), "query", "actors", "--endpoint", drip.url, "--timeout", "2",
         "--project", str(built_copy.root)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    took = time.monotonic() - started
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert took < 6, f"{took:.1f} s for --timeout 2"
    assert drip.requests == 1  # a timeout is not tried again


def test_an_endless_answer_is_capped(flood, monkeypatch):
    monkeypatch.setattr(kstore, "MAX_ANSWER_BYTES", 4 * 2**20)
    client = kstore.Client(kstore.Credentials(), timeout=30, attempts=1)
    with pytest.raises(KgEndpointError, match="more than 4 MiB"):
        client.send("POST", flood.url, what="query", where=flood.url, body=b"q")
