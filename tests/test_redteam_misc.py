"""Red-team findings 20, 26 and 28 (smaller items): credentials in clear text, one broken
stored query, proxy framing, raw control characters in notes, updates in a query file."""

from __future__ import annotations

from servers import HOST, copy_built
from servers import run_cli as _kg
from test_redteam_limits import _raw
from test_serve import start_serve

from kg.store import Credentials

BROKEN = "# question: broken\n# param: x\nSELECT * WHERE { ?s ?p ?o }\n"


# --- finding 20 -----------------------------------------------------------------------------------


def test_credentials_over_plain_http_to_another_host_are_warned_about(built_copy):
    r = _kg("load", "--dry-run", "--endpoint", "http://192.0.2.1/store",
            "--project", str(built_copy.root), env={"KG_ENDPOINT_TOKEN": "tok-123456"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "unencrypted (http://)" in r.stderr and "tok-123456" not in r.stderr + r.stdout
    r = _kg("load", "--dry-run", "--endpoint", f"http://{HOST}:9/store",
            "--project", str(built_copy.root), env={"KG_ENDPOINT_TOKEN": "tok-123456"})  # fmt: skip
    assert "unencrypted" not in r.stderr  # loopback: nothing travels


def test_short_secrets_are_scrubbed_where_they_stand_as_words():
    credentials = Credentials("Bearer abc", "a token", ("abc",))
    assert credentials.scrub("you sent Bearer abc; abcdef") == "you sent Bearer ***; abcdef"


# --- finding 26: one broken stored query leaves the others usable ---------------------------------


def test_a_broken_query_header_does_not_stop_list_or_serve(built_mini, tmp_path):
    project = copy_built(built_mini.project.root, tmp_path / "mini")
    (project / "queries" / "broken.rq").write_text(BROKEN)
    r = _kg("query", "--list", "--project", str(project))
    assert r.returncode == 2 and "queries/broken.rq:2" in r.stderr, r.stderr
    assert "actors" in r.stdout  # the others are listed
    server = start_serve(project)
    try:
        assert any("broken.rq" in line and "left out" in line for line in server.lines)
    finally:
        code, _ = server.stop()
    assert code == 0


# --- finding 28 -----------------------------------------------------------------------------------


def test_two_different_content_lengths_are_a_400(built_mini, tmp_path):
    server = start_serve(copy_built(built_mini.project.root, tmp_path / "mini"))
    try:
        head = (
            b"POST /query HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/sparql-query\r\nContent-Length: 5\r\n"
            b"Content-Length: 50\r\nConnection: close\r\n\r\nASK {}" % server.port
        )
        answer = _raw(server.port, head)
        assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length" in answer, answer
    finally:
        server.stop()


def test_control_characters_in_param_notes_are_escaped(built_copy):
    r = _kg("query", "evidence", "--param", "node=kgr:x\u202ey\u200b", "--project",
            str(built_copy.root))  # fmt: skip
    assert "\u202e" not in r.stderr and "\u200b" not in r.stderr
    assert "\\u202e" in r.stderr, r.stderr


def test_an_update_in_a_query_file_is_named_as_such(built_copy):
    path = built_copy.root / "queries" / "upd.rq"
    path.write_text("PREFIX ex: <http://x.example/>\nINSERT DATA { ex:a ex:b ex:c }\n")
    r = _kg("query", "upd", "--project", str(built_copy.root))
    assert r.returncode == 2 and "INSERT is an update" in r.stderr, r.stderr
