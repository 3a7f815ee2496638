"""`kg serve` on a project it cannot write to (a read-only mount, a shared folder): it serves
the build as it is. It used to stop at once, as it wanted to create build/.serve.lock."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest
from servers import HOST, copy_built, free_port, http, kg_command


def _read_only_command(project, command: list[str]) -> list[str]:
    """`command` run with `project` read-only: a read-only bind mount in a mount namespace of
    its own when root (root ignores file modes), else the files' modes."""
    if os.geteuid() != 0:
        for path in [project, *project.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        return command
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("root without unshare(1): no way to make the project read-only for root")
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", f"mount --bind {project} {project}"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"root, and mount namespaces are not allowed here: {probe.stderr.strip()}")
    script = (
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && cd "$1" && '
        '! touch .probe 2>/dev/null && shift && exec "$@"'
    )
    return [unshare, "-m", "sh", "-c", script, "sh", str(project), *command]


def _restore_modes(project) -> None:
    if os.geteuid() != 0:
        for path in [project, *project.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


def test_serve_on_a_read_only_project(built, tmp_path, run_kg):
    project = copy_built(built.project.root, tmp_path / "project")
    assert run_kg("build", cwd=project).returncode == 0  # fresh: serving need not rebuild
    before = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
    port, pages_port = free_port(), free_port()
    command = [*kg_command(), "serve", "--port", str(port), "--pages-port", str(pages_port)]
    proc = subprocess.Popen(
        _read_only_command(project, command),
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
    )
    try:
        seen = []
        for line in iter(proc.stdout.readline, ""):
            seen.append(line)
            if line.startswith("Ready"):
                break
        assert any(line.startswith("Ready") for line in seen), "".join(seen)
        status, body = http(
            "POST",
            f"http://{HOST}:{port}/query",
            b"SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
            {"Content-Type": "application/sparql-query", "Accept": "text/csv"},
        )
        assert status == 200 and int(body.split()[-1]) == sum(built.manifest["graphs"].values())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover - it stops on SIGINT
            proc.kill()
            rest, _ = proc.communicate()
        _restore_modes(project)
    assert proc.returncode == 0, rest
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*")) == before
