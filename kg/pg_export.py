"""The property-graph projection written for the tools people run: a `neo4j-admin database
import full` bundle (`kg export --format neo4j -o DIR`) and a plain Cypher script
(`kg export --format cypher`) that loads into FalkorDB, Neo4j 5 or Memgraph.

Both come from `kg.graph.project` (docs/cypher.md) and nothing else, so the same build gives the
same bytes. The bundle's layout and CSV rules are in `bundle_files`; the script's in
`cypher_script`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KgError
from kg.graph import RESOURCE, PropertyGraph

BUNDLE_FORMAT = "kg-neo4j-bundle"  # `format` in the bundle's manifest.json
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
ID_SPACE = RESOURCE  # every node id (its IRI) lives in one ID space
ARRAY_DELIMITERS = (";", "|", "\x1f")  # the first that no list value contains
SCRIPT_BATCH = 500  # rows per UNWIND statement of the Cypher script
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class KgPgExportError(KgError):
    """The property-graph export cannot be written where asked (exit 2)."""


# --------------------------------------------------------------------------- neo4j-admin CSV


def _neo4j_type(value: object) -> str:
    """neo4j-admin's header type of a projected value (bool before int: bool is an int)."""
    if isinstance(value, list):
        return _neo4j_type(value[0]) + "[]"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    return "string"


def array_delimiter(pg: PropertyGraph) -> str:
    """The first of `;`, `|`, U+001F that no list element contains (neo4j-admin splits arrays
    on it; labels are joined with it too)."""
    used: set[str] = set()
    for props in [n.props for n in pg.nodes] + [r.props for r in pg.rels]:
        for value in props.values():
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, str):
                        if item == "":
                            raise KgPgExportError(
                                "a list holds an empty string, which neo4j-admin cannot tell "
                                "from a missing element"
                            )
                        used.update(c for c in ARRAY_DELIMITERS if c in item)
    for d in ARRAY_DELIMITERS:
        if d not in used:
            return d
    raise KgPgExportError("every array delimiter (; | U+001F) occurs in some list value")


def _quote(text: str) -> str:
    """RFC 4180 quoting as neo4j-admin reads it (not legacy style: a backslash is literal)."""
    return '"' + text.replace('"', '""') + '"'


def _field(value: object, delimiter: str) -> str:
    """One CSV field. Strings are always quoted, so `""` is an empty string and an empty
    field is a missing property (neo4j-admin's default, --ignore-empty-strings=false)."""
    if value is None:
        return ""
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return _quote(delimiter.join(value))
        return delimiter.join(_scalar(v) for v in value)
    return _quote(value) if isinstance(value, str) else _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _columns(rows: Iterable[dict], what: str) -> list[tuple[str, str]]:
    """(key, neo4j type) for every key of these rows, sorted; one type per key and file."""
    types: dict[str, set[str]] = {}
    for props in rows:
        for key, value in props.items():
            types.setdefault(key, set()).add(_neo4j_type(value))
    clash = {k: sorted(t) for k, t in types.items() if len(t) > 1}
    if clash:
        raise KgPgExportError(f"{what}: a property has several types in one file: {clash}")
    return [(k, next(iter(types[k]))) for k in sorted(types)]


def _file_names(names: Sequence[str]) -> dict[str, str]:
    """File stem per label or type, unique even on a case-insensitive file system."""
    seen: Counter[str] = Counter()
    out = {}
    for name in sorted(names):
        seen[name.lower()] += 1
        n = seen[name.lower()]
        out[name] = name if n == 1 else f"{name}-{n}"
    return out


def primary_label(labels: Sequence[str], count: Counter[str]) -> str:
    """The label whose file holds a node: its rarest label other than Resource (the most
    specific by extension: a subclass never has more members than its class), ties by name."""
    candidates = [x for x in labels if x != RESOURCE]
    return min(candidates, key=lambda x: (count[x], x)) if candidates else RESOURCE


@dataclass
class Bundle:
    files: dict[str, bytes]  # path inside the bundle -> content
    nodes: int
    relationships: int
    delimiter: str


