"""Evidence anchoring: kg:quote expands to Web Annotation selectors that slice back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Dataset, NamedNode, RdfFormat, Store, parse

from kg import namespaces as ns
from kg.anchor import CONTEXT_CHARS, literal_line
from kg.build import build
from kg.errors import KgAnchorError

ARTICLE = "data/articles/000_mini.ttl"
PREFIXES = {"kg": ns.KG, "oa": ns.OA, "prov": ns.PROV}

ANNOTATIONS = """
SELECT ?e ?g ?article ?file ?exact ?prefix ?suffix ?start ?end WHERE {
  GRAPH ?g {
    ?e a oa:Annotation ; oa:motivatedBy oa:identifying ; oa:hasTarget ?t ;
       prov:wasDerivedFrom ?article .
    ?t a oa:SpecificResource ; oa:hasSource ?article ; oa:hasSelector ?q , ?p .
    ?q a oa:TextQuoteSelector ; oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
    ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
  }
  ?article kg:sourceFile ?file .
}
"""

UNANCHORED = """
SELECT ?node ?quote WHERE {
  ?node kg:quote ?quote .
  FILTER NOT EXISTS {
    ?node kg:hasEvidence ?e .
    ?e oa:hasBody ?node ; oa:hasTarget/oa:hasSelector/oa:exact ?quote .
  }
}
"""


def _store(result) -> Store:
    store = Store()
    store.load(result.dataset, RdfFormat.N_QUADS)
    return store


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_with(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in {path}")


def _problems(project) -> list:
    with pytest.raises(KgAnchorError) as info:
        build(project)
    return info.value.problems


# --- on the project under test (generic) ---------------------------------------------------


def test_every_quote_is_anchored(built):
    rows = list(_store(built).query(UNANCHORED, prefixes=PREFIXES, use_default_graph_as_union=True))
    assert rows == []


def test_offsets_slice_back_to_the_quote(built):
    rows = list(
        _store(built).query(ANNOTATIONS, prefixes=PREFIXES, use_default_graph_as_union=True)
    )
    assert rows, "no evidence in the build"
    sources = built.project.sources_dir
    for r in rows:
        text = (sources / r["file"].value).read_text(encoding="utf-8")
        start, end = int(r["start"].value), int(r["end"].value)
        assert text[start:end] == r["exact"].value
        # the context is up to CONTEXT_CHARS, clipped at page furniture (test below)
        assert text[max(0, start - CONTEXT_CHARS) : start].endswith(r["prefix"].value)
        assert text[end : end + CONTEXT_CHARS].startswith(r["suffix"].value)
        article_id = r["g"].value.rsplit("/", 1)[1]
        assert r["g"].value == ns.article_graph(article_id)
        assert r["e"].value == ns.evidence_iri(article_id, start, end)


def test_quote_context_stops_at_page_furniture(built):
    """oa:prefix / oa:suffix hold content only: never the furniture, not even its start."""
    store = _store(built)
    furniture = [
        r[0].value
        for r in store.query(
            "SELECT ?f WHERE { ?a kg:pageFurniture ?f }",
            prefixes=PREFIXES,
            use_default_graph_as_union=True,
        )
    ]
    assert furniture, "the project declares no page furniture: nothing to check"
    rows = list(store.query(ANNOTATIONS, prefixes=PREFIXES, use_default_graph_as_union=True))
    sources = built.project.sources_dir
    clipped = 0
    for r in rows:
        text = (sources / r["file"].value).read_text(encoding="utf-8")
        end = int(r["end"].value)
        for f in furniture:
            at = text.find(f)
            if at >= end and at < end + CONTEXT_CHARS:
                assert end + len(r["suffix"].value) == at, (r["e"].value, r["suffix"].value)
                clipped += 1
    assert clipped, "no quote ends near the furniture: the clipping is not exercised"


def test_evidence_count_matches_manifest(built):
    rows = list(
        _store(built).query(ANNOTATIONS, prefixes=PREFIXES, use_default_graph_as_union=True)
    )
    assert len({r["e"] for r in rows}) == built.manifest["evidence"]


def test_first_quote_start_is_the_earliest_evidence_of_each_node_per_article(built):
    """kg:firstQuoteStart (the story-order key queries sort by) is one value per node and
    article graph: the smallest oa:start of the node's evidence in that graph."""
    dataset = Dataset(parse(built.dataset, RdfFormat.N_QUADS))
    has_evidence, first = NamedNode(ns.KG + "hasEvidence"), NamedNode(ns.KG + "firstQuoteStart")
    expected: dict[tuple, int] = {}
    for q in dataset.quads_for_predicate(has_evidence):
        start = int(q.object.value.rsplit("/", 1)[1].split("-")[0])  # <E> ends in start-end
        key = (q.subject, q.graph_name)
        expected[key] = min(start, expected.get(key, start))
    written: dict[tuple, list] = {}
    for q in dataset.quads_for_predicate(first):
        written.setdefault((q.subject, q.graph_name), []).append(q.object)
    assert expected, "no evidence in the build"
    assert set(written) == set(expected)
    for key, values in written.items():
        assert [int(v.value) for v in values] == [expected[key]], key
        assert values[0].datatype.value == ns.XSD + "nonNegativeInteger"


# --- on the mini fixture (exact content) ----------------------------------------------------


