"""The build's on-disk store: the dataset bulk-loaded once, opened read-only by later commands.

A read-only command (`kg query`, `kg stats`) used to parse build/dataset.nq into memory every
time: 2.9-3.5 s of CPU and 600 MiB at a million triples. `kg build` now also writes the same
quads into a pyoxigraph (RocksDB) store, which opens in milliseconds. build/dataset.nq stays the
canonical artefact; the store is a derived copy, keyed by the SHA-256 of the dataset it holds:

    build/stores/<first 16 hex digits of the dataset's SHA-256>/

It is written in a temporary directory beside it and renamed into place once closed, so no
process ever opens a store that is being written (RocksDB leaves that undefined). A store whose
key is not the manifest's dataset is never opened: it goes stale with the cache, and the next
store written removes it. The one written before the current is kept, for a reader that
opened it while a build ran. A missing or unopenable store is not an error: callers fall back
to parsing the N-Quads.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
from pathlib import Path

from pyoxigraph import RdfFormat, Store

from kg.project import Project

STORES_DIR = "stores"  # build/stores/<key>/
_KEY_DIGITS = 16
_TEMP_PREFIX = ".writing-"


def location(project: Project, manifest: dict) -> Path | None:
    """Where the store of the manifest's dataset lives (whether or not it exists yet)."""
    digest = (manifest.get("dataset") or {}).get("sha256")
    if not isinstance(digest, str) or len(digest) < _KEY_DIGITS or not digest.isalnum():
        return None
    return project.build_dir / STORES_DIR / digest[:_KEY_DIGITS]


def has_store(project: Project, manifest: dict) -> bool:
    path = location(project, manifest)
    return path is not None and (path / "CURRENT").is_file()


def open_read_only(project: Project, manifest: dict) -> Store | None:
    """The store holding the manifest's dataset, opened read-only; None if there is none."""
    path = location(project, manifest)
    if path is None or not (path / "CURRENT").is_file():
        return None
    try:
        return Store.read_only(str(path))
    except OSError:
        return None


def write(project: Project, manifest: dict, data: bytes) -> Path:
    """Bulk-load `data` (the manifest's N-Quads) into a new store and move it into place.

    Raises OSError when it cannot be written; the caller decides whether that matters.
    """
    path = location(project, manifest)
    if path is None:
        raise OSError("the manifest names no dataset digest")
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=parent, prefix=_TEMP_PREFIX))
    try:
        store = Store(str(temp))
        # The build's own bytes, just written by pyoxigraph: no need to check IRIs again.
        store.bulk_load(data, RdfFormat.N_QUADS, lenient=True)
        store.flush()
        del store  # closes the database before anyone can open it read-only
        gc.collect()
        if (path / "CURRENT").is_file():
            shutil.rmtree(temp, ignore_errors=True)  # the same dataset is there already
        else:
            shutil.rmtree(path, ignore_errors=True)  # a leftover without CURRENT
            os.rename(temp, path)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _prune(parent, keep=path.name)
    _remove_legacy(project.build_dir)
    return path


# What kg serve kept in build/ before this store existed (it now serves from memory): the
# store it loaded (hundreds of MB at a million triples), its stamp, and temporary copies.
_LEGACY = ("oxigraph", "oxigraph.json")
_LEGACY_TEMP_PREFIX = ".oxigraph-"


def _remove_legacy(build_dir: Path) -> None:
    with contextlib.suppress(OSError):
        for p in build_dir.iterdir():
            if p.name in _LEGACY or p.name.startswith(_LEGACY_TEMP_PREFIX):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink()


def _prune(parent: Path, keep: str) -> None:
    """Remove every store but `keep` and the newest other one (a reader may still have it open),
    and temporary directories left by a build that was killed."""
    with contextlib.suppress(OSError):
        others = [p for p in parent.iterdir() if p.is_dir() and p.name != keep]
        finished = [p for p in others if not p.name.startswith(_TEMP_PREFIX)]
        finished.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        stale = finished[1:] + [p for p in others if p.name.startswith(_TEMP_PREFIX)]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
