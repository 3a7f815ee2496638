"""`kg export` writes the same bytes as before it streamed: for the seed build and the 10k
synthetic corpus, every format and a few graph selections, the SHA-256 of the output equals
the one recorded with the materialising writers (tests/fixtures/export/record.py says how).

The inputs are stored beside the hashes (the build's N-Quads and JSON-LD context), so the
comparison does not depend on today's seed data or ontology."""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import random
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, parse

from kg import export as ex

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "export"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())

# The `kg export` arguments of each recorded variant (record.py), as keyword arguments.
VARIANTS = {
    "turtle": {"format": "turtle"},
    "trig": {"format": "trig"},
    "ntriples": {"format": "ntriples"},
    "nquads": {"format": "nquads"},
    "rdfxml": {"format": "rdfxml"},
    "jsonld": {"format": "jsonld"},
    "jsonld-framed": {"format": "jsonld", "frame": "events"},
    "turtle-no-inferred": {"format": "turtle", "inferred": False},
    "trig-shared-ontology": {"format": "trig", "graphs": ["shared", "ontology"]},
    "ntriples-article": {"format": "ntriples", "graphs": ["article"]},
    "nquads-no-inferred": {"format": "nquads", "inferred": False},
    "rdfxml-no-inferred": {"format": "rdfxml", "inferred": False},
    "jsonld-article-inferred": {"format": "jsonld", "graphs": ["article"], "inferred": True},
    "jsonld-framed-no-inferred": {"format": "jsonld", "frame": "events", "inferred": False},
}
CASES = [(corpus, variant) for corpus in sorted(EXPECTED) for variant in VARIANTS]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _inputs(corpus: str) -> tuple[bytes, dict]:
    dataset = lzma.decompress((FIXTURES / f"{corpus}.nq.xz").read_bytes())
    assert _sha(dataset) == EXPECTED[corpus]["dataset_sha256"]
    ctx = json.loads((FIXTURES / f"{corpus}.context.jsonld").read_text(encoding="utf-8"))
    return dataset, ctx["@context"]


@pytest.fixture(scope="module")
def inputs():
    return {corpus: _inputs(corpus) for corpus in EXPECTED}


def test_every_variant_was_recorded():
    for corpus in EXPECTED:
        assert set(EXPECTED[corpus]["exports"]) == set(VARIANTS)


@pytest.mark.parametrize(("corpus", "variant"), CASES)
def test_export_of_quads_gives_the_recorded_bytes(inputs, corpus, variant):
    """`export()` on the parsed quads, in a shuffled order."""
    dataset, context = inputs[corpus]
    quads = list(parse(dataset, format=RdfFormat.N_QUADS, lenient=True))
    random.Random(13).shuffle(quads)
    kwargs = VARIANTS[variant]
    result = ex.export(quads, context=context if kwargs["format"] == "jsonld" else None, **kwargs)
    assert _sha(result.data) == EXPECTED[corpus]["exports"][variant]


@pytest.mark.parametrize(("corpus", "variant"), CASES)
def test_streamed_export_of_the_build_gives_the_recorded_bytes(inputs, corpus, variant, tmp_path):
    """What `kg export -o FILE` does: the build's N-Quads read piece by piece, written
    through a temporary file."""
    dataset, context = inputs[corpus]
    graphs = {q.graph_name.value for q in parse(dataset, format=RdfFormat.N_QUADS)}
    kwargs = VARIANTS[variant]
    target = tmp_path / "out"
    with ex.atomic_output(target) as fh:
        done = ex.write_export(
            ex.BuildNQuads(dataset, graphs),
            fh,
            context=context if kwargs["format"] == "jsonld" else None,
            **kwargs,
        )
    data = target.read_bytes()
    assert done.size == len(data)
    assert _sha(data) == EXPECTED[corpus]["exports"][variant]


@pytest.mark.parametrize("variant", ["turtle", "trig", "ntriples", "nquads-no-inferred", "jsonld"])
def test_the_build_read_in_small_pieces_gives_the_same_bytes(inputs, variant, monkeypatch):
    """The N-Quads are decoded a few megabytes at a time, each piece running on to the end
    of its line; here a few hundred bytes at a time, so there are thousands of pieces."""
    monkeypatch.setattr(ex, "_CHUNK", 333)
    dataset, context = inputs["seed"]
    graphs = {q.graph_name.value for q in parse(dataset, format=RdfFormat.N_QUADS)}
    kwargs = VARIANTS[variant]
    out = io.BytesIO()
    ex.write_export(ex.BuildNQuads(dataset, graphs), out, context=context, **kwargs)
    assert _sha(out.getvalue()) == EXPECTED["seed"]["exports"][variant]


