"""`kg report`: a static, bilingual site made from the build, the stored questions and the ontology.

Every page is generated from the graph: the article with its evidence highlighted, a timeline
and a network per article, one page per stored question, one per entity, and the ontology with
the SHACL shapes that apply to each class. Scripts and styles ship in the package (`kg/static/`),
so the folder opens from disk with no network. The same build gives the same bytes: everything
is sorted, nothing records the moment it was written. The folder is written beside its target
and renamed into place once complete.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store

from kg import namespaces as ns
from kg.errors import KgError
from kg.humanize import column_label, duration_text
from kg.project import Project

MARKER = ".kg-report"  # a file that says a folder is a report kg may replace
ROWS_PER_PAGE = 500  # answers longer than this are split over pages (at 1M: pages < 2 MB)
INCOMING_SHOWN = 400  # incoming links listed on an entity page (a hub has thousands)
ENTITIES_PER_INDEX = 2000
DEFAULT_EDITOR = "http://127.0.0.1:7878/"
STATIC_FILES = ("cytoscape.min.js", "cytoscape.LICENSE", "kg.js", "kg.css")
NETWORK_KINDS = ("Actor", "Event", "Demand", "Position", "ConditionalOffer", "Condition", "Issue")
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

_RDF_TYPE = ns.RDF + "type"
_LABEL = ns.RDFS + "label"
_COMMENT = ns.RDFS + "comment"
_SUBCLASS = ns.RDFS + "subClassOf"
_SKOS_DEF = ns.SKOS + "definition"
_OWL_CLASS = ns.OWL + "Class"
_XSD_DURATION = ns.XSD + "duration"


class KgReportError(KgError):
    exit_code = 2


@dataclass(frozen=True)
class Term:
    """An object of a triple: an IRI (`lang` and `datatype` empty) or a literal."""

    value: str
    is_iri: bool
    lang: str = ""
    datatype: str = ""


@dataclass
class Annotation:
    iri: str
    article: str
    start: int
    end: int
    bodies: list[str] = field(default_factory=list)


@dataclass
class Article:
    iri: str
    id: str
    text: str
    furniture: list[str]
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ReportSummary:
    folder: Path
    pages: int
    bytes: int
    largest: tuple[str, int]
    seconds: float
    articles: int
    entities: int
    queries: int


# --------------------------------------------------------------------------- the graph, indexed


class Graph:
    """What the pages need, read from the build in one pass over its quads."""

    def __init__(self, store: Store):
        self.store = store
        self.out: dict[str, list[tuple[str, Term, bool]]] = defaultdict(list)  # s -> p, o, inferred
        self.incoming: dict[str, list[tuple[str, str]]] = defaultdict(list)  # o -> s, p
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        self.types: dict[str, set[str]] = defaultdict(set)
        self.graphs: dict[str, set[str]] = defaultdict(set)  # subject -> named graphs
        inferred = ns.GRAPH_INFERRED
        for q in store.quads_for_pattern(None, None, None, None):
            s, p, o, g = q.subject, q.predicate.value, q.object, q.graph_name
            if isinstance(s, BlankNode):
                continue
            s = s.value
            graph = g.value if isinstance(g, NamedNode) else ""
            is_inferred = graph == inferred
            if isinstance(o, NamedNode):
                term = Term(o.value, True)
                if not is_inferred and not s.startswith(ns.EVIDENCE_BASE):
                    self.incoming[o.value].append((s, p))
            elif isinstance(o, Literal):
                term = Term(o.value, False, o.language or "", o.datatype.value)
            else:
                continue
            if p == _LABEL and not term.is_iri:
                self.labels[s].setdefault(term.lang or "en", term.value)
            if p == _RDF_TYPE:
                self.types[s].add(term.value)
            if not is_inferred:
                self.graphs[s].add(graph)
            self.out[s].append((p, term, is_inferred))
        for triples in self.out.values():
            triples.sort(key=lambda t: (t[2], t[0], t[1].value, t[1].lang, t[1].datatype))
        for links in self.incoming.values():
            links.sort()
        self.superclasses = self._superclasses()

    def _superclasses(self) -> dict[str, set[str]]:
        direct: dict[str, set[str]] = defaultdict(set)
        for s, triples in self.out.items():
            for p, o, inferred in triples:
                if p == _SUBCLASS and o.is_iri and not inferred:
                    direct[s].add(o.value)
        closure: dict[str, set[str]] = {}

        def up(c: str, seen: frozenset = frozenset()) -> set[str]:
            if c in closure:
                return closure[c]
            result = {c}
            for parent in direct.get(c, ()):
                if parent not in seen:
                    result |= up(parent, seen | {c})
            closure[c] = result
            return result

        for c in list(direct):
            up(c)
        return closure

    def label(self, iri: str, lang: str) -> str:
        found = self.labels.get(iri)
        if found:
            other = "zh" if lang == "en" else "en"
            return found.get(lang) or found.get(other) or next(iter(found.values()))
        return ns.local_name(iri)

    def values(self, s: str, p: str) -> list[Term]:
        return [o for q, o, inferred in self.out.get(s, ()) if q == p and not inferred]

    def first(self, s: str, p: str) -> Term | None:
        found = self.values(s, p)
        return found[0] if found else None

    def kg_types(self, iri: str) -> list[str]:
        """The most specific asserted kg: classes of a node."""
        asserted = {
            o.value
            for p, o, inferred in self.out.get(iri, ())
            if p == _RDF_TYPE and not inferred and o.value.startswith(ns.KG)
        }
        return sorted(
            c
            for c in asserted
            if not any(c != d and c in self.superclasses.get(d, {d}) for d in asserted)
        )

    def is_a(self, iri: str, cls: str) -> bool:
        return any(cls in self.superclasses.get(t, {t}) for t in self.types.get(iri, ()))


def _read_shapes(project: Project) -> Store:
    shapes = Store()
    for f in project.shapes_files():
        shapes.load(path=str(f.path), format=RdfFormat.TURTLE)
    return shapes


def _articles(graph: Graph, project: Project) -> list[Article]:
    articles: dict[str, Article] = {}
    for iri, classes in graph.types.items():
        if ns.KG + "NewsArticle" not in classes:
            continue
        source = graph.first(iri, ns.KG + "sourceFile")
        if source is None:
            continue
        path = project.sources_dir / source.value
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise KgReportError(
                f"{project.rel(path)}: cannot read the article's text: {e}"
            ) from None
        furniture = [t.value for t in graph.values(iri, ns.KG + "pageFurniture")]
        articles[iri] = Article(iri, Path(source.value).stem, text, sorted(furniture))
    for iri, triples in graph.out.items():
        if not iri.startswith(ns.EVIDENCE_BASE) or ns.OA + "Annotation" not in graph.types[iri]:
            continue
        bodies = sorted(o.value for p, o, inf in triples if p == ns.OA + "hasBody" and not inf)
        target = graph.first(iri, ns.OA + "hasTarget")
        if target is None:
            continue
        source = graph.first(target.value, ns.OA + "hasSource")
        start = end = None
        for selector in graph.values(target.value, ns.OA + "hasSelector"):
            if ns.OA + "TextPositionSelector" in graph.types.get(selector.value, ()):
                start = graph.first(selector.value, ns.OA + "start")
                end = graph.first(selector.value, ns.OA + "end")
        if source is None or start is None or end is None or source.value not in articles:
            continue
        a = Annotation(iri, source.value, int(start.value), int(end.value), bodies)
        articles[source.value].annotations.append(a)
    for article in articles.values():
        article.annotations.sort(key=lambda a: (a.start, a.end, a.iri))
    return sorted(articles.values(), key=lambda a: a.id)


# --------------------------------------------------------------------------- html helpers

esc = html.escape


def _json_script(element_id: str, data) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def bi(en: str, zh: str) -> str:
    """Text in both languages; the page shows the one chosen (English / 中文)."""
    if en == zh:
        return esc(en)
    return f'<span class="en" lang="en">{esc(en)}</span><span class="zh" lang="zh">{esc(zh)}</span>'


# Words of the interface, in both languages.
UI = {
    "home": ("Overview", "总览"),
    "article": ("Article", "文章"),
    "timeline": ("Timeline", "时间线"),
    "network": ("Network", "关系网络"),
    "answers": ("Questions", "问题"),
    "ontology": ("Ontology", "本体"),
    "entities": ("Entities", "实体"),
    "kind": ("kind", "类别"),
    "status": ("status", "状态"),
    "evidence": ("Evidence", "证据"),
    "properties": ("Properties", "属性"),
    "inferred": ("Inferred (OWL RL)", "推理所得(OWL RL)"),
    "incoming": ("Mentioned in", "被提及于"),
    "furniture": ("page furniture: not content", "页面附属内容:非正文"),
    "download": ("Download CSV", "下载 CSV"),
    "sparql": ("SPARQL", "SPARQL"),
    "editor": ("Open in the query editor", "在查询编辑器中打开"),
    "rows": ("rows", "行"),
    "facts": ("Facts in this article", "本文中的事实"),
    "list": ("List view", "列表视图"),
    "filter": ("Show kinds", "显示类别"),
    "labels_en": ("English labels", "英文标签"),
    "labels_zh": ("Chinese labels", "中文标签"),
    "iri": ("IRI", "IRI"),
    "wikidata": ("Wikidata (verified)", "维基数据(已核实)"),
    "shapes": ("SHACL shapes that apply", "适用的 SHACL 约束"),
    "classes": ("Classes", "类"),
    "props": ("Properties", "属性"),
    "values": ("Controlled values", "受控取值"),
    "concepts": ("Concept schemes", "概念体系"),
    "no_date": ("undated", "无日期"),
    "year_inferred": ("year inferred", "年份为推断"),
    "month_inferred": ("month inferred", "月份为推断"),
    "unused": (
        "Unmarked text grounds no fact of the graph.",
        "未标记的文字不支撑图中的任何事实。",
    ),
    "more": ("more not listed", "条未列出"),
}


def ui(key: str) -> str:
    return bi(*UI[key])


def _slug(text: str) -> str:
    return _SLUG_UNSAFE.sub("_", text) or "_"


# --------------------------------------------------------------------------- the site


class Site:
    def __init__(
        self, project: Project, graph: Graph, articles: list[Article], shapes: Store, editor: str
    ):
        self.project = project
        self.g = graph
        self.articles = articles
        self.shapes = shapes
        self.editor = editor
        self.title = project.root.name
        self.files: dict[str, bytes] = {}
        self.entity_path: dict[str, str] = {}
        self._by_graph: dict[str, list[str]] | None = None
        self._assign_entity_pages()

    # ---- what gets a page, and where

    def _is_entity(self, iri: str) -> bool:
        if iri.startswith((ns.KG, ns.EVIDENCE_BASE)) or iri not in self.g.labels:
            return False
        return iri.startswith((ns.KGR, ns.KGI, ns.KGT))

    def _assign_entity_pages(self) -> None:
        used: set[str] = set()
        prefixes = ((ns.KGR, ""), (ns.KGI, "issue-"), (ns.KGT, "type-"))
        for iri in sorted(self.g.labels):
            if not self._is_entity(iri):
                continue
            prefix, tag = next((p, t) for p, t in prefixes if iri.startswith(p))
            slug = tag + _slug(iri[len(prefix) :])
            while slug.lower() in used:  # case-insensitive file systems
                slug += "_"
            used.add(slug.lower())
            self.entity_path[iri] = f"e/{slug}.html"

    def href(self, iri: str, depth: int) -> str | None:
        up = "../" * depth
        if iri in self.entity_path:
            return up + self.entity_path[iri]
        if iri.startswith(ns.KG):
            return f"{up}ontology.html#{_slug(iri[len(ns.KG) :])}"
        if iri.startswith(("http://www.wikidata.org/", "https://www.wikidata.org/")):
            return iri
        return None

    def name(self, iri: str) -> str:
        return bi(self.g.label(iri, "en"), self.g.label(iri, "zh"))

    def link(self, iri: str, depth: int, cls: str = "") -> str:
        target = self.href(iri, depth)
        label = self.name(iri) if iri in self.g.labels else esc(ns.shorten(iri))
        klass = f' class="{cls}"' if cls else ""
        if target is None:
            return f'<span{klass} title="{esc(iri)}">{label}</span>'
        return f'<a{klass} href="{esc(target)}" title="{esc(iri)}">{label}</a>'

    def kind(self, iri: str) -> list[str]:
        return self.g.kg_types(iri)

    def kinds_html(self, iri: str) -> str:
        return bi(self.kind_text(iri, "en"), self.kind_text(iri, "zh"))

    def term_head(self, term: str) -> str:
        return (
            f"<section class='term' id='{_slug(term[len(ns.KG) :])}'><h3>{self.name(term)} "
            f"<code>{esc(ns.shorten(term))}</code></h3>"
        )

    def kind_text(self, iri: str, lang: str) -> str:
        return ", ".join(self.g.label(k, lang) for k in self.kind(iri)) or ""

    def literal(self, term: Term, switch: bool = False) -> str:
        """A literal; with `switch`, one of a pair in English and Chinese, shown in its language."""
        if term.datatype == _XSD_DURATION:
            return bi(duration_text(term.value, "en"), duration_text(term.value, "zh"))
        if term.lang in ("en", "zh"):
            klass = f' class="{term.lang}"' if switch else ""
            return f'<span{klass} lang="{term.lang}">{esc(term.value)}</span>'
        return esc(term.value)

    def value(self, term: Term, depth: int, switch: bool = False) -> str:
        return self.link(term.value, depth) if term.is_iri else self.literal(term, switch)

    def values_html(self, terms: list[Term], depth: int) -> str:
        switch = {"en", "zh"} <= {t.lang for t in terms}
        return (" " if switch else " · ").join(self.value(o, depth, switch) for o in terms)

    # ---- page frame

    def page(self, path: str, title: tuple[str, str], body: str, *, scripts=(), data=None) -> None:
        depth = path.count("/")
        up = "../" * depth
        nav = [("index.html", "home"), ("answers.html", "answers"), ("ontology.html", "ontology")]
        if self.articles:
            first = self.articles[0].id
            nav[1:1] = [
                (f"a/{first}.html", "article"),
                (f"t/{first}.html", "timeline"),
                (f"n/{first}.html", "network"),
            ]
        links = "".join(f'<a href="{up}{href}">{ui(key)}</a>' for href, key in nav)
        extra = "".join(f'<script src="{up}static/{s}"></script>' for s in scripts)
        data_script = _json_script("data", data) if data is not None else ""
        text = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title[0])} — {esc(self.title)}</title>\n"
            f'<link rel="stylesheet" href="{up}static/kg.css">\n'
            "<script>try{if(localStorage.getItem('kg-lang')==='zh')"
            "document.documentElement.classList.add('zh')}catch(e){}</script>\n"
            "</head>\n<body>\n"
            f'<header><nav aria-label="site">{links}</nav>'
            '<button type="button" id="lang" aria-label="language / 语言">'
            '<span class="en">中文</span><span class="zh">English</span></button></header>\n'
            f'<main id="main">\n<h1>{bi(*title)}</h1>\n{body}\n</main>\n{data_script}\n'
            f'{extra}<script src="{up}static/kg.js"></script>\n</body>\n</html>\n'
        )
        self.files[path] = text.encode("utf-8")

    # ---- index

    def index_pages(self, queries) -> None:
        items = []
        for a in self.articles:
            head = self.g.first(a.iri, ns.KG + "hasHeadline")
            title = self.name(a.iri)
            if head is not None:
                title += f' <span class="quiet" lang="zh">{esc(head.value)}</span>'
            items.append(
                f"<li>{title}<br><a href='a/{a.id}.html'>{ui('article')}</a> · "
                f"<a href='t/{a.id}.html'>{ui('timeline')}</a> · "
                f"<a href='n/{a.id}.html'>{ui('network')}</a> "
                f"<span class='quiet'>({len(a.annotations)} spans)</span></li>"
            )
        entities = sorted(self.entity_path, key=lambda i: (self.g.label(i, "en").lower(), i))
        chunks = [
            entities[i : i + ENTITIES_PER_INDEX]
            for i in range(0, len(entities), ENTITIES_PER_INDEX)
        ] or [[]]
        body = (
            f"<h2>{bi('Articles', '文章')} ({len(self.articles)})</h2>\n<ol>{''.join(items)}</ol>\n"
            f"<h2>{ui('answers')}</h2><p><a href='answers.html'>{len(queries)} "
            f"{bi('stored questions', '个预存问题')}</a> · <a href='ontology.html'>"
            f"{ui('ontology')}</a></p>\n<h2>{ui('entities')} ({len(entities)})</h2>\n"
            + " ".join(
                f"<a href='entities-{n + 1}.html'>{n * ENTITIES_PER_INDEX + 1}–"
                f"{n * ENTITIES_PER_INDEX + len(c)}</a>"
                for n, c in enumerate(chunks)
            )
        )
        self.page("index.html", (self.title, self.title), body)
        for n, chunk in enumerate(chunks):
            rows = "".join(
                f"<tr><td>{self.link(i, 0)}</td><td>{self.kinds_html(i)}</td></tr>" for i in chunk
            )
            body = (
                f"<table class='sortable'><thead><tr><th>{bi('name', '名称')}</th>"
                f"<th>{ui('kind')}</th></tr></thead><tbody>{rows}</tbody></table>"
            )
            self.page(f"entities-{n + 1}.html", UI["entities"], body)

    # ---- the article with its evidence

    def _fact(self, iri: str) -> dict:
        status = self.g.first(iri, ns.KG + "status")
        return {
            "href": self.entity_path.get(iri, ""),
            "label": [self.g.label(iri, "en"), self.g.label(iri, "zh")],
            "kind": [self.kind_text(iri, "en"), self.kind_text(iri, "zh")],
            "status": [self.g.label(status.value, "en"), self.g.label(status.value, "zh")]
            if status is not None and status.is_iri
            else None,
        }

    def article_page(self, a: Article) -> None:
        text = a.text
        furniture = []
        for f in a.furniture:
            at = text.find(f)
            if at >= 0:
                furniture.append((at, at + len(f)))
        cuts = {0, len(text)}
        for ann in a.annotations:
            cuts |= {ann.start, ann.end}
        for s, e in furniture:
            cuts |= {s, e}
        cuts = sorted(c for c in cuts if 0 <= c <= len(text))
        facts: list[str] = sorted({b for ann in a.annotations for b in ann.bodies})
        fact_index = {f: i for i, f in enumerate(facts)}
        starts: dict[int, list[int]] = defaultdict(list)
        for k, ann in enumerate(a.annotations):
            starts[ann.start].append(k)
        active: list[int] = []
        out = []
        used = 0
        for left, right in zip(cuts, cuts[1:], strict=False):
            active = [k for k in active if a.annotations[k].end > left] + starts.get(left, [])
            piece = esc(text[left:right]).replace("\n", "<br>\n")
            if any(s <= left and right <= e for s, e in furniture):
                out.append(
                    f'<span class="furniture" title="{esc(UI["furniture"][0])}">{piece}</span>'
                )
            elif active:
                used += right - left
                ids = " ".join(str(k) for k in sorted(active))
                out.append(f'<mark tabindex="0" data-a="{ids}">{piece}</mark>')
            else:
                out.append(piece)
        data = {
            "facts": [self._fact(f) for f in facts],
            "ann": [[x.start, x.end, [fact_index[b] for b in x.bodies]] for x in a.annotations],
        }
        fact_items = "".join(
            f'<li><a href="#" data-fact="{i}">{self.name(f)}</a> '
            f'<span class="quiet">{self.kinds_html(f)}</span></li>'
            for i, f in sorted(enumerate(facts), key=lambda x: self._story_key(x[1]))
        )
        share = f"{used / max(1, len(text)):.0%}"
        body = (
            f'<p class="quiet">{esc(a.id)}.txt · {len(text)} {bi("characters", "字符")} · '
            f"{len(a.annotations)} {bi('highlighted spans ground', '处标记片段支撑')} {len(facts)} "
            f"{bi('facts', '个事实')} ({share} {bi('of the text', '的文字')}). "
            f"{ui('unused')} <span class='furniture'>{ui('furniture')}</span></p>\n"
            f'<div class="split"><article id="text" lang="zh" aria-label="article text">'
            f"{''.join(out)}</article>\n"
            f'<aside><h2>{ui("facts")}</h2><ol id="facts">{fact_items}</ol></aside></div>\n'
            f'<div id="pop" role="dialog" aria-live="polite" hidden></div>'
        )
        self.page(f"a/{a.id}.html", (self.g.label(a.iri, "en"), self.g.label(a.iri, "zh")), body,
                  data=data)  # fmt: skip

    def _story_key(self, iri: str):
        pos = self.g.first(iri, ns.KG + "firstQuoteStart")
        return (int(pos.value) if pos is not None else 1 << 40, iri)

    # ---- timeline

    def in_article(self, a: Article) -> list[str]:
        """The entities the article's graph describes (computed once for all articles)."""
        if self._by_graph is None:
            self._by_graph = defaultdict(list)
            for iri in sorted(self.entity_path):
                for graph in self.g.graphs.get(iri, ()):
                    self._by_graph[graph].append(iri)
        return self._by_graph.get(ns.article_graph(a.id), [])

    def timeline_page(self, a: Article) -> None:
        events = [e for e in self.in_article(a) if self.g.first(e, ns.KG + "date") is not None]
        groups: dict[str, list[str]] = defaultdict(list)
        for e in events:
            phase = self.g.first(e, ns.KG + "storyPhase")
            groups[phase.value if phase is not None else ""].append(e)

        def date_of(e):
            return self.g.first(e, ns.KG + "date").value

        for items in groups.values():
            items.sort(key=lambda e: (date_of(e), self._story_key(e)))
        order = sorted(groups, key=lambda p: (min(date_of(e) for e in groups[p]), p))
        spans = {b: (x.start, x.end) for x in a.annotations for b in x.bodies}
        parts = []
        for phase in order:
            title = self.name(phase) if phase else bi("no phase given", "未标明阶段")
            lis = []
            for e in groups[phase]:
                status = self.g.first(e, ns.KG + "status")
                st = status.value[len(ns.KG) :] if status is not None else "unknown"
                badge = (
                    f'<span class="status st-{esc(_slug(st))}">{self.name(status.value)}</span>'
                    if status is not None
                    else ""
                )
                flags = []
                if self._true(e, "yearInferred"):
                    flags.append(ui("year_inferred"))
                if self._true(e, "monthInferred"):
                    flags.append(ui("month_inferred"))
                flag = f' <span class="inferred-date">({", ".join(flags)})</span>' if flags else ""
                written = self.g.first(e, ns.KG + "dateAsWritten")
                written = (
                    f' <span class="quiet" lang="zh">“{esc(written.value)}”</span>'
                    if written
                    else ""
                )
                ev = ""
                if e in spans:
                    s, t = spans[e]
                    ev = f' · <a href="../a/{a.id}.html#ev-{s}-{t}">{ui("evidence")}</a>'
                lis.append(
                    f'<li class="event st-{esc(_slug(st))}"><time datetime="{esc(date_of(e))}">'
                    f"{self._date(e)}</time>{flag}{written} "
                    f'<a class="item" href="../{self.entity_path[e]}">{self.name(e)}</a> '
                    f'<span class="quiet">{bi(self.kind_text(e, "en"), self.kind_text(e, "zh"))}'
                    f"</span> {badge}{ev}</li>"
                )
            parts.append(
                f"<section><h2>{title}</h2><ol class='timeline'>{''.join(lis)}</ol></section>"
            )
        legend = bi(
            "Status is written out and drawn: a solid marker for what happened, a hollow marker "
            "and dashed line for what was planned, announced, threatened, hypothetical or "
            "abandoned. Dates show their precision (day, month or year).",
            "状态以文字和图形表示:实心标记为已发生;空心标记加虚线为计划、宣布、威胁、假设或放弃的事件。"
            "日期按其精度(日、月、年)显示。",
        )
        body = f'<p class="quiet">{legend}</p>' + "".join(parts)
        self.page(f"t/{a.id}.html", UI["timeline"], body)

    def _true(self, iri: str, local: str) -> bool:
        v = self.g.first(iri, ns.KG + local)
        return v is not None and v.value in ("true", "1")

    def _date(self, e: str) -> str:
        d = self.g.first(e, ns.KG + "date").value
        parts = d.split("-")
        months = [
            "Jan",
            "Feb",
            "Mar",
            "Apr",
            "May",
            "Jun",
            "Jul",
            "Aug",
            "Sep",
            "Oct",
            "Nov",
            "Dec",
        ]
        try:
            if len(parts) >= 3:
                y, m, day = int(parts[0]), int(parts[1]), int(parts[2][:2])
                return bi(f"{day} {months[m - 1]} {y}", f"{y}年{m}月{day}日")
            if len(parts) == 2:
                y, m = int(parts[0]), int(parts[1][:2])
                return bi(f"{months[m - 1]} {y}", f"{y}年{m}月")
            return bi(parts[0][:4], f"{parts[0][:4]}年")
        except (ValueError, IndexError):
            return esc(d)

    # ---- network

    def network_page(self, a: Article, conflicts: list[tuple[str, str]]) -> None:
        kinds = {k: ns.KG + k for k in NETWORK_KINDS}
        nodes: dict[str, str] = {}
        candidates = set(self.in_article(a))
        for i in list(candidates):  # and what they point to (shared actors, issues)
            for _, o, inferred in self.g.out.get(i, ()):
                if o.is_iri and not inferred and o.value in self.entity_path:
                    candidates.add(o.value)
        for i in candidates:
            for k, cls in kinds.items():
                if self.g.is_a(i, cls):
                    nodes[i] = k
                    break
        edges: dict[tuple[str, str, str], dict] = {}
        sides: dict[str, set[str]] = defaultdict(set)
        participation = ns.KG + "Participation"
        for i in sorted(candidates):
            if not self.g.is_a(i, participation):
                continue
            who = self.g.first(i, ns.KG + "participant")
            side = self.g.first(i, ns.KG + "onSide")
            role = self.g.first(i, ns.KG + "role")
            events = [s for s, p in self.g.incoming.get(i, ()) if p == ns.KG + "hasParticipation"]
            for ev in events:
                if who is None or ev not in nodes or who.value not in nodes:
                    continue
                label_en = self.g.label(role.value, "en") if role else "participant"
                label_zh = self.g.label(role.value, "zh") if role else "参与者"
                if side is not None:
                    sides[who.value].add(side.value)
                    label_en += f" · side: {self.g.label(side.value, 'en')}"
                    label_zh += f" · 立场方:{self.g.label(side.value, 'zh')}"
                edges[(ev, who.value, "participation")] = {"en": label_en, "zh": label_zh}
        for i in sorted(nodes):
            for p, o, inferred in self.g.out.get(i, ()):
                if inferred or not o.is_iri or o.value not in nodes or o.value == i:
                    continue
                if p == ns.KG + "hasParticipant" and (i, o.value, "participation") in edges:
                    continue
                edges[(i, o.value, p)] = {"en": self.g.label(p, "en"), "zh": self.g.label(p, "zh")}
        for d, s in conflicts:
            if d in nodes and s in nodes:
                edges[(d, s, "conflicts")] = {"en": "conflicts with", "zh": "冲突"}
        elements = {
            "nodes": [
                {
                    "id": self.entity_path[i],
                    "kind": k,
                    "en": self.g.label(i, "en"),
                    "zh": self.g.label(i, "zh"),
                    "side_en": ", ".join(sorted(self.g.label(s, "en") for s in sides.get(i, ()))),
                    "side_zh": ", ".join(sorted(self.g.label(s, "zh") for s in sides.get(i, ()))),
                }
                for i, k in sorted(nodes.items())
            ],
            "edges": [
                {
                    "source": self.entity_path[s],
                    "target": self.entity_path[t],
                    "rel": "conflicts"
                    if p == "conflicts"
                    else ("participation" if p == "participation" else "link"),
                    "en": lab["en"],
                    "zh": lab["zh"],
                }
                for (s, t, p), lab in sorted(edges.items())
            ],
            "kinds": {k: [self.g.label(c, "en"), self.g.label(c, "zh")] for k, c in kinds.items()},
        }
        by_node: dict[str, list[str]] = defaultdict(list)
        for (s, t, _), lab in sorted(edges.items()):
            by_node[s].append(f"{bi(lab['en'], lab['zh'])} → {self.link(t, 1)}")
            by_node[t].append(f"← {bi(lab['en'], lab['zh'])} {self.link(s, 1)}")
        list_items = []
        for i, k in sorted(
            nodes.items(), key=lambda x: (NETWORK_KINDS.index(x[1]), self.g.label(x[0], "en"))
        ):
            side = ""
            if sides.get(i):
                side = (
                    f" <span class='side'>{bi('side', '立场方')}: "
                    + ", ".join(self.name(s) for s in sorted(sides[i]))
                    + "</span>"
                )
            rels = "".join(f"<li>{r}</li>" for r in by_node.get(i, []))
            list_items.append(
                f'<li data-kind="{k}" data-id="{self.entity_path[i]}">{self.link(i, 1)} '
                f'<span class="quiet">{bi(*elements["kinds"][k])}</span>{side}'
                f"<ul>{rels}</ul></li>"
            )
        filters = "".join(
            f'<label><input type="checkbox" name="kind" value="{k}" checked> '
            f'<span class="swatch k-{k}"></span>{bi(*elements["kinds"][k])}</label> '
            for k in NETWORK_KINDS
        )
        help_text = bi(
            "Drag to pan, scroll or pinch to zoom; tap a node to highlight its neighbours, "
            "double-click to open its page. Red dashed lines: a US demand that conflicts with an "
            "Iranian position on the same issue.",
            "拖动平移,滚轮或双指缩放;点击节点突出其相邻节点,双击打开其页面。红色虚线:与伊朗在同一议题上立场冲突的美方要求。",
        )
        body = (
            f'<fieldset class="filters"><legend>{ui("filter")}</legend>{filters}</fieldset>\n'
            f'<p class="quiet">{help_text}</p>\n'
            f'<div id="cy" role="img" aria-label="network of {len(nodes)} nodes; '
            'the list view below holds the same"></div>\n'
            f'<h2 id="list">{ui("list")}</h2>'
            f'<ul id="nodes" class="nodes">{"".join(list_items)}</ul>'
        )
        self.page(
            f"n/{a.id}.html", UI["network"], body, scripts=("cytoscape.min.js",), data=elements
        )

    # ---- answers

    def answer_pages(self, queries, results) -> None:
        from kg.format import render_csv
        from kg.serve import editor_link, editor_text

        endpoint = self.editor.rstrip("/") + "/query"
        items = []
        for q in queries:
            result = results[q.name]
            if isinstance(result, str):  # an error message
                items.append(
                    f"<li><b>{esc(q.name)}</b> — {esc(q.question)} <em>{esc(result)}</em></li>"
                )
                self.page(
                    f"q/{q.name}.html",
                    (q.name, q.name),
                    f"<p>{esc(q.question)}</p><p class='error'>{esc(result)}</p>",
                )
                continue
            rows = result.rows
            items.append(
                f"<li><a href='q/{esc(q.name)}.html'>{esc(q.name)}</a> — {esc(q.question)} "
                f"<span class='quiet'>({len(rows)} {ui('rows')})</span></li>"
            )
            self.files[f"q/{q.name}.csv"] = render_csv(result).encode("utf-8")
            heads = "".join(
                f'<th scope="col" aria-sort="none">'
                f'<button type="button">{self.column(c)}</button></th>'
                for c in result.columns
            )
            chunks = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [
                []
            ]
            link = editor_link(self.editor, endpoint, editor_text(q))
            for n, chunk in enumerate(chunks):
                body_rows = "".join(
                    "<tr>" + "".join(f"<td>{self.cell(c)}</td>" for c in row) + "</tr>"
                    for row in chunk
                )
                pages = ""
                if len(chunks) > 1:
                    pages = (
                        "<p>"
                        + " ".join(
                            (
                                f"<b>{k + 1}</b>"
                                if k == n
                                else f"<a href='{self._qpage(q.name, k)}'>{k + 1}</a>"
                            )
                            for k in range(len(chunks))
                        )
                        + f" ({ROWS_PER_PAGE} {ui('rows')} {bi('a page', '每页')})</p>"
                    )
                body = (
                    f"<p class='question'>{esc(q.question)}</p>\n"
                    f"<p>{len(rows)} {ui('rows')} · "
                    f"<a href='{esc(q.name)}.csv' download>{ui('download')}</a>"
                    f" · <a href='{esc(link)}'>{ui('editor')}</a> <span class='quiet'>"
                    f"({bi('needs kg serve', '需运行 kg serve')})</span></p>{pages}\n"
                    "<div class='scroll'><table class='sortable answer'>"
                    f"<caption>{esc(q.name)}</caption>"
                    f"<thead><tr>{heads}</tr></thead><tbody>{body_rows}</tbody></table></div>\n"
                    f"<details><summary>{ui('sparql')}</summary><pre>{esc(editor_text(q))}</pre></details>"
                )
                self.page("q/" + self._qpage(q.name, n), (q.name, q.name), body)
        self.page("answers.html", UI["answers"], f"<ol class='questions'>{''.join(items)}</ol>")

    @staticmethod
    def _qpage(name: str, n: int) -> str:
        return f"{name}.html" if n == 0 else f"{name}-{n + 1}.html"

    def column(self, name: str) -> str:
        folder = self.project.queries_dir
        return bi(column_label(folder, name, "en"), column_label(folder, name, "zh"))

    def cell(self, c) -> str:
        if not c.bound:
            return ""
        if c.iri:
            return self.link(c.iri, 1)
        if c.shown:
            return bi(duration_text(c.text, "en"), duration_text(c.text, "zh"))
        return esc(c.text)

    # ---- entity pages

    def entity_page(self, iri: str, annotations: list[tuple[Article, Annotation]]) -> None:
        g = self.g
        kinds = " · ".join(self.link(k, 1) for k in self.kind(iri))
        labels = g.labels.get(iri, {})
        head = (
            f'<p class="kinds">{ui("kind")}: {kinds}</p>\n<dl class="labels">'
            f"<dt>{ui('labels_en')}</dt><dd lang='en'>{esc(labels.get('en', ''))}</dd>"
            f"<dt>{ui('labels_zh')}</dt><dd lang='zh'>{esc(labels.get('zh', ''))}</dd>"
            f"<dt>{ui('iri')}</dt><dd><input class='iri' readonly value='{esc(iri)}' "
            f"aria-label='IRI'></dd></dl>"
        )
        asserted: dict[str, list[Term]] = defaultdict(list)
        inferred: dict[str, list[Term]] = defaultdict(list)
        for p, o, inf in g.out.get(iri, ()):
            if p in (_LABEL, ns.KG + "hasEvidence", ns.KG + "quote", ns.KG + "firstQuoteStart"):
                continue
            if inf:
                if o.is_iri and o.value.startswith(ns.W3C_NAMESPACES):
                    continue
                if o not in asserted.get(p, ()):
                    inferred[p].append(o)
            else:
                asserted[p].append(o)
        rows = []
        for p in sorted(asserted, key=lambda p: (p != _RDF_TYPE, g.label(p, "en"))):
            vals = self.values_html(asserted[p], 1)
            rows.append(f"<tr><th scope='row'>{self.link(p, 1)}</th><td>{vals}</td></tr>")
        body = head + f"<h2>{ui('properties')}</h2><table class='props'>{''.join(rows)}</table>"
        wikidata = [o for o in asserted.get(ns.KG + "wikidataItem", [])]
        if wikidata:
            body += (
                "<p>"
                + ui("wikidata")
                + ": "
                + " ".join(
                    f"<a href='{esc(o.value)}' rel='noopener'>{esc(ns.local_name(o.value))}</a>"
                    for o in wikidata
                )
                + "</p>"
            )
        if annotations:
            quotes = []
            for art, ann in annotations:
                t = art.text
                before, quote, after = (
                    t[max(0, ann.start - 40) : ann.start],
                    t[ann.start : ann.end],
                    t[ann.end : ann.end + 40],
                )
                quotes.append(
                    f"<li><blockquote lang='zh'>…{esc(before)}<mark>{esc(quote)}</mark>"
                    f"{esc(after)}…</blockquote>"
                    f"<a href='../a/{art.id}.html#ev-{ann.start}-{ann.end}'>{self.name(art.iri)}, "
                    f"{ann.start}–{ann.end}</a></li>"
                )
            body += f"<h2>{ui('evidence')}</h2><ol class='quotes'>{''.join(quotes)}</ol>"
        if inferred:
            rows = []
            for p in sorted(inferred, key=lambda p: g.label(p, "en")):
                vals = self.values_html(inferred[p], 1)
                rows.append(
                    f"<tr class='inferred'><th scope='row'>{self.link(p, 1)}</th>"
                    f"<td>{vals}</td></tr>"
                )
            body += f"<h2>{ui('inferred')}</h2><table class='props'>{''.join(rows)}</table>"
        incoming = [(s, p) for s, p in g.incoming.get(iri, ()) if s in self.entity_path]
        if incoming:
            shown = incoming[:INCOMING_SHOWN]
            lis = "".join(
                f"<li>{self.link(s, 1)} <span class='quiet'>{self.name(p)}</span></li>"
                for s, p in shown
            )
            more = ""
            if len(incoming) > len(shown):
                more = f"<p class='quiet'>{len(incoming) - len(shown)} {ui('more')}</p>"
            body += f"<h2>{ui('incoming')} ({len(incoming)})</h2><ul>{lis}</ul>{more}"
        self.page(self.entity_path[iri], (g.label(iri, "en"), g.label(iri, "zh")), body)

    # ---- ontology

    def ontology_page(self) -> None:
        g = self.g
        onto = ns.GRAPH_ONTOLOGY
        terms = sorted(i for i in g.out if i.startswith(ns.KG) and onto in g.graphs.get(i, ()))
        classes = [t for t in terms if _OWL_CLASS in g.types.get(t, ())]
        props = [
            t
            for t in terms
            if g.types.get(t, set()) & {ns.OWL + "ObjectProperty", ns.OWL + "DatatypeProperty"}
        ]
        values = [t for t in terms if t not in classes and t not in props]
        shapes_for = self._shapes_by_class()
        instances = Counter(c for classes in g.types.values() for c in classes)

        def definition(t):
            d = g.first(t, _SKOS_DEF) or g.first(t, _COMMENT)
            defs = [o for o in g.values(t, _SKOS_DEF) + g.values(t, _COMMENT)]
            en = next((o.value for o in defs if o.lang in ("en", "")), "")
            zh = next((o.value for o in defs if o.lang == "zh"), "")
            return bi(en, zh or en) if d else ""

        def refs(t, p):
            return " ".join(
                f"<a href='{esc(self.href(o.value, 0))}'>{esc(ns.shorten(o.value))}</a>"
                if self.href(o.value, 0)
                else f"<code title='{esc(o.value)}'>{esc(ns.shorten(o.value))}</code>"
                for o in g.values(t, p)
            )

        blocks = []
        for c in classes:
            supers = refs(c, _SUBCLASS)
            equiv = refs(c, ns.OWL + "equivalentClass")
            applying = []
            for sup in sorted(g.superclasses.get(c, {c})):
                for shape_html in shapes_for.get(sup, []):
                    via = (
                        ""
                        if sup == c
                        else f" <span class='quiet'>({bi('via', '继承自')} "
                        f"{esc(ns.shorten(sup))})</span>"
                    )
                    applying.append(f"<li>{shape_html}{via}</li>")
            n = instances[c]
            blocks.append(
                self.term_head(c)
                + f"<p>{definition(c)}</p><dl>"
                + (f"<dt>{bi('subclass of', '父类')}</dt><dd>{supers}</dd>" if supers else "")
                + (f"<dt>{bi('equivalent to', '等价于')}</dt><dd>{equiv}</dd>" if equiv else "")
                + f"<dt>{bi('instances', '实例数')}</dt><dd>{n}</dd></dl>"
                + (
                    f"<details><summary>{ui('shapes')} ({len(applying)})</summary>"
                    f"<ul>{''.join(applying)}</ul></details>"
                    if applying
                    else ""
                )
                + "</section>"
            )
        pblocks = []
        for p in props:
            extra = "".join(
                f"<dt>{bi(en, zh)}</dt><dd>{refs(p, pred)}</dd>"
                for pred, en, zh in (
                    (ns.RDFS + "domain", "domain", "定义域"),
                    (ns.RDFS + "range", "range", "值域"),
                    (ns.RDFS + "subPropertyOf", "subproperty of", "父属性"),
                    (ns.OWL + "equivalentProperty", "equivalent to", "等价于"),
                    (ns.OWL + "inverseOf", "inverse of", "逆属性"),
                )
                if g.values(p, pred)
            )
            pblocks.append(self.term_head(p) + f"<p>{definition(p)}</p><dl>{extra}</dl></section>")
        vblocks = []
        for v in values:
            types = refs(v, _RDF_TYPE)
            vblocks.append(
                self.term_head(v) + f"<p>{definition(v)}</p><p class='quiet'>{types}</p></section>"
            )
        schemes = sorted(i for i in self.entity_path if i.startswith((ns.KGI, ns.KGT)))
        concept_list = "".join(f"<li>{self.link(i, 0)}</li>" for i in schemes)
        toc = " · ".join(
            f"<a href='#{k}'>{ui(k)}</a>" for k in ("classes", "props", "values", "concepts")
        )
        note = bi(
            "Generated by kg from the ontology graph of the build and the project's SHACL shapes "
            "(ontology/shapes*.ttl): each class lists the shapes that target it or a superclass.",
            "由 kg 根据构建中的本体图和项目的 SHACL 约束(ontology/shapes*.ttl)生成:"
            "每个类列出针对它或其父类的约束。",
        )
        body = (
            f"<p class='quiet'>{note}</p><p>{toc}</p>"
            f"<h2 id='classes'>{ui('classes')} ({len(classes)})</h2>{''.join(blocks)}"
            f"<h2 id='props'>{ui('props')} ({len(props)})</h2>{''.join(pblocks)}"
            f"<h2 id='values'>{ui('values')} ({len(values)})</h2>{''.join(vblocks)}"
            f"<h2 id='concepts'>{ui('concepts')} ({len(schemes)})</h2>"
            f"<ul class='cols'>{concept_list}</ul>"
        )
        self.page("ontology.html", UI["ontology"], body)

    def _shapes_by_class(self) -> dict[str, list[str]]:
        sh = ns.SH
        s = self.shapes
        out: dict[str, list[tuple[str, str]]] = defaultdict(list)

        def objects(node, pred):
            return [q.object for q in s.quads_for_pattern(node, NamedNode(sh + pred), None, None)]

        def short(term):
            if isinstance(term, NamedNode):
                return ns.shorten(term.value)
            if isinstance(term, Literal):
                return term.value
            return "[…]"

        for q in s.quads_for_pattern(None, NamedNode(sh + "targetClass"), None, None):
            shape, cls = q.subject, q.object.value
            msgs = [o.value for o in objects(shape, "message") if isinstance(o, Literal)]
            lines = []
            for prop in objects(shape, "property"):
                path = objects(prop, "path")
                bits = []
                for key in (
                    "minCount",
                    "maxCount",
                    "class",
                    "datatype",
                    "in",
                    "hasValue",
                    "pattern",
                ):
                    for o in objects(prop, key):
                        bits.append(f"{key} {short(o)}")
                pmsg = [o.value for o in objects(prop, "message") if isinstance(o, Literal)]
                lines.append(
                    f"<li><code>{esc(' / '.join(short(x) for x in path))}</code> "
                    f"<span class='quiet'>{esc('; '.join(bits))}</span> {esc(' '.join(pmsg))}</li>"
                )
            lines.sort()
            if objects(shape, "sparql"):
                lines.append(f"<li>{bi('a SPARQL constraint', 'SPARQL 约束')}</li>")
            name = short(shape)
            out[cls].append(
                (name, f"<code>{esc(name)}</code> {esc(' '.join(msgs))}<ul>{''.join(lines)}</ul>")
            )
        return {c: [h for _, h in sorted(v)] for c, v in out.items()}

    # ---- everything

    def static_files(self) -> None:
        folder = resources.files("kg") / "static"
        for name in STATIC_FILES:
            self.files[f"static/{name}"] = (folder / name).read_bytes()


