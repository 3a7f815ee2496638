#!/usr/bin/env python3
"""Generate a synthetic corpus in the project's own ontology, for benchmarks and tests.

    python benchmarks/synth.py --articles N --seed S -o DIR

writes a complete project folder: `ontology/` and `queries/` copied from this repository,
`data/shared/actors.ttl` (a pool of states, persons, ministries and media outlets) and, per
article, `data/articles/<id>.ttl` with `data/sources/<id>.txt`. Each article reports talks
with their participations, delegations, demands and a demand package, positions and a red
line, a conditional offer and its condition, statements, a threat, sanctions and a tariff on
unnamed groups, and analysis claims; every fact and every actor it mentions carries a
`kg:quote` that occurs exactly once in the generated source text. The corpus anchors and
conforms to ontology/shapes.ttl exactly as the real data does (no results at all, not even
warnings). The same arguments give the same bytes.

Sizes (triples after `kg build`, inferred graph included): about 1,200 per article plus the
ontology (about 3,000), so --articles 6 ~ 10k, 80 ~ 100k, 830 ~ 1M; `SIZES` below holds the
article counts the benchmark uses.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Article counts per benchmark size (calibrated so the built dataset has about that many
# triples; benchmarks/results.md reports the real counts).
SIZES = {"10k": 4, "100k": 53, "1m": 540}

PREFIXES = """@prefix kg: <https://w3id.org/oman-talks/ontology#> .
@prefix kgr: <https://w3id.org/oman-talks/id/> .
@prefix kgi: <https://w3id.org/oman-talks/issue/> .
@prefix kgt: <https://w3id.org/oman-talks/event-type/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""

ISSUES = [
    "enrichment", "enriched-uranium-stockpile", "inspections", "nuclear-rights",
    "nuclear-programme", "ballistic-missiles", "support-for-armed-groups", "regional-influence",
    "sanctions", "sanctions-relief", "oil-trade", "trade-with-iran", "venue-and-format",
    "agenda-scope", "economy", "military-conflict", "domestic-politics", "national-sovereignty",
]  # fmt: skip
ISSUE_ZH = {
    "enrichment": "铀浓缩", "enriched-uranium-stockpile": "浓缩铀库存", "inspections": "核查",
    "nuclear-rights": "核权利", "nuclear-programme": "核计划", "ballistic-missiles": "弹道导弹",
    "support-for-armed-groups": "支持武装团体", "regional-influence": "地区影响力",
    "sanctions": "制裁", "sanctions-relief": "解除制裁", "oil-trade": "石油贸易",
    "trade-with-iran": "对伊贸易", "venue-and-format": "谈判地点与形式",
    "agenda-scope": "议程范围", "economy": "经济", "military-conflict": "军事冲突",
    "domestic-politics": "国内政治", "national-sovereignty": "国家主权",
}  # fmt: skip
SYLLABLES = "阿巴达法哈卡拉马纳帕萨塔瓦亚扎贝德格赫基克勒梅内佩雷塞特韦耶泽米尼里西齐"
EN_SYLLABLES = [
    "an", "bel", "cor", "dan", "el", "fen", "gar", "hol", "ir", "jor", "kel",
    "lin", "mor", "nel", "or", "pel", "quin", "ros", "sel", "tor", "ul", "var",
]  # fmt: skip
CLAIM_KINDS = ["motive", "assessment", "prognosis", "context"]


def _ttl_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _zh(text: str) -> str:
    return _ttl_str(text) + "@zh"


def _en(text: str) -> str:
    return _ttl_str(text) + "@en"


