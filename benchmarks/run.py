#!/usr/bin/env python3
"""Benchmark every stage of the kg pipeline against the reference stack, on the same data.

    python benchmarks/run.py --sizes 10k,100k,1m --runs 3 -o benchmarks/results.md

For each size a synthetic corpus (benchmarks/synth.py) is generated and built once; then each
stage is measured on it with the project's engines and with the reference stack:

| stage | project (kg) | reference |
|---|---|---|
| load | pyoxigraph parse (kg.load) | rdflib parse |
| anchor | kg.anchor | (project code on both stacks) |
| infer | kg.reason (schema by reasonable, instances by rules) | owlrl |
| validate | kg.shacl | pySHACL |
| query NAME | pyoxigraph: evaluate, read every row | rdflib SPARQL: the same |
| labelled NAME | kg.query.execute: the rows as `kg query` prints them, IRIs labelled | — |
| export Turtle / JSON-LD | kg.export | rdflib serialisers |
| build | `kg build --force` | rdflib + anchoring + owlrl + pySHACL + rdflib N-Quads |

Each stage runs in a worker process that prepares the stage's input once, then forks a fresh
child per run: the child measures the stage alone (wall time) and its peak memory (ru_maxrss,
inputs included). A child still running after the limit is killed and the stage is reported as
"over N s". Full builds run as fresh `python` processes. The table gives medians.

At the smallest size the script also checks that the fast engines give the reference's results
(inferred triples, validation results, query answers) and reports them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

GRAPH_ONTOLOGY = "https://w3id.org/oman-talks/graph/ontology"


# ------------------------------------------------------------------------------------------
# Worker side: prepare inputs once, fork a child per measured run


def _measure(fn, limit: float) -> dict:
    """Run fn() in a forked child; its wall time and peak RSS, or {"over": limit}."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            started = time.perf_counter()
            extra = fn()
            seconds = time.perf_counter() - started
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            out = {"seconds": seconds, "rss_kb": rss, "extra": extra}
        except BaseException as e:  # report, never raise out of a fork
            out = {"error": f"{type(e).__name__}: {e}"[:300]}
        os.write(w, json.dumps(out, default=str).encode())
        os.close(w)
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + limit
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            return {"over": limit}
        ready, _, _ = select.select([r], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"error": "no result"}')


def _runs(name: str, fn, runs: int, limit: float, out: dict) -> None:
    got = []
    for _ in range(runs):
        m = _measure(fn, limit)
        got.append(m)
        if "over" in m or "error" in m:
            break  # no point in waiting again
    out[name] = got


WARM_ENOUGH_S = 1.0  # a query whose first run took longer is not run again


def _warm_runs(name: str, fn, runs: int, limit: float, out: dict) -> None:
    """A query as a store serves it: one child runs it once to warm up (first touches of a
    forked store's memory cost up to 3x), then `runs` more times; those are the measurements.
    A first run over WARM_ENOUGH_S is the measurement itself (the reference at large sizes)."""

    def warm_then_runs():
        started = time.perf_counter()
        extra = fn()
        first = time.perf_counter() - started
        if first > WARM_ENOUGH_S:
            return {"times": [first], "first": first, "extra": extra}
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            extra = fn()
            times.append(time.perf_counter() - started)
        return {"times": times, "first": first, "extra": extra}

    m = _measure(warm_then_runs, limit + runs * 2 * WARM_ENOUGH_S)
    if "over" in m:
        out[name] = [{"over": limit}]
    elif "error" in m:
        out[name] = [m]
    else:
        got = m["extra"]
        out[name] = [
            {"seconds": s, "rss_kb": m["rss_kb"], "extra": got["extra"], "first": got["first"]}
            for s in got["times"]
        ]


def _project_inputs(root: Path):
    from kg import reason
    from kg.anchor import expand_evidence
    from kg.load import load_project
    from kg.project import locate

    project = locate(root)
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    quads = [*loaded.quads(), *(q for a in anchored for q in a.quads)]
    triples = reason.asserted_triples(quads)
    shapes = [q.triple for lf in loaded.shapes for q in lf.quads]
    return project, loaded, anchored, triples, shapes


def _rdflib_graph(triples):
    from kg.rdfterms import TermMap

    return TermMap().graph(triples)


def _query_params(root: Path) -> dict[str, str]:
    return {"node": "a000000-demand-0"}


