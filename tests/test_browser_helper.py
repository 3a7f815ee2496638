"""The browser-test helper: no Chromium means skip with the install command, except in CI."""

from __future__ import annotations

import pytest
from browser import INSTALL, REQUIRE_ENV, chromium_path, require_chromium


def test_a_missing_browser_skips_with_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("KG_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    assert chromium_path() is None
    with pytest.raises(pytest.skip.Exception, match=INSTALL):
        require_chromium()


def test_ci_turns_a_missing_browser_into_a_failure(monkeypatch, tmp_path):
    monkeypatch.setenv("KG_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=INSTALL):
        require_chromium()


def test_chromium_is_found_on_path(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.delenv("KG_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(fake.parent))
    assert chromium_path() == fake
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium_path() is None