@pytest.mark.parametrize("fmt", ["turtle", "nquads", "rdfxml", "jsonld"])
def test_standard_output_gets_the_bytes_a_file_gets(built, tmp_path, capsysbinary, fmt):
    from kg.cli import main

    target = tmp_path / "out"
    root = str(built.project.root)
    assert main(["export", "--project", root, "--format", fmt, "-o", str(target)]) == 0
    capsysbinary.readouterr()
    assert main(["export", "--project", root, "--format", fmt, "-o", "-"]) == 0
    assert capsysbinary.readouterr().out == target.read_bytes()


def test_lines_the_quick_split_cannot_take_are_parsed():
    """A blank-node graph name is not `<iri>`: the line goes to the N-Quads parser."""
    source = ex.BuildNQuads(b'<http://a/s> <http://a/p> "x <y> z" _:g .\n', ["_:g"])
    assert list(source.tuples()) == [("<http://a/s>", "<http://a/p>", '"x <y> z"', "_:g")]


@pytest.mark.parametrize("fmt", [None, "turtle", "trig"])
def test_a_quad_outside_the_manifests_graphs_is_an_error(fmt):
    """Whether read as text (tuples) or as bytes (the Turtle and TriG writers)."""
    for line in (b"<http://a/s> <http://a/p> <http://a/o> .\n",  # the default graph
                 b"<http://a/s> <http://a/p> <http://a/o> <http://a/h> .\n"):  # fmt: skip
        source = ex.BuildNQuads(line, ["http://a/g"])
        with pytest.raises(ex.KgExportError, match="manifest does not list"):
            if fmt is None:
                list(source.tuples())
            else:
                ex.write_export(source, io.BytesIO(), format=fmt)


def test_turtle_escapes_are_the_n_triples_ones_but_two():
    """The Turtle writer copies quoted strings from the build's N-Triples text: that is only
    right while pyoxigraph escapes as Turtle's _TTL_ESCAPES do. It also escapes U+FFFE and
    U+FFFF, which the writer sends the long way (and which come out as before)."""
    differ = []
    for code in [*range(0xD800), *range(0xE000, 0x10000), *range(0x10000, 0x110000, 61)]:
        text = f"a{chr(code)}b"
        if str(Literal(text)) != f'"{text.translate(ex._TTL_ESCAPES)}"':
            differ.append(code)
    assert differ == [0xFFFE, 0xFFFF]
    g = NamedNode("http://a/g")
    quads = [
        Quad(NamedNode("http://a/s"), NamedNode("http://a/p"), Literal(value, **kw), g)
        for value in ("x\ufffey", "\uffff", "a\\uFFFE")
        for kw in ({}, {"language": "en"}, {"datatype": NamedNode("http://a/dt")})
    ]
    lines = b"".join(sorted({f"{q} .\n".encode() for q in quads}))
    streamed = io.BytesIO()
    ex.write_export(ex.BuildNQuads(lines, [g.value]), streamed, format="turtle")
    assert streamed.getvalue() == ex.export(quads, format="turtle").data
    assert "x\ufffey" in streamed.getvalue().decode() and b"\\uFFFE" in streamed.getvalue()


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_lines_not_ending_in_a_known_graph_are_read_by_the_parser(fmt):
    """The Turtle writer reads a line's graph off its end (` <g> .`). A line in the default
    graph whose object is a graph's IRI, one in a blank-node graph, and a literal that
    holds a graph's line end must still come out as the quads they are."""
    s, p, g = NamedNode("http://a/s"), NamedNode("http://a/p"), NamedNode("http://a/g")
    quads = [
        Quad(s, p, Literal("x <http://a/g> ."), g),
        Quad(s, p, g, DefaultGraph()),
        Quad(s, NamedNode("http://a/q"), Literal("in a blank graph"), BlankNode("b")),
        Quad(s, p, Literal("7", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")), g),
    ]
    data = ex.export(quads, format=fmt).data
    fmt_in = RdfFormat.TURTLE if fmt == "turtle" else RdfFormat.TRIG
    back = list(parse(data, format=fmt_in))
    assert {q.triple for q in back} == {q.triple for q in quads}
    if fmt == "trig":
        kinds = sorted(type(q.graph_name).__name__ for q in back)
        assert kinds == ["BlankNode", "DefaultGraph", "NamedNode", "NamedNode"]
    assert b"x <http://a/g> ." in data and b'"7"' not in data  # the integer bare
