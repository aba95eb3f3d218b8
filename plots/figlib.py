"""Shared by the figure scripts of plots/: read a moesim summary.csv, save PNG and PDF.

Each figure script takes `summary.csv output.png` and writes output.png and output.pdf.
"""
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401  (re-exported for the scripts)

# One colour per schedule family, the same in every figure.
PALETTE = ["#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def args():
    """(rows, output path) from the command line, or exit with usage."""
    if len(sys.argv) != 3:
        sys.exit(f"usage: {Path(sys.argv[0]).name} summary.csv output.png")
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{sys.argv[1]}: no rows")
    return rows, Path(sys.argv[2])


def read_rows(path, required, script, what):
    """The rows of a CSV that must have the `required` columns, or exit naming what is missing
    and which moesim file (`what`) the script expects."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = set(required) - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"{script}: {path}: missing columns {sorted(missing)}; expected {what}")
        return list(reader)


def num(row, key):
    """A numeric cell (0 when empty)."""
    return float(row[key]) if row.get(key) not in (None, "") else 0.0


def point(row):
    """The sweep point of a row: its label without the schedule."""
    return row["point"].rsplit("/", 1)[0]


def ordered(values):
    """Distinct values in first-seen order."""
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def moesim_label(rows):
    """'moesim, <implementation>' for titles: which framework's kernels the figure assumes."""
    names = ordered(r.get("implementation", "") for r in rows)
    names = [n for n in names if n]
    return "moesim, " + ", ".join(names) if names else "moesim"


def save(fig, out):
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=150)
    fig.savefig(out.with_suffix(".pdf"))
    print(f"wrote {out} and {out.with_suffix('.pdf')}")


def grouped_bars(ax, groups, series, value, ylabel, annotate=None):
    """Bars of value(group, series) side by side per group; annotate(group, series) on top."""
    width = 0.8 / max(1, len(series))
    for j, s in enumerate(series):
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(groups))]
        ys = [value(g, s) for g in groups]
        bars = ax.bar(xs, ys, width, label=s, color=PALETTE[j % len(PALETTE)])
        if annotate:
            for b, g in zip(bars, groups):
                text = annotate(g, s)
                if text:
                    ax.annotate(text, (b.get_x() + b.get_width() / 2, b.get_height()),
                                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
