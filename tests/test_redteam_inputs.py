"""Red-team findings about inputs and outputs (3, 5, 7, 10, 11, 14, 15, 16, 17, 21, 22, 23): the
build and the read commands must not hang, crash, leak or drop input silently."""

from __future__ import annotations

import json
import os
import subprocess
import time
import unicodedata
from pathlib import Path

import pytest
from servers import assert_no_traceback as _no_traceback
from servers import kg_command
from servers import run_cli as _kg

ARTICLE = "data/articles/000_mini.ttl"
SOURCE = "data/sources/000_mini.txt"
RDFS = "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"


# --- finding 3: blank nodes cannot make the build hang or crash -----------------------------------


def _clique(n: int) -> str:
    return "".join(f"_:b{i} rdfs:seeAlso _:b{j} .\n" for i in range(n) for j in range(n) if i != j)


def _nested(depth: int) -> str:
    inner = "[ rdfs:seeAlso " * depth + "<http://x.example/b>" + " ]" * depth
    return f"<http://x.example/a> rdfs:seeAlso {inner} .\n"


def _same_list(n: int) -> str:
    return "<http://x.example/a> rdfs:seeAlso ( " + "<http://x.example/a> " * n + ") .\n"


@pytest.mark.parametrize(
    "poison",
    [_clique(8), _nested(2000), _nested(20000), _same_list(1000)],
    ids=["clique-8", "nested-2000", "nested-20000", "list-1000-equal"],
)
def test_blank_node_structures_build_in_seconds_and_deterministically(mini_copy, poison):
    (mini_copy.root / "data" / "shared" / "poison.ttl").write_text(RDFS + poison)
    started = time.monotonic()
    r = _kg("build", "--project", str(mini_copy.root), timeout=60)
    took = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert took < 15, f"{took:.1f} s"  # canonicalisation took minutes, or crashed
    first = (mini_copy.build_dir / "dataset.nq").read_bytes()
    assert b"_:" in first
    r = _kg("build", "--force", "--project", str(mini_copy.root), timeout=60)
    assert r.returncode == 0, r.stderr
    assert (mini_copy.build_dir / "dataset.nq").read_bytes() == first


def test_blank_nodes_of_two_files_do_not_merge(mini_copy):
    shared = mini_copy.root / "data" / "shared"
    (shared / "a.ttl").write_text(RDFS + "_:b0 rdfs:label 'a' .\n")
    (shared / "b.ttl").write_text(RDFS + "_:b0 rdfs:label 'b' .\n")
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 0, r.stderr
    lines = (mini_copy.build_dir / "dataset.nq").read_text().splitlines()
    labelled = [ln for ln in lines if ln.startswith("_:") and "label" in ln]
    assert len({ln.split()[0] for ln in labelled}) == 2, labelled


# --- finding 5: inputs that link out of the project are refused -----------------------------------


def test_a_source_linked_to_proc_environ_is_refused(mini_copy):
    source = mini_copy.root / SOURCE
    source.unlink()
    source.symlink_to("/proc/self/environ")
    r = _kg("build", "--project", str(mini_copy.root), env={"KG_ENDPOINT_TOKEN": "secret-1234"})
    assert r.returncode == 2, r.stderr
    assert SOURCE in r.stderr and "outside the project" in r.stderr, r.stderr
    _no_traceback(r)
    assert not (mini_copy.build_dir / "dataset.nq").exists()


@pytest.mark.parametrize(
    "rel", ["data/shared/outside.ttl", "queries/outside.rq", "queries/outside.cypher"]
)
def test_data_and_queries_linked_out_of_the_project_are_refused(mini_copy, tmp_path, rel):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("# question: x\nSELECT * WHERE { ?s ?p ?o }\n")
    (mini_copy.root / rel).symlink_to(outside)
    verbs = {".rq": ["query", "--list"], ".cypher": ["cypher", "--list"]}
    verb = verbs.get(Path(rel).suffix, ["build"])
    r = _kg(*verb, "--project", str(mini_copy.root))
    assert r.returncode == 2 and rel in r.stderr and "outside the project" in r.stderr, r.stderr


def test_a_link_inside_the_project_is_followed(mini_copy):
    shared = mini_copy.root / "data" / "shared"
    (mini_copy.root / "data" / "extra").mkdir()
    (mini_copy.root / "data" / "extra" / "x.txt").write_text(
        RDFS + "<http://x/a> rdfs:label 'x' .\n"
    )
    (shared / "x.ttl").symlink_to(mini_copy.root / "data" / "extra" / "x.txt")
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 0, r.stderr


# --- finding 10: kg export -o writes through a symbolic link; a stream is written into ------------


