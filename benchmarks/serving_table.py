#!/usr/bin/env python3
"""Reads paella bench CSV files and prints the tables benchmarks/results/serving.md
keeps: per mix and sigma, each system's overall p50/p99 at 50% and 80% of cuda-ms's
saturation and its own saturation throughput (the most it achieved in the sweep);
per model, p50 at the lightest load against cuda-ms's and cuda-graph's.

    benchmarks/serving_table.py CSV [CSV...]
"""
import csv
import sys
from collections import defaultdict


def load(paths):
    rows = []
    for p in paths:
        with open(p, newline="") as f:
            rows += [r for r in csv.DictReader(f) if r["experiment"] == "load"]
    return rows


def main(paths):
    rows = load(paths)
    by = defaultdict(dict)  # (mix, sigma) -> (system, load, model) -> row
    for r in rows:
        by[(r["mix"], r["sigma"])][(r["system"], float(r["load"]), r["model"])] = r
    for (mix, sigma), d in sorted(by.items()):
        systems = sorted({k[0] for k in d}, key=lambda s: (not s.startswith("cuda"), s))
        loads = sorted({k[1] for k in d})
        print(f"\n{mix}, sigma {sigma}: all requests, ms (p50 / p99), achieved req/s")
        print(f"| system | p50 @50% | p99 @50% | p50 @80% | p99 @80% | saturation req/s |")
        print("|---|---|---|---|---|---|")
        for s in systems:
            def cell(load, col):
                r = d.get((s, load, "all"))
                return f"{float(r[col]) / 1000:.2f}" if r else "-"
            sat = max(float(d[(s, l, "all")]["throughput_rps"]) for l in loads if (s, l, "all") in d)
            print(f"| {s} | {cell(0.5, 'p50_us')} | {cell(0.5, 'p99_us')} | {cell(0.8, 'p50_us')} "
                  f"| {cell(0.8, 'p99_us')} | {sat:.0f} |")
        light = loads[0]
        models = sorted({k[2] for k in d if k[2] != "all"})
        print(f"\n{mix}, sigma {sigma}: p50 per model at load {light} (ms)")
        print("| model | " + " | ".join(systems) + " |")
        print("|---|" + "---|" * len(systems))
        for m in models:
            vals = []
            for s in systems:
                r = d.get((s, light, m))
                vals.append(f"{float(r['p50_us']) / 1000:.2f}" if r else "-")
            print(f"| {m} | " + " | ".join(vals) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
