"""Hardening: every way a user, a file, a query or an endpoint can go wrong gets a clear
message and the documented exit code, never a traceback, a hang or a leaked secret.

Each test names the row of the README's "Errors and exit codes" table it keeps true; rows
covered elsewhere are listed there with the test that covers them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, Store, Variable
from servers import HOST, Oxigraph, copy_built, free_port, kg_command
from servers import assert_no_traceback as _no_traceback
from servers import run_cli as _kg
from test_load import FakeStore

from kg import cache
from kg import namespaces as ns
from kg import query as kq
from kg.build import ensure_built
from kg.cli import build_parser, main
from kg.errors import KgEndpointError, KgQueryError
from kg.format import render, render_csv, render_json, render_table
from kg.project import locate
from kg.query import StoredQuery, execute, expand_iri, open_store
from kg.store import Client, check_url, credentials_for, load, redact, run_remote, values_clause

ARTICLE = "data/articles/000_mini.ttl"
SOURCE = "data/sources/000_mini.txt"
KG_PREFIX = f"PREFIX kg: <{ns.KG}>\n"
# A cross join of the whole graph four times: never finishes on any real graph.
EXPLOSIVE = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }\n"
EXPLOSIVE_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }\n"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _rq(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def mini_built(built_mini, tmp_path):
    """A private copy of the built mini project (cache included)."""
    return locate(copy_built(built_mini.project.root, tmp_path / "mini"))


# --- malformed Turtle: exit 2, file:line:column and the parser's complaint, cache kept -----------


@pytest.mark.parametrize(
    ("rel", "broken", "complaint"),
    [
        ("data/shared/actors.ttl", "\nkgr:x a foo:Undeclared .\n", "foo"),
        ("ontology/ontology.ttl", '\nkg:Broken a owl:Class ;\n    rdfs:label "open .\n', ""),
    ],
    ids=["data", "ontology"],
)
def test_malformed_turtle_exits_2_with_position_and_keeps_the_last_build(
    mini_built, rel, broken, complaint
):
    before = {n: (mini_built.build_dir / n).read_bytes() for n in ("dataset.nq", "manifest.json")}
    path = mini_built.root / rel
    path.write_text(path.read_text(encoding="utf-8") + broken, encoding="utf-8")
    r = _kg("build", "--project", str(mini_built.root))
    assert r.returncode == 2, r.stderr
    m = re.search(rf"kg: error: {re.escape(rel)}:(\d+):(\d+): Turtle syntax error: (.+)", r.stderr)
    assert m, r.stderr
    assert int(m.group(1)) > len(path.read_text(encoding="utf-8").splitlines()) - 3
    assert complaint in m.group(3) and m.group(3).strip()
    _no_traceback(r)
    for name, data in before.items():
        assert (mini_built.build_dir / name).read_bytes() == data, f"{name} was touched"


# --- quotes: not in the text, or twice; the text changed since the build -------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"伊朗必须永久停止所有铀浓缩活动" .',
            '"伊朗必须立即停止所有铀浓缩活动" .',
            "quote not found",
        ),
        ('"2月6日中午谈判正式重启,在近8小时间里"', '"2月6日"', "quote occurs 2 times"),
    ],
    ids=["missing", "ambiguous"],
)
def test_a_bad_quote_exits_1_naming_node_file_and_quote(mini_copy, old, new, message):
    _edit(mini_copy.root / ARTICLE, old, new)
    quote = new.split('"')[1]
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 1, r.stderr
    [line] = [x for x in r.stderr.splitlines() if message in x]
    assert line.lstrip().startswith(f"{ARTICLE}:") and f"{message} in {SOURCE}" in line
    assert f'"{quote}"' in line
    assert re.search(r"\(node <https://w3id\.org/oman-talks/id/[\w-]+>\)", line)
    _no_traceback(r)


def test_a_source_text_edited_after_anchoring_names_the_quotes_that_no_longer_match(mini_built):
    before = (mini_built.build_dir / "dataset.nq").read_bytes()
    _edit(
        mini_built.root / SOURCE, "伊朗必须永久停止所有铀浓缩活动", "伊朗必须永远停止所有铀浓缩活动"
    )
    for args in (["build"], ["query", "demands"]):  # a read-only command rebuilds first
        r = _kg(*args, "--project", str(mini_built.root))
        assert r.returncode == 1, r.stderr
        assert f'quote not found in {SOURCE}: "伊朗必须永久停止所有铀浓缩活动"' in r.stderr
        assert f"<{ns.KGR}demand-stop-enrichment>" in r.stderr
        assert (
            f"{SOURCE} changed since the last good build: 1 quote(s) anchored in it no longer "
            'match ("伊朗必须永久停止所有铀浓缩活动")'
        ) in r.stderr
        _no_traceback(r)
    assert (mini_built.build_dir / "dataset.nq").read_bytes() == before


# --- SHACL: exit 1; focus by label and IRI, path, message, data file ----------------------------


def test_a_shacl_violation_exits_1_with_focus_label_path_message_and_file(mini_copy):
    _edit(
        mini_copy.root / ARTICLE,
        'kgi:nuclear-enrichment ;\n    kg:quote "伊朗必须永久停止所有铀浓缩活动" .',  # noqa: E501
        "kgi:nuclear-enrichment .",
    )
    built = _kg("build", "--project", str(mini_copy.root))
    assert built.returncode == 1 and "DOES NOT CONFORM" in built.stdout
    r = _kg("validate", "--project", str(mini_copy.root))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    file_line = lines.index(ARTICLE)
    focus = next(i for i, x in enumerate(lines) if "kgr:demand-stop-enrichment" in x)
    assert focus > file_line  # grouped under the file the node comes from
    assert "Violation" in lines[focus]
    assert '"Iran must permanently stop all enrichment"' in lines[focus]
    assert lines[focus + 1].strip().startswith("kg:hasEvidence: ")  # the path, then the message
    assert "kg:quote" in lines[focus + 1]
    report = json.loads(
        _kg("validate", "--format", "json", "--project", str(mini_copy.root)).stdout
    )
    [hit] = [x for x in report["results"] if x["focus"] == ns.KGR + "demand-stop-enrichment"]
    assert hit["file"] == ARTICLE and hit["message"]


# --- terms: a query naming a term the project does not define exits 1 ----------------------------


def test_a_query_with_an_undefined_term_exits_1_naming_term_file_and_line(mini_built, tmp_path):
    rq = _rq(
        tmp_path,
        "typos.rq",
        "# question: typos\n"
        + KG_PREFIX
        + f"PREFIX kgr: <{ns.KGR}>\n\n"
        + "SELECT ?d WHERE {\n"
        + "  ?d kg:demandedBy kgr:usa ;\n"
        + "     kg:adressee kgr:iran .\n"  # line 7: misspelt property
        + "  ?x kg:demandedBy kgr:united-states .\n"  # line 8: no such node
        + "}\n",
    )
    r = _kg("query", str(rq), "--project", str(mini_built.root))
    assert r.returncode == 1, r.stderr
    assert "uses 2 term(s) the project does not define" in r.stderr
    assert f"{rq}:7: kg:adressee is not defined in ontology/ (did you mean kg:addressee?)" in (
        r.stderr
    )
    assert f"{rq}:8: kgr:united-states is referred to but never described in data/" in r.stderr
    assert r.stdout == ""  # not run: its answer would be silently empty
    _no_traceback(r)


def test_a_stored_query_with_an_undefined_term_names_its_file_in_the_project(mini_built):
    path = mini_built.root / "queries/demands.rq"
    _edit(path, "kg:demandedBy ?by", "kg:demandBy ?by")
    line = next(
        n for n, x in enumerate(path.read_text().splitlines(), start=1) if "kg:demandBy" in x
    )
    r = _kg("query", "demands", "--project", str(mini_built.root))
    assert r.returncode == 1
    assert f"queries/demands.rq:{line}: kg:demandBy is not defined in ontology/" in r.stderr


def test_the_term_check_leaves_other_vocabularies_and_graph_names_alone(mini_built, tmp_path):
    rq = _rq(
        tmp_path,
        "ok.rq",
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
        + KG_PREFIX
        + "SELECT DISTINCT ?d ?name WHERE {\n  ?d a kg:Demand\n"
        + f"  OPTIONAL {{ GRAPH <{ns.GRAPH_INFERRED}> {{ ?d ?p ?o }} }}\n"
        + "  OPTIONAL { ?d foaf:nick ?name }\n}\n",
    )
    r = _kg("query", str(rq), "--format", "json", "--project", str(mini_built.root))
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 3


def test_a_syntax_error_is_reported_before_undefined_terms(mini_built, tmp_path):
    rq = _rq(tmp_path, "both.rq", KG_PREFIX + "SELECT ?d WHERE { ?d kg:nothing ?x \n")
    r = _kg("query", str(rq), "--project", str(mini_built.root))
    assert r.returncode == 2 and "SPARQL syntax error" in r.stderr


# --- a query with a syntax error: exit 2 at the .rq file's line and column ----------------------


def test_a_syntax_error_is_placed_on_the_files_own_lines(built_mini, tmp_path):
    body = "SELECT ?x WHERE {\n  ?x ?y ?z .\n} GARBAGE\n"
    positions = []
    for header_lines in (1, 6):
        header = "".join(f"# comment {i}\n" for i in range(header_lines))
        rq = _rq(tmp_path, f"broken{header_lines}.rq", header + body)
        r = _kg("query", str(rq), "--project", str(built_mini.project.root))
        assert r.returncode == 2
        m = re.search(rf"{re.escape(str(rq))}:(\d+):(\d+): SPARQL syntax error: expected", r.stderr)
        assert m, r.stderr
        positions.append((int(m.group(1)), int(m.group(2))))
        # The engine is given the file as it is: its position is the file's.
        with pytest.raises(SyntaxError, match=rf"^error at {m.group(1)}:{m.group(2)}:"):
            Store().query(header + body)
    (line1, col1), (line6, col6) = positions
    assert line1 == 1 + 3 and line6 == line1 + 5 and col1 == col6  # the `} GARBAGE` line


# --- parameters: any text is one value; it cannot change the query ------------------------------

INJECTIONS = [
    '"', "'", '"""', "\\", '\\"', "}", "{", "} ;", ";", "#", "<", ">", "\n", "\r\n", "\t", "\x00",
    '" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o } #',
    "'} UNION { ?s ?p ?o } #",
    '"^^<http://www.w3.org/2001/XMLSchema#integer> . ?x ?y ?z . FILTER(true) #',
    '") } } VALUES ?v { "x" } #',
    "?demand", "$demand", "SELECT", "WHERE { }", "LIMIT 0", "OPTIONAL", "UNION", "FILTER(false)",
    "> . ?a ?b ?c . <", "kgr:usa", "<https://w3id.org/oman-talks/id/usa>", "@en", "中文 \u202e",
]  # fmt: skip
nasty = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=5)), max_size=6).map("".join),
)
PARAM_QUERY = (
    "# question: every demand, with the parameter beside it\n"
    "# param: v {type}  anything\n"
    + KG_PREFIX
    + "SELECT ?demand ?v WHERE {{ ?demand a kg:Demand }}\n"
    "ORDER BY ?demand\n"
)


