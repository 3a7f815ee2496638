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
from kg.errors import EXIT_OK, EXIT_PROBLEMS, KgAnchorError, KgError


def _notify(message: str) -> None:
    print(f"kg: {message}", file=sys.stderr)


def _project(args):
    from kg.project import locate

    return locate(getattr(args, "project", None))


def _changed_sources(args, error: KgAnchorError) -> list[str]:
    """Source texts that changed since the last good build, with the quotes that no longer
    match them: evidence problems after an edit of the text, not of the data."""
    from kg import cache

    try:
        project = _project(args)
    except KgError:
        return []
    manifest = cache.read_manifest(project)
    lines = []
    for rel, digest in sorted((manifest or {}).get("sources", {}).items()):
        if not rel.endswith(".txt"):
            continue
        try:
            same = cache.sha256_file(project.root / rel) == digest
        except OSError:
            same = False
        hits = [p for p in error.problems if rel in p.message]
        if not same and hits:
            quotes = "; ".join(f'"{p.text}"' for p in hits if p.text)
            lines.append(
                f"{rel} changed since the last good build: {len(hits)} quote(s) anchored in it "
                f"no longer match ({quotes}): correct them, or restore the text"
            )
    return lines


def cmd_build(args) -> int:
    from kg.build import build
    from kg.progress import Progress

    # Stage, items done and rate on a terminal; nothing when stderr is piped or redirected.
    result = build(_project(args), force=args.force, progress=Progress.auto())
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


