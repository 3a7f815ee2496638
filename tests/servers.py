"""Real local servers for the tests of `kg load`, `kg query --endpoint` and `kg serve`.

Everything binds 127.0.0.1 on a free port and is stopped by the test that started it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from kg.serve import oxigraph_program

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), 0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout} s")


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), 0.2):
            return False
    except OSError:
        return True


def kg_command() -> list[str]:
    script = Path(sys.executable).with_name("kg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kg"]


def copy_built(built_root: Path, dst: Path) -> Path:
    """A copy of a built project (sources, queries and build/) that a test may use freely."""
    dst.mkdir(parents=True, exist_ok=True)
    for part in ("ontology", "data", "queries", "build"):
        if (built_root / part).is_dir():
            shutil.copytree(built_root / part, dst / part)
    return dst


class Oxigraph:
    """A writable `oxigraph serve` whose default graph is the union of its named graphs."""

    def __init__(self, location: Path, port: int | None = None):
        self.location = location
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def store_url(self) -> str:
        return f"{self.base}/store"

    @property
    def query_url(self) -> str:
        return f"{self.base}/query"

    def start(self) -> Oxigraph:
        self.proc = subprocess.Popen(
            [
                oxigraph_program(),
                "serve",
                "--location",
                str(self.location),
                "--bind",
                f"{HOST}:{self.port}",
                "--union-default-graph",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)
        return self

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL), as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def select(self, query: str) -> list[dict]:
        """Rows of a SELECT query as {variable: lexical value}."""
        request = urllib.request.Request(
            self.query_url,
            data=query.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            results = json.load(answer)
        return [{k: v["value"] for k, v in row.items()} for row in results["results"]["bindings"]]

    def counts(self) -> dict[str, int]:
        """Triples per named graph."""
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {r["g"]: int(r["n"]) for r in rows}


def http(method: str, url: str, body: bytes | None = None, headers=None) -> tuple[int, bytes]:
    """Status and body of one request (HTTP errors are answers too)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def editor_query(link: str) -> str:
    """The query text a YASGUI link carries in its fragment."""
    fragment = urllib.parse.urlsplit(link).fragment
    return urllib.parse.parse_qs(fragment)["query"][0]
