#!/usr/bin/env python3
"""Plot `paella bench`'s CSV like the original Paella's Figs. 11-13.

usage: plot_serving.py CSV OUTDIR

For each mix and sigma: p99 latency against achieved throughput, one subplot
per model plus one for all requests, one line per system (one point per load
point): OUTDIR/serving-MIX-sigmaS.png.  The fairness sweep (Fig. 13): mean
latency of each model against the deficit threshold: OUTDIR/fairness-MIX.png.
Needs matplotlib (Debian's python3-matplotlib, or pip).
"""
import csv
import math
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Baselines dashed, Paella's configurations solid.
STYLE = {
    "cuda-ss": ("tab:gray", ":"),
    "cuda-ms": ("tab:blue", "--"),
    "cuda-graph": ("tab:cyan", "--"),
    "priority": ("tab:purple", "--"),
    "mps": ("tab:brown", "--"),
    "paella": ("tab:red", "-"),
    "paella-fifo": ("tab:orange", "-"),
}


def num(s):
    try:
        v = float(s)
    except ValueError:
        return math.nan
    return v


def style(system, i):
    if system in STYLE:
        return STYLE[system]
    return (plt.cm.Dark2(i % 8), "-.")


def plot_load(rows, outdir):
    files = []
    groups = defaultdict(list)
    for r in rows:
        if r["experiment"] == "load":
            groups[(r["mix"], r["sigma"])].append(r)
    for (mix, sigma), rs in sorted(groups.items()):
        models = []
        for r in rs:
            if r["model"] != "all" and r["model"] not in models:
                models.append(r["model"])
        panels = models + ["all"]
        ncols = min(3, len(panels))
        nrows = math.ceil(len(panels) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.4 * nrows), squeeze=False)
        systems = []
        for r in rs:
            if r["system"] not in systems:
                systems.append(r["system"])
        backend = rs[0]["backend"]
        for k, model in enumerate(panels):
            ax = axes[k // ncols][k % ncols]
            for i, system in enumerate(systems):
                pts = sorted((num(r["offered_rps"]), num(r["throughput_rps"]), num(r["p99_us"]))
                             for r in rs if r["system"] == system and r["model"] == model)
                pts = [p for p in pts if not math.isnan(p[1]) and not math.isnan(p[2])]
                if not pts:
                    continue
                color, ls = style(system, i)
                ax.plot([p[1] for p in pts], [p[2] / 1e3 for p in pts], ls, marker="o",
                        markersize=3, color=color, label=system)
            ax.set_title(model if model != "all" else "all requests")
            ax.set_xlabel("achieved throughput (requests/s)")
            ax.set_ylabel("p99 latency (ms)")
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
        for k in range(len(panels), nrows * ncols):
            axes[k // ncols][k % ncols].axis("off")
        handles, labels = axes[0][0].get_legend_handles_labels()
        for row in axes:
            for ax in row:
                h, l = ax.get_legend_handles_labels()
                for hh, ll in zip(h, l):
                    if ll not in labels:
                        handles.append(hh)
                        labels.append(ll)
        height = 3.4 * nrows
        top = 1 - (0.2 + 0.22 * math.ceil(len(labels) / 6)) / height
        fig.suptitle(f"{mix}, sigma {sigma} ({backend})", y=1 - 0.05 / height, fontsize=10)
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.3 / height),
                   ncol=min(6, len(labels)), frameon=False)
        fig.tight_layout(rect=(0, 0, 1, top))
        path = os.path.join(outdir, f"serving-{mix}-sigma{sigma}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        files.append(path)
    return files


def plot_fairness(rows, outdir):
    files = []
    groups = defaultdict(list)
    for r in rows:
        if r["experiment"] == "fairness":
            groups[r["mix"]].append(r)
    for mix, rs in sorted(groups.items()):
        fig, ax = plt.subplots(figsize=(6, 4))
        models = []
        for r in rs:
            if r["model"] not in models:
                models.append(r["model"])
        for model in models:
            pts = sorted((num(r["threshold"]), num(r["mean_us"])) for r in rs if r["model"] == model)
            ax.plot([p[0] for p in pts], [p[1] / 1e3 for p in pts], marker="o", markersize=3,
                    label=model, linestyle="--" if model == "all" else "-")
        ax.set_xscale("log")
        ax.set_xlabel("fairness threshold (deficit)")
        ax.set_ylabel("mean latency (ms)")
        ax.set_title(f"fairness knob, {mix}, all requests at once ({rs[0]['backend']})", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(frameon=False)
        fig.tight_layout()
        path = os.path.join(outdir, f"fairness-{mix}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        files.append(path)
    return files


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        rows = list(csv.DictReader(f))
    if not rows or "experiment" not in rows[0]:
        sys.stderr.write(f"{argv[1]}: not a CSV of paella bench\n")
        return 1
    os.makedirs(argv[2], exist_ok=True)
    files = plot_load(rows, argv[2]) + plot_fairness(rows, argv[2])
    for p in files:
        print(p)
    if not files:
        sys.stderr.write(f"{argv[1]}: no load points nor fairness points to plot\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