# --------------------------------------------------------------------------- writing


def _conflict_pairs(results) -> list[tuple[str, str]]:
    result = results.get("conflicts")
    if result is None or isinstance(result, str):
        return []
    cols = result.columns
    if "demand" not in cols or "stance" not in cols:
        return []
    d, s = cols.index("demand"), cols.index("stance")
    return sorted({(r[d].iri, r[s].iri) for r in result.rows if r[d].iri and r[s].iri})


def generate(
    project: Project, *, editor: str = DEFAULT_EDITOR, notify: Callable[[str], None] | None = None
) -> dict[str, bytes]:
    """Every file of the report, by path inside the folder."""
    from kg.build import ensure_built
    from kg.errors import KgQueryError
    from kg.query import execute, list_queries, open_store

    built = ensure_built(project, notify=notify)
    store = open_store(built.dataset)
    graph = Graph(store)
    articles = _articles(graph, project)
    site = Site(project, graph, articles, _read_shapes(project), editor)
    queries = list_queries(project)
    results: dict = {}
    for q in queries:
        params = {}
        for p in q.params:
            m = re.search(r"e\.g\.\s*([^\s)]+)", p.description)
            if m:
                params[p.name] = m.group(1)
        try:
            results[q.name] = execute(store, q, params, lang="en")
        except KgQueryError as e:
            results[q.name] = str(e)
    site.static_files()
    site.index_pages(queries)
    site.answer_pages(queries, results)
    site.ontology_page()
    conflicts = _conflict_pairs(results)
    by_body: dict[str, list[tuple[Article, Annotation]]] = defaultdict(list)
    for a in articles:
        site.article_page(a)
        site.timeline_page(a)
        site.network_page(a, conflicts)
        for ann in a.annotations:
            for b in ann.bodies:
                by_body[b].append((a, ann))
    for iri in sorted(site.entity_path):
        site.entity_page(iri, by_body.get(iri, []))
    site.files[MARKER] = b"A static report written by `kg report`; kg replaces this folder whole.\n"
    return site.files


