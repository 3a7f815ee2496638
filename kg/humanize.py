"""Values as people write them: durations, and column headers in the reader's language."""

from __future__ import annotations

import functools
import re
from pathlib import Path

_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_UNITS = {
    "en": ("y", "mo", "wk", "d", "h", "min", "s"),
    "zh": ("年", "个月", "周", "天", "小时", "分钟", "秒"),
}
COLUMNS_FILE = "columns.tsv"  # queries/columns.tsv: column<TAB>English<TAB>Chinese


def duration_text(lexical: str, lang: str = "en") -> str:
    """An xsd:duration as people write it: PT8H → "8 h" (en) or "8小时" (zh); a form this does
    not read is returned as it is."""
    text = lexical.strip()
    m = _DURATION.fullmatch(text)
    if not m or not any(m.groups()[1:]):
        return lexical
    units = _UNITS.get(lang, _UNITS["en"])
    space, join = ("", "") if lang == "zh" else (" ", " ")
    parts = [f"{n}{space}{u}" for n, u in zip(m.groups()[1:], units, strict=True) if n]
    return ("-" if m.group(1) else "") + join.join(parts)


@functools.lru_cache(maxsize=8)
def _column_table(path: Path, mtime: float) -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) >= 3:
            table[cells[0].strip()] = (cells[1].strip(), cells[2].strip())
    return table


def column_labels(queries_dir: Path) -> dict[str, tuple[str, str]]:
    """Column name → (English, Chinese) header, from the project's queries/columns.tsv."""
    path = queries_dir / COLUMNS_FILE
    try:
        return _column_table(path, path.stat().st_mtime)
    except (OSError, UnicodeDecodeError):
        return {}


def column_label(queries_dir: Path, name: str, lang: str) -> str:
    """The header of column `name` in `lang`; the column's own name where none is given."""
    labels = column_labels(queries_dir).get(name)
    if labels is None:
        return name
    return (labels[1] if lang == "zh" else labels[0]) or name
