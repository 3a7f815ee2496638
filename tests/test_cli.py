"""The command line end to end: exit codes, messages, output formats, speed rule."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse, serialize

from kg import namespaces as ns
from kg.cli import build_parser, main
from kg.format import display_width, render_table
from kg.query import Cell, QueryResult, StoredQuery, list_queries, parse_header

COMMANDS = ("build", "validate", "query", "stats")


def _drop(project, rel: str, keep) -> None:
    """Rewrite a Turtle file without the triples `keep` rejects (a generic, syntax-safe edit)."""
    path = project.root / rel
    triples = [q.triple for q in parse(path.read_bytes(), RdfFormat.TURTLE)]
    prefixes = {"kg": ns.KG, "kgr": ns.KGR, "rdfs": ns.RDFS, "xsd": ns.XSD}
    path.write_bytes(
        serialize([t for t in triples if keep(t)], format=RdfFormat.TURTLE, prefixes=prefixes)
    )


def _needs_shapes(project) -> None:
    # The project ships its shapes; a validation test without them would prove nothing.
    assert project.shapes_files(), "the project has no shapes (ontology/shapes*.ttl)"


# --- help ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example_and_takes_project(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out
    assert "--project" in out


def test_project_option_before_or_after_the_verb(built_copy, capsys):
    assert main(["--project", str(built_copy.root), "stats"]) == 0
    assert main(["stats", "--project", str(built_copy.root)]) == 0


def test_parser_rejects_unknown_options():
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["query", "x", "--bogus"])
    assert info.value.code == 2


# --- end to end through the `kg` entry point ------------------------------------------------------


def test_build_then_query_csv_json(built_copy, run_kg):
    root = str(built_copy.root)
    r = run_kg("build", "--project", root)
    assert r.returncode in (0, 1), r.stderr
    assert "evidence annotations" in r.stdout
    r = run_kg("query", "--list", cwd=built_copy.root)
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert names == sorted(q.name for q in list_queries(built_copy))


def test_mini_query_formats(built_mini, run_kg):
    root = str(built_mini.project.root)
    r = run_kg("query", "demands", "--format", "csv", "--project", root)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows[0].keys() >= {"demand", "demand_iri", "by", "by_iri"}
    assert {row["by_iri"] for row in rows} == {ns.KGR + "usa"}
    r = run_kg(
        "query",
        "evidence",
        "--param",
        "node=kgr:talks-end",
        "--format",
        "json",
        "--lang",
        "zh",
        "--project",
        root,
    )
    assert r.returncode == 0, r.stderr
    [row] = json.loads(r.stdout)
    assert row["quote"] == "2月6日,美国和伊朗的阿曼谈判落下帷幕"
    assert (row["start"], row["end"]) == (0, 19)
    assert row["article"] == "美国和伊朗的阿曼谈判落下帷幕(节选)"
    assert row["article_iri"] == ns.KGR + "article-000_mini"
    r = run_kg("query", "demands", "--lang", "zh", "--project", root)
    assert "伊朗必须永久停止所有铀浓缩活动" in r.stdout and "美国" in r.stdout


def test_query_by_file_path(built_mini, tmp_path, run_kg):
    rq = tmp_path / "count.rq"
    rq.write_text(
        f"# question: How many quotes?\nPREFIX kg: <{ns.KG}>\n"
        "SELECT (COUNT(*) AS ?n) WHERE { ?s kg:quote ?q }\n",
        encoding="utf-8",
    )
    r = run_kg("query", str(rq), "--format", "json", "--project", str(built_mini.project.root))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"n": 8, "n_iri": None}]  # typed numbers stay numbers


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["query", "demnds"], "did you mean demands"),
        (["query", "evidence"], "missing parameter 'node'; it expects --param node=IRI"),
        (["query", "evidence", "--param", "node=x", "--param", "nod=y"], "unknown parameter"),
        (["query", "long-quotes", "--param", "length=ten"], "is not a whole number"),
        (["query", "events-on", "--param", "day=2026-13-01"], "is not a date"),
        (["query", "evidence", "--param", "node=zz:x"], "unknown prefix 'zz:'"),
        (["query", "nowhere/x.rq"], "query file not found"),
        (["query", "evidence", "--param", "node"], "--param expects NAME=VALUE"),
        (["stats", "--project", "/nonexistent"], "project folder not found"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(built_mini, args, expected, run_kg):
    if "--project" not in args:
        args = [*args, "--project", str(built_mini.project.root)]
    r = run_kg(*args)
    assert r.returncode == 2
    assert expected in r.stderr
    assert "Traceback" not in r.stderr


def test_parameter_must_be_projected(built_mini, tmp_path, run_kg):
    rq = tmp_path / "bad.rq"
    rq.write_text("# param: n IRI a node\nSELECT ?p WHERE { ?n ?p ?o }\n", encoding="utf-8")
    r = run_kg("query", str(rq), "--param", "n=x", "--project", str(built_mini.project.root))
    assert r.returncode == 2
    assert "add ?n to its SELECT clause" in r.stderr


def test_sparql_syntax_error_names_file_line_col(built_mini, tmp_path, run_kg):
    rq = tmp_path / "broken.rq"
    rq.write_text("# question: broken\nSELECT ?x WHERE { ?x ?y }\n", encoding="utf-8")
    r = run_kg("query", str(rq), "--project", str(built_mini.project.root))
    assert r.returncode == 2
    assert re.search(r"broken\.rq:\d+:\d+: SPARQL syntax error", r.stderr), r.stderr


def test_malformed_turtle_exits_2(mini_copy, run_kg):
    with (mini_copy.root / "data/shared/actors.ttl").open("a", encoding="utf-8") as fh:
        fh.write("\nkgr:x a .\n")
    r = run_kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 2
    assert "data/shared/actors.ttl:" in r.stderr and "Traceback" not in r.stderr


def test_anchoring_failure_exits_1(mini_copy, run_kg):
    path = mini_copy.root / "data/articles/000_mini.ttl"
    path.write_text(
        path.read_text(encoding="utf-8").replace('限制弹道导弹计划"', '限制导弹"'), encoding="utf-8"
    )
    r = run_kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 1
    assert "data/articles/000_mini.ttl:" in r.stderr and "quote not found" in r.stderr


def test_validate_exit_0_when_conforming(built_mini, run_kg):
    r = run_kg("validate", "--project", str(built_mini.project.root))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("Conforms")


def test_validate_exit_1_when_a_fact_loses_its_evidence(project_copy, run_kg):
    """Drop every kg:quote of one article: facts without evidence must be reported."""
    _needs_shapes(project_copy)
    article = sorted((project_copy.root / "data/articles").glob("*.ttl"))[0]
    _drop(project_copy, project_copy.rel(article), lambda t: t.predicate.value != ns.KG + "quote")
    r = run_kg("validate", "--project", str(project_copy.root))
    assert r.returncode == 1, r.stdout
    assert r.stdout.startswith("Does not conform")
    assert project_copy.rel(article) in r.stdout
    r = run_kg("validate", "--format", "json", "--project", str(project_copy.root))
    report = json.loads(r.stdout)
    assert report["conforms"] is False
    assert any(x["file"] == project_copy.rel(article) for x in report["results"])


def test_validate_exit_1_when_a_node_loses_a_label(project_copy, run_kg):
    """Drop the labels of the first labelled actor of data/shared."""
    _needs_shapes(project_copy)
    shared = sorted((project_copy.root / "data/shared").glob("*.ttl"))[0]
    triples = [q.triple for q in parse(shared.read_bytes(), RdfFormat.TURTLE)]
    label = NamedNode(ns.RDFS + "label")
    victim = sorted(t.subject.value for t in triples if t.predicate == label)[0]
    _drop(
        project_copy,
        project_copy.rel(shared),
        lambda t: not (t.subject.value == victim and t.predicate == label),
    )
    r = run_kg("validate", "--format", "json", "--project", str(project_copy.root))
    assert r.returncode == 1, r.stdout
    report = json.loads(r.stdout)
    hits = [x for x in report["results"] if x["focus"] == victim]
    assert hits and all(x["file"] == project_copy.rel(shared) for x in hits)


def test_stored_queries_all_run(built, run_kg):
    """Every stored query runs with placeholder values of its parameters' types."""
    placeholder = {"IRI": "kgr:x", "string": "x", "integer": "1", "date": "2026-02-06"}
    for q in list_queries(built.project):
        args = ["query", q.name, "--format", "json", "--project", str(built.project.root)]
        for p in q.params:
            args += ["--param", f"{p.name}={placeholder[p.type]}"]
        r = run_kg(*args)
        assert r.returncode == 0, f"{q.name}: {r.stderr}"
        json.loads(r.stdout)


