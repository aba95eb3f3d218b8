#!/usr/bin/python3
"""BigMac: training time per iteration, four GPT-3 bases x top-4/top-8, CDAC against DCCA.

    plots/bigmac_train_iter.py out/figures/bigmac_train_iter/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
by = {(figlib.point(r), r["schedule"]): r for r in rows}
groups = figlib.ordered(figlib.point(r) for r in rows)
schedules = figlib.ordered(r["schedule"] for r in rows)
fig, ax = plt.subplots(figsize=(10, 3.8))
figlib.grouped_bars(
    ax, groups, schedules, lambda g, s: figlib.num(by[(g, s)], "time_ms") / 1e3,
    "time per iteration [s]",
    lambda g, s: "" if s == schedules[0] else f"{figlib.num(by[(g, s)], 'speedup'):.2f}x")
ax.set_title(f"Training iteration, EP 32, 4x8 A40 ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