def _positive(kind, unit: str):
    """An argparse type: a positive int or float."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of {unit}, got '{text}'") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number of {unit}, got '{text}'")
        return value

    return convert


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
    from kg.format import chunks
    from kg.query import run

    params = _params(args.parser, args.param)
    if args.endpoint:
        from kg.store import run_remote

        result = run_remote(
            _project(args),
            args.name,
            params,
            endpoint=args.endpoint,
            lang=args.lang,
            timeout=args.timeout,
            limit=args.limit,
            notify=_notify,
        )
    else:
        result = run(
            _project(args),
            args.name,
            params,
            lang=args.lang,
            notify=_notify,
            timeout=args.timeout,
            limit=args.limit,
            stream=True,
        )
    for note in result.notes:
        _notify(note)
    for chunk in chunks(result, args.format):  # a streamed answer is written as it comes
        sys.stdout.write(chunk)
        sys.stdout.flush()
    for note in result.after:
        _notify(note)
    return EXIT_OK


def cmd_stats(args) -> int:
    from kg.stats import stats

    result = stats(_project(args), notify=_notify)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(result.render_text())
    return EXIT_OK


def cmd_export(args) -> int:
    from kg.export import export_project

    export_project(
        _project(args),
        format=args.format,
        graphs=args.graph,
        inferred=args.inferred,
        frame=args.frame,
        output=args.output,
        stream=sys.stdout.buffer,  # written as it is made when there is no -o FILE
        notify=_notify,
    )
    return EXIT_OK


def cmd_load(args) -> int:
    from kg.store import load

    report = load(
        _project(args),
        args.endpoint,
        query_endpoint=args.query_endpoint,
        graphs=args.graph,
        dry_run=args.dry_run,
        timeout=args.timeout,
        notify=_notify,
    )
    sys.stdout.write(report.render_text())
    sys.stdout.flush()
    if report.error:
        print(f"kg: error: {report.error}", file=sys.stderr)
    return report.exit_code


def cmd_serve(args) -> int:
    from kg.serve import serve

    return serve(
        _project(args),
        host=args.host,
        port=args.port,
        pages_port=args.pages_port,
        timeout_s=args.timeout,
        out=lambda text: print(text, flush=True),
        notify=_notify,
    )


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
        "IRI parameters accept a full IRI, a prefixed name (kgr:x) or a bare kgr: local name.\n"
        "Exit 1 if the query names a kg:/kgi:/kgt:/kgr: term the project does not define; 2 on\n"
        "an unknown query, a syntax error, a bad parameter or a query still running at --timeout.",
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
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="run it on this SPARQL endpoint (e.g. http://127.0.0.1:7878/query) instead of the "
        "local build; credentials from KG_ENDPOINT_USER/KG_ENDPOINT_PASSWORD, "
        "KG_ENDPOINT_TOKEN or netrc",
    )
    p.add_argument(
        "--timeout",
        type=_positive(float, "seconds"),
        default=30.0,
        metavar="S",
        help="stop the query after S seconds, exit 2 (default 30); with --endpoint: seconds "
        "per request",
    )
    p.add_argument(
        "--limit",
        type=_positive(int, "rows"),
        metavar="N",
        help="at most N rows (CSV and JSON are written row by row as the query runs)",
    )

    p = add(
        "stats",
        cmd_stats,
        "Print triples per graph, instances per kg: class and evidence counts.",
        "example:\n  kg stats\n  kg stats --format json",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = add(
        "export",
        cmd_export,
        "Write the build in a standard RDF syntax: Turtle, TriG, N-Triples, N-Quads, RDF/XML "
        "or JSON-LD (plain or framed by event).",
        "examples:\n  kg export --format ttl --graph shared\n"
        "  kg export -o graph.trig\n"
        "  kg export --format jsonld --frame events --no-inferred -o talks.jsonld\n\n"
        "All graphs by default, the inferred one included (--no-inferred drops it).\n"
        "Turtle, N-Triples, RDF/XML and framed JSON-LD have no named graphs: they merge\n"
        "the selected ones and say which on stderr (and in a comment where they can).\n"
        "The same build gives the same bytes; -o replaces a file only once the new one is\n"
        "complete. Exit 2 on an unknown format or graph, or a path that cannot be written.",
    )
    p.add_argument(
        "--format",
        metavar="FORMAT",
        help="turtle (ttl), trig, ntriples (nt), nquads (nq), rdfxml (rdf/xml) or jsonld "
        "(default: from the -o file's extension)",
    )
    p.add_argument(
        "--graph",
        action="append",
        default=[],
        metavar="NAME",
        help="only this graph: ontology, shared, inferred, article/<id> or <id>, "
        "enrichment/<name>, or a full IRI (repeatable; default all)",
    )
    p.add_argument(
        "--inferred",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="include the inferred graph (default: yes, unless --graph leaves it out)",
    )
    p.add_argument(
        "--frame",
        choices=("events",),
        help="JSON-LD framed for reading: one object per event with its participations and "
        "evidence nested",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write (replaced atomically); - or none: standard output",
    )

    p = add(
        "load",
        cmd_load,
        "Replace the build's named graphs in a remote store (SPARQL Graph Store Protocol), "
        "then check the triple counts.",
        "examples:\n  kg load --endpoint http://127.0.0.1:7878/store\n"
        "  kg load --endpoint https://host/ds/data --graph ontology --dry-run\n\n"
        "Each graph is sent whole with HTTP PUT to URL?graph=IRI (PUT replaces it, so loading "
        "twice gives the same store), then counted through the SPARQL endpoint. Credentials "
        "only from KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, KG_ENDPOINT_TOKEN (bearer) or "
        "~/.netrc ($NETRC). Exit 2 when the endpoint cannot be reached or refuses, 1 when a "
        "count differs.",
    )
    p.add_argument(
        "--endpoint",
        required=True,
        metavar="URL",
        help="Graph Store endpoint (for Oxigraph http://host:port/store)",
    )
    p.add_argument(
        "--query-endpoint",
        metavar="URL",
        help="SPARQL endpoint for the counts (default: .../store or .../data -> .../query)",
    )
    p.add_argument(
        "--graph",
        action="append",
        default=[],
        metavar="NAME",
        help="only this graph: its IRI or the part after .../graph/ (repeatable)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be sent; send nothing")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds per request")

    p = add(
        "serve",
        cmd_serve,
        "Serve the build read-only through the Oxigraph SPARQL server, with its query editor "
        "and a page of the stored queries.",
        "examples:\n  kg serve\n  kg serve --port 8000 --pages-port 8001\n\n"
        "SPARQL endpoint at /query, Graph Store reads at /store, the YASGUI editor at /; the "
        "default graph is the union of the named graphs; updates are refused (403). Ctrl-C "
        "stops.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7878, help="SPARQL server port (default 7878)")
    p.add_argument(
        "--pages-port",
        type=int,
        metavar="PORT",
        help="port of the stored-queries page (default: --port + 1; 0 = any free port)",
    )
    p.add_argument(
        "--timeout",
        type=int,
        default=30,
        metavar="S",
        help="seconds a request may take; a query still running then is stopped (HTTP 503) by "
        "restarting the server (default 30)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KgError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        if isinstance(e, KgAnchorError):
            for line in _changed_sources(args, e):
                print(f"kg: error: {line}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # `kg query ... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