class Names:
    """Deterministic pronounceable names in English and Chinese (unique per index)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def make(self, index: int, syllables: int = 2) -> tuple[str, str]:
        rng = random.Random(self.rng.random() + index)
        en = "".join(rng.choice(EN_SYLLABLES) for _ in range(syllables)).capitalize()
        zh = "".join(rng.choice(SYLLABLES) for _ in range(syllables + 1))
        # The index keeps names unique however the syllables fall.
        return f"{en} {index}", f"{zh}{_cn_number(index)}"


_DIGITS = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    return "".join(_DIGITS[int(d)] for d in str(n))


class Pool:
    """The shared actors: identity, kind and names (data/shared/actors.ttl)."""

    def __init__(self, articles: int, rng: random.Random):
        names = Names(rng)
        self.states = ["united-states", "iran", "oman"]
        self.labels: dict[str, tuple[str, str]] = {
            "united-states": ("United States", "美国"),
            "iran": ("Iran", "伊朗"),
            "oman": ("Oman", "阿曼"),
        }
        for i in range(1, 8 + articles // 10):
            iri = f"state-{i:04d}"
            self.states.append(iri)
            en, zh = names.make(i)
            self.labels[iri] = (f"State of {en}", f"{zh}国")
        self.persons = []
        for i in range(1, 12 + articles * 2):
            iri = f"person-{i:05d}"
            self.persons.append(iri)
            self.labels[iri] = names.make(1000 + i)
        self.ministries = {}  # state -> ministry
        for s in self.states:
            iri = f"ministry-{s}"
            self.ministries[s] = iri
            en, zh = self.labels[s]
            self.labels[iri] = (f"Foreign ministry of {en}", f"{zh}外交部")
        self.media = []
        for i in range(1, 4 + articles // 25):
            iri = f"media-{i:04d}"
            self.media.append(iri)
            en, zh = names.make(5000 + i)
            self.labels[iri] = (f"{en} News", f"{zh}新闻")

    def all(self) -> list[str]:
        return self.states + self.persons + list(self.ministries.values()) + self.media

    def turtle(self) -> str:
        out = [PREFIXES, "# Synthetic shared actors (benchmarks/synth.py).\n"]
        kinds = [(s, "kg:State") for s in self.states]
        kinds += [(p, "kg:Person") for p in self.persons]
        kinds += [(m, "kg:Ministry") for m in self.ministries.values()]
        kinds += [(m, "kg:MediaOutlet") for m in self.media]
        affiliation = {m: s for s, m in self.ministries.items()}
        for iri, kind in kinds:
            en, zh = self.labels[iri]
            extra = ""
            if iri in affiliation:
                extra = f" ;\n    kg:affiliatedWith kgr:{affiliation[iri]}"
            out.append(f"kgr:{iri} a {kind} ;\n    rdfs:label {_en(en)} , {_zh(zh)}{extra} .\n")
        return "\n".join(out)


class Article:
    """One synthetic article: its Turtle and its source text, built side by side."""

    def __init__(self, index: int, pool: Pool, rng: random.Random, must_mention: list[str]):
        self.i = index
        self.id = f"syn_{index:06d}"
        self.aid = f"a{index:06d}"  # prefix of the article's own node IRIs
        self.pool = pool
        self.rng = rng
        self.sentences: list[str] = []
        self.blocks: list[str] = []
        self.mentioned: set[str] = set()
        self.must_mention = must_mention

    def quote(self, text: str) -> str:
        """Add a sentence to the source and return its quotable part (unique: numbered)."""
        n = len(self.sentences) + 1
        q = f"第{n}则:{text}"
        self.sentences.append(q + "。")
        return q

    def node(self, iri: str, kind: str | None, en: str, zh: str, props: list[str], quote: str):
        lines = [f"kgr:{iri}" + (f" a {kind}" if kind else "")]
        body = [f"rdfs:label {_en(en)} , {_zh(zh)}"] if en else []
        body += props
        body.append(f"kg:quote {_ttl_str(quote)}")
        text = lines[0] + " ;\n    " + " ;\n    ".join(body) + " .\n"
        if not kind:
            text = lines[0] + " " + " ;\n    ".join(body) + " .\n"
        self.blocks.append(text)

    def mention(self, actor: str, text: str) -> str:
        """Quote an actor of the shared pool as this article names it."""
        q = self.quote(text)
        if actor not in self.mentioned:
            self.mentioned.add(actor)
            self.blocks.append(f"kgr:{actor} kg:quote {_ttl_str(q)} .\n")
        return q

    def label(self, iri: str) -> tuple[str, str]:
        return self.pool.labels[iri]

    def build(self) -> tuple[str, str]:
        rng, p, a = self.rng, self.pool, self.aid
        us_iran = rng.random() < 0.6
        if us_iran:
            side_a, side_b, mediator = "united-states", "iran", "oman"
        else:
            side_a, side_b, mediator = rng.sample(p.states, 3)
        persons = rng.sample(p.persons, 6)
        head_a, member_a, head_b, member_b, med_person, analyst = persons
        media = rng.choice(p.media)
        day = 1 + self.i % 28
        month = 1 + (self.i // 28) % 12
        date = f"2026-{month:02d}-{day:02d}"
        date_zh = f"{month}月{day}日"
        ministry = p.ministries[side_a]
        named = (side_a, side_b, mediator, media, ministry, *persons)
        en = {k: self.label(k)[0] for k in named}
        zh = {k: self.label(k)[1] for k in named}

        # The article node (its source line is quoted like every other fact).
        source_line = f"来源:{zh[media]}"
        self.sentences.append(source_line)
        self.blocks.append(
            f"kgr:article-{self.id} a kg:NewsArticle ;\n"
            f"    rdfs:label {_en(f'Synthetic article {self.i}')} , {_zh(f'合成文章{self.i}')} ;\n"
            f"    kg:publisher kgr:{media} ;\n"
            f'    dcterms:language "zh" ;\n'
            f'    kg:sourceFile "{self.id}.txt" ;\n'
            f"    kg:hasHeadline false ;\n"
            f"    kg:hasPrintedYear false ;\n"
            f"    kg:quote {_ttl_str(source_line)} .\n"
        )
        self.mentioned.add(media)
        self.blocks.append(f"kgr:{media} kg:quote {_ttl_str(source_line)} .\n")

        for actor in (side_a, side_b, mediator, ministry, *persons, *self.must_mention):
            name = self.label(actor)[1]
            self.mention(actor, f"{name}在本文中被提及")

        # Posts and affiliations of the persons, as this article gives them.
        posts = {}
        for person, state in (
            (head_a, side_a), (member_a, side_a), (head_b, side_b), (member_b, side_b),
            (med_person, mediator),
        ):  # fmt: skip
            post = f"{a}-post-{person}"
            posts[person] = post
            q = self.quote(f"{zh[state]}特使{zh[person]}参与了会谈")
            self.node(
                post, "kg:Post", f"Envoy of {en[state]}", f"{zh[state]}特使",
                [f"kg:postIn kgr:{state}"], q,
            )  # fmt: skip
            self.blocks.append(
                f"kgr:{person} kg:holdsPost kgr:{post} ;\n"
                f"    kg:affiliatedWith kgr:{state} ;\n    kg:quote {_ttl_str(q)} .\n"
            )

        # Delegations.
        delegations = {}
        for side, head, member in ((side_a, head_a, member_a), (side_b, head_b, member_b)):
            d = f"{a}-delegation-{side}"
            delegations[side] = d
            q = self.quote(f"{zh[side]}代表团由{zh[head]}率领,成员包括{zh[member]}")
            self.node(
                d, "kg:Delegation", f"Delegation of {en[side]}", f"{zh[side]}代表团",
                [f"kg:delegationOf kgr:{side}", f"kg:ledBy kgr:{head}",
                 f"kg:hasMember kgr:{head} , kgr:{member}"], q,
            )  # fmt: skip

        # The talks, with participations.
        talks = f"{a}-talks"
        parts = []
        for person, role, side in (
            (head_a, "headOfDelegation", side_a), (member_a, "delegationMember", side_a),
            (head_b, "headOfDelegation", side_b), (member_b, "delegationMember", side_b),
            (med_person, "mediator", None),
        ):  # fmt: skip
            part = f"{talks}-{person}"
            parts.append(part)
            props = [f"kg:participant kgr:{person}", f"kg:role kg:{role}"]
            if side:
                props.append(f"kg:onSide kgr:{side}")
            q = self.quote(f"{zh[person]}以{role}身份出席谈判")
            self.node(part, "kg:Participation", f"{en[person]}, {role}", f"{zh[person]},{role}",
                      props, q)  # fmt: skip
        hours = rng.randint(2, 10)
        q = self.quote(
            f"{date_zh},{zh[side_a]}与{zh[side_b]}在{zh[mediator]}举行谈判,历时约{hours}小时"
        )
        self.node(
            talks, "kg:Talks",
            f"{en[side_a]}–{en[side_b]} talks in {en[mediator]}, {date}",
            f"{zh[side_a]}{zh[side_b]}{zh[mediator]}谈判({date_zh})",
            [f"kg:location kgr:{mediator}", f'kg:date "{date}"^^xsd:date',
             "kg:datePrecision kg:dayPrecision", f"kg:dateAsWritten {_zh(date_zh)}",
             "kg:yearInferred true", f'kg:duration "PT{hours}H"^^xsd:duration',
             "kg:durationQualifier kg:approximately", "kg:format kg:bilateral , kg:indirect",
             f"kg:hasParticipant kgr:{side_a} , kgr:{side_b} , kgr:{mediator} , "
             f"kgr:{delegations[side_a]} , kgr:{delegations[side_b]}",
             "kg:hasParticipation " + " , ".join(f"kgr:{x}" for x in parts),
             f"kg:outcome {_zh('未达成实质性协议')} , {_en('no substantive agreement')}",
             f"kg:agreementReached {'true' if rng.random() < 0.2 else 'false'}",
             "kg:status kg:happened", "kg:storyPhase kg:duringTalks",
             "kg:eventType kgt:cameo-046 , kgt:plover-CONSULT"], q,
        )  # fmt: skip
        arrival = f"{a}-arrival"
        q = self.quote(f"{date_zh},{zh[side_b]}代表团抵达{zh[mediator]}")
        self.node(
            arrival, "kg:Arrival", f"Delegation of {en[side_b]} arrives in {en[mediator]}",
            f"{zh[side_b]}代表团抵达{zh[mediator]}",
            [f"kg:performedBy kgr:{delegations[side_b]}", f"kg:location kgr:{mediator}",
             f'kg:date "{date}"^^xsd:date', "kg:datePrecision kg:dayPrecision",
             "kg:yearInferred true", "kg:status kg:happened", "kg:storyPhase kg:runUp",
             "kg:eventType kgt:cameo-042 , kgt:plover-CONSULT"], q,
        )  # fmt: skip

        # Background: an earlier strike; run-up: the first plan, a proposal to move the talks,
        # its rejection.
        strike = f"{a}-strike"
        past_month = 1 + self.i % 12
        q = self.quote(f"2025年{past_month}月{zh[side_a]}空袭{zh[side_b]}")
        self.node(
            strike, "kg:MilitaryStrike", f"Strike of {en[side_a]} on {en[side_b]} (2025)",
            f"2025年{past_month}月{zh[side_a]}空袭{zh[side_b]}",
            [f"kg:performedBy kgr:{side_a}", f"kg:target kgr:{side_b}",
             f'kg:date "2025-{past_month:02d}"^^xsd:gYearMonth',
             "kg:datePrecision kg:monthPrecision",
             f"kg:dateAsWritten {_zh(f'2025年{past_month}月')}",
             "kg:status kg:happened", "kg:storyPhase kg:background",
             "kg:aboutIssue kgi:military-conflict",
             "kg:eventType kgt:cameo-195 , kgt:plover-ASSAULT"], q,
        )  # fmt: skip
        plan, proposal, rejection = f"{a}-talks-plan", f"{a}-proposal", f"{a}-rejection"
        first_venue = side_a if mediator != side_a else side_b
        q = self.quote(f"双方原定在{zh[first_venue]}举行谈判")
        self.node(
            plan, "kg:Talks", f"Talks as first planned, in {en[first_venue]}",
            f"原定在{zh[first_venue]}举行的谈判",
            [f"kg:hasParticipant kgr:{side_a} , kgr:{side_b}", f"kg:location kgr:{first_venue}",
             "kg:format kg:withObservers", "kg:status kg:abandoned",
             f"kg:supersededBy kgr:{talks}", "kg:storyPhase kg:runUp",
             "kg:aboutIssue kgi:venue-and-format",
             "kg:eventType kgt:cameo-046 , kgt:plover-CONSULT"], q,
        )  # fmt: skip
        q = self.quote(f"{zh[side_b]}提出将谈判改在{zh[mediator]}举行")
        self.node(
            proposal, "kg:Proposal", f"{en[side_b]} proposes to move the talks to {en[mediator]}",
            f"{zh[side_b]}提出改在{zh[mediator]}谈判",
            [f"kg:performedBy kgr:{side_b}", f"kg:proposesChangeTo kgr:{plan}",
             f"kg:proposedLocation kgr:{mediator}", "kg:proposedFormat kg:bilateral",
             f"kg:restrictsParticipationTo kgr:{side_a} , kgr:{side_b}",
             f'kg:date "{date}"^^xsd:date', "kg:datePrecision kg:dayPrecision",
             "kg:yearInferred true", "kg:status kg:happened", "kg:storyPhase kg:runUp",
             "kg:aboutIssue kgi:venue-and-format",
             "kg:eventType kgt:cameo-100 , kgt:plover-REQUEST"], q,
        )  # fmt: skip
        q = self.quote(f"{zh[side_a]}拒绝了{zh[side_b]}的要求")
        self.node(
            rejection, "kg:Rejection", f"{en[side_a]} rejects the proposal",
            f"{zh[side_a]}拒绝{zh[side_b]}的要求",
            [f"kg:performedBy kgr:{side_a}", f"kg:respondsTo kgr:{proposal}",
             f"kg:after kgr:{proposal}", "kg:status kg:happened", "kg:storyPhase kg:runUp",
             "kg:aboutIssue kgi:venue-and-format",
             "kg:eventType kgt:cameo-120 , kgt:plover-REJECT"], q,
        )  # fmt: skip

        # Demands of side A and their package.
        demands = []
        demand_issues = rng.sample(ISSUES, rng.randint(3, 6))
        for k, issue in enumerate(demand_issues):
            d = f"{a}-demand-{k}"
            demands.append(d)
            q = self.quote(f"{zh[side_a]}要求{zh[side_b]}在{ISSUE_ZH[issue]}问题上让步")
            self.node(
                d, "kg:Demand", f"{en[side_b]} must yield on {issue}",
                f"{zh[side_b]}须在{ISSUE_ZH[issue]}问题上让步",
                [f"kg:slogan {_zh('弃' + ISSUE_ZH[issue])} , {_en('abandon ' + issue)}",
                 f"kg:heldBy kgr:{side_a}", f"kg:addressedTo kgr:{side_b}",
                 f"kg:statedIn kgr:{talks}", f"kg:aboutIssue kgi:{issue}",
                 "kg:storyPhase kg:duringTalks"], q,
            )  # fmt: skip
        package = f"{a}-demand-package"
        q = self.quote(f"{zh[side_a]}提出一揽子要求")
        self.node(
            package, "kg:DemandPackage", f"Demand package of {en[side_a]}",
            f"{zh[side_a]}的一揽子要求",
            [f"kg:heldBy kgr:{side_a}", f"kg:addressedTo kgr:{side_b}",
             f"kg:statedIn kgr:{talks}",
             "kg:includesDemand " + " , ".join(f"kgr:{d}" for d in demands[:3]),
             "kg:storyPhase kg:duringTalks"], q,
        )  # fmt: skip

        # Statements, positions and a red line of side B.
        statement = f"{a}-statement-{side_b}"
        positions = []
        for k, issue in enumerate(rng.sample(ISSUES, rng.randint(2, 4))):
            pos = f"{a}-position-{k}"
            positions.append(pos)
            firmness = rng.choice(["firm", "limitedFlexibility"])
            q = self.quote(f"{zh[side_b]}表示在{ISSUE_ZH[issue]}问题上立场不变")
            self.node(
                pos, "kg:Position", f"{en[side_b]} holds its position on {issue}",
                f"{zh[side_b]}在{ISSUE_ZH[issue]}问题上的立场",
                [f"kg:heldBy kgr:{side_b}", f"kg:addressedTo kgr:{side_a}",
                 f"kg:statedIn kgr:{statement}", f"kg:aboutIssue kgi:{issue}",
                 f"kg:firmness kg:{firmness}", "kg:storyPhase kg:duringTalks"], q,
            )  # fmt: skip
        red_issue = demand_issues[0]
        red = f"{a}-redline"
        q = self.quote(f"{zh[side_b]}划出红线:{ISSUE_ZH[red_issue]}不可谈判")
        self.node(
            red, "kg:RedLine", f"{issue_en(red_issue)} is not negotiable",
            f"{ISSUE_ZH[red_issue]}不可谈判",
            [f"kg:heldBy kgr:{head_b}", f"kg:statedIn kgr:{talks}",
             f"kg:aboutIssue kgi:{red_issue}", "kg:firmness kg:redLine",
             "kg:storyPhase kg:duringTalks"], q,
        )  # fmt: skip
        said = f"{zh[side_b]}不会放弃其立场"
        q = self.quote(f"{zh[head_b]}发表声明称,“{said}”")
        self.node(
            statement, "kg:PublicStatement", f"Statement of {en[side_b]}",
            f"{zh[side_b]}的声明",
            [f"kg:speaker kgr:{head_b}", f"kg:statedText {_zh(said)}",
             f"kg:englishRendering {_en(en[side_b] + ' will not give up its position.')}",
             "kg:directQuote true",
             "kg:announces " + " , ".join(f"kgr:{x}" for x in positions),
             f"kg:after kgr:{arrival}", f'kg:date "{date}"^^xsd:date',
             "kg:datePrecision kg:dayPrecision", "kg:yearInferred true",
             "kg:status kg:happened", "kg:storyPhase kg:duringTalks",
             "kg:eventType kgt:cameo-010"], q,
        )  # fmt: skip

        # A conditional offer and its condition.
        offer, cond = f"{a}-offer", f"{a}-condition"
        hi = rng.choice([60, 50, 40, 90])
        lo = rng.choice([20, 5, 3])
        q = self.quote(f"{zh[side_b]}愿将丰度从{hi}%降至{lo}%")
        self.node(
            offer, "kg:ConditionalOffer", f"Enrichment from {hi}% down to {lo}% on a condition",
            f"丰度从{hi}%降至{lo}%",
            [f"kg:heldBy kgr:{side_b}", f"kg:addressedTo kgr:{side_a}",
             f"kg:statedIn kgr:{statement}", "kg:aboutIssue kgi:enrichment",
             f"kg:offerText {_zh(f'将丰度从{hi}%降至{lo}%')} , "
             f"{_en(f'lower enrichment from {hi}% to {lo}%')}",
             f"kg:fromPercent {hi}", f"kg:toPercent {lo}", "kg:valueQualifier kg:example",
             f"kg:hasCondition kgr:{cond}", "kg:firmness kg:conditional",
             "kg:storyPhase kg:duringTalks"], q,
        )  # fmt: skip
        q = self.quote(f"前提是{zh[side_a]}解除所有制裁")
        self.node(
            cond, "kg:Condition", f"{en[side_a]} lifts all sanctions",
            f"{zh[side_a]}解除所有制裁",
            [f"kg:requiredOf kgr:{side_a}", "kg:aboutIssue kgi:sanctions-relief"], q,
        )  # fmt: skip

        # A threat of cancellation (an ultimatum that is also a statement).
        threat, cancel = f"{a}-ultimatum", f"{a}-cancellation"
        said = "要么接受原有计划,要么取消谈判"
        q = self.quote(f"{zh[side_a]}放出狠话:“{said}”")
        self.node(
            threat, "kg:Ultimatum , kg:PublicStatement", f"Ultimatum of {en[side_a]}",
            f"{zh[side_a]}的最后通牒",
            [f"kg:speaker kgr:{side_a}", f"kg:threatens kgr:{cancel}",
             f"kg:statedText {_zh(said)}",
             f"kg:englishRendering {_en('Accept the plan or the talks are off.')}",
             "kg:directQuote true", "kg:status kg:happened", "kg:storyPhase kg:runUp",
             "kg:eventType kgt:cameo-139 , kgt:plover-THREATEN"], q,
        )  # fmt: skip
        q = self.quote(f"{zh[side_a]}威胁取消谈判")
        self.node(
            cancel, "kg:Cancellation", f"Calling off the talks (threatened by {en[side_a]})",
            f"取消谈判({zh[side_a]}威胁)",
            [f"kg:performedBy kgr:{side_a}", f"kg:target kgr:{talks}",
             "kg:status kg:threatened", "kg:storyPhase kg:runUp",
             "kg:eventType kgt:cameo-130 , kgt:plover-THREATEN"], q,
        )  # fmt: skip

        # Sanctions on unnamed groups, announced by a statement; a tariff.
        entities, vessels = f"{a}-sanctioned-entities", f"{a}-sanctioned-vessels"
        n_ent, n_ves = rng.randint(2, 30), rng.randint(1, 20)
        q = self.quote(f"{n_ent}家涉及石油交易的实体")
        self.node(
            entities, "kg:ActorGroup", f"{n_ent} entities in oil trade", f"{n_ent}家实体",
            ["kg:memberKind kg:Organization", f"kg:memberCount {n_ent}",
             "kg:countQualifier kg:exactly",
             f"kg:criterion {_zh('涉及石油交易')} , {_en('involved in oil trade')}"], q,
        )  # fmt: skip
        q = self.quote(f"{n_ves}艘船只")
        self.node(
            vessels, "kg:UnnamedGroup", f"{n_ves} vessels", f"{n_ves}艘船只",
            ["kg:memberKind kg:Vessel", f"kg:memberCount {n_ves}",
             "kg:countQualifier kg:exactly"], q,
        )  # fmt: skip
        sanc_stmt, sanctions = f"{a}-sanctions-statement", f"{a}-sanctions"
        said = f"对{n_ent}家实体和{n_ves}艘船只实施制裁"
        q = self.quote(f"{zh[ministry]}发表声明:{said}")
        self.node(
            sanc_stmt, "kg:PublicStatement", f"Statement of {en[side_a]} on sanctions",
            f"{zh[ministry]}关于制裁的声明",
            [f"kg:speaker kgr:{ministry}", f"kg:statedText {_zh(said)}",
             f"kg:englishRendering {_en(f'Sanctions on {n_ent} entities and {n_ves} vessels.')}",
             "kg:directQuote false", f"kg:announces kgr:{sanctions}", f"kg:after kgr:{talks}",
             "kg:status kg:happened", "kg:storyPhase kg:aftermath",
             "kg:eventType kgt:cameo-010"], q,
        )  # fmt: skip
        q = self.quote(f"{zh[ministry]}宣布对{n_ent}家实体及{n_ves}艘船只实施制裁")
        self.node(
            sanctions, "kg:SanctionDesignation",
            f"Sanctions of {en[side_a]} on {n_ent} entities and {n_ves} vessels",
            f"{zh[side_a]}对{n_ent}家实体及{n_ves}艘船只的制裁",
            [f"kg:performedBy kgr:{ministry}", f"kg:target kgr:{entities} , kgr:{vessels}",
             f"kg:imposedThrough kgr:{sanc_stmt}", f"kg:after kgr:{talks}",
             f'kg:date "{date}"^^xsd:date', "kg:datePrecision kg:dayPrecision",
             "kg:yearInferred true", "kg:status kg:happened", "kg:storyPhase kg:aftermath",
             "kg:aboutIssue kgi:oil-trade", "kg:eventType kgt:cameo-163 , kgt:plover-SANCTION"],
            q,
        )  # fmt: skip
        traders, tariff = f"{a}-trading-states", f"{a}-tariff"
        q = self.quote(f"与{zh[side_b]}有贸易往来的国家")
        self.node(
            traders, "kg:ActorGroup", f"countries trading with {en[side_b]}",
            f"与{zh[side_b]}有贸易往来的国家",
            ["kg:memberKind kg:State", "kg:countQualifier kg:unstatedNumber"], q,
        )  # fmt: skip
        rate = rng.choice([10, 25, 50])
        q = self.quote(f"其商品可能面临{rate}%的额外关税")
        self.node(
            tariff, "kg:Tariff", f"{rate}% tariff on countries trading with {en[side_b]}",
            f"对与{zh[side_b]}贸易国家加征{rate}%关税",
            [f"kg:performedBy kgr:{side_a}", f"kg:target kgr:{traders}",
             f"kg:tariffBasis {_zh('额外从价关税')} , {_en('additional ad valorem tariff')}",
             f"kg:rate {rate}", "kg:valueQualifier kg:example", "kg:status kg:announced",
             "kg:storyPhase kg:aftermath", "kg:aboutIssue kgi:trade-with-iran",
             "kg:eventType kgt:cameo-163 , kgt:plover-SANCTION"], q,
        )  # fmt: skip
        # The article's own tension: the tariff imposed in one sentence, possible in another.
        q_possible = q
        q = self.quote(f"{zh[side_a]}对与{zh[side_b]}有贸易往来的国家加征关税")
        self.node(
            f"{a}-tension-tariff", "kg:Tension", "The tariff: imposed or possible",
            "关税:“加征”还是“可能面临”",
            [f"kg:tensionAbout kgr:{tariff}",
             f"kg:explanation {_en('One sentence imposes the tariff, another: goods may face it')}",
             f"kg:quote {_ttl_str(q_possible)}"], q,
        )  # fmt: skip

        # The author's analysis.
        for k in range(rng.randint(4, 8)):
            claim = f"{a}-claim-{k}"
            kind = rng.choice(CLAIM_KINDS)
            issue = rng.choice(ISSUES)
            said = f"{zh[side_a]}与{zh[side_b]}在{ISSUE_ZH[issue]}问题上的分歧仍难弥合"
            q = self.quote(said + f"(分析{k + 1})")
            self.node(
                claim, "kg:AnalysisClaim",
                f"{en[side_a]} and {en[side_b]} remain divided on {issue} ({k + 1})",
                f"{ISSUE_ZH[issue]}分歧难弥合({k + 1})",
                [f"kg:attributedTo kgr:article-{self.id}", f"kg:claimKind kg:{kind}",
                 f"kg:aboutActor kgr:{side_a} , kgr:{side_b}", f"kg:aboutIssue kgi:{issue}",
                 f"kg:refersTo kgr:{talks}", f"kg:statedText {_zh(said)}",
                 f"kg:englishRendering {_en(f'{en[side_a]} and {en[side_b]} remain divided.')}"],
                q,
            )  # fmt: skip

        head = (
            f"{PREFIXES}\n# Synthetic article {self.i} (benchmarks/synth.py): every fact with "
            f"its quote from data/sources/{self.id}.txt.\n\n"
        )
        text = "\n".join(self.sentences) + "\n"
        return head + "\n".join(self.blocks), text


def issue_en(issue: str) -> str:
    return issue.replace("-", " ").capitalize()


def generate(out: Path, articles: int, seed: int = 1, *, repo: Path = REPO) -> Path:
    """Write a synthetic project with `articles` articles into `out` (absent or empty)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"synth: {out} exists and is not empty")
    rng = random.Random(seed)
    pool = Pool(articles, rng)
    for part in ("ontology", "queries"):
        shutil.copytree(repo / part, out / part)
    (out / "data" / "shared").mkdir(parents=True)
    (out / "data" / "articles").mkdir()
    (out / "data" / "sources").mkdir()
    (out / "data" / "shared" / "actors.ttl").write_text(pool.turtle(), encoding="utf-8")
    # Every shared actor is quoted by at least one article (the shapes require evidence).
    everyone = pool.all()
    per_article: list[list[str]] = [[] for _ in range(max(articles, 1))]
    for k, actor in enumerate(everyone):
        per_article[k % len(per_article)].append(actor)
    for i in range(articles):
        art = Article(i, pool, random.Random(rng.random()), per_article[i])
        ttl, text = art.build()
        (out / "data" / "articles" / f"{art.id}.ttl").write_text(ttl, encoding="utf-8")
        (out / "data" / "sources" / f"{art.id}.txt").write_text(text, encoding="utf-8")
    return out