def bundle_files(pg: PropertyGraph, *, dataset_sha: str = "") -> Bundle:
    """Every file of the neo4j-admin bundle, in memory.

    - nodes/<Label>.csv: the nodes whose primary label (see `primary_label`) is Label, header
      `iri:ID(Resource),:LABEL,key:type,…` (all the node's labels in :LABEL, joined with the
      array delimiter); relationships/<TYPE>.csv: `:START_ID(Resource),:END_ID(Resource),:TYPE,
      key:type,…`. Types: long, boolean, string and their arrays (`string[]`).
    - constraints.cypher, README.md (the import command), manifest.json (counts, delimiter).
    """
    delimiter = array_delimiter(pg)
    count = Counter(label for node in pg.nodes for label in node.labels)
    groups: dict[str, list] = {}
    for node in pg.nodes:
        groups.setdefault(primary_label(node.labels, count), []).append(node)
    files: dict[str, bytes] = {}
    node_files, rel_files = [], []
    multiline = False
    stems = _file_names(list(groups))
    for label in sorted(groups):
        nodes = groups[label]
        rows = [{k: v for k, v in n.props.items() if k != "iri"} for n in nodes]
        columns = _columns(rows, f"nodes/{stems[label]}.csv")
        header = [f"iri:ID({ID_SPACE})", ":LABEL"] + [f"{k}:{t}" for k, t in columns]
        lines = [",".join(header)]
        for node, props in zip(nodes, rows, strict=True):
            fields = [_quote(node.iri), delimiter.join(node.labels)]
            fields += [_field(props.get(k), delimiter) for k, _ in columns]
            lines.append(",".join(fields))
        text = "\n".join(lines) + "\n"
        multiline = multiline or text.count("\n") != len(lines)
        path = f"nodes/{stems[label]}.csv"
        files[path] = text.encode("utf-8")
        node_files.append(path)
    by_type: dict[str, list] = {}
    for rel in pg.rels:
        by_type.setdefault(rel.type, []).append(rel)
    stems = _file_names(list(by_type))
    for rtype in sorted(by_type):
        rels = by_type[rtype]
        columns = _columns((r.props for r in rels), f"relationships/{stems[rtype]}.csv")
        header = [f":START_ID({ID_SPACE})", f":END_ID({ID_SPACE})", ":TYPE"]
        header += [f"{k}:{t}" for k, t in columns]
        lines = [",".join(header)]
        for rel in rels:
            fields = [_quote(rel.start), _quote(rel.end), rtype]
            fields += [_field(rel.props.get(k), delimiter) for k, _ in columns]
            lines.append(",".join(fields))
        text = "\n".join(lines) + "\n"
        multiline = multiline or text.count("\n") != len(lines)
        path = f"relationships/{stems[rtype]}.csv"
        files[path] = text.encode("utf-8")
        rel_files.append(path)
    nodes, rels = pg.counts()
    options = {
        "array-delimiter": delimiter,
        "multiline-fields": multiline,
        "id-type": "string",
        "delimiter": ",",
        "quote": '"',
    }
    files["constraints.cypher"] = CONSTRAINTS.encode("utf-8")
    files["README.md"] = _readme(node_files, rel_files, options, nodes, rels).encode()
    manifest = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "dataset_sha256": dataset_sha,
        "nodes": nodes,
        "relationships": rels,
        "options": options,
        "node_files": node_files,
        "relationship_files": rel_files,
    }
    files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode()
    return Bundle(files, nodes, rels, delimiter)


CONSTRAINTS = f"""\
// Constraints and indexes for the kg projection in Neo4j 5 (run once, after the import):
//   cypher-shell -d neo4j -f constraints.cypher
CREATE CONSTRAINT resource_iri IF NOT EXISTS FOR (n:{RESOURCE}) REQUIRE n.iri IS UNIQUE;
CREATE INDEX resource_id IF NOT EXISTS FOR (n:{RESOURCE}) ON (n.id);
CREATE INDEX named_graph_kind IF NOT EXISTS FOR (n:NamedGraph) ON (n.kind);
CREATE INDEX annotation_article IF NOT EXISTS FOR (n:Annotation) ON (n.article);
"""


def _delimiter_arg(d: str) -> str:
    return f'"{d}"' if d in ";|" else f'"U+{ord(d):04X}"'


def import_command(node_files, rel_files, options: dict, database: str = "neo4j") -> str:
    """The neo4j-admin command, one option per line, run from the bundle's folder."""
    lines = [f"neo4j-admin database import full {database}"]
    lines += [f"--nodes={f}" for f in node_files]
    lines += [f"--relationships={f}" for f in rel_files]
    lines.append(f"--array-delimiter={_delimiter_arg(options['array-delimiter'])}")
    lines.append(f"--multiline-fields={'true' if options['multiline-fields'] else 'false'}")
    lines.append("--id-type=string")
    return " \\\n  ".join(lines)


