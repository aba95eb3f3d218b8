#!/usr/bin/python3
"""Time breakdown per schedule: stacked bars of the critical rank's time, as moesim reports it.

Input: a summary.csv written by `moesim run` or `moesim predict` (one row per schedule).
Output: the image named on the command line (PNG), and a PDF next to it.

Each bar is the iteration (or batch) time of one schedule, split into compute by kind, the
all-to-all time left exposed, the tensor- and data-parallel communication, and idle time; the
hidden part of the all-to-all is drawn as a hatched bar beside it. Speedups over the first
schedule are printed above the bars; the legend sits outside the axes, at their right.

    plots/breakdown.py out/predict/summary.csv out/predict/breakdown.png

Runs with Debian's python3 and python3-matplotlib (scripts/install-deps installs both).
"""
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from figlib import fit_labels, legend_outside  # noqa: E402

COMPUTE = ["attention", "dense_mlp", "expert_ffn", "gate", "projections", "lsh", "other"]
# Blues and greens for compute, red for the all-to-all, grey for the rest.
COLORS = dict(zip(COMPUTE, ["#1f77b4", "#aec7e8", "#2ca02c", "#98df8a", "#9467bd", "#8c564b",
                            "#c7c7c7"]))


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: breakdown.py SUMMARY.csv OUT.png")
    with open(argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{argv[1]}: no rows")
    names = [r["schedule"] for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(rows) + 2) + 2.4, 4.5))
    bottom = [0.0] * len(rows)

    def stack(values, label, **style):
        ax.bar(x, values, 0.6, bottom=bottom, label=label, **style)
        for i, v in enumerate(values):
            bottom[i] += v

    for c in COMPUTE:
        values = [float(r.get(f"{c}_ms") or 0) for r in rows]
        if any(values):
            stack(values, f"compute: {c.replace('_', ' ')}", color=COLORS[c])
    # Exposed communication, then idle: these (with compute) add up to the time.
    stack([float(r["a2a_exposed_ms"]) for r in rows], "all-to-all (exposed)", color="#d62728")
    idle = [float(r["time_ms"]) - b for r, b in zip(rows, bottom)]
    stack([max(0.0, v) for v in idle], "TP/DP communication exposed, idle", color="#7f7f7f")
    hidden = [float(r["a2a_ms"]) - float(r["a2a_exposed_ms"]) for r in rows]
    if any(h > 0 for h in hidden):
        ax.bar([i + 0.35 for i in x], hidden, 0.1, color="none", edgecolor="#d62728",
               hatch="////", label="all-to-all hidden behind compute")
    base = float(rows[0]["time_ms"])
    for i, r in enumerate(rows):
        t = float(r["time_ms"])
        ax.annotate(f"{base / t:.2f}x", (i, t), ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, rotation=20, ha="right")
    mode = rows[0].get("mode", "train")
    ax.set_ylabel("iteration time [ms]" if mode == "train" else "batch latency [ms]")
    ax.set_title(f"{rows[0]['experiment']}: time per schedule (critical rank)")
    legend_outside(ax)
    ax.set_ylim(0, max(float(r["time_ms"]) for r in rows) * 1.05)
    fit_labels(fig)  # tight_layout, and room above the bars for the speedups
    out = Path(argv[2])
    fig.savefig(out, dpi=150)
    fig.savefig(out.with_suffix(".pdf"))


if __name__ == "__main__":
    main(sys.argv)
