"""Table output of a long answer: `kg query`'s table writer beside its CSV writer.

The issue measured 0.57 s for a 6,554-row table (the size of `claims` at 1M triples), spent in
a per-character width check; the target is under 0.1 s. The answer here has that many rows,
every one with distinct Chinese and English text (so no width is cached across rows), and is
written as a table (as wide as its cells; and fitted to 100 columns, cutting cells) and, as the
reference in the same run, as CSV, whose writer does no width work at all.

    python benchmarks/table.py [--rows 6554] [--runs 7]

Prints a markdown table: CPU time per run (process_time), median and range, and the ratio to
CSV. CPU time, because the machine may be shared.
"""

from __future__ import annotations

import argparse
import statistics
import time

from kg.format import TableLayout, chunks, render_table
from kg.query import Cell, QueryResult, StoredQuery


def answer(rows: int) -> QueryResult:
    query = StoredQuery("claims", None, "claims", "")
    body = [
        [
            Cell(f"美伊阿曼谈判(2月6日)的分析之{i}", f"https://example.org/claim/{i}"),
            Cell(f"Analysis claim number {i} about the talks in Oman"),
            Cell(str(i)),
        ]
        for i in range(rows)
    ]
    return QueryResult(query, ["claim", "claim_en", "n"], body)


def timed(write, runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        began = time.process_time()
        write()
        spent.append(time.process_time() - began)
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=6554)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    result = answer(args.rows)
    writers = {
        "table, as wide as its cells": lambda: render_table(result, TableLayout()),
        "table, fitted to 100 columns": lambda: render_table(result, TableLayout(width=100)),
        "CSV (reference)": lambda: "".join(chunks(result, "csv")),
    }
    times = {name: timed(write, args.runs) for name, write in writers.items()}
    csv = statistics.median(times["CSV (reference)"])
    print(f"{args.rows} rows, {args.runs} runs each, CPU seconds (process_time)\n")
    print("| writer | median | range | ratio to CSV |\n|---|---:|---:|---:|")
    for name, spent in times.items():
        median = statistics.median(spent)
        print(
            f"| {name} | {median:.3f} s | {min(spent):.3f}–{max(spent):.3f} s "
            f"| {median / csv:.1f}× |"
        )


if __name__ == "__main__":
    main()
