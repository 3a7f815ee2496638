"""Exception types. Each carries the exit code the CLI maps it to (pySHACL's convention)."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_PROBLEMS = 1  # does not conform, anchoring failed
EXIT_USAGE = 2  # usage or input error


class KgError(Exception):
    """Base of every error a person can act on; the CLI prints it without a traceback."""

    exit_code = EXIT_USAGE


class KgInputError(KgError):
    """A source file cannot be read or parsed. Names the file, and the line/column if known."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None, column=None
    ):
        self.file = file
        self.line = line
        self.column = column
        self.detail = message
        where = ":".join(str(x) for x in (file, line, column) if x is not None)
        super().__init__(f"{where}: {message}" if where else message)


class KgProjectError(KgError):
    """The folder is not a kg project, or the project layout is broken."""


class KgQueryError(KgError):
    """Unknown stored query, bad parameter, or a query the engine cannot run."""


class KgQueryTimeout(KgQueryError):
    """A query still running at its time limit (--timeout). `abandoned` is True when the engine
    could not be stopped (pyoxigraph cannot interrupt an evaluation): its worker thread runs on
    until the process exits, which the command line then does at once."""

    def __init__(self, message: str, *, abandoned: bool = False):
        self.abandoned = abandoned
        super().__init__(message)


class KgTermError(KgError):
    """Terms used (by a query, or by data) that the project does not define. Exit 1, as for data
    that does not conform: the input is well-formed but refers to nothing."""

    exit_code = EXIT_PROBLEMS

    def __init__(self, problems: list, *, what: str = "the query"):
        self.problems = list(problems)
        lines = [f"{what} uses {len(self.problems)} term(s) the project does not define:"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class KgEndpointError(KgError):
    """A remote SPARQL endpoint cannot be reached, refuses the request or fails.

    The message never holds credentials: URLs in it are redacted, secrets scrubbed.
    """


class KgShapesError(KgError):
    """The shapes graph is not valid SHACL, or no engine can validate it (exit 2)."""


class KgServeError(KgError):
    """The local SPARQL server cannot be started (missing program, port taken ...)."""


@dataclass(frozen=True)
class AnchorProblem:
    """One quote (or article setting) that cannot be anchored in the source text."""

    file: str  # data file, relative to the project
    line: int | None  # line in `file` where the literal is written
    node: str  # IRI of the node carrying the quote
    message: str  # what is wrong, e.g. 'quote not found in data/sources/x.txt'
    text: str = ""  # the quote (or furniture) text concerned

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        shown = f': "{self.text}"' if self.text else ""
        return f"{where}: {self.message}{shown} (node <{self.node}>)"


class KgAnchorError(KgError):
    """Some evidence could not be anchored; carries every problem found, not just the first."""

    exit_code = EXIT_PROBLEMS

    def __init__(self, problems: list[AnchorProblem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} evidence problem(s):"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))