def test_export_writes_through_a_symlink(built_copy, tmp_path):
    releases = tmp_path / "releases"
    releases.mkdir()
    (releases / "v1.ttl").write_text("old")
    link = tmp_path / "current.ttl"
    link.symlink_to(releases / "v1.ttl")
    r = _kg("export", "--graph", "shared", "-o", str(link), "--project", str(built_copy.root))
    assert r.returncode == 0, r.stderr
    assert link.is_symlink()
    written = (releases / "v1.ttl").read_text()
    assert written != "old" and "kgr:witkoff" in written


def test_export_to_a_fifo_streams_into_it(built_copy, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    copy = tmp_path / "copy.nt"
    with copy.open("wb") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        r = _kg("export", "--format", "nt", "-o", str(fifo), "--project", str(built_copy.root))
        reader.wait(timeout=30)
    assert r.returncode == 0, r.stderr
    assert stat_is_fifo(fifo) and copy.read_bytes().count(b"\n") > 100


def stat_is_fifo(path: Path) -> bool:
    import stat

    return stat.S_ISFIFO(path.lstat().st_mode)


# --- finding 7: mistakes in shapes are one message, exit 2 ----------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        'sh:sparql [ sh:message "m" ;\n'
        '    sh:select """SELECT $this WHERE { $this ?p ?o FILTER(?o = ) }""" ]',
        'sh:property [ sh:path rdfs:label ; sh:minCount "one" ]',
        'sh:property [ sh:path rdfs:label ; sh:pattern "([a-z" ]',
    ],
    ids=["sparql-syntax", "mincount-one", "bad-regex"],
)
def test_shape_mistakes_are_one_message_with_exit_2(mini_copy, shape):
    shapes = mini_copy.root / "ontology" / "shapes.ttl"
    text = f"\nkgsh:Broken a sh:NodeShape ; sh:targetClass kg:Actor ;\n    {shape} .\n"
    shapes.write_text(shapes.read_text(encoding="utf-8") + text, encoding="utf-8")
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("kg: error: ontology/shapes.ttl"), r.stderr
    _no_traceback(r)


# --- finding 11: more tracebacks ------------------------------------------------------------------


@pytest.mark.parametrize("verb", [["query", "actors"], ["validate"], ["export", "--format", "nt"]])
def test_a_full_stdout_is_one_message_with_exit_2(built_copy, verb):
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [*kg_command(), *verb, "--project", str(built_copy.root)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert r.returncode == 2, r.stderr
    assert "No space left on device" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_an_ascii_stdout_is_one_message_with_exit_2(built_copy):
    r = _kg("query", "actors", "--lang", "zh", "--project", str(built_copy.root),
            env={"PYTHONIOENCODING": "ascii"})  # fmt: skip
    assert r.returncode == 2 and "PYTHONIOENCODING=utf-8" in r.stderr, r.stderr
    _no_traceback(r)


@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "99999999999"])
def test_kg_load_timeout_is_checked(built_copy, value):
    r = _kg("load", "--endpoint", "http://127.0.0.1:9/store", "--timeout", value,
            "--project", str(built_copy.root))  # fmt: skip
    assert r.returncode == 2 and "--timeout" in r.stderr, r.stderr
    _no_traceback(r)


def test_a_literal_over_16_mib_is_one_message(mini_copy):
    path = mini_copy.root / "data" / "shared" / "big.ttl"
    path.write_text(RDFS + '<http://x/a> rdfs:comment "' + "x" * (17 * 1024 * 1024) + '" .\n')
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 2 and "data/shared/big.ttl" in r.stderr, r.stderr
    _no_traceback(r)


@pytest.mark.parametrize(
    ("key", "value"), [("graphs", [1, 2]), ("validation", "oops"), ("inferred", "x")]
)
def test_a_damaged_manifest_is_rebuilt(built_copy, key, value):
    manifest = built_copy.build_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    data[key] = value
    manifest.write_text(json.dumps(data))
    for verb in (["stats"], ["validate"], ["build"]):
        r = _kg(*verb, "--project", str(built_copy.root))
        assert r.returncode == 0, r.stderr
        _no_traceback(r)


# --- finding 14: control characters in kg validate are escaped ------------------------------------


def test_validate_escapes_terminal_sequences_in_labels(mini_copy):
    shapes = mini_copy.root / "ontology" / "shapes.ttl"
    shapes.write_text(
        shapes.read_text(encoding="utf-8")
        + "\nkgsh:NoLabel a sh:NodeShape ;\n"
        + "    sh:targetNode <https://w3id.org/oman-talks/id/evil> ;\n"
        + '    sh:property [ sh:path rdfs:comment ; sh:minCount 1 ; sh:message "m" ] .\n',
        encoding="utf-8",
    )
    shared = mini_copy.root / "data" / "shared" / "evil.ttl"
    shared.write_text(
        RDFS + "@prefix kgr: <https://w3id.org/oman-talks/id/> .\n"
        'kgr:evil rdfs:label "Limit \\u001b]0;PWNED\\u0007\\u001b[2J missiles"@en .\n'
    )
    r = _kg("validate", "--project", str(mini_copy.root))
    assert r.returncode == 1, r.stderr
    assert "PWNED" in r.stdout and "\x1b" not in r.stdout and "\x07" not in r.stdout