def prepare(out: Path, articles: int, seed: int = 1, *, repo: Path = REPO) -> bool:
    """The corpus at `out`: generated when absent (True), else kept, with its copies of the
    repository's ontology/ and queries/ replaced by today's. A corpus kept from an earlier run
    would otherwise measure the queries and ontology of then (`kg build` rebuilds when the
    ontology changed)."""
    out = Path(out)
    if not (out / "data").is_dir():
        generate(out, articles, seed, repo=repo)
        return True
    refresh(out, ("ontology", "queries"), repo=repo)
    return False


def refresh(out: Path, parts, *, repo: Path = REPO) -> None:
    """Replace the folders `parts` of the project at `out` with the repository's."""
    for part in parts:
        if (out / part).exists():
            shutil.rmtree(out / part)
        shutil.copytree(repo / part, out / part)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, help="number of articles")
    parser.add_argument("--size", choices=sorted(SIZES), help="a benchmark size instead")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", required=True, type=Path, help="project folder")
    args = parser.parse_args(argv)
    if (args.articles is None) == (args.size is None):
        parser.error("give --articles N or --size")
    n = args.articles if args.articles is not None else SIZES[args.size]
    if n < 1:
        parser.error("--articles must be at least 1")
    generate(args.output, n, args.seed)
    print(f"wrote {n} articles to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
