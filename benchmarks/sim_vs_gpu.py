#!/usr/bin/env python3
"""Compares paella bench CSVs of the simulator and the GPU, system by system: saturation (the
most each achieved) and p50/p99 of all requests at the same fractions of each backend's own
cuda-ms saturation.  Prints a Markdown table.

    benchmarks/sim_vs_gpu.py SIM.csv GPU.csv [SIMNAME=GPUNAME ...]
"""
import csv
import sys


def load(path):
    d = {}
    for r in csv.DictReader(open(path, newline="")):
        if r["experiment"] == "load" and r["model"] == "all":
            d[(r["mix"], r["system"], r["sigma"], float(r["load"]))] = r
    return d


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    sim, gpu = load(argv[0]), load(argv[1])
    rename = dict(a.split("=", 1) for a in argv[2:])
    print("| mix | system | sigma | saturation sim / GPU | p50 @50% sim/GPU | p99 @50% sim/GPU "
          "| p50 @80% sim/GPU | p99 @80% sim/GPU |")
    print("|---|---|---|---|---|---|---|---|")
    keys = sorted({(m, s, g) for (m, s, g, _) in sim})
    for mix, system, sigma in keys:
        other = rename.get(system, system)

        def sat(d, name):
            v = [float(r["throughput_rps"]) for (m, s, g, _), r in d.items()
                 if (m, s, g) == (mix, name, sigma)]
            return max(v) if v else None

        def ratio(load, col):
            a, b = sim.get((mix, system, sigma, load)), gpu.get((mix, other, sigma, load))
            return f"{float(a[col]) / float(b[col]):.2f}" if a and b else "-"

        ss, gs = sat(sim, system), sat(gpu, other)
        if gs is None:
            continue
        print(f"| {mix} | {system} | {sigma} | {ss:.0f} / {gs:.0f} ({ss / gs:.2f}) | "
              f"{ratio(0.5, 'p50_us')} | {ratio(0.5, 'p99_us')} | {ratio(0.8, 'p50_us')} | "
              f"{ratio(0.8, 'p99_us')} |")


if __name__ == "__main__":
    main(sys.argv[1:])