# --- speed rule -----------------------------------------------------------------------------------

HEAVY = ("rdflib", "pyshacl", "owlrl", "reasonable")
PROBE = """
import sys
from kg.cli import main
for argv in ({argvs}):
    assert main(list(argv)) in (0, 1), argv  # validate may not conform
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def test_read_only_commands_do_not_import_build_libraries(built_copy):
    root = str(built_copy.root)
    argvs = [("query", "--list"), ("stats",), ("validate",)]
    argvs += [("query", q.name) for q in list_queries(built_copy) if not q.params]
    argvs = [(*a, "--project", root) for a in argvs]
    code = PROBE.format(argvs=", ".join(repr(a) for a in argvs), heavy=HEAVY)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.rstrip().endswith("HEAVY="), r.stderr


# --- formatting -----------------------------------------------------------------------------------


def test_cjk_characters_count_two_columns():
    assert display_width("伊朗") == 4
    assert display_width("Iran") == 4
    assert display_width("“弃导”") == 6  # curly quotes are ambiguous-width: one column
    q = StoredQuery("t", None, "t", "")
    result = QueryResult(q, ["a", "b"], [[Cell("伊朗"), Cell("x")], [Cell("Iran"), Cell("yy")]])
    lines = render_table(result).splitlines()
    # The second column starts at the same screen column on both rows.
    assert display_width(lines[2][: lines[2].index("x")]) == 6
    assert display_width(lines[3][: lines[3].index("yy")]) == 6


def test_header_parsing():
    text = (
        "# question: What did the US demand?\n#   One row per demand.\n"
        "# param: node IRI  the node\n# param: since date\n# columns: demand, issue\n"
        "SELECT * WHERE {}\n# question: not header\n"
    )
    question, params, columns = parse_header(text)
    assert question == "What did the US demand? One row per demand."
    assert [(p.name, p.type, p.description) for p in params] == [
        ("node", "IRI", "the node"),
        ("since", "date", ""),
    ]
    assert columns == ("demand", "issue")


def test_bad_header_is_a_query_error():
    from kg.errors import KgQueryError

    with pytest.raises(KgQueryError, match=r"q.rq:2: bad param"):
        parse_header("# question: x\n# param: node URI something\n", file="q.rq")


def test_serialize_roundtrip_helper_keeps_literals():
    # Guard for _drop: the rewrite must keep language tags and datatypes.
    q = Quad(NamedNode(ns.KGR + "a"), NamedNode(ns.RDFS + "label"), Literal("伊朗", language="zh"))
    data = serialize([q.triple], format=RdfFormat.TURTLE)
    assert [t.object for t in parse(data, RdfFormat.TURTLE)] == [q.object]