# --- finding 15: --format json is valid JSON, decimals exact --------------------------------------


def test_json_output_is_strict_json_with_exact_decimals(built_copy):
    q = built_copy.root / "queries" / "nums.rq"
    q.write_text(
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\nSELECT * WHERE {\n"
        ' BIND("NaN"^^xsd:double AS ?nan) BIND("-INF"^^xsd:double AS ?inf)\n'
        ' BIND("123456789012345678901234567890.5"^^xsd:decimal AS ?dec)\n'
        ' BIND("0.5"^^xsd:decimal AS ?half) BIND("12"^^xsd:decimal AS ?whole) }\n'
    )
    r = _kg("query", "nums", "--format", "json", "--project", str(built_copy.root))
    assert r.returncode == 0, r.stderr

    def refuse(name):
        raise ValueError(name)

    (row,) = json.loads(r.stdout, parse_constant=refuse)
    assert row["dec"] == "123456789012345678901234567890.5"
    assert row["half"] == 0.5 and row["whole"] == 12
    assert row["nan"] == "NaN" and row["inf"] == "-INF"


# --- findings 16, 17, 21, 22, 23: byte-order marks, ignored files, duplicates, NFC/NFD, dot ids ---


def test_a_source_text_with_a_bom_is_refused(mini_copy):
    path = mini_copy.root / SOURCE
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 1 and "byte-order mark" in r.stderr, r.stderr


def test_a_turtle_file_with_a_bom_is_named(mini_copy):
    path = mini_copy.root / "data" / "shared" / "actors.ttl"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 2 and "actors.ttl:1: starts with a byte-order mark" in r.stderr, r.stderr


def test_a_query_with_a_bom_is_named(mini_copy):
    path = next((mini_copy.root / "queries").glob("*.rq"))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    r = _kg("query", "--list", "--project", str(mini_copy.root))
    assert r.returncode == 2 and "byte-order mark" in r.stderr and path.name in r.stderr


@pytest.mark.parametrize("name", ["000_mini.TTL", "000_mini.trig"])
def test_an_article_with_another_extension_is_warned_about(mini_copy, name):
    article = mini_copy.root / ARTICLE
    article.rename(article.with_name(name))
    r = _kg("build", "--project", str(mini_copy.root))
    assert f"data/articles/{name}: not part of the layout, ignored" in r.stdout + r.stderr


def test_a_duplicate_article_is_refused(mini_copy):
    article = mini_copy.root / ARTICLE
    (article.parent / "001_mini.ttl").write_bytes(article.read_bytes())
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 1 and "one article file per text" in r.stderr, r.stderr


def test_a_quote_in_another_normalisation_gets_a_hint(mini_copy):
    source = mini_copy.root / SOURCE
    source.write_text(source.read_text(encoding="utf-8") + "\nLe café est fermé.\n")
    article = mini_copy.root / ARTICLE
    quote = unicodedata.normalize("NFD", "café est fermé")
    article.write_text(
        article.read_text(encoding="utf-8")
        + f'\nkgr:demand-stop-enrichment kg:quote "{quote}" .\n',
        encoding="utf-8",
    )
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 1 and "NFC or NFD" in r.stderr, r.stderr


@pytest.mark.parametrize("stem", [".", ".."])
def test_dot_article_ids_are_refused(mini_copy, stem):
    article = mini_copy.root / ARTICLE
    article.rename(article.with_name(f"{stem}.ttl"))
    r = _kg("build", "--project", str(mini_copy.root))
    assert r.returncode == 2 and "dot segment" in r.stderr, r.stderr


# --- findings 24 and 28: crash leftovers removed; a non-UTF-8 text says where ---------------------


def test_temporary_files_of_a_killed_build_are_removed(built_copy):
    leftovers = [
        built_copy.build_dir / ".dataset.nq.dqy4137q.tmp",
        built_copy.build_dir / ".manifest.json.x1y2z3.tmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half written")
    r = _kg("build", "--force", "--project", str(built_copy.root))
    assert r.returncode == 0, r.stderr
    assert not any(path.exists() for path in leftovers)


def test_a_non_utf8_source_text_names_the_line(mini_copy):
    path = mini_copy.root / SOURCE
    path.write_bytes(path.read_bytes() + b"\nline two\nbad \xff byte\n")
    r = _kg("build", "--project", str(mini_copy.root))
    lines = path.read_bytes().count(b"\n")
    assert r.returncode == 1 and f"not valid UTF-8 at line {lines}" in r.stderr, r.stderr
