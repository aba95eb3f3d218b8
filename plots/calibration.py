#!/usr/bin/python3
"""Measured against fitted, per op, for one `moesim calibrate` run.

Input: the run's residuals.csv (every measured case beside the fitted profile's price, and the
collectives beside the network overlay's line). Output: one PNG, a panel per op, measured time
on x, fitted time on y, both log scale, with the line where they agree and a band of +-25%.

    plots/calibration.py out/calibrate/residuals.csv out/calibrate/calibration.png

Runs with Debian's python3 and python3-matplotlib (scripts/install-deps installs both).
"""
import math
import sys

from figlib import plt, read_rows

REQUIRED = {"op", "dtype", "measured_s", "fitted_s", "curves_only_s"}
BAND = 0.25  # the shaded band: fitted within +-25% of measured


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    rows = read_rows(argv[1], REQUIRED, "calibration.py", "the residuals.csv of `moesim calibrate`")
    ops = []
    for r in rows:
        if r["op"] not in ops and r["fitted_s"]:
            ops.append(r["op"])
    if not ops:
        sys.exit(f"calibration.py: {argv[1]}: no case has a fitted time to draw")
    cols = min(4, len(ops))
    nrows = math.ceil(len(ops) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 3.0 * nrows), squeeze=False)
    for ax, op in zip(axes.flat, ops):
        mine = [r for r in rows if r["op"] == op and r["fitted_s"]]
        us = lambda v: float(v) * 1e6  # noqa: E731
        measured = [us(r["measured_s"]) for r in mine]
        fitted = [us(r["fitted_s"]) for r in mine]
        curves = [(us(r["measured_s"]), us(r["curves_only_s"])) for r in mine if r["curves_only_s"]]
        lo, hi = min(measured + fitted), max(measured + fitted)
        lo, hi = lo / 1.5, hi * 1.5
        ax.fill_between([lo, hi], [lo * (1 - BAND), hi * (1 - BAND)],
                        [lo * (1 + BAND), hi * (1 + BAND)], color="0.9", label="±25%")
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8)
        basis = "network line" if op in ("all_to_all", "all_reduce", "all_gather",
                                         "reduce_scatter", "send_recv") else "with tables"
        ax.scatter(measured, fitted, s=10, label=basis)
        if curves:
            ax.scatter([c[0] for c in curves], [c[1] for c in curves], s=10, marker="x",
                       label="curves only")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_title(op, fontsize=9)
        ax.set_xlabel("measured (µs)", fontsize=8)
        ax.set_ylabel("fitted (µs)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="best")  # the corner freest of points and lines
    for ax in list(axes.flat)[len(ops):]:
        ax.axis("off")
    fig.suptitle("moesim calibrate: measured vs fitted, per op", fontsize=10)
    fig.tight_layout()
    fig.savefig(argv[2], dpi=120)


if __name__ == "__main__":
    main(sys.argv)
