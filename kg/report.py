"""The validation report: structured results and their readable rendering.

Plain data, stored in build/manifest.json, so `kg validate` on a fresh cache needs no pySHACL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from kg import namespaces as ns

SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result, with what a person needs to find and fix it."""

    severity: str  # Violation | Warning | Info
    focus: str  # focus node IRI, or "(blank node)"
    label: str  # its rdfs:label @en ("" if none)
    path: str  # result path, prefixed where possible
    message: str
    file: str | None  # data file where the focus node is defined
    value: str = ""  # the offending value, if reported
    shape: str = ""  # source shape, prefixed
    component: str = ""  # constraint component, e.g. "MinCountConstraintComponent"

    def sort_key(self) -> tuple:
        return (self.file or "~", self.focus, self.path, self.message, self.severity, self.value)


@dataclass
class ValidationReport:
    conforms: bool
    results: list[ValidationResult] = field(default_factory=list)
    shapes_files: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        c = Counter(r.severity for r in self.results)
        return {s: c[s] for s in SEVERITIES if c[s]}

    def counts_text(self) -> str:
        """E.g. "2 violations, 1 warning" ("" when there are no results)."""
        return ", ".join(
            f"{n} {s.lower()}{'' if n == 1 else 's'}" for s, n in self.counts().items()
        )

    def to_dict(self) -> dict:
        return {
            "conforms": self.conforms,
            "shapes_files": list(self.shapes_files),
            "results": [asdict(r) for r in self.results],
        }

    @classmethod
    def from_dict(cls, d: dict) -> ValidationReport:
        return cls(
            conforms=bool(d["conforms"]),
            results=[ValidationResult(**r) for r in d.get("results", [])],
            shapes_files=list(d.get("shapes_files", [])),
        )

    def render_text(self) -> str:
        """A report grouped by data file, one block per result."""
        if not self.shapes_files:
            return "No shapes (ontology/shapes*.ttl): nothing to validate."
        summary = self.counts_text()
        verdict = "Conforms" if self.conforms else "Does not conform"
        head = f"{verdict}: {summary or 'no problems found'}"
        head += f" (shapes: {', '.join(self.shapes_files)})"
        lines = [head]
        current = object()
        for r in self.results:
            if r.file != current:
                current = r.file
                lines += ["", r.file or "(focus node defined in no data file)"]
            name = ns.shorten(r.focus) if r.focus.startswith("http") else r.focus
            label = f' "{_safe(r.label)}"' if r.label else ""
            lines.append(f"  {r.severity:<10}{_safe(name)}{label}")
            where = f"{_safe(r.path)}: " if r.path else ""
            shape = f"  [{_safe(r.shape)}]" if r.shape else ""
            lines.append(f"            {where}{_safe(r.message)}{shape}")
            if r.value:
                lines.append(f"            value: {_safe(r.value)}")
        return "\n".join(lines)


def _safe(text: str) -> str:
    """Data as printed on a terminal: control characters (escape sequences that would retitle
    the window, clear the screen or write the clipboard) as visible escapes, as the query
    table shows them."""
    from kg.query import printable

    return printable(text)
