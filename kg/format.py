"""Render query results as an aligned table, CSV or JSON.

Table widths count East Asian wide characters as two columns, so Chinese labels line up.
CSV and JSON keep the IRI of every IRI-holding column in a `<column>_iri` column beside it.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from kg.query import QueryResult

FORMATS = ("table", "csv", "json")


def display_width(text: str) -> int:
    """Terminal columns taken by `text`: wide/fullwidth characters count 2, combining 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _one_line(text: str) -> str:
    # A newline inside a cell would break the table's rows apart.
    return text.replace("\r\n", "↵").replace("\n", "↵").replace("\t", " ")


def render_table(result: QueryResult) -> str:
    header = result.columns
    body = [[_one_line(c.text) for c in row] for row in result.rows]
    widths = [
        max([display_width(h)] + [display_width(r[i]) for r in body]) for i, h in enumerate(header)
    ]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    n = len(body)
    lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"


def _records(
    result: QueryResult, unbound=None, typed: bool = False
) -> tuple[list[str], list[list]]:
    """Flat columns, with `<column>_iri` right after each column that holds IRIs."""
    iri_cols = result.iri_columns()
    names: list[str] = []
    for c in result.columns:
        names.append(c)
        if c in iri_cols:
            names.append(f"{c}_iri")
    rows = []
    for row in result.rows:
        flat = []
        for c, cell in zip(result.columns, row, strict=True):
            if not cell.bound:
                flat.append(unbound)
            else:
                flat.append(cell.value if typed and cell.value is not None else cell.text)
            if c in iri_cols:
                flat.append(cell.iri if cell.iri else unbound)
        rows.append(flat)
    return names, rows


def render_csv(result: QueryResult) -> str:
    names, rows = _records(result, unbound="")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(rows)
    return buf.getvalue()


def render_json(result: QueryResult) -> str:
    names, rows = _records(result, typed=True)
    records = [dict(zip(names, r, strict=True)) for r in rows]
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def render(result: QueryResult, fmt: str = "table") -> str:
    renderers = {"table": render_table, "csv": render_csv, "json": render_json}
    return renderers[fmt](result)
