"""The fast engines give the reference stack's results, not just faster.

- Inference: kg's split closure (schema closed by reasonable, instances by the OWL RL rules in
  kg.reason) equals `reasonable` on the whole graph, and its ABox equals owlrl's.
- Validation: kg.shacl's results equal pySHACL's, result for result (severity, focus, path,
  message, value, shape, component), on conforming data and on data that fails every shape
  (the failing cases of tests/test_shapes.py, all in one graph).
- Queries: every stored query gives the same rows on pyoxigraph as on rdflib's SPARQL engine.

All on a small synthetic corpus (benchmarks/synth.py, a few thousand triples) and on the
shipped project. benchmarks/run.py makes the same checks at 10k triples.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, Triple, parse

from kg import namespaces as ns
from kg import reason, shacl, validate
from kg.anchor import expand_evidence
from kg.build import build
from kg.load import load_project
from kg.project import locate

ROOT = Path(__file__).resolve().parent.parent
SYNTH_ARTICLES = 2  # about 5,000 triples once built


@pytest.fixture(scope="module")
def synth_root(synth, tmp_path_factory) -> Path:
    return synth.generate(tmp_path_factory.mktemp("synth") / "corpus", SYNTH_ARTICLES, seed=7)


@pytest.fixture(scope="module", params=["shipped", "synthetic"])
def project_graphs(request, synth_root, tmp_path_factory, copy_project):
    """(asserted triples with the ontology, shapes triples) of a project, as the build has them."""
    if request.param == "shipped":
        root = copy_project(ROOT, tmp_path_factory.mktemp("shipped"))
    else:
        root = synth_root
    project = locate(root)
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    asserted = reason.asserted_triples([*loaded.quads(), *(q for a in anchored for q in a.quads)])
    shapes = [q.triple for lf in loaded.shapes for q in lf.quads]
    return asserted, shapes


def test_a_kept_corpus_gets_todays_queries_and_ontology(synth, tmp_path):
    """The benchmark reuses corpora between runs: their copies of queries/ and ontology/ must
    be today's (a kept corpus once timed a stored query as it was before its rewrite)."""
    root = tmp_path / "corpus"
    assert synth.prepare(root, 1, seed=3, repo=ROOT) is True
    articles = sorted((root / "data" / "articles").iterdir())
    (root / "queries" / "us-demands.rq").write_text("# an old version\n", encoding="utf-8")
    (root / "queries" / "gone.rq").write_text("# a query removed since\n", encoding="utf-8")
    assert synth.prepare(root, 1, seed=3, repo=ROOT) is False
    assert sorted((root / "data" / "articles").iterdir()) == articles
    for part in ("queries", "ontology"):
        shipped = {p.name: p.read_bytes() for p in (ROOT / part).iterdir() if p.is_file()}
        kept = {p.name: p.read_bytes() for p in (root / part).iterdir() if p.is_file()}
        assert kept == shipped, part


def test_synthetic_corpus_builds_and_conforms_without_any_result(synth_root):
    result = build(locate(synth_root))
    assert result.conforms
    assert result.report.results == []
    assert sum(result.manifest["graphs"].values()) > 3000
    assert result.manifest["evidence"] > 100


def test_synthetic_corpus_is_deterministic(synth, tmp_path):
    a = synth.generate(tmp_path / "a", 2, seed=3)
    b = synth.generate(tmp_path / "b", 2, seed=3)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


# ------------------------------------------------------------------------------------------
# Inference


def test_split_closure_applies_and_equals_reasonable(project_graphs):
    asserted, _ = project_graphs
    reason._split_closure(asserted)  # raises if the fast path would not be taken
    fast = reason.infer(asserted, engine="kg")
    reference = reason.infer(asserted, engine="reasonable")
    assert fast, "nothing inferred"
    assert sorted(map(str, set(fast) ^ set(reference))) == []
    assert fast == reference  # same order too


