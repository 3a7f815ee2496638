"""The README documents what the tool does: a command or stored query it omits fails here."""

from __future__ import annotations

import re
from pathlib import Path

from kg.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _quickstart_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", _section("Quickstart"), flags=re.S)
    assert block, "the Quickstart has no ```sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _subcommands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._subparsers._group_actions]  # argparse keeps them here
    return sorted(name for action in actions for name in action.choices)


def test_readme_opens_with_what_the_project_is():
    first_paragraph = " ".join(README.split("\n\n", 2)[1].split())
    assert "knowledge graph" in first_paragraph and "article" in first_paragraph


def test_quickstart_is_exactly_two_commands():
    commands = _quickstart_commands()
    assert len(commands) == 2, commands
    main_job, tests = commands
    assert "kg build" in main_job and "kg query" in main_job
    assert "[test]" in tests and "pytest" in tests


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _quickstart_commands()[1] in ci


def test_every_command_is_documented_with_an_example():
    for name in _subcommands():
        heading = re.search(rf"^### `kg {name}\b.*$", README, flags=re.M)
        assert heading, f"README has no '### `kg {name}`' section"
        body = README[heading.end() :].split("\n### ", 1)[0]
        assert f"$ kg {name}" in body, f"the `kg {name}` section shows no example run"


def test_every_stored_query_is_listed():
    for path in sorted((ROOT / "queries").glob("*.rq")):
        assert f"| `{path.stem}` |" in README, f"{path.stem} is missing from the README's list"


def test_every_help_has_an_example():
    parser = build_parser()
    assert "example" in parser.format_help()
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            assert "example" in sub.format_help(), f"`kg {name} --help` has no example"
