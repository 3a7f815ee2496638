"""The build: load errors, the cache under build/, and byte-identical output."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from pyoxigraph import Dataset, RdfFormat, parse

from kg import cache
from kg import namespaces as ns
from kg.build import build, ensure_built
from kg.cli import main
from kg.errors import KgInputError
from kg.project import locate

ARTICLE = "data/articles/000_mini.ttl"


def _append(path, text):
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


# --- load errors ------------------------------------------------------------------------------


def test_malformed_turtle_names_file_line_and_column(mini_copy):
    path = mini_copy.root / ARTICLE
    lines = path.read_text(encoding="utf-8").splitlines()
    n = len(lines)
    _append(path, '\nkgr:broken a kg:Event ;\n    rdfs:label "unterminated .\n')
    with pytest.raises(KgInputError) as info:
        build(mini_copy)
    err = info.value
    assert err.file == ARTICLE
    assert err.line in (n + 3, n + 4)
    assert err.column is not None
    assert str(err).startswith(f"{ARTICLE}:{err.line}:{err.column}: Turtle syntax error")


def test_malformed_turtle_exits_2_with_position(mini_copy, capsys):
    path = mini_copy.root / "data/shared/actors.ttl"
    _append(path, "\nkgr:x a foo:Undeclared .\n")
    code = main(["build", "--project", str(mini_copy.root)])
    err = capsys.readouterr().err
    assert code == 2
    line = len(path.read_text(encoding="utf-8").splitlines())
    assert f"data/shared/actors.ttl:{line}:9: Turtle syntax error" in err
    assert "foo:" in err
    assert "Traceback" not in err


def test_relative_iri_gets_a_hint(mini_copy):
    _append(mini_copy.root / "data/shared/actors.ttl", "\n<x> a <y> .\n")
    with pytest.raises(KgInputError, match="relative IRIs are not allowed"):
        build(mini_copy)


def test_invalid_utf8_is_an_input_error(mini_copy):
    path = mini_copy.root / "data/shared/actors.ttl"
    path.write_bytes(path.read_bytes() + b"\n# \xff\xfe\n")
    with pytest.raises(KgInputError, match="not valid UTF-8") as info:
        build(mini_copy)
    assert info.value.line is not None


def test_article_file_name_must_be_iri_safe(mini_copy):
    shutil.copy(mini_copy.root / ARTICLE, mini_copy.root / "data/articles/bad name.ttl")
    with pytest.raises(KgInputError, match="IRI"):
        build(mini_copy)


def test_failed_load_keeps_the_last_good_cache(mini_copy):
    build(mini_copy)
    before = (mini_copy.build_dir / "dataset.nq").read_bytes()
    _append(mini_copy.root / ARTICLE, "\nthis is not turtle\n")
    with pytest.raises(KgInputError):
        build(mini_copy)
    assert (mini_copy.build_dir / "dataset.nq").read_bytes() == before


# --- cache ------------------------------------------------------------------------------------


def test_second_build_reuses_the_cache(built_copy):
    stamp = (built_copy.build_dir / "dataset.nq").stat().st_mtime_ns
    result = build(built_copy)
    assert not result.rebuilt
    assert (built_copy.build_dir / "dataset.nq").stat().st_mtime_ns == stamp
    assert "nothing to do" in result.summary_text()


def test_editing_a_source_rebuilds(built_copy):
    shared = sorted((built_copy.root / "data/shared").glob("*.ttl"))[0]
    _append(shared, "\n# an edit\n")
    result = build(built_copy)
    assert result.rebuilt
    assert built_copy.rel(shared) in result.reason
    assert not build(built_copy).rebuilt


def test_editing_a_source_text_rebuilds(built_copy):
    text = sorted(built_copy.sources_dir.glob("*.txt"))[0]
    text.write_bytes(text.read_bytes())  # same content, new mtime: hashed, not rebuilt
    assert not build(built_copy).rebuilt
    text.write_bytes(text.read_bytes() + b"\n")
    assert build(built_copy).rebuilt


def test_touching_without_change_only_refreshes_stamps(built_copy):
    path = built_copy.root / sorted(build(built_copy).manifest["sources"])[0]
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert not build(built_copy).rebuilt
    stamps = json.loads((built_copy.build_dir / cache.STAMPS).read_text())
    assert stamps[built_copy.rel(path)][1] == path.stat().st_mtime_ns


def test_new_file_rebuilds(built_copy):
    _append(built_copy.root / "data/shared/extra.ttl", "")
    result = build(built_copy)
    assert result.rebuilt and "data/shared/extra.ttl" in result.reason


def test_deleted_build_folder_is_rebuilt(built_copy):
    shutil.rmtree(built_copy.build_dir)
    result = ensure_built(built_copy)
    assert result.rebuilt and "no previous build" in result.reason


def test_corrupted_dataset_is_detected_and_rebuilt(built_copy):
    nq = built_copy.build_dir / "dataset.nq"
    good = nq.read_bytes()
    nq.write_bytes(good[: len(good) // 2])
    result = ensure_built(built_copy)
    assert result.rebuilt and "damaged" in result.reason
    assert nq.read_bytes() == good


def test_corrupted_manifest_is_detected_and_rebuilt(built_copy):
    (built_copy.build_dir / "manifest.json").write_text("{ not json")
    assert ensure_built(built_copy).rebuilt


def test_force_rebuilds(built_copy):
    assert build(built_copy, force=True).rebuilt


# --- outputs ----------------------------------------------------------------------------------


def test_two_builds_from_scratch_are_byte_identical(project_root, tmp_path, copy_project):
    a = locate(copy_project(project_root, tmp_path / "a"))
    b = locate(copy_project(project_root, tmp_path / "b"))
    build(a)
    build(b)
    for name in ("dataset.nq", "manifest.json"):
        assert (a.build_dir / name).read_bytes() == (b.build_dir / name).read_bytes(), name


def test_dataset_is_sorted_canonical_nquads(built):
    data = (built.project.build_dir / "dataset.nq").read_bytes()
    lines = data.decode("utf-8").splitlines(keepends=True)
    assert lines == sorted(lines)
    assert len(set(lines)) == len(lines)
    dataset = Dataset(parse(data, RdfFormat.N_QUADS))
    assert len(dataset) == built.manifest["dataset"]["quads"] == len(lines)
    # Blank nodes, if any, carry canonical (RDFC-1.0) labels.
    assert all(b.startswith("c14n") for b in _blank_labels(dataset))


def _blank_labels(dataset):
    for q in dataset:
        for term in (q.subject, q.object):
            if type(term).__name__ == "BlankNode":
                yield term.value


def test_manifest_records_sources_counts_and_validation(built):
    m = built.manifest
    on_disk = json.loads((built.project.build_dir / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == m
    assert m["format"] == cache.FORMAT_VERSION
    assert list(m["sources"]) == sorted(m["sources"])
    for rel, digest in m["sources"].items():
        assert cache.sha256_file(built.project.root / rel) == digest
    assert ns.GRAPH_ONTOLOGY in m["graphs"] and ns.GRAPH_INFERRED in m["graphs"]
    assert sum(m["graphs"].values()) == m["dataset"]["quads"]
    assert m["graphs"][ns.GRAPH_INFERRED] == m["inferred"]
    assert isinstance(m["conforms"], bool) and "results" in m["validation"]
    text = json.dumps(m)
    for word in ("timestamp", "built_at", "time"):
        assert f'"{word}"' not in text


def test_stray_turtle_files_are_reported_not_loaded(mini_copy):
    _append(mini_copy.root / "data/notes.ttl", "@prefix x: <http://x/> .\nx:a x:b x:c .\n")
    result = build(mini_copy)
    assert any("data/notes.ttl" in w for w in result.manifest["warnings"])
    assert b"http://x/a" not in result.dataset
