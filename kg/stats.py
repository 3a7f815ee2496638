"""Counts that describe a build: triples per graph, instances per kg: class, evidence."""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Store

from kg import namespaces as ns
from kg.build import ensure_built
from kg.project import Project
from kg.query import Labeler, build_store

# Constant queries; namespaces come in through `prefixes=`, nothing is pasted in.
_CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class .
  FILTER(STRSTARTS(STR(?class), STR(kg:)))
} GROUP BY ?class ORDER BY ?class
"""
_EVIDENCE_COUNT = "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a oa:Annotation }"


@dataclass
class Stats:
    graphs: dict[str, int]  # graph IRI -> triples
    classes: list[tuple[str, str, int]]  # (class IRI, label, instances incl. inferred)
    evidence: int  # oa:Annotation nodes
    inferred: int
    conforms: bool
    shapes: bool  # False when the project has no shapes (conformance is then vacuous)

    def to_dict(self) -> dict:
        return {
            "graphs": self.graphs,
            "classes": [{"class": c, "label": lbl, "instances": n} for c, lbl, n in self.classes],
            "evidence": self.evidence,
            "inferred": self.inferred,
            "conforms": self.conforms,
            "shapes": self.shapes,
        }

    def render_text(self) -> str:
        verdict = "yes" if self.conforms else "no (see kg validate)"
        if not self.shapes:
            verdict = "no shapes to validate against"
        gw = max((len(g) for g in self.graphs), default=5)
        lines = [f"{'graph':<{gw}}  {'triples':>8}"]
        lines += [f"{g:<{gw}}  {n:>8}" for g, n in self.graphs.items()]
        lines.append(f"{'total':<{gw}}  {sum(self.graphs.values()):>8}")
        names = [f"{ns.shorten(c)} ({lbl})" for c, lbl, _ in self.classes]
        cw = max((len(n) for n in names), default=5)
        lines += ["", f"{'class':<{cw}}  {'instances':>9}"]
        lines += [f"{n:<{cw}}  {c[2]:>9}" for n, c in zip(names, self.classes, strict=True)]
        lines += [
            "",
            f"evidence annotations: {self.evidence}",
            f"inferred triples:     {self.inferred}",
            f"conforms:             {verdict}",
        ]
        return "\n".join(lines) + "\n"


def compute(store: Store, manifest: dict) -> Stats:
    prefixes = {"kg": ns.KG, "oa": ns.OA}
    labeler = Labeler(store, "en")
    classes = [
        (sol["class"].value, labeler.label(sol["class"]), int(sol["n"].value))
        for sol in store.query(_CLASS_COUNTS, prefixes=prefixes, use_default_graph_as_union=True)
    ]
    evidence = next(
        iter(store.query(_EVIDENCE_COUNT, prefixes=prefixes, use_default_graph_as_union=True))
    )
    return Stats(
        graphs=dict(manifest["graphs"]),
        classes=classes,
        evidence=int(evidence["n"].value),
        inferred=int(manifest["inferred"]),
        conforms=bool(manifest["conforms"]),
        shapes=bool(manifest["validation"].get("shapes_files")),
    )


def stats(project: Project, *, notify=None) -> Stats:
    """Statistics of the current build (rebuilding first if a source changed)."""
    result = ensure_built(project, notify=notify)
    return compute(build_store(result), result.manifest)
