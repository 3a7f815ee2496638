"""The build cache under build/: manifest, dataset and the freshness check.

build/manifest.json and build/dataset.nq are deterministic (no timestamps). File sizes and
modification times, which are not, live in build/stamps.json: they let the freshness check
skip hashing files that have not been touched since the last check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgProjectError
from kg.project import Project

# Raise when the build writes different data from the same sources (2: kg:firstQuoteStart),
# so that a cache written by an older kg is rebuilt rather than queried.
FORMAT_VERSION = 2
_RACY_NS = 2_000_000_000  # stamps younger than this (relative to stamps.json) are re-hashed
DATASET = "dataset.nq"
MANIFEST = "manifest.json"
STAMPS = "stamps.json"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# What every manifest must hold; a manifest without them is treated as damaged.
_MANIFEST_KEYS = (
    "format",
    "sources",
    "dataset",
    "graphs",
    "evidence",
    "inferred",
    "conforms",
)


def read_manifest(project: Project) -> dict | None:
    """The manifest of the last good build, or None if missing, unreadable or incomplete."""
    try:
        data = json.loads((project.build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or any(k not in data for k in (*_MANIFEST_KEYS, "validation")):
        return None
    if not isinstance(data["sources"], dict) or not isinstance(data["dataset"], dict):
        return None
    return data if _well_formed(data) else None


def _well_formed(data: dict) -> bool:
    """Does every field have the type the commands read it as? Valid JSON can still be
    damaged ("graphs": [1, 2]); such a manifest is treated as missing, and the build redone."""

    def ints(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    dataset, validation = data["dataset"], data["validation"]
    try:
        from kg.report import ValidationReport

        ValidationReport.from_dict(validation)
    except Exception:  # noqa: BLE001 -- any shape it cannot be read as is damage
        return False
    return (
        all(isinstance(k, str) and isinstance(v, str) for k, v in data["sources"].items())
        and isinstance(dataset.get("sha256"), str)
        and ints(dataset.get("quads", 0))
        and isinstance(data["graphs"], dict)
        and all(isinstance(k, str) and ints(v) for k, v in data["graphs"].items())
        and ints(data["evidence"])
        and ints(data["inferred"])
        and isinstance(data["conforms"], bool)
        and isinstance(data.get("warnings", []), list)
        and all(isinstance(w, str) for w in data.get("warnings", []))
    )


def _read_stamps(project: Project) -> dict:
    try:
        data = json.loads((project.build_dir / STAMPS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


@dataclass
class Freshness:
    fresh: bool
    reason: str  # why a rebuild is needed ("" when fresh)


def check_fresh(project: Project, manifest: dict | None) -> Freshness:
    """Do the project's sources still match the ones the manifest was built from?

    Cheap path first: a file whose size and mtime match the recorded stamp is not hashed.
    A file touched but unchanged is hashed once and its stamp refreshed.
    """
    if manifest is None:
        return Freshness(False, "no previous build")
    if manifest.get("format") != FORMAT_VERSION:
        return Freshness(False, "the cache was written by another version of kg")
    recorded: dict = manifest.get("sources") or {}
    current = {f.rel: f.path for f in project.inputs()}
    if set(recorded) != set(current):
        added = sorted(set(current) - set(recorded))
        removed = sorted(set(recorded) - set(current))
        parts = [
            f"new: {', '.join(added)}" if added else "",
            f"gone: {', '.join(removed)}" if removed else "",
        ]
        return Freshness(False, "source files changed (" + "; ".join(p for p in parts if p) + ")")
    stamps = _read_stamps(project)
    # A file modified in the same clock tick as the stamp was taken could keep size and mtime
    # (git's "racy clean" problem): stamps that recent are not trusted, the file is hashed.
    try:
        trusted_before = (project.build_dir / STAMPS).stat().st_mtime_ns - _RACY_NS
    except OSError:
        trusted_before = 0
    updated = False
    for rel, path in current.items():
        try:
            key = _stat_key(path)
            stamp = stamps.get(rel)
            if (
                isinstance(stamp, list)
                and stamp[:2] == key
                and stamp[2:] == [recorded[rel]]
                and key[1] < trusted_before
            ):
                continue
            if sha256_file(path) != recorded[rel]:
                return Freshness(False, f"{rel} changed")
        except OSError:
            return Freshness(False, f"cannot read {rel}")
        stamps[rel] = [*key, recorded[rel]]
        updated = True
    if updated:
        write_stamps(project, stamps)
    return Freshness(True, "")


def write_stamps(project: Project, stamps: dict) -> None:
    # Only a speed-up: a read-only folder must not turn a query into an error.
    with contextlib.suppress(OSError):
        _atomic_write(project.build_dir / STAMPS, _json_bytes(stamps))


DATASET_STAMP = "build/" + DATASET  # its key in stamps.json


def dataset_trusted(project: Project, manifest: dict) -> bool:
    """Is build/dataset.nq still the file the manifest describes, judged by its stamp alone?

    Same trust as for sources: size, mtime and recorded hash match, and the stamp is not racy.
    Lets a command that does not read the dataset (`kg build` with nothing to do) skip hashing
    it (0.4 s at a million triples).
    """
    stamps = _read_stamps(project)
    stamp = stamps.get(DATASET_STAMP)
    expected = (manifest.get("dataset") or {}).get("sha256")
    try:
        key = _stat_key(project.build_dir / DATASET)
        trusted_before = (project.build_dir / STAMPS).stat().st_mtime_ns - _RACY_NS
    except OSError:
        return False
    return (
        isinstance(stamp, list)
        and stamp[:2] == key
        and stamp[2:] == [expected]
        and key[1] < trusted_before
    )


def remember_dataset(project: Project, manifest: dict) -> None:
    """Record the stamp of a dataset just verified by hash (see dataset_trusted)."""
    stamps = _read_stamps(project)
    try:
        stamps[DATASET_STAMP] = [*_stat_key(project.build_dir / DATASET),
                                 manifest["dataset"]["sha256"]]  # fmt: skip
    except (OSError, KeyError, TypeError):
        return
    write_stamps(project, stamps)


def read_dataset(project: Project, manifest: dict) -> bytes | None:
    """The cached N-Quads, or None when missing or not the bytes the manifest describes."""
    try:
        data = (project.build_dir / DATASET).read_bytes()
    except OSError:
        return None
    expected = (manifest.get("dataset") or {}).get("sha256")
    return data if expected == sha256_bytes(data) else None


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file and os.replace, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


LOCK = ".lock"


@contextlib.contextmanager
def build_lock(project: Project, why: str | None = None):
    """Hold build/.lock exclusively; yields True when another build held it and we waited.
    `why` the build is needed is said if the lock cannot be created (a read-only project
    whose sources changed: the user should know which change asks for a rebuild).

    An OS lock (flock) is released by the kernel when its holder dies, so a killed build
    never leaves the project locked.
    """
    import fcntl

    try:
        project.build_dir.mkdir(parents=True, exist_ok=True)
        handle = open(project.build_dir / LOCK, "a+b")  # noqa: SIM115 (held across the yield)
    except OSError as e:
        cannot = f"cannot create {project.build_dir / LOCK}: {e.strerror}"
        if why:
            cannot = f"the build must be made again ({why}), but {cannot}"
        raise KgProjectError(cannot) from None
    with handle:
        waited = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited = True
            print(
                f"kg: another kg build is running in {project.rel(project.build_dir)}/; waiting",
                file=sys.stderr,
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield waited
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_cache(project: Project, dataset: bytes, manifest: dict, stamps: dict) -> None:
    """Replace the cache. The dataset goes first: a manifest never describes a missing dataset,
    and a crash in between leaves a hash mismatch that the next command detects and rebuilds.
    Temporary files a killed build left behind are removed first (the caller holds the build
    lock, so no other build is writing them)."""
    for name in (DATASET, MANIFEST):
        for leftover in project.build_dir.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
    _atomic_write(project.build_dir / DATASET, dataset)
    _atomic_write(project.build_dir / MANIFEST, _json_bytes(manifest))
    with contextlib.suppress(OSError):
        stamps = {**stamps, DATASET_STAMP: [*_stat_key(project.build_dir / DATASET),
                                            manifest["dataset"]["sha256"]]}  # fmt: skip
    write_stamps(project, stamps)
