"""`kg report`: a static site generated from the build, checked as files and in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kg import namespaces as ns
from kg.build import build
from kg.query import execute, find_query, list_queries, open_store
from kg.site import MARKER, generate, write_report

TALKS = ns.KGR + "talks-2026-02-06"
MAX_PAGE = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def report(built, tmp_path_factory) -> Path:
    return write_report(built.project, tmp_path_factory.mktemp("site") / "report").folder


def _local_links(page: Path, root: Path) -> list[Path]:
    text = page.read_text(encoding="utf-8")
    out = []
    for href in re.findall(r'(?:href|src)=["\']([^"\']+)["\']', text):
        if href.startswith(("#", "http://", "https://")):
            continue
        path = unquote(urlsplit(href).path)
        if path:
            out.append((page.parent / path).resolve())
    return out


def test_every_page_is_generated_linked_and_small(report, built):
    store = open_store(built.dataset)
    files = sorted(p for p in report.rglob("*") if p.is_file())
    pages = [p for p in files if p.suffix == ".html"]
    assert (report / MARKER).is_file()
    # one page per stored question (whatever queries/ holds), with its CSV
    for q in list_queries(built.project):
        assert (report / "q" / f"{q.name}.html").is_file(), q.name
        assert (report / "q" / f"{q.name}.csv").is_file(), q.name
    # an entity page per labelled node of the data, the talks among them
    talks = (report / "e" / "talks-2026-02-06.html").read_text(encoding="utf-8")
    assert "美伊阿曼谈判(2月6日)" in talks and "US–Iran talks in Oman, 6 February" in talks
    assert "2月6日中午谈判正式重启" in talks  # its evidence, in context
    # no link points at a missing file; no script or style comes from elsewhere
    missing = {str(t) for p in pages for t in _local_links(p, report) if not t.exists()}
    assert not missing, sorted(missing)[:5]
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="https?:', text), p
        assert p.stat().st_size < MAX_PAGE, p
    rows = execute(store, find_query(built.project, "participants")).rows
    table = (report / "q" / "participants.html").read_text(encoding="utf-8")
    assert table.count("<tr>") == len(rows) + 1
    assert 'href="../e/araghchi.html"' in table


def test_same_build_same_bytes(built):
    assert generate(built.project) == generate(built.project)


def test_refuses_a_folder_that_is_not_a_report_and_replaces_its_own(built_copy, run_kg, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    r = run_kg("report", "-o", str(mine), "--project", str(built_copy.root))
    assert r.returncode == 2 and "not a kg report" in r.stderr
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    r = run_kg("report", "--project", str(built_copy.root))
    assert r.returncode == 0, r.stderr
    out = built_copy.build_dir / "report"
    (out / "stale.html").write_text("old", encoding="utf-8")
    r = run_kg("report", "--project", str(built_copy.root))
    assert r.returncode == 0, r.stderr
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".report")]


def test_a_second_article_gets_its_pages_with_no_code_change(built_copy, tmp_path):
    from test_second_article import ARTICLE_ID, _add_article, _shared_actor

    _add_article(built_copy, _shared_actor(built_copy))
    build(built_copy)
    folder = write_report(built_copy, tmp_path / "r").folder
    page = (folder / "a" / f"{ARTICLE_ID}.html").read_text(encoding="utf-8")
    assert page.count("<mark ") == 2 and 'class="furniture"' in page
    assert (folder / "e" / "talks-2026-02-13-test.html").is_file()
    assert "talks-2026-02-13-test" in (folder / "t" / f"{ARTICLE_ID}.html").read_text("utf-8")


def test_in_chromium_from_disk_with_the_network_off(report, built, tmp_path, chromium):
    from browser import FLAGS  # tests/browser.py: the chromium fixture finds it, or skips
    from playwright import sync_api  # in the test extra

    store = open_store(built.dataset)
    article_id = "000_5411ffdd50fd7b8e"
    participants = execute(store, find_query(built.project, "participants")).rows
    expected_sides = {
        (row[1].text, row[2].text) for row in participants if row[0].iri == TALKS and row[2].text
    }
    assert expected_sides
    left, errors = [], []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(chromium),
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 850},
        )
        try:

            def route(r):
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    left.append(r.request.url)
                    r.abort()

            browser.route("**/*", route)
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            base = report.as_uri()

            # the article: a highlight shows its facts, by mouse and by keyboard
            page.goto(f"{base}/a/{article_id}.html")
            data = json.loads(
                page.inner_text("#data") or page.eval_on_selector("#data", "e => e.textContent")
            )
            talks = next(
                i for i, f in enumerate(data["facts"]) if f["href"] == "e/talks-2026-02-06.html"
            )
            mark = next(k for k, a in enumerate(data["ann"]) if a[2] == [talks])
            selector = f'mark[data-a="{mark}"]'
            page.click(selector)
            pop = page.locator("#pop")
            assert pop.is_visible()
            assert "US–Iran talks in Oman, 6 February" in pop.inner_text()
            assert "happened" in pop.inner_text()
            page.screenshot(path=str(tmp_path / "article.png"))
            page.keyboard.press("Escape")
            assert not pop.is_visible()
            assert (
                page.locator("#text mark").count()
                == page.locator('#text mark[tabindex="0"]').count()
            )
            page.focus("#text mark >> nth=0")
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            assert pop.is_visible()
            page.keyboard.press("Escape")
            # a fact selected elsewhere scrolls to its sentence and marks it
            s, e = data["ann"][mark][:2]
            page.goto(f"{base}/a/{article_id}.html#ev-{s}-{e}")
            target = page.locator("mark.target").first
            assert target.is_visible() and target.get_attribute("data-a") == str(mark)
            page.click(selector)
            with page.expect_navigation():
                page.click("#pop a.fact >> nth=0")
            assert page.url.endswith("/e/talks-2026-02-06.html")

            # the timeline: an item opens its entity page
            page.goto(f"{base}/t/{article_id}.html")
            assert page.locator("li.event:not(.st-happened) .status").count() >= 1
            page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)
            item = page.locator("a.item", has_text="US–Iran talks in Oman, 6 February")
            with page.expect_navigation():
                item.click()
            assert page.url.endswith("/e/talks-2026-02-06.html")
            assert "US–Iran talks in Oman" in page.inner_text("h1")

            # the network: the talks' participants with their sides, then in Chinese
            page.goto(f"{base}/n/{article_id}.html")
            page.wait_for_function("() => window.kgCy && window.kgCy.nodes().length > 0")
            labels = page.evaluate("() => kgCy.nodes().map(n => n.data('label'))")
            for who, side in expected_sides:
                assert any(lab.startswith(who) and side in lab for lab in labels), (who, side)
            listed = page.inner_text("#nodes")
            assert all(who in listed for who, _ in expected_sides)
            page.screenshot(path=str(tmp_path / "network.png"))
            page.click("#lang")
            assert page.inner_text("h1") == "关系网络"
            labels_zh = page.evaluate("() => kgCy.nodes().map(n => n.data('label'))")
            assert any(lab.startswith("阿拉格齐") and "伊朗" in lab for lab in labels_zh)
            page.screenshot(path=str(tmp_path / "network-zh.png"))
            page.goto(f"{base}/q/participants.html")  # the choice is remembered
            assert "参与方" in page.inner_text("thead")
            assert "阿拉格齐" in page.inner_text("tbody")
            page.click("#lang")
            assert "Araghchi" in page.inner_text("tbody")
            page.click("thead th >> nth=1 >> button")
            assert page.get_attribute("thead th >> nth=1", "aria-sort") == "ascending"
            page.screenshot(path=str(tmp_path / "answer.png"))
            page.goto(f"{base}/ontology.html#Talks")
            page.click("#Talks summary")
            assert "kgsh:Talks" in page.inner_text("#Talks")

            # a phone's width: no sideways scrolling
            page.set_viewport_size({"width": 390, "height": 800})
            for path in (f"a/{article_id}.html", f"t/{article_id}.html", "e/talks-2026-02-06.html"):
                page.goto(f"{base}/{path}")
                width = page.evaluate("() => document.documentElement.scrollWidth")
                assert width <= 392, (path, width)
            page.screenshot(path=str(tmp_path / "phone.png"))
        finally:
            browser.close()
    assert not errors, errors
    assert not left, left
    for name in ("article", "timeline", "network", "answer", "phone"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_kg_serve_serves_the_report_at_the_root_beside_the_editor(built, tmp_path):
    from servers import copy_built, http
    from test_serve import start_serve

    server = start_serve(copy_built(built.project.root, tmp_path / "project"))
    try:
        root = server.pages.rsplit("/", 1)[0]
        assert f"report:            {root}/" in "\n".join(server.lines)
        status, body = http("GET", f"{root}/")
        assert status == 200 and b"answers.html" in body
        status, body = http("GET", f"{root}/q/participants.html")
        editor = f"{server.base}/#query="
        assert status == 200 and editor.encode() in body.replace(b"&amp;", b"&")
        status, body = http("GET", f"{root}/static/cytoscape.min.js")
        assert status == 200 and len(body) > 100_000
        assert http("GET", f"{root}/queries.html")[0] == 200
        for bad in ("/../../manifest.json", "/%2e%2e/manifest.json", "/nothing.html"):
            assert http("GET", root + bad)[0] == 404, bad
    finally:
        server.stop()
