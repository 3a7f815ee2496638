"""Render query results as an aligned table, CSV or JSON.

Table widths count East Asian wide characters as two columns, so Chinese labels line up.
CSV and JSON give every column a `<column>_iri` column beside it (the IRI, when the value is
one): the header depends on the query only, never on the answer.
Each format is also produced in pieces (`chunks`), so a streamed answer is written as its rows
come: CSV and JSON row by row, the table once its first page has fixed the column widths.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator

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


# Characters a terminal acts on instead of showing: C0 and C1 controls, line and paragraph
# separators, and the bidirectional embeddings, overrides and isolates (which can make a cell
# read backwards). In a table cell they are shown as escapes; CSV and JSON keep every character.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match) -> str:
    return m.group().encode("unicode_escape").decode("ascii")


def _one_line(text: str) -> str:
    """A cell as one line of plain text: a line break (CR LF, LF or CR) is shown as ↵, a tab as
    a space, any other control character as its escape (\x1b, \u202e)."""
    text = text.replace("\r\n", "↵").replace("\n", "↵").replace("\r", "↵").replace("\t", " ")
    return _UNSAFE.sub(_escape, text)


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()


def table_chunks(result: QueryResult) -> Iterator[str]:
    """The table, in pieces: header and first page, then one piece per later batch.

    Widths come from the header and the first page (all rows, unless the answer is streamed);
    a longer cell further down pushes its row's later columns right rather than being cut.
    """
    header = result.columns
    body = [[_one_line(c.text) for c in row] for row in result.rows]
    widths = [
        max([display_width(h)] + [display_width(r[i]) for r in body]) for i, h in enumerate(header)
    ]
    lines = [_line(header, widths), "  ".join("-" * w for w in widths)]
    lines += [_line(r, widths) for r in body]
    n = len(body)
    if result.more is not None:
        yield "\n".join(lines) + "\n"
        lines = []
        for batch in result.more:
            n += len(batch)
            yield "".join(_line([_one_line(c.text) for c in r], widths) + "\n" for r in batch)
    rows = f"{n} row{'s' if n != 1 else ''}"
    if result.more is not None:
        rows += f"; columns sized on the first {len(body)}"
    lines.append(f"({rows})")
    yield "\n".join(lines) + "\n"


def render_table(result: QueryResult) -> str:
    return "".join(table_chunks(result))


class _Flattener:
    """Rows as flat records: every column is followed by `<column>_iri`, the IRI when the value
    is one, empty (CSV) or null (JSON) otherwise.

    Every column, always: the header is then fixed by the query's columns, never by the
    answer. Which columns can hold an IRI is not known before the rows come (a variable may
    be bound to an IRI in one row and a literal in the next, or `COALESCE(?iri, "text")`),
    and a header that depends on the rows changes between runs, stores and empty answers.
    """

    def __init__(self, result: QueryResult, unbound=None, typed: bool = False):
        self.result = result
        self.unbound = unbound
        self.typed = typed
        self.names: list[str] = []
        for c in result.columns:
            self.names += [c, f"{c}_iri"]

    def values(self, row) -> list:
        flat = []
        for cell in row:
            if not cell.bound:
                flat.append(self.unbound)
            else:
                flat.append(cell.value if self.typed and cell.value is not None else cell.text)
            flat.append(cell.iri if cell.iri else self.unbound)
        return flat

    def record(self, row) -> dict:
        return dict(zip(self.names, self.values(row), strict=True))

    def all_rows(self) -> Iterator[list]:
        """Batches of rows: the first page, then the rest as it comes."""
        if self.result.rows:
            yield self.result.rows
        if self.result.more is not None:
            yield from self.result.more


def _records(
    result: QueryResult, unbound=None, typed: bool = False
) -> tuple[list[str], list[list]]:
    """Flat columns, with `<column>_iri` right after each column."""
    flat = _Flattener(result, unbound, typed)
    return flat.names, [flat.values(row) for row in result.rows]


def _csv_field(value: str) -> str:
    # As csv.writer quotes (QUOTE_MINIMAL), and also on a lone CR, which csv.writer leaves bare
    # when the line terminator is LF: a reader would break the row there.
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_line(values: list) -> str:
    if values == [""]:
        return '""\n'  # a row of one empty field, not a blank line
    return ",".join(_csv_field(v) for v in values) + "\n"


def csv_chunks(result: QueryResult) -> Iterator[str]:
    """CSV (RFC 4180 quoting, LF line ends): the header, then the rows as they come."""
    flat = _Flattener(result, unbound="")
    header = _csv_line(flat.names)
    for batch in flat.all_rows():
        yield header + "".join(_csv_line(flat.values(row)) for row in batch)
        header = ""
    if header:
        yield header


def render_csv(result: QueryResult) -> str:
    return "".join(csv_chunks(result))


def json_chunks(result: QueryResult) -> Iterator[str]:
    """A JSON array of records, written record by record; the same bytes as one json.dumps
    with indent=2."""
    flat = _Flattener(result, typed=True)
    first = True
    for batch in flat.all_rows():
        parts = []
        for row in batch:
            text = json.dumps(flat.record(row), ensure_ascii=False, indent=2)
            parts.append(("[\n  " if first else ",\n  ") + text.replace("\n", "\n  "))
            first = False
        yield "".join(parts)
    yield "[]\n" if first else "\n]\n"


def render_json(result: QueryResult) -> str:
    return "".join(json_chunks(result))


CHUNKS = {"table": table_chunks, "csv": csv_chunks, "json": json_chunks}


def chunks(result: QueryResult, fmt: str = "table") -> Iterator[str]:
    """The rendered answer in pieces, for writing as the rows come."""
    return CHUNKS[fmt](result)


def render(result: QueryResult, fmt: str = "table") -> str:
    return "".join(chunks(result, fmt))
