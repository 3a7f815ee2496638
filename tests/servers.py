"""Real local servers for the tests of `kg load`, `kg query --endpoint` and `kg serve`.

Everything binds 127.0.0.1 on a free port and is stopped by the test that started it.
"""

from __future__ import annotations

import json
import os
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


def run_cli(
    *args: str, cwd=None, timeout: float = 120, env=None, **kw
) -> subprocess.CompletedProcess:
    """`kg ARGS` as a user runs it: text out, the environment plus `env`."""
    return subprocess.run(
        [*kg_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
        **kw,
    )


def assert_no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


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


# --------------------------------------------------------------------------- other stores

VIRTUOSO_PROGRAM = "/usr/bin/virtuoso-t"  # Debian's virtuoso-opensource (7.2)
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
NODE_DIR = Path(__file__).parent / "node"  # tests/node: Comunica, pinned in package.json
COMUNICA_PROGRAM = NODE_DIR / "node_modules" / ".bin" / "comunica-sparql-file-http"
# Comunica binds every interface and has no option to choose: this preload keeps it on
# 127.0.0.1 (tests bind nothing else).
LOOPBACK_JS = NODE_DIR / "loopback.cjs"


def _ini(text: str, section: str, key: str, value: str) -> str:
    """`text` (an .ini file) with `key` of `[section]` set to `value`."""
    lines, current, done = [], None, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if current == section and not done:
                lines.append(f"{key} = {value}")
                done = True
            current = stripped[1:-1]
        elif current == section and stripped.split("=", 1)[0].strip() == key:
            if not done:
                lines.append(f"{key} = {value}")
                done = True
            continue
        lines.append(line)
    if not done:
        lines += [f"[{section}]", f"{key} = {value}"]
    return "\n".join(lines) + "\n"


class Virtuoso:
    """Debian's Virtuoso 7.2 (`virtuoso-t`) with a fresh database in `location`, its SQL and
    HTTP ports on 127.0.0.1. A fresh database's administrator is dba/dba; the Graph Store
    endpoint that accepts writes, /sparql-graph-crud-auth, asks for HTTP Digest."""

    USER = PASSWORD = "dba"

    def __init__(self, location: Path):
        self.location = location
        self.sql_port = free_port()
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def store_url(self) -> str:
        return f"{self.base}/sparql-graph-crud-auth"

    @property
    def query_url(self) -> str:
        return f"{self.base}/sparql"

    def start(self) -> Virtuoso:
        db = self.location / "db"
        db.mkdir(parents=True, exist_ok=True)
        text = VIRTUOSO_INI.read_text(encoding="utf-8")
        text = text.replace("/var/lib/virtuoso-opensource-7/db", str(db))
        text = _ini(text, "Parameters", "ServerPort", f"{HOST}:{self.sql_port}")
        text = _ini(text, "HTTPServer", "ServerPort", f"{HOST}:{self.port}")
        text = _ini(text, "Parameters", "NumberOfBuffers", "4000")
        text = _ini(text, "Parameters", "MaxDirtyBuffers", "3000")
        text = _ini(text, "URIQA", "DefaultHost", f"{HOST}:{self.port}")
        ini = self.location / "virtuoso.ini"
        ini.write_text(text, encoding="utf-8")
        self.proc = subprocess.Popen(
            [VIRTUOSO_PROGRAM, "+foreground", "+configfile", str(ini)],
            cwd=db,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc, timeout=60)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        """The HTTP port opens before the SPARQL endpoint answers: ask until it does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.proc.returncode}")
            status, _ = http("GET", self.query_url + "?query=ASK%7B%7D")
            if status == 200:
                return
            time.sleep(0.2)
        raise TimeoutError("Virtuoso's SPARQL endpoint did not answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        path = self.location / "db" / "virtuoso.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


class Comunica:
    """Comunica (npm @comunica/query-sparql-file, read-only) answering SPARQL over one RDF file
    (the exported TriG), its default graph the union of the named graphs."""

    def __init__(self, data: Path, timeout_s: int = 60):
        self.data = data
        self.timeout_s = timeout_s
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def query_url(self) -> str:
        return f"http://{HOST}:{self.port}/sparql"

    def start(self) -> Comunica:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "NODE_OPTIONS": f"--require {LOOPBACK_JS}",
            "HOME": str(self.data.parent),
        }
        self.proc = subprocess.Popen(
            [
                str(COMUNICA_PROGRAM),
                str(self.data),
                "-p",
                str(self.port),
                "-t",
                str(self.timeout_s),
                "-w",
                "1",
                "--unionDefaultGraph",
            ],  # fmt: skip
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # it forks a worker: stop the group
        )
        wait_port(self.port, self.proc, timeout=60)
        return self

    def stop(self) -> None:
        import os
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
