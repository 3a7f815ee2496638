/* kg report: language switch, sortable tables, evidence highlights, network. No network use. */
(function () {
  "use strict";
  var root = document.documentElement;
  var data = null;
  var holder = document.getElementById("data");
  if (holder) data = JSON.parse(holder.textContent);
  function lang() { return root.classList.contains("zh") ? "zh" : "en"; }
  function both(pair) { return lang() === "zh" ? pair[1] : pair[0]; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }
  var listeners = [];
  var button = document.getElementById("lang");
  if (button) button.addEventListener("click", function () {
    root.classList.toggle("zh");
    root.setAttribute("lang", lang() === "zh" ? "zh" : "en");
    try { localStorage.setItem("kg-lang", lang()); } catch (e) { /* storage off: this page only */ }
    listeners.forEach(function (f) { f(); });
  });
  root.setAttribute("lang", lang() === "zh" ? "zh" : "en");

  /* sortable tables: a button in each header cell */
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, col) {
      var b = th.querySelector("button");
      if (!b) { b = el("button", {type: "button"}); while (th.firstChild) b.appendChild(th.firstChild); th.appendChild(b); }
      b.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        function key(r) { var c = r.cells[col]; return c ? c.innerText.trim() : ""; }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
          var r = (!isNaN(nx) && !isNaN(ny) && String(nx) === x && String(ny) === y) ? nx - ny : x.localeCompare(y);
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  /* the article: hover, focus or tap a highlight to see the facts it grounds */
  var text = document.getElementById("text");
  var pop = document.getElementById("pop");
  if (text && data && pop) {
    var pinned = null;
    var show = function (mark, pin) {
      pop.textContent = "";
      var ids = mark.getAttribute("data-a").split(" ").map(Number);
      var seen = {};
      var list = el("ul");
      ids.forEach(function (k) {
        data.ann[k][2].forEach(function (f) {
          if (seen[f]) return; seen[f] = 1;
          var fact = data.facts[f];
          var li = el("li");
          var a = el("a", {href: "../" + fact.href, "class": "fact"}, both(fact.label));
          li.appendChild(a);
          li.appendChild(el("span", {"class": "quiet"}, " " + both(fact.kind)));
          if (fact.status) li.appendChild(el("span", {"class": "status"}, both(fact.status)));
          list.appendChild(li);
        });
      });
      var span = data.ann[ids[0]];
      pop.appendChild(el("p", {"class": "quiet"}, (lang() === "zh" ? "字符 " : "characters ") + span[0] + "–" + span[1]));
      pop.appendChild(list);
      var r = mark.getBoundingClientRect();
      pop.style.top = (window.scrollY + r.bottom + 6) + "px";
      pop.style.left = Math.max(4, Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - 330)) + "px";
      pop.hidden = false;
      if (pin) pinned = mark;
    };
    var hide = function () { pop.hidden = true; pinned = null; };
    Array.prototype.forEach.call(text.querySelectorAll("mark"), function (m) {
      m.addEventListener("mouseenter", function () { if (!pinned) show(m, false); });
      m.addEventListener("focus", function () { show(m, false); });
      m.addEventListener("click", function (e) { e.stopPropagation(); show(m, true); });
      m.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); show(m, true); var a = pop.querySelector("a"); if (a) a.focus(); }
        if (e.key === "Escape") hide();
      });
    });
    text.addEventListener("mouseleave", function () { if (!pinned) hide(); });
    document.addEventListener("click", function (e) { if (!pop.contains(e.target)) hide(); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
    var target = function (indices) {
      Array.prototype.forEach.call(text.querySelectorAll("mark.target"), function (m) { m.classList.remove("target"); });
      var first = null;
      Array.prototype.forEach.call(text.querySelectorAll("mark"), function (m) {
        var ids = m.getAttribute("data-a").split(" ").map(Number);
        if (ids.some(function (k) { return indices.indexOf(k) >= 0; })) { m.classList.add("target"); if (!first) first = m; }
      });
      if (first) { first.scrollIntoView({block: "center"}); first.focus({preventScroll: true}); }
    };
    var fromHash = function () {
      var m = /^#ev-(\d+)-(\d+)$/.exec(location.hash);
      if (!m) return;
      var s = +m[1], e = +m[2], found = [];
      data.ann.forEach(function (a, k) { if (a[0] === s && a[1] === e) found.push(k); });
      target(found);
    };
    window.addEventListener("hashchange", fromHash);
    fromHash();
    Array.prototype.forEach.call(document.querySelectorAll("#facts a[data-fact]"), function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        var f = +a.getAttribute("data-fact"), found = [];
        data.ann.forEach(function (x, k) { if (x[2].indexOf(f) >= 0) found.push(k); });
        target(found);
      });
    });
  }

  /* the network */
  var box = document.getElementById("cy");
  if (box && data && window.cytoscape) {
    var shapes = {Actor: "ellipse", Event: "round-rectangle", Demand: "triangle", Position: "diamond",
      ConditionalOffer: "star", Condition: "hexagon", Issue: "tag"};
    var colours = {Actor: "#4c78a8", Event: "#9d755d", Demand: "#e45756", Position: "#54a24b",
      ConditionalOffer: "#b279a2", Condition: "#eeca3b", Issue: "#72b7b2"};
    var nodeLabel = function (n) {
      var side = lang() === "zh" ? n.side_zh : n.side_en;
      return (lang() === "zh" ? n.zh : n.en) + (side ? " [" + side + "]" : "");
    };
    var elements = [];
    var n = data.nodes.length;
    data.nodes.forEach(function (node, i) {
      elements.push({group: "nodes", data: {id: node.id, kind: node.kind, label: nodeLabel(node), side: node.side_en},
        position: {x: 400 * Math.cos(2 * Math.PI * i / n), y: 400 * Math.sin(2 * Math.PI * i / n)}});
    });
    data.edges.forEach(function (e, i) {
      elements.push({group: "edges", data: {id: "e" + i, source: e.source, target: e.target, rel: e.rel, label: lang() === "zh" ? e.zh : e.en}});
    });
    var cy = window.cytoscape({
      container: box, elements: elements, wheelSensitivity: 0.3,
      layout: {name: "cose", animate: false, randomize: false, nodeRepulsion: function () { return 400000; }, idealEdgeLength: function () { return 110; }, numIter: 1500},
      style: [
        {selector: "node", style: {label: "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 120,
          "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18, "border-width": 1, "border-color": "#333"}},
        {selector: "edge", style: {width: 1, "line-color": "#aaa", "target-arrow-shape": "triangle", "target-arrow-color": "#aaa",
          "curve-style": "bezier", "font-size": 7, color: "#555"}},
        {selector: "edge[rel = 'participation']", style: {"line-color": "#4c78a8", "target-arrow-color": "#4c78a8", label: "data(label)"}},
        {selector: "edge[rel = 'conflicts']", style: {"line-color": "#d62728", "target-arrow-color": "#d62728", "line-style": "dashed", width: 2.5, label: "data(label)"}},
        {selector: ".faded", style: {opacity: 0.12}},
        {selector: "edge.show", style: {label: "data(label)", "font-size": 8}},
        {selector: "node.focus", style: {"border-width": 3}}
      ].concat(Object.keys(shapes).map(function (k) {
        return {selector: "node[kind = '" + k + "']", style: {shape: shapes[k], "background-color": colours[k]}};
      }))
    });
    window.kgCy = cy;
    cy.on("tap", "node", function (e) {
      var hood = e.target.closedNeighborhood();
      cy.elements().addClass("faded").removeClass("show"); hood.removeClass("faded");
      hood.edges().addClass("show");
      cy.nodes().removeClass("focus"); e.target.addClass("focus");
    });
    cy.on("tap", function (e) { if (e.target === cy) cy.elements().removeClass("faded show"); });
    cy.on("dbltap", "node", function (e) { location.href = "../" + e.target.id(); });
    listeners.push(function () {
      data.nodes.forEach(function (node) { cy.getElementById(node.id).data("label", nodeLabel(node)); });
      data.edges.forEach(function (e, i) { cy.getElementById("e" + i).data("label", lang() === "zh" ? e.zh : e.en); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("input[name=kind]"), function (box) {
      box.addEventListener("change", function () {
        var k = box.value;
        cy.nodes("[kind = '" + k + "']").style("display", box.checked ? "element" : "none");
        Array.prototype.forEach.call(document.querySelectorAll("#nodes > li[data-kind='" + k + "']"), function (li) { li.hidden = !box.checked; });
      });
    });
  }
})();