def write_report(
    project: Project,
    folder: Path | None = None,
    *,
    editor: str = DEFAULT_EDITOR,
    notify: Callable[[str], None] | None = None,
) -> ReportSummary:
    """Generate the report and put it in `folder` (default build/report/) in one rename."""
    started = time.perf_counter()
    folder = Path(folder) if folder is not None else project.build_dir / "report"
    folder = folder.absolute()
    if folder.exists() and not folder.is_dir():
        raise KgReportError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise KgReportError(
            f"{folder}: a folder that is not a kg report is in the way; "
            "give another -o or remove it"
        )
    if not folder.parent.is_dir():
        raise KgReportError(f"{folder.parent}: no such folder")
    files = generate(project, editor=editor, notify=notify)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        made: set[Path] = set()
        for rel in sorted(files):
            path = tmp / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(files[rel])
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not folder.exists():
            old.rename(folder)
        raise KgReportError(f"{folder}: cannot write the report: {e.strerror or e}") from None
    shutil.rmtree(old, ignore_errors=True)
    pages = [(k, len(v)) for k, v in files.items() if k.endswith(".html")]
    largest = max(pages, key=lambda x: (x[1], x[0])) if pages else ("", 0)
    return ReportSummary(
        folder=folder,
        pages=len(pages),
        bytes=sum(len(v) for v in files.values()),
        largest=largest,
        seconds=time.perf_counter() - started,
        articles=sum(1 for k in files if k.startswith("a/")),
        entities=sum(1 for k in files if k.startswith("e/")),
        queries=sum(1 for k in files if k.startswith("q/") and k.endswith(".csv")),
    )


def iter_pages(files: Iterable[str]) -> list[str]:
    return sorted(f for f in files if f.endswith(".html"))