def worker(group: str, engine: str, root: Path, runs: int, limit: float) -> dict:
    out: dict = {}
    if group == "load":
        if engine == "kg":
            from kg.load import load_project
            from kg.project import locate

            _runs("load", lambda: len(list(load_project(locate(root)).quads())), runs, limit, out)
        else:
            from rdflib import Dataset

            from kg.project import locate

            def load_rdflib():
                ds = Dataset()
                for s in locate(root).rdf_files():
                    ds.graph(s.graph).parse(s.path, format="turtle")
                return len(ds)

            _runs("load", load_rdflib, runs, limit, out)
    elif group == "pipeline":
        project, loaded, anchored, triples, shapes = _project_inputs(root)
        if engine == "kg":
            from kg import reason, validate
            from kg.anchor import expand_evidence

            _runs("anchor", lambda: len(expand_evidence(project, loaded)), runs, limit, out)
            _runs("infer", lambda: len(reason.infer(triples)), runs, limit, out)

            def run_validate():
                report = validate.validate(
                    triples, shapes, defined_in={}, labels={}, shapes_files=["shapes"]
                )
                return {"conforms": report.conforms, "results": len(report.results)}

            _runs("validate", run_validate, runs, limit, out)
        else:
            graph = _rdflib_graph(triples)
            shapes_graph = _rdflib_graph(shapes)

            def run_owlrl():
                import owlrl

                owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
                return len(graph)

            def run_pyshacl():
                import pyshacl

                conforms, _, _ = pyshacl.validate(
                    graph,
                    shacl_graph=shapes_graph,
                    inference="none",
                    advanced=True,
                    allow_warnings=True,
                    allow_infos=True,
                    inplace=True,
                )
                return {"conforms": bool(conforms)}

            _runs("infer", run_owlrl, runs, limit, out)
            _runs("validate", run_pyshacl, runs, limit, out)
    elif group == "queries":
        data = (root / "build" / "dataset.nq").read_bytes()
        from kg.project import locate
        from kg.query import list_queries

        queries = list_queries(locate(root))
        params = _query_params(root)
        if engine == "kg":
            from kg.query import bind, execute, open_store

            store = open_store(data)

            def engine_rows(q, subs) -> int:
                # the same work as the reference's: evaluate and read every row
                answer = store.query(q.text, use_default_graph_as_union=True, substitutions=subs)
                return sum(1 for _ in answer)

            for q in queries:
                p = {x.name: params[x.name] for x in q.params}
                subs = bind(q, p)
                _warm_runs(f"query {q.name}", lambda q=q, subs=subs: engine_rows(q, subs), runs,
                           limit, out)  # fmt: skip
            for q in queries:
                # what `kg query` does on a loaded store: the rows with every IRI labelled
                p = {x.name: params[x.name] for x in q.params}
                _warm_runs(f"labelled {q.name}", lambda q=q, p=p: len(execute(store, q, p).rows),
                           runs, limit, out)  # fmt: skip
        else:
            from rdflib import Dataset, URIRef

            from kg.query import param_value

            ds = Dataset(default_union=True)
            ds.parse(data=data, format="nquads")
            del data

            def rdflib_query(text, init):
                try:
                    return len(list(ds.query(text, initBindings=init)))
                except TypeError:
                    # rdflib's ORDER BY fails on unbound sort keys: answer without the order.
                    head, sep, tail = text.rpartition("ORDER BY")
                    return {"unordered": len(list(ds.query(head, initBindings=init)))}

            for q in queries:
                init = {x.name: URIRef(param_value(x, params[x.name]).value) for x in q.params}
                _warm_runs(f"query {q.name}", lambda q=q, init=init: rdflib_query(q.text, init),
                           runs, limit, out)  # fmt: skip
    elif group == "export":
        if engine == "kg":
            from kg.export import export_project
            from kg.project import locate

            project = locate(root)
            for fmt in ("turtle", "jsonld"):
                target = Path(tempfile.mkdtemp()) / f"out.{fmt}"
                _runs(f"export {fmt}", lambda fmt=fmt, target=target: export_project(
                      project, format=fmt, output=str(target)).size, runs, limit, out)  # fmt: skip
        else:
            from rdflib import Dataset

            ds = Dataset(default_union=True)
            ds.parse(root / "build" / "dataset.nq", format="nquads")

            def turtle():
                from rdflib import Graph

                g = Graph()
                for t in ds.triples((None, None, None)):
                    g.add(t)
                return len(g.serialize(format="turtle"))

            _runs("export turtle", turtle, runs, limit, out)
            _runs("export jsonld", lambda: len(ds.serialize(format="json-ld")), runs, limit, out)
    else:
        raise SystemExit(f"unknown group {group}")
    return out


def reference_build(root: Path) -> int:
    """The whole pipeline on the reference stack: rdflib parse, anchoring (project code on
    rdflib-parsed data is not possible: it runs on pyoxigraph terms, as in kg), owlrl, pySHACL,
    rdflib N-Quads output."""
    import owlrl
    import pyshacl
    from rdflib import Dataset, Graph

    from kg.anchor import expand_evidence
    from kg.load import load_project
    from kg.project import locate
    from kg.rdfterms import TermMap

    project = locate(root)
    ds = Dataset()
    for s in project.rdf_files():
        ds.graph(s.graph).parse(s.path, format="turtle")
    shapes = Graph()
    for s in project.shapes_files():
        shapes.parse(s.path, format="turtle")
    loaded = load_project(project)
    anchored = expand_evidence(project, loaded)
    terms = TermMap()
    for a in anchored:
        g = ds.graph(a.file.source.graph)
        for q in a.quads:
            g.add((terms.to_rdflib(q.subject), terms.to_rdflib(q.predicate),
                   terms.to_rdflib(q.object)))  # fmt: skip
    union = Graph()
    for s, p, o, _g in ds.quads((None, None, None, None)):
        union.add((s, p, o))
    closed = Graph()
    closed += union
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closed)
    inferred = ds.graph("https://w3id.org/oman-talks/graph/inferred")
    for t in closed:
        if t not in union:
            inferred.add(t)
    pyshacl.validate(union, shacl_graph=shapes, inference="none", advanced=True,
                     allow_warnings=True, allow_infos=True, inplace=True)  # fmt: skip
    data = ds.serialize(format="nquads")
    (root / "build").mkdir(exist_ok=True)
    (root / "build" / "reference.nq").write_text(data, encoding="utf-8")
    return len(data)


# ------------------------------------------------------------------------------------------
# Driver side


def _python() -> list[str]:
    return [sys.executable, "-X", "faulthandler", str(Path(__file__).resolve())]


