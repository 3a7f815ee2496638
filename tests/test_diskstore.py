"""The build's on-disk store (kg.diskstore): written by the build, keyed by the dataset it
holds, opened read-only by `kg query` / `kg stats`, and giving the same answers as the N-Quads
parsed into memory."""

from __future__ import annotations

import shutil

import pytest
from pyoxigraph import Quad, Store

from kg import diskstore
from kg.build import build
from kg.query import build_store, execute, list_queries, open_store
from kg.stats import compute


def _store_dirs(project) -> list[str]:
    parent = project.build_dir / diskstore.STORES_DIR
    return sorted(p.name for p in parent.iterdir()) if parent.is_dir() else []


def test_build_writes_the_store_of_its_dataset(built):
    path = diskstore.location(built.project, built.manifest)
    assert path.name == built.manifest["dataset"]["sha256"][:16]
    assert (path / "CURRENT").is_file()
    assert _store_dirs(built.project) == [path.name]  # no temporary directory left behind
    store = Store.read_only(str(path))
    assert len(store) == built.manifest["dataset"]["quads"]
    assert set(store) == set(open_store(built.dataset))


def test_commands_open_it_read_only(built):
    store = build_store(built)
    assert len(store) == built.manifest["dataset"]["quads"]
    with pytest.raises(RuntimeError, match="read-write"):  # read-only: not a parsed copy
        store.add(next(iter(open_store(built.dataset))))


def test_every_stored_query_answers_the_same_rows_on_disk_and_in_memory(built):
    on_disk, in_memory = build_store(built), open_store(built.dataset)
    queries = [q for q in list_queries(built.project) if not q.params]
    assert queries
    for query in queries:
        a = execute(on_disk, query)
        b = execute(in_memory, query)
        assert a.columns == b.columns, query.name
        assert a.rows == b.rows, query.name
    assert compute(on_disk, built.manifest) == compute(in_memory, built.manifest)


def test_a_rebuild_makes_a_new_store_and_keeps_one_previous(mini_copy):
    first = build(mini_copy)
    keys = [diskstore.location(mini_copy, first.manifest).name]
    for n in range(2):
        article = next((mini_copy.root / "data" / "articles").glob("*.ttl"))
        article.write_text(
            article.read_text(encoding="utf-8") + f"\n# edit {n}\n", encoding="utf-8"
        )
        # a comment changes the source hash but not the dataset: same key, store reused
        again = build(mini_copy)
        assert again.rebuilt
        assert diskstore.location(mini_copy, again.manifest).name == keys[0]
    # a change of content gives a new dataset, hence a new store; the old one stays (a reader
    # may have it open) until the next one replaces it
    shared = next((mini_copy.root / "data" / "shared").glob("*.ttl"))
    text = shared.read_text(encoding="utf-8")
    for n in range(2):
        text += f'\n<https://w3id.org/oman-talks/id/extra-{n}> <http://www.w3.org/2000/01/rdf-schema#comment> "x{n}" .\n'  # noqa: E501
        shared.write_text(text, encoding="utf-8")
        result = build(mini_copy)
        keys.append(diskstore.location(mini_copy, result.manifest).name)
        assert len(set(keys)) == len(keys)
        assert _store_dirs(mini_copy) == sorted(keys[-2:])
        store = build_store(result)
        assert len(store) == result.manifest["dataset"]["quads"]
        del store


def test_a_fresh_cache_without_a_store_gets_one(built_copy):
    shutil.rmtree(built_copy.build_dir / diskstore.STORES_DIR)
    result = build(built_copy)
    assert not result.rebuilt
    assert diskstore.has_store(built_copy, result.manifest)


def test_without_a_usable_store_commands_parse_the_n_quads(built_copy):
    result = build(built_copy)
    (diskstore.location(built_copy, result.manifest) / "CURRENT").unlink()
    assert diskstore.open_read_only(built_copy, result.manifest) is None
    store = build_store(result)
    assert len(store) == result.manifest["dataset"]["quads"]
    q = next(iter(store))
    store.add(Quad(q.subject, q.predicate, q.object))  # the parsed copy: writable, unlike the other


def test_a_store_of_another_dataset_is_never_opened(built_copy):
    result = build(built_copy)
    other = dict(result.manifest, dataset={**result.manifest["dataset"], "sha256": "0" * 64})
    assert diskstore.open_read_only(built_copy, other) is None


def test_the_store_kg_serve_kept_before_is_removed_with_the_next_store(built_copy):
    """Earlier kg versions kept kg serve's store in build/oxigraph (stamped by
    build/oxigraph.json, copied through build/.oxigraph-*): unused now, hundreds of MB at a
    million triples. Writing the build's store removes them; nothing else in build/."""
    build_dir = built_copy.build_dir
    (build_dir / "oxigraph").mkdir()
    (build_dir / "oxigraph" / "CURRENT").write_text("MANIFEST-000001\n")
    (build_dir / "oxigraph.json").write_text("{}")
    (build_dir / ".oxigraph-x1y2").mkdir()
    (build_dir / "mine.txt").write_text("kept")
    before = sorted(p.name for p in build_dir.iterdir())
    shutil.rmtree(build_dir / diskstore.STORES_DIR)
    result = build(built_copy)  # a fresh cache without a store: writes one
    assert diskstore.has_store(built_copy, result.manifest)
    after = sorted(p.name for p in build_dir.iterdir())
    assert set(before) - set(after) == {"oxigraph", "oxigraph.json", ".oxigraph-x1y2"}
    assert (build_dir / "mine.txt").read_text() == "kept"
