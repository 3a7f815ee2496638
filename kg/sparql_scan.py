"""What a SPARQL text asks for beyond the local data, found by reading its tokens.

The engines kg runs have no switch to turn federation off (pyoxigraph and the Oxigraph server
both send `SERVICE <url>` requests anywhere; rdflib, pySHACL's engine, also fetches the IRIs
of `FROM`), so kg reads the query first. A regular expression over the text would be fooled by
comments, strings and IRIs (`# SERVICE`, `"SERVICE"`, `<http://x/SERVICE>`) and would miss
`service<…>` written without a space; this scanner splits the text into SPARQL's tokens the way
the grammar does (comments, the four string forms, IRIREF, variables, prefixed names, bare
words) and looks only at the bare words, which are SPARQL's keywords. It errs on the side of
refusal: a bare word SERVICE is a keyword wherever it stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

# One token at a time, in the order the grammar disambiguates them.
_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<long>\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|\Z)|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z))
    | (?P<string>"(?:[^"\\\n\r]|\\.)*(?:"|$)|'(?:[^'\\\n\r]|\\.)*(?:'|$))
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]*)
    | (?P<word>[\w\u00b7\u0300-\u036f\u203f-\u2040.\-:%\\]+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)


class Token(NamedTuple):  # a tuple: kg serve reads every query it passes on, token by token
    kind: str  # iri, var, word (a keyword, number or bare name), pname, string, other
    text: str
    line: int


def tokens(text: str):
    """The tokens of `text` that mean something (no spaces or comments)."""
    line = 1
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind not in ("space", "comment"):
            if kind == "word":
                kind = "pname" if ":" in value.strip(".") else "word"
            elif kind == "long":
                kind = "string"
            yield Token(kind, value, line)
        line += value.count("\n")


@dataclass(frozen=True)
class Remote:
    """One place where a query reaches beyond the local data."""

    keyword: str  # SERVICE, LOAD, FROM, FROM NAMED
    target: str  # the IRI or variable that follows, as written
    line: int

    def __str__(self) -> str:
        return f"{self.keyword} {self.target} (line {self.line})"


def _after(toks: list[Token], i: int) -> str:
    """The IRI, prefixed name or variable written after the keyword at `i` (SILENT skipped)."""
    for t in toks[i + 1 : i + 4]:
        if t.kind == "word" and t.text.upper() in ("SILENT", "NAMED"):
            continue
        return t.text
    return "?"


def service_calls(text: str) -> list[Remote]:
    """Every SERVICE (and LOAD, an update that fetches a URL) the text holds."""
    return _service_calls(list(tokens(text)))


def dataset_clauses(text: str) -> list[Remote]:
    """The FROM and FROM NAMED clauses of the text."""
    return _dataset_clauses(list(tokens(text)))


def remote_parts(text: str) -> tuple[list[Remote], list[Remote]]:
    """service_calls(text) and dataset_clauses(text), from one reading of the text."""
    # A keyword's upper case is part of the text's (str.upper maps character by character):
    # without these words anywhere, there is nothing to find, and no need to read the tokens.
    upper = text.upper()
    if "SERVICE" not in upper and "LOAD" not in upper and "FROM" not in upper:
        return [], []
    toks = list(tokens(text))
    return _service_calls(toks), _dataset_clauses(toks)


def _service_calls(toks: list[Token]) -> list[Remote]:
    return [
        Remote(t.text.upper(), _after(toks, i), t.line)
        for i, t in enumerate(toks)
        if t.kind == "word" and t.text.upper() in ("SERVICE", "LOAD")
    ]


def _dataset_clauses(toks: list[Token]) -> list[Remote]:
    found = []
    for i, t in enumerate(toks):
        if t.kind == "word" and t.text.upper() == "FROM":
            named = i + 1 < len(toks) and toks[i + 1].text.upper() == "NAMED"
            keyword = "FROM NAMED" if named else "FROM"
            found.append(Remote(keyword, _after(toks, i), t.line))
    return found


def has_default_graph_clause(text: str) -> bool:
    """True when the text has a `FROM <g>` (not only FROM NAMED): it sets the default graph."""
    return any(r.keyword == "FROM" for r in dataset_clauses(text))


SERVICE_REFUSED = (
    "it calls a remote SPARQL service ({what}); kg sends no request to the network unless "
    "asked: pass --allow-service to allow it"
)


def select_aliases(text: str) -> set[str]:
    """The names the outermost SELECT clause gives its expressions (`(COUNT(*) AS ?n)` gives
    "n"): the `AS ?x` written before the first `{`. A BIND's `AS`, or a subquery's, is inside
    braces and is not one of them."""
    toks = list(tokens(text))
    names = set()
    for i, t in enumerate(toks):
        if t.kind == "other" and t.text == "{":
            break
        after = toks[i + 1] if i + 1 < len(toks) else None
        if t.kind == "word" and t.text.upper() == "AS" and after and after.kind == "var":
            names.add(after.text[1:])
    return names