def test_two_nodes_quoting_one_span_share_the_annotation(built_mini):
    store = _store(built_mini)
    e = NamedNode(ns.evidence_iri("000_mini", 0, 19))
    bodies = {
        q.object.value for q in store.quads_for_pattern(e, NamedNode(ns.OA + "hasBody"), None)
    }
    assert bodies == {ns.KGR + "talks-2026-02-06", ns.KGR + "talks-end"}
    graphs = {q.graph_name.value for q in store.quads_for_pattern(e, None, None, None)}
    assert graphs == {ns.article_graph("000_mini")}


def test_positions_are_typed_non_negative_integers(built_mini):
    # Read dataset.nq as a Dataset: pyoxigraph's Store reports derived integer types as
    # xsd:integer, but the build output keeps xsd:nonNegativeInteger as conventions say.
    dataset = Dataset(parse(built_mini.dataset, RdfFormat.N_QUADS))
    position = NamedNode(ns.evidence_iri("000_mini", 0, 19) + "/position")
    [start] = [
        q.object
        for q in dataset.quads_for_subject(position)
        if q.predicate == NamedNode(ns.OA + "start")
    ]
    assert start.value == "0"
    assert start.datatype.value == ns.XSD + "nonNegativeInteger"


def test_missing_quote_names_file_line_node_and_text(mini_copy):
    article = mini_copy.root / ARTICLE
    _edit(article, '伊朗必须永久停止所有铀浓缩活动" .', '伊朗必须立即停止所有铀浓缩活动" .')
    [p] = _problems(mini_copy)
    assert p.file == ARTICLE
    assert p.line == _line_with(article, '伊朗必须立即停止所有铀浓缩活动" .')
    assert p.node == ns.KGR + "demand-stop-enrichment"
    assert p.text == "伊朗必须立即停止所有铀浓缩活动"
    assert str(p).startswith(
        f'{ARTICLE}:{p.line}: quote not found in data/sources/000_mini.txt: "伊朗必须立即'
    )


def test_all_problems_are_reported_at_once(mini_copy):
    article = mini_copy.root / ARTICLE
    _edit(article, '限制弹道导弹计划" .', '限制导弹计划" .')
    _edit(article, '停止对地区反以色列武装的支持"""', '停止支持"""')
    problems = _problems(mini_copy)
    assert {p.node.rsplit("/", 1)[1] for p in problems} == {
        "demand-limit-missiles",
        "demand-stop-proxies",
    }


def test_ambiguous_quote_is_an_error(mini_copy):
    article = mini_copy.root / ARTICLE
    _edit(article, '"2月6日中午谈判正式重启,在近8小时间里"', '"2月6日"')
    [p] = _problems(mini_copy)
    assert "occurs 2 times" in p.message and "(at 0, 97)" in p.message
    assert p.line == _line_with(article, '"2月6日" .')


def test_quote_inside_page_furniture_is_an_error(mini_copy):
    article = mini_copy.root / ARTICLE
    _edit(article, '"伊朗必须永久停止所有铀浓缩活动" .', '"苏翊鸣回应冬奥会" .')
    [p] = _problems(mini_copy)
    assert "page furniture" in p.message
    assert p.text == "苏翊鸣回应冬奥会"


def test_missing_source_text_is_reported(mini_copy):
    (mini_copy.root / "data/sources/000_mini.txt").rename(mini_copy.root / "data/sources/x.txt")
    [p] = _problems(mini_copy)
    assert "source text not found: data/sources/000_mini.txt" in p.message


def test_quote_outside_an_article_file_is_rejected(mini_copy):
    shared = mini_copy.root / "data/shared/actors.ttl"
    _edit(shared, 'rdfs:label "Iran"@en', 'kg:quote "伊朗" ;\n    rdfs:label "Iran"@en')
    [p] = _problems(mini_copy)
    assert p.file == "data/shared/actors.ttl"
    assert "only allowed in data/articles" in p.message


def test_failed_anchoring_keeps_the_last_good_cache(mini_copy):
    build(mini_copy)
    before = (mini_copy.build_dir / "dataset.nq").read_bytes()
    _edit(mini_copy.root / ARTICLE, '限制弹道导弹计划" .', '不存在的引文" .')
    _problems(mini_copy)
    assert (mini_copy.build_dir / "dataset.nq").read_bytes() == before


def test_crlf_source_offsets_count_both_characters(mini_copy):
    # Offsets index the text as stored: a CR LF line break is two code points.
    src = mini_copy.root / "data/sources/000_mini.txt"
    src.write_bytes(src.read_bytes().replace(b"\n", b"\r\n"))
    result = build(mini_copy)
    text = src.read_bytes().decode("utf-8")
    rows = _store(result).query(ANNOTATIONS, prefixes=PREFIXES, use_default_graph_as_union=True)
    for r in rows:
        assert text[int(r["start"].value) : int(r["end"].value)] == r["exact"].value


def test_literal_line_prefers_the_nodes_own_statement():
    ttl = 'kgr:a kg:quote "x" .\n\nkgr:b a kg:Event ;\n    kg:quote "x" .\n'
    assert literal_line(ttl, ns.KGR + "a", "x") == 1
    assert literal_line(ttl, ns.KGR + "b", "x") == 4
    assert literal_line(ttl, ns.KGR + "b", "absent") == 3  # falls back to the node