def _param_query(ptype: str) -> StoredQuery:
    text = PARAM_QUERY.format(type=ptype)
    _, params, _ = kq.parse_header(text)
    return StoredQuery("param", None, "param.rq", text, "", params, ())


@pytest.fixture(scope="module")
def mini_store(built_mini) -> Store:
    return open_store(built_mini.dataset)


@pytest.fixture(scope="module")
def demands(mini_store) -> list[str]:
    rows = execute(mini_store, _param_query("string"), {"v": "x"}).rows
    assert len(rows) == 3
    return [r[0].iri for r in rows]


def _valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=nasty)
def test_a_string_parameter_is_one_literal_whatever_it_holds(value, mini_store, demands):
    query = _param_query("string")
    if not _valid_utf8(value):
        with pytest.raises(KgQueryError, match="is not valid UTF-8 text"):
            execute(mini_store, query, {"v": value})
        return
    result = execute(mini_store, query, {"v": value})
    assert [r[0].iri for r in result.rows] == demands  # same rows, same shape
    assert result.columns == ["demand", "v"]
    assert {r[1].text for r in result.rows} == {value}  # the value comes back unchanged
    # The remote path: the same value in a VALUES clause appended to the text, run by the same
    # engine an Oxigraph server uses.
    text = query.text + values_clause({Variable("v"): Literal(value)}) + "\n"
    rows = list(mini_store.query(text, use_default_graph_as_union=True))
    assert [r["demand"].value for r in rows] == demands
    assert {r["v"] for r in rows} == {Literal(value)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=nasty)