def _abox(t: Triple) -> bool:
    s = t.subject
    if not isinstance(s, NamedNode) or s.value.startswith(ns.W3C_NAMESPACES):
        return False
    return t.predicate.value == ns.RDF + "type" or not t.predicate.value.startswith(
        ns.W3C_NAMESPACES
    )


def test_split_closure_abox_equals_owlrl(synth_root):
    """owlrl is the reference; on instances both agree (schema closure differs by design, see
    tests/test_inference.py)."""
    import owlrl
    from rdflib import Literal as RdflibLiteral

    from kg.rdfterms import TermMap

    project = locate(synth_root)
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    asserted = reason.asserted_triples([*loaded.quads(), *(q for a in anchored for q in a.quads)])
    terms = TermMap()
    graph = terms.graph(asserted)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    closed = {
        Triple(terms.to_oxigraph(s), terms.to_oxigraph(p), terms.to_oxigraph(o))
        for s, p, o in graph
        if not isinstance(s, RdflibLiteral)
    }
    reference = {t for t in closed - asserted if not reason.is_noise(t) and _abox(t)}
    fast = {t for t in reason.infer(asserted, engine="kg") if _abox(t)}
    assert fast
    assert sorted(map(str, fast ^ reference)) == []


def test_split_closure_falls_back_on_other_constructs():
    x, y = NamedNode(ns.KGR + "x"), NamedNode(ns.KGR + "y")
    label = NamedNode(ns.RDFS + "label")
    from pyoxigraph import Literal

    asserted = {
        Triple(x, label, Literal("plain")),
        Triple(x, NamedNode(ns.OWL + "sameAs"), y),
    }
    with pytest.raises(reason._NotSplittable):
        reason._split_closure(asserted)
    assert Triple(y, label, Literal("plain")) in reason.infer(asserted, engine="kg")


# ------------------------------------------------------------------------------------------
# Validation


def _both(asserted, shapes) -> tuple[set, set]:
    kw = {"defined_in": {}, "labels": {}, "shapes_files": ["ontology/shapes.ttl"]}
    fast = validate.validate(asserted, shapes, engine="kg", **kw)
    reference = validate.validate(asserted, shapes, engine="pyshacl", **kw)
    assert fast.conforms == reference.conforms
    return set(fast.results), set(reference.results)


def test_fast_shacl_is_used_and_equals_pyshacl_on_project_data(project_graphs):
    asserted, shapes = project_graphs
    shacl.validate(asserted, shapes)  # raises Unsupported if the build would fall back
    fast, reference = _both(asserted, shapes)
    assert sorted(map(str, fast ^ reference)) == []


