"""`kg serve` and the build directory: on a project it cannot write to (a read-only mount, a
shared folder) it serves the build as it is (it used to stop at once, as it wanted to create
build/.serve.lock); a build while it serves does not change what it serves."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

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


def _count(base: str) -> int:
    status, body = http(
        "POST",
        f"{base}/query",
        b"SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
        {"Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )
    assert status == 200, body
    return int(body.split()[-1])


def test_a_build_while_serving_changes_nothing_served_until_the_next_serve(built, tmp_path, run_kg):
    """Red-team finding 25, second half: a `kg build` (or a second kg serve that rebuilds) while
    a kg serve runs must not change what the running one serves, not even after its Oxigraph
    child is restarted, and leaves no store copies behind. The child loads the bytes of the
    build/dataset.nq this serve opened; a build renames a new file into place."""
    from test_serve import start_serve

    project = copy_built(built.project.root, tmp_path / "project")
    first = start_serve(project)
    try:
        before = _count(first.base)
        with (project / "data" / "shared" / "actors.ttl").open("a", encoding="utf-8") as f:
            f.write(
                "\n<https://w3id.org/oman-talks/id/iran> "
                '<http://www.w3.org/2000/01/rdf-schema#comment> "new"@en .\n'
            )
        assert run_kg("build", cwd=project).returncode == 0
        second = start_serve(project)  # a second serve sees the new build
        try:
            after = _count(second.base)
            assert after > before, (after, before)
        finally:
            assert second.stop()[0] == 0
        assert _count(first.base) == before
        ps = ["ps", "-o", "pid=", "--ppid", str(first.proc.pid)]
        (child,) = [
            int(x) for x in subprocess.run(ps, capture_output=True, text=True).stdout.split()
        ]
        os.kill(child, signal.SIGKILL)  # the restarted child loads the same bytes again
        deadline = time.monotonic() + 15
        while True:
            try:
                counted = _count(first.base)
                break
            except (AssertionError, OSError):
                assert time.monotonic() < deadline and first.proc.poll() is None, "not restarted"
                time.sleep(0.05)
        assert counted == before
    finally:
        code, out = first.stop()
    assert code == 0 and "Oxigraph stopped" in out, out
    leftovers = [p.name for p in (project / "build").iterdir() if p.name.startswith(".oxigraph")]
    assert not leftovers and not (project / "build" / "oxigraph").exists()


def test_a_read_only_project_whose_sources_changed_says_which_change_asks_for_a_build(
    built, tmp_path, run_kg
):
    """A read-only command on a read-only project must rebuild first when a source changed:
    it cannot, and says so — which file changed and why it cannot write — with exit code 2,
    leaving the project as it was."""
    project = copy_built(built.project.root, tmp_path / "project")
    assert run_kg("build", cwd=project).returncode == 0
    with (project / "data" / "shared" / "actors.ttl").open("a", encoding="utf-8") as f:
        f.write("\n# a change\n")
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*")}
    try:
        done = subprocess.run(
            _read_only_command(project, [*kg_command(), "query", "talks"]),
            cwd=project,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    finally:
        _restore_modes(project)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert "data/shared/actors.ttl changed" in done.stderr, done.stderr
    assert "build/.lock" in done.stderr
    assert {p: p.stat().st_mtime_ns for p in project.rglob("*")} == before