def _readme(node_files, rel_files, options, nodes: int, rels: int) -> str:
    delim = options["array-delimiter"]
    shown = delim if delim in ";|" else f"U+{ord(delim):04X}"
    return f"""\
# kg property graph for Neo4j

The property-graph projection of a kg build ({nodes} nodes, {rels} relationships), as a
`neo4j-admin database import full` bundle.
The mapping from RDF is documented in kg's docs/cypher.md. Written by `kg export --format neo4j`;
do not edit: export again after a new build.

## Import (Neo4j 5, database stopped and empty)

Run from this folder (or give absolute paths):

```sh
{import_command(node_files, rel_files, options)}
```

Then start the database and create the constraints and indexes:

```sh
cypher-shell -d neo4j -f constraints.cypher
```

## Files

- `nodes/<Label>.csv`: one file per *primary label*: a node goes in the file of its rarest
  label other than `Resource` (the most specific one: a subclass never has more members than
  its class; ties by name), and **all** its labels are in the `:LABEL` column. Header
  `iri:ID({ID_SPACE}),:LABEL,key:type,...`: the node's IRI is its id (ID space `{ID_SPACE}`)
  and is stored as the property `iri`.
- `relationships/<TYPE>.csv`: one file per relationship type, header
  `:START_ID({ID_SPACE}),:END_ID({ID_SPACE}),:TYPE,key:type,...`.
- Types: `long`, `boolean`, `string` and arrays of them (`string[]`, `long[]`); dates,
  decimals and durations are strings (their lexical form), as in the projection.
- CSV: comma-separated, UTF-8, fields quoted with `"` (a quote inside is doubled; a backslash is
  an ordinary character), every string quoted: `""` is an empty string, an empty field is a
  missing property. Array delimiter: `{shown}` (no value contains it); labels are joined with it.
  {
        "Some values hold line breaks: hence --multiline-fields=true."
        if options["multiline-fields"]
        else "No value holds a line break."
    }
- `constraints.cypher`: a unique constraint on `:{RESOURCE}(iri)` and indexes on `id`,
  `:NamedGraph(kind)` and `:Annotation(article)`.
- `manifest.json`: counts, options and the list of files, for tools.

kg checks this bundle by reading it back with neo4j-admin's CSV rules and comparing it with the
projection; Neo4j itself is not run by kg's tests (it cannot be installed where they run).
"""


# --------------------------------------------------------------------------- Cypher script


def cypher_literal(value: object) -> str:
    """A Cypher literal that FalkorDB, Neo4j and Memgraph read alike: single-quoted strings
    with the escapes all three know (\\\\ \\' \\n \\r \\t; other characters as they are)."""
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace("'", "\\'")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        return f"'{escaped}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_name(k)}: {cypher_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Cypher literal for {type(value).__name__}")


def _name(name: str) -> str:
    return name if _IDENTIFIER.match(name) else "`" + name.replace("`", "``") + "`"


def cypher_statements(pg: PropertyGraph, *, batch: int = SCRIPT_BATCH) -> Iterable[str]:
    """The script's statements, without their `;`: the iri index, then nodes grouped by label
    set and relationships by type, `batch` rows per literal-list UNWIND, MERGEd on iri."""
    yield f"CREATE INDEX FOR (n:{RESOURCE}) ON (n.iri)"
    by_labels: dict[tuple[str, ...], list[dict]] = {}
    for node in pg.nodes:
        by_labels.setdefault(tuple(node.labels), []).append(node.props)
    for labels in sorted(by_labels):
        rows = by_labels[labels]
        others = "".join(f":{_name(x)}" for x in labels if x != RESOURCE)
        tail = f" AS r MERGE (n:{RESOURCE}{others} {{iri: r.iri}}) SET n = r"
        for i in range(0, len(rows), batch):
            yield f"UNWIND {cypher_literal(rows[i : i + batch])}{tail}"
    by_type: dict[str, list[dict]] = {}
    for rel in pg.rels:
        by_type.setdefault(rel.type, []).append({"s": rel.start, "e": rel.end, "p": rel.props})
    for rtype in sorted(by_type):
        rows = by_type[rtype]
        tail = (
            f" AS r MATCH (a:{RESOURCE} {{iri: r.s}}) MATCH (b:{RESOURCE} {{iri: r.e}}) "
            f"MERGE (a)-[e:{_name(rtype)}]->(b) SET e = r.p"
        )
        for i in range(0, len(rows), batch):
            yield f"UNWIND {cypher_literal(rows[i : i + batch])}{tail}"


