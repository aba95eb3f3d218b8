#!/usr/bin/python3
"""GEMM efficiency against problem size, as moesim's cost model prices it for one GPU profile.

Input: the CSV of `moesim profile PROFILE.yaml --sweep FILE.csv` (one or more files).
Output: PNG and PDF. Published measurements (Azure AI-benchmarking-guide cuBLASLt sweeps, MAMF) are
drawn as markers where they exist for the profile's GPU, so the curves can be checked by eye.

    plots/gemm_efficiency.py sweep.csv [more.csv ...] --out figures/gemm_efficiency

Runs with Debian's python3 and python3-matplotlib (scripts/install-deps installs both).
"""
import argparse
import csv
import sys
from pathlib import Path

# Published square-GEMM sweeps (hardware.md section 4.2), as (GFLOP, fraction of peak).
def _square(sizes_and_fractions):
    return [(2 * s**3 / 1e9, f) for s, f in sizes_and_fractions]

PUBLISHED = {
    "A100": ("cuBLASLt FP16, A100 (Azure ND A100 v4)",
             _square([(1024, .38), (2048, .71), (4096, .73), (8192, .81), (16384, .82)])),
    "H200": ("cuBLASLt FP8, H200 (Azure ND H200 v5)",
             _square([(1024, .15), (2048, .51), (4096, .63), (8192, .66), (16384, .69)])),
}


def read(paths):
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = {"profile", "series", "gflop", "fraction_of_peak", "m"} - set(reader.fieldnames or [])
            if missing:
                sys.exit(f"gemm_efficiency.py: {path}: missing columns {sorted(missing)}; "
                         "expected the CSV of `moesim profile --sweep`")
            rows += list(reader)
    if not rows:
        sys.exit("gemm_efficiency.py: no rows in the input")
    return rows


def style(ax, xlabel, title, log_base):
    ax.set_xscale("log", base=log_base)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("achieved fraction of dense peak")
    ax.set_title(title)
    ax.set_ylim(0, 1)
    ax.grid(True, which="both", alpha=0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="+", help="sweep CSV files from `moesim profile --sweep`")
    parser.add_argument("--out", required=True, help="output path without extension")
    args = parser.parse_args()
    rows = read(args.csv)

    try:
        import matplotlib
    except ImportError:
        sys.exit("gemm_efficiency.py: matplotlib is missing; install python3-matplotlib "
                 "(scripts/install-deps) and run this script with /usr/bin/python3")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from figlib import legend_outside

    fig, (square_ax, expert_ax) = plt.subplots(1, 2, figsize=(14, 4.2))
    profiles = sorted({r["profile"] for r in rows})
    for profile in profiles:
        mine = [r for r in rows if r["profile"] == profile]
        square = [r for r in mine if r["series"] == "square"]
        expert = [r for r in mine if r["series"] == "expert"]
        line, = square_ax.plot([float(r["gflop"]) for r in square],
                               [float(r["fraction_of_peak"]) for r in square],
                               marker=".", label=f"{profile} (moesim)")
        expert_ax.plot([int(r["m"]) for r in expert],
                       [float(r["fraction_of_peak"]) for r in expert],
                       marker=".", color=line.get_color())  # in the legend as its square line
        for key, (label, points) in PUBLISHED.items():
            if key in profile:
                square_ax.scatter([p[0] for p in points], [p[1] for p in points],
                                  marker="x", s=50, color=line.get_color(),
                                  label=f"published: {label}")
    style(square_ax, "GEMM size [GFLOP per kernel] (square m = n = k)", "Square GEMMs", 10)
    style(expert_ax, "tokens per expert m (n = k = 4096)", "Expert GEMMs: memory-bound at small m", 2)
    # One legend for both panels (a profile has one colour in each), outside: it covers no curve.
    legend_outside(expert_ax, [square_ax], fontsize=7)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(out.with_suffix(f".{ext}"), dpi=150)
    print(f"wrote {out}.png and {out}.pdf")


if __name__ == "__main__":
    main()
