#!/usr/bin/env python3
"""Plot instrumentation overhead against block count from overhead CSV files.

usage: plot_overhead.py [--card NAME] OUT.png LABEL=FILE.csv [LABEL=FILE.csv ...]

--card names the GPU in the title (default H200, where the first files were made).
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    card = "H200"
    if len(argv) > 2 and argv[1] == "--card":
        card = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        sys.stderr.write(__doc__)
        return 2
    fig, ax = plt.subplots(figsize=(7, 4))
    markers = {"vector_add": "o", "sgemm_tiled": "s", "reduce_sum": "^", "stencil3d": "D"}
    for spec in argv[2:]:
        label, path = spec.split("=", 1)
        with open(path) as f:
            rows = list(csv.DictReader(f))
        vec = [r for r in rows if r["kernel"] == "vector_add"]
        line, = ax.plot([int(r["blocks"]) for r in vec],
                        [100 * (float(r["ratio"]) - 1) for r in vec], "-o", label=f"vector_add, {label}")
        for r in rows:
            if r["kernel"] != "vector_add":
                ax.plot(int(r["blocks"]), 100 * (float(r["ratio"]) - 1), markers.get(r["kernel"], "x"),
                        color=line.get_color(), alpha=0.6)
    for k, m in markers.items():
        if k != "vector_add":
            ax.plot([], [], m, color="gray", label=k)
    ax.axhline(3, color="red", ls="--", lw=1, label="budget, worst case (3%)")
    ax.axhline(0.5, color="orange", ls=":", lw=1, label="budget, geometric mean (0.5%)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("blocks in the grid")
    ax.set_ylabel("overhead, % (median of paired runs)")
    ax.set_title(f"paella-instrument overhead on one {card}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(argv[1], dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
