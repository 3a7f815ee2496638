"""Shared fixtures: the project under test, copies of it in tmp dirs, one session build.

`project_root` is the project the generic tests run against. It is the mini fixture for now;
set KG_TEST_PROJECT=/path (or change DEFAULT_PROJECT to REPO_ROOT) to run them on the real
project once its data lands. Tests never write build/ into the source tree: they copy the
project to a tmp dir first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.build import BuildResult, build
from kg.project import Project, locate

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
MINI = TESTS / "fixtures" / "mini"
DEFAULT_PROJECT = REPO_ROOT
# What a project folder consists of; everything else (kg/, tests/, .git, build/) stays behind.
PROJECT_PARTS = ("ontology", "data", "queries")


def _copy_project(src: Path, dst: Path) -> Path:
    """Copy the project folders of `src` into `dst` (without build/), return `dst`."""
    dst.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part)
    return dst


def kg_executable() -> list[str]:
    """The `kg` console script of this environment (fall back to `python -m kg`)."""
    script = Path(sys.executable).with_name("kg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kg"]


def _run_kg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess, as a user would."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*kg_executable(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium for a browser test: skipped without one (see tests/browser.py)."""
    from browser import require_chromium

    return require_chromium()


@pytest.fixture(scope="session")
def run_kg():
    """Run the `kg` CLI in a subprocess: run_kg("query", "x", cwd=...) -> CompletedProcess."""
    return _run_kg


@pytest.fixture(scope="session")
def synth():
    """benchmarks/synth.py, the synthetic corpus generator: synth.generate(dir, articles, seed)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "synth.py"
    spec = importlib.util.spec_from_file_location("kg_bench_synth", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("kg_bench_synth", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def copy_project():
    """Copy a project's folders (no build/) into a new dir: copy_project(src, dst) -> dst."""
    return _copy_project


@pytest.fixture(scope="session")
def project_root() -> Path:
    """The project the generic tests use (read-only: copy it before building)."""
    return Path(os.environ.get("KG_TEST_PROJECT", DEFAULT_PROJECT)).resolve()


@pytest.fixture(scope="session")
def mini_root() -> Path:
    """The mini fixture, for tests that rely on its exact content."""
    return MINI


@pytest.fixture(scope="session")
def built(project_root, tmp_path_factory) -> BuildResult:
    """`project_root` copied to a tmp dir and built once for the session. Do not modify."""
    root = _copy_project(project_root, tmp_path_factory.mktemp("built"))
    return build(locate(root))


@pytest.fixture(scope="session")
def built_mini(mini_root, tmp_path_factory) -> BuildResult:
    """The mini fixture copied and built once for the session. Do not modify."""
    root = _copy_project(mini_root, tmp_path_factory.mktemp("built-mini"))
    return build(locate(root))


@pytest.fixture
def project_copy(project_root, tmp_path) -> Project:
    """A private, unbuilt copy of `project_root` that a test may edit."""
    return locate(_copy_project(project_root, tmp_path / "project"))


@pytest.fixture
def mini_copy(mini_root, tmp_path) -> Project:
    """A private, unbuilt copy of the mini fixture that a test may edit."""
    return locate(_copy_project(mini_root, tmp_path / "mini"))


@pytest.fixture
def built_copy(built, tmp_path) -> Project:
    """A private copy of the session build, cache included (no rebuild needed)."""
    dst = _copy_project(built.project.root, tmp_path / "project")
    shutil.copytree(built.project.build_dir, dst / "build")
    return locate(dst)