def run_worker(group, engine, root, runs, limit, timeout) -> dict:
    cmd = [*_python(), "--worker", group, "--engine", engine, "--project", str(root),
           "--runs", str(runs), "--limit", str(limit)]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"_error": f"worker over {timeout:.0f} s"}
    if done.returncode != 0:
        return {"_error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# Runs a command as its grandchild and reports its wall time and peak RSS. Measuring from this
# small interpreter, not from the driver, matters: Linux carries a process's peak RSS over
# fork+exec, so a child forked by the (large) driver would report at least the driver's size.
_WRAPPER = """
import json, os, sys, time
t = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - t, "rss_kb": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "rc": os.waitstatus_to_exitcode(status)}))
"""


def timed_process(cmd: list[str], limit: float, cwd: Path | None = None) -> dict:
    """Wall time and peak RSS of a fresh process running `cmd`, or {"over": limit}."""
    wrapper = [sys.executable, "-S", "-c", _WRAPPER, *cmd]
    proc = subprocess.Popen(wrapper, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=limit + 5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"over": limit}
    try:
        got = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": err.decode()[-300:]}
    if got["rc"] not in (0, 1):  # 1: kg's "does not conform"
        return {"error": err.decode()[-300:]}
    if got["seconds"] > limit:
        return {"over": limit}
    return {"seconds": got["seconds"], "rss_kb": got["rss_kb"], "cpu": got.get("cpu")}


def _median(ms: list[dict]) -> dict:
    if not ms:
        return {"missing": True}
    bad = [m for m in ms if "over" in m or "error" in m]
    if bad:
        return bad[0]
    cpu = [m["cpu"] for m in ms if m.get("cpu") is not None]
    return {
        "seconds": statistics.median(m["seconds"] for m in ms),
        **({"cpu": statistics.median(cpu)} if len(cpu) == len(ms) else {}),
        "rss_kb": max(m["rss_kb"] for m in ms),
        "n": len(ms),
        "extra": ms[-1].get("extra"),
    }


def _kg_cmd() -> list[str]:
    return [sys.executable, "-m", "kg"]


def precompile() -> None:
    """Byte-compile kg's modules before timing, as `pip install` does. Otherwise, where
    Python writes no bytecode (PYTHONDONTWRITEBYTECODE, a read-only or editable tree), every
    timed process compiles them again at start: about 30 ms that users do not pay."""
    import compileall

    import kg

    compileall.compile_dir(str(Path(kg.__file__).parent), quiet=1)


def bench_size(size: str, workdir: Path, runs: int, ref_runs: int, limit: float,
               query_limit: float, build_limit: float, log) -> dict:  # fmt: skip
    root = workdir / f"corpus-{size}"
    if synth.prepare(root, synth.SIZES[size], seed=1):
        log(f"[{size}] generated {synth.SIZES[size]} articles")
    log(f"[{size}] building once")
    first = timed_process([*_kg_cmd(), "--project", str(root), "build"], 3600)
    if "error" in first:
        raise SystemExit(f"build failed at {size}: {first['error']}")
    manifest = json.loads((root / "build" / "manifest.json").read_text())
    result: dict = {
        "size": size,
        "articles": synth.SIZES[size],
        "triples": manifest["dataset"]["quads"],
        "asserted": manifest["dataset"]["quads"] - manifest["inferred"],
        "inferred": manifest["inferred"],
        "conforms": manifest["conforms"],
        "stages": {},
    }
    stages = result["stages"]

    def record(engine: str, got: dict) -> None:
        if "_error" in got:
            log(f"[{size}] {engine} worker failed: {got['_error']}")
            return
        for name, ms in got.items():
            stages.setdefault(name, {})[engine] = _median(ms)
            log(f"[{size}] {engine:9} {name:24} {_fmt_time(stages[name][engine])}")

    for group, lim in (("load", limit), ("pipeline", limit), ("queries", query_limit),
                       ("export", limit)):  # fmt: skip
        record("kg", run_worker(group, "kg", root, runs, lim, timeout=7200))
        record("reference", run_worker(group, "reference", root, ref_runs, lim, timeout=7200))

    builds = [timed_process([*_kg_cmd(), "--project", str(root), "build", "--force"], 3600)
              for _ in range(runs)]  # fmt: skip
    stages.setdefault("build (full)", {})["kg"] = _median(builds)
    ref = [timed_process([*_python(), "--reference-build", str(root)], build_limit)
           for _ in range(ref_runs)]  # fmt: skip
    stages["build (full)"]["reference"] = _median(ref)
    noop_cmd = [*_kg_cmd(), "--project", str(root), "build"]
    noop = [timed_process(noop_cmd, 600) for _ in range(max(runs, 5))]
    stages.setdefault("build (nothing changed)", {})["kg"] = _median(noop)
    for name in ("build (full)", "build (nothing changed)"):
        for engine, m in stages[name].items():
            log(f"[{size}] {engine:9} {name:24} {_fmt_time(m)}")
    return result


# ------------------------------------------------------------------------------------------
# Large collections: whole commands, each beside its reference, paired in one run

# `kg query` as it was before the on-disk store: the build's N-Quads parsed into memory.
_IN_MEMORY_QUERY = """
import sys
import kg.query
kg.query.build_store = lambda result: kg.query.open_store(result.dataset)
from kg.cli import main
raise SystemExit(main(sys.argv[1:]))
"""

# What the build adds for that store, alone: bulk-load the N-Quads into a new RocksDB store.
_STORE_WRITE = """
import sys, tempfile
from pyoxigraph import RdfFormat, Store
data = open(sys.argv[1], "rb").read()
with tempfile.TemporaryDirectory(dir=sys.argv[2]) as d:
    store = Store(d)
    store.bulk_load(data, RdfFormat.N_QUADS, lenient=True)
    store.flush()
    del store
"""

# pyoxigraph's own serialisers on the same build, the reference for `kg export`: the formats
# without named graphs (Turtle, N-Triples, RDF/XML) get the union of the graphs (duplicates
# dropped; kg's prefixes where the syntax has them); the others the dataset (JSON-LD expanded).
_PYOX_EXPORT = """
import sys
from pyoxigraph import RdfFormat, Store, parse, serialize
from kg.export import PREFIXES
src, fmt, out = sys.argv[1:4]
rdf_format = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES,
              "rdfxml": RdfFormat.RDF_XML, "trig": RdfFormat.TRIG,
              "nquads": RdfFormat.N_QUADS, "jsonld": RdfFormat.JSON_LD}[fmt]
if fmt in ("turtle", "ntriples", "rdfxml"):
    seen = dict.fromkeys(q.triple for q in parse(path=src, format=RdfFormat.N_QUADS, lenient=True))
    prefixes = dict(PREFIXES) if fmt != "ntriples" else None
    serialize(seen, out, rdf_format, prefixes=prefixes)
else:
    store = Store()
    store.load(path=src, format=RdfFormat.N_QUADS, lenient=True)
    store.dump(out, rdf_format, from_graph=None, prefixes=dict(PREFIXES) if fmt == "trig" else None)
"""
# `kg export` formats, measured beside pyoxigraph: Turtle and JSON-LD have targets, the others
# are there to show they did not get slower.
EXPORT_FORMATS = ("turtle", "jsonld", "trig", "nquads", "ntriples", "rdfxml")

LARGE_QUERIES = ("us-demands", "claims")


def _paired(a: list[str], b: list[str], runs: int, limit: float) -> tuple[dict, dict]:
    """Whole processes, interleaved A B A B: the machine's drift falls on both alike."""
    got_a, got_b = [], []
    for _ in range(runs):
        got_a.append(timed_process(a, limit))
        got_b.append(timed_process(b, limit))
    return _median(got_a), _median(got_b)


def bench_large(root: Path, runs: int, serve_s: float, log) -> dict:
    """Rows for large collections, each with its reference measured in the same run: a cold
    `kg query` (on-disk store vs the N-Quads parsed into memory), the store's build cost,
    `kg serve` under load (vs the embedded engine under the same load) and `kg export`
    (vs pyoxigraph's serialisers)."""
    rows: dict = {}
    py = sys.executable
    kg = [*_kg_cmd(), "--project", str(root)]
    nq = root / "build" / "dataset.nq"
    timed_process([*kg, "build"], 3600)  # writes the store if an older build has none
    for name in LARGE_QUERIES:
        new, old = _paired([*kg, "query", name],
                           [py, "-c", _IN_MEMORY_QUERY, "--project", str(root), "query", name],
                           runs, 600)  # fmt: skip
        rows[f"cold kg query {name}"] = {
            "kg": new,
            "reference": old,
            "reference_is": "the N-Quads parsed in memory",
        }
    write = [timed_process([py, "-c", _STORE_WRITE, str(nq), str(root / "build")], 3600)
             for _ in range(runs)]  # fmt: skip
    rows["on-disk store: bulk load"] = {"kg": _median(write), "reference_is": ""}
    digest = json.loads((root / "build" / "manifest.json").read_text())["dataset"]["sha256"]
    current = root / "build" / "stores" / digest[:16]
    size = sum(f.stat().st_size for f in current.rglob("*") if f.is_file())
    rows["on-disk store: bulk load"]["disk_bytes"] = size
    rows["on-disk store: bulk load"]["dataset_bytes"] = nq.stat().st_size
    rows.update(bench_export(root, runs, log))
    with tempfile.TemporaryDirectory() as tmp:
        for clients in (1, 8):
            out = Path(tmp) / f"load{clients}.json"
            cmd = [py, str(HERE / "loadtest.py"), "--project", str(root), "--clients",
                   str(clients), "--duration", str(serve_s), "--embedded",
                   "--json", str(out)]  # fmt: skip
            for _attempt in range(2):  # once more if it failed (logged: it is a finding)
                done = subprocess.run(cmd, capture_output=True, text=True,
                                      timeout=serve_s * 4 + 600)  # fmt: skip
                if out.is_file():
                    break
                log(f"loadtest failed ({clients} clients): {done.stderr[-500:]}")
            if not out.is_file():
                continue
            rows[f"kg serve, {clients} client{'s' if clients > 1 else ''}, p50"] = {
                "load": json.loads(out.read_text()),
                "reference_is": "the embedded engine under the same load",
            }
    for name, row in rows.items():
        log(f"{root.name}: {name}: {row.get('kg') or row.get('load', {}).get('p50_ms')}")
    return rows


def bench_export(root: Path, runs: int, log, formats=EXPORT_FORMATS) -> dict:
    """`kg export` in every format, each beside pyoxigraph's serialiser (paired, A B A B):
    whole processes writing a file, both reading the build's N-Quads."""
    rows: dict = {}
    nq = root / "build" / "dataset.nq"
    kg = [*_kg_cmd(), "--project", str(root)]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            mine, ref = _paired(
                [*kg, "export", "--format", fmt, "-o", f"{tmp}/kg.out"],
                [sys.executable, "-c", _PYOX_EXPORT, str(nq), fmt, f"{tmp}/ox.out"],
                runs, 600,
            )  # fmt: skip
            rows[f"kg export --format {fmt}"] = {
                "kg": mine,
                "reference": ref,
                "reference_is": "pyoxigraph's serialiser",
            }
            log(f"{root.name}: kg export --format {fmt}: {mine} vs {ref}")
    return rows


def rerun_export(args, sizes: list[str], workdir: Path, log) -> int:
    """Measure the `kg export` rows again on the corpora of --workdir; keep every other row."""
    saved = json.loads(args.export_only.read_text(encoding="utf-8"))
    by_size = {r["size"]: r for r in saved["results"]}
    formats = [f for f in args.export_formats.split(",") if f]
    unknown = set(formats) - set(EXPORT_FORMATS)
    if unknown:
        raise SystemExit(f"--export-formats: unknown {', '.join(sorted(unknown))}")
    command = (
        f"python benchmarks/run.py --export-only {args.export_only} --sizes {args.sizes} "
        f"--runs {args.runs} --export-formats {','.join(formats)}"
    )
    earlier = saved["args"].get("export_rerun")
    if earlier and set(formats) != set(EXPORT_FORMATS):  # the other rows are from that run
        command = f"{earlier} ; then {command}"
    runs = args.runs
    for size in sizes:
        root = workdir / f"corpus-{size}"
        if size not in by_size or not (root / "build").is_dir():
            raise SystemExit(f"no {size} results in {args.export_only} or no build in {root}")
        synth.refresh(root, ("ontology", "queries"))  # today's, not those of the first run
        timed_process([*_kg_cmd(), "--project", str(root), "build"], 3600)
        large = by_size[size].setdefault("large", {})
        fresh = bench_export(root, runs, log, formats)
        if set(fresh) <= set(large):  # rows measured before: replaced where they stand
            by_size[size]["large"] = {k: fresh.get(k, v) for k, v in large.items()}
        else:
            kept = {k: v for k, v in large.items() if k not in fresh}
            serve = {k: v for k, v in kept.items() if k.startswith("kg serve")}
            by_size[size]["large"] = {
                **{k: v for k, v in kept.items() if k not in serve},
                **fresh,
                **serve,
            }
        saved["args"]["export_rerun"] = command
        saved["args"]["export_rerun_machine"] = machine()
        args.__dict__.update(saved["args"])
        args.output.write_text(report(saved["results"], saved["seed"], saved["checks"], args))
        args.output.with_suffix(".json").write_text(
            json.dumps(saved, indent=1, default=str), encoding="utf-8"
        )
    log(f"wrote {args.output}")
    return 0


def large_table(results: list[dict]) -> list[str]:
    """The large-collection rows of every size that has them."""
    have = [r for r in results if r.get("large")]
    if not have:
        return []
    lines = [
        "## Large collections: whole commands beside their reference",
        "",
        "Each row's reference was measured in the same run, interleaved with it (A B A B) where "
        "both are whole processes. CPU is user + system time of the process: on this shared "
        "machine it is the steadier figure. `cold kg query`: a new process answering a stored "
        "question from the build's on-disk store, against the same command parsing "
        "build/dataset.nq into memory (what every `kg query` did before). `kg serve`: "
        "`benchmarks/loadtest.py --embedded`, the server's p50 latency against the embedded "
        "engine's under the same load (same clients, queries and duration, threads in one "
        "process). `kg export`: against pyoxigraph's serialisers on the same N-Quads (Turtle, "
        "N-Triples and RDF/XML of the union, with kg's prefixes where the syntax has them; "
        "TriG, N-Quads and JSON-LD of the dataset, JSON-LD expanded, which is twice the size "
        "of kg's compacted output).",
        "",
        "| size | row | kg: wall / CPU / memory | reference: wall / CPU / memory | reference | "
        "kg / reference (wall; CPU) |",
        "|---|---|---:|---:|---|---:|",
    ]
    for r in have:
        for name, row in r["large"].items():
            if "load" in row:
                load = row["load"]
                ref = load.get("embedded_p50_ms")
                ratio = f"{load['p50_ms'] / ref:.2f}" if ref else "—"
                lines.append(
                    f"| {r['size']} | {name} | {load['p50_ms']:.1f} ms ({load['answered']} "
                    f"answers, {load['errors']} errors, server peak "
                    f"{load['server_peak_rss_kb'] / 1024:,.0f} MiB) | "
                    f"{ref:.1f} ms ({load.get('embedded_answered')} answers) | "
                    f"{row['reference_is']} | {ratio} |"
                )
                continue
            k, ref = row.get("kg", {}), row.get("reference", {"missing": True})
            ratio = "—"
            if "seconds" in k and "seconds" in ref:
                ratio = f"{k['seconds'] / ref['seconds']:.2f}"
                if k.get("cpu") and ref.get("cpu"):
                    ratio += f"; {k['cpu'] / ref['cpu']:.2f}"
            what = row.get("reference_is") or "—"
            if "disk_bytes" in row:
                what = (f"store on disk {row['disk_bytes'] / 1e6:,.0f} MB beside "
                        f"{row['dataset_bytes'] / 1e6:,.0f} MB of N-Quads")  # fmt: skip
            lines.append(
                f"| {r['size']} | {name} | {_fmt_wcm(k)} | {_fmt_wcm(ref)} | {what} | {ratio} |"
            )
    return [*lines, ""]


def _fmt_wcm(m: dict) -> str:
    if "seconds" not in m:
        return _fmt_time(m)
    cpu = f"{_fmt_time({'seconds': m['cpu']})}" if m.get("cpu") is not None else "—"
    return f"{_fmt_time(m)} / {cpu} / {_fmt_mem(m)}"


def rerun_large(args, sizes: list[str], workdir: Path, log) -> int:
    """Measure the large-collection rows on the corpora of --workdir; keep every other stage."""
    saved = json.loads(args.large_only.read_text(encoding="utf-8"))
    by_size = {r["size"]: r for r in saved["results"]}
    for size in sizes:
        root = workdir / f"corpus-{size}"
        if synth.prepare(root, synth.SIZES[size], seed=1):
            log(f"[{size}] generated {synth.SIZES[size]} articles")
        if size not in by_size:
            raise SystemExit(f"{args.large_only} has no {size} results to add rows to")
        by_size[size]["large"] = bench_large(root, args.runs, args.serve_seconds, log)
        saved["args"]["large_rerun"] = (
            f"python benchmarks/run.py --large-only {args.large_only} --sizes {args.sizes} "
            f"--runs {args.runs} --serve-seconds {args.serve_seconds:.0f}"
        )
        saved["args"]["large_rerun_machine"] = machine()
        saved["args"].pop("export_rerun", None)  # the export rows are measured again here
        saved["args"].pop("export_rerun_machine", None)
        args.__dict__.update(saved["args"])
        args.output.write_text(report(saved["results"], saved["seed"], saved["checks"], args))
        args.output.with_suffix(".json").write_text(
            json.dumps(saved, indent=1, default=str), encoding="utf-8"
        )
    log(f"wrote {args.output}")
    return 0


def bench_seed(workdir: Path, runs: int, log) -> dict:
    """On the shipped project: cold `kg query us-demands`, `kg build` with nothing changed."""
    root = workdir / "seed"
    root.mkdir(parents=True, exist_ok=True)
    synth.refresh(root, ("ontology", "data", "queries"))  # the project as it is today
    timed_process([*_kg_cmd(), "--project", str(root), "build"], 600)
    kg = [str(Path(sys.executable).with_name("kg"))]
    if not Path(kg[0]).exists():
        kg = _kg_cmd()
    n = max(runs, 7)
    query = [timed_process([*kg, "query", "us-demands"], 60, cwd=root) for _ in range(n)]
    noop = [timed_process([*kg, "build"], 60, cwd=root) for _ in range(n)]
    full = [timed_process([*kg, "build", "--force"], 600, cwd=root) for _ in range(runs)]
    out = {
        "kg query us-demands (cold process)": _median(query),
        "kg build (nothing changed)": _median(noop),
        "kg build --force": _median(full),
    }
    for name, m in out.items():
        log(f"[seed] {name:36} {_fmt_time(m)}")
    return out


# ------------------------------------------------------------------------------------------
# Equivalence checks (smallest size)


def check(root: Path) -> list[tuple[str, bool, str]]:
    import logging

    logging.disable(logging.CRITICAL)  # rdflib logs every ill-typed literal of the test cases
    from pyoxigraph import NamedNode, Triple, Variable

    from kg import namespaces as ns
    from kg import reason, validate
    from kg.query import list_queries, open_store, param_value

    project, loaded, anchored, triples, shapes = _project_inputs(root)
    out = []

    fast = reason.infer(triples, engine="kg")
    ref = reason.infer(triples, engine="reasonable")
    out.append(("inferred triples: kg.reason = reasonable on the whole graph", fast == ref,
                f"{len(fast)} triples"))  # fmt: skip

    import owlrl
    from rdflib import Literal as RLiteral

    from kg.rdfterms import TermMap

    def abox(t):
        s = t.subject
        if not isinstance(s, NamedNode) or s.value.startswith(ns.W3C_NAMESPACES):
            return False
        return t.predicate.value == ns.RDF + "type" or not t.predicate.value.startswith(
            ns.W3C_NAMESPACES
        )

    terms = TermMap()
    graph = terms.graph(triples)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    closed = {
        Triple(terms.to_oxigraph(s), terms.to_oxigraph(p), terms.to_oxigraph(o))
        for s, p, o in graph
        if not isinstance(s, RLiteral)
    }
    owl = {t for t in closed - triples if not reason.is_noise(t) and abox(t)}
    mine = {t for t in fast if abox(t)}
    out.append(("inferred instance triples: kg.reason = owlrl", owl == mine,
                f"{len(mine)} triples; differences {len(owl ^ mine)}"))  # fmt: skip

    kw = {"defined_in": {}, "labels": {}, "shapes_files": ["shapes"]}
    a = validate.validate(triples, shapes, engine="kg", **kw)
    b = validate.validate(triples, shapes, engine="pyshacl", **kw)
    same = a.conforms == b.conforms and set(a.results) == set(b.results)
    out.append(("validation: kg.shacl = pySHACL (conforming corpus)", same,
                f"conforms {a.conforms}, {len(a.results)} results"))  # fmt: skip

    sys.path.insert(0, str(REPO / "tests"))
    try:
        import test_benchmark_equivalence as tbe

        data, shapes2, cases = tbe._failing_corpus()
        a = validate.validate(data, shapes2, engine="kg", **kw)
        b = validate.validate(data, shapes2, engine="pyshacl", **kw)
        out.append((f"validation: kg.shacl = pySHACL (every failing case of test_shapes, {cases})",
                    set(a.results) == set(b.results), f"{len(a.results)} results"))  # fmt: skip
    except ImportError as e:
        out.append(("validation on failing cases", False, f"not run: {e}"))

    from rdflib import Dataset, URIRef

    data = (root / "build" / "dataset.nq").read_bytes()
    store = open_store(data)
    ds = Dataset(default_union=True)
    ds.parse(data=data, format="nquads")
    params = _query_params(root)
    for q in list_queries(project):
        head, sep, tail = q.text.rpartition("ORDER BY")
        text = head if sep and "}" not in tail else q.text
        terms_ = {x.name: param_value(x, params[x.name]) for x in q.params}
        subs = {Variable(k): v for k, v in terms_.items()}
        fast_rows = sorted(
            (tuple(x.value if x is not None else None for x in sol) for sol in store.query(
                text, use_default_graph_as_union=True, substitutions=subs)), key=str)  # fmt: skip
        try:
            slow_rows = sorted(
                (tuple(str(x) if x is not None else None for x in row) for row in ds.query(
                    text, initBindings={k: URIRef(v.value) for k, v in terms_.items()})),
                key=str)  # fmt: skip
            note = f"{len(fast_rows)} rows"
        except Exception as e:  # rdflib failing is a finding, not a crash
            slow_rows, note = None, f"rdflib failed: {type(e).__name__}"
        out.append((f"query {q.name}: pyoxigraph = rdflib SPARQL", fast_rows == slow_rows, note))
    return out


# ------------------------------------------------------------------------------------------
# Report


def _fmt_time(m: dict) -> str:
    if "over" in m:
        return f"over {m['over']:.0f} s"
    if "error" in m:
        return "error"
    if "missing" in m:
        return "—"
    s = m["seconds"]
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def _fmt_mem(m: dict) -> str:
    if "rss_kb" not in m:
        return "—"
    return f"{m['rss_kb'] / 1024:,.0f} MB"


def _ratio(k: dict, r: dict) -> str:
    if "seconds" not in k:
        return "—"
    if "over" in r:
        return f"> {r['over'] / k['seconds']:,.0f}×"
    if "seconds" not in r:
        return "—"
    return f"{r['seconds'] / k['seconds']:,.1f}×"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    nproc = len(os.sched_getaffinity(0))
    system = f"{platform.system()} {platform.release()}"
    return f"nproc {nproc}, {cpu}{mem}; Python {platform.python_version()}, {system}"


def _query_span(stages: dict, engine: str) -> str:
    got = [by[engine] for name, by in stages.items() if name.startswith("query ") and engine in by]
    secs = [m["seconds"] for m in got if "seconds" in m]
    over = [m["over"] for m in got if "over" in m]
    if not got:
        return "—"
    text = ""
    if secs:
        text = f"{_fmt_time({'seconds': min(secs)})}–{_fmt_time({'seconds': max(secs)})}"
    if over:
        text += f"{'; ' if text else ''}{len(over)} over {max(over):.0f} s"
    return text


def _queries_under(stages: dict, seconds: float, kind: str = "query ") -> str:
    got = [by.get("kg", {}) for name, by in stages.items() if name.startswith(kind)]
    fast = sum(1 for m in got if m.get("seconds", float("inf")) < seconds)
    return f"{fast} of {len(got)}"


def summary(results: list[dict]) -> list[str]:
    """One table: the main stages at every size, kg against the reference stack."""
    head = "| stage | " + " | ".join(
        f"{r['size']} ({r['triples']:,} triples): kg / reference / ratio" for r in results
    ) + " |"  # fmt: skip
    lines = ["## Summary", "", head, "|---|" + "---:|" * len(results)]
    names = ["load", "anchor", "infer", "validate", "export turtle", "export jsonld",
             "build (full)", "build (nothing changed)"]  # fmt: skip
    for name in names:
        cells = []
        for r in results:
            by = r["stages"].get(name, {})
            k, ref = by.get("kg", {"missing": True}), by.get("reference", {"missing": True})
            cells.append(f"{_fmt_time(k)} / {_fmt_time(ref)} / {_ratio(k, ref)}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = [f"{_query_span(r['stages'], 'kg')} / {_query_span(r['stages'], 'reference')}"
             for r in results]  # fmt: skip
    lines.append("| each stored query (fastest–slowest) | " + " | ".join(cells) + " |")
    lines.append("| stored queries under 100 ms (kg: engine; labelled) | " + " | ".join(
        f"{_queries_under(r['stages'], 0.1)}; {_queries_under(r['stages'], 0.1, 'labelled ')}"
        for r in results) + " |")  # fmt: skip
    peak = [
        _fmt_mem(by["kg"]) for r in results for name, by in r["stages"].items()
        if name == "build (full)" and "kg" in by
    ]  # fmt: skip
    lines.append("| peak memory of `kg build` | " + " | ".join(peak) + " |")
    return [*lines, ""]


def report(results: list[dict], seed: dict | None, checks, args) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {getattr(args, 'machine', None) or machine()}.",
        f"Command: `python benchmarks/run.py --sizes {args.sizes} --runs {args.runs}"
        f" --limit {args.limit:.0f} --query-limit {args.query_limit:.0f}"
        f" --build-limit {args.build_limit:.0f}`.",
        f"Medians of {args.runs} runs for kg; for the reference stack "
        + ", ".join(f"{r.get('ref_runs', '?')} at {r['size']}" for r in results)
        + " (each run is a fresh process: a child forked once the stage's inputs are ready, or a "
        "new interpreter for full builds and commands). Memory is the peak RSS of that process, "
        "inputs included. A reference stage still running at its limit (load, infer, validate, "
        "export: --limit; each query: --query-limit; full build: --build-limit) is killed and "
        'shown as "over N s". "query NAME" is the engine\'s work (evaluate, read every row), '
        'the same as the reference\'s; "labelled NAME" adds what `kg query` does on a loaded '
        "store (every IRI labelled, cells made for output). This 2-core virtual machine is "
        "shared with other tenants: the same query, timed minutes apart in the same way, has "
        "differed by up to half its time.",
        "",
    ]
    for what, key in (("Query stages measured again", "queries_rerun"),
                      ("Large-collection rows measured", "large_rerun"),
                      ("`kg export` rows measured again", "export_rerun")):  # fmt: skip
        if getattr(args, key, None):
            on = getattr(args, f"{key}_machine", None)
            lines += [f"{what} afterwards{f' on {on}' if on else ''}: `{getattr(args, key)}`.", ""]
    lines += [
        "Queries run as a store serves them: a child per query runs it once to warm up, then "
        "--runs times more (median); a first run over 1 s is the measurement itself.",
        "",
        *summary(results),
        *large_table(results),
    ]
    for r in results:
        lines += [
            f"## {r['size']}: {r['triples']:,} triples ({r['asserted']:,} asserted + "
            f"{r['inferred']:,} inferred; {r['articles']} synthetic articles; "
            f"{'conforms' if r['conforms'] else 'DOES NOT CONFORM'})",
            "",
            "| stage | kg | kg memory | reference | reference memory | reference / kg |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, by in r["stages"].items():
            k, ref = by.get("kg", {"missing": True}), by.get("reference", {"missing": True})
            if name.startswith(("query ", "labelled ")) and isinstance(k.get("extra"), int):
                rows = k["extra"]  # the size of the answer explains its time
                name = f"{name} ({rows:,} row{'' if rows == 1 else 's'})"
            lines.append(
                f"| {name} | {_fmt_time(k)} | {_fmt_mem(k)} | {_fmt_time(ref)} | "
                f"{_fmt_mem(ref)} | {_ratio(k, ref)} |"
            )
        lines.append("")
    if seed:
        lines += ["## The shipped project (seed graph)", "", "| command | wall | memory |",
                  "|---|---:|---:|"]  # fmt: skip
        for k, m in seed.items():
            cmd, _, note = k.partition(" (")
            note = f" ({note}" if note else ""
            lines.append(f"| `{cmd}`{note} | {_fmt_time(m)} | {_fmt_mem(m)} |")
        lines.append("")
    if checks:
        size, items = checks
        ok = sum(1 for _, good, _ in items if good)
        lines += [f"## Same results ({size} corpus): {ok} of {len(items)} checks pass", ""]
        lines += [f"- {'PASS' if good else 'FAIL'} {name} ({note})" for name, good, note in items]
        lines.append("")
    return "\n".join(lines) + _cypher_section(args.output)


CYPHER_SECTION = "<!-- cypher: written by benchmarks/cypher.py -->"


def _cypher_section(path: Path) -> str:
    """The Cypher section benchmarks/cypher.py wrote into the results file, kept as it is."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    if CYPHER_SECTION not in text:
        return ""
    return "\n\n" + text[text.index(CYPHER_SECTION) :].strip("\n") + "\n"


def rerun_queries(args, sizes: list[str], workdir: Path, log) -> int:
    """Measure the query stages again on already built corpora; keep every other stage."""
    saved = json.loads(args.queries_only.read_text(encoding="utf-8"))
    for r in saved["results"]:
        if r["size"] not in sizes:
            continue
        root = workdir / f"corpus-{r['size']}"
        if not (root / "build" / "dataset.nq").is_file():
            raise SystemExit(f"{root}: no built corpus (run the whole benchmark with --workdir)")
        # the repository's queries as they are now (they are what changed since that run)
        synth.refresh(root, ("queries",))
        fresh: dict = {}
        for engine, n in (("kg", args.runs), ("reference", r.get("ref_runs", 1))):
            got = run_worker("queries", engine, root, n, args.query_limit, timeout=7200)
            if "_error" in got:
                raise SystemExit(f"[{r['size']}] {engine} worker failed: {got['_error']}")
            for name, ms in got.items():
                fresh.setdefault(name, {})[engine] = _median(ms)
                log(f"[{r['size']}] {engine:9} {name:24} {_fmt_time(fresh[name][engine])}")
        stages: dict = {}
        for name, by in r["stages"].items():  # the fresh query stages where the old ones were
            if name.startswith(("query ", "labelled ")):
                stages.update(fresh)
                fresh = {}
            else:
                stages[name] = by
        r["stages"] = {**stages, **fresh}
    saved["args"]["queries_rerun"] = (
        f"python benchmarks/run.py --queries-only {args.queries_only} --sizes {args.sizes} "
        f"--runs {args.runs} --query-limit {args.query_limit:.0f}"
    )
    saved["args"]["queries_rerun_machine"] = machine()
    args.__dict__.update(saved["args"])
    args.output.write_text(report(saved["results"], saved["seed"], saved["checks"], args))
    args.output.with_suffix(".json").write_text(
        json.dumps(saved, indent=1, default=str), encoding="utf-8"
    )
    log(f"wrote {args.output}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10k,100k,1m")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--ref-runs", type=int, default=None,
                   help="runs of the reference stack (default: --runs up to 100k, 1 above: "
                        "a 1M reference run takes tens of minutes)")  # fmt: skip
    p.add_argument("--from-json", type=Path, help="only render a results .json again")
    p.add_argument("--limit", type=float, default=120, help="seconds per reference stage")
    p.add_argument("--query-limit", type=float, default=30, help="seconds per query")
    p.add_argument("--build-limit", type=float, default=300, help="seconds per full build")
    p.add_argument("--workdir", type=Path, default=None, help="where corpora go (kept)")
    p.add_argument("-o", "--output", type=Path, default=HERE / "results.md")
    p.add_argument("--no-seed", action="store_true")
    p.add_argument("--no-check", action="store_true")
    p.add_argument("--queries-only", type=Path, metavar="RESULTS_JSON",
                   help="measure the stored queries again on the corpora of --workdir and "
                        "update that earlier run's results (.json and -o)")  # fmt: skip
    p.add_argument(
        "--large-only",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure only the large-collection rows (cold query, serve, export) on "
        "the corpora of --workdir and add them to that earlier run's results",
    )
    p.add_argument(
        "--export-only",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure only the `kg export` rows (every format beside pyoxigraph) on the "
        "corpora of --workdir and replace them in that earlier run's results",
    )
    p.add_argument(
        "--export-formats",
        default=",".join(EXPORT_FORMATS),
        help="with --export-only: the formats to measure again (comma-separated; the other "
        "rows are kept)",
    )
    p.add_argument(
        "--serve-seconds",
        type=float,
        default=20,
        help="seconds of load per kg serve row (and as much for its reference)",
    )
    # internal
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--engine", help=argparse.SUPPRESS)
    p.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--reference-build", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        out = worker(args.worker, args.engine, args.project, args.runs, args.limit)
        print(json.dumps(out, default=str))
        return 0
    if args.reference_build:
        reference_build(args.reference_build)
        return 0

    if args.from_json:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        args.__dict__.update(saved.get("args", {}))
        checks = saved["checks"]
        args.output.write_text(report(saved["results"], saved["seed"], checks, args))
        return 0
    fixed_ref_runs = args.ref_runs
    workdir = args.workdir or Path(tempfile.gettempdir()) / "kg-bench"
    workdir.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]  # "" = seed only
    for s in sizes:
        if s not in synth.SIZES:
            p.error(f"unknown size {s} (known: {', '.join(synth.SIZES)})")
    precompile()
    if args.queries_only:
        return rerun_queries(args, sizes, workdir, log)
    if args.large_only:
        return rerun_large(args, sizes, workdir, log)
    if args.export_only:
        return rerun_export(args, sizes, workdir, log)
    results = []
    checks = None
    for s in sizes:
        ref_runs = fixed_ref_runs or (args.runs if s in ("10k", "100k") else 1)
        results.append(bench_size(s, workdir, args.runs, ref_runs, args.limit,
                                  args.query_limit, args.build_limit, log))  # fmt: skip
        results[-1]["ref_runs"] = ref_runs
        results[-1]["large"] = bench_large(workdir / f"corpus-{s}", args.runs,
                                           args.serve_seconds, log)  # fmt: skip
        if checks is None and not args.no_check:
            log(f"[{s}] checking results against the reference stack")
            checks = (s, check(workdir / f"corpus-{s}"))
            for name, good, note in checks[1]:
                log(f"[{s}] {'PASS' if good else 'FAIL'} {name} ({note})")
        args.output.write_text(report(results, None, checks, args), encoding="utf-8")
    seed = None if args.no_seed else bench_seed(workdir, args.runs, log)
    args.output.write_text(report(results, seed, checks, args), encoding="utf-8")
    saved_args = {k: getattr(args, k) for k in ("sizes", "runs", "limit", "query_limit",
                                                 "build_limit")}  # fmt: skip
    saved_args["machine"] = machine()  # a rerun may be on another one: each names its own
    (args.output.with_suffix(".json")).write_text(
        json.dumps(
            {"results": results, "seed": seed, "checks": checks, "args": saved_args},
            indent=1,
            default=str,
        ),  # fmt: skip
        encoding="utf-8",
    )
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
