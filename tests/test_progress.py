"""Progress of long builds: shown on a terminal, silent otherwise."""

from __future__ import annotations

import io

from kg.build import build
from kg.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_not_a_terminal():
    out = io.StringIO()
    p = Progress(out)
    assert not p.enabled
    p.stage("load", 3, "files")
    p.advance()
    p.end()
    assert out.getvalue() == ""


def test_progress_shows_stage_items_and_rate_on_a_terminal():
    out = _Tty()
    p = Progress(out)
    assert p.enabled
    p.stage("load", 2, "files")
    p.advance(2)
    p.stage("infer")
    p.end()
    text = out.getvalue()
    assert "kg: load" in text and "2/2 files" in text and "files/s" in text
    assert "kg: infer" in text
    assert text.endswith("\n")  # each finished stage keeps its line


def test_build_reports_every_stage(mini_copy):
    out = _Tty()
    result = build(mini_copy, progress=Progress(out))
    assert result.rebuilt
    text = out.getvalue()
    for stage in ("load", "anchor", "infer", "validate", "write"):
        assert f"kg: {stage}" in text


def test_kg_build_prints_no_progress_when_piped(mini_copy, run_kg):
    done = run_kg("--project", str(mini_copy.root), "build")
    assert done.returncode == 0, done.stderr
    assert "kg: load" not in done.stderr
    assert "\r" not in done.stderr + done.stdout
