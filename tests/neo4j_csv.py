"""Read a neo4j-admin import bundle with neo4j-admin's CSV rules, independently of kg's writer.

The rules (Neo4j 5 operations manual, "Import" / "CSV header format", default options unless
the command says otherwise): comma delimiter; `"` quotes a field and `""` inside is one quote
(RFC 4180; not legacy-style, so a backslash is an ordinary character); a line break inside a
quoted field only with --multiline-fields=true; header entries `name:type`, `name:ID(space)`,
`:LABEL`, `:START_ID(space)`, `:END_ID(space)`, `:TYPE`; types long/int/short/byte (integer),
boolean (`true`, any case, else false), string, double/float, and `type[]` arrays split on the
array delimiter; an empty unquoted field is no property, a quoted empty field `""` an empty
string (--ignore-empty-strings=false); an ID is also stored as the property `name` unless the
header gives none; ids are unique per ID space and every relationship end must exist there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = re.compile(
    r"^(?P<name>[^:]*)(?::(?P<type>[A-Za-z_]+(?:\[\])?)(?:\((?P<space>[^)]*)\))?)?$"
)
_INTEGERS = {"long", "int", "short", "byte"}


class BundleError(AssertionError):
    pass


def parse_csv(text: str, *, multiline: bool, where: str) -> list[list[tuple[str, bool]]]:
    """Rows of (value, was_quoted) fields."""
    rows: list[list[tuple[str, bool]]] = []
    i, n, line = 0, len(text), 1
    while i < n:
        row: list[tuple[str, bool]] = []
        while True:
            if i < n and text[i] == '"':
                i += 1
                buf = []
                while True:
                    if i >= n:
                        raise BundleError(f"{where}:{line}: unterminated quote")
                    c = text[i]
                    if c == '"':
                        if i + 1 < n and text[i + 1] == '"':
                            buf.append('"')
                            i += 2
                            continue
                        i += 1
                        break
                    if c == "\n":
                        if not multiline:
                            raise BundleError(f"{where}:{line}: line break in a field")
                        line += 1
                    buf.append(c)
                    i += 1
                row.append(("".join(buf), True))
                if i < n and text[i] not in ",\n":
                    raise BundleError(f"{where}:{line}: characters after a closing quote")
            else:
                j = i
                while j < n and text[j] not in ",\n":
                    if text[j] == '"':
                        raise BundleError(f"{where}:{line}: quote inside an unquoted field")
                    j += 1
                row.append((text[i:j], False))
                i = j
            if i < n and text[i] == ",":
                i += 1
                continue
            i += 1  # the line break (or the end)
            line += 1
            break
        rows.append(row)
    return rows


@dataclass
class Column:
    name: str  # property name ("" for :LABEL, :TYPE, ...)
    kind: str  # ID, LABEL, START_ID, END_ID, TYPE or the property type
    space: str | None = None


def parse_header(fields: list[tuple[str, bool]], where: str) -> list[Column]:
    cols = []
    for text, _ in fields:
        m = _HEADER.match(text)
        if not m:
            raise BundleError(f"{where}: bad header entry {text!r}")
        name, kind, space = m["name"], m["type"] or "string", m["space"]
        cols.append(Column(name, kind, space))
        base = kind.removesuffix("[]")
        known = {"ID", "LABEL", "TYPE", "START_ID", "END_ID", "string", "boolean", "double",
                 "float"} | _INTEGERS  # fmt: skip
        if base not in known:
            raise BundleError(f"{where}: unknown type {kind!r} in {text!r}")
    return cols


def convert(value: str, quoted: bool, kind: str, delimiter: str):
    if kind.endswith("[]"):
        base = kind[:-2]
        return [convert(v, True, base, delimiter) for v in value.split(delimiter)]
    if kind in _INTEGERS:
        return int(value)
    if kind == "boolean":
        return value.lower() == "true"
    if kind in ("double", "float"):
        return float(value)
    return value


@dataclass
class Imported:
    nodes: dict[str, tuple[list[str], dict]] = field(default_factory=dict)  # id -> labels, props
    rels: list[tuple[str, str, str, dict]] = field(default_factory=list)  # start, type, end


def read_bundle(folder: Path, *, node_files, rel_files, delimiter: str, multiline: bool):
    """What `neo4j-admin database import full --nodes=… --relationships=…` would create."""
    out = Imported()
    spaces: dict[str, set[str]] = {}
    for rel in node_files:
        rows = parse_csv((folder / rel).read_text("utf-8"), multiline=multiline, where=rel)
        cols = parse_header(rows[0], rel)
        if [c.kind for c in cols].count("ID") != 1:
            raise BundleError(f"{rel}: a node file needs exactly one :ID column")
        for r, row in enumerate(rows[1:], start=2):
            if len(row) != len(cols):
                raise BundleError(f"{rel}:{r}: {len(row)} fields, header has {len(cols)}")
            labels, props, node_id = [], {}, None
            for col, (value, quoted) in zip(cols, row, strict=True):
                if col.kind == "ID":
                    node_id = value
                    space = spaces.setdefault(col.space or "", set())
                    if value in space:
                        raise BundleError(f"{rel}:{r}: duplicate id {value}")
                    space.add(value)
                    if col.name:
                        props[col.name] = value
                elif col.kind == "LABEL":
                    labels = [x for x in value.split(delimiter) if x]
                elif value == "" and not quoted:
                    continue  # no property
                else:
                    props[col.name] = convert(value, quoted, col.kind, delimiter)
            out.nodes[node_id] = (labels, props)
    for rel in rel_files:
        rows = parse_csv((folder / rel).read_text("utf-8"), multiline=multiline, where=rel)
        cols = parse_header(rows[0], rel)
        for r, row in enumerate(rows[1:], start=2):
            if len(row) != len(cols):
                raise BundleError(f"{rel}:{r}: {len(row)} fields, header has {len(cols)}")
            start = end = rtype = None
            props = {}
            for col, (value, quoted) in zip(cols, row, strict=True):
                if col.kind in ("START_ID", "END_ID"):
                    if value not in spaces.get(col.space or "", ()):
                        raise BundleError(f"{rel}:{r}: {col.kind} {value} is no node")
                    if col.kind == "START_ID":
                        start = value
                    else:
                        end = value
                elif col.kind == "TYPE":
                    rtype = value
                elif value == "" and not quoted:
                    continue
                else:
                    props[col.name] = convert(value, quoted, col.kind, delimiter)
            out.rels.append((start, rtype, end, props))
    return out
