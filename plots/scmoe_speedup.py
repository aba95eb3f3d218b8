#!/usr/bin/python3
"""ScMoE: training and inference speed of each schedule relative to top-2, per model.

    plots/scmoe_speedup.py out/figures/scmoe_speedup/summary.csv out.png
"""
import figlib
from figlib import plt

rows, out = figlib.args()
modes = figlib.ordered(r["mode"] for r in rows)
fig, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes) + 1.3, 3.8), squeeze=False)
for ax, mode in zip(axes[0], modes):
    sel = [r for r in rows if r["mode"] == mode]
    by = {(r["case"], r["schedule"]): r for r in sel}
    models = figlib.ordered(r["case"] for r in sel)
    schedules = figlib.ordered(r["schedule"] for r in sel)
    figlib.grouped_bars(ax, models, schedules,
                        lambda g, s: figlib.num(by[(g, s)], "speedup"), "speed relative to top-2",
                        legend=False)
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_title(f"{mode}", fontsize=10)
figlib.legend_outside(axes[0][-1], axes[0][:-1])
fig.suptitle(f"ScMoE against standard top-2 MoE ({figlib.moesim_label(rows)})", fontsize=10)
figlib.save(fig, out)
