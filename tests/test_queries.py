"""The stored queries (queries/*.rq) answer the article's questions.

The dataset: the real project (ontology/, data/, queries/ of this repository) copied to a tmp
dir by conftest's `copy_project` and built once for this module with the engine's public
`kg.build.build` (load, anchor evidence, OWL RL inference, validation). Queries run through
`kg.query.execute` on the built N-Quads, so parameters are bound the engine's way and IRIs
are labelled in English and in Chinese as `kg query --lang en|zh` shows them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Variable

from kg import namespaces as ns
from kg.build import BuildResult, build
from kg.project import locate
from kg.query import QueryResult, execute, find_query, open_store

REPO_ROOT = Path(__file__).resolve().parent.parent
QUERIES = REPO_ROOT / "queries"
ARTICLE_ID = "000_5411ffdd50fd7b8e"

EXPECTED_QUERIES = {
    "participants",
    "talks",
    "venue-change",
    "us-demands",
    "iran-positions",
    "conflicts",
    "conditional-offers",
    "measures",
    "timeline",
    "statements",
    "background",
    "third-parties",
    "next-steps",
    "actors",
    "claims",
    "evidence",
}
# Parameters for the generic tests of queries that take some.
SAMPLE_PARAMS = {"evidence": {"node": "kgr:talks-2026-02-06"}}


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(copy_project, tmp_path_factory) -> BuildResult:
    """The real project copied to a tmp dir and built once for this module."""
    root = copy_project(REPO_ROOT, tmp_path_factory.mktemp("seed"))
    return build(locate(root))


@pytest.fixture(scope="module")
def store(seed):
    return open_store(seed.dataset)


@pytest.fixture(scope="module")
def asserted_store(seed):
    """The same dataset without the inferred graph: the queries must not need inference."""
    bare = open_store(seed.dataset)
    bare.remove_graph(NamedNode(ns.GRAPH_INFERRED))
    return bare


def short(iri: str | None) -> str | None:
    return None if iri is None else ns.shorten(iri)


class Answer:
    """A query result as rows of {column: value}; IRIs as prefixed names, literals as text."""

    def __init__(self, result: QueryResult):
        self.result = result
        self.columns = result.columns
        self.rows = [
            {
                c: (short(cell.iri) if cell.iri else (cell.text if cell.bound else None))
                for c, cell in zip(result.columns, row, strict=True)
            }
            for row in result.rows
        ]
        self.labels = [
            {
                c: (cell.text if cell.bound else None)
                for c, cell in zip(result.columns, row, strict=True)
            }
            for row in result.rows
        ]

    def __len__(self) -> int:
        return len(self.rows)

    def where(self, **match) -> list[dict]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]

    def one(self, **match) -> dict:
        found = self.where(**match)
        assert len(found) == 1, f"expected one row matching {match}, got {found}"
        return found[0]

    def column(self, name: str) -> list:
        return [r[name] for r in self.rows]

    def label_column(self, name: str) -> list:
        return [r[name] for r in self.labels]

    def tuples(self, *cols) -> set[tuple]:
        return {tuple(r[c] for c in cols) for r in self.rows}

    def label_tuples(self, *cols) -> set[tuple]:
        return {tuple(r[c] for c in cols) for r in self.labels}


@pytest.fixture(scope="module")
def ask(seed, store):
    project = seed.project

    def _ask(name: str, lang: str = "en", on=None, **params) -> Answer:
        query = find_query(project, name)
        return Answer(execute(on or store, query, params, lang=lang))

    return _ask


def stored_query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES.glob("*.rq"))


# --------------------------------------------------------------------------------------------
# Every stored query: header, prefixes, order, no duplicates, no dependence on inference
# --------------------------------------------------------------------------------------------


def test_every_question_has_its_query():
    assert set(stored_query_names()) >= EXPECTED_QUERIES


@pytest.mark.parametrize("name", stored_query_names())
def test_query_file_conventions(seed, name):
    query = find_query(seed.project, name)
    text = query.text
    assert text.startswith("# question:"), "the header comes first"
    assert query.question, "a '# question:' line"
    assert query.columns, "a '# columns:' line"
    assert re.search(r"^PREFIX\s+kg:\s+<https://w3id.org/oman-talks/ontology#>", text, re.M)
    # every prefix used is declared in the file itself
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    declared = set(re.findall(r"^PREFIX\s+(\w*):", body, re.M))
    used = set(re.findall(r"(?<![\w<#/?])([a-z][\w-]*):[A-Za-z_]", body)) - {"http", "https"}
    assert used <= declared, f"undeclared prefixes: {used - declared}"
    assert re.search(r"\bORDER\s+BY\b", body, re.I), "a deterministic ORDER BY"
    assert "{{" not in body and "$" not in body, "parameters are SPARQL variables, not templates"
    for p in query.params:
        assert re.search(rf"\?{p.name}\b", body), f"param {p.name} is a variable of the query"


@pytest.mark.parametrize("name", stored_query_names())
def test_query_rows_are_distinct_and_language_independent(ask, name):
    params = SAMPLE_PARAMS.get(name, {})
    en = ask(name, "en", **params)
    zh = ask(name, "zh", **params)
    assert len(en) > 0, f"{name} answers nothing on the seed data"
    keys = [tuple((c.text, c.iri) for c in row) for row in en.result.rows]
    assert len(keys) == len(set(keys)), f"{name} returns duplicate rows"
    # the same things in the same order whatever the label language
    assert en.rows == zh.rows


@pytest.mark.parametrize("name", stored_query_names())
def test_query_does_not_depend_on_inference(ask, asserted_store, name):
    params = SAMPLE_PARAMS.get(name, {})
    assert ask(name, "en", on=asserted_store, **params).rows == ask(name, "en", **params).rows


def test_no_literal_comes_in_both_languages(ask, store):
    """A column never holds the @en and the @zh variant of one value as two rows."""
    pairs = {
        (sol["en"].value, sol["zh"].value)
        for sol in store.query(
            """SELECT DISTINCT ?en ?zh WHERE { ?s ?p ?en , ?zh .
                 FILTER(LANG(?en) = "en" && LANG(?zh) = "zh") }""",
            use_default_graph_as_union=True,
        )
    }
    assert pairs, "the data has literals in both languages"
    for name in stored_query_names():
        answer = ask(name, **SAMPLE_PARAMS.get(name, {}))
        for col in answer.columns:
            values = {r[col] for r in answer.rows if r[col] is not None}
            both = [(en, zh) for en, zh in pairs if en in values and zh in values]
            assert not both, f"{name}.{col} holds both language variants: {both[:2]}"


# --------------------------------------------------------------------------------------------
# participants
# --------------------------------------------------------------------------------------------


def test_participants(ask):
    a = ask("participants")
    talks = "kgr:talks-2026-02-06"
    assert set(a.column("talks")) == {talks}
    got = a.tuples("participant", "side", "role")
    assert ("kgr:araghchi", "kgr:iran", "kg:headOfDelegation") in got
    assert ("kgr:witkoff", "kgr:united-states", "kg:headOfDelegation") in got
    assert ("kgr:kushner", "kgr:united-states", "kg:headOfDelegation") in got
    assert ("kgr:cooper", "kgr:united-states", "kg:delegationMember") in got
    assert ("kgr:oman", None, "kg:mediator") in got
    assert ("kgr:badr", None, "kg:mediator") in got
    assert ("kgr:iran-nuclear-experts", "kgr:iran", "kg:delegationMember") in got
    assert ("kgr:iran-diplomatic-advisers", "kgr:iran", "kg:delegationMember") in got
    heads = {(r["participant"], r["side"]) for r in a.where(role="kg:headOfDelegation")}
    assert heads == {
        ("kgr:araghchi", "kgr:iran"),
        ("kgr:witkoff", "kgr:united-states"),
        ("kgr:kushner", "kgr:united-states"),
    }
    assert a.one(participant="kgr:araghchi")["title"] == "kgr:post-iran-foreign-minister"
    assert a.one(participant="kgr:cooper")["title"] == "kgr:post-centcom-commander"
    # the planned observers of the abandoned Istanbul plan did not take part
    assert "kgr:middle-east-observer-states" not in a.column("participant")
    # each side's heads before its members; mediators, on no side, last
    roles = a.column("role")
    first_mediator = roles.index("kg:mediator")
    assert set(roles[first_mediator:]) == {"kg:mediator"}
    for side in ("kgr:iran", "kgr:united-states"):
        side_roles = [r["role"] for r in a.where(side=side)]
        assert side_roles == sorted(side_roles, key=["kg:headOfDelegation"].count, reverse=True)

    en = ask("participants", "en").label_tuples("participant", "side", "role", "title")
    assert ("Araghchi", "Iran", "head of delegation", "Foreign Minister of Iran") in en
    assert ("Cooper", "United States", "delegation member", "Commander of US Central Command") in en
    zh = ask("participants", "zh").label_tuples("participant", "side", "role", "title")
    assert ("阿拉格齐", "伊朗", "代表团团长", "伊朗外长") in zh
    assert ("威特科夫", "美国", "代表团团长", "美国总统特使") in zh
    assert ("库什纳", "美国", "代表团团长", None) in zh
    assert ("库珀", "美国", "代表团成员", "美军中央司令部司令") in zh
    assert ("阿曼", None, "斡旋方", None) in zh
    assert ("巴德尔", None, "斡旋方", "阿曼外交大臣") in zh


# --------------------------------------------------------------------------------------------
# talks
# --------------------------------------------------------------------------------------------


def test_talks(ask):
    a = ask("talks")
    oman = a.where(talks="kgr:talks-2026-02-06")
    assert {r["format"] for r in oman} == {"kg:bilateral", "kg:indirect"}
    row = oman[0]
    assert row["date"] == "2026-02-06"
    assert row["precision"] == "kg:dayPrecision"
    assert row["year_inferred"] == "true"
    assert row["date_as_written"] == "2月6日中午"
    assert row["location"] == "kgr:oman"
    assert row["duration"] == "PT8H"
    assert row["duration_qualifier"] == "kg:approximately"
    assert row["agreement_reached"] == "false"
    assert "no substantive agreement" in row["outcome_en"]
    assert row["status"] == "kg:happened"

    plan = a.one(talks="kgr:talks-plan-istanbul")
    assert (plan["location"], plan["format"], plan["status"]) == (
        "kgr:istanbul",
        "kg:withObservers",
        "kg:abandoned",
    )
    nxt = a.one(talks="kgr:talks-next-round")
    assert (nxt["status"], nxt["relative_time_en"]) == ("kg:planned", "next week")
    earlier = a.one(talks="kgr:talks-2025")
    assert (earlier["date"], earlier["precision"]) == ("2025", "kg:yearPrecision")
    # dated talks in date order, the undated ones after them
    assert a.column("talks")[0] == "kgr:talks-2025"

    en = ask("talks", "en").labels
    assert any(r["location"] == "Oman" and r["duration_qualifier"] == "approximately" for r in en)
    zh = ask("talks", "zh").label_tuples("location", "format", "duration_qualifier")
    assert ("阿曼", "双边", "约数") in zh
    assert ("阿曼", "间接(同楼不同室)", "约数") in zh
    assert ("伊斯坦布尔", "有观察员参与", None) in zh


# --------------------------------------------------------------------------------------------
# venue-change
# --------------------------------------------------------------------------------------------


def test_venue_change(ask):
    a = ask("venue-change")
    facts = a.tuples("step", "aspect", "value")
    plan, proposal = "kgr:talks-plan-istanbul", "kgr:iran-venue-proposal-2026-02-03"
    # first planned: Istanbul, with Middle Eastern observers
    assert (plan, "kg:location", "kgr:istanbul") in facts
    assert (plan, "kg:format", "kg:withObservers") in facts
    assert (plan, "kg:observer", "kgr:middle-east-observer-states") in facts
    assert (plan, "kg:status", "kg:abandoned") in facts
    # proposed by Iran on 3 February 2026: Oman, bilateral, nuclear programme and sanctions
    assert (proposal, "kg:performedBy", "kgr:iran") in facts
    assert (proposal, "kg:date", "2026-02-03") in facts
    assert (proposal, "kg:proposedLocation", "kgr:oman") in facts
    assert (proposal, "kg:proposedFormat", "kg:bilateral") in facts
    participation = {v for s, p, v in facts if p == "kg:restrictsParticipationTo"}
    assert participation == {"kgr:united-states", "kgr:iran"}
    agenda = {v for s, p, v in facts if p == "kg:restrictsAgendaTo"}
    assert agenda == {"kgi:nuclear-programme", "kgi:sanctions"}
    # the US rejected it and issued an ultimatum
    assert ("kgr:us-rejects-venue-proposal", "kg:performedBy", "kgr:united-states") in facts
    ultimatum = "kgr:us-ultimatum-original-plan"
    assert (ultimatum, "kg:performedBy", "kgr:united-states") in facts
    assert (ultimatum, "kg:statedText", "要么接受原有计划,要么彻底取消谈判") in facts
    assert (ultimatum, "kg:threatens", "kgr:threatened-cancellation-of-talks") in facts
    assert (ultimatum, "kg:announces", "kgr:us-demand-accept-original-plan") in facts
    # it relented after lobbying by at least nine Middle Eastern countries
    lobbying = "kgr:lobbying-by-nine-states"
    assert (lobbying, "kg:performedBy", "kgr:middle-east-lobbying-states") in facts
    assert (lobbying, "kg:target", "kgr:united-states") in facts
    assert (lobbying, "kg:ledTo", "kgr:us-accepts-oman-bilateral") in facts
    assert ("kgr:us-accepts-oman-bilateral", "kg:agreedLocation", "kgr:oman") in facts
    assert ("kgr:us-accepts-oman-bilateral", "kg:agreedFormat", "kg:bilateral") in facts
    # told step by step: plan, proposal, rejection, ultimatum, …, lobbying, concession
    steps = list(dict.fromkeys(a.column("step")))
    assert steps[:4] == [plan, proposal, "kgr:us-rejects-venue-proposal", ultimatum]
    assert steps[-2:] == [lobbying, "kgr:us-accepts-oman-bilateral"]

    en = ask("venue-change", "en").label_tuples("aspect", "value")
    assert ("location", "Istanbul") in en
    assert ("proposed location", "Oman") in en
    assert ("performed by", "at least nine Middle Eastern countries") in en
    zh = ask("venue-change", "zh").label_tuples("aspect", "value")
    assert ("地点", "伊斯坦布尔") in zh
    assert ("提议地点", "阿曼") in zh
    assert ("实施方", "伊朗") in zh
    assert ("议程限于", "核计划") in zh and ("议程限于", "制裁") in zh
    assert ("实施方", "至少九个中东国家") in zh


# --------------------------------------------------------------------------------------------
# us-demands
# --------------------------------------------------------------------------------------------


def test_us_demands(ask):
    a = ask("us-demands")
    assert a.tuples("demand", "issue") == {
        ("kgr:us-demand-abandon-nuclear", "kgi:enrichment"),
        ("kgr:us-demand-abandon-missiles", "kgi:ballistic-missiles"),
        ("kgr:us-demand-abandon-proxies", "kgi:support-for-armed-groups"),
        ("kgr:us-demand-hand-over-stockpile", "kgi:enriched-uranium-stockpile"),
        ("kgr:us-demand-iaea-inspections", "kgi:inspections"),
        ("kgr:us-demand-accept-original-plan", "kgi:venue-and-format"),
    }
    package = {r["demand"] for r in a.where(package="kgr:us-three-abandonments")}
    assert package == {
        "kgr:us-demand-abandon-nuclear",
        "kgr:us-demand-abandon-missiles",
        "kgr:us-demand-abandon-proxies",
    }
    assert a.one(demand="kgr:us-demand-abandon-nuclear")["slogan_zh"] == "弃核"
    assert a.one(demand="kgr:us-demand-abandon-missiles")["slogan_zh"] == "弃导"
    assert a.one(demand="kgr:us-demand-abandon-proxies")["slogan_zh"] == "弃代理人"
    talks_demands = {r["demand"] for r in a.where(stated_in="kgr:talks-2026-02-06")}
    assert len(talks_demands) == 5
    assert a.one(demand="kgr:us-demand-accept-original-plan")["stated_in"] == (
        "kgr:us-ultimatum-original-plan"
    )
    # in the order the article makes them: the pre-talks demand first
    assert a.column("demand")[0] == "kgr:us-demand-accept-original-plan"

    en = ask("us-demands", "en").label_tuples("demand", "issue")
    assert ("Iran must permanently stop all uranium enrichment", "uranium enrichment") in en
    assert ("Accept unrestricted inspections by the IAEA", "inspections") in en
    zh = ask("us-demands", "zh").label_tuples("demand", "issue")
    assert ("伊朗必须永久停止所有铀浓缩活动", "铀浓缩") in zh
    assert ("限制弹道导弹计划", "弹道导弹") in zh
    assert ("停止对地区反以色列武装的支持", "支持地区武装") in zh
    assert ("交出现有浓缩铀库存", "浓缩铀库存") in zh
    assert ("接受国际原子能机构的无差别核查", "核查") in zh
    assert ("伊朗须接受原有谈判计划", "谈判地点与形式") in zh


# --------------------------------------------------------------------------------------------
# iran-positions
# --------------------------------------------------------------------------------------------


def test_iran_positions(ask):
    a = ask("iran-positions")
    got = a.tuples("position", "kind", "holder", "issue", "firmness")
    assert (
        "kgr:iran-redline-missiles-at-talks",
        "kg:RedLine",
        "kgr:iran",
        "kgi:ballistic-missiles",
        "kg:redLine",
    ) in got
    assert (
        "kgr:khamenei-redline-missiles",
        "kg:RedLine",
        "kgr:khamenei",
        "kgi:ballistic-missiles",
        "kg:redLine",
    ) in got
    assert (
        "kgr:iran-limited-nuclear-flexibility",
        "kg:Position",
        "kgr:iran",
        "kgi:nuclear-programme",
        "kg:limitedFlexibility",
    ) in got
    assert (
        "kgr:khamenei-nuclear-right",
        "kg:Position",
        "kgr:khamenei",
        "kgi:nuclear-rights",
        "kg:firm",
    ) in got
    assert (
        "kgr:iran-refuses-to-drop-axis",
        "kg:Position",
        "kgr:khamenei",
        "kgi:support-for-armed-groups",
        "kg:firm",
    ) in got
    assert (
        "kgr:iran-no-recognition-of-israel",
        "kg:Position",
        "kgr:khamenei",
        "kgi:recognition-of-israel",
        "kg:firm",
    ) in got
    assert (
        "kgr:iran-agenda-nuclear-and-sanctions-only",
        "kg:Position",
        "kgr:iran",
        "kgi:agenda-scope",
        "kg:firm",
    ) in got
    sovereignty = a.one(position="kgr:iran-armed-forces-defend-sovereignty")
    assert sovereignty["holder"] == "kgr:iran-armed-forces"
    assert sovereignty["stated_by"] == "kgr:jahanshahi"
    assert sovereignty["issue"] == "kgi:national-sovereignty"
    red_lines = {r["position"] for r in a.where(kind="kg:RedLine")}
    assert red_lines == {"kgr:iran-redline-missiles-at-talks", "kgr:khamenei-redline-missiles"}
    # the conditional offer is not a position; US stances never show up
    assert "kgr:khamenei-offer-enrichment-limits" not in a.column("position")
    assert "kgr:united-states" not in a.column("holder")

    zh = ask("iran-positions", "zh").label_tuples("holder", "kind", "issue", "firmness")
    assert ("哈梅内伊", "红线", "弹道导弹", "红线(不可谈判)") in zh
    assert ("伊朗", "立场", "核计划", "有限灵活") in zh
    en = ask("iran-positions", "en").label_tuples("holder", "stated_by")
    assert ("Iranian armed forces", "Jahanshahi") in en


# --------------------------------------------------------------------------------------------
# conflicts
# --------------------------------------------------------------------------------------------


def test_conflicts(ask):
    a = ask("conflicts")
    pairs = a.tuples("demand", "stance")
    expected = {
        # same issue
        ("kgr:us-demand-abandon-missiles", "kgr:iran-redline-missiles-at-talks"),
        ("kgr:us-demand-abandon-missiles", "kgr:khamenei-redline-missiles"),
        ("kgr:us-demand-abandon-nuclear", "kgr:khamenei-nuclear-right"),
        ("kgr:us-demand-abandon-nuclear", "kgr:khamenei-offer-enrichment-limits"),
        ("kgr:us-demand-abandon-proxies", "kgr:iran-refuses-to-drop-axis"),
        # the demand's issue is narrower than the position's (nuclear programme)
        ("kgr:us-demand-abandon-nuclear", "kgr:iran-limited-nuclear-flexibility"),
        ("kgr:us-demand-hand-over-stockpile", "kgr:iran-limited-nuclear-flexibility"),
        ("kgr:us-demand-iaea-inspections", "kgr:iran-limited-nuclear-flexibility"),
        # the issue is one Iran refuses to put on the agenda
        ("kgr:us-demand-abandon-missiles", "kgr:iran-agenda-nuclear-and-sanctions-only"),
        ("kgr:us-demand-abandon-proxies", "kgr:iran-agenda-nuclear-and-sanctions-only"),
    }
    assert pairs == expected
    offer = a.one(stance="kgr:khamenei-offer-enrichment-limits")
    assert (offer["kind"], offer["firmness"]) == ("kg:ConditionalOffer", "kg:conditional")
    stockpile = a.one(demand="kgr:us-demand-hand-over-stockpile")
    assert (stockpile["demand_issue"], stockpile["stance_issue"], stockpile["via"]) == (
        "kgi:enriched-uranium-stockpile",
        "kgi:nuclear-programme",
        "kg:aboutIssue",
    )
    proxies = a.one(
        demand="kgr:us-demand-abandon-proxies", stance="kgr:iran-agenda-nuclear-and-sanctions-only"
    )
    assert (proxies["via"], proxies["stance_issue"]) == (
        "kg:excludesFromAgenda",
        "kgi:regional-influence",
    )
    assert set(a.column("holder")) == {"kgr:iran", "kgr:khamenei"}
    assert set(a.column("source")) == {f"kgr:article-{ARTICLE_ID}"}

    zh = ask("conflicts", "zh").label_tuples("demand_issue", "kind", "holder", "stance_issue")
    assert ("弹道导弹", "红线", "哈梅内伊", "弹道导弹") in zh
    assert ("铀浓缩", "附条件提议", "哈梅内伊", "铀浓缩") in zh
    assert ("核查", "立场", "伊朗", "核计划") in zh


def test_conflicts_pair_a_demand_and_a_stance_of_the_same_source(synth, tmp_path):
    """Over a collection of articles a demand meets only the stances its own source reports."""
    built = build(locate(synth.generate(tmp_path / "corpus", 3, seed=11)))
    store = open_store(built.dataset)
    conflicts = find_query(built.project, "conflicts")
    rows = execute(store, conflicts).rows
    at = {c: i for i, c in enumerate(conflicts.columns)}
    reports = (
        "ASK { ?node <https://w3id.org/oman-talks/ontology#hasEvidence>/"
        "<http://www.w3.org/ns/oa#hasTarget>/<http://www.w3.org/ns/oa#hasSource> ?source }"
    )
    sources = {row[at["source"]].iri for row in rows}
    assert len(sources) >= 2, "collisions in more than one synthetic article"
    for row in rows:
        for node in ("demand", "stance"):
            bound = {
                "node": NamedNode(row[at[node]].iri),
                "source": NamedNode(row[at["source"]].iri),
            }
            subs = {Variable(k): v for k, v in bound.items()}
            answer = store.query(reports, use_default_graph_as_union=True, substitutions=subs)
            assert bool(answer), (row[at[node]].iri, row[at["source"]].iri)


# --------------------------------------------------------------------------------------------
# conditional-offers
# --------------------------------------------------------------------------------------------


def test_conditional_offers(ask):
    a = ask("conditional-offers")
    offer = a.one(offer="kgr:khamenei-offer-enrichment-limits")
    assert offer["holder"] == "kgr:khamenei"
    assert offer["issue"] == "kgi:enrichment"
    assert (offer["from_percent"], offer["to_percent"]) == ("60", "20")
    assert offer["value_qualifier"] == "kg:example"
    assert offer["condition"] == "kgr:condition-lift-all-sanctions"
    assert offer["required_of"] == "kgr:united-states"
    assert offer["condition_issue"] == "kgi:sanctions-relief"
    assert offer["stated_in"] == "kgr:khamenei-statement-before-talks"

    en = ask("conditional-offers", "en").labels[0]
    assert en["condition"] == "the US lifts all sanctions on Iran, fully and permanently"
    zh = ask("conditional-offers", "zh").labels[0]
    assert (zh["holder"], zh["issue"], zh["required_of"], zh["value_qualifier"]) == (
        "哈梅内伊",
        "铀浓缩",
        "美国",
        "示例",
    )
    assert zh["condition"] == "美方全面、永久解除所有对伊制裁"


# --------------------------------------------------------------------------------------------
# measures
# --------------------------------------------------------------------------------------------


def test_measures(ask):
    a = ask("measures")
    assert set(a.column("measure")) == {
        "kgr:tariff-on-iran-trading-partners",
        "kgr:us-sanctions-2026-02-06",
    }, "only the measures that followed the talks (not the long-standing sanctions)"
    tariff = a.one(measure="kgr:tariff-on-iran-trading-partners")
    assert tariff["kind"] == "kg:Tariff"
    assert tariff["by"] == "kgr:united-states"
    assert tariff["imposed_through"] == "kgr:trump-executive-order-2026-02-06"
    assert tariff["ordered_by"] == "kgr:trump"
    assert tariff["target"] == "kgr:iran-trading-countries"
    assert tariff["target_kind"] == "kg:State"
    assert (tariff["rate"], tariff["rate_qualifier"]) == ("25", "kg:example")
    assert "ad valorem" in tariff["tariff_basis_en"]
    assert tariff["status"] == "kg:announced"

    sanctions = a.where(measure="kgr:us-sanctions-2026-02-06")
    assert {r["kind"] for r in sanctions} == {"kg:SanctionDesignation"}
    assert {r["by"] for r in sanctions} == {"kgr:us-state-department"}
    counts = {(r["target_kind"], r["count"], r["count_qualifier"]) for r in sanctions}
    assert counts == {
        ("kg:Organization", "15", "kg:exactly"),
        ("kg:Person", "2", "kg:exactly"),
        ("kg:Vessel", "14", "kg:exactly"),
    }
    assert all("shadow fleet" in r["purpose_en"] for r in sanctions)
    assert {r["date"] for r in a.rows} == {"2026-02-06"}

    zh = ask("measures", "zh").label_tuples("kind", "by", "target_kind", "count")
    assert ("关税", "美国", "国家", None) in zh
    assert ("制裁认定", "美国国务院", "组织", "15") in zh
    assert ("制裁认定", "美国国务院", "人物", "2") in zh
    assert ("制裁认定", "美国国务院", "船只", "14") in zh
    en = ask("measures", "en").label_tuples("ordered_by", "rate_qualifier")
    assert ("Trump", "example") in en


# --------------------------------------------------------------------------------------------
# timeline
# --------------------------------------------------------------------------------------------


def test_timeline(ask, store):
    a = ask("timeline")
    dated = {
        short(s["e"].value)
        for s in store.query(
            "SELECT DISTINCT ?e WHERE { ?e <https://w3id.org/oman-talks/ontology#date> ?d }",
            use_default_graph_as_union=True,
        )
    }
    assert set(a.column("event")) == dated, "every dated event"
    dates = a.column("date")
    assert dates == sorted(dates), "in date order"
    assert a.rows[0]["event"] == "kgr:talks-2025"
    assert (a.rows[0]["date"], a.rows[0]["precision"]) == ("2025", "kg:yearPrecision")
    strikes = a.one(event="kgr:us-strikes-2025-06")
    assert (strikes["date"], strikes["precision"], strikes["year_inferred"]) == (
        "2025-06",
        "kg:monthPrecision",
        "false",
    )
    proposal = a.one(event="kgr:iran-venue-proposal-2026-02-03")
    assert (proposal["date"], proposal["year_inferred"], proposal["kind"]) == (
        "2026-02-03",
        "true",
        "kg:Proposal",
    )
    talks = a.one(event="kgr:talks-2026-02-06")
    assert (talks["precision"], talks["year_inferred"]) == ("kg:dayPrecision", "true")
    jahanshahi = a.one(event="kgr:jahanshahi-statement-2026-02-06")
    assert (jahanshahi["month_inferred"], jahanshahi["date_as_written"]) == ("true", "6日")
    # on 6 February: the arrival before the talks, the talks before their aftermath
    order = a.column("event")
    assert (
        order.index("kgr:iran-delegation-arrives-2026-02-06")
        < order.index("kgr:talks-2026-02-06")
        < order.index("kgr:trump-executive-order-2026-02-06")
    )
    assert order.index("kgr:talks-2026-02-06") < order.index("kgr:us-sanctions-2026-02-06")

    zh = ask("timeline", "zh").label_tuples("date", "event", "precision")
    assert ("2026-02-03", "伊朗提出将谈判改至阿曼、仅限双边、限定议题", "日") in zh
    assert ("2025-06", "2025年6月美国空袭伊朗核设施", "月") in zh


# --------------------------------------------------------------------------------------------
# statements
# --------------------------------------------------------------------------------------------


def test_statements(ask):
    a = ask("statements")
    trump = a.one(statement="kgr:trump-announces-next-round")
    assert trump["speaker"] == "kgr:trump"
    assert trump["quote_zh"] == "下周美国将再次与伊朗谈判"
    assert "again next week" in trump["english"]
    assert trump["after"] == "kgr:talks-2026-02-06"
    assert trump["relative_time_en"] == "afterwards"
    jahanshahi = a.one(statement="kgr:jahanshahi-statement-2026-02-06")
    assert jahanshahi["speaker"] == "kgr:jahanshahi"
    assert jahanshahi["date"] == "2026-02-06"
    assert jahanshahi["direct_quote"] == "true"
    assert jahanshahi["quote_zh"].startswith("敌人企图")
    khamenei = a.one(statement="kgr:khamenei-statement-before-talks")
    assert khamenei["relative_time_en"] == "earlier"
    assert "60%" in khamenei["quote_zh"] and "red line" in khamenei["english"]
    ultimatum = a.one(statement="kgr:us-ultimatum-original-plan")
    assert ultimatum["speaker"] == "kgr:united-states"
    assert ultimatum["quote_zh"] == "要么接受原有计划,要么彻底取消谈判"
    assert a.one(statement="kgr:state-department-sanctions-statement")["speaker"] == (
        "kgr:us-state-department"
    )
    assert a.one(statement="kgr:iran-finger-on-trigger")["quote_zh"] == "手扣扳机"
    assert all(r["quote_zh"] and r["english"] for r in a.rows)

    zh = ask("statements", "zh").label_tuples("speaker", "quote_zh")
    assert ("特朗普", "下周美国将再次与伊朗谈判") in zh
    assert ("美国", "要么接受原有计划,要么彻底取消谈判") in zh
    assert ("伊朗", "手扣扳机") in zh
    assert "贾汉沙希" in ask("statements", "zh").label_column("speaker")


# --------------------------------------------------------------------------------------------
# background
# --------------------------------------------------------------------------------------------


def test_background(ask):
    a = ask("background")
    events = set(a.column("event"))
    assert events == {
        "kgr:talks-2025",
        "kgr:us-strikes-2025-06",
        "kgr:khamenei-statement-before-talks",
        "kgr:us-long-term-sanctions",
        "kgr:us-buildup-middle-east",
        "kgr:us-immigration-protests",
    }
    assert "kgr:us-midterm-elections" not in events, "the coming elections are not earlier"
    strikes = a.one(event="kgr:us-strikes-2025-06")
    assert (strikes["date"], strikes["precision"], strikes["actor"], strikes["target"]) == (
        "2025-06",
        "kg:monthPrecision",
        "kgr:united-states",
        "kgr:iran-nuclear-facilities",
    )
    assert strikes["kind"] == "kg:MilitaryStrike"
    assert {r["actor"] for r in a.where(event="kgr:talks-2025")} == {
        "kgr:united-states",
        "kgr:iran",
    }
    assert a.one(event="kgr:us-long-term-sanctions")["relative_time_en"] == "long-standing"
    # dated first, in date order
    assert list(dict.fromkeys(a.column("event")))[:2] == [
        "kgr:talks-2025",
        "kgr:us-strikes-2025-06",
    ]

    zh = ask("background", "zh").label_tuples("event", "actor")
    assert ("2025年6月美国空袭伊朗核设施", "美国") in zh
    assert ("哈梅内伊关于导弹、核权利与制裁的表态", "哈梅内伊") in zh


# --------------------------------------------------------------------------------------------
# third-parties
# --------------------------------------------------------------------------------------------


def test_third_parties(ask):
    a = ask("third-parties")
    got = a.tuples("actor", "how", "event")
    assert ("kgr:oman", "kg:mediator", "kgr:talks-2026-02-06") in got
    assert ("kgr:badr", "kg:mediator", "kgr:talks-2026-02-06") in got
    assert ("kgr:badr", "kg:performedBy", "kgr:oman-mediation-2026-02-06") in got
    assert (
        "kgr:middle-east-lobbying-states",
        "kg:performedBy",
        "kgr:lobbying-by-nine-states",
    ) in got
    assert ("kgr:middle-east-observer-states", "kg:observer", "kgr:talks-plan-istanbul") in got
    turkey = a.one(actor="kgr:turkey")
    assert (turkey["how"], turkey["event"], turkey["place"]) == (
        "kg:location",
        "kgr:talks-plan-istanbul",
        "kgr:istanbul",
    )
    assert ("kgr:oman", "kg:location", "kgr:talks-2026-02-06") in got
    sides_and_their_own = {
        "kgr:united-states",
        "kgr:iran",
        "kgr:araghchi",
        "kgr:witkoff",
        "kgr:kushner",
        "kgr:cooper",
        "kgr:trump",
        "kgr:us-delegation-2026-02",
        "kgr:iran-delegation-2026-02",
        "kgr:iran-nuclear-experts",
        "kgr:iran-diplomatic-advisers",
    }
    assert not sides_and_their_own & set(a.column("actor"))

    zh = ask("third-parties", "zh").label_tuples("actor", "how", "place")
    assert ("土耳其", "地点", "伊斯坦布尔") in zh
    assert ("阿曼", "斡旋方", None) in zh
    assert ("巴德尔", "斡旋方", None) in zh
    assert ("至少九个中东国家", "实施方", None) in zh
    assert ("多个中东国家", "观察员", None) in zh


# --------------------------------------------------------------------------------------------
# next-steps
# --------------------------------------------------------------------------------------------


def test_next_steps(ask):
    a = ask("next-steps")
    nxt = a.one(item="kgr:talks-next-round")
    assert (nxt["kind"], nxt["status"], nxt["relative_time_en"]) == (
        "kg:Talks",
        "kg:planned",
        "next week",
    )
    assert (nxt["announced_in"], nxt["announced_by"]) == (
        "kgr:trump-announces-next-round",
        "kgr:trump",
    )
    tariff = a.one(item="kgr:tariff-on-iran-trading-partners")
    assert (tariff["status"], tariff["announced_in"], tariff["announced_by"]) == (
        "kg:announced",
        "kgr:trump-executive-order-2026-02-06",
        "kgr:trump",
    )
    assert "kgr:us-midterm-elections" not in a.column("item")
    assert "kgr:talks-plan-istanbul" not in a.column("item")

    zh = ask("next-steps", "zh").label_tuples("item", "status", "announced_by")
    assert ("下周美伊再次谈判", "计划中", "特朗普") in zh


# --------------------------------------------------------------------------------------------
# actors
# --------------------------------------------------------------------------------------------


def test_actors(ask):
    a = ask("actors")
    kinds = {}
    for r in a.rows:
        kinds.setdefault(r["actor"], set()).add(r["kind"])
    assert all(len(k) == 1 for k in kinds.values()), "one kind per actor"
    araghchi = a.one(actor="kgr:araghchi")
    assert (araghchi["kind"], araghchi["affiliation"], araghchi["title"]) == (
        "kg:Person",
        "kgr:iran",
        "kgr:post-iran-foreign-minister",
    )
    kushner = a.one(actor="kgr:kushner")
    assert (kushner["relation"], kushner["relative"]) == ("kg:sonInLawOf", "kgr:trump")
    cooper = a.one(actor="kgr:cooper")
    assert (cooper["affiliation"], cooper["title"]) == (
        "kgr:us-central-command",
        "kgr:post-centcom-commander",
    )
    assert a.one(actor="kgr:badr")["title"] == "kgr:post-oman-foreign-minister"
    assert a.one(actor="kgr:witkoff")["title"] == "kgr:post-us-presidential-envoy"
    assert a.one(actor="kgr:trump")["title"] == "kgr:post-us-president"
    assert a.one(actor="kgr:khamenei")["title"] == "kgr:post-iran-supreme-leader"
    assert a.one(actor="kgr:jahanshahi")["affiliation"] == "kgr:iran-army"
    assert a.one(actor="kgr:iran-delegation-2026-02")["affiliation"] == "kgr:iran"
    assert a.one(actor="kgr:us-delegation-2026-02")["kind"] == "kg:Delegation"
    assert a.one(actor="kgr:oman")["kind"] == "kg:State"
    assert a.one(actor="kgr:us-state-department")["kind"] == "kg:Ministry"
    assert a.one(actor="kgr:middle-east-lobbying-states")["kind"] == "kg:ActorGroup"
    assert a.one(actor="kgr:iran-pragmatists")["kind"] == "kg:PoliticalFaction"
    for not_actor in ("kgr:istanbul", "kgr:middle-east", "kgr:sanctioned-vessels-2026-02-06"):
        assert not_actor not in kinds
    for actor in ("kgr:turkey", "kgr:israel", "kgr:saudi-arabia", "kgr:iaea", "kgr:jiuwanli"):
        assert actor in kinds

    zh = ask("actors", "zh").label_tuples("actor", "kind", "affiliation", "title")
    assert ("阿拉格齐", "人物", "伊朗", "伊朗外长") in zh
    assert ("巴德尔", "人物", "阿曼", "阿曼外交大臣") in zh
    assert ("阿曼", "国家", None, None) in zh
    assert ("库什纳", "女婿", "特朗普") in ask("actors", "zh").label_tuples(
        "actor", "relation", "relative"
    )


# --------------------------------------------------------------------------------------------
# claims
# --------------------------------------------------------------------------------------------


def test_claims(ask):
    a = ask("claims")
    article = f"kgr:article-{ARTICLE_ID}"
    assert set(a.column("source")) == {article}, "every claim is attributed to the article"
    assert set(a.column("publisher")) == {"kgr:jiuwanli"}
    motives = a.tuples("claim", "kind", "side")
    for claim in (
        "kgr:claim-us-pressure-low-cost",
        "kgr:claim-us-avoids-war",
        "kgr:claim-cost-of-military-option",
        "kgr:claim-us-domestic-politics",
        "kgr:claim-us-art-of-the-deal",
    ):
        assert (claim, "kg:motive", "kgr:united-states") in motives
    for claim in (
        "kgr:claim-iran-strategic-calculation",
        "kgr:claim-iran-economic-crisis",
        "kgr:claim-iran-pragmatists",
        "kgr:claim-iran-avoid-war",
        "kgr:claim-iran-narrow-agenda",
    ):
        assert (claim, "kg:motive", "kgr:iran") in motives
    assert ("kgr:claim-rough-road", "kg:prognosis", "kgr:iran") in motives
    crisis = a.one(claim="kgr:claim-crisis-management")
    assert crisis["side"] is None and crisis["kind"] == "kg:assessment"
    assert "危机管控" in crisis["quote_zh"] and "crisis management" in crisis["english"]
    # the US section comes before the Iranian one, as in the article
    order = a.column("claim")
    assert order.index("kgr:claim-us-pressure-low-cost") < order.index(
        "kgr:claim-iran-economic-crisis"
    )

    zh = ask("claims", "zh").label_tuples("kind", "side", "publisher")
    assert ("动机", "美国", "九万里") in zh
    assert ("动机", "伊朗", "九万里") in zh


# --------------------------------------------------------------------------------------------
# evidence
# --------------------------------------------------------------------------------------------


def test_evidence(ask, seed):
    text = (seed.project.sources_dir / f"{ARTICLE_ID}.txt").read_text(encoding="utf-8")
    a = ask("evidence", node="kgr:talks-2026-02-06")
    quotes = a.column("quote")
    assert quotes == [
        "2月6日,美国和伊朗的阿曼谈判落下帷幕",
        "此次谈判是2025年6月美国空袭伊朗核设施以来,两国高层首次面对面会谈",
        "尽管双方在谈判中“交换立场、保留沟通渠道”,但最终未达成任何实质性协议",
        "2月6日中午谈判正式重启,在近8小时间里,美伊双方展开了一场高强度、高密度的磋商",
        "谈判以“同楼不同室”的方式间接展开",
    ]
    starts = [int(s) for s in a.column("start")]
    assert starts == sorted(starts) and starts[0] == 0
    for r in a.rows:
        assert text[int(r["start"]) : int(r["end"])] == r["quote"]
    assert set(a.column("article")) == {f"kgr:article-{ARTICLE_ID}"}

    # a bare kgr: local name and a full IRI work as well
    oman = ask("evidence", node="oman")
    assert oman.column("quote") == ["伊朗突然提出要将谈判地点改为阿曼"]
    start, end = int(oman.rows[0]["start"]), int(oman.rows[0]["end"])
    assert text[start:end] == "伊朗突然提出要将谈判地点改为阿曼"
    full = ask("evidence", node=ns.KGR + "us-demand-abandon-nuclear")
    assert full.column("quote") == ["“弃核”,伊朗必须永久停止所有铀浓缩活动"]
    # the Chinese label of the article
    zh = ask("evidence", "zh", node="kgr:talks-2026-02-06")
    assert set(zh.label_column("article")) == {"九万里:美伊阿曼谈判文章"}
    # a node without evidence has none
    assert len(ask("evidence", node="kg:mediator")) == 0


# --------------------------------------------------------------------------------------------
# Through the command line, as a user runs them
# --------------------------------------------------------------------------------------------


def test_cli_runs_stored_queries_in_chinese(seed, run_kg):
    root = str(seed.project.root)
    done = run_kg("query", "participants", "--lang", "zh", "--format", "json", "--project", root)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    araghchi = next(r for r in rows if r["participant"] == "阿拉格齐")
    assert araghchi["participant_iri"] == ns.KGR + "araghchi"
    assert (araghchi["side"], araghchi["role"]) == ("伊朗", "代表团团长")

    done = run_kg(
        "query",
        "evidence",
        "--param",
        "node=kgr:talks-2026-02-06",
        "--format",
        "csv",
        "--project",
        root,
    )
    assert done.returncode == 0, done.stderr
    header, first = list(csv.reader(io.StringIO(done.stdout)))[:2]
    assert header[:3] == ["quote", "start", "end"]
    assert first[:3] == ["2月6日,美国和伊朗的阿曼谈判落下帷幕", "0", "19"]
    assert first[header.index("article_iri")] == ns.KGR + f"article-{ARTICLE_ID}"

    done = run_kg("query", "venue-change", "--lang", "zh", "--project", root)
    assert done.returncode == 0, done.stderr
    for word in ("伊斯坦布尔", "阿曼", "伊朗", "至少九个中东国家"):
        assert word in done.stdout


def test_tensions(ask):
    """Both passages of each tension, in the article's order, with what they are about."""
    a = ask("tensions")
    got = a.tuples("tension", "about", "quote_1", "quote_2")
    assert (
        "kgr:tension-tariff-imposed-or-possible",
        "kgr:tariff-on-iran-trading-partners",
        "对与伊朗有贸易往来的国家加征关税",
        "其出口至美国的商品将可能面临额外的从价关税,例如25%",
    ) in got
    assert (
        "kgr:tension-face-to-face-or-indirect",
        "kgr:talks-2026-02-06",
        "两国高层首次面对面会谈",
        "谈判以“同楼不同室”的方式间接展开",
    ) in got
    assert {row[0] for row in got} == {
        "kgr:tension-tariff-imposed-or-possible",
        "kgr:tension-face-to-face-or-indirect",
    }
    assert all(row["explanation_en"] for row in a.rows)
