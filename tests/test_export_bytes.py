"""`kg export` writes the same bytes as before it streamed: for the seed build and the 10k
synthetic corpus, every format and a few graph selections, the SHA-256 of the output equals
the one recorded with the materialising writers (tests/fixtures/export/record.py says how).

The inputs are stored beside the hashes (the build's N-Quads and JSON-LD context), so the
comparison does not depend on today's seed data or ontology."""

from __future__ import annotations

import hashlib
import json
import lzma
import random
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, parse

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
