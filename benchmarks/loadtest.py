"""Load test of `kg serve`: concurrent clients run the stored queries against the endpoint.

Starts `kg serve` on 127.0.0.1 (free ports), runs N client threads (standard library
http.client, one keep-alive connection each) for a fixed time, each posting the stored
questions in turn (a question with parameters is bound to the example its header gives, as
the stored-queries page does), then stops the server and prints a markdown report:
throughput, latency percentiles, errors, and the resident memory of the Oxigraph server process
(from /proc/PID/status) before, during and after the load, to show whether it grows.

    python benchmarks/loadtest.py                  # 8 clients, 30 s, this repository
    python benchmarks/loadtest.py --clients 4 --duration 10 --project path/to/project

Only loopback addresses are used; the test stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def kg_command() -> list[str]:
    script = Path(sys.executable).with_name("kg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kg"]


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc/*/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def stored_queries(project: Path) -> list[tuple[str, str]]:
    """(name, text) of every stored query that can run unattended."""
    sys.path.insert(0, str(ROOT))
    from kg.project import locate
    from kg.query import list_queries
    from kg.serve import editor_text

    out = []
    for q in list_queries(locate(str(project))):
        text = editor_text(q)
        if q.params and "\nVALUES " not in text:
            continue  # a parameter without an example: nothing to bind it to
        out.append((q.name, text))
    return out


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    server_pid: int


def start_serve(project: Path, timeout_s: int) -> Served:
    port, pages = free_port(), free_port()
    proc = subprocess.Popen(
        [*kg_command(), "serve", "--host", HOST, "--port", str(port), "--pages-port", str(pages)]
        + ["--timeout", str(timeout_s), "--project", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read():
        for line in iter(proc.stdout.readline, ""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen = []
    while True:
        line = lines.get(timeout=120)
        if line is None:
            raise SystemExit("kg serve stopped before it was ready:\n" + "".join(seen))
        seen.append(line)
        if line.startswith("Ready"):
            break
    kids = children(proc.pid)
    if len(kids) != 1:
        proc.send_signal(signal.SIGINT)
        raise SystemExit(f"expected one Oxigraph process under kg serve, found {kids}")
    return Served(proc, port, kids[0])


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    by_query: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(port: int, queries, offset: int, deadline: float, stats: Stats, timeout: float):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    i = offset
    while time.monotonic() < deadline:
        name, text = queries[i % len(queries)]
        i += 1
        body = text.encode("utf-8")
        started = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/query",
                body,
                {
                    "Content-Type": "application/sparql-query",
                    "Accept": "application/sparql-results+json",
                },
            )
            answer = conn.getresponse()
            answer.read()
            seconds = time.perf_counter() - started
            with stats.lock:
                if answer.status == 200:
                    stats.latencies.append(seconds)
                    stats.by_query[name].append(seconds)
                else:
                    stats.errors[f"HTTP {answer.status} ({name})"] += 1
        except (OSError, http.client.HTTPException) as e:
            with stats.lock:
                stats.errors[f"{type(e).__name__} ({name})"] += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    conn.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def embedded_load(project: Path, queries, clients: int, duration: float) -> Stats:
    """The same load on the embedded engine, the reference: `clients` threads in this process
    run the same query texts in turn for `duration` seconds on one pyoxigraph store holding
    the build in memory, reading every row (pyoxigraph releases the GIL while it evaluates)."""
    from pyoxigraph import RdfFormat, Store

    store = Store()
    store.load(path=str(project / "build" / "dataset.nq"), format=RdfFormat.N_QUADS, lenient=True)
    stats = Stats()
    deadline = time.monotonic() + duration

    def run(offset: int) -> None:
        i = offset
        while time.monotonic() < deadline:
            name, text = queries[i % len(queries)]
            i += 1
            started = time.perf_counter()
            for _row in store.query(text, use_default_graph_as_union=True):
                pass
            seconds = time.perf_counter() - started
            with stats.lock:
                stats.latencies.append(seconds)
                stats.by_query[name].append(seconds)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="project folder (built)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (30)")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="client timeout")
    parser.add_argument(
        "--embedded", action="store_true",
        help="then run the same load on the embedded engine in this process, as the reference",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the key figures to this file")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        raise SystemExit("needs Linux /proc to read the server's memory")

    queries = stored_queries(args.project)
    served = start_serve(args.project, int(args.request_timeout))
    samples: list[tuple[float, int]] = []
    try:
        before = memory_kb(served.server_pid)
        stats = Stats()
        started = time.monotonic()
        deadline = started + args.duration
        threads = [
            threading.Thread(
                target=client,
                args=(served.port, queries, n, deadline, stats, args.request_timeout),
                daemon=True,
            )
            for n in range(args.clients)
        ]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            samples.append((time.monotonic() - started, memory_kb(served.server_pid)["VmRSS"]))
            time.sleep(1.0)
        for t in threads:
            t.join(args.request_timeout + 5)
        elapsed = time.monotonic() - started
        after = memory_kb(served.server_pid)
    finally:
        served.proc.send_signal(signal.SIGINT)
        try:
            served.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait()

    n = len(stats.latencies)
    errors = sum(stats.errors.values())
    ms = [x * 1000 for x in stats.latencies]
    warm = [kb for t, kb in samples if t >= min(5.0, args.duration / 3)] or [after["VmRSS"]]
    print(f"## kg serve under load ({args.project.name}, {os.cpu_count()} CPUs)\n")
    print(
        f"{args.clients} clients, {elapsed:.1f} s, {len(queries)} stored queries in turn "
        "(POST /query, SPARQL JSON results, keep-alive), Oxigraph server process "
        f"{served.server_pid}.\n"
    )
    print("| measure | value |\n|---|---|")
    print(f"| queries answered | {n} |")
    print(f"| throughput | {n / elapsed:.1f} queries/s |")
    for p in (50, 90, 99):
        print(f"| latency p{p} | {percentile(ms, p):.1f} ms |")
    print(f"| latency max | {max(ms, default=float('nan')):.1f} ms |")
    print(f"| errors | {errors} |")
    print(f"| server RSS before the load | {before['VmRSS'] / 1024:.1f} MiB |")
    print(f"| server RSS after warm-up (min–max of 1 s samples) | "
          f"{min(warm) / 1024:.1f}–{max(warm) / 1024:.1f} MiB |")  # fmt: skip
    print(f"| server RSS at the end | {after['VmRSS'] / 1024:.1f} MiB |")
    print(f"| server peak RSS (VmHWM) | {after['VmHWM'] / 1024:.1f} MiB |")
    step = max(1, len(samples) // 10)
    timeline = ", ".join(f"{t:.0f} s: {kb / 1024:.0f}" for t, kb in samples[::step])
    print(f"\nServer RSS in MiB during the load: {timeline}.")
    embedded = None
    if args.embedded:
        embedded = embedded_load(args.project, queries, args.clients, args.duration)
        n_ref = len(embedded.latencies)
        ref_ms = [x * 1000 for x in embedded.latencies]
        print(
            f"\nReference: the same load on the embedded engine ({args.clients} threads in one "
            f"process, pyoxigraph, the build in memory, every row read), run after the server "
            f"stopped: {n_ref} queries, {n_ref / args.duration:.1f} queries/s, p50 "
            f"{percentile(ref_ms, 50):.1f} ms, p99 {percentile(ref_ms, 99):.1f} ms; server "
            f"p50 / embedded p50 = {percentile(ms, 50) / percentile(ref_ms, 50):.2f}."
        )
        print("\n| query | answered | p50 ms | p99 ms | embedded p50 ms | p50 / embedded |")
        print("|---|---|---|---|---|---|")
    else:
        print("\n| query | answered | p50 ms | p99 ms |\n|---|---|---|---|")
    for name, _ in queries:
        values = [x * 1000 for x in stats.by_query.get(name, [])]
        median = statistics.median(values) if values else float("nan")
        row = f"| {name} | {len(values)} | {median:.1f} | {percentile(values, 99):.1f} |"
        if embedded:
            ref = [x * 1000 for x in embedded.by_query.get(name, [])]
            ref_median = statistics.median(ref) if ref else float("nan")
            row += f" {ref_median:.1f} | {median / ref_median:.2f} |"
        print(row)
    if args.json:
        figures = {
            "clients": args.clients,
            "duration": args.duration,
            "answered": n,
            "errors": errors,
            "p50_ms": percentile(ms, 50),
            "p99_ms": percentile(ms, 99),
            "server_peak_rss_kb": after["VmHWM"],
            "per_query_p50_ms": {
                name: statistics.median(v) * 1000 for name, v in stats.by_query.items() if v
            },
        }
        if embedded:
            ref_ms = [x * 1000 for x in embedded.latencies]
            figures["embedded_answered"] = len(ref_ms)
            figures["embedded_p50_ms"] = percentile(ref_ms, 50)
            figures["embedded_per_query_p50_ms"] = {
                name: statistics.median(v) * 1000 for name, v in embedded.by_query.items() if v
            }
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    if stats.errors:
        print("\n| error | count |\n|---|---|")
        for what, count in sorted(stats.errors.items()):
            print(f"| {what} | {count} |")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
