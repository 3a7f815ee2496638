"""`kg query` for people: tables that fit, translated headers, durations, nodes by label."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg import namespaces as ns
from kg.errors import KgQueryError
from kg.format import TableLayout, display_width, fit_widths, render_table
from kg.humanize import duration_text
from kg.query import Cell, QueryResult, StoredQuery, find_query, resolve_node_params


def _table_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith("(")]


def test_a_table_fits_the_width_it_is_given(built_copy, run_kg):
    root = str(built_copy.root)
    wide = run_kg("query", "us-demands", "--project", root)
    assert max(display_width(line) for line in _table_lines(wide.stdout)) > 80
    r = run_kg("query", "us-demands", "--width", "80", "--project", root)
    assert r.returncode == 0, r.stderr
    assert all(display_width(line) <= 80 for line in _table_lines(r.stdout))
    assert "…" in r.stdout and "fitted to 80 columns" in r.stdout
    wrapped = run_kg("query", "us-demands", "--width", "80", "--wrap", "--project", root)
    assert all(display_width(line) <= 80 for line in _table_lines(wrapped.stdout))
    assert "…" not in wrapped.stdout
    assert len(wrapped.stdout.splitlines()) > len(r.stdout.splitlines())
    # every word of the wide table is still there once wrapped
    assert "inspections" in wrapped.stdout and "ultimatum" in wrapped.stdout
    again = run_kg("query", "us-demands", "--width", "80", "--wide", "--project", root)
    assert again.stdout == wide.stdout


def test_columns_choose_and_order_what_is_shown(built_copy, run_kg):
    root = str(built_copy.root)
    r = run_kg("query", "us-demands", "--columns", "issue,demand", "--project", root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["issue", "demand"]
    r = run_kg("query", "us-demands", "--columns", "demand", "--format", "json", "--project", root)
    assert set(json.loads(r.stdout)[0]) == {"demand", "demand_iri"}
    r = run_kg("query", "us-demands", "--columns", "nope", "--project", root)
    assert r.returncode == 2 and "nope not in the answer" in r.stderr and "demand" in r.stderr


def test_chinese_headers_and_durations_as_people_write_them(built_copy, run_kg):
    root = str(built_copy.root)
    cols = ("--columns", "talks,duration,duration_qualifier")
    zh = run_kg("query", "talks", "--lang", "zh", *cols, "--project", root)
    assert zh.stdout.splitlines()[0].split() == ["谈判", "时长", "时长限定"]
    # 约8小时 (kg:approximately in the qualifier column), as the article writes it
    assert "约8小时" in zh.stdout and "PT8H" not in zh.stdout
    en = run_kg("query", "talks", *cols, "--project", root)
    assert "about 8 h" in en.stdout
    assert en.stdout.splitlines()[0].split()[:2] == ["talks", "duration"]
    data = json.loads(run_kg("query", "talks", "--format", "json", *cols, "--project", root).stdout)
    assert "PT8H" in {row["duration"] for row in data}
    csv = run_kg("query", "talks", "--format", "csv", *cols, "--project", root).stdout
    assert "PT8H" in csv and "8 h" not in csv and "approximately" in csv


def test_duration_text():
    assert duration_text("PT8H", "en") == "8 h"
    assert duration_text("PT8H", "zh") == "8小时"
    assert duration_text("P1DT2H30M", "en") == "1 d 2 h 30 min"
    assert duration_text("P3M", "zh") == "3个月"
    assert duration_text("not a duration") == "not a duration"


def test_evidence_takes_a_label_as_well_as_a_name(built_copy, run_kg):
    root = str(built_copy.root)
    by_name = run_kg(
        "query", "evidence", "--param", "node=talks-2026-02-06", "--format", "json",
        "--project", root,
    )  # fmt: skip
    for label in ("US–Iran talks in Oman, 6 February", "美伊阿曼谈判(2月6日)"):
        r = run_kg(
            "query", "evidence", "--param", f"node={label}", "--format", "json", "--project", root
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout == by_name.stdout and json.loads(r.stdout)
    r = run_kg("query", "evidence", "--param", "node=no such thing at all", "--project", root)
    assert r.returncode == 2 and "is not an IRI" in r.stderr


def test_an_ambiguous_label_lists_the_nodes(built_copy):
    query = find_query(built_copy, "evidence")
    store = Store()
    label = NamedNode(ns.RDFS + "label")
    for name in ("iran", "iran-2"):
        store.add(Quad(NamedNode(ns.KGR + name), label, Literal("Iran", language="en")))
    with pytest.raises(KgQueryError, match=r"label of 2 nodes: kgr:iran \(Iran\); kgr:iran-2"):
        resolve_node_params(store, query, {"node": "IRAN"})  # no node kgr:IRAN: a label
    assert resolve_node_params(store, query, {"node": "iran"}) == {}  # a node by its name


def test_fit_widths_keeps_narrow_columns_and_shares_the_rest():
    assert fit_widths([10, 50, 80, 4], 80) == [10, 30, 30, 4]
    assert fit_widths([5, 6], 80) == [5, 6]


def test_a_long_table_is_written_whole():
    """6,554 rows of distinct Chinese and English texts (its speed is benchmarks/table.py's)."""
    q = StoredQuery("t", None, "t", "")
    rows = [
        [Cell(f"美伊阿曼谈判(2月6日) {i}"), Cell("US–Iran talks in Oman"), Cell(str(i))]
        for i in range(6554)
    ]
    text = render_table(QueryResult(q, ["a", "b", "c"], rows), TableLayout())
    lines = text.splitlines()
    assert len(lines) == 6554 + 3 and lines[-1] == "(6554 rows)"
    # the last column starts at the same place on every row: CJK characters count two columns
    starts = {display_width(line[: line.rindex(" ") + 1]) for line in lines[2:-1]}
    assert starts == {display_width(lines[1]) - len("----")}
