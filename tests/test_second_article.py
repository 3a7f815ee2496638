"""A second article is data only: add its .ttl and source text, build, and query it."""

from __future__ import annotations

import json

from pyoxigraph import NamedNode, RdfFormat, parse

from kg import namespaces as ns
from kg.build import build

ARTICLE_ID = "900_second_test"
SOURCE = "2月13日,美国和伊朗在阿曼举行第二轮谈判。\n双方同意继续保持沟通渠道。\n下一篇:另一条新闻\n"
QUERY = """# question: Which nodes does the second test article ground, and with what?
# columns: node quote actor
PREFIX kg: <https://w3id.org/oman-talks/ontology#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT ?node ?quote ?actor WHERE {
  GRAPH <https://w3id.org/oman-talks/graph/article/900_second_test> {
    ?node kg:hasEvidence ?e ; kg:participant ?actor .
    ?e oa:hasTarget/oa:hasSelector/oa:exact ?quote .
  }
}
ORDER BY ?quote
"""


def _shared_actor(project) -> str:
    """Some labelled node of data/shared, to reuse instead of minting a new one."""
    label = NamedNode(ns.RDFS + "label")
    subjects = set()
    for path in sorted((project.root / "data/shared").glob("*.ttl")):
        for q in parse(path.read_bytes(), RdfFormat.TURTLE):
            if q.predicate == label and isinstance(q.subject, NamedNode):
                subjects.add(q.subject.value)
    assert subjects, "data/shared has no labelled node"
    return sorted(subjects)[0]


def _add_article(project, actor: str) -> None:
    (project.sources_dir / f"{ARTICLE_ID}.txt").write_text(SOURCE, encoding="utf-8")
    ttl = f"""@prefix kg:   <{ns.KG}> .
@prefix kgr:  <{ns.KGR}> .
@prefix rdfs: <{ns.RDFS}> .
@prefix xsd:  <{ns.XSD}> .

kgr:article-{ARTICLE_ID} a kg:NewsArticle ;
    rdfs:label "Second round of talks (test)"@en , "第二轮谈判(测试)"@zh ;
    kg:sourceFile "{ARTICLE_ID}.txt" ;
    kg:pageFurniture "下一篇:另一条新闻" .

kgr:talks-2026-02-13-test a kg:Meeting ;
    rdfs:label "Second round in Oman (test)"@en , "第二轮阿曼谈判(测试)"@zh ;
    kg:date "2026-02-13"^^xsd:date ;
    kg:participant <{actor}> ;
    kg:quote "美国和伊朗在阿曼举行第二轮谈判" , "双方同意继续保持沟通渠道" .
"""
    (project.root / "data/articles" / f"{ARTICLE_ID}.ttl").write_text(ttl, encoding="utf-8")


def test_second_article_builds_and_is_queryable(built_copy, tmp_path, run_kg):
    actor = _shared_actor(built_copy)
    _add_article(built_copy, actor)
    result = build(built_copy)
    assert result.rebuilt
    assert ns.article_graph(ARTICLE_ID) in result.manifest["graphs"]
    # Reusing the shared actor mints nothing new in data/shared.
    rq = tmp_path / "second.rq"
    rq.write_text(QUERY, encoding="utf-8")
    r = run_kg("query", str(rq), "--format", "json", "--project", str(built_copy.root))
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["quote"] for row in rows] == [
        "双方同意继续保持沟通渠道",
        "美国和伊朗在阿曼举行第二轮谈判",
    ]
    assert {row["actor_iri"] for row in rows} == {actor}
    assert all(row["node_iri"] == ns.KGR + "talks-2026-02-13-test" for row in rows)


def test_second_article_evidence_is_in_its_own_graph(built_copy):
    _add_article(built_copy, _shared_actor(built_copy))
    result = build(built_copy)
    start = SOURCE.index("双方同意")
    e = ns.evidence_iri(ARTICLE_ID, start, start + len("双方同意继续保持沟通渠道"))
    lines = [line for line in result.dataset.decode().splitlines() if line.startswith(f"<{e}>")]
    assert lines and all(line.endswith(f"<{ns.article_graph(ARTICLE_ID)}> .") for line in lines)


def test_second_article_on_mini_conforms_and_stored_queries_see_it(mini_copy, run_kg):
    _add_article(mini_copy, ns.KGR + "iran")
    result = build(mini_copy)
    assert result.conforms, result.report.render_text()
    r = run_kg(
        "query",
        "events-on",
        "--param",
        "day=2026-02-13",
        "--format",
        "json",
        "--project",
        str(mini_copy.root),
    )
    assert r.returncode == 0, r.stderr
    assert {row["event_iri"] for row in json.loads(r.stdout)} == {ns.KGR + "talks-2026-02-13-test"}
    r = run_kg("query", "actors", "--format", "json", "--project", str(mini_copy.root))
    assert len({row["actor_iri"] for row in json.loads(r.stdout)}) == 6  # no new actor
