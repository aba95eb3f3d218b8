#!/usr/bin/python3
"""Measured against predicted, per phase, one panel per schedule, for one `moesim validate` run.

Input: the run's validation.csv (schedule, phase, measured_ms, predicted_ms, error_pct). Output:
one PNG: per schedule, paired bars (measured, predicted) for each phase and the total, with the
error above each pair; a phase the replay did not run shows its prediction alone.

    plots/validation.py out/validate/validation.csv out/validate/validation.png

Runs with Debian's python3 and python3-matplotlib (scripts/install-deps installs both).
"""
import math
import sys

from figlib import fit_labels, legend_outside, plt, read_rows

REQUIRED = {"schedule", "phase", "measured_ms", "predicted_ms", "error_pct"}


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    rows = read_rows(argv[1], REQUIRED, "validation.py", "the validation.csv of `moesim validate`")
    schedules = []
    for r in rows:
        if r["schedule"] not in schedules:
            schedules.append(r["schedule"])
    if not schedules:
        sys.exit(f"validation.py: {argv[1]}: no rows")
    cols = min(2, len(schedules))
    nrows = math.ceil(len(schedules) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.0 * cols + 1.0, 3.4 * nrows), squeeze=False)
    width = 0.4
    for ax, schedule in zip(axes.flat, schedules):
        mine = [r for r in rows if r["schedule"] == schedule]
        x = range(len(mine))
        measured = [float(r["measured_ms"]) if r["measured_ms"] else 0.0 for r in mine]
        predicted = [float(r["predicted_ms"]) for r in mine]
        ax.bar([i - width / 2 for i in x], measured, width, label="measured")
        ax.bar([i + width / 2 for i in x], predicted, width, label="predicted")
        for i, r in enumerate(mine):
            text = f"{float(r['error_pct']):+.0f}%" if r["error_pct"] else "n/r"
            ax.annotate(text, (i, max(measured[i], predicted[i])), ha="center", va="bottom",
                        fontsize=6)
        ax.set_xticks(list(x))
        ax.set_xticklabels([r["phase"] for r in mine], rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("time (ms)", fontsize=8)
        ax.set_title(schedule, fontsize=9)
        ax.tick_params(labelsize=7)
    # One legend, outside the top right panel: the panels share it, and it covers no bar or error.
    legend_outside(axes.flat[cols - 1], list(axes.flat)[:len(schedules)], fontsize=7)
    for ax in list(axes.flat)[len(schedules):]:
        ax.axis("off")
    fig.suptitle("moesim validate: measured vs predicted per phase "
                 "(error = (predicted - measured) / measured; n/r: not replayed)", fontsize=9)
    fit_labels(fig)  # tight_layout, and the errors lifted clear of each other, inside the panels
    fig.savefig(argv[2], dpi=120)


if __name__ == "__main__":
    main(sys.argv)
