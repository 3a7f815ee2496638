"""`kg load --cypher redis://HOST:PORT[/GRAPH]`: put the property-graph projection into a
running FalkorDB server, replacing what kg loaded there before, and check it.

The projection is loaded into a staging graph `<GRAPH>.kg-loading` with the same batched,
parameterised statements as kg's private engine (`kg.falkor.load`), checked (node and
relationship counts, and the labels and properties of a sample of nodes and relationships,
compared with the projection type for type), then renamed over GRAPH in one step (Redis
RENAME), so a reader sees the old graph or the new one, never half of one. Other graphs and
keys on the server are not touched. A graph that exists and that kg did not load (no
`kg:load:<GRAPH>` marker key beside it) is refused: kg replaces only its own.

Credentials come only from the environment (KG_CYPHER_PASSWORD, and KG_CYPHER_USER for a
Redis ACL user), as for `kg load --endpoint`: a URL with `user:password@` is refused (URLs end
up in shell histories and process lists), and no message shows a secret.

Exit codes: 0 loaded and checked; 1 loaded but a check failed (the old graph is kept);
2 bad URL, server unreachable, authentication refused, not a FalkorDB server, or a graph kg did
not load.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from kg.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, KgError
from kg.graph import RESOURCE, PropertyGraph

DEFAULT_GRAPH = "kg"  # the graph `kg cypher --endpoint` reads when the URL names none
DEFAULT_PORT = 6379
STAGING_SUFFIX = ".kg-loading"
MARKER_PREFIX = "kg:load:"
SAMPLE = 50  # nodes and relationships whose values are compared after loading
_GRAPH_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")


class KgCypherLoadError(KgError):
    """The FalkorDB server cannot be used (exit 2). The message holds no credentials."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    graph: str
    username: str | None
    password: str | None = field(repr=False)

    @property
    def shown(self) -> str:
        """The URL as messages show it: never a user name or password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{host}:{self.port}/{self.graph}"


def parse_url(url: str, env: dict[str, str] | None = None, *, flag: str = "--cypher") -> Target:
    """redis://HOST[:PORT][/GRAPH] (falkordb:// is accepted as a synonym); credentials from
    `env` (the process environment by default). `flag` names the option in messages."""
    env = os.environ if env is None else env
    usage = "expected redis://HOST:PORT[/GRAPH] (a FalkorDB server)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise KgCypherLoadError(f"bad {flag} URL: {usage}") from None
    if parts.scheme not in ("redis", "falkordb") or not parts.hostname:
        shown = parts.scheme or "no scheme"
        raise KgCypherLoadError(f"bad {flag} URL ({shown}): {usage}")
    if parts.query or parts.fragment:
        raise KgCypherLoadError(f"bad {flag} URL: no query or fragment allowed; {usage}")
    graph = unquote(parts.path.strip("/")) or DEFAULT_GRAPH
    if not _GRAPH_NAME.match(graph) or graph.endswith(STAGING_SUFFIX):
        raise KgCypherLoadError(
            f"bad graph name '{graph}' in the {flag} URL: letters, digits, _ . : - "
            f"(not ending in {STAGING_SUFFIX})"
        )
    if parts.username is not None or parts.password is not None:
        raise KgCypherLoadError(
            f"the {flag} URL holds credentials: give the password in KG_CYPHER_PASSWORD (and a "
            "user in KG_CYPHER_USER), not in the URL"
        )
    username, password = env.get("KG_CYPHER_USER"), env.get("KG_CYPHER_PASSWORD")
    return Target(parts.hostname, port or DEFAULT_PORT, graph, username or None, password or None)


def _scrub(message: str, target: Target) -> str:
    for secret in (target.password, target.username):
        if secret:
            message = message.replace(secret, "***")
    return message


def connect(target: Target, *, timeout: float = 60.0):
    """A FalkorDB client for `target`, checked: reachable, authenticated, FalkorDB loaded."""
    from falkordb import FalkorDB
    from redis import exceptions as rx

    try:
        db = FalkorDB(
            host=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            socket_connect_timeout=min(timeout, 10.0),
            socket_timeout=timeout,
        )
        db.connection.ping()
    except rx.AuthenticationError:
        what = "refused the credentials" if target.password else "requires a password"
        raise KgCypherLoadError(
            f"{target.shown} {what} (KG_CYPHER_PASSWORD, and KG_CYPHER_USER for an ACL user)"
        ) from None
    except rx.ResponseError as e:
        text = _scrub(str(e), target)
        if "NOAUTH" in text or "auth" in text.lower():
            raise KgCypherLoadError(
                f"{target.shown} requires a password (KG_CYPHER_PASSWORD)"
            ) from None
        raise KgCypherLoadError(f"{target.shown} refused: {text}") from None
    except (rx.ConnectionError, rx.TimeoutError, OSError) as e:
        raise KgCypherLoadError(
            f"cannot reach the FalkorDB server at {target.shown}: {_scrub(str(e), target)}"
        ) from None
    try:
        db.connection.execute_command("GRAPH.LIST")
    except rx.ResponseError:
        raise KgCypherLoadError(
            f"{target.shown} answers but is not a FalkorDB server (no GRAPH.LIST command)"
        ) from None
    return db


# --------------------------------------------------------------------------- checking


def _typed(value):
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def sample(items: list, n: int = SAMPLE) -> list:
    """`n` items spread evenly over the list (first and last included): deterministic."""
    if len(items) <= n:
        return list(items)
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


def verify(graph, pg: PropertyGraph) -> list[str]:
    """What differs between the loaded graph and the projection (empty: nothing): counts, and
    the labels and properties of a sample of nodes and relationships, type for type."""
    from kg.falkor import counts

    problems = []
    got, want = counts(graph), pg.counts()
    if got != want:
        problems.append(f"counts: {got[0]} nodes, {got[1]} relationships; expected {want}")
    nodes = sample(pg.nodes)
    rows = graph.ro_query(
        f"UNWIND $iris AS i MATCH (n:{RESOURCE} {{iri: i}}) RETURN n.iri, labels(n), properties(n)",
        {"iris": [n.iri for n in nodes]},
    ).result_set
    found = {iri: (labels, props) for iri, labels, props in rows}
    for node in nodes:
        if node.iri not in found:
            problems.append(f"node {node.iri}: missing")
            continue
        labels, props = found[node.iri]
        if sorted(labels) != sorted(node.labels):
            problems.append(f"node {node.iri}: labels {sorted(labels)}, expected {node.labels}")
        if {k: _typed(v) for k, v in props.items()} != {
            k: _typed(v) for k, v in node.props.items()
        }:
            problems.append(f"node {node.iri}: properties differ")
    rels = sample(pg.rels)
    rows = graph.ro_query(
        f"UNWIND $rows AS r MATCH (a:{RESOURCE} {{iri: r[0]}})-[e]->(b:{RESOURCE} {{iri: r[2]}}) "
        "WHERE type(e) = r[1] RETURN r[0], r[1], r[2], properties(e)",
        {"rows": [[r.start, r.type, r.end] for r in rels]},
    ).result_set
    found_rels: dict[tuple, list] = {}
    for s, t, e, props in rows:
        found_rels.setdefault((s, t, e), []).append(props)
    for rel in rels:
        got_props = found_rels.get((rel.start, rel.type, rel.end), [])
        want_props = {k: _typed(v) for k, v in rel.props.items()}
        if [{k: _typed(v) for k, v in p.items()} for p in got_props] != [want_props]:
            problems.append(
                f"relationship ({rel.start})-[:{rel.type}]->({rel.end}): "
                f"{len(got_props)} found, or properties differ"
            )
    return problems


# --------------------------------------------------------------------------- loading


@dataclass
class CypherLoadReport:
    target: str  # the URL as shown
    nodes: int = 0
    relationships: int = 0
    replaced: bool = False  # a graph kg loaded before was replaced
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False
    swapped: bool = False  # the new graph took the name (else the old one is as it was)

    @property
    def exit_code(self) -> int:
        return EXIT_PROBLEMS if self.problems else EXIT_OK

    def render_text(self) -> str:
        what = f"{self.nodes} nodes, {self.relationships} relationships"
        if self.dry_run:
            return f"would load {what} into {self.target} (dry run: nothing sent)\n"
        lines = [
            f"{'replaced' if self.replaced else 'created'} {self.target}: {what} "
            f"in {self.seconds:.1f} s"
        ]
        if self.problems:
            kept = "" if self.swapped else "; the graph is as it was before"
            lines.append(f"check failed ({len(self.problems)} problem(s)){kept}:")
            lines += [f"  {p}" for p in self.problems[:20]]
        else:
            lines.append(
                f"checked: node and relationship counts, and the values of {SAMPLE} sampled "
                "nodes and relationships"
            )
        return "\n".join(lines) + "\n"


def load_projection(
    db, target: Target, pg: PropertyGraph, *, dataset_sha: str = ""
) -> CypherLoadReport:
    """Load `pg` into the graph `target.graph` through the client `db` (see module doc)."""
    from kg.falkor import PROJECTION_VERSION, load

    conn = db.connection
    marker = MARKER_PREFIX + target.graph
    staging = target.graph + STAGING_SUFFIX
    existing = set(_decode(x) for x in conn.execute_command("GRAPH.LIST"))
    ours = conn.exists(marker)
    if target.graph in existing and not ours:
        raise KgCypherLoadError(
            f"{target.shown}: the graph '{target.graph}' exists and kg did not load it (no "
            f"{marker} key); name another graph in the URL, or delete it yourself"
        )
    if conn.exists(target.graph) and target.graph not in existing:
        raise KgCypherLoadError(
            f"{target.shown}: the key '{target.graph}' exists and is not a graph; name another "
            "graph in the URL"
        )
    report = CypherLoadReport(target.shown, *pg.counts(), replaced=target.graph in existing)
    started = time.perf_counter()
    if conn.exists(staging):
        conn.execute_command("GRAPH.DELETE", staging)  # a load that was interrupted
    try:
        load(db.select_graph(staging), pg)
        report.problems = verify(db.select_graph(staging), pg)
        if report.problems:
            return report
        conn.execute_command("RENAME", staging, target.graph)  # replaces the old one at once
        report.swapped = True
        conn.set(
            marker,
            json.dumps(
                {
                    "loaded_by": "kg",
                    "dataset_sha256": dataset_sha,
                    "projection": PROJECTION_VERSION,
                    "nodes": report.nodes,
                    "relationships": report.relationships,
                },
                sort_keys=True,
            ),
        )
    finally:
        if conn.exists(staging):
            conn.execute_command("GRAPH.DELETE", staging)
        report.seconds = time.perf_counter() - started
    report.problems = verify(db.select_graph(target.graph), pg)
    return report


def _decode(x) -> str:
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)


def load_project(
    project,
    url: str,
    *,
    dry_run: bool = False,
    timeout: float = 60.0,
    notify: Callable[[str], None] | None = None,
) -> CypherLoadReport:
    """`kg load --cypher URL`: the current build's projection into the FalkorDB at URL."""
    from redis import exceptions as rx

    from kg.build import ensure_built
    from kg.graph import project as project_graph

    target = parse_url(url)  # a bad URL fails before any (re)build
    db = None if dry_run else connect(target, timeout=timeout)
    result = ensure_built(project, notify=notify)
    pg = project_graph(result.dataset)
    if dry_run:
        return CypherLoadReport(target.shown, *pg.counts(), dry_run=True)
    sha = (result.manifest.get("dataset") or {}).get("sha256", "")
    try:
        return load_projection(db, target, pg, dataset_sha=sha)
    except rx.RedisError as e:
        raise KgCypherLoadError(
            f"{target.shown} failed while loading: {_scrub(str(e), target)}"
        ) from None


__all__ = ["EXIT_USAGE", "CypherLoadReport", "Target", "load_project", "parse_url", "verify"]
