#!/usr/bin/python3
"""LSH-MoE: training speedup of LSH-compressed all-to-all over plain, per compression rate.

    plots/lsh_speedup.py out/figures/lsh_speedup/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
by = {(figlib.point(r), r["schedule"]): r for r in rows}
models = figlib.ordered(figlib.point(r) for r in rows)
schedules = figlib.ordered(r["schedule"] for r in rows)
fig, ax = plt.subplots(figsize=(9, 3.8))
figlib.grouped_bars(ax, models, schedules, lambda g, s: figlib.num(by[(g, s)], "speedup"),
                    "training speedup over plain",
                    lambda g, s: f"{figlib.num(by[(g, s)], 'speedup'):.1f}x")
ax.set_title(f"LSH-compressed all-to-all, 4x8 A100 ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