def test_an_iri_parameter_is_one_iri_or_refused(value, mini_store, demands):
    query = _param_query("IRI")
    try:
        result = execute(mini_store, query, {"v": value})
    except KgQueryError as e:
        message = str(e)
        assert message.startswith("bad value for --param v: ") or "unknown prefix" in message
        assert "\n" not in message and "\r" not in message  # one line, whatever the value
        return
    iri = expand_iri(value)
    assert [r[0].iri for r in result.rows] == demands
    assert {r[1].iri for r in result.rows} == {iri}
    text = query.text + values_clause({Variable("v"): NamedNode(iri)}) + "\n"
    rows = list(mini_store.query(text, use_default_graph_as_union=True))
    assert [r["demand"].value for r in rows] == demands
    assert {r["v"] for r in rows} == {NamedNode(iri)}


@pytest.mark.parametrize(
    "value", ["kgr:has space", "http://example.org/a b", "<http://x/a> <http://x/b>", "kgr:a}b"]
)
def test_an_iri_with_a_space_or_a_brace_is_refused_with_exit_2(built_mini, value):
    r = _kg(
        "query", "evidence", "--param", f"node={value}", "--project", str(built_mini.project.root)
    )
    assert r.returncode == 2
    assert f"bad value for --param node: '{value}' is not an IRI" in r.stderr
    if " " in value.strip("<>"):
        assert "an IRI cannot hold a space: write it as %20" in r.stderr
    _no_traceback(r)