def _failing_corpus():
    """The world of tests/test_shapes.py with every failing case in it (renumbered), and the
    shapes with each value shape aimed at the objects of ex:value."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_shapes as ts

    snippets, aimed = [], []
    n = 0
    for c in ts.CASES:
        for bad in c.bad:
            n += 1
            snippets.append(ts._numbered(bad, n))
        if c.value_shape:
            aimed.append(c.shape)
    text = ts.PREFIXES + ts.WORLD + "\n".join(snippets)
    data = set(parse(text.encode(), RdfFormat.TURTLE))
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        if not path.name.startswith("shapes"):
            data |= set(parse(path=str(path), format=RdfFormat.TURTLE))
    shapes = set(parse(path=str(ROOT / "ontology" / "shapes.ttl"), format=RdfFormat.TURTLE))
    target = NamedNode(ns.SH + "targetObjectsOf")
    shapes |= {Triple(NamedNode(ns.KGSH + s), target, NamedNode(ts.EX.value)) for s in aimed}
    return data, sorted(shapes, key=str), n


def test_fast_shacl_equals_pyshacl_on_every_failing_case():
    data, shapes, cases = _failing_corpus()
    assert cases > 150
    shacl.validate(data, shapes)
    fast, reference = _both(data, shapes)
    assert len(reference) > cases  # every case fails, some on several shapes
    only_fast = sorted(map(str, fast - reference))
    only_reference = sorted(map(str, reference - fast))
    assert (only_fast, only_reference) == ([], [])
    # Nearly every shape with a constraint produced a result: little was left unchecked.
    checks = re.compile(
        r"#(min|max|class|pattern|sparql|datatype|language|unique|has|less|qualified)"
    )
    constrained = {
        ns.shorten(t.subject.value)
        for t in shapes
        if isinstance(t.subject, NamedNode) and checks.search(t.predicate.value)
    }
    hit = {r.shape for r in fast}
    assert len(hit & constrained) > 0.9 * len(constrained), sorted(constrained - hit)


def test_unsupported_shapes_fall_back_to_pyshacl(project_graphs):
    asserted, shapes = project_graphs
    closed = [
        *shapes,
        Triple(NamedNode(ns.KGSH + "Labelled"), NamedNode(ns.SH + "closed"), _true()),
    ]
    with pytest.raises(shacl.Unsupported):
        shacl.validate(asserted, closed)


def _true():
    from pyoxigraph import Literal

    return Literal("true", datatype=NamedNode(ns.XSD + "boolean"))


# ------------------------------------------------------------------------------------------
# Queries


def _without_order_by(text: str) -> str:
    head, sep, tail = text.rpartition("ORDER BY")
    return head if sep and "}" not in tail else text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_stored_queries_answer_the_same_on_rdflib(synth_root):
    """Every stored query: pyoxigraph's rows equal rdflib's SPARQL engine's on the build."""
    from pyoxigraph import Variable
    from rdflib import Dataset as RDataset
    from rdflib import URIRef

    from kg.query import list_queries, open_store, param_value

    result = build(locate(synth_root))
    store = open_store(result.dataset)
    ref = RDataset(default_union=True)
    ref.parse(data=result.dataset, format="nquads")
    values = {"node": "a000000-demand-0"}
    checked = 0
    for q in list_queries(result.project):
        # rdflib's ORDER BY fails on unbound keys; rows are compared as sorted lists anyway.
        # Cells are compared by lexical value: rdflib's MIN() over IRIs returns a literal.
        text = _without_order_by(q.text)
        terms = {p.name: param_value(p, values[p.name]) for p in q.params}
        subs = {Variable(k): v for k, v in terms.items()}
        fast = [
            tuple(x.value if x is not None else None for x in sol)
            for sol in store.query(text, use_default_graph_as_union=True, substitutions=subs)
        ]
        init = {k: URIRef(v.value) for k, v in terms.items()}
        slow = [
            tuple(str(x) if x is not None else None for x in row)
            for row in ref.query(text, initBindings=init)
        ]
        assert sorted(fast, key=str) == sorted(slow, key=str), q.name
        assert fast, f"{q.name}: no answer on the synthetic corpus"
        checked += 1
    assert checked >= 10


def test_results_name_the_machine_each_part_was_measured_on(tmp_path, monkeypatch):
    """A rerun (--large-only, --export-only, --queries-only) may run on another machine than
    the full run: results.md names the full run's machine, and each rerun's own."""
    import argparse
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("kg_bench_run", path)
    run = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(sys, "path", list(sys.path))  # run.py puts benchmarks/ first
    monkeypatch.setitem(sys.modules, "synth", None)  # and imports its synth: undone after
    del sys.modules["synth"]
    spec.loader.exec_module(run)
    args = argparse.Namespace(
        sizes="1m", runs=3, limit=120, query_limit=30, build_limit=300,
        output=tmp_path / "results.md", machine="nproc 2, Machine A",
        large_rerun="python benchmarks/run.py --large-only r.json",
        large_rerun_machine="nproc 2, Machine B",
    )  # fmt: skip
    text = run.report([], None, None, args)
    assert "Machine: nproc 2, Machine A." in text
    assert (
        "Large-collection rows measured afterwards on nproc 2, Machine B: "
        "`python benchmarks/run.py --large-only r.json`." in text
    )
    args.machine = None  # a full run names the machine it runs on
    assert f"Machine: {run.machine()}." in run.report([], None, None, args)