def cypher_script(pg: PropertyGraph, *, batch: int = SCRIPT_BATCH) -> bytes:
    """A plain Cypher script recreating the projection: comment lines, then one statement per
    line ending in `;` (cypher-shell -f, mgconsole, or a client sending line by line)."""
    nodes, rels = pg.counts()
    head = [
        f"// kg property graph: {nodes} nodes, "
        f"{rels} relationships (mapping: kg docs/cypher.md). Written by kg export --format cypher.",
        "// One statement per line. Loads into an empty graph of FalkorDB or Neo4j 5; MERGE on",
        "// iri, so running it again changes nothing. The first line creates the iri index;",
        "// Memgraph writes it CREATE INDEX ON :Resource(iri); and it fails harmlessly when the",
        "// index exists (FalkorDB: 'already indexed'): skip it then.",
    ]
    body = [s + ";" for s in cypher_statements(pg, batch=batch)]
    return ("\n".join(head + body) + "\n").encode("utf-8")


def script_statements(text: str) -> list[str]:
    """The statements of a script written by `cypher_script` (comment lines dropped)."""
    return [line[:-1] for line in text.splitlines() if line and not line.startswith("//")]


# --------------------------------------------------------------------------- writing


def _is_bundle(folder: Path) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text("utf-8")).get("format") == BUNDLE_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_bundle_dir(path: str | os.PathLike) -> Path:
    """The bundle folder, if it can be written: new, empty, or a bundle kg wrote before
    (replaced); anything else is refused so that nothing of the user's is lost."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise KgPgExportError(f"cannot write the Neo4j bundle to {target}: it is a file")
    if target.is_dir() and any(target.iterdir()) and not _is_bundle(target):
        raise KgPgExportError(
            f"cannot write the Neo4j bundle to {target}: the folder is not empty and is not a "
            f"bundle kg wrote (no {MANIFEST} of kg); give a new folder"
        )
    parent = target.absolute().parent
    if not parent.is_dir():
        raise KgPgExportError(f"cannot write {target}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise KgPgExportError(f"cannot write {target}: no permission to write in {parent}")
    return target


def write_bundle(bundle: Bundle, path: str | os.PathLike) -> None:
    """Write the files into a temporary folder beside `path`, then swap it in: the old bundle
    stays whole until the new one is complete, and nothing is left behind on failure."""
    target = check_bundle_dir(path).absolute()
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    old = None
    try:
        for rel, data in sorted(bundle.files.items()):
            file = tmp / rel
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
        os.chmod(tmp, 0o777 & ~_umask())
        if target.exists():
            old = target.with_name(f".{target.name}.{os.getpid()}.old")
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
                old = None
            raise
        tmp = None
    except OSError as e:
        raise KgPgExportError(f"cannot write {target}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- kg export


@dataclass
class PgExport:
    data: bytes  # the script (format cypher); empty for the bundle
    nodes: int
    relationships: int
    note: str


def export_project(
    project,
    *,
    format: str,
    output: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> PgExport:
    """`kg export --format neo4j|cypher`: project the current build and write it."""
    from kg.build import ensure_built
    from kg.export import check_output, write_atomic
    from kg.graph import project as project_graph

    if format == "neo4j":
        if output in (None, "-"):
            raise KgPgExportError("--format neo4j writes a folder: give -o DIR")
        check_bundle_dir(output)  # before any (re)build: a wrong path fails fast
    elif output not in (None, "-"):
        check_output(output)
    result = ensure_built(project, notify=notify)
    pg = project_graph(result.dataset)
    if format == "neo4j":
        sha = (result.manifest.get("dataset") or {}).get("sha256", "")
        bundle = bundle_files(pg, dataset_sha=sha)
        write_bundle(bundle, output)
        note = (
            f"wrote a neo4j-admin bundle to {output}: {bundle.nodes} nodes, "
            f"{bundle.relationships} relationships; the import command is in its README.md"
        )
        return PgExport(b"", bundle.nodes, bundle.relationships, note)
    data = cypher_script(pg)
    if output not in (None, "-"):
        write_atomic(output, data)
    nodes, rels = pg.counts()
    return PgExport(data, nodes, rels, f"Cypher script: {nodes} nodes, {rels} relationships")
