"""Render query results as an aligned table, CSV or JSON.

Table widths count East Asian wide characters as two columns, so Chinese labels line up.
CSV and JSON give every column a `<column>_iri` column beside it (the IRI, when the value is
one): the header depends on the query only, never on the answer.
Each format is also produced in pieces (`chunks`), so a streamed answer is written as its rows
come: CSV and JSON row by row, the table once its first page has fixed the column widths.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from kg.query import QueryResult

FORMATS = ("table", "csv", "json")


@functools.lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


_widths: dict[str, int] = {}  # an answer repeats its cells: each text is measured once


def display_width(text: str) -> int:
    """Terminal columns taken by `text`: wide/fullwidth characters count 2, combining 0."""
    if text.isascii():
        return len(text)
    width = _widths.get(text)
    if width is None:
        width = sum(map(_char_width, text))
        if len(_widths) > 100_000:
            _widths.clear()
        _widths[text] = width
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


MIN_COLUMN = 8  # a column squeezed to fit the terminal keeps at least this many (or its own)


@dataclass(frozen=True)
class TableLayout:
    """How a table is laid out: `width` fits it to that many terminal columns (None: as wide as
    its cells), cutting long cells with … or, with `wrap`, wrapping them over several lines;
    `headers` replace the column names in the header line (a translation)."""

    width: int | None = None
    wrap: bool = False
    headers: tuple[str, ...] | None = None


def fit_widths(natural: list[int], total: int) -> list[int]:
    """Column widths that fit `total` terminal columns (two spaces between columns): narrow
    columns keep their width, the wide ones share what is left equally."""
    avail = total - 2 * (len(natural) - 1)
    if sum(natural) <= avail:
        return list(natural)
    widths = [min(w, MIN_COLUMN) for w in natural]
    left = avail - sum(widths)
    wanting = sorted((i for i, w in enumerate(natural) if w > widths[i]), key=lambda i: natural[i])
    for n, i in enumerate(wanting):
        if left <= 0:
            break
        share = left // (len(wanting) - n)
        more = min(natural[i] - widths[i], share)
        widths[i] += more
        left -= more
    return widths


def _clip(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns, ending in … when it was cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` terminal columns, broken after a space if one is
    near the end of the line, else between characters (Chinese has no spaces)."""
    if display_width(text) <= width:
        return [text]
    lines, line, used = [], [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > width and line:
            cut = "".join(line)
            space = cut.rfind(" ")
            if space > width // 2:
                lines.append(cut[:space])
                line, used = list(cut[space + 1 :]), display_width(cut[space + 1 :])
            else:
                lines.append(cut)
                line, used = [], 0
        line.append(ch)
        used += w
    lines.append("".join(line))
    return lines


def _shown(cell) -> str:
    return _one_line(cell.shown if cell.shown is not None else cell.text)


def table_chunks(result: QueryResult, layout: TableLayout | None = None) -> Iterator[str]:
    """The table, in pieces: header and first page, then one piece per later batch.

    Widths come from the header and the first page (all rows, unless the answer is streamed).
    As wide as the cells, a longer cell further down pushes its row's later columns right
    rather than being cut; fitted to a width, every cell is cut (or wrapped) to its column.
    """
    layout = layout or TableLayout()
    header = list(layout.headers or result.columns)
    body = [[_shown(c) for c in row] for row in result.rows]
    widths = [
        max([display_width(h)] + [display_width(r[i]) for r in body]) for i, h in enumerate(header)
    ]
    fitted = layout.width is not None and sum(widths) + 2 * (len(widths) - 1) > layout.width
    if fitted:
        widths = fit_widths(widths, layout.width)

    def lines_of(cells: list[str]) -> list[str]:
        if not fitted:
            return [_line(cells, widths)]
        if not layout.wrap:
            return [_line([_clip(c, w) for c, w in zip(cells, widths, strict=True)], widths)]
        parts = [_wrap(c, w) for c, w in zip(cells, widths, strict=True)]
        height = max(len(p) for p in parts)
        return [_line([p[k] if k < len(p) else "" for p in parts], widths) for k in range(height)]

    lines = lines_of(header) + ["  ".join("-" * w for w in widths)]
    for r in body:
        lines += lines_of(r)
    n = len(body)
    if result.more is not None:
        yield "\n".join(lines) + "\n"
        lines = []
        for batch in result.more:
            n += len(batch)
            yield "".join(line + "\n" for r in batch for line in lines_of([_shown(c) for c in r]))
    rows = f"{n} row{'s' if n != 1 else ''}"
    if result.more is not None:
        rows += f"; columns sized on the first {len(body)}"
    if fitted:
        rows += f"; fitted to {layout.width} columns (--wide shows every cell whole)"
    lines.append(f"({rows})")
    yield "\n".join(lines) + "\n"


def render_table(result: QueryResult, layout: TableLayout | None = None) -> str:
    return "".join(table_chunks(result, layout))


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


def chunks(
    result: QueryResult, fmt: str = "table", layout: TableLayout | None = None
) -> Iterator[str]:
    """The rendered answer in pieces, for writing as the rows come."""
    if fmt == "table":
        return table_chunks(result, layout)
    return CHUNKS[fmt](result)


def render(result: QueryResult, fmt: str = "table") -> str:
    return "".join(chunks(result, fmt))
