"""The build: load → anchor evidence → infer → validate → write the cache under build/.

Read-only commands call `ensure_built`, which reuses the cache while the sources are unchanged.
rdflib, pySHACL and reasonable are imported only when a build actually runs (and pySHACL only
when kg's own SHACL engine cannot handle the shapes).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import (
    NamedNode,
    Quad,
    RdfFormat,
)
from pyoxigraph import serialize as ox_serialize

from kg import __version__, cache, diskstore
from kg import namespaces as ns
from kg.anchor import Anchored, expand_evidence
from kg.errors import KgProjectError, KgTermError
from kg.load import Loaded, load_project
from kg.progress import Progress
from kg.project import ONTOLOGY, Project
from kg.report import ValidationReport

_TYPE = NamedNode(ns.RDF + "type")
_LABEL = NamedNode(ns.RDFS + "label")


@dataclass
class BuildResult:
    """What a build (or a cache hit) produced."""

    project: Project
    manifest: dict
    rebuilt: bool
    reason: str  # why it was rebuilt, or "" for a cache hit
    seconds: float
    data: bytes | None = field(default=None, repr=False)  # the N-Quads, once read

    @property
    def dataset(self) -> bytes:
        """The built N-Quads (read from build/ on first use after a cache hit)."""
        if self.data is None:
            data = cache.read_dataset(self.project, self.manifest)
            if data is None:  # removed or damaged since the freshness check: rebuild
                data = build(self.project, force=True).dataset
            self.data = data
        return self.data

    @property
    def conforms(self) -> bool:
        return bool(self.manifest.get("conforms"))

    @property
    def report(self) -> ValidationReport:
        return ValidationReport.from_dict(self.manifest["validation"])

    def summary_text(self) -> str:
        m = self.manifest
        if self.rebuilt:
            head = f"Built {self.project.root} in {self.seconds:.2f} s ({self.reason})"
        else:
            head = f"Cache is fresh ({self.project.rel(self.project.build_dir)}/): nothing to do"
            head += " (use --force to rebuild)"
        graphs = m["graphs"]
        width = max((len(g) for g in graphs), default=5)
        lines = [head, "", f"  {'graph':<{width}}  {'triples':>8}"]
        lines += [f"  {g:<{width}}  {n:>8}" for g, n in graphs.items()]
        lines.append(f"  {'total':<{width}}  {sum(graphs.values()):>8}")
        lines.append("")
        lines.append(f"  evidence annotations: {m['evidence']}")
        lines.append(f"  inferred triples:     {m['inferred']}")
        report = self.report
        counts = report.counts_text()
        verdict = "conforms" if self.conforms else "DOES NOT CONFORM"
        if not report.shapes_files:
            verdict = "no shapes"
        lines.append(f"  validation:           {verdict}" + (f" ({counts})" if counts else ""))
        if not self.conforms:
            lines.append("  run `kg validate` for the report")
        lines += [f"  warning: {w}" for w in m.get("warnings", [])]
        return "\n".join(lines)


def _defined_in(loaded: Loaded, anchored: list[Anchored]) -> dict[str, str]:
    """Map each subject IRI to the data file that defines it.

    A file typing the node wins over a file that only says something about it; ties go to
    the earlier file in layout order (ontology, shared, articles, enrichment).
    """
    typed: dict[str, str] = {}
    mentioned: dict[str, str] = {}
    for lf in loaded.files:
        for q in lf.quads:
            if isinstance(q.subject, NamedNode):
                target = typed if q.predicate == _TYPE else mentioned
                target.setdefault(q.subject.value, lf.source.rel)
    for a in anchored:
        for q in a.quads:
            if isinstance(q.subject, NamedNode):
                mentioned.setdefault(q.subject.value, a.file.source.rel)
    return {**mentioned, **typed}


def _labels(quads: list[Quad]) -> dict[str, str]:
    """English label of each node (another language if it has no English one)."""
    best: dict[str, tuple[int, str]] = {}
    for q in quads:
        if q.predicate == _LABEL and isinstance(q.subject, NamedNode):
            lang = getattr(q.object, "language", None)
            rank = 0 if lang == "en" else 1
            cand = (rank, q.object.value)
            key = q.subject.value
            if key not in best or cand < best[key]:
                best[key] = cand
    return {k: v for k, (_, v) in best.items()}


def _nquads(quads: list[Quad]) -> tuple[bytes, Counter]:
    """Canonical, sorted N-Quads (the same sources always give the same bytes), and the number
    of distinct quads per graph."""
    lines = set(ox_serialize(quads, format=RdfFormat.N_QUADS).decode("utf-8").splitlines())
    ordered = sorted(lines)
    counts: Counter = Counter()
    for line in ordered:
        # The graph name is the last IRI of the line: `... <graph> .`
        counts[line[line.rindex(" <", 0, len(line) - 2) + 2 : -3]] += 1
    return ("\n".join(ordered) + "\n").encode("utf-8") if ordered else b"", counts


def check_terms(loaded: Loaded) -> None:
    """Fail (exit 1) on a term the data or shapes use but the ontology does not define."""
    from kg import terms

    ontology = [q for lf in loaded.files if lf.source.kind == ONTOLOGY for q in lf.quads]
    described = terms.described_resources(list(loaded.quads()))
    usages = [
        terms.rdf_usage(lf.source.rel, lf.text, lf.quads)
        for lf in [*loaded.files, *loaded.shapes]
        if lf.source.kind != ONTOLOGY
    ]
    problems = terms.check(ontology, described, usages)
    if problems:
        raise KgTermError(problems, what="the data")


def _run(project: Project, reason: str, started: float, progress: Progress) -> BuildResult:
    from kg import reason as reasoning
    from kg import validate as validation

    inputs = project.inputs()
    stamps_before = {f.rel: f.path.stat() for f in inputs}
    hashes = {f.rel: cache.sha256_file(f.path) for f in inputs}

    loaded = load_project(project, progress=progress)
    check_terms(loaded)
    anchored = expand_evidence(project, loaded, progress=progress)
    asserted = list(loaded.quads()) + [q for a in anchored for q in a.quads]

    progress.stage("infer", len(asserted), "triples")
    # The union of all graphs, ontology included: what OWL RL and SHACL both work on.
    triples = reasoning.asserted_triples(asserted)
    inferred = reasoning.infer(triples)
    progress.advance(len(asserted))

    progress.stage("validate", None, "shapes")
    report = validation.validate(
        triples,
        (q.triple for lf in loaded.shapes for q in lf.quads),
        defined_in=_defined_in(loaded, anchored),
        labels=_labels(asserted),
        shapes_files=[lf.source.rel for lf in loaded.shapes],
        progress=progress.advance,
    )
    del triples

    progress.stage("write", None, "quads")
    inferred_graph = NamedNode(ns.GRAPH_INFERRED)
    all_quads = asserted + [
        Quad(t.subject, t.predicate, t.object, inferred_graph) for t in inferred
    ]
    # Blank nodes are named by their position in their file (kg.load), so the output is
    # reproducible without canonicalising them.
    data, counts = _nquads(all_quads)
    del all_quads
    progress.advance(sum(counts.values()))

    manifest = {
        "format": cache.FORMAT_VERSION,
        "generator": f"kg {__version__}",
        "sources": hashes,
        "dataset": {
            "file": cache.DATASET,
            "sha256": cache.sha256_bytes(data),
            "quads": sum(counts.values()),
        },
        "graphs": dict(sorted(counts.items())),
        "evidence": sum(len(a.evidence) for a in anchored),
        "inferred": len(inferred),
        "conforms": report.conforms,
        "validation": report.to_dict(),
        "warnings": [
            f"{rel}: not part of the layout, ignored (kg reads the .ttl files the layout names)"
            for rel in project.stray_files()
        ],
    }
    stamps = {rel: [st.st_size, st.st_mtime_ns, hashes[rel]] for rel, st in stamps_before.items()}
    try:
        cache.write_cache(project, data, manifest, stamps)
    except OSError as e:
        raise KgProjectError(f"cannot write the cache in {project.build_dir}: {e}") from None
    progress.stage("store", None, "quads")
    _write_store(project, manifest, data)
    progress.end()
    return BuildResult(
        project=project,
        manifest=manifest,
        rebuilt=True,
        reason=reason,
        seconds=time.perf_counter() - started,
        data=data,
    )


def _write_store(project: Project, manifest: dict, data: bytes) -> None:
    """The on-disk copy that read-only commands open (kg.diskstore). Without it they parse
    the N-Quads instead, so a folder where it cannot be written still works."""
    with contextlib.suppress(OSError):
        diskstore.write(project, manifest, data)


def _repair_store(project: Project, manifest: dict, data: bytes | None) -> bytes | None:
    """Write the on-disk store of a fresh cache that has none (a cache from an older kg, or
    a store removed by hand); returns the dataset bytes if it had to read them."""
    if diskstore.has_store(project, manifest):
        return data
    with cache.build_lock(project):
        if diskstore.has_store(project, manifest):
            return data
        if data is None:
            data = cache.read_dataset(project, manifest)
            if data is None:
                return None
        _write_store(project, manifest, data)
    return data


def build(
    project: Project, *, force: bool = False, progress: Progress | None = None
) -> BuildResult:
    """Build the project into build/, or reuse the cache when no source changed.

    `progress` shows the stages of a rebuild (on a terminal; see kg.progress).
    Raises KgInputError (unreadable or malformed file) or KgAnchorError (evidence problems);
    in both cases the previous cache is left untouched. A non-conforming build is still
    written (queries work on it); `BuildResult.conforms` says whether it conforms.
    """
    started = time.perf_counter()
    manifest = None if force else cache.read_manifest(project)
    fresh = cache.check_fresh(project, manifest) if not force else None
    if fresh is not None and fresh.fresh:
        if cache.dataset_trusted(project, manifest):  # read lazily, if at all
            data = _repair_store(project, manifest, None)
            return BuildResult(project, manifest, False, "", time.perf_counter() - started, data)
        data = cache.read_dataset(project, manifest)
        if data is not None:
            cache.remember_dataset(project, manifest)
            data = _repair_store(project, manifest, data)
            return BuildResult(project, manifest, False, "", time.perf_counter() - started, data)
        fresh = cache.Freshness(False, "build/dataset.nq is missing or damaged")
    reason = "forced" if force else fresh.reason
    progress = progress if progress is not None else Progress.quiet()
    # One build at a time per project: a second `kg build` waits, then reuses what the first
    # wrote if the sources did not change meanwhile.
    with cache.build_lock(project, reason) as waited:
        if waited and not force:
            manifest = cache.read_manifest(project)
            if cache.check_fresh(project, manifest).fresh:
                data = cache.read_dataset(project, manifest)
                if data is not None:
                    elapsed = time.perf_counter() - started
                    return BuildResult(project, manifest, False, "", elapsed, data)
        try:
            return _run(project, reason, started, progress)
        finally:
            progress.end()


def ensure_built(project: Project, *, notify: Callable[[str], None] | None = None) -> BuildResult:
    """The current build, rebuilding first if a source changed (for read-only commands)."""
    # A read-only command that must rebuild first shows the build's progress on a terminal.
    result = build(project, progress=Progress.auto() if notify is not None else None)
    if result.rebuilt and notify is not None:
        notify(f"rebuilt the cache ({result.reason}) in {result.seconds:.2f} s")
        if not result.conforms:
            notify("the data does not conform to the shapes; run `kg validate` for the report")
    return result


def validation_report(
    project: Project, *, notify: Callable[[str], None] | None = None
) -> ValidationReport:
    """The SHACL report of the current build (kept in the manifest: no pySHACL when fresh)."""
    return ensure_built(project, notify=notify).report