def test_text_that_is_not_unicode_is_refused_with_exit_2(built_mini):
    """Bytes that are not UTF-8 on the command line arrive as lone surrogates."""
    r = subprocess.run(
        [*kg_command(), "query", "evidence", "--param", b"node=kgr:\xff", "--project"]
        + [str(built_mini.project.root)],
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert b"is not valid UTF-8 text" in r.stderr and b"Traceback" not in r.stderr


def test_nasty_parameters_through_the_command_line_and_a_real_endpoint(
    built_mini, tmp_path, mini_store, demands
):
    """End to end: the CLI (embedded) and `--endpoint` against a real Oxigraph server print
    the value back and the same rows."""
    project = locate(copy_built(built_mini.project.root, tmp_path / "project"))
    rq = _rq(tmp_path, "param.rq", PARAM_QUERY.format(type="string"))
    server = Oxigraph(tmp_path / "store").start()
    try:
        report = load(project, server.store_url, env={"NETRC": "/nonexistent"})
        assert report.exit_code == 0, report.render_text()
        for value in [v for v in INJECTIONS if "\x00" not in v]:
            local = _kg(
                "query", str(rq), "--param", f"v={value}", "--format", "json",
                "--project", str(project.root),
            )  # fmt: skip
            assert local.returncode == 0, (value, local.stderr)
            rows = json.loads(local.stdout)
            assert [r["demand_iri"] for r in rows] == demands
            assert {r["v"] for r in rows} == {value}
            remote = run_remote(
                project, str(rq), {"v": value}, endpoint=server.query_url, env={"NETRC": "/x"}
            )
            assert [r[0].iri for r in remote.rows] == demands
            assert {r[1].text for r in remote.rows} == {value}
    finally:
        server.stop()


# --- labels: any text is shown safely ------------------------------------------------------------

labels = st.text(
    st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(["\n", "\r", "\t", "\x1b", "\x0b", "\x85", "\u2028", "\u202e"]),
    ),
    max_size=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(labels, min_size=1, max_size=6))
def test_any_label_is_shown_safely_in_every_format(texts):
    store = Store()
    kind = NamedNode("http://example.org/Thing")
    for i, text in enumerate(texts):
        node = NamedNode(f"http://example.org/n{i:02d}")
        store.add(Quad(node, NamedNode(ns.RDF + "type"), kind))
        store.add(Quad(node, NamedNode(ns.RDFS + "label"), Literal(text, language="en")))
    text = (
        "SELECT ?thing ?n WHERE { ?thing a <http://example.org/Thing> BIND(1 AS ?n) } "
        "ORDER BY ?thing"
    )
    query = StoredQuery("labels", None, "labels.rq", text)
    result = execute(store, query)
    assert [c.text for c, _ in result.rows] == texts  # the label lookup found every one
    table = render_table(result)
    lines = table.splitlines()  # splitlines breaks at every line boundary Unicode knows
    assert len(lines) == len(texts) + 3, table  # header, rule, one line per row, count
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", table)
    rows = list(csv.reader(io.StringIO(render_csv(result), newline="")))
    assert rows[0] == ["thing", "thing_iri", "n", "n_iri"]
    assert [r[0] for r in rows[1:]] == texts
    assert [r["thing"] for r in json.loads(render_json(result))] == texts


# --- a query that runs too long: stopped at --timeout, exit 2 ------------------------------------


def test_the_query_timeout_defaults_to_30_seconds():
    args = build_parser().parse_args(["query", "x"])
    assert args.timeout == 30.0 and args.limit is None
    for bad in (["--timeout", "0"], ["--timeout", "-1"], ["--timeout", "nan"], ["--limit", "0"]):
        with pytest.raises(SystemExit) as info:
            build_parser().parse_args(["query", "x", *bad])
        assert info.value.code == 2


