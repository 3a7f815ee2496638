"""Locate a project folder and enumerate its source files according to the layout table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kg import namespaces as ns
from kg.errors import KgInputError, KgProjectError

# Kinds of source files; every kind but SHAPES and TEXT lands in the dataset.
ONTOLOGY = "ontology"
SHAPES = "shapes"
SHARED = "shared"
ARTICLE = "article"
ENRICHMENT = "enrichment"
TEXT = "text"

# An id becomes part of graph and evidence IRIs, so it must be IRI-safe as is.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._~-]+$")
# Files that look like RDF; those the layout does not read are warned about, never dropped
# silently (an article saved as .TTL or .trig would vanish from the graph).
RDF_SUFFIXES = (".ttl", ".trig", ".nt", ".nq", ".n3", ".jsonld", ".rdf", ".owl")


@dataclass(frozen=True)
class SourceFile:
    """One input file of the build."""

    path: Path  # absolute
    rel: str  # relative to the project root, POSIX separators (used in messages and manifest)
    kind: str
    graph: str | None  # named graph it loads into; None for shapes and texts
    key: str | None = None  # article id or enrichment name


@dataclass(frozen=True)
class Project:
    """A project folder: ontology/, data/, queries/ and the generated build/."""

    root: Path

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def sources_dir(self) -> Path:
        return self.root / "data" / "sources"

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def _files(self, folder: str, pattern: str) -> list[Path]:
        base = self.root / folder
        found = sorted(p for p in base.glob(pattern) if p.is_file()) if base.is_dir() else []
        for p in found:
            self.check_inside(p)
        return found

    def check_inside(self, path: Path) -> None:
        """Refuse an input that resolves outside the project folder (a symbolic link to
        /proc/self/environ or ~/.netrc would copy secrets into the graph) or that is not a
        regular file."""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as e:
            raise KgInputError(f"cannot resolve: {e}", file=self.rel(path)) from None
        if not target.is_relative_to(self.root.resolve()):
            raise KgInputError(
                f"is a link to {target}, outside the project folder: kg reads only files inside "
                "the project (copy the file in if it belongs there)",
                file=self.rel(path),
            )
        if not target.is_file():
            raise KgInputError("is not a regular file", file=self.rel(path))

    def _source(self, path: Path, kind: str, graph: str | None, key: str | None = None):
        return SourceFile(path=path, rel=self.rel(path), kind=kind, graph=graph, key=key)

    def rdf_files(self) -> list[SourceFile]:
        """Turtle files that make up the dataset, in a stable order."""
        out = [
            self._source(p, ONTOLOGY, ns.GRAPH_ONTOLOGY)
            for p in self._files("ontology", "*.ttl")
            if not p.name.startswith("shapes")
        ]
        out += [
            self._source(p, SHARED, ns.GRAPH_SHARED) for p in self._files("data/shared", "*.ttl")
        ]
        for p in self._files("data/articles", "*.ttl"):
            key = _checked_id(p.stem, self.rel(p))
            out.append(self._source(p, ARTICLE, ns.article_graph(key), key))
        for p in self._files("data/enrichment", "*.ttl"):
            key = _checked_id(p.stem, self.rel(p))
            out.append(self._source(p, ENRICHMENT, ns.enrichment_graph(key), key))
        return out

    def shapes_files(self) -> list[SourceFile]:
        return [self._source(p, SHAPES, None) for p in self._files("ontology", "shapes*.ttl")]

    def text_files(self) -> list[SourceFile]:
        return [self._source(p, TEXT, None, p.stem) for p in self._files("data/sources", "*.txt")]

    def inputs(self) -> list[SourceFile]:
        """Every file whose content determines the build, sorted by relative path."""
        files = self.rdf_files() + self.shapes_files() + self.text_files()
        return sorted(files, key=lambda f: f.rel)

    def stray_files(self) -> list[str]:
        """RDF files under data/ and ontology/ that the layout does not read (ignored): in a
        sub-folder, or named .TTL, .trig, .nt … (only lower-case .ttl files are read)."""
        known = {f.rel for f in self.rdf_files() + self.shapes_files()}
        known.add("ontology/context.jsonld")  # kg export's JSON-LD context (docs/conventions)
        found = []
        for folder in ("data", "ontology"):
            base = self.root / folder
            if base.is_dir():
                found += [
                    self.rel(p)
                    for p in base.rglob("*")
                    if p.suffix.lower() in RDF_SUFFIXES and p.is_file()
                ]
        return sorted(r for r in found if r not in known)


def _checked_id(stem: str, rel: str) -> str:
    if stem in (".", ".."):
        raise KgInputError(
            f"the id {stem!r} is a dot segment: IRIs made from it collapse into their parent "
            "(…/graph/article/.. is …/graph/): give the file a name",
            file=rel,
        )
    if not _SAFE_ID.match(stem):
        raise KgInputError(
            "file name must use only letters, digits and . _ ~ - (it becomes part of an IRI)",
            file=rel,
        )
    return stem


def _looks_like_project(path: Path) -> bool:
    return (path / "ontology").is_dir() and (path / "data").is_dir()


def locate(project: str | Path | None = None) -> Project:
    """The project at `project`, or the nearest folder holding ontology/ and data/ from cwd up."""
    if project is not None:
        root = Path(project).expanduser()
        if not root.is_dir():
            raise KgProjectError(f"project folder not found: {root}")
        root = root.resolve()
        if not _looks_like_project(root):
            raise KgProjectError(
                f"{root} is not a kg project: it needs an ontology/ and a data/ folder"
            )
        return Project(root)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_project(candidate):
            return Project(candidate)
    raise KgProjectError(
        f"no kg project in {here} or its parents (looked for ontology/ and data/); "
        "run inside a project or pass --project DIR"
    )
