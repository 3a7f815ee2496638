"""Command line: each `kg <verb>` parses arguments, calls one library function, prints.

Exit codes: 0 success / conforms, 1 does not conform or evidence problems, 2 usage or input
error. Mistakes a person can fix are printed as one message, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from kg import __version__
from kg.errors import EXIT_OK, EXIT_PROBLEMS, KgError


def _notify(message: str) -> None:
    print(f"kg: {message}", file=sys.stderr)


def _project(args):
    from kg.project import locate

    return locate(getattr(args, "project", None))


def cmd_build(args) -> int:
    from kg.build import build

    result = build(_project(args), force=args.force)
    print(result.summary_text())
    return EXIT_OK if result.conforms else EXIT_PROBLEMS


def cmd_validate(args) -> int:
    from kg.build import validation_report

    report = validation_report(_project(args), notify=_notify)
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.render_text())
    return EXIT_OK if report.conforms else EXIT_PROBLEMS


def _params(parser, pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name:
            parser.error(f"--param expects NAME=VALUE, got '{pair}'")
        if name in out:
            parser.error(f"--param {name} given twice")
        out[name] = value
    return out


def _list_queries(args) -> int:
    from kg.query import list_queries

    queries = list_queries(_project(args))
    if args.format == "json":
        rows = [
            {
                "name": q.name,
                "question": q.question,
                "params": [
                    {"name": p.name, "type": p.type, "description": p.description} for p in q.params
                ],
                "columns": list(q.columns),
            }
            for q in queries
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not queries:
        print("no stored queries (queries/*.rq)")
        return EXIT_OK
    width = max(len(q.name) for q in queries)
    for q in queries:
        params = " ".join(f"{p.name}={p.type}" for p in q.params)
        print(f"{q.name:<{width}}  {q.question}" + (f"  [{params}]" if params else ""))
    return EXIT_OK


def cmd_query(args) -> int:
    if args.list:
        if args.name:
            args.parser.error("give a query name or --list, not both")
        return _list_queries(args)
    if not args.name:
        args.parser.error("which query? give NAME_OR_FILE, or --list to see them")
    from kg.format import render
    from kg.query import run

    params = _params(args.parser, args.param)
    result = run(_project(args), args.name, params, lang=args.lang, notify=_notify)
    for note in result.notes:
        _notify(note)
    sys.stdout.write(render(result, args.format))
    return EXIT_OK


def cmd_stats(args) -> int:
    from kg.stats import stats

    result = stats(_project(args), notify=_notify)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(result.render_text())
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--project",
        metavar="DIR",
        default=argparse.SUPPRESS,  # so a value given before the verb is not overwritten
        help="project folder (default: the current folder or the nearest parent with "
        "ontology/ and data/)",
    )
    parser = argparse.ArgumentParser(
        prog="kg",
        parents=[common],
        description="Build, validate and query a grounded knowledge graph from a project folder.",
        epilog="example:\n  kg build && kg query --list\n\n"
        "exit codes: 0 success/conforms, 1 does not conform or evidence problems, "
        "2 usage or input error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, func, help_text, epilog):
        p = sub.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func, parser=p)
        return p

    p = add(
        "build",
        cmd_build,
        "Load, anchor evidence, infer and validate; write the cache under build/.",
        "example:\n  kg build\n  kg build --force --project path/to/project\n\n"
        "Reuses build/ when no source changed. Exit 1 if the data does not conform or a "
        "quote cannot be anchored, 2 on a malformed file.",
    )
    p.add_argument("--force", action="store_true", help="rebuild even if the cache is fresh")

    p = add(
        "validate",
        cmd_validate,
        "Print the SHACL validation report; exit 1 when the data does not conform.",
        "example:\n  kg validate\n  kg validate --format json > report.json",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = add(
        "query",
        cmd_query,
        "Run a stored query (queries/NAME.rq or a .rq file) over all graphs.",
        "examples:\n  kg query --list\n  kg query us-demands --lang zh --format csv\n"
        "  kg query my-question.rq --param node=kgr:talks-2026-02-06 --format json\n\n"
        "IRI parameters accept a full IRI, a prefixed name (kgr:x) or a bare kgr: local name.",
    )
    p.add_argument("name", nargs="?", metavar="NAME_OR_FILE", help="stored query name or path")
    p.add_argument("--list", action="store_true", help="list stored queries with their question")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="bind a query parameter (repeatable)",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="label language")

    p = add(
        "stats",
        cmd_stats,
        "Print triples per graph, instances per kg: class and evidence counts.",
        "example:\n  kg stats\n  kg stats --format json",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KgError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # `kg query ... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