@pytest.mark.parametrize("text", [EXPLOSIVE_COUNT, EXPLOSIVE], ids=["blocking", "streaming"])
def test_a_query_still_running_at_the_timeout_is_stopped_with_exit_2(built_mini, tmp_path, text):
    rq = _rq(tmp_path, "explosive.rq", text)
    started = time.monotonic()
    r = _kg(
        "query", str(rq), "--timeout", "1", "--format", "csv",
        "--project", str(built_mini.project.root), timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert r.returncode == 2, r.stderr
    assert elapsed < 8, f"took {elapsed:.1f} s to stop"
    if text is EXPLOSIVE_COUNT:
        assert "no answer within 1 s (--timeout 1): the query was stopped" in r.stderr
    else:
        assert re.search(r"stopped after \d+ rows at the time limit of 1 s", r.stderr)
    _no_traceback(r)


def test_a_timeout_in_the_library_leaves_no_busy_thread_for_a_streaming_query(mini_store):
    query = StoredQuery("x", None, "x.rq", EXPLOSIVE)
    with pytest.raises(kq.KgQueryTimeout):
        execute(mini_store, query, timeout=0.3)
    deadline = time.monotonic() + 5
    while any(t.name == "kg-query" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the worker thread did not stop"
        time.sleep(0.05)


# --- a huge result: streamed, and --limit ---------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_limit_returns_the_first_rows_of_an_endless_query_at_once(built_mini, tmp_path, fmt):
    rq = _rq(tmp_path, "explosive.rq", EXPLOSIVE)
    started = time.monotonic()
    r = _kg(
        "query", str(rq), "--limit", "5", "--format", fmt,
        "--project", str(built_mini.project.root), timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - started < 5
    if fmt == "json":
        assert len(json.loads(r.stdout)) == 5
    elif fmt == "csv":
        assert len(list(csv.reader(io.StringIO(r.stdout)))) == 1 + 5
    else:
        assert r.stdout.splitlines()[-1] == "(5 rows)"
    assert "stopped at --limit 5: the query has more rows" in r.stderr


def test_csv_output_starts_before_the_query_ends(built_mini, tmp_path):
    rq = _rq(tmp_path, "explosive.rq", EXPLOSIVE)
    started = time.monotonic()
    proc = subprocess.Popen(
        [*kg_command(), "query", str(rq), "--format", "csv", "--timeout", "60"]
        + ["--project", str(built_mini.project.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    try:
        header = proc.stdout.readline()
        first = proc.stdout.readline()
        waited = time.monotonic() - started
        assert header.startswith("a,a_iri,") and first
        assert waited < 5 and proc.poll() is None  # rows are out, the query runs on
    finally:
        proc.kill()
        proc.wait(timeout=10)


PROBE = """
import resource, sys
from kg.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print("MAXRSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
raise SystemExit(code)
"""


def _max_rss_kb(*args: str) -> int:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return int(re.search(r"MAXRSS (\d+)", r.stderr).group(1))


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_memory_stays_flat_when_the_result_grows_a_hundredfold(built_mini, tmp_path, fmt):
    rq = _rq(tmp_path, "big.rq", "SELECT ?a ?p ?b ?q WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }\n")
    base = ["query", str(rq), "--format", fmt, "--project", str(built_mini.project.root)]
    small = _max_rss_kb(*base, "--limit", "1000")
    large = _max_rss_kb(*base, "--limit", "100000")
    # Held in memory, 100,000 rows of four labelled cells take well over 100 MB.
    assert large - small < 25_000, f"{fmt}: {small} KB for 1,000 rows, {large} KB for 100,000"


def _rows_query(text: str) -> StoredQuery:
    return StoredQuery("rows", None, "rows.rq", text)


def test_a_streamed_answer_renders_as_the_whole_one_does(mini_store, monkeypatch):
    monkeypatch.setattr(kq, "PAGE_ROWS", 7)
    monkeypatch.setattr(kq, "_BATCH_ROWS", 3)
    query = _rows_query(
        f"SELECT ?s ?p WHERE {{ GRAPH <{ns.article_graph('000_mini')}> {{ ?s ?p ?o }} }} "
        "ORDER BY ?s ?p ?o"
    )
    whole = execute(mini_store, query)
    assert whole.more is None and len(whole.rows) > 50
    for fmt in ("csv", "json"):
        streamed = execute(mini_store, query, stream=True)
        assert len(streamed.rows) < len(whole.rows) and streamed.more is not None
        assert render(streamed, fmt) == render(whole, fmt), fmt
    streamed = execute(mini_store, query, stream=True)
    table = render(streamed, "table").splitlines()
    assert len(table) == len(whole.rows) + 3
    assert table[-1] == f"({len(whole.rows)} rows; columns sized on the first {len(streamed.rows)})"
    limited = execute(mini_store, query, stream=True, limit=10)
    assert len(json.loads(render(limited, "json"))) == 10
    assert limited.after == ["note: stopped at --limit 10: the query has more rows"]


def test_an_iri_column_that_starts_late_keeps_its_iris(mini_store, monkeypatch):
    # The header is fixed by the query: every column has its _iri beside it, whatever the
    # first rows hold (issue 11: it used to depend on the answer).
    monkeypatch.setattr(kq, "PAGE_ROWS", 2)
    monkeypatch.setattr(kq, "_BATCH_ROWS", 1)
    query = _rows_query(
        'SELECT ?x WHERE { VALUES ?x { "a" "b" "c" <https://w3id.org/oman-talks/id/usa> } }'
    )
    records = json.loads(render(execute(mini_store, query, stream=True), "json"))
    assert records[-1]["x_iri"] == ns.KGR + "usa" and records[0]["x_iri"] is None
    assert all(list(r) == ["x", "x_iri"] for r in records)
    rows = list(csv.reader(io.StringIO(render(execute(mini_store, query, stream=True), "csv"))))
    assert rows[0] == ["x", "x_iri"] and rows[-1][1] == ns.KGR + "usa"
    assert rows[1] == ["a", ""]


def test_the_csv_header_is_the_same_for_an_empty_answer(mini_store):
    full = _rows_query(
        "SELECT ?x ?n WHERE { VALUES (?x ?n) { (<https://w3id.org/oman-talks/id/usa> 1) } }"
    )
    empty = _rows_query("SELECT ?x ?n WHERE { VALUES (?x ?n) { } }")
    header = [
        next(csv.reader(io.StringIO(render(execute(mini_store, q), "csv")))) for q in (full, empty)
    ]
    assert header[0] == header[1] == ["x", "x_iri", "n", "n_iri"]


# --- the build cache: deleted, damaged (test_build.py) or from another version ------------------


def test_a_cache_from_another_version_of_kg_is_rebuilt(mini_built):
    path = mini_built.build_dir / cache.MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format"] = cache.FORMAT_VERSION + 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    r = _kg("query", "demands", "--project", str(mini_built.root))
    assert r.returncode == 0, r.stderr
    assert "rebuilt the cache (the cache was written by another version of kg)" in r.stderr
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == cache.FORMAT_VERSION
    manifest["format"] = 0
    del manifest["graphs"]  # an old layout, missing keys
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert ensure_built(mini_built).rebuilt


# --- export: a refused write leaves the old file as it was ---------------------------------------


def test_export_without_permission_exits_2_and_leaves_the_old_file(
    built, tmp_path, monkeypatch, capsys
):
    from kg import export as ex

    target = tmp_path / "graph.ttl"
    target.write_text("previous export\n")
    real_access = os.access
    monkeypatch.setattr(
        ex.os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode)
    )
    assert main(["export", "--project", str(built.project.root), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {target}: no permission to write in {tmp_path}" in err
    assert target.read_text() == "previous export\n"
    if os.geteuid() != 0:  # root writes anywhere: the real refusal can only be seen as a user
        monkeypatch.setattr(ex.os, "access", real_access)
        tmp_path.chmod(0o500)
        try:
            assert main(["export", "--project", str(built.project.root), "-o", str(target)]) == 2
            assert target.read_text() == "previous export\n"
        finally:
            tmp_path.chmod(0o700)


# --- endpoints: 404, slow, timeouts not retried for queries --------------------------------------


@pytest.fixture(scope="module")
def project_dir(built, tmp_path_factory) -> Path:
    return copy_built(built.project.root, tmp_path_factory.mktemp("hardening-project"))


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_ENDPOINT_")}
    env["NETRC"] = str(tmp_path / "no-netrc")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args, cwd, env, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*kg_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def test_load_into_a_404_exits_2_at_once_and_says_nothing_was_replaced(
    project_dir, clean_env, built
):
    store = FakeStore(put=lambda n, iri: 404)
    try:
        r = _run(["load", "--endpoint", store.url], project_dir, clean_env)
    finally:
        store.close()
    assert r.returncode == 2
    assert "answered HTTP 404 Not Found" in r.stderr
    assert len(store.puts()) == 1  # not retried
    n = len(built.manifest["graphs"])
    assert f"Replaced 0 of {n}: none." in r.stdout
    _no_traceback(r)


def test_load_into_an_endpoint_that_is_always_slow_stops_after_3_attempts(
    project_dir, clean_env, built
):
    store = FakeStore(put=lambda n, iri: ("slow", 1.0))
    started = time.monotonic()
    try:
        r = _run(["load", "--endpoint", store.url, "--timeout", "0.3"], project_dir, clean_env)
    finally:
        store.close()
    assert r.returncode == 2
    assert time.monotonic() - started < 15
    assert "no answer within 0.3 s (timeout) (3 attempts)" in r.stderr
    assert len(store.puts()) == 3
    graphs = sorted(built.manifest["graphs"])
    assert f"Replaced 0 of {len(graphs)}: none." in r.stdout
    assert "Not replaced: " + ", ".join(g.removeprefix(ns.GRAPH_BASE) for g in graphs) in r.stdout


class Scripted:
    """A SPARQL endpoint that answers every request with one status, after a delay."""

    def __init__(self, status: int = 200, delay: float = 0.0, body: bytes | None = None):
        self.requests: list[dict] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                scripted.requests.append(
                    {"auth": self.headers.get("Authorization"), "body": self.rfile.read(length)}
                )
                time.sleep(delay)
                data = body if body is not None else f"denied {self.headers.get('Authorization')}"
                data = data if isinstance(data, bytes) else data.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except ConnectionError:
                    pass  # the client gave up waiting (the timeout tests)

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}/query"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(("status", "said"), [(404, "HTTP 404"), (500, "HTTP 500")])
def test_query_on_a_failing_endpoint_exits_2(project_dir, clean_env, status, said):
    endpoint = Scripted(status)
    try:
        r = _run(["query", "talks", "--endpoint", endpoint.url], project_dir, clean_env)
    finally:
        endpoint.close()
    assert r.returncode == 2 and said in r.stderr
    assert len(endpoint.requests) == 1
    _no_traceback(r)


def test_a_query_the_server_stopped_is_not_sent_again(project_dir, clean_env):
    """kg serve answers 503 "query stopped" at its time limit: retrying would only repeat it."""
    endpoint = Scripted(503, body=b"query stopped after 2 s (kg serve --timeout)")
    try:
        r = _run(["query", "talks", "--endpoint", endpoint.url], project_dir, clean_env)
    finally:
        endpoint.close()
    assert r.returncode == 2 and "query stopped after 2 s" in r.stderr
    assert len(endpoint.requests) == 1
    _no_traceback(r)


def test_a_slow_remote_query_is_stopped_at_the_timeout_and_not_tried_again(project_dir, clean_env):
    endpoint = Scripted(200, delay=3.0)
    started = time.monotonic()
    try:
        r = _run(
            ["query", "talks", "--endpoint", endpoint.url, "--timeout", "0.5"],
            project_dir,
            clean_env,
        )
    finally:
        endpoint.close()
    assert r.returncode == 2
    assert time.monotonic() - started < 3
    assert "no answer within 0.5 s (timeout)" in r.stderr
    assert len(endpoint.requests) == 1
    _no_traceback(r)


# --- credentials: never in output, messages, exceptions or their tracebacks ----------------------

USER, PASSWORD, TOKEN = "alice", "s3cret-Pa55word", "tok-9f8e7d6c5b4a"


KG_PACKAGE = str(Path(cache.__file__).parent)


def _all_text(exc: BaseException, *, kg_locals: bool = True) -> str:
    """Everything an exception can show: message, repr, args, and the same for its chain
    (even a suppressed context), its formatted traceback, and the local variables of the
    frames in kg's own code (what a "traceback with locals" would print)."""
    parts, seen, todo = [], set(), [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        parts += [str(e), repr(e), repr(e.args)]
        todo += [e.__cause__, e.__context__]
        if kg_locals:
            frames = [
                (frame, line)
                for frame, line in traceback.walk_tb(e.__traceback__)
                if frame.f_code.co_filename.startswith(KG_PACKAGE)
            ]
            summary = traceback.StackSummary.extract(frames, capture_locals=True)
            parts += summary.format()
    parts += traceback.format_exception(exc)
    return "\n".join(parts)


@pytest.mark.parametrize("status", [401, 403, 500])
@pytest.mark.parametrize("kind", ["basic", "token"])
def test_no_exception_from_kg_store_holds_a_secret(project_dir, monkeypatch, status, kind):
    for key in ("KG_ENDPOINT_USER", "KG_ENDPOINT_PASSWORD", "KG_ENDPOINT_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    if kind == "basic":
        monkeypatch.setenv("KG_ENDPOINT_USER", USER)
        monkeypatch.setenv("KG_ENDPOINT_PASSWORD", PASSWORD)
    else:
        monkeypatch.setenv("KG_ENDPOINT_TOKEN", TOKEN)
    monkeypatch.setenv("NETRC", "/nonexistent")
    endpoint = Scripted(status)  # its error body echoes the Authorization header
    try:
        with pytest.raises(KgEndpointError) as info:
            run_remote(locate(project_dir), "talks", endpoint=endpoint.url)
    finally:
        endpoint.close()
    sent = endpoint.requests[0]["auth"]
    assert sent, "the credentials were not sent"
    secrets = (PASSWORD, TOKEN, sent.split()[-1])
    text = _all_text(info.value)
    assert f"HTTP {status}" in text
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked"
    credentials = credentials_for(endpoint.url)
    client = Client(credentials)
    for shown in (repr(credentials), str(credentials), repr(client), repr(vars(client))):
        for secret in secrets:
            assert secret not in shown


@pytest.mark.parametrize(
    "password", [PASSWORD, "pa/ss-word", "pa?ss=word", "pa#ss-word", "p@ss/word", "pa:ss@word"]
)
@pytest.mark.parametrize("command", ["load", "query"])
def test_a_password_in_the_url_is_refused_and_never_echoed(project_dir, capsys, password, command):
    url = f"http://{USER}:{password}@{HOST}:{free_port()}/store"
    args = ["load", "--endpoint", url] if command == "load" else ["query", "talks", "--endpoint"]
    if command == "query":
        args.append(url.replace("/store", "/query"))
    assert main([*args, "--project", str(project_dir)]) == 2
    out = capsys.readouterr()
    assert "credentials in the URL are not accepted" in out.err
    for secret in [password, *re.split(r"[/?#@:]", password)]:
        if len(secret) >= 5:
            assert secret not in out.out + out.err, secret
    with pytest.raises(KgEndpointError) as info:
        check_url(url, "--endpoint")
    assert password not in _all_text(info.value, kg_locals=False)  # `url` is check_url's input
    assert password not in redact(url) and redact(url).endswith(f"@{HOST}:" + url.split(":")[-1])


# --- kg serve: loopback only, read-only (test_serve.py), a query time limit passed on -----------


def _listeners(port: int) -> set[str]:
    """Local addresses listening (TCP state 0A) on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields after the command: state, ppid, ...
            kids.append(int(stat.parent.name))
    return kids


def test_serve_listens_on_the_loopback_only_and_keeps_the_time_limit_itself(project_dir):
    from test_serve import start_serve

    server = start_serve(project_dir)
    try:
        loopback = "0100007F"  # 127.0.0.1, as /proc/net/tcp writes it
        assert _listeners(server.port) == {loopback}
        assert _listeners(server.pages_port) == {loopback}
        # Oxigraph itself listens on another loopback port, behind kg's proxy on the public one.
        [child] = _children(server.proc.pid)
        argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        assert argv[1] == "serve" and "--location" not in argv  # in memory, behind the proxy
        bind_host, _, bind_port = argv[argv.index("--bind") + 1].rpartition(":")
        assert bind_host == "127.0.0.1" and int(bind_port) != server.port
        assert _listeners(int(bind_port)) == {loopback}
        # kg's proxy keeps the time limit; Oxigraph's own would keep a thread per query.
        assert "--timeout-s" not in argv
    finally:
        code, _ = server.stop()
    assert code == 0


def test_serve_on_a_busy_port_exits_2_naming_it(project_dir):
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        s.listen()
        port = s.getsockname()[1]
        r = _kg("serve", "--port", str(port), "--pages-port", "0", cwd=project_dir, timeout=60)
    assert r.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr
    _no_traceback(r)


# --- build side: undefined terms in data, two builds at once ------------------------------------


def test_a_misspelt_property_in_data_fails_the_build_naming_term_file_and_line(
    project_copy, clean_env
):
    article = project_copy.root / "data" / "articles" / "000_5411ffdd50fd7b8e.ttl"
    text = article.read_text(encoding="utf-8")
    text = text.replace("kg:performedBy kgr:iran ;", "kg:perfomedBy kgr:iran ;", 1)
    article.write_text(text, encoding="utf-8")
    line = text[: text.index("kg:perfomedBy")].count("\n") + 1
    r = _run(["build"], project_copy.root, clean_env)
    assert r.returncode == 1, r.stderr
    assert f"data/articles/000_5411ffdd50fd7b8e.ttl:{line}: kg:perfomedBy" in r.stderr
    assert "is not defined in ontology/" in r.stderr
    assert not (project_copy.root / "build" / "dataset.nq").exists()
    _no_traceback(r)


def test_a_term_minted_in_another_vocabulary_fails_the_build(project_copy, clean_env):
    shared = project_copy.root / "data" / "shared" / "actors.ttl"
    shared.write_text(
        shared.read_text(encoding="utf-8").replace(
            "@prefix rdfs:", "@prefix schema: <https://schema.org/> .\n@prefix rdfs:", 1
        )
        + "\nkgr:oman schema:negotiator kgr:badr .\n",
        encoding="utf-8",
    )
    r = _run(["build"], project_copy.root, clean_env)
    assert r.returncode == 1
    assert "schema:negotiator" in r.stderr or "https://schema.org/negotiator" in r.stderr
    assert "is not a known term" in r.stderr


def test_two_builds_at_once_one_waits_and_the_cache_is_whole(project_copy, clean_env):
    root = project_copy.root
    procs = [
        subprocess.Popen(
            [*kg_command(), "build"],
            cwd=root,
            env=clean_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    stdout = "".join(o for o, _ in outs)
    stderr = "".join(e for _, e in outs)
    assert stdout.count("Built ") == 1, stdout  # one built, the other reused its work
    assert "another kg build is running" in stderr
    manifest = json.loads((root / "build" / "manifest.json").read_text(encoding="utf-8"))
    data = (root / "build" / "dataset.nq").read_bytes()
    assert cache.sha256_bytes(data) == manifest["dataset"]["sha256"]
